/* cli/shared_opts.h: option handling that the commands share: the loop over a command's options
 * (isoflop, envelope, analyze, optimal, plot, fit, compare, predict, runs), the parsers of option
 * values that several of them take (counts, seeds, levels, LO:HI ranges), and the writer behind
 * --json FILE [--force]. Messages name the option (`what`) as the commands always have. Tested
 * through tests/cli/test_alloc.sh, test_analyze.sh, test_fit.sh, test_predict.sh, test_plot.sh
 * and test_runs.sh.
 */
#ifndef CS_CLI_SHARED_OPTS_H
#define CS_CLI_SHARED_OPTS_H

#include "cli/opt.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Takes one option of a command into ctx (the command's argument struct): `key` is the option's
 * key in the command's table, `arg` its argument (NULL for a flag). Returns CS_OK, or a status
 * with its message recorded (cs_fail), which makes the option a usage error. */
typedef int (*cs_cli_take_fn)(int key, const char *arg, void *ctx);

/* Runs getopt over argv with cmd's option table and gives each option to take(key, arg, ctx).
 * Returns -1 when the options are done (positional arguments start at optind); 0 after printing
 * the help for --help (stdout); 2 after a usage error on stderr (an unknown option, a missing
 * argument, or a status from take, whose message is printed as
 * "ctxscale <cmd>: <message>" with the "Try ..." line). `take` may be NULL for a command whose
 * only option is --help. */
int cs_cli_parse_opts(const cs_cli_cmd *cmd, int argc, char **argv, cs_cli_take_fn take, void *ctx);

/* A whole number >= 0 into *out. CS_EINPUT "<what>: expected a number >= 0, got V" or the
 * message of cs_parse_long. */
int cs_cli_parse_size(const char *s, size_t *out, const char *what);

/* A whole number >= min into *out. CS_EINPUT "<what>: expected a whole number >= MIN, got V" or
 * the message of cs_parse_long. */
int cs_cli_parse_whole(const char *s, size_t *out, const char *what, long min);

/* A seed: any integer (a negative one wraps around as uint64_t). CS_EINPUT as cs_parse_long. */
int cs_cli_parse_seed(const char *s, uint64_t *out, const char *what);

/* A number strictly between 0 and 1 (a confidence level, a share) into *out. CS_EINPUT
 * "<what>: expected a number between 0 and 1, got S" or the message of cs_parse_double. */
int cs_cli_parse_fraction(const char *s, double *out, const char *what);

/* "LO:HI", both positive, into *lo and *hi; with `strict` LO < HI is required, else LO <= HI.
 * CS_EINPUT "<what>: expected LO:HI, got "S"", "<what>: expected LO < HI, got "S"" (or
 * LO <= HI), or the message of cs_parse_double_ex. */
int cs_cli_parse_range(const char *s, const char *what, bool strict, double *lo, double *hi);

/* A JSON number for v, or JSON null when v is NaN or infinite (new reference; NULL when out of
 * memory, which json_pack's "o" turns into a failed pack). */
json_t *cs_cli_json_num(double v);

/* Writes doc as indented JSON with 17 significant digits to `path` ("-": stdout) through
 * core/afile.h: a file that exists is kept unless `force`, and a failed write leaves it as it
 * was. Takes doc's reference (it is released in every case); a NULL doc means building it ran
 * out of memory. CS_OK; CS_ENOMEM for a NULL doc; the errors of cs_afile_open and
 * cs_afile_commit; CS_EIO "<path>: write failed". */
int cs_cli_write_json(json_t *doc, const char *path, bool force);

#endif /* CS_CLI_SHARED_OPTS_H */
