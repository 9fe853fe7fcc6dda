/* fit/compare.c: extrapolation cross-validation of laws and their likelihoods (fit/compare.h).
 * Test: tests/unit/test_compare.c.
 */
#include "fit/compare.h"

#include "core/error.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

cs_compare_params cs_compare_default_params(void)
{
    cs_compare_params p;

    memset(&p, 0, sizeof p);
    p.cv = CS_CV_EXTRAPOLATE;
    p.folds = 3;
    p.train_frac = 0.5;
    p.likelihood = true;
    p.lik_delta = 1.345;
    p.progress = NULL;
    return p;
}

const char *cs_compare_cv_name(int cv)
{
    return cv == CS_CV_LARGEST ? "largest" : "extrapolate";
}

int cs_compare_cv_parse(const char *name, int *cv)
{
    if (strcmp(name, "extrapolate") == 0 || strcmp(name, "forward") == 0)
        *cv = CS_CV_EXTRAPOLATE;
    else if (strcmp(name, "largest") == 0)
        *cv = CS_CV_LARGEST;
    else
        return cs_fail(CS_EINPUT, "--cv: expected extrapolate or largest, got \"%s\"", name);
    return CS_OK;
}

/* ---- folds ------------------------------------------------------------------------------- */

typedef struct keyed {
    double k;
    size_t i;
} keyed;

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa;
    const keyed *b = pb;

    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* End (exclusive) of the tie group that starts at sorted position s. */
static size_t group_end(const keyed *ks, size_t n, size_t s)
{
    size_t e = s + 1;

    while (e < n && ks[e].k == ks[s].k)
        e++;
    return e;
}

/* Assigns blocks in key order: the training part (-1), then blocks 0.. of about equal size. */
static void assign_blocks(const keyed *ks, size_t n, size_t c0, size_t folds, long *fold,
                          size_t *nblocks)
{
    size_t m = n - c0;
    size_t count = c0;
    long block = 0;
    long used = -1;

    for (size_t s = c0; s < n;) {
        size_t e = group_end(ks, n, s);

        if (block != used) { /* a new block starts with this group: number blocks densely */
            used = block;
            (*nblocks)++;
        }
        for (size_t q = s; q < e; q++)
            fold[ks[q].i] = (long)*nblocks - 1;
        count += e - s;
        while ((size_t)block < folds && count >= c0 + ((size_t)block + 1) * m / folds)
            block++;
        s = e;
    }
}

int cs_compare_folds(const double *key, size_t n, const cs_compare_params *p, long *fold,
                     size_t *nfolds)
{
    keyed *ks;
    size_t c0 = 0;
    size_t target;

    *nfolds = 0;
    if (p->folds == 0 || !(p->train_frac > 0 && p->train_frac < 1))
        return cs_fail(CS_EINVAL, "compare: folds must be >= 1 and the training share in (0, 1)");
    ks = malloc((n ? n : 1) * sizeof *ks);
    if (ks == NULL)
        return cs_fail(CS_ENOMEM, "compare: out of memory");
    for (size_t i = 0; i < n; i++) {
        ks[i].k = key[i];
        ks[i].i = i;
        fold[i] = -1;
    }
    qsort(ks, n, sizeof *ks, cmp_keyed);
    target = (size_t)ceil(p->train_frac * (double)n);
    while (c0 < n && (c0 == 0 || c0 < target))
        c0 = group_end(ks, n, c0);
    if (c0 >= n) {
        double top = n ? ks[n - 1].k : 0.0;

        free(ks);
        return cs_fail(CS_EINPUT,
                       "compare: the smallest %.0f%% of the %zu points by key reach its largest "
                       "value (%g); nothing is left to extrapolate to",
                       100.0 * p->train_frac, n, top);
    }
    assign_blocks(ks, n, c0, p->folds, fold, nfolds);
    free(ks);
    if (p->cv == CS_CV_LARGEST) {
        for (size_t i = 0; i < n; i++)
            fold[i] = fold[i] == (long)*nfolds - 1 ? 0 : -1;
        *nfolds = 1;
    }
    return CS_OK;
}

/* ---- result ------------------------------------------------------------------------------ */

void cs_compare_result_free(cs_compare_result *r)
{
    if (r == NULL)
        return;
    for (size_t k = 0; r->laws && k < r->nlaws; k++) {
        free(r->laws[k].fold_error);
        free(r->laws[k].fold_mean);
        free(r->laws[k].pred);
        free(r->laws[k].estimate);
        free(r->laws[k].full_error);
    }
    free(r->laws);
    free(r->rank);
    free(r->fold);
    free(r->fold_train);
    free(r->fold_test);
    free(r->fold_key_lo);
    free(r->fold_key_hi);
    free(r->train_key_hi);
    free(r);
}

static cs_compare_result *result_alloc(size_t n, size_t nlaws)
{
    cs_compare_result *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->n = n;
    r->nlaws = nlaws;
    r->fold = malloc((n ? n : 1) * sizeof *r->fold);
    r->laws = calloc(nlaws, sizeof *r->laws);
    r->rank = calloc(nlaws, sizeof *r->rank);
    if (r->fold == NULL || r->laws == NULL || r->rank == NULL) {
        cs_compare_result_free(r);
        return NULL;
    }
    return r;
}

/* Per-fold arrays, once the folds are known. */
static bool folds_alloc(cs_compare_result *r)
{
    size_t nf = r->nfolds ? r->nfolds : 1;

    r->fold_train = calloc(nf, sizeof *r->fold_train);
    r->fold_test = calloc(nf, sizeof *r->fold_test);
    r->fold_key_lo = malloc(nf * sizeof *r->fold_key_lo);
    r->fold_key_hi = malloc(nf * sizeof *r->fold_key_hi);
    r->train_key_hi = malloc(nf * sizeof *r->train_key_hi);
    if (!r->fold_train || !r->fold_test || !r->fold_key_lo || !r->fold_key_hi || !r->train_key_hi)
        return false;
    for (size_t f = 0; f < r->nfolds; f++) {
        r->fold_key_lo[f] = INFINITY;
        r->fold_key_hi[f] = r->train_key_hi[f] = -INFINITY;
    }
    return true;
}

static bool law_alloc(cs_compare_law *l, size_t n, size_t nfolds, size_t np)
{
    l->nparams = np;
    l->fold_mean = malloc((nfolds ? nfolds : 1) * sizeof *l->fold_mean);
    l->pred = malloc((n ? n : 1) * sizeof *l->pred);
    l->estimate = malloc((np ? np : 1) * sizeof *l->estimate);
    if (!l->fold_mean || !l->pred || !l->estimate)
        return false;
    for (size_t i = 0; i < n; i++)
        l->pred[i] = NAN;
    for (size_t f = 0; f < nfolds; f++)
        l->fold_mean[f] = NAN;
    for (size_t j = 0; j < np; j++)
        l->estimate[j] = NAN;
    l->mean_abs_err = l->median_abs_err = l->max_abs_err = NAN;
    l->nll = l->aic = l->bic = l->daic = l->weight = NAN;
    return true;
}

/* Counts and key ranges of the folds. */
static void fold_stats(cs_compare_result *r, const double *key)
{
    for (size_t f = 0; f < r->nfolds; f++) {
        for (size_t i = 0; i < r->n; i++) {
            if (r->fold[i] == (long)f) {
                r->fold_test[f]++;
                r->fold_key_lo[f] = fmin(r->fold_key_lo[f], key[i]);
                r->fold_key_hi[f] = fmax(r->fold_key_hi[f], key[i]);
            } else if (r->fold[i] < (long)f) {
                r->fold_train[f]++;
                r->train_key_hi[f] = fmax(r->train_key_hi[f], key[i]);
            }
        }
    }
}

/* ---- fitting the folds ------------------------------------------------------------------- */

/* The error of prediction `pred` of observation `obs`. */
static double pred_error(bool log_space, double pred, double obs)
{
    return log_space ? pred / obs - 1.0 : pred - obs;
}

/* Fits law k on fold f's training points and predicts its test points into l->pred. */
static int run_fold(const cs_compare_result *r, const cs_law *law, const cs_dataset *ds,
                    const cs_fit_params *fp, size_t f, cs_compare_law *l)
{
    size_t *rows = malloc(r->n * sizeof *rows);
    const double *const *cols = cs_dataset_cols(ds);
    size_t nv = cs_dataset_nvars(ds);
    size_t m = 0;
    cs_dataset *train = NULL;
    cs_fit_result *fit = NULL;
    double x[CS_LAW_MAX_OPS];
    int st;

    if (rows == NULL)
        return cs_fail(CS_ENOMEM, "compare: out of memory");
    for (size_t i = 0; i < r->n; i++)
        if (r->fold[i] < (long)f)
            rows[m++] = i;
    st = cs_dataset_subset(ds, rows, m, &train);
    if (st == CS_OK)
        st = cs_fit_run(law, train, fp, &fit);
    for (size_t i = 0; st == CS_OK && i < r->n; i++) {
        if (r->fold[i] != (long)f)
            continue;
        for (size_t j = 0; j < nv; j++)
            x[j] = cols[j][i];
        if (cs_law_eval(law, fit->estimate, x, &l->pred[i]) != CS_OK)
            l->pred[i] = NAN;
    }
    cs_fit_result_free(fit);
    cs_dataset_free(train);
    free(rows);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Error statistics of law l from its predictions. */
static void law_errors(const cs_compare_result *r, const double *y, cs_compare_law *l)
{
    double *a = malloc((r->n ? r->n : 1) * sizeof *a);
    double sum = 0.0;

    if (a == NULL)
        return;
    l->n_scored = 0;
    for (size_t f = 0; f < r->nfolds; f++) {
        double fs = 0.0;
        size_t fn = 0;

        for (size_t i = 0; i < r->n; i++) {
            if (r->fold[i] != (long)f || !isfinite(l->pred[i]))
                continue;
            a[l->n_scored] = fabs(pred_error(r->log_space, l->pred[i], y[i]));
            fs += a[l->n_scored++];
            fn++;
        }
        l->fold_mean[f] = fn ? fs / (double)fn : NAN;
    }
    for (size_t k = 0; k < l->n_scored; k++)
        sum += a[k];
    if (l->n_scored > 0) {
        qsort(a, l->n_scored, sizeof *a, cmp_double);
        l->mean_abs_err = sum / (double)l->n_scored;
        l->max_abs_err = a[l->n_scored - 1];
        l->median_abs_err = l->n_scored % 2 ? a[l->n_scored / 2]
                                            : 0.5 * (a[l->n_scored / 2 - 1] + a[l->n_scored / 2]);
    }
    free(a);
}

static void progress(const cs_compare_params *p, const cs_law *law, const char *what)
{
    const cs_law_info *info = cs_law_builtin_info(law);

    if (p->progress == NULL)
        return;
    fprintf(p->progress, "compare: %s: %s\n", info ? info->name : cs_law_formula(law), what);
    fflush(p->progress);
}

/* Every fold of law k. */
static int cross_validate(cs_compare_result *r, const cs_law *law, const cs_dataset *ds,
                          const cs_fit_params *fp, const cs_compare_params *p, cs_compare_law *l)
{
    char what[64];

    for (size_t f = 0; f < r->nfolds; f++) {
        int st;

        snprintf(what, sizeof what, "fold %zu of %zu", f + 1, r->nfolds);
        progress(p, law, what);
        st = run_fold(r, law, ds, fp, f, l);
        if (st == CS_ENOMEM)
            return st;
        if (st == CS_OK)
            continue;
        l->folds_failed++;
        if (l->fold_error == NULL) {
            char buf[1200];

            snprintf(buf, sizeof buf, "fold %zu: %s", f + 1, cs_errmsg());
            l->fold_error = strdup(buf);
        }
    }
    law_errors(r, cs_dataset_target(ds), l);
    return CS_OK;
}

/* ---- likelihood -------------------------------------------------------------------------- */

/* Fits all points, then refines under the Huber likelihood from that estimate. */
static int likelihood(const cs_law *law, const cs_dataset *ds, const cs_fit_params *fp,
                      const cs_compare_params *p, cs_compare_law *l)
{
    cs_fit_params lp = *fp;
    cs_fit_result *fit = NULL;
    cs_fit_work *w = NULL;
    double start[CS_LAW_MAX_OPS + 1];
    double coef[CS_LAW_MAX_OPS + 1];
    double f = NAN;
    size_t np = l->nparams;
    double n = (double)cs_dataset_n(ds);
    int stop = CS_FIT_STOP_FAILED;
    int st;

    progress(p, law, "all points");
    st = cs_fit_run(law, ds, fp, &fit);
    if (st == CS_OK) {
        memcpy(l->estimate, fit->estimate, np * sizeof *start);
        memcpy(start, fit->estimate, np * sizeof *start);
        for (size_t j = 0; j < np; j++)
            if ((cs_law_param_flags(law, j) & CS_LAW_POSITIVE) && !(start[j] > 0))
                start[j] = DBL_MIN;
        start[np] = NAN; /* profile the scale at the start */
        lp.method = CS_FIT_HUBER_LIK;
        lp.delta = p->lik_delta;
        w = cs_fit_work_alloc(law, ds, &lp);
        st = w ? CS_OK : CS_ENOMEM;
    }
    if (st == CS_OK)
        stop = cs_fit_local(w, NULL, start, coef, &f, NULL);
    cs_fit_work_free(w);
    cs_fit_result_free(fit);
    if (st == CS_OK && stop <= CS_FIT_STOP_MAXITER && isfinite(f)) {
        double k = (double)np + 1.0;

        l->nll = f;
        l->aic = 2.0 * k + 2.0 * f;
        l->bic = k * log(n) + 2.0 * f;
    } else if (st != CS_ENOMEM) {
        l->full_error = strdup(st ? cs_errmsg() : "the Huber-likelihood refinement failed");
        st = CS_OK;
    }
    return st;
}

/* Delta-AIC and Akaike weights over the laws with an AIC. */
static void akaike(cs_compare_result *r)
{
    double best = INFINITY;
    double sum = 0.0;

    for (size_t k = 0; k < r->nlaws; k++)
        if (isfinite(r->laws[k].aic))
            best = fmin(best, r->laws[k].aic);
    for (size_t k = 0; k < r->nlaws; k++) {
        cs_compare_law *l = &r->laws[k];

        if (!isfinite(l->aic))
            continue;
        l->daic = l->aic - best;
        l->weight = exp(-0.5 * l->daic);
        sum += l->weight;
    }
    for (size_t k = 0; k < r->nlaws; k++)
        if (isfinite(r->laws[k].aic))
            r->laws[k].weight /= sum;
}

/* ---- ranking and the whole run ----------------------------------------------------------- */

/* Complete laws (every fold fitted, every test point predicted) first, then by mean error. */
static bool complete(const cs_compare_result *r, const cs_compare_law *l)
{
    size_t ntest = 0;

    for (size_t f = 0; f < r->nfolds; f++)
        ntest += r->fold_test[f];
    return l->folds_failed == 0 && l->n_scored == ntest && isfinite(l->mean_abs_err);
}

/* True when law a ranks before law b (ties: the earlier law). */
static bool ranks_before(const cs_compare_result *r, size_t a, size_t b)
{
    const cs_compare_law *la = &r->laws[a];
    const cs_compare_law *lb = &r->laws[b];
    bool ca = complete(r, la);
    bool cb = complete(r, lb);

    if (ca != cb)
        return ca;
    if (isfinite(la->mean_abs_err) != isfinite(lb->mean_abs_err))
        return isfinite(la->mean_abs_err);
    if (isfinite(la->mean_abs_err) && la->mean_abs_err != lb->mean_abs_err)
        return la->mean_abs_err < lb->mean_abs_err;
    return a < b;
}

/* Insertion sort of r->rank (a handful of laws). */
static void rank_laws(cs_compare_result *r)
{
    for (size_t k = 0; k < r->nlaws; k++)
        r->rank[k] = k;
    for (size_t k = 1; k < r->nlaws; k++) {
        size_t v = r->rank[k];
        size_t q = k;

        while (q > 0 && ranks_before(r, v, r->rank[q - 1])) {
            r->rank[q] = r->rank[q - 1];
            q--;
        }
        r->rank[q] = v;
    }
}

/* The data sets must hold the same points: same count, targets, keys. */
static int check_data(const cs_law *const *laws, const cs_dataset *const *data, size_t nlaws)
{
    size_t n = cs_dataset_n(data[0]);

    for (size_t k = 0; k < nlaws; k++) {
        const double *y = cs_dataset_target(data[k]);

        if (cs_dataset_key(data[k]) == NULL || cs_dataset_nvars(data[k]) != cs_law_nvars(laws[k]))
            return cs_fail(CS_EINVAL, "compare: data set %zu has no key or is for another law", k);
        if (cs_dataset_n(data[k]) != n)
            return cs_fail(CS_EINPUT, "compare: law %zu has %zu points, law 1 has %zu", k + 1,
                           cs_dataset_n(data[k]), n);
        for (size_t i = 0; i < n; i++)
            if (y[i] != cs_dataset_target(data[0])[i] ||
                cs_dataset_key(data[k])[i] != cs_dataset_key(data[0])[i])
                return cs_fail(CS_EINPUT,
                               "compare: law %zu sees other targets or keys than law 1 (at "
                               "point %zu)",
                               k + 1, i + 1);
    }
    return CS_OK;
}

int cs_compare_run(const cs_law *const *laws, const cs_dataset *const *data, size_t nlaws,
                   const cs_fit_params *fp, const cs_compare_params *p, cs_compare_result **out)
{
    cs_compare_params def = cs_compare_default_params();
    cs_compare_result *r;
    int st;

    *out = NULL;
    p = p ? p : &def;
    if (nlaws == 0)
        return cs_fail(CS_EINVAL, "compare: no laws");
    st = check_data(laws, data, nlaws);
    if (st)
        return st;
    r = result_alloc(cs_dataset_n(data[0]), nlaws);
    if (r == NULL)
        return cs_fail(CS_ENOMEM, "compare: out of memory");
    r->cv = p->cv;
    r->log_space = fp->log_space;
    st = cs_compare_folds(cs_dataset_key(data[0]), r->n, p, r->fold, &r->nfolds);
    if (st == CS_OK && !folds_alloc(r))
        st = cs_fail(CS_ENOMEM, "compare: out of memory");
    if (st == CS_OK)
        fold_stats(r, cs_dataset_key(data[0]));
    for (size_t k = 0; st == CS_OK && k < nlaws; k++) {
        cs_compare_law *l = &r->laws[k];

        if (!law_alloc(l, r->n, r->nfolds, cs_law_nparams(laws[k])))
            st = cs_fail(CS_ENOMEM, "compare: out of memory");
        if (st == CS_OK)
            st = cross_validate(r, laws[k], data[k], fp, p, l);
        if (st == CS_OK && p->likelihood)
            st = likelihood(laws[k], data[k], fp, p, l);
    }
    if (st) {
        cs_compare_result_free(r);
        return st;
    }
    akaike(r);
    rank_laws(r);
    *out = r;
    return CS_OK;
}
