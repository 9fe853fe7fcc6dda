/* fit/fitjson.c: the fit result JSON (fit/fitjson.h) — gathering a fit into a cs_fitjson,
 * writing it with jansson, reading and validating it back, rebuilding its law.
 * Test: tests/unit/test_fit.c.
 */
#include "fit/fitjson.h"

#include "core/error.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "ctxscale-fit"

static char *dup_str(const char *s)
{
    size_t n;
    char *d;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void free_strv(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t k = 0; k < n; k++)
        free(v[k]);
    free(v);
}

void cs_fitjson_free(cs_fitjson *fj)
{
    if (fj == NULL)
        return;
    free(fj->law_name);
    free(fj->formula);
    free(fj->target);
    free_strv(fj->extra_derived, fj->nextra);
    free(fj->source);
    for (size_t j = 0; fj->vars && j < fj->nvars; j++) {
        free(fj->vars[j].name);
        free(fj->vars[j].origin);
    }
    free(fj->vars);
    free(fj->target_var.name);
    free(fj->target_var.origin);
    for (size_t j = 0; fj->params && j < fj->nparams; j++)
        free(fj->params[j].name);
    free(fj->params);
    for (size_t k = 0; fj->derived && k < fj->nderived; k++)
        free(fj->derived[k].name);
    free(fj->derived);
    free(fj->boot);
    free_strv(fj->warnings, fj->nwarnings);
    cs_holdout_result_free(fj->holdout);
    free(fj->select_cv);
    free(fj->select_key);
    for (size_t k = 0; fj->candidates && k < fj->ncandidates; k++)
        free(fj->candidates[k].law);
    free(fj->candidates);
    free(fj);
}

/* A zeroed result with every statistic NaN. */
static cs_fitjson *fitjson_new(void)
{
    cs_fitjson *fj = calloc(1, sizeof *fj);

    if (fj == NULL)
        return NULL;
    fj->version = CS_FITJSON_VERSION;
    fj->delta = fj->objective = fj->scale = fj->rmse = NAN;
    fj->max_abs_resid = fj->median_abs_resid = fj->nll = fj->aic = fj->bic = fj->cond = NAN;
    fj->level = NAN;
    return fj;
}

/* ---- gathering a fit --------------------------------------------------------------------- */

static bool gather_vars(cs_fitjson *fj, const cs_dataset *ds)
{
    size_t n = cs_dataset_n(ds);
    const double *const *cols = cs_dataset_cols(ds);

    fj->nvars = cs_dataset_nvars(ds);
    fj->vars = calloc(fj->nvars ? fj->nvars : 1, sizeof *fj->vars);
    if (fj->vars == NULL)
        return false;
    for (size_t j = 0; j <= fj->nvars; j++) {
        cs_fitjson_var *v = j < fj->nvars ? &fj->vars[j] : &fj->target_var;
        const double *x = j < fj->nvars ? cols[j] : cs_dataset_target(ds);

        v->name = dup_str(cs_dataset_var_name(ds, j));
        v->origin = dup_str(cs_dataset_var_origin(ds, j));
        if (v->name == NULL || v->origin == NULL)
            return false;
        v->min = v->max = n ? x[0] : NAN;
        for (size_t i = 1; i < n; i++) {
            v->min = fmin(v->min, x[i]);
            v->max = fmax(v->max, x[i]);
        }
    }
    return true;
}

static bool gather_params(cs_fitjson *fj, const cs_law *law, const cs_fit_result *fit,
                          const cs_boot_result *boot)
{
    fj->nparams = fit->nparams;
    fj->params = calloc(fj->nparams ? fj->nparams : 1, sizeof *fj->params);
    if (fj->params == NULL)
        return false;
    for (size_t j = 0; j < fj->nparams; j++) {
        cs_fitjson_param *p = &fj->params[j];

        p->name = dup_str(cs_law_param_name(law, j));
        if (p->name == NULL)
            return false;
        p->estimate = fit->estimate[j];
        p->se = boot ? boot->se[j] : NAN;
        p->lo = boot ? boot->lo[j] : NAN;
        p->hi = boot ? boot->hi[j] : NAN;
        p->se_asym = fit->se_asym[j];
        p->positive = (cs_law_param_flags(law, j) & CS_LAW_POSITIVE) != 0;
        cs_law_param_grid(law, j, &p->grid_lo, &p->grid_hi, &p->grid_n);
    }
    return true;
}

static bool gather_derived(cs_fitjson *fj, const cs_law *law, const cs_fit_result *fit,
                           const cs_boot_result *boot)
{
    fj->nderived = cs_law_nderived(law);
    fj->derived = calloc(fj->nderived ? fj->nderived : 1, sizeof *fj->derived);
    if (fj->derived == NULL)
        return false;
    for (size_t k = 0; k < fj->nderived; k++) {
        cs_fitjson_derived *d = &fj->derived[k];

        d->name = dup_str(cs_law_derived_name(law, k));
        if (d->name == NULL)
            return false;
        if (boot != NULL) {
            d->estimate = boot->dest[k];
            d->se = boot->dse[k];
            d->lo = boot->dlo[k];
            d->hi = boot->dhi[k];
        } else {
            if (cs_law_eval_derived(law, k, fit->estimate, &d->estimate, NULL) != CS_OK)
                d->estimate = NAN;
            d->se = d->lo = d->hi = NAN;
        }
    }
    return true;
}

static bool gather_strings(char ***dst, size_t *nd, char *const *a, size_t na, char *const *b,
                           size_t nb)
{
    *dst = calloc(na + nb + 1, sizeof **dst);
    if (*dst == NULL)
        return false;
    for (size_t k = 0; k < na + nb; k++) {
        (*dst)[k] = dup_str(k < na ? a[k] : b[k - na]);
        if ((*dst)[k] == NULL)
            return false;
        *nd = k + 1;
    }
    return true;
}

static void gather_stats(cs_fitjson *fj, const cs_fit_result *fit)
{
    fj->method = fit->method;
    fj->delta = fit->delta;
    fj->log_space = fit->log_space;
    fj->objective = fit->objective;
    fj->n_starts = fit->n_starts;
    fj->n_converged = fit->n_converged;
    fj->n_failed = fit->n_failed;
    fj->n_at_best = fit->n_at_best;
    fj->best_start = fit->best_start;
    fj->scale = fit->scale;
    fj->rmse = fit->rmse;
    fj->max_abs_resid = fit->max_abs_resid;
    fj->median_abs_resid = fit->median_abs_resid;
    fj->nll = fit->nll;
    fj->aic = fit->aic;
    fj->bic = fit->bic;
    fj->cond = fit->cond;
}

static bool gather_boot(cs_fitjson *fj, const cs_boot_result *boot)
{
    if (boot == NULL)
        return true;
    fj->nboot = boot->n;
    fj->seed = boot->seed;
    fj->level = boot->level;
    fj->by_group = boot->by_group;
    fj->boot_failed = boot->n_failed;
    fj->boot = malloc(boot->n * boot->nparams * sizeof *fj->boot);
    if (fj->boot == NULL)
        return false;
    memcpy(fj->boot, boot->samples, boot->n * boot->nparams * sizeof *fj->boot);
    return true;
}

int cs_fitjson_from_fit(const cs_law *law, const char *const *extra, size_t nextra,
                        const cs_dataset *ds, const cs_fit_result *fit, const cs_boot_result *boot,
                        cs_fitjson **out)
{
    cs_fitjson *fj;
    bool ok;

    *out = NULL;
    if (fit->nparams != cs_law_nparams(law) || cs_dataset_nvars(ds) != cs_law_nvars(law) ||
        (boot && (boot->nparams != fit->nparams || boot->nderived != cs_law_nderived(law))))
        return cs_fail(CS_EINVAL, "fitjson: the law, data, fit and bootstrap do not match");
    fj = fitjson_new();
    if (fj == NULL)
        return cs_fail(CS_ENOMEM, "fitjson: out of memory");
    fj->law_name = cs_law_builtin_info(law) ? dup_str(cs_law_builtin_info(law)->name) : NULL;
    fj->formula = dup_str(cs_law_formula(law));
    fj->target = dup_str(cs_law_target(law));
    fj->source = dup_str(cs_dataset_source(ds));
    fj->n_points = cs_dataset_n(ds);
    fj->n_read = cs_dataset_n_read(ds);
    fj->n_filtered = cs_dataset_n_filtered(ds);
    fj->n_dropped = cs_dataset_n_dropped(ds);
    gather_stats(fj, fit);
    ok = (fj->law_name || !cs_law_builtin_info(law)) && fj->formula && fj->target && fj->source &&
         gather_strings(&fj->extra_derived, &fj->nextra, (char *const *)extra, nextra, NULL, 0) &&
         gather_vars(fj, ds) && gather_params(fj, law, fit, boot) &&
         gather_derived(fj, law, fit, boot) && gather_boot(fj, boot) &&
         gather_strings(&fj->warnings, &fj->nwarnings, fit->warnings, fit->nwarnings,
                        boot ? boot->warnings : NULL, boot ? boot->nwarnings : 0);
    if (!ok) {
        cs_fitjson_free(fj);
        return cs_fail(CS_ENOMEM, "fitjson: out of memory");
    }
    *out = fj;
    return CS_OK;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* A number; NaN as null, infinities as the strings "inf" and "-inf" (JSON has neither). */
static json_t *jnum(double v)
{
    if (isnan(v))
        return json_null();
    if (isinf(v))
        return json_string(v > 0 ? "inf" : "-inf");
    return json_real(v);
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Builders record an allocation failure in *ok instead of checking every call. */
static void put(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (v == NULL || json_object_set_new(o, key, v) != 0)
        *ok = false;
}

static void push(json_t *a, json_t *v, bool *ok)
{
    if (v == NULL || json_array_append_new(a, v) != 0)
        *ok = false;
}

static json_t *jstrv(char *const *v, size_t n, bool *ok)
{
    json_t *a = json_array();

    for (size_t k = 0; a && k < n; k++)
        push(a, json_string(v[k]), ok);
    return a;
}

static json_t *jinterval(double lo, double hi, bool *ok)
{
    json_t *a = json_array();

    if (a) {
        push(a, jnum(lo), ok);
        push(a, jnum(hi), ok);
    }
    return a;
}

static json_t *write_law(const cs_fitjson *fj, bool *ok)
{
    json_t *o = json_object();
    json_t *vars = json_array();
    json_t *pos = json_array();

    for (size_t j = 0; vars && j < fj->nvars; j++)
        push(vars, json_string(fj->vars[j].name), ok);
    for (size_t j = 0; pos && j < fj->nparams; j++)
        if (fj->params[j].positive)
            push(pos, json_string(fj->params[j].name), ok);
    if (o == NULL) {
        json_decref(vars);
        json_decref(pos);
        return NULL;
    }
    put(o, "name", jstr(fj->law_name), ok);
    put(o, "formula", jstr(fj->formula), ok);
    put(o, "target", jstr(fj->target), ok);
    put(o, "variables", vars, ok);
    put(o, "positive", pos, ok);
    put(o, "extra_derived", jstrv(fj->extra_derived, fj->nextra, ok), ok);
    return o;
}

static json_t *write_var(const cs_fitjson_var *v, bool *ok)
{
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    put(o, "name", jstr(v->name), ok);
    put(o, "origin", jstr(v->origin), ok);
    put(o, "min", jnum(v->min), ok);
    put(o, "max", jnum(v->max), ok);
    return o;
}

static json_t *write_data(const cs_fitjson *fj, bool *ok)
{
    json_t *o = json_object();
    json_t *vars = json_array();

    for (size_t j = 0; vars && j < fj->nvars; j++)
        push(vars, write_var(&fj->vars[j], ok), ok);
    if (o == NULL) {
        json_decref(vars);
        return NULL;
    }
    put(o, "source", jstr(fj->source), ok);
    put(o, "points", json_integer((json_int_t)fj->n_points), ok);
    put(o, "rows_read", json_integer((json_int_t)fj->n_read), ok);
    put(o, "rows_filtered", json_integer((json_int_t)fj->n_filtered), ok);
    put(o, "rows_dropped", json_integer((json_int_t)fj->n_dropped), ok);
    put(o, "variables", vars, ok);
    put(o, "target", write_var(&fj->target_var, ok), ok);
    return o;
}

static json_t *write_param(const cs_fitjson_param *p, bool *ok)
{
    json_t *o = json_object();
    json_t *g = json_object();

    if (o == NULL || g == NULL) {
        json_decref(o);
        json_decref(g);
        return NULL;
    }
    put(g, "lo", jnum(p->grid_lo), ok);
    put(g, "hi", jnum(p->grid_hi), ok);
    put(g, "n", json_integer((json_int_t)p->grid_n), ok);
    put(o, "name", jstr(p->name), ok);
    put(o, "estimate", jnum(p->estimate), ok);
    put(o, "se", jnum(p->se), ok);
    put(o, "ci", jinterval(p->lo, p->hi, ok), ok);
    put(o, "se_asymptotic", jnum(p->se_asym), ok);
    put(o, "positive", json_boolean(p->positive), ok);
    put(o, "grid", g, ok);
    return o;
}

static json_t *write_derived(const cs_fitjson_derived *d, bool *ok)
{
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    put(o, "name", jstr(d->name), ok);
    put(o, "estimate", jnum(d->estimate), ok);
    put(o, "se", jnum(d->se), ok);
    put(o, "ci", jinterval(d->lo, d->hi, ok), ok);
    return o;
}

static json_t *write_stats(const cs_fitjson *fj, bool *ok)
{
    json_t *o = json_object();
    json_t *res = json_object();
    json_t *lik = json_object();

    if (o == NULL || res == NULL || lik == NULL) {
        json_decref(o);
        json_decref(res);
        json_decref(lik);
        return NULL;
    }
    put(res, "rmse", jnum(fj->rmse), ok);
    put(res, "max_abs", jnum(fj->max_abs_resid), ok);
    put(res, "median_abs", jnum(fj->median_abs_resid), ok);
    put(lik, "nll", jnum(fj->nll), ok);
    put(lik, "aic", jnum(fj->aic), ok);
    put(lik, "bic", jnum(fj->bic), ok);
    put(o, "objective", jnum(fj->objective), ok);
    put(o, "starts", json_integer((json_int_t)fj->n_starts), ok);
    put(o, "converged", json_integer((json_int_t)fj->n_converged), ok);
    put(o, "failed", json_integer((json_int_t)fj->n_failed), ok);
    put(o, "at_best", json_integer((json_int_t)fj->n_at_best), ok);
    put(o, "best_start", json_integer((json_int_t)fj->best_start), ok);
    put(o, "scale", jnum(fj->scale), ok);
    put(o, "condition", jnum(fj->cond), ok);
    put(o, "residuals", res, ok);
    put(o, "likelihood", lik, ok);
    return o;
}

static json_t *write_boot(const cs_fitjson *fj, bool *ok)
{
    json_t *o;
    json_t *rows;

    if (fj->nboot == 0)
        return json_null();
    o = json_object();
    rows = json_array();
    for (size_t b = 0; rows && b < fj->nboot; b++) {
        json_t *row = json_array();

        for (size_t j = 0; row && j < fj->nparams; j++)
            push(row, jnum(fj->boot[b * fj->nparams + j]), ok);
        push(rows, row, ok);
    }
    if (o == NULL) {
        json_decref(rows);
        return NULL;
    }
    put(o, "replicates", json_integer((json_int_t)fj->nboot), ok);
    put(o, "seed", json_integer((json_int_t)fj->seed), ok);
    put(o, "level", jnum(fj->level), ok);
    put(o, "by_group", json_boolean(fj->by_group), ok);
    put(o, "failed", json_integer((json_int_t)fj->boot_failed), ok);
    put(o, "samples", rows, ok);
    return o;
}

static json_t *jnumv(const double *v, size_t n, bool *ok)
{
    json_t *a = json_array();

    for (size_t k = 0; a && k < n; k++)
        push(a, jnum(v[k]), ok);
    return a;
}

static json_t *write_heldout_point(const cs_holdout_result *h, size_t i, bool *ok)
{
    json_t *o = json_object();
    json_t *iv = json_array();

    for (size_t k = 0; iv && k < h->nlevels; k++)
        push(iv, jinterval(h->lo[i * h->nlevels + k], h->hi[i * h->nlevels + k], ok), ok);
    if (o == NULL) {
        json_decref(iv);
        return NULL;
    }
    put(o, "row", jstr(h->where[i]), ok);
    put(o, "x", jnumv(h->vars + i * h->nvars, h->nvars, ok), ok);
    put(o, "observed", jnum(h->observed[i]), ok);
    put(o, "predicted", jnum(h->predicted[i]), ok);
    put(o, "intervals", iv, ok);
    put(o, "rel_error", jnum(h->rel_error[i]), ok);
    return o;
}

static json_t *write_holdout(const cs_holdout_result *h, bool *ok)
{
    json_t *o = json_object();
    json_t *pts = json_array();
    json_t *sum = json_object();

    for (size_t i = 0; pts && i < h->n; i++)
        push(pts, write_heldout_point(h, i, ok), ok);
    if (o == NULL || sum == NULL) {
        json_decref(o);
        json_decref(pts);
        json_decref(sum);
        return NULL;
    }
    put(sum, "mean_abs_rel_error", jnum(h->mean_abs_rel), ok);
    put(sum, "median_abs_rel_error", jnum(h->median_abs_rel), ok);
    put(sum, "max_abs_rel_error", jnum(h->max_abs_rel), ok);
    put(sum, "coverage", jnumv(h->coverage, h->nlevels, ok), ok);
    put(o, "where", jstr(h->expr), ok);
    put(o, "variables", jstrv(h->vname, h->nvars, ok), ok);
    put(o, "target", jstr(h->vname[h->nvars]), ok);
    put(o, "levels", jnumv(h->levels, h->nlevels, ok), ok);
    put(o, "bootstrap", json_integer((json_int_t)h->nboot), ok);
    put(o, "points", pts, ok);
    put(o, "summary", sum, ok);
    return o;
}

static json_t *write_selection(const cs_fitjson *fj, bool *ok)
{
    json_t *o = json_object();
    json_t *a = json_array();

    for (size_t k = 0; a && k < fj->ncandidates; k++) {
        const cs_fitjson_candidate *cd = &fj->candidates[k];
        json_t *e = json_object();

        if (e == NULL) {
            *ok = false;
            continue;
        }
        put(e, "law", jstr(cd->law), ok);
        put(e, "mean_abs_error", jnum(cd->mean_abs_err), ok);
        put(e, "max_abs_error", jnum(cd->max_abs_err), ok);
        put(e, "folds_failed", json_integer((json_int_t)cd->folds_failed), ok);
        put(e, "daic", jnum(cd->daic), ok);
        push(a, e, ok);
    }
    if (o == NULL) {
        json_decref(a);
        return NULL;
    }
    put(o, "cv", jstr(fj->select_cv), ok);
    put(o, "key", jstr(fj->select_key), ok);
    put(o, "folds", json_integer((json_int_t)fj->select_folds), ok);
    put(o, "candidates", a, ok);
    return o;
}

static json_t *write_root(const cs_fitjson *fj, bool *ok)
{
    json_t *o = json_object();
    json_t *m = json_object();
    json_t *params = json_array();
    json_t *derived = json_array();

    for (size_t j = 0; params && j < fj->nparams; j++)
        push(params, write_param(&fj->params[j], ok), ok);
    for (size_t k = 0; derived && k < fj->nderived; k++)
        push(derived, write_derived(&fj->derived[k], ok), ok);
    if (o == NULL || m == NULL) {
        json_decref(o);
        json_decref(m);
        json_decref(params);
        json_decref(derived);
        return NULL;
    }
    put(m, "name", json_string(cs_fit_method_name(fj->method)), ok);
    put(m, "delta", jnum(fj->delta), ok);
    put(m, "space", json_string(fj->log_space ? "log" : "linear"), ok);
    put(o, "format", json_string(FORMAT_NAME), ok);
    put(o, "version", json_integer(fj->version), ok);
    put(o, "law", write_law(fj, ok), ok);
    put(o, "method", m, ok);
    put(o, "data", write_data(fj, ok), ok);
    put(o, "parameters", params, ok);
    put(o, "derived", derived, ok);
    put(o, "fit", write_stats(fj, ok), ok);
    put(o, "bootstrap", write_boot(fj, ok), ok);
    put(o, "warnings", jstrv(fj->warnings, fj->nwarnings, ok), ok);
    if (fj->holdout)
        put(o, "holdout", write_holdout(fj->holdout, ok), ok);
    if (fj->ncandidates)
        put(o, "selection", write_selection(fj, ok), ok);
    return o;
}

int cs_fitjson_write(FILE *f, const cs_fitjson *fj)
{
    bool ok = true;
    json_t *root = write_root(fj, &ok);
    int st = CS_OK;

    if (root == NULL || !ok) {
        json_decref(root);
        return cs_fail(CS_ENOMEM, "fitjson: out of memory building the document");
    }
    if (json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 ||
        fputc('\n', f) == EOF || ferror(f))
        st = cs_fail(CS_EIO, "fitjson: write error: %s", strerror(errno));
    json_decref(root);
    return st;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* Where a value sits, for messages: the file name and the field path. */
typedef struct rd {
    const char *name;
} rd;

static int bad(const rd *c, const char *path, const char *what)
{
    return cs_fail(CS_EINPUT, "%s: field \"%s\": expected %s", c->name, path, what);
}

/* The member `key` of object o, and its path "parent.key" in buf (256 bytes). */
static int member(const rd *c, json_t *o, const char *parent, const char *key, char *buf,
                  json_t **v)
{
    snprintf(buf, 256, "%s%s%s", parent, *parent ? "." : "", key);
    *v = json_object_get(o, key);
    if (*v == NULL)
        return cs_fail(CS_EINPUT, "%s: missing field \"%s\"", c->name, buf);
    return CS_OK;
}

static int as_num(const rd *c, json_t *v, const char *path, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return CS_OK;
    }
    if (json_is_null(v)) {
        *out = NAN;
        return CS_OK;
    }
    if (json_is_string(v) && strcmp(json_string_value(v), "inf") == 0) {
        *out = HUGE_VAL;
        return CS_OK;
    }
    if (json_is_string(v) && strcmp(json_string_value(v), "-inf") == 0) {
        *out = -HUGE_VAL;
        return CS_OK;
    }
    return bad(c, path, "a number or null");
}

static int get_num(const rd *c, json_t *o, const char *parent, const char *key, double *out)
{
    char path[256];
    json_t *v;
    int st = member(c, o, parent, key, path, &v);

    return st ? st : as_num(c, v, path, out);
}

static int get_size(const rd *c, json_t *o, const char *parent, const char *key, size_t *out)
{
    char path[256];
    json_t *v;
    int st = member(c, o, parent, key, path, &v);

    if (st)
        return st;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(c, path, "a whole number >= 0");
    *out = (size_t)json_integer_value(v);
    return CS_OK;
}

static int get_bool(const rd *c, json_t *o, const char *parent, const char *key, bool *out)
{
    char path[256];
    json_t *v;
    int st = member(c, o, parent, key, path, &v);

    if (st)
        return st;
    if (!json_is_boolean(v))
        return bad(c, path, "true or false");
    *out = json_is_true(v);
    return CS_OK;
}

/* A string member into *out (malloc'd); null gives NULL when nullable. */
static int get_str(const rd *c, json_t *o, const char *parent, const char *key, bool nullable,
                   char **out)
{
    char path[256];
    json_t *v;
    int st = member(c, o, parent, key, path, &v);

    if (st)
        return st;
    if (nullable && json_is_null(v)) {
        *out = NULL;
        return CS_OK;
    }
    if (!json_is_string(v))
        return bad(c, path, nullable ? "a string or null" : "a string");
    *out = dup_str(json_string_value(v));
    return *out ? CS_OK : cs_fail(CS_ENOMEM, "fitjson: out of memory");
}

/* An object or array member. */
static int get_typed(const rd *c, json_t *o, const char *parent, const char *key, bool array,
                     char *path, json_t **v)
{
    int st = member(c, o, parent, key, path, v);

    if (st)
        return st;
    if (array ? !json_is_array(*v) : !json_is_object(*v))
        return bad(c, path, array ? "an array" : "an object");
    return CS_OK;
}

/* An array of strings into *out (n). */
static int get_strv(const rd *c, json_t *o, const char *parent, const char *key, char ***out,
                    size_t *n)
{
    char path[256];
    char ipath[300];
    json_t *a;
    int st = get_typed(c, o, parent, key, true, path, &a);

    if (st)
        return st;
    *out = calloc(json_array_size(a) + 1, sizeof **out);
    if (*out == NULL)
        return cs_fail(CS_ENOMEM, "fitjson: out of memory");
    for (size_t k = 0; k < json_array_size(a); k++) {
        json_t *v = json_array_get(a, k);

        snprintf(ipath, sizeof ipath, "%s[%zu]", path, k);
        if (!json_is_string(v))
            return bad(c, ipath, "a string");
        (*out)[k] = dup_str(json_string_value(v));
        if ((*out)[k] == NULL)
            return cs_fail(CS_ENOMEM, "fitjson: out of memory");
        *n = k + 1;
    }
    return CS_OK;
}

/* "ci": [lo, hi]. */
static int get_interval(const rd *c, json_t *o, const char *parent, double *lo, double *hi)
{
    char path[256];
    json_t *a;
    int st = get_typed(c, o, parent, "ci", true, path, &a);

    if (st)
        return st;
    if (json_array_size(a) != 2)
        return bad(c, path, "an array of 2 numbers");
    st = as_num(c, json_array_get(a, 0), path, lo);
    return st ? st : as_num(c, json_array_get(a, 1), path, hi);
}

static int read_law(const rd *c, json_t *root, cs_fitjson *fj)
{
    char path[256];
    json_t *o;
    char **vars = NULL;
    size_t nv = 0;
    int st = get_typed(c, root, "", "law", false, path, &o);

    if (st == CS_OK)
        st = get_str(c, o, "law", "name", true, &fj->law_name);
    if (st == CS_OK)
        st = get_str(c, o, "law", "formula", false, &fj->formula);
    if (st == CS_OK)
        st = get_str(c, o, "law", "target", false, &fj->target);
    if (st == CS_OK)
        st = get_strv(c, o, "law", "extra_derived", &fj->extra_derived, &fj->nextra);
    if (st == CS_OK)
        st = get_strv(c, o, "law", "variables", &vars, &nv);
    free_strv(vars, nv); /* the data section repeats them with their origins */
    return st;
}

static int read_method(const rd *c, json_t *root, cs_fitjson *fj)
{
    char path[256];
    char *name = NULL;
    char *space = NULL;
    json_t *o;
    int st = get_typed(c, root, "", "method", false, path, &o);

    if (st == CS_OK)
        st = get_str(c, o, "method", "name", false, &name);
    if (st == CS_OK && cs_fit_method_parse(name, &fj->method) != CS_OK)
        st = bad(c, "method.name", "huber, lsq or huber-lik");
    if (st == CS_OK)
        st = get_num(c, o, "method", "delta", &fj->delta);
    if (st == CS_OK)
        st = get_str(c, o, "method", "space", false, &space);
    if (st == CS_OK && strcmp(space, "log") != 0 && strcmp(space, "linear") != 0)
        st = bad(c, "method.space", "\"log\" or \"linear\"");
    if (st == CS_OK)
        fj->log_space = strcmp(space, "log") == 0;
    free(name);
    free(space);
    return st;
}

static int read_var(const rd *c, json_t *o, const char *path, cs_fitjson_var *v)
{
    int st = get_str(c, o, path, "name", false, &v->name);

    if (st == CS_OK)
        st = get_str(c, o, path, "origin", false, &v->origin);
    if (st == CS_OK)
        st = get_num(c, o, path, "min", &v->min);
    if (st == CS_OK)
        st = get_num(c, o, path, "max", &v->max);
    return st;
}

static int read_data(const rd *c, json_t *root, cs_fitjson *fj)
{
    char path[256];
    char ipath[300];
    json_t *o;
    json_t *a;
    json_t *t;
    int st = get_typed(c, root, "", "data", false, path, &o);

    if (st == CS_OK)
        st = get_str(c, o, "data", "source", false, &fj->source);
    if (st == CS_OK)
        st = get_size(c, o, "data", "points", &fj->n_points);
    if (st == CS_OK)
        st = get_size(c, o, "data", "rows_read", &fj->n_read);
    if (st == CS_OK)
        st = get_size(c, o, "data", "rows_filtered", &fj->n_filtered);
    if (st == CS_OK)
        st = get_size(c, o, "data", "rows_dropped", &fj->n_dropped);
    if (st == CS_OK)
        st = get_typed(c, o, "data", "target", false, path, &t);
    if (st == CS_OK)
        st = read_var(c, t, path, &fj->target_var);
    if (st == CS_OK)
        st = get_typed(c, o, "data", "variables", true, path, &a);
    if (st)
        return st;
    fj->vars = calloc(json_array_size(a) + 1, sizeof *fj->vars);
    if (fj->vars == NULL)
        return cs_fail(CS_ENOMEM, "fitjson: out of memory");
    for (size_t j = 0; st == CS_OK && j < json_array_size(a); j++) {
        snprintf(ipath, sizeof ipath, "data.variables[%zu]", j);
        fj->nvars = j + 1;
        st = json_is_object(json_array_get(a, j))
                 ? read_var(c, json_array_get(a, j), ipath, &fj->vars[j])
                 : bad(c, ipath, "an object");
    }
    return st;
}

static int read_param(const rd *c, json_t *o, const char *path, cs_fitjson_param *p)
{
    char gpath[256];
    json_t *g;
    int st = get_str(c, o, path, "name", false, &p->name);

    if (st == CS_OK)
        st = get_num(c, o, path, "estimate", &p->estimate);
    if (st == CS_OK)
        st = get_num(c, o, path, "se", &p->se);
    if (st == CS_OK)
        st = get_interval(c, o, path, &p->lo, &p->hi);
    if (st == CS_OK)
        st = get_num(c, o, path, "se_asymptotic", &p->se_asym);
    if (st == CS_OK)
        st = get_bool(c, o, path, "positive", &p->positive);
    if (st == CS_OK)
        st = get_typed(c, o, path, "grid", false, gpath, &g);
    if (st == CS_OK)
        st = get_num(c, g, gpath, "lo", &p->grid_lo);
    if (st == CS_OK)
        st = get_num(c, g, gpath, "hi", &p->grid_hi);
    if (st == CS_OK)
        st = get_size(c, g, gpath, "n", &p->grid_n);
    if (st == CS_OK && !isfinite(p->estimate))
        st = bad(c, path, "a finite estimate");
    return st;
}

static int read_derived(const rd *c, json_t *o, const char *path, cs_fitjson_derived *d)
{
    int st = get_str(c, o, path, "name", false, &d->name);

    if (st == CS_OK)
        st = get_num(c, o, path, "estimate", &d->estimate);
    if (st == CS_OK)
        st = get_num(c, o, path, "se", &d->se);
    if (st == CS_OK)
        st = get_interval(c, o, path, &d->lo, &d->hi);
    return st;
}

static int read_lists(const rd *c, json_t *root, cs_fitjson *fj)
{
    char path[256];
    char ipath[300];
    json_t *a;
    json_t *b;
    int st = get_typed(c, root, "", "parameters", true, path, &a);

    if (st == CS_OK)
        st = get_typed(c, root, "", "derived", true, path, &b);
    if (st)
        return st;
    if (json_array_size(a) == 0)
        return bad(c, "parameters", "at least one parameter");
    fj->params = calloc(json_array_size(a), sizeof *fj->params);
    fj->derived = calloc(json_array_size(b) + 1, sizeof *fj->derived);
    if (fj->params == NULL || fj->derived == NULL)
        return cs_fail(CS_ENOMEM, "fitjson: out of memory");
    for (size_t j = 0; st == CS_OK && j < json_array_size(a); j++) {
        snprintf(ipath, sizeof ipath, "parameters[%zu]", j);
        fj->nparams = j + 1;
        st = json_is_object(json_array_get(a, j))
                 ? read_param(c, json_array_get(a, j), ipath, &fj->params[j])
                 : bad(c, ipath, "an object");
    }
    for (size_t k = 0; st == CS_OK && k < json_array_size(b); k++) {
        snprintf(ipath, sizeof ipath, "derived[%zu]", k);
        fj->nderived = k + 1;
        st = json_is_object(json_array_get(b, k))
                 ? read_derived(c, json_array_get(b, k), ipath, &fj->derived[k])
                 : bad(c, ipath, "an object");
    }
    return st;
}

static int read_stats(const rd *c, json_t *root, cs_fitjson *fj)
{
    char path[256];
    char rpath[256];
    json_t *o;
    json_t *r;
    json_t *l;
    int st = get_typed(c, root, "", "fit", false, path, &o);

    if (st == CS_OK)
        st = get_num(c, o, "fit", "objective", &fj->objective);
    if (st == CS_OK)
        st = get_size(c, o, "fit", "starts", &fj->n_starts);
    if (st == CS_OK)
        st = get_size(c, o, "fit", "converged", &fj->n_converged);
    if (st == CS_OK)
        st = get_size(c, o, "fit", "failed", &fj->n_failed);
    if (st == CS_OK)
        st = get_size(c, o, "fit", "at_best", &fj->n_at_best);
    if (st == CS_OK)
        st = get_size(c, o, "fit", "best_start", &fj->best_start);
    if (st == CS_OK)
        st = get_num(c, o, "fit", "scale", &fj->scale);
    if (st == CS_OK)
        st = get_num(c, o, "fit", "condition", &fj->cond);
    if (st == CS_OK)
        st = get_typed(c, o, "fit", "residuals", false, rpath, &r);
    if (st == CS_OK)
        st = get_num(c, r, rpath, "rmse", &fj->rmse);
    if (st == CS_OK)
        st = get_num(c, r, rpath, "max_abs", &fj->max_abs_resid);
    if (st == CS_OK)
        st = get_num(c, r, rpath, "median_abs", &fj->median_abs_resid);
    if (st == CS_OK)
        st = get_typed(c, o, "fit", "likelihood", false, rpath, &l);
    if (st == CS_OK)
        st = get_num(c, l, rpath, "nll", &fj->nll);
    if (st == CS_OK)
        st = get_num(c, l, rpath, "aic", &fj->aic);
    if (st == CS_OK)
        st = get_num(c, l, rpath, "bic", &fj->bic);
    return st;
}

/* The rows of bootstrap.samples, each of nparams numbers. */
static int read_samples(const rd *c, json_t *a, cs_fitjson *fj)
{
    char ipath[300];

    if (json_array_size(a) != fj->nboot)
        return bad(c, "bootstrap.samples", "as many rows as bootstrap.replicates");
    fj->boot = malloc((fj->nboot ? fj->nboot : 1) * fj->nparams * sizeof *fj->boot);
    if (fj->boot == NULL)
        return cs_fail(CS_ENOMEM, "fitjson: out of memory for %zu samples", fj->nboot);
    for (size_t b = 0; b < fj->nboot; b++) {
        json_t *row = json_array_get(a, b);

        snprintf(ipath, sizeof ipath, "bootstrap.samples[%zu]", b);
        if (!json_is_array(row) || json_array_size(row) != fj->nparams)
            return bad(c, ipath, "an array with one number per parameter");
        for (size_t j = 0; j < fj->nparams; j++) {
            int st = as_num(c, json_array_get(row, j), ipath, &fj->boot[b * fj->nparams + j]);

            if (st)
                return st;
        }
    }
    return CS_OK;
}

static int read_boot(const rd *c, json_t *root, cs_fitjson *fj)
{
    char path[256];
    json_t *o;
    json_t *a;
    size_t seed = 0;
    int st = member(c, root, "", "bootstrap", path, &o);

    if (st || json_is_null(o))
        return st;
    if (!json_is_object(o))
        return bad(c, "bootstrap", "an object or null");
    st = get_size(c, o, "bootstrap", "replicates", &fj->nboot);
    if (st == CS_OK)
        st = get_size(c, o, "bootstrap", "seed", &seed);
    if (st == CS_OK)
        st = get_num(c, o, "bootstrap", "level", &fj->level);
    if (st == CS_OK)
        st = get_bool(c, o, "bootstrap", "by_group", &fj->by_group);
    if (st == CS_OK)
        st = get_size(c, o, "bootstrap", "failed", &fj->boot_failed);
    if (st == CS_OK)
        st = get_typed(c, o, "bootstrap", "samples", true, path, &a);
    fj->seed = (uint64_t)seed;
    return st ? st : read_samples(c, a, fj);
}

/* An array of n numbers at o.key into v. */
static int get_numv(const rd *c, json_t *o, const char *parent, const char *key, double *v,
                    size_t n)
{
    char path[256];
    json_t *a;
    int st = get_typed(c, o, parent, key, true, path, &a);

    if (st == CS_OK && json_array_size(a) != n)
        return bad(c, path, "an array of the right length");
    for (size_t k = 0; st == CS_OK && k < n; k++)
        st = as_num(c, json_array_get(a, k), path, &v[k]);
    return st;
}

static int read_heldout_point(const rd *c, json_t *p, const char *path, cs_holdout_result *h,
                              size_t i)
{
    char ipath[300];
    json_t *iv;
    int st = json_is_object(p) ? CS_OK : bad(c, path, "an object");

    if (st == CS_OK)
        st = get_str(c, p, path, "row", false, &h->where[i]);
    if (st == CS_OK)
        st = get_numv(c, p, path, "x", h->vars + i * h->nvars, h->nvars);
    if (st == CS_OK)
        st = get_num(c, p, path, "observed", &h->observed[i]);
    if (st == CS_OK)
        st = get_num(c, p, path, "predicted", &h->predicted[i]);
    if (st == CS_OK)
        st = get_num(c, p, path, "rel_error", &h->rel_error[i]);
    if (st == CS_OK)
        st = get_typed(c, p, path, "intervals", true, ipath, &iv);
    if (st == CS_OK && json_array_size(iv) != h->nlevels)
        st = bad(c, ipath, "one interval per level");
    for (size_t k = 0; st == CS_OK && k < h->nlevels; k++) {
        json_t *one = json_array_get(iv, k);

        if (!json_is_array(one) || json_array_size(one) != 2)
            return bad(c, ipath, "intervals of 2 numbers");
        st = as_num(c, json_array_get(one, 0), ipath, &h->lo[i * h->nlevels + k]);
        if (st == CS_OK)
            st = as_num(c, json_array_get(one, 1), ipath, &h->hi[i * h->nlevels + k]);
    }
    return st;
}

/* The hold-out part; its sizes come from its arrays. */
static int read_holdout(const rd *c, json_t *o, cs_fitjson *fj)
{
    char path[256];
    char ipath[300];
    json_t *names;
    json_t *lv;
    json_t *pts;
    cs_holdout_result *h;
    size_t nv;
    int st = get_typed(c, o, "holdout", "variables", true, path, &names);

    if (st == CS_OK)
        st = get_typed(c, o, "holdout", "levels", true, path, &lv);
    if (st == CS_OK)
        st = get_typed(c, o, "holdout", "points", true, path, &pts);
    if (st == CS_OK && json_array_size(lv) > CS_PREDICT_MAX_LEVELS)
        st = bad(c, "holdout.levels", "at most 8 levels");
    if (st)
        return st;
    nv = json_array_size(names);
    h = fj->holdout = cs_holdout_result_alloc(json_array_size(pts), nv, json_array_size(lv));
    if (h == NULL)
        return CS_ENOMEM;
    st = get_numv(c, o, "holdout", "levels", h->levels, h->nlevels);
    if (st == CS_OK)
        st = get_str(c, o, "holdout", "where", true, &h->expr);
    if (st == CS_OK)
        st = get_size(c, o, "holdout", "bootstrap", &h->nboot);
    for (size_t j = 0; st == CS_OK && j < nv; j++) {
        json_t *v = json_array_get(names, j);

        if (!json_is_string(v))
            return bad(c, "holdout.variables", "strings");
        h->vname[j] = dup_str(json_string_value(v));
        st = h->vname[j] ? CS_OK : cs_fail(CS_ENOMEM, "fitjson: out of memory");
    }
    if (st == CS_OK)
        st = get_str(c, o, "holdout", "target", false, &h->vname[nv]);
    for (size_t i = 0; st == CS_OK && i < h->n; i++) {
        snprintf(ipath, sizeof ipath, "holdout.points[%zu]", i);
        st = read_heldout_point(c, json_array_get(pts, i), ipath, h, i);
    }
    if (st == CS_OK)
        cs_holdout_summarise(h);
    return st;
}

static int read_candidate(const rd *c, json_t *e, const char *path, cs_fitjson_candidate *cd)
{
    int st = json_is_object(e) ? CS_OK : bad(c, path, "an object");

    if (st == CS_OK)
        st = get_str(c, e, path, "law", false, &cd->law);
    if (st == CS_OK)
        st = get_num(c, e, path, "mean_abs_error", &cd->mean_abs_err);
    if (st == CS_OK)
        st = get_num(c, e, path, "max_abs_error", &cd->max_abs_err);
    if (st == CS_OK)
        st = get_size(c, e, path, "folds_failed", &cd->folds_failed);
    if (st == CS_OK)
        st = get_num(c, e, path, "daic", &cd->daic);
    return st;
}

static int read_selection(const rd *c, json_t *o, cs_fitjson *fj)
{
    char path[256];
    char ipath[300];
    json_t *a;
    int st = get_str(c, o, "selection", "cv", false, &fj->select_cv);

    if (st == CS_OK)
        st = get_str(c, o, "selection", "key", false, &fj->select_key);
    if (st == CS_OK)
        st = get_size(c, o, "selection", "folds", &fj->select_folds);
    if (st == CS_OK)
        st = get_typed(c, o, "selection", "candidates", true, path, &a);
    if (st)
        return st;
    fj->candidates = calloc(json_array_size(a) + 1, sizeof *fj->candidates);
    if (fj->candidates == NULL)
        return cs_fail(CS_ENOMEM, "fitjson: out of memory");
    for (size_t k = 0; st == CS_OK && k < json_array_size(a); k++) {
        snprintf(ipath, sizeof ipath, "selection.candidates[%zu]", k);
        fj->ncandidates = k + 1;
        st = read_candidate(c, json_array_get(a, k), ipath, &fj->candidates[k]);
    }
    return st;
}

/* The optional parts: absent or null in older files. */
static int read_optional(const rd *c, json_t *root, cs_fitjson *fj)
{
    json_t *h = json_object_get(root, "holdout");
    json_t *s = json_object_get(root, "selection");
    int st = CS_OK;

    if (h != NULL && !json_is_null(h))
        st = json_is_object(h) ? read_holdout(c, h, fj) : bad(c, "holdout", "an object or null");
    if (st == CS_OK && s != NULL && !json_is_null(s))
        st =
            json_is_object(s) ? read_selection(c, s, fj) : bad(c, "selection", "an object or null");
    return st;
}

static int read_root(const rd *c, json_t *root, cs_fitjson *fj)
{
    char *format = NULL;
    size_t version = 0;
    int st;

    if (!json_is_object(root))
        return cs_fail(CS_EINPUT, "%s: expected a JSON object at the top", c->name);
    st = get_str(c, root, "", "format", false, &format);
    if (st == CS_OK && strcmp(format, FORMAT_NAME) != 0)
        st = bad(c, "format", "\"" FORMAT_NAME "\" (this is not a ctxscale fit result)");
    free(format);
    if (st == CS_OK)
        st = get_size(c, root, "", "version", &version);
    if (st == CS_OK && version != CS_FITJSON_VERSION)
        st = cs_fail(CS_EINPUT,
                     "%s: version %zu of the fit format is not supported (this "
                     "ctxscale reads version %d)",
                     c->name, version, CS_FITJSON_VERSION);
    if (st == CS_OK)
        st = read_law(c, root, fj);
    if (st == CS_OK)
        st = read_method(c, root, fj);
    if (st == CS_OK)
        st = read_data(c, root, fj);
    if (st == CS_OK)
        st = read_lists(c, root, fj);
    if (st == CS_OK)
        st = read_stats(c, root, fj);
    if (st == CS_OK)
        st = read_boot(c, root, fj);
    if (st == CS_OK)
        st = get_strv(c, root, "", "warnings", &fj->warnings, &fj->nwarnings);
    if (st == CS_OK)
        st = read_optional(c, root, fj);
    return st;
}

int cs_fitjson_read_mem(const char *text, size_t len, const char *name, cs_fitjson **out)
{
    rd c = {name ? name : "<fit>"};
    json_error_t err;
    json_t *root;
    cs_fitjson *fj;
    int st;

    *out = NULL;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return cs_fail(CS_EINPUT, "%s:%d:%d: malformed JSON: %s", c.name, err.line, err.column,
                       err.text);
    fj = fitjson_new();
    st = fj ? read_root(&c, root, fj) : cs_fail(CS_ENOMEM, "fitjson: out of memory");
    json_decref(root);
    if (st) {
        cs_fitjson_free(fj);
        return st;
    }
    *out = fj;
    return CS_OK;
}

/* The whole of `f` into a malloc'd buffer. */
static int slurp(FILE *f, const char *name, char **buf, size_t *len)
{
    size_t cap = 1 << 16;
    size_t n = 0;
    char *b = malloc(cap);

    while (b != NULL) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        char *nb = realloc(b, cap);

        if (nb == NULL)
            free(b);
        b = nb;
    }
    if (b == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory reading the file", name);
    if (ferror(f)) {
        free(b);
        return cs_fail(CS_EIO, "%s: read error: %s", name, strerror(errno));
    }
    *buf = b;
    *len = n;
    return CS_OK;
}

int cs_fitjson_read(const char *path, cs_fitjson **out)
{
    bool std_in = strcmp(path, "-") == 0;
    const char *name = std_in ? "<stdin>" : path;
    FILE *f = std_in ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    int st;

    *out = NULL;
    if (f == NULL)
        return cs_fail(CS_EIO, "%s: cannot open: %s", path, strerror(errno));
    st = slurp(f, name, &buf, &len);
    if (!std_in)
        fclose(f);
    if (st == CS_OK)
        st = cs_fitjson_read_mem(buf, len, name, out);
    free(buf);
    return st;
}

/* ---- the law back ------------------------------------------------------------------------ */

static int law_positive(cs_law *law, const cs_fitjson *fj)
{
    char names[4096];
    size_t off = 0;

    names[0] = '\0';
    for (size_t j = 0; j < fj->nparams && off < sizeof names; j++)
        if (fj->params[j].positive && !(cs_law_param_flags(law, j) & CS_LAW_POSITIVE))
            off += (size_t)snprintf(names + off, sizeof names - off, "%s ", fj->params[j].name);
    return off ? cs_law_set_positive(law, names) : CS_OK;
}

int cs_fitjson_law(const cs_fitjson *fj, cs_law **out)
{
    const char **vars = calloc(fj->nvars + 1, sizeof *vars);
    cs_law *law = NULL;
    int st = vars ? CS_OK : cs_fail(CS_ENOMEM, "fitjson: out of memory");

    *out = NULL;
    for (size_t j = 0; vars && j < fj->nvars; j++)
        vars[j] = fj->vars[j].name;
    if (st == CS_OK) {
        law = fj->law_name ? cs_law_builtin(fj->law_name)
                           : cs_law_parse(fj->formula, vars, fj->nvars);
        st = law ? CS_OK : CS_EINPUT;
    }
    free(vars);
    if (st == CS_OK && cs_law_nparams(law) != fj->nparams)
        st = cs_fail(CS_EINPUT, "fitjson: the law has %zu parameters, the result %zu",
                     cs_law_nparams(law), fj->nparams);
    for (size_t j = 0; st == CS_OK && j < fj->nparams; j++)
        if (strcmp(cs_law_param_name(law, j), fj->params[j].name) != 0)
            st = cs_fail(CS_EINPUT, "fitjson: parameter %zu is %s in the law, %s in the result", j,
                         cs_law_param_name(law, j), fj->params[j].name);
    if (st == CS_OK)
        st = law_positive(law, fj);
    for (size_t k = 0; st == CS_OK && k < fj->nextra; k++)
        st = cs_law_add_derived(law, fj->extra_derived[k]);
    if (st) {
        cs_law_free(law);
        return cs_fail_prefix(st, "fitjson: cannot rebuild the law");
    }
    *out = law;
    return CS_OK;
}

long cs_fitjson_param_index(const cs_fitjson *fj, const char *name)
{
    for (size_t j = 0; j < fj->nparams; j++)
        if (strcmp(fj->params[j].name, name) == 0)
            return (long)j;
    return -1;
}
