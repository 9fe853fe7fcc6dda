/* trainer/cuda/kernel.h: what the CUDA twins of trainer/cuda/<op>.cu share (C++, nvcc only):
 * the stream, the error recording behind cs_cuda_step_check(), the cuBLAS products, the grid
 * sizes and the warp and block reductions. Defined in trainer/cuda/device.cu; tested through
 * the parity tests tests/parity/<op>.c (docs/cuda.md).
 *
 * Every function with external linkage here is extern "C" and starts with cs_cuda_, so the
 * library exports only cs_ symbols (make check-symbols); the device helpers are static inline.
 */
#ifndef CS_TRAINER_CUDA_KERNEL_H
#define CS_TRAINER_CUDA_KERNEL_H

#include "core/error.h"
#include "trainer/cuda/device.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stddef.h>
#include <stdint.h>

/* CS_OK, or cs_fail(CS_ECUDA, "<file>:<line>: <expr>: <CUDA message>"): an expression, as
 * STYLE.md asks (st = CS_CUDA(cudaMalloc(&p, n)); if (st) goto out_...). */
#define CS_CUDA(expr) cs_cuda_status((expr), __FILE__, __LINE__, #expr)

/* Records a failed CUDA runtime call made inside a void launcher; cs_cuda_step_check() reports
 * the first one. */
#define CS_CUDA_NOTE(expr) cs_cuda_note((expr), __FILE__, __LINE__, #expr)

/* Threads per block of the elementwise and row kernels. */
#define CS_CUDA_THREADS 256

/* Doubles in the reduction workspace of cs_cuda_partials(). */
#define CS_CUDA_PARTIALS 4096

extern "C" {

/* Runs the start-up of cs_cuda_init() if it has not run, and says whether it succeeded, without
 * recording a message. */
bool cs_cuda_started(void);

/* The stream every op runs on (created by cs_cuda_init; a blocking stream, so it is ordered
 * with the legacy default stream as well). */
cudaStream_t cs_cuda_stream(void);

/* Multiprocessors of the device (for sizing grids; no result depends on it). */
int cs_cuda_sm_count(void);

/* A device workspace of CS_CUDA_PARTIALS doubles, allocated once by cs_cuda_init, for the
 * partial sums of two-stage reductions. One op at a time uses it (the stream orders them). */
double *cs_cuda_partials(void);

/* CS_OK for cudaSuccess, else cs_fail(CS_ECUDA, ...) naming file, line and call. */
int cs_cuda_status(cudaError_t e, const char *file, int line, const char *expr);

/* Records the first failure (e != cudaSuccess) for cs_cuda_step_check(); returns e. */
cudaError_t cs_cuda_note(cudaError_t e, const char *file, int line, const char *expr);

/* Column-major product as cuBLAS defines it, float32 in memory:
 *   Cm (m x n, ldc) = alpha op(A) op(B) + beta Cm,  op(A) m x k, op(B) k x n,
 * batched `batch` times with element strides sA, sB, sC between the matrices (batch 1: one
 * product, strides unused). `lowp` true lets the product use the precision chosen by
 * cs_cuda_set_matmul_precision; false always computes in float32. A cuBLAS failure is recorded
 * for cs_cuda_step_check(). Sizes must fit in an int (the caller asserts it). */
void cs_cuda_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                  const float *A, int lda, long long sA, const float *B, int ldb, long long sB,
                  float beta, float *Cm, int ldc, long long sC, int batch, bool lowp);

} /* extern "C" */

/* Blocks for a grid-stride loop over n items with `threads` threads per block: enough to cover
 * n, at most 32 per multiprocessor (the loop takes the rest). n must be > 0. */
static inline unsigned cs_cuda_grid(size_t n, unsigned threads)
{
    size_t blocks = (n + threads - 1) / threads;
    size_t cap = (size_t)cs_cuda_sm_count() * 32;

    return (unsigned)(blocks < cap ? blocks : cap);
}

/* Sum over the 32 lanes of a warp; every lane gets the result. The tree has a fixed shape, so the
 * result does not depend on timing. */
static __device__ inline double cs_warp_sum(double x)
{
    for (int o = 16; o > 0; o /= 2)
        x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

/* Maximum over the 32 lanes of a warp (fmaxf: a NaN lane is ignored unless all are NaN). */
static __device__ inline float cs_warp_max(float x)
{
    for (int o = 16; o > 0; o /= 2)
        x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

/* Sum over a block whose size is a multiple of 32 and at most 1024; every thread gets the
 * result. `sh` is __shared__ space for 32 doubles. Contains __syncthreads: call from all
 * threads. Fixed tree, so deterministic. */
static __device__ inline double cs_block_sum(double x, double *sh)
{
    unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, nw = blockDim.x / 32;

    x = cs_warp_sum(x);
    __syncthreads(); /* sh may still be read by a previous call */
    if (lane == 0)
        sh[warp] = x;
    __syncthreads();
    x = lane < nw ? sh[lane] : 0.0;
    return cs_warp_sum(x);
}

/* Maximum over a block (as cs_block_sum); `sh` is __shared__ space for 32 floats. */
static __device__ inline float cs_block_max(float x, float *sh)
{
    unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, nw = blockDim.x / 32;

    x = cs_warp_max(x);
    __syncthreads();
    if (lane == 0)
        sh[warp] = x;
    __syncthreads();
    x = lane < nw ? sh[lane] : -INFINITY;
    return cs_warp_max(x);
}

#endif /* CS_TRAINER_CUDA_KERNEL_H */
