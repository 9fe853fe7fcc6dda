/* trainer/rope.h: rotary position embeddings (Su et al. 2021) on the queries and keys of the
 * fused qkv activation, forward and backward, and their cos/sin tables.
 *
 * Convention (interleaved pairs, as RoFormer's paper and Meta's LLaMA code): within each head of
 * size HS = C / NH, channels (2i, 2i+1), i < HS/2, form one pair, rotated at position p by the
 * angle p · ω_i with ω_i = θ^(−2i/HS):
 *   out[2i]   = x[2i] cos(p ω_i) − x[2i+1] sin(p ω_i)
 *   out[2i+1] = x[2i] sin(p ω_i) + x[2i+1] cos(p ω_i)
 * θ is the base frequency (10,000 in RoFormer; 500,000 in LLaMA 3). HS must be even. The
 * position p of a token is its index t in its sequence, 0 ≤ t < T; the tables are filled for
 * positions 0..P−1 with any P ≥ T, so evaluation at a longer context than training only needs a
 * longer table. Because q·k after rotation depends only on the difference of positions, nothing
 * else changes at evaluation.
 *
 * The op acts on qkv (B, T, 3C), each row laid out [q (C) | k (C) | v (C)], head h of q at
 * channels h·HS..(h+1)·HS (the layout trainer/attention.h reads). It rotates q and k and copies v.
 * The model runs it in place between the QKV matmul and attention; attention's backward gives
 * d(rotated qkv), and the backward pass here turns it, in place, into d(qkv) for the matmul.
 *
 * CPU twins in trainer/rope.c; CUDA twins (same parameter lists, device pointers) belong in
 * trainer/cuda/rope.cu. Formulas: docs/trainer_ops.md. Tested in tests/unit/test_rope.c.
 */
#ifndef CS_TRAINER_ROPE_H
#define CS_TRAINER_ROPE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills cos_tab[p, i] = cos(p ω_i) and sin_tab[p, i] = sin(p ω_i), ω_i = theta^(−2i/HS), for
 * p < P and i < HS/2, computed in double and rounded to float. Host memory; copy the tables to
 * the device for the CUDA twins (this setup function has no CUDA twin).
 * cos_tab, sin_tab: (P, HS/2), owned by the caller. Returns CS_OK, or CS_EINVAL when HS is 0 or
 * odd, P is 0, or theta is not a finite number > 0 (nothing written then). */
int cs_rope_fill_tables(float *cos_tab, float *sin_tab, size_t P, size_t HS, double theta);

/* Rotates the q and k parts of each row of inp by the angles of the row's position t (its index
 * within the sequence) and copies the v part. out, inp: (B, T, 3C); out may be inp (in place) but
 * must not overlap it otherwise. cos_tab, sin_tab: (P, HS/2) with P ≥ T, HS = C / NH.
 * NH must divide C and HS must be even (CS_ASSERT). */
void cs_rope_forward_cpu(float *out, const float *inp, const float *cos_tab, const float *sin_tab,
                         size_t B, size_t T, size_t C, size_t NH);
void cs_rope_forward_cuda(float *out, const float *inp, const float *cos_tab, const float *sin_tab,
                          size_t B, size_t T, size_t C, size_t NH);

/* Backward pass: dinp = Rᵀ dout, the inverse rotation on the q and k parts, v copied. Unlike
 * the other backward ops it overwrites dinp rather than accumulating, so that it can run in
 * place: dinp may be dout. dinp, dout: (B, T, 3C); tables and sizes as the forward pass. */
void cs_rope_backward_cpu(float *dinp, const float *dout, const float *cos_tab,
                          const float *sin_tab, size_t B, size_t T, size_t C, size_t NH);
void cs_rope_backward_cuda(float *dinp, const float *dout, const float *cos_tab,
                           const float *sin_tab, size_t B, size_t T, size_t C, size_t NH);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_ROPE_H */
