/* trainer/cuda/matmul.cu: CUDA twin of the linear layer y = x·Wᵀ + b (trainer/matmul.h; CPU
 * twin trainer/matmul.c), on cuBLAS. Parity test: tests/parity/matmul.c.
 *
 * Row-major (r, c) arrays are column-major (c, r) arrays to cuBLAS, so each product is written
 * for the transposes: out (BT, OC) is cuBLAS's (OC × BT) = Wᵀ-op · inp. The arithmetic follows
 * cs_cuda_set_matmul_precision (fp32 by default; tf32 or bf16 operands with float32
 * accumulation). As the CPU twin, the forward pass starts from the bias and lets the product add
 * to it; dbias is a column sum in double, rows in a fixed order (no atomics).
 */
#include "trainer/cuda/kernel.h"
#include "trainer/matmul.h"

#include <limits.h>

/* out[r, o] = bias[o]. */
static __global__ void bias_fill_kernel(float *__restrict__ out, const float *__restrict__ bias,
                                        size_t BT, size_t OC)
{
    size_t n = BT * OC, stride = (size_t)gridDim.x * blockDim.x;

    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        out[i] = bias[i % OC];
}

/* dbias[o] += Σ_r dout[r, o] in double: block of 32 × 32 threads for 32 channels, thread
 * (tx, ty) sums rows ty, ty + 32, ... in order, then thread (tx, 0) adds the 32 partials in
 * order. */
static __global__ void dbias_kernel(float *__restrict__ dbias, const float *__restrict__ dout,
                                    size_t BT, size_t OC)
{
    __shared__ double sh[32][33];
    unsigned tx = threadIdx.x, ty = threadIdx.y;
    size_t o = (size_t)blockIdx.x * 32 + tx;
    double acc = 0.0;

    if (o < OC)
        for (size_t r = ty; r < BT; r += 32)
            acc += dout[r * OC + o];
    sh[ty][tx] = acc;
    __syncthreads();
    if (ty != 0 || o >= OC)
        return;
    for (int k = 1; k < 32; k++)
        acc += sh[k][tx];
    dbias[o] += (float)acc;
}

/* The CPU twin's preconditions (CS_ASSERT there): cuBLAS takes int sizes, and a leading
 * dimension of 0 is invalid. */
static void check_sizes(size_t BT, size_t C, size_t OC)
{
    CS_ASSERT(BT <= INT_MAX && C <= INT_MAX && OC <= INT_MAX);
    CS_ASSERT(C > 0 && OC > 0);
}

extern "C" void cs_matmul_forward_cuda(float *out, const float *inp, const float *weight,
                                       const float *bias, size_t BT, size_t C, size_t OC)
{
    check_sizes(BT, C, OC);
    if (BT == 0)
        return;
    if (bias)
        bias_fill_kernel<<<cs_cuda_grid(BT * OC, CS_CUDA_THREADS), CS_CUDA_THREADS, 0,
                           cs_cuda_stream()>>>(out, bias, BT, OC);
    /* out (OC × BT) = weightᵀ (OC × C) · inp (C × BT) [+ out] */
    cs_cuda_gemm(CUBLAS_OP_T, CUBLAS_OP_N, (int)OC, (int)BT, (int)C, 1.0f, weight, (int)C, 0, inp,
                 (int)C, 0, bias ? 1.0f : 0.0f, out, (int)OC, 0, 1, true);
}

extern "C" void cs_matmul_backward_cuda(float *dinp, float *dweight, float *dbias,
                                        const float *dout, const float *inp, const float *weight,
                                        size_t BT, size_t C, size_t OC)
{
    check_sizes(BT, C, OC);
    if (BT == 0)
        return;
    /* dinp (C × BT) += weight (C × OC) · dout (OC × BT) */
    if (dinp)
        cs_cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_N, (int)C, (int)BT, (int)OC, 1.0f, weight, (int)C, 0,
                     dout, (int)OC, 0, 1.0f, dinp, (int)C, 0, 1, true);
    /* dweight (C × OC) += inp (C × BT) · doutᵀ (BT × OC) */
    if (dweight)
        cs_cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_T, (int)C, (int)OC, (int)BT, 1.0f, inp, (int)C, 0, dout,
                     (int)OC, 0, 1.0f, dweight, (int)C, 0, 1, true);
    if (dbias)
        dbias_kernel<<<(unsigned)((OC + 31) / 32), dim3(32, 32), 0, cs_cuda_stream()>>>(dbias, dout,
                                                                                        BT, OC);
}
