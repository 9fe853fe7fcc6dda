/* trainer/encoder.h: token embedding lookup, forward and backward.
 *
 * The model has no learned position table (positions enter through rotary embeddings, see
 * trainer/rope.h), so the encoder is the token lookup alone: out[r, :] = wte[tokens[r], :]. The
 * table wte (V, C) is tied with the output projection (the logits are lnf · wteᵀ, a matmul
 * without bias), so its gradient gets contributions from both ends of the model.
 *
 * CPU twins in trainer/encoder.c; CUDA twins (same parameter lists, device pointers) belong in
 * trainer/cuda/encoder.cu. Formulas and conventions: docs/trainer_ops.md. Tested in
 * tests/unit/test_encoder.c.
 */
#ifndef CS_TRAINER_ENCODER_H
#define CS_TRAINER_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[r, c] = wte[tokens[r], c] for r < BT (B·T positions), c < C.
 * out: (BT, C); tokens: (BT), each < V; wte: (V, C). out must not alias wte. Every token must be
 * below V: the data loader checks this for user data; the CPU twin asserts it (CS_ASSERT). */
void cs_encoder_forward_cpu(float *out, const uint32_t *tokens, const float *wte, size_t BT,
                            size_t C, size_t V);
void cs_encoder_forward_cuda(float *out, const uint32_t *tokens, const float *wte, size_t BT,
                             size_t C, size_t V);

/* dwte[tokens[r], c] += dout[r, c], accumulating (the caller zeroes dwte once per step; the tied
 * output projection adds its own part with cs_matmul_backward_cpu). Positions are summed in
 * order r = 0, 1, ..., so the result does not depend on the number of threads.
 * dwte: (V, C); dout: (BT, C); tokens: (BT), each < V. */
void cs_encoder_backward_cpu(float *dwte, const float *dout, const uint32_t *tokens, size_t BT,
                             size_t C, size_t V);
void cs_encoder_backward_cuda(float *dwte, const float *dout, const uint32_t *tokens, size_t BT,
                              size_t C, size_t V);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_ENCODER_H */
