/* trainer/matmul.c: CPU twin of the linear layer (trainer/matmul.h), on OpenBLAS's sgemm.
 * Test: tests/unit/test_matmul.c. */
#include "trainer/matmul.h"

#include "core/error.h"

#include <cblas.h>
#include <limits.h>

/* Output channels per task when summing dbias over rows (a stack array of doubles). */
#define MM_CHUNK 64

static void check_sizes(size_t BT, size_t C, size_t OC)
{
    CS_ASSERT(BT <= INT_MAX && C <= INT_MAX && OC <= INT_MAX);
    CS_ASSERT(C > 0 && OC > 0); /* sgemm rejects a leading dimension of 0 */
}

void cs_matmul_forward_cpu(float *out, const float *inp, const float *weight, const float *bias,
                           size_t BT, size_t C, size_t OC)
{
    float beta = 0.0f;

    check_sizes(BT, C, OC);
    if (BT == 0)
        return;
    if (bias) {
        /* Start from the bias and let sgemm add the product: one pass over out fewer. */
#pragma omp parallel for schedule(static) if (BT * OC >= 65536)
        for (size_t r = 0; r < BT; r++)
            for (size_t o = 0; o < OC; o++)
                out[r * OC + o] = bias[o];
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)BT, (int)OC, (int)C, 1.0f, inp,
                (int)C, weight, (int)C, beta, out, (int)OC);
}

static void dbias_chunk(float *dbias, const float *dout, size_t BT, size_t OC, size_t o0, size_t o1)
{
    double acc[MM_CHUNK] = {0};

    for (size_t r = 0; r < BT; r++)
        for (size_t o = o0; o < o1; o++)
            acc[o - o0] += dout[r * OC + o];
    for (size_t o = o0; o < o1; o++)
        dbias[o] += (float)acc[o - o0];
}

void cs_matmul_backward_cpu(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, size_t BT, size_t C, size_t OC)
{
    size_t n_chunks = (OC + MM_CHUNK - 1) / MM_CHUNK;

    check_sizes(BT, C, OC);
    if (BT == 0)
        return;
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)BT, (int)C, (int)OC, 1.0f, dout,
                    (int)OC, weight, (int)C, 1.0f, dinp, (int)C);
    if (dweight)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)C, (int)BT, 1.0f, dout,
                    (int)OC, inp, (int)C, 1.0f, dweight, (int)C);
    if (dbias) {
#pragma omp parallel for schedule(static) if (BT * OC >= 65536)
        for (size_t k = 0; k < n_chunks; k++) {
            size_t o0 = k * MM_CHUNK;
            size_t o1 = o0 + MM_CHUNK < OC ? o0 + MM_CHUNK : OC;

            dbias_chunk(dbias, dout, BT, OC, o0, o1);
        }
    }
}
