/* tests/parity/layernorm.c: the LayerNorm twins, trainer/layernorm.c against
 * trainer/cuda/layernorm.cu, on seeded inputs, gains and biases in [-3, 3]: channels C at 1, 31,
 * 33, 1000, 4097 (7 rows), rows B·T at the same sizes (C = 33), and GPT-2 124M's shape
 * (B·T = 8192, C = 768). Forward (out, mean, rstd) and backward (dinp, dweight, dbias, each
 * accumulating into random values; then with dweight and dbias NULL). Harness:
 * tests/parity/parity.h. Run by `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/layernorm.h"

/* mean and rstd: double sums on both sides, in different orders, rounded to float: at most one
 * float ulp apart (1e-6 relative; 1e-7 absolute for means near 0). */
static const parity_tol TOL_STATS = {1e-7, 1e-6, 0.0};
/* out and dinp: the same float operations in the same order on both sides (the CUDA twin forbids
 * fused multiply-adds here), so they differ only through a one-ulp difference of mean, rstd or
 * the two row means of the backward pass, times values up to about 10: 1e-5. */
static const parity_tol TOL_ROWS = {1e-5, 1e-5, 0.0};
/* dweight, dbias: sums over rows in double in different orders, rounded to float, then added to
 * the initial value: within an ulp of results up to about 3·sqrt(B·T)·2 (≈ 500 at 8192 rows). */
static const parity_tol TOL_PARAMS = {1e-5, 1e-6, 0.0};

static void run(parity *p, size_t BT, size_t C)
{
    float *x = parity_host(p, BT * C), *w = parity_host(p, C), *b = parity_host(p, C);
    float *out = parity_host(p, BT * C), *mean = parity_host(p, BT), *rstd = parity_host(p, BT);
    float *dout = parity_host(p, BT * C), *dx = parity_host(p, BT * C);
    float *dw = parity_host(p, C), *db = parity_host(p, C);
    float *d_x, *d_w, *d_b, *d_out, *d_mean, *d_rstd, *d_dout, *d_dx, *d_dw, *d_db;

    parity_uniform(p, x, BT * C, -3.0f, 3.0f);
    parity_uniform(p, w, C, -3.0f, 3.0f);
    parity_uniform(p, b, C, -3.0f, 3.0f);
    parity_uniform(p, dout, BT * C, -3.0f, 3.0f);
    parity_uniform(p, dx, BT * C, -1.0f, 1.0f);
    parity_uniform(p, dw, C, -1.0f, 1.0f);
    parity_uniform(p, db, C, -1.0f, 1.0f);
    d_x = parity_up(p, x, BT * C), d_w = parity_up(p, w, C), d_b = parity_up(p, b, C);
    d_dout = parity_up(p, dout, BT * C), d_dx = parity_up(p, dx, BT * C);
    d_dw = parity_up(p, dw, C), d_db = parity_up(p, db, C);
    d_out = parity_poisoned(p, BT * C);
    d_mean = parity_poisoned(p, BT), d_rstd = parity_poisoned(p, BT);
    printf("  BT = %zu, C = %zu\n", BT, C);

    p->cpu->layernorm_forward(out, mean, rstd, x, w, b, BT, C);
    p->gpu->layernorm_forward(d_out, d_mean, d_rstd, d_x, d_w, d_b, BT, C);
    parity_sync(p, "layernorm_forward");
    parity_check(p, "layernorm_forward out", out, d_out, BT * C, TOL_ROWS);
    parity_check(p, "layernorm_forward mean", mean, d_mean, BT, TOL_STATS);
    parity_check(p, "layernorm_forward rstd", rstd, d_rstd, BT, TOL_STATS);

    /* both twins use the CPU's statistics, so the backward check sees only its own error */
    if (cs_cuda_upload(d_mean, mean, BT * sizeof *mean) ||
        cs_cuda_upload(d_rstd, rstd, BT * sizeof *rstd))
        parity_die(p, "cs_cuda_upload");
    p->cpu->layernorm_backward(dx, dw, db, dout, x, w, mean, rstd, BT, C);
    p->gpu->layernorm_backward(d_dx, d_dw, d_db, d_dout, d_x, d_w, d_mean, d_rstd, BT, C);
    parity_sync(p, "layernorm_backward");
    parity_check(p, "layernorm_backward dinp", dx, d_dx, BT * C, TOL_ROWS);
    parity_check(p, "layernorm_backward dweight", dw, d_dw, C, TOL_PARAMS);
    parity_check(p, "layernorm_backward dbias", db, d_db, C, TOL_PARAMS);

    p->cpu->layernorm_backward(dx, NULL, NULL, dout, x, w, mean, rstd, BT, C);
    p->gpu->layernorm_backward(d_dx, NULL, NULL, d_dout, d_x, d_w, d_mean, d_rstd, BT, C);
    parity_sync(p, "layernorm_backward, no parameter gradients");
    parity_check(p, "layernorm_backward dinp again", dx, d_dx, BT * C, TOL_ROWS);

    parity_free(d_x), parity_free(d_w), parity_free(d_b), parity_free(d_out);
    parity_free(d_mean), parity_free(d_rstd), parity_free(d_dout), parity_free(d_dx);
    parity_free(d_dw), parity_free(d_db);
    free(x), free(w), free(b), free(out), free(mean), free(rstd), free(dout), free(dx);
    free(dw), free(db);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "layernorm");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++) {
        run(&p, 7, parity_sizes[i]);
        run(&p, parity_sizes[i], 33);
    }
    run(&p, 8192, 768);
    return parity_end(&p);
}
