/* cli/fit.c: `ctxscale fit` — fit a scaling law (a built-in or any formula) to a CSV file or a
 * directory of run logs: robust multi-start fit (fit/fit.h), bootstrap intervals
 * (fit/bootstrap.h), a table for people on stdout and the result as JSON (fit/fitjson.h) for
 * programs. Test: tests/cli/test_fit.sh. */
#include "cli/cli.h"
#include "cli/opt.h"
#include "core/afile.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/parse.h"
#include "core/runlog_read.h"
#include "fit/bootstrap.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/fitjson.h"
#include "fit/law.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    OPT_DERIVE = 256,
    OPT_WHERE,
    OPT_DROP_TOP,
    OPT_METHOD,
    OPT_DELTA,
    OPT_SPACE,
    OPT_GRID,
    OPT_POSITIVE,
    OPT_QUANTITY,
    OPT_BUDGET,
    OPT_LEVEL,
    OPT_SEED,
    OPT_GROUP,
    OPT_MAX_ITER,
    OPT_OPTIMIZER,
};

static const cs_cli_opt fit_opts[] = {
    {"law", 'l', required_argument, "LAW", "built-in law name or formula (default chinchilla)"},
    {"map", 'm', required_argument, "NAME=COL", "read law variable NAME from column COL"},
    {"derive", OPT_DERIVE, required_argument, "NAME=EXPR", "compute NAME per row, e.g. D=C/(6*N)"},
    {"where", OPT_WHERE, required_argument, "'COL OP V'",
     "keep rows where it holds (== != < <= > >=)"},
    {"drop-top", OPT_DROP_TOP, required_argument, "K",
     "leave out the K rows with the largest target"},
    {"method", OPT_METHOD, required_argument, "M", "huber (default), lsq or huber-lik"},
    {"delta", OPT_DELTA, required_argument, "D", "Huber threshold (default 1e-3)"},
    {"space", OPT_SPACE, required_argument, "S", "residuals in log (default) or linear space"},
    {"grid", OPT_GRID, required_argument, "SPEC", "starting grid, e.g. 'alpha=0:2:5 e=-1:1:5'"},
    {"positive", OPT_POSITIVE, required_argument, "NAMES", "parameters that must be > 0"},
    {"quantity", OPT_QUANTITY, required_argument, "NAME=EXPR",
     "report a function of the parameters"},
    {"budget", OPT_BUDGET, required_argument, "C",
     "report N_opt, D_opt, D/N at C FLOPs (chinchilla)"},
    {"bootstrap", 'b', required_argument, "N", "bootstrap refits for intervals (default 0)"},
    {"level", OPT_LEVEL, required_argument, "P", "confidence level (default 0.95)"},
    {"seed", OPT_SEED, required_argument, "S", "bootstrap seed (default 1)"},
    {"group", OPT_GROUP, required_argument, "COL", "resample whole groups of rows by COL"},
    {"threads", 't', required_argument, "N", "worker threads (default: online CPUs)"},
    {"max-iter", OPT_MAX_ITER, required_argument, "N", "iterations per start (default 2000)"},
    {"optimizer", OPT_OPTIMIZER, required_argument, "O", "bfgs (default) or gsl-bfgs2"},
    {"json", 'j', required_argument, "FILE", "also write the result as JSON (- for stdout)"},
    {"force", 'f', no_argument, NULL, "overwrite the JSON file if it exists"},
    {"quiet", 'q', no_argument, NULL, "print no table"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd fit_cmd = {
    "fit",
    "[OPTIONS] FILE.csv|RUNS_DIR",
    "Fit a scaling law to points from a CSV file (- for stdin) or a directory of run logs: a\n"
    "robust multi-start fit (Hoffmann et al.'s Huber objective on log residuals by default),\n"
    "with bootstrap standard errors and percentile intervals.",
    fit_opts,
    "Laws: chinchilla, kaplan, power, power+const, xiong-context, tao-vocab, ndt, or a\n"
    "formula such as 'L = E + A/N^alpha + B/D^beta' (names that are columns, --map or\n"
    "--derive names are variables; the others are parameters). Each law variable and the\n"
    "target comes from a --derive, a --map or a column of that name. Exit status: 0 on\n"
    "success, 1 when no start converged, 2 for bad input. Epoch's replication of Hoffmann et\n"
    "al.'s Approach 3:\n"
    "  ctxscale fit svg_extracted_data.csv --map N='Model Size' --map C='Training FLOP' \\\n"
    "      --map L=loss --derive 'D=C/(6*N)' --drop-top 5 --bootstrap 1000 --budget 5.76e23\n",
};

#define MAX_LIST 64

typedef struct fit_args {
    const char *maps[MAX_LIST];
    const char *derives[MAX_LIST];
    const char *wheres[MAX_LIST];
    const char *quantities[MAX_LIST];
    double budgets[MAX_LIST];
    size_t nmaps, nderives, nwheres, nquantities, nbudgets;
    const char *law;
    const char *grid;
    const char *positive;
    const char *group;
    const char *json;
    const char *input;
    bool force;
    bool quiet;
    size_t drop_top;
    cs_fit_params fp;
    cs_boot_params bp;
} fit_args;

/* ---- options ------------------------------------------------------------------------------ */

static int push_str(const char **list, size_t *n, const char *arg, const char *opt)
{
    if (*n == MAX_LIST)
        return cs_fail(CS_EINPUT, "--%s: at most %d times", opt, MAX_LIST);
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

static int take_budget(fit_args *a, const char *arg)
{
    if (a->nbudgets == MAX_LIST)
        return cs_fail(CS_EINPUT, "--budget: at most %d times", MAX_LIST);
    return cs_parse_double_ex(arg, &a->budgets[a->nbudgets++], CS_PARSE_POSITIVE, "--budget");
}

static int take_method_opt(int c, const char *arg, fit_args *a)
{
    int64_t seed;
    int st;

    switch (c) {
    case OPT_METHOD: return cs_fit_method_parse(arg, &a->fp.method);
    case OPT_DELTA: return cs_parse_double_ex(arg, &a->fp.delta, CS_PARSE_POSITIVE, "--delta");
    case OPT_SPACE:
        if (strcmp(arg, "log") != 0 && strcmp(arg, "linear") != 0)
            return cs_fail(CS_EINPUT, "--space: expected log or linear, got \"%s\"", arg);
        a->fp.log_space = strcmp(arg, "log") == 0;
        return CS_OK;
    case OPT_OPTIMIZER:
        if (strcmp(arg, "bfgs") != 0 && strcmp(arg, "gsl-bfgs2") != 0)
            return cs_fail(CS_EINPUT, "--optimizer: expected bfgs or gsl-bfgs2, got \"%s\"", arg);
        a->fp.optimizer = strcmp(arg, "bfgs") == 0 ? CS_FIT_OPT_BFGS : CS_FIT_OPT_GSL_BFGS2;
        return CS_OK;
    case 't': return parse_size(arg, &a->fp.threads, "--threads", 1);
    case OPT_MAX_ITER: return parse_size(arg, &a->fp.max_iter, "--max-iter", 1);
    case 'b': return parse_size(arg, &a->bp.n, "--bootstrap", 0);
    case OPT_SEED:
        st = cs_parse_count(arg, &seed, "--seed");
        a->bp.seed = (uint64_t)seed;
        return st;
    case OPT_LEVEL:
        st = cs_parse_double(arg, &a->bp.level, "--level");
        if (st == CS_OK && !(a->bp.level > 0.0 && a->bp.level < 1.0))
            st = cs_fail(CS_EINPUT, "--level: expected a number between 0 and 1, got %s", arg);
        return st;
    default: return CS_OK;
    }
}

/* One option into *a. CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, fit_args *a)
{
    switch (c) {
    case 'l': a->law = arg; return CS_OK;
    case 'm': return push_str(a->maps, &a->nmaps, arg, "map");
    case OPT_DERIVE: return push_str(a->derives, &a->nderives, arg, "derive");
    case OPT_WHERE: return push_str(a->wheres, &a->nwheres, arg, "where");
    case OPT_QUANTITY: return push_str(a->quantities, &a->nquantities, arg, "quantity");
    case OPT_BUDGET: return take_budget(a, arg);
    case OPT_DROP_TOP: return parse_size(arg, &a->drop_top, "--drop-top", 0);
    case OPT_GRID: a->grid = arg; return CS_OK;
    case OPT_POSITIVE: a->positive = arg; return CS_OK;
    case OPT_GROUP: a->group = arg; return CS_OK;
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case 'q': a->quiet = true; return CS_OK;
    default: return take_method_opt(c, arg, a);
    }
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, fit_args *a)
{
    cs_cli_parser ps;
    int c;

    memset(a, 0, sizeof *a);
    a->law = "chinchilla";
    a->fp = cs_fit_default_params();
    a->bp = cs_boot_default_params();
    a->bp.n = 0;
    cs_cli_parser_init(&ps, &fit_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        if (c == '?')
            return 2;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(&fit_cmd, stdout);
            return 0;
        }
        if (take_opt(c, optarg, a) != CS_OK)
            return cs_cli_usage_error(&fit_cmd, "%s", cs_errmsg());
    }
    if (optind + 1 != argc)
        return cs_cli_usage_error(&fit_cmd, optind == argc ? "give one CSV file or run directory"
                                                           : "more than one input given");
    a->input = argv[optind];
    if (a->group && a->bp.n == 0)
        return cs_cli_usage_error(&fit_cmd, "--group only matters with --bootstrap N");
    a->bp.by_group = a->group != NULL;
    return -1;
}

/* ---- input, law, data --------------------------------------------------------------------- */

static bool is_dir(const char *path)
{
    struct stat sb;

    return strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A CSV file, or one row per run log of a directory. */
static int read_input(const char *path, cs_table **t)
{
    char **paths = NULL;
    size_t n = 0;
    int st;

    if (!is_dir(path))
        return cs_csv_read(path, NULL, t);
    st = cs_runlog_read_list(path, &paths, &n);
    if (st == CS_OK && n == 0)
        st = cs_fail(CS_EINPUT, "%s: no run logs (*.h5) in this directory", path);
    if (st == CS_OK)
        st = cs_runlog_read_summaries((const char *const *)paths, n, path, t);
    cs_runlog_read_list_free(paths, n);
    return st;
}

static bool is_builtin(const char *name)
{
    size_t n;
    const cs_law_info *list = cs_law_builtin_list(&n);

    for (size_t k = 0; k < n; k++)
        if (strcmp(list[k].name, name) == 0)
            return true;
    return false;
}

/* The formula's variables: every column and every --map and --derive name. */
static cs_law *parse_formula(const fit_args *a, const cs_table *t)
{
    size_t nc = cs_table_ncols(t);
    size_t n = 0;
    const char **names = calloc(nc + 2 * MAX_LIST + 1, sizeof *names);
    char buf[2 * MAX_LIST][CS_LAW_MAX_NAME + 1];
    cs_law *law;

    if (names == NULL) {
        cs_fail(CS_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t c = 0; c < nc; c++)
        names[n++] = cs_table_col_name(t, c);
    for (size_t k = 0; k < a->nmaps + a->nderives; k++) {
        const char *s = k < a->nmaps ? a->maps[k] : a->derives[k - a->nmaps];
        size_t len = strcspn(s, "=");

        while (len > 0 && s[len - 1] == ' ')
            len--;
        while (len > 0 && *s == ' ') {
            s++;
            len--;
        }
        snprintf(buf[k], sizeof buf[k], "%.*s", (int)(len <= CS_LAW_MAX_NAME ? len : 0), s);
        names[n++] = buf[k];
    }
    law = cs_law_parse(a->law, names, n);
    free(names);
    return law;
}

/* Prefixes the message of a failed step with the option it came from. */
static int prefixed(int st, const char *what)
{
    return st ? cs_fail_prefix(st, "%s", what) : st;
}

/* Builds the law with its options; extra texts of added derived quantities into *x (nx). */
static int build_law(const fit_args *a, const cs_table *t, cs_law **out, char ***x, size_t *nx)
{
    cs_law *law = is_builtin(a->law) ? cs_law_builtin(a->law) : parse_formula(a, t);
    bool chin = is_builtin(a->law) && strcmp(a->law, "chinchilla") == 0;
    int st = law ? CS_OK : CS_EINPUT;

    if (st == CS_OK && a->positive)
        st = prefixed(cs_law_set_positive(law, a->positive), "--positive");
    if (st == CS_OK && a->grid)
        st = prefixed(cs_law_set_grid(law, a->grid), "--grid");
    if (st == CS_OK && (chin || a->nbudgets > 0))
        st = prefixed(cs_fit_add_chinchilla_derived(law, a->budgets, a->nbudgets, x, nx),
                      "--budget");
    for (size_t k = 0; st == CS_OK && k < a->nquantities; k++) {
        st = prefixed(cs_law_add_derived(law, a->quantities[k]), "--quantity");
        if (st == CS_OK) {
            char **v = realloc(*x, (*nx + 1) * sizeof *v);

            st = v ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");
            if (v)
                *x = v;
            if (v && (v[*nx] = malloc(strlen(a->quantities[k]) + 1)) != NULL)
                strcpy(v[(*nx)++], a->quantities[k]);
        }
    }
    if (st) {
        cs_law_free(law);
        return st;
    }
    *out = law;
    return CS_OK;
}

static int build_data(const fit_args *a, const cs_table *t, const cs_law *law, cs_dataset **ds)
{
    cs_dataset_params dp = cs_dataset_default_params();

    dp.maps = a->maps;
    dp.nmaps = a->nmaps;
    dp.derives = a->derives;
    dp.nderives = a->nderives;
    dp.wheres = a->wheres;
    dp.nwheres = a->nwheres;
    dp.drop_top = a->drop_top;
    dp.group = a->group;
    dp.positive_target = a->fp.log_space;
    return cs_dataset_build(t, law, &dp, ds);
}

/* ---- the table for people ----------------------------------------------------------------- */

static void print_data(const cs_fitjson *fj)
{
    printf("data:    %s: %zu points (%zu rows read", fj->source, fj->n_points, fj->n_read);
    if (fj->n_filtered)
        printf(", %zu left out by --where", fj->n_filtered);
    if (fj->n_dropped)
        printf(", %zu with the largest %s dropped", fj->n_dropped, fj->target);
    printf(")\n");
    for (size_t j = 0; j <= fj->nvars; j++) {
        const cs_fitjson_var *v = j < fj->nvars ? &fj->vars[j] : &fj->target_var;

        printf("         %-6s %s, %.4g to %.4g\n", v->name, v->origin, v->min, v->max);
    }
}

static void print_row(const char *name, double est, double se, double lo, double hi)
{
    char sbuf[32] = "-";
    char cbuf[64] = "-";

    if (isfinite(se))
        snprintf(sbuf, sizeof sbuf, "%.4g", se);
    if (isfinite(lo))
        snprintf(cbuf, sizeof cbuf, "[%.6g, %.6g]", lo, hi);
    printf("  %-16s %14.7g %12s   %s\n", name, est, sbuf, cbuf);
}

static void print_estimates(const cs_fitjson *fj)
{
    bool asym = fj->nboot == 0 && fj->method == CS_FIT_LSQ;

    printf("\n  %-16s %14s %12s   %s\n", "parameter", "estimate", asym ? "s.e. (asym.)" : "s.e.",
           fj->nboot ? "interval" : "");
    for (size_t j = 0; j < fj->nparams; j++) {
        const cs_fitjson_param *p = &fj->params[j];

        print_row(p->name, p->estimate, asym ? p->se_asym : p->se, p->lo, p->hi);
    }
    if (fj->nderived)
        printf("  derived\n");
    for (size_t k = 0; k < fj->nderived; k++) {
        const cs_fitjson_derived *d = &fj->derived[k];

        print_row(d->name, d->estimate, d->se, d->lo, d->hi);
    }
    if (fj->nboot)
        printf("  (bootstrap: %zu refits, %zu failed; %g%% percentile intervals; seed %llu%s)\n",
               fj->nboot, fj->boot_failed, 100.0 * fj->level, (unsigned long long)fj->seed,
               fj->by_group ? "; resampled by group" : "");
}

static void print_result(const cs_fitjson *fj, const cs_law *law)
{
    if (fj->law_name)
        printf("law:     %s: %s\n", fj->law_name, cs_law_formula(law));
    else
        printf("law:     %s\n", cs_law_formula(law));
    print_data(fj);
    printf("method:  %s, delta %g, %s residuals; %zu starts: %zu converged, %zu failed, %zu at "
           "the best\n",
           cs_fit_method_name(fj->method), fj->delta, fj->log_space ? "log" : "linear",
           fj->n_starts, fj->n_converged, fj->n_failed, fj->n_at_best);
    printf("         objective %.12g (start %zu)\n", fj->objective, fj->best_start);
    print_estimates(fj);
    printf("\nfit:     residual RMSE %.4g, max |r| %.4g, median |r| %.4g\n", fj->rmse,
           fj->max_abs_resid, fj->median_abs_resid);
    if (isfinite(fj->nll))
        printf("         %s NLL %.6g, AIC %.6g, BIC %.6g\n",
               fj->method == CS_FIT_LSQ ? "Gaussian" : "Huber", fj->nll, fj->aic, fj->bic);
    if (fj->nwarnings)
        printf("warnings:\n");
    for (size_t k = 0; k < fj->nwarnings; k++)
        printf("  - %s\n", fj->warnings[k]);
}

/* ---- main --------------------------------------------------------------------------------- */

/* Fit, bootstrap and the JSON record of them. */
static int run_fit(const fit_args *a, const cs_law *law, const cs_dataset *ds, char **x, size_t nx,
                   cs_fitjson **fj)
{
    cs_fit_result *fit = NULL;
    cs_boot_result *boot = NULL;
    int st = cs_fit_run(law, ds, &a->fp, &fit);

    if (st == CS_OK && a->bp.n > 0)
        st = cs_boot_run(law, ds, &a->fp, fit, &a->bp, &boot);
    if (st == CS_OK)
        st = cs_fitjson_from_fit(law, (const char *const *)x, nx, ds, fit, boot, fj);
    cs_boot_result_free(boot);
    cs_fit_result_free(fit);
    return st;
}

static int write_json(cs_afile *af, const cs_fitjson *fj)
{
    int st = cs_fitjson_write(cs_afile_stream(af), fj);

    if (st) {
        cs_afile_abort(af);
        return st;
    }
    return cs_afile_commit(af);
}

int cs_cli_fit(int argc, char **argv)
{
    fit_args a;
    cs_afile *af = NULL;
    cs_table *t = NULL;
    cs_law *law = NULL;
    cs_dataset *ds = NULL;
    cs_fitjson *fj = NULL;
    char **x = NULL;
    size_t nx = 0;
    int rc = parse_args(argc, argv, &a);
    int st;

    if (rc >= 0)
        return rc;
    /* Refuse an existing --json file before spending time on the fit. */
    st = a.json ? cs_afile_open(a.json, a.force, &af) : CS_OK;
    if (st == CS_OK)
        st = read_input(a.input, &t);
    if (st == CS_OK)
        st = build_law(&a, t, &law, &x, &nx);
    if (st == CS_OK)
        st = build_data(&a, t, law, &ds);
    if (st == CS_OK)
        st = run_fit(&a, law, ds, x, nx, &fj);
    if (st == CS_OK && !a.quiet && !(a.json && strcmp(a.json, "-") == 0))
        print_result(fj, law);
    if (st == CS_OK && af != NULL) {
        st = write_json(af, fj);
        af = NULL;
    }
    cs_afile_abort(af);
    for (size_t k = 0; k < nx; k++)
        free(x[k]);
    free(x);
    cs_fitjson_free(fj);
    cs_dataset_free(ds);
    cs_law_free(law);
    cs_table_free(t);
    return cs_cli_report(&fit_cmd, st);
}
