/* notebooks-c/nb_ucurves.c — U-curves and the optimal training context per budget: figures C6,
 * C7 and C8.
 *
 *     nb_ucurves --runs DIR --out DIR [--budgets SPEC] [--boot N] [--seed S] [--min-runs K]
 *                [--threads N] [--force]
 *
 * writes OUT/ucurves.md, the figures C6, C7, C8 in OUT/figures and the analysis tables in
 * OUT/analysis
 * (docs/analysis.md lists their columns). Test: tests/cli/test_report.sh; docs/notebooks.md.
 *
 * What this notebook teaches
 * --------------------------
 * Fix a training budget C (FLOPs). A model of N parameters trained at context T sees
 * D = C / cost(N, T) tokens, where the cost per token grows with T (attention), so a longer
 * context means fewer tokens. Two forces pull against each other: more context lowers the loss
 * a model can reach at the end of its context, fewer tokens raise it. Plot the best-context loss
 * of runs at equal compute against T and, if both forces matter, the curve is a U: too short a
 * context wastes what the text offers, too long a context starves the model of tokens. The
 * bottom of the U is the compute-optimal context at that budget, and the context-scaling
 * literature's claim is that it grows with the budget.
 *
 * The method (analysis/analyze.h, docs/analysis.md) in four steps:
 *   1. every run's loss at each budget it reaches, interpolated along its own trajectory in
 *      ln C (never extrapolated) — so runs that end at different compute still compare at
 *      equal compute;
 *   2. per budget and model size, the U-curve: best-context loss against T;
 *   3. its optimum: the best point, then a parabola in ln T through it and its neighbours;
 *      T* is the vertex when the parabola opens upwards and the vertex lies between the
 *      neighbours. If the best point is the smallest or largest context sampled, or fewer than
 *      three contexts reach the budget, there is *no interior minimum* and we say so rather than
 *      draw one;
 *   4. a band for T* from a parametric bootstrap: each replicate adds each point's own noise
 *      (estimated from the scatter of its trajectory) and finds the optimum again.
 *
 * Last, the ranking check: at each budget, do the runs rank the same by their average loss (what
 * training reports) as by their best-context loss? Where they do not, choosing a context by the
 * training loss would pick the wrong run.
 */
#include "analysis/analyze.h"
#include "core/error.h"
#include "core/runlog.h"
#include "notebooks-c/notebook.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cs_cli_opt opts[] = {
    {"runs", 'r', required_argument, "DIR", "the sweep's run logs"},
    {"out", 'o', required_argument, "DIR", "write ucurves.md, figures/ and analysis/ into DIR"},
    {"budgets", CS_NB_OPT_BUDGETS, required_argument, "SPEC",
     "FLOPs budgets: auto (default), C1,C2,... or LO:HI:K"},
    {"boot", CS_NB_OPT_BOOT, required_argument, "N", "bootstrap replicates of the optima (200)"},
    {"seed", CS_NB_OPT_SEED, required_argument, "S", "bootstrap seed (1)"},
    {"min-runs", CS_NB_OPT_MIN_RUNS, required_argument, "K",
     "automatic budgets need K runs reaching them (3)"},
    {"threads", CS_NB_OPT_THREADS, required_argument, "N", "threads (0: all CPUs; default 1)"},
    {"force", 'f', no_argument, NULL, "replace ucurves.md, the figures and the tables"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd cmd = {
    "nb_ucurves",
    "--runs DIR --out DIR [OPTIONS]",
    "Notebook: U-curves of best-context loss against training context at equal compute, the\n"
    "optimal context per budget with bootstrap bands, and the ranking check (figures C6, C7,\n"
    "C8); writes the Markdown section ucurves.md of the report.",
    opts,
    "docs/notebooks.md describes the notebooks; docs/analysis.md the method.\n",
};

typedef struct args {
    const char *runs, *out;
    cs_nb_analysis an; /* the analysis flags (notebook.h) */
    bool force;
} args;

static int take(int key, const char *arg, void *ctx)
{
    args *a = ctx;

    switch (key) {
    case 'r': a->runs = arg; return CS_OK;
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    }
    return cs_nb_analysis_take(&a->an, key, arg);
}

/* ---- Running the analysis ---------------------------------------------------------------------
 *
 * The same analysis as `ctxscale analyze` without the law fit (nb_laws fits it): the figures C6
 * to C8 run it again with the same settings, so text, tables and figures agree.
 */
static int analyze(const args *a, double **budgets, cs_analyze_result **r)
{
    return cs_nb_analysis_run(a->runs, &a->an, false, budgets, r);
}

/* ---- The runs -------------------------------------------------------------------------------- */

static void runs_table(cs_nb *nb, const cs_analyze_result *r)
{
    static const char *const head[] = {"run",         "status",     "N#",    "T#",
                                       "D (tokens)#", "C (FLOPs)#", "loss#", "left out because"};
    const cs_points *pts = r->pts;
    char b[6][32], miss[512];
    size_t i;

    cs_nb_md(nb, "The runs (final values; loss = best-context loss in %s):\n", cs_analyze_unit(r));
    cs_nb_table(nb, head, 8);
    for (i = 0; i < pts->nruns; i++) {
        const cs_points_run *p = &pts->runs[i];
        char *name = cs_nb_run_name(p->path);
        bool ok = p->n > 0;

        miss[0] = '\0';
        if (!cs_points_usable(p))
            cs_points_missing_text(p->missing & CS_POINTS_EXCLUDE, pts->source, miss, sizeof miss);
        cs_nb_tr(nb);
        cs_nb_td_text(nb, name ? name : p->path);
        cs_nb_td(nb, false, "%s", cs_runlog_status_name(p->status));
        cs_nb_td(nb, true, "%s", cs_nb_num(b[0], p->N, 4));
        cs_nb_td(nb, true, "%s", cs_nb_num(b[1], p->T, 6));
        cs_nb_td(nb, true, "%s", cs_nb_num(b[2], ok ? p->D[p->n - 1] : NAN, 4));
        cs_nb_td(nb, true, "%s", cs_nb_num(b[3], ok ? p->C[p->n - 1] : NAN, 4));
        cs_nb_td(nb, true, "%s", cs_nb_num(b[4], ok ? p->L[p->n - 1] : NAN, 4));
        cs_nb_td_text(nb, miss);
        cs_nb_tr_end(nb);
        free(name);
    }
    cs_nb_table_end(nb);
}

static void budgets_text(cs_nb *nb, const cs_analyze_result *r)
{
    char b[32];
    size_t i;

    cs_nb_md(nb, "Budgets (FLOPs; automatic budgets are the runs' final compute, grouped):");
    for (i = 0; i < r->nbudgets; i++) {
        const cs_analyze_budget *bu = &r->budgets[i];

        cs_nb_md(nb, "%s %s (%zu run%s%s)", i ? "," : "", cs_nb_num(b, bu->C, 3), bu->nruns,
                 bu->nruns == 1 ? "" : "s",
                 bu->status == CS_ANALYZE_BUDGET_OK    ? ""
                 : bu->status == CS_ANALYZE_BUDGET_FEW ? ", too few: left out"
                                                       : ", not reached: left out");
    }
    cs_nb_md(nb, ".\n\n");
}

/* What the analysis warned about (runs left out, budgets dropped, missing noise estimates). */
static void warnings(cs_nb *nb, const cs_analyze_result *r)
{
    size_t i;

    if (r->nwarnings == 0)
        return;
    cs_nb_md(nb, "The analysis warned:\n\n");
    for (i = 0; i < r->nwarnings; i++) {
        cs_nb_md(nb, "- ");
        cs_nb_text(nb, r->warnings[i]);
        cs_nb_md(nb, "\n");
    }
    cs_nb_md(nb, "\n");
}

/* ---- The optimum of each U-curve ---------------------------------------------------------------
 *
 * One row per budget and model size. The verdict column is the honest reading of the status:
 * only `ok` is an interior minimum; every other status says why there is none at this scale.
 */
static const char *why_none(int status)
{
    switch (status) {
    case CS_UCURVE_FEW: return "fewer than 3 contexts reach this budget";
    case CS_UCURVE_EDGE_LOW:
        return "best at the smallest context sampled: the optimum is there "
               "or below";
    case CS_UCURVE_EDGE_HIGH:
        return "best at the largest context sampled: the optimum is there "
               "or above";
    case CS_UCURVE_CURVATURE: return "the parabola around the best point has no minimum there";
    }
    return "";
}

/* The contexts of a curve as "16, 32, 64". */
static void curve_contexts(const cs_analyze_result *r, const cs_analyze_curve *c, char *buf,
                           size_t n)
{
    size_t k, len = 0;

    buf[0] = '\0';
    for (k = 0; k < c->n && len + 16 < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "%s%.6g", k ? ", " : "",
                                r->points[c->first + k].T);
}

static void band_text(char *buf, const cs_ucurve_opt *o)
{
    char lo[32], hi[32];

    if (isfinite(o->x_lo) && isfinite(o->x_hi))
        snprintf(buf, 80, "%s..%s", cs_nb_num(lo, o->x_lo, 3), cs_nb_num(hi, o->x_hi, 3));
    else
        snprintf(buf, 80, "none");
}

static void optima_row(cs_nb *nb, const cs_analyze_result *r, const cs_analyze_curve *c)
{
    const cs_ucurve_opt *o = &c->opt;
    char b[4][32], ctx[256], band[80];

    curve_contexts(r, c, ctx, sizeof ctx);
    band_text(band, o);
    cs_nb_tr(nb);
    cs_nb_td(nb, true, "%s", cs_nb_num(b[0], r->budgets[c->budget].C, 3));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[1], r->models[c->model].N, 4));
    cs_nb_td(nb, false, "%s", ctx);
    cs_nb_td(nb, true, "%s", cs_nb_num(b[2], o->x_opt, 3));
    cs_nb_td(nb, true, "%s", band);
    cs_nb_td(nb, true, "%s", cs_nb_num(b[3], o->L_opt, 4));
    if (o->status == CS_UCURVE_OK)
        cs_nb_td(nb, false, "interior minimum%s",
                 o->nboot_edge ? "; the band reaches an edge in some replicates" : "");
    else
        cs_nb_td(nb, false, "<strong>no interior minimum</strong>: %s", why_none(o->status));
    cs_nb_tr_end(nb);
}

static void optima(cs_nb *nb, const cs_analyze_result *r)
{
    static const char *const head[] = {"budget C#", "model N#", "contexts sampled", "T*#",
                                       "band#",     "loss#",    "verdict"};
    size_t i, nok = 0;
    char b1[32], b2[32];

    cs_nb_md(nb,
             "#### The optimal context of each U-curve\n\nT* is the parabola's minimum "
             "where there is one, else the best sampled context; the band is the %g%% "
             "bootstrap interval over %zu replicates.\n",
             100.0 * r->params.ucurve.level, r->params.ucurve.nboot);
    cs_nb_table(nb, head, 7);
    for (i = 0; i < r->ncurves; i++) {
        optima_row(nb, r, &r->curves[i]);
        nok += r->curves[i].opt.status == CS_UCURVE_OK;
    }
    cs_nb_table_end(nb);
    cs_nb_md(nb, "**%zu of %zu U-curves have an interior minimum.**", nok, r->ncurves);
    if (nok < r->ncurves)
        cs_nb_md(nb, " For the others this sweep does not show a U at this scale:");
    cs_nb_md(nb, "\n\n");
    for (i = 0; i < r->ncurves; i++) {
        const cs_analyze_curve *c = &r->curves[i];

        if (c->opt.status != CS_UCURVE_OK)
            cs_nb_md(nb,
                     "- no interior minimum at this scale for budget C = %s FLOPs, model "
                     "N = %s: %s.\n",
                     cs_nb_num(b1, r->budgets[c->budget].C, 3),
                     cs_nb_num(b2, r->models[c->model].N, 4), why_none(c->opt.status));
    }
    if (r->params.ucurve.nboot > 0 && isnan(r->noise_fill) && !r->noise_given)
        cs_nb_md(nb, "\nNo run has enough evaluation rows near the budgets to estimate its "
                     "noise (6 are needed), so the bootstrap had no noise to add and the bands "
                     "are empty.\n");
    cs_nb_md(nb, "\n");
}

/* ---- The joint optimum over N and T ------------------------------------------------------------
 *
 * With several model sizes, the budget's joint U-curve takes at each T the lowest loss over the
 * sizes; its optimum (joint-profile), and the quadratic surface in (ln N, ln T) around the best
 * point (joint), give the jointly optimal context and size at that budget — the table C8 draws
 * as the joint path.
 */
static void joint_row(cs_nb *nb, const cs_analyze_result *r, const cs_analyze_joint *j)
{
    const cs_ucurve_joint *o = &j->opt;
    char b[5][32], band[80];

    band_text(band, &j->profile);
    cs_nb_tr(nb);
    cs_nb_td(nb, true, "%s", cs_nb_num(b[0], r->budgets[j->budget].C, 3));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[1], j->profile.x_opt, 3));
    cs_nb_td(nb, true, "%s", band);
    cs_nb_td(nb, false, "%s", cs_ucurve_status_name(j->profile.status));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[2], o->N_opt, 3));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[3], o->T_opt, 3));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[4], o->L_opt, 4));
    cs_nb_td(nb, false, "%s", cs_ucurve_status_name(o->status));
    cs_nb_tr_end(nb);
}

static void joints(cs_nb *nb, const cs_analyze_result *r)
{
    static const char *const head[] = {"budget C#",     "T* (joint profile)#", "band#", "status",
                                       "N* (surface)#", "T* (surface)#",       "loss#", "status"};
    size_t i;

    cs_nb_md(nb, "#### The joint optimum over model size and context\n\nPer budget: the optimum "
                 "of the lowest loss over the model sizes at each context (joint profile), and "
                 "of the quadratic surface in (ln N, ln T) (status `few` when fewer than 3 "
                 "sizes or contexts: then the best point is given, not a minimum).\n");
    cs_nb_table(nb, head, 8);
    for (i = 0; i < r->njoints; i++)
        joint_row(nb, r, &r->joints[i]);
    cs_nb_table_end(nb);
}

/* ---- Does the training loss mislead? --------------------------------------------------------- */

static void rank_row(cs_nb *nb, const cs_analyze_result *r, const cs_analyze_rank *k)
{
    const cs_analyze_point *pa = &r->points[k->r.best_avg], *pb = &r->points[k->r.best_best];
    char b[8][32];

    cs_nb_tr(nb);
    cs_nb_td(nb, true, "%s", cs_nb_num(b[0], r->budgets[k->budget].C, 3));
    cs_nb_td(nb, true, "%zu", k->r.n);
    cs_nb_td(nb, true, "%s", cs_nb_num(b[1], k->r.spearman, 3));
    cs_nb_td(nb, true, "%s, %s", cs_nb_num(b[2], r->models[pa->model].N, 3),
             cs_nb_num(b[3], pa->T, 6));
    cs_nb_td(nb, true, "%s, %s", cs_nb_num(b[4], r->models[pb->model].N, 3),
             cs_nb_num(b[5], pb->T, 6));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[6], k->r.regret, 3));
    cs_nb_td(nb, false, "%s",
             k->r.best_avg == k->r.best_best ? "agrees" : "<strong>misleads</strong>");
    cs_nb_tr_end(nb);
}

static void rankings(cs_nb *nb, const cs_analyze_result *r)
{
    static const char *const head[] = {"budget C#",
                                       "points#",
                                       "Spearman ρ#",
                                       "best by average loss (N, T)#",
                                       "best by best-context loss (N, T)#",
                                       "regret#",
                                       ""};
    size_t i, n = 0, bad = 0;

    for (i = 0; i < r->nranks; i++)
        if (r->ranks[i].model == SIZE_MAX && r->ranks[i].r.n > 0) {
            n++;
            bad += r->ranks[i].r.best_avg != r->ranks[i].r.best_best;
        }
    cs_nb_md(nb, "#### Does the training loss mislead?\n\n");
    if (n == 0) {
        cs_nb_md(nb, "The runs record no average loss, so the ranking check is not made.\n\n");
        return;
    }
    cs_nb_md(nb, "At each budget the points are ranked by average loss (all positions 1..T) and "
                 "by best-context loss; *regret* is how much worse, in best-context loss, the "
                 "average-loss winner is than the best.\n");
    cs_nb_table(nb, head, 7);
    for (i = 0; i < r->nranks; i++)
        if (r->ranks[i].model == SIZE_MAX && r->ranks[i].r.n > 0)
            rank_row(nb, r, &r->ranks[i]);
    cs_nb_table_end(nb);
    cs_nb_md(nb,
             "At %zu of %zu budgets the average loss picks a different run than the "
             "best-context loss.\n\n",
             bad, n);
}

/* ---- Figures and the section ------------------------------------------------------------------
 */

static int figures(cs_nb *nb, const args *a)
{
    static const char *const ids[] = {"C6", "C7", "C8"};
    static const char *const captions[] = {
        "U-curves: best-context loss against training context at equal compute, one curve per "
        "budget, a panel per model size; dashed: each curve's parabola, with its minimum.",
        "Best-context loss against training context, one curve per model size, a panel per "
        "budget.",
        "Optimal training context against compute per model size with bootstrap bands; open "
        "circles: curves without an interior minimum (the best sampled context, not an "
        "optimum); the jointly optimal (N, T) path."};
    cs_figures_opts o = cs_figures_default_opts();
    const char *in[1] = {a->runs};
    size_t i;
    int st = CS_OK;

    o.inputs = in;
    o.ninputs = 1;
    o.budgets = a->an.budgets;
    o.min_points = a->an.min_runs;
    o.boot = a->an.boot;
    o.seed = a->an.seed;
    o.threads = a->an.threads;
    o.log = stderr;
    for (i = 0; i < 3 && st == CS_OK; i++)
        st = cs_nb_figure(nb, ids[i], &o, captions[i], NULL);
    return st;
}

static int write_section(cs_nb *nb, const cs_analyze_result *r, const args *a)
{
    cs_nb_md(nb, "<a id=\"ucurves\"></a>\n\n## U-curves and the optimal context per budget (C6, "
                 "C7, C8)\n\n");
    cs_nb_md(nb, "At a fixed compute budget a longer context costs tokens. The best-context "
                 "loss of runs at equal compute, against their training context, is a U when "
                 "both effects matter; its bottom is the compute-optimal context. Runs: ");
    cs_nb_name(nb, a->runs);
    cs_nb_md(nb, ", %zu run logs, %zu used", r->pts->nruns, r->pts->nused);
    if (r->pts->data_name) {
        cs_nb_md(nb, ", data set ");
        cs_nb_text(nb, r->pts->data_name);
    }
    cs_nb_md(nb,
             "; losses in %s. Tables: [points](analysis/points.csv), "
             "[U-curves](analysis/ucurve.csv), [optima](analysis/optimal_context.csv), "
             "[rankings](analysis/rankings.csv).\n\n",
             cs_analyze_unit(r));
    runs_table(nb, r);
    budgets_text(nb, r);
    warnings(nb, r);
    optima(nb, r);
    joints(nb, r);
    rankings(nb, r);
    return figures(nb, a);
}

int main(int argc, char **argv)
{
    static const char *const figs[] = {"C6", "C7", "C8"};
    args a = {.an = cs_nb_analysis_default()};
    cs_analyze_result *r = NULL;
    double *budgets = NULL;
    char *tables = NULL;
    cs_nb nb = {0};
    int rc = cs_nb_parse(&cmd, argc, argv, take, &a), st;

    if (rc >= 0)
        return rc;
    if (!a.runs || !a.out)
        return cs_nb_usage(&cmd, "--runs DIR and --out DIR are required");
    if ((st = analyze(&a, &budgets, &r)) ||
        (st = cs_nb_open(&nb, a.out, "ucurves", figs, 3, a.force)))
        goto out_free;
    if (!(tables = malloc(strlen(a.out) + 16))) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        cs_nb_abort(&nb);
        goto out_free;
    }
    sprintf(tables, "%s/analysis", a.out);
    if ((st = cs_analyze_write_csv(r, tables, a.force)) || (st = write_section(&nb, r, &a)))
        cs_nb_abort(&nb);
    else
        st = cs_nb_commit(&nb);
out_free:
    free(tables);
    free(budgets);
    cs_analyze_result_free(r);
    return cs_nb_report(&cmd, st);
}
