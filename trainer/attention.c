/* trainer/attention.c: CPU twin of causal self-attention (trainer/attention.h), sgemm per
 * (sequence, head) in blocks of query rows. Test: tests/unit/test_attention.c. */
#include "trainer/attention.h"

#include "core/error.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>

/* Query rows per sgemm block. Rows r0..r1−1 only see keys 0..r1−1, so a block multiplies an
 * (r1 − r0) × r1 slab: the products cost about half of the full T × T ones, and the blocks are
 * still large enough for sgemm to run at speed. */
#define ATT_BLOCK 64

/* One past the last key column any sgemm touches for query row t: the end of t's block. */
static size_t block_end(size_t t, size_t T)
{
    size_t e = (t / ATT_BLOCK + 1) * ATT_BLOCK;

    return e < T ? e : T;
}

static void check_shape(size_t T, size_t C, size_t NH)
{
    CS_ASSERT(NH > 0 && C % NH == 0);
    CS_ASSERT(T <= INT_MAX && C <= INT_MAX / 3);
}

/* Causal softmax of one row of scaled scores in place: entries 0..t become probabilities, the
 * rest of the row zeros. Sums in double. */
static void softmax_row(float *row, size_t t, size_t T)
{
    float mx = row[0];
    double sum = 0.0;
    float inv;

    for (size_t s = 1; s <= t; s++)
        mx = row[s] > mx ? row[s] : mx;
    for (size_t s = 0; s <= t; s++) {
        row[s] = expf(row[s] - mx);
        sum += row[s];
    }
    inv = (float)(1.0 / sum);
    for (size_t s = 0; s <= t; s++)
        row[s] *= inv;
    for (size_t s = t + 1; s < T; s++)
        row[s] = 0.0f;
}

/* Scaled scores of one head: att[t, s] = q_t · k_s / √HS for s < block_end(t). q, k point at the
 * head's channels in qkv (row stride 3C); att: (T, T). */
static void head_scores(float *att, const float *q, const float *k, size_t T, size_t C, size_t HS)
{
    int ld = (int)(3 * C);
    float scale = (float)(1.0 / sqrt((double)HS));

    for (size_t r0 = 0; r0 < T; r0 += ATT_BLOCK) {
        size_t r1 = block_end(r0, T);

        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)r1, (int)HS,
                    scale, q + r0 * 3 * C, ld, k, ld, 0.0f, att + r0 * T, (int)T);
    }
}

/* out_h = att · v_h for one head; out points at the head's channels (row stride C). */
static void head_values(float *out, const float *att, const float *v, size_t T, size_t C, size_t HS)
{
    for (size_t r0 = 0; r0 < T; r0 += ATT_BLOCK) {
        size_t r1 = block_end(r0, T);

        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), (int)HS, (int)r1,
                    1.0f, att + r0 * T, (int)T, v, (int)(3 * C), 0.0f, out + r0 * C, (int)C);
    }
}

void cs_attention_forward_cpu(float *out, float *att, const float *qkv, size_t B, size_t T,
                              size_t C, size_t NH)
{
    size_t HS;

    check_shape(T, C, NH);
    if (B == 0 || T == 0 || C == 0)
        return;
    HS = C / NH;
    for (size_t bh = 0; bh < B * NH; bh++) {
        const float *q = qkv + (bh / NH) * T * 3 * C + (bh % NH) * HS;

        head_scores(att + bh * T * T, q, q + C, T, C, HS);
    }
    /* Row t costs O(t): dynamic chunks balance the triangle. Rows are independent, so the
     * result does not depend on the schedule. */
#pragma omp parallel for schedule(dynamic, 16) if (B * NH * T * T >= 16384)
    for (size_t row = 0; row < B * NH * T; row++)
        softmax_row(att + row * T, row % T, T);
    for (size_t bh = 0; bh < B * NH; bh++) {
        size_t b = bh / NH;
        size_t h = bh % NH;
        const float *v = qkv + b * T * 3 * C + 2 * C + h * HS;

        head_values(out + b * T * C + h * HS, att + bh * T * T, v, T, C, HS);
    }
}

/* Turns dP (scratch) into dS in place for rows t of one head, columns < block_end(t):
 * dS[t,s] = scale · P[t,s] (dP[t,s] − Σ_s' P[t,s'] dP[t,s']), and 0 for s > t. */
static void head_dscores(float *dp, const float *att, size_t T, float scale)
{
#pragma omp parallel for schedule(dynamic, 16) if (T * T >= 16384) /* rows cost O(t) */
    for (size_t t = 0; t < T; t++) {
        float *d = dp + t * T;
        const float *p = att + t * T;
        double dot = 0.0;
        float dotf;

        for (size_t s = 0; s <= t; s++)
            dot += (double)p[s] * d[s];
        dotf = (float)dot;
        for (size_t s = 0; s <= t; s++)
            d[s] = scale * p[s] * (d[s] - dotf);
        for (size_t s = t + 1; s < block_end(t, T); s++)
            d[s] = 0.0f;
    }
}

/* Backward pass of one head. dqkv, qkv: the head's q channels in (T, 3C) rows (k at +C, v at
 * +2C); dout: the head's channels in (T, C) rows; att: (T, T); dp: (T, T) scratch. */
static void head_backward(float *dqkv, float *dp, const float *dout, const float *qkv,
                          const float *att, size_t T, size_t C, size_t HS)
{
    int ld3 = (int)(3 * C);
    int hs = (int)HS;

    for (size_t r0 = 0; r0 < T; r0 += ATT_BLOCK) { /* dP = dO · Vᵀ, per query block */
        size_t r1 = block_end(r0, T);

        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)r1, hs, 1.0f,
                    dout + r0 * C, (int)C, qkv + 2 * C, ld3, 0.0f, dp + r0 * T, (int)T);
    }
    head_dscores(dp, att, T, (float)(1.0 / sqrt((double)HS)));
    for (size_t r0 = 0; r0 < T; r0 += ATT_BLOCK) { /* dQ = dS · K, per query block */
        size_t r1 = block_end(r0, T);

        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), hs, (int)r1, 1.0f,
                    dp + r0 * T, (int)T, qkv + C, ld3, 1.0f, dqkv + r0 * 3 * C, ld3);
    }
    for (size_t c0 = 0; c0 < T; c0 += ATT_BLOCK) { /* per key block: queries c0..T−1 see it */
        int nk = (int)(block_end(c0, T) - c0);
        int nq = (int)(T - c0);

        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, hs, nq, 1.0f, att + c0 * T + c0,
                    (int)T, dout + c0 * C, (int)C, 1.0f, dqkv + c0 * 3 * C + 2 * C, ld3);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, hs, nq, 1.0f, dp + c0 * T + c0,
                    (int)T, qkv + c0 * 3 * C, ld3, 1.0f, dqkv + c0 * 3 * C + C, ld3);
    }
}

void cs_attention_backward_cpu(float *dqkv, float *scratch, const float *dout, const float *qkv,
                               const float *att, size_t B, size_t T, size_t C, size_t NH)
{
    size_t HS;

    check_shape(T, C, NH);
    if (B == 0 || T == 0 || C == 0)
        return;
    HS = C / NH;
    for (size_t bh = 0; bh < B * NH; bh++) {
        size_t off3 = (bh / NH) * T * 3 * C + (bh % NH) * HS;
        size_t off1 = (bh / NH) * T * C + (bh % NH) * HS;

        head_backward(dqkv + off3, scratch, dout + off1, qkv + off3, att + bh * T * T, T, C, HS);
    }
}
