/* plots/plot.c: the figure model (panels, axes, series, rules, title, note) and its data file
 * (plots/plot.h). The script is written by plots/plot_script.c, the files and gnuplot runs by
 * plots/plot_render.c. Test: tests/unit/test_plot.c.
 */
#include "plots/plot.h"

#include "core/error.h"
#include "core/version.h"
#include "plots/gnuplot.h"
#include "plots/plot_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t cs_plot_style_ncols(cs_plot_style style)
{
    switch (style) {
    case CS_PLOT_ERRORBARS: return 4;
    case CS_PLOT_BAND:
    case CS_PLOT_BOXES: return 3;
    default: return 2;
    }
}

bool cs_plot_col_is_x(cs_plot_style style, size_t c)
{
    return c == 0 || (style == CS_PLOT_BOXES && c == 1);
}

cs_plot_look cs_plot_default_look(void)
{
    cs_plot_look l = {-1, CS_PLOT_SOLID, 2.0, 7, 0.8, 0.0};

    return l;
}

int32_t cs_plot_palette(size_t i)
{
    /* Okabe & Ito (2008) without yellow, which vanishes on white, then four of Tol's. */
    static const int32_t pal[] = {0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7, 0xe69f00, 0x56b4e9,
                                  0x000000, 0x882255, 0x44aa99, 0x999933, 0x6699cc, 0x661100};

    return pal[i % (sizeof pal / sizeof pal[0])];
}

int32_t cs_plot_ramp(double t)
{
    /* Anchors of viridis at t = 0, 0.25, 0.5, 0.75, 1, interpolated in RGB; the last anchor is
     * an orange instead of viridis' pale yellow so that thin lines stay visible on white. */
    static const int anchors[5][3] = {
        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {230, 150, 20}};
    double u;
    size_t k;
    int rgb[3], c;

    if (!(t > 0.0))
        t = 0.0;
    if (t > 1.0)
        t = 1.0;
    u = t * 4.0;
    k = u >= 4.0 ? 3 : (size_t)u;
    u -= (double)k;
    for (c = 0; c < 3; c++)
        rgb[c] = (int)lround(anchors[k][c] + u * (anchors[k + 1][c] - anchors[k][c]));
    return (int32_t)((rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
}

void cs_plot_rgb_string(int32_t rgb, char buf[8])
{
    snprintf(buf, 8, "#%06x", (unsigned)(rgb & 0xffffff));
}

// ---- construction ----------------------------------------------------------------------------

static char *dup_or_null(const char *s)
{
    return (s && *s) ? strdup(s) : NULL;
}

static bool id_ok(const char *id)
{
    size_t i, n = id ? strlen(id) : 0;

    if (n == 0 || n > PLOT_ID_MAX)
        return false;
    for (i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '_' || id[i] == '-'))
            return false;
    return true;
}

static void panel_init(plot_panel *pn)
{
    memset(pn, 0, sizeof *pn);
    pn->x.lo = pn->x.hi = pn->y.lo = pn->y.hi = NAN;
    pn->key = CS_PLOT_KEY_TOP_RIGHT;
}

cs_plot *cs_plot_alloc(const char *id)
{
    cs_plot *p;

    if (!id_ok(id)) {
        cs_fail(CS_EINPUT,
                "figure id \"%s\": expected 1 to %d characters of A-Z, a-z, 0-9, _ and -",
                id ? id : "(null)", PLOT_ID_MAX);
        return NULL;
    }
    if (!(p = calloc(1, sizeof *p)) || !(p->panels = malloc(sizeof *p->panels))) {
        free(p);
        cs_fail(CS_ENOMEM, "out of memory for figure %s", id);
        return NULL;
    }
    strcpy(p->id, id);
    p->width = 1000;
    p->height = 700;
    p->npanels = 1;
    panel_init(&p->panels[0]);
    return p;
}

static void series_free(plot_series *s)
{
    free(s->title);
    free(s->v);
    free(s->brk);
}

void cs_plot_free(cs_plot *p)
{
    size_t i;

    if (!p)
        return;
    free(p->title);
    for (i = 0; i < p->nnotes; i++)
        free(p->notes[i]);
    free(p->notes);
    for (i = 0; i < p->npanels; i++) {
        free(p->panels[i].title);
        free(p->panels[i].x.label);
        free(p->panels[i].y.label);
    }
    free(p->panels);
    for (i = 0; i < p->nseries; i++)
        series_free(&p->series[i]);
    free(p->series);
    for (i = 0; i < p->nrules; i++)
        free(p->rules[i].title);
    free(p->rules);
    free(p);
}

const char *cs_plot_id(const cs_plot *p)
{
    return p->id;
}

/* Replaces *dst by a copy of src (NULL or "": none). */
static int set_text(char **dst, const char *src)
{
    char *c = dup_or_null(src);

    if (src && *src && !c)
        return cs_fail(CS_ENOMEM, "out of memory for a figure text");
    free(*dst);
    *dst = c;
    return CS_OK;
}

int cs_plot_set_title(cs_plot *p, const char *title)
{
    return set_text(&p->title, title);
}

int cs_plot_add_note(cs_plot *p, const char *fmt, ...)
{
    va_list ap;
    char *line = NULL, **n;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0 || !(line = malloc((size_t)len + 1)))
        return cs_fail(CS_ENOMEM, "out of memory for a figure note");
    va_start(ap, fmt);
    vsnprintf(line, (size_t)len + 1, fmt, ap);
    va_end(ap);
    if (!(n = realloc(p->notes, (p->nnotes + 1) * sizeof *n))) {
        free(line);
        return cs_fail(CS_ENOMEM, "out of memory for a figure note");
    }
    p->notes = n;
    p->notes[p->nnotes++] = line;
    return CS_OK;
}

size_t cs_plot_n_notes(const cs_plot *p)
{
    return p->nnotes;
}

const char *cs_plot_note(const cs_plot *p, size_t i)
{
    return i < p->nnotes ? p->notes[i] : NULL;
}

static int clamp_px(int v)
{
    return v < 200 ? 200 : v > 4000 ? 4000 : v;
}

void cs_plot_set_size(cs_plot *p, int width, int height)
{
    p->width = clamp_px(width);
    p->height = clamp_px(height);
}

int cs_plot_add_panel(cs_plot *p, const char *title, size_t *idx)
{
    plot_panel *np = realloc(p->panels, (p->npanels + 1) * sizeof *np);

    if (!np)
        return cs_fail(CS_ENOMEM, "out of memory for a panel");
    p->panels = np;
    panel_init(&np[p->npanels]);
    if (set_text(&np[p->npanels].title, title))
        return CS_ENOMEM;
    if (idx)
        *idx = p->npanels;
    p->npanels++;
    return CS_OK;
}

size_t cs_plot_n_panels(const cs_plot *p)
{
    return p->npanels;
}

void cs_plot_set_layout(cs_plot *p, int rows, int cols)
{
    p->rows = rows > 0 ? rows : 0;
    p->cols = cols > 0 ? cols : 0;
}

int cs_plot_set_panel_title(cs_plot *p, size_t panel, const char *title)
{
    if (panel >= p->npanels)
        return cs_fail(CS_EINVAL, "figure %s: no panel %zu", p->id, panel);
    return set_text(&p->panels[panel].title, title);
}

static plot_axis *axis_of(cs_plot *p, size_t panel, char axis)
{
    if (panel >= p->npanels || (axis != 'x' && axis != 'y')) {
        cs_fail(CS_EINVAL, "figure %s: no axis %c of panel %zu", p->id, axis, panel);
        return NULL;
    }
    return axis == 'x' ? &p->panels[panel].x : &p->panels[panel].y;
}

int cs_plot_set_axis(cs_plot *p, size_t panel, char axis, const char *label, bool log)
{
    plot_axis *a = axis_of(p, panel, axis);

    if (!a)
        return CS_EINVAL;
    a->log = log;
    return set_text(&a->label, label);
}

int cs_plot_set_axis_label(cs_plot *p, size_t panel, char axis, const char *label)
{
    plot_axis *a = axis_of(p, panel, axis);

    return a ? set_text(&a->label, label) : CS_EINVAL;
}

int cs_plot_set_range(cs_plot *p, size_t panel, char axis, double lo, double hi)
{
    plot_axis *a = axis_of(p, panel, axis);

    if (!a)
        return CS_EINVAL;
    if (!isnan(lo) && !isnan(hi) && !(lo < hi))
        return cs_fail(CS_EINVAL, "figure %s: range %g .. %g is empty", p->id, lo, hi);
    a->lo = lo;
    a->hi = hi;
    return CS_OK;
}

int cs_plot_set_key(cs_plot *p, size_t panel, cs_plot_key key)
{
    if (panel >= p->npanels || key < CS_PLOT_KEY_TOP_RIGHT || key > CS_PLOT_KEY_NONE)
        return cs_fail(CS_EINVAL, "figure %s: bad key for panel %zu", p->id, panel);
    p->panels[panel].key = key;
    return CS_OK;
}

/* The look to store: defaults filled in, the next palette colour for rgb -1. */
static cs_plot_look fill_look(cs_plot *p, const cs_plot_look *look, cs_plot_style style)
{
    cs_plot_look l = look ? *look : cs_plot_default_look();

    if (l.rgb < 0)
        l.rgb = cs_plot_palette(p->next_color++);
    if (!(l.width > 0.0))
        l.width = 2.0;
    if (!(l.point_size > 0.0))
        l.point_size = 0.8;
    if (l.point <= 0)
        l.point = 7;
    if (!(l.alpha > 0.0) || l.alpha > 1.0)
        l.alpha = style == CS_PLOT_BOXES ? 0.5 : 0.2;
    if (l.dash < CS_PLOT_SOLID || l.dash > CS_PLOT_DASHDOT)
        l.dash = CS_PLOT_SOLID;
    return l;
}

int cs_plot_add_series(cs_plot *p, size_t panel, cs_plot_style style, const char *title,
                       const cs_plot_look *look, size_t *idx)
{
    plot_series *ns;

    if (panel >= p->npanels || style < CS_PLOT_LINES || style > CS_PLOT_BOXES)
        return cs_fail(CS_EINVAL, "figure %s: bad panel %zu or style %d", p->id, panel, style);
    if (!(ns = realloc(p->series, (p->nseries + 1) * sizeof *ns)))
        return cs_fail(CS_ENOMEM, "out of memory for a series");
    p->series = ns;
    ns += p->nseries;
    memset(ns, 0, sizeof *ns);
    ns->panel = panel;
    ns->style = style;
    ns->look = fill_look(p, look, style);
    if (set_text(&ns->title, title))
        return CS_ENOMEM;
    if (idx)
        *idx = p->nseries;
    p->nseries++;
    return CS_OK;
}

int cs_plot_add_row(cs_plot *p, size_t s, const double *values)
{
    plot_series *se;
    size_t nc;

    if (s >= p->nseries)
        return cs_fail(CS_EINVAL, "figure %s: no series %zu", p->id, s);
    se = &p->series[s];
    nc = cs_plot_style_ncols(se->style);
    if (se->nrows == se->cap) {
        size_t cap = se->cap ? 2 * se->cap : 16;
        double *v = realloc(se->v, cap * nc * sizeof *v);

        if (!v)
            return cs_fail(CS_ENOMEM, "out of memory for figure data");
        se->v = v;
        se->cap = cap;
    }
    memcpy(se->v + se->nrows * nc, values, nc * sizeof *values);
    se->nrows++;
    return CS_OK;
}

int cs_plot_add_xy(cs_plot *p, size_t s, double x, double y)
{
    double v[2] = {x, y};

    if (s < p->nseries && cs_plot_style_ncols(p->series[s].style) != 2)
        return cs_fail(CS_EINVAL, "figure %s: series %zu has more than two columns", p->id, s);
    return cs_plot_add_row(p, s, v);
}

int cs_plot_add_break(cs_plot *p, size_t s)
{
    plot_series *se;
    size_t *b;

    if (s >= p->nseries)
        return cs_fail(CS_EINVAL, "figure %s: no series %zu", p->id, s);
    se = &p->series[s];
    if (se->nrows == 0 || (se->nbrk > 0 && se->brk[se->nbrk - 1] == se->nrows))
        return CS_OK;
    if (!(b = realloc(se->brk, (se->nbrk + 1) * sizeof *b)))
        return cs_fail(CS_ENOMEM, "out of memory for figure data");
    se->brk = b;
    b[se->nbrk++] = se->nrows;
    return CS_OK;
}

size_t cs_plot_series_rows(const cs_plot *p, size_t s)
{
    return s < p->nseries ? p->series[s].nrows : 0;
}

size_t cs_plot_n_series(const cs_plot *p)
{
    return p->nseries;
}

const char *cs_plot_series_title(const cs_plot *p, size_t s)
{
    return s < p->nseries ? p->series[s].title : NULL;
}

size_t cs_plot_series_panel(const cs_plot *p, size_t s)
{
    return s < p->nseries ? p->series[s].panel : SIZE_MAX;
}

const double *cs_plot_series_row(const cs_plot *p, size_t s, size_t r)
{
    if (s >= p->nseries || r >= p->series[s].nrows)
        return NULL;
    return p->series[s].v + r * cs_plot_style_ncols(p->series[s].style);
}

size_t cs_plot_find_series(const cs_plot *p, const char *prefix)
{
    size_t k, n = strlen(prefix);

    for (k = 0; k < p->nseries; k++)
        if (p->series[k].title && strncmp(p->series[k].title, prefix, n) == 0)
            return k;
    return SIZE_MAX;
}

size_t cs_plot_n_rules(const cs_plot *p)
{
    return p->nrules;
}

char cs_plot_rule(const cs_plot *p, size_t i, double *at, const char **title)
{
    if (i >= p->nrules)
        return 0;
    if (at)
        *at = p->rules[i].at;
    if (title)
        *title = p->rules[i].title;
    return p->rules[i].kind;
}

int cs_plot_add_rule(cs_plot *p, size_t panel, char kind, double at, const char *title,
                     const cs_plot_look *look)
{
    plot_rule *nr;

    if (kind == 'k')
        at = 0.0;
    if (panel >= p->npanels || (kind != 'v' && kind != 'h' && kind != 'k') || !isfinite(at))
        return cs_fail(CS_EINVAL, "figure %s: bad rule (panel %zu, kind %c, at %g)", p->id, panel,
                       kind, at);
    if (!(nr = realloc(p->rules, (p->nrules + 1) * sizeof *nr)))
        return cs_fail(CS_ENOMEM, "out of memory for a rule");
    p->rules = nr;
    nr += p->nrules;
    memset(nr, 0, sizeof *nr);
    nr->panel = panel;
    nr->kind = kind;
    nr->at = at;
    nr->look = fill_look(p, look, CS_PLOT_LINES);
    if (set_text(&nr->title, title))
        return CS_ENOMEM;
    p->nrules++;
    return CS_OK;
}

// ---- the data file ---------------------------------------------------------------------------

bool cs_plot_row_ok(const cs_plot *p, const plot_series *s, size_t r)
{
    const plot_panel *pn = &p->panels[s->panel];
    size_t c, nc = cs_plot_style_ncols(s->style);
    const double *v = s->v + r * nc;

    for (c = 0; c < nc; c++) {
        bool log = cs_plot_col_is_x(s->style, c) ? pn->x.log : pn->y.log;

        if (!isfinite(v[c]) || (log && !(v[c] > 0.0)))
            return false;
    }
    return true;
}

static bool series_drawable(const cs_plot *p, const plot_series *s)
{
    size_t r;

    for (r = 0; r < s->nrows; r++)
        if (cs_plot_row_ok(p, s, r))
            return true;
    return false;
}

size_t cs_plot_block_index(const cs_plot *p, size_t k)
{
    size_t i, b = 0;

    if (!series_drawable(p, &p->series[k]))
        return SIZE_MAX;
    for (i = 0; i < k; i++)
        b += series_drawable(p, &p->series[i]);
    return b;
}

size_t cs_plot_n_bad_rows(const cs_plot *p)
{
    size_t k, r, n = 0;

    for (k = 0; k < p->nseries; k++)
        for (r = 0; r < p->series[k].nrows; r++)
            n += !cs_plot_row_ok(p, &p->series[k], r);
    return n;
}

static const char *const col_names[][4] = {
    {"x", "y", NULL, NULL},        {"x", "y", NULL, NULL},         {"x", "y", NULL, NULL},
    {"x", "y", "y_low", "y_high"}, {"x", "y_low", "y_high", NULL}, {"x_low", "x_high", "y", NULL},
};

/* The header comment of one block: its number, legend entry (visible form) and columns. */
static int write_block_header(FILE *f, const cs_plot *p, const plot_series *s, size_t block)
{
    const plot_panel *pn = &p->panels[s->panel];
    char *t = cs_gnuplot_visible(s->title ? s->title : "(not in the legend)");
    size_t c;

    if (!t)
        return CS_ENOMEM;
    fprintf(f, "# block %zu: %s; columns:", block, t);
    for (c = 0; c < cs_plot_style_ncols(s->style); c++) {
        const plot_axis *a = cs_plot_col_is_x(s->style, c) ? &pn->x : &pn->y;
        char *lab = cs_gnuplot_visible(a->label ? a->label : "");

        if (!lab) {
            free(t);
            return CS_ENOMEM;
        }
        fprintf(f, " %s%s%s%s", col_names[s->style][c], *lab ? " [" : "", lab, *lab ? "]" : "");
        free(lab);
    }
    fputc('\n', f);
    free(t);
    return CS_OK;
}

/* The rows of one block; undrawable rows and breaks become one blank line. */
static void write_block_rows(FILE *f, const cs_plot *p, const plot_series *s)
{
    size_t r, c, b = 0, nc = cs_plot_style_ncols(s->style);
    bool blank = true; /* the last line written was blank (or nothing yet) */

    for (r = 0; r < s->nrows; r++) {
        bool brk = b < s->nbrk && s->brk[b] == r;

        b += brk;
        if ((brk || !cs_plot_row_ok(p, s, r)) && !blank) {
            fputc('\n', f);
            blank = true;
        }
        if (!cs_plot_row_ok(p, s, r))
            continue;
        for (c = 0; c < nc; c++)
            fprintf(f, "%s%.17g", c ? " " : "", s->v[r * nc + c]);
        fputc('\n', f);
        blank = false;
    }
}

int cs_plot_write_data(const cs_plot *p, FILE *f)
{
    char *title = cs_gnuplot_visible(p->title ? p->title : "");
    size_t k, block = 0;
    int st = CS_OK;

    if (!title)
        return CS_ENOMEM;
    fprintf(f, "# %s.dat: data of figure %s, %s, written by ctxscale %s.\n", p->id, p->id, title,
            cs_version_string());
    fprintf(f,
            "# One block per series, blocks separated by two blank lines (gnuplot `index N`);\n"
            "# a single blank line interrupts a line. Drawn by %s.gp in this directory.\n",
            p->id);
    free(title);
    for (k = 0; k < p->nnotes; k++) {
        char *v = cs_gnuplot_visible(p->notes[k]);

        if (!v)
            return CS_ENOMEM;
        fprintf(f, "# note: %s\n", v);
        free(v);
    }
    for (k = 0; k < p->nseries && st == CS_OK; k++) {
        const plot_series *s = &p->series[k];

        if (!series_drawable(p, s))
            continue;
        if (block > 0)
            fputs("\n\n", f);
        st = write_block_header(f, p, s, block);
        write_block_rows(f, p, s);
        block++;
    }
    if (st == CS_OK && ferror(f))
        st = cs_fail(CS_EIO, "writing the data of figure %s: %s", p->id, strerror(errno));
    return st;
}
