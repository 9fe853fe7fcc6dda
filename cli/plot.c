/* cli/plot.c: `ctxscale plot ID INPUTS... --out DIR` — draws one figure of ../shared/FIGURES.md
 * (plots/figures.h) into DIR as PNG, SVG and PDF with its data file and gnuplot script beside
 * it (plots/plot.h); `ctxscale plot --list` lists the figure ids and their inputs.
 * Test: tests/cli/test_plot.sh.
 */
#include "cli/cli.h"
#include "cli/opt.h"
#include "cli/points_opts.h"
#include "cli/shared_opts.h"
#include "core/error.h"
#include "core/parse.h"
#include "plots/figures.h"
#include "plots/plot.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_FIT = 256,
    OPT_BUDGETS,
    OPT_TOL,
    OPT_BOOT,
    OPT_SEED,
    OPT_CONTEXTS,
    OPT_FLOOR,
    OPT_STEP,
    OPT_LABEL_KEY,
    OPT_TITLE,
    OPT_XLABEL,
    OPT_YLABEL,
    OPT_NOTE,
    OPT_THREADS,
    OPT_LIST,
    OPT_MIN_POINTS,
};

static const cs_cli_opt plot_opts[] = {
    {"out", 'o', required_argument, "DIR", "write the figure's files into DIR (created)"},
    {"format", 'F', required_argument, "LIST", "png, svg, pdf, comma-separated, or all (all)"},
    {"force", 'f', no_argument, NULL, "overwrite the figure's files if they exist"},
    {"list", OPT_LIST, no_argument, NULL, "list the figure ids and their inputs, and exit"},
    CS_CLI_OPT_MAP("CSV figures: read NAME from column COL"),
    CS_CLI_OPT_DERIVE("CSV figures: compute NAME per row"),
    CS_CLI_OPT_WHERE("'COL OP V'", "S1, S2: keep rows where it holds"),
    {"fit", OPT_FIT, required_argument, "FILE", "S2: a fit JSON (ctxscale fit --json)"},
    {"budgets", 'b', required_argument, "SPEC", "S1, S2, S5: auto, C1,C2,... or LO:HI:K"},
    {"tol", OPT_TOL, required_argument, "DEX", "S1, S2: log10 C tolerance of a budget"},
    {"min-points", OPT_MIN_POINTS, required_argument, "K",
     "S1, S2: automatic budgets need K points (3)"},
    {"boot", OPT_BOOT, required_argument, "N", "S2: bootstrap replicates (200; 0: none)"},
    {"seed", OPT_SEED, required_argument, "S", "S2: bootstrap seed (1)"},
    {"contexts", 'c', required_argument, "T,T,...", "C3: training contexts to mark (tokens)"},
    {"floor", OPT_FLOOR, required_argument, "X", "C1: loss floor, nats/token or a synth.json"},
    {"step", OPT_STEP, required_argument, "S", "C1, C2, C4, C5, S6: eval step to draw (last)"},
    {"label-key", OPT_LABEL_KEY, required_argument, "KEY",
     "S6: config key naming the data mixture (data_name)"},
    {"title", OPT_TITLE, required_argument, "TEXT", "replace the figure's title"},
    {"xlabel", OPT_XLABEL, required_argument, "TEXT", "replace the first panel's x label"},
    {"ylabel", OPT_YLABEL, required_argument, "TEXT", "replace the first panel's y label"},
    {"note", OPT_NOTE, required_argument, "TEXT", "add a line to the corner note"},
    {"threads", OPT_THREADS, required_argument, "N", "S4: fitting threads (1; 0: all CPUs)"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd plot_cmd = {
    "plot",
    "[OPTIONS] ID [INPUT...] --out DIR\n       ctxscale plot --list",
    "Draw figure ID (C1..C8 from run logs and token stores, S1..S6 from fits and published\n"
    "data) into DIR: ID.png, ID.svg, ID.pdf, the data they are drawn from (ID.dat) and the\n"
    "gnuplot script that draws them (ID.gp; rerun it with `gnuplot -c ID.gp pdf` in DIR).",
    plot_opts,
    "Every text from the inputs (run names, labels, titles) reaches gnuplot as an escaped\n"
    "string and is shown literally. A corner note says what data and scale produced the\n"
    "figure. Formats this gnuplot cannot draw are skipped with a message. Figures and\n"
    "their inputs: `ctxscale plot --list`; details in docs/figures.md.\n"
    "Example: ctxscale plot S1 svg_extracted_data.csv --map 'N=Model Size' \\\n"
    "           --map 'C=Training FLOP' --map L=loss --out figures\n",
};

#define MAX_CONTEXTS 32

typedef struct plot_args {
    cs_cli_points_opts pts;
    double contexts[MAX_CONTEXTS];
    const char *out;
    bool list;
    cs_figures_opts o;
    cs_plot_render_params rp;
} plot_args;

static int parse_contexts(const char *arg, plot_args *a)
{
    const char *p = arg;
    char item[64];

    a->o.ncontexts = 0;
    while (*p) {
        size_t len = strcspn(p, ",");

        if (len == 0 || len >= sizeof item || a->o.ncontexts == MAX_CONTEXTS)
            return cs_fail(CS_EINPUT,
                           "--contexts: expected 1 to %d sizes separated by commas, "
                           "got \"%s\"",
                           MAX_CONTEXTS, arg);
        memcpy(item, p, len);
        item[len] = '\0';
        if (cs_parse_double_ex(item, &a->contexts[a->o.ncontexts], CS_PARSE_POSITIVE, "--contexts"))
            return CS_EINPUT;
        a->o.ncontexts++;
        p += len + (p[len] == ',');
    }
    a->o.contexts = a->contexts;
    return a->o.ncontexts ? CS_OK : cs_fail(CS_EINPUT, "--contexts: no sizes given");
}

/* Options with a number or a list, and --map, --derive, --where. */
static int take_number(int c, const char *arg, plot_args *a)
{
    long v;
    int st;

    switch (c) {
    case OPT_TOL: return cs_parse_double_ex(arg, &a->o.tol, CS_PARSE_POSITIVE, "--tol");
    case OPT_BOOT: return cs_cli_parse_size(arg, &a->o.boot, "--boot");
    case OPT_MIN_POINTS: return cs_cli_parse_size(arg, &a->o.min_points, "--min-points");
    case OPT_THREADS: return cs_cli_parse_size(arg, &a->o.threads, "--threads");
    case OPT_SEED: return cs_cli_parse_seed(arg, &a->o.seed, "--seed");
    case OPT_STEP:
        if ((st = cs_parse_long(arg, &v, "--step")) == CS_OK && v < 0)
            st = cs_fail(CS_EINPUT, "--step: expected a step >= 0, got %ld", v);
        a->o.step = v;
        return st;
    case 'c': return parse_contexts(arg, a);
    case 'F': return cs_plot_parse_formats(arg, "--format", &a->rp.formats);
    }
    return cs_cli_points_take(&a->pts, c, arg);
}

/* One option into *a (a plot_args). CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, void *ctx)
{
    plot_args *a = ctx;

    switch (c) {
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->rp.force = true; return CS_OK;
    case OPT_LIST: a->list = true; return CS_OK;
    case OPT_FIT: a->o.fit = arg; return CS_OK;
    case 'b': a->o.budgets = arg; return CS_OK;
    case OPT_FLOOR: a->o.floor = arg; return CS_OK;
    case OPT_LABEL_KEY: a->o.label_key = arg; return CS_OK;
    case OPT_TITLE: a->o.title = arg; return CS_OK;
    case OPT_XLABEL: a->o.xlabel = arg; return CS_OK;
    case OPT_YLABEL: a->o.ylabel = arg; return CS_OK;
    case OPT_NOTE: a->o.note = arg; return CS_OK;
    }
    return take_number(c, arg, a);
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, plot_args *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    a->o = cs_figures_default_opts();
    a->rp = cs_plot_default_render_params();
    if ((rc = cs_cli_parse_opts(&plot_cmd, argc, argv, take_opt, a)) >= 0)
        return rc;
    if (a->list)
        return optind == argc ? -1 : cs_cli_usage_error(&plot_cmd, "--list takes no arguments");
    if (optind >= argc)
        return cs_cli_usage_error(&plot_cmd, "give a figure id (ctxscale plot --list shows them)");
    if (!a->out)
        return cs_cli_usage_error(&plot_cmd, "--out DIR is required");
    a->o.maps = a->pts.maps, a->o.nmaps = a->pts.nmaps;
    a->o.derives = a->pts.derives, a->o.nderives = a->pts.nderives;
    a->o.wheres = a->pts.wheres, a->o.nwheres = a->pts.nwheres;
    a->o.inputs = (const char *const *)argv + optind + 1;
    a->o.ninputs = (size_t)(argc - optind - 1);
    a->o.log = stderr;
    a->rp.log = stderr;
    return -1;
}

static void print_list(void)
{
    size_t n, i;
    const cs_figures_info *f = cs_figures_list(&n);

    for (i = 0; i < n; i++) {
        printf("%-3s %s\n    input: %s\n", f[i].id, f[i].what, f[i].inputs);
        if (!f[i].build)
            printf("    not available in this version: needs %s\n", f[i].missing);
    }
}

/* Names the files written (to stdout) and the formats skipped. */
static void print_written(const char *dir, const char *id, const cs_plot_render_result *res)
{
    static const char *const ext[] = {"png", "svg", "pdf"};
    int i;

    printf("%s/%s.dat\n%s/%s.gp\n", dir, id, dir, id);
    for (i = 0; i < 3; i++)
        if (res->written & (1u << i))
            printf("%s/%s.%s\n", dir, id, ext[i]);
}

int cs_cli_plot(int argc, char **argv)
{
    plot_args a;
    cs_plot *p = NULL;
    cs_plot_render_result res;
    int rc = parse_args(argc, argv, &a), st;

    if (rc >= 0)
        return rc;
    if (a.list) {
        print_list();
        return 0;
    }
    if ((st = cs_figures_build(argv[optind], &a.o, &p)) == CS_OK &&
        (st = cs_plot_render(p, a.out, &a.rp, &res)) == CS_OK)
        print_written(a.out, cs_plot_id(p), &res);
    cs_plot_free(p);
    return cs_cli_report(&plot_cmd, st);
}
