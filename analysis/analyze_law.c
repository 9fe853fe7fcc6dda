/* analysis/analyze_law.c: the law part of the context-scaling analysis — the `ndt` law
 * L = E + A/N^alpha + B/D^beta + G/T^gamma (docs/laws.md) fitted to one point per finished run,
 * its bootstrap, and its optimal context per budget: per model size (N fixed, T free, D = C /
 * cost(T) with the model's own FLOPs per token) and jointly over N and T (fit/optimal.h with the
 * Kaplan cost). Tested in tests/unit/test_analyze.c.
 */
#include "analysis/analyze_internal.h"
#include "analysis/isoflop.h"
#include "core/error.h"
#include "core/flops.h"
#include "core/rng.h"
#include "fit/optimal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAW_NAME    "ndt"
#define SCAN        121 /* points of the scan in ln T before the golden-section search */
#define GRID_POINTS 128 /* the multi-start runs on at most this many points */

/* The law's data: one row per finished usable run with its final N, D, T and loss. */
static int law_table(const cs_analyze_result *r, cs_table **out)
{
    static const char *const cols[4] = {"N", "D", "T", "L"};
    const unsigned skip = CS_POINTS_EXCLUDE | CS_POINTS_NO_D | CS_POINTS_UNFINISHED;
    cs_table *t = cs_table_alloc(r->pts->dir);
    size_t i, j, row;
    int st = t ? CS_OK : CS_ENOMEM;

    for (j = 0; j < 4 && st == CS_OK; j++)
        st = cs_table_add_col(t, cols[j], CS_COL_NUM, NULL);
    for (i = 0; i < r->pts->nruns && st == CS_OK; i++) {
        const cs_points_run *run = &r->pts->runs[i];
        if (run->missing & skip)
            continue;
        if ((st = cs_table_append_row(t, i + 1)))
            break;
        row = cs_table_nrows(t) - 1;
        cs_table_set_num(t, row, 0, run->N);
        cs_table_set_num(t, row, 1, run->D[run->n - 1]);
        cs_table_set_num(t, row, 2, run->T);
        cs_table_set_num(t, row, 3, run->L[run->n - 1]);
    }
    if (st) {
        cs_table_free(t);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    *out = t;
    return CS_OK;
}

/* Why the law cannot be fitted to these runs, or NULL. */
static const char *ineligible(const cs_analyze_result *r, size_t npoints, char *buf, size_t n)
{
    size_t i;

    for (i = 1; i < r->nmodels; i++)
        if (r->models[i].V != r->models[0].V && !isnan(r->models[0].V)) {
            snprintf(buf, n,
                     "not fitted: the ndt law has no vocabulary term and the runs have "
                     "several vocabularies (choose one with --data or separate runs)");
            return buf;
        }
    if (npoints < 8) {
        snprintf(buf, n,
                 "not fitted: ndt has 7 parameters and needs 8 finished runs with a final "
                 "token count, best-context loss, N and T; %zu have them",
                 npoints);
        return buf;
    }
    return NULL;
}

/* GRID_POINTS rows of t drawn without replacement (a fixed shuffle, so that no sweep pattern
 * aliases with the draw), as a new table (*out). */
static int subset_table(const cs_table *t, cs_table **out)
{
    size_t n = cs_table_nrows(t), i, j, *order = malloc(n * sizeof *order);
    cs_table *s = cs_table_alloc(cs_table_source(t));
    int st = s && order ? CS_OK : CS_ENOMEM;
    cs_rng rng;

    for (i = 0; i < n && order; i++)
        order[i] = i;
    cs_rng_seed(&rng, 1, 0);
    if (order)
        cs_rng_shuffle(&rng, order, n);
    for (j = 0; j < cs_table_ncols(t) && st == CS_OK; j++)
        st = cs_table_add_col(s, cs_table_col_name(t, j), CS_COL_NUM, NULL);
    for (i = 0; i < GRID_POINTS && st == CS_OK; i++) {
        if ((st = cs_table_append_row(s, cs_table_row_line(t, order[i]))))
            break;
        for (j = 0; j < cs_table_ncols(t); j++)
            cs_table_set_num(s, i, j, cs_table_num(t, order[i], j));
    }
    free(order);
    if (st) {
        cs_table_free(s);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    *out = s;
    return CS_OK;
}

/* With more than GRID_POINTS points, the multi-start runs on a subset and the law's grid is
 * narrowed to its best start, from which cs_fit_run refines on all points; the subset fit's
 * warnings (about the grid) replace the refinement's. Else a plain cs_fit_run. */
static int fit_points(cs_analyze_law *lw, const cs_table *t, const cs_fit_params *fp)
{
    cs_table *sub = NULL;
    cs_dataset *ds = NULL;
    cs_fit_result *first = NULL;
    char spec[1024];
    size_t j, len = 0;
    int st;

    if (cs_table_nrows(t) <= GRID_POINTS)
        return cs_fit_run(lw->law, lw->ds, fp, &lw->fit);
    if ((st = subset_table(t, &sub)) || (st = cs_dataset_build(sub, lw->law, NULL, &ds)) ||
        (st = cs_fit_run(lw->law, ds, fp, &first)))
        goto out_free;
    for (j = 0; j < cs_law_nparams(lw->law) && len < sizeof spec; j++)
        len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%s=%.17g", j ? " " : "",
                                cs_law_param_name(lw->law, j), first->estimate[j]);
    if ((st = cs_law_set_grid(lw->law, spec)) || (st = cs_fit_run(lw->law, lw->ds, fp, &lw->fit)))
        goto out_free;
    char **w = lw->fit->warnings; /* swap: the grid warnings are the subset fit's */
    size_t nw = lw->fit->nwarnings;
    lw->fit->warnings = first->warnings;
    lw->fit->nwarnings = first->nwarnings;
    first->warnings = w;
    first->nwarnings = nw;
out_free:
    cs_fit_result_free(first);
    cs_dataset_free(ds);
    cs_table_free(sub);
    return st;
}

/* Fits the law into r->law (fitted stays false with a message when it cannot be fitted).
 * Returns CS_OK or CS_ENOMEM. */
static int fit_law(cs_analyze_result *r)
{
    cs_analyze_law *lw = &r->law;
    cs_fit_params fp = cs_fit_default_params();
    cs_boot_params bp = cs_boot_default_params();
    cs_table *t = NULL;
    size_t i;
    int st;

    if ((st = law_table(r, &t)))
        return st;
    if (ineligible(r, cs_table_nrows(t), lw->message, sizeof lw->message)) {
        cs_table_free(t);
        return CS_OK;
    }
    fp.threads = r->params.threads;
    if (!(lw->law = cs_law_builtin(LAW_NAME)))
        st = CS_ENOMEM; /* the built-in exists: only allocation can fail */
    else if ((st = cs_dataset_build(t, lw->law, NULL, &lw->ds)) == CS_OK)
        st = fit_points(lw, t, &fp);
    cs_table_free(t);
    if (st == CS_ENOMEM)
        return st;
    if (st) {
        snprintf(lw->message, sizeof lw->message, "not fitted: %s", cs_errmsg());
        return CS_OK;
    }
    lw->fitted = true;
    for (i = 0; i < lw->fit->nwarnings; i++)
        if ((st = cs_analyze_warn(r, "law fit: %s", lw->fit->warnings[i])))
            return st;
    bp.n = r->params.law_boot;
    bp.seed = r->params.ucurve.seed;
    bp.level = r->params.ucurve.level;
    if (bp.n > 0 && (st = cs_boot_run(lw->law, lw->ds, &fp, lw->fit, &bp, &lw->boot)))
        return st == CS_ENOMEM ? st : cs_analyze_warn(r, "law bootstrap failed: %s", cs_errmsg());
    return CS_OK;
}

// ---- per model size: T free, N fixed -----------------------------------------------------

typedef struct size_problem {
    const cs_law *law;
    const double *theta; /* law parameters */
    long iN, iD, iT;     /* law variable indices */
    double N, C;         /* model size, budget */
    double a, b;         /* FLOPs per token = a + b T */
} size_problem;

static double size_loss(const size_problem *sp, double u)
{
    double vars[3], T = exp(u), v;

    vars[sp->iN] = sp->N;
    vars[sp->iT] = T;
    vars[sp->iD] = sp->C / (sp->a + sp->b * T);
    if (cs_law_eval(sp->law, sp->theta, vars, &v) != CS_OK || !isfinite(v))
        return INFINITY;
    return v;
}

/* Minimises the loss over u = ln T in [lo, hi]: a scan, then golden section around the best
 * scan point. Returns u*, its loss in *L and whether it lies on the range's edge in *edge. */
static double size_minimise(const size_problem *sp, double lo, double hi, double *L, bool *edge)
{
    const double g = (sqrt(5.0) - 1.0) / 2.0, h = (hi - lo) / (SCAN - 1);
    size_t k, best = 0;
    double fb = INFINITY, a, b, x1, x2, f1, f2;

    for (k = 0; k < SCAN; k++) {
        double f = size_loss(sp, lo + h * (double)k);
        if (f < fb) {
            fb = f;
            best = k;
        }
    }
    a = lo + h * (double)(best > 0 ? best - 1 : 0);
    b = lo + h * (double)(best + 1 < SCAN ? best + 1 : best);
    x1 = b - g * (b - a);
    x2 = a + g * (b - a);
    f1 = size_loss(sp, x1);
    f2 = size_loss(sp, x2);
    while (b - a > 1e-10) {
        if (f1 <= f2) {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = size_loss(sp, x1);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = size_loss(sp, x2);
        }
    }
    x1 = (a + b) / 2.0;
    *L = size_loss(sp, x1);
    *edge = x1 - lo < 1e-6 || hi - x1 < 1e-6;
    return x1;
}

/* One per-size row: the estimate and the band over the bootstrap samples. */
static void size_row(const cs_analyze_result *r, size_problem *sp, double *scratch,
                     cs_analyze_law_row *row)
{
    const cs_analyze_law *lw = &r->law;
    double lo = log(lw->T_lo), hi = log(lw->T_hi), L, u;
    size_t s, k = 0;
    bool edge;

    sp->theta = lw->fit->estimate;
    u = size_minimise(sp, lo, hi, &L, &edge);
    row->N = sp->N;
    row->T = exp(u);
    row->D = sp->C / (sp->a + sp->b * row->T);
    row->L = L;
    row->at_bound = edge ? CS_OPTIMAL_AT_T : 0;
    row->N_lo = row->N_hi = row->T_lo = row->T_hi = NAN;
    for (s = 0; lw->boot && s < lw->boot->n; s++) {
        sp->theta = lw->boot->samples + s * lw->boot->nparams;
        if (isnan(sp->theta[0]))
            continue;
        scratch[k] = size_minimise(sp, lo, hi, &L, &edge);
        k += isfinite(L);
    }
    row->nsamples_ok = k;
    if (k > 0) {
        cs_isoflop_percentile(scratch, k, r->params.ucurve.level, &row->T_lo, &row->T_hi);
        row->T_lo = exp(row->T_lo);
        row->T_hi = exp(row->T_hi);
    }
}

static int size_rows(cs_analyze_result *r)
{
    cs_analyze_law *lw = &r->law;
    size_problem sp = {lw->law,
                       NULL,
                       cs_law_var_index(lw->law, "N"),
                       cs_law_var_index(lw->law, "D"),
                       cs_law_var_index(lw->law, "T"),
                       0,
                       0,
                       0,
                       0};
    double *scratch = malloc(((lw->boot ? lw->boot->n : 0) + 1) * sizeof *scratch);
    size_t b, m, skipped = 0;

    if (!scratch)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (b = 0; b < r->nbudgets; b++) {
        for (m = 0; m < r->nmodels && r->budgets[b].status == CS_ANALYZE_BUDGET_OK; m++) {
            cs_analyze_law_row *row = &lw->rows[lw->nrows];
            if (!isfinite(r->models[m].cost_a) || !isfinite(r->models[m].cost_b)) {
                skipped++;
                continue;
            }
            sp.N = r->models[m].N;
            sp.C = r->budgets[b].C;
            sp.a = r->models[m].cost_a;
            sp.b = r->models[m].cost_b;
            memset(row, 0, sizeof *row);
            row->budget = b;
            row->model = m;
            size_row(r, &sp, scratch, row);
            lw->nrows++;
        }
    }
    free(scratch);
    if (skipped)
        return cs_analyze_warn(r,
                               "law optimum per model size: %zu model/budget pairs left out "
                               "(FLOPs per token against T unknown: one context and no shape)",
                               skipped);
    return CS_OK;
}

// ---- joint: N and T free -----------------------------------------------------------------

/* d_model / n_layer of the runs (geometric mean over models), or 64 when none says. */
static double runs_aspect(const cs_analyze_result *r)
{
    double s = 0.0;
    size_t m, k = 0;

    for (m = 0; m < r->nmodels; m++)
        if (isfinite(r->models[m].n_layer) && isfinite(r->models[m].d_model)) {
            s += log(r->models[m].d_model / r->models[m].n_layer);
            k++;
        }
    return k ? exp(s / (double)k) : 64.0;
}

static void joint_row(const cs_optimal_row *o, size_t budget, cs_analyze_law_row *row)
{
    memset(row, 0, sizeof *row);
    row->budget = budget;
    row->model = SIZE_MAX;
    row->N = o->est.N;
    row->T = o->est.T;
    row->D = o->est.D;
    row->L = o->est.loss;
    row->N_lo = o->ci_N.lo;
    row->N_hi = o->ci_N.hi;
    row->T_lo = o->ci_T.lo;
    row->T_hi = o->ci_T.hi;
    row->at_bound = o->est.at_bound;
    row->nsamples_ok = o->nsamples_ok;
}

static int joint_rows(cs_analyze_result *r)
{
    cs_analyze_law *lw = &r->law;
    cs_optimal_params op = cs_optimal_default_params();
    cs_optimal_result *res = NULL;
    double *C = malloc((r->nbudgets + 1) * sizeof *C);
    size_t b, nb = 0, *which = malloc((r->nbudgets + 1) * sizeof *which);
    int st;

    if (!C || !which) {
        free(C);
        free(which);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    for (b = 0; b < r->nbudgets; b++)
        if (r->budgets[b].status == CS_ANALYZE_BUDGET_OK) {
            which[nb] = b;
            C[nb++] = r->budgets[b].C;
        }
    op.flops = CS_OPTIMAL_FLOPS_KAPLAN;
    op.aspect = lw->aspect;
    op.T_lo = lw->T_lo;
    op.T_hi = lw->T_hi;
    op.level = r->params.ucurve.level;
    st = cs_optimal_run(lw->law, lw->fit->estimate, lw->boot ? lw->boot->samples : NULL,
                        lw->boot ? lw->boot->n : 0, C, nb, &op, &res);
    for (b = 0; st == CS_OK && b < nb; b++)
        joint_row(&res->rows[b], which[b], &lw->rows[lw->nrows++]);
    if (st && st != CS_ENOMEM)
        st = cs_analyze_warn(r, "law optimum over N and T: %s", cs_errmsg());
    cs_optimal_result_free(res);
    free(C);
    free(which);
    return st;
}

/* The context range of the law's optima: the parameters', or the sampled contexts x 1/4 .. 4. */
static void law_range(cs_analyze_result *r)
{
    double lo = INFINITY, hi = 0.0;
    size_t i;

    for (i = 0; i < r->pts->nruns; i++)
        if (cs_points_usable(&r->pts->runs[i])) {
            lo = fmin(lo, r->pts->runs[i].T);
            hi = fmax(hi, r->pts->runs[i].T);
        }
    r->law.T_lo = r->params.T_hi > 0.0 ? r->params.T_lo : lo / 4.0;
    r->law.T_hi = r->params.T_hi > 0.0 ? r->params.T_hi : hi * 4.0;
    if (!(r->law.T_hi > r->law.T_lo)) /* one context only */
        r->law.T_hi = r->law.T_lo * 16.0 + 1.0;
}

int cs_analyze_law_solve(cs_analyze_result *r)
{
    cs_analyze_law *lw = &r->law;
    const char *kaplan = cs_flops_formula(CS_FLOPS_KAPLAN);
    int st;

    if ((st = fit_law(r)) || !lw->fitted)
        return st;
    law_range(r);
    lw->aspect = runs_aspect(r);
    lw->rows = calloc(r->nbudgets * (r->nmodels + 1) + 1, sizeof *lw->rows);
    if (!lw->rows)
        return cs_fail(CS_ENOMEM, "out of memory");
    if ((st = size_rows(r)) || (st = joint_rows(r)))
        return st;
    if (r->pts->flops_formula && strcmp(r->pts->flops_formula, kaplan) != 0)
        return cs_analyze_warn(r,
                               "the law optimum over N and T counts FLOPs as %s; the runs "
                               "count them as %s",
                               kaplan, r->pts->flops_formula);
    return CS_OK;
}
