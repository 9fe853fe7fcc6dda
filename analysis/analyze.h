/* analysis/analyze.h: the context-scaling analysis of a sweep (`ctxscale analyze RUNS_DIR`):
 * run logs -> points (N, D, T, V, C, final and best-context loss, bits per byte); each run's
 * losses at equal compute, interpolated along its trajectory (IsoFLOP slices); U-curves of
 * best-context loss against training context per budget and model size; the optimal training
 * context per budget, per model size and jointly over N and T, empirically (parabola in ln T,
 * quadratic surface in (ln N, ln T), with parametric-bootstrap bands: analysis/ucurve.h) and from
 * the `ndt` law fitted to the runs (fit/fit.h, fit/bootstrap.h, fit/optimal.h); and the check
 * that ranking runs by their average (training) loss misleads where best-context loss does not.
 * Output: CSV files for the figures and a JSON document (analysis/analyze_out.c).
 *
 * Method, choices and the columns of every output: docs/analysis.md. Tested in
 * tests/unit/test_analyze.c (synthetic sweeps from a known law) and tests/cli/test_analyze.sh.
 */
#ifndef CS_ANALYSIS_ANALYZE_H
#define CS_ANALYSIS_ANALYZE_H

#include "analysis/points.h"
#include "analysis/ucurve.h"
#include "fit/bootstrap.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parameters; start from cs_analyze_default_params(). Arrays are borrowed during the call. */
typedef struct cs_analyze_params {
    cs_points_params points; /* which rows, which unit, which data set */
    const double *budgets;   /* (nbudgets) compute budgets, FLOPs > 0; NULL: automatic */
    size_t nbudgets;
    double tol;              /* log10 C tolerance: grouping of automatic budgets and how far a
                                run may fall short of a budget (its last row is used then).
                                Default 0.015 (3.5% in C) */
    size_t min_runs;         /* automatic budgets reached by fewer usable runs are dropped;
                                default 3 */
    bool final_only;         /* a run counts at a budget only when it ends there (within tol);
                                default false: every budget its trajectory passes */
    cs_ucurve_params ucurve; /* parabola window and bootstrap of the empirical optima */
    double noise;            /* standard deviation of every point's loss; NaN (default): each
                                point's own estimate (cs_points_noise, or over replicates) */
    bool law;                /* fit the ndt law and solve its optima (default true) */
    size_t law_boot;         /* bootstrap replicates of the law fit (default 100; 0: none) */
    double T_lo, T_hi;       /* context range of the law's optima, tokens; 0 (default): the
                                sampled contexts widened by a factor 4 each way */
    size_t threads;          /* fitter threads; 0 (default): the online CPUs */
} cs_analyze_params;

cs_analyze_params cs_analyze_default_params(void);

/* A model size: the runs sharing N and V. */
typedef struct cs_analyze_model {
    double N;                /* non-embedding parameters */
    double V;                /* vocabulary, tokens (NaN unknown) */
    double n_layer, d_model; /* shape (NaN unknown) */
    size_t nruns;            /* usable runs */
    double cost_a, cost_b;   /* training FLOPs per token = cost_a + cost_b T, from the runs
                                (NaN when it cannot be told) */
} cs_analyze_model;

/* What became of a budget. */
typedef enum cs_analyze_budget_status {
    CS_ANALYZE_BUDGET_OK = 0,    /* analysed */
    CS_ANALYZE_BUDGET_UNREACHED, /* no usable run reaches it */
    CS_ANALYZE_BUDGET_FEW,       /* automatic budget reached by fewer than min_runs runs */
} cs_analyze_budget_status;

/* "ok", "unreached", "few". */
const char *cs_analyze_budget_status_name(int status);

typedef struct cs_analyze_budget {
    double C;     /* FLOPs */
    int status;   /* cs_analyze_budget_status */
    size_t nruns; /* usable runs reaching it */
} cs_analyze_budget;

/* One run at one budget (an IsoFLOP slice entry). */
typedef struct cs_analyze_slice {
    size_t budget, run, model; /* indices into budgets, pts->runs, models */
    double T;                  /* the run's context, tokens */
    double D;                  /* tokens at the budget (NaN unknown) */
    double L;                  /* best-context loss there */
    double A;                  /* average loss there (NaN unknown) */
    double sigma;              /* noise estimate of L (NaN unknown) */
} cs_analyze_slice;

/* A point of a U-curve: one model at one context at one budget, replicates averaged. */
typedef struct cs_analyze_point {
    size_t budget, model;
    double T;                   /* context, tokens */
    double D;                   /* tokens (mean over replicates) */
    double L, A;                /* best-context and average loss (means) */
    double sigma;               /* standard deviation of L used by the bootstrap */
    size_t nrep;                /* runs averaged */
    size_t run;                 /* the first of them */
    double rank_avg, rank_best; /* ranks among the budget's points (NaN: no average loss) */
} cs_analyze_point;

/* A U-curve of one model at one budget: points[first .. first + n), ascending T. */
typedef struct cs_analyze_curve {
    size_t budget, model, first, n;
    cs_ucurve_opt opt; /* empirical optimum over T */
} cs_analyze_curve;

/* The joint analysis of one budget over N and T. */
typedef struct cs_analyze_joint {
    size_t budget;
    size_t first, n;       /* profile[first .. first + n): per T the model with the lowest
                              loss, ascending T (the joint U-curve) */
    cs_ucurve_opt profile; /* parabola optimum of that profile */
    cs_ucurve_joint opt;   /* quadratic-surface optimum over (ln N, ln T) */
} cs_analyze_joint;

/* The ranking check at one budget, over all its points (model SIZE_MAX) or one model's. */
typedef struct cs_analyze_rank {
    size_t budget, model;
    cs_ucurve_rank r; /* best_avg and best_best are indices into points */
} cs_analyze_rank;

/* An optimum from the fitted law, at one budget: per model size, or joint (model SIZE_MAX). */
typedef struct cs_analyze_law_row {
    size_t budget, model;
    double N, T, D, L; /* optimum; N is the model's for per-size rows */
    double N_lo, N_hi; /* percentile intervals over the fit's bootstrap samples; NaN without */
    double T_lo, T_hi;
    unsigned at_bound;  /* fit/optimal.h CS_OPTIMAL_AT_* flags of the estimate */
    size_t nsamples_ok; /* samples solved */
} cs_analyze_law_row;

typedef struct cs_analyze_law {
    bool fitted;       /* false: skipped or failed; see message */
    char message[512]; /* why not fitted, or a note on the optima */
    cs_law *law;       /* the ndt law */
    cs_dataset *ds;    /* its data: one point per finished run */
    cs_fit_result *fit;
    cs_boot_result *boot; /* NULL without bootstrap */
    double aspect;        /* d_model / n_layer of the joint optimum's shape family */
    double T_lo, T_hi;    /* context range searched, tokens */
    cs_analyze_law_row *rows;
    size_t nrows;
} cs_analyze_law;

/* Everything the analysis found; free with cs_analyze_result_free. */
typedef struct cs_analyze_result {
    cs_points *pts;           /* the runs */
    size_t *run_model;        /* (pts->nruns) model of each run; SIZE_MAX if not usable */
    cs_analyze_model *models; /* (nmodels) by N, then V */
    size_t nmodels;
    cs_analyze_budget *budgets; /* (nbudgets) ascending C */
    size_t nbudgets, nbudgets_ok;
    cs_analyze_slice *slices; /* (nslices) by budget, model, T, run */
    size_t nslices;
    cs_analyze_point *points; /* (npoints) by budget, model, T */
    size_t npoints;
    cs_analyze_curve *curves; /* (ncurves) by budget, model */
    size_t ncurves;
    cs_analyze_point *profile; /* (nprofile) joint U-curves */
    size_t nprofile;
    cs_analyze_joint *joints; /* (njoints) one per analysed budget */
    size_t njoints;
    cs_analyze_rank *ranks; /* (nranks) per budget: all points, then each model */
    size_t nranks;
    cs_analyze_law law;
    bool noise_given;         /* params.noise was set */
    double noise_fill;        /* sigma given to points without their own estimate (the median
                                 of the others); NaN when no point had one */
    size_t noise_filled;      /* points that got noise_fill */
    cs_analyze_params params; /* as run (budgets pointer cleared) */
    char **warnings;          /* (nwarnings) one line each */
    size_t nwarnings;
} cs_analyze_result;

/* Runs the analysis of the run logs in `dir` (p NULL: defaults) into *out (owned by the
 * caller). Runs lacking a field an analysis needs are left out of it and listed (per run, by
 * cs_points_missing_text of their flags); budgets no run reaches are kept with their status and
 * a warning; a law fit that fails is reported in law.message. Errors: those of cs_points_read
 * (empty or mixed directory: CS_EINPUT); CS_EINPUT when no run is usable (naming what the runs
 * lack), when no budget is reached (naming the largest compute reached and its run) or for a
 * budget that is not a positive finite number; CS_EINVAL for bad params; CS_ENOMEM. */
int cs_analyze_run(const char *dir, const cs_analyze_params *p, cs_analyze_result **out);

/* Frees a result. Accepts NULL. */
void cs_analyze_result_free(cs_analyze_result *r);

/* "nats/token" or "bits/byte": the unit of every loss of the result. */
const char *cs_analyze_unit(const cs_analyze_result *r);

/* The names of the CSV files cs_analyze_write_csv writes, NULL-terminated. Static. */
const char *const *cs_analyze_csv_names(void);

/* Writes the CSV files (docs/analysis.md lists their columns) into directory `dir`, creating
 * it if needed. Without force, nothing is written when any of the files exists (CS_EINPUT
 * naming it); each file is written atomically (core/afile.h). Also writes law_fit.json (the
 * `ctxscale fit --json` format, for `ctxscale optimal --fit`) when the law was fitted.
 * CS_EIO, CS_ENOMEM. */
int cs_analyze_write_csv(const cs_analyze_result *r, const char *dir, bool force);

/* Writes the whole result as one indented JSON document (docs/analysis.md) to f. CS_OK, CS_EIO,
 * CS_ENOMEM. */
int cs_analyze_write_json(const cs_analyze_result *r, FILE *f);

#ifdef __cplusplus
}
#endif
#endif /* CS_ANALYSIS_ANALYZE_H */
