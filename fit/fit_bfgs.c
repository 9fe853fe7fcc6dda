/* fit/fit_bfgs.c: a dense BFGS minimiser with a strong-Wolfe line search (Nocedal and Wright,
 * Numerical Optimization, 2nd ed., algorithms 3.5, 3.6 and 6.1), for the few coordinates of a
 * scaling-law fit. Why it exists beside GSL's BFGS2 is said in fit/fit_internal.h. Tested
 * through tests/unit/test_fit.c (Rosenbrock, and every fit of the suite).
 *
 * Workspace layout (n coordinates): H (n*n) inverse-Hessian approximation, then the vectors
 * g, d, x1, g1, xlo, glo, hy (n each).
 */
#include "fit/fit_internal.h"

#include "fit/fit.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define C1          1e-4 /* sufficient decrease */
#define C2          0.9  /* curvature (weak enough for quasi-Newton steps) */
#define MAX_BRACKET 40
#define MAX_ZOOM    60

/* The state of one minimisation. */
typedef struct bfgs {
    cs_fit_fdf fdf;
    void *ctx;
    size_t n;
    double *x;   /* current point */
    double f;    /* value there */
    double *H;   /* (n, n) */
    double *g;   /* gradient at x */
    double *d;   /* search direction */
    double *x1;  /* trial point */
    double *g1;  /* gradient at the trial point */
    double *xlo; /* best trial point of the current line search */
    double *glo;
    double *hy; /* H y */
} bfgs;

/* A point on the line: step, value (+inf where not finite) and slope. */
typedef struct lpt {
    double a;
    double f;
    double s;
} lpt;

size_t cs_fit_bfgs_work_size(size_t n)
{
    return n * n + 7 * n;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;

    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Evaluates x + a d into x1, g1 and *p. */
static void line_eval(bfgs *b, double a, lpt *p)
{
    double f = 0.0;

    for (size_t i = 0; i < b->n; i++)
        b->x1[i] = b->x[i] + a * b->d[i];
    p->a = a;
    if (b->fdf(b->ctx, b->x1, &f, b->g1) != 0 || !isfinite(f)) {
        p->f = HUGE_VAL;
        p->s = NAN;
        return;
    }
    p->f = f;
    p->s = dot(b->g1, b->d, b->n);
    if (!isfinite(p->s)) {
        p->f = HUGE_VAL;
        p->s = NAN;
    }
}

static void keep_lo(bfgs *b)
{
    memcpy(b->xlo, b->x1, b->n * sizeof *b->x1);
    memcpy(b->glo, b->g1, b->n * sizeof *b->g1);
}

/* A trial step between lo and hi: the minimiser of the cubic (or quadratic) through them, kept
 * at least 10% of the interval away from either end; bisection-like when hi is not finite. */
static double interpolate(const lpt *lo, const lpt *hi)
{
    double w = hi->a - lo->a;
    double a = NAN;

    if (isfinite(hi->f) && isfinite(hi->s)) {
        double d1 = lo->s + hi->s - 3.0 * (lo->f - hi->f) / (lo->a - hi->a);
        double disc = d1 * d1 - lo->s * hi->s;

        if (disc >= 0) {
            double d2 = copysign(sqrt(disc), w);

            a = hi->a - w * (hi->s + d2 - d1) / (hi->s - lo->s + 2.0 * d2);
        }
    } else if (isfinite(hi->f)) {
        double den = 2.0 * (hi->f - lo->f - lo->s * w);

        if (den > 0)
            a = lo->a - lo->s * w * w / den;
    } else {
        return lo->a + 0.25 * w; /* shrink fast toward the finite end */
    }
    if (!isfinite(a))
        a = lo->a + 0.5 * w;
    if ((a - lo->a) / w < 0.1)
        a = lo->a + 0.1 * w;
    if ((a - lo->a) / w > 0.9)
        a = lo->a + 0.9 * w;
    return a;
}

/* Zoom of algorithm 3.6 between lo (sufficient decrease, lowest so far) and hi. Leaves the
 * accepted point in x1, g1, *out; returns false when no point with sufficient decrease beyond
 * step 0 was found. */
static bool zoom(bfgs *b, const lpt *p0, lpt lo, lpt hi, lpt *out)
{
    lpt c;

    for (int k = 0; k < MAX_ZOOM; k++) {
        if (fabs(hi.a - lo.a) <= 1e-15 * fmax(fabs(lo.a), fabs(hi.a)))
            break;
        line_eval(b, interpolate(&lo, &hi), &c);
        if (!(c.f <= p0->f + C1 * c.a * p0->s) || c.f >= lo.f) {
            hi = c;
            continue;
        }
        if (fabs(c.s) <= -C2 * p0->s) {
            *out = c;
            return true;
        }
        if (c.s * (hi.a - lo.a) >= 0)
            hi = lo;
        lo = c;
        keep_lo(b);
    }
    if (lo.a <= 0)
        return false;
    memcpy(b->x1, b->xlo, b->n * sizeof *b->x1); /* sufficient decrease without curvature */
    memcpy(b->g1, b->glo, b->n * sizeof *b->g1);
    *out = lo;
    return true;
}

/* Line search of algorithm 3.5 along d from x (slope p0.s < 0) starting at step a. */
static bool line_search(bfgs *b, double a, lpt *out)
{
    lpt p0 = {0.0, b->f, dot(b->g, b->d, b->n)};
    lpt prev = p0;
    lpt c;

    for (int k = 0; k < MAX_BRACKET; k++) {
        line_eval(b, a, &c);
        if (!(c.f <= p0.f + C1 * a * p0.s) || (k > 0 && c.f >= prev.f))
            return zoom(b, &p0, prev, c, out);
        if (fabs(c.s) <= -C2 * p0.s) {
            *out = c;
            return true;
        }
        keep_lo(b);
        if (c.s >= 0)
            return zoom(b, &p0, c, prev, out);
        prev = c;
        a *= 3.0;
    }
    return false;
}

static void set_identity(double *H, size_t n, double v)
{
    memset(H, 0, n * n * sizeof *H);
    for (size_t i = 0; i < n; i++)
        H[i * n + i] = v;
}

/* d = -H g; falls back to -g (and resets H) when that is not a descent direction. */
static void direction(bfgs *b)
{
    size_t n = b->n;

    for (size_t i = 0; i < n; i++)
        b->d[i] = -dot(b->H + i * n, b->g, n);
    if (!(dot(b->d, b->g, n) < 0)) {
        set_identity(b->H, n, 1.0);
        for (size_t i = 0; i < n; i++)
            b->d[i] = -b->g[i];
    }
}

/* BFGS update of H with s = a d and y = g1 - g, computed here into d and glo (both free after
 * the line search). */
static void update(bfgs *b, double a, bool first)
{
    size_t n = b->n;
    double *s = b->d;
    double *y = b->glo;
    double sy;
    double yhy;

    for (size_t i = 0; i < n; i++) {
        s[i] *= a;
        y[i] = b->g1[i] - b->g[i];
    }
    sy = dot(s, y, n);
    if (!(sy > 1e-300) || !(sy > 1e-12 * sqrt(dot(s, s, n) * dot(y, y, n))))
        return; /* no positive curvature along s: keep H (stays positive definite) */
    if (first)
        set_identity(b->H, n, sy / dot(y, y, n));
    for (size_t i = 0; i < n; i++)
        b->hy[i] = dot(b->H + i * n, y, n);
    yhy = dot(y, b->hy, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            b->H[i * n + j] +=
                (sy + yhy) * s[i] * s[j] / (sy * sy) - (b->hy[i] * s[j] + s[i] * b->hy[j]) / sy;
}

static bool small_gradient(const bfgs *b, double gtol)
{
    double lim = gtol * fmax(1.0, fabs(b->f));

    for (size_t i = 0; i < b->n; i++)
        if (!(fabs(b->g[i]) <= lim))
            return false;
    return true;
}

/* One iteration: direction, line search, update, move. Returns a cs_fit_stop, or -1 to go on. */
static int iterate(bfgs *b, size_t it, const cs_fit_bfgs_opts *o)
{
    double dn;
    double fprev = b->f;
    lpt p;

    direction(b);
    dn = sqrt(dot(b->d, b->d, b->n));
    if (!(dn > 0))
        return CS_FIT_STOP_GRADIENT;
    if (!line_search(b, it == 0 ? fmin(1.0, o->step / dn) : 1.0, &p))
        return CS_FIT_STOP_STALLED;
    update(b, p.a, it == 0);
    memcpy(b->x, b->x1, b->n * sizeof *b->x);
    memcpy(b->g, b->g1, b->n * sizeof *b->g);
    b->f = p.f;
    if (small_gradient(b, o->gtol))
        return CS_FIT_STOP_GRADIENT;
    if (fprev - b->f <= o->ftol * fmax(fmax(fabs(fprev), fabs(b->f)), 1e-300))
        return CS_FIT_STOP_STALLED;
    return -1;
}

int cs_fit_bfgs_minimize(cs_fit_fdf fdf, void *ctx, size_t n, double *x, double *f, size_t *iters,
                         const cs_fit_bfgs_opts *o, double *ws)
{
    bfgs b = {fdf,
              ctx,
              n,
              x,
              0.0,
              ws,
              ws + n * n,
              ws + n * n + n,
              ws + n * n + 2 * n,
              ws + n * n + 3 * n,
              ws + n * n + 4 * n,
              ws + n * n + 5 * n,
              ws + n * n + 6 * n};
    int stop = -1;
    size_t it = 0;

    *iters = 0;
    if (fdf(ctx, x, &b.f, b.g) != 0 || !isfinite(b.f)) {
        *f = NAN;
        return CS_FIT_STOP_BADSTART;
    }
    set_identity(b.H, n, 1.0);
    if (small_gradient(&b, o->gtol))
        stop = CS_FIT_STOP_GRADIENT;
    for (it = 0; stop < 0 && it < o->max_iter; it++)
        stop = iterate(&b, it, o);
    *iters = it;
    *f = b.f;
    return stop < 0 ? CS_FIT_STOP_MAXITER : stop;
}
