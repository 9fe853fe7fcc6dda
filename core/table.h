/* core/table.h: an in-memory table of named columns, numeric (double) or text, with the source
 * file and line of every row kept so that later checks can name them. It is what the CSV reader
 * fills, what the run-log reader produces (one row per step or per run) and what the fitter
 * consumes. Tested in tests/unit/test_table.c.
 */
#ifndef CS_CORE_TABLE_H
#define CS_CORE_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_table cs_table;

typedef enum cs_col_type {
    CS_COL_NUM = 0, /* doubles; a missing value is NaN */
    CS_COL_STR = 1, /* UTF-8 strings; a missing value is "" */
} cs_col_type;

/* Flags for cs_table_require_num: what every value of the column must be. */
enum {
    CS_REQ_FINITE = 1u << 0,      /* no NaN (missing) or Inf */
    CS_REQ_POSITIVE = 1u << 1,    /* > 0 (implies finite) */
    CS_REQ_NONNEGATIVE = 1u << 2, /* >= 0 (implies finite) */
};

/* A new empty table. `source` names where rows come from (a file path, "<stdin>", a run-log
 * directory) and is copied; it prefixes error messages. NULL on allocation failure (cs_fail
 * CS_ENOMEM). */
cs_table *cs_table_alloc(const char *source);

/* Frees the table and everything in it. Accepts NULL. */
void cs_table_free(cs_table *t);

/* Adds a column; its cells in existing rows are NaN / "". Writes its index to *idx (may be
 * NULL). CS_EINPUT if a column of that name exists ("<source>: duplicate column "name"") or the
 * name is empty, CS_ENOMEM. */
int cs_table_add_col(cs_table *t, const char *name, cs_col_type type, size_t *idx);

/* Appends a row of missing values (NaN / ""); `line` is its line in the source (0 if none).
 * CS_ENOMEM on failure. The new row's index is cs_table_nrows(t) - 1. */
int cs_table_append_row(cs_table *t, size_t line);

size_t cs_table_nrows(const cs_table *t);
size_t cs_table_ncols(const cs_table *t);
const char *cs_table_source(const cs_table *t);
const char *cs_table_col_name(const cs_table *t, size_t col);
cs_col_type cs_table_col_type(const cs_table *t, size_t col);

/* Source line of row `row` (1-based line of the file where the row starts; 0 if unknown). */
size_t cs_table_row_line(const cs_table *t, size_t row);

/* Index of the column named `name`, or -1 if there is none. Names match exactly. */
long cs_table_find(const cs_table *t, const char *name);

/* Cell access; indices must be in range and the column of the right type (CS_ASSERT). */
double cs_table_num(const cs_table *t, size_t row, size_t col);
const char *cs_table_str(const cs_table *t, size_t row, size_t col);
void cs_table_set_num(cs_table *t, size_t row, size_t col, double v);
/* Copies `s`. CS_ENOMEM on failure. */
int cs_table_set_str(cs_table *t, size_t row, size_t col, const char *s);

/* The whole numeric column as a contiguous array of nrows doubles, owned by the table, valid
 * until the next row or column is added. */
const double *cs_table_num_col(const cs_table *t, size_t col);

/* Looks up column `name` and checks it is numeric and every value satisfies `flags`; writes its
 * index to *col (may be NULL). CS_EINPUT with a message naming the source, the column and, for a
 * bad value, the line (or "row K" when the row has no line) and the value:
 *   "runs.csv: missing column "loss" (columns: a, b, c)"
 *   "runs.csv:17: column "loss": expected a number, got "abc""
 *   "runs.csv:12: column "N": expected a positive number, got -3"
 *   "runs.csv:9: column "loss": expected a finite number, got an empty value or NaN"
 * (">= 0" flags read "expected a number >= 0"). */
int cs_table_require_num(const cs_table *t, const char *name, unsigned flags, size_t *col);

/* Converts a text column to numeric when every non-empty cell parses as a number (empty → NaN;
 * "nan"/"inf" are accepted as such). Returns CS_OK (converted) or CS_EINPUT naming the first
 * cell that does not parse; the column is unchanged then. No-op on numeric columns. */
int cs_table_col_to_num(cs_table *t, size_t col);

/* Renames column `col`. CS_EINPUT when another column already has `name` or it is empty,
 * CS_ENOMEM. */
int cs_table_rename_col(cs_table *t, size_t col, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_TABLE_H */
