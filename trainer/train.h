/* trainer/train.h: the CPU training loop: data from a token store (windows of T + 1 tokens from
 * the longdoc or the packed sampler, data/sampler.h), the model of trainer/model.h, AdamW with
 * decoupled weight decay on the weight matrices only (the embedding included; no decay on biases
 * and LayerNorm parameters), global-norm gradient clipping, a learning-rate schedule
 * (trainer/schedule.h), gradient accumulation over micro-batches so that the tokens per optimizer
 * step stay fixed across contexts, a run log row per step and per evaluation (core/runlog.h),
 * checkpoints and bit-identical resume. docs/trainer.md describes the settings, the evaluation, the
 * checkpoint format, the resume guarantees and μP. Tested by tests/unit/test_train.c,
 * tests/unit/test_train_sampler.c and, through `ctxscale train`, tests/cli/test_train.sh,
 * tests/cli/test_train_resume.sh, tests/cli/test_train_mpi.sh and tests/cli/test_sampler_c2.sh.
 */
#ifndef CS_TRAINER_TRAIN_H
#define CS_TRAINER_TRAIN_H

#include "data/sampler.h"
#include "data/store.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Magic and version of <out>/ckpt.bin (docs/trainer.md). */
#define CS_TRAIN_CKPT_MAGIC   "csckpt\r\n"
#define CS_TRAIN_CKPT_VERSION 1

/* Every setting of a run. Counts are in tokens or steps; see docs/trainer.md for each flag. */
typedef struct cs_train_params {
    const char *data;            /* token store directory (data/store.h) */
    const char *out;             /* output directory: run.h5 (run log) and ckpt.bin */
    int64_t n_layer;             /* default 4 */
    int64_t d_model;             /* default 256 */
    int64_t n_head;              /* default 4 */
    int64_t context;             /* T, default 256 */
    int64_t vocab;               /* 0 (default): the store's; else must equal the store's */
    int sampler;                 /* cs_sampler_mode of training and evaluation windows:
                                    CS_SAMPLER_LONGDOC (default) or CS_SAMPLER_PACKED */
    double rope_theta;           /* rotary base, default 10000 */
    int64_t mup_base_width;      /* μP with width multiplier d_model / mup_base_width (the
                                    initialisation and per-tensor learning rates of
                                    docs/trainer.md); 0 (default): GPT-2's parametrisation */
    int64_t batch_tokens;        /* tokens per optimizer step, a multiple of T (default 16384) */
    int64_t micro_tokens;        /* tokens per micro-batch, a multiple of T dividing batch_tokens;
                                    0 (default): min(batch_tokens, 8192) rounded to a valid value */
    double tokens;               /* planned training tokens; steps = floor(tokens / batch_tokens) */
    int schedule;                /* cs_schedule_kind, default cosine */
    double lr;                   /* peak learning rate, default 3e-3 */
    double lr_min;               /* final learning rate; < 0 (default): lr / 10 */
    int64_t warmup_steps;        /* < 0 (default): min(100, steps / 10) */
    double decay_frac;           /* wsd: share of steps decaying (default 0.2) */
    double beta1, beta2;         /* default 0.9, 0.95 */
    double eps;                  /* default 1e-8 */
    double weight_decay;         /* decoupled, on matrices only; default 0.1 */
    double grad_clip;            /* global-norm clip; <= 0 off; default 1 */
    uint64_t seed;               /* init and data order; default 1 */
    int64_t eval_every;          /* steps between evaluations; 0: only at the end (default 100) */
    int64_t eval_windows;        /* validation windows per evaluation (default 16) */
    int64_t extrap;              /* evaluation windows hold extrap·T positions (default 4) */
    double bins_per_octave;      /* contextwise bins (default 4) */
    int64_t ckpt_every;          /* steps between checkpoints; 0: only at the end (default 200) */
    int64_t stop_after;          /* debug: checkpoint and stop as if interrupted after this many
                                    steps; 0 (default): off */
    int64_t stop_at;             /* checkpoint and stop as if interrupted once the run has done
                                    this many steps in all (its step count, resumes included);
                                    0 (default): off */
    bool init_state;             /* with init_from: also take that checkpoint's Adam moments, step
                                    and RNG, and start this run's log with the rows of the run log
                                    beside it (its directory's run.h5) up to that step: a branch
                                    of that run continued under this run's settings (same shape
                                    and context), e.g. a WSD decay from a stable-phase checkpoint */
    double budget_flops;         /* FLOPs budget the tokens were derived from, recorded in the run
                                    log as budget_flops; 0 (default): none */
    int threads;                 /* recorded in the run log (the CLI sets the thread count) */
    bool resume;                 /* continue from <out>/ckpt.bin and the run log */
    const char *init_from;       /* a checkpoint (ckpt.bin) of a run of the same n_layer, d_model,
                                    n_head and vocab, any context: its weights start this run (Adam
                                    state and step start fresh); NULL: GPT-2 initialisation */
    bool force;                  /* replace an existing run in <out> */
    volatile sig_atomic_t *stop; /* when it becomes nonzero: checkpoint and stop; may be NULL */
    FILE *progress;              /* progress bar stream or NULL */
    int progress_mode;           /* CS_PROGRESS_AUTO / _ON / _OFF */
} cs_train_params;

/* How a run ended (cs_train_run returned CS_OK). */
typedef struct cs_train_result {
    int64_t steps_done;  /* optimizer steps completed */
    int64_t steps_total; /* planned steps */
    int status_code;     /* cs_runlog_status_code written: finished, diverged, or running when
                            interrupted (resumable) */
    bool interrupted;    /* stopped by *stop or stop_after; ckpt.bin holds steps_done */
    double loss_val;     /* last evaluation's validation loss (NaN if none), nats/token */
} cs_train_result;

/* The defaults listed in the field comments (data and out NULL). */
cs_train_params cs_train_default_params(void);

/* Parses a sampler name, "longdoc" or "packed", into *mode (a cs_sampler_mode). CS_EINPUT
 * otherwise ("expected longdoc or packed, got \"x\""; "mixture" is named as not selectable for
 * training). */
int cs_train_sampler_parse(const char *name, int *mode);

/* The name of a sampler mode ("longdoc", "packed", "mixture"), or "?" for another value. */
const char *cs_train_sampler_name(int mode);

/* Document ends among the n tokens of a window that starts at w (w->doc, w->pos as
 * cs_sampler_batch reports them) of a sampler of `mode` over store s: 0 for longdoc, whose
 * windows lie inside one document; for packed, the separators of the packed stream (each
 * non-empty document of the split followed by one, data/sampler.h) among the window's tokens,
 * counted from the document lengths, so it is exact even where the separator id also occurs
 * inside documents. A window with at least one document end crosses a document boundary or
 * ends on one. */
uint64_t cs_train_doc_ends(const cs_store *s, int mode, const cs_sampler_window *w, uint64_t n);

/* Checks the settings that need no data: shape (heads dividing d_model, even head size), lr > 0,
 * tokens giving at least one step, batch and micro-batch sizes, extrap >= 1, counts >= 0,
 * mup_base_width >= 0, a sampler of longdoc or packed. CS_EINPUT naming the setting. */
int cs_train_check(const cs_train_params *p);

/* Sets the number of OpenMP threads of the kernels (n >= 1; ignored in a build without OpenMP)
 * and returns the number in use afterwards. */
int cs_train_set_threads(int n);

/* Tokens per forward pass on one rank: micro_tokens when set; else the largest multiple of T up
 * to min(batch_tokens, 8192) that divides batch_tokens (at least T). p must pass
 * cs_train_check. With R ranks each computes batch_tokens / R, in micro-batches of at most this
 * many tokens that divide its share. */
int64_t cs_train_micro_tokens(const cs_train_params *p);

/* Optimizer steps planned: floor(tokens / batch_tokens). */
int64_t cs_train_steps(const cs_train_params *p);

/* Trains (or resumes) a run as p says, writing <out>/run.h5 and <out>/ckpt.bin. Returns CS_OK
 * when the run finished, diverged (the log says `diverged` with the step) or was interrupted
 * (checkpoint written, log left `running` with message "interrupted at step k; resume with
 * --resume"); *res tells which. Errors, with nothing of an existing run overwritten:
 *   CS_EINPUT  bad settings (cs_train_check), an --init-from checkpoint that is missing, corrupt
 *              or of another shape (with init_state: of another context, at a step past this
 *              run's steps, or without a readable run.h5 beside it), a store that cannot be
 *              opened or holds ids outside its vocabulary, a vocabulary mismatch, context
 *              longer than every training document (longdoc), no validation document of
 *              extrap·T + 1 tokens (longdoc) or a validation split shorter than that (packed),
 *              <out>/run.h5 existing without force or resume, a checkpoint of another sampler
 *              ("checkpoint of a run trained with --sampler longdoc; this run asks for
 *              --sampler packed"), of another configuration or a corrupt one, --resume without
 *              a checkpoint;
 *   CS_EIO     files; CS_ENOMEM. On such an error after the log was started, its status is set
 *   to `failed` with the message. */
int cs_train_run(const cs_train_params *p, cs_train_result *res);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_TRAIN_H */
