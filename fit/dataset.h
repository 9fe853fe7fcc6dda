/* fit/dataset.h: the data a law is fitted to — a table (CSV, run-log points) turned into one
 * column per law variable plus the observed target, after renaming (--map NAME=column),
 * derived columns (--derive NAME="expr", in the law language), row filters (--where), dropping
 * the largest targets (--drop-top) and setting points aside for scoring (--holdout). Every row
 * keeps its source line so that a bad value found later is named as file:line. Rows can carry a
 * group id for resampling by group and an ordering key (e.g. compute) for cross-validation.
 *
 * Predicates (--where, --holdout): comparisons LEFT OP RIGHT, OP one of == = != < <= > >=, joined
 * by && and || (&& binds tighter; no parentheses at this level). Each side is a name (a column,
 * even one with spaces such as "Model Size", a --map or a --derive name), a number, or an
 * expression of the law language over names ("C/(6*N) > 20", "N*D >= 1e18"). A text column on
 * the left compares as text with the literal right side (== and != only).
 *
 * Tested in tests/unit/test_dataset.c and tests/unit/test_holdout.c.
 */
#ifndef CS_FIT_DATASET_H
#define CS_FIT_DATASET_H

#include "core/table.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_dataset cs_dataset;

/* How to build a data set. Every string is borrowed for the duration of cs_dataset_build. */
typedef struct cs_dataset_params {
    const char *const *maps; /* (nmaps) "NAME=column": law name NAME reads that column */
    size_t nmaps;
    const char *const *derives; /* (nderives) "NAME=expr": NAME computed per row; expr uses
                                   columns, mapped names and earlier derived names */
    size_t nderives;
    const char *const *wheres; /* (nwheres) predicates (above); rows failing any are left
                                  out, before drop_top; each applies to the rows the earlier
                                  ones kept */
    size_t nwheres;
    size_t drop_top;      /* leave out the drop_top rows with the largest target */
    const char *group;    /* column whose distinct values are resampling groups, or NULL */
    bool positive_target; /* every kept target must be > 0 (residuals in log space) */
    const char *holdout;  /* predicate, or NULL: after drop_top, the points where it holds
                             are held out — left out of this data set, or, with held_out,
                             the only points kept */
    bool held_out;        /* build the held-out points instead of the rest */
    const char *key;      /* a name or expression evaluated per kept point (cs_dataset_key),
                             e.g. "C" or "6*N*D", or NULL */
} cs_dataset_params;

/* No maps, derives or filters; drop_top 0; no groups; positive_target true; no holdout, no
 * key. */
cs_dataset_params cs_dataset_default_params(void);

/* Builds the data for `law` from table `t`: for the law's target (cs_law_target) and each of
 * its variables, in that order of lookup, a --derive of that name, a --map of that name, or a
 * table column of exactly that name. Rows are filtered (wheres, then drop_top), then each
 * needed value must be a finite number, the target > 0 when p->positive_target, and every
 * variable that is the base of a power with a fitted exponent or the argument of a log
 * (possibly through products and quotients with constants and other variables) > 0.
 * On success *out owns the data set (free with cs_dataset_free). Errors (nothing is returned):
 * CS_EINPUT naming the table's source, the line and the column for a missing column (listing
 * those there are), a text cell where a number is needed, a missing/NaN/infinite value, a value
 * <= 0 where it must be > 0, a malformed --map/--derive/--where, a syntax error in a derived
 * expression (with the law-language caret message), an expression using a name that is no
 * column, a derived value that is not finite, a --where on a missing column or comparing text
 * with < or >, drop_top >= the rows left, or no rows left after filtering, a --holdout that holds
 * for no point or for every point ("--holdout \"N > 5e8\" holds for none of the 40 points"), a
 * malformed predicate or key, or a value a predicate or the key reads that is not a finite
 * number in a row it applies to; CS_ENOMEM. */
int cs_dataset_build(const cs_table *t, const cs_law *law, const cs_dataset_params *p,
                     cs_dataset **out);

/* Frees a data set. NULL is allowed. */
void cs_dataset_free(cs_dataset *ds);

/* Number of rows kept, rows read (before filters), rows left out by --where and by drop_top. */
size_t cs_dataset_n(const cs_dataset *ds);
size_t cs_dataset_n_read(const cs_dataset *ds);
size_t cs_dataset_n_filtered(const cs_dataset *ds);
size_t cs_dataset_n_dropped(const cs_dataset *ds);

/* Points set aside by --holdout (the held-out ones, or with held_out the rest), plus those left
 * out by cs_dataset_subset. */
size_t cs_dataset_n_holdout(const cs_dataset *ds);

/* The ordering key of each kept point (n), or NULL when built without one. Owned by ds. */
const double *cs_dataset_key(const cs_dataset *ds);

/* A new data set of the points rows[0..n-1] of ds (indices < cs_dataset_n(ds), in that order;
 * repeats allowed), with their lines, key and groups (renumbered by first appearance), for
 * cross-validation folds. *out is owned by the caller. CS_EINVAL for n = 0 or an index out of
 * range; CS_ENOMEM. */
int cs_dataset_subset(const cs_dataset *ds, const size_t *rows, size_t n, cs_dataset **out);

/* Name of the source table ("runs.csv"). */
const char *cs_dataset_source(const cs_dataset *ds);

/* The law-variable columns: (nvars) arrays of n doubles each, in the law's variable order, as
 * cs_law_eval_batch takes them. Owned by the data set. */
const double *const *cs_dataset_cols(const cs_dataset *ds);

/* Number of law variables (equal to cs_law_nvars of the law it was built for). */
size_t cs_dataset_nvars(const cs_dataset *ds);

/* The observed target (n), owned by the data set. */
const double *cs_dataset_target(const cs_dataset *ds);

/* Name of the law variable j (nvars) or, for j == nvars, of the target; NULL beyond. */
const char *cs_dataset_var_name(const cs_dataset *ds, size_t j);

/* Where variable j (j == nvars: the target) comes from: "column \"Model Size\"" or
 * "derived C/(6*N)". NULL beyond. */
const char *cs_dataset_var_origin(const cs_dataset *ds, size_t j);

/* Source line of kept row i (1-based; 0 when unknown). */
size_t cs_dataset_row_line(const cs_dataset *ds, size_t i);

/* Writes "source:line" (or "source: row i" when the line is unknown) for kept row i into buf. */
void cs_dataset_row_where(const cs_dataset *ds, size_t i, char *buf, size_t n);

/* Group id of each kept row (n values in 0..ngroups-1, numbered by first appearance), or NULL
 * when the data set was built without a group column; *ngroups receives the count (0 without
 * groups). */
const size_t *cs_dataset_groups(const cs_dataset *ds, size_t *ngroups);

/* Checks that `law` (the one the data set was built for) evaluates to a finite value at every
 * row for the parameters `params` (nparams). Returns CS_OK, or CS_EINPUT with
 * "source:line: " before the law's message and the row's variable values. */
int cs_dataset_check_law(const cs_dataset *ds, const cs_law *law, const double *params);

#ifdef __cplusplus
}
#endif
#endif /* CS_FIT_DATASET_H */
