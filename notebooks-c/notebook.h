/* notebooks-c/notebook.h: what the notebooks of notebooks-c/ share — their command lines (one
 * cli/opt.h option table each, parsed with getopt_long, messages naming the notebook), the
 * Markdown section each one writes (OUT/<name>.md, written atomically), user text escaped for
 * Markdown and for the HTML tables inside it, and figures drawn through plots/ into
 * OUT/figures/ with the Markdown that shows them.
 *
 * A notebook is a literate C program: its comments explain the method, its code calls the
 * library, and what it finds goes into its section as prose, tables and figures. The report
 * (notebooks-c/report.c) joins the sections into OUT/report.md and OUT/report.html.
 *
 * Markdown safety. Every string that comes from the data (run names, paths, data-set names,
 * CSV cells) is written through cs_nb_text (inline Markdown: every character that could start
 * markup — backslash, backtick, `*`, `_`, brackets, parentheses, `<`, `>`, `&`, `!`, `|`, `#`,
 * quotes and a few more — is backslash-escaped) or cs_nb_td_text (an HTML table cell:
 * `& < > " '` become entities). Both first make the text visible (plots/gnuplot.h
 * cs_gnuplot_visible: a newline shows as `\n`, control bytes as `\xNN`, invalid UTF-8 as
 * U+FFFD), so user text never ends a line, an HTML block or a table. Tables are raw HTML blocks
 * (CommonMark has no tables; the report renders raw HTML).
 *
 * Not part of libctxscale (notebooks are programs, not library). Tested through
 * tests/cli/test_report.sh; docs/notebooks.md describes the notebooks.
 */
#ifndef CS_NOTEBOOKS_NOTEBOOK_H
#define CS_NOTEBOOKS_NOTEBOOK_H

#include "analysis/analyze.h"
#include "cli/opt.h"
#include "core/afile.h"
#include "plots/figures.h"
#include "plots/plot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// ---- command line ---------------------------------------------------------------------------

/* Handles one option of a notebook: key (as in its cs_cli_opt table) and argument (NULL for
 * flags). Returns CS_OK or a status with a message recorded (cs_fail). */
typedef int (*cs_nb_take_fn)(int key, const char *arg, void *ctx);

/* Parses argv against cmd's option table (cli/opt.h), calling take for every option. Returns
 * -1 to go on (positional arguments start at optind), 0 after printing --help to stdout, or 2
 * after a usage error (unknown option, missing argument, a take error, a positional argument:
 * notebooks take none) printed as "<name>: <message>" and "Try '<name> --help'." on stderr. */
int cs_nb_parse(const cs_cli_cmd *cmd, int argc, char **argv, cs_nb_take_fn take, void *ctx);

/* Prints "<name>: <message>" and "Try '<name> --help'." to stderr; returns 2. */
int cs_nb_usage(const cs_cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "<name>: <cs_errmsg()>" to stderr when status is not CS_OK; returns the exit code of
 * the status (core/error.h cs_exit_code: 0, 1, or 2 for bad input). */
int cs_nb_report(const cs_cli_cmd *cmd, int status);

// ---- the section ----------------------------------------------------------------------------

/* A notebook's output: OUT/<name>.md and figures in OUT/figures/. */
typedef struct cs_nb {
    char *out;     /* output directory */
    char *figdir;  /* OUT/figures */
    char *section; /* OUT/<name>.md */
    bool force;    /* replace existing files */
    cs_afile *af;  /* the section, written under a temporary name until cs_nb_commit */
    FILE *md;      /* its stream */
} cs_nb;

/* Starts the section `name` ([a-z0-9_], the file stem) in directory `out`: without force,
 * checks that neither OUT/<name>.md nor any file of the figures `figs` (nfigs ids; their
 * .png .svg .pdf .dat .gp in OUT/figures) exists (CS_EINPUT "<path>: exists; use --force to
 * overwrite"), so that nothing is written when something would be replaced; creates OUT and
 * OUT/figures (and parents); opens the section (core/afile.h). On error nb is left closed.
 * CS_EINPUT, CS_EIO (a directory cannot be created), CS_ENOMEM. */
int cs_nb_open(cs_nb *nb, const char *out, const char *name, const char *const *figs, size_t nfigs,
               bool force);

/* Commits the section into place and frees nb. CS_EIO when a write failed (the old section,
 * if any, is kept). */
int cs_nb_commit(cs_nb *nb);

/* Discards the section and frees nb. Accepts a closed (zeroed) nb. */
void cs_nb_abort(cs_nb *nb);

/* Writes trusted Markdown (the notebook's own text and numbers): printf into the section. */
void cs_nb_md(cs_nb *nb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes user text inline, escaped for Markdown (see the header comment). Inline only: the
 * caller writes something else at the start of the line. */
void cs_nb_text(cs_nb *nb, const char *s);

/* Writes a run name or path inline: cs_nb_text, named apart so that every name goes through
 * one place. */
void cs_nb_name(cs_nb *nb, const char *s);

// ---- tables (raw HTML blocks inside the Markdown) -------------------------------------------

/* Starts a table with n column headers (trusted text; a header ending in '#' marks a numeric,
 * right-aligned column, the '#' is not shown). A blank line comes before it. */
void cs_nb_table(cs_nb *nb, const char *const *head, size_t n);

/* Starts a row, ends a row. */
void cs_nb_tr(cs_nb *nb);
void cs_nb_tr_end(cs_nb *nb);

/* A cell of trusted text (printf; numbers); class "num" when num is true. */
void cs_nb_td(cs_nb *nb, bool num, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A cell of user text, HTML-escaped. */
void cs_nb_td_text(cs_nb *nb, const char *s);

/* Ends the table (and the HTML block: a blank line follows). */
void cs_nb_table_end(cs_nb *nb);

// ---- figures --------------------------------------------------------------------------------

/* Builds figure `id` of plots/figures.h from o (o->log should be stderr), draws it into
 * OUT/figures (PNG, SVG, PDF, its data and script; replacing old files only with nb->force),
 * and writes to the section the image (the PNG, or the SVG when no PNG terminal exists), a
 * caption (trusted Markdown, may be NULL), links to the other formats, the data file and the
 * script, and the figure's corner note (user text, escaped). With keep non-NULL the figure is
 * handed to the caller (to read what it shows), else freed. Errors of cs_figures_build and
 * cs_plot_render. */
int cs_nb_figure(cs_nb *nb, const char *id, const cs_figures_opts *o, const char *caption,
                 cs_plot **keep);

/* As cs_nb_figure for a figure the notebook built itself (p stays the caller's). */
int cs_nb_plot(cs_nb *nb, const cs_plot *p, const char *caption);

// ---- small helpers --------------------------------------------------------------------------

/* The display name of a run log path: "runs/<name>/run.h5" gives <name>, "runs/<name>.h5"
 * gives <name>, anything else its last component. malloc'ed; NULL on allocation failure. */
char *cs_nb_run_name(const char *path);

/* v with `sig` significant digits ("%.*g"), or "n/a" when not finite. buf holds 32 bytes;
 * returns buf. */
const char *cs_nb_num(char buf[32], double v, int sig);

/* Creates directory `dir` and its parents (mode 0777 minus umask). CS_EIO naming the path. */
int cs_nb_mkdirs(const char *dir);

/* ---- the sweep analysis shared by nb_ucurves and nb_laws ------------------------------------ */

/* Option keys of the analysis flags (each notebook lists the ones it offers in its own table). */
enum {
    CS_NB_OPT_BUDGETS = 256,
    CS_NB_OPT_BOOT,
    CS_NB_OPT_SEED,
    CS_NB_OPT_MIN_RUNS,
    CS_NB_OPT_THREADS,
    CS_NB_OPT_LAW_BOOT
};

/* The settings of cs_analyze_run a notebook takes from its flags. */
typedef struct cs_nb_analysis {
    const char *budgets; /* --budgets: NULL or "auto" (automatic), C1,C2,... or LO:HI:K */
    size_t boot;         /* --boot: bootstrap replicates of the optima (200) */
    size_t min_runs;     /* --min-runs: runs an automatic budget needs (3) */
    size_t threads;      /* --threads (1; 0: all CPUs) */
    size_t law_boot;     /* --law-boot: bootstrap refits of the law (100) */
    uint64_t seed;       /* --seed (1) */
} cs_nb_analysis;

/* The defaults above. */
cs_nb_analysis cs_nb_analysis_default(void);

/* Takes one analysis flag (key CS_NB_OPT_*) into *a. CS_OK, also for a key that is not an
 * analysis flag (left to the caller); CS_EINPUT naming the flag for a bad value. */
int cs_nb_analysis_take(cs_nb_analysis *a, int key, const char *arg);

/* cs_analyze_run over the run logs of `runs` with settings a, the ndt law fitted when `law`.
 * *budgets receives the parsed budget list (caller frees; NULL for automatic budgets; the
 * result points into it), *r the result (cs_analyze_result_free). Errors as cs_analyze_run, or
 * CS_EINPUT for a bad --budgets. */
int cs_nb_analysis_run(const char *runs, const cs_nb_analysis *a, bool law, double **budgets,
                       cs_analyze_result **r);

#endif /* CS_NOTEBOOKS_NOTEBOOK_H */
