/* tests/unit/test_model.c: the model of trainer/model.c: its parameter count against
 * core/flops.h, a whole-model gradient check by central differences, the loss of an untrained
 * model, overfitting one batch with AdamW, and the ops tables (trainer/ops.c,
 * trainer/cuda_stub.c). Run by `make test`.
 */
#include "tests/testutil.h"

#include "core/rng.h"
#include "trainer/model.h"

#include <math.h>

static cs_model_shape tiny_shape(void)
{
    cs_model_shape s = {.n_layer = 2, .d_model = 8, .n_head = 2, .vocab = 11, .context = 6};
    return s;
}

static uint32_t *random_windows(uint64_t seed, size_t B, size_t T, uint32_t V)
{
    uint32_t *w = malloc(B * (T + 1) * sizeof *w);
    cs_rng r;

    assert_non_null(w);
    cs_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < B * (T + 1); i++)
        w[i] = (uint32_t)cs_rng_below(&r, V);
    return w;
}

/* The model's parameter buffer holds exactly core/flops.h's total, for several shapes. */
static void test_param_count(void **state)
{
    const cs_model_shape shapes[] = {
        {1, 8, 2, 11, 6}, {2, 16, 4, 256, 32}, {4, 256, 4, 8192, 256}, {3, 48, 6, 50257, 1024}};

    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        cs_param_count pc;
        cs_model *m = cs_model_alloc(&shapes[i], 1e4, cs_cpu_ops());
        const cs_model_tensor *wte;

        assert_non_null(m);
        assert_int_equal(cs_flops_count_params(&shapes[i], &pc), CS_OK);
        assert_int_equal((int64_t)cs_model_n_params(m), pc.total);
        wte = cs_model_tensor_at(m, CS_MODEL_WTE);
        assert_int_equal((int64_t)wte->size, pc.embedding);
        assert_null(cs_model_tensor_at(m, CS_MODEL_NTENSORS));
        cs_model_free(m);
    }
}

/* Shapes the model refuses. */
static void test_bad_shapes(void **state)
{
    cs_model_shape s = tiny_shape();

    (void)state;
    s.n_head = 3; /* does not divide 8 */
    assert_null(cs_model_alloc(&s, 1e4, cs_cpu_ops()));
    tu_assert_errmsg_has("n_head");
    s = tiny_shape();
    s.d_model = 6; /* head size 3: odd */
    assert_null(cs_model_alloc(&s, 1e4, cs_cpu_ops()));
    tu_assert_errmsg_has("even");
    s = tiny_shape();
    assert_null(cs_model_alloc(&s, -1.0, cs_cpu_ops()));
    tu_assert_errmsg_has("rope_theta");
    assert_null(cs_model_alloc(&s, 1e4, NULL));
}

/* The objective of the gradient check: Σ losses / (B·T), summed in double. */
static double objective(cs_model *m, const uint32_t *w, size_t B, size_t T)
{
    double loss;

    assert_int_equal(cs_model_forward(m, w, B, T, &loss), CS_OK);
    return loss;
}

/* Whole-model gradient check: backward against central differences of the float32 model in
 * random coordinates of every tensor. Parameters are drawn with std 0.3 (not 0.02) so every
 * tensor's gradient is well above the noise floor. Noise: the objective is a double mean of
 * float32 losses of O(2.4), each carrying a few float roundings (~2.4e-7 each); with h = 1e-2 the
 * difference error is about 2.4e-7 / h = 2.4e-5 (observed: under 1e-5), and the truncation
 * h^2/6 times the third derivative is below 1e-5 for these O(1) weights. ATOL = 1e-4 leaves about
 * 4x room over the estimate; RTOL = 1e-2 covers the truncation on large gradients. A missing or
 * wrong term is off by the size of the gradient itself, and the test insists that most probed
 * gradients are at least 10 ATOL, so such an error cannot hide below the tolerance. */
#define GC_H    1e-2
#define GC_ATOL 1e-4
#define GC_RTOL 1e-2
static void test_gradient_check(void **state)
{
    const size_t B = 2, T = 6, PROBES = 6;
    cs_model_shape s = tiny_shape();
    cs_model *m = cs_model_alloc(&s, 1e4, cs_cpu_ops());
    uint32_t *w = random_windows(7, B, T, (uint32_t)s.vocab);
    float *p, *g;
    size_t big = 0, probed = 0;
    double worst = 0;
    cs_rng r;

    (void)state;
    assert_non_null(m);
    p = cs_model_params(m);
    g = cs_model_grads(m);
    cs_rng_seed(&r, 99, 1);
    cs_rng_fill_normal(&r, p, cs_model_n_params(m), 0.0f, 0.3f);
    cs_model_zero_grad(m);
    objective(m, w, B, T);
    cs_model_backward(m, 1.0f / (float)(B * T));
    for (size_t i = 0; i < CS_MODEL_NTENSORS; i++) {
        const cs_model_tensor *t = cs_model_tensor_at(m, i);

        for (size_t k = 0; k < PROBES; k++) {
            size_t j = t->offset + (size_t)cs_rng_below(&r, t->size);
            float keep = p[j];
            double up, down, fd;

            p[j] = keep + (float)GC_H;
            up = objective(m, w, B, T);
            p[j] = keep - (float)GC_H;
            down = objective(m, w, B, T);
            p[j] = keep;
            fd = (up - down) / (2 * GC_H);
            if (fabs(fd - g[j]) > GC_ATOL + GC_RTOL * fabs(fd))
                fail_msg("tensor %s, index %zu: backward %.6g, central difference %.6g", t->name,
                         j - t->offset, (double)g[j], fd);
            if (fabs(fd - g[j]) > worst)
                worst = fabs(fd - g[j]);
            big += fabs(fd) > 10 * GC_ATOL;
            probed++;
        }
    }
    printf("gradient check: %zu of %zu probes above 10*ATOL, worst |fd - backward| = %.3g\n", big,
           probed, worst);
    assert_true(big * 2 > probed);
    free(w);
    cs_model_free(m);
}

/* An untrained model (GPT-2 init: logits near 0) predicts nearly uniformly: loss ≈ ln V. */
static void test_loss_at_init(void **state)
{
    cs_model_shape s = {.n_layer = 2, .d_model = 32, .n_head = 4, .vocab = 256, .context = 16};
    cs_model *m = cs_model_alloc(&s, 1e4, cs_cpu_ops());
    cs_model *m2 = cs_model_alloc(&s, 1e4, cs_cpu_ops());
    uint32_t *w = random_windows(3, 4, 16, 256);
    double loss;

    (void)state;
    assert_true(m && m2);
    cs_model_init(m, 1);
    assert_int_equal(cs_model_forward(m, w, 4, 16, &loss), CS_OK);
    assert_true(fabs(loss - log(256.0)) < 0.05);
    cs_model_init(m2, 1); /* same seed, same bits */
    assert_memory_equal(cs_model_params(m), cs_model_params(m2),
                        cs_model_n_params(m) * sizeof(float));
    /* a token outside the vocabulary is bad input, not a crash */
    w[5] = 256;
    assert_int_equal(cs_model_forward(m, w, 4, 16, &loss), CS_EINPUT);
    tu_assert_errmsg_has("vocabulary");
    /* evaluation past the training context: the activations and rotary tables grow */
    free(w);
    w = random_windows(4, 1, 64, 256);
    assert_int_equal(cs_model_forward(m, w, 1, 64, &loss), CS_OK);
    assert_true(fabs(loss - log(256.0)) < 0.05);
    free(w);
    cs_model_free(m);
    cs_model_free(m2);
}

/* A tiny model memorises one batch: 300 AdamW steps drive the loss near zero. */
static void test_overfit_one_batch(void **state)
{
    const size_t B = 2, T = 16;
    cs_model_shape s = {.n_layer = 2, .d_model = 32, .n_head = 4, .vocab = 32, .context = 16};
    cs_model *m = cs_model_alloc(&s, 1e4, cs_cpu_ops());
    uint32_t *w = random_windows(5, B, T, 32);
    float *mom, *var;
    double loss = 0, first = 0;
    size_t n;

    (void)state;
    assert_non_null(m);
    cs_model_init(m, 2);
    n = cs_model_n_params(m);
    mom = calloc(n, sizeof *mom);
    var = calloc(n, sizeof *var);
    assert_true(mom && var);
    for (int step = 1; step <= 300; step++) {
        cs_model_zero_grad(m);
        assert_int_equal(cs_model_forward(m, w, B, T, &loss), CS_OK);
        if (step == 1)
            first = loss;
        cs_model_backward(m, 1.0f / (float)(B * T));
        cs_cpu_ops()->adamw_update(cs_model_params(m), mom, var, cs_model_grads(m), n, 1e-2f, 0.9f,
                                   0.95f, 1e-8f, 0.0f, 1.0f, step);
    }
    assert_true(fabs(first - log(32.0)) < 0.1);
    if (!(loss < 0.05))
        fail_msg("loss after 300 steps: %g (started at %g)", loss, first);
    free(mom);
    free(var);
    free(w);
    cs_model_free(m);
}

/* The ops tables: the CPU table is complete; a build without CUDA has no table. */
static void test_ops_tables(void **state)
{
    const cs_ops *o = cs_cpu_ops();

    (void)state;
    assert_string_equal(o->name, "cpu");
    assert_true(o->zero && o->copy && o->encoder_forward && o->encoder_backward &&
                o->layernorm_forward && o->layernorm_backward && o->matmul_forward &&
                o->matmul_backward && o->rope_forward && o->rope_backward &&
                o->attention_forward && o->attention_backward && o->residual_forward &&
                o->residual_backward && o->gelu_forward && o->gelu_backward && o->xent_forward &&
                o->xent_backward && o->adamw_update && o->adamw_norm);
    if (!cs_cuda_is_available())
        assert_null(cs_cuda_ops());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_count),       cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_gradient_check),    cmocka_unit_test(test_loss_at_init),
        cmocka_unit_test(test_overfit_one_batch), cmocka_unit_test(test_ops_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
