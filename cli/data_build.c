/* cli/data_build.c: `ctxscale data build SOURCE... --out DIR`: reads documents from the named
 * sources (data/sources.h: pd-books, debian-docs, dir:, files:, jsonl:, file:) into a corpus
 * directory (data/corpus.h) with a train/val split by document, and prints a summary per label.
 * Reached through the `ctxscale data` dispatcher (cli/data.c). The formats are in docs/data.md.
 * Test: tests/cli/test_data_build.sh, tests/cli/test_data_pdbooks.sh.
 */
#include "cli/cli.h"
#include "cli/opt.h"
#include "core/error.h"
#include "core/parse.h"
#include "data/corpus.h"
#include "data/sources.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_NAME = 256,
    OPT_VAL_FRAC,
    OPT_SEED,
    OPT_LABEL,
    OPT_TEXT_FIELD,
    OPT_TITLE_FIELD,
    OPT_LABEL_FIELD,
    OPT_STRIP,
};

static const cs_cli_opt build_opts[] = {
    {"out", 'o', required_argument, "DIR", "write the corpus directory here (required)"},
    {"force", 'f', no_argument, NULL, "replace an existing corpus at DIR (only a corpus)"},
    {"name", OPT_NAME, required_argument, "NAME", "corpus name in the manifest (DIR's name)"},
    {"val-frac", OPT_VAL_FRAC, required_argument, "F",
     "share of each label's documents in val, 0 <= F < 1 (0.05)"},
    {"seed", OPT_SEED, required_argument, "S", "seed of the split hash (0)"},
    {"label", OPT_LABEL, required_argument, "L",
     "label of the documents of dir:, files:, jsonl:, file: (their name)"},
    {"text-field", OPT_TEXT_FIELD, required_argument, "K", "JSONL field with the text (text)"},
    {"title-field", OPT_TITLE_FIELD, required_argument, "K",
     "JSONL field with the title (title; else id; else FILE:LINE)"},
    {"label-field", OPT_LABEL_FIELD, required_argument, "K", "JSONL field with each line's label"},
    {"strip-gutenberg", OPT_STRIP, no_argument, NULL,
     "strip Project Gutenberg boilerplate from dir:, files:, file: documents"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd build_cmd = {
    "data build",
    "SOURCE... --out DIR [OPTIONS]",
    "Assemble a corpus: documents with a source label, split into train and val by document.",
    build_opts,
    "Sources:\n"
    "  pd-books       public-domain books from Debian packages: the King James Bible (one\n"
    "                 document per book) and Project Gutenberg books shipped as test data;\n"
    "                 install the packages with scripts/deps-corpus.sh pd-books\n"
    "  debian-docs    long technical documents from Debian documentation packages (Python,\n"
    "                 Perl, Vim, Linux), one label each; scripts/deps-corpus.sh debian-docs\n"
    "  dir:PATH       every file under PATH, one document each (dot-files skipped)\n"
    "  files:LIST     the files named in LIST, one path a line\n"
    "  jsonl:FILE     one JSON object a line, the text in a string field\n"
    "  file:PATH      one file; a bare PATH is a directory, a .jsonl file or a file\n"
    "Bytes are kept exactly (any encoding); empty documents are skipped. DIR gets\n"
    "documents.bin, index.tsv and manifest.json, written beside it first and renamed into\n"
    "place at the end. The format and the corpora are described in docs/data.md.\n"
    "Example: ctxscale data build pd-books --out data/pd-books\n",
};

typedef struct build_args {
    const char *out;
    bool force;
    const char *name;
    cs_corpus_params cp;
    cs_sources_params sp;
    char **specs; /* positional arguments */
    size_t n_specs;
} build_args;

static int take_opt(int c, const char *arg, build_args *a)
{
    int64_t seed;
    int st;

    switch (c) {
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case OPT_NAME: a->name = arg; return CS_OK;
    case OPT_VAL_FRAC:
        st = cs_parse_double(arg, &a->cp.val_frac, "--val-frac");
        if (st == CS_OK && !(a->cp.val_frac >= 0 && a->cp.val_frac < 1))
            st = cs_fail(CS_EINPUT, "--val-frac: expected 0 <= F < 1, got %s", arg);
        return st;
    case OPT_SEED:
        if ((st = cs_parse_count(arg, &seed, "--seed")) == CS_OK)
            a->cp.seed = (uint64_t)seed;
        return st;
    case OPT_LABEL:
        if (!cs_corpus_label_is_valid(arg))
            return cs_fail(CS_EINPUT,
                           "--label: expected 1 to %d letters, digits or . _ : + -, "
                           "got \"%s\"",
                           CS_CORPUS_LABEL_MAX, arg);
        a->sp.label = arg;
        return CS_OK;
    case OPT_TEXT_FIELD: a->sp.text_field = arg; return CS_OK;
    case OPT_TITLE_FIELD: a->sp.title_field = arg; return CS_OK;
    case OPT_LABEL_FIELD: a->sp.label_field = arg; return CS_OK;
    case OPT_STRIP: a->sp.strip_gutenberg = true; return CS_OK;
    }
    return CS_OK;
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, build_args *a)
{
    cs_cli_parser ps;
    int c;

    memset(a, 0, sizeof *a);
    a->cp = cs_corpus_default_params();
    a->sp = cs_sources_default_params();
    cs_cli_parser_init(&ps, &build_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        if (c == '?')
            return 2;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(&build_cmd, stdout);
            return 0;
        }
        if (take_opt(c, optarg, a) != CS_OK)
            return cs_cli_usage_error(&build_cmd, "%s", cs_errmsg());
    }
    if (optind == argc)
        return cs_cli_usage_error(&build_cmd, "name at least one SOURCE (e.g. pd-books)");
    if (!a->out)
        return cs_cli_usage_error(&build_cmd, "--out DIR is required");
    a->specs = argv + optind;
    a->n_specs = (size_t)(argc - optind);
    return -1;
}

/* The last component of `path` (trailing slashes ignored) in buf. */
static const char *base_name(const char *path, char *buf, size_t cap)
{
    size_t end = strlen(path);
    size_t start;

    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(buf, cap, "%.*s", (int)(end - start), path + start);
    return buf;
}

static void print_summary(const cs_corpus *c, const char *out)
{
    size_t n = cs_corpus_count(c);
    size_t l;
    size_t i;
    size_t bad = 0;

    printf("%s: corpus \"%s\": %zu documents (%zu train, %zu val), %" PRIu64 " bytes\n", out,
           cs_corpus_name(c), n, cs_corpus_count_split(c, CS_CORPUS_TRAIN),
           cs_corpus_count_split(c, CS_CORPUS_VAL), cs_corpus_bytes(c));
    printf("  %-20s %9s %9s %9s %14s\n", "label", "documents", "train", "val", "bytes");
    for (l = 0; l < cs_corpus_n_labels(c); l++) {
        size_t k[2] = {0, 0};
        uint64_t bytes = 0;
        cs_corpus_doc d;

        for (i = 0; i < n && cs_corpus_get(c, i, &d) == CS_OK; i++)
            if (strcmp(d.label, cs_corpus_label(c, l)) == 0) {
                k[d.split]++;
                bytes += d.len;
                bad += !d.utf8;
            }
        printf("  %-20s %9zu %9zu %9zu %14" PRIu64 "\n", cs_corpus_label(c, l), k[0] + k[1], k[0],
               k[1], bytes);
    }
    if (bad > 0)
        printf("%zu documents are not valid UTF-8; their bytes are kept exactly\n", bad);
}

static int run(build_args *a)
{
    cs_corpus_writer *w = NULL;
    cs_corpus *c = NULL;
    char name[256];
    size_t i;
    int st;

    a->cp.name = a->name ? a->name : base_name(a->out, name, sizeof name);
    st = cs_corpus_writer_open(a->out, a->force, &w);
    for (i = 0; st == CS_OK && i < a->n_specs; i++)
        st = cs_sources_add(w, a->specs[i], &a->sp);
    if (st) {
        cs_corpus_writer_abort(w);
        return st;
    }
    st = cs_corpus_writer_commit(w, &a->cp);
    if (st == CS_OK)
        st = cs_corpus_open(a->out, &c);
    if (st == CS_OK)
        print_summary(c, a->out);
    cs_corpus_close(c);
    return st;
}

int cs_cli_data_build(int argc, char **argv)
{
    build_args a;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    return cs_cli_report(&build_cmd, run(&a));
}
