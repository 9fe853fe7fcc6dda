/* trainer/model.h: the GPT-2-style language model of ctxscale (core/flops.h counts it): token
 * embedding tied to the output logits, n_layer pre-LayerNorm blocks (rotary attention, GELU MLP
 * of width 4C, biases on every linear layer), a final LayerNorm. Forward pass to per-position
 * losses, backward pass into one gradient buffer, GPT-2 initialisation.
 *
 * Memory: every parameter lives in one contiguous float buffer, tensor after tensor in the order
 * of enum cs_model_tensor_id (layer-stacked tensors hold all layers), with a gradient buffer of
 * the same layout, so the optimizer, the gradient norm and checkpoints see two flat arrays. The
 * activations are one more buffer laid out for the (B, T) of the last call; a call with a larger
 * B·T or T grows it (e.g. evaluation past the training context), a smaller one reuses it.
 *
 * Every kernel is reached through the cs_ops table given at allocation (trainer/ops.h). With the
 * CPU table all buffers are host memory. Tested in tests/unit/test_model.c (parameter count,
 * whole-model gradient check, loss at init, overfitting one batch).
 */
#ifndef CS_TRAINER_MODEL_H
#define CS_TRAINER_MODEL_H

#include "core/flops.h"
#include "trainer/ops.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The parameter tensors, in buffer order. L = n_layer, C = d_model, V = vocab. */
typedef enum cs_model_tensor_id {
    CS_MODEL_WTE = 0,  /* (V, C) token embedding, also the logits weight */
    CS_MODEL_LN1W,     /* (L, C) */
    CS_MODEL_LN1B,     /* (L, C) */
    CS_MODEL_QKVW,     /* (L, 3C, C) */
    CS_MODEL_QKVB,     /* (L, 3C) */
    CS_MODEL_ATTPROJW, /* (L, C, C) residual projection */
    CS_MODEL_ATTPROJB, /* (L, C) */
    CS_MODEL_LN2W,     /* (L, C) */
    CS_MODEL_LN2B,     /* (L, C) */
    CS_MODEL_FCW,      /* (L, 4C, C) */
    CS_MODEL_FCB,      /* (L, 4C) */
    CS_MODEL_FCPROJW,  /* (L, C, 4C) residual projection */
    CS_MODEL_FCPROJB,  /* (L, C) */
    CS_MODEL_LNFW,     /* (C) */
    CS_MODEL_LNFB,     /* (C) */
    CS_MODEL_NTENSORS
} cs_model_tensor_id;

/* Where one tensor sits in the parameter (and gradient) buffer. */
typedef struct cs_model_tensor {
    const char *name; /* e.g. "wte", "qkvw" */
    size_t offset;    /* floats from the start of the buffer */
    size_t size;      /* floats */
    bool is_matrix;   /* a weight matrix (embedding included): weight decay applies */
} cs_model_tensor;

typedef struct cs_model cs_model;

/* A model of shape s (s->context is the training T; evaluation may use longer T) with rotary
 * base frequency rope_theta, running on `ops` (cs_cpu_ops()). Parameters are zero until
 * cs_model_init. NULL with the message recorded: CS_EINPUT for a shape cs_flops_check_shape
 * refuses, an odd head size ("d_model / n_head = 9: the head size must be even for rotary
 * embeddings") or rope_theta not a finite number > 0; CS_EINVAL for ops NULL; CS_ENOMEM. */
cs_model *cs_model_alloc(const cs_model_shape *s, double rope_theta, const cs_ops *ops);

/* Frees the model and its buffers. Accepts NULL. */
void cs_model_free(cs_model *m);

/* The shape given to cs_model_alloc. */
const cs_model_shape *cs_model_get_shape(const cs_model *m);

/* GPT-2 initialisation from cs_rng stream 0 of `seed`: weight matrices and the embedding
 * normal(0, 0.02), the two residual projections per block (attprojw, fcprojw) normal(0, 0.02 /
 * sqrt(2 n_layer)), biases 0, LayerNorm gains 1 and biases 0. Tensors are filled in buffer order,
 * so the result depends only on the seed and the shape. Zeroes the gradients. */
void cs_model_init(cs_model *m, uint64_t seed);

/* Number of parameters (floats in each of the two buffers); equals the total of
 * cs_flops_count_params for the model's shape. */
size_t cs_model_n_params(const cs_model *m);

/* The parameter and gradient buffers, (cs_model_n_params) floats each, owned by the model. */
float *cs_model_params(cs_model *m);
float *cs_model_grads(cs_model *m);

/* Tensor i < CS_MODEL_NTENSORS of the layout (NULL otherwise). */
const cs_model_tensor *cs_model_tensor_at(const cs_model *m, size_t i);

/* Forward pass on B windows of T + 1 tokens (windows: (B, T + 1), as cs_sampler_batch gives
 * them): inputs are tokens 0..T-1 of each window, targets tokens 1..T. Keeps the activations for
 * cs_model_backward. *mean_loss (may be NULL) gets the mean per-position loss in nats, summed in
 * double. T may exceed the training context (rotary tables grow). CS_EINPUT when a token is not
 * below the vocabulary (naming window, position and id); CS_EINVAL for B or T zero; CS_ENOMEM. */
int cs_model_forward(cs_model *m, const uint32_t *windows, size_t B, size_t T, double *mean_loss);

/* The per-position losses of the last forward pass: (B, T) nats, owned by the model, valid until
 * the next forward pass. */
const float *cs_model_losses(const cs_model *m);

/* Sets every gradient to 0. */
void cs_model_zero_grad(cs_model *m);

/* Backward pass of the last forward pass for the objective scale · Σ_positions loss (scale =
 * 1/(B·T) for the mean loss; 1/(B·T·k) when k micro-batches are accumulated). Adds into the
 * gradient buffer (call cs_model_zero_grad once per optimizer step). Overwrites the logits of
 * the forward pass, so call it at most once per forward pass (CS_ASSERT). */
void cs_model_backward(cs_model *m, float scale);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_MODEL_H */
