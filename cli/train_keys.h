/* cli/train_keys.h: the settings of `ctxscale train`: one table giving each setting's flag, its
 * [section] key in a run config and how its value is read, shared by `ctxscale train`
 * (cli/train.c, which makes a flag of every entry) and `ctxscale sweep` (cli/sweep.c, which lets
 * every entry take a list), and the reader that turns a run config into trainer parameters.
 * docs/config.md and docs/trainer.md list the keys. Tests: tests/cli/test_train.sh,
 * tests/cli/test_sweep.sh, tests/cli/test_sweep_budgets.sh.
 */
#ifndef CS_CLI_TRAIN_KEYS_H
#define CS_CLI_TRAIN_KEYS_H

#include "core/config.h"
#include "trainer/train.h"

#include <stddef.h>

/* How the value of a key is written. */
typedef enum cs_train_key_kind {
    CS_TRAIN_KEY_STR,   /* any text */
    CS_TRAIN_KEY_LONG,  /* a base-10 integer, may be negative */
    CS_TRAIN_KEY_COUNT, /* a whole count >= 0; scientific notation allowed ("20e6") */
    CS_TRAIN_KEY_NUM,   /* a finite number */
    CS_TRAIN_KEY_POS,   /* a finite number > 0 */
} cs_train_key_kind;

/* One setting. */
typedef struct cs_train_key {
    const char *flag;    /* long option of `ctxscale train`, without "--" */
    const char *section; /* config section; "" for the keys before any [section] */
    const char *key;     /* key in that section */
    int kind;            /* cs_train_key_kind */
    const char *metavar; /* placeholder of the value in --help */
    const char *help;    /* one line for --help, the default in parentheses */
} cs_train_key;

/* Room reserved for the table by callers that size arrays at compile time. */
#define CS_TRAIN_KEYS_MAX 64

/* The table, in --help order, and its length (at most CS_TRAIN_KEYS_MAX). */
extern const cs_train_key cs_train_keys[];
extern const size_t cs_train_keys_n;

/* The index in cs_train_keys of `key` in `section`, or -1. */
long cs_train_keys_find(const char *section, const char *key);

/* For a failed cs_config_check_unused (status st): when a key of the table, or one of the
 * n_extra "section.key" names of `extra` (a command's own keys), looks like the first unknown
 * key of cfg (the same key in another section, one edit away, or a prefix), appends "; did you
 * mean [section] key?" to the message. Returns st. */
int cs_train_keys_hint(const cs_config *cfg, const char *const *extra, size_t n_extra, int st);

/* Reads every key of the table present in cfg into p (keys missing leave p's value), checks
 * what needs more than one key (lr > 0, heads dividing d_model, exactly one of [train] tokens
 * and [train] flops: a FLOPs budget becomes p->tokens and p->budget_flops, see
 * cs_train_keys_budget_tokens), then runs the typo guard (cs_config_check_unused, with the hint
 * of cs_train_keys_hint). p->data and p->out point into cfg (they live
 * as long as it). Returns CS_OK or CS_EINPUT naming file, line, section and key; CS_ENOMEM. */
int cs_train_keys_read(cs_config *cfg, cs_train_params *p);

/* Training FLOPs per token of p's shape and context under CS_FLOPS_DEFAULT (the number
 * `ctxscale train --dry-run` prints), into *fpt (FLOPs/token). The vocabulary does not enter
 * that convention. CS_OK, or CS_EINPUT for a bad shape (core/flops.h). */
int cs_train_keys_flops_per_token(const cs_train_params *p, double *fpt);

/* The training tokens of a FLOPs budget for p's shape, context and batch size: flops / FLOPs per
 * token, rounded to the nearest whole number of optimizer steps, times batch_tokens, into
 * *tokens. A budget below one step gives *tokens = 0 (the caller reports it). CS_EINPUT for a
 * bad shape, batch_tokens < 1, or flops not a finite number > 0. */
int cs_train_keys_budget_tokens(const cs_train_params *p, double flops, double *tokens);

#endif /* CS_CLI_TRAIN_KEYS_H */
