/* plots/fig_law.c: figures S3 (iso-loss contours of a fitted L(N, D) with the efficient
 * frontier) and S4 (loss against evaluation context with a xiong-context fit per model size),
 * plots/fig_law.h. Test: tests/unit/test_plot_figures.c.
 */
#include "plots/fig_law.h"

#include "core/error.h"
#include "core/table.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/fitjson.h"
#include "fit/law.h"
#include "fit/optimal.h"
#include "plots/fig_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S3_GRID        160 /* model sizes per contour */
#define S3_BUDGETS     50  /* budgets of the frontier */
#define S3_LEVELS      8   /* contours */
#define S3_MAX_SAMPLES 200 /* bootstrap samples re-solved for the frontier's band */

/* A fitted law of N and D, loaded from a fit JSON. */
typedef struct law2 {
    cs_fitjson *fj;
    cs_law *law;
    double *params;            /* (nparams) estimates */
    size_t iN, iD;             /* variable indices of N (or Nnv) and D */
    double Nlo, Nhi, Dlo, Dhi; /* ranges of the fitted data */
} law2;

static void law2_free(law2 *l)
{
    free(l->params);
    cs_law_free(l->law);
    cs_fitjson_free(l->fj);
}

/* The range of fit variable `name` into lo, hi; false when the fit has no such variable. */
static bool var_range(const cs_fitjson *fj, const char *name, double *lo, double *hi)
{
    size_t j;

    for (j = 0; j < fj->nvars; j++)
        if (strcmp(fj->vars[j].name, name) == 0) {
            *lo = fj->vars[j].min;
            *hi = fj->vars[j].max;
            return true;
        }
    return false;
}

static int law2_load(const char *path, law2 *l)
{
    long iN, iD;
    size_t j;
    int st;

    memset(l, 0, sizeof *l);
    if ((st = cs_fitjson_read(path, &l->fj)) || (st = cs_fitjson_law(l->fj, &l->law)))
        return st;
    iN = cs_law_var_index(l->law, "N");
    iN = iN >= 0 ? iN : cs_law_var_index(l->law, "Nnv");
    iD = cs_law_var_index(l->law, "D");
    if (iN < 0 || iD < 0 || cs_law_nvars(l->law) != 2)
        return cs_fail(CS_EINPUT,
                       "%s: figure S3 draws a law of N and D only; this fit's law "
                       "has %zu variable%s (%s)",
                       path, cs_law_nvars(l->law), cs_law_nvars(l->law) == 1 ? "" : "s",
                       l->fj->formula ? l->fj->formula : "?");
    l->iN = (size_t)iN;
    l->iD = (size_t)iD;
    if (!var_range(l->fj, cs_law_var_name(l->law, l->iN), &l->Nlo, &l->Nhi) ||
        !var_range(l->fj, "D", &l->Dlo, &l->Dhi) || !(l->Nlo > 0) || !(l->Dlo > 0))
        return cs_fail(CS_EINPUT, "%s: no positive ranges of N and D in \"variables\"", path);
    if (!(l->params = malloc((l->fj->nparams + 1) * sizeof *l->params)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (j = 0; j < l->fj->nparams; j++)
        l->params[j] = l->fj->params[j].estimate;
    return CS_OK;
}

/* L(N, D) - level, NaN where the law cannot be evaluated. */
static double gap(const law2 *l, double N, double lnD, double level)
{
    double v[2], L;

    v[l->iN] = N;
    v[l->iD] = exp(lnD);
    return cs_law_eval(l->law, l->params, v, &L) == CS_OK ? L - level : NAN;
}

/* The D (tokens) where L(N, D) = level, by bisection in ln D over a wide bracket; NaN when the
 * level is not crossed there. */
static double solve_D(const law2 *l, double N, double level)
{
    double a = log(l->Dlo) - log(1e3), b = log(l->Dhi) + log(1e3);
    double fa = gap(l, N, a, level), fb = gap(l, N, b, level);
    int it;

    if (!(fa * fb <= 0.0))
        return NAN;
    for (it = 0; it < 80; it++) {
        double m = 0.5 * (a + b), fm = gap(l, N, m, level);

        if (isnan(fm))
            return NAN;
        if ((fm <= 0.0) == (fa <= 0.0))
            a = m, fa = fm;
        else
            b = m;
    }
    return exp(0.5 * (a + b));
}

/* One iso-loss contour in the (C, N) plane, C = 6 N D, within [Clo, Chi]. */
static int s3_contour(cs_plot *p, const law2 *l, double level, double Clo, double Chi, int32_t rgb)
{
    cs_plot_look look = cs_plot_default_look();
    double lo = log(l->Nlo / 10.0), hi = log(l->Nhi * 10.0);
    char title[64], v[32];
    size_t s, i;
    int st;

    look.rgb = rgb;
    look.width = 1.5;
    snprintf(title, sizeof title, "L = %s", cs_fig_util_num(v, level));
    if ((st = cs_plot_add_series(p, 0, CS_PLOT_LINES, title, &look, &s)))
        return st;
    for (i = 0; i < S3_GRID && st == CS_OK; i++) {
        double N = exp(lo + (hi - lo) * (double)i / (S3_GRID - 1)), D = solve_D(l, N, level);

        if (isfinite(D) && 6.0 * N * D >= Clo && 6.0 * N * D <= Chi)
            st = cs_plot_add_xy(p, s, 6.0 * N * D, N);
        else
            st = cs_plot_add_break(p, s);
    }
    return st;
}

/* The efficient frontier N_opt(C) with its bootstrap band, and contours through it. */
static int s3_draw(cs_plot *p, const law2 *l, const double *C, const cs_optimal_result *r)
{
    cs_plot_look look = cs_plot_default_look();
    size_t b, s, sb = 0, k;
    int st = CS_OK;

    for (k = 0; k < S3_LEVELS && st == CS_OK; k++) {
        size_t at = ((2 * k + 1) * (S3_BUDGETS - 1)) / (2 * S3_LEVELS); /* inside the range */
        double level = r->rows[at].est.loss;

        level = round(level * 1000.0) / 1000.0; /* labels with 3 decimals, contours exact */
        st = s3_contour(p, l, level, C[0], C[S3_BUDGETS - 1],
                        cs_plot_ramp((double)k / (S3_LEVELS - 1)));
    }
    look.rgb = 0xcc0000;
    look.width = 3.0;
    if (st == CS_OK && r->nsamples > 0)
        st = cs_plot_add_series(p, 0, CS_PLOT_BAND, NULL, &look, &sb);
    if (st == CS_OK)
        st = cs_plot_add_series(p, 0, CS_PLOT_LINES, "efficient frontier N_opt(C)", &look, &s);
    for (b = 0; b < S3_BUDGETS && st == CS_OK; b++) {
        double row[3] = {C[b], r->rows[b].ci_N.lo, r->rows[b].ci_N.hi};

        st = cs_plot_add_xy(p, s, C[b], r->rows[b].est.N);
        if (st == CS_OK && r->nsamples > 0)
            st = cs_plot_add_row(p, sb, row);
    }
    return st;
}

/* The corner note of S3: the law, its parameters, where the fit came from. */
static int s3_notes(cs_plot *p, const law2 *l, const char *path, size_t ns)
{
    char line[512];
    size_t j, used = 0;
    int st;

    for (j = 0; j < l->fj->nparams && used < sizeof line; j++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s = %.4g", j ? ", " : "",
                                 l->fj->params[j].name, l->fj->params[j].estimate);
    if ((st = cs_plot_add_note(p, "law: %s; %s", l->fj->formula ? l->fj->formula : "?", line)))
        return st;
    if ((st = cs_plot_add_note(p, "fit: %s: %zu points of %s", path, l->fj->n_points,
                               l->fj->source ? l->fj->source : "?")))
        return st;
    if (ns == 0)
        return cs_plot_add_note(p, "frontier: the N minimising L at C = 6ND (fit/optimal.h); no "
                                   "bootstrap samples in the fit, no band");
    return cs_plot_add_note(p,
                            "frontier: the N minimising L at C = 6ND (fit/optimal.h); band: "
                            "%g%% interval over %zu bootstrap samples of the fit",
                            100.0 * l->fj->level, ns);
}

int cs_fig_law_s3(const cs_figures_opts *o, cs_plot **out)
{
    cs_optimal_params op = cs_optimal_default_params();
    cs_optimal_result *r = NULL;
    double C[S3_BUDGETS], Clo, Chi;
    cs_plot *p = NULL;
    law2 l;
    size_t b, ns;
    int st;

    *out = NULL;
    memset(&l, 0, sizeof l);
    if ((st = cs_fig_util_ninputs(o, "S3", 1, 1, "a fit JSON from `ctxscale fit --json`")) ||
        (st = law2_load(o->inputs[0], &l)))
        goto out_free;
    Clo = 6.0 * l.Nlo * l.Dlo / 10.0;
    Chi = 6.0 * l.Nhi * l.Dhi * 10.0;
    for (b = 0; b < S3_BUDGETS; b++)
        C[b] = exp(log(Clo) + (log(Chi) - log(Clo)) * (double)b / (S3_BUDGETS - 1));
    ns = l.fj->nboot < S3_MAX_SAMPLES ? l.fj->nboot : S3_MAX_SAMPLES;
    if ((st = cs_optimal_run(l.law, l.params, ns ? l.fj->boot : NULL, ns, C, S3_BUDGETS, &op, &r)))
        goto out_free;
    if (!(p = cs_plot_alloc("S3"))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    cs_plot_set_title(p, "Iso-loss contours of the fitted law and the efficient frontier");
    cs_plot_set_axis(p, 0, 'x', "training compute C = 6ND (FLOPs)", true);
    cs_plot_set_axis(p, 0, 'y', "model size N (parameters)", true);
    cs_plot_set_key(p, 0, CS_PLOT_KEY_OUTSIDE);
    cs_plot_set_size(p, 1150, 720);
    if ((st = s3_draw(p, &l, C, r)) || (st = s3_notes(p, &l, o->inputs[0], ns)))
        goto out_free;
    *out = p;
    p = NULL;
out_free:
    cs_plot_free(p);
    cs_optimal_result_free(r);
    law2_free(&l);
    return st;
}

// ---- S4 ------------------------------------------------------------------------------------

/* The columns of S4 and the distinct model sizes. */
typedef struct s4_data {
    cs_table *t;
    size_t cN, cT, cL; /* column indices */
    double *sizes;     /* (nsizes) ascending */
    size_t nsizes;
} s4_data;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Finds the columns, checks every value, collects the sizes. */
static int s4_read(const cs_figures_opts *o, s4_data *d)
{
    static const char *const fN[] = {"N", "size", "model_size", "params"};
    static const char *const fT[] = {"T", "context", "ctx"};
    static const char *const fL[] = {"L", "loss", "val_loss"};
    size_t i, n;
    int st;

    if ((st = cs_fig_util_read_csv(o, 0, &d->t)) ||
        (st = cs_fig_util_column(o, d->t, "N", fN, 4, &d->cN)) ||
        (st = cs_fig_util_column(o, d->t, "T", fT, 3, &d->cT)) ||
        (st = cs_fig_util_column(o, d->t, "L", fL, 3, &d->cL)) ||
        (st = cs_table_require_num(d->t, cs_table_col_name(d->t, d->cN), CS_REQ_POSITIVE, NULL)) ||
        (st = cs_table_require_num(d->t, cs_table_col_name(d->t, d->cT), CS_REQ_POSITIVE, NULL)) ||
        (st = cs_table_require_num(d->t, cs_table_col_name(d->t, d->cL), CS_REQ_POSITIVE, NULL)))
        return st;
    n = cs_table_nrows(d->t);
    if (!(d->sizes = malloc((n + 1) * sizeof *d->sizes)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < n; i++)
        d->sizes[i] = cs_table_num(d->t, i, d->cN);
    qsort(d->sizes, n, sizeof *d->sizes, cmp_double);
    for (i = 0; i < n; i++)
        if (d->nsizes == 0 || d->sizes[d->nsizes - 1] != d->sizes[i])
            d->sizes[d->nsizes++] = d->sizes[i];
    return CS_OK;
}

/* The rows of one size as a table with columns T and L (for the fitter), and its T range. */
static int s4_group(const s4_data *d, double size, cs_table **g, double *Tlo, double *Thi)
{
    size_t i, r, cT, cL;
    int st;

    *Tlo = INFINITY;
    *Thi = -INFINITY;
    if (!(*g = cs_table_alloc(cs_table_source(d->t))))
        return CS_ENOMEM;
    if ((st = cs_table_add_col(*g, "T", CS_COL_NUM, &cT)) ||
        (st = cs_table_add_col(*g, "L", CS_COL_NUM, &cL)))
        return st;
    for (i = 0; i < cs_table_nrows(d->t); i++) {
        double T = cs_table_num(d->t, i, d->cT);

        if (cs_table_num(d->t, i, d->cN) != size)
            continue;
        if ((st = cs_table_append_row(*g, cs_table_row_line(d->t, i))))
            return st;
        r = cs_table_nrows(*g) - 1;
        cs_table_set_num(*g, r, cT, T);
        cs_table_set_num(*g, r, cL, cs_table_num(d->t, i, d->cL));
        *Tlo = fmin(*Tlo, T);
        *Thi = fmax(*Thi, T);
    }
    return CS_OK;
}

/* Fits xiong-context to one size; *fit NULL (with a warning) when it cannot be fitted. */
static int s4_fit(const cs_figures_opts *o, const cs_law *law, const cs_table *g, double size,
                  cs_fit_result **fit)
{
    cs_dataset_params dp = cs_dataset_default_params();
    cs_fit_params fp = cs_fit_default_params();
    cs_dataset *ds = NULL;
    char v[32];
    int st;

    *fit = NULL;
    fp.threads = o->threads;
    if ((st = cs_dataset_build(g, law, &dp, &ds)) == CS_OK)
        st = cs_fit_run(law, ds, &fp, fit);
    cs_dataset_free(ds);
    if (st == CS_EINPUT || st == CS_ENOCONV) {
        cs_fig_util_warn(o, "N = %s: no fit drawn: %s", cs_fig_util_num(v, size), cs_errmsg());
        return CS_OK;
    }
    return st;
}

/* One size: its points, and its fitted curve with the parameters in the legend. */
static int s4_size(cs_plot *p, const cs_figures_opts *o, const s4_data *d, const cs_law *law,
                   size_t k)
{
    cs_plot_look look = cs_plot_default_look();
    cs_table *g = NULL;
    cs_fit_result *fit = NULL;
    double Tlo, Thi, size = d->sizes[k];
    char title[160], v[4][32];
    size_t s, i;
    int st;

    look.rgb = cs_plot_ramp(d->nsizes > 1 ? (double)k / (double)(d->nsizes - 1) : 0.0);
    if ((st = s4_group(d, size, &g, &Tlo, &Thi)) || (st = s4_fit(o, law, g, size, &fit)))
        goto out_free;
    if (fit)
        snprintf(title, sizeof title, "N = %s: (%s/T)^%s + %s", cs_fig_util_num(v[0], size),
                 cs_fig_util_num(v[1], fit->estimate[0]), cs_fig_util_num(v[2], fit->estimate[1]),
                 cs_fig_util_num(v[3], fit->estimate[2]));
    else
        snprintf(title, sizeof title, "N = %s (not fitted)", cs_fig_util_num(v[0], size));
    if ((st = cs_plot_add_series(p, 0, CS_PLOT_POINTS, fit ? NULL : title, &look, &s)))
        goto out_free;
    for (i = 0; i < cs_table_nrows(g) && st == CS_OK; i++)
        st = cs_plot_add_xy(p, s, cs_table_num(g, i, 0), cs_table_num(g, i, 1));
    if (st || !fit || (st = cs_plot_add_series(p, 0, CS_PLOT_LINES, title, &look, &s)))
        goto out_free;
    for (i = 0; i < 80 && st == CS_OK; i++) {
        double T = exp(log(Tlo) + (log(Thi) - log(Tlo)) * (double)i / 79.0);

        st =
            cs_plot_add_xy(p, s, T, pow(fit->estimate[0] / T, fit->estimate[1]) + fit->estimate[2]);
    }
out_free:
    cs_fit_result_free(fit);
    cs_table_free(g);
    return st;
}

int cs_fig_law_s4(const cs_figures_opts *o, cs_plot **out)
{
    s4_data d = {NULL, 0, 0, 0, NULL, 0};
    cs_law *law = NULL;
    cs_plot *p = NULL;
    size_t k;
    int st;

    *out = NULL;
    if ((st = cs_fig_util_ninputs(o, "S4", 1, 1,
                                  "a CSV with a model size, a context and a loss per row")) ||
        (st = s4_read(o, &d)))
        goto out_free;
    if (!(law = cs_law_builtin("xiong-context")) || !(p = cs_plot_alloc("S4"))) {
        st = law ? CS_ENOMEM : CS_EINPUT;
        goto out_free;
    }
    cs_plot_set_title(p, "Loss against evaluation context, per model size");
    cs_plot_set_axis(p, 0, 'x', "evaluation context T (tokens)", true);
    cs_plot_set_axis(p, 0, 'y', "validation loss (nats/token)", false);
    for (k = 0; k < d.nsizes && st == CS_OK; k++)
        st = s4_size(p, o, &d, law, k);
    if (st == CS_OK)
        st = cs_plot_add_note(p, "data: %s: %zu points, %zu model sizes", cs_table_source(d.t),
                              cs_table_nrows(d.t), d.nsizes);
    if (st == CS_OK)
        st = cs_plot_add_note(p, "fit per size: L(T) = (alpha/T)^beta + gamma (Xiong et al. 2023), "
                                 "Huber loss in log space, multi-start");
    if (st == CS_OK) {
        *out = p;
        p = NULL;
    }
out_free:
    cs_plot_free(p);
    cs_law_free(law);
    free(d.sizes);
    cs_table_free(d.t);
    return st;
}
