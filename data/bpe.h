/* data/bpe.h: byte-level BPE: the pre-tokeniser, training (incremental pair counts, lazy heap),
 * encoding by merge ranks with a per-encoder cache, decoding, the tokenizer file (save/load with a
 * vocabulary cap) and bytes per token for any vocabulary size. The rule, the algorithm and the
 * byte-exact file format are in docs/tokenizer.md. Tested in tests/unit/test_bpe.c; fuzzed by
 * fuzz/fuzz_bpe.c; timed by bench/bench_bpe.c.
 *
 * Token ids: 0..255 are the bytes; 256 + k is the token made by merge k (k = 0 is the first
 * merge). A model with m merges has vocabulary 256 + m, and its first m' merges are exactly the
 * model a training run asked for 256 + m' tokens would produce (BPE is greedy), so one training
 * run serves every smaller vocabulary: load with a cap, or take cs_bpe_prefix.
 */
#ifndef CS_DATA_BPE_H
#define CS_DATA_BPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest pre-token in bytes; longer runs are cut into pieces of this length. Since merges never
 * cross pre-token boundaries, no token is longer than this either (load checks it). */
#define CS_BPE_PRETOKEN_MAX 256

/* Version of the tokenizer file format written by cs_bpe_save and read by cs_bpe_load. */
#define CS_BPE_FORMAT_VERSION 1

/* An immutable BPE model: the merges in order, the bytes of every token, the merge-rank table
 * used by encoding, and (from training) the token count of the training text after each merge.
 * Safe to share between threads; encoding state lives in cs_bpe_encoder. */
typedef struct cs_bpe cs_bpe;

/* Encoding state for one thread: a cache of frequent pre-tokens and scratch space. */
typedef struct cs_bpe_encoder cs_bpe_encoder;

typedef struct cs_bpe_params {
    size_t vocab;       /* target vocabulary size, 256 + merges; 256..CS_TOK_MAX_VOCAB */
    uint64_t min_count; /* stop when the most frequent pair occurs fewer times (default 2) */
    bool allow_fewer;   /* true: succeed with fewer merges when the text runs out of pairs;
                           false (default): that is CS_EINPUT, the message gives the number */
    size_t n_threads;   /* threads counting pre-tokens; 0 (default) = online CPUs, max 16 */
    const char *what;   /* name of the text for messages, e.g. a file name; NULL = "text" */
} cs_bpe_params;

/* Defaults: vocab 0 (must be set), min_count 2, allow_fewer false, n_threads 0, what NULL. */
cs_bpe_params cs_bpe_default_params(void);

/* Length in bytes (1..CS_BPE_PRETOKEN_MAX) of the pre-token that starts at s[0], for n >= 1;
 * 0 when n == 0. Calling it repeatedly splits a byte string into pre-tokens (docs/tokenizer.md
 * gives the rule: letter runs, digit runs, punctuation runs, each with at most one leading
 * space, and whitespace runs; bytes >= 0x80 count as letters). */
size_t cs_bpe_pretoken_len(const uint8_t *s, size_t n);

/* Trains byte-level BPE on text[0..n) (any bytes) and stores a new model in *out (the caller
 * frees it with cs_bpe_free). Deterministic: the same text and params give the same merges for
 * any n_threads; among pairs of equal count the one with the smaller (left id, right id) wins.
 * Pre-tokens are counted in parallel with pthreads.
 * Errors (nothing is stored in *out):
 *   CS_EINPUT  n == 0 ("<what>: training text is empty"); vocab outside 256..CS_TOK_MAX_VOCAB;
 *              the text has too few repeated pairs for vocab - 256 merges and !allow_fewer
 *              (the message says how many merges were possible);
 *   CS_EINVAL  text or p or out NULL, min_count 0;
 *   CS_ENOMEM. */
int cs_bpe_train(const uint8_t *text, size_t n, const cs_bpe_params *p, cs_bpe **out);

/* A model with no merges: the byte-level tokenizer (vocabulary 256). NULL on CS_ENOMEM. */
cs_bpe *cs_bpe_alloc_byte(void);

/* Frees a model. Accepts NULL. */
void cs_bpe_free(cs_bpe *b);

/* Vocabulary size, 256 + number of merges. */
size_t cs_bpe_vocab(const cs_bpe *b);

/* Merge k (0 <= k < vocab - 256) joins tokens *left and *right into token 256 + k. CS_EINVAL if k
 * is out of range. */
int cs_bpe_merge(const cs_bpe *b, size_t k, uint32_t *left, uint32_t *right);

/* The bytes of token id (not NUL-terminated) and their count in *len; NULL when id >= vocab.
 * The pointer lives as long as b. */
const uint8_t *cs_bpe_token_bytes(const cs_bpe *b, uint32_t id, size_t *len);

/* A copy of b restricted to its first vocab - 256 merges (vocab 256..cs_bpe_vocab(b)), training
 * record included. CS_EINPUT when vocab is outside that range (message names both sizes),
 * CS_ENOMEM. */
int cs_bpe_prefix(const cs_bpe *b, size_t vocab, cs_bpe **out);

/* Writes b to path in the tokenizer file format (docs/tokenizer.md) through core/afile.h: an
 * existing file is kept unless force, and a failed write leaves nothing behind.
 * CS_EINPUT (exists, !force), CS_EIO, CS_ENOMEM. */
int cs_bpe_save(const cs_bpe *b, const char *path, bool force);

/* Reads a tokenizer file. vocab_cap 0 loads every merge; otherwise the first vocab_cap - 256
 * merges (the whole file is still checked). CS_EINPUT names the file, the line and what was
 * expected when the magic line, the version, a header, a merge line or the "end" line is wrong or
 * missing (a truncated file), when a merge refers to a token not yet made, repeats an earlier
 * merge or makes a token longer than CS_BPE_PRETOKEN_MAX, or when vocab_cap is below 256 or above
 * the file's vocabulary. CS_EIO when the file cannot be read. CS_ENOMEM. */
int cs_bpe_load(const char *path, size_t vocab_cap, cs_bpe **out);

/* As cs_bpe_load, from the n bytes at data; `name` stands for the file name in messages. */
int cs_bpe_load_mem(const void *data, size_t n, const char *name, size_t vocab_cap, cs_bpe **out);

/* Bytes per token of the training text for each vocabulary size vocabs[i] (256..vocab), from the
 * record kept by training (and carried by the file), into out[i]; no encoding needed.
 * CS_EINPUT when a size is out of range, CS_EINVAL when b has no training record (byte model). */
int cs_bpe_train_bytes_per_token(const cs_bpe *b, const size_t *vocabs, size_t k, double *out);

/* Bytes per token of text[0..n) (n >= 1) encoded with the first vocabs[i] - 256 merges, for each
 * i < k, into out[i] (bytes/token; loss in nats/token divided by ln 2 times this is bits/byte).
 * Encodes the text once per size. CS_EINPUT (size out of range, n == 0), CS_ENOMEM. */
int cs_bpe_bytes_per_token(const cs_bpe *b, const uint8_t *text, size_t n, const size_t *vocabs,
                           size_t k, double *out);

/* A pre-token boundary at or after `from` (from <= n): the first k >= from where text[k-1] is
 * not whitespace and text[k] is, or n. Encoding text[0..k) and text[k..n) separately gives the
 * same tokens as encoding text[0..n), so long texts can be encoded in pieces or in parallel. */
size_t cs_bpe_boundary(const uint8_t *text, size_t n, size_t from);

/* Encoder state for model b, which must outlive it. One encoder per thread. NULL on CS_ENOMEM. */
cs_bpe_encoder *cs_bpe_encoder_alloc(const cs_bpe *b);

/* Frees an encoder. Accepts NULL. */
void cs_bpe_encoder_free(cs_bpe_encoder *e);

/* Encodes text[0..n) (any bytes, n may be 0) into ids, which must have room for n ids (a token
 * is at least one byte); *n_ids gets the count. Within each pre-token the lowest-rank merge
 * present is applied (leftmost first) until none applies. Never fails for valid arguments:
 * CS_EINVAL when a pointer is NULL (n == 0 allows NULL text and ids). */
int cs_bpe_encode(cs_bpe_encoder *e, const uint8_t *text, size_t n, uint32_t *ids, size_t *n_ids);

/* Decodes ids[0..n) into out (room for cap bytes); *n_out gets the number of bytes the whole
 * decoding needs, also when it does not fit. CS_EINPUT when an id is >= vocab (the message gives
 * its position), CS_EINVAL when cap is too small (call again with *n_out bytes). */
int cs_bpe_decode(const cs_bpe *b, const uint32_t *ids, size_t n, uint8_t *out, size_t cap,
                  size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif /* CS_DATA_BPE_H */
