/* tests/parity/parity.h: the harness of the parity tests tests/parity/<op>.c, which compare each
 * CPU twin (trainer/<op>.c) with its CUDA twin (trainer/cuda/<op>.cu) on the same seeded random
 * inputs, both reached through their ops tables (cs_cpu_ops, cs_cuda_ops), so a miswired table
 * entry fails too. Header-only (static inline); STYLE.md, "CPU twin, CUDA kernel, parity test".
 *
 * A test calls parity_start (exit 77, skipped, when no CUDA device is usable), fills inputs with
 * parity_uniform, uploads them (parity_up), fills each output the GPU writes from scratch with
 * NaN (parity_poisoned: an element the kernel forgets to write fails), runs both twins, calls
 * parity_sync after each CUDA op, and compares with parity_check:
 *     |gpu − cpu| ≤ atol + rtol · |cpu|   for every element,
 * and, when tol.relnorm > 0, ‖gpu − cpu‖₂ / ‖cpu‖₂ ≤ relnorm (for reduced-precision products).
 * A NaN passes only where the CPU twin also gives NaN. Each failing check prints its first five
 * mismatches (index, both values), the largest absolute and relative errors and the NMSE (ggml's
 * measure); every check prints one line, so a log shows how close the passing ones were.
 * Built and run by `make test-gpu` (and `make test`, which counts exit 77 as skipped).
 */
#ifndef CS_TESTS_PARITY_PARITY_H
#define CS_TESTS_PARITY_PARITY_H

#include "core/error.h"
#include "core/rng.h"
#include "trainer/cuda/device.h"
#include "trainer/ops.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* AddressSanitizer's default options for the parity binaries (SANITIZE=1 builds; unused
 * otherwise): the CUDA driver maps memory where ASan would protect its shadow gap. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "protect_shadow_gap=0";
}

#define PARITY_SKIP 77
#define PARITY_SEED UINT64_C(0x5eed2026)

/* The odd sizes every op runs (STYLE.md): one element, either side of a warp, and sizes that are
 * not multiples of a block. Each test adds a realistic size, from GPT-2 124M. */
#define PARITY_NSIZES 5
static const size_t parity_sizes[PARITY_NSIZES] = {1, 31, 33, 1000, 4097};

typedef struct parity {
    const char *op;     /* the op under test, for messages */
    const cs_ops *cpu;  /* cs_cpu_ops() */
    const cs_ops *gpu;  /* cs_cuda_ops() */
    cs_rng rng;         /* the inputs' generator, seeded with PARITY_SEED */
    int checks, failed; /* parity_check calls, and how many failed */
} parity;

/* Tolerance of one check: |gpu − cpu| ≤ atol + rtol·|cpu| per element, and the relative L2 error
 * ≤ relnorm when relnorm > 0. */
typedef struct parity_tol {
    double atol, rtol, relnorm;
} parity_tol;

/* Prints "parity <op>: <what>: <last error>" and exits 1: a CUDA failure is a failed test. */
static inline void parity_die(const parity *p, const char *what)
{
    printf("parity %s: %s: %s\n", p->op, what, cs_errmsg());
    exit(1);
}

/* Starts a test: 0 when a device is usable, else prints why and returns PARITY_SKIP (the
 * caller returns it from main; the message is the log's last line, which tests/run.sh shows). */
static inline int parity_start(parity *p, const char *op)
{
    char desc[256];

    memset(p, 0, sizeof *p);
    p->op = op;
    p->cpu = cs_cpu_ops();
    if (cs_cuda_init() != CS_OK) {
        printf("parity %s: skipped, no usable CUDA device: %s\n", op, cs_errmsg());
        return PARITY_SKIP;
    }
    p->gpu = cs_cuda_ops();
    if (!p->gpu || strcmp(p->gpu->name, "cuda") != 0)
        parity_die(p, "cs_cuda_ops() gave no CUDA table although CUDA started");
    if (cs_cuda_describe(desc, sizeof desc))
        parity_die(p, "cs_cuda_describe");
    printf("parity %s on %s, matmul precision %s\n", op, desc, cs_cuda_matmul_precision());
    cs_rng_seed(&p->rng, PARITY_SEED, 0);
    return 0;
}

/* n floats of host memory (at least one), zeroed; exits on failure. */
static inline float *parity_host(const parity *p, size_t n)
{
    float *x = calloc(n ? n : 1, sizeof *x);

    if (!x)
        parity_die(p, "out of host memory");
    return x;
}

/* x[0..n) uniform in [lo, hi) from the test's generator. */
static inline void parity_uniform(parity *p, float *x, size_t n, float lo, float hi)
{
    cs_rng_fill_uniform(&p->rng, x, n, lo, hi);
}

/* `bytes` of device memory (at least 4); exits on failure. */
static inline void *parity_dev(const parity *p, size_t bytes)
{
    void *d = NULL;

    if (cs_cuda_alloc(&d, bytes ? bytes : 4))
        parity_die(p, "cs_cuda_alloc");
    return d;
}

/* A device copy of host array h (n floats). */
static inline float *parity_up(const parity *p, const float *h, size_t n)
{
    float *d = parity_dev(p, n * sizeof *d);

    if (cs_cuda_upload(d, h, n * sizeof *d))
        parity_die(p, "cs_cuda_upload");
    return d;
}

/* A device copy of host array h (n uint32). */
static inline uint32_t *parity_up_u32(const parity *p, const uint32_t *h, size_t n)
{
    uint32_t *d = parity_dev(p, n * sizeof *d);

    if (cs_cuda_upload(d, h, n * sizeof *d))
        parity_die(p, "cs_cuda_upload");
    return d;
}

/* Frees device memory from parity_dev, parity_up, parity_up_u32 or parity_poisoned. */
static inline void parity_free(void *d)
{
    cs_cuda_free(d);
}

/* n floats of device memory, every one NaN. */
static inline float *parity_poisoned(const parity *p, size_t n)
{
    float *h = parity_host(p, n);
    float *d;

    for (size_t i = 0; i < n; i++)
        h[i] = NAN;
    d = parity_up(p, h, n);
    free(h);
    return d;
}

/* Waits for the CUDA ops so far and exits 1 with the message if any failed. */
static inline void parity_sync(const parity *p, const char *what)
{
    if (cs_cuda_step_check())
        parity_die(p, what);
}

/* Downloads the n floats at gpu and compares them with cpu under `tol`; prints one line (and the
 * first mismatches). Returns 0 when they agree, else 1 (and counts the failure). */
static inline int parity_check(parity *p, const char *what, const float *cpu, const float *gpu,
                               size_t n, parity_tol tol)
{
    float *g = parity_host(p, n);
    double max_abs = 0.0, max_rel = 0.0, se = 0.0, sr = 0.0, relnorm;
    size_t bad = 0;
    int norm_bad;

    if (cs_cuda_download(g, gpu, n * sizeof *g))
        parity_die(p, what);
    for (size_t i = 0; i < n; i++) {
        double c = cpu[i], d = g[i], e = fabs(d - c);
        int ok;

        if (isnan(c) || isnan(d) || isinf(c) || isinf(d)) {
            ok = (isnan(c) && isnan(d)) || c == d;
        } else {
            ok = e <= tol.atol + tol.rtol * fabs(c);
            max_abs = e > max_abs ? e : max_abs;
            max_rel = c != 0.0 && e / fabs(c) > max_rel ? e / fabs(c) : max_rel;
            se += e * e;
            sr += c * c;
        }
        if (!ok && bad++ < 5)
            printf("    %s[%zu]: cpu %.9g, gpu %.9g\n", what, i, c, d);
    }
    relnorm = sr > 0.0 ? sqrt(se / sr) : sqrt(se);
    norm_bad = tol.relnorm > 0.0 && !(relnorm <= tol.relnorm);
    printf("%s %-30s n=%-9zu max|diff| %.3g, max rel %.3g, nmse %.3g, rel L2 %.3g "
           "(tol %.1e + %.1e|cpu|, rel L2 %.1e)\n",
           bad || norm_bad ? "FAIL" : "ok  ", what, n, max_abs, max_rel, relnorm * relnorm, relnorm,
           tol.atol, tol.rtol, tol.relnorm);
    if (bad)
        printf("     %zu of %zu elements out of tolerance\n", bad, n);
    if (norm_bad)
        printf("     relative L2 error %.3g above %.3g\n", relnorm, tol.relnorm);
    p->checks++;
    p->failed += bad != 0 || norm_bad;
    free(g);
    return bad != 0 || norm_bad;
}

/* The test's result: prints a summary and returns 0 (all checks passed) or 1. */
static inline int parity_end(const parity *p)
{
    printf("parity %s: %d checks, %d failed\n", p->op, p->checks, p->failed);
    return p->failed ? 1 : 0;
}

#endif /* CS_TESTS_PARITY_PARITY_H */
