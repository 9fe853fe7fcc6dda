/* trainer/matmul.c: CPU twin of the linear layer (trainer/matmul.h), on OpenBLAS's sgemm.
 * Test: tests/unit/test_matmul.c.
 *
 * Each product is split among the OpenMP threads into blocks of output rows or columns, one
 * single-threaded sgemm per thread (cs_vm_blas_serial): one pool of threads for the whole step,
 * the bias and bias-gradient passes inside the same parallel region, and a split that depends
 * only on the shape and the number of threads (deterministic). */
#include "trainer/matmul.h"

#include "core/error.h"
#include "trainer/vecmath.h"

#include <limits.h>
#include <omp.h>
#include <string.h>

/* Output channels per task when summing dbias over rows (a stack array of doubles). */
#define MM_CHUNK 64

/* Multiply-adds (BT·C·OC) below which a product runs on one thread. */
#define MM_PAR_MIN (1 << 18)

/* Block boundaries are multiples of this many rows or columns (whole SIMD registers and cache
 * lines for sgemm's packing). */
#define MM_ALIGN 16

static void check_sizes(size_t BT, size_t C, size_t OC)
{
    CS_ASSERT(BT <= INT_MAX && C <= INT_MAX && OC <= INT_MAX);
    CS_ASSERT(C > 0 && OC > 0); /* sgemm rejects a leading dimension of 0 */
}

static int n_threads(size_t BT, size_t C, size_t OC)
{
    return (double)BT * (double)C * (double)OC >= MM_PAR_MIN ? omp_get_max_threads() : 1;
}

/* out[r0:r1, o0:o1] = bias[o0:o1] + inp[r0:r1] · weight[o0:o1]ᵀ: the block of one thread. */
static void forward_block(float *out, const float *inp, const float *weight, const float *bias,
                          size_t C, size_t OC, size_t r0, size_t r1, size_t o0, size_t o1)
{
    float beta = 0.0f;

    if (r1 <= r0 || o1 <= o0)
        return;
    if (bias) { /* start from the bias and let sgemm add the product: one pass over out fewer */
        for (size_t r = r0; r < r1; r++)
            memcpy(out + r * OC + o0, bias + o0, (o1 - o0) * sizeof *out);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)(o1 - o0), (int)C,
                1.0f, inp + r0 * C, (int)C, weight + o0 * C, (int)C, beta, out + r0 * OC + o0,
                (int)OC);
}

void cs_matmul_forward_cpu(float *out, const float *inp, const float *weight, const float *bias,
                           size_t BT, size_t C, size_t OC)
{
    check_sizes(BT, C, OC);
    if (BT == 0)
        return;
    cs_vm_blas_serial();
#pragma omp parallel num_threads(n_threads(BT, C, OC))
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        size_t lo, hi;

        if (OC >= BT) { /* split the longer side: each thread packs a share of the larger matrix */
            cs_vm_split(OC, MM_ALIGN, t, nt, &lo, &hi);
            forward_block(out, inp, weight, bias, C, OC, 0, BT, lo, hi);
        } else {
            cs_vm_split(BT, MM_ALIGN, t, nt, &lo, &hi);
            forward_block(out, inp, weight, bias, C, OC, lo, hi, 0, OC);
        }
    }
}

/* dbias[o0:o1] += Σ_r dout[r, o], rows in order, in double (one lane per channel). */
static void dbias_block(float *dbias, const float *dout, size_t BT, size_t OC, size_t o0, size_t o1)
{
    for (size_t k0 = o0; k0 < o1; k0 += MM_CHUNK) {
        size_t k1 = k0 + MM_CHUNK < o1 ? k0 + MM_CHUNK : o1;
        double acc[MM_CHUNK] = {0};

        for (size_t r = 0; r < BT; r++) {
            const float *d = dout + r * OC + k0;

#pragma omp simd
            for (size_t o = 0; o < k1 - k0; o++)
                acc[o] += d[o];
        }
        for (size_t o = k0; o < k1; o++)
            dbias[o] += (float)acc[o - k0];
    }
}

/* dinp[:, c0:c1] or dinp[r0:r1, :] += dout · weight, the block of one thread. */
static void dinp_block(float *dinp, const float *dout, const float *weight, size_t BT, size_t C,
                       size_t OC, int t, int nt)
{
    size_t lo, hi;

    if (BT >= C) {
        cs_vm_split(BT, MM_ALIGN, t, nt, &lo, &hi);
        if (hi > lo)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(hi - lo), (int)C, (int)OC,
                        1.0f, dout + lo * OC, (int)OC, weight, (int)C, 1.0f, dinp + lo * C, (int)C);
    } else {
        cs_vm_split(C, MM_ALIGN, t, nt, &lo, &hi);
        if (hi > lo)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)BT, (int)(hi - lo), (int)OC,
                        1.0f, dout, (int)OC, weight + lo, (int)C, 1.0f, dinp + lo, (int)C);
    }
}

/* One parallel region: each thread adds its block of dinp, then its rows o0..o1 of dweight and
 * the same channels of dbias. The blocks are disjoint, so no barrier separates the parts. */
void cs_matmul_backward_cpu(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, size_t BT, size_t C, size_t OC)
{
    check_sizes(BT, C, OC);
    if (BT == 0)
        return;
    cs_vm_blas_serial();
#pragma omp parallel num_threads(n_threads(BT, C, OC))
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        size_t o0, o1;

        if (dinp)
            dinp_block(dinp, dout, weight, BT, C, OC, t, nt);
        cs_vm_split(OC, MM_ALIGN, t, nt, &o0, &o1);
        if (dweight && o1 > o0)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(o1 - o0), (int)C, (int)BT,
                        1.0f, dout + o0, (int)OC, inp, (int)C, 1.0f, dweight + o0 * C, (int)C);
        if (dbias && o1 > o0)
            dbias_block(dbias, dout, BT, OC, o0, o1);
    }
}
