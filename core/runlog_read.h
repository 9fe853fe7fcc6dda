/* core/runlog_read.h: reading run logs (the format of docs/runlog.md, written by core/runlog.h):
 * validating a file, its config attributes, its steps and eval rows as cs_tables, the
 * contextwise loss matrix with its bin edges, one summary row per run, and finding the run logs
 * of a directory.
 *
 * A reader works on finished logs, on logs being written right now (SWMR) and on logs whose
 * writer was killed: it opens the file normally and, when HDF5 refuses because the file is
 * still marked open for writing, again in SWMR-read mode. The committed rows of a group are
 * min(n_rows, length of every column); the counts are those at the time of opening.
 *
 * Every failure names the file: CS_EINPUT when it does not exist, CS_EIO when it cannot be opened,
 * CS_EINPUT when it is not a run log ("<path>: not an HDF5 run log ..."), a newer schema ("<path>:
 * run-log schema version 7 is newer than this ctxscale understands (1); upgrade ctxscale") or
 * damaged. Tested in tests/unit/test_runlog.c; fuzzed by fuzz/fuzz_runlog.c.
 */
#ifndef CS_CORE_RUNLOG_READ_H
#define CS_CORE_RUNLOG_READ_H

#include "core/runlog.h"
#include "core/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_runlog_reader cs_runlog_reader;

/* One config attribute. Integer attributes of any width read as CS_RUNLOG_INT, float ones as
 * CS_RUNLOG_DOUBLE, string ones (fixed or variable length) as CS_RUNLOG_STR; attributes of
 * other types or shapes (written by other tools) are skipped. */
typedef struct cs_runlog_kv {
    const char *key;     /* attribute name */
    cs_runlog_type type; /* which of s, i, d holds the value */
    const char *s;       /* CS_RUNLOG_STR: the string; NULL otherwise */
    int64_t i;           /* CS_RUNLOG_INT */
    double d;            /* CS_RUNLOG_DOUBLE; also set (converted) for CS_RUNLOG_INT */
} cs_runlog_kv;

/* The contextwise loss of every eval row (cs_runlog_read_contextwise). */
typedef struct cs_runlog_ctxwise {
    size_t n_evals;     /* rows: committed eval rows */
    size_t n_bins;      /* columns; 0 when the log has no contextwise data */
    int64_t context;    /* training context T, tokens (eval/context); -1 unknown */
    double *loss;       /* (n_evals, n_bins) row-major, nats/token; NaN: no data */
    int64_t *bin_edges; /* (n_bins + 1) 1-based positions; bin b is [edge b, edge b+1) */
    int64_t *step;      /* (n_evals) eval/step of each row */
} cs_runlog_ctxwise;

/* Opens and validates the run log at `path` and reads its root attributes, config, status and
 * committed row counts. *out is owned by the caller (cs_runlog_read_close).
 * CS_EINPUT: no such file; CS_EIO: the file cannot be opened (permission); CS_EINPUT: not a regular
 * file, "not an HDF5 run log" (empty, no HDF5 signature, truncated or damaged, or still being
 * created by a writer that has not reached SWMR mode), "not a ctxscale run log" (another HDF5
 * file), a schema version newer than CS_RUNLOG_SCHEMA_VERSION, or a required object missing or of
 * the wrong type (the message names it); CS_ENOMEM. */
int cs_runlog_read_open(const char *path, cs_runlog_reader **out);

/* Closes the file and frees r. Accepts NULL. */
void cs_runlog_read_close(cs_runlog_reader *r);

/* The path given to cs_runlog_read_open. */
const char *cs_runlog_read_path(const cs_runlog_reader *r);

/* The file's schema_version (1 .. CS_RUNLOG_SCHEMA_VERSION). */
int64_t cs_runlog_read_schema_version(const cs_runlog_reader *r);

/* A root string attribute ("schema", "tool_version", "git_revision", "created_utc",
 * "resumed_utc"), or NULL when the file lacks it. Owned by r. */
const char *cs_runlog_read_meta(const cs_runlog_reader *r, const char *name);

/* status/code (a cs_runlog_status_code; other values are passed through) and status/message
 * (owned by r), as read at open time. */
int cs_runlog_read_status(const cs_runlog_reader *r);
const char *cs_runlog_read_status_message(const cs_runlog_reader *r);

/* The config attributes, in the order they were set (name order for files without creation
 * order). Entries are owned by r. */
size_t cs_runlog_read_n_config(const cs_runlog_reader *r);
const cs_runlog_kv *cs_runlog_read_config(const cs_runlog_reader *r, size_t i);

/* The config attribute named `key`, or NULL. */
const cs_runlog_kv *cs_runlog_read_config_find(const cs_runlog_reader *r, const char *key);

/* Committed rows of steps/ and eval/ at open time. */
size_t cs_runlog_read_n_steps(const cs_runlog_reader *r);
size_t cs_runlog_read_n_evals(const cs_runlog_reader *r);

/* The committed steps rows as a new table (*out, owned by the caller; source "<path>:/steps"):
 * one numeric column per 1-D numeric dataset of steps/ (schema columns in file order, then any
 * extra ones), one row per committed step. Int columns convert to double with -1 -> NaN, so
 * every missing value is NaN. CS_EINPUT (damaged dataset, named), CS_ENOMEM. */
int cs_runlog_read_steps(const cs_runlog_reader *r, cs_table **out);

/* As cs_runlog_read_steps for eval/ (source "<path>:/eval"); eval/contextwise and
 * eval/bin_edges are not columns (see cs_runlog_read_contextwise). */
int cs_runlog_read_evals(const cs_runlog_reader *r, cs_table **out);

/* The contextwise matrix, bin edges, training context and eval steps (*out owned by the
 * caller: cs_runlog_read_ctxwise_free). A log without contextwise data gives n_bins 0 (loss
 * and bin_edges NULL). CS_EINPUT when contextwise and bin_edges disagree in shape or the edges
 * do not increase; CS_ENOMEM. */
int cs_runlog_read_contextwise(const cs_runlog_reader *r, cs_runlog_ctxwise **out);

/* Frees what cs_runlog_read_contextwise returned. Accepts NULL. */
void cs_runlog_read_ctxwise_free(cs_runlog_ctxwise *cw);

/* Appends one summary row for the run to t, adding missing columns (existing rows get NaN /
 * ""). Columns: path, status, status_message, created_utc, tool_version, git_revision (text);
 * every config key (numeric or text by its type; a key that collides with another summary
 * column is named "config_<key>"); n_steps, n_evals; the last committed steps row (step,
 * tokens, tokens_unique, epoch, flops, wall_s, loss_train, loss_train_best, lr, grad_norm,
 * tokens_per_s and any extra column); the last eval row's step as step_eval and its loss_val,
 * loss_val_best, loss_val_bpb. A value whose type disagrees with an existing column is stored
 * as NaN (numeric column) or formatted with %.17g (text column). CS_EINPUT, CS_ENOMEM. */
int cs_runlog_read_summary(const cs_runlog_reader *r, cs_table *t);

/* Opens each of paths[0..n) and appends its summary row to a new table (*out, owned by the
 * caller, source `source`). The first file that fails stops the read with its error. */
int cs_runlog_read_summaries(const char *const *paths, size_t n, const char *source,
                             cs_table **out);

/* The run logs of directory `dir`: regular files named *.h5 directly in dir or in its
 * immediate subdirectories (runs/<name>.h5 and runs/<name>/run.h5 both work), skipping names
 * that start with '.'; sorted by path (strcmp). *paths (n entries, "dir/name" or
 * "dir/sub/name") is owned by the caller: cs_runlog_read_list_free. CS_EIO when dir cannot be
 * read; CS_ENOMEM. An empty list is not an error. */
int cs_runlog_read_list(const char *dir, char ***paths, size_t *n);

/* Frees a list from cs_runlog_read_list. Accepts NULL. */
void cs_runlog_read_list_free(char **paths, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_RUNLOG_READ_H */
