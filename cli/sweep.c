/* cli/sweep.c: `ctxscale sweep SWEEP.cfg` — a grid of training runs. Every key of a run config
 * (the table of `ctxscale train`, cli/train_keys.h; docs/trainer.md) may be a list; each list is
 * an axis of the grid, `[sweep] paired` zips lists by position, `[sweep] repeats` adds seeds.
 * Each run is one `ctxscale train` child process (fork + execv of this binary, never a shell)
 * writing <out>/<run name>/run.h5. Finished runs are skipped, interrupted ones resumed, runs
 * without a checkpoint restarted; --jobs runs several at once; --dry-run lists the runs and their
 * FLOPs; --emit-slurm writes a job-array script instead. Budgets may be FLOPs ([train] flops);
 * [train] decay_budgets makes WSD families: the largest budget's run stops at each smaller
 * budget's decay start, and that budget's run decays from a copy of its state. docs/config.md
 * ("A sweep config", "Budgets in a sweep") and docs/cli.md describe it. Tests:
 * tests/cli/test_sweep.sh, tests/cli/test_sweep_budgets.sh.
 */
#include "cli/cli.h"
#include "cli/opt.h"
#include "cli/train_keys.h"
#include "core/afile.h"
#include "core/config.h"
#include "core/error.h"
#include "core/flops.h"
#include "core/parse.h"
#include "core/progress.h"
#include "core/runlog.h"
#include "core/runlog_read.h"
#include "trainer/schedule.h"
#include "trainer/train.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the run settings a sweep knows: the keys of `ctxscale train` (cli/train_keys.h) ----- */

#define NK       CS_TRAIN_KEYS_MAX
#define MAX_RUNS 100000

/* How run names spell the keys, in the order of the name parts and of the grid's axes. Layers,
 * width, context and the budget (tokens, or flops when the sweep gives FLOPs budgets) are always
 * named; the others when they vary. Keys of the table not listed follow in table order, named
 * "<key>_<value>". The abbreviations are part of the directory names of runs already trained:
 * changing one makes an old sweep start those runs over. */
static const struct name_part {
    const char *section;
    const char *key;
    const char *abbrev;
} name_parts[] = {
    {"model", "layers", "l"},        {"model", "d_model", "d"},
    {"data", "context", "T"},        {"train", "tokens", "D"},
    {"train", "flops", "C"},         {"model", "heads", "h"},
    {"data", "vocab", "V"},          {"data", "corpus", ""},
    {"model", "rope_theta", "rope"}, {"train", "batch_tokens", "bt"},
    {"train", "micro_tokens", "mt"}, {"train", "lr", "lr"},
    {"train", "lr_min", "lrmin"},    {"train", "schedule", ""},
    {"train", "warmup_steps", "wu"}, {"train", "decay_frac", "df"},
    {"train", "beta1", "b1"},        {"train", "beta2", "b2"},
    {"train", "eps", "eps"},         {"train", "weight_decay", "wd"},
    {"train", "grad_clip", "gc"},    {"", "seed", "s"},
    {"eval", "every", "ee"},         {"eval", "windows", "ew"},
    {"eval", "extrap", "x"},         {"eval", "bins_per_octave", "bpo"},
    {"run", "ckpt_every", "ck"},     {"model", "mup_base_width", "mup"},
};

/* The values of one key: n items as written (text) and parsed (num; NaN for text keys). */
typedef struct key_vals {
    size_t n; /* 0: the key is not in the config (train's default applies) */
    char **text;
    double *num;
    int group; /* axis index, or -1 for a constant */
} key_vals;

enum { ST_NEW, ST_DONE, ST_RESUME, ST_RESTART };
static const char *const state_names[] = {"new", "finished", "resume", "restart"};

/* A run of its own, or a member of a WSD family ([train] decay_budgets): the trunk (the largest
 * budget, trained straight through, stopping at each smaller budget's decay start so that its
 * state can be copied) and the branches (each a decay continued from such a copy). */
enum { ROLE_RUN, ROLE_TRUNK, ROLE_BRANCH };

typedef struct sweep_run {
    char *name;
    char *dir;
    size_t item[NK];     /* item index of each key (cs_train_keys order) */
    uint64_t seed;       /* used when seeded: repeats > 1 */
    cs_train_params p;   /* the settings as the trainer will see them (data/out not set) */
    double n_params;     /* non-embedding parameters N */
    double tokens;       /* planned tokens: steps * batch_tokens */
    double flops;        /* planned training FLOPs (CS_FLOPS_DEFAULT) */
    double cost;         /* FLOPs this run trains itself: a branch only its decay */
    int role;            /* ROLE_* */
    size_t trunk;        /* a branch's trunk (index in runs) */
    size_t budget;       /* family member: index in sweep.budgets */
    int64_t warmup;      /* family member: the warm-up steps every member shares */
    int64_t decay_start; /* family member: steps done before the first decayed step */
    int64_t stop;        /* trunk: the step its current segment stops at; 0: none */
    int state;
    bool settled; /* finished or failed in this sweep: not started again */
    pid_t pid;
    double t_start;
} sweep_run;

typedef struct sweep {
    cs_config *cfg;
    const char *name;
    const char *out;
    long repeats;
    key_vals vals[NK]; /* by index in cs_train_keys */
    size_t order[NK];  /* table indices in name and axis order */
    const char *abbrev[NK];
    long k_seed, k_corpus, k_tokens, k_flops, k_warmup, k_schedule; /* keys treated apart */
    size_t n_groups;
    size_t group_len[NK];
    long k_budget;            /* the budget named in run names: k_flops when set, else k_tokens */
    char **decay_strs;        /* [train] decay_budgets as written (one block) */
    const char **budget_text; /* (n_budgets) the budgets of a WSD family, ascending, as written */
    double *budgets;          /* (n_budgets) tokens or FLOPs */
    size_t n_budgets;         /* 0: no decay budgets */
    sweep_run *runs;
    size_t n_runs;
    char exe[PATH_MAX];
} sweep;

/* ---- options ------------------------------------------------------------------------------ */

enum {
    OPT_SET = 256,
    OPT_OUT,
    OPT_JOBS,
    OPT_THREADS,
    OPT_DRY_RUN,
    OPT_SLURM,
    OPT_GPUS,
    OPT_PROGRESS,
};

static const cs_cli_opt sweep_opts[] = {
    {"set", OPT_SET, required_argument, "SEC.KEY=V",
     "set a key of the sweep config, e.g. data.context=64,128 (repeatable)"},
    {"out", OPT_OUT, required_argument, "DIR", "runs directory (default: [sweep] out)"},
    {"jobs", 'j', required_argument, "N", "runs trained at once (1)"},
    {"threads", OPT_THREADS, required_argument, "N",
     "threads per run (default: max(1, cores / jobs))"},
    {"dry-run", OPT_DRY_RUN, no_argument, NULL, "list the runs, their state and FLOPs; run none"},
    {"emit-slurm", OPT_SLURM, required_argument, "FILE",
     "write a Slurm job-array script (one task per run) instead of running"},
    {"gpus-per-task", OPT_GPUS, required_argument, "N", "Slurm: #SBATCH --gpus-per-task=N"},
    {"force", 'f', no_argument, NULL, "replace an existing --emit-slurm FILE"},
    {"quiet", 'q', no_argument, NULL, "no progress bar"},
    {"progress", OPT_PROGRESS, no_argument, NULL, "progress bar even when stderr is no terminal"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd sweep_cmd = {
    "sweep",
    "SWEEP.cfg [OPTIONS]",
    "Train a grid of runs, one `ctxscale train` process each, into one run log per run\n"
    "(<out>/<run name>/run.h5). Finished runs are skipped, interrupted runs resumed.",
    sweep_opts,
    "The config has the sections of a run config (docs/config.md); any value may be a list,\n"
    "and every list is an axis of the grid. [sweep] takes name, out, paired and repeats;\n"
    "[train] flops gives FLOPs budgets, [train] decay_budgets WSD runs that share one stable\n"
    "phase (docs/config.md).\n"
    "Exit status: 0 every run finished (or diverged); 1 a run failed or the sweep was\n"
    "interrupted (run it again to continue); 2 bad config or options.\n"
    "Example: ctxscale sweep examples/sweep-tiny.cfg --jobs 2",
};

/* A new string formatted as printf would (the caller frees it), or NULL when memory runs out. */
static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1)))
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- reading the config ------------------------------------------------------------------- */

static void sweep_free(sweep *sw)
{
    for (size_t i = 0; i < NK; i++) {
        free(sw->vals[i].text);
        free(sw->vals[i].num);
    }
    for (size_t r = 0; r < sw->n_runs; r++) {
        free(sw->runs[r].name);
        free(sw->runs[r].dir);
    }
    free(sw->runs);
    free(sw->budget_text);
    free(sw->decay_strs);
    free(sw->budgets);
    cs_config_free(sw->cfg);
}

/* Fills sw->order and sw->abbrev: the keys of name_parts first, then the rest of the table. */
static void order_keys(sweep *sw)
{
    bool seen[NK] = {false};
    size_t n = 0;

    for (size_t j = 0; j < sizeof name_parts / sizeof name_parts[0]; j++) {
        long i = cs_train_keys_find(name_parts[j].section, name_parts[j].key);

        if (i >= 0 && !seen[i]) {
            seen[i] = true;
            sw->abbrev[i] = name_parts[j].abbrev;
            sw->order[n++] = (size_t)i;
        }
    }
    for (size_t i = 0; i < cs_train_keys_n; i++)
        if (!seen[i]) {
            sw->abbrev[i] = NULL;
            sw->order[n++] = i;
        }
    sw->k_seed = cs_train_keys_find("", "seed");
    sw->k_corpus = cs_train_keys_find("data", "corpus");
    sw->k_tokens = cs_train_keys_find("train", "tokens");
    sw->k_flops = cs_train_keys_find("train", "flops");
    sw->k_warmup = cs_train_keys_find("train", "warmup_steps");
    sw->k_schedule = cs_train_keys_find("train", "schedule");
    CS_ASSERT(sw->k_seed >= 0 && sw->k_corpus >= 0 && sw->k_tokens >= 0 && sw->k_flops >= 0 &&
              sw->k_warmup >= 0 && sw->k_schedule >= 0);
}

/* Reads the items of key i (text and numbers, each checked by the key's kind) into sw->vals[i]. */
static int read_key(sweep *sw, size_t i)
{
    const cs_train_key *k = &cs_train_keys[i];
    key_vals *v = &sw->vals[i];
    int64_t *c = NULL;
    double *d = NULL;
    size_t n = 0;
    int st;

    if (!cs_config_has_key(sw->cfg, k->section, k->key))
        return CS_OK;
    st = cs_config_get_strs(sw->cfg, k->section, k->key, NULL, 0, &v->text, &v->n);
    if (st == CS_OK && !(v->num = malloc(v->n * sizeof *v->num)))
        st = cs_fail(CS_ENOMEM, "out of memory");
    if (st == CS_OK && (k->kind == CS_TRAIN_KEY_NUM || k->kind == CS_TRAIN_KEY_POS)) {
        st = cs_config_get_doubles(sw->cfg, k->section, k->key, NULL, 0,
                                   k->kind == CS_TRAIN_KEY_POS ? CS_PARSE_POSITIVE : 0, &d, &n);
        for (size_t j = 0; st == CS_OK && j < n; j++)
            v->num[j] = d[j];
        free(d);
    } else if (st == CS_OK && k->kind == CS_TRAIN_KEY_COUNT) {
        st = cs_config_get_counts(sw->cfg, k->section, k->key, NULL, 0, &c, &n);
        for (size_t j = 0; st == CS_OK && j < n; j++)
            v->num[j] = (double)c[j];
        free(c);
    } else {
        for (size_t j = 0; st == CS_OK && j < v->n; j++) {
            long l = 0;

            v->num[j] = NAN;
            if (k->kind == CS_TRAIN_KEY_LONG && cs_parse_long(v->text[j], &l, k->key) != CS_OK)
                st = cs_config_fail(sw->cfg, k->section, k->key,
                                    "item %zu: expected an integer, got \"%s\"", j + 1, v->text[j]);
            else if (k->kind == CS_TRAIN_KEY_LONG)
                v->num[j] = (double)l;
        }
    }
    return st;
}

/* The index of "section.key" (or "key" of the top section) in cs_train_keys, or -1. */
static long find_key(const char *name)
{
    const char *dot = strchr(name, '.');
    char sec[CS_CONFIG_SECTION_MAX + 1];

    if (!dot)
        return cs_train_keys_find("", name);
    if ((size_t)(dot - name) > CS_CONFIG_SECTION_MAX)
        return -1;
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - name), name);
    return cs_train_keys_find(sec, dot + 1);
}

/* Makes the keys of [sweep] paired one axis; checks they exist and have equal lengths. */
static int read_paired(sweep *sw)
{
    char **names = NULL;
    size_t n = 0, first = 0;
    long g = -1;
    int st = cs_config_get_strs(sw->cfg, "sweep", "paired", NULL, 0, &names, &n);

    for (size_t j = 0; st == CS_OK && j < n; j++) {
        long i = find_key(names[j]);

        if (i < 0)
            st = cs_config_fail(sw->cfg, "sweep", "paired",
                                "item %zu: \"%s\" is not a run setting (expected SECTION.KEY, "
                                "e.g. model.layers)",
                                j + 1, names[j]);
        else if (sw->vals[i].n == 0)
            st =
                cs_config_fail(sw->cfg, "sweep", "paired", "%s is not set in the config", names[j]);
        else if (sw->vals[i].group >= 0)
            st = cs_config_fail(sw->cfg, "sweep", "paired", "%s is listed twice", names[j]);
        else if (g >= 0 && sw->vals[i].n != sw->group_len[g])
            st = cs_config_fail(sw->cfg, "sweep", "paired",
                                "paired lists differ in length: %s has %zu items, %s has %zu",
                                names[first], sw->group_len[g], names[j], sw->vals[i].n);
        if (st != CS_OK)
            break;
        if (g < 0) {
            g = (long)sw->n_groups++;
            sw->group_len[g] = sw->vals[i].n;
            first = j;
        }
        sw->vals[i].group = (int)g;
    }
    free(names);
    return st;
}

/* Adds budget x (written as text) to the family, keeping it sorted; CS_EINPUT when listed twice. */
static int add_budget(sweep *sw, double x, const char *text)
{
    size_t j = sw->n_budgets;

    for (size_t k = 0; k < sw->n_budgets; k++)
        if (sw->budgets[k] == x)
            return cs_config_fail(sw->cfg, "train", "decay_budgets", "%s is listed twice", text);
    while (j > 0 && sw->budgets[j - 1] > x) {
        sw->budgets[j] = sw->budgets[j - 1];
        sw->budget_text[j] = sw->budget_text[j - 1];
        j--;
    }
    sw->budgets[j] = x;
    sw->budget_text[j] = text;
    sw->n_budgets++;
    return CS_OK;
}

/* [train] decay_budgets: the budgets of a WSD family, in the unit of the budget key ([train]
 * flops when set, else tokens). The budget key, when set, is one value, the largest budget. */
static int read_decay(sweep *sw)
{
    const key_vals *sch = &sw->vals[sw->k_schedule], *b = &sw->vals[sw->k_budget];
    const char *bkey = cs_train_keys[sw->k_budget].key;
    double *d = NULL;
    size_t n = 0, m = 0;
    int st;

    if (!cs_config_has_key(sw->cfg, "train", "decay_budgets"))
        return CS_OK;
    st = cs_config_get_doubles(sw->cfg, "train", "decay_budgets", NULL, 0, CS_PARSE_POSITIVE, &d,
                               &n);
    if (st == CS_OK)
        st = cs_config_get_strs(sw->cfg, "train", "decay_budgets", NULL, 0, &sw->decay_strs, &m);
    for (size_t j = 0; st == CS_OK && j <= sch->n; j++)
        if (j == sch->n ? sch->n == 0 : strcmp(sch->text[j], "wsd") != 0)
            st = cs_config_fail(sw->cfg, "train", "decay_budgets",
                                "needs [train] schedule = wsd (decay checkpoints branch off a "
                                "WSD run's stable phase), got %s",
                                sch->n ? sch->text[j] : "the default, cosine");
    if (st == CS_OK && b->n > 1)
        st = cs_config_fail(sw->cfg, "train", bkey,
                            "must be one value with [train] decay_budgets (the largest budget; "
                            "list the others in decay_budgets)");
    if (st == CS_OK && (!(sw->budgets = malloc((n + 1) * sizeof *sw->budgets)) ||
                        !(sw->budget_text = malloc((n + 1) * sizeof *sw->budget_text))))
        st = cs_fail(CS_ENOMEM, "out of memory");
    for (size_t j = 0; st == CS_OK && j < n; j++) {
        if (b->n == 1 && d[j] > b->num[0])
            st = cs_config_fail(sw->cfg, "train", "decay_budgets",
                                "%s is above the [train] %s budget %s (the largest one)",
                                sw->decay_strs[j], bkey, b->text[0]);
        else
            st = add_budget(sw, d[j], sw->decay_strs[j]);
    }
    if (st == CS_OK && b->n == 1 && sw->budgets[sw->n_budgets - 1] != b->num[0])
        st = add_budget(sw, b->num[0], b->text[0]);
    free(d);
    return st;
}

/* The keys a sweep config has beyond those of `ctxscale train`. */
static const char *const sweep_keys[] = {"sweep.name", "sweep.out", "sweep.paired", "sweep.repeats",
                                         "train.decay_budgets"};

/* Reads [sweep] and every run key, groups the lists into axes, and runs the typo guard. */
static int read_sweep(sweep *sw, const char *out_flag)
{
    int st = CS_OK;

    order_keys(sw);
    for (size_t i = 0; i < NK; i++)
        sw->vals[i].group = -1;
    if (cs_config_has_key(sw->cfg, "run", "out"))
        return cs_config_fail(sw->cfg, "run", "out",
                              "the sweep sets each run's directory; use [sweep] out");
    sw->name = cs_config_get_str(sw->cfg, "sweep", "name", "sweep");
    sw->out = cs_config_get_str(sw->cfg, "sweep", "out", NULL);
    if (out_flag)
        sw->out = out_flag;
    st = cs_config_get_long(sw->cfg, "sweep", "repeats", 1, 1, 1000, &sw->repeats);
    for (size_t j = 0; st == CS_OK && j < cs_train_keys_n; j++)
        st = read_key(sw, sw->order[j]);
    if (st == CS_OK)
        st = read_paired(sw);
    for (size_t j = 0; st == CS_OK && j < cs_train_keys_n; j++) {
        size_t i = sw->order[j];

        if (sw->vals[i].n > 1 && sw->vals[i].group < 0) {
            sw->group_len[sw->n_groups] = sw->vals[i].n;
            sw->vals[i].group = (int)sw->n_groups++;
        }
    }
    sw->k_budget = sw->vals[sw->k_flops].n ? sw->k_flops : sw->k_tokens;
    if (st == CS_OK && sw->vals[sw->k_flops].n && sw->vals[sw->k_tokens].n)
        st = cs_config_fail(sw->cfg, "train", "flops",
                            "set together with [train] tokens; give one budget, not both");
    if (st == CS_OK)
        st = read_decay(sw);
    if (st == CS_OK && (st = cs_config_check_unused(sw->cfg)) != CS_OK)
        st = cs_train_keys_hint(sw->cfg, sweep_keys, sizeof sweep_keys / sizeof sweep_keys[0], st);
    if (st == CS_OK && (!sw->out || !sw->out[0]))
        st = cs_fail(CS_EINPUT,
                     "%s: [sweep] out: missing; give the runs directory there or "
                     "with --out",
                     cs_config_name(sw->cfg));
    return st;
}

/* ---- the runs ----------------------------------------------------------------------------- */

/* Writes value x (as written: text) of a run-name part into val: whole numbers from 1000 on
 * with trailing zeros as an exponent (500000 -> 5e5), a store path as its last component, and
 * every character but letters, digits and . - + _ replaced by _ (names are directory names). */
static void format_value(double x, const char *text, bool is_path, char *val, size_t n)
{
    if (is_path) {
        size_t len = strlen(text);

        while (len > 1 && text[len - 1] == '/') /* "data/wiki/" -> "wiki" */
            len--;
        size_t b = len;

        while (b > 0 && text[b - 1] != '/')
            b--;
        snprintf(val, n, "%.*s", (int)(len - b), text + b);
    } else if (x == floor(x) && fabs(x) >= 1000 && fabs(x) < 9007199254740992.0) {
        long long m = (long long)x;
        int e = 0;

        while (m % 10 == 0) {
            m /= 10;
            e++;
        }
        if (e >= 3)
            snprintf(val, n, "%llde%d", m, e);
        else
            snprintf(val, n, "%.0f", x);
    } else if (!isnan(x) && text == NULL) {
        snprintf(val, n, "%g", x);
    } else {
        snprintf(val, n, "%s", text);
    }
    for (char *c = val; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-' || *c == '+' || *c == '_'))
            *c = '_';
}

/* The text of key i for run r ("" section keys included), or NULL when the run leaves it to
 * train's default. */
static const char *run_value(const sweep *sw, const sweep_run *r, size_t i, char *buf, size_t n)
{
    if ((long)i == sw->k_seed && sw->repeats > 1) {
        snprintf(buf, n, "%llu", (unsigned long long)r->seed);
        return buf;
    }
    if (r->role != ROLE_RUN && (long)i == sw->k_budget)
        return sw->budget_text[r->budget];
    if (r->role != ROLE_RUN && (long)i == sw->k_warmup && r->warmup >= -1) {
        snprintf(buf, n, "%lld", (long long)r->warmup);
        return buf;
    }
    return sw->vals[i].n ? sw->vals[i].text[r->item[i]] : NULL;
}

/* A name from the run's values: l, d, T and the budget (D, or C for FLOPs) always (train's
 * default when the config lacks them), then every other key that varies, then the seed when
 * repeats > 1. */
static int name_run(const sweep *sw, sweep_run *r)
{
    cs_train_params def = cs_train_default_params();
    char buf[512], val[96];
    size_t len = 0;

    for (size_t j = 0; j < cs_train_keys_n && len < sizeof buf; j++) {
        size_t i = sw->order[j];
        const cs_train_key *k = &cs_train_keys[i];
        const key_vals *v = &sw->vals[i];
        bool budget = (long)i == sw->k_tokens || (long)i == sw->k_flops;

        if (budget && (long)i != sw->k_budget)
            continue;
        if (j >= 3 && !budget && v->group < 0)
            continue;
        if (budget && r->role != ROLE_RUN)
            format_value(sw->budgets[r->budget], sw->budget_text[r->budget], false, val,
                         sizeof val);
        else if (v->n == 0 && j < 3)
            format_value(j == 0 ? (double)def.n_layer
                                : (double)(j == 1 ? def.d_model : def.context),
                         NULL, false, val, sizeof val);
        else if (v->n == 0)
            format_value(def.tokens, NULL, false, val, sizeof val);
        else
            format_value(v->num[r->item[i]], v->text[r->item[i]], k->kind == CS_TRAIN_KEY_STR, val,
                         sizeof val);
        if (sw->abbrev[i])
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s%s", len ? "-" : "",
                                    sw->abbrev[i], val);
        else
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s_%s", len ? "-" : "", k->key,
                                    val);
    }
    if (sw->repeats > 1 && len < sizeof buf)
        snprintf(buf + len, sizeof buf - len, "-s%llu", (unsigned long long)r->seed);
    r->name = strdup(buf);
    if (r->name)
        r->dir = str_printf("%s/%s", sw->out, r->name);
    return r->name && r->dir ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");
}

/* Records the last message again as "<config>: run <name>: <message>", without the
 * "command line: " that the run's settings (set one by one, not read from a file) carry. */
static int run_fail(const sweep *sw, const sweep_run *r, int st)
{
    char msg[CS_ERRMSG_MAX];
    const char *m = cs_errmsg();

    if (strncmp(m, "command line: ", 14) == 0)
        m += 14;
    snprintf(msg, sizeof msg, "%s", m);
    return cs_fail(st == CS_ENOMEM ? st : CS_EINPUT, "%s: run %s: %s", cs_config_name(sw->cfg),
                   r->name, msg);
}

/* The trainer's settings of run r, read from its keys by the reader `ctxscale train` uses
 * (cli/train_keys.h) and checked as it checks them, and its size and FLOPs. */
static int plan_run(const sweep *sw, sweep_run *r)
{
    cs_train_params *p = &r->p;
    cs_config *c = NULL;
    cs_param_count pc;
    cs_model_shape s;
    char buf[32];
    double fpt;
    int st = cs_config_read_string("", cs_config_name(sw->cfg), &c);

    for (size_t i = 0; st == CS_OK && i < cs_train_keys_n; i++) {
        const char *v = run_value(sw, r, i, buf, sizeof buf);

        if (v)
            st = cs_config_set(c, cs_train_keys[i].section, cs_train_keys[i].key, v);
    }
    *p = cs_train_default_params();
    st = st ? st : cs_train_keys_read(c, p);
    st = st ? st : cs_train_check(p);
    p->data = p->out = NULL; /* they pointed into c */
    cs_config_free(c);
    s = (cs_model_shape){p->n_layer, p->d_model, p->n_head, p->vocab > 0 ? p->vocab : 2,
                         p->context};
    st = st ? st : cs_flops_count_params(&s, &pc);
    st = st ? st : cs_train_keys_flops_per_token(p, &fpt);
    if (st != CS_OK)
        return run_fail(sw, r, st);
    r->n_params = (double)pc.non_embedding;
    r->tokens = (double)cs_train_steps(p) * (double)p->batch_tokens;
    r->flops = fpt * r->tokens;
    r->cost = r->flops;
    return CS_OK;
}

/* Steps done before the first decayed step of p's WSD schedule over `steps` steps, found with
 * the trainer's own cs_schedule_lr (the first step past the warm-up whose rate is below the
 * peak), or -1 with a message when the schedule is bad. */
static int64_t decay_start(const cs_train_params *p, int64_t steps)
{
    cs_schedule s = {CS_SCHEDULE_WSD, 1.0, 0.0, p->warmup_steps, steps, p->decay_frac};
    int64_t lo = p->warmup_steps, hi = steps;

    if (cs_schedule_check(&s) != CS_OK)
        return -1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;

        if (cs_schedule_lr(&s, mid) < 1.0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Plans the n members of a WSD family at runs[base..base + n): one warm-up for all (the
 * configured one, else the default of the smallest budget, min(100, steps / 10)), and each
 * member's decay start; a branch trains only from there. */
static int plan_family(sweep *sw, size_t base, size_t n)
{
    sweep_run *f = &sw->runs[base];
    int64_t w = f[0].p.warmup_steps, steps;

    if (w < 0)
        w = cs_train_steps(&f[0].p) / 10 < 100 ? cs_train_steps(&f[0].p) / 10 : 100;
    for (size_t k = 0; k < n; k++) {
        int st;

        f[k].warmup = w;
        st = plan_run(sw, &f[k]);
        if (st != CS_OK)
            return st;
        steps = cs_train_steps(&f[k].p);
        f[k].decay_start = decay_start(&f[k].p, steps);
        if (f[k].decay_start < 0)
            return run_fail(sw, &f[k], CS_EINPUT);
        if (f[k].role == ROLE_BRANCH && f[k].decay_start < 1)
            return cs_fail(CS_EINPUT,
                           "%s: run %s: its decay starts at step 0, so there is no stable phase "
                           "to share (set [train] warmup_steps or a smaller decay_frac)",
                           cs_config_name(sw->cfg), f[k].name);
        if (f[k].role == ROLE_BRANCH)
            f[k].cost = f[k].flops * (double)(steps - f[k].decay_start) / (double)steps;
    }
    return CS_OK;
}

/* Enumerates the grid (the first axis outermost, repeats innermost), names and checks each run. */
static int build_runs(sweep *sw)
{
    size_t pos[NK] = {0}, nf = sw->n_budgets ? sw->n_budgets : 1, total = (size_t)sw->repeats * nf;
    cs_train_params def = cs_train_default_params();
    const key_vals *seeds = &sw->vals[sw->k_seed];
    int st = CS_OK;

    for (size_t g = 0; g < sw->n_groups; g++) {
        if (total > MAX_RUNS / sw->group_len[g])
            return cs_fail(CS_EINPUT, "%s: the grid has more than %d runs", cs_config_name(sw->cfg),
                           MAX_RUNS);
        total *= sw->group_len[g];
    }
    if (total > MAX_RUNS)
        return cs_fail(CS_EINPUT, "%s: the grid has more than %d runs", cs_config_name(sw->cfg),
                       MAX_RUNS);
    if (!(sw->runs = calloc(total, sizeof *sw->runs)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (size_t r = 0; r < total / nf && st == CS_OK; r++) {
        size_t rep = r % (size_t)sw->repeats, base = sw->n_runs;

        for (size_t k = 0; k < nf && st == CS_OK; k++) { /* the family's members, trunk last */
            sweep_run *run = &sw->runs[sw->n_runs++];

            for (size_t i = 0; i < NK; i++)
                run->item[i] = sw->vals[i].group >= 0 ? pos[sw->vals[i].group] : 0;
            run->seed = (seeds->n ? (uint64_t)seeds->num[run->item[sw->k_seed]] : def.seed) + rep;
            run->role = !sw->n_budgets ? ROLE_RUN : k + 1 < nf ? ROLE_BRANCH : ROLE_TRUNK;
            run->budget = k;
            run->trunk = base + nf - 1;
            run->warmup = -2; /* as configured, until plan_family knows the family's */
            st = name_run(sw, run);
            if (st == CS_OK)
                st = plan_run(sw, run);
        }
        if (st == CS_OK && sw->n_budgets)
            st = plan_family(sw, base, nf);
        if (rep + 1 < (size_t)sw->repeats)
            continue;
        for (size_t g = sw->n_groups; g-- > 0;) { /* next grid point, last axis fastest */
            if (++pos[g] < sw->group_len[g])
                break;
            pos[g] = 0;
        }
    }
    for (size_t a = 0; st == CS_OK && a < sw->n_runs; a++)
        for (size_t b = a + 1; b < sw->n_runs; b++)
            if (strcmp(sw->runs[a].name, sw->runs[b].name) == 0)
                return cs_fail(CS_EINPUT,
                               "%s: runs %zu and %zu would both be named %s (two list items "
                               "that name the same value?)",
                               cs_config_name(sw->cfg), a + 1, b + 1, sw->runs[a].name);
    return st;
}

/* The argument vector of run r: exe train --set SEC.KEY=VALUE ... --out DIR. `extra` slots are
 * left NULL at the end for the caller. Returns a NULL-terminated array whose strings are owned
 * by it (free_argv), or NULL when memory runs out. */
static char **run_argv(const sweep *sw, const sweep_run *r, size_t extra)
{
    size_t n = 0, cap = 2 * cs_train_keys_n + 8 + extra;
    char **a = calloc(cap, sizeof *a), buf[32];
    bool ok = a != NULL;

    if (!ok)
        return NULL;
    ok = (a[n++] = strdup(sw->exe)) && (a[n++] = strdup("train"));
    for (size_t i = 0; ok && i < cs_train_keys_n; i++) {
        const cs_train_key *k = &cs_train_keys[i];
        const char *v = run_value(sw, r, i, buf, sizeof buf);

        if (v)
            ok =
                (a[n++] = strdup("--set")) &&
                (a[n++] = str_printf("%s%s%s=%s", k->section, k->section[0] ? "." : "", k->key, v));
        if (!ok)
            a[n - 1] = NULL;
    }
    ok = ok && (a[n++] = strdup("--out")) && (a[n++] = strdup(r->dir));
    if (!ok) {
        for (size_t i = 0; i < cap; i++)
            free(a[i]);
        free(a);
        return NULL;
    }
    return a;
}

static void free_argv(char **a)
{
    for (size_t i = 0; a && a[i]; i++)
        free(a[i]);
    free(a);
}

/* What to do with run r, from what its directory holds. */
static int run_state(const sweep_run *r)
{
    char path[PATH_MAX];
    struct stat sb;
    bool ckpt;
    cs_runlog_reader *rd;
    int code;

    snprintf(path, sizeof path, "%s/ckpt.bin", r->dir);
    ckpt = stat(path, &sb) == 0;
    snprintf(path, sizeof path, "%s/run.h5", r->dir);
    if (stat(path, &sb) != 0)
        return ckpt ? ST_RESTART : ST_NEW;
    if (cs_runlog_read_open(path, &rd) != CS_OK) {
        cs_errclear();
        return ST_RESTART; /* killed before its log was usable */
    }
    code = cs_runlog_read_status(rd);
    cs_runlog_read_close(rd);
    if (code == CS_RUNLOG_FINISHED || code == CS_RUNLOG_DIVERGED)
        return ST_DONE;
    return code == CS_RUNLOG_RUNNING && ckpt ? ST_RESUME : ST_RESTART;
}

/* ---- --dry-run ---------------------------------------------------------------------------- */

static void print_plan(const sweep *sw)
{
    double total = 0, left = 0, cost = 0;
    size_t counts[4] = {0};
    char n[32], d[32], c[32];

    printf("%-40s %5s %6s %4s %6s %8s %8s %10s  %s\n", "run", "L", "d", "H", "T", "N", "D", "FLOPs",
           "state");
    for (size_t i = 0; i < sw->n_runs; i++) {
        const sweep_run *r = &sw->runs[i];

        cs_progress_format_si(r->n_params, n, sizeof n);
        cs_progress_format_si(r->tokens, d, sizeof d);
        snprintf(c, sizeof c, "%.3e", r->flops);
        printf("%-40s %5lld %6lld %4lld %6lld %8s %8s %10s  %s", r->name, (long long)r->p.n_layer,
               (long long)r->p.d_model, (long long)r->p.n_head, (long long)r->p.context, n, d, c,
               state_names[r->state]);
        if (r->role == ROLE_BRANCH)
            printf(" (decays from step %lld of %s)", (long long)r->decay_start,
                   sw->runs[r->trunk].name);
        else if (r->role == ROLE_TRUNK)
            printf(" (WSD trunk)");
        putchar('\n');
        total += r->flops;
        cost += r->cost;
        left += r->state == ST_DONE ? 0 : r->cost;
        counts[r->state]++;
    }
    printf("%zu runs (%zu new, %zu finished, %zu to resume, %zu to restart) in %s; planned "
           "FLOPs %.4e in all, %.4e still to train\n",
           sw->n_runs, counts[ST_NEW], counts[ST_DONE], counts[ST_RESUME], counts[ST_RESTART],
           sw->out, cost, left);
    if (sw->n_budgets)
        printf("WSD decay branches: %.4e FLOPs trained instead of %.4e for separate runs "
               "(%.1f%%)\n",
               cost, total, 100.0 * cost / total);
}

/* ---- --emit-slurm ------------------------------------------------------------------------- */

/* Writes s to f in single quotes, each ' as '\'' — nothing inside is expanded by the shell. */
static void shell_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* Writes the job-array script: task k runs run k's `ctxscale train` argv in its directory. */
static int write_slurm(const sweep *sw, FILE *f, long gpus, long threads)
{
    char cwd[PATH_MAX], job[64];
    size_t j = 0;

    if (!getcwd(cwd, sizeof cwd))
        return cs_fail(CS_EIO, "getcwd: %s", strerror(errno));
    for (const char *c = sw->name; *c && j + 1 < sizeof job; c++) /* #SBATCH lines are not */
        job[j++] = (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c)
                        ? *c
                        : '_'); /* shell-parsed: keep the job name plain */
    job[j] = '\0';
    fprintf(f, "#!/bin/bash\n# Slurm job array of the sweep %s: one task per run (%zu runs).\n",
            job, sw->n_runs);
    fprintf(f, "# Written by ctxscale sweep --emit-slurm; submit with: sbatch <this file>\n");
    fprintf(f, "#SBATCH --job-name=%s\n#SBATCH --array=0-%zu\n#SBATCH --ntasks=1\n",
            j ? job : "sweep", sw->n_runs - 1);
    fprintf(f, "#SBATCH --cpus-per-task=%ld\n", threads);
    if (gpus > 0)
        fprintf(f, "#SBATCH --gpus-per-task=%ld\n", gpus);
    fprintf(f, "set -eu\ncd -- ");
    shell_quote(f, cwd);
    fprintf(f, "\nexe=${CTXSCALE:-");
    shell_quote(f, sw->exe);
    fprintf(f, "}\ncase ${SLURM_ARRAY_TASK_ID:?not run as a Slurm array task} in\n");
    for (size_t r = 0; r < sw->n_runs; r++) {
        char **a = run_argv(sw, &sw->runs[r], 0);

        if (!a)
            return cs_fail(CS_ENOMEM, "out of memory");
        fprintf(f, "%zu) dir=", r);
        shell_quote(f, sw->runs[r].dir);
        fprintf(f, "; set --");
        for (size_t i = 2; a[i]; i++) {
            fputc(' ', f);
            shell_quote(f, a[i]);
        }
        fprintf(f, " ;;\n");
        free_argv(a);
    }
    fprintf(f, "*) echo \"no run for task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\nesac\n");
    fprintf(f,
            "# Continue an interrupted run; restart one that left no checkpoint.\n"
            "if [ -e \"$dir/ckpt.bin\" ]; then set -- \"$@\" --resume\n"
            "elif [ -e \"$dir/run.h5\" ]; then set -- \"$@\" --force; fi\n"
            "mkdir -p -- \"$dir\"\n"
            "exec \"$exe\" train \"$@\" --threads \"${SLURM_CPUS_PER_TASK:-%ld}\" "
            ">> \"$dir/train.log\" 2>&1\n",
            threads);
    return CS_OK;
}

static int emit_slurm(const sweep *sw, const char *path, bool force, long gpus, long threads)
{
    cs_afile *af;
    int st = cs_afile_open(path, force, &af);

    if (st != CS_OK)
        return st;
    st = write_slurm(sw, cs_afile_stream(af), gpus, threads);
    if (st != CS_OK) {
        cs_afile_abort(af);
        return st;
    }
    st = cs_afile_commit(af);
    if (st == CS_OK && strcmp(path, "-") != 0) {
        chmod(path, 0755);
        printf("%s: Slurm job array of %zu runs (submit with sbatch)\n", path, sw->n_runs);
    }
    return st;
}

/* ---- running ------------------------------------------------------------------------------ */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Creates dir and its missing parents (mode 0777 minus the umask). */
static int mkdir_p(const char *dir)
{
    char buf[PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof buf)
        return cs_fail(CS_EINPUT, "%s: bad directory name", dir);
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; p <= buf + n; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;

        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return cs_fail(CS_EIO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = c;
    }
    return CS_OK;
}

/* ---- WSD families: the trunk's stops and the branches' copies of its state ---------------- */

/* A branch's copy of the trunk at its decay start: <dir>/.from/{ckpt.bin,run.h5} (a name with a
 * dot, so that run-log listings of the runs directory skip it). */
static void snapshot_path(const sweep_run *r, const char *file, char *path, size_t n)
{
    snprintf(path, n, "%s/.from%s%s", r->dir, file ? "/" : "", file ? file : "");
}

static bool has_snapshot(const sweep_run *r)
{
    char path[PATH_MAX];
    struct stat sb;

    snapshot_path(r, "ckpt.bin", path, sizeof path); /* written last */
    return stat(path, &sb) == 0;
}

/* The last logged step of the run in dir (its run.h5), or -1. */
static int64_t log_last_step(const char *dir)
{
    char path[PATH_MAX];
    cs_runlog_reader *rd = NULL;
    cs_table *t = NULL;
    int64_t step = -1;
    long c;

    snprintf(path, sizeof path, "%s/run.h5", dir);
    if (cs_runlog_read_open(path, &rd) == CS_OK && cs_runlog_read_steps(rd, &t) == CS_OK &&
        (c = cs_table_find(t, "step")) >= 0 && cs_table_nrows(t) > 0)
        step = (int64_t)cs_table_num(t, cs_table_nrows(t) - 1, (size_t)c);
    cs_table_free(t);
    cs_runlog_read_close(rd);
    cs_errclear();
    return step;
}

/* Copies file src to dst through a temporary file renamed into place (core/afile.h). */
static int copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb");
    cs_afile *af = NULL;
    char buf[1 << 16];
    size_t n;
    int st;

    if (!in)
        return cs_fail(CS_EIO, "%s: cannot open: %s", src, strerror(errno));
    st = cs_afile_open(dst, true, &af);
    while (st == CS_OK && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, cs_afile_stream(af)) != n)
            st = cs_fail(CS_EIO, "%s: write failed: %s", dst, strerror(errno));
    if (st == CS_OK && ferror(in))
        st = cs_fail(CS_EIO, "%s: read failed", src);
    fclose(in);
    if (st != CS_OK) {
        cs_afile_abort(af);
        return st;
    }
    return cs_afile_commit(af);
}

/* Copies the trunk's log and checkpoint (stopped at b's decay start) for branch b. */
static int take_snapshot(const sweep_run *trunk, const sweep_run *b)
{
    char src[PATH_MAX], dst[PATH_MAX];
    int st;

    snapshot_path(b, NULL, dst, sizeof dst);
    st = mkdir_p(dst);
    snprintf(src, sizeof src, "%s/run.h5", trunk->dir);
    snapshot_path(b, "run.h5", dst, sizeof dst);
    st = st ? st : copy_file(src, dst);
    snprintf(src, sizeof src, "%s/ckpt.bin", trunk->dir);
    snapshot_path(b, "ckpt.bin", dst, sizeof dst);
    return st ? st : copy_file(src, dst);
}

/* Removes a finished branch's copy of the trunk: every file in <dir>/.from (temporary files of
 * a copy that was killed included), then the directory. */
static void remove_snapshot(const sweep_run *b)
{
    char dir[PATH_MAX], path[PATH_MAX + 256]; /* + a directory entry's name */
    DIR *d;
    struct dirent *e;

    snapshot_path(b, NULL, dir, sizeof dir);
    if (!(d = opendir(dir)))
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* True when branch b still needs a copy of its trunk's state to start. */
static bool needs_snapshot(const sweep_run *b)
{
    return !b->settled && (b->state == ST_NEW || b->state == ST_RESTART) && !has_snapshot(b);
}

/* The step the trunk at index t must stop at next: the earliest decay start of its branches
 * that still need a copy; 0 when none does (the trunk trains to its own end). */
static int64_t next_stop(const sweep *sw, size_t t)
{
    int64_t stop = 0;

    for (size_t i = t + 1 - sw->n_budgets; i < t; i++) {
        const sweep_run *b = &sw->runs[i];

        if (needs_snapshot(b) && (stop == 0 || b->decay_start < stop))
            stop = b->decay_start;
    }
    return stop;
}

/* How to start run r: ST_NEW (fresh), ST_RESUME or ST_RESTART. A trunk that must stop at a step
 * it has already passed (or has finished) trains again from the start. */
static int launch_mode(const sweep_run *r)
{
    if (r->role == ROLE_TRUNK && r->stop > 0 &&
        (r->state == ST_DONE || (r->state == ST_RESUME && log_last_step(r->dir) > r->stop)))
        return ST_RESTART;
    return r->state;
}

/* Starts run r as a child: stdout and stderr appended to <dir>/train.log; the child gets
 * SIGTERM (checkpoint and stop) if the sweep dies. A trunk gets --stop-at, a branch starting
 * from its copy of the trunk --init-from and --init-state. */
static int spawn_run(const sweep *sw, sweep_run *r, long threads)
{
    char **a = run_argv(sw, r, 6), log[PATH_MAX], from[PATH_MAX];
    size_t n = 0;
    pid_t parent = getpid(), pid;
    int st = mkdir_p(r->dir), mode = launch_mode(r);
    bool ok;

    if (!a)
        return cs_fail(CS_ENOMEM, "out of memory");
    while (a[n])
        n++;
    snapshot_path(r, "ckpt.bin", from, sizeof from);
    ok = (a[n++] = str_printf("--threads=%ld", threads)) != NULL;
    if (ok && mode != ST_NEW)
        ok = (a[n++] = strdup(mode == ST_RESUME ? "--resume" : "--force")) != NULL;
    if (ok && r->role == ROLE_TRUNK && r->stop > 0)
        ok = (a[n++] = str_printf("--stop-at=%lld", (long long)r->stop)) != NULL;
    if (ok && r->role == ROLE_BRANCH && mode != ST_RESUME)
        ok = (a[n++] = str_printf("--init-from=%s", from)) && (a[n++] = strdup("--init-state"));
    if (!ok)
        st = st ? st : cs_fail(CS_ENOMEM, "out of memory");
    snprintf(log, sizeof log, "%s/train.log", r->dir);
    if (st == CS_OK && (pid = fork()) < 0)
        st = cs_fail(CS_EIO, "fork: %s", strerror(errno));
    if (st == CS_OK && pid == 0) { /* only async-signal-safe calls until execv */
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666), nul = open("/dev/null", O_RDONLY);

        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent || fd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 ||
            dup2(fd, 2) < 0)
            _exit(127);
        execv(a[0], a);
        _exit(127);
    }
    if (st == CS_OK) {
        r->pid = pid;
        r->t_start = cs_progress_now();
    }
    free_argv(a);
    return st;
}

/* Waits for one child; returns the run it belonged to (NULL on EINTR) and its wait status. */
static sweep_run *wait_run(sweep *sw, int *ws)
{
    pid_t pid;

    errno = 0;
    pid = waitpid(-1, ws, 0);

    for (size_t i = 0; pid > 0 && i < sw->n_runs; i++)
        if (sw->runs[i].pid == pid) {
            sw->runs[i].pid = 0;
            return &sw->runs[i];
        }
    return NULL;
}

/* Where per-run lines go: stdout, or stderr above the progress line while that is drawn (the
 * line is cleared first, and redrawn at the next update). */
static cs_progress *event_bar;

static void event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void event(const char *fmt, ...)
{
    FILE *f = event_bar && cs_progress_is_enabled(event_bar) ? stderr : stdout;
    va_list ap;

    if (f == stderr)
        fputs(isatty(fileno(stderr)) ? "\r\033[K" : "\n", stderr);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
}

/* After a child ended: 1 if its run is finished (or diverged), else 0 with a message. */
static int check_ended(sweep_run *r, int ws, size_t k, size_t n)
{
    double dt = cs_progress_now() - r->t_start;
    int state = run_state(r);

    r->settled = true;
    if (state == ST_DONE) {
        event("[%zu/%zu] %s: finished in %.1f s\n", k, n, r->name, dt);
        r->state = ST_DONE;
        if (r->role == ROLE_BRANCH)
            remove_snapshot(r);
        return 1;
    }
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
        fprintf(stderr, "ctxscale sweep: %s: interrupted (checkpoint kept; run the sweep again)\n",
                r->name);
    else
        fprintf(stderr, "ctxscale sweep: %s: failed (%s %d); see %s/train.log\n", r->name,
                WIFEXITED(ws) ? "exit status" : "signal",
                WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws), r->dir);
    r->state = state;
    return 0;
}

/* Holds <out>/.sweep.lock for the life of the sweep and its children (they inherit it), so
 * that a second sweep over the same directory waits for them. */
static int lock_out(const char *out)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof path, "%s/.sweep.lock", out);
    if ((fd = open(path, O_RDWR | O_CREAT, 0666)) < 0)
        return -cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "ctxscale sweep: waiting for the runs of another sweep in %s to end\n",
                out);
        while (flock(fd, LOCK_EX) != 0)
            if (errno != EINTR || stop_flag) {
                close(fd);
                return -cs_fail(CS_EIO, "%s: cannot lock: %s", path, strerror(errno));
            }
    }
    return fd;
}

static void set_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waitpid returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* After a trunk's segment ended: 1 when it stopped where asked, with the copies of its state
 * taken for the branches decaying from there; else 0 with a message. */
static int trunk_stopped(sweep *sw, sweep_run *t, int ws)
{
    size_t idx = (size_t)(t - sw->runs), ready = 0;
    int st = CS_OK;

    t->state = run_state(t);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || t->state != ST_RESUME ||
        log_last_step(t->dir) != t->stop)
        return check_ended(t, ws, 0, 0);
    for (size_t i = idx + 1 - sw->n_budgets; i < idx && st == CS_OK; i++) {
        sweep_run *b = &sw->runs[i];

        if (b->decay_start == t->stop && needs_snapshot(b) && (st = take_snapshot(t, b)) == CS_OK)
            ready++;
    }
    if (st != CS_OK) {
        fprintf(stderr, "ctxscale sweep: %s: %s\n", t->name, cs_errmsg());
        t->settled = true;
        return 0;
    }
    event("%s: stable phase at step %lld; %zu decay branch(es) start from there\n", t->name,
          (long long)t->stop, ready);
    return 1;
}

/* The next run to start, or NULL: runs in order, skipping those running, settled or finished;
 * a branch waits for its copy of the trunk's state; a finished trunk trains again only when a
 * branch still needs a copy. */
static sweep_run *next_ready(sweep *sw)
{
    for (size_t i = 0; i < sw->n_runs; i++) {
        sweep_run *r = &sw->runs[i];

        if (r->pid > 0 || r->settled)
            continue;
        if (r->role == ROLE_TRUNK) {
            r->stop = next_stop(sw, i);
            if (r->state != ST_DONE || r->stop > 0)
                return r;
        } else if (r->state != ST_DONE &&
                   (r->role == ROLE_RUN || r->state == ST_RESUME || has_snapshot(r))) {
            return r;
        }
    }
    return NULL;
}

/* Starts runs while fewer than `jobs` run; returns how many are running then. */
static size_t start_runs(sweep *sw, size_t running, long jobs, long threads, size_t *failed)
{
    sweep_run *r;

    while (running < (size_t)jobs && !stop_flag && (r = next_ready(sw)) != NULL) {
        int mode = launch_mode(r);

        if (spawn_run(sw, r, threads) != CS_OK) {
            fprintf(stderr, "ctxscale sweep: %s: %s\n", r->name, cs_errmsg());
            r->settled = true;
            (*failed)++;
            continue;
        }
        running++;
        if (r->role == ROLE_TRUNK && r->stop > 0)
            event("start %s (%sstable phase to step %lld)\n", r->name,
                  mode == ST_RESUME    ? "resume; "
                  : mode == ST_RESTART ? "restart; "
                                       : "",
                  (long long)r->stop);
        else
            event("start %s%s\n", r->name,
                  mode == ST_RESUME        ? " (resume)"
                  : mode == ST_RESTART     ? " (restart)"
                  : r->role == ROLE_BRANCH ? " (decay branch)"
                                           : "");
    }
    return running;
}

/* Trains every run not finished yet, `jobs` at a time. Returns the exit code. */
static int run_sweep(sweep *sw, long jobs, long threads, int progress_mode)
{
    size_t todo = 0, running = 0, done = 0, failed = 0, k = 0;
    cs_progress_params pp = cs_progress_default_params();
    cs_progress *pg;
    bool signalled = false;
    int ws;

    for (size_t i = 0; i < sw->n_runs; i++) { /* again: another sweep may have run meanwhile */
        sw->runs[i].state = run_state(&sw->runs[i]);
        todo += sw->runs[i].state != ST_DONE;
        if (sw->runs[i].role == ROLE_BRANCH && sw->runs[i].state == ST_DONE)
            remove_snapshot(&sw->runs[i]); /* left by a sweep stopped right after the run */
    }
    for (size_t i = 0; i < sw->n_runs; i++) /* a finished trunk that must stop again */
        todo +=
            sw->runs[i].role == ROLE_TRUNK && sw->runs[i].state == ST_DONE && next_stop(sw, i) > 0;
    printf("sweep %s: %zu runs in %s, %zu finished before, %zu to train (%ld at a time, "
           "%ld thread(s) each)\n",
           sw->name, sw->n_runs, sw->out, sw->n_runs - todo, todo, jobs, threads);
    fflush(stdout);
    pp.label = "sweep";
    pp.unit = "run";
    pp.mode = progress_mode;
    pg = cs_progress_alloc(stderr, todo, &pp);
    if (!pg) /* only when memory runs out: go on without the progress line */
        cs_errclear();
    event_bar = pg;
    while ((running = start_runs(sw, running, jobs, threads, &failed)) > 0) {
        if (stop_flag && !signalled) { /* children checkpoint and stop */
            signalled = true;
            for (size_t i = 0; i < sw->n_runs; i++)
                if (sw->runs[i].pid > 0)
                    kill(sw->runs[i].pid, SIGTERM);
        }
        sweep_run *r = wait_run(sw, &ws);

        if (!r && errno == ECHILD) { /* cannot happen while running > 0; never spin */
            fprintf(stderr, "ctxscale sweep: lost track of %zu runs\n", running);
            failed += running;
            break;
        }
        if (!r)
            continue;
        running--;
        if (r->role == ROLE_TRUNK && r->stop > 0) {
            if (!trunk_stopped(sw, r, ws))
                failed++;
        } else if (check_ended(r, ws, ++k, todo)) {
            done++;
        } else {
            failed++;
        }
        if (pg) {
            cs_progress_set_suffix(pg, "running %zu, failed %zu", running, failed);
            cs_progress_update(pg, done + failed);
        }
    }
    if (pg)
        cs_progress_finish(pg);
    cs_progress_free(pg);
    event_bar = NULL;
    printf("sweep %s: %zu of %zu runs finished, %zu failed or interrupted, %zu not started\n",
           sw->name, sw->n_runs - todo + done, sw->n_runs, failed, todo - done - failed);
    if (done == todo)
        return 0;
    fprintf(stderr, "ctxscale sweep: not every run finished; run the sweep again to continue\n");
    return 1;
}

/* ---- the command -------------------------------------------------------------------------- */

typedef struct sweep_flags {
    const char *config;
    const char *out;
    const char *slurm;
    long jobs, threads, gpus;
    bool dry, force;
    int progress_mode;
} sweep_flags;

static int parse_count_flag(const char *s, const char *flag, long min, long *out)
{
    if (cs_parse_long(s, out, flag) != CS_OK || *out < min)
        return cs_cli_usage_error(&sweep_cmd, "%s: expected a whole number >= %ld, got \"%s\"",
                                  flag, min, s);
    return 0;
}

/* Parses the command line into f and applies --set to the config read by the caller later. */
static int parse_flags(int argc, char **argv, sweep_flags *f, char ***sets, size_t *nsets)
{
    cs_cli_parser ps;
    int c;

    cs_cli_parser_init(&ps, &sweep_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        int rc = 0;

        switch (c) {
        case '?': return 2;
        case CS_CLI_OPT_HELP: cs_cli_help(&sweep_cmd, stdout); return -1;
        case OPT_SET: (*sets)[(*nsets)++] = optarg; break;
        case OPT_OUT: f->out = optarg; break;
        case 'j': rc = parse_count_flag(optarg, "--jobs", 1, &f->jobs); break;
        case OPT_THREADS: rc = parse_count_flag(optarg, "--threads", 1, &f->threads); break;
        case OPT_GPUS: rc = parse_count_flag(optarg, "--gpus-per-task", 0, &f->gpus); break;
        case OPT_DRY_RUN: f->dry = true; break;
        case OPT_SLURM: f->slurm = optarg; break;
        case 'f': f->force = true; break;
        case 'q': f->progress_mode = CS_PROGRESS_OFF; break;
        case OPT_PROGRESS: f->progress_mode = CS_PROGRESS_ON; break;
        }
        if (rc)
            return rc;
    }
    if (optind + 1 != argc)
        return cs_cli_usage_error(&sweep_cmd,
                                  optind == argc ? "expected a sweep config file"
                                                 : "unexpected argument '%s'",
                                  argv[optind < argc ? optind + 1 : 0]);
    f->config = argv[optind];
    if (f->gpus && !f->slurm)
        return cs_cli_usage_error(&sweep_cmd, "--gpus-per-task needs --emit-slurm");
    return 0;
}

/* Checks that every run has a token store and that each store is a directory. */
static int check_corpora(const sweep *sw)
{
    const key_vals *v = &sw->vals[sw->k_corpus];
    struct stat sb;

    if (v->n == 0)
        return cs_fail(CS_EINPUT, "%s: [data] corpus: missing (required: the token store)",
                       cs_config_name(sw->cfg));
    for (size_t j = 0; j < v->n; j++)
        if (stat(v->text[j], &sb) != 0 || !S_ISDIR(sb.st_mode))
            return cs_fail(CS_EINPUT, "%s: [data] corpus: %s is not a token store directory",
                           cs_config_name(sw->cfg), v->text[j]);
    return CS_OK;
}

static long cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? n : 1;
}

int cs_cli_sweep(int argc, char **argv)
{
    sweep_flags f = {NULL, NULL, NULL, 1, 0, 0, false, false, CS_PROGRESS_AUTO};
    sweep sw;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t nsets = 0;
    ssize_t len;
    int rc, st, lock = -1;

    memset(&sw, 0, sizeof sw);
    if (!sets)
        return cs_cli_report(&sweep_cmd, cs_fail(CS_ENOMEM, "out of memory"));
    rc = parse_flags(argc, argv, &f, &sets, &nsets);
    if (rc != 0) {
        free(sets);
        return rc < 0 ? 0 : rc;
    }
    if (f.threads == 0)
        f.threads = cpu_count() / f.jobs > 1 ? cpu_count() / f.jobs : 1;
    len = readlink("/proc/self/exe", sw.exe, sizeof sw.exe - 1);
    st = len > 0 ? CS_OK : cs_fail(CS_EIO, "/proc/self/exe: %s", strerror(errno));
    if (st == CS_OK)
        st = cs_config_read_file(f.config, &sw.cfg);
    for (size_t i = 0; st == CS_OK && i < nsets; i++)
        st = cs_config_set_arg(sw.cfg, sets[i]);
    st = st ? st : read_sweep(&sw, f.out);
    st = st ? st : build_runs(&sw);
    if (st == CS_OK && !f.dry && !f.slurm)
        st = check_corpora(&sw);
    for (size_t i = 0; st == CS_OK && i < sw.n_runs; i++)
        sw.runs[i].state = run_state(&sw.runs[i]);
    if (st == CS_OK && f.dry) {
        print_plan(&sw);
    } else if (st == CS_OK && f.slurm && sw.n_budgets) {
        st = cs_fail(CS_EINPUT,
                     "%s: [train] decay_budgets: the runs of a WSD family wait for each other; "
                     "--emit-slurm cannot express that (run the sweep itself)",
                     cs_config_name(sw.cfg));
    } else if (st == CS_OK && f.slurm) {
        st = emit_slurm(&sw, f.slurm, f.force, f.gpus, f.threads);
    } else if (st == CS_OK) {
        set_signals();
        st = mkdir_p(sw.out);
        if (st == CS_OK && (lock = lock_out(sw.out)) < 0)
            st = -lock;
        if (st == CS_OK)
            rc = run_sweep(&sw, f.jobs, f.threads, f.progress_mode);
        if (lock >= 0)
            close(lock);
    }
    if (st != CS_OK)
        rc = cs_cli_report(&sweep_cmd, st);
    sweep_free(&sw);
    free(sets);
    return rc;
}
