/* cli/sweep.c: `ctxscale sweep SWEEP.cfg` — a grid of training runs. Every key of a run config
 * (cli/train.c, docs/trainer.md) may be a list; each list is an axis of the grid, `[sweep]
 * paired` zips lists by position, `[sweep] repeats` adds seeds. Each run is one `ctxscale train`
 * child process (fork + execv of this binary, never a shell) writing <out>/<run name>/run.h5.
 * Finished runs are skipped, interrupted ones resumed, runs without a checkpoint restarted;
 * --jobs runs several at once; --dry-run lists the runs and their FLOPs; --emit-slurm writes a
 * job-array script instead. docs/config.md ("A sweep config") and docs/cli.md describe it.
 * Test: tests/cli/test_sweep.sh.
 */
#include "cli/cli.h"
#include "cli/opt.h"
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

/* ---- the run settings a sweep knows: the keys of `ctxscale train` -------------------------- */

typedef enum { K_STR, K_LONG, K_COUNT, K_NUM } key_kind;

typedef struct sweep_key {
    const char *section;
    const char *key;
    key_kind kind;
    unsigned flags;     /* CS_PARSE_* for K_NUM */
    const char *abbrev; /* prefix in run names */
} sweep_key;

/* In the order their values appear in run names; the first four are always named. */
static const sweep_key skeys[] = {
    {"model", "layers", K_COUNT, 0, "l"},
    {"model", "d_model", K_COUNT, 0, "d"},
    {"data", "context", K_COUNT, 0, "T"},
    {"train", "tokens", K_NUM, CS_PARSE_NONNEGATIVE, "D"},
    {"model", "heads", K_COUNT, 0, "h"},
    {"data", "vocab", K_COUNT, 0, "V"},
    {"data", "corpus", K_STR, 0, ""},
    {"model", "rope_theta", K_NUM, CS_PARSE_POSITIVE, "rope"},
    {"train", "batch_tokens", K_COUNT, 0, "bt"},
    {"train", "micro_tokens", K_COUNT, 0, "mt"},
    {"train", "lr", K_NUM, 0, "lr"},
    {"train", "lr_min", K_NUM, 0, "lrmin"},
    {"train", "schedule", K_STR, 0, ""},
    {"train", "warmup_steps", K_LONG, 0, "wu"},
    {"train", "decay_frac", K_NUM, CS_PARSE_NONNEGATIVE, "df"},
    {"train", "beta1", K_NUM, CS_PARSE_NONNEGATIVE, "b1"},
    {"train", "beta2", K_NUM, CS_PARSE_NONNEGATIVE, "b2"},
    {"train", "eps", K_NUM, CS_PARSE_POSITIVE, "eps"},
    {"train", "weight_decay", K_NUM, CS_PARSE_NONNEGATIVE, "wd"},
    {"train", "grad_clip", K_NUM, 0, "gc"},
    {"", "seed", K_COUNT, 0, "s"},
    {"eval", "every", K_COUNT, 0, "ee"},
    {"eval", "windows", K_COUNT, 0, "ew"},
    {"eval", "extrap", K_COUNT, 0, "x"},
    {"eval", "bins_per_octave", K_NUM, CS_PARSE_POSITIVE, "bpo"},
    {"run", "ckpt_every", K_COUNT, 0, "ck"},
};
#define N_SKEYS  (sizeof skeys / sizeof skeys[0])
#define KEY_SEED 20
#define MAX_RUNS 100000

/* The values of one key: n items as written (text) and parsed (num; NaN for text keys). */
typedef struct key_vals {
    size_t n; /* 0: the key is not in the config (train's default applies) */
    char **text;
    double *num;
    int group; /* axis index, or -1 for a constant */
} key_vals;

enum { ST_NEW, ST_DONE, ST_RESUME, ST_RESTART };
static const char *const state_names[] = {"new", "finished", "resume", "restart"};

typedef struct sweep_run {
    char *name;
    char *dir;
    size_t item[N_SKEYS]; /* item index of each key */
    uint64_t seed;        /* used when seeded: repeats > 1 */
    cs_train_params p;    /* the settings as the trainer will see them (data/out not set) */
    double n_params;      /* non-embedding parameters N */
    double tokens;        /* planned tokens: steps * batch_tokens */
    double flops;         /* planned training FLOPs (CS_FLOPS_DEFAULT) */
    int state;
    pid_t pid;
    double t_start;
} sweep_run;

typedef struct sweep {
    cs_config *cfg;
    const char *name;
    const char *out;
    long repeats;
    key_vals vals[N_SKEYS];
    size_t n_groups;
    size_t group_len[N_SKEYS];
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
    "and every list is an axis of the grid. [sweep] takes name, out, paired and repeats.\n"
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
    for (size_t i = 0; i < N_SKEYS; i++) {
        free(sw->vals[i].text);
        free(sw->vals[i].num);
    }
    for (size_t r = 0; r < sw->n_runs; r++) {
        free(sw->runs[r].name);
        free(sw->runs[r].dir);
    }
    free(sw->runs);
    cs_config_free(sw->cfg);
}

/* Reads the items of key i (text and numbers) into sw->vals[i]. */
static int read_key(sweep *sw, size_t i)
{
    const sweep_key *k = &skeys[i];
    key_vals *v = &sw->vals[i];
    int64_t *c = NULL;
    size_t n = 0;
    int st;

    if (!cs_config_has_key(sw->cfg, k->section, k->key))
        return CS_OK;
    st = cs_config_get_strs(sw->cfg, k->section, k->key, NULL, 0, &v->text, &v->n);
    if (st == CS_OK && !(v->num = malloc(v->n * sizeof *v->num)))
        st = cs_fail(CS_ENOMEM, "out of memory");
    if (st == CS_OK && k->kind == K_NUM) {
        double *d = NULL;

        st = cs_config_get_doubles(sw->cfg, k->section, k->key, NULL, 0, k->flags, &d, &n);
        for (size_t j = 0; st == CS_OK && j < n; j++)
            v->num[j] = d[j];
        free(d);
    } else if (st == CS_OK && k->kind == K_COUNT) {
        st = cs_config_get_counts(sw->cfg, k->section, k->key, NULL, 0, &c, &n);
        for (size_t j = 0; st == CS_OK && j < n; j++)
            v->num[j] = (double)c[j];
        free(c);
    } else if (st == CS_OK) {
        for (size_t j = 0; st == CS_OK && j < v->n; j++) {
            long l = 0;

            v->num[j] = NAN;
            if (k->kind == K_LONG && cs_parse_long(v->text[j], &l, k->key) != CS_OK)
                st = cs_config_fail(sw->cfg, k->section, k->key,
                                    "item %zu: expected an integer, got \"%s\"", j + 1, v->text[j]);
            else if (k->kind == K_LONG)
                v->num[j] = (double)l;
        }
    }
    return st;
}

/* The index of "section.key" (or "key" of the top section) in skeys, or -1. */
static long find_key(const char *name)
{
    const char *dot = strchr(name, '.');

    for (size_t i = 0; i < N_SKEYS; i++) {
        size_t ls = strlen(skeys[i].section);

        if (!dot && ls == 0 && strcmp(name, skeys[i].key) == 0)
            return (long)i;
        if (dot && (size_t)(dot - name) == ls && strncmp(name, skeys[i].section, ls) == 0 &&
            strcmp(dot + 1, skeys[i].key) == 0)
            return (long)i;
    }
    return -1;
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

/* Reads [sweep] and every run key, groups the lists into axes, and runs the typo guard. */
static int read_sweep(sweep *sw, const char *out_flag)
{
    int st = CS_OK;

    for (size_t i = 0; i < N_SKEYS; i++)
        sw->vals[i].group = -1;
    if (cs_config_has_key(sw->cfg, "run", "out"))
        return cs_config_fail(sw->cfg, "run", "out",
                              "the sweep sets each run's directory; use [sweep] out");
    sw->name = cs_config_get_str(sw->cfg, "sweep", "name", "sweep");
    sw->out = cs_config_get_str(sw->cfg, "sweep", "out", NULL);
    if (out_flag)
        sw->out = out_flag;
    st = cs_config_get_long(sw->cfg, "sweep", "repeats", 1, 1, 1000, &sw->repeats);
    for (size_t i = 0; st == CS_OK && i < N_SKEYS; i++)
        st = read_key(sw, i);
    if (st == CS_OK)
        st = read_paired(sw);
    for (size_t i = 0; st == CS_OK && i < N_SKEYS; i++) {
        if (sw->vals[i].n > 1 && sw->vals[i].group < 0) {
            sw->group_len[sw->n_groups] = sw->vals[i].n;
            sw->vals[i].group = (int)sw->n_groups++;
        }
    }
    if (st == CS_OK)
        st = cs_config_check_unused(sw->cfg);
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

/* A name from the run's values: l, d, T and D always (train's default when the config lacks
 * them), then every other key that varies, then the seed when repeats > 1. */
static int name_run(const sweep *sw, sweep_run *r)
{
    cs_train_params def = cs_train_default_params();
    double always[4] = {(double)def.n_layer, (double)def.d_model, (double)def.context, def.tokens};
    char buf[512], val[96];
    size_t len = 0;

    for (size_t i = 0; i < N_SKEYS && len < sizeof buf; i++) {
        const key_vals *v = &sw->vals[i];

        if (i >= 4 && v->group < 0)
            continue;
        if (v->n == 0)
            format_value(always[i], NULL, false, val, sizeof val);
        else
            format_value(v->num[r->item[i]], v->text[r->item[i]], skeys[i].kind == K_STR, val,
                         sizeof val);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s%s", len ? "-" : "",
                                skeys[i].abbrev, val);
    }
    if (sw->repeats > 1 && len < sizeof buf)
        snprintf(buf + len, sizeof buf - len, "-s%llu", (unsigned long long)r->seed);
    r->name = strdup(buf);
    if (r->name)
        r->dir = str_printf("%s/%s", sw->out, r->name);
    return r->name && r->dir ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");
}

/* The trainer's settings of run r, checked as `ctxscale train` checks them, and its FLOPs. */
static int plan_run(const sweep *sw, sweep_run *r)
{
    cs_train_params *p = &r->p;
    double x[N_SKEYS];
    cs_model_shape s;
    cs_param_count pc;
    double fpt;
    int st;

    *p = cs_train_default_params();
    for (size_t i = 0; i < N_SKEYS; i++)
        x[i] = sw->vals[i].n ? sw->vals[i].num[r->item[i]] : NAN;
#define SET(i, field, type)                                                                        \
    if (!isnan(x[i]))                                                                              \
    p->field = (type)x[i]
    SET(0, n_layer, int64_t);
    SET(1, d_model, int64_t);
    SET(2, context, int64_t);
    SET(3, tokens, double);
    SET(4, n_head, int64_t);
    SET(5, vocab, int64_t);
    SET(7, rope_theta, double);
    SET(8, batch_tokens, int64_t);
    SET(9, micro_tokens, int64_t);
    SET(10, lr, double);
    SET(11, lr_min, double);
    SET(13, warmup_steps, int64_t);
    SET(14, decay_frac, double);
    SET(15, beta1, double);
    SET(16, beta2, double);
    SET(17, eps, double);
    SET(18, weight_decay, double);
    SET(19, grad_clip, double);
    SET(KEY_SEED, seed, uint64_t);
    SET(21, eval_every, int64_t);
    SET(22, eval_windows, int64_t);
    SET(23, extrap, int64_t);
    SET(24, bins_per_octave, double);
    SET(25, ckpt_every, int64_t);
#undef SET
    if (sw->repeats > 1)
        p->seed = r->seed;
    st = sw->vals[12].n
             ? cs_schedule_parse(sw->vals[12].text[r->item[12]], &p->schedule, "[train] schedule")
             : CS_OK;
    if (st == CS_OK)
        st = cs_train_check(p);
    s = (cs_model_shape){p->n_layer, p->d_model, p->n_head, p->vocab > 0 ? p->vocab : 2,
                         p->context};
    if (st == CS_OK)
        st = cs_flops_count_params(&s, &pc);
    if (st == CS_OK)
        st = cs_flops_per_token(&s, CS_FLOPS_DEFAULT, &fpt);
    if (st != CS_OK)
        return cs_fail_prefix(CS_EINPUT, "%s: run %s", cs_config_name(sw->cfg), r->name);
    r->n_params = (double)pc.non_embedding;
    r->tokens = (double)cs_train_steps(p) * (double)p->batch_tokens;
    r->flops = fpt * r->tokens;
    return CS_OK;
}

/* Enumerates the grid (the first axis outermost, repeats innermost), names and checks each run. */
static int build_runs(sweep *sw)
{
    size_t pos[N_SKEYS] = {0}, total = (size_t)sw->repeats;
    cs_train_params def = cs_train_default_params();
    uint64_t seed0 = sw->vals[KEY_SEED].n ? 0 : def.seed;
    int st = CS_OK;

    for (size_t g = 0; g < sw->n_groups; g++) {
        if (total > MAX_RUNS / sw->group_len[g])
            return cs_fail(CS_EINPUT, "%s: the grid has more than %d runs", cs_config_name(sw->cfg),
                           MAX_RUNS);
        total *= sw->group_len[g];
    }
    if (!(sw->runs = calloc(total, sizeof *sw->runs)))
        return cs_fail(CS_ENOMEM, "out of memory");
    for (size_t r = 0; r < total && st == CS_OK; r++) {
        sweep_run *run = &sw->runs[sw->n_runs++];
        size_t rep = r % (size_t)sw->repeats;

        for (size_t i = 0; i < N_SKEYS; i++)
            run->item[i] = sw->vals[i].group >= 0 ? pos[sw->vals[i].group] : 0;
        run->seed =
            (sw->vals[KEY_SEED].n ? (uint64_t)sw->vals[KEY_SEED].num[run->item[KEY_SEED]] : seed0) +
            rep;
        st = name_run(sw, run);
        if (st == CS_OK)
            st = plan_run(sw, run);
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
    size_t n = 0, cap = 2 * N_SKEYS + 8 + extra;
    char **a = calloc(cap, sizeof *a);
    bool ok = a != NULL;

    if (!ok)
        return NULL;
    ok = (a[n++] = strdup(sw->exe)) && (a[n++] = strdup("train"));
    for (size_t i = 0; ok && i < N_SKEYS; i++) {
        const sweep_key *k = &skeys[i];
        const char *dot = k->section[0] ? "." : "";

        if (i == KEY_SEED && sw->repeats > 1) {
            ok = (a[n++] = strdup("--set")) &&
                 (a[n++] = str_printf("seed=%llu", (unsigned long long)r->seed));
        } else if (sw->vals[i].n) {
            ok = (a[n++] = strdup("--set")) &&
                 (a[n++] = str_printf("%s%s%s=%s", k->section, dot, k->key,
                                      sw->vals[i].text[r->item[i]]));
        }
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
    double total = 0, left = 0;
    size_t counts[4] = {0};
    char n[32], d[32], c[32];

    printf("%-40s %5s %6s %4s %6s %8s %8s %10s  %s\n", "run", "L", "d", "H", "T", "N", "D", "FLOPs",
           "state");
    for (size_t i = 0; i < sw->n_runs; i++) {
        const sweep_run *r = &sw->runs[i];

        cs_progress_format_si(r->n_params, n, sizeof n);
        cs_progress_format_si(r->tokens, d, sizeof d);
        snprintf(c, sizeof c, "%.3e", r->flops);
        printf("%-40s %5lld %6lld %4lld %6lld %8s %8s %10s  %s\n", r->name, (long long)r->p.n_layer,
               (long long)r->p.d_model, (long long)r->p.n_head, (long long)r->p.context, n, d, c,
               state_names[r->state]);
        total += r->flops;
        left += r->state == ST_DONE ? 0 : r->flops;
        counts[r->state]++;
    }
    printf("%zu runs (%zu new, %zu finished, %zu to resume, %zu to restart) in %s; planned "
           "FLOPs %.4e in all, %.4e still to train\n",
           sw->n_runs, counts[ST_NEW], counts[ST_DONE], counts[ST_RESUME], counts[ST_RESTART],
           sw->out, total, left);
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

/* Starts run r as a child: stdout and stderr appended to <dir>/train.log; the child gets
 * SIGTERM (checkpoint and stop) if the sweep dies. */
static int spawn_run(const sweep *sw, sweep_run *r, long threads)
{
    char **a = run_argv(sw, r, 3), log[PATH_MAX];
    size_t n = 0;
    pid_t parent = getpid(), pid;
    int st = mkdir_p(r->dir);

    if (!a)
        return cs_fail(CS_ENOMEM, "out of memory");
    while (a[n])
        n++;
    if (!(a[n++] = str_printf("--threads=%ld", threads)) ||
        (r->state != ST_NEW && !(a[n++] = strdup(r->state == ST_RESUME ? "--resume" : "--force"))))
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

    if (state == ST_DONE) {
        event("[%zu/%zu] %s: finished in %.1f s\n", k, n, r->name, dt);
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

/* Trains every run not finished yet, `jobs` at a time. Returns the exit code. */
static int run_sweep(sweep *sw, long jobs, long threads, int progress_mode)
{
    size_t todo = 0, next = 0, running = 0, done = 0, failed = 0, k = 0;
    cs_progress_params pp = cs_progress_default_params();
    cs_progress *pg;
    bool signalled = false;
    int ws;

    for (size_t i = 0; i < sw->n_runs; i++) { /* again: another sweep may have run meanwhile */
        sw->runs[i].state = run_state(&sw->runs[i]);
        todo += sw->runs[i].state != ST_DONE;
    }
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
    while (next < sw->n_runs || running > 0) {
        while (running < (size_t)jobs && next < sw->n_runs && !stop_flag) {
            sweep_run *r = &sw->runs[next++];

            if (r->state == ST_DONE)
                continue;
            if (spawn_run(sw, r, threads) != CS_OK) {
                fprintf(stderr, "ctxscale sweep: %s: %s\n", r->name, cs_errmsg());
                failed++;
                continue;
            }
            running++;
            event("start %s%s\n", r->name,
                  r->state == ST_RESUME    ? " (resume)"
                  : r->state == ST_RESTART ? " (restart)"
                                           : "");
        }
        if (running == 0)
            break;
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
        if (check_ended(r, ws, ++k, todo))
            done++;
        else
            failed++;
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
    const key_vals *v = &sw->vals[6];
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
