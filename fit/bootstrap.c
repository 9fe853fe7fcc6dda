/* fit/bootstrap.c: bootstrap refits on worker threads, summaries of the samples and their
 * warnings (fit/bootstrap.h). Test: tests/unit/test_bootstrap.c.
 */
#include "fit/bootstrap.h"

#include "core/error.h"
#include "core/rng.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cs_boot_params cs_boot_default_params(void)
{
    cs_boot_params p;

    memset(&p, 0, sizeof p);
    p.n = 1000;
    p.seed = 1;
    p.level = 0.95;
    p.by_group = false;
    return p;
}

void cs_boot_weights(uint64_t seed, size_t b, size_t n, const size_t *group, size_t ngroups,
                     double *weights)
{
    cs_rng r;

    cs_rng_seed(&r, seed, (uint64_t)b);
    memset(weights, 0, n * sizeof *weights);
    if (group == NULL) {
        for (size_t k = 0; k < n; k++)
            weights[cs_rng_below(&r, n)] += 1.0;
        return;
    }
    /* Draw ngroups groups; a point's weight is the number of times its group was drawn
     * (O(ngroups * n), small beside a refit, and no allocation). */
    for (size_t k = 0; k < ngroups; k++) {
        uint64_t g = cs_rng_below(&r, ngroups);

        for (size_t i = 0; i < n; i++)
            if (group[i] == g)
                weights[i] += 1.0;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Quantile p of sorted x (m), linear interpolation between order statistics (type 7). */
static double quantile(const double *x, size_t m, double p)
{
    double h = (double)(m - 1) * p;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < m ? lo + 1 : lo;

    return x[lo] + (h - (double)lo) * (x[hi] - x[lo]);
}

void cs_boot_summary(const double *x, size_t n, size_t stride, double level, double *se, double *lo,
                     double *hi, double *scratch)
{
    size_t m = 0;
    double mean = 0.0;
    double ss = 0.0;

    for (size_t k = 0; k < n; k++)
        if (isfinite(x[k * stride]))
            scratch[m++] = x[k * stride];
    *se = *lo = *hi = NAN;
    if (m < 2)
        return;
    for (size_t k = 0; k < m; k++)
        mean += scratch[k];
    mean /= (double)m;
    for (size_t k = 0; k < m; k++)
        ss += (scratch[k] - mean) * (scratch[k] - mean);
    *se = sqrt(ss / (double)(m - 1));
    qsort(scratch, m, sizeof *scratch, cmp_double);
    *lo = quantile(scratch, m, 0.5 * (1.0 - level));
    *hi = quantile(scratch, m, 0.5 * (1.0 + level));
}

/* ---- result ------------------------------------------------------------------------------ */

void cs_boot_result_free(cs_boot_result *r)
{
    if (r == NULL)
        return;
    for (size_t k = 0; k < r->nwarnings; k++)
        free(r->warnings[k]);
    free(r->warnings);
    free(r->samples);
    free(r->dsamples);
    free(r->stop);
    free(r->se);
    free(r->lo);
    free(r->hi);
    free(r->dest);
    free(r->dse);
    free(r->dlo);
    free(r->dhi);
    free(r);
}

static cs_boot_result *result_alloc(size_t n, size_t np, size_t nd)
{
    cs_boot_result *r = calloc(1, sizeof *r);
    size_t nd1 = nd ? nd : 1;

    if (r == NULL)
        return NULL;
    r->n = n;
    r->nparams = np;
    r->nderived = nd;
    r->samples = malloc(n * np * sizeof *r->samples);
    r->dsamples = malloc(n * nd1 * sizeof *r->dsamples);
    r->stop = calloc(n, 1);
    r->se = calloc(np, sizeof *r->se);
    r->lo = calloc(np, sizeof *r->lo);
    r->hi = calloc(np, sizeof *r->hi);
    r->dest = calloc(nd1, sizeof *r->dest);
    r->dse = calloc(nd1, sizeof *r->dse);
    r->dlo = calloc(nd1, sizeof *r->dlo);
    r->dhi = calloc(nd1, sizeof *r->dhi);
    if (!r->samples || !r->dsamples || !r->stop || !r->se || !r->lo || !r->hi || !r->dest ||
        !r->dse || !r->dlo || !r->dhi) {
        cs_boot_result_free(r);
        return NULL;
    }
    return r;
}

__attribute__((format(printf, 2, 3))) static void warn(cs_boot_result *r, const char *fmt, ...)
{
    char buf[1024];
    char **v = realloc(r->warnings, (r->nwarnings + 1) * sizeof *v);
    va_list ap;

    if (v == NULL)
        return;
    r->warnings = v;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    v[r->nwarnings] = malloc(strlen(buf) + 1);
    if (v[r->nwarnings] != NULL)
        strcpy(v[r->nwarnings++], buf);
}

/* ---- refits ------------------------------------------------------------------------------ */

typedef struct boot_ctx {
    const cs_law *law;
    const cs_dataset *ds;
    const cs_fit_params *fp;
    const cs_boot_params *bp;
    const double *start; /* (ncoef) */
    size_t ncoef;
    const size_t *group; /* (n) or NULL */
    size_t ngroups;
    cs_boot_result *res;
} boot_ctx;

/* Derived quantities of one parameter vector into v (nderived); NaN where not finite. */
static void eval_derived(const cs_law *law, const double *params, double *v)
{
    for (size_t k = 0; k < cs_law_nderived(law); k++)
        if (!isfinite(params[0]) || cs_law_eval_derived(law, k, params, &v[k], NULL) != CS_OK)
            v[k] = NAN;
}

static void boot_task(void *vctx, cs_fit_work *w, size_t b)
{
    boot_ctx *c = vctx;
    cs_boot_result *res = c->res;
    size_t n = cs_dataset_n(c->ds);
    double *weights = malloc(n * sizeof *weights);
    double *coef = malloc(c->ncoef * sizeof *coef);
    double *row = res->samples + b * res->nparams;
    double f;
    int stop = CS_FIT_STOP_FAILED;

    if (weights != NULL && coef != NULL) {
        cs_boot_weights(c->bp->seed, b, n, c->group, c->ngroups, weights);
        stop = cs_fit_local(w, weights, c->start, coef, &f, NULL);
    }
    res->stop[b] = (unsigned char)stop;
    for (size_t j = 0; j < res->nparams; j++)
        row[j] = stop >= CS_FIT_STOP_BADSTART ? NAN : coef[j];
    eval_derived(c->law, row, res->dsamples + b * (res->nderived ? res->nderived : 1));
    free(coef);
    free(weights);
}

static int check_args(const cs_law *law, const cs_dataset *ds, const cs_fit_params *fp,
                      const cs_fit_result *fit, const cs_boot_params *bp)
{
    size_t ng = 0;

    if (bp->n == 0)
        return cs_fail(CS_EINVAL, "bootstrap: the number of replicates must be > 0");
    if (!(bp->level > 0 && bp->level < 1))
        return cs_fail(CS_EINVAL, "bootstrap: the confidence level must be in (0, 1), got %g",
                       bp->level);
    if (fit->nparams != cs_law_nparams(law) || fit->method != fp->method)
        return cs_fail(CS_EINVAL, "bootstrap: the fit is of another law or method");
    cs_dataset_groups(ds, &ng);
    if (bp->by_group && ng == 0)
        return cs_fail(CS_EINVAL, "bootstrap: resampling by group needs a data set with groups");
    if (bp->by_group && ng < 2)
        return cs_fail(CS_EINPUT, "bootstrap: the data have only one group; nothing to resample");
    return CS_OK;
}

/* Summaries and warnings once every replicate is in. */
static int summarise(cs_boot_result *res, const cs_law *law, const cs_fit_result *fit)
{
    double *scratch = malloc(res->n * sizeof *scratch);
    size_t nd1 = res->nderived ? res->nderived : 1;

    if (scratch == NULL)
        return cs_fail(CS_ENOMEM, "bootstrap: out of memory");
    for (size_t j = 0; j < res->nparams; j++)
        cs_boot_summary(res->samples + j, res->n, res->nparams, res->level, &res->se[j],
                        &res->lo[j], &res->hi[j], scratch);
    for (size_t k = 0; k < res->nderived; k++)
        cs_boot_summary(res->dsamples + k, res->n, nd1, res->level, &res->dse[k], &res->dlo[k],
                        &res->dhi[k], scratch);
    eval_derived(law, fit->estimate, res->dest);
    free(scratch);
    if (res->n_failed > 0)
        warn(res, "%zu of %zu bootstrap refits failed and were left out", res->n_failed, res->n);
    if (res->n_unconverged > 0)
        warn(res, "%zu of %zu bootstrap refits ran out of iterations (kept)", res->n_unconverged,
             res->n);
    for (size_t j = 0; j < res->nparams; j++) {
        double lo;
        double hi;
        size_t k;
        double width = res->hi[j] - res->lo[j];
        double est = fabs(fit->estimate[j]);

        cs_law_param_grid(law, j, &lo, &hi, &k);
        if ((k > 1 && width > hi - lo) || (k <= 1 && est > 0 && width > 10.0 * est))
            warn(res,
                 "the bootstrap interval of %s, [%g, %g], is wider than %s: %s is not "
                 "identified by the data",
                 cs_law_param_name(law, j), res->lo[j], res->hi[j],
                 k > 1 ? "its whole starting grid" : "10 times its estimate",
                 cs_law_param_name(law, j));
    }
    return CS_OK;
}

int cs_boot_run(const cs_law *law, const cs_dataset *ds, const cs_fit_params *fp,
                const cs_fit_result *fit, const cs_boot_params *bp, cs_boot_result **out)
{
    cs_boot_params def = cs_boot_default_params();
    boot_ctx c;
    double start[CS_LAW_MAX_OPS + 1];
    int st;

    *out = NULL;
    bp = bp ? bp : &def;
    st = check_args(law, ds, fp, fit, bp);
    if (st)
        return st;
    memset(&c, 0, sizeof c);
    c.law = law;
    c.ds = ds;
    c.fp = fp;
    c.bp = bp;
    c.ncoef = cs_fit_ncoef(law, fp);
    memcpy(start, fit->estimate, fit->nparams * sizeof *start);
    for (size_t j = 0; j < fit->nparams; j++) {
        /* A positive parameter whose estimate underflowed to 0 (its log ran off to -inf): start
         * the refits from the smallest normal number instead, where it can still move. */
        if ((cs_law_param_flags(law, j) & CS_LAW_POSITIVE) && !(start[j] > 0))
            start[j] = DBL_MIN;
    }
    if (fp->method == CS_FIT_HUBER_LIK)
        start[fit->nparams] = log(fit->scale);
    c.start = start;
    if (bp->by_group)
        c.group = cs_dataset_groups(ds, &c.ngroups);
    c.res = result_alloc(bp->n, fit->nparams, cs_law_nderived(law));
    if (c.res == NULL)
        return cs_fail(CS_ENOMEM, "bootstrap: out of memory for %zu replicates", bp->n);
    c.res->seed = bp->seed;
    c.res->level = bp->level;
    c.res->by_group = bp->by_group;
    st = cs_fit_parallel(law, ds, fp, bp->n, boot_task, &c);
    for (size_t b = 0; st == CS_OK && b < bp->n; b++) {
        c.res->n_failed += c.res->stop[b] >= CS_FIT_STOP_BADSTART;
        c.res->n_unconverged += c.res->stop[b] == CS_FIT_STOP_MAXITER;
    }
    if (st == CS_OK && c.res->n_failed == bp->n)
        st = cs_fail(CS_ENOCONV, "bootstrap: all %zu refits failed", bp->n);
    if (st == CS_OK)
        st = summarise(c.res, law, fit);
    if (st == CS_OK)
        *out = c.res;
    else
        cs_boot_result_free(c.res);
    return st;
}
