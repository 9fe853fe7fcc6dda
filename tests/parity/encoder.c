/* tests/parity/encoder.c: the token-embedding twins, trainer/encoder.c against
 * trainer/cuda/encoder.cu: B·T positions and channels C each at 1, 31, 33, 1000, 4097, small
 * vocabularies (tokens repeat many times, so the backward pass's order of additions matters),
 * one batch where every token is the same, and GPT-2 124M's shape (B·T = 8192, C = 768,
 * V = 50257). Harness: tests/parity/parity.h. Run by `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/encoder.h"

/* Forward: a copy. Backward: both twins add the rows of each token in row order in float, one
 * add per row and channel, so the results must be identical (trainer/cuda/encoder.cu). */
static const parity_tol TOL_EXACT = {0.0, 0.0, 0.0};

/* same_token: every position holds token V / 2; otherwise tokens are uniform below V. */
static void run(parity *p, size_t BT, size_t C, size_t V, int same_token)
{
    uint32_t *tok = malloc((BT ? BT : 1) * sizeof *tok);
    float *wte = parity_host(p, V * C), *out = parity_host(p, BT * C);
    float *dout = parity_host(p, BT * C), *dwte = parity_host(p, V * C);
    float *d_wte, *d_out, *d_dout, *d_dwte;
    uint32_t *d_tok;

    if (!tok)
        parity_die(p, "out of host memory");
    for (size_t r = 0; r < BT; r++)
        tok[r] = same_token ? (uint32_t)(V / 2) : (uint32_t)cs_rng_below(&p->rng, V);
    parity_uniform(p, wte, V * C, -3.0f, 3.0f);
    parity_uniform(p, dout, BT * C, -3.0f, 3.0f);
    parity_uniform(p, dwte, V * C, -1.0f, 1.0f);
    d_tok = parity_up_u32(p, tok, BT);
    d_wte = parity_up(p, wte, V * C);
    d_dout = parity_up(p, dout, BT * C);
    d_dwte = parity_up(p, dwte, V * C);
    d_out = parity_poisoned(p, BT * C);
    printf("  BT = %zu, C = %zu, V = %zu%s\n", BT, C, V, same_token ? ", one token" : "");

    p->cpu->encoder_forward(out, tok, wte, BT, C, V);
    p->gpu->encoder_forward(d_out, d_tok, d_wte, BT, C, V);
    parity_sync(p, "encoder_forward");
    parity_check(p, "encoder_forward", out, d_out, BT * C, TOL_EXACT);

    p->cpu->encoder_backward(dwte, dout, tok, BT, C, V);
    p->gpu->encoder_backward(d_dwte, d_dout, d_tok, BT, C, V);
    parity_sync(p, "encoder_backward");
    parity_check(p, "encoder_backward", dwte, d_dwte, V * C, TOL_EXACT);

    parity_free(d_tok), parity_free(d_wte), parity_free(d_out), parity_free(d_dout);
    parity_free(d_dwte);
    free(tok), free(wte), free(out), free(dout), free(dwte);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "encoder");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++) {
        run(&p, parity_sizes[i], 64, 50, 0);
        run(&p, 37, parity_sizes[i], parity_sizes[i] + 2, 0);
    }
    run(&p, 1000, 768, 50257, 1);
    run(&p, 8192, 768, 50257, 0);
    return parity_end(&p);
}
