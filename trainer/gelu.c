/* trainer/gelu.c: CPU twin of the GELU activation (trainer/gelu.h).
 * Test: tests/unit/test_gelu.c. */
#include "trainer/gelu.h"

#include "trainer/vecmath.h"

#define GELU_K 0.7978845608028654f /* √(2/π) */
#define GELU_A 0.044715f

/* Elements per thread below which a loop runs serially: a parallel region costs about as much
 * as a few thousand of these elements on an idle machine, and far more on a busy one. */
#define GELU_PAR_MIN 32768

/* ½ x (1 + tanh u) is written as x · σ(2u) = x / (1 + e^(−2u)): one exp and one division, no
 * cancellation for negative x, and the same function (docs/trainer_ops.md). */
void cs_gelu_forward_cpu(float *out, const float *in, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= 2 * GELU_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float u = GELU_K * (x + GELU_A * x * x * x);

        out[i] = x / (1.0f + cs_vm_expf(-2.0f * u));
    }
}

/* gelu'(x) = σ + x σ (1 − σ) 2u', σ = σ(2u), u' = √(2/π) (1 + 3·0.044715 x²): the tanh form
 * ½ (1 + tanh u) + ½ x (1 − tanh² u) u' with tanh u = 2σ − 1. */
void cs_gelu_backward_cpu(float *dinp, const float *in, const float *dout, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= 2 * GELU_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float u = GELU_K * (x + GELU_A * x * x * x);
        float s = 1.0f / (1.0f + cs_vm_expf(-2.0f * u));
        float du = 2.0f * GELU_K * (1.0f + 3.0f * GELU_A * x * x);

        dinp[i] += (s + x * s * (1.0f - s) * du) * dout[i];
    }
}
