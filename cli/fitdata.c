/* cli/fitdata.c: the data, method and comparison options, --laws and --levels, reading points,
 * building laws, the default ordering key and the law comparison table shared by `ctxscale
 * fit`, `compare` and `predict` (cli/fitdata.h).
 * Tests: tests/cli/test_fit.sh, tests/cli/test_predict.sh.
 */
#include "cli/fitdata.h"

#include "cli/shared_opts.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/parse.h"
#include "core/runlog_read.h"
#include "fit/predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ------------------------------------------------------------------------------ */

void cs_cli_fit_opts_init(cs_cli_fit_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fp = cs_fit_default_params();
    o->cp = cs_compare_default_params();
}

static int parse_space(const char *arg, bool *log_space)
{
    if (strcmp(arg, "log") != 0 && strcmp(arg, "linear") != 0)
        return cs_fail(CS_EINPUT, "--space: expected log or linear, got \"%s\"", arg);
    *log_space = strcmp(arg, "log") == 0;
    return CS_OK;
}

int cs_cli_fit_opts_take(cs_cli_fit_opts *o, int key, const char *arg)
{
    switch (key) {
    case CS_CLI_KEY_DROP_TOP: return cs_cli_parse_whole(arg, &o->drop_top, "--drop-top", 0);
    case CS_CLI_KEY_BY: o->by = arg; return CS_OK;
    case CS_CLI_KEY_METHOD: return cs_fit_method_parse(arg, &o->fp.method);
    case CS_CLI_KEY_DELTA:
        return cs_parse_double_ex(arg, &o->fp.delta, CS_PARSE_POSITIVE, "--delta");
    case CS_CLI_KEY_SPACE: return parse_space(arg, &o->fp.log_space);
    case 't': return cs_cli_parse_whole(arg, &o->fp.threads, "--threads", 1);
    case CS_CLI_KEY_MAX_ITER: return cs_cli_parse_whole(arg, &o->fp.max_iter, "--max-iter", 1);
    case CS_CLI_KEY_CV: return cs_compare_cv_parse(arg, &o->cp.cv);
    case CS_CLI_KEY_FOLDS: return cs_cli_parse_whole(arg, &o->cp.folds, "--folds", 1);
    case CS_CLI_KEY_TRAIN_FRAC:
        return cs_cli_parse_fraction(arg, &o->cp.train_frac, "--train-frac");
    default: return cs_cli_points_take(&o->pts, key, arg);
    }
}

cs_dataset_params cs_cli_fit_opts_data(const cs_cli_fit_opts *o)
{
    cs_dataset_params dp = cs_cli_points_dataset(&o->pts);

    dp.drop_top = o->drop_top;
    dp.positive_target = o->fp.log_space;
    return dp;
}

int cs_cli_laws_add(cs_cli_laws *l, const char *law, const char *opt)
{
    if (l->n == CS_CLI_LAWS_MAX)
        return cs_fail(CS_EINPUT, "--%s: at most %d laws", opt, CS_CLI_LAWS_MAX);
    l->names[l->n++] = law;
    return CS_OK;
}

int cs_cli_laws_take(cs_cli_laws *l, const char *arg, const char *hint)
{
    char *save = NULL;
    char *copy;
    int st = CS_OK;

    if (l->ncopies == CS_CLI_LAWS_MAX)
        return cs_fail(CS_EINPUT, "--laws: at most %d times", CS_CLI_LAWS_MAX);
    if ((copy = strdup(arg)) == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    l->copies[l->ncopies++] = copy;
    for (char *tok = strtok_r(copy, ", ", &save); tok && st == CS_OK;
         tok = strtok_r(NULL, ", ", &save)) {
        if (!cs_cli_is_builtin(tok))
            return cs_fail(CS_EINPUT, "--laws: '%s' is not a built-in law%s", tok, hint);
        st = cs_cli_laws_add(l, tok, "laws");
    }
    return st;
}

void cs_cli_laws_clear(cs_cli_laws *l)
{
    for (size_t k = 0; k < l->ncopies; k++)
        free(l->copies[k]);
    memset(l, 0, sizeof *l);
}

int cs_cli_parse_levels(const char *s, double *levels, size_t *n)
{
    char buf[256];
    char *save = NULL;

    if (strlen(s) >= sizeof buf)
        return cs_fail(CS_EINPUT, "--levels: too long");
    snprintf(buf, sizeof buf, "%s", s);
    *n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double v;
        int st = cs_parse_double(tok, &v, "--levels");

        if (st)
            return st;
        if (!(v > 0 && v < 1))
            return cs_fail(CS_EINPUT, "--levels: expected numbers between 0 and 1, got %s", tok);
        if (*n == CS_PREDICT_MAX_LEVELS)
            return cs_fail(CS_EINPUT, "--levels: at most %d levels", CS_PREDICT_MAX_LEVELS);
        levels[(*n)++] = v;
    }
    return *n ? CS_OK : cs_fail(CS_EINPUT, "--levels: expected P,P,...");
}

/* ---- data and laws ------------------------------------------------------------------------ */

int cs_cli_read_points(const char *path, cs_table **t)
{
    char **paths = NULL;
    size_t n = 0;
    int st;

    if (!cs_cli_is_runs_dir(path))
        return cs_csv_read(path, NULL, t);
    st = cs_runlog_read_list(path, &paths, &n);
    if (st == CS_OK && n == 0)
        st = cs_fail(CS_EINPUT, "%s: no run logs (*.h5) in this directory", path);
    if (st == CS_OK)
        st = cs_runlog_read_summaries((const char *const *)paths, n, path, t);
    cs_runlog_read_list_free(paths, n);
    return st;
}

bool cs_cli_is_builtin(const char *name)
{
    size_t n;
    const cs_law_info *list = cs_law_builtin_list(&n);

    for (size_t k = 0; k < n; k++)
        if (strcmp(list[k].name, name) == 0)
            return true;
    return false;
}

/* The name before '=' of a --map or --derive entry, trimmed, into buf (CS_LAW_MAX_NAME + 1). */
static void entry_name(const char *s, char *buf)
{
    size_t len = strcspn(s, "=");

    while (len > 0 && s[len - 1] == ' ')
        len--;
    while (len > 0 && *s == ' ') {
        s++;
        len--;
    }
    snprintf(buf, CS_LAW_MAX_NAME + 1, "%.*s", (int)(len <= CS_LAW_MAX_NAME ? len : 0), s);
}

cs_law *cs_cli_law(const char *text, const cs_table *t, const cs_dataset_params *dp)
{
    size_t nc = cs_table_ncols(t);
    size_t ne = dp->nmaps + dp->nderives;
    const char **names;
    char(*buf)[CS_LAW_MAX_NAME + 1];
    size_t n = 0;
    cs_law *law;

    if (cs_cli_is_builtin(text))
        return cs_law_builtin(text);
    names = calloc(nc + ne + 1, sizeof *names);
    buf = calloc(ne + 1, sizeof *buf);
    if (names == NULL || buf == NULL) {
        free(names);
        free(buf);
        cs_fail(CS_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t c = 0; c < nc; c++)
        names[n++] = cs_table_col_name(t, c);
    for (size_t k = 0; k < ne; k++) {
        entry_name(k < dp->nmaps ? dp->maps[k] : dp->derives[k - dp->nmaps], buf[k]);
        names[n++] = buf[k];
    }
    law = cs_law_parse(text, names, n);
    free(buf);
    free(names);
    return law;
}

/* True when `name` is a column or a --map/--derive name. */
static bool has_name(const cs_table *t, const cs_dataset_params *dp, const char *name)
{
    char buf[CS_LAW_MAX_NAME + 1];

    if (cs_table_find(t, name) >= 0)
        return true;
    for (size_t k = 0; k < dp->nmaps + dp->nderives; k++) {
        entry_name(k < dp->nmaps ? dp->maps[k] : dp->derives[k - dp->nmaps], buf);
        if (strcmp(buf, name) == 0)
            return true;
    }
    return false;
}

const char *cs_cli_default_key(const cs_table *t, const cs_dataset_params *dp)
{
    if (has_name(t, dp, "C"))
        return "C";
    if (has_name(t, dp, "N") && has_name(t, dp, "D"))
        return "6*N*D";
    if (has_name(t, dp, "N"))
        return "N";
    return NULL;
}

/* ---- comparison --------------------------------------------------------------------------- */

void cs_cli_comparison_clear(cs_cli_comparison *c)
{
    for (size_t k = 0; k < c->nlaws; k++)
        free(c->names[k]);
    for (size_t k = 0; k < c->nskipped; k++)
        free(c->skipped[k]);
    free(c->names);
    free(c->skipped);
    cs_compare_result_free(c->res);
    memset(c, 0, sizeof *c);
}

/* Builds candidate `name`: its law and data set; CS_EINPUT when the data cannot feed it. */
static int build_one(const char *name, const cs_table *t, const cs_dataset_params *dp, cs_law **law,
                     cs_dataset **ds)
{
    int st;

    *law = cs_cli_law(name, t, dp);
    if (*law == NULL)
        return CS_EINPUT;
    st = cs_dataset_build(t, *law, dp, ds);
    if (st) {
        cs_law_free(*law);
        *law = NULL;
    }
    return st;
}

/* Records candidate k as skipped, with the current message. */
static int skip(cs_cli_comparison *c, const char *name)
{
    size_t len = strlen(name) + strlen(cs_errmsg()) + 3;
    char *s = malloc(len);

    if (s == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    snprintf(s, len, "%s: %s", name, cs_errmsg());
    c->skipped[c->nskipped++] = s;
    return CS_OK;
}

static int build_all(const char *const *names, size_t n, bool optional, const cs_table *t,
                     const cs_dataset_params *dp, cs_cli_comparison *c, cs_law **laws,
                     cs_dataset **ds)
{
    int st = CS_OK;

    for (size_t k = 0; st == CS_OK && k < n; k++) {
        st = build_one(names[k], t, dp, &laws[c->nlaws], &ds[c->nlaws]);
        if (st == CS_EINPUT && optional) {
            st = skip(c, names[k]);
            continue;
        }
        if (st)
            return cs_fail_prefix(st, "law %s", names[k]);
        if ((c->names[c->nlaws] = strdup(names[k])) == NULL)
            return cs_fail(CS_ENOMEM, "out of memory");
        c->nlaws++;
    }
    if (st == CS_OK && c->nlaws == 0)
        st = cs_fail(CS_EINPUT, "none of the %zu candidate laws can be fitted to these data%s%s", n,
                     c->nskipped ? " (" : "", c->nskipped ? c->skipped[0] : "");
    return st;
}

int cs_cli_compare_laws(const char *const *names, size_t n, bool optional, const cs_table *t,
                        const cs_dataset_params *dp, const cs_fit_params *fp,
                        const cs_compare_params *cp, cs_cli_comparison *out)
{
    cs_law **laws = calloc(n + 1, sizeof *laws);
    cs_dataset **ds = calloc(n + 1, sizeof *ds);
    int st;

    memset(out, 0, sizeof *out);
    out->names = calloc(n + 1, sizeof *out->names);
    out->skipped = calloc(n + 1, sizeof *out->skipped);
    st = laws && ds && out->names && out->skipped ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");
    if (st == CS_OK)
        st = build_all(names, n, optional, t, dp, out, laws, ds);
    if (st == CS_OK)
        st = cs_compare_run((const cs_law *const *)laws, (const cs_dataset *const *)ds, out->nlaws,
                            fp, cp, &out->res);
    for (size_t k = 0; k < n; k++) {
        cs_dataset_free(ds ? ds[k] : NULL);
        cs_law_free(laws ? laws[k] : NULL);
    }
    free(ds);
    free(laws);
    if (st)
        cs_cli_comparison_clear(out);
    return st;
}

/* ---- the table ---------------------------------------------------------------------------- */

/* A short label for law k: its built-in name, or "formula k". */
static void law_label(const cs_cli_comparison *c, size_t k, char *buf, size_t n)
{
    if (cs_cli_is_builtin(c->names[k]))
        snprintf(buf, n, "%s", c->names[k]);
    else
        snprintf(buf, n, "formula %zu", k + 1);
}

/* An error as a percentage (log residuals: relative error) or a number (linear). */
static void fmt_err(const cs_compare_result *r, double e, char *buf, size_t n)
{
    if (!isfinite(e))
        snprintf(buf, n, "-");
    else if (r->log_space)
        snprintf(buf, n, "%.3g%%", 100.0 * e);
    else
        snprintf(buf, n, "%.4g", e);
}

static void print_folds(FILE *f, const cs_compare_result *r)
{
    fprintf(f, "  %-5s %6s %5s  %-14s %s\n", "fold", "train", "test", "trained up to",
            "tested on keys");
    for (size_t k = 0; k < r->nfolds; k++)
        fprintf(f, "  %-5zu %6zu %5zu  %-14.4g %.4g .. %.4g\n", k + 1, r->fold_train[k],
                r->fold_test[k], r->train_key_hi[k], r->fold_key_lo[k], r->fold_key_hi[k]);
}

static void print_row(FILE *f, const cs_cli_comparison *c, size_t q)
{
    const cs_compare_result *r = c->res;
    size_t k = r->rank[q];
    const cs_compare_law *l = &r->laws[k];
    char label[64];
    char e1[32];
    char e2[32];
    char e3[32];
    char aic[32] = "-";
    char daic[32] = "-";
    char w[32] = "-";

    law_label(c, k, label, sizeof label);
    fmt_err(r, l->mean_abs_err, e1, sizeof e1);
    fmt_err(r, l->median_abs_err, e2, sizeof e2);
    fmt_err(r, l->max_abs_err, e3, sizeof e3);
    if (isfinite(l->aic)) {
        snprintf(aic, sizeof aic, "%.2f", l->aic);
        snprintf(daic, sizeof daic, "%.2f", l->daic);
        snprintf(w, sizeof w, "%.3f", l->weight);
    }
    fprintf(f, "  %4zu  %-18s %3zu %6zu  %10s %9s %9s  %11s %8s %7s\n", q + 1, label, l->nparams,
            l->n_scored, e1, e2, e3, aic, daic, w);
}

void cs_cli_comparison_print(FILE *f, const cs_cli_comparison *c, const char *source,
                             const char *key)
{
    const cs_compare_result *r = c->res;
    size_t c0 = 0;

    for (size_t i = 0; i < r->n; i++)
        c0 += r->fold[i] < 0;
    fprintf(f,
            "compare: %zu points of %s, ordered by %s; %s: %zu trained on only, then %zu "
            "fold%s\n",
            r->n, source, key, cs_compare_cv_name(r->cv), c0, r->nfolds, r->nfolds == 1 ? "" : "s");
    print_folds(f, r);
    fprintf(f, "\n  %4s  %-18s %3s %6s  %10s %9s %9s  %11s %8s %7s\n", "rank", "law", "k", "tested",
            r->log_space ? "mean |err|" : "mean |err|", "median", "max", "AIC", "dAIC", "weight");
    for (size_t q = 0; q < r->nlaws; q++)
        print_row(f, c, q);
    fprintf(f,
            "  (errors of the %s on points above what each fold trained on; AIC from the "
            "Huber likelihood of a fit to all points)\n",
            r->log_space ? "relative prediction, pred/obs - 1," : "prediction, pred - obs,");
    for (size_t k = 0; k < c->nlaws; k++) {
        char label[64];

        law_label(c, k, label, sizeof label);
        if (!cs_cli_is_builtin(c->names[k]))
            fprintf(f, "  %s: %s\n", label, c->names[k]);
        if (r->laws[k].fold_error)
            fprintf(f, "  %s failed on %zu fold%s; %s\n", label, r->laws[k].folds_failed,
                    r->laws[k].folds_failed == 1 ? "" : "s", r->laws[k].fold_error);
        if (r->laws[k].full_error)
            fprintf(f, "  %s: no likelihood: %s\n", label, r->laws[k].full_error);
    }
    for (size_t k = 0; k < c->nskipped; k++)
        fprintf(f, "  skipped %s\n", c->skipped[k]);
}
