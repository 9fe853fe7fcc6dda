/* cli/train_keys.c: the table of `ctxscale train`'s settings (flag, [section] key, kind) shared
 * by cli/train.c and cli/sweep.c, and the reader from a run config into cs_train_params.
 * Declared in cli/train_keys.h. Tests: tests/cli/test_train.sh, tests/cli/test_sweep.sh,
 * tests/cli/test_sweep_budgets.sh.
 */
#include "cli/train_keys.h"

#include "core/error.h"
#include "core/flops.h"
#include "core/parse.h"
#include "trainer/schedule.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define K_STR   CS_TRAIN_KEY_STR
#define K_LONG  CS_TRAIN_KEY_LONG
#define K_COUNT CS_TRAIN_KEY_COUNT
#define K_NUM   CS_TRAIN_KEY_NUM
#define K_POS   CS_TRAIN_KEY_POS

const cs_train_key cs_train_keys[] = {
    {"data", "data", "corpus", K_STR, "DIR", "token store to train on (required)"},
    {"context", "data", "context", K_COUNT, "T", "training context T, tokens (256)"},
    {"vocab", "data", "vocab", K_COUNT, "V", "expected vocabulary; 0: the store's (0)"},
    {"sampler", "data", "sampler", K_STR, "S",
     "longdoc or packed: windows in long documents or in documents concatenated (longdoc)"},
    {"layers", "model", "layers", K_COUNT, "L", "transformer blocks (4)"},
    {"d-model", "model", "d_model", K_COUNT, "C", "model width (256)"},
    {"heads", "model", "heads", K_COUNT, "H", "attention heads, dividing d_model (4)"},
    {"rope-theta", "model", "rope_theta", K_POS, "B", "rotary base frequency (10000)"},
    {"mup-base-width", "model", "mup_base_width", K_COUNT, "W",
     "muP with width multiplier d_model / W; 0: GPT-2 parametrisation (0)"},
    {"tokens", "train", "tokens", K_NUM, "D", "training tokens; steps = D / batch tokens (20e6)"},
    {"flops", "train", "flops", K_POS, "C",
     "training FLOPs budget instead of --tokens: D = C / FLOPs per token, whole steps"},
    {"batch-tokens", "train", "batch_tokens", K_COUNT, "N",
     "tokens per optimizer step, a multiple of T (16384)"},
    {"micro-tokens", "train", "micro_tokens", K_COUNT, "N",
     "tokens per forward pass (gradient accumulation); 0: auto (0)"},
    {"lr", "train", "lr", K_NUM, "LR", "peak learning rate, > 0 (3e-3)"},
    {"lr-min", "train", "lr_min", K_NUM, "LR", "final learning rate; < 0: lr / 10 (-1)"},
    {"schedule", "train", "schedule", K_STR, "S", "cosine, constant or wsd (cosine)"},
    {"warmup-steps", "train", "warmup_steps", K_LONG, "K",
     "linear warm-up steps; < 0: min(100, steps / 10) (-1)"},
    {"decay-frac", "train", "decay_frac", K_NUM, "F", "wsd: share of steps decaying (0.2)"},
    {"beta1", "train", "beta1", K_NUM, "B", "AdamW beta1 (0.9)"},
    {"beta2", "train", "beta2", K_NUM, "B", "AdamW beta2 (0.95)"},
    {"eps", "train", "eps", K_POS, "E", "AdamW epsilon (1e-8)"},
    {"weight-decay", "train", "weight_decay", K_NUM, "W",
     "decoupled weight decay on matrices (0.1)"},
    {"grad-clip", "train", "grad_clip", K_NUM, "G", "global gradient-norm clip; <= 0: off (1)"},
    {"seed", "", "seed", K_COUNT, "S", "initialisation and data order (1)"},
    {"eval-every", "eval", "every", K_COUNT, "K", "steps between evaluations; 0: at the end (100)"},
    {"eval-windows", "eval", "windows", K_COUNT, "N", "validation windows per evaluation (16)"},
    {"extrap", "eval", "extrap", K_COUNT, "X",
     "evaluate positions up to X times T (rotary extrapolation) (4)"},
    {"bins-per-octave", "eval", "bins_per_octave", K_POS, "B",
     "contextwise loss bins per doubling of position (4)"},
    {"ckpt-every", "run", "ckpt_every", K_COUNT, "K",
     "steps between checkpoints; 0: at the end (200)"},
    {"out", "run", "out", K_STR, "DIR", "output directory: run.h5 and ckpt.bin (required)"},
};
const size_t cs_train_keys_n = sizeof cs_train_keys / sizeof cs_train_keys[0];

_Static_assert(sizeof cs_train_keys / sizeof cs_train_keys[0] <= CS_TRAIN_KEYS_MAX,
               "raise CS_TRAIN_KEYS_MAX");

long cs_train_keys_find(const char *section, const char *key)
{
    for (size_t i = 0; i < cs_train_keys_n; i++)
        if (strcmp(cs_train_keys[i].section, section) == 0 &&
            strcmp(cs_train_keys[i].key, key) == 0)
            return (long)i;
    return -1;
}

/* Reads every key of the table from cfg into p (the checks that involve one key only). */
static int read_values(cs_config *cfg, cs_train_params *p)
{
    int64_t c;
    long l;
    double d;
    int st = CS_OK;

#define COUNT(sec, k, field)                                                                       \
    if (st == CS_OK && (st = cs_config_get_count(cfg, sec, k, p->field, &c)) == CS_OK)             \
    p->field = c
#define NUM(sec, k, field, flags)                                                                  \
    if (st == CS_OK && (st = cs_config_get_double(cfg, sec, k, p->field, flags, &d)) == CS_OK)     \
    p->field = d
    p->data = cs_config_get_str(cfg, "data", "corpus", p->data);
    p->out = cs_config_get_str(cfg, "run", "out", p->out);
    COUNT("data", "context", context);
    COUNT("data", "vocab", vocab);
    COUNT("model", "layers", n_layer);
    COUNT("model", "d_model", d_model);
    COUNT("model", "heads", n_head);
    NUM("model", "rope_theta", rope_theta, CS_PARSE_POSITIVE);
    COUNT("model", "mup_base_width", mup_base_width);
    NUM("train", "tokens", tokens, CS_PARSE_NONNEGATIVE);
    COUNT("train", "batch_tokens", batch_tokens);
    COUNT("train", "micro_tokens", micro_tokens);
    NUM("train", "lr", lr, 0);
    NUM("train", "lr_min", lr_min, 0);
    NUM("train", "decay_frac", decay_frac, CS_PARSE_NONNEGATIVE);
    NUM("train", "beta1", beta1, CS_PARSE_NONNEGATIVE);
    NUM("train", "beta2", beta2, CS_PARSE_NONNEGATIVE);
    NUM("train", "eps", eps, CS_PARSE_POSITIVE);
    NUM("train", "weight_decay", weight_decay, CS_PARSE_NONNEGATIVE);
    NUM("train", "grad_clip", grad_clip, 0);
    NUM("eval", "bins_per_octave", bins_per_octave, CS_PARSE_POSITIVE);
    COUNT("eval", "every", eval_every);
    COUNT("eval", "windows", eval_windows);
    COUNT("eval", "extrap", extrap);
    COUNT("run", "ckpt_every", ckpt_every);
#undef COUNT
#undef NUM
    if (st == CS_OK && (st = cs_config_get_long(cfg, "train", "warmup_steps", (long)p->warmup_steps,
                                                -1, 1000000000L, &l)) == CS_OK)
        p->warmup_steps = l;
    if (st == CS_OK && (st = cs_config_get_count(cfg, "", "seed", (int64_t)p->seed, &c)) == CS_OK)
        p->seed = (uint64_t)c;
    if (st == CS_OK) {
        const char *s = cs_config_get_str(cfg, "train", "schedule", NULL);

        if (s && cs_schedule_parse(s, &p->schedule, "schedule") != CS_OK)
            st = cs_config_fail(cfg, "train", "schedule", "%s", cs_errmsg());
    }
    if (st == CS_OK) {
        const char *s = cs_config_get_str(cfg, "data", "sampler", NULL);

        if (s && cs_train_sampler_parse(s, &p->sampler) != CS_OK)
            st = cs_config_fail(cfg, "data", "sampler", "%s", cs_errmsg());
    }
    return st;
}

/* [train] flops: the budget becomes p->tokens (and p->budget_flops). */
static int read_budget(cs_config *cfg, cs_train_params *p)
{
    double flops, tokens, fpt;
    int st;

    if (cs_config_has_key(cfg, "train", "tokens"))
        return cs_config_fail(cfg, "train", "flops",
                              "set together with [train] tokens; give one budget (--flops or "
                              "--tokens), not both");
    st = cs_config_get_double(cfg, "train", "flops", 0, CS_PARSE_POSITIVE, &flops);
    if (st == CS_OK && cs_train_keys_budget_tokens(p, flops, &tokens) != CS_OK)
        st = cs_config_fail(cfg, "train", "flops", "%s", cs_errmsg());
    if (st == CS_OK && tokens == 0 && cs_train_keys_flops_per_token(p, &fpt) == CS_OK)
        st = cs_config_fail(cfg, "train", "flops",
                            "%g FLOPs is below one optimizer step (%.4g FLOPs: %lld batch tokens "
                            "x %.4g FLOPs per token)",
                            flops, fpt * (double)p->batch_tokens, (long long)p->batch_tokens, fpt);
    if (st == CS_OK) {
        p->tokens = tokens;
        p->budget_flops = flops;
    }
    return st;
}

int cs_train_keys_read(cs_config *cfg, cs_train_params *p)
{
    int st = read_values(cfg, p);

    if (st == CS_OK && p->lr <= 0)
        st = cs_config_fail(cfg, "train", "lr", "expected a number > 0, got %g", p->lr);
    if (st == CS_OK && p->n_head > 0 && p->d_model % p->n_head != 0)
        st = cs_config_fail(cfg, "model", "heads", "%lld does not divide d_model = %lld",
                            (long long)p->n_head, (long long)p->d_model);
    if (st == CS_OK && cs_config_has_key(cfg, "train", "flops"))
        st = read_budget(cfg, p);
    if (st == CS_OK && (st = cs_config_check_unused(cfg)) != CS_OK)
        st = cs_train_keys_hint(cfg, NULL, 0, st);
    return st;
}

/* True when a and b differ by one edit: a change, an insertion, a deletion or two neighbours
 * swapped. */
static bool one_edit(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i = 0;

    if (la < lb)
        return one_edit(b, a);
    if (la - lb > 1)
        return false;
    while (i < lb && a[i] == b[i])
        i++;
    if (la != lb)
        return strcmp(a + i + 1, b + i) == 0;
    if (i == la || strcmp(a + i + 1, b + i + 1) == 0)
        return true;
    return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && strcmp(a + i + 2, b + i + 2) == 0;
}

/* How much key (sk, kk) looks like the unknown (section, key): 2 the same key in another
 * section, 1 one edit away or one a prefix of the other (3 letters at least) in the same
 * section, 0 not at all. */
static int likeness(const char *sk, const char *kk, const char *section, const char *key)
{
    size_t lk = strlen(kk), lq = strlen(key);

    if (strcmp(sk, section) != 0)
        return strcmp(kk, key) == 0 ? 2 : 0;
    return one_edit(kk, key) || (lq >= 3 && strncmp(kk, key, lq < lk ? lq : lk) == 0);
}

/* Splits "section.key" (or "key") of `extra` into sec (size n) and returns the key. */
static const char *split_name(const char *name, char *sec, size_t n)
{
    const char *dot = strchr(name, '.');

    snprintf(sec, n, "%.*s", dot ? (int)(dot - name) : 0, name);
    return dot ? dot + 1 : name;
}

int cs_train_keys_hint(const cs_config *cfg, const char *const *extra, size_t n_extra, int st)
{
    char sec[64], best[128] = "";
    int score = 0;

    for (size_t e = 0; e < cs_config_entry_count(cfg); e++) {
        const cs_config_entry *en = cs_config_entry_at(cfg, e);
        bool known = cs_train_keys_find(en->section, en->key) >= 0;

        for (size_t j = 0; j < n_extra && !known; j++) {
            const char *k = split_name(extra[j], sec, sizeof sec);

            known = strcmp(sec, en->section) == 0 && strcmp(k, en->key) == 0;
        }
        if (known)
            continue;
        for (size_t i = 0; i < cs_train_keys_n + n_extra; i++) {
            const char *k = i < cs_train_keys_n
                                ? cs_train_keys[i].key
                                : split_name(extra[i - cs_train_keys_n], sec, sizeof sec);
            const char *sk = i < cs_train_keys_n ? cs_train_keys[i].section : sec;
            int l = likeness(sk, k, en->section, en->key);

            if (l > score) {
                score = l;
                snprintf(best, sizeof best, "%s%s%s%s", sk[0] ? "[" : "", sk, sk[0] ? "] " : "", k);
            }
        }
        break; /* the first unknown key is the one cs_config_check_unused names */
    }
    if (score > 0) {
        char msg[CS_ERRMSG_MAX];

        snprintf(msg, sizeof msg, "%s", cs_errmsg()); /* cs_fail rewrites the message buffer */
        return cs_fail(st, "%s; did you mean %s?", msg, best);
    }
    return st;
}

int cs_train_keys_flops_per_token(const cs_train_params *p, double *fpt)
{
    cs_model_shape s = {p->n_layer, p->d_model, p->n_head, p->vocab > 0 ? p->vocab : 2, p->context};

    return cs_flops_per_token(&s, CS_FLOPS_DEFAULT, fpt);
}

int cs_train_keys_budget_tokens(const cs_train_params *p, double flops, double *tokens)
{
    double fpt, steps;
    int st;

    if (!(flops > 0) || !isfinite(flops))
        return cs_fail(CS_EINPUT, "flops: expected a finite number > 0, got %g", flops);
    if (p->batch_tokens < 1)
        return cs_fail(CS_EINPUT, "batch_tokens: expected a count >= 1");
    st = cs_train_keys_flops_per_token(p, &fpt);
    if (st)
        return st;
    steps = flops / fpt / (double)p->batch_tokens;
    *tokens = steps < 1 ? 0 : round(steps) * (double)p->batch_tokens;
    return CS_OK;
}
