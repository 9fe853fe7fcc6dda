/* fit/holdout.c: scores of a fit on held-out points — predictions, intervals, errors, coverage
 * (fit/holdout.h). Test: tests/unit/test_holdout.c.
 */
#include "fit/holdout.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cs_holdout_result_free(cs_holdout_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->where && i < r->n; i++)
        free(r->where[i]);
    for (size_t j = 0; r->vname && j <= r->nvars; j++)
        free(r->vname[j]);
    free(r->where);
    free(r->vname);
    free(r->expr);
    free(r->vars);
    free(r->observed);
    free(r->predicted);
    free(r->lo);
    free(r->hi);
    free(r->rel_error);
    free(r);
}

cs_holdout_result *cs_holdout_result_alloc(size_t n, size_t nvars, size_t nlevels)
{
    cs_holdout_result *r = calloc(1, sizeof *r);
    size_t n1 = n ? n : 1;
    size_t nl1 = nlevels ? nlevels : 1;

    if (nlevels > CS_PREDICT_MAX_LEVELS) {
        free(r);
        cs_fail(CS_EINVAL, "holdout: at most %d interval levels", CS_PREDICT_MAX_LEVELS);
        return NULL;
    }
    if (r == NULL) {
        cs_fail(CS_ENOMEM, "holdout: out of memory");
        return NULL;
    }
    r->n = n;
    r->nvars = nvars;
    r->nlevels = nlevels;
    r->where = calloc(n1, sizeof *r->where);
    r->vname = calloc(nvars + 1, sizeof *r->vname);
    r->vars = malloc(n1 * (nvars ? nvars : 1) * sizeof *r->vars);
    r->observed = malloc(n1 * sizeof *r->observed);
    r->predicted = malloc(n1 * sizeof *r->predicted);
    r->lo = malloc(n1 * nl1 * sizeof *r->lo);
    r->hi = malloc(n1 * nl1 * sizeof *r->hi);
    r->rel_error = malloc(n1 * sizeof *r->rel_error);
    if (!r->where || !r->vname || !r->vars || !r->observed || !r->predicted || !r->lo || !r->hi ||
        !r->rel_error) {
        cs_holdout_result_free(r);
        cs_fail(CS_ENOMEM, "holdout: out of memory");
        return NULL;
    }
    r->mean_abs_rel = r->median_abs_rel = r->max_abs_rel = NAN;
    for (size_t k = 0; k < CS_PREDICT_MAX_LEVELS; k++)
        r->coverage[k] = r->levels[k] = NAN;
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

void cs_holdout_summarise(cs_holdout_result *r)
{
    double *a = malloc((r->n ? r->n : 1) * sizeof *a);
    double sum = 0.0;

    r->mean_abs_rel = r->median_abs_rel = r->max_abs_rel = NAN;
    if (a == NULL || r->n == 0) {
        free(a);
        return;
    }
    r->max_abs_rel = 0.0;
    for (size_t i = 0; i < r->n; i++) {
        a[i] = fabs(r->rel_error[i]);
        sum += a[i];
        r->max_abs_rel = fmax(r->max_abs_rel, a[i]);
    }
    r->mean_abs_rel = sum / (double)r->n;
    qsort(a, r->n, sizeof *a, cmp_double);
    r->median_abs_rel = r->n % 2 ? a[r->n / 2] : 0.5 * (a[r->n / 2 - 1] + a[r->n / 2]);
    free(a);
    for (size_t k = 0; k < r->nlevels; k++) {
        size_t in = 0;

        for (size_t i = 0; i < r->n; i++)
            in += r->observed[i] >= r->lo[i * r->nlevels + k] &&
                  r->observed[i] <= r->hi[i * r->nlevels + k];
        r->coverage[k] = (double)in / (double)r->n;
    }
}

/* Fills the names, the expression and the levels. */
static int fill_header(cs_holdout_result *r, const cs_dataset *held, const char *expr,
                       const double *levels)
{
    for (size_t j = 0; j <= r->nvars; j++)
        if ((r->vname[j] = strdup(cs_dataset_var_name(held, j))) == NULL)
            return cs_fail(CS_ENOMEM, "holdout: out of memory");
    if (expr != NULL && (r->expr = strdup(expr)) == NULL)
        return cs_fail(CS_ENOMEM, "holdout: out of memory");
    for (size_t k = 0; k < r->nlevels; k++)
        r->levels[k] = levels[k];
    return CS_OK;
}

/* Point i of held into the result. */
static int score_point(const cs_predictor *p, const cs_dataset *held, size_t i,
                       cs_holdout_result *r)
{
    const double *const *cols = cs_dataset_cols(held);
    double *x = r->vars + i * r->nvars;
    char where[512];
    cs_prediction pr;
    int st;

    cs_dataset_row_where(held, i, where, sizeof where);
    if ((r->where[i] = strdup(where)) == NULL)
        return cs_fail(CS_ENOMEM, "holdout: out of memory");
    for (size_t j = 0; j < r->nvars; j++)
        x[j] = cols[j][i];
    r->observed[i] = cs_dataset_target(held)[i];
    st = cs_predictor_eval(p, x, r->levels, r->nlevels, &pr);
    if (st)
        return cs_fail_prefix(st, "held-out point %s", where);
    r->predicted[i] = pr.value;
    r->rel_error[i] = pr.value / r->observed[i] - 1.0;
    for (size_t k = 0; k < r->nlevels; k++) {
        r->lo[i * r->nlevels + k] = pr.lo[k];
        r->hi[i * r->nlevels + k] = pr.hi[k];
    }
    return CS_OK;
}

int cs_holdout_score(const cs_predictor *p, const cs_dataset *held, const char *expr,
                     const double *levels, size_t nlevels, cs_holdout_result **out)
{
    cs_holdout_result *r;
    int st;

    *out = NULL;
    if (nlevels == 0 || nlevels > CS_PREDICT_MAX_LEVELS)
        return cs_fail(CS_EINVAL, "holdout: between 1 and %d interval levels",
                       CS_PREDICT_MAX_LEVELS);
    for (size_t k = 0; k < nlevels; k++)
        if (!(levels[k] > 0 && levels[k] < 1))
            return cs_fail(CS_EINVAL, "holdout: level %g is not between 0 and 1", levels[k]);
    r = cs_holdout_result_alloc(cs_dataset_n(held), cs_dataset_nvars(held), nlevels);
    if (r == NULL)
        return CS_ENOMEM; /* message recorded */
    r->nboot = cs_predictor_nboot(p);
    st = fill_header(r, held, expr, levels);
    for (size_t i = 0; st == CS_OK && i < r->n; i++)
        st = score_point(p, held, i, r);
    if (st) {
        cs_holdout_result_free(r);
        return st;
    }
    cs_holdout_summarise(r);
    *out = r;
    return CS_OK;
}
