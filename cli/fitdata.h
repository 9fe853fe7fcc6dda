/* cli/fitdata.h: what `ctxscale fit`, `compare` and `predict` share — reading the points (a CSV
 * file or a directory of run logs), building a law from a built-in name or a formula whose
 * variables are the data's names, the default ordering key for extrapolation, and law
 * comparison with its table. Tested through tests/cli/test_fit.sh and tests/cli/test_predict.sh.
 */
#ifndef CS_CLI_FITDATA_H
#define CS_CLI_FITDATA_H

#include "core/table.h"
#include "fit/compare.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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
