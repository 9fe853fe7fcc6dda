/* cli/fitdata.h: what `ctxscale fit`, `compare` and `predict` share — the options that choose
 * the data and the fitting method (their table entries, parsing and validation), the --laws
 * list, the --levels list, reading the points (a CSV file or a directory of run logs), building
 * a law from a built-in name or a formula whose variables are the data's names, the default
 * ordering key for extrapolation, and law comparison with its table. Tested through
 * tests/cli/test_fit.sh and tests/cli/test_predict.sh.
 */
#ifndef CS_CLI_FITDATA_H
#define CS_CLI_FITDATA_H

#include "cli/opt.h"
#include "cli/points_opts.h"
#include "core/table.h"
#include "fit/compare.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---- options ------------------------------------------------------------------------------ */

/* Keys of the long-only options that fit and compare share (0x300..; cli/points_opts.h). */
enum {
    CS_CLI_KEY_DROP_TOP = 0x300,
    CS_CLI_KEY_BY,
    CS_CLI_KEY_METHOD,
    CS_CLI_KEY_DELTA,
    CS_CLI_KEY_SPACE,
    CS_CLI_KEY_MAX_ITER,
    CS_CLI_KEY_CV,
    CS_CLI_KEY_FOLDS,
    CS_CLI_KEY_TRAIN_FRAC,
    CS_CLI_KEY_LAWS,
};

/* Option-table entries (cli/opt.h) of the data and method options, as fit and compare show
 * them. --threads is -t. */
// clang-format off
#define CS_CLI_FIT_OPT_MAP CS_CLI_OPT_MAP("read law variable NAME from column COL")
#define CS_CLI_FIT_OPT_DERIVE CS_CLI_OPT_DERIVE("compute NAME per row, e.g. D=C/(6*N)")
#define CS_CLI_FIT_OPT_DROP_TOP {"drop-top", CS_CLI_KEY_DROP_TOP, required_argument, "K", \
                                 "leave out the K rows with the largest target"}
#define CS_CLI_FIT_OPT_METHOD {"method", CS_CLI_KEY_METHOD, required_argument, "M", \
                               "huber (default), lsq or huber-lik"}
#define CS_CLI_FIT_OPT_DELTA {"delta", CS_CLI_KEY_DELTA, required_argument, "D", \
                              "Huber threshold (default 1e-3)"}
#define CS_CLI_FIT_OPT_SPACE {"space", CS_CLI_KEY_SPACE, required_argument, "S", \
                              "residuals in log (default) or linear space"}
#define CS_CLI_FIT_OPT_THREADS {"threads", 't', required_argument, "N", \
                                "worker threads (default: online CPUs)"}
#define CS_CLI_FIT_OPT_MAX_ITER {"max-iter", CS_CLI_KEY_MAX_ITER, required_argument, "N", \
                                 "iterations per start (default 2000)"}

/* Entries of the comparison options and --laws, with the command's help line (fit uses them
 * for --law auto only). */
#define CS_CLI_FIT_OPT_BY(help) {"by", CS_CLI_KEY_BY, required_argument, "EXPR", help}
#define CS_CLI_FIT_OPT_CV(help) {"cv", CS_CLI_KEY_CV, required_argument, "S", help}
#define CS_CLI_FIT_OPT_FOLDS(help) {"folds", CS_CLI_KEY_FOLDS, required_argument, "K", help}
#define CS_CLI_FIT_OPT_TRAIN_FRAC(help) {"train-frac", CS_CLI_KEY_TRAIN_FRAC, required_argument, \
                                         "F", help}
#define CS_CLI_FIT_OPT_LAWS(help) {"laws", CS_CLI_KEY_LAWS, required_argument, "A,B,...", help}
// clang-format on

/* The data, method and comparison options of one invocation. */
typedef struct cs_cli_fit_opts {
    cs_cli_points_opts pts; /* --map, --derive, --where */
    size_t drop_top;        /* --drop-top K (default 0) */
    const char *by;         /* --by EXPR, or NULL (cs_cli_default_key) */
    cs_fit_params fp;       /* --method, --delta, --space, --threads, --max-iter */
    cs_compare_params cp;   /* --cv, --folds, --train-frac */
} cs_cli_fit_opts;

/* Zeroes *o and sets the defaults (cs_fit_default_params, cs_compare_default_params). */
void cs_cli_fit_opts_init(cs_cli_fit_opts *o);

/* Takes option `key` with its argument into *o: the keys of the CS_CLI_FIT_OPT_* entries
 * except --laws, and --map, --derive, --where (cs_cli_points_take); any other key is left alone
 * (CS_OK). CS_EINPUT with the option named for a bad value: --threads, --max-iter and --folds
 * need a whole number >= 1, --drop-top >= 0, --delta > 0, --train-frac in (0, 1), --space log or
 * linear, --method and --cv a name of cs_fit_method_parse and cs_compare_cv_parse. */
int cs_cli_fit_opts_take(cs_cli_fit_opts *o, int key, const char *arg);

/* The data parameters of *o (which must outlive them): maps, derives, wheres, drop_top, and a
 * positive target when the residuals are in log space; no group, holdout or key. */
cs_dataset_params cs_cli_fit_opts_data(const cs_cli_fit_opts *o);

/* How many laws a --laws/--law list may hold, and how often --laws may be given. */
#define CS_CLI_LAWS_MAX 64

/* The laws named by --laws (and, in compare, --law). */
typedef struct cs_cli_laws {
    const char *names[CS_CLI_LAWS_MAX]; /* (n) built-in names or formulas */
    size_t n;
    char *copies[CS_CLI_LAWS_MAX]; /* (ncopies) the --laws arguments, split in place; owned */
    size_t ncopies;
} cs_cli_laws;

/* --laws A,B,...: adds each name (separated by commas or spaces), which must be a built-in law,
 * to *l. CS_EINPUT "--laws: 'X' is not a built-in law<hint>" (hint: "" or a suggestion that
 * starts with a space), "--laws: at most 64 times" or "--laws: at most 64 laws"; CS_ENOMEM.
 * Free with cs_cli_laws_clear, also after an error. */
int cs_cli_laws_take(cs_cli_laws *l, const char *arg, const char *hint);

/* Adds one law (a built-in name or a formula, not copied) given by option `opt` to *l.
 * CS_EINPUT "--<opt>: at most 64 laws". */
int cs_cli_laws_add(cs_cli_laws *l, const char *law, const char *opt);

/* Frees the copies *l holds (the names taken from --laws point into them) and zeroes *l.
 * Accepts a zeroed *l. */
void cs_cli_laws_clear(cs_cli_laws *l);

/* --levels P,P,...: prediction-interval levels, each in (0, 1), into levels[0..*n-1], which has
 * room for CS_PREDICT_MAX_LEVELS (fit/predict.h). CS_EINPUT naming --levels for a bad or missing
 * value, more than CS_PREDICT_MAX_LEVELS levels or a text of 256 bytes or more. */
int cs_cli_parse_levels(const char *s, double *levels, size_t *n);

/* ---- data and laws ------------------------------------------------------------------------ */

/* Reads a CSV file ("-" = stdin) or, for a directory, one row per run log (*.h5) into *t.
 * CS_EINPUT/CS_EIO with the reader's message; a directory without run logs is CS_EINPUT. */
int cs_cli_read_points(const char *path, cs_table **t);

/* True when `name` is a built-in law. */
bool cs_cli_is_builtin(const char *name);

/* The built-in law `text`, or the formula `text` whose variables are the table's columns and
 * the names of dp's --map and --derive entries. NULL with cs_fail (CS_EINPUT for a bad name or
 * formula). */
cs_law *cs_cli_law(const char *text, const cs_table *t, const cs_dataset_params *dp);

/* The ordering key for extrapolation when none is given: "C" when the data have C (a column,
 * --map or --derive), else "6*N*D" when they have N and D, else "N"; NULL when none applies. */
const char *cs_cli_default_key(const cs_table *t, const cs_dataset_params *dp);

/* A law comparison as run by the CLI. */
typedef struct cs_cli_comparison {
    char **names; /* (nlaws) the laws compared (built-in name or formula) */
    size_t nlaws;
    char **skipped; /* (nskipped) "name: why" for candidates the data cannot feed */
    size_t nskipped;
    cs_compare_result *res;
} cs_cli_comparison;

/* Builds each law of names[0..n-1] and its data set from t with dp (dp->key must be set) and
 * compares them (fit/compare.h). With `optional`, a candidate whose law or data set cannot be
 * built (CS_EINPUT: a variable the data lack) is skipped and listed; otherwise that is the
 * error. On success *out holds the comparison (cs_cli_comparison_clear). CS_EINPUT when fewer
 * than one law remains, and the errors of cs_compare_run. */
int cs_cli_compare_laws(const char *const *names, size_t n, bool optional, const cs_table *t,
                        const cs_dataset_params *dp, const cs_fit_params *fp,
                        const cs_compare_params *cp, cs_cli_comparison *out);

/* Frees what a comparison holds and zeroes it. */
void cs_cli_comparison_clear(cs_cli_comparison *c);

/* Prints the folds and the ranking table of a comparison to f; `source` and `key` describe
 * the data. */
void cs_cli_comparison_print(FILE *f, const cs_cli_comparison *c, const char *source,
                             const char *key);

#endif /* CS_CLI_FITDATA_H */
