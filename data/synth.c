/* data/synth.c: the synthetic long-range language (data/synth.h): the generator, the exact
 * Bayes-optimal forward filter over the latent copy state, and the Monte Carlo floor. The process
 * and the recursion are written out in docs/data.md ("Synthetic long-range language").
 * Test: tests/unit/test_synth.c (make test).
 */
#include "data/synth.h"

#include "core/error.h"
#include "core/rng.h"
#include "data/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cs_synth {
    cs_synth_params p;
    double gamma;   /* probability a copied token continues its span, 1 - 1/copy_len */
    double *base;   /* (V) base distribution b */
    double *cdf;    /* (V) cumulative b, cdf[V-1] = 1 */
    uint32_t *succ; /* (V, markov_k) bigram successors of each token */
    double *succ_w; /* (markov_k) successor weights ∝ 2^-k, summing to 1 */
};

cs_synth_params cs_synth_default_params(void)
{
    cs_synth_params p = {
        .vocab = 1024,
        .zipf = 1.0,
        .alpha = 256.0,
        .markov = 0.3,
        .markov_k = 4,
        .copy_rate = 0.02,
        .copy_len = 16.0,
        .seed = 1,
    };
    return p;
}

int cs_synth_params_check(const cs_synth_params *p)
{
    if (p->vocab < 2 || p->vocab > CS_SYNTH_MAX_VOCAB)
        return cs_fail(CS_EINPUT, "vocab: expected 2 <= V <= %zu, got %zu", CS_SYNTH_MAX_VOCAB,
                       p->vocab);
    if (!(isfinite(p->zipf) && p->zipf >= 0.0 && p->zipf <= 16.0))
        return cs_fail(CS_EINPUT, "zipf: expected an exponent in [0, 16], got %g", p->zipf);
    if (!(p->alpha >= 1e-3 && p->alpha <= 1e12))
        return cs_fail(CS_EINPUT, "alpha: expected a concentration in [1e-3, 1e12], got %g",
                       p->alpha);
    if (!(p->markov >= 0.0 && p->markov < 1.0))
        return cs_fail(CS_EINPUT, "markov: expected a probability in [0, 1), got %g", p->markov);
    if (p->markov_k < 1 || p->markov_k > CS_SYNTH_MAX_MARKOV_K)
        return cs_fail(CS_EINPUT, "markov_k: expected 1 <= k <= %zu successors, got %zu",
                       CS_SYNTH_MAX_MARKOV_K, p->markov_k);
    if (!(p->copy_rate >= 0.0 && p->copy_rate < 1.0))
        return cs_fail(CS_EINPUT, "copy_rate: expected a probability in [0, 1), got %g",
                       p->copy_rate);
    if (!(p->copy_len >= 1.0 && p->copy_len <= 1e9))
        return cs_fail(CS_EINPUT, "copy_len: expected a mean span length in [1, 1e9], got %g",
                       p->copy_len);
    return CS_OK;
}

/* Index of the first cdf entry > u (u in [0, 1)); the last index when rounding leaves none. */
static uint32_t draw_cdf(const double *cdf, size_t n, double u)
{
    size_t lo = 0;
    size_t hi = n - 1;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (uint32_t)lo;
}

static void build_base(cs_synth *s)
{
    size_t V = s->p.vocab;
    double z = 0.0;
    double c = 0.0;
    size_t v;

    for (v = 0; v < V; v++) {
        s->base[v] = pow((double)(v + 1), -s->p.zipf);
        z += s->base[v];
    }
    for (v = 0; v < V; v++) {
        s->base[v] /= z;
        c += s->base[v];
        s->cdf[v] = c;
    }
    s->cdf[V - 1] = 1.0;
}

/* Successors are drawn from the base distribution, so frequent tokens are frequent successors. */
static void build_table(cs_synth *s)
{
    size_t K = s->p.markov_k;
    size_t n = s->p.vocab * K;
    double z = 0.0;
    cs_rng r;
    size_t i;

    cs_rng_seed(&r, s->p.seed, CS_SYNTH_STREAM_TABLE);
    for (i = 0; i < n; i++)
        s->succ[i] = draw_cdf(s->cdf, s->p.vocab, cs_rng_uniform(&r));
    for (i = 0; i < K; i++) {
        s->succ_w[i] = ldexp(1.0, -(int)i);
        z += s->succ_w[i];
    }
    for (i = 0; i < K; i++)
        s->succ_w[i] /= z;
}

int cs_synth_create(const cs_synth_params *p, cs_synth **out)
{
    cs_synth *s;
    int st;

    *out = NULL;
    if ((st = cs_synth_params_check(p)))
        return st;
    s = calloc(1, sizeof *s);
    if (!s)
        return cs_fail(CS_ENOMEM, "out of memory for the synthetic language");
    s->p = *p;
    s->gamma = 1.0 - 1.0 / p->copy_len;
    s->base = malloc(p->vocab * sizeof *s->base);
    s->cdf = malloc(p->vocab * sizeof *s->cdf);
    s->succ = malloc(p->vocab * p->markov_k * sizeof *s->succ);
    s->succ_w = malloc(p->markov_k * sizeof *s->succ_w);
    if (!s->base || !s->cdf || !s->succ || !s->succ_w) {
        cs_synth_free(s);
        return cs_fail(CS_ENOMEM, "out of memory for the synthetic language (V = %zu)", p->vocab);
    }
    build_base(s);
    build_table(s);
    *out = s;
    return CS_OK;
}

void cs_synth_free(cs_synth *s)
{
    if (!s)
        return;
    free(s->base);
    free(s->cdf);
    free(s->succ);
    free(s->succ_w);
    free(s);
}

const cs_synth_params *cs_synth_get_params(const cs_synth *s)
{
    return &s->p;
}

const double *cs_synth_base(const cs_synth *s)
{
    return s->base;
}

const uint32_t *cs_synth_successors(const cs_synth *s, const double **weights)
{
    if (weights)
        *weights = s->succ_w;
    return s->succ;
}

// ---- generator -------------------------------------------------------------------------------

/* A fresh token at position t (t tokens x[0..t) before it): the bigram part with probability
 * markov (t >= 1), else the urn: an earlier token picked uniformly with probability
 * t / (t + alpha) (that is n_t(v) / t for each v), else a draw from the base. */
static uint32_t draw_fresh(const cs_synth *s, cs_rng *r, const uint32_t *x, size_t t)
{
    double u;

    if (t > 0 && s->p.markov > 0.0 && cs_rng_uniform(r) < s->p.markov) {
        const uint32_t *succ = s->succ + (size_t)x[t - 1] * s->p.markov_k;
        size_t k = 0;
        double c = s->succ_w[0];
        u = cs_rng_uniform(r);
        while (k + 1 < s->p.markov_k && u >= c)
            c += s->succ_w[++k];
        return succ[k];
    }
    u = cs_rng_uniform(r) * ((double)t + s->p.alpha);
    if (u < (double)t)
        return x[(size_t)u];
    return draw_cdf(s->cdf, s->p.vocab, cs_rng_uniform(r));
}

void cs_synth_generate(const cs_synth *s, uint64_t stream, uint32_t *x, size_t len)
{
    bool copying = false;
    size_t src = 0;
    size_t t;
    cs_rng r;

    cs_rng_seed(&r, s->p.seed, stream);
    for (t = 0; t < len; t++) {
        if (copying && cs_rng_uniform(&r) < s->gamma) {
            x[t] = x[++src]; /* the span continues: src + 1 <= t - 1 */
            continue;
        }
        copying = false;
        if (t > 0 && s->p.copy_rate > 0.0 && cs_rng_uniform(&r) < s->p.copy_rate) {
            src = (size_t)cs_rng_below(&r, t);
            copying = true;
            x[t] = x[src];
            continue;
        }
        x[t] = draw_fresh(s, &r, x, t);
    }
}

// ---- the forward filter ----------------------------------------------------------------------

/* Posterior after t observed tokens: w_fresh for "x_{t-1} was fresh" and, for each source s in
 * act (descending), aw = P(x_{t-1} was copied from x_s | x_<t). Sources absent from act have
 * posterior 0 (their token differs from x_{t-1}, or their span could not have reached here). */
struct cs_synth_filter {
    const cs_synth *s;
    size_t cap;       /* largest document length */
    size_t t;         /* tokens observed */
    uint32_t *x;      /* (cap) observed tokens */
    size_t *count;    /* (V) n_t(v) */
    int64_t *last;    /* (V) last position of v, -1 if none */
    int64_t *prev;    /* (cap) previous position of the same token, -1 if none */
    double w_fresh;   /* posterior of "fresh" at t - 1 */
    double w_copy;    /* sum of aw */
    size_t n_act;     /* entries of act, aw */
    int64_t *act;     /* (cap) copy sources with posterior > 0, descending */
    double *aw;       /* (cap) their posteriors */
    int64_t *act_new; /* (cap) scratch for the next act */
    double *aw_new;   /* (cap) scratch for the next aw */
};

cs_synth_filter *cs_synth_filter_alloc(const cs_synth *s, size_t max_len)
{
    size_t V = s->p.vocab;
    cs_synth_filter *f;

    if (max_len < 1) {
        cs_fail(CS_EINVAL, "synthetic language predictor: max_len must be >= 1");
        return NULL;
    }
    f = calloc(1, sizeof *f);
    if (!f)
        goto out_nomem;
    f->s = s;
    f->cap = max_len;
    f->x = malloc(max_len * sizeof *f->x);
    f->count = malloc(V * sizeof *f->count);
    f->last = malloc(V * sizeof *f->last);
    f->prev = malloc(max_len * sizeof *f->prev);
    f->act = malloc(max_len * sizeof *f->act);
    f->aw = malloc(max_len * sizeof *f->aw);
    f->act_new = malloc(max_len * sizeof *f->act_new);
    f->aw_new = malloc(max_len * sizeof *f->aw_new);
    if (!f->x || !f->count || !f->last || !f->prev || !f->act || !f->aw || !f->act_new ||
        !f->aw_new)
        goto out_free_f;
    cs_synth_filter_reset(f);
    return f;
out_free_f:
    cs_synth_filter_free(f);
out_nomem:
    cs_fail(CS_ENOMEM, "out of memory for the synthetic language predictor (%zu tokens)", max_len);
    return NULL;
}

void cs_synth_filter_free(cs_synth_filter *f)
{
    if (!f)
        return;
    free(f->x);
    free(f->count);
    free(f->last);
    free(f->prev);
    free(f->act);
    free(f->aw);
    free(f->act_new);
    free(f->aw_new);
    free(f);
}

void cs_synth_filter_reset(cs_synth_filter *f)
{
    size_t v;

    f->t = 0;
    f->w_fresh = 1.0;
    f->w_copy = 0.0;
    f->n_act = 0;
    memset(f->count, 0, f->s->p.vocab * sizeof *f->count);
    for (v = 0; v < f->s->p.vocab; v++)
        f->last[v] = -1;
}

size_t cs_synth_filter_pos(const cs_synth_filter *f)
{
    return f->t;
}

/* Prior of the state at position t: *pf = P(fresh), *pnew = P(start copying from one given
 * source) for each of the t sources. A continuing span from source s (posterior aw) moves to
 * s + 1 with probability gamma; every other path "chooses" afresh. */
static void state_prior(const cs_synth_filter *f, double *pf, double *pnew)
{
    const cs_synth *s = f->s;
    double choose;

    if (f->t == 0) {
        *pf = 1.0;
        *pnew = 0.0;
        return;
    }
    choose = f->w_fresh + (1.0 - s->gamma) * f->w_copy;
    *pf = choose * (1.0 - s->p.copy_rate);
    *pnew = choose * s->p.copy_rate / (double)f->t;
}

/* p_fresh(v | x_<t): the urn mixed with the bigram part (t >= 1); the base alone at t = 0. */
static double fresh_prob(const cs_synth_filter *f, uint32_t v)
{
    const cs_synth *s = f->s;
    const uint32_t *succ;
    double urn;
    double m = 0.0;
    size_t k;

    if (f->t == 0)
        return s->base[v];
    urn = ((double)f->count[v] + s->p.alpha * s->base[v]) / ((double)f->t + s->p.alpha);
    succ = s->succ + (size_t)f->x[f->t - 1] * s->p.markov_k;
    for (k = 0; k < s->p.markov_k; k++)
        if (succ[k] == v)
            m += s->succ_w[k];
    return s->p.markov * m + (1.0 - s->p.markov) * urn;
}

void cs_synth_filter_dist(const cs_synth_filter *f, double *probs)
{
    const cs_synth *s = f->s;
    size_t V = s->p.vocab;
    double pf;
    double pnew;
    double c;
    size_t i;

    state_prior(f, &pf, &pnew);
    if (f->t == 0) {
        memcpy(probs, s->base, V * sizeof *probs);
        return;
    }
    c = pf * (1.0 - s->p.markov) / ((double)f->t + s->p.alpha);
    for (i = 0; i < V; i++)
        probs[i] = c * ((double)f->count[i] + s->p.alpha * s->base[i]) + pnew * (double)f->count[i];
    for (i = 0; i < s->p.markov_k; i++)
        probs[s->succ[(size_t)f->x[f->t - 1] * s->p.markov_k + i]] +=
            pf * s->p.markov * s->succ_w[i];
    for (i = 0; i < f->n_act; i++)
        probs[f->x[f->act[i] + 1]] += s->gamma * f->aw[i];
}

/* Unnormalised posterior of the copy states at t after seeing x_t = v, into act_new/aw_new
 * (descending, *n entries); returns their sum. Every source s with x_s = v gets pnew (a new span)
 * plus gamma aw(s - 1) when a span from s - 1 was alive. Leaves act/aw untouched. */
static double copy_update(cs_synth_filter *f, uint32_t v, double pnew, size_t *n_out)
{
    double gamma = f->s->gamma;
    double sum = 0.0;
    size_t n = 0;
    size_t i = 0;
    int64_t src;

    if (pnew > 0.0) {
        for (src = f->last[v]; src >= 0; src = f->prev[src]) {
            double w = pnew;
            while (i < f->n_act && f->act[i] >= src)
                i++;
            if (i < f->n_act && f->act[i] == src - 1)
                w += gamma * f->aw[i];
            f->act_new[n] = src;
            f->aw_new[n++] = w;
            sum += w;
        }
    } else {
        for (i = 0; i < f->n_act; i++) {
            double w = gamma * f->aw[i];
            if (f->x[f->act[i] + 1] != v || w <= 0.0)
                continue;
            f->act_new[n] = f->act[i] + 1;
            f->aw_new[n++] = w;
            sum += w;
        }
    }
    *n_out = n;
    return sum;
}

/* Makes the scratch posterior (n entries, unnormalised, total p) the current one. */
static void commit_posterior(cs_synth_filter *f, size_t n, double p_fresh, double p_copy, double p)
{
    int64_t *ta = f->act;
    double *tw = f->aw;
    size_t i;

    for (i = 0; i < n; i++)
        f->aw_new[i] /= p;
    f->act = f->act_new;
    f->aw = f->aw_new;
    f->act_new = ta;
    f->aw_new = tw;
    f->n_act = n;
    f->w_fresh = p_fresh / p;
    f->w_copy = p_copy / p;
}

int cs_synth_filter_observe(cs_synth_filter *f, uint32_t v, double *logp)
{
    double pf;
    double pnew;
    double p_fresh;
    double p_copy;
    double p;
    size_t n;

    if (v >= f->s->p.vocab)
        return cs_fail(CS_EINPUT, "token %u at position %zu is outside the vocabulary of %zu", v,
                       f->t, f->s->p.vocab);
    if (f->t >= f->cap)
        return cs_fail(CS_EINVAL, "synthetic language predictor: document longer than %zu", f->cap);
    state_prior(f, &pf, &pnew);
    p_fresh = pf * fresh_prob(f, v);
    p_copy = copy_update(f, v, pnew, &n);
    p = p_fresh + p_copy;
    /* Mathematically p > 0 (alpha b_v > 0, copy_rate < 1, copy_len finite); only underflow at
     * extreme parameters can make it 0. The posterior is left as it was. */
    if (!(p > 0.0))
        return cs_fail(CS_EINPUT,
                       "token %u at position %zu: probability underflows to 0 under "
                       "these process parameters",
                       v, f->t);
    if (logp)
        *logp = log(p);
    commit_posterior(f, n, p_fresh, p_copy, p);
    f->x[f->t] = v;
    f->count[v]++;
    f->prev[f->t] = f->last[v];
    f->last[v] = (int64_t)f->t;
    f->t++;
    return CS_OK;
}

int cs_synth_logprob(const cs_synth *s, const uint32_t *tokens, size_t len, double *logp)
{
    cs_synth_filter *f;
    size_t t;
    int st = CS_OK;

    if (len == 0)
        return CS_OK;
    f = cs_synth_filter_alloc(s, len);
    if (!f)
        return CS_ENOMEM;
    for (t = 0; t < len && st == CS_OK; t++)
        st = cs_synth_filter_observe(f, tokens[t], &logp[t]);
    cs_synth_filter_free(f);
    return st;
}

// ---- the floor -------------------------------------------------------------------------------

static const char *const estimator_names[] = {"sample", "entropy", "mixed"};

int cs_synth_estimator_parse(const char *name, cs_synth_estimator *out, const char *what)
{
    size_t i;

    for (i = 0; i < sizeof estimator_names / sizeof estimator_names[0]; i++)
        if (strcmp(name, estimator_names[i]) == 0) {
            *out = (cs_synth_estimator)i;
            return CS_OK;
        }
    return cs_fail(CS_EINPUT, "%s: expected \"sample\", \"entropy\" or \"mixed\", got \"%s\"",
                   what ? what : "estimator", name);
}

const char *cs_synth_estimator_name(cs_synth_estimator e)
{
    return (size_t)e < sizeof estimator_names / sizeof estimator_names[0] ? estimator_names[e]
                                                                          : "?";
}

void cs_synth_floor_free(cs_synth_floor *fl)
{
    if (!fl)
        return;
    free(fl->mean);
    free(fl->se);
    free(fl->bin_edges);
    free(fl->bin_mean);
    free(fl->bin_se);
    free(fl);
}

static int check_edges(const int64_t *edges, size_t n_bins, size_t len)
{
    size_t b;

    if (n_bins == 0)
        return CS_OK;
    if (!edges)
        return cs_fail(CS_EINPUT, "bin edges: %zu bins but no edges", n_bins);
    if (edges[0] < 1)
        return cs_fail(CS_EINPUT, "bin edges: expected a first edge >= 1 (1-based), got %lld",
                       (long long)edges[0]);
    for (b = 0; b < n_bins; b++)
        if (edges[b + 1] <= edges[b])
            return cs_fail(CS_EINPUT, "bin edges: expected increasing edges, got %lld after %lld",
                           (long long)edges[b + 1], (long long)edges[b]);
    if ((uint64_t)edges[n_bins] > (uint64_t)len + 1)
        return cs_fail(CS_EINPUT, "bin edges: the last edge %lld is past length %zu + 1",
                       (long long)edges[n_bins], len);
    return CS_OK;
}

/* Accumulators of Welford's running mean and sum of squared deviations, per value. */
typedef struct welford {
    double *mean; /* (n) */
    double *m2;   /* (n) */
} welford;

static void welford_add(welford *w, size_t i, double x, size_t k /* 1-based sample count */)
{
    double d = x - w->mean[i];

    w->mean[i] += d / (double)k;
    w->m2[i] += d * (x - w->mean[i]);
}

static double entropy(const double *p, size_t n)
{
    double h = 0.0;
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] > 0.0)
            h -= p[i] * log(p[i]);
    return h;
}

/* Work space of cs_synth_floor_compute. */
typedef struct floor_work {
    uint32_t *tok;   /* (len) */
    double *loss;    /* (len) this document's losses */
    double *probs;   /* (V) predictive distribution, entropy estimator only */
    double *bin_doc; /* (n_bins + 1) this document's bin averages, then its overall average */
    welford pos;     /* over len positions */
    welford bin;     /* over n_bins + 1 values: the bins, then the overall average */
    cs_synth_filter *f;
} floor_work;

static void floor_work_free(floor_work *w)
{
    free(w->tok);
    free(w->loss);
    free(w->probs);
    free(w->bin_doc);
    free(w->pos.m2);
    free(w->bin.mean);
    free(w->bin.m2);
    cs_synth_filter_free(w->f);
}

/* The per-position means live in fl->mean (owned by the result); everything else is scratch. */
static int floor_work_alloc(floor_work *w, const cs_synth *s, cs_synth_floor *fl)
{
    size_t len = fl->len;
    size_t nb = fl->n_bins + 1;

    memset(w, 0, sizeof *w);
    w->tok = malloc(len * sizeof *w->tok);
    w->loss = malloc(len * sizeof *w->loss);
    w->bin_doc = calloc(nb, sizeof *w->bin_doc);
    w->pos.mean = fl->mean;
    w->pos.m2 = calloc(len, sizeof *w->pos.m2);
    w->bin.mean = calloc(nb, sizeof *w->bin.mean);
    w->bin.m2 = calloc(nb, sizeof *w->bin.m2);
    if (fl->estimator != CS_SYNTH_EST_SAMPLE)
        w->probs = malloc(s->p.vocab * sizeof *w->probs);
    if (!w->tok || !w->loss || !w->bin_doc || !w->pos.m2 || !w->bin.mean || !w->bin.m2 ||
        (fl->estimator != CS_SYNTH_EST_SAMPLE && !w->probs))
        return cs_fail(CS_ENOMEM, "out of memory for the synthetic language floor");
    w->f = cs_synth_filter_alloc(s, len);
    return w->f ? CS_OK : CS_ENOMEM;
}

/* Folds one document's losses into the bin and overall accumulators (k-th document). */
static void floor_add_bins(floor_work *w, const cs_synth_floor *fl, size_t k)
{
    double total = 0.0;
    size_t t;
    size_t b;

    for (t = 0; t < fl->len; t++)
        total += w->loss[t];
    for (b = 0; b < fl->n_bins; b++) {
        double sum = 0.0;
        int64_t i;
        for (i = fl->bin_edges[b]; i < fl->bin_edges[b + 1]; i++)
            sum += w->loss[i - 1];
        w->bin_doc[b] = sum / (double)(fl->bin_edges[b + 1] - fl->bin_edges[b]);
    }
    w->bin_doc[fl->n_bins] = total / (double)fl->len;
    for (b = 0; b <= fl->n_bins; b++)
        welford_add(&w->bin, b, w->bin_doc[b], k);
}

/* One document: generate, run the predictor, and fold its losses into the accumulators. Fails
 * only where cs_synth_filter_observe does (underflow at extreme parameters). */
static int floor_one_doc(floor_work *w, const cs_synth *s, cs_synth_floor *fl, uint64_t stream,
                         size_t k)
{
    size_t t;

    cs_synth_generate(s, stream, w->tok, fl->len);
    cs_synth_filter_reset(w->f);
    for (t = 0; t < fl->len; t++) {
        bool by_entropy = fl->estimator == CS_SYNTH_EST_ENTROPY ||
                          (fl->estimator == CS_SYNTH_EST_MIXED && t < CS_SYNTH_MIXED_POSITIONS);
        double lp = 0.0;
        int st;
        if (by_entropy) {
            cs_synth_filter_dist(w->f, w->probs);
            w->loss[t] = entropy(w->probs, s->p.vocab);
        }
        if ((st = cs_synth_filter_observe(w->f, w->tok[t], &lp)))
            return cs_fail_prefix(st, "floor, document stream %llu", (unsigned long long)stream);
        if (!by_entropy)
            w->loss[t] = -lp;
        welford_add(&w->pos, t, w->loss[t], k);
    }
    floor_add_bins(w, fl, k);
    return CS_OK;
}

static void floor_finish(const floor_work *w, cs_synth_floor *fl)
{
    double m = (double)fl->n_docs;
    size_t i;

    for (i = 0; i < fl->len; i++)
        fl->se[i] = sqrt(w->pos.m2[i] / (m - 1.0) / m);
    for (i = 0; i < fl->n_bins; i++) {
        fl->bin_mean[i] = w->bin.mean[i];
        fl->bin_se[i] = sqrt(w->bin.m2[i] / (m - 1.0) / m);
    }
    fl->mean_all = w->bin.mean[fl->n_bins];
    fl->se_all = sqrt(w->bin.m2[fl->n_bins] / (m - 1.0) / m);
}

static cs_synth_floor *floor_alloc(size_t len, size_t n_docs, cs_synth_estimator est,
                                   const int64_t *edges, size_t n_bins)
{
    cs_synth_floor *fl = calloc(1, sizeof *fl);

    if (!fl)
        return NULL;
    fl->len = len;
    fl->n_docs = n_docs;
    fl->estimator = est;
    fl->n_bins = n_bins;
    fl->mean = calloc(len, sizeof *fl->mean);
    fl->se = calloc(len, sizeof *fl->se);
    fl->bin_edges = malloc((n_bins + 1) * sizeof *fl->bin_edges);
    fl->bin_mean = calloc(n_bins + 1, sizeof *fl->bin_mean);
    fl->bin_se = calloc(n_bins + 1, sizeof *fl->bin_se);
    if (!fl->mean || !fl->se || !fl->bin_edges || !fl->bin_mean || !fl->bin_se) {
        cs_synth_floor_free(fl);
        return NULL;
    }
    if (n_bins > 0)
        memcpy(fl->bin_edges, edges, (n_bins + 1) * sizeof *edges);
    else
        fl->bin_edges[0] = 1;
    return fl;
}

int cs_synth_floor_compute(const cs_synth *s, size_t len, size_t n_docs, uint64_t stream0,
                           cs_synth_estimator est, const int64_t *edges, size_t n_bins,
                           cs_synth_floor **out)
{
    cs_synth_floor *fl;
    floor_work w;
    size_t d;
    int st;

    *out = NULL;
    if (len < 1)
        return cs_fail(CS_EINPUT, "floor: expected a document length >= 1, got %zu", len);
    if (n_docs < 2)
        return cs_fail(CS_EINPUT, "floor: expected at least 2 documents, got %zu", n_docs);
    if ((st = check_edges(edges, n_bins, len)))
        return st;
    fl = floor_alloc(len, n_docs, est, edges, n_bins);
    if (!fl)
        return cs_fail(CS_ENOMEM, "out of memory for the synthetic language floor");
    if ((st = floor_work_alloc(&w, s, fl)))
        goto out_free_work;
    for (d = 0; d < n_docs && st == CS_OK; d++)
        st = floor_one_doc(&w, s, fl, stream0 + d, d + 1);
    if (st)
        goto out_free_work;
    floor_finish(&w, fl);
    *out = fl;
    fl = NULL;
out_free_work:
    floor_work_free(&w);
    cs_synth_floor_free(fl);
    return st;
}

// ---- a data set on disk ----------------------------------------------------------------------
//
// The token store layout of data/store.c (docs/data.md), written directly from token ids:
// docs.bin = 48-byte header ("CSTOKIDX", version, token width, vocab, documents, tokens, sources,
// 0), the source labels (u32 length + bytes), 40-byte records (offset, tokens, bytes, corpus
// document, source, split); tokens.bin = the ids, train documents first; all little-endian.

#define IDX_MAGIC        "CSTOKIDX"
#define IDX_HEADER_BYTES 48
#define IDX_RECORD_BYTES 40
#define SYNTH_SOURCE     "synth"
#define PATH_CAP         4096

static const char *const set_files[] = {"tokens.bin", "docs.bin", "store.json", "synth.json",
                                        "tokenizer.bpe"};

/* A data set being written: sizes of the splits and the temporary directory. */
typedef struct set_writer {
    const cs_synth *s;
    const cs_synth_store_params *p;
    const cs_synth_floor *fl;
    size_t n_train;
    size_t n_val;
    int token_bytes;         /* 2 or 4 */
    char dir[PATH_CAP];      /* final path, trailing slashes removed */
    char tmp[PATH_CAP + 16]; /* "<dir>.tmp.XXXXXX" once created, else "" */
} set_writer;

static void put_u32(uint8_t *p, uint32_t v)
{
    int i;

    for (i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int join(char *buf, const char *dir, const char *name)
{
    if ((size_t)snprintf(buf, PATH_CAP, "%s/%s", dir, name) >= PATH_CAP)
        return cs_fail(CS_EINPUT, "%s/%s: path too long", dir, name);
    return CS_OK;
}

static bool is_set_file(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof set_files / sizeof set_files[0]; i++)
        if (strcmp(name, set_files[i]) == 0)
            return true;
    return false;
}

/* CS_OK when `dir` may be written: absent, or forced and a token store directory (docs.bin and
 * nothing but store files), which is never true of anything else. */
static int check_target(const char *dir, bool force)
{
    struct stat sb;
    struct dirent *e;
    bool has_index = false;
    int st = CS_OK;
    DIR *d;

    if (lstat(dir, &sb) != 0)
        return errno == ENOENT ? CS_OK : cs_fail(CS_EIO, "%s: %s", dir, strerror(errno));
    if (!force)
        return cs_fail(CS_EINPUT, "%s: exists; use --force to replace it", dir);
    if (!S_ISDIR(sb.st_mode) || (d = opendir(dir)) == NULL)
        return cs_fail(CS_EINPUT, "%s: exists and is not a token store; not replacing it", dir);
    while (st == CS_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!is_set_file(e->d_name))
            st =
                cs_fail(CS_EINPUT, "%s: holds \"%s\", so it is not a token store; not replacing it",
                        dir, e->d_name);
        has_index |= strcmp(e->d_name, "docs.bin") == 0;
    }
    closedir(d);
    if (st == CS_OK && !has_index)
        st = cs_fail(CS_EINPUT, "%s: has no docs.bin, so it is not a token store; not replacing it",
                     dir);
    return st;
}

/* Removes the data set files in dir, then dir. */
static void remove_set_dir(const char *dir)
{
    char path[PATH_CAP];
    size_t i;

    for (i = 0; i < sizeof set_files / sizeof set_files[0]; i++)
        if (join(path, dir, set_files[i]) == CS_OK)
            unlink(path);
    rmdir(dir);
}

static int check_store_params(const cs_synth_store_params *p, size_t *n_val)
{
    double v;

    if (p->n_docs < 1)
        return cs_fail(CS_EINPUT, "docs: expected at least 1 document, got %zu", p->n_docs);
    if (p->doc_len < 1)
        return cs_fail(CS_EINPUT, "doc-len: expected at least 1 token, got %zu", p->doc_len);
    if ((double)p->n_docs * (double)p->doc_len > 0x1p50)
        return cs_fail(CS_EINPUT, "docs x doc-len: %zu x %zu tokens is more than 2^50", p->n_docs,
                       p->doc_len);
    if (!(p->val_frac >= 0.0 && p->val_frac < 1.0))
        return cs_fail(CS_EINPUT, "val-frac: expected a fraction in [0, 1), got %g", p->val_frac);
    v = round(p->val_frac * (double)p->n_docs);
    if (v >= (double)p->n_docs)
        return cs_fail(CS_EINPUT, "val-frac: %g of %zu documents leaves no train document",
                       p->val_frac, p->n_docs);
    *n_val = (size_t)v;
    return CS_OK;
}

/* Writes n bytes to path, flushed and synced. */
static int write_whole(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int st = CS_OK;

    if (f == NULL)
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    if (fwrite(data, 1, n, f) != n || fflush(f) != 0 || fsync(fileno(f)) != 0)
        st = cs_fail(CS_EIO, "%s: write failed: %s", path, strerror(errno));
    if (fclose(f) != 0 && st == CS_OK)
        st = cs_fail(CS_EIO, "%s: write failed: %s", path, strerror(errno));
    return st;
}

/* Stream of document i of the data set (train documents first, then val). */
static uint64_t doc_stream(const set_writer *w, size_t i)
{
    return i < w->n_train ? (uint64_t)i : CS_SYNTH_STREAM_VAL + (uint64_t)(i - w->n_train);
}

/* Generates every document into tokens.bin. */
static int write_tokens(const set_writer *w, FILE *f)
{
    size_t L = w->p->doc_len;
    size_t nb = L * (size_t)w->token_bytes;
    uint32_t *tok = malloc(L * sizeof *tok);
    uint8_t *buf = malloc(nb);
    size_t i;
    size_t t;
    int st = CS_OK;

    if (!tok || !buf)
        st = cs_fail(CS_ENOMEM, "out of memory for a document of %zu tokens", L);
    for (i = 0; st == CS_OK && i < w->p->n_docs; i++) {
        cs_synth_generate(w->s, doc_stream(w, i), tok, L);
        for (t = 0; t < L; t++) {
            if (w->token_bytes == 2) {
                buf[2 * t] = (uint8_t)tok[t];
                buf[2 * t + 1] = (uint8_t)(tok[t] >> 8);
            } else {
                put_u32(buf + 4 * t, tok[t]);
            }
        }
        if (fwrite(buf, 1, nb, f) != nb)
            st = cs_fail(CS_EIO, "%s/tokens.bin: write failed: %s", w->tmp, strerror(errno));
    }
    free(tok);
    free(buf);
    return st;
}

static int write_tokens_bin(const set_writer *w)
{
    char path[PATH_CAP];
    FILE *f;
    int st = join(path, w->tmp, "tokens.bin");

    if (st)
        return st;
    f = fopen(path, "wb");
    if (f == NULL)
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    st = write_tokens(w, f);
    if (st == CS_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = cs_fail(CS_EIO, "%s: write failed: %s", path, strerror(errno));
    if (fclose(f) != 0 && st == CS_OK)
        st = cs_fail(CS_EIO, "%s: write failed: %s", path, strerror(errno));
    return st;
}

static int write_index(const set_writer *w)
{
    char path[PATH_CAP];
    size_t n_src = strlen(SYNTH_SOURCE);
    size_t n = IDX_HEADER_BYTES + 4 + n_src + w->p->n_docs * IDX_RECORD_BYTES;
    uint64_t L = w->p->doc_len;
    uint8_t *buf;
    uint8_t *q;
    size_t i;
    int st = join(path, w->tmp, "docs.bin");

    if (st)
        return st;
    buf = calloc(1, n);
    if (buf == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for the document index (%zu bytes)", n);
    memcpy(buf, IDX_MAGIC, 8);
    put_u32(buf + 8, CS_STORE_FORMAT_VERSION);
    put_u32(buf + 12, (uint32_t)w->token_bytes);
    put_u64(buf + 16, w->s->p.vocab);
    put_u64(buf + 24, w->p->n_docs);
    put_u64(buf + 32, w->p->n_docs * L);
    put_u32(buf + 40, 1);
    put_u32(buf + 48, (uint32_t)n_src);
    memcpy(buf + 52, SYNTH_SOURCE, n_src);
    q = buf + 52 + n_src;
    for (i = 0; i < w->p->n_docs; i++, q += IDX_RECORD_BYTES) {
        put_u64(q, i * L);
        put_u64(q + 8, L);
        put_u64(q + 16, L); /* one byte per token */
        put_u64(q + 24, doc_stream(w, i));
        put_u32(q + 32, 0);
        put_u32(q + 36, i < w->n_train ? CS_STORE_TRAIN : CS_STORE_VAL);
    }
    st = write_whole(path, buf, n);
    free(buf);
    return st;
}

static json_t *json_u64(uint64_t v)
{
    return json_integer((json_int_t)v);
}

/* {"docs", "tokens", "bytes"} of a split, plus first_doc and token_offset when `where`. */
static json_t *split_json(const set_writer *w, int split, bool where)
{
    uint64_t L = w->p->doc_len;
    uint64_t n = split == CS_STORE_TRAIN ? w->n_train : w->n_val;
    uint64_t first = split == CS_STORE_TRAIN ? 0 : w->n_train;
    json_t *o = json_pack("{s:o, s:o, s:o}", "docs", json_u64(n), "tokens", json_u64(n * L),
                          "bytes", json_u64(n * L));

    if (o && where) {
        json_object_set_new(o, "first_doc", json_u64(first));
        json_object_set_new(o, "token_offset", json_u64(first * L));
    }
    return o;
}

static json_t *store_json(const set_writer *w)
{
    uint64_t tokens = (uint64_t)w->p->n_docs * w->p->doc_len;

    return json_pack(
        "{s:s, s:i, s:I, s:s, s:i, s:o, s:o, s:o, s:f, s:{s:n, s:s, s:n}, s:{s:s, s:n}, "
        "s:{s:o, s:o}, s:[{s:s, s:i, s:o, s:o}]}",
        "format", "ctxscale-token-store", "version", CS_STORE_FORMAT_VERSION, "vocab",
        (json_int_t)w->s->p.vocab, "token_dtype", w->token_bytes == 2 ? "uint16" : "uint32",
        "token_bytes", w->token_bytes, "docs", json_u64(w->p->n_docs), "tokens", json_u64(tokens),
        "bytes", json_u64(tokens), "bytes_per_token", 1.0, "tokenizer", "file", "kind", "synth",
        "fnv1a64", "corpus", "path", "synth.json", "checksum", "splits", "train",
        split_json(w, CS_STORE_TRAIN, true), "val", split_json(w, CS_STORE_VAL, true), "sources",
        "name", SYNTH_SOURCE, "id", 0, "train", split_json(w, CS_STORE_TRAIN, false), "val",
        split_json(w, CS_STORE_VAL, false));
}

static json_t *doubles_json(const double *x, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a && i < n; i++)
        json_array_append_new(a, isfinite(x[i]) ? json_real(x[i]) : json_null());
    return a;
}

static json_t *floor_json(const cs_synth_floor *fl)
{
    json_t *edges;
    size_t i;

    if (!fl)
        return json_null();
    edges = json_array();
    for (i = 0; edges && fl->n_bins > 0 && i <= fl->n_bins; i++)
        json_array_append_new(edges, json_integer((json_int_t)fl->bin_edges[i]));
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}}", "estimator",
                     cs_synth_estimator_name(fl->estimator), "docs", json_u64(fl->n_docs),
                     "first_stream", json_u64(CS_SYNTH_STREAM_FLOOR), "positions",
                     json_u64(fl->len), "mean_all", json_real(fl->mean_all), "se_all",
                     json_real(fl->se_all), "mean", doubles_json(fl->mean, fl->len), "se",
                     doubles_json(fl->se, fl->len), "bins", "edges", edges, "mean",
                     doubles_json(fl->bin_mean, fl->n_bins), "se",
                     doubles_json(fl->bin_se, fl->n_bins));
}

static double base_entropy(const cs_synth *s)
{
    return entropy(s->base, s->p.vocab);
}

static json_t *synth_json(const set_writer *w)
{
    const cs_synth_params *p = &w->s->p;

    return json_pack(
        "{s:s, s:i, s:s, s:{s:I, s:f, s:f, s:f, s:I, s:f, s:f, s:o}, s:f, s:{s:o, s:o, s:o, "
        "s:o, s:o}, s:s, s:o}",
        "format", "ctxscale-synth", "version", 1, "process",
        "polya-urn + bigram + copy spans (docs/data.md)", "params", "vocab", (json_int_t)p->vocab,
        "zipf", p->zipf, "alpha", p->alpha, "markov", p->markov, "markov_k",
        (json_int_t)p->markov_k, "copy_rate", p->copy_rate, "copy_len", p->copy_len, "seed",
        json_u64(p->seed), "base_entropy", base_entropy(w->s), "docs", "doc_len",
        json_u64(w->p->doc_len), "train", json_u64(w->n_train), "val", json_u64(w->n_val),
        "train_first_stream", json_u64(0), "val_first_stream", json_u64(CS_SYNTH_STREAM_VAL),
        "units", "nats/token; positions are 1-based; bin b = positions [edges[b], edges[b+1])",
        "floor", floor_json(w->fl));
}

/* Writes a JSON document (taking its reference) to tmp/name with a final newline. */
static int write_json(const set_writer *w, const char *name, json_t *doc)
{
    char path[PATH_CAP];
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) : NULL;
    int st;

    json_decref(doc);
    if (text == NULL)
        return cs_fail(CS_ENOMEM, "out of memory building %s", name);
    st = join(path, w->tmp, name);
    if (st == CS_OK) {
        size_t n = strlen(text);
        text[n] = '\n'; /* overwrite the NUL: the file ends with a newline */
        st = write_whole(path, text, n + 1);
    }
    free(text);
    return st;
}

/* Moves the finished temporary directory to w->dir, replacing an old data set when forced. */
static int move_into_place(set_writer *w)
{
    char old[PATH_CAP + 16];
    bool had_old = false;
    int st = check_target(w->dir, w->p->force);

    if (st)
        return st;
    if (access(w->dir, F_OK) == 0) {
        snprintf(old, sizeof old, "%s.old.XXXXXX", w->dir);
        if (mkdtemp(old) == NULL || rmdir(old) != 0 || rename(w->dir, old) != 0)
            return cs_fail(CS_EIO, "%s: cannot move the old data set aside: %s", w->dir,
                           strerror(errno));
        had_old = true;
    }
    if (rename(w->tmp, w->dir) != 0) {
        st = cs_fail(CS_EIO, "%s: rename from %s: %s", w->dir, w->tmp, strerror(errno));
        if (had_old)
            rename(old, w->dir);
        return st;
    }
    w->tmp[0] = '\0';
    if (had_old)
        remove_set_dir(old);
    return CS_OK;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY);
    int r;

    if (fd < 0)
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    r = fsync(fd);
    close(fd);
    if (r != 0 && errno != EINVAL)
        return cs_fail(CS_EIO, "%s: fsync: %s", path, strerror(errno));
    return CS_OK;
}

/* Fills the sizes and the final path of *w from (dir, p) and checks both. */
static int set_writer_check(set_writer *w, const char *dir, const cs_synth_store_params *p)
{
    size_t n = strlen(dir);
    int st;

    memset(w, 0, sizeof *w);
    w->p = p;
    if ((st = check_store_params(p, &w->n_val)))
        return st;
    w->n_train = p->n_docs - w->n_val;
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n == 0 || n + 16 >= PATH_CAP)
        return cs_fail(CS_EINPUT, "out: expected a directory path of 1 to %d bytes", PATH_CAP - 17);
    memcpy(w->dir, dir, n);
    w->dir[n] = '\0';
    return check_target(w->dir, p->force);
}

int cs_synth_store_check(const char *dir, const cs_synth_store_params *p)
{
    set_writer w;

    return set_writer_check(&w, dir, p);
}

int cs_synth_write_store(const cs_synth *s, const char *dir, const cs_synth_store_params *p,
                         const cs_synth_floor *fl)
{
    set_writer w;
    int st = set_writer_check(&w, dir, p);

    if (st)
        return st;
    w.s = s;
    w.fl = fl;
    w.token_bytes = s->p.vocab <= CS_STORE_U16_VOCAB ? 2 : 4;
    snprintf(w.tmp, sizeof w.tmp, "%s.tmp.XXXXXX", w.dir);
    if (mkdtemp(w.tmp) == NULL) {
        st = cs_fail(CS_EIO, "%s: cannot create a temporary directory beside it: %s", w.dir,
                     strerror(errno));
        w.tmp[0] = '\0';
        return st;
    }
    if ((st = write_tokens_bin(&w)) || (st = write_index(&w)) ||
        (st = write_json(&w, "store.json", store_json(&w))) ||
        (st = write_json(&w, "synth.json", synth_json(&w))) || (st = fsync_dir(w.tmp)))
        goto out_remove;
    st = move_into_place(&w);
out_remove:
    if (w.tmp[0])
        remove_set_dir(w.tmp);
    return st;
}
