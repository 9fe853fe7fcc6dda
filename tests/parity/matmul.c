/* tests/parity/matmul.c: the linear-layer twins, trainer/matmul.c (OpenBLAS) against
 * trainer/cuda/matmul.cu (cuBLAS), on seeded inputs, weights and biases in [-3, 3]: rows B·T,
 * input channels C and output channels OC each at 1, 31, 33, 1000, 4097 (the others odd and
 * small), and two shapes of GPT-2 124M (the QKV layer, B·T = 4096, 768 → 2304, and the logits,
 * B·T = 1024, 768 → 50257 without bias). Forward, and backward accumulating into random
 * gradients, with every gradient requested and then with dinp alone. Then again with the
 * matmul precision at tf32 and bf16 (cs_cuda_set_matmul_precision), on a subset of the shapes.
 * Harness: tests/parity/parity.h. Run by `make test-gpu`; exit 77 without a GPU.
 */
#include "tests/parity/parity.h"
#include "trainer/matmul.h"

/* Tolerances scale with K, the length of the sums (C forward, OC for dinp, B·T for dweight).
 * Measured on the CPU at these input ranges (products up to 9 in magnitude): OpenBLAS's sgemm
 * against a sequential float sum with fused multiply-adds (the least accurate order a GPU
 * library could use) differs by at most 5.6e-7·K for K from 1 to 8192, and the rounding of
 * bf16 (tf32) operands moves a result by at most 0.036·√K (0.0043·√K), with a relative L2
 * error of 2.1–2.8e-3 (3.0–3.3e-4). The bounds below leave a factor of 2 to 4. */
#define FP32_ATOL_PER_K      2e-6
#define TF32_ATOL_PER_SQRT_K 0.01
#define BF16_ATOL_PER_SQRT_K 0.08
static const parity_tol TOL_FP32 = {0.0, 1e-5, 1e-5}; /* atol set per K */
static const parity_tol TOL_TF32 = {0.0, 2e-3, 1e-3}; /* atol set per K */
static const parity_tol TOL_BF16 = {0.0, 1e-2, 1e-2}; /* atol set per K */
/* dbias: sums over rows in double in two orders, rounded to float: one ulp of values up to
 * about 3·sqrt(B·T), added to the initial value. The same for every precision. */
static const parity_tol TOL_DBIAS = {1e-5, 1e-6, 0.0};

/* The tolerance of a product summing K terms at the current precision. */
static parity_tol tol_for(size_t K)
{
    const char *prec = cs_cuda_matmul_precision();
    parity_tol t = TOL_FP32;

    t.atol = FP32_ATOL_PER_K * (double)K;
    if (prec[0] == 't') {
        t = TOL_TF32;
        t.atol = TF32_ATOL_PER_SQRT_K * sqrt((double)K);
    } else if (prec[0] == 'b') {
        t = TOL_BF16;
        t.atol = BF16_ATOL_PER_SQRT_K * sqrt((double)K);
    }
    return t;
}

typedef struct mm {
    float *x, *w, *b, *out, *dout, *dx, *dw, *db;                 /* host */
    float *d_x, *d_w, *d_b, *d_out, *d_dout, *d_dx, *d_dw, *d_db; /* device */
} mm;

static void mm_alloc(parity *p, mm *a, size_t BT, size_t C, size_t OC)
{
    a->x = parity_host(p, BT * C), a->w = parity_host(p, OC * C), a->b = parity_host(p, OC);
    a->out = parity_host(p, BT * OC), a->dout = parity_host(p, BT * OC);
    a->dx = parity_host(p, BT * C), a->dw = parity_host(p, OC * C), a->db = parity_host(p, OC);
    parity_uniform(p, a->x, BT * C, -3.0f, 3.0f);
    parity_uniform(p, a->w, OC * C, -3.0f, 3.0f);
    parity_uniform(p, a->b, OC, -3.0f, 3.0f);
    parity_uniform(p, a->dout, BT * OC, -3.0f, 3.0f);
    parity_uniform(p, a->dx, BT * C, -1.0f, 1.0f);
    parity_uniform(p, a->dw, OC * C, -1.0f, 1.0f);
    parity_uniform(p, a->db, OC, -1.0f, 1.0f);
    a->d_x = parity_up(p, a->x, BT * C), a->d_w = parity_up(p, a->w, OC * C);
    a->d_b = parity_up(p, a->b, OC), a->d_dout = parity_up(p, a->dout, BT * OC);
    a->d_dx = parity_up(p, a->dx, BT * C), a->d_dw = parity_up(p, a->dw, OC * C);
    a->d_db = parity_up(p, a->db, OC), a->d_out = parity_poisoned(p, BT * OC);
}

static void mm_free(mm *a)
{
    parity_free(a->d_x), parity_free(a->d_w), parity_free(a->d_b), parity_free(a->d_out);
    parity_free(a->d_dout), parity_free(a->d_dx), parity_free(a->d_dw), parity_free(a->d_db);
    free(a->x), free(a->w), free(a->b), free(a->out), free(a->dout), free(a->dx), free(a->dw);
    free(a->db);
}

static void run(parity *p, size_t BT, size_t C, size_t OC, int has_bias)
{
    mm a;
    const float *bias;
    float *d_bias, *dbias, *d_dbias;

    mm_alloc(p, &a, BT, C, OC);
    bias = has_bias ? a.b : NULL, d_bias = has_bias ? a.d_b : NULL;
    dbias = has_bias ? a.db : NULL, d_dbias = has_bias ? a.d_db : NULL;
    printf("  BT = %zu, C = %zu, OC = %zu%s, %s\n", BT, C, OC, has_bias ? "" : ", no bias",
           cs_cuda_matmul_precision());

    p->cpu->matmul_forward(a.out, a.x, a.w, bias, BT, C, OC);
    p->gpu->matmul_forward(a.d_out, a.d_x, a.d_w, d_bias, BT, C, OC);
    parity_sync(p, "matmul_forward");
    parity_check(p, "matmul_forward", a.out, a.d_out, BT * OC, tol_for(C));

    p->cpu->matmul_backward(a.dx, a.dw, dbias, a.dout, a.x, a.w, BT, C, OC);
    p->gpu->matmul_backward(a.d_dx, a.d_dw, d_dbias, a.d_dout, a.d_x, a.d_w, BT, C, OC);
    parity_sync(p, "matmul_backward");
    parity_check(p, "matmul_backward dinp", a.dx, a.d_dx, BT * C, tol_for(OC));
    parity_check(p, "matmul_backward dweight", a.dw, a.d_dw, OC * C, tol_for(BT));
    if (has_bias)
        parity_check(p, "matmul_backward dbias", a.db, a.d_db, OC, TOL_DBIAS);

    /* dinp alone (dweight and dbias NULL, as for a frozen layer): twice K = OC accumulated */
    p->cpu->matmul_backward(a.dx, NULL, NULL, a.dout, a.x, a.w, BT, C, OC);
    p->gpu->matmul_backward(a.d_dx, NULL, NULL, a.d_dout, a.d_x, a.d_w, BT, C, OC);
    parity_sync(p, "matmul_backward, dinp only");
    parity_check(p, "matmul_backward dinp again", a.dx, a.d_dx, BT * C, tol_for(2 * OC));
    mm_free(&a);
}

static void set_precision(parity *p, const char *name)
{
    if (cs_cuda_set_matmul_precision(name))
        parity_die(p, "cs_cuda_set_matmul_precision");
}

int main(void)
{
    parity p;
    int st = parity_start(&p, "matmul");

    if (st)
        return st;
    for (size_t i = 0; i < PARITY_NSIZES; i++) {
        size_t n = parity_sizes[i];

        run(&p, n, 33, 31, 1);
        run(&p, 7, n, 33, 1);
        run(&p, 31, 33, n, i % 2);
    }
    run(&p, 4096, 768, 2304, 1);
    run(&p, 1024, 768, 50257, 0);
    for (int k = 0; k < 2; k++) {
        set_precision(&p, k == 0 ? "tf32" : "bf16");
        run(&p, 33, 4097, 31, 1);
        run(&p, 1000, 33, 1000, 0);
        run(&p, 4096, 768, 2304, 1);
    }
    set_precision(&p, "fp32");
    if (cs_cuda_set_matmul_precision("fp16") != CS_EINPUT) {
        printf("FAIL cs_cuda_set_matmul_precision accepted \"fp16\"\n");
        p.failed++;
    }
    return parity_end(&p);
}
