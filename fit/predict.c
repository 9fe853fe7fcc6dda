/* fit/predict.c: point predictions and prediction intervals of a fitted law — a mixture of
 * Student-t noise around the bootstrap predictions (fit/predict.h; construction in docs/laws.md).
 * Test: tests/unit/test_predict.c (calibration on synthetic data).
 */
#include "fit/predict.h"

#include "core/error.h"
#include "fit/fitjson.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cs_predictor {
    const cs_law *law; /* borrowed */
    size_t np;
    double *estimate; /* (np) */
    double *samples;  /* (nboot, np) rows without NaN */
    size_t nboot;
    bool log_space;
    double scale; /* s = rmse sqrt(n / (n - k)) */
    double dof;   /* nu = n - k */
};

/* Most iterations of the root finder per quantile. */
#define ROOT_MAX_ITER 200

void cs_predictor_free(cs_predictor *p)
{
    if (p == NULL)
        return;
    free(p->estimate);
    free(p->samples);
    free(p);
}

static bool row_finite(const double *row, size_t np)
{
    for (size_t j = 0; j < np; j++)
        if (!isfinite(row[j]))
            return false;
    return true;
}

cs_predictor *cs_predictor_alloc(const cs_law *law, const double *estimate, const double *samples,
                                 size_t nboot, bool log_space, double rmse, size_t n_points)
{
    size_t np = cs_law_nparams(law);
    cs_predictor *p;

    if (n_points <= np || !(rmse >= 0) || !isfinite(rmse)) {
        cs_fail(CS_EINPUT,
                "predict: a fit of %zu points with %zu parameters and residual RMSE %g "
                "has no noise estimate",
                n_points, np, rmse);
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL || (p->estimate = malloc(np * sizeof *p->estimate)) == NULL ||
        (p->samples = malloc((nboot ? nboot : 1) * np * sizeof *p->samples)) == NULL) {
        cs_predictor_free(p);
        cs_fail(CS_ENOMEM, "predict: out of memory");
        return NULL;
    }
    p->law = law;
    p->np = np;
    memcpy(p->estimate, estimate, np * sizeof *estimate);
    for (size_t b = 0; b < nboot; b++) {
        if (!row_finite(samples + b * np, np))
            continue;
        memcpy(p->samples + p->nboot * np, samples + b * np, np * sizeof *samples);
        p->nboot++;
    }
    p->log_space = log_space;
    p->dof = (double)(n_points - np);
    p->scale = rmse * sqrt((double)n_points / p->dof);
    return p;
}

cs_predictor *cs_predictor_from_fitjson(const struct cs_fitjson *fj, const cs_law *law)
{
    double *est;
    cs_predictor *p;

    if (fj->nparams != cs_law_nparams(law)) {
        cs_fail(CS_EINVAL, "predict: the fit has %zu parameters, its law %zu", fj->nparams,
                cs_law_nparams(law));
        return NULL;
    }
    est = malloc((fj->nparams ? fj->nparams : 1) * sizeof *est);
    if (est == NULL) {
        cs_fail(CS_ENOMEM, "predict: out of memory");
        return NULL;
    }
    for (size_t j = 0; j < fj->nparams; j++)
        est[j] = fj->params[j].estimate;
    p = cs_predictor_alloc(law, est, fj->boot, fj->nboot, fj->log_space, fj->rmse, fj->n_points);
    free(est);
    return p;
}

cs_predictor *cs_predictor_from_fit(const cs_law *law, const cs_fit_result *fit,
                                    const cs_boot_result *boot)
{
    return cs_predictor_alloc(law, fit->estimate, boot ? boot->samples : NULL, boot ? boot->n : 0,
                              fit->log_space, fit->rmse, fit->n_points);
}

size_t cs_predictor_nboot(const cs_predictor *p)
{
    return p->nboot;
}

double cs_predictor_scale(const cs_predictor *p)
{
    return p->scale;
}

double cs_predictor_dof(const cs_predictor *p)
{
    return p->dof;
}

/* ---- the mixture ------------------------------------------------------------------------- */

typedef struct mixture {
    const double *m; /* (n) component centres, residual space */
    size_t n;
    double s;   /* scale */
    double nu;  /* degrees of freedom */
    double min; /* smallest and largest centre */
    double max;
} mixture;

static double mix_cdf(const mixture *mx, double z)
{
    double sum = 0.0;

    for (size_t b = 0; b < mx->n; b++) {
        if (mx->s > 0)
            sum += gsl_cdf_tdist_P((z - mx->m[b]) / mx->s, mx->nu);
        else
            sum += mx->m[b] <= z;
    }
    return sum / (double)mx->n;
}

typedef struct root_ctx {
    const mixture *mx;
    double q;
} root_ctx;

static double root_fn(double z, void *vctx)
{
    const root_ctx *c = vctx;

    return mix_cdf(c->mx, z) - c->q;
}

/* The q-quantile of the mixture into *z. Every component's q-quantile lies in
 * [min + s t_q, max + s t_q], so the mixture's does too. */
static int mix_quantile(const mixture *mx, double q, double *z)
{
    double tq = mx->s > 0 ? mx->s * gsl_cdf_tdist_Pinv(q, mx->nu) : 0.0;
    double lo = mx->min + tq;
    double hi = mx->max + tq;
    root_ctx c = {mx, q};
    gsl_function fn = {root_fn, &c};
    gsl_root_fsolver *s;
    int st = GSL_CONTINUE;

    if (!(hi - lo > 1e-15 * (1.0 + fabs(lo))) || root_fn(lo, &c) >= 0) {
        *z = lo;
        return CS_OK;
    }
    if (root_fn(hi, &c) <= 0) {
        *z = hi;
        return CS_OK;
    }
    s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (s == NULL)
        return cs_fail(CS_ENOMEM, "predict: out of memory");
    st = gsl_root_fsolver_set(s, &fn, lo, hi);
    for (size_t it = 0; st == GSL_SUCCESS && it < ROOT_MAX_ITER; it++) {
        st = gsl_root_fsolver_iterate(s);
        lo = gsl_root_fsolver_x_lower(s);
        hi = gsl_root_fsolver_x_upper(s);
        if (st == GSL_SUCCESS && gsl_root_test_interval(lo, hi, 1e-12, 1e-12) == GSL_SUCCESS)
            break;
    }
    *z = gsl_root_fsolver_root(s);
    gsl_root_fsolver_free(s);
    if (st != GSL_SUCCESS)
        return cs_fail(CS_EGSL, "predict: quantile %g: %s", q, gsl_strerror(st));
    return CS_OK;
}

/* ---- one prediction ---------------------------------------------------------------------- */

/* The law at params and vars in residual space into *z; false when it is not finite (or <= 0
 * in log space). */
static bool predict_z(const cs_predictor *p, const double *params, const double *vars, double *y,
                      double *z)
{
    if (cs_law_eval(p->law, params, vars, y) != CS_OK || !isfinite(*y))
        return false;
    if (!p->log_space) {
        *z = *y;
        return true;
    }
    if (!(*y > 0))
        return false;
    *z = log(*y);
    return true;
}

static double from_z(const cs_predictor *p, double z)
{
    return p->log_space ? exp(z) : z;
}

/* Fills the mixture's centres m (nboot or 1) for the point; *z0 the point estimate's. */
static int centres(const cs_predictor *p, const double *vars, double *m, mixture *mx,
                   cs_prediction *out, double *z0)
{
    double y;
    int st = cs_law_eval(p->law, p->estimate, vars, &y);

    if (st)
        return cs_fail_prefix(st, "predict: at the point estimate");
    if (!predict_z(p, p->estimate, vars, &y, z0))
        return cs_fail(CS_EINPUT,
                       "predict: the law predicts %g at this point, which has no log (the fit "
                       "took residuals in log space)",
                       y);
    out->value = y;
    for (size_t b = 0; b < p->nboot; b++) {
        if (predict_z(p, p->samples + b * p->np, vars, &y, &m[mx->n]))
            mx->n++;
        else
            out->n_skipped++;
    }
    if (mx->n == 0) /* no bootstrap (or none usable): the point estimate alone */
        m[mx->n++] = *z0;
    out->n_used = p->nboot ? mx->n : 0;
    return CS_OK;
}

/* Standard deviation of the centres (0 for one). */
static double centre_sd(const mixture *mx)
{
    double mean = 0.0;
    double ss = 0.0;

    if (mx->n < 2)
        return 0.0;
    for (size_t b = 0; b < mx->n; b++)
        mean += mx->m[b];
    mean /= (double)mx->n;
    for (size_t b = 0; b < mx->n; b++)
        ss += (mx->m[b] - mean) * (mx->m[b] - mean);
    return sqrt(ss / (double)(mx->n - 1));
}

int cs_predictor_eval(const cs_predictor *p, const double *vars, const double *levels,
                      size_t nlevels, cs_prediction *out)
{
    double *m;
    mixture mx;
    double z0 = 0.0;
    double z = 0.0;
    int st;

    memset(out, 0, sizeof *out);
    if (nlevels > CS_PREDICT_MAX_LEVELS)
        return cs_fail(CS_EINVAL, "predict: at most %d levels", CS_PREDICT_MAX_LEVELS);
    for (size_t k = 0; k < nlevels; k++)
        if (!(levels[k] > 0 && levels[k] < 1))
            return cs_fail(CS_EINVAL, "predict: level %g is not between 0 and 1", levels[k]);
    m = malloc((p->nboot + 1) * sizeof *m);
    if (m == NULL)
        return cs_fail(CS_ENOMEM, "predict: out of memory");
    memset(&mx, 0, sizeof mx);
    mx.m = m;
    mx.s = p->scale;
    mx.nu = p->dof;
    st = centres(p, vars, m, &mx, out, &z0);
    mx.min = mx.max = st == CS_OK ? m[0] : 0.0;
    for (size_t b = 1; st == CS_OK && b < mx.n; b++) {
        mx.min = fmin(mx.min, m[b]);
        mx.max = fmax(mx.max, m[b]);
    }
    out->scale = p->scale;
    out->sd_param = st == CS_OK ? centre_sd(&mx) : NAN;
    if (st == CS_OK)
        st = mix_quantile(&mx, 0.5, &z);
    out->median = from_z(p, z);
    for (size_t k = 0; st == CS_OK && k < nlevels; k++) {
        st = mix_quantile(&mx, 0.5 * (1.0 - levels[k]), &z);
        out->lo[k] = from_z(p, z);
        if (st == CS_OK)
            st = mix_quantile(&mx, 0.5 * (1.0 + levels[k]), &z);
        out->hi[k] = from_z(p, z);
    }
    free(m);
    return st;
}
