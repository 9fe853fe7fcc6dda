/* trainer/matmul.h: the linear layer y = x·Wᵀ + b, forward and backward, through sgemm.
 *
 * Weights are stored as (OC, C), one row per output channel, as PyTorch and llm.c store them.
 * The model uses it for the fused QKV projection (C → 3C), the attention output projection
 * (C → C), the MLP (C → 4C → C) and, without bias, for the logits lnf · wteᵀ (C → V) with the
 * tied embedding table as the weight.
 *
 * The CPU twin calls OpenBLAS's cblas_sgemm, one block of the product per OpenMP thread, with
 * OpenBLAS kept to one thread (it sets openblas_set_num_threads(1) for the process); sizes must
 * fit in an int, the BLAS index type, and C, OC must be positive (CS_ASSERT). CPU twins in
 * trainer/matmul.c; CUDA twins (same parameter lists, device pointers) belong in
 * trainer/cuda/matmul.cu. Formulas: docs/trainer_ops.md. Tested in tests/unit/test_matmul.c.
 */
#ifndef CS_TRAINER_MATMUL_H
#define CS_TRAINER_MATMUL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[r, o] = Σ_c inp[r, c] · weight[o, c] + bias[o], r < BT (B·T positions), o < OC.
 * out: (BT, OC); inp: (BT, C); weight: (OC, C); bias: (OC), or NULL for no bias.
 * out must not alias inp or weight. */
void cs_matmul_forward_cpu(float *out, const float *inp, const float *weight, const float *bias,
                           size_t BT, size_t C, size_t OC);
void cs_matmul_forward_cuda(float *out, const float *inp, const float *weight, const float *bias,
                            size_t BT, size_t C, size_t OC);

/* Backward pass; accumulates (+=) into each gradient, which the caller zeroes:
 *   dinp += dout · weight   (BT, C)        dweight += doutᵀ · inp   (OC, C)
 *   dbias[o] += Σ_r dout[r, o]   (OC), summed in row order in double.
 * Any of dinp, dweight, dbias may be NULL: that gradient is skipped (dbias is NULL for the
 * bias-free logits layer). dout: (BT, OC); inp: (BT, C); weight: (OC, C). No output may alias an
 * input. */
void cs_matmul_backward_cpu(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, size_t BT, size_t C, size_t OC);
void cs_matmul_backward_cuda(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, size_t BT, size_t C, size_t OC);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_MATMUL_H */
