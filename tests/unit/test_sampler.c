/* tests/unit/test_sampler.c: the context-T samplers (data/sampler.c) on small byte-level stores:
 * longdoc windows lie inside one document and follow the rolled row (seam where the roll says),
 * packed windows cross documents with separators, one pass visits each window once, batches
 * depend only on (seed, step) (resume), the mixture keeps source shares and upsamples long
 * documents, counters, and the bad inputs. Run by `make test`. */
#include "tests/testutil.h"

#include "data/sampler.h"

#include <math.h>

#define MAX_DOCS 1200

typedef struct docset {
    cs_store_input in[MAX_DOCS];
    uint8_t *text[MAX_DOCS];
    size_t n;
} docset;

static void add_doc(docset *d, size_t len, const char *source, int split,
                    uint8_t (*byte)(size_t, size_t))
{
    size_t i = d->n++;
    size_t k;

    assert_true(i < MAX_DOCS);
    d->text[i] = malloc(len ? len : 1);
    assert_non_null(d->text[i]);
    for (k = 0; k < len; k++)
        d->text[i][k] = byte(i, k);
    d->in[i].bytes = d->text[i];
    d->in[i].n = len;
    d->in[i].source = source;
    d->in[i].split = split;
}

static void free_docs(docset *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        free(d->text[i]);
}

/* Every byte of document i is its letter: 'A' + i mod 26 (never 0, the separator). */
static uint8_t letter(size_t i, size_t k)
{
    (void)k;
    return (uint8_t)('A' + i % 26);
}

/* Byte k of document i tells k mod 251 (values 1..251), shifted per document. */
static uint8_t position(size_t i, size_t k)
{
    return (uint8_t)(1 + (k + 17 * i) % 251);
}

static cs_store *build(const char *tmp, const char *name, docset *d)
{
    cs_tok *tok = cs_tok_alloc_byte();
    cs_store *s = NULL;

    assert_int_equal(cs_store_build(tu_path(tmp, name), tok, NULL, d->in, d->n, NULL), CS_OK);
    assert_int_equal(cs_store_open(tu_path(tmp, name), &s), CS_OK);
    cs_tok_free(tok);
    return s;
}

/* 40 documents of letters, lengths 5..154, two sources; 5 val documents. */
static cs_store *letters_store(const char *tmp, docset *d)
{
    size_t i;

    memset(d, 0, sizeof *d);
    for (i = 0; i < 40; i++)
        add_doc(d, 5 + (i * 37) % 150, i % 2 ? "web" : "books", i >= 35 ? CS_STORE_VAL : 0, letter);
    return build(tmp, "letters", d);
}

static cs_sampler_params params(int mode, size_t T, size_t batch, size_t L_max, uint64_t seed)
{
    cs_sampler_params p = cs_sampler_default_params();

    p.mode = mode;
    p.T = T;
    p.batch_tokens = batch;
    p.L_max = L_max;
    p.seed = seed;
    return p;
}

static void test_longdoc_inside_documents(void **state)
{
    char *tmp = tu_tmpdir();
    docset d;
    cs_store *s = letters_store(tmp, &d);
    const size_t Ts[] = {1, 16, 21, 64};
    size_t ti;

    (void)state;
    for (ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++) {
        cs_sampler_params p = params(CS_SAMPLER_LONGDOC, Ts[ti], 4 * Ts[ti], 64, 3);
        cs_sampler *sm = cs_sampler_alloc(s, &p);
        size_t B;
        uint32_t *tok;
        cs_sampler_window *info;
        uint64_t step;
        size_t b;
        size_t t;

        assert_non_null(sm);
        B = cs_sampler_batch_size(sm);
        assert_int_equal(B, 4);
        tok = malloc(B * (Ts[ti] + 1) * sizeof *tok);
        info = malloc(B * sizeof *info);
        for (step = 0; step < 60; step++) {
            assert_int_equal(cs_sampler_batch(sm, step, tok, info), CS_OK);
            for (b = 0; b < B; b++) {
                const cs_store_doc *doc = cs_store_doc_at(s, info[b].doc);
                uint32_t want = letter((size_t)doc->corpus_doc, 0);

                assert_true(doc->n_tokens >= 65); /* only documents with a row */
                assert_int_equal(doc->split, CS_STORE_TRAIN);
                for (t = 0; t <= Ts[ti]; t++)
                    assert_int_equal(tok[b * (Ts[ti] + 1) + t], want);
            }
        }
        free(tok);
        free(info);
        cs_sampler_free(sm);
    }
    cs_store_close(s);
    free_docs(&d);
    free(tmp);
}

/* Checks one longdoc window against its document: contiguous from info->pos, except after the
 * seam, where it continues from the start of the row (rows start at multiples of L_max + 1). */
static void check_rolled(const cs_store *s, const uint32_t *tok, size_t T, uint64_t R,
                         const cs_sampler_window *w)
{
    const cs_store_doc *doc = cs_store_doc_at(s, w->doc);
    uint64_t row_start = w->pos / R * R;
    size_t t;

    if (w->seam >= 0)
        assert_int_equal(w->pos + (uint64_t)w->seam, row_start + R);
    for (t = 0; t <= T; t++) {
        uint64_t pos =
            w->seam >= 0 && (int64_t)t >= w->seam ? row_start + t - (uint64_t)w->seam : w->pos + t;

        assert_true(pos < row_start + R && pos < doc->n_tokens);
        assert_int_equal(tok[t], position((size_t)doc->corpus_doc, (size_t)pos));
    }
}

static void test_longdoc_rows_and_pass(void **state)
{
    char *tmp = tu_tmpdir();
    docset d;
    cs_store *s;
    cs_sampler_params p = params(CS_SAMPLER_LONGDOC, 10, 30, 40, 9);
    cs_sampler *sm;
    uint32_t tok[3 * 11];
    cs_sampler_window info[3];
    uint64_t n_win;
    uint64_t *seen;
    uint64_t g;
    size_t i;
    size_t seams = 0;
    cs_sampler_counts c;

    (void)state;
    memset(&d, 0, sizeof d);
    for (i = 0; i < 12; i++)
        add_doc(&d, 30 + 23 * i, "x", 0, position);
    s = build(tmp, "pos", &d);
    sm = cs_sampler_alloc(s, &p);
    assert_non_null(sm);
    /* Rows of 41 tokens: floor(n / 41) per document; 4 windows of 10 per row. */
    n_win = 0;
    for (i = 0; i < 12; i++)
        n_win += 4 * ((30 + 23 * i) / 41);
    assert_int_equal(cs_sampler_n_windows(sm), n_win);
    /* Exactly one pass of 3-window batches (n_win is a multiple of 3 here? use windows). */
    seen = calloc(n_win, sizeof *seen);
    for (g = 0; g < n_win; g += 3) {
        assert_int_equal(cs_sampler_batch(sm, g / 3, tok, info), CS_OK);
        for (i = 0; i < 3 && g + i < n_win; i++) {
            uint64_t key = info[i].doc * 100000 + info[i].pos;
            uint64_t k;

            check_rolled(s, tok + i * 11, 10, 41, &info[i]);
            assert_int_equal(info[i].epoch, 0);
            seams += info[i].seam >= 0;
            for (k = 0; k < g + i; k++)
                assert_true(seen[k] != key); /* each window once per pass */
            seen[g + i] = key;
        }
    }
    assert_true(seams > 0);
    free(seen);
    assert_int_equal(cs_sampler_count(sm, 5, &c), CS_OK);
    assert_int_equal(c.tokens_seen, 5 * 3 * 10);
    assert_int_equal(c.unique_tokens, 5 * 3 * 10);
    assert_int_equal(cs_sampler_count(sm, 1000, &c), CS_OK);
    assert_int_equal(c.unique_tokens, n_win * 10);
    assert_true(fabs(c.view_epochs - 3000.0 / (double)n_win) < 1e-12);
    assert_true(fabs(c.epochs - 30000.0 / (double)cs_store_split_tokens(s, 0)) < 1e-12);
    cs_sampler_free(sm);
    cs_store_close(s);
    free_docs(&d);
    free(tmp);
}

static void test_packed_crosses_documents(void **state)
{
    char *tmp = tu_tmpdir();
    docset d;
    cs_store *s = letters_store(tmp, &d);
    cs_sampler_params p = params(CS_SAMPLER_PACKED, 50, 200, 0, 5);
    cs_sampler *sm = cs_sampler_alloc(s, &p);
    uint32_t tok[4 * 51];
    cs_sampler_window info[4];
    uint64_t n_win;
    uint64_t *starts;
    uint64_t g;
    size_t crossing = 0;
    size_t b;
    size_t t;

    (void)state;
    assert_non_null(sm);
    n_win = cs_sampler_n_windows(sm);
    starts = calloc(n_win + 4, sizeof *starts);
    for (g = 0; g < n_win; g += 4) {
        assert_int_equal(cs_sampler_batch(sm, g / 4, tok, info), CS_OK);
        for (b = 0; b < 4 && g + b < n_win; b++) {
            const uint32_t *w = tok + b * 51;
            const cs_store_doc *doc = cs_store_doc_at(s, info[b].doc);
            size_t sep = 0;
            uint64_t k;

            assert_int_equal(doc->split, CS_STORE_TRAIN);
            assert_int_equal(w[0],
                             info[b].pos == doc->n_tokens ? 0 : letter((size_t)doc->corpus_doc, 0));
            for (t = 1; t <= 50; t++) {
                /* Letters change only across a separator. */
                if (w[t] != w[t - 1] && w[t - 1] != 0)
                    assert_int_equal(w[t], 0);
                sep += w[t] == 0;
            }
            crossing += sep > 0;
            starts[g + b] = info[b].doc * 100000 + info[b].pos;
            for (k = 0; k < g + b; k++)
                assert_true(starts[k] != starts[g + b]);
        }
    }
    assert_true(crossing > n_win / 4);
    free(starts);
    cs_sampler_free(sm);
    cs_store_close(s);
    free_docs(&d);
    free(tmp);
}

static void test_determinism_and_resume(void **state)
{
    char *tmp = tu_tmpdir();
    docset d;
    cs_store *s = letters_store(tmp, &d);
    const int modes[] = {CS_SAMPLER_LONGDOC, CS_SAMPLER_PACKED, CS_SAMPLER_MIXTURE};
    size_t mi;

    (void)state;
    for (mi = 0; mi < 3; mi++) {
        cs_sampler_params p = params(modes[mi], 8, 64, 32, 1234);
        cs_sampler *a = cs_sampler_alloc(s, &p);
        cs_sampler *b;
        uint32_t ta[8 * 9];
        uint32_t tb[8 * 9];
        uint32_t later[8 * 9];
        uint64_t k;
        bool differs = false;

        assert_non_null(a);
        /* Batch 37 first, on a fresh instance, before anything else was drawn. */
        b = cs_sampler_alloc(s, &p);
        assert_non_null(b);
        assert_int_equal(cs_sampler_batch(b, 37, later, NULL), CS_OK);
        for (k = 0; k < 40; k++) {
            assert_int_equal(cs_sampler_batch(a, k, ta, NULL), CS_OK);
            assert_int_equal(cs_sampler_batch(b, k, tb, NULL), CS_OK);
            assert_memory_equal(ta, tb, sizeof ta);
            if (k == 37)
                assert_memory_equal(ta, later, sizeof ta);
        }
        cs_sampler_free(b);
        /* Another seed gives other batches. */
        p.seed = 1235;
        b = cs_sampler_alloc(s, &p);
        for (k = 0; k < 5; k++) {
            assert_int_equal(cs_sampler_batch(a, k, ta, NULL), CS_OK);
            assert_int_equal(cs_sampler_batch(b, k, tb, NULL), CS_OK);
            differs |= memcmp(ta, tb, sizeof ta) != 0;
        }
        assert_true(differs);
        cs_sampler_free(a);
        cs_sampler_free(b);
    }
    cs_store_close(s);
    free_docs(&d);
    free(tmp);
}

/* Short documents are 'a' (source "mix") or 'c' (source "other"), long ones 'B' or 'D'. */
static uint8_t mix_byte(size_t i, size_t k)
{
    (void)k;
    return (uint8_t) "aBcD"[i % 4];
}

static void test_mixture_upsampling(void **state)
{
    char *tmp = tu_tmpdir();
    docset d;
    cs_store *s;
    cs_sampler_params p = params(CS_SAMPLER_MIXTURE, 16, 256, 0, 77);
    cs_sampler *sm;
    uint32_t tok[16 * 17];
    uint64_t counts[256];
    uint64_t draws[2];
    uint64_t step;
    size_t i;
    double short_mix;
    double short_other;
    double share_mix;

    (void)state;
    memset(&d, 0, sizeof d);
    /* 1200 documents in order a B c D ...: sources by i mod 4 < 2. Short: 20 tokens, long: 200.
     * "mix": 300 short (6000 tokens) + 300 long (60000); "other" the same. */
    for (i = 0; i < 1200; i++)
        add_doc(&d, i % 2 ? 200 : 20, i % 4 < 2 ? "mix" : "other", 0, mix_byte);
    s = build(tmp, "mix", &d);
    p.upsample_threshold = 100;
    p.upsample_p = 0.1;
    sm = cs_sampler_alloc(s, &p);
    assert_non_null(sm);
    memset(counts, 0, sizeof counts);
    for (step = 0; step < 2000; step++) {
        assert_int_equal(cs_sampler_batch(sm, step, tok, NULL), CS_OK);
        for (i = 0; i < 16 * 17; i++)
            counts[tok[i]]++;
    }
    /* Each source keeps its share of tokens (both 50% here) ... */
    assert_int_equal(cs_sampler_source_draws(sm, 2000, draws), CS_OK);
    assert_int_equal(draws[0] + draws[1], 2000 * 16);
    assert_true(draws[0] >= 16000 - 1 && draws[0] <= 16000 + 1);
    share_mix = (double)(counts['a'] + counts['B']) /
                (double)(counts['a'] + counts['B'] + counts['c'] + counts['D']);
    assert_true(fabs(share_mix - 0.5) < 0.02);
    /* ... and inside it short documents keep ~10%: 600 / (600 + 60000) of the letters, where
     * the keep count of 300 documents has a standard deviation of ~5 (so allow 2x). */
    short_mix = (double)counts['a'] / (double)(counts['a'] + counts['B']);
    short_other = (double)counts['c'] / (double)(counts['c'] + counts['D']);
    assert_true(short_mix > 0.5 * 600.0 / 60600.0 && short_mix < 2.0 * 600.0 / 60600.0);
    assert_true(short_other > 0.5 * 600.0 / 60600.0 && short_other < 2.0 * 600.0 / 60600.0);
    cs_sampler_free(sm);
    /* Without upsampling, short documents hold 6000 / 66000 of the tokens. */
    p.upsample_threshold = 0;
    sm = cs_sampler_alloc(s, &p);
    memset(counts, 0, sizeof counts);
    for (step = 0; step < 2000; step++) {
        assert_int_equal(cs_sampler_batch(sm, step, tok, NULL), CS_OK);
        for (i = 0; i < 16 * 17; i++)
            counts[tok[i]]++;
    }
    short_mix = (double)counts['a'] / (double)(counts['a'] + counts['B']);
    assert_true(fabs(short_mix - 6000.0 / 66000.0) < 0.01);
    cs_sampler_free(sm);
    cs_store_close(s);
    free_docs(&d);
    free(tmp);
}

static void test_mixture_weights(void **state)
{
    char *tmp = tu_tmpdir();
    docset d;
    cs_store *s;
    const double w[3] = {5, 3, 2};
    cs_sampler_params p = params(CS_SAMPLER_MIXTURE, 4, 12, 0, 1);
    cs_sampler *sm;
    uint64_t draws[3];
    uint64_t step;
    uint64_t k;
    cs_sampler_counts c;
    const char *src[3] = {"s0", "s1", "s2"};
    size_t i;

    (void)state;
    memset(&d, 0, sizeof d);
    for (i = 0; i < 30; i++)
        add_doc(&d, 10 + i, src[i % 3], 0, letter);
    s = build(tmp, "w", &d);
    p.weights = w;
    p.n_weights = 3;
    sm = cs_sampler_alloc(s, &p);
    assert_non_null(sm);
    /* After m windows source k has drawn within 0.5 + w_k·S/2 windows of w_k·m (S = 3). */
    for (step = 0; step <= 400; step++) {
        uint64_t m = 3 * step;

        assert_int_equal(cs_sampler_source_draws(sm, step, draws), CS_OK);
        assert_int_equal(draws[0] + draws[1] + draws[2], m);
        for (k = 0; k < 3; k++)
            assert_true(fabs((double)draws[k] - w[k] / 10.0 * (double)m) <=
                        0.5 + 1.5 * w[k] / 10.0);
    }
    /* Source windows: one pass each before repeats, so unique tokens are exact. */
    assert_int_equal(cs_sampler_count(sm, 2, &c), CS_OK);
    assert_int_equal(c.unique_tokens, 6 * 4);
    assert_int_equal(cs_sampler_count(sm, 100000, &c), CS_OK);
    assert_int_equal(c.unique_tokens, cs_sampler_n_windows(sm) * 4);
    assert_true(c.view_epochs > 1.0);
    cs_sampler_free(sm);
    /* Default weights: each source's share of the split's tokens. Source k holds documents
     * 10 + i for i = k mod 3: 10·(10 + k) + 135 tokens, so 235 : 245 : 255. */
    p.weights = NULL;
    p.n_weights = 0;
    sm = cs_sampler_alloc(s, &p);
    assert_non_null(sm);
    assert_int_equal(cs_sampler_source_draws(sm, 400, draws), CS_OK);
    for (k = 0; k < 3; k++)
        assert_true(fabs((double)draws[k] - (235.0 + 10.0 * (double)k) / 735.0 * 1200.0) <= 2.0);
    cs_sampler_free(sm);
    cs_store_close(s);
    free_docs(&d);
    free(tmp);
}

static void expect_fail(const cs_store *s, const cs_sampler_params *p, int status, const char *msg)
{
    cs_sampler *sm = cs_sampler_alloc(s, p);

    assert_null(sm);
    (void)status;
    tu_assert_errmsg_has(msg);
}

static void test_bad_inputs(void **state)
{
    char *tmp = tu_tmpdir();
    docset d;
    cs_store *s = letters_store(tmp, &d);
    cs_sampler_params p = params(CS_SAMPLER_LONGDOC, 64, 256, 1000, 0);
    cs_sampler_view v;
    const double neg[2] = {1, -1};
    const double zero[2] = {0, 0};
    cs_sampler *sm;

    (void)state;
    /* No document of 1001 tokens: the message gives the longest (5 + 37i mod 150 for train). */
    expect_fail(s, &p, CS_EINPUT, "no document has the 1001 tokens a row of L_max = 1000 needs");
    tu_assert_errmsg_has("the longest has 153");
    assert_int_equal(cs_sampler_view_info(s, CS_STORE_TRAIN, 1000, &v), CS_EINPUT);
    assert_int_equal(v.longest, 153);
    assert_int_equal(cs_sampler_view_info(s, CS_STORE_TRAIN, 64, &v), CS_OK);
    assert_true(v.rows > 0 && v.row_tokens == v.rows * 65);
    p.L_max = 32;
    expect_fail(s, &p, CS_EINPUT, "context T = 64 is larger than L_max = 32");
    p = params(CS_SAMPLER_LONGDOC, 64, 100, 64, 0);
    expect_fail(s, &p, CS_EINPUT, "a batch of 100 tokens is not a multiple of T = 64");
    p.round_batch = true;
    sm = cs_sampler_alloc(s, &p);
    assert_non_null(sm);
    assert_int_equal(cs_sampler_batch_size(sm), 1);
    cs_sampler_free(sm);
    p.batch_tokens = 10;
    expect_fail(s, &p, CS_EINPUT, "cannot hold one window");
    p = params(CS_SAMPLER_LONGDOC, 0, 100, 64, 0);
    expect_fail(s, &p, CS_EINPUT, "context T must be at least 1");
    p = params(CS_SAMPLER_PACKED, 8, 64, 0, 0);
    p.sep_token = 256;
    expect_fail(s, &p, CS_EINPUT, "separator token 256 is outside the vocabulary");
    p = params(CS_SAMPLER_PACKED, 100000, 100000, 0, 0);
    expect_fail(s, &p, CS_EINPUT, "a window of T = 100000 needs 100001");
    p = params(CS_SAMPLER_MIXTURE, 8, 64, 0, 0);
    p.weights = neg;
    p.n_weights = 1;
    expect_fail(s, &p, CS_EINVAL, "1 source weights given; the store has 2 sources");
    p.n_weights = 2;
    expect_fail(s, &p, CS_EINPUT, "weight of source \"web\" is -1");
    p.weights = zero;
    expect_fail(s, &p, CS_EINPUT, "every source has weight 0");
    p.weights = NULL;
    p.upsample_p = 1.5;
    expect_fail(s, &p, CS_EINPUT, "keep probability 1.5");
    p = params(CS_SAMPLER_LONGDOC, 8, 64, 64, 0);
    p.upsample_threshold = 10;
    expect_fail(s, &p, CS_EINVAL, "apply to the mixture sampler only");
    p = params(CS_SAMPLER_LONGDOC, 8, 64, 64, 0);
    p.split = CS_STORE_VAL; /* val documents: 100, 137, 24, 61, 98 tokens */
    sm = cs_sampler_alloc(s, &p);
    assert_non_null(sm);
    cs_sampler_free(sm);
    cs_store_close(s);
    free_docs(&d);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longdoc_inside_documents),
        cmocka_unit_test(test_longdoc_rows_and_pass),
        cmocka_unit_test(test_packed_crosses_documents),
        cmocka_unit_test(test_determinism_and_resume),
        cmocka_unit_test(test_mixture_upsampling),
        cmocka_unit_test(test_mixture_weights),
        cmocka_unit_test(test_bad_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
