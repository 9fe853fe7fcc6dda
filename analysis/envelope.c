/* analysis/envelope.c: Chinchilla's Approach 1 — trajectories interpolated on a log-spaced FLOPs
 * grid, the lowest loss per grid value, power laws over it, bootstrap over runs
 * (analysis/envelope.h). Test: tests/unit/test_envelope.c. */
#include "analysis/envelope.h"

#include "core/error.h"
#include "core/rng.h"
#include "core/runlog_read.h"

#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

cs_envelope_params cs_envelope_default_params(void)
{
    cs_envelope_params p;

    memset(&p, 0, sizeof p);
    p.ngrid = 200;
    p.C_lo = 0.0;
    p.C_hi = 0.0;
    p.min_cover = 2;
    p.flops_per_nd = 6.0;
    p.nboot = 1000;
    p.seed = 1;
    p.level = 0.95;
    return p;
}

void cs_envelope_result_free(cs_envelope_result *r)
{
    if (!r)
        return;
    free(r->C);
    free(r->L);
    free(r->run);
    free(r->N);
    free(r->D);
    free(r->segments);
    free(r);
}

/* Shared state of one run of the method. */
typedef struct env_ctx {
    const size_t *run;
    size_t nruns;
    const double *C, *N, *D, *L;
    size_t n;
    const cs_envelope_params *p;
    size_t *order;   /* (n) point indices grouped by run, ascending C within a run */
    size_t *start;   /* (nruns + 1) offsets into order */
    double *lnC;     /* (ngrid) ln of the grid */
    double *Lg;      /* (nruns, ngrid) each run's loss on the grid, NaN outside its range */
    double *lnDg;    /* (nruns, ngrid) each run's ln D on the grid */
    double *fit_buf; /* (3 ngrid) for fit_powers */
} env_ctx;

// ---- checks and grouping -------------------------------------------------------------------

/* CS_EINPUT naming point i and the first of C, N, D (D may be NULL) that is not a positive
 * finite number (they go through logarithms). */
static int check_positive(const double *C, const double *N, const double *D, size_t i)
{
    const double *cols[3] = {C, N, D};
    static const char *const names[3] = {"C", "N", "D"};
    size_t j;

    for (j = 0; j < 3; j++)
        if (cols[j] && !(cols[j][i] > 0.0 && isfinite(cols[j][i])))
            return cs_fail(CS_EINPUT, "point %zu: %s = %g: expected a positive number", i + 1,
                           names[j], cols[j][i]);
    return CS_OK;
}

static int check_points(const env_ctx *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        int st;
        if (c->run[i] >= c->nruns)
            return cs_fail(CS_EINVAL, "envelope: point %zu: run index %zu >= %zu runs", i + 1,
                           c->run[i], c->nruns);
        if ((st = check_positive(c->C, c->N, c->D, i)))
            return st;
        if (!isfinite(c->L[i]))
            return cs_fail(CS_EINPUT, "point %zu: loss = %g: expected a finite number", i + 1,
                           c->L[i]);
    }
    return CS_OK;
}

/* Sorts the points of run k (order[start[k]..start[k+1])) by C and checks that N is constant
 * and no C repeats. tmp and perm hold the run's points. */
static int sort_run(env_ctx *c, size_t k, double *tmp, size_t *perm, size_t *idx)
{
    size_t *o = c->order + c->start[k];
    size_t m = c->start[k + 1] - c->start[k];
    size_t j;

    for (j = 0; j < m; j++)
        tmp[j] = c->C[o[j]];
    gsl_sort_index(perm, tmp, 1, m);
    for (j = 0; j < m; j++)
        idx[j] = o[perm[j]];
    memcpy(o, idx, m * sizeof *o);
    for (j = 1; j < m; j++) {
        if (c->N[o[j]] != c->N[o[0]])
            return cs_fail(CS_EINPUT,
                           "run %zu: N changes along the run (%g at point %zu, %g at "
                           "point %zu)",
                           k + 1, c->N[o[0]], o[0] + 1, c->N[o[j]], o[j] + 1);
        if (c->C[o[j]] == c->C[o[j - 1]])
            return cs_fail(CS_EINPUT, "run %zu: points %zu and %zu are both at C = %g", k + 1,
                           o[j - 1] + 1, o[j] + 1, c->C[o[j]]);
    }
    return CS_OK;
}

static int group_runs(env_ctx *c)
{
    size_t *fill = calloc(c->nruns + 1, sizeof *fill);
    size_t *perm = malloc(c->n * sizeof *perm);
    size_t *idx = malloc(c->n * sizeof *idx);
    double *tmp = malloc(c->n * sizeof *tmp);
    size_t i, k;
    int st = CS_OK;

    if (!fill || !perm || !idx || !tmp) {
        st = cs_fail(CS_ENOMEM, "envelope: out of memory");
        goto out_free;
    }
    for (i = 0; i < c->n; i++)
        c->start[c->run[i] + 1]++;
    for (k = 0; k < c->nruns; k++)
        c->start[k + 1] += c->start[k];
    for (i = 0; i < c->n; i++)
        c->order[c->start[c->run[i]] + fill[c->run[i]]++] = i;
    for (k = 0; k < c->nruns && st == CS_OK; k++)
        st = sort_run(c, k, tmp, perm, idx);
out_free:
    free(tmp);
    free(idx);
    free(perm);
    free(fill);
    return st;
}

// ---- the grid and the interpolated trajectories --------------------------------------------

static int make_grid(env_ctx *c, cs_envelope_result *r)
{
    double lo = c->p->C_lo, hi = c->p->C_hi;
    size_t k, g;

    if (lo == 0.0 && hi == 0.0) {
        lo = INFINITY;
        hi = -INFINITY;
        for (k = 0; k < c->nruns; k++) {
            if (c->start[k + 1] - c->start[k] < 2)
                continue;
            lo = fmin(lo, c->C[c->order[c->start[k]]]);
            hi = fmax(hi, c->C[c->order[c->start[k + 1] - 1]]);
        }
    }
    if (!(hi > lo))
        return cs_fail(CS_EINPUT, "empty FLOPs range [%g, %g] for the grid", lo, hi);
    for (g = 0; g < r->ngrid; g++) {
        double t = (double)g / (double)(r->ngrid - 1);
        c->lnC[g] = g + 1 == r->ngrid ? log(hi) : log(lo) + t * (log(hi) - log(lo));
        r->C[g] = g == 0 ? lo : g + 1 == r->ngrid ? hi : exp(c->lnC[g]);
    }
    return CS_OK;
}

/* Interpolates run k linearly in ln C onto the grid (NaN outside its range). */
static void interpolate_run(env_ctx *c, size_t k, size_t ngrid)
{
    const size_t *o = c->order + c->start[k];
    size_t m = c->start[k + 1] - c->start[k];
    double *Lk = c->Lg + k * ngrid, *Dk = c->lnDg + k * ngrid;
    size_t g, j = 0;

    for (g = 0; g < ngrid; g++) {
        double x = c->lnC[g];
        Lk[g] = Dk[g] = NAN;
        if (m < 2 || x < log(c->C[o[0]]) || x > log(c->C[o[m - 1]]))
            continue;
        while (j + 2 < m && x > log(c->C[o[j + 1]]))
            j++;
        double x0 = log(c->C[o[j]]), x1 = log(c->C[o[j + 1]]);
        double t = (x - x0) / (x1 - x0);
        Lk[g] = c->L[o[j]] + t * (c->L[o[j + 1]] - c->L[o[j]]);
        if (c->D)
            Dk[g] = log(c->D[o[j]]) + t * (log(c->D[o[j + 1]]) - log(c->D[o[j]]));
        else
            Dk[g] = x - log(c->p->flops_per_nd * c->N[o[0]]);
    }
}

// ---- the envelope over a set of runs -------------------------------------------------------

/* Fills L, run (ngrid) with the envelope over the runs with use[k] != 0; a grid value reached
 * by fewer than min_cover of them gets NaN / SIZE_MAX. Returns the number of covered values. */
static size_t envelope(const env_ctx *c, const unsigned *use, size_t ngrid, double *L, size_t *run)
{
    size_t g, k, covered = 0;

    for (g = 0; g < ngrid; g++) {
        size_t cover = 0;
        L[g] = NAN;
        run[g] = SIZE_MAX;
        for (k = 0; k < c->nruns; k++) {
            double v = c->Lg[k * ngrid + g];
            if (!use[k] || isnan(v))
                continue;
            cover++;
            if (run[g] == SIZE_MAX || v < L[g]) {
                L[g] = v;
                run[g] = k;
            }
        }
        if (cover < c->p->min_cover) {
            L[g] = NAN;
            run[g] = SIZE_MAX;
        } else {
            covered++;
        }
    }
    return covered;
}

/* Power laws N(C), D(C) over the covered grid values of an envelope. CS_EINPUT when fewer than
 * 2 distinct runs are on it. */
static int fit_powers(const env_ctx *c, const double *C, const size_t *run, size_t ngrid,
                      cs_isoflop_power *Nf, cs_isoflop_power *Df)
{
    double *x = c->fit_buf, *yN = x + ngrid, *yD = x + 2 * ngrid;
    size_t g, m = 0, first = SIZE_MAX;
    bool two = false;
    int st;

    for (g = 0; g < ngrid; g++) {
        if (run[g] == SIZE_MAX)
            continue;
        if (first == SIZE_MAX)
            first = run[g];
        two = two || run[g] != first;
        x[m] = C[g];
        yN[m] = c->N[c->order[c->start[run[g]]]];
        yD[m] = exp(c->lnDg[run[g] * ngrid + g]);
        m++;
    }
    if (!two)
        return cs_fail(CS_EINPUT,
                       "%s run is on the envelope; N_opt = k C^a needs at "
                       "least 2",
                       m ? "only one" : "no");
    if ((st = cs_isoflop_fit_power(x, yN, m, Nf)))
        return st;
    return cs_isoflop_fit_power(x, yD, m, Df);
}

// ---- result, segments, bootstrap -----------------------------------------------------------

static int make_segments(const env_ctx *c, cs_envelope_result *r)
{
    size_t g;

    r->segments = malloc(r->ngrid * sizeof *r->segments);
    if (!r->segments)
        return cs_fail(CS_ENOMEM, "envelope: out of memory");
    for (g = 0; g < r->ngrid; g++) {
        cs_envelope_segment *s = &r->segments[r->nsegments - (r->nsegments > 0)];
        r->N[g] = r->D[g] = NAN;
        if (r->run[g] == SIZE_MAX)
            continue;
        r->N[g] = c->N[c->order[c->start[r->run[g]]]];
        r->D[g] = exp(c->lnDg[r->run[g] * r->ngrid + g]);
        if (r->nsegments == 0 || s->run != r->run[g] || r->run[g - 1] == SIZE_MAX) {
            s = &r->segments[r->nsegments++];
            s->run = r->run[g];
            s->N = r->N[g];
            s->C_lo = r->C[g];
            s->L_lo = r->L[g];
        }
        s->C_hi = r->C[g];
        s->L_hi = r->L[g];
    }
    return CS_OK;
}

/* Bootstrap over runs: each replicate draws as many runs as took part, with replacement, and
 * recomputes the envelope and the power laws on the same grid. */
static int bootstrap(const env_ctx *c, cs_envelope_result *r, const unsigned *used)
{
    const cs_envelope_params *p = c->p;
    size_t *pool = malloc(c->nruns * sizeof *pool);
    unsigned *use = malloc(c->nruns * sizeof *use);
    double *aN = malloc(p->nboot * sizeof *aN), *aD = malloc(p->nboot * sizeof *aD);
    double *L = malloc(r->ngrid * sizeof *L);
    size_t *run = malloc(r->ngrid * sizeof *run);
    size_t k, rep, npool = 0, nok = 0;
    int st = CS_OK;

    if (!pool || !use || !aN || !aD || !L || !run) {
        st = cs_fail(CS_ENOMEM, "envelope: out of memory for the bootstrap");
        goto out_free;
    }
    for (k = 0; k < c->nruns; k++)
        if (used[k])
            pool[npool++] = k;
    for (rep = 0; rep < p->nboot; rep++) {
        cs_rng rng;
        cs_isoflop_power Nf, Df;
        cs_rng_seed(&rng, p->seed, rep);
        memset(use, 0, c->nruns * sizeof *use);
        for (k = 0; k < npool; k++)
            use[pool[cs_rng_below(&rng, npool)]] = 1;
        envelope(c, use, r->ngrid, L, run);
        if (fit_powers(c, r->C, run, r->ngrid, &Nf, &Df) == CS_OK) {
            aN[nok] = Nf.a;
            aD[nok] = Df.a;
            nok++;
        }
    }
    r->nboot = p->nboot;
    r->nboot_ok = nok;
    cs_isoflop_percentile(aN, nok, p->level, &r->N_fit.a_lo, &r->N_fit.a_hi);
    cs_isoflop_percentile(aD, nok, p->level, &r->D_fit.a_lo, &r->D_fit.a_hi);
out_free:
    free(run);
    free(L);
    free(aD);
    free(aN);
    free(use);
    free(pool);
    return st;
}

// ---- the whole run -------------------------------------------------------------------------

static int check_params(const cs_envelope_params *p, size_t n, size_t nruns)
{
    if (n == 0 || nruns == 0)
        return cs_fail(CS_EINVAL, "envelope: no points or no runs");
    if (p->ngrid < 2)
        return cs_fail(CS_EINVAL, "envelope: grid of %zu points: expected at least 2", p->ngrid);
    if (p->min_cover < 1)
        return cs_fail(CS_EINVAL, "envelope: min_cover: expected at least 1");
    if (!(p->C_lo >= 0.0 && p->C_hi >= 0.0) || !isfinite(p->C_lo) || !isfinite(p->C_hi) ||
        ((p->C_lo == 0.0) != (p->C_hi == 0.0)))
        return cs_fail(CS_EINVAL,
                       "envelope: grid range [%g, %g]: expected two positive FLOPs "
                       "values or both 0",
                       p->C_lo, p->C_hi);
    if (!(p->level > 0.0 && p->level < 1.0))
        return cs_fail(CS_EINVAL, "envelope: level %g: expected a number in (0, 1)", p->level);
    if (!(p->flops_per_nd > 0.0) || !isfinite(p->flops_per_nd))
        return cs_fail(CS_EINVAL, "envelope: flops_per_nd %g: expected a positive number",
                       p->flops_per_nd);
    return CS_OK;
}

static cs_envelope_result *result_alloc(size_t ngrid, size_t nruns)
{
    cs_envelope_result *r = calloc(1, sizeof *r);

    if (!r)
        return NULL;
    r->ngrid = ngrid;
    r->nruns = nruns;
    r->C = malloc(ngrid * sizeof *r->C);
    r->L = malloc(ngrid * sizeof *r->L);
    r->run = malloc(ngrid * sizeof *r->run);
    r->N = malloc(ngrid * sizeof *r->N);
    r->D = malloc(ngrid * sizeof *r->D);
    if (!r->C || !r->L || !r->run || !r->N || !r->D) {
        cs_envelope_result_free(r);
        return NULL;
    }
    return r;
}

/* Everything after the checks: grouping, grid, interpolation, envelope, fits, bootstrap. */
static int compute(env_ctx *c, cs_envelope_result *r)
{
    unsigned *used = calloc(c->nruns, sizeof *used);
    size_t k;
    int st;

    if (!used)
        return cs_fail(CS_ENOMEM, "envelope: out of memory");
    st = group_runs(c);
    for (k = 0; k < c->nruns && st == CS_OK; k++) {
        used[k] = c->start[k + 1] - c->start[k] >= 2;
        r->nruns_skipped += !used[k];
    }
    if (st == CS_OK && r->nruns_skipped == c->nruns)
        st = cs_fail(CS_EINPUT, "no run has 2 points or more; a trajectory needs at "
                                "least 2 (is the run column right?)");
    if (st == CS_OK)
        st = make_grid(c, r);
    for (k = 0; k < c->nruns && st == CS_OK; k++)
        interpolate_run(c, k, r->ngrid);
    if (st == CS_OK) {
        r->ncovered = envelope(c, used, r->ngrid, r->L, r->run);
        st = fit_powers(c, r->C, r->run, r->ngrid, &r->N_fit, &r->D_fit);
    }
    if (st == CS_OK)
        st = make_segments(c, r);
    if (st == CS_OK && c->p->nboot > 0)
        st = bootstrap(c, r, used);
    free(used);
    return st;
}

int cs_envelope_run(const size_t *run, size_t nruns, const double *C, const double *N,
                    const double *D, const double *L, size_t n, const cs_envelope_params *p,
                    cs_envelope_result **out)
{
    env_ctx c = {run, nruns, C, N, D, L, n, p, NULL, NULL, NULL, NULL, NULL, NULL};
    cs_envelope_result *r = NULL;
    int st;

    *out = NULL;
    if (!run || !C || !N || !L || !p)
        return cs_fail(CS_EINVAL, "envelope: NULL argument");
    if ((st = check_params(p, n, nruns)) || (st = check_points(&c)))
        return st;
    r = result_alloc(p->ngrid, nruns);
    c.order = malloc(n * sizeof *c.order);
    c.start = calloc(nruns + 1, sizeof *c.start);
    c.lnC = malloc(p->ngrid * sizeof *c.lnC);
    c.Lg = malloc(nruns * p->ngrid * sizeof *c.Lg);
    c.lnDg = malloc(nruns * p->ngrid * sizeof *c.lnDg);
    c.fit_buf = malloc(3 * p->ngrid * sizeof *c.fit_buf);
    if (!r || !c.order || !c.start || !c.lnC || !c.Lg || !c.lnDg || !c.fit_buf)
        st = cs_fail(CS_ENOMEM, "envelope: out of memory for %zu runs on %zu grid points", nruns,
                     p->ngrid);
    else
        st = compute(&c, r);
    free(c.fit_buf);
    free(c.lnDg);
    free(c.Lg);
    free(c.lnC);
    free(c.start);
    free(c.order);
    if (st) {
        cs_envelope_result_free(r);
        return st;
    }
    r->level = p->level;
    *out = r;
    return CS_OK;
}

// ---- run logs ------------------------------------------------------------------------------

static const char *const runlog_cols[] = {"N",   "C", "D", "L", "loss_val_best", "loss_val_bpb",
                                          "step"};
#define N_RUNLOG_COLS (sizeof runlog_cols / sizeof runlog_cols[0])

/* Appends the usable eval rows of one log to t (columns: run, then runlog_cols). */
static int append_runlog(cs_table *t, const char *path)
{
    static const char *const src[N_RUNLOG_COLS] = {
        NULL, "flops", "tokens", "loss_val", "loss_val_best", "loss_val_bpb", "step"};
    cs_runlog_reader *rd = NULL;
    cs_table *ev = NULL;
    const cs_runlog_kv *kv;
    long cols[N_RUNLOG_COLS];
    size_t r, j;
    int st;

    if ((st = cs_runlog_read_open(path, &rd)))
        return st;
    kv = cs_runlog_read_config_find(rd, CS_RUNLOG_KEY_N_PARAMS_NONEMBED);
    if (!kv || kv->type == CS_RUNLOG_STR) {
        st = cs_fail(CS_EINPUT, "%s: config %s (N) missing or not a number", path,
                     CS_RUNLOG_KEY_N_PARAMS_NONEMBED);
        goto out_free;
    }
    if ((st = cs_runlog_read_evals(rd, &ev)))
        goto out_free;
    for (j = 1; j < N_RUNLOG_COLS; j++)
        cols[j] = cs_table_find(ev, src[j]);
    for (r = 0; r < cs_table_nrows(ev) && st == CS_OK; r++) {
        size_t row = cs_table_nrows(t);
        if (cols[1] < 0 || cols[3] < 0 || !isfinite(cs_table_num(ev, r, (size_t)cols[1])) ||
            !isfinite(cs_table_num(ev, r, (size_t)cols[3])))
            continue;
        if ((st = cs_table_append_row(t, row + 1)) || (st = cs_table_set_str(t, row, 0, path)))
            break;
        cs_table_set_num(t, row, 1, kv->d);
        for (j = 1; j < N_RUNLOG_COLS; j++)
            cs_table_set_num(t, row, j + 1,
                             cols[j] < 0 ? NAN : cs_table_num(ev, r, (size_t)cols[j]));
    }
out_free:
    cs_table_free(ev);
    cs_runlog_read_close(rd);
    return st;
}

int cs_envelope_read_runlogs(const char *dir, cs_table **out)
{
    char **paths = NULL;
    size_t n = 0, i;
    cs_table *t = cs_table_alloc(dir);
    int st;

    *out = NULL;
    if (!t)
        return CS_ENOMEM;
    st = cs_table_add_col(t, "run", CS_COL_STR, NULL);
    for (i = 0; i < N_RUNLOG_COLS && st == CS_OK; i++)
        st = cs_table_add_col(t, runlog_cols[i], CS_COL_NUM, NULL);
    if (st == CS_OK)
        st = cs_runlog_read_list(dir, &paths, &n);
    if (st == CS_OK && n == 0)
        st = cs_fail(CS_EINPUT,
                     "%s: no run logs (*.h5) in this directory or its "
                     "subdirectories",
                     dir);
    for (i = 0; i < n && st == CS_OK; i++)
        st = append_runlog(t, paths[i]);
    cs_runlog_read_list_free(paths, n);
    if (st) {
        cs_table_free(t);
        return st;
    }
    *out = t;
    return CS_OK;
}
