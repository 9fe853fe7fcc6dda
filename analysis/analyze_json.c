/* analysis/analyze_json.c: the JSON document of the context-scaling analysis
 * (cs_analyze_write_json, analysis/analyze.h; layout in docs/analysis.md). JSON has no NaN: a
 * missing value is null. Tested in tests/unit/test_analyze.c and tests/cli/test_analyze.sh.
 */
#include "analysis/analyze.h"

#include "core/error.h"
#include "core/runlog.h"
#include "fit/optimal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define FORMAT_NAME    "ctxscale-analyze"
#define FORMAT_VERSION 1

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *count(size_t n)
{
    return json_integer((json_int_t)n);
}

static json_t *model_ref(size_t m)
{
    return m == SIZE_MAX ? json_null() : count(m);
}

static json_t *settings_json(const cs_analyze_result *r)
{
    const cs_analyze_params *p = &r->params;

    return json_pack("{s:s, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "rows",
                     r->pts->source == CS_POINTS_STEPS ? "steps" : "eval", "tol", num(p->tol),
                     "min_runs", count(p->min_runs), "final_only", p->final_only, "window",
                     count(p->ucurve.window), "bootstrap", count(p->ucurve.nboot), "seed",
                     json_integer((json_int_t)p->ucurve.seed), "level", num(p->ucurve.level),
                     "noise", num(p->noise), "law", p->law, "law_bootstrap", count(p->law_boot));
}

static json_t *runs_json(const cs_analyze_result *r)
{
    json_t *a = json_array();
    char miss[1024];
    size_t i;

    for (i = 0; i < r->pts->nruns; i++) {
        const cs_points_run *run = &r->pts->runs[i];
        size_t n = run->n;
        cs_points_missing_text(run->missing, r->pts->source, miss, sizeof miss);
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "run",
                         run->path, "status", cs_runlog_status_name(run->status), "usable",
                         cs_points_usable(run), "missing", miss, "model",
                         model_ref(r->run_model[i]), "N", num(run->N), "T", num(run->T), "V",
                         num(run->V), "C", num(n ? run->C[n - 1] : NAN), "D",
                         num(n ? run->D[n - 1] : NAN), "loss_avg", num(n ? run->A[n - 1] : NAN),
                         "loss_best", num(n ? run->L[n - 1] : NAN), "rows", count(n)));
    }
    return a;
}

static json_t *models_json(const cs_analyze_result *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->nmodels; i++) {
        const cs_analyze_model *m = &r->models[i];
        json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:[o, o]}", "N", num(m->N),
                                           "V", num(m->V), "n_layer", num(m->n_layer), "d_model",
                                           num(m->d_model), "runs", count(m->nruns),
                                           "flops_per_token", num(m->cost_a), num(m->cost_b)));
    }
    return a;
}

static json_t *budgets_json(const cs_analyze_result *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->nbudgets; i++)
        json_array_append_new(a, json_pack("{s:o, s:s, s:o}", "C", num(r->budgets[i].C), "status",
                                           cs_analyze_budget_status_name(r->budgets[i].status),
                                           "runs", count(r->budgets[i].nruns)));
    return a;
}

static json_t *slices_json(const cs_analyze_result *r, size_t budget)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->nslices; i++) {
        const cs_analyze_slice *s = &r->slices[i];
        if (s->budget != budget)
            continue;
        json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "run",
                                           r->pts->runs[s->run].path, "model", count(s->model), "T",
                                           num(s->T), "D", num(s->D), "loss_best", num(s->L),
                                           "loss_avg", num(s->A), "sigma", num(s->sigma)));
    }
    return a;
}

static json_t *point_json(const cs_analyze_result *r, const cs_analyze_point *q)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o}", "model",
                     count(q->model), "N", num(r->models[q->model].N), "T", num(q->T), "D",
                     num(q->D), "loss_best", num(q->L), "loss_avg", num(q->A), "sigma",
                     num(q->sigma), "replicates", count(q->nrep), "run", r->pts->runs[q->run].path,
                     "rank_avg", num(q->rank_avg), "rank_best", num(q->rank_best));
}

static json_t *opt_json(const cs_ucurve_opt *o)
{
    return json_pack("{s:s, s:o, s:[o, o], s:o, s:[o, o, o], s:[o, o], s:{s:o, s:o}}", "status",
                     cs_ucurve_status_name(o->status), "T", num(o->x_opt), "T_band", num(o->x_lo),
                     num(o->x_hi), "loss", num(o->L_opt), "parabola", num(o->a[0]), num(o->a[1]),
                     num(o->a[2]), "ln_T_range", num(o->u_lo), num(o->u_hi), "bootstrap",
                     "replicates", count(o->nboot), "edge", count(o->nboot_edge));
}

static json_t *points_json(const cs_analyze_result *r, const cs_analyze_point *p, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, point_json(r, &p[i]));
    return a;
}

static json_t *curves_json(const cs_analyze_result *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->ncurves; i++) {
        const cs_analyze_curve *c = &r->curves[i];
        json_array_append_new(
            a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "budget", num(r->budgets[c->budget].C),
                         "model", count(c->model), "N", num(r->models[c->model].N), "V",
                         num(r->models[c->model].V), "points",
                         points_json(r, r->points + c->first, c->n), "optimum", opt_json(&c->opt)));
    }
    return a;
}

static json_t *joint_opt_json(const cs_ucurve_joint *o)
{
    return json_pack("{s:s, s:i, s:i, s:o, s:[o, o], s:o, s:[o, o], s:o, s:{s:o, s:o}}", "status",
                     cs_ucurve_status_name(o->status), "edge_N", o->edge_N, "edge_T", o->edge_T,
                     "N", num(o->N_opt), "N_band", num(o->N_lo), num(o->N_hi), "T", num(o->T_opt),
                     "T_band", num(o->T_lo), num(o->T_hi), "loss", num(o->L_opt), "bootstrap",
                     "replicates", count(o->nboot), "edge", count(o->nboot_edge));
}

static json_t *joints_json(const cs_analyze_result *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->njoints; i++) {
        const cs_analyze_joint *J = &r->joints[i];
        json_array_append_new(
            a, json_pack("{s:o, s:o, s:o, s:o, s:o}", "budget", num(r->budgets[J->budget].C),
                         "profile", points_json(r, r->profile + J->first, J->n), "profile_optimum",
                         opt_json(&J->profile), "optimum", joint_opt_json(&J->opt), "isoflop",
                         slices_json(r, J->budget)));
    }
    return a;
}

static json_t *ranked_json(const cs_analyze_result *r, size_t point)
{
    const cs_analyze_point *q = &r->points[point];

    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "run", r->pts->runs[q->run].path, "N",
                     num(r->models[q->model].N), "T", num(q->T), "loss_best", num(q->L), "loss_avg",
                     num(q->A));
}

static json_t *ranks_json(const cs_analyze_result *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->nranks; i++) {
        const cs_analyze_rank *k = &r->ranks[i];
        json_array_append_new(
            a, json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "budget",
                         num(r->budgets[k->budget].C), "scope",
                         k->model == SIZE_MAX ? "all" : "model", "model", model_ref(k->model), "n",
                         count(k->r.n), "spearman", num(k->r.spearman), "kendall",
                         num(k->r.kendall), "best_by_average", ranked_json(r, k->r.best_avg),
                         "best_by_best_context", ranked_json(r, k->r.best_best), "agree",
                         k->r.best_avg == k->r.best_best, "regret", num(k->r.regret)));
    }
    return a;
}

static json_t *law_rows_json(const cs_analyze_result *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->law.nrows; i++) {
        const cs_analyze_law_row *w = &r->law.rows[i];
        json_array_append_new(
            a,
            json_pack("{s:s, s:o, s:o, s:o, s:[o, o], s:o, s:[o, o], s:o, s:o, s:{s:b, s:b}, "
                      "s:o}",
                      "kind", w->model == SIZE_MAX ? "joint" : "size", "budget",
                      num(r->budgets[w->budget].C), "model", model_ref(w->model), "N", num(w->N),
                      "N_band", num(w->N_lo), num(w->N_hi), "T", num(w->T), "T_band", num(w->T_lo),
                      num(w->T_hi), "D", num(w->D), "loss", num(w->L), "at_bound", "N",
                      (w->at_bound & CS_OPTIMAL_AT_N) != 0, "T",
                      (w->at_bound & CS_OPTIMAL_AT_T) != 0, "samples_ok", count(w->nsamples_ok)));
    }
    return a;
}

static json_t *law_params_json(const cs_analyze_law *lw)
{
    json_t *o = json_object();
    size_t j, n = cs_law_nparams(lw->law);

    for (j = 0; j < n; j++) {
        const cs_boot_result *b = lw->boot;
        json_object_set_new(o, cs_law_param_name(lw->law, j),
                            json_pack("{s:o, s:[o, o]}", "estimate", num(lw->fit->estimate[j]),
                                      "interval", num(b ? b->lo[j] : NAN),
                                      num(b ? b->hi[j] : NAN)));
    }
    return o;
}

static json_t *law_json(const cs_analyze_result *r)
{
    const cs_analyze_law *lw = &r->law;

    if (!lw->fitted)
        return json_pack("{s:b, s:s}", "fitted", false, "message", lw->message);
    return json_pack("{s:b, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:[o, o], s:o}", "fitted", true,
                     "law", "ndt", "formula", cs_law_formula(lw->law), "points",
                     count(cs_dataset_n(lw->ds)), "rmse", num(lw->fit->rmse), "parameters",
                     law_params_json(lw), "bootstrap", count(lw->boot ? lw->boot->n : 0), "aspect",
                     num(lw->aspect), "T_range", num(lw->T_lo), num(lw->T_hi), "optima",
                     law_rows_json(r));
}

static json_t *warnings_json(const cs_analyze_result *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->nwarnings; i++)
        json_array_append_new(a, json_string(r->warnings[i]));
    return a;
}

static json_t *doc_json(const cs_analyze_result *r)
{
    const cs_points *pts = r->pts;

    return json_pack(
        "{s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:{s:b, s:o, s:o},"
        " s:o, s:o, s:o, s:o, s:o}",
        "format", FORMAT_NAME, "version", FORMAT_VERSION, "source", pts->dir, "unit",
        cs_analyze_unit(r), "data_name", pts->data_name ? json_string(pts->data_name) : json_null(),
        "flops_formula", pts->flops_formula ? json_string(pts->flops_formula) : json_null(),
        "settings", settings_json(r), "counts", "runs", count(pts->nruns), "used",
        count(pts->nused), "other_data", count(pts->nother_data), "runs", runs_json(r), "models",
        models_json(r), "budgets", budgets_json(r), "noise", "given", r->noise_given, "fill",
        num(r->noise_fill), "filled", count(r->noise_filled), "ucurves", curves_json(r), "joint",
        joints_json(r), "rankings", ranks_json(r), "law", law_json(r), "warnings",
        warnings_json(r));
}

int cs_analyze_write_json(const cs_analyze_result *r, FILE *f)
{
    json_t *doc = doc_json(r);
    int st = CS_OK;

    if (!doc)
        return cs_fail(CS_ENOMEM, "out of memory building the JSON document");
    if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 || fputc('\n', f) == EOF)
        st = cs_fail(CS_EIO, "writing the JSON document failed");
    json_decref(doc);
    return st;
}
