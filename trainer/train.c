/* trainer/train.c: the CPU training loop, the longdoc and packed samplers' windows for training
 * and evaluation, evaluation with contextwise loss, checkpoints and resume, μP. Declared in
 * trainer/train.h; documented in docs/trainer.md; tested by tests/unit/test_train.c,
 * tests/unit/test_train_sampler.c, tests/cli/test_train.sh, tests/cli/test_train_resume.sh,
 * tests/cli/test_train_mpi.sh and tests/cli/test_sampler_c2.sh.
 */
#include "trainer/train.h"

#include "core/afile.h"
#include "core/error.h"
#include "core/flops.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/runlog.h"
#include "core/runlog_read.h"
#include "data/sampler.h"
#include "data/store.h"
#include "trainer/adamw.h"
#include "trainer/dist.h"
#include "trainer/model.h"
#include "trainer/schedule.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Seed offset of the validation windows: the same windows at every eval and in every run with
 * the same seed. */
#define VAL_SEED_XOR UINT64_C(0x5eed0fa1da7a5e7)

typedef struct trainer {
    const cs_train_params *p;
    cs_model_shape shape;
    cs_store *store;
    cs_sampler *train;
    cs_sampler *val;
    cs_model *model;
    float *m, *v;     /* (n_params) Adam moments */
    uint32_t *batch;  /* (B, T + 1) */
    uint32_t *vbatch; /* (eval_windows, P + 1) */
    double *pos_sum;  /* (P) summed validation loss per position */
    cs_runlog *log;
    int64_t *edges; /* (n_bins + 1) */
    size_t n_bins;
    double *cw; /* (n_bins) */
    cs_schedule sched;
    double width_mult;                 /* μP: d_model / mup_base_width; 1 without μP */
    double lr_mult[CS_MODEL_NTENSORS]; /* learning-rate factor per tensor (μP); 1 without */
    cs_rng rng;                        /* state after initialisation (checkpointed) */
    uint64_t hash;                     /* configuration hash */
    double cross_train;                /* share of batch 0's windows holding a document end */
    double cross_eval;                 /* share of the evaluation windows holding one */
    double ends_eval;                  /* document ends per evaluation window, mean */
    double fpt;                        /* training FLOPs per token */
    double bytes_per_token;
    int64_t steps, step; /* planned, completed */
    int64_t last_eval;   /* step of this segment's last evaluation; -1: none yet */
    size_t B, Bm, n_micro, T, P;
    size_t B_local;        /* windows of each batch this rank computes: B / ranks */
    int rank, ranks;       /* data-parallel rank and count (trainer/dist.h) */
    double wall0, t_start; /* wall seconds before this segment; its start time */
    char path_log[4096], path_ckpt[4096];
} trainer;

cs_train_params cs_train_default_params(void)
{
    cs_train_params p = {0};

    p.n_layer = 4;
    p.d_model = 256;
    p.n_head = 4;
    p.context = 256;
    p.rope_theta = 1e4;
    p.batch_tokens = 16384;
    p.tokens = 20e6;
    p.schedule = CS_SCHEDULE_COSINE;
    p.lr = 3e-3;
    p.lr_min = -1;
    p.warmup_steps = -1;
    p.decay_frac = 0.2;
    p.beta1 = 0.9;
    p.beta2 = 0.95;
    p.eps = 1e-8;
    p.weight_decay = 0.1;
    p.grad_clip = 1.0;
    p.seed = 1;
    p.eval_every = 100;
    p.eval_windows = 16;
    p.extrap = 4;
    p.bins_per_octave = 4;
    p.ckpt_every = 200;
    return p;
}

int64_t cs_train_steps(const cs_train_params *p)
{
    if (!(p->tokens >= 0) || p->batch_tokens <= 0 || p->tokens > 9e18)
        return 0;
    return (int64_t)floor(p->tokens / (double)p->batch_tokens);
}

int64_t cs_train_micro_tokens(const cs_train_params *p)
{
    int64_t T = p->context, bt = p->batch_tokens, mt;

    if (p->micro_tokens > 0)
        return p->micro_tokens;
    mt = bt < 8192 ? bt : 8192;
    mt = mt / T * T;
    while (mt > T && bt % mt != 0)
        mt -= T;
    return mt < T ? T : mt;
}

int cs_train_sampler_parse(const char *name, int *mode)
{
    if (name && strcmp(name, "longdoc") == 0)
        *mode = CS_SAMPLER_LONGDOC;
    else if (name && strcmp(name, "packed") == 0)
        *mode = CS_SAMPLER_PACKED;
    else if (name && strcmp(name, "mixture") == 0)
        return cs_fail(CS_EINPUT, "expected longdoc or packed, got \"mixture\" (the mixture "
                                  "sampler needs per-source weights; train does not offer it)");
    else
        return cs_fail(CS_EINPUT, "expected longdoc or packed, got \"%s\"", name ? name : "");
    return CS_OK;
}

const char *cs_train_sampler_name(int mode)
{
    switch (mode) {
    case CS_SAMPLER_LONGDOC: return "longdoc";
    case CS_SAMPLER_PACKED: return "packed";
    case CS_SAMPLER_MIXTURE: return "mixture";
    default: return "?";
    }
}

uint64_t cs_train_doc_ends(const cs_store *s, int mode, const cs_sampler_window *w, uint64_t n)
{
    const cs_store_doc *d = cs_store_doc_at(s, w->doc);
    size_t first, count, i;
    uint64_t ends = 0, left;

    if (mode != CS_SAMPLER_PACKED || !d || n == 0 || w->pos > d->n_tokens)
        return 0;
    /* The stream holds each non-empty document of the split and then its separator. */
    left = d->n_tokens - w->pos + 1; /* tokens up to and including this document's separator */
    if (cs_store_split_range(s, (int)d->split, &first, &count) != CS_OK)
        return 0;
    for (i = w->doc + 1; n >= left; i++) {
        ends++;
        n -= left;
        while (i < first + count && cs_store_doc_at(s, i)->n_tokens == 0)
            i++;
        if (i >= first + count)
            break;
        left = cs_store_doc_at(s, i)->n_tokens + 1;
    }
    return ends;
}

int cs_train_check(const cs_train_params *p)
{
    cs_model_shape s = {p->n_layer, p->d_model, p->n_head, p->vocab > 0 ? p->vocab : 2, p->context};
    int st = cs_flops_check_shape(&s);

    if (st)
        return st;
    if ((p->d_model / p->n_head) % 2)
        return cs_fail(CS_EINPUT,
                       "--d-model / --heads = %lld: the head size must be even for "
                       "rotary embeddings",
                       (long long)(p->d_model / p->n_head));
    if (!(p->lr > 0) || !isfinite(p->lr))
        return cs_fail(CS_EINPUT, "--lr: expected a number > 0, got %g", p->lr);
    if (p->batch_tokens <= 0 || p->batch_tokens % p->context)
        return cs_fail(CS_EINPUT,
                       "--batch-tokens = %lld: expected a positive multiple of the "
                       "context %lld",
                       (long long)p->batch_tokens, (long long)p->context);
    if (p->micro_tokens < 0 || p->micro_tokens % p->context ||
        (p->micro_tokens && p->batch_tokens % p->micro_tokens))
        return cs_fail(CS_EINPUT,
                       "--micro-tokens = %lld: expected a multiple of the context "
                       "that divides --batch-tokens",
                       (long long)p->micro_tokens);
    if (cs_train_steps(p) < 1)
        return cs_fail(CS_EINPUT,
                       "--tokens = %g with --batch-tokens = %lld: zero optimizer "
                       "steps",
                       p->tokens, (long long)p->batch_tokens);
    if (p->mup_base_width < 0)
        return cs_fail(CS_EINPUT, "--mup-base-width = %lld: expected 0 (off) or a width >= 1",
                       (long long)p->mup_base_width);
    if (p->sampler != CS_SAMPLER_LONGDOC && p->sampler != CS_SAMPLER_PACKED)
        return cs_fail(CS_EINPUT, "--sampler: expected longdoc or packed, got %s",
                       cs_train_sampler_name(p->sampler));
    if (p->extrap < 1 || p->eval_windows < 1 || p->eval_every < 0 || p->ckpt_every < 0 ||
        p->stop_after < 0 || p->stop_at < 0)
        return cs_fail(CS_EINPUT, "--extrap and --eval-windows must be >= 1, --eval-every, "
                                  "--ckpt-every, --stop-after and --stop-at >= 0");
    if (!(p->beta1 >= 0 && p->beta1 < 1 && p->beta2 >= 0 && p->beta2 < 1 && p->eps > 0 &&
          p->weight_decay >= 0 && isfinite(p->grad_clip) && p->bins_per_octave > 0))
        return cs_fail(CS_EINPUT, "optimizer: expected beta1, beta2 in [0, 1), eps > 0, "
                                  "weight decay >= 0, a finite grad clip, bins per octave > 0");
    return CS_OK;
}

/* ---- configuration hash and run-log config ------------------------------------------- */

/* FNV-1a of every setting that shapes the trajectory or the log's rows (not out, threads,
 * checkpoint cadence, stop_after, progress), with the sampler taken as `sampler` (so that a
 * checkpoint's hash can be matched against each sampler mode). */
static uint64_t config_hash(const trainer *tr, int sampler)
{
    const cs_train_params *p = tr->p;
    char buf[1024];
    int n = snprintf(
        buf, sizeof buf,
        "L%lld C%lld H%lld V%lld T%lld th%.17g bt%lld mt%zu tok%.17g sch%d lr%.17g "
        "lm%.17g w%lld df%.17g b%.17g,%.17g e%.17g wd%.17g gc%.17g s%llu ee%lld "
        "ew%lld x%lld bpo%.17g dt%llu",
        (long long)tr->shape.n_layer, (long long)tr->shape.d_model, (long long)tr->shape.n_head,
        (long long)tr->shape.vocab, (long long)tr->shape.context, p->rope_theta,
        (long long)p->batch_tokens, tr->Bm * tr->T, p->tokens, tr->sched.kind, tr->sched.lr_max,
        tr->sched.lr_min, (long long)tr->sched.warmup_steps, tr->sched.decay_frac, p->beta1,
        p->beta2, p->eps, p->weight_decay, p->grad_clip, (unsigned long long)p->seed,
        (long long)p->eval_every, (long long)p->eval_windows, (long long)p->extrap,
        p->bins_per_octave, (unsigned long long)cs_store_split_tokens(tr->store, CS_STORE_TRAIN));

    /* Added only when on, so the hash of a GPT-2-parametrised run is unchanged. */
    if (p->mup_base_width > 0 && n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " mup%lld", (long long)p->mup_base_width);
    /* Likewise the sampler: a longdoc run keeps the hash it had before packed existed. */
    if (sampler != CS_SAMPLER_LONGDOC && n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " smp%d", sampler);
    if (n < 0 || (size_t)n >= sizeof buf)
        n = (int)strlen(buf);
    return cs_store_fnv1a(CS_STORE_FNV_INIT, buf, (size_t)n);
}

static int log_config_ints(trainer *tr, const cs_param_count *pc)
{
    const cs_train_params *p = tr->p;
    const struct {
        const char *k;
        int64_t v;
    } iv[] = {
        {"n_layer", tr->shape.n_layer},
        {"n_head", tr->shape.n_head},
        {"d_model", tr->shape.d_model},
        {"n_params", pc->total},
        {"n_params_nonembed", pc->non_embedding},
        {"vocab", tr->shape.vocab},
        {"context", tr->shape.context},
        {"batch_tokens", p->batch_tokens},
        {"micro_batch_tokens", (int64_t)(tr->Bm * tr->T)},
        {"steps_total", tr->steps},
        {"tokens_total", tr->steps * p->batch_tokens},
        {"seed", (int64_t)p->seed},
        {"lr_warmup_steps", tr->sched.warmup_steps},
        {"eval_every", p->eval_every},
        {"eval_windows", p->eval_windows},
        {"eval_extrap", p->extrap},
        {"ckpt_every", p->ckpt_every},
        {"threads", p->threads},
        {"data_tokens", (int64_t)cs_store_split_tokens(tr->store, CS_STORE_TRAIN)},
        {"ranks", tr->ranks},
        {"mup_base_width", p->mup_base_width},
    };
    int st = CS_OK;

    for (size_t i = 0; i < sizeof iv / sizeof iv[0] && !st; i++)
        st = cs_runlog_set_int(tr->log, iv[i].k, iv[i].v);
    return st;
}

static int log_config(trainer *tr, const cs_param_count *pc)
{
    const cs_train_params *p = tr->p;
    const struct {
        const char *k;
        double v;
    } dv[] = {
        {"optimizer_beta1", p->beta1},
        {"optimizer_beta2", p->beta2},
        {"optimizer_eps", p->eps},
        {"weight_decay", p->weight_decay},
        {"grad_clip", p->grad_clip > 0 ? p->grad_clip : NAN},
        {"lr_max", tr->sched.lr_max},
        {"lr_min", tr->sched.lr_min},
        {"lr_decay_frac", tr->sched.decay_frac},
        {"rope_theta", p->rope_theta},
        {"data_bytes_per_token", tr->bytes_per_token},
        {"flops_per_token", tr->fpt},
        {"eval_bins_per_octave", p->bins_per_octave},
        {"mup_width_mult", tr->width_mult},
        {"sampler_train_cross_share", tr->cross_train},
        {"sampler_eval_cross_share", tr->cross_eval},
        {"sampler_eval_doc_ends", tr->ends_eval},
    };
    const struct {
        const char *k;
        const char *v;
    } sv[] = {
        {"optimizer", "adamw"},
        {"weight_decay_on", "matrices (embedding included)"},
        {"lr_schedule", cs_schedule_name(tr->sched.kind)},
        {"data_name", p->data},
        {"flops_formula", cs_flops_formula(CS_FLOPS_DEFAULT)},
        {"device", "cpu"},
        {"sampler", cs_train_sampler_name(p->sampler)},
        {"position_encoding", "rope"},
        {"parametrization", p->mup_base_width > 0 ? "mup" : "standard"},
    };
    int st = log_config_ints(tr, pc);

    for (size_t i = 0; i < sizeof dv / sizeof dv[0] && !st; i++)
        st = cs_runlog_set_double(tr->log, dv[i].k, dv[i].v);
    for (size_t i = 0; i < sizeof sv / sizeof sv[0] && !st; i++)
        st = cs_runlog_set_str(tr->log, sv[i].k, sv[i].v);
    if (!st && p->sampler == CS_SAMPLER_PACKED)
        st = cs_runlog_set_int(tr->log, "sampler_sep_token", 0); /* the sampler's default */
    return st;
}

/* ---- checkpoints ------------------------------------------------------------------------- */

typedef struct ckpt_header {
    char magic[8];
    uint32_t version;
    uint32_t header_bytes;
    int64_t shape[5]; /* n_layer, d_model, n_head, vocab, context */
    uint64_t config_hash;
    int64_t step;
    double wall_s;
    uint64_t n_params;
    cs_rng rng;
} ckpt_header;

static void fill_header(const trainer *tr, ckpt_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CS_TRAIN_CKPT_MAGIC, 8);
    h->version = CS_TRAIN_CKPT_VERSION;
    h->header_bytes = (uint32_t)sizeof *h;
    h->shape[0] = tr->shape.n_layer;
    h->shape[1] = tr->shape.d_model;
    h->shape[2] = tr->shape.n_head;
    h->shape[3] = tr->shape.vocab;
    h->shape[4] = tr->shape.context;
    h->config_hash = tr->hash;
    h->step = tr->step;
    h->wall_s = tr->wall0 + (cs_progress_now() - tr->t_start);
    h->n_params = cs_model_n_params(tr->model);
    h->rng = tr->rng;
}

static int write_block(FILE *f, const void *x, size_t n, uint64_t *sum)
{
    *sum = cs_store_fnv1a(*sum, x, n);
    return fwrite(x, 1, n, f) == n ? CS_OK : CS_EIO;
}

/* Writes ckpt.bin through a temporary file renamed into place (core/afile.h). */
static int ckpt_save(trainer *tr)
{
    size_t n = cs_model_n_params(tr->model), bytes = n * sizeof(float);
    uint64_t sum = CS_STORE_FNV_INIT;
    ckpt_header h;
    cs_afile *af;
    FILE *f;
    int st;

    if (tr->rank != 0)
        return CS_OK;
    fill_header(tr, &h);
    st = cs_afile_open(tr->path_ckpt, true, &af);
    if (st)
        return st;
    f = cs_afile_stream(af);
    st = write_block(f, &h, sizeof h, &sum);
    st = st ? st : write_block(f, cs_model_params(tr->model), bytes, &sum);
    st = st ? st : write_block(f, tr->m, bytes, &sum);
    st = st ? st : write_block(f, tr->v, bytes, &sum);
    st = st ? st : write_block(f, &sum, sizeof sum, &(uint64_t){0});
    if (st) {
        cs_afile_abort(af);
        return cs_fail(CS_EIO, "%s: write failed: %s", tr->path_ckpt, strerror(errno));
    }
    return cs_afile_commit(af);
}

static int read_file(const char *path, unsigned char **buf, size_t *n)
{
    FILE *f = fopen(path, "rb");
    long len;

    if (!f)
        return cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO,
                       "%s: cannot open: %s (nothing to "
                       "resume)",
                       path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out_io;
    *n = (size_t)len;
    *buf = malloc(*n ? *n : 1);
    if (!*buf) {
        fclose(f);
        return cs_fail(CS_ENOMEM, "%s: out of memory", path);
    }
    if (fread(*buf, 1, *n, f) != *n) {
        free(*buf);
        goto out_io;
    }
    fclose(f);
    return CS_OK;
out_io:
    fclose(f);
    return cs_fail(CS_EIO, "%s: read failed", path);
}

/* A checkpoint whose configuration hash is not this run's: when the hash is this run's with
 * another sampler, the sampler is what differs and the message says so. CS_EINPUT. */
static int hash_mismatch(const trainer *tr, const char *path, uint64_t theirs)
{
    const int modes[] = {CS_SAMPLER_LONGDOC, CS_SAMPLER_PACKED};

    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (modes[i] != tr->p->sampler && config_hash(tr, modes[i]) == theirs)
            return cs_fail(CS_EINPUT,
                           "%s: checkpoint of a run trained with --sampler %s; this run asks for "
                           "--sampler %s (resume with the run's own sampler, or start a new run "
                           "in another --out)",
                           path, cs_train_sampler_name(modes[i]),
                           cs_train_sampler_name(tr->p->sampler));
    return cs_fail(CS_EINPUT,
                   "%s: checkpoint written with other settings (configuration hash %016llx, "
                   "this run's %016llx)",
                   path, (unsigned long long)theirs, (unsigned long long)tr->hash);
}

static int ckpt_check(const trainer *tr, const char *path, const ckpt_header *h, size_t size,
                      bool same_run)
{
    ckpt_header want;

    fill_header(tr, &want);
    if (size < sizeof *h || memcmp(h->magic, want.magic, 8) != 0)
        return cs_fail(CS_EINPUT, "%s: not a ctxscale checkpoint", path);
    if (h->version != CS_TRAIN_CKPT_VERSION || h->header_bytes != sizeof *h)
        return cs_fail(CS_EINPUT, "%s: checkpoint version %u; this build reads version %d", path,
                       h->version, CS_TRAIN_CKPT_VERSION);
    if (!same_run && !tr->p->init_state)
        want.shape[4] = h->shape[4]; /* --init-from: any training context */
    if (memcmp(h->shape, want.shape, sizeof h->shape) != 0)
        return cs_fail(CS_EINPUT,
                       "%s: checkpoint of a model with n_layer %lld, d_model %lld, "
                       "n_head %lld, vocab %lld, context %lld; this run's differs",
                       path, (long long)h->shape[0], (long long)h->shape[1], (long long)h->shape[2],
                       (long long)h->shape[3], (long long)h->shape[4]);
    if (same_run && h->config_hash != want.config_hash)
        return hash_mismatch(tr, path, h->config_hash);
    if (h->n_params != want.n_params || size != sizeof *h + 3 * 4 * h->n_params + 8)
        return cs_fail(CS_EINPUT, "%s: %zu bytes; the checkpoint needs %zu: truncated", path, size,
                       (size_t)(sizeof *h + 3 * 4 * want.n_params + 8));
    if ((same_run || tr->p->init_state) && (h->step < 0 || h->step > tr->steps))
        return cs_fail(CS_EINPUT, "%s: step %lld outside 0..%lld", path, (long long)h->step,
                       (long long)tr->steps);
    return CS_OK;
}

/* Reads checkpoint `path`. same_run: a checkpoint of this very run (--resume): everything is
 * restored. Otherwise (--init-from) only the weights, and the context may differ. */
static int ckpt_load(trainer *tr, const char *path, bool same_run)
{
    unsigned char *buf = NULL;
    size_t size = 0, n = cs_model_n_params(tr->model), bytes = n * sizeof(float);
    ckpt_header h;
    uint64_t sum;
    int st = read_file(path, &buf, &size);

    if (st)
        return st;
    memset(&h, 0, sizeof h);
    memcpy(&h, buf, size < sizeof h ? size : sizeof h);
    st = ckpt_check(tr, path, &h, size, same_run);
    if (st == CS_OK) {
        memcpy(&sum, buf + size - 8, 8);
        if (sum != cs_store_fnv1a(CS_STORE_FNV_INIT, buf, size - 8))
            st = cs_fail(CS_EINPUT, "%s: checksum mismatch: the checkpoint is corrupt", path);
    }
    if (st == CS_OK) {
        memcpy(cs_model_params(tr->model), buf + sizeof h, bytes);
        if (same_run || tr->p->init_state) { /* --init-state: a branch continues the state */
            memcpy(tr->m, buf + sizeof h + bytes, bytes);
            memcpy(tr->v, buf + sizeof h + 2 * bytes, bytes);
            tr->step = h.step;
            tr->wall0 = h.wall_s;
            tr->rng = h.rng;
        }
    }
    free(buf);
    return st;
}

/* ---- setup ------------------------------------------------------------------------------- */

static int open_data(trainer *tr)
{
    const cs_train_params *p = tr->p;
    cs_sampler_params sp = cs_sampler_default_params();
    int st = cs_store_open(p->data, &tr->store);

    if (st)
        return st;
    st = cs_store_check_ids(tr->store);
    if (st)
        return st;
    if (p->vocab > 0 && (size_t)p->vocab != cs_store_vocab(tr->store))
        return cs_fail(CS_EINPUT, "--vocab %lld: the store %s has vocabulary %zu",
                       (long long)p->vocab, p->data, cs_store_vocab(tr->store));
    tr->bytes_per_token = (double)cs_store_split_bytes(tr->store, CS_STORE_VAL) /
                          (double)cs_store_split_tokens(tr->store, CS_STORE_VAL);
    sp.mode = p->sampler;
    sp.T = sp.L_max = tr->T;
    sp.batch_tokens = (size_t)p->batch_tokens;
    sp.seed = p->seed;
    tr->train = cs_sampler_alloc(tr->store, &sp);
    if (!tr->train)
        return cs_fail_prefix(CS_EINPUT, "%s: training windows of context %zu", p->data, tr->T);
    sp.split = CS_STORE_VAL;
    sp.T = sp.L_max = tr->P;
    sp.batch_tokens = tr->P * (size_t)p->eval_windows;
    sp.seed = p->seed ^ VAL_SEED_XOR;
    tr->val = cs_sampler_alloc(tr->store, &sp);
    if (!tr->val)
        return cs_fail_prefix(CS_EINPUT,
                              "%s: validation windows of extrap·T = %zu positions "
                              "(lower --extrap)",
                              p->data, tr->P);
    return CS_OK;
}

static int alloc_state(trainer *tr)
{
    const cs_train_params *p = tr->p;
    size_t n;

    tr->model = cs_model_alloc(&tr->shape, p->rope_theta, cs_cpu_ops());
    if (!tr->model)
        return CS_EINPUT;
    n = cs_model_n_params(tr->model);
    tr->m = calloc(n, sizeof(float));
    tr->v = calloc(n, sizeof(float));
    tr->batch = malloc(tr->B * (tr->T + 1) * sizeof(uint32_t));
    tr->vbatch = malloc((size_t)p->eval_windows * (tr->P + 1) * sizeof(uint32_t));
    tr->pos_sum = malloc(tr->P * sizeof(double));
    if (!tr->m || !tr->v || !tr->batch || !tr->vbatch || !tr->pos_sum)
        return cs_fail(CS_ENOMEM, "train: out of memory for the optimizer state");
    if (cs_runlog_bin_edges((int64_t)tr->T, p->extrap, p->bins_per_octave, 0, &tr->edges,
                            &tr->n_bins))
        return CS_EINPUT;
    tr->cw = malloc(tr->n_bins * sizeof(double));
    return tr->cw ? CS_OK : cs_fail(CS_ENOMEM, "train: out of memory");
}

static int setup_schedule(trainer *tr)
{
    const cs_train_params *p = tr->p;

    tr->steps = cs_train_steps(p);
    tr->sched.kind = p->schedule;
    tr->sched.lr_max = p->lr;
    tr->sched.lr_min = p->lr_min >= 0 ? p->lr_min : p->lr / 10;
    tr->sched.warmup_steps =
        p->warmup_steps >= 0 ? p->warmup_steps : (tr->steps / 10 < 100 ? tr->steps / 10 : 100);
    tr->sched.total_steps = tr->steps;
    tr->sched.decay_frac = p->decay_frac;
    return cs_schedule_check(&tr->sched);
}

/* Creates dir and its missing parents (as mkdir -p). */
static int make_out_dir(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof path)
        return cs_fail(CS_EINPUT, "--out: expected a directory path of 1 to %zu bytes",
                       sizeof path - 1);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return cs_fail(CS_EIO, "%s: cannot create the output directory: %s", path,
                           strerror(errno));
        path[i] = dir[i];
    }
    return CS_OK;
}

/* μP (docs/trainer.md), with m = d_model / mup_base_width: hidden matrices get learning rate
 * lr / m; the readout multiplier 1/m of the tied embedding is carried by the final LayerNorm
 * (gain initialised to 1/m, gain and bias at learning rate lr / m: for Adam, the same dynamics
 * as multiplying the logits by 1/m); everything else keeps lr. Without μP every factor is 1. */
static void mup_setup(trainer *tr)
{
    double m =
        tr->p->mup_base_width > 0 ? (double)tr->shape.d_model / (double)tr->p->mup_base_width : 1.0;

    tr->width_mult = m;
    for (size_t i = 0; i < CS_MODEL_NTENSORS; i++) {
        bool scaled = i == CS_MODEL_QKVW || i == CS_MODEL_ATTPROJW || i == CS_MODEL_FCW ||
                      i == CS_MODEL_FCPROJW || i == CS_MODEL_LNFW || i == CS_MODEL_LNFB;

        tr->lr_mult[i] = scaled ? 1.0 / m : 1.0;
    }
}

/* μP's initialisation on top of GPT-2's: hidden matrices' standard deviation divided by √m
 * (variance ∝ 1/fan_in), final LayerNorm gain 1/m. Nothing changes when m = 1. */
static void mup_init(trainer *tr)
{
    float *w = cs_model_params(tr->model);
    const size_t hidden[] = {CS_MODEL_QKVW, CS_MODEL_ATTPROJW, CS_MODEL_FCW, CS_MODEL_FCPROJW};
    const cs_model_tensor *t;
    float s = (float)(1.0 / sqrt(tr->width_mult));

    if (tr->width_mult == 1.0)
        return;
    for (size_t k = 0; k < sizeof hidden / sizeof hidden[0]; k++) {
        t = cs_model_tensor_at(tr->model, hidden[k]);
        for (size_t i = 0; i < t->size; i++)
            w[t->offset + i] *= s;
    }
    t = cs_model_tensor_at(tr->model, CS_MODEL_LNFW);
    for (size_t i = 0; i < t->size; i++)
        w[t->offset + i] = (float)(1.0 / tr->width_mult);
}

/* What the sampler does to the context, logged with the settings: the share of the windows of
 * training batch 0 and of the evaluation windows that hold a document end, and the evaluation
 * windows' mean number of document ends (cs_train_doc_ends; all 0 for longdoc). */
static int sampler_stats(trainer *tr)
{
    size_t W = (size_t)tr->p->eval_windows, n = tr->B > W ? tr->B : W;
    cs_sampler_window *info = malloc(n * sizeof *info);
    uint64_t crossing = 0, ends = 0, e;
    int st;

    if (!info)
        return cs_fail(CS_ENOMEM, "train: out of memory");
    st = cs_sampler_batch(tr->train, 0, tr->batch, info);
    for (size_t b = 0; b < tr->B && !st; b++)
        crossing += cs_train_doc_ends(tr->store, tr->p->sampler, &info[b], tr->T + 1) > 0;
    tr->cross_train = (double)crossing / (double)tr->B;
    crossing = 0;
    st = st ? st : cs_sampler_batch(tr->val, 0, tr->vbatch, info);
    for (size_t w = 0; w < W && !st; w++) {
        e = cs_train_doc_ends(tr->store, tr->p->sampler, &info[w], tr->P + 1);
        crossing += e > 0;
        ends += e;
    }
    tr->cross_eval = (double)crossing / (double)W;
    tr->ends_eval = (double)ends / (double)W;
    free(info);
    return st;
}

/* The first n rows of the numeric columns of t (rows with step <= the checkpoint's), as a new
 * table in *out. */
static int table_head(const cs_table *t, size_t n, cs_table **out)
{
    cs_table *h = cs_table_alloc(cs_table_source(t));
    int st = h ? CS_OK : CS_ENOMEM;

    for (size_t c = 0; st == CS_OK && c < cs_table_ncols(t); c++)
        if (cs_table_col_type(t, c) == CS_COL_NUM)
            st = cs_table_add_col(h, cs_table_col_name(t, c), CS_COL_NUM, NULL);
    for (size_t r = 0; st == CS_OK && r < n; r++) {
        st = cs_table_append_row(h, 0);
        for (size_t c = 0, k = 0; st == CS_OK && c < cs_table_ncols(t); c++)
            if (cs_table_col_type(t, c) == CS_COL_NUM)
                cs_table_set_num(h, r, k++, cs_table_num(t, r, c));
    }
    if (st)
        cs_table_free(h);
    *out = st ? NULL : h;
    return st;
}

/* Appends the eval rows of t (and their contextwise rows, when the bins agree) with step <=
 * tr->step to this run's log. */
static int copy_evals(trainer *tr, const cs_table *t, const cs_runlog_ctxwise *cw)
{
    const char *names[] = {"step", "tokens", "flops", "loss_val", "loss_val_best", "loss_val_bpb"};
    long col[6];
    bool same_bins = cw->n_bins == tr->n_bins;
    int st = CS_OK;

    for (size_t k = 0; k < 6; k++)
        if ((col[k] = cs_table_find(t, names[k])) < 0)
            return cs_fail(CS_EINPUT, "%s: no eval column %s", cs_table_source(t), names[k]);
    for (size_t r = 0; st == CS_OK && r < cs_table_nrows(t); r++) {
        cs_runlog_eval e = cs_runlog_eval_unknown();

        double step = cs_table_num(t, r, (size_t)col[0]), tok = cs_table_num(t, r, (size_t)col[1]);

        if (!(step <= (double)tr->step))
            break;
        e.step = (int64_t)step;
        e.tokens = isnan(tok) ? -1 : (int64_t)tok;
        e.flops = cs_table_num(t, r, (size_t)col[2]);
        e.loss_val = cs_table_num(t, r, (size_t)col[3]);
        e.loss_val_best = cs_table_num(t, r, (size_t)col[4]);
        e.loss_val_bpb = cs_table_num(t, r, (size_t)col[5]);
        e.contextwise = same_bins && r < cw->n_evals ? cw->loss + r * cw->n_bins : NULL;
        st = cs_runlog_append_eval(tr->log, &e);
    }
    return st;
}

/* Run-log attributes of a FLOPs budget and of a branch (init_state), and a branch's rows up to
 * its step copied from the log beside the checkpoint it continues. */
static int log_budget_branch(trainer *tr)
{
    const cs_train_params *p = tr->p;
    const char *slash = p->init_from ? strrchr(p->init_from, '/') : NULL;
    char path[4096];
    cs_runlog_reader *rd = NULL;
    cs_table *steps = NULL, *head = NULL, *evals = NULL;
    cs_runlog_ctxwise *cw = NULL;
    size_t n = 0;
    long sc = -1;
    int st = p->budget_flops > 0 ? cs_runlog_set_double(tr->log, "budget_flops", p->budget_flops)
                                 : CS_OK;

    if (st || !p->init_from || !p->init_state)
        return st;
    snprintf(path, sizeof path, "%.*s/run.h5", slash ? (int)(slash - p->init_from) : 1,
             slash ? p->init_from : ".");
    st = cs_runlog_set_int(tr->log, "branch_step", tr->step);
    st = st ? st : cs_runlog_read_open(path, &rd);
    st = st ? st : cs_runlog_read_steps(rd, &steps);
    if (st == CS_OK && (sc = cs_table_find(steps, "step")) < 0)
        st = cs_fail(CS_EINPUT, "no steps column \"step\"");
    while (st == CS_OK && n < cs_table_nrows(steps) &&
           cs_table_num(steps, n, (size_t)sc) <= (double)tr->step)
        n++;
    st = st ? st : table_head(steps, n, &head);
    st = st ? st : cs_runlog_write_steps(tr->log, head);
    st = st ? st : cs_runlog_read_evals(rd, &evals);
    st = st ? st : cs_runlog_read_contextwise(rd, &cw);
    st = st ? st : copy_evals(tr, evals, cw);
    cs_runlog_read_ctxwise_free(cw);
    cs_table_free(evals);
    cs_table_free(head);
    cs_table_free(steps);
    cs_runlog_read_close(rd);
    return st ? cs_fail_prefix(st, "--init-from (the rows of %s)", path) : CS_OK;
}

/* A new run: initialise, create the log with every setting. */
static int start_fresh(trainer *tr)
{
    cs_runlog_params rp = cs_runlog_default_params();
    cs_param_count pc;
    int st;

    cs_model_init(tr->model, tr->p->seed);
    mup_init(tr);
    cs_rng_seed(&tr->rng, tr->p->seed, 1);
    if (tr->p->init_from) {
        st = ckpt_load(tr, tr->p->init_from, false);
        if (st)
            return cs_fail_prefix(st, "--init-from");
    }
    if (tr->rank != 0)
        return CS_OK; /* rank 0 alone writes the log and the checkpoints */
    rp.force = tr->p->force;
    rp.context = (int64_t)tr->T;
    rp.bin_edges = tr->edges;
    rp.n_bins = tr->n_bins;
    st = sampler_stats(tr);
    if (st)
        return st;
    st = cs_runlog_create(tr->path_log, &rp, &tr->log);
    if (st)
        return st;
    st = cs_flops_count_params(&tr->shape, &pc);
    st = st ? st : log_config(tr, &pc);
    st = st ? st : log_budget_branch(tr);
    st = st ? st
            : cs_runlog_set_int(tr->log, "config_hash_low32", (int64_t)(tr->hash & 0xffffffffu));
    st = st ? st : cs_runlog_start_swmr(tr->log);
    return st;
}

static int setup(trainer *tr)
{
    const cs_train_params *p = tr->p;
    int st = cs_train_check(p);

    if (st)
        return st;
    tr->T = (size_t)p->context;
    tr->P = tr->T * (size_t)p->extrap;
    tr->B = (size_t)p->batch_tokens / tr->T;
    tr->rank = cs_dist_rank();
    tr->ranks = cs_dist_size();
    if (tr->B % (size_t)tr->ranks != 0)
        return cs_fail(CS_EINPUT,
                       "--batch-tokens %lld holds %zu windows of T = %zu, which %d ranks "
                       "cannot share equally",
                       (long long)p->batch_tokens, tr->B, tr->T, tr->ranks);
    tr->B_local = tr->B / (size_t)tr->ranks;
    tr->Bm = (size_t)cs_train_micro_tokens(p) / tr->T;
    if (tr->Bm > tr->B_local)
        tr->Bm = tr->B_local;
    while (tr->B_local % tr->Bm != 0)
        tr->Bm--;
    tr->n_micro = tr->B_local / tr->Bm;
    snprintf(tr->path_log, sizeof tr->path_log, "%s/run.h5", p->out);
    snprintf(tr->path_ckpt, sizeof tr->path_ckpt, "%s/ckpt.bin", p->out);
    st = setup_schedule(tr);
    st = st ? st : open_data(tr);
    if (st)
        return st;
    tr->shape = (cs_model_shape){p->n_layer, p->d_model, p->n_head,
                                 (int64_t)cs_store_vocab(tr->store), p->context};
    st = cs_flops_per_token(&tr->shape, CS_FLOPS_DEFAULT, &tr->fpt);
    st = st ? st : alloc_state(tr);
    if (st)
        return st;
    mup_setup(tr);
    tr->hash = config_hash(tr, p->sampler);
    tr->t_start = cs_progress_now();
    if (p->resume) {
        st = ckpt_load(tr, tr->path_ckpt, true);
        if (st || tr->rank != 0)
            return st;
        return cs_runlog_reopen(tr->path_log, tr->step, &tr->log);
    }
    st = tr->rank == 0 ? make_out_dir(p->out) : CS_OK;
    return st ? st : start_fresh(tr);
}

static void teardown(trainer *tr)
{
    cs_model_free(tr->model);
    cs_sampler_free(tr->train);
    cs_sampler_free(tr->val);
    cs_store_close(tr->store);
    free(tr->m);
    free(tr->v);
    free(tr->batch);
    free(tr->vbatch);
    free(tr->pos_sum);
    free(tr->edges);
    free(tr->cw);
}

/* ---- one step, one evaluation ----------------------------------------------------------- */

/* Positions in the best-context window: the last 5% of T, at least one. */
static size_t best_positions(size_t T)
{
    size_t n = (T + 19) / 20;

    return n ? n : 1;
}

/* Forward and backward over the micro-batches of step tr->step, then clip and step AdamW. */
static int train_step(trainer *tr, cs_runlog_step *row)
{
    const cs_train_params *p = tr->p;
    size_t T = tr->T, nb = best_positions(T), n = cs_model_n_params(tr->model);
    double sums[2] = {0, 0}, lr; /* summed loss over all positions, over the best positions */
    float norm, scale;
    const uint32_t *mine = tr->batch + (size_t)tr->rank * tr->B_local * (T + 1);
    int st = cs_sampler_batch(tr->train, (uint64_t)tr->step, tr->batch, NULL);

    if (st)
        return st;
    cs_model_zero_grad(tr->model);
    for (size_t k = 0; k < tr->n_micro; k++) {
        double mean;
        const float *l;

        st = cs_model_forward(tr->model, mine + k * tr->Bm * (T + 1), tr->Bm, T, &mean);
        if (st)
            return st;
        sums[0] += mean * (double)(tr->Bm * T);
        l = cs_model_losses(tr->model);
        for (size_t b = 0; b < tr->Bm; b++)
            for (size_t t = T - nb; t < T; t++)
                sums[1] += l[b * T + t];
        cs_model_backward(tr->model, 1.0f / (float)(tr->B * T));
    }
    /* The data-parallel seam: gradients and losses summed over ranks (identity for one). */
    st = cs_dist_sum_float(cs_model_grads(tr->model), n);
    st = st ? st : cs_dist_sum_double(sums, 2);
    if (st)
        return st;
    cs_cpu_ops()->adamw_norm(&norm, cs_model_grads(tr->model), n);
    row->loss_train = sums[0] / (double)(tr->B * T);
    row->loss_train_best = sums[1] / (double)(tr->B * nb);
    row->grad_norm = norm;
    lr = cs_schedule_lr(&tr->sched, tr->step);
    row->lr = lr;
    if (!isfinite(row->loss_train) || !isfinite(norm))
        return CS_OK; /* the caller stops the run as diverged */
    scale = cs_adamw_clip_scale(norm, (float)p->grad_clip);
    for (size_t i = 0; i < CS_MODEL_NTENSORS; i++) {
        const cs_model_tensor *t = cs_model_tensor_at(tr->model, i);

        cs_cpu_ops()->adamw_update(
            cs_model_params(tr->model) + t->offset, tr->m + t->offset, tr->v + t->offset,
            cs_model_grads(tr->model) + t->offset, t->size, (float)(lr * tr->lr_mult[i]),
            (float)p->beta1, (float)p->beta2, (float)p->eps,
            t->is_matrix ? (float)p->weight_decay : 0.0f, scale, (int)(tr->step + 1));
    }
    return CS_OK;
}

/* Validation at the current weights: eval_windows windows of P = extrap·T positions from the
 * validation split (the same windows at every evaluation), one window per forward pass. Fills
 * the eval row and tr->cw (mean loss per contextwise bin). */
static int evaluate(trainer *tr, cs_runlog_eval *e)
{
    size_t P = tr->P, T = tr->T, W = (size_t)tr->p->eval_windows, nb = best_positions(T);
    double in_T = 0, best = 0;
    int st = cs_sampler_batch(tr->val, 0, tr->vbatch, NULL);

    if (st)
        return st;
    memset(tr->pos_sum, 0, P * sizeof *tr->pos_sum);
    for (size_t w = 0; w < W; w++) {
        const float *l;

        st = cs_model_forward(tr->model, tr->vbatch + w * (P + 1), 1, P, NULL);
        if (st)
            return st;
        l = cs_model_losses(tr->model);
        for (size_t t = 0; t < P; t++)
            tr->pos_sum[t] += l[t];
    }
    for (size_t t = 0; t < T; t++)
        in_T += tr->pos_sum[t];
    for (size_t t = T - nb; t < T; t++)
        best += tr->pos_sum[t];
    for (size_t b = 0; b < tr->n_bins; b++) {
        double acc = 0;
        size_t lo = (size_t)tr->edges[b] - 1, hi = (size_t)tr->edges[b + 1] - 1;

        for (size_t t = lo; t < hi; t++)
            acc += tr->pos_sum[t];
        tr->cw[b] = acc / (double)(W * (hi - lo));
    }
    e->loss_val = in_T / (double)(W * T);
    e->loss_val_best = best / (double)(W * nb);
    e->loss_val_bpb = e->loss_val / log(2.0) / tr->bytes_per_token;
    e->contextwise = tr->cw;
    return CS_OK;
}

/* ---- the run ----------------------------------------------------------------------------- */

int cs_train_set_threads(int n)
{
#ifdef _OPENMP
    if (n >= 1)
        omp_set_num_threads(n);
    return omp_get_max_threads();
#else
    (void)n;
    return 1;
#endif
}

static double wall_now(const trainer *tr)
{
    return tr->wall0 + (cs_progress_now() - tr->t_start);
}

static int log_eval(trainer *tr, double *loss_val)
{
    cs_runlog_eval e = cs_runlog_eval_unknown();
    int st;

    if (tr->rank != 0)
        return CS_OK; /* rank 0 evaluates while the others wait at the next all-reduce */
    st = evaluate(tr, &e);
    if (st)
        return st;
    e.step = tr->step;
    e.tokens = tr->step * tr->p->batch_tokens;
    e.flops = tr->fpt * (double)e.tokens;
    *loss_val = e.loss_val;
    return cs_runlog_append_eval(tr->log, &e);
}

static cs_progress *start_progress(const trainer *tr)
{
    cs_progress_params pp = cs_progress_default_params();
    cs_progress *pg;

    if (!tr->p->progress || tr->rank != 0)
        return NULL;
    pp.label = "train";
    pp.unit = "tok";
    pp.mode = tr->p->progress_mode;
    pg = cs_progress_alloc(tr->p->progress, (uint64_t)(tr->steps * tr->p->batch_tokens), &pp);
    if (pg)
        cs_progress_update(pg, (uint64_t)(tr->step * tr->p->batch_tokens));
    return pg;
}

/* Logs step tr->step's row (filled by train_step), stopping the run as diverged when its loss or
 * gradient norm is not finite; then evaluates and checkpoints when due. */
static int after_step(trainer *tr, cs_runlog_step *row, double t0, cs_train_result *res)
{
    const cs_train_params *p = tr->p;
    cs_sampler_counts c;
    char msg[256];
    int st;

    row->step = tr->step;
    row->tokens = tr->step * p->batch_tokens;
    row->flops = tr->fpt * (double)row->tokens;
    if (cs_sampler_count(tr->train, (uint64_t)tr->step, &c) == CS_OK) {
        row->tokens_unique = (int64_t)c.unique_tokens;
        row->epoch = c.epochs;
    }
    row->wall_s = wall_now(tr);
    row->tokens_per_s = (double)p->batch_tokens / (cs_progress_now() - t0);
    st = tr->log ? cs_runlog_append_step(tr->log, row) : CS_OK;
    if (st)
        return st;
    if (!isfinite(row->loss_train) || !isfinite(row->grad_norm)) {
        snprintf(msg, sizeof msg, "diverged at step %lld: loss %g, gradient norm %g",
                 (long long)tr->step, row->loss_train, row->grad_norm);
        res->status_code = CS_RUNLOG_DIVERGED;
        return tr->log ? cs_runlog_set_status(tr->log, CS_RUNLOG_DIVERGED, msg) : CS_OK;
    }
    if (p->eval_every > 0 && tr->step % p->eval_every == 0) {
        st = log_eval(tr, &res->loss_val);
        if (st)
            return st;
        tr->last_eval = tr->step;
    }
    /* Not at the last step: finish() checkpoints after the final evaluation, so that a
     * checkpoint at the last step always means that evaluation is in the log. */
    return p->ckpt_every > 0 && tr->step % p->ckpt_every == 0 && tr->step < tr->steps
               ? ckpt_save(tr)
               : CS_OK;
}

/* The end of a run that was not stopped by an error or a divergence: a checkpoint, and for a
 * finished run its final evaluation and status. */
static int finish(trainer *tr, int64_t first, cs_train_result *res)
{
    char msg[256];
    int st;

    if (res->interrupted) {
        snprintf(msg, sizeof msg, "interrupted at step %lld; resume with --resume",
                 (long long)tr->step);
        st = ckpt_save(tr);
        return st || !tr->log ? st : cs_runlog_set_status(tr->log, CS_RUNLOG_RUNNING, msg);
    }
    /* A resumed run that had already finished has its final evaluation in the log. */
    if (tr->last_eval != tr->step && first != tr->steps &&
        (st = log_eval(tr, &res->loss_val)) != CS_OK)
        return st;
    st = ckpt_save(tr);
    res->status_code = CS_RUNLOG_FINISHED;
    return st || !tr->log ? st : cs_runlog_set_status(tr->log, CS_RUNLOG_FINISHED, NULL);
}

/* The training loop from tr->step to the end, an interruption or a divergence. */
static int loop(trainer *tr, cs_train_result *res)
{
    const cs_train_params *p = tr->p;
    cs_progress *pg = start_progress(tr);
    int64_t first = tr->step;
    int st = CS_OK;

    res->status_code = CS_RUNLOG_RUNNING;
    tr->last_eval = -1;
    while (tr->step < tr->steps && res->status_code == CS_RUNLOG_RUNNING) {
        cs_runlog_step row = cs_runlog_step_unknown();
        double t0 = cs_progress_now();

        if (cs_dist_max_int(p->stop && *p->stop) ||
            (p->stop_after > 0 && tr->step - first >= p->stop_after) ||
            (p->stop_at > 0 && tr->step >= p->stop_at)) {
            res->interrupted = true;
            break;
        }
        st = train_step(tr, &row);
        if (st)
            break;
        tr->step++;
        st = after_step(tr, &row, t0, res);
        if (st)
            break;
        if (pg) {
            cs_progress_set_suffix(pg, "loss %.4f", row.loss_train);
            cs_progress_update(pg, (uint64_t)row.tokens);
        }
    }
    if (pg)
        cs_progress_finish(pg);
    cs_progress_free(pg);
    if (st || res->status_code == CS_RUNLOG_DIVERGED)
        return st;
    return finish(tr, first, res);
}

int cs_train_run(const cs_train_params *p, cs_train_result *res)
{
    trainer tr;
    int st;

    memset(&tr, 0, sizeof tr);
    memset(res, 0, sizeof *res);
    res->loss_val = NAN;
    tr.p = p;
    st = setup(&tr);
    if (st == CS_OK) {
        res->steps_total = tr.steps;
        st = loop(&tr, res);
        res->steps_done = tr.step;
    }
    if (st != CS_OK && tr.log) {
        char msg[CS_RUNLOG_MESSAGE_MAX];

        snprintf(msg, sizeof msg, "%s", cs_errmsg());
        cs_runlog_set_status(tr.log, CS_RUNLOG_FAILED, msg);
        cs_runlog_abort(tr.log);
        cs_fail(st, "%s", msg);
    } else if (tr.log) {
        int cst = cs_runlog_close(tr.log);

        st = cst;
    }
    teardown(&tr);
    return st;
}
