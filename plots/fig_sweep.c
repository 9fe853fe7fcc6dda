/* plots/fig_sweep.c: figures C6, C7 and C8 (plots/fig_sweep.h) from the context-scaling analysis
 * of a sweep (analysis/analyze.h), run in-process. Test: tests/cli/test_plot_sweep.sh.
 */
#include "plots/fig_sweep.h"

#include "analysis/analyze.h"
#include "core/error.h"
#include "fit/optimal.h"
#include "plots/fig_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NOTED 6 /* curves without an interior minimum named in the note; then a count */

/* Runs the analysis of o's one input (empirical optima only; no law fit) into *r. */
static int analyze(const cs_figures_opts *o, const char *id, cs_analyze_result **r)
{
    cs_analyze_params p = cs_analyze_default_params();
    double *budgets = NULL;
    size_t i;
    int st;

    *r = NULL;
    if ((st = cs_fig_util_ninputs(o, id, 1, 1, "the directory of a sweep's run logs")))
        return st;
    if (o->budgets && strcmp(o->budgets, "auto") != 0) {
        if ((st = cs_optimal_parse_budgets(o->budgets, "--budgets", &budgets, &p.nbudgets)))
            return st;
        p.budgets = budgets;
    }
    if (o->tol > 0)
        p.tol = o->tol;
    if (o->min_points > 0)
        p.min_runs = o->min_points;
    p.ucurve.nboot = o->boot;
    p.ucurve.seed = o->seed;
    p.law = false;
    p.threads = o->threads;
    st = cs_analyze_run(o->inputs[0], &p, r);
    free(budgets);
    if (st)
        return st;
    for (i = 0; i < (*r)->nwarnings; i++)
        cs_fig_util_warn(o, "%s", (*r)->warnings[i]);
    return CS_OK;
}

/* Why a curve has no interior optimum, in words. */
static const char *why_text(int status)
{
    switch (status) {
    case CS_UCURVE_FEW: return "fewer than 3 contexts";
    case CS_UCURVE_EDGE_LOW: return "best at the smallest context sampled";
    case CS_UCURVE_EDGE_HIGH: return "best at the largest context sampled";
    case CS_UCURVE_CURVATURE: return "the parabola has no minimum near the best point";
    }
    return "unknown";
}

/* The notes common to the sweep figures: what runs, what scale, which unit. */
static int scale_note(cs_plot *p, const cs_analyze_result *r)
{
    double Tlo = INFINITY, Thi = -INFINITY, Clo = INFINITY, Chi = -INFINITY;
    char a[32], b[32], c[32], d[32], e[32], f[32];
    size_t i;
    int st;

    for (i = 0; i < r->npoints; i++) {
        Tlo = fmin(Tlo, r->points[i].T);
        Thi = fmax(Thi, r->points[i].T);
    }
    for (i = 0; i < r->nbudgets; i++)
        if (r->budgets[i].status == CS_ANALYZE_BUDGET_OK) {
            Clo = fmin(Clo, r->budgets[i].C);
            Chi = fmax(Chi, r->budgets[i].C);
        }
    if ((st = cs_plot_add_note(p, "sweep: %s: %zu runs used of %zu; data: %s", r->pts->dir,
                               r->pts->nused, r->pts->nruns,
                               r->pts->data_name ? r->pts->data_name : "?")))
        return st;
    return cs_plot_add_note(
        p, "%zu model sizes, N = %s..%s; T = %s..%s tokens; %zu budgets, C = %s..%s FLOPs",
        r->nmodels, cs_fig_util_num(a, r->models[0].N),
        cs_fig_util_num(b, r->models[r->nmodels - 1].N), cs_fig_util_num(c, Tlo),
        cs_fig_util_num(d, Thi), r->nbudgets_ok, cs_fig_util_num(e, Clo), cs_fig_util_num(f, Chi));
}

/* The note on curves without an interior optimum; `n` counts them (the first MAX_NOTED are
 * named by the caller). */
static int edge_note(cs_plot *p, const cs_analyze_result *r, const cs_analyze_curve *c, size_t *n)
{
    char a[32], b[32];

    if (c->opt.status == CS_UCURVE_OK || (*n)++ >= MAX_NOTED)
        return CS_OK;
    return cs_plot_add_note(p, "no interior minimum at N = %s, C = %s FLOPs: %s",
                            cs_fig_util_num(a, r->models[c->model].N),
                            cs_fig_util_num(b, r->budgets[c->budget].C), why_text(c->opt.status));
}

static int edge_total(cs_plot *p, size_t n, size_t ncurves)
{
    int st = CS_OK;

    if (n > MAX_NOTED)
        st = cs_plot_add_note(p, "... %zu more curves without an interior minimum", n - MAX_NOTED);
    if (st == CS_OK && n == 0)
        st = cs_plot_add_note(p, "every one of the %zu curves has an interior minimum", ncurves);
    return st;
}

/* A U-curve into a panel: its points, and where it has an interior optimum the parabola
 * (dashed, over the points it was fitted to) and its minimum (a large point). */
static int draw_curve(cs_plot *p, size_t panel, const cs_analyze_result *r,
                      const cs_analyze_curve *c, const char *title, int32_t rgb)
{
    cs_plot_look look = cs_plot_default_look();
    size_t s, k;
    int st;

    look.rgb = rgb;
    if ((st = cs_plot_add_series(p, panel, CS_PLOT_LINESPOINTS, title, &look, &s)))
        return st;
    for (k = 0; k < c->n && st == CS_OK; k++)
        st = cs_plot_add_xy(p, s, r->points[c->first + k].T, r->points[c->first + k].L);
    if (st || c->opt.status != CS_UCURVE_OK || !isfinite(c->opt.a[2]))
        return st;
    look.dash = CS_PLOT_DASHED;
    look.width = 1.2;
    if ((st = cs_plot_add_series(p, panel, CS_PLOT_LINES, NULL, &look, &s)))
        return st;
    for (k = 0; k <= 40 && st == CS_OK; k++) {
        double u = c->opt.u_lo + (c->opt.u_hi - c->opt.u_lo) * (double)k / 40.0;

        st = cs_plot_add_xy(p, s, exp(u), c->opt.a[0] + c->opt.a[1] * u + c->opt.a[2] * u * u);
    }
    look.dash = CS_PLOT_SOLID;
    look.point = 9; /* filled triangle */
    look.point_size = 2.0;
    if (st == CS_OK && (st = cs_plot_add_series(p, panel, CS_PLOT_POINTS, NULL, &look, &s)) == 0)
        st = cs_plot_add_xy(p, s, c->opt.x_opt, c->opt.L_opt);
    return st;
}

/* Legend entries explaining the parabola and its minimum. */
static int explain(cs_plot *p, size_t panel)
{
    cs_plot_look look = cs_plot_default_look();
    int st;

    look.rgb = 0x606060;
    look.dash = CS_PLOT_DASHED;
    look.width = 1.2;
    st = cs_plot_add_rule(p, panel, 'k', 0.0, "dashed: parabola in ln T around the best point",
                          &look);
    return st;
}

static double ramp_at(size_t i, size_t n)
{
    return n > 1 ? 0.85 * (double)i / (double)(n - 1) : 0.0;
}

/* Sets the axes of a U-curve panel. */
static void ucurve_axes(cs_plot *p, size_t panel, const cs_analyze_result *r)
{
    char y[96];

    snprintf(y, sizeof y, "best-context loss (%s)", cs_analyze_unit(r));
    cs_plot_set_axis(p, panel, 'x', "training context T (tokens)", true);
    cs_plot_set_axis(p, panel, 'y', y, false);
}

/* C6 (by_budget false: a panel per model size, a curve per budget) or C7 (true: a panel per
 * budget, a curve per model size). */
static int ucurves(const cs_figures_opts *o, const char *id, bool by_budget, cs_plot **out)
{
    cs_analyze_result *r = NULL;
    cs_plot *p = NULL;
    size_t i, k, panel, npanels, nedge = 0;
    char title[160], a[32];
    int st;

    *out = NULL;
    if ((st = analyze(o, id, &r)))
        return st;
    if (!(p = cs_plot_alloc(id))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    cs_plot_set_title(p, by_budget ? "Best-context loss against training context, per budget"
                                   : "U-curves: best-context loss against training context");
    npanels = by_budget ? r->nbudgets_ok : r->nmodels;
    for (k = 0, panel = 0; k < (by_budget ? r->nbudgets : r->nmodels) && st == CS_OK; k++) {
        if (by_budget && r->budgets[k].status != CS_ANALYZE_BUDGET_OK)
            continue;
        if (by_budget)
            snprintf(title, sizeof title, "C = %s FLOPs", cs_fig_util_num(a, r->budgets[k].C));
        else
            snprintf(title, sizeof title, "N = %s parameters", cs_fig_util_num(a, r->models[k].N));
        if (panel > 0 && (st = cs_plot_add_panel(p, NULL, &panel)))
            break;
        if ((st = cs_plot_set_panel_title(p, panel, title)))
            break;
        ucurve_axes(p, panel, r);
        for (i = 0; i < r->ncurves && st == CS_OK; i++) {
            const cs_analyze_curve *c = &r->curves[i];
            size_t m = c->model, b = c->budget;

            if ((by_budget ? b : m) != k)
                continue;
            if (by_budget)
                snprintf(title, sizeof title, "N = %s", cs_fig_util_num(a, r->models[m].N));
            else
                snprintf(title, sizeof title, "C = %s FLOPs", cs_fig_util_num(a, r->budgets[b].C));
            st = draw_curve(p, panel, r, c, title,
                            by_budget ? cs_plot_ramp(ramp_at(m, r->nmodels))
                                      : cs_plot_ramp(ramp_at(b, r->nbudgets)));
            if (st == CS_OK)
                st = edge_note(p, r, c, &nedge);
        }
        if (st == CS_OK)
            st = explain(p, panel);
        panel++;
    }
    if (st == CS_OK && npanels > 3)
        cs_plot_set_size(p, 1400, 500 * (int)((npanels + 1) / 2));
    else if (st == CS_OK && npanels > 1)
        cs_plot_set_size(p, 600 * (int)npanels, 600);
    if (st == CS_OK && (st = cs_plot_add_note(p, "triangles: minimum of the parabola")) == CS_OK &&
        (st = edge_total(p, nedge, r->ncurves)) == CS_OK)
        st = scale_note(p, r);
    if (st == CS_OK) {
        *out = p;
        p = NULL;
    }
out_free:
    cs_plot_free(p);
    cs_analyze_result_free(r);
    return st;
}

int cs_fig_sweep_c6(const cs_figures_opts *o, cs_plot **out)
{
    return ucurves(o, "C6", false, out);
}

int cs_fig_sweep_c7(const cs_figures_opts *o, cs_plot **out)
{
    return ucurves(o, "C7", true, out);
}

// ---- C8 ------------------------------------------------------------------------------------

/* Model m's optimal context per budget: band, line through the interior optima, and open
 * points at the best sampled context of curves without one. */
static int c8_model(cs_plot *p, const cs_analyze_result *r, size_t m, bool *edge_titled)
{
    cs_plot_look look = cs_plot_default_look();
    size_t i, sb, sl, se;
    char title[96], a[32];
    int st;

    look.rgb = cs_plot_ramp(ramp_at(m, r->nmodels));
    snprintf(title, sizeof title, "N = %s", cs_fig_util_num(a, r->models[m].N));
    if ((st = cs_plot_add_series(p, 0, CS_PLOT_BAND, NULL, &look, &sb)) ||
        (st = cs_plot_add_series(p, 0, CS_PLOT_LINESPOINTS, title, &look, &sl)))
        return st;
    look.point = 6; /* open circle */
    look.point_size = 1.5;
    if ((st = cs_plot_add_series(
             p, 0, CS_PLOT_POINTS,
             *edge_titled ? NULL : "open: best sampled context (no interior minimum)", &look, &se)))
        return st;
    for (i = 0; i < r->ncurves && st == CS_OK; i++) {
        const cs_analyze_curve *c = &r->curves[i];
        double C = r->budgets[c->budget].C;

        if (c->model != m)
            continue;
        if (c->opt.status != CS_UCURVE_OK) {
            *edge_titled = true;
            st = cs_plot_add_xy(p, se, C, r->points[c->first + c->opt.best].T);
            continue;
        }
        if (isfinite(c->opt.x_lo) && isfinite(c->opt.x_hi)) {
            double row[3] = {C, c->opt.x_lo, c->opt.x_hi};

            st = cs_plot_add_row(p, sb, row);
        }
        if (st == CS_OK)
            st = cs_plot_add_xy(p, sl, C, c->opt.x_opt);
    }
    return st;
}

/* The joint (N, T) optimum per budget: T in panel 0, N in panel 1, bands where bootstrapped. */
static int c8_joint(cs_plot *p, const cs_analyze_result *r, size_t *nedge)
{
    cs_plot_look look = cs_plot_default_look();
    size_t j, sT, sN, bT, bN;
    char a[32];
    int st;

    look.rgb = 0x000000;
    look.width = 2.5;
    if ((st = cs_plot_add_series(p, 0, CS_PLOT_BAND, NULL, &look, &bT)) ||
        (st = cs_plot_add_series(p, 0, CS_PLOT_LINESPOINTS, "joint optimum over N and T", &look,
                                 &sT)) ||
        (st = cs_plot_add_series(p, 1, CS_PLOT_BAND, NULL, &look, &bN)) ||
        (st = cs_plot_add_series(p, 1, CS_PLOT_LINESPOINTS, "joint optimum over N and T", &look,
                                 &sN)))
        return st;
    for (j = 0; j < r->njoints && st == CS_OK; j++) {
        const cs_ucurve_joint *J = &r->joints[j].opt;
        double C = r->budgets[r->joints[j].budget].C;

        if (J->status != CS_UCURVE_OK) {
            (*nedge)++;
            st = cs_plot_add_note(p, "no interior joint optimum at C = %s FLOPs: %s",
                                  cs_fig_util_num(a, C),
                                  J->status == CS_UCURVE_FEW ? "fewer than 3 sizes or contexts"
                                  : J->edge_T                ? "best point at an edge of T"
                                  : J->edge_N                ? "best point at an edge of N"
                                              : "the surface has no minimum near the best point");
            continue;
        }
        if (isfinite(J->T_lo) && isfinite(J->T_hi)) {
            double row[3] = {C, J->T_lo, J->T_hi};

            st = cs_plot_add_row(p, bT, row);
        }
        if (st == CS_OK && isfinite(J->N_lo) && isfinite(J->N_hi)) {
            double row[3] = {C, J->N_lo, J->N_hi};

            st = cs_plot_add_row(p, bN, row);
        }
        if (st == CS_OK && (st = cs_plot_add_xy(p, sT, C, J->T_opt)) == CS_OK)
            st = cs_plot_add_xy(p, sN, C, J->N_opt);
    }
    return st;
}

int cs_fig_sweep_c8(const cs_figures_opts *o, cs_plot **out)
{
    cs_analyze_result *r = NULL;
    cs_plot *p = NULL;
    size_t m, i, panel, nedge = 0, njedge = 0;
    bool edge_titled = false;
    int st;

    *out = NULL;
    if ((st = analyze(o, "C8", &r)))
        return st;
    if (!(p = cs_plot_alloc("C8"))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    cs_plot_set_title(p, "Optimal training context against compute");
    cs_plot_set_axis(p, 0, 'x', "compute budget C (FLOPs)", true);
    cs_plot_set_axis(p, 0, 'y', "optimal training context T* (tokens)", true);
    cs_plot_set_panel_title(p, 0, "per model size, and jointly over N and T");
    cs_plot_set_key(p, 0, CS_PLOT_KEY_TOP_LEFT);
    if ((st = cs_plot_add_panel(p, "model size of the joint optimum", &panel)))
        goto out_free;
    cs_plot_set_axis(p, panel, 'x', "compute budget C (FLOPs)", true);
    cs_plot_set_axis(p, panel, 'y', "non-embedding parameters N* of the joint optimum", true);
    cs_plot_set_key(p, panel, CS_PLOT_KEY_TOP_LEFT);
    cs_plot_set_size(p, 1400, 650);
    for (m = 0; m < r->nmodels && st == CS_OK; m++)
        st = c8_model(p, r, m, &edge_titled);
    for (i = 0; i < r->ncurves && st == CS_OK; i++)
        st = edge_note(p, r, &r->curves[i], &nedge);
    if (st == CS_OK && (st = c8_joint(p, r, &njedge)) == CS_OK &&
        (st = cs_plot_add_note(p, "bands: %.0f%% bootstrap intervals (%zu replicates)%s",
                               100.0 * r->params.ucurve.level, r->params.ucurve.nboot,
                               r->params.ucurve.nboot ? "" : ": none drawn")) == CS_OK &&
        (st = edge_total(p, nedge, r->ncurves)) == CS_OK)
        st = scale_note(p, r);
    if (st == CS_OK) {
        *out = p;
        p = NULL;
    }
out_free:
    cs_plot_free(p);
    cs_analyze_result_free(r);
    return st;
}
