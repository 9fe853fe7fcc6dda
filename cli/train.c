/* cli/train.c: `ctxscale train` — one training run of the CPU trainer (trainer/train.h). Every
 * setting is a key of a run config (INI, docs/config.md) and also a flag; flags override the
 * file. --dry-run prints the model's size, FLOPs and memory without training. SIGINT and
 * SIGTERM checkpoint and close the log; under mpirun the ranks train data parallel
 * (trainer/dist.h). docs/trainer.md lists the settings. Tests: tests/cli/test_train.sh,
 * tests/cli/test_train_resume.sh, tests/cli/test_train_mpi.sh.
 */
#include "cli/cli.h"
#include "cli/opt.h"
#include "cli/train_keys.h"
#include "core/config.h"
#include "core/error.h"
#include "core/flops.h"
#include "core/parse.h"
#include "core/progress.h"
#include "core/runlog.h"
#include "data/store.h"
#include "trainer/dist.h"
#include "trainer/schedule.h"
#include "trainer/train.h"

#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_BASE = 256, /* flags that map to config keys are OPT_BASE + index in cs_train_keys */
    OPT_CONFIG = 512,
    OPT_SET,
    OPT_RESUME,
    OPT_FORCE,
    OPT_DRY_RUN,
    OPT_QUIET,
    OPT_PROGRESS,
    OPT_INIT_FROM,
    OPT_THREADS,
    OPT_STOP_AFTER,
    OPT_STOP_AT,
    OPT_INIT_STATE,
};

static cs_cli_opt train_opts[CS_TRAIN_KEYS_MAX + 14];

static cs_cli_cmd train_cmd = {
    "train",
    "[OPTIONS]",
    "Train one GPT-2-style model with rotary embeddings on the CPU and write its run log\n"
    "(run.h5, docs/runlog.md) and checkpoint (ckpt.bin) to --out.",
    train_opts,
    "Every setting is also a key of a run config (--config FILE, INI; the key is given in\n"
    "docs/trainer.md, e.g. [train] lr); flags override the file. --set SECTION.KEY=VALUE sets any\n"
    "key. Exit status: 0 finished, interrupted (resumable) or diverged (the log says which);\n"
    "1 I/O failure; 2 bad settings or data.\n"
    "Example: ctxscale train --data data/synth --layers 2 --d-model 64 --heads 2 --context 128\n"
    "           --batch-tokens 4096 --tokens 2e6 --lr 3e-3 --out runs/tiny",
};

static void build_opts(void)
{
    size_t i;

    for (i = 0; i < cs_train_keys_n; i++)
        train_opts[i] = (cs_cli_opt){cs_train_keys[i].flag, OPT_BASE + (int)i, required_argument,
                                     cs_train_keys[i].metavar, cs_train_keys[i].help};
    train_opts[i++] = (cs_cli_opt){"config", OPT_CONFIG, required_argument, "FILE",
                                   "read settings from a run config (INI)"};
    train_opts[i++] = (cs_cli_opt){"set", OPT_SET, required_argument, "SEC.KEY=V",
                                   "set a config key (repeatable)"};
    train_opts[i++] = (cs_cli_opt){"resume", OPT_RESUME, no_argument, NULL,
                                   "continue the run in --out from its checkpoint"};
    train_opts[i++] = (cs_cli_opt){"init-from", OPT_INIT_FROM, required_argument, "CKPT",
                                   "start from the weights of another run's ckpt.bin (any T)"};
    train_opts[i++] =
        (cs_cli_opt){"force", 'f', no_argument, NULL, "replace an existing run in --out"};
    train_opts[i++] = (cs_cli_opt){"dry-run", OPT_DRY_RUN, no_argument, NULL,
                                   "print parameters, FLOPs and memory, and stop"};
    train_opts[i++] = (cs_cli_opt){"threads", OPT_THREADS, required_argument, "N",
                                   "OpenMP threads of the kernels (OMP_NUM_THREADS)"};
    train_opts[i++] = (cs_cli_opt){"stop-after", OPT_STOP_AFTER, required_argument, "K",
                                   "checkpoint and stop after K steps, as if interrupted"};
    train_opts[i++] = (cs_cli_opt){"stop-at", OPT_STOP_AT, required_argument, "K",
                                   "checkpoint and stop once step K is done, as if interrupted"};
    train_opts[i++] = (cs_cli_opt){"init-state", OPT_INIT_STATE, no_argument, NULL,
                                   "with --init-from: continue that run's state (Adam, step, log "
                                   "rows) under these settings, e.g. a WSD decay branch"};
    train_opts[i++] = (cs_cli_opt){"quiet", 'q', no_argument, NULL, "no progress bar"};
    train_opts[i++] = (cs_cli_opt){"progress", OPT_PROGRESS, no_argument, NULL,
                                   "progress bar even when stderr is not a terminal"};
    train_opts[i] = (cs_cli_opt){NULL, 0, 0, NULL, NULL};
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Floats of the model's activation buffers for B windows of T positions (trainer/model.c's
 * layout: per layer 18 C per position plus the attention probabilities, n_head T per position;
 * the logits, V per position; 15 C per position of embeddings, final LayerNorm and backward
 * workspaces; a T x T attention scratch). An estimate from the shapes, not a measurement. */
static double act_floats(const cs_model_shape *s, double B, double T)
{
    double C = (double)s->d_model, L = (double)s->n_layer, H = (double)s->n_head;

    return B * T * (L * (18.0 * C + H * T) + (double)s->vocab + 15.0 * C + 4.0) + T * T;
}

/* The store's vocabulary when --vocab is 0 and the store opens; 0 otherwise. */
static int64_t store_vocab(const cs_train_params *p)
{
    cs_store *st = NULL;
    int64_t v = 0;

    if (p->vocab > 0 || !p->data || cs_store_open(p->data, &st) != CS_OK)
        return 0;
    v = (int64_t)cs_store_vocab(st);
    cs_store_close(st);
    return v;
}

static void dry_run(const cs_train_params *p)
{
    cs_model_shape s = {p->n_layer, p->d_model, p->n_head, p->vocab, p->context};
    int64_t from_store = store_vocab(p), micro = cs_train_micro_tokens(p);
    double fpt = 0, steps = (double)cs_train_steps(p), opt, train, eval;
    cs_param_count pc;

    if (from_store > 0)
        s.vocab = from_store;
    if (s.vocab == 0)
        s.vocab = 256; /* no store to read the vocabulary from */
    if (cs_flops_count_params(&s, &pc) != CS_OK || cs_flops_per_token(&s, CS_FLOPS_DEFAULT, &fpt))
        return;
    opt = 16.0 * (double)pc.total / 1048576.0; /* params, grads, Adam m and v: float32 */
    train = 4.0 * act_floats(&s, (double)(micro / p->context), (double)p->context) / 1048576.0;
    eval = 4.0 * act_floats(&s, 1.0, (double)(p->context * p->extrap)) / 1048576.0;
    printf("model: n_layer %lld, d_model %lld, n_head %lld, vocab %lld%s, context %lld\n",
           (long long)s.n_layer, (long long)s.d_model, (long long)s.n_head, (long long)s.vocab,
           p->vocab > 0 || from_store > 0 ? "" : " (assumed; the store's is read when training)",
           (long long)s.context);
    printf("parameters: %lld total, %lld non-embedding, %lld embedding\n", (long long)pc.total,
           (long long)pc.non_embedding, (long long)pc.embedding);
    printf("FLOPs per token: %.6g (%s)\n", fpt, cs_flops_formula(CS_FLOPS_DEFAULT));
    printf("steps: %.0f of %lld tokens; planned tokens %.6g; planned FLOPs %.6g\n", steps,
           (long long)p->batch_tokens, steps * (double)p->batch_tokens,
           fpt * steps * (double)p->batch_tokens);
    printf("memory (estimate): parameters, gradients and Adam state %.1f MiB; activations %.1f "
           "MiB per %lld-token micro-batch, %.1f MiB to evaluate %lld positions; peak about "
           "%.1f MiB\n",
           opt, train, (long long)micro, eval, (long long)(p->context * p->extrap),
           opt + fmax(train, eval));
}

int cs_cli_train(int argc, char **argv)
{
    cs_train_params p = cs_train_default_params();
    cs_train_result res;
    cs_cli_parser ps;
    cs_config *cfg = NULL;
    const char *config_path = NULL;
    char **sets;
    size_t nsets = 0;
    bool dry = false;
    long threads = 0, stop_after = 0, stop_at = 0;
    int c, st = CS_OK, rc = 2;

    build_opts();
    sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets)
        return cs_cli_report(&train_cmd, cs_fail(CS_ENOMEM, "out of memory"));
    p.progress = stderr;
    p.progress_mode = CS_PROGRESS_AUTO;
    cs_cli_parser_init(&ps, &train_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        if (c == '?')
            goto out;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(&train_cmd, stdout);
            rc = 0;
            goto out;
        }
        if (c >= OPT_BASE && c < OPT_BASE + (int)cs_train_keys_n) {
            /* Flags become "section.key=value" overrides, applied after the file is read. */
            const cs_train_key *k = &cs_train_keys[c - OPT_BASE];
            size_t n = strlen(k->section) + strlen(k->key) + strlen(optarg) + 3;
            char *s = malloc(n);

            if (!s) {
                rc = cs_cli_report(&train_cmd, cs_fail(CS_ENOMEM, "out of memory"));
                goto out;
            }
            if (k->section[0])
                snprintf(s, n, "%s.%s=%s", k->section, k->key, optarg);
            else
                snprintf(s, n, "%s=%s", k->key, optarg);
            sets[nsets++] = s;
            continue;
        }
        switch (c) {
        case OPT_CONFIG: config_path = optarg; break;
        case OPT_SET: sets[nsets++] = strdup(optarg); break;
        case OPT_RESUME: p.resume = true; break;
        case OPT_INIT_FROM: p.init_from = optarg; break;
        case 'f': p.force = true; break;
        case OPT_DRY_RUN: dry = true; break;
        case 'q': p.progress_mode = CS_PROGRESS_OFF; break;
        case OPT_PROGRESS: p.progress_mode = CS_PROGRESS_ON; break;
        case OPT_THREADS:
            if (cs_parse_long(optarg, &threads, "--threads") != CS_OK || threads < 1) {
                rc = cs_cli_usage_error(&train_cmd, "--threads: expected a number >= 1, got %s",
                                        optarg);
                goto out;
            }
            break;
        case OPT_INIT_STATE: p.init_state = true; break;
        case OPT_STOP_AT:
            if (cs_parse_long(optarg, &stop_at, "--stop-at") != CS_OK || stop_at < 0) {
                rc = cs_cli_usage_error(&train_cmd, "--stop-at: expected a step >= 0, got %s",
                                        optarg);
                goto out;
            }
            break;
        case OPT_STOP_AFTER:
            if (cs_parse_long(optarg, &stop_after, "--stop-after") != CS_OK || stop_after < 0) {
                rc = cs_cli_usage_error(&train_cmd, "--stop-after: expected a count >= 0, got %s",
                                        optarg);
                goto out;
            }
            break;
        }
    }
    if (optind != argc) {
        rc = cs_cli_usage_error(&train_cmd, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    st = config_path ? cs_config_read_file(config_path, &cfg)
                     : cs_config_read_string("", "command line", &cfg);
    for (size_t i = 0; i < nsets && st == CS_OK; i++)
        st = sets[i] ? cs_config_set_arg(cfg, sets[i]) : cs_fail(CS_ENOMEM, "out of memory");
    if (st == CS_OK)
        st = cs_train_keys_read(cfg, &p);
    if (st != CS_OK) {
        rc = cs_cli_report(&train_cmd, st);
        goto out;
    }
    p.stop_after = stop_after;
    p.stop_at = stop_at;
    p.threads = cs_train_set_threads((int)threads);
    if (cs_train_check(&p) != CS_OK) {
        rc = cs_cli_report(&train_cmd, CS_EINPUT);
        goto out;
    }
    if (dry) {
        dry_run(&p);
        rc = 0;
        goto out;
    }
    if (!p.data || !p.out) {
        rc = cs_cli_usage_error(&train_cmd, "%s is required (or [%s] %s in the config)",
                                p.data ? "--out" : "--data", p.data ? "run" : "data",
                                p.data ? "out" : "corpus");
        goto out;
    }
    if (p.resume && p.init_from) {
        rc = cs_cli_usage_error(&train_cmd, "--resume and --init-from exclude each other");
        goto out;
    }
    if (p.init_state && !p.init_from) {
        rc = cs_cli_usage_error(&train_cmd, "--init-state needs --init-from");
        goto out;
    }
    {
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    p.stop = &stop_flag;
    st = cs_dist_init(&argc, &argv);
    if (st != CS_OK) {
        rc = cs_cli_report(&train_cmd, st);
        goto out;
    }
    if (cs_dist_rank() != 0)
        p.progress = NULL;
    st = cs_train_run(&p, &res);
    if (st != CS_OK) {
        if (cs_dist_size() > 1)
            fprintf(stderr, "ctxscale train: rank %d of %d: %s\n", cs_dist_rank(), cs_dist_size(),
                    cs_errmsg());
        rc = cs_dist_size() > 1 ? cs_exit_code(st) : cs_cli_report(&train_cmd, st);
        cs_dist_abort(rc); /* the other ranks would wait forever at the next all-reduce */
        goto out;
    }
    if (cs_dist_rank() != 0) {
        rc = 0;
        goto out;
    }
    if (res.status_code == CS_RUNLOG_DIVERGED)
        fprintf(stderr, "ctxscale train: %s/run.h5: diverged at step %lld\n", p.out,
                (long long)res.steps_done);
    else if (res.interrupted)
        fprintf(stderr,
                "ctxscale train: stopped at step %lld of %lld (checkpoint written); continue "
                "with --resume\n",
                (long long)res.steps_done, (long long)res.steps_total);
    else
        printf("%s/run.h5: finished %lld steps; validation loss %.4f nats/token\n", p.out,
               (long long)res.steps_done, res.loss_val);
    rc = 0;
out:
    cs_dist_finalize();
    for (size_t i = 0; i < nsets; i++)
        free(sets[i]);
    free(sets);
    cs_config_free(cfg);
    return rc;
}
