/* core/runlog.h: writing run logs, the one-HDF5-file-per-training-run record that the trainer
 * writes, the analysis reads and users open with their own tools (h5py, h5dump).
 *
 * The schema ("ctxscale-runlog" version 1) is specified in docs/runlog.md; the reader is in
 * core/runlog_read.h. In short: root attributes identify the schema and the build, `config/`
 * holds one attribute per setting, `steps/` and `eval/` hold one chunked, extendible 1-D dataset
 * per column (plus `eval/contextwise`, `eval/bin_edges`), each group has an `n_rows` counter,
 * and `status/` holds the run state.
 *
 * Crash safety: every object is created before the file switches to SWMR (single writer,
 * multiple readers) mode; after that each append extends and writes every column, flushes them,
 * then writes and flushes the group's `n_rows` counter. A row is committed once its append call
 * returned; after kill -9 of the writer at any moment the file opens (SWMR read) and holds every
 * committed row. The file is built under "<path>.part" and renamed to <path> only once it is
 * complete and in SWMR mode (or closed), so <path> is either absent or a valid run log.
 *
 * Lifecycle of a training run:
 *   cs_runlog_create -> cs_runlog_set_str/_int/_double (config) -> cs_runlog_start_swmr
 *   -> cs_runlog_append_step / cs_runlog_append_eval ... -> cs_runlog_set_status -> close.
 * A resumed run calls cs_runlog_reopen instead of the first three. An importer writes whole
 * tables (cs_runlog_write_steps / _evals) and closes without SWMR.
 *
 * Tested in tests/unit/test_runlog.c, tests/cli/test_runlog_kill.sh (kill -9 at random moments,
 * via tests/helpers/runlog_writer.c) and tests/cli/test_runlog_h5py.sh; fuzzed by
 * fuzz/fuzz_runlog.c.
 */
#ifndef CS_CORE_RUNLOG_H
#define CS_CORE_RUNLOG_H

#include "core/table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CS_RUNLOG_SCHEMA         "ctxscale-runlog" /* root attribute `schema` */
#define CS_RUNLOG_SCHEMA_VERSION 1                 /* root attribute `schema_version` */

/* Bytes of the fixed-length `status/message` dataset, terminating NUL included; longer messages
 * are cut at a UTF-8 character boundary. */
#define CS_RUNLOG_MESSAGE_MAX 1024

/* Values of `status/code`. */
typedef enum cs_runlog_status_code {
    CS_RUNLOG_RUNNING = 0,  /* the writer is (or was, when it died) still training */
    CS_RUNLOG_FINISHED = 1, /* the run reached its planned end */
    CS_RUNLOG_DIVERGED = 2, /* stopped because the loss became NaN/Inf or exploded */
    CS_RUNLOG_FAILED = 3,   /* stopped by an error; the message says which */
} cs_runlog_status_code;

#define CS_RUNLOG_NSTATUS 4

/* "running", "finished", "diverged", "failed"; "unknown" for any other code. Static string. */
const char *cs_runlog_status_name(int code);

/* The code of a status name (exact, lowercase). CS_EINPUT ("status: expected running, finished,
 * diverged or failed, got "x"") when it is none of them. */
int cs_runlog_status_parse(const char *name, int *code);

/* One column of `steps/` or `eval/` as version 1 of the schema defines it. */
typedef struct cs_runlog_col {
    const char *name;        /* dataset name inside its group */
    bool is_int;             /* int64 (missing = -1) when true, f64 (missing = NaN) otherwise */
    const char *units;       /* the dataset's `units` attribute */
    const char *description; /* the dataset's `description` attribute */
} cs_runlog_col;

/* The schema's columns of `steps/` (in file order) and their count (*n). Static array. */
const cs_runlog_col *cs_runlog_step_cols(size_t *n);

/* The schema's 1-D columns of `eval/` (in file order) and their count (*n). Static array. */
const cs_runlog_col *cs_runlog_eval_cols(size_t *n);

/* Kind of a config value. */
typedef enum cs_runlog_type {
    CS_RUNLOG_STR = 0,    /* variable-length UTF-8 string */
    CS_RUNLOG_INT = 1,    /* int64 */
    CS_RUNLOG_DOUBLE = 2, /* IEEE f64 */
} cs_runlog_type;

/* A config key the rest of ctxscale relies on (docs/runlog.md lists them with units). The
 * writer insists that these keys get their listed type; any other key is free. */
typedef struct cs_runlog_key {
    const char *name;
    cs_runlog_type type;
    const char *units;
    const char *description;
} cs_runlog_key;

/* The well-known config keys and their count (*n). Static array. */
const cs_runlog_key *cs_runlog_config_keys(size_t *n);

/* Names of the well-known config keys the analysis reads. */
#define CS_RUNLOG_KEY_N_PARAMS             "n_params"             /* int: all parameters */
#define CS_RUNLOG_KEY_N_PARAMS_NONEMBED    "n_params_nonembed"    /* int: N */
#define CS_RUNLOG_KEY_VOCAB                "vocab"                /* int: V */
#define CS_RUNLOG_KEY_CONTEXT              "context"              /* int: T, training context */
#define CS_RUNLOG_KEY_FLOPS_FORMULA        "flops_formula"        /* str */
#define CS_RUNLOG_KEY_DATA_BYTES_PER_TOKEN "data_bytes_per_token" /* double */

/* Log-spaced integer bin edges over context positions 1..extrap*context (1-based; positions
 * past the training context T = `context` are included for extrapolation studies).
 *
 * Bin b covers positions [edges[b], edges[b+1]); edges[0] = 1, edges[n] = extrap*context + 1,
 * strictly increasing, so every bin holds at least one position. Give either n_bins > 0 (that
 * many bins, fewer only when there are fewer positions) or bins_per_octave > 0 (n =
 * ceil(bins_per_octave * log2(extrap*context + 1))), not both. The ideal edges (P+1)^(b/n) are
 * rounded and then pushed apart where rounding made them collide, so the first bins hold single
 * positions and later ones grow geometrically.
 *
 * *edges (n + 1 values) is allocated here and owned by the caller (free); *n_out receives n.
 * CS_EINVAL when context < 1, extrap < 1, the product exceeds 2^40, or the bin count arguments
 * are not exactly one positive; CS_ENOMEM. */
int cs_runlog_bin_edges(int64_t context, int64_t extrap, double bins_per_octave, size_t n_bins,
                        int64_t **edges, size_t *n_out);

/* Settings of a new run log. */
typedef struct cs_runlog_params {
    bool force;               /* replace an existing file at the path (default false) */
    int64_t context;          /* T in tokens, attribute `eval/context`; -1 unknown (default) */
    const int64_t *bin_edges; /* (n_bins + 1) positions, first 1, strictly increasing (e.g. from
                                 cs_runlog_bin_edges); copied. NULL when n_bins is 0. */
    size_t n_bins;            /* contextwise bins; 0 (default): no eval/contextwise, bin_edges */
    size_t chunk_rows;        /* rows per chunk of the steps datasets (default 512) */
} cs_runlog_params;

cs_runlog_params cs_runlog_default_params(void);

/* One row of `steps/`: the state after optimizer step `step`. Unknown values: -1 / NaN. */
typedef struct cs_runlog_step {
    int64_t step;           /* optimizer steps completed, >= 0, strictly increasing */
    int64_t tokens;         /* training tokens seen, repetition included (D) */
    int64_t tokens_unique;  /* distinct training tokens seen */
    double epoch;           /* passes over the training set (tokens / set size) */
    double flops;           /* training FLOPs so far (C), FLOP */
    double wall_s;          /* wall-clock time since the run started, s (resumes included) */
    double loss_train;      /* mean training loss of the step's batch, nats/token */
    double loss_train_best; /* same batch, positions in the last 5% of the context, nats/token */
    double lr;              /* learning rate used by this step */
    double grad_norm;       /* global L2 norm of the gradient before clipping */
    double tokens_per_s;    /* training throughput over the last logging interval, tokens/s */
} cs_runlog_step;

/* A step row with every value unknown (-1 / NaN). */
cs_runlog_step cs_runlog_step_unknown(void);

/* One row of `eval/`. Unknown values: -1 / NaN. */
typedef struct cs_runlog_eval {
    int64_t step;              /* optimizer steps completed at the eval, non-decreasing */
    int64_t tokens;            /* training tokens seen at the eval */
    double flops;              /* training FLOPs at the eval, FLOP */
    double loss_val;           /* mean validation loss over positions 1..T, nats/token */
    double loss_val_best;      /* validation loss over the last 5% of positions, nats/token */
    double loss_val_bpb;       /* loss_val in bits per byte of raw text */
    const double *contextwise; /* (n_bins) mean loss per bin, nats/token; NULL: all NaN */
} cs_runlog_eval;

/* An eval row with every value unknown and no contextwise row. */
cs_runlog_eval cs_runlog_eval_unknown(void);

typedef struct cs_runlog cs_runlog;

/* Creates a run log for `path` with every group and dataset, status "running", root attributes
 * (schema, schema_version, tool_version, git_revision, created_utc) and no rows. The file lives
 * at "<path>.part" until cs_runlog_start_swmr or cs_runlog_close moves it to `path`.
 * CS_EINPUT: path exists and !p->force ("<path>: exists; use --force to overwrite"); CS_EINVAL:
 * bad bin edges or p NULL; CS_EIO: HDF5 could not create the file (message names it); CS_ENOMEM.
 * *out is owned by the caller (cs_runlog_close or cs_runlog_abort). */
int cs_runlog_create(const char *path, const cs_runlog_params *p, cs_runlog **out);

/* Reopens an existing run log (finished, or killed while running) to continue a resumed run:
 * keeps config, created_utc, bins, every steps row with step <= resume_step and every eval row
 * with step <= resume_step (later rows are dropped), sets root attributes resumed_utc and
 * resumed_step, status "running", and returns a log already in SWMR mode. The new file is
 * built under "<path>.part" and renamed over `path` only when complete, so a failure leaves the
 * old log untouched. The writer of the old log must no longer run.
 * Errors: those of cs_runlog_read_open (CS_EIO missing file, CS_EINPUT not a run log or a newer
 * schema); CS_EINVAL resume_step < 0; CS_EINPUT steps in the old file not increasing; CS_EIO. */
int cs_runlog_reopen(const char *path, int64_t resume_step, cs_runlog **out);

/* Sets config attribute `key` (overwriting an earlier value of that key). Only before
 * cs_runlog_start_swmr (CS_EINVAL after). CS_EINPUT: key empty, longer than 255 bytes, holding
 * '/' or a control character, a name reserved for summary columns (docs/runlog.md), or a
 * well-known key given the wrong type; CS_EIO on HDF5 failure. Strings are stored as
 * variable-length UTF-8 and must not be NULL. */
int cs_runlog_set_str(cs_runlog *rl, const char *key, const char *value);
int cs_runlog_set_int(cs_runlog *rl, const char *key, int64_t value);
int cs_runlog_set_double(cs_runlog *rl, const char *key, double value);

/* Switches the file to SWMR mode (no new objects or attributes from here on) and moves it from
 * "<path>.part" to `path` (refusing, without force, a file that appeared there meanwhile:
 * CS_EINPUT). From now on SWMR readers may open it while it grows. CS_EINVAL if already
 * started; CS_EIO on HDF5 or rename failure. */
int cs_runlog_start_swmr(cs_runlog *rl);

/* Appends one steps row and commits it (extend, write, flush every column, then the `steps/
 * n_rows` counter). CS_EINVAL: s->step < 0 or not greater than the previous row's step; CS_EIO
 * on HDF5 failure (the row is then not committed; a later append may retry). */
int cs_runlog_append_step(cs_runlog *rl, const cs_runlog_step *s);

/* Appends one eval row (and its contextwise row) and commits it like cs_runlog_append_step.
 * CS_EINVAL: e->step < 0 or smaller than the previous eval's step; CS_EIO. */
int cs_runlog_append_eval(cs_runlog *rl, const cs_runlog_eval *e);

/* Sets the run status (a cs_runlog_status_code) and its message (NULL = ""; cut to
 * CS_RUNLOG_MESSAGE_MAX - 1 bytes) and flushes them. Works before and after SWMR start.
 * CS_EINVAL: unknown code; CS_EIO. */
int cs_runlog_set_status(cs_runlog *rl, int code, const char *message);

/* Appends every row of `t` to `steps/` in one block (for importers and resumes). Numeric
 * columns named like a schema column fill it (int columns: whole numbers, NaN -> -1); other
 * numeric columns become extra f64 datasets `steps/<name>` (only before SWMR start: CS_EINVAL
 * after); text columns are ignored; schema columns absent from `t` get missing values.
 * CS_EINPUT, naming t's source, line and column: no numeric "step" column, a missing or
 * negative step, steps not strictly increasing (also against rows already in the log), a
 * non-whole value in an int column, a column name holding '/'; CS_EIO; CS_ENOMEM. */
int cs_runlog_write_steps(cs_runlog *rl, const cs_table *t);

/* As cs_runlog_write_steps for `eval/` (steps non-decreasing); contextwise rows are NaN. */
int cs_runlog_write_evals(cs_runlog *rl, const cs_table *t);

/* Committed rows of `steps/` and `eval/`. */
size_t cs_runlog_n_steps(const cs_runlog *rl);
size_t cs_runlog_n_evals(const cs_runlog *rl);

/* The final path of the log (as given to create/reopen). */
const char *cs_runlog_path(const cs_runlog *rl);

/* Closes the log and frees rl (accepts NULL: CS_OK). A log never started in SWMR mode is moved
 * from "<path>.part" to `path` now. The status is left as it is (set it first). Returns CS_EIO
 * when HDF5 failed to flush or close, or the rename failed (CS_EINPUT: a file appeared at path
 * meanwhile and !force); rl is freed in every case. */
int cs_runlog_close(cs_runlog *rl);

/* Gives up on the log: a log not yet moved to `path` is deleted; one already there is closed
 * as it is (its committed rows stay). Frees rl; accepts NULL. For error paths. */
void cs_runlog_abort(cs_runlog *rl);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_RUNLOG_H */
