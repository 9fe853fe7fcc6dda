/* tests/parity/gpt_cuda.h: trainer/model.c's forward and backward passes, op for op, on device
 * buffers through the CUDA ops table. Header-only (static inline), for the whole-model parity
 * test tests/parity/model.c and the GPU benchmark bench/bench_gpu.c.
 *
 * Why a copy: trainer/model.c keeps its parameters and activations in host memory (calloc), so
 * it cannot run on the CUDA table yet; docs/cuda.md ("What the model needs") proposes the change
 * (allocation and copies through the ops table) that makes this file unnecessary. Until then,
 * tests/parity/model.c checks this copy against the real cs_model on the CPU table, step by
 * step, so a drift between the two shows up as a failed test. The parameter layout and the
 * initial parameters are taken from a host cs_model (cs_model_tensor_at, cs_model_init).
 */
#ifndef CS_TESTS_PARITY_GPT_CUDA_H
#define CS_TESTS_PARITY_GPT_CUDA_H

#include "core/error.h"
#include "trainer/adamw.h"
#include "trainer/cuda/device.h"
#include "trainer/model.h"
#include "trainer/ops.h"
#include "trainer/rope.h"

#include <stdlib.h>
#include <string.h>

/* The activations of trainer/model.c, same names and shapes (L = n_layer). */
typedef struct gpt_acts {
    float *encoded, *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *att, *attproj, *res2, *ln2;
    float *ln2_mean, *ln2_rstd, *fch, *fch_gelu, *fcproj, *res3, *lnf, *lnf_mean, *lnf_rstd;
    float *logits, *lse, *losses, *dresid, *dbuf, *dqkv, *dfc_a, *dfc_b, *scratch;
} gpt_acts;

#define GPT_NACTS (sizeof(gpt_acts) / sizeof(float *))

/* A model on the device for one (B, T). */
typedef struct gpt {
    const cs_ops *ops;                  /* cs_cuda_ops() */
    size_t L, C, NH, V, B, T, n_params; /* shape; B, T of every step */
    size_t off[CS_MODEL_NTENSORS];      /* tensor offsets in the parameter buffer (floats) */
    float *params, *grads, *m, *v;      /* (n_params) each, device */
    float *act_mem;                     /* every activation, device */
    gpt_acts a;                         /* pointers into act_mem */
    uint32_t *inputs, *targets;         /* (B, T), device */
    float *rope_cos, *rope_sin;         /* (T, HS/2), device */
    size_t bytes;                       /* device memory allocated for all of the above */
} gpt;

/* Sizes (floats) of the fields of gpt_acts, in field order, as act_sizes in model.c. */
static inline void gpt_act_sizes(const gpt *g, size_t sz[GPT_NACTS])
{
    size_t L = g->L, C = g->C, BT = g->B * g->T, T = g->T;
    const size_t s[GPT_NACTS] = {
        BT * C,
        L * BT * C,
        L * BT,
        L * BT,
        L * BT * 3 * C,
        L * BT * C,
        L * g->B * g->NH * T * T,
        L * BT * C,
        L * BT * C,
        L * BT * C,
        L * BT,
        L * BT,
        L * BT * 4 * C,
        L * BT * 4 * C,
        L * BT * C,
        L * BT * C,
        BT * C,
        BT,
        BT,
        BT * g->V,
        BT,
        BT,
        BT * C,
        BT * C,
        BT * 3 * C,
        BT * 4 * C,
        BT * 4 * C,
        T * T,
    };

    memcpy(sz, s, sizeof s);
}

/* Device bytes gpt_alloc will ask for: parameters, gradients, two moments, activations,
 * tokens and rotary tables. */
static inline double gpt_bytes_needed(const gpt *g)
{
    size_t sz[GPT_NACTS];
    double f = 4.0 * (double)g->n_params;

    gpt_act_sizes(g, sz);
    for (size_t i = 0; i < GPT_NACTS; i++)
        f += (double)sz[i];
    f += (double)g->T * (double)(g->C / g->NH); /* both rotary tables */
    return 4.0 * f + 8.0 * (double)(g->B * g->T);
}

static inline int gpt_dev(gpt *g, void **p, size_t bytes)
{
    g->bytes += bytes;
    return cs_cuda_alloc(p, bytes);
}

/* Allocates g's device buffers for the shape of `host` (a cs_model on the CPU table, which
 * gives the layout and, through `host`'s parameters, the initial values) and batches of (B, T),
 * and uploads the parameters and the rotary tables (theta). Returns CS_OK, CS_ENOMEM (the
 * device message says how much), CS_ECUDA or CS_EINVAL. */
static inline int gpt_alloc(gpt *g, cs_model *host, double theta, size_t B, size_t T)
{
    const cs_model_shape *s = cs_model_get_shape(host);
    size_t sz[GPT_NACTS], total = 0, HS;
    float **field = (float **)&g->a;
    float *cs = NULL, *sn = NULL;
    int st;

    memset(g, 0, sizeof *g);
    g->ops = cs_cuda_ops();
    if (!g->ops)
        return cs_fail(CS_ECUDA, "no CUDA ops table");
    g->L = (size_t)s->n_layer, g->C = (size_t)s->d_model, g->NH = (size_t)s->n_head;
    g->V = (size_t)s->vocab, g->B = B, g->T = T, g->n_params = cs_model_n_params(host);
    HS = g->C / g->NH;
    for (size_t i = 0; i < CS_MODEL_NTENSORS; i++)
        g->off[i] = cs_model_tensor_at(host, i)->offset;
    gpt_act_sizes(g, sz);
    for (size_t i = 0; i < GPT_NACTS; i++)
        total += sz[i];
    if ((st = gpt_dev(g, (void **)&g->params, g->n_params * 4)) ||
        (st = gpt_dev(g, (void **)&g->grads, g->n_params * 4)) ||
        (st = gpt_dev(g, (void **)&g->m, g->n_params * 4)) ||
        (st = gpt_dev(g, (void **)&g->v, g->n_params * 4)) ||
        (st = gpt_dev(g, (void **)&g->act_mem, total * 4)) ||
        (st = gpt_dev(g, (void **)&g->inputs, B * T * 4)) ||
        (st = gpt_dev(g, (void **)&g->targets, B * T * 4)) ||
        (st = gpt_dev(g, (void **)&g->rope_cos, T * HS / 2 * 4)) ||
        (st = gpt_dev(g, (void **)&g->rope_sin, T * HS / 2 * 4)))
        return st;
    for (size_t i = 0, off = 0; i < GPT_NACTS; off += sz[i], i++)
        field[i] = g->act_mem + off;
    cs = malloc(T * HS / 2 * sizeof *cs), sn = malloc(T * HS / 2 * sizeof *sn);
    st = cs && sn ? cs_rope_fill_tables(cs, sn, T, HS, theta) : cs_fail(CS_ENOMEM, "host memory");
    if (!st)
        st = cs_cuda_upload(g->rope_cos, cs, T * HS / 2 * 4);
    if (!st)
        st = cs_cuda_upload(g->rope_sin, sn, T * HS / 2 * 4);
    if (!st)
        st = cs_cuda_upload(g->params, cs_model_params(host), g->n_params * 4);
    free(cs), free(sn);
    g->ops->zero(g->m, g->n_params);
    g->ops->zero(g->v, g->n_params);
    g->ops->zero(g->grads, g->n_params);
    return st ? st : cs_cuda_step_check();
}

static inline void gpt_free(gpt *g)
{
    void *p[] = {g->params, g->grads,   g->m,        g->v,       g->act_mem,
                 g->inputs, g->targets, g->rope_cos, g->rope_sin};

    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        cs_cuda_free(p[i]);
    memset(g, 0, sizeof *g);
}

/* Uploads B windows of T + 1 tokens (as cs_model_forward takes them): inputs 0..T-1, targets
 * 1..T. The caller checks the tokens are below V. */
static inline int gpt_load(gpt *g, const uint32_t *windows)
{
    size_t B = g->B, T = g->T;
    uint32_t *in = malloc(B * T * sizeof *in), *tg = malloc(B * T * sizeof *tg);
    int st = in && tg ? CS_OK : cs_fail(CS_ENOMEM, "host memory for tokens");

    for (size_t b = 0; !st && b < B; b++) {
        memcpy(in + b * T, windows + b * (T + 1), T * sizeof *in);
        memcpy(tg + b * T, windows + b * (T + 1) + 1, T * sizeof *tg);
    }
    if (!st)
        st = cs_cuda_upload(g->inputs, in, B * T * sizeof *in);
    if (!st)
        st = cs_cuda_upload(g->targets, tg, B * T * sizeof *tg);
    free(in), free(tg);
    return st;
}

#define GPT_P(id) (g->params + g->off[id])
#define GPT_G(id) (g->grads + g->off[id])

/* block_forward of model.c. */
static inline void gpt_block_forward(gpt *g, size_t l, const float *residual)
{
    const cs_ops *o = g->ops;
    gpt_acts *a = &g->a;
    size_t C = g->C, NH = g->NH, B = g->B, T = g->T, BT = B * T, BTC = BT * C;
    float *ln1 = a->ln1 + l * BTC, *qkv = a->qkv + l * BTC * 3, *atty = a->atty + l * BTC;
    float *attproj = a->attproj + l * BTC, *res2 = a->res2 + l * BTC, *ln2 = a->ln2 + l * BTC;
    float *fch = a->fch + l * BTC * 4, *fchg = a->fch_gelu + l * BTC * 4;

    o->layernorm_forward(ln1, a->ln1_mean + l * BT, a->ln1_rstd + l * BT, residual,
                         GPT_P(CS_MODEL_LN1W) + l * C, GPT_P(CS_MODEL_LN1B) + l * C, BT, C);
    o->matmul_forward(qkv, ln1, GPT_P(CS_MODEL_QKVW) + l * 3 * C * C,
                      GPT_P(CS_MODEL_QKVB) + l * 3 * C, BT, C, 3 * C);
    o->rope_forward(qkv, qkv, g->rope_cos, g->rope_sin, B, T, C, NH);
    o->attention_forward(atty, a->att + l * B * NH * T * T, qkv, B, T, C, NH);
    o->matmul_forward(attproj, atty, GPT_P(CS_MODEL_ATTPROJW) + l * C * C,
                      GPT_P(CS_MODEL_ATTPROJB) + l * C, BT, C, C);
    o->residual_forward(res2, residual, attproj, BTC);
    o->layernorm_forward(ln2, a->ln2_mean + l * BT, a->ln2_rstd + l * BT, res2,
                         GPT_P(CS_MODEL_LN2W) + l * C, GPT_P(CS_MODEL_LN2B) + l * C, BT, C);
    o->matmul_forward(fch, ln2, GPT_P(CS_MODEL_FCW) + l * 4 * C * C,
                      GPT_P(CS_MODEL_FCB) + l * 4 * C, BT, C, 4 * C);
    o->gelu_forward(fchg, fch, BTC * 4);
    o->matmul_forward(a->fcproj + l * BTC, fchg, GPT_P(CS_MODEL_FCPROJW) + l * 4 * C * C,
                      GPT_P(CS_MODEL_FCPROJB) + l * C, BT, 4 * C, C);
    o->residual_forward(a->res3 + l * BTC, res2, a->fcproj + l * BTC, BTC);
}

/* cs_model_forward of model.c after the tokens are loaded; the losses stay on the device
 * (g->a.losses, (B, T)). */
static inline void gpt_forward(gpt *g)
{
    const cs_ops *o = g->ops;
    size_t C = g->C, V = g->V, L = g->L, BT = g->B * g->T;

    o->encoder_forward(g->a.encoded, g->inputs, GPT_P(CS_MODEL_WTE), BT, C, V);
    for (size_t l = 0; l < L; l++)
        gpt_block_forward(g, l, l == 0 ? g->a.encoded : g->a.res3 + (l - 1) * BT * C);
    o->layernorm_forward(g->a.lnf, g->a.lnf_mean, g->a.lnf_rstd, g->a.res3 + (L - 1) * BT * C,
                         GPT_P(CS_MODEL_LNFW), GPT_P(CS_MODEL_LNFB), BT, C);
    o->matmul_forward(g->a.logits, g->a.lnf, GPT_P(CS_MODEL_WTE), NULL, BT, C, V);
    o->xent_forward(g->a.losses, g->a.lse, g->a.logits, g->targets, BT, V);
}

/* block_backward of model.c. */
static inline void gpt_block_backward(gpt *g, size_t l, const float *residual)
{
    const cs_ops *o = g->ops;
    gpt_acts *a = &g->a;
    size_t C = g->C, NH = g->NH, B = g->B, T = g->T, BT = B * T, BTC = BT * C;
    const float *qkv = a->qkv + l * BTC * 3;

    o->zero(a->dfc_a, BTC * 4);
    o->matmul_backward(a->dfc_a, GPT_G(CS_MODEL_FCPROJW) + l * 4 * C * C,
                       GPT_G(CS_MODEL_FCPROJB) + l * C, a->dresid, a->fch_gelu + l * BTC * 4,
                       GPT_P(CS_MODEL_FCPROJW) + l * 4 * C * C, BT, 4 * C, C);
    o->zero(a->dfc_b, BTC * 4);
    o->gelu_backward(a->dfc_b, a->fch + l * BTC * 4, a->dfc_a, BTC * 4);
    o->zero(a->dbuf, BTC);
    o->matmul_backward(a->dbuf, GPT_G(CS_MODEL_FCW) + l * 4 * C * C,
                       GPT_G(CS_MODEL_FCB) + l * 4 * C, a->dfc_b, a->ln2 + l * BTC,
                       GPT_P(CS_MODEL_FCW) + l * 4 * C * C, BT, C, 4 * C);
    o->layernorm_backward(a->dresid, GPT_G(CS_MODEL_LN2W) + l * C, GPT_G(CS_MODEL_LN2B) + l * C,
                          a->dbuf, a->res2 + l * BTC, GPT_P(CS_MODEL_LN2W) + l * C,
                          a->ln2_mean + l * BT, a->ln2_rstd + l * BT, BT, C);
    o->zero(a->dbuf, BTC);
    o->matmul_backward(a->dbuf, GPT_G(CS_MODEL_ATTPROJW) + l * C * C,
                       GPT_G(CS_MODEL_ATTPROJB) + l * C, a->dresid, a->atty + l * BTC,
                       GPT_P(CS_MODEL_ATTPROJW) + l * C * C, BT, C, C);
    o->zero(a->dqkv, BTC * 3);
    o->attention_backward(a->dqkv, a->scratch, a->dbuf, qkv, a->att + l * B * NH * T * T, B, T, C,
                          NH);
    o->rope_backward(a->dqkv, a->dqkv, g->rope_cos, g->rope_sin, B, T, C, NH);
    o->zero(a->dbuf, BTC);
    o->matmul_backward(a->dbuf, GPT_G(CS_MODEL_QKVW) + l * 3 * C * C,
                       GPT_G(CS_MODEL_QKVB) + l * 3 * C, a->dqkv, a->ln1 + l * BTC,
                       GPT_P(CS_MODEL_QKVW) + l * 3 * C * C, BT, C, 3 * C);
    o->layernorm_backward(a->dresid, GPT_G(CS_MODEL_LN1W) + l * C, GPT_G(CS_MODEL_LN1B) + l * C,
                          a->dbuf, residual, GPT_P(CS_MODEL_LN1W) + l * C, a->ln1_mean + l * BT,
                          a->ln1_rstd + l * BT, BT, C);
}

/* cs_model_backward of model.c: adds the gradient of scale · Σ losses into g->grads. */
static inline void gpt_backward(gpt *g, float scale)
{
    const cs_ops *o = g->ops;
    gpt_acts *a = &g->a;
    size_t C = g->C, V = g->V, L = g->L, BT = g->B * g->T, BTC = BT * C;

    o->xent_backward(a->logits, a->logits, a->lse, g->targets, NULL, scale, BT, V);
    o->zero(a->dbuf, BTC);
    o->matmul_backward(a->dbuf, GPT_G(CS_MODEL_WTE), NULL, a->logits, a->lnf, GPT_P(CS_MODEL_WTE),
                       BT, C, V);
    o->zero(a->dresid, BTC);
    o->layernorm_backward(a->dresid, GPT_G(CS_MODEL_LNFW), GPT_G(CS_MODEL_LNFB), a->dbuf,
                          a->res3 + (L - 1) * BTC, GPT_P(CS_MODEL_LNFW), a->lnf_mean, a->lnf_rstd,
                          BT, C);
    for (size_t l = L; l-- > 0;)
        gpt_block_backward(g, l, l == 0 ? a->encoded : a->res3 + (l - 1) * BTC);
    o->encoder_backward(GPT_G(CS_MODEL_WTE), a->dresid, g->inputs, BT, C, V);
}

/* One AdamW step per tensor (weight decay on the matrices only, as the trainer groups them),
 * through `ops` on the buffers given: the same calls for the CPU model and the device copy. */
static inline void gpt_adamw(const cs_ops *ops, cs_model *layout, float *params, float *m, float *v,
                             const float *grads, float lr, int step)
{
    for (size_t i = 0; i < CS_MODEL_NTENSORS; i++) {
        const cs_model_tensor *t = cs_model_tensor_at(layout, i);

        ops->adamw_update(params + t->offset, m + t->offset, v + t->offset, grads + t->offset,
                          t->size, lr, 0.9f, 0.95f, 1e-8f, t->is_matrix ? 0.1f : 0.0f, 1.0f, step);
    }
}

#endif /* CS_TESTS_PARITY_GPT_CUDA_H */
