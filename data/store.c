/* data/store.c: the token store (data/store.h): parallel encoding into per-split token files in
 * a temporary directory, the document index, store.json, the rename into place; and the reader:
 * validation, mmap of tokens.bin, bounds-checked access. Layout: docs/data.md. Test:
 * tests/unit/test_store.c.
 */
#include "data/store.h"

#include "core/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IDX_MAGIC        "CSTOKIDX"
#define IDX_HEADER_BYTES 48
#define IDX_RECORD_BYTES 40
#define ENC_PIECE        ((size_t)1 << 20) /* bytes encoded at once inside one long document */
#define MAX_THREADS      16
#define PATH_CAP         4096

static const char *const store_files[] = {"tokens.bin", "docs.bin", "tokenizer.bpe", "store.json"};
static const char *const split_names[CS_STORE_N_SPLITS] = {"train", "val"};

// ---- small helpers ---------------------------------------------------------------------------

uint64_t cs_store_fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static char *str_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

/* "dir/name" into buf (PATH_CAP); CS_EINPUT when it does not fit. */
static int join(char *buf, const char *dir, const char *name)
{
    int n = snprintf(buf, PATH_CAP, "%s/%s", dir, name);

    if (n < 0 || n >= PATH_CAP)
        return cs_fail(CS_EINPUT, "%s: path too long", dir);
    return CS_OK;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    int i;

    for (i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *cs_store_split_name(int split)
{
    return split >= 0 && split < CS_STORE_N_SPLITS ? split_names[split] : NULL;
}

int cs_store_split_parse(const char *name, int *split, const char *what)
{
    int i;

    for (i = 0; i < CS_STORE_N_SPLITS; i++)
        if (name && strcmp(name, split_names[i]) == 0) {
            *split = i;
            return CS_OK;
        }
    return cs_fail(CS_EINPUT, "%s: expected \"train\" or \"val\", got \"%s\"",
                   what ? what : "split", name ? name : "");
}

// ---- directories -----------------------------------------------------------------------------

static bool is_store_file(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof store_files / sizeof store_files[0]; i++)
        if (strcmp(name, store_files[i]) == 0)
            return true;
    return false;
}

/* CS_OK when `dir` is a directory holding docs.bin and nothing but store files; CS_EINPUT
 * otherwise (so --force never replaces anything that is not a store). */
static int check_is_store(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool has_index = false;
    int st = CS_OK;

    if (d == NULL)
        return cs_fail(CS_EINPUT, "%s: exists and is not a token store directory; not replacing it",
                       dir);
    while (st == CS_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!is_store_file(e->d_name))
            st = cs_fail(CS_EINPUT,
                         "%s: exists and holds \"%s\", so it is not a token store; "
                         "not replacing it",
                         dir, e->d_name);
        has_index |= strcmp(e->d_name, "docs.bin") == 0;
    }
    closedir(d);
    if (st == CS_OK && !has_index)
        st = cs_fail(CS_EINPUT,
                     "%s: exists and has no docs.bin, so it is not a token store; "
                     "not replacing it",
                     dir);
    return st;
}

int cs_store_check_target(const char *dir, bool force)
{
    struct stat sb;

    if (lstat(dir, &sb) != 0)
        return errno == ENOENT ? CS_OK : cs_fail(CS_EIO, "%s: %s", dir, strerror(errno));
    if (!force)
        return cs_fail(CS_EINPUT, "%s: exists; use --force to replace it", dir);
    if (!S_ISDIR(sb.st_mode))
        return cs_fail(CS_EINPUT, "%s: exists and is not a token store directory; not replacing it",
                       dir);
    return check_is_store(dir);
}

/* Removes the store files in dir (and any *.part left by the writer), then dir itself. */
static void remove_store_dir(const char *dir)
{
    char p[PATH_CAP];
    size_t i;

    for (i = 0; i < sizeof store_files / sizeof store_files[0]; i++)
        if (join(p, dir, store_files[i]) == CS_OK)
            unlink(p);
    for (i = 0; i < CS_STORE_N_SPLITS; i++) {
        snprintf(p, sizeof p, "%s/tokens.%s.part", dir, split_names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    int r;

    if (fd < 0)
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    r = fsync(fd);
    close(fd);
    if (r != 0 && errno != EINVAL)
        return cs_fail(CS_EIO, "%s: fsync: %s", path, strerror(errno));
    return CS_OK;
}

// ---- the writer ------------------------------------------------------------------------------

typedef struct doc_list {
    cs_store_doc *d; /* (n); offsets relative to the split's first token until commit */
    size_t n;
    size_t cap;
    uint64_t tokens;
    uint64_t bytes;
} doc_list;

struct cs_store_writer {
    char *dir;     /* final path, trailing slashes removed */
    char *tmp;     /* "<dir>.tmp.XXXXXX" */
    bool tmp_made; /* tmp exists and is ours to remove */
    bool force;
    cs_tok **toks; /* (n_threads) one tokenizer per thread */
    size_t n_threads;
    int token_bytes; /* 2 or 4 */
    size_t vocab;
    FILE *part[CS_STORE_N_SPLITS]; /* tokens of each split */
    doc_list docs[CS_STORE_N_SPLITS];
    char **sources; /* (n_sources) labels in order of first appearance */
    size_t n_sources;
    size_t cap_sources;
    size_t last_source; /* cache for the label lookup */
    uint64_t n_added;   /* documents added so far (corpus_doc of the next) */
    double encode_seconds;
    char *corpus;
    char *corpus_checksum;
    uint8_t *wbuf; /* (WBUF_TOKENS * token_bytes) conversion buffer */
};

#define WBUF_TOKENS ((size_t)1 << 16)

cs_store_write_params cs_store_default_write_params(void)
{
    cs_store_write_params p;

    memset(&p, 0, sizeof p);
    return p;
}

static size_t default_threads(size_t asked)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (asked == 0)
        asked = n > 0 ? (size_t)n : 1;
    return asked > MAX_THREADS ? MAX_THREADS : asked;
}

static int writer_params(cs_store_writer *w, const cs_tok *tok, const cs_store_write_params *p)
{
    w->vocab = cs_tok_vocab(tok);
    w->force = p->force;
    w->n_threads = default_threads(p->n_threads);
    if (p->token_bytes == 0)
        w->token_bytes = w->vocab <= CS_STORE_U16_VOCAB ? 2 : 4;
    else if (p->token_bytes == 2 || p->token_bytes == 4)
        w->token_bytes = p->token_bytes;
    else
        return cs_fail(CS_EINPUT, "token width %d bytes: expected 2 (uint16) or 4 (uint32)",
                       p->token_bytes);
    if (w->token_bytes == 2)
        return cs_tok_check_vocab(w->vocab, CS_STORE_U16_VOCAB, "uint16 token store");
    return CS_OK;
}

static int writer_strings(cs_store_writer *w, const char *dir, const cs_store_write_params *p)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    w->dir = malloc(n + 1);
    w->tmp = malloc(n + 16);
    w->corpus = p->corpus ? str_dup(p->corpus) : NULL;
    w->corpus_checksum = p->corpus_checksum ? str_dup(p->corpus_checksum) : NULL;
    w->wbuf = malloc(WBUF_TOKENS * 4);
    if (!w->dir || !w->tmp || !w->wbuf || (p->corpus && !w->corpus) ||
        (p->corpus_checksum && !w->corpus_checksum))
        return cs_fail(CS_ENOMEM, "out of memory starting token store %s", dir);
    memcpy(w->dir, dir, n);
    w->dir[n] = '\0';
    snprintf(w->tmp, n + 16, "%s.tmp.XXXXXX", w->dir);
    return CS_OK;
}

static int writer_files(cs_store_writer *w)
{
    char p[PATH_CAP];
    int i;

    if (mkdtemp(w->tmp) == NULL) {
        int e = errno;

        return cs_fail(CS_EIO, "%s: cannot create a temporary directory beside it: %s", w->dir,
                       strerror(e));
    }
    w->tmp_made = true;
    for (i = 0; i < CS_STORE_N_SPLITS; i++) {
        snprintf(p, sizeof p, "%s/tokens.%s.part", w->tmp, split_names[i]);
        w->part[i] = fopen(p, "wb");
        if (w->part[i] == NULL)
            return cs_fail(CS_EIO, "%s: %s", p, strerror(errno));
    }
    return CS_OK;
}

static int writer_toks(cs_store_writer *w, const cs_tok *tok)
{
    size_t i;

    w->toks = calloc(w->n_threads, sizeof *w->toks);
    if (w->toks == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for tokenizer copies");
    for (i = 0; i < w->n_threads; i++) {
        w->toks[i] = cs_tok_dup(tok);
        if (w->toks[i] == NULL)
            return cs_fail(CS_ENOMEM, "out of memory for tokenizer copies");
    }
    return CS_OK;
}

int cs_store_writer_open(const char *dir, const cs_tok *tok, const cs_store_write_params *p,
                         cs_store_writer **out)
{
    cs_store_write_params def = cs_store_default_write_params();
    cs_store_writer *w;
    int st;

    if (dir == NULL || tok == NULL || out == NULL || *dir == '\0')
        return cs_fail(CS_EINVAL, "cs_store_writer_open: NULL or empty argument");
    *out = NULL;
    w = calloc(1, sizeof *w);
    if (w == NULL)
        return cs_fail(CS_ENOMEM, "out of memory starting token store %s", dir);
    st = writer_params(w, tok, p ? p : &def);
    if (st == CS_OK)
        st = writer_strings(w, dir, p ? p : &def);
    if (st == CS_OK)
        st = cs_store_check_target(w->dir, w->force);
    if (st == CS_OK)
        st = writer_files(w);
    if (st == CS_OK)
        st = writer_toks(w, tok);
    if (st) {
        cs_store_writer_abort(w);
        return st;
    }
    *out = w;
    return CS_OK;
}

void cs_store_writer_abort(cs_store_writer *w)
{
    size_t i;

    if (w == NULL)
        return;
    for (i = 0; i < CS_STORE_N_SPLITS; i++) {
        if (w->part[i])
            fclose(w->part[i]);
        free(w->docs[i].d);
    }
    if (w->tmp_made)
        remove_store_dir(w->tmp);
    for (i = 0; w->toks && i < w->n_threads; i++)
        cs_tok_free(w->toks[i]);
    for (i = 0; i < w->n_sources; i++)
        free(w->sources[i]);
    free(w->sources);
    free(w->toks);
    free(w->dir);
    free(w->tmp);
    free(w->corpus);
    free(w->corpus_checksum);
    free(w->wbuf);
    free(w);
}

// ---- sources and document records --------------------------------------------------------

static int check_label(const char *label, uint64_t doc)
{
    size_t n = label ? strlen(label) : 0;
    size_t i;

    if (n == 0 || n > CS_STORE_SOURCE_MAX)
        return cs_fail(CS_EINPUT, "document %llu: source label must have 1 to %d bytes, got %zu",
                       (unsigned long long)doc, CS_STORE_SOURCE_MAX, n);
    for (i = 0; i < n; i++)
        if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
            return cs_fail(CS_EINPUT, "document %llu: source label has a control character",
                           (unsigned long long)doc);
    return CS_OK;
}

/* The id of `label`, adding it when new. */
static int source_id(cs_store_writer *w, const char *label, uint64_t doc, uint32_t *id)
{
    size_t i;
    int st = check_label(label, doc);

    if (st)
        return st;
    if (w->n_sources && strcmp(w->sources[w->last_source], label) == 0) {
        *id = (uint32_t)w->last_source;
        return CS_OK;
    }
    for (i = 0; i < w->n_sources; i++)
        if (strcmp(w->sources[i], label) == 0)
            break;
    if (i == w->n_sources) {
        if (w->n_sources == CS_STORE_MAX_SOURCES)
            return cs_fail(CS_EINPUT, "document %llu: more than %d sources",
                           (unsigned long long)doc, CS_STORE_MAX_SOURCES);
        if (w->n_sources == w->cap_sources) {
            size_t cap = w->cap_sources ? 2 * w->cap_sources : 8;
            char **s = realloc(w->sources, cap * sizeof *s);

            if (s == NULL)
                return cs_fail(CS_ENOMEM, "out of memory for source labels");
            w->sources = s;
            w->cap_sources = cap;
        }
        w->sources[i] = str_dup(label);
        if (w->sources[i] == NULL)
            return cs_fail(CS_ENOMEM, "out of memory for source labels");
        w->n_sources++;
    }
    w->last_source = i;
    *id = (uint32_t)i;
    return CS_OK;
}

static int push_doc(doc_list *l, const cs_store_doc *d)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        cs_store_doc *p = realloc(l->d, cap * sizeof *p);

        if (p == NULL)
            return cs_fail(CS_ENOMEM, "out of memory for the document index");
        l->d = p;
        l->cap = cap;
    }
    l->d[l->n++] = *d;
    l->tokens += d->n_tokens;
    l->bytes += d->n_bytes;
    return CS_OK;
}

// ---- parallel encoding -------------------------------------------------------------------

typedef struct enc_result {
    uint32_t *ids; /* (n) */
    size_t n;
} enc_result;

typedef struct enc_job {
    const cs_store_input *docs; /* (n_docs) */
    size_t n_docs;
    enc_result *res;    /* (n_docs) */
    atomic_size_t next; /* next document to claim */
    atomic_int stop;    /* set by a thread that failed */
} enc_job;

typedef struct enc_thread {
    enc_job *job;
    cs_tok *tok;
    pthread_t th;
    int status;
    char msg[256];
} enc_thread;

/* Encodes one document into r, in pieces of about ENC_PIECE bytes cut at pre-token
 * boundaries (cs_bpe_boundary: same tokens as one call). */
static int encode_doc(cs_tok *tok, const uint8_t *text, size_t n, enc_result *r)
{
    size_t pos = 0;
    size_t got = 0;
    int st;

    r->ids = malloc((n ? n : 1) * sizeof *r->ids);
    r->n = 0;
    if (r->ids == NULL)
        return cs_fail(CS_ENOMEM, "out of memory encoding a document of %zu bytes", n);
    while (pos < n) {
        size_t end = n - pos <= ENC_PIECE ? n : cs_bpe_boundary(text, n, pos + ENC_PIECE);

        st = cs_tok_encode(tok, text + pos, end - pos, r->ids + r->n, &got);
        if (st)
            return st;
        r->n += got;
        pos = end;
    }
    /* A token is at least one byte, so n ids were enough; give back the rest. */
    if (r->n && r->n < n) {
        uint32_t *p = realloc(r->ids, r->n * sizeof *p);

        if (p)
            r->ids = p;
    }
    return CS_OK;
}

static void *enc_main(void *arg)
{
    enc_thread *t = arg;
    enc_job *j = t->job;
    size_t i;

    while (!atomic_load(&j->stop) && (i = atomic_fetch_add(&j->next, 1)) < j->n_docs) {
        t->status = encode_doc(t->tok, j->docs[i].bytes, j->docs[i].n, &j->res[i]);
        if (t->status) {
            snprintf(t->msg, sizeof t->msg, "%s", cs_errmsg());
            atomic_store(&j->stop, 1);
        }
    }
    return NULL;
}

/* Encodes job->docs with up to n threads; the first failure's status and message win. */
static int encode_all(cs_store_writer *w, enc_job *job)
{
    enc_thread th[MAX_THREADS];
    size_t n = w->n_threads < job->n_docs ? w->n_threads : job->n_docs;
    size_t started = 0;
    size_t i;
    int st = CS_OK;

    memset(th, 0, sizeof th);
    for (i = 0; i < n; i++) {
        th[i].job = job;
        th[i].tok = w->toks[i];
    }
    if (n <= 1) {
        enc_main(&th[0]);
        return th[0].status ? cs_fail(th[0].status, "%s", th[0].msg) : CS_OK;
    }
    for (i = 0; i < n; i++) {
        if (pthread_create(&th[i].th, NULL, enc_main, &th[i]) != 0)
            break;
        started++;
    }
    if (started == 0)
        enc_main(&th[0]); /* no thread could start: encode here */
    for (i = 0; i < started; i++)
        pthread_join(th[i].th, NULL);
    for (i = 0; i < n && st == CS_OK; i++)
        if (th[i].status)
            st = cs_fail(th[i].status, "%s", th[i].msg);
    return st;
}

/* Appends ids to the split's token file in the store's width. */
static int write_ids(cs_store_writer *w, int split, const uint32_t *ids, size_t n)
{
    size_t done = 0;
    size_t k;

    while (done < n) {
        size_t m = n - done < WBUF_TOKENS ? n - done : WBUF_TOKENS;

        for (k = 0; k < m; k++) {
            if (w->token_bytes == 2) {
                w->wbuf[2 * k] = (uint8_t)ids[done + k];
                w->wbuf[2 * k + 1] = (uint8_t)(ids[done + k] >> 8);
            } else {
                put_u32(w->wbuf + 4 * k, ids[done + k]);
            }
        }
        if (fwrite(w->wbuf, (size_t)w->token_bytes, m, w->part[split]) != m)
            return cs_fail(CS_EIO, "%s/tokens.%s.part: write failed: %s", w->tmp,
                           split_names[split], strerror(errno));
        done += m;
    }
    return CS_OK;
}

static int check_inputs(const cs_store_writer *w, const cs_store_input *docs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint64_t num = w->n_added + i;
        int st = check_label(docs[i].source, num);

        if (st)
            return st;
        if (docs[i].split < 0 || docs[i].split >= CS_STORE_N_SPLITS)
            return cs_fail(CS_EINPUT, "document %llu: split %d is not train (0) or val (1)",
                           (unsigned long long)num, docs[i].split);
        if (docs[i].n && docs[i].bytes == NULL)
            return cs_fail(CS_EINVAL, "document %llu: NULL bytes", (unsigned long long)num);
    }
    return CS_OK;
}

/* Writes the encoded documents in order and records them. */
static int append_results(cs_store_writer *w, const cs_store_input *docs, const enc_result *res,
                          size_t n)
{
    size_t i;
    int st = CS_OK;

    for (i = 0; i < n && st == CS_OK; i++) {
        int sp = docs[i].split;
        cs_store_doc d;

        memset(&d, 0, sizeof d);
        d.offset = w->docs[sp].tokens;
        d.n_tokens = res[i].n;
        d.n_bytes = docs[i].n;
        d.corpus_doc = w->n_added;
        d.split = (uint32_t)sp;
        st = source_id(w, docs[i].source, w->n_added, &d.source);
        if (st == CS_OK)
            st = write_ids(w, sp, res[i].ids, res[i].n);
        if (st == CS_OK)
            st = push_doc(&w->docs[sp], &d);
        w->n_added++;
    }
    return st;
}

int cs_store_writer_add(cs_store_writer *w, const cs_store_input *docs, size_t n)
{
    enc_job job;
    double t0;
    size_t i;
    int st;

    if (w == NULL || (n && docs == NULL))
        return cs_fail(CS_EINVAL, "cs_store_writer_add: NULL argument");
    if (n == 0)
        return CS_OK;
    st = check_inputs(w, docs, n);
    if (st)
        return st;
    memset(&job, 0, sizeof job);
    job.docs = docs;
    job.n_docs = n;
    job.res = calloc(n, sizeof *job.res);
    if (job.res == NULL)
        return cs_fail(CS_ENOMEM, "out of memory encoding %zu documents", n);
    atomic_init(&job.next, 0);
    atomic_init(&job.stop, 0);
    t0 = now_seconds();
    st = encode_all(w, &job);
    w->encode_seconds += now_seconds() - t0;
    if (st == CS_OK)
        st = append_results(w, docs, job.res, n);
    for (i = 0; i < n; i++)
        free(job.res[i].ids);
    free(job.res);
    return st;
}

// ---- commit: tokens.bin, docs.bin, tokenizer.bpe, store.json -------------------------------

static int close_parts(cs_store_writer *w)
{
    int i;
    int st = CS_OK;

    for (i = 0; i < CS_STORE_N_SPLITS; i++) {
        if (w->part[i] && fclose(w->part[i]) != 0 && st == CS_OK)
            st = cs_fail(CS_EIO, "%s/tokens.%s.part: write failed: %s", w->tmp, split_names[i],
                         strerror(errno));
        w->part[i] = NULL;
    }
    return st;
}

static int append_file(FILE *to, const char *from_path, const char *to_path)
{
    FILE *from = fopen(from_path, "rb");
    char buf[1 << 16];
    size_t got;
    int st = CS_OK;

    if (from == NULL)
        return cs_fail(CS_EIO, "%s: %s", from_path, strerror(errno));
    while ((got = fread(buf, 1, sizeof buf, from)) > 0)
        if (fwrite(buf, 1, got, to) != got) {
            st = cs_fail(CS_EIO, "%s: write failed: %s", to_path, strerror(errno));
            break;
        }
    if (st == CS_OK && ferror(from))
        st = cs_fail(CS_EIO, "%s: read failed", from_path);
    fclose(from);
    return st;
}

/* tokens.bin = train part followed by the other parts. */
static int write_tokens_bin(cs_store_writer *w)
{
    char part[PATH_CAP];
    char bin[PATH_CAP];
    FILE *f;
    int i;
    int st = join(bin, w->tmp, "tokens.bin");

    snprintf(part, sizeof part, "%s/tokens.%s.part", w->tmp, split_names[0]);
    if (st == CS_OK && rename(part, bin) != 0)
        st = cs_fail(CS_EIO, "%s: rename to %s: %s", part, bin, strerror(errno));
    if (st)
        return st;
    f = fopen(bin, "ab");
    if (f == NULL)
        return cs_fail(CS_EIO, "%s: %s", bin, strerror(errno));
    for (i = 1; i < CS_STORE_N_SPLITS && st == CS_OK; i++) {
        snprintf(part, sizeof part, "%s/tokens.%s.part", w->tmp, split_names[i]);
        st = append_file(f, part, bin);
        unlink(part);
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        st = st ? st : cs_fail(CS_EIO, "%s: write failed: %s", bin, strerror(errno));
    if (fclose(f) != 0 && st == CS_OK)
        st = cs_fail(CS_EIO, "%s: write failed: %s", bin, strerror(errno));
    return st;
}

static uint64_t total_docs(const cs_store_writer *w)
{
    uint64_t n = 0;
    int i;

    for (i = 0; i < CS_STORE_N_SPLITS; i++)
        n += w->docs[i].n;
    return n;
}

static uint64_t total_tokens(const cs_store_writer *w)
{
    uint64_t n = 0;
    int i;

    for (i = 0; i < CS_STORE_N_SPLITS; i++)
        n += w->docs[i].tokens;
    return n;
}

static size_t index_size(const cs_store_writer *w)
{
    size_t n = IDX_HEADER_BYTES;
    size_t i;

    for (i = 0; i < w->n_sources; i++)
        n += 4 + strlen(w->sources[i]);
    return n + (size_t)total_docs(w) * IDX_RECORD_BYTES;
}

static void put_header(const cs_store_writer *w, uint8_t *p)
{
    memcpy(p, IDX_MAGIC, 8);
    put_u32(p + 8, CS_STORE_FORMAT_VERSION);
    put_u32(p + 12, (uint32_t)w->token_bytes);
    put_u64(p + 16, w->vocab);
    put_u64(p + 24, total_docs(w));
    put_u64(p + 32, total_tokens(w));
    put_u32(p + 40, (uint32_t)w->n_sources);
    put_u32(p + 44, 0);
}

/* Fills the index image; offsets become absolute (splits in order). */
static void fill_index(const cs_store_writer *w, uint8_t *p)
{
    uint64_t base = 0;
    size_t i;
    int s;

    put_header(w, p);
    p += IDX_HEADER_BYTES;
    for (i = 0; i < w->n_sources; i++) {
        size_t len = strlen(w->sources[i]);

        put_u32(p, (uint32_t)len);
        memcpy(p + 4, w->sources[i], len);
        p += 4 + len;
    }
    for (s = 0; s < CS_STORE_N_SPLITS; s++) {
        for (i = 0; i < w->docs[s].n; i++, p += IDX_RECORD_BYTES) {
            const cs_store_doc *d = &w->docs[s].d[i];

            put_u64(p, base + d->offset);
            put_u64(p + 8, d->n_tokens);
            put_u64(p + 16, d->n_bytes);
            put_u64(p + 24, d->corpus_doc);
            put_u32(p + 32, d->source);
            put_u32(p + 36, d->split);
        }
        base += w->docs[s].tokens;
    }
}

/* Writes n bytes to path, flushed and synced. */
static int write_whole(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int st = CS_OK;

    if (f == NULL)
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    if (fwrite(data, 1, n, f) != n || fflush(f) != 0 || fsync(fileno(f)) != 0)
        st = cs_fail(CS_EIO, "%s: write failed: %s", path, strerror(errno));
    if (fclose(f) != 0 && st == CS_OK)
        st = cs_fail(CS_EIO, "%s: write failed: %s", path, strerror(errno));
    return st;
}

static int write_index(const cs_store_writer *w)
{
    char path[PATH_CAP];
    size_t n = index_size(w);
    uint8_t *buf;
    int st = join(path, w->tmp, "docs.bin");

    if (st)
        return st;
    buf = calloc(1, n);
    if (buf == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for the document index (%zu bytes)", n);
    fill_index(w, buf);
    st = write_whole(path, buf, n);
    free(buf);
    return st;
}

/* Reads a whole (small) file into a malloc'd buffer. */
static int slurp(const char *path, uint8_t **data, size_t *n)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    int st = CS_OK;

    *data = NULL;
    if (f == NULL && errno == ENOENT)
        return cs_fail(CS_EINPUT, "%s: %s (not a token store directory?)", path, strerror(errno));
    if (f == NULL)
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0) {
        st = cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
        goto out_close;
    }
    *n = (size_t)sb.st_size;
    *data = malloc(*n ? *n : 1);
    if (*data == NULL) {
        st = cs_fail(CS_ENOMEM, "out of memory reading %s (%zu bytes)", path, *n);
        goto out_close;
    }
    if (fread(*data, 1, *n, f) != *n) {
        st = cs_fail(CS_EIO, "%s: read failed", path);
        free(*data);
        *data = NULL;
    }
out_close:
    fclose(f);
    return st;
}

static int write_tokenizer(const cs_store_writer *w, char sum[17])
{
    char path[PATH_CAP];
    uint8_t *data = NULL;
    size_t n = 0;
    int st = join(path, w->tmp, "tokenizer.bpe");

    if (st == CS_OK)
        st = cs_bpe_save(cs_tok_model(w->toks[0]), path, false);
    if (st == CS_OK)
        st = slurp(path, &data, &n);
    if (st == CS_OK)
        snprintf(sum, 17, "%016llx",
                 (unsigned long long)cs_store_fnv1a(CS_STORE_FNV_INIT, data, n));
    free(data);
    return st;
}

static json_t *json_u64(uint64_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *splits_json(const cs_store_writer *w)
{
    json_t *o = json_object();
    uint64_t first = 0;
    uint64_t off = 0;
    int s;

    for (s = 0; o && s < CS_STORE_N_SPLITS; s++) {
        const doc_list *l = &w->docs[s];

        json_object_set_new(o, split_names[s],
                            json_pack("{s:o, s:o, s:o, s:o, s:o}", "docs", json_u64(l->n), "tokens",
                                      json_u64(l->tokens), "bytes", json_u64(l->bytes), "first_doc",
                                      json_u64(first), "token_offset", json_u64(off)));
        first += l->n;
        off += l->tokens;
    }
    return o;
}

static json_t *sources_json(const cs_store_writer *w)
{
    json_t *a = json_array();
    size_t i;
    size_t k;
    int s;

    for (i = 0; a && i < w->n_sources; i++) {
        uint64_t cnt[CS_STORE_N_SPLITS][3];

        memset(cnt, 0, sizeof cnt);
        for (s = 0; s < CS_STORE_N_SPLITS; s++)
            for (k = 0; k < w->docs[s].n; k++)
                if (w->docs[s].d[k].source == i) {
                    cnt[s][0]++;
                    cnt[s][1] += w->docs[s].d[k].n_tokens;
                    cnt[s][2] += w->docs[s].d[k].n_bytes;
                }
        json_array_append_new(a, json_pack("{s:s, s:I, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o}}",
                                           "name", w->sources[i], "id", (json_int_t)i, "train",
                                           "docs", json_u64(cnt[0][0]), "tokens",
                                           json_u64(cnt[0][1]), "bytes", json_u64(cnt[0][2]), "val",
                                           "docs", json_u64(cnt[1][0]), "tokens",
                                           json_u64(cnt[1][1]), "bytes", json_u64(cnt[1][2])));
    }
    return a;
}

static json_t *store_json(const cs_store_writer *w, const char *tok_sum)
{
    uint64_t tokens = total_tokens(w);
    uint64_t bytes = w->docs[0].bytes + w->docs[1].bytes;

    return json_pack("{s:s, s:i, s:I, s:s, s:i, s:o, s:o, s:o, s:f, s:{s:s, s:s, s:s}, "
                     "s:{s:o, s:o}, s:o, s:o}",
                     "format", "ctxscale-token-store", "version", CS_STORE_FORMAT_VERSION, "vocab",
                     (json_int_t)w->vocab, "token_dtype", w->token_bytes == 2 ? "uint16" : "uint32",
                     "token_bytes", w->token_bytes, "docs", json_u64(total_docs(w)), "tokens",
                     json_u64(tokens), "bytes", json_u64(bytes), "bytes_per_token",
                     tokens ? (double)bytes / (double)tokens : 0.0, "tokenizer", "file",
                     "tokenizer.bpe", "kind", cs_tok_kind(w->toks[0]), "fnv1a64", tok_sum, "corpus",
                     "path", w->corpus ? json_string(w->corpus) : json_null(), "checksum",
                     w->corpus_checksum ? json_string(w->corpus_checksum) : json_null(), "splits",
                     splits_json(w), "sources", sources_json(w));
}

static int write_json(const cs_store_writer *w, const char *tok_sum)
{
    char path[PATH_CAP];
    json_t *doc = store_json(w, tok_sum);
    char *text;
    int st;

    if (doc == NULL)
        return cs_fail(CS_ENOMEM, "out of memory building store.json");
    text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(doc);
    if (text == NULL)
        return cs_fail(CS_ENOMEM, "out of memory building store.json");
    st = join(path, w->tmp, "store.json");
    if (st == CS_OK) {
        size_t n = strlen(text);

        text[n] = '\n'; /* overwrite the NUL: the file ends with a newline */
        st = write_whole(path, text, n + 1);
    }
    free(text);
    return st;
}

/* Moves the finished temporary directory to w->dir, replacing an old store when forced. */
static int move_into_place(cs_store_writer *w)
{
    char old[PATH_CAP];
    bool had_old = false;
    int st = cs_store_check_target(w->dir, w->force);

    if (st)
        return st;
    if (access(w->dir, F_OK) == 0) {
        snprintf(old, sizeof old, "%s.old.XXXXXX", w->dir);
        if (mkdtemp(old) == NULL || rmdir(old) != 0 || rename(w->dir, old) != 0)
            return cs_fail(CS_EIO, "%s: cannot move the old store aside: %s", w->dir,
                           strerror(errno));
        had_old = true;
    }
    if (rename(w->tmp, w->dir) != 0) {
        st =
            cs_fail(CS_EIO, "%s: cannot rename %s into place: %s", w->dir, w->tmp, strerror(errno));
        if (had_old)
            rename(old, w->dir);
        return st;
    }
    w->tmp_made = false; /* nothing left to clean up */
    if (had_old)
        remove_store_dir(old);
    return CS_OK;
}

static void fill_stats(const cs_store_writer *w, const char *sum, cs_store_write_stats *st)
{
    memset(st, 0, sizeof *st);
    st->n_docs = total_docs(w);
    st->n_tokens = total_tokens(w);
    st->n_bytes = w->docs[0].bytes + w->docs[1].bytes;
    st->encode_seconds = w->encode_seconds;
    st->encode_mb_per_s =
        w->encode_seconds > 0 ? (double)st->n_bytes / 1e6 / w->encode_seconds : 0.0;
    st->n_threads = w->n_threads;
    memcpy(st->tokenizer_sum, sum, 17);
}

int cs_store_writer_commit(cs_store_writer *w, cs_store_write_stats *stats)
{
    char sum[17] = "";
    int st;

    if (w == NULL)
        return cs_fail(CS_EINVAL, "cs_store_writer_commit: NULL writer");
    st = close_parts(w);
    if (st == CS_OK && total_docs(w) == 0)
        st = cs_fail(CS_EINPUT, "%s: no documents to store", w->dir);
    if (st == CS_OK)
        st = write_tokens_bin(w);
    if (st == CS_OK)
        st = write_index(w);
    if (st == CS_OK)
        st = write_tokenizer(w, sum);
    if (st == CS_OK)
        st = write_json(w, sum);
    if (st == CS_OK)
        st = fsync_path(w->tmp);
    if (st == CS_OK)
        st = move_into_place(w);
    if (st == CS_OK && stats)
        fill_stats(w, sum, stats);
    cs_store_writer_abort(w);
    return st;
}

int cs_store_build(const char *dir, const cs_tok *tok, const cs_store_write_params *p,
                   const cs_store_input *docs, size_t n, cs_store_write_stats *st)
{
    cs_store_writer *w = NULL;
    int rc = cs_store_writer_open(dir, tok, p, &w);

    if (rc)
        return rc;
    rc = cs_store_writer_add(w, docs, n);
    if (rc) {
        cs_store_writer_abort(w);
        return rc;
    }
    return cs_store_writer_commit(w, st);
}

// ---- reading ---------------------------------------------------------------------------------

struct cs_store {
    char *dir;
    size_t vocab;
    int token_bytes;
    const uint8_t *tokens; /* mapped tokens.bin (n_tokens * token_bytes bytes), NULL if empty */
    size_t map_bytes;
    uint64_t n_tokens;
    cs_store_doc *docs; /* (n_docs) */
    size_t n_docs;
    char **sources; /* (n_sources) */
    size_t n_sources;
    size_t split_first[CS_STORE_N_SPLITS];
    size_t split_count[CS_STORE_N_SPLITS];
    uint64_t split_tokens[CS_STORE_N_SPLITS];
    uint64_t split_bytes[CS_STORE_N_SPLITS];
};

/* Parses the header of docs.bin. */
static int parse_header(cs_store *s, const char *path, const uint8_t *p, size_t n, uint64_t *n_docs)
{
    uint32_t version;
    uint64_t vocab;

    if (n < IDX_HEADER_BYTES || memcmp(p, IDX_MAGIC, 8) != 0)
        return cs_fail(CS_EINPUT, "%s: not a token store index (no %s magic at the start)", path,
                       IDX_MAGIC);
    version = get_u32(p + 8);
    if (version != CS_STORE_FORMAT_VERSION)
        return cs_fail(CS_EINPUT, "%s: index format version %u; expected version %d", path,
                       (unsigned)version, CS_STORE_FORMAT_VERSION);
    s->token_bytes = (int)get_u32(p + 12);
    if (s->token_bytes != 2 && s->token_bytes != 4)
        return cs_fail(CS_EINPUT, "%s: token width %d bytes; expected 2 or 4", path,
                       s->token_bytes);
    vocab = get_u64(p + 16);
    /* Not cs_tok_check_vocab: stores written by other producers (data/synth.c) may have a
     * vocabulary below 256; what matters here is that ids fit the width. */
    if (vocab == 0 || vocab > (s->token_bytes == 2 ? CS_STORE_U16_VOCAB : UINT64_C(1) << 32))
        return cs_fail(CS_EINPUT, "%s: vocabulary %llu does not fit %d-byte ids", path,
                       (unsigned long long)vocab, s->token_bytes);
    s->vocab = (size_t)vocab;
    *n_docs = get_u64(p + 24);
    s->n_tokens = get_u64(p + 32);
    s->n_sources = get_u32(p + 40);
    if (*n_docs > (n - IDX_HEADER_BYTES) / IDX_RECORD_BYTES)
        return cs_fail(CS_EINPUT,
                       "%s: header says %llu documents; the file has room for fewer "
                       "(truncated)",
                       path, (unsigned long long)*n_docs);
    return CS_OK;
}

/* Parses the source labels; *p advances past them. */
static int parse_sources(cs_store *s, const char *path, const uint8_t **p, const uint8_t *end)
{
    size_t i;

    s->sources = calloc(s->n_sources ? s->n_sources : 1, sizeof *s->sources);
    if (s->sources == NULL)
        return cs_fail(CS_ENOMEM, "out of memory reading %s", path);
    for (i = 0; i < s->n_sources; i++) {
        uint32_t len;

        if (end - *p < 4 || (len = get_u32(*p)) == 0 || len > CS_STORE_SOURCE_MAX ||
            (size_t)(end - *p - 4) < len)
            return cs_fail(CS_EINPUT, "%s: source label %zu is missing or has a bad length", path,
                           i);
        s->sources[i] = malloc(len + 1);
        if (s->sources[i] == NULL)
            return cs_fail(CS_ENOMEM, "out of memory reading %s", path);
        memcpy(s->sources[i], *p + 4, len);
        s->sources[i][len] = '\0';
        if (strlen(s->sources[i]) != len)
            return cs_fail(CS_EINPUT, "%s: source label %zu holds a NUL byte", path, i);
        *p += 4 + len;
    }
    return CS_OK;
}

static int check_record(const cs_store *s, const char *path, size_t i, const cs_store_doc *d,
                        uint64_t expect_off, uint32_t prev_split)
{
    if (d->offset != expect_off)
        return cs_fail(CS_EINPUT,
                       "%s: document %zu: offset %llu; expected %llu (documents are "
                       "contiguous)",
                       path, i, (unsigned long long)d->offset, (unsigned long long)expect_off);
    if (d->n_tokens > d->n_bytes)
        return cs_fail(CS_EINPUT,
                       "%s: document %zu: %llu tokens from %llu bytes (a token is at "
                       "least one byte)",
                       path, i, (unsigned long long)d->n_tokens, (unsigned long long)d->n_bytes);
    if (d->source >= s->n_sources)
        return cs_fail(CS_EINPUT, "%s: document %zu: source %u; the store has %zu sources", path, i,
                       (unsigned)d->source, s->n_sources);
    if (d->split >= CS_STORE_N_SPLITS || d->split < prev_split)
        return cs_fail(CS_EINPUT,
                       "%s: document %zu: split %u out of order (train documents "
                       "come first, then val)",
                       path, i, (unsigned)d->split);
    return CS_OK;
}

static int parse_records(cs_store *s, const char *path, const uint8_t *p, const uint8_t *end)
{
    uint64_t off = 0;
    uint32_t prev = 0;
    size_t i;
    int st;

    if ((size_t)(end - p) != s->n_docs * IDX_RECORD_BYTES)
        return cs_fail(CS_EINPUT,
                       "%s: %zu bytes of document records; expected %zu for %zu "
                       "documents",
                       path, (size_t)(end - p), s->n_docs * IDX_RECORD_BYTES, s->n_docs);
    for (i = 0; i < s->n_docs; i++, p += IDX_RECORD_BYTES) {
        cs_store_doc *d = &s->docs[i];

        d->offset = get_u64(p);
        d->n_tokens = get_u64(p + 8);
        d->n_bytes = get_u64(p + 16);
        d->corpus_doc = get_u64(p + 24);
        d->source = get_u32(p + 32);
        d->split = get_u32(p + 36);
        st = check_record(s, path, i, d, off, prev);
        if (st)
            return st;
        if (d->split != prev || i == 0)
            s->split_first[d->split] = i;
        s->split_count[d->split]++;
        s->split_tokens[d->split] += d->n_tokens;
        s->split_bytes[d->split] += d->n_bytes;
        prev = d->split;
        off += d->n_tokens;
    }
    if (off != s->n_tokens)
        return cs_fail(CS_EINPUT, "%s: documents hold %llu tokens; the header says %llu", path,
                       (unsigned long long)off, (unsigned long long)s->n_tokens);
    return CS_OK;
}

static int read_index(cs_store *s)
{
    char path[PATH_CAP];
    uint8_t *data = NULL;
    const uint8_t *p;
    size_t n = 0;
    uint64_t n_docs = 0;
    int st = join(path, s->dir, "docs.bin");

    if (st == CS_OK)
        st = slurp(path, &data, &n);
    if (st == CS_OK)
        st = parse_header(s, path, data, n, &n_docs);
    if (st == CS_OK) {
        s->n_docs = (size_t)n_docs;
        s->docs = calloc(s->n_docs ? s->n_docs : 1, sizeof *s->docs);
        if (s->docs == NULL)
            st = cs_fail(CS_ENOMEM, "out of memory reading %s", path);
    }
    p = data + IDX_HEADER_BYTES;
    if (st == CS_OK)
        st = parse_sources(s, path, &p, data + n);
    if (st == CS_OK)
        st = parse_records(s, path, p, data + n);
    free(data);
    return st;
}

static int map_tokens(cs_store *s)
{
    char path[PATH_CAP];
    struct stat sb;
    uint64_t need = s->n_tokens * (uint64_t)s->token_bytes;
    int fd;
    int st = join(path, s->dir, "tokens.bin");

    if (st)
        return st;
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0) {
        st = cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
        goto out_close;
    }
    if ((uint64_t)sb.st_size != need) {
        st = cs_fail(CS_EINPUT,
                     "%s: %llu bytes; the index needs %llu (%llu tokens of %d bytes): "
                     "truncated or not this store's",
                     path, (unsigned long long)sb.st_size, (unsigned long long)need,
                     (unsigned long long)s->n_tokens, s->token_bytes);
        goto out_close;
    }
    if (need > 0) {
        void *m = mmap(NULL, (size_t)need, PROT_READ, MAP_SHARED, fd, 0);

        if (m == MAP_FAILED) {
            st = cs_fail(CS_EIO, "%s: mmap: %s", path, strerror(errno));
            goto out_close;
        }
        s->tokens = m;
        s->map_bytes = (size_t)need;
    }
out_close:
    close(fd);
    return st;
}

static int json_check(const char *path, json_t *root, const char *key, uint64_t expect)
{
    json_t *v = json_object_get(root, key);

    if (!json_is_integer(v))
        return cs_fail(CS_EINPUT, "%s: \"%s\" is missing or not an integer", path, key);
    if ((uint64_t)json_integer_value(v) != expect)
        return cs_fail(CS_EINPUT, "%s: \"%s\" is %lld; docs.bin says %llu", path, key,
                       (long long)json_integer_value(v), (unsigned long long)expect);
    return CS_OK;
}

static int check_json(const cs_store *s)
{
    char path[PATH_CAP];
    json_error_t err;
    json_t *root;
    int st = join(path, s->dir, "store.json");

    if (st)
        return st;
    root = json_load_file(path, 0, &err);
    if (root == NULL)
        return cs_fail(CS_EINPUT, "%s:%d: %s", path, err.line, err.text);
    if (!json_is_object(root))
        st = cs_fail(CS_EINPUT, "%s: expected a JSON object", path);
    if (st == CS_OK)
        st = json_check(path, root, "version", CS_STORE_FORMAT_VERSION);
    if (st == CS_OK)
        st = json_check(path, root, "vocab", s->vocab);
    if (st == CS_OK)
        st = json_check(path, root, "token_bytes", (uint64_t)s->token_bytes);
    if (st == CS_OK)
        st = json_check(path, root, "docs", s->n_docs);
    if (st == CS_OK)
        st = json_check(path, root, "tokens", s->n_tokens);
    json_decref(root);
    return st;
}

int cs_store_open(const char *dir, cs_store **out)
{
    cs_store *s;
    int st;

    if (dir == NULL || out == NULL)
        return cs_fail(CS_EINVAL, "cs_store_open: NULL argument");
    *out = NULL;
    s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = str_dup(dir)) == NULL) {
        free(s);
        return cs_fail(CS_ENOMEM, "out of memory opening %s", dir);
    }
    st = read_index(s);
    if (st == CS_OK)
        st = map_tokens(s);
    if (st == CS_OK)
        st = check_json(s);
    if (st) {
        cs_store_close(s);
        return st;
    }
    *out = s;
    return CS_OK;
}

void cs_store_close(cs_store *s)
{
    size_t i;

    if (s == NULL)
        return;
    if (s->tokens)
        munmap((void *)s->tokens, s->map_bytes);
    for (i = 0; s->sources && i < s->n_sources; i++)
        free(s->sources[i]);
    free(s->sources);
    free(s->docs);
    free(s->dir);
    free(s);
}

const char *cs_store_path(const cs_store *s)
{
    return s->dir;
}

size_t cs_store_vocab(const cs_store *s)
{
    return s->vocab;
}

int cs_store_token_bytes(const cs_store *s)
{
    return s->token_bytes;
}

size_t cs_store_n_docs(const cs_store *s)
{
    return s->n_docs;
}

const cs_store_doc *cs_store_doc_at(const cs_store *s, size_t i)
{
    return i < s->n_docs ? &s->docs[i] : NULL;
}

int cs_store_split_range(const cs_store *s, int split, size_t *first, size_t *count)
{
    if (split < 0 || split >= CS_STORE_N_SPLITS)
        return cs_fail(CS_EINVAL, "split %d is not train (0) or val (1)", split);
    *first = s->split_count[split] ? s->split_first[split] : 0;
    *count = s->split_count[split];
    return CS_OK;
}

uint64_t cs_store_split_tokens(const cs_store *s, int split)
{
    return split >= 0 && split < CS_STORE_N_SPLITS ? s->split_tokens[split] : 0;
}

uint64_t cs_store_split_bytes(const cs_store *s, int split)
{
    return split >= 0 && split < CS_STORE_N_SPLITS ? s->split_bytes[split] : 0;
}

size_t cs_store_n_sources(const cs_store *s)
{
    return s->n_sources;
}

const char *cs_store_source_name(const cs_store *s, size_t id)
{
    return id < s->n_sources ? s->sources[id] : NULL;
}

long cs_store_source_find(const cs_store *s, const char *label)
{
    size_t i;

    for (i = 0; label && i < s->n_sources; i++)
        if (strcmp(s->sources[i], label) == 0)
            return (long)i;
    return -1;
}

uint32_t cs_store_token(const cs_store *s, uint64_t offset)
{
    const uint8_t *p;

    CS_ASSERT(offset < s->n_tokens);
    p = s->tokens + offset * (uint64_t)s->token_bytes;
    if (s->token_bytes == 2)
        return (uint32_t)p[0] | (uint32_t)p[1] << 8;
    return get_u32(p);
}

int cs_store_read_flat(const cs_store *s, uint64_t offset, size_t n, uint32_t *out)
{
    size_t i;

    if (offset > s->n_tokens || n > s->n_tokens - offset)
        return cs_fail(CS_EINVAL, "%s/tokens.bin: tokens %llu..%llu requested; the file has %llu",
                       s->dir, (unsigned long long)offset, (unsigned long long)(offset + n),
                       (unsigned long long)s->n_tokens);
    if (s->token_bytes == 2) {
        const uint8_t *p = s->tokens + 2 * offset;

        for (i = 0; i < n; i++)
            out[i] = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
    } else {
        const uint8_t *p = s->tokens + 4 * offset;

        for (i = 0; i < n; i++)
            out[i] = get_u32(p + 4 * i);
    }
    return CS_OK;
}

int cs_store_read(const cs_store *s, size_t doc, uint64_t pos, size_t n, uint32_t *out)
{
    const cs_store_doc *d = cs_store_doc_at(s, doc);

    if (d == NULL)
        return cs_fail(CS_EINVAL, "%s: document %zu requested; the store has %zu", s->dir, doc,
                       s->n_docs);
    if (pos > d->n_tokens || n > d->n_tokens - pos)
        return cs_fail(CS_EINVAL, "%s: document %zu: tokens %llu..%llu requested; it has %llu",
                       s->dir, doc, (unsigned long long)pos, (unsigned long long)(pos + n),
                       (unsigned long long)d->n_tokens);
    return cs_store_read_flat(s, d->offset + pos, n, out);
}

int cs_store_check_ids(const cs_store *s)
{
    uint64_t i;

    for (i = 0; i < s->n_tokens; i++) {
        uint32_t id = cs_store_token(s, i);

        if (id >= s->vocab)
            return cs_fail(CS_EINPUT,
                           "%s/tokens.bin: token %llu is id %u, outside the "
                           "vocabulary (0 to %zu)",
                           s->dir, (unsigned long long)i, (unsigned)id, s->vocab - 1);
    }
    return CS_OK;
}

int cs_store_open_tokenizer(const cs_store *s, cs_tok **tok)
{
    char path[PATH_CAP];
    int st = join(path, s->dir, "tokenizer.bpe");

    if (st == CS_OK)
        st = cs_tok_open(path, 0, tok);
    if (st == CS_OK && cs_tok_vocab(*tok) != s->vocab) {
        st = cs_fail(CS_EINPUT, "%s: vocabulary %zu; the store's is %zu", path, cs_tok_vocab(*tok),
                     s->vocab);
        cs_tok_free(*tok);
        *tok = NULL;
    }
    return st;
}

// ---- statistics ------------------------------------------------------------------------------

/* Documents [*first, *end) of split (all for CS_STORE_ALL_SPLITS). */
static int doc_span(const cs_store *s, int split, size_t *first, size_t *end)
{
    size_t count = s->n_docs;
    int st = CS_OK;

    *first = 0;
    if (split != CS_STORE_ALL_SPLITS)
        st = cs_store_split_range(s, split, first, &count);
    *end = *first + count;
    return st;
}

void cs_store_count_at_least(const cs_store *s, int split, uint64_t min_tokens, uint64_t *docs,
                             uint64_t *tokens)
{
    size_t first = 0;
    size_t end = 0;
    size_t i;

    *docs = 0;
    *tokens = 0;
    if (doc_span(s, split, &first, &end))
        return;
    for (i = first; i < end; i++)
        if (s->docs[i].n_tokens >= min_tokens) {
            (*docs)++;
            *tokens += s->docs[i].n_tokens;
        }
}

void cs_store_hist_free(cs_store_hist *h)
{
    free(h->lo);
    free(h->hi);
    free(h->docs);
    free(h->tokens);
    memset(h, 0, sizeof *h);
}

/* Edges 0, 1, then ceil(2^(j/k)) without repeats, until one exceeds `longest`; *n gets the
 * number of bins (edges - 1). The edges go in h->lo (bin starts) and h->hi (bin ends). */
static int hist_edges(cs_store_hist *h, unsigned k, uint64_t longest)
{
    size_t cap = 2 + (size_t)k * 66;
    uint64_t prev = 1;
    unsigned j;

    h->lo = calloc(cap, sizeof *h->lo);
    h->hi = calloc(cap, sizeof *h->hi);
    if (h->lo == NULL || h->hi == NULL)
        return cs_fail(CS_ENOMEM, "out of memory for a histogram");
    h->lo[0] = 0;
    h->hi[0] = 1;
    h->n_bins = 1;
    for (j = 1; prev <= longest && j < 64 * k; j++) {
        double e = ceil(pow(2.0, (double)j / (double)k));
        uint64_t edge = e >= 0x1p63 ? UINT64_MAX : (uint64_t)e;

        if (edge <= prev)
            continue;
        h->lo[h->n_bins] = prev;
        h->hi[h->n_bins] = edge;
        h->n_bins++;
        prev = edge;
    }
    return CS_OK;
}

int cs_store_length_hist(const cs_store *s, int split, unsigned per_octave, cs_store_hist *h)
{
    size_t first = 0;
    size_t end = 0;
    uint64_t longest = 0;
    size_t i;
    int st;

    memset(h, 0, sizeof *h);
    if (per_octave < 1 || per_octave > 64)
        return cs_fail(CS_EINVAL, "histogram: %u bins per doubling; expected 1 to 64", per_octave);
    st = doc_span(s, split, &first, &end);
    for (i = first; st == CS_OK && i < end; i++)
        longest = s->docs[i].n_tokens > longest ? s->docs[i].n_tokens : longest;
    if (st == CS_OK)
        st = hist_edges(h, per_octave, longest);
    if (st == CS_OK) {
        h->docs = calloc(h->n_bins, sizeof *h->docs);
        h->tokens = calloc(h->n_bins, sizeof *h->tokens);
        if (h->docs == NULL || h->tokens == NULL)
            st = cs_fail(CS_ENOMEM, "out of memory for a histogram");
    }
    for (i = first; st == CS_OK && i < end; i++) {
        uint64_t n = s->docs[i].n_tokens;
        size_t lo = 0;
        size_t hi = h->n_bins; /* the bin with lo[b] <= n < hi[b] */

        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;

            if (h->lo[mid] <= n)
                lo = mid;
            else
                hi = mid;
        }
        h->docs[lo]++;
        h->tokens[lo] += n;
    }
    if (st)
        cs_store_hist_free(h);
    return st;
}
