/* plots/fig_util.h: small helpers shared by the figure builders (plots/fig_scaling.c,
 * plots/fig_context.c): input checks, warnings, column lookup through --map, number formatting
 * for legends. Not installed API. Tested through tests/unit/test_plot_figures.c.
 */
#ifndef CS_PLOTS_FIG_UTIL_H
#define CS_PLOTS_FIG_UTIL_H

#include "core/table.h"
#include "plots/figures.h"

#include <stddef.h>

/* CS_OK when o has between lo and hi inputs, else CS_EINPUT ("figure S1: expected one input
 * (a CSV of points), got 3"); `what` describes the inputs. */
int cs_fig_util_ninputs(const cs_figures_opts *o, const char *id, size_t lo, size_t hi,
                        const char *what);

/* Prints "ctxscale plot: warning: <message>" on o->log (when not NULL). */
void cs_fig_util_warn(const cs_figures_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The column that --map NAME=COL names for `name`, or NULL when no map gives it. */
const char *cs_fig_util_map(const cs_figures_opts *o, const char *name);

/* The index of the numeric column for `name` in t: the --map column, else the first of
 * fallbacks[0..n) that exists. Converts a text column of numbers. CS_EINPUT naming the table,
 * the name and what was looked for when there is none, or the column is not numeric. */
int cs_fig_util_column(const cs_figures_opts *o, cs_table *t, const char *name,
                       const char *const *fallbacks, size_t n, size_t *col);

/* Writes v compactly for a legend: "6e+18" style becomes "6.0e18", small integers stay. buf
 * holds 32 bytes; returns buf. */
const char *cs_fig_util_num(char buf[32], double v);

/* Reads the CSV o->inputs[i] into *t (core/csv.h). */
int cs_fig_util_read_csv(const cs_figures_opts *o, size_t i, cs_table **t);

#endif /* CS_PLOTS_FIG_UTIL_H */
