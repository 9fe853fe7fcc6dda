/* data/sampler.c: context-T samplers over a token store (data/sampler.h): the LongCrawl64-style
 * longdoc view, packed streams, and the per-source mixture with length upsampling. Every choice
 * is a pure function of (seed, window number): keyed hashes for roll offsets and document keeps,
 * keyed Feistel permutations for the order, and a deterministic interleaving for the mixture.
 * Rules: docs/data.md ("Samplers"). Test: tests/unit/test_sampler.c.
 */
#include "data/sampler.h"

#include "core/error.h"
#include "core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Domain tags keep the keyed hashes of different choices apart. */
#define TAG_ROLL   0x726f6c6cu
#define TAG_PERM   0x7065726du
#define TAG_OFFSET 0x6f666673u
#define TAG_KEEP   0x6b656570u

typedef struct row {
    size_t doc;     /* store document */
    uint64_t start; /* first token of the row inside the document */
} row;

/* A packed stream: documents concatenated, each followed by the separator. */
typedef struct stream {
    size_t *docs;  /* (n) store documents */
    uint64_t *cum; /* (n + 1) stream position of each document's first token; cum[n] = length */
    size_t n;
    uint64_t offset;    /* window k starts at offset + k·T */
    uint64_t n_windows; /* windows of T + 1 tokens per pass */
    uint32_t source;    /* mixture: the source; packed: 0 */
    double weight;      /* share of windows drawn from this stream (sums to 1) */
} stream;

struct cs_sampler {
    const cs_store *store;
    cs_sampler_params p; /* weights pointer cleared */
    size_t B;            /* windows per batch */
    row *rows;           /* longdoc: (n_rows) in document order */
    size_t n_rows;
    uint64_t W;      /* longdoc: windows per row, floor(L_max / T) */
    stream *streams; /* packed: 1; mixture: one per source of positive weight */
    size_t n_streams;
    uint64_t n_windows; /* windows per pass over the view (summed over streams) */
    uint64_t split_tokens;
};

// ---- keyed hashes and permutations ---------------------------------------------------------

static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t x = a;
    uint64_t h = cs_rng_splitmix64(&x);

    x = h ^ b;
    h = cs_rng_splitmix64(&x);
    x = h ^ c;
    return cs_rng_splitmix64(&x);
}

/* A bijection of [0, n) keyed by `key`: a 4-round balanced Feistel network on the smallest
 * even number of bits covering n, with cycle walking (re-applied until the value falls below n;
 * under 4 rounds of walking on average since the domain is less than 4n). */
static uint64_t permute(uint64_t key, uint64_t n, uint64_t i)
{
    unsigned bits = 2;
    unsigned half;
    uint64_t mask;
    uint64_t x = i;
    int round;

    if (n <= 1)
        return 0;
    while (bits < 64 && ((n - 1) >> bits) != 0)
        bits += 2;
    half = bits / 2;
    mask = (UINT64_C(1) << half) - 1;
    do {
        uint64_t l = x >> half;
        uint64_t r = x & mask;

        for (round = 0; round < 4; round++) {
            uint64_t f = hash3(key, (uint64_t)round, r) & mask;
            uint64_t t = r;

            r = l ^ f;
            l = t;
        }
        x = (l << half) | r;
    } while (x >= n);
    return x;
}

static double unit(uint64_t h)
{
    return (double)(h >> 11) * 0x1.0p-53;
}

// ---- parameters --------------------------------------------------------------------------

cs_sampler_params cs_sampler_default_params(void)
{
    cs_sampler_params p;

    memset(&p, 0, sizeof p);
    p.mode = CS_SAMPLER_LONGDOC;
    p.split = CS_STORE_TRAIN;
    p.upsample_p = 1.0;
    return p;
}

static int check_mode_params(const cs_store *st, const cs_sampler_params *p)
{
    if (p->mode != CS_SAMPLER_MIXTURE && (p->weights || p->upsample_threshold))
        return cs_fail(CS_EINVAL, "source weights and length upsampling apply to the mixture "
                                  "sampler only");
    if (p->mode == CS_SAMPLER_LONGDOC) {
        if (p->L_max == 0)
            return cs_fail(CS_EINPUT, "longdoc sampler: L_max must be at least 1");
        if (p->T > p->L_max)
            return cs_fail(CS_EINPUT, "context T = %zu is larger than L_max = %zu", p->T, p->L_max);
        return CS_OK;
    }
    if (p->sep_token >= cs_store_vocab(st))
        return cs_fail(CS_EINPUT, "separator token %u is outside the vocabulary (0 to %zu)",
                       (unsigned)p->sep_token, cs_store_vocab(st) - 1);
    if (!(p->upsample_p >= 0.0 && p->upsample_p <= 1.0))
        return cs_fail(CS_EINPUT, "upsampling keep probability %g: expected a value in [0, 1]",
                       p->upsample_p);
    return CS_OK;
}

static int check_params(const cs_store *st, const cs_sampler_params *p, size_t *B)
{
    if (p->mode < CS_SAMPLER_LONGDOC || p->mode > CS_SAMPLER_MIXTURE)
        return cs_fail(CS_EINVAL, "sampler mode %d: expected longdoc, packed or mixture", p->mode);
    if (p->split < 0 || p->split >= CS_STORE_N_SPLITS)
        return cs_fail(CS_EINVAL, "split %d is not train (0) or val (1)", p->split);
    if (p->T == 0)
        return cs_fail(CS_EINPUT, "context T must be at least 1");
    if (p->batch_tokens < p->T)
        return cs_fail(CS_EINPUT, "a batch of %zu tokens cannot hold one window of T = %zu",
                       p->batch_tokens, p->T);
    if (p->batch_tokens % p->T != 0 && !p->round_batch)
        return cs_fail(CS_EINPUT,
                       "a batch of %zu tokens is not a multiple of T = %zu (B·T "
                       "tokens per batch); allow rounding to use B = %zu",
                       p->batch_tokens, p->T, p->batch_tokens / p->T);
    *B = p->batch_tokens / p->T;
    return check_mode_params(st, p);
}

// ---- the longdoc view ----------------------------------------------------------------------

int cs_sampler_view_info(const cs_store *store, int split, size_t L_max, cs_sampler_view *v)
{
    uint64_t R = (uint64_t)L_max + 1;
    size_t first;
    size_t count;
    size_t i;
    int st = cs_store_split_range(store, split, &first, &count);

    if (st)
        return st;
    memset(v, 0, sizeof *v);
    if (count == 0)
        return cs_fail(CS_EINPUT, "%s: split %s has no documents", cs_store_path(store),
                       cs_store_split_name(split));
    for (i = first; i < first + count; i++) {
        uint64_t n = cs_store_doc_at(store, i)->n_tokens;

        v->split_tokens += n;
        v->longest = n > v->longest ? n : v->longest;
        if (L_max > 0 && n >= R) {
            v->docs++;
            v->rows += n / R;
        }
    }
    v->row_tokens = v->rows * R;
    if (L_max == 0)
        return cs_fail(CS_EINPUT, "L_max must be at least 1");
    if (v->rows == 0)
        return cs_fail(CS_EINPUT,
                       "%s: split %s: no document has the %llu tokens a row of "
                       "L_max = %zu needs (L_max + 1); the longest has %llu",
                       cs_store_path(store), cs_store_split_name(split), (unsigned long long)R,
                       L_max, (unsigned long long)v->longest);
    return CS_OK;
}

static int build_rows(cs_sampler *s)
{
    uint64_t R = (uint64_t)s->p.L_max + 1;
    cs_sampler_view v;
    size_t first;
    size_t count;
    size_t i;
    size_t r = 0;
    int st = cs_sampler_view_info(s->store, s->p.split, s->p.L_max, &v);

    if (st)
        return st;
    cs_store_split_range(s->store, s->p.split, &first, &count);
    s->rows = malloc((size_t)v.rows * sizeof *s->rows);
    if (s->rows == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for %llu rows", (unsigned long long)v.rows);
    for (i = first; i < first + count; i++) {
        uint64_t n = cs_store_doc_at(s->store, i)->n_tokens;
        uint64_t k;

        for (k = 0; k + R <= n; k += R, r++) {
            s->rows[r].doc = i;
            s->rows[r].start = k;
        }
    }
    s->n_rows = r;
    s->W = s->p.L_max / s->p.T;
    s->n_windows = s->n_rows * s->W;
    return CS_OK;
}

/* Row, slot and pass of longdoc window g. */
static void row_of(const cs_sampler *s, uint64_t g, uint64_t *r, uint64_t *slot, uint64_t *e)
{
    uint64_t i = g % s->n_windows;
    uint64_t key;

    *e = g / s->n_windows;
    *slot = i / s->n_rows;
    key = hash3(hash3(s->p.seed, TAG_PERM, *e), *slot, 0);
    *r = permute(key, s->n_rows, i % s->n_rows);
}

/* Longdoc window g: T + 1 tokens of a rolled row starting at row position slot·T. */
static void fill_row_window(const cs_sampler *s, uint64_t g, uint32_t *out, cs_sampler_window *w)
{
    uint64_t R = (uint64_t)s->p.L_max + 1;
    uint64_t T1 = (uint64_t)s->p.T + 1;
    uint64_t r;
    uint64_t slot;
    uint64_t e;
    const row *rw;
    const cs_store_doc *d;
    uint64_t roll;
    uint64_t p0;
    uint64_t n1;

    row_of(s, g, &r, &slot, &e);
    rw = &s->rows[r];
    d = cs_store_doc_at(s->store, rw->doc);
    roll = hash3(s->p.seed, TAG_ROLL, r) % R;
    p0 = (slot * s->p.T + roll) % R; /* row position q holds segment token (q + roll) mod R */
    n1 = R - p0 < T1 ? R - p0 : T1;
    CS_ASSERT(cs_store_read_flat(s->store, d->offset + rw->start + p0, (size_t)n1, out) == 0);
    if (n1 < T1)
        CS_ASSERT(
            cs_store_read_flat(s->store, d->offset + rw->start, (size_t)(T1 - n1), out + n1) == 0);
    if (w) {
        w->doc = rw->doc;
        w->pos = rw->start + p0;
        w->source = d->source;
        w->seam = n1 < T1 ? (int64_t)n1 : -1;
        w->epoch = e;
    }
}

// ---- packed streams ----------------------------------------------------------------------

static bool keep_doc(const cs_sampler_params *p, size_t doc, uint64_t n_tokens)
{
    if (p->upsample_threshold == 0 || n_tokens >= p->upsample_threshold)
        return true;
    return unit(hash3(p->seed, TAG_KEEP, doc)) < p->upsample_p;
}

/* Documents of the split that go into a stream of `source` (all sources when source < 0). */
static bool in_stream(const cs_sampler *s, size_t i, long source)
{
    const cs_store_doc *d = cs_store_doc_at(s->store, i);

    if (d->n_tokens == 0 || (source >= 0 && d->source != (uint32_t)source))
        return false;
    return s->p.mode != CS_SAMPLER_MIXTURE || keep_doc(&s->p, i, d->n_tokens);
}

/* The grid offset and window count of a stream of length S; CS_EINPUT when too short. */
static int stream_windows(cs_sampler *s, stream *sm, const char *what)
{
    uint64_t T = s->p.T;
    uint64_t S = sm->cum[sm->n];

    if (S < T + 1)
        return cs_fail(CS_EINPUT,
                       "%s: split %s%s%s has %llu tokens with separators; a window "
                       "of T = %zu needs %llu",
                       cs_store_path(s->store), cs_store_split_name(s->p.split),
                       what ? ", source " : "", what ? what : "", (unsigned long long)S, s->p.T,
                       (unsigned long long)(T + 1));
    sm->offset = hash3(s->p.seed, TAG_OFFSET, sm->source) % T;
    if (sm->offset + T + 1 > S)
        sm->offset = S - T - 1;
    sm->n_windows = (S - sm->offset - 1) / T;
    return CS_OK;
}

static int build_stream(cs_sampler *s, stream *sm, long source)
{
    size_t first;
    size_t count;
    size_t i;
    size_t k = 0;

    cs_store_split_range(s->store, s->p.split, &first, &count);
    for (i = first; i < first + count; i++)
        k += in_stream(s, i, source);
    sm->docs = malloc((k ? k : 1) * sizeof *sm->docs);
    sm->cum = malloc((k + 1) * sizeof *sm->cum);
    if (sm->docs == NULL || sm->cum == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for a stream of %zu documents", k);
    sm->cum[0] = 0;
    for (i = first; i < first + count; i++) {
        if (!in_stream(s, i, source))
            continue;
        sm->docs[sm->n] = i;
        sm->cum[sm->n + 1] = sm->cum[sm->n] + cs_store_doc_at(s->store, i)->n_tokens + 1;
        sm->n++;
    }
    sm->source = source < 0 ? 0 : (uint32_t)source;
    return stream_windows(s, sm,
                          source < 0 ? NULL : cs_store_source_name(s->store, (size_t)source));
}

/* Per-source weights: given, or each source's share of the split's tokens. */
static int mixture_weights(const cs_sampler *s, const cs_sampler_params *p, double *w)
{
    size_t n = cs_store_n_sources(s->store);
    size_t first;
    size_t count;
    size_t i;

    if (p->weights && p->n_weights != n)
        return cs_fail(CS_EINVAL, "%zu source weights given; the store has %zu sources",
                       p->n_weights, n);
    for (i = 0; i < n; i++) {
        w[i] = p->weights ? p->weights[i] : 0.0;
        if (!isfinite(w[i]) || w[i] < 0)
            return cs_fail(CS_EINPUT,
                           "weight of source \"%s\" is %g; expected a finite value "
                           ">= 0",
                           cs_store_source_name(s->store, i), w[i]);
    }
    cs_store_split_range(s->store, p->split, &first, &count);
    for (i = first; !p->weights && i < first + count; i++)
        w[cs_store_doc_at(s->store, i)->source] += (double)cs_store_doc_at(s->store, i)->n_tokens;
    return CS_OK;
}

static int build_streams(cs_sampler *s, const cs_sampler_params *p)
{
    size_t n = p->mode == CS_SAMPLER_MIXTURE ? cs_store_n_sources(s->store) : 1;
    double *w = calloc(n, sizeof *w);
    double total = 0;
    size_t i;
    int st = w ? CS_OK : cs_fail(CS_ENOMEM, "out of memory for source weights");

    if (st == CS_OK && p->mode == CS_SAMPLER_MIXTURE)
        st = mixture_weights(s, p, w);
    else if (st == CS_OK)
        w[0] = 1.0;
    for (i = 0; st == CS_OK && i < n; i++)
        total += w[i];
    if (st == CS_OK && !(total > 0))
        st = cs_fail(CS_EINPUT, "%s: split %s: every source has weight 0 (or no tokens)",
                     cs_store_path(s->store), cs_store_split_name(p->split));
    if (st == CS_OK && (s->streams = calloc(n, sizeof *s->streams)) == NULL)
        st = cs_fail(CS_ENOMEM, "out of memory for streams");
    for (i = 0; st == CS_OK && i < n; i++) {
        stream *sm;

        if (w[i] <= 0)
            continue;
        sm = &s->streams[s->n_streams++];
        sm->weight = w[i] / total;
        st = build_stream(s, sm, p->mode == CS_SAMPLER_MIXTURE ? (long)i : -1);
        s->n_windows += sm->n_windows;
    }
    free(w);
    return st;
}

/* Copies n tokens from stream position pos (documents with separators) into out. */
static void fill_stream(const cs_sampler *s, const stream *sm, uint64_t pos, uint64_t n,
                        uint32_t *out, cs_sampler_window *w)
{
    size_t lo = 0;
    size_t hi = sm->n;

    while (hi - lo > 1) { /* the last k with cum[k] <= pos */
        size_t mid = lo + (hi - lo) / 2;

        if (sm->cum[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    if (w) {
        w->doc = sm->docs[lo];
        w->pos = pos - sm->cum[lo];
        w->source = cs_store_doc_at(s->store, sm->docs[lo])->source;
    }
    while (n > 0) {
        const cs_store_doc *d = cs_store_doc_at(s->store, sm->docs[lo]);
        uint64_t in = pos - sm->cum[lo];
        uint64_t m = d->n_tokens > in ? d->n_tokens - in : 0;

        m = m < n ? m : n;
        if (m > 0)
            CS_ASSERT(cs_store_read_flat(s->store, d->offset + in, (size_t)m, out) == 0);
        out += m;
        n -= m;
        pos += m;
        if (n > 0 && pos == sm->cum[lo + 1] - 1) { /* the separator */
            *out++ = s->p.sep_token;
            n--;
            pos++;
            lo++;
        }
    }
}

/* Stream position of the first token of stream k's window of rank `rank`; *e gets its pass. */
static uint64_t stream_pos(const cs_sampler *s, size_t k, uint64_t rank, uint64_t *e)
{
    const stream *sm = &s->streams[k];
    uint64_t key;

    *e = rank / sm->n_windows;
    key = hash3(hash3(s->p.seed, TAG_PERM, *e), sm->source, 1);
    return sm->offset + permute(key, sm->n_windows, rank % sm->n_windows) * s->p.T;
}

static void fill_stream_window(const cs_sampler *s, size_t k, uint64_t rank, uint32_t *out,
                               cs_sampler_window *w)
{
    uint64_t e;
    uint64_t pos = stream_pos(s, k, rank, &e);

    fill_stream(s, &s->streams[k], pos, (uint64_t)s->p.T + 1, out, w);
    if (w) {
        if (s->p.mode == CS_SAMPLER_MIXTURE)
            w->source = s->streams[k].source;
        w->seam = -1;
        w->epoch = e;
    }
}

// ---- the mixture schedule ------------------------------------------------------------------
//
// Stream k's i-th window is due at time (i + 1/2) / w_k. Windows are drawn in the order of
// their due times (ties: smaller k first), so after m windows every stream has drawn within one
// window of w_k·m, and the g-th window of the run is found without replaying the others.

static double due(double w, uint64_t i)
{
    return ((double)i + 0.5) / w;
}

/* Windows of a stream of weight w due strictly before t (consistent with `due` as computed). */
static uint64_t due_before(double w, double t)
{
    double x = t * w - 0.5;
    uint64_t i = x > 0 ? (uint64_t)x : 0;

    if (t <= 0)
        return 0;
    while (i > 0 && due(w, i - 1) >= t)
        i--;
    while (due(w, i) < t)
        i++;
    return i;
}

/* Window g of the run: its stream *k and its rank in that stream. next (n_streams) ends as the
 * number of each stream's windows among windows 0..g. */
static void locate(const cs_sampler *s, uint64_t g, size_t *k, uint64_t *rank, uint64_t *next)
{
    double lo = (double)g - 0.5 * (double)s->n_streams - 1.0;
    uint64_t before = 0;
    size_t i;

    for (i = 0; i < s->n_streams; i++) {
        next[i] = due_before(s->streams[i].weight, lo);
        before += next[i];
    }
    CS_ASSERT(before <= g);
    for (;;) {
        size_t best = 0;

        for (i = 1; i < s->n_streams; i++)
            if (due(s->streams[i].weight, next[i]) < due(s->streams[best].weight, next[best]))
                best = i;
        if (before == g) {
            *k = best;
            *rank = next[best]++;
            return;
        }
        next[best]++;
        before++;
    }
}

// ---- allocation, batches, counters ---------------------------------------------------------

cs_sampler *cs_sampler_alloc(const cs_store *store, const cs_sampler_params *p)
{
    cs_sampler *s;
    int st;

    if (store == NULL || p == NULL) {
        cs_fail(CS_EINVAL, "cs_sampler_alloc: NULL argument");
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        cs_fail(CS_ENOMEM, "out of memory for a sampler");
        return NULL;
    }
    s->store = store;
    s->p = *p;
    s->p.weights = NULL;
    s->split_tokens = cs_store_split_tokens(store, p->split);
    st = check_params(store, p, &s->B);
    if (st == CS_OK && p->mode == CS_SAMPLER_LONGDOC)
        st = build_rows(s);
    else if (st == CS_OK)
        st = build_streams(s, p);
    if (st) {
        cs_sampler_free(s);
        return NULL;
    }
    return s;
}

void cs_sampler_free(cs_sampler *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; s->streams && i < s->n_streams; i++) {
        free(s->streams[i].docs);
        free(s->streams[i].cum);
    }
    free(s->streams);
    free(s->rows);
    free(s);
}

size_t cs_sampler_batch_size(const cs_sampler *s)
{
    return s->B;
}

size_t cs_sampler_context(const cs_sampler *s)
{
    return s->p.T;
}

uint64_t cs_sampler_n_windows(const cs_sampler *s)
{
    return s->n_windows;
}

/* Window g of the run. next: scratch of n_streams. */
static void fill_window(const cs_sampler *s, uint64_t g, uint32_t *out, cs_sampler_window *w,
                        uint64_t *next)
{
    size_t k = 0;
    uint64_t rank = g;

    if (s->p.mode == CS_SAMPLER_LONGDOC) {
        fill_row_window(s, g, out, w);
        return;
    }
    if (s->n_streams > 1)
        locate(s, g, &k, &rank, next);
    fill_stream_window(s, k, rank, out, w);
}

/* Windows in batches 0 .. steps - 1, checking that token counts of that many windows fit in
 * 64 bits. */
static int windows_done(const cs_sampler *s, uint64_t steps, uint64_t *m)
{
    if (steps > UINT64_MAX / s->B / ((uint64_t)s->p.T + 1))
        return cs_fail(CS_EINVAL, "step %llu is out of range", (unsigned long long)steps);
    *m = steps * s->B;
    return CS_OK;
}

int cs_sampler_batch(const cs_sampler *s, uint64_t step, uint32_t *tokens, cs_sampler_window *info)
{
    uint64_t *next = NULL;
    uint64_t g0 = 0;
    size_t b;
    int st = step == UINT64_MAX
                 ? cs_fail(CS_EINVAL, "step %llu is out of range", (unsigned long long)step)
                 : windows_done(s, step + 1, &g0);

    if (st)
        return st;
    g0 -= s->B;
    if (s->n_streams > 1 && (next = malloc(s->n_streams * sizeof *next)) == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for the mixture schedule");
    for (b = 0; b < s->B; b++)
        fill_window(s, g0 + b, tokens + b * (s->p.T + 1), info ? info + b : NULL, next);
    free(next);
    return CS_OK;
}

/* Windows drawn from each stream in windows 0..m-1 (mixture) into c (n_streams). */
static int stream_draws(const cs_sampler *s, uint64_t m, uint64_t *c)
{
    size_t k;
    uint64_t rank;

    if (m == 0 || s->n_streams == 1) {
        for (k = 0; k < s->n_streams; k++)
            c[k] = m;
        return CS_OK;
    }
    locate(s, m - 1, &k, &rank, c);
    return CS_OK;
}

int cs_sampler_count(const cs_sampler *s, uint64_t steps, cs_sampler_counts *c)
{
    uint64_t m = 0;
    uint64_t *n = NULL;
    size_t k;
    int st = windows_done(s, steps, &m);

    if (st)
        return st;
    memset(c, 0, sizeof *c);
    c->tokens_seen = m * s->p.T;
    c->epochs = s->split_tokens ? (double)c->tokens_seen / (double)s->split_tokens : 0.0;
    if (s->p.mode == CS_SAMPLER_LONGDOC) {
        c->unique_tokens = (m < s->n_windows ? m : s->n_windows) * s->p.T;
        c->view_epochs = (double)m / (double)s->n_windows;
        return CS_OK;
    }
    n = malloc(s->n_streams * sizeof *n);
    if (n == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for the mixture schedule");
    stream_draws(s, m, n);
    for (k = 0; k < s->n_streams; k++) {
        const stream *sm = &s->streams[k];
        double ep = (double)n[k] / (double)sm->n_windows;

        c->unique_tokens += (n[k] < sm->n_windows ? n[k] : sm->n_windows) * s->p.T;
        c->view_epochs = ep > c->view_epochs ? ep : c->view_epochs;
    }
    free(n);
    return CS_OK;
}

int cs_sampler_source_draws(const cs_sampler *s, uint64_t steps, uint64_t *draws)
{
    size_t n_src = cs_store_n_sources(s->store);
    uint64_t m = 0;
    uint64_t g;
    size_t k;
    int st = windows_done(s, steps, &m);

    if (st)
        return st;
    memset(draws, 0, n_src * sizeof *draws);
    if (s->p.mode == CS_SAMPLER_MIXTURE) {
        uint64_t *n = malloc(s->n_streams * sizeof *n);

        if (n == NULL)
            return cs_fail(CS_ENOMEM, "out of memory for the mixture schedule");
        stream_draws(s, m, n);
        for (k = 0; k < s->n_streams; k++)
            draws[s->streams[k].source] = n[k];
        free(n);
        return CS_OK;
    }
    for (g = 0; g < m; g++) {
        cs_sampler_window w;
        uint64_t e;

        if (s->p.mode == CS_SAMPLER_LONGDOC) {
            uint64_t r;
            uint64_t slot;

            row_of(s, g, &r, &slot, &e);
            w.doc = s->rows[r].doc;
        } else {
            fill_stream(s, &s->streams[0], stream_pos(s, 0, g, &e), 0, NULL, &w);
        }
        draws[cs_store_doc_at(s->store, w.doc)->source]++;
    }
    return CS_OK;
}
