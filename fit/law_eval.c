/* fit/law_eval.c: evaluation of compiled laws — forward sweep over a block of rows, reverse
 * sweep for exact gradients with respect to the parameters, and the public evaluators (one
 * point, one term, many points). Nothing here allocates except cs_law_work_alloc; the law is
 * only read, so threads may share it. Tested in tests/unit/test_law.c (gradients against
 * central differences) and fuzzed by fuzz/fuzz_law.c.
 *
 * Values live in val[i * stride + r] (instruction i, row r of the block). Every instruction's
 * block is checked for non-finite values as soon as it is computed, so the first operation that
 * fails is the one named in the message.
 */
#include "fit/law_internal.h"

#include "core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *op_symbol(int code)
{
    switch (code) {
    case CS_LAW_OP_NEG: return "unary '-'";
    case CS_LAW_OP_ADD: return "'+'";
    case CS_LAW_OP_SUB: return "'-'";
    case CS_LAW_OP_MUL: return "'*'";
    case CS_LAW_OP_DIV: return "'/'";
    case CS_LAW_OP_POW:
    case CS_LAW_OP_POWK: return "'^'";
    case CS_LAW_OP_EXP: return "exp";
    case CS_LAW_OP_LOG: return "log";
    case CS_LAW_OP_MIN: return "min";
    case CS_LAW_OP_MAX: return "max";
    default: return "a number";
    }
}

double cs_law_op_apply(int code, double x, double y, double k)
{
    switch (code) {
    case CS_LAW_OP_NEG: return -x;
    case CS_LAW_OP_ADD: return x + y;
    case CS_LAW_OP_SUB: return x - y;
    case CS_LAW_OP_MUL: return x * y;
    case CS_LAW_OP_DIV: return x / y;
    case CS_LAW_OP_POW: return pow(x, y);
    case CS_LAW_OP_POWK: return k == 2.0 ? x * x : pow(x, k); /* as forward_op */
    case CS_LAW_OP_EXP: return exp(x);
    case CS_LAW_OP_LOG: return log(x);
    case CS_LAW_OP_MIN: return x <= y ? x : y;
    case CS_LAW_OP_MAX: return x >= y ? x : y;
    default: return k;
    }
}

const char *cs_law_op_failure(int code, double x, double y, double k, char *buf, size_t n)
{
    double e = code == CS_LAW_OP_POWK ? k : y;

    if (code == CS_LAW_OP_DIV && y == 0)
        snprintf(buf, n, "division by zero (%g / 0)", x);
    else if ((code == CS_LAW_OP_POW || code == CS_LAW_OP_POWK) && x < 0 && e != floor(e))
        snprintf(buf, n, "negative number to a non-integer power (%g ^ %g)", x, e);
    else if ((code == CS_LAW_OP_POW || code == CS_LAW_OP_POWK) && x == 0 && e < 0)
        snprintf(buf, n, "zero to a negative power (0 ^ %g)", e);
    else if (code == CS_LAW_OP_POW || code == CS_LAW_OP_POWK)
        snprintf(buf, n, "overflow in %g ^ %g", x, e);
    else if (code == CS_LAW_OP_EXP)
        snprintf(buf, n, "overflow in exp(%g)", x);
    else if (code == CS_LAW_OP_LOG)
        snprintf(buf, n, "log of %g (log needs a value > 0)", x);
    else if (code == CS_LAW_OP_NEG)
        snprintf(buf, n, "overflow in -(%g)", x);
    else
        snprintf(buf, n, "overflow in %g %s %g", x, op_symbol(code), y);
    return buf;
}

/* ---- forward ----------------------------------------------------------------------------- */

/* 0 when every value is finite, NaN otherwise; written to vectorise. */
static bool block_finite(const double *v, size_t nr)
{
    double acc = 0.0;

    for (size_t r = 0; r < nr; r++)
        acc += v[r] * 0.0;
    return acc == acc;
}

static void fill(double *v, size_t nr, double c)
{
    for (size_t r = 0; r < nr; r++)
        v[r] = c;
}

static void load_var(const cs_law_run *run, uint32_t j, double *v)
{
    if (run->xv != NULL) {
        v[0] = run->xv[j];
        return;
    }
    memcpy(v, run->cols[j] + run->row0, run->nr * sizeof *v);
}

/* Runs `stmt` for every row r of the block: one line per operation in the switches below. */
#define FOR_ROWS(stmt)                                                                             \
    do {                                                                                           \
        for (size_t r = 0; r < nr; r++)                                                            \
            stmt;                                                                                  \
    } while (0)

/* Computes instruction i for the rows of the block. A long flat switch (STYLE.md allows it). */
static void forward_op(const cs_law_run *run, size_t i)
{
    const cs_law_op *op = &run->prog->ops[i];
    size_t nr = run->nr;
    double *v = run->val + i * run->stride;
    size_t na = cs_law_op_arity(op->code);
    const double *x = na >= 1 ? run->val + op->a * run->stride : NULL;
    const double *y = na == 2 ? run->val + op->b * run->stride : NULL;
    double k = op->k;

    if (op->uniform && na > 0 && nr > 1) { /* same for every row: exp(a), A^(1/alpha), ... */
        fill(v, nr, cs_law_op_apply(op->code, x[0], y != NULL ? y[0] : 0.0, k));
        return;
    }
    switch (op->code) {
    case CS_LAW_OP_CONST: fill(v, nr, k); break;
    case CS_LAW_OP_VAR: load_var(run, op->a, v); break;
    case CS_LAW_OP_PARAM: fill(v, nr, run->pv[op->a]); break;
    case CS_LAW_OP_NEG: FOR_ROWS(v[r] = -x[r]); break;
    case CS_LAW_OP_ADD: FOR_ROWS(v[r] = x[r] + y[r]); break;
    case CS_LAW_OP_SUB: FOR_ROWS(v[r] = x[r] - y[r]); break;
    case CS_LAW_OP_MUL: FOR_ROWS(v[r] = x[r] * y[r]); break;
    case CS_LAW_OP_DIV: FOR_ROWS(v[r] = x[r] / y[r]); break;
    case CS_LAW_OP_POW: FOR_ROWS(v[r] = pow(x[r], y[r])); break;
    case CS_LAW_OP_POWK:
        if (k == 2.0)
            FOR_ROWS(v[r] = x[r] * x[r]);
        else
            FOR_ROWS(v[r] = pow(x[r], k));
        break;
    case CS_LAW_OP_EXP: FOR_ROWS(v[r] = exp(x[r])); break;
    case CS_LAW_OP_LOG: FOR_ROWS(v[r] = log(x[r])); break;
    case CS_LAW_OP_MIN: FOR_ROWS(v[r] = x[r] <= y[r] ? x[r] : y[r]); break;
    case CS_LAW_OP_MAX: FOR_ROWS(v[r] = x[r] >= y[r] ? x[r] : y[r]); break;
    default: CS_ASSERT(!"unknown law opcode");
    }
}

/* "row R: " (1-based) for batched runs, "" for one point. */
static const char *row_prefix(const cs_law_run *run, size_t r, char *buf, size_t n)
{
    if (!run->show_row)
        return "";
    snprintf(buf, n, "row %zu: ", run->row0 + r + 1);
    return buf;
}

/* Names the first row where instruction i is not finite, and why. */
static int forward_fail(const cs_law_run *run, size_t i)
{
    const cs_law_op *op = &run->prog->ops[i];
    const double *v = run->val + i * run->stride;
    double x = 0.0;
    double y = 0.0;
    char rb[48];
    char why[160];
    size_t r = 0;

    while (r + 1 < run->nr && isfinite(v[r]))
        r++;
    if (op->code == CS_LAW_OP_VAR)
        return cs_fail(CS_EINPUT, "%s: %svariable '%s' is not finite (%g)", run->what,
                       row_prefix(run, r, rb, sizeof rb), run->vars->name[op->a], v[r]);
    if (op->code == CS_LAW_OP_PARAM)
        return cs_fail(CS_EINPUT, "%s: parameter '%s' is not finite (%g)", run->what,
                       run->params->name[op->a], v[r]);
    if (cs_law_op_arity(op->code) >= 1)
        x = run->val[op->a * run->stride + r];
    if (cs_law_op_arity(op->code) == 2)
        y = run->val[op->b * run->stride + r];
    cs_law_op_failure(op->code, x, y, op->k, why, sizeof why);
    return cs_fail(CS_EINPUT, "%s: %s%s (in %s at %u:%u)", run->what,
                   row_prefix(run, r, rb, sizeof rb), why, op_symbol(op->code), (unsigned)op->line,
                   (unsigned)op->col);
}

int cs_law_run_forward(const cs_law_run *run, size_t first, size_t last)
{
    for (size_t i = first; i <= last; i++) {
        forward_op(run, i);
        if (!block_finite(run->val + i * run->stride, run->nr))
            return forward_fail(run, i);
    }
    return CS_OK;
}

/* ---- reverse ----------------------------------------------------------------------------- */

/* d(x^e)/dx given v = x^e. */
static double dpow_base(double x, double e, double v)
{
    if (x != 0.0)
        return e * v / x;
    return e == 0.0 ? 0.0 : e * pow(x, e - 1.0);
}

/* d(x^y)/dy given v = x^y; 0 at x = 0 where x^y = 0 (its limit). */
static double dpow_exp(double x, double v)
{
    return v == 0.0 ? 0.0 : v * log(x);
}

/* Adds the adjoint of a min/max instruction to the operand it selected (the first on ties). */
static void reverse_select(const cs_law_run *run, const cs_law_op *op, const double *g, double *ga,
                           double *gb)
{
    const double *x = run->val + op->a * run->stride;
    const double *y = run->val + op->b * run->stride;

    for (size_t r = 0; r < run->nr; r++) {
        bool first = op->code == CS_LAW_OP_MIN ? x[r] <= y[r] : x[r] >= y[r];

        if (first && ga != NULL)
            ga[r] += g[r];
        else if (!first && gb != NULL)
            gb[r] += g[r];
    }
}

/* Propagates the adjoint of instruction i to its operands (only those that are active). */
static void reverse_op(const cs_law_run *run, size_t i, double *grad, size_t gstride)
{
    const cs_law_op *ops = run->prog->ops;
    const cs_law_op *op = &ops[i];
    size_t s = run->stride;
    size_t nr = run->nr;
    const double *g = run->adj + i * s;
    const double *v = run->val + i * s;
    size_t na = cs_law_op_arity(op->code);
    const double *x = na >= 1 ? run->val + op->a * s : NULL;
    const double *y = na == 2 ? run->val + op->b * s : NULL;
    double *ga = x != NULL && ops[op->a].active ? run->adj + op->a * s : NULL;
    double *gb = y != NULL && ops[op->b].active ? run->adj + op->b * s : NULL;

    switch (op->code) {
    case CS_LAW_OP_PARAM: FOR_ROWS(grad[r * gstride + op->a] += g[r]); break;
    case CS_LAW_OP_NEG: FOR_ROWS(ga[r] -= g[r]); break;
    case CS_LAW_OP_ADD:
    case CS_LAW_OP_SUB:
        if (ga)
            FOR_ROWS(ga[r] += g[r]);
        if (gb && op->code == CS_LAW_OP_ADD)
            FOR_ROWS(gb[r] += g[r]);
        if (gb && op->code == CS_LAW_OP_SUB)
            FOR_ROWS(gb[r] -= g[r]);
        break;
    case CS_LAW_OP_MUL:
        if (ga)
            FOR_ROWS(ga[r] += g[r] * y[r]);
        if (gb)
            FOR_ROWS(gb[r] += g[r] * x[r]);
        break;
    case CS_LAW_OP_DIV:
        if (ga)
            FOR_ROWS(ga[r] += g[r] / y[r]);
        if (gb)
            FOR_ROWS(gb[r] -= g[r] * v[r] / y[r]);
        break;
    case CS_LAW_OP_POW:
        if (ga)
            FOR_ROWS(ga[r] += g[r] * dpow_base(x[r], y[r], v[r]));
        if (gb)
            FOR_ROWS(gb[r] += g[r] * dpow_exp(x[r], v[r]));
        break;
    case CS_LAW_OP_POWK: FOR_ROWS(ga[r] += g[r] * dpow_base(x[r], op->k, v[r])); break;
    case CS_LAW_OP_EXP: FOR_ROWS(ga[r] += g[r] * v[r]); break;
    case CS_LAW_OP_LOG: FOR_ROWS(ga[r] += g[r] / x[r]); break;
    case CS_LAW_OP_MIN:
    case CS_LAW_OP_MAX: reverse_select(run, op, g, ga, gb); break;
    default: break; /* constants and variables are never active */
    }
}

/* After a reverse sweep left a non-finite gradient in row r: each instruction is the operand of
 * exactly one other, so the culprit is the instruction whose adjoint is finite while that of an
 * active operand is not. */
static int reverse_fail(const cs_law_run *run, size_t first, size_t last, size_t r)
{
    const cs_law_op *ops = run->prog->ops;
    size_t s = run->stride;
    char rb[48];

    for (size_t c = last + 1; c-- > first;) {
        const cs_law_op *op = &ops[c];
        size_t na = cs_law_op_arity(op->code);
        bool bad_a = na >= 1 && ops[op->a].active && !isfinite(run->adj[op->a * s + r]);
        bool bad_b = na == 2 && ops[op->b].active && !isfinite(run->adj[op->b * s + r]);

        if (op->active && isfinite(run->adj[c * s + r]) && (bad_a || bad_b))
            return cs_fail(CS_EINPUT,
                           "%s: %sthe derivative of %s at %u:%u is not finite "
                           "(operand %g)",
                           run->what, row_prefix(run, r, rb, sizeof rb), op_symbol(op->code),
                           (unsigned)op->line, (unsigned)op->col, run->val[op->a * s + r]);
    }
    return cs_fail(CS_EINPUT, "%s: %sthe gradient overflows", run->what,
                   row_prefix(run, r, rb, sizeof rb));
}

int cs_law_run_reverse(const cs_law_run *run, size_t last, double sign, double *grad,
                       size_t gstride)
{
    const cs_law_op *ops = run->prog->ops;
    size_t first = ops[last].first;
    size_t s = run->stride;
    size_t np = run->params->n;

    if (!ops[last].active)
        return CS_OK;
    for (size_t i = first; i < last; i++)
        if (ops[i].active)
            memset(run->adj + i * s, 0, run->nr * sizeof *run->adj);
    fill(run->adj + last * s, run->nr, sign);
    for (size_t i = last + 1; i-- > first;)
        if (ops[i].active)
            reverse_op(run, i, grad, gstride);
    for (size_t r = 0; r < run->nr; r++)
        if (!block_finite(grad + r * gstride, np))
            return reverse_fail(run, first, last, r);
    return CS_OK;
}

/* ---- public evaluators ------------------------------------------------------------------- */

static cs_law_run run_init(const cs_law *law, const double *params, double *val, double *adj)
{
    cs_law_run run;

    memset(&run, 0, sizeof run);
    run.prog = &law->prog;
    run.vars = &law->vars;
    run.params = &law->params;
    run.what = "law";
    run.pv = params;
    run.nr = 1;
    run.stride = 1;
    run.val = val;
    run.adj = adj;
    return run;
}

int cs_law_eval(const cs_law *law, const double *params, const double *vars, double *value)
{
    double val[CS_LAW_MAX_OPS];
    cs_law_run run = run_init(law, params, val, NULL);
    size_t last = law->prog.nops - 1;
    int st;

    run.xv = vars;
    st = cs_law_run_forward(&run, 0, last);
    *value = val[last];
    return st;
}

int cs_law_eval_grad(const cs_law *law, const double *params, const double *vars, double *value,
                     double *grad)
{
    double val[CS_LAW_MAX_OPS];
    double adj[CS_LAW_MAX_OPS];
    cs_law_run run = run_init(law, params, val, adj);
    size_t last = law->prog.nops - 1;
    int st;

    run.xv = vars;
    memset(grad, 0, law->params.n * sizeof *grad);
    st = cs_law_run_forward(&run, 0, last);
    *value = val[last];
    if (st == CS_OK)
        st = cs_law_run_reverse(&run, last, 1.0, grad, 0);
    return st;
}

int cs_law_eval_term(const cs_law *law, size_t k, const double *params, const double *vars,
                     double *value, double *grad)
{
    double val[CS_LAW_MAX_OPS];
    double adj[CS_LAW_MAX_OPS];
    cs_law_run run = run_init(law, params, val, adj);
    size_t last;
    double sign;
    int st;

    if (k >= law->prog.nterms)
        return cs_fail(CS_EINVAL, "law: term %zu out of range (the law has %zu terms)", k,
                       law->prog.nterms);
    last = law->prog.term_op[k];
    sign = law->prog.term_sign[k];
    run.xv = vars;
    if (grad != NULL)
        memset(grad, 0, law->params.n * sizeof *grad);
    st = cs_law_run_forward(&run, law->prog.ops[last].first, last);
    *value = sign * val[last];
    if (st == CS_OK && grad != NULL)
        st = cs_law_run_reverse(&run, last, sign, grad, 0);
    return st;
}

int cs_law_eval_derived(const cs_law *law, size_t k, const double *params, double *value,
                        double *grad)
{
    double val[CS_LAW_MAX_OPS];
    double adj[CS_LAW_MAX_OPS];
    char what[CS_LAW_MAX_NAME + 16];
    cs_law_run run = run_init(law, params, val, adj);
    size_t last;
    int st;

    if (k >= law->dnames.n)
        return cs_fail(CS_EINVAL, "law: derived quantity %zu out of range (the law has %zu)", k,
                       law->dnames.n);
    snprintf(what, sizeof what, "law: %s", law->dnames.name[k]);
    run.prog = &law->derived[k];
    run.what = what;
    last = run.prog->nops - 1;
    if (grad != NULL)
        memset(grad, 0, law->params.n * sizeof *grad);
    st = cs_law_run_forward(&run, 0, last);
    *value = val[last];
    if (st == CS_OK && grad != NULL)
        st = cs_law_run_reverse(&run, last, 1.0, grad, 0);
    return st;
}

cs_law_work *cs_law_work_alloc(const cs_law *law)
{
    cs_law_work *w = calloc(1, sizeof *w);
    size_t n = law->prog.nops * CS_LAW_BLOCK;

    if (w == NULL)
        goto out_fail;
    w->law = law;
    w->val = malloc(n * sizeof *w->val);
    if (w->val == NULL)
        goto out_free_w;
    w->adj = malloc(n * sizeof *w->adj);
    if (w->adj == NULL)
        goto out_free_val;
    return w;

out_free_val:
    free(w->val);
out_free_w:
    free(w);
out_fail:
    cs_fail(CS_ENOMEM, "law: out of memory for a workspace of %zu instructions", law->prog.nops);
    return NULL;
}

void cs_law_work_free(cs_law_work *w)
{
    if (w == NULL)
        return;
    free(w->val);
    free(w->adj);
    free(w);
}

/* Shared loop of the batched evaluators: terms == false gives the law's value per row. */
static int eval_blocks(const cs_law *law, const double *params, const double *const *cols, size_t n,
                       double *out, double *grads, cs_law_work *w, bool terms)
{
    const cs_law_prog *p = &law->prog;
    cs_law_run run = run_init(law, params, w->val, w->adj);
    size_t nt = terms ? p->nterms : 1;
    size_t np = law->params.n;
    int st = CS_OK;

    if (w->law != law)
        return cs_fail(CS_EINVAL, "law: workspace was allocated for another law");
    run.cols = cols;
    run.stride = CS_LAW_BLOCK;
    run.show_row = true;
    for (run.row0 = 0; run.row0 < n && st == CS_OK; run.row0 += CS_LAW_BLOCK) {
        run.nr = n - run.row0 < CS_LAW_BLOCK ? n - run.row0 : CS_LAW_BLOCK;
        st = cs_law_run_forward(&run, 0, p->nops - 1);
        if (grads != NULL)
            memset(grads + run.row0 * nt * np, 0, run.nr * nt * np * sizeof *grads);
        for (size_t k = 0; k < nt && st == CS_OK; k++) {
            size_t last = terms ? p->term_op[k] : p->nops - 1;
            double sign = terms ? p->term_sign[k] : 1.0;
            const double *v = w->val + last * CS_LAW_BLOCK;

            for (size_t r = 0; r < run.nr; r++)
                out[(run.row0 + r) * nt + k] = sign * v[r];
            if (grads != NULL)
                st =
                    cs_law_run_reverse(&run, last, sign, grads + (run.row0 * nt + k) * np, nt * np);
        }
    }
    return st;
}

int cs_law_eval_batch(const cs_law *law, const double *params, const double *const *cols, size_t n,
                      double *values, double *grads, cs_law_work *w)
{
    return eval_blocks(law, params, cols, n, values, grads, w, false);
}

int cs_law_eval_terms_batch(const cs_law *law, const double *params, const double *const *cols,
                            size_t n, double *terms, double *grads, cs_law_work *w)
{
    return eval_blocks(law, params, cols, n, terms, grads, w, true);
}
