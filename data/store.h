/* data/store.h: the token store: a directory holding the token ids of a tokenized corpus
 * (tokens.bin, uint16 or uint32 little-endian), a document index (docs.bin: offset, tokens, bytes,
 * source and split of every document), the tokenizer (tokenizer.bpe) and a summary (store.json).
 * Writing encodes documents with one tokenizer copy per thread and builds the directory under a
 * temporary name that is renamed into place on commit; reading maps tokens.bin into memory,
 * validates the directory and gives bounds-checked access by document. The byte layout is in
 * docs/data.md ("Tokenizing and the token store"). Tested in tests/unit/test_store.c.
 */
#ifndef CS_DATA_STORE_H
#define CS_DATA_STORE_H

#include "data/tokenizer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the docs.bin layout written and read here. */
#define CS_STORE_FORMAT_VERSION 1

/* Splits of a store. Documents of a split are contiguous in tokens.bin and in the index: all
 * train documents first, then all val documents, each in the order they were added. */
enum { CS_STORE_TRAIN = 0, CS_STORE_VAL = 1, CS_STORE_N_SPLITS = 2 };

/* Largest vocabulary a store of uint16 ids can hold. */
#define CS_STORE_U16_VOCAB ((size_t)65536)

/* Longest source label in bytes. */
#define CS_STORE_SOURCE_MAX 255

/* Most distinct sources in one store. */
#define CS_STORE_MAX_SOURCES 65536

/* One document of the index. */
typedef struct cs_store_doc {
    uint64_t offset;     /* tokens: position of the first token in tokens.bin */
    uint64_t n_tokens;   /* tokens */
    uint64_t n_bytes;    /* bytes of the document's text */
    uint64_t corpus_doc; /* number of the document in the corpus it came from (order of adding) */
    uint32_t source;     /* source id, index into the store's source labels */
    uint32_t split;      /* CS_STORE_TRAIN or CS_STORE_VAL */
} cs_store_doc;

// ---- writing ---------------------------------------------------------------------------------

/* One document handed to the writer: its bytes (any bytes, n may be 0), source label (1 to
 * CS_STORE_SOURCE_MAX bytes, no control characters) and split. The writer copies nothing it
 * needs later: the bytes may be freed once cs_store_writer_add returns. */
typedef struct cs_store_input {
    const uint8_t *bytes; /* (n) */
    size_t n;             /* bytes */
    const char *source;   /* label, e.g. "gutenberg" */
    int split;            /* CS_STORE_TRAIN or CS_STORE_VAL */
} cs_store_input;

typedef struct cs_store_write_params {
    bool force;                  /* replace an existing store at the path (only a store) */
    size_t n_threads;            /* encoding threads; 0 (default) = online CPUs, at most 16 */
    int token_bytes;             /* 0 (default) = 2 when vocab <= 65536 else 4; or 2 or 4 */
    const char *corpus;          /* corpus path recorded in store.json, or NULL */
    const char *corpus_checksum; /* corpus manifest checksum recorded in store.json, or NULL */
} cs_store_write_params;

/* Totals of a written store, from cs_store_writer_commit. */
typedef struct cs_store_write_stats {
    uint64_t n_docs;        /* documents */
    uint64_t n_tokens;      /* tokens */
    uint64_t n_bytes;       /* bytes of text encoded */
    double encode_seconds;  /* wall time spent encoding (in cs_store_writer_add) */
    double encode_mb_per_s; /* n_bytes / 1e6 / encode_seconds (0 when no time was measured) */
    size_t n_threads;       /* threads used */
    char tokenizer_sum[17]; /* FNV-1a 64 of tokenizer.bpe, 16 hex digits */
} cs_store_write_stats;

/* A store being written. */
typedef struct cs_store_writer cs_store_writer;

/* Defaults: force false, n_threads 0, token_bytes 0, corpus and corpus_checksum NULL. */
cs_store_write_params cs_store_default_write_params(void);

/* Starts a store at directory `dir` for tokenizer `tok` (copied: one copy per thread; tok may be
 * freed after this returns). Everything is written under "<dir>.tmp.XXXXXX" beside it and moved
 * to `dir` only by cs_store_writer_commit. Errors (nothing is left on disk):
 *   CS_EINPUT  `dir` exists and !force ("<dir>: exists; use --force to replace it"), or exists
 *              and is not a token store (force never replaces anything else); token_bytes 2
 *              with a vocabulary above 65536, or token_bytes not 0, 2 or 4;
 *   CS_EIO     the temporary directory or its files cannot be created (with strerror);
 *   CS_EINVAL  a NULL argument; CS_ENOMEM. */
int cs_store_writer_open(const char *dir, const cs_tok *tok, const cs_store_write_params *p,
                         cs_store_writer **out);

/* The check cs_store_writer_open makes of `dir` before writing anything, so that a caller can
 * fail before long work (training a tokenizer): CS_OK when dir does not exist, or exists, force is
 * set and it is a token store directory; CS_EINPUT otherwise (messages as cs_store_writer_open);
 * CS_EIO when it cannot be examined. */
int cs_store_check_target(const char *dir, bool force);

/* Encodes docs[0..n) (in parallel over documents, each thread with its own tokenizer copy;
 * documents longer than 1 MB are encoded in pieces cut at pre-token boundaries, which gives the
 * same tokens) and appends them to their splits in order. CS_EINPUT for a bad source label or
 * split (the message gives the document's number), CS_EIO on a write error, CS_ENOMEM. After an
 * error the writer can only be aborted. */
int cs_store_writer_add(cs_store_writer *w, const cs_store_input *docs, size_t n);

/* Writes docs.bin, tokenizer.bpe and store.json, renames the directory into place (replacing an
 * old store when forced) and frees w. `st` (may be NULL) gets the totals. CS_EINPUT when no
 * document was added ("no documents to store") or when a store appeared at the path meanwhile
 * without force, CS_EIO; on error the temporary directory is removed and an old store is kept. */
int cs_store_writer_commit(cs_store_writer *w, cs_store_write_stats *st);

/* Removes the temporary directory and frees w. Accepts NULL. */
void cs_store_writer_abort(cs_store_writer *w);

/* Convenience: open, add docs[0..n), commit. Errors as those three. */
int cs_store_build(const char *dir, const cs_tok *tok, const cs_store_write_params *p,
                   const cs_store_input *docs, size_t n, cs_store_write_stats *st);

// ---- reading ---------------------------------------------------------------------------------

/* An open store: tokens.bin mapped read-only, the index in memory. Read-only and safe to share
 * between threads. */
typedef struct cs_store cs_store;

/* Opens and validates the store in directory `dir`. CS_EINPUT names the file and what is wrong:
 * docs.bin with a wrong magic, another version, a header or record out of range (offsets not
 * contiguous, a split out of order, an unknown source, token width not 2 or 4), tokens.bin whose
 * size is not n_tokens × token width (e.g. "tokens.bin: 1000 bytes; the index needs 2048
 * (1024 tokens of 2 bytes): truncated or not this store's"), store.json missing, not JSON or
 * disagreeing with docs.bin on vocab, token width or counts. CS_EIO when a file cannot be opened,
 * read or mapped (strerror). CS_ENOMEM. Token ids are not checked against the vocabulary here
 * (that would read the whole file); cs_store_check_ids does it. */
int cs_store_open(const char *dir, cs_store **out);

/* Unmaps and frees. Accepts NULL. */
void cs_store_close(cs_store *s);

/* The directory given to cs_store_open. */
const char *cs_store_path(const cs_store *s);

/* Vocabulary size of the store's tokenizer. */
size_t cs_store_vocab(const cs_store *s);

/* Bytes per token id in tokens.bin: 2 or 4. */
int cs_store_token_bytes(const cs_store *s);

/* Number of documents (all splits). */
size_t cs_store_n_docs(const cs_store *s);

/* Document i (0 <= i < n_docs), or NULL when i is out of range. */
const cs_store_doc *cs_store_doc_at(const cs_store *s, size_t i);

/* The documents of a split are i = first .. first + count - 1. CS_EINVAL for a bad split. */
int cs_store_split_range(const cs_store *s, int split, size_t *first, size_t *count);

/* Tokens and text bytes of a split (0 for a bad split). */
uint64_t cs_store_split_tokens(const cs_store *s, int split);
uint64_t cs_store_split_bytes(const cs_store *s, int split);

/* Number of sources and the label of source id (NULL when out of range). */
size_t cs_store_n_sources(const cs_store *s);
const char *cs_store_source_name(const cs_store *s, size_t id);

/* Source id of a label, or -1 when the store has no such source. */
long cs_store_source_find(const cs_store *s, const char *label);

/* "train" or "val" (NULL for another value), and the reverse: CS_EINPUT naming `what` for any
 * other string. */
const char *cs_store_split_name(int split);
int cs_store_split_parse(const char *name, int *split, const char *what);

/* Copies tokens pos .. pos + n - 1 of document doc into out (n ids). CS_EINVAL (with doc, pos, n
 * and the document's length in the message) when doc is out of range or the range leaves the
 * document. */
int cs_store_read(const cs_store *s, size_t doc, uint64_t pos, size_t n, uint32_t *out);

/* Copies tokens [offset, offset + n) of tokens.bin (any documents) into out. CS_EINVAL when the
 * range leaves the file. */
int cs_store_read_flat(const cs_store *s, uint64_t offset, size_t n, uint32_t *out);

/* Token at `offset` of tokens.bin, no bounds check beyond CS_ASSERT (for hot loops that checked
 * their range once). */
uint32_t cs_store_token(const cs_store *s, uint64_t offset);

/* Reads every id and checks it is below the vocabulary. CS_EINPUT naming tokens.bin and the
 * first bad offset. */
int cs_store_check_ids(const cs_store *s);

/* Loads the store's tokenizer (tokenizer.bpe) into *tok. Errors as cs_tok_open; CS_EINPUT when
 * its vocabulary differs from the store's. */
int cs_store_open_tokenizer(const cs_store *s, cs_tok **tok);

// ---- statistics ------------------------------------------------------------------------------

/* Split argument of the statistics below meaning every document. */
#define CS_STORE_ALL_SPLITS (-1)

/* A document-length histogram with logarithmic bins (figure C3: log-x, tokens). Bin i holds
 * documents with lo[i] <= n_tokens < hi[i]; bin 0 is [0, 1) (empty documents), then the edges
 * are ceil(2^(j/k)) for k bins per doubling, repeated edges dropped, so every power of two is an
 * edge. Bins run from 0 to the one holding the longest document, empty bins included. */
typedef struct cs_store_hist {
    size_t n_bins;
    uint64_t *lo;     /* (n_bins) tokens */
    uint64_t *hi;     /* (n_bins) tokens, exclusive */
    uint64_t *docs;   /* (n_bins) documents */
    uint64_t *tokens; /* (n_bins) tokens of those documents */
} cs_store_hist;

/* Fills *h for `split` (or CS_STORE_ALL_SPLITS) with per_octave bins per doubling (1 to 64).
 * The caller frees with cs_store_hist_free. CS_EINVAL for a bad split or per_octave, CS_ENOMEM. */
int cs_store_length_hist(const cs_store *s, int split, unsigned per_octave, cs_store_hist *h);

/* Frees the arrays of *h and zeroes it. Accepts a zeroed struct. */
void cs_store_hist_free(cs_store_hist *h);

/* Documents of `split` (or CS_STORE_ALL_SPLITS) with at least min_tokens tokens, and their
 * tokens, into *docs and *tokens. */
void cs_store_count_at_least(const cs_store *s, int split, uint64_t min_tokens, uint64_t *docs,
                             uint64_t *tokens);

/* FNV-1a 64-bit hash of n bytes, continuing from h (start with CS_STORE_FNV_INIT). Used for the
 * checksums in store.json. */
#define CS_STORE_FNV_INIT UINT64_C(0xcbf29ce484222325)
uint64_t cs_store_fnv1a(uint64_t h, const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CS_DATA_STORE_H */
