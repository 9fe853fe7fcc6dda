/* data/bpe.c: byte-level BPE: pre-tokeniser, training, encoding, decoding, tokenizer file.
 * The pre-tokenisation rule, the training algorithm and the file format are written down in
 * docs/tokenizer.md. Test: tests/unit/test_bpe.c (make test); fuzz: fuzz/fuzz_bpe.c;
 * benchmark: bench/bench_bpe.c.
 */
#include "data/bpe.h"

#include "core/afile.h"
#include "core/error.h"
#include "core/parse.h"
#include "data/tokenizer.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---- pre-tokeniser ----------------------------------------------------------------------------

/* Byte classes. The three non-whitespace classes come first so `cls <= K_P` tests for them. */
enum { K_L = 0, K_D = 1, K_P = 2, K_S = 3, K_W = 4 };

// clang-format off
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const uint8_t byte_class[256] = {
    /* 0x00 */ K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_W, K_W, K_W, K_W, K_W, K_P, K_P,
    /* 0x10 */ R16(K_P),
    /* 0x20 */ K_S, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P, K_P,
    /* 0x30 */ K_D, K_D, K_D, K_D, K_D, K_D, K_D, K_D, K_D, K_D, K_P, K_P, K_P, K_P, K_P, K_P,
    /* 0x40 */ K_P, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L,
    /* 0x50 */ K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_P, K_P, K_P, K_P, K_P,
    /* 0x60 */ K_P, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L,
    /* 0x70 */ K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_L, K_P, K_P, K_P, K_P, K_P,
    /* 0x80 */ R16(K_L), R16(K_L), R16(K_L), R16(K_L), R16(K_L), R16(K_L), R16(K_L), R16(K_L),
};
#undef R16
// clang-format on

static inline size_t pretoken_len(const uint8_t *s, size_t n)
{
    size_t max = n < CS_BPE_PRETOKEN_MAX ? n : CS_BPE_PRETOKEN_MAX;
    size_t i = 0;
    unsigned c0 = byte_class[s[0]];

    if (c0 == K_S && n > 1 && byte_class[s[1]] <= K_P) {
        i = 1; /* one space joins the word that follows it */
        c0 = byte_class[s[1]];
    }
    if (c0 <= K_P) {
        for (i++; i < max && byte_class[s[i]] == c0; i++)
            ;
        return i;
    }
    for (i = 1; i < max && byte_class[s[i]] >= K_S; i++)
        ;
    /* A run of whitespace leaves its last space to the word after it (" x" stays one piece). */
    if (i < n && i >= 2 && byte_class[s[i]] <= K_P && s[i - 1] == ' ')
        i--;
    return i;
}

size_t cs_bpe_pretoken_len(const uint8_t *s, size_t n)
{
    return n == 0 ? 0 : pretoken_len(s, n);
}

size_t cs_bpe_boundary(const uint8_t *text, size_t n, size_t from)
{
    size_t k;

    for (k = from > 1 ? from : 1; k < n; k++)
        if (byte_class[text[k - 1]] <= K_P && byte_class[text[k]] >= K_S)
            return k;
    return n;
}

// ---- hashing ----------------------------------------------------------------------------------

#define GOLDEN 0x9e3779b97f4a7c15ull

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

static inline uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x243f6a8885a308d3ull ^ (n * GOLDEN);
    uint64_t v;

    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&v, p, 8);
        h = (h ^ v) * 0x9fb21c651e98df25ull;
        h ^= h >> 29;
    }
    if (n > 0) {
        v = 0;
        memcpy(&v, p, n);
        h = (h ^ v) * 0x9fb21c651e98df25ull;
    }
    return mix64(h);
}

static inline uint64_t pair_key(uint32_t a, uint32_t b)
{
    return (uint64_t)a << 32 | b;
}

#define KEY_EMPTY UINT64_MAX
#define RANK_NONE UINT32_MAX

/* Open-addressing map from a pair key to a uint32 (linear probing, load <= 1/2, no deletion). */
typedef struct pmap {
    uint64_t *key; /* (mask + 1); KEY_EMPTY marks a free slot */
    uint32_t *val; /* (mask + 1) */
    size_t mask;
    size_t n;
    unsigned shift; /* 64 - log2(mask + 1) */
} pmap;

static int pmap_init(pmap *m, size_t want)
{
    size_t cap = 16;
    unsigned bits = 4;

    while (cap < 2 * want) {
        cap *= 2;
        bits++;
    }
    m->key = malloc(cap * sizeof *m->key);
    m->val = malloc(cap * sizeof *m->val);
    if (m->key == NULL || m->val == NULL) {
        free(m->key);
        free(m->val);
        m->key = NULL;
        m->val = NULL;
        return CS_ENOMEM;
    }
    memset(m->key, 0xff, cap * sizeof *m->key);
    m->mask = cap - 1;
    m->n = 0;
    m->shift = 64 - bits;
    return CS_OK;
}

static void pmap_free(pmap *m)
{
    free(m->key);
    free(m->val);
    m->key = NULL;
    m->val = NULL;
}

/* Index of the slot holding key, or of the free slot where it would go. */
static inline size_t pmap_slot(const pmap *m, uint64_t key)
{
    size_t i = (size_t)((key * GOLDEN) >> m->shift);

    while (m->key[i] != KEY_EMPTY && m->key[i] != key)
        i = (i + 1) & m->mask;
    return i;
}

static inline uint32_t pmap_get(const pmap *m, uint64_t key)
{
    size_t i = pmap_slot(m, key);

    return m->key[i] == key ? m->val[i] : RANK_NONE;
}

static int pmap_grow(pmap *m)
{
    pmap big;
    size_t i;

    if (pmap_init(&big, m->mask + 1))
        return CS_ENOMEM;
    for (i = 0; i <= m->mask; i++) {
        if (m->key[i] != KEY_EMPTY) {
            size_t j = pmap_slot(&big, m->key[i]);
            big.key[j] = m->key[i];
            big.val[j] = m->val[i];
        }
    }
    big.n = m->n;
    pmap_free(m);
    *m = big;
    return CS_OK;
}

/* Inserts key -> val; key must be absent. */
static int pmap_put(pmap *m, uint64_t key, uint32_t val)
{
    size_t i;

    if (2 * (m->n + 1) > m->mask + 1 && pmap_grow(m))
        return CS_ENOMEM;
    i = pmap_slot(m, key);
    m->key[i] = key;
    m->val[i] = val;
    m->n++;
    return CS_OK;
}

// ---- the model --------------------------------------------------------------------------------

struct cs_bpe {
    size_t n_merges;
    uint32_t *left;         /* (n_merges) left token of merge k */
    uint32_t *right;        /* (n_merges) right token of merge k */
    uint64_t *tokens_after; /* (n_merges) tokens of the training text after merge k */
    uint64_t text_bytes;    /* bytes of the training text; 0 for the byte model */
    uint32_t *tok_off;      /* (256 + n_merges) offset of each token's bytes in tok_bytes */
    uint16_t *tok_len;      /* (256 + n_merges) bytes per token, <= CS_BPE_PRETOKEN_MAX */
    uint8_t *tok_bytes;     /* the bytes of every token, concatenated */
    pmap rank;              /* (left, right) -> k */
};

static cs_bpe *bpe_alloc(size_t n_merges)
{
    cs_bpe *b = calloc(1, sizeof *b);
    size_t m = n_merges > 0 ? n_merges : 1;

    if (b == NULL)
        return NULL;
    b->left = malloc(m * sizeof *b->left);
    b->right = malloc(m * sizeof *b->right);
    b->tokens_after = malloc(m * sizeof *b->tokens_after);
    if (b->left == NULL || b->right == NULL || b->tokens_after == NULL) {
        cs_bpe_free(b);
        return NULL;
    }
    b->n_merges = n_merges;
    return b;
}

void cs_bpe_free(cs_bpe *b)
{
    if (b == NULL)
        return;
    free(b->left);
    free(b->right);
    free(b->tokens_after);
    free(b->tok_off);
    free(b->tok_len);
    free(b->tok_bytes);
    pmap_free(&b->rank);
    free(b);
}

/* Fills tok_len and checks every token fits in a pre-token. `name`/`line0` locate merge k at
 * name:(line0 + k) in messages. */
static int bpe_lengths(cs_bpe *b, const char *name, size_t line0, size_t *total)
{
    size_t v = 256 + b->n_merges;
    size_t k;

    b->tok_len = malloc(v * sizeof *b->tok_len);
    b->tok_off = malloc(v * sizeof *b->tok_off);
    if (b->tok_len == NULL || b->tok_off == NULL)
        return cs_fail(CS_ENOMEM, "BPE model of %zu tokens: out of memory", v);
    *total = 256;
    for (k = 0; k < 256; k++)
        b->tok_len[k] = 1;
    for (k = 0; k < b->n_merges; k++) {
        size_t len = (size_t)b->tok_len[b->left[k]] + b->tok_len[b->right[k]];
        if (len > CS_BPE_PRETOKEN_MAX)
            return cs_fail(CS_EINPUT,
                           "%s:%zu: merge %zu makes a token of %zu bytes; expected at most %d "
                           "(the longest pre-token)",
                           name, line0 + k, k, len, CS_BPE_PRETOKEN_MAX);
        b->tok_len[256 + k] = (uint16_t)len;
        *total += len;
    }
    return CS_OK;
}

/* Builds the token bytes and the rank map from the merges (which refer only to earlier tokens).
 * CS_EINPUT for a token that is too long or a repeated merge, CS_ENOMEM. */
static int bpe_build(cs_bpe *b, const char *name, size_t line0)
{
    size_t total = 0;
    size_t k;
    int st;

    st = bpe_lengths(b, name, line0, &total);
    if (st)
        return st;
    b->tok_bytes = malloc(total);
    if (b->tok_bytes == NULL || pmap_init(&b->rank, b->n_merges))
        return cs_fail(CS_ENOMEM, "BPE model of %zu merges: out of memory", b->n_merges);
    for (k = 0; k < 256; k++) {
        b->tok_off[k] = (uint32_t)k;
        b->tok_bytes[k] = (uint8_t)k;
    }
    total = 256;
    for (k = 0; k < b->n_merges; k++) {
        uint32_t l = b->left[k];
        uint32_t r = b->right[k];
        uint32_t dup = pmap_get(&b->rank, pair_key(l, r));
        if (dup != RANK_NONE)
            return cs_fail(CS_EINPUT, "%s:%zu: merge %zu (%u %u) repeats merge %u", name, line0 + k,
                           k, l, r, dup);
        if (pmap_put(&b->rank, pair_key(l, r), (uint32_t)k))
            return cs_fail(CS_ENOMEM, "BPE model of %zu merges: out of memory", b->n_merges);
        b->tok_off[256 + k] = (uint32_t)total;
        memcpy(b->tok_bytes + total, b->tok_bytes + b->tok_off[l], b->tok_len[l]);
        memcpy(b->tok_bytes + total + b->tok_len[l], b->tok_bytes + b->tok_off[r], b->tok_len[r]);
        total += (size_t)b->tok_len[l] + b->tok_len[r];
    }
    return CS_OK;
}

cs_bpe *cs_bpe_alloc_byte(void)
{
    cs_bpe *b = bpe_alloc(0);

    if (b == NULL) {
        cs_fail(CS_ENOMEM, "byte tokenizer: out of memory");
        return NULL;
    }
    if (bpe_build(b, "byte tokenizer", 0)) {
        cs_bpe_free(b);
        return NULL;
    }
    return b;
}

size_t cs_bpe_vocab(const cs_bpe *b)
{
    return 256 + b->n_merges;
}

int cs_bpe_merge(const cs_bpe *b, size_t k, uint32_t *left, uint32_t *right)
{
    if (k >= b->n_merges)
        return cs_fail(CS_EINVAL, "merge %zu: the model has %zu merges", k, b->n_merges);
    *left = b->left[k];
    *right = b->right[k];
    return CS_OK;
}

const uint8_t *cs_bpe_token_bytes(const cs_bpe *b, uint32_t id, size_t *len)
{
    if (id >= 256 + b->n_merges)
        return NULL;
    *len = b->tok_len[id];
    return b->tok_bytes + b->tok_off[id];
}

int cs_bpe_prefix(const cs_bpe *b, size_t vocab, cs_bpe **out)
{
    cs_bpe *p;
    size_t m;

    if (vocab < 256 || vocab > cs_bpe_vocab(b))
        return cs_fail(CS_EINPUT, "vocabulary %zu: expected 256 to %zu, the size of the model",
                       vocab, cs_bpe_vocab(b));
    m = vocab - 256;
    p = bpe_alloc(m);
    if (p == NULL)
        return cs_fail(CS_ENOMEM, "BPE prefix of %zu merges: out of memory", m);
    if (m > 0) {
        memcpy(p->left, b->left, m * sizeof *p->left);
        memcpy(p->right, b->right, m * sizeof *p->right);
        memcpy(p->tokens_after, b->tokens_after, m * sizeof *p->tokens_after);
    }
    p->text_bytes = b->text_bytes;
    if (bpe_build(p, "BPE prefix", 0)) {
        cs_bpe_free(p);
        return CS_ENOMEM;
    }
    *out = p;
    return CS_OK;
}

// ---- training: counting pre-tokens ------------------------------------------------------------

/* One distinct pre-token: its bytes live in the table's arena. count == 0 marks a free slot. */
typedef struct wslot {
    uint64_t count; /* occurrences in the text */
    uint64_t off;   /* offset of its bytes in the arena */
    uint32_t len;   /* bytes, <= CS_BPE_PRETOKEN_MAX */
    uint32_t hash;  /* low 32 bits of hash_bytes; also picks the slot */
} wslot;

typedef struct wtab {
    wslot *slot; /* (mask + 1) */
    size_t mask;
    size_t n;       /* used slots */
    uint8_t *arena; /* (arena_cap) pre-token bytes */
    size_t arena_n;
    size_t arena_cap;
} wtab;

static int wtab_init(wtab *t, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->slot = calloc(cap, sizeof *t->slot);
    t->arena_cap = 1 << 16;
    t->arena = malloc(t->arena_cap);
    t->mask = cap - 1;
    return t->slot != NULL && t->arena != NULL ? CS_OK : CS_ENOMEM;
}

static void wtab_free(wtab *t)
{
    free(t->slot);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

static int wtab_grow(wtab *t)
{
    size_t cap = 2 * (t->mask + 1);
    wslot *s = calloc(cap, sizeof *s);
    size_t i;

    if (s == NULL)
        return CS_ENOMEM;
    for (i = 0; i <= t->mask; i++) {
        size_t j = t->slot[i].hash & (cap - 1);
        if (t->slot[i].count == 0)
            continue;
        while (s[j].count != 0)
            j = (j + 1) & (cap - 1);
        s[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = s;
    t->mask = cap - 1;
    return CS_OK;
}

static int wtab_insert(wtab *t, wslot *e, const uint8_t *s, uint32_t len, uint32_t h, uint64_t c)
{
    if (t->arena_n + len > t->arena_cap) {
        size_t cap = 2 * t->arena_cap + len;
        uint8_t *a = realloc(t->arena, cap);
        if (a == NULL)
            return CS_ENOMEM;
        t->arena = a;
        t->arena_cap = cap;
    }
    memcpy(t->arena + t->arena_n, s, len);
    e->count = c;
    e->off = t->arena_n;
    e->len = len;
    e->hash = h;
    t->arena_n += len;
    t->n++;
    return 2 * t->n > t->mask + 1 ? wtab_grow(t) : CS_OK;
}

/* Adds c occurrences of the pre-token s[0..len) with hash h. */
static inline int wtab_add(wtab *t, const uint8_t *s, uint32_t len, uint32_t h, uint64_t c)
{
    size_t i = h & t->mask;

    for (;;) {
        wslot *e = &t->slot[i];
        if (e->count == 0)
            return wtab_insert(t, e, s, len, h, c);
        if (e->hash == h && e->len == len && memcmp(t->arena + e->off, s, len) == 0) {
            e->count += c;
            return CS_OK;
        }
        i = (i + 1) & t->mask;
    }
}

typedef struct count_job {
    const uint8_t *s; /* (n) this thread's slice, cut at pre-token boundaries */
    size_t n;
    wtab tab;
    int status;
} count_job;

static void *count_run(void *arg)
{
    count_job *j = arg;
    size_t i = 0;
    size_t cap = 1024;

    while (cap < 65536 && cap < j->n / 8)
        cap *= 2;
    j->status = wtab_init(&j->tab, cap);
    while (j->status == CS_OK && i < j->n) {
        size_t len = pretoken_len(j->s + i, j->n - i);
        uint32_t h = (uint32_t)hash_bytes(j->s + i, len);
        j->status = wtab_add(&j->tab, j->s + i, (uint32_t)len, h, 1);
        i += len;
    }
    return NULL;
}

static size_t thread_count(size_t want, size_t n)
{
    long online;

    if (want == 0) {
        online = sysconf(_SC_NPROCESSORS_ONLN);
        want = online > 0 ? (size_t)online : 1;
    }
    if (want > 16)
        want = 16;
    if (n < ((size_t)1 << 22)) /* below 4 MB a thread costs more than it saves */
        want = 1;
    return want;
}

/* Folds the tables of jobs 1..nj-1 into job 0's. */
static int count_fold(count_job *jobs, size_t nj)
{
    size_t j;
    size_t i;

    for (j = 1; j < nj; j++) {
        const wtab *t = &jobs[j].tab;
        for (i = 0; i <= t->mask; i++) {
            const wslot *e = &t->slot[i];
            if (e->count != 0 &&
                wtab_add(&jobs[0].tab, t->arena + e->off, e->len, e->hash, e->count))
                return CS_ENOMEM;
        }
        wtab_free(&jobs[j].tab);
    }
    return CS_OK;
}

/* Counts the distinct pre-tokens of text[0..n) into *out (owned by the caller on success). */
static int count_pretokens(const uint8_t *text, size_t n, size_t want, wtab *out)
{
    size_t nj = thread_count(want, n);
    count_job jobs[16];
    pthread_t tid[16];
    bool started[16] = {false};
    size_t j;
    size_t from = 0;
    int st = CS_OK;

    memset(jobs, 0, sizeof jobs);
    for (j = 0; j < nj; j++) {
        size_t to = j + 1 == nj ? n : cs_bpe_boundary(text, n, n / nj * (j + 1));
        jobs[j].s = text + from;
        jobs[j].n = to < from ? 0 : to - from;
        from = to > from ? to : from;
    }
    for (j = 1; j < nj; j++)
        started[j] = pthread_create(&tid[j], NULL, count_run, &jobs[j]) == 0;
    count_run(&jobs[0]);
    for (j = 1; j < nj; j++) {
        if (started[j])
            pthread_join(tid[j], NULL);
        else
            count_run(&jobs[j]); /* no thread to be had: count it here */
    }
    for (j = 0; j < nj; j++)
        st = st ? st : jobs[j].status;
    if (st == CS_OK)
        st = count_fold(jobs, nj);
    for (j = st == CS_OK ? 1 : 0; j < nj; j++)
        wtab_free(&jobs[j].tab);
    if (st)
        return cs_fail(CS_ENOMEM, "counting pre-tokens of %zu bytes: out of memory", n);
    *out = jobs[0].tab;
    return CS_OK;
}

// ---- training: words, pairs, heap -------------------------------------------------------------

/* A pair of adjacent symbols, its weighted count over all words, and the words that may hold
 * it (a word is listed at most once; it may have lost the pair since). */
typedef struct pair {
    int64_t count;   /* occurrences, weighted by word counts */
    uint32_t *words; /* (nw) word indices, capacity cw */
    uint32_t nw;
    uint32_t cw;
    uint32_t a;     /* left symbol */
    uint32_t b;     /* right symbol */
    uint32_t stamp; /* 1 + the merge that last created or raised it; 0 never */
} pair;

/* Heap entry: an upper bound on a pair's count (counts of old pairs only fall). */
typedef struct hent {
    int64_t count;
    uint64_t key; /* pair_key(a, b): ties go to the smaller key */
    uint32_t idx; /* index in trainer.pairs */
} hent;

typedef struct trainer {
    size_t n_words;
    uint32_t *sym;  /* symbols of every word, concatenated; words shrink in place */
    size_t *woff;   /* (n_words) start of each word in sym */
    uint32_t *wlen; /* (n_words) current symbols per word */
    uint64_t *wcnt; /* (n_words) occurrences of each word in the text */
    pair *pairs;    /* (n_pairs), capacity cap_pairs */
    size_t n_pairs;
    size_t cap_pairs;
    pmap index; /* pair_key -> index in pairs */
    hent *heap; /* (n_heap), capacity cap_heap; max-heap by (count, -key) */
    size_t n_heap;
    size_t cap_heap;
    uint32_t *touched; /* (n_touched) pairs raised by the current merge */
    size_t n_touched;
    size_t cap_touched;
    uint64_t merging; /* key of the pair being merged */
    uint32_t stamp;   /* 1 + index of the current merge */
    uint64_t total;   /* tokens of the whole text right now */
    bool oom;         /* an allocation failed; the run stops after this merge */
} trainer;

static void trainer_free(trainer *t)
{
    size_t i;

    for (i = 0; i < t->n_pairs; i++)
        free(t->pairs[i].words);
    free(t->pairs);
    free(t->sym);
    free(t->woff);
    free(t->wlen);
    free(t->wcnt);
    pmap_free(&t->index);
    free(t->heap);
    free(t->touched);
}

static inline bool hent_before(const hent *x, const hent *y)
{
    return x->count > y->count || (x->count == y->count && x->key < y->key);
}

static void heap_down(hent *h, size_t n, size_t i)
{
    hent e = h[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && hent_before(&h[c + 1], &h[c]))
            c++;
        if (!hent_before(&h[c], &e))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = e;
}

static void heap_push(trainer *t, uint32_t idx)
{
    hent e = {t->pairs[idx].count, pair_key(t->pairs[idx].a, t->pairs[idx].b), idx};
    size_t i;

    if (t->n_heap == t->cap_heap) {
        size_t cap = t->cap_heap ? 2 * t->cap_heap : 1024;
        hent *h = realloc(t->heap, cap * sizeof *h);
        if (h == NULL) {
            t->oom = true;
            return;
        }
        t->heap = h;
        t->cap_heap = cap;
    }
    for (i = t->n_heap++; i > 0 && hent_before(&e, &t->heap[(i - 1) / 2]); i = (i - 1) / 2)
        t->heap[i] = t->heap[(i - 1) / 2];
    t->heap[i] = e;
}

static bool heap_pop(trainer *t, hent *out)
{
    if (t->n_heap == 0)
        return false;
    *out = t->heap[0];
    t->heap[0] = t->heap[--t->n_heap];
    if (t->n_heap > 0)
        heap_down(t->heap, t->n_heap, 0);
    return true;
}

/* Index of pair (a, b), created with count 0 when new; UINT32_MAX (and oom) on failure. */
static uint32_t pair_get(trainer *t, uint32_t a, uint32_t b)
{
    uint64_t key = pair_key(a, b);
    size_t i = pmap_slot(&t->index, key);
    pair *p;

    if (t->index.key[i] == key)
        return t->index.val[i];
    if (t->n_pairs == t->cap_pairs) {
        size_t cap = 2 * t->cap_pairs;
        p = realloc(t->pairs, cap * sizeof *p);
        if (p == NULL)
            goto out_oom;
        t->pairs = p;
        t->cap_pairs = cap;
    }
    if (pmap_put(&t->index, key, (uint32_t)t->n_pairs))
        goto out_oom;
    p = &t->pairs[t->n_pairs];
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    return (uint32_t)t->n_pairs++;
out_oom:
    t->oom = true;
    return UINT32_MAX;
}

/* Lists word w under pair p unless it is already the last one listed. */
static inline void pair_list(trainer *t, pair *p, uint32_t w)
{
    if (p->nw > 0 && p->words[p->nw - 1] == w)
        return;
    if (p->nw == p->cw) {
        uint32_t cap = p->cw ? 2 * p->cw : 2;
        uint32_t *v = realloc(p->words, cap * sizeof *v);
        if (v == NULL) {
            t->oom = true;
            return;
        }
        p->words = v;
        p->cw = cap;
    }
    p->words[p->nw++] = w;
}

/* Pair (x, y) gained f occurrences in word w during the current merge. */
static void pair_inc(trainer *t, uint32_t x, uint32_t y, uint64_t f, uint32_t w)
{
    uint32_t i = pair_get(t, x, y);
    pair *p;

    if (i == UINT32_MAX)
        return;
    p = &t->pairs[i];
    p->count += (int64_t)f;
    pair_list(t, p, w);
    if (p->stamp != t->stamp) {
        p->stamp = t->stamp;
        if (t->n_touched == t->cap_touched) {
            size_t cap = t->cap_touched ? 2 * t->cap_touched : 256;
            uint32_t *v = realloc(t->touched, cap * sizeof *v);
            if (v == NULL) {
                t->oom = true;
                return;
            }
            t->touched = v;
            t->cap_touched = cap;
        }
        t->touched[t->n_touched++] = i;
    }
}

/* Pair (x, y) lost f occurrences. It exists: the word held it. */
static void pair_dec(trainer *t, uint32_t x, uint32_t y, uint64_t f)
{
    uint64_t key = pair_key(x, y);
    uint32_t i;

    if (key == t->merging)
        return; /* the merged pair itself is retired as a whole */
    i = pmap_get(&t->index, key);
    CS_ASSERT(i != RANK_NONE);
    t->pairs[i].count -= (int64_t)f;
}

/* Splits the counted pre-tokens into words of byte symbols. */
static int words_build(trainer *t, const wtab *tab)
{
    size_t i;
    size_t w = 0;
    size_t pos = 0;

    if (tab->n > INT32_MAX) /* word indices and pair list capacities are 32-bit */
        return cs_fail(CS_EINPUT,
                       "training text has %zu distinct pre-tokens; at most %d "
                       "are supported",
                       tab->n, INT32_MAX);
    t->n_words = tab->n;
    t->sym = malloc((tab->arena_n + 1) * sizeof *t->sym);
    t->woff = malloc(tab->n * sizeof *t->woff);
    t->wlen = malloc(tab->n * sizeof *t->wlen);
    t->wcnt = malloc(tab->n * sizeof *t->wcnt);
    if (t->sym == NULL || t->woff == NULL || t->wlen == NULL || t->wcnt == NULL)
        return cs_fail(CS_ENOMEM, "BPE words (%zu distinct pre-tokens): out of memory", tab->n);
    t->total = 0;
    for (i = 0; i <= tab->mask; i++) {
        const wslot *e = &tab->slot[i];
        size_t k;
        if (e->count == 0)
            continue;
        t->woff[w] = pos;
        t->wlen[w] = e->len;
        t->wcnt[w] = e->count;
        for (k = 0; k < e->len; k++)
            t->sym[pos + k] = tab->arena[e->off + k];
        t->total += e->count * e->len;
        pos += e->len;
        w++;
    }
    return CS_OK;
}

/* Counts every adjacent byte pair over the words. A dense table of the 65536 byte pairs finds
 * their slots in this first pass without hashing. */
static int pairs_count(trainer *t)
{
    uint32_t *dense = malloc(65536 * sizeof *dense);
    size_t i;
    size_t w;

    t->cap_pairs = 1024;
    t->pairs = malloc(t->cap_pairs * sizeof *t->pairs);
    if (dense == NULL || t->pairs == NULL || pmap_init(&t->index, 1024)) {
        free(dense);
        return cs_fail(CS_ENOMEM, "BPE pair table: out of memory");
    }
    memset(dense, 0xff, 65536 * sizeof *dense);
    for (w = 0; w < t->n_words && !t->oom; w++) {
        const uint32_t *s = t->sym + t->woff[w];
        for (i = 0; i + 1 < t->wlen[w] && !t->oom; i++) {
            uint32_t *d = &dense[s[i] << 8 | s[i + 1]];
            if (*d == UINT32_MAX && (*d = pair_get(t, s[i], s[i + 1])) == UINT32_MAX)
                break;
            t->pairs[*d].count += (int64_t)t->wcnt[w];
            pair_list(t, &t->pairs[*d], (uint32_t)w);
        }
    }
    free(dense);
    if (t->oom)
        return cs_fail(CS_ENOMEM, "BPE pair lists: out of memory");
    return CS_OK;
}

static int heap_build(trainer *t, uint64_t min_count)
{
    size_t i;

    t->cap_heap = t->n_pairs > 0 ? t->n_pairs : 1;
    t->heap = malloc(t->cap_heap * sizeof *t->heap);
    if (t->heap == NULL)
        return cs_fail(CS_ENOMEM, "BPE heap: out of memory");
    for (i = 0; i < t->n_pairs; i++) {
        const pair *p = &t->pairs[i];
        if (p->count > 0 && (uint64_t)p->count >= min_count)
            t->heap[t->n_heap++] = (hent){p->count, pair_key(p->a, p->b), (uint32_t)i};
    }
    for (i = t->n_heap / 2; i-- > 0;)
        heap_down(t->heap, t->n_heap, i);
    return CS_OK;
}

// ---- training: merging ------------------------------------------------------------------------

/* Replaces every (a, b) in word w, left to right, by c, and moves the neighbouring pair counts:
 * x a b y becomes x c y, so (x, a) and (b, y) lose f and (x, c) and (c, y) gain f. */
static void word_merge(trainer *t, uint32_t w, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t *s = t->sym + t->woff[w];
    size_t len = t->wlen[w];
    uint64_t f = t->wcnt[w];
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        if (i + 1 < len && s[i] == a && s[i + 1] == b) {
            if (o > 0) {
                pair_dec(t, s[o - 1], a, f);
                pair_inc(t, s[o - 1], c, f, w);
            }
            if (i + 2 < len) {
                pair_dec(t, b, s[i + 2], f);
                pair_inc(t, c, s[i + 2], f, w);
            }
            s[o++] = c;
            i += 2;
            t->total -= f;
        } else {
            s[o++] = s[i++];
        }
    }
    t->wlen[w] = (uint32_t)o;
}

/* Applies the merge of pair idx into token c to every word listed under it. */
static void merge_apply(trainer *t, uint32_t idx, uint32_t c, uint64_t min_count)
{
    pair *p = &t->pairs[idx];
    uint32_t *words = p->words;
    size_t nw = p->nw;
    uint32_t a = p->a;
    uint32_t b = p->b;
    size_t i;

    p->words = NULL;
    p->nw = 0;
    p->cw = 0;
    p->count = 0;
    t->merging = pair_key(a, b);
    t->n_touched = 0;
    for (i = 0; i < nw; i++)
        word_merge(t, words[i], a, b, c);
    free(words);
    /* Pairs holding c are new, so they are the only counts that rose: push them once. */
    for (i = 0; i < t->n_touched; i++) {
        const pair *q = &t->pairs[t->touched[i]];
        if (q->count > 0 && (uint64_t)q->count >= min_count)
            heap_push(t, t->touched[i]);
    }
}

/* Runs merges until b holds `target` of them or no pair is frequent enough; b->n_merges is set
 * to the number made. */
static int merges_run(trainer *t, size_t target, uint64_t min_count, cs_bpe *b)
{
    size_t k = 0;
    hent top;

    while (k < target && heap_pop(t, &top)) {
        pair *p = &t->pairs[top.idx];
        if (p->count != top.count) { /* stale: the true count is lower */
            if (p->count > 0 && (uint64_t)p->count >= min_count)
                heap_push(t, top.idx);
            continue;
        }
        b->left[k] = p->a;
        b->right[k] = p->b;
        t->stamp = (uint32_t)k + 1;
        merge_apply(t, top.idx, (uint32_t)(256 + k), min_count);
        b->tokens_after[k] = t->total;
        k++;
        if (t->oom)
            return cs_fail(CS_ENOMEM, "BPE training, merge %zu: out of memory", k);
    }
    b->n_merges = k;
    return CS_OK;
}

cs_bpe_params cs_bpe_default_params(void)
{
    cs_bpe_params p = {0, 2, false, 0, NULL};

    return p;
}

static int train_check(const uint8_t *text, size_t n, const cs_bpe_params *p, const char *what)
{
    if (p == NULL || (text == NULL && n > 0))
        return cs_fail(CS_EINVAL, "cs_bpe_train: NULL argument");
    if (p->min_count == 0)
        return cs_fail(CS_EINVAL, "cs_bpe_train: min_count must be at least 1");
    if (n == 0)
        return cs_fail(CS_EINPUT, "%s: training text is empty", what);
    return cs_tok_check_vocab(p->vocab, CS_TOK_MAX_VOCAB, what);
}

static int train_short(const cs_bpe *b, size_t target, const cs_bpe_params *p, const char *what)
{
    return cs_fail(CS_EINPUT,
                   "%s: the text allows only %zu merges (vocabulary %zu) with pairs seen at least "
                   "%llu times; vocabulary %zu needs %zu merges: give more text or ask for a "
                   "smaller vocabulary",
                   what, b->n_merges, cs_bpe_vocab(b), (unsigned long long)p->min_count, p->vocab,
                   target);
}

int cs_bpe_train(const uint8_t *text, size_t n, const cs_bpe_params *p, cs_bpe **out)
{
    const char *what = p != NULL && p->what != NULL ? p->what : "text";
    trainer t;
    wtab tab;
    cs_bpe *b = NULL;
    size_t target;
    int st;

    st = train_check(text, n, p, what);
    if (st)
        return st;
    if (out == NULL)
        return cs_fail(CS_EINVAL, "cs_bpe_train: NULL argument");
    memset(&t, 0, sizeof t);
    target = p->vocab - 256;
    st = count_pretokens(text, n, p->n_threads, &tab);
    if (st)
        return st;
    st = words_build(&t, &tab);
    wtab_free(&tab);
    if (st == CS_OK)
        st = pairs_count(&t);
    if (st == CS_OK)
        st = heap_build(&t, p->min_count);
    if (st)
        goto out_free_trainer;
    b = bpe_alloc(target);
    if (b == NULL) {
        st = cs_fail(CS_ENOMEM, "BPE model of %zu merges: out of memory", target);
        goto out_free_trainer;
    }
    b->text_bytes = n;
    st = merges_run(&t, target, p->min_count, b);
    if (st == CS_OK && b->n_merges < target && !p->allow_fewer)
        st = train_short(b, target, p, what);
    if (st == CS_OK)
        st = bpe_build(b, what, 0);
    if (st)
        goto out_free_model;
    trainer_free(&t);
    *out = b;
    return CS_OK;
out_free_model:
    cs_bpe_free(b);
out_free_trainer:
    trainer_free(&t);
    return st;
}

// ---- encoding ---------------------------------------------------------------------------------

#define CACHE_BITS 15
#define CACHE_KEY  30 /* longest cached pre-token, bytes */

/* A direct-mapped cache entry: a pre-token and, in the encoder's ids array, its tokens. */
typedef struct cslot {
    uint8_t klen; /* 0 = empty */
    uint8_t nids;
    uint8_t key[CACHE_KEY];
} cslot;

struct cs_bpe_encoder {
    const cs_bpe *b;
    cslot *slot;                        /* (1 << CACHE_BITS) */
    uint32_t *ids;                      /* (1 << CACHE_BITS, CACHE_KEY) tokens of each slot */
    uint32_t sym[CS_BPE_PRETOKEN_MAX];  /* scratch: symbols of the pre-token being merged */
    uint32_t rank[CS_BPE_PRETOKEN_MAX]; /* scratch: rank of pair (sym[i], sym[i + 1]) */
};

cs_bpe_encoder *cs_bpe_encoder_alloc(const cs_bpe *b)
{
    cs_bpe_encoder *e = calloc(1, sizeof *e);

    if (e == NULL)
        goto out_fail;
    e->b = b;
    e->slot = calloc((size_t)1 << CACHE_BITS, sizeof *e->slot);
    e->ids = malloc(((size_t)1 << CACHE_BITS) * CACHE_KEY * sizeof *e->ids);
    if (e->slot == NULL || e->ids == NULL)
        goto out_free;
    return e;
out_free:
    cs_bpe_encoder_free(e);
out_fail:
    cs_fail(CS_ENOMEM, "BPE encoder: out of memory");
    return NULL;
}

void cs_bpe_encoder_free(cs_bpe_encoder *e)
{
    if (e == NULL)
        return;
    free(e->slot);
    free(e->ids);
    free(e);
}

static inline uint32_t rank_of(const cs_bpe *b, uint32_t x, uint32_t y)
{
    return pmap_get(&b->rank, pair_key(x, y));
}

/* Merges the pre-token s[0..len) (len >= 2) by rank into out; returns the token count. */
static size_t merge_pretoken(cs_bpe_encoder *e, const uint8_t *s, size_t len, uint32_t *out)
{
    uint32_t *sym = e->sym;
    uint32_t *rank = e->rank;
    size_t m = len;
    size_t i;

    for (i = 0; i < len; i++)
        sym[i] = s[i];
    for (i = 0; i + 1 < len; i++)
        rank[i] = rank_of(e->b, sym[i], sym[i + 1]);
    while (m > 1) {
        size_t best = 0;
        for (i = 1; i + 1 < m; i++)
            if (rank[i] < rank[best])
                best = i;
        if (rank[best] == RANK_NONE)
            break;
        sym[best] = 256 + rank[best];
        memmove(sym + best + 1, sym + best + 2, (m - best - 2) * sizeof *sym);
        if (m - 1 > best + 2)
            memmove(rank + best + 1, rank + best + 2, (m - best - 3) * sizeof *rank);
        m--;
        if (best > 0)
            rank[best - 1] = rank_of(e->b, sym[best - 1], sym[best]);
        if (best + 1 < m)
            rank[best] = rank_of(e->b, sym[best], sym[best + 1]);
    }
    memcpy(out, sym, m * sizeof *out);
    return m;
}

/* Encodes one pre-token into out, through the cache when it is short enough. */
static inline size_t encode_pretoken(cs_bpe_encoder *e, const uint8_t *s, size_t len, uint32_t *out)
{
    size_t h;
    cslot *c;
    uint32_t *ids;
    size_t m;

    if (len == 1) {
        out[0] = s[0];
        return 1;
    }
    if (len > CACHE_KEY)
        return merge_pretoken(e, s, len, out);
    h = (size_t)(hash_bytes(s, len) >> (64 - CACHE_BITS));
    c = &e->slot[h];
    ids = e->ids + h * CACHE_KEY;
    if (c->klen == len && memcmp(c->key, s, len) == 0) {
        memcpy(out, ids, c->nids * sizeof *out);
        return c->nids;
    }
    m = merge_pretoken(e, s, len, out);
    c->klen = (uint8_t)len;
    c->nids = (uint8_t)m;
    memcpy(c->key, s, len);
    memcpy(ids, out, m * sizeof *ids);
    return m;
}

int cs_bpe_encode(cs_bpe_encoder *e, const uint8_t *text, size_t n, uint32_t *ids, size_t *n_ids)
{
    size_t i = 0;
    size_t o = 0;

    if (e == NULL || n_ids == NULL || (n > 0 && (text == NULL || ids == NULL)))
        return cs_fail(CS_EINVAL, "cs_bpe_encode: NULL argument");
    if (e->b->n_merges == 0) {
        for (i = 0; i < n; i++)
            ids[i] = text[i];
        *n_ids = n;
        return CS_OK;
    }
    while (i < n) {
        size_t len = pretoken_len(text + i, n - i);
        o += encode_pretoken(e, text + i, len, ids + o);
        i += len;
    }
    *n_ids = o;
    return CS_OK;
}

int cs_bpe_decode(const cs_bpe *b, const uint32_t *ids, size_t n, uint8_t *out, size_t cap,
                  size_t *n_out)
{
    size_t v = cs_bpe_vocab(b);
    size_t need = 0;
    size_t i;

    if (n_out == NULL || (n > 0 && ids == NULL) || (cap > 0 && out == NULL))
        return cs_fail(CS_EINVAL, "cs_bpe_decode: NULL argument");
    for (i = 0; i < n; i++) {
        if (ids[i] >= v) {
            *n_out = 0;
            return cs_fail(CS_EINPUT, "token %zu: id %u is outside the vocabulary (0 to %zu)", i,
                           ids[i], v - 1);
        }
        need += b->tok_len[ids[i]];
    }
    *n_out = need;
    if (need > cap)
        return cs_fail(CS_EINVAL, "cs_bpe_decode: %zu bytes needed, room for %zu", need, cap);
    for (i = 0; i < n; i++) {
        memcpy(out, b->tok_bytes + b->tok_off[ids[i]], b->tok_len[ids[i]]);
        out += b->tok_len[ids[i]];
    }
    return CS_OK;
}

// ---- bytes per token --------------------------------------------------------------------------

int cs_bpe_train_bytes_per_token(const cs_bpe *b, const size_t *vocabs, size_t k, double *out)
{
    size_t i;

    if (b->text_bytes == 0)
        return cs_fail(CS_EINVAL, "bytes per token: the model has no training record");
    for (i = 0; i < k; i++) {
        size_t v = vocabs[i];
        uint64_t tokens;
        if (v < 256 || v > cs_bpe_vocab(b))
            return cs_fail(CS_EINPUT,
                           "vocabulary %zu: expected 256 to %zu, the size of the "
                           "model",
                           v, cs_bpe_vocab(b));
        tokens = v == 256 ? b->text_bytes : b->tokens_after[v - 257];
        out[i] = (double)b->text_bytes / (double)tokens;
    }
    return CS_OK;
}

/* Tokens of text[0..n) under model b, encoding in pieces cut at pre-token boundaries. */
static int count_tokens(const cs_bpe *b, const uint8_t *text, size_t n, uint64_t *tokens)
{
    const size_t piece = (size_t)1 << 20;
    cs_bpe_encoder *e = cs_bpe_encoder_alloc(b);
    uint32_t *ids = NULL;
    size_t cap = 0;
    size_t pos = 0;

    if (e == NULL)
        return CS_ENOMEM;
    *tokens = 0;
    while (pos < n) {
        size_t end = cs_bpe_boundary(text, n, pos + piece < n ? pos + piece : n);
        size_t got = 0;
        if (end - pos > cap) {
            uint32_t *v = realloc(ids, (end - pos) * sizeof *v);
            if (v == NULL)
                break;
            ids = v;
            cap = end - pos;
        }
        cs_bpe_encode(e, text + pos, end - pos, ids, &got);
        *tokens += got;
        pos = end;
    }
    free(ids);
    cs_bpe_encoder_free(e);
    return pos < n ? cs_fail(CS_ENOMEM, "bytes per token: out of memory") : CS_OK;
}

int cs_bpe_bytes_per_token(const cs_bpe *b, const uint8_t *text, size_t n, const size_t *vocabs,
                           size_t k, double *out)
{
    size_t i;

    if (n == 0 || text == NULL)
        return cs_fail(CS_EINPUT, "bytes per token: the text is empty");
    for (i = 0; i < k; i++) {
        cs_bpe *p = NULL;
        uint64_t tokens = 0;
        int st = cs_bpe_prefix(b, vocabs[i], &p);
        if (st == CS_OK)
            st = count_tokens(p, text, n, &tokens);
        cs_bpe_free(p);
        if (st)
            return st;
        out[i] = (double)n / (double)tokens;
    }
    return CS_OK;
}

// ---- the tokenizer file -----------------------------------------------------------------------

#define MAGIC        "ctxscale-bpe"
#define PRETOK_LINE  "pretokenizer cs1 256"
#define FILE_MAX     ((size_t)64 << 20)
#define HEADER_LINES 4 /* magic, vocab, pretokenizer, text_bytes */

static void bpe_write(const cs_bpe *b, FILE *f)
{
    size_t k;

    fprintf(f, "%s %d\nvocab %zu\n%s\ntext_bytes %llu\n", MAGIC, CS_BPE_FORMAT_VERSION,
            cs_bpe_vocab(b), PRETOK_LINE, (unsigned long long)b->text_bytes);
    for (k = 0; k < b->n_merges; k++)
        fprintf(f, "%u %u %llu\n", b->left[k], b->right[k], (unsigned long long)b->tokens_after[k]);
    fprintf(f, "end\n");
}

int cs_bpe_save(const cs_bpe *b, const char *path, bool force)
{
    cs_afile *af = NULL;
    int st;

    st = cs_afile_open(path, force, &af);
    if (st)
        return st;
    bpe_write(b, cs_afile_stream(af));
    return cs_afile_commit(af);
}

/* A cursor over the file's lines. */
typedef struct reader {
    const char *p; /* next unread byte */
    const char *end;
    const char *name; /* file name for messages */
    size_t line;      /* number of the line last returned */
    char buf[128];    /* that line, NUL-terminated, when it fits */
} reader;

/* Reads the next line into r->buf. CS_EINPUT (with `expect` in the message) at the end of the
 * data, for a last line with no newline, or for a line too long or holding a NUL byte. */
static int reader_line(reader *r, const char *expect)
{
    const char *nl;
    size_t len;

    r->line++;
    if (r->p >= r->end)
        return cs_fail(CS_EINPUT, "%s: truncated: the file ends before line %zu; expected %s",
                       r->name, r->line, expect);
    nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    if (nl == NULL)
        return cs_fail(CS_EINPUT, "%s:%zu: truncated: the last line has no newline; expected %s",
                       r->name, r->line, expect);
    len = (size_t)(nl - r->p);
    if (len >= sizeof r->buf || memchr(r->p, '\0', len) != NULL)
        return cs_fail(CS_EINPUT, "%s:%zu: expected %s", r->name, r->line, expect);
    memcpy(r->buf, r->p, len);
    r->buf[len] = '\0';
    r->p = nl + 1;
    return CS_OK;
}

/* Parses the number after "key " on the current line into *v (0..max). */
static int reader_field(reader *r, const char *key, long max, long *v)
{
    size_t kl = strlen(key);
    char what[256];

    if (strncmp(r->buf, key, kl) != 0 || r->buf[kl] != ' ')
        return cs_fail(CS_EINPUT, "%s:%zu: expected \"%s N\", got \"%s\"", r->name, r->line, key,
                       r->buf);
    snprintf(what, sizeof what, "%s:%zu: %s", r->name, r->line, key);
    if (cs_parse_long(r->buf + kl + 1, v, what))
        return CS_EINPUT;
    if (*v < 0 || *v > max)
        return cs_fail(CS_EINPUT, "%s: expected 0 to %ld, got %ld", what, max, *v);
    return CS_OK;
}

static int read_magic(reader *r)
{
    const char *expect = "\"" MAGIC " 1\" (a ctxscale BPE tokenizer file)";

    if (r->p >= r->end)
        return cs_fail(CS_EINPUT, "%s: empty file; expected a ctxscale BPE tokenizer file",
                       r->name);
    if (reader_line(r, expect))
        return CS_EINPUT;
    if (strncmp(r->buf, MAGIC " ", sizeof MAGIC) != 0)
        return cs_fail(CS_EINPUT, "%s:1: expected %s, got \"%.40s\"", r->name, expect, r->buf);
    if (strcmp(r->buf + sizeof MAGIC, "1") != 0)
        return cs_fail(CS_EINPUT, "%s:1: tokenizer file format version \"%s\"; expected version %d",
                       r->name, r->buf + sizeof MAGIC, CS_BPE_FORMAT_VERSION);
    return CS_OK;
}

/* Reads the header; *vocab and *text_bytes get its values. */
static int read_header(reader *r, size_t *vocab, uint64_t *text_bytes)
{
    long v = 0;
    char what[256];

    if (read_magic(r) || reader_line(r, "\"vocab N\"") ||
        reader_field(r, "vocab", (long)CS_TOK_MAX_VOCAB, &v))
        return CS_EINPUT;
    snprintf(what, sizeof what, "%s:%zu", r->name, r->line);
    if (cs_tok_check_vocab((size_t)v, CS_TOK_MAX_VOCAB, what))
        return CS_EINPUT;
    *vocab = (size_t)v;
    if (reader_line(r, "\"" PRETOK_LINE "\""))
        return CS_EINPUT;
    if (strcmp(r->buf, PRETOK_LINE) != 0)
        return cs_fail(CS_EINPUT,
                       "%s:%zu: expected \"%s\" (the pre-tokeniser of this build), "
                       "got \"%s\"",
                       r->name, r->line, PRETOK_LINE, r->buf);
    if (reader_line(r, "\"text_bytes N\"") || reader_field(r, "text_bytes", LONG_MAX, &v))
        return CS_EINPUT;
    *text_bytes = (uint64_t)v;
    return CS_OK;
}

/* Splits the current line into exactly three space-separated numbers. */
static int read_triple(reader *r, long out[3])
{
    static const char *const names[3] = {"left token", "right token", "tokens after"};
    char *s = r->buf;
    char what[256];
    size_t i;

    for (i = 0; i < 3; i++) {
        char *sp = strchr(s, ' ');
        if ((sp == NULL) != (i == 2) || sp == s || *s == '\0')
            return cs_fail(CS_EINPUT,
                           "%s:%zu: expected a merge \"LEFT RIGHT TOKENS\" (three "
                           "numbers, one space apart), got \"%s\"",
                           r->name, r->line, r->buf);
        if (sp != NULL)
            *sp = '\0';
        snprintf(what, sizeof what, "%s:%zu: %s", r->name, r->line, names[i]);
        if (cs_parse_long(s, &out[i], what))
            return CS_EINPUT;
        if (out[i] < 0)
            return cs_fail(CS_EINPUT, "%s: expected a non-negative number, got %ld", what, out[i]);
        if (sp != NULL)
            s = sp + 1;
    }
    return CS_OK;
}

/* Reads merge k into b: tokens made before it, and a strictly falling token count. */
static int read_merge(reader *r, cs_bpe *b, size_t k)
{
    uint64_t before = k == 0 ? b->text_bytes : b->tokens_after[k - 1];
    long f[3];
    char expect[96];

    snprintf(expect, sizeof expect, "merge line %zu of %zu (\"LEFT RIGHT TOKENS\")", k + 1,
             b->n_merges);
    if (reader_line(r, expect))
        return CS_EINPUT;
    if (read_triple(r, f))
        return CS_EINPUT;
    if ((size_t)f[0] >= 256 + k || (size_t)f[1] >= 256 + k)
        return cs_fail(CS_EINPUT,
                       "%s:%zu: merge %zu (%ld %ld) refers to a token not made yet; "
                       "expected ids below %zu",
                       r->name, r->line, k, f[0], f[1], 256 + k);
    if ((uint64_t)f[2] >= before || f[2] == 0)
        return cs_fail(CS_EINPUT,
                       "%s:%zu: merge %zu leaves %ld tokens; expected 1 to %llu "
                       "(fewer than before it)",
                       r->name, r->line, k, f[2], (unsigned long long)(before - 1));
    b->left[k] = (uint32_t)f[0];
    b->right[k] = (uint32_t)f[1];
    b->tokens_after[k] = (uint64_t)f[2];
    return CS_OK;
}

static int read_end(reader *r)
{
    if (reader_line(r, "\"end\""))
        return CS_EINPUT;
    if (strcmp(r->buf, "end") != 0)
        return cs_fail(CS_EINPUT, "%s:%zu: expected \"end\" after the last merge, got \"%s\"",
                       r->name, r->line, r->buf);
    if (r->p != r->end)
        return cs_fail(CS_EINPUT, "%s:%zu: expected the end of the file after \"end\"", r->name,
                       r->line + 1);
    return CS_OK;
}

int cs_bpe_load_mem(const void *data, size_t n, const char *name, size_t vocab_cap, cs_bpe **out)
{
    reader r = {data, (const char *)data + n, name != NULL ? name : "tokenizer", 0, {0}};
    size_t vocab = 0;
    uint64_t text_bytes = 0;
    cs_bpe *b;
    size_t k;
    int st;

    if (out == NULL || (data == NULL && n > 0))
        return cs_fail(CS_EINVAL, "cs_bpe_load_mem: NULL argument");
    if (read_header(&r, &vocab, &text_bytes))
        return CS_EINPUT;
    if (vocab_cap != 0 && (vocab_cap < 256 || vocab_cap > vocab))
        return cs_fail(CS_EINPUT,
                       "%s: vocabulary cap %zu: expected 256 to %zu, the vocabulary "
                       "of the file",
                       r.name, vocab_cap, vocab);
    b = bpe_alloc(vocab - 256);
    if (b == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory", r.name);
    b->text_bytes = text_bytes;
    if (vocab > 256 && text_bytes == 0) {
        st = cs_fail(CS_EINPUT, "%s:4: expected text_bytes >= 1 in a file with merges", r.name);
        goto out_free;
    }
    for (k = 0, st = CS_OK; k < b->n_merges && st == CS_OK; k++)
        st = read_merge(&r, b, k);
    if (st == CS_OK)
        st = read_end(&r);
    if (st == CS_OK && vocab_cap != 0)
        b->n_merges = vocab_cap - 256; /* the rest was checked; the cap keeps the first ones */
    if (st == CS_OK)
        st = bpe_build(b, r.name, HEADER_LINES + 1);
    if (st)
        goto out_free;
    *out = b;
    return CS_OK;
out_free:
    cs_bpe_free(b);
    return st;
}

/* Reads a whole file (at most FILE_MAX bytes) into a new buffer. */
static int slurp(const char *path, char **data, size_t *n)
{
    FILE *f = fopen(path, "rb");
    size_t cap = (size_t)1 << 16;
    size_t got = 0;
    char *buf = NULL;

    if (f == NULL)
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    for (;;) {
        char *nb = realloc(buf, cap);
        if (nb == NULL) {
            free(buf);
            fclose(f);
            return cs_fail(CS_ENOMEM, "%s: out of memory", path);
        }
        buf = nb;
        got += fread(buf + got, 1, cap - got, f);
        if (got < cap || cap > FILE_MAX)
            break;
        cap *= 2;
    }
    if (ferror(f) || got > FILE_MAX) {
        int bad = ferror(f);
        free(buf);
        fclose(f);
        return bad ? cs_fail(CS_EIO, "%s: read error", path)
                   : cs_fail(CS_EINPUT,
                             "%s: larger than %zu bytes; expected a BPE tokenizer "
                             "file",
                             path, FILE_MAX);
    }
    fclose(f);
    *data = buf;
    *n = got;
    return CS_OK;
}

int cs_bpe_load(const char *path, size_t vocab_cap, cs_bpe **out)
{
    char *data = NULL;
    size_t n = 0;
    int st;

    if (path == NULL || out == NULL)
        return cs_fail(CS_EINVAL, "cs_bpe_load: NULL argument");
    st = slurp(path, &data, &n);
    if (st)
        return st;
    st = cs_bpe_load_mem(data, n, path, vocab_cap, out);
    free(data);
    return st;
}
