/* fit/compare.h: comparing laws by how well they extrapolate — `ctxscale compare` and
 * `ctxscale fit --law auto`.
 *
 * Cross-validation that respects extrapolation: the points are ordered by a key (compute C, or
 * 6ND, or any expression: cs_dataset_params.key). The smallest `train_frac` of them (whole tie
 * groups: points with equal keys stay together) are only ever trained on; the rest is cut into
 * `folds` blocks of about equal size in key order. Fold j trains on every point below block j
 * and tests on block j (forward chaining: CS_CV_EXTRAPOLATE), so each test point is predicted
 * from strictly smaller keys. CS_CV_LARGEST keeps only the last fold: leave the largest scale
 * out. A law's score is the error over all test points: |pred/obs - 1| with log residuals, else
 * |pred - obs|; laws are ranked by its mean (a law that failed on a fold ranks last).
 *
 * Likelihood: each law is also fitted to all points, then refined under the Huber likelihood
 * (CS_FIT_HUBER_LIK, scale fitted) from that estimate, giving NLL, AIC = 2k + 2 NLL and
 * BIC = k ln n + 2 NLL with k = parameters + 1, and Akaike weights. These compare laws fitted to
 * the same points in the same residual space, which cs_compare_run checks.
 *
 * Tested in tests/unit/test_compare.c (folds; the true law wins among three on data generated
 * from each).
 */
#ifndef CS_FIT_COMPARE_H
#define CS_FIT_COMPARE_H

#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_cv_scheme {
    CS_CV_EXTRAPOLATE = 0, /* forward chaining over the key */
    CS_CV_LARGEST = 1,     /* the last fold only: the largest keys held out */
} cs_cv_scheme;

typedef struct cs_compare_params {
    int cv;            /* cs_cv_scheme; default CS_CV_EXTRAPOLATE */
    size_t folds;      /* test blocks above the training part (default 3) */
    double train_frac; /* share of points only trained on, in (0, 1) (default 0.5) */
    bool likelihood;   /* also fit all points and compare likelihoods (default true) */
    double lik_delta;  /* Huber threshold of the likelihood, in units of the scale (1.345) */
    FILE *progress;    /* one line per fit when not NULL (default NULL) */
} cs_compare_params;

/* The defaults listed above. */
cs_compare_params cs_compare_default_params(void);

/* "extrapolate" / "largest" and back (CS_OK or CS_EINPUT naming the choices). */
const char *cs_compare_cv_name(int cv);
int cs_compare_cv_parse(const char *name, int *cv);

/* One law's scores. Arrays are owned by the result. */
typedef struct cs_compare_law {
    size_t nparams;
    size_t n_scored;     /* test points predicted */
    size_t folds_failed; /* folds whose fit failed */
    char *fold_error;    /* the first such failure ("fold 2: ..."), or NULL */
    double mean_abs_err; /* over the scored test points; NaN when none */
    double median_abs_err;
    double max_abs_err;
    double *fold_mean; /* (nfolds) mean |error| per fold, NaN when it failed */
    double *pred;      /* (n) prediction at each test point from the fold that held it out;
                          NaN for training-only points and failed folds */
    double *estimate;  /* (nparams) fit to all points (likelihood on), else NaN */
    char *full_error;  /* why the fit to all points failed, or NULL */
    double nll;        /* Huber likelihood at its optimum; NaN when not computed */
    double aic;
    double bic;
    double daic;   /* AIC - the smallest AIC among the laws */
    double weight; /* Akaike weight exp(-daic/2), normalised over the laws with an AIC */
} cs_compare_law;

typedef struct cs_compare_result {
    int cv;
    bool log_space;
    size_t n; /* points */
    size_t nfolds;
    long *fold;           /* (n) test fold of each point, -1 = trained on in every fold */
    size_t *fold_train;   /* (nfolds) training points per fold */
    size_t *fold_test;    /* (nfolds) test points per fold */
    double *fold_key_lo;  /* (nfolds) smallest key of the test block */
    double *fold_key_hi;  /* (nfolds) largest key of the test block */
    double *train_key_hi; /* (nfolds) largest key trained on */
    size_t nlaws;
    cs_compare_law *laws; /* (nlaws) in input order */
    size_t *rank;         /* (nlaws) law indices, best first */
} cs_compare_result;

/* The folds of n points with keys key[0..n-1] (finite) under p: fold[i] = test fold of point i
 * (0-based, in key order) or -1 for training-only points; *nfolds receives the number of
 * folds (fewer than p->folds when tie groups are larger than a block). CS_EINPUT when nothing is
 * left above the training part (all keys equal, or train_frac too large), CS_EINVAL for
 * folds = 0 or train_frac outside (0, 1), CS_ENOMEM. */
int cs_compare_folds(const double *key, size_t n, const cs_compare_params *p, long *fold,
                     size_t *nfolds);

/* Cross-validates laws[k] on data[k] (k < nlaws; data[k] built for laws[k], from the same rows,
 * with an ordering key: cs_dataset_params.key) with the fit parameters fp (method, delta,
 * space, threads, ...) and compares likelihoods (p NULL: defaults). A fit that fails on a fold
 * is recorded in the law's result, not returned. On success *out owns the result
 * (cs_compare_result_free). Errors: CS_EINVAL for no laws, a data set without a key or built
 * for another law; CS_EINPUT when the data sets differ in their points or targets, or from
 * cs_compare_folds; CS_ENOMEM. */
int cs_compare_run(const cs_law *const *laws, const cs_dataset *const *data, size_t nlaws,
                   const cs_fit_params *fp, const cs_compare_params *p, cs_compare_result **out);

/* Frees a result. NULL is allowed. */
void cs_compare_result_free(cs_compare_result *r);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_COMPARE_H */
