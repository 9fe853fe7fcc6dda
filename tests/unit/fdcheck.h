/* tests/unit/fdcheck.h: helpers for the trainer op tests (header-only, static): random inputs,
 * float-vs-double comparisons, and gradient checks by central finite differences.
 *
 * The method, used by every tests/unit/test_<op>.c of a trainer op: the test holds a plain float64
 * reference of the op's forward pass. It checks the float32 op's forward output against that
 * reference, then its backward output against central differences of the float64 reference, for
 * the scalar objective L(x) = Σ_i g_i · f(x)_i with fixed random g (the g the backward pass gets
 * as dout). Taking the differences in float64 keeps them accurate: with step h = 1e-6 and inputs
 * of order 1, the truncation error is O(h²) ≈ 1e-12 and the rounding error ε₆₄·|L|/h ≈ 1e-9, both
 * far below the float32 op's own rounding error (≈ 1e-7 relative per operation, a few 1e-6 after
 * the short sums of these small shapes). So the tolerance measures the float32 op alone, and
 * FD_RTOL = 1e-4 with an absolute floor FD_ATOL = 1e-5 (for derivatives that are zero or tiny)
 * leaves room of about 30x over that rounding while any wrong term of a gradient (a missing
 * factor, a sign, an off-by-one position) is off by far more.
 *
 * Include after tests/testutil.h.
 */
#ifndef CS_TESTS_UNIT_FDCHECK_H
#define CS_TESTS_UNIT_FDCHECK_H

#include "core/rng.h"

#include <math.h>

#define FD_STEP 1e-6
#define FD_RTOL 1e-4
#define FD_ATOL 1e-5

/* A scalar function of the float64 inputs held in ctx (one of which the check perturbs). */
typedef double (*fd_objective)(void *ctx);

/* A float array of n uniform values in [lo, hi) from r; the caller frees it. */
static inline float *fd_rand(cs_rng *r, size_t n, float lo, float hi)
{
    float *x = malloc((n ? n : 1) * sizeof *x);

    assert_non_null(x);
    cs_rng_fill_uniform(r, x, n, lo, hi);
    return x;
}

/* A zeroed float array of n values; the caller frees it. */
static inline float *fd_zeros(size_t n)
{
    float *x = calloc(n ? n : 1, sizeof *x);

    assert_non_null(x);
    return x;
}

/* A zeroed double array of n values; the caller frees it. */
static inline double *fd_dzeros(size_t n)
{
    double *x = calloc(n ? n : 1, sizeof *x);

    assert_non_null(x);
    return x;
}

/* A float64 copy of x (n values); the caller frees it. */
static inline double *fd_widen(const float *x, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);

    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* A float copy of x (n values); the caller frees it. */
static inline float *fd_copy(const float *x, size_t n)
{
    float *c = malloc((n ? n : 1) * sizeof *c);

    assert_non_null(c);
    memcpy(c, x, n * sizeof *c);
    return c;
}

/* Σ_i g[i] · y[i] in double. */
static inline double fd_dot(const float *g, const double *y, size_t n)
{
    double s = 0.0;

    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * y[i];
    return s;
}

/* Whether |got − want| ≤ atol + rtol · |want|. */
static inline int fd_close(double got, double want, double rtol, double atol)
{
    return fabs(got - want) <= atol + rtol * fabs(want);
}

/* Asserts got[i] ≈ want[i] for i < n (fd_close); fails naming `what` and the first bad index. */
static inline void fd_assert_close(const float *got, const double *want, size_t n, double rtol,
                                   double atol, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!fd_close(got[i], want[i], rtol, atol))
            fail_msg("%s[%zu]: got %.9g, want %.9g (rtol %g, atol %g)", what, i, (double)got[i],
                     want[i], rtol, atol);
}

/* One probe of fd_check_grad at index j. */
static inline void fd_probe(const float *grad, double *x, size_t j, fd_objective f, void *ctx,
                            const char *what)
{
    double x0 = x[j];
    double fp;
    double fm;
    double num;

    x[j] = x0 + FD_STEP;
    fp = f(ctx);
    x[j] = x0 - FD_STEP;
    fm = f(ctx);
    x[j] = x0;
    num = (fp - fm) / (2.0 * FD_STEP);
    if (!fd_close(grad[j], num, FD_RTOL, FD_ATOL))
        fail_msg("%s[%zu]: analytic %.9g, central difference %.9g", what, j, (double)grad[j], num);
}

/* Checks an analytic gradient against central differences: for every `every`-th index j < n (and
 * the last), (f(x + h e_j) − f(x − h e_j)) / 2h must match grad[j] (fd_close with FD_RTOL,
 * FD_ATOL). x is one of the float64 inputs f reads through ctx; it is restored after each
 * probe. every = 1 checks all. Fails naming `what` and the index. */
static inline void fd_check_grad(const float *grad, double *x, size_t n, fd_objective f, void *ctx,
                                 size_t every, const char *what)
{
    if (every == 0)
        every = 1;
    for (size_t j = 0; j < n; j += every)
        fd_probe(grad, x, j, f, ctx, what);
    if (n > 0 && (n - 1) % every != 0)
        fd_probe(grad, x, n - 1, f, ctx, what);
}

/* Returns the difference after − before as a new float array (the part a backward pass added to
 * an accumulating gradient); the caller frees it. */
static inline float *fd_added(const float *after, const float *before, size_t n)
{
    float *d = fd_zeros(n);

    for (size_t i = 0; i < n; i++)
        d[i] = after[i] - before[i];
    return d;
}

#endif /* CS_TESTS_UNIT_FDCHECK_H */
