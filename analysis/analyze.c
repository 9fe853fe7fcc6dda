/* analysis/analyze.c: the pipeline of the context-scaling analysis (analysis/analyze.h): models,
 * budgets, IsoFLOP slices at equal compute, U-curve points, empirical optima per model and
 * joint, rankings; the law part is in analyze_law.c, the output in analyze_out.c. Tested in
 * tests/unit/test_analyze.c and tests/cli/test_analyze.sh.
 */
#include "analysis/analyze.h"

#include "analysis/analyze_internal.h"
#include "core/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cs_analyze_params cs_analyze_default_params(void)
{
    cs_analyze_params p;

    memset(&p, 0, sizeof p);
    p.points = cs_points_default_params();
    p.tol = 0.015;
    p.min_runs = 3;
    p.ucurve = cs_ucurve_default_params();
    p.noise = NAN;
    p.law = true;
    p.law_boot = 100;
    return p;
}

const char *cs_analyze_budget_status_name(int status)
{
    switch (status) {
    case CS_ANALYZE_BUDGET_OK: return "ok";
    case CS_ANALYZE_BUDGET_UNREACHED: return "unreached";
    case CS_ANALYZE_BUDGET_FEW: return "few";
    }
    return "unknown";
}

const char *cs_analyze_unit(const cs_analyze_result *r)
{
    return r->pts->metric == CS_POINTS_BPB ? "bits/byte" : "nats/token";
}

int cs_analyze_warn(cs_analyze_result *r, const char *fmt, ...)
{
    char buf[2048];
    char **w;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    w = realloc(r->warnings, (r->nwarnings + 1) * sizeof *w);
    if (!w)
        return cs_fail(CS_ENOMEM, "out of memory");
    r->warnings = w;
    if (!(w[r->nwarnings] = strdup(buf)))
        return cs_fail(CS_ENOMEM, "out of memory");
    r->nwarnings++;
    return CS_OK;
}

void cs_analyze_result_free(cs_analyze_result *r)
{
    size_t i;

    if (!r)
        return;
    cs_points_free(r->pts);
    free(r->run_model);
    free(r->models);
    free(r->budgets);
    free(r->slices);
    free(r->points);
    free(r->curves);
    free(r->profile);
    free(r->joints);
    free(r->ranks);
    cs_law_free(r->law.law);
    cs_dataset_free(r->law.ds);
    cs_fit_result_free(r->law.fit);
    cs_boot_result_free(r->law.boot);
    free(r->law.rows);
    for (i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r);
}

static int check_params(const cs_analyze_params *p)
{
    size_t i;

    if (!(p->tol > 0.0 && p->tol < 1.0))
        return cs_fail(CS_EINVAL, "tolerance %g: expected a log10 C tolerance in (0, 1)", p->tol);
    if (p->ucurve.window == 0 || !(p->ucurve.level > 0.0 && p->ucurve.level < 1.0))
        return cs_fail(CS_EINVAL, "window must be >= 1 and level in (0, 1)");
    if (!isnan(p->noise) && !(p->noise >= 0.0 && isfinite(p->noise)))
        return cs_fail(CS_EINVAL, "noise %g: expected a number >= 0", p->noise);
    if (p->T_lo < 0.0 || p->T_hi < 0.0 || (p->T_hi > 0.0 && !(p->T_hi > p->T_lo)))
        return cs_fail(CS_EINVAL, "context range %g:%g: expected 0 < lo < hi", p->T_lo, p->T_hi);
    if (p->budgets && p->nbudgets == 0)
        return cs_fail(CS_EINVAL, "an empty list of budgets");
    for (i = 0; p->budgets && i < p->nbudgets; i++)
        if (!(p->budgets[i] > 0.0 && isfinite(p->budgets[i])))
            return cs_fail(CS_EINPUT, "budget %zu: %g FLOPs: expected a positive number", i + 1,
                           p->budgets[i]);
    return CS_OK;
}

// ---- models ------------------------------------------------------------------------------

static int cmp_model(const cs_points_run *a, const cs_points_run *b)
{
    if (a->N != b->N)
        return (a->N > b->N) - (a->N < b->N);
    if (isnan(a->V) || isnan(b->V))
        return isnan(a->V) - isnan(b->V);
    return (a->V > b->V) - (a->V < b->V);
}

/* Training FLOPs per token = a + b T of a model: a line through its runs' C/D against T when
 * they have two contexts or more; else the Kaplan count 6N + 6 n_layer T d_model. */
static void model_cost(const cs_analyze_result *r, size_t m, cs_analyze_model *M)
{
    double st = 0, sc = 0, stt = 0, stc = 0, k = 0, T0 = NAN;
    bool two = false;
    size_t i;

    for (i = 0; i < r->pts->nruns; i++) {
        const cs_points_run *run = &r->pts->runs[i];
        if (r->run_model[i] != m || !isfinite(run->flops_per_token))
            continue;
        two |= !isnan(T0) && run->T != T0;
        T0 = run->T;
        st += run->T;
        sc += run->flops_per_token;
        stt += run->T * run->T;
        stc += run->T * run->flops_per_token;
        k += 1.0;
    }
    M->cost_a = M->cost_b = NAN;
    if (two) {
        M->cost_b = (k * stc - st * sc) / (k * stt - st * st);
        M->cost_a = (sc - M->cost_b * st) / k;
    } else if (isfinite(M->n_layer) && isfinite(M->d_model)) {
        M->cost_a = 6.0 * M->N;
        M->cost_b = 6.0 * M->n_layer * M->d_model;
    }
}

static int build_models(cs_analyze_result *r)
{
    const cs_points *pts = r->pts;
    size_t i, j;

    r->run_model = malloc((pts->nruns + 1) * sizeof *r->run_model);
    r->models = calloc(pts->nruns + 1, sizeof *r->models);
    if (!r->run_model || !r->models)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < pts->nruns; i++) {
        const cs_points_run *run = &pts->runs[i];
        r->run_model[i] = SIZE_MAX;
        if (!cs_points_usable(run))
            continue;
        for (j = 0; j < r->nmodels && cmp_model(run, &pts->runs[r->models[j].nruns]) != 0; j++)
            ;
        if (j == r->nmodels) /* nruns holds a representative run until the end */
            r->models[r->nmodels++].nruns = i;
        r->run_model[i] = j;
    }
    return CS_OK;
}

/* Sorts the models by N then V, renumbers run_model, and fills their fields; order is scratch
 * (nmodels). */
static void finish_models(cs_analyze_result *r, size_t *order)
{
    size_t i, j;
    cs_analyze_model *M = r->models;

    for (i = 0; i < r->nmodels; i++)
        order[i] = M[i].nruns;
    for (i = 1; i < r->nmodels; i++) /* insertion sort of representative runs: few models */
        for (j = i; j > 0 && cmp_model(&r->pts->runs[order[j]], &r->pts->runs[order[j - 1]]) < 0;
             j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (i = 0; i < r->nmodels; i++) {
        const cs_points_run *rep = &r->pts->runs[order[i]];
        M[i] = (cs_analyze_model){rep->N, rep->V, rep->n_layer, rep->d_model, 0, NAN, NAN};
    }
    for (i = 0; i < r->pts->nruns; i++) {
        if (r->run_model[i] == SIZE_MAX)
            continue;
        for (j = 0; cmp_model(&r->pts->runs[i], &r->pts->runs[order[j]]) != 0; j++)
            ;
        r->run_model[i] = j;
        M[j].nruns++;
    }
    for (i = 0; i < r->nmodels; i++)
        model_cost(r, i, &M[i]);
}

static int sort_models(cs_analyze_result *r)
{
    size_t *order = malloc((r->nmodels + 1) * sizeof *order);

    if (!order)
        return cs_fail(CS_ENOMEM, "out of memory");
    finish_models(r, order);
    free(order);
    return CS_OK;
}

// ---- budgets -----------------------------------------------------------------------------

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The largest final compute of a usable run, and that run. */
static size_t largest_run(const cs_points *pts)
{
    size_t i, best = SIZE_MAX;

    for (i = 0; i < pts->nruns; i++) {
        const cs_points_run *r = &pts->runs[i];
        if (cs_points_usable(r) &&
            (best == SIZE_MAX || r->C[r->n - 1] > pts->runs[best].C[pts->runs[best].n - 1]))
            best = i;
    }
    return best;
}

static int count_reach(cs_analyze_result *r, const cs_analyze_params *p, bool automatic)
{
    double slack = pow(10.0, p->tol), L, A, D;
    size_t b, i, few = 0;
    int st = CS_OK;

    for (b = 0; b < r->nbudgets; b++) {
        cs_analyze_budget *B = &r->budgets[b];
        for (i = 0; i < r->pts->nruns; i++)
            B->nruns += r->run_model[i] != SIZE_MAX &&
                        cs_points_at(&r->pts->runs[i], B->C, slack, p->final_only, &L, &A, &D);
        B->status = B->nruns == 0                           ? CS_ANALYZE_BUDGET_UNREACHED
                    : (automatic && B->nruns < p->min_runs) ? CS_ANALYZE_BUDGET_FEW
                                                            : CS_ANALYZE_BUDGET_OK;
        few += B->status == CS_ANALYZE_BUDGET_FEW;
        r->nbudgets_ok += B->status == CS_ANALYZE_BUDGET_OK;
        if (B->status == CS_ANALYZE_BUDGET_UNREACHED && st == CS_OK) {
            const cs_points_run *big = &r->pts->runs[largest_run(r->pts)];
            st = cs_analyze_warn(r,
                                 "budget %.4g FLOPs: no run reaches it%s (the largest compute "
                                 "reached is %.4g FLOPs, by %s); left out",
                                 B->C, p->final_only ? " or ends there" : "", big->C[big->n - 1],
                                 big->path);
        }
    }
    if (few && st == CS_OK)
        st = cs_analyze_warn(r, "%zu automatic budget%s reached by fewer than %zu runs left out",
                             few, few == 1 ? "" : "s", p->min_runs);
    return st;
}

static int no_budget_error(const cs_analyze_result *r, const cs_analyze_params *p)
{
    const cs_points_run *big = &r->pts->runs[largest_run(r->pts)];

    if (p->budgets)
        return cs_fail(CS_EINPUT,
                       "no budget is reached by a run: the largest compute reached is %.4g FLOPs "
                       "(%s), the smallest budget asked for %.4g FLOPs",
                       big->C[big->n - 1], big->path, r->budgets[0].C);
    return cs_fail(CS_EINPUT,
                   "%s: no compute budget is reached by %zu usable runs or more (give --budgets "
                   "or a smaller --min-runs)",
                   r->pts->dir, p->min_runs);
}

static int build_budgets(cs_analyze_result *r, const cs_analyze_params *p)
{
    double *c = NULL;
    size_t i, n = p->nbudgets;
    int st;

    if (p->budgets) {
        if (!(c = malloc((n + 1) * sizeof *c)))
            return cs_fail(CS_ENOMEM, "out of memory");
        memcpy(c, p->budgets, n * sizeof *c);
        qsort(c, n, sizeof *c, cmp_double);
    } else if ((st = cs_points_budgets_auto(r->pts, p->tol, &c, &n))) {
        return st;
    }
    r->budgets = calloc(n + 1, sizeof *r->budgets);
    if (!r->budgets) {
        free(c);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    for (i = 0; i < n; i++)
        if (i == 0 || c[i] != c[i - 1])
            r->budgets[r->nbudgets++].C = c[i];
    free(c);
    if ((st = count_reach(r, p, p->budgets == NULL)))
        return st;
    return r->nbudgets_ok ? CS_OK : no_budget_error(r, p);
}

// ---- slices and points -------------------------------------------------------------------

static int cmp_slice(const void *a, const void *b)
{
    const cs_analyze_slice *x = a, *y = b;
    double tx = x->T, ty = y->T;

    if (x->budget != y->budget)
        return (x->budget > y->budget) - (x->budget < y->budget);
    if (x->model != y->model)
        return (x->model > y->model) - (x->model < y->model);
    if (tx != ty)
        return (tx > ty) - (tx < ty);
    return (x->run > y->run) - (x->run < y->run);
}

static int build_slices(cs_analyze_result *r, const cs_analyze_params *p)
{
    double slack = pow(10.0, p->tol);
    size_t b, i, cap = 0;

    for (b = 0; b < r->nbudgets; b++)
        cap += r->budgets[b].status == CS_ANALYZE_BUDGET_OK ? r->budgets[b].nruns : 0;
    if (!(r->slices = malloc((cap + 1) * sizeof *r->slices)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (b = 0; b < r->nbudgets; b++) {
        if (r->budgets[b].status != CS_ANALYZE_BUDGET_OK)
            continue;
        for (i = 0; i < r->pts->nruns; i++) {
            cs_analyze_slice s = {b, i, r->run_model[i], r->pts->runs[i].T, NAN, NAN, NAN, NAN};
            const cs_points_run *run = &r->pts->runs[i];
            if (s.model == SIZE_MAX ||
                !cs_points_at(run, r->budgets[b].C, slack, p->final_only, &s.L, &s.A, &s.D))
                continue;
            s.sigma = isnan(p->noise) ? cs_points_noise(run, r->budgets[b].C) : p->noise;
            r->slices[r->nslices++] = s;
        }
    }
    qsort(r->slices, r->nslices, sizeof *r->slices, cmp_slice);
    return CS_OK;
}

/* Mean of the finite v[k].field over k in [i, j); NaN when none is. */
#define MEAN_FINITE(v, i, j, field, out)                                                           \
    do {                                                                                           \
        double s_ = 0.0, n_ = 0.0;                                                                 \
        for (size_t k_ = (i); k_ < (j); k_++)                                                      \
            if (isfinite((v)[k_].field)) {                                                         \
                s_ += (v)[k_].field;                                                               \
                n_ += 1.0;                                                                         \
            }                                                                                      \
        (out) = n_ > 0.0 ? s_ / n_ : NAN;                                                          \
    } while (0)

/* Averages the slices [i, j) (one model, one context, one budget) into a point: the mean loss,
 * and as its sigma the standard error of that mean from the runs' own noise or, with
 * replicates and no given noise, their scatter when it is larger. */
static cs_analyze_point average(const cs_analyze_result *r, size_t i, size_t j, bool given)
{
    const cs_analyze_slice *s = r->slices;
    cs_analyze_point q = {s[i].budget, s[i].model, s[i].T, 0, 0, 0, 0, j - i, s[i].run, NAN, NAN};
    double n = (double)(j - i), ss = 0.0, var = 0.0;
    size_t k;

    MEAN_FINITE(s, i, j, D, q.D);
    MEAN_FINITE(s, i, j, L, q.L);
    MEAN_FINITE(s, i, j, A, q.A);
    for (k = i; k < j; k++) {
        var += s[k].sigma * s[k].sigma / n;
        ss += (s[k].L - q.L) * (s[k].L - q.L);
    }
    q.sigma = sqrt(var / n); /* NaN when a replicate has no estimate */
    if (j - i >= 2 && !given)
        q.sigma = fmax(isnan(q.sigma) ? 0.0 : q.sigma, sqrt(ss / (n - 1.0) / n));
    return q;
}

static int build_points(cs_analyze_result *r, const cs_analyze_params *p)
{
    size_t i, j;

    if (!(r->points = malloc((r->nslices + 1) * sizeof *r->points)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < r->nslices; i = j) {
        const cs_analyze_slice *s = &r->slices[i];
        for (j = i + 1; j < r->nslices && r->slices[j].budget == s->budget &&
                        r->slices[j].model == s->model && r->slices[j].T == s->T;
             j++)
            ;
        r->points[r->npoints++] = average(r, i, j, !isnan(p->noise));
    }
    return CS_OK;
}

/* Points without a noise estimate get the median of the others'. */
static int fill_noise(cs_analyze_result *r)
{
    double *v = malloc((r->npoints + 1) * sizeof *v);
    size_t i, k = 0;

    if (!v)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < r->npoints; i++)
        if (!isnan(r->points[i].sigma))
            v[k++] = r->points[i].sigma;
    qsort(v, k, sizeof *v, cmp_double);
    r->noise_fill = k == 0 ? NAN : (k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2.0);
    free(v);
    for (i = 0; i < r->npoints; i++)
        if (isnan(r->points[i].sigma)) {
            r->points[i].sigma = isnan(r->noise_fill) ? 0.0 : r->noise_fill;
            r->noise_filled++;
        }
    if (k == 0 && r->npoints > 0 && r->params.ucurve.nboot > 0)
        return cs_analyze_warn(r, "no noise estimate (runs have fewer than 6 rows near the "
                                  "budgets): the bootstrap bands are empty; give --noise");
    return CS_OK;
}

// ---- curves, joint optima, rankings ------------------------------------------------------

static int build_curves(cs_analyze_result *r)
{
    double *x = malloc((3 * r->npoints + 1) * sizeof *x), *L = x + r->npoints;
    double *sg = x + 2 * r->npoints;
    size_t i, j;
    int st = CS_OK;

    if (!x || !(r->curves = calloc(r->npoints + 1, sizeof *r->curves))) {
        free(x);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    for (i = 0; i < r->npoints && st == CS_OK; i = j) {
        const cs_analyze_point *P = r->points;
        for (j = i; j < r->npoints && P[j].budget == P[i].budget && P[j].model == P[i].model; j++) {
            x[j - i] = P[j].T;
            L[j - i] = P[j].L;
            sg[j - i] = P[j].sigma;
        }
        cs_analyze_curve *c = &r->curves[r->ncurves];
        *c = (cs_analyze_curve){P[i].budget, P[i].model, i, j - i, {0}};
        st = cs_ucurve_optimum(x, L, sg, j - i, &r->params.ucurve, r->ncurves++, &c->opt);
    }
    free(x);
    return st;
}

/* The budget's points reduced to one per (N, T) (the lowest loss over vocabularies) into
 * N, T, L, sg; returns the count. */
static size_t joint_points(const cs_analyze_result *r, size_t first, size_t last, double *N,
                           double *T, double *L, double *sg)
{
    size_t i, k, n = 0;

    for (i = first; i < last; i++) {
        const cs_analyze_point *q = &r->points[i];
        double qN = r->models[q->model].N;
        for (k = 0; k < n && !(N[k] == qN && T[k] == q->T); k++)
            ;
        if (k < n && L[k] <= q->L)
            continue;
        N[k] = qN;
        T[k] = q->T;
        L[k] = q->L;
        sg[k] = q->sigma;
        n += k == n;
    }
    return n;
}

/* Appends the profile (per T the lowest loss over models) of points [first, last). */
static void build_profile(cs_analyze_result *r, size_t first, size_t last, cs_analyze_joint *J)
{
    size_t i, k;

    J->first = r->nprofile;
    for (i = first; i < last; i++) {
        const cs_analyze_point *q = &r->points[i];
        for (k = J->first; k < r->nprofile && r->profile[k].T != q->T; k++)
            ;
        if (k == r->nprofile)
            r->profile[r->nprofile++] = *q;
        else if (q->L < r->profile[k].L)
            r->profile[k] = *q;
    }
    J->n = r->nprofile - J->first;
    for (i = J->first + 1; i < r->nprofile; i++) /* ascending T: insertion sort */
        for (k = i; k > J->first && r->profile[k].T < r->profile[k - 1].T; k--) {
            cs_analyze_point t = r->profile[k];
            r->profile[k] = r->profile[k - 1];
            r->profile[k - 1] = t;
        }
}

static int joint_one(cs_analyze_result *r, size_t first, size_t last, double *buf)
{
    size_t m = last - first, i, n;
    double *N = buf, *T = buf + m, *L = buf + 2 * m, *sg = buf + 3 * m;
    cs_analyze_joint *J = &r->joints[r->njoints];
    uint64_t stream = (uint64_t)1 << 32;
    int st;

    memset(J, 0, sizeof *J);
    J->budget = r->points[first].budget;
    build_profile(r, first, last, J);
    for (i = 0; i < J->n; i++) {
        T[i] = r->profile[J->first + i].T;
        L[i] = r->profile[J->first + i].L;
        sg[i] = r->profile[J->first + i].sigma;
    }
    st = cs_ucurve_optimum(T, L, sg, J->n, &r->params.ucurve, stream + 2 * J->budget, &J->profile);
    n = joint_points(r, first, last, N, T, L, sg);
    if (st == CS_OK)
        st = cs_ucurve_joint_optimum(N, T, L, sg, n, &r->params.ucurve, stream + 2 * J->budget + 1,
                                     &J->opt);
    r->njoints++;
    return st;
}

static int build_joints(cs_analyze_result *r)
{
    size_t i, j;
    double *buf = malloc((4 * r->npoints + 1) * sizeof *buf);
    int st = CS_OK;

    r->joints = calloc(r->nbudgets + 1, sizeof *r->joints);
    r->profile = malloc((r->npoints + 1) * sizeof *r->profile);
    if (!buf || !r->joints || !r->profile) {
        free(buf);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    for (i = 0; i < r->npoints && st == CS_OK; i = j) {
        for (j = i; j < r->npoints && r->points[j].budget == r->points[i].budget; j++)
            ;
        st = joint_one(r, i, j, buf);
    }
    free(buf);
    return st;
}

/* Ranks the points [first, last) with a known average loss, of one model or (model SIZE_MAX)
 * all; writes their ranks into the points when all. */
static int rank_group(cs_analyze_result *r, size_t first, size_t last, size_t model, double *buf,
                      size_t *idx)
{
    size_t i, n = 0, m = last - first;
    double *A = buf, *L = buf + m, *ra = buf + 2 * m, *rb = buf + 3 * m;
    cs_analyze_rank *R = &r->ranks[r->nranks];
    int st;

    for (i = first; i < last; i++) {
        const cs_analyze_point *q = &r->points[i];
        if (isnan(q->A) || (model != SIZE_MAX && q->model != model))
            continue;
        A[n] = q->A;
        L[n] = q->L;
        idx[n++] = i;
    }
    if (n == 0)
        return CS_OK;
    if ((st = cs_ucurve_rank_runs(A, L, n, ra, rb, &R->r)))
        return st;
    R->budget = r->points[first].budget;
    R->model = model;
    R->r.best_avg = idx[R->r.best_avg];
    R->r.best_best = idx[R->r.best_best];
    for (i = 0; i < n && model == SIZE_MAX; i++) {
        r->points[idx[i]].rank_avg = ra[i];
        r->points[idx[i]].rank_best = rb[i];
    }
    r->nranks++;
    return CS_OK;
}

static int build_ranks(cs_analyze_result *r)
{
    size_t i, j, m;
    double *buf = malloc((4 * r->npoints + 1) * sizeof *buf);
    size_t *idx = malloc((r->npoints + 1) * sizeof *idx);
    int st = CS_OK;

    r->ranks = calloc(r->nbudgets * (r->nmodels + 1) + 1, sizeof *r->ranks);
    if (!buf || !idx || !r->ranks)
        st = cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < r->npoints && st == CS_OK; i = j) {
        for (j = i; j < r->npoints && r->points[j].budget == r->points[i].budget; j++)
            ;
        st = rank_group(r, i, j, SIZE_MAX, buf, idx);
        for (m = 0; m < r->nmodels && st == CS_OK; m++)
            st = rank_group(r, i, j, m, buf, idx);
    }
    free(buf);
    free(idx);
    return st;
}

// ---- the whole -----------------------------------------------------------------------------

static int no_usable_error(const cs_points *pts)
{
    char what[1024];

    cs_points_missing_text(pts->runs[0].missing & CS_POINTS_EXCLUDE, pts->source, what,
                           sizeof what);
    return cs_fail(CS_EINPUT, "%s: none of the %zu run logs can be analysed; e.g. %s lacks %s",
                   pts->dir, pts->nruns, pts->runs[0].path, what);
}

static int run_steps(cs_analyze_result *r, const cs_analyze_params *p)
{
    int st;

    if ((st = build_models(r)) || (st = sort_models(r)) || (st = build_budgets(r, p)) ||
        (st = build_slices(r, p)) || (st = build_points(r, p)) ||
        (!r->noise_given && (st = fill_noise(r))) || (st = build_curves(r)) ||
        (st = build_joints(r)) || (st = build_ranks(r)))
        return st;
    return p->law ? cs_analyze_law_solve(r) : CS_OK;
}

int cs_analyze_run(const char *dir, const cs_analyze_params *p, cs_analyze_result **out)
{
    cs_analyze_params dp = cs_analyze_default_params();
    cs_analyze_result *r;
    int st;

    p = p ? p : &dp;
    *out = NULL;
    if ((st = check_params(p)))
        return st;
    if (!(r = calloc(1, sizeof *r)))
        return cs_fail(CS_ENOMEM, "out of memory");
    r->params = *p;
    r->params.budgets = NULL;
    r->noise_given = !isnan(p->noise);
    r->noise_fill = NAN;
    if ((st = cs_points_read(dir, &p->points, &r->pts)))
        goto out_fail;
    if (r->pts->nused == 0) {
        st = no_usable_error(r->pts);
        goto out_fail;
    }
    if ((st = run_steps(r, p)))
        goto out_fail;
    *out = r;
    return CS_OK;
out_fail:
    cs_analyze_result_free(r);
    return st;
}
