/* plots/fig_law.h: figures drawn from fitted laws — S3 (iso-loss contours of a fitted L(N, D)
 * in the compute / model-size plane with the efficient frontier, after Hoffmann et al. 2022
 * Fig. 4) and S4 (loss against evaluation context with the fit L(c) = (alpha/c)^beta + gamma
 * per model size, after Xiong et al. 2023 Fig. 1). Builders of plots/figures.h; docs in
 * docs/figures.md. Tested in tests/unit/test_plot_figures.c.
 */
#ifndef CS_PLOTS_FIG_LAW_H
#define CS_PLOTS_FIG_LAW_H

#include "plots/figures.h"

/* S3 from one fit JSON (`ctxscale fit --json`) of a law in N (or Nnv) and D only. Errors:
 * those of cs_fitjson_read; CS_EINPUT for a law with other variables, or no N and D ranges. */
int cs_fig_law_s3(const cs_figures_opts *o, cs_plot **out);

/* S4 from one CSV with a model size, an evaluation context and a loss per row (columns N, T,
 * L, or size, context, loss, or --map); the xiong-context law (fit/law.h) is fitted to each
 * model size with at least 4 distinct contexts. */
int cs_fig_law_s4(const cs_figures_opts *o, cs_plot **out);

#endif /* CS_PLOTS_FIG_LAW_H */
