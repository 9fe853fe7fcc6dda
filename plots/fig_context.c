/* plots/fig_context.c: figures C1, C2, C3, C4, C5 and S6 (plots/fig_context.h), from run logs
 * (core/runlog_read.h) and token stores (data/store.h). Tests: tests/unit/test_plot_figures.c,
 * tests/cli/test_sampler_c2.sh (C2 from runs of both sampler modes).
 */
#include "plots/fig_context.h"

#include "core/error.h"
#include "core/parse.h"
#include "core/runlog_read.h"
#include "core/table.h"
#include "data/store.h"
#include "plots/fig_util.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One run as the figures see it: its contextwise loss at one eval. */
typedef struct run_view {
    char *path;
    char *name;      /* file name without .h5; for <dir>/run.h5 the directory's name */
    char *label;     /* S6: value of the label key; NULL when the log lacks it */
    char *data;      /* config data_name, or NULL */
    char *device;    /* config device, or NULL */
    char *sampler;   /* config sampler ("longdoc", "packed"), or NULL */
    double doc_ends; /* config sampler_eval_doc_ends: document ends per eval window; NaN */
    double N;        /* config n_params_nonembed, NaN when unknown */
    double T;        /* training context (config context, else eval/context), tokens; NaN */
    int64_t step;    /* the eval drawn */
    double tokens;   /* training tokens at that eval, NaN when unknown */
    double loss_val, loss_val_best; /* nats/token at that eval, NaN when unknown */
    size_t nbins;
    double *pos;  /* (nbins) geometric middle of each bin's positions */
    double *last; /* (nbins) last position of each bin */
    double *loss; /* (nbins) nats/token, NaN where the bin has no data */
} run_view;

typedef struct run_set {
    run_view *runs; /* (n) */
    size_t n;
    size_t nlogs; /* logs found */
} run_set;

static void run_view_free(run_view *r)
{
    free(r->path), free(r->name), free(r->label), free(r->data), free(r->device), free(r->sampler);
    free(r->pos), free(r->last), free(r->loss);
    memset(r, 0, sizeof *r);
}

static void run_set_free(run_set *rs)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        run_view_free(&rs->runs[i]);
    free(rs->runs);
    memset(rs, 0, sizeof *rs);
}

/* The display name of a log path. */
static char *run_name(const char *path)
{
    const char *base = strrchr(path, '/'), *dir = NULL;
    size_t n;
    char *s;

    base = base ? base + 1 : path;
    if (strcmp(base, "run.h5") == 0 && base > path + 1) { /* runs/<name>/run.h5 */
        for (dir = base - 2; dir > path && dir[-1] != '/'; dir--)
            ;
        n = (size_t)(base - 1 - dir);
        base = dir;
    } else {
        n = strlen(base);
        if (n > 3 && strcmp(base + n - 3, ".h5") == 0)
            n -= 3;
    }
    if ((s = malloc(n + 1))) {
        memcpy(s, base, n);
        s[n] = '\0';
    }
    return s;
}

/* A config value as text (strings as they are, numbers with %.6g); NULL when absent. */
static char *config_text(const cs_runlog_reader *r, const char *key)
{
    const cs_runlog_kv *kv = key ? cs_runlog_read_config_find(r, key) : NULL;
    char buf[64];

    if (!kv)
        return NULL;
    if (kv->type == CS_RUNLOG_STR)
        return strdup(kv->s ? kv->s : "");
    snprintf(buf, sizeof buf, "%.6g", kv->d);
    return strdup(buf);
}

static double config_num(const cs_runlog_reader *r, const char *key)
{
    const cs_runlog_kv *kv = cs_runlog_read_config_find(r, key);

    return kv && kv->type != CS_RUNLOG_STR ? kv->d : NAN;
}

/* The eval row to draw: o->step's, or the last with some contextwise data; SIZE_MAX if none. */
static size_t pick_eval(const cs_runlog_ctxwise *cw, int64_t step)
{
    size_t e, b, pick = SIZE_MAX;

    for (e = 0; e < cw->n_evals; e++) {
        bool any = false;

        for (b = 0; b < cw->n_bins; b++)
            any = any || isfinite(cw->loss[e * cw->n_bins + b]);
        if (any && (step < 0 || cw->step[e] == step))
            pick = e;
    }
    return pick;
}

/* Copies eval row e of the log into v (bins, losses and the eval's columns). */
static int fill_eval(run_view *v, const cs_runlog_ctxwise *cw, const cs_table *ev, size_t e)
{
    static const char *const cols[] = {"tokens", "loss_val", "loss_val_best"};
    double *dst[3] = {&v->tokens, &v->loss_val, &v->loss_val_best};
    size_t b, k;

    v->nbins = cw->n_bins;
    v->pos = malloc(cw->n_bins * sizeof *v->pos);
    v->last = malloc(cw->n_bins * sizeof *v->last);
    v->loss = malloc(cw->n_bins * sizeof *v->loss);
    if (!v->pos || !v->last || !v->loss)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (b = 0; b < cw->n_bins; b++) {
        double a = (double)cw->bin_edges[b], z = (double)cw->bin_edges[b + 1] - 1.0;

        v->pos[b] = sqrt(a * z);
        v->last[b] = z;
        v->loss[b] = cw->loss[e * cw->n_bins + b];
    }
    v->step = cw->step[e];
    for (k = 0; k < 3; k++) {
        long c = cs_table_find(ev, cols[k]);

        *dst[k] = c >= 0 && cs_table_col_type(ev, (size_t)c) == CS_COL_NUM
                      ? cs_table_num(ev, e, (size_t)c)
                      : NAN;
    }
    return CS_OK;
}

/* Reads one log into v (freed again on failure). CS_EINPUT (with a message naming the log)
 * when it has no contextwise loss or no eval at o->step; the reader's errors, with *opened
 * false when the file could not be opened as a run log at all. */
static int read_run(const cs_figures_opts *o, const char *path, run_view *v, bool *opened)
{
    cs_runlog_reader *r = NULL;
    cs_runlog_ctxwise *cw = NULL;
    cs_table *ev = NULL;
    size_t e;
    int st;

    memset(v, 0, sizeof *v);
    *opened = (st = cs_runlog_read_open(path, &r)) == CS_OK;
    if (st || (st = cs_runlog_read_contextwise(r, &cw)) || (st = cs_runlog_read_evals(r, &ev)))
        goto out_free;
    if (cw->n_bins == 0) {
        st = cs_fail(CS_EINPUT, "%s: no contextwise loss (eval/contextwise)", path);
        goto out_free;
    }
    if ((e = pick_eval(cw, o->step)) == SIZE_MAX || e >= cs_table_nrows(ev)) {
        st = o->step < 0 ? cs_fail(CS_EINPUT, "%s: no eval with contextwise loss", path)
                         : cs_fail(CS_EINPUT, "%s: no eval with contextwise loss at step %lld",
                                   path, (long long)o->step);
        goto out_free;
    }
    v->N = config_num(r, CS_RUNLOG_KEY_N_PARAMS_NONEMBED);
    v->T = config_num(r, CS_RUNLOG_KEY_CONTEXT);
    if (!(v->T > 0))
        v->T = cw->context > 0 ? (double)cw->context : NAN;
    v->path = strdup(path);
    v->name = run_name(path);
    v->data = config_text(r, "data_name");
    v->device = config_text(r, "device");
    v->sampler = config_text(r, "sampler");
    v->doc_ends = config_num(r, "sampler_eval_doc_ends");
    v->label = config_text(r, o->label_key ? o->label_key : "data_name");
    st = v->path && v->name ? fill_eval(v, cw, ev, e) : cs_fail(CS_ENOMEM, "out of memory");
out_free:
    if (st)
        run_view_free(v);
    cs_table_free(ev);
    cs_runlog_read_ctxwise_free(cw);
    cs_runlog_read_close(r);
    return st;
}

/* Reads one log into rs; a log that lacks what the figures need is left out with a warning, and
 * so is a file that is no run log when it came from a directory (`listed`). */
static int load_one(const cs_figures_opts *o, run_set *rs, const char *path, bool listed)
{
    run_view v, *nr;
    bool opened;
    int st = read_run(o, path, &v, &opened);

    rs->nlogs++;
    if (st == CS_EINPUT && (opened || listed)) {
        cs_fig_util_warn(o, "left out: %s", cs_errmsg());
        return CS_OK;
    }
    if (st)
        return st;
    if (!(nr = realloc(rs->runs, (rs->n + 1) * sizeof *nr))) {
        run_view_free(&v);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    rs->runs = nr;
    rs->runs[rs->n++] = v;
    return CS_OK;
}

/* Reads every run log of o's inputs (files, or directories listed by cs_runlog_read_list). */
static int load_runs(const cs_figures_opts *o, const char *id, run_set *rs)
{
    struct stat sb;
    size_t i, k, n;
    char **paths;
    int st = CS_OK;

    memset(rs, 0, sizeof *rs);
    if (o->ninputs == 0)
        return cs_fail(CS_EINPUT, "figure %s: expected run logs or directories of them", id);
    for (i = 0; i < o->ninputs && st == CS_OK; i++) {
        if (stat(o->inputs[i], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            st = load_one(o, rs, o->inputs[i], false);
            continue;
        }
        if ((st = cs_runlog_read_list(o->inputs[i], &paths, &n)))
            break;
        if (n == 0)
            st = cs_fail(CS_EINPUT, "%s: no run logs (*.h5) in it or its subdirectories",
                         o->inputs[i]);
        for (k = 0; k < n && st == CS_OK; k++)
            st = load_one(o, rs, paths[k], true);
        cs_runlog_read_list_free(paths, n);
    }
    if (st == CS_OK && rs->n == 0)
        st = cs_fail(CS_EINPUT, "figure %s: none of the %zu run logs has contextwise loss to draw",
                     id, rs->nlogs);
    return st;
}

static int cmp_run(const void *a, const void *b)
{
    const run_view *x = a, *y = b;

    if (x->T != y->T && !isnan(x->T) && !isnan(y->T))
        return (x->T > y->T) - (x->T < y->T);
    return strcmp(x->name, y->name);
}

// ---- notes ---------------------------------------------------------------------------------

/* Appends "lo..hi" (or the one value, or "?") of field values v (n) to buf. */
static void range_text(char *buf, size_t size, const char *what, const double *v, size_t n,
                       const char *unit)
{
    double lo = INFINITY, hi = -INFINITY;
    char a[32], b[32];
    size_t i, used = strlen(buf);

    for (i = 0; i < n; i++)
        if (isfinite(v[i])) {
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
        }
    if (!isfinite(lo))
        snprintf(buf + used, size - used, "%s%s ?", used ? "; " : "", what);
    else if (lo == hi)
        snprintf(buf + used, size - used, "%s%s = %s%s", used ? "; " : "", what,
                 cs_fig_util_num(a, lo), unit);
    else
        snprintf(buf + used, size - used, "%s%s = %s..%s%s", used ? "; " : "", what,
                 cs_fig_util_num(a, lo), cs_fig_util_num(b, hi), unit);
}

/* The distinct values of a text field of the runs, "a, b, c" (at most 4 then "..."). */
static void names_text(char *buf, size_t size, const run_set *rs, size_t off)
{
    size_t i, j, k = 0, used = 0;

    buf[0] = '\0';
    for (i = 0; i < rs->n && used < size; i++) {
        const char *s = *(char *const *)((const char *)&rs->runs[i] + off);
        bool seen = false;

        for (j = 0; j < i && !seen; j++) {
            const char *t = *(char *const *)((const char *)&rs->runs[j] + off);

            seen = (s && t && strcmp(s, t) == 0) || (!s && !t);
        }
        if (seen)
            continue;
        if (k++ == 4) {
            snprintf(buf + used, size - used, ", ...");
            break;
        }
        used += (size_t)snprintf(buf + used, size - used, "%s%s", k > 1 ? ", " : "", s ? s : "?");
    }
}

/* The corner note of a run figure: which runs, trained on what data, at what scale. */
static int runs_note(cs_plot *p, const run_set *rs)
{
    double *v = malloc(3 * rs->n * sizeof *v);
    char line[512] = "", runs[256], data[256], dev[64];
    size_t i;
    int st;

    if (!v)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < rs->n; i++) {
        v[i] = rs->runs[i].N;
        v[rs->n + i] = rs->runs[i].T;
        v[2 * rs->n + i] = rs->runs[i].tokens;
    }
    range_text(line, sizeof line, "N", v, rs->n, " parameters");
    range_text(line, sizeof line, "T", v + rs->n, rs->n, " tokens");
    range_text(line, sizeof line, "D", v + 2 * rs->n, rs->n, " tokens seen");
    free(v);
    names_text(runs, sizeof runs, rs, offsetof(run_view, name));
    names_text(data, sizeof data, rs, offsetof(run_view, data));
    names_text(dev, sizeof dev, rs, offsetof(run_view, device));
    if ((st = cs_plot_add_note(p, "runs: %zu of %zu logs (%s); device: %s", rs->n, rs->nlogs, runs,
                               dev)))
        return st;
    return cs_plot_add_note(p, "data: %s; %s", data, line);
}

// ---- C1 ------------------------------------------------------------------------------------

/* The Bayes-optimal floor per position from a synth.json (docs/data.md) as a dashed line. */
static int floor_from_json(cs_plot *p, const char *path)
{
    cs_plot_look look = cs_plot_default_look();
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err), *fl, *mean;
    size_t k, s;
    int st;

    if (!root)
        return cs_fail(CS_EINPUT, "--floor: expected a number or a synth.json; %s: %s (line %d)",
                       path, err.text, err.line);
    fl = json_object_get(root, "floor");
    mean = fl ? json_object_get(fl, "mean") : NULL;
    if (!json_is_array(mean) || json_array_size(mean) < 2) {
        json_decref(root);
        return cs_fail(CS_EINPUT,
                       "%s: no \"floor\".\"mean\" array of 2 or more positions (a data set "
                       "made with --floor-docs 0 has no floor)",
                       path);
    }
    look.rgb = 0x000000;
    look.dash = CS_PLOT_DASHED;
    look.width = 1.5;
    st = cs_plot_add_series(p, 0, CS_PLOT_LINES, "Bayes-optimal loss floor", &look, &s);
    /* floor.mean[k] is the loss on a document's token k + 1 given the k tokens before it; a
     * model's contextwise position t has t tokens of context (docs/runlog.md), so mean[t] is
     * drawn at x = t, and mean[0] (no context) has no position on the model's axis. */
    for (k = 1; k < json_array_size(mean) && st == CS_OK; k++) {
        json_t *v = json_array_get(mean, k);

        if (!json_is_number(v)) {
            st = cs_fail(CS_EINPUT, "%s: floor.mean[%zu]: expected a number", path, k);
            break;
        }
        st = cs_plot_add_xy(p, s, (double)k, json_number_value(v));
    }
    if (st == CS_OK)
        st = cs_plot_add_note(p, "floor: %s (Monte Carlo estimate of the Bayes risk)", path);
    json_decref(root);
    return st;
}

static int add_floor(cs_plot *p, const char *floor)
{
    cs_plot_look look = cs_plot_default_look();
    char title[96], v[32];
    double f;

    if (!floor)
        return CS_OK;
    if (cs_parse_double(floor, &f, "--floor") != CS_OK)
        return floor_from_json(p, floor);
    look.rgb = 0x000000;
    look.dash = CS_PLOT_DASHED;
    look.width = 1.5;
    snprintf(title, sizeof title, "loss floor %s nats/token", cs_fig_util_num(v, f));
    return cs_plot_add_rule(p, 0, 'h', f, title, &look);
}

/* A vertical dashed line at T, with a legend entry when `title` is set. */
static int mark_T(cs_plot *p, double T, int32_t rgb, const char *title)
{
    cs_plot_look look = cs_plot_default_look();

    look.rgb = rgb;
    look.dash = CS_PLOT_DASHED;
    look.width = 1.2;
    return isfinite(T) ? cs_plot_add_rule(p, 0, 'v', T, title, &look) : CS_OK;
}

/* Common look of the run figures. */
static cs_plot *run_plot(const char *id, const char *title)
{
    cs_plot *p = cs_plot_alloc(id);

    if (!p)
        return NULL;
    cs_plot_set_title(p, title);
    cs_plot_set_axis(p, 0, 'x', "position in the context (tokens)", true);
    cs_plot_set_axis(p, 0, 'y', "mean loss at the position (nats/token)", false);
    return p;
}

/* The bins of run r whose middle position is at most `upto` (inf: all) as a series of panel
 * `panel`. A bin that straddles T (possible when the log evaluates past T) counts as inside when
 * its middle is. */
static int add_curve_in(cs_plot *p, size_t panel, const run_view *r, const char *title,
                        const cs_plot_look *look, double upto)
{
    size_t s, b;
    int st = cs_plot_add_series(p, panel, CS_PLOT_LINES, title, look, &s);

    for (b = 0; b < r->nbins && st == CS_OK; b++)
        if (r->pos[b] <= upto)
            st = cs_plot_add_xy(p, s, r->pos[b], r->loss[b]);
    return st;
}

static int add_curve(cs_plot *p, const run_view *r, const char *title, const cs_plot_look *look,
                     double upto)
{
    return add_curve_in(p, 0, r, title, look, upto);
}

int cs_fig_context_c1(const cs_figures_opts *o, cs_plot **out)
{
    cs_plot_look look = cs_plot_default_look();
    cs_plot *p = NULL;
    run_set rs;
    char title[64], v[32];
    int st;

    *out = NULL;
    if ((st = load_runs(o, "C1", &rs)))
        goto out_free;
    if (rs.n != 1) {
        st = cs_fail(CS_EINPUT,
                     "figure C1 draws one run; %zu have contextwise loss (C4 and C5 "
                     "draw several)",
                     rs.n);
        goto out_free;
    }
    if (!(p = run_plot("C1", "Loss at each position of the context"))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    look.rgb = cs_plot_palette(0);
    look.width = 2.5;
    snprintf(title, sizeof title, "eval at step %lld", (long long)rs.runs[0].step);
    if ((st = add_curve(p, &rs.runs[0], title, &look, INFINITY)))
        goto out_free;
    snprintf(title, sizeof title, "training context T = %s", cs_fig_util_num(v, rs.runs[0].T));
    if (rs.runs[0].last[rs.runs[0].nbins - 1] > rs.runs[0].T &&
        (st = mark_T(p, rs.runs[0].T, 0x606060, title)))
        goto out_free;
    if ((st = add_floor(p, o->floor)) || (st = runs_note(p, &rs)))
        goto out_free;
    *out = p;
    p = NULL;
out_free:
    cs_plot_free(p);
    run_set_free(&rs);
    return st;
}

// ---- C2 ------------------------------------------------------------------------------------

/* The sampler modes C2 compares, one panel each. */
static const char *const c2_modes[2] = {"longdoc", "packed"};
static const char *const c2_titles[2] = {
    "natural long documents (sampler longdoc)",
    "short documents packed to fill the context (sampler packed)",
};

/* The panel of run r: 0 longdoc, 1 packed, -1 another sampler or none recorded. */
static int c2_panel(const run_view *r)
{
    for (int k = 0; k < 2; k++)
        if (r->sampler && strcmp(r->sampler, c2_modes[k]) == 0)
            return k;
    return -1;
}

/* Leaves out (with a warning) the runs of neither mode; CS_EINPUT unless both modes remain. */
static int c2_select(const cs_figures_opts *o, run_set *rs)
{
    size_t i, kept = 0, count[2] = {0, 0};
    char names[256];

    for (i = 0; i < rs->n; i++) {
        int k = c2_panel(&rs->runs[i]);

        if (k < 0) {
            cs_fig_util_warn(o, "left out: %s: sampler %s (C2 draws longdoc and packed runs)",
                             rs->runs[i].path,
                             rs->runs[i].sampler ? rs->runs[i].sampler : "not recorded");
            run_view_free(&rs->runs[i]);
            continue;
        }
        count[k]++;
        rs->runs[kept++] = rs->runs[i];
    }
    rs->n = kept;
    if (count[0] > 0 && count[1] > 0)
        return CS_OK;
    names_text(names, sizeof names, rs, offsetof(run_view, name));
    return cs_fail(CS_EINPUT,
                   "figure C2 compares runs of both sampler modes, longdoc and packed; the runs "
                   "given have %zu longdoc and %zu packed (%s); train the other with "
                   "`ctxscale train --sampler %s`",
                   count[0], count[1], kept ? names : "none", count[0] ? "packed" : "longdoc");
}

/* One y range (and x range) for both panels, so that their curves compare by eye. */
static int c2_ranges(cs_plot *p, const run_set *rs)
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY}, pad;
    size_t i, b;
    int st = CS_OK;

    for (i = 0; i < rs->n; i++)
        for (b = 0; b < rs->runs[i].nbins; b++) {
            if (!isfinite(rs->runs[i].loss[b]))
                continue;
            lo[0] = fmin(lo[0], rs->runs[i].pos[b]);
            hi[0] = fmax(hi[0], rs->runs[i].pos[b]);
            lo[1] = fmin(lo[1], rs->runs[i].loss[b]);
            hi[1] = fmax(hi[1], rs->runs[i].loss[b]);
        }
    if (!(lo[0] < hi[0]) || !(lo[1] < hi[1]))
        return CS_OK; /* one point or none: gnuplot's automatic ranges */
    pad = 0.05 * (hi[1] - lo[1]);
    for (size_t k = 0; k < 2 && st == CS_OK; k++) {
        st = cs_plot_set_range(p, k, 'x', lo[0] / 1.1, hi[0] * 1.1);
        st = st ? st : cs_plot_set_range(p, k, 'y', lo[1] - pad, hi[1] + pad);
    }
    return st;
}

/* The curves of one panel, each run's T dashed in its colour when the eval goes past it. */
static int c2_panel_draw(cs_plot *p, const run_set *rs, int k)
{
    cs_plot_look look = cs_plot_default_look();
    char title[320], v[32];
    size_t i, j = 0;
    bool past = false;
    int st = CS_OK;

    for (i = 0; i < rs->n && st == CS_OK; i++) {
        const run_view *r = &rs->runs[i];

        if (c2_panel(r) != k)
            continue;
        look.rgb = cs_plot_palette(j++);
        look.dash = CS_PLOT_SOLID;
        look.width = 2.5;
        snprintf(title, sizeof title, "%s: %s (T = %s)", c2_modes[k], r->name,
                 cs_fig_util_num(v, r->T));
        st = add_curve_in(p, (size_t)k, r, title, &look, INFINITY);
        if (st || !isfinite(r->T) || !(r->last[r->nbins - 1] > r->T))
            continue;
        past = true;
        look.dash = CS_PLOT_DASHED;
        look.width = 1.2;
        st = cs_plot_add_rule(p, (size_t)k, 'v', r->T, NULL, &look);
    }
    look.rgb = 0x606060;
    look.dash = CS_PLOT_DASHED;
    if (st == CS_OK && past)
        st =
            cs_plot_add_rule(p, (size_t)k, 'k', 0.0, "dashed: the run's training context T", &look);
    return st;
}

/* The note line on the samplers: what each did to the evaluation windows. */
static int c2_note(cs_plot *p, const run_set *rs)
{
    double sum[2] = {0, 0};
    size_t n[2] = {0, 0}, i;
    char a[32], b[32];

    for (i = 0; i < rs->n; i++) {
        int k = c2_panel(&rs->runs[i]);

        if (k >= 0 && isfinite(rs->runs[i].doc_ends)) {
            sum[k] += rs->runs[i].doc_ends;
            n[k]++;
        }
    }
    return cs_plot_add_note(p,
                            "each run evaluated on windows of its own sampler; document ends per "
                            "evaluation window, mean: longdoc %s, packed %s",
                            n[0] ? cs_fig_util_num(a, sum[0] / (double)n[0]) : "?",
                            n[1] ? cs_fig_util_num(b, sum[1] / (double)n[1]) : "?");
}

int cs_fig_context_c2(const cs_figures_opts *o, cs_plot **out)
{
    cs_plot *p = NULL;
    run_set rs;
    size_t panel;
    int st;

    *out = NULL;
    if ((st = load_runs(o, "C2", &rs)) || (st = c2_select(o, &rs)))
        goto out_free;
    qsort(rs.runs, rs.n, sizeof *rs.runs, cmp_run);
    if (!(p = run_plot("C2", "Loss at each position: long documents against packed short ones"))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    cs_plot_set_size(p, 1500, 650);
    cs_plot_set_layout(p, 1, 2);
    if ((st = cs_plot_set_panel_title(p, 0, c2_titles[0])) ||
        (st = cs_plot_add_panel(p, c2_titles[1], &panel)) ||
        (st = cs_plot_set_axis(p, panel, 'x', "position in the context (tokens)", true)) ||
        (st = cs_plot_set_axis(p, panel, 'y', "mean loss at the position (nats/token)", false)))
        goto out_free;
    if ((st = c2_panel_draw(p, &rs, 0)) || (st = c2_panel_draw(p, &rs, 1)) ||
        (st = c2_ranges(p, &rs)) || (st = runs_note(p, &rs)) || (st = c2_note(p, &rs)))
        goto out_free;
    *out = p;
    p = NULL;
out_free:
    cs_plot_free(p);
    run_set_free(&rs);
    return st;
}

// ---- C3 ------------------------------------------------------------------------------------

/* The histogram bars and the training contexts of C3. */
static int c3_draw(cs_plot *p, const cs_figures_opts *o, const cs_store *s, const cs_store_hist *h)
{
    cs_plot_look look = cs_plot_default_look();
    uint64_t total =
        cs_store_split_tokens(s, CS_STORE_TRAIN) + cs_store_split_tokens(s, CS_STORE_VAL);
    size_t b, k, sb;
    char title[160], v[32];
    int st;

    look.rgb = cs_plot_palette(0);
    if ((st = cs_plot_add_series(p, 0, CS_PLOT_BOXES, "documents per length bin", &look, &sb)))
        return st;
    for (b = 0; b < h->n_bins && st == CS_OK; b++) {
        double row[3] = {(double)h->lo[b], (double)h->hi[b], (double)h->docs[b]};

        if (h->lo[b] >= 1)
            st = cs_plot_add_row(p, sb, row);
    }
    for (k = 0; k < o->ncontexts && st == CS_OK; k++) {
        uint64_t docs, tokens;

        cs_store_count_at_least(s, CS_STORE_ALL_SPLITS, (uint64_t)o->contexts[k], &docs, &tokens);
        snprintf(title, sizeof title,
                 "T = %s: documents of at least T tokens hold %.1f%% of the tokens (%.1f%% of "
                 "the documents)",
                 cs_fig_util_num(v, o->contexts[k]),
                 total ? 100.0 * (double)tokens / (double)total : 0.0,
                 100.0 * (double)docs / (double)cs_store_n_docs(s));
        look.rgb = cs_plot_ramp(o->ncontexts > 1 ? (double)k / (double)(o->ncontexts - 1) : 0.0);
        look.dash = CS_PLOT_DASHED;
        st = cs_plot_add_rule(p, 0, 'v', o->contexts[k], title, &look);
    }
    if (st == CS_OK)
        st = cs_plot_add_note(p,
                              "store: %s: %zu documents, %llu tokens, vocabulary %zu; %llu "
                              "empty documents not shown",
                              cs_store_path(s), cs_store_n_docs(s), (unsigned long long)total,
                              cs_store_vocab(s), (unsigned long long)(h->n_bins ? h->docs[0] : 0));
    return st;
}

int cs_fig_context_c3(const cs_figures_opts *o, cs_plot **out)
{
    cs_store *s = NULL;
    cs_store_hist h;
    cs_plot *p = NULL;
    size_t k;
    int st;

    *out = NULL;
    memset(&h, 0, sizeof h);
    if ((st = cs_fig_util_ninputs(o, "C3", 1, 1, "a token store directory")))
        return st;
    for (k = 0; k < o->ncontexts; k++)
        if (!(o->contexts[k] >= 1))
            return cs_fail(CS_EINPUT, "--contexts: expected token counts >= 1, got %g",
                           o->contexts[k]);
    if ((st = cs_store_open(o->inputs[0], &s)) ||
        (st = cs_store_length_hist(s, CS_STORE_ALL_SPLITS, 4, &h)))
        goto out_free;
    if (!(p = cs_plot_alloc("C3"))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    cs_plot_set_title(p, "Document lengths of the corpus, with the training contexts");
    cs_plot_set_axis(p, 0, 'x', "document length (tokens)", true);
    cs_plot_set_axis(p, 0, 'y', "documents", false);
    if ((st = c3_draw(p, o, s, &h)) == CS_OK) {
        *out = p;
        p = NULL;
    }
out_free:
    cs_plot_free(p);
    cs_store_hist_free(&h);
    cs_store_close(s);
    return st;
}

// ---- C4, C5 ----------------------------------------------------------------------------------

/* "T = 512: name" into buf. */
static void run_title(char *buf, size_t n, const run_view *r)
{
    char v[32];

    snprintf(buf, n, "T = %s: %s", cs_fig_util_num(v, r->T), r->name);
}

static int32_t run_color(const run_set *rs, size_t k)
{
    return rs->n > 1 ? cs_plot_ramp(0.85 * (double)k / (double)(rs->n - 1)) : cs_plot_palette(0);
}

/* A dotted legend entry explaining a style. */
static int explain(cs_plot *p, int dash, const char *text)
{
    cs_plot_look look = cs_plot_default_look();

    look.rgb = 0x606060;
    look.dash = dash;
    look.width = 1.5;
    return cs_plot_add_rule(p, 0, 'k', 0.0, text, &look);
}

static void warn_sizes(const cs_figures_opts *o, const run_set *rs, const char *id)
{
    size_t i;

    for (i = 1; i < rs->n; i++)
        if (rs->runs[i].N != rs->runs[0].N) {
            cs_fig_util_warn(o, "figure %s compares one model size; these runs have several", id);
            return;
        }
}

static int c4_draw(cs_plot *p, const cs_figures_opts *o, const run_set *rs)
{
    cs_plot_look look = cs_plot_default_look();
    char title[160];
    size_t k, s;
    int st = CS_OK;

    for (k = 0; k < rs->n && st == CS_OK; k++) {
        const run_view *r = &rs->runs[k];

        look.rgb = run_color(rs, k);
        look.dash = CS_PLOT_SOLID;
        run_title(title, sizeof title, r);
        if (isnan(r->T))
            cs_fig_util_warn(o, "%s: training context unknown; whole curve drawn", r->path);
        if ((st = add_curve(p, r, title, &look, isnan(r->T) ? INFINITY : r->T)) ||
            !isfinite(r->loss_val) || isnan(r->T))
            continue;
        look.dash = CS_PLOT_DOTTED;
        if ((st = cs_plot_add_series(p, 0, CS_PLOT_LINES, NULL, &look, &s)) == CS_OK &&
            (st = cs_plot_add_xy(p, s, 1.0, r->loss_val)) == CS_OK)
            st = cs_plot_add_xy(p, s, r->T, r->loss_val);
    }
    if (st == CS_OK)
        st = explain(p, CS_PLOT_DOTTED, "dotted: the run's average loss over positions 1..T");
    return st;
}

static int c5_draw(cs_plot *p, const cs_figures_opts *o, const run_set *rs)
{
    cs_plot_look look = cs_plot_default_look();
    char title[160];
    size_t k;
    int st = CS_OK;

    for (k = 0; k < rs->n && st == CS_OK; k++) {
        const run_view *r = &rs->runs[k];

        look.rgb = run_color(rs, k);
        look.dash = CS_PLOT_DOTTED;
        look.width = 1.5;
        run_title(title, sizeof title, r);
        if (isfinite(r->T) && !(r->last[r->nbins - 1] > r->T))
            cs_fig_util_warn(o, "%s: evaluated only up to its training context", r->path);
        if ((st = mark_T(p, r->T, look.rgb, NULL)) == CS_OK && isfinite(r->loss_val_best))
            st = cs_plot_add_rule(p, 0, 'h', r->loss_val_best, NULL, &look);
        look.dash = CS_PLOT_SOLID;
        look.width = 2.0;
        if (st == CS_OK)
            st = add_curve(p, r, title, &look, INFINITY);
    }
    if (st == CS_OK && (st = explain(p, CS_PLOT_DASHED, "dashed: the training context T")) == CS_OK)
        st = explain(p, CS_PLOT_DOTTED, "dotted: best-context loss (last 5% of T)");
    return st;
}

/* C4 and C5: load, sort by T, draw. */
static int runs_figure(const cs_figures_opts *o, const char *id, const char *title,
                       int (*draw)(cs_plot *, const cs_figures_opts *, const run_set *),
                       cs_plot **out)
{
    cs_plot *p = NULL;
    run_set rs;
    int st;

    *out = NULL;
    if ((st = load_runs(o, id, &rs)))
        goto out_free;
    qsort(rs.runs, rs.n, sizeof *rs.runs, cmp_run);
    warn_sizes(o, &rs, id);
    if (!(p = run_plot(id, title))) {
        st = CS_ENOMEM;
        goto out_free;
    }
    if ((st = draw(p, o, &rs)) || (st = runs_note(p, &rs)))
        goto out_free;
    *out = p;
    p = NULL;
out_free:
    cs_plot_free(p);
    run_set_free(&rs);
    return st;
}

int cs_fig_context_c4(const cs_figures_opts *o, cs_plot **out)
{
    return runs_figure(o, "C4", "Contextwise loss of one model size trained at several contexts",
                       c4_draw, out);
}

int cs_fig_context_c5(const cs_figures_opts *o, cs_plot **out)
{
    return runs_figure(o, "C5", "Evaluation beyond the training context", c5_draw, out);
}

// ---- S6 ------------------------------------------------------------------------------------

static int s6_draw(cs_plot *p, const cs_figures_opts *o, const run_set *rs)
{
    cs_plot_look look = cs_plot_default_look();
    const char *key = o->label_key ? o->label_key : "data_name";
    size_t k, j, color = 0;
    char title[320], none[96];
    bool sameT = true;
    int st = CS_OK;

    snprintf(none, sizeof none, "(no %s)", key);
    for (k = 0; k < rs->n && st == CS_OK; k++) {
        const run_view *r = &rs->runs[k];
        const char *lab = r->label ? r->label : none;
        bool dup = false, first = true;

        for (j = 0; j < rs->n; j++) {
            const char *l2 = rs->runs[j].label ? rs->runs[j].label : none;

            dup = dup || (j != k && strcmp(lab, l2) == 0);
            first = first && !(j < k && strcmp(lab, l2) == 0);
        }
        sameT = sameT && r->T == rs->runs[0].T;
        color += first && k > 0;
        look.rgb = cs_plot_palette(color);
        look.dash = (int)(k % 4) * !first;
        snprintf(title, sizeof title, dup ? "%s (%s)" : "%s", lab, r->name);
        st = add_curve(p, r, title, &look, INFINITY);
    }
    if (st == CS_OK && sameT) {
        snprintf(title, sizeof title, "training context T = %.0f", rs->runs[0].T);
        st = mark_T(p, rs->runs[0].T, 0x606060, title);
    }
    if (st == CS_OK)
        st = cs_plot_add_note(p, "curves labelled by the runs' config key \"%s\"", key);
    return st;
}

int cs_fig_context_s6(const cs_figures_opts *o, cs_plot **out)
{
    return runs_figure(o, "S6", "Loss against position, per data mixture", s6_draw, out);
}
