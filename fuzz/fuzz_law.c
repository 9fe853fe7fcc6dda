/* fuzz/fuzz_law.c: libFuzzer target for the law formula language (fit/law.h). Random bytes are
 * parsed as a law over the variables N, D, T; when they parse, the law is evaluated with and
 * without gradients at a fixed point, term by term, and in a small batch, and its derived and
 * grid helpers are exercised. Nothing may crash, leak or trip a sanitizer; errors are expected.
 * Built and run by `make fuzz` (seeds in fuzz/seeds/fuzz_law/).
 */
#include "fit/law.h"

#include "core/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Evaluates every way the library offers at one point and a batch of three rows. */
static void exercise(cs_law *law, const char *text)
{
    static double params[CS_LAW_MAX_OPS];
    static double grad[CS_LAW_MAX_OPS];
    static double bgrad[3 * CS_LAW_MAX_OPS];
    static const double point[3] = {3e8, 6e9, 2048};
    static const double rows[3][3] = {{1e6, 3e8, 1e10}, {1e8, 6e9, 1e12}, {64, 2048, 1}};
    const double *cols[3];
    double vars[3];
    double v;
    double vals[3];
    size_t np = cs_law_nparams(law);
    cs_law_work *w;

    for (size_t j = 0; j < np; j++)
        params[j] = 0.25 + 0.125 * (double)(j % 7);
    for (size_t j = 0; j < cs_law_nvars(law); j++) {
        long k = strcmp(cs_law_var_name(law, j), "N") == 0   ? 0
                 : strcmp(cs_law_var_name(law, j), "D") == 0 ? 1
                                                             : 2;
        vars[j] = point[k];
        cols[j] = rows[k];
    }
    (void)cs_law_eval(law, params, vars, &v);
    (void)cs_law_eval_grad(law, params, vars, &v, grad);
    for (size_t k = 0; k < cs_law_nterms(law); k++)
        (void)cs_law_eval_term(law, k, params, vars, &v, k % 2 ? grad : NULL);
    w = cs_law_work_alloc(law);
    if (w != NULL) {
        (void)cs_law_eval_batch(law, params, cols, 3, vals, bgrad, w);
        cs_law_work_free(w);
    }
    if (np > 0 && cs_law_add_derived(law, "zz_derived = 2*exp(-1)") == CS_OK)
        (void)cs_law_eval_derived(law, 0, params, &v, grad);
    (void)cs_law_set_positive(law, cs_law_param_name(law, 0));
    (void)cs_law_set_grid(law, text); /* the input doubles as a grid spec, a positive list and */
    (void)cs_law_set_positive(law, text); /* a derived quantity */
    (void)cs_law_add_derived(law, text);
    if (cs_law_grid_count(law) > 0)
        (void)cs_law_grid_point(law, 0, params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vars[] = {"N", "D", "T"};
    char *text = malloc(size + 1);
    cs_law *law;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    law = cs_law_parse(text, vars, 3);
    if (law != NULL) {
        exercise(law, text);
        cs_law_free(law);
    }
    (void)cs_errmsg();
    free(text);
    return 0;
}
