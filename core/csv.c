/* core/csv.c: RFC 4180 CSV reading into a cs_table and writing from one (core/csv.h).
 *
 * Reading works on the whole input in one mutable buffer. A first pass parses records and
 * compacts each field in place, unescaped and NUL-terminated, so the buffer ends up holding every
 * cell row after row ("a\0b\0c\0..."); fields only shrink, so the write position never passes the
 * read position. Later passes infer column types and fill the table. Everything is linear in the
 * input size. Test: tests/unit/test_csv.c; fuzzed by fuzz/fuzz_csv.c.
 */
#include "core/csv.h"

#include "core/error.h"
#include "core/parse.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

cs_csv_params cs_csv_default_params(void)
{
    cs_csv_params p = {',', false, true};

    return p;
}

static bool delim_ok(char d)
{
    return d != '"' && d != '\r' && d != '\n' && d != '\0';
}

// ---- record parsing ----

typedef struct reader {
    char *buf;        /* (n + 1) input, compacted in place */
    size_t n;         /* input bytes */
    size_t pos;       /* read position */
    size_t out;       /* write position of compacted cells, <= pos (+1 at the very end) */
    size_t line;      /* physical line of pos, 1-based */
    size_t blank_end; /* input from pos up to here is known to be only CR/LF */
    const char *name; /* for messages */
    char delim;
} reader;

/* True when pos starts a line terminator: LF, CRLF, or a CR that ends the input. */
static bool at_eol(const reader *r)
{
    if (r->pos >= r->n)
        return false;
    if (r->buf[r->pos] == '\n')
        return true;
    return r->buf[r->pos] == '\r' && (r->pos + 1 == r->n || r->buf[r->pos + 1] == '\n');
}

/* Consumes the line terminator at pos (at_eol must hold). */
static void skip_eol(reader *r)
{
    if (r->buf[r->pos] == '\r')
        r->pos++;
    if (r->pos < r->n && r->buf[r->pos] == '\n') {
        r->pos++;
        r->line++;
    }
}

/* True when everything from pos on is empty lines (CR and LF only). Remembers how far it
 * looked, so a long run of blank lines is scanned once. */
static bool only_blank_left(reader *r)
{
    size_t i = r->pos > r->blank_end ? r->pos : r->blank_end;

    while (i < r->n && (r->buf[i] == '\n' || r->buf[i] == '\r'))
        i++;
    r->blank_end = i;
    return i == r->n;
}

/* Reads a quoted field starting at the opening quote. field is 1-based, for messages. */
static int read_quoted(reader *r, size_t field)
{
    size_t open_line = r->line;

    r->pos++;
    for (;;) {
        char c;

        if (r->pos >= r->n)
            return cs_fail(CS_EINPUT, "%s:%zu: field %zu: unterminated quoted field", r->name,
                           open_line, field);
        c = r->buf[r->pos++];
        if (c == '"') {
            if (r->pos < r->n && r->buf[r->pos] == '"')
                r->pos++;
            else
                break;
        } else if (c == '\n') {
            r->line++;
        }
        r->buf[r->out++] = c;
    }
    if (r->pos < r->n && r->buf[r->pos] != r->delim && !at_eol(r))
        return cs_fail(CS_EINPUT, "%s:%zu: field %zu: unexpected text after a closing quote",
                       r->name, r->line, field);
    return CS_OK;
}

/* Reads an unquoted field up to the delimiter, a line terminator or the end. */
static int read_plain(reader *r, size_t field)
{
    while (r->pos < r->n && r->buf[r->pos] != r->delim && !at_eol(r)) {
        char c = r->buf[r->pos++];

        if (c == '"')
            return cs_fail(CS_EINPUT,
                           "%s:%zu: field %zu: quote inside an unquoted field (quote the whole "
                           "field and double the quotes inside it)",
                           r->name, r->line, field);
        r->buf[r->out++] = c;
    }
    return CS_OK;
}

/* Reads one record at pos (which is not at the end), compacting its fields; *nfields gets their
 * number. The terminator is consumed. */
static int read_record(reader *r, size_t *nfields)
{
    size_t field = 0;

    for (;;) {
        int st;

        field++;
        if (r->pos < r->n && r->buf[r->pos] == '"')
            st = read_quoted(r, field);
        else
            st = read_plain(r, field);
        if (st)
            return st;
        /* Consume the terminator before writing the field's NUL: it may sit on the NUL's byte. */
        if (r->pos < r->n && r->buf[r->pos] == r->delim) {
            r->pos++;
            r->buf[r->out++] = '\0';
            continue;
        }
        if (r->pos < r->n)
            skip_eol(r);
        r->buf[r->out++] = '\0';
        *nfields = field;
        return CS_OK;
    }
}

// ---- whole-input parsing ----

typedef struct parsed {
    size_t ncols;  /* fields in the header */
    size_t nrows;  /* data records */
    size_t *lines; /* (nrows) line where each data record starts */
    size_t cap;    /* capacity of lines */
    char *cells;   /* first data cell in the compacted buffer; cells follow row after row */
    char *header;  /* first header name in the compacted buffer */
} parsed;

static int fail_nul(const reader *r, const char *nul)
{
    size_t line = 1;
    const char *s;

    for (s = r->buf; s < nul; s++)
        line += *s == '\n';
    return cs_fail(CS_EINPUT, "%s:%zu: NUL byte at offset %zu: binary data, not CSV text", r->name,
                   line, (size_t)(nul - r->buf));
}

static int push_line(parsed *ps, size_t line, const char *name)
{
    if (ps->nrows == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 64;
        size_t *l = realloc(ps->lines, cap * sizeof *l);

        if (l == NULL)
            return cs_fail(CS_ENOMEM, "%s: out of memory reading %zu rows", name, ps->nrows);
        ps->lines = l;
        ps->cap = cap;
    }
    ps->lines[ps->nrows++] = line;
    return CS_OK;
}

/* Reads the data records after the header; stops at trailing blank lines. */
static int read_rows(reader *r, parsed *ps)
{
    while (r->pos < r->n) {
        size_t start = r->line;
        size_t nf = 0;
        int st;

        if (at_eol(r) && only_blank_left(r))
            break;
        if (at_eol(r) && ps->ncols > 1)
            return cs_fail(CS_EINPUT,
                           "%s:%zu: expected %zu fields (as in the header), got an "
                           "empty line",
                           r->name, start, ps->ncols);
        st = read_record(r, &nf);
        if (st)
            return st;
        if (nf != ps->ncols)
            return cs_fail(CS_EINPUT, "%s:%zu: expected %zu fields (as in the header), got %zu",
                           r->name, start, ps->ncols, nf);
        st = push_line(ps, start, r->name);
        if (st)
            return st;
    }
    return CS_OK;
}

/* Checks the header names are non-empty and unique, with a scratch table's name index. */
static int check_header(const parsed *ps, const char *name)
{
    cs_table *t = cs_table_alloc(name);
    const char *s = ps->header;
    size_t c;
    int st = t ? CS_OK : CS_ENOMEM;

    for (c = 0; c < ps->ncols && st == CS_OK; c++, s += strlen(s) + 1) {
        if (s[0] == '\0') {
            st = cs_fail(CS_EINPUT, "%s:1: field %zu: empty column name", name, c + 1);
            break;
        }
        st = cs_table_add_col(t, s, CS_COL_STR, NULL);
        if (st == CS_EINPUT)
            st = cs_fail(CS_EINPUT, "%s:1: duplicate column \"%s\" (fields %ld and %zu)", name, s,
                         cs_table_find(t, s) + 1, c + 1);
    }
    cs_table_free(t);
    return st;
}

/* Parses the whole input of r into ps: header, then rows. */
static int parse_all(reader *r, parsed *ps, bool allow_empty)
{
    const char *nul = memchr(r->buf, '\0', r->n);
    int st;

    if (nul)
        return fail_nul(r, nul);
    if (r->n >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = r->out = 3;
    if (r->pos == r->n || only_blank_left(r))
        return cs_fail(CS_EINPUT, "%s:1: empty file; expected a header line", r->name);
    if (at_eol(r))
        return cs_fail(CS_EINPUT, "%s:1: expected a header line, got an empty line", r->name);
    ps->header = r->buf + r->out;
    st = read_record(r, &ps->ncols);
    if (st == CS_OK)
        st = check_header(ps, r->name);
    if (st)
        return st;
    ps->cells = r->buf + r->out;
    st = read_rows(r, ps);
    if (st)
        return st;
    if (ps->nrows == 0 && !allow_empty)
        return cs_fail(CS_EINPUT, "%s:%zu: expected data rows after the header, got none", r->name,
                       r->line);
    return CS_OK;
}

// ---- building the table ----

/* Adds the header's columns; numeric[c] says which are numeric. The names were checked. */
static int add_columns(cs_table *t, const parsed *ps, const bool *numeric)
{
    const char *s = ps->header;
    size_t c;

    for (c = 0; c < ps->ncols; c++, s += strlen(s) + 1) {
        int st = cs_table_add_col(t, s, numeric[c] ? CS_COL_NUM : CS_COL_STR, NULL);

        if (st)
            return st;
    }
    return CS_OK;
}

/* Parses the numbers of every column still marked numeric into vals[c] (nrows each); a column
 * with a cell that is not a number is unmarked and its array freed. */
static void infer_types(const parsed *ps, bool *numeric, double **vals)
{
    const char *s = ps->cells;
    size_t r;
    size_t c;

    for (r = 0; r < ps->nrows; r++) {
        for (c = 0; c < ps->ncols; c++) {
            size_t len = strlen(s);

            if (numeric[c]) {
                vals[c][r] = NAN;
                if (len > 0 &&
                    cs_parse_double_ex(s, &vals[c][r], CS_PARSE_ALLOW_NONFINITE, NULL) != CS_OK) {
                    numeric[c] = false;
                    free(vals[c]);
                    vals[c] = NULL;
                }
            }
            s += len + 1;
        }
    }
}

static int fill_text(cs_table *t, const parsed *ps, const bool *numeric)
{
    const char *s = ps->cells;
    size_t r;
    size_t c;

    for (r = 0; r < ps->nrows; r++) {
        for (c = 0; c < ps->ncols; c++) {
            size_t len = strlen(s);

            if (!numeric[c] && len > 0) {
                int st = cs_table_set_str(t, r, c, s);

                if (st)
                    return st;
            }
            s += len + 1;
        }
    }
    return CS_OK;
}

/* Builds the table from the parsed input. */
static int build_table(const parsed *ps, const char *name, bool infer, cs_table **out)
{
    bool *numeric = calloc(ps->ncols, sizeof *numeric);
    double **vals = calloc(ps->ncols, sizeof *vals);
    cs_table *t = cs_table_alloc(name);
    size_t r;
    size_t c;
    int st = CS_ENOMEM;

    if (numeric == NULL || vals == NULL || t == NULL) {
        cs_fail(CS_ENOMEM, "%s: out of memory building the table", name);
        goto out_free;
    }
    for (c = 0; c < ps->ncols && infer; c++) {
        vals[c] = malloc((ps->nrows ? ps->nrows : 1) * sizeof **vals);
        if (vals[c] == NULL) {
            cs_fail(CS_ENOMEM, "%s: out of memory reading %zu rows", name, ps->nrows);
            goto out_free;
        }
        numeric[c] = true;
    }
    infer_types(ps, numeric, vals);
    st = add_columns(t, ps, numeric);
    for (r = 0; r < ps->nrows && st == CS_OK; r++)
        st = cs_table_append_row(t, ps->lines[r]);
    if (st == CS_OK)
        st = fill_text(t, ps, numeric);
    if (st)
        goto out_free;
    for (c = 0; c < ps->ncols; c++)
        for (r = 0; r < ps->nrows && numeric[c]; r++)
            cs_table_set_num(t, r, c, vals[c][r]);
    *out = t;
    t = NULL;

out_free:
    for (c = 0; vals && c < ps->ncols; c++)
        free(vals[c]);
    free(vals);
    free(numeric);
    cs_table_free(t);
    return st;
}

/* Parses buf (n bytes, n + 1 allocated, modified) into a new table. */
static int read_buffer(char *buf, size_t n, const char *name, const cs_csv_params *p,
                       cs_table **out)
{
    cs_csv_params def = cs_csv_default_params();
    reader r = {buf, n, 0, 0, 1, 0, name, ','};
    parsed ps = {0, 0, NULL, 0, NULL, NULL};
    int st;

    if (p == NULL)
        p = &def;
    if (!delim_ok(p->delim))
        return cs_fail(CS_EINVAL, "%s: invalid CSV delimiter (code %d)", name, p->delim);
    r.delim = p->delim;
    st = parse_all(&r, &ps, p->allow_empty);
    if (st == CS_OK)
        st = build_table(&ps, name, p->infer_types, out);
    free(ps.lines);
    return st;
}

int cs_csv_read_mem(const char *buf, size_t n, const char *name, const cs_csv_params *p,
                    cs_table **out)
{
    char *copy;
    int st;

    *out = NULL;
    if (name == NULL)
        name = "<memory>";
    if (n == SIZE_MAX)
        return cs_fail(CS_ENOMEM, "%s: input too large", name);
    copy = malloc(n + 1);
    if (copy == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory copying %zu bytes", name, n);
    if (n > 0)
        memcpy(copy, buf, n);
    copy[n] = '\0';
    st = read_buffer(copy, n, name, p, out);
    free(copy);
    return st;
}

/* Reads all of f into a new buffer with one spare byte (*buf, *n). CS_EIO or CS_ENOMEM. */
static int slurp(FILE *f, const char *name, char **buf, size_t *n)
{
    struct stat sb;
    size_t cap = 1 << 16;
    size_t len = 0;
    char *b;

    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uintmax_t)sb.st_size < SIZE_MAX / 2)
        cap = (size_t)sb.st_size + 2; /* +2: the spare byte, and room to see the end */
    b = malloc(cap);
    while (b != NULL) {
        len += fread(b + len, 1, cap - 1 - len, f);
        if (ferror(f)) {
            free(b);
            return cs_fail(CS_EIO, "%s: read error: %s", name, strerror(errno));
        }
        if (feof(f)) {
            *buf = b;
            *n = len;
            return CS_OK;
        }
        if (len == cap - 1) {
            char *nb = cap < SIZE_MAX / 2 ? realloc(b, 2 * cap) : NULL;

            if (nb == NULL)
                free(b);
            b = nb;
            cap *= 2;
        }
    }
    return cs_fail(CS_ENOMEM, "%s: out of memory reading the file", name);
}

int cs_csv_read(const char *path, const cs_csv_params *p, cs_table **out)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int st;

    *out = NULL;
    if (f == NULL)
        return cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO, "%s: cannot open: %s", path,
                       strerror(errno));
    st = slurp(f, name, &buf, &n);
    if (!is_stdin)
        fclose(f);
    if (st)
        return st;
    st = read_buffer(buf, n, name, p, out);
    free(buf);
    return st;
}

// ---- writing ----

int cs_csv_write_field(FILE *f, const char *s, char delim)
{
    size_t len = strlen(s);
    bool quote =
        len > 0 && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t');
    const char *c;

    CS_ASSERT(delim_ok(delim));
    /* A leading byte-order mark would be skipped when the field opens the file. */
    quote = quote || (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0);
    for (c = s; *c && !quote; c++)
        quote = *c == delim || *c == '"' || *c == '\r' || *c == '\n';
    if (!quote) {
        fputs(s, f);
    } else {
        putc('"', f);
        for (c = s; *c; c++) {
            if (*c == '"')
                putc('"', f);
            putc(*c, f);
        }
        putc('"', f);
    }
    if (ferror(f))
        return cs_fail(CS_EIO, "write error: %s", strerror(errno));
    return CS_OK;
}

void cs_csv_format_double(char buf[32], double v)
{
    int prec;

    if (isnan(v)) {
        buf[0] = '\0';
        return;
    }
    if (isinf(v)) {
        strcpy(buf, v < 0 ? "-inf" : "inf");
        return;
    }
    for (prec = 15; prec < 17; prec++) {
        double back;

        snprintf(buf, 32, "%.*g", prec, v);
        back = strtod(buf, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            return;
    }
    snprintf(buf, 32, "%.17g", v); /* 17 significant digits always read back exactly */
}

/* Writes row r (or the header when r == SIZE_MAX) without its line terminator. */
static int write_row(FILE *f, const cs_table *t, size_t r, char delim)
{
    size_t ncols = cs_table_ncols(t);
    size_t c;
    int st = CS_OK;

    for (c = 0; c < ncols && st == CS_OK; c++) {
        char num[32];
        const char *s;

        if (c > 0)
            putc(delim, f);
        if (r == SIZE_MAX) {
            s = cs_table_col_name(t, c);
        } else if (cs_table_col_type(t, c) == CS_COL_NUM) {
            cs_csv_format_double(num, cs_table_num(t, r, c));
            s = num;
        } else {
            s = cs_table_str(t, r, c);
        }
        /* A lone empty field would make an empty line, which readers drop at the end of a file;
         * write it quoted. */
        if (ncols == 1 && s[0] == '\0')
            fputs("\"\"", f);
        else
            st = cs_csv_write_field(f, s, delim);
    }
    return st;
}

int cs_csv_write_table(FILE *f, const cs_table *t, char delim)
{
    size_t nrows = cs_table_nrows(t);
    size_t r;
    int st;

    if (!delim_ok(delim))
        return cs_fail(CS_EINVAL, "invalid CSV delimiter (code %d)", delim);
    st = write_row(f, t, SIZE_MAX, delim);
    putc('\n', f);
    for (r = 0; r < nrows && st == CS_OK; r++) {
        st = write_row(f, t, r, delim);
        putc('\n', f);
    }
    if (st == CS_OK && ferror(f))
        st = cs_fail(CS_EIO, "write error: %s", strerror(errno));
    return st;
}
