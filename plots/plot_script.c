/* plots/plot_script.c: the gnuplot script of a figure (cs_plot_write_script, plots/plot.h).
 *
 * The script is generated, not a template: the figure model says which panels, axes and series
 * there are, and this file turns them into gnuplot commands. Every text of the model goes
 * through cs_gnuplot_write_string (octal escapes, shown noenhanced); everything else written
 * here is a constant of this file or a number. Test: tests/unit/test_plot.c.
 */
#include "plots/plot.h"

#include "core/error.h"
#include "core/version.h"
#include "plots/gnuplot.h"
#include "plots/plot_internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

void cs_plot_pick_terms(const char *available, cs_plot_terms *t)
{
    memset(t, 0, sizeof *t);
    if (cs_gnuplot_has_terminal(available, "pngcairo"))
        strcpy(t->png, "pngcairo");
    else if (cs_gnuplot_has_terminal(available, "png"))
        strcpy(t->png, "png");
    if (cs_gnuplot_has_terminal(available, "svg"))
        strcpy(t->svg, "svg");
    if (cs_gnuplot_has_terminal(available, "pdfcairo"))
        strcpy(t->pdf, "pdfcairo");
}

/* The `set terminal` line of one format, or a message and exit when it is missing. */
static void write_terminal(FILE *f, const cs_plot *p, const char *fmt, const char *term)
{
    if (!*term) {
        fprintf(f, "    print \"%s.gp: this gnuplot cannot draw %s (no terminal for it)\"\n", p->id,
                fmt);
        fputs("    exit status 3\n", f);
    } else if (strcmp(term, "pdfcairo") == 0) {
        fprintf(f, "    set terminal pdfcairo size %.2fin,%.2fin enhanced font \"Sans,8\"\n",
                p->width / 100.0, p->height / 100.0);
    } else if (strcmp(term, "png") == 0) {
        fprintf(f, "    set terminal png size %d,%d enhanced background rgb \"white\"\n", p->width,
                p->height);
    } else {
        fprintf(f,
                "    set terminal %s size %d,%d enhanced font \"Sans,11\" background rgb "
                "\"white\"\n",
                term, p->width, p->height);
    }
}

static void write_preamble(FILE *f, const cs_plot *p, const cs_plot_terms *t)
{
    fprintf(f,
            "# %s.gp: figure %s, drawn by ctxscale %s from %s.dat in this directory.\n"
            "# Run: gnuplot -c %s.gp [png|svg|pdf] [OUTPUT]  (default: png into %s.png)\n"
            "# Texts are gnuplot strings with octal escapes (\\0050 is an opening parenthesis)\n"
            "# shown noenhanced: they are displayed as written and never run.\n",
            p->id, p->id, cs_version_string(), p->id, p->id, p->id);
    fputs("set encoding utf8\n"
          "fmt = (ARGC >= 1) ? ARG1 : \"png\"\n",
          f);
    fprintf(f, "out = (ARGC >= 2) ? ARG2 : \"%s.\" . fmt\n", p->id);
    fputs("if (fmt eq \"png\") {\n", f);
    write_terminal(f, p, "png", t->png);
    fputs("} else { if (fmt eq \"svg\") {\n", f);
    write_terminal(f, p, "svg", t->svg);
    fputs("} else { if (fmt eq \"pdf\") {\n", f);
    write_terminal(f, p, "pdf", t->pdf);
    fputs("} else {\n", f);
    fprintf(f, "    print \"%s.gp: the format must be png, svg or pdf\"\n", p->id);
    fputs("    exit status 2\n"
          "} } }\n"
          "set output out\n"
          "set datafile separator whitespace\n"
          "set border lc rgb \"#404040\"\n"
          "set grid xtics ytics lc rgb \"#dddddd\" lw 1 dt 1\n"
          "set tics nomirror out\n",
          f);
}

// ---- axes --------------------------------------------------------------------------------

/* Smallest and largest drawable value on axis x (or y) of a panel over its series. */
static void data_range(const cs_plot *p, size_t panel, bool x, double *lo, double *hi)
{
    size_t k, r, c;

    *lo = INFINITY;
    *hi = -INFINITY;
    for (k = 0; k < p->nseries; k++) {
        const plot_series *s = &p->series[k];
        size_t nc = cs_plot_style_ncols(s->style);

        if (s->panel != panel)
            continue;
        for (r = 0; r < s->nrows; r++) {
            if (!cs_plot_row_ok(p, s, r))
                continue;
            for (c = 0; c < nc; c++) {
                double v = s->v[r * nc + c];

                if (cs_plot_col_is_x(s->style, c) != x)
                    continue;
                *lo = v < *lo ? v : *lo;
                *hi = v > *hi ? v : *hi;
            }
        }
    }
}

/* One end of a range: the fixed value, or * bounded so that the rules [rlo, rhi] stay inside. */
static void write_end(FILE *f, double fixed, double rule, bool low)
{
    if (!isnan(fixed))
        fprintf(f, "%.17g", fixed);
    else if (isfinite(rule))
        fprintf(f, low ? "*<%.17g" : "%.17g<*", rule);
    else
        fputc('*', f);
}

static void write_axis(FILE *f, const cs_plot *p, size_t panel, char name)
{
    const plot_panel *pn = &p->panels[panel];
    const plot_axis *a = name == 'x' ? &pn->x : &pn->y;
    double lo, hi, rlo = INFINITY, rhi = -INFINITY;
    size_t i;

    fprintf(f, "set %clabel ", name);
    cs_gnuplot_write_string(f, a->label ? a->label : "");
    fputs(" noenhanced\n", f);
    data_range(p, panel, name == 'x', &lo, &hi);
    for (i = 0; i < p->nrules; i++) {
        const plot_rule *ru = &p->rules[i];

        if (ru->panel != panel || ru->kind != (name == 'x' ? 'v' : 'h') || (a->log && ru->at <= 0))
            continue;
        rlo = fmin(rlo, a->log ? ru->at / 1.15 : ru->at);
        rhi = fmax(rhi, a->log ? ru->at * 1.15 : ru->at);
    }
    if (a->log) {
        bool decades = isfinite(lo) && fmax(hi, rhi) / fmin(lo, rlo) >= 30.0;

        fprintf(f, "set logscale %c 10\nset format %c \"%s\"\n", name, name,
                decades ? "10^{%L}" : "%g");
    } else {
        fprintf(f, "set format %c \"%%g\"\n", name);
    }
    fprintf(f, "set %crange [", name);
    write_end(f, a->lo, rlo, true);
    fputc(':', f);
    write_end(f, a->hi, rhi, false);
    fputs("]\n", f);
}

static void write_key(FILE *f, cs_plot_key key)
{
    static const char *const where[] = {"top right", "top left", "bottom right", "bottom left",
                                        "outside right top"};

    if (key == CS_PLOT_KEY_NONE) {
        fputs("unset key\n", f);
        return;
    }
    fprintf(f,
            "set key %s opaque box lc rgb \"#cccccc\" samplen 2.5 spacing 1.05 font \",10\" "
            "Left reverse\n",
            where[key]);
}

// ---- plot items ----------------------------------------------------------------------------

static int gp_dash(int dash)
{
    return dash + 1; /* gnuplot's dashtypes 1 solid, 2 dashed, 3 dotted, 4 dash-dot */
}

static void write_title(FILE *f, const char *title)
{
    if (title) {
        fputs(" title ", f);
        cs_gnuplot_write_string(f, title);
        fputs(" noenhanced", f);
    } else {
        fputs(" notitle", f);
    }
}

/* The `using ... with ...` of one series. */
static void write_style(FILE *f, const plot_series *s, bool xlog)
{
    const cs_plot_look *l = &s->look;
    char rgb[8];

    cs_plot_rgb_string(l->rgb, rgb);
    switch (s->style) {
    case CS_PLOT_LINES:
        fprintf(f, "using 1:2 with lines lw %g dt %d lc rgb \"%s\"", l->width, gp_dash(l->dash),
                rgb);
        break;
    case CS_PLOT_POINTS:
        fprintf(f, "using 1:2 with points pt %d ps %g lc rgb \"%s\"", l->point, l->point_size, rgb);
        break;
    case CS_PLOT_LINESPOINTS:
        fprintf(f, "using 1:2 with linespoints lw %g dt %d pt %d ps %g lc rgb \"%s\"", l->width,
                gp_dash(l->dash), l->point, l->point_size, rgb);
        break;
    case CS_PLOT_ERRORBARS:
        fprintf(f, "using 1:2:3:4 with yerrorbars lw %g pt %d ps %g lc rgb \"%s\"", l->width * 0.6,
                l->point, l->point_size, rgb);
        break;
    case CS_PLOT_BAND:
        fprintf(f, "using 1:2:3 with filledcurves lc rgb \"%s\" fs transparent solid %g noborder",
                rgb, l->alpha);
        break;
    case CS_PLOT_BOXES:
        fprintf(f,
                "using (%s):3:1:2:(0):3 with boxxyerror lc rgb \"%s\" fs transparent solid %g "
                "border",
                xlog ? "sqrt($1*$2)" : "($1+$2)/2", rgb, l->alpha);
        break;
    }
}

/* Drawing order: bands, then boxes, then everything else, each in the order added. */
static int draw_rank(cs_plot_style st)
{
    return st == CS_PLOT_BAND ? 0 : st == CS_PLOT_BOXES ? 1 : 2;
}

/* The plot command of a panel; returns the number of items (0: nothing to draw). */
static size_t write_plot(FILE *f, const cs_plot *p, size_t panel)
{
    size_t k, i, n = 0;
    int rank;

    for (rank = 0; rank < 3; rank++) {
        for (k = 0; k < p->nseries; k++) {
            const plot_series *s = &p->series[k];
            size_t block = cs_plot_block_index(p, k);

            if (s->panel != panel || draw_rank(s->style) != rank || block == SIZE_MAX)
                continue;
            fprintf(f, "%s\"%s.dat\" index %zu ", n ? ", \\\n     " : "plot ", p->id, block);
            write_style(f, s, p->panels[panel].x.log);
            write_title(f, s->title);
            n++;
        }
    }
    for (i = 0; i < p->nrules && n > 0; i++) {
        const plot_rule *ru = &p->rules[i];
        char rgb[8];

        if (ru->panel != panel || !ru->title)
            continue;
        cs_plot_rgb_string(ru->look.rgb, rgb);
        fprintf(f, ", \\\n     keyentry with lines lw %g dt %d lc rgb \"%s\"", ru->look.width,
                gp_dash(ru->look.dash), rgb);
        write_title(f, ru->title);
    }
    if (n > 0)
        fputc('\n', f);
    return n;
}

static void write_rules(FILE *f, const cs_plot *p, size_t panel)
{
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const plot_rule *ru = &p->rules[i];
        char rgb[8];

        if (ru->panel != panel || ru->kind == 'k')
            continue;
        cs_plot_rgb_string(ru->look.rgb, rgb);
        if (ru->kind == 'v')
            fprintf(f, "set arrow from first %.17g, graph 0 to first %.17g, graph 1", ru->at,
                    ru->at);
        else
            fprintf(f, "set arrow from graph 0, first %.17g to graph 1, first %.17g", ru->at,
                    ru->at);
        fprintf(f, " nohead lw %g dt %d lc rgb \"%s\" front\n", ru->look.width,
                gp_dash(ru->look.dash), rgb);
    }
}

// ---- panels and the whole script -------------------------------------------------------------

/* Panel grid: the one set, or one row of up to 3 panels, else 2 columns. */
static void layout(const cs_plot *p, int *rows, int *cols)
{
    int n = (int)p->npanels;

    *cols = p->cols > 0 ? p->cols : (n <= 3 ? n : 2);
    *rows = p->rows > 0 ? p->rows : (n + *cols - 1) / *cols;
    if (*rows * *cols < n)
        *rows = (n + *cols - 1) / *cols;
}

/* Appends a copy of the n bytes at s (with `indent` spaces before them) to *lines. */
static int push_line(char ***lines, size_t *n, const char *s, size_t len, size_t indent)
{
    char **nl = realloc(*lines, (*n + 1) * sizeof *nl), *c;

    if (!nl)
        return cs_fail(CS_ENOMEM, "out of memory wrapping the note");
    *lines = nl;
    if (!(c = malloc(indent + len + 1)))
        return cs_fail(CS_ENOMEM, "out of memory wrapping the note");
    memset(c, ' ', indent);
    memcpy(c + indent, s, len);
    c[indent + len] = '\0';
    nl[(*n)++] = c;
    return CS_OK;
}

/* The note lines cut at spaces so that each fits the image width (about 6.4 pixels per
 * character of the note's 9-point font); continuation lines are indented. *lines (n entries)
 * is malloc'ed, each entry too. */
static int wrap_notes(const cs_plot *p, char ***lines, size_t *n)
{
    size_t maxc = (size_t)((p->width - 16) / 6.4), k;
    int st = CS_OK;

    *lines = NULL;
    *n = 0;
    for (k = 0; k < p->nnotes && st == CS_OK; k++) {
        const char *s = p->notes[k];
        size_t indent = 0;

        do {
            size_t len = strlen(s), cut = len, room = maxc - indent;

            if (len > room) {
                for (cut = room; cut > 0 && s[cut] != ' '; cut--)
                    ;
                cut = cut == 0 ? len : cut; /* no space to cut at: leave it long */
            }
            st = push_line(lines, n, s, cut, indent);
            for (s += cut; *s == ' '; s++)
                ;
            indent = 4;
        } while (*s && st == CS_OK);
    }
    return st;
}

static void free_lines(char **lines, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

static void write_note(FILE *f, const cs_plot *p, char **lines, size_t n)
{
    double line = 15.0 / p->height; /* one note line, as a fraction of the image height */

    if (n == 0)
        return;
    fputs("set label 1000 ", f);
    cs_gnuplot_write_lines(f, (const char *const *)lines, n);
    fprintf(f, " at screen 0.008, %.4f left front font \",9\" tc rgb \"#505050\" noenhanced\n",
            0.006 + ((double)n - 0.5) * line);
}

static void write_panel(FILE *f, const cs_plot *p, size_t panel, bool bottom_row, char **notes,
                        size_t nnotes)
{
    const plot_panel *pn = &p->panels[panel];

    fprintf(f, "\n# panel %zu\n", panel + 1);
    fputs("unset arrow\nunset label\nunset logscale\nset autoscale\n", f);
    if (pn->title) {
        fputs("set title ", f);
        cs_gnuplot_write_string(f, pn->title);
        fputs(" noenhanced\n", f);
    } else {
        fputs("unset title\n", f);
    }
    write_axis(f, p, panel, 'x');
    write_axis(f, p, panel, 'y');
    write_key(f, pn->key);
    if (bottom_row)
        fprintf(f, "set bmargin %d\n", 4 + (int)ceil((double)nnotes * 0.9));
    else
        fputs("set bmargin\n", f);
    if (panel == 0)
        write_note(f, p, notes, nnotes);
    write_rules(f, p, panel);
    if (write_plot(f, p, panel) == 0)
        fputs("unset logscale\nset xrange [0:1]\nset yrange [0:1]\n"
              "set label 999 \"no data\" at graph 0.5, 0.5 center\nplot NaN notitle\n",
              f);
}

int cs_plot_write_script(const cs_plot *p, const cs_plot_terms *t, FILE *f)
{
    int rows, cols, st;
    char **notes;
    size_t i, nnotes;

    if ((st = wrap_notes(p, &notes, &nnotes))) {
        free_lines(notes, nnotes);
        return st;
    }
    write_preamble(f, p, t);
    layout(p, &rows, &cols);
    fprintf(f, "set multiplot layout %d,%d", rows, cols);
    if (p->title) {
        fputs(" title ", f);
        cs_gnuplot_write_string(f, p->title);
        fputs(" noenhanced font \",13\"", f);
    }
    fputc('\n', f);
    for (i = 0; i < p->npanels; i++)
        write_panel(f, p, i, (int)(i / (size_t)cols) == rows - 1, notes, nnotes);
    fputs("\nunset multiplot\nset output\n", f);
    free_lines(notes, nnotes);
    if (ferror(f))
        return cs_fail(CS_EIO, "writing the script of figure %s: %s", p->id, strerror(errno));
    return CS_OK;
}
