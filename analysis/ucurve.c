/* analysis/ucurve.c: U-curve optima (parabola in ln T around the best point, quadratic surface
 * in (ln N, ln T) for the joint optimum) with parametric-bootstrap bands, and the ranking check
 * (analysis/ucurve.h). Tested in tests/unit/test_analyze_ucurve.c.
 */
#include "analysis/ucurve.h"

#include "analysis/isoflop.h"
#include "core/error.h"
#include "core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[CS_UCURVE_NSTATUS] = {"ok", "few", "edge-low", "edge-high",
                                                            "curvature"};

const char *cs_ucurve_status_name(int status)
{
    if (status < 0 || status >= CS_UCURVE_NSTATUS)
        return "unknown";
    return status_names[status];
}

cs_ucurve_params cs_ucurve_default_params(void)
{
    cs_ucurve_params p;

    p.window = 1;
    p.nboot = 1000;
    p.seed = 1;
    p.level = 0.95;
    return p;
}

// ---- small least squares ------------------------------------------------------------------

/* Solves the k x k system A x = b (row-major A, k <= 6) by Gaussian elimination with partial
 * pivoting, in place; returns -1 when A is singular to working precision. */
static int solve_small(double *A, double *b, size_t k)
{
    size_t i, j, r;

    for (i = 0; i < k; i++) {
        size_t piv = i;
        for (r = i + 1; r < k; r++)
            if (fabs(A[r * k + i]) > fabs(A[piv * k + i]))
                piv = r;
        if (!(fabs(A[piv * k + i]) > 1e-12))
            return -1;
        for (j = 0; j < k && piv != i; j++) {
            double t = A[i * k + j];
            A[i * k + j] = A[piv * k + j];
            A[piv * k + j] = t;
        }
        if (piv != i) {
            double t = b[i];
            b[i] = b[piv];
            b[piv] = t;
        }
        for (r = i + 1; r < k; r++) {
            double f = A[r * k + i] / A[i * k + i];
            for (j = i; j < k; j++)
                A[r * k + j] -= f * A[i * k + j];
            b[r] -= f * b[i];
        }
    }
    for (i = k; i-- > 0;) {
        for (j = i + 1; j < k; j++)
            b[i] -= A[i * k + j] * b[j];
        b[i] /= A[i * k + i];
    }
    return 0;
}

/* Adds the row f (k values) with target y to the normal equations A (k x k), b (k). */
static void normal_add(double *A, double *b, const double *f, double y, size_t k)
{
    size_t i, j;

    for (i = 0; i < k; i++) {
        for (j = 0; j < k; j++)
            A[i * k + j] += f[i] * f[j];
        b[i] += f[i] * y;
    }
}

int cs_ucurve_quadfit(const double *x, const double *y, size_t n, cs_ucurve_quad *q)
{
    double A[9] = {0}, b[3] = {0}, lo = INFINITY, hi = -INFINITY, sum = 0.0;
    size_t i, distinct = 0;

    for (i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return cs_fail(CS_EINPUT, "quadratic fit: point %zu is not finite", i + 1);
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
        sum += x[i];
    }
    for (i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && x[j] != x[i])
            j++;
        distinct += j == i;
    }
    if (distinct < 3)
        return cs_fail(CS_EINPUT, "quadratic fit: %zu distinct x values; a parabola needs 3",
                       distinct);
    q->x0 = sum / (double)n;
    q->s = (hi - lo) / 2.0;
    for (i = 0; i < n; i++) {
        double z = (x[i] - q->x0) / q->s;
        double f[3] = {1.0, z, z * z};
        normal_add(A, b, f, y[i], 3);
    }
    if (solve_small(A, b, 3) != 0)
        return cs_fail(CS_EINPUT, "quadratic fit: singular design");
    memcpy(q->c, b, sizeof b);
    return CS_OK;
}

double cs_ucurve_resid_sd(const double *x, const double *y, size_t n, size_t degree)
{
    double A[36] = {0}, b[6] = {0}, f[6], lo = INFINITY, hi = -INFINITY, rss = 0.0;
    size_t i, j, k = degree + 1;

    if (degree < 1 || degree > 5 || n <= k)
        return NAN;
    for (i = 0; i < n; i++) {
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    if (!(hi > lo) || !isfinite(hi - lo))
        return NAN;
    for (i = 0; i < n; i++) { /* z in [-1, 1] keeps the normal equations well conditioned */
        double z = (2.0 * x[i] - lo - hi) / (hi - lo);
        for (j = 0, f[0] = 1.0; j + 1 < k; j++)
            f[j + 1] = f[j] * z;
        normal_add(A, b, f, y[i], k);
    }
    if (solve_small(A, b, k) != 0)
        return NAN;
    for (i = 0; i < n; i++) {
        double z = (2.0 * x[i] - lo - hi) / (hi - lo), p = 0.0;
        for (j = k; j-- > 0;)
            p = p * z + b[j];
        rss += (y[i] - p) * (y[i] - p);
    }
    return sqrt(rss / (double)(n - k));
}

void cs_ucurve_quad_raw(const cs_ucurve_quad *q, double a[3])
{
    double s = q->s;
    double x0 = q->x0;

    a[2] = q->c[2] / (s * s);
    a[1] = q->c[1] / s - 2.0 * q->c[2] * x0 / (s * s);
    a[0] = q->c[0] - q->c[1] * x0 / s + q->c[2] * x0 * x0 / (s * s);
}

// ---- one curve ----------------------------------------------------------------------------

static size_t argmin(const double *L, size_t m)
{
    size_t i, best = 0;

    for (i = 1; i < m; i++)
        if (L[i] < L[best])
            best = i;
    return best;
}

/* The optimum of (u = ln x, L) without bootstrap: status, u*, L*, the parabola and its window. */
typedef struct fit1 {
    int status;
    size_t best;
    double u_opt, L_opt;
    double a[3];
    double u_lo, u_hi;
} fit1;

static void optimum_1d(const double *u, const double *L, size_t m, size_t window, fit1 *f)
{
    size_t lo, hi;
    cs_ucurve_quad q;

    f->best = argmin(L, m);
    f->u_opt = u[f->best];
    f->L_opt = L[f->best];
    f->a[0] = f->a[1] = f->a[2] = NAN;
    f->u_lo = f->u_hi = NAN;
    if (m < 3)
        f->status = CS_UCURVE_FEW;
    else if (f->best == 0)
        f->status = CS_UCURVE_EDGE_LOW;
    else if (f->best == m - 1)
        f->status = CS_UCURVE_EDGE_HIGH;
    else
        f->status = CS_UCURVE_CURVATURE;
    if (f->status != CS_UCURVE_CURVATURE)
        return;
    lo = f->best >= window ? f->best - window : 0;
    hi = f->best + window < m ? f->best + window : m - 1;
    if (cs_ucurve_quadfit(u + lo, L + lo, hi - lo + 1, &q) != CS_OK || !(q.c[2] > 0.0))
        return;
    cs_ucurve_quad_raw(&q, f->a);
    f->u_lo = u[lo];
    f->u_hi = u[hi];
    double z = -q.c[1] / (2.0 * q.c[2]);
    double uo = q.x0 + q.s * z;
    if (!(uo >= u[lo] && uo <= u[hi]))
        return;
    f->status = CS_UCURVE_OK;
    f->u_opt = uo;
    f->L_opt = q.c[0] + q.c[1] * z + q.c[2] * z * z;
}

static int check_common(const double *L, const double *sigma, size_t m, const cs_ucurve_params *p)
{
    size_t i;

    if (m == 0 || !L || !p)
        return cs_fail(CS_EINVAL, "U-curve: no points");
    if (p->window == 0 || !(p->level > 0.0 && p->level < 1.0))
        return cs_fail(CS_EINVAL, "U-curve: window must be >= 1 and level in (0, 1)");
    for (i = 0; i < m; i++)
        if (!isfinite(L[i]) || (sigma && !(sigma[i] >= 0.0 && isfinite(sigma[i]))))
            return cs_fail(CS_EINVAL, "U-curve: point %zu: loss or sigma not finite", i + 1);
    return CS_OK;
}

/* Fills Lr (m) with L + sigma * N(0, 1) drawn from rng. */
static void perturb(const double *L, const double *sigma, size_t m, cs_rng *rng, double *Lr)
{
    size_t i;

    for (i = 0; i < m; i++)
        Lr[i] = L[i] + (sigma ? sigma[i] * cs_rng_normal(rng) : 0.0);
}

/* The band [exp(lo), exp(hi)] of the n values v (sorted in place). */
static void band(double *v, size_t n, double level, double *lo, double *hi)
{
    cs_isoflop_percentile(v, n, level, lo, hi);
    *lo = exp(*lo);
    *hi = exp(*hi);
}

int cs_ucurve_optimum(const double *x, const double *L, const double *sigma, size_t m,
                      const cs_ucurve_params *p, uint64_t stream, cs_ucurve_opt *out)
{
    double *u, *Lr, *us;
    size_t i, r;
    fit1 f;
    cs_rng rng;
    int st;

    if ((st = check_common(L, sigma, m, p)) || !x || !out)
        return st ? st : cs_fail(CS_EINVAL, "U-curve: NULL argument");
    for (i = 0; i < m; i++)
        if (!(x[i] > 0.0 && isfinite(x[i])) || (i > 0 && !(x[i] > x[i - 1])))
            return cs_fail(CS_EINVAL, "U-curve: x must be positive and increasing (point %zu)",
                           i + 1);
    u = malloc(m * sizeof *u);
    Lr = malloc(m * sizeof *Lr);
    us = malloc((p->nboot + 1) * sizeof *us);
    if (!u || !Lr || !us) {
        st = cs_fail(CS_ENOMEM, "U-curve: out of memory");
        goto out_free;
    }
    for (i = 0; i < m; i++)
        u[i] = log(x[i]);
    optimum_1d(u, L, m, p->window, &f);
    memset(out, 0, sizeof *out);
    out->status = f.status;
    out->best = f.best;
    out->x_opt = f.status == CS_UCURVE_OK ? exp(f.u_opt) : x[f.best]; /* exact sampled x */
    out->L_opt = f.L_opt;
    memcpy(out->a, f.a, sizeof f.a);
    out->u_lo = f.u_lo;
    out->u_hi = f.u_hi;
    out->x_lo = out->x_hi = NAN;
    cs_rng_seed(&rng, p->seed, stream);
    for (r = 0; r < p->nboot; r++) {
        fit1 g;
        perturb(L, sigma, m, &rng, Lr);
        optimum_1d(u, Lr, m, p->window, &g);
        out->nboot_edge += g.status == CS_UCURVE_EDGE_LOW || g.status == CS_UCURVE_EDGE_HIGH;
        us[r] = g.u_opt;
    }
    out->nboot = p->nboot;
    if (p->nboot > 0)
        band(us, p->nboot, p->level, &out->x_lo, &out->x_hi);
    st = CS_OK;
out_free:
    free(u);
    free(Lr);
    free(us);
    return st;
}

// ---- joint optimum over (ln N, ln T) -------------------------------------------------------

/* The points in grid form: distinct sorted values of each coordinate and each point's index. */
typedef struct grid2 {
    size_t m;
    const double *x, *y; /* (m) ln N, ln T */
    double *vx, *vy;     /* distinct sorted values */
    size_t nx, ny;
    size_t *ix, *iy; /* (m) index of each point's value */
} grid2;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Sorts and dedupes v (n) in place; returns the distinct count. */
static size_t distinct_sorted(double *v, size_t n)
{
    size_t i, k = 0;

    qsort(v, n, sizeof *v, cmp_double);
    for (i = 0; i < n; i++)
        if (k == 0 || v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

static size_t index_of(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;

    while (lo + 1 < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void grid_index(grid2 *g)
{
    size_t i;

    memcpy(g->vx, g->x, g->m * sizeof *g->x);
    memcpy(g->vy, g->y, g->m * sizeof *g->y);
    g->nx = distinct_sorted(g->vx, g->m);
    g->ny = distinct_sorted(g->vy, g->m);
    for (i = 0; i < g->m; i++) {
        g->ix[i] = index_of(g->vx, g->nx, g->x[i]);
        g->iy[i] = index_of(g->vy, g->ny, g->y[i]);
    }
}

typedef struct fit2 {
    int status, edge_x, edge_y;
    size_t best;
    double x_opt, y_opt, L_opt;
} fit2;

static int edge_of(size_t i, size_t n)
{
    return i == 0 ? -1 : (i == n - 1 ? 1 : 0);
}

/* Fits the quadratic surface over the 3 x 3 neighbourhood of the best point; on success sets
 * f's optimum and returns 0. */
static int surface(const grid2 *g, const double *L, fit2 *f)
{
    size_t i, bx = g->ix[f->best], by = g->iy[f->best], k = 0;
    double A[36] = {0}, b[6] = {0};
    double cx = g->vx[bx], cy = g->vy[by];
    double hx = (g->vx[bx + 1] - g->vx[bx - 1]) / 2.0, hy = (g->vy[by + 1] - g->vy[by - 1]) / 2.0;

    for (i = 0; i < g->m; i++) {
        if (g->ix[i] + 1 < bx || g->ix[i] > bx + 1 || g->iy[i] + 1 < by || g->iy[i] > by + 1)
            continue;
        double x = (g->x[i] - cx) / hx, y = (g->y[i] - cy) / hy;
        double row[6] = {1.0, x, y, x * x, x * y, y * y};
        normal_add(A, b, row, L[i], 6);
        k++;
    }
    if (k < 6 || solve_small(A, b, 6) != 0)
        return -1;
    double h11 = 2.0 * b[3], h12 = b[4], h22 = 2.0 * b[5], det = h11 * h22 - h12 * h12;
    if (!(h11 > 0.0 && det > 0.0))
        return -1;
    double xo = (-b[1] * h22 + b[2] * h12) / det, yo = (-b[2] * h11 + b[1] * h12) / det;
    if (!(xo * hx >= g->vx[bx - 1] - cx && xo * hx <= g->vx[bx + 1] - cx &&
          yo * hy >= g->vy[by - 1] - cy && yo * hy <= g->vy[by + 1] - cy))
        return -1;
    f->x_opt = cx + xo * hx;
    f->y_opt = cy + yo * hy;
    f->L_opt = b[0] + b[1] * xo + b[2] * yo + b[3] * xo * xo + b[4] * xo * yo + b[5] * yo * yo;
    return 0;
}

static void optimum_2d(const grid2 *g, const double *L, fit2 *f)
{
    f->best = argmin(L, g->m);
    f->x_opt = g->x[f->best];
    f->y_opt = g->y[f->best];
    f->L_opt = L[f->best];
    f->edge_x = edge_of(g->ix[f->best], g->nx);
    f->edge_y = edge_of(g->iy[f->best], g->ny);
    if (g->nx < 3 || g->ny < 3) {
        f->status = CS_UCURVE_FEW;
        return;
    }
    if (f->edge_y || f->edge_x) {
        int e = f->edge_y ? f->edge_y : f->edge_x;
        f->status = e < 0 ? CS_UCURVE_EDGE_LOW : CS_UCURVE_EDGE_HIGH;
        return;
    }
    f->status = surface(g, L, f) == 0 ? CS_UCURVE_OK : CS_UCURVE_CURVATURE;
}

static int check_pairs(const grid2 *g)
{
    size_t i, j;

    for (i = 0; i < g->m; i++)
        for (j = i + 1; j < g->m; j++)
            if (g->ix[i] == g->ix[j] && g->iy[i] == g->iy[j])
                return cs_fail(CS_EINVAL, "joint optimum: points %zu and %zu share N and T", i + 1,
                               j + 1);
    return CS_OK;
}

/* Runs the replicates of the joint optimum into out's bands. */
static void joint_boot(const grid2 *g, const double *L, const double *sigma,
                       const cs_ucurve_params *p, uint64_t stream, double *Lr, double *bx,
                       double *by, cs_ucurve_joint *out)
{
    cs_rng rng;
    size_t r;

    cs_rng_seed(&rng, p->seed, stream);
    for (r = 0; r < p->nboot; r++) {
        fit2 f;
        perturb(L, sigma, g->m, &rng, Lr);
        optimum_2d(g, Lr, &f);
        out->nboot_edge += f.status == CS_UCURVE_EDGE_LOW || f.status == CS_UCURVE_EDGE_HIGH;
        bx[r] = f.x_opt;
        by[r] = f.y_opt;
    }
    out->nboot = p->nboot;
    if (p->nboot > 0) {
        band(bx, p->nboot, p->level, &out->N_lo, &out->N_hi);
        band(by, p->nboot, p->level, &out->T_lo, &out->T_hi);
    }
}

int cs_ucurve_joint_optimum(const double *N, const double *T, const double *L, const double *sigma,
                            size_t m, const cs_ucurve_params *p, uint64_t stream,
                            cs_ucurve_joint *out)
{
    grid2 g = {0};
    double *buf;
    size_t i;
    fit2 f;
    int st;

    if ((st = check_common(L, sigma, m, p)) || !N || !T || !out)
        return st ? st : cs_fail(CS_EINVAL, "joint optimum: NULL argument");
    buf = malloc((6 * m + 2 * p->nboot + 2) * sizeof *buf);
    g.ix = malloc(2 * m * sizeof *g.ix);
    if (!buf || !g.ix) {
        st = cs_fail(CS_ENOMEM, "joint optimum: out of memory");
        goto out_free;
    }
    double *x = buf, *y = buf + m, *Lr = buf + 4 * m;
    for (i = 0; i < m && st == CS_OK; i++) {
        if (!(N[i] > 0.0 && T[i] > 0.0 && isfinite(N[i]) && isfinite(T[i])))
            st = cs_fail(CS_EINVAL, "joint optimum: point %zu: N, T must be positive", i + 1);
        x[i] = log(N[i]);
        y[i] = log(T[i]);
    }
    g.m = m;
    g.x = x;
    g.y = y;
    g.vx = buf + 2 * m;
    g.vy = buf + 3 * m;
    g.iy = g.ix + m;
    if (st == CS_OK)
        grid_index(&g);
    if (st || (st = check_pairs(&g)))
        goto out_free;
    optimum_2d(&g, L, &f);
    memset(out, 0, sizeof *out);
    out->status = f.status;
    out->edge_N = f.edge_x;
    out->edge_T = f.edge_y;
    out->best = f.best;
    out->N_opt = f.status == CS_UCURVE_OK ? exp(f.x_opt) : N[f.best];
    out->T_opt = f.status == CS_UCURVE_OK ? exp(f.y_opt) : T[f.best];
    out->L_opt = f.L_opt;
    out->N_lo = out->N_hi = out->T_lo = out->T_hi = NAN;
    joint_boot(&g, L, sigma, p, stream, Lr, buf + 6 * m, buf + 6 * m + p->nboot + 1, out);
out_free:
    free(buf);
    free(g.ix);
    return st;
}

// ---- rankings ----------------------------------------------------------------------------

typedef struct keyed {
    double v;
    size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;

    if (x->v != y->v)
        return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i);
}

/* Fractional ranks (1-based, ties averaged) of v (n) into rank (n); k is scratch (n). */
static void ranks(const double *v, size_t n, keyed *k, double *rank)
{
    size_t i, j;

    for (i = 0; i < n; i++) {
        k[i].v = v[i];
        k[i].i = i;
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && k[j].v == k[i].v; j++)
            ;
        double r = (double)(i + j + 1) / 2.0; /* mean of ranks i+1 .. j */
        for (size_t t = i; t < j; t++)
            rank[k[t].i] = r;
    }
}

static double pearson(const double *a, const double *b, size_t n)
{
    double ma = 0.0, mb = 0.0, sab = 0.0, saa = 0.0, sbb = 0.0;
    size_t i;

    for (i = 0; i < n; i++) {
        ma += a[i] / (double)n;
        mb += b[i] / (double)n;
    }
    for (i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0.0 && sbb > 0.0 ? sab / sqrt(saa * sbb) : NAN;
}

/* Kendall's tau-b of a and b (n). */
static double kendall(const double *a, const double *b, size_t n)
{
    double nc = 0.0, nd = 0.0, ta = 0.0, tb = 0.0, n0 = (double)n * (double)(n - 1) / 2.0;
    size_t i, j;

    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) {
            double s = (a[i] - a[j]) * (b[i] - b[j]);
            nc += s > 0.0;
            nd += s < 0.0;
            ta += a[i] == a[j];
            tb += b[i] == b[j];
        }
    if (!((n0 - ta) > 0.0 && (n0 - tb) > 0.0))
        return NAN;
    return (nc - nd) / sqrt((n0 - ta) * (n0 - tb));
}

int cs_ucurve_rank_runs(const double *avg, const double *best, size_t n, double *rank_avg,
                        double *rank_best, cs_ucurve_rank *out)
{
    keyed *k;
    double *ra, *rb;
    size_t i;

    if (n == 0 || !avg || !best || !out)
        return cs_fail(CS_EINVAL, "ranking: no runs");
    for (i = 0; i < n; i++)
        if (!isfinite(avg[i]) || !isfinite(best[i]))
            return cs_fail(CS_EINVAL, "ranking: run %zu: loss not finite", i + 1);
    k = malloc(n * sizeof *k);
    ra = malloc(2 * n * sizeof *ra);
    if (!k || !ra) {
        free(k);
        free(ra);
        return cs_fail(CS_ENOMEM, "ranking: out of memory");
    }
    rb = ra + n;
    ranks(avg, n, k, ra);
    ranks(best, n, k, rb);
    out->n = n;
    out->spearman = n > 1 ? pearson(ra, rb, n) : NAN;
    out->kendall = n > 1 ? kendall(avg, best, n) : NAN;
    out->best_avg = argmin(avg, n);
    out->best_best = argmin(best, n);
    out->regret = best[out->best_avg] - best[out->best_best];
    if (rank_avg)
        memcpy(rank_avg, ra, n * sizeof *ra);
    if (rank_best)
        memcpy(rank_best, rb, n * sizeof *rb);
    free(k);
    free(ra);
    return CS_OK;
}
