/* tests/parity/gelu.c: the GELU twins, trainer/gelu.c against trainer/cuda/gelu.cu, on seeded
 * inputs in [-3, 3] at n = 1, 31, 33, 1000, 4097 and the MLP activation of GPT-2 124M at B = 4,
 * T = 1024 (B·T·4C floats); forward out of place and in place, backward accumulating into a
 * random dinp. Harness: tests/parity/parity.h. Run by `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/gelu.h"

/* Both twins evaluate x / (1 + e^(−2u)) in float; they differ only in the exp (CUDA's expf, 2
 * ulp, against the CPU's polynomial, 2e-7 relative) and in the GPU contracting u's products into
 * fused multiply-adds: a few float ulps of outputs below 3 in magnitude, so 1e-5 relative (llm.c's
 * elementwise tolerance) with 1e-6 absolute for outputs near 0. */
static const parity_tol TOL_FORWARD = {1e-6, 1e-5, 0.0};
/* gelu' sums two terms of opposite sign near x = −0.75 (cancellation), then the product with
 * dout is added to dinp. Emulated on the CPU (libm's expf, fused multiply-adds where nvcc would
 * contract) the worst element reaches half of 2e-6 + 1e-5·|cpu|; 4e-6 leaves a factor of 4. */
static const parity_tol TOL_BACKWARD = {4e-6, 1e-5, 0.0};

#define REALISTIC ((size_t)4 * 1024 * 4 * 768)

static void run(parity *p, size_t n)
{
    float *in = parity_host(p, n), *dout = parity_host(p, n);
    float *out = parity_host(p, n), *dinp = parity_host(p, n);
    float *d_in, *d_dout, *d_out, *d_dinp;

    parity_uniform(p, in, n, -3.0f, 3.0f);
    parity_uniform(p, dout, n, -3.0f, 3.0f);
    parity_uniform(p, dinp, n, -1.0f, 1.0f);
    d_in = parity_up(p, in, n);
    d_dout = parity_up(p, dout, n);
    d_dinp = parity_up(p, dinp, n);
    d_out = parity_poisoned(p, n);

    p->cpu->gelu_forward(out, in, n);
    p->gpu->gelu_forward(d_out, d_in, n);
    parity_sync(p, "gelu_forward");
    parity_check(p, "gelu_forward", out, d_out, n, TOL_FORWARD);

    p->cpu->gelu_backward(dinp, in, dout, n);
    p->gpu->gelu_backward(d_dinp, d_in, d_dout, n);
    parity_sync(p, "gelu_backward");
    parity_check(p, "gelu_backward", dinp, d_dinp, n, TOL_BACKWARD);

    p->gpu->gelu_forward(d_in, d_in, n); /* in place, as the header allows */
    parity_sync(p, "gelu_forward in place");
    parity_check(p, "gelu_forward in place", out, d_in, n, TOL_FORWARD);

    parity_free(d_in), parity_free(d_dout), parity_free(d_out), parity_free(d_dinp);
    free(in), free(dout), free(out), free(dinp);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "gelu");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++)
        run(&p, parity_sizes[i]);
    run(&p, REALISTIC);
    return parity_end(&p);
}
