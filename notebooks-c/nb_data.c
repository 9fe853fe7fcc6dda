/* notebooks-c/nb_data.c — Document lengths of the training data: figure C3.
 *
 *     nb_data --out DIR [--corpus STORE] [--runs DIR] [--contexts T,T,...] [--force]
 *
 * writes OUT/data.md and the figure C3 in OUT/figures. Test: tests/cli/test_report.sh;
 * docs/notebooks.md.
 *
 * What this notebook teaches
 * --------------------------
 * A training context of T tokens can teach long-range prediction only where the text has
 * documents of at least T tokens. A sampler fills a context with the next T tokens of the token
 * stream: inside a long document they belong together, across a document boundary the model
 * sees unrelated text and nothing to learn from the far positions. So the benefit of a longer
 * context is capped by the data, and a U-curve that bends up early may say more about the
 * corpus than about the model. Buckman & Gelada (2024) make this point by comparing a corpus of
 * short web documents with one of long documents.
 *
 * Figure C3 is the histogram of document lengths (log-x, four bins per doubling) with the
 * training contexts marked; the table gives, for each context T, the documents at least T tokens
 * long and the share of all tokens that lie in them — the share of training windows that can be
 * filled from a single document.
 */
#include "core/error.h"
#include "core/parse.h"
#include "core/runlog_read.h"
#include "data/store.h"
#include "notebooks-c/notebook.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_CONTEXTS 32

enum { OPT_CORPUS = 256, OPT_CONTEXTS };

static const cs_cli_opt opts[] = {
    {"out", 'o', required_argument, "DIR", "write data.md and figures/ into DIR"},
    {"corpus", OPT_CORPUS, required_argument, "STORE",
     "the token store the runs trained on (ctxscale data tokenize)"},
    {"runs", 'r', required_argument, "DIR", "mark the training contexts of these run logs"},
    {"contexts", OPT_CONTEXTS, required_argument, "T,T,...",
     "mark these contexts (default: the runs' contexts, else 64,256,1024,4096)"},
    {"force", 'f', no_argument, NULL, "replace data.md and the figure if they exist"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd cmd = {
    "nb_data",
    "--out DIR [--corpus STORE] [--runs DIR] [--contexts T,T,...] [--force]",
    "Notebook: the document-length histogram of a token store with the training contexts\n"
    "marked (figure C3), and how much of the data can fill each context from one document;\n"
    "writes the Markdown section data.md of the report. Without --corpus the section says\n"
    "that no token store was given.",
    opts,
    "docs/notebooks.md describes the notebooks and the report.\n",
};

typedef struct args {
    const char *out, *corpus, *runs;
    double contexts[MAX_CONTEXTS];
    size_t ncontexts;
    bool force;
} args;

static int parse_contexts(const char *arg, args *a)
{
    const char *p = arg;
    char item[64];

    a->ncontexts = 0;
    while (*p) {
        size_t len = strcspn(p, ",");

        if (len == 0 || len >= sizeof item || a->ncontexts == MAX_CONTEXTS)
            return cs_fail(CS_EINPUT,
                           "--contexts: expected 1 to %d sizes separated by commas, got \"%s\"",
                           MAX_CONTEXTS, arg);
        memcpy(item, p, len);
        item[len] = '\0';
        if (cs_parse_double_ex(item, &a->contexts[a->ncontexts], CS_PARSE_POSITIVE, "--contexts"))
            return CS_EINPUT;
        a->ncontexts++;
        p += len + (p[len] == ',');
    }
    return a->ncontexts ? CS_OK : cs_fail(CS_EINPUT, "--contexts: no sizes given");
}

static int take(int key, const char *arg, void *ctx)
{
    args *a = ctx;

    switch (key) {
    case 'o': a->out = arg; return CS_OK;
    case 'r': a->runs = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case OPT_CORPUS: a->corpus = arg; return CS_OK;
    case OPT_CONTEXTS: return parse_contexts(arg, a);
    }
    return CS_OK;
}

/* ---- Which contexts to mark -------------------------------------------------------------------
 *
 * The contexts the runs were trained at (config `context` of each run log), distinct and sorted;
 * --contexts overrides them; without either, a spread of powers of four.
 */
static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

static void add_context(args *a, double T)
{
    size_t i;

    for (i = 0; i < a->ncontexts; i++)
        if (a->contexts[i] == T)
            return;
    if (a->ncontexts < MAX_CONTEXTS && T > 0)
        a->contexts[a->ncontexts++] = T;
}

static int runs_contexts(args *a)
{
    struct stat sb;
    char **paths = NULL;
    size_t n = 0, i;
    int st;

    if (stat(a->runs, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cs_fail(CS_EINPUT, "%s: not a directory of run logs", a->runs);
    if ((st = cs_runlog_read_list(a->runs, &paths, &n)))
        return st;
    if (n == 0)
        st = cs_fail(CS_EINPUT, "%s: no run logs (*.h5) in this directory or one level down",
                     a->runs);
    for (i = 0; i < n && st == CS_OK; i++) {
        cs_runlog_reader *rd = NULL;
        const cs_runlog_kv *kv;

        if ((st = cs_runlog_read_open(paths[i], &rd)) == CS_OK &&
            (kv = cs_runlog_read_config_find(rd, "context")) && kv->type != CS_RUNLOG_STR)
            add_context(a, kv->d);
        cs_runlog_read_close(rd);
    }
    cs_runlog_read_list_free(paths, n);
    return st;
}

static int choose_contexts(args *a)
{
    static const double dflt[] = {64, 256, 1024, 4096};
    size_t i;
    int st;

    if (a->ncontexts == 0 && a->runs && (st = runs_contexts(a)))
        return st;
    for (i = 0; a->ncontexts == 0 && i < sizeof dflt / sizeof dflt[0]; i++)
        add_context(a, dflt[i]);
    qsort(a->contexts, a->ncontexts, sizeof a->contexts[0], cmp_double);
    return CS_OK;
}

/* ---- What the store holds
 * ------------------------------------------------------------------------
 *
 * The token-weighted median document length: half of all tokens lie in documents at least this
 * long. It is the length a typical *token* sees around it, which is what a context window
 * samples, unlike the median over documents, which a mass of short documents pulls down.
 */
static int cmp_desc(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

    return (a < b) - (a > b);
}

static uint64_t token_median(const cs_store *s, uint64_t total)
{
    size_t i, n = cs_store_n_docs(s);
    uint64_t *len = malloc((n ? n : 1) * sizeof *len), acc = 0, med = 0;

    if (!len)
        return 0;
    for (i = 0; i < n; i++)
        len[i] = cs_store_doc_at(s, i)->n_tokens;
    qsort(len, n, sizeof *len, cmp_desc);
    for (i = 0; i < n && 2 * acc < total; i++) {
        acc += len[i];
        med = len[i];
    }
    free(len);
    return med;
}

static void contexts_table(cs_nb *nb, const cs_store *s, const args *a, uint64_t docs,
                           uint64_t toks)
{
    static const char *const head[] = {"context T (tokens)#", "documents ≥ T#", "share#",
                                       "tokens in them#", "share of tokens#"};
    uint64_t d, t;
    size_t i;

    cs_nb_table(nb, head, 5);
    for (i = 0; i < a->ncontexts; i++) {
        cs_store_count_at_least(s, CS_STORE_ALL_SPLITS, (uint64_t)a->contexts[i], &d, &t);
        cs_nb_tr(nb);
        cs_nb_td(nb, true, "%.6g", a->contexts[i]);
        cs_nb_td(nb, true, "%llu", (unsigned long long)d);
        cs_nb_td(nb, true, "%.1f%%", docs ? 100.0 * (double)d / (double)docs : 0.0);
        cs_nb_td(nb, true, "%llu", (unsigned long long)t);
        cs_nb_td(nb, true, "%.1f%%", toks ? 100.0 * (double)t / (double)toks : 0.0);
        cs_nb_tr_end(nb);
    }
    cs_nb_table_end(nb);
}

/* The honest reading for the longest context: how much of the data can fill it. */
static void reading(cs_nb *nb, const cs_store *s, const args *a, uint64_t toks)
{
    double T = a->contexts[a->ncontexts - 1], share;
    uint64_t d, t;

    cs_store_count_at_least(s, CS_STORE_ALL_SPLITS, (uint64_t)T, &d, &t);
    share = toks ? 100.0 * (double)t / (double)toks : 0.0;
    cs_nb_md(nb,
             "At the longest context marked, T = %.6g, %.1f%% of the tokens lie in "
             "documents long enough to fill a window by themselves. ",
             T, share);
    if (share < 50.0)
        cs_nb_md(nb, "Most windows of this length span document boundaries: the far positions "
                     "mostly see unrelated text, and the data, not the model, limits what a "
                     "longer context can gain.\n\n");
    else
        cs_nb_md(nb, "Most windows of this length can come from a single document, so the "
                     "data does not yet cap the gain of a longer context.\n\n");
}

static int with_store(cs_nb *nb, const args *a)
{
    cs_figures_opts o = cs_figures_default_opts();
    const char *in[1] = {a->corpus};
    cs_store *s = NULL;
    uint64_t docs, toks;
    int st;

    if ((st = cs_store_open(a->corpus, &s)))
        return st;
    cs_store_count_at_least(s, CS_STORE_ALL_SPLITS, 0, &docs, &toks);
    cs_nb_md(nb, "Token store ");
    cs_nb_name(nb, a->corpus);
    cs_nb_md(nb,
             ": %llu documents, %llu tokens (vocabulary %zu). Half of the tokens lie in "
             "documents of at least %llu tokens.\n",
             (unsigned long long)docs, (unsigned long long)toks, cs_store_vocab(s),
             (unsigned long long)token_median(s, toks));
    contexts_table(nb, s, a, docs, toks);
    reading(nb, s, a, toks);
    o.inputs = in;
    o.ninputs = 1;
    o.contexts = a->contexts;
    o.ncontexts = a->ncontexts;
    o.log = stderr;
    st = cs_nb_figure(nb, "C3", &o,
                      "Document lengths of the token store (log-x), with the training contexts "
                      "marked.",
                      NULL);
    cs_store_close(s);
    return st;
}

static int write_section(cs_nb *nb, const args *a)
{
    cs_nb_md(nb, "<a id=\"data\"></a>\n\n## The data: document lengths (C3)\n\n");
    cs_nb_md(nb, "A context of T tokens can teach long-range prediction only where documents "
                 "are at least T tokens long; elsewhere a window spans unrelated documents.\n\n");
    if (!a->corpus) {
        cs_nb_md(nb, "No token store was given (`--corpus`; `make notebooks CORPUS=dir`), so "
                     "figure C3 is not drawn and the document lengths are not known here.\n\n");
        return CS_OK;
    }
    return with_store(nb, a);
}

int main(int argc, char **argv)
{
    static const char *const figs[] = {"C3"};
    args a = {0};
    cs_nb nb = {0};
    int rc = cs_nb_parse(&cmd, argc, argv, take, &a), st;

    if (rc >= 0)
        return rc;
    if (!a.out)
        return cs_nb_usage(&cmd, "--out DIR is required");
    if ((st = choose_contexts(&a)) || (st = cs_nb_open(&nb, a.out, "data", figs, 1, a.force)))
        return cs_nb_report(&cmd, st);
    if ((st = write_section(&nb, &a)))
        cs_nb_abort(&nb);
    else
        st = cs_nb_commit(&nb);
    return cs_nb_report(&cmd, st);
}
