/* cli/cli.h: the subcommands of the ctxscale binary. Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns the process exit code (0, 1 or 2). The table in
 * cli/main.c lists them. Tested in tests/cli/. */
#ifndef CS_CLI_CLI_H
#define CS_CLI_CLI_H


#endif /* CS_CLI_CLI_H */
