/* core/flops.c: parameter counts, FLOPs conventions, Tao et al.'s vocabulary-aware FLOPs and the
 * fp32 training memory estimate (core/flops.h). The formulas are derived in docs/flops.md.
 * Tested in tests/unit/test_flops.c.
 */
#include "core/flops.h"

#include "core/error.h"

#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <strings.h>

/* Every parameter count is exact in a double below this (2^53). */
#define EXACT_DOUBLE_MAX 9007199254740992.0

/* Tao et al. 2024 (arXiv:2407.13623), tokens per character fitted on their corpus. */
#define TAO_A         0.00639222
#define TAO_B         (-0.15811069)
#define TAO_C         1.20470122
#define TAO_VOCAB_CAP 200000.0

static int check_field(const char *name, int64_t v)
{
    if (v < 1 || v > CS_FLOPS_FIELD_MAX)
        return cs_fail(CS_EINPUT,
                       "model shape: %s: expected a positive integer <= %" PRId64 ", got %" PRId64,
                       name, CS_FLOPS_FIELD_MAX, v);
    return CS_OK;
}

int cs_flops_check_shape(const cs_model_shape *s)
{
    double d;
    double total;
    int st;

    if ((st = check_field("n_layer", s->n_layer)) || (st = check_field("d_model", s->d_model)) ||
        (st = check_field("n_head", s->n_head)) || (st = check_field("vocab", s->vocab)) ||
        (st = check_field("context", s->context)))
        return st;
    if (s->d_model % s->n_head != 0)
        return cs_fail(CS_EINPUT,
                       "model shape: n_head = %" PRId64 " does not divide d_model = %" PRId64
                       " (the head size must be a whole number)",
                       s->n_head, s->d_model);
    /* In double, which cannot overflow here; the int64 arithmetic is done only once it fits. */
    d = (double)s->d_model;
    total = (double)s->n_layer * (12.0 * d * d + 13.0 * d) + 2.0 * d + (double)s->vocab * d;
    if (total >= EXACT_DOUBLE_MAX)
        return cs_fail(CS_EINPUT,
                       "model shape: n_layer = %" PRId64 ", d_model = %" PRId64 ", vocab = %" PRId64
                       " give %.3g parameters; expected fewer than 2^53",
                       s->n_layer, s->d_model, s->vocab, total);
    return CS_OK;
}

int cs_flops_count_params(const cs_model_shape *s, cs_param_count *out)
{
    int64_t L = s->n_layer;
    int64_t d = s->d_model;
    cs_param_count p;
    int st = cs_flops_check_shape(s);

    if (st)
        return st;
    p.attn_qkv = L * (3 * d * d + 3 * d);
    p.attn_proj = L * (d * d + d);
    p.mlp = L * (d * 4 * d + 4 * d + 4 * d * d + d);
    p.layernorm = L * 2 * (2 * d);
    p.final_ln = 2 * d;
    p.embedding = s->vocab * d;
    p.non_embedding = p.attn_qkv + p.attn_proj + p.mlp + p.layernorm + p.final_ln;
    p.total = p.non_embedding + p.embedding;
    *out = p;
    return CS_OK;
}

/* Hoffmann et al. 2022 Appendix F, forward FLOPs of one sequence of T tokens, term by term.
 * key_size * num_heads = d_model here, ffw_size = 4 d_model. */
static double chinchilla_forward_per_sequence(const cs_model_shape *s)
{
    double T = (double)s->context;
    double V = (double)s->vocab;
    double d = (double)s->d_model;
    double h = (double)s->n_head;
    double kh = (double)(s->d_model / s->n_head) * h; /* key_size * num_heads */
    double ffw = 4.0 * d;
    double embed = 2.0 * T * V * d;
    double attn = 2.0 * 3.0 * T * d * kh /* key, query and value projections */
                  + 2.0 * T * T * kh     /* key @ query logits */
                  + 3.0 * h * T * T      /* softmax */
                  + 2.0 * T * T * kh     /* softmax @ value reductions */
                  + 2.0 * T * kh * d;    /* final linear */
    double dense = 2.0 * T * (d * ffw + d * ffw);
    double logits = 2.0 * T * d * V;

    return embed + (double)s->n_layer * (attn + dense) + logits;
}

/* Forward FLOPs per token under convention c; -1 for a value outside the enum. */
static double forward_per_token(const cs_model_shape *s, cs_flops_convention c, double n)
{
    double attn = 2.0 * (double)s->n_layer * (double)s->context * (double)s->d_model;
    double lmhead = 2.0 * (double)s->d_model * (double)s->vocab;

    switch (c) {
    case CS_FLOPS_6N: return 2.0 * n;
    case CS_FLOPS_KAPLAN: return 2.0 * n + attn;
    case CS_FLOPS_CHINCHILLA: return chinchilla_forward_per_sequence(s) / (double)s->context;
    case CS_FLOPS_LMHEAD: return 2.0 * n + attn + lmhead;
    }
    return -1.0;
}

int cs_flops_forward_per_token(const cs_model_shape *s, cs_flops_convention c, double *out)
{
    cs_param_count p;
    double f;
    int st = cs_flops_count_params(s, &p);

    if (st)
        return st;
    f = forward_per_token(s, c, (double)p.non_embedding);
    if (f < 0.0)
        return cs_fail(CS_EINVAL, "FLOPs convention %d is not a cs_flops_convention", (int)c);
    *out = f;
    return CS_OK;
}

int cs_flops_per_token(const cs_model_shape *s, cs_flops_convention c, double *out)
{
    double f;
    int st = cs_flops_forward_per_token(s, c, &f);

    if (st)
        return st;
    *out = 3.0 * f; /* backward = 2x forward (Kaplan et al. 2020 section 2.1) */
    return CS_OK;
}

int cs_flops_total(const cs_model_shape *s, cs_flops_convention c, double tokens, double *out)
{
    double f;
    int st;

    if (!isfinite(tokens) || tokens < 0.0)
        return cs_fail(CS_EINPUT, "tokens: expected a finite number >= 0, got %g", tokens);
    st = cs_flops_per_token(s, c, &f);
    if (st)
        return st;
    *out = f * tokens;
    return CS_OK;
}

// ---- names and formulas

static const struct {
    cs_flops_convention c;
    const char *name;
    const char *formula;
} conventions[] = {
    {CS_FLOPS_KAPLAN, "kaplan", "6*N + 6*n_layer*T*d_model"},
    {CS_FLOPS_6N, "6n", "6*N"},
    {CS_FLOPS_CHINCHILLA, "chinchilla",
     "3*(4*V*d_model + n_layer*(24*d_model^2 + 4*T*d_model + 3*n_head*T))"},
    {CS_FLOPS_LMHEAD, "lmhead", "6*N + 6*n_layer*T*d_model + 6*d_model*V"},
};

#define N_CONVENTIONS (sizeof conventions / sizeof conventions[0])

const char *cs_flops_formula(cs_flops_convention c)
{
    for (size_t i = 0; i < N_CONVENTIONS; i++)
        if (conventions[i].c == c)
            return conventions[i].formula;
    return NULL;
}

const char *cs_flops_convention_name(cs_flops_convention c)
{
    for (size_t i = 0; i < N_CONVENTIONS; i++)
        if (conventions[i].c == c)
            return conventions[i].name;
    return NULL;
}

int cs_flops_convention_parse(const char *name, cs_flops_convention *out, const char *what)
{
    for (size_t i = 0; i < N_CONVENTIONS; i++) {
        if (strcasecmp(name, conventions[i].name) == 0) {
            *out = conventions[i].c;
            return CS_OK;
        }
    }
    return cs_fail(CS_EINPUT, "%s: expected one of kaplan, 6n, chinchilla, lmhead, got \"%s\"",
                   what ? what : "FLOPs convention", name);
}

// ---- Tao et al. 2024

double cs_flops_tao_tokens_per_char(double vocab)
{
    double lv;

    if (!isfinite(vocab) || vocab < 1.0)
        return NAN;
    lv = log(vocab < TAO_VOCAB_CAP ? vocab : TAO_VOCAB_CAP);
    return TAO_A * lv * lv + TAO_B * lv + TAO_C;
}

int cs_flops_tao(double n_nonvocab, double vocab, double d_model, double chars, double *out)
{
    if (!isfinite(n_nonvocab) || n_nonvocab < 0.0)
        return cs_fail(CS_EINPUT, "n_nonvocab: expected a finite number >= 0, got %g", n_nonvocab);
    if (!isfinite(vocab) || vocab < 1.0)
        return cs_fail(CS_EINPUT, "vocab: expected a finite number >= 1, got %g", vocab);
    if (!isfinite(d_model) || d_model < 1.0)
        return cs_fail(CS_EINPUT, "d_model: expected a finite number >= 1, got %g", d_model);
    if (!isfinite(chars) || chars < 0.0)
        return cs_fail(CS_EINPUT, "chars: expected a finite number >= 0, got %g", chars);
    *out = 6.0 * (n_nonvocab + vocab * d_model) * chars * cs_flops_tao_tokens_per_char(vocab);
    return CS_OK;
}

// ---- memory

/* fp32 values kept for backward per token: per block 18 d + 4 + 2 n_head T (docs/flops.md);
 * outside the blocks 2 d + 2 + 2 V + 1. */
static double act_floats_per_token(const cs_model_shape *s)
{
    double d = (double)s->d_model;
    double V = (double)s->vocab;
    double block = 18.0 * d + 4.0 + 2.0 * (double)s->n_head * (double)s->context;

    return (double)s->n_layer * block + 2.0 * d + 2.0 + 2.0 * V + 1.0;
}

int cs_flops_memory_estimate(const cs_model_shape *s, int64_t batch_tokens, cs_flops_memory *out)
{
    cs_param_count p;
    cs_flops_memory m;
    int st;

    if (batch_tokens < 1)
        return cs_fail(CS_EINPUT, "batch_tokens: expected a positive integer, got %" PRId64,
                       batch_tokens);
    st = cs_flops_count_params(s, &p);
    if (st)
        return st;
    m.params_bytes = 4.0 * (double)p.total;
    m.grads_bytes = 4.0 * (double)p.total;
    m.adam_bytes = 8.0 * (double)p.total;
    m.act_bytes_per_token = 4.0 * act_floats_per_token(s);
    m.act_bytes = m.act_bytes_per_token * (double)batch_tokens;
    m.act_grad_bytes = m.act_bytes;
    m.total_bytes = m.params_bytes + m.grads_bytes + m.adam_bytes + m.act_bytes + m.act_grad_bytes;
    *out = m;
    return CS_OK;
}
