/* trainer/layernorm.c: CPU twin of LayerNorm (trainer/layernorm.h).
 * Test: tests/unit/test_layernorm.c. */
#include "trainer/layernorm.h"

#include <math.h>

/* Channels per task when summing dweight and dbias over rows (a stack array of doubles). */
#define LN_CHUNK 64

static void norm_row(float *out, float *mean, float *rstd, const float *x, const float *w,
                     const float *b, size_t C)
{
    double sum = 0.0;
    double ss = 0.0;
    double m;
    float mf;
    float sf;

    for (size_t c = 0; c < C; c++)
        sum += x[c];
    m = sum / (double)C;
    for (size_t c = 0; c < C; c++) {
        double d = x[c] - m;

        ss += d * d;
    }
    mf = (float)m;
    sf = (float)(1.0 / sqrt(ss / (double)C + CS_LAYERNORM_EPS));
    for (size_t c = 0; c < C; c++)
        out[c] = (x[c] - mf) * sf * w[c] + b[c];
    *mean = mf;
    *rstd = sf;
}

void cs_layernorm_forward_cpu(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, size_t BT, size_t C)
{
#pragma omp parallel for schedule(static) if (BT * C >= 16384)
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

    for (size_t c = 0; c < C; c++) {
        double dn = (double)dy[c] * w[c];

        s_dn += dn;
        s_dnx += dn * ((x[c] - mean) * rstd);
    }
    m_dn = (float)(s_dn / (double)C);
    m_dnx = (float)(s_dnx / (double)C);
    for (size_t c = 0; c < C; c++) {
        float xhat = (x[c] - mean) * rstd;

        dx[c] += rstd * (dy[c] * w[c] - m_dn - xhat * m_dnx);
    }
}

/* dweight[c0:c1] += Σ_r dy·xhat, dbias[c0:c1] += Σ_r dy, rows in order, in double. */
static void dparams_chunk(float *dw, float *db, const float *dout, const float *inp,
                          const float *mean, const float *rstd, size_t BT, size_t C, size_t c0,
                          size_t c1)
{
    double aw[LN_CHUNK] = {0};
    double ab[LN_CHUNK] = {0};

    for (size_t r = 0; r < BT; r++) {
        const float *dy = dout + r * C;
        const float *x = inp + r * C;

        for (size_t c = c0; c < c1; c++) {
            aw[c - c0] += (double)dy[c] * ((x[c] - mean[r]) * rstd[r]);
            ab[c - c0] += dy[c];
        }
    }
    for (size_t c = c0; c < c1; c++) {
        if (dw)
            dw[c] += (float)aw[c - c0];
        if (db)
            db[c] += (float)ab[c - c0];
    }
}

void cs_layernorm_backward_cpu(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean,
                               const float *rstd, size_t BT, size_t C)
{
    size_t n_chunks = (C + LN_CHUNK - 1) / LN_CHUNK;

    if (dinp) {
#pragma omp parallel for schedule(static) if (BT * C >= 16384)
        for (size_t r = 0; r < BT; r++)
            dinp_row(dinp + r * C, dout + r * C, inp + r * C, weight, mean[r], rstd[r], C);
    }
    if (dweight || dbias) {
#pragma omp parallel for schedule(static) if (BT * C >= 16384)
        for (size_t k = 0; k < n_chunks; k++) {
            size_t c0 = k * LN_CHUNK;
            size_t c1 = c0 + LN_CHUNK < C ? c0 + LN_CHUNK : C;

            dparams_chunk(dweight, dbias, dout, inp, mean, rstd, BT, C, c0, c1);
        }
    }
}
