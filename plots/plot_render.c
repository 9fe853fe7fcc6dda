/* plots/plot_render.c: writing a figure's files and drawing it through gnuplot
 * (cs_plot_render, plots/plot.h): <id>.dat and <id>.gp through core/afile.h, then one gnuplot
 * run per format into a temporary file that is moved into place only when gnuplot succeeded.
 * Test: tests/unit/test_plot.c.
 */
#include "plots/plot.h"

#include "core/afile.h"
#include "core/error.h"
#include "plots/gnuplot.h"
#include "plots/plot_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    unsigned flag;
    const char *name;
} formats[] = {{CS_PLOT_PNG, "png"}, {CS_PLOT_SVG, "svg"}, {CS_PLOT_PDF, "pdf"}};

#define NFORMATS (sizeof formats / sizeof formats[0])

cs_plot_render_params cs_plot_default_render_params(void)
{
    cs_plot_render_params rp = {CS_PLOT_ALL, false, NULL};

    return rp;
}

/* The flag of one format name (case-sensitive), or 0. */
static unsigned format_flag(const char *s, size_t n)
{
    size_t i;

    if (n == 3 && strncmp(s, "all", 3) == 0)
        return CS_PLOT_ALL;
    for (i = 0; i < NFORMATS; i++)
        if (strlen(formats[i].name) == n && strncmp(s, formats[i].name, n) == 0)
            return formats[i].flag;
    return 0;
}

int cs_plot_parse_formats(const char *spec, const char *what, unsigned *out)
{
    const char *p = spec;
    unsigned all = 0;

    while (1) {
        size_t n = strcspn(p, ",");
        unsigned f = format_flag(p, n);

        if (!f)
            return cs_fail(CS_EINPUT,
                           "%s: expected png, svg, pdf or all (comma-separated), got "
                           "\"%.*s\"",
                           what, (int)n, p);
        all |= f;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    *out = all;
    return CS_OK;
}

// ---- files -------------------------------------------------------------------------------

/* Creates dir and its missing parents (mkdir -p). */
static int make_dirs(const char *dir)
{
    char *d = strdup(dir), *s;
    struct stat sb;
    int st = CS_OK;

    if (!d)
        return cs_fail(CS_ENOMEM, "out of memory");
    if (!*d) {
        free(d);
        return cs_fail(CS_EINPUT, "output directory: expected a path, got \"\"");
    }
    for (s = d + 1; st == CS_OK; s++) {
        char c = *s;

        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(d, 0777) != 0 && errno != EEXIST)
            st = cs_fail(CS_EIO, "%s: cannot create the directory: %s", d, strerror(errno));
        *s = c;
        if (c == '\0')
            break;
    }
    free(d);
    if (st == CS_OK && (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
        st = cs_fail(CS_EINPUT, "%s: not a directory", dir);
    return st;
}

/* "dir/name" or "dir/.name.tmp.PID" (malloc'ed; NULL with CS_ENOMEM). */
static char *path_in(const char *dir, const char *id, const char *ext, bool tmp)
{
    size_t n = strlen(dir) + strlen(id) + strlen(ext) + 40;
    char *s = malloc(n);

    if (!s) {
        cs_fail(CS_ENOMEM, "out of memory");
        return NULL;
    }
    if (tmp)
        snprintf(s, n, "%s/.%s.%s.tmp.%ld", dir, id, ext, (long)getpid());
    else
        snprintf(s, n, "%s/%s.%s", dir, id, ext);
    return s;
}

/* CS_EINPUT when any file the render would write exists (and !force). */
static int check_targets(const cs_plot *p, const char *dir, unsigned want, bool force)
{
    static const char *const always[] = {"dat", "gp"};
    struct stat sb;
    size_t i;
    int st = CS_OK;

    for (i = 0; i < 2 + NFORMATS && st == CS_OK && !force; i++) {
        const char *ext = i < 2 ? always[i] : formats[i - 2].name;
        char *path;

        if (i >= 2 && !(want & formats[i - 2].flag))
            continue;
        if (!(path = path_in(dir, p->id, ext, false)))
            return CS_ENOMEM;
        if (lstat(path, &sb) == 0)
            st = cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", path);
        free(path);
    }
    return st;
}

/* Writes <id>.dat (script false) or <id>.gp (true) atomically. */
static int write_file(const cs_plot *p, const char *dir, const cs_plot_terms *t, bool script,
                      bool force)
{
    char *path = path_in(dir, p->id, script ? "gp" : "dat", false);
    cs_afile *af = NULL;
    int st;

    if (!path)
        return CS_ENOMEM;
    if ((st = cs_afile_open(path, force, &af)) == CS_OK) {
        if (script)
            st = cs_plot_write_script(p, t, cs_afile_stream(af));
        else
            st = cs_plot_write_data(p, cs_afile_stream(af));
        if (st == CS_OK)
            st = cs_afile_commit(af);
        else
            cs_afile_abort(af);
    }
    free(path);
    return st;
}

// ---- drawing -----------------------------------------------------------------------------

/* Moves tmp to final: rename when forced, else link + unlink so that a file that appeared at
 * final meanwhile is kept. */
static int move_into_place(const char *tmp, const char *final, bool force)
{
    if (force ? rename(tmp, final) == 0 : link(tmp, final) == 0) {
        if (!force)
            unlink(tmp);
        return CS_OK;
    }
    if (!force && errno == EEXIST)
        return cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", final);
    return cs_fail(CS_EIO, "%s: cannot move the figure into place: %s", final, strerror(errno));
}

/* Draws one format: gnuplot -c <id>.gp <fmt> <tmp>, in dir. */
static int draw(const cs_plot *p, const char *dir, const char *fmt, const cs_plot_render_params *rp)
{
    char *tmp = path_in(dir, p->id, fmt, true), *final = path_in(dir, p->id, fmt, false);
    char script[PLOT_ID_MAX + 4];
    const char *args[4];
    cs_gnuplot_out out = {0, NULL};
    struct stat sb;
    int st = CS_ENOMEM;

    if (!tmp || !final)
        goto out_free;
    snprintf(script, sizeof script, "%s.gp", p->id);
    args[0] = "-c";
    args[1] = script;
    args[2] = fmt;
    args[3] = strrchr(tmp, '/') + 1;
    if ((st = cs_gnuplot_run(dir, args, 4, &out)))
        goto out_free;
    if (out.exit_code != 0 || stat(tmp, &sb) != 0 || sb.st_size == 0) {
        st = cs_fail(CS_EIO, "gnuplot failed to draw %s (exit %d): %s", final, out.exit_code,
                     out.text);
        unlink(tmp);
        goto out_free;
    }
    if (rp->log && out.text[0])
        fprintf(rp->log, "gnuplot, drawing %s: %s%s", final, out.text,
                out.text[strlen(out.text) - 1] == '\n' ? "" : "\n");
    if ((st = move_into_place(tmp, final, rp->force)))
        unlink(tmp);
out_free:
    cs_gnuplot_out_free(&out);
    free(tmp);
    free(final);
    return st;
}

static bool anything_to_draw(const cs_plot *p)
{
    size_t k;

    for (k = 0; k < p->nseries; k++)
        if (cs_plot_block_index(p, k) != SIZE_MAX)
            return true;
    return false;
}

/* Draws every requested format whose terminal exists; says which are skipped. */
static int draw_all(const cs_plot *p, const char *dir, const cs_plot_terms *t,
                    const cs_plot_render_params *rp, cs_plot_render_result *res)
{
    const char *terms[NFORMATS] = {t->png, t->svg, t->pdf};
    size_t i;
    int st;

    for (i = 0; i < NFORMATS; i++) {
        if (!(rp->formats & formats[i].flag))
            continue;
        if (!terms[i][0]) {
            res->skipped |= formats[i].flag;
            if (rp->log)
                fprintf(rp->log, "figure %s: %s skipped: this gnuplot has no %s terminal\n", p->id,
                        formats[i].name, i == 2 ? "pdfcairo" : formats[i].name);
            continue;
        }
        if ((st = draw(p, dir, formats[i].name, rp)))
            return st;
        res->written |= formats[i].flag;
    }
    return CS_OK;
}

/* gnuplot cannot run: writes the .dat and .gp anyway, so that the figure can be drawn later,
 * and returns the probe's error with what was written. */
static int not_drawable(const cs_plot *p, const char *dir, const cs_plot_terms *t,
                        const cs_plot_render_params *rp, int probe)
{
    char msg[1024];
    int st;

    snprintf(msg, sizeof msg, "%s", cs_errmsg());
    if ((st = write_file(p, dir, t, false, rp->force)) ||
        (st = write_file(p, dir, t, true, rp->force)))
        return st;
    return cs_fail(probe, "figure %s: wrote %s/%s.dat and %s/%s.gp but cannot draw them: %s", p->id,
                   dir, p->id, dir, p->id, msg);
}

int cs_plot_render(const cs_plot *p, const char *dir, const cs_plot_render_params *params,
                   cs_plot_render_result *res)
{
    cs_plot_render_params rp = params ? *params : cs_plot_default_render_params();
    cs_plot_render_result dummy;
    cs_plot_terms t;
    char *avail = NULL;
    int st, probe;
    size_t bad;

    res = res ? res : &dummy;
    memset(res, 0, sizeof *res);
    if (!anything_to_draw(p))
        return cs_fail(CS_EINPUT,
                       "figure %s: nothing to draw (no series has a point that can "
                       "be drawn)",
                       p->id);
    if ((st = make_dirs(dir)) || (st = check_targets(p, dir, rp.formats, rp.force)))
        return st;
    probe = cs_gnuplot_terminals(&avail);
    cs_plot_pick_terms(probe == CS_OK ? avail : "pngcairo svg pdfcairo", &t);
    free(avail);
    if (probe != CS_OK)
        return not_drawable(p, dir, &t, &rp, probe);
    if ((st = write_file(p, dir, &t, false, rp.force)) ||
        (st = write_file(p, dir, &t, true, rp.force)))
        return st;
    if (rp.log && (bad = cs_plot_n_bad_rows(p)) > 0)
        fprintf(rp.log, "figure %s: %zu point%s left out (not finite, or <= 0 on a log axis)\n",
                p->id, bad, bad == 1 ? "" : "s");
    return draw_all(p, dir, &t, &rp, res);
}
