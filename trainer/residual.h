/* trainer/residual.h: the residual connection out = inp1 + inp2, forward and backward.
 *
 * CPU twins in trainer/residual.c; CUDA twins (same parameter lists, device pointers) belong in
 * trainer/cuda/residual.cu. Formulas: docs/trainer_ops.md. Tested in tests/unit/test_residual.c.
 */
#ifndef CS_TRAINER_RESIDUAL_H
#define CS_TRAINER_RESIDUAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[i] = inp1[i] + inp2[i], i < n. out, inp1, inp2: (n), e.g. the residual stream (B, T, C).
 * out may be inp1 or inp2 (in place); no other overlap. */
void cs_residual_forward_cpu(float *out, const float *inp1, const float *inp2, size_t n);
void cs_residual_forward_cuda(float *out, const float *inp1, const float *inp2, size_t n);

/* dinp1[i] += dout[i] and dinp2[i] += dout[i], accumulating (the caller zeroes them).
 * dinp1, dinp2, dout: (n); dinp1 and dinp2 must be different arrays, neither aliasing dout. */
void cs_residual_backward_cpu(float *dinp1, float *dinp2, const float *dout, size_t n);
void cs_residual_backward_cuda(float *dinp1, float *dinp2, const float *dout, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_RESIDUAL_H */
