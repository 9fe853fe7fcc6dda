/* cli/data_stats.c: `ctxscale data stats STORE`: tokens, documents and bytes per token of a
 * token store per split and per source, documents with at least T tokens for each context size
 * T, the LongCrawl-style view for an L_max, and a log-binned document-length histogram printed
 * and written as TSV for plotting (figure C3). Reached through the `ctxscale data` dispatcher
 * (cli/data.c). Output columns are described in docs/data.md ("Statistics"). Test:
 * tests/cli/test_data_tokenize.sh.
 */
#include "cli/cli.h"
#include "cli/opt.h"
#include "core/afile.h"
#include "core/error.h"
#include "core/parse.h"
#include "data/sampler.h"
#include "data/store.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONTEXTS 64

enum {
    OPT_CONTEXTS = 256,
    OPT_SPLIT,
    OPT_BINS,
    OPT_LMAX,
};

static const cs_cli_opt stats_opts[] = {
    {"contexts", 'c', required_argument, "T,T,...",
     "context sizes to count documents for (64,128,...,65536)"},
    {"out", 'o', required_argument, "FILE", "write the length histogram as TSV here"},
    {"force", 'f', no_argument, NULL, "replace an existing FILE"},
    {"split", OPT_SPLIT, required_argument, "S", "train, val or all (train)"},
    {"bins", OPT_BINS, required_argument, "K", "histogram bins per doubling of length (4)"},
    {"lmax", OPT_LMAX, required_argument, "L",
     "also count the longdoc view's rows of L + 1 tokens; every T must be <= L"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd stats_cmd = {
    "data stats",
    "STORE [OPTIONS]",
    "Show a token store's tokens, documents, bytes per token and document lengths.",
    stats_opts,
    "Documents \">= T\" have at least T tokens. The histogram's bins are [lo, hi) in tokens,\n"
    "K per doubling, so every power of two is an edge; bin [0, 1) holds empty documents.\n"
    "TSV columns: lo, hi, docs, tokens, docs_frac, tokens_frac (docs/data.md).\n"
    "Example: ctxscale data stats data/pd-books-v4096 --out c3_lengths.tsv\n",
};

typedef struct stats_args {
    const char *store;
    const char *out;
    bool force;
    int split; /* CS_STORE_TRAIN, CS_STORE_VAL or CS_STORE_ALL_SPLITS */
    uint64_t contexts[MAX_CONTEXTS];
    size_t n_contexts;
    bool contexts_given;
    int64_t bins;
    int64_t lmax; /* 0: no view */
} stats_args;

static int parse_contexts(const char *arg, stats_args *a)
{
    const char *p = arg;
    char item[32];

    a->n_contexts = 0;
    a->contexts_given = true;
    while (*p) {
        size_t len = strcspn(p, ",");
        int64_t v = 0;

        if (len == 0 || len >= sizeof item)
            return cs_fail(CS_EINPUT, "--contexts: expected sizes separated by commas, got \"%s\"",
                           arg);
        memcpy(item, p, len);
        item[len] = '\0';
        if (cs_parse_count(item, &v, "--contexts"))
            return CS_EINPUT;
        if (v < 1 || a->n_contexts == MAX_CONTEXTS)
            return cs_fail(CS_EINPUT,
                           "--contexts: expected 1 to %d sizes of at least 1, got \"%s\"",
                           MAX_CONTEXTS, arg);
        a->contexts[a->n_contexts++] = (uint64_t)v;
        p += len + (p[len] == ',');
    }
    return a->n_contexts ? CS_OK : cs_fail(CS_EINPUT, "--contexts: no sizes given");
}

static int take_opt(int c, const char *arg, stats_args *a)
{
    switch (c) {
    case 'c': return parse_contexts(arg, a);
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case OPT_SPLIT:
        if (strcmp(arg, "all") == 0) {
            a->split = CS_STORE_ALL_SPLITS;
            return CS_OK;
        }
        return cs_store_split_parse(arg, &a->split, "--split");
    case OPT_BINS:
        if (cs_parse_count(arg, &a->bins, "--bins"))
            return CS_EINPUT;
        return a->bins >= 1 && a->bins <= 64 ? CS_OK
                                             : cs_fail(CS_EINPUT, "--bins: expected 1 to 64");
    case OPT_LMAX:
        if (cs_parse_count(arg, &a->lmax, "--lmax"))
            return CS_EINPUT;
        return a->lmax >= 1 ? CS_OK : cs_fail(CS_EINPUT, "--lmax: expected at least 1");
    }
    return CS_OK;
}

/* Drops default contexts above L_max; a given one above it is an error. */
static int check_contexts(stats_args *a)
{
    size_t i;
    size_t k = 0;

    for (i = 0; i < a->n_contexts; i++) {
        if (a->lmax && a->contexts[i] > (uint64_t)a->lmax) {
            if (a->contexts_given)
                return cs_fail(CS_EINPUT, "context T = %" PRIu64 " is larger than L_max = %" PRId64,
                               a->contexts[i], a->lmax);
            continue;
        }
        a->contexts[k++] = a->contexts[i];
    }
    a->n_contexts = k;
    return CS_OK;
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, stats_args *a)
{
    cs_cli_parser ps;
    uint64_t t;
    int c;

    memset(a, 0, sizeof *a);
    a->bins = 4;
    for (t = 64; t <= 65536; t *= 2)
        a->contexts[a->n_contexts++] = t;
    cs_cli_parser_init(&ps, &stats_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        if (c == '?')
            return 2;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(&stats_cmd, stdout);
            return 0;
        }
        if (take_opt(c, optarg, a) != CS_OK)
            return cs_cli_usage_error(&stats_cmd, "%s", cs_errmsg());
    }
    if (optind != argc - 1)
        return cs_cli_usage_error(&stats_cmd, "name exactly one STORE directory");
    a->store = argv[optind];
    if (check_contexts(a) != CS_OK)
        return cs_cli_report(&stats_cmd, CS_EINPUT);
    return -1;
}

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

static void split_totals(const cs_store *s, int split, uint64_t *docs, uint64_t *tokens,
                         uint64_t *bytes)
{
    size_t first = 0;
    size_t count = 0;
    int sp;

    *docs = *tokens = *bytes = 0;
    for (sp = 0; sp < CS_STORE_N_SPLITS; sp++) {
        if (split != CS_STORE_ALL_SPLITS && sp != split)
            continue;
        cs_store_split_range(s, sp, &first, &count);
        *docs += count;
        *tokens += cs_store_split_tokens(s, sp);
        *bytes += cs_store_split_bytes(s, sp);
    }
}

static void print_totals(const cs_store *s)
{
    const char *names[] = {"train", "val", "all"};
    const int splits[] = {CS_STORE_TRAIN, CS_STORE_VAL, CS_STORE_ALL_SPLITS};
    uint64_t d;
    uint64_t t;
    uint64_t b;
    size_t i;

    printf("%s: vocabulary %zu, ids uint%d, %zu sources\n", cs_store_path(s), cs_store_vocab(s),
           8 * cs_store_token_bytes(s), cs_store_n_sources(s));
    printf("  %-6s %10s %15s %15s %12s\n", "split", "docs", "tokens", "bytes", "bytes/token");
    for (i = 0; i < 3; i++) {
        split_totals(s, splits[i], &d, &t, &b);
        printf("  %-6s %10" PRIu64 " %15" PRIu64 " %15" PRIu64 " %12.4f\n", names[i], d, t, b,
               ratio(b, t));
    }
}

static void print_sources(const cs_store *s, int split)
{
    size_t n = cs_store_n_sources(s);
    size_t i;
    size_t k;

    printf("sources (%s):\n  %-24s %10s %15s %12s\n",
           split < 0 ? "all" : cs_store_split_name(split), "source", "docs", "tokens",
           "bytes/token");
    for (k = 0; k < n; k++) {
        uint64_t d = 0;
        uint64_t t = 0;
        uint64_t b = 0;

        for (i = 0; i < cs_store_n_docs(s); i++) {
            const cs_store_doc *doc = cs_store_doc_at(s, i);

            if (doc->source != k || (split >= 0 && doc->split != (uint32_t)split))
                continue;
            d++;
            t += doc->n_tokens;
            b += doc->n_bytes;
        }
        printf("  %-24s %10" PRIu64 " %15" PRIu64 " %12.4f\n", cs_store_source_name(s, k), d, t,
               ratio(b, t));
    }
}

static void print_contexts(const cs_store *s, const stats_args *a)
{
    uint64_t all_d;
    uint64_t all_t;
    uint64_t b;
    size_t i;

    split_totals(s, a->split, &all_d, &all_t, &b);
    printf("documents with at least T tokens:\n  %10s %10s %8s %15s %8s\n", "T", "docs", "docs%",
           "tokens_in_docs", "tokens%");
    for (i = 0; i < a->n_contexts; i++) {
        uint64_t d = 0;
        uint64_t t = 0;

        cs_store_count_at_least(s, a->split, a->contexts[i], &d, &t);
        printf("  %10" PRIu64 " %10" PRIu64 " %8.2f %15" PRIu64 " %8.2f\n", a->contexts[i], d,
               100.0 * ratio(d, all_d), t, 100.0 * ratio(t, all_t));
    }
}

static int print_view(const cs_store *s, const stats_args *a)
{
    int split = a->split == CS_STORE_ALL_SPLITS ? CS_STORE_TRAIN : a->split;
    cs_sampler_view v;
    int st = cs_sampler_view_info(s, split, (size_t)a->lmax, &v);

    if (st)
        return st;
    printf("longdoc view, L_max = %" PRId64 " (%s): %" PRIu64 " rows of %" PRId64
           " tokens from %" PRIu64 " documents: %" PRIu64 " tokens, %.2f%% of the split; "
           "longest document %" PRIu64 " tokens\n",
           a->lmax, cs_store_split_name(split), v.rows, a->lmax + 1, v.docs, v.row_tokens,
           100.0 * ratio(v.row_tokens, v.split_tokens), v.longest);
    return CS_OK;
}

static void print_hist(const cs_store_hist *h, unsigned k)
{
    size_t i;

    printf("document lengths (tokens, %u bins per doubling; empty bins left out):\n"
           "  %12s %12s %10s %15s\n",
           k, "lo", "hi", "docs", "tokens");
    for (i = 0; i < h->n_bins; i++)
        if (h->docs[i])
            printf("  %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %15" PRIu64 "\n", h->lo[i],
                   h->hi[i], h->docs[i], h->tokens[i]);
}

static void write_hist(FILE *f, const cs_store_hist *h, uint64_t docs, uint64_t tokens)
{
    size_t i;

    fprintf(f, "lo\thi\tdocs\ttokens\tdocs_frac\ttokens_frac\n");
    for (i = 0; i < h->n_bins; i++)
        fprintf(f, "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%.17g\t%.17g\n", h->lo[i],
                h->hi[i], h->docs[i], h->tokens[i], ratio(h->docs[i], docs),
                ratio(h->tokens[i], tokens));
}

/* Prints everything (unless the histogram goes to standard output) and writes the TSV. */
static int report(const cs_store *s, const stats_args *a, const cs_store_hist *h, cs_afile *af)
{
    bool human = !(a->out && strcmp(a->out, "-") == 0);
    uint64_t d = 0;
    uint64_t t = 0;
    uint64_t b = 0;
    int st = CS_OK;

    split_totals(s, a->split, &d, &t, &b);
    if (human) {
        print_totals(s);
        print_sources(s, a->split);
        print_contexts(s, a);
        if (a->lmax)
            st = print_view(s, a);
        print_hist(h, (unsigned)a->bins);
    }
    if (st == CS_OK && af)
        write_hist(cs_afile_stream(af), h, d, t);
    return st;
}

static int run(const stats_args *a)
{
    cs_store *s = NULL;
    cs_afile *af = NULL;
    cs_store_hist h;
    cs_sampler_view v;
    int view_split = a->split == CS_STORE_ALL_SPLITS ? CS_STORE_TRAIN : a->split;
    int st = cs_store_open(a->store, &s);

    memset(&h, 0, sizeof h);
    if (st == CS_OK && a->lmax) /* fail before writing anything */
        st = cs_sampler_view_info(s, view_split, (size_t)a->lmax, &v);
    if (st == CS_OK)
        st = cs_store_length_hist(s, a->split, (unsigned)a->bins, &h);
    if (st == CS_OK && a->out)
        st = cs_afile_open(a->out, a->force, &af);
    if (st == CS_OK)
        st = report(s, a, &h, af);
    if (st == CS_OK && af) {
        st = cs_afile_commit(af);
        af = NULL;
        if (st == CS_OK && strcmp(a->out, "-") != 0)
            printf("histogram written to %s\n", a->out);
    }
    cs_afile_abort(af);
    cs_store_hist_free(&h);
    cs_store_close(s);
    return st;
}

int cs_cli_data_stats(int argc, char **argv)
{
    stats_args a;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    return cs_cli_report(&stats_cmd, run(&a));
}
