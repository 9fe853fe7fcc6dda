/* trainer/encoder.c: CPU twin of the token embedding lookup (trainer/encoder.h).
 * Test: tests/unit/test_encoder.c. */
#include "trainer/encoder.h"

#include "core/error.h"
#include "trainer/vecmath.h"

#include <string.h>

/* Channels per task of the backward pass: each task owns a slice of every row of dwte, so no two
 * threads add into the same float and the summation order is fixed. */
#define ENC_CHUNK 64

void cs_encoder_forward_cpu(float *out, const uint32_t *tokens, const float *wte, size_t BT,
                            size_t C, size_t V)
{
#pragma omp parallel for schedule(static) if (BT * C >= CS_VM_PAR_STREAM)
    for (size_t r = 0; r < BT; r++) {
        CS_ASSERT(tokens[r] < V);
        memcpy(out + r * C, wte + (size_t)tokens[r] * C, C * sizeof(float));
    }
}

void cs_encoder_backward_cpu(float *dwte, const float *dout, const uint32_t *tokens, size_t BT,
                             size_t C, size_t V)
{
    size_t n_chunks = (C + ENC_CHUNK - 1) / ENC_CHUNK;

    for (size_t r = 0; r < BT; r++)
        CS_ASSERT(tokens[r] < V);
#pragma omp parallel for schedule(static) if (BT * C >= CS_VM_PAR_STREAM)
    for (size_t k = 0; k < n_chunks; k++) {
        size_t c0 = k * ENC_CHUNK;
        size_t c1 = c0 + ENC_CHUNK < C ? c0 + ENC_CHUNK : C;

        for (size_t r = 0; r < BT; r++) {
            float *dst = dwte + (size_t)tokens[r] * C;
            const float *src = dout + r * C;

            for (size_t c = c0; c < c1; c++)
                dst[c] += src[c];
        }
    }
}
