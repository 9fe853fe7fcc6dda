/* trainer/xent.c: CPU twin of the fused softmax cross-entropy (trainer/xent.h).
 * Test: tests/unit/test_xent.c. */
#include "trainer/xent.h"

#include "core/error.h"
#include "trainer/vecmath.h"

#include <math.h>

/* Row elements per thread below which the rows run on one thread (about 0.3 ms of exps; see
 * CS_VM_PAR_STREAM in trainer/vecmath.h). */
#define XENT_PAR_MIN (1 << 19)

/* log Σ_v e^z[v], in double from the row maximum. The maximum ignores NaN (unless z[0] is NaN),
 * but a NaN logit still makes its e^(z − max) and so the sum NaN: a diverged model gives a NaN
 * loss. */
static double row_lse(const float *z, size_t V)
{
    float mx = cs_vm_maxf(z, V);
    double sum = 0.0;

#pragma omp simd reduction(+ : sum)
    for (size_t v = 0; v < V; v++)
        sum += cs_vm_expf(z[v] - mx);
    return (double)mx + log(sum);
}

void cs_xent_forward_cpu(float *losses, float *lse, const float *logits, const uint32_t *targets,
                         size_t BT, size_t V)
{
    CS_ASSERT(V > 0);
#pragma omp parallel for schedule(static) if (BT * V >= 2 * XENT_PAR_MIN && BT > 1)
    for (size_t r = 0; r < BT; r++) {
        const float *z = logits + r * V;
        double l;

        CS_ASSERT(targets[r] < V);
        l = row_lse(z, V);
        lse[r] = (float)l;
        losses[r] = (float)(l - z[targets[r]]); /* in double: exact even when |z| is large */
    }
}

void cs_xent_backward_cpu(float *dlogits, const float *logits, const float *lse,
                          const uint32_t *targets, const float *dlosses, float scale, size_t BT,
                          size_t V)
{
#pragma omp parallel for schedule(static) if (BT * V >= 2 * XENT_PAR_MIN && BT > 1)
    for (size_t r = 0; r < BT; r++) {
        const float *z = logits + r * V;
        float *dz = dlogits + r * V;
        float w = dlosses ? scale * dlosses[r] : scale;
        float l = lse[r];

        CS_ASSERT(targets[r] < V);
#pragma omp simd
        for (size_t v = 0; v < V; v++)
            dz[v] = w * cs_vm_expf(z[v] - l);
        dz[targets[r]] -= w;
    }
}
