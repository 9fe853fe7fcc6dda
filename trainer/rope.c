/* trainer/rope.c: CPU twin of the rotary position embeddings (trainer/rope.h).
 * Test: tests/unit/test_rope.c. */
#include "trainer/rope.h"

#include "core/error.h"
#include "trainer/vecmath.h"

#include <math.h>
#include <string.h>

int cs_rope_fill_tables(float *cos_tab, float *sin_tab, size_t P, size_t HS, double theta)
{
    size_t half = HS / 2;

    if (HS == 0 || HS % 2 != 0)
        return cs_fail(CS_EINVAL, "rotary tables: head size %zu is not a positive even number", HS);
    if (P == 0)
        return cs_fail(CS_EINVAL, "rotary tables: need at least one position");
    if (!isfinite(theta) || !(theta > 0.0))
        return cs_fail(CS_EINVAL, "rotary tables: theta = %g is not a finite number > 0", theta);
    for (size_t i = 0; i < half; i++) {
        double omega = pow(theta, -(double)(2 * i) / (double)HS);

        for (size_t p = 0; p < P; p++) {
            double a = (double)p * omega;

            cos_tab[p * half + i] = (float)cos(a);
            sin_tab[p * half + i] = (float)sin(a);
        }
    }
    return CS_OK;
}

/* Rotates the 2C channels of q and k of one row by `sign` times the angles (sign −1: the
 * transpose, for the backward pass); cs, sn: (HS/2) for the row's position. */
static void rotate_row(float *out, const float *in, const float *cs, const float *sn, size_t C,
                       size_t HS, float sign)
{
    size_t half = HS / 2;

    for (size_t base = 0; base < 2 * C; base += HS) {
        for (size_t i = 0; i < half; i++) {
            float x0 = in[base + 2 * i];
            float x1 = in[base + 2 * i + 1];
            float c = cs[i];
            float s = sign * sn[i];

            out[base + 2 * i] = x0 * c - x1 * s;
            out[base + 2 * i + 1] = x0 * s + x1 * c;
        }
    }
    if (out != in)
        memcpy(out + 2 * C, in + 2 * C, C * sizeof(float));
}

static void rope_apply(float *out, const float *inp, const float *cos_tab, const float *sin_tab,
                       size_t B, size_t T, size_t C, size_t NH, float sign)
{
    size_t HS;

    CS_ASSERT(NH > 0 && C % NH == 0);
    HS = C / NH;
    CS_ASSERT(HS % 2 == 0);
#pragma omp parallel for schedule(static) if (B * T * 3 * C >= CS_VM_PAR_STREAM)
    for (size_t r = 0; r < B * T; r++) {
        size_t t = r % T;

        rotate_row(out + r * 3 * C, inp + r * 3 * C, cos_tab + t * (HS / 2), sin_tab + t * (HS / 2),
                   C, HS, sign);
    }
}

void cs_rope_forward_cpu(float *out, const float *inp, const float *cos_tab, const float *sin_tab,
                         size_t B, size_t T, size_t C, size_t NH)
{
    rope_apply(out, inp, cos_tab, sin_tab, B, T, C, NH, 1.0f);
}

void cs_rope_backward_cpu(float *dinp, const float *dout, const float *cos_tab,
                          const float *sin_tab, size_t B, size_t T, size_t C, size_t NH)
{
    rope_apply(dinp, dout, cos_tab, sin_tab, B, T, C, NH, -1.0f);
}
