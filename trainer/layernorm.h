/* trainer/layernorm.h: LayerNorm over the channels of each position, forward and backward.
 *
 *   mean[r] = (1/C) Σ_c x[r,c]            var[r] = (1/C) Σ_c (x[r,c] − mean[r])²  (biased)
 *   rstd[r] = 1 / sqrt(var[r] + CS_LAYERNORM_EPS)
 *   out[r,c] = (x[r,c] − mean[r]) · rstd[r] · weight[c] + bias[c]
 *
 * The model uses it before attention and MLP in every block (pre-LN) and once after the last
 * block. Mean and variance are accumulated in double.
 *
 * CPU twins in trainer/layernorm.c; CUDA twins (same parameter lists, device pointers) belong in
 * trainer/cuda/layernorm.cu. Formulas: docs/trainer_ops.md. Tested in tests/unit/test_layernorm.c.
 */
#ifndef CS_TRAINER_LAYERNORM_H
#define CS_TRAINER_LAYERNORM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Added to the variance before the square root (GPT-2's value). */
#define CS_LAYERNORM_EPS 1e-5

/* Normalises each of the BT rows of inp (B·T positions) over its C channels.
 * out: (BT, C); mean, rstd: (BT), saved for the backward pass; inp: (BT, C); weight, bias: (C).
 * out must not alias inp. */
void cs_layernorm_forward_cpu(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, size_t BT, size_t C);
void cs_layernorm_forward_cuda(float *out, float *mean, float *rstd, const float *inp,
                               const float *weight, const float *bias, size_t BT, size_t C);

/* Backward pass; accumulates (+=) into dinp, dweight and dbias, which the caller zeroes (dinp is
 * usually the residual stream's gradient, which already holds the skip connection's part).
 * With dnorm = dout · weight and xhat = (inp − mean) · rstd:
 *   dinp[r,c]  += rstd[r] · (dnorm[r,c] − mean_c(dnorm[r,:]) − xhat[r,c] · mean_c(dnorm · xhat))
 *   dweight[c] += Σ_r dout[r,c] · xhat[r,c]          dbias[c] += Σ_r dout[r,c]
 * The sums over rows run in row order in double, independent of the number of threads.
 * dinp, dout, inp: (BT, C); dweight, dbias, weight: (C); mean, rstd: (BT) from the forward pass.
 * dinp must not alias dout. Any of dinp, dweight, dbias may be NULL: that gradient is skipped. */
void cs_layernorm_backward_cpu(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean,
                               const float *rstd, size_t BT, size_t C);
void cs_layernorm_backward_cuda(float *dinp, float *dweight, float *dbias, const float *dout,
                                const float *inp, const float *weight, const float *mean,
                                const float *rstd, size_t BT, size_t C);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_LAYERNORM_H */
