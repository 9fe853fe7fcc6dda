/* tests/unit/test_residual.c: the residual connection (trainer/residual.c) against exact sums
 * and central finite differences (tests/unit/fdcheck.h). Run by `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/residual.h"

enum { N = 2 * 5 * 12 }; /* B = 2, T = 5, C = 12 */

typedef struct res_ctx {
    double *a, *b;  /* (N) each */
    const float *g; /* (N), the weights of the objective */
} res_ctx;

static double res_objective(void *p)
{
    res_ctx *e = p;
    double s = 0.0;

    for (size_t i = 0; i < N; i++)
        s += e->g[i] * (e->a[i] + e->b[i]);
    return s;
}

static void test_forward_adds(void **state)
{
    cs_rng r;
    float *a;
    float *b;
    float *out = fd_zeros(N);

    (void)state;
    cs_rng_seed(&r, 61, 0);
    a = fd_rand(&r, N, -3, 3);
    b = fd_rand(&r, N, -3, 3);
    cs_residual_forward_cpu(out, a, b, N);
    for (size_t i = 0; i < N; i++)
        assert_true(out[i] == a[i] + b[i]); /* one float addition: exact match */
    cs_residual_forward_cpu(a, a, b, N);    /* in place */
    assert_memory_equal(a, out, N * sizeof(float));
    free(a);
    free(b);
    free(out);
}

static void test_backward_matches_differences(void **state)
{
    cs_rng r;
    float *g;
    float *before1;
    float *before2;
    float *d1;
    float *d2;
    float *added;
    res_ctx e;

    (void)state;
    cs_rng_seed(&r, 62, 0);
    g = fd_rand(&r, N, -1, 1);
    before1 = fd_rand(&r, N, -1, 1); /* the gradients accumulate onto these */
    before2 = fd_rand(&r, N, -1, 1);
    d1 = fd_copy(before1, N);
    d2 = fd_copy(before2, N);
    cs_residual_backward_cpu(d1, d2, g, N);
    e = (res_ctx){fd_widen(before1, N), fd_widen(before2, N), g};
    added = fd_added(d1, before1, N);
    fd_check_grad(added, e.a, N, res_objective, &e, 1, "dinp1");
    free(added);
    added = fd_added(d2, before2, N);
    fd_check_grad(added, e.b, N, res_objective, &e, 1, "dinp2");
    free(added);
    free(g);
    free(before1);
    free(before2);
    free(d1);
    free(d2);
    free(e.a);
    free(e.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_adds),
        cmocka_unit_test(test_backward_matches_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
