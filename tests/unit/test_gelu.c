/* tests/unit/test_gelu.c: GELU, tanh approximation (trainer/gelu.c), against a float64
 * reference and central finite differences (tests/unit/fdcheck.h). Run by `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/gelu.h"

enum { N = 2 * 5 * 12 * 4 }; /* B = 2, T = 5, hidden 4C with C = 12 */

/* Elementwise float32 with tanhf: a few ulps of O(1) values. */
#define FWD_RTOL 1e-6
#define FWD_ATOL 1e-6

typedef struct gelu_ctx {
    double *x;      /* (n) */
    const float *g; /* (n), the weights of the objective */
    size_t n;
} gelu_ctx;

static double gelu64(double x)
{
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

static double gelu_objective(void *p)
{
    gelu_ctx *e = p;
    double s = 0.0;

    for (size_t i = 0; i < e->n; i++)
        s += e->g[i] * gelu64(e->x[i]);
    return s;
}

static void test_forward_matches_reference(void **state)
{
    cs_rng r;
    float *x;
    float *out = fd_zeros(N);
    double *want = fd_dzeros(N);

    (void)state;
    cs_rng_seed(&r, 51, 0);
    x = fd_rand(&r, N, -6, 6);
    x[0] = 0.0f;
    cs_gelu_forward_cpu(out, x, N);
    for (size_t i = 0; i < N; i++)
        want[i] = gelu64(x[i]);
    fd_assert_close(out, want, N, FWD_RTOL, FWD_ATOL, "out");
    assert_true(out[0] == 0.0f);
    /* in place gives the same bits */
    cs_gelu_forward_cpu(x, x, N);
    assert_memory_equal(x, out, N * sizeof(float));
    free(x);
    free(out);
    free(want);
}

/* Known values: gelu(x) → x for large x, → 0 for very negative x; gelu(1) = 0.8411919906. */
static void test_known_values(void **state)
{
    const float x[4] = {1.0f, 10.0f, -10.0f, -1.0f};
    float out[4];

    (void)state;
    cs_gelu_forward_cpu(out, x, 4);
    assert_true(fd_close(out[0], 0.8411919906082768, 1e-6, 0));
    assert_true(fd_close(out[1], 10.0, 1e-7, 0));
    assert_true(fabsf(out[2]) < 1e-6f);
    assert_true(fd_close(out[3], -0.15880800939172324, 1e-6, 0));
}

static void test_backward_matches_differences(void **state)
{
    cs_rng r;
    float *x;
    float *g;
    float *before;
    float *dx;
    float *added;
    gelu_ctx e;

    (void)state;
    cs_rng_seed(&r, 52, 0);
    x = fd_rand(&r, N, -6, 6);
    g = fd_rand(&r, N, -1, 1);
    before = fd_rand(&r, N, -1, 1); /* the gradient accumulates onto this */
    dx = fd_copy(before, N);
    cs_gelu_backward_cpu(dx, x, g, N);
    added = fd_added(dx, before, N);
    e = (gelu_ctx){fd_widen(x, N), g, N};
    fd_check_grad(added, e.x, N, gelu_objective, &e, 1, "dinp");
    free(x);
    free(g);
    free(before);
    free(dx);
    free(added);
    free(e.x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_backward_matches_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
