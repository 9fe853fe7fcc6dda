/* cli/opt.h: one option table per subcommand generates getopt_long's short-option string, its
 * struct option array and the --help text, so the three cannot drift apart. Also the CLI's
 * message and exit-code helpers. Tested through tests/cli/test_cli.sh.
 */
#ifndef CS_CLI_OPT_H
#define CS_CLI_OPT_H

#include <getopt.h>
#include <stdio.h>

/* One option. `key` is the short letter, or a value >= 256 for a long-only option. */
typedef struct cs_cli_opt {
    const char *name;    /* long name without dashes, e.g. "out" */
    int key;             /* short letter or >= 256 */
    int has_arg;         /* no_argument or required_argument */
    const char *metavar; /* shown in help, e.g. "FILE"; NULL for flags */
    const char *help;    /* one line */
} cs_cli_opt;

/* A (sub)command: name as typed ("runs export"), usage after the name, summary, and options
 * terminated by an entry with name == NULL. --help (-h) is added to every command. */
typedef struct cs_cli_cmd {
    const char *name;
    const char *usage;
    const char *summary;
    const cs_cli_opt *opts;
    const char *epilog; /* extra help text after the options, or NULL */
} cs_cli_cmd;

#define CS_CLI_MAX_OPTS 64
#define CS_CLI_OPT_HELP 'h'

/* Parser state built from a command's table. */
typedef struct cs_cli_parser {
    const cs_cli_cmd *cmd;
    char shortopts[3 * CS_CLI_MAX_OPTS + 4];
    struct option longopts[CS_CLI_MAX_OPTS + 2];
} cs_cli_parser;

/* Builds the getopt tables for `cmd` and resets getopt (optind = 1 of argv). */
void cs_cli_parser_init(cs_cli_parser *p, const cs_cli_cmd *cmd);

/* Next option: its key, -1 when options end (positional arguments start at optind), or '?'
 * after printing a usage error for an unknown option or a missing argument. The caller handles
 * CS_CLI_OPT_HELP by calling cs_cli_help and returning 0. */
int cs_cli_next(cs_cli_parser *p, int argc, char **argv);

/* Prints the command's help (usage, summary, options, epilog) to `out`. */
void cs_cli_help(const cs_cli_cmd *cmd, FILE *out);

/* Prints "ctxscale <cmd>: <message>" and "Try 'ctxscale <cmd> --help'." to stderr, returns 2. */
int cs_cli_usage_error(const cs_cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "ctxscale <cmd>: <cs_errmsg()>" to stderr when status != CS_OK and returns the exit
 * code for it (0, 1 or 2, see cs_exit_code). */
int cs_cli_report(const cs_cli_cmd *cmd, int status);

#endif /* CS_CLI_OPT_H */
