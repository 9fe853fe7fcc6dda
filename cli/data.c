/* cli/data.c: `ctxscale data COMMAND`: the dispatcher of the data commands (build corpora,
 * tokenize them into token stores, show their statistics, synthesize long-range data). Each
 * command lives in its own file (cli/data_<command>.c). Test: tests/cli/test_data_build.sh.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

typedef struct data_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} data_command;

static const data_command data_commands[] = {
    {"build", cs_cli_data_build,
     "assemble a corpus of documents: pd-books, debian-docs, dir:, files:, jsonl:"},
    {"tokenize", cs_cli_data_tokenize, "encode a corpus into a token store (byte or BPE)"},
    {"stats", cs_cli_data_stats, "show a token store's tokens, documents and their lengths"},
    {"synth", cs_cli_data_synth, "write a synthetic long-range language with its loss floor"},
};

static void print_help(FILE *out)
{
    size_t i;

    fprintf(out, "Usage: ctxscale data COMMAND [OPTIONS] [ARGS]\n\n"
                 "Build corpora, train tokenizers, write token stores, synthesize long-range "
                 "data.\n\nCommands:\n");
    for (i = 0; i < sizeof data_commands / sizeof data_commands[0]; i++)
        fprintf(out, "  %-10s %s\n", data_commands[i].name, data_commands[i].summary);
    fprintf(out, "\nEach command has --help. The formats are described in docs/data.md.\n");
}

int cs_cli_data(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return 0;
    }
    for (i = 0; i < sizeof data_commands / sizeof data_commands[0]; i++)
        if (strcmp(argv[1], data_commands[i].name) == 0)
            return data_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ctxscale data: unknown command '%s'\nTry 'ctxscale data --help'.\n", argv[1]);
    return 2;
}
