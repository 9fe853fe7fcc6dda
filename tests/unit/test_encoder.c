/* tests/unit/test_encoder.c: token embedding lookup (trainer/encoder.c) against a float64
 * reference and central finite differences (tests/unit/fdcheck.h). Run by `make test`. */
#include "tests/testutil.h"

#include "tests/unit/fdcheck.h"
#include "trainer/encoder.h"

enum { BT = 10, C = 12, V = 7 }; /* B = 2, T = 5 */

typedef struct enc_ctx {
    double *wte;            /* (V, C) */
    const uint32_t *tokens; /* (BT) */
    const float *g;         /* (BT, C), the weights of the objective */
} enc_ctx;

/* L = Σ g · wte[tokens], the objective of the float64 reference. */
static double enc_objective(void *p)
{
    enc_ctx *e = p;
    double s = 0.0;

    for (size_t r = 0; r < BT; r++)
        for (size_t c = 0; c < C; c++)
            s += (double)e->g[r * C + c] * e->wte[e->tokens[r] * C + c];
    return s;
}

static void test_forward_copies_rows(void **state)
{
    const uint32_t tokens[BT] = {3, 0, 6, 3, 1, 2, 5, 4, 0, 3};
    cs_rng r;
    float *wte;
    float *out = fd_zeros(BT * C);

    (void)state;
    cs_rng_seed(&r, 1, 0);
    wte = fd_rand(&r, V * C, -3, 3);
    cs_encoder_forward_cpu(out, tokens, wte, BT, C, V);
    for (size_t i = 0; i < BT; i++)
        assert_memory_equal(out + i * C, wte + tokens[i] * C, C * sizeof(float));
    free(wte);
    free(out);
}

static void test_backward_matches_differences(void **state)
{
    const uint32_t tokens[BT] = {3, 0, 6, 3, 1, 2, 5, 4, 0, 3}; /* 3 thrice, 0 twice */
    cs_rng r;
    float *g;
    float *before;
    float *dwte;
    float *added;
    enc_ctx e;

    (void)state;
    cs_rng_seed(&r, 2, 0);
    g = fd_rand(&r, BT * C, -1, 1);
    before = fd_rand(&r, V * C, -1, 1); /* the gradient accumulates onto this */
    dwte = fd_copy(before, V * C);
    e.wte = fd_widen(before, V * C); /* any point: L is linear in wte */
    e.tokens = tokens;
    e.g = g;
    cs_encoder_backward_cpu(dwte, g, tokens, BT, C, V);
    added = fd_added(dwte, before, V * C);
    fd_check_grad(added, e.wte, V * C, enc_objective, &e, 1, "dwte");
    /* token 3 gets the sum of three rows; token 0 of two rows */
    assert_true(
        fd_close(added[3 * C + 5], (double)g[0 * C + 5] + g[3 * C + 5] + g[9 * C + 5], 1e-6, 1e-6));
    free(g);
    free(before);
    free(dwte);
    free(added);
    free(e.wte);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_copies_rows),
        cmocka_unit_test(test_backward_matches_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
