/* trainer/xent.h: fused softmax and cross-entropy over the logits, forward and backward.
 *
 * For each of the BT = B·T positions r, with logits z = logits[r, :] (V) and target y:
 *   lse[r]    = log Σ_v exp(z_v)          losses[r] = lse[r] − z_y   (nats)
 *   dlogits[r, v] = w[r] · (exp(z_v − lse[r]) − [v = y])
 * where w[r] is the derivative of the training objective with respect to losses[r], e.g.
 * 1/(B·T) for the mean loss. The per-position losses feed the contextwise loss (DESIGN.md); the
 * probabilities are never stored: the backward pass recomputes them from lse.
 *
 * CPU twins in trainer/xent.c; CUDA twins (same parameter lists, device pointers) belong in
 * trainer/cuda/xent.cu. Formulas: docs/trainer_ops.md. Tested in tests/unit/test_xent.c.
 */
#ifndef CS_TRAINER_XENT_H
#define CS_TRAINER_XENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Forward pass. losses: (BT), nats per position; lse: (BT), log-sum-exp of each row, kept for the
 * backward pass; logits: (BT, V); targets: (BT), each < V (the data loader checks user data; the
 * CPU twin asserts). Maximum and sum of exponentials are taken per row, the sum in double. */
void cs_xent_forward_cpu(float *losses, float *lse, const float *logits, const uint32_t *targets,
                         size_t BT, size_t V);
void cs_xent_forward_cuda(float *losses, float *lse, const float *logits, const uint32_t *targets,
                          size_t BT, size_t V);

/* Backward pass: writes (does not accumulate) dlogits[r, v] = w[r] · (softmax(z)_v − [v = y]),
 * with w[r] = scale · dlosses[r], or w[r] = scale when dlosses is NULL (the mean loss:
 * scale = 1/(B·T)). dlogits may be logits (in place: the logits are not needed afterwards, and
 * at B·T·V floats this buffer is the largest activation), but must not overlap it otherwise.
 * dlogits, logits: (BT, V); lse: (BT) from the forward pass; targets: (BT), each < V;
 * dlosses: (BT) or NULL. */
void cs_xent_backward_cpu(float *dlogits, const float *logits, const float *lse,
                          const uint32_t *targets, const float *dlosses, float scale, size_t BT,
                          size_t V);
void cs_xent_backward_cuda(float *dlogits, const float *logits, const float *lse,
                           const uint32_t *targets, const float *dlosses, float scale, size_t BT,
                           size_t V);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_XENT_H */
