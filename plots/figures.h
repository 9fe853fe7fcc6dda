/* plots/figures.h: the figures of ../shared/FIGURES.md as programs — each id (S1..S6 from fits
 * and published data, C1..C8 from ctxscale's own runs) has a builder that reads its inputs
 * (CSV tables, fit JSON, run logs, a token store), computes what the figure shows through the
 * library (analysis/isoflop.h, analysis/envelope.h, fit/fit.h, fit/optimal.h, core/runlog_read.h,
 * data/store.h) and returns a cs_plot (plots/plot.h) with labels, units, legend, log axes and a
 * corner note saying what data and what scale produced it. `ctxscale plot ID INPUTS --out DIR`
 * renders one; `make figures` renders those whose inputs exist (plots/figures.sh).
 *
 * Unlike plots/plot.h and plots/gnuplot.h, which need only core/, the builders sit on top of the
 * analysis, the fitter and the data layer: they are the figure programs, not drawing code.
 * What each figure computes and draws is in docs/figures.md.
 *
 * Builders live in plots/fig_scaling.c (S1-S5) and plots/fig_context.c (C1-C5, S6).
 * Tested in tests/unit/test_plot_figures.c and tests/cli/test_plot.sh.
 */
#ifndef CS_PLOTS_FIGURES_H
#define CS_PLOTS_FIGURES_H

#include "plots/plot.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The inputs and options of a figure; start from cs_figures_default_opts(). Strings and arrays
 * are borrowed for the duration of the build. Each builder reads the fields it needs and says
 * so in docs/figures.md. */
typedef struct cs_figures_opts {
    const char *const *inputs; /* (ninputs) files or directories, per figure */
    size_t ninputs;
    const char *const *maps; /* (nmaps) "NAME=column" for the CSV figures */
    size_t nmaps;
    const char *const *derives; /* (nderives) "NAME=expr" as fit/dataset.h */
    size_t nderives;
    const char *const *wheres; /* (nwheres) "COL OP VALUE" row filters */
    size_t nwheres;
    const char *fit;        /* a fit JSON (`ctxscale fit --json`): S2 (Approach 3); NULL: none */
    const char *budgets;    /* S1, S2, S5: "auto" or NULL (automatic), "C1,C2,..." or "LO:HI:K" */
    double tol;             /* S1, S2: log10 C tolerance of a budget; 0: the default (0.015) */
    size_t min_points;      /* S1, S2: automatic budgets need this many points; 0: default (3) */
    size_t boot;            /* S2: bootstrap replicates of Approaches 1 and 2 (default 200) */
    uint64_t seed;          /* S2: bootstrap seed (default 1) */
    const double *contexts; /* (ncontexts) C3: training contexts to mark, tokens */
    size_t ncontexts;
    const char *floor;     /* C1: a loss floor, nats/token: a number, or a synth.json with the
                              Bayes-optimal floor per position; NULL: none */
    int64_t step;          /* C1, C2, C4, C5, S6: eval step to draw; -1 (default): the last eval
                              with contextwise loss */
    const char *label_key; /* S6: config key naming a run's data mixture (default
                              "data_name") */
    const char *title;     /* replaces the figure's title; NULL: the default */
    const char *xlabel;    /* replaces the x label of the first panel; NULL: the default */
    const char *ylabel;    /* replaces the y label of the first panel; NULL: the default */
    const char *note;      /* one more corner-note line; NULL: none */
    size_t threads;        /* S4: fitting threads (0: the online CPUs; default 1) */
    FILE *log;             /* warnings (runs left out, budgets skipped); NULL: none */
} cs_figures_opts;

cs_figures_opts cs_figures_default_opts(void);

/* A figure builder: reads o's inputs and returns a new figure in *out (owned by the caller).
 * Errors: CS_EINPUT for bad or missing inputs (the message names the file, line or field and
 * what was expected), CS_EIO, CS_ENOMEM, and those of the analysis it runs. */
typedef int (*cs_figures_build_fn)(const cs_figures_opts *o, cs_plot **out);

/* One figure id. */
typedef struct cs_figures_info {
    const char *id;            /* "S1" */
    const char *what;          /* one line: what the figure shows */
    const char *inputs;        /* what to give it, as on the command line */
    cs_figures_build_fn build; /* NULL: not available in this version */
    const char *missing;       /* when build is NULL: what it waits for */
} cs_figures_info;

/* The table of every figure id, in FIGURES.md order (C1..C8, then S1..S6); *n its length. */
const cs_figures_info *cs_figures_list(size_t *n);

/* The entry of `id` (case-insensitive), or NULL. */
const cs_figures_info *cs_figures_find(const char *id);

/* Builds figure `id`: finds it, runs its builder, then applies o->title, o->xlabel, o->ylabel
 * and o->note and adds the note line naming the ctxscale version. Errors: CS_EINPUT for an
 * unknown id ("unknown figure "X9"; known: C1, ..., S6") or one not available in this version
 * (saying what it waits for); the builder's errors. */
int cs_figures_build(const char *id, const cs_figures_opts *o, cs_plot **out);

#ifdef __cplusplus
}
#endif
#endif /* CS_PLOTS_FIGURES_H */
