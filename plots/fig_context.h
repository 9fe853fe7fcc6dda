/* plots/fig_context.h: the context-scaling figures drawn from run logs (docs/runlog.md) and token
 * stores (data/store.h), after Buckman & Gelada 2024 and Fu et al. 2024:
 *   C1  contextwise loss of one run (mean loss per context position, log-x);
 *   C2  C1 for runs trained with the longdoc and the packed sampler, a panel per mode;
 *   C3  document-length histogram of a token store, training contexts marked;
 *   C4  contextwise loss of runs at several training contexts T, each up to its own T, with a
 *       dotted line at each run's average loss over 1..T (why training loss misleads);
 *   C5  evaluation past the training context: the whole evaluated range, a dashed line at T and
 *       a dotted one at the best-context loss;
 *   S6  loss against position for runs on different data mixtures (labelled by a config key).
 * Inputs of the run-log figures are run-log files or directories of them (core/runlog_read.h's
 * cs_runlog_read_list). A log without contextwise loss, or without an eval at --step, is left
 * out with a warning naming it; no usable log at all is bad input. Builders of plots/figures.h;
 * docs in docs/figures.md. Tested in tests/unit/test_plot_figures.c.
 */
#ifndef CS_PLOTS_FIG_CONTEXT_H
#define CS_PLOTS_FIG_CONTEXT_H

#include "plots/figures.h"

/* C1: one run log (or a directory holding exactly one usable log); o->floor adds a loss floor. */
int cs_fig_context_c1(const cs_figures_opts *o, cs_plot **out);

/* C2: run logs and/or directories holding runs of both sampler modes (config key sampler). */
int cs_fig_context_c2(const cs_figures_opts *o, cs_plot **out);

/* C3: one token store directory; o->contexts are marked. */
int cs_fig_context_c3(const cs_figures_opts *o, cs_plot **out);

/* C4, C5, S6: run logs and/or directories of them. */
int cs_fig_context_c4(const cs_figures_opts *o, cs_plot **out);
int cs_fig_context_c5(const cs_figures_opts *o, cs_plot **out);
int cs_fig_context_s6(const cs_figures_opts *o, cs_plot **out);

#endif /* CS_PLOTS_FIG_CONTEXT_H */
