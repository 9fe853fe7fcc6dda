/* plots/fig_vocab.c: figure S5 (plots/fig_vocab.h). Each (model family N, vocabulary V) pair is
 * one training curve of loss against FLOPs; the loss at a budget C is interpolated linearly in
 * ln C between its evaluations (never extrapolated). Panel (a): at each budget, for each V, the
 * lowest loss over the families that reach it, with the best V marked (vertex of a parabola in
 * ln V through the lowest point and its neighbours). Panel (b): for each family, the best V at
 * the largest budget all its vocabularies reach, against N, with a power law over the interior
 * optima. Test: tests/unit/test_plot_figures.c.
 */
#include "plots/fig_vocab.h"

#include "analysis/isoflop.h"
#include "core/error.h"
#include "core/table.h"
#include "fit/optimal.h"
#include "plots/fig_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One evaluation. */
typedef struct s5_row {
    double N, V, lnC, L;
} s5_row;

/* The curves, indexed by family and vocabulary. */
typedef struct s5_data {
    cs_table *t;
    s5_row *rows; /* (nrows) sorted by N, V, C */
    size_t nrows;
    double *Ns, *Vs; /* (nN), (nV) distinct values, ascending */
    size_t nN, nV;
    size_t *first; /* (nN * nV) first row of curve (i, j), SIZE_MAX when absent */
    size_t *count; /* (nN * nV) its rows */
} s5_data;

static void s5_free(s5_data *d)
{
    cs_table_free(d->t);
    free(d->rows);
    free(d->Ns);
    free(d->Vs);
    free(d->first);
    free(d->count);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int cmp_row(const void *a, const void *b)
{
    const s5_row *x = a, *y = b;

    if (x->N != y->N)
        return (x->N > y->N) - (x->N < y->N);
    if (x->V != y->V)
        return (x->V > y->V) - (x->V < y->V);
    return (x->lnC > y->lnC) - (x->lnC < y->lnC);
}

/* Sorted distinct values of field `off` of the rows into *out (*n of them). */
static int distinct(const s5_data *d, size_t off, double **out, size_t *n)
{
    size_t i, k;
    double *v = malloc((d->nrows + 1) * sizeof *v);

    if (!v)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < d->nrows; i++)
        memcpy(&v[i], (const char *)&d->rows[i] + off, sizeof *v);
    qsort(v, d->nrows, sizeof *v, cmp_double);
    for (i = 0, k = 0; i < d->nrows; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    *out = v;
    *n = k;
    return CS_OK;
}

static size_t find(const double *v, size_t n, double x)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i] == x)
            return i;
    return SIZE_MAX;
}

/* Indexes the curves by (family, vocabulary). */
static int s5_index(s5_data *d)
{
    size_t r, c;
    int st;

    qsort(d->rows, d->nrows, sizeof *d->rows, cmp_row);
    if ((st = distinct(d, offsetof(s5_row, N), &d->Ns, &d->nN)) ||
        (st = distinct(d, offsetof(s5_row, V), &d->Vs, &d->nV)))
        return st;
    d->first = malloc(d->nN * d->nV * sizeof *d->first);
    d->count = calloc(d->nN * d->nV, sizeof *d->count);
    if (!d->first || !d->count)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (c = 0; c < d->nN * d->nV; c++)
        d->first[c] = SIZE_MAX;
    for (r = 0; r < d->nrows; r++) {
        c = find(d->Ns, d->nN, d->rows[r].N) * d->nV + find(d->Vs, d->nV, d->rows[r].V);
        if (d->first[c] == SIZE_MAX)
            d->first[c] = r;
        d->count[c]++;
    }
    if (d->nV < 3)
        return cs_fail(CS_EINPUT, "%s: %zu distinct vocabularies; figure S5 needs at least 3",
                       cs_table_source(d->t), d->nV);
    return CS_OK;
}

static int s5_read(const cs_figures_opts *o, s5_data *d)
{
    static const char *const fV[] = {"V", "vocab_size", "vocab"};
    static const char *const fN[] = {"N", "Non_vocab_parameters", "Nnv"};
    static const char *const fC[] = {"C", "FLOPs", "flops"};
    static const char *const fL[] = {"L", "Lossu", "loss"};
    size_t cV, cN, cC, cL, i;
    int st;

    if ((st = cs_fig_util_read_csv(o, 0, &d->t)) ||
        (st = cs_fig_util_column(o, d->t, "V", fV, 3, &cV)) ||
        (st = cs_fig_util_column(o, d->t, "N", fN, 3, &cN)) ||
        (st = cs_fig_util_column(o, d->t, "C", fC, 3, &cC)) ||
        (st = cs_fig_util_column(o, d->t, "L", fL, 3, &cL)) ||
        (st = cs_table_require_num(d->t, cs_table_col_name(d->t, cV), CS_REQ_POSITIVE, NULL)) ||
        (st = cs_table_require_num(d->t, cs_table_col_name(d->t, cN), CS_REQ_POSITIVE, NULL)) ||
        (st = cs_table_require_num(d->t, cs_table_col_name(d->t, cC), CS_REQ_POSITIVE, NULL)) ||
        (st = cs_table_require_num(d->t, cs_table_col_name(d->t, cL), CS_REQ_FINITE, NULL)))
        return st;
    d->nrows = cs_table_nrows(d->t);
    if (!(d->rows = malloc((d->nrows + 1) * sizeof *d->rows)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < d->nrows; i++) {
        d->rows[i].N = cs_table_num(d->t, i, cN);
        d->rows[i].V = cs_table_num(d->t, i, cV);
        d->rows[i].lnC = log(cs_table_num(d->t, i, cC));
        d->rows[i].L = cs_table_num(d->t, i, cL);
    }
    return s5_index(d);
}

/* Loss of curve (i, j) at ln C, interpolated; NaN outside its evaluations or when absent. */
static double loss_at(const s5_data *d, size_t i, size_t j, double lnC)
{
    size_t c = i * d->nV + j, k;
    const s5_row *r;

    if (d->first[c] == SIZE_MAX)
        return NAN;
    r = d->rows + d->first[c];
    for (k = 0; k + 1 < d->count[c]; k++)
        if (lnC >= r[k].lnC && lnC <= r[k + 1].lnC) {
            double w = r[k + 1].lnC > r[k].lnC ? (lnC - r[k].lnC) / (r[k + 1].lnC - r[k].lnC) : 0;

            return r[k].L + w * (r[k + 1].L - r[k].L);
        }
    return d->count[c] == 1 && lnC == r[0].lnC ? r[0].L : NAN;
}

/* Largest ln C every vocabulary of family i reaches (-inf when one is missing). */
static double family_reach(const s5_data *d, size_t i)
{
    double m = INFINITY;
    size_t j, c;

    for (j = 0; j < d->nV; j++) {
        c = i * d->nV + j;
        if (d->first[c] == SIZE_MAX)
            return -INFINITY;
        m = fmin(m, d->rows[d->first[c] + d->count[c] - 1].lnC);
    }
    return m;
}

/* The parabola through (x[k], y[k]), k < 3, at t (Lagrange's form). */
static double lagrange3(const double *x, const double *y, double t)
{
    return y[0] * (t - x[1]) * (t - x[2]) / ((x[0] - x[1]) * (x[0] - x[2])) +
           y[1] * (t - x[0]) * (t - x[2]) / ((x[1] - x[0]) * (x[1] - x[2])) +
           y[2] * (t - x[0]) * (t - x[1]) / ((x[2] - x[0]) * (x[2] - x[1]));
}

/* The minimum of L over x (n values, ascending ln V) refined by the parabola through the lowest
 * point and its neighbours: *x_opt, *L_opt. Returns false when the lowest point is at an end
 * (then *x_opt is that end) or fewer than 3 values are finite. */
static bool vertex(const double *x, const double *L, size_t n, double *x_opt, double *L_opt)
{
    size_t k, m = SIZE_MAX;
    double a, b, den;

    for (k = 0; k < n; k++)
        if (isfinite(L[k]) && (m == SIZE_MAX || L[k] < L[m]))
            m = k;
    if (m == SIZE_MAX)
        return false;
    *x_opt = x[m];
    *L_opt = L[m];
    if (m == 0 || m + 1 >= n || !isfinite(L[m - 1]) || !isfinite(L[m + 1]))
        return false;
    a = (x[m] - x[m - 1]) * (L[m] - L[m + 1]);
    b = (x[m] - x[m + 1]) * (L[m] - L[m - 1]);
    den = a - b;
    if (den == 0.0)
        return true;
    *x_opt = x[m] - 0.5 * ((x[m] - x[m - 1]) * a - (x[m] - x[m + 1]) * b) / den;
    *L_opt = lagrange3(x + m - 1, L + m - 1, *x_opt);
    return true;
}

// ---- drawing ---------------------------------------------------------------------------------

/* Budgets: --budgets, or 4 spread over the range where every vocabulary has a curve reaching
 * it (from 10% to 90% of that range in ln C). *C is malloc'ed. */
static int s5_budgets(const cs_figures_opts *o, const s5_data *d, double **C, size_t *n)
{
    double lo = -INFINITY, hi = INFINITY;
    size_t i, j, k;

    if (o->budgets && strcmp(o->budgets, "auto") != 0)
        return cs_optimal_parse_budgets(o->budgets, "--budgets", C, n);
    for (j = 0; j < d->nV; j++) {
        double vlo = INFINITY, vhi = -INFINITY;

        for (i = 0; i < d->nN; i++) {
            size_t c = i * d->nV + j;

            if (d->first[c] == SIZE_MAX)
                continue;
            vlo = fmin(vlo, d->rows[d->first[c]].lnC);
            vhi = fmax(vhi, d->rows[d->first[c] + d->count[c] - 1].lnC);
        }
        lo = fmax(lo, vlo);
        hi = fmin(hi, vhi);
    }
    if (!(lo < hi))
        return cs_fail(CS_EINPUT,
                       "%s: no compute budget is reached by a curve of every "
                       "vocabulary; give --budgets",
                       cs_table_source(d->t));
    if (!(*C = malloc(4 * sizeof **C)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (k = 0; k < 4; k++)
        (*C)[k] = exp(lo + (hi - lo) * (0.1 + 0.8 * (double)k / 3.0));
    *n = 4;
    return CS_OK;
}

/* Panel (a): one curve per budget, and the best V of each. */
static int s5_budget_curves(cs_plot *p, const s5_data *d, const double *C, size_t nC)
{
    cs_plot_look look = cs_plot_default_look(), mark = cs_plot_default_look();
    double *x = malloc(2 * d->nV * sizeof *x), *L = x + d->nV, xo, Lo;
    size_t b, i, j, s, sm;
    char title[64], v[32];
    int st = x ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");

    mark.rgb = 0x000000;
    mark.point = 13;
    mark.point_size = 1.6;
    if (st == CS_OK)
        st = cs_plot_add_series(p, 0, CS_PLOT_POINTS, "best V at each budget", &mark, &sm);
    for (b = 0; b < nC && st == CS_OK; b++) {
        look.rgb = cs_plot_ramp(nC > 1 ? (double)b / (double)(nC - 1) : 0.0);
        snprintf(title, sizeof title, "C = %s FLOPs", cs_fig_util_num(v, C[b]));
        if ((st = cs_plot_add_series(p, 0, CS_PLOT_LINESPOINTS, title, &look, &s)))
            break;
        for (j = 0; j < d->nV; j++) {
            x[j] = log(d->Vs[j]);
            L[j] = NAN;
            for (i = 0; i < d->nN; i++)
                L[j] = fmin(L[j], loss_at(d, i, j, log(C[b]))); /* fmin ignores a NaN */
            if (st == CS_OK)
                st = cs_plot_add_xy(p, s, d->Vs[j], L[j]);
        }
        if (st == CS_OK && vertex(x, L, d->nV, &xo, &Lo))
            st = cs_plot_add_xy(p, sm, exp(xo), Lo);
    }
    free(x);
    return st;
}

/* The power law V_opt = k N^g over the interior optima (fx, fy: n >= 2 values). */
static int s5_power(cs_plot *p, size_t panel, const double *fx, const double *fy, size_t n)
{
    cs_plot_look look = cs_plot_default_look();
    cs_isoflop_power pw;
    double lo = INFINITY, hi = -INFINITY;
    char title[96], g[32];
    size_t i, s;
    int st;

    if ((st = cs_isoflop_fit_power(fx, fy, n, &pw)) == CS_EINPUT)
        return CS_OK; /* e.g. a single family size: no law to draw */
    if (st)
        return st;
    for (i = 0; i < n; i++) {
        lo = fmin(lo, fx[i]);
        hi = fmax(hi, fx[i]);
    }
    look.rgb = cs_plot_palette(1);
    look.dash = CS_PLOT_DASHED;
    snprintf(title, sizeof title, "power law over %zu sizes: V_opt ~ N^%s", n,
             cs_fig_util_num(g, pw.a));
    if ((st = cs_plot_add_series(p, panel, CS_PLOT_LINES, title, &look, &s)))
        return st;
    for (i = 0; i < 40 && st == CS_OK; i++) {
        double N = exp(log(lo) + (log(hi) - log(lo)) * (double)i / 39.0);

        st = cs_plot_add_xy(p, s, N, pw.k * pow(N, pw.a));
    }
    return st;
}

/* Panel (b): the best V of each family at its largest common budget, and a power law. */
static int s5_family_optima(cs_plot *p, size_t panel, const s5_data *d, size_t *nfit)
{
    cs_plot_look look = cs_plot_default_look(), edge = cs_plot_default_look();
    double *x = malloc(4 * (d->nV + d->nN) * sizeof *x), *L = x + d->nV, *fx = L + d->nV,
           *fy = fx + d->nN, xo, Lo;
    size_t i, j, si, se;
    int st = x ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");

    look.rgb = cs_plot_palette(1);
    look.point_size = 1.4;
    edge.rgb = look.rgb;
    edge.point = 6;
    edge.point_size = 1.4;
    *nfit = 0;
    if (st == CS_OK &&
        ((st = cs_plot_add_series(p, panel, CS_PLOT_POINTS,
                                  "best V at the largest budget all its vocabularies reach", &look,
                                  &si)) ||
         (st =
              cs_plot_add_series(p, panel, CS_PLOT_POINTS,
                                 "lowest loss at the edge of the vocabularies tried", &edge, &se))))
        goto out_free;
    for (i = 0; i < d->nN && st == CS_OK; i++) {
        double reach = family_reach(d, i);

        if (!isfinite(reach))
            continue;
        for (j = 0; j < d->nV; j++) {
            x[j] = log(d->Vs[j]);
            L[j] = loss_at(d, i, j, reach);
        }
        if (vertex(x, L, d->nV, &xo, &Lo)) {
            fx[*nfit] = d->Ns[i];
            fy[(*nfit)++] = exp(xo);
            st = cs_plot_add_xy(p, si, d->Ns[i], exp(xo));
        } else if (isfinite(Lo)) {
            st = cs_plot_add_xy(p, se, d->Ns[i], exp(xo));
        }
    }
    if (st == CS_OK && *nfit >= 2)
        st = s5_power(p, panel, fx, fy, *nfit);
out_free:
    free(x);
    return st;
}

static int s5_draw(cs_plot *p, const s5_data *d, const double *C, size_t nC)
{
    size_t panel, nfit;
    int st;

    cs_plot_set_size(p, 1400, 650);
    cs_plot_set_title(p, "Loss against vocabulary size, and the best vocabulary per model size");
    cs_plot_set_panel_title(p, 0, "(a) loss at fixed compute (best model size per V)");
    cs_plot_set_axis(p, 0, 'x', "vocabulary size V (tokens)", true);
    cs_plot_set_axis(p, 0, 'y', "loss (nats/token)", false);
    if ((st = cs_plot_add_panel(p, "(b) best vocabulary per model size", &panel)))
        return st;
    cs_plot_set_axis(p, panel, 'x', "non-vocabulary parameters N", true);
    cs_plot_set_axis(p, panel, 'y', "best vocabulary size V_opt (tokens)", true);
    cs_plot_set_key(p, panel, CS_PLOT_KEY_TOP_LEFT);
    if ((st = s5_budget_curves(p, d, C, nC)) || (st = s5_family_optima(p, panel, d, &nfit)))
        return st;
    if ((st = cs_plot_add_note(p,
                               "data: %s: %zu evaluations on %zu training curves (%zu model "
                               "sizes x %zu vocabularies)",
                               cs_table_source(d->t), d->nrows, d->nN * d->nV, d->nN, d->nV)))
        return st;
    return cs_plot_add_note(p,
                            "losses interpolated in ln C along each training curve (not runs "
                            "tuned for each budget); best V: vertex of a parabola in ln V; "
                            "power law over %zu interior optima",
                            nfit);
}

int cs_fig_vocab_s5(const cs_figures_opts *o, cs_plot **out)
{
    s5_data d;
    double *C = NULL;
    size_t nC = 0;
    cs_plot *p = NULL;
    int st;

    *out = NULL;
    memset(&d, 0, sizeof d);
    if ((st = cs_fig_util_ninputs(o, "S5", 1, 1, "a CSV of losses along training curves")) ||
        (st = s5_read(o, &d)) || (st = s5_budgets(o, &d, &C, &nC)))
        goto out_free;
    if (!(p = cs_plot_alloc("S5"))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    if ((st = s5_draw(p, &d, C, nC)) == CS_OK) {
        *out = p;
        p = NULL;
    }
out_free:
    cs_plot_free(p);
    free(C);
    s5_free(&d);
    return st;
}
