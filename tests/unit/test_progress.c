/* tests/unit/test_progress.c: the progress bar (core/progress.c) drawn into a temporary file, with
 * explicit clock times (cs_progress_update_at) so that nothing depends on how fast the test runs.
 * Run by `make test`. */
#include "tests/testutil.h"

#include "core/progress.h"

#include <math.h>

/* Everything written to `f` so far, as a NUL-terminated string in a static buffer. */
static const char *contents(FILE *f)
{
    static char buf[8192];
    size_t n;

    assert_int_equal(fflush(f), 0);
    rewind(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    return buf;
}

/* The last '\r'-separated line of the output (the one a terminal would show). */
static const char *last_line(FILE *f)
{
    const char *s = contents(f);
    const char *cr = strrchr(s, '\r');

    return cr ? cr + 1 : s;
}

#define assert_has(hay, needle)                                                                    \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL)                                                       \
            fail_msg("\"%s\" lacks \"%s\"", (hay), (needle));                                      \
    } while (0)

static cs_progress_params forced_on(void)
{
    cs_progress_params p = cs_progress_default_params();

    p.mode = CS_PROGRESS_ON;
    p.label = "train";
    p.unit = "tok";
    p.bar_width = 10;
    p.start = 1000.0;
    return p;
}

static void test_format_duration(void **state)
{
    char b[32];

    (void)state;
    cs_progress_format_duration(3725, b, sizeof b);
    assert_string_equal(b, "1:02:05");
    cs_progress_format_duration(3725.9, b, sizeof b);
    assert_string_equal(b, "1:02:05");
    cs_progress_format_duration(65, b, sizeof b);
    assert_string_equal(b, "1:05");
    cs_progress_format_duration(0, b, sizeof b);
    assert_string_equal(b, "0:00");
    cs_progress_format_duration(3599, b, sizeof b);
    assert_string_equal(b, "59:59");
    cs_progress_format_duration(3600, b, sizeof b);
    assert_string_equal(b, "1:00:00");
    cs_progress_format_duration(100 * 3600 + 1, b, sizeof b);
    assert_string_equal(b, "100:00:01");
    cs_progress_format_duration(-1, b, sizeof b);
    assert_string_equal(b, "?:??");
    cs_progress_format_duration(NAN, b, sizeof b);
    assert_string_equal(b, "?:??");
    assert_int_equal(cs_progress_format_duration(3725, b, 4), 7); /* cut, length needed */
    assert_string_equal(b, "1:0");
}

static void test_format_si(void **state)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {12345, "12.3k"},   {37, "37"},       {0, "0"},         {999, "999"},
        {999.7, "1.00k"},   {1000, "1.00k"},  {1.5e6, "1.50M"}, {123456789, "123M"},
        {2.5, "2.50"},      {0.125, "0.125"}, {0.05, "0.0500"}, {0.9996, "1.00"},
        {99.96, "100"},     {9.996, "10.0"},  {4e9, "4.00G"},   {-12345, "-12.3k"},
        {1e-5, "1.00e-05"}, {INFINITY, "?"},
    };
    char b[32];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_progress_format_si(cases[i].v, b, sizeof b);
        if (strcmp(b, cases[i].want) != 0)
            fail_msg("format_si(%g) = \"%s\", want \"%s\"", cases[i].v, b, cases[i].want);
    }
}

/* Forced on into a file: counts, percentage, bar, rate, elapsed time and ETA. */
static void test_draws_counts_and_eta(void **state)
{
    cs_progress_params p = forced_on();
    FILE *f = tmpfile();
    cs_progress *pg;

    (void)state;
    assert_non_null(f);
    pg = cs_progress_alloc(f, 100, &p);
    assert_non_null(pg);
    assert_true(cs_progress_is_enabled(pg));
    cs_progress_set_suffix(pg, "loss %.2f", 3.25);
    /* 25 items in 5 s: 5 tok/s, 75 left, ETA 15 s. */
    cs_progress_update_at(pg, 25, 1005.0);
    assert_string_equal(last_line(f),
                        "train  25% [##        ] 25/100  5 tok/s  0:05 ETA 0:15  loss 3.25");
    /* 75 items at 10 s: 10 tok/s over the last 5 s, averaged with the 5 before; ETA near 3 s. */
    cs_progress_update_at(pg, 75, 1010.0);
    assert_has(last_line(f), "75/100");
    assert_has(last_line(f), "0:10 ETA 0:0");
    cs_progress_finish_at(pg, 1020.0);
    /* The final line: average rate over the run, "elapsed", a newline. */
    assert_has(contents(f),
               "\rtrain  75% [#######   ] 75/100  3.75 tok/s  0:20 elapsed  loss 3.25");
    assert_int_equal(contents(f)[strlen(contents(f)) - 1], '\n');
    cs_progress_update_at(pg, 90, 1030.0); /* ignored after finish */
    assert_null(strstr(contents(f), "90/100"));
    cs_progress_free(pg);
    fclose(f);
}

/* Redraws at most every min_interval seconds, except when the count reaches the total. */
static void test_throttled(void **state)
{
    cs_progress_params p = forced_on();
    FILE *f = tmpfile();
    cs_progress *pg;
    size_t before;

    (void)state;
    assert_non_null(f);
    pg = cs_progress_alloc(f, 1000, &p);
    assert_non_null(pg);
    /* Times are multiples of 2^-7 s so that the differences are exact. */
    cs_progress_update_at(pg, 10, 1001.0); /* the first update always draws */
    before = strlen(contents(f));
    cs_progress_update_at(pg, 11, 1001.0625);
    cs_progress_update_at(pg, 12, 1001.09375);
    assert_int_equal(strlen(contents(f)), before);
    cs_progress_update_at(pg, 13, 1001.125);
    assert_true(strlen(contents(f)) > before);
    assert_has(last_line(f), "13/1000");
    before = strlen(contents(f));
    cs_progress_update_at(pg, 1000, 1001.1328125); /* completion draws at once */
    assert_true(strlen(contents(f)) > before);
    assert_has(last_line(f), "100% [##########] 1000/1000");
    assert_has(last_line(f), "ETA 0:00");
    cs_progress_free(pg);
    fclose(f);
}

/* A shorter line blanks what is left of the longer one before it; unknown totals show no ETA. */
static void test_unknown_total_and_padding(void **state)
{
    cs_progress_params p = forced_on();
    FILE *f = tmpfile();
    cs_progress *pg;
    const char *line;
    size_t before;

    (void)state;
    assert_non_null(f);
    p.label = NULL;
    p.unit = NULL;
    pg = cs_progress_alloc(f, 0, &p);
    assert_non_null(pg);
    cs_progress_set_suffix(pg, "a long suffix\twith a tab");
    cs_progress_update_at(pg, 5000, 1002.0);
    assert_string_equal(last_line(f), "5000 it  2.50k it/s  0:02  a long suffix?with a tab");
    before = strlen(last_line(f));
    cs_progress_set_suffix(pg, NULL);
    /* 1000 tok in the last second pulls the average from 2500 toward 1000 by 1 - exp(-1/2). */
    cs_progress_update_at(pg, 6000, 1003.0);
    assert_null(strstr(contents(f), "ETA"));
    line = last_line(f);
    assert_int_equal(strlen(line), before);
    assert_memory_equal(line, "6000 it  1.91k it/s  0:03 ", 26);
    assert_int_equal(strspn(line + 26, " "), before - 26);
    cs_progress_free(pg);
    fclose(f);
}

/* Large counts take SI prefixes; a count past the total shows 100%. */
static void test_large_counts(void **state)
{
    cs_progress_params p = forced_on();
    FILE *f = tmpfile();
    cs_progress *pg;

    (void)state;
    assert_non_null(f);
    pg = cs_progress_alloc(f, 100000000, &p);
    assert_non_null(pg);
    cs_progress_update_at(pg, 45200000, 1036.0);
    assert_string_equal(last_line(f),
                        "train  45% [####      ] 45.2M/100M  1.26M tok/s  0:36 ETA 0:43");
    cs_progress_update_at(pg, 100000001, 1040.0);
    assert_has(last_line(f), "100% [##########] 100M/100M");
    cs_progress_free(pg);
    fclose(f);
}

/* Auto mode on a file that is not a terminal, and forced off: nothing is written. */
static void test_off_when_not_a_tty(void **state)
{
    cs_progress_params p = forced_on();
    FILE *f = tmpfile();
    cs_progress *pg;

    (void)state;
    assert_non_null(f);
    p.mode = CS_PROGRESS_AUTO;
    pg = cs_progress_alloc(f, 10, &p);
    assert_non_null(pg);
    assert_false(cs_progress_is_enabled(pg));
    cs_progress_update_at(pg, 5, 1001.0);
    cs_progress_add(pg, 5);
    cs_progress_set_suffix(pg, "x");
    cs_progress_finish(pg);
    cs_progress_free(pg);
    p.mode = CS_PROGRESS_OFF;
    pg = cs_progress_alloc(f, 10, &p);
    assert_non_null(pg);
    cs_progress_update(pg, 5);
    cs_progress_finish(pg);
    cs_progress_free(pg);
    assert_string_equal(contents(f), "");
    fclose(f);
}

/* The real clock: update, add and finish without explicit times. */
static void test_real_clock(void **state)
{
    cs_progress_params p = forced_on();
    FILE *f = tmpfile();
    cs_progress *pg;

    (void)state;
    assert_non_null(f);
    p.start = -1;
    pg = cs_progress_alloc(f, 10, &p);
    assert_non_null(pg);
    cs_progress_update(pg, 4);
    cs_progress_add(pg, 6); /* reaches the total: always drawn */
    assert_has(last_line(f), "10/10");
    cs_progress_finish(pg);
    assert_has(contents(f), "elapsed");
    cs_progress_free(pg);
    fclose(f);
}

static void test_bad_params(void **state)
{
    cs_progress_params p = cs_progress_default_params();

    (void)state;
    assert_null(cs_progress_alloc(NULL, 10, &p));
    assert_int_equal(cs_errmsg()[0] != '\0', 1);
    p.bar_width = -1;
    assert_null(cs_progress_alloc(stderr, 10, &p));
    p = cs_progress_default_params();
    p.mode = 7;
    assert_null(cs_progress_alloc(stderr, 10, &p));
    cs_progress_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_duration),
        cmocka_unit_test(test_format_si),
        cmocka_unit_test(test_draws_counts_and_eta),
        cmocka_unit_test(test_throttled),
        cmocka_unit_test(test_unknown_total_and_padding),
        cmocka_unit_test(test_large_counts),
        cmocka_unit_test(test_off_when_not_a_tty),
        cmocka_unit_test(test_real_clock),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
