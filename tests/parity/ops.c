/* tests/parity/ops.c: the CUDA ops table, trainer/cuda/ops.cu, against the CPU table,
 * trainer/ops.c: every entry set and distinct from the CPU's, the name "cuda", and the two
 * memory helpers (zero, copy) on seeded data at n = 1, 31, 33, 1000, 4097 and a 124M-sized
 * buffer (the gradient of the model, 124,475,904 floats). Harness: tests/parity/parity.h. Run by
 * `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"

/* Zeroing and copying are exact. */
static const parity_tol TOL_EXACT = {0.0, 0.0, 0.0};

#define REALISTIC ((size_t)124475904)

/* Every entry of the CUDA table is set and differs from the CPU table's (a copy-paste slip in
 * the table would point a CUDA entry at a CPU twin, which would crash on device pointers). */
static void check_table(parity *p)
{
    typedef void (*fn)(void);
    fn g[sizeof(cs_ops) / sizeof(fn)], c[sizeof(cs_ops) / sizeof(fn)];
    size_t n = (sizeof(cs_ops) - sizeof(const char *)) / sizeof(fn);
    int bad = 0;

    /* cs_ops is the name followed by function pointers only (trainer/ops.h) */
    memcpy(g, (const char *)p->gpu + sizeof(const char *), n * sizeof(fn));
    memcpy(c, (const char *)p->cpu + sizeof(const char *), n * sizeof(fn));
    for (size_t i = 0; i < n; i++) {
        if (!g[i] || g[i] == c[i]) {
            printf("FAIL ops table entry %zu is %s\n", i, g[i] ? "the CPU twin" : "NULL");
            bad = 1;
        }
    }
    printf("%s ops table: name \"%s\", %zu entries\n", bad ? "FAIL" : "ok  ", p->gpu->name, n);
    p->checks++;
    p->failed += bad;
}

static void run(parity *p, size_t n)
{
    float *src = parity_host(p, n), *zero = parity_host(p, n);
    float *d_src, *d_dst;

    parity_uniform(p, src, n, -3.0f, 3.0f);
    d_src = parity_up(p, src, n);
    d_dst = parity_poisoned(p, n);
    printf("  n = %zu\n", n);

    p->gpu->copy(d_dst, d_src, n);
    parity_sync(p, "copy");
    parity_check(p, "copy", src, d_dst, n, TOL_EXACT);
    p->gpu->zero(d_dst, n);
    parity_sync(p, "zero");
    parity_check(p, "zero", zero, d_dst, n, TOL_EXACT);
    p->gpu->copy(d_src, d_src, n); /* onto itself: nothing to do */
    parity_sync(p, "copy onto itself");
    parity_check(p, "copy onto itself", src, d_src, n, TOL_EXACT);

    parity_free(d_src), parity_free(d_dst);
    free(src), free(zero);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "ops");

    if (st)
        return st;
    check_table(&p);
    for (size_t i = 0; i < PARITY_NSIZES; i++)
        run(&p, parity_sizes[i]);
    run(&p, REALISTIC);
    return parity_end(&p);
}
