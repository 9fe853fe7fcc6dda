/* trainer/gelu.c: CPU twin of the GELU activation (trainer/gelu.h).
 * Test: tests/unit/test_gelu.c. */
#include "trainer/gelu.h"

#include <math.h>

#define GELU_K 0.7978845608028654f /* √(2/π) */
#define GELU_A 0.044715f

void cs_gelu_forward_cpu(float *out, const float *in, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float u = GELU_K * (x + GELU_A * x * x * x);

        out[i] = 0.5f * x * (1.0f + tanhf(u));
    }
}

void cs_gelu_backward_cpu(float *dinp, const float *in, const float *dout, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float th = tanhf(GELU_K * (x + GELU_A * x * x * x));
        float sech2 = 1.0f - th * th;
        float d = 0.5f * (1.0f + th) + 0.5f * x * sech2 * GELU_K * (1.0f + 3.0f * GELU_A * x * x);

        dinp[i] += d * dout[i];
    }
}
