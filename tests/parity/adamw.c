/* tests/parity/adamw.c: the AdamW twins, trainer/adamw.c against trainer/cuda/adamw.cu: n at
 * 1, 31, 33, 1000, 4097 and GPT-2 124M's parameter count (124,475,904 floats: the gradient norm
 * over a whole model), three steps with weight decay and gradient scaling (steps 1, 2 and 1000:
 * bias corrections far from and near 1), and the gradient norm, also of an empty array.
 * Harness: tests/parity/parity.h. Run by `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/adamw.h"

/* m and v: one multiply-add each, which the GPU may fuse (one rounding instead of two): a few
 * ulps. params: p − lr·(update), the update of order lr = 1e-3 with a few-ulp relative
 * difference, added to |p| ≤ 3 (ulp 2.4e-7): 1e-6 absolute and relative covers both. */
static const parity_tol TOL_STEP = {1e-6, 1e-6, 0.0};
/* The norm: a sum of squares in double in two fixed orders, rounded to float: one ulp. */
static const parity_tol TOL_NORM = {0.0, 2e-7, 0.0};

#define REALISTIC ((size_t)124475904)

static void run(parity *p, size_t n)
{
    static const int steps[3] = {1, 2, 1000};
    float *w = parity_host(p, n), *m = parity_host(p, n), *v = parity_host(p, n);
    float *g = parity_host(p, n), norm = 0.0f;
    float *d_w, *d_m, *d_v, *d_g, *d_norm;

    parity_uniform(p, w, n, -3.0f, 3.0f);
    parity_uniform(p, g, n, -3.0f, 3.0f);
    d_w = parity_up(p, w, n), d_g = parity_up(p, g, n);
    d_m = parity_up(p, m, n), d_v = parity_up(p, v, n); /* zero moments, as before step 1 */
    d_norm = parity_poisoned(p, 1);
    printf("  n = %zu\n", n);

    p->cpu->adamw_norm(&norm, g, n);
    p->gpu->adamw_norm(d_norm, d_g, n);
    parity_sync(p, "adamw_norm");
    parity_check(p, "adamw_norm", &norm, d_norm, 1, TOL_NORM);

    for (int k = 0; k < 3; k++) {
        float scale = k == 1 ? 0.25f : 1.0f;

        p->cpu->adamw_update(w, m, v, g, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, scale, steps[k]);
        p->gpu->adamw_update(d_w, d_m, d_v, d_g, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, scale,
                             steps[k]);
        parity_sync(p, "adamw_update");
        parity_check(p, "adamw_update params", w, d_w, n, TOL_STEP);
        parity_check(p, "adamw_update m", m, d_m, n, TOL_STEP);
        parity_check(p, "adamw_update v", v, d_v, n, TOL_STEP);
    }
    parity_free(d_w), parity_free(d_m), parity_free(d_v), parity_free(d_g), parity_free(d_norm);
    free(w), free(m), free(v), free(g);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "adamw");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++)
        run(&p, parity_sizes[i]);
    run(&p, REALISTIC);
    {
        float zero = 0.0f, *d_norm = parity_poisoned(&p, 1);

        p.gpu->adamw_norm(d_norm, d_norm, 0); /* n = 0: norm 0, grads never read */
        parity_sync(&p, "adamw_norm, n = 0");
        parity_check(&p, "adamw_norm n = 0", &zero, d_norm, 1, TOL_NORM);
        parity_free(d_norm);
    }
    return parity_end(&p);
}
