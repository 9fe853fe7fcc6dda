/* tests/unit/test_holdout.c: predicates over columns (--where and --holdout in fit/dataset.c:
 * expressions, && and ||, text columns), the held-out and kept parts, the ordering key and
 * subsets, bad input (a hold-out selecting no point or every point, a --where matching nothing),
 * hold-out scoring (fit/holdout.c) on synthetic data from a known law, and the hold-out and
 * selection parts of the JSON result (fit/fitjson.c) written and read back. Run by `make test`.
 */
#include "tests/testutil.h"

#include "core/csv.h"
#include "core/rng.h"
#include "fit/bootstrap.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/fitjson.h"
#include "fit/holdout.h"
#include "fit/law.h"
#include "fit/predict.h"

#include <gsl/gsl_errno.h>
#include <math.h>

static const char csv_runs[] = "model,N params,D,loss,set\n"
                               "a,1e8,2e9,3.5,c4\n"
                               "b,2e8,4e9,3.2,c4\n"
                               "c,4e8,4e9,3.0,web\n"
                               "d,8e8,1.6e10,2.9,c4\n"
                               "e,1.6e9,3.2e10,2.7,web\n";

static cs_table *table_of(const char *text, const char *name)
{
    cs_table *t = NULL;

    assert_int_equal(cs_csv_read_mem(text, strlen(text), name, NULL, &t), CS_OK);
    return t;
}

/* Builds with one --where (may be NULL) and a holdout; returns the status, *ds on success. */
static int build(const cs_table *t, const cs_law *law, const char *where, const char *holdout,
                 bool held_out, const char *key, cs_dataset **ds)
{
    static const char *maps[] = {"N=N params", "L=loss"};
    cs_dataset_params p = cs_dataset_default_params();

    p.maps = maps;
    p.nmaps = 2;
    p.wheres = &where;
    p.nwheres = where ? 1 : 0;
    p.holdout = holdout;
    p.held_out = held_out;
    p.key = key;
    *ds = NULL;
    return cs_dataset_build(t, law, &p, ds);
}

/* Expressions on either side, && and ||, a column name with a space, text columns. */
static void test_predicates(void **state)
{
    cs_table *t = table_of(csv_runs, "runs.csv");
    cs_law *law = cs_law_builtin("chinchilla");
    cs_dataset *ds = NULL;

    (void)state;
    assert_int_equal(build(t, law, "D/N > 15", NULL, false, NULL, &ds), CS_OK);
    assert_int_equal(cs_dataset_n(ds), 4); /* D/N = 20, 20, 10, 20, 20 */
    assert_int_equal(cs_dataset_n_filtered(ds), 1);
    cs_dataset_free(ds);
    assert_int_equal(build(t, law, "N params >= 4e8 && set == c4", NULL, false, NULL, &ds), CS_OK);
    assert_int_equal(cs_dataset_n(ds), 1);
    assert_true(cs_dataset_cols(ds)[0][0] == 8e8);
    cs_dataset_free(ds);
    assert_int_equal(build(t, law, "N < 2e8 || set == web && N*D > 1e19", NULL, false, NULL, &ds),
                     CS_OK);
    assert_int_equal(cs_dataset_n(ds), 2); /* a (N < 2e8), e (web, N*D = 5.12e19) */
    assert_int_equal(cs_dataset_row_line(ds, 1), 6);
    cs_dataset_free(ds);
    assert_int_equal(build(t, law, "2*N == 4e8", NULL, false, NULL, &ds), CS_OK);
    assert_int_equal(cs_dataset_n(ds), 1);
    cs_dataset_free(ds);
    cs_law_free(law);
    cs_table_free(t);
}

/* The two parts of a hold-out, the key carried along, subsets. */
static void test_holdout_parts(void **state)
{
    cs_table *t = table_of(csv_runs, "runs.csv");
    cs_law *law = cs_law_builtin("chinchilla");
    cs_dataset *fit = NULL;
    cs_dataset *held = NULL;
    cs_dataset *sub = NULL;
    size_t rows[2] = {2, 0};

    (void)state;
    assert_int_equal(build(t, law, "set == c4", "N > 1.5e8", false, "6*N*D", &fit), CS_OK);
    assert_int_equal(build(t, law, "set == c4", "N > 1.5e8", true, "6*N*D", &held), CS_OK);
    assert_int_equal(cs_dataset_n(fit), 1);
    assert_int_equal(cs_dataset_n(held), 2);
    assert_int_equal(cs_dataset_n_holdout(fit), 2);
    assert_int_equal(cs_dataset_n_holdout(held), 1);
    assert_int_equal(cs_dataset_n_filtered(held), 2);
    assert_true(cs_dataset_target(held)[1] == 2.9);
    assert_non_null(cs_dataset_key(held));
    assert_true(fabs(cs_dataset_key(held)[0] - 6 * 2e8 * 4e9) < 1e3);
    assert_non_null(cs_dataset_key(fit));
    assert_int_equal(build(t, law, NULL, NULL, false, NULL, &sub), CS_OK);
    assert_null(cs_dataset_key(sub));
    cs_dataset_free(sub);
    assert_int_equal(cs_dataset_subset(held, rows, 1, &sub), CS_EINVAL); /* row 2 of 2 */
    rows[0] = 1;
    assert_int_equal(cs_dataset_subset(held, rows, 2, &sub), CS_OK);
    assert_int_equal(cs_dataset_n(sub), 2);
    assert_true(cs_dataset_target(sub)[0] == 2.9 && cs_dataset_target(sub)[1] == 3.2);
    assert_int_equal(cs_dataset_row_line(sub, 0), 5);
    assert_true(cs_dataset_key(sub)[1] == cs_dataset_key(held)[0]);
    cs_dataset_free(sub);
    cs_dataset_free(held);
    cs_dataset_free(fit);
    cs_law_free(law);
    cs_table_free(t);
}

/* Bad input: clear messages, nothing built. */
static void test_bad_input(void **state)
{
    cs_table *t = table_of(csv_runs, "runs.csv");
    cs_law *law = cs_law_builtin("chinchilla");
    cs_dataset *ds = NULL;

    (void)state;
    assert_int_equal(build(t, law, NULL, "N > 1e12", true, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("--holdout \"N > 1e12\" holds for none of the 5 points");
    assert_int_equal(build(t, law, NULL, "N > 1e12", false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("nothing to score the fit on");
    assert_int_equal(build(t, law, NULL, "D > 0", false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("--holdout \"D > 0\" holds for all 5 points: none is left to fit");
    assert_int_equal(build(t, law, "loss > 100", NULL, false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv: no rows left after --where");
    assert_int_equal(build(t, law, "set == nothing", NULL, false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("no rows left after --where");
    assert_int_equal(build(t, law, NULL, "N >", false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("--holdout \"N >\": expected a value after the operator");
    assert_int_equal(build(t, law, NULL, "N/(D-D) > 1", false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv:2: --holdout \"N/(D-D) > 1\": law: division by zero");
    assert_int_equal(build(t, law, "size*2 > 3", NULL, false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("--where \"size*2 > 3\": runs.csv has no column \"size\"");
    assert_int_equal(build(t, law, "N > (1", NULL, false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("expected ')'");
    assert_int_equal(build(t, law, "set > c4", NULL, false, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("only == and != compare text");
    assert_int_equal(build(t, law, NULL, NULL, false, "model", &ds), CS_EINPUT);
    tu_assert_errmsg_has("column \"model\" (model): expected a number, got \"a\"");
    assert_null(ds);
    cs_law_free(law);
    cs_table_free(t);
}

/* ---- scoring on synthetic data ----------------------------------------------------------- */

/* chinchilla with E = 1.8, A = 400, alpha = 0.34, B = 1100, beta = 0.28 on 6 sizes x 5 token
 * counts, 0.5% log-normal noise. */
static cs_table *synth_table(double noise)
{
    cs_table *t = cs_table_alloc("synth.csv");
    cs_rng r;
    size_t row = 0;

    assert_non_null(t);
    cs_rng_seed(&r, 11, 0);
    assert_int_equal(cs_table_add_col(t, "N", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "D", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "L", CS_COL_NUM, NULL), CS_OK);
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < 5; j++, row++) {
            double n = 1e7 * pow(3.0, i);
            double d = n * 5.0 * pow(2.0, j);
            double l = 1.8 + 400.0 / pow(n, 0.34) + 1100.0 / pow(d, 0.28);

            assert_int_equal(cs_table_append_row(t, row + 2), CS_OK);
            cs_table_set_num(t, row, 0, n);
            cs_table_set_num(t, row, 1, d);
            cs_table_set_num(t, row, 2, l * exp(noise * cs_rng_normal(&r)));
        }
    }
    return t;
}

/* Fits `law` to the points with N below 1e9 and scores it on the rest: the 5 runs of the
 * largest model, N = 2.43e9, three times the largest fitted. */
static cs_holdout_result *fit_and_score(const cs_table *t, cs_law *law, size_t nboot)
{
    cs_dataset_params p = cs_dataset_default_params();
    cs_fit_params fp = cs_fit_default_params();
    cs_boot_params bp = cs_boot_default_params();
    cs_dataset *fit_ds = NULL;
    cs_dataset *held = NULL;
    cs_fit_result *fit = NULL;
    cs_boot_result *boot = NULL;
    cs_holdout_result *hr = NULL;
    cs_predictor *pr;
    double lv[2] = {0.5, 0.9};

    p.holdout = "N > 1e9";
    assert_int_equal(cs_dataset_build(t, law, &p, &fit_ds), CS_OK);
    p.held_out = true;
    assert_int_equal(cs_dataset_build(t, law, &p, &held), CS_OK);
    assert_int_equal(cs_dataset_n(held), 5);
    fp.threads = 2;
    bp.n = nboot;
    if (cs_fit_run(law, fit_ds, &fp, &fit) != CS_OK ||
        (nboot && cs_boot_run(law, fit_ds, &fp, fit, &bp, &boot) != CS_OK))
        fail_msg("%s", cs_errmsg());
    pr = cs_predictor_from_fit(law, fit, boot);
    assert_non_null(pr);
    if (cs_holdout_score(pr, held, "N > 1e9", lv, 2, &hr) != CS_OK)
        fail_msg("%s", cs_errmsg());
    cs_predictor_free(pr);
    cs_boot_result_free(boot);
    cs_fit_result_free(fit);
    cs_dataset_free(held);
    cs_dataset_free(fit_ds);
    return hr;
}

static void test_scoring(void **state)
{
    cs_table *t = synth_table(0.005);
    cs_law *truth = cs_law_builtin("chinchilla");
    cs_law *wrong =
        cs_law_parse("L = exp(a)/N^alpha + exp(b)/D^beta", (const char *[]){"N", "D"}, 2);
    cs_holdout_result *hr;
    double sum = 0.0;

    (void)state;
    assert_int_equal(cs_law_set_grid(truth, "alpha=0.2:0.6:3 beta=0.2:0.6:3 e=0:1:2 a=4:8:2 "
                                            "b=5:9:2"),
                     CS_OK);
    assert_int_equal(cs_law_set_grid(wrong, "a=1:6:3 alpha=0.05:0.4:3 b=1:6:3 beta=0.05:0.4:3"),
                     CS_OK);
    hr = fit_and_score(t, truth, 200);
    assert_string_equal(hr->expr, "N > 1e9");
    assert_string_equal(hr->vname[0], "N");
    assert_string_equal(hr->vname[2], "L");
    assert_string_equal(hr->where[0], "synth.csv:27");
    for (size_t i = 0; i < hr->n; i++) {
        double n = hr->vars[i * 2];
        double d = hr->vars[i * 2 + 1];
        double l = 1.8 + 400.0 / pow(n, 0.34) + 1100.0 / pow(d, 0.28);

        assert_true(n > 1e9);
        assert_true(fabs(hr->rel_error[i] - (hr->predicted[i] / hr->observed[i] - 1)) < 1e-15);
        /* the true law extrapolated: within 1% of the noiseless truth */
        assert_true(fabs(hr->predicted[i] / l - 1.0) < 0.01);
        assert_true(hr->lo[i * 2] < hr->hi[i * 2] && hr->lo[i * 2 + 1] < hr->lo[i * 2]);
        sum += fabs(hr->rel_error[i]);
    }
    assert_true(fabs(hr->mean_abs_rel - sum / 5.0) < 1e-15);
    assert_true(hr->max_abs_rel >= hr->median_abs_rel && hr->median_abs_rel > 0);
    print_message("true law: mean |err| %.4f, max %.4f, coverage 50%% %.2f, 90%% %.2f\n",
                  hr->mean_abs_rel, hr->max_abs_rel, hr->coverage[0], hr->coverage[1]);
    assert_true(hr->mean_abs_rel < 0.01);
    assert_true(hr->coverage[1] >= 0.8); /* 5 points: at least 4 of 5 inside the 90% band */
    assert_int_equal(hr->nboot, 200);
    cs_holdout_result_free(hr);
    /* the law without an irreducible loss fits the small models but misses the large ones */
    hr = fit_and_score(t, wrong, 0);
    print_message("wrong law: mean |err| %.4f, coverage 90%% %.2f\n", hr->mean_abs_rel,
                  hr->coverage[1]);
    assert_true(hr->mean_abs_rel > 0.015);
    assert_int_equal(hr->nboot, 0);
    cs_holdout_result_free(hr);
    cs_law_free(wrong);
    cs_law_free(truth);
    cs_table_free(t);
}

/* The optional JSON parts survive a write and a read; a file without them reads as before. */
static void test_json_round_trip(void **state)
{
    cs_table *t = synth_table(0.005);
    cs_law *law = cs_law_builtin("chinchilla");
    cs_dataset_params p = cs_dataset_default_params();
    cs_fit_params fp = cs_fit_default_params();
    cs_dataset *ds = NULL;
    cs_dataset *held = NULL;
    cs_fit_result *fit = NULL;
    cs_fitjson *fj = NULL;
    cs_fitjson *back = NULL;
    cs_predictor *pr;
    double lv[3] = {0.5, 0.8, 0.9};
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    assert_int_equal(cs_law_set_grid(law, "alpha=0.3 beta=0.3 e=0.5 a=6 b=7"), CS_OK);
    p.holdout = "N > 1e9";
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_OK);
    p.held_out = true;
    assert_int_equal(cs_dataset_build(t, law, &p, &held), CS_OK);
    assert_int_equal(cs_fit_run(law, ds, &fp, &fit), CS_OK);
    assert_int_equal(cs_fitjson_from_fit(law, NULL, 0, ds, fit, NULL, &fj), CS_OK);
    pr = cs_predictor_from_fit(law, fit, NULL);
    assert_non_null(pr);
    assert_int_equal(cs_holdout_score(pr, held, "N > 1e9", lv, 3, &fj->holdout), CS_OK);
    fj->select_cv = strdup("largest");
    fj->select_key = strdup("6*N*D");
    fj->select_folds = 1;
    fj->candidates = calloc(2, sizeof *fj->candidates);
    fj->candidates[0] = (cs_fitjson_candidate){strdup("chinchilla"), 0.01, 0.02, 0, 0.0};
    fj->candidates[1] = (cs_fitjson_candidate){strdup("L = a*N^b"), NAN, NAN, 1, 12.5};
    fj->ncandidates = 2;
    f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(cs_fitjson_write(f, fj), CS_OK);
    assert_int_equal(fclose(f), 0);
    if (cs_fitjson_read_mem(buf, len, "rt.json", &back) != CS_OK)
        fail_msg("%s", cs_errmsg());
    assert_non_null(back->holdout);
    assert_int_equal(back->holdout->n, 5);
    assert_int_equal(back->holdout->nlevels, 3);
    assert_string_equal(back->holdout->expr, "N > 1e9");
    assert_string_equal(back->holdout->vname[1], "D");
    assert_string_equal(back->holdout->vname[2], "L");
    assert_string_equal(back->holdout->where[4], fj->holdout->where[4]);
    for (size_t i = 0; i < 5; i++) {
        assert_true(back->holdout->predicted[i] == fj->holdout->predicted[i]);
        assert_true(back->holdout->vars[i * 2 + 1] == fj->holdout->vars[i * 2 + 1]);
        assert_true(back->holdout->hi[i * 3 + 2] == fj->holdout->hi[i * 3 + 2]);
    }
    assert_true(back->holdout->mean_abs_rel == fj->holdout->mean_abs_rel);
    assert_true(back->holdout->coverage[1] == fj->holdout->coverage[1]);
    assert_int_equal(back->ncandidates, 2);
    assert_string_equal(back->candidates[1].law, "L = a*N^b");
    assert_true(isnan(back->candidates[1].mean_abs_err) && back->candidates[1].daic == 12.5);
    assert_string_equal(back->select_key, "6*N*D");
    cs_fitjson_free(back);
    /* without the optional parts */
    cs_holdout_result_free(fj->holdout);
    fj->holdout = NULL;
    fj->ncandidates = 0;
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    assert_int_equal(cs_fitjson_write(f, fj), CS_OK);
    assert_int_equal(fclose(f), 0);
    assert_null(strstr(buf, "\"holdout\""));
    assert_int_equal(cs_fitjson_read_mem(buf, len, "old.json", &back), CS_OK);
    assert_null(back->holdout);
    assert_int_equal(back->ncandidates, 0);
    cs_fitjson_free(back);
    fj->ncandidates = 2; /* freed with fj */
    free(buf);
    cs_predictor_free(pr);
    cs_fitjson_free(fj);
    cs_fit_result_free(fit);
    cs_dataset_free(held);
    cs_dataset_free(ds);
    cs_law_free(law);
    cs_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_predicates),      cmocka_unit_test(test_holdout_parts),
        cmocka_unit_test(test_bad_input),       cmocka_unit_test(test_scoring),
        cmocka_unit_test(test_json_round_trip),
    };

    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
