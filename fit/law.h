/* fit/law.h: the scaling-law formula language — parse `L = E + A/N^alpha + B/D^beta`, evaluate it
 * and its exact gradient with respect to the parameters, one point or many, and the built-in
 * laws (chinchilla, kaplan, power, ...) with their starting grids.
 *
 * The language is described in docs/laws.md. In short: + - * / ^ (also **), unary minus,
 * exp, log (natural), min, max, parentheses, numbers such as 1e-3, `#` comments. Identifiers the
 * caller declares as data columns are variables; every other identifier is a parameter.
 * Variables and parameters are numbered in order of first appearance in the formula.
 *
 * A parsed law is compiled to a flat program (one instruction per operation, operands by index).
 * Evaluation runs it forward over a block of rows; gradients come from one reverse sweep over
 * the same program (reverse-mode differentiation: exact, no finite differences). A cs_law is
 * read-only after construction, so any number of threads may evaluate one law at once, each
 * with its own cs_law_work.
 *
 * Code: fit/law.c (object, built-ins), fit/law_parse.c (lexer, parser, compiler),
 * fit/law_eval.c (evaluation), fit/law_meta.c (positivity, grids, derived quantities); shared
 * internals in fit/law_internal.h. Tests: tests/unit/test_law.c; fuzz target: fuzz/fuzz_law.c.
 */
#ifndef CS_FIT_LAW_H
#define CS_FIT_LAW_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_law cs_law;
typedef struct cs_law_work cs_law_work;

/* Most instructions one formula compiles to (about one per number, name and operator); longer
 * formulas are rejected with CS_EINPUT. */
#define CS_LAW_MAX_OPS 1024

/* Deepest nesting of parentheses, function calls, unary minus and powers. */
#define CS_LAW_MAX_DEPTH 128

/* Longest variable or parameter name, in bytes. */
#define CS_LAW_MAX_NAME 64

/* Flag of a parameter (cs_law_param_flags): it must be > 0, so a fitter optimises its log and
 * its starting grid is spaced geometrically. */
#define CS_LAW_POSITIVE 1u

/* One built-in law. Every string is static. */
typedef struct cs_law_info {
    const char *name;        /* "chinchilla" */
    const char *formula;     /* the law in the formula language */
    const char *vars;        /* its variables, space-separated: "N D" */
    const char *positive;    /* parameters that must be > 0, space-separated ("" if none) */
    const char *grid;        /* starting grid in cs_law_set_grid syntax */
    const char *derived;     /* derived quantities, ';'-separated formulas ("" if none) */
    const char *description; /* one line */
    const char *source;      /* paper the law comes from */
} cs_law_info;

/* ---- construction ---------------------------------------------------------------------- */

/* Parses `text` ("L = expr", or just "expr" with target "L"). Identifiers listed in
 * vars[0..nvars-1] are variables, other identifiers are parameters; vars may be NULL when nvars
 * is 0. The law keeps copies of all strings. Returns the law (caller frees with cs_law_free), or
 * NULL with cs_fail: CS_EINPUT for a syntax error (the message is "law: LINE:COL: what" followed
 * by the offending line and a caret under the column), an unknown function, a function name
 * used as a name, a target "NAME =" that also appears on the right, no parameters, or a
 * formula longer than CS_LAW_MAX_OPS or nested deeper than CS_LAW_MAX_DEPTH; CS_EINVAL for a
 * NULL text or a NULL entry in vars; CS_ENOMEM. Declared names that are not identifiers (a
 * column called "loss (bpb)") are ignored: no identifier can name them. */
cs_law *cs_law_parse(const char *text, const char *const *vars, size_t nvars);

/* The built-in law called `name` (see cs_law_builtin_list), with its metadata: positive
 * parameters, starting grid and derived quantities. Returns NULL with CS_EINPUT naming the
 * known laws when there is no such law; CS_ENOMEM. */
cs_law *cs_law_builtin(const char *name);

/* The table of built-in laws; *n receives its length. Static storage. */
const cs_law_info *cs_law_builtin_list(size_t *n);

/* Frees a law. NULL is allowed. */
void cs_law_free(cs_law *law);

/* ---- what the law contains ------------------------------------------------------------- */

/* The name of the predicted quantity (left of '='; "L" when the formula has no '='). */
const char *cs_law_target(const cs_law *law);

/* The formula text as given (for a built-in, its table formula). */
const char *cs_law_formula(const cs_law *law);

/* The built-in's table entry, or NULL for a law from cs_law_parse. */
const cs_law_info *cs_law_builtin_info(const cs_law *law);

/* Number of parameters / variables, and the name of parameter / variable j (first-appearance
 * order; j < count, else NULL). */
size_t cs_law_nparams(const cs_law *law);
size_t cs_law_nvars(const cs_law *law);
const char *cs_law_param_name(const cs_law *law, size_t j);
const char *cs_law_var_name(const cs_law *law, size_t j);

/* Index of the parameter / variable called `name`, or -1 when the law has none. */
long cs_law_param_index(const cs_law *law, const char *name);
long cs_law_var_index(const cs_law *law, const char *name);

/* Checks that every variable of the law is among have[0..nhave-1] (the data's column names).
 * Returns CS_OK, or CS_EINPUT naming the missing variables and the columns there are. */
int cs_law_check_vars(const cs_law *law, const char *const *have, size_t nhave);

/* ---- metadata: positivity, starting grid, derived quantities --------------------------- */

/* Marks the parameters named in `names` (separated by spaces or commas) as CS_LAW_POSITIVE.
 * Returns CS_OK, or CS_EINPUT for a name that is not a parameter of the law, or one whose grid
 * already reaches values <= 0. */
int cs_law_set_positive(cs_law *law, const char *names);

/* Flags (CS_LAW_POSITIVE or 0) of parameter j < cs_law_nparams. */
unsigned cs_law_param_flags(const cs_law *law, size_t j);

/* Sets starting grids from `spec`: entries "name=lo:hi:n" (n points from lo to hi inclusive;
 * geometric for positive parameters, linear otherwise) or "name=value" (one point), separated by
 * spaces or commas; e.g. "alpha=0:2:5 e=-1:1:5". Numbers go through cs_parse_double/long.
 * Returns CS_OK, or CS_EINPUT (nothing changed) for a name that is not a parameter, malformed
 * numbers, n outside 1..1000, hi < lo, or a positive parameter with lo <= 0. */
int cs_law_set_grid(cs_law *law, const char *spec);

/* The starting grid of parameter j: *n points from *lo to *hi. A parameter without a set grid
 * has one point, 1 if it is positive and 0 otherwise. */
void cs_law_param_grid(const cs_law *law, size_t j, double *lo, double *hi, size_t *n);

/* Number of points of the full starting grid (product over parameters; SIZE_MAX on overflow). */
size_t cs_law_grid_count(const cs_law *law);

/* Writes grid point g < cs_law_grid_count into params (nparams). The first parameter varies
 * slowest. Returns CS_OK or CS_EINVAL when g is out of range. */
int cs_law_grid_point(const cs_law *law, size_t g, double *params);

/* Adds a derived quantity "NAME = expr" whose identifiers are all parameters of the law
 * (e.g. "A = exp(a)"). Returns CS_OK, or CS_EINPUT for a syntax error, a missing "NAME =", an
 * identifier that is not a parameter, or a name already used by a parameter or another derived
 * quantity; CS_ENOMEM. */
int cs_law_add_derived(cs_law *law, const char *text);

/* Number of derived quantities and the name of quantity k (NULL when k is out of range). */
size_t cs_law_nderived(const cs_law *law);
const char *cs_law_derived_name(const cs_law *law, size_t k);

/* Value of derived quantity k at params (nparams) into *value, and its gradient with respect to
 * the parameters into grad (nparams) unless grad is NULL. Errors as for cs_law_eval. */
int cs_law_eval_derived(const cs_law *law, size_t k, const double *params, double *value,
                        double *grad);

/* ---- evaluation, one point ------------------------------------------------------------- */

/* Evaluates the law at params (nparams) and vars (nvars, law variable order) into *value.
 * Thread-safe, no allocation. Returns CS_OK, or CS_EINPUT when any operation gives a non-finite
 * result — division by zero, log of a value <= 0, a negative number to a non-integer power,
 * overflow — or an input is not finite; the message names the operation and its line:column. */
int cs_law_eval(const cs_law *law, const double *params, const double *vars, double *value);

/* As cs_law_eval, and writes d value / d params[j] into grad[j] (nparams). Also CS_EINPUT when a
 * derivative is not finite (e.g. x^alpha at x = 0 with alpha < 1). */
int cs_law_eval_grad(const cs_law *law, const double *params, const double *vars, double *value,
                     double *grad);

/* ---- additive terms (for log-sum-exp) -------------------------------------------------- */

/* Number of additive terms of the right side: the operands of its top-level chain of + and -,
 * parentheses included ((a + b) + c has 3 terms); 1 when the top operation is not + or -. */
size_t cs_law_nterms(const cs_law *law);

/* Value of term k < nterms at a point, sign included (in a - b the second term is -b), so that
 * the law is the sum of its terms; gradient into grad (nparams) unless NULL. A fitter that sees
 * all terms > 0 can predict log L as log-sum-exp of the log terms. Errors as for cs_law_eval;
 * CS_EINVAL when k >= nterms. */
int cs_law_eval_term(const cs_law *law, size_t k, const double *params, const double *vars,
                     double *value, double *grad);

/* ---- evaluation, many points ----------------------------------------------------------- */

/* A workspace for the batched evaluators, sized for one law (and usable only with it). One per
 * thread. Returns NULL with CS_ENOMEM. */
cs_law_work *cs_law_work_alloc(const cs_law *law);

/* Frees a workspace. NULL is allowed. */
void cs_law_work_free(cs_law_work *w);

/* Evaluates the law at params (nparams) on rows 0..n-1 of the columns cols[j] (one array of n
 * values per law variable j, law variable order) into values (n), and the gradient into grads
 * (n, nparams) row-major unless grads is NULL. No allocation. Returns CS_OK, CS_EINVAL when w
 * was made for another law, or CS_EINPUT as cs_law_eval with "row R" in the message (R = index
 * + 1, the first failing row; outputs are then partly written). */
int cs_law_eval_batch(const cs_law *law, const double *params, const double *const *cols, size_t n,
                      double *values, double *grads, cs_law_work *w);

/* As cs_law_eval_batch for every additive term at once: terms (n, nterms) row-major and, unless
 * grads is NULL, grads (n, nterms, nparams). */
int cs_law_eval_terms_batch(const cs_law *law, const double *params, const double *const *cols,
                            size_t n, double *terms, double *grads, cs_law_work *w);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_LAW_H */
