/* notebooks-c/notebook.c: the shared part of the notebooks — command line, the Markdown
 * section, escaping, HTML tables, figures (notebooks-c/notebook.h). Tested through
 * tests/cli/test_report.sh.
 */
#include "notebooks-c/notebook.h"

#include "cli/shared_opts.h"
#include "core/error.h"
#include "fit/optimal.h"
#include "plots/gnuplot.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// ---- command line ---------------------------------------------------------------------------

int cs_nb_usage(const cs_cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", cmd->name);
    return 2;
}

int cs_nb_report(const cs_cli_cmd *cmd, int status)
{
    if (status != CS_OK)
        fprintf(stderr, "%s: %s\n", cmd->name, cs_errmsg());
    return cs_exit_code(status);
}

/* Help in the layout of cli/opt.c's, under the notebook's own name. */
static void print_help(const cs_cli_cmd *cmd)
{
    const cs_cli_opt *o;
    char left[64];

    printf("Usage: %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->usage ? cmd->usage : "",
           cmd->summary);
    for (o = cmd->opts; o && o->name; o++) {
        const char *sp = o->metavar ? " " : "", *mv = o->metavar ? o->metavar : "";

        if (o->key > 0 && o->key < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->key, o->name, sp, mv);
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, sp, mv);
        printf("  %-28s %s\n", left, o->help);
    }
    printf("  %-28s %s\n", "-h, --help", "show this help and exit");
    if (cmd->epilog)
        printf("\n%s", cmd->epilog);
}

/* The long name of an option key, for messages. */
static const char *key_name(const cs_cli_cmd *cmd, int key)
{
    const cs_cli_opt *o;

    for (o = cmd->opts; o && o->name; o++)
        if (o->key == key)
            return o->name;
    return "?";
}

int cs_nb_parse(const cs_cli_cmd *cmd, int argc, char **argv, cs_nb_take_fn take, void *ctx)
{
    cs_cli_parser ps;
    int c;

    cs_cli_parser_init(&ps, cmd);
    while ((c = getopt_long(argc, argv, ps.shortopts, ps.longopts, NULL)) != -1) {
        if (c == '?' && optopt > 0 && optopt < 256 && optopt != '?')
            return cs_nb_usage(cmd, "unknown option '-%c'", optopt);
        if (c == '?')
            return cs_nb_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        if (c == ':')
            return cs_nb_usage(cmd, "option '--%s' needs an argument", key_name(cmd, optopt));
        if (c == CS_CLI_OPT_HELP) {
            print_help(cmd);
            return 0;
        }
        if (take(c, optarg, ctx) != CS_OK)
            return cs_nb_usage(cmd, "%s", cs_errmsg());
    }
    if (optind < argc)
        return cs_nb_usage(cmd, "unexpected argument '%s' (inputs are given by options)",
                           argv[optind]);
    return -1;
}

// ---- files ----------------------------------------------------------------------------------

int cs_nb_mkdirs(const char *dir)
{
    char *d = strdup(dir);
    char *p;
    int st = CS_OK;

    if (!d)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (p = d + 1; st == CS_OK; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char keep = *p;

        *p = '\0';
        if (mkdir(d, 0777) != 0 && errno != EEXIST)
            st = cs_fail(CS_EIO, "%s: cannot create directory: %s", d, strerror(errno));
        *p = keep;
        if (keep == '\0')
            break;
    }
    free(d);
    if (st == CS_OK) {
        struct stat sb;

        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = cs_fail(CS_EINPUT, "%s: not a directory", dir);
    }
    return st;
}

/* a b c d concatenated, malloc'ed; NULL when out of memory. */
static char *join(const char *a, const char *b, const char *c, const char *d)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s%s%s%s", a, b, c, d);
    return s;
}

static int check_absent(const char *path)
{
    struct stat sb;

    if (lstat(path, &sb) == 0)
        return cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", path);
    return CS_OK;
}

/* Without force: none of the figure files of `id` exists. */
static int check_figure(const cs_nb *nb, const char *id)
{
    static const char *const ext[] = {".png", ".svg", ".pdf", ".dat", ".gp"};
    char path[4096];
    size_t i;
    int st = CS_OK;

    for (i = 0; i < sizeof ext / sizeof ext[0] && st == CS_OK; i++) {
        snprintf(path, sizeof path, "%s/%s%s", nb->figdir, id, ext[i]);
        st = check_absent(path);
    }
    return st;
}

static void nb_free(cs_nb *nb)
{
    free(nb->out);
    free(nb->figdir);
    free(nb->section);
    memset(nb, 0, sizeof *nb);
}

int cs_nb_open(cs_nb *nb, const char *out, const char *name, const char *const *figs, size_t nfigs,
               bool force)
{
    size_t i;
    int st = CS_OK;

    memset(nb, 0, sizeof *nb);
    nb->force = force;
    nb->out = strdup(out);
    nb->figdir = join(out, "/figures", "", "");
    nb->section = join(out, "/", name, ".md");
    if (!nb->out || !nb->figdir || !nb->section) {
        nb_free(nb);
        return cs_fail(CS_ENOMEM, "out of memory");
    }
    if (!force)
        st = check_absent(nb->section);
    for (i = 0; i < nfigs && st == CS_OK && !force; i++)
        st = check_figure(nb, figs[i]);
    if (st == CS_OK && (st = cs_nb_mkdirs(nb->figdir)) == CS_OK &&
        (st = cs_afile_open(nb->section, force, &nb->af)) == CS_OK)
        nb->md = cs_afile_stream(nb->af);
    if (st != CS_OK)
        nb_free(nb);
    return st;
}

int cs_nb_commit(cs_nb *nb)
{
    int st = cs_afile_commit(nb->af);

    nb_free(nb);
    return st;
}

void cs_nb_abort(cs_nb *nb)
{
    cs_afile_abort(nb->af);
    nb_free(nb);
}

// ---- Markdown and HTML ----------------------------------------------------------------------

void cs_nb_md(cs_nb *nb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(nb->md, fmt, ap);
    va_end(ap);
}

/* Characters that can start or end Markdown markup (or an entity, or HTML) in inline text. */
static const char md_special[] = "\\`*_{}[]()<>#!|&~\"'$^";

/* Writes the visible form of s, escaped for Markdown (html false) or HTML (html true). */
static void write_escaped(FILE *f, const char *s, bool html)
{
    char *v = cs_gnuplot_visible(s ? s : "");
    const char *p;

    if (!v) { /* out of memory: write nothing of it rather than the raw text */
        fputs(html ? "?" : "\\?", f);
        return;
    }
    for (p = v; *p; p++) {
        if (html) {
            switch (*p) {
            case '&': fputs("&amp;", f); break;
            case '<': fputs("&lt;", f); break;
            case '>': fputs("&gt;", f); break;
            case '"': fputs("&quot;", f); break;
            case '\'': fputs("&#39;", f); break;
            default: fputc(*p, f);
            }
        } else {
            if (strchr(md_special, *p))
                fputc('\\', f);
            fputc(*p, f);
        }
    }
    free(v);
}

void cs_nb_text(cs_nb *nb, const char *s)
{
    write_escaped(nb->md, s, false);
}

void cs_nb_name(cs_nb *nb, const char *s)
{
    cs_nb_text(nb, s);
}

void cs_nb_table(cs_nb *nb, const char *const *head, size_t n)
{
    size_t i;

    fputs("\n<table>\n<thead><tr>", nb->md);
    for (i = 0; i < n; i++) {
        size_t len = strlen(head[i]);
        bool num = len > 0 && head[i][len - 1] == '#';

        fprintf(nb->md, "<th%s>%.*s</th>", num ? " class=\"num\"" : "", (int)(len - num), head[i]);
    }
    fputs("</tr></thead>\n<tbody>\n", nb->md);
}

void cs_nb_tr(cs_nb *nb)
{
    fputs("<tr>", nb->md);
}

void cs_nb_tr_end(cs_nb *nb)
{
    fputs("</tr>\n", nb->md);
}

void cs_nb_td(cs_nb *nb, bool num, const char *fmt, ...)
{
    va_list ap;

    fputs(num ? "<td class=\"num\">" : "<td>", nb->md);
    va_start(ap, fmt);
    vfprintf(nb->md, fmt, ap);
    va_end(ap);
    fputs("</td>", nb->md);
}

void cs_nb_td_text(cs_nb *nb, const char *s)
{
    fputs("<td>", nb->md);
    write_escaped(nb->md, s, true);
    fputs("</td>", nb->md);
}

void cs_nb_table_end(cs_nb *nb)
{
    fputs("</tbody>\n</table>\n\n", nb->md);
}

// ---- figures --------------------------------------------------------------------------------

int cs_nb_plot(cs_nb *nb, const cs_plot *p, const char *caption)
{
    cs_plot_render_params rp = cs_plot_default_render_params();
    cs_plot_render_result res;
    const char *id = cs_plot_id(p);
    size_t i;
    int st;

    rp.force = nb->force;
    rp.log = stderr;
    if ((st = cs_plot_render(p, nb->figdir, &rp, &res)))
        return st;
    if (!(res.written & (CS_PLOT_PNG | CS_PLOT_SVG)))
        return cs_fail(CS_EIO, "figure %s: neither PNG nor SVG could be drawn", id);
    cs_nb_md(nb, "\n![Figure %s](figures/%s.%s)\n\n", id, id,
             res.written & CS_PLOT_PNG ? "png" : "svg");
    cs_nb_md(nb, "**Figure %s.** %s", id, caption ? caption : "");
    cs_nb_md(nb, " Files:");
    if (res.written & CS_PLOT_SVG)
        cs_nb_md(nb, " [SVG](figures/%s.svg) ·", id);
    if (res.written & CS_PLOT_PDF)
        cs_nb_md(nb, " [PDF](figures/%s.pdf) ·", id);
    cs_nb_md(nb, " [data](figures/%s.dat) · [gnuplot script](figures/%s.gp)\n\n", id, id);
    if (cs_plot_n_notes(p) > 0) {
        cs_nb_md(nb, "The figure's corner note (what it was drawn from):\n\n");
        for (i = 0; i < cs_plot_n_notes(p); i++) {
            cs_nb_md(nb, "- ");
            cs_nb_text(nb, cs_plot_note(p, i));
            cs_nb_md(nb, "\n");
        }
        cs_nb_md(nb, "\n");
    }
    return CS_OK;
}

int cs_nb_figure(cs_nb *nb, const char *id, const cs_figures_opts *o, const char *caption,
                 cs_plot **keep)
{
    cs_plot *p = NULL;
    int st;

    if (keep)
        *keep = NULL;
    if ((st = cs_figures_build(id, o, &p)) == CS_OK)
        st = cs_nb_plot(nb, p, caption);
    if (st == CS_OK && keep)
        *keep = p;
    else
        cs_plot_free(p);
    return st;
}

// ---- helpers --------------------------------------------------------------------------------

char *cs_nb_run_name(const char *path)
{
    const char *base = strrchr(path, '/'), *dir;
    size_t n;
    char *s;

    base = base ? base + 1 : path;
    n = strlen(base);
    if (strcmp(base, "run.h5") == 0 && base > path + 1) { /* runs/<name>/run.h5 */
        for (dir = base - 2; dir > path && dir[-1] != '/'; dir--)
            ;
        n = (size_t)(base - 1 - dir);
        base = dir;
    } else if (n > 3 && strcmp(base + n - 3, ".h5") == 0) {
        n -= 3;
    }
    if ((s = malloc(n + 1))) {
        memcpy(s, base, n);
        s[n] = '\0';
    }
    return s;
}

const char *cs_nb_num(char buf[32], double v, int sig)
{
    if (!isfinite(v))
        snprintf(buf, 32, "n/a");
    else
        snprintf(buf, 32, "%.*g", sig, v);
    return buf;
}

/* ---- the sweep analysis ---------------------------------------------------------------------- */

cs_nb_analysis cs_nb_analysis_default(void)
{
    cs_nb_analysis a = {.boot = 200, .min_runs = 3, .threads = 1, .law_boot = 100, .seed = 1};

    return a;
}

int cs_nb_analysis_take(cs_nb_analysis *a, int key, const char *arg)
{
    switch (key) {
    case CS_NB_OPT_BUDGETS: a->budgets = arg; return CS_OK;
    case CS_NB_OPT_BOOT: return cs_cli_parse_size(arg, &a->boot, "--boot");
    case CS_NB_OPT_MIN_RUNS: return cs_cli_parse_size(arg, &a->min_runs, "--min-runs");
    case CS_NB_OPT_THREADS: return cs_cli_parse_size(arg, &a->threads, "--threads");
    case CS_NB_OPT_LAW_BOOT: return cs_cli_parse_size(arg, &a->law_boot, "--law-boot");
    case CS_NB_OPT_SEED: return cs_cli_parse_seed(arg, &a->seed, "--seed");
    }
    return CS_OK;
}

int cs_nb_analysis_run(const char *runs, const cs_nb_analysis *a, bool law, double **budgets,
                       cs_analyze_result **r)
{
    cs_analyze_params p = cs_analyze_default_params();
    int st;

    *budgets = NULL;
    if (a->budgets && strcmp(a->budgets, "auto") != 0) {
        if ((st = cs_optimal_parse_budgets(a->budgets, "--budgets", budgets, &p.nbudgets)))
            return st;
        p.budgets = *budgets;
    }
    p.min_runs = a->min_runs;
    p.ucurve.nboot = a->boot;
    p.ucurve.seed = a->seed;
    p.law = law;
    p.law_boot = a->law_boot;
    p.threads = a->threads;
    return cs_analyze_run(runs, &p, r);
}
