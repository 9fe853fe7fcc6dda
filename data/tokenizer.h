/* data/tokenizer.h: the tokenizer interface the data pipeline uses: byte-level (vocabulary 256)
 * or BPE (data/bpe.h) behind one handle, with encode, decode and the vocabulary-size check shared
 * by every consumer of token ids. docs/tokenizer.md describes both kinds. Tested in
 * tests/unit/test_tokenizer.c.
 */
#ifndef CS_DATA_TOKENIZER_H
#define CS_DATA_TOKENIZER_H

#include "data/bpe.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest vocabulary a BPE model may have: token ids are uint32 in memory and in the file, and
 * 2^20 bounds the merge table. A token store that keeps ids in 16 bits checks its own, smaller
 * limit (65,536) with cs_tok_check_vocab. */
#define CS_TOK_MAX_VOCAB ((size_t)1 << 20)

/* Vocabulary of the byte-level tokenizer. */
#define CS_TOK_BYTE_VOCAB ((size_t)256)

/* A tokenizer: a model plus encoding state. Not thread-safe: give each thread its own
 * (cs_tok_dup). */
typedef struct cs_tok cs_tok;

/* Checks that a vocabulary size is usable: 256 <= vocab <= limit (limit 0 means
 * CS_TOK_MAX_VOCAB). CS_OK, or CS_EINPUT with "<what>: vocabulary size V is below 256, the byte
 * alphabet" or "<what>: vocabulary size V is above the limit L"; `what` names the flag or file
 * (NULL = "vocabulary"). */
int cs_tok_check_vocab(size_t vocab, size_t limit, const char *what);

/* The byte-level tokenizer: token id = byte value, vocabulary 256. NULL on CS_ENOMEM. */
cs_tok *cs_tok_alloc_byte(void);

/* A BPE tokenizer from a copy of b's first vocab - 256 merges (vocab 0 = all of them).
 * NULL on CS_EINPUT (vocab out of range) or CS_ENOMEM, with the message recorded. */
cs_tok *cs_tok_alloc_bpe(const cs_bpe *b, size_t vocab);

/* Loads a BPE tokenizer file (cs_bpe_load: vocab_cap 0 = full vocabulary) into *out.
 * Errors as cs_bpe_load. */
int cs_tok_open(const char *path, size_t vocab_cap, cs_tok **out);

/* An independent copy (own encoding cache) for another thread. NULL on CS_ENOMEM. */
cs_tok *cs_tok_dup(const cs_tok *t);

/* Frees a tokenizer. Accepts NULL. */
void cs_tok_free(cs_tok *t);

/* Vocabulary size: 256 for bytes, 256 + merges for BPE. */
size_t cs_tok_vocab(const cs_tok *t);

/* "byte" or "bpe". */
const char *cs_tok_kind(const cs_tok *t);

/* The underlying model (a BPE with no merges for the byte tokenizer); lives as long as t. */
const cs_bpe *cs_tok_model(const cs_tok *t);

/* Encodes text[0..n) into ids (room for n ids); *n_ids gets the count. Errors as
 * cs_bpe_encode. */
int cs_tok_encode(cs_tok *t, const uint8_t *text, size_t n, uint32_t *ids, size_t *n_ids);

/* Decodes ids[0..n) into out (room for cap bytes); *n_out gets the bytes needed. Errors as
 * cs_bpe_decode. */
int cs_tok_decode(const cs_tok *t, const uint32_t *ids, size_t n, uint8_t *out, size_t cap,
                  size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif /* CS_DATA_TOKENIZER_H */
