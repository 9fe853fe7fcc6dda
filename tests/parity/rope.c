/* tests/parity/rope.c: the rotary-embedding twins, trainer/rope.c against trainer/cuda/rope.cu,
 * on seeded qkv in [-3, 3] with tables from cs_rope_fill_tables (θ = 10,000 and 500,000): T at
 * 1, 31, 33, 1000, 4097 with small heads, C at 31·2 = 62 and 33·2 = 66 (head sizes 2 and 6),
 * and GPT-2 124M's attention input (B = 4, T = 1024, C = 768, 12 heads). Forward and backward,
 * out of place and in place. Harness: tests/parity/parity.h. Run by `make test-gpu`; exit 77
 * without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/rope.h"

/* Two products and a sum per output in float; the GPU may fuse one product into the sum (a
 * fused multiply-add rounds once instead of twice): within 1 ulp of |x0 c| + |x1 s| ≤ 6, so
 * 1e-6 absolute and relative. v is copied: exact, inside the same tolerance. */
static const parity_tol TOL = {1e-6, 1e-6, 0.0};
/* Backward applied in place to the GPU's own forward result: the forward difference (≤ 1e-6)
 * carried through a rotation, which keeps its size, plus the backward's own: 2e-6. */
static const parity_tol TOL_TWICE = {2e-6, 2e-6, 0.0};

static void run(parity *p, size_t B, size_t T, size_t C, size_t NH, double theta)
{
    size_t n = B * T * 3 * C, HS = C / NH, tab = T * HS / 2;
    float *in = parity_host(p, n), *out = parity_host(p, n), *back = parity_host(p, n);
    float *cs = parity_host(p, tab), *sn = parity_host(p, tab);
    float *d_in, *d_out, *d_cs, *d_sn;

    if (cs_rope_fill_tables(cs, sn, T, HS, theta))
        parity_die(p, "cs_rope_fill_tables");
    parity_uniform(p, in, n, -3.0f, 3.0f);
    d_in = parity_up(p, in, n);
    d_cs = parity_up(p, cs, tab);
    d_sn = parity_up(p, sn, tab);
    d_out = parity_poisoned(p, n);
    printf("  B = %zu, T = %zu, C = %zu, NH = %zu, theta = %g\n", B, T, C, NH, theta);

    p->cpu->rope_forward(out, in, cs, sn, B, T, C, NH);
    p->gpu->rope_forward(d_out, d_in, d_cs, d_sn, B, T, C, NH);
    parity_sync(p, "rope_forward");
    parity_check(p, "rope_forward", out, d_out, n, TOL);

    p->cpu->rope_backward(back, in, cs, sn, B, T, C, NH);
    p->gpu->rope_backward(d_out, d_in, d_cs, d_sn, B, T, C, NH);
    parity_sync(p, "rope_backward");
    parity_check(p, "rope_backward", back, d_out, n, TOL);

    p->gpu->rope_forward(d_in, d_in, d_cs, d_sn, B, T, C, NH); /* in place, as the model runs */
    parity_sync(p, "rope_forward in place");
    parity_check(p, "rope_forward in place", out, d_in, n, TOL);
    p->cpu->rope_backward(back, out, cs, sn, B, T, C, NH);
    p->gpu->rope_backward(d_in, d_in, d_cs, d_sn, B, T, C, NH);
    parity_sync(p, "rope_backward in place");
    parity_check(p, "rope_backward in place", back, d_in, n, TOL_TWICE);

    parity_free(d_in), parity_free(d_out), parity_free(d_cs), parity_free(d_sn);
    free(in), free(out), free(back), free(cs), free(sn);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "rope");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++)
        run(&p, 2, parity_sizes[i], 8, 2, 1e4);
    run(&p, 3, 17, 62, 31, 1e4);
    run(&p, 3, 17, 66, 11, 5e5);
    run(&p, 4, 1024, 768, 12, 1e4);
    return parity_end(&p);
}
