/* plots/plot.h: a figure as data — panels with axes, series of numbers, reference lines, a title
 * and a corner note — and the three files ctxscale writes for it beside each other in an output
 * directory:
 *
 *   <id>.dat   the numbers, one gnuplot data block per series (index k), with a header comment
 *              saying what each block and column holds;
 *   <id>.gp    the gnuplot script that draws the figure from <id>.dat; generated, self-contained,
 *              and rerunnable by hand: `cd DIR && gnuplot -c <id>.gp pdf` (png, svg or pdf;
 *              an optional second argument names the output file);
 *   <id>.png, <id>.svg, <id>.pdf   the figure, drawn by running that script once per format
 *              with the terminals this gnuplot offers (pngcairo, else png; svg; pdfcairo).
 *
 * Every text of the figure (title, axis labels, legend entries, the note) is written into the
 * script with cs_gnuplot_write_string (plots/gnuplot.h) and shown `noenhanced`, so no user text
 * is ever gnuplot syntax. Axis tick labels use enhanced text for powers of ten (10^{%L}).
 *
 * A figure is built by the figure programs (plots/figures.h) or by anyone through this API:
 * cs_plot_alloc, panels and axes, series and their rows, a note, then cs_plot_render. The test
 * test_render_small in tests/unit/test_plot.c is a complete example (docs/figures.md quotes it).
 *
 * Tested in tests/unit/test_plot.c; the figures that use it in tests/unit/test_plot_figures.c.
 */
#ifndef CS_PLOTS_PLOT_H
#define CS_PLOTS_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a series is drawn, and the columns of each of its rows. */
typedef enum cs_plot_style {
    CS_PLOT_LINES = 0,       /* x y */
    CS_PLOT_POINTS = 1,      /* x y */
    CS_PLOT_LINESPOINTS = 2, /* x y */
    CS_PLOT_ERRORBARS = 3,   /* x y ylo yhi: points with vertical error bars */
    CS_PLOT_BAND = 4,        /* x ylo yhi: a translucent filled band, drawn under the rest */
    CS_PLOT_BOXES = 5,       /* xlo xhi y: a bar from 0 to y over [xlo, xhi) (histograms) */
} cs_plot_style;

/* Columns per row of a style (2, 2, 2, 4, 3, 3). */
size_t cs_plot_style_ncols(cs_plot_style style);

/* Dash patterns. */
enum {
    CS_PLOT_SOLID = 0,
    CS_PLOT_DASHED = 1,
    CS_PLOT_DOTTED = 2,
    CS_PLOT_DASHDOT = 3,
};

/* The look of a series or line; start from cs_plot_default_look(). */
typedef struct cs_plot_look {
    int32_t rgb;       /* colour 0xRRGGBB; -1 (default): the next colour of cs_plot_palette */
    int dash;          /* CS_PLOT_SOLID (default), _DASHED, _DOTTED, _DASHDOT */
    double width;      /* line width, in gnuplot's units (default 2) */
    int point;         /* gnuplot point type (default 7: filled circle) */
    double point_size; /* default 0.8 */
    double alpha;      /* fill opacity of bands and boxes, (0, 1] (default 0.2 bands, 0.5 boxes:
                          0 picks those) */
} cs_plot_look;

cs_plot_look cs_plot_default_look(void);

/* Colour i of a qualitative palette for series that are just different (Okabe and Ito's eight,
 * then more); wraps around. */
int32_t cs_plot_palette(size_t i);

/* A colour on a sequential ramp for ordered series (budgets, sizes, loss levels): t in [0, 1]
 * from dark blue through green to yellow-orange (viridis-like); clamped. */
int32_t cs_plot_ramp(double t);

/* Position of a panel's legend. */
typedef enum cs_plot_key {
    CS_PLOT_KEY_TOP_RIGHT = 0, /* default */
    CS_PLOT_KEY_TOP_LEFT,
    CS_PLOT_KEY_BOTTOM_RIGHT,
    CS_PLOT_KEY_BOTTOM_LEFT,
    CS_PLOT_KEY_OUTSIDE, /* right of the plot */
    CS_PLOT_KEY_NONE,
} cs_plot_key;

typedef struct cs_plot cs_plot;

/* A new figure with one empty panel. `id` names its files (<id>.dat, <id>.gp, <id>.png, ...):
 * 1 to 32 characters of [A-Za-z0-9_-]. NULL with CS_EINPUT for a bad id ("figure id "x y": ...")
 * or CS_ENOMEM. Free with cs_plot_free. */
cs_plot *cs_plot_alloc(const char *id);

/* Frees the figure. Accepts NULL. */
void cs_plot_free(cs_plot *p);

/* The figure's id. */
const char *cs_plot_id(const cs_plot *p);

/* Sets the figure title (any text, copied; NULL or "" for none). CS_ENOMEM. */
int cs_plot_set_title(cs_plot *p, const char *title);

/* Adds a line to the corner note, the small text in the bottom left corner that says what data
 * and scale produced the figure (printf format; the format itself must be a constant, the
 * values may be any text). CS_ENOMEM. */
int cs_plot_add_note(cs_plot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number of note lines and line i. */
size_t cs_plot_n_notes(const cs_plot *p);
const char *cs_plot_note(const cs_plot *p, size_t i);

/* Image size in pixels (PNG, SVG; the PDF is sized in proportion). Default 1000 x 700 for one
 * panel; values are clamped to 200..4000. */
void cs_plot_set_size(cs_plot *p, int width, int height);

/* Adds a panel (drawn left to right, then in rows: cs_plot_set_layout) with a title (may be
 * NULL); *idx receives its index (panel 0 exists from the start). CS_ENOMEM. */
int cs_plot_add_panel(cs_plot *p, const char *title, size_t *idx);

/* Number of panels. */
size_t cs_plot_n_panels(const cs_plot *p);

/* Sets the panel grid to rows x cols (rows * cols >= panels when rendering). Default: one row
 * for up to 3 panels, else 2 columns. */
void cs_plot_set_layout(cs_plot *p, int rows, int cols);

/* Sets the title of panel `panel` (NULL: none). CS_EINVAL for a bad panel, CS_ENOMEM. */
int cs_plot_set_panel_title(cs_plot *p, size_t panel, const char *title);

/* Sets axis 'x' or 'y' of a panel: its label (with units, e.g. "loss (nats/token)") and whether
 * it is logarithmic. CS_EINVAL for a bad panel or axis, CS_ENOMEM. */
int cs_plot_set_axis(cs_plot *p, size_t panel, char axis, const char *label, bool log);

/* Replaces the label of axis 'x' or 'y' of a panel, keeping its scale. Errors as
 * cs_plot_set_axis. */
int cs_plot_set_axis_label(cs_plot *p, size_t panel, char axis, const char *label);

/* Fixes the range of axis 'x' or 'y' of a panel; NaN leaves that end automatic. CS_EINVAL for a
 * bad panel or axis, or lo >= hi when both are given. */
int cs_plot_set_range(cs_plot *p, size_t panel, char axis, double lo, double hi);

/* Places the legend of a panel. CS_EINVAL for a bad panel. */
int cs_plot_set_key(cs_plot *p, size_t panel, cs_plot_key key);

/* Adds an empty series to a panel, with its legend entry (`title`, any text, copied; NULL: not
 * in the legend) and look (NULL: defaults). *idx receives its index among all series of the
 * figure. CS_EINVAL for a bad panel or style, CS_ENOMEM. */
int cs_plot_add_series(cs_plot *p, size_t panel, cs_plot_style style, const char *title,
                       const cs_plot_look *look, size_t *idx);

/* Appends a row of cs_plot_style_ncols(style) values to series s. NaN values are allowed (the
 * row is then not drawn). CS_EINVAL for a bad series, CS_ENOMEM. */
int cs_plot_add_row(cs_plot *p, size_t s, const double *values);

/* cs_plot_add_row for the two-column styles. */
int cs_plot_add_xy(cs_plot *p, size_t s, double x, double y);

/* Interrupts the line of series s here (the next row starts a new piece). CS_EINVAL, CS_ENOMEM. */
int cs_plot_add_break(cs_plot *p, size_t s);

/* Number of rows of series s (0 for a bad s). */
size_t cs_plot_series_rows(const cs_plot *p, size_t s);

/* Number of series. */
size_t cs_plot_n_series(const cs_plot *p);

/* Legend entry of series s (NULL when it has none or s is out of range), its panel, and row r
 * (cs_plot_style_ncols values; NULL when out of range). For programs that read a figure back
 * (tests, notebooks printing what a figure shows). */
const char *cs_plot_series_title(const cs_plot *p, size_t s);
size_t cs_plot_series_panel(const cs_plot *p, size_t s);
const double *cs_plot_series_row(const cs_plot *p, size_t s, size_t r);

/* The first series whose legend entry starts with `prefix`, or SIZE_MAX. */
size_t cs_plot_find_series(const cs_plot *p, const char *prefix);

/* Number of rules (lines and legend-only entries) and the position, kind ('v', 'h', 'k') and
 * legend entry of rule i (kind 0 when out of range). */
size_t cs_plot_n_rules(const cs_plot *p);
char cs_plot_rule(const cs_plot *p, size_t i, double *at, const char **title);

/* Rows that cannot be drawn (a value not finite, or <= 0 on a log axis), over every series;
 * they are left out of the data file. */
size_t cs_plot_n_bad_rows(const cs_plot *p);

/* A vertical line at x across a panel (kind 'v') or a horizontal one at y ('h'), with a legend
 * entry (`title`, may be NULL) and look; kind 'k' draws no line, only the legend entry (`at` is
 * ignored), to explain a style used by several series. CS_EINVAL for a bad panel or kind, or a
 * value that is not finite; CS_ENOMEM. */
int cs_plot_add_rule(cs_plot *p, size_t panel, char kind, double at, const char *title,
                     const cs_plot_look *look);

/* Writes the data file: a header comment (figure id and title, the corner note; per block, the
 * series' legend entry and its columns; all texts in their visible form), then each series as a
 * block of rows separated from the next by two blank lines (gnuplot's `index`); a break is one
 * blank line; numbers with 17 significant digits. Rows that cannot be drawn (a value not
 * finite, or <= 0 on a log axis) are left out and interrupt the line; a series with no drawable
 * row gets no block. CS_OK, CS_EIO, CS_ENOMEM. */
int cs_plot_write_data(const cs_plot *p, FILE *f);

/* The gnuplot terminal used for each format ("" when the format cannot be drawn). */
typedef struct cs_plot_terms {
    char png[16]; /* "pngcairo" or "png" */
    char svg[16]; /* "svg" */
    char pdf[16]; /* "pdfcairo" */
} cs_plot_terms;

/* Picks the terminals from a GPVAL_TERMINALS list (cs_gnuplot_terminals). */
void cs_plot_pick_terms(const char *available, cs_plot_terms *t);

/* Writes the gnuplot script that draws the figure from "<id>.dat" (in the same directory) with
 * the terminals `t`; its arguments are the format (png, svg or pdf; default png) and the output
 * file (default <id>.<format>). CS_OK, CS_EIO, CS_ENOMEM. */
int cs_plot_write_script(const cs_plot *p, const cs_plot_terms *t, FILE *f);

/* Formats (bit flags). */
enum {
    CS_PLOT_PNG = 1u << 0,
    CS_PLOT_SVG = 1u << 1,
    CS_PLOT_PDF = 1u << 2,
    CS_PLOT_ALL = 7u,
};

/* Parses a comma-separated list of formats ("png,svg,pdf" or "all") into flags. CS_EINPUT
 * naming `what` and the bad entry. */
int cs_plot_parse_formats(const char *spec, const char *what, unsigned *formats);

/* How to render; start from cs_plot_default_render_params(). */
typedef struct cs_plot_render_params {
    unsigned formats; /* CS_PLOT_* flags (default CS_PLOT_ALL) */
    bool force;       /* replace existing files of the figure (default false) */
    FILE *log;        /* where to say which formats were skipped and what gnuplot warned; NULL:
                         nowhere (default) */
} cs_plot_render_params;

cs_plot_render_params cs_plot_default_render_params(void);

/* What cs_plot_render wrote. */
typedef struct cs_plot_render_result {
    unsigned written; /* formats drawn */
    unsigned skipped; /* formats asked for that this gnuplot cannot draw (no terminal) */
} cs_plot_render_result;

/* Writes <id>.dat and <id>.gp into directory `dir` (created, with its parents, when missing)
 * and draws each requested format through gnuplot (plots/gnuplot.h), each into a temporary file
 * renamed into place when gnuplot succeeded. A format whose terminal this gnuplot lacks is
 * skipped with a message on params->log. Nothing is written when any target file exists and
 * !force. `res` may be NULL.
 * Errors: CS_EINPUT — a target exists ("DIR/S1.png: exists; use --force to overwrite"), dir is
 * not a directory, the figure has no series with rows; CS_EIO — dir cannot be created, a file
 * cannot be written, gnuplot cannot be started (the .dat and .gp stay, so the figure can be
 * drawn later) or failed (its messages are in the error); CS_ENOMEM. */
int cs_plot_render(const cs_plot *p, const char *dir, const cs_plot_render_params *params,
                   cs_plot_render_result *res);

#ifdef __cplusplus
}
#endif
#endif /* CS_PLOTS_PLOT_H */
