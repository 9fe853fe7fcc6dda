/* trainer/ops.c: the CPU ops table (cs_cpu_ops), pointing at the CPU twins of trainer/<op>.c.
 * Used by trainer/model.c; tested through tests/unit/test_model.c.
 */
#include "trainer/ops.h"

#include "trainer/adamw.h"
#include "trainer/attention.h"
#include "trainer/encoder.h"
#include "trainer/gelu.h"
#include "trainer/layernorm.h"
#include "trainer/matmul.h"
#include "trainer/residual.h"
#include "trainer/rope.h"
#include "trainer/xent.h"

#include <string.h>

static void zero_cpu(float *x, size_t n)
{
    if (n)
        memset(x, 0, n * sizeof *x);
}

static void copy_cpu(float *dst, const float *src, size_t n)
{
    if (n)
        memmove(dst, src, n * sizeof *dst);
}

static const cs_ops cpu_ops = {
    .name = "cpu",
    .zero = zero_cpu,
    .copy = copy_cpu,
    .encoder_forward = cs_encoder_forward_cpu,
    .encoder_backward = cs_encoder_backward_cpu,
    .layernorm_forward = cs_layernorm_forward_cpu,
    .layernorm_backward = cs_layernorm_backward_cpu,
    .matmul_forward = cs_matmul_forward_cpu,
    .matmul_backward = cs_matmul_backward_cpu,
    .rope_forward = cs_rope_forward_cpu,
    .rope_backward = cs_rope_backward_cpu,
    .attention_forward = cs_attention_forward_cpu,
    .attention_backward = cs_attention_backward_cpu,
    .residual_forward = cs_residual_forward_cpu,
    .residual_backward = cs_residual_backward_cpu,
    .gelu_forward = cs_gelu_forward_cpu,
    .gelu_backward = cs_gelu_backward_cpu,
    .xent_forward = cs_xent_forward_cpu,
    .xent_backward = cs_xent_backward_cpu,
    .adamw_update = cs_adamw_update_cpu,
    .adamw_norm = cs_adamw_norm_cpu,
};

const cs_ops *cs_cpu_ops(void)
{
    return &cpu_ops;
}
