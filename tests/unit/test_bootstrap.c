/* tests/unit/test_bootstrap.c: bootstrap refits (fit/bootstrap.c) — resample weights by point
 * and by group, percentile summaries, determinism across thread counts, agreement with the
 * asymptotic standard errors, derived quantities, argument errors. Run by `make test`. */
#include "tests/testutil.h"

#include "core/rng.h"
#include "fit/bootstrap.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <gsl/gsl_errno.h>
#include <math.h>

static void test_weights(void **state)
{
    static const size_t group[10] = {0, 0, 1, 1, 1, 2, 3, 3, 4, 4};
    double w[10];
    double w2[10];
    double sum;

    (void)state;
    cs_boot_weights(5, 3, 10, NULL, 0, w);
    sum = 0;
    for (size_t i = 0; i < 10; i++) {
        assert_true(w[i] == floor(w[i]) && w[i] >= 0);
        sum += w[i];
    }
    assert_true(sum == 10.0);
    cs_boot_weights(5, 3, 10, NULL, 0, w2);
    assert_memory_equal(w, w2, sizeof w);
    cs_boot_weights(5, 4, 10, NULL, 0, w2);
    assert_true(memcmp(w, w2, sizeof w) != 0);
    cs_boot_weights(5, 3, 10, group, 5, w);
    sum = w[0] + w[2] + w[5] + w[6] + w[8]; /* one row of each group: the draws per group */
    assert_true(sum == 5.0);
    assert_true(w[0] == w[1] && w[2] == w[3] && w[3] == w[4] && w[6] == w[7] && w[8] == w[9]);
}

static void test_summary(void **state)
{
    double x[24];
    double scratch[12];
    double se;
    double lo;
    double hi;

    (void)state;
    for (size_t k = 0; k < 12; k++) {
        x[2 * k] = k < 10 ? (double)(10 - k) : NAN; /* 10..1, then two NaN */
        x[2 * k + 1] = -1.0;
    }
    cs_boot_summary(x, 12, 2, 0.8, &se, &lo, &hi, scratch);
    assert_true(fabs(se - 3.0276503540974917) < 1e-12); /* sd of 1..10 */
    assert_true(fabs(lo - 1.9) < 1e-12);                /* type 7: 1 + 0.9 (2 - 1) */
    assert_true(fabs(hi - 9.1) < 1e-12);
    cs_boot_summary(x, 1, 2, 0.8, &se, &lo, &hi, scratch);
    assert_true(isnan(se) && isnan(lo) && isnan(hi));
}

/* y = a x^b with multiplicative Gaussian noise. */
static cs_table *power_table(size_t n, double noise, uint64_t seed, bool groups)
{
    cs_table *t = cs_table_alloc("power.csv");
    cs_rng r;

    cs_rng_seed(&r, seed, 0);
    assert_int_equal(cs_table_add_col(t, "x", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "L", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "run", CS_COL_NUM, NULL), CS_OK);
    for (size_t i = 0; i < n; i++) {
        double x = exp(log(1e3) + cs_rng_uniform(&r) * log(1e6));

        assert_int_equal(cs_table_append_row(t, i + 2), CS_OK);
        cs_table_set_num(t, i, 0, x);
        cs_table_set_num(t, i, 1, 2.5 * pow(x, -0.3) * exp(noise * cs_rng_normal(&r)));
        cs_table_set_num(t, i, 2, groups ? (double)(i % 10) : 0.0);
    }
    return t;
}

typedef struct fixture {
    cs_law *law;
    cs_table *t;
    cs_dataset *ds;
    cs_fit_params p;
    cs_fit_result *fit;
} fixture;

static void fixture_init(fixture *fx, int method, bool groups)
{
    cs_dataset_params dp = cs_dataset_default_params();

    fx->law = cs_law_builtin("power");
    assert_non_null(fx->law);
    fx->t = power_table(200, 0.02, 17, groups);
    dp.group = groups ? "run" : NULL;
    assert_int_equal(cs_dataset_build(fx->t, fx->law, &dp, &fx->ds), CS_OK);
    fx->p = cs_fit_default_params();
    fx->p.method = method;
    if (cs_fit_run(fx->law, fx->ds, &fx->p, &fx->fit) != CS_OK)
        fail_msg("%s", cs_errmsg());
}

static void fixture_free(fixture *fx)
{
    cs_fit_result_free(fx->fit);
    cs_dataset_free(fx->ds);
    cs_table_free(fx->t);
    cs_law_free(fx->law);
}

static void test_threads_determinism(void **state)
{
    fixture fx;
    cs_boot_params bp = cs_boot_default_params();
    cs_boot_result *b1 = NULL;
    cs_boot_result *b3 = NULL;

    (void)state;
    fixture_init(&fx, CS_FIT_HUBER, false);
    bp.n = 40;
    fx.p.threads = 1;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b1), CS_OK);
    fx.p.threads = 3;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b3), CS_OK);
    assert_memory_equal(b1->samples, b3->samples, 40 * 2 * sizeof(double));
    assert_true(b1->se[1] == b3->se[1] && b1->lo[0] == b3->lo[0]);
    cs_boot_result_free(b3);
    bp.seed = 2;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b3), CS_OK);
    assert_true(memcmp(b1->samples, b3->samples, 40 * 2 * sizeof(double)) != 0);
    cs_boot_result_free(b1);
    cs_boot_result_free(b3);
    fixture_free(&fx);
}

/* With Gaussian noise, the bootstrap SE of least squares is close to the asymptotic one (within
 * the sampling error of 300 replicates, about 4%, and the model's smallness: 0.75 to 1.33), and
 * the 95% interval holds the truth. */
static void test_agrees_with_asymptotics(void **state)
{
    static const double truth[2] = {2.5, -0.3};
    fixture fx;
    cs_boot_params bp = cs_boot_default_params();
    cs_boot_result *b = NULL;

    (void)state;
    fixture_init(&fx, CS_FIT_LSQ, false);
    bp.n = 300;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b), CS_OK);
    assert_int_equal(b->n_failed, 0);
    for (size_t j = 0; j < 2; j++) {
        double ratio = b->se[j] / fx.fit->se_asym[j];

        print_message("%s: bootstrap se %.4g, asymptotic %.4g, interval [%.5g, %.5g]\n",
                      cs_law_param_name(fx.law, j), b->se[j], fx.fit->se_asym[j], b->lo[j],
                      b->hi[j]);
        assert_true(ratio > 0.75 && ratio < 1.33);
        assert_true(b->lo[j] < truth[j] && truth[j] < b->hi[j]);
        assert_true(b->lo[j] < fx.fit->estimate[j] && fx.fit->estimate[j] < b->hi[j]);
    }
    cs_boot_result_free(b);
    fixture_free(&fx);
}

/* Derived quantities: per replicate, and at the point estimate. */
static void test_derived(void **state)
{
    fixture fx;
    cs_boot_params bp = cs_boot_default_params();
    cs_boot_result *b = NULL;

    (void)state;
    fixture_init(&fx, CS_FIT_HUBER, false);
    assert_int_equal(cs_law_add_derived(fx.law, "la = log(a)"), CS_OK);
    assert_int_equal(cs_law_add_derived(fx.law, "y1e6 = a*1e6^b"), CS_OK);
    bp.n = 30;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b), CS_OK);
    assert_int_equal(b->nderived, 2);
    for (size_t r = 0; r < b->n; r++) {
        const double *s = b->samples + 2 * r;

        assert_true(b->dsamples[2 * r] == log(s[0]));
        assert_true(fabs(b->dsamples[2 * r + 1] - s[0] * pow(1e6, s[1])) <=
                    1e-12 * b->dsamples[2 * r + 1]);
    }
    assert_true(b->dest[0] == log(fx.fit->estimate[0]));
    assert_true(b->dlo[0] < b->dest[0] && b->dest[0] < b->dhi[0]);
    assert_true(isfinite(b->dse[1]) && b->dse[1] > 0);
    cs_boot_result_free(b);
    fixture_free(&fx);
}

/* Resampling by group, and the Huber-likelihood refits (with the scale). */
static void test_groups_and_likelihood(void **state)
{
    fixture fx;
    cs_boot_params bp = cs_boot_default_params();
    cs_boot_result *b = NULL;

    (void)state;
    fixture_init(&fx, CS_FIT_HUBER_LIK, true);
    bp.n = 20;
    bp.by_group = true;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b), CS_OK);
    assert_true(b->by_group);
    assert_int_equal(b->n_failed, 0);
    assert_true(b->lo[1] < -0.3 + 0.05 && b->hi[1] > -0.3 - 0.05);
    cs_boot_result_free(b);
    fixture_free(&fx);
}

static void test_errors(void **state)
{
    fixture fx;
    cs_boot_params bp = cs_boot_default_params();
    cs_boot_result *b = NULL;
    cs_fit_params other;

    (void)state;
    fixture_init(&fx, CS_FIT_HUBER, false);
    bp.n = 0;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b), CS_EINVAL);
    bp = cs_boot_default_params();
    bp.level = 1.5;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b), CS_EINVAL);
    bp = cs_boot_default_params();
    bp.by_group = true;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &fx.p, fx.fit, &bp, &b), CS_EINVAL);
    tu_assert_errmsg_has("needs a data set with groups");
    other = fx.p;
    other.method = CS_FIT_LSQ;
    bp.by_group = false;
    assert_int_equal(cs_boot_run(fx.law, fx.ds, &other, fx.fit, &bp, &b), CS_EINVAL);
    assert_null(b);
    fixture_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_threads_determinism),
        cmocka_unit_test(test_agrees_with_asymptotics),
        cmocka_unit_test(test_derived),
        cmocka_unit_test(test_groups_and_likelihood),
        cmocka_unit_test(test_errors),
    };

    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
