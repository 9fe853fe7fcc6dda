/* core/csv.h: CSV reading into a cs_table and writing from one (RFC 4180: comma-separated,
 * fields quoted with ", quotes doubled inside, newlines allowed in quoted fields, CRLF or LF).
 * Every error names the file, the line (and field) and what was expected. Numbers are written
 * with 17 significant digits so that reading them back gives the same doubles, bit for bit.
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
    char delim;        /* field separator; ',' by default */
    bool allow_empty;  /* accept a header with no data rows (default false: CS_EINPUT) */
    bool infer_types;  /* columns whose every non-empty cell is a number become CS_COL_NUM
                          (default true); otherwise all columns are text */
} cs_csv_params;

cs_csv_params cs_csv_default_params(void);

/* Reads CSV from `path` ("-" is standard input) into a new table (*out, owned by the caller).
 * The first record is the header: names must be non-empty and unique. A UTF-8 byte-order mark
 * is skipped. Empty lines at the end are ignored. Errors (CS_EINPUT unless noted), each naming
 * path:line: an empty file; a header with no rows (unless allow_empty); an empty or duplicate
 * column name; a record with a different number of fields than the header; an unterminated
 * quoted field (with the line it opened on); a quote inside an unquoted field or text after a
 * closing quote; a NUL byte (binary data); CS_EIO when the file cannot be read; CS_ENOMEM. */
int cs_csv_read(const char *path, const cs_csv_params *p, cs_table **out);

/* As cs_csv_read on `n` bytes in memory; `name` is used in messages. */
int cs_csv_read_mem(const char *buf, size_t n, const char *name, const cs_csv_params *p,
                    cs_table **out);

/* Writes one field to `f`, quoted when it holds the delimiter, a quote, CR or LF, or leading or
 * trailing spaces. Returns CS_OK or CS_EIO. */
int cs_csv_write_field(FILE *f, const char *s, char delim);

/* Formats a double so that strtod gives it back exactly ("%.17g", shortest form that round-trips
 * when one exists); NaN is written as an empty field. buf must hold 32 bytes. */
void cs_csv_format_double(char buf[32], double v);

/* Writes the whole table (header, then rows) to `f`. CS_OK or CS_EIO. */
int cs_csv_write_table(FILE *f, const cs_table *t, char delim);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_CSV_H */
