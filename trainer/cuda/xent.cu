/* trainer/cuda/xent.cu: CUDA twin of the fused softmax cross-entropy (trainer/xent.h; CPU twin
 * trainer/xent.c). Parity test: tests/parity/xent.c.
 *
 * One block per row of logits. The forward pass reads the row once: each thread keeps a running
 * maximum m and a double sum s of e^(z − m), rescaled when m grows (the "online softmax"), then
 * the block merges the threads' (m, s) pairs in a fixed tree. lse = m + log s and the loss
 * lse − z_target are formed in double, as the CPU twin does. Neither pass stores probabilities:
 * the backward pass recomputes each from the logit and lse and writes the gradient in its place.
 */
#include "trainer/cuda/kernel.h"
#include "trainer/xent.h"

#include <assert.h>

#define XENT_THREADS 512

/* Merges the running (maximum, sum) pairs of a block; every thread gets the row's. `shm`, `shs`:
 * __shared__ space for 32 entries each. A NaN logit makes the sum NaN, as on the CPU. */
static __device__ void block_merge(float *m, double *s, float *shm, double *shs)
{
    float mx = cs_block_max(*m, shm);
    double sum;

    /* exp(−inf − mx) = 0 for a thread that saw no element; mx = −inf only if every logit is. */
    sum = *s == 0.0 ? 0.0 : *s * exp((double)*m - (double)mx);
    *s = cs_block_sum(sum, shs);
    *m = mx;
}

static __global__ void xent_forward_kernel(float *__restrict__ losses, float *__restrict__ lse,
                                           const float *__restrict__ logits,
                                           const uint32_t *__restrict__ targets, size_t V)
{
    __shared__ float shm[32];
    __shared__ double shs[32];
    const float *z = logits + (size_t)blockIdx.x * V;
    float m = -INFINITY;
    double s = 0.0, l;

    for (size_t v = threadIdx.x; v < V; v += blockDim.x) {
        float x = z[v];

        if (x > m) { /* false for NaN: its e^(x − m) below makes s NaN */
            s = s * exp((double)m - (double)x) + 1.0;
            m = x;
        } else if (m > -INFINITY || x != x) { /* −inf while m = −inf adds e^−inf = 0 */
            s += expf(x - m);
        }
    }
    block_merge(&m, &s, shm, shs);
    if (threadIdx.x == 0) {
        uint32_t y = targets[blockIdx.x];

        assert(y < V);
        l = (double)m + log(s);
        lse[blockIdx.x] = (float)l;
        losses[blockIdx.x] = (float)(l - z[y]);
    }
}

/* dlogits may be logits: each element is read, then written, by the same thread. */
static __global__ void xent_backward_kernel(float *dlogits, const float *logits,
                                            const float *__restrict__ lse,
                                            const uint32_t *__restrict__ targets,
                                            const float *__restrict__ dlosses, float scale,
                                            size_t V)
{
    size_t row = blockIdx.x;
    const float *z = logits + row * V;
    float *dz = dlogits + row * V;
    float w = dlosses ? scale * dlosses[row] : scale;
    float l = lse[row];
    uint32_t y = targets[row];

    assert(y < V);
    for (size_t v = threadIdx.x; v < V; v += blockDim.x) {
        float d = w * expf(z[v] - l);

        dz[v] = v == y ? d - w : d;
    }
}

static unsigned row_threads(size_t V)
{
    return V < XENT_THREADS ? (unsigned)((V + 31) / 32 * 32) : XENT_THREADS;
}

extern "C" void cs_xent_forward_cuda(float *losses, float *lse, const float *logits,
                                     const uint32_t *targets, size_t BT, size_t V)
{
    CS_ASSERT(V > 0);
    CS_ASSERT(BT <= 0x7fffffffu);
    if (BT == 0)
        return;
    xent_forward_kernel<<<(unsigned)BT, row_threads(V), 0, cs_cuda_stream()>>>(losses, lse, logits,
                                                                               targets, V);
}

extern "C" void cs_xent_backward_cuda(float *dlogits, const float *logits, const float *lse,
                                      const uint32_t *targets, const float *dlosses, float scale,
                                      size_t BT, size_t V)
{
    CS_ASSERT(BT <= 0x7fffffffu);
    if (BT == 0 || V == 0)
        return;
    xent_backward_kernel<<<(unsigned)BT, row_threads(V), 0, cs_cuda_stream()>>>(
        dlogits, logits, lse, targets, dlosses, scale, V);
}
