/* trainer/cuda/layernorm.cu: CUDA twin of LayerNorm (trainer/layernorm.h; CPU twin
 * trainer/layernorm.c). Parity test: tests/parity/layernorm.c.
 *
 * One warp per row. As the CPU twin, the row statistics are two passes in double (mean, then the
 * sum of squared deviations), and the backward pass's two row means are double sums; the sums
 * run in a fixed tree (lane partials, then a shuffle tree), so the results are deterministic.
 * dweight and dbias are column sums over the rows, in double: one thread per (channel, row
 * residue mod 32) adds its rows in order, then the 32 partials of a channel are added in a
 * fixed order (no atomics). The elementwise expressions round each product and sum as the CPU
 * twin does (__fmul_rn, __fadd_rn: no fused multiply-add), because the backward pass subtracts
 * nearly equal terms and a fused product would change the difference by far more than an ulp
 * (at C = 1 it is the whole result).
 */
#include "trainer/cuda/kernel.h"
#include "trainer/layernorm.h"

#define LN_WARPS 8 /* rows (warps) per block */

static __global__ void layernorm_forward_kernel(float *__restrict__ out, float *__restrict__ mean,
                                                float *__restrict__ rstd,
                                                const float *__restrict__ inp,
                                                const float *__restrict__ weight,
                                                const float *__restrict__ bias, size_t BT, size_t C)
{
    size_t row = (size_t)blockIdx.x * LN_WARPS + threadIdx.x / 32;
    unsigned lane = threadIdx.x % 32;
    const float *x = inp + row * C;
    double sum = 0.0, ss = 0.0, m;
    float mf, sf;

    if (row >= BT) /* the whole warp leaves together */
        return;
    for (size_t c = lane; c < C; c += 32)
        sum += x[c];
    m = cs_warp_sum(sum) / (double)C;
    for (size_t c = lane; c < C; c += 32) {
        double d = x[c] - m;

        ss += d * d;
    }
    ss = cs_warp_sum(ss);
    mf = (float)m;
    sf = (float)(1.0 / sqrt(ss / (double)C + CS_LAYERNORM_EPS));
    for (size_t c = lane; c < C; c += 32)
        out[row * C + c] = __fadd_rn(__fmul_rn(__fmul_rn(x[c] - mf, sf), weight[c]), bias[c]);
    if (lane == 0) {
        mean[row] = mf;
        rstd[row] = sf;
    }
}

static __global__ void layernorm_dinp_kernel(float *__restrict__ dinp,
                                             const float *__restrict__ dout,
                                             const float *__restrict__ inp,
                                             const float *__restrict__ weight,
                                             const float *__restrict__ mean,
                                             const float *__restrict__ rstd, size_t BT, size_t C)
{
    size_t row = (size_t)blockIdx.x * LN_WARPS + threadIdx.x / 32;
    unsigned lane = threadIdx.x % 32;
    const float *x = inp + row * C, *dy = dout + row * C;
    double s_dn = 0.0, s_dnx = 0.0;
    float mu, rs, m_dn, m_dnx;

    if (row >= BT)
        return;
    mu = mean[row];
    rs = rstd[row];
    for (size_t c = lane; c < C; c += 32) {
        double dn = (double)dy[c] * weight[c];

        s_dn += dn;
        s_dnx += dn * ((x[c] - mu) * rs);
    }
    m_dn = (float)(cs_warp_sum(s_dn) / (double)C);
    m_dnx = (float)(cs_warp_sum(s_dnx) / (double)C);
    for (size_t c = lane; c < C; c += 32) {
        float xhat = (x[c] - mu) * rs;
        float g = __fsub_rn(__fsub_rn(__fmul_rn(dy[c], weight[c]), m_dn), __fmul_rn(xhat, m_dnx));

        dinp[row * C + c] += __fmul_rn(rs, g);
    }
}

/* Block of 32 × 32 threads for 32 channels: thread (tx, ty) sums rows ty, ty + 32, ... of
 * channel c0 + tx (coalesced: a warp reads 32 neighbouring channels of one row), then thread
 * (tx, 0) adds the 32 partials in order. */
static __global__ void layernorm_dparams_kernel(float *__restrict__ dweight,
                                                float *__restrict__ dbias,
                                                const float *__restrict__ dout,
                                                const float *__restrict__ inp,
                                                const float *__restrict__ mean,
                                                const float *__restrict__ rstd, size_t BT, size_t C)
{
    __shared__ double sw[32][33];
    __shared__ double sb[32][33];
    unsigned tx = threadIdx.x, ty = threadIdx.y;
    size_t c = (size_t)blockIdx.x * 32 + tx;
    double aw = 0.0, ab = 0.0;

    if (c < C) {
        for (size_t r = ty; r < BT; r += 32) {
            float dy = dout[r * C + c];

            aw += (double)dy * ((inp[r * C + c] - mean[r]) * rstd[r]);
            ab += dy;
        }
    }
    sw[ty][tx] = aw;
    sb[ty][tx] = ab;
    __syncthreads();
    if (ty != 0 || c >= C)
        return;
    for (int k = 1; k < 32; k++) {
        aw += sw[k][tx];
        ab += sb[k][tx];
    }
    if (dweight)
        dweight[c] += (float)aw;
    if (dbias)
        dbias[c] += (float)ab;
}

extern "C" void cs_layernorm_forward_cuda(float *out, float *mean, float *rstd, const float *inp,
                                          const float *weight, const float *bias, size_t BT,
                                          size_t C)
{
    if (BT == 0 || C == 0)
        return;
    layernorm_forward_kernel<<<(unsigned)((BT + LN_WARPS - 1) / LN_WARPS), LN_WARPS * 32, 0,
                               cs_cuda_stream()>>>(out, mean, rstd, inp, weight, bias, BT, C);
}

extern "C" void cs_layernorm_backward_cuda(float *dinp, float *dweight, float *dbias,
                                           const float *dout, const float *inp, const float *weight,
                                           const float *mean, const float *rstd, size_t BT,
                                           size_t C)
{
    if (BT == 0 || C == 0)
        return;
    if (dinp)
        layernorm_dinp_kernel<<<(unsigned)((BT + LN_WARPS - 1) / LN_WARPS), LN_WARPS * 32, 0,
                                cs_cuda_stream()>>>(dinp, dout, inp, weight, mean, rstd, BT, C);
    if (dweight || dbias)
        layernorm_dparams_kernel<<<(unsigned)((C + 31) / 32), dim3(32, 32), 0, cs_cuda_stream()>>>(
            dweight, dbias, dout, inp, mean, rstd, BT, C);
}
