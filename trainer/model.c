/* trainer/model.c: the GPT-2-style model with rotary embeddings: parameter layout, GPT-2
 * initialisation, activation buffers, forward and backward passes through the ops table.
 * Declared in trainer/model.h; tested in tests/unit/test_model.c.
 */
#include "trainer/model.h"

#include "core/error.h"
#include "core/rng.h"
#include "trainer/rope.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Activations of one (B, T), all pointers into one buffer. L = n_layer. */
typedef struct acts {
    float *encoded;  /* (B, T, C) */
    float *ln1;      /* (L, B, T, C) */
    float *ln1_mean; /* (L, B, T) */
    float *ln1_rstd; /* (L, B, T) */
    float *qkv;      /* (L, B, T, 3C), rotary applied in place */
    float *atty;     /* (L, B, T, C) */
    float *att;      /* (L, B, NH, T, T) */
    float *attproj;  /* (L, B, T, C) */
    float *res2;     /* (L, B, T, C) */
    float *ln2;      /* (L, B, T, C) */
    float *ln2_mean; /* (L, B, T) */
    float *ln2_rstd; /* (L, B, T) */
    float *fch;      /* (L, B, T, 4C) */
    float *fch_gelu; /* (L, B, T, 4C) */
    float *fcproj;   /* (L, B, T, C) */
    float *res3;     /* (L, B, T, C) */
    float *lnf;      /* (B, T, C) */
    float *lnf_mean; /* (B, T) */
    float *lnf_rstd; /* (B, T) */
    float *logits;   /* (B, T, V); the backward pass writes dlogits over it */
    float *lse;      /* (B, T) */
    float *losses;   /* (B, T) nats */
    float *dresid;   /* (B, T, C) gradient of the residual stream */
    float *dbuf;     /* (B, T, C) */
    float *dqkv;     /* (B, T, 3C) */
    float *dfc_a;    /* (B, T, 4C) */
    float *dfc_b;    /* (B, T, 4C) */
    float *scratch;  /* (T, T) attention backward workspace */
} acts;

#define N_ACTS (sizeof(acts) / sizeof(float *))

struct cs_model {
    cs_model_shape shape;
    double rope_theta;
    const cs_ops *ops;
    cs_model_tensor tensors[CS_MODEL_NTENSORS];
    size_t n_params;
    float *params; /* (n_params) */
    float *grads;  /* (n_params) */
    float *act_mem;
    size_t act_cap; /* floats in act_mem */
    acts a;
    size_t B, T;       /* of the last forward pass (0 before) */
    bool backward_ok;  /* the logits still hold logits */
    uint32_t *inputs;  /* (B, T) */
    uint32_t *targets; /* (B, T) */
    size_t tok_cap;    /* entries of inputs and targets */
    float *rope_cos;   /* (rope_P, HS/2) */
    float *rope_sin;   /* (rope_P, HS/2) */
    size_t rope_P;
};

static const char *const tensor_names[CS_MODEL_NTENSORS] = {
    "wte",  "ln1w", "ln1b", "qkvw",    "qkvb",    "attprojw", "attprojb", "ln2w",
    "ln2b", "fcw",  "fcb",  "fcprojw", "fcprojb", "lnfw",     "lnfb",
};

static void layout_params(cs_model *m)
{
    size_t L = (size_t)m->shape.n_layer, C = (size_t)m->shape.d_model;
    size_t V = (size_t)m->shape.vocab;
    const size_t sizes[CS_MODEL_NTENSORS] = {
        V * C, L * C,         L * C,     L * 3 * C * C, L * 3 * C, L * C * C, L * C, L * C,
        L * C, L * 4 * C * C, L * 4 * C, L * 4 * C * C, L * C,     C,         C,
    };
    size_t off = 0;

    for (size_t i = 0; i < CS_MODEL_NTENSORS; i++) {
        m->tensors[i].name = tensor_names[i];
        m->tensors[i].offset = off;
        m->tensors[i].size = sizes[i];
        m->tensors[i].is_matrix = i == CS_MODEL_WTE || i == CS_MODEL_QKVW ||
                                  i == CS_MODEL_ATTPROJW || i == CS_MODEL_FCW ||
                                  i == CS_MODEL_FCPROJW;
        off += sizes[i];
    }
    m->n_params = off;
}

static int check_model_args(const cs_model_shape *s, double rope_theta, const cs_ops *ops)
{
    int st;

    if (!ops)
        return cs_fail(CS_EINVAL, "model: no ops table");
    st = cs_flops_check_shape(s);
    if (st)
        return st;
    if ((s->d_model / s->n_head) % 2 != 0)
        return cs_fail(CS_EINPUT,
                       "model shape: d_model / n_head = %lld: the head size must be even for "
                       "rotary embeddings",
                       (long long)(s->d_model / s->n_head));
    if (!isfinite(rope_theta) || rope_theta <= 0)
        return cs_fail(CS_EINPUT, "model: rope_theta = %g: expected a finite number > 0",
                       rope_theta);
    return CS_OK;
}

cs_model *cs_model_alloc(const cs_model_shape *s, double rope_theta, const cs_ops *ops)
{
    cs_model *m;

    if (check_model_args(s, rope_theta, ops))
        return NULL;
    m = calloc(1, sizeof *m);
    if (!m)
        goto out_nomem;
    m->shape = *s;
    m->rope_theta = rope_theta;
    m->ops = ops;
    layout_params(m);
    m->params = calloc(m->n_params, sizeof(float));
    m->grads = calloc(m->n_params, sizeof(float));
    if (!m->params || !m->grads)
        goto out_free_model;
    return m;

out_free_model:
    cs_model_free(m);
out_nomem:
    cs_fail(CS_ENOMEM, "model: out of memory for the parameters");
    return NULL;
}

void cs_model_free(cs_model *m)
{
    if (!m)
        return;
    free(m->params);
    free(m->grads);
    free(m->act_mem);
    free(m->inputs);
    free(m->targets);
    free(m->rope_cos);
    free(m->rope_sin);
    free(m);
}

const cs_model_shape *cs_model_get_shape(const cs_model *m)
{
    return &m->shape;
}

size_t cs_model_n_params(const cs_model *m)
{
    return m->n_params;
}

float *cs_model_params(cs_model *m)
{
    return m->params;
}

float *cs_model_grads(cs_model *m)
{
    return m->grads;
}

const cs_model_tensor *cs_model_tensor_at(const cs_model *m, size_t i)
{
    return i < CS_MODEL_NTENSORS ? &m->tensors[i] : NULL;
}

void cs_model_zero_grad(cs_model *m)
{
    m->ops->zero(m->grads, m->n_params);
}

void cs_model_init(cs_model *m, uint64_t seed)
{
    const float std = 0.02f;
    const float std_res = (float)(0.02 / sqrt(2.0 * (double)m->shape.n_layer));
    cs_rng r;

    cs_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < CS_MODEL_NTENSORS; i++) {
        float *p = m->params + m->tensors[i].offset;
        size_t n = m->tensors[i].size;

        if (i == CS_MODEL_ATTPROJW || i == CS_MODEL_FCPROJW)
            cs_rng_fill_normal(&r, p, n, 0.0f, std_res);
        else if (m->tensors[i].is_matrix)
            cs_rng_fill_normal(&r, p, n, 0.0f, std);
        else if (i == CS_MODEL_LN1W || i == CS_MODEL_LN2W || i == CS_MODEL_LNFW)
            for (size_t j = 0; j < n; j++)
                p[j] = 1.0f;
        else
            memset(p, 0, n * sizeof *p);
    }
    cs_model_zero_grad(m);
}

// ---- activations -------------------------------------------------------------------------

/* Sizes (floats) of the fields of acts for (B, T), in field order. */
static void act_sizes(const cs_model *m, size_t B, size_t T, size_t sz[N_ACTS])
{
    size_t L = (size_t)m->shape.n_layer, C = (size_t)m->shape.d_model;
    size_t NH = (size_t)m->shape.n_head, V = (size_t)m->shape.vocab;
    size_t BT = B * T;
    const size_t s[N_ACTS] = {
        BT * C,
        L * BT * C,
        L * BT,
        L * BT,
        L * BT * 3 * C,
        L * BT * C,
        L * B * NH * T * T,
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
        BT * V,
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

static int grow_rope(cs_model *m, size_t T)
{
    size_t HS = (size_t)(m->shape.d_model / m->shape.n_head);
    size_t P = T > (size_t)m->shape.context ? T : (size_t)m->shape.context;
    float *c, *s;

    if (P <= m->rope_P)
        return CS_OK;
    c = realloc(m->rope_cos, P * HS / 2 * sizeof *c);
    if (c)
        m->rope_cos = c;
    s = realloc(m->rope_sin, P * HS / 2 * sizeof *s);
    if (s)
        m->rope_sin = s;
    if (!c || !s)
        return cs_fail(CS_ENOMEM, "model: out of memory for rotary tables of %zu positions", P);
    m->rope_P = P;
    return cs_rope_fill_tables(m->rope_cos, m->rope_sin, P, HS, m->rope_theta);
}

/* Lays the activations out for (B, T), growing the buffers when needed. */
static int reserve(cs_model *m, size_t B, size_t T)
{
    size_t sz[N_ACTS], total = 0;
    float **field = (float **)&m->a;

    act_sizes(m, B, T, sz);
    for (size_t i = 0; i < N_ACTS; i++)
        total += sz[i];
    if (total > m->act_cap) {
        free(m->act_mem);
        m->act_cap = 0;
        m->act_mem = malloc(total * sizeof(float));
        if (!m->act_mem)
            return cs_fail(CS_ENOMEM,
                           "model: out of memory for activations (B = %zu, T = %zu: "
                           "%.3g GB)",
                           B, T, (double)total * 4e-9);
        m->act_cap = total;
    }
    for (size_t i = 0, off = 0; i < N_ACTS; off += sz[i], i++)
        field[i] = m->act_mem + off;
    if (B * T > m->tok_cap) {
        free(m->inputs);
        free(m->targets);
        m->tok_cap = 0;
        m->inputs = malloc(B * T * sizeof *m->inputs);
        m->targets = malloc(B * T * sizeof *m->targets);
        if (!m->inputs || !m->targets)
            return cs_fail(CS_ENOMEM, "model: out of memory for tokens");
        m->tok_cap = B * T;
    }
    m->B = B;
    m->T = T;
    return grow_rope(m, T);
}

static int load_tokens(cs_model *m, const uint32_t *windows, size_t B, size_t T)
{
    uint32_t V = (uint32_t)m->shape.vocab;

    for (size_t b = 0; b < B; b++) {
        const uint32_t *w = windows + b * (T + 1);

        for (size_t t = 0; t <= T; t++)
            if (w[t] >= V)
                return cs_fail(CS_EINPUT,
                               "window %zu, position %zu: token %u is not below the "
                               "model's vocabulary %u",
                               b, t, w[t], V);
        memcpy(m->inputs + b * T, w, T * sizeof *w);
        memcpy(m->targets + b * T, w + 1, T * sizeof *w);
    }
    return CS_OK;
}

// ---- forward -----------------------------------------------------------------------------

#define P(id) (m->params + m->tensors[id].offset)
#define G(id) (m->grads + m->tensors[id].offset)

static void block_forward(cs_model *m, size_t l, const float *residual)
{
    const cs_ops *o = m->ops;
    acts *a = &m->a;
    size_t C = (size_t)m->shape.d_model, NH = (size_t)m->shape.n_head;
    size_t B = m->B, T = m->T, BT = B * T, BTC = BT * C;
    float *ln1 = a->ln1 + l * BTC, *qkv = a->qkv + l * BTC * 3, *atty = a->atty + l * BTC;
    float *attproj = a->attproj + l * BTC, *res2 = a->res2 + l * BTC, *ln2 = a->ln2 + l * BTC;
    float *fch = a->fch + l * BTC * 4, *fchg = a->fch_gelu + l * BTC * 4;

    o->layernorm_forward(ln1, a->ln1_mean + l * BT, a->ln1_rstd + l * BT, residual,
                         P(CS_MODEL_LN1W) + l * C, P(CS_MODEL_LN1B) + l * C, BT, C);
    o->matmul_forward(qkv, ln1, P(CS_MODEL_QKVW) + l * 3 * C * C, P(CS_MODEL_QKVB) + l * 3 * C, BT,
                      C, 3 * C);
    o->rope_forward(qkv, qkv, m->rope_cos, m->rope_sin, B, T, C, NH);
    o->attention_forward(atty, a->att + l * B * NH * T * T, qkv, B, T, C, NH);
    o->matmul_forward(attproj, atty, P(CS_MODEL_ATTPROJW) + l * C * C, P(CS_MODEL_ATTPROJB) + l * C,
                      BT, C, C);
    o->residual_forward(res2, residual, attproj, BTC);
    o->layernorm_forward(ln2, a->ln2_mean + l * BT, a->ln2_rstd + l * BT, res2,
                         P(CS_MODEL_LN2W) + l * C, P(CS_MODEL_LN2B) + l * C, BT, C);
    o->matmul_forward(fch, ln2, P(CS_MODEL_FCW) + l * 4 * C * C, P(CS_MODEL_FCB) + l * 4 * C, BT, C,
                      4 * C);
    o->gelu_forward(fchg, fch, BTC * 4);
    o->matmul_forward(a->fcproj + l * BTC, fchg, P(CS_MODEL_FCPROJW) + l * 4 * C * C,
                      P(CS_MODEL_FCPROJB) + l * C, BT, 4 * C, C);
    o->residual_forward(a->res3 + l * BTC, res2, a->fcproj + l * BTC, BTC);
}

int cs_model_forward(cs_model *m, const uint32_t *windows, size_t B, size_t T, double *mean_loss)
{
    const cs_ops *o = m->ops;
    size_t C = (size_t)m->shape.d_model, V = (size_t)m->shape.vocab;
    size_t L = (size_t)m->shape.n_layer;
    int st;

    if (B == 0 || T == 0)
        return cs_fail(CS_EINVAL, "model forward: B = %zu, T = %zu: both must be positive", B, T);
    st = reserve(m, B, T);
    if (st == CS_OK)
        st = load_tokens(m, windows, B, T);
    if (st) {
        m->backward_ok = false;
        return st;
    }
    o->encoder_forward(m->a.encoded, m->inputs, P(CS_MODEL_WTE), B * T, C, V);
    for (size_t l = 0; l < L; l++)
        block_forward(m, l, l == 0 ? m->a.encoded : m->a.res3 + (l - 1) * B * T * C);
    o->layernorm_forward(m->a.lnf, m->a.lnf_mean, m->a.lnf_rstd, m->a.res3 + (L - 1) * B * T * C,
                         P(CS_MODEL_LNFW), P(CS_MODEL_LNFB), B * T, C);
    o->matmul_forward(m->a.logits, m->a.lnf, P(CS_MODEL_WTE), NULL, B * T, C, V);
    o->xent_forward(m->a.losses, m->a.lse, m->a.logits, m->targets, B * T, V);
    m->backward_ok = true;
    if (mean_loss) {
        double sum = 0;

        for (size_t i = 0; i < B * T; i++)
            sum += m->a.losses[i];
        *mean_loss = sum / (double)(B * T);
    }
    return CS_OK;
}

const float *cs_model_losses(const cs_model *m)
{
    return m->a.losses;
}

// ---- backward ----------------------------------------------------------------------------

/* On entry a->dresid holds d(res3[l]); on return d(block input). The residual stream's
 * gradient is carried in place: d(fcproj) = d(res3) and the LayerNorm backward passes add
 * their parts into the same buffer, so no residual op is needed. */
static void block_backward(cs_model *m, size_t l, const float *residual)
{
    const cs_ops *o = m->ops;
    acts *a = &m->a;
    size_t C = (size_t)m->shape.d_model, NH = (size_t)m->shape.n_head;
    size_t B = m->B, T = m->T, BT = B * T, BTC = BT * C;
    const float *qkv = a->qkv + l * BTC * 3;

    o->zero(a->dfc_a, BTC * 4);
    o->matmul_backward(a->dfc_a, G(CS_MODEL_FCPROJW) + l * 4 * C * C, G(CS_MODEL_FCPROJB) + l * C,
                       a->dresid, a->fch_gelu + l * BTC * 4, P(CS_MODEL_FCPROJW) + l * 4 * C * C,
                       BT, 4 * C, C);
    o->zero(a->dfc_b, BTC * 4);
    o->gelu_backward(a->dfc_b, a->fch + l * BTC * 4, a->dfc_a, BTC * 4);
    o->zero(a->dbuf, BTC);
    o->matmul_backward(a->dbuf, G(CS_MODEL_FCW) + l * 4 * C * C, G(CS_MODEL_FCB) + l * 4 * C,
                       a->dfc_b, a->ln2 + l * BTC, P(CS_MODEL_FCW) + l * 4 * C * C, BT, C, 4 * C);
    o->layernorm_backward(a->dresid, G(CS_MODEL_LN2W) + l * C, G(CS_MODEL_LN2B) + l * C, a->dbuf,
                          a->res2 + l * BTC, P(CS_MODEL_LN2W) + l * C, a->ln2_mean + l * BT,
                          a->ln2_rstd + l * BT, BT, C);
    o->zero(a->dbuf, BTC);
    o->matmul_backward(a->dbuf, G(CS_MODEL_ATTPROJW) + l * C * C, G(CS_MODEL_ATTPROJB) + l * C,
                       a->dresid, a->atty + l * BTC, P(CS_MODEL_ATTPROJW) + l * C * C, BT, C, C);
    o->zero(a->dqkv, BTC * 3);
    o->attention_backward(a->dqkv, a->scratch, a->dbuf, qkv, a->att + l * B * NH * T * T, B, T, C,
                          NH);
    o->rope_backward(a->dqkv, a->dqkv, m->rope_cos, m->rope_sin, B, T, C, NH);
    o->zero(a->dbuf, BTC);
    o->matmul_backward(a->dbuf, G(CS_MODEL_QKVW) + l * 3 * C * C, G(CS_MODEL_QKVB) + l * 3 * C,
                       a->dqkv, a->ln1 + l * BTC, P(CS_MODEL_QKVW) + l * 3 * C * C, BT, C, 3 * C);
    o->layernorm_backward(a->dresid, G(CS_MODEL_LN1W) + l * C, G(CS_MODEL_LN1B) + l * C, a->dbuf,
                          residual, P(CS_MODEL_LN1W) + l * C, a->ln1_mean + l * BT,
                          a->ln1_rstd + l * BT, BT, C);
}

void cs_model_backward(cs_model *m, float scale)
{
    const cs_ops *o = m->ops;
    acts *a = &m->a;
    size_t C = (size_t)m->shape.d_model, V = (size_t)m->shape.vocab;
    size_t L = (size_t)m->shape.n_layer, BT = m->B * m->T, BTC = BT * C;

    CS_ASSERT(m->backward_ok);
    m->backward_ok = false;
    o->xent_backward(a->logits, a->logits, a->lse, m->targets, NULL, scale, BT, V);
    o->zero(a->dbuf, BTC);
    o->matmul_backward(a->dbuf, G(CS_MODEL_WTE), NULL, a->logits, a->lnf, P(CS_MODEL_WTE), BT, C,
                       V);
    o->zero(a->dresid, BTC);
    o->layernorm_backward(a->dresid, G(CS_MODEL_LNFW), G(CS_MODEL_LNFB), a->dbuf,
                          a->res3 + (L - 1) * BTC, P(CS_MODEL_LNFW), a->lnf_mean, a->lnf_rstd, BT,
                          C);
    for (size_t l = L; l-- > 0;)
        block_backward(m, l, l == 0 ? a->encoded : a->res3 + (l - 1) * BTC);
    o->encoder_backward(G(CS_MODEL_WTE), a->dresid, m->inputs, BT, C, V);
}
