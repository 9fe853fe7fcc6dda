/* cli/fit.c: `ctxscale fit` — fit a scaling law (a built-in or any formula) to a CSV file or a
 * directory of run logs: robust multi-start fit (fit/fit.h), bootstrap intervals
 * (fit/bootstrap.h), a table for people on stdout and the result as JSON (fit/fitjson.h) for
 * programs; --holdout scores the fit on points it did not see (fit/holdout.h), --law auto
 * chooses the law by extrapolation cross-validation (fit/compare.h).
 * Tests: tests/cli/test_fit.sh, tests/cli/test_predict.sh. */
#include "cli/cli.h"
#include "cli/fitdata.h"
#include "cli/opt.h"
#include "cli/shared_opts.h"
#include "core/afile.h"
#include "core/error.h"
#include "core/parse.h"
#include "fit/bootstrap.h"
#include "fit/compare.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/fitjson.h"
#include "fit/holdout.h"
#include "fit/law.h"
#include "fit/predict.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_POSITIVE = 256,
    OPT_GRID,
    OPT_QUANTITY,
    OPT_BUDGET,
    OPT_LEVEL,
    OPT_SEED,
    OPT_GROUP,
    OPT_OPTIMIZER,
    OPT_HOLDOUT,
    OPT_LEVELS,
};

static const cs_cli_opt fit_opts[] = {
    {"law", 'l', required_argument, "LAW", "built-in law, formula, or auto (default chinchilla)"},
    CS_CLI_FIT_OPT_MAP,
    CS_CLI_FIT_OPT_DERIVE,
    CS_CLI_OPT_WHERE("PRED", "keep rows where it holds, e.g. 'N > 1e7' (== != < <= > >=, && ||)"),
    {"holdout", OPT_HOLDOUT, required_argument, "PRED",
     "fit the other points, score predictions on these"},
    {"levels", OPT_LEVELS, required_argument, "P,...",
     "prediction-interval levels for --holdout (0.5,0.9)"},
    CS_CLI_FIT_OPT_LAWS("candidates of --law auto (default: all)"),
    CS_CLI_FIT_OPT_CV("--law auto: extrapolate (default) or largest"),
    CS_CLI_FIT_OPT_FOLDS("--law auto: test blocks (default 3)"),
    CS_CLI_FIT_OPT_TRAIN_FRAC("--law auto: share only trained on (0.5)"),
    CS_CLI_FIT_OPT_BY("--law auto: order points by EXPR (C, 6*N*D)"),
    CS_CLI_FIT_OPT_DROP_TOP,
    CS_CLI_FIT_OPT_METHOD,
    CS_CLI_FIT_OPT_DELTA,
    CS_CLI_FIT_OPT_SPACE,
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
    CS_CLI_FIT_OPT_THREADS,
    CS_CLI_FIT_OPT_MAX_ITER,
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
    "Laws: chinchilla, kaplan, power, power+const, xiong-context, tao-vocab, ndt,\n"
    "data-constrained, gadre-overtrain, or a formula such as 'L = E + A/N^alpha + B/D^beta'\n"
    "(names that are columns, --map or --derive names are variables; the others are\n"
    "parameters); auto picks among --laws by extrapolation cross-validation (ctxscale\n"
    "compare). Each law variable and the target comes from a --derive, a --map or a column of\n"
    "that name. --holdout PRED fits the points where PRED fails and reports, for the others,\n"
    "prediction, intervals (--bootstrap 200 unless given) and error. Exit status: 0 on\n"
    "success, 1 when no start converged, 2 for bad input. Epoch's replication of Hoffmann et\n"
    "al.'s Approach 3:\n"
    "  ctxscale fit svg_extracted_data.csv --map N='Model Size' --map C='Training FLOP' \\\n"
    "      --map L=loss --derive 'D=C/(6*N)' --drop-top 5 --bootstrap 1000 --budget 5.76e23\n",
};

#define MAX_LIST 64

typedef struct fit_args {
    cs_cli_fit_opts o; /* data, method and --law auto options */
    cs_cli_laws laws;  /* candidates of --law auto */
    const char *quantities[MAX_LIST];
    double budgets[MAX_LIST];
    size_t nquantities, nbudgets;
    const char *law;
    const char *grid;
    const char *positive;
    const char *group;
    const char *json;
    const char *input;
    const char *holdout;
    double levels[CS_PREDICT_MAX_LEVELS];
    size_t nlevels;
    bool force;
    bool quiet;
    bool boot_set; /* --bootstrap given */
    cs_boot_params bp;
} fit_args;

/* ---- options ------------------------------------------------------------------------------ */

static int take_quantity(fit_args *a, const char *arg)
{
    if (a->nquantities == MAX_LIST)
        return cs_fail(CS_EINPUT, "--quantity: at most %d times", MAX_LIST);
    a->quantities[a->nquantities++] = arg;
    return CS_OK;
}

static int take_budget(fit_args *a, const char *arg)
{
    if (a->nbudgets == MAX_LIST)
        return cs_fail(CS_EINPUT, "--budget: at most %d times", MAX_LIST);
    return cs_parse_double_ex(arg, &a->budgets[a->nbudgets++], CS_PARSE_POSITIVE, "--budget");
}

/* The options of the fit itself: method, bootstrap, hold-out. */
static int take_method_opt(int c, const char *arg, fit_args *a)
{
    int64_t seed;
    int st;

    switch (c) {
    case OPT_OPTIMIZER:
        if (strcmp(arg, "bfgs") != 0 && strcmp(arg, "gsl-bfgs2") != 0)
            return cs_fail(CS_EINPUT, "--optimizer: expected bfgs or gsl-bfgs2, got \"%s\"", arg);
        a->o.fp.optimizer = strcmp(arg, "bfgs") == 0 ? CS_FIT_OPT_BFGS : CS_FIT_OPT_GSL_BFGS2;
        return CS_OK;
    case 'b': a->boot_set = true; return cs_cli_parse_whole(arg, &a->bp.n, "--bootstrap", 0);
    case OPT_SEED:
        st = cs_parse_count(arg, &seed, "--seed");
        a->bp.seed = (uint64_t)seed;
        return st;
    case OPT_LEVEL: return cs_cli_parse_fraction(arg, &a->bp.level, "--level");
    case OPT_HOLDOUT: a->holdout = arg; return CS_OK;
    case OPT_LEVELS: return cs_cli_parse_levels(arg, a->levels, &a->nlevels);
    case CS_CLI_KEY_LAWS: return cs_cli_laws_take(&a->laws, arg, "");
    default: return cs_cli_fit_opts_take(&a->o, c, arg);
    }
}

/* One option into *a (a fit_args). CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, void *ctx)
{
    fit_args *a = ctx;

    switch (c) {
    case 'l': a->law = arg; return CS_OK;
    case OPT_QUANTITY: return take_quantity(a, arg);
    case OPT_BUDGET: return take_budget(a, arg);
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
    int rc;

    memset(a, 0, sizeof *a);
    a->law = "chinchilla";
    cs_cli_fit_opts_init(&a->o);
    a->bp = cs_boot_default_params();
    a->bp.n = 0;
    a->levels[0] = 0.5;
    a->levels[1] = 0.9;
    a->nlevels = 2;
    if ((rc = cs_cli_parse_opts(&fit_cmd, argc, argv, take_opt, a)) >= 0)
        return rc;
    if (optind + 1 != argc)
        return cs_cli_usage_error(&fit_cmd, optind == argc ? "give one CSV file or run directory"
                                                           : "more than one input given");
    a->input = argv[optind];
    if (a->holdout && !a->boot_set)
        a->bp.n = 200; /* intervals for the held-out points need the parameters' spread */
    if (a->group && a->bp.n == 0)
        return cs_cli_usage_error(&fit_cmd, "--group only matters with --bootstrap N");
    a->bp.by_group = a->group != NULL;
    if (strcmp(a->law, "auto") == 0 && (a->grid || a->positive || a->nquantities))
        return cs_cli_usage_error(&fit_cmd, "--grid, --positive and --quantity name parameters "
                                            "of one law; they do not go with --law auto");
    return -1;
}

/* ---- input, law, data --------------------------------------------------------------------- */

/* Prefixes the message of a failed step with the option it came from. */
static int prefixed(int st, const char *what)
{
    return st ? cs_fail_prefix(st, "%s", what) : st;
}

/* Builds the law with its options; extra texts of added derived quantities into *x (nx). */
static int build_law(const fit_args *a, const cs_table *t, const cs_dataset_params *dp,
                     cs_law **out, char ***x, size_t *nx)
{
    cs_law *law = cs_cli_law(a->law, t, dp);
    bool chin = strcmp(a->law, "chinchilla") == 0;
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

/* The data options; the held-out points (held_out) or the others. */
static cs_dataset_params data_params(const fit_args *a, bool held_out)
{
    cs_dataset_params dp = cs_cli_fit_opts_data(&a->o);

    dp.group = held_out ? NULL : a->group;
    dp.holdout = a->holdout;
    dp.held_out = held_out;
    return dp;
}

/* ---- the table for people ----------------------------------------------------------------- */

static void print_data(const cs_fitjson *fj)
{
    printf("data:    %s: %zu points (%zu rows read", fj->source, fj->n_points, fj->n_read);
    if (fj->n_filtered)
        printf(", %zu left out by --where", fj->n_filtered);
    if (fj->n_dropped)
        printf(", %zu with the largest %s dropped", fj->n_dropped, fj->target);
    if (fj->holdout)
        printf(", %zu held out by --holdout", fj->holdout->n);
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

/* ---- held-out points ---------------------------------------------------------------------- */

static void print_holdout_row(const cs_holdout_result *h, size_t i, int wrow)
{
    printf("  %-*s", wrow, h->where[i]);
    for (size_t j = 0; j < h->nvars; j++)
        printf(" %10.4g", h->vars[i * h->nvars + j]);
    printf(" %10.5g %10.5g", h->observed[i], h->predicted[i]);
    for (size_t k = 0; k < h->nlevels; k++) {
        char iv[64];

        snprintf(iv, sizeof iv, "[%.5g, %.5g]", h->lo[i * h->nlevels + k],
                 h->hi[i * h->nlevels + k]);
        printf("  %-22s", iv);
    }
    printf(" %+8.2f%%\n", 100.0 * h->rel_error[i]);
}

static void print_holdout(const cs_holdout_result *h, size_t nfit)
{
    int wrow = 4;

    for (size_t i = 0; i < h->n; i++)
        wrow = strlen(h->where[i]) > (size_t)wrow ? (int)strlen(h->where[i]) : wrow;
    printf("\nheld out: %s: %zu points, predicted by the fit to the other %zu\n", h->expr, h->n,
           nfit);
    printf("  %-*s", wrow, "row");
    for (size_t j = 0; j < h->nvars; j++)
        printf(" %10s", h->vname[j]);
    printf(" %10s %10s", "observed", "predicted");
    for (size_t k = 0; k < h->nlevels; k++) {
        char lv[32];

        snprintf(lv, sizeof lv, "%g%% interval", 100.0 * h->levels[k]);
        printf("  %-22s", lv);
    }
    printf(" %9s\n", "error");
    for (size_t i = 0; i < h->n; i++)
        print_holdout_row(h, i, wrow);
    printf("  |error| (predicted/observed - 1): mean %.3g%%, median %.3g%%, max %.3g%%\n",
           100.0 * h->mean_abs_rel, 100.0 * h->median_abs_rel, 100.0 * h->max_abs_rel);
    for (size_t k = 0; k < h->nlevels; k++)
        printf("  inside the %g%% interval: %.0f of %zu (%.0f%%)\n", 100.0 * h->levels[k],
               h->coverage[k] * (double)h->n, h->n, 100.0 * h->coverage[k]);
    if (h->nboot == 0)
        printf("  (no bootstrap: the intervals cover the residual noise only)\n");
}

/* ---- --law auto ----------------------------------------------------------------------------- */

/* Compares the candidates on the points to fit (held-out points excluded) and sets a->law to
 * the best; *key receives the ordering key. */
static int choose_law(fit_args *a, const cs_table *t, cs_cli_comparison *c, const char **key,
                      bool table)
{
    cs_dataset_params dp = data_params(a, false);
    const char *all[MAX_LIST];
    size_t n = 0;
    const cs_law_info *list = cs_law_builtin_list(&n);
    int st;

    n = n < MAX_LIST ? n : MAX_LIST;
    for (size_t k = 0; k < n; k++)
        all[k] = list[k].name;
    dp.group = NULL;
    dp.key = *key = a->o.by ? a->o.by : cs_cli_default_key(t, &dp);
    if (dp.key == NULL)
        return cs_fail(CS_EINPUT,
                       "--law auto: %s has no C, N or D to order the points by; give "
                       "--by EXPR",
                       cs_table_source(t));
    st = cs_cli_compare_laws(a->laws.n ? a->laws.names : all, a->laws.n ? a->laws.n : n,
                             a->laws.n == 0, t, &dp, &a->o.fp, &a->o.cp, c);
    if (st)
        return cs_fail_prefix(st, "--law auto");
    if (table)
        cs_cli_comparison_print(stdout, c, cs_table_source(t), *key);
    if (!(c->res->laws[c->res->rank[0]].folds_failed == 0 &&
          isfinite(c->res->laws[c->res->rank[0]].mean_abs_err)))
        return cs_fail(CS_ENOCONV, "--law auto: no candidate law could be fitted on every fold");
    a->law = c->names[c->res->rank[0]];
    if (table)
        printf("--law auto: %s, the lowest mean extrapolation error of %zu laws\n\n", a->law,
               c->nlaws);
    return CS_OK;
}

/* Stores how the law was chosen in the JSON record. */
static int record_choice(const cs_cli_comparison *c, const char *key, cs_fitjson *fj)
{
    const cs_compare_result *r = c->res;

    fj->select_cv = strdup(cs_compare_cv_name(r->cv));
    fj->select_key = strdup(key);
    fj->select_folds = r->nfolds;
    fj->candidates = calloc(r->nlaws, sizeof *fj->candidates);
    if (!fj->select_cv || !fj->select_key || !fj->candidates)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (size_t q = 0; q < r->nlaws; q++) {
        const cs_compare_law *l = &r->laws[r->rank[q]];
        cs_fitjson_candidate *cd = &fj->candidates[q];

        if ((cd->law = strdup(c->names[r->rank[q]])) == NULL)
            return cs_fail(CS_ENOMEM, "out of memory");
        fj->ncandidates = q + 1;
        cd->mean_abs_err = l->mean_abs_err;
        cd->max_abs_err = l->max_abs_err;
        cd->folds_failed = l->folds_failed;
        cd->daic = l->daic;
    }
    return CS_OK;
}

/* ---- main --------------------------------------------------------------------------------- */

/* Scores the fit on the held-out points into fj->holdout. */
static int score_holdout(const fit_args *a, const cs_law *law, const cs_dataset *held,
                         const cs_fit_result *fit, const cs_boot_result *boot, cs_fitjson *fj)
{
    cs_predictor *pr = cs_predictor_from_fit(law, fit, boot);
    int st;

    if (pr == NULL)
        return CS_EINPUT;
    st = cs_holdout_score(pr, held, a->holdout, a->levels, a->nlevels, &fj->holdout);
    cs_predictor_free(pr);
    return st;
}

/* Fit, bootstrap, hold-out scores (held may be NULL) and the JSON record of them. */
static int run_fit(const fit_args *a, const cs_law *law, const cs_dataset *ds,
                   const cs_dataset *held, char **x, size_t nx, cs_fitjson **fj)
{
    cs_fit_result *fit = NULL;
    cs_boot_result *boot = NULL;
    int st = cs_fit_run(law, ds, &a->o.fp, &fit);

    if (st == CS_OK && a->bp.n > 0)
        st = cs_boot_run(law, ds, &a->o.fp, fit, &a->bp, &boot);
    if (st == CS_OK)
        st = cs_fitjson_from_fit(law, (const char *const *)x, nx, ds, fit, boot, fj);
    if (st == CS_OK && held != NULL)
        st = score_holdout(a, law, held, fit, boot, *fj);
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

/* What a run holds, freed at the end. */
typedef struct fit_run {
    cs_table *t;
    cs_law *law;
    cs_dataset *ds;
    cs_dataset *held;
    cs_fitjson *fj;
    char **x;
    size_t nx;
    cs_cli_comparison cmp;
    const char *key;
} fit_run;

static void fit_run_clear(fit_run *r)
{
    for (size_t k = 0; k < r->nx; k++)
        free(r->x[k]);
    free(r->x);
    cs_fitjson_free(r->fj);
    cs_dataset_free(r->held);
    cs_dataset_free(r->ds);
    cs_law_free(r->law);
    cs_table_free(r->t);
    cs_cli_comparison_clear(&r->cmp);
}

/* Everything up to the JSON record: input, law (chosen or given), data, fit, scores. */
static int run_all(fit_args *a, fit_run *r, bool table)
{
    cs_dataset_params dp;
    int st = cs_cli_read_points(a->input, &r->t);

    if (st == CS_OK && strcmp(a->law, "auto") == 0)
        st = choose_law(a, r->t, &r->cmp, &r->key, table);
    dp = data_params(a, false);
    if (st == CS_OK)
        st = build_law(a, r->t, &dp, &r->law, &r->x, &r->nx);
    if (st == CS_OK)
        st = cs_dataset_build(r->t, r->law, &dp, &r->ds);
    if (st == CS_OK && a->holdout) {
        dp = data_params(a, true);
        st = cs_dataset_build(r->t, r->law, &dp, &r->held);
    }
    if (st == CS_OK)
        st = run_fit(a, r->law, r->ds, r->held, r->x, r->nx, &r->fj);
    if (st == CS_OK && r->cmp.res != NULL)
        st = record_choice(&r->cmp, r->key, r->fj);
    return st;
}

int cs_cli_fit(int argc, char **argv)
{
    fit_args a;
    fit_run r;
    cs_afile *af = NULL;
    int rc = parse_args(argc, argv, &a);
    bool table;
    int st;

    if (rc >= 0) {
        cs_cli_laws_clear(&a.laws);
        return rc;
    }
    memset(&r, 0, sizeof r);
    table = !a.quiet && !(a.json && strcmp(a.json, "-") == 0);
    /* Refuse an existing --json file before spending time on the fit. */
    st = a.json ? cs_afile_open(a.json, a.force, &af) : CS_OK;
    if (st == CS_OK)
        st = run_all(&a, &r, table);
    if (st == CS_OK && table)
        print_result(r.fj, r.law);
    if (st == CS_OK && table && r.fj->holdout)
        print_holdout(r.fj->holdout, cs_dataset_n(r.ds));
    if (st == CS_OK && af != NULL) {
        st = write_json(af, r.fj);
        af = NULL;
    }
    cs_afile_abort(af);
    fit_run_clear(&r);
    cs_cli_laws_clear(&a.laws);
    return cs_cli_report(&fit_cmd, st);
}
