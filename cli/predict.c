/* cli/predict.c: `ctxscale predict` — the loss a fitted law predicts at new points, with
 * prediction intervals from the fit's bootstrap samples and its residual noise
 * (fit/predict.h); a table for people, --json for programs. Test: tests/cli/test_predict.sh.
 */
#include "cli/cli.h"
#include "cli/fitdata.h"
#include "cli/opt.h"
#include "cli/shared_opts.h"
#include "core/afile.h"
#include "core/error.h"
#include "core/parse.h"
#include "fit/fitjson.h"
#include "fit/law.h"
#include "fit/predict.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_FIT = 256,
    OPT_LEVELS,
};

static const cs_cli_opt predict_opts[] = {
    {"fit", OPT_FIT, required_argument, "FILE", "the fit: JSON from ctxscale fit --json"},
    {"levels", OPT_LEVELS, required_argument, "P,...", "interval levels (default 0.5,0.9)"},
    {"json", 'j', required_argument, "FILE", "also write the result as JSON (- for stdout)"},
    {"force", 'f', no_argument, NULL, "overwrite the JSON file if it exists"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd predict_cmd = {
    "predict",
    "--fit FIT.json NAME=VALUE[,VALUE...] ...",
    "Predict the target of a fitted law at new points (one value per law variable; lists of\n"
    "equal length give several points, a single value is used for all), with prediction\n"
    "intervals for a new observation.",
    predict_opts,
    "Intervals: the bootstrap refits of the fit give the law's spread at the point; the\n"
    "residual noise of the fit, s = RMSE sqrt(n/(n-k)) with Student-t tails of n-k degrees of\n"
    "freedom, is added to each (docs/laws.md, \"Prediction intervals\"). A fit without\n"
    "bootstrap gives the noise only, which is too narrow when extrapolating; refit with\n"
    "--bootstrap N. Points outside the fitted range of a variable are flagged.\n"
    "Example: ctxscale predict --fit fit.json N=1.4e9 D=2.9e10\n",
};

#define MAX_POINTS 100000

typedef struct predict_args {
    const char *fit;
    const char *json;
    bool force;
    double levels[CS_PREDICT_MAX_LEVELS];
    size_t nlevels;
    char **assign; /* (nassign) NAME=VALUES arguments */
    size_t nassign;
} predict_args;

/* One option into *a (a predict_args). CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, void *ctx)
{
    predict_args *a = ctx;

    switch (c) {
    case OPT_FIT: a->fit = arg; return CS_OK;
    case OPT_LEVELS: return cs_cli_parse_levels(arg, a->levels, &a->nlevels);
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    }
    return CS_OK;
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, predict_args *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    a->levels[0] = 0.5;
    a->levels[1] = 0.9;
    a->nlevels = 2;
    if ((rc = cs_cli_parse_opts(&predict_cmd, argc, argv, take_opt, a)) >= 0)
        return rc;
    if (a->fit == NULL)
        return cs_cli_usage_error(&predict_cmd, "give the fit with --fit FILE");
    if (optind == argc)
        return cs_cli_usage_error(&predict_cmd, "give the point: NAME=VALUE for each variable");
    a->assign = argv + optind;
    a->nassign = (size_t)(argc - optind);
    return -1;
}

/* ---- the points --------------------------------------------------------------------------- */

/* The values of NAME=V1,V2,... into a new array *v (*n values). */
static int parse_values(const char *text, double **v, size_t *n)
{
    const char *s = strchr(text, '=') + 1;
    char what[128];

    *n = 0;
    *v = malloc((strlen(s) / 2 + 1) * sizeof **v);
    if (*v == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    snprintf(what, sizeof what, "%.*s", (int)(s - text - 1), text);
    while (*s != '\0') {
        char num[128];
        size_t len = strcspn(s, ",");
        int st;

        if (len >= sizeof num)
            return cs_fail(CS_EINPUT, "%s: a value is too long", what);
        snprintf(num, sizeof num, "%.*s", (int)len, s);
        st = cs_parse_double(num, &(*v)[(*n)++], what);
        if (st)
            return st;
        s += len + (s[len] == ',');
    }
    return *n ? CS_OK : cs_fail(CS_EINPUT, "%s: expected NAME=VALUE[,VALUE...]", text);
}

/* Column j of the points: for each law variable, its values (n each, after broadcasting). */
typedef struct points {
    double **col; /* (nvars) each (n) */
    size_t nvars;
    size_t n;
} points;

static void points_free(points *p)
{
    for (size_t j = 0; p->col && j < p->nvars; j++)
        free(p->col[j]);
    free(p->col);
}

/* Finds law variable j's assignment among the arguments. */
static int find_assign(const predict_args *a, const cs_law *law, size_t j, const char **text)
{
    const char *name = cs_law_var_name(law, j);
    size_t len = strlen(name);

    *text = NULL;
    for (size_t k = 0; k < a->nassign; k++) {
        if (strncmp(a->assign[k], name, len) != 0 || a->assign[k][len] != '=')
            continue;
        if (*text != NULL)
            return cs_fail(CS_EINPUT, "%s is given twice", name);
        *text = a->assign[k];
    }
    if (*text == NULL)
        return cs_fail(CS_EINPUT, "no value for the law variable %s (give %s=VALUE)", name, name);
    return CS_OK;
}

/* Every argument must name a law variable. */
static int check_names(const predict_args *a, const cs_law *law)
{
    for (size_t k = 0; k < a->nassign; k++) {
        const char *eq = strchr(a->assign[k], '=');
        char name[CS_LAW_MAX_NAME + 1];

        if (eq == NULL || eq == a->assign[k] || (size_t)(eq - a->assign[k]) > CS_LAW_MAX_NAME)
            return cs_fail(CS_EINPUT, "\"%s\": expected NAME=VALUE[,VALUE...]", a->assign[k]);
        snprintf(name, sizeof name, "%.*s", (int)(eq - a->assign[k]), a->assign[k]);
        if (cs_law_var_index(law, name) < 0)
            return cs_fail(CS_EINPUT, "\"%s\": %s is not a variable of the fitted law",
                           a->assign[k], name);
    }
    return CS_OK;
}

/* Broadcasts a single value to n. */
static int broadcast(double **v, size_t *m, size_t n, const char *name)
{
    double *w;

    if (*m == n)
        return CS_OK;
    if (*m != 1)
        return cs_fail(CS_EINPUT,
                       "%s has %zu values, another variable %zu (give one value or "
                       "as many as the others)",
                       name, *m, n);
    w = realloc(*v, n * sizeof *w);
    if (w == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (size_t i = 1; i < n; i++)
        w[i] = w[0];
    *v = w;
    *m = n;
    return CS_OK;
}

static int build_points(const predict_args *a, const cs_law *law, points *p)
{
    size_t *m;
    const char *text;
    int st = check_names(a, law);

    memset(p, 0, sizeof *p);
    p->nvars = cs_law_nvars(law);
    p->col = calloc(p->nvars + 1, sizeof *p->col);
    m = calloc(p->nvars + 1, sizeof *m);
    if (st == CS_OK && (p->col == NULL || m == NULL))
        st = cs_fail(CS_ENOMEM, "out of memory");
    for (size_t j = 0; st == CS_OK && j < p->nvars; j++) {
        st = find_assign(a, law, j, &text);
        if (st == CS_OK)
            st = parse_values(text, &p->col[j], &m[j]);
        if (st == CS_OK && m[j] > p->n)
            p->n = m[j];
    }
    if (st == CS_OK && p->n > MAX_POINTS)
        st = cs_fail(CS_EINPUT, "at most %d points", MAX_POINTS);
    for (size_t j = 0; st == CS_OK && j < p->nvars; j++)
        st = broadcast(&p->col[j], &m[j], p->n, cs_law_var_name(law, j));
    free(m);
    return st;
}

/* ---- output ------------------------------------------------------------------------------- */

/* "N above the fitted range (max 6.4e+08)" notes for point i into buf; false when none. */
static bool outside(const cs_fitjson *fj, const points *p, size_t i, char *buf, size_t n)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t j = 0; j < p->nvars && j < fj->nvars && used + 80 < n; j++) {
        double x = p->col[j][i];

        if (x > fj->vars[j].max)
            used += (size_t)snprintf(buf + used, n - used, "%s%s %.3gx the largest fitted",
                                     used ? ", " : "", fj->vars[j].name, x / fj->vars[j].max);
        else if (x < fj->vars[j].min)
            used += (size_t)snprintf(buf + used, n - used, "%s%s below the fitted range",
                                     used ? ", " : "", fj->vars[j].name);
    }
    return used > 0;
}

static void print_header(const predict_args *a, const cs_fitjson *fj, const cs_predictor *pr)
{
    printf("law:     %s%s%s\n", fj->law_name ? fj->law_name : "", fj->law_name ? ": " : "",
           fj->formula);
    printf("fit:     %s: %zu points, %zu bootstrap refits\n", a->fit, fj->n_points,
           cs_predictor_nboot(pr));
    printf("noise:   s = %.4g (%s), Student t with %.0f degrees of freedom\n",
           cs_predictor_scale(pr), fj->log_space ? "log units" : "target units",
           cs_predictor_dof(pr));
    if (cs_predictor_nboot(pr) == 0)
        printf("warning: the fit has no bootstrap samples: the intervals cover the residual "
               "noise only, not the uncertainty of the parameters (refit with --bootstrap N)\n");
    printf("\n ");
    for (size_t j = 0; j < fj->nvars; j++)
        printf(" %11s", fj->vars[j].name);
    printf(" %12s %12s", "predicted", "median");
    for (size_t k = 0; k < a->nlevels; k++) {
        char h[32];

        snprintf(h, sizeof h, "%g%% interval", 100.0 * a->levels[k]);
        printf("  %-25s", h);
    }
    printf(" %10s\n", "param sd");
}

static void print_point(const predict_args *a, const cs_fitjson *fj, const points *p, size_t i,
                        const cs_prediction *r)
{
    char note[512];

    printf(" ");
    for (size_t j = 0; j < p->nvars; j++)
        printf(" %11.4g", p->col[j][i]);
    printf(" %12.6g %12.6g", r->value, r->median);
    for (size_t k = 0; k < a->nlevels; k++) {
        char iv[64];

        snprintf(iv, sizeof iv, "[%.6g, %.6g]", r->lo[k], r->hi[k]);
        printf("  %-25s", iv);
    }
    printf(" %10.3g\n", r->sd_param);
    if (outside(fj, p, i, note, sizeof note))
        printf("    extrapolating: %s\n", note);
    if (r->n_skipped)
        printf("    %zu bootstrap samples left out (the law is not finite there)\n", r->n_skipped);
}

static json_t *json_point(const predict_args *a, const cs_fitjson *fj, const points *p, size_t i,
                          const cs_prediction *r)
{
    json_t *o = json_object();
    json_t *x = json_object();
    json_t *iv = json_array();
    char note[512];

    for (size_t j = 0; j < p->nvars; j++)
        json_object_set_new(x, fj->vars[j].name, json_real(p->col[j][i]));
    for (size_t k = 0; k < a->nlevels; k++) {
        json_t *one = json_array();

        json_array_append_new(one, cs_cli_json_num(r->lo[k]));
        json_array_append_new(one, cs_cli_json_num(r->hi[k]));
        json_array_append_new(iv, one);
    }
    json_object_set_new(o, "x", x);
    json_object_set_new(o, "predicted", cs_cli_json_num(r->value));
    json_object_set_new(o, "median", cs_cli_json_num(r->median));
    json_object_set_new(o, "intervals", iv);
    json_object_set_new(o, "sd_param", cs_cli_json_num(r->sd_param));
    json_object_set_new(o, "bootstrap_used", json_integer((json_int_t)r->n_used));
    json_object_set_new(o, "extrapolating",
                        outside(fj, p, i, note, sizeof note) ? json_string(note) : json_null());
    return o;
}

static json_t *json_root(const predict_args *a, const cs_fitjson *fj, const cs_predictor *pr)
{
    json_t *o = json_object();
    json_t *lv = json_array();
    json_t *noise = json_object();

    for (size_t k = 0; k < a->nlevels; k++)
        json_array_append_new(lv, json_real(a->levels[k]));
    json_object_set_new(noise, "space", json_string(fj->log_space ? "log" : "linear"));
    json_object_set_new(noise, "scale", cs_cli_json_num(cs_predictor_scale(pr)));
    json_object_set_new(noise, "dof", cs_cli_json_num(cs_predictor_dof(pr)));
    json_object_set_new(o, "format", json_string("ctxscale-predict"));
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "fit", json_string(a->fit));
    json_object_set_new(o, "law", fj->law_name ? json_string(fj->law_name) : json_null());
    json_object_set_new(o, "formula", json_string(fj->formula));
    json_object_set_new(o, "target", json_string(fj->target));
    json_object_set_new(o, "levels", lv);
    json_object_set_new(o, "noise", noise);
    json_object_set_new(o, "bootstrap", json_integer((json_int_t)cs_predictor_nboot(pr)));
    json_object_set_new(o, "points", json_array());
    return o;
}

/* ---- main --------------------------------------------------------------------------------- */

/* Predicts every point, printing rows (unless JSON goes to stdout) and adding to `root`. */
static int run(const predict_args *a, const cs_fitjson *fj, const cs_predictor *pr, const points *p,
               json_t *root, bool table)
{
    double x[CS_LAW_MAX_OPS];
    cs_prediction r;
    int st = CS_OK;

    if (table)
        print_header(a, fj, pr);
    for (size_t i = 0; st == CS_OK && i < p->n; i++) {
        for (size_t j = 0; j < p->nvars; j++)
            x[j] = p->col[j][i];
        st = cs_predictor_eval(pr, x, a->levels, a->nlevels, &r);
        if (st) {
            st = cs_fail_prefix(st, "point %zu", i + 1);
            break;
        }
        if (table)
            print_point(a, fj, p, i, &r);
        json_array_append_new(json_object_get(root, "points"), json_point(a, fj, p, i, &r));
    }
    return st;
}

static int write_json(cs_afile *af, json_t *root)
{
    FILE *f = cs_afile_stream(af);

    if (json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 ||
        fputc('\n', f) == EOF || ferror(f)) {
        cs_afile_abort(af);
        return cs_fail(CS_EIO, "predict: cannot write the JSON result");
    }
    return cs_afile_commit(af);
}

int cs_cli_predict(int argc, char **argv)
{
    predict_args a;
    cs_afile *af = NULL;
    cs_fitjson *fj = NULL;
    cs_law *law = NULL;
    cs_predictor *pr = NULL;
    json_t *root = NULL;
    points p;
    int rc = parse_args(argc, argv, &a);
    int st;

    if (rc >= 0)
        return rc;
    memset(&p, 0, sizeof p);
    st = a.json ? cs_afile_open(a.json, a.force, &af) : CS_OK;
    if (st == CS_OK)
        st = cs_fitjson_read(a.fit, &fj);
    if (st == CS_OK)
        st = cs_fitjson_law(fj, &law);
    if (st == CS_OK)
        st = build_points(&a, law, &p);
    if (st == CS_OK && (pr = cs_predictor_from_fitjson(fj, law)) == NULL)
        st = CS_EINPUT; /* a stored fit without a noise estimate (or out of memory) */
    if (st == CS_OK && (root = json_root(&a, fj, pr)) == NULL)
        st = cs_fail(CS_ENOMEM, "out of memory");
    if (st == CS_OK)
        st = run(&a, fj, pr, &p, root, !(a.json && strcmp(a.json, "-") == 0));
    if (st == CS_OK && af != NULL) {
        st = write_json(af, root);
        af = NULL;
    }
    cs_afile_abort(af);
    json_decref(root);
    points_free(&p);
    cs_predictor_free(pr);
    cs_law_free(law);
    cs_fitjson_free(fj);
    return cs_cli_report(&predict_cmd, st);
}
