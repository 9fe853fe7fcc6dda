/* data/sampler.h: training windows of context T from a token store (data/store.h), a batch of
 * B windows of T + 1 tokens (inputs and next-token targets) per step, with B·T tokens per batch
 * held constant across T. Three modes:
 *   longdoc  the LongCrawl64-style view: documents with at least L_max + 1 tokens cut into rows
 *            of L_max + 1 tokens, rows shuffled and each rolled (rotated) by a random offset;
 *            windows are read inside a row, so every window lies inside one document;
 *   packed   the split's documents concatenated, each followed by a separator token; windows
 *            anywhere, so they cross document boundaries;
 *   mixture  one packed stream per source, sources drawn with per-source weights (default: each
 *            source's share of the split's tokens) after per-source length upsampling (Fu et al.
 *            2024): documents shorter than a threshold are kept with probability p.
 * The batch of step k depends only on (seed, k): no state is carried from step to step, so a
 * resumed run gets bit-identical batches and any two sampler instances agree. Epochs and unique
 * tokens seen are computed analytically from the step number. docs/data.md ("Samplers") has the
 * rules. Tested in tests/unit/test_sampler.c.
 */
#ifndef CS_DATA_SAMPLER_H
#define CS_DATA_SAMPLER_H

#include "data/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_sampler_mode {
    CS_SAMPLER_LONGDOC = 0,
    CS_SAMPLER_PACKED = 1,
    CS_SAMPLER_MIXTURE = 2,
} cs_sampler_mode;

typedef struct cs_sampler_params {
    int mode;            /* cs_sampler_mode */
    int split;           /* CS_STORE_TRAIN or CS_STORE_VAL */
    size_t T;            /* context, tokens; a window holds T + 1 tokens */
    size_t batch_tokens; /* B·T, tokens per batch */
    bool round_batch;    /* false: batch_tokens must be a multiple of T; true: B is
                            rounded down (cs_sampler_batch_size tells it) */
    size_t L_max;        /* longdoc: row length in inputs (rows hold L_max + 1 tokens);
                            T <= L_max */
    uint64_t seed;
    uint32_t sep_token;    /* packed, mixture: separator id after each document (default 0,
                              the NUL byte, which text corpora do not hold) */
    const double *weights; /* mixture: (n_weights = number of store sources) weight per
                              source id, >= 0, not all 0; NULL = each source's share of the
                              split's tokens */
    size_t n_weights;
    uint64_t upsample_threshold; /* mixture: documents with fewer tokens are kept with probability
                                    upsample_p; 0 = keep every document */
    double upsample_p;           /* mixture: in [0, 1]; default 1 */
} cs_sampler_params;

/* Where a window came from. */
typedef struct cs_sampler_window {
    size_t doc;      /* store document of the window's first token */
    uint64_t pos;    /* position of that token in the document (packed, mixture: n_tokens of the
                        document when the first token is its separator) */
    uint32_t source; /* mixture: the source drawn; otherwise the source of `doc` */
    int64_t seam;    /* longdoc: t in 1..T when tokens t - 1 and t are the end and the start of
                        the rolled row (the roll's seam), else -1; packed, mixture: -1 */
    uint64_t epoch;  /* pass over the view (mixture: over the source's windows) */
} cs_sampler_window;

/* Counters after `steps` batches (steps 0 .. steps - 1). */
typedef struct cs_sampler_counts {
    uint64_t tokens_seen;   /* steps·B·T: targets predicted */
    uint64_t unique_tokens; /* distinct token positions that were targets (separators count) */
    double epochs;          /* tokens_seen / tokens of the split */
    double view_epochs;     /* windows drawn / windows of the view (mixture: the largest such
                               ratio over sources) */
} cs_sampler_counts;

/* Facts about the longdoc view of a split, for a given L_max. */
typedef struct cs_sampler_view {
    uint64_t rows;         /* rows of L_max + 1 tokens */
    uint64_t docs;         /* documents with at least L_max + 1 tokens */
    uint64_t row_tokens;   /* rows·(L_max + 1) */
    uint64_t split_tokens; /* tokens of the split */
    uint64_t longest;      /* tokens of the split's longest document */
} cs_sampler_view;

typedef struct cs_sampler cs_sampler;

/* Defaults: longdoc, train, T 0, batch_tokens 0 (both must be set), round_batch false, L_max 0,
 * seed 0, sep_token 0, weights NULL, upsample_threshold 0, upsample_p 1. */
cs_sampler_params cs_sampler_default_params(void);

/* Counts the longdoc view of `split` for rows of L_max + 1 tokens into *v. CS_EINPUT when no
 * document is long enough ("<store>: split train: no document has the 8193 tokens a row of
 * L_max = 8192 needs (L_max + 1); the longest has 5000"), when L_max is 0, or for an empty split;
 * CS_EINVAL for a bad split. *v is filled in every case but the last. */
int cs_sampler_view_info(const cs_store *store, int split, size_t L_max, cs_sampler_view *v);

/* A sampler over `store` (which must outlive it). Builds the longdoc rows or the packed streams
 * (O(documents) memory). NULL with the message recorded:
 *   CS_EINPUT  T is 0 or larger than L_max ("context T = 16384 is larger than L_max = 8192"),
 *              L_max 0 (longdoc), no document long enough (as cs_sampler_view_info), a split or
 *              source with fewer than T + 1 tokens (packed, mixture), batch_tokens not a multiple
 *              of T without round_batch or smaller than T, sep_token >= vocab, a weight negative
 *              or not finite, all weights 0, upsample_p outside [0, 1];
 *   CS_EINVAL  bad mode or split, n_weights not the store's source count, weights or upsampling
 *              given to a mode other than mixture;
 *   CS_ENOMEM. */
cs_sampler *cs_sampler_alloc(const cs_store *store, const cs_sampler_params *p);

/* Frees a sampler. Accepts NULL. */
void cs_sampler_free(cs_sampler *s);

/* Windows per batch B, and the context T. */
size_t cs_sampler_batch_size(const cs_sampler *s);
size_t cs_sampler_context(const cs_sampler *s);

/* Windows in one pass over the view (mixture: summed over sources). */
uint64_t cs_sampler_n_windows(const cs_sampler *s);

/* Fills tokens (B, T + 1), row b = window b of batch `step`: inputs tokens[b][0..T), targets
 * tokens[b][1..T]; and info[b] (info may be NULL). Depends only on (seed, step) and the store:
 * thread-safe, callable in any order. CS_EINVAL when step·B overflows 64 bits. */
int cs_sampler_batch(const cs_sampler *s, uint64_t step, uint32_t *tokens, cs_sampler_window *info);

/* Counters after `steps` batches into *c (O(sources²), no reading of tokens). */
int cs_sampler_count(const cs_sampler *s, uint64_t steps, cs_sampler_counts *c);

/* Windows drawn from each source id during steps 0 .. steps - 1, into draws (room for the
 * store's source count; mixture: by the schedule; other modes: by the source of each window's
 * first token, which reads the windows' positions, O(steps·B)). */
int cs_sampler_source_draws(const cs_sampler *s, uint64_t steps, uint64_t *draws);

#ifdef __cplusplus
}
#endif
#endif /* CS_DATA_SAMPLER_H */
