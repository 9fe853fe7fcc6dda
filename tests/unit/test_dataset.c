/* tests/unit/test_dataset.c: tables into law data (fit/dataset.c) — --map, --derive, --where,
 * drop-top, groups, and every bad-input message naming file:line. Run by `make test`. */
#include "tests/testutil.h"

#include "core/csv.h"
#include "fit/dataset.h"
#include "fit/law.h"

#include <math.h>

static const char csv_runs[] = "model,N params,flops,loss,set\n"
                               "a,1e8,6e17,3.5,c4\n"
                               "b,2e8,2.4e18,3.2,c4\n"
                               "c,4e8,9.6e18,3.0,web\n"
                               "d,8e8,3.84e19,2.9,c4\n"
                               "e,1.6e9,1.536e20,2.7,web\n";

static cs_table *table_of(const char *text, const char *name)
{
    cs_table *t = NULL;

    assert_int_equal(cs_csv_read_mem(text, strlen(text), name, NULL, &t), CS_OK);
    return t;
}

static cs_law *chinchilla(void)
{
    cs_law *law = cs_law_builtin("chinchilla");

    assert_non_null(law);
    return law;
}

/* --map, --derive through a mapped name and a raw column, and the origins. */
static void test_map_derive(void **state)
{
    cs_table *t = table_of(csv_runs, "runs.csv");
    cs_law *law = chinchilla();
    const char *maps[] = {"N=N params", " L = loss"};
    const char *der[] = {"D=flops/(6*N)"};
    cs_dataset_params p = cs_dataset_default_params();
    cs_dataset *ds = NULL;

    (void)state;
    p.maps = maps;
    p.nmaps = 2;
    p.derives = der;
    p.nderives = 1;
    if (cs_dataset_build(t, law, &p, &ds) != CS_OK)
        fail_msg("%s", cs_errmsg());
    assert_int_equal(cs_dataset_n(ds), 5);
    assert_int_equal(cs_dataset_nvars(ds), 2);
    assert_string_equal(cs_dataset_var_name(ds, 0), "N");
    assert_string_equal(cs_dataset_var_name(ds, 2), "L");
    assert_string_equal(cs_dataset_var_origin(ds, 0), "column \"N params\"");
    assert_string_equal(cs_dataset_var_origin(ds, 1), "derived flops/(6*N)");
    assert_true(cs_dataset_cols(ds)[0][2] == 4e8);
    assert_true(fabs(cs_dataset_cols(ds)[1][0] - 1e9) < 1e-6);
    assert_true(cs_dataset_target(ds)[4] == 2.7);
    assert_int_equal(cs_dataset_row_line(ds, 0), 2);
    cs_dataset_free(ds);
    cs_law_free(law);
    cs_table_free(t);
}

/* --where on text and numbers, then drop-top of the largest targets (ties: earliest first). */
static void test_where_drop(void **state)
{
    static const char text[] = "N,D,L,set\n1,1,5,x\n2,2,9,x\n3,3,9,y\n4,4,9,x\n5,5,1,x\n6,6,7,x\n";
    cs_table *t = table_of(text, "w.csv");
    cs_law *law = chinchilla();
    const char *wh[] = {"set == x", "N<6"};
    cs_dataset_params p = cs_dataset_default_params();
    cs_dataset *ds = NULL;

    (void)state;
    p.wheres = wh;
    p.nwheres = 2;
    p.drop_top = 1;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_OK);
    /* kept by where: N = 1, 2, 4, 5; the largest L ties at 9 (N = 2, 4): N = 2 goes. */
    assert_int_equal(cs_dataset_n(ds), 3);
    assert_int_equal(cs_dataset_n_read(ds), 6);
    assert_int_equal(cs_dataset_n_filtered(ds), 2);
    assert_int_equal(cs_dataset_n_dropped(ds), 1);
    assert_true(cs_dataset_cols(ds)[0][0] == 1 && cs_dataset_cols(ds)[0][1] == 4 &&
                cs_dataset_cols(ds)[0][2] == 5);
    assert_int_equal(cs_dataset_row_line(ds, 1), 5);
    cs_dataset_free(ds);
    p.drop_top = 4;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("--drop-top 4: only 4 rows are left");
    cs_law_free(law);
    cs_table_free(t);
}

static void test_where_errors(void **state)
{
    cs_table *t = table_of(csv_runs, "runs.csv");
    cs_law *law = chinchilla();
    const char *maps[] = {"N=N params", "L=loss", "D=flops"};
    const char *bad_col[] = {"size > 3"};
    const char *bad_op[] = {"set < c4"};
    const char *no_op[] = {"set c4"};
    const char *none[] = {"loss > 100"};
    cs_dataset_params p = cs_dataset_default_params();
    cs_dataset *ds = NULL;

    (void)state;
    p.maps = maps;
    p.nmaps = 3;
    p.nwheres = 1;
    p.wheres = bad_col;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv has no column \"size\"");
    p.wheres = bad_op;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("only == and != compare text");
    p.wheres = no_op;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("expected COLUMN OP VALUE");
    p.wheres = none;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("no rows left after --where");
    assert_null(ds);
    cs_law_free(law);
    cs_table_free(t);
}

/* A variable the data lacks; a map to a missing column. */
static void test_missing(void **state)
{
    cs_table *t = table_of(csv_runs, "runs.csv");
    cs_law *law = chinchilla();
    const char *maps[] = {"N=N params", "L=loss"};
    const char *badmap[] = {"N=params", "L=loss", "D=flops"};
    cs_dataset_params p = cs_dataset_default_params();
    cs_dataset *ds = NULL;

    (void)state;
    p.maps = maps;
    p.nmaps = 2;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv has no column \"D\"; name one with --map D=COLUMN");
    p.maps = badmap;
    p.nmaps = 3;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("--map N=params: runs.csv has no column \"params\"");
    assert_null(ds);
    cs_law_free(law);
    cs_table_free(t);
}

/* Values that cannot enter a log, text and missing cells: each named by file:line. */
static void test_bad_values(void **state)
{
    static const char neg[] = "N,D,L\n1e8,1e9,3\n-5,1e9,3\n";
    static const char zero_l[] = "N,D,L\n1e8,1e9,3\n1e8,1e9,3\n2e8,1e9,0\n";
    static const char text[] = "N,D,L\n1e8,1e9,3\n1e8,abc,3\n";
    static const char empty[] = "N,D,L\n1e8,1e9,3\n1e8,,3\n";
    cs_law *law = chinchilla();
    cs_dataset *ds = NULL;
    cs_table *t;

    (void)state;
    t = table_of(neg, "neg.csv");
    assert_int_equal(cs_dataset_build(t, law, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("neg.csv:3: column \"N\" (N): expected a positive number, got -5");
    tu_assert_errmsg_has("fitted power");
    cs_table_free(t);
    t = table_of(zero_l, "zero.csv");
    assert_int_equal(cs_dataset_build(t, law, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("zero.csv:4: column \"L\" (L): expected a positive number, got 0");
    cs_table_free(t);
    t = table_of(text, "text.csv");
    assert_int_equal(cs_dataset_build(t, law, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("text.csv:3: column \"D\" (D): expected a number, got \"abc\"");
    cs_table_free(t);
    t = table_of(empty, "empty.csv");
    assert_int_equal(cs_dataset_build(t, law, NULL, &ds), CS_EINPUT);
    tu_assert_errmsg_has("empty.csv:3: column \"D\" (D): expected a finite number");
    cs_table_free(t);
    assert_null(ds);
    cs_law_free(law);
}

/* In linear space a target <= 0 is fine; a variable in a plain product is not checked. */
static void test_linear_space(void **state)
{
    static const char text[] = "x,L\n1,-2\n2,-1\n3,0\n";
    cs_law *law = cs_law_parse("L = a + b*x", (const char *[]){"x"}, 1);
    cs_table *t = table_of(text, "lin.csv");
    cs_dataset_params p = cs_dataset_default_params();
    cs_dataset *ds = NULL;

    (void)state;
    assert_non_null(law);
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("lin.csv:2:");
    tu_assert_errmsg_has("log space");
    p.positive_target = false;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_OK);
    assert_int_equal(cs_dataset_n(ds), 3);
    cs_dataset_free(ds);
    cs_law_free(law);
    cs_table_free(t);
}

/* Derive errors: syntax (with the caret message), unknown names, self reference, a value that
 * is not finite, a malformed option. */
static void test_derive_errors(void **state)
{
    cs_table *t = table_of(csv_runs, "runs.csv");
    cs_law *law = chinchilla();
    const char *maps[] = {"N=N params", "L=loss"};
    const char *syntax[] = {"D=flops/(6*N"};
    const char *unknown[] = {"D=flops/(6*M)"};
    const char *self[] = {"D=D*2"};
    const char *divzero[] = {"D=flops/(N-N)"};
    const char *noeq[] = {"D"};
    cs_dataset_params p = cs_dataset_default_params();
    cs_dataset *ds = NULL;

    (void)state;
    p.maps = maps;
    p.nmaps = 2;
    p.nderives = 1;
    p.derives = syntax;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("--derive D");
    tu_assert_errmsg_has("1:11: expected ')'");
    p.derives = unknown;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("no column \"M\"");
    p.derives = self;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("uses D itself");
    p.derives = divzero;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv:2: --derive D=flops/(N-N)");
    tu_assert_errmsg_has("division by zero");
    p.derives = noeq;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("expected NAME=VALUE");
    assert_null(ds);
    cs_law_free(law);
    cs_table_free(t);
}

/* Groups numbered by first appearance over the kept rows. */
static void test_groups(void **state)
{
    cs_table *t = table_of(csv_runs, "runs.csv");
    cs_law *law = chinchilla();
    const char *maps[] = {"N=N params", "L=loss", "D=flops"};
    cs_dataset_params p = cs_dataset_default_params();
    cs_dataset *ds = NULL;
    const size_t *g;
    size_t ng = 0;

    (void)state;
    p.maps = maps;
    p.nmaps = 3;
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_OK);
    assert_null(cs_dataset_groups(ds, &ng));
    assert_int_equal(ng, 0);
    cs_dataset_free(ds);
    p.group = "set";
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_OK);
    g = cs_dataset_groups(ds, &ng);
    assert_int_equal(ng, 2);
    assert_int_equal(g[0], 0);
    assert_int_equal(g[2], 1);
    assert_int_equal(g[3], 0);
    assert_int_equal(g[4], 1);
    cs_dataset_free(ds);
    p.group = "nope";
    assert_int_equal(cs_dataset_build(t, law, &p, &ds), CS_EINPUT);
    tu_assert_errmsg_has("--group: runs.csv has no column \"nope\"");
    cs_law_free(law);
    cs_table_free(t);
}

/* check_law names the row where the law cannot be evaluated. */
static void test_check_law(void **state)
{
    static const char text[] = "x,L\n1,1\n2,1\n0,1\n";
    cs_law *law = cs_law_parse("L = a + b/x", (const char *[]){"x"}, 1);
    cs_table *t = table_of(text, "c.csv");
    cs_dataset *ds = NULL;
    double params[2] = {1.0, 1.0};

    (void)state;
    assert_int_equal(cs_dataset_build(t, law, NULL, &ds), CS_OK);
    assert_int_equal(cs_dataset_check_law(ds, law, params), CS_EINPUT);
    tu_assert_errmsg_has("c.csv:4: at x = 0");
    tu_assert_errmsg_has("division by zero");
    cs_dataset_free(ds);
    cs_law_free(law);
    cs_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_derive),   cmocka_unit_test(test_where_drop),
        cmocka_unit_test(test_where_errors), cmocka_unit_test(test_missing),
        cmocka_unit_test(test_bad_values),   cmocka_unit_test(test_linear_space),
        cmocka_unit_test(test_derive_errors), cmocka_unit_test(test_groups),
        cmocka_unit_test(test_check_law),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
