/* bench/bench_train.c: times training steps of the CPU model (trainer/model.h): zero the
 * gradients, forward, backward, gradient norm and one AdamW update of every parameter, as a
 * training loop does each step. Prints tokens/s, model FLOP/s (core/flops.h: the Kaplan
 * convention 6N + 6·n_layer·T·d, and the same plus the logits matmul 6·d·V), the machine's
 * cblas_sgemm rate on square matrices and on the model's own matmul shapes, their ratio, a
 * per-op time profile (every op call is timed through a wrapping cs_ops table), and the peak RSS
 * against params + grads + Adam state + activations. A benchmark, not a test: bench/train.sh
 * runs it (`make bench`) and bench/RESULTS.md holds the figures.
 *
 * Usage: bench_train [--preset gpt2|tiny] [--layers L] [--d-model C] [--heads NH] [--vocab V]
 *                    [--context T] [--batch B] [--steps N] [--sgemm 0|1] [--profile 0|1]
 *                    [--ref TOKENS_PER_S]
 * --ref prints the ratio of the measured tokens/s to a reference trainer's on the same shape.
 * Threads: OMP_NUM_THREADS (OpenMP loops and OpenBLAS alike). Presets: gpt2 = GPT-2 124M
 * (12 layers, d 768, 12 heads, V 50257, T 64, B 4); tiny = 4 layers, d 256, 4 heads, V 512,
 * T 256, B 4. Tokens are uniform random ids (the speed does not depend on them).
 */
#include "core/error.h"
#include "core/flops.h"
#include "core/parse.h"
#include "core/rng.h"
#include "trainer/adamw.h"
#include "trainer/model.h"
#include "trainer/ops.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct bench_args {
    cs_model_shape shape;
    long batch;
    long steps;
    long sgemm;   /* 1: measure the sgemm rates */
    long profile; /* 1: print the per-op profile */
    double ref;   /* tokens/s of a reference trainer on the same shape (0: none) */
} bench_args;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* Resident set size now (MB), from /proc/self/statm; 0 when unreadable. */
static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0;
    long res = 0;

    if (!f)
        return 0.0;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (double)res * 4096.0 / 1048576.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

// ---- per-op profile: a cs_ops table whose every entry times the CPU twin ------------------

enum {
    PR_ZERO,
    PR_COPY,
    PR_ENC_F,
    PR_ENC_B,
    PR_LN_F,
    PR_LN_B,
    PR_MM_QKV_F,
    PR_MM_ATTPROJ_F,
    PR_MM_FC_F,
    PR_MM_FCPROJ_F,
    PR_MM_LOGITS_F,
    PR_MM_QKV_B,
    PR_MM_ATTPROJ_B,
    PR_MM_FC_B,
    PR_MM_FCPROJ_B,
    PR_MM_LOGITS_B,
    PR_ROPE_F,
    PR_ROPE_B,
    PR_ATT_F,
    PR_ATT_B,
    PR_RES_F,
    PR_RES_B,
    PR_GELU_F,
    PR_GELU_B,
    PR_XENT_F,
    PR_XENT_B,
    PR_ADAM,
    PR_NORM,
    PR_N
};

static const char *const pr_names[PR_N] = {
    "zero",          "copy",           "encoder fwd",    "encoder bwd",   "layernorm fwd",
    "layernorm bwd", "matmul qkv fwd", "matmul att fwd", "matmul fc fwd", "matmul fcp fwd",
    "matmul lm fwd", "matmul qkv bwd", "matmul att bwd", "matmul fc bwd", "matmul fcp bwd",
    "matmul lm bwd", "rope fwd",       "rope bwd",       "attention fwd", "attention bwd",
    "residual fwd",  "residual bwd",   "gelu fwd",       "gelu bwd",      "xent fwd",
    "xent bwd",      "adamw update",   "adamw norm",
};

static double pr_time[PR_N];
static const cs_ops *pr_base;
static size_t pr_d;
static size_t pr_v;

#define TIMED(id, call)                                                                            \
    do {                                                                                           \
        double t0_ = now();                                                                        \
        call;                                                                                      \
        pr_time[id] += now() - t0_;                                                                \
    } while (0)

/* Which of the model's five linear layers a (C, OC) pair is; backward ids follow forward ids. */
static int mm_id(size_t C, size_t OC)
{
    if (OC == pr_v)
        return PR_MM_LOGITS_F;
    if (OC == 3 * pr_d)
        return PR_MM_QKV_F;
    if (OC == 4 * pr_d)
        return PR_MM_FC_F;
    return C == 4 * pr_d ? PR_MM_FCPROJ_F : PR_MM_ATTPROJ_F;
}

static void w_zero(float *x, size_t n)
{
    TIMED(PR_ZERO, pr_base->zero(x, n));
}

static void w_copy(float *d, const float *s, size_t n)
{
    TIMED(PR_COPY, pr_base->copy(d, s, n));
}

static void w_enc_f(float *o, const uint32_t *t, const float *w, size_t BT, size_t C, size_t V)
{
    TIMED(PR_ENC_F, pr_base->encoder_forward(o, t, w, BT, C, V));
}

static void w_enc_b(float *dw, const float *d, const uint32_t *t, size_t BT, size_t C, size_t V)
{
    TIMED(PR_ENC_B, pr_base->encoder_backward(dw, d, t, BT, C, V));
}

static void w_ln_f(float *o, float *mu, float *rs, const float *x, const float *w, const float *b,
                   size_t BT, size_t C)
{
    TIMED(PR_LN_F, pr_base->layernorm_forward(o, mu, rs, x, w, b, BT, C));
}

static void w_ln_b(float *dx, float *dw, float *db, const float *d, const float *x, const float *w,
                   const float *mu, const float *rs, size_t BT, size_t C)
{
    TIMED(PR_LN_B, pr_base->layernorm_backward(dx, dw, db, d, x, w, mu, rs, BT, C));
}

static void w_mm_f(float *o, const float *x, const float *w, const float *b, size_t BT, size_t C,
                   size_t OC)
{
    TIMED(mm_id(C, OC), pr_base->matmul_forward(o, x, w, b, BT, C, OC));
}

static void w_mm_b(float *dx, float *dw, float *db, const float *d, const float *x, const float *w,
                   size_t BT, size_t C, size_t OC)
{
    TIMED(mm_id(C, OC) + 5, pr_base->matmul_backward(dx, dw, db, d, x, w, BT, C, OC));
}

static void w_rope_f(float *o, const float *x, const float *c, const float *s, size_t B, size_t T,
                     size_t C, size_t NH)
{
    TIMED(PR_ROPE_F, pr_base->rope_forward(o, x, c, s, B, T, C, NH));
}

static void w_rope_b(float *dx, const float *d, const float *c, const float *s, size_t B, size_t T,
                     size_t C, size_t NH)
{
    TIMED(PR_ROPE_B, pr_base->rope_backward(dx, d, c, s, B, T, C, NH));
}

static void w_att_f(float *o, float *att, const float *qkv, size_t B, size_t T, size_t C, size_t NH)
{
    TIMED(PR_ATT_F, pr_base->attention_forward(o, att, qkv, B, T, C, NH));
}

static void w_att_b(float *dqkv, float *sc, const float *d, const float *qkv, const float *att,
                    size_t B, size_t T, size_t C, size_t NH)
{
    TIMED(PR_ATT_B, pr_base->attention_backward(dqkv, sc, d, qkv, att, B, T, C, NH));
}

static void w_res_f(float *o, const float *a, const float *b, size_t n)
{
    TIMED(PR_RES_F, pr_base->residual_forward(o, a, b, n));
}

static void w_res_b(float *da, float *db, const float *d, size_t n)
{
    TIMED(PR_RES_B, pr_base->residual_backward(da, db, d, n));
}

static void w_gelu_f(float *o, const float *x, size_t n)
{
    TIMED(PR_GELU_F, pr_base->gelu_forward(o, x, n));
}

static void w_gelu_b(float *dx, const float *x, const float *d, size_t n)
{
    TIMED(PR_GELU_B, pr_base->gelu_backward(dx, x, d, n));
}

static void w_xent_f(float *l, float *lse, const float *z, const uint32_t *y, size_t BT, size_t V)
{
    TIMED(PR_XENT_F, pr_base->xent_forward(l, lse, z, y, BT, V));
}

static void w_xent_b(float *dz, const float *z, const float *lse, const uint32_t *y,
                     const float *dl, float scale, size_t BT, size_t V)
{
    TIMED(PR_XENT_B, pr_base->xent_backward(dz, z, lse, y, dl, scale, BT, V));
}

static void w_adam(float *p, float *m, float *v, const float *g, size_t n, float lr, float b1,
                   float b2, float eps, float wd, float gs, int step)
{
    TIMED(PR_ADAM, pr_base->adamw_update(p, m, v, g, n, lr, b1, b2, eps, wd, gs, step));
}

static void w_norm(float *norm, const float *g, size_t n)
{
    TIMED(PR_NORM, pr_base->adamw_norm(norm, g, n));
}

static const cs_ops timed_ops = {
    .name = "cpu (timed)",
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

static void print_profile(double step_s, long steps)
{
    double sum = 0.0;

    printf("\nper-op time per step (mean over %ld steps; share of the median step):\n", steps);
    for (int i = 0; i < PR_N; i++) {
        double t = pr_time[i] / (double)steps;

        sum += t;
        if (t > 0.0)
            printf("  %-16s %9.2f ms  %5.1f%%\n", pr_names[i], 1e3 * t, 100.0 * t / step_s);
    }
    printf("  %-16s %9.2f ms  %5.1f%%  (rest: model glue, token loading)\n", "all ops", 1e3 * sum,
           100.0 * sum / step_s);
}

// ---- sgemm rates ---------------------------------------------------------------------------

typedef struct gemm_shape {
    const char *name;
    int ta; /* A transposed */
    int tb; /* B transposed */
    size_t M, N, K;
    double per_step; /* calls per training step */
} gemm_shape;

/* GFLOP/s of C = op(A)·op(B) (+ C) at M×N×K, the median of 5 timed runs of at least 50 ms;
 * *best gets the fastest run. */
static double sgemm_rate(const gemm_shape *g, double *best)
{
    size_t na = g->M * g->K, nb = g->K * g->N, nc = g->M * g->N;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = calloc(nc, sizeof *c);
    double rate[5];
    cs_rng r;

    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0.0;
    }
    cs_rng_seed(&r, 1, 0);
    cs_rng_fill_uniform(&r, a, na, -1.0f, 1.0f);
    cs_rng_fill_uniform(&r, b, nb, -1.0f, 1.0f);
    for (int k = -1; k < 5; k++) { /* k = −1: warm-up */
        long reps = 0;
        double t0 = now(), t;

        do {
            cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                        g->tb ? CblasTrans : CblasNoTrans, (int)g->M, (int)g->N, (int)g->K, 1.0f, a,
                        g->ta ? (int)g->M : (int)g->K, b, g->tb ? (int)g->K : (int)g->N, 1.0f, c,
                        (int)g->N);
            reps++;
            t = now() - t0;
        } while (t < 0.05);
        if (k >= 0)
            rate[k] = 2.0 * (double)g->M * (double)g->N * (double)g->K * (double)reps / t / 1e9;
    }
    free(a), free(b), free(c);
    *best = rate[0];
    for (int k = 1; k < 5; k++)
        *best = rate[k] > *best ? rate[k] : *best;
    return median(rate, 5);
}

/* Prints square rates and the rates of the model's matmuls (forward inp·Wᵀ, backward dout·W and
 * doutᵀ·inp), median (fastest) of 5 runs each. square[0..1], best[0..1]: the square rates;
 * mix[0], mix[1]: the rate over one step's mix of the model's products (total FLOPs / total
 * time) from the medians and from the fastest runs. */
static void sgemm_report(const cs_model_shape *s, size_t BT, double *square, double *best,
                         double *mix)
{
    size_t C = (size_t)s->d_model, V = (size_t)s->vocab;
    double L = (double)s->n_layer, flops = 0.0, secs[2] = {0.0, 0.0}, one;
    const size_t ins[5] = {C, C, C, 4 * C, C}, outs[5] = {3 * C, C, 4 * C, C, V};
    const char *names[5] = {"qkv", "attproj", "fc", "fcproj", "logits"};
    gemm_shape sq[2] = {{"square", 0, 0, 1024, 1024, 1024, 0},
                        {"square", 0, 0, 2048, 2048, 2048, 0}};

    /* The ops keep OpenBLAS to one thread; here it uses as many threads as OpenMP has. */
    openblas_set_num_threads(1);
    printf("\ncblas_sgemm rates (GFLOP/s, median (fastest) of 5): square 2048^3 on 1 thread "
           "%.1f",
           sgemm_rate(&sq[1], &one));
    printf(" (%.1f)\n", one);
    openblas_set_num_threads(omp_get_max_threads());
    printf("on %d threads (OpenBLAS's own threading):\n", openblas_get_num_threads());
    for (int i = 0; i < 2; i++) {
        square[i] = sgemm_rate(&sq[i], &best[i]);
        printf("  square %zu^3: %.1f (%.1f)\n", sq[i].M, square[i], best[i]);
    }
    for (int i = 0; i < 5; i++) {
        double n = i == 4 ? 1.0 : L;
        gemm_shape g[3] = {{"fwd", 0, 1, BT, outs[i], ins[i], n},
                           {"dinp", 0, 0, BT, ins[i], outs[i], n},
                           {"dweight", 1, 0, outs[i], ins[i], BT, n}};

        for (int j = 0; j < 3; j++) {
            double b, r = sgemm_rate(&g[j], &b), f = 2.0 * (double)g[j].M * g[j].N * g[j].K * n;

            flops += f;
            secs[0] += f / (r * 1e9);
            secs[1] += f / (b * 1e9);
            printf("  %-7s %-7s M %6zu N %6zu K %6zu: %.1f (%.1f)\n", names[i], g[j].name, g[j].M,
                   g[j].N, g[j].K, r, b);
        }
    }
    mix[0] = flops / secs[0] / 1e9;
    mix[1] = flops / secs[1] / 1e9;
    printf("  model's mix (one step's linear layers): %.1f (%.1f)\n", mix[0], mix[1]);
}

// ---- the training step ---------------------------------------------------------------------

typedef struct bench_state {
    cs_model *m;
    float *adam_m;
    float *adam_v;
    uint32_t *windows; /* (B, T + 1) */
    float *sq;         /* (3, PAIR_N, PAIR_N): A, B, C of the paired sgemm */
} bench_state;

/* Side of the square sgemm timed right after every step. */
#define PAIR_N 1024

static double one_step(bench_state *s, const cs_ops *ops, size_t B, size_t T, int step)
{
    size_t n = cs_model_n_params(s->m);
    double t0 = now(), loss;
    float norm;

    cs_model_zero_grad(s->m);
    if (cs_model_forward(s->m, s->windows, B, T, &loss)) {
        fprintf(stderr, "bench_train: %s\n", cs_errmsg());
        exit(1);
    }
    cs_model_backward(s->m, 1.0f / (float)(B * T));
    ops->adamw_norm(&norm, cs_model_grads(s->m), n);
    ops->adamw_update(cs_model_params(s->m), s->adam_m, s->adam_v, cs_model_grads(s->m), n, 1e-4f,
                      0.9f, 0.95f, 1e-8f, 0.1f, cs_adamw_clip_scale(norm, 1.0f), step);
    if (step == 1)
        printf("step 1: loss %.4f nats (ln V = %.4f), grad norm %.4f\n", loss,
               log((double)cs_model_get_shape(s->m)->vocab), (double)norm);
    return now() - t0;
}

/* GFLOP/s of a PAIR_N³ sgemm on OpenMP's number of threads (OpenBLAS's own threading), timed
 * for at least 60 ms. Run right after a step, it measures the machine as the step found it (other
 * work on a shared machine comes and goes within seconds). Leaves OpenBLAS on one thread, as
 * the ops set it. */
static double paired_rate(bench_state *s)
{
    const float *pa = s->sq, *pb = s->sq + PAIR_N * PAIR_N;
    float *pc = s->sq + 2 * PAIR_N * PAIR_N;
    double t0, t;
    long reps = 0;

    openblas_set_num_threads(omp_get_max_threads());
    t0 = now();
    do {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, PAIR_N, PAIR_N, PAIR_N, 1.0f, pa,
                    PAIR_N, pb, PAIR_N, 0.0f, pc, PAIR_N);
        reps++;
        t = now() - t0;
    } while (t < 0.06);
    openblas_set_num_threads(1);
    return 2.0 * PAIR_N * PAIR_N * (double)PAIR_N * (double)reps / t / 1e9;
}

static int bench_setup(bench_state *s, const bench_args *a, const cs_ops *ops)
{
    size_t n, B = (size_t)a->batch, T = (size_t)a->shape.context;
    cs_rng r;

    s->m = cs_model_alloc(&a->shape, 10000.0, ops);
    if (!s->m)
        return 1;
    cs_model_init(s->m, 1);
    n = cs_model_n_params(s->m);
    s->adam_m = malloc(n * sizeof(float));
    s->adam_v = malloc(n * sizeof(float));
    s->windows = malloc(B * (T + 1) * sizeof *s->windows);
    s->sq = malloc(3 * PAIR_N * PAIR_N * sizeof *s->sq);
    if (!s->adam_m || !s->adam_v || !s->windows || !s->sq)
        return cs_fail(CS_ENOMEM, "out of memory");
    /* Zeroed through the ops table, which the compiler cannot turn into calloc (whose pages stay
     * untouched): the RSS before the first step then holds them. */
    ops->zero(s->adam_m, n);
    ops->zero(s->adam_v, n);
    cs_rng_seed(&r, 2, 0);
    cs_rng_fill_uniform(&r, s->sq, 3 * PAIR_N * PAIR_N, -1.0f, 1.0f);
    for (size_t i = 0; i < B * (T + 1); i++)
        s->windows[i] = (uint32_t)cs_rng_below(&r, (uint64_t)a->shape.vocab);
    return 0;
}

/* rss0: RSS before the first step; rss1: after it; peak: peak RSS after the timed steps (before
 * the sgemm measurements, whose matrices would count). */
static void print_memory(const bench_args *a, size_t n_params, double rss0, double rss1,
                         double peak)
{
    cs_flops_memory est;
    double state = 16.0 * (double)n_params / 1048576.0;

    cs_flops_memory_estimate(&a->shape, a->batch * a->shape.context, &est);
    printf("\nmemory (MB): params %.0f + grads %.0f + Adam m, v %.0f = %.0f (RSS before the first "
           "step: %.0f);\n",
           state / 4, state / 4, state / 2, state, rss0);
    printf("  activations and their gradients: %.0f (RSS growth over the first step); "
           "core/flops.h estimates %.0f\n",
           rss1 - rss0, (est.act_bytes + est.act_grad_bytes) / 1048576.0);
    printf("  sum %.0f; peak RSS over the steps %.0f (%.2f x the sum)\n", state + rss1 - rss0, peak,
           peak / (state + rss1 - rss0));
}

/* Tokens/s, model FLOP/s and their ratios to the sgemm rates, for one step time. */
static void print_rate(const bench_args *a, const char *what, double step_s, const double *sgemm,
                       double mix)
{
    double tok = (double)(a->batch * a->shape.context) / step_s, kaplan = 0.0, lmhead = 0.0;

    cs_flops_per_token(&a->shape, CS_FLOPS_KAPLAN, &kaplan);
    cs_flops_per_token(&a->shape, CS_FLOPS_LMHEAD, &lmhead);
    printf("\n%s step %.1f ms: %.1f tokens/s", what, 1e3 * step_s, tok);
    if (a->ref > 0.0)
        printf(", %.2f x the reference %.1f tokens/s", tok / a->ref, a->ref);
    printf("\nmodel FLOP/s: %.2f GFLOP/s (kaplan, %.4g FLOPs/token), %.2f GFLOP/s (lmhead, %.4g "
           "FLOPs/token)\n",
           tok * kaplan / 1e9, kaplan, tok * lmhead / 1e9, lmhead);
    if (sgemm[0] > 0.0)
        printf("ratio to sgemm: square 2048^3 %.1f GFLOP/s: kaplan %.2f, lmhead %.2f; model's mix "
               "%.1f GFLOP/s: kaplan %.2f, lmhead %.2f\n",
               sgemm[1], tok * kaplan / 1e9 / sgemm[1], tok * lmhead / 1e9 / sgemm[1], mix,
               tok * kaplan / 1e9 / mix, tok * lmhead / 1e9 / mix);
}

/* The median step against the median sgemm rates, and the fastest step (the least disturbed by
 * other work on a shared machine) against the fastest sgemm runs. */
static void print_rates(const bench_args *a, double *times, size_t n, const double *sgemm,
                        double mix, const double *sgemm_best, double mix_best)
{
    double med = median(times, n);

    print_rate(a, "median", med, sgemm, mix);
    print_rate(a, "fastest", times[0], sgemm_best, mix_best);
}

/* Times the steps into times[] (s) and, with --sgemm 1, the paired sgemm rate after each into
 * rates[] (GFLOP/s); prints both. */
static void run_steps(bench_state *s, const bench_args *a, const cs_ops *ops, double *times,
                      double *rates)
{
    size_t B = (size_t)a->batch, T = (size_t)a->shape.context;

    for (long k = 0; k < a->steps; k++) {
        times[k] = one_step(s, ops, B, T, (int)k + 2);
        rates[k] = a->sgemm ? paired_rate(s) : 0.0;
    }
    printf("step times (ms):");
    for (long k = 0; k < a->steps; k++)
        printf(" %.1f", 1e3 * times[k]);
    if (a->sgemm) {
        printf("\nsgemm %d^3 right after each step (GFLOP/s):", PAIR_N);
        for (long k = 0; k < a->steps; k++)
            printf(" %.1f", rates[k]);
    }
    printf("\n");
}

/* The ratio of the model's FLOP/s in each step to the sgemm rate measured right after it: the
 * pairing cancels most of the load other processes put on a shared machine. */
static void print_paired(const bench_args *a, const double *times, const double *rates, size_t n)
{
    double *rk = malloc(n * sizeof *rk), *rl = malloc(n * sizeof *rl), *rr = malloc(n * sizeof *rr);
    double kaplan = 0.0, lmhead = 0.0, tok = (double)(a->batch * a->shape.context);
    size_t fast = 0;

    if (!rk || !rl || !rr) {
        free(rk), free(rl), free(rr);
        return;
    }
    cs_flops_per_token(&a->shape, CS_FLOPS_KAPLAN, &kaplan);
    cs_flops_per_token(&a->shape, CS_FLOPS_LMHEAD, &lmhead);
    for (size_t k = 0; k < n; k++) {
        rk[k] = tok / times[k] * kaplan / 1e9 / rates[k];
        rl[k] = tok / times[k] * lmhead / 1e9 / rates[k];
        rr[k] = rates[k];
        fast = times[k] < times[fast] ? k : fast;
    }
    printf("model FLOP/s / sgemm rate right after the same step: kaplan %.2f at the fastest step, "
           "median %.2f; lmhead %.2f, median %.2f (paired sgemm: %.1f GFLOP/s at the fastest "
           "step, median %.1f)\n",
           rk[fast], median(rk, n), rl[fast], median(rl, n), rates[fast], median(rr, n));
    free(rk), free(rl), free(rr);
}

// ---- arguments -----------------------------------------------------------------------------

static int set_preset(bench_args *a, const char *name)
{
    if (strcmp(name, "gpt2") == 0)
        a->shape = (cs_model_shape){12, 768, 12, 50257, 64};
    else if (strcmp(name, "tiny") == 0)
        a->shape = (cs_model_shape){4, 256, 4, 512, 256};
    else
        return 1;
    a->batch = 4;
    return 0;
}

static int parse_args(int argc, char **argv, bench_args *a)
{
    static const char *const keys[] = {"--layers", "--d-model", "--heads", "--vocab",  "--context",
                                       "--batch",  "--steps",   "--sgemm", "--profile"};
    long *dst[] = {NULL, NULL, NULL, NULL, NULL, &a->batch, &a->steps, &a->sgemm, &a->profile};
    int64_t *sdst[] = {&a->shape.n_layer, &a->shape.d_model, &a->shape.n_head, &a->shape.vocab,
                       &a->shape.context};
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
        size_t k = 0;
        long v;

        if (strcmp(argv[i], "--preset") == 0) {
            if (set_preset(a, argv[i + 1]))
                return 1;
            continue;
        }
        if (strcmp(argv[i], "--ref") == 0) {
            if (cs_parse_double(argv[i + 1], &a->ref, "--ref") || a->ref < 0.0)
                return 1;
            continue;
        }
        while (k < 9 && strcmp(argv[i], keys[k]) != 0)
            k++;
        if (k == 9 || cs_parse_long(argv[i + 1], &v, keys[k]) || v < 0)
            return 1;
        if (k < 5)
            *sdst[k] = v;
        else
            *dst[k] = v;
    }
    return i != argc || a->batch < 1 || a->steps < 1;
}

int main(int argc, char **argv)
{
    bench_args a = {.steps = 10, .sgemm = 1, .profile = 1};
    bench_state s = {0};
    double *times, *rates, rss0, rss1, peak, sgemm[2] = {0, 0}, best[2] = {0, 0}, mix[2] = {0, 0};
    size_t B, T;

    set_preset(&a, "tiny");
    if (parse_args(argc, argv, &a)) {
        fprintf(stderr, "usage: bench_train [--preset gpt2|tiny] [--layers L] [--d-model C] "
                        "[--heads NH] [--vocab V] [--context T] [--batch B] [--steps N] "
                        "[--sgemm 0|1] [--profile 0|1] [--ref TOKENS_PER_S]\n");
        return 2;
    }
    B = (size_t)a.batch, T = (size_t)a.shape.context;
    pr_base = cs_cpu_ops(), pr_d = (size_t)a.shape.d_model, pr_v = (size_t)a.shape.vocab;
    if (bench_setup(&s, &a, a.profile ? &timed_ops : cs_cpu_ops())) {
        fprintf(stderr, "bench_train: %s\n", cs_errmsg());
        return 1;
    }
    printf("model: %lld layers, d %lld, %lld heads, V %lld, T %zu, B %zu (%zu tokens/step), %zu "
           "parameters; OMP_NUM_THREADS=%s\n",
           (long long)a.shape.n_layer, (long long)a.shape.d_model, (long long)a.shape.n_head,
           (long long)a.shape.vocab, T, B, B * T, cs_model_n_params(s.m),
           getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "(unset)");
    rss0 = rss_mb();
    one_step(&s, a.profile ? &timed_ops : cs_cpu_ops(), B, T, 1); /* warm-up, grows buffers */
    rss1 = rss_mb();
    memset(pr_time, 0, sizeof pr_time);
    times = malloc((size_t)a.steps * sizeof *times);
    rates = malloc((size_t)a.steps * sizeof *rates);
    if (!times || !rates)
        return 1;
    run_steps(&s, &a, a.profile ? &timed_ops : cs_cpu_ops(), times, rates);
    peak = peak_rss_mb();
    if (a.sgemm)
        print_paired(&a, times, rates, (size_t)a.steps);
    if (a.sgemm)
        sgemm_report(&a.shape, B * T, sgemm, best, mix);
    if (a.profile)
        print_profile(median(times, (size_t)a.steps), a.steps);
    print_rates(&a, times, (size_t)a.steps, sgemm, mix[0], best, mix[1]);
    print_memory(&a, cs_model_n_params(s.m), rss0, rss1, peak);
    free(times), free(rates), free(s.adam_m), free(s.adam_v), free(s.windows), free(s.sq);
    cs_model_free(s.m);
    return 0;
}
