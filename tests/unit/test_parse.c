/* tests/unit/test_parse.c: checked number parsing (core/parse.c). Run by `make test`. */
#include "tests/testutil.h"

#include "core/parse.h"

#include <math.h>

static void test_long(void **state)
{
    long v = 0;

    (void)state;
    assert_int_equal(cs_parse_long("42", &v, "x"), CS_OK);
    assert_int_equal(v, 42);
    assert_int_equal(cs_parse_long(" -7 ", &v, "x"), CS_OK);
    assert_int_equal(v, -7);
    assert_int_equal(cs_parse_long("4x", &v, "--layers"), CS_EINPUT);
    tu_assert_errmsg_has("--layers: expected an integer, got \"4x\"");
    assert_int_equal(cs_parse_long("", &v, "k"), CS_EINPUT);
    tu_assert_errmsg_has("empty");
    assert_int_equal(cs_parse_long("99999999999999999999999", &v, "k"), CS_EINPUT);
    tu_assert_errmsg_has("out of range");
    assert_int_equal(cs_parse_long("1.5", &v, "k"), CS_EINPUT);
}

static void test_double(void **state)
{
    double v = 0;

    (void)state;
    assert_int_equal(cs_parse_double("1e21", &v, "C"), CS_OK);
    assert_true(v == 1e21);
    assert_int_equal(cs_parse_double("-0.25", &v, "C"), CS_OK);
    assert_true(v == -0.25);
    assert_int_equal(cs_parse_double("nan", &v, "loss"), CS_EINPUT);
    tu_assert_errmsg_has("NaN");
    assert_int_equal(cs_parse_double("inf", &v, "loss"), CS_EINPUT);
    assert_int_equal(cs_parse_double("1e999", &v, "loss"), CS_EINPUT);
    tu_assert_errmsg_has("overflows");
    assert_int_equal(cs_parse_double("3.0abc", &v, "loss"), CS_EINPUT);
    assert_int_equal(cs_parse_double_ex("nan", &v, CS_PARSE_ALLOW_NONFINITE, "l"), CS_OK);
    assert_true(isnan(v));
    assert_int_equal(cs_parse_double_ex("0", &v, CS_PARSE_POSITIVE, "N"), CS_EINPUT);
    tu_assert_errmsg_has("N: expected a positive number");
    assert_int_equal(cs_parse_double_ex("-1", &v, CS_PARSE_NONNEGATIVE, "N"), CS_EINPUT);
    assert_int_equal(cs_parse_double_ex("0", &v, CS_PARSE_NONNEGATIVE, "N"), CS_OK);
    assert_int_equal(cs_parse_double("1e-320", &v, "tiny"), CS_OK); /* subnormal is a value */
}

static void test_count_and_bool(void **state)
{
    int64_t n = 0;
    bool b = false;

    (void)state;
    assert_int_equal(cs_parse_count("20e6", &n, "--tokens"), CS_OK);
    assert_int_equal(n, 20000000);
    assert_int_equal(cs_parse_count("2.5", &n, "--tokens"), CS_EINPUT);
    tu_assert_errmsg_has("whole number");
    assert_int_equal(cs_parse_count("1e30", &n, "--tokens"), CS_EINPUT);
    assert_int_equal(cs_parse_count("-3", &n, "--tokens"), CS_EINPUT);
    assert_int_equal(cs_parse_bool("Yes", &b, "f"), CS_OK);
    assert_true(b);
    assert_int_equal(cs_parse_bool("off", &b, "f"), CS_OK);
    assert_false(b);
    assert_int_equal(cs_parse_bool("maybe", &b, "f"), CS_EINPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_count_and_bool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
