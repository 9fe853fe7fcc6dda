/* plots/gnuplot.c: gnuplot string literals that cannot run anything, and running gnuplot without
 * a shell (plots/gnuplot.h). Test: tests/unit/test_plot.c.
 */
#include "plots/gnuplot.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 16

const char *cs_gnuplot_program(void)
{
    const char *p = getenv(CS_GNUPLOT_ENV);

    return (p && *p) ? p : "gnuplot";
}

// ---- strings -------------------------------------------------------------------------------

bool cs_gnuplot_is_plain(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '_' || c == '.' || c == ',' || c == ':' || c == '/' || c == '-';
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one. */
static size_t utf8_len(const unsigned char *s)
{
    uint32_t cp;
    size_t n, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Writes the visible form of byte c (a control character) into buf; returns its length. */
static size_t visible_control(unsigned char c, char buf[5])
{
    static const char hex[] = "0123456789abcdef";

    buf[0] = '\\';
    if (c == '\n' || c == '\t' || c == '\r') {
        buf[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        return 2;
    }
    buf[1] = 'x';
    buf[2] = hex[c >> 4];
    buf[3] = hex[c & 15];
    return 4;
}

/* Walks s and hands its visible form to emit, piece by piece: control characters as their
 * escapes, invalid bytes as U+FFFD, valid UTF-8 sequences as they are. */
static void walk_visible(const char *s, void (*emit)(void *ctx, const char *b, size_t n), void *ctx)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    char buf[5];
    size_t k;

    while (*p) {
        if (*p < 0x20 || *p == 0x7f) {
            emit(ctx, buf, visible_control(*p++, buf));
        } else if ((k = utf8_len(p)) == 0) {
            emit(ctx, "\xef\xbf\xbd", 3);
            p++;
        } else {
            emit(ctx, (const char *)p, k);
            p += k;
        }
    }
}

static void emit_copy(void *ctx, const char *b, size_t n)
{
    char **out = ctx;

    memcpy(*out, b, n);
    *out += n;
}

char *cs_gnuplot_visible(const char *s)
{
    size_t cap = 4 * strlen(s ? s : "") + 1; /* at most 4 bytes out per byte in */
    char *out = malloc(cap), *end = out;

    if (!out) {
        cs_fail(CS_ENOMEM, "out of memory making a label visible");
        return NULL;
    }
    walk_visible(s, emit_copy, &end);
    *end = '\0';
    return out;
}

/* Writes bytes with octal escapes for everything that is not plain. */
static void emit_escaped(void *ctx, const char *b, size_t n)
{
    FILE *f = ctx;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];

        if (cs_gnuplot_is_plain(c))
            fputc(c, f);
        else if (c < 0100) /* gnuplot reads 4 digits after a backslash and 0 */
            fprintf(f, "\\0%03o", (unsigned)c);
        else
            fprintf(f, "\\%03o", (unsigned)c);
    }
}

int cs_gnuplot_write_lines(FILE *f, const char *const *lines, size_t n)
{
    size_t i;

    fputc('"', f);
    for (i = 0; i < n; i++) {
        if (i > 0)
            fputs("\\0012", f);
        walk_visible(lines[i], emit_escaped, f);
    }
    fputc('"', f);
    if (ferror(f))
        return cs_fail(CS_EIO, "writing a gnuplot script: %s", strerror(errno));
    return CS_OK;
}

int cs_gnuplot_write_string(FILE *f, const char *s)
{
    return cs_gnuplot_write_lines(f, &s, 1);
}

char *cs_gnuplot_quote(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int st;

    if (!f) {
        cs_fail(CS_ENOMEM, "out of memory quoting a gnuplot string");
        return NULL;
    }
    st = cs_gnuplot_write_string(f, s);
    if (fclose(f) != 0 && st == CS_OK)
        st = cs_fail(CS_ENOMEM, "out of memory quoting a gnuplot string");
    if (st != CS_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

// ---- running -------------------------------------------------------------------------------

/* The child: enter dir, connect stdin to /dev/null and stdout/stderr to the pipe, exec. On
 * failure the errno goes through errfd (close-on-exec, so a successful exec closes it). Only
 * async-signal-safe calls between fork and exec. */
static void child(const char *dir, char *const *argv, int outfd, int errfd)
{
    int err, in = open("/dev/null", O_RDONLY);

    if (in < 0 || dup2(in, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0)
        goto out_fail;
    if (dir && chdir(dir) != 0)
        goto out_fail;
    execvp(argv[0], argv);
out_fail:
    err = errno;
    if (write(errfd, &err, sizeof err) < 0)
        _exit(126);
    _exit(127);
}

/* Reads fd to EOF keeping the last CS_GNUPLOT_OUT_MAX bytes in buf (CS_GNUPLOT_OUT_MAX + 1
 * bytes); a read is at most sizeof chunk < CS_GNUPLOT_OUT_MAX bytes. */
static void read_tail(int fd, char *buf, size_t *len)
{
    char chunk[4096];
    ssize_t r;

    *len = 0;
    while ((r = read(fd, chunk, sizeof chunk)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (*len + (size_t)r > CS_GNUPLOT_OUT_MAX) { /* keep the tail: drop the oldest bytes */
            size_t drop = *len + (size_t)r - CS_GNUPLOT_OUT_MAX;

            memmove(buf, buf + drop, *len - drop);
            *len -= drop;
        }
        memcpy(buf + *len, chunk, (size_t)r);
        *len += (size_t)r;
    }
    buf[*len] = '\0';
}

/* Waits for pid, learns from errfd whether exec failed, fills out. */
static int reap(pid_t pid, int errfd, const char *prog, const char *dir, cs_gnuplot_out *out)
{
    int status, err = 0;
    ssize_t r;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return cs_fail(CS_EIO, "%s: waiting for it failed: %s", prog, strerror(errno));
    r = read(errfd, &err, sizeof err);
    if (r == (ssize_t)sizeof err) {
        if (err == ENOENT && (!dir || access(dir, X_OK) == 0))
            return cs_fail(CS_EIO,
                           "%s: not found; install gnuplot (Debian: gnuplot-nox, `make deps`) or "
                           "set %s to its path",
                           prog, CS_GNUPLOT_ENV);
        return cs_fail(CS_EIO, "%s: cannot start it%s%s: %s", prog, dir ? " in " : "",
                       dir ? dir : "", strerror(err));
    }
    out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return CS_OK;
}

int cs_gnuplot_run(const char *dir, const char *const *args, size_t nargs, cs_gnuplot_out *out)
{
    char *argv[MAX_ARGS + 2];
    int outp[2], errp[2], st;
    const char *prog = cs_gnuplot_program();
    size_t i, len;
    pid_t pid;

    memset(out, 0, sizeof *out);
    if (nargs > MAX_ARGS)
        return cs_fail(CS_EINVAL, "gnuplot: %zu arguments; at most %d", nargs, MAX_ARGS);
    argv[0] = (char *)prog;
    for (i = 0; i < nargs; i++)
        argv[i + 1] = (char *)args[i];
    argv[nargs + 1] = NULL;
    if (!(out->text = malloc(CS_GNUPLOT_OUT_MAX + 1)))
        return cs_fail(CS_ENOMEM, "out of memory for gnuplot's output");
    if (pipe(outp) != 0)
        goto out_errno;
    if (pipe(errp) != 0) {
        close(outp[0]);
        close(outp[1]);
        goto out_errno;
    }
    for (i = 0; i < 2; i++) {
        fcntl(outp[i], F_SETFD, FD_CLOEXEC);
        fcntl(errp[i], F_SETFD, FD_CLOEXEC);
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        close(outp[0]);
        close(errp[0]);
        child(dir, argv, outp[1], errp[1]);
    }
    close(outp[1]);
    close(errp[1]);
    if (pid < 0) {
        close(outp[0]);
        close(errp[0]);
        goto out_errno;
    }
    read_tail(outp[0], out->text, &len);
    close(outp[0]);
    st = reap(pid, errp[0], prog, dir, out);
    close(errp[0]);
    if (st != CS_OK)
        cs_gnuplot_out_free(out);
    return st;
out_errno:
    st = cs_fail(CS_EIO, "%s: cannot start it: %s", prog, strerror(errno));
    cs_gnuplot_out_free(out);
    return st;
}

void cs_gnuplot_out_free(cs_gnuplot_out *out)
{
    if (!out)
        return;
    free(out->text);
    memset(out, 0, sizeof *out);
}

int cs_gnuplot_terminals(char **terms)
{
    static const char *const args[] = {"-e", "set print '-'; print GPVAL_TERMINALS"};
    cs_gnuplot_out out;
    int st;
    size_t n;

    *terms = NULL;
    if ((st = cs_gnuplot_run(NULL, args, 2, &out)))
        return st;
    if (out.exit_code != 0) {
        st = cs_fail(CS_EIO, "%s: listing its terminals failed (exit %d): %s", cs_gnuplot_program(),
                     out.exit_code, out.text);
        cs_gnuplot_out_free(&out);
        return st;
    }
    n = strlen(out.text);
    while (n > 0 && (out.text[n - 1] == '\n' || out.text[n - 1] == ' '))
        out.text[--n] = '\0';
    *terms = out.text;
    return CS_OK;
}

bool cs_gnuplot_has_terminal(const char *terms, const char *name)
{
    size_t n = strlen(name);
    const char *p = terms;

    while (p && (p = strstr(p, name)) != NULL) {
        bool start = p == terms || p[-1] == ' ' || p[-1] == '\n';
        bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';

        if (start && end)
            return true;
        p += n;
    }
    return false;
}
