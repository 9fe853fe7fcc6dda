/* tests/helpers/synth_sweep.h: synthetic sweeps for the tests and the benchmark of the
 * context-scaling analysis (header-only, static functions): run logs whose losses follow a known
 * ndt-style law, so that the optimal context per budget is known exactly.
 *
 * Law (per position t of the context, nats/token):
 *     l(t) = E + A/N^alpha + B/D^beta + G/t^gamma,
 * the best-context loss of a run with context T is l(T) and its average loss over positions
 * 1..T is E + A/N^alpha + B/D^beta + G mean_{t<=T} t^-gamma. Models have d_model = aspect *
 * n_layer and the Kaplan FLOPs per token 6N + 6 n_layer T d_model (core/flops.h). Each run is
 * trained to a FLOPs budget C; its trajectory has `nevals` rows log-spaced in compute from
 * C / span to C, each an independent draw from the law plus Gaussian noise (the trajectory is
 * the law itself, as if every row were a run trained to that compute).
 *
 * The truth: per model size, the optimal context at budget C is the root in u = ln T of
 *     d/du [B (C / (a + b T))^-beta + G T^-gamma] = 0,   a = 6N, b = 6 n_layer d_model,
 * found by bisection (ss_opt_T); jointly over N (shape family) and T by golden section over ln N
 * of the per-size optimum (ss_opt_joint). Used by tests/unit/test_analyze.c,
 * tests/helpers/analyze_synth.c and bench/bench_analyze.c.
 */
#ifndef CS_TESTS_HELPERS_SYNTH_SWEEP_H
#define CS_TESTS_HELPERS_SYNTH_SWEEP_H

#include "core/error.h"
#include "core/flops.h"
#include "core/rng.h"
#include "core/runlog.h"
#include "fit/optimal.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ss_law {
    double E, A, alpha, B, beta, G, gamma;
} ss_law;

/* A law with Chinchilla's exponents whose optimal contexts, for models of 4e5..3e7 parameters
 * and budgets of 1e15..1e18 FLOPs, fall between 300 and 3000 tokens (losses of 3 to 5 nats). */
static inline ss_law ss_default_law(void)
{
    ss_law l = {1.5, 100.0, 0.34, 410.0, 0.28, 6.0, 0.5};
    return l;
}

/* What to leave out of the runs, to test the reports of missing fields. */
enum {
    SS_DROP_N = 1u << 0,         /* config n_params_nonembed, n_layer, d_model */
    SS_DROP_CONTEXT = 1u << 1,   /* config context (and eval/context) */
    SS_DROP_BEST = 1u << 2,      /* eval/loss_val_best and steps/loss_train_best */
    SS_DROP_AVG = 1u << 3,       /* eval/loss_val and steps/loss_train */
    SS_DROP_FLOPS = 1u << 4,     /* flops columns and config flops_per_token */
    SS_DROP_BPT = 1u << 5,       /* config data_bytes_per_token */
    SS_DROP_DATA_NAME = 1u << 6, /* config data_name */
};

typedef struct ss_sweep {
    ss_law law;
    const int64_t *n_layer; /* (nsizes) blocks; d_model = aspect * n_layer */
    size_t nsizes;
    int64_t aspect;          /* d_model / n_layer (n_head = d_model / 16) */
    const int64_t *contexts; /* (ncontexts) T, tokens */
    size_t ncontexts;
    const double *budgets; /* (nbudgets) FLOPs each run is trained to */
    size_t nbudgets;
    size_t nevals;     /* rows per run (>= 2) */
    double span;       /* first row at C / span */
    double noise;      /* sd of Gaussian noise on every loss, nats */
    size_t replicates; /* runs per (size, context, budget), differing in seed */
    uint64_t seed;
    int64_t vocab;
    double bytes_per_token;
    const char *data_name;
    const char *prefix;        /* file-name prefix */
    unsigned drop;             /* SS_DROP_* */
    const char *flops_formula; /* config flops_formula; NULL: the Kaplan formula */
    int status;                /* cs_runlog_status_code of every run */
} ss_sweep;

static inline ss_sweep ss_default_sweep(void)
{
    static const int64_t nl[5] = {2, 3, 4, 6, 8};
    static const int64_t ctx[7] = {64, 128, 256, 512, 1024, 2048, 4096};
    static const double bud[2] = {1e16, 1e17};
    ss_sweep s;

    memset(&s, 0, sizeof s);
    s.law = ss_default_law();
    s.n_layer = nl;
    s.nsizes = 5;
    s.aspect = 64;
    s.contexts = ctx;
    s.ncontexts = 7;
    s.budgets = bud;
    s.nbudgets = 2;
    s.nevals = 40;
    s.span = 100.0;
    s.replicates = 1;
    s.seed = 1;
    s.vocab = 256;
    s.bytes_per_token = 1.0;
    s.data_name = "synthetic-ndt";
    s.prefix = "run";
    s.status = CS_RUNLOG_FINISHED;
    return s;
}

static inline double ss_best(const ss_law *l, double N, double D, double T)
{
    return l->E + l->A * pow(N, -l->alpha) + l->B * pow(D, -l->beta) + l->G * pow(T, -l->gamma);
}

/* Mean of t^-gamma over t = 1..T (T <= 2^24). */
static inline double ss_mean_context_term(double gamma, int64_t T)
{
    double s = 0.0;
    int64_t t;

    for (t = 1; t <= T; t++)
        s += pow((double)t, -gamma);
    return s / (double)T;
}

static inline double ss_avg(const ss_law *l, double N, double D, double mean_term)
{
    return l->E + l->A * pow(N, -l->alpha) + l->B * pow(D, -l->beta) + l->G * mean_term;
}

/* The shape of size k with context T. */
static inline cs_model_shape ss_shape(const ss_sweep *s, size_t k, int64_t T)
{
    cs_model_shape sh;

    sh.n_layer = s->n_layer[k];
    sh.d_model = s->aspect * s->n_layer[k];
    sh.n_head = sh.d_model / 16;
    sh.vocab = s->vocab;
    sh.context = T;
    return sh;
}

/* d/du of the size problem's loss at u = ln T (see the file comment). */
static inline double ss_slope(const ss_law *l, double a, double b, double C, double u)
{
    double T = exp(u);

    return l->beta * l->B * pow(C, -l->beta) * pow(a + b * T, l->beta - 1.0) * b * T -
           l->gamma * l->G * pow(T, -l->gamma);
}

/* The optimal context of a model with FLOPs per token a + b T at budget C (tokens). */
static inline double ss_opt_T(const ss_law *l, double a, double b, double C)
{
    double lo = 0.0, hi = log(1e9);
    int i;

    for (i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2.0;
        if (ss_slope(l, a, b, C, mid) < 0.0)
            lo = mid;
        else
            hi = mid;
    }
    return exp((lo + hi) / 2.0);
}

/* The loss of N (shape family of the aspect) at its optimal context, and that context. */
static inline double ss_joint_loss(const ss_law *l, double aspect, double N, double C, double *T)
{
    double nl, d, a, b;

    cs_optimal_shape(N, aspect, &nl, &d);
    a = 6.0 * N;
    b = 6.0 * nl * d;
    *T = ss_opt_T(l, a, b, C);
    return ss_best(l, N, C / (a + b * *T), *T);
}

/* The joint optimum over N and T at budget C: golden section over ln N in [ln lo, ln hi]. */
static inline void ss_opt_joint(const ss_law *l, double aspect, double C, double lo, double hi,
                                double *N, double *T)
{
    const double g = (sqrt(5.0) - 1.0) / 2.0;
    double a = log(lo), b = log(hi), x1 = b - g * (b - a), x2 = a + g * (b - a), t;
    double f1 = ss_joint_loss(l, aspect, exp(x1), C, &t),
           f2 = ss_joint_loss(l, aspect, exp(x2), C, &t);

    while (b - a > 1e-9) {
        if (f1 <= f2) {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = ss_joint_loss(l, aspect, exp(x1), C, &t);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = ss_joint_loss(l, aspect, exp(x2), C, &t);
        }
    }
    *N = exp((a + b) / 2.0);
    ss_joint_loss(l, aspect, *N, C, T);
}

static inline int ss_config(cs_runlog *rl, const ss_sweep *s, const cs_model_shape *sh,
                            const cs_param_count *pc, double fpt, double C, uint64_t seed)
{
    int st = CS_OK;

    if (!(s->drop & SS_DROP_N)) {
        st = st ? st : cs_runlog_set_int(rl, "n_layer", sh->n_layer);
        st = st ? st : cs_runlog_set_int(rl, "d_model", sh->d_model);
        st = st ? st : cs_runlog_set_int(rl, "n_params_nonembed", pc->non_embedding);
    }
    st = st ? st : cs_runlog_set_int(rl, "n_head", sh->n_head);
    st = st ? st : cs_runlog_set_int(rl, "n_params", pc->total);
    st = st ? st : cs_runlog_set_int(rl, "vocab", sh->vocab);
    if (!(s->drop & SS_DROP_CONTEXT))
        st = st ? st : cs_runlog_set_int(rl, "context", sh->context);
    st = st ? st : cs_runlog_set_int(rl, "tokens_total", (int64_t)(C / fpt));
    st = st ? st : cs_runlog_set_int(rl, "seed", (int64_t)seed);
    if (!(s->drop & SS_DROP_DATA_NAME))
        st = st ? st : cs_runlog_set_str(rl, "data_name", s->data_name);
    if (!(s->drop & SS_DROP_BPT))
        st = st ? st : cs_runlog_set_double(rl, "data_bytes_per_token", s->bytes_per_token);
    if (!(s->drop & SS_DROP_FLOPS)) {
        st = st ? st
                : cs_runlog_set_str(rl, "flops_formula",
                                    s->flops_formula ? s->flops_formula
                                                     : cs_flops_formula(CS_FLOPS_KAPLAN));
        st = st ? st : cs_runlog_set_double(rl, "flops_per_token", fpt);
    }
    return st;
}

/* Appends the rows of one run: nevals evals and as many steps. */
static inline int ss_rows(cs_runlog *rl, const ss_sweep *s, double N, double T, double fpt,
                          double C, cs_rng *rng)
{
    double mean_term = ss_mean_context_term(s->law.gamma, (int64_t)T);
    size_t i;
    int st = CS_OK;

    for (i = 0; i < s->nevals && st == CS_OK; i++) {
        double c = C / s->span * pow(s->span, (double)i / (double)(s->nevals - 1));
        double D = c / fpt;
        double best = ss_best(&s->law, N, D, T) + s->noise * cs_rng_normal(rng);
        double avg = ss_avg(&s->law, N, D, mean_term) + s->noise * cs_rng_normal(rng);
        cs_runlog_eval e = cs_runlog_eval_unknown();
        cs_runlog_step t = cs_runlog_step_unknown();

        e.step = t.step = (int64_t)i + 1;
        e.tokens = t.tokens = (int64_t)llround(D);
        e.flops = t.flops = s->drop & SS_DROP_FLOPS ? NAN : c;
        e.loss_val_best = t.loss_train_best = s->drop & SS_DROP_BEST ? NAN : best;
        e.loss_val = t.loss_train = s->drop & SS_DROP_AVG ? NAN : avg;
        st = cs_runlog_append_step(rl, &t);
        if (st == CS_OK)
            st = cs_runlog_append_eval(rl, &e);
    }
    return st;
}

/* Writes one run log (size k, context T, budget C, replicate rep) into dir. */
static inline int ss_write_run(const char *dir, const ss_sweep *s, size_t k, int64_t T, double C,
                               size_t rep)
{
    cs_model_shape sh = ss_shape(s, k, T);
    cs_runlog_params p = cs_runlog_default_params();
    cs_param_count pc;
    cs_runlog *rl = NULL;
    cs_rng rng;
    double fpt;
    char path[4096];
    uint64_t seed = s->seed * 1000003u + ((uint64_t)k * 131u + (uint64_t)T) * 7919u +
                    (uint64_t)llround(log10(C) * 1000.0) * 31u + rep;
    int st;

    if ((st = cs_flops_count_params(&sh, &pc)) ||
        (st = cs_flops_per_token(&sh, CS_FLOPS_KAPLAN, &fpt)))
        return st;
    snprintf(path, sizeof path, "%s/%s-L%lld-d%lld-T%lld-C%.3g-r%zu.h5", dir, s->prefix,
             (long long)sh.n_layer, (long long)sh.d_model, (long long)T, C, rep);
    p.context = s->drop & SS_DROP_CONTEXT ? -1 : T;
    p.force = true;
    if ((st = cs_runlog_create(path, &p, &rl)))
        return st;
    cs_rng_seed(&rng, seed, 0);
    st = ss_config(rl, s, &sh, &pc, fpt, C, seed);
    if (st == CS_OK)
        st = ss_rows(rl, s, (double)pc.non_embedding, (double)T, fpt, C, &rng);
    if (st == CS_OK)
        st = cs_runlog_set_status(rl, s->status, "synthetic");
    if (st) {
        cs_runlog_abort(rl);
        return st;
    }
    return cs_runlog_close(rl);
}

/* Writes every run of the sweep into dir (which must exist). */
static inline int ss_write_sweep(const char *dir, const ss_sweep *s)
{
    size_t k, t, b, r;
    int st = CS_OK;

    for (b = 0; b < s->nbudgets; b++)
        for (k = 0; k < s->nsizes; k++)
            for (t = 0; t < s->ncontexts; t++)
                for (r = 0; r < s->replicates && st == CS_OK; r++)
                    st = ss_write_run(dir, s, k, s->contexts[t], s->budgets[b], r);
    return st;
}

#endif /* CS_TESTS_HELPERS_SYNTH_SWEEP_H */
