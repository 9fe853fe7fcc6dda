/* tests/parity/xent.c: the softmax cross-entropy twins, trainer/xent.c against
 * trainer/cuda/xent.cu: vocabularies V at 1, 31, 33, 1000, 4097 (5 rows), rows B·T at the same
 * sizes (V = 33), logits in [-3, 3] and, once, in [70, 130] (large logits: the maximum must be
 * taken out before exponentiating), and GPT-2's vocabulary (B·T = 1024, V = 50257). Forward
 * (losses, lse) and backward with per-position weights, then with dlosses NULL and in place over
 * the logits. Harness: tests/parity/parity.h. Run by `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/xent.h"

/* lse and losses are formed in double on both sides; the sums of exponentials differ by the
 * exp (2e-7 relative on the CPU, 2 ulp on the GPU) and the order, about 3e-7 of lse in
 * absolute terms, then each is rounded to float (one ulp: 1e-6 relative). */
static const parity_tol TOL_FORWARD = {2e-6, 1e-6, 0.0};
/* dlogits = w·e^(z − lse) (− w at the target), both from the same lse: the exps differ by about
 * 3e-7 relative; at the target, p ≈ 1 minus w cancels, leaving |w|·3e-7 ≤ 5e-7 absolute. */
static const parity_tol TOL_BACKWARD = {2e-6, 1e-6, 0.0};

static void run(parity *p, size_t BT, size_t V, float lo, float hi)
{
    uint32_t *y = malloc(BT * sizeof *y);
    float *z = parity_host(p, BT * V), *loss = parity_host(p, BT), *lse = parity_host(p, BT);
    float *dl = parity_host(p, BT), *dz = parity_host(p, BT * V);
    float *d_z, *d_loss, *d_lse, *d_dl, *d_dz;
    uint32_t *d_y;

    if (!y)
        parity_die(p, "out of host memory");
    for (size_t r = 0; r < BT; r++)
        y[r] = (uint32_t)cs_rng_below(&p->rng, V);
    parity_uniform(p, z, BT * V, lo, hi);
    parity_uniform(p, dl, BT, -3.0f, 3.0f);
    d_y = parity_up_u32(p, y, BT);
    d_z = parity_up(p, z, BT * V);
    d_dl = parity_up(p, dl, BT);
    d_loss = parity_poisoned(p, BT), d_lse = parity_poisoned(p, BT);
    d_dz = parity_poisoned(p, BT * V);
    printf("  BT = %zu, V = %zu, logits in [%g, %g]\n", BT, V, lo, hi);

    p->cpu->xent_forward(loss, lse, z, y, BT, V);
    p->gpu->xent_forward(d_loss, d_lse, d_z, d_y, BT, V);
    parity_sync(p, "xent_forward");
    parity_check(p, "xent_forward losses", loss, d_loss, BT, TOL_FORWARD);
    parity_check(p, "xent_forward lse", lse, d_lse, BT, TOL_FORWARD);

    /* the backward passes start from the CPU's lse, so each check sees one twin's error */
    if (cs_cuda_upload(d_lse, lse, BT * sizeof *lse))
        parity_die(p, "cs_cuda_upload");
    p->cpu->xent_backward(dz, z, lse, y, dl, 0.5f, BT, V);
    p->gpu->xent_backward(d_dz, d_z, d_lse, d_y, d_dl, 0.5f, BT, V);
    parity_sync(p, "xent_backward");
    parity_check(p, "xent_backward", dz, d_dz, BT * V, TOL_BACKWARD);

    p->cpu->xent_backward(dz, z, lse, y, NULL, 1.0f / (float)BT, BT, V);
    p->gpu->xent_backward(d_z, d_z, d_lse, d_y, NULL, 1.0f / (float)BT, BT, V); /* in place */
    parity_sync(p, "xent_backward in place, mean loss");
    parity_check(p, "xent_backward in place", dz, d_z, BT * V, TOL_BACKWARD);

    parity_free(d_y), parity_free(d_z), parity_free(d_dl), parity_free(d_loss);
    parity_free(d_lse), parity_free(d_dz);
    free(y), free(z), free(loss), free(lse), free(dl), free(dz);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "xent");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++) {
        run(&p, 5, parity_sizes[i], -3.0f, 3.0f);
        run(&p, parity_sizes[i], 33, -3.0f, 3.0f);
    }
    run(&p, 64, 4097, 70.0f, 130.0f);
    run(&p, 1024, 50257, -3.0f, 3.0f);
    return parity_end(&p);
}
