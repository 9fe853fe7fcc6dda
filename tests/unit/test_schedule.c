/* tests/unit/test_schedule.c: learning-rate schedules of trainer/schedule.c against values
 * computed by hand, and the checks of bad settings. Run by `make test`. */
#include "tests/testutil.h"

#include "trainer/schedule.h"

#include <math.h>

static void test_cosine(void **state)
{
    cs_schedule s = {CS_SCHEDULE_COSINE, 1.0, 0.1, 10, 110, 0};

    (void)state;
    assert_int_equal(cs_schedule_check(&s), CS_OK);
    assert_true(fabs(cs_schedule_lr(&s, 0) - 0.1) < 1e-12); /* warm-up: (0 + 1) / 10 */
    assert_true(fabs(cs_schedule_lr(&s, 4) - 0.5) < 1e-12);
    assert_true(fabs(cs_schedule_lr(&s, 9) - 1.0) < 1e-12);
    assert_true(fabs(cs_schedule_lr(&s, 10) - 1.0) < 1e-12); /* peak right after warm-up */
    assert_true(fabs(cs_schedule_lr(&s, 109) - 0.1) < 1e-12); /* last step at lr_min */
    /* half way through the decay: p = 49.5 / 99 = 0.5, lr = 0.1 + 0.45 (1 + cos(π/2)) */
    s.total_steps = 111;
    assert_true(fabs(cs_schedule_lr(&s, 60) - 0.55) < 1e-12);
    for (int64_t k = 11; k < 111; k++)
        assert_true(cs_schedule_lr(&s, k) <= cs_schedule_lr(&s, k - 1));
    assert_true(cs_schedule_lr(&s, 500) == cs_schedule_lr(&s, 110));
}

static void test_constant_and_wsd(void **state)
{
    cs_schedule c = {CS_SCHEDULE_CONSTANT, 3e-3, 0, 2, 10, 0};
    cs_schedule w = {CS_SCHEDULE_WSD, 1.0, 0.0, 0, 100, 0.2};

    (void)state;
    assert_int_equal(cs_schedule_check(&c), CS_OK);
    assert_true(fabs(cs_schedule_lr(&c, 0) - 1.5e-3) < 1e-15);
    assert_true(cs_schedule_lr(&c, 2) == 3e-3 && cs_schedule_lr(&c, 9) == 3e-3);
    assert_int_equal(cs_schedule_check(&w), CS_OK);
    assert_true(cs_schedule_lr(&w, 79) == 1.0);                 /* stable up to step 79 */
    assert_true(fabs(cs_schedule_lr(&w, 80) - 0.95) < 1e-12);   /* 20 decay steps: 1 − 1/20 */
    assert_true(fabs(cs_schedule_lr(&w, 89) - 0.5) < 1e-12);
    assert_true(fabs(cs_schedule_lr(&w, 99) - 0.0) < 1e-12);
}

static void test_bad_settings(void **state)
{
    cs_schedule s = {CS_SCHEDULE_COSINE, 0.0, 0, 0, 10, 0};
    int kind = -1;

    (void)state;
    assert_int_equal(cs_schedule_check(&s), CS_EINPUT); /* lr 0 */
    tu_assert_errmsg_has("lr");
    s.lr_max = -1;
    assert_int_equal(cs_schedule_check(&s), CS_EINPUT);
    s.lr_max = NAN;
    assert_int_equal(cs_schedule_check(&s), CS_EINPUT);
    s.lr_max = 1;
    s.total_steps = 0;
    assert_int_equal(cs_schedule_check(&s), CS_EINPUT); /* zero steps */
    tu_assert_errmsg_has("steps");
    s.total_steps = 10;
    s.warmup_steps = 10;
    assert_int_equal(cs_schedule_check(&s), CS_EINPUT);
    s.warmup_steps = 0;
    s.lr_min = 2;
    assert_int_equal(cs_schedule_check(&s), CS_EINPUT);
    s.lr_min = 0;
    s.kind = CS_SCHEDULE_WSD;
    assert_int_equal(cs_schedule_check(&s), CS_EINPUT); /* decay_frac 0 */
    assert_int_equal(cs_schedule_parse("wsd", &kind, NULL), CS_OK);
    assert_int_equal(kind, CS_SCHEDULE_WSD);
    assert_int_equal(cs_schedule_parse("linear", &kind, "--schedule"), CS_EINPUT);
    tu_assert_errmsg_has("--schedule");
    assert_string_equal(cs_schedule_name(CS_SCHEDULE_CONSTANT), "constant");
    assert_null(cs_schedule_name(7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_constant_and_wsd),
        cmocka_unit_test(test_bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
