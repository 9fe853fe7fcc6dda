/* tests/unit/test_analyze.c: the context-scaling analysis (analysis/analyze.h, points.h) on
 * synthetic sweeps whose losses follow a known ndt-style law (tests/helpers/synth_sweep.h), so
 * that the optimal context per budget is known: the empirical optima per model size and jointly
 * over N and T within the bias bound of a parabola through three samples, the law's optima
 * within solver precision, losses at equal compute within the interpolation bound, noise
 * estimates and bootstrap bands, the ranking check, runs missing fields, bad directories,
 * unreachable budgets, mixed vocabularies, the CSV and JSON outputs. Run by `make test`. */
#include "tests/testutil.h"

#include "analysis/analyze.h"
#include "core/csv.h"
#include "fit/fitjson.h"
#include "tests/helpers/synth_sweep.h"

#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <math.h>
#include <dirent.h>
#include <sys/stat.h>

/* A fresh directory with a sweep written into it. */
static char *sweep_dir(const ss_sweep *s)
{
    char *dir = tu_tmpdir();

    assert_int_equal(ss_write_sweep(dir, s), CS_OK);
    return dir;
}

/* Removes a directory tree of plain files and directories. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4200];
    struct stat sb;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(lstat(path, &sb), 0);
        if (S_ISDIR(sb.st_mode))
            remove_tree(path);
        else
            assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static void remove_dir(char *dir)
{
    remove_tree(dir);
    free(dir);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static ss_sweep exact_sweep(void)
{
    ss_sweep s = ss_default_sweep();

    s.nevals = 41; /* 1e16 is then a row of the 1e17 runs too: no interpolation at the budgets */
    return s;
}

// ---- the truth and its tolerances ----------------------------------------------------------

/* The per-size loss at budget C against u = ln T (constant N term left out). */
static double size_f(const ss_law *l, double a, double b, double C, double u)
{
    double T = exp(u);

    return l->B * pow(C / (a + b * T), -l->beta) + l->G * pow(T, -l->gamma);
}

/* |f'''| h^2 / (6 f'') of g at x (central differences): the largest error in x of the vertex
 * of a parabola through three samples h apart around the minimum of g (proved in
 * tests/unit/test_analyze_ucurve.c, test_parabola_bias). */
#define PARABOLA_BOUND(g, x, h)                                                                    \
    (fabs(((g)((x) + 2e-3) - 2.0 * (g)((x) + 1e-3) + 2.0 * (g)((x)-1e-3) - (g)((x)-2e-3)) /        \
          (2e-9)) /                                                                                \
     (6.0 * (((g)((x) + 1e-3) - 2.0 * (g)(x) + (g)((x)-1e-3)) / 1e-6)) * (h) * (h))

static const ss_law *g_law;
static double g_a, g_b, g_C, g_v, g_u;

static double g_size(double u)
{
    return size_f(g_law, g_a, g_b, g_C, u);
}

/* The joint problem's loss along ln N (at g_u) and along ln T (at g_v), shape family 64. */
static double g_joint(double v, double u)
{
    double N = exp(v), nl, d, T = exp(u);

    cs_optimal_shape(N, 64.0, &nl, &d);
    return ss_best(g_law, N, g_C / (6.0 * N + 6.0 * nl * d * T), T);
}

static double g_joint_v(double v)
{
    return g_joint(v, g_u);
}

static double g_joint_u(double u)
{
    return g_joint(g_v, u);
}

// ---- recovery of the optima ------------------------------------------------------------------

static void check_sizes(const cs_analyze_result *r, const ss_sweep *s)
{
    size_t i;

    for (i = 0; i < r->ncurves; i++) {
        const cs_analyze_curve *c = &r->curves[i];
        const cs_analyze_model *M = &r->models[c->model];
        double a = 6.0 * M->N, b = 6.0 * M->n_layer * M->d_model, C = r->budgets[c->budget].C;
        double Ts = ss_opt_T(&s->law, a, b, C);
        g_law = &s->law, g_a = a, g_b = b, g_C = C;
        double bound = PARABOLA_BOUND(g_size, log(Ts), log(2.0));
        assert_int_equal(c->opt.status, CS_UCURVE_OK);
        /* C / D of whole token counts: 1e-9 relative */
        assert_true(fabs(M->cost_a / a - 1.0) < 1e-6 && fabs(M->cost_b / b - 1.0) < 1e-6);
        if (!(fabs(log(c->opt.x_opt / Ts)) <= 1.1 * bound + 1e-6))
            fail_msg("C %g N %g: T* %g, truth %g, bound %g in ln T", C, M->N, c->opt.x_opt, Ts,
                     bound);
    }
}

static void check_joint(const cs_analyze_result *r, const ss_sweep *s)
{
    size_t i;

    for (i = 0; i < r->njoints; i++) {
        const cs_ucurve_joint *o = &r->joints[i].opt;
        double C = r->budgets[r->joints[i].budget].C, N, T, hN = 0.0, bound;
        size_t m;
        ss_opt_joint(&s->law, 64.0, C, 1e4, 1e10, &N, &T);
        for (m = 0; m + 1 < r->nmodels; m++) /* the widest spacing of the sampled ln N */
            hN = fmax(hN, log(r->models[m + 1].N / r->models[m].N));
        g_law = &s->law, g_C = C, g_v = log(N), g_u = log(T);
        bound = PARABOLA_BOUND(g_joint_v, log(N), hN) + PARABOLA_BOUND(g_joint_u, log(T), log(2.0));
        assert_int_equal(o->status, CS_UCURVE_OK);
        if (!(fabs(log(o->N_opt / N)) <= bound && fabs(log(o->T_opt / T)) <= bound))
            fail_msg("C %g: joint N* %g T* %g, truth %g %g, bound %g", C, o->N_opt, o->T_opt, N, T,
                     bound);
    }
}

/* The law is fitted to exact points: its optima agree with the truth to solver precision. */
static void check_law(const cs_analyze_result *r, const ss_sweep *s)
{
    const cs_analyze_law *lw = &r->law;
    size_t i;

    assert_true(lw->fitted);
    assert_true(lw->fit->rmse < 1e-6);
    assert_int_equal(lw->nrows, r->nbudgets * (r->nmodels + 1));
    for (i = 0; i < lw->nrows; i++) {
        const cs_analyze_law_row *w = &lw->rows[i];
        double C = r->budgets[w->budget].C, N, T;
        if (w->model == SIZE_MAX) {
            ss_opt_joint(&s->law, lw->aspect, C, 1e4, 1e10, &N, &T);
            assert_true(fabs(log(w->N / N)) < 1e-3);
        } else {
            const cs_analyze_model *M = &r->models[w->model];
            T = ss_opt_T(&s->law, 6.0 * M->N, 6.0 * M->n_layer * M->d_model, C);
        }
        if (!(fabs(log(w->T / T)) < 1e-3))
            fail_msg("law row %zu: T* %g, truth %g", i, w->T, T);
        assert_true(w->at_bound == 0 && w->nsamples_ok > 0);
        assert_true(w->T_lo <= w->T * 1.0001 && w->T_hi >= w->T * 0.9999);
    }
    assert_true(fabs(lw->aspect - 64.0) < 1e-9);
}

static void test_recovers_optima(void **state)
{
    ss_sweep s = exact_sweep();
    char *dir = sweep_dir(&s);
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;
    size_t i;

    (void)state;
    p.ucurve.nboot = 100;
    p.law_boot = 10;
    p.threads = 2;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    assert_int_equal(r->pts->nruns, 70);
    assert_int_equal(r->pts->nused, 70);
    assert_int_equal(r->pts->metric, CS_POINTS_NATS);
    assert_int_equal(r->nmodels, 5);
    assert_int_equal(r->nbudgets, 2);
    assert_true(r->budgets[0].C == 1e16 && r->budgets[1].C == 1e17);
    assert_int_equal(r->budgets[0].nruns, 70); /* the 1e17 runs pass 1e16 */
    assert_int_equal(r->budgets[1].nruns, 35);
    assert_int_equal(r->npoints, 70);
    assert_int_equal(r->points[0].nrep, 2);
    assert_int_equal(r->ncurves, 10);
    check_sizes(r, &s);
    check_joint(r, &s);
    check_law(r, &s);
    /* the average loss carries G mean(t^-gamma) ~ G T^-gamma / (1 - gamma): a larger context
     * term, so it prefers longer contexts (on this factor-2 grid: at 1e16 but not at 1e17), and
     * the run it picks there has a worse best-context loss */
    for (i = 0; i < r->nranks; i++) {
        const cs_analyze_rank *k = &r->ranks[i];
        if (k->model != SIZE_MAX)
            continue;
        double Ta = r->points[k->r.best_avg].T, Tb = r->points[k->r.best_best].T;
        assert_true(Ta >= Tb && k->r.regret >= 0.0);
        assert_true(k->r.spearman < 1.0 && k->r.spearman > 0.5);
        if (k->budget == 0)
            assert_true(Ta > Tb && k->r.regret > 0.01);
    }
    assert_int_equal(r->nranks, 2 * 6);
    cs_analyze_result_free(r);
    remove_dir(dir);
}

/* Budgets between rows: the loss of each run at the budget is the law's within the error of
 * linear interpolation in ln C, (du^2 / 8) max |d^2 L / du^2|, with L'' = beta^2 B D^-beta. */
static void test_interpolation(void **state)
{
    ss_sweep s = ss_default_sweep();
    const double budget = 3e16;
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;
    char *dir;
    size_t i;

    (void)state;
    s.nevals = 15;
    dir = sweep_dir(&s);
    p.budgets = &budget;
    p.nbudgets = 1;
    p.law = false;
    p.ucurve.nboot = 0;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    assert_int_equal(r->nslices, 35); /* the 1e17 runs only */
    for (i = 0; i < r->nslices; i++) {
        const cs_analyze_slice *sl = &r->slices[i];
        const cs_points_run *run = &r->pts->runs[sl->run];
        double du = log(s.span) / (double)(s.nevals - 1), D = budget / run->flops_per_token;
        double truth = ss_best(&s.law, run->N, D, run->T);
        double bound =
            du * du / 8.0 * s.law.beta * s.law.beta * s.law.B * pow(D * exp(-du), -s.law.beta);
        assert_true(fabs(sl->L - truth) <= bound);
        assert_true(fabs(sl->L - truth) > 0.0); /* really interpolated */
        assert_true(fabs(sl->D / D - 1.0) < 1e-6);
    }
    cs_analyze_result_free(r);
    /* --final: no run ends at 3e16 */
    p.final_only = true;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("no budget is reached");
    tu_assert_errmsg_has("largest compute reached is 1e+17");
    remove_dir(dir);
}

/* Noise of sd 0.01 on every row: the trajectories' noise estimates find it, and the bootstrap
 * bands hold the true optimum of most curves. */
static void test_noise_and_bands(void **state)
{
    ss_sweep s = exact_sweep();
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;
    double sig[140];
    size_t i, n = 0, covered = 0;
    char *dir;

    (void)state;
    s.noise = 0.01;
    dir = sweep_dir(&s);
    p.law = false;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    for (i = 0; i < r->nslices && n < 140; i++)
        sig[n++] = r->slices[i].sigma;
    qsort(sig, n, sizeof sig[0], cmp_double);
    assert_true(sig[n / 2] > 0.7 * s.noise && sig[n / 2] < 1.4 * s.noise);
    for (i = 0; i < r->ncurves; i++) {
        const cs_analyze_curve *c = &r->curves[i];
        const cs_analyze_model *M = &r->models[c->model];
        double Ts =
            ss_opt_T(&s.law, 6.0 * M->N, 6.0 * M->n_layer * M->d_model, r->budgets[c->budget].C);
        assert_true(c->opt.x_lo < c->opt.x_hi);
        covered += c->opt.x_lo <= Ts && Ts <= c->opt.x_hi;
    }
    assert_true(covered >= 8); /* of 10 curves, at a 95% level */
    assert_true(r->noise_filled == 0 && !r->noise_given);
    cs_analyze_result_free(r);
    /* a given noise replaces the estimates: a larger one gives wider bands */
    cs_analyze_result *q = NULL;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    p.noise = 0.05;
    assert_int_equal(cs_analyze_run(dir, &p, &q), CS_OK);
    assert_true(q->noise_given && q->slices[0].sigma == 0.05);
    assert_true(q->curves[0].opt.x_hi / q->curves[0].opt.x_lo >
                r->curves[0].opt.x_hi / r->curves[0].opt.x_lo);
    cs_analyze_result_free(q);
    cs_analyze_result_free(r);
    remove_dir(dir);
}

// ---- runs lacking fields, bad directories, budgets -----------------------------------------

static ss_sweep small_sweep(void)
{
    static const int64_t nl[3] = {2, 3, 4};
    static const int64_t ctx[5] = {128, 256, 512, 1024, 2048};
    static const double bud[1] = {1e16};
    ss_sweep s = ss_default_sweep();

    s.n_layer = nl;
    s.nsizes = 3;
    s.contexts = ctx;
    s.ncontexts = 5;
    s.budgets = bud;
    s.nbudgets = 1;
    s.nevals = 12;
    return s;
}

/* Writes one run of the small sweep with the given prefix, drops and status. */
static void odd_run(const char *dir, const char *prefix, unsigned drop, int status)
{
    ss_sweep s = small_sweep();

    s.prefix = prefix;
    s.drop = drop;
    s.status = status;
    assert_int_equal(ss_write_run(dir, &s, 1, 512, 1e16, 0), CS_OK);
}

static const cs_points_run *find_run(const cs_analyze_result *r, const char *prefix, size_t *idx)
{
    size_t i;

    for (i = 0; i < r->pts->nruns; i++)
        if (strstr(r->pts->runs[i].path, prefix)) {
            *idx = i;
            return &r->pts->runs[i];
        }
    fail_msg("no run %s", prefix);
    return NULL;
}

static void expect_missing(const cs_analyze_result *r, const char *prefix, unsigned flag,
                           const char *text)
{
    char buf[1024];
    size_t i;
    const cs_points_run *run = find_run(r, prefix, &i);

    assert_true(run->missing & flag);
    cs_points_missing_text(run->missing, r->pts->source, buf, sizeof buf);
    if (!strstr(buf, text))
        fail_msg("%s: missing text \"%s\" lacks \"%s\"", prefix, buf, text);
}

static void test_missing_fields(void **state)
{
    ss_sweep s = small_sweep();
    char *dir = sweep_dir(&s);
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;
    size_t i, k;

    (void)state;
    odd_run(dir, "nosize", SS_DROP_N, CS_RUNLOG_FINISHED);
    odd_run(dir, "nobest", SS_DROP_BEST, CS_RUNLOG_FINISHED);
    odd_run(dir, "noflops", SS_DROP_FLOPS, CS_RUNLOG_FINISHED);
    odd_run(dir, "noctx", SS_DROP_CONTEXT, CS_RUNLOG_FINISHED);
    odd_run(dir, "diverged", 0, CS_RUNLOG_DIVERGED);
    odd_run(dir, "noavg", SS_DROP_AVG, CS_RUNLOG_FINISHED);
    odd_run(dir, "running", 0, CS_RUNLOG_RUNNING);
    p.ucurve.nboot = 0;
    p.law_boot = 0;
    p.threads = 2;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    assert_int_equal(r->pts->nruns, 15 + 7);
    assert_int_equal(r->pts->nused, 15 + 2); /* noavg and running are usable */
    expect_missing(r, "nosize", CS_POINTS_NO_N, "config n_params_nonembed");
    expect_missing(r, "nobest", CS_POINTS_NO_LOSS, "eval/loss_val_best");
    expect_missing(r, "noflops", CS_POINTS_NO_C, "eval/flops");
    expect_missing(r, "noctx", CS_POINTS_NO_T, "config context");
    expect_missing(r, "diverged", CS_POINTS_STATUS, "diverged");
    expect_missing(r, "noavg", CS_POINTS_NO_AVG, "eval/loss_val");
    expect_missing(r, "running", CS_POINTS_UNFINISHED, "status finished");
    assert_true(cs_points_usable(find_run(r, "noavg", &i)) && r->run_model[i] == 1);
    assert_true(r->run_model[(find_run(r, "nosize", &k), k)] == SIZE_MAX);
    /* the size-1, T-512 point averages three runs; its average loss only the two that have it */
    for (i = 0; i < r->npoints && !(r->points[i].model == 1 && r->points[i].T == 512.0); i++)
        ;
    assert_int_equal(r->points[i].nrep, 3);
    assert_true(isfinite(r->points[i].A) && isfinite(r->points[i].rank_avg));
    /* the law takes the finished runs only: 15 of the sweep and noavg */
    assert_true(r->law.fitted);
    assert_int_equal(cs_dataset_n(r->law.ds), 16);
    cs_analyze_result_free(r);
    remove_dir(dir);
}

static void write_bytes(const char *path, const char *text)
{
    tu_write_file(path, text, strlen(text));
}

static void test_bad_dirs(void **state)
{
    ss_sweep s = small_sweep();
    char *dir = tu_tmpdir();
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;

    (void)state;
    p.law = false;
    p.ucurve.nboot = 0;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("no run logs");
    assert_null(r);
    assert_int_equal(cs_analyze_run(tu_path(dir, "nothing"), &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("not a directory");
    /* every run lacks its size */
    s.drop = SS_DROP_N;
    assert_int_equal(ss_write_sweep(dir, &s), CS_OK);
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("none of the 15 run logs can be analysed");
    tu_assert_errmsg_has("n_params_nonembed");
    remove_dir(dir);
    /* two data sets; one FLOPs formula too many; a file that is no run log */
    s = small_sweep();
    dir = sweep_dir(&s);
    s.data_name = "other";
    s.prefix = "other";
    assert_int_equal(ss_write_run(dir, &s, 0, 128, 1e16, 0), CS_OK);
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("2 data sets");
    tu_assert_errmsg_has("--data");
    p.points.data = "synthetic-ndt";
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    assert_int_equal(r->pts->nother_data, 1);
    assert_int_equal(r->pts->nruns, 15);
    cs_analyze_result_free(r);
    p.points.data = "nope";
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("no run log has data_name \"nope\"");
    p.points.data = "synthetic-ndt";
    s = small_sweep();
    s.flops_formula = "6*N";
    s.prefix = "sixn";
    assert_int_equal(ss_write_run(dir, &s, 0, 128, 1e16, 0), CS_OK);
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("2 formulas");
    write_bytes(tu_path(dir, "a-junk.h5"), "not hdf5 at all");
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("a-junk.h5");
    remove_dir(dir);
}

static void test_budgets(void **state)
{
    ss_sweep s = small_sweep();
    char *dir = sweep_dir(&s);
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;
    const double two[2] = {1e20, 1e16}, far[1] = {1e20}, bad[1] = {-1.0};

    (void)state;
    p.law = false;
    p.ucurve.nboot = 0;
    p.budgets = two;
    p.nbudgets = 2;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    assert_int_equal(r->nbudgets, 2);
    assert_int_equal(r->budgets[1].status, CS_ANALYZE_BUDGET_UNREACHED);
    assert_int_equal(r->budgets[0].status, CS_ANALYZE_BUDGET_OK);
    assert_int_equal(r->nwarnings, 1);
    assert_non_null(strstr(r->warnings[0], "budget 1e+20 FLOPs: no run reaches it"));
    assert_non_null(strstr(r->warnings[0], "largest compute reached is 1e+16"));
    assert_int_equal(r->njoints, 1);
    cs_analyze_result_free(r);
    p.budgets = far;
    p.nbudgets = 1;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("no budget is reached by a run");
    p.budgets = bad;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("expected a positive number");
    p.budgets = NULL;
    p.nbudgets = 0;
    p.min_runs = 100;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("--min-runs");
    remove_dir(dir);
}

/* Two vocabularies: losses in bits per byte; the ndt law (no V) is not fitted. */
static void test_vocabularies(void **state)
{
    ss_sweep s = small_sweep();
    char *dir = sweep_dir(&s);
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;
    size_t i;

    (void)state;
    s.vocab = 512;
    s.bytes_per_token = 1.3;
    s.prefix = "v512";
    assert_int_equal(ss_write_sweep(dir, &s), CS_OK);
    s.prefix = "nobpt";
    s.drop = SS_DROP_BPT;
    assert_int_equal(ss_write_run(dir, &s, 0, 128, 1e16, 0), CS_OK);
    p.ucurve.nboot = 0;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    assert_int_equal(r->pts->metric, CS_POINTS_BPB);
    assert_string_equal(cs_analyze_unit(r), "bits/byte");
    assert_int_equal(r->nmodels, 6);
    assert_int_equal(r->pts->nused, 30);
    expect_missing(r, "nobpt", CS_POINTS_NO_BPT, "data_bytes_per_token");
    for (i = 0; i < r->pts->nruns; i++) { /* bits per byte = nats / ln 2 / bytes per token */
        const cs_points_run *run = &r->pts->runs[i];
        double D = run->D[run->n - 1], truth = ss_best(&s.law, run->N, D, run->T);
        if (cs_points_usable(run))
            assert_true(fabs(run->L[run->n - 1] - truth / log(2.0) / run->bytes_per_token) < 1e-9);
    }
    assert_false(r->law.fitted);
    assert_non_null(strstr(r->law.message, "several vocabularies"));
    cs_analyze_result_free(r);
    p.points.metric = CS_POINTS_NATS;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    assert_int_equal(r->pts->nused, 31);
    cs_analyze_result_free(r);
    remove_dir(dir);
}

// ---- outputs and sources ---------------------------------------------------------------------

static size_t csv_rows(const char *dir, const char *name, const char *col)
{
    cs_table *t = NULL;
    size_t n;

    assert_int_equal(cs_csv_read(tu_path(dir, name), NULL, &t), CS_OK);
    assert_true(cs_table_find(t, col) >= 0);
    n = cs_table_nrows(t);
    cs_table_free(t);
    return n;
}

static void check_json(const cs_analyze_result *r, const char *path)
{
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);

    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "ctxscale-analyze");
    assert_int_equal(json_array_size(json_object_get(doc, "ucurves")), r->ncurves);
    assert_int_equal(json_array_size(json_object_get(doc, "runs")), r->pts->nruns);
    assert_true(json_is_true(json_object_get(json_object_get(doc, "law"), "fitted")));
    json_decref(doc);
}

static void test_outputs(void **state)
{
    ss_sweep s = small_sweep();
    char *dir = sweep_dir(&s), *out = tu_tmpdir(), sub[2048];
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;
    cs_fitjson *fj = NULL;
    FILE *f;

    (void)state;
    p.ucurve.nboot = 20;
    p.law_boot = 5;
    p.threads = 2;
    assert_int_equal(cs_analyze_run(dir, &p, &r), CS_OK);
    snprintf(sub, sizeof sub, "%s/csv", out);
    assert_int_equal(cs_analyze_write_csv(r, sub, false), CS_OK);
    assert_int_equal(csv_rows(sub, "points.csv", "loss_best"), r->pts->nruns);
    assert_int_equal(csv_rows(sub, "ucurve.csv", "loss_best"), r->npoints + r->nprofile);
    assert_int_equal(csv_rows(sub, "optimal_context.csv", "T_opt"), r->ncurves + 2 * r->njoints);
    assert_int_equal(csv_rows(sub, "optimal_law.csv", "T_opt"), r->law.nrows);
    assert_int_equal(csv_rows(sub, "isoflop.csv", "D"), r->nslices);
    assert_int_equal(csv_rows(sub, "rankings.csv", "rank_best"), r->npoints);
    assert_int_equal(csv_rows(sub, "rankings_summary.csv", "spearman"), r->nranks);
    assert_int_equal(csv_rows(sub, "budgets.csv", "status"), r->nbudgets);
    assert_int_equal(cs_fitjson_read(tu_path(sub, "law_fit.json"), &fj), CS_OK);
    assert_string_equal(fj->law_name, "ndt");
    cs_fitjson_free(fj);
    assert_int_equal(cs_analyze_write_csv(r, sub, false), CS_EINPUT);
    tu_assert_errmsg_has("exists; use --force");
    assert_int_equal(cs_analyze_write_csv(r, sub, true), CS_OK);
    f = fopen(tu_path(out, "a.json"), "w");
    assert_non_null(f);
    assert_int_equal(cs_analyze_write_json(r, f), CS_OK);
    assert_int_equal(fclose(f), 0);
    check_json(r, tu_path(out, "a.json"));
    const char *const *names = cs_analyze_csv_names();
    assert_string_equal(names[0], "points.csv");
    cs_analyze_result_free(r);
    remove_dir(dir);
    remove_dir(out);
}

/* The steps rows of the synthetic runs hold the same losses as the eval rows. */
static void test_steps_rows(void **state)
{
    ss_sweep s = small_sweep();
    char *dir = sweep_dir(&s);
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *a = NULL, *b = NULL;
    size_t i;

    (void)state;
    p.law = false;
    p.ucurve.nboot = 10;
    assert_int_equal(cs_analyze_run(dir, &p, &a), CS_OK);
    p.points.source = CS_POINTS_STEPS;
    assert_int_equal(cs_analyze_run(dir, &p, &b), CS_OK);
    assert_int_equal(a->ncurves, b->ncurves);
    for (i = 0; i < a->ncurves; i++)
        assert_true(a->curves[i].opt.x_opt == b->curves[i].opt.x_opt);
    assert_int_equal(b->pts->source, CS_POINTS_STEPS);
    cs_analyze_result_free(a);
    cs_analyze_result_free(b);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_optima), cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_noise_and_bands), cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_bad_dirs),        cmocka_unit_test(test_budgets),
        cmocka_unit_test(test_vocabularies),    cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_steps_rows),
    };

    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
