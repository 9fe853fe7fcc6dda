/* data/sources.c: corpus sources (data/sources.h): user directories, file lists, JSONL and single
 * files; the pd-books and debian-docs corpora read from installed Debian packages (dpkg-query,
 * and the bible program for the King James text); Project Gutenberg boilerplate stripping.
 * Child programs run through posix_spawnp with argument vectors; no shell is involved.
 * Test: tests/unit/test_corpus.c, tests/cli/test_data_build.sh, tests/cli/test_data_pdbooks.sh.
 */
#include "data/sources.h"

#include "core/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CHUNK         ((size_t)1 << 20) /* bytes read from a file at a time */
#define MAX_CHILD_OUT ((size_t)1 << 30) /* most bytes taken from a child's stdout */
#define BIBLE_BOOKS   66                /* books of the King James Bible */

cs_sources_params cs_sources_default_params(void)
{
    cs_sources_params p;

    p.label = NULL;
    p.text_field = "text";
    p.title_field = "title";
    p.label_field = NULL;
    p.strip_gutenberg = false;
    return p;
}

// ---- the Debian corpora --------------------------------------------------------------------

/* Packages of pd-books: the bible program and its text, then the Go packages whose test data
 * holds Project Gutenberg books (chosen for size: golang-1.19-src also ships Opticks, but is
 * ~120 MB installed; the brotli package ships the identical file in 4 MB). */
static const char *const pd_packages[] = {
    "bible-kjv",
    "bible-kjv-text",
    "golang-github-colinmarc-hdfs-dev",
    "golang-github-pierrec-lz4-dev",
    "golang-github-andybalholm-brotli-dev",
    NULL,
};

typedef struct pd_book {
    const char *package;
    const char *suffix; /* end of the file's path in `dpkg-query -L package` */
    const char *title;
} pd_book;

static const pd_book pd_books[] = {
    {"golang-github-colinmarc-hdfs-dev", "/testdata/mobydick.txt",
     "Moby Dick; or The Whale (Herman Melville)"},
    {"golang-github-pierrec-lz4-dev", "/testdata/pg1661.txt",
     "The Adventures of Sherlock Holmes (Arthur Conan Doyle)"},
    {"golang-github-pierrec-lz4-dev", "/testdata/Mark.Twain-Tom.Sawyer.txt",
     "The Adventures of Tom Sawyer (Mark Twain)"},
    {"golang-github-andybalholm-brotli-dev", "/testdata/Isaac.Newton-Opticks.txt",
     "Opticks (Isaac Newton)"},
};

static const char *const docs_packages[] = {
    "python3.11-doc", "perl-doc", "vim-runtime", "linux-doc-6.1", NULL,
};

/* One labelled part of debian-docs: the files of `package` whose path contains `within` and
 * ends with `suffix`; a title is the path after the last `within`, minus `strip`. */
typedef struct doc_set {
    const char *label;
    const char *package;
    const char *within;
    const char *suffix;
    const char *strip;
} doc_set;

static const doc_set doc_sets[] = {
    {"python-doc", "python3.11-doc", "/html/_sources/", ".rst.txt", ".txt"},
    {"perl-doc", "perl-doc", "/pod/", ".pod", ""},
    {"vim-help", "vim-runtime", "/doc/", ".txt", ""},
    {"linux-doc", "linux-doc-6.1", "/html/_sources/", ".rst.txt", ".txt"},
};

const char *const *cs_sources_packages(const char *corpus)
{
    if (strcmp(corpus, "pd-books") == 0)
        return pd_packages;
    if (strcmp(corpus, "debian-docs") == 0)
        return docs_packages;
    return NULL;
}

// ---- small helpers -------------------------------------------------------------------------

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The last path component of `path` with trailing slashes ignored, as a label: characters a
 * label may not hold become '_', `ext` (if it ends the name) is dropped, at most
 * CS_CORPUS_LABEL_MAX bytes; "docs" when nothing is left. */
static void label_from_name(const char *path, const char *ext, char out[CS_CORPUS_LABEL_MAX + 1])
{
    size_t end = strlen(path);
    size_t start;
    size_t n = 0;
    size_t i;

    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (ext && end - start > strlen(ext) &&
        strncmp(path + end - strlen(ext), ext, strlen(ext)) == 0)
        end -= strlen(ext);
    for (i = start; i < end && n < CS_CORPUS_LABEL_MAX; i++) {
        char c = path[i];

        out[n++] = (char)(((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || strchr("._:+-", c)) &&
                                  c
                              ? c
                              : '_');
    }
    out[n] = '\0';
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        strcpy(out, "docs");
}

/* The extension of the last component of path (".txt"), or NULL when it has none. */
static const char *ext_of(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(base, '.');

    return dot && dot != base ? dot : NULL;
}

/* Reads the whole file into *buf (malloc'ed, n bytes, plus a NUL not counted). */
static int read_file(const char *path, uint8_t **buf, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    size_t len = 0;
    size_t cap = 0;
    int st = CS_OK;

    if (f == NULL)
        return cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO, "%s: cannot open: %s", path,
                       strerror(errno));
    do {
        if (len + CHUNK + 1 > cap) {
            uint8_t *nb = realloc(b, cap = 2 * cap + CHUNK + 1);

            if (nb == NULL) {
                st = cs_fail(CS_ENOMEM, "%s: out of memory", path);
                break;
            }
            b = nb;
        }
        len += fread(b + len, 1, CHUNK, f);
        if (ferror(f))
            st = cs_fail(CS_EIO, "%s: read failed: %s", path, strerror(errno));
    } while (st == CS_OK && !feof(f));
    fclose(f);
    if (st) {
        free(b);
        return st;
    }
    b[len] = '\0';
    *buf = b;
    *n = len;
    return CS_OK;
}

/* Hex SHA-256 of bytes. */
static void sha_hex(const uint8_t *bytes, size_t n, char hex[65])
{
    uint8_t sum[32];

    cs_corpus_sha256_bytes(bytes, n, sum);
    cs_corpus_hex(sum, 32, hex);
}

// ---- running programs ----------------------------------------------------------------------

/* Output of a child program. */
typedef struct child {
    char *out; /* stdout, NUL-terminated (n_out bytes) */
    size_t n_out;
    size_t cap;
    char err[512]; /* start of stderr, NUL-terminated, newlines as spaces */
    size_t n_err;
    int code; /* exit status, or 128 + signal */
} child;

/* Appends what fd has to the child's stdout (is_err false) or stderr; sets *open false at EOF. */
static int drain(child *c, int fd, bool is_err, bool *open)
{
    char tmp[65536];
    ssize_t k = read(fd, tmp, sizeof tmp);

    if (k < 0)
        return errno == EINTR || errno == EAGAIN
                   ? CS_OK
                   : cs_fail(CS_EIO, "read from a child: %s", strerror(errno));
    if (k == 0) {
        *open = false;
        return CS_OK;
    }
    if (is_err) {
        size_t take =
            (size_t)k < sizeof c->err - 1 - c->n_err ? (size_t)k : sizeof c->err - 1 - c->n_err;

        memcpy(c->err + c->n_err, tmp, take);
        c->n_err += take;
        return CS_OK;
    }
    if (c->n_out + (size_t)k + 1 > c->cap) {
        char *nb;

        if (c->n_out + (size_t)k > MAX_CHILD_OUT)
            return cs_fail(CS_EIO, "a child program printed more than %zu bytes", MAX_CHILD_OUT);
        nb = realloc(c->out, c->cap = 2 * c->cap + (size_t)k + 1);
        if (nb == NULL)
            return cs_fail(CS_ENOMEM, "out of memory reading a child program");
        c->out = nb;
    }
    memcpy(c->out + c->n_out, tmp, (size_t)k);
    c->n_out += (size_t)k;
    return CS_OK;
}

/* Reads both pipes until both close. */
static int collect(child *c, int fd_out, int fd_err)
{
    bool open[2] = {true, true};
    int st = CS_OK;

    while (st == CS_OK && (open[0] || open[1])) {
        struct pollfd pf[2] = {{open[0] ? fd_out : -1, POLLIN, 0},
                               {open[1] ? fd_err : -1, POLLIN, 0}};

        if (poll(pf, 2, -1) < 0) {
            if (errno != EINTR)
                st = cs_fail(CS_EIO, "poll: %s", strerror(errno));
            continue;
        }
        if (pf[0].revents)
            st = drain(c, fd_out, false, &open[0]);
        if (st == CS_OK && pf[1].revents)
            st = drain(c, fd_err, true, &open[1]);
    }
    return st;
}

/* Starts argv[0] (looked up in PATH) with stdin from /dev/null and both outputs piped. */
static int spawn(char *const argv[], int fd_out, int fd_err, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    int err;

    if (posix_spawn_file_actions_init(&fa) != 0)
        return cs_fail(CS_ENOMEM, "out of memory starting %s", argv[0]);
    err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (err == 0)
        err = posix_spawn_file_actions_adddup2(&fa, fd_out, 1);
    if (err == 0)
        err = posix_spawn_file_actions_adddup2(&fa, fd_err, 2);
    if (err == 0)
        err = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err == ENOENT)
        return cs_fail(CS_EINPUT, "%s: program not found in PATH", argv[0]);
    if (err)
        return cs_fail(CS_EIO, "%s: cannot start: %s", argv[0], strerror(err));
    return CS_OK;
}

/* Runs argv to completion, capturing its outputs in *c (free c->out). A program that cannot be
 * started is CS_EINPUT when not found, else CS_EIO; its exit status is left to the caller. */
static int run_child(char *const argv[], child *c)
{
    int po[2] = {-1, -1};
    int pe[2] = {-1, -1};
    pid_t pid = -1;
    int ws;
    int st;
    size_t i;

    memset(c, 0, sizeof *c);
    if (pipe(po) != 0 || pipe(pe) != 0) {
        st = cs_fail(CS_EIO, "pipe: %s", strerror(errno));
        goto out_close;
    }
    for (i = 0; i < 2; i++) { /* the child keeps only the dup2'ed copies */
        fcntl(po[i], F_SETFD, FD_CLOEXEC);
        fcntl(pe[i], F_SETFD, FD_CLOEXEC);
    }
    st = spawn(argv, po[1], pe[1], &pid);
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;
    if (st == CS_OK)
        st = collect(c, po[0], pe[0]);
    while (pid > 0 && waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (pid > 0)
        c->code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    for (i = 0; i < c->n_err; i++)
        c->err[i] = c->err[i] == '\n' || c->err[i] == '\r' ? ' ' : c->err[i];
    if (st == CS_OK && c->out == NULL && (c->out = malloc(1)) == NULL)
        st = cs_fail(CS_ENOMEM, "out of memory");
    if (c->out)
        c->out[c->n_out] = '\0';
out_close:
    for (i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
    if (st) {
        free(c->out);
        c->out = NULL;
    }
    return st;
}

// ---- dpkg ----------------------------------------------------------------------------------

/* Next line of text (NUL-terminated buffer, modified): returns it and advances *p. */
static char *next_line(char **p)
{
    char *s = *p;
    char *nl;

    if (*s == '\0')
        return NULL;
    nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else
        *p = s + strlen(s);
    return s;
}

/* Fills version[i] (malloc'ed) for every installed package of pkgs[0..n), NULL for the others.
 * dpkg-query exits 1 when it knows nothing of a package; that is an answer, not an error. */
static int dpkg_versions(const char *const *pkgs, size_t n, char **version)
{
    char *argv[16] = {"dpkg-query", "-W", "-f=${Package}\t${Status}\t${Version}\n"};
    child c;
    char *p;
    char *line;
    size_t i;
    int st;

    CS_ASSERT(n + 4 <= sizeof argv / sizeof argv[0]);
    for (i = 0; i < n; i++)
        argv[3 + i] = (char *)pkgs[i];
    st = run_child(argv, &c);
    if (st == CS_EINPUT)
        return cs_fail(CS_EINPUT,
                       "dpkg-query: not found; this corpus is read from Debian "
                       "packages (on another system use dir:, files: or jsonl: sources)");
    if (st)
        return st;
    if (c.code != 0 && c.code != 1) {
        st = cs_fail(CS_EIO, "dpkg-query -W failed (exit %d): %s", c.code, c.err);
        free(c.out);
        return st;
    }
    for (p = c.out; (line = next_line(&p)) != NULL;) {
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;

        if (t2 == NULL)
            continue;
        *t1 = *t2 = '\0';
        if (!ends_with(t1 + 1, " installed"))
            continue;
        for (i = 0; i < n; i++)
            if (version[i] == NULL && strcmp(line, pkgs[i]) == 0)
                version[i] = strdup(t2 + 1);
    }
    free(c.out);
    return CS_OK;
}

/* Checks that every package of the NULL-terminated list is installed; version[i] gets each
 * version. A missing one is CS_EINPUT naming all missing ones and the commands to install them. */
static int need_packages(const char *corpus, const char *const *pkgs, char **version)
{
    char missing[1024] = "";
    size_t n = 0;
    size_t i;
    int st;

    while (pkgs[n])
        n++;
    st = dpkg_versions(pkgs, n, version);
    if (st)
        return cs_fail_prefix(st, "%s", corpus);
    for (i = 0; i < n; i++)
        if (version[i] == NULL) {
            strncat(missing, " ", sizeof missing - strlen(missing) - 1);
            strncat(missing, pkgs[i], sizeof missing - strlen(missing) - 1);
        }
    if (missing[0] == '\0')
        return CS_OK;
    return cs_fail(CS_EINPUT,
                   "%s: Debian packages not installed:%s; install them with: sudo "
                   "apt-get install%s (or scripts/deps-corpus.sh %s)",
                   corpus, missing, missing, corpus);
}

/* The files of an installed package, one path a line (dpkg-query -L); *list must be freed. */
static int dpkg_files(const char *pkg, char **list)
{
    char *argv[] = {"dpkg-query", "-L", (char *)pkg, NULL};
    child c;
    int st = run_child(argv, &c);

    if (st)
        return st;
    if (c.code != 0) {
        st = cs_fail(CS_EIO, "dpkg-query -L %s failed (exit %d): %s", pkg, c.code, c.err);
        free(c.out);
        return st;
    }
    *list = c.out;
    return CS_OK;
}

/* The path in `pkg`'s file list that ends with `suffix` (malloc'ed). CS_EIO when none does. */
static int dpkg_find(const char *pkg, const char *suffix, char **path)
{
    char *list;
    char *p;
    char *line;
    int st = dpkg_files(pkg, &list);

    if (st)
        return st;
    *path = NULL;
    for (p = list; *path == NULL && (line = next_line(&p)) != NULL;)
        if (line[0] == '/' && ends_with(line, suffix))
            *path = strdup(line);
    free(list);
    if (*path == NULL)
        return cs_fail(CS_EIO,
                       "package %s lists no file ending in %s (another version of the "
                       "package?)",
                       pkg, suffix);
    return CS_OK;
}

static const char *version_of(const char *const *pkgs, char **version, const char *pkg)
{
    size_t i;

    for (i = 0; pkgs[i]; i++)
        if (strcmp(pkgs[i], pkg) == 0)
            return version[i];
    return NULL;
}

static void free_versions(char **version, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(version[i]);
}

// ---- Project Gutenberg ---------------------------------------------------------------------

/* Case-insensitive: does s[0..n) contain `needle`? */
static bool has_ci(const uint8_t *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    size_t i;

    for (i = 0; i + k <= n; i++)
        if (strncasecmp((const char *)s + i, needle, k) == 0)
            return true;
    return false;
}

/* How many blanks (space, tab, CR) s[0..n) starts with. */
static size_t skip_blanks(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    return i;
}

static bool is_start_marker(const uint8_t *s, size_t n)
{
    size_t b = skip_blanks(s, n);

    s += b;
    n -= b;
    if (n >= 3 && memcmp(s, "***", 3) == 0 && has_ci(s, n, "START OF TH") &&
        has_ci(s, n, "PROJECT GUTENBERG"))
        return true;
    return n >= 20 && has_ci(s, 20, "*END*THE SMALL PRINT");
}

static bool is_end_marker(const uint8_t *s, size_t n)
{
    size_t b = skip_blanks(s, n);

    s += b;
    n -= b;
    if (n >= 3 && memcmp(s, "***", 3) == 0 && has_ci(s, n, "END OF TH") &&
        has_ci(s, n, "PROJECT GUTENBERG"))
        return true;
    return n >= 6 && strncasecmp((const char *)s, "end of", 6) == 0 &&
           has_ci(s, n, "PROJECT GUTENBERG");
}

/* Offset just after the line starting at i (or n). */
static size_t line_end(const uint8_t *s, size_t n, size_t i)
{
    const uint8_t *nl = memchr(s + i, '\n', n - i);

    return nl ? (size_t)(nl - s) + 1 : n;
}

/* Is s[b..e) a line of blanks only (its newline included)? */
static bool blank_line(const uint8_t *s, size_t b, size_t e)
{
    size_t k = skip_blanks(s + b, e - b);

    return b + k == e || (b + k + 1 == e && s[e - 1] == '\n');
}

/* Skips blank lines and a first "Produced by" paragraph starting at b. */
static size_t skip_front(const uint8_t *s, size_t n, size_t b)
{
    bool credit_done = false;

    while (b < n) {
        size_t e = line_end(s, n, b);

        if (blank_line(s, b, e)) {
            b = e;
            continue;
        }
        if (credit_done || e - b < 11 || strncasecmp((const char *)s + b, "Produced by", 11) != 0)
            return b;
        credit_done = true;
        while (b < n && !blank_line(s, b, line_end(s, n, b)))
            b = line_end(s, n, b); /* the credit paragraph, up to a blank line */
    }
    return b;
}

bool cs_sources_strip_gutenberg(const uint8_t *s, size_t n, size_t *begin, size_t *end)
{
    size_t b = 0;
    size_t e = n;
    size_t i;
    bool found = false;

    for (i = 0; i < n; i = line_end(s, n, i))
        if (is_start_marker(s + i, line_end(s, n, i) - i)) {
            b = line_end(s, n, i);
            found = true;
            break;
        }
    for (i = b; i < n; i = line_end(s, n, i))
        if (is_end_marker(s + i, line_end(s, n, i) - i)) {
            e = i;
            found = true;
            break;
        }
    b = skip_front(s, e, b);
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
        e--;
    *begin = b;
    *end = e;
    return found;
}

/* Cleans a Debian-shipped book in place: body only, CRLF as LF, no byte-order mark, one final
 * newline. *n gets the new length (the buffer has room: the text only shrinks, plus the
 * newline the trimming removed). */
static void clean_book(uint8_t *s, size_t *n)
{
    size_t b;
    size_t e;
    size_t o = 0;
    size_t i;

    cs_sources_strip_gutenberg(s, *n, &b, &e);
    if (e - b >= 3 && memcmp(s + b, "\xEF\xBB\xBF", 3) == 0)
        b += 3;
    for (i = b; i < e; i++)
        if (!(s[i] == '\r' && i + 1 < e && s[i + 1] == '\n'))
            s[o++] = s[i];
    if (o > 0)
        s[o++] = '\n';
    *n = o;
}

// ---- pd-books ------------------------------------------------------------------------------

/* Adds one document per book of the KJV from the bible program's output: pretty-printed, a
 * chapter heading "Book N" on a line of its own (the only lines not starting with a blank),
 * verses "  V text" below. A book's document runs from its first heading to the next book's. */
static int add_bible_books(cs_corpus_writer *w, size_t src, char *out)
{
    char book[128] = "";
    char *start = NULL; /* first heading of the current book */
    char *p = out;
    size_t books = 0;
    int st = CS_OK;

    for (; st == CS_OK; p = strchr(p, '\n') + 1) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t name = len;
        bool heading = len > 0 && p[0] != ' ';

        while (heading && name > 0 && p[name - 1] >= '0' && p[name - 1] <= '9')
            name--;
        if (heading && (name == len || name < 2 || p[name - 1] != ' ' || name > sizeof book))
            return cs_fail(CS_EIO, "bible: unexpected output line \"%.60s\"", p);
        if (start && (nl == NULL ||
                      (heading && (strlen(book) != name - 1 || memcmp(book, p, name - 1) != 0)))) {
            char *e = nl ? p : p + len;

            while (e > start && (e[-1] == '\n' || e[-1] == ' '))
                e--;
            st = cs_corpus_writer_begin(w, src, NULL, book);
            st = st ? st : cs_corpus_writer_write(w, start, (size_t)(e - start));
            st = st ? st : cs_corpus_writer_write(w, "\n", 1);
            st = st ? st : cs_corpus_writer_end(w, NULL);
            start = NULL;
            books++;
        }
        if (nl == NULL)
            break;
        if (heading && start == NULL) {
            memcpy(book, p, name - 1);
            book[name - 1] = '\0';
            start = p;
        }
    }
    if (st == CS_OK && books != BIBLE_BOOKS)
        return cs_fail(CS_EIO,
                       "bible: printed %zu books; expected the %d of the King James "
                       "Bible",
                       books, BIBLE_BOOKS);
    return st;
}

/* Records the source of the Bible: the data file of bible-kjv-text (its path in *data, malloc'ed)
 * with its checksum, decoded by bible-kjv's program. */
static int bible_source(cs_corpus_writer *w, const char *spec, char **version, char **data,
                        size_t *src)
{
    char via[256];
    char hex[65];
    cs_corpus_source s = {.kind = "debian-package",
                          .spec = spec,
                          .label = "bible-kjv",
                          .package = "bible-kjv-text",
                          .via = via,
                          .sha256 = hex};
    uint8_t *bytes;
    size_t n;
    int st = dpkg_find("bible-kjv-text", "/bible.data", data);

    if (st)
        return st;
    st = read_file(*data, &bytes, &n);
    if (st)
        return st;
    sha_hex(bytes, n, hex);
    free(bytes);
    snprintf(via, sizeof via, "bible -p %.*s -l 1000000 gen1:1-rev22:21 (bible-kjv %s)",
             (int)(strrchr(*data, '/') == *data ? 1 : strrchr(*data, '/') - *data), *data,
             version_of(pd_packages, version, "bible-kjv"));
    s.path = *data;
    s.version = version_of(pd_packages, version, "bible-kjv-text");
    return cs_corpus_writer_add_source(w, &s, src);
}

/* The King James Bible: one document per book from `bible -p DIR -l 1000000 gen1:1-rev22:21`,
 * DIR holding the data file (-l: no wrapping of verses). */
static int add_bible(cs_corpus_writer *w, const char *spec, char **version)
{
    char *data = NULL;
    char *slash;
    size_t src;
    child c = {0};
    int st = bible_source(w, spec, version, &data, &src);

    if (st == CS_OK) {
        char *argv[] = {"bible", "-p", data, "-l", "1000000", "gen1:1-rev22:21", NULL};

        slash = strrchr(data, '/'); /* dpkg lists absolute paths: there is one */
        slash[slash == data ? 1 : 0] = '\0';
        st = run_child(argv, &c);
    }
    if (st == CS_OK && c.code != 0)
        st = cs_fail(CS_EIO, "bible failed (exit %d): %s", c.code, c.err);
    if (st == CS_OK)
        st = add_bible_books(w, src, c.out);
    free(c.out);
    free(data);
    return st;
}

/* One Project Gutenberg book shipped in a Debian package. */
static int add_book(cs_corpus_writer *w, const char *spec, const pd_book *b, const char *version)
{
    char *path = NULL;
    uint8_t *bytes = NULL;
    size_t n;
    size_t src;
    char hex[65];
    cs_corpus_source s = {.kind = "debian-package",
                          .spec = spec,
                          .label = "gutenberg",
                          .package = b->package,
                          .version = version,
                          .sha256 = hex};
    int st = dpkg_find(b->package, b->suffix, &path);

    if (st == CS_OK)
        st = read_file(path, &bytes, &n);
    if (st)
        goto out_free;
    sha_hex(bytes, n, hex);
    s.path = path;
    st = cs_corpus_writer_add_source(w, &s, &src);
    if (st)
        goto out_free;
    clean_book(bytes, &n);
    st = cs_corpus_writer_add(w, src, NULL, b->title, bytes, n, NULL);
out_free:
    free(bytes);
    free(path);
    return st;
}

static int add_pd_books(cs_corpus_writer *w, const char *spec)
{
    char *version[sizeof pd_packages / sizeof pd_packages[0]] = {0};
    size_t i;
    int st = need_packages("pd-books", pd_packages, version);

    if (st == CS_OK)
        st = add_bible(w, spec, version);
    for (i = 0; st == CS_OK && i < sizeof pd_books / sizeof pd_books[0]; i++)
        st = add_book(w, spec, &pd_books[i], version_of(pd_packages, version, pd_books[i].package));
    free_versions(version, sizeof version / sizeof version[0]);
    return st;
}

// ---- debian-docs ---------------------------------------------------------------------------

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths of d's package that belong to the set, sorted; *paths points into list. */
static int set_paths(const doc_set *d, char *list, char ***paths, size_t *n)
{
    char *p = list;
    char *line;
    size_t cap = 0;

    *paths = NULL;
    *n = 0;
    while ((line = next_line(&p)) != NULL) {
        if (line[0] != '/' || !strstr(line, d->within) || !ends_with(line, d->suffix))
            continue;
        if (*n == cap) {
            char **np = realloc(*paths, (cap = 2 * cap + 64) * sizeof *np);

            if (np == NULL)
                return cs_fail(CS_ENOMEM, "out of memory listing %s", d->package);
            *paths = np;
        }
        (*paths)[(*n)++] = line;
    }
    if (*n > 0)
        qsort(*paths, *n, sizeof **paths, cmp_str);
    return CS_OK;
}

/* Title of a debian-docs file: path after the last `within`, minus `strip`. */
static void set_title(const doc_set *d, const char *path, char *title, size_t cap)
{
    const char *t = path;
    const char *q;
    size_t len;

    for (q = strstr(path, d->within); q; q = strstr(q + 1, d->within))
        t = q + strlen(d->within);
    len = strlen(t);
    if (ends_with(t, d->strip))
        len -= strlen(d->strip);
    snprintf(title, cap, "%.*s", (int)len, t);
}

/* Records the source of a debian-docs set: its package, with the directory the titles are
 * relative to (up to the last `within` of the first path) as the path. */
static int doc_set_source(cs_corpus_writer *w, const char *spec, const doc_set *d, const char *ver,
                          const char *first, size_t *src)
{
    cs_corpus_source s = {.kind = "debian-package",
                          .spec = spec,
                          .label = d->label,
                          .package = d->package,
                          .version = ver};
    char *dir = strdup(first);
    char *q = dir;
    int st;

    if (dir == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    while ((q = strstr(q, d->within)) != NULL && strstr(q + 1, d->within) != NULL)
        q++;
    if (q)
        q[strlen(d->within) - 1] = '\0';
    s.path = dir;
    st = cs_corpus_writer_add_source(w, &s, src);
    free(dir);
    return st;
}

static int add_doc_set(cs_corpus_writer *w, const char *spec, const doc_set *d, const char *ver)
{
    char *list = NULL;
    char **paths = NULL;
    char title[4096];
    size_t n = 0;
    size_t src;
    size_t i;
    int st = dpkg_files(d->package, &list);

    if (st == CS_OK)
        st = set_paths(d, list, &paths, &n);
    if (st == CS_OK && n == 0)
        st = cs_fail(CS_EIO,
                     "package %s lists no *%s file under %s (another version of the "
                     "package?)",
                     d->package, d->suffix, d->within);
    if (st == CS_OK)
        st = doc_set_source(w, spec, d, ver, paths[0], &src);
    for (i = 0; st == CS_OK && i < n; i++) {
        uint8_t *bytes;
        size_t len;

        st = read_file(paths[i], &bytes, &len);
        if (st)
            break;
        set_title(d, paths[i], title, sizeof title);
        st = cs_corpus_writer_add(w, src, NULL, title, bytes, len, NULL);
        free(bytes);
    }
    free(paths);
    free(list);
    return st;
}

static int add_debian_docs(cs_corpus_writer *w, const char *spec)
{
    char *version[sizeof docs_packages / sizeof docs_packages[0]] = {0};
    size_t i;
    int st = need_packages("debian-docs", docs_packages, version);

    for (i = 0; st == CS_OK && i < sizeof doc_sets / sizeof doc_sets[0]; i++)
        st = add_doc_set(w, spec, &doc_sets[i],
                         version_of(docs_packages, version, doc_sets[i].package));
    free_versions(version, sizeof version / sizeof version[0]);
    return st;
}

// ---- user files ----------------------------------------------------------------------------

/* Records a source that is not a Debian package. */
static int user_source(cs_corpus_writer *w, const char *kind, const char *spec, const char *label,
                       const char *path, size_t *src)
{
    cs_corpus_source s = {kind, spec, label, path, NULL, NULL, NULL, NULL};

    return cs_corpus_writer_add_source(w, &s, src);
}

/* Adds the file at `path` as one document titled `title`: streamed in chunks, or read whole and
 * stripped when p->strip_gutenberg. `what` names the file in messages (e.g. "LIST:3: path"). */
static int add_one_file(cs_corpus_writer *w, size_t src, const char *path, const char *title,
                        const cs_sources_params *p)
{
    uint8_t *buf = NULL;
    size_t n;
    size_t b;
    size_t e;
    FILE *f;
    int st;

    if (p->strip_gutenberg) {
        st = read_file(path, &buf, &n);
        if (st == CS_OK) {
            cs_sources_strip_gutenberg(buf, n, &b, &e);
            st = cs_corpus_writer_add(w, src, NULL, title, buf + b, e - b, NULL);
        }
        free(buf);
        return st;
    }
    f = fopen(path, "rb");
    if (f == NULL)
        return cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO, "%s: cannot open: %s", path,
                       strerror(errno));
    buf = malloc(CHUNK);
    st = buf ? cs_corpus_writer_begin(w, src, NULL, title) : cs_fail(CS_ENOMEM, "out of memory");
    while (st == CS_OK && (n = fread(buf, 1, CHUNK, f)) > 0)
        st = cs_corpus_writer_write(w, buf, n);
    if (st == CS_OK && ferror(f))
        st = cs_fail(CS_EIO, "%s: read failed: %s", path, strerror(errno));
    if (st == CS_OK)
        st = cs_corpus_writer_end(w, NULL);
    fclose(f);
    free(buf);
    return st;
}

static int cmp_dirent(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Kind of a directory entry: 'd' directory (not through a link), 'f' regular file (links
 * followed), 0 anything else. A link that leads nowhere is an error: skipping it would drop a
 * document silently. */
static int entry_kind(const char *path, char *kind)
{
    struct stat sb;

    *kind = 0;
    if (lstat(path, &sb) != 0)
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        *kind = 'd';
        return CS_OK;
    }
    if (S_ISLNK(sb.st_mode) && stat(path, &sb) != 0)
        return cs_fail(CS_EINPUT, "%s: a link to nothing readable: %s", path, strerror(errno));
    if (S_ISREG(sb.st_mode))
        *kind = 'f';
    return CS_OK;
}

/* Adds the files under root/rel in name order; rel "" is root itself. */
static int walk(cs_corpus_writer *w, size_t src, const char *root, const char *rel,
                const cs_sources_params *p)
{
    char *dir = rel[0] ? join(root, rel) : strdup(root);
    struct dirent **ents = NULL;
    int n = dir ? scandir(dir, &ents, not_hidden, cmp_dirent) : -1;
    int st = CS_OK;
    int i;

    if (dir == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    if (n < 0)
        st = cs_fail(errno == ENOENT || errno == ENOTDIR ? CS_EINPUT : CS_EIO, "%s: %s", dir,
                     strerror(errno));
    for (i = 0; i < n; i++) {
        char *sub = rel[0] ? join(rel, ents[i]->d_name) : strdup(ents[i]->d_name);
        char *full = sub ? join(root, sub) : NULL;
        char kind = 0;

        if (st == CS_OK && full == NULL)
            st = cs_fail(CS_ENOMEM, "out of memory");
        if (st == CS_OK)
            st = entry_kind(full, &kind);
        if (st == CS_OK && kind == 'd')
            st = walk(w, src, root, sub, p);
        else if (st == CS_OK && kind == 'f')
            st = add_one_file(w, src, full, sub, p);
        free(full);
        free(sub);
        free(ents[i]);
    }
    free(ents);
    free(dir);
    return st;
}

static int add_dir(cs_corpus_writer *w, const char *spec, const char *path,
                   const cs_sources_params *p)
{
    char label[CS_CORPUS_LABEL_MAX + 1];
    size_t src;
    int st;

    label_from_name(path, NULL, label);
    st = user_source(w, "directory", spec, p->label ? p->label : label, path, &src);
    return st ? st : walk(w, src, path, "", p);
}

static int add_file(cs_corpus_writer *w, const char *spec, const char *path,
                    const cs_sources_params *p)
{
    char label[CS_CORPUS_LABEL_MAX + 1];
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t src;
    int st;

    label_from_name(path, ext_of(path), label);
    st = user_source(w, "file", spec, p->label ? p->label : label, path, &src);
    return st ? st : add_one_file(w, src, path, base, p);
}

/* `line` of a file list as a path: absolute as is, else relative to the list's directory. */
static char *list_path(const char *list, const char *line)
{
    const char *slash = strrchr(list, '/');
    size_t k;
    char *p;

    if (line[0] == '/' || slash == NULL)
        return strdup(line);
    k = (size_t)(slash - list);
    p = malloc(k + strlen(line) + 2);
    if (p)
        sprintf(p, "%.*s/%s", (int)k, list, line);
    return p;
}

/* One line of a file list: the document it names, titled with the line. */
static int list_entry(cs_corpus_writer *w, size_t src, const char *list, size_t lineno,
                      const char *line, const cs_sources_params *p)
{
    char *path = list_path(list, line);
    struct stat sb;
    int st;

    if (path == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    if (stat(path, &sb) != 0)
        st = cs_fail(CS_EINPUT, "%s:%zu: %s: %s", list, lineno, line, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = cs_fail(CS_EINPUT, "%s:%zu: %s: not a regular file", list, lineno, line);
    else
        st = add_one_file(w, src, path, line, p);
    free(path);
    return st;
}

/* files:LIST: one path a line, relative to LIST's directory; blank lines and lines starting
 * with '#' are skipped. A listed path that is missing or not a regular file is an error naming
 * the list's line. */
static int add_list(cs_corpus_writer *w, const char *spec, const char *list,
                    const cs_sources_params *p)
{
    char label[CS_CORPUS_LABEL_MAX + 1];
    char *text = NULL;
    char *cur;
    char *line;
    size_t n;
    size_t src;
    size_t lineno = 0;
    int st = read_file(list, (uint8_t **)&text, &n);

    label_from_name(list, ext_of(list), label);
    if (st == CS_OK)
        st = user_source(w, "file-list", spec, p->label ? p->label : label, list, &src);
    for (cur = text; st == CS_OK && (line = next_line(&cur)) != NULL;) {
        size_t len = strlen(line);

        lineno++;
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len > 0 && line[0] != '#')
            st = list_entry(w, src, list, lineno, line, p);
    }
    free(text);
    return st;
}

// ---- JSONL ---------------------------------------------------------------------------------

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* The title of a JSONL document: the title field, else an "id" string or integer, else
 * "BASENAME:LINE". */
static void jsonl_title(const json_t *o, const char *field, const char *base, size_t lineno,
                        char *out, size_t cap)
{
    const json_t *t = json_object_get(o, field);
    const json_t *id = json_object_get(o, "id");

    if (json_is_string(t))
        snprintf(out, cap, "%s", json_string_value(t));
    else if (json_is_string(id))
        snprintf(out, cap, "%s", json_string_value(id));
    else if (json_is_integer(id))
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    else
        snprintf(out, cap, "%s:%zu", base, lineno);
}

/* One JSON line (len bytes, not blank) of jsonl file `path`. */
static int jsonl_line(cs_corpus_writer *w, size_t src, const char *path, size_t lineno,
                      const char *line, size_t len, const cs_sources_params *p)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    const json_t *text;
    const json_t *lab = NULL;
    char title[1024];
    int st = CS_OK;

    if (o == NULL)
        return cs_fail(CS_EINPUT, "%s:%zu: invalid JSON at column %d: %s", path, lineno, je.column,
                       je.text);
    text = json_object_get(o, p->text_field);
    if (p->label_field)
        lab = json_object_get(o, p->label_field);
    if (!json_is_object(o))
        st = cs_fail(CS_EINPUT, "%s:%zu: expected a JSON object, got %s", path, lineno,
                     json_kind(o));
    else if (text == NULL)
        st = cs_fail(CS_EINPUT,
                     "%s:%zu: no \"%s\" field (--text-field names the field that "
                     "holds the text)",
                     path, lineno, p->text_field);
    else if (!json_is_string(text))
        st = cs_fail(CS_EINPUT, "%s:%zu: field \"%s\": expected a string, got %s", path, lineno,
                     p->text_field, json_kind(text));
    else if (p->label_field &&
             !(json_is_string(lab) && cs_corpus_label_is_valid(json_string_value(lab))))
        st = cs_fail(CS_EINPUT,
                     "%s:%zu: field \"%s\": expected a label (1 to %d letters, "
                     "digits or . _ : + -)",
                     path, lineno, p->label_field, CS_CORPUS_LABEL_MAX);
    if (st == CS_OK) {
        jsonl_title(o, p->title_field, base, lineno, title, sizeof title);
        st = cs_corpus_writer_add(w, src, lab ? json_string_value(lab) : NULL, title,
                                  json_string_value(text), json_string_length(text), NULL);
    }
    json_decref(o);
    return st;
}

static bool is_blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* jsonl:FILE: one JSON object a line; blank lines are skipped. The source's checksum is the
 * file's SHA-256. */
static int add_jsonl(cs_corpus_writer *w, const char *spec, const char *path,
                     const cs_sources_params *p)
{
    char label[CS_CORPUS_LABEL_MAX + 1];
    cs_corpus_sha256 sha;
    uint8_t sum[32];
    char hex[65];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t lineno = 0;
    size_t src;
    FILE *f = fopen(path, "rb");
    int st;

    if (f == NULL)
        return cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO, "%s: cannot open: %s", path,
                       strerror(errno));
    label_from_name(path, ext_of(path), label);
    st = user_source(w, "jsonl", spec, p->label ? p->label : label, path, &src);
    cs_corpus_sha256_init(&sha);
    while (st == CS_OK && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        cs_corpus_sha256_update(&sha, line, (size_t)len);
        if (!is_blank(line, (size_t)len))
            st = jsonl_line(w, src, path, lineno, line, (size_t)len, p);
    }
    if (st == CS_OK && ferror(f))
        st = cs_fail(CS_EIO, "%s: read failed: %s", path, strerror(errno));
    cs_corpus_sha256_final(&sha, sum);
    cs_corpus_hex(sum, 32, hex);
    if (st == CS_OK)
        st = cs_corpus_writer_source_checksum(w, src, hex);
    free(line);
    fclose(f);
    return st;
}

// ---- specs ---------------------------------------------------------------------------------

/* "~/x" as "$HOME/x" (the shell does not expand a tilde after "dir:"); else a copy. */
static char *expand_home(const char *path)
{
    const char *home = getenv("HOME");

    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home && *home)
        return join(home, path[1] ? path + 2 : "");
    return strdup(path);
}

/* Dispatches spec to its reader. */
static int add_spec(cs_corpus_writer *w, const char *spec, const cs_sources_params *p)
{
    static const char *const prefixes[] = {"dir:", "files:", "jsonl:", "file:"};
    struct stat sb;
    size_t k;

    if (strcmp(spec, "pd-books") == 0)
        return add_pd_books(w, spec);
    if (strcmp(spec, "debian-docs") == 0)
        return add_debian_docs(w, spec);
    for (k = 0; k < 4; k++)
        if (strncmp(spec, prefixes[k], strlen(prefixes[k])) == 0)
            break;
    if (k == 4) { /* a bare path */
        if (stat(spec, &sb) != 0)
            return cs_fail(CS_EINPUT,
                           "%s: not a corpus name (pd-books, debian-docs), a "
                           "dir:, files:, jsonl: or file: source, nor an existing path",
                           spec);
        k = S_ISDIR(sb.st_mode) ? 0 : ends_with(spec, ".jsonl") ? 2 : 3;
        return k == 0   ? add_dir(w, spec, spec, p)
               : k == 2 ? add_jsonl(w, spec, spec, p)
                        : add_file(w, spec, spec, p);
    }
    {
        char *path = expand_home(spec + strlen(prefixes[k]));
        int st;

        if (path == NULL)
            return cs_fail(CS_ENOMEM, "out of memory");
        if (path[0] == '\0')
            st = cs_fail(CS_EINPUT, "%s: expected a path after \"%s\"", spec, prefixes[k]);
        else
            st = k == 0   ? add_dir(w, spec, path, p)
                 : k == 1 ? add_list(w, spec, path, p)
                 : k == 2 ? add_jsonl(w, spec, path, p)
                          : add_file(w, spec, path, p);
        free(path);
        return st;
    }
}

int cs_sources_add(cs_corpus_writer *w, const char *spec, const cs_sources_params *p)
{
    cs_sources_params def = cs_sources_default_params();
    size_t before = cs_corpus_writer_count(w);
    int st;

    if (p == NULL)
        p = &def;
    if (p->label && !cs_corpus_label_is_valid(p->label))
        return cs_fail(CS_EINPUT,
                       "label \"%.80s\": expected 1 to %d letters, digits or . _ : "
                       "+ - characters",
                       p->label, CS_CORPUS_LABEL_MAX);
    st = add_spec(w, spec, p);
    if (st == CS_OK && cs_corpus_writer_count(w) == before)
        st = cs_fail(CS_EINPUT, "%s: no documents (empty files and texts are skipped)", spec);
    return st;
}
