/* cli/data_tokenize.c: `ctxscale data tokenize CORPUS --out DIR (--vocab V | --tokenizer FILE)`:
 * trains a BPE tokenizer of V tokens on the corpus's train split (or loads one), encodes every
 * document with one tokenizer copy per thread and writes a token store (data/store.h), printing
 * bytes per token per split and the encoding speed. Reached through the `ctxscale data`
 * dispatcher (cli/data.c). The store layout is in docs/data.md. Test:
 * tests/cli/test_data_tokenize.sh.
 */
#include "cli/cli.h"
#include "cli/opt.h"
#include "core/error.h"
#include "core/parse.h"
#include "core/progress.h"
#include "data/corpus.h"
#include "data/store.h"
#include "data/tokenizer.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_BYTES ((uint64_t)64 << 20) /* documents handed to the encoder at once */

enum {
    OPT_VOCAB = 256,
    OPT_TOKENIZER,
    OPT_DTYPE,
    OPT_THREADS,
    OPT_TRAIN_BYTES,
    OPT_MIN_COUNT,
    OPT_ALLOW_FEWER,
};

static const cs_cli_opt tok_opts[] = {
    {"out", 'o', required_argument, "DIR", "write the token store here (required)"},
    {"force", 'f', no_argument, NULL, "replace an existing token store at DIR (only a store)"},
    {"vocab", OPT_VOCAB, required_argument, "V",
     "train BPE of V tokens on the train split (256: bytes); with --tokenizer, its first V"},
    {"tokenizer", OPT_TOKENIZER, required_argument, "FILE", "use this trained tokenizer file"},
    {"dtype", OPT_DTYPE, required_argument, "T",
     "token ids as uint16, uint32 or auto (auto: uint16 when V <= 65536)"},
    {"threads", OPT_THREADS, required_argument, "N", "threads (default: online CPUs, at most 16)"},
    {"train-bytes", OPT_TRAIN_BYTES, required_argument, "N",
     "train on the first N bytes of the train split only (default: all of it)"},
    {"min-count", OPT_MIN_COUNT, required_argument, "N", "merge pairs seen at least N times (2)"},
    {"allow-fewer", OPT_ALLOW_FEWER, no_argument, NULL,
     "accept a smaller vocabulary when the corpus runs out of pairs"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd tok_cmd = {
    "data tokenize",
    "CORPUS --out DIR (--vocab V | --tokenizer FILE) [OPTIONS]",
    "Tokenize a corpus into a token store: ids, document index, tokenizer, summary.",
    tok_opts,
    "BPE training reads the train split's documents joined by a newline (docs/tokenizer.md).\n"
    "DIR gets tokens.bin (train documents, then val), docs.bin, tokenizer.bpe and store.json,\n"
    "written beside it first and renamed into place at the end (docs/data.md).\n"
    "Examples:\n"
    "  ctxscale data tokenize data/pd-books --vocab 4096 --out data/pd-books-v4096\n"
    "  ctxscale data tokenize data/pd-books --tokenizer data/pd-books-v4096/tokenizer.bpe \\\n"
    "      --vocab 1024 --out data/pd-books-v1024\n",
};

typedef struct tok_args {
    const char *corpus;
    const char *out;
    bool force;
    int64_t vocab; /* 0: not given */
    const char *tokenizer;
    int token_bytes; /* 0 auto, 2, 4 */
    int64_t threads;
    int64_t train_bytes; /* 0: all */
    int64_t min_count;
    bool allow_fewer;
} tok_args;

static int take_dtype(const char *arg, tok_args *a)
{
    if (strcmp(arg, "auto") == 0)
        a->token_bytes = 0;
    else if (strcmp(arg, "uint16") == 0)
        a->token_bytes = 2;
    else if (strcmp(arg, "uint32") == 0)
        a->token_bytes = 4;
    else
        return cs_fail(CS_EINPUT, "--dtype: expected uint16, uint32 or auto, got \"%s\"", arg);
    return CS_OK;
}

static int take_opt(int c, const char *arg, tok_args *a)
{
    switch (c) {
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case OPT_VOCAB: return cs_parse_count(arg, &a->vocab, "--vocab");
    case OPT_TOKENIZER: a->tokenizer = arg; return CS_OK;
    case OPT_DTYPE: return take_dtype(arg, a);
    case OPT_THREADS: return cs_parse_count(arg, &a->threads, "--threads");
    case OPT_TRAIN_BYTES: return cs_parse_count(arg, &a->train_bytes, "--train-bytes");
    case OPT_MIN_COUNT: return cs_parse_count(arg, &a->min_count, "--min-count");
    case OPT_ALLOW_FEWER: a->allow_fewer = true; return CS_OK;
    }
    return CS_OK;
}

/* Checks the combination of options; CS_EINPUT with the message for a usage error. */
static int check_args(const tok_args *a)
{
    size_t limit = a->token_bytes == 2 ? CS_STORE_U16_VOCAB : CS_TOK_MAX_VOCAB;

    if (!a->out)
        return cs_fail(CS_EINPUT, "--out DIR is required");
    if (!a->tokenizer && a->vocab == 0)
        return cs_fail(CS_EINPUT, "give --vocab V to train a tokenizer or --tokenizer FILE");
    if (a->vocab != 0 || !a->tokenizer)
        if (cs_tok_check_vocab((size_t)a->vocab, limit, "--vocab"))
            return CS_EINPUT;
    if (a->min_count == 0)
        return cs_fail(CS_EINPUT, "--min-count: expected at least 1");
    return CS_OK;
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, tok_args *a)
{
    cs_cli_parser ps;
    int c;

    memset(a, 0, sizeof *a);
    a->min_count = 2;
    cs_cli_parser_init(&ps, &tok_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        if (c == '?')
            return 2;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(&tok_cmd, stdout);
            return 0;
        }
        if (take_opt(c, optarg, a) != CS_OK)
            return cs_cli_usage_error(&tok_cmd, "%s", cs_errmsg());
    }
    if (optind != argc - 1)
        return cs_cli_usage_error(&tok_cmd, "name exactly one CORPUS directory");
    a->corpus = argv[optind];
    if (check_args(a) != CS_OK)
        return cs_cli_usage_error(&tok_cmd, "%s", cs_errmsg());
    return -1;
}

static double seconds_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The train split's documents joined by '\n' (at most cap bytes when cap > 0). */
static int train_text(const cs_corpus *c, uint64_t cap, uint8_t **out, size_t *n)
{
    size_t count = cs_corpus_count(c);
    uint64_t total = 0;
    cs_corpus_doc d;
    size_t i;

    for (i = 0; i < count && cs_corpus_get(c, i, &d) == CS_OK; i++)
        if (d.split == CS_CORPUS_TRAIN)
            total += d.len + 1;
    if (cap > 0 && total > cap)
        total = cap;
    *n = 0;
    *out = malloc(total ? (size_t)total : 1);
    if (*out == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for %" PRIu64 " bytes of training text", total);
    for (i = 0; i < count && *n < total && cs_corpus_get(c, i, &d) == CS_OK; i++) {
        size_t m = d.len < total - *n ? d.len : (size_t)(total - *n);

        if (d.split != CS_CORPUS_TRAIN)
            continue;
        memcpy(*out + *n, d.bytes, m);
        *n += m;
        if (*n < total)
            (*out)[(*n)++] = '\n';
    }
    return CS_OK;
}

static int train_tokenizer(const tok_args *a, const cs_corpus *c, cs_tok **tok)
{
    cs_bpe_params bp = cs_bpe_default_params();
    cs_bpe *b = NULL;
    uint8_t *text = NULL;
    size_t n = 0;
    double t0 = seconds_now();
    int st = train_text(c, (uint64_t)a->train_bytes, &text, &n);

    bp.vocab = (size_t)a->vocab;
    bp.min_count = (uint64_t)a->min_count;
    bp.allow_fewer = a->allow_fewer;
    bp.n_threads = (size_t)a->threads;
    bp.what = a->corpus;
    if (st == CS_OK)
        st = cs_bpe_train(text, n, &bp, &b);
    free(text);
    if (st)
        return st;
    *tok = cs_tok_alloc_bpe(b, 0);
    cs_bpe_free(b);
    if (*tok == NULL)
        return CS_ENOMEM;
    printf("trained BPE: vocabulary %zu on %zu bytes of the train split in %.2f s\n",
           cs_tok_vocab(*tok), n, seconds_now() - t0);
    return CS_OK;
}

static int get_tokenizer(const tok_args *a, const cs_corpus *c, cs_tok **tok)
{
    if (a->tokenizer)
        return cs_tok_open(a->tokenizer, (size_t)a->vocab, tok);
    if (a->vocab == (int64_t)CS_TOK_BYTE_VOCAB) {
        *tok = cs_tok_alloc_byte();
        return *tok ? CS_OK : CS_ENOMEM;
    }
    return train_tokenizer(a, c, tok);
}

/* Hands the corpus to the writer in batches of about BATCH_BYTES. */
static int encode_corpus(const cs_corpus *c, cs_store_writer *w)
{
    size_t count = cs_corpus_count(c);
    cs_store_input *batch = malloc((count ? count : 1) * sizeof *batch);
    cs_progress_params pp = cs_progress_default_params();
    cs_progress *pg;
    uint64_t bytes = 0;
    uint64_t done = 0;
    size_t k = 0;
    size_t i;
    int st = batch ? CS_OK : cs_fail(CS_ENOMEM, "out of memory for %zu documents", count);

    pp.label = "encode";
    pp.unit = "B";
    pg = cs_progress_alloc(stderr, cs_corpus_bytes(c), &pp);
    for (i = 0; st == CS_OK && i < count; i++) {
        cs_corpus_doc d;

        if ((st = cs_corpus_get(c, i, &d)) != CS_OK)
            break;
        batch[k].bytes = d.bytes;
        batch[k].n = d.len;
        batch[k].source = d.label;
        batch[k].split = d.split == CS_CORPUS_VAL ? CS_STORE_VAL : CS_STORE_TRAIN;
        bytes += d.len;
        k++;
        if (bytes >= BATCH_BYTES || i + 1 == count) {
            st = cs_store_writer_add(w, batch, k);
            done += bytes;
            cs_progress_update(pg, done);
            k = 0;
            bytes = 0;
        }
    }
    if (st == CS_OK)
        cs_progress_finish(pg);
    cs_progress_free(pg);
    free(batch);
    return st;
}

static void print_summary(const char *out, const cs_store_write_stats *ws)
{
    cs_store *s = NULL;
    int sp;

    printf("%s: %" PRIu64 " documents, %" PRIu64 " tokens from %" PRIu64 " bytes "
           "(%.4f bytes/token)\n",
           out, ws->n_docs, ws->n_tokens, ws->n_bytes,
           ws->n_tokens ? (double)ws->n_bytes / (double)ws->n_tokens : 0.0);
    if (cs_store_open(out, &s) == CS_OK) {
        printf("  vocabulary %zu, ids uint%d, tokenizer fnv1a64 %s\n", cs_store_vocab(s),
               8 * cs_store_token_bytes(s), ws->tokenizer_sum);
        for (sp = 0; sp < CS_STORE_N_SPLITS; sp++) {
            size_t first = 0;
            size_t count = 0;
            uint64_t t = cs_store_split_tokens(s, sp);

            cs_store_split_range(s, sp, &first, &count);
            printf("  %-5s %9zu documents %14" PRIu64 " tokens %8.4f bytes/token\n",
                   cs_store_split_name(sp), count, t,
                   t ? (double)cs_store_split_bytes(s, sp) / (double)t : 0.0);
        }
    }
    cs_store_close(s);
    printf("encoded %.1f MB in %.2f s: %.1f MB/s, %zu thread%s\n", (double)ws->n_bytes / 1e6,
           ws->encode_seconds, ws->encode_mb_per_s, ws->n_threads, ws->n_threads == 1 ? "" : "s");
}

static int run(const tok_args *a)
{
    cs_store_write_params wp = cs_store_default_write_params();
    cs_store_write_stats ws;
    cs_store_writer *w = NULL;
    cs_corpus *c = NULL;
    cs_tok *tok = NULL;
    int st = cs_corpus_open(a->corpus, &c);

    if (st == CS_OK)
        st = cs_store_check_target(a->out, a->force);
    if (st == CS_OK)
        st = get_tokenizer(a, c, &tok);
    wp.force = a->force;
    wp.n_threads = (size_t)a->threads;
    wp.token_bytes = a->token_bytes;
    wp.corpus = a->corpus;
    wp.corpus_checksum = c ? cs_corpus_checksum(c) : NULL;
    if (st == CS_OK)
        st = cs_store_writer_open(a->out, tok, &wp, &w);
    cs_tok_free(tok);
    if (st == CS_OK)
        st = encode_corpus(c, w);
    if (st == CS_OK) {
        st = cs_store_writer_commit(w, &ws);
        w = NULL;
    }
    cs_store_writer_abort(w);
    if (st == CS_OK)
        print_summary(a->out, &ws);
    cs_corpus_close(c);
    return st;
}

int cs_cli_data_tokenize(int argc, char **argv)
{
    tok_args a;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    return cs_cli_report(&tok_cmd, run(&a));
}
