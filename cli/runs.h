/* cli/runs.h: the parts of `ctxscale runs` (cli/runs.c) that live in other files.
 * Test: tests/cli/test_runs.sh. */
#ifndef CS_CLI_RUNS_H
#define CS_CLI_RUNS_H

/* `ctxscale runs import` (cli/runs_import.c): argv[0] is "import"; returns the exit code. */
int cs_cli_runs_import(int argc, char **argv);

#endif /* CS_CLI_RUNS_H */
