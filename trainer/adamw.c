/* trainer/adamw.c: CPU twin of the AdamW step and the gradient norm (trainer/adamw.h).
 * Test: tests/unit/test_adamw.c. */
#include "trainer/adamw.h"

#include "core/error.h"

#include <math.h>

/* The norm's sum runs over this many fixed slices, each summed in a fixed order (vectorised) and
 * the partial sums added in order: the result does not depend on the number of threads. */
#define NORM_SLICES 64

void cs_adamw_update_cpu(float *params, float *m, float *v, const float *grads, size_t n, float lr,
                         float beta1, float beta2, float eps, float weight_decay, float grad_scale,
                         int step)
{
    float bc1;
    float bc2;

    CS_ASSERT(step >= 1);
    bc1 = (float)(1.0 - pow((double)beta1, (double)step));
    bc2 = (float)(1.0 - pow((double)beta2, (double)step));
#pragma omp parallel for simd schedule(static) if (n >= 65536)
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] * grad_scale;
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        float mhat = mi / bc1;
        float vhat = vi / bc2;

        m[i] = mi;
        v[i] = vi;
        params[i] -= lr * (mhat / (sqrtf(vhat) + eps) + weight_decay * params[i]);
    }
}

void cs_adamw_norm_cpu(float *norm, const float *grads, size_t n)
{
    double part[NORM_SLICES];
    double sum = 0.0;
    size_t per = (n + NORM_SLICES - 1) / NORM_SLICES;

#pragma omp parallel for schedule(static) if (n >= 65536)
    for (size_t k = 0; k < NORM_SLICES; k++) {
        size_t i0 = k * per < n ? k * per : n;
        size_t i1 = i0 + per < n ? i0 + per : n;
        double s = 0.0;

#pragma omp simd reduction(+ : s)
        for (size_t i = i0; i < i1; i++)
            s += (double)grads[i] * grads[i];
        part[k] = s;
    }
    for (size_t k = 0; k < NORM_SLICES; k++)
        sum += part[k];
    norm[0] = (float)sqrt(sum);
}

float cs_adamw_clip_scale(float norm, float max_norm)
{
    if (max_norm > 0.0f && norm > max_norm)
        return max_norm / norm;
    return 1.0f;
}
