/* tests/unit/test_store.c: the token store (data/store.c): round trip through BPE encoding and
 * decoding, uint16/uint32 width from the vocabulary, split order, validation on open
 * (truncated tokens.bin, bad magic, version, store.json), refusal of existing paths, nothing left
 * behind by failures, the same bytes for any thread count, long documents encoded in pieces.
 * Run by `make test`. */
#include "tests/testutil.h"

#include "core/rng.h"
#include "data/store.h"

#include <dirent.h>
#include <sys/stat.h>

#define N_DOCS 40

static const char *const sylls[] = {"ka", "to", "ri", "mu", "sen", "lo", "pa", "ve", "dor", "qui",
                                    "ax", "zy", "el", "on", "ist", "ur", "\n", ",",  "."};

/* A text of about n bytes (at most n + 16) of words of 1 to 3 syllables. Caller frees. */
static uint8_t *make_text(cs_rng *r, size_t n, size_t *len)
{
    uint8_t *t = malloc(n + 16);
    size_t k = 0;

    assert_non_null(t);
    while (k < n) {
        uint64_t parts = 1 + cs_rng_below(r, 3);

        if (k)
            t[k++] = ' ';
        while (parts-- > 0) {
            const char *w = sylls[cs_rng_below(r, sizeof sylls / sizeof sylls[0])];

            memcpy(t + k, w, strlen(w));
            k += strlen(w);
        }
    }
    *len = k;
    return t;
}

typedef struct corpus {
    cs_store_input in[N_DOCS];
    uint8_t *text[N_DOCS];
} corpus;

/* N_DOCS documents of varied lengths (one empty), two sources, train and val interleaved. */
static void make_corpus(corpus *c)
{
    cs_rng r;
    size_t i;

    cs_rng_seed(&r, 7, 0);
    for (i = 0; i < N_DOCS; i++) {
        size_t len = 0;

        c->text[i] = make_text(&r, i == 3 ? 0 : 50 + 97 * i, &len);
        c->in[i].bytes = c->text[i];
        c->in[i].n = len;
        c->in[i].source = i % 3 == 0 ? "books" : "web";
        c->in[i].split = i % 5 == 4 ? CS_STORE_VAL : CS_STORE_TRAIN;
    }
}

static void free_corpus(corpus *c)
{
    size_t i;

    for (i = 0; i < N_DOCS; i++)
        free(c->text[i]);
}

/* A BPE tokenizer of `vocab` trained on the corpus. */
static cs_tok *train_tok(const corpus *c, size_t vocab)
{
    cs_bpe_params p = cs_bpe_default_params();
    size_t n = 0;
    size_t i;
    uint8_t *all;
    cs_bpe *b = NULL;
    cs_tok *t;

    for (i = 0; i < N_DOCS; i++)
        n += c->in[i].n;
    all = malloc(n);
    assert_non_null(all);
    for (n = 0, i = 0; i < N_DOCS; n += c->in[i].n, i++)
        memcpy(all + n, c->in[i].bytes, c->in[i].n);
    p.vocab = vocab;
    p.n_threads = 1;
    p.min_count = 1;
    assert_int_equal(cs_bpe_train(all, n, &p, &b), CS_OK);
    t = cs_tok_alloc_bpe(b, 0);
    assert_non_null(t);
    cs_bpe_free(b);
    free(all);
    return t;
}

/* Asserts that decoding every stored document gives its bytes back. */
static void check_round_trip(const cs_store *s, const corpus *c)
{
    cs_tok *tok = NULL;
    size_t i;

    assert_int_equal(cs_store_open_tokenizer(s, &tok), CS_OK);
    for (i = 0; i < cs_store_n_docs(s); i++) {
        const cs_store_doc *d = cs_store_doc_at(s, i);
        const cs_store_input *in = &c->in[d->corpus_doc];
        uint32_t *ids = malloc((d->n_tokens + 1) * sizeof *ids);
        uint8_t *back = malloc(d->n_bytes + 1);
        size_t nb = 0;

        assert_non_null(ids);
        assert_non_null(back);
        assert_int_equal(d->n_bytes, in->n);
        assert_int_equal(d->split, (uint32_t)in->split);
        assert_string_equal(cs_store_source_name(s, d->source), in->source);
        assert_int_equal(cs_store_read(s, i, 0, (size_t)d->n_tokens, ids), CS_OK);
        assert_int_equal(cs_tok_decode(tok, ids, (size_t)d->n_tokens, back, d->n_bytes + 1, &nb),
                         CS_OK);
        assert_int_equal(nb, in->n);
        assert_memory_equal(back, in->bytes, in->n);
        free(ids);
        free(back);
    }
    cs_tok_free(tok);
}

/* True when `dir`'s parent holds an entry starting with "<base>.tmp." or "<base>.old.". */
static bool leftovers(const char *parent, const char *base)
{
    DIR *d = opendir(parent);
    struct dirent *e;
    char a[256];
    char b[256];
    bool found = false;

    assert_non_null(d);
    snprintf(a, sizeof a, "%s.tmp.", base);
    snprintf(b, sizeof b, "%s.old.", base);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, a, strlen(a)) == 0 || strncmp(e->d_name, b, strlen(b)) == 0)
            found = true;
    closedir(d);
    return found;
}

static off_t file_size(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static void test_round_trip(void **state)
{
    corpus c;
    cs_tok *tok;
    char *tmp = tu_tmpdir();
    char dir[2048];
    cs_store *s = NULL;
    cs_store_write_stats ws;
    size_t first = 0;
    size_t count = 0;
    size_t i;
    uint64_t train_tokens = 0;

    (void)state;
    make_corpus(&c);
    tok = train_tok(&c, 300);
    snprintf(dir, sizeof dir, "%s/st", tmp);
    assert_int_equal(cs_store_build(dir, tok, NULL, c.in, N_DOCS, &ws), CS_OK);
    assert_int_equal(ws.n_docs, N_DOCS);
    assert_true(ws.n_tokens > 0 && ws.n_tokens < ws.n_bytes);
    assert_int_equal(strlen(ws.tokenizer_sum), 16);
    assert_int_equal(cs_store_open(dir, &s), CS_OK);
    assert_int_equal(cs_store_vocab(s), 300);
    assert_int_equal(cs_store_token_bytes(s), 2);
    assert_int_equal(cs_store_n_docs(s), N_DOCS);
    assert_int_equal(cs_store_n_sources(s), 2);
    assert_string_equal(cs_store_source_name(s, 0), "books");
    assert_int_equal(cs_store_source_find(s, "web"), 1);
    assert_int_equal(cs_store_source_find(s, "news"), -1);
    assert_null(cs_store_source_name(s, 2));
    check_round_trip(s, &c);
    /* Train documents first, then val, each in the order added. */
    assert_int_equal(cs_store_split_range(s, CS_STORE_TRAIN, &first, &count), CS_OK);
    assert_int_equal(first, 0);
    assert_int_equal(count, 32);
    for (i = 0; i < count; i++)
        train_tokens += cs_store_doc_at(s, i)->n_tokens;
    assert_int_equal(train_tokens, cs_store_split_tokens(s, CS_STORE_TRAIN));
    assert_int_equal(cs_store_split_range(s, CS_STORE_VAL, &first, &count), CS_OK);
    assert_int_equal(first, 32);
    assert_int_equal(count, 8);
    assert_int_equal(cs_store_doc_at(s, 32)->corpus_doc, 4);
    assert_int_equal(cs_store_doc_at(s, 32)->offset, train_tokens);
    assert_int_equal(file_size(tu_path(dir, "tokens.bin")), 2 * (off_t)ws.n_tokens);
    assert_int_equal(cs_store_check_ids(s), CS_OK);
    cs_store_close(s);
    assert_false(leftovers(tmp, "st"));
    cs_tok_free(tok);
    free_corpus(&c);
    free(tmp);
}

static void test_bounds(void **state)
{
    corpus c;
    cs_tok *tok = cs_tok_alloc_byte();
    char *tmp = tu_tmpdir();
    cs_store *s = NULL;
    uint32_t ids[8];
    const cs_store_doc *d;

    (void)state;
    make_corpus(&c);
    assert_int_equal(cs_store_build(tu_path(tmp, "b"), tok, NULL, c.in, N_DOCS, NULL), CS_OK);
    assert_int_equal(cs_store_open(tu_path(tmp, "b"), &s), CS_OK);
    d = cs_store_doc_at(s, 0);
    assert_non_null(d);
    assert_null(cs_store_doc_at(s, N_DOCS));
    assert_int_equal(cs_store_read(s, 0, d->n_tokens - 2, 2, ids), CS_OK);
    assert_int_equal(ids[1], c.in[0].bytes[c.in[0].n - 1]); /* byte tokenizer: id = byte */
    assert_int_equal(cs_store_read(s, 0, d->n_tokens - 2, 3, ids), CS_EINVAL);
    tu_assert_errmsg_has("document 0: tokens");
    assert_int_equal(cs_store_read(s, N_DOCS, 0, 1, ids), CS_EINVAL);
    assert_int_equal(cs_store_read_flat(s, UINT64_MAX - 1, 4, ids), CS_EINVAL);
    cs_store_close(s);
    cs_tok_free(tok);
    free_corpus(&c);
    free(tmp);
}

/* Writes a BPE file with vocab - 256 two-byte merges (a, b) and loads it. */
static cs_tok *big_tok(const char *dir, size_t vocab)
{
    const char *path = tu_path(dir, "big.bpe");
    FILE *f = fopen(path, "w");
    cs_tok *t = NULL;
    size_t k;

    assert_non_null(f);
    fprintf(f, "ctxscale-bpe 1\nvocab %zu\npretokenizer cs1 256\ntext_bytes 100000000\n", vocab);
    for (k = 0; k < vocab - 256; k++) {
        size_t l = k < 65536 ? k / 256 : 256 + (k - 65536);
        size_t r = k < 65536 ? k % 256 : 0;

        fprintf(f, "%zu %zu %zu\n", l, r, (size_t)100000000 - k - 1);
    }
    fprintf(f, "end\n");
    assert_int_equal(fclose(f), 0);
    assert_int_equal(cs_tok_open(path, 0, &t), CS_OK);
    return t;
}

static void test_width(void **state)
{
    corpus c;
    char *tmp = tu_tmpdir();
    cs_tok *tok = big_tok(tmp, 65536 + 300);
    cs_store_write_params p = cs_store_default_write_params();
    cs_store_writer *w = NULL;
    cs_store *s = NULL;
    cs_store_write_stats ws;
    char path[8192];

    (void)state;
    make_corpus(&c);
    /* A vocabulary above 65,536 needs 32-bit ids: automatic, and refused as uint16. */
    p.token_bytes = 2;
    assert_int_equal(cs_store_writer_open(tu_path(tmp, "w16"), tok, &p, &w), CS_EINPUT);
    tu_assert_errmsg_has("uint16 token store: vocabulary size 65836 is above the limit 65536");
    assert_null(w);
    assert_int_equal(access(tu_path(tmp, "w16"), F_OK), -1);
    assert_false(leftovers(tmp, "w16"));
    p.token_bytes = 3;
    assert_int_equal(cs_store_writer_open(tu_path(tmp, "w16"), tok, &p, &w), CS_EINPUT);
    p.token_bytes = 0;
    assert_int_equal(cs_store_build(tu_path(tmp, "w32"), tok, &p, c.in, N_DOCS, &ws), CS_OK);
    assert_int_equal(cs_store_open(tu_path(tmp, "w32"), &s), CS_OK);
    assert_int_equal(cs_store_token_bytes(s), 4);
    assert_int_equal(cs_store_vocab(s), 65836);
    snprintf(path, sizeof path, "%s/w32/tokens.bin", tmp);
    assert_int_equal(file_size(path), 4 * (off_t)ws.n_tokens);
    check_round_trip(s, &c);
    assert_int_equal(cs_store_check_ids(s), CS_OK);
    cs_store_close(s);
    cs_tok_free(tok);
    /* A small vocabulary may be stored as uint32 on request. */
    tok = cs_tok_alloc_byte();
    p.token_bytes = 4;
    assert_int_equal(cs_store_build(tu_path(tmp, "b32"), tok, &p, c.in, N_DOCS, NULL), CS_OK);
    assert_int_equal(cs_store_open(tu_path(tmp, "b32"), &s), CS_OK);
    assert_int_equal(cs_store_token_bytes(s), 4);
    check_round_trip(s, &c);
    cs_store_close(s);
    cs_tok_free(tok);
    free_corpus(&c);
    free(tmp);
}

/* Builds a byte-level store at tmp/name. */
static void build_small(const char *tmp, const char *name)
{
    corpus c;
    cs_tok *tok = cs_tok_alloc_byte();

    make_corpus(&c);
    assert_int_equal(cs_store_build(tu_path(tmp, name), tok, NULL, c.in, N_DOCS, NULL), CS_OK);
    cs_tok_free(tok);
    free_corpus(&c);
}

static int open_status(const char *dir)
{
    cs_store *s = NULL;
    int st = cs_store_open(dir, &s);

    assert_true(st == CS_OK ? s != NULL : s == NULL);
    cs_store_close(s);
    return st;
}

static void test_validation(void **state)
{
    char *tmp = tu_tmpdir();
    char dir[4096];
    char path[8192];
    FILE *f;

    (void)state;
    build_small(tmp, "v");
    snprintf(dir, sizeof dir, "%s/v", tmp);
    assert_int_equal(open_status(dir), CS_OK);
    /* Truncated tokens.bin. */
    snprintf(path, sizeof path, "%s/tokens.bin", dir);
    assert_int_equal(truncate(path, file_size(path) - 2), 0);
    assert_int_equal(open_status(dir), CS_EINPUT);
    tu_assert_errmsg_has("tokens.bin:");
    tu_assert_errmsg_has("truncated or not this store's");
    /* Missing tokens.bin. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(open_status(dir), CS_EINPUT);
    tu_assert_errmsg_has("tokens.bin");
    /* Bad magic and version in docs.bin. */
    build_small(tmp, "m");
    snprintf(dir, sizeof dir, "%s/m", tmp);
    snprintf(path, sizeof path, "%s/docs.bin", dir);
    f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 8, SEEK_SET), 0);
    assert_int_equal(fputc(9, f), 9);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(open_status(dir), CS_EINPUT);
    tu_assert_errmsg_has("docs.bin: index format version 9; expected version 1");
    f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fputc('X', f), 'X');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(open_status(dir), CS_EINPUT);
    tu_assert_errmsg_has("docs.bin: not a token store index");
    /* A truncated docs.bin. */
    build_small(tmp, "d");
    snprintf(path, sizeof path, "%s/d/docs.bin", tmp);
    assert_int_equal(truncate(path, file_size(path) - 40), 0);
    snprintf(dir, sizeof dir, "%s/d", tmp);
    assert_int_equal(open_status(dir), CS_EINPUT);
    tu_assert_errmsg_has("docs.bin");
    /* store.json disagreeing, or broken. */
    build_small(tmp, "j");
    snprintf(dir, sizeof dir, "%s/j", tmp);
    snprintf(path, sizeof path, "%s/store.json", dir);
    tu_write_file(path, "{\"version\": 1, \"vocab\": 512}", 28);
    assert_int_equal(open_status(dir), CS_EINPUT);
    tu_assert_errmsg_has("store.json: \"vocab\" is 512; docs.bin says 256");
    tu_write_file(path, "{", 1);
    assert_int_equal(open_status(dir), CS_EINPUT);
    tu_assert_errmsg_has("store.json:");
    assert_int_equal(open_status(tu_path(tmp, "absent")), CS_EINPUT);
    tu_assert_errmsg_has("not a token store directory?");
    free(tmp);
}

static void test_existing_and_failures(void **state)
{
    corpus c;
    cs_tok *tok = cs_tok_alloc_byte();
    char *tmp = tu_tmpdir();
    cs_store_write_params p = cs_store_default_write_params();
    cs_store_writer *w = NULL;
    cs_store_input bad;
    cs_store *s = NULL;
    char path[8192];

    (void)state;
    make_corpus(&c);
    build_small(tmp, "e");
    /* Existing store: refused, then replaced with force. */
    assert_int_equal(cs_store_build(tu_path(tmp, "e"), tok, NULL, c.in, 2, NULL), CS_EINPUT);
    tu_assert_errmsg_has("exists; use --force to replace it");
    p.force = true;
    assert_int_equal(cs_store_build(tu_path(tmp, "e"), tok, &p, c.in, 2, NULL), CS_OK);
    assert_int_equal(cs_store_open(tu_path(tmp, "e"), &s), CS_OK);
    assert_int_equal(cs_store_n_docs(s), 2);
    cs_store_close(s);
    assert_false(leftovers(tmp, "e"));
    /* force never replaces something that is not a store. */
    assert_int_equal(mkdir(tu_path(tmp, "notstore"), 0777), 0);
    snprintf(path, sizeof path, "%s/notstore/precious.txt", tmp);
    tu_write_file(path, "x", 1);
    assert_int_equal(cs_store_build(tu_path(tmp, "notstore"), tok, &p, c.in, 2, NULL), CS_EINPUT);
    tu_assert_errmsg_has("not a token store");
    assert_int_equal(access(path, F_OK), 0);
    tu_write_file(tu_path(tmp, "file"), "x", 1);
    assert_int_equal(cs_store_build(tu_path(tmp, "file"), tok, &p, c.in, 2, NULL), CS_EINPUT);
    /* Failures leave nothing behind. */
    assert_int_equal(cs_store_build(tu_path(tmp, "none"), tok, NULL, c.in, 0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("no documents to store");
    bad = c.in[0];
    bad.source = "";
    assert_int_equal(cs_store_build(tu_path(tmp, "none"), tok, NULL, &bad, 1, NULL), CS_EINPUT);
    tu_assert_errmsg_has("document 0: source label must have 1 to 255 bytes");
    bad.source = "x";
    bad.split = 2;
    assert_int_equal(cs_store_writer_open(tu_path(tmp, "none"), tok, NULL, &w), CS_OK);
    assert_int_equal(cs_store_writer_add(w, c.in, 3), CS_OK);
    assert_int_equal(cs_store_writer_add(w, &bad, 1), CS_EINPUT);
    tu_assert_errmsg_has("document 3: split 2");
    cs_store_writer_abort(w);
    assert_int_equal(access(tu_path(tmp, "none"), F_OK), -1);
    assert_false(leftovers(tmp, "none"));
    cs_tok_free(tok);
    free_corpus(&c);
    free(tmp);
}

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *d;

    assert_non_null(f);
    *n = (size_t)file_size(path);
    d = malloc(*n + 1);
    assert_non_null(d);
    assert_int_equal(fread(d, 1, *n, f), *n);
    fclose(f);
    return d;
}

static void assert_same_file(const char *a, const char *b)
{
    size_t na = 0;
    size_t nb = 0;
    uint8_t *da = read_all(a, &na);
    uint8_t *db = read_all(b, &nb);

    assert_int_equal(na, nb);
    assert_memory_equal(da, db, na);
    free(da);
    free(db);
}

static void test_threads_and_long_docs(void **state)
{
    corpus c;
    cs_tok *tok;
    char *tmp = tu_tmpdir();
    cs_store_write_params p = cs_store_default_write_params();
    cs_store *s = NULL;
    const char *names[] = {"tokens.bin", "docs.bin", "store.json", "tokenizer.bpe"};
    char a[8192];
    char b[8192];
    cs_rng r;
    size_t i;

    (void)state;
    make_corpus(&c);
    /* One document of 2.5 MB, encoded in pieces; it must match encoding it whole. */
    free(c.text[7]);
    cs_rng_seed(&r, 11, 0);
    c.text[7] = make_text(&r, 2500000, &c.in[7].n);
    c.in[7].bytes = c.text[7];
    tok = train_tok(&c, 400);
    p.n_threads = 1;
    assert_int_equal(cs_store_build(tu_path(tmp, "t1"), tok, &p, c.in, N_DOCS, NULL), CS_OK);
    p.n_threads = 4;
    assert_int_equal(cs_store_build(tu_path(tmp, "t4"), tok, &p, c.in, N_DOCS, NULL), CS_OK);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(a, sizeof a, "%s/t1/%s", tmp, names[i]);
        snprintf(b, sizeof b, "%s/t4/%s", tmp, names[i]);
        assert_same_file(a, b);
    }
    assert_int_equal(cs_store_open(tu_path(tmp, "t4"), &s), CS_OK);
    check_round_trip(s, &c);
    {
        uint32_t *whole = malloc(c.in[7].n * sizeof *whole);
        uint32_t *stored;
        size_t n_whole = 0;
        const cs_store_doc *d = cs_store_doc_at(s, 7 - 1); /* doc 4 is val, so 7 is index 6 */

        assert_int_equal(d->corpus_doc, 7);
        assert_int_equal(cs_tok_encode(tok, c.in[7].bytes, c.in[7].n, whole, &n_whole), CS_OK);
        assert_int_equal(n_whole, d->n_tokens);
        stored = malloc(n_whole * sizeof *stored);
        assert_int_equal(cs_store_read(s, 6, 0, n_whole, stored), CS_OK);
        assert_memory_equal(whole, stored, n_whole * sizeof *stored);
        free(whole);
        free(stored);
    }
    cs_store_close(s);
    cs_tok_free(tok);
    free_corpus(&c);
    free(tmp);
}

static void test_fnv_and_splits(void **state)
{
    int sp = -1;

    (void)state;
    /* FNV-1a 64 reference values: "" and "a". */
    assert_true(cs_store_fnv1a(CS_STORE_FNV_INIT, "", 0) == UINT64_C(0xcbf29ce484222325));
    assert_true(cs_store_fnv1a(CS_STORE_FNV_INIT, "a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
    assert_int_equal(cs_store_split_parse("val", &sp, "--split"), CS_OK);
    assert_int_equal(sp, CS_STORE_VAL);
    assert_int_equal(cs_store_split_parse("test", &sp, "--split"), CS_EINPUT);
    tu_assert_errmsg_has("--split: expected \"train\" or \"val\", got \"test\"");
    assert_string_equal(cs_store_split_name(CS_STORE_TRAIN), "train");
    assert_null(cs_store_split_name(5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_existing_and_failures),
        cmocka_unit_test(test_threads_and_long_docs),
        cmocka_unit_test(test_fnv_and_splits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
