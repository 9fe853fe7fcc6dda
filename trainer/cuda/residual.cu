/* trainer/cuda/residual.cu: CUDA twin of the residual connection (trainer/residual.h; CPU twin
 * trainer/residual.c). One float add per element, as the CPU twin: the results are bit for bit
 * the same. Parity test: tests/parity/residual.c.
 */
#include "trainer/cuda/kernel.h"
#include "trainer/residual.h"

/* out may be inp1 or inp2 (in place): each element is read and written by one thread. */
static __global__ void residual_forward_kernel(float *out, const float *inp1, const float *inp2,
                                               size_t n)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;

    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        out[i] = inp1[i] + inp2[i];
}

static __global__ void residual_backward_kernel(float *__restrict__ dinp1,
                                                float *__restrict__ dinp2,
                                                const float *__restrict__ dout, size_t n)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;

    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float d = dout[i];

        dinp1[i] += d;
        dinp2[i] += d;
    }
}

extern "C" void cs_residual_forward_cuda(float *out, const float *inp1, const float *inp2, size_t n)
{
    if (n == 0)
        return;
    residual_forward_kernel<<<cs_cuda_grid(n, CS_CUDA_THREADS), CS_CUDA_THREADS, 0,
                              cs_cuda_stream()>>>(out, inp1, inp2, n);
}

extern "C" void cs_residual_backward_cuda(float *dinp1, float *dinp2, const float *dout, size_t n)
{
    if (n == 0)
        return;
    residual_backward_kernel<<<cs_cuda_grid(n, CS_CUDA_THREADS), CS_CUDA_THREADS, 0,
                               cs_cuda_stream()>>>(dinp1, dinp2, dout, n);
}
