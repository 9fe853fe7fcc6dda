/* trainer/adamw.h: the AdamW optimizer step (Loshchilov and Hutter 2019), the global gradient
 * norm and the clipping factor.
 *
 * One step t (1-based) on each parameter p with gradient g, after scaling g by grad_scale:
 *   m ← β1 m + (1 − β1) g          v ← β2 v + (1 − β2) g²
 *   m̂ = m / (1 − β1^t)            v̂ = v / (1 − β2^t)
 *   p ← p − lr · (m̂ / (√v̂ + ε) + λ p)
 * The weight decay λ is decoupled: it acts on p directly and never enters m or v.
 *
 * Parameter groups (e.g. no decay on biases and LayerNorms, μP's per-layer learning-rate scales)
 * are contiguous ranges of the parameter buffer: call cs_adamw_update_cpu once per group with
 * that group's lr (schedule value times the group's scale) and λ.
 *
 * Clipping by the global norm: cs_adamw_norm_cpu over the whole gradient buffer, then
 * cs_adamw_clip_scale gives the factor, passed as grad_scale to every group's update (so the
 * gradients are never rewritten).
 *
 * CPU twins in trainer/adamw.c; CUDA twins (same parameter lists, device pointers) belong in
 * trainer/cuda/adamw.cu. Formulas: docs/trainer_ops.md. Tested in tests/unit/test_adamw.c.
 */
#ifndef CS_TRAINER_ADAMW_H
#define CS_TRAINER_ADAMW_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One AdamW step on n parameters, in place. params, m, v, grads: (n); m and v are the first and
 * second moments (zero before step 1). lr: learning rate of this group; beta1, beta2 in [0, 1);
 * eps > 0; weight_decay: λ ≥ 0 (decoupled); grad_scale: factor applied to grads first (1 for no
 * clipping); step: t ≥ 1, the number of this step (bias correction). The bias corrections are
 * computed in double, the update per element in float. Deterministic. grads must not alias the
 * other arrays. */
void cs_adamw_update_cpu(float *params, float *m, float *v, const float *grads, size_t n, float lr,
                         float beta1, float beta2, float eps, float weight_decay, float grad_scale,
                         int step);
void cs_adamw_update_cuda(float *params, float *m, float *v, const float *grads, size_t n, float lr,
                          float beta1, float beta2, float eps, float weight_decay, float grad_scale,
                          int step);

/* norm[0] = sqrt(Σ_i grads[i]²), the L2 norm of n gradients, summed in double in a fixed order
 * (the same bits for any number of threads). norm: (1); grads: (n). */
void cs_adamw_norm_cpu(float *norm, const float *grads, size_t n);
void cs_adamw_norm_cuda(float *norm, const float *grads, size_t n);

/* The factor that clips a gradient of global norm `norm` to at most `max_norm`: max_norm / norm
 * when norm > max_norm > 0, else 1 (also 1 when max_norm ≤ 0, clipping off, and when norm is
 * NaN: the caller checks the norm is finite before stepping). Host helper, no CUDA twin. */
float cs_adamw_clip_scale(float norm, float max_norm);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_ADAMW_H */
