/* fit/holdout.h: scoring a fit on points it did not see — `ctxscale fit --holdout EXPR`. For
 * each held-out point: the observed target, the prediction at the point estimate, prediction
 * intervals (fit/predict.h) and the relative error; over all of them: mean, median and largest
 * |relative error| and the share of observations inside each interval (coverage).
 *
 * Tested in tests/unit/test_holdout.c (synthetic data from a known law: errors and coverage of
 * the held-out largest points).
 */
#ifndef CS_FIT_HOLDOUT_H
#define CS_FIT_HOLDOUT_H

#include "fit/dataset.h"
#include "fit/predict.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The scores. Every array is owned by the result (cs_holdout_result_free). */
typedef struct cs_holdout_result {
    char *expr;   /* the --holdout predicate, or NULL */
    size_t n;     /* held-out points */
    size_t nvars; /* law variables */
    char **vname; /* (nvars + 1) variable names, then the target's */
    size_t nlevels;
    double levels[CS_PREDICT_MAX_LEVELS];
    char **where;        /* (n) "file:line" of each point */
    double *vars;        /* (n, nvars) its variables */
    double *observed;    /* (n) */
    double *predicted;   /* (n) the law at the point estimate */
    double *lo;          /* (n, nlevels) prediction intervals */
    double *hi;          /* (n, nlevels) */
    double *rel_error;   /* (n) predicted / observed - 1 */
    double mean_abs_rel; /* mean |rel_error| */
    double median_abs_rel;
    double max_abs_rel;
    double coverage[CS_PREDICT_MAX_LEVELS]; /* share of observed inside the interval per level */
    size_t nboot; /* bootstrap samples behind the intervals (0: noise only) */
} cs_holdout_result;

/* Scores predictor `p` (of the law `held` was built for) on every point of `held`, with
 * intervals at levels[0..nlevels-1]; `expr` (may be NULL) is stored as the predicate's text.
 * *out is owned by the caller. Errors: CS_EINVAL for no levels, too many or one outside (0, 1);
 * CS_EINPUT naming the point ("file:line") where the law cannot be evaluated; CS_ENOMEM;
 * CS_EGSL. */
int cs_holdout_score(const cs_predictor *p, const cs_dataset *held, const char *expr,
                     const double *levels, size_t nlevels, cs_holdout_result **out);

/* An empty result for n points, nvars variables and nlevels levels (for readers such as
 * fit/fitjson.c); names and strings are NULL, summary numbers NaN. NULL with cs_fail: CS_EINVAL
 * for more than CS_PREDICT_MAX_LEVELS levels, CS_ENOMEM. */
cs_holdout_result *cs_holdout_result_alloc(size_t n, size_t nvars, size_t nlevels);

/* Recomputes the summary (mean, median, max |rel_error|, coverage) from the per-point arrays. */
void cs_holdout_summarise(cs_holdout_result *r);

/* Frees a result. NULL is allowed. */
void cs_holdout_result_free(cs_holdout_result *r);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_HOLDOUT_H */
