/* analysis/envelope.h: Chinchilla's Approach 1 (the minimum over training curves). Each run's
 * loss trajectory is interpolated (linearly in ln C) on a log-spaced FLOPs grid; at every grid
 * value the run with the lowest loss is on the envelope, and its N (and its D at that point)
 * give N_opt(C), D_opt(C). Power laws N_opt = k C^a and D_opt = k' C^b are fitted over the grid,
 * with confidence intervals from a bootstrap over runs.
 *
 * Losses may be negative (e.g. Tao et al.'s unigram-normalised loss): only their order matters.
 * C, N and D must be positive. Method and choices: docs/laws.md, section "Approaches 1 and 2,
 * and compute-optimal allocation". Tested in tests/unit/test_envelope.c and
 * tests/cli/test_alloc.sh.
 */
#ifndef CS_ANALYSIS_ENVELOPE_H
#define CS_ANALYSIS_ENVELOPE_H

#include "analysis/isoflop.h"
#include "core/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parameters; start from cs_envelope_default_params(). */
typedef struct cs_envelope_params {
    size_t ngrid;        /* grid points, >= 2. Default 200 */
    double C_lo, C_hi;   /* grid range in FLOPs; 0 (default): the smallest and largest C of the
                            runs with at least 2 points */
    size_t min_cover;    /* a grid value is on the envelope only when at least this many runs
                            reach it (>= 1); keeps the ends, where a single run is alone, out.
                            Default 2 */
    double flops_per_nd; /* C / (N D) for D_opt when no D is given; default 6 */
    size_t nboot;        /* bootstrap replicates over runs; 0: none. Default 1000 */
    uint64_t seed;       /* bootstrap seed; replicate r uses cs_rng stream r. Default 1 */
    double level;        /* confidence level, in (0, 1). Default 0.95 */
} cs_envelope_params;

cs_envelope_params cs_envelope_default_params(void);

/* A stretch of the grid over which one run is on the envelope. */
typedef struct cs_envelope_segment {
    size_t run;        /* run index */
    double N;          /* its N, parameters */
    double C_lo, C_hi; /* first and last grid value of the stretch, FLOPs */
    double L_lo, L_hi; /* envelope loss at C_lo and C_hi */
} cs_envelope_segment;

/* The result of cs_envelope_run; free with cs_envelope_result_free. */
typedef struct cs_envelope_result {
    size_t ngrid;
    double *C;                     /* (ngrid) grid, FLOPs, log-spaced */
    double *L;                     /* (ngrid) envelope loss; NaN where fewer than min_cover runs */
    size_t *run;                   /* (ngrid) run on the envelope, SIZE_MAX where none */
    double *N;                     /* (ngrid) its N (NaN where none) */
    double *D;                     /* (ngrid) its D at C, tokens (NaN where none) */
    size_t ncovered;               /* grid values on the envelope */
    cs_envelope_segment *segments; /* (nsegments) in order of C */
    size_t nsegments;
    size_t nruns;           /* runs given */
    size_t nruns_skipped;   /* runs with fewer than 2 points (not interpolated) */
    cs_isoflop_power N_fit; /* N_opt = k C^a over the covered grid values */
    cs_isoflop_power D_fit; /* D_opt = k C^b */
    size_t nboot;           /* replicates run */
    size_t nboot_ok;        /* replicates whose envelope held 2 runs or more */
    double level;
} cs_envelope_result;

/* Runs Approach 1 on n points of nruns trajectories: run (n) the run index of each point
 * (< nruns), C (n) training FLOPs so far, N (n) the run's parameters (constant within a run),
 * D (n) tokens so far or NULL (then D = C / (flops_per_nd N)), L (n) losses. Points may come in
 * any order. On success *out is a new result owned by the caller.
 * Errors: CS_EINPUT — C, N or D not positive and finite, a loss not finite ("point 7: ..."), a
 * run whose N changes, two points of a run at the same C, no run with 2 points, an empty grid
 * range, fewer than 2 distinct runs on the envelope. CS_EINVAL — NULL arrays, n or nruns 0, a
 * run index >= nruns, ngrid < 2, min_cover 0, C_lo/C_hi negative or only one of them set, level
 * outside (0, 1), flops_per_nd <= 0. CS_ENOMEM. */
int cs_envelope_run(const size_t *run, size_t nruns, const double *C, const double *N,
                    const double *D, const double *L, size_t n, const cs_envelope_params *p,
                    cs_envelope_result **out);

/* Frees a result. Accepts NULL. */
void cs_envelope_result_free(cs_envelope_result *r);

/* Reads the eval rows of every run log in directory `dir` (core/runlog_read.h's
 * cs_runlog_read_list) into a new table (*out, owned by the caller, source `dir`), one row per
 * eval with a known FLOPs count and validation loss: columns run (the log's path), N (config
 * n_params_nonembed), C (eval flops), D (eval tokens; NaN when unknown), L (loss_val),
 * loss_val_best, loss_val_bpb (nats/token, bits/byte) and step. Row lines count from 1.
 * Errors: those of the reader for the first log that fails (CS_EIO, CS_EINPUT naming it);
 * CS_EINPUT when dir holds no run log or a log lacks n_params_nonembed; CS_ENOMEM. */
int cs_envelope_read_runlogs(const char *dir, cs_table **out);

#ifdef __cplusplus
}
#endif
#endif /* CS_ANALYSIS_ENVELOPE_H */
