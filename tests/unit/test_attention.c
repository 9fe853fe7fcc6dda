/* tests/unit/test_attention.c: causal self-attention (trainer/attention.c) against a float64
 * reference and central finite differences (tests/unit/fdcheck.h), causality, and shapes that
 * span several of the op's row blocks. Run by `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/attention.h"

/* Forward outputs are softmax-weighted averages of O(3) values from float32 dot products of HS
 * terms; the probabilities are single roundings of exponentials normalised by a double sum. */
#define FWD_RTOL 1e-5
#define FWD_ATOL 1e-5

typedef struct att_ctx {
    double *qkv;    /* (b, t, 3c) */
    const float *g; /* (b, t, c), the weights of the objective */
    double *out;    /* (b, t, c) reference output */
    double *att;    /* (b, nh, t, t) reference probabilities */
    size_t b, t, c, nh;
} att_ctx;

/* Probabilities of one (sequence, head) row t: softmax over s ≤ t of q_t·k_s/√hs. */
static void att_row(att_ctx *e, const double *qkv_b, double *p, size_t h, size_t t)
{
    size_t hs = e->c / e->nh;
    size_t ld = 3 * e->c;
    double mx = -INFINITY;
    double sum = 0.0;

    for (size_t s = 0; s < e->t; s++) {
        double d = 0.0;

        for (size_t j = 0; j < hs; j++)
            d += qkv_b[t * ld + h * hs + j] * qkv_b[s * ld + e->c + h * hs + j];
        p[s] = s <= t ? d / sqrt((double)hs) : -INFINITY;
        mx = p[s] > mx ? p[s] : mx;
    }
    for (size_t s = 0; s < e->t; s++) {
        p[s] = s <= t ? exp(p[s] - mx) : 0.0;
        sum += p[s];
    }
    for (size_t s = 0; s < e->t; s++)
        p[s] /= sum;
}

static void att_reference(att_ctx *e)
{
    size_t hs = e->c / e->nh;

    for (size_t b = 0; b < e->b; b++)
        for (size_t h = 0; h < e->nh; h++)
            for (size_t t = 0; t < e->t; t++) {
                const double *qkv_b = e->qkv + b * e->t * 3 * e->c;
                double *p = e->att + ((b * e->nh + h) * e->t + t) * e->t;

                att_row(e, qkv_b, p, h, t);
                for (size_t j = 0; j < hs; j++) {
                    double o = 0.0;

                    for (size_t s = 0; s <= t; s++)
                        o += p[s] * qkv_b[s * 3 * e->c + 2 * e->c + h * hs + j];
                    e->out[(b * e->t + t) * e->c + h * hs + j] = o;
                }
            }
}

static double att_objective(void *p)
{
    att_ctx *e = p;

    att_reference(e);
    return fd_dot(e->g, e->out, e->b * e->t * e->c);
}

typedef struct att_case {
    float *qkv, *g, *out, *att; /* inputs, objective weights, the op's forward outputs */
    att_ctx e;                  /* float64 reference */
} att_case;

static void att_setup(att_case *k, uint64_t seed, size_t b, size_t t, size_t c, size_t nh)
{
    cs_rng r;

    cs_rng_seed(&r, seed, 0);
    k->qkv = fd_rand(&r, b * t * 3 * c, -3, 3);
    k->g = fd_rand(&r, b * t * c, -1, 1);
    k->out = fd_zeros(b * t * c);
    k->att = fd_rand(&r, b * nh * t * t, -9, 9); /* garbage: the op must fill all of it */
    k->e = (att_ctx){.qkv = fd_widen(k->qkv, b * t * 3 * c),
                     .g = k->g,
                     .out = fd_dzeros(b * t * c),
                     .att = fd_dzeros(b * nh * t * t),
                     .b = b,
                     .t = t,
                     .c = c,
                     .nh = nh};
    cs_attention_forward_cpu(k->out, k->att, k->qkv, b, t, c, nh);
}

static void att_teardown(att_case *k)
{
    free(k->qkv);
    free(k->g);
    free(k->out);
    free(k->att);
    free(k->e.qkv);
    free(k->e.out);
    free(k->e.att);
}

static void check_forward(size_t b, size_t t, size_t c, size_t nh)
{
    att_case k;

    att_setup(&k, 81 + t, b, t, c, nh);
    att_reference(&k.e);
    fd_assert_close(k.out, k.e.out, b * t * c, FWD_RTOL, FWD_ATOL, "out");
    fd_assert_close(k.att, k.e.att, b * nh * t * t, FWD_RTOL, FWD_ATOL, "att");
    for (size_t row = 0; row < b * nh * t; row++) /* exact zeros above the diagonal */
        for (size_t s = row % t + 1; s < t; s++)
            assert_true(k.att[row * t + s] == 0.0f);
    att_teardown(&k);
}

static void test_forward_matches_reference(void **state)
{
    (void)state;
    check_forward(2, 5, 12, 3);
    check_forward(1, 150, 8, 2); /* three row blocks, the last one partial */
    check_forward(2, 64, 6, 3);  /* exactly one block */
    check_forward(1, 129, 4, 1); /* a one-row last block */
}

static void check_backward(size_t b, size_t t, size_t c, size_t nh, size_t every)
{
    att_case k;
    cs_rng r;
    size_t n = b * t * 3 * c;
    float *before;
    float *dqkv;
    float *scratch;
    float *added;

    att_setup(&k, 91 + t, b, t, c, nh);
    cs_rng_seed(&r, 92, 0);
    before = fd_rand(&r, n, -1, 1); /* the gradient accumulates onto this */
    dqkv = fd_copy(before, n);
    scratch = fd_rand(&r, t * t, -9, 9); /* garbage: the op must not depend on it */
    cs_attention_backward_cpu(dqkv, scratch, k.g, k.qkv, k.att, b, t, c, nh);
    added = fd_added(dqkv, before, n);
    fd_check_grad(added, k.e.qkv, n, att_objective, &k.e, every, "dqkv");
    free(before);
    free(dqkv);
    free(scratch);
    free(added);
    att_teardown(&k);
}

static void test_backward_matches_differences(void **state)
{
    (void)state;
    check_backward(2, 5, 12, 3, 1);
    check_backward(1, 150, 8, 2, 7); /* three row blocks; every 7th entry */
}

/* Changing the q, k and v of token t0 (and after) leaves the outputs and probabilities of
 * every earlier position bit for bit the same. */
static void check_causal(size_t t, size_t t0)
{
    enum { C = 12, NH = 3 };
    att_case k;
    float *out2 = fd_zeros(t * C);
    float *att2 = fd_zeros(NH * t * t);
    cs_rng r;

    att_setup(&k, 101, 1, t, C, NH);
    cs_rng_seed(&r, 102, 0);
    cs_rng_fill_uniform(&r, k.qkv + t0 * 3 * C, (t - t0) * 3 * C, -3, 3);
    k.qkv[t0 * 3 * C + C] = 1e6f; /* a huge key too */
    cs_attention_forward_cpu(out2, att2, k.qkv, 1, t, C, NH);
    assert_memory_equal(out2, k.out, t0 * C * sizeof(float));
    for (size_t h = 0; h < NH; h++)
        assert_memory_equal(att2 + h * t * t, k.att + h * t * t, t0 * t * sizeof(float));
    assert_memory_not_equal(out2 + t0 * C, k.out + t0 * C, C * sizeof(float));
    free(out2);
    free(att2);
    att_teardown(&k);
}

static void test_causal(void **state)
{
    (void)state;
    check_causal(5, 3);
    check_causal(150, 100); /* a later block */
    check_causal(150, 70);  /* inside the second block */
}

/* The probability rows sum to 1. */
static void test_rows_sum_to_one(void **state)
{
    att_case k;

    (void)state;
    att_setup(&k, 111, 2, 70, 12, 3);
    for (size_t row = 0; row < 2 * 3 * 70; row++) {
        double s = 0.0;

        for (size_t j = 0; j < 70; j++)
            s += k.att[row * 70 + j];
        assert_true(fd_close(s, 1.0, 0, 1e-5));
    }
    att_teardown(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_backward_matches_differences),
        cmocka_unit_test(test_causal),
        cmocka_unit_test(test_rows_sum_to_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
