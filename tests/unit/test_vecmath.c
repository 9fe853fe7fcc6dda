/* tests/unit/test_vecmath.c: the inline helpers of trainer/vecmath.h (the vectorisable exp and
 * tanh against libm in double, the static split of a range) and the ops at sizes where they split
 * their work among OpenMP threads: two threads must give the one-thread result (bit for bit
 * where the header promises independence of the thread count, within float rounding for the
 * matrix products split into blocks) and the same bits on every run. The ops' own tests
 * (tests/unit/test_<op>.c) check the results against float64 references at small sizes. Run by
 * `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/attention.h"
#include "trainer/gelu.h"
#include "trainer/layernorm.h"
#include "trainer/matmul.h"
#include "trainer/vecmath.h"
#include "trainer/xent.h"

#include <math.h>
#include <omp.h>

/* cs_vm_expf is documented to 2e-7 relative (measured 8.3e-8), cs_vm_tanhf to 2e-7 absolute
 * (measured 9e-8). */
#define EXP_RTOL  2e-7
#define TANH_ATOL 2e-7

/* Two blockings of the same float products differ by rounding only: a few ulps of sums of
 * O(10) terms of O(1). */
#define SPLIT_RTOL 1e-5
#define SPLIT_ATOL 1e-5

static void test_expf_accuracy(void **state)
{
    double worst = 0.0;

    (void)state;
    for (double x = CS_VM_EXP_LO; x <= CS_VM_EXP_HI; x += 1.1e-3) {
        float f = (float)x;
        double want = exp((double)f);
        double err = fabs((double)cs_vm_expf(f) - want) / want;

        worst = err > worst ? err : worst;
    }
    if (worst > EXP_RTOL)
        fail_msg("cs_vm_expf: worst relative error %g > %g", worst, EXP_RTOL);
    assert_true(cs_vm_expf(0.0f) == 1.0f);
    assert_true(cs_vm_expf(-100.0f) == 0.0f);
    assert_true(cs_vm_expf(-INFINITY) == 0.0f);
    assert_true(isinf(cs_vm_expf(89.0f)) && cs_vm_expf(89.0f) > 0.0f);
    assert_true(isinf(cs_vm_expf(INFINITY)));
    assert_true(isnan(cs_vm_expf(NAN)));
}

static void test_tanhf_accuracy(void **state)
{
    double worst = 0.0;

    (void)state;
    for (double x = -20.0; x <= 20.0; x += 3.7e-4) {
        float f = (float)x;
        double err = fabs((double)cs_vm_tanhf(f) - tanh((double)f));

        worst = err > worst ? err : worst;
        assert_true(cs_vm_tanhf(-f) == -cs_vm_tanhf(f));
    }
    if (worst > TANH_ATOL)
        fail_msg("cs_vm_tanhf: worst absolute error %g > %g", worst, TANH_ATOL);
    assert_true(cs_vm_tanhf(0.0f) == 0.0f);
    assert_true(cs_vm_tanhf(50.0f) == 1.0f);
    assert_true(cs_vm_tanhf(-50.0f) == -1.0f);
    assert_true(isnan(cs_vm_tanhf(NAN)));
}

/* The parts are contiguous, cover 0..n, and every inner boundary is a multiple of align. */
static void test_split_covers_range(void **state)
{
    const size_t ns[] = {0, 1, 5, 16, 17, 1000, 4097};
    const size_t aligns[] = {1, 16};
    const int threads[] = {1, 2, 3, 7};

    (void)state;
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        for (size_t a = 0; a < 2; a++)
            for (size_t k = 0; k < sizeof threads / sizeof *threads; k++) {
                size_t next = 0;

                for (int t = 0; t < threads[k]; t++) {
                    size_t lo, hi;

                    cs_vm_split(ns[i], aligns[a], t, threads[k], &lo, &hi);
                    assert_true(lo == next || (hi <= lo && lo >= next));
                    assert_true(lo % aligns[a] == 0);
                    next = hi > next ? hi : next;
                }
                assert_int_equal(next, ns[i]);
            }
}

// ---- ops split among threads ---------------------------------------------------------------

static void assert_close_f(const float *got, const float *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!fd_close(got[i], want[i], SPLIT_RTOL, SPLIT_ATOL))
            fail_msg("%s[%zu]: 2 threads %.9g, 1 thread %.9g", what, i, (double)got[i],
                     (double)want[i]);
}

typedef struct mm_out {
    float *out, *dinp, *dw, *db;
} mm_out;

/* Forward and backward of a linear layer large enough to split, with `threads` threads. */
static mm_out run_matmul(int threads, size_t BT, size_t C, size_t OC)
{
    cs_rng r;
    float *x, *w, *b, *g;
    mm_out o;

    cs_rng_seed(&r, 81, 0);
    x = fd_rand(&r, BT * C, -1, 1), w = fd_rand(&r, OC * C, -1, 1), b = fd_rand(&r, OC, -1, 1);
    g = fd_rand(&r, BT * OC, -1, 1);
    o = (mm_out){fd_zeros(BT * OC), fd_rand(&r, BT * C, -1, 1), fd_rand(&r, OC * C, -1, 1),
                 fd_rand(&r, OC, -1, 1)};
    omp_set_num_threads(threads);
    cs_matmul_forward_cpu(o.out, x, w, b, BT, C, OC);
    cs_matmul_backward_cpu(o.dinp, o.dw, o.db, g, x, w, BT, C, OC);
    omp_set_num_threads(1);
    free(x), free(w), free(b), free(g);
    return o;
}

static void free_mm(mm_out *o)
{
    free(o->out), free(o->dinp), free(o->dw), free(o->db);
}

/* Both ways of splitting: the first shape splits the rows of out and dinp, the second their
 * columns. */
static void test_matmul_threads(void **state)
{
    const size_t shapes[2][3] = {{150, 48, 70}, {40, 96, 150}};

    (void)state;
    for (int s = 0; s < 2; s++) {
        size_t BT = shapes[s][0], C = shapes[s][1], OC = shapes[s][2];
        mm_out one = run_matmul(1, BT, C, OC), two = run_matmul(2, BT, C, OC);
        mm_out again = run_matmul(2, BT, C, OC);

        assert_close_f(two.out, one.out, BT * OC, "out");
        assert_close_f(two.dinp, one.dinp, BT * C, "dinp");
        assert_close_f(two.dw, one.dw, OC * C, "dweight");
        assert_memory_equal(two.db, one.db, OC * sizeof(float)); /* row order in double */
        assert_memory_equal(again.out, two.out, BT * OC * sizeof(float));
        assert_memory_equal(again.dinp, two.dinp, BT * C * sizeof(float));
        assert_memory_equal(again.dw, two.dw, OC * C * sizeof(float));
        free_mm(&one), free_mm(&two), free_mm(&again);
    }
}

typedef struct att_out {
    float *out, *att, *dqkv;
} att_out;

static att_out run_attention(int threads, size_t B, size_t T, size_t C, size_t NH)
{
    cs_rng r;
    float *qkv, *g, *scratch;
    att_out o;

    cs_rng_seed(&r, 82, 0);
    qkv = fd_rand(&r, B * T * 3 * C, -2, 2), g = fd_rand(&r, B * T * C, -1, 1);
    scratch = fd_rand(&r, T * T, -9, 9);
    o = (att_out){fd_zeros(B * T * C), fd_zeros(B * NH * T * T), fd_rand(&r, B * T * 3 * C, -1, 1)};
    omp_set_num_threads(threads);
    cs_attention_forward_cpu(o.out, o.att, qkv, B, T, C, NH);
    cs_attention_backward_cpu(o.dqkv, scratch, g, qkv, o.att, B, T, C, NH);
    omp_set_num_threads(1);
    free(qkv), free(g), free(scratch);
    return o;
}

/* Each head is computed the same way whatever the thread count (the backward pass's block rows
 * depend on T only), so the results are the same bits. T = 64 and 100 cross the row blocks. */
static void test_attention_threads(void **state)
{
    const size_t Ts[2] = {64, 100};

    (void)state;
    for (int s = 0; s < 2; s++) {
        size_t B = 2, T = Ts[s], C = 48, NH = 3;
        att_out one = run_attention(1, B, T, C, NH), two = run_attention(2, B, T, C, NH);

        assert_memory_equal(two.out, one.out, B * T * C * sizeof(float));
        assert_memory_equal(two.att, one.att, B * NH * T * T * sizeof(float));
        assert_memory_equal(two.dqkv, one.dqkv, B * T * 3 * C * sizeof(float));
        free(one.out), free(one.att), free(one.dqkv);
        free(two.out), free(two.att), free(two.dqkv);
    }
}

/* LayerNorm, GELU and cross-entropy: rows and elements are independent and the parameter
 * gradients are summed over rows in order, so 1 and 2 threads give the same bits. */
static void run_rowwise(int threads, float **res, size_t BT, size_t C, size_t V)
{
    cs_rng r;
    float *x, *w, *b, *g, *z;
    uint32_t *y = malloc(BT * sizeof *y);

    assert_non_null(y);
    cs_rng_seed(&r, 83, 0);
    x = fd_rand(&r, BT * C, -2, 2), w = fd_rand(&r, C, 0, 2), b = fd_rand(&r, C, -1, 1);
    g = fd_rand(&r, BT * C, -1, 1), z = fd_rand(&r, BT * V, -5, 5);
    for (size_t i = 0; i < BT; i++)
        y[i] = (uint32_t)cs_rng_below(&r, V);
    res[0] = fd_zeros(BT * C), res[1] = fd_zeros(2 * BT), res[2] = fd_zeros(BT * C);
    res[3] = fd_zeros(2 * C), res[4] = fd_zeros(BT * C), res[5] = fd_zeros(2 * BT);
    res[6] = fd_zeros(BT * V);
    omp_set_num_threads(threads);
    cs_layernorm_forward_cpu(res[0], res[1], res[1] + BT, x, w, b, BT, C);
    cs_layernorm_backward_cpu(res[2], res[3], res[3] + C, g, x, w, res[1], res[1] + BT, BT, C);
    cs_gelu_forward_cpu(res[4], x, BT * C);
    cs_gelu_backward_cpu(res[2], x, g, BT * C);
    cs_xent_forward_cpu(res[5], res[5] + BT, z, y, BT, V);
    cs_xent_backward_cpu(res[6], z, res[5] + BT, y, NULL, 0.01f, BT, V);
    omp_set_num_threads(1);
    free(x), free(w), free(b), free(g), free(z), free(y);
}

static void test_rowwise_threads(void **state)
{
    size_t BT = 2700, C = 200, V = 400; /* above the ops' one-thread thresholds */
    const size_t sizes[7] = {BT * C, 2 * BT, BT * C, 2 * C, BT * C, 2 * BT, BT * V};
    const char *names[7] = {"ln out",           "ln mean/rstd", "ln dinp + gelu dinp",
                            "ln dweight/dbias", "gelu out",     "xent losses/lse",
                            "xent dlogits"};
    float *one[7], *two[7];

    (void)state;
    run_rowwise(1, one, BT, C, V);
    run_rowwise(2, two, BT, C, V);
    for (int i = 0; i < 7; i++) {
        if (memcmp(one[i], two[i], sizes[i] * sizeof(float)) != 0)
            fail_msg("%s: 1 and 2 threads differ", names[i]);
        free(one[i]), free(two[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expf_accuracy),      cmocka_unit_test(test_tanhf_accuracy),
        cmocka_unit_test(test_split_covers_range), cmocka_unit_test(test_matmul_threads),
        cmocka_unit_test(test_attention_threads),  cmocka_unit_test(test_rowwise_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
