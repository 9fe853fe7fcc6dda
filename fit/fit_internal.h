/* fit/fit_internal.h: what fit/fit.c shares with its helpers fit/fit_bfgs.c (a dense BFGS
 * minimiser) and fit/fit_loglin.c (the fast evaluation of laws whose terms are log-linear).
 * Not installed for users; the public API is fit/fit.h. Tested through it in
 * tests/unit/test_fit.c (which also compares the fast path with the law evaluator).
 */
#ifndef CS_FIT_FIT_INTERNAL_H
#define CS_FIT_FIT_INTERNAL_H

#include "fit/dataset.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- dense BFGS (fit/fit_bfgs.c) ---------------------------------------------------------
 *
 * Why not only GSL's multimin BFGS2: that method keeps one update pair (a memoryless BFGS, close
 * to a conjugate-gradient method), and on the Hoffmann objective, where the log-amplitude and
 * exponent of each term are strongly correlated, it took about 840 iterations per start on
 * Epoch's data (10% of starts hit 2000 iterations), against about 60 for a quasi-Newton method
 * that keeps the whole inverse Hessian. The parameter count is small (5 to 10), so the full
 * n x n matrix costs nothing. GSL BFGS2 stays available (cs_fit_params.optimizer). */

/* Objective and gradient at x (n): CS_OK, or any other value when it cannot be evaluated there
 * (the line search then treats the point as too far). */
typedef int (*cs_fit_fdf)(void *ctx, const double *x, double *f, double *g);

typedef struct cs_fit_bfgs_opts {
    size_t max_iter; /* iterations (line searches) */
    double gtol;     /* stop when max |g_j| <= gtol * max(1, |f|) */
    double ftol;     /* stop when an iteration lowers f by <= ftol * max(|f|, tiny) */
    double step;     /* length of the first trial step */
} cs_fit_bfgs_opts;

/* Doubles of workspace cs_fit_bfgs_minimize needs for n coordinates. */
size_t cs_fit_bfgs_work_size(size_t n);

/* Minimises fdf from x (n, overwritten by the best point found) with BFGS (inverse-Hessian
 * form, initial scaling s'y/y'y, update skipped when the curvature s'y is not positive) and a
 * line search for the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9; bracketing then cubic
 * interpolation, bisection where values are not finite). *f receives the value at x, *iters
 * the iterations. ws holds cs_fit_bfgs_work_size(n) doubles. Returns a cs_fit_stop. */
int cs_fit_bfgs_minimize(cs_fit_fdf fdf, void *ctx, size_t n, double *x, double *f, size_t *iters,
                         const cs_fit_bfgs_opts *o, double *ws);

/* ---- log-linear terms (fit/fit_loglin.c) -------------------------------------------------
 *
 * Many laws are sums of positive terms whose logs are linear in the parameters once the data
 * enter through their logs: exp(a)/N^alpha has log a - alpha log N; B/D^beta with B > 0 has
 * log B - beta log D. For those, log term_k at point i is
 *     c[i][k][0] + sum_j theta_j c[i][k][1 + j] + sum_j B[k][j] log theta_j
 * with c computed once from the data, which is Hoffmann et al.'s own way of evaluating their
 * objective: a few multiply-adds and one exp per term instead of the law's pow, and a log-sum-exp
 * over the terms. Terms qualify when built from positive constants, variables with positive
 * values, positive parameters, *, /, exp of an expression affine in the parameters (with log of
 * data as coefficients), powers of data with exponents affine in the parameters, and powers
 * with constant exponents. Anything else (a negative term, min, max, a log of a parameter
 * expression) leaves the law to the general evaluator. */

typedef struct cs_fit_loglin cs_fit_loglin;

/* Analyses `law` for `ds`; NULL when the law does not qualify (not an error) or on allocation
 * failure (then cs_fail CS_ENOMEM is recorded; the caller falls back to the general path). */
cs_fit_loglin *cs_fit_loglin_alloc(const cs_law *law, const cs_dataset *ds);

void cs_fit_loglin_free(cs_fit_loglin *ll);

/* Restricts the following calls to data rows rows[0..m-1] (in that order), or to all rows
 * (rows NULL, m = the data's n). */
void cs_fit_loglin_select(cs_fit_loglin *ll, const size_t *rows, size_t m);

/* Precomputes the per-evaluation constants for parameters theta (np, native; > 0 wherever a
 * term takes log theta_j). */
void cs_fit_loglin_prepare(cs_fit_loglin *ll, const double *theta);

/* Residuals r_i = log(pred_i) - y_i of the selected rows (m) with y (m) the log targets, and
 * the terms' shares q (nt, m) of each prediction unless q is NULL: log(pred) is the
 * log-sum-exp of the log terms. */
void cs_fit_loglin_residuals(const cs_fit_loglin *ll, const double *y, double *r, double *q);

/* gu (np) = sum_i c_i d r_i / d u for point multipliers c (m), from the shares q of
 * cs_fit_loglin_residuals; dtheta (np) is d theta / d u. S is scratch of nt * (1 + nvars)
 * doubles, cq of m. */
void cs_fit_loglin_gradient(const cs_fit_loglin *ll, const double *q, const double *c,
                            const double *dtheta, double *gu, double *S, double *cq);

/* The Jacobian J (m, np) row-major: d r_i / d u_j. */
void cs_fit_loglin_jacobian(const cs_fit_loglin *ll, const double *q, const double *dtheta,
                            double *J);

/* Number of terms and of features (1 + variables), for sizing q and S. */
size_t cs_fit_loglin_nterms(const cs_fit_loglin *ll);
size_t cs_fit_loglin_nfeatures(const cs_fit_loglin *ll);

#endif /* CS_FIT_FIT_INTERNAL_H */
