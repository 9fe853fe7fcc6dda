/* cli/compare.c: `ctxscale compare` — rank laws by how well they extrapolate: cross-validation
 * that trains on the smaller-compute points and tests on the larger (fit/compare.h), plus the
 * Huber likelihood with AIC and BIC; a table for people, --json for programs.
 * Test: tests/cli/test_predict.sh.
 */
#include "cli/cli.h"
#include "cli/fitdata.h"
#include "cli/opt.h"
#include "core/afile.h"
#include "core/error.h"
#include "core/parse.h"
#include "fit/compare.h"
#include "fit/dataset.h"
#include "fit/fit.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_LAWS = 256,
    OPT_DERIVE,
    OPT_WHERE,
    OPT_DROP_TOP,
    OPT_BY,
    OPT_CV,
    OPT_FOLDS,
    OPT_TRAIN_FRAC,
    OPT_METHOD,
    OPT_DELTA,
    OPT_SPACE,
    OPT_MAX_ITER,
    OPT_NO_LIK,
};

static const cs_cli_opt compare_opts[] = {
    {"laws", OPT_LAWS, required_argument, "A,B,...", "built-in laws to compare"},
    {"law", 'l', required_argument, "LAW", "one more law: built-in name or formula (repeatable)"},
    {"map", 'm', required_argument, "NAME=COL", "read law variable NAME from column COL"},
    {"derive", OPT_DERIVE, required_argument, "NAME=EXPR", "compute NAME per row, e.g. D=C/(6*N)"},
    {"where", OPT_WHERE, required_argument, "PRED", "keep rows where it holds, e.g. 'N > 1e7'"},
    {"drop-top", OPT_DROP_TOP, required_argument, "K",
     "leave out the K rows with the largest target"},
    {"by", OPT_BY, required_argument, "EXPR", "order points by EXPR (default C, else 6*N*D)"},
    {"cv", OPT_CV, required_argument, "S", "extrapolate (default) or largest"},
    {"folds", OPT_FOLDS, required_argument, "K", "test blocks above the training part (3)"},
    {"train-frac", OPT_TRAIN_FRAC, required_argument, "F", "share of points only trained on (0.5)"},
    {"method", OPT_METHOD, required_argument, "M", "huber (default), lsq or huber-lik"},
    {"delta", OPT_DELTA, required_argument, "D", "Huber threshold (default 1e-3)"},
    {"space", OPT_SPACE, required_argument, "S", "residuals in log (default) or linear space"},
    {"threads", 't', required_argument, "N", "worker threads (default: online CPUs)"},
    {"max-iter", OPT_MAX_ITER, required_argument, "N", "iterations per start (default 2000)"},
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

#define MAX_LIST 64

typedef struct compare_args {
    const char *laws[MAX_LIST];
    const char *maps[MAX_LIST];
    const char *derives[MAX_LIST];
    const char *wheres[MAX_LIST];
    size_t nlaws, nmaps, nderives, nwheres;
    char *copies[MAX_LIST]; /* the --laws arguments, split in place */
    size_t ncopies;
    const char *by;
    const char *json;
    const char *input;
    bool force;
    bool quiet;
    bool verbose;
    size_t drop_top;
    cs_fit_params fp;
    cs_compare_params cp;
} compare_args;

static int push_str(const char **list, size_t *n, const char *arg, const char *opt)
{
    if (*n == MAX_LIST)
        return cs_fail(CS_EINPUT, "--%s: at most %d entries", opt, MAX_LIST);
    list[(*n)++] = arg;
    return CS_OK;
}

static int parse_size(const char *s, size_t *out, const char *what, long min)
{
    long v;
    int st = cs_parse_long(s, &v, what);

    if (st == CS_OK && v < min)
        st = cs_fail(CS_EINPUT, "%s: expected a whole number >= %ld, got %ld", what, min, v);
    if (st == CS_OK)
        *out = (size_t)v;
    return st;
}

/* --laws a,b,c: the names are added to the list (built-in names contain no commas). */
static int take_laws(compare_args *a, const char *arg)
{
    char *save = NULL;
    size_t len = strlen(arg) + 1;
    char *copy = malloc(len);
    int st = CS_OK;

    if (copy == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    if (a->ncopies == MAX_LIST) {
        free(copy);
        return cs_fail(CS_EINPUT, "--laws: at most %d times", MAX_LIST);
    }
    memcpy(copy, arg, len);
    a->copies[a->ncopies++] = copy;
    for (char *tok = strtok_r(copy, ", ", &save); tok && st == CS_OK;
         tok = strtok_r(NULL, ", ", &save)) {
        if (!cs_cli_is_builtin(tok))
            return cs_fail(CS_EINPUT,
                           "--laws: '%s' is not a built-in law (give formulas with --law)", tok);
        st = push_str(a->laws, &a->nlaws, tok, "laws");
    }
    return st;
}

static int take_fit_opt(int c, const char *arg, compare_args *a)
{
    switch (c) {
    case OPT_METHOD: return cs_fit_method_parse(arg, &a->fp.method);
    case OPT_DELTA: return cs_parse_double_ex(arg, &a->fp.delta, CS_PARSE_POSITIVE, "--delta");
    case OPT_SPACE:
        if (strcmp(arg, "log") != 0 && strcmp(arg, "linear") != 0)
            return cs_fail(CS_EINPUT, "--space: expected log or linear, got \"%s\"", arg);
        a->fp.log_space = strcmp(arg, "log") == 0;
        return CS_OK;
    case 't': return parse_size(arg, &a->fp.threads, "--threads", 1);
    case OPT_MAX_ITER: return parse_size(arg, &a->fp.max_iter, "--max-iter", 1);
    case OPT_CV: return cs_compare_cv_parse(arg, &a->cp.cv);
    case OPT_FOLDS: return parse_size(arg, &a->cp.folds, "--folds", 1);
    case OPT_TRAIN_FRAC: {
        int st = cs_parse_double(arg, &a->cp.train_frac, "--train-frac");

        if (st == CS_OK && !(a->cp.train_frac > 0 && a->cp.train_frac < 1))
            st = cs_fail(CS_EINPUT, "--train-frac: expected a number between 0 and 1, got %s", arg);
        return st;
    }
    case OPT_NO_LIK: a->cp.likelihood = false; return CS_OK;
    default: return CS_OK;
    }
}

static int take_opt(int c, const char *arg, compare_args *a)
{
    switch (c) {
    case OPT_LAWS: return take_laws(a, arg);
    case 'l': return push_str(a->laws, &a->nlaws, arg, "law");
    case 'm': return push_str(a->maps, &a->nmaps, arg, "map");
    case OPT_DERIVE: return push_str(a->derives, &a->nderives, arg, "derive");
    case OPT_WHERE: return push_str(a->wheres, &a->nwheres, arg, "where");
    case OPT_DROP_TOP: return parse_size(arg, &a->drop_top, "--drop-top", 0);
    case OPT_BY: a->by = arg; return CS_OK;
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case 'q': a->quiet = true; return CS_OK;
    case 'v': a->verbose = true; return CS_OK;
    default: return take_fit_opt(c, arg, a);
    }
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, compare_args *a)
{
    cs_cli_parser ps;
    int c;

    memset(a, 0, sizeof *a);
    a->fp = cs_fit_default_params();
    a->cp = cs_compare_default_params();
    cs_cli_parser_init(&ps, &compare_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        if (c == '?')
            return 2;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(&compare_cmd, stdout);
            return 0;
        }
        if (take_opt(c, optarg, a) != CS_OK)
            return cs_cli_usage_error(&compare_cmd, "%s", cs_errmsg());
    }
    if (optind + 1 != argc)
        return cs_cli_usage_error(&compare_cmd, optind == argc
                                                    ? "give one CSV file or run directory"
                                                    : "more than one input given");
    if (a->nlaws < 2)
        return cs_cli_usage_error(&compare_cmd, "give at least two laws (--laws A,B or --law)");
    a->input = argv[optind];
    if (a->verbose)
        a->cp.progress = stderr;
    return -1;
}

/* ---- JSON --------------------------------------------------------------------------------- */

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *json_law(const cs_cli_comparison *c, size_t k, size_t rank)
{
    const cs_compare_law *l = &c->res->laws[k];
    json_t *o = json_object();
    json_t *fm = json_array();
    json_t *est = json_array();

    for (size_t f = 0; f < c->res->nfolds; f++)
        json_array_append_new(fm, jnum(l->fold_mean[f]));
    for (size_t j = 0; j < l->nparams; j++)
        json_array_append_new(est, jnum(l->estimate[j]));
    json_object_set_new(o, "law", json_string(c->names[k]));
    json_object_set_new(o, "rank", json_integer((json_int_t)rank));
    json_object_set_new(o, "parameters", json_integer((json_int_t)l->nparams));
    json_object_set_new(o, "tested", json_integer((json_int_t)l->n_scored));
    json_object_set_new(o, "folds_failed", json_integer((json_int_t)l->folds_failed));
    json_object_set_new(o, "fold_error", l->fold_error ? json_string(l->fold_error) : json_null());
    json_object_set_new(o, "mean_abs_error", jnum(l->mean_abs_err));
    json_object_set_new(o, "median_abs_error", jnum(l->median_abs_err));
    json_object_set_new(o, "max_abs_error", jnum(l->max_abs_err));
    json_object_set_new(o, "fold_mean_abs_error", fm);
    json_object_set_new(o, "estimate", est);
    json_object_set_new(o, "nll", jnum(l->nll));
    json_object_set_new(o, "aic", jnum(l->aic));
    json_object_set_new(o, "bic", jnum(l->bic));
    json_object_set_new(o, "daic", jnum(l->daic));
    json_object_set_new(o, "weight", jnum(l->weight));
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
        json_object_set_new(fo, "train_key_max", jnum(r->train_key_hi[f]));
        json_object_set_new(fo, "test_key_min", jnum(r->fold_key_lo[f]));
        json_object_set_new(fo, "test_key_max", jnum(r->fold_key_hi[f]));
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

static void free_copies(compare_args *a)
{
    for (size_t k = 0; k < a->ncopies; k++)
        free(a->copies[k]);
}

static cs_dataset_params data_params(const compare_args *a)
{
    cs_dataset_params dp = cs_dataset_default_params();

    dp.maps = a->maps;
    dp.nmaps = a->nmaps;
    dp.derives = a->derives;
    dp.nderives = a->nderives;
    dp.wheres = a->wheres;
    dp.nwheres = a->nwheres;
    dp.drop_top = a->drop_top;
    dp.positive_target = a->fp.log_space;
    return dp;
}

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
        free_copies(&a);
        return rc;
    }
    st = a.json ? cs_afile_open(a.json, a.force, &af) : CS_OK;
    if (st == CS_OK)
        st = cs_cli_read_points(a.input, &t);
    dp = data_params(&a);
    if (st == CS_OK) {
        dp.key = a.by ? a.by : cs_cli_default_key(t, &dp);
        if (dp.key == NULL)
            st = cs_fail(CS_EINPUT, "%s has no C, N or D to order the points by; give --by EXPR",
                         a.input);
    }
    if (st == CS_OK)
        st = cs_cli_compare_laws(a.laws, a.nlaws, false, t, &dp, &a.fp, &a.cp, &c);
    if (st == CS_OK && !a.quiet && !(a.json && strcmp(a.json, "-") == 0))
        cs_cli_comparison_print(stdout, &c, cs_table_source(t), dp.key);
    if (st == CS_OK && af != NULL) {
        st = write_json(af, &c, cs_table_source(t), dp.key);
        af = NULL;
    }
    cs_afile_abort(af);
    cs_cli_comparison_clear(&c);
    cs_table_free(t);
    free_copies(&a);
    return cs_cli_report(&compare_cmd, st);
}
