/* tests/parity/attention.c: the causal-attention twins, trainer/attention.c against
 * trainer/cuda/attention.cu, on seeded qkv and dout in [-3, 3]: T at 1, 31, 33, 1000 (B = 2,
 * C = 64, 2 heads) and 4097 (B = 1, one head of 64), head sizes 2 and 33 (C = 62 with 31 heads,
 * C = 99 with 3), and GPT-2 124M's layer (B = 2, T = 1024, C = 768, 12 heads). Forward (out and
 * the probabilities att, upper triangle included) and backward accumulating into a random dqkv.
 * Harness: tests/parity/parity.h. Run by `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/attention.h"

/* Measured on the CPU at these sizes and input ranges (scores of standard deviation 3, so the
 * softmax is peaked): the CPU twin against a plain float implementation (sequential sums with
 * fused multiply-adds, expf; the least accurate order a GPU kernel could use) differs by at
 * most 5.3e-6 in att, 1.7e-5 in out and 4.4e-5 in dqkv (T = 4097; values up to 1, 3 and 18),
 * relative L2 error at most 1.3e-6. The bounds leave a factor of about 4. */
static const parity_tol TOL_ATT = {2e-5, 1e-5, 1e-5};
static const parity_tol TOL_OUT = {1e-4, 1e-5, 1e-5};
static const parity_tol TOL_DQKV = {2e-4, 1e-5, 1e-5};

static void run(parity *p, size_t B, size_t T, size_t C, size_t NH)
{
    size_t n3 = B * T * 3 * C, n1 = B * T * C, na = B * NH * T * T;
    float *qkv = parity_host(p, n3), *out = parity_host(p, n1), *att = parity_host(p, na);
    float *dout = parity_host(p, n1), *dqkv = parity_host(p, n3), *scratch;
    float *d_qkv, *d_out, *d_att, *d_dout, *d_dqkv, *d_scratch;

    scratch = parity_host(p, T * T);
    parity_uniform(p, qkv, n3, -3.0f, 3.0f);
    parity_uniform(p, dout, n1, -3.0f, 3.0f);
    parity_uniform(p, dqkv, n3, -1.0f, 1.0f);
    d_qkv = parity_up(p, qkv, n3), d_dout = parity_up(p, dout, n1);
    d_dqkv = parity_up(p, dqkv, n3);
    d_out = parity_poisoned(p, n1), d_att = parity_poisoned(p, na);
    d_scratch = parity_poisoned(p, T * T);
    printf("  B = %zu, T = %zu, C = %zu, NH = %zu\n", B, T, C, NH);

    p->cpu->attention_forward(out, att, qkv, B, T, C, NH);
    p->gpu->attention_forward(d_out, d_att, d_qkv, B, T, C, NH);
    parity_sync(p, "attention_forward");
    parity_check(p, "attention_forward out", out, d_out, n1, TOL_OUT);
    parity_check(p, "attention_forward att", att, d_att, na, TOL_ATT);

    /* both backward passes read the CPU's probabilities: each check sees one twin's error */
    if (cs_cuda_upload(d_att, att, na * sizeof *att))
        parity_die(p, "cs_cuda_upload");
    p->cpu->attention_backward(dqkv, scratch, dout, qkv, att, B, T, C, NH);
    p->gpu->attention_backward(d_dqkv, d_scratch, d_dout, d_qkv, d_att, B, T, C, NH);
    parity_sync(p, "attention_backward");
    parity_check(p, "attention_backward dqkv", dqkv, d_dqkv, n3, TOL_DQKV);

    parity_free(d_qkv), parity_free(d_out), parity_free(d_att), parity_free(d_dout);
    parity_free(d_dqkv), parity_free(d_scratch);
    free(qkv), free(out), free(att), free(dout), free(dqkv), free(scratch);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "attention");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++) {
        size_t T = parity_sizes[i];

        if (T < 4000)
            run(&p, 2, T, 64, 2);
        else
            run(&p, 1, T, 64, 1);
    }
    run(&p, 3, 33, 62, 31);
    run(&p, 2, 31, 99, 3);
    run(&p, 2, 1024, 768, 12);
    return parity_end(&p);
}
