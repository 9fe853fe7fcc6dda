/* cli/analyze.c: `ctxscale analyze RUNS_DIR` — the context-scaling analysis of a sweep
 * (analysis/analyze.h): tables for people on stdout, --json for programs, --out DIR for the CSV
 * files the figures read (docs/analysis.md). Test: tests/cli/test_analyze.sh. */
#include "analysis/analyze.h"
#include "cli/cli.h"
#include "cli/opt.h"
#include "cli/shared_opts.h"
#include "core/afile.h"
#include "core/error.h"
#include "core/parse.h"
#include "fit/optimal.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_BUDGETS = 256,
    OPT_TOL,
    OPT_MIN_RUNS,
    OPT_FINAL,
    OPT_ROWS,
    OPT_UNIT,
    OPT_DATA,
    OPT_WINDOW,
    OPT_BOOT,
    OPT_SEED,
    OPT_LEVEL,
    OPT_NOISE,
    OPT_NO_LAW,
    OPT_LAW_BOOT,
    OPT_T_RANGE,
    OPT_THREADS,
};

static const cs_cli_opt analyze_opts[] = {
    {"out", 'o', required_argument, "DIR", "write the CSV files for the figures into DIR"},
    {"json", 'j', required_argument, "FILE", "write the whole result as JSON (- for stdout)"},
    {"force", 'f', no_argument, NULL, "overwrite existing output files"},
    {"quiet", 'q', no_argument, NULL, "print no tables (warnings still go to stderr)"},
    {"budgets", OPT_BUDGETS, required_argument, "SPEC",
     "FLOPs budgets: auto (default), C1,C2,... or LO:HI:K"},
    {"tol", OPT_TOL, required_argument, "DEX", "log10 C tolerance of a budget (default 0.015)"},
    {"min-runs", OPT_MIN_RUNS, required_argument, "K",
     "automatic budgets need K runs reaching them (default 3)"},
    {"final", OPT_FINAL, no_argument, NULL, "use only runs that end at a budget (no trajectories)"},
    {"rows", OPT_ROWS, required_argument, "eval|steps",
     "losses from eval rows (default) or training steps"},
    {"unit", OPT_UNIT, required_argument, "U", "auto (default), nats or bpb (bits per byte)"},
    {"data", OPT_DATA, required_argument, "NAME", "analyse only runs with this data_name"},
    {"window", OPT_WINDOW, required_argument, "K",
     "neighbours of the best context in the parabola (default 1)"},
    {"boot", OPT_BOOT, required_argument, "N", "bootstrap replicates of the optima (default 1000)"},
    {"seed", OPT_SEED, required_argument, "S", "bootstrap seed (default 1)"},
    {"level", OPT_LEVEL, required_argument, "P", "level of the bands (default 0.95)"},
    {"noise", OPT_NOISE, required_argument, "SD",
     "loss noise of every run (default: estimated from each trajectory)"},
    {"no-law", OPT_NO_LAW, no_argument, NULL, "do not fit the ndt law"},
    {"law-boot", OPT_LAW_BOOT, required_argument, "N",
     "bootstrap replicates of the law fit (default 100)"},
    {"T-range", OPT_T_RANGE, required_argument, "LO:HI",
     "contexts the law's optimum may take (default: sampled x1/4..x4)"},
    {"threads", OPT_THREADS, required_argument, "N", "fitting threads (default: all CPUs)"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd analyze_cmd = {
    "analyze",
    "[OPTIONS] RUNS_DIR",
    "The context-scaling analysis of a sweep: each run's loss at equal compute, U-curves of\n"
    "best-context loss against training context per budget and model size, the optimal context\n"
    "per budget (empirical, with bootstrap bands, and from the fitted ndt law), and whether\n"
    "ranking runs by average (training) loss picks the same runs as best-context loss.",
    analyze_opts,
    "Runs lacking a field an analysis needs are listed with the field and left out of it.\n"
    "Losses are in nats/token, or bits/byte when the runs' vocabularies differ.\n"
    "Method and output columns: docs/analysis.md.\n"
    "Example: ctxscale analyze runs/ --out analysis/ --json analysis/analysis.json\n",
};

typedef struct an_args {
    const char *out, *json, *budgets, *t_range;
    bool force, quiet;
    double *budget_list;
    cs_analyze_params p;
} an_args;

static int parse_choice(const char *arg, const char *what, const char *const *names, int *out)
{
    int i;

    for (i = 0; names[i]; i++)
        if (strcmp(arg, names[i]) == 0) {
            *out = i;
            return CS_OK;
        }
    return cs_fail(CS_EINPUT, "%s: expected %s or %s%s%s, got \"%s\"", what, names[0], names[1],
                   names[2] ? " or " : "", names[2] ? names[2] : "", arg);
}

static int take_number(int c, const char *arg, an_args *a)
{
    cs_analyze_params *p = &a->p;
    int st;

    switch (c) {
    case OPT_TOL:
        st = cs_parse_double_ex(arg, &p->tol, CS_PARSE_POSITIVE, "--tol");
        return st == CS_OK && !(p->tol < 1.0)
                   ? cs_fail(CS_EINPUT, "--tol: expected a number below 1 (decades), got %s", arg)
                   : st;
    case OPT_MIN_RUNS: return cs_cli_parse_size(arg, &p->min_runs, "--min-runs");
    case OPT_WINDOW:
        st = cs_cli_parse_size(arg, &p->ucurve.window, "--window");
        return st == CS_OK && p->ucurve.window == 0
                   ? cs_fail(CS_EINPUT, "--window: expected at least 1")
                   : st;
    case OPT_BOOT: return cs_cli_parse_size(arg, &p->ucurve.nboot, "--boot");
    case OPT_SEED: return cs_cli_parse_seed(arg, &p->ucurve.seed, "--seed");
    case OPT_LEVEL: return cs_cli_parse_fraction(arg, &p->ucurve.level, "--level");
    case OPT_NOISE: return cs_parse_double_ex(arg, &p->noise, CS_PARSE_NONNEGATIVE, "--noise");
    case OPT_LAW_BOOT: return cs_cli_parse_size(arg, &p->law_boot, "--law-boot");
    case OPT_THREADS: return cs_cli_parse_size(arg, &p->threads, "--threads");
    }
    return CS_OK;
}

/* One option into *a (an an_args). CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, void *ctx)
{
    an_args *a = ctx;
    static const char *const rows[] = {"eval", "steps", NULL};
    static const char *const units[] = {"auto", "nats", "bpb", NULL};

    switch (c) {
    case 'o': a->out = arg; return CS_OK;
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case 'q': a->quiet = true; return CS_OK;
    case OPT_BUDGETS: a->budgets = arg; return CS_OK;
    case OPT_FINAL: a->p.final_only = true; return CS_OK;
    case OPT_ROWS: return parse_choice(arg, "--rows", rows, &a->p.points.source);
    case OPT_UNIT: return parse_choice(arg, "--unit", units, &a->p.points.metric);
    case OPT_DATA: a->p.points.data = arg; return CS_OK;
    case OPT_NO_LAW: a->p.law = false; return CS_OK;
    case OPT_T_RANGE: return cs_cli_parse_range(arg, "--T-range", true, &a->p.T_lo, &a->p.T_hi);
    }
    return take_number(c, arg, a);
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, an_args *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    a->p = cs_analyze_default_params();
    if ((rc = cs_cli_parse_opts(&analyze_cmd, argc, argv, take_opt, a)) >= 0)
        return rc;
    if (optind + 1 != argc)
        return cs_cli_usage_error(&analyze_cmd, "expected one runs directory, got %d arguments",
                                  argc - optind);
    if (a->budgets && strcmp(a->budgets, "auto") != 0 &&
        cs_optimal_parse_budgets(a->budgets, "--budgets", &a->budget_list, &a->p.nbudgets) != CS_OK)
        return cs_cli_usage_error(&analyze_cmd, "%s", cs_errmsg());
    a->p.budgets = a->budget_list;
    return -1;
}

// ---- tables for people ---------------------------------------------------------------------

#define LIST_MAX 20

/* Lists the runs having any of `flags`, saying what they lack and what they are left out of. */
static void list_missing(const cs_analyze_result *r, unsigned flags, const char *what)
{
    size_t i, k = 0;
    char miss[1024];

    for (i = 0; i < r->pts->nruns; i++) {
        const cs_points_run *run = &r->pts->runs[i];
        unsigned f = run->missing & flags;
        if (!f || (flags != CS_POINTS_EXCLUDE && !cs_points_usable(run)))
            continue;
        if (k++ < LIST_MAX) {
            cs_points_missing_text(f, r->pts->source, miss, sizeof miss);
            fprintf(stderr, "ctxscale analyze: %s left out of %s: lacks %s\n", run->path, what,
                    miss);
        }
    }
    if (k > LIST_MAX)
        fprintf(stderr,
                "ctxscale analyze: ... and %zu more runs left out of %s (all listed in "
                "points.csv and the JSON)\n",
                k - LIST_MAX, what);
}

static void print_header(const cs_analyze_result *r)
{
    const cs_points *pts = r->pts;
    size_t b;

    printf("%s: %zu run logs, %zu used", pts->dir, pts->nruns, pts->nused);
    if (pts->nother_data)
        printf(" (%zu on other data sets not read)", pts->nother_data);
    printf("; data %s; losses in %s from %s rows\n", pts->data_name ? pts->data_name : "(unnamed)",
           cs_analyze_unit(r), pts->source == CS_POINTS_STEPS ? "steps" : "eval");
    printf("budgets (FLOPs):");
    for (b = 0; b < r->nbudgets; b++)
        printf(
            " %.3g%s", r->budgets[b].C,
            r->budgets[b].status == CS_ANALYZE_BUDGET_OK
                ? ""
                : (r->budgets[b].status == CS_ANALYZE_BUDGET_FEW ? " (few runs)" : " (unreached)"));
    printf("\n");
}

/* The U-curves of one budget as a table: a row per model, a column per context. */
static void print_ucurves(const cs_analyze_result *r, size_t b)
{
    double T[64];
    size_t i, j, k, nT = 0;

    for (i = 0; i < r->npoints; i++) {
        if (r->points[i].budget != b)
            continue;
        for (k = 0; k < nT && T[k] != r->points[i].T; k++)
            ;
        if (k == nT && nT < 64)
            T[nT++] = r->points[i].T;
    }
    for (i = 1; i < nT; i++)
        for (k = i; k > 0 && T[k] < T[k - 1]; k--) {
            double t = T[k];
            T[k] = T[k - 1];
            T[k - 1] = t;
        }
    printf("\nbest-context loss (%s) at C = %.3g FLOPs; * marks each model's best context\n",
           cs_analyze_unit(r), r->budgets[b].C);
    printf("%-10s", "N \\ T");
    for (k = 0; k < nT; k++)
        printf(" %9.0f", T[k]);
    printf("\n");
    for (i = 0; i < r->ncurves; i++) {
        const cs_analyze_curve *c = &r->curves[i];
        if (c->budget != b)
            continue;
        printf("%-10.4g", r->models[c->model].N);
        for (k = 0, j = 0; k < nT; k++) {
            const cs_analyze_point *q = &r->points[c->first + j];
            if (j < c->n && q->T == T[k]) {
                printf(" %8.4f%s", q->L, j == c->opt.best ? "*" : " ");
                j++;
            } else {
                printf(" %9s", "-");
            }
        }
        printf("\n");
    }
}

static void print_band(double lo, double hi)
{
    char s[64];

    if (isfinite(lo))
        snprintf(s, sizeof s, "%.0f..%.0f", lo, hi);
    else
        snprintf(s, sizeof s, "-");
    printf(" %-17s", s);
}

static void print_optima(const cs_analyze_result *r)
{
    size_t i;

    printf("\noptimal training context, empirical (parabola in ln T around the best point; "
           "%g%% bootstrap band)\n",
           100.0 * r->params.ucurve.level);
    printf("%-10s %-10s %-10s %9s %-17s %9s  %s\n", "budget", "model N", "N*", "T*", "band", "loss",
           "status");
    for (i = 0; i < r->ncurves; i++) {
        const cs_analyze_curve *c = &r->curves[i];
        printf("%-10.3g %-10.4g %-10s %9.0f", r->budgets[c->budget].C, r->models[c->model].N, "-",
               c->opt.x_opt);
        print_band(c->opt.x_lo, c->opt.x_hi);
        printf(" %9.4f  %s\n", c->opt.L_opt, cs_ucurve_status_name(c->opt.status));
    }
    for (i = 0; i < r->njoints; i++) {
        const cs_ucurve_joint *o = &r->joints[i].opt;
        printf("%-10.3g %-10s %-10.4g %9.0f", r->budgets[r->joints[i].budget].C, "joint", o->N_opt,
               o->T_opt);
        print_band(o->T_lo, o->T_hi);
        printf(" %9.4f  %s\n", o->L_opt, cs_ucurve_status_name(o->status));
    }
}

static void print_law(const cs_analyze_result *r)
{
    const cs_analyze_law *lw = &r->law;
    size_t i, j;

    if (!lw->fitted) {
        printf("\nndt law: %s\n", lw->message);
        return;
    }
    printf("\nndt law fitted to %zu finished runs: %s\n ", cs_dataset_n(lw->ds),
           cs_law_formula(lw->law));
    for (j = 0; j < cs_law_nparams(lw->law); j++)
        printf(" %s = %.4g", cs_law_param_name(lw->law, j), lw->fit->estimate[j]);
    printf("  (rmse %.3g)\n", lw->fit->rmse);
    printf("optimal training context from the law (T in %.0f..%.0f; %g%% band over %zu refits)\n",
           lw->T_lo, lw->T_hi, 100.0 * r->params.ucurve.level, lw->boot ? lw->boot->n : 0);
    printf("%-10s %-10s %-10s %9s %-17s %9s  %s\n", "budget", "model N", "N*", "T*", "band", "loss",
           "at bound");
    for (i = 0; i < lw->nrows; i++) {
        const cs_analyze_law_row *w = &lw->rows[i];
        bool joint = w->model == SIZE_MAX;
        char n[32];
        snprintf(n, sizeof n, "%.4g", w->N);
        printf("%-10.3g %-10s %-10s %9.0f", r->budgets[w->budget].C, joint ? "joint" : n,
               joint ? n : "-", w->T);
        print_band(w->T_lo, w->T_hi);
        printf(" %9.4f  %s\n", w->L,
               w->at_bound ? ((w->at_bound & CS_OPTIMAL_AT_T) ? "T" : "N") : "");
    }
}

static void print_ranks(const cs_analyze_result *r)
{
    size_t i;

    printf("\ndoes the average (training) loss pick the run with the best best-context loss?\n");
    printf("%-10s %5s %9s %8s  %-22s %-22s %s\n", "budget", "runs", "spearman", "kendall",
           "best by average (N, T)", "best by best-ctx (N, T)", "regret");
    for (i = 0; i < r->nranks; i++) {
        const cs_analyze_rank *k = &r->ranks[i];
        const cs_analyze_point *a = &r->points[k->r.best_avg], *b = &r->points[k->r.best_best];
        char sa[48], sb[48];
        if (k->model != SIZE_MAX)
            continue;
        snprintf(sa, sizeof sa, "%.3g, %.0f", r->models[a->model].N, a->T);
        snprintf(sb, sizeof sb, "%.3g, %.0f", r->models[b->model].N, b->T);
        printf("%-10.3g %5zu %9.3f %8.3f  %-22s %-22s %.4f%s\n", r->budgets[k->budget].C, k->r.n,
               k->r.spearman, k->r.kendall, sa, sb, k->r.regret,
               k->r.best_avg == k->r.best_best ? "" : "  (misleads)");
    }
}

static void print_result(const cs_analyze_result *r)
{
    size_t b;

    print_header(r);
    for (b = 0; b < r->nbudgets; b++)
        if (r->budgets[b].status == CS_ANALYZE_BUDGET_OK)
            print_ucurves(r, b);
    print_optima(r);
    print_law(r);
    if (r->nranks)
        print_ranks(r);
}

// ---- the command ---------------------------------------------------------------------------

static int write_json(const cs_analyze_result *r, const char *path, bool force)
{
    cs_afile *af = NULL;
    int st;

    if ((st = cs_afile_open(path, force, &af)))
        return st;
    if ((st = cs_analyze_write_json(r, cs_afile_stream(af)))) {
        cs_afile_abort(af);
        return st;
    }
    return cs_afile_commit(af);
}

static void print_warnings(const cs_analyze_result *r)
{
    size_t i;

    list_missing(r, CS_POINTS_EXCLUDE, "every analysis");
    list_missing(r, CS_POINTS_NO_AVG, "the rankings");
    if (r->params.law)
        list_missing(r, CS_POINTS_NO_D | CS_POINTS_UNFINISHED, "the law fit");
    for (i = 0; i < r->nwarnings; i++)
        fprintf(stderr, "ctxscale analyze: warning: %s\n", r->warnings[i]);
    if (r->params.law && !r->law.fitted)
        fprintf(stderr, "ctxscale analyze: ndt law %s\n", r->law.message);
}

static int run(const char *dir, const an_args *a)
{
    cs_analyze_result *r = NULL;
    int st;

    if ((st = cs_analyze_run(dir, &a->p, &r)))
        return st;
    print_warnings(r);
    if (!a->quiet && !(a->json && strcmp(a->json, "-") == 0))
        print_result(r);
    if (a->out)
        st = cs_analyze_write_csv(r, a->out, a->force);
    if (st == CS_OK && a->json)
        st = write_json(r, a->json, a->force);
    cs_analyze_result_free(r);
    return st;
}

int cs_cli_analyze(int argc, char **argv)
{
    an_args a;
    int rc = parse_args(argc, argv, &a);

    if (rc < 0)
        rc = cs_cli_report(&analyze_cmd, run(argv[optind], &a));
    free(a.budget_list);
    return rc;
}
