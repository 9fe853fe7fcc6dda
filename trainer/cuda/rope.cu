/* trainer/cuda/rope.cu: CUDA twin of the rotary position embeddings (trainer/rope.h; CPU twin
 * trainer/rope.c). One thread per channel pair of a qkv row: pairs of q and k are rotated, pairs
 * of v copied. A thread reads its pair before writing it, so in place (out = inp) is safe.
 * Parity test: tests/parity/rope.c.
 */
#include "trainer/cuda/kernel.h"
#include "trainer/rope.h"

/* sign +1: the forward rotation; −1: its transpose (the backward pass). Row r of (B·T) has
 * 3C/2 pairs; pair p covers channels 2p, 2p + 1. */
static __global__ void rope_kernel(float *out, const float *inp, const float *__restrict__ cos_tab,
                                   const float *__restrict__ sin_tab, size_t BT, size_t T, size_t C,
                                   size_t HS, float sign)
{
    size_t pairs = 3 * C / 2, n = BT * pairs, stride = (size_t)gridDim.x * blockDim.x;

    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        size_t r = i / pairs, ch = 2 * (i - r * pairs);
        size_t at = r * 3 * C + ch;
        float x0 = inp[at], x1 = inp[at + 1];

        if (ch < 2 * C) {
            size_t k = (r % T) * (HS / 2) + (ch % HS) / 2;
            float c = cos_tab[k], s = sign * sin_tab[k];

            out[at] = x0 * c - x1 * s;
            out[at + 1] = x0 * s + x1 * c;
        } else if (out != inp) {
            out[at] = x0;
            out[at + 1] = x1;
        }
    }
}

static void rope_apply(float *out, const float *inp, const float *cos_tab, const float *sin_tab,
                       size_t B, size_t T, size_t C, size_t NH, float sign)
{
    size_t HS;

    CS_ASSERT(NH > 0 && C % NH == 0);
    HS = C / NH;
    CS_ASSERT(HS % 2 == 0);
    if (B * T * C == 0)
        return;
    rope_kernel<<<cs_cuda_grid(B * T * 3 * C / 2, CS_CUDA_THREADS), CS_CUDA_THREADS, 0,
                  cs_cuda_stream()>>>(out, inp, cos_tab, sin_tab, B * T, T, C, HS, sign);
}

extern "C" void cs_rope_forward_cuda(float *out, const float *inp, const float *cos_tab,
                                     const float *sin_tab, size_t B, size_t T, size_t C, size_t NH)
{
    rope_apply(out, inp, cos_tab, sin_tab, B, T, C, NH, 1.0f);
}

extern "C" void cs_rope_backward_cuda(float *dinp, const float *dout, const float *cos_tab,
                                      const float *sin_tab, size_t B, size_t T, size_t C, size_t NH)
{
    rope_apply(dinp, dout, cos_tab, sin_tab, B, T, C, NH, -1.0f);
}
