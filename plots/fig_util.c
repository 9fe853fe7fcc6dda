/* plots/fig_util.c: helpers of the figure builders (plots/fig_util.h). Test:
 * tests/unit/test_plot_figures.c.
 */
#include "plots/fig_util.h"

#include "core/csv.h"
#include "core/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cs_fig_util_ninputs(const cs_figures_opts *o, const char *id, size_t lo, size_t hi,
                        const char *what)
{
    if (o->ninputs >= lo && o->ninputs <= hi)
        return CS_OK;
    if (lo == hi)
        return cs_fail(CS_EINPUT, "figure %s: expected %zu input%s (%s), got %zu", id, lo,
                       lo == 1 ? "" : "s", what, o->ninputs);
    return cs_fail(CS_EINPUT, "figure %s: expected %zu to %zu inputs (%s), got %zu", id, lo, hi,
                   what, o->ninputs);
}

void cs_fig_util_warn(const cs_figures_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (!o->log)
        return;
    fputs("ctxscale plot: warning: ", o->log);
    va_start(ap, fmt);
    vfprintf(o->log, fmt, ap);
    va_end(ap);
    fputc('\n', o->log);
}

const char *cs_fig_util_map(const cs_figures_opts *o, const char *name)
{
    size_t i, n = strlen(name);

    for (i = 0; i < o->nmaps; i++)
        if (strncmp(o->maps[i], name, n) == 0 && o->maps[i][n] == '=')
            return o->maps[i] + n + 1;
    return NULL;
}

int cs_fig_util_column(const cs_figures_opts *o, cs_table *t, const char *name,
                       const char *const *fallbacks, size_t n, size_t *col)
{
    const char *mapped = cs_fig_util_map(o, name);
    long c = -1;
    size_t i;

    if (mapped) {
        if ((c = cs_table_find(t, mapped)) < 0)
            return cs_fail(CS_EINPUT, "%s: no column \"%s\" (from --map %s=%s)", cs_table_source(t),
                           mapped, name, mapped);
    }
    for (i = 0; i < n && c < 0; i++)
        c = cs_table_find(t, fallbacks[i]);
    if (c < 0) {
        char list[256] = "";
        size_t used = 0;

        for (i = 0; i < n && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"",
                                     i ? (i + 1 == n ? " or " : ", ") : "", fallbacks[i]);
        return cs_fail(CS_EINPUT, "%s: missing column for %s: expected %s, or --map %s=COLUMN",
                       cs_table_source(t), name, list, name);
    }
    if (cs_table_col_to_num(t, (size_t)c) != CS_OK)
        return cs_fail_prefix(CS_EINPUT, "%s (%s)", cs_table_col_name(t, (size_t)c), name);
    *col = (size_t)c;
    return CS_OK;
}

const char *cs_fig_util_num(char buf[32], double v)
{
    double a = fabs(v);

    if (!isfinite(v)) {
        snprintf(buf, 32, "%g", v);
    } else if (a == floor(a) && a < 1e5) {
        snprintf(buf, 32, "%.0f", v);
    } else if (a >= 1e-3 && a < 1e5) {
        snprintf(buf, 32, "%.3g", v);
    } else {
        int e = (int)floor(log10(a));
        double m = v / pow(10.0, e);

        if (fabs(m) >= 9.95) { /* rounding to one decimal carried over */
            m /= 10.0;
            e++;
        }
        snprintf(buf, 32, "%.1fe%d", m, e);
    }
    return buf;
}

int cs_fig_util_read_csv(const cs_figures_opts *o, size_t i, cs_table **t)
{
    return cs_csv_read(o->inputs[i], NULL, t);
}
