/* fit/law_parse.c: lexer, recursive-descent parser and compiler of the law formula language
 * (docs/laws.md). The parser emits instructions in postfix order as it goes (no syntax tree),
 * folds operations on constants, turns x^constant into a cheaper instruction, and finally splits
 * the top-level + / - chain into additive terms. Syntax errors carry "LINE:COL", the offending
 * line and a caret. Tested in tests/unit/test_law.c and fuzzed by fuzz/fuzz_law.c.
 *
 * Grammar (precedence low to high; ^ is right-associative and binds tighter than unary minus):
 *   law     := [NAME '='] expr END
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary [('^' | '**') unary]
 *   primary := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
 */
#include "fit/law_internal.h"

#include "core/error.h"
#include "core/parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind {
    TK_END,
    TK_NUM,
    TK_NAME,
    TK_PLUS,
    TK_MINUS,
    TK_STAR,
    TK_SLASH,
    TK_CARET,
    TK_LPAREN,
    TK_RPAREN,
    TK_COMMA,
    TK_EQ,
};

/* A place in the text. */
typedef struct pos {
    const char *p;          /* byte */
    const char *line_start; /* first byte of its line */
    uint32_t line;          /* 1-based */
    uint32_t col;           /* 1-based, in characters (UTF-8 code points) */
} pos;

typedef struct token {
    int kind;   /* enum tok_kind */
    pos at;     /* first byte (for TK_END: just after the last token) */
    size_t len; /* bytes */
    double num; /* value of TK_NUM */
} token;

typedef struct parser {
    cs_law_scope *scope;
    cs_law_prog *prog;
    pos cur;            /* next unread byte */
    pos prev_end;       /* end of the previous token */
    token tok;          /* current token */
    const char *target; /* left side of '=', or NULL */
    size_t target_len;
    size_t depth; /* current nesting */
} parser;

/* ---- messages ---------------------------------------------------------------------------- */

/* Writes the line of `at` into line[] and a caret under `at` into caret[]; long lines are cut
 * to a window around the caret, marked with "...". Both buffers hold at least 128 bytes. */
static void excerpt(const pos *at, char *line, char *caret)
{
    const char *ls = at->line_start;
    const char *le = ls;
    const char *ws;
    const char *we;
    size_t nl = 0;
    size_t nc = 0;

    while (*le != '\0' && *le != '\n')
        le++;
    ws = ls;
    if (at->p - ws > 60)
        ws = at->p - 60;
    while (ws > ls && ((unsigned char)*ws & 0xC0) == 0x80)
        ws--;
    we = le - ws > 100 ? ws + 100 : le;
    while (we < le && we > ws && ((unsigned char)*we & 0xC0) == 0x80)
        we--;
    if (ws > ls) {
        memcpy(line, "...", 3);
        memcpy(caret, "   ", 3);
        nl = nc = 3;
    }
    for (const char *s = ws; s < we; s++) {
        unsigned char c = (unsigned char)*s;

        line[nl++] = (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c;
        if (s < at->p && (c & 0xC0) != 0x80)
            caret[nc++] = c == '\t' ? '\t' : ' ';
    }
    if (we < le) {
        memcpy(line + nl, "...", 3);
        nl += 3;
    }
    line[nl] = '\0';
    caret[nc++] = '^';
    caret[nc] = '\0';
}

/* Records "WHAT: LINE:COL: message" plus the line and a caret; returns CS_EINPUT. */
__attribute__((format(printf, 3, 4))) static int perr(const parser *ps, const pos *at,
                                                      const char *fmt, ...)
{
    char msg[512];
    char line[128];
    char caret[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    excerpt(at, line, caret);
    return cs_fail(CS_EINPUT, "%s: %u:%u: %s\n    %s\n    %s", ps->scope->what, (unsigned)at->line,
                   (unsigned)at->col, msg, line, caret);
}

/* "the end of the formula", "name 'x'", "'+'", ... for messages. */
static const char *tok_desc(const token *t, char *buf, size_t n)
{
    int len = t->len > 40 ? 40 : (int)t->len;

    switch (t->kind) {
    case TK_END: return "the end of the formula";
    case TK_NUM: snprintf(buf, n, "number '%.*s'", len, t->at.p); break;
    case TK_NAME: snprintf(buf, n, "name '%.*s'", len, t->at.p); break;
    default: snprintf(buf, n, "'%.*s'", len, t->at.p); break;
    }
    return buf;
}

/* "column C" when `p` is on the line of `now`, else "line L column C". */
static const char *where(const pos *p, const pos *now, char *buf, size_t n)
{
    if (p->line == now->line)
        snprintf(buf, n, "column %u", (unsigned)p->col);
    else
        snprintf(buf, n, "line %u column %u", (unsigned)p->line, (unsigned)p->col);
    return buf;
}

/* ---- lexer ------------------------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || is_digit(c);
}

static void advance(pos *s, size_t nbytes)
{
    for (size_t i = 0; i < nbytes && *s->p != '\0'; i++) {
        unsigned char c = (unsigned char)*s->p++;

        if (c == '\n') {
            s->line++;
            s->col = 1;
            s->line_start = s->p;
        } else if ((c & 0xC0) != 0x80) {
            s->col++;
        }
    }
}

/* Skips white space and '#' comments. */
static void skip_space(pos *s)
{
    for (;;) {
        char c = *s->p;

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(s, 1);
        } else if (c == '#') {
            while (*s->p != '\0' && *s->p != '\n')
                advance(s, 1);
        } else {
            return;
        }
    }
}

/* Length of the number at s (digits [. digits] [e [+-] digits]); 0 when the exponent has no
 * digits. */
static size_t number_length(const char *s)
{
    size_t n = 0;

    while (is_digit(s[n]))
        n++;
    if (s[n] == '.') {
        n++;
        while (is_digit(s[n]))
            n++;
    }
    if (s[n] == 'e' || s[n] == 'E') {
        size_t m = n + 1;

        if (s[m] == '+' || s[m] == '-')
            m++;
        if (!is_digit(s[m]))
            return 0;
        while (is_digit(s[m]))
            m++;
        n = m;
    }
    return n;
}

static int lex_number(parser *ps, token *t)
{
    char buf[72];
    size_t n = number_length(t->at.p);

    if (n == 0) {
        size_t bad = 0;

        while (is_name_char(t->at.p[bad]) || t->at.p[bad] == '.')
            bad++;
        return perr(ps, &t->at, "malformed number '%.*s': the exponent needs digits (1e-3)",
                    (int)(bad > 40 ? 40 : bad), t->at.p);
    }
    if (n >= sizeof buf)
        return perr(ps, &t->at, "number '%.20s...' is too long", t->at.p);
    memcpy(buf, t->at.p, n);
    buf[n] = '\0';
    if (cs_parse_double(buf, &t->num, "number") != CS_OK)
        return perr(ps, &t->at, "number '%s' is out of range for a double", buf);
    t->kind = TK_NUM;
    t->len = n;
    return CS_OK;
}

/* Operators: ASCII, plus the UTF-8 signs × · ÷ − as synonyms. Returns the length or 0. */
static size_t lex_operator(const char *s, int *kind)
{
    static const struct {
        const char *text;
        int kind;
    } ops[] = {
        {"**", TK_CARET},       {"+", TK_PLUS},
        {"-", TK_MINUS},        {"*", TK_STAR},
        {"/", TK_SLASH},        {"^", TK_CARET},
        {"(", TK_LPAREN},       {")", TK_RPAREN},
        {",", TK_COMMA},        {"=", TK_EQ},
        {"\xc3\x97", TK_STAR},  {"\xc2\xb7", TK_STAR},
        {"\xc3\xb7", TK_SLASH}, {"\xe2\x88\x92", TK_MINUS},
    };

    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);

        if (strncmp(s, ops[i].text, n) == 0) {
            *kind = ops[i].kind;
            return n;
        }
    }
    return 0;
}

/* Reads the next token into ps->tok. */
static int lex(parser *ps)
{
    token *t = &ps->tok;
    unsigned char c;
    int st;

    skip_space(&ps->cur);
    memset(t, 0, sizeof *t);
    t->at = ps->cur;
    c = (unsigned char)*ps->cur.p;
    if (c == '\0') {
        t->kind = TK_END;
        t->at = ps->prev_end;
        return CS_OK;
    }
    if (is_digit((char)c) || (c == '.' && is_digit(ps->cur.p[1]))) {
        st = lex_number(ps, t);
        if (st != CS_OK)
            return st;
    } else if (is_name_start((char)c)) {
        while (is_name_char(t->at.p[t->len]))
            t->len++;
        if (t->len > CS_LAW_MAX_NAME)
            return perr(ps, &t->at, "name '%.20s...' is longer than %d characters", t->at.p,
                        CS_LAW_MAX_NAME);
        t->kind = TK_NAME;
    } else if ((t->len = lex_operator(ps->cur.p, &t->kind)) == 0) {
        if (c >= 0x20 && c < 0x7f)
            return perr(ps, &t->at, "unexpected character '%c'", c);
        return perr(ps, &t->at, "unexpected byte 0x%02x", c);
    }
    advance(&ps->cur, t->len);
    ps->prev_end = ps->cur;
    return CS_OK;
}

/* ---- emitting instructions ---------------------------------------------------------------- */

size_t cs_law_op_arity(int code)
{
    switch (code) {
    case CS_LAW_OP_CONST:
    case CS_LAW_OP_VAR:
    case CS_LAW_OP_PARAM: return 0;
    case CS_LAW_OP_NEG:
    case CS_LAW_OP_POWK:
    case CS_LAW_OP_EXP:
    case CS_LAW_OP_LOG: return 1;
    default: return 2;
    }
}

/* Replaces an operation on constants by its value. A non-finite result is an error at once. */
static int fold(parser *ps, const pos *at, uint32_t *out)
{
    cs_law_prog *p = ps->prog;
    cs_law_op *op = &p->ops[*out];
    size_t na = cs_law_op_arity(op->code);
    double x;
    double y;
    double v;
    char why[160];

    if (na == 0 || p->ops[op->a].code != CS_LAW_OP_CONST ||
        (na == 2 && p->ops[op->b].code != CS_LAW_OP_CONST))
        return CS_OK;
    x = p->ops[op->a].k;
    y = na == 2 ? p->ops[op->b].k : 0.0;
    v = cs_law_op_apply(op->code, x, y, op->k);
    if (!isfinite(v))
        return perr(ps, at, "%s", cs_law_op_failure(op->code, x, y, op->k, why, sizeof why));
    *out = op->first;
    p->ops[*out] = *op;
    p->ops[*out].code = CS_LAW_OP_CONST;
    p->ops[*out].active = 0;
    p->ops[*out].uniform = 1;
    p->ops[*out].k = v;
    p->ops[*out].first = *out;
    p->nops = (size_t)*out + 1;
    return CS_OK;
}

/* Appends instruction code(a, b; k) at source position `at`; *out receives its index (or that of
 * the constant it folded into). */
static int emit(parser *ps, int code, uint32_t a, uint32_t b, double k, const pos *at,
                uint32_t *out)
{
    cs_law_prog *p = ps->prog;
    cs_law_op *op;
    size_t na = cs_law_op_arity(code);

    if (code == CS_LAW_OP_POW && p->ops[b].code == CS_LAW_OP_CONST &&
        p->ops[a].code != CS_LAW_OP_CONST && (size_t)b + 1 == p->nops) {
        code = CS_LAW_OP_POWK; /* x^2, N^-0.5: no log(x) needed, negative x allowed */
        k = p->ops[b].k;
        p->nops--;
        na = 1;
    }
    if (p->nops >= CS_LAW_MAX_OPS)
        return perr(ps, at, "formula too long: more than %d operations", CS_LAW_MAX_OPS);
    if (p->nops == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 32;
        cs_law_op *ops = realloc(p->ops, cap * sizeof *ops);

        if (ops == NULL)
            return cs_fail(CS_ENOMEM, "%s: out of memory compiling the formula", ps->scope->what);
        p->ops = ops;
        p->cap = cap;
    }
    *out = (uint32_t)p->nops;
    op = &p->ops[p->nops++];
    memset(op, 0, sizeof *op);
    op->code = (uint8_t)code;
    op->a = a;
    op->b = na == 2 ? b : 0;
    op->k = k;
    op->line = at->line;
    op->col = at->col;
    op->first = na == 0 ? *out : p->ops[a].first;
    op->active =
        code == CS_LAW_OP_PARAM || (na >= 1 && p->ops[a].active) || (na == 2 && p->ops[b].active);
    op->uniform =
        code != CS_LAW_OP_VAR && (na < 1 || p->ops[a].uniform) && (na < 2 || p->ops[b].uniform);
    return fold(ps, at, out);
}

/* ---- parser ------------------------------------------------------------------------------ */

static int parse_expr(parser *ps, uint32_t *out);
static int parse_unary(parser *ps, uint32_t *out);

static const struct {
    const char *name;
    int code;
    int unary; /* 1: exactly one argument; 0: two or more, folded left */
} functions[] = {
    {"exp", CS_LAW_OP_EXP, 1},
    {"log", CS_LAW_OP_LOG, 1},
    {"min", CS_LAW_OP_MIN, 0},
    {"max", CS_LAW_OP_MAX, 0},
};

static long find_function(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
        if (strlen(functions[i].name) == len && memcmp(functions[i].name, name, len) == 0)
            return (long)i;
    return -1;
}

bool cs_law_is_function(const char *name, size_t len)
{
    return find_function(name, len) >= 0;
}

static bool is_declared(const cs_law_scope *sc, const char *name, size_t len)
{
    for (size_t i = 0; i < sc->ndeclared; i++)
        if (strlen(sc->declared[i]) == len && memcmp(sc->declared[i], name, len) == 0)
            return true;
    return false;
}

/* Parses "( args )" after a function name: min/max fold left over two or more arguments. */
static int parse_args(parser *ps, const token *name, long fn, uint32_t *out)
{
    pos open = ps->tok.at;
    size_t nargs = 1;
    uint32_t arg;
    char b1[64];
    char b2[64];
    int st = lex(ps);

    if (st == CS_OK)
        st = parse_expr(ps, out);
    while (st == CS_OK && ps->tok.kind == TK_COMMA) {
        if (functions[fn].unary)
            return perr(ps, &ps->tok.at, "'%s' takes one argument", functions[fn].name);
        st = lex(ps);
        if (st == CS_OK)
            st = parse_expr(ps, &arg);
        if (st == CS_OK)
            st = emit(ps, functions[fn].code, *out, arg, 0.0, &name->at, out);
        nargs++;
    }
    if (st != CS_OK)
        return st;
    if (ps->tok.kind != TK_RPAREN)
        return perr(ps, &ps->tok.at, "expected ')' to close '%s(' at %s, found %s",
                    functions[fn].name, where(&open, &ps->tok.at, b1, sizeof b1),
                    tok_desc(&ps->tok, b2, sizeof b2));
    if (!functions[fn].unary && nargs < 2)
        return perr(ps, &name->at, "'%s' takes two or more arguments", functions[fn].name);
    st = lex(ps);
    if (st == CS_OK && functions[fn].unary)
        st = emit(ps, functions[fn].code, *out, 0, 0.0, &name->at, out);
    return st;
}

/* A name: a function call, a variable or a parameter. */
static int parse_name(parser *ps, uint32_t *out)
{
    token name = ps->tok;
    const char *s = name.at.p;
    size_t n = name.len;
    long fn = find_function(s, n);
    long idx;
    int st = lex(ps);

    if (st != CS_OK)
        return st;
    if (ps->tok.kind == TK_LPAREN) {
        if (fn >= 0)
            return parse_args(ps, &name, fn, out);
        if (is_declared(ps->scope, s, n) || cs_law_names_find(ps->scope->params, s, n) >= 0)
            return perr(ps, &name.at, "'%.*s' is not a function (write '%.*s*(...)' to multiply)",
                        (int)n, s, (int)n, s);
        return perr(ps, &name.at, "unknown function '%.*s' (functions: exp, log, min, max)", (int)n,
                    s);
    }
    if (fn >= 0)
        return perr(ps, &name.at, "'%.*s' is a function; call it as %.*s(...)", (int)n, s, (int)n,
                    s);
    if (ps->target && n == ps->target_len && memcmp(s, ps->target, n) == 0)
        return perr(ps, &name.at,
                    "'%.*s' is the predicted quantity; it cannot appear on the "
                    "right of '='",
                    (int)n, s);
    if (is_declared(ps->scope, s, n)) {
        idx = cs_law_names_find(ps->scope->vars, s, n);
        if (idx < 0 && (st = cs_law_names_add(ps->scope->vars, s, n)) != CS_OK)
            return st;
        idx = idx < 0 ? (long)ps->scope->vars->n - 1 : idx;
        return emit(ps, CS_LAW_OP_VAR, (uint32_t)idx, 0, 0.0, &name.at, out);
    }
    idx = cs_law_names_find(ps->scope->params, s, n);
    if (idx < 0 && ps->scope->params_fixed)
        return perr(ps, &name.at, "'%.*s' is not a parameter of the law", (int)n, s);
    if (idx < 0 && (st = cs_law_names_add(ps->scope->params, s, n)) != CS_OK)
        return st;
    idx = idx < 0 ? (long)ps->scope->params->n - 1 : idx;
    return emit(ps, CS_LAW_OP_PARAM, (uint32_t)idx, 0, 0.0, &name.at, out);
}

static int parse_primary(parser *ps, uint32_t *out)
{
    token t = ps->tok;
    char b1[64];
    char b2[64];
    int st;

    switch (t.kind) {
    case TK_NUM:
        st = emit(ps, CS_LAW_OP_CONST, 0, 0, t.num, &t.at, out);
        return st != CS_OK ? st : lex(ps);
    case TK_NAME: return parse_name(ps, out);
    case TK_LPAREN:
        st = lex(ps);
        if (st == CS_OK)
            st = parse_expr(ps, out);
        if (st != CS_OK)
            return st;
        if (ps->tok.kind != TK_RPAREN)
            return perr(ps, &ps->tok.at, "expected ')' to close '(' at %s, found %s",
                        where(&t.at, &ps->tok.at, b1, sizeof b1),
                        tok_desc(&ps->tok, b2, sizeof b2));
        return lex(ps);
    case TK_EQ: return perr(ps, &t.at, "unexpected '='; only the start of a law may be 'NAME ='");
    default:
        return perr(ps, &t.at, "expected a number, a name or '(', found %s",
                    tok_desc(&t, b1, sizeof b1));
    }
}

static int parse_power(parser *ps, uint32_t *out)
{
    uint32_t rhs;
    token op;
    int st = parse_primary(ps, out);

    if (st != CS_OK || ps->tok.kind != TK_CARET)
        return st;
    op = ps->tok;
    st = lex(ps);
    if (st == CS_OK)
        st = parse_unary(ps, &rhs); /* right-associative; allows 2^-x */
    if (st == CS_OK)
        st = emit(ps, CS_LAW_OP_POW, *out, rhs, 0.0, &op.at, out);
    return st;
}

static int parse_unary(parser *ps, uint32_t *out)
{
    token op = ps->tok;
    int st;

    if (++ps->depth > CS_LAW_MAX_DEPTH)
        return perr(ps, &op.at, "formula nested too deeply (more than %d levels)",
                    CS_LAW_MAX_DEPTH);
    if (op.kind == TK_MINUS || op.kind == TK_PLUS) {
        st = lex(ps);
        if (st == CS_OK)
            st = parse_unary(ps, out);
        if (st == CS_OK && op.kind == TK_MINUS)
            st = emit(ps, CS_LAW_OP_NEG, *out, 0, 0.0, &op.at, out);
    } else {
        st = parse_power(ps, out);
    }
    ps->depth--;
    return st;
}

static int parse_term(parser *ps, uint32_t *out)
{
    uint32_t rhs;
    int st = parse_unary(ps, out);

    while (st == CS_OK && (ps->tok.kind == TK_STAR || ps->tok.kind == TK_SLASH)) {
        token op = ps->tok;

        st = lex(ps);
        if (st == CS_OK)
            st = parse_unary(ps, &rhs);
        if (st == CS_OK)
            st = emit(ps, op.kind == TK_STAR ? CS_LAW_OP_MUL : CS_LAW_OP_DIV, *out, rhs, 0.0,
                      &op.at, out);
    }
    return st;
}

static int parse_expr(parser *ps, uint32_t *out)
{
    uint32_t rhs;
    int st = parse_term(ps, out);

    while (st == CS_OK && (ps->tok.kind == TK_PLUS || ps->tok.kind == TK_MINUS)) {
        token op = ps->tok;

        st = lex(ps);
        if (st == CS_OK)
            st = parse_term(ps, &rhs);
        if (st == CS_OK)
            st = emit(ps, op.kind == TK_PLUS ? CS_LAW_OP_ADD : CS_LAW_OP_SUB, *out, rhs, 0.0,
                      &op.at, out);
    }
    return st;
}

/* ---- the whole formula ------------------------------------------------------------------- */

/* Reads "NAME =" at the start when present. */
static int parse_target(parser *ps)
{
    parser save = *ps;
    token name = ps->tok;
    int st;

    if (name.kind != TK_NAME)
        return CS_OK;
    st = lex(ps);
    if (st != CS_OK || ps->tok.kind != TK_EQ) {
        *ps = save; /* not a target: parse again from the name */
        return CS_OK;
    }
    if (cs_law_is_function(name.at.p, name.len))
        return perr(ps, &name.at, "'%.*s' is a function and cannot name the predicted quantity",
                    (int)name.len, name.at.p);
    ps->target = name.at.p;
    ps->target_len = name.len;
    st = lex(ps);
    if (st == CS_OK && ps->tok.kind == TK_END)
        return perr(ps, &ps->tok.at, "expected an expression after '='");
    return st;
}

/* After the expression only the end may follow. */
static int trailing_error(parser *ps)
{
    char b[64];
    const token *t = &ps->tok;

    switch (t->kind) {
    case TK_EQ: return perr(ps, &t->at, "unexpected '='; a law is written 'NAME = expression'");
    case TK_RPAREN: return perr(ps, &t->at, "unmatched ')'");
    case TK_NUM:
    case TK_NAME:
    case TK_LPAREN:
        return perr(ps, &t->at, "expected an operator before %s (write '*' to multiply)",
                    tok_desc(t, b, sizeof b));
    default:
        return perr(ps, &t->at, "expected an operator or the end of the formula, found %s",
                    tok_desc(t, b, sizeof b));
    }
}

/* Splits the top-level chain of + and - into terms (left to right, with signs). */
static int split_terms(cs_law_prog *p)
{
    size_t n = 1;
    size_t k;
    uint32_t i = (uint32_t)(p->nops - 1);

    while (p->ops[i].code == CS_LAW_OP_ADD || p->ops[i].code == CS_LAW_OP_SUB) {
        n++;
        i = p->ops[i].a;
    }
    p->term_op = malloc(n * sizeof *p->term_op);
    p->term_sign = malloc(n * sizeof *p->term_sign);
    if (p->term_op == NULL || p->term_sign == NULL)
        return cs_fail(CS_ENOMEM, "law: out of memory");
    p->nterms = n;
    i = (uint32_t)(p->nops - 1);
    for (k = n - 1; k > 0; k--) {
        p->term_op[k] = p->ops[i].b;
        p->term_sign[k] = p->ops[i].code == CS_LAW_OP_SUB ? -1.0 : 1.0;
        i = p->ops[i].a;
    }
    p->term_op[0] = i;
    p->term_sign[0] = 1.0;
    return CS_OK;
}

static int compile(parser *ps, char **target)
{
    uint32_t root;
    int st = lex(ps);

    if (st == CS_OK)
        st = parse_target(ps);
    if (st != CS_OK)
        return st;
    if (ps->tok.kind == TK_END)
        return perr(ps, &ps->tok.at, "empty formula");
    st = parse_expr(ps, &root);
    if (st != CS_OK)
        return st;
    if (ps->tok.kind != TK_END)
        return trailing_error(ps);
    st = split_terms(ps->prog);
    if (st == CS_OK && ps->target) {
        *target = malloc(ps->target_len + 1);
        if (*target == NULL)
            return cs_fail(CS_ENOMEM, "law: out of memory");
        memcpy(*target, ps->target, ps->target_len);
        (*target)[ps->target_len] = '\0';
    }
    return st;
}

int cs_law_compile(const char *text, cs_law_scope *scope, cs_law_prog *prog, char **target)
{
    parser ps;
    int st;

    memset(&ps, 0, sizeof ps);
    ps.scope = scope;
    ps.prog = prog;
    ps.cur.p = text;
    ps.cur.line_start = text;
    ps.cur.line = 1;
    ps.cur.col = 1;
    ps.prev_end = ps.cur;
    *target = NULL;
    st = compile(&ps, target);
    if (st != CS_OK)
        cs_law_prog_clear(prog);
    return st;
}

void cs_law_prog_clear(cs_law_prog *prog)
{
    free(prog->ops);
    free(prog->term_op);
    free(prog->term_sign);
    memset(prog, 0, sizeof *prog);
}
