/* tests/unit/test_compare.c: law comparison by extrapolation cross-validation (fit/compare.c) —
 * the folds (forward chaining over the key, tie groups kept whole, leave-largest-out), and on
 * synthetic data generated from each of three laws (chinchilla, kaplan and a multiplicative law)
 * the true one ranks first by extrapolation error and by AIC; on data with repeated tokens the
 * data-constrained law beats chinchilla and recovers its decay constants. Run by `make test`.
 */
#include "tests/testutil.h"

#include "core/rng.h"
#include "core/table.h"
#include "fit/compare.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <gsl/gsl_errno.h>
#include <math.h>

static void test_folds(void **state)
{
    /* keys out of order, with a tie group of three at 5 */
    const double key[12] = {9, 1, 5, 2, 5, 3, 10, 4, 5, 6, 8, 7};
    long fold[12];
    size_t nf = 0;
    cs_compare_params p = cs_compare_default_params();

    (void)state;
    assert_int_equal(cs_compare_folds(key, 12, &p, fold, &nf), CS_OK);
    /* sorted: 1 2 3 4 5 5 5 | 6 | 7 8 | 9 10: the training share 0.5 (6 points) ends inside
     * the tie group, which stays whole; the 5 points left make blocks ending at 5/3, 10/3
     * and 15/3 (rounded down) of them */
    assert_int_equal(nf, 3);
    for (size_t i = 0; i < 12; i++) {
        long want = key[i] <= 5 ? -1 : key[i] <= 6 ? 0 : key[i] <= 8 ? 1 : 2;

        if (fold[i] != want)
            fail_msg("key %g: fold %ld, expected %ld", key[i], fold[i], want);
    }
    p.cv = CS_CV_LARGEST;
    assert_int_equal(cs_compare_folds(key, 12, &p, fold, &nf), CS_OK);
    assert_int_equal(nf, 1);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(fold[i], key[i] >= 9 ? 0 : -1);
    /* a tie group larger than a block: fewer folds */
    {
        const double k2[8] = {1, 2, 3, 4, 5, 5, 5, 5};

        p.cv = CS_CV_EXTRAPOLATE;
        p.train_frac = 0.4;
        assert_int_equal(cs_compare_folds(k2, 8, &p, fold, &nf), CS_OK);
        assert_int_equal(nf, 1);
        assert_int_equal(fold[3], -1);
        assert_int_equal(fold[4], 0);
    }
    p.train_frac = 0.5;
    {
        const double same[4] = {3, 3, 3, 3};

        assert_int_equal(cs_compare_folds(same, 4, &p, fold, &nf), CS_EINPUT);
        tu_assert_errmsg_has("nothing is left to extrapolate to");
    }
    p.folds = 0;
    assert_int_equal(cs_compare_folds(key, 12, &p, fold, &nf), CS_EINVAL);
}

/* ---- the true law wins ------------------------------------------------------------------- */

typedef struct cand {
    const char *formula; /* a built-in name or a formula in N and D */
    const char *grid;    /* small starting grid for the test */
    const char *truth;   /* "name=value ..." */
} cand;

static const cand cands[3] = {
    {"chinchilla", "alpha=0.1:0.8:3 beta=0.1:0.8:3 e=-1:1:3 a=2:10:3 b=2:10:3",
     "e=0.5878 a=5.9915 alpha=0.34 b=7.0031 beta=0.28"},
    {"kaplan", NULL, "Nc=8.8e13 alphaN=0.076 alphaD=0.095 Dc=5.4e13"},
    {"L = exp(e) + exp(a)/(N^alpha*D^beta)", "e=-1:1:3 a=2:10:3 alpha=0.05:0.6:3 beta=0.05:0.6:3",
     "e=0.4055 a=8.669 alpha=0.25 beta=0.2"},
};

static cs_law *cand_law(const cand *c)
{
    static const char *vars[] = {"N", "D"};
    cs_law *law =
        strchr(c->formula, '=') ? cs_law_parse(c->formula, vars, 2) : cs_law_builtin(c->formula);

    assert_non_null(law);
    if (c->grid)
        assert_int_equal(cs_law_set_grid(law, c->grid), CS_OK);
    return law;
}

static void parse_truth(const cs_law *law, const char *spec, double *params)
{
    char buf[256];
    char *save = NULL;

    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        long j;

        assert_non_null(eq);
        *eq = '\0';
        j = cs_law_param_index(law, tok);
        assert_true(j >= 0);
        params[j] = strtod(eq + 1, NULL);
    }
}

/* 7 model sizes (1e7 .. 7.3e9) x 5 token ratios (5 .. 80 tokens per parameter) from `law` at
 * its truth, 0.3% log-normal noise. */
static cs_table *synth_table(const cs_law *law, const double *truth, uint64_t seed)
{
    cs_table *t = cs_table_alloc("synth.csv");
    cs_rng r;
    size_t row = 0;

    assert_non_null(t);
    cs_rng_seed(&r, seed, 0);
    assert_int_equal(cs_table_add_col(t, "N", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "D", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "L", CS_COL_NUM, NULL), CS_OK);
    for (int i = 0; i < 7; i++) {
        for (int j = 0; j < 5; j++, row++) {
            double x[2] = {1e7 * pow(3.0, i), 0.0};
            double y;

            x[1] = x[0] * 5.0 * pow(2.0, j);
            assert_int_equal(cs_law_eval(law, truth, x, &y), CS_OK);
            assert_int_equal(cs_table_append_row(t, row + 2), CS_OK);
            cs_table_set_num(t, row, 0, x[0]);
            cs_table_set_num(t, row, 1, x[1]);
            cs_table_set_num(t, row, 2, y * exp(0.003 * cs_rng_normal(&r)));
        }
    }
    return t;
}

/* Compares the three candidates on data from candidate `g`. */
static void compare_on(size_t g, cs_law *const *laws)
{
    double truth[8];
    cs_table *t;
    cs_dataset *ds[3] = {NULL, NULL, NULL};
    cs_dataset_params dp = cs_dataset_default_params();
    cs_fit_params fp = cs_fit_default_params();
    cs_compare_params cp = cs_compare_default_params();
    cs_compare_result *r = NULL;

    parse_truth(laws[g], cands[g].truth, truth);
    t = synth_table(laws[g], truth, 100 + g);
    dp.key = "6*N*D";
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(cs_dataset_build(t, laws[k], &dp, &ds[k]), CS_OK);
    fp.threads = 2;
    if (cs_compare_run((const cs_law *const *)laws, (const cs_dataset *const *)ds, 3, &fp, &cp,
                       &r) != CS_OK)
        fail_msg("%s", cs_errmsg());
    for (size_t q = 0; q < 3; q++) {
        const cs_compare_law *l = &r->laws[r->rank[q]];

        print_message("data from %s: %zu. %s: mean |err| %.5f, max %.5f, dAIC %.1f, failed %zu\n",
                      cands[g].formula, q + 1, cands[r->rank[q]].formula, l->mean_abs_err,
                      l->max_abs_err, l->daic, l->folds_failed);
    }
    assert_int_equal(r->nfolds, 3);
    /* 35 distinct keys: the smallest 18 trained on, then blocks of 5, 6 and 6 */
    assert_int_equal(r->fold_train[0], 18);
    assert_int_equal(r->fold_test[0], 5);
    assert_int_equal(r->fold_train[2], 29);
    assert_int_equal(r->fold_test[2], 6);
    assert_true(r->train_key_hi[0] < r->fold_key_lo[0]);
    assert_int_equal(r->rank[0], g);
    assert_int_equal(r->laws[g].folds_failed, 0);
    assert_int_equal(r->laws[g].n_scored, 17);
    assert_true(r->laws[g].mean_abs_err < 0.01);
    assert_true(r->laws[g].daic == 0.0); /* the true law also has the best likelihood */
    assert_true(r->laws[g].weight > 0.9);
    cs_compare_result_free(r);
    for (size_t k = 0; k < 3; k++)
        cs_dataset_free(ds[k]);
    cs_table_free(t);
}

static void test_true_law_wins(void **state)
{
    cs_law *laws[3];

    (void)state;
    for (size_t k = 0; k < 3; k++)
        laws[k] = cand_law(&cands[k]);
    for (size_t g = 0; g < 3; g++)
        compare_on(g, laws);
    for (size_t k = 0; k < 3; k++)
        cs_law_free(laws[k]);
}

/* Data sets of other points are refused. */
static void test_mismatch(void **state)
{
    cs_law *law = cand_law(&cands[0]);
    double truth[5];
    cs_table *t;
    cs_dataset *ds[2] = {NULL, NULL};
    cs_dataset_params dp = cs_dataset_default_params();
    const char *wh = "N > 1e7";
    cs_fit_params fp = cs_fit_default_params();
    cs_compare_result *r = NULL;
    const cs_law *laws[2] = {law, law};

    (void)state;
    parse_truth(law, cands[0].truth, truth);
    t = synth_table(law, truth, 1);
    dp.key = "N";
    assert_int_equal(cs_dataset_build(t, law, &dp, &ds[0]), CS_OK);
    dp.wheres = &wh;
    dp.nwheres = 1;
    assert_int_equal(cs_dataset_build(t, law, &dp, &ds[1]), CS_OK);
    assert_int_equal(cs_compare_run(laws, (const cs_dataset *const *)ds, 2, &fp, NULL, &r),
                     CS_EINPUT);
    tu_assert_errmsg_has("law 2 has 30 points, law 1 has 35");
    assert_null(r);
    cs_dataset_free(ds[0]);
    cs_dataset_free(ds[1]);
    cs_table_free(t);
    cs_law_free(law);
}

/* Muennighoff et al.'s law on 6 sizes x 6 token counts x 2 corpora of U = 2e8 and 1e9 unique
 * tokens (up to 49 epochs), 0.3% noise; its truth: E 1.8, A 400, alpha 0.34, B 1100, beta 0.28,
 * R*_D = 15.4, R*_N = 5.3. */
static cs_table *repeated_table(const cs_law *law)
{
    const double truth[7] = {log(1.8), log(400.0), 5.3, 0.34, log(1100.0), 15.4, 0.28};
    cs_table *t = cs_table_alloc("repeat.csv");
    cs_rng r;
    size_t row = 0;

    assert_non_null(t);
    assert_string_equal(cs_law_param_name(law, 2), "rn");
    assert_string_equal(cs_law_param_name(law, 5), "rd");
    cs_rng_seed(&r, 5, 0);
    assert_int_equal(cs_table_add_col(t, "N", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "D", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "U", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "L", CS_COL_NUM, NULL), CS_OK);
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < 6; j++) {
            for (int u = 0; u < 2; u++, row++) {
                double x[3] = {1e7 * pow(3.0, i), 1e8 * pow(2.5, j), u ? 1e9 : 2e8};
                double y;

                assert_int_equal(cs_law_eval(law, truth, x, &y), CS_OK);
                assert_int_equal(cs_table_append_row(t, row + 2), CS_OK);
                for (size_t k = 0; k < 3; k++)
                    cs_table_set_num(t, row, k, x[k]);
                cs_table_set_num(t, row, 3, y * exp(0.003 * cs_rng_normal(&r)));
            }
        }
    }
    return t;
}

static void test_data_constrained(void **state)
{
    cs_law *laws[2] = {cand_law(&cands[0]), cs_law_builtin("data-constrained")};
    cs_dataset *ds[2] = {NULL, NULL};
    cs_dataset_params dp = cs_dataset_default_params();
    cs_fit_params fp = cs_fit_default_params();
    cs_compare_result *r = NULL;
    cs_table *t;

    (void)state;
    assert_non_null(laws[1]);
    assert_int_equal(cs_law_set_grid(laws[1], "e=0:1:2 a=5:7:2 rn=2:20:2 alpha=0.2:0.5:2 b=6:8:2 "
                                              "rd=5:50:2 beta=0.2:0.4:2"),
                     CS_OK);
    t = repeated_table(laws[1]);
    dp.key = "6*N*D";
    for (size_t k = 0; k < 2; k++)
        assert_int_equal(cs_dataset_build(t, laws[k], &dp, &ds[k]), CS_OK);
    fp.threads = 2;
    if (cs_compare_run((const cs_law *const *)laws, (const cs_dataset *const *)ds, 2, &fp, NULL,
                       &r) != CS_OK)
        fail_msg("%s", cs_errmsg());
    print_message("repeated data: chinchilla %.5f, data-constrained %.5f; rn %.3g, rd %.3g\n",
                  r->laws[0].mean_abs_err, r->laws[1].mean_abs_err, r->laws[1].estimate[2],
                  r->laws[1].estimate[5]);
    assert_int_equal(r->rank[0], 1);
    assert_true(r->laws[1].mean_abs_err < 0.005 && r->laws[0].mean_abs_err > 0.02);
    assert_true(fabs(r->laws[1].estimate[2] / 5.3 - 1.0) < 0.2);
    assert_true(fabs(r->laws[1].estimate[5] / 15.4 - 1.0) < 0.2);
    cs_compare_result_free(r);
    for (size_t k = 0; k < 2; k++) {
        cs_dataset_free(ds[k]);
        cs_law_free(laws[k]);
    }
    cs_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_true_law_wins),
        cmocka_unit_test(test_data_constrained),
    };

    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
