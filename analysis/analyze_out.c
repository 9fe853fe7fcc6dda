/* analysis/analyze_out.c: the CSV files of the context-scaling analysis (cs_analyze_write_csv,
 * analysis/analyze.h), one per analysis, for the figure programs; their columns are listed in
 * docs/analysis.md. The JSON document is in analyze_json.c. Tested in tests/unit/test_analyze.c
 * and tests/cli/test_analyze.sh.
 */
#include "analysis/analyze.h"

#include "core/afile.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/runlog.h"
#include "core/table.h"
#include "fit/fitjson.h"
#include "fit/optimal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// ---- a table filled column by column --------------------------------------------------------

/* A table under construction: a cursor over the columns of the current row. */
typedef struct tb {
    cs_table *t;
    size_t row, col;
    int st;
} tb;

/* Columns from a space-separated list; a name ending in '$' is a text column. */
static void tb_init(tb *b, const char *source, const char *spec)
{
    char name[64];
    const char *p = spec;
    int n;

    b->t = cs_table_alloc(source);
    b->st = b->t ? CS_OK : CS_ENOMEM;
    while (b->st == CS_OK && sscanf(p, "%63s%n", name, &n) == 1) {
        size_t len = strlen(name);
        bool text = name[len - 1] == '$';
        if (text)
            name[len - 1] = '\0';
        b->st = cs_table_add_col(b->t, name, text ? CS_COL_STR : CS_COL_NUM, NULL);
        p += n;
    }
}

static void tb_row(tb *b)
{
    if (b->st == CS_OK)
        b->st = cs_table_append_row(b->t, 0);
    b->row = b->st == CS_OK ? cs_table_nrows(b->t) - 1 : 0;
    b->col = 0;
}

static void tb_num(tb *b, double v)
{
    if (b->st == CS_OK)
        cs_table_set_num(b->t, b->row, b->col++, v);
}

static void tb_str(tb *b, const char *s)
{
    if (b->st == CS_OK)
        b->st = cs_table_set_str(b->t, b->row, b->col++, s ? s : "");
}

static double idx(size_t i)
{
    return i == SIZE_MAX ? NAN : (double)i;
}

// ---- the tables ----------------------------------------------------------------------------

/* A loss of `run` in bits per byte, whatever the analysis unit. */
static double to_bpb(const cs_analyze_result *r, const cs_points_run *run, double v)
{
    return r->pts->metric == CS_POINTS_BPB ? v : v / (log(2.0) * run->bytes_per_token);
}

static double last(const cs_points_run *run, const double *v)
{
    return run->n ? v[run->n - 1] : NAN;
}

static void points_table(const cs_analyze_result *r, tb *b)
{
    size_t i;
    char miss[1024];

    tb_init(b, "points.csv",
            "run$ status$ usable missing$ model N D T V C n_layer d_model flops_per_token "
            "loss_avg loss_best bpb_avg bpb_best unit$");
    for (i = 0; i < r->pts->nruns; i++) {
        const cs_points_run *run = &r->pts->runs[i];
        cs_points_missing_text(run->missing, r->pts->source, miss, sizeof miss);
        tb_row(b);
        tb_str(b, run->path);
        tb_str(b, cs_runlog_status_name(run->status));
        tb_num(b, cs_points_usable(run));
        tb_str(b, miss);
        tb_num(b, idx(r->run_model[i]));
        tb_num(b, run->N);
        tb_num(b, last(run, run->D));
        tb_num(b, run->T);
        tb_num(b, run->V);
        tb_num(b, last(run, run->C));
        tb_num(b, run->n_layer);
        tb_num(b, run->d_model);
        tb_num(b, run->flops_per_token);
        tb_num(b, last(run, run->A));
        tb_num(b, last(run, run->L));
        tb_num(b, to_bpb(r, run, last(run, run->A)));
        tb_num(b, to_bpb(r, run, last(run, run->L)));
        tb_str(b, cs_analyze_unit(r));
    }
}

static void budgets_table(const cs_analyze_result *r, tb *b)
{
    size_t i;

    tb_init(b, "budgets.csv", "budget status$ runs");
    for (i = 0; i < r->nbudgets; i++) {
        tb_row(b);
        tb_num(b, r->budgets[i].C);
        tb_str(b, cs_analyze_budget_status_name(r->budgets[i].status));
        tb_num(b, (double)r->budgets[i].nruns);
    }
}

static void isoflop_table(const cs_analyze_result *r, tb *b)
{
    size_t i;

    tb_init(b, "isoflop.csv", "budget run$ model N T V D loss_best loss_avg sigma unit$");
    for (i = 0; i < r->nslices; i++) {
        const cs_analyze_slice *s = &r->slices[i];
        tb_row(b);
        tb_num(b, r->budgets[s->budget].C);
        tb_str(b, r->pts->runs[s->run].path);
        tb_num(b, (double)s->model);
        tb_num(b, r->models[s->model].N);
        tb_num(b, s->T);
        tb_num(b, r->models[s->model].V);
        tb_num(b, s->D);
        tb_num(b, s->L);
        tb_num(b, s->A);
        tb_num(b, s->sigma);
        tb_str(b, cs_analyze_unit(r));
    }
}

static void ucurve_row(const cs_analyze_result *r, tb *b, const char *kind,
                       const cs_analyze_point *q, bool rank)
{
    tb_row(b);
    if (kind)
        tb_str(b, kind);
    tb_num(b, r->budgets[q->budget].C);
    tb_num(b, (double)q->model);
    tb_num(b, r->models[q->model].N);
    tb_num(b, r->models[q->model].V);
    tb_num(b, q->T);
    if (!rank) {
        tb_num(b, q->D);
        tb_num(b, q->L);
        tb_num(b, q->A);
        tb_num(b, q->sigma);
        tb_num(b, (double)q->nrep);
    } else {
        tb_num(b, q->A);
        tb_num(b, q->L);
        tb_num(b, q->rank_avg);
        tb_num(b, q->rank_best);
    }
    tb_str(b, r->pts->runs[q->run].path);
    tb_str(b, cs_analyze_unit(r));
}

static void ucurve_table(const cs_analyze_result *r, tb *b)
{
    size_t i;

    tb_init(b, "ucurve.csv",
            "kind$ budget model N V T D loss_best loss_avg sigma replicates run$ unit$");
    for (i = 0; i < r->npoints; i++)
        ucurve_row(r, b, "size", &r->points[i], false);
    for (i = 0; i < r->nprofile; i++)
        ucurve_row(r, b, "joint", &r->profile[i], false);
}

static void opt_cols(tb *b, const cs_ucurve_opt *o, size_t n, const double *T)
{
    tb_num(b, o->x_opt);
    tb_num(b, o->x_lo);
    tb_num(b, o->x_hi);
    tb_num(b, o->L_opt);
    tb_str(b, cs_ucurve_status_name(o->status));
    tb_num(b, (double)n);
    tb_num(b, T[0]);
    tb_num(b, T[1]);
    tb_num(b, o->a[0]);
    tb_num(b, o->a[1]);
    tb_num(b, o->a[2]);
    tb_num(b, o->u_lo);
    tb_num(b, o->u_hi);
    tb_num(b, (double)o->nboot);
    tb_num(b, (double)o->nboot_edge);
}

static void optimal_head(const cs_analyze_result *r, tb *b, const char *kind, size_t budget,
                         size_t model, double N, double N_lo, double N_hi)
{
    tb_row(b);
    tb_str(b, kind);
    tb_num(b, r->budgets[budget].C);
    tb_num(b, idx(model));
    tb_num(b, N);
    tb_num(b, N_lo);
    tb_num(b, N_hi);
}

static void optimal_table(const cs_analyze_result *r, tb *b)
{
    size_t i;

    tb_init(b, "optimal_context.csv",
            "kind$ budget model N N_lo N_hi T_opt T_lo T_hi loss_opt status$ n T_min T_max a0 a1 "
            "a2 u_lo u_hi nboot nboot_edge unit$");
    for (i = 0; i < r->ncurves; i++) {
        const cs_analyze_curve *c = &r->curves[i];
        double T[2] = {r->points[c->first].T, r->points[c->first + c->n - 1].T};
        double N = r->models[c->model].N;
        optimal_head(r, b, "size", c->budget, c->model, N, NAN, NAN);
        opt_cols(b, &c->opt, c->n, T);
        tb_str(b, cs_analyze_unit(r));
    }
    for (i = 0; i < r->njoints; i++) {
        const cs_analyze_joint *J = &r->joints[i];
        const cs_ucurve_joint *o = &J->opt;
        double T[2] = {r->profile[J->first].T, r->profile[J->first + J->n - 1].T};
        const cs_analyze_point *best = &r->profile[J->first + J->profile.best];
        optimal_head(r, b, "joint-profile", J->budget, best->model, r->models[best->model].N, NAN,
                     NAN);
        opt_cols(b, &J->profile, J->n, T);
        tb_str(b, cs_analyze_unit(r));
        cs_ucurve_opt flat = {o->status,       o->best, o->T_opt, o->L_opt, o->T_lo,      o->T_hi,
                              {NAN, NAN, NAN}, NAN,     NAN,      o->nboot, o->nboot_edge};
        optimal_head(r, b, "joint", J->budget, SIZE_MAX, o->N_opt, o->N_lo, o->N_hi);
        opt_cols(b, &flat, J->n, T);
        tb_str(b, cs_analyze_unit(r));
    }
}

static const char *bound_text(unsigned at)
{
    static const char *const names[4] = {"", "N", "T", "N,T"};

    return names[(at & CS_OPTIMAL_AT_N ? 1 : 0) + (at & CS_OPTIMAL_AT_T ? 2 : 0)];
}

static void law_table(const cs_analyze_result *r, tb *b)
{
    size_t i;

    tb_init(b, "optimal_law.csv",
            "kind$ budget model N N_lo N_hi T_opt T_lo T_hi D_opt loss_opt at_bound$ "
            "samples_ok unit$");
    for (i = 0; i < r->law.nrows; i++) {
        const cs_analyze_law_row *w = &r->law.rows[i];
        optimal_head(r, b, w->model == SIZE_MAX ? "joint" : "size", w->budget, w->model, w->N,
                     w->N_lo, w->N_hi);
        tb_num(b, w->T);
        tb_num(b, w->T_lo);
        tb_num(b, w->T_hi);
        tb_num(b, w->D);
        tb_num(b, w->L);
        tb_str(b, bound_text(w->at_bound));
        tb_num(b, (double)w->nsamples_ok);
        tb_str(b, cs_analyze_unit(r));
    }
}

static void rankings_table(const cs_analyze_result *r, tb *b)
{
    size_t i;

    tb_init(b, "rankings.csv",
            "budget model N V T loss_avg loss_best rank_avg rank_best run$ unit$");
    for (i = 0; i < r->npoints; i++)
        if (!isnan(r->points[i].rank_avg))
            ucurve_row(r, b, NULL, &r->points[i], true);
}

static void rank_run(const cs_analyze_result *r, tb *b, size_t point)
{
    const cs_analyze_point *q = &r->points[point];

    tb_str(b, r->pts->runs[q->run].path);
    tb_num(b, r->models[q->model].N);
    tb_num(b, q->T);
    tb_num(b, q->L);
}

static void summary_table(const cs_analyze_result *r, tb *b)
{
    size_t i;

    tb_init(b, "rankings_summary.csv",
            "budget scope$ model N n spearman kendall avg_run$ avg_N avg_T avg_loss_best "
            "best_run$ best_N best_T best_loss_best agree regret unit$");
    for (i = 0; i < r->nranks; i++) {
        const cs_analyze_rank *k = &r->ranks[i];
        bool all = k->model == SIZE_MAX;
        tb_row(b);
        tb_num(b, r->budgets[k->budget].C);
        tb_str(b, all ? "all" : "model");
        tb_num(b, idx(k->model));
        tb_num(b, all ? NAN : r->models[k->model].N);
        tb_num(b, (double)k->r.n);
        tb_num(b, k->r.spearman);
        tb_num(b, k->r.kendall);
        rank_run(r, b, k->r.best_avg);
        rank_run(r, b, k->r.best_best);
        tb_num(b, k->r.best_avg == k->r.best_best);
        tb_num(b, k->r.regret);
        tb_str(b, cs_analyze_unit(r));
    }
}

// ---- writing -------------------------------------------------------------------------------

typedef void (*table_fn)(const cs_analyze_result *r, tb *b);

static const char *const csv_names[] = {
    "points.csv",   "budgets.csv",          "isoflop.csv",
    "ucurve.csv",   "optimal_context.csv",  "optimal_law.csv",
    "rankings.csv", "rankings_summary.csv", "law_fit.json",
    NULL,
};

static const table_fn csv_fns[] = {points_table,  budgets_table, isoflop_table,  ucurve_table,
                                   optimal_table, law_table,     rankings_table, summary_table};

const char *const *cs_analyze_csv_names(void)
{
    return csv_names;
}

static int write_table(const cs_table *t, const char *path, bool force)
{
    cs_afile *af = NULL;
    int st;

    if ((st = cs_afile_open(path, force, &af)))
        return st;
    if ((st = cs_csv_write_table(cs_afile_stream(af), t, ','))) {
        cs_afile_abort(af);
        return cs_fail(CS_EIO, "%s: write failed", path);
    }
    return cs_afile_commit(af);
}

static int write_fit(const cs_analyze_result *r, const char *path, bool force)
{
    const cs_analyze_law *lw = &r->law;
    cs_fitjson *fj = NULL;
    cs_afile *af = NULL;
    int st;

    if ((st = cs_fitjson_from_fit(lw->law, NULL, 0, lw->ds, lw->fit, lw->boot, &fj)))
        return st;
    if ((st = cs_afile_open(path, force, &af)) == CS_OK) {
        st = cs_fitjson_write(cs_afile_stream(af), fj);
        if (st)
            cs_afile_abort(af);
        else
            st = cs_afile_commit(af);
    }
    cs_fitjson_free(fj);
    return st;
}

/* Creates dir if needed and refuses (without force) when any output file exists. */
static int prepare_dir(const char *dir, bool force, char *path, size_t n)
{
    struct stat sb;
    size_t i;

    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return cs_fail(CS_EIO, "%s: cannot create the directory: %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cs_fail(CS_EINPUT, "%s: exists and is not a directory", dir);
    for (i = 0; csv_names[i] && !force; i++) {
        snprintf(path, n, "%s/%s", dir, csv_names[i]);
        if (stat(path, &sb) == 0)
            return cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", path);
    }
    return CS_OK;
}

int cs_analyze_write_csv(const cs_analyze_result *r, const char *dir, bool force)
{
    char path[4096];
    size_t i;
    int st;

    if ((st = prepare_dir(dir, force, path, sizeof path)))
        return st;
    for (i = 0; i < sizeof csv_fns / sizeof csv_fns[0] && st == CS_OK; i++) {
        tb b;
        csv_fns[i](r, &b);
        snprintf(path, sizeof path, "%s/%s", dir, csv_names[i]);
        st = b.st ? cs_fail(b.st, "%s: out of memory", path) : write_table(b.t, path, force);
        cs_table_free(b.t);
    }
    snprintf(path, sizeof path, "%s/law_fit.json", dir);
    if (st == CS_OK && r->law.fitted)
        st = write_fit(r, path, force);
    else if (st == CS_OK && unlink(path) != 0 && errno != ENOENT) /* a stale fit (--force) */
        st = cs_fail(CS_EIO, "%s: cannot remove: %s", path, strerror(errno));
    return st;
}
