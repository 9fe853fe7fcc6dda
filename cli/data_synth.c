/* cli/data_synth.c: `ctxscale data synth` — writes a data set of the synthetic long-range language
 * (data/synth.h) as a token store plus synth.json with the process parameters and the
 * Bayes-optimal loss floor per position and per log-spaced position bin. Reached through the
 * `ctxscale data` dispatcher (cli/data.c). Test: tests/cli/test_data_synth.sh. */
#include "cli/cli.h"
#include "cli/opt.h"
#include "core/error.h"
#include "core/parse.h"
#include "core/runlog.h"
#include "data/synth.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_DOCS = 256,
    OPT_DOC_LEN,
    OPT_VOCAB,
    OPT_SEED,
    OPT_VAL_FRAC,
    OPT_ZIPF,
    OPT_ALPHA,
    OPT_MARKOV,
    OPT_MARKOV_K,
    OPT_COPY_RATE,
    OPT_COPY_LEN,
    OPT_FLOOR_DOCS,
    OPT_FLOOR_EST,
    OPT_BINS,
};

static const cs_cli_opt synth_opts[] = {
    {"out", 'o', required_argument, "DIR", "write the data set (token store) here (required)"},
    {"docs", OPT_DOCS, required_argument, "N", "documents, train and val together (2000)"},
    {"doc-len", OPT_DOC_LEN, required_argument, "L", "tokens per document (4096)"},
    {"vocab", OPT_VOCAB, required_argument, "V", "vocabulary size, >= 2 (1024)"},
    {"seed", OPT_SEED, required_argument, "S", "seed of the documents and bigram table (1)"},
    {"val-frac", OPT_VAL_FRAC, required_argument, "F", "share of documents in val (0.05)"},
    {"zipf", OPT_ZIPF, required_argument, "S", "base distribution exponent, b_v ~ (v+1)^-S (1)"},
    {"alpha", OPT_ALPHA, required_argument, "A", "Dirichlet concentration of a document (256)"},
    {"markov", OPT_MARKOV, required_argument, "P", "share of fresh tokens from the bigrams (0.3)"},
    {"markov-k", OPT_MARKOV_K, required_argument, "K", "bigram successors per token (4)"},
    {"copy-rate", OPT_COPY_RATE, required_argument, "P", "chance a position starts a copy (0.02)"},
    {"copy-len", OPT_COPY_LEN, required_argument, "L", "mean copy span length (16)"},
    {"floor-docs", OPT_FLOOR_DOCS, required_argument, "M",
     "documents simulated for the loss floor; 0: none (1000)"},
    {"floor-estimator", OPT_FLOOR_EST, required_argument, "E",
     "how the floor is estimated: mixed, sample or entropy (mixed)"},
    {"bins-per-octave", OPT_BINS, required_argument, "B",
     "log-spaced position bins of the floor (4, as cs_runlog_bin_edges)"},
    {"force", 'f', no_argument, NULL, "replace an existing data set at DIR"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd synth_cmd = {
    "data synth",
    "--out DIR [OPTIONS]",
    "Generate documents of a synthetic language with document-level latent structure (a Polya\n"
    "urn per document, shared bigrams, copy spans from earlier in the document) and its\n"
    "Bayes-optimal expected loss at every position: the floor of the contextwise loss curve.",
    synth_opts,
    "Train document i is random stream i and val document j is stream 2^61 + j, so a set with\n"
    "more documents extends one with fewer. DIR gets tokens.bin, docs.bin, store.json and\n"
    "synth.json (parameters; floor in nats/token per position and per bin with standard\n"
    "errors, from --floor-docs held-out documents). Floor estimators, all unbiased: sample =\n"
    "-ln p of each simulated token; entropy = entropy of the predictive distribution (less\n"
    "variance, O(V) per position); mixed = entropy at positions 1..256, sample after.\n"
    "The process, the exact predictor and the errors: docs/data.md.\n"
    "Example: ctxscale data synth --docs 2000 --doc-len 4096 --out data/synth\n",
};

typedef struct synth_args {
    const char *out;
    cs_synth_params p;
    cs_synth_store_params sp;
    size_t floor_docs;
    cs_synth_estimator est;
    double bins_per_octave;
} synth_args;

/* A whole count in [lo, hi] (scientific notation allowed, e.g. 2e3). */
static int parse_size(const char *s, size_t lo, size_t hi, size_t *out, const char *what)
{
    int64_t v;
    int st = cs_parse_count(s, &v, what);

    if (st)
        return st;
    if ((uint64_t)v < lo || (uint64_t)v > hi)
        return cs_fail(CS_EINPUT, "%s: expected %zu <= value <= %zu, got %s", what, lo, hi, s);
    *out = (size_t)v;
    return CS_OK;
}

static int take_process_opt(int c, const char *arg, cs_synth_params *p)
{
    int64_t seed;
    int st;

    switch (c) {
    case OPT_VOCAB: return parse_size(arg, 2, CS_SYNTH_MAX_VOCAB, &p->vocab, "--vocab");
    case OPT_SEED:
        if ((st = cs_parse_count(arg, &seed, "--seed")) == CS_OK)
            p->seed = (uint64_t)seed;
        return st;
    case OPT_ZIPF: return cs_parse_double_ex(arg, &p->zipf, CS_PARSE_NONNEGATIVE, "--zipf");
    case OPT_ALPHA: return cs_parse_double_ex(arg, &p->alpha, CS_PARSE_POSITIVE, "--alpha");
    case OPT_MARKOV: return cs_parse_double(arg, &p->markov, "--markov");
    case OPT_MARKOV_K: return parse_size(arg, 1, CS_SYNTH_MAX_MARKOV_K, &p->markov_k, "--markov-k");
    case OPT_COPY_RATE: return cs_parse_double(arg, &p->copy_rate, "--copy-rate");
    case OPT_COPY_LEN: return cs_parse_double(arg, &p->copy_len, "--copy-len");
    }
    return CS_OK;
}

static int take_opt(int c, const char *arg, synth_args *a)
{
    switch (c) {
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->sp.force = true; return CS_OK;
    case OPT_DOCS: return parse_size(arg, 1, SIZE_MAX, &a->sp.n_docs, "--docs");
    case OPT_DOC_LEN: return parse_size(arg, 1, (size_t)1 << 30, &a->sp.doc_len, "--doc-len");
    case OPT_VAL_FRAC: return cs_parse_double(arg, &a->sp.val_frac, "--val-frac");
    case OPT_FLOOR_DOCS: return parse_size(arg, 0, SIZE_MAX, &a->floor_docs, "--floor-docs");
    case OPT_FLOOR_EST: return cs_synth_estimator_parse(arg, &a->est, "--floor-estimator");
    case OPT_BINS:
        return cs_parse_double_ex(arg, &a->bins_per_octave, CS_PARSE_POSITIVE, "--bins-per-octave");
    }
    return take_process_opt(c, arg, &a->p);
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, synth_args *a)
{
    cs_cli_parser ps;
    int c;

    memset(a, 0, sizeof *a);
    a->p = cs_synth_default_params();
    a->sp.n_docs = 2000;
    a->sp.doc_len = 4096;
    a->sp.val_frac = 0.05;
    a->floor_docs = 1000;
    a->est = CS_SYNTH_EST_MIXED;
    a->bins_per_octave = 4.0;
    cs_cli_parser_init(&ps, &synth_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        if (c == '?')
            return 2;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(&synth_cmd, stdout);
            return 0;
        }
        if (take_opt(c, optarg, a) != CS_OK)
            return cs_cli_usage_error(&synth_cmd, "%s", cs_errmsg());
    }
    if (optind != argc)
        return cs_cli_usage_error(&synth_cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->out)
        return cs_cli_usage_error(&synth_cmd, "--out DIR is required");
    if (a->floor_docs == 1)
        return cs_cli_usage_error(&synth_cmd, "--floor-docs: expected 0 (no floor) or at least 2 "
                                              "documents for a standard error");
    return -1;
}

static void print_summary(const synth_args *a, const cs_synth_floor *fl)
{
    size_t n_val = (size_t)round(a->sp.val_frac * (double)a->sp.n_docs);
    size_t b;

    printf("%s: %zu train + %zu val documents of %zu tokens, vocabulary %zu, seed %llu\n", a->out,
           a->sp.n_docs - n_val, n_val, a->sp.doc_len, a->p.vocab, (unsigned long long)a->p.seed);
    if (!fl)
        return;
    printf("Bayes-optimal loss floor (nats/token, %s estimator over %zu documents):\n",
           cs_synth_estimator_name(fl->estimator), fl->n_docs);
    printf("  %-18s %10s %10s\n", "positions", "floor", "s.e.");
    for (b = 0; b < fl->n_bins; b++) {
        char pos[48];
        snprintf(pos, sizeof pos, "%lld..%lld", (long long)fl->bin_edges[b],
                 (long long)fl->bin_edges[b + 1] - 1);
        printf("  %-18s %10.4f %10.4f\n", pos, fl->bin_mean[b], fl->bin_se[b]);
    }
    printf("  %-18s %10.4f %10.4f\n", "all", fl->mean_all, fl->se_all);
}

static int run(synth_args *a)
{
    cs_synth *s = NULL;
    cs_synth_floor *fl = NULL;
    int64_t *edges = NULL;
    size_t n_bins = 0;
    int st;

    if ((st = cs_synth_create(&a->p, &s)) || (st = cs_synth_store_check(a->out, &a->sp)))
        goto out_free;
    if (a->floor_docs > 0) {
        st = cs_runlog_bin_edges((int64_t)a->sp.doc_len, 1, a->bins_per_octave, 0, &edges, &n_bins);
        if (st == CS_OK)
            st = cs_synth_floor_compute(s, a->sp.doc_len, a->floor_docs, CS_SYNTH_STREAM_FLOOR,
                                        a->est, edges, n_bins, &fl);
        if (st)
            goto out_free;
    }
    if ((st = cs_synth_write_store(s, a->out, &a->sp, fl)))
        goto out_free;
    print_summary(a, fl);
out_free:
    free(edges);
    cs_synth_floor_free(fl);
    cs_synth_free(s);
    return st;
}

int cs_cli_data_synth(int argc, char **argv)
{
    synth_args a;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    return cs_cli_report(&synth_cmd, run(&a));
}
