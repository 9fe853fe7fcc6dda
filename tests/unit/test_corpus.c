/* tests/unit/test_corpus.c: the corpus directory (data/corpus.c: SHA-256, UTF-8, writer, split,
 * reader) and the user sources and Gutenberg stripping of data/sources.c. Run by `make test`.
 * The Debian corpora are tested end to end in tests/cli/test_data_build.sh (with stand-in
 * programs) and tests/cli/test_data_pdbooks.sh (with the real packages).
 */
#include "tests/testutil.h"

#include "data/corpus.h"
#include "data/sources.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

// ---- helpers -------------------------------------------------------------------------------

static void sha_of(const void *data, size_t n, char hex[65])
{
    uint8_t sum[32];

    cs_corpus_sha256_bytes(data, n, sum);
    cs_corpus_hex(sum, 32, hex);
}

/* Number of entries of dir whose name contains `part`. */
static size_t count_entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

static bool exists(const char *path)
{
    struct stat sb;

    return lstat(path, &sb) == 0;
}

/* "dir/name" in a caller buffer (tu_path's buffer is shared). */
static const char *pathb(char *buf, const char *dir, const char *name)
{
    int n = snprintf(buf, 4096, "%s/%s", dir, name);

    assert_true(n > 0 && n < 4096);
    return buf;
}

/* Writes the C string s (without its NUL) to path. */
static void write_str(const char *path, const char *s)
{
    tu_write_file(path, s, strlen(s));
}

static size_t add_test_source(cs_corpus_writer *w, const char *label)
{
    size_t id = 99;

    assert_int_equal(
        cs_corpus_writer_add_source(
            w, &(cs_corpus_source){"file", "test", label, NULL, NULL, NULL, NULL, NULL}, &id),
        CS_OK);
    return id;
}

/* Writes a corpus of n documents "doc <i>" titled "t<i>", labels alternating a/b. */
static void build_simple(const char *out, size_t n, double frac, uint64_t seed, bool force)
{
    cs_corpus_writer *w;
    cs_corpus_params p = cs_corpus_default_params();
    size_t i;

    assert_int_equal(cs_corpus_writer_open(out, force, &w), CS_OK);
    add_test_source(w, "a");
    add_test_source(w, "b");
    for (i = 0; i < n; i++) {
        char text[32];
        char title[32];

        snprintf(text, sizeof text, "doc %zu", i);
        snprintf(title, sizeof title, "t%zu", i);
        assert_int_equal(cs_corpus_writer_add(w, i % 2, NULL, title, text, strlen(text), NULL),
                         CS_OK);
    }
    p.val_frac = frac;
    p.seed = seed;
    p.created = 1700000000;
    assert_int_equal(cs_corpus_writer_commit(w, &p), CS_OK);
}

/* Bytes of the val documents of the corpus in dir: the reader loop docs/data.md shows. */
static uint64_t val_bytes(const char *dir)
{
    cs_corpus *c;
    cs_corpus_doc d;
    uint64_t sum = 0;
    size_t i;

    if (cs_corpus_open(dir, &c) != CS_OK)
        return UINT64_MAX;
    for (i = 0; i < cs_corpus_count(c); i++) {
        cs_corpus_get(c, i, &d);
        if (d.split == CS_CORPUS_VAL)
            sum += d.len;
    }
    cs_corpus_close(c);
    return sum;
}

// ---- SHA-256 and UTF-8 ---------------------------------------------------------------------

static void test_sha256(void **state)
{
    static const char *msg448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    cs_corpus_sha256 s;
    uint8_t sum[32];
    char hex[65];
    char *million = malloc(1000000);
    size_t i;

    (void)state;
    sha_of("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_of("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha_of(msg448, strlen(msg448), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_non_null(million);
    memset(million, 'a', 1000000);
    cs_corpus_sha256_init(&s); /* in uneven pieces: the block buffering must not matter */
    for (i = 0; i < 1000000; i += 7919)
        cs_corpus_sha256_update(&s, million + i, 1000000 - i < 7919 ? 1000000 - i : 7919);
    cs_corpus_sha256_final(&s, sum);
    cs_corpus_hex(sum, 32, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

static void test_utf8_and_labels(void **state)
{
    (void)state;
    assert_true(cs_corpus_is_utf8((const uint8_t *)"", 0));
    assert_true(cs_corpus_is_utf8((const uint8_t *)"plain", 5));
    assert_true(cs_corpus_is_utf8((const uint8_t *)"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9));
    assert_true(cs_corpus_is_utf8((const uint8_t *)"\xF4\x8F\xBF\xBF", 4));  /* U+10FFFF */
    assert_false(cs_corpus_is_utf8((const uint8_t *)"\xC0\x80", 2));         /* overlong NUL */
    assert_false(cs_corpus_is_utf8((const uint8_t *)"\xE0\x80\xAF", 3));     /* overlong */
    assert_false(cs_corpus_is_utf8((const uint8_t *)"\xED\xA0\x80", 3));     /* surrogate */
    assert_false(cs_corpus_is_utf8((const uint8_t *)"\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(cs_corpus_is_utf8((const uint8_t *)"\xE2\x82", 2));         /* truncated */
    assert_false(cs_corpus_is_utf8((const uint8_t *)"a\x80", 2));            /* lone continuation */
    assert_false(cs_corpus_is_utf8((const uint8_t *)"\xFF", 1));
    assert_true(cs_corpus_label_is_valid("pd-books:bible_kjv.v1+x"));
    assert_false(cs_corpus_label_is_valid(""));
    assert_false(cs_corpus_label_is_valid("has space"));
    assert_false(cs_corpus_label_is_valid("tab\there"));
    assert_false(cs_corpus_label_is_valid("\xC3\xA9"));
    assert_true(cs_corpus_label_is_valid(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_false(cs_corpus_label_is_valid(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

// ---- writer and reader ---------------------------------------------------------------------

/* Any bytes round-trip: invalid UTF-8, NUL, CR; titles with tabs, newlines and backslashes. */
static void test_roundtrip(void **state)
{
    static const char bin[] = {'a', '\0', '\xff', '\xfe', '\r', '\n', 'z'};
    static const char *titles[] = {"plain", "tab\there\nnewline\\back\x01", "bin"};
    char *dir = tu_tmpdir();
    char out[4096];
    cs_corpus_writer *w;
    cs_corpus *c;
    cs_corpus_doc d;
    cs_corpus_params p = cs_corpus_default_params();
    size_t src;
    bool kept = true;
    char hex[65];

    (void)state;
    pathb(out, dir, "c");
    assert_int_equal(cs_corpus_writer_open(out, false, &w), CS_OK);
    src = add_test_source(w, "lab");
    assert_int_equal(cs_corpus_writer_add(w, src, NULL, titles[0], "hello\n", 6, NULL), CS_OK);
    assert_int_equal(cs_corpus_writer_begin(w, src, "other.label", titles[1]), CS_OK);
    assert_int_equal(cs_corpus_writer_write(w, "caf\xC3", 4), CS_OK); /* split inside a char */
    assert_int_equal(cs_corpus_writer_write(w, "\xA9", 1), CS_OK);
    assert_int_equal(cs_corpus_writer_end(w, NULL), CS_OK);
    assert_int_equal(cs_corpus_writer_add(w, src, NULL, "empty", "", 0, &kept), CS_OK);
    assert_false(kept);
    assert_int_equal(cs_corpus_writer_add(w, src, NULL, titles[2], bin, sizeof bin, NULL), CS_OK);
    assert_int_equal(cs_corpus_writer_add(w, src, "bad label", "x", "x", 1, NULL), CS_EINPUT);
    tu_assert_errmsg_has("label \"bad label\"");
    assert_int_equal(cs_corpus_writer_count(w), 3);
    p.name = "round trip";
    p.val_frac = 0;
    assert_int_equal(cs_corpus_writer_commit(w, &p), CS_OK);
    assert_int_equal(count_entries(dir, ".tmp."), 0);

    assert_int_equal(cs_corpus_open(out, &c), CS_OK);
    assert_int_equal(cs_corpus_count(c), 3);
    assert_int_equal(cs_corpus_count_split(c, CS_CORPUS_VAL), 0);
    assert_int_equal(cs_corpus_bytes(c), 6 + 5 + sizeof bin);
    assert_string_equal(cs_corpus_name(c), "round trip");
    assert_int_equal(cs_corpus_n_labels(c), 2);
    assert_int_equal(cs_corpus_get(c, 1, &d), CS_OK);
    assert_string_equal(d.title, titles[1]);
    assert_string_equal(d.label, "other.label");
    assert_int_equal(d.len, 5);
    assert_memory_equal(d.bytes, "caf\xC3\xA9", 5);
    assert_true(d.utf8);
    assert_int_equal(cs_corpus_get(c, 2, &d), CS_OK);
    assert_int_equal(d.len, sizeof bin);
    assert_memory_equal(d.bytes, bin, sizeof bin);
    assert_false(d.utf8);
    assert_string_equal(d.label, "lab");
    sha_of(bin, sizeof bin, hex);
    assert_string_equal(d.sha256, hex);
    assert_int_equal(cs_corpus_get(c, 3, &d), CS_EINVAL);
    assert_int_equal(cs_corpus_verify(c), CS_OK);
    cs_corpus_close(c);
    assert_int_equal(val_bytes(out), 0);
    free(dir);
}

static void test_split(void **state)
{
    char *dir = tu_tmpdir();
    char a[4096];
    char b[4096];
    cs_corpus *c1;
    cs_corpus *c2;
    cs_corpus_doc d1;
    cs_corpus_doc d2;
    size_t i;
    size_t val_a = 0;
    size_t same = 0;
    uint64_t vb = 0;

    (void)state;
    build_simple(pathb(a, dir, "one"), 200, 0.1, 7, false);
    build_simple(pathb(b, dir, "two"), 200, 0.1, 7, false);
    assert_int_equal(cs_corpus_open(a, &c1), CS_OK);
    assert_int_equal(cs_corpus_open(b, &c2), CS_OK);
    assert_string_equal(cs_corpus_checksum(c1), cs_corpus_checksum(c2)); /* deterministic */
    assert_int_equal(cs_corpus_count_split(c1, CS_CORPUS_VAL), 20);      /* 10 per label */
    for (i = 0; i < 200; i++) {
        assert_int_equal(cs_corpus_get(c1, i, &d1), CS_OK);
        assert_int_equal(cs_corpus_get(c2, i, &d2), CS_OK);
        assert_int_equal(d1.split, d2.split);
        val_a += d1.split == CS_CORPUS_VAL && strcmp(d1.label, "a") == 0;
        vb += d1.split == CS_CORPUS_VAL ? d1.len : 0;
    }
    assert_int_equal(val_a, 10);
    assert_int_equal(val_bytes(a), vb);
    cs_corpus_close(c2);

    build_simple(pathb(b, dir, "seeded"), 200, 0.1, 8, false); /* another seed, another split */
    assert_int_equal(cs_corpus_open(b, &c2), CS_OK);
    for (i = 0; i < 200; i++) {
        assert_int_equal(cs_corpus_get(c1, i, &d1), CS_OK);
        assert_int_equal(cs_corpus_get(c2, i, &d2), CS_OK);
        same += d1.split == CS_CORPUS_VAL && d2.split == CS_CORPUS_VAL;
    }
    assert_true(same < 20);
    cs_corpus_close(c2);
    cs_corpus_close(c1);

    build_simple(pathb(b, dir, "two-docs"), 2, 0.01, 0, false); /* at least one val of two */
    assert_int_equal(cs_corpus_open(b, &c2), CS_OK);
    assert_int_equal(cs_corpus_count_split(c2, CS_CORPUS_VAL), 1);
    cs_corpus_close(c2);
    build_simple(pathb(b, dir, "one-doc"), 1, 0.5, 0, false); /* never all of them */
    assert_int_equal(cs_corpus_open(b, &c2), CS_OK);
    assert_int_equal(cs_corpus_count_split(c2, CS_CORPUS_VAL), 0);
    cs_corpus_close(c2);
    free(dir);
}

/* A document's split depends on its label and title, not on the order documents came in. */
static void test_split_by_document(void **state)
{
    char *dir = tu_tmpdir();
    char out[2][4096];
    cs_corpus *c[2];
    size_t r;
    size_t i;
    size_t j;

    (void)state;
    for (r = 0; r < 2; r++) {
        cs_corpus_writer *w;
        cs_corpus_params p = cs_corpus_default_params();

        assert_int_equal(cs_corpus_writer_open(pathb(out[r], dir, r ? "rev" : "fwd"), false, &w),
                         CS_OK);
        add_test_source(w, "x");
        for (i = 0; i < 40; i++) {
            char t[16];
            size_t k = r ? 39 - i : i;

            snprintf(t, sizeof t, "title %zu", k);
            assert_int_equal(cs_corpus_writer_add(w, 0, NULL, t, t, strlen(t), NULL), CS_OK);
        }
        p.val_frac = 0.25;
        assert_int_equal(cs_corpus_writer_commit(w, &p), CS_OK);
        assert_int_equal(cs_corpus_open(out[r], &c[r]), CS_OK);
    }
    for (i = 0; i < 40; i++) {
        cs_corpus_doc a;
        cs_corpus_doc b;

        assert_int_equal(cs_corpus_get(c[0], i, &a), CS_OK);
        for (j = 0; j < 40; j++) {
            assert_int_equal(cs_corpus_get(c[1], j, &b), CS_OK);
            if (strcmp(a.title, b.title) == 0)
                break;
        }
        assert_true(j < 40);
        assert_int_equal(a.split, b.split);
        assert_memory_equal(a.bytes, b.bytes, a.len); /* the whole document on one side */
    }
    assert_int_equal(cs_corpus_count_split(c[0], CS_CORPUS_VAL), 10);
    cs_corpus_close(c[0]);
    cs_corpus_close(c[1]);
    free(dir);
}

static void test_existing_and_force(void **state)
{
    char *dir = tu_tmpdir();
    char out[4096];
    char other[4096];
    char f[4096];
    cs_corpus_writer *w = NULL;
    cs_corpus *c;

    (void)state;
    build_simple(pathb(out, dir, "c"), 3, 0.05, 0, false);
    assert_int_equal(cs_corpus_writer_open(out, false, &w), CS_EINPUT);
    tu_assert_errmsg_has("exists; use --force");
    assert_null(w);
    build_simple(out, 5, 0.05, 0, true); /* forced: replaced */
    assert_int_equal(cs_corpus_open(out, &c), CS_OK);
    assert_int_equal(cs_corpus_count(c), 5);
    cs_corpus_close(c);
    assert_int_equal(count_entries(dir, ".old."), 0);
    assert_int_equal(count_entries(dir, ".tmp."), 0);

    assert_int_equal(mkdir(pathb(other, dir, "mine"), 0755), 0); /* not a corpus: never replaced */
    write_str(pathb(f, other, "notes.txt"), "keep");
    assert_int_equal(cs_corpus_writer_open(other, true, &w), CS_EINPUT);
    tu_assert_errmsg_has("not a corpus directory");
    assert_true(exists(f));
    write_str(pathb(f, dir, "file"), "x");
    assert_int_equal(cs_corpus_writer_open(f, true, &w), CS_EINPUT);
    assert_int_equal(cs_corpus_writer_open(pathb(f, dir, "no/such/parent"), false, &w), CS_EINPUT);
    tu_assert_errmsg_has("cannot create a directory beside it");
    free(dir);
}

/* Abort and failed commits leave nothing behind and keep an old corpus. */
static void test_nothing_left_behind(void **state)
{
    char *dir = tu_tmpdir();
    char out[4096];
    cs_corpus_writer *w;
    cs_corpus_params p = cs_corpus_default_params();
    cs_corpus *c;

    (void)state;
    pathb(out, dir, "c");
    assert_int_equal(cs_corpus_writer_open(out, false, &w), CS_OK);
    add_test_source(w, "x");
    assert_int_equal(cs_corpus_writer_add(w, 0, NULL, "t", "abc", 3, NULL), CS_OK);
    assert_int_equal(count_entries(dir, ".tmp."), 1);
    cs_corpus_writer_abort(w);
    assert_int_equal(count_entries(dir, ""), 2); /* . and .. */

    assert_int_equal(cs_corpus_writer_open(out, false, &w), CS_OK); /* empty corpus */
    add_test_source(w, "x");
    assert_int_equal(cs_corpus_writer_add(w, 0, NULL, "t", "", 0, NULL), CS_OK);
    assert_int_equal(cs_corpus_writer_commit(w, &p), CS_EINPUT);
    tu_assert_errmsg_has("no documents");
    assert_int_equal(count_entries(dir, ""), 2);

    build_simple(out, 4, 0.05, 0, false);
    assert_int_equal(cs_corpus_writer_open(out, true, &w), CS_OK);
    add_test_source(w, "x");
    assert_int_equal(cs_corpus_writer_add(w, 0, NULL, "t", "abc", 3, NULL), CS_OK);
    p.val_frac = 1.5;
    assert_int_equal(cs_corpus_writer_commit(w, &p), CS_EINPUT);
    assert_int_equal(cs_corpus_open(out, &c), CS_OK); /* the old one is intact */
    assert_int_equal(cs_corpus_count(c), 4);
    cs_corpus_close(c);
    assert_int_equal(count_entries(dir, ""), 3);
    free(dir);
}

/* The reader refuses damaged corpora with a message naming the file. */
static void test_reader_checks(void **state)
{
    char *dir = tu_tmpdir();
    char out[4096];
    char f[4096];
    cs_corpus *c = NULL;
    FILE *fp;

    (void)state;
    build_simple(pathb(out, dir, "c"), 6, 0.05, 0, false);
    assert_int_equal(cs_corpus_open(dir, &c), CS_EINPUT); /* no manifest: not a corpus */
    tu_assert_errmsg_has("manifest.json");

    assert_int_equal(truncate(pathb(f, out, "documents.bin"), 10), 0);
    assert_int_equal(cs_corpus_open(out, &c), CS_EINPUT);
    tu_assert_errmsg_has("truncated or not this corpus's");

    build_simple(out, 6, 0.05, 0, true); /* flip one byte of a document */
    fp = fopen(pathb(f, out, "documents.bin"), "r+b");
    assert_non_null(fp);
    fputc('X', fp);
    fclose(fp);
    assert_int_equal(cs_corpus_open(out, &c), CS_OK);
    assert_int_equal(cs_corpus_verify(c), CS_EINPUT);
    tu_assert_errmsg_has("document 0 (\"t0\"): SHA-256 differs");
    cs_corpus_close(c);

    fp = fopen(pathb(f, out, "index.tsv"), "ab"); /* an index that is not the manifest's */
    assert_non_null(fp);
    fputs("6\ttrain\ta\t0\t41\t1\t1\t0000\tx\n", fp);
    fclose(fp);
    assert_int_equal(cs_corpus_open(out, &c), CS_EINPUT);
    tu_assert_errmsg_has("differs from the manifest's checksum");
    free(dir);
}

// ---- sources -------------------------------------------------------------------------------

static void test_gutenberg(void **state)
{
    static const char modern[] =
        "\xEF\xBB\xBFThe Project Gutenberg EBook of X\r\n\r\nLicense blah\r\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK X ***\r\n\r\n\r\n"
        "Produced by Some Volunteer\r\nand Another\r\n\r\n\r\nCHAPTER 1\r\nText.\r\n\r\n"
        "End of the Project Gutenberg EBook of X\r\n\r\n*** END OF THIS PROJECT GUTENBERG "
        "EBOOK X ***\r\nmore license\r\n";
    static const char the[] = "head\n  *** Start of the Project Gutenberg eBook Y ***\nBody\n"
                              "line two\n*** END OF THE PROJECT GUTENBERG EBOOK Y ***\ntail\n";
    static const char old[] =
        "legal\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*"
        "\n\nOld body\nEnd of Project Gutenberg's Z\n";
    static const char none[] = "\n\n  Just text\nmore\n\n\n";
    size_t b;
    size_t e;

    (void)state;
    assert_true(cs_sources_strip_gutenberg((const uint8_t *)modern, strlen(modern), &b, &e));
    assert_int_equal(e - b, strlen("CHAPTER 1\r\nText."));
    assert_memory_equal(modern + b, "CHAPTER 1\r\nText.", e - b);
    assert_true(cs_sources_strip_gutenberg((const uint8_t *)the, strlen(the), &b, &e));
    assert_memory_equal(the + b, "Body\nline two", e - b);
    assert_int_equal(e - b, 13);
    assert_true(cs_sources_strip_gutenberg((const uint8_t *)old, strlen(old), &b, &e));
    assert_memory_equal(old + b, "Old body", e - b);
    assert_int_equal(e - b, 8);
    assert_false(cs_sources_strip_gutenberg((const uint8_t *)none, strlen(none), &b, &e));
    assert_memory_equal(none + b, "  Just text\nmore", e - b);
    assert_int_equal(e - b, 16);
    assert_false(cs_sources_strip_gutenberg((const uint8_t *)"", 0, &b, &e));
    assert_int_equal(e - b, 0);
}

/* dir: every file, sorted, nested, dot-files skipped, bytes exact; the reader gives them back. */
static void test_dir_source(void **state)
{
    static const char bad[] = {'o', 'k', '\xff', '\xc0', '\x80', '\0', 'x'};
    char *dir = tu_tmpdir();
    char in[4096];
    char out[4096];
    char f[4096];
    char spec[4200];
    cs_corpus_writer *w;
    cs_corpus *c;
    cs_corpus_doc d;
    cs_corpus_params p = cs_corpus_default_params();

    (void)state;
    assert_int_equal(mkdir(pathb(in, dir, "texts"), 0755), 0);
    assert_int_equal(mkdir(pathb(f, in, "sub"), 0755), 0);
    write_str(pathb(f, in, "b.txt"), "bee\n");
    tu_write_file(pathb(f, in, "a.txt"), bad, sizeof bad);
    write_str(pathb(f, in, "sub/c.txt"), "sea");
    write_str(pathb(f, in, ".hidden"), "no");
    write_str(pathb(f, in, "empty"), "");
    assert_int_equal(cs_corpus_writer_open(pathb(out, dir, "c"), false, &w), CS_OK);
    snprintf(spec, sizeof spec, "dir:%s", in);
    assert_int_equal(cs_sources_add(w, spec, NULL), CS_OK);
    assert_int_equal(cs_corpus_writer_commit(w, &p), CS_OK);
    assert_int_equal(cs_corpus_open(out, &c), CS_OK);
    assert_int_equal(cs_corpus_count(c), 3);
    assert_int_equal(cs_corpus_get(c, 0, &d), CS_OK);
    assert_string_equal(d.title, "a.txt");
    assert_string_equal(d.label, "texts");
    assert_int_equal(d.len, sizeof bad);
    assert_memory_equal(d.bytes, bad, sizeof bad);
    assert_false(d.utf8);
    assert_int_equal(cs_corpus_get(c, 1, &d), CS_OK);
    assert_string_equal(d.title, "b.txt");
    assert_int_equal(cs_corpus_get(c, 2, &d), CS_OK);
    assert_string_equal(d.title, "sub/c.txt");
    assert_memory_equal(d.bytes, "sea", 3);
    cs_corpus_close(c);
    free(dir);
}

/* Runs one spec into a fresh writer that is then aborted; returns the status. */
static int try_spec(const char *dir, const char *spec, const cs_sources_params *p)
{
    char out[4096];
    cs_corpus_writer *w;
    int st;

    assert_int_equal(cs_corpus_writer_open(pathb(out, dir, "try"), false, &w), CS_OK);
    st = cs_sources_add(w, spec, p);
    cs_corpus_writer_abort(w);
    assert_false(exists(out));
    return st;
}

static void test_bad_sources(void **state)
{
    char *dir = tu_tmpdir();
    char d[4096];
    char f[4096];
    char spec[4200];

    (void)state;
    assert_int_equal(mkdir(pathb(d, dir, "empty"), 0755), 0);
    snprintf(spec, sizeof spec, "dir:%s", d);
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("no documents");
    write_str(pathb(f, d, "zero"), ""); /* only empty files: still no documents */
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    snprintf(spec, sizeof spec, "dir:%s/missing", dir);
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    assert_int_equal(try_spec(dir, "no-such-corpus", NULL), CS_EINPUT);
    tu_assert_errmsg_has("not a corpus name (pd-books, debian-docs)");
    assert_int_equal(try_spec(dir, "dir:", NULL), CS_EINPUT);
    tu_assert_errmsg_has("expected a path");

    write_str(pathb(f, d, "a.txt"), "fine"); /* a dangling link fails the source */
    assert_int_equal(symlink("nowhere", pathb(f, d, "b-link")), 0);
    snprintf(spec, sizeof spec, "dir:%s", d);
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("b-link: a link to nothing readable");
    free(dir);
}

static void test_jsonl_source(void **state)
{
    static const char good[] =
        "{\"text\": \"first\", \"title\": \"One\", \"src\": \"web\"}\n"
        "\n"
        "{\"text\": \"caf\\u00e9 \\u0000 nul\", \"id\": 17, \"src\": \"book\"}\n"
        "{\"text\": \"\", \"src\": \"web\"}\n"
        "{\"text\": \"third\", \"src\": \"web\"}\n";
    char *dir = tu_tmpdir();
    char out[4096];
    char f[4096];
    char spec[4200];
    cs_corpus_writer *w;
    cs_corpus *c;
    cs_corpus_doc d;
    cs_corpus_params p = cs_corpus_default_params();
    cs_sources_params sp = cs_sources_default_params();

    (void)state;
    tu_write_file(pathb(f, dir, "mix.jsonl"), good, strlen(good));
    snprintf(spec, sizeof spec, "jsonl:%s", f);
    sp.label_field = "src";
    assert_int_equal(cs_corpus_writer_open(pathb(out, dir, "c"), false, &w), CS_OK);
    assert_int_equal(cs_sources_add(w, spec, &sp), CS_OK);
    assert_int_equal(cs_corpus_writer_commit(w, &p), CS_OK);
    assert_int_equal(cs_corpus_open(out, &c), CS_OK);
    assert_int_equal(cs_corpus_count(c), 3);
    assert_int_equal(cs_corpus_get(c, 0, &d), CS_OK);
    assert_string_equal(d.title, "One");
    assert_string_equal(d.label, "web");
    assert_int_equal(cs_corpus_get(c, 1, &d), CS_OK);
    assert_string_equal(d.title, "17");
    assert_string_equal(d.label, "book");
    assert_int_equal(d.len, 11);
    assert_memory_equal(d.bytes, "caf\xC3\xA9 \0 nul", 11);
    assert_int_equal(cs_corpus_get(c, 2, &d), CS_OK);
    assert_string_equal(d.title, "mix.jsonl:5");
    cs_corpus_close(c);

    write_str(f, "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"text\": 3}\n");
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("mix.jsonl:3: field \"text\": expected a string, got a number");
    write_str(f, "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n");
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("mix.jsonl:2: no \"text\" field");
    write_str(f, "{\"text\": \"ok\"}\n[1]\n");
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("mix.jsonl:2: expected a JSON object, got an array");
    write_str(f, "{\"text\": \"ok\"}\n{\"text\": \"unterminated}\n");
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("mix.jsonl:2: invalid JSON");
    write_str(f, "{\"text\": \"\\xff\"}\n"); /* not a JSON escape */
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("mix.jsonl:1: invalid JSON");
    write_str(f, "{\"text\": \"ok\"}\n{\"text\": \"bad \xff byte\"}\n"); /* JSON must be UTF-8 */
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("mix.jsonl:2: invalid JSON");
    free(dir);
}

static void test_list_source(void **state)
{
    char *dir = tu_tmpdir();
    char out[4096];
    char f[4096];
    char spec[4200];
    cs_corpus_writer *w;
    cs_corpus *c;
    cs_corpus_doc d;
    cs_corpus_params p = cs_corpus_default_params();
    cs_sources_params sp = cs_sources_default_params();

    (void)state;
    write_str(pathb(f, dir, "x.txt"), "ex");
    write_str(pathb(f, dir, "y.txt"), "why");
    write_str(pathb(f, dir, "list.txt"), "# a comment\ny.txt\r\n\nx.txt\n");
    snprintf(spec, sizeof spec, "files:%s", f);
    sp.label = "mine";
    assert_int_equal(cs_corpus_writer_open(pathb(out, dir, "c"), false, &w), CS_OK);
    assert_int_equal(cs_sources_add(w, spec, &sp), CS_OK);
    assert_int_equal(cs_corpus_writer_commit(w, &p), CS_OK);
    assert_int_equal(cs_corpus_open(out, &c), CS_OK);
    assert_int_equal(cs_corpus_count(c), 2);
    assert_int_equal(cs_corpus_get(c, 0, &d), CS_OK);
    assert_string_equal(d.title, "y.txt");
    assert_string_equal(d.label, "mine");
    assert_memory_equal(d.bytes, "why", 3);
    cs_corpus_close(c);

    write_str(pathb(f, dir, "list.txt"), "x.txt\nmissing.txt\n");
    assert_int_equal(try_spec(dir, spec, NULL), CS_EINPUT);
    tu_assert_errmsg_has("list.txt:2: missing.txt");
    sp.label = "bad label";
    assert_int_equal(try_spec(dir, spec, &sp), CS_EINPUT);
    tu_assert_errmsg_has("label \"bad label\"");
    free(dir);
}

static void test_packages(void **state)
{
    const char *const *p = cs_sources_packages("pd-books");

    (void)state;
    assert_non_null(p);
    assert_string_equal(p[0], "bible-kjv");
    assert_non_null(cs_sources_packages("debian-docs"));
    assert_null(cs_sources_packages("dir:x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_utf8_and_labels),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_by_document),
        cmocka_unit_test(test_existing_and_force),
        cmocka_unit_test(test_nothing_left_behind),
        cmocka_unit_test(test_reader_checks),
        cmocka_unit_test(test_gutenberg),
        cmocka_unit_test(test_dir_source),
        cmocka_unit_test(test_bad_sources),
        cmocka_unit_test(test_jsonl_source),
        cmocka_unit_test(test_list_source),
        cmocka_unit_test(test_packages),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
