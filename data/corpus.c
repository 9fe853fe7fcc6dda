/* data/corpus.c: the corpus directory (data/corpus.h): SHA-256 and UTF-8 checks, the writer
 * (temporary directory, per-label hashed split, index.tsv, manifest.json, rename into place) and
 * the reader (manifest and index checked against each other, documents.bin mapped). The layout
 * is in docs/data.md. Test: tests/unit/test_corpus.c.
 */
#define _GNU_SOURCE /* renameat2 (RENAME_NOREPLACE) */
#include "data/corpus.h"

#include "core/error.h"
#include "core/parse.h"
#include "core/version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT_NAME  "ctxscale-corpus"
#define F_DOCS       "documents.bin"
#define F_INDEX      "index.tsv"
#define F_MANIFEST   "manifest.json"
#define INDEX_HEADER "id\tsplit\tlabel\tsource\toffset\tlength\tutf8\tsha256\ttitle\n"
#define MAX_LABELS   65536

static const char *const split_names[2] = {"train", "val"};

// ---- SHA-256 (FIPS 180-4) ------------------------------------------------------------------

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned r)
{
    return (x >> r) | (x << (32 - r));
}

/* One 64-byte block into the chaining value. */
static void sha_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    uint32_t v[8];
    size_t t;

    for (t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);

        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    memcpy(v, h, sizeof v);
    for (t = 0; t < 64; t++) {
        uint32_t e = v[4];
        uint32_t a = v[0];
        uint32_t t1 = v[7] + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & v[5]) ^ (~e & v[6])) +
                      sha_k[t] + w[t];
        uint32_t t2 =
            (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));

        memmove(v + 1, v, 7 * sizeof v[0]);
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (t = 0; t < 8; t++)
        h[t] += v[t];
}

void cs_corpus_sha256_init(cs_corpus_sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

    memcpy(s->h, h0, sizeof h0);
    s->n = 0;
    s->fill = 0;
}

void cs_corpus_sha256_update(cs_corpus_sha256 *s, const void *data, size_t n)
{
    const uint8_t *p = data;

    s->n += n;
    if (s->fill > 0) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;

        memcpy(s->buf + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill < 64)
            return;
        sha_block(s->h, s->buf);
        s->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        sha_block(s->h, p);
    memcpy(s->buf, p, n);
    s->fill = n;
}

void cs_corpus_sha256_final(cs_corpus_sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->n * 8;
    size_t i;

    s->buf[s->fill++] = 0x80;
    if (s->fill > 56) {
        memset(s->buf + s->fill, 0, 64 - s->fill);
        sha_block(s->h, s->buf);
        s->fill = 0;
    }
    memset(s->buf + s->fill, 0, 56 - s->fill);
    for (i = 0; i < 8; i++)
        s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_block(s->h, s->buf);
    for (i = 0; i < 32; i++)
        out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void cs_corpus_sha256_bytes(const void *data, size_t n, uint8_t out[32])
{
    cs_corpus_sha256 s;

    cs_corpus_sha256_init(&s);
    cs_corpus_sha256_update(&s, data, n);
    cs_corpus_sha256_final(&s, out);
}

void cs_corpus_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

// ---- UTF-8 and labels ----------------------------------------------------------------------

/* Incremental UTF-8 check: continuation bytes still expected and the range the next one must
 * fall in (narrower after E0, ED, F0 and F4, which excludes overlongs, surrogates and values
 * above U+10FFFF). */
typedef struct utf8_state {
    uint8_t need;
    uint8_t lo;
    uint8_t hi;
} utf8_state;

/* Feeds one byte; false when the byte makes the text ill-formed (the state is then reset). */
static bool utf8_step(utf8_state *u, uint8_t b)
{
    if (u->need > 0) {
        if (b < u->lo || b > u->hi) {
            u->need = 0;
            return false;
        }
        u->need--;
        u->lo = 0x80;
        u->hi = 0xBF;
        return true;
    }
    u->lo = 0x80;
    u->hi = 0xBF;
    if (b < 0x80)
        return true;
    if (b < 0xC2 || b > 0xF4)
        return false;
    u->need = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
    if (b == 0xE0)
        u->lo = 0xA0;
    else if (b == 0xED)
        u->hi = 0x9F;
    else if (b == 0xF0)
        u->lo = 0x90;
    else if (b == 0xF4)
        u->hi = 0x8F;
    return true;
}

bool cs_corpus_is_utf8(const uint8_t *s, size_t n)
{
    utf8_state u = {0, 0x80, 0xBF};
    size_t i;

    for (i = 0; i < n; i++)
        if (!utf8_step(&u, s[i]))
            return false;
    return u.need == 0;
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 when there is none. */
static size_t utf8_seq_len(const uint8_t *s, size_t n)
{
    utf8_state u = {0, 0x80, 0xBF};
    size_t i;

    for (i = 0; i < n && i < 4; i++) {
        if (!utf8_step(&u, s[i]))
            return 0;
        if (u.need == 0)
            return i + 1;
    }
    return 0;
}

bool cs_corpus_label_is_valid(const char *label)
{
    size_t n;

    if (label == NULL || label[0] == '\0')
        return false;
    for (n = 0; label[n]; n++) {
        char c = label[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("._:+-", c) != NULL;

        if (!ok || n >= CS_CORPUS_LABEL_MAX)
            return false;
    }
    return true;
}

static int label_error(const char *label)
{
    return cs_fail(CS_EINPUT,
                   "label \"%.80s\": expected 1 to %d letters, digits or . _ : + - characters",
                   label ? label : "", CS_CORPUS_LABEL_MAX);
}

// ---- small helpers -------------------------------------------------------------------------

static char *dup_str(const char *s)
{
    size_t n;
    char *d;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* "dir/name", malloc'ed; NULL on ENOMEM. */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* A JSON string for s; bytes that are not UTF-8 are written as the text \xNN so that any path
 * can be recorded. NULL on ENOMEM. */
static json_t *json_text(const char *s)
{
    size_t n = strlen(s);
    size_t i = 0;
    size_t o = 0;
    char *buf;
    json_t *j;

    if (cs_corpus_is_utf8((const uint8_t *)s, n))
        return json_string(s);
    buf = malloc(4 * n + 1);
    if (buf == NULL)
        return NULL;
    while (i < n) {
        size_t k = utf8_seq_len((const uint8_t *)s + i, n - i);

        if (k == 0) {
            o += (size_t)sprintf(buf + o, "\\x%02x", (unsigned char)s[i]);
            i++;
            continue;
        }
        memcpy(buf + o, s + i, k);
        o += k;
        i += k;
    }
    buf[o] = '\0';
    j = json_string(buf);
    free(buf);
    return j;
}

/* Is `dir` a directory holding nothing but corpus files (or nothing at all)? Only such a
 * directory is replaced by --force, so that a mistyped --out cannot destroy anything else. */
static bool is_corpus_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool ok = d != NULL;

    while (ok && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;

        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        ok = strcmp(n, F_DOCS) == 0 || strcmp(n, F_INDEX) == 0 || strcmp(n, F_MANIFEST) == 0;
    }
    if (d)
        closedir(d);
    return ok;
}

/* Removes the corpus files of `dir` and the directory itself (best effort). */
static void remove_corpus_dir(const char *dir)
{
    static const char *const names[] = {F_DOCS, F_INDEX, F_MANIFEST};
    size_t i;

    for (i = 0; i < 3; i++) {
        char *p = join(dir, names[i]);

        if (p)
            unlink(p);
        free(p);
    }
    rmdir(dir);
}

/* fsync of a directory (makes renames durable); failures are not reported. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* The directory holding `path` ("." when there is no slash), malloc'ed. */
static char *parent_of(const char *path)
{
    char *d = dup_str(path);
    char *slash = d ? strrchr(d, '/') : NULL;

    if (d == NULL)
        return NULL;
    if (slash == NULL)
        strcpy(d, ".");
    else if (slash == d)
        slash[1] = '\0';
    else
        *slash = '\0';
    return d;
}

// ---- writer --------------------------------------------------------------------------------

typedef struct wdoc {
    uint64_t offset; /* bytes into documents.bin */
    uint64_t len;    /* bytes */
    uint64_t key;    /* split rank key */
    uint32_t label;  /* index into labels */
    uint32_t source; /* index into sources */
    char *title;
    uint8_t sha[32];
    uint8_t split;
    bool utf8;
} wdoc;

typedef struct wsource {
    char *s[8];       /* kind, spec, label, path, package, version, via, sha256 */
    size_t n_docs;    /* documents kept */
    uint64_t n_bytes; /* their bytes */
} wsource;

static const char *const source_keys[8] = {"kind",    "spec",    "label", "path",
                                           "package", "version", "via",   "sha256"};

struct cs_corpus_writer {
    char *out; /* final directory */
    char *tmp; /* "<out>.tmp.XXXXXX" */
    bool force;
    FILE *bin;      /* tmp/documents.bin */
    uint64_t total; /* bytes written to documents.bin */
    wdoc *docs;     /* (n_docs) */
    size_t n_docs;
    size_t cap_docs;
    char **labels; /* (n_labels) */
    size_t n_labels;
    wsource *src; /* (n_src) */
    size_t n_src;
    size_t n_empty; /* documents dropped for being empty */
    bool open_doc;  /* a document is being written: docs[n_docs] */
    cs_corpus_sha256 sha;
    utf8_state u8;
    bool u8_ok;
};

/* Refuses an existing `out` unless forced and a corpus directory. */
static int check_out(const char *out, bool force)
{
    struct stat sb;

    if (lstat(out, &sb) != 0) {
        if (errno == ENOENT)
            return CS_OK;
        return cs_fail(CS_EINPUT, "%s: %s", out, strerror(errno));
    }
    if (!force)
        return cs_fail(CS_EINPUT, "%s: exists; use --force to replace it", out);
    if (!S_ISDIR(sb.st_mode) || !is_corpus_dir(out))
        return cs_fail(CS_EINPUT,
                       "%s: exists and is not a corpus directory; --force replaces only a "
                       "corpus (documents.bin, index.tsv, manifest.json), remove it yourself",
                       out);
    return CS_OK;
}

/* Creates the temporary directory and documents.bin in it. */
static int make_tmp(cs_corpus_writer *w)
{
    size_t n = strlen(w->out) + sizeof ".tmp.XXXXXX";
    mode_t mask;
    char *bin;

    w->tmp = malloc(n);
    if (w->tmp == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory", w->out);
    snprintf(w->tmp, n, "%s.tmp.XXXXXX", w->out);
    if (mkdtemp(w->tmp) == NULL) {
        int err = errno;

        free(w->tmp);
        w->tmp = NULL;
        return cs_fail(err == ENOENT || err == ENOTDIR ? CS_EINPUT : CS_EIO,
                       "%s: cannot create a directory beside it: %s", w->out, strerror(err));
    }
    mask = umask(022); /* mkdtemp makes 0700; the corpus gets what mkdir would give it */
    umask(mask);
    chmod(w->tmp, 0777 & ~mask);
    bin = join(w->tmp, F_DOCS);
    if (bin == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory", w->out);
    w->bin = fopen(bin, "wb");
    free(bin);
    if (w->bin == NULL)
        return cs_fail(CS_EIO, "%s/%s: %s", w->tmp, F_DOCS, strerror(errno));
    return CS_OK;
}

int cs_corpus_writer_open(const char *out, bool force, cs_corpus_writer **wp)
{
    cs_corpus_writer *w;
    size_t n;
    int st;

    *wp = NULL;
    if (out == NULL || out[0] == '\0')
        return cs_fail(CS_EINPUT, "output directory: expected a path, got \"\"");
    w = calloc(1, sizeof *w);
    if (w == NULL || (w->out = dup_str(out)) == NULL) {
        free(w);
        return cs_fail(CS_ENOMEM, "%s: out of memory", out);
    }
    for (n = strlen(w->out); n > 1 && w->out[n - 1] == '/'; n--)
        w->out[n - 1] = '\0';
    w->force = force;
    st = check_out(w->out, force);
    if (st == CS_OK)
        st = make_tmp(w);
    if (st) {
        cs_corpus_writer_abort(w);
        return st;
    }
    *wp = w;
    return CS_OK;
}

/* Index of `label` in w->labels, adding it when new. */
static int intern_label(cs_corpus_writer *w, const char *label, uint32_t *idx)
{
    size_t i;
    char **l;

    if (!cs_corpus_label_is_valid(label))
        return label_error(label);
    for (i = w->n_labels; i-- > 0;)
        if (strcmp(w->labels[i], label) == 0) {
            *idx = (uint32_t)i;
            return CS_OK;
        }
    if (w->n_labels >= MAX_LABELS)
        return cs_fail(CS_EINPUT, "label \"%s\": more than %d distinct labels", label, MAX_LABELS);
    l = realloc(w->labels, (w->n_labels + 1) * sizeof *l);
    if (l == NULL)
        return cs_fail(CS_ENOMEM, "out of memory adding label \"%s\"", label);
    w->labels = l;
    l[w->n_labels] = dup_str(label);
    if (l[w->n_labels] == NULL)
        return cs_fail(CS_ENOMEM, "out of memory adding label \"%s\"", label);
    *idx = (uint32_t)w->n_labels++;
    return CS_OK;
}

int cs_corpus_writer_add_source(cs_corpus_writer *w, const cs_corpus_source *src, size_t *id)
{
    const char *v[8];
    wsource *s;
    uint32_t li;
    size_t i;
    int st;

    if (src == NULL || src->kind == NULL || src->spec == NULL || w->n_src >= UINT32_MAX)
        return cs_fail(CS_EINVAL, "corpus source: kind and spec are required");
    st = intern_label(w, src->label, &li);
    if (st)
        return st;
    s = realloc(w->src, (w->n_src + 1) * sizeof *s);
    if (s == NULL)
        return cs_fail(CS_ENOMEM, "out of memory adding source %s", src->spec);
    w->src = s;
    s = &w->src[w->n_src];
    memset(s, 0, sizeof *s);
    v[0] = src->kind, v[1] = src->spec, v[2] = src->label, v[3] = src->path;
    v[4] = src->package, v[5] = src->version, v[6] = src->via, v[7] = src->sha256;
    w->n_src++; /* counted before the copies, so that abort frees them */
    for (i = 0; i < 8; i++)
        if (v[i] != NULL && (s->s[i] = dup_str(v[i])) == NULL)
            return cs_fail(CS_ENOMEM, "out of memory adding source %s", src->spec);
    *id = w->n_src - 1;
    return CS_OK;
}

int cs_corpus_writer_source_checksum(cs_corpus_writer *w, size_t id, const char *sha256)
{
    char *d;

    if (id >= w->n_src || sha256 == NULL || strlen(sha256) != 64 ||
        strspn(sha256, "0123456789abcdef") != 64)
        return cs_fail(CS_EINVAL, "corpus writer: source %zu: bad checksum", id);
    d = dup_str(sha256);
    if (d == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    free(w->src[id].s[7]);
    w->src[id].s[7] = d;
    return CS_OK;
}

int cs_corpus_writer_begin(cs_corpus_writer *w, size_t source, const char *label, const char *title)
{
    wdoc *d;
    uint32_t li;
    int st;

    if (w->open_doc || source >= w->n_src || title == NULL)
        return cs_fail(CS_EINVAL, "corpus writer: begin with a document open, an unknown "
                                  "source or no title");
    st = intern_label(w, label ? label : w->src[source].s[2], &li);
    if (st)
        return st;
    if (w->n_docs == w->cap_docs) {
        size_t cap = w->cap_docs ? 2 * w->cap_docs : 256;

        d = realloc(w->docs, cap * sizeof *d);
        if (d == NULL)
            return cs_fail(CS_ENOMEM, "out of memory adding document \"%.200s\"", title);
        w->docs = d;
        w->cap_docs = cap;
    }
    d = &w->docs[w->n_docs];
    memset(d, 0, sizeof *d);
    d->title = dup_str(title);
    if (d->title == NULL)
        return cs_fail(CS_ENOMEM, "out of memory adding document \"%.200s\"", title);
    d->offset = w->total;
    d->label = li;
    d->source = (uint32_t)source;
    cs_corpus_sha256_init(&w->sha);
    w->u8 = (utf8_state){0, 0x80, 0xBF};
    w->u8_ok = true;
    w->open_doc = true;
    return CS_OK;
}

int cs_corpus_writer_write(cs_corpus_writer *w, const void *bytes, size_t n)
{
    const uint8_t *p = bytes;
    size_t i;

    if (!w->open_doc)
        return cs_fail(CS_EINVAL, "corpus writer: write with no document open");
    if (n == 0)
        return CS_OK;
    if (fwrite(bytes, 1, n, w->bin) != n)
        return cs_fail(CS_EIO, "%s/%s: write failed: %s", w->tmp, F_DOCS, strerror(errno));
    cs_corpus_sha256_update(&w->sha, bytes, n);
    for (i = 0; i < n && w->u8_ok; i++)
        w->u8_ok = utf8_step(&w->u8, p[i]);
    w->docs[w->n_docs].len += n;
    w->total += n;
    return CS_OK;
}

int cs_corpus_writer_end(cs_corpus_writer *w, bool *kept)
{
    wdoc *d;

    if (!w->open_doc)
        return cs_fail(CS_EINVAL, "corpus writer: end with no document open");
    w->open_doc = false;
    d = &w->docs[w->n_docs];
    if (kept)
        *kept = d->len > 0;
    if (d->len == 0) {
        free(d->title);
        w->n_empty++;
        return CS_OK;
    }
    cs_corpus_sha256_final(&w->sha, d->sha);
    d->utf8 = w->u8_ok && w->u8.need == 0;
    w->src[d->source].n_docs++;
    w->src[d->source].n_bytes += d->len;
    w->n_docs++;
    return CS_OK;
}

int cs_corpus_writer_add(cs_corpus_writer *w, size_t source, const char *label, const char *title,
                         const void *bytes, size_t n, bool *kept)
{
    int st = cs_corpus_writer_begin(w, source, label, title);

    if (st)
        return st;
    st = cs_corpus_writer_write(w, bytes, n);
    if (st) {
        free(w->docs[w->n_docs].title);
        w->open_doc = false;
        return st;
    }
    return cs_corpus_writer_end(w, kept);
}

size_t cs_corpus_writer_count(const cs_corpus_writer *w)
{
    return w->n_docs;
}

size_t cs_corpus_writer_source_count(const cs_corpus_writer *w, size_t source)
{
    return source < w->n_src ? w->src[source].n_docs : 0;
}

void cs_corpus_writer_abort(cs_corpus_writer *w)
{
    size_t i;
    size_t k;

    if (w == NULL)
        return;
    if (w->bin)
        fclose(w->bin);
    if (w->tmp)
        remove_corpus_dir(w->tmp);
    if (w->open_doc)
        free(w->docs[w->n_docs].title);
    for (i = 0; i < w->n_docs; i++)
        free(w->docs[i].title);
    for (i = 0; i < w->n_labels; i++)
        free(w->labels[i]);
    for (i = 0; i < w->n_src; i++)
        for (k = 0; k < 8; k++)
            free(w->src[i].s[k]);
    free(w->docs);
    free(w->labels);
    free(w->src);
    free(w->tmp);
    free(w->out);
    free(w);
}

cs_corpus_params cs_corpus_default_params(void)
{
    cs_corpus_params p;

    p.name = "corpus";
    p.val_frac = 0.05;
    p.seed = 0;
    p.created = 0;
    return p;
}

// ---- the split -----------------------------------------------------------------------------

typedef struct rank {
    uint32_t label;
    uint64_t key;
    size_t id;
} rank;

/* Orders by label, then key, then id. */
static int cmp_rank(const void *a, const void *b)
{
    const rank *x = a;
    const rank *y = b;

    if (x->label != y->label)
        return x->label < y->label ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* First 8 bytes of SHA-256(seed as 8 little-endian bytes, label, NUL, title). */
static uint64_t split_key(uint64_t seed, const char *label, const char *title)
{
    cs_corpus_sha256 s;
    uint8_t seedb[8];
    uint8_t h[32];
    uint64_t k = 0;
    size_t i;

    for (i = 0; i < 8; i++)
        seedb[i] = (uint8_t)(seed >> (8 * i));
    cs_corpus_sha256_init(&s);
    cs_corpus_sha256_update(&s, seedb, 8);
    cs_corpus_sha256_update(&s, label, strlen(label) + 1);
    cs_corpus_sha256_update(&s, title, strlen(title));
    cs_corpus_sha256_final(&s, h);
    for (i = 0; i < 8; i++)
        k = k << 8 | h[i];
    return k;
}

/* Marks the first round(frac x n) of the n ranked documents r (one label) as val, never all of
 * them; returns how many. */
static size_t split_group(cs_corpus_writer *w, const rank *r, size_t n, double frac)
{
    size_t k = (size_t)floor(frac * (double)n + 0.5);
    size_t i;

    if (k > n - 1)
        k = n - 1;
    for (i = 0; i < k; i++)
        w->docs[r[i].id].split = CS_CORPUS_VAL;
    return k;
}

static int assign_splits(cs_corpus_writer *w, const cs_corpus_params *p)
{
    rank *r = malloc(w->n_docs * sizeof *r);
    size_t n_val = 0;
    size_t lowest = 0;
    size_t i;
    size_t j;

    if (r == NULL)
        return cs_fail(CS_ENOMEM, "out of memory splitting %zu documents", w->n_docs);
    for (i = 0; i < w->n_docs; i++) {
        wdoc *d = &w->docs[i];

        d->key = split_key(p->seed, w->labels[d->label], d->title);
        d->split = CS_CORPUS_TRAIN;
        r[i] = (rank){d->label, d->key, i};
        if (d->key < w->docs[lowest].key)
            lowest = i;
    }
    qsort(r, w->n_docs, sizeof *r, cmp_rank);
    for (i = 0; i < w->n_docs; i = j) {
        for (j = i + 1; j < w->n_docs && r[j].label == r[i].label;)
            j++;
        n_val += split_group(w, r + i, j - i, p->val_frac);
    }
    if (n_val == 0 && w->n_docs >= 2 && p->val_frac > 0)
        w->docs[lowest].split = CS_CORPUS_VAL;
    free(r);
    return CS_OK;
}

// ---- index.tsv and manifest.json -----------------------------------------------------------

/* Writes s to f with \\ \t \n \r and other control bytes escaped (\xNN), hashing what is
 * written. */
static void put_escaped(FILE *f, cs_corpus_sha256 *h, const char *s)
{
    char buf[8];

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        size_t n = 1;

        buf[0] = (char)c;
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            buf[1] = c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
            buf[0] = '\\';
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            n = (size_t)snprintf(buf, sizeof buf, "\\x%02x", c);
        }
        fwrite(buf, 1, n, f);
        cs_corpus_sha256_update(h, buf, n);
    }
}

/* Writes one row of the index (everything up to the title) and hashes it. */
static void put_row(FILE *f, cs_corpus_sha256 *h, const cs_corpus_writer *w, size_t i)
{
    const wdoc *d = &w->docs[i];
    char hex[65];
    char row[512];
    int n;

    cs_corpus_hex(d->sha, 32, hex);
    n = snprintf(row, sizeof row, "%zu\t%s\t%s\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t%d\t%s\t", i,
                 split_names[d->split], w->labels[d->label], d->source, d->offset, d->len,
                 d->utf8 ? 1 : 0, hex);
    fwrite(row, 1, (size_t)n, f);
    cs_corpus_sha256_update(h, row, (size_t)n);
    put_escaped(f, h, d->title);
    fputc('\n', f);
    cs_corpus_sha256_update(h, "\n", 1);
}

/* Flushes, fsyncs and closes f, which wrote tmp/name. */
static int close_synced(FILE *f, const char *tmp, const char *name)
{
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int err = errno;

    if (fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (bad)
        return cs_fail(CS_EIO, "%s/%s: write failed: %s", tmp, name, strerror(err));
    return CS_OK;
}

/* Opens tmp/name for writing. */
static int open_in_tmp(const cs_corpus_writer *w, const char *name, FILE **f)
{
    char *p = join(w->tmp, name);

    if (p == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    *f = fopen(p, "wb");
    free(p);
    if (*f == NULL)
        return cs_fail(CS_EIO, "%s/%s: %s", w->tmp, name, strerror(errno));
    return CS_OK;
}

/* Writes index.tsv; hex gets its SHA-256. */
static int write_index(const cs_corpus_writer *w, char hex[65])
{
    cs_corpus_sha256 h;
    uint8_t sum[32];
    FILE *f;
    size_t i;
    int st = open_in_tmp(w, F_INDEX, &f);

    if (st)
        return st;
    cs_corpus_sha256_init(&h);
    fputs(INDEX_HEADER, f);
    cs_corpus_sha256_update(&h, INDEX_HEADER, strlen(INDEX_HEADER));
    for (i = 0; i < w->n_docs; i++)
        put_row(f, &h, w, i);
    cs_corpus_sha256_final(&h, sum);
    cs_corpus_hex(sum, 32, hex);
    return close_synced(f, w->tmp, F_INDEX);
}

/* Sets key to a new value, keeping going when v is NULL (the final check catches ENOMEM). */
static void jset(json_t *o, const char *key, json_t *v, int *bad)
{
    if (v == NULL || json_object_set_new(o, key, v) != 0)
        *bad = 1;
}

static json_t *json_sources(const cs_corpus_writer *w, int *bad)
{
    json_t *a = json_array();
    size_t i;
    size_t k;

    for (i = 0; a && i < w->n_src; i++) {
        json_t *o = json_object();

        if (o == NULL || json_array_append_new(a, o) != 0) {
            *bad = 1;
            break;
        }
        jset(o, "id", json_integer((json_int_t)i), bad);
        for (k = 0; k < 8; k++)
            if (w->src[i].s[k])
                jset(o, source_keys[k], json_text(w->src[i].s[k]), bad);
        jset(o, "documents", json_integer((json_int_t)w->src[i].n_docs), bad);
        jset(o, "bytes", json_integer((json_int_t)w->src[i].n_bytes), bad);
    }
    if (a == NULL)
        *bad = 1;
    return a;
}

/* Per-label counts: documents, train, val, bytes. */
static json_t *json_labels(const cs_corpus_writer *w, int *bad)
{
    json_int_t(*c)[3] = calloc(w->n_labels, sizeof *c); /* train, val, bytes per label */
    json_t *a = json_array();
    size_t l;
    size_t i;

    for (i = 0; c && i < w->n_docs; i++) {
        c[w->docs[i].label][w->docs[i].split]++;
        c[w->docs[i].label][2] += (json_int_t)w->docs[i].len;
    }
    for (l = 0; a && c && l < w->n_labels; l++) {
        json_t *o;

        if (c[l][0] + c[l][1] == 0)
            continue; /* a source label none of whose documents was kept */
        o = json_object();
        if (o == NULL || json_array_append_new(a, o) != 0) {
            *bad = 1;
            break;
        }
        jset(o, "label", json_string(w->labels[l]), bad);
        jset(o, "documents", json_integer(c[l][0] + c[l][1]), bad);
        jset(o, "train", json_integer(c[l][0]), bad);
        jset(o, "val", json_integer(c[l][1]), bad);
        jset(o, "bytes", json_integer(c[l][2]), bad);
    }
    if (a == NULL || c == NULL)
        *bad = 1;
    free(c);
    return a;
}

static json_t *json_counts(const cs_corpus_writer *w, int *bad)
{
    json_int_t c[2] = {0, 0};
    json_int_t b[2] = {0, 0};
    json_int_t bad_utf8 = 0;
    json_t *o = json_object();
    size_t i;

    for (i = 0; i < w->n_docs; i++) {
        c[w->docs[i].split]++;
        b[w->docs[i].split] += (json_int_t)w->docs[i].len;
        bad_utf8 += !w->docs[i].utf8;
    }
    if (o == NULL) {
        *bad = 1;
        return NULL;
    }
    jset(o, "documents", json_integer((json_int_t)w->n_docs), bad);
    jset(o, "train", json_integer(c[0]), bad);
    jset(o, "val", json_integer(c[1]), bad);
    jset(o, "bytes", json_integer(b[0] + b[1]), bad);
    jset(o, "bytes_train", json_integer(b[0]), bad);
    jset(o, "bytes_val", json_integer(b[1]), bad);
    jset(o, "invalid_utf8", json_integer(bad_utf8), bad);
    jset(o, "skipped_empty", json_integer((json_int_t)w->n_empty), bad);
    return o;
}

/* "2025-01-31T12:00:00Z" for t (0 = now). */
static void iso_time(time_t t, char buf[32])
{
    struct tm tm;

    if (t == 0)
        t = time(NULL);
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *build_manifest(const cs_corpus_writer *w, const cs_corpus_params *p,
                              const char *index_sum)
{
    json_t *m = json_object();
    json_t *split = json_object();
    char when[32];
    char tool[160];
    int bad = m == NULL || split == NULL;

    iso_time(p->created, when);
    snprintf(tool, sizeof tool, "ctxscale %s (git %s)", cs_version_string(),
             cs_version_git_revision());
    if (!bad) {
        jset(m, "format", json_string(FORMAT_NAME), &bad);
        jset(m, "format_version", json_integer(CS_CORPUS_FORMAT_VERSION), &bad);
        jset(m, "name", json_text(p->name ? p->name : "corpus"), &bad);
        jset(m, "created", json_string(when), &bad);
        jset(m, "tool", json_string(tool), &bad);
        jset(m, "checksum", json_string(index_sum), &bad);
        jset(split, "method", json_string("per label: rank by sha256(seed, label, title)"), &bad);
        jset(split, "val_frac", json_real(p->val_frac), &bad);
        jset(split, "seed", json_integer((json_int_t)p->seed), &bad);
        json_object_set(m, "split", split);
        jset(m, "counts", json_counts(w, &bad), &bad);
        jset(m, "labels", json_labels(w, &bad), &bad);
        jset(m, "sources", json_sources(w, &bad), &bad);
    }
    json_decref(split);
    if (bad) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static int write_manifest(const cs_corpus_writer *w, const cs_corpus_params *p,
                          const char *index_sum)
{
    json_t *m = build_manifest(w, p, index_sum);
    FILE *f;
    int st;

    if (m == NULL)
        return cs_fail(CS_ENOMEM, "out of memory building %s", F_MANIFEST);
    st = open_in_tmp(w, F_MANIFEST, &f);
    if (st) {
        json_decref(m);
        return st;
    }
    json_dumpf(m, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    fputc('\n', f);
    json_decref(m);
    return close_synced(f, w->tmp, F_MANIFEST);
}

// ---- commit --------------------------------------------------------------------------------

/* rename(from, to) that fails with EEXIST instead of replacing `to` (an empty directory would
 * otherwise be replaced silently). */
static int rename_noreplace(const char *from, const char *to)
{
    struct stat sb;

    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (lstat(to, &sb) == 0) { /* file system without RENAME_NOREPLACE: check, then rename */
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

/* Replaces the corpus at w->out by w->tmp: the old one is moved aside, the new one renamed in,
 * and only then is the old one removed (it is put back when the second rename fails). */
static int replace_old(cs_corpus_writer *w)
{
    size_t n = strlen(w->out) + sizeof ".old.XXXXXX";
    char *old = malloc(n);
    int st = CS_OK;

    if (old == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory", w->out);
    snprintf(old, n, "%s.old.XXXXXX", w->out);
    if (!is_corpus_dir(w->out)) {
        st = cs_fail(CS_EINPUT, "%s: exists and is not a corpus directory; not replaced", w->out);
        goto out_free_old;
    }
    if (mkdtemp(old) == NULL) {
        st = cs_fail(CS_EIO, "%s: cannot move the old corpus aside: %s", w->out, strerror(errno));
        goto out_free_old;
    }
    if (rename(w->out, old) != 0) { /* replaces the empty directory mkdtemp made */
        st = cs_fail(CS_EIO, "%s: cannot move the old corpus aside: %s", w->out, strerror(errno));
        rmdir(old);
        goto out_free_old;
    }
    if (rename(w->tmp, w->out) != 0) {
        st =
            cs_fail(CS_EIO, "%s: cannot rename %s into place: %s", w->out, w->tmp, strerror(errno));
        rename(old, w->out);
        goto out_free_old;
    }
    remove_corpus_dir(old);
out_free_old:
    free(old);
    return st;
}

static int move_into_place(cs_corpus_writer *w)
{
    char *parent;
    int st;

    sync_dir(w->tmp);
    if (rename_noreplace(w->tmp, w->out) != 0) {
        if (errno != EEXIST && errno != ENOTEMPTY)
            return cs_fail(CS_EIO, "%s: cannot rename %s into place: %s", w->out, w->tmp,
                           strerror(errno));
        if (!w->force)
            return cs_fail(CS_EINPUT,
                           "%s: appeared while the corpus was built; use --force to "
                           "replace it",
                           w->out);
        st = replace_old(w);
        if (st)
            return st;
    }
    parent = parent_of(w->out);
    if (parent)
        sync_dir(parent);
    free(parent);
    return CS_OK;
}

int cs_corpus_writer_commit(cs_corpus_writer *w, const cs_corpus_params *p)
{
    char index_sum[65];
    FILE *bin;
    int st;

    if (w->open_doc)
        st = cs_fail(CS_EINVAL, "corpus writer: commit with a document open");
    else if (!(p->val_frac >= 0 && p->val_frac < 1))
        st = cs_fail(CS_EINPUT, "validation fraction %g: expected 0 <= f < 1", p->val_frac);
    else if (w->n_docs == 0)
        st = cs_fail(CS_EINPUT, "no documents: every source was empty");
    else {
        bin = w->bin;
        w->bin = NULL;
        st = close_synced(bin, w->tmp, F_DOCS);
    }
    if (st == CS_OK)
        st = assign_splits(w, p);
    if (st == CS_OK)
        st = write_index(w, index_sum);
    if (st == CS_OK)
        st = write_manifest(w, p, index_sum);
    if (st == CS_OK)
        st = move_into_place(w);
    if (st == CS_OK) {
        free(w->tmp); /* renamed away: abort must not remove it */
        w->tmp = NULL;
    }
    cs_corpus_writer_abort(w);
    return st;
}

// ---- reader --------------------------------------------------------------------------------

typedef struct rdoc {
    uint64_t offset; /* bytes into documents.bin */
    uint64_t len;    /* bytes */
    char *title;
    uint32_t label;  /* index into labels */
    uint32_t source; /* index into the manifest's sources */
    uint8_t split;
    bool utf8;
    char sha[65];
} rdoc;

struct cs_corpus {
    char *dir;
    char *name;
    char checksum[65]; /* manifest "checksum" = SHA-256 of index.tsv */
    size_t n_sources;  /* entries of the manifest's sources */
    size_t n_manifest; /* manifest counts.documents */
    rdoc *docs;        /* (n) */
    size_t n;
    char **labels; /* (n_labels) */
    size_t n_labels;
    size_t n_split[2];
    uint64_t bytes;
    uint8_t *map; /* documents.bin, (bytes) */
};

/* Reads a whole file into a NUL-terminated buffer. ENOENT is CS_EINPUT ("not a corpus"). */
static int read_all(const char *dir, const char *name, char **buf, size_t *len)
{
    char *path = join(dir, name);
    FILE *f = path ? fopen(path, "rb") : NULL;
    size_t cap = 1 << 16;
    size_t n = 0;
    char *b = NULL;
    int st = CS_OK;

    if (path == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    if (f == NULL) {
        st = cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO, "%s: %s%s", path, strerror(errno),
                     errno == ENOENT ? " (not a corpus directory?)" : "");
        goto out_free_path;
    }
    for (;;) {
        char *nb = n + 1 >= cap || b == NULL ? realloc(b, cap *= 2) : b;

        if (nb == NULL) {
            st = cs_fail(CS_ENOMEM, "%s: out of memory", path);
            break;
        }
        b = nb;
        n += fread(b + n, 1, cap - n - 1, f);
        if (ferror(f)) {
            st = cs_fail(CS_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        if (feof(f))
            break;
    }
    fclose(f);
    if (st == CS_OK) {
        b[n] = '\0';
        *buf = b;
        *len = n;
    } else
        free(b);
out_free_path:
    free(path);
    return st;
}

static int bad_manifest(const cs_corpus *c, const char *what)
{
    return cs_fail(CS_EINPUT, "%s/%s: %s", c->dir, F_MANIFEST, what);
}

static int read_manifest(cs_corpus *c)
{
    json_error_t je;
    json_t *m;
    json_t *v;
    char *text;
    size_t len;
    int st = read_all(c->dir, F_MANIFEST, &text, &len);

    if (st)
        return st;
    m = json_loadb(text, len, 0, &je);
    free(text);
    if (m == NULL)
        return cs_fail(CS_EINPUT, "%s/%s:%d: %s", c->dir, F_MANIFEST, je.line, je.text);
    v = json_object_get(m, "format");
    if (!json_is_string(v) || strcmp(json_string_value(v), FORMAT_NAME) != 0)
        st = bad_manifest(c, "\"format\": expected \"" FORMAT_NAME "\"");
    else if (json_integer_value(json_object_get(m, "format_version")) != CS_CORPUS_FORMAT_VERSION)
        st = cs_fail(CS_EINPUT, "%s/%s: \"format_version\": expected %d", c->dir, F_MANIFEST,
                     CS_CORPUS_FORMAT_VERSION);
    else if (!json_is_string(json_object_get(m, "name")) ||
             !json_is_array(json_object_get(m, "sources")) ||
             !json_is_integer(json_object_get(json_object_get(m, "counts"), "documents")))
        st = bad_manifest(c, "expected \"name\", \"sources\" and \"counts\".\"documents\"");
    else if (!json_is_string(v = json_object_get(m, "checksum")) ||
             strlen(json_string_value(v)) != 64)
        st = bad_manifest(c, "\"checksum\": expected 64 hex digits");
    if (st == CS_OK) {
        memcpy(c->checksum, json_string_value(v), 65);
        c->n_sources = json_array_size(json_object_get(m, "sources"));
        c->n_manifest =
            (size_t)json_integer_value(json_object_get(json_object_get(m, "counts"), "documents"));
        c->name = dup_str(json_string_value(json_object_get(m, "name")));
        if (c->name == NULL)
            st = cs_fail(CS_ENOMEM, "out of memory");
    }
    json_decref(m);
    return st;
}

/* Undoes put_escaped in place. false on a bad escape. */
static bool unescape(char *s)
{
    char *o = s;

    for (; *s; s++) {
        unsigned v;

        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        s++;
        if (*s == '\\' || *s == 't' || *s == 'n' || *s == 'r')
            *o++ = *s == '\\' ? '\\' : *s == 't' ? '\t' : *s == 'n' ? '\n' : '\r';
        else if (*s == 'x' && strspn(s + 1, "0123456789abcdef") >= 2 &&
                 sscanf(s + 1, "%2x", &v) == 1 && v > 0) {
            *o++ = (char)v;
            s += 2;
        } else
            return false;
    }
    *o = '\0';
    return true;
}

static int find_label(cs_corpus *c, const char *label, uint32_t *idx)
{
    size_t i;
    char **l;

    for (i = c->n_labels; i-- > 0;)
        if (strcmp(c->labels[i], label) == 0) {
            *idx = (uint32_t)i;
            return CS_OK;
        }
    l = realloc(c->labels, (c->n_labels + 1) * sizeof *l);
    if (l == NULL || (l[c->n_labels] = dup_str(label)) == NULL) {
        if (l)
            c->labels = l;
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    c->labels = l;
    *idx = (uint32_t)c->n_labels++;
    return CS_OK;
}

/* A whole-number column of index.tsv. */
static int index_count(const cs_corpus *c, size_t line, const char *col, const char *s, uint64_t *v)
{
    char what[160];
    int64_t x;

    snprintf(what, sizeof what, "%s/%s:%zu: column \"%s\"", c->dir, F_INDEX, line, col);
    if (s[0] < '0' || s[0] > '9' || strspn(s, "0123456789") != strlen(s))
        return cs_fail(CS_EINPUT, "%s: expected a whole number, got \"%.40s\"", what, s);
    if (cs_parse_count(s, &x, what))
        return CS_EINPUT;
    *v = (uint64_t)x;
    return CS_OK;
}

static int bad_row(const cs_corpus *c, size_t line, const char *col, const char *expect,
                   const char *got)
{
    return cs_fail(CS_EINPUT, "%s/%s:%zu: column \"%s\": expected %s, got \"%.80s\"", c->dir,
                   F_INDEX, line, col, expect, got);
}

/* Checks and stores the string columns of a row: split, label, utf8, sha256, title. */
static int row_strings(cs_corpus *c, size_t line, char **f, rdoc *d)
{
    int st;

    if (strcmp(f[1], "train") != 0 && strcmp(f[1], "val") != 0)
        return bad_row(c, line, "split", "train or val", f[1]);
    d->split = strcmp(f[1], "val") == 0;
    if (!cs_corpus_label_is_valid(f[2]))
        return bad_row(c, line, "label", "a label", f[2]);
    st = find_label(c, f[2], &d->label);
    if (st)
        return st;
    if (strcmp(f[6], "0") != 0 && strcmp(f[6], "1") != 0)
        return bad_row(c, line, "utf8", "0 or 1", f[6]);
    d->utf8 = f[6][0] == '1';
    if (strlen(f[7]) != 64 || strspn(f[7], "0123456789abcdef") != 64)
        return bad_row(c, line, "sha256", "64 lowercase hex digits", f[7]);
    memcpy(d->sha, f[7], 65);
    if (!unescape(f[8]))
        return bad_row(c, line, "title", "\\\\, \\t, \\n, \\r or \\xNN escapes", f[8]);
    d->title = dup_str(f[8]);
    return d->title ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");
}

/* Parses row `line` (text without its newline) into d, the document number `id`. */
static int parse_row(cs_corpus *c, size_t line, char *text, size_t id, rdoc *d)
{
    char *f[9];
    uint64_t v[4];
    size_t k = 0;
    int st = CS_OK;

    f[k++] = text;
    for (; *text && k < 9; text++)
        if (*text == '\t') {
            *text = '\0';
            f[k++] = text + 1;
        }
    if (k != 9 || strchr(f[8], '\t'))
        return cs_fail(CS_EINPUT, "%s/%s:%zu: expected 9 tab-separated columns", c->dir, F_INDEX,
                       line);
    st = index_count(c, line, "id", f[0], &v[0]);
    st = st ? st : index_count(c, line, "source", f[3], &v[1]);
    st = st ? st : index_count(c, line, "offset", f[4], &v[2]);
    st = st ? st : index_count(c, line, "length", f[5], &v[3]);
    if (st)
        return st;
    if (v[0] != id)
        return cs_fail(CS_EINPUT, "%s/%s:%zu: column \"id\": expected %zu, got %s", c->dir, F_INDEX,
                       line, id, f[0]);
    if (v[1] >= c->n_sources)
        return cs_fail(CS_EINPUT,
                       "%s/%s:%zu: column \"source\": %s is not one of the %zu "
                       "sources of the manifest",
                       c->dir, F_INDEX, line, f[3], c->n_sources);
    if (v[2] != c->bytes)
        return cs_fail(CS_EINPUT,
                       "%s/%s:%zu: column \"offset\": expected %" PRIu64
                       " (the end of the previous document), got %s",
                       c->dir, F_INDEX, line, c->bytes, f[4]);
    d->source = (uint32_t)v[1];
    d->offset = v[2];
    d->len = v[3];
    c->bytes += v[3];
    return row_strings(c, line, f, d);
}

static int read_index(cs_corpus *c)
{
    char *text;
    char *p;
    size_t len;
    size_t line;
    uint8_t sum[32];
    char hex[65];
    int st = read_all(c->dir, F_INDEX, &text, &len);

    if (st)
        return st;
    cs_corpus_sha256_bytes(text, len, sum);
    cs_corpus_hex(sum, 32, hex);
    if (strcmp(hex, c->checksum) != 0)
        st = cs_fail(CS_EINPUT,
                     "%s/%s: SHA-256 %s differs from the manifest's checksum %s: the "
                     "index was changed or belongs to another corpus",
                     c->dir, F_INDEX, hex, c->checksum);
    else if (strncmp(text, INDEX_HEADER, strlen(INDEX_HEADER)) != 0)
        st = cs_fail(CS_EINPUT, "%s/%s:1: expected the header line \"id\\tsplit\\t...\\ttitle\"",
                     c->dir, F_INDEX);
    else if (c->n_manifest > len)
        st = bad_manifest(c, "\"counts\".\"documents\" is larger than the index");
    if (st == CS_OK && (c->docs = calloc(c->n_manifest + 1, sizeof *c->docs)) == NULL)
        st = cs_fail(CS_ENOMEM, "out of memory");
    p = text + strlen(INDEX_HEADER);
    for (line = 2; st == CS_OK && *p; line++) {
        char *nl = strchr(p, '\n');

        if (nl == NULL)
            st =
                cs_fail(CS_EINPUT, "%s/%s:%zu: last line lacks its newline", c->dir, F_INDEX, line);
        else if (c->n == c->n_manifest)
            st = cs_fail(CS_EINPUT, "%s/%s:%zu: more rows than the manifest's %zu documents",
                         c->dir, F_INDEX, line, c->n_manifest);
        else {
            *nl = '\0';
            st = parse_row(c, line, p, c->n, &c->docs[c->n]);
            if (st == CS_OK) /* a failed row owns no title: row_strings sets it last */
                c->n++;
            p = nl + 1;
        }
    }
    if (st == CS_OK && c->n != c->n_manifest)
        st = cs_fail(CS_EINPUT, "%s/%s: %zu rows; the manifest counts %zu documents", c->dir,
                     F_INDEX, c->n, c->n_manifest);
    free(text);
    return st;
}

static int map_documents(cs_corpus *c)
{
    char *path = join(c->dir, F_DOCS);
    struct stat sb;
    int fd;
    int st = CS_OK;

    if (path == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
        goto out_close;
    }
    if ((uint64_t)sb.st_size != c->bytes) {
        st = cs_fail(CS_EINPUT,
                     "%s: %" PRIu64 " bytes; index.tsv needs %" PRIu64
                     ": truncated or not this corpus's",
                     path, (uint64_t)sb.st_size, c->bytes);
        goto out_close;
    }
    if (c->bytes > 0) {
        void *m = mmap(NULL, (size_t)c->bytes, PROT_READ, MAP_PRIVATE, fd, 0);

        if (m == MAP_FAILED)
            st = cs_fail(CS_EIO, "%s: cannot map: %s", path, strerror(errno));
        else
            c->map = m;
    }
out_close:
    if (fd >= 0)
        close(fd);
    free(path);
    return st;
}

int cs_corpus_open(const char *dir, cs_corpus **out)
{
    cs_corpus *c = calloc(1, sizeof *c);
    size_t i;
    int st;

    *out = NULL;
    if (c == NULL || (c->dir = dup_str(dir)) == NULL) {
        free(c);
        return cs_fail(CS_ENOMEM, "out of memory opening %s", dir);
    }
    st = read_manifest(c);
    if (st == CS_OK)
        st = read_index(c);
    if (st == CS_OK)
        st = map_documents(c);
    if (st) {
        cs_corpus_close(c);
        return st;
    }
    for (i = 0; i < c->n; i++)
        c->n_split[c->docs[i].split]++;
    *out = c;
    return CS_OK;
}

void cs_corpus_close(cs_corpus *c)
{
    size_t i;

    if (c == NULL)
        return;
    if (c->map)
        munmap(c->map, (size_t)c->bytes);
    for (i = 0; i < c->n; i++)
        free(c->docs[i].title);
    for (i = 0; i < c->n_labels; i++)
        free(c->labels[i]);
    free(c->labels);
    free(c->docs);
    free(c->name);
    free(c->dir);
    free(c);
}

size_t cs_corpus_count(const cs_corpus *c)
{
    return c->n;
}

size_t cs_corpus_count_split(const cs_corpus *c, int split)
{
    return split == CS_CORPUS_TRAIN || split == CS_CORPUS_VAL ? c->n_split[split] : 0;
}

uint64_t cs_corpus_bytes(const cs_corpus *c)
{
    return c->bytes;
}

int cs_corpus_get(const cs_corpus *c, size_t i, cs_corpus_doc *doc)
{
    const rdoc *d;

    if (i >= c->n)
        return cs_fail(CS_EINVAL, "%s: document %zu: the corpus has %zu", c->dir, i, c->n);
    d = &c->docs[i];
    doc->bytes = c->map + d->offset;
    doc->len = (size_t)d->len;
    doc->split = d->split;
    doc->label = c->labels[d->label];
    doc->title = d->title;
    doc->source = d->source;
    doc->utf8 = d->utf8;
    memcpy(doc->sha256, d->sha, sizeof doc->sha256);
    return CS_OK;
}

const char *cs_corpus_name(const cs_corpus *c)
{
    return c->name;
}

const char *cs_corpus_checksum(const cs_corpus *c)
{
    return c->checksum;
}

size_t cs_corpus_n_labels(const cs_corpus *c)
{
    return c->n_labels;
}

const char *cs_corpus_label(const cs_corpus *c, size_t k)
{
    return k < c->n_labels ? c->labels[k] : NULL;
}

int cs_corpus_verify(const cs_corpus *c)
{
    uint8_t sum[32];
    char hex[65];
    size_t i;

    for (i = 0; i < c->n; i++) {
        const rdoc *d = &c->docs[i];

        cs_corpus_sha256_bytes(c->map + d->offset, (size_t)d->len, sum);
        cs_corpus_hex(sum, 32, hex);
        if (strcmp(hex, d->sha) != 0)
            return cs_fail(CS_EINPUT,
                           "%s/%s: document %zu (\"%.200s\"): SHA-256 differs from "
                           "index.tsv",
                           c->dir, F_DOCS, i, d->title);
    }
    return CS_OK;
}
