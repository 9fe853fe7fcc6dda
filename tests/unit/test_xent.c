/* tests/unit/test_xent.c: fused softmax cross-entropy (trainer/xent.c) against a float64
 * reference and central finite differences (tests/unit/fdcheck.h), uniform logits, and the
 * gradient's zero sum. Run by `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/xent.h"

enum { BT = 10, V = 7 }; /* B = 2, T = 5 */

static const uint32_t targets[BT] = {0, 6, 3, 3, 1, 2, 5, 4, 6, 0};

/* Losses and log-sum-exps are O(1..1000) values from a double sum of float exponentials: a few
 * float ulps (relative 1e-6), also for the row shifted by +1000, whose loss the op takes in
 * double before rounding. */
#define FWD_RTOL 1e-6
#define FWD_ATOL 1e-6

typedef struct xent_ctx {
    double *z;      /* (BT, V) logits */
    const float *w; /* (BT), the weights of the objective: scale · dlosses */
} xent_ctx;

static double loss64(const double *z, uint32_t y)
{
    double mx = z[0];
    double s = 0.0;

    for (size_t v = 1; v < V; v++)
        mx = z[v] > mx ? z[v] : mx;
    for (size_t v = 0; v < V; v++)
        s += exp(z[v] - mx);
    return mx + log(s) - z[y];
}

static double xent_objective(void *p)
{
    xent_ctx *e = p;
    double s = 0.0;

    for (size_t r = 0; r < BT; r++)
        s += e->w[r] * loss64(e->z + r * V, targets[r]);
    return s;
}

static float *make_logits(uint64_t seed)
{
    cs_rng r;
    float *z;

    cs_rng_seed(&r, seed, 0);
    z = fd_rand(&r, BT * V, -3, 3);
    for (size_t v = 0; v < V; v++)
        z[4 * V + v] += 1000.0f; /* a shifted row: the max must be taken out */
    return z;
}

static void test_forward_matches_reference(void **state)
{
    float *z = make_logits(121);
    float losses[BT];
    float lse[BT];
    double want[BT];
    double want_lse[BT];
    double *z64 = fd_widen(z, BT * V);

    (void)state;
    cs_xent_forward_cpu(losses, lse, z, targets, BT, V);
    for (size_t r = 0; r < BT; r++) {
        want[r] = loss64(z64 + r * V, targets[r]);
        want_lse[r] = want[r] + z64[r * V + targets[r]];
        assert_true(losses[r] > 0.0f);
    }
    fd_assert_close(losses, want, BT, FWD_RTOL, FWD_ATOL, "losses");
    fd_assert_close(lse, want_lse, BT, FWD_RTOL, FWD_ATOL, "lse");
    free(z);
    free(z64);
}

/* Uniform logits give ln V whatever the target and the common value. */
static void test_uniform_is_log_v(void **state)
{
    enum { BIGV = 50257 };
    float *z = fd_zeros(BIGV);
    float loss;
    float lse;
    uint32_t y = 123;

    (void)state;
    for (size_t v = 0; v < BIGV; v++)
        z[v] = 2.5f;
    cs_xent_forward_cpu(&loss, &lse, z, &y, 1, BIGV);
    assert_true(fd_close(loss, log((double)BIGV), 1e-6, 0));
    for (size_t v = 0; v < 7; v++)
        z[v] = -4.0f;
    y = 6;
    cs_xent_forward_cpu(&loss, &lse, z, &y, 1, 7);
    assert_true(fd_close(loss, log(7.0), 1e-6, 0));
    free(z);
}

static void test_backward_matches_differences(void **state)
{
    float *z = make_logits(122);
    float losses[BT];
    float lse[BT];
    float dlosses[BT];
    float w[BT];
    float *dz = fd_zeros(BT * V);
    const float scale = 0.25f;
    xent_ctx e;
    cs_rng r;

    (void)state;
    cs_rng_seed(&r, 123, 0);
    cs_rng_fill_uniform(&r, dlosses, BT, 0, 2); /* per-position weights */
    for (size_t i = 0; i < BT; i++)
        w[i] = scale * dlosses[i];
    cs_xent_forward_cpu(losses, lse, z, targets, BT, V);
    cs_xent_backward_cpu(dz, z, lse, targets, dlosses, scale, BT, V);
    e = (xent_ctx){fd_widen(z, BT * V), w};
    fd_check_grad(dz, e.z, BT * V, xent_objective, &e, 1, "dlogits");
    for (size_t row = 0; row < BT; row++) { /* Σ_v dlogits = w (Σ p − 1) = 0 */
        double s = 0.0;

        for (size_t v = 0; v < V; v++)
            s += dz[row * V + v];
        assert_true(fd_close(s, 0.0, 0, 1e-6));
    }
    free(z);
    free(dz);
    free(e.z);
}

/* NULL dlosses means weight `scale` everywhere; in place gives the same bits. */
static void test_backward_mean_and_in_place(void **state)
{
    float *z = make_logits(124);
    float losses[BT];
    float lse[BT];
    float ones[BT];
    float *d1 = fd_zeros(BT * V);
    float *d2 = fd_zeros(BT * V);

    (void)state;
    for (size_t i = 0; i < BT; i++)
        ones[i] = 1.0f;
    cs_xent_forward_cpu(losses, lse, z, targets, BT, V);
    cs_xent_backward_cpu(d1, z, lse, targets, NULL, 1.0f / BT, BT, V);
    cs_xent_backward_cpu(d2, z, lse, targets, ones, 1.0f / BT, BT, V);
    assert_memory_equal(d1, d2, BT * V * sizeof(float));
    cs_xent_backward_cpu(z, z, lse, targets, NULL, 1.0f / BT, BT, V);
    assert_memory_equal(z, d1, BT * V * sizeof(float));
    /* the target's entry is (p − 1)/BT < 0, the others p/BT > 0 */
    assert_true(d1[2 * V + 3] < 0.0f && d1[2 * V + 4] > 0.0f);
    free(z);
    free(d1);
    free(d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_uniform_is_log_v),
        cmocka_unit_test(test_backward_matches_differences),
        cmocka_unit_test(test_backward_mean_and_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
