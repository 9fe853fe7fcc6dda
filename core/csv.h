/* core/csv.h: CSV reading into a cs_table and writing from one (RFC 4180: comma-separated,
 * fields quoted with ", quotes doubled inside, newlines allowed in quoted fields, CRLF or LF).
 * Every error names the file, the line (and field) and what was expected. Numbers are written
 * with up to 17 significant digits so that reading them back gives the same doubles, bit for bit.
 * Tested in tests/unit/test_csv.c; fuzzed by fuzz/fuzz_csv.c.
 */
#ifndef CS_CORE_CSV_H
#define CS_CORE_CSV_H

#include "core/table.h"

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_csv_params {
    char delim;       /* field separator; ',' by default */
    bool allow_empty; /* accept a header with no data rows (default false: CS_EINPUT) */
    bool infer_types; /* columns whose every non-empty cell is a number become CS_COL_NUM
                         (default true); otherwise all columns are text */
} cs_csv_params;

cs_csv_params cs_csv_default_params(void);

/* Reads CSV from `path` ("-" is standard input, named "<stdin>" in messages) into a new table
 * (*out, owned by the caller; NULL on error). `p` may be NULL for the defaults. The whole input
 * is read into memory first. The first record is the header: names must be non-empty and
 * unique. A UTF-8 byte-order mark is skipped. Empty lines at the end are ignored; an empty line
 * elsewhere is a record with one empty field. Row lines (cs_table_row_line) are the physical
 * lines where records start. Fields are not trimmed. Errors (CS_EINPUT unless noted), each naming
 * path:line: an empty file ("expected a header line"); a header with no rows (unless
 * allow_empty); an empty or duplicate column name; a record with a different number of fields
 * than the header; an unterminated quoted field (with the line it opened on); a quote inside an
 * unquoted field or text after a closing quote; a NUL byte (binary data); CS_EINVAL for a
 * delimiter that is '"', CR, LF or NUL; CS_EINPUT when the file does not exist; CS_EIO when it
 * cannot be read; CS_ENOMEM. */
int cs_csv_read(const char *path, const cs_csv_params *p, cs_table **out);

/* As cs_csv_read on `n` bytes in memory; `name` is used in messages. */
int cs_csv_read_mem(const char *buf, size_t n, const char *name, const cs_csv_params *p,
                    cs_table **out);

/* Writes one field to `f`, quoted when it holds the delimiter, a quote, CR or LF, leading or
 * trailing spaces or tabs, or starts with a UTF-8 byte-order mark. Returns CS_OK or CS_EIO (the
 * stream's error flag is set). `delim` must not be '"', CR, LF or NUL (CS_ASSERT). */
int cs_csv_write_field(FILE *f, const char *s, char delim);

/* Formats a double so that strtod gives it back bit for bit: the shortest of "%.15g", "%.16g"
 * and "%.17g" that does (so -0 stays "-0"); NaN becomes "" (an empty field), infinities "inf"
 * and "-inf". buf must hold 32 bytes. */
void cs_csv_format_double(char buf[32], double v);

/* Writes the whole table (header, then rows) to `f`, LF line endings, numbers through
 * cs_csv_format_double. In a one-column table an empty cell is written as "" so that it does not
 * become an ignorable empty line. Read back with the default parameters, numeric columns give
 * the same doubles bit for bit (any NaN as NaN) and text columns the same strings (a text column
 * whose cells are all numbers comes back numeric). CS_OK, CS_EIO, or CS_EINVAL for a delimiter
 * that is '"', CR, LF or NUL. */
int cs_csv_write_table(FILE *f, const cs_table *t, char delim);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_CSV_H */
