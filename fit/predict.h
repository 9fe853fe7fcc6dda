/* fit/predict.h: predictions of a fitted law with prediction intervals — what `ctxscale predict`
 * prints and what hold-out scoring (fit/holdout.h) and law comparison (fit/compare.h) use.
 *
 * The interval construction (docs/laws.md, "Prediction intervals"): a new observation y at
 * point x is modelled, in the fit's residual space z = log y (log residuals) or z = y (linear),
 * as z = m + s e, where m is the law's prediction at x and e a Student-t variate with nu degrees
 * of freedom. Parameter uncertainty enters through the bootstrap: m is drawn from the B
 * bootstrap refits, m_b = z(f(x; theta_b)). The noise scale is the residual RMSE of the fit
 * corrected for the parameters it fitted, s = RMSE sqrt(n / (n - k)), and nu = n - k (n points,
 * k law parameters); the t rather than the normal accounts for s being estimated from n - k
 * degrees of freedom. The predictive distribution is the mixture
 *     F(z) = (1/B) sum_b T_nu((z - m_b) / s),
 * and the interval at level p runs from its (1 - p)/2 to its (1 + p)/2 quantile, found by
 * Brent's method. Without bootstrap samples the mixture has the one component m at the point
 * estimate: the interval then covers the noise only and is too narrow wherever the parameters
 * are uncertain (extrapolation); callers warn about it.
 *
 * Calibration is tested in tests/unit/test_predict.c: synthetic data from a known law with
 * known noise, many replications; 90% intervals cover new observations 85-95% of the time, 50%
 * intervals 45-55%.
 */
#ifndef CS_FIT_PREDICT_H
#define CS_FIT_PREDICT_H

#include "fit/bootstrap.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most interval levels one prediction carries. */
#define CS_PREDICT_MAX_LEVELS 8

typedef struct cs_predictor cs_predictor;

/* One prediction. */
typedef struct cs_prediction {
    double value;    /* the law at the point estimate, in the target's units */
    double median;   /* median of the predictive distribution */
    double sd_param; /* standard deviation of the bootstrap predictions m_b (residual space:
                        log units for log residuals); 0 without bootstrap */
    double scale;    /* the noise scale s (same space) */
    double lo[CS_PREDICT_MAX_LEVELS]; /* interval per level, in the target's units */
    double hi[CS_PREDICT_MAX_LEVELS];
    size_t n_used;    /* bootstrap samples in the mixture */
    size_t n_skipped; /* samples left out: failed refits, or the law not finite (or <= 0 with
                         log residuals) at this point */
} cs_prediction;

/* A predictor for `law` (borrowed: it must outlive the predictor) at the point estimate
 * `estimate` (nparams, copied), with bootstrap samples `samples` (nboot, nparams) row-major
 * (copied; rows with a NaN are failed refits and are skipped; NULL when nboot is 0), residuals
 * in log space or not, and the noise model from the fit's residual RMSE over n_points points
 * (see above). NULL with cs_fail: CS_EINPUT for n_points <= nparams or a negative or
 * non-finite rmse (a stored fit can carry these); CS_ENOMEM. */
cs_predictor *cs_predictor_alloc(const cs_law *law, const double *estimate, const double *samples,
                                 size_t nboot, bool log_space, double rmse, size_t n_points);

/* As cs_predictor_alloc from a stored fit result (fit/fitjson.h, which includes this header
 * through fit/holdout.h, hence the struct tag) and its law (cs_fitjson_law). */
struct cs_fitjson;
cs_predictor *cs_predictor_from_fitjson(const struct cs_fitjson *fj, const cs_law *law);

/* As cs_predictor_alloc from a fit and its bootstrap (NULL when none was run). */
cs_predictor *cs_predictor_from_fit(const cs_law *law, const cs_fit_result *fit,
                                    const cs_boot_result *boot);

/* Frees a predictor. NULL is allowed. */
void cs_predictor_free(cs_predictor *p);

/* Bootstrap samples the predictor holds (rows without NaN), and its noise scale and degrees of
 * freedom. */
size_t cs_predictor_nboot(const cs_predictor *p);
double cs_predictor_scale(const cs_predictor *p);
double cs_predictor_dof(const cs_predictor *p);

/* Predicts at vars (nvars, law variable order) with central intervals at levels[0..nlevels-1]
 * (each in (0, 1); at most CS_PREDICT_MAX_LEVELS) into *out. Thread-safe (it allocates its own
 * scratch). Returns CS_OK; CS_EINPUT when the law cannot be evaluated at the point estimate
 * (message from the law evaluator) or, with log residuals, predicts a value <= 0 there;
 * CS_EINVAL for a bad level or too many; CS_ENOMEM; CS_EGSL when the root finder fails. */
int cs_predictor_eval(const cs_predictor *p, const double *vars, const double *levels,
                      size_t nlevels, cs_prediction *out);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_PREDICT_H */
