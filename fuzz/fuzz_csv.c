/* fuzz/fuzz_csv.c: libFuzzer target for the CSV reader and writer (core/csv.c). Every input is
 * read with cs_csv_read_mem; when that succeeds the table is written with cs_csv_write_table
 * and read back, and the two tables must be equal: same shape, names, column types, strings, and
 * numbers bit for bit (or both NaN). A mismatch aborts. Built and run by `make fuzz`; seeds in
 * fuzz/seeds/fuzz_csv/.
 */
#include "core/csv.h"
#include "core/error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mismatch(const char *what, size_t row, size_t col)
{
    fprintf(stderr, "fuzz_csv: round trip changed %s (row %zu, column %zu)\n", what, row, col);
    abort();
}

static void compare_cells(const cs_table *a, const cs_table *b, size_t c)
{
    size_t r;

    for (r = 0; r < cs_table_nrows(a); r++) {
        if (cs_table_col_type(a, c) == CS_COL_STR) {
            if (strcmp(cs_table_str(a, r, c), cs_table_str(b, r, c)) != 0)
                mismatch("a string", r, c);
        } else {
            double x = cs_table_num(a, r, c);
            double y = cs_table_num(b, r, c);

            if (isnan(x) ? !isnan(y) : memcmp(&x, &y, sizeof x) != 0)
                mismatch("a number", r, c);
        }
    }
}

static void compare(const cs_table *a, const cs_table *b)
{
    size_t c;

    if (cs_table_nrows(a) != cs_table_nrows(b) || cs_table_ncols(a) != cs_table_ncols(b))
        mismatch("the shape", cs_table_nrows(b), cs_table_ncols(b));
    for (c = 0; c < cs_table_ncols(a); c++) {
        if (strcmp(cs_table_col_name(a, c), cs_table_col_name(b, c)) != 0)
            mismatch("a column name", 0, c);
        if (cs_table_col_type(a, c) != cs_table_col_type(b, c))
            mismatch("a column type", 0, c);
        compare_cells(a, b, c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_table *t = NULL;
    cs_table *back = NULL;
    char *out = NULL;
    size_t n = 0;
    FILE *f;

    if (cs_csv_read_mem((const char *)data, size, "fuzz", NULL, &t) != CS_OK)
        return 0;
    f = open_memstream(&out, &n);
    if (f == NULL)
        abort();
    if (cs_csv_write_table(f, t, ',') != CS_OK || fclose(f) != 0)
        abort();
    if (cs_csv_read_mem(out, n, "fuzz-back", NULL, &back) != CS_OK) {
        fprintf(stderr, "fuzz_csv: re-reading the written table failed: %s\n", cs_errmsg());
        abort();
    }
    compare(t, back);
    cs_table_free(back);
    cs_table_free(t);
    free(out);
    return 0;
}
