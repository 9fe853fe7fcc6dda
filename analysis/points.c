/* analysis/points.c: run logs -> per-run trajectories for the context-scaling analysis, with the
 * comparability checks and the per-run list of missing fields (analysis/points.h). Tested in
 * tests/unit/test_analyze.c and tests/cli/test_analyze.sh.
 */
#include "analysis/points.h"

#include "analysis/ucurve.h"
#include "core/error.h"
#include "core/flops.h"
#include "core/runlog.h"
#include "core/runlog_read.h"
#include "core/table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

cs_points_params cs_points_default_params(void)
{
    cs_points_params p;

    p.source = CS_POINTS_EVAL;
    p.metric = CS_POINTS_AUTO;
    p.data = NULL;
    return p;
}

bool cs_points_usable(const cs_points_run *r)
{
    return (r->missing & CS_POINTS_EXCLUDE) == 0;
}

static void free_run(cs_points_run *r)
{
    free(r->path);
    free(r->C); /* D, L, A live in the same block */
    memset(r, 0, sizeof *r);
}

void cs_points_free(cs_points *pts)
{
    size_t i;

    if (!pts)
        return;
    for (i = 0; i < pts->nruns; i++)
        free_run(&pts->runs[i]);
    free(pts->runs);
    free(pts->dir);
    free(pts->data_name);
    free(pts->flops_formula);
    free(pts);
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

// ---- one run: config ---------------------------------------------------------------------

static double cfg_num(const cs_runlog_reader *rd, const char *key)
{
    const cs_runlog_kv *kv = cs_runlog_read_config_find(rd, key);

    if (!kv || kv->type == CS_RUNLOG_STR || !isfinite(kv->d) || kv->d <= 0.0)
        return NAN;
    return kv->d;
}

static const char *cfg_str(const cs_runlog_reader *rd, const char *key)
{
    const cs_runlog_kv *kv = cs_runlog_read_config_find(rd, key);

    return kv && kv->type == CS_RUNLOG_STR ? kv->s : NULL;
}

/* N from the shape when n_params_nonembed is absent (the non-embedding count needs no V). */
static double n_from_shape(const cs_runlog_reader *rd, double n_layer, double d_model)
{
    double n_head = cfg_num(rd, "n_head");
    cs_model_shape s = {0, 0, 0, 1, 1};
    cs_param_count pc;

    if (!isfinite(n_layer) || !isfinite(d_model) || !isfinite(n_head) ||
        n_layer > (double)CS_FLOPS_FIELD_MAX || d_model > (double)CS_FLOPS_FIELD_MAX ||
        n_head > (double)CS_FLOPS_FIELD_MAX)
        return NAN;
    s.n_layer = (int64_t)n_layer;
    s.d_model = (int64_t)d_model;
    s.n_head = (int64_t)n_head;
    if (cs_flops_count_params(&s, &pc) != CS_OK)
        return NAN;
    return (double)pc.non_embedding;
}

static double context_from_eval(const cs_runlog_reader *rd)
{
    cs_runlog_ctxwise *cw = NULL;
    double T = NAN;

    if (cs_runlog_read_contextwise(rd, &cw) == CS_OK && cw->context > 0)
        T = (double)cw->context;
    cs_runlog_read_ctxwise_free(cw);
    return T;
}

static void read_config(const cs_runlog_reader *rd, cs_points_run *r)
{
    r->n_layer = cfg_num(rd, "n_layer");
    r->d_model = cfg_num(rd, "d_model");
    r->N = cfg_num(rd, CS_RUNLOG_KEY_N_PARAMS_NONEMBED);
    if (isnan(r->N))
        r->N = n_from_shape(rd, r->n_layer, r->d_model);
    r->T = cfg_num(rd, CS_RUNLOG_KEY_CONTEXT);
    if (isnan(r->T))
        r->T = context_from_eval(rd);
    r->V = cfg_num(rd, CS_RUNLOG_KEY_VOCAB);
    r->bytes_per_token = cfg_num(rd, CS_RUNLOG_KEY_DATA_BYTES_PER_TOKEN);
    r->flops_per_token = cfg_num(rd, "flops_per_token");
    r->status = cs_runlog_read_status(rd);
    if (isnan(r->N))
        r->missing |= CS_POINTS_NO_N;
    if (isnan(r->T))
        r->missing |= CS_POINTS_NO_T;
    if (r->status == CS_RUNLOG_DIVERGED || r->status == CS_RUNLOG_FAILED)
        r->missing |= CS_POINTS_STATUS;
    if (r->status != CS_RUNLOG_FINISHED)
        r->missing |= CS_POINTS_UNFINISHED;
}

// ---- one run: trajectory -----------------------------------------------------------------

/* Column names of a source: flops, tokens, best-context loss, average loss. */
static const char *const source_cols[2][4] = {
    {"flops", "tokens", "loss_val_best", "loss_val"},
    {"flops", "tokens", "loss_train_best", "loss_train"},
};

typedef struct row {
    double C, D, L, A;
    size_t i; /* row index in the file: later rows win ties in C */
} row;

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;

    if (x->C != y->C)
        return (x->C > y->C) - (x->C < y->C);
    return (x->i > y->i) - (x->i < y->i);
}

static double col_at(const cs_table *t, long col, size_t i)
{
    return col < 0 ? NAN : cs_table_num(t, i, (size_t)col);
}

/* Collects the rows with a usable C and loss into rows (nrows capacity); sets missing flags for
 * what no row had. Returns the count. */
static size_t collect_rows(const cs_table *t, int source, cs_points_run *r, row *rows)
{
    long c[4];
    size_t i, k = 0;
    bool any_L = false, any_C = false;

    for (i = 0; i < 4; i++)
        c[i] = cs_table_find(t, source_cols[source][i]);
    for (i = 0; i < 4; i++)
        if (c[i] >= 0 && cs_table_col_type(t, (size_t)c[i]) != CS_COL_NUM)
            c[i] = -1;
    for (i = 0; i < cs_table_nrows(t); i++) {
        row w = {col_at(t, c[0], i), col_at(t, c[1], i), col_at(t, c[2], i), col_at(t, c[3], i), i};
        if (!isfinite(w.C) && isfinite(w.D))
            w.C = w.D * r->flops_per_token;
        if (!isfinite(w.D) && isfinite(w.C))
            w.D = w.C / r->flops_per_token;
        any_L |= isfinite(w.L);
        any_C |= isfinite(w.C) && w.C > 0.0;
        if (isfinite(w.C) && w.C > 0.0 && isfinite(w.L))
            rows[k++] = w;
    }
    if (k == 0 && !any_L)
        r->missing |= CS_POINTS_NO_LOSS;
    if (k == 0 && (any_L || !any_C)) /* no C at all, or none on the rows with a loss */
        r->missing |= CS_POINTS_NO_C;
    return k;
}

/* Sorts rows by C, keeps the last row of equal C, and stores them in r. */
static int store_rows(row *rows, size_t k, cs_points_run *r)
{
    size_t i, n = 0;
    double *buf;

    qsort(rows, k, sizeof *rows, cmp_row);
    for (i = 0; i < k; i++) {
        if (n > 0 && rows[n - 1].C == rows[i].C)
            n--;
        rows[n++] = rows[i];
    }
    buf = malloc((4 * n + 1) * sizeof *buf);
    if (!buf)
        return cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    r->n = n;
    r->C = buf;
    r->D = buf + n;
    r->L = buf + 2 * n;
    r->A = buf + 3 * n;
    for (i = 0; i < n; i++) {
        r->C[i] = rows[i].C;
        r->D[i] = rows[i].D;
        r->L[i] = rows[i].L;
        r->A[i] = rows[i].A;
    }
    return CS_OK;
}

static void finish_flags(cs_points_run *r)
{
    size_t i;
    bool any_A = false;

    for (i = 0; i < r->n; i++)
        any_A |= isfinite(r->A[i]);
    if (!any_A)
        r->missing |= CS_POINTS_NO_AVG;
    if (r->n == 0 || !isfinite(r->D[r->n - 1]))
        r->missing |= CS_POINTS_NO_D;
    else
        r->flops_per_token = r->C[r->n - 1] / r->D[r->n - 1];
}

static int read_trajectory(const cs_runlog_reader *rd, int source, cs_points_run *r)
{
    cs_table *t = NULL;
    row *rows = NULL;
    size_t k;
    int st;

    st = source == CS_POINTS_STEPS ? cs_runlog_read_steps(rd, &t) : cs_runlog_read_evals(rd, &t);
    if (st)
        return st;
    rows = malloc((cs_table_nrows(t) + 1) * sizeof *rows);
    if (!rows) {
        cs_table_free(t);
        return cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    }
    k = collect_rows(t, source, r, rows);
    st = store_rows(rows, k, r);
    if (st == CS_OK)
        finish_flags(r);
    free(rows);
    cs_table_free(t);
    return st;
}

/* The identity of a run's set: data set, FLOPs formula, schema version. */
typedef struct run_meta {
    char *data_name;
    char *flops_formula;
    int64_t version;
} run_meta;

static void free_meta(run_meta *m);

static int read_one(const char *path, int source, cs_points_run *r, run_meta *m)
{
    cs_runlog_reader *rd = NULL;
    int st;

    memset(r, 0, sizeof *r);
    memset(m, 0, sizeof *m);
    if (!(r->path = strdup(path)))
        return cs_fail(CS_ENOMEM, "out of memory");
    if ((st = cs_runlog_read_open(path, &rd)))
        return st;
    read_config(rd, r);
    m->version = cs_runlog_read_schema_version(rd);
    m->data_name = dup_str(cfg_str(rd, "data_name"));
    m->flops_formula = dup_str(cfg_str(rd, CS_RUNLOG_KEY_FLOPS_FORMULA));
    st = read_trajectory(rd, source, r);
    cs_runlog_read_close(rd);
    return st;
}

// ---- the set: comparability --------------------------------------------------------------

/* Distinct values of a string field over runs, for the mixing checks. */
typedef struct tally {
    const char *value[8]; /* the first 8 distinct values (NULL: absent) */
    size_t count[8];
    size_t example[8]; /* a run with that value */
    size_t n;          /* distinct values seen (may exceed 8) */
} tally;

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void tally_add(tally *t, const char *v, size_t run)
{
    size_t i;

    for (i = 0; i < t->n && i < 8; i++)
        if (same_str(t->value[i], v)) {
            t->count[i]++;
            return;
        }
    if (t->n < 8) {
        t->value[t->n] = v;
        t->count[t->n] = 1;
        t->example[t->n] = run;
    }
    t->n++;
}

/* "\"a\" (3 runs, e.g. x.h5), none (1 run, e.g. y.h5)" into buf. */
static void tally_text(const tally *t, const cs_points *pts, char *buf, size_t n)
{
    size_t i, len = 0;

    buf[0] = '\0';
    for (i = 0; i < t->n && i < 8 && len < n; i++) {
        int w = snprintf(buf + len, n - len, "%s%s%s%s (%zu run%s, e.g. %s)", i ? ", " : "",
                         t->value[i] ? "\"" : "", t->value[i] ? t->value[i] : "none",
                         t->value[i] ? "\"" : "", t->count[i], t->count[i] == 1 ? "" : "s",
                         pts->runs[t->example[i]].path);
        len += w > 0 ? (size_t)w : 0;
    }
}

static int check_mixing(cs_points *pts, const run_meta *meta)
{
    tally data = {0}, formula = {0};
    char text[1536];
    size_t i;

    for (i = 0; i < pts->nruns; i++) {
        tally_add(&data, meta[i].data_name, i);
        if (meta[i].flops_formula)
            tally_add(&formula, meta[i].flops_formula, i);
        if (meta[i].version != meta[0].version)
            return cs_fail(CS_EINPUT,
                           "%s: mixed run logs: schema versions differ (%s has %lld, %s has %lld)",
                           pts->dir, pts->runs[0].path, (long long)meta[0].version,
                           pts->runs[i].path, (long long)meta[i].version);
    }
    if (data.n > 1) {
        tally_text(&data, pts, text, sizeof text);
        return cs_fail(CS_EINPUT,
                       "%s: mixed run logs: runs on %zu data sets: %s; losses on different data "
                       "do not compare: choose one with --data NAME",
                       pts->dir, data.n, text);
    }
    if (formula.n > 1) {
        tally_text(&formula, pts, text, sizeof text);
        return cs_fail(CS_EINPUT,
                       "%s: mixed run logs: runs count FLOPs with %zu formulas: %s; their "
                       "compute does not compare",
                       pts->dir, formula.n, text);
    }
    pts->data_name = dup_str(data.n ? data.value[0] : NULL);
    pts->flops_formula = dup_str(formula.n ? formula.value[0] : NULL);
    return CS_OK;
}

// ---- the set: units ----------------------------------------------------------------------

/* Resolves AUTO and converts every loss to bits per byte when the metric is BPB. */
static void apply_metric(cs_points *pts, int metric)
{
    size_t i, k;
    double V0 = NAN;
    bool mixed = false;

    for (i = 0; i < pts->nruns; i++) {
        const cs_points_run *r = &pts->runs[i];
        if (!cs_points_usable(r) || isnan(r->V))
            continue;
        mixed |= !isnan(V0) && r->V != V0;
        V0 = r->V;
    }
    pts->metric = metric == CS_POINTS_AUTO ? (mixed ? CS_POINTS_BPB : CS_POINTS_NATS) : metric;
    for (i = 0; i < pts->nruns && pts->metric == CS_POINTS_BPB; i++) {
        cs_points_run *r = &pts->runs[i];
        double s = 1.0 / (log(2.0) * r->bytes_per_token);
        if (isnan(r->bytes_per_token))
            r->missing |= CS_POINTS_NO_BPT;
        for (k = 0; k < r->n; k++) {
            r->L[k] *= s;
            r->A[k] *= s;
        }
    }
    for (i = 0, pts->nused = 0; i < pts->nruns; i++)
        pts->nused += cs_points_usable(&pts->runs[i]);
}

// ---- reading a directory -----------------------------------------------------------------

static void free_meta(run_meta *m)
{
    free(m->data_name);
    free(m->flops_formula);
    m->data_name = m->flops_formula = NULL;
}

/* Reads paths into pts->runs, keeping runs of p->data only. */
static int read_all(char **paths, size_t n, const cs_points_params *p, cs_points *pts,
                    run_meta *meta)
{
    size_t i;
    int st = CS_OK;

    for (i = 0; i < n && st == CS_OK; i++) {
        cs_points_run *r = &pts->runs[pts->nruns];
        run_meta *m = &meta[pts->nruns];
        st = read_one(paths[i], p->source, r, m);
        if (st == CS_OK && p->data && !same_str(m->data_name, p->data)) {
            free_run(r);
            free_meta(m);
            pts->nother_data++;
            continue;
        }
        pts->nruns++; /* a failed run is kept so that it is freed */
    }
    return st;
}

static int list_runs(const char *dir, char ***paths, size_t *n)
{
    struct stat sb;
    int st;

    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cs_fail(CS_EINPUT, "%s: not a directory of run logs", dir);
    if ((st = cs_runlog_read_list(dir, paths, n)))
        return st;
    if (*n == 0)
        return cs_fail(CS_EINPUT, "%s: no run logs (*.h5) in this directory or one level down",
                       dir);
    return CS_OK;
}

int cs_points_read(const char *dir, const cs_points_params *p, cs_points **out)
{
    cs_points_params dp = cs_points_default_params();
    cs_points *pts = NULL;
    run_meta *meta = NULL;
    char **paths = NULL;
    size_t i, n = 0;
    int st;

    p = p ? p : &dp;
    *out = NULL;
    if ((st = list_runs(dir, &paths, &n)))
        goto out_free;
    pts = calloc(1, sizeof *pts);
    meta = calloc(n, sizeof *meta);
    if (!pts || !meta || !(pts->runs = calloc(n, sizeof *pts->runs)) || !(pts->dir = strdup(dir))) {
        st = cs_fail(CS_ENOMEM, "%s: out of memory", dir);
        goto out_free;
    }
    pts->source = p->source;
    if ((st = read_all(paths, n, p, pts, meta)))
        goto out_free;
    if (pts->nruns == 0) {
        st = cs_fail(CS_EINPUT, "%s: no run log has data_name \"%s\" (%zu run logs)", dir, p->data,
                     n);
        goto out_free;
    }
    if ((st = check_mixing(pts, meta)))
        goto out_free;
    apply_metric(pts, p->metric);
out_free:
    for (i = 0; meta && i < n; i++)
        free_meta(&meta[i]);
    free(meta);
    if (st == CS_OK)
        *out = pts;
    else
        cs_points_free(pts);
    cs_runlog_read_list_free(paths, n);
    return st;
}

// ---- messages ----------------------------------------------------------------------------

void cs_points_missing_text(unsigned flags, int source, char *buf, size_t n)
{
    const char *grp = source == CS_POINTS_STEPS ? "steps" : "eval";
    const char *const *cols = source_cols[source == CS_POINTS_STEPS ? 1 : 0];
    size_t len = 0;

    buf[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(buf + len, len < n ? n - len : 0, __VA_ARGS__);                          \
        len += w_ > 0 ? (size_t)w_ : 0;                                                            \
    } while (0)
    if (flags & CS_POINTS_NO_N)
        ADD("%sconfig n_params_nonembed (or n_layer, d_model, n_head)", len ? "; " : "");
    if (flags & CS_POINTS_NO_T)
        ADD("%sconfig context", len ? "; " : "");
    if (flags & CS_POINTS_NO_C)
        ADD("%s%s/flops (or %s/tokens with config flops_per_token)", len ? "; " : "", grp, grp);
    if (flags & CS_POINTS_NO_LOSS)
        ADD("%s%s/%s", len ? "; " : "", grp, cols[2]);
    if (flags & CS_POINTS_NO_BPT)
        ADD("%sconfig data_bytes_per_token (for bits per byte)", len ? "; " : "");
    if (flags & CS_POINTS_STATUS)
        ADD("%sstatus diverged or failed", len ? "; " : "");
    if (flags & CS_POINTS_NO_AVG)
        ADD("%s%s/%s", len ? "; " : "", grp, cols[3]);
    if (flags & CS_POINTS_NO_D)
        ADD("%s%s/tokens", len ? "; " : "", grp);
    if (flags & CS_POINTS_UNFINISHED)
        ADD("%sstatus finished", len ? "; " : "");
#undef ADD
    if (len >= n && n > 0)
        buf[n - 1] = '\0';
}

// ---- values at a compute -----------------------------------------------------------------

bool cs_points_at(const cs_points_run *r, double C, double slack, bool final_only, double *L,
                  double *A, double *D)
{
    size_t n = r->n, lo = 0, hi;
    double w;

    if (n == 0 || !(C > 0.0))
        return false;
    if (final_only && !(C <= r->C[n - 1] * slack && C * slack >= r->C[n - 1]))
        return false;
    if (C < r->C[0] || C > r->C[n - 1] * slack)
        return false;
    if (final_only || C >= r->C[n - 1]) {
        *L = r->L[n - 1];
        *A = r->A[n - 1];
        *D = r->D[n - 1];
        return true;
    }
    hi = n - 1;
    while (lo + 1 < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->C[mid] <= C)
            lo = mid;
        else
            hi = mid;
    }
    w = (log(C) - log(r->C[lo])) / (log(r->C[hi]) - log(r->C[lo]));
    *L = r->L[lo] + w * (r->L[hi] - r->L[lo]);
    *A = r->A[lo] + w * (r->A[hi] - r->A[lo]);
    *D = exp(log(r->D[lo]) + w * (log(r->D[hi]) - log(r->D[lo])));
    return true;
}

double cs_points_noise(const cs_points_run *r, double C)
{
    size_t n = r->n, k = n < 7 ? n : 7, lo = 0, i;
    double u[7], z[7];

    if (n < 6 || !(C > 0.0))
        return NAN;
    while (lo + 1 < n && r->C[lo + 1] <= C)
        lo++;
    lo = lo >= k / 2 ? lo - k / 2 : 0;
    if (lo + k > n)
        lo = n - k;
    for (i = 0; i < k; i++) {
        u[i] = log(r->C[lo + i]);
        z[i] = r->L[lo + i];
    }
    return cs_ucurve_resid_sd(u, z, k, 3);
}

// ---- budgets -----------------------------------------------------------------------------

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int cs_points_budgets_auto(const cs_points *pts, double tol, double **budgets, size_t *n)
{
    double *c = malloc((pts->nruns + 1) * sizeof *c);
    size_t i, k = 0, nb = 0;

    if (!c)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < pts->nruns; i++)
        if (cs_points_usable(&pts->runs[i]))
            c[k++] = pts->runs[i].C[pts->runs[i].n - 1];
    if (k == 0) {
        free(c);
        return cs_fail(CS_EINPUT, "%s: no usable run: no compute budget", pts->dir);
    }
    qsort(c, k, sizeof *c, cmp_dbl);
    for (i = 0; i < k; i++)
        if (i == 0 || log10(c[i]) - log10(c[i - 1]) > tol)
            c[nb++] = c[i];
    *budgets = c;
    *n = nb;
    return CS_OK;
}
