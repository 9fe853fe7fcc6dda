/* tests/unit/test_rope.c: rotary position embeddings (trainer/rope.c): tables, forward against a
 * float64 reference, backward against central finite differences (tests/unit/fdcheck.h), the
 * relative-position property, and tables longer than the training context. Run by
 * `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/rope.h"

enum { B = 2, T = 5, C = 12, NH = 3, HS = C / NH, ROW = 3 * C };

#define THETA 10000.0

/* Table entries and rotated values are single float roundings of O(1) quantities (tables) or
 * two-term float sums of O(3) values. */
#define FWD_RTOL 1e-6
#define FWD_ATOL 2e-6

typedef struct rope_ctx {
    double *x;      /* (B, T, 3C) */
    const float *g; /* (B, T, 3C), the weights of the objective */
    double *out;    /* (B, T, 3C) reference output */
} rope_ctx;

/* The float64 reference with the angles computed directly (no tables). */
static void rope_reference(rope_ctx *e)
{
    for (size_t r = 0; r < B * T; r++) {
        const double *x = e->x + r * ROW;
        double *y = e->out + r * ROW;

        for (size_t c = 0; c < 2 * C; c += 2) { /* q and k: pairs (2i, 2i+1) of each head */
            size_t i = (c % HS) / 2;
            double a = (double)(r % T) * pow(THETA, -(double)(2 * i) / HS);

            y[c] = x[c] * cos(a) - x[c + 1] * sin(a);
            y[c + 1] = x[c] * sin(a) + x[c + 1] * cos(a);
        }
        for (size_t c = 2 * C; c < ROW; c++)
            y[c] = x[c];
    }
}

static double rope_objective(void *p)
{
    rope_ctx *e = p;

    rope_reference(e);
    return fd_dot(e->g, e->out, B * T * ROW);
}

static void test_tables(void **state)
{
    float cs[64 * 8];
    float sn[64 * 8];

    (void)state;
    assert_int_equal(cs_rope_fill_tables(cs, sn, 64, 16, 500000.0), CS_OK);
    for (size_t i = 0; i < 8; i++) {
        assert_true(cs[i] == 1.0f && sn[i] == 0.0f); /* position 0: no rotation */
        for (size_t p = 1; p < 64; p++) {
            double a = (double)p * pow(500000.0, -(double)(2 * i) / 16);

            assert_true(fd_close(cs[p * 8 + i], cos(a), 0, 1e-7));
            assert_true(fd_close(sn[p * 8 + i], sin(a), 0, 1e-7));
        }
    }
    assert_true(fd_close(sn[1 * 8 + 0], sin(1.0), 0, 1e-7)); /* ω_0 = 1 rad per position */
    assert_int_equal(cs_rope_fill_tables(cs, sn, 64, 7, THETA), CS_EINVAL);
    tu_assert_errmsg_has("head size 7");
    assert_int_equal(cs_rope_fill_tables(cs, sn, 64, 0, THETA), CS_EINVAL);
    assert_int_equal(cs_rope_fill_tables(cs, sn, 0, 16, THETA), CS_EINVAL);
    assert_int_equal(cs_rope_fill_tables(cs, sn, 64, 16, 0.0), CS_EINVAL);
    tu_assert_errmsg_has("theta");
    assert_int_equal(cs_rope_fill_tables(cs, sn, 64, 16, NAN), CS_EINVAL);
    assert_int_equal(cs_rope_fill_tables(cs, sn, 64, 16, INFINITY), CS_EINVAL);
}

/* Hand values: HS = 4, θ = 10⁴, so ω_0 = 1 and ω_1 = 10⁻²; q = (1, 0, 0, 1) at position 2
 * becomes (cos 2, sin 2, −sin 0.02, cos 0.02). */
static void test_pair_convention(void **state)
{
    float cs[3 * 2];
    float sn[3 * 2];
    float x[3 * 12] = {0};
    float y[3 * 12];

    (void)state;
    assert_int_equal(cs_rope_fill_tables(cs, sn, 3, 4, THETA), CS_OK);
    x[2 * 12 + 0] = 1.0f; /* row t = 2 of a (1, 3, 3·4) qkv with one head */
    x[2 * 12 + 3] = 1.0f;
    x[2 * 12 + 9] = 5.0f; /* v: copied */
    cs_rope_forward_cpu(y, x, cs, sn, 1, 3, 4, 1);
    assert_true(fd_close(y[24], cos(2.0), 0, 1e-7));
    assert_true(fd_close(y[25], sin(2.0), 0, 1e-7));
    assert_true(fd_close(y[26], -sin(0.02), 0, 1e-7));
    assert_true(fd_close(y[27], cos(0.02), 0, 1e-7));
    assert_true(y[33] == 5.0f);
}

static void test_forward_matches_reference(void **state)
{
    cs_rng r;
    float cs[T * HS / 2];
    float sn[T * HS / 2];
    float *x;
    float *out = fd_zeros(B * T * ROW);
    rope_ctx e;

    (void)state;
    cs_rng_seed(&r, 71, 0);
    x = fd_rand(&r, B * T * ROW, -3, 3);
    assert_int_equal(cs_rope_fill_tables(cs, sn, T, HS, THETA), CS_OK);
    cs_rope_forward_cpu(out, x, cs, sn, B, T, C, NH);
    e = (rope_ctx){fd_widen(x, B * T * ROW), NULL, fd_dzeros(B * T * ROW)};
    rope_reference(&e);
    fd_assert_close(out, e.out, B * T * ROW, FWD_RTOL, FWD_ATOL, "out");
    cs_rope_forward_cpu(x, x, cs, sn, B, T, C, NH); /* in place: the same bits */
    assert_memory_equal(x, out, B * T * ROW * sizeof(float));
    free(x);
    free(out);
    free(e.x);
    free(e.out);
}

static void test_backward_matches_differences(void **state)
{
    cs_rng r;
    float cs[T * HS / 2];
    float sn[T * HS / 2];
    float *x;
    float *g;
    float *dx = fd_zeros(B * T * ROW);
    rope_ctx e;

    (void)state;
    cs_rng_seed(&r, 72, 0);
    x = fd_rand(&r, B * T * ROW, -3, 3);
    g = fd_rand(&r, B * T * ROW, -1, 1);
    assert_int_equal(cs_rope_fill_tables(cs, sn, T, HS, THETA), CS_OK);
    cs_rope_backward_cpu(dx, g, cs, sn, B, T, C, NH);
    e = (rope_ctx){fd_widen(x, B * T * ROW), g, fd_dzeros(B * T * ROW)};
    fd_check_grad(dx, e.x, B * T * ROW, rope_objective, &e, 1, "dinp");
    cs_rope_backward_cpu(g, g, cs, sn, B, T, C, NH); /* in place: the same bits */
    assert_memory_equal(g, dx, B * T * ROW * sizeof(float));
    free(x);
    free(g);
    free(dx);
    free(e.x);
    free(e.out);
}

/* Σ_j q[j] k[j] over one head of size hs, in double. */
static double head_dot(const float *q, const float *k, size_t hs)
{
    double s = 0.0;

    for (size_t j = 0; j < hs; j++)
        s += (double)q[j] * k[j];
    return s;
}

/* The same q and k at every position: after rotation, q_m · k_n depends on m − n only. */
static void check_relative(double theta)
{
    enum { P = 300, HS2 = 16, C1 = 2 * HS2, NH1 = 2, ROW1 = 3 * C1 };
    static float cs[P * HS2 / 2];
    static float sn[P * HS2 / 2];
    static float x[P * ROW1];
    const size_t m[4] = {7, 40, 3, 150}, n[4] = {2, 40, 90, 10}, s[4] = {1, 200, 57, 149};
    cs_rng r;
    float row[ROW1];

    cs_rng_seed(&r, 73, 0);
    cs_rng_fill_uniform(&r, row, ROW1, -1, 1);
    for (size_t t = 0; t < P; t++)
        memcpy(x + t * ROW1, row, sizeof row);
    assert_int_equal(cs_rope_fill_tables(cs, sn, P, HS2, theta), CS_OK);
    cs_rope_forward_cpu(x, x, cs, sn, 1, P, C1, NH1);
    for (size_t i = 0; i < 4; i++)
        for (size_t h = 0; h < NH1; h++) {
            const float *q0 = x + m[i] * ROW1 + h * HS2;
            const float *k0 = x + n[i] * ROW1 + C1 + h * HS2;
            const float *q1 = x + (m[i] + s[i]) * ROW1 + h * HS2;
            const float *k1 = x + (n[i] + s[i]) * ROW1 + C1 + h * HS2;

            /* float tables at positions < 300: angles off by ≤ 3e-5 rad, dots of 16 O(1) terms */
            assert_true(fd_close(head_dot(q1, k1, HS2), head_dot(q0, k0, HS2), 0, 1e-4));
        }
    /* and it does depend on the difference */
    assert_false(fd_close(head_dot(x + 5 * ROW1, x + 5 * ROW1 + C1, HS2),
                          head_dot(x + 9 * ROW1, x + 5 * ROW1 + C1, HS2), 0, 1e-2));
}

static void test_relative_position(void **state)
{
    (void)state;
    check_relative(10000.0);
    check_relative(500000.0);
}

/* A longer table (evaluation past the training context) rotates the first positions exactly as
 * the training-length table does. */
static void test_longer_context(void **state)
{
    enum { T_TRAIN = 8, T_EVAL = 40, P_EVAL = 64 };
    static float cs_s[T_TRAIN * HS / 2], sn_s[T_TRAIN * HS / 2];
    static float cs_l[P_EVAL * HS / 2], sn_l[P_EVAL * HS / 2];
    float *x;
    float *short_out = fd_zeros(T_TRAIN * ROW);
    float *long_out = fd_zeros(T_EVAL * ROW);
    cs_rng r;

    (void)state;
    cs_rng_seed(&r, 74, 0);
    x = fd_rand(&r, T_EVAL * ROW, -3, 3);
    assert_int_equal(cs_rope_fill_tables(cs_s, sn_s, T_TRAIN, HS, THETA), CS_OK);
    assert_int_equal(cs_rope_fill_tables(cs_l, sn_l, P_EVAL, HS, THETA), CS_OK);
    cs_rope_forward_cpu(short_out, x, cs_s, sn_s, 1, T_TRAIN, C, NH);
    cs_rope_forward_cpu(long_out, x, cs_l, sn_l, 1, T_EVAL, C, NH);
    assert_memory_equal(short_out, long_out, T_TRAIN * ROW * sizeof(float));
    free(x);
    free(short_out);
    free(long_out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_pair_convention),
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_backward_matches_differences),
        cmocka_unit_test(test_relative_position),
        cmocka_unit_test(test_longer_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
