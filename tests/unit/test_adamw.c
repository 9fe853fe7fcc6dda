/* tests/unit/test_adamw.c: the AdamW step, global gradient norm and clipping factor
 * (trainer/adamw.c) against hand-computed values and a float64 reference. Run by `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/adamw.h"

/* float32 update of O(1) values: a few ulps per step. */
#define STEP_RTOL 1e-5
#define STEP_ATOL 1e-6

/* One step by hand: lr 0.1, β = (0.9, 0.999), ε = 1e-8, λ = 0.01, t = 1. After bias correction
 * m̂ = g and v̂ = g², so the Adam direction is g / (|g| + ε) = sign(g) (0 for g = 0), and
 * p ← p − 0.1 (sign(g) + 0.01 p). */
static void test_one_step_by_hand(void **state)
{
    float p[3] = {1.0f, -2.0f, 0.5f};
    float m[3] = {0};
    float v[3] = {0};
    const float g[3] = {0.1f, -0.2f, 0.0f};

    (void)state;
    cs_adamw_update_cpu(p, m, v, g, 3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f, 1);
    assert_true(fd_close(p[0], 1.0 - 0.1 * (1.0 + 0.01 * 1.0), 1e-6, 0));   /* 0.899 */
    assert_true(fd_close(p[1], -2.0 - 0.1 * (-1.0 - 0.01 * 2.0), 1e-6, 0)); /* -1.898 */
    assert_true(fd_close(p[2], 0.5 - 0.1 * (0.01 * 0.5), 1e-6, 0));         /* 0.4995 */
    assert_true(fd_close(m[0], 0.01, 1e-6, 0));                             /* (1 − β1) g */
    assert_true(fd_close(m[1], -0.02, 1e-6, 0));
    /* (1 − β2) g², where 1 − 0.999f is 1.3e-5 (relative) away from 0.001 */
    assert_true(fd_close(v[1], 4e-5, 2e-5, 0));
    assert_true(m[2] == 0.0f && v[2] == 0.0f);
}

/* Five steps on random gradients against a float64 reference of the same formulas. */
static void test_steps_match_reference(void **state)
{
    enum { N = 37, STEPS = 5 };
    const double lr = 3e-3, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
    cs_rng r;
    float *p;
    float *m = fd_zeros(N);
    float *v = fd_zeros(N);
    double *p64;
    double m64[N] = {0};
    double v64[N] = {0};

    (void)state;
    cs_rng_seed(&r, 131, 0);
    p = fd_rand(&r, N, -1, 1);
    p64 = fd_widen(p, N);
    for (int t = 1; t <= STEPS; t++) {
        float g[N];

        cs_rng_fill_uniform(&r, g, N, -2, 2);
        cs_adamw_update_cpu(p, m, v, g, N, (float)lr, (float)b1, (float)b2, (float)eps, (float)wd,
                            1.0f, t);
        for (size_t i = 0; i < N; i++) {
            m64[i] = b1 * m64[i] + (1 - b1) * g[i];
            v64[i] = b2 * v64[i] + (1 - b2) * (double)g[i] * g[i];
            p64[i] -= lr * (m64[i] / (1 - pow(b1, t)) / (sqrt(v64[i] / (1 - pow(b2, t))) + eps) +
                            wd * p64[i]);
        }
    }
    fd_assert_close(p, p64, N, STEP_RTOL, STEP_ATOL, "params");
    fd_assert_close(m, m64, N, STEP_RTOL, STEP_ATOL, "m");
    fd_assert_close(v, v64, N, STEP_RTOL, STEP_ATOL, "v");
    free(p);
    free(m);
    free(v);
    free(p64);
}

/* Weight decay acts on the parameters only: the moments are the same bits with and without it,
 * and with a zero gradient the step is exactly the decay p ← p − lr λ p (Adam with an L2 term
 * in the gradient would instead move p by about lr, the normalised direction of λ p). */
static void test_decay_is_decoupled(void **state)
{
    float p1[4] = {1.0f, -3.0f, 0.25f, 2.0f};
    float p2[4] = {1.0f, -3.0f, 0.25f, 2.0f};
    float m1[4] = {0}, v1[4] = {0}, m2[4] = {0}, v2[4] = {0};
    const float g[4] = {0.5f, 0.0f, -1.0f, 0.0f};

    (void)state;
    cs_adamw_update_cpu(p1, m1, v1, g, 4, 0.01f, 0.9f, 0.999f, 1e-8f, 0.0f, 1.0f, 1);
    cs_adamw_update_cpu(p2, m2, v2, g, 4, 0.01f, 0.9f, 0.999f, 1e-8f, 0.5f, 1.0f, 1);
    assert_memory_equal(m1, m2, sizeof m1);
    assert_memory_equal(v1, v2, sizeof v1);
    assert_true(p1[1] == -3.0f);                                    /* g = 0, no decay: unchanged */
    assert_true(fd_close(p2[1], -3.0 * (1 - 0.01 * 0.5), 1e-6, 0)); /* g = 0: decay alone */
    assert_true(fd_close(p2[3], 2.0 * (1 - 0.01 * 0.5), 1e-6, 0));
    assert_true(fd_close(p2[0] - p1[0], -0.01 * 0.5 * 1.0, 1e-4, 0)); /* decay adds −lr λ p */
}

/* Scaling by grad_scale inside the step is the same as stepping on scaled gradients. */
static void test_grad_scale(void **state)
{
    enum { N = 20 };
    cs_rng r;
    float g[N], gs[N], p1[N], p2[N], m1[N] = {0}, v1[N] = {0}, m2[N] = {0}, v2[N] = {0};
    const float s = 0.37f;

    (void)state;
    cs_rng_seed(&r, 141, 0);
    cs_rng_fill_uniform(&r, g, N, -3, 3);
    cs_rng_fill_uniform(&r, p1, N, -1, 1);
    memcpy(p2, p1, sizeof p1);
    for (size_t i = 0; i < N; i++)
        gs[i] = g[i] * s;
    cs_adamw_update_cpu(p1, m1, v1, g, N, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, s, 3);
    cs_adamw_update_cpu(p2, m2, v2, gs, N, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, 1.0f, 3);
    assert_memory_equal(p1, p2, sizeof p1);
    assert_memory_equal(m1, m2, sizeof m1);
    assert_memory_equal(v1, v2, sizeof v1);
}

static double norm64(const float *g, size_t n)
{
    double s = 0.0;

    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return sqrt(s);
}

/* The global norm matches float64, also on the threaded path and for n below the slice
 * count; clipping scales it to the maximum. */
static void test_norm_and_clip(void **state)
{
    const size_t sizes[4] = {1, 5, 63, 100003};
    cs_rng r;

    (void)state;
    cs_rng_seed(&r, 151, 0);
    for (size_t k = 0; k < 4; k++) {
        float *g = fd_rand(&r, sizes[k], -2, 2);
        float norm = -1.0f;
        float s;

        cs_adamw_norm_cpu(&norm, g, sizes[k]);
        assert_true(fd_close(norm, norm64(g, sizes[k]), 1e-6, 0));
        s = cs_adamw_clip_scale(norm, 0.5f);
        assert_true(s < 1.0f || norm <= 0.5f);
        for (size_t i = 0; i < sizes[k]; i++)
            g[i] *= s;
        cs_adamw_norm_cpu(&norm, g, sizes[k]);
        assert_true(fd_close(norm, 0.5, 1e-5, 0) || s == 1.0f);
        free(g);
    }
    assert_true(cs_adamw_clip_scale(10.0f, 1.0f) == 0.1f);
    assert_true(cs_adamw_clip_scale(0.5f, 1.0f) == 1.0f);  /* below the maximum: untouched */
    assert_true(cs_adamw_clip_scale(10.0f, 0.0f) == 1.0f); /* clipping off */
    assert_true(cs_adamw_clip_scale(NAN, 1.0f) == 1.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_step_by_hand),
        cmocka_unit_test(test_steps_match_reference),
        cmocka_unit_test(test_decay_is_decoupled),
        cmocka_unit_test(test_grad_scale),
        cmocka_unit_test(test_norm_and_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
