/* tests/unit/test_envelope.c: Approach 1 (analysis/envelope.c) on synthetic training curves from
 * a known Chinchilla law, whose compute-optimal N is known in closed form; negative losses;
 * coverage at the ends; bad input. Run by `make test`. */
#include "tests/testutil.h"

#include "analysis/envelope.h"
#include "core/runlog.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <sys/stat.h>

#define LAW_E 1.69
#define LAW_A 406.4
#define LAW_B 410.7
#define LAW_ALPHA 0.34
#define LAW_BETA 0.28
#define A_TRUE (LAW_BETA / (LAW_ALPHA + LAW_BETA))

static double law(double N, double D)
{
    return LAW_E + LAW_A / pow(N, LAW_ALPHA) + LAW_B / pow(D, LAW_BETA);
}

static double n_opt_true(double C)
{
    double G = pow(LAW_ALPHA * LAW_A / (LAW_BETA * LAW_B), 1.0 / (LAW_ALPHA + LAW_BETA));
    return G * pow(C / 6.0, A_TRUE);
}

/* NR runs, N = 1e6 * RATIO^k; each trajectory has NT points with D from N/100 to 1e4 N
 * (log-spaced), C = 6 N D, loss from the law plus `shift`. Points are stored run-interleaved
 * (point i belongs to run i % NR) so that grouping is exercised. */
#define NR 50
#define NT 100
#define RATIO 1.25
static void make_runs(double shift, size_t *run, double *C, double *N, double *D, double *L)
{
    size_t k, t;

    for (k = 0; k < NR; k++) {
        double n = 1e6 * pow(RATIO, (double)k);
        for (t = 0; t < NT; t++) {
            size_t i = t * NR + k;
            run[i] = k;
            N[i] = n;
            D[i] = n * pow(10.0, -2.0 + 6.0 * (double)t / (double)(NT - 1));
            C[i] = 6.0 * n * D[i];
            L[i] = law(n, D[i]) + shift;
        }
    }
}

static size_t g_run[NR * NT];
static double g_C[NR * NT], g_N[NR * NT], g_D[NR * NT], g_L[NR * NT];

static void test_recovers_exponent(void **state)
{
    cs_envelope_params p = cs_envelope_default_params();
    cs_envelope_result *r = NULL;
    size_t g, s;

    (void)state;
    make_runs(0.0, g_run, g_C, g_N, g_D, g_L);
    p.C_lo = 1e17; /* N_opt from 3e7 to 2e9: well inside the sizes 1e6 .. 5.6e10 */
    p.C_hi = 1e21;
    p.nboot = 0;
    assert_int_equal(cs_envelope_run(g_run, NR, g_C, g_N, g_D, g_L, NR * NT, &p, &r), CS_OK);
    assert_int_equal(r->ncovered, p.ngrid);
    assert_int_equal(r->nruns_skipped, 0);
    /* Sizes step by 1.25, so the run on the envelope is within a factor sqrt(1.25) of the true
     * optimum (plus interpolation error, small with 100 points per curve): |ln ratio| <= 0.12.
     * The staircase then tilts the fitted slope by at most about 2 * 0.12 / ln(1e4) = 0.024;
     * over ~19 steps it averages out far better (measured |a - a_true| = 0.0002): tolerance
     * 0.01. */
    for (g = 0; g < r->ngrid; g++)
        assert_true(fabs(log(r->N[g] / n_opt_true(r->C[g]))) < 0.12);
    assert_true(fabs(r->N_fit.a - A_TRUE) < 0.01);
    assert_true(fabs(r->D_fit.a - (1.0 - A_TRUE)) < 0.01);
    /* Segments tile the covered grid in order, each a different run of growing N. */
    assert_true(r->nsegments > 15);
    for (s = 1; s < r->nsegments; s++) {
        assert_true(r->segments[s].N > r->segments[s - 1].N);
        assert_true(r->segments[s].C_lo > r->segments[s - 1].C_hi);
    }
    assert_true(r->segments[0].C_lo == 1e17 && r->segments[r->nsegments - 1].C_hi == 1e21);
    /* The envelope is the lower bound of every curve: D at the grid point matches C = 6 N D. */
    for (g = 0; g < r->ngrid; g += 37)
        assert_true(fabs(6.0 * r->N[g] * r->D[g] / r->C[g] - 1.0) < 1e-9);
    cs_envelope_result_free(r);
}

/* Unigram-normalised losses are negative: the envelope is the same, runs and all. */
static void test_negative_losses_and_bootstrap(void **state)
{
    cs_envelope_params p = cs_envelope_default_params();
    cs_envelope_result *r1 = NULL, *r2 = NULL;
    size_t g;

    (void)state;
    p.C_lo = 1e17;
    p.C_hi = 1e21;
    p.nboot = 100;
    make_runs(0.0, g_run, g_C, g_N, g_D, g_L);
    assert_int_equal(cs_envelope_run(g_run, NR, g_C, g_N, NULL, g_L, NR * NT, &p, &r1), CS_OK);
    make_runs(-10.0, g_run, g_C, g_N, g_D, g_L);
    assert_int_equal(cs_envelope_run(g_run, NR, g_C, g_N, NULL, g_L, NR * NT, &p, &r2), CS_OK);
    for (g = 0; g < p.ngrid; g++) {
        assert_int_equal(r1->run[g], r2->run[g]);
        assert_true(r2->L[g] < 0.0);
    }
    assert_true(r1->N_fit.a == r2->N_fit.a);
    /* The bootstrap drops runs (about 37% per replicate), which widens the staircase; its
     * interval contains the truth and the estimate. */
    assert_int_equal(r2->nboot_ok, 100);
    assert_true(r2->N_fit.a_lo <= r2->N_fit.a && r2->N_fit.a <= r2->N_fit.a_hi);
    assert_true(r2->N_fit.a_lo < A_TRUE && A_TRUE < r2->N_fit.a_hi);
    assert_true(r2->N_fit.a_hi - r2->N_fit.a_lo < 0.1);
    cs_envelope_result_free(r1);
    cs_envelope_result_free(r2);
}

/* With the default range, the ends of the grid that a single run reaches are left out. */
static void test_coverage(void **state)
{
    cs_envelope_params p = cs_envelope_default_params();
    cs_envelope_result *r = NULL;
    size_t g;

    (void)state;
    make_runs(0.0, g_run, g_C, g_N, g_D, g_L);
    p.nboot = 0;
    assert_int_equal(cs_envelope_run(g_run, NR, g_C, g_N, g_D, g_L, NR * NT, &p, &r), CS_OK);
    assert_true(r->C[0] == 6.0 * 1e6 * 1e4); /* smallest run, first point */
    assert_int_equal(r->run[0], SIZE_MAX);   /* only that run reaches it */
    assert_true(isnan(r->L[0]) && isnan(r->N[0]));
    assert_int_equal(r->run[r->ngrid - 1], SIZE_MAX);
    assert_true(r->ncovered > 100 && r->ncovered < r->ngrid);
    for (g = 0; g < r->ngrid; g++)
        if (r->run[g] != SIZE_MAX)
            assert_true(isfinite(r->L[g]));
    cs_envelope_result_free(r);
    p.min_cover = 1;
    assert_int_equal(cs_envelope_run(g_run, NR, g_C, g_N, g_D, g_L, NR * NT, &p, &r), CS_OK);
    assert_int_equal(r->ncovered, r->ngrid);
    assert_int_equal(r->run[0], 0);
    cs_envelope_result_free(r);
}

static void test_bad_input(void **state)
{
    size_t run[6] = {0, 0, 1, 1, 2, 2};
    double C[6] = {1e18, 1e19, 2e18, 2e19, 4e18, 4e19};
    double N[6] = {1e7, 1e7, 2e7, 2e7, 4e7, 4e7};
    double L[6] = {3.0, 2.8, 3.1, 2.7, 3.2, 2.6};
    cs_envelope_params p = cs_envelope_default_params();
    cs_envelope_result *r = NULL;

    (void)state;
    p.nboot = 0;
    p.min_cover = 1;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_OK);
    cs_envelope_result_free(r);
    N[1] = 3e7;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("run 1: N changes along the run");
    N[1] = 1e7;
    C[3] = 2e18;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("both at C = 2e+18");
    C[3] = -2e19;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("point 4: C = -2e+19: expected a positive number");
    C[3] = 2e19;
    L[5] = INFINITY;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("point 6: loss");
    L[5] = 2.6;
    /* Every point its own run: no trajectory. */
    {
        size_t solo[6] = {0, 1, 2, 3, 4, 5};
        assert_int_equal(cs_envelope_run(solo, 6, C, N, NULL, L, 6, &p, &r), CS_EINPUT);
        tu_assert_errmsg_has("no run has 2 points");
    }
    /* The largest run wins everywhere: one run on the envelope is not a power law. */
    C[4] = 5e17;
    L[4] = 1.0;
    L[5] = 0.5;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("only one run");
    run[0] = 3;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_EINVAL);
    run[0] = 0;
    p.C_lo = 1e18;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_EINVAL);
    p.C_hi = 1e17;
    assert_int_equal(cs_envelope_run(run, 3, C, N, NULL, L, 6, &p, &r), CS_EINPUT);
    tu_assert_errmsg_has("empty FLOPs range");
    assert_null(r);
}

/* Writes a finished run log at path with N and eval rows (flops, loss) for D = tokens[i]. */
static void write_log(const char *path, double N, const double *tokens, size_t n)
{
    cs_runlog_params rp = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    size_t i;

    assert_int_equal(cs_runlog_create(path, &rp, &rl), CS_OK);
    assert_int_equal(cs_runlog_set_int(rl, "n_params_nonembed", (int64_t)N), CS_OK);
    assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    for (i = 0; i < n; i++) {
        cs_runlog_eval e = cs_runlog_eval_unknown();
        e.step = (int64_t)i + 1;
        e.tokens = (int64_t)tokens[i];
        e.flops = 6.0 * N * tokens[i];
        e.loss_val = law(N, tokens[i]);
        assert_int_equal(cs_runlog_append_eval(rl, &e), CS_OK);
    }
    assert_int_equal(cs_runlog_set_status(rl, CS_RUNLOG_FINISHED, NULL), CS_OK);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
}

/* A directory of run logs gives the same envelope as the same points in memory. */
static void test_runlogs(void **state)
{
    char *dir = tu_tmpdir();
    double tokens[12], N[4] = {1e7, 3e7, 1e8, 3e8};
    cs_table *t = NULL;
    cs_isoflop_select sel = {NULL, 0, NULL, 0, NULL, 0, true};
    cs_isoflop_points *pts = NULL;
    cs_envelope_params p = cs_envelope_default_params();
    cs_envelope_result *r = NULL;
    char name[64];
    size_t k, i;

    (void)state;
    for (k = 0; k < 4; k++) {
        for (i = 0; i < 12; i++)
            tokens[i] = N[k] * pow(10.0, -1.0 + 0.3 * (double)i);
        snprintf(name, sizeof name, "run%zu.h5", k);
        write_log(tu_path(dir, name), N[k], tokens, 12);
    }
    assert_int_equal(cs_envelope_read_runlogs(dir, &t), CS_OK);
    assert_int_equal(cs_table_nrows(t), 48);
    assert_int_equal(cs_isoflop_points_read(t, &sel, &pts), CS_OK);
    assert_int_equal(pts->nruns, 4);
    assert_non_null(pts->D);
    assert_non_null(strstr(pts->run_names[pts->run[0]], "run0.h5"));
    p.nboot = 0;
    assert_int_equal(cs_envelope_run(pts->run, pts->nruns, pts->C, pts->N, pts->D, pts->L,
                                     pts->n, &p, &r), CS_OK);
    assert_true(r->nsegments >= 3);
    assert_true(r->N_fit.a > 0.2 && r->N_fit.a < 0.8);
    cs_envelope_result_free(r);
    cs_isoflop_points_free(pts);
    cs_table_free(t);
    /* An empty directory is bad input, not an empty result. */
    assert_int_equal(cs_envelope_read_runlogs(tu_path(dir, "none"), &t), CS_EIO);
    mkdir(tu_path(dir, "empty"), 0777);
    assert_int_equal(cs_envelope_read_runlogs(tu_path(dir, "empty"), &t), CS_EINPUT);
    tu_assert_errmsg_has("no run logs");
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_exponent),
        cmocka_unit_test(test_negative_losses_and_bootstrap),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_runlogs),
    };
    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
