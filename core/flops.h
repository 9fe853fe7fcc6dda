/* core/flops.h: parameter counts, training/eval FLOPs and a memory estimate for ctxscale's model.
 *
 * The model is GPT-2 with pre-LayerNorm blocks, a GELU MLP of hidden width 4*d_model, rotary
 * position embeddings (no learned position table, no parameters), biases on every linear layer,
 * LayerNorm gains and biases, a final LayerNorm and an output projection tied to the token
 * embedding. Every run log records the parameter counts and the FLOPs formula in use; the fitter's
 * compute-optimal allocation uses the same counts. Derivations, conventions and a worked example
 * are in docs/flops.md. Tested in tests/unit/test_flops.c.
 */
#ifndef CS_CORE_FLOPS_H
#define CS_CORE_FLOPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shape of one model. All fields must be positive and n_head must divide d_model. */
typedef struct cs_model_shape {
    int64_t n_layer; /* transformer blocks */
    int64_t d_model; /* residual stream width; head size is d_model / n_head */
    int64_t n_head;  /* attention heads per block */
    int64_t vocab;   /* V, tokens in the vocabulary */
    int64_t context; /* T, tokens per training sequence */
} cs_model_shape;

/* Largest value accepted in any cs_model_shape field. */
#define CS_FLOPS_FIELD_MAX INT64_C(2147483647)

/* Parameter counts of the model, split by component (parameters, exact integers). */
typedef struct cs_param_count {
    int64_t attn_qkv;      /* n_layer * (3 d^2 + 3 d): fused Q, K, V weights and biases */
    int64_t attn_proj;     /* n_layer * (d^2 + d): attention output projection */
    int64_t mlp;           /* n_layer * (8 d^2 + 5 d): d -> 4d -> d, weights and biases */
    int64_t layernorm;     /* n_layer * 4 d: gains and biases of the two LayerNorms per block */
    int64_t final_ln;      /* 2 d: gain and bias of the final LayerNorm */
    int64_t embedding;     /* V * d: token embedding, tied with the output projection */
    int64_t non_embedding; /* total - embedding: N in DESIGN.md */
    int64_t total;         /* every parameter, the tied embedding counted once */
} cs_param_count;

/* How training FLOPs are counted (docs/flops.md derives each). Every one counts a training token
 * as forward + backward = 3x forward. N is cs_param_count.non_embedding, d is d_model, T is
 * context. */
typedef enum cs_flops_convention {
    CS_FLOPS_KAPLAN = 0, /* the default: 6 N + 6 n_layer T d (Kaplan et al. 2020 Table 1, with
                            the attention term read as QK^T and AV over the causal average of
                            about T/2 keys) */
    CS_FLOPS_6N,         /* 6 N: Kaplan et al.'s simplest estimate, attention ignored */
    CS_FLOPS_CHINCHILLA, /* Hoffmann et al. 2022 Appendix F: every matmul incl. embedding and
                            logits, softmax, full T x T attention; per sequence / T */
    CS_FLOPS_LMHEAD,     /* KAPLAN + 6 d V, the output-logits matmul (as MFU formulas count) */
} cs_flops_convention;

#define CS_FLOPS_DEFAULT CS_FLOPS_KAPLAN

/* Memory needed to train the model in fp32 with Adam (bytes, as doubles: the activation terms
 * can exceed int64 for absurd shapes; exact below 2^53). */
typedef struct cs_flops_memory {
    double params_bytes;        /* 4 * total parameters */
    double grads_bytes;         /* 4 * total parameters */
    double adam_bytes;          /* 8 * total parameters: first and second moments m, v */
    double act_bytes_per_token; /* activations kept for backward, per token (docs/flops.md) */
    double act_bytes;           /* act_bytes_per_token * batch_tokens */
    double act_grad_bytes;      /* gradient buffers of the same activations (= act_bytes) */
    double total_bytes;         /* sum of params, grads, adam, act and act_grad */
} cs_flops_memory;

/* Checks a shape: every field in 1..CS_FLOPS_FIELD_MAX, n_head divides d_model, and the total
 * parameter count below 2^53 (so that counts are exact in a double). Returns CS_OK, or CS_EINPUT
 * with a message naming the field ("model shape: n_head = 5 does not divide d_model = 64"). */
int cs_flops_check_shape(const cs_model_shape *s);

/* Counts the parameters of shape `s` into *out (formulas in the field comments). Returns CS_OK
 * or CS_EINPUT (as cs_flops_check_shape; *out is then untouched). */
int cs_flops_count_params(const cs_model_shape *s, cs_param_count *out);

/* Training FLOPs (forward + backward) per training token of shape `s` under convention `c`, into
 * *out (FLOPs/token; a multiply-add counts 2). Returns CS_OK, CS_EINPUT for a bad shape, or
 * CS_EINVAL for a convention outside the enum. */
int cs_flops_per_token(const cs_model_shape *s, cs_flops_convention c, double *out);

/* Forward-only FLOPs per token (evaluation) under convention `c`: one third of
 * cs_flops_per_token. Evaluate at another context length by passing a shape with that context.
 * Returns as cs_flops_per_token. */
int cs_flops_forward_per_token(const cs_model_shape *s, cs_flops_convention c, double *out);

/* Training FLOPs for `tokens` training tokens (D, with repetition; finite, >= 0):
 * cs_flops_per_token * tokens, into *out. Returns CS_OK, CS_EINPUT (bad shape, or tokens negative
 * or not finite: "tokens: expected a finite number >= 0"), or CS_EINVAL (bad convention). */
int cs_flops_total(const cs_model_shape *s, cs_flops_convention c, double tokens, double *out);

/* The convention's per-token training formula for the run log, a static string, e.g.
 * "6*N + 6*n_layer*T*d_model"; NULL for a value outside the enum. */
const char *cs_flops_formula(cs_flops_convention c);

/* Short name of a convention: "kaplan", "6n", "chinchilla", "lmhead"; NULL outside the enum. */
const char *cs_flops_convention_name(cs_flops_convention c);

/* Parses a convention name (as cs_flops_convention_name, ASCII case-insensitive) into *out.
 * Returns CS_OK or CS_EINPUT ("<what>: expected one of kaplan, 6n, chinchilla, lmhead, got
 * "..."). `what` names the flag or field; NULL means "FLOPs convention". */
int cs_flops_convention_parse(const char *name, cs_flops_convention *out, const char *what);

/* Tao et al. 2024's tokens per character of a BPE tokenizer with vocabulary `vocab`:
 * f(V) = 0.00639222 ln(V)^2 - 0.15811069 ln(V) + 1.20470122, V capped at 200,000 (their fit).
 * Returns NaN when `vocab` is below 1 or not finite. */
double cs_flops_tao_tokens_per_char(double vocab);

/* Tao et al. 2024's vocabulary-aware training FLOPs C = 6 (N_nv + V d) H f(V) into *out (FLOPs),
 * where N_nv = n_nonvocab (their non-vocabulary parameters), V = vocab, d = d_model and
 * H = chars (training characters). Returns CS_OK or CS_EINPUT naming the argument when
 * n_nonvocab or chars is negative or not finite, or vocab or d_model is below 1 or not finite. */
int cs_flops_tao(double n_nonvocab, double vocab, double d_model, double chars, double *out);

/* Estimates fp32 training memory for shape `s` with `batch_tokens` tokens per step (micro-batch
 * size times T) into *out; the activation layout is documented in docs/flops.md. Returns CS_OK,
 * or CS_EINPUT for a bad shape or batch_tokens < 1 ("batch_tokens: expected a positive
 * integer"). */
int cs_flops_memory_estimate(const cs_model_shape *s, int64_t batch_tokens, cs_flops_memory *out);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_FLOPS_H */
