/* cli/isoflop.c: `ctxscale isoflop FILE` — Chinchilla's Approach 2 (analysis/isoflop.h) on a CSV
 * of final points: budgets, a parabola per budget, N_opt = k C^a and D_opt = k C^b with
 * bootstrap intervals; a table for people on stdout, --json for programs.
 * Test: tests/cli/test_alloc.sh. */
#include "analysis/isoflop.h"
#include "cli/cli.h"
#include "cli/opt.h"
#include "cli/points_opts.h"
#include "cli/shared_opts.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/parse.h"
#include "fit/optimal.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_TOL = 256,
    OPT_MIN_POINTS,
    OPT_BOOT,
    OPT_SEED,
    OPT_LEVEL,
};

static const cs_cli_opt isoflop_opts[] = {
    CS_CLI_OPT_MAP("read N, C, D or L from column COL (repeatable)"),
    CS_CLI_OPT_DERIVE("compute N, C, D or L per row, e.g. D=C/(6*N) (repeatable)"),
    CS_CLI_OPT_WHERE_ROWS,
    {"budgets", 'b', required_argument, "SPEC", "auto (default), C1,C2,... or LO:HI:K"},
    {"tol", OPT_TOL, required_argument, "DEX", "log10 C tolerance of a budget (default 0.015)"},
    {"min-points", OPT_MIN_POINTS, required_argument, "K",
     "auto: leave out clusters of fewer points (default 3)"},
    {"boot", OPT_BOOT, required_argument, "N", "bootstrap replicates (default 1000; 0: none)"},
    {"seed", OPT_SEED, required_argument, "S", "bootstrap seed (default 1)"},
    {"level", OPT_LEVEL, required_argument, "P", "confidence level (default 0.95)"},
    {"json", 'j', required_argument, "FILE", "also write the result as JSON (- for stdout)"},
    {"force", 'f', no_argument, NULL, "overwrite the JSON file if it exists"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd isoflop_cmd = {
    "isoflop",
    "[OPTIONS] FILE.csv",
    "Chinchilla's Approach 2: group points into compute budgets, fit a parabola of the loss in\n"
    "ln N per budget, and fit N_opt = k C^a, D_opt = k C^b over the budgets' minima.",
    isoflop_opts,
    "Columns: N (parameters), C (training FLOPs), L (loss) and, if present, D (tokens; else\n"
    "D_opt = C / (6 N_opt)). A budget whose minimum lies at the edge of its sampled N or whose\n"
    "parabola is not convex is reported and skipped. Intervals: percentile bootstrap over\n"
    "points, resampled within each budget; s.e.: the log-log regression's standard error.\n"
    "Example: ctxscale isoflop runs.csv --budgets auto --tol 0.02 --json iso.json\n",
};

/* Options of one invocation. */
typedef struct iso_args {
    cs_cli_points_opts pts;
    const char *budgets; /* NULL or "auto": automatic */
    const char *json;
    bool force;
    cs_isoflop_params p;
} iso_args;

/* One option into *a (an iso_args). CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, void *ctx)
{
    iso_args *a = ctx;

    switch (c) {
    case OPT_TOL: return cs_parse_double_ex(arg, &a->p.tol, CS_PARSE_POSITIVE, "--tol");
    case OPT_MIN_POINTS: return cs_cli_parse_size(arg, &a->p.min_points, "--min-points");
    case OPT_BOOT: return cs_cli_parse_size(arg, &a->p.nboot, "--boot");
    case OPT_SEED: return cs_cli_parse_seed(arg, &a->p.seed, "--seed");
    case OPT_LEVEL: return cs_cli_parse_fraction(arg, &a->p.level, "--level");
    case 'b': a->budgets = arg; return CS_OK;
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    }
    return cs_cli_points_take(&a->pts, c, arg);
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, iso_args *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    a->p = cs_isoflop_default_params();
    if ((rc = cs_cli_parse_opts(&isoflop_cmd, argc, argv, take_opt, a)) >= 0)
        return rc;
    if (optind + 1 != argc)
        return cs_cli_usage_error(&isoflop_cmd, "expected one input file, got %d", argc - optind);
    return -1;
}

// ---- output --------------------------------------------------------------------------------

static json_t *pair(double lo, double hi)
{
    return json_pack("[o, o]", cs_cli_json_num(lo), cs_cli_json_num(hi));
}

static json_t *power_json(const cs_isoflop_power *pw)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:I}", "exponent", cs_cli_json_num(pw->a), "coefficient",
                     cs_cli_json_num(pw->k), "se", cs_cli_json_num(pw->a_se), "ci",
                     pair(pw->a_lo, pw->a_hi), "n", (json_int_t)pw->n);
}

static json_t *result_json(const cs_isoflop_result *r, const cs_isoflop_points *pts,
                           const char *source, const iso_args *a)
{
    json_t *budgets = json_array();
    size_t b;

    for (b = 0; b < r->nbudgets; b++) {
        const cs_isoflop_budget *B = &r->budgets[b];
        json_array_append_new(
            budgets,
            json_pack("{s:o, s:I, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:I}", "C",
                      cs_cli_json_num(B->C), "points", (json_int_t)B->npoints, "N_min",
                      cs_cli_json_num(B->N_lo), "N_max", cs_cli_json_num(B->N_hi), "status",
                      cs_isoflop_status_name(B->status), "curvature", cs_cli_json_num(B->curvature),
                      "N_opt", cs_cli_json_num(B->N_opt), "N_opt_ci",
                      pair(B->N_opt_lo, B->N_opt_hi), "D_opt", cs_cli_json_num(B->D_opt), "L_opt",
                      cs_cli_json_num(B->L_opt), "bootstrap_ok", (json_int_t)B->nboot_ok));
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:I, s:o, s:{s:I, s:I, s:I}, s:o, "
                     "s:o, s:o}",
                     "command", "isoflop", "source", source, "rows", (json_int_t)pts->n_read,
                     "points", (json_int_t)r->npoints, "unassigned", (json_int_t)r->nunassigned,
                     "budget_mode", a->p.budgets ? "list" : "auto", "tol",
                     cs_cli_json_num(a->p.tol), "min_points", (json_int_t)a->p.min_points, "level",
                     cs_cli_json_num(r->level), "bootstrap", "replicates", (json_int_t)r->nboot,
                     "ok", (json_int_t)r->nboot_ok, "seed", (json_int_t)a->p.seed, "budgets",
                     budgets, "N_opt", power_json(&r->N_fit), "D_opt", power_json(&r->D_fit));
}

static void print_power(const char *what, const char *sym, const cs_isoflop_power *pw, double level)
{
    printf("%s = k C^%s: %s = %.4f", what, sym, sym, pw->a);
    if (isfinite(pw->a_lo))
        printf(" (%g%% CI %.4f .. %.4f)", 100.0 * level, pw->a_lo, pw->a_hi);
    if (isfinite(pw->a_se))
        printf(", s.e. %.4f", pw->a_se);
    printf(", k = %.4g, over %zu budgets\n", pw->k, pw->n);
}

static void print_result(const cs_isoflop_result *r, const cs_isoflop_points *pts,
                         const char *source)
{
    size_t b;

    printf("%s: %zu points, %zu budgets (%zu used), %zu points in no budget\n\n", source, pts->n,
           r->nbudgets, r->nused, r->nunassigned);
    printf("%-10s %6s  %-19s %-10s %-23s %-10s %-8s %s\n", "C", "points", "N sampled", "N_opt",
           "N_opt CI", "D_opt", "L_opt", "status");
    for (b = 0; b < r->nbudgets; b++) {
        const cs_isoflop_budget *B = &r->budgets[b];
        char range[32], ci[40];
        snprintf(range, sizeof range, "%.3g..%.3g", B->N_lo, B->N_hi);
        snprintf(ci, sizeof ci, isfinite(B->N_opt_lo) ? "%.3g..%.3g" : "-", B->N_opt_lo,
                 B->N_opt_hi);
        if (B->status == CS_ISOFLOP_OK || B->status == CS_ISOFLOP_EDGE)
            printf("%-10.3g %6zu  %-19s %-10.4g %-23s %-10.4g %-8.4g %s\n", B->C, B->npoints, range,
                   B->N_opt, ci, B->D_opt, B->L_opt, cs_isoflop_status_name(B->status));
        else
            printf("%-10.3g %6zu  %-19s %-10s %-23s %-10s %-8s %s\n", B->C, B->npoints, range, "-",
                   ci, "-", "-", cs_isoflop_status_name(B->status));
    }
    printf("\n");
    print_power("N_opt", "a", &r->N_fit, r->level);
    print_power("D_opt", "b", &r->D_fit, r->level);
    if (r->nboot > 0)
        printf("bootstrap: %zu of %zu replicates usable\n", r->nboot_ok, r->nboot);
}

/* A warning on stderr for every budget left out of the fit. */
static void warn_skipped(const cs_isoflop_result *r)
{
    static const char *const why[] = {"", "fewer than 3 distinct N",
                                      "the parabola is not convex (curvature <= 0)",
                                      "its minimum lies outside the sampled N"};
    size_t b;

    for (b = 0; b < r->nbudgets; b++)
        if (r->budgets[b].status != CS_ISOFLOP_OK)
            fprintf(stderr, "ctxscale isoflop: warning: budget %.3g (%zu points): %s; skipped\n",
                    r->budgets[b].C, r->budgets[b].npoints, why[r->budgets[b].status]);
}

// ---- the command ---------------------------------------------------------------------------

/* Reads the points, runs the method and writes the outputs. */
static int run(const char *path, iso_args *a)
{
    cs_isoflop_select sel = cs_cli_points_select(&a->pts, false);
    cs_table *t = NULL;
    cs_isoflop_points *pts = NULL;
    cs_isoflop_result *r = NULL;
    double *budgets = NULL;
    int st;

    if (a->budgets && strcmp(a->budgets, "auto") != 0 &&
        (st = cs_optimal_parse_budgets(a->budgets, "--budgets", &budgets, &a->p.nbudgets)))
        return st;
    a->p.budgets = budgets;
    if ((st = cs_csv_read(path, NULL, &t)) || (st = cs_isoflop_points_read(t, &sel, &pts)))
        goto out_free;
    if ((st = cs_isoflop_run(pts->C, pts->N, pts->D, pts->L, pts->n, &a->p, &r)))
        goto out_free;
    warn_skipped(r);
    if (!a->json || strcmp(a->json, "-") != 0)
        print_result(r, pts, cs_table_source(t));
    if (a->json)
        st = cs_cli_write_json(result_json(r, pts, cs_table_source(t), a), a->json, a->force);
out_free:
    cs_isoflop_result_free(r);
    cs_isoflop_points_free(pts);
    cs_table_free(t);
    free(budgets);
    return st;
}

int cs_cli_isoflop(int argc, char **argv)
{
    iso_args a;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    return cs_cli_report(&isoflop_cmd, run(argv[optind], &a));
}
