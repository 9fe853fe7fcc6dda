/* cli/main.c: the ctxscale binary: dispatches to subcommands, prints the command list, checks
 * stdout for write errors at exit. Test: tests/cli/test_cli.sh. */
#include "cli/cli.h"
#include "core/version.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static int cmd_version(int argc, char **argv);

static const subcommand commands[] = {
    {"version", cmd_version, "print the version and the git revision of this build"},
    {"isoflop", cs_cli_isoflop, "Chinchilla approach 2: IsoFLOP parabolas, N_opt = k C^a"},
    {"envelope", cs_cli_envelope, "Chinchilla approach 1: lowest loss over runs per FLOPs"},
    {"fit", cs_cli_fit, "fit a scaling law with bootstrap intervals (robust, multi-start)"},
    {"predict", cs_cli_predict, "predict a fitted law at new points, with prediction intervals"},
    {"compare", cs_cli_compare, "rank laws by extrapolation cross-validation and likelihood"},
    {"optimal", cs_cli_optimal, "compute-optimal N*, D* (T*, V*) per budget for a fitted law"},
    {"analyze", cs_cli_analyze, "context scaling of a sweep: U-curves, optimal context per budget"},
    {"train", cs_cli_train, "train one model on the CPU, logging loss per step and per position"},
    {"sweep", cs_cli_sweep, "train a grid of runs (resumable, parallel, or as a Slurm array)"},
    {"runs", cs_cli_runs, "list, show, export and import run logs (HDF5)"},
    {"plot", cs_cli_plot, "draw a figure (C1..C8, S1..S6) as PNG, SVG and PDF through gnuplot"},
    {"data", cs_cli_data,
     "build corpora, train tokenizers, write token stores, synthesize long-range data"},
};

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("ctxscale %s (git %s)\n", cs_version_string(), cs_version_git_revision());
    return 0;
}

static void print_help(FILE *out)
{
    size_t i;

    fprintf(out, "Usage: ctxscale COMMAND [OPTIONS] [ARGS]\n\n"
                 "ctxscale trains small language models, records their loss over model size N,\n"
                 "tokens D, training context T and vocabulary V, and fits scaling laws to them.\n\n"
                 "Commands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nEach command has --help. Options of ctxscale itself:\n"
                 "  -h, --help     show this help and exit\n"
                 "  -V, --version  show the version and exit\n");
}

static int finish(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ctxscale: error writing to standard output: %s\n", strerror(errno));
        return 1;
    }
    return code;
}

int main(int argc, char **argv)
{
    size_t i;

    gsl_set_error_handler_off();
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return finish(0);
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        return finish(cmd_version(argc, argv));
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return finish(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "ctxscale: unknown command '%s'\nTry 'ctxscale --help'.\n", argv[1]);
    return 2;
}
