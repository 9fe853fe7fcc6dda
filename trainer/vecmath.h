/* trainer/vecmath.h: inline helpers shared by the CPU twins of trainer/<op>.c (no CUDA twin):
 * an exp and a tanh in float that GCC vectorises inside `#pragma omp simd` loops (libm's expf
 * and tanhf are calls that stop vectorisation), the static split of a range among OpenMP
 * threads, and the switch that keeps OpenBLAS to the calling thread (the ops split their matrix
 * products among OpenMP threads themselves: one pool of threads, no second pool spinning
 * against it). Accuracy and edge cases are tested in tests/unit/test_vecmath.c; docs/trainer_ops.md
 * ("Performance") says why.
 */
#ifndef CS_TRAINER_VECMATH_H
#define CS_TRAINER_VECMATH_H

#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Below this argument e^x is subnormal in float: cs_vm_expf returns 0 there. */
#define CS_VM_EXP_LO (-87.33654f)
/* Above this argument cs_vm_expf returns +inf: 127.5 ln 2, just below, where 2^n would need
 * n = 128 (e^x overflows float from 88.7228). */
#define CS_VM_EXP_HI 88.37625f

/* Elements below which a memory-bound loop (a few streams of floats, little arithmetic) runs on
 * one thread: about half a millisecond of work or less. On an idle machine a parallel region
 * costs microseconds, but with other processes on the cores it costs up to a scheduler time
 * slice; such loops gain little from a second thread anyway (docs/trainer_ops.md). */
#define CS_VM_PAR_STREAM (1 << 20)

/* e^x in float, relative error below 2e-7 (about 2 ulp) for x in [CS_VM_EXP_LO, CS_VM_EXP_HI];
 * 0 below, +inf above, NaN for NaN. Cody–Waite reduction x = n ln2 + r, |r| ≤ ln2/2, a degree-7
 * polynomial for e^r (Cephes' expf coefficients), and 2^n built in the exponent bits. The
 * rounding of x/ln2 to the nearest integer uses the 1.5·2^23 trick, so the whole function is
 * float arithmetic, selects and integer adds: it vectorises. */
static inline float cs_vm_expf(float x)
{
    const float magic = 12582912.0f; /* 1.5 · 2^23: adding it rounds to an integer */
    float xc = x < CS_VM_EXP_LO ? CS_VM_EXP_LO : x;
    float t, n, r, p, scale, y;
    uint32_t tb, sb;

    xc = xc > CS_VM_EXP_HI ? CS_VM_EXP_HI : xc;
    t = xc * 1.44269504088896341f + magic;
    n = t - magic;
    memcpy(&tb, &t, sizeof tb);
    r = xc - n * 0.693359375f;   /* ln 2, high part (exact in float) */
    r = r - n * -2.12194440e-4f; /* ln 2, low part */
    p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    sb = (tb - 0x4B400000u + 127u) << 23; /* tb − bits(magic) = n; biased exponent of 2^n */
    memcpy(&scale, &sb, sizeof scale);
    y = p * scale;
    y = x < CS_VM_EXP_LO ? 0.0f : y;
    return x > CS_VM_EXP_HI ? (float)INFINITY : y;
}

/* tanh(x) in float from cs_vm_expf: sign(x) (1 − e) / (1 + e), e = e^(−2|x|). Absolute error
 * below 2e-7 everywhere (relative error grows near 0, where 1 − e cancels: ±1e-4 at |x| = 1e-3,
 * which the callers need only as 1 + tanh and 1 − tanh²); exactly ±1 for |x| > 44, NaN for NaN. */
static inline float cs_vm_tanhf(float x)
{
    float ax = x < 0.0f ? -x : x;
    float e = cs_vm_expf(-2.0f * ax);
    float t = (1.0f - e) / (1.0f + e);

    return x < 0.0f ? -t : t;
}

/* max_i x[i] over n ≥ 1 floats, ignoring NaN unless x[0] is NaN (as `x > m ? x : m` in order).
 * Eight running maxima that GCC keeps in registers (maxps); an `omp simd reduction(max:)` loop
 * goes through memory every iteration. */
static inline float cs_vm_maxf(const float *x, size_t n)
{
    float m[8];
    float r;
    size_t i = 0;

    for (int k = 0; k < 8; k++)
        m[k] = x[0];
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
    r = m[0];
    for (int k = 1; k < 8; k++)
        r = m[k] > r ? m[k] : r;
    for (; i < n; i++)
        r = x[i] > r ? x[i] : r;
    return r;
}

/* The part [*lo, *hi) of 0..n that thread `tid` of `nthreads` takes in a static split: equal
 * parts, each boundary rounded down to a multiple of `align` (≥ 1) except the last, which is n.
 * The parts depend only on n, align and nthreads. */
static inline void cs_vm_split(size_t n, size_t align, int tid, int nthreads, size_t *lo,
                               size_t *hi)
{
    size_t a = (size_t)tid * n / (size_t)nthreads;
    size_t b = (size_t)(tid + 1) * n / (size_t)nthreads;

    *lo = a / align * align;
    *hi = tid + 1 == nthreads ? n : b / align * align;
}

/* Keeps OpenBLAS to the calling thread (openblas_set_num_threads(1), once per process): the ops
 * call sgemm from inside their own OpenMP regions, one block of the product per thread. */
static inline void cs_vm_blas_serial(void)
{
    if (openblas_get_num_threads() != 1)
        openblas_set_num_threads(1);
}

#endif /* CS_TRAINER_VECMATH_H */
