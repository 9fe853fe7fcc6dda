/* fit/fit.h: fitting a law (fit/law.h) to a data set (fit/dataset.h) — the objectives and the
 * multi-start optimisation.
 *
 * Objectives, over the points i of the data with weights w_i (1, or bootstrap multiplicities):
 *   CS_FIT_HUBER      sum_i w_i Huber_delta(r_i), minimised by BFGS (ours, or GSL multimin
 *                     BFGS2 on request: see cs_fit_params.optimizer). This is
 *                     Hoffmann et al.'s objective: summed, not averaged (an average makes the
 *                     gradient so small that BFGS stops at the start).
 *   CS_FIT_LSQ        sum_i w_i r_i^2 / 2, minimised by GSL multifit_nlinear (Levenberg-Marquardt).
 *   CS_FIT_HUBER_LIK  the negative log-likelihood of residuals with density
 *                     exp(-Huber_delta(r / s)) / (s Z(delta)), with the scale s fitted as one more
 *                     coordinate (as in Besiroglu et al. 2024); for likelihood-ratio tests and
 *                     AIC comparisons of laws on the same data.
 * Residuals are r_i = log(pred_i) - log(y_i) (log space, the default) or pred_i - y_i. In log
 * space, when every additive term of the law is > 0 at a point, log(pred) is the log-sum-exp of
 * the log terms, so the sum can neither cancel nor overflow. Gradients are exact (the law's
 * reverse-mode gradients).
 *
 * Coordinates: a parameter flagged CS_LAW_POSITIVE is optimised as its log, so it stays > 0 and
 * its geometric grid is a uniform one; the others as they are.
 *
 * Multi-start: one local minimisation from every point of the law's starting grid
 * (cs_law_grid_point), spread over threads; start g's result depends only on g, so the answer is
 * the same whatever the thread count. The best start is the lowest objective, ties to the lowest
 * index.
 *
 * Tested in tests/unit/test_fit.c (synthetic data for every built-in law, outliers, NIST StRD
 * problems, the published data sets, determinism across thread counts, bad input).
 */
#ifndef CS_FIT_FIT_H
#define CS_FIT_FIT_H

#include "fit/dataset.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_fit_method {
    CS_FIT_HUBER = 0,
    CS_FIT_LSQ = 1,
    CS_FIT_HUBER_LIK = 2,
} cs_fit_method;

/* Minimiser of the HUBER and HUBER_LIK objectives. */
typedef enum cs_fit_optimizer {
    CS_FIT_OPT_BFGS = 0,      /* dense BFGS, strong-Wolfe line search (fit/fit_bfgs.c) */
    CS_FIT_OPT_GSL_BFGS2 = 1, /* GSL multimin vector_bfgs2 */
} cs_fit_optimizer;

typedef struct cs_fit_params {
    int method;        /* cs_fit_method; default CS_FIT_HUBER */
    int optimizer;     /* cs_fit_optimizer; default CS_FIT_OPT_BFGS. GSL's BFGS2 keeps only
                          the last update pair and needs ~10x the iterations on chinchilla
                          fits (fit/fit_internal.h) */
    bool general_eval; /* always evaluate through the law's batch evaluator, even for laws
                          of log-linear terms (default false; for tests and comparisons) */
    double delta;      /* Huber threshold, in residual units (HUBER) or in units of the
                          fitted scale (HUBER_LIK); default 1e-3 */
    bool log_space;    /* residuals log(pred) - log(y) (default) or pred - y */
    size_t threads;    /* worker threads; 0 = the online CPUs (default) */
    size_t max_iter;   /* iterations per local minimisation (default 2000) */
    double gtol;       /* stop when the gradient's largest component, in optimisation
                          coordinates, is below gtol * max(1, |f|) (default 1e-10) */
    double ftol;       /* BFGS: stop when an iteration lowers f by less than ftol * |f|
                          (default 1e-12) */
    double xtol;       /* LSQ: relative step tolerance (default 1e-14) */
    double step;       /* BFGS: length of the first trial step (default 1, as L-BFGS-B) */
    double line_tol;   /* BFGS2: line-search tolerance (default 0.1) */
    double best_rtol;  /* a start reached the best when its objective is within best_rtol
                          relative of it (default 1e-6) ... */
    double close_tol;  /* ... and every coordinate within close_tol * (1 + |best|)
                          (default 1e-3) */
    size_t max_starts; /* larger grids are refused (default 1000000) */
} cs_fit_params;

/* The defaults listed above. */
cs_fit_params cs_fit_default_params(void);

/* Name of a method ("huber", "lsq", "huber-lik") and its inverse (CS_OK or CS_EINPUT). */
const char *cs_fit_method_name(int method);
int cs_fit_method_parse(const char *name, int *method);

/* How one local minimisation ended. */
typedef enum cs_fit_stop {
    CS_FIT_STOP_GRADIENT = 0, /* gradient test passed: converged */
    CS_FIT_STOP_STALLED = 1,  /* the line search (or LM step) could make no more progress:
                                 counted as converged, as scipy's ftol stop would */
    CS_FIT_STOP_MAXITER = 2,  /* ran out of iterations; the point is kept but not converged */
    CS_FIT_STOP_BADSTART = 3, /* the objective is not finite at the start */
    CS_FIT_STOP_FAILED = 4,   /* it became non-finite, or the minimiser failed */
} cs_fit_stop;

/* The result of cs_fit_run. All arrays are owned by the result. */
typedef struct cs_fit_result {
    int method; /* cs_fit_method */
    bool log_space;
    double delta;
    size_t nparams;            /* law parameters */
    size_t n_points;           /* data points fitted */
    double *estimate;          /* (nparams) best point, native parametrisation */
    double scale;              /* fitted residual scale (HUBER_LIK), else NaN */
    double objective;          /* objective at the estimate */
    size_t n_starts;           /* grid points tried */
    size_t n_converged;        /* starts that stopped on the gradient test or stalled */
    size_t n_failed;           /* BADSTART or FAILED */
    size_t n_at_best;          /* starts within best_rtol of the best objective, close_tol of
                                  its coordinates */
    size_t best_start;         /* grid index of the best start */
    int best_stop;             /* cs_fit_stop of the best start */
    size_t iterations;         /* iterations summed over the starts */
    double *start_objective;   /* (n_starts) final objective per start, NaN when it failed */
    unsigned char *start_stop; /* (n_starts) cs_fit_stop per start */
    double rmse;               /* root mean square of the residuals at the estimate */
    double max_abs_resid;      /* largest |residual| */
    double median_abs_resid;   /* median |residual| */
    double nll;                /* negative log-likelihood: Gaussian (LSQ) or Huber with the scale
                                  fitted (HUBER: profiled at the estimate); NaN if not valid */
    double aic;                /* 2k + 2 nll, k = nparams + 1 (the scale); NaN if n <= k + 1 */
    double bic;                /* k log n + 2 nll; NaN likewise */
    double *se_asym;           /* (nparams) LSQ: asymptotic standard errors s^2 (J'J)^-1 (delta
                                  method for log coordinates); NaN otherwise or when singular */
    double cond;               /* condition number of J'J scaled to unit diagonal, at the
                                  estimate (optimisation coordinates); inf when singular */
    char **warnings;           /* (nwarnings) one line each, no trailing newline */
    size_t nwarnings;
} cs_fit_result;

/* Fits `law` to `ds` (built for that law) by minimising the objective of p->method (p NULL:
 * defaults) from every point of the law's starting grid. On success *out owns the result
 * (cs_fit_result_free) and carries warnings: estimate outside or on the edge of a parameter's
 * grid, few starts at the best, failed starts, the best start not converged, parameters not
 * identified (scaled J'J near-singular or a parameter without effect). Errors (*out NULL):
 * CS_EINPUT for fewer points than coordinates plus one, a grid larger than p->max_starts, or
 * every start failing at its starting point (the message names the first start and the data
 * row, file:line, where the law cannot be evaluated); CS_ENOCONV when no start converged (each
 * failed during the minimisation or ran out of iterations; the message says what was tried);
 * CS_EINVAL for a data set built for another law or bad params; CS_ENOMEM; CS_EGSL. */
int cs_fit_run(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p,
               cs_fit_result **out);

/* Frees a result. NULL is allowed. */
void cs_fit_result_free(cs_fit_result *r);

/* ---- building blocks (used by the bootstrap, and by tests) ------------------------------- */

typedef struct cs_fit_work cs_fit_work;

/* A per-thread workspace for the objective and the local minimisers of p->method. It borrows
 * law, ds and p (they must outlive it). NULL with CS_ENOMEM, or CS_EINVAL when the data set does
 * not match the law. */
cs_fit_work *cs_fit_work_alloc(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p);

/* Frees a workspace. NULL is allowed. */
void cs_fit_work_free(cs_fit_work *w);

/* Number of fitted coordinates: nparams, plus 1 (the log scale, last) for HUBER_LIK. */
size_t cs_fit_ncoef(const cs_law *law, const cs_fit_params *p);

/* The objective at `coef` (ncoef: native parameters, then log scale for HUBER_LIK) with point
 * weights `weights` (n; NULL = all 1) into *f, and d f / d coef into grad (ncoef) unless NULL.
 * For LSQ, f is sum w r^2 / 2. Returns CS_OK, or CS_EINPUT when the law or the objective is not
 * finite there (message from the law evaluator, or naming the point). */
int cs_fit_objective(cs_fit_work *w, const double *weights, const double *coef, double *f,
                     double *grad);

/* One local minimisation from `start` (ncoef, native; for HUBER_LIK a NaN last coordinate means
 * "profile the scale at the start") with point weights (NULL = all 1). Writes the end point into
 * coef (ncoef), its objective into *f, iterations into *iters (may be NULL) and returns the
 * cs_fit_stop. Thread-safe with one workspace per thread. */
int cs_fit_local(cs_fit_work *w, const double *weights, const double *start, double *coef,
                 double *f, size_t *iters);

/* The residuals at `params` (nparams) into r (n). CS_OK or CS_EINPUT as cs_fit_objective. */
int cs_fit_residuals(cs_fit_work *w, const double *params, double *r);

/* Worker threads to use for a request of `requested` (0 = the online CPUs), at most `tasks`
 * and at least 1. */
size_t cs_fit_threads(size_t requested, size_t tasks);

/* Runs fn(ctx, w, i) for i = 0..n-1 on cs_fit_threads(p->threads, n) threads, each with its own
 * workspace w; fn must write its result only to slot i of ctx, so the outcome does not depend
 * on the thread count. Returns CS_OK, CS_ENOMEM, CS_EINVAL (from cs_fit_work_alloc) or
 * CS_EIO when a thread cannot be created. fn's own errors are fn's to record. */
typedef void (*cs_fit_task)(void *ctx, cs_fit_work *w, size_t i);
int cs_fit_parallel(const cs_law *law, const cs_dataset *ds, const cs_fit_params *p, size_t n,
                    cs_fit_task fn, void *ctx);

/* Adds the compute-optimal quantities of a chinchilla-form law L = E + A/N^alpha + B/D^beta with
 * compute C = 6 N D, as derived quantities (cs_law_add_derived), so that the bootstrap gives
 * them intervals: "Nopt_exp" = beta/(alpha+beta),
 * "Dopt_exp" = alpha/(alpha+beta), "Nopt_coef" = G with N_opt = G (C/6)^Nopt_exp and, for each
 * budget C in budgets (nbudgets, FLOPs), "Nopt_<C>", "Dopt_<C>" and "DperN_<C>" (tokens per
 * parameter), with <C> the budget written as an identifier ("1e21", "5p76e23"). The law must have
 * the parameters a, b, alpha, beta of the built-in chinchilla parametrisation (A = exp(a), B =
 * exp(b)); else CS_EINPUT. A name already used (the same budget twice) is CS_EINPUT too.
 * Unless texts is NULL, *texts receives the formulas added (malloc'd array of *ntexts malloc'd
 * strings, also on failure: those added before it), for storing with the fit (fit/fitjson.h).
 * CS_ENOMEM. */
int cs_fit_add_chinchilla_derived(cs_law *law, const double *budgets, size_t nbudgets,
                                  char ***texts, size_t *ntexts);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_FIT_H */
