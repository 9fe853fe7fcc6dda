/* trainer/cuda/ops.cu: the CUDA ops table (cs_cuda_ops, cs_cuda_is_available; trainer/ops.h),
 * twin of the CPU table in trainer/ops.c: the same entries, pointing at the CUDA twins of
 * trainer/cuda/<op>.cu, plus device versions of the two memory helpers. A build with nvcc links
 * this file instead of trainer/cuda_stub.c (the Makefile chooses). Parity test:
 * tests/parity/ops.c.
 */
#include "trainer/adamw.h"
#include "trainer/attention.h"
#include "trainer/cuda/kernel.h"
#include "trainer/encoder.h"
#include "trainer/gelu.h"
#include "trainer/layernorm.h"
#include "trainer/matmul.h"
#include "trainer/ops.h"
#include "trainer/residual.h"
#include "trainer/rope.h"
#include "trainer/xent.h"

/* x[0..n) = 0 on the ops stream. */
static void zero_cuda(float *x, size_t n)
{
    if (n)
        CS_CUDA_NOTE(cudaMemsetAsync(x, 0, n * sizeof *x, cs_cuda_stream()));
}

/* dst[0..n) = src[0..n) on the ops stream. Unlike the CPU table's memmove, the two ranges must
 * not overlap (no caller needs it). */
static void copy_cuda(float *dst, const float *src, size_t n)
{
    if (n && dst != src)
        CS_CUDA_NOTE(
            cudaMemcpyAsync(dst, src, n * sizeof *dst, cudaMemcpyDeviceToDevice, cs_cuda_stream()));
}

static cs_ops make_table(void)
{
    cs_ops o;

    o.name = "cuda";
    o.zero = zero_cuda;
    o.copy = copy_cuda;
    o.encoder_forward = cs_encoder_forward_cuda;
    o.encoder_backward = cs_encoder_backward_cuda;
    o.layernorm_forward = cs_layernorm_forward_cuda;
    o.layernorm_backward = cs_layernorm_backward_cuda;
    o.matmul_forward = cs_matmul_forward_cuda;
    o.matmul_backward = cs_matmul_backward_cuda;
    o.rope_forward = cs_rope_forward_cuda;
    o.rope_backward = cs_rope_backward_cuda;
    o.attention_forward = cs_attention_forward_cuda;
    o.attention_backward = cs_attention_backward_cuda;
    o.residual_forward = cs_residual_forward_cuda;
    o.residual_backward = cs_residual_backward_cuda;
    o.gelu_forward = cs_gelu_forward_cuda;
    o.gelu_backward = cs_gelu_backward_cuda;
    o.xent_forward = cs_xent_forward_cuda;
    o.xent_backward = cs_xent_backward_cuda;
    o.adamw_update = cs_adamw_update_cuda;
    o.adamw_norm = cs_adamw_norm_cuda;
    return o;
}

/* C++ has no designated initialisers for every field before C++20, hence make_table(). */
static const cs_ops cuda_ops = make_table();

extern "C" const cs_ops *cs_cuda_ops(void)
{
    return cs_cuda_is_available() ? &cuda_ops : NULL;
}

/* Leaves this thread's error message alone: cs_cuda_init() gives the reason when false. */
extern "C" bool cs_cuda_is_available(void)
{
    return cs_cuda_started();
}
