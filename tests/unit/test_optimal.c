/* tests/unit/test_optimal.c: compute-optimal allocation (fit/optimal.c) — the numeric solver
 * against Chinchilla's closed form, the shape family against core/flops, optimal context
 * growing with budget under the attention-aware FLOPs, optimal vocabulary under Tao et al.'s
 * count, intervals from bootstrap samples, bad input. Run by `make test`. */
#include "tests/testutil.h"

#include "core/flops.h"
#include "fit/law.h"
#include "fit/optimal.h"

#include <gsl/gsl_errno.h>
#include <math.h>

/* Sets the parameters of `law` by name from "name=value" pairs (n of them). */
static void set_params(const cs_law *law, double *params, const char *const *names,
                       const double *values, size_t n)
{
    size_t i;

    assert_int_equal(cs_law_nparams(law), n);
    for (i = 0; i < n; i++) {
        long j = cs_law_param_index(law, names[i]);
        assert_true(j >= 0);
        params[j] = values[i];
    }
}

/* Hoffmann et al.'s fit (eq. 10) in the built-in's parametrisation E = exp(e), ... */
static cs_law *chinchilla(double *params)
{
    static const char *const names[5] = {"e", "a", "alpha", "b", "beta"};
    const double values[5] = {log(1.69), log(406.4), 0.34, log(410.7), 0.28};
    cs_law *law = cs_law_builtin("chinchilla");

    assert_non_null(law);
    set_params(law, params, names, values, 5);
    return law;
}

static void test_shape_family(void **state)
{
    static const int64_t layers[3] = {12, 24, 48};
    cs_model_shape s = {12, 768, 12, 50257, 1024};
    cs_param_count pc;
    double L, d, fpt;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        s.n_layer = layers[i];
        s.d_model = 64 * layers[i];
        assert_int_equal(cs_flops_count_params(&s, &pc), CS_OK);
        cs_optimal_shape((double)pc.non_embedding, 64.0, &L, &d);
        assert_true(fabs(L - (double)s.n_layer) < 1e-9 * (double)s.n_layer);
        assert_true(fabs(d - (double)s.d_model) < 1e-9 * (double)s.d_model);
        /* The kaplan cost the solver uses is core/flops's count for that shape. */
        assert_int_equal(cs_flops_per_token(&s, CS_FLOPS_KAPLAN, &fpt), CS_OK);
        assert_true(fabs(6.0 * (double)pc.non_embedding + 6.0 * L * 1024.0 * d - fpt) <
                    1e-9 * fpt);
    }
}

/* The numeric path must agree with the closed form to 1e-6 relative in N and D. */
static void test_numeric_matches_closed_form(void **state)
{
    double params[5];
    cs_law *law = chinchilla(params);
    cs_optimal_params p = cs_optimal_default_params();
    cs_optimal_point cf, nm;
    double C;

    (void)state;
    for (C = 1e17; C <= 1e27; C *= 10.0) {
        p.numeric = false;
        assert_int_equal(cs_optimal_solve(law, params, C, &p, &cf), CS_OK);
        assert_true(cf.closed_form);
        p.numeric = true;
        assert_int_equal(cs_optimal_solve(law, params, C, &p, &nm), CS_OK);
        assert_false(nm.closed_form);
        if (fabs(nm.N / cf.N - 1.0) > 1e-6 || fabs(nm.D / cf.D - 1.0) > 1e-6)
            fail_msg("C = %g: numeric N = %.10g D = %.10g, closed form N = %.10g D = %.10g", C,
                     nm.N, nm.D, cf.N, cf.D);
        assert_true(fabs(nm.loss - cf.loss) < 1e-12);
        assert_true(fabs(6.0 * cf.N * cf.D / C - 1.0) < 1e-12);
        assert_int_equal(nm.at_bound, 0);
        assert_true(isnan(cf.T) && isnan(cf.V)); /* neither law nor 6ND involves them */
    }
    /* Gopher's budget, 5.76e23 FLOPs: G = (alpha A / (beta B))^(1/(alpha+beta)) and
     * N = G (C/6)^(beta/(alpha+beta)) evaluated independently (Python, double precision):
     * N = 3.2189859151e10, D = 2.9823056867e12. */
    p.numeric = false;
    assert_int_equal(cs_optimal_solve(law, params, 5.76e23, &p, &cf), CS_OK);
    assert_true(fabs(cf.N / 3.2189859151e10 - 1.0) < 1e-9);
    assert_true(fabs(cf.D / 2.9823056867e12 - 1.0) < 1e-9);
    cs_law_free(law);
}

/* The ndt law: chinchilla plus G/T^gamma. */
static cs_law *ndt(double *params)
{
    static const char *const names[7] = {"e", "a", "alpha", "b", "beta", "g", "gamma"};
    const double values[7] = {log(1.6), log(406.4), 0.34, log(410.7), 0.28, log(1.5), 0.5};
    cs_law *law = cs_law_builtin("ndt");

    assert_non_null(law);
    set_params(law, params, names, values, 7);
    return law;
}

/* With attention in the cost (6 n_layer T d per token), a longer context is worth more as the
 * model widens: the optimal T must grow with the budget, inside its range. */
static void test_context_grows_with_budget(void **state)
{
    double params[7];
    cs_law *law = ndt(params);
    cs_optimal_params p = cs_optimal_default_params();
    cs_optimal_point pt, prev;
    double C;
    bool T_free, V_free;

    (void)state;
    p.flops = CS_OPTIMAL_FLOPS_KAPLAN;
    assert_int_equal(cs_optimal_check(law, &p, &T_free, &V_free), CS_OK);
    assert_true(T_free);
    assert_false(V_free);
    memset(&prev, 0, sizeof prev);
    for (C = 1e17; C <= 1e25; C *= 10.0) {
        assert_int_equal(cs_optimal_solve(law, params, C, &p, &pt), CS_OK);
        assert_int_equal(pt.at_bound, 0);
        assert_true(fabs(pt.cost - (6.0 * pt.N + 6.0 * pt.n_layer * pt.T * pt.d_model)) <
                    1e-9 * pt.cost);
        assert_true(fabs(pt.D * pt.cost / C - 1.0) < 1e-12);
        if (prev.C > 0.0) {
            assert_true(pt.T > 1.2 * prev.T);
            assert_true(pt.N > prev.N && pt.D > prev.D);
        }
        prev = pt;
    }
    /* Where context costs nothing (6ND), the longest context in range wins: flagged. */
    p.flops = CS_OPTIMAL_FLOPS_6ND;
    assert_int_equal(cs_optimal_solve(law, params, 1e21, &p, &pt), CS_OK);
    assert_true(pt.at_bound & CS_OPTIMAL_AT_T);
    assert_true(fabs(pt.T - p.T_hi) < 1e-6 * p.T_hi);
    /* A fixed context (range of one value) is not searched. */
    p.flops = CS_OPTIMAL_FLOPS_KAPLAN;
    p.T_lo = p.T_hi = 2048.0;
    assert_int_equal(cs_optimal_check(law, &p, &T_free, &V_free), CS_OK);
    assert_false(T_free);
    assert_int_equal(cs_optimal_solve(law, params, 1e21, &p, &pt), CS_OK);
    assert_true(pt.T == 2048.0);
    cs_law_free(law);
}

/* Tao et al.'s law and count: the optimal vocabulary grows with the budget (with these made-up
 * parameters from about 8k at 1e18 FLOPs to 190k at 1e24; the vocabulary's parameters V d stay
 * a few percent of N, as in their paper). */
static void test_vocabulary(void **state)
{
    static const char *const names[7] = {"E", "A1", "alpha1", "A2", "alpha2", "B", "beta"};
    const double values[7] = {5.0, 400.0, 0.34, 400.0, 0.6, 400.0, 0.28};
    double params[7];
    cs_law *law = cs_law_builtin("tao-vocab");
    cs_optimal_params p = cs_optimal_default_params();
    cs_optimal_point pt, prev;
    double C;

    (void)state;
    assert_non_null(law);
    set_params(law, params, names, values, 7);
    p.flops = CS_OPTIMAL_FLOPS_TAO;
    memset(&prev, 0, sizeof prev);
    for (C = 1e18; C <= 1e24; C *= 10.0) {
        assert_int_equal(cs_optimal_solve(law, params, C, &p, &pt), CS_OK);
        assert_int_equal(pt.at_bound, 0);
        assert_true(fabs(pt.cost - 6.0 * (pt.N + pt.V * pt.d_model)) < 1e-9 * pt.cost);
        assert_true(isnan(pt.T));
        if (prev.C > 0.0)
            assert_true(pt.V > prev.V);
        prev = pt;
    }
    cs_law_free(law);
}

/* Intervals from bootstrap samples: re-solved per sample; the estimate lies inside. */
static void test_intervals(void **state)
{
    enum { NS = 200 };
    double params[5], *samples = malloc(NS * 5 * sizeof *samples);
    double budgets[3] = {1e19, 1e21, 1e23};
    cs_law *law = chinchilla(params);
    cs_optimal_params p = cs_optimal_default_params();
    cs_optimal_result *r = NULL;
    size_t s, j, b;
    long ia = cs_law_param_index(law, "alpha"), ib = cs_law_param_index(law, "beta");

    (void)state;
    assert_non_null(samples);
    for (s = 0; s < NS; s++) {
        for (j = 0; j < 5; j++)
            samples[s * 5 + j] = params[j];
        /* alpha and beta spread by +-0.01, evenly */
        samples[s * 5 + ia] += 0.02 * ((double)s / (NS - 1) - 0.5);
        samples[s * 5 + ib] -= 0.02 * ((double)((s * 7) % NS) / (NS - 1) - 0.5);
    }
    samples[3 * 5 + ia] = -1.0; /* alpha < 0: the loss grows with N, optimum at N_lo */
    samples[4 * 5 + ia] = NAN;  /* a sample that cannot be solved at all */
    p.N_hi = 1e14;
    assert_int_equal(cs_optimal_run(law, params, samples, NS, budgets, 3, &p, &r), CS_OK);
    assert_int_equal(r->nbudgets, 3);
    assert_false(r->T_free || r->V_free);
    for (b = 0; b < 3; b++) {
        const cs_optimal_row *row = &r->rows[b];
        assert_true(row->est.closed_form);
        assert_true(row->ci_N.lo < row->est.N && row->est.N < row->ci_N.hi);
        assert_true(row->ci_D.lo < row->est.D && row->est.D < row->ci_D.hi);
        assert_true(row->ci_tpp.lo < row->tpp && row->tpp < row->ci_tpp.hi);
        assert_true(row->ci_loss.lo <= row->est.loss && row->est.loss <= row->ci_loss.hi);
        assert_true(isnan(row->ci_T.lo) && isnan(row->ci_V.hi));
        assert_true(fabs(row->tpp - row->est.D / row->est.N) < 1e-12 * row->tpp);
        assert_int_equal(row->nsamples_ok, NS - 1);
        assert_int_equal(row->nsamples_at_bound, 1);
    }
    /* The interval widens with the budget: the exponents' spread compounds over more decades. */
    assert_true(r->rows[2].ci_N.hi / r->rows[2].ci_N.lo > r->rows[0].ci_N.hi / r->rows[0].ci_N.lo);
    cs_optimal_result_free(r);
    cs_law_free(law);
    free(samples);
}

static void test_bad_input(void **state)
{
    const char *vars[2] = {"N", "x"};
    cs_law *law = cs_law_parse("L = e + a/N^alpha + b/x^beta", vars, 2);
    cs_law *nod = cs_law_parse("L = e + a/N^alpha", vars, 1);
    cs_optimal_params p = cs_optimal_default_params();
    cs_optimal_point pt;
    cs_optimal_result *r = NULL;
    double params[5];
    bool tf, vf;
    int fl;

    (void)state;
    assert_non_null(law);
    assert_non_null(nod);
    assert_int_equal(cs_optimal_check(law, &p, &tf, &vf), CS_EINPUT);
    tu_assert_errmsg_has("law variable \"x\" is not one of N, Nnv, Nv, D, H, T, V");
    assert_int_equal(cs_optimal_check(nod, &p, &tf, &vf), CS_EINPUT);
    tu_assert_errmsg_has("no data variable");
    cs_law_free(law);
    cs_law_free(nod);
    law = chinchilla(params);
    assert_int_equal(cs_optimal_solve(law, params, -1e21, &p, &pt), CS_EINPUT);
    tu_assert_errmsg_has("budget -1e+21");
    assert_int_equal(cs_optimal_solve(law, params, 0.0, &p, &pt), CS_EINPUT);
    p.N_lo = 1e9;
    p.N_hi = 1e8;
    assert_int_equal(cs_optimal_solve(law, params, 1e21, &p, &pt), CS_EINVAL);
    tu_assert_errmsg_has("N range");
    p = cs_optimal_default_params();
    p.aspect = 0.0;
    assert_int_equal(cs_optimal_solve(law, params, 1e21, &p, &pt), CS_EINVAL);
    p = cs_optimal_default_params();
    assert_int_equal(cs_optimal_run(law, params, NULL, 0, NULL, 0, &p, &r), CS_EINVAL);
    /* A law that is nowhere finite (log of a negative constant). */
    params[cs_law_param_index(law, "alpha")] = NAN;
    p.numeric = true;
    assert_int_equal(cs_optimal_solve(law, params, 1e21, &p, &pt), CS_EINPUT);
    tu_assert_errmsg_has("not finite at any");
    cs_law_free(law);
    assert_int_equal(cs_optimal_flops_parse("Kaplan", &fl), CS_OK);
    assert_int_equal(fl, CS_OPTIMAL_FLOPS_KAPLAN);
    assert_string_equal(cs_optimal_flops_name(CS_OPTIMAL_FLOPS_TAO), "tao");
    assert_int_equal(cs_optimal_flops_parse("6ND", &fl), CS_OK);
    assert_int_equal(cs_optimal_flops_parse("chinchilla", &fl), CS_EINPUT);
    tu_assert_errmsg_has("expected one of 6nd, kaplan, tao");
}

static void test_parse_budgets(void **state)
{
    double *b = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(cs_optimal_parse_budgets("1e21:1e25:9", "--budget", &b, &n), CS_OK);
    assert_int_equal(n, 9);
    assert_true(b[0] == 1e21 && b[8] == 1e25);
    assert_true(fabs(b[4] / 1e23 - 1.0) < 1e-12 && fabs(b[1] / pow(10.0, 21.5) - 1.0) < 1e-12);
    free(b);
    assert_int_equal(cs_optimal_parse_budgets("6e18,1e19, 3e19", "--budget", &b, &n), CS_OK);
    assert_int_equal(n, 3);
    assert_true(b[0] == 6e18 && b[2] == 3e19);
    free(b);
    assert_int_equal(cs_optimal_parse_budgets("1e21:1e21:1", "--budget", &b, &n), CS_OK);
    assert_int_equal(n, 1);
    free(b);
    assert_int_equal(cs_optimal_parse_budgets("1e21,-3", "--budget", &b, &n), CS_EINPUT);
    tu_assert_errmsg_has("--budget");
    assert_null(b);
    assert_int_equal(cs_optimal_parse_budgets("1e25:1e21:9", "--budget", &b, &n), CS_EINPUT);
    assert_int_equal(cs_optimal_parse_budgets("1e21:1e25", "--budget", &b, &n), CS_EINPUT);
    tu_assert_errmsg_has("LO:HI:K");
    assert_int_equal(cs_optimal_parse_budgets("1e21:1e25:0", "--budget", &b, &n), CS_EINPUT);
    assert_int_equal(cs_optimal_parse_budgets("1e21,,1e22", "--budget", &b, &n), CS_EINPUT);
    assert_int_equal(cs_optimal_parse_budgets("", "--budget", &b, &n), CS_EINPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_family),
        cmocka_unit_test(test_numeric_matches_closed_form),
        cmocka_unit_test(test_context_grows_with_budget),
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_intervals),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_parse_budgets),
    };
    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
