/* tests/unit/test_error.c: cs_fail, cs_fail_prefix, cs_errmsg and exit-code mapping
 * (core/error.c). Run by `make test`. */
#include "tests/testutil.h"

#include <pthread.h>

static void test_fail_records_and_returns(void **state)
{
    (void)state;
    assert_int_equal(cs_fail(CS_EINPUT, "%s:%d: bad %s", "f.csv", 3, "thing"), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "f.csv:3: bad thing");
    cs_errclear();
    assert_string_equal(cs_errmsg(), "");
}

static void test_prefix(void **state)
{
    (void)state;
    cs_fail(CS_EIO, "inner");
    assert_int_equal(cs_fail_prefix(CS_EIO, "outer %d", 1), CS_EIO);
    assert_string_equal(cs_errmsg(), "outer 1: inner");
}

static void test_long_message_is_cut(void **state)
{
    char big[3 * CS_ERRMSG_MAX];

    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cs_fail(CS_EINPUT, "%s", big);
    assert_int_equal(strlen(cs_errmsg()), CS_ERRMSG_MAX - 1);
}

static void *thread_body(void *arg)
{
    (void)arg;
    cs_fail(CS_ENOMEM, "other thread");
    return NULL;
}

static void test_thread_local(void **state)
{
    pthread_t t;

    (void)state;
    cs_fail(CS_EINPUT, "main thread");
    assert_int_equal(pthread_create(&t, NULL, thread_body, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(cs_errmsg(), "main thread");
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(cs_exit_code(CS_OK), 0);
    assert_int_equal(cs_exit_code(CS_EINVAL), 2);
    assert_int_equal(cs_exit_code(CS_EINPUT), 2);
    assert_int_equal(cs_exit_code(CS_EIO), 1);
    assert_int_equal(cs_exit_code(CS_ENOCONV), 1);
    assert_int_equal(cs_exit_code(CS_ECUDA), 1);
    assert_string_equal(cs_status_name(CS_EGSL), "EGSL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_records_and_returns),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_long_message_is_cut),
        cmocka_unit_test(test_thread_local),
        cmocka_unit_test(test_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
