/* trainer/cuda/adamw.cu: CUDA twin of the AdamW step and the gradient norm (trainer/adamw.h;
 * CPU twin trainer/adamw.c). Parity test: tests/parity/adamw.c.
 *
 * The update is elementwise, with the bias corrections computed on the host in double and
 * rounded to float, as the CPU twin does. The norm is deterministic: NORM_BLOCKS blocks each sum
 * a fixed contiguous slice in double (per-thread strided partials, then a fixed block tree) into
 * the device workspace, and one block adds the partials in a fixed tree; the split depends only
 * on n, never on the GPU.
 */
#include "trainer/adamw.h"
#include "trainer/cuda/kernel.h"

#include <math.h>

#define NORM_BLOCKS  1024
#define NORM_THREADS 256

static __global__ void adamw_update_kernel(float *__restrict__ params, float *__restrict__ m,
                                           float *__restrict__ v, const float *__restrict__ grads,
                                           size_t n, float lr, float beta1, float beta2, float eps,
                                           float weight_decay, float grad_scale, float bc1,
                                           float bc2)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;

    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float g = grads[i] * grad_scale;
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        float mhat = mi / bc1;
        float vhat = vi / bc2;
        float p = params[i];

        m[i] = mi;
        v[i] = vi;
        params[i] = p - lr * (mhat / (sqrtf(vhat) + eps) + weight_decay * p);
    }
}

/* partials[k] = Σ grads[i]² over slice k = [k·per, (k+1)·per) ∩ [0, n), in double. */
static __global__ void norm_partial_kernel(double *__restrict__ partials,
                                           const float *__restrict__ grads, size_t n, size_t per)
{
    __shared__ double sh[32];
    size_t i0 = blockIdx.x * per, i1 = i0 + per < n ? i0 + per : n;
    double s = 0.0;

    for (size_t i = i0 + threadIdx.x; i < i1; i += blockDim.x)
        s += (double)grads[i] * grads[i];
    s = cs_block_sum(s, sh);
    if (threadIdx.x == 0)
        partials[blockIdx.x] = s;
}

/* norm[0] = sqrt(Σ_k partials[k]), one block of NORM_THREADS threads. */
static __global__ void norm_final_kernel(float *norm, const double *__restrict__ partials)
{
    __shared__ double sh[32];
    double s = 0.0;

    for (unsigned k = threadIdx.x; k < NORM_BLOCKS; k += blockDim.x)
        s += partials[k];
    s = cs_block_sum(s, sh);
    if (threadIdx.x == 0)
        norm[0] = (float)sqrt(s);
}

extern "C" void cs_adamw_update_cuda(float *params, float *m, float *v, const float *grads,
                                     size_t n, float lr, float beta1, float beta2, float eps,
                                     float weight_decay, float grad_scale, int step)
{
    float bc1, bc2;

    CS_ASSERT(step >= 1);
    if (n == 0)
        return;
    bc1 = (float)(1.0 - pow((double)beta1, (double)step));
    bc2 = (float)(1.0 - pow((double)beta2, (double)step));
    adamw_update_kernel<<<cs_cuda_grid(n, CS_CUDA_THREADS), CS_CUDA_THREADS, 0, cs_cuda_stream()>>>(
        params, m, v, grads, n, lr, beta1, beta2, eps, weight_decay, grad_scale, bc1, bc2);
}

/* The partials of every slice, empty ones included (they write 0), so the final sum always
 * reads NORM_BLOCKS values written by this call. */
extern "C" void cs_adamw_norm_cuda(float *norm, const float *grads, size_t n)
{
    size_t per = (n + NORM_BLOCKS - 1) / NORM_BLOCKS;
    double *partials = cs_cuda_partials();

    static_assert(NORM_BLOCKS <= CS_CUDA_PARTIALS, "the norm's partials must fit the workspace");
    norm_partial_kernel<<<NORM_BLOCKS, NORM_THREADS, 0, cs_cuda_stream()>>>(partials, grads, n,
                                                                            per);
    norm_final_kernel<<<1, NORM_THREADS, 0, cs_cuda_stream()>>>(norm, partials);
}
