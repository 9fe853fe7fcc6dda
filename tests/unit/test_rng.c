/* tests/unit/test_rng.c: core/rng.c against reference outputs, stream independence,
 * reproducibility from a copied state, and loose statistical checks. Every test uses a fixed
 * seed, so the statistical bounds (about 7 standard deviations) are checked on one fixed sample
 * and cannot flake. Run by `make test`. */
#include "tests/testutil.h"

#include "core/rng.h"

#include <math.h>

/* Outputs of the reference splitmix64.c (Vigna) started at state 0, the test vector other
 * implementations check against. */
static void test_splitmix64_reference(void **state)
{
    static const uint64_t want[5] = {
        UINT64_C(0xe220a8397b1dcdaf), UINT64_C(0x6e789e6aa1b965f4), UINT64_C(0x06c45d188009454f),
        UINT64_C(0xf88bb8a8724c81ec), UINT64_C(0x1b39896a51a8749b),
    };
    uint64_t x = 0;
    size_t i;

    (void)state;
    for (i = 0; i < 5; i++)
        assert_true(cs_rng_splitmix64(&x) == want[i]);
}

/* Outputs of the reference xoshiro256starstar.c (Blackman and Vigna) from the raw state
 * {1, 2, 3, 4}, the test vector other implementations check against; the first is easy to check
 * by hand: rotl(2 * 5, 7) * 9 = 1280 * 9 = 11520. */
static void test_xoshiro_reference(void **state)
{
    static const uint64_t want[10] = {
        UINT64_C(11520),
        UINT64_C(0),
        UINT64_C(1509978240),
        UINT64_C(1215971899390074240),
        UINT64_C(1216172134540287360),
        UINT64_C(607988272756665600),
        UINT64_C(16172922978634559625),
        UINT64_C(8476171486693032832),
        UINT64_C(10595114339597558777),
        UINT64_C(2904607092377533576),
    };
    cs_rng r = {{1, 2, 3, 4}, 0.0, 0};
    size_t i;

    (void)state;
    for (i = 0; i < 10; i++)
        assert_true(cs_rng_u64(&r) == want[i]);
}

/* Pinned first outputs of our seeding, so that a change to it (which would change every
 * experiment's data order and initialisation) cannot go unnoticed. Computed once. */
static void test_seed_pinned(void **state)
{
    static const uint64_t want0[4] = {
        UINT64_C(0x15780b2e0c2ec716),
        UINT64_C(0x6104d9866d113a7e),
        UINT64_C(0xae17533239e499a1),
        UINT64_C(0xecb8ad4703b360a1),
    };
    static const uint64_t want1[4] = {
        UINT64_C(0x651975049fe9c8f5),
        UINT64_C(0x3bcdf131397288c7),
        UINT64_C(0x8fb7530efe17205e),
        UINT64_C(0x2b04008f6d31518a),
    };
    cs_rng r;
    cs_rng ref = {{0, 0, 0, 0}, 0.0, 0};
    uint64_t x = 42;
    size_t i;

    (void)state;
    cs_rng_seed(&r, 42, 0);
    for (i = 0; i < 4; i++)
        assert_true(cs_rng_u64(&r) == want0[i]);
    cs_rng_seed(&r, 42, 1);
    for (i = 0; i < 4; i++)
        assert_true(cs_rng_u64(&r) == want1[i]);
    /* Stream 0 is the reference seeding: the state is splitmix64's first four outputs. */
    for (i = 0; i < 4; i++)
        ref.s[i] = cs_rng_splitmix64(&x);
    cs_rng_seed(&r, 42, 0);
    assert_memory_equal(r.s, ref.s, sizeof ref.s);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* 100 seeds x 100 streams: every generator's first output differs from every other's, and
 * neighbouring streams share no output among their first 64. */
static void test_streams_differ(void **state)
{
    enum { NS = 100, NK = 100 };
    uint64_t *first = malloc(NS * NK * sizeof *first);
    uint64_t a[64];
    uint64_t b[64];
    cs_rng r;
    size_t i;
    size_t j;

    (void)state;
    assert_non_null(first);
    for (i = 0; i < NS; i++)
        for (j = 0; j < NK; j++) {
            cs_rng_seed(&r, i, j);
            first[i * NK + j] = cs_rng_u64(&r);
        }
    qsort(first, NS * NK, sizeof *first, cmp_u64);
    for (i = 1; i < NS * NK; i++)
        assert_true(first[i] != first[i - 1]);
    free(first);
    for (j = 0; j < 10; j++) {
        cs_rng_seed(&r, 7, j);
        for (i = 0; i < 64; i++)
            a[i] = cs_rng_u64(&r);
        cs_rng_seed(&r, 7, j + 1);
        for (i = 0; i < 64; i++)
            b[i] = cs_rng_u64(&r);
        for (i = 0; i < 64 * 64; i++)
            assert_true(a[i / 64] != b[i % 64]);
    }
}

/* The same (seed, stream) gives the same numbers; a byte copy of the state taken mid-stream,
 * with a normal deviate pending in `spare`, goes on exactly like the original. */
static void test_reproducible(void **state)
{
    cs_rng a;
    cs_rng b;
    unsigned char image[sizeof(cs_rng)];
    size_t i;

    (void)state;
    assert_int_equal(sizeof(cs_rng), 48); /* plain struct, no padding: checkpoints save it */
    cs_rng_seed(&a, 123, 9);
    cs_rng_seed(&b, 123, 9);
    for (i = 0; i < 1000; i++)
        assert_true(cs_rng_u64(&a) == cs_rng_u64(&b));
    (void)cs_rng_normal(&a); /* leaves the pair's second value pending */
    assert_true(a.has_spare == 1);
    memcpy(image, &a, sizeof image);
    memcpy(&b, image, sizeof image);
    for (i = 0; i < 1000; i++) {
        assert_true(cs_rng_normal(&a) == cs_rng_normal(&b));
        assert_true(cs_rng_u64(&a) == cs_rng_u64(&b));
        assert_true(cs_rng_below(&a, 1000 + i) == cs_rng_below(&b, 1000 + i));
    }
}

static void test_uniform_stats(void **state)
{
    enum { N = 1000000 };
    cs_rng r;
    double sum = 0;
    double sum2 = 0;
    double fsum = 0;
    double mean;
    size_t i;

    (void)state;
    cs_rng_seed(&r, 2024, 0);
    for (i = 0; i < N; i++) {
        double u = cs_rng_uniform(&r);
        float f = cs_rng_uniformf(&r);

        assert_true(u >= 0.0 && u < 1.0);
        assert_true(f >= 0.0f && f < 1.0f);
        sum += u;
        sum2 += u * u;
        fsum += f;
    }
    /* Standard error of the mean: sqrt(1/12 / N) = 2.9e-4; of the variance about 7.5e-5. */
    mean = sum / N;
    assert_true(fabs(mean - 0.5) < 0.002);
    assert_true(fabs(sum2 / N - mean * mean - 1.0 / 12.0) < 0.0005);
    assert_true(fabs(fsum / N - 0.5) < 0.002);
}

/* Pearson's chi-square of observed counts against equal expected counts. */
static double chi_square(const size_t *count, size_t k, size_t n)
{
    double expect = (double)n / (double)k;
    double chi = 0;
    size_t i;

    for (i = 0; i < k; i++)
        chi += ((double)count[i] - expect) * ((double)count[i] - expect) / expect;
    return chi;
}

static void test_below(void **state)
{
    enum { N = 100000 };
    size_t count[10] = {0};
    uint64_t big = (UINT64_C(1) << 63) + 1; /* rejects almost half of the raw draws */
    cs_rng r;
    size_t i;

    (void)state;
    cs_rng_seed(&r, 5, 3);
    for (i = 0; i < N; i++) {
        uint64_t v = cs_rng_below(&r, 10);

        assert_true(v < 10);
        count[v]++;
    }
    /* 9 degrees of freedom: P(chi2 > 40) is about 7e-6. */
    assert_true(chi_square(count, 10, N) < 40.0);
    for (i = 0; i < 1000; i++) {
        assert_true(cs_rng_below(&r, 1) == 0);
        assert_true(cs_rng_below(&r, big) < big);
        assert_true(cs_rng_below(&r, UINT64_MAX) < UINT64_MAX);
    }
}

static void test_normal_stats(void **state)
{
    enum { N = 1000000 };
    cs_rng r;
    double sum = 0;
    double sum2 = 0;
    double mean;
    size_t beyond3 = 0;
    size_t i;

    (void)state;
    cs_rng_seed(&r, 77, 0);
    for (i = 0; i < N; i++) {
        double z = cs_rng_normal(&r);

        assert_true(isfinite(z));
        sum += z;
        sum2 += z * z;
        beyond3 += fabs(z) > 3.0;
    }
    mean = sum / N;
    assert_true(fabs(mean) < 0.007);                        /* standard error 0.001 */
    assert_true(fabs(sum2 / N - mean * mean - 1.0) < 0.01); /* standard error 0.0014 */
    /* P(|z| > 3) = 0.0027, so about 2700 of 1e6 (standard deviation 52). */
    assert_in_range(beyond3, 2350, 3050);
}

static void test_shuffle(void **state)
{
    enum { N = 60000 };
    size_t perm_count[6] = {0};
    size_t a[3];
    size_t big[1000];
    size_t seen[1000] = {0};
    cs_rng r;
    size_t i;

    (void)state;
    cs_rng_seed(&r, 11, 0);
    for (i = 0; i < N; i++) {
        a[0] = 0, a[1] = 1, a[2] = 2;
        cs_rng_shuffle(&r, a, 3);
        /* Rank of the permutation of {0, 1, 2} in lexicographic order. */
        perm_count[a[0] * 2 + (a[1] > a[2])]++;
    }
    assert_true(chi_square(perm_count, 6, N) < 35.0); /* 5 d.o.f.: P(> 35) is about 1.5e-6 */
    for (i = 0; i < 1000; i++)
        big[i] = i;
    cs_rng_shuffle(&r, big, 1000);
    for (i = 0; i < 1000; i++)
        seen[big[i]]++;
    for (i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    cs_rng_shuffle(&r, big, 0); /* no-ops */
    cs_rng_shuffle(&r, big, 1);
}

static void test_fill(void **state)
{
    enum { N = 100000 };
    float *x = malloc(N * sizeof *x);
    double sum = 0;
    double sum2 = 0;
    cs_rng r;
    size_t i;

    (void)state;
    assert_non_null(x);
    cs_rng_seed(&r, 3, 1);
    cs_rng_fill_uniform(&r, x, N, -2.0f, 3.0f);
    for (i = 0; i < N; i++) {
        assert_true(x[i] >= -2.0f && x[i] < 3.0f);
        sum += x[i];
    }
    assert_true(fabs(sum / N - 0.5) < 0.04); /* standard error 5 / sqrt(12 N) = 0.0046 */
    cs_rng_fill_uniform(&r, x, 10, 1.5f, 1.5f);
    for (i = 0; i < 10; i++)
        assert_true(x[i] == 1.5f);
    /* A range one float wide: every value is lo, never hi. */
    cs_rng_fill_uniform(&r, x, 1000, 1.0f, nextafterf(1.0f, 2.0f));
    for (i = 0; i < 1000; i++)
        assert_true(x[i] == 1.0f);
    cs_rng_fill_normal(&r, x, N, 1.0f, 0.02f);
    sum = 0;
    for (i = 0; i < N; i++) {
        sum += x[i];
        sum2 += (x[i] - 1.0) * (x[i] - 1.0);
    }
    assert_true(fabs(sum / N - 1.0) < 0.0005);         /* standard error 6.3e-5 */
    assert_true(fabs(sqrt(sum2 / N) - 0.02) < 0.0005); /* standard error 4.5e-5 */
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix64_reference),
        cmocka_unit_test(test_xoshiro_reference),
        cmocka_unit_test(test_seed_pinned),
        cmocka_unit_test(test_streams_differ),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_uniform_stats),
        cmocka_unit_test(test_below),
        cmocka_unit_test(test_normal_stats),
        cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
