/* trainer/cuda/gelu.cu: CUDA twin of the GELU activation (trainer/gelu.h; CPU twin
 * trainer/gelu.c). Same formula as the CPU twin, x · σ(2u) = x / (1 + e^(−2u)), with CUDA's
 * expf. Parity test: tests/parity/gelu.c.
 */
#include "trainer/cuda/kernel.h"
#include "trainer/gelu.h"

#define GELU_K 0.7978845608028654f /* √(2/π) */
#define GELU_A 0.044715f

static __global__ void gelu_forward_kernel(float *out, const float *in, size_t n)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;

    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float x = in[i];
        float u = GELU_K * (x + GELU_A * x * x * x);

        out[i] = x / (1.0f + expf(-2.0f * u));
    }
}

static __global__ void gelu_backward_kernel(float *__restrict__ dinp, const float *__restrict__ in,
                                            const float *__restrict__ dout, size_t n)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;

    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float x = in[i];
        float u = GELU_K * (x + GELU_A * x * x * x);
        float s = 1.0f / (1.0f + expf(-2.0f * u));
        float du = 2.0f * GELU_K * (1.0f + 3.0f * GELU_A * x * x);

        dinp[i] += (s + x * s * (1.0f - s) * du) * dout[i];
    }
}

/* out may be in (in place): each element is read and written by one thread. */
extern "C" void cs_gelu_forward_cuda(float *out, const float *in, size_t n)
{
    if (n == 0)
        return;
    gelu_forward_kernel<<<cs_cuda_grid(n, CS_CUDA_THREADS), CS_CUDA_THREADS, 0, cs_cuda_stream()>>>(
        out, in, n);
}

extern "C" void cs_gelu_backward_cuda(float *dinp, const float *in, const float *dout, size_t n)
{
    if (n == 0)
        return;
    gelu_backward_kernel<<<cs_cuda_grid(n, CS_CUDA_THREADS), CS_CUDA_THREADS, 0,
                           cs_cuda_stream()>>>(dinp, in, dout, n);
}
