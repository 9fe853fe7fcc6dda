/* tests/unit/test_matmul.c: the linear layer (trainer/matmul.c) against a float64 reference and
 * central finite differences (tests/unit/fdcheck.h). Run by `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/matmul.h"

enum { BT = 10, C = 12, OC = 7 }; /* B = 2, T = 5 */

/* Forward outputs are float32 dot products of c terms |x·w| < 3 (mean 0.75), whose sum can
 * cancel: the rounding error is about ε₃₂·√c·Σ|terms| ≈ 6e-8·√c·0.75c, so the absolute
 * tolerance grows with c: FWD_ATOL_PER_TERM·c (2.4e-5 at c = 12, 5e-4 at c = 257, about 3x the
 * expected error there). */
#define FWD_RTOL          1e-5
#define FWD_ATOL_PER_TERM 2e-6

typedef struct mm_ctx {
    double *x;      /* (bt, c) */
    double *w;      /* (oc, c) */
    double *b;      /* (oc) or NULL */
    const float *g; /* (bt, oc), the weights of the objective */
    double *out;    /* (bt, oc) reference output */
    size_t bt, c, oc;
} mm_ctx;

static void mm_reference(mm_ctx *e)
{
    for (size_t r = 0; r < e->bt; r++)
        for (size_t o = 0; o < e->oc; o++) {
            double s = e->b ? e->b[o] : 0.0;

            for (size_t i = 0; i < e->c; i++)
                s += e->x[r * e->c + i] * e->w[o * e->c + i];
            e->out[r * e->oc + o] = s;
        }
}

static double mm_objective(void *p)
{
    mm_ctx *e = p;

    mm_reference(e);
    return fd_dot(e->g, e->out, e->bt * e->oc);
}

typedef struct mm_case {
    float *x, *w, *b, *g; /* inputs and objective weights */
    mm_ctx e;             /* float64 reference */
} mm_case;

static void mm_setup(mm_case *k, uint64_t seed, size_t bt, size_t c, size_t oc, int with_bias)
{
    cs_rng r;

    cs_rng_seed(&r, seed, 0);
    k->x = fd_rand(&r, bt * c, -3, 3);
    k->w = fd_rand(&r, oc * c, -1, 1);
    k->b = with_bias ? fd_rand(&r, oc, -1, 1) : NULL;
    k->g = fd_rand(&r, bt * oc, -1, 1);
    k->e = (mm_ctx){.x = fd_widen(k->x, bt * c),
                    .w = fd_widen(k->w, oc * c),
                    .b = with_bias ? fd_widen(k->b, oc) : NULL,
                    .g = k->g,
                    .out = fd_dzeros(bt * oc),
                    .bt = bt,
                    .c = c,
                    .oc = oc};
}

static void mm_teardown(mm_case *k)
{
    free(k->x);
    free(k->w);
    free(k->b);
    free(k->g);
    free(k->e.x);
    free(k->e.w);
    free(k->e.b);
    free(k->e.out);
}

static void check_forward(size_t bt, size_t c, size_t oc, int with_bias)
{
    mm_case k;
    cs_rng r;
    float *out;

    cs_rng_seed(&r, 20, 0);
    out = fd_rand(&r, bt * oc, -9, 9); /* garbage: the op must overwrite all of it */
    mm_setup(&k, 21 + bt, bt, c, oc, with_bias);
    cs_matmul_forward_cpu(out, k.x, k.w, k.b, bt, c, oc);
    mm_reference(&k.e);
    fd_assert_close(out, k.e.out, bt * oc, FWD_RTOL, FWD_ATOL_PER_TERM * (double)c,
                    with_bias ? "out" : "out (no bias)");
    free(out);
    mm_teardown(&k);
}

static void test_forward_matches_reference(void **state)
{
    (void)state;
    check_forward(BT, C, OC, 1);
    check_forward(BT, C, OC, 0);
    check_forward(300, 257, 301, 1); /* large enough for the threaded paths */
}

static void check_backward(size_t bt, size_t c, size_t oc, int with_bias, size_t every)
{
    mm_case k;
    cs_rng r;
    const size_t n[3] = {bt * c, oc * c, oc};
    double *x64[3];
    float *before[3];
    float *grad[3];
    const char *names[3] = {"dinp", "dweight", "dbias"};

    mm_setup(&k, 31 + bt, bt, c, oc, with_bias);
    x64[0] = k.e.x;
    x64[1] = k.e.w;
    x64[2] = k.e.b;
    cs_rng_seed(&r, 32, 0);
    for (int i = 0; i < 3; i++) { /* nonzero starting values: the gradients accumulate */
        before[i] = fd_rand(&r, n[i], -1, 1);
        grad[i] = fd_copy(before[i], n[i]);
    }
    cs_matmul_backward_cpu(grad[0], grad[1], with_bias ? grad[2] : NULL, k.g, k.x, k.w, bt, c, oc);
    for (int i = 0; i < (with_bias ? 3 : 2); i++) {
        float *added = fd_added(grad[i], before[i], n[i]);

        fd_check_grad(added, x64[i], n[i], mm_objective, &k.e, every, names[i]);
        free(added);
    }
    if (!with_bias)
        assert_memory_equal(grad[2], before[2], n[2] * sizeof(float));
    for (int i = 0; i < 3; i++) {
        free(before[i]);
        free(grad[i]);
    }
    mm_teardown(&k);
}

static void test_backward_matches_differences(void **state)
{
    (void)state;
    check_backward(BT, C, OC, 1, 1);
    check_backward(BT, C, OC, 0, 1);
    check_backward(70, 33, 1000, 1, 97); /* threaded dbias; every 97th entry */
}

/* dinp = NULL skips the input gradient and leaves the weight gradients as they were. */
static void test_backward_null_dinp(void **state)
{
    mm_case k;
    float *dw1 = fd_zeros(OC * C);
    float *dw2 = fd_zeros(OC * C);
    float *dx = fd_zeros(BT * C);

    (void)state;
    mm_setup(&k, 41, BT, C, OC, 1);
    cs_matmul_backward_cpu(dx, dw1, NULL, k.g, k.x, k.w, BT, C, OC);
    cs_matmul_backward_cpu(NULL, dw2, NULL, k.g, k.x, k.w, BT, C, OC);
    assert_memory_equal(dw1, dw2, OC * C * sizeof(float));
    free(dw1);
    free(dw2);
    free(dx);
    mm_teardown(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_backward_matches_differences),
        cmocka_unit_test(test_backward_null_dinp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
