/* fit/fit_loglin.c: fast evaluation of laws that are sums of log-linear positive terms (see
 * fit/fit_internal.h): the analysis of the law's compiled program into per-term coefficient
 * lists, and the log-sum-exp evaluation with its gradient. Test: tests/unit/test_fit.c compares
 * it with the law evaluator (values and gradients) on every built-in law that qualifies.
 *
 * A "form" describes an expression over the parameters theta_j and the data features
 * F_0 = 1, F_{1+v} = log x_v:   sum_{j,f} K[j][f] t_j F_f + sum_j B[j] log theta_j,
 * with t_0 = 1 and t_{1+j} = theta_j. A log form describes log(value), a linear form the value.
 */
#include "fit/fit_internal.h"

#include "core/error.h"
#include "fit/law_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One non-zero of a term's K: coefficient `c` of t_j F_f. */
typedef struct ll_entry {
    size_t j; /* 0 = constant, 1 + parameter index */
    size_t f; /* 0 = constant, 1 + variable index */
    double c;
} ll_entry;

/* One non-zero of a term's B: coefficient `c` of log theta_j. */
typedef struct ll_bentry {
    size_t j; /* parameter index */
    double c;
} ll_bentry;

struct cs_fit_loglin {
    size_t n; /* data rows */
    size_t np;
    size_t nf;        /* features: 1 + nvars */
    size_t nt;        /* terms */
    size_t stride;    /* n rounded up to a multiple of LL_BLOCK (padding holds finite values) */
    double *F;        /* (nf, stride) features: column 0 is 1, column f the log of variable
                         f - 1 */
    double *Fs;       /* (nf, stride) features of the selected rows */
    size_t m;         /* selected rows */
    const double *Fc; /* F or Fs: the columns in use */
    ll_entry *e;      /* entries of all terms, term k at e[eoff[k] .. eoff[k+1]) */
    size_t *eoff;     /* (nt + 1) */
    ll_bentry *be;    /* likewise for B */
    size_t *boff;     /* (nt + 1) */
    double *t;        /* (1 + np) t_j of the prepared point */
    double *M;        /* (nt, nf) log term k = sum_f M[k][f] F_f at the prepared point */
    ll_entry *ge;     /* entries with j > 0 (gradient), term k at ge[goff[k] .. goff[k+1]);
                         their j is the parameter index (not 1 + index) */
    size_t *goff;     /* (nt + 1) */
};

/* Most terms of a law taken by the fast path (stack buffer of cs_fit_loglin_residuals); longer
 * laws use the general evaluator. */
#define LL_MAX_TERMS 16

/* Rows handled per pass: a fixed trip count, so that the compiler vectorises the loops over
 * them (the data columns are padded to a multiple of it), and small enough for L1. */
#define LL_BLOCK 128

/* ---- forms ------------------------------------------------------------------------------- */

typedef struct form {
    double *K; /* (1 + np, nf) */
    double *B; /* (np) */
} form;

typedef struct ctx {
    const cs_law *law;
    size_t np;
    size_t nf;
} ctx;

static bool form_alloc(const ctx *c, form *fm)
{
    fm->K = calloc((1 + c->np) * c->nf, sizeof *fm->K);
    fm->B = calloc(c->np ? c->np : 1, sizeof *fm->B);
    return fm->K && fm->B;
}

static void form_free(form *fm)
{
    free(fm->K);
    free(fm->B);
}

/* out = x + s * y, elementwise. */
static void form_axpy(const ctx *c, form *x, double s, const form *y)
{
    for (size_t k = 0; k < (1 + c->np) * c->nf; k++)
        x->K[k] += s * y->K[k];
    for (size_t j = 0; j < c->np; j++)
        x->B[j] += s * y->B[j];
}

static bool has_b(const ctx *c, const form *fm)
{
    for (size_t j = 0; j < c->np; j++)
        if (fm->B[j] != 0)
            return true;
    return false;
}

/* No parameter: only row 0 of K, no B. */
static bool theta_free(const ctx *c, const form *fm)
{
    for (size_t k = c->nf; k < (1 + c->np) * c->nf; k++)
        if (fm->K[k] != 0)
            return false;
    return !has_b(c, fm);
}

/* No data: only column 0 of K. */
static bool data_free(const ctx *c, const form *fm)
{
    for (size_t j = 0; j <= c->np; j++)
        for (size_t f = 1; f < c->nf; f++)
            if (fm->K[j * c->nf + f] != 0)
                return false;
    return true;
}

static bool is_const(const ctx *c, const form *fm)
{
    return theta_free(c, fm) && data_free(c, fm);
}

/* out = x * y for x data-free and y theta-free (both without B): K[j][f] = x[j][0] y[0][f]. */
static void form_outer(const ctx *c, const form *x, const form *y, form *out)
{
    for (size_t j = 0; j <= c->np; j++)
        for (size_t f = 0; f < c->nf; f++)
            out->K[j * c->nf + f] = x->K[j * c->nf] * y->K[f];
}

static bool logform(const ctx *c, uint32_t i, form *out);
static bool linform(const ctx *c, uint32_t i, form *out);

/* Binary helper: analyses operands a and b with fn into two fresh forms. */
static bool two_forms(const ctx *c, const cs_law_op *op, bool (*fn)(const ctx *, uint32_t, form *),
                      form *x, form *y)
{
    bool ok = form_alloc(c, x) && form_alloc(c, y);

    return ok && fn(c, op->a, x) && fn(c, op->b, y);
}

/* log of x^y: a constant exponent scales the base's log form; otherwise the exponent must be a
 * data-free linear form and the base's log form parameter-free. */
static bool log_pow(const ctx *c, const cs_law_op *op, form *out)
{
    form lb = {0};
    form ex = {0};
    bool ok = form_alloc(c, &lb) && form_alloc(c, &ex) && logform(c, op->a, &lb) &&
              linform(c, op->b, &ex);

    if (ok && is_const(c, &ex))
        form_axpy(c, out, ex.K[0], &lb);
    else if (ok && data_free(c, &ex) && !has_b(c, &ex) && theta_free(c, &lb))
        form_outer(c, &ex, &lb, out);
    else
        ok = false;
    form_free(&lb);
    form_free(&ex);
    return ok;
}

/* log(value of instruction i) as a form; false when it has none (or may be <= 0). */
static bool logform(const ctx *c, uint32_t i, form *out)
{
    const cs_law_op *op = &c->law->prog.ops[i];
    form x = {0};
    form y = {0};
    bool ok = true;

    switch (op->code) {
    case CS_LAW_OP_CONST:
        ok = op->k > 0;
        out->K[0] = ok ? log(op->k) : 0.0;
        return ok;
    case CS_LAW_OP_VAR: out->K[1 + op->a] = 1.0; return true;
    case CS_LAW_OP_PARAM:
        ok = (cs_law_param_flags(c->law, op->a) & CS_LAW_POSITIVE) != 0;
        out->B[op->a] = 1.0;
        return ok;
    case CS_LAW_OP_MUL:
    case CS_LAW_OP_DIV:
        ok = two_forms(c, op, logform, &x, &y);
        if (ok) {
            form_axpy(c, out, 1.0, &x);
            form_axpy(c, out, op->code == CS_LAW_OP_MUL ? 1.0 : -1.0, &y);
        }
        break;
    case CS_LAW_OP_EXP: return linform(c, op->a, out);
    case CS_LAW_OP_POWK:
        ok = form_alloc(c, &x) && logform(c, op->a, &x);
        if (ok)
            form_axpy(c, out, op->k, &x);
        break;
    case CS_LAW_OP_POW: return log_pow(c, op, out);
    default: return false;
    }
    form_free(&x);
    form_free(&y);
    return ok;
}

/* x * y as linear forms: one side constant, or a data-free side times a parameter-free side. */
static bool lin_mul(const ctx *c, const form *x, const form *y, form *out)
{
    if (is_const(c, x)) {
        form_axpy(c, out, x->K[0], y);
        return true;
    }
    if (is_const(c, y)) {
        form_axpy(c, out, y->K[0], x);
        return true;
    }
    if (data_free(c, x) && theta_free(c, y)) {
        form_outer(c, x, y, out);
        return true;
    }
    if (data_free(c, y) && theta_free(c, x)) {
        form_outer(c, y, x, out);
        return true;
    }
    return false;
}

/* The value of instruction i as a linear form (no B); false when it is not one. */
static bool linform(const ctx *c, uint32_t i, form *out)
{
    const cs_law_op *op = &c->law->prog.ops[i];
    form x = {0};
    form y = {0};
    bool ok = true;

    switch (op->code) {
    case CS_LAW_OP_CONST: out->K[0] = op->k; return true;
    case CS_LAW_OP_PARAM: out->K[(1 + op->a) * c->nf] = 1.0; return true;
    case CS_LAW_OP_LOG:
        ok = form_alloc(c, &x) && logform(c, op->a, &x) && !has_b(c, &x);
        if (ok)
            form_axpy(c, out, 1.0, &x);
        break;
    case CS_LAW_OP_NEG:
        ok = form_alloc(c, &x) && linform(c, op->a, &x);
        if (ok)
            form_axpy(c, out, -1.0, &x);
        break;
    case CS_LAW_OP_ADD:
    case CS_LAW_OP_SUB:
        ok = two_forms(c, op, linform, &x, &y);
        if (ok) {
            form_axpy(c, out, 1.0, &x);
            form_axpy(c, out, op->code == CS_LAW_OP_ADD ? 1.0 : -1.0, &y);
        }
        break;
    case CS_LAW_OP_MUL: ok = two_forms(c, op, linform, &x, &y) && lin_mul(c, &x, &y, out); break;
    case CS_LAW_OP_DIV:
        ok = two_forms(c, op, linform, &x, &y) && is_const(c, &y) && y.K[0] != 0;
        if (ok)
            form_axpy(c, out, 1.0 / y.K[0], &x);
        break;
    default: return false;
    }
    form_free(&x);
    form_free(&y);
    return ok;
}

/* ---- building ---------------------------------------------------------------------------- */

/* Appends the non-zeros of term k's form. */
static bool add_term(cs_fit_loglin *ll, size_t k, const form *fm, size_t *ne, size_t *nb)
{
    size_t cap_e = (1 + ll->np) * ll->nf * ll->nt;

    ll->eoff[k] = *ne;
    ll->boff[k] = *nb;
    for (size_t j = 0; j <= ll->np; j++) {
        for (size_t f = 0; f < ll->nf; f++) {
            double v = fm->K[j * ll->nf + f];

            if (v == 0)
                continue;
            CS_ASSERT(*ne < cap_e);
            ll->e[(*ne)++] = (ll_entry){j, f, v};
        }
    }
    for (size_t j = 0; j < ll->np; j++)
        if (fm->B[j] != 0)
            ll->be[(*nb)++] = (ll_bentry){j, fm->B[j]};
    return true;
}

/* Analyses every term; false when one does not qualify. */
static bool analyse(cs_fit_loglin *ll, const cs_law *law)
{
    ctx c = {law, ll->np, ll->nf};
    size_t ne = 0;
    size_t nb = 0;
    bool ok = true;

    for (size_t k = 0; k < ll->nt && ok; k++) {
        form fm = {0};

        ok = law->prog.term_sign[k] > 0 && form_alloc(&c, &fm) &&
             logform(&c, law->prog.term_op[k], &fm) && add_term(ll, k, &fm, &ne, &nb);
        form_free(&fm);
    }
    ll->eoff[ll->nt] = ne;
    ll->boff[ll->nt] = nb;
    return ok;
}

/* Features per row; false when a variable the terms take the log of is not > 0. */
static bool features(cs_fit_loglin *ll, const cs_dataset *ds)
{
    const double *const *cols = cs_dataset_cols(ds);

    for (size_t i = 0; i < ll->stride; i++) {
        ll->F[i] = 1.0;
        ll->Fs[i] = 1.0;
        for (size_t v = 0; v + 1 < ll->nf; v++)
            ll->F[(1 + v) * ll->stride + i] = i >= ll->n       ? 0.0
                                              : cols[v][i] > 0 ? log(cols[v][i])
                                                               : NAN;
    }
    for (size_t q = 0; q < ll->eoff[ll->nt]; q++)
        for (size_t i = 0; i < ll->n; i++)
            if (!isfinite(ll->F[ll->e[q].f * ll->stride + i]))
                return false;
    cs_fit_loglin_select(ll, NULL, ll->n);
    return true;
}

/* The entries that depend on a parameter, for the gradient. */
static void gradient_entries(cs_fit_loglin *ll)
{
    size_t q = 0;

    for (size_t k = 0; k < ll->nt; k++) {
        ll->goff[k] = q;
        for (size_t e = ll->eoff[k]; e < ll->eoff[k + 1]; e++)
            if (ll->e[e].j > 0)
                ll->ge[q++] = (ll_entry){ll->e[e].j - 1, ll->e[e].f, ll->e[e].c};
    }
    ll->goff[ll->nt] = q;
}

cs_fit_loglin *cs_fit_loglin_alloc(const cs_law *law, const cs_dataset *ds)
{
    cs_fit_loglin *ll = calloc(1, sizeof *ll);

    if (ll == NULL)
        goto out_nomem;
    ll->n = cs_dataset_n(ds);
    ll->np = cs_law_nparams(law);
    ll->nf = 1 + cs_law_nvars(law);
    ll->nt = cs_law_nterms(law);
    if (ll->nt > LL_MAX_TERMS) {
        cs_fit_loglin_free(ll);
        return NULL;
    }
    ll->stride = (ll->n + LL_BLOCK - 1) / LL_BLOCK * LL_BLOCK;
    ll->stride = ll->stride ? ll->stride : LL_BLOCK;
    ll->F = calloc(ll->stride * ll->nf, sizeof *ll->F);
    ll->Fs = calloc(ll->stride * ll->nf, sizeof *ll->Fs);
    ll->e = malloc((1 + ll->np) * ll->nf * ll->nt * sizeof *ll->e);
    ll->eoff = calloc(ll->nt + 1, sizeof *ll->eoff);
    ll->be = malloc((ll->np ? ll->np : 1) * ll->nt * sizeof *ll->be);
    ll->boff = calloc(ll->nt + 1, sizeof *ll->boff);
    ll->t = calloc(1 + ll->np, sizeof *ll->t);
    ll->M = calloc(ll->nt * ll->nf, sizeof *ll->M);
    ll->ge = malloc((1 + ll->np) * ll->nf * ll->nt * sizeof *ll->ge);
    ll->goff = calloc(ll->nt + 1, sizeof *ll->goff);
    if (!ll->F || !ll->Fs || !ll->e || !ll->eoff || !ll->be || !ll->boff || !ll->t || !ll->M ||
        !ll->ge || !ll->goff)
        goto out_nomem;
    if (analyse(ll, law) && features(ll, ds)) {
        gradient_entries(ll);
        return ll;
    }
    cs_fit_loglin_free(ll);
    return NULL;

out_nomem:
    cs_fit_loglin_free(ll);
    cs_fail(CS_ENOMEM, "fit: out of memory analysing the law");
    return NULL;
}

void cs_fit_loglin_free(cs_fit_loglin *ll)
{
    if (ll == NULL)
        return;
    free(ll->F);
    free(ll->Fs);
    free(ll->e);
    free(ll->eoff);
    free(ll->be);
    free(ll->boff);
    free(ll->t);
    free(ll->M);
    free(ll->ge);
    free(ll->goff);
    free(ll);
}

/* ---- evaluation -------------------------------------------------------------------------- */

void cs_fit_loglin_prepare(cs_fit_loglin *ll, const double *theta)
{
    ll->t[0] = 1.0;
    for (size_t j = 0; j < ll->np; j++)
        ll->t[1 + j] = theta[j];
    memset(ll->M, 0, ll->nt * ll->nf * sizeof *ll->M);
    for (size_t k = 0; k < ll->nt; k++) {
        double *Mk = ll->M + k * ll->nf;

        for (size_t q = ll->eoff[k]; q < ll->eoff[k + 1]; q++)
            Mk[ll->e[q].f] += ll->e[q].c * ll->t[ll->e[q].j];
        for (size_t q = ll->boff[k]; q < ll->boff[k + 1]; q++)
            Mk[0] += ll->be[q].c * log(theta[ll->be[q].j]);
    }
}

void cs_fit_loglin_select(cs_fit_loglin *ll, const size_t *rows, size_t m)
{
    ll->m = m;
    if (rows == NULL) {
        ll->Fc = ll->F;
        return;
    }
    for (size_t f = 1; f < ll->nf; f++)
        for (size_t i = 0; i < m; i++)
            ll->Fs[f * ll->stride + i] = ll->F[f * ll->stride + rows[i]];
    ll->Fc = ll->Fs;
}

/* Vectorisation: GCC's -O2 cost model ("very cheap") leaves the loops below scalar; these
 * functions ask for its "cheap" model, and for no-trapping-math, without which GCC will not
 * if-convert the comparisons inside ll_exp and ll_log and leaves the loops scalar ("control flow
 * in loop"). That option only drops the assumption that floating-point exceptions trap; NaN and
 * infinities propagate as before (block_lse relies on it). The pointers are restrict so that no
 * run-time alias check is needed. target_clones adds an AVX2 version chosen at load time on
 * CPUs that have it: the same IEEE operations lane by lane (no FMA contraction under -std=c11),
 * so the results are identical bit for bit, 1.3x faster here. Other compilers vectorise at -O2
 * anyway. The functions called inside are forced inline (GCC does not otherwise inline across
 * different optimisation attributes). */
#if defined(__GNUC__) && !defined(__clang__)
#define LL_VECTORISE                                                                               \
    __attribute__((optimize("tree-vectorize", "vect-cost-model=cheap", "no-trapping-math"),        \
                   target_clones("avx2", "default")))
#define LL_INLINE __attribute__((always_inline))
#else
#define LL_VECTORISE
#define LL_INLINE
#endif

static inline LL_INLINE double bits_to_double(uint64_t u)
{
    double d;

    memcpy(&d, &u, sizeof d);
    return d;
}

static inline LL_INLINE uint64_t double_to_bits(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof u);
    return u;
}

/* exp(x) for x <= 0, written so that a loop of it vectorises (libm's exp is a call): n =
 * round(x / ln 2) by the 1.5 * 2^52 trick, r = x - n ln 2 in two parts (|r| <= 0.347), exp(r)
 * by its Taylor polynomial of degree 13 (truncation < 5e-18), times 2^n built in the exponent
 * bits. Within 2 ulp of exp; exp(0) is exactly 1. x below -708 is taken as -708 (exp of it,
 * 3e-308, is nothing beside the largest term, which is 1); the caller catches NaN separately. */
static inline LL_INLINE double ll_exp(double x)
{
    const double shift = 0x1.8p52;
    double xc = x < -708.0 ? -708.0 : x;
    double t = xc * 1.4426950408889634 + shift;
    double n = t - shift;
    double r = (xc - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;

    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * bits_to_double((double_to_bits(t) - double_to_bits(shift) + 1023) << 52);
}

/* log(s) for a normal s >= 1 (here s is in [1, number of terms]), vectorisable: s = m 2^e with
 * m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(z), z = (m - 1)/(m + 1), |z| <= 0.1716, by its series
 * to z^21 (truncation < 1e-17). Within 2 ulp of log. */
static inline LL_INLINE double ll_log(double s)
{
    uint64_t u = double_to_bits(s);
    double m = bits_to_double((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    double e = bits_to_double((u >> 52) | 0x4330000000000000ull) - (0x1p52 + 1023.0);
    double big = m > 1.4142135623730951 ? 1.0 : 0.0;
    double z;
    double z2;
    double p = 2.0 / 21.0;

    m = m * (1.0 - 0.5 * big);
    e += big;
    z = (m - 1.0) / (m + 1.0);
    z2 = z * z;
    p = p * z2 + 2.0 / 19.0;
    p = p * z2 + 2.0 / 17.0;
    p = p * z2 + 2.0 / 15.0;
    p = p * z2 + 2.0 / 13.0;
    p = p * z2 + 2.0 / 11.0;
    p = p * z2 + 2.0 / 9.0;
    p = p * z2 + 2.0 / 7.0;
    p = p * z2 + 2.0 / 5.0;
    p = p * z2 + 2.0 / 3.0;
    return e * 6.93147180369123816490e-01 +
           (2.0 * z + (z * z2 * p + e * 1.90821492927058770002e-10));
}

/* Log terms of the LL_BLOCK rows from i0 (rows past the data hold padding) into lt (nt,
 * LL_BLOCK) and their maximum into mx. */
static LL_VECTORISE void block_log_terms(const cs_fit_loglin *ll, size_t i0, double *restrict lt,
                                         double *restrict mx)
{
    for (size_t k = 0; k < ll->nt; k++) {
        const double *Mk = ll->M + k * ll->nf;
        double *l = lt + k * LL_BLOCK;

        for (size_t i = 0; i < LL_BLOCK; i++)
            l[i] = Mk[0];
        for (size_t f = 1; f < ll->nf; f++) {
            const double *restrict F = ll->Fc + f * ll->stride + i0;
            double c = Mk[f];

            for (size_t i = 0; i < LL_BLOCK; i++)
                l[i] += c * F[i];
        }
    }
    for (size_t i = 0; i < LL_BLOCK; i++)
        mx[i] = lt[i];
    for (size_t k = 1; k < ll->nt; k++) {
        const double *l = lt + k * LL_BLOCK;

        for (size_t i = 0; i < LL_BLOCK; i++)
            mx[i] = l[i] > mx[i] ? l[i] : mx[i];
    }
}

/* Turns lt into the unnormalised weights exp(lt - mx) and returns their sums in s and the log of
 * the prediction, mx + log s, in lp; lp[i] is NaN when a log term of row i is not finite (an
 * overflow in a log term must not pass for a zero term). */
static LL_VECTORISE void block_lse(size_t nt, double *restrict lt, const double *restrict mx,
                                   double *restrict s, double *restrict lp)
{
    double bad[LL_BLOCK];

    for (size_t i = 0; i < LL_BLOCK; i++) {
        s[i] = 0.0;
        bad[i] = 0.0;
    }
    for (size_t k = 0; k < nt; k++) {
        double *restrict l = lt + k * LL_BLOCK;

        for (size_t i = 0; i < LL_BLOCK; i++) {
            bad[i] += l[i] * 0.0; /* NaN for an infinite or NaN log term, else 0 */
            l[i] = ll_exp(l[i] - mx[i]);
            s[i] += l[i];
        }
    }
    for (size_t i = 0; i < LL_BLOCK; i++)
        lp[i] = mx[i] + ll_log(s[i]) + bad[i];
}

/* Residuals of the nb rows of a block and, when q is not NULL, the terms' shares of the
 * prediction q[k * m + i] = weight_k / s (q points at the block's first row). */
static LL_VECTORISE void block_out(size_t nt, size_t nb, size_t m, const double *restrict lt,
                                   const double *restrict s, const double *restrict lp,
                                   const double *restrict y, double *restrict r, double *restrict q)
{
    for (size_t i = 0; i < nb; i++)
        r[i] = lp[i] - y[i];
    for (size_t k = 0; q != NULL && k < nt; k++)
        for (size_t i = 0; i < nb; i++)
            q[k * m + i] = lt[k * LL_BLOCK + i] / s[i];
}

void cs_fit_loglin_residuals(const cs_fit_loglin *ll, const double *y, double *r, double *q)
{
    double lt[LL_MAX_TERMS * LL_BLOCK];
    double mx[LL_BLOCK];
    double s[LL_BLOCK];
    double lp[LL_BLOCK];

    CS_ASSERT(ll->nt <= LL_MAX_TERMS); /* cs_fit_loglin_alloc refuses longer laws */
    for (size_t i0 = 0; i0 < ll->m; i0 += LL_BLOCK) {
        size_t nb = ll->m - i0 < LL_BLOCK ? ll->m - i0 : LL_BLOCK;

        block_log_terms(ll, i0, lt, mx);
        block_lse(ll->nt, lt, mx, s, lp);
        block_out(ll->nt, nb, ll->m, lt, s, lp, y + i0, r + i0, q ? q + i0 : NULL);
    }
}

/* sum_i a_i b_i with four partial sums (the dependency chain of one sum, not the arithmetic,
 * would bound the speed). */
static double dot4(const double *a, const double *b, size_t n)
{
    double s0 = 0.0;
    double s1 = 0.0;
    double s2 = 0.0;
    double s3 = 0.0;
    size_t i = 0;

    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* sum_i c_i q_k[i] F_f[i] for every term k and feature f into S (nt, nf); cq is scratch (m). */
static void weighted_sums(const cs_fit_loglin *ll, const double *q, const double *c, double *S,
                          double *cq)
{
    for (size_t k = 0; k < ll->nt; k++) {
        const double *qk = q + k * ll->m;

        for (size_t i = 0; i < ll->m; i++)
            cq[i] = c[i] * qk[i];
        for (size_t f = 0; f < ll->nf; f++)
            S[k * ll->nf + f] = dot4(cq, ll->Fc + f * ll->stride, ll->m); /* column 0: 1s */
    }
}

void cs_fit_loglin_gradient(const cs_fit_loglin *ll, const double *q, const double *c,
                            const double *dtheta, double *gu, double *S, double *cq)
{
    weighted_sums(ll, q, c, S, cq);
    memset(gu, 0, ll->np * sizeof *gu);
    for (size_t k = 0; k < ll->nt; k++) {
        for (size_t e = ll->goff[k]; e < ll->goff[k + 1]; e++)
            gu[ll->ge[e].j] += ll->ge[e].c * S[k * ll->nf + ll->ge[e].f];
        for (size_t e = ll->boff[k]; e < ll->boff[k + 1]; e++)
            gu[ll->be[e].j] += ll->be[e].c / ll->t[1 + ll->be[e].j] * S[k * ll->nf];
    }
    for (size_t j = 0; j < ll->np; j++)
        gu[j] *= dtheta[j];
}

void cs_fit_loglin_jacobian(const cs_fit_loglin *ll, const double *q, const double *dtheta,
                            double *J)
{
    memset(J, 0, ll->m * ll->np * sizeof *J);
    for (size_t k = 0; k < ll->nt; k++) {
        const double *qk = q + k * ll->m;

        for (size_t e = ll->goff[k]; e < ll->goff[k + 1]; e++) {
            const double *F = ll->Fc + ll->ge[e].f * ll->stride;

            for (size_t i = 0; i < ll->m; i++)
                J[i * ll->np + ll->ge[e].j] += ll->ge[e].c * qk[i] * F[i];
        }
        for (size_t e = ll->boff[k]; e < ll->boff[k + 1]; e++)
            for (size_t i = 0; i < ll->m; i++)
                J[i * ll->np + ll->be[e].j] += ll->be[e].c / ll->t[1 + ll->be[e].j] * qk[i];
    }
    for (size_t i = 0; i < ll->m; i++)
        for (size_t j = 0; j < ll->np; j++)
            J[i * ll->np + j] *= dtheta[j];
}

size_t cs_fit_loglin_nterms(const cs_fit_loglin *ll)
{
    return ll->nt;
}

size_t cs_fit_loglin_nfeatures(const cs_fit_loglin *ll)
{
    return ll->nf;
}
