/* fit/optimal.c: compute-optimal N, D, T, V for a budget — closed form for chinchilla under 6ND,
 * multi-start Nelder-Mead on the log variables otherwise, intervals from bootstrap samples
 * (fit/optimal.h). Test: tests/unit/test_optimal.c. */
#include "fit/optimal.h"

#include "core/error.h"
#include "core/flops.h"
#include "core/parse.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Value returned for points where the law cannot be evaluated: large, finite (the simplex
 * compares values and must not see inf - inf). */
#define PENALTY 1e300

/* Simplex iterations (per free coordinate) without a decrease beyond rounding after which a
 * run counts as converged. */
#define STALL_ITER 30

/* Most law variables a problem can have: one per role. */
#define MAX_VARS 8

static const char *const flops_names[] = {"6nd", "kaplan", "tao"};

const char *cs_optimal_flops_name(int flops)
{
    if (flops < 0 || flops > CS_OPTIMAL_FLOPS_TAO)
        return NULL;
    return flops_names[flops];
}

int cs_optimal_flops_parse(const char *name, int *out)
{
    int i;

    for (i = 0; i <= CS_OPTIMAL_FLOPS_TAO; i++)
        if (name && strcasecmp(name, flops_names[i]) == 0) {
            *out = i;
            return CS_OK;
        }
    return cs_fail(CS_EINPUT, "--flops: expected one of 6nd, kaplan, tao, got \"%s\"",
                   name ? name : "");
}

cs_optimal_params cs_optimal_default_params(void)
{
    cs_optimal_params p;

    memset(&p, 0, sizeof p);
    p.flops = CS_OPTIMAL_FLOPS_6ND;
    p.aspect = 64.0;
    p.N_lo = 1e3;
    p.N_hi = 1e15;
    p.T_lo = 64.0;
    p.T_hi = 65536.0;
    p.V_lo = 1024.0;
    p.V_hi = 524288.0;
    p.grid = 0;
    p.nstarts = 3;
    p.tol = 1e-9;
    p.max_iter = 5000;
    p.numeric = false;
    p.level = 0.95;
    return p;
}

void cs_optimal_shape(double N, double aspect, double *n_layer, double *d_model)
{
    /* N(L) = 12 a^2 L^3 + 13 a L^2 + 2 a L is increasing and convex for L > 0, so Newton from
     * the leading-order root, which lies above the true one, descends monotonically onto it. */
    double a = aspect;
    double L = cbrt(N / (12.0 * a * a));
    int it;

    for (it = 0; it < 100; it++) {
        double f = ((12.0 * a * a * L + 13.0 * a) * L + 2.0 * a) * L - N;
        double df = (36.0 * a * a * L + 26.0 * a) * L + 2.0 * a;
        double step = f / df;
        L -= step;
        if (fabs(step) <= 1e-15 * L)
            break;
    }
    *n_layer = L;
    *d_model = a * L;
}

// ---- the problem: law variables by role ----------------------------------------------------

enum role { ROLE_N, ROLE_NV, ROLE_D, ROLE_H, ROLE_T, ROLE_V, NROLES };

static const char *const role_names[NROLES][2] = {
    {"N", "Nnv"}, {"Nv", NULL}, {"D", NULL}, {"H", NULL}, {"T", NULL}, {"V", NULL},
};

typedef struct problem {
    const cs_law *law;
    const double *params;
    const cs_optimal_params *p;
    double C;
    int role_of[MAX_VARS]; /* role of law variable j */
    size_t nvars;
    bool has[NROLES]; /* the law uses the role */
    bool T_free, V_free;
    bool uses_T, uses_V; /* the law or the FLOPs model depends on T / V */
    size_t nfree;        /* 1..3: ln N, then ln T if free, then ln V if free */
    int which[3];        /* ROLE_N, ROLE_T or ROLE_V of free coordinate k */
    double lo[3], hi[3]; /* log range of free coordinate k */
} problem;

static int check_params(const cs_optimal_params *p)
{
    if (!cs_optimal_flops_name(p->flops))
        return cs_fail(CS_EINVAL, "unknown FLOPs model %d", p->flops);
    if (!(p->aspect > 0.0) || !isfinite(p->aspect))
        return cs_fail(CS_EINVAL, "aspect %g: expected a positive number", p->aspect);
    if (!(p->N_lo > 0.0 && p->N_lo < p->N_hi && isfinite(p->N_hi)))
        return cs_fail(CS_EINVAL, "N range %g:%g: expected 0 < lo < hi", p->N_lo, p->N_hi);
    if (!(p->T_lo >= 1.0 && p->T_lo <= p->T_hi && isfinite(p->T_hi)))
        return cs_fail(CS_EINVAL, "T range %g:%g: expected 1 <= lo <= hi", p->T_lo, p->T_hi);
    if (!(p->V_lo >= 1.0 && p->V_lo <= p->V_hi && isfinite(p->V_hi)))
        return cs_fail(CS_EINVAL, "V range %g:%g: expected 1 <= lo <= hi", p->V_lo, p->V_hi);
    if (!(p->level > 0.0 && p->level < 1.0))
        return cs_fail(CS_EINVAL, "level %g: expected a number in (0, 1)", p->level);
    if (p->grid == 1 || p->grid == 2 || p->nstarts == 0 || !(p->tol > 0.0) || p->max_iter == 0)
        return cs_fail(CS_EINVAL, "grid >= 3 (or 0), nstarts >= 1, tol > 0 and "
                                  "max_iter >= 1 expected");
    return CS_OK;
}

/* Finds the role of every law variable. */
static int map_roles(problem *pr)
{
    size_t j;
    int r;

    pr->nvars = cs_law_nvars(pr->law);
    if (pr->nvars > MAX_VARS)
        return cs_fail(CS_EINPUT,
                       "the law has %zu variables; at most %d (N, Nnv, Nv, "
                       "D, H, T, V) are understood",
                       pr->nvars, MAX_VARS);
    for (j = 0; j < pr->nvars; j++) {
        const char *name = cs_law_var_name(pr->law, j);
        for (r = 0; r < NROLES; r++)
            if (strcmp(name, role_names[r][0]) == 0 ||
                (role_names[r][1] && strcmp(name, role_names[r][1]) == 0))
                break;
        if (r == NROLES)
            return cs_fail(CS_EINPUT,
                           "law variable \"%s\" is not one of N, Nnv, Nv, "
                           "D, H, T, V",
                           name);
        if (pr->has[r])
            return cs_fail(CS_EINPUT, "the law uses both N and Nnv; they are the same "
                                      "quantity");
        pr->has[r] = true;
        pr->role_of[j] = r;
    }
    if (!pr->has[ROLE_N])
        return cs_fail(CS_EINPUT, "the law has no parameter count (a variable N or "
                                  "Nnv) to allocate");
    if (!pr->has[ROLE_D] && !pr->has[ROLE_H])
        return cs_fail(CS_EINPUT, "the law has no data variable (D tokens or H "
                                  "characters) to allocate");
    return CS_OK;
}

/* Sets up a problem for `law` under `p` (C and params are set by the caller). */
static int problem_init(problem *pr, const cs_law *law, const cs_optimal_params *p)
{
    int st;

    memset(pr, 0, sizeof *pr);
    pr->law = law;
    pr->p = p;
    if ((st = check_params(p)) || (st = map_roles(pr)))
        return st;
    pr->uses_T = pr->has[ROLE_T] || p->flops == CS_OPTIMAL_FLOPS_KAPLAN;
    pr->uses_V =
        pr->has[ROLE_V] || pr->has[ROLE_NV] || pr->has[ROLE_H] || p->flops == CS_OPTIMAL_FLOPS_TAO;
    pr->T_free = pr->has[ROLE_T] && p->T_hi > p->T_lo;
    pr->V_free = (pr->has[ROLE_V] || pr->has[ROLE_NV] || pr->has[ROLE_H]) && p->V_hi > p->V_lo;
    pr->which[0] = ROLE_N;
    pr->lo[0] = log(p->N_lo);
    pr->hi[0] = log(p->N_hi);
    pr->nfree = 1;
    if (pr->T_free) {
        pr->which[pr->nfree] = ROLE_T;
        pr->lo[pr->nfree] = log(p->T_lo);
        pr->hi[pr->nfree++] = log(p->T_hi);
    }
    if (pr->V_free) {
        pr->which[pr->nfree] = ROLE_V;
        pr->lo[pr->nfree] = log(p->V_lo);
        pr->hi[pr->nfree++] = log(p->V_hi);
    }
    return CS_OK;
}

int cs_optimal_check(const cs_law *law, const cs_optimal_params *p, bool *T_free, bool *V_free)
{
    problem pr;
    int st;

    if (!law || !p)
        return cs_fail(CS_EINVAL, "NULL law or params");
    if ((st = problem_init(&pr, law, p)))
        return st;
    *T_free = pr.T_free;
    *V_free = pr.V_free;
    return CS_OK;
}

/* Evaluates the allocation with N, T, V (natural values) at budget pr->C into *pt; returns the
 * predicted loss, or NAN when the law or the constraint gives no finite value. */
static double evaluate(const problem *pr, double N, double T, double V, cs_optimal_point *pt)
{
    double vars[MAX_VARS];
    double cost, f_tpc = 1.0, loss;
    size_t j;

    memset(pt, 0, sizeof *pt);
    cs_optimal_shape(N, pr->p->aspect, &pt->n_layer, &pt->d_model);
    cost = 6.0 * N;
    if (pr->p->flops == CS_OPTIMAL_FLOPS_KAPLAN)
        cost += 6.0 * pt->n_layer * T * pt->d_model;
    else if (pr->p->flops == CS_OPTIMAL_FLOPS_TAO)
        cost += 6.0 * V * pt->d_model;
    if (pr->has[ROLE_H])
        f_tpc = cs_flops_tao_tokens_per_char(V);
    pt->C = pr->C;
    pt->N = N;
    pt->D = pr->C / cost;
    pt->T = pr->uses_T ? T : NAN;
    pt->V = pr->uses_V ? V : NAN;
    pt->cost = cost;
    for (j = 0; j < pr->nvars; j++) {
        switch (pr->role_of[j]) {
        case ROLE_N: vars[j] = N; break;
        case ROLE_NV: vars[j] = V * pt->d_model; break;
        case ROLE_D: vars[j] = pt->D; break;
        case ROLE_H: vars[j] = pt->D / f_tpc; break;
        case ROLE_T: vars[j] = T; break;
        default: vars[j] = V; break;
        }
    }
    if (!isfinite(pt->D) || !(pt->D > 0.0) || cs_law_eval(pr->law, pr->params, vars, &loss))
        return NAN;
    pt->loss = loss;
    return loss;
}

// ---- numeric solution ----------------------------------------------------------------------

/* N, T, V from the free log coordinates x (nfree). */
static void point_from_x(const problem *pr, const double *x, double *N, double *T, double *V)
{
    size_t k;

    *N = exp(x[0]);
    *T = pr->p->T_lo;
    *V = pr->p->V_lo;
    for (k = 1; k < pr->nfree; k++) {
        if (pr->which[k] == ROLE_T)
            *T = exp(x[k]);
        else
            *V = exp(x[k]);
    }
}

static double loss_at_x(const problem *pr, const double *x, cs_optimal_point *pt)
{
    double N, T, V;

    point_from_x(pr, x, &N, &T, &V);
    return evaluate(pr, N, T, V, pt);
}

/* The bounded change of variables x = lo + (hi - lo) (1 + sin u) / 2 and its inverse. */
static void x_from_u(const problem *pr, const gsl_vector *u, double *x)
{
    size_t k;

    for (k = 0; k < pr->nfree; k++)
        x[k] = pr->lo[k] + (pr->hi[k] - pr->lo[k]) * 0.5 * (1.0 + sin(gsl_vector_get(u, k)));
}

static double u_from_x(const problem *pr, size_t k, double x)
{
    double t = 2.0 * (x - pr->lo[k]) / (pr->hi[k] - pr->lo[k]) - 1.0;

    return asin(fmax(-1.0, fmin(1.0, t)));
}

static double objective(const gsl_vector *u, void *arg)
{
    const problem *pr = arg;
    cs_optimal_point pt;
    double x[3];
    double v;

    x_from_u(pr, u, x);
    v = loss_at_x(pr, x, &pt);
    return isnan(v) ? PENALTY : v;
}

/* One Nelder-Mead run from x (nfree, updated to the minimum found) with initial step `step` in
 * u. *fval receives the minimum; *converged whether the simplex shrank below tol. */
static int simplex_run(const problem *pr, double *x, double step, double *fval, bool *converged)
{
    gsl_multimin_function fn = {objective, pr->nfree, (void *)pr};
    gsl_multimin_fminimizer *m =
        gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, pr->nfree);
    gsl_vector *u = gsl_vector_alloc(pr->nfree), *ss = gsl_vector_alloc(pr->nfree);
    size_t k, it, it_last = 0;
    int gst = GSL_CONTINUE, st = CS_OK;
    double f_last = INFINITY;

    if (!m || !u || !ss) {
        st = cs_fail(CS_ENOMEM, "out of memory for the simplex");
        goto out_free;
    }
    for (k = 0; k < pr->nfree; k++)
        gsl_vector_set(u, k, u_from_x(pr, k, x[k]));
    gsl_vector_set_all(ss, step);
    if ((gst = gsl_multimin_fminimizer_set(m, &fn, u, ss))) {
        st = cs_fail(CS_EGSL, "simplex: %s", gsl_strerror(gst));
        goto out_free;
    }
    for (it = 0, gst = GSL_CONTINUE; it < pr->p->max_iter && gst == GSL_CONTINUE; it++) {
        int ist = gsl_multimin_fminimizer_iterate(m);
        double f = gsl_multimin_fminimizer_minimum(m);
        if (ist == GSL_ENOPROG)
            gst = GSL_SUCCESS; /* cannot shrink further: as small as it gets */
        else if (ist)
            gst = ist;
        else
            gst = gsl_multimin_test_size(gsl_multimin_fminimizer_size(m), pr->p->tol);
        /* Near the minimum the values differ only by rounding and the simplex can cycle
         * without shrinking: no progress for STALL_ITER iterations counts as converged. */
        if (f < f_last - 4.0 * DBL_EPSILON * fabs(f_last)) {
            f_last = f;
            it_last = it;
        } else if (gst == GSL_CONTINUE && it - it_last >= STALL_ITER * pr->nfree) {
            gst = GSL_SUCCESS;
        }
    }
    if (gst != GSL_SUCCESS && gst != GSL_CONTINUE) {
        st = cs_fail(CS_EGSL, "simplex: %s", gsl_strerror(gst));
        goto out_free;
    }
    *converged = gst == GSL_SUCCESS;
    *fval = gsl_multimin_fminimizer_minimum(m);
    x_from_u(pr, gsl_multimin_fminimizer_x(m), x);
out_free:
    gsl_vector_free(ss);
    gsl_vector_free(u);
    gsl_multimin_fminimizer_free(m);
    return st;
}

/* A simplex run, then restarts from its minimum with a smaller simplex until the value stops
 * improving (Nelder-Mead can stall on a false minimum; a restart rebuilds the simplex). */
static int polished_run(const problem *pr, double *x, double *fval, bool *converged)
{
    double f_prev;
    int st, restart;

    if ((st = simplex_run(pr, x, 0.25, fval, converged)))
        return st;
    for (restart = 0; restart < 10 && *converged; restart++) {
        f_prev = *fval;
        if ((st = simplex_run(pr, x, 0.01, fval, converged)))
            return st;
        if (!(*fval < f_prev - 1e-15 * fabs(f_prev)))
            break;
    }
    return CS_OK;
}

/* Keeps the indices of the k smallest values seen so far in best[0..k) (ascending). */
static void keep_best(size_t *best, double *bestv, size_t k, size_t *nbest, size_t g, double v)
{
    size_t i;

    if (*nbest == k && !(v < bestv[k - 1]))
        return;
    i = *nbest < k ? (*nbest)++ : k - 1;
    for (; i > 0 && v < bestv[i - 1]; i--) {
        best[i] = best[i - 1];
        bestv[i] = bestv[i - 1];
    }
    best[i] = g;
    bestv[i] = v;
}

/* Coordinates of scan point g of a grid of `n` points per free coordinate. */
static void scan_point(const problem *pr, size_t g, size_t n, double *x)
{
    size_t k;

    for (k = 0; k < pr->nfree; k++, g /= n)
        x[k] = pr->lo[k] + (pr->hi[k] - pr->lo[k]) * (double)(g % n) / (double)(n - 1);
}

static int solve_numeric(const problem *pr, cs_optimal_point *out)
{
    static const size_t default_grid[4] = {0, 25, 15, 9};
    size_t n = pr->p->grid ? pr->p->grid : default_grid[pr->nfree];
    size_t total = n, k, s, nbest = 0, best[16];
    double bestv[16], x[3], xbest[3], fbest = INFINITY;
    size_t nstarts = pr->p->nstarts < 16 ? pr->p->nstarts : 16;
    bool any_conv = false;
    int st;

    for (k = 1; k < pr->nfree; k++)
        total *= n;
    for (s = 0; s < total; s++) {
        cs_optimal_point pt;
        scan_point(pr, s, n, x);
        double v = loss_at_x(pr, x, &pt);
        if (!isnan(v))
            keep_best(best, bestv, nstarts, &nbest, s, v);
    }
    if (nbest == 0)
        return cs_fail(CS_EINPUT,
                       "the law is not finite at any of the %zu scanned "
                       "allocations of C = %g (check the law's parameters and the ranges)",
                       total, pr->C);
    for (s = 0; s < nbest; s++) {
        double f;
        bool conv;
        scan_point(pr, best[s], n, x);
        if ((st = polished_run(pr, x, &f, &conv)))
            return st;
        any_conv = any_conv || conv;
        if (conv && f < fbest) {
            fbest = f;
            memcpy(xbest, x, sizeof x);
        }
    }
    if (!any_conv)
        return cs_fail(CS_ENOCONV,
                       "C = %g: no simplex run converged in %zu "
                       "iterations",
                       pr->C, pr->p->max_iter);
    loss_at_x(pr, xbest, out);
    for (k = 0; k < pr->nfree; k++) {
        double t = (xbest[k] - pr->lo[k]) / (pr->hi[k] - pr->lo[k]);
        unsigned flag = pr->which[k] == ROLE_N   ? CS_OPTIMAL_AT_N
                        : pr->which[k] == ROLE_T ? CS_OPTIMAL_AT_T
                                                 : CS_OPTIMAL_AT_V;
        if (t < 1e-7 || t > 1.0 - 1e-7)
            out->at_bound |= flag;
    }
    return CS_OK;
}

// ---- closed form and the public entry points -----------------------------------------------

/* Chinchilla under 6ND: N_opt = G (C/6)^(beta/(alpha+beta)). Returns false (and the caller
 * solves numerically) when the law is not the built-in chinchilla, the exponents are not
 * positive, or the optimum falls outside the N range. */
static bool closed_form(const problem *pr, cs_optimal_point *out)
{
    const cs_law_info *info = cs_law_builtin_info(pr->law);
    double alpha, beta, A, B, G, N;

    if (pr->p->numeric || pr->p->flops != CS_OPTIMAL_FLOPS_6ND || !info ||
        strcmp(info->name, "chinchilla") != 0)
        return false;
    alpha = pr->params[cs_law_param_index(pr->law, "alpha")];
    beta = pr->params[cs_law_param_index(pr->law, "beta")];
    A = exp(pr->params[cs_law_param_index(pr->law, "a")]);
    B = exp(pr->params[cs_law_param_index(pr->law, "b")]);
    if (!(alpha > 0.0 && beta > 0.0))
        return false;
    G = pow(alpha * A / (beta * B), 1.0 / (alpha + beta));
    N = G * pow(pr->C / 6.0, beta / (alpha + beta));
    if (!(N >= pr->p->N_lo && N <= pr->p->N_hi))
        return false;
    if (isnan(evaluate(pr, N, pr->p->T_lo, pr->p->V_lo, out)))
        return false;
    out->closed_form = true;
    return true;
}

int cs_optimal_solve(const cs_law *law, const double *params, double C, const cs_optimal_params *p,
                     cs_optimal_point *out)
{
    problem pr;
    int st;

    if (!law || !params || !p || !out)
        return cs_fail(CS_EINVAL, "NULL argument");
    if ((st = problem_init(&pr, law, p)))
        return st;
    if (!(C > 0.0) || !isfinite(C))
        return cs_fail(CS_EINPUT, "budget %g: expected a positive number of FLOPs", C);
    pr.params = params;
    pr.C = C;
    if (closed_form(&pr, out))
        return CS_OK;
    return solve_numeric(&pr, out);
}

void cs_optimal_result_free(cs_optimal_result *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r);
}

/* Percentile interval of v (n values, sorted in place); NaN, NaN when n == 0. */
static cs_optimal_ci interval(double *v, size_t n, double level)
{
    cs_optimal_ci ci = {NAN, NAN};

    if (n == 0)
        return ci;
    gsl_sort(v, 1, n);
    ci.lo = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5 * (1.0 - level));
    ci.hi = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5 * (1.0 + level));
    return ci;
}

/* Whether v[0..n) are all finite (a failed bootstrap refit is a row of NaN). */
static bool all_finite(const double *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

/* Re-solves budget `row` for every sample and fills its intervals. buf holds 6 nsamples. */
static void sample_intervals(const cs_law *law, const double *samples, size_t nsamples,
                             const cs_optimal_params *p, cs_optimal_row *row, double *buf)
{
    size_t np = cs_law_nparams(law), s, m = 0;
    double *vN = buf, *vD = buf + nsamples, *vT = buf + 2 * nsamples;
    double *vV = buf + 3 * nsamples, *vL = buf + 4 * nsamples, *vR = buf + 5 * nsamples;

    for (s = 0; s < nsamples; s++) {
        cs_optimal_point pt;
        if (!all_finite(samples + s * np, np) ||
            cs_optimal_solve(law, samples + s * np, row->est.C, p, &pt) != CS_OK)
            continue;
        vN[m] = pt.N;
        vD[m] = pt.D;
        vT[m] = pt.T;
        vV[m] = pt.V;
        vL[m] = pt.loss;
        vR[m] = pt.D / pt.N;
        m++;
        row->nsamples_at_bound += pt.at_bound != 0;
    }
    row->nsamples_ok = m;
    row->ci_N = interval(vN, m, p->level);
    row->ci_D = interval(vD, m, p->level);
    row->ci_T = interval(vT, isnan(row->est.T) ? 0 : m, p->level);
    row->ci_V = interval(vV, isnan(row->est.V) ? 0 : m, p->level);
    row->ci_loss = interval(vL, m, p->level);
    row->ci_tpp = interval(vR, m, p->level);
}

int cs_optimal_run(const cs_law *law, const double *params, const double *samples, size_t nsamples,
                   const double *budgets, size_t nbudgets, const cs_optimal_params *p,
                   cs_optimal_result **out)
{
    cs_optimal_result *r = NULL;
    double *buf = NULL;
    size_t b;
    int st;

    *out = NULL;
    if (!law || !params || !budgets || nbudgets == 0 || !p || (nsamples > 0 && !samples))
        return cs_fail(CS_EINVAL, "NULL argument or no budgets");
    r = calloc(1, sizeof *r);
    if (r)
        r->rows = calloc(nbudgets, sizeof *r->rows);
    buf = malloc((6 * nsamples + 1) * sizeof *buf);
    if (!r || !r->rows || !buf) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        goto out_free;
    }
    if ((st = cs_optimal_check(law, p, &r->T_free, &r->V_free)))
        goto out_free;
    r->nbudgets = nbudgets;
    r->nsamples = nsamples;
    r->level = p->level;
    for (b = 0; b < nbudgets; b++) {
        cs_optimal_row *row = &r->rows[b];
        if ((st = cs_optimal_solve(law, params, budgets[b], p, &row->est)))
            goto out_free;
        row->tpp = row->est.D / row->est.N;
        sample_intervals(law, samples, nsamples, p, row, buf);
    }
    *out = r;
    r = NULL;
out_free:
    free(buf);
    cs_optimal_result_free(r);
    return st;
}

// ---- budgets from user text ----------------------------------------------------------------

/* "LO:HI:K" into *out. */
static int parse_range(const char *spec, const char *what, double **out, size_t *n)
{
    char lo_s[64], hi_s[64], k_s[64];
    double lo, hi;
    long k;
    int st;
    size_t i;

    if (sscanf(spec, "%63[^:]:%63[^:]:%63s", lo_s, hi_s, k_s) != 3)
        return cs_fail(CS_EINPUT, "%s: expected LO:HI:K or a comma-separated list, got \"%s\"",
                       what, spec);
    if ((st = cs_parse_double_ex(lo_s, &lo, CS_PARSE_POSITIVE, what)) ||
        (st = cs_parse_double_ex(hi_s, &hi, CS_PARSE_POSITIVE, what)) ||
        (st = cs_parse_long(k_s, &k, what)))
        return st;
    if (k < 1 || k > 100000 || hi < lo || (k == 1 && hi != lo))
        return cs_fail(CS_EINPUT,
                       "%s: \"%s\": expected LO <= HI and 1 <= K <= 100000 (K = 1 "
                       "only with LO = HI)",
                       what, spec);
    if (!(*out = malloc((size_t)k * sizeof **out)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < (size_t)k; i++)
        (*out)[i] = k == 1 ? lo : exp(log(lo) + (log(hi) - log(lo)) * (double)i / (double)(k - 1));
    (*out)[0] = lo;
    (*out)[k - 1] = hi;
    *n = (size_t)k;
    return CS_OK;
}

int cs_optimal_parse_budgets(const char *spec, const char *what, double **out, size_t *n)
{
    size_t cap = 1, i = 0;
    const char *s;
    char item[128];
    int st;

    *out = NULL;
    *n = 0;
    if (strchr(spec, ':'))
        return parse_range(spec, what, out, n);
    for (s = spec; *s; s++)
        cap += *s == ',';
    if (!(*out = malloc(cap * sizeof **out)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (s = spec; i < cap; i++) {
        size_t len = strcspn(s, ",");
        snprintf(item, sizeof item, "%.*s", (int)(len < 127 ? len : 127), s);
        if ((st = cs_parse_double_ex(item, &(*out)[i], CS_PARSE_POSITIVE, what))) {
            free(*out);
            *out = NULL;
            return st;
        }
        s += len + (s[len] == ',');
    }
    *n = cap;
    return CS_OK;
}
