/* plots/plot_internal.h: the insides of a cs_plot, shared by plots/plot.c (the model and the
 * data file), plots/plot_script.c (the gnuplot script) and plots/plot_render.c (files and
 * gnuplot runs). Not installed API. Tested through tests/unit/test_plot.c.
 */
#ifndef CS_PLOTS_PLOT_INTERNAL_H
#define CS_PLOTS_PLOT_INTERNAL_H

#include "plots/plot.h"

#include <stdbool.h>
#include <stddef.h>

#define PLOT_ID_MAX 32

typedef struct plot_axis {
    char *label; /* NULL: none */
    bool log;
    double lo, hi; /* NaN: automatic */
} plot_axis;

typedef struct plot_panel {
    char *title; /* NULL: none */
    plot_axis x, y;
    cs_plot_key key;
} plot_panel;

typedef struct plot_series {
    size_t panel;
    cs_plot_style style;
    char *title; /* NULL: not in the legend */
    cs_plot_look look;
    double *v;    /* (nrows, ncols) row-major */
    size_t nrows; /* rows */
    size_t cap;   /* rows allocated */
    size_t *brk;  /* (nbrk) row indices before which the line is interrupted, increasing */
    size_t nbrk;
} plot_series;

typedef struct plot_rule {
    size_t panel;
    char kind; /* 'v', 'h' or 'k' (legend entry only) */
    double at;
    char *title; /* NULL: not in the legend */
    cs_plot_look look;
} plot_rule;

struct cs_plot {
    char id[PLOT_ID_MAX + 1];
    char *title;
    char **notes; /* (nnotes) */
    size_t nnotes;
    int width, height; /* pixels */
    int rows, cols;    /* 0: automatic */
    plot_panel *panels;
    size_t npanels;
    plot_series *series;
    size_t nseries;
    plot_rule *rules;
    size_t nrules;
    size_t next_color; /* palette index of the next automatic colour */
};

/* Whether column c of a row of `style` is on the x axis (else on y). */
bool cs_plot_col_is_x(cs_plot_style style, size_t c);

/* Whether row r of series s can be drawn: every value finite, and > 0 on a log axis. */
bool cs_plot_row_ok(const cs_plot *p, const plot_series *s, size_t r);

/* Data block index of series k in the data file (series without drawable rows have none:
 * SIZE_MAX). */
size_t cs_plot_block_index(const cs_plot *p, size_t k);

/* Writes "#rrggbb" into buf. */
void cs_plot_rgb_string(int32_t rgb, char buf[8]);

#endif /* CS_PLOTS_PLOT_INTERNAL_H */
