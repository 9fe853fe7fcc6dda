/* analysis/ucurve.h: the optimum of a U-curve and the ranking check of the context-scaling
 * analysis (`ctxscale analyze`, docs/analysis.md).
 *
 * A U-curve is the best-context loss of runs at one compute budget against their training
 * context T. Its empirical optimum is the minimum of a parabola in ln T fitted to the best point
 * and its neighbours; the joint optimum over model size N and context T is the minimum of a
 * quadratic surface in (ln N, ln T) fitted to the best point and its neighbours in both
 * directions. Both get a percentile band from a parametric bootstrap: every replicate adds
 * Gaussian noise of each point's standard deviation to the losses and finds the optimum again.
 * The ranking check compares the order of runs by their average loss (all positions 1..T, what
 * training reports) with their order by best-context loss.
 *
 * Tested in tests/unit/test_analyze_ucurve.c.
 */
#ifndef CS_ANALYSIS_UCURVE_H
#define CS_ANALYSIS_UCURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A least-squares quadratic y = c0 + c1 z + c2 z^2 in the standardised z = (x - x0) / s. */
typedef struct cs_ucurve_quad {
    double x0, s; /* centre and scale of x (the mean and the half-range of the x values) */
    double c[3];  /* coefficients in z */
} cs_ucurve_quad;

/* Fits the quadratic to n points (x, y) by least squares. CS_EINPUT when fewer than 3 distinct
 * x or a value is not finite. */
int cs_ucurve_quadfit(const double *x, const double *y, size_t n, cs_ucurve_quad *q);

/* The same quadratic in x itself: y = a[0] + a[1] x + a[2] x^2. */
void cs_ucurve_quad_raw(const cs_ucurve_quad *q, double a[3]);

/* The residual standard deviation of the least-squares polynomial of `degree` (1..5) in x
 * through n points: sqrt(RSS / (n - degree - 1)). NaN when n <= degree + 1, x has fewer than
 * degree + 1 distinct values or a value is not finite. */
double cs_ucurve_resid_sd(const double *x, const double *y, size_t n, size_t degree);

/* How an optimum was found. */
typedef enum cs_ucurve_status {
    CS_UCURVE_OK = 0,    /* interior best point, quadratic with a minimum near it */
    CS_UCURVE_FEW,       /* fewer than 3 contexts (or model sizes): the best point is given */
    CS_UCURVE_EDGE_LOW,  /* the best point is the smallest context (or size) sampled */
    CS_UCURVE_EDGE_HIGH, /* the best point is the largest sampled */
    CS_UCURVE_CURVATURE, /* the quadratic has no minimum inside the window: best point given */
    CS_UCURVE_NSTATUS
} cs_ucurve_status;

/* "ok", "few", "edge-low", "edge-high", "curvature". */
const char *cs_ucurve_status_name(int status);

/* Parameters; start from cs_ucurve_default_params(). */
typedef struct cs_ucurve_params {
    size_t window; /* neighbours on each side of the best point in the parabola (>= 1; 1 gives
                      the parabola through 3 points). Default 1 */
    size_t nboot;  /* bootstrap replicates; 0: no band. Default 1000 */
    uint64_t seed; /* bootstrap seed; each curve draws from its own cs_rng stream. Default 1 */
    double level;  /* level of the percentile band, in (0, 1). Default 0.95 */
} cs_ucurve_params;

cs_ucurve_params cs_ucurve_default_params(void);

/* The optimum of one U-curve. */
typedef struct cs_ucurve_opt {
    int status;        /* cs_ucurve_status */
    size_t best;       /* index of the point with the lowest loss */
    double x_opt;      /* optimal x (context T, tokens): parabola minimum, else the best x */
    double L_opt;      /* loss there: parabola value, else the best loss */
    double x_lo, x_hi; /* percentile band of x_opt over the replicates; NaN without */
    double a[3];       /* the parabola L = a0 + a1 u + a2 u^2 in u = ln x; NaN when none */
    double u_lo, u_hi; /* ln x range of the points the parabola was fitted to; NaN when none */
    size_t nboot;      /* replicates run */
    size_t nboot_edge; /* replicates whose best point was at an edge of the sampled x */
} cs_ucurve_opt;

/* The empirical optimum of the curve L(x) over m points with strictly increasing x > 0 (m
 * values), losses L (m, finite) and their standard deviations sigma (m, >= 0, or NULL for
 * none): the best point, then the least-squares parabola in ln x over the best point and
 * p->window neighbours on each side (fewer at the ends; at least 3 points), whose minimum is
 * x_opt when the parabola opens upwards and its minimum lies within the window's x range.
 * Replicate r adds sigma_i N(0, 1) to every L_i (cs_rng `stream` of p->seed) and repeats; an
 * edge replicate counts with the edge x. CS_EINVAL: m 0, NULL arrays, x not increasing or not
 * positive, a loss or sigma not finite, window 0, level outside (0, 1); CS_ENOMEM. */
int cs_ucurve_optimum(const double *x, const double *L, const double *sigma, size_t m,
                      const cs_ucurve_params *p, uint64_t stream, cs_ucurve_opt *out);

/* The joint optimum over two variables (model size N and context T). */
typedef struct cs_ucurve_joint {
    int status;          /* cs_ucurve_status (EDGE_*: see edge_N, edge_T) */
    int edge_N, edge_T;  /* -1: best at the smallest sampled value, +1: at the largest, 0 */
    size_t best;         /* index of the best point */
    double N_opt, T_opt; /* quadratic-surface minimum, else the best point's values */
    double L_opt;        /* loss there */
    double N_lo, N_hi;   /* percentile bands over the replicates; NaN without */
    double T_lo, T_hi;
    size_t nboot, nboot_edge; /* replicates, and those whose best point was on an edge */
} cs_ucurve_joint;

/* The joint empirical optimum of L over m points (N_i, T_i) (positive; any order; no two equal
 * pairs): the best point, then a least-squares quadratic surface in (ln N, ln T) over the points
 * whose N and T are the best point's or its neighbours among the distinct sampled values (a
 * 3 x 3 neighbourhood; at least 6 points), whose minimum is used when the surface is convex
 * and the minimum lies inside the neighbourhood. Fewer than 3 distinct N or T: status FEW. A
 * best point on the edge of either: EDGE_LOW/EDGE_HIGH (of T when T is on an edge, else of N).
 * Bootstrap as cs_ucurve_optimum. Errors as cs_ucurve_optimum (CS_EINVAL also for a repeated
 * (N, T) pair). */
int cs_ucurve_joint_optimum(const double *N, const double *T, const double *L, const double *sigma,
                            size_t m, const cs_ucurve_params *p, uint64_t stream,
                            cs_ucurve_joint *out);

/* The ranking check on n runs. */
typedef struct cs_ucurve_rank {
    size_t n;         /* runs ranked */
    double spearman;  /* rank correlation of the two orders; NaN when n < 2 or a ranking is flat */
    double kendall;   /* Kendall's tau-b; NaN likewise */
    size_t best_avg;  /* index of the run with the lowest average loss */
    size_t best_best; /* index of the run with the lowest best-context loss */
    double regret;    /* best-context loss of best_avg minus that of best_best (>= 0) */
} cs_ucurve_rank;

/* Ranks n runs by average loss avg (n) and by best-context loss best (n), both finite: writes
 * their ranks (1 = lowest loss; ties get the mean of their ranks) into rank_avg and rank_best
 * (n each, may be NULL) and the summary into *out. CS_EINVAL for n 0, NULL arrays or a value
 * that is not finite; CS_ENOMEM. */
int cs_ucurve_rank_runs(const double *avg, const double *best, size_t n, double *rank_avg,
                        double *rank_best, cs_ucurve_rank *out);

#ifdef __cplusplus
}
#endif
#endif /* CS_ANALYSIS_UCURVE_H */
