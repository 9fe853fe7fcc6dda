/* cli/compare.c: `ctxscale compare` — rank laws by how well they extrapolate: cross-validation
 * that trains on the smaller-compute points and tests on the larger (fit/compare.h), plus the
 * Huber likelihood with AIC and BIC; a table for people, --json for programs.
 * Test: tests/cli/test_predict.sh.
 */
#include "cli/cli.h"
#include "cli/fitdata.h"
#include "cli/opt.h"
#include "cli/shared_opts.h"
#include "core/afile.h"
#include "core/error.h"
#include "fit/compare.h"
#include "fit/dataset.h"
#include "fit/fit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_NO_LIK = 256,
};

static const cs_cli_opt compare_opts[] = {
    CS_CLI_FIT_OPT_LAWS("built-in laws to compare"),
    {"law", 'l', required_argument, "LAW", "one more law: built-in name or formula (repeatable)"},
    CS_CLI_FIT_OPT_MAP,
    CS_CLI_FIT_OPT_DERIVE,
    CS_CLI_OPT_WHERE("PRED", "keep rows where it holds, e.g. 'N > 1e7'"),
    CS_CLI_FIT_OPT_DROP_TOP,
    CS_CLI_FIT_OPT_BY("order points by EXPR (default C, else 6*N*D)"),
    CS_CLI_FIT_OPT_CV("extrapolate (default) or largest"),
    CS_CLI_FIT_OPT_FOLDS("test blocks above the training part (3)"),
    CS_CLI_FIT_OPT_TRAIN_FRAC("share of points only trained on (0.5)"),
    CS_CLI_FIT_OPT_METHOD,
    CS_CLI_FIT_OPT_DELTA,
    CS_CLI_FIT_OPT_SPACE,
    CS_CLI_FIT_OPT_THREADS,
    CS_CLI_FIT_OPT_MAX_ITER,
    {"no-likelihood", OPT_NO_LIK, no_argument, NULL, "skip the fits to all points (no AIC)"},
    {"json", 'j', required_argument, "FILE", "also write the result as JSON (- for stdout)"},
    {"force", 'f', no_argument, NULL, "overwrite the JSON file if it exists"},
    {"quiet", 'q', no_argument, NULL, "print no table"},
    {"verbose", 'v', no_argument, NULL, "say which fit is running, on stderr"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd compare_cmd = {
    "compare",
    "[OPTIONS] FILE.csv|RUNS_DIR --laws A,B,... [--law FORMULA ...]",
    "Rank scaling laws by extrapolation: order the points by compute, fit each law to the\n"
    "smaller part and score its predictions on the larger (forward chaining over folds), and\n"
    "compare Huber likelihoods (AIC, BIC) of fits to all points.",
    compare_opts,
    "The smallest --train-frac of the points (ties kept together) are only trained on; the\n"
    "rest is cut into --folds blocks in key order, and fold j trains on everything below\n"
    "block j. --cv largest keeps the last fold only (leave the largest scale out). Laws rank\n"
    "by the mean error over all tested points (|pred/obs - 1| with log residuals); a law that\n"
    "fails on a fold ranks last. Exit status: 0 on success, 2 for bad input.\n"
    "Example: ctxscale compare runs.csv --laws chinchilla,kaplan,ndt --cv extrapolate\n",
};

typedef struct compare_args {
    cs_cli_laws laws; /* --laws and --law */
    cs_cli_fit_opts o;
    const char *json;
    const char *input;
    bool force;
    bool quiet;
    bool verbose;
} compare_args;

/* One option into *a (a compare_args). CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, void *ctx)
{
    compare_args *a = ctx;

    switch (c) {
    case CS_CLI_KEY_LAWS: return cs_cli_laws_take(&a->laws, arg, " (give formulas with --law)");
    case 'l': return cs_cli_laws_add(&a->laws, arg, "law");
    case OPT_NO_LIK: a->o.cp.likelihood = false; return CS_OK;
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case 'q': a->quiet = true; return CS_OK;
    case 'v': a->verbose = true; return CS_OK;
    default: return cs_cli_fit_opts_take(&a->o, c, arg);
    }
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, compare_args *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    cs_cli_fit_opts_init(&a->o);
    if ((rc = cs_cli_parse_opts(&compare_cmd, argc, argv, take_opt, a)) >= 0)
        return rc;
    if (optind + 1 != argc)
        return cs_cli_usage_error(&compare_cmd, optind == argc
                                                    ? "give one CSV file or run directory"
                                                    : "more than one input given");
    if (a->laws.n < 2)
        return cs_cli_usage_error(&compare_cmd, "give at least two laws (--laws A,B or --law)");
    a->input = argv[optind];
    if (a->verbose)
        a->o.cp.progress = stderr;
    return -1;
}

/* ---- JSON --------------------------------------------------------------------------------- */

static json_t *json_law(const cs_cli_comparison *c, size_t k, size_t rank)
{
    const cs_compare_law *l = &c->res->laws[k];
    json_t *o = json_object();
    json_t *fm = json_array();
    json_t *est = json_array();

    for (size_t f = 0; f < c->res->nfolds; f++)
        json_array_append_new(fm, cs_cli_json_num(l->fold_mean[f]));
    for (size_t j = 0; j < l->nparams; j++)
        json_array_append_new(est, cs_cli_json_num(l->estimate[j]));
    json_object_set_new(o, "law", json_string(c->names[k]));
    json_object_set_new(o, "rank", json_integer((json_int_t)rank));
    json_object_set_new(o, "parameters", json_integer((json_int_t)l->nparams));
    json_object_set_new(o, "tested", json_integer((json_int_t)l->n_scored));
    json_object_set_new(o, "folds_failed", json_integer((json_int_t)l->folds_failed));
    json_object_set_new(o, "fold_error", l->fold_error ? json_string(l->fold_error) : json_null());
    json_object_set_new(o, "mean_abs_error", cs_cli_json_num(l->mean_abs_err));
    json_object_set_new(o, "median_abs_error", cs_cli_json_num(l->median_abs_err));
    json_object_set_new(o, "max_abs_error", cs_cli_json_num(l->max_abs_err));
    json_object_set_new(o, "fold_mean_abs_error", fm);
    json_object_set_new(o, "estimate", est);
    json_object_set_new(o, "nll", cs_cli_json_num(l->nll));
    json_object_set_new(o, "aic", cs_cli_json_num(l->aic));
    json_object_set_new(o, "bic", cs_cli_json_num(l->bic));
    json_object_set_new(o, "daic", cs_cli_json_num(l->daic));
    json_object_set_new(o, "weight", cs_cli_json_num(l->weight));
    return o;
}

static json_t *json_result(const cs_cli_comparison *c, const char *source, const char *key)
{
    const cs_compare_result *r = c->res;
    json_t *o = json_object();
    json_t *folds = json_array();
    json_t *laws = json_array();
    json_t *skipped = json_array();

    for (size_t f = 0; f < r->nfolds; f++) {
        json_t *fo = json_object();

        json_object_set_new(fo, "train", json_integer((json_int_t)r->fold_train[f]));
        json_object_set_new(fo, "test", json_integer((json_int_t)r->fold_test[f]));
        json_object_set_new(fo, "train_key_max", cs_cli_json_num(r->train_key_hi[f]));
        json_object_set_new(fo, "test_key_min", cs_cli_json_num(r->fold_key_lo[f]));
        json_object_set_new(fo, "test_key_max", cs_cli_json_num(r->fold_key_hi[f]));
        json_array_append_new(folds, fo);
    }
    for (size_t q = 0; q < r->nlaws; q++)
        json_array_append_new(laws, json_law(c, r->rank[q], q + 1));
    for (size_t k = 0; k < c->nskipped; k++)
        json_array_append_new(skipped, json_string(c->skipped[k]));
    json_object_set_new(o, "format", json_string("ctxscale-compare"));
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "source", json_string(source));
    json_object_set_new(o, "points", json_integer((json_int_t)r->n));
    json_object_set_new(o, "key", json_string(key));
    json_object_set_new(o, "cv", json_string(cs_compare_cv_name(r->cv)));
    json_object_set_new(o, "space", json_string(r->log_space ? "log" : "linear"));
    json_object_set_new(o, "folds", folds);
    json_object_set_new(o, "laws", laws);
    json_object_set_new(o, "skipped", skipped);
    json_object_set_new(o, "best", json_string(c->names[r->rank[0]]));
    return o;
}

static int write_json(cs_afile *af, const cs_cli_comparison *c, const char *source, const char *key)
{
    json_t *root = json_result(c, source, key);
    FILE *f = cs_afile_stream(af);

    if (root == NULL || json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 ||
        fputc('\n', f) == EOF || ferror(f)) {
        json_decref(root);
        cs_afile_abort(af);
        return cs_fail(CS_EIO, "compare: cannot write the JSON result");
    }
    json_decref(root);
    return cs_afile_commit(af);
}

/* ---- main --------------------------------------------------------------------------------- */

int cs_cli_compare(int argc, char **argv)
{
    compare_args a;
    cs_afile *af = NULL;
    cs_table *t = NULL;
    cs_cli_comparison c;
    cs_dataset_params dp;
    int rc = parse_args(argc, argv, &a);
    int st;

    memset(&c, 0, sizeof c);
    if (rc >= 0) {
        cs_cli_laws_clear(&a.laws);
        return rc;
    }
    st = a.json ? cs_afile_open(a.json, a.force, &af) : CS_OK;
    if (st == CS_OK)
        st = cs_cli_read_points(a.input, &t);
    dp = cs_cli_fit_opts_data(&a.o);
    if (st == CS_OK) {
        dp.key = a.o.by ? a.o.by : cs_cli_default_key(t, &dp);
        if (dp.key == NULL)
            st = cs_fail(CS_EINPUT, "%s has no C, N or D to order the points by; give --by EXPR",
                         a.input);
    }
    if (st == CS_OK)
        st = cs_cli_compare_laws(a.laws.names, a.laws.n, false, t, &dp, &a.o.fp, &a.o.cp, &c);
    if (st == CS_OK && !a.quiet && !(a.json && strcmp(a.json, "-") == 0))
        cs_cli_comparison_print(stdout, &c, cs_table_source(t), dp.key);
    if (st == CS_OK && af != NULL) {
        st = write_json(af, &c, cs_table_source(t), dp.key);
        af = NULL;
    }
    cs_afile_abort(af);
    cs_cli_comparison_clear(&c);
    cs_table_free(t);
    cs_cli_laws_clear(&a.laws);
    return cs_cli_report(&compare_cmd, st);
}
