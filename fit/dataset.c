/* fit/dataset.c: a table turned into the columns a law is fitted to (fit/dataset.h): --map and
 * --derive resolution, --where filters, dropping the largest targets, value checks naming
 * file:line, and groups for resampling. Test: tests/unit/test_dataset.c.
 *
 * Build order: the --where clauses select rows of the table; every needed name (the law's
 * target and variables, and the names their --derive expressions use) is then resolved into a
 * column over those rows, with checks on the values; drop_top removes the largest targets last.
 */
#include "fit/dataset.h"

#include "core/error.h"
#include "core/parse.h"
#include "fit/law_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cs_dataset {
    char *source;      /* owned */
    size_t n;          /* rows kept */
    size_t n_read;     /* rows of the table */
    size_t n_filtered; /* rows left out by --where */
    size_t n_dropped;  /* rows left out by drop_top */
    size_t n_holdout;  /* rows set aside by --holdout (held out, or the rest) */
    size_t nvars;      /* law variables */
    char **names;      /* (nvars + 1) law names, target last */
    char **origin;     /* (nvars + 1) "column \"x\"" or "derived expr" */
    double **cols;     /* (nvars + 1) each (n); cols[nvars] is the target */
    size_t *line;      /* (n) source lines */
    size_t *group;     /* (n) group ids, or NULL */
    size_t ngroups;
    double *key; /* (n) ordering key, or NULL */
};

/* A name resolved over the rows selected by --where, cached while building. */
typedef struct resolved {
    char *name;   /* owned */
    char *origin; /* owned description */
    double *v;    /* (nsel) owned */
    bool busy;    /* being resolved (catches a --derive that uses itself) */
} resolved;

/* Build state. */
typedef struct builder {
    const cs_table *t;
    const cs_dataset_params *p;
    size_t *sel; /* (nsel) table rows kept by --where */
    size_t nsel;
    resolved *res; /* (nres) */
    size_t nres;
    size_t cap_res;
} builder;

cs_dataset_params cs_dataset_default_params(void)
{
    cs_dataset_params p;

    memset(&p, 0, sizeof p);
    p.positive_target = true;
    return p;
}

static char *dup_printf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *d = malloc(n);

    if (d)
        snprintf(d, n, fmt, a, b);
    return d;
}

/* "source:line" or "source: row R" for table row `row`. */
static void table_where(const cs_table *t, size_t row, char *buf, size_t n)
{
    size_t line = cs_table_row_line(t, row);

    if (line > 0)
        snprintf(buf, n, "%s:%zu", cs_table_source(t), line);
    else
        snprintf(buf, n, "%s: row %zu", cs_table_source(t), row + 1);
}

/* Splits "NAME=rest" of option `opt`: the trimmed name into name[CS_LAW_MAX_NAME + 1] and a
 * pointer to rest (spaces after '=' skipped). CS_EINPUT when malformed. */
static int split_assign(const char *s, const char *opt, char *name, const char **rest)
{
    const char *eq = strchr(s, '=');
    const char *b = s;
    const char *e;

    if (eq == NULL)
        return cs_fail(CS_EINPUT, "%s \"%s\": expected NAME=VALUE", opt, s);
    e = eq;
    while (*b == ' ' || *b == '\t')
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e == b || (size_t)(e - b) > CS_LAW_MAX_NAME)
        return cs_fail(CS_EINPUT, "%s \"%s\": expected a name of 1 to %d bytes before '='", opt, s,
                       CS_LAW_MAX_NAME);
    memcpy(name, b, (size_t)(e - b));
    name[e - b] = '\0';
    *rest = eq + 1;
    return CS_OK;
}

/* The --map entry for `name`: its column name, or NULL. Malformed entries were checked. */
static const char *find_map(const cs_dataset_params *p, const char *name)
{
    char nm[CS_LAW_MAX_NAME + 1];
    const char *rest;

    for (size_t i = 0; i < p->nmaps; i++)
        if (split_assign(p->maps[i], "--map", nm, &rest) == CS_OK && strcmp(nm, name) == 0)
            return rest;
    return NULL;
}

/* Index of the --derive entry for `name` and its expression, or -1. */
static long find_derive(const cs_dataset_params *p, const char *name, const char **expr)
{
    char nm[CS_LAW_MAX_NAME + 1];

    for (size_t i = 0; i < p->nderives; i++)
        if (split_assign(p->derives[i], "--derive", nm, expr) == CS_OK && strcmp(nm, name) == 0)
            return (long)i;
    return -1;
}

static int check_options(const cs_dataset_params *p)
{
    char nm[CS_LAW_MAX_NAME + 1];
    const char *rest;
    int st;

    for (size_t i = 0; i < p->nmaps; i++) {
        st = split_assign(p->maps[i], "--map", nm, &rest);
        if (st)
            return st;
        if (*rest == '\0')
            return cs_fail(CS_EINPUT, "--map \"%s\": expected a column name after '='", p->maps[i]);
    }
    for (size_t i = 0; i < p->nderives; i++) {
        st = split_assign(p->derives[i], "--derive", nm, &rest);
        if (st)
            return st;
    }
    return CS_OK;
}

/* Column `name` of t: exact match first, then with surrounding spaces removed (so that
 * "--map L = loss" works). -1 when neither exists. */
static long find_col(const cs_table *t, const char *name)
{
    char buf[1024];
    size_t len;
    long c = cs_table_find(t, name);

    while (c < 0 && (*name == ' ' || *name == '\t'))
        name++;
    len = strlen(name);
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    if (c < 0 && len < sizeof buf) {
        memcpy(buf, name, len);
        buf[len] = '\0';
        c = cs_table_find(t, buf);
    }
    return c;
}

/* ---- --where ------------------------------------------------------------------------------ */

enum cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

typedef struct where_clause {
    char col[1024]; /* left side: a column name or an expression, trimmed */
    int op;         /* enum cmp_op */
    char *val;      /* right side, leading spaces skipped (points into the clause text) */
} where_clause;

/* Finds the operator in "LEFT OP RIGHT" and splits the clause; `label` names the option and its
 * text in messages. */
static int where_split(char *s, const char *label, where_clause *w)
{
    char *o = strpbrk(s, "=!<>");
    const char *e;
    size_t oplen = 1;

    if (o == NULL || o == s)
        return cs_fail(CS_EINPUT,
                       "%s: expected COLUMN OP VALUE with OP one of == != < <= > >= (each side "
                       "a column, a number or an expression over columns)",
                       label);
    if (o[0] == '!' && o[1] != '=')
        return cs_fail(CS_EINPUT, "%s: expected != after '!'", label);
    if (o[1] == '=')
        oplen = 2;
    w->op = o[0] == '='   ? CMP_EQ
            : o[0] == '!' ? CMP_NE
            : o[0] == '<' ? (oplen == 2 ? CMP_LE : CMP_LT)
                          : (oplen == 2 ? CMP_GE : CMP_GT);
    e = o;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    while (*s == ' ' || *s == '\t')
        s++;
    if (e <= s || (size_t)(e - s) >= sizeof w->col)
        return cs_fail(CS_EINPUT, "%s: expected a column or an expression before the operator",
                       label);
    memcpy(w->col, s, (size_t)(e - s));
    w->col[e - s] = '\0';
    w->val = o + oplen;
    while (*w->val == ' ' || *w->val == '\t')
        w->val++;
    return CS_OK;
}

static bool cmp_num(int op, double x, double v)
{
    switch (op) {
    case CMP_EQ: return x == v;
    case CMP_NE: return !(x == v);
    case CMP_LT: return x < v;
    case CMP_LE: return x <= v;
    case CMP_GT: return x > v;
    default: return x >= v;
    }
}

/* ---- resolving names into columns --------------------------------------------------------- */

static int resolve(builder *b, const char *name, const double **out);

/* Reads table column `c` over the selected rows into v, checking every value is a number. */
static int read_column(const builder *b, size_t c, const char *law_name, double *v)
{
    const char *cname = cs_table_col_name(b->t, c);
    char where[512];
    double x;

    for (size_t i = 0; i < b->nsel; i++) {
        size_t r = b->sel[i];

        if (cs_table_col_type(b->t, c) == CS_COL_NUM) {
            x = cs_table_num(b->t, r, c);
        } else if (cs_parse_double_ex(cs_table_str(b->t, r, c), &x, CS_PARSE_ALLOW_NONFINITE,
                                      NULL) != CS_OK) {
            table_where(b->t, r, where, sizeof where);
            return cs_fail(CS_EINPUT, "%s: column \"%s\" (%s): expected a number, got \"%s\"",
                           where, cname, law_name, cs_table_str(b->t, r, c));
        }
        if (!isfinite(x)) {
            table_where(b->t, r, where, sizeof where);
            return cs_fail(CS_EINPUT, "%s: column \"%s\" (%s): expected a finite number, got %s",
                           where, cname, law_name, isnan(x) ? "an empty value or NaN" : "inf");
        }
        v[i] = x;
    }
    return CS_OK;
}

/* Evaluates an expression of the law language row by row over the selected rows into v; its
 * identifiers are resolved names, passed to the law evaluator as the expression's "parameters".
 * `label` ("--derive D=C/(6*N)", "--where \"N > 1e9\"") prefixes every message. */
static int eval_expr(builder *b, const char *label, const char *expr, double *v)
{
    cs_law *e = cs_law_parse(expr, NULL, 0);
    const double **in = NULL;
    double *pv = NULL;
    double dummy = 0.0;
    char where[512];
    size_t np;
    int st;

    if (e == NULL)
        return cs_fail_prefix(CS_EINPUT, "%s", label);
    np = cs_law_nparams(e);
    in = calloc(np, sizeof *in);
    pv = calloc(np, sizeof *pv);
    st = in && pv ? CS_OK : cs_fail(CS_ENOMEM, "%s: out of memory", label);
    for (size_t j = 0; j < np && st == CS_OK; j++)
        st = resolve(b, cs_law_param_name(e, j), &in[j]);
    if (st)
        st = cs_fail_prefix(st, "%s", label);
    for (size_t i = 0; i < b->nsel && st == CS_OK; i++) {
        for (size_t j = 0; j < np; j++)
            pv[j] = in[j][i];
        st = cs_law_eval(e, pv, &dummy, &v[i]);
        if (st) {
            table_where(b->t, b->sel[i], where, sizeof where);
            st = cs_fail_prefix(st, "%s: %s", where, label);
        }
    }
    free(pv);
    free(in);
    cs_law_free(e);
    return st;
}

/* A --derive NAME=EXPR into v. */
static int eval_derive(builder *b, const char *name, const char *expr, double *v)
{
    char label[1024];

    snprintf(label, sizeof label, "--derive %s=%s", name, expr);
    return eval_expr(b, label, expr, v);
}

static int add_resolved(builder *b, const char *name, resolved **out)
{
    if (b->nres == b->cap_res) {
        size_t cap = b->cap_res ? 2 * b->cap_res : 8;
        resolved *r = realloc(b->res, cap * sizeof *r);

        if (r == NULL)
            return cs_fail(CS_ENOMEM, "out of memory resolving \"%s\"", name);
        b->res = r;
        b->cap_res = cap;
    }
    *out = &b->res[b->nres++];
    memset(*out, 0, sizeof **out);
    (*out)->name = strdup(name);
    (*out)->v = malloc((b->nsel ? b->nsel : 1) * sizeof(double));
    (*out)->busy = true;
    if ((*out)->name == NULL || (*out)->v == NULL)
        return cs_fail(CS_ENOMEM, "out of memory resolving \"%s\"", name);
    return CS_OK;
}

/* Fills r (just added) from a --derive, a --map or a same-named column. */
static int resolve_fill(builder *b, resolved *r, const char *name)
{
    const char *expr = NULL;
    const char *colname = find_map(b->p, name);
    long c;

    if (find_derive(b->p, name, &expr) >= 0) {
        r->origin = dup_printf("derived %s%s", expr, "");
        return r->origin ? eval_derive(b, name, expr, r->v) : cs_fail(CS_ENOMEM, "out of memory");
    }
    c = find_col(b->t, colname ? colname : name);
    if (c < 0 && colname)
        return cs_fail(CS_EINPUT, "--map %s=%s: %s has no column \"%s\"", name, colname,
                       cs_table_source(b->t), colname);
    if (c < 0)
        return cs_fail(CS_EINPUT,
                       "%s has no column \"%s\"; name one with --map %s=COLUMN or "
                       "--derive %s=EXPR",
                       cs_table_source(b->t), name, name, name);
    r->origin = dup_printf("column \"%s\"%s", cs_table_col_name(b->t, (size_t)c), "");
    if (r->origin == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    return read_column(b, (size_t)c, name, r->v);
}

/* The values of `name` over the selected rows (owned by the builder). */
static int resolve(builder *b, const char *name, const double **out)
{
    resolved *r = NULL;
    size_t k;
    int st;

    for (k = 0; k < b->nres; k++) {
        if (strcmp(b->res[k].name, name) != 0)
            continue;
        if (b->res[k].busy)
            return cs_fail(CS_EINPUT, "--derive %s: the expression uses %s itself", name, name);
        *out = b->res[k].v;
        return CS_OK;
    }
    st = add_resolved(b, name, &r);
    if (st)
        return st;
    k = b->nres - 1;
    st = resolve_fill(b, r, name);
    r = &b->res[k]; /* resolve_fill may have grown (moved) the array */
    r->busy = false;
    *out = r->v;
    return st;
}

static resolved *find_resolved(const builder *b, const char *name)
{
    for (size_t k = 0; k < b->nres; k++)
        if (strcmp(b->res[k].name, name) == 0)
            return &b->res[k];
    return NULL;
}

static void builder_clear(builder *b)
{
    for (size_t k = 0; k < b->nres; k++) {
        free(b->res[k].name);
        free(b->res[k].origin);
        free(b->res[k].v);
    }
    free(b->res);
    free(b->sel);
}

/* ---- predicates: --where, --holdout, and the ordering key --------------------------------- */

/* Forgets every resolved name (the selected rows are about to change). */
static void forget_resolved(builder *b)
{
    for (size_t k = 0; k < b->nres; k++) {
        free(b->res[k].name);
        free(b->res[k].origin);
        free(b->res[k].v);
    }
    b->nres = 0;
}

/* True when `name` is a --derive, a --map or a column of the table. */
static bool is_name(const builder *b, const char *name)
{
    const char *expr;

    return find_derive(b->p, name, &expr) >= 0 || find_map(b->p, name) != NULL ||
           find_col(b->t, name) >= 0;
}

/* The text column that `name` reads (a --map of that name, else the column itself), or -1 when
 * it is a --derive, no column, or a numeric column. */
static long text_col(const builder *b, const char *name)
{
    const char *expr;
    const char *colname = find_map(b->p, name);
    long c;

    if (find_derive(b->p, name, &expr) >= 0)
        return -1;
    c = find_col(b->t, colname ? colname : name);
    return c >= 0 && cs_table_col_type(b->t, (size_t)c) == CS_COL_STR ? c : -1;
}

/* The values of one side of a comparison over the selected rows: a number, a name (column,
 * --map or --derive), or an expression over names. *v points at them; *own is the array to
 * free (NULL when they belong to the builder). */
static int side_values(builder *b, const char *s, const char *label, const double **v, double **own)
{
    double x;
    int st;

    *own = NULL;
    if (is_name(b, s)) {
        st = resolve(b, s, v);
        return st ? cs_fail_prefix(st, "%s", label) : st;
    }
    *own = malloc((b->nsel ? b->nsel : 1) * sizeof **own);
    if (*own == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    *v = *own;
    if (cs_parse_double(s, &x, NULL) == CS_OK) {
        for (size_t i = 0; i < b->nsel; i++)
            (*own)[i] = x;
        return CS_OK;
    }
    return eval_expr(b, label, s, *own);
}

/* Compares a text column with a literal value: m[i] for the selected rows. */
static int text_clause(const builder *b, const char *label, const where_clause *w, long c,
                       unsigned char *m)
{
    if (w->op != CMP_EQ && w->op != CMP_NE)
        return cs_fail(CS_EINPUT, "%s: column \"%s\" holds text; only == and != compare text",
                       label, cs_table_col_name(b->t, (size_t)c));
    for (size_t i = 0; i < b->nsel; i++)
        m[i] = (strcmp(cs_table_str(b->t, b->sel[i], (size_t)c), w->val) == 0) == (w->op == CMP_EQ);
    return CS_OK;
}

/* One comparison "LEFT OP RIGHT" (text, nul-terminated, writable) into m[i]. */
static int clause_eval(builder *b, const char *label, char *text, unsigned char *m)
{
    where_clause w;
    const double *lv = NULL;
    const double *rv = NULL;
    double *lown = NULL;
    double *rown = NULL;
    size_t len;
    long c;
    int st = where_split(text, label, &w);

    if (st)
        return st;
    len = strlen(w.val);
    while (len > 0 && (w.val[len - 1] == ' ' || w.val[len - 1] == '\t'))
        w.val[--len] = '\0';
    if (len == 0)
        return cs_fail(CS_EINPUT, "%s: expected a value after the operator", label);
    c = text_col(b, w.col);
    if (c >= 0)
        return text_clause(b, label, &w, c, m);
    st = side_values(b, w.col, label, &lv, &lown);
    if (st == CS_OK)
        st = side_values(b, w.val, label, &rv, &rown);
    for (size_t i = 0; st == CS_OK && i < b->nsel; i++)
        m[i] = cmp_num(w.op, lv[i], rv[i]);
    free(lown);
    free(rown);
    return st;
}

/* Cuts *s at the next `sep` ("&&" or "||"): returns the piece (nul-terminated in place) and
 * advances *s past the separator, or to NULL after the last piece. */
static char *next_piece(char **s, const char *sep)
{
    char *piece = *s;
    char *at = strstr(*s, sep);

    if (at == NULL) {
        *s = NULL;
        return piece;
    }
    *at = '\0';
    *s = at + strlen(sep);
    return piece;
}

/* Evaluates predicate `text` (comparisons joined by && and ||, && binding tighter) over the
 * selected rows into out[i] (nsel). `opt` names the option in messages. */
static int pred_eval(builder *b, const char *opt, const char *text, unsigned char *out)
{
    size_t n = b->nsel ? b->nsel : 1;
    char *copy = strdup(text);
    unsigned char *all = malloc(n);
    unsigned char *m = malloc(n);
    char label[512];
    char *rest = copy;
    int st = copy && all && m ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");

    snprintf(label, sizeof label, "%s \"%s\"", opt, text);
    if (st == CS_OK)
        memset(out, 0, b->nsel);
    while (st == CS_OK && rest != NULL) {
        char *alt = next_piece(&rest, "||");

        memset(all, 1, b->nsel);
        while (st == CS_OK && alt != NULL) {
            st = clause_eval(b, label, next_piece(&alt, "&&"), m);
            for (size_t i = 0; st == CS_OK && i < b->nsel; i++)
                all[i] &= m[i];
        }
        for (size_t i = 0; st == CS_OK && i < b->nsel; i++)
            out[i] |= all[i];
    }
    free(m);
    free(all);
    free(copy);
    return st;
}

/* Keeps the selected rows with keep[i] (compacting sel); resolved names are forgotten. */
static void compact_sel(builder *b, const unsigned char *keep)
{
    size_t k = 0;

    for (size_t i = 0; i < b->nsel; i++)
        if (keep[i])
            b->sel[k++] = b->sel[i];
    b->nsel = k;
    forget_resolved(b);
}

/* Applies the --where clauses in turn, each to the rows the earlier ones kept, so that a
 * clause may read values that exist only in those rows. */
static int select_rows(builder *b)
{
    size_t nr = cs_table_nrows(b->t);
    unsigned char *keep = malloc(nr ? nr : 1);
    int st = CS_OK;

    b->sel = malloc((nr ? nr : 1) * sizeof *b->sel);
    if (keep == NULL || b->sel == NULL) {
        free(keep);
        return cs_fail(CS_ENOMEM, "%s: out of memory selecting rows", cs_table_source(b->t));
    }
    for (size_t r = 0; r < nr; r++)
        b->sel[b->nsel++] = r;
    for (size_t i = 0; i < b->p->nwheres && st == CS_OK; i++) {
        st = pred_eval(b, "--where", b->p->wheres[i], keep);
        if (st == CS_OK)
            compact_sel(b, keep);
    }
    free(keep);
    if (st == CS_OK && b->nsel == 0)
        st = cs_fail(CS_EINPUT, "%s: no rows left%s", cs_table_source(b->t),
                     b->p->nwheres ? " after --where" : "");
    return st;
}

/* ---- which variables must be > 0 ---------------------------------------------------------- */

/* Marks the variables reached from instruction i through products and quotients. */
static void mark_positive(const cs_law_prog *pr, uint32_t i, unsigned char *need)
{
    const cs_law_op *op = &pr->ops[i];

    if (op->code == CS_LAW_OP_VAR) {
        need[op->a] = 1;
    } else if (op->code == CS_LAW_OP_MUL || op->code == CS_LAW_OP_DIV) {
        mark_positive(pr, op->a, need);
        mark_positive(pr, op->b, need);
    }
}

/* need[j] = 1 for each law variable j that is the base of a power with a fitted (or
 * non-integer) exponent or the argument of a log, directly or through * and /. */
static void positive_vars(const cs_law *law, unsigned char *need)
{
    const cs_law_prog *pr = &law->prog;

    for (size_t i = 0; i < pr->nops; i++) {
        const cs_law_op *op = &pr->ops[i];

        if ((op->code == CS_LAW_OP_POW && pr->ops[op->b].active) ||
            (op->code == CS_LAW_OP_POWK && op->k != floor(op->k)) || op->code == CS_LAW_OP_LOG)
            mark_positive(pr, op->a, need);
    }
}

static int check_positive(const builder *b, const resolved *r, const char *why)
{
    char where[512];

    for (size_t i = 0; i < b->nsel; i++) {
        if (r->v[i] > 0)
            continue;
        table_where(b->t, b->sel[i], where, sizeof where);
        return cs_fail(CS_EINPUT, "%s: %s (%s): expected a positive number, got %.17g (%s)", where,
                       r->origin, r->name, r->v[i], why);
    }
    return CS_OK;
}

/* ---- drop_top, groups --------------------------------------------------------------------- */

typedef struct ranked {
    double v;
    size_t i;
} ranked;

/* Largest first; among equal values the earlier row first. */
static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa;
    const ranked *b = pb;

    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* keep[i] = 0 for the drop_top selected rows with the largest target y. */
static int drop_largest(const builder *b, const double *y, unsigned char *keep)
{
    ranked *rk;

    if (b->p->drop_top >= b->nsel)
        return cs_fail(CS_EINPUT, "--drop-top %zu: only %zu rows are left", b->p->drop_top,
                       b->nsel);
    rk = malloc((b->nsel ? b->nsel : 1) * sizeof *rk);
    if (rk == NULL)
        return cs_fail(CS_ENOMEM, "out of memory ranking rows");
    for (size_t i = 0; i < b->nsel; i++) {
        rk[i].v = y[i];
        rk[i].i = i;
        keep[i] = 1;
    }
    qsort(rk, b->nsel, sizeof *rk, cmp_ranked);
    for (size_t k = 0; k < b->p->drop_top; k++)
        keep[rk[k].i] = 0;
    free(rk);
    return CS_OK;
}

/* Group key of table row r in column c into buf. */
static void group_key(const cs_table *t, size_t r, size_t c, char *buf, size_t n)
{
    if (cs_table_col_type(t, c) == CS_COL_STR)
        snprintf(buf, n, "s%s", cs_table_str(t, r, c));
    else
        snprintf(buf, n, "n%.17g", cs_table_num(t, r, c));
}

/* Numbers the distinct values of the group column over the kept rows (first appearance). */
static int make_groups(const builder *b, cs_dataset *ds, const size_t *rows)
{
    long c = cs_table_find(b->t, b->p->group);
    size_t *first = NULL;
    char ka[512];
    char kb[512];

    if (c < 0)
        return cs_fail(CS_EINPUT, "--group: %s has no column \"%s\"", cs_table_source(b->t),
                       b->p->group);
    ds->group = malloc(ds->n * sizeof *ds->group);
    first = malloc(ds->n * sizeof *first);
    if (ds->group == NULL || first == NULL) {
        free(first);
        return cs_fail(CS_ENOMEM, "out of memory numbering groups");
    }
    for (size_t i = 0; i < ds->n; i++) {
        size_t g = 0;

        group_key(b->t, rows[i], (size_t)c, ka, sizeof ka);
        for (g = 0; g < ds->ngroups; g++) {
            group_key(b->t, rows[first[g]], (size_t)c, kb, sizeof kb);
            if (strcmp(ka, kb) == 0)
                break;
        }
        if (g == ds->ngroups)
            first[ds->ngroups++] = i;
        ds->group[i] = g;
    }
    free(first);
    return CS_OK;
}

/* ---- assembling --------------------------------------------------------------------------- */

static cs_dataset *dataset_alloc(const char *source, size_t nvars, size_t n)
{
    cs_dataset *ds = calloc(1, sizeof *ds);

    if (ds == NULL)
        return NULL;
    ds->nvars = nvars;
    ds->n = n;
    ds->source = strdup(source);
    ds->names = calloc(nvars + 1, sizeof *ds->names);
    ds->origin = calloc(nvars + 1, sizeof *ds->origin);
    ds->cols = calloc(nvars + 1, sizeof *ds->cols);
    ds->line = malloc((n ? n : 1) * sizeof *ds->line);
    if (ds->source == NULL || ds->names == NULL || ds->origin == NULL || ds->cols == NULL ||
        ds->line == NULL) {
        cs_dataset_free(ds);
        return NULL;
    }
    for (size_t j = 0; j <= nvars; j++) {
        ds->cols[j] = malloc((n ? n : 1) * sizeof(double));
        if (ds->cols[j] == NULL) {
            cs_dataset_free(ds);
            return NULL;
        }
    }
    return ds;
}

/* Copies the resolved columns of the law's names into ds for the rows with keep[i]. */
static int fill_dataset(const builder *b, const cs_law *law, const unsigned char *keep,
                        cs_dataset *ds, size_t *rows)
{
    size_t nv = cs_law_nvars(law);

    for (size_t j = 0; j <= nv; j++) {
        const char *name = j < nv ? cs_law_var_name(law, j) : cs_law_target(law);
        const resolved *r = find_resolved(b, name);
        size_t k = 0;

        CS_ASSERT(r != NULL);
        ds->names[j] = strdup(name);
        ds->origin[j] = strdup(r->origin);
        if (ds->names[j] == NULL || ds->origin[j] == NULL)
            return cs_fail(CS_ENOMEM, "out of memory");
        for (size_t i = 0; i < b->nsel; i++)
            if (keep[i])
                ds->cols[j][k++] = r->v[i];
    }
    for (size_t i = 0, k = 0; i < b->nsel; i++) {
        if (!keep[i])
            continue;
        rows[k] = b->sel[i];
        ds->line[k++] = cs_table_row_line(b->t, b->sel[i]);
    }
    return CS_OK;
}

/* Resolves the target and the variables and checks their values. */
static int resolve_law_names(builder *b, const cs_law *law, const double **y)
{
    size_t nv = cs_law_nvars(law);
    unsigned char *need = calloc(nv ? nv : 1, 1);
    const double *v;
    int st = need ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");

    if (st == CS_OK)
        st = resolve(b, cs_law_target(law), y);
    if (st == CS_OK && b->p->positive_target)
        st = check_positive(b, find_resolved(b, cs_law_target(law)),
                            "residuals are taken in log space; use linear residuals for targets "
                            "that can be <= 0");
    for (size_t j = 0; j < nv && st == CS_OK; j++)
        st = resolve(b, cs_law_var_name(law, j), &v);
    if (st == CS_OK)
        positive_vars(law, need);
    for (size_t j = 0; j < nv && st == CS_OK; j++)
        if (need[j])
            st = check_positive(b, find_resolved(b, cs_law_var_name(law, j)),
                                "the law raises it to a fitted power or takes its log");
    free(need);
    return st;
}

/* Applies --holdout to keep[] (selected rows left by drop_top): rows where it holds are left
 * out, or with held_out only they stay. *nkeep receives the rows kept. */
static int split_holdout(builder *b, unsigned char *keep, size_t *nkeep)
{
    const cs_dataset_params *p = b->p;
    unsigned char *h;
    size_t nk = 0;
    size_t nh = 0;
    int st;

    *nkeep = 0;
    for (size_t i = 0; i < b->nsel; i++)
        *nkeep += keep[i];
    if (p->holdout == NULL)
        return CS_OK;
    h = malloc(b->nsel ? b->nsel : 1);
    if (h == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    st = pred_eval(b, "--holdout", p->holdout, h);
    for (size_t i = 0; st == CS_OK && i < b->nsel; i++) {
        nk += keep[i];
        nh += keep[i] && h[i];
        keep[i] = keep[i] && (h[i] != 0) == p->held_out;
    }
    free(h);
    if (st == CS_OK && nh == 0)
        st = cs_fail(CS_EINPUT,
                     "--holdout \"%s\" holds for none of the %zu points: there is nothing to "
                     "score the fit on",
                     p->holdout, nk);
    else if (st == CS_OK && nh == nk)
        st = cs_fail(CS_EINPUT,
                     "--holdout \"%s\" holds for all %zu points: none is left to fit the law to",
                     p->holdout, nk);
    *nkeep = p->held_out ? nh : nk - nh;
    return st;
}

/* Evaluates the ordering key over the selected rows and keeps it for the rows with keep[i]. */
static int fill_key(builder *b, const unsigned char *keep, cs_dataset *ds)
{
    char label[512];
    const double *v = NULL;
    double *own = NULL;
    size_t k = 0;
    int st;

    snprintf(label, sizeof label, "key \"%s\"", b->p->key);
    ds->key = malloc((ds->n ? ds->n : 1) * sizeof *ds->key);
    if (ds->key == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    st = side_values(b, b->p->key, label, &v, &own);
    for (size_t i = 0; st == CS_OK && i < b->nsel; i++)
        if (keep[i])
            ds->key[k++] = v[i];
    free(own);
    return st;
}

static int build(builder *b, const cs_law *law, cs_dataset **out)
{
    const double *y = NULL;
    unsigned char *keep = NULL;
    size_t *rows = NULL;
    cs_dataset *ds = NULL;
    size_t nkeep = 0;
    int st = check_options(b->p);

    if (st == CS_OK)
        st = select_rows(b);
    if (st == CS_OK)
        st = resolve_law_names(b, law, &y);
    if (st)
        return st;
    keep = malloc(b->nsel);
    rows = malloc(b->nsel * sizeof *rows);
    if (keep == NULL || rows == NULL) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        goto out_free;
    }
    st = drop_largest(b, y, keep);
    if (st == CS_OK)
        st = split_holdout(b, keep, &nkeep);
    if (st)
        goto out_free;
    ds = dataset_alloc(cs_table_source(b->t), cs_law_nvars(law), nkeep);
    if (ds == NULL) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        goto out_free;
    }
    ds->n_read = cs_table_nrows(b->t);
    ds->n_filtered = ds->n_read - b->nsel;
    ds->n_dropped = b->p->drop_top;
    ds->n_holdout = b->nsel - b->p->drop_top - nkeep;
    st = fill_dataset(b, law, keep, ds, rows);
    if (st == CS_OK && b->p->group != NULL)
        st = make_groups(b, ds, rows);
    if (st == CS_OK && b->p->key != NULL)
        st = fill_key(b, keep, ds);
    if (st == CS_OK)
        *out = ds;
    else
        cs_dataset_free(ds);
out_free:
    free(rows);
    free(keep);
    return st;
}

int cs_dataset_build(const cs_table *t, const cs_law *law, const cs_dataset_params *p,
                     cs_dataset **out)
{
    cs_dataset_params def = cs_dataset_default_params();
    builder b;
    int st;

    if (t == NULL || law == NULL || out == NULL)
        return cs_fail(CS_EINVAL, "cs_dataset_build: NULL argument");
    *out = NULL;
    memset(&b, 0, sizeof b);
    b.t = t;
    b.p = p ? p : &def;
    st = build(&b, law, out);
    builder_clear(&b);
    return st;
}

void cs_dataset_free(cs_dataset *ds)
{
    if (ds == NULL)
        return;
    for (size_t j = 0; j <= ds->nvars; j++) {
        if (ds->names)
            free(ds->names[j]);
        if (ds->origin)
            free(ds->origin[j]);
        if (ds->cols)
            free(ds->cols[j]);
    }
    free(ds->names);
    free(ds->origin);
    free(ds->cols);
    free(ds->line);
    free(ds->group);
    free(ds->key);
    free(ds->source);
    free(ds);
}

/* ---- subsets ----------------------------------------------------------------------------- */

/* Copies names, origins and the counts of ds into s (allocated for ds->nvars). */
static int copy_header(const cs_dataset *ds, cs_dataset *s)
{
    for (size_t j = 0; j <= ds->nvars; j++) {
        s->names[j] = strdup(ds->names[j]);
        s->origin[j] = strdup(ds->origin[j]);
        if (s->names[j] == NULL || s->origin[j] == NULL)
            return cs_fail(CS_ENOMEM, "out of memory");
    }
    s->n_read = ds->n_read;
    s->n_filtered = ds->n_filtered;
    s->n_dropped = ds->n_dropped;
    s->n_holdout = ds->n_holdout + (ds->n - s->n);
    return CS_OK;
}

/* Group ids of the subset renumbered by first appearance. */
static int subset_groups(const cs_dataset *ds, const size_t *rows, cs_dataset *s)
{
    size_t *map = malloc((ds->ngroups ? ds->ngroups : 1) * sizeof *map);

    s->group = malloc(s->n * sizeof *s->group);
    if (map == NULL || s->group == NULL) {
        free(map);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    for (size_t g = 0; g < ds->ngroups; g++)
        map[g] = SIZE_MAX;
    for (size_t k = 0; k < s->n; k++) {
        size_t g = ds->group[rows[k]];

        if (map[g] == SIZE_MAX)
            map[g] = s->ngroups++;
        s->group[k] = map[g];
    }
    free(map);
    return CS_OK;
}

int cs_dataset_subset(const cs_dataset *ds, const size_t *rows, size_t n, cs_dataset **out)
{
    cs_dataset *s;
    int st;

    *out = NULL;
    if (n == 0)
        return cs_fail(CS_EINVAL, "cs_dataset_subset: no rows");
    for (size_t k = 0; k < n; k++)
        if (rows[k] >= ds->n)
            return cs_fail(CS_EINVAL, "cs_dataset_subset: row %zu of %zu", rows[k], ds->n);
    s = dataset_alloc(ds->source, ds->nvars, n);
    if (s == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    st = copy_header(ds, s);
    for (size_t k = 0; st == CS_OK && k < n; k++) {
        for (size_t j = 0; j <= ds->nvars; j++)
            s->cols[j][k] = ds->cols[j][rows[k]];
        s->line[k] = ds->line[rows[k]];
    }
    if (st == CS_OK && ds->group != NULL)
        st = subset_groups(ds, rows, s);
    if (st == CS_OK && ds->key != NULL) {
        s->key = malloc(n * sizeof *s->key);
        st = s->key ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");
        for (size_t k = 0; st == CS_OK && k < n; k++)
            s->key[k] = ds->key[rows[k]];
    }
    if (st) {
        cs_dataset_free(s);
        return st;
    }
    *out = s;
    return CS_OK;
}

/* ---- access ------------------------------------------------------------------------------- */

size_t cs_dataset_n(const cs_dataset *ds)
{
    return ds->n;
}
size_t cs_dataset_n_read(const cs_dataset *ds)
{
    return ds->n_read;
}
size_t cs_dataset_n_filtered(const cs_dataset *ds)
{
    return ds->n_filtered;
}
size_t cs_dataset_n_dropped(const cs_dataset *ds)
{
    return ds->n_dropped;
}
size_t cs_dataset_n_holdout(const cs_dataset *ds)
{
    return ds->n_holdout;
}
const double *cs_dataset_key(const cs_dataset *ds)
{
    return ds->key;
}
const char *cs_dataset_source(const cs_dataset *ds)
{
    return ds->source;
}
size_t cs_dataset_nvars(const cs_dataset *ds)
{
    return ds->nvars;
}

const double *const *cs_dataset_cols(const cs_dataset *ds)
{
    return (const double *const *)ds->cols;
}

const double *cs_dataset_target(const cs_dataset *ds)
{
    return ds->cols[ds->nvars];
}

const char *cs_dataset_var_name(const cs_dataset *ds, size_t j)
{
    return j <= ds->nvars ? ds->names[j] : NULL;
}

const char *cs_dataset_var_origin(const cs_dataset *ds, size_t j)
{
    return j <= ds->nvars ? ds->origin[j] : NULL;
}

size_t cs_dataset_row_line(const cs_dataset *ds, size_t i)
{
    return i < ds->n ? ds->line[i] : 0;
}

void cs_dataset_row_where(const cs_dataset *ds, size_t i, char *buf, size_t n)
{
    if (i < ds->n && ds->line[i] > 0)
        snprintf(buf, n, "%s:%zu", ds->source, ds->line[i]);
    else
        snprintf(buf, n, "%s: row %zu", ds->source, i + 1);
}

const size_t *cs_dataset_groups(const cs_dataset *ds, size_t *ngroups)
{
    *ngroups = ds->ngroups;
    return ds->group;
}

int cs_dataset_check_law(const cs_dataset *ds, const cs_law *law, const double *params)
{
    double *x;
    double v = 0.0;
    char where[512];
    char vals[512];
    size_t nv = ds->nvars;
    int st = CS_OK;

    if (cs_law_nvars(law) != nv)
        return cs_fail(CS_EINVAL, "cs_dataset_check_law: law has %zu variables, data %zu",
                       cs_law_nvars(law), nv);
    x = malloc((nv ? nv : 1) * sizeof *x);
    if (x == NULL)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (size_t i = 0; i < ds->n; i++) {
        size_t off = 0;

        for (size_t j = 0; j < nv; j++)
            x[j] = ds->cols[j][i];
        st = cs_law_eval(law, params, x, &v);
        if (st == CS_OK)
            continue;
        vals[0] = '\0';
        for (size_t j = 0; j < nv && off < sizeof vals; j++)
            off += (size_t)snprintf(vals + off, sizeof vals - off, "%s%s = %g", j ? ", " : "",
                                    ds->names[j], x[j]);
        cs_dataset_row_where(ds, i, where, sizeof where);
        st = cs_fail_prefix(st, "%s: at %s", where, vals);
        break;
    }
    free(x);
    return st;
}
