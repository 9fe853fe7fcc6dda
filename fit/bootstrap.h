/* fit/bootstrap.h: bootstrap standard errors and percentile confidence intervals for a fitted
 * law — resample the points (or the groups of the data set) with replacement, refit from the
 * point estimate, and summarise the refitted parameters and every derived quantity of the law
 * (cs_law_add_derived: E = exp(e), compute-optimal exponents, N_opt(C), tokens per parameter).
 *
 * Replicate b draws its resample from cs_rng stream b of the seed, and its refit runs on one
 * thread from the same start, so every replicate, and the whole result, is the same whatever
 * the thread count. A resample is expressed as point weights (multiplicities), which is the same
 * objective as the resampled data set.
 *
 * Tested in tests/unit/test_bootstrap.c.
 */
#ifndef CS_FIT_BOOTSTRAP_H
#define CS_FIT_BOOTSTRAP_H

#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_boot_params {
    size_t n;      /* replicates (default 1000) */
    uint64_t seed; /* default 1 */
    double level;  /* confidence level of the percentile intervals, in (0, 1) (default 0.95) */
    bool by_group; /* resample the data set's groups (cs_dataset_groups) instead of points */
} cs_boot_params;

/* The defaults listed above. */
cs_boot_params cs_boot_default_params(void);

/* Bootstrap samples and their summary. All arrays are owned by the result. */
typedef struct cs_boot_result {
    size_t n; /* replicates */
    size_t nparams;
    size_t nderived;
    uint64_t seed;
    double level;
    bool by_group;
    double *samples;      /* (n, nparams) refitted parameters; a row of NaN when it failed */
    double *dsamples;     /* (n, nderived) derived quantities of each replicate; NaN where
                             the refit failed or the quantity cannot be evaluated */
    unsigned char *stop;  /* (n) cs_fit_stop of each refit */
    size_t n_failed;      /* refits that failed (their rows are NaN) */
    size_t n_unconverged; /* refits that ran out of iterations (kept) */
    double *se;           /* (nparams) standard deviation of the samples */
    double *lo;           /* (nparams) percentile interval, (1 - level)/2 quantile */
    double *hi;           /* (nparams) (1 + level)/2 quantile */
    double *dest;         /* (nderived) derived quantities at the point estimate */
    double *dse;          /* (nderived) */
    double *dlo;          /* (nderived) */
    double *dhi;          /* (nderived) */
    char **warnings;      /* (nwarnings) failed refits, intervals so wide that a parameter is
                             not identified */
    size_t nwarnings;
} cs_boot_result;

/* Runs p->n bootstrap refits (bp NULL: defaults) of `law` on `ds` with the fit parameters fp
 * (method, delta, space, threads, tolerances) from fit->estimate (and fit->scale for
 * HUBER_LIK). On success *out owns the result. Errors: CS_EINVAL for n = 0, a level outside
 * (0, 1), a fit of another law or method, or by_group on a data set without groups; CS_ENOCONV
 * when every refit failed; CS_ENOMEM. */
int cs_boot_run(const cs_law *law, const cs_dataset *ds, const cs_fit_params *fp,
                const cs_fit_result *fit, const cs_boot_params *bp, cs_boot_result **out);

/* Frees a result. NULL is allowed. */
void cs_boot_result_free(cs_boot_result *r);

/* Draws the resample weights of replicate `b` (n points): multiplicities of points drawn with
 * replacement, or of whole groups when `group` (n ids below ngroups) is not NULL. Exposed for
 * tests; cs_boot_run uses it. */
void cs_boot_weights(uint64_t seed, size_t b, size_t n, const size_t *group, size_t ngroups,
                     double *weights);

/* Sample standard deviation and the percentile interval of the finite values among x[k*stride]
 * for k < n (linear interpolation between order statistics, as R's type 7). NaN when fewer than
 * 2 are finite. scratch holds n doubles. */
void cs_boot_summary(const double *x, size_t n, size_t stride, double level, double *se, double *lo,
                     double *hi, double *scratch);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_BOOTSTRAP_H */
