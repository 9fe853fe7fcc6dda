/* bench/bench_gpu.c: times training steps of the model on the GPU through the CUDA ops table:
 * zero the gradients, forward, backward, gradient norm and one AdamW update per tensor, one
 * cs_cuda_step_check per step (the trainer's own synchronisation). Prints the median step time,
 * tokens/s, the model FLOP rate and MFU by llm.c's formula (FLOPs per token 6N + 6·L·d·T with N
 * every parameter, embedding included, against the H100's dense bf16 peak of 989 TFLOP/s), and
 * the device memory in use after the first step. The op sequence is tests/parity/gpt_cuda.h
 * (trainer/model.c's, on device buffers), checked against the CPU model by tests/parity/model.c.
 * It trains on one fixed batch, so the loss must fall: the first loss must be within 1 of ln V
 * (GPT-2 initialisation) and the last below the first, else the run fails (exit 1).
 *
 * Usage: bench_gpu [--layers L] [--d-model C] [--heads NH] [--vocab V] [--context T]
 *                  [--batch B] [--steps N] [--precision fp32|tf32|bf16] [--profile 0|1]
 * Defaults: GPT-2 124M (12 layers, d 768, 12 heads, V 50257), T 1024, B 16, 10 timed steps
 * after 2 warm-up steps, fp32, no profile (--profile 1: two more steps with every op
 * synchronised and timed, printed as a table of ms per step by op). Exit 77 without a usable GPU; 1
 * when the shape does not fit in device memory (the message says how much it needs) or a CUDA call
 * fails. Run by bench/gpu.sh
 * (`make bench-gpu`); results go in bench/RESULTS.md.
 */
#include "core/error.h"
#include "core/parse.h"
#include "core/rng.h"
#include "tests/parity/gpt_cuda.h"
#include "trainer/cuda/device.h"
#include "trainer/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEAK_FLOPS 989e12 /* H100 SXM dense bf16, the denominator of llm.c's MFU */
#define WARMUP     2
#define LR         3e-4f

typedef struct args {
    cs_model_shape shape;
    long batch, steps, profile;
    const char *precision;
} args;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Parses the flags into *a; CS_EINPUT naming the flag on a bad value or an unknown flag. */
static int parse_args(int argc, char **argv, args *a)
{
    static const char *const names[] = {"--layers",  "--d-model", "--heads", "--vocab",
                                        "--context", "--batch",   "--steps", "--profile"};
    long *longs[] = {&a->batch, &a->steps, &a->profile};
    int64_t *fields[] = {&a->shape.n_layer, &a->shape.d_model, &a->shape.n_head, &a->shape.vocab,
                         &a->shape.context};

    for (int i = 1; i < argc; i += 2) {
        size_t k = 0;
        long v;

        if (i + 1 >= argc)
            return cs_fail(CS_EINPUT, "%s: missing value", argv[i]);
        if (strcmp(argv[i], "--precision") == 0) {
            a->precision = argv[i + 1];
            continue;
        }
        while (k < 8 && strcmp(argv[i], names[k]) != 0)
            k++;
        if (k == 8)
            return cs_fail(CS_EINPUT, "unknown flag %s", argv[i]);
        if (cs_parse_long(argv[i + 1], &v, argv[i]))
            return CS_EINPUT;
        if (v < (k == 7 ? 0 : 1))
            return cs_fail(CS_EINPUT, "%s: expected a %s integer, got %ld", argv[i],
                           k == 7 ? "non-negative" : "positive", v);
        if (k < 5)
            *fields[k] = v;
        else
            *longs[k - 5] = v;
    }
    return cs_flops_check_shape(&a->shape);
}

/* Mean of the B·T losses on the device. */
static int mean_loss(gpt *g, double *out)
{
    size_t n = g->B * g->T;
    float *l = malloc(n * sizeof *l);
    int st = l ? cs_cuda_download(l, g->a.losses, n * sizeof *l) : cs_fail(CS_ENOMEM, "host");

    *out = 0.0;
    for (size_t i = 0; !st && i < n; i++)
        *out += l[i];
    *out /= (double)n;
    free(l);
    return st;
}

/* One training step on the loaded batch. */
static int step(gpt *g, cs_model *layout, float *d_norm, int t)
{
    g->ops->zero(g->grads, g->n_params);
    gpt_forward(g);
    gpt_backward(g, 1.0f / (float)(g->B * g->T));
    g->ops->adamw_norm(d_norm, g->grads, g->n_params);
    gpt_adamw(g->ops, layout, g->params, g->m, g->v, g->grads, LR, t);
    return cs_cuda_step_check();
}

// ---- per-op profile (--profile 1): every op synchronised and timed on the host ------------

enum {
    P_ZERO,
    P_COPY,
    P_ENC_F,
    P_ENC_B,
    P_LN_F,
    P_LN_B,
    P_MM_F,
    P_MM_B,
    P_LM_F,
    P_LM_B,
    P_ROPE_F,
    P_ROPE_B,
    P_ATT_F,
    P_ATT_B,
    P_RES_F,
    P_RES_B,
    P_GELU_F,
    P_GELU_B,
    P_XENT_F,
    P_XENT_B,
    P_ADAM,
    P_NORM,
    P_N
};

static const char *const p_names[P_N] = {
    "zero",          "copy",       "encoder fwd",   "encoder bwd",   "layernorm fwd",
    "layernorm bwd", "matmul fwd", "matmul bwd",    "logits fwd",    "logits bwd",
    "rope fwd",      "rope bwd",   "attention fwd", "attention bwd", "residual fwd",
    "residual bwd",  "gelu fwd",   "gelu bwd",      "xent fwd",      "xent bwd",
    "adamw update",  "adamw norm",
};

static double p_time[P_N];
static long p_calls[P_N];
static const cs_ops *p_base;
static size_t p_vocab;
static int p_status; /* the first failure seen by a wrapper's check */

static void p_end(int id, double t0)
{
    int st = cs_cuda_step_check();

    p_time[id] += now() - t0;
    p_calls[id]++;
    if (st && !p_status)
        p_status = st;
}

#define PROF(id, call)                                                                             \
    do {                                                                                           \
        double t0_ = now();                                                                        \
        call;                                                                                      \
        p_end(id, t0_);                                                                            \
    } while (0)

static void w_zero(float *x, size_t n)
{
    PROF(P_ZERO, p_base->zero(x, n));
}
static void w_copy(float *d, const float *s, size_t n)
{
    PROF(P_COPY, p_base->copy(d, s, n));
}
static void w_enc_f(float *o, const uint32_t *t, const float *w, size_t BT, size_t C, size_t V)
{
    PROF(P_ENC_F, p_base->encoder_forward(o, t, w, BT, C, V));
}
static void w_enc_b(float *d, const float *o, const uint32_t *t, size_t BT, size_t C, size_t V)
{
    PROF(P_ENC_B, p_base->encoder_backward(d, o, t, BT, C, V));
}
static void w_ln_f(float *o, float *m, float *r, const float *i, const float *w, const float *b,
                   size_t BT, size_t C)
{
    PROF(P_LN_F, p_base->layernorm_forward(o, m, r, i, w, b, BT, C));
}
static void w_ln_b(float *di, float *dw, float *db, const float *d, const float *i, const float *w,
                   const float *m, const float *r, size_t BT, size_t C)
{
    PROF(P_LN_B, p_base->layernorm_backward(di, dw, db, d, i, w, m, r, BT, C));
}
static void w_mm_f(float *o, const float *i, const float *w, const float *b, size_t BT, size_t C,
                   size_t OC)
{
    PROF(OC == p_vocab ? P_LM_F : P_MM_F, p_base->matmul_forward(o, i, w, b, BT, C, OC));
}
static void w_mm_b(float *di, float *dw, float *db, const float *d, const float *i, const float *w,
                   size_t BT, size_t C, size_t OC)
{
    PROF(OC == p_vocab ? P_LM_B : P_MM_B, p_base->matmul_backward(di, dw, db, d, i, w, BT, C, OC));
}
static void w_rope_f(float *o, const float *i, const float *c, const float *s, size_t B, size_t T,
                     size_t C, size_t NH)
{
    PROF(P_ROPE_F, p_base->rope_forward(o, i, c, s, B, T, C, NH));
}
static void w_rope_b(float *o, const float *i, const float *c, const float *s, size_t B, size_t T,
                     size_t C, size_t NH)
{
    PROF(P_ROPE_B, p_base->rope_backward(o, i, c, s, B, T, C, NH));
}
static void w_att_f(float *o, float *a, const float *q, size_t B, size_t T, size_t C, size_t NH)
{
    PROF(P_ATT_F, p_base->attention_forward(o, a, q, B, T, C, NH));
}
static void w_att_b(float *dq, float *s, const float *d, const float *q, const float *a, size_t B,
                    size_t T, size_t C, size_t NH)
{
    PROF(P_ATT_B, p_base->attention_backward(dq, s, d, q, a, B, T, C, NH));
}
static void w_res_f(float *o, const float *a, const float *b, size_t n)
{
    PROF(P_RES_F, p_base->residual_forward(o, a, b, n));
}
static void w_res_b(float *a, float *b, const float *d, size_t n)
{
    PROF(P_RES_B, p_base->residual_backward(a, b, d, n));
}
static void w_gelu_f(float *o, const float *i, size_t n)
{
    PROF(P_GELU_F, p_base->gelu_forward(o, i, n));
}
static void w_gelu_b(float *d, const float *i, const float *o, size_t n)
{
    PROF(P_GELU_B, p_base->gelu_backward(d, i, o, n));
}
static void w_xent_f(float *l, float *s, const float *z, const uint32_t *t, size_t BT, size_t V)
{
    PROF(P_XENT_F, p_base->xent_forward(l, s, z, t, BT, V));
}
static void w_xent_b(float *dz, const float *z, const float *s, const uint32_t *t, const float *dl,
                     float sc, size_t BT, size_t V)
{
    PROF(P_XENT_B, p_base->xent_backward(dz, z, s, t, dl, sc, BT, V));
}
static void w_adam(float *p, float *m, float *v, const float *g, size_t n, float lr, float b1,
                   float b2, float eps, float wd, float gs, int t)
{
    PROF(P_ADAM, p_base->adamw_update(p, m, v, g, n, lr, b1, b2, eps, wd, gs, t));
}
static void w_norm(float *o, const float *g, size_t n)
{
    PROF(P_NORM, p_base->adamw_norm(o, g, n));
}

static const cs_ops timed_ops = {
    .name = "cuda (timed)",
    .zero = w_zero,
    .copy = w_copy,
    .encoder_forward = w_enc_f,
    .encoder_backward = w_enc_b,
    .layernorm_forward = w_ln_f,
    .layernorm_backward = w_ln_b,
    .matmul_forward = w_mm_f,
    .matmul_backward = w_mm_b,
    .rope_forward = w_rope_f,
    .rope_backward = w_rope_b,
    .attention_forward = w_att_f,
    .attention_backward = w_att_b,
    .residual_forward = w_res_f,
    .residual_backward = w_res_b,
    .gelu_forward = w_gelu_f,
    .gelu_backward = w_gelu_b,
    .xent_forward = w_xent_f,
    .xent_backward = w_xent_b,
    .adamw_update = w_adam,
    .adamw_norm = w_norm,
};

/* Prints the profile of `steps` steps, largest share first. */
static void print_profile(long steps)
{
    int order[P_N];
    double total = 0.0;

    for (int i = 0; i < P_N; i++) {
        order[i] = i;
        total += p_time[i];
    }
    for (int i = 1; i < P_N; i++) /* insertion sort by time, descending */
        for (int j = i; j > 0 && p_time[order[j]] > p_time[order[j - 1]]; j--) {
            int t = order[j];

            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    printf("profile (each op synchronised; %.2f ms per step in all):\n", 1e3 * total / steps);
    for (int i = 0; i < P_N && p_time[order[i]] > 0.0; i++)
        printf("  %-14s %6ld calls/step %9.3f ms/step %5.1f%%\n", p_names[order[i]],
               p_calls[order[i]] / steps, 1e3 * p_time[order[i]] / steps,
               100.0 * p_time[order[i]] / total);
}

/* Prints the figures of the timed steps `ms` (n of them). */
static void report(const args *a, const gpt *g, double *ms, long n, double bytes_used,
                   double bytes_total)
{
    double L = (double)g->L, C = (double)g->C, T = (double)g->T;
    double flops_tok = 6.0 * (double)g->n_params + 6.0 * L * C * T;
    double med, tok_s, rate;

    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    med = ms[n / 2];
    tok_s = (double)(g->B * g->T) / (med * 1e-3);
    rate = flops_tok * tok_s;
    printf("step: median %.2f ms (min %.2f, max %.2f over %ld steps)\n", med, ms[0], ms[n - 1], n);
    printf("tokens/s: %.0f; FLOPs/token 6N + 6LdT = %.4g; %.1f TFLOP/s; MFU %.1f%% of %.0f "
           "TFLOP/s\n",
           tok_s, flops_tok, rate * 1e-12, 100.0 * rate / PEAK_FLOPS, PEAK_FLOPS * 1e-12);
    printf("memory: %.2f GiB allocated by the model; %.2f GiB in use on the device of %.2f GiB\n",
           (double)g->bytes / 1073741824.0, bytes_used / 1073741824.0, bytes_total / 1073741824.0);
    printf("| %ld | %ld | %ld | %ld | %ld | %s | %.2f | %.0f | %.1f%% | %.2f |\n",
           (long)a->shape.n_layer, (long)a->shape.d_model, (long)a->shape.n_head, (long)g->T,
           (long)g->B, a->precision, med, tok_s, 100.0 * rate / PEAK_FLOPS,
           bytes_used / 1073741824.0);
}

/* Fits the model in device memory or says how much it needs. */
static int check_fits(const gpt *shape_only)
{
    size_t used = 0, total = 0;
    double need = gpt_bytes_needed(shape_only);
    int st = cs_cuda_mem_info(&used, &total);

    if (st)
        return st;
    if (need > (double)(total - used))
        return cs_fail(CS_ENOMEM,
                       "needs %.2f GiB of device memory (%.2f GiB of it the attention "
                       "probabilities), %.2f GiB free: lower --batch or --context",
                       need / 1073741824.0,
                       4.0 * (double)(shape_only->L * shape_only->B * shape_only->NH) *
                           (double)shape_only->T * (double)shape_only->T / 1073741824.0,
                       (double)(total - used) / 1073741824.0);
    return CS_OK;
}

/* Two more steps (numbers t and t + 1) through the timed table, then prints the profile. */
static int profile(gpt *g, cs_model *m, float *d_norm, int t)
{
    int st = CS_OK;

    p_base = g->ops;
    p_vocab = g->V;
    g->ops = &timed_ops;
    for (int k = 0; k < 2 && !st; k++)
        st = step(g, m, d_norm, t + k);
    g->ops = p_base;
    if (!st)
        st = p_status;
    if (!st)
        print_profile(2);
    return st;
}

/* Runs the benchmark on a host model m (layout and initial parameters). */
static int run(const args *a, cs_model *m)
{
    size_t B = (size_t)a->batch, T = (size_t)a->shape.context, V = (size_t)a->shape.vocab;
    uint32_t *win = malloc(B * (T + 1) * sizeof *win);
    double *ms = calloc((size_t)a->steps, sizeof *ms), first = 0.0, last = 0.0, t0;
    size_t used = 0, total = 0;
    float *d_norm = NULL;
    cs_rng r;
    gpt g = {0};
    int st = win && ms ? CS_OK : cs_fail(CS_ENOMEM, "host memory");

    cs_rng_seed(&r, 42, 1);
    for (size_t i = 0; !st && i < B * (T + 1); i++)
        win[i] = (uint32_t)cs_rng_below(&r, V);
    if (!st)
        st = gpt_alloc(&g, m, 1e4, B, T);
    if (!st)
        st = cs_cuda_alloc((void **)&d_norm, sizeof *d_norm);
    if (!st)
        st = gpt_load(&g, win);
    for (int t = 1; !st && t <= WARMUP + a->steps; t++) {
        t0 = now();
        st = step(&g, m, d_norm, t);
        if (t > WARMUP)
            ms[t - WARMUP - 1] = 1e3 * (now() - t0);
        if (!st && t == 1)
            st = mean_loss(&g, &first);
        if (!st && t == 1)
            st = cs_cuda_mem_info(&used, &total);
    }
    if (!st)
        st = mean_loss(&g, &last); /* the forward pass of the last step */
    if (!st && a->profile)
        st = profile(&g, m, d_norm, WARMUP + (int)a->steps + 1);
    if (!st) {
        printf("loss: %.4f at step 1 (ln V = %.4f), %.4f at step %ld\n", first, log((double)V),
               last, WARMUP + a->steps);
        report(a, &g, ms, a->steps, (double)used, (double)total);
        if (!(fabs(first - log((double)V)) < 1.0) || !(last < first))
            st = cs_fail(CS_ECUDA, "the loss did not start near ln V or did not fall: the GPU "
                                   "model is wrong (run make test-gpu)");
    }
    cs_cuda_free(d_norm);
    gpt_free(&g);
    free(win), free(ms);
    return st;
}

int main(int argc, char **argv)
{
    args a = {
        .shape = {.n_layer = 12, .d_model = 768, .n_head = 12, .vocab = 50257, .context = 1024},
        .batch = 16,
        .steps = 10,
        .precision = "fp32"};
    char desc[256];
    cs_model *m;
    gpt probe = {0};
    int st;

    if (parse_args(argc, argv, &a)) {
        fprintf(stderr, "bench_gpu: %s\n", cs_errmsg());
        return 2;
    }
    if (cs_cuda_init() || cs_cuda_describe(desc, sizeof desc)) {
        printf("bench_gpu: skipped, no usable CUDA device: %s\n", cs_errmsg());
        return 77;
    }
    if (cs_cuda_set_matmul_precision(a.precision)) {
        fprintf(stderr, "bench_gpu: --precision: %s\n", cs_errmsg());
        return 2;
    }
    probe.L = (size_t)a.shape.n_layer, probe.C = (size_t)a.shape.d_model;
    probe.NH = (size_t)a.shape.n_head, probe.V = (size_t)a.shape.vocab;
    probe.B = (size_t)a.batch, probe.T = (size_t)a.shape.context;
    m = cs_model_alloc(&a.shape, 1e4, cs_cpu_ops());
    if (!m) {
        fprintf(stderr, "bench_gpu: %s\n", cs_errmsg());
        return 2;
    }
    probe.n_params = cs_model_n_params(m);
    printf("bench_gpu on %s\nmodel: %ld layers, d %ld, %ld heads, V %ld, %zu parameters; "
           "B %ld, T %ld; matmuls %s\n",
           desc, (long)a.shape.n_layer, (long)a.shape.d_model, (long)a.shape.n_head,
           (long)a.shape.vocab, probe.n_params, a.batch, (long)a.shape.context, a.precision);
    st = check_fits(&probe);
    if (!st) {
        cs_model_init(m, 1234);
        st = run(&a, m);
    }
    cs_model_free(m);
    if (st)
        printf("bench_gpu: %s\n", cs_errmsg());
    return st ? 1 : 0;
}
