/* plots/fig_isoflop.c: figures S1 and S2 (plots/fig_isoflop.h) — the IsoFLOP profiles of
 * Chinchilla's Approach 2 and the compute-optimal N and D of Approaches 1, 2 and 3 — drawn from
 * analysis/isoflop.h, analysis/envelope.h and fit/optimal.h. Test:
 * tests/unit/test_plot_figures.c.
 */
#include "plots/fig_isoflop.h"

#include "analysis/envelope.h"
#include "analysis/isoflop.h"
#include "core/error.h"
#include "core/table.h"
#include "fit/fitjson.h"
#include "fit/law.h"
#include "fit/optimal.h"
#include "plots/fig_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CURVE_POINTS 60 /* points of a drawn parabola or power law */

/* The points of table t (N, C, D, L and, with want_run, the run). */
static int read_points(const cs_figures_opts *o, cs_table *t, bool want_run,
                       cs_isoflop_points **pts)
{
    cs_isoflop_select sel = {o->maps,   o->nmaps,   o->derives, o->nderives,
                             o->wheres, o->nwheres, want_run};

    return cs_isoflop_points_read(t, &sel, pts);
}

/* Approach 2's parameters from the options; *budgets (to free) holds an explicit list. */
static int iso_params(const cs_figures_opts *o, size_t nboot, cs_isoflop_params *p,
                      double **budgets)
{
    *p = cs_isoflop_default_params();
    *budgets = NULL;
    p->nboot = nboot;
    p->seed = o->seed;
    if (o->tol > 0.0)
        p->tol = o->tol;
    if (o->min_points > 0)
        p->min_points = o->min_points;
    if (o->budgets && strcmp(o->budgets, "auto") != 0) {
        int st = cs_optimal_parse_budgets(o->budgets, "--budgets", budgets, &p->nbudgets);

        if (st)
            return st;
        p->budgets = *budgets;
    }
    return CS_OK;
}

static void warn_budgets(const cs_figures_opts *o, const cs_isoflop_result *r)
{
    size_t b;
    char c[32];

    for (b = 0; b < r->nbudgets; b++)
        if (r->budgets[b].status != CS_ISOFLOP_OK)
            cs_fig_util_warn(o, "budget %s FLOPs (%zu points): parabola %s; no minimum drawn",
                             cs_fig_util_num(c, r->budgets[b].C), r->budgets[b].npoints,
                             cs_isoflop_status_name(r->budgets[b].status));
}

// ---- S1 ------------------------------------------------------------------------------------

/* One budget of S1: its points, and its parabola in ln N where it has one. */
static int s1_budget(cs_plot *p, const cs_isoflop_result *r, const cs_isoflop_points *pts, size_t b)
{
    const cs_isoflop_budget *B = &r->budgets[b];
    cs_plot_look look = cs_plot_default_look();
    char title[96], c[32];
    size_t s, i;
    int st;

    look.rgb = cs_plot_ramp(r->nbudgets > 1 ? (double)b / (double)(r->nbudgets - 1) : 0.0);
    snprintf(title, sizeof title, "C = %s FLOPs%s", cs_fig_util_num(c, B->C),
             B->status == CS_ISOFLOP_OK ? "" : " (no interior minimum)");
    if ((st = cs_plot_add_series(p, 0, CS_PLOT_POINTS, title, &look, &s)))
        return st;
    for (i = 0; i < pts->n && st == CS_OK; i++)
        if (r->assign[i] == b)
            st = cs_plot_add_xy(p, s, pts->N[i], pts->L[i]);
    if (st || !isfinite(B->curvature) || !isfinite(B->N_opt))
        return st;
    if ((st = cs_plot_add_series(p, 0, CS_PLOT_LINES, NULL, &look, &s)))
        return st;
    for (i = 0; i < CURVE_POINTS && st == CS_OK; i++) {
        double u = log(B->N_lo / 1.25) +
                   log(1.25 * 1.25 * B->N_hi / B->N_lo) * (double)i / (CURVE_POINTS - 1);
        double d = u - log(B->N_opt);

        st = cs_plot_add_xy(p, s, exp(u), B->L_opt + 0.5 * B->curvature * d * d);
    }
    return st;
}

/* The points in no budget, small and grey. */
static int s1_others(cs_plot *p, const cs_isoflop_result *r, const cs_isoflop_points *pts)
{
    cs_plot_look look = cs_plot_default_look();
    size_t i, s;
    int st;

    look.rgb = 0xbbbbbb;
    look.point_size = 0.5;
    if ((st = cs_plot_add_series(p, 0, CS_PLOT_POINTS, "points in no budget", &look, &s)))
        return st;
    for (i = 0; i < pts->n && st == CS_OK; i++)
        if (r->assign[i] == SIZE_MAX)
            st = cs_plot_add_xy(p, s, pts->N[i], pts->L[i]);
    return st;
}

static int s1_draw(cs_plot *p, const cs_isoflop_result *r, const cs_isoflop_points *pts,
                   const char *source)
{
    cs_plot_look mark = cs_plot_default_look();
    size_t b, s;
    char a[32];
    int st = CS_OK;

    cs_plot_set_size(p, 1150, 720);
    cs_plot_set_title(p, "IsoFLOP profiles: loss against model size at fixed compute");
    cs_plot_set_axis(p, 0, 'x', "model size N (parameters)", true);
    cs_plot_set_axis(p, 0, 'y', "loss (nats/token)", false);
    cs_plot_set_key(p, 0, CS_PLOT_KEY_OUTSIDE);
    if (r->nunassigned > 0)
        st = s1_others(p, r, pts);
    for (b = 0; b < r->nbudgets && st == CS_OK; b++)
        st = s1_budget(p, r, pts, b);
    mark.rgb = 0x000000;
    mark.point = 13;
    mark.point_size = 1.6;
    if (st ||
        (st = cs_plot_add_series(p, 0, CS_PLOT_POINTS, "parabola minimum N_opt(C)", &mark, &s)))
        return st;
    for (b = 0; b < r->nbudgets && st == CS_OK; b++)
        if (r->budgets[b].status == CS_ISOFLOP_OK)
            st = cs_plot_add_xy(p, s, r->budgets[b].N_opt, r->budgets[b].L_opt);
    if (st == CS_OK)
        st = cs_plot_add_note(p,
                              "data: %s: %zu points in %zu budgets (%zu with an interior minimum), "
                              "%zu in no budget",
                              source, pts->n, r->nbudgets, r->nused, r->nunassigned);
    if (st == CS_OK)
        st = cs_plot_add_note(p,
                              "method: a parabola of the loss in ln N per budget (Hoffmann et al. "
                              "2022, Approach 2); over the minima N_opt = k C^a, a = %s",
                              cs_fig_util_num(a, r->N_fit.a));
    return st;
}

int cs_fig_isoflop_s1(const cs_figures_opts *o, cs_plot **out)
{
    cs_table *t = NULL;
    cs_isoflop_points *pts = NULL;
    cs_isoflop_result *r = NULL;
    cs_isoflop_params ip;
    double *budgets = NULL;
    cs_plot *p = NULL;
    int st;

    *out = NULL;
    if ((st = cs_fig_util_ninputs(o, "S1", 1, 1, "a CSV of final points")) ||
        (st = iso_params(o, 0, &ip, &budgets)) || (st = cs_fig_util_read_csv(o, 0, &t)) ||
        (st = read_points(o, t, false, &pts)) ||
        (st = cs_isoflop_run(pts->C, pts->N, pts->D, pts->L, pts->n, &ip, &r)))
        goto out_free;
    warn_budgets(o, r);
    if (!(p = cs_plot_alloc("S1"))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    if ((st = s1_draw(p, r, pts, cs_table_source(t))) == CS_OK) {
        *out = p;
        p = NULL;
    }
out_free:
    cs_plot_free(p);
    cs_isoflop_result_free(r);
    cs_isoflop_points_free(pts);
    cs_table_free(t);
    free(budgets);
    return st;
}

// ---- S2 ------------------------------------------------------------------------------------

/* One approach's power law y = k C^a over [Clo, Chi] with a band from the exponent's interval
 * (pivoted at the geometric centre of the range, where the fit is tightest). */
static int power_line(cs_plot *p, size_t panel, const cs_isoflop_power *pw, double Clo, double Chi,
                      int32_t rgb, const char *title)
{
    cs_plot_look look = cs_plot_default_look();
    double lc = 0.5 * (log(Clo) + log(Chi)), y0 = log(pw->k) + pw->a * lc;
    bool band = isfinite(pw->a_lo) && isfinite(pw->a_hi);
    size_t s, sb = 0, i;
    int st;

    look.rgb = rgb;
    if (band && (st = cs_plot_add_series(p, panel, CS_PLOT_BAND, NULL, &look, &sb)))
        return st;
    if ((st = cs_plot_add_series(p, panel, CS_PLOT_LINES, title, &look, &s)))
        return st;
    for (i = 0; i < CURVE_POINTS && st == CS_OK; i++) {
        double u = log(Clo) + (log(Chi) - log(Clo)) * (double)i / (CURVE_POINTS - 1), d = u - lc;
        double row[3] = {exp(u), exp(y0 + fmin(pw->a_lo * d, pw->a_hi * d)),
                         exp(y0 + fmax(pw->a_lo * d, pw->a_hi * d))};

        st = cs_plot_add_xy(p, s, exp(u), exp(y0 + pw->a * d));
        if (st == CS_OK && band)
            st = cs_plot_add_row(p, sb, row);
    }
    return st;
}

/* "Approach 2 (IsoFLOP parabolas): N_opt ~ C^0.49 [0.46, 0.52]" into buf. */
static void power_title(char *buf, size_t n, const char *approach, const char *what,
                        const cs_isoflop_power *pw)
{
    char a[32], lo[32], hi[32];

    if (isfinite(pw->a_lo))
        snprintf(buf, n, "%s: %s ~ C^%s [%s, %s]", approach, what, cs_fig_util_num(a, pw->a),
                 cs_fig_util_num(lo, pw->a_lo), cs_fig_util_num(hi, pw->a_hi));
    else
        snprintf(buf, n, "%s: %s ~ C^%s", approach, what, cs_fig_util_num(a, pw->a));
}

/* The state of an S2 build: the figure and the compute range drawn. */
typedef struct s2_state {
    cs_plot *p;
    double Clo, Chi; /* FLOPs; NaN until an approach sets them */
    int napproaches;
} s2_state;

static void widen(s2_state *s, double lo, double hi)
{
    s->Clo = isnan(s->Clo) ? lo : fmin(s->Clo, lo);
    s->Chi = isnan(s->Chi) ? hi : fmax(s->Chi, hi);
}

/* Approach 2: per-budget minima with their bootstrap intervals, and the power laws. */
static int s2_isoflop(s2_state *s, const cs_isoflop_result *r)
{
    cs_plot_look look = cs_plot_default_look();
    const double lo = r->N_fit.n ? r->budgets[0].C : NAN, hi = r->budgets[r->nbudgets - 1].C;
    size_t b, sn, sd;
    char title[160];
    int st;

    look.rgb = cs_plot_palette(1);
    widen(s, lo, hi);
    power_title(title, sizeof title, "Approach 2 (IsoFLOP parabolas)", "N_opt", &r->N_fit);
    if ((st = power_line(s->p, 0, &r->N_fit, lo, hi, look.rgb, title)))
        return st;
    power_title(title, sizeof title, "Approach 2 (IsoFLOP parabolas)", "D_opt", &r->D_fit);
    if ((st = power_line(s->p, 1, &r->D_fit, lo, hi, look.rgb, title)) ||
        (st = cs_plot_add_series(s->p, 0, CS_PLOT_ERRORBARS, NULL, &look, &sn)) ||
        (st = cs_plot_add_series(s->p, 1, CS_PLOT_ERRORBARS, NULL, &look, &sd)))
        return st;
    for (b = 0; b < r->nbudgets && st == CS_OK; b++) {
        const cs_isoflop_budget *B = &r->budgets[b];
        double nlo = isfinite(B->N_opt_lo) ? B->N_opt_lo : B->N_opt;
        double nhi = isfinite(B->N_opt_hi) ? B->N_opt_hi : B->N_opt;
        double rn[4] = {B->C, B->N_opt, nlo, nhi};
        double rd[4] = {B->C, B->D_opt, B->D_opt * B->N_opt / nhi, B->D_opt * B->N_opt / nlo};

        if (B->status != CS_ISOFLOP_OK)
            continue;
        if ((st = cs_plot_add_row(s->p, sn, rn)) == CS_OK)
            st = cs_plot_add_row(s->p, sd, rd);
    }
    s->napproaches++;
    return st;
}

/* Approach 1: the envelope's N and D along the compute grid, and the power laws. */
static int s2_envelope(s2_state *s, const cs_envelope_result *e)
{
    cs_plot_look look = cs_plot_default_look();
    size_t g, sn, sd, first = SIZE_MAX, last = 0;
    char title[160];
    int st;

    look.rgb = cs_plot_palette(0);
    look.width = 1.0;
    for (g = 0; g < e->ngrid; g++)
        if (e->run[g] != SIZE_MAX) {
            first = first == SIZE_MAX ? g : first;
            last = g;
        }
    if (first == SIZE_MAX)
        return CS_OK;
    widen(s, e->C[first], e->C[last]);
    if ((st = cs_plot_add_series(s->p, 0, CS_PLOT_LINES, NULL, &look, &sn)) ||
        (st = cs_plot_add_series(s->p, 1, CS_PLOT_LINES, NULL, &look, &sd)))
        return st;
    for (g = first; g <= last && st == CS_OK; g++)
        if ((st = cs_plot_add_xy(s->p, sn, e->C[g], e->N[g])) == CS_OK)
            st = cs_plot_add_xy(s->p, sd, e->C[g], e->D[g]);
    power_title(title, sizeof title, "Approach 1 (envelope of training curves)", "N_opt",
                &e->N_fit);
    if (st == CS_OK)
        st = power_line(s->p, 0, &e->N_fit, e->C[first], e->C[last], look.rgb, title);
    power_title(title, sizeof title, "Approach 1 (envelope of training curves)", "D_opt",
                &e->D_fit);
    if (st == CS_OK)
        st = power_line(s->p, 1, &e->D_fit, e->C[first], e->C[last], look.rgb, title);
    s->napproaches++;
    return st;
}

/* Compute range of a fit from its variables' ranges (6 N D at both ends), for S2 without data. */
static int fit_range(const cs_fitjson *fj, double *lo, double *hi)
{
    double nlo = NAN, nhi = NAN, dlo = NAN, dhi = NAN;
    size_t j;

    for (j = 0; j < fj->nvars; j++) {
        const cs_fitjson_var *v = &fj->vars[j];

        if (strcmp(v->name, "N") == 0 || strcmp(v->name, "Nnv") == 0)
            nlo = v->min, nhi = v->max;
        if (strcmp(v->name, "D") == 0)
            dlo = v->min, dhi = v->max;
    }
    if (!(nlo > 0 && dlo > 0 && isfinite(nhi) && isfinite(dhi)))
        return cs_fail(CS_EINPUT,
                       "%s: the fit has no positive N and D ranges to take the "
                       "compute range from; give a CSV of points too",
                       fj->source ? fj->source : "fit");
    *lo = 6.0 * nlo * dlo;
    *hi = 6.0 * nhi * dhi;
    return CS_OK;
}

/* Approach 3 drawn from a solved optimum per budget: lines, bands, the fitted exponent. */
static int s2_law_draw(s2_state *s, const cs_optimal_result *r, const double *C, size_t n,
                       const char *name)
{
    cs_plot_look look = cs_plot_default_look();
    double *Ns = malloc(2 * n * sizeof *Ns), *Ds = Ns + n;
    size_t b, sl[2], sb[2], k;
    char title[160], what[16], approach[96];
    cs_isoflop_power pw[2];
    int st = Ns ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");

    look.rgb = cs_plot_palette(2);
    for (b = 0; b < n && st == CS_OK; b++) {
        Ns[b] = r->rows[b].est.N;
        Ds[b] = r->rows[b].est.D;
    }
    for (k = 0; k < 2 && st == CS_OK; k++) {
        st = cs_isoflop_fit_power(C, k ? Ds : Ns, n, &pw[k]);
        pw[k].a_lo = pw[k].a_hi = NAN;
        snprintf(what, sizeof what, "%s", k ? "D_opt" : "N_opt");
        snprintf(approach, sizeof approach, "Approach 3 (fit of %s)", name);
        power_title(title, sizeof title, approach, what, &pw[k]);
        if (st == CS_OK && r->nsamples > 0)
            st = cs_plot_add_series(s->p, k, CS_PLOT_BAND, NULL, &look, &sb[k]);
        if (st == CS_OK)
            st = cs_plot_add_series(s->p, k, CS_PLOT_LINES, title, &look, &sl[k]);
    }
    for (b = 0; b < n && st == CS_OK; b++) {
        const cs_optimal_row *w = &r->rows[b];
        double bn[3] = {C[b], w->ci_N.lo, w->ci_N.hi}, bd[3] = {C[b], w->ci_D.lo, w->ci_D.hi};

        if ((st = cs_plot_add_xy(s->p, sl[0], C[b], w->est.N)) == CS_OK)
            st = cs_plot_add_xy(s->p, sl[1], C[b], w->est.D);
        if (st == CS_OK && r->nsamples > 0 && (st = cs_plot_add_row(s->p, sb[0], bn)) == CS_OK)
            st = cs_plot_add_row(s->p, sb[1], bd);
    }
    free(Ns);
    return st;
}

#define S2_BUDGETS     40  /* budgets Approach 3 is solved at */
#define S2_MAX_SAMPLES 200 /* bootstrap samples of the fit re-solved for the bands */

/* Approach 3: the fitted law of o->fit solved at S2_BUDGETS budgets over the drawn range. */
static int s2_law(s2_state *s, const cs_figures_opts *o)
{
    cs_optimal_params op = cs_optimal_default_params();
    cs_fitjson *fj = NULL;
    cs_law *law = NULL;
    cs_optimal_result *r = NULL;
    double *params = NULL, C[S2_BUDGETS];
    size_t j, ns = 0;
    bool Tf, Vf;
    int st;

    if ((st = cs_fitjson_read(o->fit, &fj)) || (st = cs_fitjson_law(fj, &law)))
        goto out_free;
    if (!(params = malloc((fj->nparams + 1) * sizeof *params))) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        goto out_free;
    }
    for (j = 0; j < fj->nparams; j++)
        params[j] = fj->params[j].estimate;
    if (isnan(s->Clo) && (st = fit_range(fj, &s->Clo, &s->Chi)))
        goto out_free;
    for (j = 0; j < S2_BUDGETS; j++)
        C[j] = exp(log(s->Clo) + (log(s->Chi) - log(s->Clo)) * (double)j / (S2_BUDGETS - 1));
    ns = fj->nboot < S2_MAX_SAMPLES ? fj->nboot : S2_MAX_SAMPLES;
    if (fj->level > 0.0 && fj->level < 1.0)
        op.level = fj->level;
    if ((st = cs_optimal_check(law, &op, &Tf, &Vf)) ||
        (st = cs_optimal_run(law, params, ns ? fj->boot : NULL, ns, C, S2_BUDGETS, &op, &r)))
        goto out_free;
    if ((st = s2_law_draw(s, r, C, S2_BUDGETS, fj->law_name ? fj->law_name : "L(N, D)")) == CS_OK)
        st = cs_plot_add_note(s->p,
                              "Approach 3: %s fitted in %s (%zu points), solved at C = 6ND; "
                              "band: %zu of its bootstrap samples re-solved",
                              fj->law_name ? fj->law_name : "the law", o->fit, fj->n_points, ns);
    s->napproaches++;
out_free:
    cs_optimal_result_free(r);
    free(params);
    cs_law_free(law);
    cs_fitjson_free(fj);
    return st;
}

/* Approaches 2 and (with runs) 1 from the CSV input. */
static int s2_data(s2_state *s, const cs_figures_opts *o)
{
    cs_table *t = NULL;
    cs_isoflop_points *pts = NULL, *runs = NULL;
    cs_isoflop_result *r = NULL;
    cs_envelope_result *e = NULL;
    cs_envelope_params ep = cs_envelope_default_params();
    cs_isoflop_params ip;
    double *budgets = NULL;
    int st;

    if ((st = iso_params(o, o->boot, &ip, &budgets)) || (st = cs_fig_util_read_csv(o, 0, &t)) ||
        (st = read_points(o, t, false, &pts)) ||
        (st = cs_isoflop_run(pts->C, pts->N, pts->D, pts->L, pts->n, &ip, &r)))
        goto out_free;
    warn_budgets(o, r);
    if ((st = s2_isoflop(s, r)) ||
        (st = cs_plot_add_note(s->p, "data: %s: %zu points; Approach 2 over %zu budgets",
                               cs_table_source(t), pts->n, r->nused)))
        goto out_free;
    if (!cs_fig_util_map(o, "run") && cs_table_find(t, "run") < 0)
        goto out_free; /* no runs: no Approach 1 */
    ep.nboot = o->boot;
    ep.seed = o->seed;
    st = read_points(o, t, true, &runs);
    if (st == CS_OK)
        st = cs_envelope_run(runs->run, runs->nruns, runs->C, runs->N, runs->D, runs->L, runs->n,
                             &ep, &e);
    if (st == CS_EINPUT) { /* e.g. one point per run: Approach 1 does not apply */
        cs_fig_util_warn(o, "Approach 1 left out: %s", cs_errmsg());
        st = CS_OK;
        goto out_free;
    }
    if (st == CS_OK && (st = s2_envelope(s, e)) == CS_OK)
        st = cs_plot_add_note(s->p, "Approach 1: the lowest loss over %zu runs at each compute",
                              runs->nruns);
out_free:
    cs_envelope_result_free(e);
    cs_isoflop_result_free(r);
    cs_isoflop_points_free(runs);
    cs_isoflop_points_free(pts);
    cs_table_free(t);
    free(budgets);
    return st;
}

static void s2_axes(cs_plot *p)
{
    cs_plot_set_size(p, 1300, 620);
    cs_plot_set_title(p, "Compute-optimal model size and training tokens");
    cs_plot_set_axis(p, 0, 'x', "training compute C (FLOPs)", true);
    cs_plot_set_axis(p, 0, 'y', "compute-optimal model size N_opt (parameters)", true);
    cs_plot_set_axis(p, 1, 'x', "training compute C (FLOPs)", true);
    cs_plot_set_axis(p, 1, 'y', "compute-optimal training tokens D_opt (tokens)", true);
    cs_plot_set_key(p, 0, CS_PLOT_KEY_TOP_LEFT);
    cs_plot_set_key(p, 1, CS_PLOT_KEY_TOP_LEFT);
}

int cs_fig_isoflop_s2(const cs_figures_opts *o, cs_plot **out)
{
    s2_state s = {NULL, NAN, NAN, 0};
    int st = CS_ENOMEM;

    *out = NULL;
    if ((st = cs_fig_util_ninputs(o, "S2", 0, 1, "a CSV of points, and/or --fit FILE.json")))
        return st;
    if (o->ninputs == 0 && !o->fit)
        return cs_fail(CS_EINPUT, "figure S2: give a CSV of points, --fit FILE.json, or both");
    if (!(s.p = cs_plot_alloc("S2")) || (st = cs_plot_add_panel(s.p, NULL, NULL)))
        goto out_free; /* st: CS_ENOMEM from its initial value, or the panel's status */
    s2_axes(s.p);
    if (o->ninputs == 1 && (st = s2_data(&s, o)))
        goto out_free;
    if (o->fit && (st = s2_law(&s, o)))
        goto out_free;
    if (o->ninputs == 1)
        st = cs_plot_add_note(s.p,
                              "bands of Approaches 1, 2: %g%% bootstrap interval (%zu "
                              "replicates) of the exponent, pivoted at the middle of the "
                              "range; error bars: of each budget's minimum",
                              100.0 * cs_isoflop_default_params().level, o->boot);
    if (st == CS_OK) {
        *out = s.p;
        s.p = NULL;
    }
out_free:
    cs_plot_free(s.p);
    return st;
}
