/* tests/parity/residual.c: the residual twins, trainer/residual.c against
 * trainer/cuda/residual.cu, on seeded inputs in [-3, 3] at n = 1, 31, 33, 1000, 4097 and the
 * residual stream of GPT-2 124M at B = 8, T = 1024 (B·T·C floats); forward out of place and in
 * place, backward accumulating into random gradients. Harness: tests/parity/parity.h. Run by
 * `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/residual.h"

/* One IEEE float add per element on both sides: the results must be identical. */
static const parity_tol TOL_EXACT = {0.0, 0.0, 0.0};

#define REALISTIC ((size_t)8 * 1024 * 768)

static void run(parity *p, size_t n)
{
    float *a = parity_host(p, n), *b = parity_host(p, n), *out = parity_host(p, n);
    float *da = parity_host(p, n), *db = parity_host(p, n);
    float *d_a, *d_b, *d_out, *d_da, *d_db;

    parity_uniform(p, a, n, -3.0f, 3.0f);
    parity_uniform(p, b, n, -3.0f, 3.0f);
    parity_uniform(p, da, n, -3.0f, 3.0f);
    parity_uniform(p, db, n, -3.0f, 3.0f);
    d_a = parity_up(p, a, n);
    d_b = parity_up(p, b, n);
    d_da = parity_up(p, da, n);
    d_db = parity_up(p, db, n);
    d_out = parity_poisoned(p, n);

    p->cpu->residual_forward(out, a, b, n);
    p->gpu->residual_forward(d_out, d_a, d_b, n);
    parity_sync(p, "residual_forward");
    parity_check(p, "residual_forward", out, d_out, n, TOL_EXACT);

    /* dout = b: dinp1 += b, dinp2 += b */
    p->cpu->residual_backward(da, db, b, n);
    p->gpu->residual_backward(d_da, d_db, d_b, n);
    parity_sync(p, "residual_backward");
    parity_check(p, "residual_backward dinp1", da, d_da, n, TOL_EXACT);
    parity_check(p, "residual_backward dinp2", db, d_db, n, TOL_EXACT);

    p->gpu->residual_forward(d_a, d_a, d_b, n); /* in place, out = inp1 */
    parity_sync(p, "residual_forward in place");
    parity_check(p, "residual_forward in place", out, d_a, n, TOL_EXACT);

    parity_free(d_a), parity_free(d_b), parity_free(d_out), parity_free(d_da), parity_free(d_db);
    free(a), free(b), free(out), free(da), free(db);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "residual");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++)
        run(&p, parity_sizes[i]);
    run(&p, REALISTIC);
    return parity_end(&p);
}
