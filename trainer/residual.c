/* trainer/residual.c: CPU twin of the residual connection (trainer/residual.h).
 * Test: tests/unit/test_residual.c. */
#include "trainer/residual.h"

#include "trainer/vecmath.h"

void cs_residual_forward_cpu(float *out, const float *inp1, const float *inp2, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= CS_VM_PAR_STREAM)
    for (size_t i = 0; i < n; i++)
        out[i] = inp1[i] + inp2[i];
}

void cs_residual_backward_cpu(float *dinp1, float *dinp2, const float *dout, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= CS_VM_PAR_STREAM)
    for (size_t i = 0; i < n; i++) {
        dinp1[i] += dout[i];
        dinp2[i] += dout[i];
    }
}
