/* core/table.c: the in-memory columnar table (core/table.h). Numeric columns are contiguous
 * double arrays, text columns arrays of owned strings (missing = a shared static ""); every
 * column has the same row capacity, grown by doubling. Column names are indexed by a small
 * open-addressing hash so that wide CSV headers stay linear. Test: tests/unit/test_table.c.
 */
#include "core/table.h"

#include "core/error.h"
#include "core/parse.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct col {
    char *name;       /* owned, non-empty */
    cs_col_type type; /* CS_COL_NUM or CS_COL_STR */
    double *num;      /* (cap_rows) when numeric, else NULL */
    char **str;       /* (cap_rows) when text, else NULL; missing cells point at empty_str */
} col;

struct cs_table {
    char *source;     /* owned copy */
    size_t nrows;     /* rows in use */
    size_t cap_rows;  /* capacity of lines[] and of every column array */
    size_t *lines;    /* (cap_rows) 1-based source line per row, 0 if unknown */
    size_t ncols;     /* columns in use */
    size_t cap_cols;  /* capacity of cols[] */
    col *cols;        /* (cap_cols) */
    size_t *index;    /* (index_cap) column index + 1 per slot, 0 = empty slot */
    size_t index_cap; /* power of two, > 2 * ncols (or 0) */
};

/* The value of every missing text cell; never written, never freed. */
static char empty_str[1];

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

/* Puts column i into the index idx of `cap` slots (a power of two with a free slot). */
static void index_insert(size_t *idx, size_t cap, const char *name, size_t i)
{
    size_t h = (size_t)hash_name(name) & (cap - 1);

    while (idx[h] != 0)
        h = (h + 1) & (cap - 1);
    idx[h] = i + 1;
}

/* Rebuilds the name index with room for `want_cols` columns. CS_ENOMEM on failure (the old
 * index is kept then). */
static int index_rebuild(cs_table *t, size_t want_cols)
{
    size_t cap = t->index_cap ? t->index_cap : 16;
    size_t *idx;
    size_t i;

    while (cap <= 2 * want_cols)
        cap *= 2;
    idx = calloc(cap, sizeof *idx);
    if (idx == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory indexing %zu columns", t->source, want_cols);
    for (i = 0; i < t->ncols; i++)
        index_insert(idx, cap, t->cols[i].name, i);
    free(t->index);
    t->index = idx;
    t->index_cap = cap;
    return CS_OK;
}

cs_table *cs_table_alloc(const char *source)
{
    cs_table *t = calloc(1, sizeof *t);

    if (t == NULL)
        goto out_fail;
    t->source = strdup(source ? source : "");
    if (t->source == NULL)
        goto out_free_table;
    return t;

out_free_table:
    free(t);
out_fail:
    cs_fail(CS_ENOMEM, "%s: out of memory allocating a table", source ? source : "");
    return NULL;
}

static void col_free_cells(col *c, size_t nrows)
{
    size_t i;

    if (c->str) {
        for (i = 0; i < nrows; i++)
            if (c->str[i] != empty_str)
                free(c->str[i]);
    }
    free(c->str);
    free(c->num);
    c->str = NULL;
    c->num = NULL;
}

void cs_table_free(cs_table *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->ncols; i++) {
        col_free_cells(&t->cols[i], t->nrows);
        free(t->cols[i].name);
    }
    free(t->cols);
    free(t->index);
    free(t->lines);
    free(t->source);
    free(t);
}

long cs_table_find(const cs_table *t, const char *name)
{
    size_t h;

    if (t->index_cap == 0)
        return -1;
    h = (size_t)hash_name(name) & (t->index_cap - 1);
    while (t->index[h] != 0) {
        size_t i = t->index[h] - 1;

        if (strcmp(t->cols[i].name, name) == 0)
            return (long)i;
        h = (h + 1) & (t->index_cap - 1);
    }
    return -1;
}

/* Allocates the cell array of a new column with the table's row capacity, cells missing. */
static int col_init_cells(cs_table *t, col *c)
{
    size_t cap = t->cap_rows ? t->cap_rows : 1;
    size_t i;

    if (c->type == CS_COL_NUM) {
        c->num = malloc(cap * sizeof *c->num);
        if (c->num == NULL)
            return cs_fail(CS_ENOMEM, "%s: out of memory adding column \"%s\"", t->source, c->name);
        for (i = 0; i < t->nrows; i++)
            c->num[i] = NAN;
        return CS_OK;
    }
    c->str = malloc(cap * sizeof *c->str);
    if (c->str == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory adding column \"%s\"", t->source, c->name);
    for (i = 0; i < t->nrows; i++)
        c->str[i] = empty_str;
    return CS_OK;
}

static int check_new_name(const cs_table *t, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return cs_fail(CS_EINPUT, "%s: empty column name", t->source);
    if (cs_table_find(t, name) >= 0)
        return cs_fail(CS_EINPUT, "%s: duplicate column \"%s\"", t->source, name);
    return CS_OK;
}

int cs_table_add_col(cs_table *t, const char *name, cs_col_type type, size_t *idx)
{
    col c = {NULL, type, NULL, NULL};
    int st;

    CS_ASSERT(type == CS_COL_NUM || type == CS_COL_STR);
    st = check_new_name(t, name);
    if (st)
        return st;
    if (t->ncols == t->cap_cols) {
        size_t cap = t->cap_cols ? 2 * t->cap_cols : 8;
        col *cols = realloc(t->cols, cap * sizeof *cols);

        if (cols == NULL)
            return cs_fail(CS_ENOMEM, "%s: out of memory adding column \"%s\"", t->source, name);
        t->cols = cols;
        t->cap_cols = cap;
    }
    if (2 * (t->ncols + 1) >= t->index_cap) {
        st = index_rebuild(t, t->ncols + 1);
        if (st)
            return st;
    }
    c.name = strdup(name);
    if (c.name == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory adding column \"%s\"", t->source, name);
    st = col_init_cells(t, &c);
    if (st) {
        free(c.name);
        return st;
    }
    index_insert(t->index, t->index_cap, c.name, t->ncols);
    t->cols[t->ncols++] = c;
    if (idx)
        *idx = t->ncols - 1;
    return CS_OK;
}

/* Grows every row array to `cap` rows. On failure the arrays that did grow stay bigger, which
 * is harmless: cap_rows only changes once all have. */
static int grow_rows(cs_table *t, size_t cap)
{
    size_t *lines = realloc(t->lines, cap * sizeof *lines);
    size_t i;

    if (lines == NULL)
        goto out_nomem;
    t->lines = lines;
    for (i = 0; i < t->ncols; i++) {
        col *c = &t->cols[i];
        void *p = c->type == CS_COL_NUM ? realloc(c->num, cap * sizeof *c->num)
                                        : realloc(c->str, cap * sizeof *c->str);

        if (p == NULL)
            goto out_nomem;
        if (c->type == CS_COL_NUM)
            c->num = p;
        else
            c->str = p;
    }
    t->cap_rows = cap;
    return CS_OK;

out_nomem:
    return cs_fail(CS_ENOMEM, "%s: out of memory growing the table to %zu rows", t->source, cap);
}

int cs_table_append_row(cs_table *t, size_t line)
{
    size_t r = t->nrows;
    size_t i;

    if (r == t->cap_rows) {
        int st;

        if (r > SIZE_MAX / 2 / sizeof(double))
            return cs_fail(CS_ENOMEM, "%s: too many rows", t->source);
        st = grow_rows(t, r ? 2 * r : 16);
        if (st)
            return st;
    }
    t->lines[r] = line;
    for (i = 0; i < t->ncols; i++) {
        if (t->cols[i].type == CS_COL_NUM)
            t->cols[i].num[r] = NAN;
        else
            t->cols[i].str[r] = empty_str;
    }
    t->nrows++;
    return CS_OK;
}

size_t cs_table_nrows(const cs_table *t)
{
    return t->nrows;
}

size_t cs_table_ncols(const cs_table *t)
{
    return t->ncols;
}

const char *cs_table_source(const cs_table *t)
{
    return t->source;
}

const char *cs_table_col_name(const cs_table *t, size_t col_idx)
{
    CS_ASSERT(col_idx < t->ncols);
    return t->cols[col_idx].name;
}

cs_col_type cs_table_col_type(const cs_table *t, size_t col_idx)
{
    CS_ASSERT(col_idx < t->ncols);
    return t->cols[col_idx].type;
}

size_t cs_table_row_line(const cs_table *t, size_t row)
{
    CS_ASSERT(row < t->nrows);
    return t->lines[row];
}

double cs_table_num(const cs_table *t, size_t row, size_t col_idx)
{
    CS_ASSERT(row < t->nrows && col_idx < t->ncols);
    CS_ASSERT(t->cols[col_idx].type == CS_COL_NUM);
    return t->cols[col_idx].num[row];
}

const char *cs_table_str(const cs_table *t, size_t row, size_t col_idx)
{
    CS_ASSERT(row < t->nrows && col_idx < t->ncols);
    CS_ASSERT(t->cols[col_idx].type == CS_COL_STR);
    return t->cols[col_idx].str[row];
}

void cs_table_set_num(cs_table *t, size_t row, size_t col_idx, double v)
{
    CS_ASSERT(row < t->nrows && col_idx < t->ncols);
    CS_ASSERT(t->cols[col_idx].type == CS_COL_NUM);
    t->cols[col_idx].num[row] = v;
}

int cs_table_set_str(cs_table *t, size_t row, size_t col_idx, const char *s)
{
    char *d = empty_str;
    char **cell;

    CS_ASSERT(row < t->nrows && col_idx < t->ncols);
    CS_ASSERT(t->cols[col_idx].type == CS_COL_STR);
    if (s && s[0] != '\0') {
        d = strdup(s);
        if (d == NULL)
            return cs_fail(CS_ENOMEM, "%s: out of memory storing a cell", t->source);
    }
    cell = &t->cols[col_idx].str[row];
    if (*cell != empty_str)
        free(*cell);
    *cell = d;
    return CS_OK;
}

const double *cs_table_num_col(const cs_table *t, size_t col_idx)
{
    CS_ASSERT(col_idx < t->ncols);
    CS_ASSERT(t->cols[col_idx].type == CS_COL_NUM);
    return t->cols[col_idx].num;
}

// ---- checks and conversions ----

/* "source:line" or "source: row N" (when the row has no line) into buf, for messages. */
static const char *row_where(const cs_table *t, size_t row, char *buf, size_t n)
{
    if (t->lines[row] > 0)
        snprintf(buf, n, "%s:%zu", t->source, t->lines[row]);
    else
        snprintf(buf, n, "%s: row %zu", t->source, row + 1);
    return buf;
}

/* Shortest "%.{15,16,17}g" that reads back as v, for messages. */
static void format_value(char buf[32], double v)
{
    int prec;

    for (prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* CS_EINPUT: "source: missing column "name" (columns: a, b, c)". */
static int fail_missing(const cs_table *t, const char *name)
{
    char list[CS_ERRMSG_MAX / 2];
    size_t used = 0;
    size_t i;

    list[0] = '\0';
    for (i = 0; i < t->ncols; i++) {
        const char *sep = i ? ", " : "";
        size_t k = strlen(sep) + strlen(t->cols[i].name);

        if (used + k + sizeof ", ..." > sizeof list) { /* keep room to say the list goes on */
            memcpy(list + used, ", ...", sizeof ", ...");
            break;
        }
        snprintf(list + used, sizeof list - used, "%s%s", sep, t->cols[i].name);
        used += k;
    }
    if (t->ncols == 0)
        return cs_fail(CS_EINPUT, "%s: missing column \"%s\" (the table has no columns)", t->source,
                       name);
    return cs_fail(CS_EINPUT, "%s: missing column \"%s\" (columns: %s)", t->source, name, list);
}

/* Index of the first non-empty cell of text column c that is not a number, or nrows. */
static size_t first_non_number(const cs_table *t, size_t c)
{
    size_t r;
    double v;

    for (r = 0; r < t->nrows; r++) {
        const char *s = t->cols[c].str[r];

        if (s[0] != '\0' && cs_parse_double_ex(s, &v, CS_PARSE_ALLOW_NONFINITE, NULL) != CS_OK)
            return r;
    }
    return t->nrows;
}

static int fail_text_col(const cs_table *t, size_t c)
{
    size_t r = first_non_number(t, c);
    char where[1024];

    if (r == t->nrows)
        return cs_fail(CS_EINPUT, "%s: column \"%s\": expected a numeric column, got a text column",
                       t->source, t->cols[c].name);
    return cs_fail(CS_EINPUT, "%s: column \"%s\": expected a number, got \"%s\"",
                   row_where(t, r, where, sizeof where), t->cols[c].name, t->cols[c].str[r]);
}

/* The CS_REQ_* condition v breaks, as "expected ..." text, or NULL when it satisfies them. */
static const char *broken_requirement(double v, unsigned flags)
{
    if ((flags & CS_REQ_POSITIVE) && !(v > 0 && isfinite(v)))
        return "a positive number";
    if ((flags & CS_REQ_NONNEGATIVE) && !(v >= 0 && isfinite(v)))
        return "a number >= 0";
    if ((flags & CS_REQ_FINITE) && !isfinite(v))
        return "a finite number";
    return NULL;
}

int cs_table_require_num(const cs_table *t, const char *name, unsigned flags, size_t *col_out)
{
    long found = cs_table_find(t, name);
    size_t c;
    size_t r;

    if (found < 0)
        return fail_missing(t, name);
    c = (size_t)found;
    if (t->cols[c].type != CS_COL_NUM)
        return fail_text_col(t, c);
    for (r = 0; r < t->nrows; r++) {
        double v = t->cols[c].num[r];
        const char *want = broken_requirement(v, flags);
        char where[1024];
        char val[32];

        if (want == NULL)
            continue;
        row_where(t, r, where, sizeof where);
        if (isnan(v))
            return cs_fail(CS_EINPUT, "%s: column \"%s\": expected %s, got an empty value or NaN",
                           where, name, want);
        format_value(val, v);
        return cs_fail(CS_EINPUT, "%s: column \"%s\": expected %s, got %s", where, name, want, val);
    }
    if (col_out)
        *col_out = c;
    return CS_OK;
}

int cs_table_col_to_num(cs_table *t, size_t col_idx)
{
    col *c;
    double *num;
    size_t r;

    CS_ASSERT(col_idx < t->ncols);
    c = &t->cols[col_idx];
    if (c->type == CS_COL_NUM)
        return CS_OK;
    if (first_non_number(t, col_idx) < t->nrows)
        return fail_text_col(t, col_idx);
    num = malloc((t->cap_rows ? t->cap_rows : 1) * sizeof *num);
    if (num == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory converting column \"%s\"", t->source, c->name);
    for (r = 0; r < t->nrows; r++) {
        num[r] = NAN;
        if (c->str[r][0] != '\0')
            cs_parse_double_ex(c->str[r], &num[r], CS_PARSE_ALLOW_NONFINITE, NULL);
    }
    col_free_cells(c, t->nrows);
    c->num = num;
    c->type = CS_COL_NUM;
    return CS_OK;
}

int cs_table_rename_col(cs_table *t, size_t col_idx, const char *name)
{
    char *old;
    char *copy;
    int st;

    CS_ASSERT(col_idx < t->ncols);
    if (strcmp(t->cols[col_idx].name, name) == 0)
        return CS_OK;
    st = check_new_name(t, name);
    if (st)
        return st;
    copy = strdup(name);
    if (copy == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory renaming column \"%s\"", t->source, name);
    old = t->cols[col_idx].name;
    t->cols[col_idx].name = copy;
    st = index_rebuild(t, t->ncols);
    if (st) { /* the old index still matches the old name */
        t->cols[col_idx].name = old;
        free(copy);
        return st;
    }
    free(old);
    return CS_OK;
}
