/* tests/unit/test_synth.c: the synthetic long-range language (data/synth.c): the generator and
 * the Bayes-optimal predictor against a brute-force sum over every latent path, the generator's
 * sequence frequencies against those exact probabilities, the Monte Carlo floor against the
 * analytic Dirichlet-categorical loss and against fresh simulations, alternatives that must do
 * worse, determinism, and bad input. Run by `make test`. */
#include "tests/testutil.h"

#include "data/store.h"
#include "data/synth.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

static cs_synth *make(const cs_synth_params *p)
{
    cs_synth *s = NULL;

    assert_int_equal(cs_synth_create(p, &s), CS_OK);
    assert_non_null(s);
    return s;
}

/* A small process where every part of the model matters. */
static cs_synth_params tiny_params(void)
{
    cs_synth_params p = cs_synth_default_params();

    p.vocab = 3;
    p.zipf = 0.5;
    p.alpha = 1.5;
    p.markov = 0.3;
    p.markov_k = 2;
    p.copy_rate = 0.3;
    p.copy_len = 2.5;
    p.seed = 7;
    return p;
}

// ---- brute force: the process written out path by path ---------------------------------------

typedef struct brute {
    const cs_synth *s;
    const uint32_t *x;
    size_t len;
} brute;

/* The fresh-token probability at t, written directly from the definition. */
static double bf_fresh(const brute *b, size_t t)
{
    const cs_synth_params *p = cs_synth_get_params(b->s);
    const double *base = cs_synth_base(b->s);
    const double *w;
    const uint32_t *succ = cs_synth_successors(b->s, &w);
    uint32_t v = b->x[t];
    double n = 0.0;
    double m = 0.0;
    size_t i;

    if (t == 0)
        return base[v];
    for (i = 0; i < t; i++)
        n += b->x[i] == v;
    for (i = 0; i < p->markov_k; i++)
        if (succ[b->x[t - 1] * p->markov_k + i] == v)
            m += w[i];
    return p->markov * m + (1.0 - p->markov) * (n + p->alpha * base[v]) / ((double)t + p->alpha);
}

/* P(x_t .. x_{end-1} | x_<t, state at t - 1), summed over every latent path: copying is 1 when
 * x_{t-1} was copied from src. */
static double bf_rest(const brute *b, size_t t, size_t end, int copying, size_t src)
{
    const cs_synth_params *p = cs_synth_get_params(b->s);
    double gamma = 1.0 - 1.0 / p->copy_len;
    double choose = copying ? 1.0 - gamma : 1.0;
    double total = 0.0;
    size_t s;

    if (t == end)
        return 1.0;
    if (copying && b->x[src + 1] == b->x[t])
        total += gamma * bf_rest(b, t + 1, end, 1, src + 1);
    if (t == 0)
        return bf_fresh(b, 0) * bf_rest(b, 1, end, 0, 0);
    for (s = 0; s < t; s++)
        if (b->x[s] == b->x[t])
            total += choose * p->copy_rate / (double)t * bf_rest(b, t + 1, end, 1, s);
    total += choose * (1.0 - p->copy_rate) * bf_fresh(b, t) * bf_rest(b, t + 1, end, 0, 0);
    return total;
}

/* P(x_0 .. x_{end-1}) by brute force. */
static double bf_prob(const brute *b, size_t end)
{
    return bf_rest(b, 0, end, 0, 0);
}

/* Sequence number k of length len over V tokens, base-V digits. */
static void unrank(size_t k, size_t V, uint32_t *x, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        x[i] = (uint32_t)(k % V);
        k /= V;
    }
}

/* The predictor's sequential log-probabilities reproduce the brute-force prefix probabilities of
 * every sequence, and those probabilities sum to 1 (the process is a distribution). */
static void test_predictor_vs_brute_force(void **state)
{
    cs_synth_params p = tiny_params();
    cs_synth *s = make(&p);
    enum { LEN = 6 };
    uint32_t x[LEN];
    double lp[LEN];
    brute b = {s, x, LEN};
    double total = 0.0;
    size_t k;
    size_t n = 729; /* 3^6 */

    (void)state;
    for (k = 0; k < n; k++) {
        double cum = 0.0;
        size_t t;
        unrank(k, 3, x, LEN);
        assert_int_equal(cs_synth_logprob(s, x, LEN, lp), CS_OK);
        for (t = 0; t < LEN; t++) {
            double want = bf_prob(&b, t + 1);
            cum += lp[t];
            if (fabs(exp(cum) - want) > 1e-12 * want + 1e-15)
                fail_msg("sequence %zu, prefix %zu: predictor %.17g, brute force %.17g", k,
                         t + 1, exp(cum), want);
        }
        total += exp(cum);
    }
    assert_true(fabs(total - 1.0) < 1e-12);
    cs_synth_free(s);
}

/* The generator's frequencies of all 3^4 sequences match the exact probabilities (chi-square with
 * a threshold far in the tail, so a correct generator passes with a fixed seed and a process that
 * differs from the predictor's fails). */
static void test_generator_vs_exact(void **state)
{
    cs_synth_params p = tiny_params();
    cs_synth *s = make(&p);
    enum { LEN = 4, NSEQ = 81, NDOC = 40000 };
    size_t counts[NSEQ] = {0};
    uint32_t x[LEN];
    brute b = {s, x, LEN};
    double chi2 = 0.0;
    size_t d;
    size_t k;

    (void)state;
    for (d = 0; d < NDOC; d++) {
        size_t idx = 0;
        cs_synth_generate(s, d, x, LEN);
        for (k = LEN; k-- > 0;)
            idx = idx * 3 + x[k];
        counts[idx]++;
    }
    for (k = 0; k < NSEQ; k++) {
        double e;
        unrank(k, 3, x, LEN);
        e = NDOC * bf_prob(&b, LEN);
        assert_true(e > 5.0); /* every cell large enough for the chi-square approximation */
        chi2 += ((double)counts[k] - e) * ((double)counts[k] - e) / e;
    }
    /* 80 degrees of freedom: mean 80, sd 12.6; 180 is about 8 sd out. */
    if (chi2 > 180.0)
        fail_msg("chi-square %.1f over 80 degrees of freedom", chi2);
    cs_synth_free(s);
}

/* The predictive distribution sums to 1 and gives the observed token the probability observe
 * reports, at every position of a longer document of a larger process. */
static void test_dist_sums_to_one(void **state)
{
    cs_synth_params p = cs_synth_default_params();
    cs_synth *s;
    cs_synth_filter *f;
    enum { LEN = 400 };
    uint32_t x[LEN];
    double *probs;
    size_t t;

    (void)state;
    p.vocab = 64;
    p.alpha = 8.0;
    p.copy_rate = 0.05;
    p.copy_len = 8.0;
    s = make(&p);
    f = cs_synth_filter_alloc(s, LEN);
    probs = malloc(p.vocab * sizeof *probs);
    assert_non_null(f);
    assert_non_null(probs);
    cs_synth_generate(s, 3, x, LEN);
    for (t = 0; t < LEN; t++) {
        double sum = 0.0;
        double lp;
        size_t v;
        assert_int_equal(cs_synth_filter_pos(f), t);
        cs_synth_filter_dist(f, probs);
        for (v = 0; v < p.vocab; v++) {
            assert_true(probs[v] > 0.0);
            sum += probs[v];
        }
        if (fabs(sum - 1.0) > 1e-12)
            fail_msg("position %zu: probabilities sum to %.17g", t, sum);
        assert_int_equal(cs_synth_filter_observe(f, x[t], &lp), CS_OK);
        assert_true(fabs(exp(lp) - probs[x[t]]) <= 1e-12 * probs[x[t]]);
    }
    cs_synth_filter_free(f);
    free(probs);
    cs_synth_free(s);
}

// ---- the floor -------------------------------------------------------------------------------

static double log_beta(double a, double b)
{
    return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* Exact expected loss of the Pólya urn (theta ~ Dirichlet(alpha b), tokens i.i.d.) at 1-based
 * position pos, t = pos - 1 tokens before it. By exchangeability x_t = v with probability b_v,
 * and given that, the count k of v among the other t tokens is Beta-binomial(t, alpha b_v + 1,
 * alpha (1 - b_v)); the loss is -ln((k + alpha b_v) / (t + alpha)). */
static double urn_expected_loss(const double *base, size_t V, double alpha, size_t pos)
{
    size_t t = pos - 1;
    double e = 0.0;
    size_t v;
    size_t k;

    for (v = 0; v < V; v++) {
        double a = alpha * base[v] + 1.0;
        double bb = alpha * (1.0 - base[v]);
        for (k = 0; k <= t; k++) {
            double lpmf = lgamma((double)t + 1) - lgamma((double)k + 1) -
                          lgamma((double)(t - k) + 1) + log_beta(k + a, (double)(t - k) + bb) -
                          log_beta(a, bb);
            e -= base[v] * exp(lpmf) * log(((double)k + alpha * base[v]) / ((double)t + alpha));
        }
    }
    return e;
}

/* Pure Dirichlet-categorical: the Monte Carlo floor agrees with the analytic expected loss, with
 * both estimators, within 4 standard errors; the entropy estimator has the smaller error. */
static void test_floor_vs_analytic_urn(void **state)
{
    cs_synth_params p = cs_synth_default_params();
    const size_t pos[] = {1, 2, 5, 17, 64};
    cs_synth_floor *fs = NULL;
    cs_synth_floor *fe = NULL;
    cs_synth_floor *fm = NULL;
    cs_synth *s;
    size_t i;

    (void)state;
    p.vocab = 16;
    p.alpha = 4.0;
    p.markov = 0.0;
    p.copy_rate = 0.0;
    s = make(&p);
    assert_int_equal(cs_synth_floor_compute(s, 64, 4000, CS_SYNTH_STREAM_FLOOR,
                                            CS_SYNTH_EST_SAMPLE, NULL, 0, &fs), CS_OK);
    assert_int_equal(cs_synth_floor_compute(s, 64, 4000, CS_SYNTH_STREAM_FLOOR,
                                            CS_SYNTH_EST_ENTROPY, NULL, 0, &fe), CS_OK);
    /* the first CS_SYNTH_MIXED_POSITIONS positions of the mixed estimator are the entropy one */
    assert_int_equal(cs_synth_floor_compute(s, 64, 4000, CS_SYNTH_STREAM_FLOOR,
                                            CS_SYNTH_EST_MIXED, NULL, 0, &fm), CS_OK);
    assert_memory_equal(fm->mean, fe->mean, 64 * sizeof *fm->mean);
    for (i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        double want = urn_expected_loss(cs_synth_base(s), p.vocab, p.alpha, pos[i]);
        size_t j = pos[i] - 1;
        if (fabs(fs->mean[j] - want) > 4.0 * fs->se[j] + 1e-12)
            fail_msg("position %zu: sampled floor %.5f +- %.5f, analytic %.5f", pos[i],
                     fs->mean[j], fs->se[j], want);
        if (fabs(fe->mean[j] - want) > 4.0 * fe->se[j] + 1e-12)
            fail_msg("position %zu: entropy floor %.5f +- %.5f, analytic %.5f", pos[i],
                     fe->mean[j], fe->se[j], want);
        if (pos[i] > 1)
            assert_true(fe->se[j] < fs->se[j]);
    }
    /* position 1 is the base entropy exactly, and later positions are lower: context helps */
    assert_true(fabs(fe->mean[0] - urn_expected_loss(cs_synth_base(s), p.vocab, p.alpha, 1)) <
                1e-12);
    assert_true(urn_expected_loss(cs_synth_base(s), p.vocab, p.alpha, 64) <
                urn_expected_loss(cs_synth_base(s), p.vocab, p.alpha, 8));
    cs_synth_floor_free(fs);
    cs_synth_floor_free(fe);
    cs_synth_floor_free(fm);
    cs_synth_free(s);
}

static cs_synth_params full_params(void)
{
    cs_synth_params p = cs_synth_default_params();

    p.vocab = 256;
    p.alpha = 64.0;
    p.seed = 11;
    return p;
}

/* Per-document mean loss of predictor s_pred on document `stream` of process s_gen. */
static double doc_loss(const cs_synth *s_gen, const cs_synth *s_pred, uint64_t stream,
                       uint32_t *x, double *lp, size_t len)
{
    double sum = 0.0;
    size_t t;

    cs_synth_generate(s_gen, stream, x, len);
    assert_int_equal(cs_synth_logprob(s_pred, x, len, lp), CS_OK);
    for (t = 0; t < len; t++)
        sum -= lp[t];
    return sum / (double)len;
}

/* The full process: the floor (held-out streams) matches the optimal predictor's average loss on
 * freshly simulated training-stream documents, bin by bin, within the combined standard errors;
 * the binned values agree with the per-position ones. */
static void test_floor_vs_fresh_simulation(void **state)
{
    cs_synth_params p = full_params();
    const int64_t edges[] = {1, 2, 3, 5, 9, 17, 33, 65, 129, 257, 513};
    enum { LEN = 512, NB = 10, M = 200 };
    double sum[NB] = {0}, sum2[NB] = {0};
    cs_synth_floor *fl = NULL;
    uint32_t x[LEN];
    double lp[LEN];
    cs_synth *s = make(&p);
    size_t d, b;

    (void)state;
    assert_int_equal(cs_synth_floor_compute(s, LEN, M, CS_SYNTH_STREAM_FLOOR, CS_SYNTH_EST_MIXED,
                                            edges, NB, &fl), CS_OK);
    assert_int_equal(fl->n_bins, NB);
    for (d = 0; d < M; d++) {
        doc_loss(s, s, d, x, lp, LEN);
        for (b = 0; b < NB; b++) {
            double m = 0.0;
            int64_t i;
            for (i = edges[b]; i < edges[b + 1]; i++)
                m -= lp[i - 1];
            m /= (double)(edges[b + 1] - edges[b]);
            sum[b] += m;
            sum2[b] += m * m;
        }
    }
    for (b = 0; b < NB; b++) {
        double mean = sum[b] / M;
        double se = sqrt((sum2[b] / M - mean * mean) / (M - 1));
        double tol = 4.0 * sqrt(se * se + fl->bin_se[b] * fl->bin_se[b]);
        double pm = 0.0;
        int64_t i;
        if (fabs(mean - fl->bin_mean[b]) > tol)
            fail_msg("bin %zu: simulated %.4f +- %.4f, floor %.4f +- %.4f", b, mean, se,
                     fl->bin_mean[b], fl->bin_se[b]);
        for (i = edges[b]; i < edges[b + 1]; i++)
            pm += fl->mean[i - 1];
        assert_true(fabs(pm / (double)(edges[b + 1] - edges[b]) - fl->bin_mean[b]) < 1e-9);
    }
    /* long context helps: position 1 is the base entropy, the last bins are far lower */
    assert_true(fl->bin_mean[NB - 1] + 4.0 * fl->bin_se[NB - 1] < fl->bin_mean[4]);
    assert_true(fl->bin_mean[4] + 4.0 * fl->bin_se[4] < fl->bin_mean[0]);
    cs_synth_floor_free(fl);
    cs_synth_free(s);
}

/* A wrong but normalised predictor has E[-ln q(x_t)] != E[H(q)], the right one has them equal:
 * on the same documents, the sampled loss and the predictive entropy agree (paired). */
static void test_sample_matches_entropy(void **state)
{
    cs_synth_params p = full_params();
    enum { LEN = 256, M = 150 };
    cs_synth *s = make(&p);
    cs_synth_filter *f = cs_synth_filter_alloc(s, LEN);
    double *probs = malloc(p.vocab * sizeof *probs);
    double sum = 0.0, sum2 = 0.0;
    uint32_t x[LEN];
    size_t d, t, v;

    (void)state;
    assert_non_null(f);
    assert_non_null(probs);
    for (d = 0; d < M; d++) {
        double diff = 0.0;
        cs_synth_generate(s, 1000 + d, x, LEN);
        cs_synth_filter_reset(f);
        for (t = 0; t < LEN; t++) {
            double lp;
            cs_synth_filter_dist(f, probs);
            for (v = 0; v < p.vocab; v++)
                diff += probs[v] * log(probs[v]);
            assert_int_equal(cs_synth_filter_observe(f, x[t], &lp), CS_OK);
            diff -= lp;
        }
        diff /= LEN;
        sum += diff;
        sum2 += diff * diff;
    }
    {
        double mean = sum / M;
        double se = sqrt((sum2 / M - mean * mean) / (M - 1));
        if (fabs(mean) > 4.0 * se)
            fail_msg("sampled loss - entropy = %.5f +- %.5f", mean, se);
    }
    cs_synth_filter_free(f);
    free(probs);
    cs_synth_free(s);
}

/* Simpler predictors do worse on the same documents, by many paired standard errors: ignoring
 * copies, ignoring the document (urn at alpha -> infinity) and the base unigram. */
static void test_alternatives_worse(void **state)
{
    cs_synth_params p = full_params();
    cs_synth_params p_nocopy = p;
    cs_synth_params p_nodoc = p;
    enum { LEN = 512, M = 60 };
    cs_synth *s = make(&p);
    cs_synth *alt[2];
    const double *base = cs_synth_base(s);
    double diff[3][M];
    uint32_t x[LEN];
    double lp[LEN];
    size_t d, a, t;

    (void)state;
    p_nocopy.copy_rate = 0.0;
    p_nodoc.alpha = 1e12;
    alt[0] = make(&p_nocopy);
    alt[1] = make(&p_nodoc);
    for (d = 0; d < M; d++) {
        double opt = doc_loss(s, s, d, x, lp, LEN);
        double uni = 0.0;
        for (a = 0; a < 2; a++)
            diff[a][d] = doc_loss(s, alt[a], d, x, lp, LEN) - opt;
        for (t = 0; t < LEN; t++)
            uni -= log(base[x[t]]);
        diff[2][d] = uni / LEN - opt;
    }
    for (a = 0; a < 3; a++) {
        double m = 0.0, m2 = 0.0, se;
        for (d = 0; d < M; d++) {
            m += diff[a][d] / M;
            m2 += diff[a][d] * diff[a][d] / M;
        }
        se = sqrt((m2 - m * m) / (M - 1));
        if (!(m > 4.0 * se && m > 0.01))
            fail_msg("alternative %zu: loss above the optimum by %.4f +- %.4f", a, m, se);
    }
    cs_synth_free(alt[0]);
    cs_synth_free(alt[1]);
    cs_synth_free(s);
}

// ---- determinism and bad input ---------------------------------------------------------------

static uint64_t fnv(const uint32_t *x, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ x[i]) * UINT64_C(0x100000001b3);
    return h;
}

static void test_determinism(void **state)
{
    cs_synth_params p = cs_synth_default_params();
    cs_synth_params q = p;
    enum { LEN = 3000 };
    static uint32_t a[LEN], b[LEN], c[LEN];
    cs_synth *s1 = make(&p);
    cs_synth *s2 = make(&p);
    cs_synth *s3;
    size_t t, same = 0;

    (void)state;
    q.seed = 2;
    s3 = make(&q);
    cs_synth_generate(s1, 17, a, LEN);
    cs_synth_generate(s2, 17, b, LEN);
    assert_memory_equal(a, b, sizeof a);
    cs_synth_generate(s1, 17, c, 100); /* a shorter document is a prefix */
    assert_memory_equal(a, c, 100 * sizeof *c);
    cs_synth_generate(s1, 18, c, LEN);
    for (t = 0; t < LEN; t++)
        same += a[t] == c[t];
    assert_true(same < LEN / 2);
    cs_synth_generate(s3, 17, c, LEN);
    assert_true(memcmp(a, c, sizeof a) != 0);
    for (t = 0; t < LEN; t++)
        assert_true(a[t] < p.vocab);
    /* the process itself is pinned: changing it changes every data set made with it */
    cs_synth_generate(s1, 0, c, LEN);
    assert_true(fnv(c, LEN) == UINT64_C(0x11d607f7ecd4e173));
    cs_synth_free(s1);
    cs_synth_free(s2);
    cs_synth_free(s3);
}

static void expect_bad(cs_synth_params p, const char *needle)
{
    cs_synth *s = NULL;

    assert_int_equal(cs_synth_create(&p, &s), CS_EINPUT);
    assert_null(s);
    tu_assert_errmsg_has(needle);
}

static void test_bad_input(void **state)
{
    cs_synth_params p = cs_synth_default_params();
    cs_synth_params q;
    const int64_t bad_first[] = {0, 5, 9};
    const int64_t bad_order[] = {1, 5, 5};
    const int64_t bad_last[] = {1, 5, 10};
    cs_synth_floor *fl = NULL;
    cs_synth_filter *f;
    uint32_t x[4] = {0, 1, 2, 3};
    double lp[4];
    cs_synth *s;

    (void)state;
    q = p, q.vocab = 1, expect_bad(q, "vocab: expected 2 <= V");
    q = p, q.vocab = 0, expect_bad(q, "vocab");
    q = p, q.alpha = 0.0, expect_bad(q, "alpha");
    q = p, q.alpha = NAN, expect_bad(q, "alpha");
    q = p, q.alpha = 1e-4, expect_bad(q, "alpha");
    q = p, q.zipf = -1.0, expect_bad(q, "zipf");
    q = p, q.markov = 1.0, expect_bad(q, "markov");
    q = p, q.markov = NAN, expect_bad(q, "markov");
    q = p, q.markov_k = 0, expect_bad(q, "markov_k");
    q = p, q.copy_rate = 1.0, expect_bad(q, "copy_rate");
    q = p, q.copy_rate = -0.1, expect_bad(q, "copy_rate");
    q = p, q.copy_len = 0.5, expect_bad(q, "copy_len");
    q = p, q.copy_len = INFINITY, expect_bad(q, "copy_len");
    q = p, q.copy_len = 2e9, expect_bad(q, "copy_len");
    p.vocab = 3;
    s = make(&p);
    assert_int_equal(cs_synth_floor_compute(s, 0, 10, 0, CS_SYNTH_EST_SAMPLE, NULL, 0, &fl),
                     CS_EINPUT);
    tu_assert_errmsg_has("document length");
    assert_int_equal(cs_synth_floor_compute(s, 8, 1, 0, CS_SYNTH_EST_SAMPLE, NULL, 0, &fl),
                     CS_EINPUT);
    assert_int_equal(cs_synth_floor_compute(s, 8, 4, 0, CS_SYNTH_EST_SAMPLE, bad_first, 2, &fl),
                     CS_EINPUT);
    tu_assert_errmsg_has("first edge");
    assert_int_equal(cs_synth_floor_compute(s, 8, 4, 0, CS_SYNTH_EST_SAMPLE, bad_order, 2, &fl),
                     CS_EINPUT);
    tu_assert_errmsg_has("increasing");
    assert_int_equal(cs_synth_floor_compute(s, 8, 4, 0, CS_SYNTH_EST_SAMPLE, bad_last, 2, &fl),
                     CS_EINPUT);
    tu_assert_errmsg_has("last edge");
    assert_null(fl);
    assert_int_equal(cs_synth_logprob(s, x, 4, lp), CS_EINPUT);
    tu_assert_errmsg_has("token 3 at position 3 is outside the vocabulary of 3");
    f = cs_synth_filter_alloc(s, 1);
    assert_non_null(f);
    assert_int_equal(cs_synth_filter_observe(f, 3, NULL), CS_EINPUT);
    assert_int_equal(cs_synth_filter_pos(f), 0); /* a refused token leaves the state alone */
    assert_int_equal(cs_synth_filter_observe(f, 0, NULL), CS_OK);
    assert_int_equal(cs_synth_filter_observe(f, 0, NULL), CS_EINVAL);
    cs_synth_filter_free(f);
    assert_null(cs_synth_filter_alloc(s, 0));
    {
        cs_synth_estimator e;
        assert_int_equal(cs_synth_estimator_parse("entropy", &e, "--floor-estimator"), CS_OK);
        assert_int_equal(e, CS_SYNTH_EST_ENTROPY);
        assert_int_equal(cs_synth_estimator_parse("mixed", &e, "--floor-estimator"), CS_OK);
        assert_int_equal(e, CS_SYNTH_EST_MIXED);
        assert_string_equal(cs_synth_estimator_name(e), "mixed");
        assert_int_equal(cs_synth_estimator_parse("exact", &e, "--floor-estimator"), CS_EINPUT);
        tu_assert_errmsg_has("--floor-estimator");
    }
    cs_synth_free(s);
}

// ---- the data set on disk --------------------------------------------------------------------

/* Number of entries in dir other than . and .. */
static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The written data set opens with the token store reader, holds exactly the generated documents
 * in the right splits, and synth.json carries the parameters and the floor. */
static void test_write_store(void **state)
{
    cs_synth_params p = cs_synth_default_params();
    cs_synth_store_params sp = {10, 50, 0.2, false};
    const int64_t edges[] = {1, 2, 5, 51};
    char *tmp = tu_tmpdir();
    char dir[2048];
    cs_synth_floor *fl = NULL;
    cs_store *st = NULL;
    uint32_t want[50], got[50];
    size_t first, count, i;
    json_error_t err;
    json_t *js;
    cs_synth *s;

    (void)state;
    p.vocab = 256;
    s = make(&p);
    snprintf(dir, sizeof dir, "%s/set", tmp);
    assert_int_equal(cs_synth_floor_compute(s, 50, 20, CS_SYNTH_STREAM_FLOOR,
                                            CS_SYNTH_EST_SAMPLE, edges, 3, &fl), CS_OK);
    assert_int_equal(cs_synth_write_store(s, dir, &sp, fl), CS_OK);
    assert_int_equal(cs_store_open(dir, &st), CS_OK);
    assert_int_equal(cs_store_vocab(st), 256);
    assert_int_equal(cs_store_token_bytes(st), 2);
    assert_int_equal(cs_store_n_docs(st), 10);
    assert_int_equal(cs_store_split_range(st, CS_STORE_VAL, &first, &count), CS_OK);
    assert_int_equal(first, 8);
    assert_int_equal(count, 2);
    for (i = 0; i < 10; i++) {
        uint64_t stream = i < 8 ? i : CS_SYNTH_STREAM_VAL + (i - 8);
        cs_synth_generate(s, stream, want, 50);
        assert_int_equal(cs_store_read(st, i, 0, 50, got), CS_OK);
        assert_memory_equal(want, got, sizeof want);
        assert_true(cs_store_doc_at(st, i)->corpus_doc == stream);
    }
    assert_int_equal(cs_store_check_ids(st), CS_OK);
    cs_store_close(st);
    js = json_load_file(tu_path(dir, "synth.json"), 0, &err);
    assert_non_null(js);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(js, "params"), "vocab")),
                     256);
    assert_int_equal(json_array_size(json_object_get(json_object_get(js, "floor"), "mean")), 50);
    assert_true(json_real_value(json_array_get(
                    json_object_get(json_object_get(json_object_get(js, "floor"), "bins"),
                                    "mean"), 2)) == fl->bin_mean[2]);
    json_decref(js);

    /* an existing data set is kept without force and replaced with it */
    sp.n_docs = 12;
    assert_int_equal(cs_synth_write_store(s, dir, &sp, NULL), CS_EINPUT);
    tu_assert_errmsg_has("exists; use --force");
    sp.force = true;
    assert_int_equal(cs_synth_write_store(s, dir, &sp, NULL), CS_OK);
    assert_int_equal(cs_store_open(dir, &st), CS_OK);
    assert_int_equal(cs_store_n_docs(st), 12);
    assert_int_equal(cs_store_read(st, 3, 0, 50, got), CS_OK);
    cs_synth_generate(s, 3, want, 50); /* more documents extend, not reshuffle */
    assert_memory_equal(want, got, sizeof want);
    cs_store_close(st);
    /* bad parameters and a directory that is not a store: nothing written or touched */
    sp.val_frac = 1.0;
    assert_int_equal(cs_synth_write_store(s, dir, &sp, NULL), CS_EINPUT);
    tu_assert_errmsg_has("val-frac");
    sp.val_frac = 0.0, sp.doc_len = 0;
    assert_int_equal(cs_synth_write_store(s, dir, &sp, NULL), CS_EINPUT);
    sp.doc_len = 50;
    assert_int_equal(cs_synth_write_store(s, tmp, &sp, NULL), CS_EINPUT);
    tu_assert_errmsg_has("not a token store");
    assert_int_equal(dir_entries(tmp), 1);
    assert_int_equal(dir_entries(dir), 4);
    cs_synth_floor_free(fl);
    cs_synth_free(s);
    {
        const char *names[] = {"tokens.bin", "docs.bin", "store.json", "synth.json"};
        for (i = 0; i < 4; i++)
            unlink(tu_path(dir, names[i]));
        rmdir(dir);
        rmdir(tmp);
    }
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_predictor_vs_brute_force),
        cmocka_unit_test(test_generator_vs_exact),
        cmocka_unit_test(test_dist_sums_to_one),
        cmocka_unit_test(test_floor_vs_analytic_urn),
        cmocka_unit_test(test_floor_vs_fresh_simulation),
        cmocka_unit_test(test_sample_matches_entropy),
        cmocka_unit_test(test_alternatives_worse),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_write_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
