/* tests/unit/test_analyze_ucurve.c: the U-curve optima and the ranking check
 * (analysis/ucurve.c): exact recovery on parabolas and quadratic surfaces, the bias of the
 * three-point parabola on a cubic (the bound the sweep tests use as their tolerance), the edge,
 * few-point and curvature cases, bootstrap bands and their determinism, rank correlations, bad
 * input. Run by `make test`. */
#include "tests/testutil.h"

#include "analysis/ucurve.h"

#include <gsl/gsl_errno.h>
#include <math.h>

static void test_quadfit(void **state)
{
    double x[6], y[6], a[3];
    cs_ucurve_quad q;
    size_t i;

    (void)state;
    for (i = 0; i < 6; i++) {
        x[i] = 3.0 + 0.7 * (double)i;
        y[i] = 2.0 - 0.5 * x[i] + 0.25 * x[i] * x[i];
    }
    assert_int_equal(cs_ucurve_quadfit(x, y, 6, &q), CS_OK);
    cs_ucurve_quad_raw(&q, a);
    assert_true(fabs(a[0] - 2.0) < 1e-9 && fabs(a[1] + 0.5) < 1e-10 && fabs(a[2] - 0.25) < 1e-11);
    x[2] = x[1] = x[0];
    x[4] = x[3] = x[5];
    assert_int_equal(cs_ucurve_quadfit(x, y, 6, &q), CS_EINPUT);
}

/* The residual sd of a polynomial fit: 0 on a cubic, sigma on noise around it, NaN without
 * degrees of freedom. */
static void test_resid_sd(void **state)
{
    double x[400], y[400], e[2] = {0.02, -0.02};
    size_t i;

    (void)state;
    for (i = 0; i < 400; i++) {
        x[i] = 10.0 + 0.01 * (double)i;
        y[i] = 1.0 - 0.5 * x[i] + 0.03 * x[i] * x[i] * x[i];
    }
    assert_true(cs_ucurve_resid_sd(x, y, 7, 3) < 1e-9);
    assert_true(cs_ucurve_resid_sd(x, y, 400, 3) < 1e-9);
    assert_true(cs_ucurve_resid_sd(x, y, 400, 2) > 1e-6); /* a parabola cannot follow it */
    for (i = 0; i < 400; i++)
        y[i] += e[i % 2]; /* +-0.02 alternating: sd 0.02 (times sqrt(400 / 396)) */
    assert_true(fabs(cs_ucurve_resid_sd(x, y, 400, 3) - 0.02 * sqrt(400.0 / 396.0)) < 2e-4);
    assert_true(isnan(cs_ucurve_resid_sd(x, y, 4, 3)));
    assert_true(isnan(cs_ucurve_resid_sd(x, y, 10, 6)));
}

/* L = 1 + 0.3 (ln x - u*)^2 at x = 64 * 2^k: the parabola recovers u* exactly. */
static void test_exact_parabola(void **state)
{
    double x[7], L[7], sig[7] = {0};
    double ustar = log(300.0);
    cs_ucurve_params p = cs_ucurve_default_params();
    cs_ucurve_opt o;
    size_t i;

    (void)state;
    for (i = 0; i < 7; i++) {
        x[i] = 64.0 * pow(2.0, (double)i);
        L[i] = 1.0 + 0.3 * (log(x[i]) - ustar) * (log(x[i]) - ustar);
    }
    p.nboot = 50;
    assert_int_equal(cs_ucurve_optimum(x, L, sig, 7, &p, 0, &o), CS_OK);
    assert_int_equal(o.status, CS_UCURVE_OK);
    assert_int_equal(o.best, 2);
    assert_true(fabs(o.x_opt / 300.0 - 1.0) < 1e-10);
    assert_true(fabs(o.L_opt - 1.0) < 1e-12);
    assert_true(fabs(o.a[2] - 0.3) < 1e-10);
    /* no noise: every replicate is the estimate */
    assert_true(fabs(o.x_lo - o.x_opt) < 1e-9 && fabs(o.x_hi - o.x_opt) < 1e-9);
    assert_int_equal(o.nboot, 50);
    assert_int_equal(o.nboot_edge, 0);
    /* a wider window fits the same parabola */
    p.window = 3;
    assert_int_equal(cs_ucurve_optimum(x, L, NULL, 7, &p, 0, &o), CS_OK);
    assert_true(fabs(o.x_opt / 300.0 - 1.0) < 1e-9);
}

/* On f(u) = a (u - u*)^2 + b (u - u*)^3 sampled with spacing h, the parabola through the best
 * point u0 = u* + d and its neighbours has its vertex at u* - (b / 2a)(h^2 - 3 d^2) + O(h^3 b^2
 * / a^2): the bound |f'''| h^2 / (6 f'') used by tests/unit/test_analyze.c. */
static void test_parabola_bias(void **state)
{
    const double a = 0.4, b = 0.02, h = log(2.0);
    cs_ucurve_params p = cs_ucurve_default_params();
    double d, x[5], L[5];
    size_t i;

    (void)state;
    p.nboot = 0;
    for (d = -0.3 * h; d <= 0.3 * h; d += 0.15 * h) {
        double ustar = 6.0, u0 = ustar + d;
        cs_ucurve_opt o;
        for (i = 0; i < 5; i++) {
            double e = u0 + h * ((double)i - 2.0) - ustar;
            x[i] = exp(u0 + h * ((double)i - 2.0));
            L[i] = 2.0 + a * e * e + b * e * e * e;
        }
        assert_int_equal(cs_ucurve_optimum(x, L, NULL, 5, &p, 0, &o), CS_OK);
        double err = log(o.x_opt) - ustar, pred = -(b / (2.0 * a)) * (h * h - 3.0 * d * d);
        assert_true(fabs(err - pred) < 3.0 * b * b / (a * a) * h * h * h);
        assert_true(fabs(err) <= fabs(b) / (2.0 * a) * h * h * 1.01);
    }
}

static void test_edges_and_few(void **state)
{
    double x[5] = {64, 128, 256, 512, 1024}, down[5] = {5, 4, 3, 2, 1}, up[5] = {1, 2, 3, 4, 5};
    double w[5] = {0, 1, -0.1, 1, 0};
    cs_ucurve_params p = cs_ucurve_default_params();
    cs_ucurve_opt o;

    (void)state;
    p.nboot = 10;
    assert_int_equal(cs_ucurve_optimum(x, down, NULL, 5, &p, 0, &o), CS_OK);
    assert_int_equal(o.status, CS_UCURVE_EDGE_HIGH);
    assert_true(o.x_opt == 1024.0 && o.L_opt == 1.0 && isnan(o.a[0]));
    assert_int_equal(o.nboot_edge, 10);
    assert_int_equal(cs_ucurve_optimum(x, up, NULL, 5, &p, 0, &o), CS_OK);
    assert_int_equal(o.status, CS_UCURVE_EDGE_LOW);
    assert_true(o.x_opt == 64.0);
    assert_int_equal(cs_ucurve_optimum(x, up, NULL, 2, &p, 0, &o), CS_OK);
    assert_int_equal(o.status, CS_UCURVE_FEW);
    /* a W shape: the 5-point parabola opens downwards */
    p.window = 2;
    assert_int_equal(cs_ucurve_optimum(x, w, NULL, 5, &p, 0, &o), CS_OK);
    assert_int_equal(o.status, CS_UCURVE_CURVATURE);
    assert_true(o.x_opt == 256.0);
    assert_string_equal(cs_ucurve_status_name(CS_UCURVE_CURVATURE), "curvature");
}

static void test_bootstrap_band(void **state)
{
    double x[7], L[7], sig[7];
    cs_ucurve_params p = cs_ucurve_default_params();
    cs_ucurve_opt a, b, c, wide;
    size_t i;

    (void)state;
    for (i = 0; i < 7; i++) {
        x[i] = 64.0 * pow(2.0, (double)i);
        L[i] = 1.0 + 0.3 * pow(log(x[i] / 300.0), 2.0);
        sig[i] = 0.01;
    }
    assert_int_equal(cs_ucurve_optimum(x, L, sig, 7, &p, 3, &a), CS_OK);
    assert_int_equal(cs_ucurve_optimum(x, L, sig, 7, &p, 3, &b), CS_OK);
    assert_int_equal(cs_ucurve_optimum(x, L, sig, 7, &p, 4, &c), CS_OK);
    assert_true(a.x_lo < 300.0 && a.x_hi > 300.0 && a.x_lo < a.x_hi);
    assert_true(a.x_lo == b.x_lo && a.x_hi == b.x_hi); /* same stream: same band */
    assert_true(a.x_lo != c.x_lo || a.x_hi != c.x_hi); /* another stream: other draws */
    for (i = 0; i < 7; i++)
        sig[i] = 0.05;
    assert_int_equal(cs_ucurve_optimum(x, L, sig, 7, &p, 3, &wide), CS_OK);
    assert_true(wide.x_hi / wide.x_lo > a.x_hi / a.x_lo); /* more noise, wider band */
}

/* L = 2 + 0.2 v^2 + 0.1 v w + 0.3 w^2 (v = ln N - ln 3e6, w = ln T - ln 700) on a 5 x 5 grid. */
static double surface(double N, double T)
{
    double v = log(N / 3e6), w = log(T / 700.0);

    return 2.0 + 0.2 * v * v + 0.1 * v * w + 0.3 * w * w;
}

static void test_joint(void **state)
{
    double N[25], T[25], L[25];
    cs_ucurve_params p = cs_ucurve_default_params();
    cs_ucurve_joint o;
    size_t i, j;

    (void)state;
    p.nboot = 20;
    for (i = 0; i < 5; i++)
        for (j = 0; j < 5; j++) { /* stored T-major, in no particular order of N */
            N[j * 5 + i] = 1e6 * pow(2.0, (double)((i + 2) % 5));
            T[j * 5 + i] = 128.0 * pow(2.0, (double)j);
            L[j * 5 + i] = surface(N[j * 5 + i], T[j * 5 + i]);
        }
    assert_int_equal(cs_ucurve_joint_optimum(N, T, L, NULL, 25, &p, 0, &o), CS_OK);
    assert_int_equal(o.status, CS_UCURVE_OK);
    assert_true(fabs(o.N_opt / 3e6 - 1.0) < 1e-9 && fabs(o.T_opt / 700.0 - 1.0) < 1e-9);
    assert_true(fabs(o.L_opt - 2.0) < 1e-12);
    assert_true(fabs(o.T_lo / 700.0 - 1.0) < 1e-9 && o.nboot == 20);
    /* the minimum beyond the largest T sampled */
    for (i = 0; i < 25; i++)
        L[i] = surface(N[i], T[i] / 8.0);
    assert_int_equal(cs_ucurve_joint_optimum(N, T, L, NULL, 25, &p, 0, &o), CS_OK);
    assert_int_equal(o.status, CS_UCURVE_EDGE_HIGH);
    assert_int_equal(o.edge_T, 1);
    assert_int_equal(o.edge_N, 0);
    assert_true(o.T_opt == 2048.0);
    /* two sizes only */
    assert_int_equal(cs_ucurve_joint_optimum(N, T, L, NULL, 2, &p, 0, &o), CS_OK);
    assert_int_equal(o.status, CS_UCURVE_FEW);
    /* a repeated (N, T) pair */
    N[1] = N[0];
    T[1] = T[0];
    assert_int_equal(cs_ucurve_joint_optimum(N, T, L, NULL, 25, &p, 0, &o), CS_EINVAL);
    tu_assert_errmsg_has("share N and T");
}

static void test_rankings(void **state)
{
    double avg[5] = {3.0, 2.0, 2.5, 1.0, 4.0}, best[5] = {2.9, 1.9, 2.4, 2.0, 3.9};
    double rev[5] = {1.0, 2.0, 3.0, 4.0, 5.0}, rev2[5] = {5.0, 4.0, 3.0, 2.0, 1.0};
    double ties[4] = {1.0, 1.0, 2.0, 3.0}, t2[4] = {1.0, 2.0, 3.0, 4.0};
    double ra[5], rb[5];
    cs_ucurve_rank k;

    (void)state;
    assert_int_equal(cs_ucurve_rank_runs(avg, best, 5, ra, rb, &k), CS_OK);
    assert_true(k.spearman < 1.0 && k.spearman > 0.8);
    assert_true(fabs(k.kendall - 0.8) < 1e-12); /* one discordant pair of 10: (9 - 1) / 10 */
    assert_int_equal(k.best_avg, 3);
    assert_int_equal(k.best_best, 1);
    assert_true(fabs(k.regret - 0.1) < 1e-12);
    assert_true(ra[3] == 1.0 && rb[1] == 1.0);
    assert_int_equal(cs_ucurve_rank_runs(rev, rev2, 5, NULL, NULL, &k), CS_OK);
    assert_true(fabs(k.spearman + 1.0) < 1e-12 && fabs(k.kendall + 1.0) < 1e-12);
    assert_true(fabs(k.regret - 4.0) < 1e-12);
    assert_int_equal(cs_ucurve_rank_runs(ties, t2, 4, ra, NULL, &k), CS_OK);
    assert_true(ra[0] == 1.5 && ra[1] == 1.5 && ra[2] == 3.0);
    assert_true(fabs(k.kendall - 5.0 / sqrt(5.0 * 6.0)) < 1e-12); /* tau-b with one tie */
    assert_int_equal(cs_ucurve_rank_runs(ties, t2, 1, NULL, NULL, &k), CS_OK);
    assert_true(isnan(k.spearman) && isnan(k.kendall) && k.regret == 0.0);
}

static void test_bad_input(void **state)
{
    double x[3] = {1, 3, 2}, L[3] = {1, 0, 1}, bad[3] = {1, NAN, 1}, sig[3] = {0, -1, 0};
    cs_ucurve_params p = cs_ucurve_default_params();
    cs_ucurve_opt o;
    cs_ucurve_rank k;

    (void)state;
    assert_int_equal(cs_ucurve_optimum(x, L, NULL, 3, &p, 0, &o), CS_EINVAL);
    tu_assert_errmsg_has("increasing");
    x[1] = 2;
    x[2] = 3;
    assert_int_equal(cs_ucurve_optimum(x, bad, NULL, 3, &p, 0, &o), CS_EINVAL);
    assert_int_equal(cs_ucurve_optimum(x, L, sig, 3, &p, 0, &o), CS_EINVAL);
    assert_int_equal(cs_ucurve_optimum(x, L, NULL, 0, &p, 0, &o), CS_EINVAL);
    p.window = 0;
    assert_int_equal(cs_ucurve_optimum(x, L, NULL, 3, &p, 0, &o), CS_EINVAL);
    assert_int_equal(cs_ucurve_rank_runs(L, bad, 3, NULL, NULL, &k), CS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quadfit),        cmocka_unit_test(test_resid_sd),
        cmocka_unit_test(test_exact_parabola), cmocka_unit_test(test_parabola_bias),
        cmocka_unit_test(test_edges_and_few),  cmocka_unit_test(test_bootstrap_band),
        cmocka_unit_test(test_joint),          cmocka_unit_test(test_rankings),
        cmocka_unit_test(test_bad_input),
    };

    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
