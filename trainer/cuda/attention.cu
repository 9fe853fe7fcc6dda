/* trainer/cuda/attention.cu: CUDA twin of causal self-attention (trainer/attention.h; CPU twin
 * trainer/attention.c), float32 throughout. Parity test: tests/parity/attention.c.
 *
 * The op's contract stores the probabilities att (B, NH, T, T) for the backward pass, so this
 * twin materialises them too: scores by strided-batched cuBLAS products over the heads of each
 * sequence (whole T × T squares; the causal half above the diagonal is computed and then
 * overwritten with zeros), a causal softmax kernel (one block per row, sums in double as on the
 * CPU), and the product with V. The backward pass has one (T, T) scratch, so it walks the heads
 * one at a time: dP = dO·Vᵀ into the scratch, dS in place, then dQ and dK; dV = Pᵀ·dO needs no
 * scratch and is batched over the heads. docs/cuda.md ("Attention") explains why a kernel that
 * never stores T × T (flash attention) needs a different signature, and proposes one.
 */
#include "trainer/attention.h"
#include "trainer/cuda/kernel.h"

#include <limits.h>
#include <math.h>

#define ATT_THREADS 256

/* Causal softmax in place of row g of the (B·NH·T, T) scores: entries s ≤ t become
 * probabilities, the others 0. t = g mod T. */
static __global__ void softmax_kernel(float *att, size_t T)
{
    __shared__ float shm[32];
    __shared__ double shs[32];
    float *row = att + (size_t)blockIdx.x * T;
    size_t t = blockIdx.x % T;
    float mx = -INFINITY, inv;
    double sum = 0.0;

    for (size_t s = threadIdx.x; s <= t; s += blockDim.x)
        mx = fmaxf(mx, row[s]);
    mx = cs_block_max(mx, shm);
    for (size_t s = threadIdx.x; s <= t; s += blockDim.x) {
        float e = expf(row[s] - mx);

        row[s] = e;
        sum += e;
    }
    inv = (float)(1.0 / cs_block_sum(sum, shs));
    for (size_t s = threadIdx.x; s < T; s += blockDim.x)
        row[s] = s <= t ? row[s] * inv : 0.0f;
}

/* dS in place of dP for the T rows of one head: dS[t,s] = scale · P[t,s] (dP[t,s] − Σ_s'
 * P[t,s'] dP[t,s']) for s ≤ t, 0 above the diagonal. One block per row. */
static __global__ void dscores_kernel(float *dp, const float *__restrict__ att, size_t T,
                                      float scale)
{
    __shared__ double shs[32];
    size_t t = blockIdx.x;
    float *d = dp + t * T;
    const float *p = att + t * T;
    double dot = 0.0;
    float dotf;

    for (size_t s = threadIdx.x; s <= t; s += blockDim.x)
        dot += (double)p[s] * d[s];
    dotf = (float)cs_block_sum(dot, shs);
    for (size_t s = threadIdx.x; s < T; s += blockDim.x)
        d[s] = s <= t ? scale * p[s] * (d[s] - dotf) : 0.0f;
}

static unsigned row_threads(size_t T)
{
    return T < ATT_THREADS ? (unsigned)((T + 31) / 32 * 32) : ATT_THREADS;
}

static void check_shape(size_t B, size_t T, size_t C, size_t NH)
{
    CS_ASSERT(NH > 0 && C % NH == 0);
    CS_ASSERT(T <= INT_MAX && C <= INT_MAX / 3 && NH <= INT_MAX);
    CS_ASSERT(B * NH * T <= (size_t)INT_MAX); /* rows of the softmax grid */
}

extern "C" void cs_attention_forward_cuda(float *out, float *att, const float *qkv, size_t B,
                                          size_t T, size_t C, size_t NH)
{
    size_t HS;
    int t = (int)T, hs, ld3 = (int)(3 * C), nh = (int)NH;
    float scale;

    check_shape(B, T, C, NH);
    if (B == 0 || T == 0 || C == 0)
        return;
    HS = C / NH;
    hs = (int)HS;
    scale = (float)(1.0 / sqrt((double)HS));
    /* att_h (T × T, column s + row t·T) = scale · K_hᵀ-op · Q_h, for every head of sequence b */
    for (size_t b = 0; b < B; b++) {
        const float *q = qkv + b * T * 3 * C;

        cs_cuda_gemm(CUBLAS_OP_T, CUBLAS_OP_N, t, t, hs, scale, q + C, ld3, (long long)HS, q, ld3,
                     (long long)HS, 0.0f, att + b * NH * T * T, t, (long long)(T * T), nh, false);
    }
    softmax_kernel<<<(unsigned)(B * NH * T), row_threads(T), 0, cs_cuda_stream()>>>(att, T);
    /* out_h (HS × T, ld C) = V_h (HS × T, ld 3C) · att_hᵀ-as-stored */
    for (size_t b = 0; b < B; b++)
        cs_cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_N, hs, t, t, 1.0f, qkv + b * T * 3 * C + 2 * C, ld3,
                     (long long)HS, att + b * NH * T * T, t, (long long)(T * T), 0.0f,
                     out + b * T * C, (int)C, (long long)HS, nh, false);
}

/* dQ_h += dS · K_h and dK_h += dSᵀ · Q_h for one head, dS (T, T) row-major in dp. q, dq: the
 * head's q channels in (T, 3C) rows (k, dk at +C). */
static void head_dqk(float *dq, const float *dp, const float *q, int t, int hs, int C)
{
    int ld3 = 3 * C;

    cs_cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_N, hs, t, t, 1.0f, q + C, ld3, 0, dp, t, 0, 1.0f, dq, ld3,
                 0, 1, false);
    cs_cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_T, hs, t, t, 1.0f, q, ld3, 0, dp, t, 0, 1.0f, dq + C, ld3,
                 0, 1, false);
}

extern "C" void cs_attention_backward_cuda(float *dqkv, float *scratch, const float *dout,
                                           const float *qkv, const float *att, size_t B, size_t T,
                                           size_t C, size_t NH)
{
    size_t HS;
    int t = (int)T, hs, ld3 = (int)(3 * C), c = (int)C, nh = (int)NH;
    float scale;

    check_shape(B, T, C, NH);
    if (B == 0 || T == 0 || C == 0)
        return;
    HS = C / NH;
    hs = (int)HS;
    scale = (float)(1.0 / sqrt((double)HS));
    for (size_t bh = 0; bh < B * NH; bh++) {
        size_t b = bh / NH, h = bh % NH;
        size_t off3 = b * T * 3 * C + h * HS;

        /* dP (T × T, column s + row t·T) = V_hᵀ-op · dO_h */
        cs_cuda_gemm(CUBLAS_OP_T, CUBLAS_OP_N, t, t, hs, 1.0f, qkv + off3 + 2 * C, ld3, 0,
                     dout + b * T * C + h * HS, c, 0, 0.0f, scratch, t, 0, 1, false);
        dscores_kernel<<<(unsigned)T, row_threads(T), 0, cs_cuda_stream()>>>(
            scratch, att + bh * T * T, T, scale);
        head_dqk(dqkv + off3, scratch, qkv + off3, t, hs, c);
    }
    /* dV_h (HS × T, ld 3C) += dO_h (HS × T, ld C) · P_h, for every head of sequence b */
    for (size_t b = 0; b < B; b++)
        cs_cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_T, hs, t, t, 1.0f, dout + b * T * C, c, (long long)HS,
                     att + b * NH * T * T, t, (long long)(T * T), 1.0f,
                     dqkv + b * T * 3 * C + 2 * C, ld3, (long long)HS, nh, false);
}
