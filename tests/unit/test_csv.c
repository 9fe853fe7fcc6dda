/* tests/unit/test_csv.c: CSV reading and writing (core/csv.c): RFC 4180 quoting, line numbers,
 * type inference, every kind of bad input, and bit-exact round trips of doubles. Run by
 * `make test`. */
#include "tests/testutil.h"

#include "core/csv.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

/* Reads NUL-terminated `text` with the default parameters; the result status. */
static int rd(const char *text, cs_table **t)
{
    return cs_csv_read_mem(text, strlen(text), "in.csv", NULL, t);
}

/* Reads `text`, which must fail with CS_EINPUT and a message containing `msg`. */
static void bad(const char *text, const char *msg)
{
    static char not_null;
    cs_table *t = (cs_table *)&not_null; /* the reader must reset it to NULL */

    assert_int_equal(rd(text, &t), CS_EINPUT);
    assert_null(t);
    tu_assert_errmsg_has(msg);
}

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void test_basic(void **state)
{
    cs_table *t = NULL;

    (void)state;
    assert_int_equal(rd("name,N,loss\nsmall,1e6,3.5\nbig,2e9,\n", &t), CS_OK);
    assert_string_equal(cs_table_source(t), "in.csv");
    assert_int_equal(cs_table_ncols(t), 3);
    assert_int_equal(cs_table_nrows(t), 2);
    assert_int_equal(cs_table_col_type(t, 0), CS_COL_STR);
    assert_int_equal(cs_table_col_type(t, 1), CS_COL_NUM);
    assert_int_equal(cs_table_col_type(t, 2), CS_COL_NUM);
    assert_string_equal(cs_table_str(t, 1, 0), "big");
    assert_true(cs_table_num(t, 1, 1) == 2e9);
    assert_true(cs_table_num(t, 0, 2) == 3.5);
    assert_true(isnan(cs_table_num(t, 1, 2))); /* empty cell */
    assert_int_equal(cs_table_row_line(t, 0), 2);
    assert_int_equal(cs_table_row_line(t, 1), 3);
    cs_table_free(t);

    /* no final newline, CRLF endings, nan/inf count as numbers, spaces are kept in text */
    assert_int_equal(rd("a,b,c\r\n nan ,x ,-inf\r\n1,y,inf", &t), CS_OK);
    assert_int_equal(cs_table_nrows(t), 2);
    assert_int_equal(cs_table_col_type(t, 0), CS_COL_NUM);
    assert_true(isnan(cs_table_num(t, 0, 0)));
    assert_string_equal(cs_table_str(t, 0, 1), "x ");
    assert_string_equal(cs_table_str(t, 1, 1), "y");
    assert_true(isinf(cs_table_num(t, 0, 2)) && cs_table_num(t, 0, 2) < 0);
    assert_true(isinf(cs_table_num(t, 1, 2)) && cs_table_num(t, 1, 2) > 0);
    cs_table_free(t);
}

static void test_quoting_and_lines(void **state)
{
    cs_table *t = NULL;
    const char *in = "id,note,v\n"
                     "1,\"two\nlines\",10\n"           /* line 2, spans 2-3 */
                     "2,\"a, b and \"\"c\"\"\",20\r\n" /* line 4 */
                     "3,\"\",30\n"                     /* line 5 */
                     "4,\"x\r\ny\n\nz\",40\n"          /* line 6, spans 6-9 */
                     "5,plain,50\n";                   /* line 10 */

    (void)state;
    assert_int_equal(rd(in, &t), CS_OK);
    assert_int_equal(cs_table_nrows(t), 5);
    assert_string_equal(cs_table_str(t, 0, 1), "two\nlines");
    assert_string_equal(cs_table_str(t, 1, 1), "a, b and \"c\"");
    assert_string_equal(cs_table_str(t, 2, 1), "");
    assert_string_equal(cs_table_str(t, 3, 1), "x\r\ny\n\nz");
    assert_int_equal(cs_table_row_line(t, 0), 2);
    assert_int_equal(cs_table_row_line(t, 1), 4);
    assert_int_equal(cs_table_row_line(t, 2), 5);
    assert_int_equal(cs_table_row_line(t, 3), 6);
    assert_int_equal(cs_table_row_line(t, 4), 10);
    assert_true(cs_table_num(t, 4, 2) == 50);
    cs_table_free(t);

    /* a quoted number is still a number; a quoted header name works */
    assert_int_equal(rd("\"x,1\"\n\"2.5\"\n", &t), CS_OK);
    assert_string_equal(cs_table_col_name(t, 0), "x,1");
    assert_true(cs_table_num(t, 0, 0) == 2.5);
    cs_table_free(t);

    /* errors after a multi-line field name the right line */
    bad("a,b\n1,\"x\ny\"\n2,3,4\n", "in.csv:4: expected 2 fields (as in the header), got 3");
    bad("a,b\n1,\"x\ny\"\n2,\"open\nnever closed\n",
        "in.csv:4: field 2: unterminated quoted field");
    bad("a,b\n1,x\"y\n", "in.csv:2: field 2: quote inside an unquoted field");
    bad("a,b\n\"1\"x,2\n", "in.csv:2: field 1: unexpected text after a closing quote");
}

static void test_bom_blank_lines_delim(void **state)
{
    cs_table *t = NULL;
    cs_csv_params p = cs_csv_default_params();

    (void)state;
    assert_int_equal(rd("\xEF\xBB\xBFN,D\n1,2\n\n\r\n\n", &t), CS_OK);
    assert_string_equal(cs_table_col_name(t, 0), "N"); /* the BOM is not part of the name */
    assert_int_equal(cs_table_find(t, "N"), 0);
    assert_int_equal(cs_table_nrows(t), 1);
    cs_table_free(t);

    /* one column: an empty line inside is a missing value, those at the end are dropped */
    assert_int_equal(rd("x\n1\n\n3\n\n\n", &t), CS_OK);
    assert_int_equal(cs_table_nrows(t), 3);
    assert_true(isnan(cs_table_num(t, 1, 0)));
    assert_int_equal(cs_table_row_line(t, 2), 4);
    cs_table_free(t);
    bad("a,b\n1,2\n\n3,4\n", "in.csv:3: expected 2 fields (as in the header), got an empty line");

    p.delim = ';';
    p.infer_types = false;
    assert_int_equal(cs_csv_read_mem("a;b\n1,5;2\n", 10, "semi.csv", &p, &t), CS_OK);
    assert_int_equal(cs_table_col_type(t, 1), CS_COL_STR);
    assert_string_equal(cs_table_str(t, 0, 0), "1,5");
    assert_string_equal(cs_table_str(t, 0, 1), "2");
    cs_table_free(t);
    p.delim = '"';
    assert_int_equal(cs_csv_read_mem("a\n1\n", 4, "q.csv", &p, &t), CS_EINVAL);
}

static void test_empty_and_header_only(void **state)
{
    cs_table *t = NULL;
    cs_csv_params p = cs_csv_default_params();

    (void)state;
    bad("", "in.csv:1: empty file; expected a header line");
    bad("\n\r\n\n", "expected a header line");
    bad("\xEF\xBB\xBF", "expected a header line");
    bad("\na,b\n1,2\n", "in.csv:1: expected a header line, got an empty line");
    bad("a,b,c\n", "in.csv:2: expected data rows after the header, got none");
    bad("a,b,c", "expected data rows after the header, got none");
    bad("a,b,c\n\n\n", "expected data rows after the header, got none");
    p.allow_empty = true;
    assert_int_equal(cs_csv_read_mem("a,b,c\n", 6, "h.csv", &p, &t), CS_OK);
    assert_int_equal(cs_table_nrows(t), 0);
    assert_int_equal(cs_table_ncols(t), 3);
    assert_int_equal(cs_table_col_type(t, 2), CS_COL_NUM);
    cs_table_free(t);
}

static void test_bad_headers_and_rows(void **state)
{
    (void)state;
    bad("a,b,a\n1,2,3\n", "in.csv:1: duplicate column \"a\" (fields 1 and 3)");
    bad("a,,c\n1,2,3\n", "in.csv:1: field 2: empty column name");
    bad("a,b,\"\"\n1,2,3\n", "in.csv:1: field 3: empty column name");
    bad("a,b\n1,2\n3\n", "in.csv:3: expected 2 fields (as in the header), got 1");
    bad("a,b\n1,2\n3,4,5\n", "in.csv:3: expected 2 fields (as in the header), got 3");
    bad("a\n\"unterminated\n", "in.csv:2: field 1: unterminated quoted field");
    /* the header is checked before the rows */
    bad("a,a\n", "in.csv:1: duplicate column \"a\" (fields 1 and 2)");
    bad("a,,b\n1\n", "in.csv:1: field 2: empty column name");
}

static void test_binary(void **state)
{
    static const unsigned char garbage[] = {0x7f, 'E',  'L',  'F',  2,    1,   1,   0,   0,
                                            0,    0xff, 0xfe, '\n', 0x89, 'P', 'N', 'G', 0};
    cs_table *t = NULL;

    (void)state;
    assert_int_equal(cs_csv_read_mem((const char *)garbage, sizeof garbage, "a.out", NULL, &t),
                     CS_EINPUT);
    assert_null(t);
    tu_assert_errmsg_has("a.out:1: NUL byte at offset 7: binary data");
    assert_int_equal(cs_csv_read_mem("a,b\n1,2\n3,\0\n", 12, "n.csv", NULL, &t), CS_EINPUT);
    tu_assert_errmsg_has("n.csv:3: NUL byte");
}

/* Requirements checked on a table read from CSV name the line of the bad value. */
static void test_require_after_read(void **state)
{
    cs_table *t = NULL;
    const char *in = "run,N,D,loss,lr\n"
                     "a,1e6,2e7,3.1,1e-3\n"
                     "b,-3,0,nan,\n"
                     "c,\"2e6\",inf,2.9,x\n";
    size_t col = 0;

    (void)state;
    assert_int_equal(rd(in, &t), CS_OK);
    assert_int_equal(cs_table_require_num(t, "T", 0, &col), CS_EINPUT);
    tu_assert_errmsg_has("in.csv: missing column \"T\" (columns: run, N, D, loss, lr)");
    assert_int_equal(cs_table_require_num(t, "lr", 0, &col), CS_EINPUT);
    tu_assert_errmsg_has("in.csv:4: column \"lr\": expected a number, got \"x\"");
    assert_int_equal(cs_table_require_num(t, "N", CS_REQ_POSITIVE, &col), CS_EINPUT);
    tu_assert_errmsg_has("in.csv:3: column \"N\": expected a positive number, got -3");
    assert_int_equal(cs_table_require_num(t, "D", CS_REQ_POSITIVE, &col), CS_EINPUT);
    tu_assert_errmsg_has("in.csv:3: column \"D\": expected a positive number, got 0");
    assert_int_equal(cs_table_require_num(t, "D", CS_REQ_NONNEGATIVE, &col), CS_EINPUT);
    tu_assert_errmsg_has("in.csv:4: column \"D\": expected a number >= 0, got inf");
    assert_int_equal(cs_table_require_num(t, "D", CS_REQ_FINITE, &col), CS_EINPUT);
    tu_assert_errmsg_has("in.csv:4: column \"D\": expected a finite number, got inf");
    assert_int_equal(cs_table_require_num(t, "loss", CS_REQ_FINITE, &col), CS_EINPUT);
    tu_assert_errmsg_has("in.csv:3: column \"loss\": expected a finite number, got an empty value");
    assert_int_equal(cs_table_require_num(t, "loss", 0, &col), CS_OK);
    assert_int_equal(col, 3);
    cs_table_free(t);
}

static void test_long_line(void **state)
{
    const size_t big = 10u * 1024 * 1024;
    size_t n = 0;
    char *in = malloc(2 * big + 64);
    cs_table *t = NULL;

    (void)state;
    assert_non_null(in);
    n += (size_t)sprintf(in, "text,num\n");
    memset(in + n, 'x', big); /* a 10 MB unquoted field */
    n += big;
    n += (size_t)sprintf(in + n, ",1\n\"");
    memset(in + n, ',', big); /* a 10 MB quoted field full of delimiters */
    n += big;
    n += (size_t)sprintf(in + n, "\",2\n");
    assert_int_equal(cs_csv_read_mem(in, n, "long.csv", NULL, &t), CS_OK);
    assert_int_equal(cs_table_nrows(t), 2);
    assert_int_equal(strlen(cs_table_str(t, 0, 0)), big);
    assert_int_equal(strlen(cs_table_str(t, 1, 0)), big);
    assert_int_equal(strspn(cs_table_str(t, 1, 0), ","), big);
    assert_true(cs_table_num(t, 1, 1) == 2);
    assert_int_equal(cs_table_row_line(t, 1), 3);
    cs_table_free(t);
    free(in);
}

static void test_format_and_fields(void **state)
{
    char buf[32];
    char *out = NULL;
    size_t n = 0;
    FILE *f;

    (void)state;
    cs_csv_format_double(buf, 0.1);
    assert_string_equal(buf, "0.1");
    cs_csv_format_double(buf, 0.1 + 0.2);
    assert_string_equal(buf, "0.30000000000000004");
    cs_csv_format_double(buf, -0.0);
    assert_string_equal(buf, "-0");
    cs_csv_format_double(buf, 1e21);
    assert_string_equal(buf, "1e+21");
    cs_csv_format_double(buf, NAN);
    assert_string_equal(buf, "");
    cs_csv_format_double(buf, INFINITY);
    assert_string_equal(buf, "inf");
    cs_csv_format_double(buf, -INFINITY);
    assert_string_equal(buf, "-inf");

    f = open_memstream(&out, &n);
    assert_non_null(f);
    assert_int_equal(cs_csv_write_field(f, "plain", ','), CS_OK);
    fputc('|', f);
    assert_int_equal(cs_csv_write_field(f, "a,b", ','), CS_OK);
    fputc('|', f);
    assert_int_equal(cs_csv_write_field(f, "say \"hi\"", ','), CS_OK);
    fputc('|', f);
    assert_int_equal(cs_csv_write_field(f, " pad", ','), CS_OK);
    fputc('|', f);
    assert_int_equal(cs_csv_write_field(f, "two\nlines", ','), CS_OK);
    fputc('|', f);
    assert_int_equal(cs_csv_write_field(f, "a;b", ';'), CS_OK);
    fputc('|', f);
    assert_int_equal(cs_csv_write_field(f, "a;b", ','), CS_OK);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(out,
                        "plain|\"a,b\"|\"say \"\"hi\"\"\"|\" pad\"|\"two\nlines\"|\"a;b\"|a;b");
    free(out);
}

/* Writes t as CSV and reads it back. */
static cs_table *round_trip(const cs_table *t)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    cs_table *back = NULL;

    assert_non_null(f);
    assert_int_equal(cs_csv_write_table(f, t, ','), CS_OK);
    assert_int_equal(fclose(f), 0);
    if (cs_csv_read_mem(out, n, "back.csv", NULL, &back) != CS_OK)
        fail_msg("re-reading failed: %s\n--- written:\n%s", cs_errmsg(), out);
    free(out);
    return back;
}

/* A random double from random bits, so every exponent (subnormals, huge values) turns up. */
static double random_bits_double(uint64_t *s)
{
    double v;

    *s ^= *s << 13; /* xorshift64 */
    *s ^= *s >> 7;
    *s ^= *s << 17;
    memcpy(&v, s, sizeof v);
    return v;
}

static void test_round_trip_doubles(void **state)
{
    static const double special[] = {0.0,
                                     -0.0,
                                     5e-324,
                                     -5e-324,
                                     2.2250738585072009e-308,
                                     2.2250738585072014e-308,
                                     1.7976931348623157e308,
                                     -1.7976931348623157e308,
                                     0.1,
                                     1.0 / 3.0,
                                     1e21,
                                     123456789012345678.0,
                                     INFINITY,
                                     -INFINITY,
                                     NAN};
    const size_t nspecial = sizeof special / sizeof special[0];
    const size_t nrows = 20000;
    cs_table *t = cs_table_alloc("rt");
    cs_table *back;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t r;

    (void)state;
    assert_int_equal(cs_table_add_col(t, "x", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "note", CS_COL_STR, NULL), CS_OK);
    for (r = 0; r < nrows; r++) {
        double v = r < nspecial ? special[r] : random_bits_double(&seed);

        assert_int_equal(cs_table_append_row(t, 0), CS_OK);
        cs_table_set_num(t, r, 0, v);
    }
    assert_int_equal(cs_table_set_str(t, 0, 1, "a \"quoted\", multi\r\nline note "), CS_OK);
    assert_int_equal(cs_table_set_str(t, 1, 1, "plain"), CS_OK);
    back = round_trip(t);
    assert_int_equal(cs_table_nrows(back), nrows);
    assert_int_equal(cs_table_col_type(back, 0), CS_COL_NUM);
    assert_int_equal(cs_table_col_type(back, 1), CS_COL_STR);
    for (r = 0; r < nrows; r++) {
        double a = cs_table_num(t, r, 0);
        double b = cs_table_num(back, r, 0);

        if (!(isnan(a) ? isnan(b) : same_bits(a, b)))
            fail_msg("row %zu: wrote %a, read back %a", r, a, b);
        assert_string_equal(cs_table_str(t, r, 1), cs_table_str(back, r, 1));
    }
    cs_table_free(back);
    cs_table_free(t);
}

/* One column with empty cells, including the last: written as "" so they are not dropped. */
static void test_round_trip_one_column(void **state)
{
    cs_table *t = cs_table_alloc("one");
    cs_table *back;

    (void)state;
    assert_int_equal(cs_table_add_col(t, "only col", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_append_row(t, 0), CS_OK);
    assert_int_equal(cs_table_append_row(t, 0), CS_OK);
    assert_int_equal(cs_table_append_row(t, 0), CS_OK);
    cs_table_set_num(t, 1, 0, 4.0);
    back = round_trip(t);
    assert_int_equal(cs_table_nrows(back), 3);
    assert_string_equal(cs_table_col_name(back, 0), "only col");
    assert_true(isnan(cs_table_num(back, 0, 0)));
    assert_true(cs_table_num(back, 1, 0) == 4.0);
    assert_true(isnan(cs_table_num(back, 2, 0)));
    cs_table_free(back);
    cs_table_free(t);
}

static void test_files(void **state)
{
    char *dir = tu_tmpdir();
    const char *path = tu_path(dir, "runs.csv");
    char saved[4096];
    cs_table *t = NULL;

    (void)state;
    tu_write_file(path, "N,loss\n1e6,3\n", 13);
    snprintf(saved, sizeof saved, "%s", path);
    assert_int_equal(cs_csv_read(saved, NULL, &t), CS_OK);
    assert_string_equal(cs_table_source(t), saved);
    assert_true(cs_table_num(t, 0, 1) == 3);
    cs_table_free(t);
    tu_write_file(path, "N,loss\n1e6\n", 11);
    assert_int_equal(cs_csv_read(saved, NULL, &t), CS_EINPUT);
    assert_null(t);
    tu_assert_errmsg_has(":2: expected 2 fields");
    tu_assert_errmsg_has(saved);
    assert_int_equal(cs_csv_read(tu_path(dir, "absent.csv"), NULL, &t), CS_EINPUT);
    tu_assert_errmsg_has("No such file");
    assert_int_equal(cs_csv_read(dir, NULL, &t), CS_EIO);
    assert_int_equal(remove(saved), 0);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_quoting_and_lines),
        cmocka_unit_test(test_bom_blank_lines_delim),
        cmocka_unit_test(test_empty_and_header_only),
        cmocka_unit_test(test_bad_headers_and_rows),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_require_after_read),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_format_and_fields),
        cmocka_unit_test(test_round_trip_doubles),
        cmocka_unit_test(test_round_trip_one_column),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
