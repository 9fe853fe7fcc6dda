/* tests/unit/test_predict.c: prediction intervals of fitted laws (fit/predict.c) — the mixture
 * quantiles against closed forms, bad arguments, and calibration: on synthetic data from a
 * known law with known noise, over many replications, 90% intervals cover new observations
 * between 85% and 95% of the time and 50% intervals between 45% and 55%, inside the data and
 * extrapolated ten times beyond it. Run by `make test`.
 */
#include "tests/testutil.h"

#include "core/rng.h"
#include "core/table.h"
#include "fit/bootstrap.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"
#include "fit/predict.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <math.h>

/* One point estimate, no bootstrap: the interval is exp(m +- s t_q) with s = rmse sqrt(n/(n-k)). */
static void test_noise_only(void **state)
{
    cs_law *law = cs_law_builtin("power");
    double est[2] = {2.0, -0.5};
    double x = 4.0;
    double lv[2] = {0.5, 0.9};
    cs_prediction pr;
    cs_predictor *p;
    double s = 0.03 * sqrt(12.0 / 10.0);

    (void)state;
    assert_non_null(law);
    p = cs_predictor_alloc(law, est, NULL, 0, true, 0.03, 12);
    assert_non_null(p);
    assert_true(fabs(cs_predictor_scale(p) - s) < 1e-15);
    assert_true(cs_predictor_dof(p) == 10.0);
    assert_int_equal(cs_predictor_eval(p, &x, lv, 2, &pr), CS_OK);
    assert_true(fabs(pr.value - 1.0) < 1e-15);
    assert_true(fabs(pr.median - 1.0) < 1e-9);
    for (size_t k = 0; k < 2; k++) {
        double t = gsl_cdf_tdist_Pinv(0.5 + 0.5 * lv[k], 10.0);

        assert_true(fabs(pr.lo[k] - exp(-s * t)) < 1e-9);
        assert_true(fabs(pr.hi[k] - exp(s * t)) < 1e-9);
    }
    assert_int_equal(pr.n_used, 0);
    cs_predictor_free(p);
    cs_law_free(law);
}

/* Linear residuals, two bootstrap centres a long way apart: each tail of the mixture is half a
 * t; the median sits between the centres; a failed (NaN) sample is left out. */
static void test_mixture(void **state)
{
    cs_law *law = cs_law_builtin("power");
    double est[2] = {1.0, 0.0};
    double boot[6] = {1.0, 0.0, NAN, 0.0, 101.0, 0.0}; /* a*x^0: centres 1 and 101 */
    double x = 3.0;
    double lv = 0.9;
    double q;
    cs_prediction pr;
    cs_predictor *p;

    (void)state;
    p = cs_predictor_alloc(law, est, boot, 3, false, 1.0, 102);
    assert_non_null(p);
    assert_int_equal(cs_predictor_nboot(p), 2);
    assert_int_equal(cs_predictor_eval(p, &x, &lv, 1, &pr), CS_OK);
    assert_int_equal(pr.n_used, 2);
    /* lower 5% of the mixture: the 10% quantile of the lower component (the other adds ~0) */
    q = gsl_cdf_tdist_Pinv(0.1, 100.0) * cs_predictor_scale(p) + 1.0;
    assert_true(fabs(pr.lo[0] - q) < 1e-6);
    assert_true(fabs(pr.hi[0] - (102.0 - q)) < 1e-6);
    assert_true(pr.median > 1.0 + 3.0 && pr.median < 101.0 - 3.0);
    assert_true(fabs(pr.sd_param - sqrt(5000.0)) < 1e-9);
    cs_predictor_free(p);
    cs_law_free(law);
}

/* Bad arguments and a point where the law has no log. */
static void test_errors(void **state)
{
    cs_law *law = cs_law_builtin("power+const");
    double est[3] = {-5.0, 1.0, 1.0}; /* c + a x^b: -5 + x */
    double x = 2.0;
    double lv = 1.5;
    cs_prediction pr;
    cs_predictor *p;

    (void)state;
    assert_null(cs_predictor_alloc(law, est, NULL, 0, true, 0.1, 3));
    tu_assert_errmsg_has("3 points with 3 parameters");
    assert_null(cs_predictor_alloc(law, est, NULL, 0, true, NAN, 30));
    p = cs_predictor_alloc(law, est, NULL, 0, true, 0.1, 30);
    assert_non_null(p);
    assert_int_equal(cs_predictor_eval(p, &x, &lv, 1, &pr), CS_EINVAL);
    lv = 0.5;
    assert_int_equal(cs_predictor_eval(p, &x, &lv, 1, &pr), CS_EINPUT);
    tu_assert_errmsg_has("predicts -3");
    cs_predictor_free(p);
    cs_law_free(law);
}

/* ---- calibration ------------------------------------------------------------------------- */

#define CAL_REPS  150  /* replications: data set, fit, bootstrap */
#define CAL_N     30   /* points per data set */
#define CAL_BOOT  100  /* bootstrap refits per replication */
#define CAL_DRAWS 10   /* new observations per test point and replication */
#define CAL_SIGMA 0.02 /* log-normal noise */

static const double cal_truth[3] = {1.7, 30.0, -0.35}; /* power+const: c, a, b */
static const double cal_x[] = {3e3, 1e5, 1e6, 1e7};    /* data span 1e3..1e6 */
#define CAL_NX (sizeof cal_x / sizeof cal_x[0])

static double truth_at(const cs_law *law, double x)
{
    double y;

    assert_int_equal(cs_law_eval(law, cal_truth, &x, &y), CS_OK);
    return y;
}

/* A data set of CAL_N points, x log-spaced over 1e3..1e6, y = truth * exp(sigma e). */
static cs_table *cal_table(const cs_law *law, cs_rng *r)
{
    cs_table *t = cs_table_alloc("calibration");

    assert_non_null(t);
    assert_int_equal(cs_table_add_col(t, "x", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "L", CS_COL_NUM, NULL), CS_OK);
    for (size_t i = 0; i < CAL_N; i++) {
        double x = 1e3 * pow(1e3, (double)i / (CAL_N - 1));

        assert_int_equal(cs_table_append_row(t, i + 2), CS_OK);
        cs_table_set_num(t, i, 0, x);
        cs_table_set_num(t, i, 1, truth_at(law, x) * exp(CAL_SIGMA * cs_rng_normal(r)));
    }
    return t;
}

typedef struct cal_count {
    size_t hit50[CAL_NX];
    size_t hit90[CAL_NX];
    size_t n[CAL_NX];
} cal_count;

/* One replication: fit, bootstrap, then intervals at each test x against fresh draws. */
static void cal_rep(const cs_law *law, cs_rng *r, uint64_t seed, cal_count *c)
{
    cs_table *t = cal_table(law, r);
    cs_fit_params fp = cs_fit_default_params();
    cs_boot_params bp = cs_boot_default_params();
    cs_dataset *ds = NULL;
    cs_fit_result *fit = NULL;
    cs_boot_result *boot = NULL;
    cs_predictor *p;
    double lv[2] = {0.5, 0.9};

    fp.threads = 1;
    bp.n = CAL_BOOT;
    bp.seed = seed;
    assert_int_equal(cs_dataset_build(t, law, NULL, &ds), CS_OK);
    if (cs_fit_run(law, ds, &fp, &fit) != CS_OK || cs_boot_run(law, ds, &fp, fit, &bp, &boot))
        fail_msg("replication %llu: %s", (unsigned long long)seed, cs_errmsg());
    p = cs_predictor_from_fit(law, fit, boot);
    assert_non_null(p);
    for (size_t j = 0; j < CAL_NX; j++) {
        cs_prediction pr;
        double mu = truth_at(law, cal_x[j]);

        assert_int_equal(cs_predictor_eval(p, &cal_x[j], lv, 2, &pr), CS_OK);
        for (size_t d = 0; d < CAL_DRAWS; d++) {
            double y = mu * exp(CAL_SIGMA * cs_rng_normal(r));

            c->hit50[j] += y >= pr.lo[0] && y <= pr.hi[0];
            c->hit90[j] += y >= pr.lo[1] && y <= pr.hi[1];
            c->n[j]++;
        }
    }
    cs_predictor_free(p);
    cs_boot_result_free(boot);
    cs_fit_result_free(fit);
    cs_dataset_free(ds);
    cs_table_free(t);
}

static void test_calibration(void **state)
{
    cs_law *law = cs_law_builtin("power+const");
    cal_count c;
    cs_rng r;
    size_t h50 = 0;
    size_t h90 = 0;
    size_t n = 0;

    (void)state;
    assert_non_null(law);
    assert_int_equal(cs_law_set_grid(law, "c=0.5:2.5:3 a=1:1e3:3 b=-1:-0.1:3"), CS_OK);
    memset(&c, 0, sizeof c);
    cs_rng_seed(&r, 2024, 0);
    for (uint64_t rep = 0; rep < CAL_REPS; rep++)
        cal_rep(law, &r, 1000 + rep, &c);
    for (size_t j = 0; j < CAL_NX; j++) {
        double c50 = (double)c.hit50[j] / (double)c.n[j];
        double c90 = (double)c.hit90[j] / (double)c.n[j];

        print_message("x = %g: 50%% intervals cover %.3f, 90%% cover %.3f\n", cal_x[j], c50, c90);
        /* each point alone, with room for the replications' sampling error */
        assert_true(c50 > 0.40 && c50 < 0.60);
        assert_true(c90 > 0.83 && c90 < 0.97);
        h50 += c.hit50[j];
        h90 += c.hit90[j];
        n += c.n[j];
    }
    print_message("overall: 50%% %.3f, 90%% %.3f over %zu draws\n", (double)h50 / (double)n,
                  (double)h90 / (double)n, n);
    assert_true((double)h50 / (double)n >= 0.45 && (double)h50 / (double)n <= 0.55);
    assert_true((double)h90 / (double)n >= 0.85 && (double)h90 / (double)n <= 0.95);
    cs_law_free(law);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_only),
        cmocka_unit_test(test_mixture),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_calibration),
    };

    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
