/* analysis/points.h: a directory of run logs (docs/runlog.md) turned into what the
 * context-scaling analysis needs: per run its model size N, context T, vocabulary V, FLOPs per
 * token and its loss trajectory — training FLOPs C, tokens D, best-context loss and average loss
 * (over positions 1..T) per logged row, in one unit for every run (nats per token, or bits per
 * byte when the runs' vocabularies differ) — plus the checks that make losses comparable across
 * runs (one data set, one FLOPs formula, one schema version) and the list of runs that lack a
 * field, with the fields they lack. Also the loss of a run at a given compute (interpolated
 * along its trajectory), its measurement noise, and automatic compute budgets.
 *
 * Method and columns: docs/analysis.md. Tested in tests/unit/test_analyze.c.
 */
#ifndef CS_ANALYSIS_POINTS_H
#define CS_ANALYSIS_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which rows make a run's trajectory. */
typedef enum cs_points_source {
    CS_POINTS_EVAL = 0,  /* eval rows: loss_val_best (best-context), loss_val (average) */
    CS_POINTS_STEPS = 1, /* steps rows: loss_train_best, loss_train */
} cs_points_source;

/* Unit of every loss of the analysis. */
typedef enum cs_points_metric {
    CS_POINTS_AUTO = 0, /* nats when the runs share one vocabulary, else bits per byte */
    CS_POINTS_NATS = 1, /* nats per token */
    CS_POINTS_BPB = 2,  /* bits per byte of raw text: loss / ln 2 / data_bytes_per_token */
} cs_points_metric;

/* Fields a run can lack (cs_points_run.missing). */
enum {
    CS_POINTS_NO_N = 1u << 0,      /* config n_params_nonembed (nor n_layer, d_model, n_head) */
    CS_POINTS_NO_T = 1u << 1,      /* config context (nor eval/context) */
    CS_POINTS_NO_C = 1u << 2,      /* flops in the rows (nor tokens with config flops_per_token) */
    CS_POINTS_NO_LOSS = 1u << 3,   /* no row with a best-context loss (and a known C) */
    CS_POINTS_NO_BPT = 1u << 4,    /* config data_bytes_per_token, needed for bits per byte */
    CS_POINTS_STATUS = 1u << 5,    /* the run diverged or failed */
    CS_POINTS_NO_AVG = 1u << 6,    /* average loss (loss_val / loss_train): rankings only */
    CS_POINTS_NO_D = 1u << 7,      /* tokens of the last row: the law fit only */
    CS_POINTS_UNFINISHED = 1u << 8 /* status running (killed or in progress): the law fit only */
};

/* The flags that leave a run out of every analysis. */
#define CS_POINTS_EXCLUDE                                                                          \
    (CS_POINTS_NO_N | CS_POINTS_NO_T | CS_POINTS_NO_C | CS_POINTS_NO_LOSS | CS_POINTS_NO_BPT |     \
     CS_POINTS_STATUS)

/* Parameters; start from cs_points_default_params(). */
typedef struct cs_points_params {
    int source;       /* cs_points_source; default CS_POINTS_EVAL */
    int metric;       /* cs_points_metric; default CS_POINTS_AUTO */
    const char *data; /* keep only runs whose config data_name is this; NULL (default): all,
                         and then they must share one data set */
} cs_points_params;

cs_points_params cs_points_default_params(void);

/* One run. Losses are in the metric of the whole set (cs_points.metric). */
typedef struct cs_points_run {
    char *path;              /* the run log */
    int status;              /* cs_runlog_status_code */
    double N;                /* non-embedding parameters; NaN unknown */
    double T;                /* training context, tokens; NaN unknown */
    double V;                /* vocabulary, tokens; NaN unknown */
    double n_layer, d_model; /* shape; NaN unknown */
    double bytes_per_token;  /* config data_bytes_per_token; NaN unknown */
    double flops_per_token;  /* C / D of the last row (or config flops_per_token); NaN unknown */
    size_t n;                /* trajectory rows: finite C > 0 and best-context loss, by C */
    double *C;               /* (n) training FLOPs so far, strictly increasing */
    double *D;               /* (n) training tokens so far; NaN unknown */
    double *L;               /* (n) best-context loss */
    double *A;               /* (n) average loss over positions 1..T; NaN unknown */
    unsigned missing;        /* CS_POINTS_NO_* flags */
} cs_points_run;

/* The runs of a directory. */
typedef struct cs_points {
    char *dir;           /* the directory */
    cs_points_run *runs; /* (nruns) sorted by path; runs of other data sets are not here */
    size_t nruns;
    size_t nused;        /* runs without a CS_POINTS_EXCLUDE flag */
    size_t nother_data;  /* run logs left out because their data_name is not p->data */
    int source;          /* cs_points_source */
    int metric;          /* CS_POINTS_NATS or CS_POINTS_BPB (resolved) */
    char *data_name;     /* the runs' data set; NULL when they do not say */
    char *flops_formula; /* the runs' FLOPs formula; NULL when they do not say */
} cs_points;

/* Reads every run log of `dir` (core/runlog_read.h's cs_runlog_read_list) into *out (owned by
 * the caller, cs_points_free). Runs lacking a field keep a flag for it (cs_points_missing_text
 * says which); they are not an error. Errors: CS_EINPUT when dir is not a directory or holds no
 * run log, a file is not a readable run log (the reader's message, naming it), the runs mix
 * schema versions, data sets (without p->data; the message lists them) or FLOPs formulas, or
 * p->data matches no run; CS_EIO; CS_ENOMEM. */
int cs_points_read(const char *dir, const cs_points_params *p, cs_points **out);

/* Frees what cs_points_read returned. Accepts NULL. */
void cs_points_free(cs_points *pts);

/* True when the run has none of the CS_POINTS_EXCLUDE flags. */
bool cs_points_usable(const cs_points_run *r);

/* Writes the fields named by flags (CS_POINTS_NO_*) as text into buf (n bytes), e.g.
 * "config n_params_nonembed (or n_layer, d_model, n_head); eval/loss_val_best", naming the
 * columns of `source`. */
void cs_points_missing_text(unsigned flags, int source, char *buf, size_t n);

/* A run's values at compute C (FLOPs): the trajectory interpolated linearly in ln C (D in
 * (ln C, ln D)), never extrapolated, except that a C within a factor `slack` (>= 1) above the
 * last row takes the last row's values. With final_only, only a last row within the factor
 * slack of C (either side) counts. Writes L, A, D (A, D NaN when unknown) and returns true when
 * the run reaches C; false (nothing written) otherwise. */
bool cs_points_at(const cs_points_run *r, double C, double slack, bool final_only, double *L,
                  double *A, double *D);

/* Measurement noise of a run's best-context loss near compute C: the residual standard
 * deviation of a least-squares cubic in ln C over the 7 rows nearest to C (6 at least: the
 * residuals have n - 4 degrees of freedom; a cubic follows a power-law loss curve over such a
 * window to well below typical noise). NaN with fewer than 6 rows. */
double cs_points_noise(const cs_points_run *r, double C);

/* Automatic budgets: the final compute of the usable runs, grouped where neighbours in
 * log10 C differ by at most tol; each group's budget is its smallest final compute, so that
 * every run of the group reaches it. *budgets (ascending, *n values) is owned by the caller.
 * CS_EINPUT when no run is usable; CS_ENOMEM. */
int cs_points_budgets_auto(const cs_points *pts, double tol, double **budgets, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* CS_ANALYSIS_POINTS_H */
