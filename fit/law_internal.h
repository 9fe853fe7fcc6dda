/* fit/law_internal.h: what fit/law.c, fit/law_parse.c and fit/law_eval.c share — the compiled
 * program, the name tables and the cs_law struct body. Not installed for users; the public API
 * is fit/law.h. Tested through it in tests/unit/test_law.c.
 *
 * A program is a list of instructions in postfix order. Instruction i computes one value from
 * the values of earlier instructions a and b (a, b < i); the last instruction is the result.
 * Because formulas are trees (no shared subexpressions), the instructions of any subexpression
 * are contiguous, [op.first, i], and each instruction is the operand of exactly one other.
 */
#ifndef CS_FIT_LAW_INTERNAL_H
#define CS_FIT_LAW_INTERNAL_H

#include "fit/law.h"

#include <stdint.h>

enum cs_law_opcode {
    CS_LAW_OP_CONST, /* k */
    CS_LAW_OP_VAR,   /* variable a */
    CS_LAW_OP_PARAM, /* parameter a */
    CS_LAW_OP_NEG,   /* -x */
    CS_LAW_OP_ADD,   /* x + y */
    CS_LAW_OP_SUB,   /* x - y */
    CS_LAW_OP_MUL,   /* x * y */
    CS_LAW_OP_DIV,   /* x / y */
    CS_LAW_OP_POW,   /* x ^ y */
    CS_LAW_OP_POWK,  /* x ^ k, constant exponent */
    CS_LAW_OP_EXP,   /* exp(x) */
    CS_LAW_OP_LOG,   /* log(x), natural */
    CS_LAW_OP_MIN,   /* min(x, y) */
    CS_LAW_OP_MAX,   /* max(x, y) */
};

typedef struct cs_law_op {
    uint8_t code;    /* enum cs_law_opcode */
    uint8_t active;  /* 1 when the value depends on a parameter (needs a reverse sweep) */
    uint8_t uniform; /* 1 when it depends on no variable: the same for every row */
    uint32_t a;      /* first operand (instruction index); variable/parameter index for loads */
    uint32_t b;      /* second operand (instruction index) for binary operations */
    uint32_t first;  /* first instruction of the subexpression this one ends */
    uint32_t line;   /* source position of the operator, 1-based, for messages */
    uint32_t col;    /* column in characters, 1-based */
    double k;        /* value of CONST, exponent of POWK */
} cs_law_op;

typedef struct cs_law_prog {
    cs_law_op *ops;    /* (nops) */
    size_t nops;       /* 1..CS_LAW_MAX_OPS */
    size_t cap;        /* allocated length of ops */
    size_t nterms;     /* additive terms of the top-level + / - chain, >= 1 */
    uint32_t *term_op; /* (nterms) last instruction of each term */
    double *term_sign; /* (nterms) +1 or -1 */
} cs_law_prog;

/* A growable list of owned names. */
typedef struct cs_law_names {
    char **name; /* (n) */
    size_t n;
    size_t cap;
} cs_law_names;

/* How the compiler resolves identifiers. */
typedef struct cs_law_scope {
    const char *what;            /* message prefix: "law", "derived quantity" */
    const char *const *declared; /* (ndeclared) identifiers that are variables */
    size_t ndeclared;
    cs_law_names *vars;   /* variables met so far, grows */
    cs_law_names *params; /* parameters met so far; grows unless params_fixed */
    bool params_fixed;    /* every other identifier must already be a parameter */
} cs_law_scope;

struct cs_law {
    char *text;              /* formula as given */
    char *target;            /* predicted quantity */
    const cs_law_info *info; /* built-in entry or NULL */
    cs_law_names vars;       /* variables, first-appearance order */
    cs_law_names params;     /* parameters, first-appearance order */
    cs_law_prog prog;        /* the right side */
    unsigned *flags;         /* (nparams) CS_LAW_POSITIVE */
    double *grid_lo;         /* (nparams) */
    double *grid_hi;         /* (nparams) */
    size_t *grid_n;          /* (nparams) 0 = not set */
    cs_law_names dnames;     /* derived quantity names */
    cs_law_prog *derived;    /* (dnames.n) their programs, over the law's parameters */
};

struct cs_law_work {
    const cs_law *law; /* the law it was sized for */
    double *val;       /* (nops, CS_LAW_BLOCK) instruction values */
    double *adj;       /* (nops, CS_LAW_BLOCK) adjoints */
};

/* Rows evaluated together by the batched evaluators. */
#define CS_LAW_BLOCK 64

/* Compiles `text` into *prog (empty on entry) and, when the formula starts with "NAME =", sets
 * *target to a malloc'd copy of NAME (else NULL). Returns CS_OK, CS_EINPUT with a
 * "WHAT: LINE:COL: ..." message and caret, or CS_ENOMEM. On failure *prog is cleared. */
int cs_law_compile(const char *text, cs_law_scope *scope, cs_law_prog *prog, char **target);

/* Frees a program's arrays and zeroes it. */
void cs_law_prog_clear(cs_law_prog *prog);

/* Names: append a copy (CS_OK or CS_ENOMEM), find (index or -1), free all. */
int cs_law_names_add(cs_law_names *t, const char *name, size_t len);
long cs_law_names_find(const cs_law_names *t, const char *name, size_t len);
void cs_law_names_clear(cs_law_names *t);

/* True for the built-in function names (exp, log, min, max). */
bool cs_law_is_function(const char *name, size_t len);

/* Number of operands of an opcode: 0, 1 or 2. */
size_t cs_law_op_arity(int code);

/* Value of one operation on numbers (k: the POWK exponent); may be non-finite. */
double cs_law_op_apply(int code, double x, double y, double k);

/* Why code(x, y; k) is not finite, e.g. "division by zero", written into buf (n bytes);
 * returns buf. */
const char *cs_law_op_failure(int code, double x, double y, double k, char *buf, size_t n);

/* One evaluation request over rows of a program (see fit/law_eval.c). */
typedef struct cs_law_run {
    const cs_law_prog *prog;
    const cs_law_names *vars;   /* for messages */
    const cs_law_names *params; /* for messages */
    const char *what;           /* message prefix */
    const double *pv;           /* (nparams) parameter values */
    const double *xv;           /* (nvars) one point, or NULL to read cols */
    const double *const *cols;  /* (nvars) columns, used when xv is NULL */
    size_t row0;                /* first row of the block */
    size_t nr;                  /* rows in the block, <= stride */
    size_t stride;              /* row capacity of val/adj per instruction */
    bool show_row;              /* put "row R" in messages */
    double *val;                /* (nops, stride) */
    double *adj;                /* (nops, stride) */
} cs_law_run;

/* Forward sweep over instructions [first, last]. CS_OK or CS_EINPUT naming the operation. */
int cs_law_run_forward(const cs_law_run *run, size_t first, size_t last);

/* Reverse sweep of instruction `last` (a subexpression root, first = its op.first) with seed
 * `sign`: adds d(sign * value)/d params into grad + r*gstride for each row r of the block.
 * CS_OK or CS_EINPUT when a derivative is not finite (grad is then partly written). */
int cs_law_run_reverse(const cs_law_run *run, size_t last, double sign, double *grad,
                       size_t gstride);

#endif /* CS_FIT_LAW_INTERNAL_H */
