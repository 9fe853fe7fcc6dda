/* analysis/isoflop.h: Chinchilla's Approach 2 (IsoFLOP profiles). Points (C, N, D, loss) are
 * grouped into compute budgets — by an explicit list of budgets, or automatically by clustering
 * in log10 C with a tolerance — a parabola in ln N is fitted to the loss of each budget, its
 * minimum gives N_opt(C) (and D_opt(C)), and power laws N_opt = k C^a, D_opt = k' C^b are fitted
 * across budgets, with confidence intervals from a stratified bootstrap over points.
 *
 * Also the power-law regression and percentile helpers that analysis/envelope.c (Approach 1)
 * shares. The method and its choices are described in docs/laws.md, section "Approaches 1 and 2,
 * and compute-optimal allocation". Tested in tests/unit/test_isoflop.c and tests/cli/test_alloc.sh.
 */
#ifndef CS_ANALYSIS_ISOFLOP_H
#define CS_ANALYSIS_ISOFLOP_H

#include "core/table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A power law y = k x^a fitted by ordinary least squares on ln y = ln k + a ln x. */
typedef struct cs_isoflop_power {
    double a;    /* exponent */
    double a_se; /* standard error of a from the regression residuals; NaN with < 3 points */
    double a_lo; /* lower end of the bootstrap percentile interval of a; NaN without bootstrap */
    double a_hi; /* upper end of the bootstrap interval; NaN without bootstrap */
    double k;    /* coefficient, in units of y per (unit of x)^a */
    size_t n;    /* points in the regression */
} cs_isoflop_power;

/* What happened to one budget's parabola. */
typedef enum cs_isoflop_status {
    CS_ISOFLOP_OK = 0,     /* interior minimum, positive curvature: used */
    CS_ISOFLOP_DEGENERATE, /* fewer than 3 distinct N: no parabola; skipped */
    CS_ISOFLOP_CURVATURE,  /* the parabola opens downwards (or is flat); skipped */
    CS_ISOFLOP_EDGE,       /* minimum outside the sampled range of N; skipped */
} cs_isoflop_status;

/* Parameters; start from cs_isoflop_default_params(). */
typedef struct cs_isoflop_params {
    const double *budgets; /* (nbudgets) explicit budgets in FLOPs, > 0; NULL: automatic */
    size_t nbudgets;       /* entries of budgets; 0 with budgets NULL */
    double tol;            /* log10 C tolerance: automatic clustering links sorted points whose
                              log10 C differ by at most tol; with explicit budgets a point joins
                              the nearest budget within tol. Default 0.015 */
    size_t min_points;     /* automatic: clusters with fewer points are left out; >= 3.
                              Default 3 */
    double flops_per_nd;   /* C / (N D) used for D_opt when no D is given; default 6 */
    size_t nboot;          /* bootstrap replicates; 0: no bootstrap intervals. Default 1000 */
    uint64_t seed;         /* bootstrap seed; replicate r uses cs_rng stream r. Default 1 */
    double level;          /* confidence level of the intervals, in (0, 1). Default 0.95 */
} cs_isoflop_params;

cs_isoflop_params cs_isoflop_default_params(void);

/* One budget. */
typedef struct cs_isoflop_budget {
    double C;                  /* FLOPs: the listed budget, or 10^(mean log10 C) of the cluster */
    size_t npoints;            /* points assigned to it */
    double N_lo, N_hi;         /* smallest and largest N among them, parameters */
    cs_isoflop_status status;  /* whether it was used */
    double curvature;          /* d^2 loss / d(ln N)^2 of the parabola, loss units; NaN if none */
    double N_opt;              /* parabola minimum, parameters (also for EDGE: where it lies) */
    double D_opt;              /* C / (kappa N_opt), tokens; kappa = median C/(N D) of the points
                                  (or flops_per_nd without D) */
    double L_opt;              /* parabola value at N_opt, loss units */
    double N_opt_lo, N_opt_hi; /* bootstrap percentile interval of N_opt; NaN without */
    size_t nboot_ok;           /* replicates where this budget's parabola was usable */
} cs_isoflop_budget;

/* The result of cs_isoflop_run; free with cs_isoflop_result_free. */
typedef struct cs_isoflop_result {
    cs_isoflop_budget *budgets; /* (nbudgets), ascending C */
    size_t nbudgets;
    size_t nused;   /* budgets with status CS_ISOFLOP_OK */
    size_t *assign; /* (npoints) budget index of each input point, SIZE_MAX if none */
    size_t npoints;
    size_t nunassigned;     /* points in no budget */
    cs_isoflop_power N_fit; /* N_opt = k C^a over the used budgets */
    cs_isoflop_power D_fit; /* D_opt = k C^b */
    size_t nboot;           /* replicates run */
    size_t nboot_ok;        /* replicates with at least 2 usable budgets (used for CIs) */
    double level;           /* confidence level of every interval */
} cs_isoflop_result;

/* Runs Approach 2 on n points: C (n) training FLOPs, N (n) parameters, D (n) training tokens
 * or NULL, L (n) losses (any finite values). Budgets whose parabola is unusable are kept in the
 * result with their status (the caller warns) and left out of the power-law fits. On success
 * *out is a new result owned by the caller.
 * Errors: CS_EINPUT — a C, N or D that is not a positive finite number or a loss that is not
 * finite ("point 7: N = -3: expected a positive number"); an explicit budget <= 0 or with fewer
 * than 3 points within tol ("budget 1e+21: 2 points within 0.015 of log10 C; a parabola needs at
 * least 3"); automatic clustering that finds no cluster of min_points; fewer than 2 usable
 * budgets. CS_EINVAL — n == 0, NULL arrays, tol <= 0, min_points < 3, level outside (0, 1),
 * flops_per_nd <= 0. CS_ENOMEM. */
int cs_isoflop_run(const double *C, const double *N, const double *D, const double *L, size_t n,
                   const cs_isoflop_params *p, cs_isoflop_result **out);

/* Frees a result. Accepts NULL. */
void cs_isoflop_result_free(cs_isoflop_result *r);

/* Short name of a status: "ok", "degenerate", "curvature", "edge". */
const char *cs_isoflop_status_name(cs_isoflop_status s);

/* Fits y = k x^a by least squares in log-log on n >= 2 points with x, y > 0 into *out (a_lo and
 * a_hi are set to NaN). CS_EINPUT when n < 2, a value is not positive and finite, or every x is
 * the same. */
int cs_isoflop_fit_power(const double *x, const double *y, size_t n, cs_isoflop_power *out);

/* The percentile interval of level `level` of v (n values; sorted in place): lo and hi are its
 * (1 - level)/2 and (1 + level)/2 quantiles (linear interpolation). NaN, NaN when n == 0. */
void cs_isoflop_percentile(double *v, size_t n, double level, double *lo, double *hi);

/* ---- points from a table (shared with analysis/envelope.h) ------------------------------ */

/* Which columns hold N, C, D, the loss L and the run, and which rows to keep. Strings are
 * borrowed for the duration of the call. */
typedef struct cs_isoflop_select {
    const char *const *maps; /* (nmaps) "NAME=column" for NAME in N, C, D, L, run; run may
                                name several columns separated by commas ("model,vocab"),
                                whose values together identify a run */
    size_t nmaps;
    const char *const *derives; /* (nderives) "NAME=expr" as fit/dataset.h (e.g. D=C/(6*N)) */
    size_t nderives;
    const char *const *wheres; /* (nwheres) "COL OP VALUE" row filters as fit/dataset.h */
    size_t nwheres;
    bool want_run; /* runs are needed (Approach 1) */
} cs_isoflop_select;

/* Points read from a table. D is NULL when the data has no D (no column, map or derive). */
typedef struct cs_isoflop_points {
    size_t n;
    double *C, *N, *D, *L; /* (n) FLOPs, parameters, tokens, loss */
    size_t *run;           /* (n) run index, or NULL unless want_run */
    size_t nruns;
    char **run_names;  /* (nruns) the run column's value(s) of each run, "/"-joined */
    size_t n_read;     /* rows of the table */
    size_t n_filtered; /* rows left out by the wheres */
} cs_isoflop_points;

/* Reads the points from table `t`: N, C, L (and D when present) by --map, --derive or a column
 * of that name, through fit/dataset.h; the run from "run=..." in maps or a column "run". A
 * composite run key adds a text column named after the spec to `t`. On success *out is owned
 * by the caller (cs_isoflop_points_free). Errors, naming the table's source: CS_EINPUT for a
 * missing column (listing those there are), a malformed map, a non-numeric or missing value
 * (file:line), a C, N or D that is not > 0 ("runs.csv:17: N (column \"Model Size\") = -3:
 * expected a positive number"), no run column when want_run; CS_ENOMEM. */
int cs_isoflop_points_read(cs_table *t, const cs_isoflop_select *s, cs_isoflop_points **out);

/* Frees points. Accepts NULL. */
void cs_isoflop_points_free(cs_isoflop_points *pts);

#ifdef __cplusplus
}
#endif
#endif /* CS_ANALYSIS_ISOFLOP_H */
