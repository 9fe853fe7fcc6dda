/* bench/bench_bpe.c: times BPE training and encoding (data/bpe.c) on a real text corpus and
 * prints the corpus size, the seconds of each phase, bytes per token for several vocabulary
 * sizes, encoding MB/s on one core and the peak RSS (getrusage). A benchmark, not a test; the
 * numbers it printed on the development machine are in docs/tokenizer.md.
 *
 * Usage: bench_bpe [--corpus FILE] [--mb MB] [--vocab V] [--threads T] [--save PATH]
 * Without --corpus the text is assembled from files on the machine (sorted paths under
 * /usr/share/common-licenses, /usr/share/doc, /usr/share/perl*, /usr/lib/python3*: plain,
 * NUL-free files, .gz skipped) up to --mb megabytes (default 70).
 */
#include "core/error.h"
#include "core/parse.h"
#include "data/bpe.h"

#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

typedef struct corpus {
    uint8_t *data;
    size_t n;
    size_t cap;
    size_t files;
} corpus;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s);
    size_t b = strlen(suf);

    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Appends a regular file if it is text (no NUL byte) and not compressed. */
static void add_file(corpus *c, const char *path, size_t size)
{
    FILE *f;
    size_t got;

    if (has_suffix(path, ".gz") || has_suffix(path, ".pyc") || has_suffix(path, ".so") ||
        size == 0 || c->n >= c->cap)
        return;
    if (size > c->cap - c->n)
        size = c->cap - c->n;
    f = fopen(path, "rb");
    if (f == NULL)
        return;
    got = fread(c->data + c->n, 1, size, f);
    fclose(f);
    if (memchr(c->data + c->n, '\0', got) != NULL)
        return;
    c->n += got;
    c->files++;
}

static void walk(corpus *c, const char *dir, int depth)
{
    struct dirent **ents = NULL;
    int k = scandir(dir, &ents, NULL, alphasort);
    int i;

    for (i = 0; i < k; i++) {
        char path[4096];
        struct stat st;
        const char *name = ents[i]->d_name;
        if (name[0] != '.' && c->n < c->cap && depth < 12 &&
            snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path &&
            lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                walk(c, path, depth + 1);
            else if (S_ISREG(st.st_mode))
                add_file(c, path, (size_t)st.st_size);
        }
        free(ents[i]);
    }
    free(ents);
}

static void assemble(corpus *c)
{
    static const char *const pats[] = {"/usr/share/common-licenses", "/usr/share/doc",
                                       "/usr/share/perl*", "/usr/lib/python3*"};
    size_t p;
    size_t i;

    for (p = 0; p < sizeof pats / sizeof pats[0]; p++) {
        glob_t g;
        if (glob(pats[p], 0, NULL, &g) != 0)
            continue;
        for (i = 0; i < g.gl_pathc; i++) {
            size_t before = c->n;
            walk(c, g.gl_pathv[i], 0);
            if (c->n > before)
                printf("  %-28s %6.1f MB\n", g.gl_pathv[i], (double)(c->n - before) / 1e6);
        }
        globfree(&g);
    }
}

static int load_file(corpus *c, const char *path)
{
    FILE *f = fopen(path, "rb");

    if (f == NULL)
        return 1;
    c->n = fread(c->data, 1, c->cap, f);
    fclose(f);
    c->files = 1;
    return 0;
}

/* Encodes the whole corpus on one thread; returns seconds and checks the round trip. */
static double time_encode(const cs_bpe *b, const corpus *c, size_t *tokens, int *roundtrip_ok)
{
    cs_bpe_encoder *e = cs_bpe_encoder_alloc(b);
    uint32_t *ids = malloc(c->n * sizeof *ids);
    uint8_t *back = malloc(c->n);
    size_t n_back = 0;
    double t0;
    double dt;

    if (e == NULL || ids == NULL || back == NULL) {
        fprintf(stderr, "bench_bpe: out of memory\n");
        exit(1);
    }
    t0 = now();
    cs_bpe_encode(e, c->data, c->n, ids, tokens);
    dt = now() - t0;
    *roundtrip_ok = cs_bpe_decode(b, ids, *tokens, back, c->n, &n_back) == CS_OK &&
                    n_back == c->n && memcmp(back, c->data, c->n) == 0;
    free(back);
    free(ids);
    cs_bpe_encoder_free(e);
    return dt;
}

static void report(const cs_bpe *b, const corpus *c, double t_train)
{
    static const size_t sizes[] = {256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
    double bpt;
    size_t tokens = 0;
    int ok = 0;
    size_t i;
    double dt;

    printf("train: vocab %zu, %.2f s, %.1f MB/s\n", cs_bpe_vocab(b), t_train,
           (double)c->n / 1e6 / t_train);
    printf("bytes/token on the training text:");
    for (i = 0; i < sizeof sizes / sizeof sizes[0] && sizes[i] <= cs_bpe_vocab(b); i++)
        if (cs_bpe_train_bytes_per_token(b, &sizes[i], 1, &bpt) == CS_OK)
            printf(" V=%zu:%.3f", sizes[i], bpt);
    printf("\n");
    dt = time_encode(b, c, &tokens, &ok);
    printf("encode (1 thread, vocab %zu): %.2f s, %.1f MB/s, %zu tokens (%.3f bytes/token), "
           "round trip %s\n",
           cs_bpe_vocab(b), dt, (double)c->n / 1e6 / dt, tokens, (double)c->n / (double)tokens,
           ok ? "ok" : "FAILED");
}

static int parse_args(int argc, char **argv, const char **path, long *mb, cs_bpe_params *p,
                      const char **save)
{
    int i;
    long v;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--corpus") == 0)
            *path = argv[i + 1];
        else if (strcmp(argv[i], "--save") == 0)
            *save = argv[i + 1];
        else if (strcmp(argv[i], "--mb") == 0 && cs_parse_long(argv[i + 1], mb, "--mb") == 0)
            ;
        else if (strcmp(argv[i], "--vocab") == 0 && cs_parse_long(argv[i + 1], &v, "--vocab") == 0)
            p->vocab = (size_t)v;
        else if (strcmp(argv[i], "--threads") == 0 &&
                 cs_parse_long(argv[i + 1], &v, "--threads") == 0)
            p->n_threads = (size_t)v;
        else
            return 1;
    }
    return i != argc || *mb <= 0;
}

int main(int argc, char **argv)
{
    cs_bpe_params p = cs_bpe_default_params();
    const char *path = NULL;
    const char *save = NULL;
    long mb = 70;
    corpus c = {0};
    cs_bpe *b = NULL;
    double t0;

    p.vocab = 32768;
    p.what = "corpus";
    if (parse_args(argc, argv, &path, &mb, &p, &save)) {
        fprintf(stderr, "usage: bench_bpe [--corpus FILE] [--mb MB] [--vocab V] [--threads T] "
                        "[--save PATH]\n");
        return 2;
    }
    c.cap = (size_t)mb << 20;
    c.data = malloc(c.cap);
    if (c.data == NULL)
        return 1;
    t0 = now();
    if (path != NULL ? load_file(&c, path) : (assemble(&c), 0)) {
        fprintf(stderr, "bench_bpe: cannot read %s\n", path);
        return 1;
    }
    printf("corpus: %.1f MB (%zu bytes) from %zu files, read in %.2f s\n", (double)c.n / 1e6, c.n,
           c.files, now() - t0);
    t0 = now();
    if (cs_bpe_train(c.data, c.n, &p, &b) != CS_OK) {
        fprintf(stderr, "bench_bpe: %s\n", cs_errmsg());
        return 1;
    }
    t0 = now() - t0;
    printf("peak RSS after training: %.0f MB (corpus included)\n", peak_rss_mb());
    report(b, &c, t0);
    if (save != NULL && cs_bpe_save(b, save, true) != CS_OK)
        fprintf(stderr, "bench_bpe: %s\n", cs_errmsg());
    printf("peak RSS at exit: %.0f MB (corpus, ids and decode buffers of the encoding check "
           "included)\n",
           peak_rss_mb());
    cs_bpe_free(b);
    free(c.data);
    return 0;
}
