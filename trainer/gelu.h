/* trainer/gelu.h: GELU activation (tanh approximation, as GPT-2), forward and backward.
 *
 *   gelu(x) = ½ x (1 + tanh(u)),   u = √(2/π) (x + 0.044715 x³)
 *   gelu'(x) = ½ (1 + tanh(u)) + ½ x (1 − tanh²(u)) √(2/π) (1 + 3 · 0.044715 x²)
 *
 * Elementwise in float (no accumulation). CPU twins in trainer/gelu.c; CUDA twins (same
 * parameter lists, device pointers) belong in trainer/cuda/gelu.cu. Formulas:
 * docs/trainer_ops.md. Tested in tests/unit/test_gelu.c.
 */
#ifndef CS_TRAINER_GELU_H
#define CS_TRAINER_GELU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[i] = gelu(in[i]), i < n. out, in: (n), e.g. the MLP hidden layer (B, T, 4C); they may be
 * the same array (in place) but must not overlap otherwise. */
void cs_gelu_forward_cpu(float *out, const float *in, size_t n);
void cs_gelu_forward_cuda(float *out, const float *in, size_t n);

/* dinp[i] += gelu'(in[i]) · dout[i], accumulating (the caller zeroes dinp). dinp, in, dout: (n);
 * in is the forward pass's input; dinp must not alias in or dout. */
void cs_gelu_backward_cpu(float *dinp, const float *in, const float *dout, size_t n);
void cs_gelu_backward_cuda(float *dinp, const float *in, const float *dout, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_GELU_H */
