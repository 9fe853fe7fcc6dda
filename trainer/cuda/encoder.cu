/* trainer/cuda/encoder.cu: CUDA twin of the token embedding lookup (trainer/encoder.h; CPU
 * twin trainer/encoder.c). Parity test: tests/parity/encoder.c.
 *
 * The backward pass is deterministic and bit for bit the CPU twin's: every element
 * dwte[v, c] is owned by one thread, which adds the rows r with tokens[r] = v in the order
 * r = 0, 1, ... as the CPU does, with no atomics. Each block owns a range of token ids and a
 * range of channels; its warps scan the tokens 32 at a time (one ballot per 32) and add only the
 * rows whose token falls in the block's range. Every row is added by exactly one block, so the
 * work is B·T·C adds plus a scan of the tokens per block; a block whose range holds very
 * frequent tokens does more of the adds (docs/cuda.md, "Performance").
 */
#include "trainer/cuda/kernel.h"
#include "trainer/encoder.h"

#include <assert.h>

/* out[r, c] = wte[tokens[r], c]. A token not below V trips the device-side assertion (the CPU
 * twin's CS_ASSERT): the kernel fails and cs_cuda_step_check() reports it. */
static __global__ void encoder_forward_kernel(float *__restrict__ out,
                                              const uint32_t *__restrict__ tokens,
                                              const float *__restrict__ wte, size_t BT, size_t C,
                                              size_t V)
{
    size_t n = BT * C, stride = (size_t)gridDim.x * blockDim.x;

    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        size_t r = i / C;
        uint32_t tok = tokens[r];

        assert(tok < V);
        out[i] = wte[(size_t)tok * C + (i - r * C)];
    }
}

/* Block (blockIdx.x, blockIdx.y) owns token ids [v0, v0 + span) and channel
 * c = blockIdx.y · blockDim.x + threadIdx.x. blockDim.x is a multiple of 32: every lane takes
 * part in the ballot, lanes past C only skip the adds. */
static __global__ void encoder_backward_kernel(float *__restrict__ dwte,
                                               const float *__restrict__ dout,
                                               const uint32_t *__restrict__ tokens, size_t BT,
                                               size_t C, size_t V, size_t span)
{
    size_t v0 = blockIdx.x * span, v1 = v0 + span < V ? v0 + span : V;
    size_t c = (size_t)blockIdx.y * blockDim.x + threadIdx.x;
    unsigned lane = threadIdx.x % 32;

    for (size_t r0 = 0; r0 < BT; r0 += 32) {
        size_t r = r0 + lane;
        uint32_t tok = r < BT ? tokens[r] : UINT32_MAX;
        unsigned mask = __ballot_sync(0xffffffffu, tok >= v0 && tok < v1);

        if (blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x < 32 && r < BT)
            assert(tok < V);
        while (mask) {
            int bit = __ffs(mask) - 1;
            size_t t = __shfl_sync(0xffffffffu, tok, bit);

            mask &= mask - 1;
            if (c < C)
                dwte[t * C + c] += dout[(r0 + bit) * C + c];
        }
    }
}

extern "C" void cs_encoder_forward_cuda(float *out, const uint32_t *tokens, const float *wte,
                                        size_t BT, size_t C, size_t V)
{
    if (BT * C == 0)
        return;
    encoder_forward_kernel<<<cs_cuda_grid(BT * C, CS_CUDA_THREADS), CS_CUDA_THREADS, 0,
                             cs_cuda_stream()>>>(out, tokens, wte, BT, C, V);
}

/* Token-id ranges: about two blocks per multiprocessor for each channel group, so that the
 * scans run side by side; the result does not depend on the split. */
extern "C" void cs_encoder_backward_cuda(float *dwte, const float *dout, const uint32_t *tokens,
                                         size_t BT, size_t C, size_t V)
{
    unsigned threads = C < CS_CUDA_THREADS ? (unsigned)((C + 31) / 32 * 32) : CS_CUDA_THREADS;
    size_t ranges = 2 * (size_t)cs_cuda_sm_count();
    size_t span;
    dim3 grid;

    if (BT == 0 || C == 0 || V == 0)
        return;
    ranges = ranges < V ? ranges : V;
    span = (V + ranges - 1) / ranges;
    grid.x = (unsigned)((V + span - 1) / span);
    grid.y = (unsigned)((C + threads - 1) / threads);
    encoder_backward_kernel<<<grid, threads, 0, cs_cuda_stream()>>>(dwte, dout, tokens, BT, C, V,
                                                                    span);
}
