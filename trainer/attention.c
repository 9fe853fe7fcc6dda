/* trainer/attention.c: CPU twin of causal self-attention (trainer/attention.h), sgemm per
 * (sequence, head) in blocks of query rows, the heads split among OpenMP threads (each running
 * single-threaded sgemm, cs_vm_blas_serial). Test: tests/unit/test_attention.c. */
#include "trainer/attention.h"

#include "core/error.h"
#include "trainer/vecmath.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <string.h>

/* Query rows per sgemm block of the forward pass. Rows r0..r1−1 only see keys 0..r1−1, so a
 * block multiplies an (r1 − r0) × r1 slab: the products cost about half of the full T × T ones,
 * and the blocks are still large enough for sgemm to run at speed. */
#define ATT_BLOCK 64

/* Multiply-adds (B·NH·T²·HS) below which the heads run on one thread. */
#define ATT_PAR_MIN (1 << 18)

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

/* Threads for n_heads heads of T² · HS multiply-adds each, at most `cap`. */
static int head_threads(size_t n_heads, size_t T, size_t HS, size_t cap)
{
    size_t nt = (size_t)omp_get_max_threads();

    if ((double)n_heads * (double)T * (double)T * (double)HS < ATT_PAR_MIN)
        return 1;
    nt = nt < n_heads ? nt : n_heads;
    return (int)(nt < cap ? nt : cap);
}

/* Causal softmax of one row of scaled scores in place: entries 0..t become probabilities, the
 * rest of the row zeros. Sums in double. */
static void softmax_row(float *row, size_t t, size_t T)
{
    float mx = cs_vm_maxf(row, t + 1);
    double sum = 0.0;
    float inv;

#pragma omp simd reduction(+ : sum)
    for (size_t s = 0; s <= t; s++) {
        float e = cs_vm_expf(row[s] - mx);

        row[s] = e;
        sum += e;
    }
    inv = (float)(1.0 / sum);
#pragma omp simd
    for (size_t s = 0; s <= t; s++)
        row[s] *= inv;
    if (t + 1 < T)
        memset(row + t + 1, 0, (T - t - 1) * sizeof *row);
}

/* Forward pass of one head, block by block of query rows: scores att = q kᵀ / √HS, softmax,
 * out_h = att · v_h. q points at the head's channels in qkv (row stride 3C; k at +C, v at +2C);
 * att: (T, T); out points at the head's channels (row stride C). */
static void head_forward(float *out, float *att, const float *q, size_t T, size_t C, size_t HS)
{
    int ld3 = (int)(3 * C);
    float scale = (float)(1.0 / sqrt((double)HS));

    for (size_t r0 = 0; r0 < T; r0 += ATT_BLOCK) {
        size_t r1 = block_end(r0, T);

        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)r1, (int)HS,
                    scale, q + r0 * 3 * C, ld3, q + C, ld3, 0.0f, att + r0 * T, (int)T);
        for (size_t t = r0; t < r1; t++)
            softmax_row(att + t * T, t, T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), (int)HS, (int)r1,
                    1.0f, att + r0 * T, (int)T, q + 2 * C, ld3, 0.0f, out + r0 * C, (int)C);
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
    cs_vm_blas_serial();
#pragma omp parallel for schedule(static) num_threads(head_threads(B *NH, T, HS, B *NH))
    for (size_t bh = 0; bh < B * NH; bh++) {
        size_t b = bh / NH, h = bh % NH;

        head_forward(out + b * T * C + h * HS, att + bh * T * T, qkv + b * T * 3 * C + h * HS, T, C,
                     HS);
    }
}

/* Query rows per block of the backward pass: 64, halved until the (T, T) scratch holds at least
 * two blocks of (rows, T), so that two threads can work at once. Depends on T only. */
static size_t bwd_rows(size_t T)
{
    size_t R = 64;

    while (R > 1 && T / R < 2)
        R /= 2;
    return R;
}

/* Turns dP into dS in place for query rows r0..r0+nr−1 of one head, dp: (nr, r1) with r1 the
 * block's end: dS[t,s] = scale · P[t,s] (dP[t,s] − Σ_s' P[t,s'] dP[t,s']) for s ≤ t, 0 after. */
static void block_dscores(float *dp, const float *att, size_t r0, size_t nr, size_t r1, size_t T,
                          float scale)
{
    for (size_t i = 0; i < nr; i++) {
        size_t t = r0 + i;
        float *d = dp + i * r1;
        const float *p = att + t * T;
        double dot = 0.0;
        float dotf;

#pragma omp simd reduction(+ : dot)
        for (size_t s = 0; s <= t; s++)
            dot += (double)p[s] * d[s];
        dotf = (float)dot;
#pragma omp simd
        for (size_t s = 0; s <= t; s++)
            d[s] = scale * p[s] * (d[s] - dotf);
        if (t + 1 < r1)
            memset(d + t + 1, 0, (r1 - t - 1) * sizeof *d);
    }
}

/* Backward pass of one head in blocks of R query rows, each block's dS in dp ((R, T) scratch):
 * dP = dO · Vᵀ, dS, then dQ += dS · K, dK += dSᵀ · Q, dV += Pᵀ · dO over the keys the block
 * sees. dqkv, qkv: the head's q channels in (T, 3C) rows (k at +C, v at +2C); dout: the head's
 * channels in (T, C) rows; att: (T, T). */
static void head_backward(float *dqkv, float *dp, const float *dout, const float *qkv,
                          const float *att, size_t T, size_t C, size_t HS, size_t R)
{
    int ld3 = (int)(3 * C), hs = (int)HS;
    float scale = (float)(1.0 / sqrt((double)HS));

    for (size_t r0 = 0; r0 < T; r0 += R) {
        size_t r1 = r0 + R < T ? r0 + R : T;
        int nr = (int)(r1 - r0), nk = (int)r1;

        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nk, hs, 1.0f, dout + r0 * C,
                    (int)C, qkv + 2 * C, ld3, 0.0f, dp, nk);
        block_dscores(dp, att, r0, (size_t)nr, r1, T, scale);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hs, nk, 1.0f, dp, nk, qkv + C,
                    ld3, 1.0f, dqkv + r0 * 3 * C, ld3);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, hs, nr, 1.0f, dp, nk,
                    qkv + r0 * 3 * C, ld3, 1.0f, dqkv + C, ld3);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, hs, nr, 1.0f, att + r0 * T, (int)T,
                    dout + r0 * C, (int)C, 1.0f, dqkv + 2 * C, ld3);
    }
}

/* Thread k works on whole heads with rows k·R..(k+1)·R−1 of the scratch as its dS block; the
 * heads write disjoint channels of dqkv. */
void cs_attention_backward_cpu(float *dqkv, float *scratch, const float *dout, const float *qkv,
                               const float *att, size_t B, size_t T, size_t C, size_t NH)
{
    size_t HS, R;

    check_shape(T, C, NH);
    if (B == 0 || T == 0 || C == 0)
        return;
    HS = C / NH;
    R = bwd_rows(T);
    cs_vm_blas_serial();
#pragma omp parallel for schedule(static) num_threads(head_threads(B *NH, T, HS, T / R))
    for (size_t bh = 0; bh < B * NH; bh++) {
        size_t off3 = (bh / NH) * T * 3 * C + (bh % NH) * HS;
        size_t off1 = (bh / NH) * T * C + (bh % NH) * HS;
        float *dp = scratch + (size_t)omp_get_thread_num() * R * T;

        head_backward(dqkv + off3, dp, dout + off1, qkv + off3, att + bh * T * T, T, C, HS, R);
    }
}
