/* plots/fig_isoflop.h: figures S1 (IsoFLOP profiles with their parabolas and minima) and S2
 * (N_opt and D_opt against compute: Approaches 1, 2 and 3 with power-law fits and bootstrap
 * bands), after Hoffmann et al. 2022 and Besiroglu et al. 2024. Builders of plots/figures.h;
 * what they draw is in docs/figures.md. Tested in tests/unit/test_plot_figures.c.
 */
#ifndef CS_PLOTS_FIG_ISOFLOP_H
#define CS_PLOTS_FIG_ISOFLOP_H

#include "plots/figures.h"

/* S1 from one CSV of final points (columns N, C, L by name or --map; --budgets, --tol, --where,
 * --derive as `ctxscale isoflop`). Errors as cs_isoflop_points_read and cs_isoflop_run. */
int cs_fig_isoflop_s1(const cs_figures_opts *o, cs_plot **out);

/* S2 from a CSV of points (Approach 2; Approach 1 too when it has a run column or --map run=)
 * and/or --fit FILE.json (Approach 3, solved with fit/optimal.h under C = 6ND, intervals from
 * the fit's bootstrap samples). At least one of the two. */
int cs_fig_isoflop_s2(const cs_figures_opts *o, cs_plot **out);

#endif /* CS_PLOTS_FIG_ISOFLOP_H */
