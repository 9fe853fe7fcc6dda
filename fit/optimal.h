/* fit/optimal.h: compute-optimal allocation — for a fitted law and a FLOPs model, the N, D (and
 * training context T, vocabulary V) that minimise the predicted loss at a fixed training budget
 * C, with confidence intervals from re-solving for every bootstrap sample of the fit.
 *
 * The constraint C = D * cost(N, T, V) is substituted (D = C / cost) and the loss is minimised
 * over ln N (and ln T, ln V when they are free):
 *   CS_OPTIMAL_FLOPS_6ND     cost = 6 N                     (Hoffmann et al., Kaplan et al.)
 *   CS_OPTIMAL_FLOPS_KAPLAN  cost = 6 N + 6 n_layer T d     (core/flops.h CS_FLOPS_KAPLAN: the
 *                                                            attention term grows with T)
 *   CS_OPTIMAL_FLOPS_TAO     cost = 6 (N + V d)             (Tao et al. 2024, per token; their
 *                                                            C = 6 (N_nv + V d) H f(V) with
 *                                                            D = H f(V) tokens)
 * n_layer and d (d_model) come from N through a shape family: d = aspect * n_layer and
 * N = n_layer (12 d^2 + 13 d) + 2 d (core/flops.h's non-embedding count), solved for a real
 * n_layer (no rounding, so that the loss is smooth in N).
 *
 * Law variables the solver understands (any other is an error): N or Nnv (non-embedding,
 * non-vocabulary parameters), Nv (vocabulary parameters V d), D (tokens), H (characters,
 * D / f(V) with Tao et al.'s tokens per character f), T (context), V (vocabulary). T is free
 * when the law has T and its range is not a single value, else fixed at the range's low end;
 * likewise V (free when the law has V, Nv or H).
 *
 * Closed form: the built-in chinchilla law under 6ND has N_opt = G (C/6)^(beta/(alpha+beta)),
 * G = (alpha A / (beta B))^(1/(alpha+beta)), D_opt = C / (6 N_opt). Everything else is solved
 * numerically: a scan of a grid over the free log variables, then GSL's Nelder-Mead simplex
 * (nmsimplex2) from the best grid points, polished by restarts until it stops improving. Bounds
 * are kept by the change of variables x = lo + (hi - lo) (1 + sin u) / 2 on each log variable.
 * Docs: docs/laws.md, section "Approaches 1 and 2, and compute-optimal allocation".
 * Tested in tests/unit/test_optimal.c and tests/cli/test_alloc.sh.
 */
#ifndef CS_FIT_OPTIMAL_H
#define CS_FIT_OPTIMAL_H

#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_optimal_flops {
    CS_OPTIMAL_FLOPS_6ND = 0,
    CS_OPTIMAL_FLOPS_KAPLAN = 1,
    CS_OPTIMAL_FLOPS_TAO = 2,
} cs_optimal_flops;

/* "6nd", "kaplan", "tao"; NULL outside the enum. */
const char *cs_optimal_flops_name(int flops);

/* Parses a FLOPs model name (as cs_optimal_flops_name, case-insensitive) into *out. CS_OK, or
 * CS_EINPUT ("--flops: expected one of 6nd, kaplan, tao, got "x""). */
int cs_optimal_flops_parse(const char *name, int *out);

/* Parameters; start from cs_optimal_default_params(). */
typedef struct cs_optimal_params {
    int flops;         /* cs_optimal_flops; default CS_OPTIMAL_FLOPS_6ND */
    double aspect;     /* d_model / n_layer of the shape family; default 64 */
    double N_lo, N_hi; /* search range of N, parameters; default 1e3 .. 1e15 */
    double T_lo, T_hi; /* range of T, tokens; equal values fix T. Default 64 .. 65536 */
    double V_lo, V_hi; /* range of V, tokens; equal values fix V. Default 1024 .. 524288 */
    size_t grid;       /* scan points per free variable (>= 3); default 25 (1 free), 15 (2),
                          9 (3) when 0 (the default) */
    size_t nstarts;    /* simplex runs from the best scan points; default 3 */
    double tol;        /* simplex size at which a run stops, in u; default 1e-9 */
    size_t max_iter;   /* iterations per simplex run; default 5000 */
    bool numeric;      /* solve numerically even where the closed form exists (tests) */
    double level;      /* confidence level of the intervals, in (0, 1); default 0.95 */
} cs_optimal_params;

cs_optimal_params cs_optimal_default_params(void);

/* Flags of cs_optimal_point.at_bound: the optimum lies on the edge of a search range (the range
 * is too narrow, or the law has no interior optimum there). */
enum {
    CS_OPTIMAL_AT_N = 1u << 0,
    CS_OPTIMAL_AT_T = 1u << 1,
    CS_OPTIMAL_AT_V = 1u << 2,
};

/* One compute-optimal allocation. */
typedef struct cs_optimal_point {
    double C;          /* budget, FLOPs */
    double N;          /* non-embedding (non-vocabulary) parameters */
    double D;          /* training tokens */
    double T;          /* training context, tokens (the fixed value when T is not free) */
    double V;          /* vocabulary (the fixed value when V is not free) */
    double n_layer;    /* shape family at N (real-valued) */
    double d_model;    /* shape family at N (real-valued) */
    double cost;       /* training FLOPs per token, C / D */
    double loss;       /* predicted loss at the optimum */
    unsigned at_bound; /* CS_OPTIMAL_AT_* flags */
    bool closed_form;  /* solved by the closed form */
} cs_optimal_point;

/* Free variables of a problem: which of N, T, V the solver varies for `law` under `p`. Writes
 * *T_free and *V_free (N is always free). CS_OK, or CS_EINPUT naming a law variable the solver
 * does not know ("law variable "x" is not one of N, Nnv, Nv, D, H, T, V"), a law with
 * no parameter-count variable, or a law without D or H; CS_EINVAL for bad params (ranges not
 * positive or lo > hi, aspect <= 0, unknown flops model, level outside (0, 1), grid 1 or 2). */
int cs_optimal_check(const cs_law *law, const cs_optimal_params *p, bool *T_free, bool *V_free);

/* Solves one budget C (FLOPs, > 0) for the law at params (cs_law_nparams values) into *out.
 * Returns CS_OK; CS_EINPUT (as cs_optimal_check, C not positive and finite, or a law that is
 * not finite anywhere on the scan grid: "the law is not finite at any ..."); CS_ENOCONV when no
 * simplex run converged within max_iter; CS_EGSL; CS_ENOMEM. */
int cs_optimal_solve(const cs_law *law, const double *params, double C, const cs_optimal_params *p,
                     cs_optimal_point *out);

/* A quantity's percentile interval over the bootstrap samples. */
typedef struct cs_optimal_ci {
    double lo, hi; /* NaN without samples */
} cs_optimal_ci;

/* One budget with intervals. */
typedef struct cs_optimal_row {
    cs_optimal_point est;                 /* from the fitted parameters */
    double tpp;                           /* tokens per parameter D / N */
    cs_optimal_ci ci_N, ci_D, ci_T, ci_V; /* percentile intervals over the samples */
    cs_optimal_ci ci_loss, ci_tpp;
    size_t nsamples_ok;       /* samples solved (the others: law not finite, no convergence) */
    size_t nsamples_at_bound; /* of those, samples whose optimum lies on a range's edge */
} cs_optimal_row;

/* The result of cs_optimal_run; free with cs_optimal_result_free. */
typedef struct cs_optimal_result {
    cs_optimal_row *rows; /* (nbudgets), in the order given */
    size_t nbudgets;
    size_t nsamples;     /* bootstrap samples given */
    bool T_free, V_free; /* as cs_optimal_check */
    double level;
} cs_optimal_result;

/* Solves every budget (nbudgets values, FLOPs) for the fitted params (nparams) and, for
 * intervals, for each of the nsamples bootstrap samples (samples: (nsamples, nparams)
 * row-major; NULL with nsamples 0). A sample that cannot be solved is skipped (counted by
 * nsamples_ok). Errors as cs_optimal_solve for the fitted params; CS_EINVAL for nbudgets 0 or
 * NULL arrays. *out is owned by the caller. */
int cs_optimal_run(const cs_law *law, const double *params, const double *samples, size_t nsamples,
                   const double *budgets, size_t nbudgets, const cs_optimal_params *p,
                   cs_optimal_result **out);

/* Frees a result. Accepts NULL. */
void cs_optimal_result_free(cs_optimal_result *r);

/* Parses a list of budgets from user text into *out (malloc'ed, owned by the caller; *n
 * values): "LO:HI:K" gives K values spaced evenly in log C from LO to HI inclusive (K >= 1;
 * K = 1 needs LO = HI), "C1,C2,..." the values listed. Each value must be a positive finite
 * number (cs_parse_double). CS_EINPUT naming `what` (e.g. "--budget") and the bad part;
 * CS_ENOMEM. */
int cs_optimal_parse_budgets(const char *spec, const char *what, double **out, size_t *n);

/* The shape family: n_layer and d_model (real-valued, d = aspect n_layer) whose non-embedding
 * count n_layer (12 d^2 + 13 d) + 2 d equals N (> 0). aspect > 0. */
void cs_optimal_shape(double N, double aspect, double *n_layer, double *d_model);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_OPTIMAL_H */
