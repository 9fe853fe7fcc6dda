/* plots/figures.c: the table of figure ids and cs_figures_build (plots/figures.h). Test:
 * tests/unit/test_plot_figures.c, tests/cli/test_plot.sh.
 */
#include "plots/figures.h"

#include "core/error.h"
#include "core/version.h"
#include "plots/fig_context.h"
#include "plots/fig_isoflop.h"
#include "plots/fig_law.h"
#include "plots/fig_sweep.h"
#include "plots/fig_vocab.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const cs_figures_info table[] = {
    {"C1", "contextwise loss of one trained model: mean loss at each position (log-x)",
     "RUNLOG (or a directory with one run log); --floor NATS|synth.json", cs_fig_context_c1, NULL},
    {"C2", "C1 for two data sets side by side: natural long documents vs packed short ones",
     "RUNLOGS or RUNS_DIR with runs of both samplers (train --sampler longdoc|packed)",
     cs_fig_context_c2, NULL},
    {"C3", "document-length histogram of a token store, training contexts marked",
     "STORE_DIR --contexts T1,T2,...", cs_fig_context_c3, NULL},
    {"C4", "one model size at several training contexts, each up to its T, dotted average loss",
     "RUNLOGS or RUNS_DIR", cs_fig_context_c4, NULL},
    {"C5", "evaluation past the training context, a line at T and at the best-context loss",
     "RUNLOGS or RUNS_DIR", cs_fig_context_c5, NULL},
    {"C6", "U-curves: best-context loss against training context, one curve per budget",
     "RUNS_DIR of a sweep [--budgets SPEC] [--boot N]", cs_fig_sweep_c6, NULL},
    {"C7", "best-context loss against training context per model size, a panel per budget",
     "RUNS_DIR of a sweep [--budgets SPEC] [--boot N]", cs_fig_sweep_c7, NULL},
    {"C8", "optimal training context against compute per model size, and the joint (N, T) path",
     "RUNS_DIR of a sweep [--budgets SPEC] [--boot N]", cs_fig_sweep_c8, NULL},
    {"S1", "IsoFLOP profiles: loss against N at fixed budgets, parabola fits and minima",
     "POINTS.csv [--map N=COL --map C=COL --map L=COL] [--budgets SPEC] [--tol DEX]",
     cs_fig_isoflop_s1, NULL},
    {"S2", "N_opt and D_opt against C: Approaches 1-3 with power-law fits and bootstrap bands",
     "[POINTS.csv] [--fit FIT.json] (at least one)", cs_fig_isoflop_s2, NULL},
    {"S3", "iso-loss contours of a fitted L(N, D) with the efficient frontier", "FIT.json",
     cs_fig_law_s3, NULL},
    {"S4", "loss against evaluation context with the xiong-context fit per model size",
     "CSV with size, context, loss columns", cs_fig_law_s4, NULL},
    {"S5", "loss against vocabulary at fixed budgets; best vocabulary against model size",
     "CSV of losses along training (Tao et al.'s exp_data.csv)", cs_fig_vocab_s5, NULL},
    {"S6", "loss against context position per data mixture",
     "RUNLOGS or RUNS_DIR [--label-key KEY]", cs_fig_context_s6, NULL},
};

#define NTABLE (sizeof table / sizeof table[0])

cs_figures_opts cs_figures_default_opts(void)
{
    cs_figures_opts o;

    memset(&o, 0, sizeof o);
    o.boot = 200;
    o.seed = 1;
    o.step = -1;
    o.threads = 1;
    return o;
}

const cs_figures_info *cs_figures_list(size_t *n)
{
    *n = NTABLE;
    return table;
}

const cs_figures_info *cs_figures_find(const char *id)
{
    size_t i;

    for (i = 0; id && i < NTABLE; i++)
        if (strcasecmp(table[i].id, id) == 0)
            return &table[i];
    return NULL;
}

/* The caller's title, labels and note over the builder's. */
static int apply_overrides(cs_plot *p, const cs_figures_opts *o)
{
    int st = CS_OK;

    if (o->title)
        st = cs_plot_set_title(p, o->title);
    if (st == CS_OK && o->xlabel)
        st = cs_plot_set_axis_label(p, 0, 'x', o->xlabel);
    if (st == CS_OK && o->ylabel)
        st = cs_plot_set_axis_label(p, 0, 'y', o->ylabel);
    if (st == CS_OK && o->note)
        st = cs_plot_add_note(p, "%s", o->note);
    if (st == CS_OK)
        st = cs_plot_add_note(p, "drawn by ctxscale %s (git %s)", cs_version_string(),
                              cs_version_git_revision());
    return st;
}

int cs_figures_build(const char *id, const cs_figures_opts *o, cs_plot **out)
{
    const cs_figures_info *f = cs_figures_find(id);
    char known[128] = "";
    size_t i, used = 0;
    int st;

    *out = NULL;
    if (!f) {
        for (i = 0; i < NTABLE; i++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                     table[i].id);
        return cs_fail(CS_EINPUT, "unknown figure \"%s\"; known: %s", id ? id : "", known);
    }
    if (!f->build)
        return cs_fail(CS_EINPUT, "figure %s (%s) is not available in this version: it needs %s",
                       f->id, f->what, f->missing);
    if ((st = f->build(o, out)))
        return st;
    if ((st = apply_overrides(*out, o))) {
        cs_plot_free(*out);
        *out = NULL;
    }
    return st;
}
