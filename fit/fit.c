/* fit/fit.c: objectives (Huber, least squares, Huber likelihood) over a law's residuals, the
 * local minimisers (GSL multimin BFGS2, GSL multifit_nlinear LM), the multi-start driver over
 * the law's grid on worker threads, and the summary of the best fit (residuals, likelihood,
 * identifiability, warnings). API and conventions in fit/fit.h. Test: tests/unit/test_fit.c.
 *
 * Everything below works in optimisation coordinates u: u_j = log(theta_j) for positive
 * parameters, theta_j otherwise, then the log scale for HUBER_LIK.
 */
#include "fit/fit.h"

#include "core/error.h"
#include "fit/fit_internal.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rows evaluated by the law per call (bounds the gradient buffer whatever the data size). */
#define CHUNK 512

struct cs_fit_work {
    const cs_law *law;
    const cs_dataset *ds;
    const cs_fit_params *p;
    size_t n;     /* points */
    size_t np;    /* law parameters */
    size_t nv;    /* law variables */
    size_t nt;    /* additive terms used (1 unless log space with several terms) */
    size_t ncoef; /* np (+1 for HUBER_LIK) */
    cs_law_work *lw;
    unsigned char *pos;        /* (np) optimised as a log */
    double *ly;                /* (n) log(y) in log space, y otherwise */
    double *theta;             /* (np) native parameters */
    double *dtheta;            /* (np) d theta / d u */
    double *vals;              /* (CHUNK, nt) law values or terms */
    double *grads;             /* (CHUNK, nt, np) their gradients */
    const double **cp;         /* (nv) column pointers of a chunk */
    size_t m;                  /* points in use: those with weight > 0 */
    const double *const *cols; /* (nv) columns of the points in use (the data's, or gathered) */
    const double *y;           /* (m) log(y) in log space, y otherwise, of the points in use */
    const double *wt;          /* (m) their weights, or NULL for all 1 */
    size_t *idx;               /* (m) data row of each point in use, when gathered */
    double **gcols;            /* (nv) gathered columns, each (n) */
    double *gy;                /* (n) gathered targets */
    double *gw;                /* (n) gathered weights */
    double *r;                 /* (n) residuals */
    double *J;                 /* (n, np) d r / d u */
    double *cache_x;           /* (ncoef) point of the cached value and gradient */
    double *cache_g;           /* (ncoef) */
    double cache_f;
    bool cache_ok;
    gsl_multimin_fdfminimizer *mm;      /* BFGS2 (HUBER, HUBER_LIK) */
    gsl_multifit_nlinear_workspace *nl; /* LM (LSQ), sized for nl_m points */
    size_t nl_m;
    gsl_vector *x0;    /* (ncoef) */
    cs_fit_loglin *ll; /* fast path for log-linear terms, or NULL */
    double *q;         /* (nterms, n) shares of the terms in each prediction (fast path) */
    double *c;         /* (n) per-point multipliers of d r / d u in the gradient */
    double *cq;        /* (n) scratch of the fast gradient */
    double *S;         /* (nterms, 1 + nvars) scratch of the fast gradient */
    double *bws;       /* (cs_fit_bfgs_work_size(ncoef)) */
};

cs_fit_params cs_fit_default_params(void)
{
    cs_fit_params p;

    memset(&p, 0, sizeof p);
    p.method = CS_FIT_HUBER;
    p.optimizer = CS_FIT_OPT_BFGS;
    p.general_eval = false;
    p.delta = 1e-3;
    p.log_space = true;
    p.threads = 0;
    p.max_iter = 2000;
    p.gtol = 1e-10;
    p.ftol = 1e-10;
    p.xtol = 1e-15;
    p.step = 1.0;
    p.line_tol = 0.1;
    p.best_rtol = 1e-6;
    p.close_tol = 1e-3;
    p.max_starts = 1000000;
    return p;
}

const char *cs_fit_method_name(int method)
{
    switch (method) {
    case CS_FIT_HUBER: return "huber";
    case CS_FIT_LSQ: return "lsq";
    case CS_FIT_HUBER_LIK: return "huber-lik";
    default: return "unknown";
    }
}

int cs_fit_method_parse(const char *name, int *method)
{
    for (int m = CS_FIT_HUBER; m <= CS_FIT_HUBER_LIK; m++) {
        if (name != NULL && strcmp(name, cs_fit_method_name(m)) == 0) {
            *method = m;
            return CS_OK;
        }
    }
    return cs_fail(CS_EINPUT, "method \"%s\": expected huber, lsq or huber-lik",
                   name ? name : "(null)");
}

size_t cs_fit_ncoef(const cs_law *law, const cs_fit_params *p)
{
    return cs_law_nparams(law) + (p->method == CS_FIT_HUBER_LIK ? 1 : 0);
}

/* ---- coordinates ------------------------------------------------------------------------- */

/* theta and d theta / d u from u (np). */
static void to_native(cs_fit_work *w, const double *u)
{
    for (size_t j = 0; j < w->np; j++) {
        w->theta[j] = w->pos[j] ? exp(u[j]) : u[j];
        w->dtheta[j] = w->pos[j] ? w->theta[j] : 1.0;
    }
}

/* Optimisation coordinates of native coefficients (ncoef; the log scale passes through). */
static void coef_to_u(const cs_fit_work *w, const double *coef, double *u)
{
    for (size_t j = 0; j < w->ncoef; j++)
        u[j] = j < w->np && w->pos[j] ? log(coef[j]) : coef[j];
}

static void u_to_coef(const cs_fit_work *w, const double *u, double *coef)
{
    for (size_t j = 0; j < w->ncoef; j++)
        coef[j] = j < w->np && w->pos[j] ? exp(u[j]) : u[j];
}

/* ---- Huber ------------------------------------------------------------------------------- */

static double huber(double r, double d)
{
    double a = fabs(r);

    return a <= d ? 0.5 * r * r : d * (a - 0.5 * d);
}

/* Derivative of huber(r). */
static double huber_psi(double r, double d)
{
    return r > d ? d : r < -d ? -d : r;
}

/* log of the normaliser of exp(-huber(u, d)) over the real line. */
static double huber_log_z(double d)
{
    return log(sqrt(2.0 * M_PI) * gsl_sf_erf(d / M_SQRT2) + 2.0 * exp(-0.5 * d * d) / d);
}

/* ---- residuals --------------------------------------------------------------------------- */

/* Selects the points of a minimisation: all of them (weights NULL), or those with weight > 0,
 * gathered so that zero-weight points cost nothing. */
static void set_weights(cs_fit_work *w, const double *weights)
{
    const double *const *cols = cs_dataset_cols(w->ds);
    size_t m = 0;

    if (weights == NULL) {
        w->m = w->n;
        w->cols = cols;
        w->y = w->ly;
        w->wt = NULL;
        if (w->ll)
            cs_fit_loglin_select(w->ll, NULL, w->n);
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (!(weights[i] > 0))
            continue;
        for (size_t j = 0; j < w->nv; j++)
            w->gcols[j][m] = cols[j][i];
        w->gy[m] = w->ly[i];
        w->gw[m] = weights[i];
        w->idx[m++] = i;
    }
    w->m = m;
    w->cols = (const double *const *)w->gcols;
    w->y = w->gy;
    w->wt = w->gw;
    if (w->ll)
        cs_fit_loglin_select(w->ll, w->idx, m);
}

/* Data row of point i in use. */
static size_t data_row(const cs_fit_work *w, size_t i)
{
    return w->wt != NULL ? w->idx[i] : i;
}

static int fail_at(const cs_fit_work *w, size_t i, const char *what, double v)
{
    char where[512];

    cs_dataset_row_where(w->ds, data_row(w, i), where, sizeof where);
    return cs_fail(CS_EINPUT, "%s: the law predicts %g; %s", where, v, what);
}

/* log(pred) of one point from its terms t (nt) and, unless dlp is NULL, d log(pred) / d theta
 * into dlp (np) from the terms' gradients g (nt, np). When every term is > 0 this is the
 * log-sum-exp of the log terms, log(t_max) + log1p(sum of t_k / t_max), which cannot overflow. */
static int point_log_pred(const cs_fit_work *w, size_t i, const double *t, const double *g,
                          double *lp, double *dlp)
{
    size_t kmax = 0;
    double sum = 0.0;
    double scale;
    bool allpos = true;

    for (size_t k = 0; k < w->nt; k++) {
        allpos = allpos && t[k] > 0;
        kmax = t[k] > t[kmax] ? k : kmax;
        sum += t[k];
    }
    if (allpos) {
        double s = 0.0;

        for (size_t k = 0; k < w->nt; k++)
            s += k == kmax ? 0.0 : t[k] / t[kmax];
        *lp = log(t[kmax]) + log1p(s);
        scale = 1.0 / (t[kmax] * (1.0 + s));
    } else if (sum > 0) {
        *lp = log(sum);
        scale = 1.0 / sum;
    } else {
        return fail_at(w, i, "log-space residuals need a prediction > 0", sum);
    }
    if (dlp == NULL)
        return CS_OK;
    for (size_t j = 0; j < w->np; j++) {
        double acc = 0.0;

        for (size_t k = 0; k < w->nt; k++)
            acc += g[k * w->np + j];
        dlp[j] = acc * scale;
    }
    return CS_OK;
}

/* Residuals (and their gradients in u) of points c0..c0+m-1 from the law's values in w->vals. */
static int chunk_residuals(cs_fit_work *w, size_t c0, size_t m, bool want_j)
{
    size_t np = w->np;

    for (size_t r = 0; r < m; r++) {
        size_t i = c0 + r;
        const double *t = w->vals + r * w->nt;
        const double *g = w->grads + r * w->nt * np;
        double *Ji = w->J + i * np;
        double lp = 0.0;

        if (w->p->log_space) {
            int st = point_log_pred(w, i, t, g, &lp, want_j ? Ji : NULL);

            if (st)
                return st;
            w->r[i] = lp - w->y[i];
        } else {
            w->r[i] = t[0] - w->y[i];
            if (want_j)
                memcpy(Ji, g, np * sizeof *Ji);
        }
        if (want_j)
            for (size_t j = 0; j < np; j++)
                Ji[j] *= w->dtheta[j];
    }
    return CS_OK;
}

/* w->r and w->J through the log-linear fast path. */
static void loglin_residuals(cs_fit_work *w, bool want_j)
{
    cs_fit_loglin_prepare(w->ll, w->theta);
    cs_fit_loglin_residuals(w->ll, w->y, w->r, want_j ? w->q : NULL);
    if (want_j)
        cs_fit_loglin_jacobian(w->ll, w->q, w->dtheta, w->J);
}

/* w->r (m) and, when want_j, w->J (m, np) at u. */
static int compute_residuals(cs_fit_work *w, const double *u, bool want_j)
{
    int st = CS_OK;

    to_native(w, u);
    if (w->ll != NULL) {
        loglin_residuals(w, want_j);
        return CS_OK;
    }
    for (size_t c0 = 0; c0 < w->m && st == CS_OK; c0 += CHUNK) {
        size_t m = w->m - c0 < CHUNK ? w->m - c0 : CHUNK;

        for (size_t j = 0; j < w->nv; j++)
            w->cp[j] = w->cols[j] + c0;
        if (w->nt > 1)
            st = cs_law_eval_terms_batch(w->law, w->theta, w->cp, m, w->vals,
                                         want_j ? w->grads : NULL, w->lw);
        else
            st = cs_law_eval_batch(w->law, w->theta, w->cp, m, w->vals, want_j ? w->grads : NULL,
                                   w->lw);
        if (st == CS_OK)
            st = chunk_residuals(w, c0, m, want_j);
    }
    return st;
}

/* ---- objectives -------------------------------------------------------------------------- */

/* Objective value from w->r, and the multipliers c_i of d r_i / d u in its gradient into w->c
 * (and d f / d log scale into *gs for HUBER_LIK). s is the log scale (HUBER_LIK). */
static double objective_from_residuals(cs_fit_work *w, double s, bool grad, double *gs)
{
    double d = w->p->delta;
    double isig = exp(-s);
    double acc = 0.0;
    double wsum = 0.0;

    *gs = 0.0;
    for (size_t i = 0; i < w->m; i++) {
        double wi = w->wt ? w->wt[i] : 1.0;
        double r = w->r[i];
        double z = r * isig;

        wsum += wi;
        if (w->p->method == CS_FIT_HUBER) {
            acc += wi * huber(r, d);
            if (grad)
                w->c[i] = wi * huber_psi(r, d);
        } else if (w->p->method == CS_FIT_LSQ) {
            acc += 0.5 * wi * r * r;
            if (grad)
                w->c[i] = wi * r;
        } else {
            acc += wi * (huber(z, d) + s);
            if (grad) {
                w->c[i] = wi * huber_psi(z, d) * isig;
                *gs += wi * (1.0 - huber_psi(z, d) * z);
            }
        }
    }
    if (w->p->method == CS_FIT_HUBER_LIK)
        acc += wsum * huber_log_z(d);
    return acc;
}

/* The objective of w->p->method at u over the points in use, and its gradient gu (ncoef)
 * unless NULL. */
static int eval_objective(cs_fit_work *w, const double *u, double *f, double *gu)
{
    bool fast = w->ll != NULL;
    double s = w->p->method == CS_FIT_HUBER_LIK ? u[w->np] : 0.0;
    double gs = 0.0;
    int st = CS_OK;

    if (fast) {
        to_native(w, u);
        cs_fit_loglin_prepare(w->ll, w->theta);
        cs_fit_loglin_residuals(w->ll, w->y, w->r, gu ? w->q : NULL);
    } else {
        st = compute_residuals(w, u, gu != NULL);
        if (st)
            return st;
    }
    *f = objective_from_residuals(w, s, gu != NULL, &gs);
    if (!isfinite(*f))
        return cs_fail(CS_EINPUT, "the objective is not finite (%g)", *f);
    if (gu == NULL)
        return CS_OK;
    if (fast) {
        cs_fit_loglin_gradient(w->ll, w->q, w->c, w->dtheta, gu, w->S, w->cq);
    } else {
        memset(gu, 0, w->np * sizeof *gu);
        for (size_t i = 0; i < w->m; i++)
            for (size_t j = 0; j < w->np; j++)
                gu[j] += w->c[i] * w->J[i * w->np + j];
    }
    if (w->p->method == CS_FIT_HUBER_LIK)
        gu[w->np] = gs;
    return CS_OK;
}

/* sum w min(z^2, d |z|) with z = r / exp(ls): decreasing in ls. */
static double scale_h(const double *r, const double *wt, size_t m, double d, double ls)
{
    double is = exp(-ls);
    double h = 0.0;

    for (size_t i = 0; i < m; i++) {
        double z = fabs(r[i]) * is;

        h += (wt ? wt[i] : 1.0) * (z <= d ? z * z : d * z);
    }
    return h;
}

/* Scale s (as log) minimising sum w (huber(r/s) + log s) for residuals r (m) with weights wt
 * (NULL = 1): the root of sum w min(z^2, d |z|) = sum w, z = r/s, by bisection in log s.
 * Returns false when every residual is 0 (the likelihood is unbounded). */
static bool profile_log_scale(const double *r, const double *wt, size_t m, double d, double *ls)
{
    double amax = 0.0;
    double wsum = 0.0;
    double lo;
    double hi;

    for (size_t i = 0; i < m; i++) {
        amax = fmax(amax, fabs(r[i]));
        wsum += wt ? wt[i] : 1.0;
    }
    if (!(amax > 0) || !isfinite(amax) || !(wsum > 0))
        return false;
    /* At hi every |z| <= d and h <= wsum d^2 / e^2 < wsum. */
    hi = log(amax) + fmax(0.0, -log(d)) + 0.5 * log(wsum) + 1.0;
    lo = log(amax) - 1.0;
    while (scale_h(r, wt, m, d, lo) <= wsum) {
        lo -= 4.0;
        if (lo < log(amax) - 700.0)
            return false;
    }
    for (int it = 0; it < 200 && hi - lo > 1e-15 * (1.0 + fabs(hi)); it++) {
        double mid = 0.5 * (lo + hi);

        if (scale_h(r, wt, m, d, mid) > wsum)
            lo = mid;
        else
            hi = mid;
    }
    *ls = 0.5 * (lo + hi);
    return true;
}

/* ---- workspace --------------------------------------------------------------------------- */

static int work_check(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p)
{
    if (law == NULL || ds == NULL || p == NULL)
        return cs_fail(CS_EINVAL, "fit: NULL law, data or parameters");
    if (cs_dataset_nvars(ds) != cs_law_nvars(law))
        return cs_fail(CS_EINVAL, "fit: the data set has %zu variables, the law %zu",
                       cs_dataset_nvars(ds), cs_law_nvars(law));
    for (size_t j = 0; j < cs_law_nvars(law); j++)
        if (strcmp(cs_dataset_var_name(ds, j), cs_law_var_name(law, j)) != 0)
            return cs_fail(CS_EINVAL, "fit: the data set was built for another law");
    if (p->method < CS_FIT_HUBER || p->method > CS_FIT_HUBER_LIK)
        return cs_fail(CS_EINVAL, "fit: unknown method %d", p->method);
    if (p->optimizer != CS_FIT_OPT_BFGS && p->optimizer != CS_FIT_OPT_GSL_BFGS2)
        return cs_fail(CS_EINVAL, "fit: unknown optimizer %d", p->optimizer);
    if (!(p->delta > 0) || !isfinite(p->delta))
        return cs_fail(CS_EINPUT, "fit: the Huber delta must be a positive number, got %g",
                       p->delta);
    if (p->max_iter == 0 || !(p->step > 0) || !(p->line_tol > 0) || !(p->gtol >= 0))
        return cs_fail(CS_EINVAL, "fit: max_iter, step, line_tol must be > 0 and gtol >= 0");
    return CS_OK;
}

/* Arrays of the workspace; CS_ENOMEM when one fails. */
static int work_arrays(cs_fit_work *w)
{
    size_t n = w->n ? w->n : 1;
    bool ok;

    w->pos = calloc(w->np, 1);
    w->ly = malloc(n * sizeof *w->ly);
    w->theta = malloc(w->np * sizeof *w->theta);
    w->dtheta = malloc(w->np * sizeof *w->dtheta);
    w->vals = malloc(CHUNK * w->nt * sizeof *w->vals);
    w->grads = malloc(CHUNK * w->nt * w->np * sizeof *w->grads);
    w->cp = calloc(w->nv ? w->nv : 1, sizeof *w->cp);
    w->gcols = calloc(w->nv ? w->nv : 1, sizeof *w->gcols);
    w->idx = malloc(n * sizeof *w->idx);
    w->gy = malloc(n * sizeof *w->gy);
    w->gw = malloc(n * sizeof *w->gw);
    w->r = malloc(n * sizeof *w->r);
    w->J = malloc(n * w->np * sizeof *w->J);
    w->cache_x = malloc(w->ncoef * sizeof *w->cache_x);
    w->cache_g = malloc(w->ncoef * sizeof *w->cache_g);
    w->bws = malloc(cs_fit_bfgs_work_size(w->ncoef) * sizeof *w->bws);
    w->c = malloc(n * sizeof *w->c);
    w->cq = malloc(n * sizeof *w->cq);
    ok = w->bws && w->c && w->cq && w->pos && w->ly && w->theta && w->dtheta && w->vals &&
         w->grads && w->cp && w->gcols && w->idx && w->gy && w->gw && w->r && w->J && w->cache_x &&
         w->cache_g;
    for (size_t j = 0; ok && j < w->nv; j++) {
        w->gcols[j] = malloc(n * sizeof **w->gcols);
        ok = w->gcols[j] != NULL;
    }
    return ok ? CS_OK : cs_fail(CS_ENOMEM, "fit: out of memory for %zu points", w->n);
}

cs_fit_work *cs_fit_work_alloc(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p)
{
    cs_fit_work *w;
    const double *y;

    if (work_check(law, ds, p) != CS_OK)
        return NULL;
    w = calloc(1, sizeof *w);
    if (w == NULL) {
        cs_fail(CS_ENOMEM, "fit: out of memory");
        return NULL;
    }
    w->law = law;
    w->ds = ds;
    w->p = p;
    w->n = cs_dataset_n(ds);
    w->np = cs_law_nparams(law);
    w->nv = cs_law_nvars(law);
    w->nt = p->log_space && cs_law_nterms(law) > 1 ? cs_law_nterms(law) : 1;
    w->ncoef = cs_fit_ncoef(law, p);
    if (work_arrays(w) != CS_OK)
        goto out_free;
    w->lw = cs_law_work_alloc(law);
    w->x0 = gsl_vector_alloc(w->ncoef);
    if (p->method != CS_FIT_LSQ && p->optimizer == CS_FIT_OPT_GSL_BFGS2)
        w->mm = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, w->ncoef);
    if (w->lw == NULL || w->x0 == NULL ||
        (p->optimizer == CS_FIT_OPT_GSL_BFGS2 && p->method != CS_FIT_LSQ && w->mm == NULL)) {
        cs_fail(CS_ENOMEM, "fit: out of memory for the minimiser");
        goto out_free;
    }
    y = cs_dataset_target(ds);
    for (size_t i = 0; i < w->n; i++)
        w->ly[i] = p->log_space ? log(y[i]) : y[i];
    for (size_t j = 0; j < w->np; j++)
        w->pos[j] = (cs_law_param_flags(law, j) & CS_LAW_POSITIVE) != 0;
    if (p->log_space && !p->general_eval) {
        w->ll = cs_fit_loglin_alloc(law, ds); /* NULL: the law does not qualify */
        cs_errclear();
    }
    if (w->ll != NULL) {
        size_t nt = cs_fit_loglin_nterms(w->ll);

        w->q = malloc(nt * (w->n ? w->n : 1) * sizeof *w->q);
        w->S = malloc(nt * cs_fit_loglin_nfeatures(w->ll) * sizeof *w->S);
        if (w->q == NULL || w->S == NULL) {
            cs_fail(CS_ENOMEM, "fit: out of memory");
            goto out_free;
        }
    }
    set_weights(w, NULL);
    return w;

out_free:
    cs_fit_work_free(w);
    return NULL;
}

void cs_fit_work_free(cs_fit_work *w)
{
    if (w == NULL)
        return;
    if (w->gcols)
        for (size_t j = 0; j < w->nv; j++)
            free(w->gcols[j]);
    free(w->gcols);
    free(w->pos);
    free(w->ly);
    free(w->theta);
    free(w->dtheta);
    free(w->vals);
    free(w->grads);
    free(w->cp);
    free(w->idx);
    free(w->gy);
    free(w->gw);
    free(w->r);
    free(w->J);
    free(w->cache_x);
    free(w->cache_g);
    free(w->bws);
    free(w->c);
    free(w->cq);
    free(w->q);
    free(w->S);
    cs_fit_loglin_free(w->ll);
    cs_law_work_free(w->lw);
    if (w->mm)
        gsl_multimin_fdfminimizer_free(w->mm);
    if (w->nl)
        gsl_multifit_nlinear_free(w->nl);
    if (w->x0)
        gsl_vector_free(w->x0);
    free(w);
}

/* ---- BFGS2 (HUBER, HUBER_LIK) ------------------------------------------------------------ */

/* Value and gradient at x through a one-point cache (the line search asks for the gradient at
 * points whose value it has, and the other way round). A point where the objective is not
 * finite gets +inf and a zero gradient: the line search then shrinks its step. */
static void mm_eval(const gsl_vector *x, cs_fit_work *w, double *f, gsl_vector *g)
{
    double u[CS_LAW_MAX_OPS + 1];
    size_t nc = w->ncoef;

    for (size_t j = 0; j < nc; j++)
        u[j] = gsl_vector_get(x, j);
    if (!(w->cache_ok && memcmp(u, w->cache_x, nc * sizeof *u) == 0)) {
        if (eval_objective(w, u, &w->cache_f, g ? w->cache_g : NULL) != CS_OK) {
            w->cache_f = GSL_POSINF;
            memset(w->cache_g, 0, nc * sizeof *w->cache_g);
        }
        memcpy(w->cache_x, u, nc * sizeof *u);
        w->cache_ok = g != NULL; /* a value-only evaluation leaves no gradient to reuse */
    }
    *f = w->cache_f;
    for (size_t j = 0; g && j < nc; j++)
        gsl_vector_set(g, j, w->cache_g[j]);
}

static double mm_f(const gsl_vector *x, void *ctx)
{
    double f;

    mm_eval(x, ctx, &f, NULL);
    return f;
}

static void mm_df(const gsl_vector *x, void *ctx, gsl_vector *g)
{
    double f;

    mm_eval(x, ctx, &f, g);
}

static void mm_fdf(const gsl_vector *x, void *ctx, double *f, gsl_vector *g)
{
    mm_eval(x, ctx, f, g);
}

static bool gradient_small(const gsl_vector *g, double f, double gtol)
{
    double lim = gtol * fmax(1.0, fabs(f));

    for (size_t j = 0; j < g->size; j++)
        if (!(fabs(gsl_vector_get(g, j)) <= lim))
            return false;
    return true;
}

/* GSL's BFGS2 from u (ncoef, overwritten by the end point). */
static int local_bfgs(cs_fit_work *w, double *u, double *f, size_t *iters)
{
    gsl_multimin_function_fdf fdf = {mm_f, mm_df, mm_fdf, w->ncoef, w};
    gsl_multimin_fdfminimizer *mm = w->mm;
    int stop = CS_FIT_STOP_MAXITER;
    double fprev;
    size_t it;

    for (size_t j = 0; j < w->ncoef; j++)
        gsl_vector_set(w->x0, j, u[j]);
    w->cache_ok = false;
    if (gsl_multimin_fdfminimizer_set(mm, &fdf, w->x0, w->p->step, w->p->line_tol) != GSL_SUCCESS ||
        !isfinite(mm->f)) {
        *f = GSL_NAN;
        return CS_FIT_STOP_BADSTART;
    }
    *f = mm->f;
    if (gradient_small(mm->gradient, mm->f, w->p->gtol))
        stop = CS_FIT_STOP_GRADIENT;
    for (it = 0; it < w->p->max_iter && stop == CS_FIT_STOP_MAXITER; it++) {
        int st = gsl_multimin_fdfminimizer_iterate(mm);

        if (!isfinite(mm->f) || mm->f > *f) {
            stop = CS_FIT_STOP_STALLED; /* keep the last good point */
            break;
        }
        fprev = *f;
        *f = mm->f;
        for (size_t j = 0; j < w->ncoef; j++)
            u[j] = gsl_vector_get(mm->x, j);
        if (st != GSL_SUCCESS)
            stop = CS_FIT_STOP_STALLED;
        else if (gradient_small(mm->gradient, mm->f, w->p->gtol))
            stop = CS_FIT_STOP_GRADIENT;
        else if (fprev - *f <= w->p->ftol * fmax(fabs(fprev), fabs(*f)))
            stop = CS_FIT_STOP_STALLED;
    }
    if (iters)
        *iters = it;
    return stop;
}

/* ---- dense BFGS (HUBER, HUBER_LIK) ------------------------------------------------------- */

static int bfgs_fdf(void *ctx, const double *u, double *f, double *g)
{
    return eval_objective(ctx, u, f, g);
}

static int local_dense_bfgs(cs_fit_work *w, double *u, double *f, size_t *iters)
{
    cs_fit_bfgs_opts o = {w->p->max_iter, w->p->gtol, w->p->ftol, w->p->step};
    size_t it = 0;
    int stop = cs_fit_bfgs_minimize(bfgs_fdf, w, w->ncoef, u, f, &it, &o, w->bws);

    if (iters)
        *iters = it;
    return stop;
}

/* ---- Levenberg-Marquardt (LSQ) ----------------------------------------------------------- */

/* Residuals sqrt(w_i) r_i. Where the law cannot be evaluated the residuals are made huge, so
 * that the trust region rejects the step and shrinks, instead of the driver stopping. */
static int nl_f(const gsl_vector *x, void *ctx, gsl_vector *fv)
{
    cs_fit_work *w = ctx;
    double u[CS_LAW_MAX_OPS + 1];
    bool ok;

    for (size_t j = 0; j < w->np; j++)
        u[j] = gsl_vector_get(x, j);
    ok = compute_residuals(w, u, false) == CS_OK;
    for (size_t i = 0; i < w->m; i++) {
        double v = ok ? w->r[i] * (w->wt ? sqrt(w->wt[i]) : 1.0) : 1e100;

        gsl_vector_set(fv, i, isfinite(v) ? v : 1e100);
    }
    return GSL_SUCCESS;
}

static int nl_df(const gsl_vector *x, void *ctx, gsl_matrix *jm)
{
    cs_fit_work *w = ctx;
    double u[CS_LAW_MAX_OPS + 1];

    for (size_t j = 0; j < w->np; j++)
        u[j] = gsl_vector_get(x, j);
    if (compute_residuals(w, u, true) != CS_OK)
        return GSL_EDOM;
    for (size_t i = 0; i < w->m; i++) {
        double s = w->wt ? sqrt(w->wt[i]) : 1.0;

        for (size_t j = 0; j < w->np; j++)
            gsl_matrix_set(jm, i, j, s * w->J[i * w->np + j]);
    }
    return GSL_SUCCESS;
}

/* (Re)allocates the LM workspace for the number of points in use. */
static int nl_ready(cs_fit_work *w)
{
    gsl_multifit_nlinear_parameters prm = gsl_multifit_nlinear_default_parameters();

    if (w->nl != NULL && w->nl_m == w->m)
        return CS_OK;
    if (w->nl != NULL)
        gsl_multifit_nlinear_free(w->nl);
    w->nl = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &prm, w->m, w->np);
    w->nl_m = w->nl ? w->m : 0;
    return w->nl ? CS_OK : cs_fail(CS_ENOMEM, "fit: out of memory for the LM workspace");
}

/* LM from u (np, overwritten by the end point). */
static int local_lm(cs_fit_work *w, double *u, double *f, size_t *iters)
{
    gsl_multifit_nlinear_fdf fdf;
    int info = 0;
    int st;

    *f = GSL_NAN;
    if (eval_objective(w, u, f, NULL) != CS_OK || w->m < w->np)
        return CS_FIT_STOP_BADSTART;
    if (nl_ready(w) != CS_OK)
        return CS_FIT_STOP_FAILED;
    memset(&fdf, 0, sizeof fdf);
    fdf.f = nl_f;
    fdf.df = nl_df;
    fdf.n = w->m;
    fdf.p = w->np;
    fdf.params = w;
    for (size_t j = 0; j < w->np; j++)
        gsl_vector_set(w->x0, j, u[j]);
    if (gsl_multifit_nlinear_init(w->x0, &fdf, w->nl) != GSL_SUCCESS)
        return CS_FIT_STOP_BADSTART;
    /* The gradient test is made unreachable (1e-300): GSL's version of it stops MGH09 at 7
     * digits; LM then stops on xtol or when no step lowers the sum any more (STALLED). */
    st = gsl_multifit_nlinear_driver(w->p->max_iter, w->p->xtol, 1e-300, 0.0, NULL, NULL, &info,
                                     w->nl);
    if (iters)
        *iters = gsl_multifit_nlinear_niter(w->nl);
    for (size_t j = 0; j < w->np; j++)
        u[j] = gsl_vector_get(gsl_multifit_nlinear_position(w->nl), j);
    if (eval_objective(w, u, f, NULL) != CS_OK)
        return CS_FIT_STOP_FAILED;
    if (st == GSL_SUCCESS)
        return CS_FIT_STOP_GRADIENT;
    if (st == GSL_EMAXITER)
        return CS_FIT_STOP_MAXITER;
    return CS_FIT_STOP_STALLED;
}

/* ---- public building blocks -------------------------------------------------------------- */

int cs_fit_objective(cs_fit_work *w, const double *weights, const double *coef, double *f,
                     double *grad)
{
    double u[CS_LAW_MAX_OPS + 1];
    int st;

    for (size_t j = 0; j < w->ncoef; j++) {
        if (j < w->np && w->pos[j] && !(coef[j] > 0))
            return cs_fail(CS_EINPUT, "fit: parameter %s must be > 0, got %g",
                           cs_law_param_name(w->law, j), coef[j]);
    }
    coef_to_u(w, coef, u);
    set_weights(w, weights);
    st = eval_objective(w, u, f, grad);
    if (st == CS_OK && grad != NULL)
        for (size_t j = 0; j < w->np; j++)
            grad[j] /= w->dtheta[j]; /* d f / d theta = (d f / d u) / (d theta / d u) */
    return st;
}

int cs_fit_residuals(cs_fit_work *w, const double *params, double *r)
{
    double u[CS_LAW_MAX_OPS + 1];
    int st;

    for (size_t j = 0; j < w->np; j++)
        u[j] = w->pos[j] ? log(params[j]) : params[j];
    set_weights(w, NULL);
    st = compute_residuals(w, u, false);
    if (st == CS_OK)
        memcpy(r, w->r, w->n * sizeof *r);
    return st;
}

int cs_fit_local(cs_fit_work *w, const double *weights, const double *start, double *coef,
                 double *f, size_t *iters)
{
    double u[CS_LAW_MAX_OPS + 1];
    int stop;

    if (iters)
        *iters = 0;
    set_weights(w, weights);
    for (size_t j = 0; j < w->np; j++)
        if (w->pos[j] && !(start[j] > 0))
            goto out_bad;
    coef_to_u(w, start, u);
    if (w->p->method == CS_FIT_HUBER_LIK && isnan(start[w->np])) {
        if (compute_residuals(w, u, false) != CS_OK ||
            !profile_log_scale(w->r, w->wt, w->m, w->p->delta, &u[w->np]))
            goto out_bad;
    }
    if (w->p->method == CS_FIT_LSQ)
        stop = local_lm(w, u, f, iters);
    else if (w->p->optimizer == CS_FIT_OPT_GSL_BFGS2)
        stop = local_bfgs(w, u, f, iters);
    else
        stop = local_dense_bfgs(w, u, f, iters);
    u_to_coef(w, u, coef);
    return stop;

out_bad:
    memcpy(coef, start, w->ncoef * sizeof *coef);
    *f = GSL_NAN;
    return CS_FIT_STOP_BADSTART;
}

/* ---- threads ----------------------------------------------------------------------------- */

size_t cs_fit_threads(size_t requested, size_t tasks)
{
    size_t t = requested;

    if (t == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);

        t = c > 0 ? (size_t)c : 1;
    }
    if (t > tasks)
        t = tasks;
    return t > 0 ? t : 1;
}

typedef struct pool {
    const cs_law *law;
    const cs_dataset *ds;
    const cs_fit_params *p;
    size_t n;
    cs_fit_task fn;
    void *ctx;
    atomic_size_t next; /* next task index to hand out */
    atomic_int status;  /* first workspace failure */
    char msg[CS_ERRMSG_MAX];
    pthread_mutex_t lock;
} pool;

static void *pool_worker(void *arg)
{
    pool *pl = arg;
    cs_fit_work *w = cs_fit_work_alloc(pl->law, pl->ds, pl->p);
    size_t i;

    if (w == NULL) {
        int expect = CS_OK;

        pthread_mutex_lock(&pl->lock);
        if (atomic_compare_exchange_strong(&pl->status, &expect, CS_ENOMEM))
            snprintf(pl->msg, sizeof pl->msg, "%s", cs_errmsg());
        pthread_mutex_unlock(&pl->lock);
        return NULL;
    }
    while ((i = atomic_fetch_add(&pl->next, 1)) < pl->n)
        pl->fn(pl->ctx, w, i);
    cs_fit_work_free(w);
    return NULL;
}

int cs_fit_parallel(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p, size_t n,
                    cs_fit_task fn, void *ctx)
{
    size_t nt = cs_fit_threads(p->threads, n);
    pthread_t *tid = calloc(nt, sizeof *tid);
    pool pl = {.law = law, .ds = ds, .p = p, .n = n, .fn = fn, .ctx = ctx};
    size_t started = 0;
    int st = CS_OK;

    if (tid == NULL)
        return cs_fail(CS_ENOMEM, "fit: out of memory for %zu threads", nt);
    st = work_check(law, ds, p);
    if (st) {
        free(tid);
        return st;
    }
    atomic_init(&pl.next, 0);
    atomic_init(&pl.status, CS_OK);
    pthread_mutex_init(&pl.lock, NULL);
    if (nt == 1) {
        pool_worker(&pl);
    } else {
        for (started = 0; started < nt; started++)
            if (pthread_create(&tid[started], NULL, pool_worker, &pl) != 0)
                break;
        if (started == 0)
            pool_worker(&pl); /* no thread could start: do the work here */
        for (size_t t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
    }
    /* Any worker that started finishes every task, so tasks remain only if none could. */
    if (atomic_load(&pl.next) < n)
        st = cs_fail(atomic_load(&pl.status) != CS_OK ? atomic_load(&pl.status) : CS_EIO, "%s",
                     pl.msg[0] ? pl.msg : "fit: no worker thread could run");
    pthread_mutex_destroy(&pl.lock);
    free(tid);
    return st;
}

/* ---- result ------------------------------------------------------------------------------ */

void cs_fit_result_free(cs_fit_result *r)
{
    if (r == NULL)
        return;
    for (size_t k = 0; k < r->nwarnings; k++)
        free(r->warnings[k]);
    free(r->warnings);
    free(r->estimate);
    free(r->start_objective);
    free(r->start_stop);
    free(r->se_asym);
    free(r);
}

static cs_fit_result *result_alloc(size_t np, size_t nstarts)
{
    cs_fit_result *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->nparams = np;
    r->estimate = calloc(np, sizeof *r->estimate);
    r->se_asym = calloc(np, sizeof *r->se_asym);
    r->start_objective = calloc(nstarts ? nstarts : 1, sizeof *r->start_objective);
    r->start_stop = calloc(nstarts ? nstarts : 1, 1);
    if (!r->estimate || !r->se_asym || !r->start_objective || !r->start_stop) {
        cs_fit_result_free(r);
        return NULL;
    }
    r->n_starts = nstarts;
    r->scale = r->nll = r->aic = r->bic = GSL_NAN;
    for (size_t j = 0; j < np; j++)
        r->se_asym[j] = GSL_NAN;
    return r;
}

/* Appends a printf-style warning; a warning that cannot be stored (no memory) is dropped. */
__attribute__((format(printf, 2, 3))) static void warn(cs_fit_result *r, const char *fmt, ...)
{
    char buf[1024];
    char **v = realloc(r->warnings, (r->nwarnings + 1) * sizeof *v);
    va_list ap;

    if (v == NULL)
        return;
    r->warnings = v;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    v[r->nwarnings] = malloc(strlen(buf) + 1);
    if (v[r->nwarnings] != NULL)
        strcpy(v[r->nwarnings++], buf);
}

/* "alpha=0:2:5 beta=0:2:5 ..." for messages. */
static void grid_desc(const cs_law *law, char *buf, size_t n)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t j = 0; j < cs_law_nparams(law) && off < n; j++) {
        double lo;
        double hi;
        size_t k;

        cs_law_param_grid(law, j, &lo, &hi, &k);
        if (k > 1)
            off += (size_t)snprintf(buf + off, n - off, "%s%s=%g:%g:%zu", off ? " " : "",
                                    cs_law_param_name(law, j), lo, hi, k);
        else
            off += (size_t)snprintf(buf + off, n - off, "%s%s=%g", off ? " " : "",
                                    cs_law_param_name(law, j), lo);
    }
}

/* ---- multi-start ------------------------------------------------------------------------- */

typedef struct run_ctx {
    const cs_law *law;
    size_t np;
    size_t ncoef;
    int method;
    double *coef;        /* (nstarts, ncoef) end points */
    double *f;           /* (nstarts) */
    unsigned char *stop; /* (nstarts) */
    size_t *iters;       /* (nstarts) */
} run_ctx;

static void start_task(void *vctx, cs_fit_work *w, size_t g)
{
    run_ctx *c = vctx;
    double start[CS_LAW_MAX_OPS + 1];
    int stop;

    cs_law_grid_point(c->law, g, start);
    if (c->method == CS_FIT_HUBER_LIK)
        start[c->np] = GSL_NAN;
    stop = cs_fit_local(w, NULL, start, c->coef + g * c->ncoef, &c->f[g], &c->iters[g]);
    c->stop[g] = (unsigned char)stop;
    if (stop >= CS_FIT_STOP_BADSTART)
        c->f[g] = GSL_NAN;
}

/* Index of the lowest finite objective, ties to the lowest index; nstarts when none. */
static size_t best_index(const double *f, size_t nstarts)
{
    size_t b = nstarts;

    for (size_t g = 0; g < nstarts; g++)
        if (isfinite(f[g]) && (b == nstarts || f[g] < f[b]))
            b = g;
    return b;
}

/* Every start failed: says why, naming the first start and where the law fails. */
static int all_failed(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p,
                      const run_ctx *c, size_t nstarts)
{
    char grid[1024];
    size_t nbad = 0;
    double f;
    cs_fit_work *w;
    int st;

    grid_desc(law, grid, sizeof grid);
    for (size_t g = 0; g < nstarts; g++)
        nbad += c->stop[g] == CS_FIT_STOP_BADSTART;
    if (nbad < nstarts)
        return cs_fail(CS_ENOCONV,
                       "fit: all %zu starts failed (%zu could not be evaluated at "
                       "their start, %zu diverged; method %s, at most %zu iterations each; "
                       "grid %s); try another --grid or --method",
                       nstarts, nbad, nstarts - nbad, cs_fit_method_name(p->method), p->max_iter,
                       grid);
    cs_law_grid_point(law, 0, c->coef);
    st = cs_dataset_check_law(ds, law, c->coef);
    if (st == CS_OK && (w = cs_fit_work_alloc(law, ds, p)) != NULL) {
        if (c->method == CS_FIT_HUBER_LIK)
            c->coef[c->np] = 0.0;
        st = cs_fit_objective(w, NULL, c->coef, &f, NULL);
        cs_fit_work_free(w);
    }
    if (st == CS_OK)
        st = cs_fail(CS_EINPUT, "the residual scale cannot be fitted (all residuals are 0)");
    return cs_fail_prefix(CS_EINPUT,
                          "fit: the objective cannot be evaluated at any of the %zu "
                          "starts (grid %s); at the first",
                          nstarts, grid);
}

/* ---- summary of the best point ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* RMSE, largest and median |r| of w->r (n), and the likelihood with AIC and BIC. */
static void residual_summary(cs_fit_result *res, const cs_fit_work *w, const double *u)
{
    double *a = malloc(w->n * sizeof *a);
    double ss = 0.0;
    double ls = 0.0;
    double k = (double)w->np + 1.0;
    double n = (double)w->n;

    res->max_abs_resid = 0.0;
    for (size_t i = 0; i < w->n; i++) {
        ss += w->r[i] * w->r[i];
        res->max_abs_resid = fmax(res->max_abs_resid, fabs(w->r[i]));
        if (a)
            a[i] = fabs(w->r[i]);
    }
    res->rmse = sqrt(ss / n);
    res->median_abs_resid = GSL_NAN;
    if (a) {
        qsort(a, w->n, sizeof *a, cmp_double);
        res->median_abs_resid = w->n % 2 ? a[w->n / 2] : 0.5 * (a[w->n / 2 - 1] + a[w->n / 2]);
        free(a);
    }
    if (w->p->method == CS_FIT_LSQ && ss > 0) {
        res->nll = 0.5 * n * (log(2.0 * M_PI * ss / n) + 1.0);
    } else if (w->p->method == CS_FIT_HUBER_LIK) {
        res->scale = exp(u[w->np]);
        res->nll = res->objective;
    } else if (profile_log_scale(w->r, NULL, w->n, w->p->delta, &ls)) {
        res->scale = exp(ls);
        res->nll = n * (ls + huber_log_z(w->p->delta));
        for (size_t i = 0; i < w->n; i++)
            res->nll += huber(w->r[i] / res->scale, w->p->delta);
        res->scale = GSL_NAN; /* profiled, not fitted: reported through the likelihood only */
    }
    if (isfinite(res->nll) && n > k + 1.0) {
        res->aic = 2.0 * k + 2.0 * res->nll;
        res->bic = k * log(n) + 2.0 * res->nll;
    }
}

/* Names the parameters that dominate eigenvector column `col` of v. */
static void direction_desc(const cs_law *law, const gsl_matrix *v, size_t col, char *buf, size_t n)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t j = 0; j < v->size1 && off < n; j++) {
        double c = gsl_matrix_get(v, j, col);

        if (fabs(c) >= 0.3)
            off += (size_t)snprintf(buf + off, n - off, "%s%s (%+.2f)", off ? ", " : "",
                                    cs_law_param_name(law, j), c);
    }
}

/* Standard errors s^2 (J'J)^-1 = s^2 D^-1 V L^-1 V' D^-1 in optimisation coordinates, with
 * s^2 = RSS / (n - p), into se (np). */
static void jtj_se(const cs_fit_work *w, const gsl_vector *ev, const gsl_matrix *v, const double *d,
                   double *se)
{
    double ss = 0.0;
    double s2;

    for (size_t i = 0; i < w->n; i++)
        ss += w->r[i] * w->r[i];
    s2 = ss / (double)(w->n - w->np);
    for (size_t j = 0; j < w->np; j++) {
        double c = 0.0;

        for (size_t k = 0; k < w->np; k++)
            c += gsl_matrix_get(v, j, k) * gsl_matrix_get(v, j, k) / gsl_vector_get(ev, k);
        se[j] = sqrt(s2 * c) / d[j];
    }
}

/* LSQ: asymptotic standard errors in native units (delta method). Every method: a parameter
 * whose standard error from J'J dwarfs its value is barely determined by the data. */
static void se_and_warnings(cs_fit_result *res, const cs_fit_work *w, const double *u,
                            const gsl_vector *ev, const gsl_matrix *v, const double *d)
{
    double se[CS_LAW_MAX_OPS];

    jtj_se(w, ev, v, d, se);
    for (size_t j = 0; j < w->np; j++) {
        if (w->p->method == CS_FIT_LSQ)
            res->se_asym[j] = se[j] * w->dtheta[j];
        if (se[j] > 1e4 * (1.0 + fabs(u[j])))
            warn(res,
                 "parameter %s is not identified: its standard error from J'J (%.3g%s) "
                 "dwarfs its value",
                 cs_law_param_name(w->law, j), se[j], w->pos[j] ? ", in log units" : "");
    }
}

/* Eigen-analysis of J'J scaled to unit diagonal (from w->J at the estimate u): condition
 * number, the not-identified warnings, and LSQ standard errors. */
static int identifiability(cs_fit_result *res, const cs_fit_work *w, const double *u)
{
    size_t np = w->np;
    gsl_matrix *h = gsl_matrix_alloc(np, np);
    gsl_matrix *v = gsl_matrix_alloc(np, np);
    gsl_vector *ev = gsl_vector_alloc(np);
    gsl_eigen_symmv_workspace *ew = gsl_eigen_symmv_alloc(np);
    double d[CS_LAW_MAX_OPS];
    char dir[512];
    int st = h && v && ev && ew ? CS_OK : cs_fail(CS_ENOMEM, "fit: out of memory");

    res->cond = GSL_POSINF;
    for (size_t j = 0; st == CS_OK && j < np; j++) {
        for (size_t k = 0; k < np; k++) {
            double acc = 0.0;

            for (size_t i = 0; i < w->n; i++)
                acc += w->J[i * np + j] * w->J[i * np + k];
            gsl_matrix_set(h, j, k, acc);
        }
        d[j] = sqrt(gsl_matrix_get(h, j, j));
        if (!(d[j] > 0)) {
            warn(res,
                 "parameter %s has no effect on the predictions at the estimate: it is not "
                 "identified by the data",
                 cs_law_param_name(w->law, j));
            st = -1;
        }
    }
    if (st == CS_OK) {
        for (size_t j = 0; j < np; j++)
            for (size_t k = 0; k < np; k++)
                gsl_matrix_set(h, j, k, gsl_matrix_get(h, j, k) / (d[j] * d[k]));
        if (gsl_eigen_symmv(h, ev, v, ew) != GSL_SUCCESS)
            st = cs_fail(CS_EGSL, "fit: eigen-decomposition of J'J failed");
    }
    if (st == CS_OK) {
        gsl_eigen_symmv_sort(ev, v, GSL_EIGEN_SORT_VAL_DESC);
        if (gsl_vector_get(ev, np - 1) > 0)
            res->cond = gsl_vector_get(ev, 0) / gsl_vector_get(ev, np - 1);
        if (!(res->cond < 1e12)) {
            direction_desc(w->law, v, np - 1, dir, sizeof dir);
            warn(res,
                 "parameters not identified: the scaled J'J is near-singular (condition "
                 "%.3g); the least determined combination is mostly %s",
                 res->cond, dir);
        } else if (w->n > np) {
            se_and_warnings(res, w, u, ev, v, d);
        }
    }
    if (ew)
        gsl_eigen_symmv_free(ew);
    gsl_vector_free(ev);
    gsl_matrix_free(v);
    gsl_matrix_free(h);
    return st < 0 ? CS_OK : st;
}

/* ---- warnings ---------------------------------------------------------------------------- */

/* An estimate outside its parameter's grid, or on its edge, suggests the grid is too small. */
static void edge_warnings(cs_fit_result *res, const cs_law *law)
{
    for (size_t j = 0; j < res->nparams; j++) {
        bool pos = (cs_law_param_flags(law, j) & CS_LAW_POSITIVE) != 0;
        double lo;
        double hi;
        double x = res->estimate[j];
        double tol;
        size_t k;

        cs_law_param_grid(law, j, &lo, &hi, &k);
        if (k < 2)
            continue;
        if (pos) {
            lo = log(lo);
            hi = log(hi);
            x = log(x);
        }
        tol = 1e-3 * (hi - lo);
        cs_law_param_grid(law, j, &lo, &hi, &k); /* native values for the message */
        if (x < (pos ? log(lo) : lo) - tol || x > (pos ? log(hi) : hi) + tol)
            warn(res,
                 "%s = %.6g lies outside its starting grid [%g, %g]: the optimum may need a "
                 "wider grid (--grid)",
                 cs_law_param_name(law, j), res->estimate[j], lo, hi);
        else if (fabs(x - (pos ? log(lo) : lo)) <= tol || fabs(x - (pos ? log(hi) : hi)) <= tol)
            warn(res, "%s = %.6g sits on the edge of its starting grid [%g, %g]",
                 cs_law_param_name(law, j), res->estimate[j], lo, hi);
    }
}

static void start_warnings(cs_fit_result *res, const cs_law *law, const run_ctx *c)
{
    size_t first_failed = res->n_starts;

    for (size_t g = 0; g < res->n_starts && first_failed == res->n_starts; g++)
        if (c->stop[g] >= CS_FIT_STOP_BADSTART)
            first_failed = g;
    if (res->n_starts == 1 && res->nparams > 1)
        warn(res, "only one starting point: give the parameters a grid with --grid");
    if (res->n_starts > 1 && res->n_at_best == 1)
        warn(res, "only 1 of %zu starts reached the best objective: the optimum is fragile",
             res->n_starts);
    if (res->n_failed > 0)
        warn(res, "%zu of %zu starts failed (the first is start %zu)", res->n_failed, res->n_starts,
             first_failed);
    if (res->best_stop == CS_FIT_STOP_MAXITER)
        warn(res, "the best start used all its iterations without converging");
    edge_warnings(res, law);
}

/* Starts that reached the best: objective within best_rtol, coordinates within close_tol. */
static size_t count_at_best(const run_ctx *c, const cs_fit_work *w, size_t nstarts, size_t best,
                            const cs_fit_params *p)
{
    double ub[CS_LAW_MAX_OPS + 1];
    double ug[CS_LAW_MAX_OPS + 1];
    double fb = c->f[best];
    size_t n = 0;

    coef_to_u(w, c->coef + best * c->ncoef, ub);
    for (size_t g = 0; g < nstarts; g++) {
        bool close = isfinite(c->f[g]) && fabs(c->f[g] - fb) <= p->best_rtol * fabs(fb);

        if (!close && !(isfinite(c->f[g]) && c->f[g] == fb))
            continue;
        coef_to_u(w, c->coef + g * c->ncoef, ug);
        for (size_t j = 0; j < c->ncoef && close; j++)
            close = fabs(ug[j] - ub[j]) <= p->close_tol * (1.0 + fabs(ub[j]));
        n += close;
    }
    return n;
}

static bool any_converged(const run_ctx *c, size_t nstarts)
{
    for (size_t g = 0; g < nstarts; g++)
        if (c->stop[g] <= CS_FIT_STOP_STALLED)
            return true;
    return false;
}

/* Starts ran but none converged: says what was tried. */
static int none_converged(const cs_law *law, const cs_fit_params *p, const run_ctx *c,
                          size_t nstarts, size_t best)
{
    char grid[1024];

    grid_desc(law, grid, sizeof grid);
    return cs_fail(CS_ENOCONV,
                   "fit: none of the %zu starts converged within %zu iterations "
                   "(method %s, grid %s); the best reached objective %.10g at start %zu; raise "
                   "--max-iter or change --grid",
                   nstarts, p->max_iter, cs_fit_method_name(p->method), grid, c->f[best], best);
}

/* ---- the driver -------------------------------------------------------------------------- */

static int run_starts(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p, run_ctx *c,
                      size_t nstarts)
{
    c->law = law;
    c->np = cs_law_nparams(law);
    c->ncoef = cs_fit_ncoef(law, p);
    c->method = p->method;
    c->coef = malloc(nstarts * c->ncoef * sizeof *c->coef);
    c->f = malloc(nstarts * sizeof *c->f);
    c->stop = malloc(nstarts);
    c->iters = calloc(nstarts, sizeof *c->iters);
    if (!c->coef || !c->f || !c->stop || !c->iters)
        return cs_fail(CS_ENOMEM, "fit: out of memory for %zu starts", nstarts);
    return cs_fit_parallel(law, ds, p, nstarts, start_task, c);
}

/* Fills the result from the starts (best = c's best index) and summarises the best point. */
static int finish_result(cs_fit_result *res, const cs_law *law, const cs_dataset *ds,
                         const cs_fit_params *p, const run_ctx *c, size_t best)
{
    cs_fit_work *w = cs_fit_work_alloc(law, ds, p);
    double u[CS_LAW_MAX_OPS + 1];
    int st;

    if (w == NULL)
        return CS_ENOMEM;
    res->best_start = best;
    res->best_stop = c->stop[best];
    res->objective = c->f[best];
    memcpy(res->estimate, c->coef + best * c->ncoef, res->nparams * sizeof *res->estimate);
    for (size_t g = 0; g < res->n_starts; g++) {
        res->start_objective[g] = c->f[g];
        res->start_stop[g] = c->stop[g];
        res->n_converged += c->stop[g] <= CS_FIT_STOP_STALLED;
        res->n_failed += c->stop[g] >= CS_FIT_STOP_BADSTART;
        res->iterations += c->iters[g];
    }
    res->n_at_best = count_at_best(c, w, res->n_starts, best, p);
    coef_to_u(w, c->coef + best * c->ncoef, u);
    st = compute_residuals(w, u, true);
    if (st == CS_OK) {
        residual_summary(res, w, u);
        st = identifiability(res, w, u);
    }
    if (st == CS_OK)
        start_warnings(res, law, c);
    cs_fit_work_free(w);
    return st;
}

int cs_fit_run(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p, cs_fit_result **out)
{
    cs_fit_params def = cs_fit_default_params();
    run_ctx c;
    size_t nstarts;
    size_t best;
    cs_fit_result *res = NULL;
    int st;

    memset(&c, 0, sizeof c);
    *out = NULL;
    p = p ? p : &def;
    st = work_check(law, ds, p);
    if (st)
        return st;
    if (cs_dataset_n(ds) <= cs_fit_ncoef(law, p))
        return cs_fail(CS_EINPUT,
                       "fit: %zu data points cannot determine %zu coefficients (%s); "
                       "at least %zu are needed",
                       cs_dataset_n(ds), cs_fit_ncoef(law, p), cs_fit_method_name(p->method),
                       cs_fit_ncoef(law, p) + 1);
    nstarts = cs_law_grid_count(law);
    if (nstarts > p->max_starts)
        return cs_fail(CS_EINPUT,
                       "fit: the starting grid has %zu points, more than the %zu "
                       "allowed; make it coarser (--grid)",
                       nstarts, p->max_starts);
    st = run_starts(law, ds, p, &c, nstarts);
    if (st)
        goto out_free;
    best = best_index(c.f, nstarts);
    if (best == nstarts) {
        st = all_failed(law, ds, p, &c, nstarts);
        goto out_free;
    }
    if (!any_converged(&c, nstarts)) {
        st = none_converged(law, p, &c, nstarts, best);
        goto out_free;
    }
    res = result_alloc(cs_law_nparams(law), nstarts);
    if (res == NULL) {
        st = cs_fail(CS_ENOMEM, "fit: out of memory");
        goto out_free;
    }
    res->method = p->method;
    res->log_space = p->log_space;
    res->delta = p->delta;
    res->n_points = cs_dataset_n(ds);
    st = finish_result(res, law, ds, p, &c, best);
    if (st == CS_OK)
        *out = res;
    else
        cs_fit_result_free(res);
out_free:
    free(c.coef);
    free(c.f);
    free(c.stop);
    free(c.iters);
    return st;
}

/* ---- compute-optimal quantities of chinchilla-form laws ---------------------------------- */

/* Writes budget c as an identifier fragment: 1e21 -> "1e21", 5.76e23 -> "5p76e23". */
static void budget_ident(double c, char *buf, size_t n)
{
    char tmp[64];
    size_t k = 0;

    snprintf(tmp, sizeof tmp, "%.6g", c);
    for (const char *s = tmp; *s && k + 1 < n; s++) {
        if (*s == '.')
            buf[k++] = 'p';
        else if (*s != '+')
            buf[k++] = *s;
    }
    buf[k] = '\0';
}

/* Adds one derived quantity and keeps its text in texts (n so far; grows). */
static int add_quantity(cs_law *law, const char *text, char **texts, size_t *n)
{
    int st = cs_law_add_derived(law, text);

    if (st == CS_OK && texts != NULL) {
        texts[*n] = malloc(strlen(text) + 1);
        if (texts[*n] == NULL)
            return cs_fail(CS_ENOMEM, "fit: out of memory");
        strcpy(texts[(*n)++], text);
    }
    return st;
}

int cs_fit_add_chinchilla_derived(cs_law *law, const double *budgets, size_t nbudgets,
                                  char ***texts, size_t *ntexts)
{
    static const char *const need[] = {"a", "b", "alpha", "beta"};
    /* N_opt = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta)). */
    static const char g[] = "(alpha*exp(a)/(beta*exp(b)))^(1/(alpha+beta))";
    char text[1024];
    char id[64];
    char **tv = NULL;
    size_t n = 0;
    int st = CS_OK;

    for (size_t k = 0; k < 4; k++)
        if (cs_law_param_index(law, need[k]) < 0)
            return cs_fail(CS_EINPUT,
                           "compute-optimal quantities need the chinchilla "
                           "parametrisation (parameters a, b, alpha, beta); the law has no %s",
                           need[k]);
    if (texts != NULL && (tv = calloc(3 + 3 * nbudgets, sizeof *tv)) == NULL)
        return cs_fail(CS_ENOMEM, "fit: out of memory");
    st = add_quantity(law, "Nopt_exp = beta/(alpha+beta)", tv, &n);
    if (st == CS_OK)
        st = add_quantity(law, "Dopt_exp = alpha/(alpha+beta)", tv, &n);
    snprintf(text, sizeof text, "Nopt_coef = %s", g);
    if (st == CS_OK)
        st = add_quantity(law, text, tv, &n);
    for (size_t k = 0; k < nbudgets && st == CS_OK; k++) {
        budget_ident(budgets[k], id, sizeof id);
        snprintf(text, sizeof text, "Nopt_%s = %s*(%.17g/6)^(beta/(alpha+beta))", id, g,
                 budgets[k]);
        st = add_quantity(law, text, tv, &n);
        snprintf(text, sizeof text, "Dopt_%s = (%.17g/6)^(alpha/(alpha+beta))/%s", id, budgets[k],
                 g);
        if (st == CS_OK)
            st = add_quantity(law, text, tv, &n);
        snprintf(text, sizeof text, "DperN_%s = (%.17g/6)^((alpha-beta)/(alpha+beta))/(%s)^2", id,
                 budgets[k], g);
        if (st == CS_OK)
            st = add_quantity(law, text, tv, &n);
    }
    if (texts != NULL) {
        *texts = tv;
        *ntexts = n;
    }
    return st;
}
