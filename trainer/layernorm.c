/* trainer/layernorm.c: CPU twin of LayerNorm (trainer/layernorm.h).
 * Test: tests/unit/test_layernorm.c. */
#include "trainer/layernorm.h"

#include <math.h>

/* Channels per task when summing dweight and dbias over rows (a stack array of doubles). */
#define LN_CHUNK 64

/* Elements (BT·C) below which a pass runs on one thread (about 0.3 ms of work; see
 * CS_VM_PAR_STREAM in trainer/vecmath.h). */
#define LN_PAR_MIN (1 << 19)

/* Row statistics in double; the sums over channels are vectorised (a fixed order for a given
 * build, independent of the number of threads). */
static void norm_row(float *out, float *mean, float *rstd, const float *x, const float *w,
                     const float *b, size_t C)
{
    double sum = 0.0;
    double ss = 0.0;
    double m;
    float mf;
    float sf;

#pragma omp simd reduction(+ : sum)
    for (size_t c = 0; c < C; c++)
        sum += x[c];
    m = sum / (double)C;
#pragma omp simd reduction(+ : ss)
    for (size_t c = 0; c < C; c++) {
        double d = x[c] - m;

        ss += d * d;
    }
    mf = (float)m;
    sf = (float)(1.0 / sqrt(ss / (double)C + CS_LAYERNORM_EPS));
#pragma omp simd
    for (size_t c = 0; c < C; c++)
        out[c] = (x[c] - mf) * sf * w[c] + b[c];
    *mean = mf;
    *rstd = sf;
}

void cs_layernorm_forward_cpu(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, size_t BT, size_t C)
{
#pragma omp parallel for schedule(static) if (BT * C >= LN_PAR_MIN && BT > 1)
    for (size_t r = 0; r < BT; r++)
        norm_row(out + r * C, mean + r, rstd + r, inp + r * C, weight, bias, C);
}

static void dinp_row(float *dx, const float *dy, const float *x, const float *w, float mean,
                     float rstd, size_t C)
{
    double s_dn = 0.0;
    double s_dnx = 0.0;
    float m_dn;
    float m_dnx;

#pragma omp simd reduction(+ : s_dn, s_dnx)
    for (size_t c = 0; c < C; c++) {
        double dn = (double)dy[c] * w[c];

        s_dn += dn;
        s_dnx += dn * ((x[c] - mean) * rstd);
    }
    m_dn = (float)(s_dn / (double)C);
    m_dnx = (float)(s_dnx / (double)C);
#pragma omp simd
    for (size_t c = 0; c < C; c++) {
        float xhat = (x[c] - mean) * rstd;

        dx[c] += rstd * (dy[c] * w[c] - m_dn - xhat * m_dnx);
    }
}

/* dweight[c0:c1] += Σ_r dy·xhat, dbias[c0:c1] += Σ_r dy, rows in order, in double (each
 * channel is one lane of the vectorised loop, so the order over rows is kept). */
static void dparams_chunk(float *dw, float *db, const float *dout, const float *inp,
                          const float *mean, const float *rstd, size_t BT, size_t C, size_t c0,
                          size_t c1)
{
    double aw[LN_CHUNK] = {0};
    double ab[LN_CHUNK] = {0};

    for (size_t r = 0; r < BT; r++) {
        const float *dy = dout + r * C + c0;
        const float *x = inp + r * C + c0;
        float mu = mean[r];
        float rs = rstd[r];

#pragma omp simd
        for (size_t c = 0; c < c1 - c0; c++) {
            aw[c] += (double)dy[c] * ((x[c] - mu) * rs);
            ab[c] += dy[c];
        }
    }
    for (size_t c = c0; c < c1; c++) {
        if (dw)
            dw[c] += (float)aw[c - c0];
        if (db)
            db[c] += (float)ab[c - c0];
    }
}

/* One parallel region for both parts: the rows of dinp and the channel chunks of the parameter
 * gradients write disjoint memory, so the threads go from one to the other without a barrier. */
void cs_layernorm_backward_cpu(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean,
                               const float *rstd, size_t BT, size_t C)
{
    size_t n_chunks = (C + LN_CHUNK - 1) / LN_CHUNK;

#pragma omp parallel if (BT * C >= LN_PAR_MIN)
    {
        if (dinp) {
#pragma omp for schedule(static) nowait
            for (size_t r = 0; r < BT; r++)
                dinp_row(dinp + r * C, dout + r * C, inp + r * C, weight, mean[r], rstd[r], C);
        }
        if (dweight || dbias) {
#pragma omp for schedule(static)
            for (size_t k = 0; k < n_chunks; k++) {
                size_t c0 = k * LN_CHUNK;
                size_t c1 = c0 + LN_CHUNK < C ? c0 + LN_CHUNK : C;

                dparams_chunk(dweight, dbias, dout, inp, mean, rstd, BT, C, c0, c1);
            }
        }
    }
}
