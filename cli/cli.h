/* cli/cli.h: the subcommands of the ctxscale binary. Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns the process exit code (0, 1 or 2). The table in
 * cli/main.c lists them. Tested in tests/cli/. */
#ifndef CS_CLI_CLI_H
#define CS_CLI_CLI_H

int cs_cli_isoflop(int argc, char **argv);
int cs_cli_envelope(int argc, char **argv);
int cs_cli_analyze(int argc, char **argv);
int cs_cli_optimal(int argc, char **argv);
int cs_cli_fit(int argc, char **argv);
int cs_cli_predict(int argc, char **argv);
int cs_cli_compare(int argc, char **argv);
int cs_cli_runs(int argc, char **argv);
int cs_cli_data(int argc, char **argv);
int cs_cli_data_build(int argc, char **argv);
int cs_cli_data_tokenize(int argc, char **argv);
int cs_cli_data_stats(int argc, char **argv);
int cs_cli_data_synth(int argc, char **argv);
int cs_cli_plot(int argc, char **argv);
int cs_cli_train(int argc, char **argv);
int cs_cli_sweep(int argc, char **argv);

#endif /* CS_CLI_CLI_H */
