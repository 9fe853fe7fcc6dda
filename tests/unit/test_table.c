/* tests/unit/test_table.c: the columnar table (core/table.c): cells, growth, name lookup,
 * cs_table_require_num messages, text-to-number conversion, renames. Run by `make test`. */
#include "tests/testutil.h"

#include "core/table.h"

#include <math.h>

static cs_table *make_table(void)
{
    cs_table *t = cs_table_alloc("runs.csv");
    size_t i;

    assert_non_null(t);
    assert_int_equal(cs_table_add_col(t, "name", CS_COL_STR, &i), CS_OK);
    assert_int_equal(i, 0);
    assert_int_equal(cs_table_add_col(t, "N", CS_COL_NUM, &i), CS_OK);
    assert_int_equal(i, 1);
    assert_int_equal(cs_table_add_col(t, "loss", CS_COL_NUM, NULL), CS_OK);
    return t;
}

static void test_cells(void **state)
{
    cs_table *t = make_table();

    (void)state;
    assert_string_equal(cs_table_source(t), "runs.csv");
    assert_int_equal(cs_table_ncols(t), 3);
    assert_int_equal(cs_table_nrows(t), 0);
    assert_int_equal(cs_table_append_row(t, 2), CS_OK);
    assert_int_equal(cs_table_append_row(t, 5), CS_OK);
    assert_int_equal(cs_table_nrows(t), 2);
    assert_int_equal(cs_table_row_line(t, 1), 5);
    assert_true(isnan(cs_table_num(t, 0, 1)));
    assert_string_equal(cs_table_str(t, 0, 0), "");
    cs_table_set_num(t, 1, 2, 3.25);
    assert_true(cs_table_num(t, 1, 2) == 3.25);
    assert_int_equal(cs_table_set_str(t, 1, 0, "small"), CS_OK);
    assert_int_equal(cs_table_set_str(t, 1, 0, "big"), CS_OK); /* replaces (no leak) */
    assert_string_equal(cs_table_str(t, 1, 0), "big");
    assert_int_equal(cs_table_set_str(t, 1, 0, ""), CS_OK);
    assert_string_equal(cs_table_str(t, 1, 0), "");
    assert_int_equal(cs_table_col_type(t, 0), CS_COL_STR);
    assert_int_equal(cs_table_col_type(t, 2), CS_COL_NUM);
    assert_string_equal(cs_table_col_name(t, 2), "loss");
    /* a column added after rows exist starts missing */
    assert_int_equal(cs_table_add_col(t, "late", CS_COL_NUM, NULL), CS_OK);
    assert_true(isnan(cs_table_num(t, 1, 3)));
    assert_int_equal(cs_table_add_col(t, "late_s", CS_COL_STR, NULL), CS_OK);
    assert_string_equal(cs_table_str(t, 1, 4), "");
    cs_table_free(t);
    cs_table_free(NULL);
}

static void test_growth_and_find(void **state)
{
    cs_table *t = cs_table_alloc("big");
    const double *col;
    char name[32];
    size_t i;

    (void)state;
    for (i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "c%zu", i);
        assert_int_equal(cs_table_add_col(t, name, i % 2 ? CS_COL_STR : CS_COL_NUM, NULL), CS_OK);
    }
    for (i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "c%zu", i);
        assert_int_equal(cs_table_find(t, name), (long)i);
    }
    assert_int_equal(cs_table_find(t, "c300"), -1);
    assert_int_equal(cs_table_find(t, "C1"), -1); /* exact match only */
    for (i = 0; i < 10000; i++) {
        assert_int_equal(cs_table_append_row(t, i + 2), CS_OK);
        cs_table_set_num(t, i, 0, (double)i * 0.5);
    }
    assert_int_equal(cs_table_set_str(t, 9999, 1, "last"), CS_OK);
    col = cs_table_num_col(t, 0);
    for (i = 0; i < 10000; i++)
        assert_true(col[i] == (double)i * 0.5);
    assert_string_equal(cs_table_str(t, 9999, 1), "last");
    assert_int_equal(cs_table_row_line(t, 9999), 10001);
    cs_table_free(t);
}

static void test_bad_names(void **state)
{
    cs_table *t = make_table();

    (void)state;
    assert_int_equal(cs_table_add_col(t, "N", CS_COL_NUM, NULL), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv: duplicate column \"N\"");
    assert_int_equal(cs_table_add_col(t, "", CS_COL_NUM, NULL), CS_EINPUT);
    tu_assert_errmsg_has("empty column name");
    assert_int_equal(cs_table_ncols(t), 3);
    assert_int_equal(cs_table_rename_col(t, 1, "loss"), CS_EINPUT);
    tu_assert_errmsg_has("duplicate column \"loss\"");
    assert_int_equal(cs_table_rename_col(t, 1, "N"), CS_OK); /* its own name */
    assert_int_equal(cs_table_rename_col(t, 1, "params"), CS_OK);
    assert_int_equal(cs_table_find(t, "N"), -1);
    assert_int_equal(cs_table_find(t, "params"), 1);
    assert_string_equal(cs_table_col_name(t, 1), "params");
    assert_int_equal(cs_table_add_col(t, "N", CS_COL_NUM, NULL), CS_OK); /* the old name is free */
    cs_table_free(t);
}

/* Table with column "N" holding `v` at rows on lines 2, 3, 4 (the middle one is v). */
static cs_table *one_bad(double v)
{
    cs_table *t = cs_table_alloc("runs.csv");
    size_t r;

    assert_int_equal(cs_table_add_col(t, "N", CS_COL_NUM, NULL), CS_OK);
    for (r = 0; r < 3; r++) {
        assert_int_equal(cs_table_append_row(t, r + 2), CS_OK);
        cs_table_set_num(t, r, 0, r == 1 ? v : 1e9);
    }
    return t;
}

static void expect_req(double v, unsigned flags, int want, const char *msg)
{
    cs_table *t = one_bad(v);
    size_t col = 99;

    assert_int_equal(cs_table_require_num(t, "N", flags, &col), want);
    if (want == CS_OK)
        assert_int_equal(col, 0);
    else
        tu_assert_errmsg_has(msg);
    cs_table_free(t);
}

static void test_require_values(void **state)
{
    (void)state;
    expect_req(-3, CS_REQ_POSITIVE, CS_EINPUT,
               "runs.csv:3: column \"N\": expected a positive number, got -3");
    expect_req(0, CS_REQ_POSITIVE, CS_EINPUT,
               "runs.csv:3: column \"N\": expected a positive number, got 0");
    expect_req(0.1, CS_REQ_POSITIVE, CS_OK, NULL);
    expect_req(NAN, CS_REQ_POSITIVE, CS_EINPUT, "expected a positive number, got an empty value");
    expect_req(INFINITY, CS_REQ_POSITIVE, CS_EINPUT, "expected a positive number, got inf");
    expect_req(NAN, CS_REQ_FINITE, CS_EINPUT,
               "runs.csv:3: column \"N\": expected a finite number, got an empty value or NaN");
    expect_req(-INFINITY, CS_REQ_FINITE, CS_EINPUT, "expected a finite number, got -inf");
    expect_req(-2.5, CS_REQ_FINITE, CS_OK, NULL);
    expect_req(-1e-300, CS_REQ_NONNEGATIVE, CS_EINPUT, "expected a number >= 0, got -1e-300");
    expect_req(0, CS_REQ_NONNEGATIVE, CS_OK, NULL);
    expect_req(NAN, CS_REQ_NONNEGATIVE, CS_EINPUT, "expected a number >= 0");
    expect_req(NAN, 0, CS_OK, NULL); /* no flags: any number, missing included */
    expect_req(0.1 + 0.2, CS_REQ_FINITE, CS_OK, NULL);
    expect_req(-(0.1 + 0.2), CS_REQ_POSITIVE, CS_EINPUT, "got -0.30000000000000004");
}

static void test_require_columns(void **state)
{
    cs_table *t = make_table();
    size_t col = 0;

    (void)state;
    assert_int_equal(cs_table_require_num(t, "D", 0, &col), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv: missing column \"D\" (columns: name, N, loss)");
    assert_int_equal(cs_table_append_row(t, 2), CS_OK);
    assert_int_equal(cs_table_append_row(t, 7), CS_OK);
    assert_int_equal(cs_table_set_str(t, 0, 0, "12"), CS_OK);
    assert_int_equal(cs_table_set_str(t, 1, 0, "abc"), CS_OK);
    assert_int_equal(cs_table_require_num(t, "name", 0, &col), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv:7: column \"name\": expected a number, got \"abc\"");
    assert_int_equal(cs_table_require_num(t, "loss", 0, NULL), CS_OK);
    cs_table_free(t);

    t = cs_table_alloc("empty.csv");
    assert_int_equal(cs_table_require_num(t, "x", 0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("empty.csv: missing column \"x\"");
    cs_table_free(t);
}

static void test_col_to_num(void **state)
{
    cs_table *t = cs_table_alloc("t.csv");
    static const char *const cells[] = {"1.5", "", " -2e3 ", "nan", "-inf", "1e999"};
    size_t r;

    (void)state;
    assert_int_equal(cs_table_add_col(t, "x", CS_COL_STR, NULL), CS_OK);
    for (r = 0; r < 6; r++) {
        assert_int_equal(cs_table_append_row(t, r + 2), CS_OK);
        assert_int_equal(cs_table_set_str(t, r, 0, cells[r]), CS_OK);
    }
    assert_int_equal(cs_table_col_to_num(t, 0), CS_OK);
    assert_int_equal(cs_table_col_type(t, 0), CS_COL_NUM);
    assert_true(cs_table_num(t, 0, 0) == 1.5);
    assert_true(isnan(cs_table_num(t, 1, 0)));
    assert_true(cs_table_num(t, 2, 0) == -2000);
    assert_true(isnan(cs_table_num(t, 3, 0)));
    assert_true(isinf(cs_table_num(t, 4, 0)) && cs_table_num(t, 4, 0) < 0);
    assert_true(isinf(cs_table_num(t, 5, 0)) && cs_table_num(t, 5, 0) > 0);
    assert_int_equal(cs_table_col_to_num(t, 0), CS_OK); /* no-op on numbers */
    assert_int_equal(cs_table_require_num(t, "x", CS_REQ_FINITE, NULL), CS_EINPUT);
    tu_assert_errmsg_has("t.csv:3: column \"x\": expected a finite number");

    assert_int_equal(cs_table_add_col(t, "y", CS_COL_STR, NULL), CS_OK);
    assert_int_equal(cs_table_set_str(t, 0, 1, "3"), CS_OK);
    assert_int_equal(cs_table_set_str(t, 4, 1, "3 apples"), CS_OK);
    assert_int_equal(cs_table_col_to_num(t, 1), CS_EINPUT);
    tu_assert_errmsg_has("t.csv:6: column \"y\": expected a number, got \"3 apples\"");
    assert_int_equal(cs_table_col_type(t, 1), CS_COL_STR);
    assert_string_equal(cs_table_str(t, 4, 1), "3 apples");
    assert_int_equal(cs_table_append_row(t, 0), CS_OK); /* still usable after the conversion */
    assert_true(isnan(cs_table_num(t, 6, 0)));
    cs_table_free(t);
}

static void test_rows_without_lines(void **state)
{
    cs_table *t = cs_table_alloc("runs/");

    (void)state;
    assert_int_equal(cs_table_add_col(t, "loss", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_append_row(t, 0), CS_OK);
    assert_int_equal(cs_table_append_row(t, 0), CS_OK);
    cs_table_set_num(t, 0, 0, 2.0);
    cs_table_set_num(t, 1, 0, -1.0);
    assert_int_equal(cs_table_require_num(t, "loss", CS_REQ_POSITIVE, NULL), CS_EINPUT);
    tu_assert_errmsg_has("runs/: row 2: column \"loss\": expected a positive number, got -1");
    cs_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_growth_and_find),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_require_values),
        cmocka_unit_test(test_require_columns),
        cmocka_unit_test(test_col_to_num),
        cmocka_unit_test(test_rows_without_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
