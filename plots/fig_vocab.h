/* plots/fig_vocab.h: figure S5 (Tao et al. 2024): loss against vocabulary size at fixed compute
 * budgets, and the best vocabulary against non-vocabulary parameters, from training curves of
 * model families x vocabularies (their exp_data.csv). A builder of plots/figures.h; docs in
 * docs/figures.md. Tested in tests/unit/test_plot_figures.c.
 */
#ifndef CS_PLOTS_FIG_VOCAB_H
#define CS_PLOTS_FIG_VOCAB_H

#include "plots/figures.h"

/* S5 from one CSV of evaluation points along training: vocabulary V, non-vocabulary parameters
 * N, training FLOPs C and loss L per row (columns V, N, C, L, or Tao et al.'s vocab_size,
 * Non_vocab_parameters, FLOPs, Lossu, or --map). Losses may be negative (Tao's unigram-
 * normalised loss). Budgets: --budgets, or four spread over the range every vocabulary covers.
 * Errors: CS_EINPUT for missing columns or values, fewer than 3 vocabularies, no budget that
 * every vocabulary reaches. */
int cs_fig_vocab_s5(const cs_figures_opts *o, cs_plot **out);

#endif /* CS_PLOTS_FIG_VOCAB_H */
