/* tests/unit/test_config.c: the config reader (core/config.c): sections, comments, line numbers,
 * typed and list getters with their messages, duplicate and unknown keys, every kind of bad input
 * (syntax, bytes, long lines), files, overrides, iteration and write-back. It also parses every
 * ```ini block of docs/config.md and checks that every ```c block there is an excerpt of this
 * file. Run by `make test`. */
#include "tests/testutil.h"

#include "core/config.h"
#include "core/parse.h"

#include <math.h>

/* Reads `text` as "run.ini"; fails the test with the message when that fails. */
static cs_config *must_read(const char *text)
{
    cs_config *cfg = NULL;

    if (cs_config_read_string(text, "run.ini", &cfg) != CS_OK)
        fail_msg("reading failed: %s", cs_errmsg());
    assert_non_null(cfg);
    return cfg;
}

/* Reads n bytes, which must fail with CS_EINPUT and a message containing `msg`. */
static void bad_mem(const char *data, size_t n, const char *msg)
{
    static char not_null;
    cs_config *cfg = (cs_config *)&not_null; /* the reader must reset it to NULL */

    assert_int_equal(cs_config_read_mem(data, n, "run.ini", &cfg), CS_EINPUT);
    assert_null(cfg);
    tu_assert_errmsg_has(msg);
}

static void bad(const char *text, const char *msg)
{
    bad_mem(text, strlen(text), msg);
}

static void test_sections_comments_lines(void **state)
{
    cs_config *cfg = must_read("# a comment\n"
                               "seed = 7\n"
                               "; another comment\n"
                               "\n"
                               "[model]\n"
                               "  layers=4   # inline comment\n"
                               "\td_model : 256 ; inline comment too\n"
                               "name = a;b#c\n"
                               "[ data ]\n"
                               "empty =\n"
                               "[model]\n"
                               "heads = 8\n");
    const cs_config_entry *e;

    (void)state;
    assert_string_equal(cs_config_name(cfg), "run.ini");
    assert_int_equal(cs_config_entry_count(cfg), 6);
    e = cs_config_entry_at(cfg, 0);
    assert_string_equal(e->section, "");
    assert_string_equal(e->key, "seed");
    assert_string_equal(e->value, "7");
    assert_int_equal(e->line, 2);
    e = cs_config_entry_at(cfg, 1);
    assert_string_equal(e->section, "model");
    assert_string_equal(e->value, "4");
    assert_int_equal(e->line, 6);
    e = cs_config_entry_at(cfg, 2);
    assert_string_equal(e->key, "d_model");
    assert_string_equal(e->value, "256");
    assert_int_equal(e->line, 7);
    assert_string_equal(cs_config_entry_at(cfg, 3)->value, "a;b#c"); /* no blank before: text */
    e = cs_config_entry_at(cfg, 4);
    assert_string_equal(e->section, "data"); /* blanks inside [ ] are dropped */
    assert_string_equal(e->value, "");
    assert_int_equal(cs_config_entry_at(cfg, 5)->line, 12);
    assert_int_equal(cs_config_section_count(cfg), 3);
    assert_string_equal(cs_config_section_at(cfg, 0), "");
    assert_string_equal(cs_config_section_at(cfg, 1), "model");
    assert_string_equal(cs_config_section_at(cfg, 2), "data");
    assert_true(cs_config_has_key(cfg, "model", "heads"));
    assert_true(cs_config_has_key(cfg, "", "seed"));
    assert_false(cs_config_has_key(cfg, "model", "seed"));
    assert_false(cs_config_has_key(cfg, "Model", "heads")); /* case-sensitive */
    cs_config_free(cfg);
}

static void test_empty_and_blank(void **state)
{
    const char *inputs[] = {"", "\n\n", "# only a comment", "\xEF\xBB\xBF", "  \t\n; x\r\n"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        cs_config *cfg = must_read(inputs[i]);

        assert_int_equal(cs_config_entry_count(cfg), 0);
        assert_int_equal(cs_config_section_count(cfg), 0);
        assert_int_equal(cs_config_check_unused(cfg), CS_OK);
        cs_config_free(cfg);
    }
}

static void test_scalar_getters(void **state)
{
    cs_config *cfg = must_read("[model]\nlayers = 12\nbig = 99999999999999999999\n"
                               "[train]\nlr = 3e-4\ntokens = 20e6\nneg = -1\neval = Yes\n"
                               "frac = 2.5\n");
    long l = -1;
    double d = -1;
    int64_t c = -1;
    bool b = false;

    (void)state;
    assert_int_equal(cs_config_get_long(cfg, "model", "layers", 4, 1, 100, &l), CS_OK);
    assert_int_equal(l, 12);
    assert_int_equal(cs_config_get_long(cfg, "model", "heads", 4, 1, 100, &l), CS_OK);
    assert_int_equal(l, 4); /* missing: the default */
    assert_int_equal(cs_config_get_long(cfg, "model", "layers", 4, 1, 10, &l), CS_EINPUT);
    assert_string_equal(cs_errmsg(),
                        "run.ini:2: [model] layers: expected an integer in [1, 10], got \"12\"");
    assert_int_equal(l, 4); /* unchanged on error */
    assert_int_equal(cs_config_get_long(cfg, "model", "big", 0, 0, 10, &l), CS_EINPUT);
    tu_assert_errmsg_has("run.ini:3: [model] big: integer");
    assert_int_equal(cs_config_get_long(cfg, "train", "lr", 0, 0, 10, &l), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:5: [train] lr: expected an integer, got \"3e-4\"");

    assert_int_equal(cs_config_get_double(cfg, "train", "lr", 1, CS_PARSE_POSITIVE, &d), CS_OK);
    assert_true(d == 3e-4);
    assert_int_equal(cs_config_get_double(cfg, "train", "wd", 0.1, 0, &d), CS_OK);
    assert_true(d == 0.1);
    assert_int_equal(cs_config_get_double(cfg, "train", "neg", 1, CS_PARSE_POSITIVE, &d),
                     CS_EINPUT);
    assert_string_equal(cs_errmsg(),
                        "run.ini:7: [train] neg: expected a positive number, got \"-1\"");

    assert_int_equal(cs_config_get_count(cfg, "train", "tokens", 0, &c), CS_OK);
    assert_int_equal(c, 20000000);
    assert_int_equal(cs_config_get_count(cfg, "train", "steps", 5, &c), CS_OK);
    assert_int_equal(c, 5);
    assert_int_equal(cs_config_get_count(cfg, "train", "frac", 0, &c), CS_EINPUT);
    assert_string_equal(cs_errmsg(),
                        "run.ini:9: [train] frac: expected a whole number, got \"2.5\"");

    assert_int_equal(cs_config_get_bool(cfg, "train", "eval", false, &b), CS_OK);
    assert_true(b);
    assert_int_equal(cs_config_get_bool(cfg, "train", "ema", true, &b), CS_OK);
    assert_true(b);
    assert_int_equal(cs_config_get_bool(cfg, "train", "lr", true, &b), CS_EINPUT);
    tu_assert_errmsg_has("run.ini:5: [train] lr: expected true/false");

    assert_string_equal(cs_config_get_str(cfg, "train", "lr", "x"), "3e-4");
    assert_string_equal(cs_config_get_str(cfg, "train", "schedule", "cosine"), "cosine");
    assert_null(cs_config_get_str(cfg, "train", "schedule", NULL));
    cs_config_free(cfg);
}

/* Keys before any section are reported without a section. */
static void test_top_level_messages(void **state)
{
    cs_config *cfg = must_read("seed = x\nstray = 1\n");
    long v;

    (void)state;
    assert_int_equal(cs_config_get_long(cfg, "", "seed", 0, 0, 10, &v), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:1: seed: expected an integer, got \"x\"");
    assert_int_equal(cs_config_check_unused(cfg), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:2: unknown key \"stray\" before any [section]");
    cs_config_free(cfg);
}

static void test_lists(void **state)
{
    static const double lr_def[] = {1e-3, 3e-4};
    static const int64_t ctx_def[] = {512};
    static const char *const names_def[] = {"a", "bc"};
    cs_config *cfg = must_read("[data]\ncontext = 64, 128 ,256,\t1e3\none = 5\n"
                               "names = wiki , books,code\nlrs = 1e-3, -2\n"
                               "hole = 1,,2\ntrail = 1, 2,\nempty =\nfrac = 1, 2.5\n");
    double *d = NULL;
    int64_t *c = NULL;
    char **s = NULL;
    size_t n = 99;

    (void)state;
    assert_int_equal(cs_config_get_counts(cfg, "data", "context", NULL, 0, &c, &n), CS_OK);
    assert_int_equal(n, 4);
    assert_int_equal(c[0], 64);
    assert_int_equal(c[1], 128);
    assert_int_equal(c[2], 256);
    assert_int_equal(c[3], 1000);
    free(c);
    assert_int_equal(cs_config_get_counts(cfg, "data", "one", NULL, 0, &c, &n), CS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(c[0], 5);
    free(c);
    assert_int_equal(cs_config_get_counts(cfg, "data", "missing", ctx_def, 1, &c, &n), CS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(c[0], 512);
    free(c);
    assert_int_equal(cs_config_get_counts(cfg, "data", "missing", NULL, 0, &c, &n), CS_OK);
    assert_int_equal(n, 0);
    assert_null(c);

    assert_int_equal(cs_config_get_doubles(cfg, "data", "lrs", NULL, 0, 0, &d, &n), CS_OK);
    assert_int_equal(n, 2);
    assert_true(d[0] == 1e-3 && d[1] == -2);
    free(d);
    assert_int_equal(cs_config_get_doubles(cfg, "data", "lrs", NULL, 0, CS_PARSE_POSITIVE, &d, &n),
                     CS_EINPUT);
    assert_null(d);
    assert_int_equal(n, 0);
    assert_string_equal(cs_errmsg(),
                        "run.ini:5: [data] lrs item 2: expected a positive number, got \"-2\"");
    assert_int_equal(cs_config_get_doubles(cfg, "data", "none", lr_def, 2, 0, &d, &n), CS_OK);
    assert_int_equal(n, 2);
    assert_true(d[0] == 1e-3 && d[1] == 3e-4);
    free(d);

    assert_int_equal(cs_config_get_strs(cfg, "data", "names", NULL, 0, &s, &n), CS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(s[0], "wiki");
    assert_string_equal(s[1], "books");
    assert_string_equal(s[2], "code");
    free(s);
    assert_int_equal(cs_config_get_strs(cfg, "data", "none", names_def, 2, &s, &n), CS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(s[0], "a");
    assert_string_equal(s[1], "bc");
    free(s);

    assert_int_equal(cs_config_get_counts(cfg, "data", "hole", NULL, 0, &c, &n), CS_EINPUT);
    assert_null(c);
    assert_string_equal(cs_errmsg(), "run.ini:6: [data] hole: item 2 of \"1,,2\" is empty; "
                                     "expected a comma-separated list");
    assert_int_equal(cs_config_get_strs(cfg, "data", "trail", NULL, 0, &s, &n), CS_EINPUT);
    assert_null(s);
    tu_assert_errmsg_has("item 3 of \"1, 2,\" is empty");
    assert_int_equal(cs_config_get_doubles(cfg, "data", "empty", NULL, 0, 0, &d, &n), CS_EINPUT);
    tu_assert_errmsg_has("run.ini:8: [data] empty: expected a comma-separated list, got an empty");
    assert_int_equal(cs_config_get_counts(cfg, "data", "frac", NULL, 0, &c, &n), CS_EINPUT);
    assert_string_equal(cs_errmsg(),
                        "run.ini:9: [data] frac item 2: expected a whole number, got \"2.5\"");
    cs_config_free(cfg);
}

static void test_duplicate_key(void **state)
{
    (void)state;
    bad("[train]\nlr = 1\n\n[model]\nlr = 2\n[train]\nlr = 3\n",
        "run.ini:7: [train] lr: duplicate key, first set on line 2");
    bad("a = 1\na = 1\n", "run.ini:2: a: duplicate key, first set on line 1");
}

static void test_unused_keys(void **state)
{
    cs_config *cfg = must_read("[train]\nlr = 1e-3\nlerning_rate = 3e-4\n[eval]\nevery = 10\n");
    double lr;

    (void)state;
    assert_int_equal(cs_config_check_unused(cfg), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:2: unknown key \"lr\" in [train]");
    assert_true(cs_config_has_key(cfg, "train", "lr")); /* a predicate does not mark */
    assert_int_equal(cs_config_check_unused(cfg), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:2: unknown key \"lr\" in [train]");
    assert_int_equal(cs_config_get_double(cfg, "train", "lr", 0, 0, &lr), CS_OK);
    assert_int_equal(cs_config_check_unused(cfg), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:3: unknown key \"lerning_rate\" in [train]");
    cs_config_mark_used(cfg, "eval", NULL);
    cs_config_mark_used(cfg, "nothing", NULL);
    cs_config_mark_used(cfg, "train", "nothing");
    assert_int_equal(cs_config_check_unused(cfg), CS_EINPUT);
    tu_assert_errmsg_has("lerning_rate");
    cs_config_mark_used(cfg, "train", "lerning_rate");
    assert_int_equal(cs_config_check_unused(cfg), CS_OK);
    cs_config_free(cfg);
}

static void test_syntax_errors(void **state)
{
    char name60[128];

    (void)state;
    bad("[model]\nlayers = 4\njust some words\n",
        "run.ini:3: expected \"key = value\", a [section] header or a comment, got \"just some "
        "words\"");
    bad("a = 1\n[model\nb = 2\n", "run.ini:2: expected ']' to close the section header");
    bad("[mod el]\n", "run.ini:1: section name: expected letters, digits, '_' or '-', got");
    bad("[]\na = 1\n", "run.ini:1: section name");
    bad("[  ]\n", "run.ini:1: section name");
    bad("[a.b]\n", "run.ini:1: section name");
    bad("[a ; comment]\n", "run.ini:1: section name");
    snprintf(name60, sizeof name60, "[%060d]\nk = 1\n", 0);
    bad(name60, "run.ini:1: section name longer than 49 bytes");
    bad("[model]\nlay ers = 4\n",
        "run.ini:2: key: expected letters, digits, '_', '-' or '.', got \"lay ers\"");
    bad("= 4\n", "run.ini:1: key: expected");
    bad("x = 1\n\n\n  \xEF\xBB\xBFy = 2\n", "run.ini:4: byte-order mark at column 3");
    /* A section header with trailing text after ']' is fine (inih ignores it). */
    cs_config_free(must_read("[model] trailing\nk = 1\n"));
}

/* Indented lines are keys of their own: multi-line values are off. */
static void test_indented_keys(void **state)
{
    cs_config *cfg = must_read("[model]\n    layers = 4\n    d_model = 256\n");

    (void)state;
    assert_string_equal(cs_config_get_str(cfg, "model", "layers", NULL), "4");
    assert_string_equal(cs_config_get_str(cfg, "model", "d_model", NULL), "256");
    cs_config_free(cfg);
    bad("[model]\nlayers = 4\n    more words\n", "run.ini:3: expected \"key = value\"");
}

static void test_bytes(void **state)
{
    cs_config *cfg;

    (void)state;
    bad_mem("a = 1\nb = x\0y\n", 12, "run.ini:2: NUL byte at column 6; expected text");
    bad_mem("\0", 1, "run.ini:1: NUL byte");
    bad("a = 1\nb = \x01\n", "run.ini:2: control character 0x01 at column 5");
    bad("a = \x7f\n", "control character 0x7f");
    bad("a = 1\rb = 2\n", "run.ini:1: control character 0x0d at column 6"); /* a lone CR */
    bad("a = \xff\n", "run.ini:1: invalid UTF-8 at column 5");
    bad("a = \xC3\n", "invalid UTF-8");             /* truncated sequence */
    bad("a = \xC0\xAF\n", "invalid UTF-8");         /* overlong '/' */
    bad("a = \xED\xA0\x80\n", "invalid UTF-8");     /* a surrogate */
    bad("a = \xF4\x90\x80\x80\n", "invalid UTF-8"); /* above U+10FFFF */
    cfg = must_read("\xEF\xBB\xBF[model]\r\nname = caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\r\n");
    assert_string_equal(cs_config_get_str(cfg, "model", "name", NULL),
                        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    assert_int_equal(cs_config_entry_at(cfg, 0)->line, 2);
    cs_config_free(cfg);
}

static void test_long_lines(void **state)
{
    size_t n = CS_CONFIG_LINE_MAX + 64;
    char *text = malloc(n);
    cs_config *cfg;

    (void)state;
    assert_non_null(text);
    /* "v = " and a value filling the line to exactly CS_CONFIG_LINE_MAX bytes, CRLF ending. */
    memcpy(text, "v = ", 4);
    memset(text + 4, 'x', CS_CONFIG_LINE_MAX - 4);
    memcpy(text + CS_CONFIG_LINE_MAX, "\r\nw = 1\n", 9);
    cfg = must_read(text);
    assert_int_equal(strlen(cs_config_get_str(cfg, "", "v", NULL)), CS_CONFIG_LINE_MAX - 4);
    assert_int_equal(cs_config_entry_at(cfg, 1)->line, 2);
    cs_config_free(cfg);
    memcpy(text + CS_CONFIG_LINE_MAX, "x\nw = 1\n", 9);
    bad(text, "run.ini:1: line longer than 16384 bytes");
    free(text);
}

static void test_files(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    cs_config *cfg = NULL;

    (void)state;
    snprintf(path, sizeof path, "%s", tu_path(dir, "run.ini"));
    tu_write_file(path, "[model]\nlayers = x\n", 19);
    assert_int_equal(cs_config_read_file(path, &cfg), CS_OK);
    assert_int_equal(cs_config_get_long(cfg, "model", "layers", 1, 1, 9, &(long){0}), CS_EINPUT);
    tu_assert_errmsg_has("/run.ini:2: [model] layers: expected an integer, got \"x\"");
    cs_config_free(cfg);
    tu_write_file(path, "[model\n", 7);
    assert_int_equal(cs_config_read_file(path, &cfg), CS_EINPUT);
    assert_null(cfg);
    tu_assert_errmsg_has("/run.ini:1: expected ']'");
    assert_int_equal(cs_config_read_file(tu_path(dir, "absent.ini"), &cfg), CS_EINPUT);
    tu_assert_errmsg_has("absent.ini: cannot open: No such file or directory");
    assert_int_equal(cs_config_read_file(dir, &cfg), CS_EINPUT); /* a directory */
    tu_assert_errmsg_has("cannot read");
    assert_null(cfg);
    remove(path);
    rmdir(dir);
    free(dir);
}

static void test_overrides(void **state)
{
    cs_config *cfg = must_read("seed = 1\n[train]\nlr = 3e-4\n");
    double lr = 0;
    long seed = 0;

    (void)state;
    assert_int_equal(cs_config_get_double(cfg, "train", "lr", 0, 0, &lr), CS_OK);
    assert_int_equal(cs_config_set_arg(cfg, "train.lr= 1e-3 "), CS_OK);
    assert_int_equal(cs_config_check_unused(cfg), CS_EINPUT); /* set again: unused again */
    assert_string_equal(cs_errmsg(), "run.ini:1: unknown key \"seed\" before any [section]");
    assert_int_equal(cs_config_set_arg(cfg, "seed=5"), CS_OK);
    assert_int_equal(cs_config_set_arg(cfg, "eval.every_tokens=2e6"), CS_OK);
    assert_int_equal(cs_config_get_double(cfg, "train", "lr", 0, 0, &lr), CS_OK);
    assert_true(lr == 1e-3);
    assert_int_equal(cs_config_get_long(cfg, "", "seed", 0, 0, 100, &seed), CS_OK);
    assert_int_equal(seed, 5);
    assert_int_equal(cs_config_entry_at(cfg, 1)->line, 0);
    assert_int_equal(cs_config_entry_count(cfg), 3);
    assert_string_equal(cs_config_section_at(cfg, 2), "eval");
    assert_int_equal(cs_config_check_unused(cfg), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "command line: unknown key \"every_tokens\" in [eval]");

    assert_int_equal(cs_config_set_arg(cfg, "train.lr=fast"), CS_OK);
    assert_int_equal(cs_config_get_double(cfg, "train", "lr", 0, 0, &lr), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "command line: [train] lr: expected a number, got \"fast\"");
    assert_int_equal(cs_config_set_arg(cfg, "train.lr"), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "\"train.lr\": expected SECTION.KEY=VALUE");
    assert_int_equal(cs_config_set_arg(cfg, "tr ain.lr=1"), CS_EINPUT);
    tu_assert_errmsg_has("\"tr ain.lr=1\": command line: [tr ain] lr: section name");
    assert_int_equal(cs_config_set_arg(cfg, "train.=1"), CS_EINPUT);
    tu_assert_errmsg_has("key: expected");
    assert_int_equal(cs_config_set(cfg, "train", "note", "a ; b"), CS_EINPUT);
    tu_assert_errmsg_has("would start a comment");
    assert_int_equal(cs_config_set(cfg, "train", "note", "a\nb"), CS_EINPUT);
    tu_assert_errmsg_has("control character 0x0a");
    assert_int_equal(cs_config_set(cfg, "train", "note", "a;b"), CS_OK);
    cs_config_free(cfg);
}

static void test_fail_and_require(void **state)
{
    cs_config *cfg = must_read("[model]\nd_model = 250\nheads = 4\n");

    (void)state;
    assert_int_equal(cs_config_fail(cfg, "model", "heads", "must divide d_model = %d", 250),
                     CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:3: [model] heads: must divide d_model = 250");
    assert_int_equal(cs_config_require(cfg, "model", "heads"), CS_OK);
    assert_int_equal(cs_config_require(cfg, "sweep", "context"), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini: [sweep] context: missing (required)");
    cs_config_free(cfg);
}

/* Written back and read again, a config has the same sections, keys and values. */
static void test_write_round_trip(void **state)
{
    cs_config *a = must_read("[data]\nvocab = 4096\nseed = 3\n[model]\n  layers=4 ; c\n"
                             "x = = y: z\n[data]\nname = a;b\nempty =\nhash =#1 ;c\n");
    cs_config *b = NULL;
    FILE *f = tmpfile();
    char text[1024];
    size_t n;
    size_t i;

    (void)state;
    assert_non_null(f);
    assert_int_equal(cs_config_set(a, "", "top", "v"), CS_OK);
    assert_int_equal(cs_config_write(a, f), CS_OK);
    rewind(f);
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_string_equal(
        text, "top = v\n\n[data]\nvocab = 4096\nseed = 3\nname = a;b\nempty = \nhash =#1\n"
              "\n[model]\nlayers = 4\nx = = y: z\n");
    assert_int_equal(cs_config_read_string(text, "again", &b), CS_OK);
    assert_int_equal(cs_config_entry_count(b), cs_config_entry_count(a));
    for (i = 0; i < cs_config_entry_count(a); i++) {
        const cs_config_entry *e = cs_config_entry_at(a, i);

        assert_string_equal(cs_config_get_str(b, e->section, e->key, "(missing)"), e->value);
    }
    cs_config_free(a);
    cs_config_free(b);
}

/* Thousands of sections and keys (the hash indexes grow), all found again. */
static void test_many_keys(void **state)
{
    size_t cap = 200000;
    char *text = malloc(cap);
    size_t len = 0;
    cs_config *cfg;
    char sec[32];
    char key[32];
    size_t i;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < 3000; i++) {
        if (i % 3 == 0)
            len += (size_t)snprintf(text + len, cap - len, "[s%zu]\n", i / 3);
        len += (size_t)snprintf(text + len, cap - len, "k%zu = %zu\n", i, i);
    }
    cfg = must_read(text);
    assert_int_equal(cs_config_entry_count(cfg), 3000);
    assert_int_equal(cs_config_section_count(cfg), 1000);
    for (i = 0; i < 3000; i++) {
        long v = -1;

        snprintf(sec, sizeof sec, "s%zu", i / 3);
        snprintf(key, sizeof key, "k%zu", i);
        assert_int_equal(cs_config_get_long(cfg, sec, key, -1, 0, 10000, &v), CS_OK);
        assert_int_equal(v, (long)i);
        assert_false(cs_config_has_key(cfg, sec, "k"));
    }
    assert_int_equal(cs_config_check_unused(cfg), CS_OK);
    cs_config_free(cfg);
    free(text);
}

/* ---- the examples of docs/config.md --------------------------------------------------------- */

/* docs/config.md shows this struct and function: how a command reads its run config. */
struct run_settings {
    long layers;
    long d_model;
    long heads;
    int64_t context; /* tokens per training sequence */
    int64_t tokens;  /* training tokens */
    double lr;       /* peak learning rate */
    const char *schedule;
};

static int read_run(cs_config *cfg, struct run_settings *s)
{
    int st;

    st = cs_config_get_long(cfg, "model", "layers", 4, 1, 1024, &s->layers);
    if (st == CS_OK)
        st = cs_config_get_long(cfg, "model", "d_model", 256, 8, 65536, &s->d_model);
    if (st == CS_OK)
        st = cs_config_get_long(cfg, "model", "heads", 4, 1, 1024, &s->heads);
    if (st == CS_OK)
        st = cs_config_get_count(cfg, "data", "context", 512, &s->context);
    if (st == CS_OK)
        st = cs_config_get_count(cfg, "train", "tokens", 20000000, &s->tokens);
    if (st == CS_OK)
        st = cs_config_get_double(cfg, "train", "lr", 3e-4, CS_PARSE_POSITIVE, &s->lr);
    if (st != CS_OK)
        return st;
    s->schedule = cs_config_get_str(cfg, "train", "schedule", "cosine");
    if (s->d_model % s->heads != 0)
        return cs_config_fail(cfg, "model", "heads", "must divide d_model = %ld", s->d_model);
    return CS_OK;
}
/* (end of the excerpt) */

/* The text of `path` under the source tree, NUL-terminated (caller frees); NULL if absent. */
static char *read_source(const char *rel)
{
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s", tu_srcdir(), rel);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The body of the next fenced block "```<lang>\n...```" at or after *pos (a new string, caller
 * frees), advancing *pos past it; NULL when there is none. */
static char *next_block(const char *doc, const char **pos, const char *lang)
{
    char fence[32];
    const char *start;
    const char *end;
    char *body;

    snprintf(fence, sizeof fence, "```%s\n", lang);
    start = strstr(*pos, fence);
    if (start == NULL)
        return NULL;
    start += strlen(fence);
    end = strstr(start, "```");
    assert_non_null(end);
    body = malloc((size_t)(end - start) + 1);
    assert_non_null(body);
    memcpy(body, start, (size_t)(end - start));
    body[end - start] = '\0';
    *pos = end + 3;
    (void)doc;
    return body;
}

/* Every ```ini block of docs/config.md reads without error; the run config ("# run.ini") is one
 * that read_run() accepts. */
static void test_doc_ini_examples(void **state)
{
    char *doc = read_source("docs/config.md");
    const char *pos;
    char *block;
    size_t n = 0;
    size_t runs = 0;

    (void)state;
    if (doc == NULL)
        fail_msg("cannot read %s/docs/config.md", tu_srcdir());
    pos = doc;
    while ((block = next_block(doc, &pos, "ini")) != NULL) {
        cs_config *cfg = NULL;
        struct run_settings s;

        if (cs_config_read_string(block, "docs/config.md", &cfg) != CS_OK)
            fail_msg("example %zu: %s", n + 1, cs_errmsg());
        n++;
        if (strncmp(block, "# run.ini", 9) == 0) {
            runs++;
            if (read_run(cfg, &s) != CS_OK)
                fail_msg("the run config example: %s", cs_errmsg());
            assert_int_equal(s.layers, 4);
            assert_int_equal(s.tokens, 20000000);
            assert_int_equal(s.context, 512);
            assert_string_equal(s.schedule, "cosine");
        }
        cs_config_free(cfg);
        free(block);
    }
    assert_true(n >= 3);
    assert_int_equal(runs, 1);
    free(doc);
}

/* Every ```c block of docs/config.md is an excerpt of this file, word for word. */
static void test_doc_c_excerpts(void **state)
{
    char *doc = read_source("docs/config.md");
    char *self = read_source("tests/unit/test_config.c");
    const char *pos;
    char *block;
    size_t n = 0;

    (void)state;
    if (doc == NULL || self == NULL)
        fail_msg("cannot read docs/config.md or tests/unit/test_config.c under %s", tu_srcdir());
    pos = doc;
    while ((block = next_block(doc, &pos, "c")) != NULL) {
        if (strstr(self, block) == NULL)
            fail_msg("a ```c block of docs/config.md is not in test_config.c:\n%s", block);
        n++;
        free(block);
    }
    assert_true(n >= 1);
    free(doc);
    free(self);
}

/* The run config example with an override, a misspelt key and a bad value: the messages the
 * documentation quotes. */
static void test_doc_messages(void **state)
{
    cs_config *cfg = must_read("[model]\nlayers = 4\nd_model = 250\nheads = 4\n"
                               "[train]\nlerning_rate = 3e-4\ntokens = 2.5e6.0\n");
    struct run_settings s;

    (void)state;
    assert_int_equal(read_run(cfg, &s), CS_EINPUT);
    assert_string_equal(cs_errmsg(),
                        "run.ini:7: [train] tokens: expected a number, got \"2.5e6.0\"");
    assert_int_equal(cs_config_set_arg(cfg, "train.tokens=2.5e6"), CS_OK);
    assert_int_equal(read_run(cfg, &s), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:4: [model] heads: must divide d_model = 250");
    assert_int_equal(cs_config_set_arg(cfg, "model.heads=5"), CS_OK);
    assert_int_equal(read_run(cfg, &s), CS_OK);
    assert_int_equal(cs_config_check_unused(cfg), CS_EINPUT);
    assert_string_equal(cs_errmsg(), "run.ini:6: unknown key \"lerning_rate\" in [train]");
    cs_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections_comments_lines),
        cmocka_unit_test(test_empty_and_blank),
        cmocka_unit_test(test_scalar_getters),
        cmocka_unit_test(test_top_level_messages),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_unused_keys),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_indented_keys),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_fail_and_require),
        cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_doc_ini_examples),
        cmocka_unit_test(test_doc_c_excerpts),
        cmocka_unit_test(test_doc_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
