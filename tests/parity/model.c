/* tests/parity/model.c: whole-model parity. Ten AdamW steps of a tiny model (2 layers, d 64,
 * 4 heads, vocabulary 97, B = 3, T = 33) from the same GPT-2 initialisation and the same
 * batches: on the CPU, the real cs_model (trainer/model.c) on the CPU ops table; on the GPU, the
 * same op sequence on device buffers through the CUDA table (tests/parity/gpt_cuda.h). The mean
 * loss and the global gradient norm of every step must agree, with the linear layers in fp32 and
 * then in bf16. Harness: tests/parity/parity.h. Run by `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/gpt_cuda.h"
#include "tests/parity/parity.h"

#include <math.h>

/* Every op agrees to about 1e-6 relative (tests/parity/<op>.c); AdamW's first steps move each
 * parameter by about ±lr whatever the gradient's size, so only parameters whose gradient is
 * near zero (below the ops' noise) can step differently, and they barely move the loss. Ten
 * steps at lr 1e-3 stay within 1e-4 relative in fp32. In bf16 the products' operands carry
 * 2^-9 relative rounding (the matmul parity test measures 2-3e-3 relative L2 per product),
 * which reaches the loss and gradient norm at a few 1e-3: 3e-2 leaves a factor of ten. */
#define FP32_LOSS_RTOL 1e-4
#define FP32_NORM_RTOL 1e-4
#define BF16_LOSS_RTOL 3e-2
#define BF16_NORM_RTOL 3e-2

#define STEPS 10
#define LR    1e-3f
#define THETA 1e4
#define NB    3
#define NT    33

/* One step of the CPU model on `win`; *loss, *norm: mean loss and gradient norm. */
static void cpu_step(parity *p, cs_model *m, float *mom, float *var, const uint32_t *win, int step,
                     double *loss, float *norm)
{
    if (cs_model_forward(m, win, NB, NT, loss))
        parity_die(p, "cs_model_forward");
    cs_model_zero_grad(m);
    cs_model_backward(m, 1.0f / (NB * NT));
    p->cpu->adamw_norm(norm, cs_model_grads(m), cs_model_n_params(m));
    gpt_adamw(p->cpu, m, cs_model_params(m), mom, var, cs_model_grads(m), LR, step);
}

/* The same step on the device copy. */
static void gpu_step(parity *p, gpt *g, cs_model *layout, float *d_norm, const uint32_t *win,
                     int step, double *loss, float *norm)
{
    float losses[NB * NT];

    if (gpt_load(g, win))
        parity_die(p, "gpt_load");
    gpt_forward(g);
    g->ops->zero(g->grads, g->n_params);
    gpt_backward(g, 1.0f / (NB * NT));
    g->ops->adamw_norm(d_norm, g->grads, g->n_params);
    gpt_adamw(g->ops, layout, g->params, g->m, g->v, g->grads, LR, step);
    parity_sync(p, "training step");
    if (cs_cuda_download(losses, g->a.losses, sizeof losses) ||
        cs_cuda_download(norm, d_norm, sizeof *norm))
        parity_die(p, "cs_cuda_download");
    *loss = 0.0;
    for (size_t i = 0; i < NB * NT; i++)
        *loss += losses[i];
    *loss /= NB * NT;
}

static int agree(double cpu, double gpu, double rtol)
{
    return isfinite(gpu) && fabs(gpu - cpu) <= rtol * fabs(cpu);
}

static void train(parity *p, const char *precision, double loss_rtol, double norm_rtol)
{
    const cs_model_shape s = {.n_layer = 2, .d_model = 64, .n_head = 4, .vocab = 97, .context = NT};
    cs_model *m = cs_model_alloc(&s, THETA, p->cpu);
    uint32_t win[NB * (NT + 1)];
    float *mom, *var, *d_norm, ncpu, ngpu;
    double lcpu, lgpu;
    gpt g;
    int bad = 0;

    if (!m || cs_cuda_set_matmul_precision(precision))
        parity_die(p, "setting up the model");
    cs_model_init(m, 1234);
    if (gpt_alloc(&g, m, THETA, NB, NT))
        parity_die(p, "gpt_alloc");
    mom = parity_host(p, cs_model_n_params(m)), var = parity_host(p, cs_model_n_params(m));
    d_norm = parity_poisoned(p, 1);
    printf("  %s: %zu parameters, B = %d, T = %d, lr %g\n", precision, cs_model_n_params(m), NB, NT,
           (double)LR);
    for (int step = 1; step <= STEPS; step++) {
        for (size_t i = 0; i < sizeof win / sizeof win[0]; i++)
            win[i] = (uint32_t)cs_rng_below(&p->rng, (uint64_t)s.vocab);
        cpu_step(p, m, mom, var, win, step, &lcpu, &ncpu);
        gpu_step(p, &g, m, d_norm, win, step, &lgpu, &ngpu);
        bad |= !agree(lcpu, lgpu, loss_rtol) || !agree(ncpu, ngpu, norm_rtol);
        printf("%s step %2d: loss cpu %.7f gpu %.7f (rel %.2g); grad norm cpu %.6g gpu %.6g "
               "(rel %.2g)\n",
               agree(lcpu, lgpu, loss_rtol) && agree(ncpu, ngpu, norm_rtol) ? "ok  " : "FAIL", step,
               lcpu, lgpu, fabs(lgpu - lcpu) / lcpu, (double)ncpu, (double)ngpu,
               fabs((double)ngpu - ncpu) / ncpu);
    }
    p->checks++;
    p->failed += bad;
    gpt_free(&g);
    parity_free(d_norm);
    free(mom), free(var);
    cs_model_free(m);
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "model");

    if (st)
        return st;
    train(&p, "fp32", FP32_LOSS_RTOL, FP32_NORM_RTOL);
    train(&p, "bf16", BF16_LOSS_RTOL, BF16_NORM_RTOL);
    cs_cuda_set_matmul_precision("fp32");
    return parity_end(&p);
}
