/* data/tokenizer.c: the tokenizer handle (byte-level or BPE) and the vocabulary-size check.
 * A byte tokenizer is a BPE model with no merges, so one code path serves both.
 * Test: tests/unit/test_tokenizer.c (make test).
 */
#include "data/tokenizer.h"

#include "core/error.h"

#include <stdlib.h>

struct cs_tok {
    cs_bpe *model;       /* owned */
    cs_bpe_encoder *enc; /* owned; the cache makes encoding stateful */
    bool is_byte;
};

int cs_tok_check_vocab(size_t vocab, size_t limit, const char *what)
{
    if (limit == 0)
        limit = CS_TOK_MAX_VOCAB;
    if (what == NULL)
        what = "vocabulary";
    if (vocab < CS_TOK_BYTE_VOCAB)
        return cs_fail(CS_EINPUT, "%s: vocabulary size %zu is below 256, the byte alphabet", what,
                       vocab);
    if (vocab > limit)
        return cs_fail(CS_EINPUT, "%s: vocabulary size %zu is above the limit %zu", what, vocab,
                       limit);
    return CS_OK;
}

/* Wraps a model (taking ownership, also on failure). */
static cs_tok *tok_wrap(cs_bpe *model, bool is_byte)
{
    cs_tok *t;

    if (model == NULL)
        return NULL;
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        cs_bpe_free(model);
        cs_fail(CS_ENOMEM, "tokenizer: out of memory");
        return NULL;
    }
    t->model = model;
    t->is_byte = is_byte;
    t->enc = cs_bpe_encoder_alloc(model);
    if (t->enc == NULL) {
        cs_tok_free(t);
        return NULL;
    }
    return t;
}

cs_tok *cs_tok_alloc_byte(void)
{
    return tok_wrap(cs_bpe_alloc_byte(), true);
}

cs_tok *cs_tok_alloc_bpe(const cs_bpe *b, size_t vocab)
{
    cs_bpe *p = NULL;

    if (cs_bpe_prefix(b, vocab == 0 ? cs_bpe_vocab(b) : vocab, &p))
        return NULL;
    return tok_wrap(p, false);
}

int cs_tok_open(const char *path, size_t vocab_cap, cs_tok **out)
{
    cs_bpe *b = NULL;
    int st = cs_bpe_load(path, vocab_cap, &b);

    if (st)
        return st;
    *out = tok_wrap(b, false);
    return *out == NULL ? CS_ENOMEM : CS_OK;
}

cs_tok *cs_tok_dup(const cs_tok *t)
{
    if (t->is_byte)
        return cs_tok_alloc_byte();
    return cs_tok_alloc_bpe(t->model, 0);
}

void cs_tok_free(cs_tok *t)
{
    if (t == NULL)
        return;
    cs_bpe_encoder_free(t->enc);
    cs_bpe_free(t->model);
    free(t);
}

size_t cs_tok_vocab(const cs_tok *t)
{
    return cs_bpe_vocab(t->model);
}

const char *cs_tok_kind(const cs_tok *t)
{
    return t->is_byte ? "byte" : "bpe";
}

const cs_bpe *cs_tok_model(const cs_tok *t)
{
    return t->model;
}

int cs_tok_encode(cs_tok *t, const uint8_t *text, size_t n, uint32_t *ids, size_t *n_ids)
{
    return cs_bpe_encode(t->enc, text, n, ids, n_ids);
}

int cs_tok_decode(const cs_tok *t, const uint32_t *ids, size_t n, uint8_t *out, size_t cap,
                  size_t *n_out)
{
    return cs_bpe_decode(t->model, ids, n, out, cap, n_out);
}
