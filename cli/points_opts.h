/* cli/points_opts.h: the options that turn a CSV file's rows (or the rows read from run logs)
 * into points, as isoflop, envelope, plot, fit and compare take them: --map NAME=COL,
 * --derive NAME=EXPR and --where PRED (each repeatable), their option-table entries and their
 * handover to analysis/isoflop.h and fit/dataset.h; and the rule that a directory given as input
 * is read as run logs. Tested through tests/cli/test_alloc.sh, test_fit.sh, test_predict.sh and
 * test_plot.sh.
 */
#ifndef CS_CLI_POINTS_OPTS_H
#define CS_CLI_POINTS_OPTS_H

#include "analysis/isoflop.h"
#include "cli/opt.h"
#include "fit/dataset.h"

#include <stdbool.h>
#include <stddef.h>

/* How often each of --map, --derive and --where may be given. */
#define CS_CLI_POINTS_MAX 64

/* Keys of the long-only options shared by several commands: 0x200.. here, 0x300.. in
 * cli/fitdata.h. A command's own long-only keys start at 256 and stay below 0x200. */
enum {
    CS_CLI_KEY_DERIVE = 0x200,
    CS_CLI_KEY_WHERE,
};

/* Option-table entries (cli/opt.h) of --map (-m), --derive and --where with the command's help
 * line, whose text names what that command reads. */
// clang-format off
#define CS_CLI_OPT_MAP(help) {"map", 'm', required_argument, "NAME=COL", help}
#define CS_CLI_OPT_DERIVE(help) {"derive", CS_CLI_KEY_DERIVE, required_argument, "NAME=EXPR", \
                                 help}
#define CS_CLI_OPT_WHERE(metavar, help) {"where", CS_CLI_KEY_WHERE, required_argument, metavar, \
                                         help}

/* --where as isoflop and envelope describe it. */
#define CS_CLI_OPT_WHERE_ROWS CS_CLI_OPT_WHERE("'COL OP V'", \
                                              "keep rows where it holds (repeatable)")
// clang-format on

/* The arguments of --map, --derive and --where in the order given (pointers into argv). */
typedef struct cs_cli_points_opts {
    const char *maps[CS_CLI_POINTS_MAX];    /* (nmaps) "NAME=COL" */
    const char *derives[CS_CLI_POINTS_MAX]; /* (nderives) "NAME=EXPR" */
    const char *wheres[CS_CLI_POINTS_MAX];  /* (nwheres) predicates */
    size_t nmaps, nderives, nwheres;
} cs_cli_points_opts;

/* Takes option `key` ('m', CS_CLI_KEY_DERIVE or CS_CLI_KEY_WHERE) with its argument into *p;
 * any other key is left alone (CS_OK), so a command can end its own option switch with this
 * call. CS_EINPUT "--map: at most 64 times" (likewise --derive, --where) for one too many. */
int cs_cli_points_take(cs_cli_points_opts *p, int key, const char *arg);

/* The selection of analysis/isoflop.h from *p (which must outlive it); `want_run`: the points
 * need a run column (Approach 1). */
cs_isoflop_select cs_cli_points_select(const cs_cli_points_opts *p, bool want_run);

/* cs_dataset_default_params() with the maps, derives and wheres of *p (which must outlive it). */
cs_dataset_params cs_cli_points_dataset(const cs_cli_points_opts *p);

/* True when the input `path` names a directory, which the commands read as run logs; "-"
 * (standard input) never does. */
bool cs_cli_is_runs_dir(const char *path);

#endif /* CS_CLI_POINTS_OPTS_H */
