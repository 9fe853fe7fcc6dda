/* plots/fig_sweep.h: the figures of a sweep over model size N, training context T and compute
 * budget C, drawn from the context-scaling analysis run in-process (analysis/analyze.h, the same
 * analysis as `ctxscale analyze RUNS_DIR`):
 *   C6  U-curves: best-context loss against training context (log-x), one curve per budget, a
 *       panel per model size, with each curve's parabola and its minimum;
 *   C7  best-context loss against training context, one curve per model size, a panel per budget;
 *   C8  optimal training context against compute, one curve per model size (with the bootstrap
 *       band), and the jointly optimal (N, T) path (panel 2: its N).
 * A curve whose best point lies at an edge of the sampled contexts (or whose parabola has no
 * minimum) has no interior optimum: it is drawn without one and the corner note says so.
 * Builders of plots/figures.h; docs in docs/figures.md. Tested in tests/cli/test_plot_sweep.sh.
 */
#ifndef CS_PLOTS_FIG_SWEEP_H
#define CS_PLOTS_FIG_SWEEP_H

#include "plots/figures.h"

/* C6, C7, C8: one input, the directory of the sweep's run logs. Reads o->budgets ("auto" or
 * NULL, "C1,C2,..." or "LO:HI:K"), o->tol, o->min_points (runs a budget needs), o->boot and
 * o->seed (bootstrap of the optima), o->threads. Errors: CS_EINPUT for a wrong number of inputs
 * and those of cs_analyze_run (an empty directory, no usable run, no budget reached); CS_ENOMEM. */
int cs_fig_sweep_c6(const cs_figures_opts *o, cs_plot **out);
int cs_fig_sweep_c7(const cs_figures_opts *o, cs_plot **out);
int cs_fig_sweep_c8(const cs_figures_opts *o, cs_plot **out);

#endif /* CS_PLOTS_FIG_SWEEP_H */
