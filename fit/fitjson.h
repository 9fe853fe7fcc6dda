/* fit/fitjson.h: the fit result as JSON (written and read with jansson) — what `ctxscale fit
 * --json` writes and what `ctxscale optimal --fit` and other programs read back: the law
 * (built-in name or formula), the method, a summary of the data, every parameter with its
 * estimate, standard errors and percentile interval, the derived quantities, the multi-start
 * statistics, the residual summary and likelihood, the bootstrap samples, and the warnings.
 * The schema is described in docs/laws.md ("Fitting: the JSON result"). Two optional parts
 * came later and are read when present: "holdout" (scores on held-out points) and "selection"
 * (the candidates of `--law auto`); files without them read as before.
 *
 * Numbers are written with 17 significant digits, so reading gives back the same doubles.
 * JSON has no NaN: a missing value (no bootstrap, a failed replicate) is written as null and
 * read back as NaN.
 *
 * Tested in tests/unit/test_fit.c (round trip, malformed files).
 */
#ifndef CS_FIT_FITJSON_H
#define CS_FIT_FITJSON_H

#include "fit/bootstrap.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/holdout.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the format written; the reader takes this version only. */
#define CS_FITJSON_VERSION 1

typedef struct cs_fitjson_param {
    char *name;
    double estimate; /* native parametrisation */
    double se;       /* bootstrap standard error, NaN without a bootstrap */
    double lo;       /* percentile interval at fitjson.level, NaN without a bootstrap */
    double hi;
    double se_asym; /* LSQ asymptotic standard error, else NaN */
    bool positive;  /* CS_LAW_POSITIVE */
    double grid_lo; /* the starting grid that was used */
    double grid_hi;
    size_t grid_n;
} cs_fitjson_param;

typedef struct cs_fitjson_derived {
    char *name;
    double estimate; /* at the point estimate */
    double se;       /* bootstrap, NaN without one */
    double lo;
    double hi;
} cs_fitjson_derived;

/* One candidate law of a choice by cross-validation (`ctxscale fit --law auto`). */
typedef struct cs_fitjson_candidate {
    char *law;           /* built-in name or formula */
    double mean_abs_err; /* extrapolation error (fit/compare.h), NaN when not scored */
    double max_abs_err;
    size_t folds_failed;
    double daic; /* AIC difference to the best, NaN without one */
} cs_fitjson_candidate;

typedef struct cs_fitjson_var {
    char *name;   /* law variable, or the target */
    char *origin; /* "column \"Model Size\"", "derived C/(6*N)" */
    double min;   /* over the fitted points */
    double max;
} cs_fitjson_var;

/* A fit result as stored. Every pointer is owned by the struct (cs_fitjson_free). */
typedef struct cs_fitjson {
    int version; /* CS_FITJSON_VERSION */
    /* the law */
    char *law_name;       /* built-in name, or NULL for a formula */
    char *formula;        /* the formula (for a built-in, its table formula) */
    char *target;         /* predicted quantity, e.g. "L" */
    char **extra_derived; /* (nextra) derived quantities added to the law, "NAME = expr" */
    size_t nextra;
    /* the method */
    int method; /* cs_fit_method */
    double delta;
    bool log_space;
    /* the data */
    char *source;
    size_t n_points;
    size_t n_read;
    size_t n_filtered;
    size_t n_dropped;
    cs_fitjson_var *vars; /* (nvars) law variables in law order */
    size_t nvars;
    cs_fitjson_var target_var; /* the target */
    /* the estimates */
    cs_fitjson_param *params; /* (nparams) in the law's parameter order */
    size_t nparams;
    cs_fitjson_derived *derived; /* (nderived) in the law's order */
    size_t nderived;
    /* the optimisation */
    double objective;
    size_t n_starts;
    size_t n_converged;
    size_t n_failed;
    size_t n_at_best;
    size_t best_start;
    double scale; /* HUBER_LIK fitted scale, else NaN */
    double rmse;
    double max_abs_resid;
    double median_abs_resid;
    double nll; /* NaN where not valid */
    double aic;
    double bic;
    double cond; /* inf when singular */
    /* the bootstrap (nboot = 0 when none was run) */
    size_t nboot;
    uint64_t seed;
    double level;
    bool by_group;
    size_t boot_failed;
    double *boot; /* (nboot, nparams) row-major; NaN rows for failed refits */
    /* warnings of the fit and of the bootstrap */
    char **warnings; /* (nwarnings) */
    size_t nwarnings;
    /* optional parts, absent from files written before they existed */
    cs_holdout_result *holdout;       /* scores on held-out points (fit --holdout), or NULL */
    char *select_cv;                  /* how the law was chosen (fit --law auto): the scheme, */
    char *select_key;                 /* the ordering key */
    size_t select_folds;              /* and the folds; NULL/0 when the law was given */
    cs_fitjson_candidate *candidates; /* (ncandidates) best first */
    size_t ncandidates;
} cs_fitjson;

/* Gathers a fit into a new cs_fitjson: `law` as fitted (with its derived quantities), the
 * texts of the derived quantities that were added to it (extra, nextra; may be NULL/0), the
 * data set, the fit and the bootstrap (NULL when none was run). *out is owned by the caller.
 * CS_EINVAL when the pieces do not belong together, CS_ENOMEM. */
int cs_fitjson_from_fit(const cs_law *law, const char *const *extra, size_t nextra,
                        const cs_dataset *ds, const cs_fit_result *fit, const cs_boot_result *boot,
                        cs_fitjson **out);

/* Writes fj as an indented JSON document (trailing newline) to f. CS_OK, CS_EIO when writing
 * fails, CS_ENOMEM. */
int cs_fitjson_write(FILE *f, const cs_fitjson *fj);

/* Reads a fit result from `path` ("-" = standard input) into *out (cs_fitjson_free). Errors:
 * CS_EIO when the file cannot be read; CS_EINPUT naming the path, and the line and column for
 * malformed JSON, or the field ("parameters[2].estimate") for a missing field, a value of the
 * wrong type, a wrong "format" or an unsupported "version", or inconsistent sizes (bootstrap
 * rows of another length than the parameters); CS_ENOMEM. */
int cs_fitjson_read(const char *path, cs_fitjson **out);

/* As cs_fitjson_read from the `len` bytes of `text`, named `name` in messages. */
int cs_fitjson_read_mem(const char *text, size_t len, const char *name, cs_fitjson **out);

/* Frees a result. NULL is allowed. */
void cs_fitjson_free(cs_fitjson *fj);

/* Rebuilds the law of a result: the built-in (law_name) or the formula with the variables,
 * then the positive flags and the extra derived quantities, so that parameter and derived
 * indices match the stored ones. *out is owned by the caller. CS_EINPUT when the stored law no
 * longer builds or its parameters differ from the stored ones; CS_ENOMEM. */
int cs_fitjson_law(const cs_fitjson *fj, cs_law **out);

/* Index of the parameter called `name`, or -1. */
long cs_fitjson_param_index(const cs_fitjson *fj, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_FITJSON_H */
