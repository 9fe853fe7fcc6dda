/* tests/unit/test_layernorm.c: LayerNorm (trainer/layernorm.c) against a float64 reference and
 * central finite differences (tests/unit/fdcheck.h). Run by `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/layernorm.h"

enum { BT = 10, C = 12 }; /* B = 2, T = 5 */

/* Forward outputs are single roundings of O(1) values computed from short double sums. */
#define FWD_RTOL 1e-5
#define FWD_ATOL 1e-6

typedef struct ln_ctx {
    double *x;      /* (BT, C) */
    double *w;      /* (C) */
    double *b;      /* (C) */
    const float *g; /* (BT, C), the weights of the objective */
    double *out;    /* (BT, C) reference output */
    double *mean;   /* (BT) */
    double *rstd;   /* (BT) */
} ln_ctx;

static void ln_reference(ln_ctx *e)
{
    for (size_t r = 0; r < BT; r++) {
        const double *x = e->x + r * C;
        double m = 0.0;
        double var = 0.0;

        for (size_t c = 0; c < C; c++)
            m += x[c] / C;
        for (size_t c = 0; c < C; c++)
            var += (x[c] - m) * (x[c] - m) / C;
        e->mean[r] = m;
        e->rstd[r] = 1.0 / sqrt(var + CS_LAYERNORM_EPS);
        for (size_t c = 0; c < C; c++)
            e->out[r * C + c] = (x[c] - m) * e->rstd[r] * e->w[c] + e->b[c];
    }
}

static double ln_objective(void *p)
{
    ln_ctx *e = p;

    ln_reference(e);
    return fd_dot(e->g, e->out, BT * C);
}

typedef struct ln_case {
    float *x, *w, *b, *g;     /* inputs and objective weights */
    float *out, *mean, *rstd; /* the op's forward outputs */
    ln_ctx e;                 /* float64 reference */
} ln_case;

static void ln_setup(ln_case *k, uint64_t seed)
{
    cs_rng r;

    cs_rng_seed(&r, seed, 0);
    k->x = fd_rand(&r, BT * C, -3, 3);
    k->w = fd_rand(&r, C, 0.5f, 1.5f);
    k->b = fd_rand(&r, C, -1, 1);
    k->g = fd_rand(&r, BT * C, -1, 1);
    k->out = fd_zeros(BT * C);
    k->mean = fd_zeros(BT);
    k->rstd = fd_zeros(BT);
    k->e.x = fd_widen(k->x, BT * C);
    k->e.w = fd_widen(k->w, C);
    k->e.b = fd_widen(k->b, C);
    k->e.g = k->g;
    k->e.out = fd_dzeros(BT * C);
    k->e.mean = fd_dzeros(BT);
    k->e.rstd = fd_dzeros(BT);
    cs_layernorm_forward_cpu(k->out, k->mean, k->rstd, k->x, k->w, k->b, BT, C);
}

static void ln_teardown(ln_case *k)
{
    float *f[] = {k->x, k->w, k->b, k->g, k->out, k->mean, k->rstd};
    double *d[] = {k->e.x, k->e.w, k->e.b, k->e.out, k->e.mean, k->e.rstd};

    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        free(f[i]);
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        free(d[i]);
}

static void test_forward_matches_reference(void **state)
{
    ln_case k;

    (void)state;
    ln_setup(&k, 11);
    ln_reference(&k.e);
    fd_assert_close(k.out, k.e.out, BT * C, FWD_RTOL, FWD_ATOL, "out");
    fd_assert_close(k.mean, k.e.mean, BT, FWD_RTOL, FWD_ATOL, "mean");
    fd_assert_close(k.rstd, k.e.rstd, BT, FWD_RTOL, FWD_ATOL, "rstd");
    ln_teardown(&k);
}

static void test_backward_matches_differences(void **state)
{
    ln_case k;
    cs_rng r;
    float *before[3];
    float *grad[3];
    float *added;
    const size_t n[3] = {BT * C, C, C};

    (void)state;
    ln_setup(&k, 12);
    cs_rng_seed(&r, 13, 0);
    for (int i = 0; i < 3; i++) { /* nonzero starting values: the gradients accumulate */
        before[i] = fd_rand(&r, n[i], -1, 1);
        grad[i] = fd_copy(before[i], n[i]);
    }
    cs_layernorm_backward_cpu(grad[0], grad[1], grad[2], k.g, k.x, k.w, k.mean, k.rstd, BT, C);
    added = fd_added(grad[0], before[0], n[0]);
    fd_check_grad(added, k.e.x, n[0], ln_objective, &k.e, 1, "dinp");
    free(added);
    added = fd_added(grad[1], before[1], n[1]);
    fd_check_grad(added, k.e.w, n[1], ln_objective, &k.e, 1, "dweight");
    free(added);
    added = fd_added(grad[2], before[2], n[2]);
    fd_check_grad(added, k.e.b, n[2], ln_objective, &k.e, 1, "dbias");
    free(added);
    for (int i = 0; i < 3; i++) {
        free(before[i]);
        free(grad[i]);
    }
    ln_teardown(&k);
}

/* A NULL gradient is skipped, and the others do not change. */
static void test_backward_null_skips(void **state)
{
    ln_case k;
    float *dx_all = fd_zeros(BT * C);
    float *dx_only = fd_zeros(BT * C);
    float *dw = fd_zeros(C);
    float *db = fd_zeros(C);

    (void)state;
    ln_setup(&k, 14);
    cs_layernorm_backward_cpu(dx_all, dw, db, k.g, k.x, k.w, k.mean, k.rstd, BT, C);
    cs_layernorm_backward_cpu(dx_only, NULL, NULL, k.g, k.x, k.w, k.mean, k.rstd, BT, C);
    assert_memory_equal(dx_all, dx_only, BT * C * sizeof(float));
    free(dx_all);
    free(dx_only);
    free(dw);
    free(db);
    ln_teardown(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_backward_matches_differences),
        cmocka_unit_test(test_backward_null_skips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
