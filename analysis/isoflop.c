/* analysis/isoflop.c: Chinchilla's Approach 2 — budgets, a parabola in ln N per budget, power
 * laws of N_opt and D_opt in C, stratified bootstrap (analysis/isoflop.h).
 * Test: tests/unit/test_isoflop.c. */
#include "analysis/isoflop.h"

#include "core/error.h"
#include "core/rng.h"
#include "fit/dataset.h"
#include "fit/law.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cs_isoflop_params cs_isoflop_default_params(void)
{
    cs_isoflop_params p;

    memset(&p, 0, sizeof p);
    p.budgets = NULL;
    p.nbudgets = 0;
    p.tol = 0.015;
    p.min_points = 3;
    p.flops_per_nd = 6.0;
    p.nboot = 1000;
    p.seed = 1;
    p.level = 0.95;
    return p;
}

const char *cs_isoflop_status_name(cs_isoflop_status s)
{
    switch (s) {
    case CS_ISOFLOP_OK: return "ok";
    case CS_ISOFLOP_DEGENERATE: return "degenerate";
    case CS_ISOFLOP_CURVATURE: return "curvature";
    case CS_ISOFLOP_EDGE: return "edge";
    }
    return "unknown";
}

void cs_isoflop_result_free(cs_isoflop_result *r)
{
    if (!r)
        return;
    free(r->budgets);
    free(r->assign);
    free(r);
}

// ---- small numerics ------------------------------------------------------------------------

void cs_isoflop_percentile(double *v, size_t n, double level, double *lo, double *hi)
{
    if (n == 0) {
        *lo = NAN;
        *hi = NAN;
        return;
    }
    gsl_sort(v, 1, n);
    *lo = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5 * (1.0 - level));
    *hi = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5 * (1.0 + level));
}

int cs_isoflop_fit_power(const double *x, const double *y, size_t n, cs_isoflop_power *out)
{
    double mx = 0.0;
    double my = 0.0;
    double sxx = 0.0;
    double sxy = 0.0;
    double ssr = 0.0;
    size_t i;

    if (n < 2)
        return cs_fail(CS_EINPUT, "power-law fit: need at least 2 points, got %zu", n);
    for (i = 0; i < n; i++) {
        if (!(x[i] > 0.0) || !(y[i] > 0.0) || !isfinite(x[i]) || !isfinite(y[i]))
            return cs_fail(CS_EINPUT,
                           "power-law fit: point %zu: x = %g, y = %g: expected "
                           "positive numbers",
                           i + 1, x[i], y[i]);
        mx += log(x[i]) / (double)n;
        my += log(y[i]) / (double)n;
    }
    for (i = 0; i < n; i++) {
        sxx += (log(x[i]) - mx) * (log(x[i]) - mx);
        sxy += (log(x[i]) - mx) * (log(y[i]) - my);
    }
    if (!(sxx > 0.0))
        return cs_fail(CS_EINPUT, "power-law fit: every x is the same (%g)", x[0]);
    out->a = sxy / sxx;
    out->k = exp(my - out->a * mx);
    for (i = 0; i < n; i++) {
        double e = log(y[i]) - my - out->a * (log(x[i]) - mx);
        ssr += e * e;
    }
    out->a_se = n >= 3 ? sqrt(ssr / (double)(n - 2) / sxx) : NAN;
    out->a_lo = NAN;
    out->a_hi = NAN;
    out->n = n;
    return CS_OK;
}

/* Solves the 3x3 system A x = b by Gaussian elimination with partial pivoting. Returns -1 when
 * a pivot is negligible (singular system). A and b are overwritten. */
static int solve3(double A[3][3], double b[3], double x[3])
{
    size_t i;
    size_t j;
    size_t k;
    double scale = fabs(A[0][0]) + fabs(A[1][1]) + fabs(A[2][2]);

    for (i = 0; i < 3; i++) {
        size_t piv = i;
        for (k = i + 1; k < 3; k++)
            if (fabs(A[k][i]) > fabs(A[piv][i]))
                piv = k;
        if (!(fabs(A[piv][i]) > 1e-12 * scale))
            return -1;
        for (j = 0; j < 3; j++) {
            double t = A[i][j];
            A[i][j] = A[piv][j];
            A[piv][j] = t;
        }
        double tb = b[i];
        b[i] = b[piv];
        b[piv] = tb;
        for (k = i + 1; k < 3; k++) {
            double f = A[k][i] / A[i][i];
            for (j = i; j < 3; j++)
                A[k][j] -= f * A[i][j];
            b[k] -= f * b[i];
        }
    }
    for (i = 3; i-- > 0;) {
        double s = b[i];
        for (j = i + 1; j < 3; j++)
            s -= A[i][j] * x[j];
        x[i] = s / A[i][i];
    }
    return 0;
}

// ---- one parabola --------------------------------------------------------------------------

typedef struct parabola {
    cs_isoflop_status status;
    double x_opt;     /* ln N at the minimum (stationary point) */
    double curvature; /* d^2 L / d x^2 */
    double L_opt;     /* value at x_opt */
} parabola;

/* Counts distinct values among x[idx[0..m)], stopping at 3. */
static size_t count_distinct3(const double *x, const size_t *idx, size_t m)
{
    double seen[3];
    size_t nseen = 0;
    size_t i;
    size_t j;

    for (i = 0; i < m && nseen < 3; i++) {
        for (j = 0; j < nseen; j++)
            if (x[idx[i]] == seen[j])
                break;
        if (j == nseen)
            seen[nseen++] = x[idx[i]];
    }
    return nseen;
}

/* Least-squares parabola L = p0 + p1 z + p2 z^2 in the standardised z = (x - mean) / sd over
 * the points idx[0..m) of x (ln N) and L, and the checks of Approach 2. */
static parabola fit_parabola(const double *x, const double *L, const size_t *idx, size_t m)
{
    parabola r = {CS_ISOFLOP_DEGENERATE, NAN, NAN, NAN};
    double mean = 0.0, sd = 0.0, xmin = INFINITY, xmax = -INFINITY;
    double S[5] = {0}, T[3] = {0}, A[3][3], p[3];
    size_t i;

    if (m < 3 || count_distinct3(x, idx, m) < 3)
        return r;
    for (i = 0; i < m; i++) {
        mean += x[idx[i]] / (double)m;
        xmin = fmin(xmin, x[idx[i]]);
        xmax = fmax(xmax, x[idx[i]]);
    }
    for (i = 0; i < m; i++)
        sd += (x[idx[i]] - mean) * (x[idx[i]] - mean) / (double)m;
    sd = sqrt(sd);
    for (i = 0; i < m; i++) {
        double z = (x[idx[i]] - mean) / sd, zk = 1.0;
        for (size_t k = 0; k < 5; k++, zk *= z) {
            S[k] += zk;
            if (k < 3)
                T[k] += L[idx[i]] * zk;
        }
    }
    for (i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            A[i][j] = S[i + j];
    if (solve3(A, T, p) != 0)
        return r;
    r.curvature = 2.0 * p[2] / (sd * sd);
    if (!(p[2] > 0.0)) {
        r.status = CS_ISOFLOP_CURVATURE;
        return r;
    }
    double z_opt = -p[1] / (2.0 * p[2]);
    r.x_opt = mean + sd * z_opt;
    r.L_opt = p[0] + p[1] * z_opt + p[2] * z_opt * z_opt;
    r.status = (r.x_opt > xmin && r.x_opt < xmax) ? CS_ISOFLOP_OK : CS_ISOFLOP_EDGE;
    return r;
}

// ---- grouping points into budgets ----------------------------------------------------------

/* Shared state of one run. */
typedef struct iso_ctx {
    const double *C, *N, *D, *L;
    size_t n;
    const cs_isoflop_params *p;
    double *lnN;     /* (n) */
    size_t *members; /* (n) point indices grouped by budget */
    size_t *start;   /* (nbudgets + 1) offsets into members */
    double *kappa;   /* (nbudgets) C / (N D) used for D_opt */
} iso_ctx;

/* Automatic budgets: sort by log10 C, cut where neighbours differ by more than tol, keep the
 * clusters of at least min_points. Fills r->budgets[].C, r->assign and r->nbudgets. */
static int cluster_auto(const iso_ctx *c, cs_isoflop_result *r)
{
    size_t *order = malloc(c->n * sizeof *order);
    size_t i, first = 0;

    if (!order)
        return cs_fail(CS_ENOMEM, "isoflop: out of memory");
    for (i = 0; i < c->n; i++)
        order[i] = i;
    gsl_sort_index(order, c->C, 1, c->n); /* log10 is monotone: sorting C sorts log10 C */
    for (i = 1; i <= c->n; i++) {
        if (i < c->n && log10(c->C[order[i]]) - log10(c->C[order[i - 1]]) <= c->p->tol)
            continue;
        if (i - first >= c->p->min_points) {
            double mlog = 0.0;
            for (size_t j = first; j < i; j++) {
                mlog += log10(c->C[order[j]]) / (double)(i - first);
                r->assign[order[j]] = r->nbudgets;
            }
            r->budgets[r->nbudgets++].C = pow(10.0, mlog);
        }
        first = i;
    }
    free(order);
    if (r->nbudgets == 0)
        return cs_fail(CS_EINPUT,
                       "no budget found: no %zu points lie within %g of each "
                       "other in log10 C (try a larger --tol or list --budgets)",
                       c->p->min_points, c->p->tol);
    return CS_OK;
}

/* Explicit budgets: each point joins the nearest listed budget within tol (log10 C). */
static int cluster_explicit(const iso_ctx *c, cs_isoflop_result *r)
{
    const cs_isoflop_params *p = c->p;
    double *sorted = malloc(p->nbudgets * sizeof *sorted);
    size_t i, b;

    if (!sorted)
        return cs_fail(CS_ENOMEM, "isoflop: out of memory");
    memcpy(sorted, p->budgets, p->nbudgets * sizeof *sorted);
    gsl_sort(sorted, 1, p->nbudgets);
    for (b = 0; b < p->nbudgets; b++) {
        if (!(sorted[b] > 0.0) || !isfinite(sorted[b]) || (b > 0 && sorted[b] == sorted[b - 1])) {
            int st = cs_fail(CS_EINPUT, "budget %g: expected positive FLOPs, each listed once",
                             sorted[b]);
            free(sorted);
            return st;
        }
        r->budgets[b].C = sorted[b];
    }
    free(sorted);
    r->nbudgets = p->nbudgets;
    for (i = 0; i < c->n; i++) {
        double best = INFINITY;
        for (b = 0; b < r->nbudgets; b++) {
            double d = fabs(log10(c->C[i]) - log10(r->budgets[b].C));
            if (d <= p->tol && d < best) {
                best = d;
                r->assign[i] = b;
            }
        }
    }
    return CS_OK;
}

// ---- fitting every budget ------------------------------------------------------------------

/* CS_EINPUT naming point i and the first of C, N, D (D may be NULL) that is not a positive
 * finite number (they go through logarithms). */
static int check_positive(const double *C, const double *N, const double *D, size_t i)
{
    const double *cols[3] = {C, N, D};
    static const char *const names[3] = {"C", "N", "D"};
    size_t j;

    for (j = 0; j < 3; j++)
        if (cols[j] && !(cols[j][i] > 0.0 && isfinite(cols[j][i])))
            return cs_fail(CS_EINPUT, "point %zu: %s = %g: expected a positive number", i + 1,
                           names[j], cols[j][i]);
    return CS_OK;
}

static int check_points(const iso_ctx *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        int st = check_positive(c->C, c->N, c->D, i);
        if (st)
            return st;
        if (!isfinite(c->L[i]))
            return cs_fail(CS_EINPUT, "point %zu: loss = %g: expected a finite number", i + 1,
                           c->L[i]);
    }
    return CS_OK;
}

/* Groups the point indices by budget (c->members, c->start) and checks every budget has 3. */
static int group_members(iso_ctx *c, cs_isoflop_result *r)
{
    size_t i, b;

    for (i = 0; i < c->n; i++) {
        if (r->assign[i] == SIZE_MAX)
            r->nunassigned++;
        else
            c->start[r->assign[i] + 1]++;
    }
    for (b = 0; b < r->nbudgets; b++) {
        r->budgets[b].npoints = c->start[b + 1];
        if (c->start[b + 1] < 3)
            return cs_fail(CS_EINPUT,
                           "budget %g: %zu point%s within %g of log10 C; a parabola "
                           "needs at least 3",
                           r->budgets[b].C, c->start[b + 1], c->start[b + 1] == 1 ? "" : "s",
                           c->p->tol);
        c->start[b + 1] += c->start[b];
    }
    {
        size_t *fill = calloc(r->nbudgets + 1, sizeof *fill);
        if (!fill)
            return cs_fail(CS_ENOMEM, "isoflop: out of memory");
        for (i = 0; i < c->n; i++)
            if (r->assign[i] != SIZE_MAX) {
                b = r->assign[i];
                c->members[c->start[b] + fill[b]++] = i;
            }
        free(fill);
    }
    return CS_OK;
}

/* kappa = C / (N D) of a budget: the median over its points, or flops_per_nd without D. */
static double budget_kappa(const iso_ctx *c, const size_t *idx, size_t m, double *scratch)
{
    size_t i;

    if (!c->D)
        return c->p->flops_per_nd;
    for (i = 0; i < m; i++)
        scratch[i] = c->C[idx[i]] / (c->N[idx[i]] * c->D[idx[i]]);
    gsl_sort(scratch, 1, m);
    return gsl_stats_median_from_sorted_data(scratch, 1, m);
}

static void fit_budgets(iso_ctx *c, cs_isoflop_result *r, double *scratch)
{
    size_t b, i;

    for (b = 0; b < r->nbudgets; b++) {
        cs_isoflop_budget *B = &r->budgets[b];
        const size_t *idx = c->members + c->start[b];
        size_t m = c->start[b + 1] - c->start[b];
        parabola pb = fit_parabola(c->lnN, c->L, idx, m);

        B->N_lo = INFINITY;
        B->N_hi = -INFINITY;
        for (i = 0; i < m; i++) {
            B->N_lo = fmin(B->N_lo, c->N[idx[i]]);
            B->N_hi = fmax(B->N_hi, c->N[idx[i]]);
        }
        c->kappa[b] = budget_kappa(c, idx, m, scratch);
        B->status = pb.status;
        B->curvature = pb.curvature;
        B->N_opt = exp(pb.x_opt);
        B->D_opt = B->C / (c->kappa[b] * B->N_opt);
        B->L_opt = pb.L_opt;
        B->N_opt_lo = B->N_opt_hi = NAN;
        if (pb.status == CS_ISOFLOP_OK)
            r->nused++;
    }
}

/* Power laws N_opt(C), D_opt(C) over the budgets with ok[b] (lnNopt[b] = ln N_opt). */
static int fit_powers(const iso_ctx *c, const cs_isoflop_result *r, const double *lnNopt,
                      const bool *ok, double *work, cs_isoflop_power *Nf, cs_isoflop_power *Df)
{
    double *x = work, *yN = work + r->nbudgets, *yD = work + 2 * r->nbudgets;
    size_t b, m = 0;
    int st;

    for (b = 0; b < r->nbudgets; b++) {
        if (!ok[b])
            continue;
        x[m] = r->budgets[b].C;
        yN[m] = exp(lnNopt[b]);
        yD[m] = r->budgets[b].C / (c->kappa[b] * yN[m]);
        m++;
    }
    if ((st = cs_isoflop_fit_power(x, yN, m, Nf)))
        return st;
    return cs_isoflop_fit_power(x, yD, m, Df);
}

// ---- bootstrap -----------------------------------------------------------------------------

/* Buffers of the bootstrap. */
typedef struct boot_buf {
    double *aN, *aD; /* (nboot) exponents of the replicates that fitted */
    double *lnN;     /* (nbudgets, nboot) ln N_opt per budget and usable replicate */
    double *lnN_rep; /* (nbudgets) this replicate's ln N_opt */
    bool *ok_rep;    /* (nbudgets) this replicate's usable budgets */
    size_t *idx;     /* (n) resampled point indices */
    double *work;    /* (3 nbudgets) for fit_powers */
} boot_buf;

static void boot_buf_free(boot_buf *bb)
{
    free(bb->aN);
    free(bb->aD);
    free(bb->lnN);
    free(bb->lnN_rep);
    free(bb->ok_rep);
    free(bb->idx);
    free(bb->work);
}

static int boot_buf_alloc(boot_buf *bb, size_t nboot, size_t nb, size_t n)
{
    bb->aN = malloc(nboot * sizeof *bb->aN);
    bb->aD = malloc(nboot * sizeof *bb->aD);
    bb->lnN = malloc(nb * nboot * sizeof *bb->lnN);
    bb->lnN_rep = malloc(nb * sizeof *bb->lnN_rep);
    bb->ok_rep = malloc(nb * sizeof *bb->ok_rep);
    bb->idx = malloc(n * sizeof *bb->idx);
    bb->work = malloc(3 * nb * sizeof *bb->work);
    if (!bb->aN || !bb->aD || !bb->lnN || !bb->lnN_rep || !bb->ok_rep || !bb->idx || !bb->work) {
        boot_buf_free(bb);
        return cs_fail(CS_ENOMEM, "isoflop: out of memory for %zu bootstrap replicates", nboot);
    }
    return CS_OK;
}

/* One replicate: resamples the points of every used budget with replacement (stratified by
 * budget), refits the parabolas and, with 2 usable budgets or more, the power laws. Returns
 * true when the replicate gave exponents. */
static bool boot_one(const iso_ctx *c, cs_isoflop_result *r, boot_buf *bb, cs_rng *rng,
                     size_t *nok_budget, cs_isoflop_power *Nf, cs_isoflop_power *Df)
{
    size_t b, i, used = 0;

    for (b = 0; b < r->nbudgets; b++) {
        const size_t *idx = c->members + c->start[b];
        size_t m = c->start[b + 1] - c->start[b];
        parabola pb;

        bb->ok_rep[b] = false;
        if (r->budgets[b].status != CS_ISOFLOP_OK)
            continue;
        for (i = 0; i < m; i++)
            bb->idx[i] = idx[cs_rng_below(rng, m)];
        pb = fit_parabola(c->lnN, c->L, bb->idx, m);
        if (pb.status != CS_ISOFLOP_OK)
            continue;
        bb->ok_rep[b] = true;
        bb->lnN_rep[b] = pb.x_opt;
        bb->lnN[b * c->p->nboot + nok_budget[b]++] = pb.x_opt;
        used++;
    }
    return used >= 2 && fit_powers(c, r, bb->lnN_rep, bb->ok_rep, bb->work, Nf, Df) == CS_OK;
}

static int bootstrap(const iso_ctx *c, cs_isoflop_result *r)
{
    const cs_isoflop_params *p = c->p;
    boot_buf bb;
    size_t rep, b, k = 0;
    size_t *nok = calloc(r->nbudgets, sizeof *nok);
    int st;

    if (!nok)
        return cs_fail(CS_ENOMEM, "isoflop: out of memory");
    if ((st = boot_buf_alloc(&bb, p->nboot, r->nbudgets, c->n))) {
        free(nok);
        return st;
    }
    for (rep = 0; rep < p->nboot; rep++) {
        cs_rng rng;
        cs_isoflop_power Nf, Df;
        cs_rng_seed(&rng, p->seed, rep);
        if (boot_one(c, r, &bb, &rng, nok, &Nf, &Df)) {
            bb.aN[k] = Nf.a;
            bb.aD[k] = Df.a;
            k++;
        }
    }
    r->nboot = p->nboot;
    r->nboot_ok = k;
    cs_isoflop_percentile(bb.aN, k, p->level, &r->N_fit.a_lo, &r->N_fit.a_hi);
    cs_isoflop_percentile(bb.aD, k, p->level, &r->D_fit.a_lo, &r->D_fit.a_hi);
    for (b = 0; b < r->nbudgets; b++) {
        double lo, hi;
        r->budgets[b].nboot_ok = nok[b];
        cs_isoflop_percentile(bb.lnN + b * p->nboot, nok[b], p->level, &lo, &hi);
        r->budgets[b].N_opt_lo = exp(lo);
        r->budgets[b].N_opt_hi = exp(hi);
    }
    boot_buf_free(&bb);
    free(nok);
    return CS_OK;
}

// ---- the whole run -------------------------------------------------------------------------

static int check_params(const cs_isoflop_params *p, size_t n)
{
    if (n == 0)
        return cs_fail(CS_EINVAL, "isoflop: no points");
    if (!(p->tol > 0.0) || !isfinite(p->tol))
        return cs_fail(CS_EINVAL, "isoflop: tolerance %g: expected a positive number", p->tol);
    if (!p->budgets && p->min_points < 3)
        return cs_fail(CS_EINVAL, "isoflop: min_points %zu: expected at least 3", p->min_points);
    if ((p->budgets == NULL) != (p->nbudgets == 0))
        return cs_fail(CS_EINVAL, "isoflop: budgets and nbudgets disagree");
    if (!(p->level > 0.0 && p->level < 1.0))
        return cs_fail(CS_EINVAL, "isoflop: level %g: expected a number in (0, 1)", p->level);
    if (!(p->flops_per_nd > 0.0) || !isfinite(p->flops_per_nd))
        return cs_fail(CS_EINVAL, "isoflop: flops_per_nd %g: expected a positive number",
                       p->flops_per_nd);
    return CS_OK;
}

/* The error for fewer than 2 usable budgets, listing what went wrong with each. */
static int fail_too_few(const cs_isoflop_result *r)
{
    char list[512] = "";
    size_t b, len = 0;

    for (b = 0; b < r->nbudgets && len < sizeof list; b++) {
        int w = snprintf(list + len, sizeof list - len, "%s%.3g: %s", b ? ", " : "",
                         r->budgets[b].C, cs_isoflop_status_name(r->budgets[b].status));
        len += w > 0 ? (size_t)w : 0;
    }
    return cs_fail(CS_EINPUT,
                   "%zu of %zu budgets have a parabola with an interior "
                   "minimum and positive curvature; at least 2 are needed to fit N_opt = k C^a "
                   "(%s)",
                   r->nused, r->nbudgets, list);
}

/* Groups, fits every budget and the power laws, then bootstraps. */
static int run_fits(iso_ctx *c, cs_isoflop_result *r, double *scratch)
{
    bool *ok = malloc((r->nbudgets + 1) * sizeof *ok);
    size_t b;
    int st;

    if (!ok)
        return cs_fail(CS_ENOMEM, "isoflop: out of memory");
    fit_budgets(c, r, scratch);
    for (b = 0; b < r->nbudgets; b++) {
        ok[b] = r->budgets[b].status == CS_ISOFLOP_OK;
        scratch[b] = log(r->budgets[b].N_opt);
    }
    if (r->nused < 2)
        st = fail_too_few(r);
    else
        st = fit_powers(c, r, scratch, ok, scratch + r->nbudgets, &r->N_fit, &r->D_fit);
    free(ok);
    if (st == CS_OK && c->p->nboot > 0)
        st = bootstrap(c, r);
    return st;
}

int cs_isoflop_run(const double *C, const double *N, const double *D, const double *L, size_t n,
                   const cs_isoflop_params *p, cs_isoflop_result **out)
{
    iso_ctx c = {C, N, D, L, n, p, NULL, NULL, NULL, NULL};
    cs_isoflop_result *r = NULL;
    size_t nbmax = p && p->budgets ? p->nbudgets : n;
    double *scratch = NULL;
    int st;

    *out = NULL;
    if (!C || !N || !L || !p)
        return cs_fail(CS_EINVAL, "isoflop: NULL argument");
    if ((st = check_params(p, n)) || (st = check_points(&c)))
        return st;
    r = calloc(1, sizeof *r);
    c.lnN = malloc(n * sizeof *c.lnN);
    c.members = malloc(n * sizeof *c.members);
    c.start = calloc(nbmax + 1, sizeof *c.start);
    c.kappa = malloc(nbmax * sizeof *c.kappa);
    scratch = malloc((n + 4 * nbmax) * sizeof *scratch);
    if (r) {
        r->budgets = calloc(nbmax, sizeof *r->budgets);
        r->assign = malloc(n * sizeof *r->assign);
    }
    if (!r || !c.lnN || !c.members || !c.start || !c.kappa || !scratch || !r->budgets ||
        !r->assign) {
        st = cs_fail(CS_ENOMEM, "isoflop: out of memory for %zu points", n);
        goto out_free;
    }
    r->npoints = n;
    r->level = p->level;
    for (size_t i = 0; i < n; i++) {
        c.lnN[i] = log(N[i]);
        r->assign[i] = SIZE_MAX;
    }
    st = p->budgets ? cluster_explicit(&c, r) : cluster_auto(&c, r);
    if (st == CS_OK)
        st = group_members(&c, r);
    if (st == CS_OK)
        st = run_fits(&c, r, scratch);
out_free:
    free(scratch);
    free(c.kappa);
    free(c.start);
    free(c.members);
    free(c.lnN);
    if (st) {
        cs_isoflop_result_free(r);
        return st;
    }
    *out = r;
    return CS_OK;
}

// ---- points from a table -------------------------------------------------------------------

void cs_isoflop_points_free(cs_isoflop_points *pts)
{
    size_t k;

    if (!pts)
        return;
    free(pts->C);
    free(pts->N);
    free(pts->D);
    free(pts->L);
    free(pts->run);
    for (k = 0; k < pts->nruns && pts->run_names; k++)
        free(pts->run_names[k]);
    free(pts->run_names);
    free(pts);
}

/* The value of "NAME=value" among list[0..n) for `name`, or NULL. */
static const char *find_assign(const char *const *list, size_t n, const char *name)
{
    size_t len = strlen(name), i;

    for (i = 0; i < n; i++)
        if (strncmp(list[i], name, len) == 0 && list[i][len] == '=')
            return list[i] + len + 1;
    return NULL;
}

/* Writes the text of cell (row, col) into buf (numbers with %.17g). */
static void cell_text(const cs_table *t, size_t row, size_t col, char *buf, size_t n)
{
    if (cs_table_col_type(t, col) == CS_COL_NUM)
        snprintf(buf, n, "%.17g", cs_table_num(t, row, col));
    else
        snprintf(buf, n, "%s", cs_table_str(t, row, col));
}

/* Makes sure a column named `spec` exists: either it is a column, or spec lists columns
 * separated by commas and a text column joining their values with "/" is added. */
static int add_run_column(cs_table *t, const char *spec)
{
    char names[16][256], key[4096];
    size_t cols[16], nc = 0, row, k, col;
    const char *s = spec;
    int st;

    if (cs_table_find(t, spec) >= 0)
        return CS_OK;
    while (nc < 16) {
        size_t len = strcspn(s, ",");
        long c;
        snprintf(names[nc], sizeof names[nc], "%.*s", (int)(len < 255 ? len : 255), s);
        if ((c = cs_table_find(t, names[nc])) < 0)
            return cs_fail(CS_EINPUT, "%s: --map run=%s: no column \"%s\"", cs_table_source(t),
                           spec, names[nc]);
        cols[nc++] = (size_t)c;
        if (s[len] == '\0')
            break;
        s += len + 1;
    }
    if ((st = cs_table_add_col(t, spec, CS_COL_STR, &col)))
        return st;
    for (row = 0; row < cs_table_nrows(t); row++) {
        size_t used = 0;
        key[0] = '\0';
        for (k = 0; k < nc && used + 1 < sizeof key; k++) {
            if (k)
                key[used++] = '/';
            cell_text(t, row, cols[k], key + used, sizeof key - used);
            used += strlen(key + used);
        }
        if ((st = cs_table_set_str(t, row, col, key)))
            return st;
    }
    return CS_OK;
}

/* Names each run after the run column's value at its first row (found through source lines;
 * "run K" when the table has no line numbers). */
static int name_runs(const cs_table *t, const cs_dataset *ds, const char *col_name,
                     cs_isoflop_points *pts)
{
    size_t nrows = cs_table_nrows(t), maxline = 0, r, i, g;
    size_t *row_of_line = NULL, col = (size_t)cs_table_find(t, col_name);
    char buf[4096];

    pts->run_names = calloc(pts->nruns, sizeof *pts->run_names);
    if (!pts->run_names)
        return cs_fail(CS_ENOMEM, "out of memory naming runs");
    for (r = 0; r < nrows; r++)
        maxline = cs_table_row_line(t, r) > maxline ? cs_table_row_line(t, r) : maxline;
    row_of_line = malloc((maxline + 1) * sizeof *row_of_line);
    if (!row_of_line)
        return cs_fail(CS_ENOMEM, "out of memory naming runs");
    for (r = 0; r <= maxline; r++)
        row_of_line[r] = SIZE_MAX;
    for (r = 0; r < nrows; r++)
        row_of_line[cs_table_row_line(t, r)] = r;
    row_of_line[0] = SIZE_MAX;
    for (i = 0; i < pts->n; i++) {
        g = pts->run[i];
        if (pts->run_names[g])
            continue;
        r = row_of_line[cs_dataset_row_line(ds, i) <= maxline ? cs_dataset_row_line(ds, i) : 0];
        if (r == SIZE_MAX)
            snprintf(buf, sizeof buf, "run %zu", g + 1);
        else
            cell_text(t, r, col, buf, sizeof buf);
        if (!(pts->run_names[g] = strdup(buf))) {
            free(row_of_line);
            return cs_fail(CS_ENOMEM, "out of memory naming runs");
        }
    }
    free(row_of_line);
    return CS_OK;
}

/* Copies the data set's columns into pts and checks C, N, D > 0, naming file:line. */
static int copy_points(const cs_dataset *ds, bool has_D, cs_isoflop_points *pts)
{
    const double *const *cols = cs_dataset_cols(ds);
    const double *src[4] = {cols[0], cols[1], has_D ? cols[2] : NULL, cs_dataset_target(ds)};
    double **dst[4] = {&pts->N, &pts->C, &pts->D, &pts->L};
    size_t j, i, n = cs_dataset_n(ds);
    char where[512];

    for (j = 0; j < 4; j++) {
        if (!src[j])
            continue;
        if (!(*dst[j] = malloc(n * sizeof **dst[j])))
            return cs_fail(CS_ENOMEM, "out of memory for %zu points", n);
        memcpy(*dst[j], src[j], n * sizeof **dst[j]);
        for (i = 0; i < n && j < 3; i++) {
            if (src[j][i] > 0.0)
                continue;
            cs_dataset_row_where(ds, i, where, sizeof where);
            return cs_fail(CS_EINPUT, "%s: %s (%s) = %g: expected a positive number", where,
                           cs_dataset_var_name(ds, j), cs_dataset_var_origin(ds, j), src[j][i]);
        }
    }
    return CS_OK;
}

/* The data set of N, C (, D) and L, with the run column as the group. */
static int build_dataset(const cs_table *t, const cs_isoflop_select *s, const char *run_col,
                         bool has_D, cs_dataset **ds)
{
    static const char *const vars[3] = {"N", "C", "D"};
    const char **maps = malloc((s->nmaps + 1) * sizeof *maps);
    cs_dataset_params dp = cs_dataset_default_params();
    cs_law *law = NULL;
    size_t i;
    int st;

    if (!maps)
        return cs_fail(CS_ENOMEM, "out of memory");
    dp.nmaps = 0;
    for (i = 0; i < s->nmaps; i++)
        if (strncmp(s->maps[i], "run=", 4) != 0)
            maps[dp.nmaps++] = s->maps[i];
    dp.maps = maps;
    dp.derives = s->derives;
    dp.nderives = s->nderives;
    dp.wheres = s->wheres;
    dp.nwheres = s->nwheres;
    dp.group = run_col;
    dp.positive_target = false; /* losses may be negative (unigram-normalised) */
    /* A carrier law whose variables are the columns needed; its parameters are never used. */
    law = cs_law_parse(has_D ? "L = k0 + k1*N + k2*C + k3*D" : "L = k0 + k1*N + k2*C", vars, 3);
    st = law ? cs_dataset_build(t, law, &dp, ds) : cs_fail(CS_ENOMEM, "out of memory");
    cs_law_free(law);
    free(maps);
    return st;
}

int cs_isoflop_points_read(cs_table *t, const cs_isoflop_select *s, cs_isoflop_points **out)
{
    const char *run_col = find_assign(s->maps, s->nmaps, "run");
    bool has_D = find_assign(s->maps, s->nmaps, "D") || find_assign(s->derives, s->nderives, "D") ||
                 cs_table_find(t, "D") >= 0;
    cs_isoflop_points *pts = NULL;
    cs_dataset *ds = NULL;
    int st = CS_OK;

    *out = NULL;
    if (s->want_run && !run_col && cs_table_find(t, "run") >= 0)
        run_col = "run";
    if (s->want_run && !run_col)
        return cs_fail(CS_EINPUT,
                       "%s: no run column: name the column(s) that identify a run "
                       "with --map run=COLUMN[,COLUMN...]",
                       cs_table_source(t));
    if (!s->want_run)
        run_col = NULL;
    if (run_col && (st = add_run_column(t, run_col)))
        return st;
    if ((st = build_dataset(t, s, run_col, has_D, &ds)))
        return st;
    if (!(pts = calloc(1, sizeof *pts))) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        goto out_free;
    }
    pts->n = cs_dataset_n(ds);
    pts->n_read = cs_dataset_n_read(ds);
    pts->n_filtered = cs_dataset_n_filtered(ds);
    if ((st = copy_points(ds, has_D, pts)))
        goto out_free;
    if (run_col) {
        const size_t *g = cs_dataset_groups(ds, &pts->nruns);
        if (!(pts->run = malloc(pts->n * sizeof *pts->run))) {
            st = cs_fail(CS_ENOMEM, "out of memory");
            goto out_free;
        }
        memcpy(pts->run, g, pts->n * sizeof *pts->run);
        st = name_runs(t, ds, run_col, pts);
    }
out_free:
    cs_dataset_free(ds);
    if (st) {
        cs_isoflop_points_free(pts);
        return st;
    }
    *out = pts;
    return CS_OK;
}
