/* trainer/attention.h: causal multi-head self-attention over the fused qkv activation, forward
 * and backward.
 *
 * qkv: (B, T, 3C), each row [q (C) | k (C) | v (C)]; head h (h < NH) uses channels
 * h·HS..(h+1)·HS of each part, HS = C / NH. Rotary embeddings are applied to q and k before this
 * op, by trainer/rope.h (in place on qkv). For each sequence b and head h, with s ≤ t:
 *   att[b,h,t,s] = softmax_s( q_t · k_s / √HS )      (probabilities; 0 for s > t)
 *   out[b,t,h·HS + j] = Σ_{s≤t} att[b,h,t,s] · v_s[j]
 *
 * The CPU twin materialises the probabilities (B, NH, T, T) for the backward pass (the memory
 * docs/flops.md counts: h·T floats per token per block, here stored once rather than before and
 * after softmax). It runs the products QKᵀ and PV per (b, h) through sgemm in blocks of query
 * rows, each block multiplying only the keys 0..(its last row), so the causal half above the
 * diagonal is (almost) never computed; the (b, h) pairs are split among OpenMP threads, each
 * running single-threaded sgemm (OpenBLAS is kept to one thread for the process).
 *
 * CPU twins in trainer/attention.c; CUDA twins (same parameter lists, device pointers) belong in
 * trainer/cuda/attention.cu. Formulas: docs/trainer_ops.md. Tested in
 * tests/unit/test_attention.c.
 */
#ifndef CS_TRAINER_ATTENTION_H
#define CS_TRAINER_ATTENTION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Forward pass. out: (B, T, C); att: (B, NH, T, T), filled completely (zeros above the
 * diagonal) and kept for the backward pass; qkv: (B, T, 3C) with rotary already applied.
 * NH must divide C; T, C and 3C must fit in an int (CS_ASSERT). No output may alias qkv. */
void cs_attention_forward_cpu(float *out, float *att, const float *qkv, size_t B, size_t T,
                              size_t C, size_t NH);
void cs_attention_forward_cuda(float *out, float *att, const float *qkv, size_t B, size_t T,
                               size_t C, size_t NH);

/* Backward pass; accumulates (+=) into dqkv (B, T, 3C), which the caller zeroes. With
 * dP = dout_h · v_hᵀ and dS[t,s] = att[t,s] (dP[t,s] − Σ_s' att[t,s'] dP[t,s']) / √HS:
 *   dq_h += dS · k_h      dk_h += dSᵀ · q_h      dv_h += attᵀ · dout_h
 * scratch: (T, T) floats of workspace owned by the caller, overwritten. dout: (B, T, C);
 * qkv: (B, T, 3C) as given to the forward pass; att: (B, NH, T, T) from the forward pass.
 * dqkv must not alias any input or scratch. */
void cs_attention_backward_cpu(float *dqkv, float *scratch, const float *dout, const float *qkv,
                               const float *att, size_t B, size_t T, size_t C, size_t NH);
void cs_attention_backward_cuda(float *dqkv, float *scratch, const float *dout, const float *qkv,
                                const float *att, size_t B, size_t T, size_t C, size_t NH);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_ATTENTION_H */
