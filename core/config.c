/* core/config.c: the INI config reader behind core/config.h. inih splits lines into sections and
 * `key = value` pairs; this file checks the bytes first (text, UTF-8, line lengths, section
 * headers, which inih would silently cut), stores the entries with their lines, and does the
 * typed reading. Test: tests/unit/test_config.c; fuzz: fuzz/fuzz_config.c.
 */
#include "core/config.h"

#include "core/error.h"
#include "core/parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Debian's libinih is built with INI_HANDLER_LINENO=1 (the handler gets the line number); the
 * header defaults to 0, so say so before including it. tests/unit/test_config.c checks lines. */
#define INI_HANDLER_LINENO 1
#include <ini.h>

struct item {
    cs_config_entry e; /* e.section points into cfg->sections; key and value are owned */
    bool used;         /* read by a getter or marked used */
};

/* Open-addressing hash index: slot holds the element's hash and its index + 1 (0: empty). */
struct slot {
    uint64_t hash;
    size_t idx1;
};

struct hindex {
    struct slot *slots; /* (cap), cap a power of two or 0 */
    size_t cap;
    size_t count;
};

struct cs_config {
    char *name;         /* file name for messages */
    struct item *items; /* (n_items) in file order */
    size_t n_items;
    size_t cap_items;
    char **sections; /* (n_sections) distinct names, order of first appearance */
    size_t n_sections;
    size_t cap_sections;
    struct hindex by_pair; /* (section, key) -> item */
    struct hindex by_name; /* section -> sections[] */
};

/* ---- small helpers ------------------------------------------------------------------------ */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_name_char(char c, bool dot_ok)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || (dot_ok && c == '.');
}

/* True when s[0..n) is a non-empty name: letters, digits, '_', '-' (and '.' for keys). */
static bool is_name(const char *s, size_t n, bool dot_ok)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++)
        if (!is_name_char(s[i], dot_ok))
            return false;
    return true;
}

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(0x100000001b3); /* FNV-1a */
    }
    return h;
}

static uint64_t hash_section(const char *section)
{
    return hash_bytes(UINT64_C(0xcbf29ce484222325), section, strlen(section));
}

static uint64_t hash_pair(const char *section, const char *key)
{
    /* The terminating NUL of the section keeps ("ab","c") apart from ("a","bc"). */
    uint64_t h = hash_bytes(UINT64_C(0xcbf29ce484222325), section, strlen(section) + 1);

    return hash_bytes(h, key, strlen(key));
}

/* ---- hash index ----------------------------------------------------------------------------- */

static void hindex_place(struct slot *slots, size_t cap, uint64_t hash, size_t idx1)
{
    size_t i = (size_t)hash & (cap - 1);

    while (slots[i].idx1 != 0)
        i = (i + 1) & (cap - 1);
    slots[i].hash = hash;
    slots[i].idx1 = idx1;
}

/* Adds element `idx` with `hash`, growing the table to keep it at most half full. */
static int hindex_add(struct hindex *t, uint64_t hash, size_t idx)
{
    size_t i;

    if (2 * (t->count + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        struct slot *s = calloc(cap, sizeof *s);

        if (s == NULL)
            return cs_fail(CS_ENOMEM, "config: out of memory");
        for (i = 0; i < t->cap; i++)
            if (t->slots[i].idx1)
                hindex_place(s, cap, t->slots[i].hash, t->slots[i].idx1);
        free(t->slots);
        t->slots = s;
        t->cap = cap;
    }
    hindex_place(t->slots, t->cap, hash, idx + 1);
    t->count++;
    return CS_OK;
}

static struct item *find_item(const cs_config *cfg, const char *section, const char *key)
{
    const struct hindex *t = &cfg->by_pair;
    uint64_t h = hash_pair(section, key);
    size_t i;

    if (t->cap == 0)
        return NULL;
    for (i = (size_t)h & (t->cap - 1); t->slots[i].idx1; i = (i + 1) & (t->cap - 1)) {
        struct item *it = &cfg->items[t->slots[i].idx1 - 1];

        if (t->slots[i].hash == h && strcmp(it->e.section, section) == 0 &&
            strcmp(it->e.key, key) == 0)
            return it;
    }
    return NULL;
}

static const char *find_section(const cs_config *cfg, const char *section)
{
    const struct hindex *t = &cfg->by_name;
    uint64_t h = hash_section(section);
    size_t i;

    if (t->cap == 0)
        return NULL;
    for (i = (size_t)h & (t->cap - 1); t->slots[i].idx1; i = (i + 1) & (t->cap - 1)) {
        const char *s = cfg->sections[t->slots[i].idx1 - 1];

        if (t->slots[i].hash == h && strcmp(s, section) == 0)
            return s;
    }
    return NULL;
}

/* ---- storage -------------------------------------------------------------------------------- */

/* The config's copy of `section`, added on first use; NULL when memory runs out. */
static const char *intern_section(cs_config *cfg, const char *section)
{
    const char *found = find_section(cfg, section);
    char *copy;

    if (found)
        return found;
    if (cfg->n_sections == cfg->cap_sections) {
        size_t cap = cfg->cap_sections ? 2 * cfg->cap_sections : 8;
        char **s = realloc(cfg->sections, cap * sizeof *s);

        if (s == NULL)
            return NULL;
        cfg->sections = s;
        cfg->cap_sections = cap;
    }
    copy = strdup(section);
    if (copy == NULL)
        return NULL;
    if (hindex_add(&cfg->by_name, hash_section(section), cfg->n_sections)) {
        free(copy);
        return NULL;
    }
    cfg->sections[cfg->n_sections++] = copy;
    return copy;
}

/* Appends a new entry; the caller has checked that (section, key) is not there yet. */
static int add_item(cs_config *cfg, const char *section, const char *key, const char *value,
                    size_t line)
{
    struct item *it;
    const char *sec = intern_section(cfg, section);

    if (sec == NULL)
        return cs_fail(CS_ENOMEM, "config: out of memory");
    if (cfg->n_items == cfg->cap_items) {
        size_t cap = cfg->cap_items ? 2 * cfg->cap_items : 16;
        struct item *p = realloc(cfg->items, cap * sizeof *p);

        if (p == NULL)
            return cs_fail(CS_ENOMEM, "config: out of memory");
        cfg->items = p;
        cfg->cap_items = cap;
    }
    it = &cfg->items[cfg->n_items];
    it->e.section = sec;
    it->e.key = strdup(key);
    it->e.value = strdup(value);
    it->e.line = line;
    it->used = false;
    if (it->e.key == NULL || it->e.value == NULL ||
        hindex_add(&cfg->by_pair, hash_pair(sec, key), cfg->n_items)) {
        free((char *)it->e.key);
        free((char *)it->e.value);
        return cs_fail(CS_ENOMEM, "config: out of memory");
    }
    cfg->n_items++;
    return CS_OK;
}

static cs_config *config_alloc(const char *name)
{
    cs_config *cfg = calloc(1, sizeof *cfg);

    if (cfg == NULL)
        return NULL;
    cfg->name = strdup(name ? name : "<string>");
    if (cfg->name == NULL) {
        free(cfg);
        return NULL;
    }
    return cfg;
}

void cs_config_free(cs_config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    for (i = 0; i < cfg->n_items; i++) {
        free((char *)cfg->items[i].e.key);
        free((char *)cfg->items[i].e.value);
    }
    for (i = 0; i < cfg->n_sections; i++)
        free(cfg->sections[i]);
    free(cfg->items);
    free(cfg->sections);
    free(cfg->by_pair.slots);
    free(cfg->by_name.slots);
    free(cfg->name);
    free(cfg);
}

const char *cs_config_name(const cs_config *cfg)
{
    return cfg->name;
}

/* ---- checking the bytes before inih sees them ---------------------------------------------- */

/* Length of the valid UTF-8 sequence starting at s (n bytes left), 0 when invalid. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    size_t i;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Checks that s[0..n) is UTF-8 text: no NUL or control byte except tab (and CR as the last byte
 * when cr_ok), no byte-order mark except at offset `bom_ok_at` (SIZE_MAX: nowhere). On error
 * returns CS_EINPUT with "<where>: <problem> at column C". */
static int check_text(const char *s, size_t n, bool cr_ok, size_t bom_ok_at, const char *where)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    size_t k;

    while (i < n) {
        if (u[i] == 0)
            return cs_fail(CS_EINPUT, "%s: NUL byte at column %zu; expected text", where, i + 1);
        if ((u[i] < 0x20 && u[i] != '\t' && !(u[i] == '\r' && cr_ok && i + 1 == n)) || u[i] == 0x7f)
            return cs_fail(CS_EINPUT, "%s: control character 0x%02x at column %zu", where, u[i],
                           i + 1);
        k = utf8_len(u + i, n - i);
        if (k == 0)
            return cs_fail(CS_EINPUT, "%s: invalid UTF-8 at column %zu", where, i + 1);
        if (k == 3 && u[i] == 0xEF && u[i + 1] == 0xBB && u[i + 2] == 0xBF && i != bom_ok_at)
            return cs_fail(CS_EINPUT,
                           "%s: byte-order mark at column %zu (only allowed at the start)", where,
                           i + 1);
        i += k;
    }
    return CS_OK;
}

/* Checks a line that starts (after blanks) with '[': inih would cut a long name and accept
 * trailing text; we want a clear error instead. `s` points at '[', n bytes to the line's end. */
static int check_header(const char *s, size_t n, const char *where)
{
    const char *close = memchr(s, ']', n);
    const char *a = s + 1;
    const char *b = close;

    if (close == NULL)
        return cs_fail(CS_EINPUT, "%s: expected ']' to close the section header", where);
    if ((size_t)(close - s - 1) > CS_CONFIG_SECTION_MAX)
        return cs_fail(CS_EINPUT, "%s: section name longer than %d bytes", where,
                       CS_CONFIG_SECTION_MAX);
    while (a < b && is_blank(*a))
        a++;
    while (b > a && is_blank(b[-1]))
        b--;
    if (!is_name(a, (size_t)(b - a), false))
        return cs_fail(CS_EINPUT,
                       "%s: section name: expected letters, digits, '_' or '-', got \"%.*s\"",
                       where, (int)(close - s - 1), s + 1);
    return CS_OK;
}

static int check_line(const char *s, size_t n, size_t line, const char *name)
{
    char where[512];
    size_t n_text = n;
    size_t i = 0;
    int st;

    snprintf(where, sizeof where, "%s:%zu", name, line);
    if (n > 0 && s[n - 1] == '\r')
        n_text--;
    if (n_text > CS_CONFIG_LINE_MAX)
        return cs_fail(CS_EINPUT, "%s: line longer than %d bytes", where, CS_CONFIG_LINE_MAX);
    st = check_text(s, n, true, line == 1 ? 0 : SIZE_MAX, where);
    if (st)
        return st;
    if (line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && is_blank(s[i]))
        i++;
    if (i < n && s[i] == '[')
        return check_header(s + i, n - i, where);
    return CS_OK;
}

static int check_input(const char *data, size_t n, const char *name)
{
    size_t line = 1;
    size_t start = 0;
    const char *nl;
    int st;

    while (start < n) {
        nl = memchr(data + start, '\n', n - start);
        st = check_line(data + start, nl ? (size_t)(nl - data) - start : n - start, line, name);
        if (st)
            return st;
        if (nl == NULL)
            break;
        start = (size_t)(nl - data) + 1;
        line++;
    }
    return CS_OK;
}

/* ---- parsing with inih ---------------------------------------------------------------------- */

struct mem_stream {
    const char *p; /* next unread byte */
    size_t left;   /* bytes left */
};

/* fgets over memory, the ini_reader inih calls: at most num - 1 bytes, up to and including the
 * next newline, NUL-terminated; NULL at the end. */
static char *mem_gets(char *buf, int num, void *stream)
{
    struct mem_stream *m = stream;
    size_t i = 0;

    if (m->left == 0 || num < 1)
        return NULL;
    while (i + 1 < (size_t)num && i < m->left) {
        buf[i] = m->p[i];
        if (buf[i++] == '\n')
            break;
    }
    buf[i] = '\0';
    m->p += i;
    m->left -= i;
    return buf;
}

struct parse_ctx {
    cs_config *cfg;
    int status;   /* first error the handler met */
    int err_line; /* its line */
};

/* inih's handler: one `key = value` at `lineno`. Returns 1 to go on, 0 on error. */
static int on_pair(void *user, const char *section, const char *key, const char *value, int lineno)
{
    struct parse_ctx *ctx = user;
    cs_config *cfg = ctx->cfg;
    char sec[CS_CONFIG_SECTION_MAX + 1];
    size_t a = 0;
    size_t b = strlen(section);
    struct item *old;

    while (a < b && is_blank(section[a]))
        a++;
    while (b > a && is_blank(section[b - 1]))
        b--;
    snprintf(sec, sizeof sec, "%.*s", (int)(b - a), section + a);
    if (value == NULL)
        value = "";
    ctx->err_line = lineno;
    if (!is_name(key, strlen(key), true)) {
        ctx->status =
            cs_fail(CS_EINPUT, "%s:%d: key: expected letters, digits, '_', '-' or '.', got \"%s\"",
                    cfg->name, lineno, key);
        return 0;
    }
    old = find_item(cfg, sec, key);
    if (old) {
        ctx->status =
            cs_fail(CS_EINPUT, "%s:%d: %s%s%s%s: duplicate key, first set on line %zu", cfg->name,
                    lineno, sec[0] ? "[" : "", sec, sec[0] ? "] " : "", key, old->e.line);
        return 0;
    }
    ctx->status = add_item(cfg, sec, key, value, (size_t)lineno);
    return ctx->status == CS_OK;
}

/* Message for a line inih rejected: after check_input, only lines without '=' or ':' are left. */
static int syntax_error(const char *data, size_t n, const char *name, size_t line)
{
    size_t i = 0;
    size_t len;
    size_t ln;

    for (ln = 1; ln < line && i < n; i++)
        if (data[i] == '\n')
            ln++;
    while (i < n && is_blank(data[i]))
        i++;
    for (len = 0; i + len < n && data[i + len] != '\n' && data[i + len] != '\r'; len++)
        ;
    return cs_fail(CS_EINPUT,
                   "%s:%zu: expected \"key = value\", a [section] header or a comment, got "
                   "\"%.*s%s\"",
                   name, line, (int)(len > 60 ? 60 : len), data + i, len > 60 ? "..." : "");
}

/* inih's options are process-wide globals in Debian's build; set the ones this format needs. */
static void set_ini_options(void)
{
    static char comment_chars[] = ";#";

    ini_allow_multiline = false; /* an indented line is a key of its own, not a continuation */
    ini_allow_bom = true;
    ini_allow_inline_comments = true;
    ini_start_comment_prefixes = comment_chars;
    ini_inline_comment_prefixes = comment_chars;
    ini_allow_no_value = false;
    ini_stop_on_first_error = true;
    ini_use_stack = false; /* a heap line buffer that grows up to ini_max_line */
    ini_allow_realloc = true;
    ini_max_line = CS_CONFIG_LINE_MAX + 3; /* room for CR, LF and NUL */
}

int cs_config_read_mem(const void *data, size_t n, const char *name, cs_config **out)
{
    struct mem_stream m = {data, n};
    struct parse_ctx ctx = {NULL, CS_OK, 0};
    int st;
    int r;

    *out = NULL;
    ctx.cfg = config_alloc(name);
    if (ctx.cfg == NULL)
        return cs_fail(CS_ENOMEM, "config: out of memory");
    st = check_input(data, n, ctx.cfg->name);
    if (st)
        goto out_free_cfg;
    set_ini_options();
    r = ini_parse_stream(mem_gets, &m, on_pair, &ctx);
    if (r == -2) {
        st = cs_fail(CS_ENOMEM, "%s: out of memory", ctx.cfg->name);
        goto out_free_cfg;
    }
    if (r != 0) {
        st = ctx.status != CS_OK && ctx.err_line == r
                 ? ctx.status
                 : syntax_error(data, n, ctx.cfg->name, (size_t)(r > 0 ? r : 0));
        goto out_free_cfg;
    }
    *out = ctx.cfg;
    return CS_OK;

out_free_cfg:
    cs_config_free(ctx.cfg);
    return st;
}

int cs_config_read_string(const char *text, const char *name, cs_config **out)
{
    return cs_config_read_mem(text, strlen(text), name, out);
}

/* Reads all of `f` (at most CS_CONFIG_FILE_MAX bytes) into a new buffer *buf of *n bytes. */
static int slurp(FILE *f, const char *name, char **buf, size_t *n)
{
    size_t cap = 4096;
    size_t len = 0;
    char *p = malloc(cap);
    char *q;

    for (;;) {
        if (p == NULL)
            return cs_fail(CS_ENOMEM, "%s: out of memory", name);
        len += fread(p + len, 1, cap - len, f);
        if (ferror(f)) {
            int err = errno;

            free(p);
            return cs_fail(err == EISDIR ? CS_EINPUT : CS_EIO, "%s: cannot read: %s%s", name,
                           strerror(err), err == EISDIR ? "; expected a config file" : "");
        }
        if (len > CS_CONFIG_FILE_MAX) {
            free(p);
            return cs_fail(CS_EINPUT, "%s: larger than %u bytes; expected a config file", name,
                           (unsigned)CS_CONFIG_FILE_MAX);
        }
        if (len < cap)
            break;
        q = realloc(p, 2 * cap);
        if (q == NULL)
            free(p);
        p = q;
        cap *= 2;
    }
    *buf = p;
    *n = len;
    return CS_OK;
}

int cs_config_read_file(const char *path, cs_config **out)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int st;

    *out = NULL;
    if (f == NULL)
        return cs_fail(errno == ENOENT || errno == ENOTDIR ? CS_EINPUT : CS_EIO,
                       "%s: cannot open: %s", path, strerror(errno));
    st = slurp(f, name, &buf, &n);
    if (!is_stdin)
        fclose(f);
    if (st)
        return st;
    st = cs_config_read_mem(buf, n, name, out);
    free(buf);
    return st;
}

/* ---- typed getters -------------------------------------------------------------------------- */

/* "file:line: [section] key" (or "command line: ..." / "file: ..." for set or missing keys);
 * the section part is left out for section "". */
static void describe(const cs_config *cfg, const struct item *it, const char *section,
                     const char *key, char *buf, size_t n)
{
    int k;

    if (it == NULL)
        k = snprintf(buf, n, "%s: ", cfg->name);
    else if (it->e.line == 0)
        k = snprintf(buf, n, "command line: ");
    else
        k = snprintf(buf, n, "%s:%zu: ", cfg->name, it->e.line);
    if (k < 0 || (size_t)k >= n)
        return;
    if (section[0])
        snprintf(buf + k, n - (size_t)k, "[%s] %s", section, key);
    else
        snprintf(buf + k, n - (size_t)k, "%s", key);
}

/* The entry for (section, key), marked used; NULL when missing. */
static struct item *take(cs_config *cfg, const char *section, const char *key)
{
    struct item *it = find_item(cfg, section, key);

    if (it)
        it->used = true;
    return it;
}

const char *cs_config_get_str(cs_config *cfg, const char *section, const char *key, const char *def)
{
    struct item *it = take(cfg, section, key);

    return it ? it->e.value : def;
}

int cs_config_get_long(cs_config *cfg, const char *section, const char *key, long def, long min,
                       long max, long *out)
{
    struct item *it = take(cfg, section, key);
    char what[1024];
    long v;
    int st;

    if (it == NULL) {
        *out = def;
        return CS_OK;
    }
    describe(cfg, it, section, key, what, sizeof what);
    st = cs_parse_long(it->e.value, &v, what);
    if (st)
        return st;
    if (v < min || v > max)
        return cs_fail(CS_EINPUT, "%s: expected an integer in [%ld, %ld], got \"%s\"", what, min,
                       max, it->e.value);
    *out = v;
    return CS_OK;
}

int cs_config_get_double(cs_config *cfg, const char *section, const char *key, double def,
                         unsigned flags, double *out)
{
    struct item *it = take(cfg, section, key);
    char what[1024];

    if (it == NULL) {
        *out = def;
        return CS_OK;
    }
    describe(cfg, it, section, key, what, sizeof what);
    return cs_parse_double_ex(it->e.value, out, flags, what);
}

int cs_config_get_count(cs_config *cfg, const char *section, const char *key, int64_t def,
                        int64_t *out)
{
    struct item *it = take(cfg, section, key);
    char what[1024];

    if (it == NULL) {
        *out = def;
        return CS_OK;
    }
    describe(cfg, it, section, key, what, sizeof what);
    return cs_parse_count(it->e.value, out, what);
}

int cs_config_get_bool(cs_config *cfg, const char *section, const char *key, bool def, bool *out)
{
    struct item *it = take(cfg, section, key);
    char what[1024];

    if (it == NULL) {
        *out = def;
        return CS_OK;
    }
    describe(cfg, it, section, key, what, sizeof what);
    return cs_parse_bool(it->e.value, out, what);
}

/* ---- list getters --------------------------------------------------------------------------- */

/* Splits `value` at commas into one block: (*n) pointers, then the trimmed item strings. */
static int split_list(const char *value, const char *what, char ***out, size_t *n)
{
    size_t count = 1;
    size_t len = strlen(value);
    size_t i;
    char **items;
    char *text;

    for (i = 0; i < len; i++)
        count += value[i] == ',';
    items = malloc(count * sizeof *items + len + 1);
    if (items == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory", what);
    text = (char *)(items + count);
    memcpy(text, value, len + 1);
    for (i = 0; i < count; i++) {
        char *end = strchr(text, ',');
        char *e;

        if (end)
            *end = '\0';
        while (is_blank(*text))
            text++;
        for (e = text + strlen(text); e > text && is_blank(e[-1]); e--)
            e[-1] = '\0';
        items[i] = text;
        text = end ? end + 1 : text + strlen(text);
    }
    *out = items;
    *n = count;
    return CS_OK;
}

/* The items of a present list key, checked non-empty; `what` receives the key's description. */
static int take_list(cs_config *cfg, const struct item *it, const char *section, const char *key,
                     char *what, size_t what_n, char ***items, size_t *n)
{
    size_t i;
    int st;

    describe(cfg, it, section, key, what, what_n);
    if (it->e.value[0] == '\0')
        return cs_fail(CS_EINPUT, "%s: expected a comma-separated list, got an empty value", what);
    st = split_list(it->e.value, what, items, n);
    if (st)
        return st;
    for (i = 0; i < *n; i++) {
        if ((*items)[i][0] == '\0') {
            free(*items);
            *items = NULL;
            return cs_fail(CS_EINPUT,
                           "%s: item %zu of \"%s\" is empty; expected a comma-separated list", what,
                           i + 1, it->e.value);
        }
    }
    return CS_OK;
}

/* A malloc'd copy of n elements of `size` bytes (NULL for n == 0, or on ENOMEM with *st set). */
static void *copy_defaults(const void *def, size_t n, size_t size, int *st)
{
    void *p;

    *st = CS_OK;
    if (n == 0)
        return NULL;
    p = malloc(n * size);
    if (p == NULL)
        *st = cs_fail(CS_ENOMEM, "config: out of memory");
    else
        memcpy(p, def, n * size);
    return p;
}

int cs_config_get_doubles(cs_config *cfg, const char *section, const char *key, const double *def,
                          size_t n_def, unsigned flags, double **out, size_t *n)
{
    struct item *it = take(cfg, section, key);
    char what[1024];
    char item_what[1100];
    char **items = NULL;
    double *v;
    size_t i;
    int st;

    *out = NULL;
    *n = 0;
    if (it == NULL) {
        *out = copy_defaults(def, n_def, sizeof *def, &st);
        *n = st ? 0 : n_def;
        return st;
    }
    st = take_list(cfg, it, section, key, what, sizeof what, &items, n);
    if (st)
        return st;
    v = malloc(*n * sizeof *v);
    st = v ? CS_OK : cs_fail(CS_ENOMEM, "%s: out of memory", what);
    for (i = 0; st == CS_OK && i < *n; i++) {
        snprintf(item_what, sizeof item_what, "%s item %zu", what, i + 1);
        st = cs_parse_double_ex(items[i], &v[i], flags, item_what);
    }
    free(items);
    if (st) {
        free(v);
        *n = 0;
        return st;
    }
    *out = v;
    return CS_OK;
}

int cs_config_get_counts(cs_config *cfg, const char *section, const char *key, const int64_t *def,
                         size_t n_def, int64_t **out, size_t *n)
{
    struct item *it = take(cfg, section, key);
    char what[1024];
    char item_what[1100];
    char **items = NULL;
    int64_t *v;
    size_t i;
    int st;

    *out = NULL;
    *n = 0;
    if (it == NULL) {
        *out = copy_defaults(def, n_def, sizeof *def, &st);
        *n = st ? 0 : n_def;
        return st;
    }
    st = take_list(cfg, it, section, key, what, sizeof what, &items, n);
    if (st)
        return st;
    v = malloc(*n * sizeof *v);
    st = v ? CS_OK : cs_fail(CS_ENOMEM, "%s: out of memory", what);
    for (i = 0; st == CS_OK && i < *n; i++) {
        snprintf(item_what, sizeof item_what, "%s item %zu", what, i + 1);
        st = cs_parse_count(items[i], &v[i], item_what);
    }
    free(items);
    if (st) {
        free(v);
        *n = 0;
        return st;
    }
    *out = v;
    return CS_OK;
}

/* One block holding n pointers and copies of the strings def[0..n). */
static char **pack_strings(const char *const *def, size_t n)
{
    size_t bytes = n * sizeof(char *);
    size_t i;
    char **p;
    char *text;

    for (i = 0; i < n; i++)
        bytes += strlen(def[i]) + 1;
    p = malloc(bytes);
    if (p == NULL)
        return NULL;
    text = (char *)(p + n);
    for (i = 0; i < n; i++) {
        size_t len = strlen(def[i]) + 1;

        memcpy(text, def[i], len);
        p[i] = text;
        text += len;
    }
    return p;
}

int cs_config_get_strs(cs_config *cfg, const char *section, const char *key, const char *const *def,
                       size_t n_def, char ***out, size_t *n)
{
    struct item *it = take(cfg, section, key);
    char what[1024];
    int st;

    *out = NULL;
    *n = 0;
    if (it == NULL) {
        if (n_def == 0)
            return CS_OK;
        *out = pack_strings(def, n_def);
        if (*out == NULL)
            return cs_fail(CS_ENOMEM, "config: out of memory");
        *n = n_def;
        return CS_OK;
    }
    st = take_list(cfg, it, section, key, what, sizeof what, out, n);
    if (st)
        *n = 0;
    return st;
}

/* ---- checks --------------------------------------------------------------------------------- */

bool cs_config_has_key(const cs_config *cfg, const char *section, const char *key)
{
    return find_item(cfg, section, key) != NULL;
}

int cs_config_require(const cs_config *cfg, const char *section, const char *key)
{
    char what[1024];

    if (find_item(cfg, section, key))
        return CS_OK;
    describe(cfg, NULL, section, key, what, sizeof what);
    return cs_fail(CS_EINPUT, "%s: missing (required)", what);
}

void cs_config_mark_used(cs_config *cfg, const char *section, const char *key)
{
    size_t i;

    if (key) {
        take(cfg, section, key);
        return;
    }
    for (i = 0; i < cfg->n_items; i++)
        if (strcmp(cfg->items[i].e.section, section) == 0)
            cfg->items[i].used = true;
}

int cs_config_check_unused(const cs_config *cfg)
{
    const cs_config_entry *e;
    char where[1024];
    size_t i;

    for (i = 0; i < cfg->n_items; i++) {
        if (cfg->items[i].used)
            continue;
        e = &cfg->items[i].e;
        if (e->line)
            snprintf(where, sizeof where, "%s:%zu", cfg->name, e->line);
        else
            snprintf(where, sizeof where, "command line");
        if (e->section[0])
            return cs_fail(CS_EINPUT, "%s: unknown key \"%s\" in [%s]", where, e->key, e->section);
        return cs_fail(CS_EINPUT, "%s: unknown key \"%s\" before any [section]", where, e->key);
    }
    return CS_OK;
}

int cs_config_fail(const cs_config *cfg, const char *section, const char *key, const char *fmt, ...)
{
    char what[1024];
    char msg[CS_ERRMSG_MAX];
    va_list ap;

    describe(cfg, find_item(cfg, section, key), section, key, what, sizeof what);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cs_fail(CS_EINPUT, "%s: %s", what, msg);
}

/* ---- overrides ------------------------------------------------------------------------------ */

/* CS_EINPUT when a value could not have come from a file line: a control character, invalid
 * UTF-8, or a blank followed by '#' or ';' (an inline comment in a file). */
static int check_set_value(const char *value, size_t n, const char *what)
{
    size_t i;
    int st = check_text(value, n, false, SIZE_MAX, what);

    if (st)
        return st;
    for (i = 1; i < n; i++)
        if ((value[i] == '#' || value[i] == ';') && is_blank(value[i - 1]))
            return cs_fail(CS_EINPUT,
                           "%s: value \"%s\" has \"%c\" after a space, which would start "
                           "a comment in a config file",
                           what, value, value[i]);
    return CS_OK;
}

int cs_config_set(cs_config *cfg, const char *section, const char *key, const char *value)
{
    char what[1024];
    const char *a = value;
    size_t n = strlen(value);
    struct item *it;
    char *copy;
    int st;

    if (section[0])
        snprintf(what, sizeof what, "command line: [%s] %s", section, key);
    else
        snprintf(what, sizeof what, "command line: %s", key);
    if (section[0] &&
        (strlen(section) > CS_CONFIG_SECTION_MAX || !is_name(section, strlen(section), false)))
        return cs_fail(CS_EINPUT, "%s: section name: expected letters, digits, '_' or '-'", what);
    if (!is_name(key, strlen(key), true))
        return cs_fail(CS_EINPUT, "%s: key: expected letters, digits, '_', '-' or '.'", what);
    while (is_blank(*a))
        a++, n--;
    while (n > 0 && is_blank(a[n - 1]))
        n--;
    st = check_set_value(a, n, what);
    if (st)
        return st;
    copy = malloc(n + 1);
    if (copy == NULL)
        return cs_fail(CS_ENOMEM, "config: out of memory");
    memcpy(copy, a, n);
    copy[n] = '\0';
    it = find_item(cfg, section, key);
    if (it == NULL) {
        st = add_item(cfg, section, key, copy, 0);
        free(copy);
        return st;
    }
    free((char *)it->e.value);
    it->e.value = copy;
    it->e.line = 0;
    it->used = false;
    return CS_OK;
}

int cs_config_set_arg(cs_config *cfg, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char name[256];
    char *dot;
    int st;

    if (eq == NULL)
        return cs_fail(CS_EINPUT, "\"%s\": expected SECTION.KEY=VALUE", arg);
    if ((size_t)(eq - arg) >= sizeof name)
        return cs_fail(CS_EINPUT, "\"%.40s...\": SECTION.KEY is too long", arg);
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    dot = strchr(name, '.');
    if (dot)
        *dot = '\0';
    st = cs_config_set(cfg, dot ? name : "", dot ? dot + 1 : name, eq + 1);
    if (st)
        return cs_fail_prefix(st, "\"%s\"", arg);
    return CS_OK;
}

/* ---- iteration ------------------------------------------------------------------------------ */

size_t cs_config_entry_count(const cs_config *cfg)
{
    return cfg->n_items;
}

const cs_config_entry *cs_config_entry_at(const cs_config *cfg, size_t i)
{
    CS_ASSERT(i < cfg->n_items);
    return &cfg->items[i].e;
}

size_t cs_config_section_count(const cs_config *cfg)
{
    return cfg->n_sections;
}

const char *cs_config_section_at(const cs_config *cfg, size_t i)
{
    CS_ASSERT(i < cfg->n_sections);
    return cfg->sections[i];
}

static void write_section(const cs_config *cfg, const char *section, bool *first, FILE *f)
{
    size_t i;

    if (section[0])
        fprintf(f, "%s[%s]\n", *first ? "" : "\n", section);
    *first = false;
    for (i = 0; i < cfg->n_items; i++) {
        const cs_config_entry *e = &cfg->items[i].e;

        /* A '#' or ';' right after '=' is text, but after "= " it would start a comment. */
        if (e->section == section)
            fprintf(f, "%s =%s%s\n", e->key, e->value[0] == '#' || e->value[0] == ';' ? "" : " ",
                    e->value);
    }
}

int cs_config_write(const cs_config *cfg, FILE *f)
{
    const char *top = find_section(cfg, "");
    bool first = true;
    size_t i;

    if (top)
        write_section(cfg, top, &first, f);
    for (i = 0; i < cfg->n_sections; i++)
        if (cfg->sections[i] != top)
            write_section(cfg, cfg->sections[i], &first, f);
    if (fflush(f) != 0 || ferror(f))
        return cs_fail(CS_EIO, "%s: cannot write the config: %s", cfg->name, strerror(errno));
    return CS_OK;
}
