/* cli/optimal.c: `ctxscale optimal` — compute-optimal N*, D* (T*, V*) per budget for a fitted law
 * (fit/optimal.h), with intervals from the fit's bootstrap samples; a table for people on
 * stdout, --json for programs. Test: tests/cli/test_alloc.sh. */
#include "cli/cli.h"
#include "cli/opt.h"
#include "cli/shared_opts.h"
#include "core/error.h"
#include "core/parse.h"
#include "fit/fitjson.h"
#include "fit/law.h"
#include "fit/optimal.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_FIT = 256,
    OPT_LAW,
    OPT_PARAMS,
    OPT_BUDGET,
    OPT_FLOPS,
    OPT_ASPECT,
    OPT_N_RANGE,
    OPT_T_RANGE,
    OPT_T,
    OPT_V_RANGE,
    OPT_V,
    OPT_NUMERIC,
    OPT_LEVEL,
};

static const cs_cli_opt optimal_opts[] = {
    {"fit", OPT_FIT, required_argument, "FILE", "the fit: JSON from ctxscale fit --json"},
    {"law", OPT_LAW, required_argument, "LAW", "or a built-in law or a formula, with --params"},
    {"params", OPT_PARAMS, required_argument, "P=V,...", "the law's parameter values"},
    {"budget", OPT_BUDGET, required_argument, "SPEC", "budgets in FLOPs: LO:HI:K or C1,C2,..."},
    {"flops", OPT_FLOPS, required_argument, "MODEL", "cost per token: 6nd (default), kaplan, tao"},
    {"aspect", OPT_ASPECT, required_argument, "A", "shape family d_model = A n_layer (64)"},
    {"N-range", OPT_N_RANGE, required_argument, "LO:HI", "search range of N (1e3:1e15)"},
    {"T-range", OPT_T_RANGE, required_argument, "LO:HI", "search range of T (64:65536)"},
    {"T", OPT_T, required_argument, "T", "fix the context T"},
    {"V-range", OPT_V_RANGE, required_argument, "LO:HI", "search range of V (1024:524288)"},
    {"V", OPT_V, required_argument, "V", "fix the vocabulary V"},
    {"numeric", OPT_NUMERIC, no_argument, NULL, "solve numerically even where a closed form is"},
    {"level", OPT_LEVEL, required_argument, "P", "confidence level (default 0.95)"},
    {"json", 'j', required_argument, "FILE", "also write the result as JSON (- for stdout)"},
    {"force", 'f', no_argument, NULL, "overwrite the JSON file if it exists"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd optimal_cmd = {
    "optimal",
    "--fit FIT.json | --law LAW --params P=V,...  --budget SPEC [OPTIONS]",
    "Compute-optimal allocation: for each budget C, the N and D (and context T, vocabulary V\n"
    "where the law has them) minimising the law's predicted loss subject to C = D cost(N, T, V).",
    optimal_opts,
    "Law variables understood: N (or Nnv), Nv = V d_model, D tokens, H characters, T, V.\n"
    "Closed form for chinchilla under 6nd; otherwise multi-start Nelder-Mead on the log\n"
    "variables within the ranges. An optimum on a range's edge is warned about. Intervals:\n"
    "each bootstrap sample of the fit is re-solved (percentiles, at the fit's level unless\n"
    "--level); --law/--params give the point estimate only.\n"
    "Example: ctxscale optimal --fit fit.json --budget 1e21:1e25:9\n"
    "Example: ctxscale optimal --law ndt --params e=0.47,a=6.0,alpha=0.34,b=6.0,beta=0.28,\\\n"
    "           g=0.4,gamma=0.5 --flops kaplan --budget 1e19:1e25:7\n",
};

typedef struct opt_args {
    const char *fit;
    const char *law;
    const char *params;
    const char *budget;
    const char *json;
    bool force;
    bool level_set; /* --level given (else the fit's level) */
    cs_optimal_params p;
} opt_args;

static int parse_fixed(const char *s, const char *what, double *lo, double *hi)
{
    int st = cs_parse_double_ex(s, lo, CS_PARSE_POSITIVE, what);

    *hi = *lo;
    return st;
}

/* One option into *a (an opt_args). CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, void *ctx)
{
    opt_args *a = ctx;

    switch (c) {
    case OPT_FIT: a->fit = arg; return CS_OK;
    case OPT_LAW: a->law = arg; return CS_OK;
    case OPT_PARAMS: a->params = arg; return CS_OK;
    case OPT_BUDGET: a->budget = arg; return CS_OK;
    case OPT_FLOPS: return cs_optimal_flops_parse(arg, &a->p.flops);
    case OPT_ASPECT: return cs_parse_double_ex(arg, &a->p.aspect, CS_PARSE_POSITIVE, "--aspect");
    case OPT_N_RANGE: return cs_cli_parse_range(arg, "--N-range", false, &a->p.N_lo, &a->p.N_hi);
    case OPT_T_RANGE: return cs_cli_parse_range(arg, "--T-range", false, &a->p.T_lo, &a->p.T_hi);
    case OPT_T: return parse_fixed(arg, "--T", &a->p.T_lo, &a->p.T_hi);
    case OPT_V_RANGE: return cs_cli_parse_range(arg, "--V-range", false, &a->p.V_lo, &a->p.V_hi);
    case OPT_V: return parse_fixed(arg, "--V", &a->p.V_lo, &a->p.V_hi);
    case OPT_NUMERIC: a->p.numeric = true; return CS_OK;
    case OPT_LEVEL: a->level_set = true; return cs_cli_parse_fraction(arg, &a->p.level, "--level");
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    }
    return CS_OK;
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, opt_args *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    a->p = cs_optimal_default_params();
    if ((rc = cs_cli_parse_opts(&optimal_cmd, argc, argv, take_opt, a)) >= 0)
        return rc;
    if (optind != argc)
        return cs_cli_usage_error(&optimal_cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->budget)
        return cs_cli_usage_error(&optimal_cmd, "--budget is required");
    if (!a->fit == !a->law)
        return cs_cli_usage_error(&optimal_cmd, "give the law: either --fit FILE or --law LAW "
                                                "--params P=V,...");
    if (a->law && !a->params)
        return cs_cli_usage_error(&optimal_cmd, "--law needs --params with every parameter");
    if (a->fit && a->params)
        return cs_cli_usage_error(&optimal_cmd, "--params goes with --law, not --fit");
    return -1;
}

// ---- the law and its parameters ------------------------------------------------------------

/* A built-in law by name, else a formula over the variables the solver knows. */
static cs_law *make_law(const char *text)
{
    static const char *const vars[7] = {"N", "Nnv", "Nv", "D", "H", "T", "V"};
    size_t n, i;
    const cs_law_info *list = cs_law_builtin_list(&n);

    for (i = 0; i < n; i++)
        if (strcmp(list[i].name, text) == 0)
            return cs_law_builtin(text);
    return cs_law_parse(text, vars, 7);
}

/* "name=value" pairs separated by commas or spaces into params (every parameter once). */
static int parse_params(const cs_law *law, const char *spec, double *params)
{
    size_t np = cs_law_nparams(law), j;
    bool *set = calloc(np + 1, sizeof *set);
    const char *s = spec;
    char item[160], *eq;
    int st = CS_OK;

    if (!set)
        return cs_fail(CS_ENOMEM, "out of memory");
    while (*s && st == CS_OK) {
        size_t len = strcspn(s, ", ");
        long k;
        snprintf(item, sizeof item, "%.*s", (int)(len < 159 ? len : 159), s);
        s += len + (s[len] != '\0');
        if (len == 0)
            continue;
        if (!(eq = strchr(item, '='))) {
            st = cs_fail(CS_EINPUT, "--params: expected NAME=VALUE, got \"%s\"", item);
            break;
        }
        *eq = '\0';
        if ((k = cs_law_param_index(law, item)) < 0)
            st = cs_fail(CS_EINPUT, "--params: the law has no parameter \"%s\"", item);
        else if ((st = cs_parse_double(eq + 1, &params[k], "--params")) == CS_OK)
            set[k] = true;
    }
    for (j = 0; j < np && st == CS_OK; j++)
        if (!set[j])
            st = cs_fail(CS_EINPUT, "--params: no value for parameter \"%s\"",
                         cs_law_param_name(law, j));
    free(set);
    return st;
}

// ---- output --------------------------------------------------------------------------------

static json_t *ci(cs_optimal_ci c)
{
    return json_pack("[o, o]", cs_cli_json_num(c.lo), cs_cli_json_num(c.hi));
}

static json_t *row_json(const cs_optimal_row *w)
{
    const cs_optimal_point *e = &w->est;

    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                     "s:o, s:o, s:b, s:b, s:b, s:b, s:I, s:I}",
                     "C", cs_cli_json_num(e->C), "N", cs_cli_json_num(e->N), "N_ci", ci(w->ci_N),
                     "D", cs_cli_json_num(e->D), "D_ci", ci(w->ci_D), "T", cs_cli_json_num(e->T),
                     "T_ci", ci(w->ci_T), "V", cs_cli_json_num(e->V), "V_ci", ci(w->ci_V),
                     "tokens_per_param", cs_cli_json_num(w->tpp), "tokens_per_param_ci",
                     ci(w->ci_tpp), "loss", cs_cli_json_num(e->loss), "loss_ci", ci(w->ci_loss),
                     "n_layer", cs_cli_json_num(e->n_layer), "d_model", cs_cli_json_num(e->d_model),
                     "flops_per_token", cs_cli_json_num(e->cost), "closed_form", e->closed_form,
                     "N_at_bound", (e->at_bound & CS_OPTIMAL_AT_N) != 0, "T_at_bound",
                     (e->at_bound & CS_OPTIMAL_AT_T) != 0, "V_at_bound",
                     (e->at_bound & CS_OPTIMAL_AT_V) != 0, "samples_ok", (json_int_t)w->nsamples_ok,
                     "samples_at_bound", (json_int_t)w->nsamples_at_bound);
}

static json_t *result_json(const cs_optimal_result *r, const cs_law *law, const opt_args *a)
{
    json_t *rows = json_array();
    size_t b;

    for (b = 0; b < r->nbudgets; b++)
        json_array_append_new(rows, row_json(&r->rows[b]));
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:I, s:o, s:o}", "command", "optimal",
                     "law", cs_law_formula(law), "flops", cs_optimal_flops_name(a->p.flops),
                     "shape_family", "d_model = aspect * n_layer", "aspect",
                     cs_cli_json_num(a->p.aspect), "T_free", r->T_free, "V_free", r->V_free,
                     "samples", (json_int_t)r->nsamples, "level", cs_cli_json_num(r->level),
                     "budgets", rows);
}

/* "1.23e+09" or "1.23e+09 [1.1e+09, 1.4e+09]" into buf. */
static const char *with_ci(char *buf, size_t n, double v, cs_optimal_ci c)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else if (isfinite(c.lo))
        snprintf(buf, n, "%.4g [%.3g, %.3g]", v, c.lo, c.hi);
    else
        snprintf(buf, n, "%.4g", v);
    return buf;
}

static void print_result(const cs_optimal_result *r, const cs_law *law, const opt_args *a)
{
    int w = r->nsamples > 0 ? 30 : 11; /* column width: value, or value [lo, hi] */
    bool hasT = !isnan(r->rows[0].est.T), hasV = !isnan(r->rows[0].est.V);
    char buf[64];
    size_t b;

    printf("law: %s\nFLOPs per token: %s; shape d_model = %g n_layer", cs_law_formula(law),
           cs_optimal_flops_name(a->p.flops), a->p.aspect);
    if (r->nsamples > 0)
        printf("; %g%% intervals over %zu bootstrap samples", 100.0 * r->level, r->nsamples);
    printf("\n\n%-9s %-*s %-*s ", "C", w, "N*", w, "D*");
    if (hasT)
        printf("%-*s ", w, r->T_free ? "T*" : "T (fixed)");
    if (hasV)
        printf("%-*s ", w, r->V_free ? "V*" : "V (fixed)");
    printf("%-*s %s\n", w, "D*/N*", "loss");
    for (b = 0; b < r->nbudgets; b++) {
        const cs_optimal_row *row = &r->rows[b];
        printf("%-9.3g %-*s ", row->est.C, w, with_ci(buf, sizeof buf, row->est.N, row->ci_N));
        printf("%-*s ", w, with_ci(buf, sizeof buf, row->est.D, row->ci_D));
        if (hasT)
            printf("%-*s ", w, with_ci(buf, sizeof buf, row->est.T, row->ci_T));
        if (hasV)
            printf("%-*s ", w, with_ci(buf, sizeof buf, row->est.V, row->ci_V));
        printf("%-*s ", w, with_ci(buf, sizeof buf, row->tpp, row->ci_tpp));
        printf("%s%s\n", with_ci(buf, sizeof buf, row->est.loss, row->ci_loss),
               row->est.at_bound ? "  (at bound)" : "");
    }
}

static void warn_bounds(const cs_optimal_result *r)
{
    static const char *const names[3] = {"N", "T", "V"};
    size_t b, k;

    for (b = 0; b < r->nbudgets; b++) {
        for (k = 0; k < 3; k++)
            if (r->rows[b].est.at_bound & (1u << k))
                fprintf(stderr,
                        "ctxscale optimal: warning: C = %.3g: the optimal %s lies on the "
                        "edge of its range; widen --%s-range, or the law has no interior "
                        "optimum there\n",
                        r->rows[b].est.C, names[k], names[k]);
        if (r->rows[b].nsamples_at_bound > 0)
            fprintf(stderr,
                    "ctxscale optimal: warning: C = %.3g: %zu bootstrap samples have "
                    "their optimum on the edge of a range\n",
                    r->rows[b].est.C, r->rows[b].nsamples_at_bound);
    }
}

// ---- the command ---------------------------------------------------------------------------

/* The law to solve and its parameters: from a fit file, or from --law and --params. */
typedef struct loaded {
    cs_law *law;
    double *params;        /* (nparams) point estimate */
    const double *samples; /* (nsamples, nparams) bootstrap samples (owned by fj), or NULL */
    size_t nsamples;
    cs_fitjson *fj; /* the fit file, or NULL */
} loaded;

static void loaded_free(loaded *ld)
{
    cs_law_free(ld->law);
    free(ld->params);
    cs_fitjson_free(ld->fj);
}

static int load_fit(opt_args *a, loaded *ld)
{
    size_t j, np;
    int st;

    if ((st = cs_fitjson_read(a->fit, &ld->fj)) || (st = cs_fitjson_law(ld->fj, &ld->law)))
        return st;
    np = ld->fj->nparams;
    if (!(ld->params = malloc((np + 1) * sizeof *ld->params)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (j = 0; j < np; j++)
        ld->params[j] = ld->fj->params[j].estimate;
    ld->samples = ld->fj->nboot > 0 ? ld->fj->boot : NULL;
    ld->nsamples = ld->fj->nboot;
    if (!a->level_set && ld->fj->nboot > 0 && ld->fj->level > 0.0 && ld->fj->level < 1.0)
        a->p.level = ld->fj->level;
    return CS_OK;
}

static int load_params(const opt_args *a, loaded *ld)
{
    if (!(ld->law = make_law(a->law)))
        return CS_EINPUT; /* the parser's message (with its caret) is already recorded */
    if (!(ld->params = calloc(cs_law_nparams(ld->law) + 1, sizeof *ld->params)))
        return cs_fail(CS_ENOMEM, "out of memory");
    return parse_params(ld->law, a->params, ld->params);
}

static int run(opt_args *a)
{
    loaded ld = {NULL, NULL, NULL, 0, NULL};
    double *budgets = NULL;
    size_t nbudgets = 0;
    cs_optimal_result *r = NULL;
    bool T_free, V_free;
    int st;

    if ((st = cs_optimal_parse_budgets(a->budget, "--budget", &budgets, &nbudgets)))
        return st;
    st = a->fit ? load_fit(a, &ld) : load_params(a, &ld);
    if (st || (st = cs_optimal_check(ld.law, &a->p, &T_free, &V_free)) ||
        (st = cs_optimal_run(ld.law, ld.params, ld.samples, ld.nsamples, budgets, nbudgets, &a->p,
                             &r)))
        goto out_free;
    warn_bounds(r);
    if (!a->json || strcmp(a->json, "-") != 0)
        print_result(r, ld.law, a);
    if (a->json)
        st = cs_cli_write_json(result_json(r, ld.law, a), a->json, a->force);
out_free:
    cs_optimal_result_free(r);
    loaded_free(&ld);
    free(budgets);
    return st;
}

int cs_cli_optimal(int argc, char **argv)
{
    opt_args a;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    return cs_cli_report(&optimal_cmd, run(&a));
}
