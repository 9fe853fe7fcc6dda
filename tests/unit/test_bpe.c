/* tests/unit/test_bpe.c: byte-level BPE (data/bpe.c): the pre-tokenisation rule, a hand-checked
 * training run, round trips on random bytes, determinism, the vocabulary prefix property, the
 * tokenizer file and its rejection of bad files, bytes per token. Run by `make test`. */
#include "tests/testutil.h"

#include "data/bpe.h"
#include "data/tokenizer.h"

// ---- helpers ----------------------------------------------------------------------------------

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* n bytes of a synthetic language: words of random syllables with a skewed frequency, spaces,
 * punctuation, numbers and line breaks, so BPE has real structure to find. */
static uint8_t *make_text(size_t n, uint64_t seed)
{
    static const char *const syl[] = {"ka", "ro",  "mi", "te", "su", "an", "el",  "or", "qu",
                                      "th", "ing", "ed", "s",  "x",  "lo", "pra", "Ve", "\xc3\xa9"};
    char words[400][16];
    uint8_t *t = malloc(n);
    size_t i;
    size_t o = 0;

    assert_non_null(t);
    for (i = 0; i < 400; i++) {
        size_t k = 1 + rng_next(&seed) % 4;
        words[i][0] = '\0';
        while (k-- > 0)
            strcat(words[i], syl[rng_next(&seed) % (sizeof syl / sizeof syl[0])]);
    }
    while (o < n) {
        uint64_t r = rng_next(&seed);
        size_t w = (size_t)((r % 400) * ((r >> 20) % 400) / 400); /* skewed toward 0 */
        char piece[32];
        const char *sep = (r >> 40) % 13 == 0 ? ", " : (r >> 40) % 29 == 0 ? ".\n" : " ";
        if ((r >> 50) % 31 == 0)
            snprintf(piece, sizeof piece, "%u%s", (unsigned)(r % 2000), sep);
        else
            snprintf(piece, sizeof piece, "%s%s", words[w], sep);
        for (i = 0; piece[i] != '\0' && o < n; i++)
            t[o++] = (uint8_t)piece[i];
    }
    return t;
}

static cs_bpe *train(const uint8_t *text, size_t n, size_t vocab, uint64_t min_count)
{
    cs_bpe_params p = cs_bpe_default_params();
    cs_bpe *b = NULL;

    p.vocab = vocab;
    p.min_count = min_count;
    if (cs_bpe_train(text, n, &p, &b) != CS_OK)
        fail_msg("training failed: %s", cs_errmsg());
    return b;
}

/* Encodes and decodes x[0..n) and checks the bytes come back. Returns the token count. */
static size_t roundtrip(cs_bpe_encoder *e, const cs_bpe *b, const uint8_t *x, size_t n)
{
    uint32_t *ids = malloc((n + 1) * sizeof *ids);
    uint8_t *back = malloc(n + 1);
    size_t n_ids = 99;
    size_t n_back = 99;
    size_t i;

    assert_non_null(ids);
    assert_non_null(back);
    assert_int_equal(cs_bpe_encode(e, x, n, ids, &n_ids), CS_OK);
    assert_true(n_ids <= n);
    for (i = 0; i < n_ids; i++)
        assert_true(ids[i] < cs_bpe_vocab(b));
    assert_int_equal(cs_bpe_decode(b, ids, n_ids, back, n, &n_back), CS_OK);
    assert_int_equal(n_back, n);
    if (n > 0)
        assert_memory_equal(back, x, n);
    free(ids);
    free(back);
    return n_ids;
}

static void assert_same_merges(const cs_bpe *x, const cs_bpe *y, size_t count)
{
    size_t k;
    uint32_t l1, r1, l2, r2;

    for (k = 0; k < count; k++) {
        assert_int_equal(cs_bpe_merge(x, k, &l1, &r1), CS_OK);
        assert_int_equal(cs_bpe_merge(y, k, &l2, &r2), CS_OK);
        if (l1 != l2 || r1 != r2)
            fail_msg("merge %zu differs: (%u %u) vs (%u %u)", k, l1, r1, l2, r2);
    }
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 22);

    assert_non_null(f);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 22, f);
    fclose(f);
    return buf;
}

// ---- the pre-tokeniser ------------------------------------------------------------------------

static void expect_split(const char *text, const char *const *want)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t n = strlen(text);
    size_t i = 0;
    size_t k = 0;

    while (i < n) {
        size_t len = cs_bpe_pretoken_len(s + i, n - i);
        assert_non_null(want[k]);
        if (len != strlen(want[k]) || memcmp(s + i, want[k], len) != 0)
            fail_msg("piece %zu of \"%s\": got \"%.*s\", want \"%s\"", k, text, (int)len, text + i,
                     want[k]);
        i += len;
        k++;
    }
    assert_null(want[k]);
}

static void test_pretokenizer(void **state)
{
    static const char *const a[] = {"Hello", ",",    " world", "!", " ",  " foo", "\n\n ",
                                    " bar",  " 123", "abc",    " ", " x", NULL};
    static const char *const b[] = {"\t", "x", " caf\xc3\xa9s", "  ", NULL};
    static const char *const c[] = {"a",      "=",       "b",  "(", " 42", ");",
                                    "\n    ", " return", " -", "1", ".",   NULL};
    static const char *const d[] = {"don", "'", "t", " \xff\xfe", NULL};
    uint8_t run[600];

    (void)state;
    expect_split("Hello, world!  foo\n\n  bar 123abc  x", a);
    expect_split("\tx caf\xc3\xa9s  ", b);
    expect_split("a=b( 42);\n     return -1.", c);
    expect_split("don't \xff\xfe", d);
    memset(run, 'a', sizeof run);
    assert_int_equal(cs_bpe_pretoken_len(run, sizeof run), CS_BPE_PRETOKEN_MAX);
    assert_int_equal(cs_bpe_pretoken_len(run, 10), 10);
    assert_int_equal(cs_bpe_pretoken_len(run, 0), 0);
    /* A boundary: after a non-space byte, before a space one. */
    assert_int_equal(cs_bpe_boundary((const uint8_t *)"ab cd ef", 8, 1), 2);
    assert_int_equal(cs_bpe_boundary((const uint8_t *)"ab cd ef", 8, 3), 5);
    assert_int_equal(cs_bpe_boundary((const uint8_t *)"abcdef", 6, 2), 6);
}

// ---- training ---------------------------------------------------------------------------------

/* "aaabdaaabac" is one pre-token (letters). By hand: (a,a) occurs 4 times (overlaps counted)
 * and merges first into 256 = "aa", applied left to right: [aa] a b d [aa] a b a c. Then (aa, a)
 * and (a, b) both occur twice; the tie goes to the smaller ids (97, 98): 257 = "ab". Then
 * (256, 257) twice: 258 = "aaab". Token counts: 11 -> 9 -> 7 -> 5. */
static void test_tiny_example(void **state)
{
    const uint8_t *text = (const uint8_t *)"aaabdaaabac";
    const size_t want_ids[] = {258, 'd', 258, 'a', 'c'};
    const size_t sizes[] = {256, 257, 258, 259};
    double bpt[4];
    cs_bpe *b = train(text, 11, 259, 1);
    cs_bpe_encoder *e = cs_bpe_encoder_alloc(b);
    uint32_t l, r, ids[11];
    size_t n_ids, len, i;
    const uint8_t *bytes;

    (void)state;
    assert_int_equal(cs_bpe_vocab(b), 259);
    assert_int_equal(cs_bpe_merge(b, 0, &l, &r), CS_OK);
    assert_true(l == 'a' && r == 'a');
    assert_int_equal(cs_bpe_merge(b, 1, &l, &r), CS_OK);
    assert_true(l == 'a' && r == 'b');
    assert_int_equal(cs_bpe_merge(b, 2, &l, &r), CS_OK);
    assert_true(l == 256 && r == 257);
    assert_int_equal(cs_bpe_merge(b, 3, &l, &r), CS_EINVAL);
    bytes = cs_bpe_token_bytes(b, 258, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(bytes, "aaab", 4);
    assert_null(cs_bpe_token_bytes(b, 259, &len));
    assert_int_equal(cs_bpe_encode(e, text, 11, ids, &n_ids), CS_OK);
    assert_int_equal(n_ids, 5);
    for (i = 0; i < 5; i++)
        assert_int_equal(ids[i], want_ids[i]);
    assert_int_equal(cs_bpe_train_bytes_per_token(b, sizes, 4, bpt), CS_OK);
    assert_true(bpt[0] == 1.0 && bpt[1] == 11.0 / 9 && bpt[2] == 11.0 / 7 && bpt[3] == 11.0 / 5);
    cs_bpe_encoder_free(e);
    cs_bpe_free(b);
}

/* Merges never cross pre-tokens: in "ab ab ab" the pair (b, ' ') is never counted, so after
 * "ab" and " ab" nothing is left to merge. */
static void test_too_little_text(void **state)
{
    const uint8_t *text = (const uint8_t *)"ab ab ab";
    cs_bpe_params p = cs_bpe_default_params();
    cs_bpe *b = NULL;
    uint32_t l, r;

    (void)state;
    p.vocab = 300;
    p.min_count = 1;
    p.what = "tiny.txt";
    assert_int_equal(cs_bpe_train(text, 8, &p, &b), CS_EINPUT);
    assert_null(b);
    tu_assert_errmsg_has("tiny.txt: the text allows only 2 merges (vocabulary 258)");
    tu_assert_errmsg_has("vocabulary 300 needs 44 merges");
    p.allow_fewer = true;
    assert_int_equal(cs_bpe_train(text, 8, &p, &b), CS_OK);
    assert_int_equal(cs_bpe_vocab(b), 258);
    assert_int_equal(cs_bpe_merge(b, 0, &l, &r), CS_OK);
    assert_true(l == 'a' && r == 'b');
    assert_int_equal(cs_bpe_merge(b, 1, &l, &r), CS_OK);
    assert_true(l == ' ' && r == 256);
    cs_bpe_free(b);
    /* With the default min_count 2, pairs seen once are not merged. */
    p.min_count = 2;
    assert_int_equal(cs_bpe_train((const uint8_t *)"xyz", 3, &p, &b), CS_OK);
    assert_int_equal(cs_bpe_vocab(b), 256);
    cs_bpe_free(b);
}

static void test_bad_params(void **state)
{
    const uint8_t *text = (const uint8_t *)"some text";
    cs_bpe_params p = cs_bpe_default_params();
    cs_bpe *b = NULL;

    (void)state;
    p.what = "corpus.txt";
    p.vocab = 255;
    assert_int_equal(cs_bpe_train(text, 9, &p, &b), CS_EINPUT);
    tu_assert_errmsg_has("corpus.txt: vocabulary size 255 is below 256");
    p.vocab = CS_TOK_MAX_VOCAB + 1;
    assert_int_equal(cs_bpe_train(text, 9, &p, &b), CS_EINPUT);
    tu_assert_errmsg_has("is above the limit 1048576");
    p.vocab = 512;
    assert_int_equal(cs_bpe_train(text, 0, &p, &b), CS_EINPUT);
    tu_assert_errmsg_has("corpus.txt: training text is empty");
    p.min_count = 0;
    assert_int_equal(cs_bpe_train(text, 9, &p, &b), CS_EINVAL);
    assert_null(b);
}

// ---- encoding ---------------------------------------------------------------------------------

static void test_roundtrip_random(void **state)
{
    static const uint8_t bad_utf8[] = "\x80\xbf caf\xc3 \xe2\x82 \xc0\xaf\xed\xa0\x80 \xff";
    size_t n = (size_t)1 << 18;
    uint8_t *text = make_text(n, 7);
    cs_bpe *b = train(text, n, 1000, 2);
    cs_bpe *byte = cs_bpe_alloc_byte();
    cs_bpe_encoder *e = cs_bpe_encoder_alloc(b);
    cs_bpe_encoder *eb = cs_bpe_encoder_alloc(byte);
    uint8_t x[3000];
    uint64_t seed = 12345;
    size_t len, i;

    (void)state;
    assert_int_equal(cs_bpe_vocab(b), 1000);
    for (len = 0; len < sizeof x; len += 1 + len / 3) {
        for (i = 0; i < len; i++) /* every byte value, runs of spaces and letters */
            x[i] = (uint8_t)(rng_next(&seed) % 7 == 0 ? ' ' : rng_next(&seed) % 256);
        roundtrip(e, b, x, len);
        assert_int_equal(roundtrip(eb, byte, x, len), len);
    }
    for (i = 0; i < 256; i++)
        x[i] = (uint8_t)i;
    roundtrip(e, b, x, 256);
    /* Invalid UTF-8: lone continuation bytes, truncated sequences, overlong forms. */
    roundtrip(e, b, bad_utf8, sizeof bad_utf8 - 1);
    roundtrip(e, b, NULL, 0);
    roundtrip(e, b, text, n);
    /* The training text compresses: merges of the synthetic words apply. */
    assert_true(roundtrip(e, b, text, 4096) < 4096 / 2);
    cs_bpe_encoder_free(e);
    cs_bpe_encoder_free(eb);
    cs_bpe_free(byte);
    cs_bpe_free(b);
    free(text);
}

static void test_decode_errors(void **state)
{
    cs_bpe *b = train((const uint8_t *)"aaabdaaabac", 11, 259, 1);
    uint32_t ids[3] = {258, 97, 259};
    uint8_t out[8];
    size_t n_out = 0;

    (void)state;
    assert_int_equal(cs_bpe_decode(b, ids, 3, out, sizeof out, &n_out), CS_EINPUT);
    tu_assert_errmsg_has("token 2: id 259 is outside the vocabulary (0 to 258)");
    assert_int_equal(cs_bpe_decode(b, ids, 2, out, 3, &n_out), CS_EINVAL);
    assert_int_equal(n_out, 5);
    assert_int_equal(cs_bpe_decode(b, ids, 2, out, 5, &n_out), CS_OK);
    assert_memory_equal(out, "aaaba", 5);
    cs_bpe_free(b);
}

// ---- determinism and prefixes -----------------------------------------------------------------

/* Two runs, and runs with 1 and 4 counting threads (the text is above the 4 MB threshold where
 * threads start), give identical files. */
static void test_determinism(void **state)
{
    size_t n = (size_t)5 << 20;
    uint8_t *text = make_text(n, 99);
    cs_bpe_params p = cs_bpe_default_params();
    char *dir = tu_tmpdir();
    char path[3][4096];
    char *data[3];
    size_t len[3];
    size_t i;

    (void)state;
    p.vocab = 1500;
    for (i = 0; i < 3; i++) {
        cs_bpe *b = NULL;
        p.n_threads = i == 2 ? 1 : 4;
        assert_int_equal(cs_bpe_train(text, n, &p, &b), CS_OK);
        assert_int_equal(cs_bpe_vocab(b), 1500);
        snprintf(path[i], sizeof path[i], "%s/run%zu.bpe", dir, i);
        assert_int_equal(cs_bpe_save(b, path[i], false), CS_OK);
        cs_bpe_free(b);
        data[i] = read_all(path[i], &len[i]);
    }
    for (i = 1; i < 3; i++) {
        assert_int_equal(len[i], len[0]);
        assert_memory_equal(data[i], data[0], len[0]);
    }
    for (i = 0; i < 3; i++) {
        free(data[i]);
        remove(path[i]);
    }
    rmdir(dir);
    free(dir);
    free(text);
}

/* Training for 300 tokens gives the first 44 merges of training for 600, and a model capped at
 * 300 (by load or by prefix) encodes exactly as the one trained for 300. */
static void test_prefix_property(void **state)
{
    size_t n = (size_t)1 << 17;
    uint8_t *text = make_text(n, 3);
    cs_bpe *small = train(text, n, 300, 2);
    cs_bpe *big = train(text, n, 600, 2);
    cs_bpe *capped = NULL;
    cs_bpe *loaded = NULL;
    char *dir = tu_tmpdir();
    char path[4096];
    uint32_t *i1 = malloc(n * sizeof *i1);
    uint32_t *i2 = malloc(n * sizeof *i2);
    size_t n1 = 0, n2 = 0, n3 = 0;
    cs_bpe_encoder *e1 = cs_bpe_encoder_alloc(small);
    cs_bpe_encoder *e2;
    cs_bpe_encoder *e3;

    (void)state;
    assert_same_merges(small, big, 44);
    assert_int_equal(cs_bpe_prefix(big, 300, &capped), CS_OK);
    snprintf(path, sizeof path, "%s/big.bpe", dir);
    assert_int_equal(cs_bpe_save(big, path, false), CS_OK);
    assert_int_equal(cs_bpe_load(path, 300, &loaded), CS_OK);
    assert_int_equal(cs_bpe_vocab(loaded), 300);
    e2 = cs_bpe_encoder_alloc(capped);
    e3 = cs_bpe_encoder_alloc(loaded);
    assert_int_equal(cs_bpe_encode(e1, text, n, i1, &n1), CS_OK);
    assert_int_equal(cs_bpe_encode(e2, text, n, i2, &n2), CS_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(i1, i2, n1 * sizeof *i1);
    assert_int_equal(cs_bpe_encode(e3, text, n, i2, &n3), CS_OK);
    assert_int_equal(n1, n3);
    assert_memory_equal(i1, i2, n1 * sizeof *i1);
    assert_int_equal(cs_bpe_prefix(big, 601, &capped), CS_EINPUT);
    tu_assert_errmsg_has("vocabulary 601: expected 256 to 600");
    cs_bpe_encoder_free(e1);
    cs_bpe_encoder_free(e2);
    cs_bpe_encoder_free(e3);
    cs_bpe_free(small);
    cs_bpe_free(big);
    cs_bpe_free(capped);
    cs_bpe_free(loaded);
    free(i1);
    free(i2);
    remove(path);
    rmdir(dir);
    free(dir);
    free(text);
}

// ---- bytes per token --------------------------------------------------------------------------

/* Bytes per token rise with the vocabulary, and the training record equals a real encoding. */
static void test_bytes_per_token(void **state)
{
    size_t n = (size_t)1 << 18;
    uint8_t *text = make_text(n, 11);
    cs_bpe *b = train(text, n, 1024, 2);
    const size_t sizes[] = {256, 300, 400, 512, 700, 1024};
    double rec[6];
    double enc[6];
    size_t i;
    size_t bad = 2000;

    (void)state;
    assert_int_equal(cs_bpe_train_bytes_per_token(b, sizes, 6, rec), CS_OK);
    assert_int_equal(cs_bpe_bytes_per_token(b, text, n, sizes, 6, enc), CS_OK);
    assert_true(rec[0] == 1.0);
    for (i = 0; i < 6; i++) {
        if (rec[i] != enc[i])
            fail_msg("vocabulary %zu: record %.6f, encoding %.6f", sizes[i], rec[i], enc[i]);
        if (i > 0)
            assert_true(rec[i] > rec[i - 1]);
    }
    assert_true(rec[5] > 2.0);
    assert_int_equal(cs_bpe_train_bytes_per_token(b, &bad, 1, rec), CS_EINPUT);
    tu_assert_errmsg_has("vocabulary 2000: expected 256 to 1024");
    assert_int_equal(cs_bpe_bytes_per_token(b, text, n, &bad, 1, rec), CS_EINPUT);
    assert_int_equal(cs_bpe_bytes_per_token(b, text, 0, sizes, 1, rec), CS_EINPUT);
    cs_bpe_free(b);
    b = cs_bpe_alloc_byte();
    assert_int_equal(cs_bpe_train_bytes_per_token(b, sizes, 1, rec), CS_EINVAL);
    cs_bpe_free(b);
    free(text);
}

// ---- the file ---------------------------------------------------------------------------------

static void test_save_load(void **state)
{
    size_t n = (size_t)1 << 16;
    uint8_t *text = make_text(n, 5);
    cs_bpe *b = train(text, n, 400, 2);
    cs_bpe *c = NULL;
    char *dir = tu_tmpdir();
    char path[4096];
    char *data;
    size_t len;
    double x, y;
    const size_t v = 333;

    (void)state;
    snprintf(path, sizeof path, "%s/tok.bpe", dir);
    assert_int_equal(cs_bpe_save(b, path, false), CS_OK);
    assert_int_equal(cs_bpe_save(b, path, false), CS_EINPUT); /* exists, no force */
    assert_int_equal(cs_bpe_save(b, path, true), CS_OK);
    data = read_all(path, &len);
    assert_true(len > 40);
    assert_memory_equal(
        data, "ctxscale-bpe 1\nvocab 400\npretokenizer cs1 256\ntext_bytes 65536\n",
        strlen("ctxscale-bpe 1\nvocab 400\npretokenizer cs1 256\ntext_bytes 65536\n"));
    assert_memory_equal(data + len - 4, "end\n", 4);
    assert_int_equal(cs_bpe_load(path, 0, &c), CS_OK);
    assert_int_equal(cs_bpe_vocab(c), 400);
    assert_same_merges(b, c, 144);
    assert_int_equal(cs_bpe_train_bytes_per_token(b, &v, 1, &x), CS_OK);
    assert_int_equal(cs_bpe_train_bytes_per_token(c, &v, 1, &y), CS_OK);
    assert_true(x == y);
    cs_bpe_free(c);
    assert_int_equal(cs_bpe_load_mem(data, len, "mem", 256, &c), CS_OK);
    assert_int_equal(cs_bpe_vocab(c), 256);
    cs_bpe_free(c);
    /* A byte model saves and loads too. */
    cs_bpe_free(b);
    b = cs_bpe_alloc_byte();
    assert_int_equal(cs_bpe_save(b, path, true), CS_OK);
    assert_int_equal(cs_bpe_load(path, 0, &c), CS_OK);
    assert_int_equal(cs_bpe_vocab(c), 256);
    cs_bpe_free(c);
    cs_bpe_free(b);
    free(data);
    remove(path);
    rmdir(dir);
    free(dir);
    free(text);
}

/* Loads `text` from memory and expects CS_EINPUT with `needle` in the message. */
static void expect_bad(const char *text, size_t cap, const char *needle)
{
    cs_bpe *b = NULL;

    if (cs_bpe_load_mem(text, strlen(text), "t.bpe", cap, &b) != CS_EINPUT)
        fail_msg("accepted a bad file:\n%s", text);
    assert_null(b);
    tu_assert_errmsg_has(needle);
}

#define HDR "ctxscale-bpe 1\nvocab 259\npretokenizer cs1 256\ntext_bytes 11\n"

static void test_bad_files(void **state)
{
    const char *good = HDR "97 97 9\n97 98 7\n256 257 5\nend\n";
    cs_bpe *b = NULL;
    size_t cut;

    (void)state;
    assert_int_equal(cs_bpe_load_mem(good, strlen(good), "t.bpe", 0, &b), CS_OK);
    cs_bpe_free(b);
    /* Every truncation of a good file is refused. */
    for (cut = 0; cut < strlen(good); cut++) {
        b = NULL;
        assert_int_equal(cs_bpe_load_mem(good, cut, "t.bpe", 0, &b), CS_EINPUT);
        assert_null(b);
    }
    expect_bad("", 0, "t.bpe: empty file; expected a ctxscale BPE tokenizer file");
    expect_bad(HDR "97 97 9\n", 0,
               "t.bpe: truncated: the file ends before line 6; expected "
               "merge line 2 of 3");
    expect_bad(HDR "97 97 9\n97 98 7\n256 257 5\n", 0, "expected \"end\"");
    expect_bad(HDR "97 97 9\n97 98 7\n256 257 5\nend", 0, "t.bpe:8: truncated");
    expect_bad("ctxscale-bpe 2\nvocab 256\n", 0,
               "t.bpe:1: tokenizer file format version \"2\"; expected version 1");
    expect_bad("merges\n", 0, "t.bpe:1: expected \"ctxscale-bpe 1\"");
    expect_bad("ctxscale-bpe 1\nvocab 25\n", 0, "t.bpe:2: vocabulary size 25 is below 256");
    expect_bad("ctxscale-bpe 1\nvocab x\n", 0, "t.bpe:2: vocab: expected an integer");
    expect_bad("ctxscale-bpe 1\nvocab 256\npretokenizer gpt2\n", 0,
               "t.bpe:3: expected "
               "\"pretokenizer cs1 256\"");
    expect_bad(HDR "97 97 9\n97 98 7\n256 259 5\nend\n", 0,
               "t.bpe:7: merge 2 (256 259) refers "
               "to a token not made yet");
    expect_bad(HDR "97 97 9\n97 97 7\n256 257 5\nend\n", 0,
               "t.bpe:6: merge 1 (97 97) repeats "
               "merge 0");
    expect_bad(HDR "97 97 9\n97 98 9\n256 257 5\nend\n", 0, "t.bpe:6: merge 1 leaves 9 tokens");
    expect_bad(HDR "97 97 9\n97 98 7\n256 257\nend\n", 0, "t.bpe:7: expected a merge");
    expect_bad(HDR "97 97 9\n97  98 7\n256 257 5\nend\n", 0, "t.bpe:6: expected a merge");
    expect_bad(HDR "97 97 9\n97 98 7\n256 257 5\nend\nmore\n", 0, "t.bpe:9: expected the end");
    expect_bad(good, 260, "vocabulary cap 260: expected 256 to 259");
    expect_bad(good, 100, "vocabulary cap 100");
    /* Doubling merges would make a 512-byte token: longer than any pre-token. */
    expect_bad("ctxscale-bpe 1\nvocab 265\npretokenizer cs1 256\ntext_bytes 1000\n97 97 999\n"
               "256 256 998\n257 257 997\n258 258 996\n259 259 995\n260 260 994\n261 261 993\n"
               "262 262 992\n263 263 991\nend\n",
               0, "t.bpe:13: merge 8 makes a token of 512 bytes");
    assert_int_equal(cs_bpe_load("/nonexistent/dir/t.bpe", 0, &b), CS_EIO);
    tu_assert_errmsg_has("/nonexistent/dir/t.bpe");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pretokenizer),     cmocka_unit_test(test_tiny_example),
        cmocka_unit_test(test_too_little_text),  cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_roundtrip_random), cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_determinism),      cmocka_unit_test(test_prefix_property),
        cmocka_unit_test(test_bytes_per_token),  cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
