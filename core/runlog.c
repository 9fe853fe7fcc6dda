/* core/runlog.c: the run-log writer (core/runlog.h): schema tables, bin edges, creating a log
 * under "<path>.part", config attributes, SWMR start and the move into place, committed
 * appends of step and eval rows, status updates, whole-table writes for importers, and resuming
 * (reopen) by rebuilding the log from its committed rows. The format is docs/runlog.md.
 * Tests: tests/unit/test_runlog.c, tests/cli/test_runlog_kill.sh, tests/cli/test_runlog_h5py.sh.
 */
#include "core/runlog.h"

#include "core/error.h"
#include "core/runlog_h5.h"
#include "core/runlog_read.h"
#include "core/version.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// ---- schema tables -------------------------------------------------------------------------

static const cs_runlog_col step_cols[] = {
    {"step", true, "steps", "optimizer steps completed when the row was logged"},
    {"tokens", true, "tokens", "training tokens seen, repetition included (D)"},
    {"tokens_unique", true, "tokens", "distinct training tokens seen"},
    {"epoch", false, "epochs", "passes over the training set: tokens / training-set tokens"},
    {"flops", false, "FLOP", "training FLOPs so far (C), by the formula in config flops_formula"},
    {"wall_s", false, "s", "wall-clock seconds since the run started, resumed segments included"},
    {"loss_train", false, "nats/token", "mean training loss of the step's batch, all positions"},
    {"loss_train_best", false, "nats/token",
     "best-context training loss: the step's batch, positions in the last 5% of the context"},
    {"lr", false, "1", "learning rate used by the step"},
    {"grad_norm", false, "1", "global L2 norm of the gradient before clipping"},
    {"tokens_per_s", false, "tokens/s", "training throughput over the last logging interval"},
};

static const size_t step_offsets[] = {
    offsetof(cs_runlog_step, step),
    offsetof(cs_runlog_step, tokens),
    offsetof(cs_runlog_step, tokens_unique),
    offsetof(cs_runlog_step, epoch),
    offsetof(cs_runlog_step, flops),
    offsetof(cs_runlog_step, wall_s),
    offsetof(cs_runlog_step, loss_train),
    offsetof(cs_runlog_step, loss_train_best),
    offsetof(cs_runlog_step, lr),
    offsetof(cs_runlog_step, grad_norm),
    offsetof(cs_runlog_step, tokens_per_s),
};

static const cs_runlog_col eval_cols[] = {
    {"step", true, "steps", "optimizer steps completed at the eval"},
    {"tokens", true, "tokens", "training tokens seen at the eval"},
    {"flops", false, "FLOP", "training FLOPs at the eval"},
    {"loss_val", false, "nats/token", "mean validation loss over positions 1..T"},
    {"loss_val_best", false, "nats/token",
     "best-context validation loss: positions in the last 5% of the training context"},
    {"loss_val_bpb", false, "bits/byte", "loss_val in bits per byte of raw text"},
};

static const size_t eval_offsets[] = {
    offsetof(cs_runlog_eval, step),          offsetof(cs_runlog_eval, tokens),
    offsetof(cs_runlog_eval, flops),         offsetof(cs_runlog_eval, loss_val),
    offsetof(cs_runlog_eval, loss_val_best), offsetof(cs_runlog_eval, loss_val_bpb),
};

_Static_assert(sizeof step_cols / sizeof step_cols[0] == sizeof step_offsets / sizeof(size_t),
               "step_cols and step_offsets differ");
_Static_assert(sizeof eval_cols / sizeof eval_cols[0] == sizeof eval_offsets / sizeof(size_t),
               "eval_cols and eval_offsets differ");

static const cs_runlog_key config_keys[] = {
    {"n_layer", CS_RUNLOG_INT, "1", "transformer blocks"},
    {"n_head", CS_RUNLOG_INT, "1", "attention heads per block"},
    {"d_model", CS_RUNLOG_INT, "1", "residual stream width"},
    {"n_params", CS_RUNLOG_INT, "parameters", "all parameters, tied embedding counted once"},
    {"n_params_nonembed", CS_RUNLOG_INT, "parameters", "non-embedding parameters (N)"},
    {"vocab", CS_RUNLOG_INT, "tokens", "vocabulary size (V)"},
    {"context", CS_RUNLOG_INT, "tokens", "training context (T)"},
    {"batch_tokens", CS_RUNLOG_INT, "tokens", "tokens per optimizer step"},
    {"steps_total", CS_RUNLOG_INT, "steps", "planned optimizer steps"},
    {"tokens_total", CS_RUNLOG_INT, "tokens", "planned training tokens"},
    {"seed", CS_RUNLOG_INT, "1", "random seed of the run"},
    {"optimizer", CS_RUNLOG_STR, "", "optimizer, e.g. adamw"},
    {"optimizer_beta1", CS_RUNLOG_DOUBLE, "1", "first-moment decay"},
    {"optimizer_beta2", CS_RUNLOG_DOUBLE, "1", "second-moment decay"},
    {"optimizer_eps", CS_RUNLOG_DOUBLE, "1", "denominator epsilon"},
    {"weight_decay", CS_RUNLOG_DOUBLE, "1", "decoupled weight decay"},
    {"grad_clip", CS_RUNLOG_DOUBLE, "1", "gradient-norm clipping threshold (NaN: none)"},
    {"lr_max", CS_RUNLOG_DOUBLE, "1", "peak learning rate"},
    {"lr_min", CS_RUNLOG_DOUBLE, "1", "final learning rate"},
    {"lr_schedule", CS_RUNLOG_STR, "", "learning-rate schedule, e.g. cosine"},
    {"lr_warmup_steps", CS_RUNLOG_INT, "steps", "linear warm-up steps"},
    {"data_name", CS_RUNLOG_STR, "", "training data set"},
    {"data_sha256", CS_RUNLOG_STR, "", "SHA-256 (hex) of the token store"},
    {"data_tokens", CS_RUNLOG_INT, "tokens", "tokens in the training split"},
    {"data_bytes_per_token", CS_RUNLOG_DOUBLE, "bytes/token",
     "raw-text bytes per token of the validation split (bits/byte = loss / ln 2 / this)"},
    {"tokenizer_name", CS_RUNLOG_STR, "", "tokenizer, e.g. bpe-8192"},
    {"tokenizer_sha256", CS_RUNLOG_STR, "", "SHA-256 (hex) of the tokenizer file"},
    {"flops_formula", CS_RUNLOG_STR, "", "formula behind the flops columns"},
    {"flops_per_token", CS_RUNLOG_DOUBLE, "FLOP/token", "training FLOPs per token"},
    {"device", CS_RUNLOG_STR, "", "cpu or cuda"},
};

/* Column names of the one-row-per-run summary that config keys may not take (runlog_read.h). */
static const char *const reserved_keys[] = {
    "path",         "status",  "status_message", "created_utc", "tool_version",
    "git_revision", "n_steps", "n_evals",        "step_eval",
};

#define NSTEP_COLS (sizeof step_cols / sizeof step_cols[0])
#define NEVAL_COLS (sizeof eval_cols / sizeof eval_cols[0])
#define EVAL_CHUNK 64

const cs_runlog_col *cs_runlog_step_cols(size_t *n)
{
    *n = NSTEP_COLS;
    return step_cols;
}

const cs_runlog_col *cs_runlog_eval_cols(size_t *n)
{
    *n = NEVAL_COLS;
    return eval_cols;
}

const cs_runlog_key *cs_runlog_config_keys(size_t *n)
{
    *n = sizeof config_keys / sizeof config_keys[0];
    return config_keys;
}

static const char *const status_names[CS_RUNLOG_NSTATUS] = {
    "running",
    "finished",
    "diverged",
    "failed",
};

const char *cs_runlog_status_name(int code)
{
    if (code < 0 || code >= CS_RUNLOG_NSTATUS)
        return "unknown";
    return status_names[code];
}

int cs_runlog_status_parse(const char *name, int *code)
{
    int i;

    for (i = 0; i < CS_RUNLOG_NSTATUS; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *code = i;
            return CS_OK;
        }
    }
    return cs_fail(CS_EINPUT, "status: expected running, finished, diverged or failed, got \"%s\"",
                   name);
}

cs_runlog_params cs_runlog_default_params(void)
{
    cs_runlog_params p = {false, -1, NULL, 0, 512};

    return p;
}

cs_runlog_step cs_runlog_step_unknown(void)
{
    cs_runlog_step s = {-1, -1, -1, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};

    return s;
}

cs_runlog_eval cs_runlog_eval_unknown(void)
{
    cs_runlog_eval e = {-1, -1, NAN, NAN, NAN, NAN, NULL};

    return e;
}

// ---- bin edges -----------------------------------------------------------------------------

#define MAX_POSITIONS (INT64_C(1) << 40)

int cs_runlog_bin_edges(int64_t context, int64_t extrap, double bins_per_octave, size_t n_bins,
                        int64_t **edges, size_t *n_out)
{
    int64_t positions;
    int64_t *e;
    size_t n;
    size_t i;

    *edges = NULL;
    *n_out = 0;
    if (context < 1 || extrap < 1 || context > MAX_POSITIONS / extrap)
        return cs_fail(CS_EINVAL,
                       "bin edges: need context >= 1 and extrap >= 1 with context * "
                       "extrap <= 2^40, got %lld and %lld",
                       (long long)context, (long long)extrap);
    if ((n_bins > 0) == (bins_per_octave > 0) || !(bins_per_octave >= 0))
        return cs_fail(CS_EINVAL, "bin edges: give exactly one of n_bins or bins_per_octave");
    positions = context * extrap;
    if (bins_per_octave > 0)
        n_bins = (size_t)ceil(fmin(bins_per_octave * log2((double)positions + 1.0), 1e12));
    n = n_bins < (size_t)positions ? n_bins : (size_t)positions;
    if (n == 0)
        n = 1;
    e = malloc((n + 1) * sizeof *e);
    if (!e)
        return cs_fail(CS_ENOMEM, "bin edges: out of memory for %zu bins", n);
    e[0] = 1;
    e[n] = positions + 1;
    for (i = 1; i < n; i++) {
        double ideal = pow((double)positions + 1.0, (double)i / (double)n);
        int64_t v = (int64_t)llround(ideal);

        e[i] = v > e[i - 1] ? v : e[i - 1] + 1;
    }
    /* Pushing apart from the left can crowd the right end; push back from it (n <= positions
     * guarantees room: e[i] <= positions + 1 - (n - i)). */
    for (i = n - 1; i > 0 && e[i] >= e[i + 1]; i--)
        e[i] = e[i + 1] - 1;
    *edges = e;
    *n_out = n;
    return CS_OK;
}

static int check_edges(const int64_t *edges, size_t n_bins)
{
    size_t i;

    if (n_bins == 0)
        return CS_OK;
    if (!edges || edges[0] != 1)
        return cs_fail(CS_EINVAL, "run log: bin_edges must start at position 1");
    for (i = 0; i < n_bins; i++)
        if (edges[i + 1] <= edges[i])
            return cs_fail(CS_EINVAL, "run log: bin_edges must increase strictly (edge %zu)",
                           i + 1);
    return CS_OK;
}

// ---- the writer handle ---------------------------------------------------------------------

typedef struct rl_col {
    hid_t ds;   /* dataset */
    char *name; /* owned */
    bool is_int;
} rl_col;

/* The 1-D columns of one group (`steps` or `eval`) and its n_rows counter. */
typedef struct colset {
    const char *gname; /* "steps" or "eval" */
    hid_t counter;     /* <gname>/n_rows */
    rl_col *col;       /* (cap) the first n in use, schema columns first */
    const void **src;  /* (cap) scratch: per-column source of one block write */
    size_t n;
    size_t cap;
    hsize_t nrows; /* committed rows */
    hsize_t chunk; /* rows per chunk */
} colset;

struct cs_runlog {
    char *path; /* final path */
    char *tmp;  /* "<path>.part" while the file is there, NULL once moved */
    bool force; /* may replace an existing file at path */
    bool swmr;  /* in SWMR mode: no new objects; flush every append */
    hid_t file;
    colset steps;
    colset evals;
    hid_t ctxwise; /* eval/contextwise (n_evals, n_bins), or -1 */
    size_t n_bins;
    hid_t status_code; /* status/code, scalar int32 */
    hid_t status_msg;  /* status/message, scalar fixed string */
    int64_t last_step; /* step of the last steps row, -1 before the first */
    int64_t last_eval; /* step of the last eval row, -1 before the first */
};

/* Where the file is now (for messages). */
static const char *cur_path(const cs_runlog *rl)
{
    return rl->tmp ? rl->tmp : rl->path;
}

static void colset_close(colset *cs)
{
    size_t i;

    for (i = 0; i < cs->n; i++) {
        if (cs->col[i].ds >= 0)
            H5Dclose(cs->col[i].ds);
        free(cs->col[i].name);
    }
    if (cs->counter >= 0)
        H5Dclose(cs->counter);
    free(cs->col);
    free(cs->src);
    memset(cs, 0, sizeof *cs);
    cs->counter = -1;
}

/* Closes every HDF5 object and the file; CS_EIO if HDF5 reports a failure. */
static int close_all(cs_runlog *rl)
{
    int bad = 0;

    colset_close(&rl->steps);
    colset_close(&rl->evals);
    if (rl->ctxwise >= 0)
        bad |= H5Dclose(rl->ctxwise) < 0;
    if (rl->status_code >= 0)
        bad |= H5Dclose(rl->status_code) < 0;
    if (rl->status_msg >= 0)
        bad |= H5Dclose(rl->status_msg) < 0;
    rl->ctxwise = rl->status_code = rl->status_msg = -1;
    if (rl->file >= 0)
        bad |= H5Fclose(rl->file) < 0;
    rl->file = -1;
    if (bad)
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot close the run log");
    return CS_OK;
}

static void runlog_free(cs_runlog *rl)
{
    if (!rl)
        return;
    free(rl->path);
    free(rl->tmp);
    free(rl);
}

static cs_runlog *runlog_alloc(const char *path, bool force)
{
    cs_runlog *rl = calloc(1, sizeof *rl);
    size_t n = strlen(path);

    if (!rl)
        return NULL;
    rl->path = strdup(path);
    rl->tmp = malloc(n + sizeof ".part");
    if (!rl->path || !rl->tmp) {
        runlog_free(rl);
        return NULL;
    }
    memcpy(rl->tmp, path, n);
    memcpy(rl->tmp + n, ".part", sizeof ".part");
    rl->force = force;
    rl->file = rl->ctxwise = rl->status_code = rl->status_msg = -1;
    rl->steps.counter = rl->evals.counter = -1;
    rl->steps.gname = "steps";
    rl->evals.gname = "eval";
    rl->last_step = rl->last_eval = -1;
    return rl;
}

// ---- creating objects ----------------------------------------------------------------------

/* An empty, chunked, extendible 1-D column with its fill value (-1 / NaN), units and
 * description. Negative on failure (HDF5 error stack set). */
static hid_t make_column(hid_t group, const char *name, bool is_int, hsize_t chunk,
                         const char *units, const char *desc)
{
    const int64_t ifill = -1;
    const double dfill = NAN;
    hsize_t zero = 0;
    hsize_t unlimited = H5S_UNLIMITED;
    hid_t space = H5Screate_simple(1, &zero, &unlimited);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;

    if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0)
        goto out;
    if (is_int ? H5Pset_fill_value(dcpl, H5T_NATIVE_INT64, &ifill) < 0
               : H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &dfill) < 0)
        goto out;
    ds = H5Dcreate2(group, name, is_int ? H5T_STD_I64LE : H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl,
                    H5P_DEFAULT);
    if (ds >= 0 && (rlh5_attr_write_str(ds, "units", units) < 0 ||
                    rlh5_attr_write_str(ds, "description", desc) < 0)) {
        H5Dclose(ds);
        ds = -1;
    }
out:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return ds;
}

/* A scalar dataset of file type ftype holding *value (memory type mtype), contiguous. */
static hid_t make_scalar(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t ds = -1;

    if (space < 0)
        return -1;
    ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, value) < 0) {
        H5Dclose(ds);
        ds = -1;
    }
    H5Sclose(space);
    return ds;
}

/* Makes room for column number cs->n (growing col[] and src[]). CS_ENOMEM. */
static int colset_reserve(colset *cs)
{
    size_t cap = cs->cap ? 2 * cs->cap : 16;
    rl_col *col;
    const void **src;

    if (cs->n < cs->cap)
        return CS_OK;
    col = realloc(cs->col, cap * sizeof *col);
    if (!col)
        return cs_fail(CS_ENOMEM, "run log: out of memory");
    cs->col = col;
    src = realloc(cs->src, cap * sizeof *src);
    if (!src)
        return cs_fail(CS_ENOMEM, "run log: out of memory");
    cs->src = src;
    cs->cap = cap;
    return CS_OK;
}

/* Creates column `name` in group `g` of the colset and registers it. */
static int colset_add(cs_runlog *rl, colset *cs, hid_t g, const cs_runlog_col *c)
{
    int st = colset_reserve(cs);
    rl_col *col;

    if (st)
        return st;
    col = &cs->col[cs->n];
    col->name = strdup(c->name);
    if (!col->name)
        return cs_fail(CS_ENOMEM, "run log: out of memory");
    col->is_int = c->is_int;
    col->ds = make_column(g, c->name, c->is_int, cs->chunk, c->units, c->description);
    if (col->ds < 0) {
        free(col->name);
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot create dataset %s/%s", cs->gname, c->name);
    }
    cs->n++;
    return CS_OK;
}

/* A group whose links are tracked in creation order (so readers list columns in schema order)
 * and, for `config`, whose attributes are too. */
static hid_t make_group(hid_t file, const char *name, bool attr_order)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    hid_t g = -1;
    unsigned flags = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;

    if (gcpl < 0)
        return -1;
    if (H5Pset_link_creation_order(gcpl, flags) >= 0 &&
        (!attr_order || H5Pset_attr_creation_order(gcpl, flags) >= 0))
        g = H5Gcreate2(file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

/* Creates group `gname` with the schema columns `cols` and the n_rows counter. */
static int make_colset(cs_runlog *rl, colset *cs, const cs_runlog_col *cols, size_t ncols)
{
    const int64_t zero = 0;
    hid_t g = make_group(rl->file, cs->gname, false);
    int st = CS_OK;
    size_t i;

    if (g < 0)
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot create group %s", cs->gname);
    for (i = 0; i < ncols && st == CS_OK; i++)
        st = colset_add(rl, cs, g, &cols[i]);
    if (st == CS_OK) {
        cs->counter = make_scalar(g, "n_rows", H5T_STD_I64LE, H5T_NATIVE_INT64, &zero);
        if (cs->counter < 0 ||
            rlh5_attr_write_str(cs->counter, "description", "committed rows of this group") < 0)
            st = rlh5_fail(CS_EIO, cur_path(rl), "cannot create %s/n_rows", cs->gname);
    }
    H5Gclose(g);
    return st;
}

/* eval/bin_edges (n_bins + 1, int64) and eval/contextwise (0 x n_bins, f64, extendible). */
static hid_t make_contextwise(hid_t g, const int64_t *edges, size_t n_bins)
{
    hsize_t ne = n_bins + 1;
    hsize_t dims[2] = {0, n_bins};
    hsize_t maxd[2] = {H5S_UNLIMITED, n_bins};
    hsize_t chunk[2] = {EVAL_CHUNK, n_bins};
    const double fill = NAN;
    hid_t space = H5Screate_simple(1, &ne, NULL);
    hid_t ds = -1;
    hid_t dcpl = -1;

    if (space < 0)
        return -1;
    ds = H5Dcreate2(g, "bin_edges", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(space);
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, edges) < 0 ||
        rlh5_attr_write_str(ds, "units", "tokens (1-based context position)") < 0 ||
        rlh5_attr_write_str(ds, "description", "bin b covers positions [edge b, edge b+1)") < 0)
        goto fail;
    H5Dclose(ds);
    if (n_bins * EVAL_CHUNK > 65536)
        chunk[0] = 65536 / n_bins > 0 ? 65536 / n_bins : 1;
    space = H5Screate_simple(2, dims, maxd);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ds = -1;
    if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, 2, chunk) < 0 ||
        H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &fill) < 0)
        goto fail;
    ds = H5Dcreate2(g, "contextwise", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0 || rlh5_attr_write_str(ds, "units", "nats/token") < 0 ||
        rlh5_attr_write_str(ds, "description", "mean validation loss per context bin") < 0)
        goto fail;
    H5Pclose(dcpl);
    H5Sclose(space);
    return ds;
fail:
    if (ds >= 0)
        H5Dclose(ds);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return -1;
}

static int make_eval(cs_runlog *rl, const cs_runlog_params *p)
{
    hid_t g;
    int st = make_colset(rl, &rl->evals, eval_cols, NEVAL_COLS);

    if (st)
        return st;
    g = H5Gopen2(rl->file, "eval", H5P_DEFAULT);
    if (g < 0 || rlh5_attr_write_int(g, "context", p->context) < 0) {
        st = rlh5_fail(CS_EIO, cur_path(rl), "cannot write eval/context");
    } else if (p->n_bins > 0) {
        rl->ctxwise = make_contextwise(g, p->bin_edges, p->n_bins);
        if (rl->ctxwise < 0)
            st = rlh5_fail(CS_EIO, cur_path(rl), "cannot create eval/contextwise");
    }
    rl->n_bins = p->n_bins;
    if (g >= 0)
        H5Gclose(g);
    return st;
}

static hid_t message_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);

    if (t < 0)
        return t;
    if (H5Tset_size(t, CS_RUNLOG_MESSAGE_MAX) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static int make_status(cs_runlog *rl)
{
    static const char empty[CS_RUNLOG_MESSAGE_MAX];
    const int32_t running = CS_RUNLOG_RUNNING;
    hid_t g = H5Gcreate2(rl->file, "status", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t mt = message_type();
    int st = CS_OK;

    if (g >= 0 && mt >= 0) {
        rl->status_code = make_scalar(g, "code", H5T_STD_I32LE, H5T_NATIVE_INT32, &running);
        rl->status_msg = make_scalar(g, "message", mt, mt, empty);
    }
    if (g < 0 || mt < 0 || rl->status_code < 0 || rl->status_msg < 0 ||
        rlh5_attr_write_str(rl->status_code, "meaning",
                            "0 running, 1 finished, 2 diverged, 3 failed") < 0)
        st = rlh5_fail(CS_EIO, cur_path(rl), "cannot create status/code and status/message");
    if (mt >= 0)
        H5Tclose(mt);
    if (g >= 0)
        H5Gclose(g);
    return st;
}

static void utc_now(char buf[32])
{
    time_t now = time(NULL);
    struct tm tm;

    if (gmtime_r(&now, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, 32, "unknown");
}

static int write_root_attrs(cs_runlog *rl)
{
    char now[32];
    hid_t g;

    utc_now(now);
    if (rlh5_attr_write_str(rl->file, "schema", CS_RUNLOG_SCHEMA) < 0 ||
        rlh5_attr_write_int(rl->file, "schema_version", CS_RUNLOG_SCHEMA_VERSION) < 0 ||
        rlh5_attr_write_str(rl->file, "tool_version", cs_version_string()) < 0 ||
        rlh5_attr_write_str(rl->file, "git_revision", cs_version_git_revision()) < 0 ||
        rlh5_attr_write_str(rl->file, "created_utc", now) < 0)
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot write the root attributes");
    g = make_group(rl->file, "config", true);
    if (g < 0)
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot create group config");
    H5Gclose(g);
    return CS_OK;
}

/* The HDF5 file under rl->tmp, in the 1.10 format (SWMR needs it; pinning V110 rather than
 * "latest" keeps files readable by every HDF5 >= 1.10 whatever version ctxscale is built with). */
static int create_file(cs_runlog *rl)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);

    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return rlh5_fail(CS_EIO, rl->tmp, "cannot set up HDF5 file access");
    }
    rl->file = H5Fcreate(rl->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (rl->file < 0)
        return rlh5_fail(CS_EIO, rl->tmp, "cannot create the run log");
    return CS_OK;
}

static int create_impl(const char *path, const cs_runlog_params *p, cs_runlog **out)
{
    struct stat sb;
    cs_runlog *rl;
    int st;

    if (!p || !path || !*path)
        return cs_fail(CS_EINVAL, "run log: create needs a path and params");
    st = check_edges(p->bin_edges, p->n_bins);
    if (st)
        return st;
    if (!p->force && stat(path, &sb) == 0)
        return cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", path);
    rl = runlog_alloc(path, p->force);
    if (!rl)
        return cs_fail(CS_ENOMEM, "%s: out of memory", path);
    rl->steps.chunk = p->chunk_rows > 0 ? p->chunk_rows : 512;
    rl->evals.chunk = EVAL_CHUNK;
    st = create_file(rl);
    if (!st)
        st = write_root_attrs(rl);
    if (!st)
        st = make_colset(rl, &rl->steps, step_cols, NSTEP_COLS);
    if (!st)
        st = make_eval(rl, p);
    if (!st)
        st = make_status(rl);
    if (st) {
        cs_runlog_abort(rl);
        return st;
    }
    *out = rl;
    return CS_OK;
}

int cs_runlog_create(const char *path, const cs_runlog_params *p, cs_runlog **out)
{
    rlh5_quiet q;
    int st;

    *out = NULL;
    rlh5_quiet_begin(&q);
    st = create_impl(path, p, out);
    rlh5_quiet_end(&q);
    return st;
}

// ---- config --------------------------------------------------------------------------------

/* True for the names of summary columns (cs_runlog_read_summary): the reserved list and every
 * schema column of steps and eval. */
static bool is_reserved(const char *key)
{
    size_t i;

    for (i = 0; i < sizeof reserved_keys / sizeof reserved_keys[0]; i++)
        if (strcmp(key, reserved_keys[i]) == 0)
            return true;
    for (i = 0; i < NSTEP_COLS; i++)
        if (strcmp(key, step_cols[i].name) == 0)
            return true;
    for (i = 0; i < NEVAL_COLS; i++)
        if (strcmp(key, eval_cols[i].name) == 0)
            return true;
    return false;
}

static int check_key(const cs_runlog *rl, const char *key, cs_runlog_type type)
{
    static const char *const tnames[] = {"a string", "an int64", "a double"};
    size_t n = key ? strlen(key) : 0;
    size_t i;

    if (rl->swmr)
        return cs_fail(CS_EINVAL, "%s: config \"%s\": config is fixed once SWMR writing started",
                       rl->path, key ? key : "");
    if (n == 0 || n > 255)
        return cs_fail(CS_EINPUT, "%s: config key must be 1 to 255 bytes", rl->path);
    for (i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f || key[i] == '/')
            return cs_fail(CS_EINPUT,
                           "%s: config key \"%s\": '/' and control characters are "
                           "not allowed",
                           rl->path, key);
    if (is_reserved(key))
        return cs_fail(CS_EINPUT,
                       "%s: config key \"%s\" is reserved (a column of run "
                       "summaries)",
                       rl->path, key);
    for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++)
        if (strcmp(key, config_keys[i].name) == 0 && config_keys[i].type != type)
            return cs_fail(CS_EINPUT, "%s: config key \"%s\" must be %s", rl->path, key,
                           tnames[config_keys[i].type]);
    return CS_OK;
}

/* Writes config attribute `key` without the key checks (reopen copies foreign keys as they
 * are). */
static int set_config(cs_runlog *rl, const char *key, cs_runlog_type type, const void *value)
{
    hid_t g = H5Gopen2(rl->file, "config", H5P_DEFAULT);
    herr_t rc = -1;

    if (g >= 0) {
        if (type == CS_RUNLOG_STR)
            rc = rlh5_attr_write_str(g, key, *(const char *const *)value);
        else if (type == CS_RUNLOG_INT)
            rc = rlh5_attr_write_int(g, key, *(const int64_t *)value);
        else
            rc = rlh5_attr_write_double(g, key, *(const double *)value);
        H5Gclose(g);
    }
    if (rc < 0)
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot write config attribute \"%s\"", key);
    return CS_OK;
}

static int set_checked(cs_runlog *rl, const char *key, cs_runlog_type type, const void *value)
{
    rlh5_quiet q;
    int st = check_key(rl, key, type);

    if (st)
        return st;
    rlh5_quiet_begin(&q);
    st = set_config(rl, key, type, value);
    rlh5_quiet_end(&q);
    return st;
}

int cs_runlog_set_str(cs_runlog *rl, const char *key, const char *value)
{
    if (!value)
        return cs_fail(CS_EINVAL, "%s: config \"%s\": NULL string", rl->path, key ? key : "");
    return set_checked(rl, key, CS_RUNLOG_STR, &value);
}

int cs_runlog_set_int(cs_runlog *rl, const char *key, int64_t value)
{
    return set_checked(rl, key, CS_RUNLOG_INT, &value);
}

int cs_runlog_set_double(cs_runlog *rl, const char *key, double value)
{
    return set_checked(rl, key, CS_RUNLOG_DOUBLE, &value);
}

// ---- SWMR start and moving into place ------------------------------------------------------

/* fsync(2) of a file by name, so that the rename below never publishes a name whose data a
 * power loss could still take away. */
static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    int rc;

    if (fd < 0)
        return cs_fail(CS_EIO, "%s: cannot open to sync: %s", path, strerror(errno));
    rc = fsync(fd);
    close(fd);
    if (rc != 0 && errno != EINVAL)
        return cs_fail(CS_EIO, "%s: fsync: %s", path, strerror(errno));
    return CS_OK;
}

/* Moves rl->tmp to rl->path: rename when force, else link + unlink so that a file which
 * appeared at path meanwhile is never replaced (with a checked rename where the file system has
 * no hard links). */
static int move_into_place(cs_runlog *rl)
{
    struct stat sb;
    int st = sync_path(rl->tmp);

    if (st)
        return st;
    if (!rl->force) {
        if (link(rl->tmp, rl->path) == 0) {
            unlink(rl->tmp);
            goto moved;
        }
        if (errno == EEXIST || stat(rl->path, &sb) == 0)
            return cs_fail(CS_EINPUT,
                           "%s: exists; use --force to overwrite (the new log is "
                           "kept as %s)",
                           rl->path, rl->tmp);
    }
    if (rename(rl->tmp, rl->path) != 0)
        return cs_fail(CS_EIO, "%s: cannot rename to %s: %s", rl->tmp, rl->path, strerror(errno));
moved:
    free(rl->tmp);
    rl->tmp = NULL;
    return CS_OK;
}

int cs_runlog_start_swmr(cs_runlog *rl)
{
    rlh5_quiet q;
    herr_t rc;

    if (rl->swmr)
        return cs_fail(CS_EINVAL, "%s: SWMR writing already started", rl->path);
    rlh5_quiet_begin(&q);
    rc = H5Fstart_swmr_write(rl->file);
    if (rc < 0)
        rlh5_fail(CS_EIO, cur_path(rl), "cannot start SWMR writing");
    rlh5_quiet_end(&q);
    if (rc < 0)
        return CS_EIO;
    rl->swmr = true;
    return move_into_place(rl);
}

// ---- appending rows ------------------------------------------------------------------------

/* Extends 1-D dataset ds to n0 + m rows and writes rows n0.. from buf (memory type mtype);
 * buf NULL leaves the fill value. */
static herr_t extend_write(hid_t ds, hsize_t n0, hsize_t m, hid_t mtype, const void *buf)
{
    hsize_t n1 = n0 + m;
    hid_t fs;
    hid_t ms;
    herr_t rc = -1;

    if (H5Dset_extent(ds, &n1) < 0)
        return -1;
    if (!buf || m == 0)
        return 0;
    fs = H5Dget_space(ds);
    ms = H5Screate_simple(1, &m, NULL);
    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &n0, NULL, &m, NULL) >= 0)
        rc = H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

/* As extend_write for the (rows, n_bins) contextwise dataset. */
static herr_t extend_write_2d(hid_t ds, hsize_t n0, hsize_t m, hsize_t n_bins, const double *buf)
{
    hsize_t dims[2] = {n0 + m, n_bins};
    hsize_t start[2] = {n0, 0};
    hsize_t count[2] = {m, n_bins};
    hid_t fs;
    hid_t ms;
    herr_t rc = -1;

    if (H5Dset_extent(ds, dims) < 0)
        return -1;
    if (!buf || m == 0)
        return 0;
    fs = H5Dget_space(ds);
    ms = H5Screate_simple(2, count, NULL);
    if (fs >= 0 && ms >= 0 &&
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0)
        rc = H5Dwrite(ds, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

/* Writes and flushes the n_rows counter last: this is the commit point of the rows. */
static int commit_rows(cs_runlog *rl, colset *cs, hsize_t n1)
{
    size_t i;
    int64_t v = (int64_t)n1;

    if (rl->swmr) {
        for (i = 0; i < cs->n; i++)
            if (H5Dflush(cs->col[i].ds) < 0)
                return rlh5_fail(CS_EIO, cur_path(rl), "cannot flush %s/%s", cs->gname,
                                 cs->col[i].name);
        if (cs == &rl->evals && rl->ctxwise >= 0 && H5Dflush(rl->ctxwise) < 0)
            return rlh5_fail(CS_EIO, cur_path(rl), "cannot flush eval/contextwise");
    }
    if (H5Dwrite(cs->counter, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0 ||
        (rl->swmr && H5Dflush(cs->counter) < 0))
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot commit %s/n_rows", cs->gname);
    cs->nrows = n1;
    return CS_OK;
}

/* Appends m rows to the colset: column i from cs->src[i] (m int64 or double values, NULL: fill
 * value), contextwise from ctx (m x n_bins, NULL: NaN) for the eval group; then commits. */
static int write_block(cs_runlog *rl, colset *cs, hsize_t m, const double *ctx)
{
    hsize_t n0 = cs->nrows;
    size_t i;

    for (i = 0; i < cs->n; i++) {
        hid_t mt = cs->col[i].is_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;

        if (extend_write(cs->col[i].ds, n0, m, mt, cs->src[i]) < 0)
            return rlh5_fail(CS_EIO, cur_path(rl), "cannot append to %s/%s", cs->gname,
                             cs->col[i].name);
    }
    if (cs == &rl->evals && rl->ctxwise >= 0 &&
        extend_write_2d(rl->ctxwise, n0, m, rl->n_bins, ctx) < 0)
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot append to eval/contextwise");
    return commit_rows(rl, cs, n0 + m);
}

/* Points src[] at the fields of one struct row (schema columns) and NULL for extra columns. */
static void point_fields(colset *cs, const void *row, const size_t *offsets, size_t nschema)
{
    size_t i;

    for (i = 0; i < cs->n; i++)
        cs->src[i] = i < nschema ? (const char *)row + offsets[i] : NULL;
}

int cs_runlog_append_step(cs_runlog *rl, const cs_runlog_step *s)
{
    rlh5_quiet q;
    int st;

    if (s->step < 0 || s->step <= rl->last_step)
        return cs_fail(CS_EINVAL,
                       "%s: step %lld must be >= 0 and greater than the last logged "
                       "step %lld",
                       rl->path, (long long)s->step, (long long)rl->last_step);
    point_fields(&rl->steps, s, step_offsets, NSTEP_COLS);
    rlh5_quiet_begin(&q);
    st = write_block(rl, &rl->steps, 1, NULL);
    rlh5_quiet_end(&q);
    if (st == CS_OK)
        rl->last_step = s->step;
    return st;
}

int cs_runlog_append_eval(cs_runlog *rl, const cs_runlog_eval *e)
{
    rlh5_quiet q;
    int st;

    if (e->step < 0 || e->step < rl->last_eval)
        return cs_fail(CS_EINVAL,
                       "%s: eval step %lld must be >= 0 and not less than the last "
                       "eval step %lld",
                       rl->path, (long long)e->step, (long long)rl->last_eval);
    point_fields(&rl->evals, e, eval_offsets, NEVAL_COLS);
    rlh5_quiet_begin(&q);
    st = write_block(rl, &rl->evals, 1, e->contextwise);
    rlh5_quiet_end(&q);
    if (st == CS_OK)
        rl->last_eval = e->step;
    return st;
}

/* Copies msg into buf (CS_RUNLOG_MESSAGE_MAX bytes, zero-padded), cutting at a UTF-8
 * character boundary. */
static void fit_message(char *buf, const char *msg)
{
    size_t n = msg ? strlen(msg) : 0;

    memset(buf, 0, CS_RUNLOG_MESSAGE_MAX);
    if (n > CS_RUNLOG_MESSAGE_MAX - 1) {
        n = CS_RUNLOG_MESSAGE_MAX - 1;
        while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
            n--; /* msg[n] continues a character: cut before that character starts */
    }
    if (n > 0)
        memcpy(buf, msg, n);
}

int cs_runlog_set_status(cs_runlog *rl, int code, const char *message)
{
    char buf[CS_RUNLOG_MESSAGE_MAX];
    int32_t c = code;
    rlh5_quiet q;
    hid_t mt;
    int st = CS_OK;

    if (code < 0 || code >= CS_RUNLOG_NSTATUS)
        return cs_fail(CS_EINVAL, "%s: unknown status code %d", rl->path, code);
    fit_message(buf, message);
    rlh5_quiet_begin(&q);
    mt = message_type();
    if (mt < 0 || H5Dwrite(rl->status_msg, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ||
        H5Dwrite(rl->status_code, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, &c) < 0 ||
        (rl->swmr && (H5Dflush(rl->status_msg) < 0 || H5Dflush(rl->status_code) < 0)))
        st = rlh5_fail(CS_EIO, cur_path(rl), "cannot write the status");
    if (mt >= 0)
        H5Tclose(mt);
    rlh5_quiet_end(&q);
    return st;
}

size_t cs_runlog_n_steps(const cs_runlog *rl)
{
    return (size_t)rl->steps.nrows;
}

size_t cs_runlog_n_evals(const cs_runlog *rl)
{
    return (size_t)rl->evals.nrows;
}

const char *cs_runlog_path(const cs_runlog *rl)
{
    return rl->path;
}

// ---- closing -------------------------------------------------------------------------------

int cs_runlog_close(cs_runlog *rl)
{
    rlh5_quiet q;
    int st;

    if (!rl)
        return CS_OK;
    rlh5_quiet_begin(&q);
    st = close_all(rl);
    rlh5_quiet_end(&q);
    if (st == CS_OK && rl->tmp)
        st = move_into_place(rl);
    else if (rl->tmp)
        unlink(rl->tmp); /* never published and now broken */
    runlog_free(rl);
    return st;
}

void cs_runlog_abort(cs_runlog *rl)
{
    rlh5_quiet q;

    if (!rl)
        return;
    rlh5_quiet_begin(&q);
    close_all(rl);
    rlh5_quiet_end(&q);
    if (rl->tmp)
        unlink(rl->tmp);
    runlog_free(rl);
}

// ---- whole tables (importers, reopen) ------------------------------------------------------

/* "source:line" or "source: row K" for row `r` of t, into buf. */
static const char *where(const cs_table *t, size_t r, char *buf, size_t n)
{
    size_t line = cs_table_row_line(t, r);

    if (line > 0)
        snprintf(buf, n, "%s:%zu", cs_table_source(t), line);
    else
        snprintf(buf, n, "%s: row %zu", cs_table_source(t), r + 1);
    return buf;
}

/* Checks the first m steps of column c: present, >= 0, whole, increasing (strictly when
 * `strict`) and after `last`. */
static int check_steps(const cs_table *t, size_t c, size_t m, int64_t last, bool strict)
{
    char w[512];
    size_t r;

    for (r = 0; r < m; r++) {
        double v = cs_table_num(t, r, c);

        if (!(v >= 0) || v != floor(v) || v > 9007199254740992.0)
            return cs_fail(CS_EINPUT,
                           "%s: column \"step\": expected a whole number >= 0, got "
                           "%.17g",
                           where(t, r, w, sizeof w), v);
        if (strict ? v <= (double)last : v < (double)last)
            return cs_fail(CS_EINPUT,
                           "%s: column \"step\": steps must %s, got %.17g after "
                           "%lld",
                           where(t, r, w, sizeof w), strict ? "increase" : "not decrease", v,
                           (long long)last);
        last = (int64_t)v;
    }
    return CS_OK;
}

/* The first m values of numeric column c of t as int64 (NaN -> -1) into *out (allocated). */
static int to_int_column(const cs_table *t, size_t c, size_t m, int64_t **out)
{
    const double *v = cs_table_num_col(t, c);
    int64_t *iv = malloc((m ? m : 1) * sizeof *iv);
    char w[512];
    size_t r;

    *out = iv;
    if (!iv)
        return cs_fail(CS_ENOMEM, "%s: out of memory", cs_table_source(t));
    for (r = 0; r < m; r++) {
        if (isnan(v[r])) {
            iv[r] = -1;
        } else if (v[r] != floor(v[r]) || fabs(v[r]) > 9007199254740992.0) {
            return cs_fail(CS_EINPUT, "%s: column \"%s\": expected a whole number, got %.17g",
                           where(t, r, w, sizeof w), cs_table_col_name(t, c), v[r]);
        } else {
            iv[r] = (int64_t)v[r];
        }
    }
    return CS_OK;
}

static long colset_find(const colset *cs, const char *name)
{
    size_t i;

    for (i = 0; i < cs->n; i++)
        if (strcmp(cs->col[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Adds an extra f64 column for table column `name` (not a schema column). */
static int add_extra(cs_runlog *rl, colset *cs, const cs_table *t, const char *name)
{
    cs_runlog_col c = {name, false, "", "extra column"};
    hid_t g;
    int st;

    if (rl->swmr)
        return cs_fail(CS_EINVAL,
                       "%s: column \"%s\" is not in the schema and SWMR writing has "
                       "started (no new datasets)",
                       cs_table_source(t), name);
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "n_rows") == 0 ||
        strcmp(name, "contextwise") == 0 || strcmp(name, "bin_edges") == 0)
        return cs_fail(CS_EINPUT, "%s: column \"%s\": cannot be stored as %s/%s",
                       cs_table_source(t), name, cs->gname, name);
    g = H5Gopen2(rl->file, cs->gname, H5P_DEFAULT);
    if (g < 0)
        return rlh5_fail(CS_EIO, cur_path(rl), "cannot open group %s", cs->gname);
    st = colset_add(rl, cs, g, &c);
    H5Gclose(g);
    if (st == CS_OK && cs->nrows > 0 &&
        extend_write(cs->col[cs->n - 1].ds, 0, cs->nrows, H5T_NATIVE_DOUBLE, NULL) < 0)
        st = rlh5_fail(CS_EIO, cur_path(rl), "cannot extend %s/%s", cs->gname, name);
    return st;
}

/* Sets cs->src[] from the numeric columns of t (first m rows), converting int columns into
 * arrays kept in ints[] (one per column, NULL when unused; freed by the caller). */
static int map_table(cs_runlog *rl, colset *cs, const cs_table *t, size_t m, int64_t **ints)
{
    size_t c;
    int st = CS_OK;

    for (c = 0; c < cs_table_ncols(t) && st == CS_OK; c++) {
        const char *name = cs_table_col_name(t, c);
        long k = colset_find(cs, name);

        if (cs_table_col_type(t, c) != CS_COL_NUM && k >= 0)
            return cs_fail(CS_EINPUT, "%s: column \"%s\": expected numbers, got a text column",
                           cs_table_source(t), name);
        if (cs_table_col_type(t, c) != CS_COL_NUM)
            continue;
        if (k < 0) {
            st = add_extra(rl, cs, t, name);
            k = (long)cs->n - 1;
        }
        if (st == CS_OK && cs->col[k].is_int)
            st = to_int_column(t, c, m, &ints[k]);
        if (st == CS_OK)
            cs->src[k] = cs->col[k].is_int ? (const void *)ints[k] : cs_table_num_col(t, c);
    }
    return st;
}

/* Appends the first m rows of t to the colset (steps strictly increasing for `steps`,
 * non-decreasing for `eval`), ctx as in write_block. */
static int write_table(cs_runlog *rl, colset *cs, const cs_table *t, size_t m, const double *ctx)
{
    bool is_steps = cs == &rl->steps;
    int64_t *last = is_steps ? &rl->last_step : &rl->last_eval;
    int64_t **ints = NULL;
    size_t c;
    int st;

    st = cs_table_require_num(t, "step", 0, &c);
    if (st == CS_OK)
        st = check_steps(t, c, m, *last, is_steps);
    if (st || m == 0)
        return st;
    ints = calloc(cs->n + cs_table_ncols(t), sizeof *ints);
    if (!ints)
        return cs_fail(CS_ENOMEM, "%s: out of memory", cs_table_source(t));
    memset(cs->src, 0, cs->cap * sizeof *cs->src);
    st = map_table(rl, cs, t, m, ints);
    if (st == CS_OK)
        st = write_block(rl, cs, m, ctx);
    if (st == CS_OK)
        *last = (int64_t)cs_table_num(t, m - 1, c);
    for (c = 0; c < cs->n; c++)
        free(ints[c]);
    free(ints);
    return st;
}

int cs_runlog_write_steps(cs_runlog *rl, const cs_table *t)
{
    rlh5_quiet q;
    int st;

    rlh5_quiet_begin(&q);
    st = write_table(rl, &rl->steps, t, cs_table_nrows(t), NULL);
    rlh5_quiet_end(&q);
    return st;
}

int cs_runlog_write_evals(cs_runlog *rl, const cs_table *t)
{
    rlh5_quiet q;
    int st;

    rlh5_quiet_begin(&q);
    st = write_table(rl, &rl->evals, t, cs_table_nrows(t), NULL);
    rlh5_quiet_end(&q);
    return st;
}

// ---- reopen (resume) -----------------------------------------------------------------------

/* What reopen carries over from the old log. */
typedef struct old_log {
    cs_runlog_reader *r;
    cs_table *steps;
    cs_table *evals;
    cs_runlog_ctxwise *cw;
} old_log;

static void old_log_free(old_log *o)
{
    cs_table_free(o->steps);
    cs_table_free(o->evals);
    cs_runlog_read_ctxwise_free(o->cw);
    cs_runlog_read_close(o->r);
}

/* Rows of t (sorted by step) with step <= resume. */
static size_t rows_upto(const cs_table *t, int64_t resume)
{
    long c = cs_table_find(t, "step");
    size_t n = 0;

    while (c >= 0 && n < cs_table_nrows(t) && cs_table_num(t, n, (size_t)c) <= (double)resume)
        n++;
    return n;
}

static int copy_config(cs_runlog *rl, const cs_runlog_reader *r)
{
    size_t i;
    int st = CS_OK;

    for (i = 0; i < cs_runlog_read_n_config(r) && st == CS_OK; i++) {
        const cs_runlog_kv *kv = cs_runlog_read_config(r, i);

        if (kv->type == CS_RUNLOG_STR)
            st = set_config(rl, kv->key, kv->type, &kv->s);
        else if (kv->type == CS_RUNLOG_INT)
            st = set_config(rl, kv->key, kv->type, &kv->i);
        else
            st = set_config(rl, kv->key, kv->type, &kv->d);
    }
    return st;
}

/* Fills the new log rl from the old one: config, root attributes, rows up to resume. */
static int copy_old(cs_runlog *rl, const old_log *o, int64_t resume)
{
    const char *created = cs_runlog_read_meta(o->r, "created_utc");
    char now[32];
    char msg[64];
    size_t ne = rows_upto(o->evals, resume);
    int st = copy_config(rl, o->r);

    utc_now(now);
    if (st == CS_OK && (rlh5_attr_write_str(rl->file, "created_utc", created ? created : "") < 0 ||
                        rlh5_attr_write_str(rl->file, "resumed_utc", now) < 0 ||
                        rlh5_attr_write_int(rl->file, "resumed_step", resume) < 0))
        st = rlh5_fail(CS_EIO, cur_path(rl), "cannot write the root attributes");
    if (st == CS_OK)
        st = write_table(rl, &rl->steps, o->steps, rows_upto(o->steps, resume), NULL);
    if (st == CS_OK)
        st = write_table(rl, &rl->evals, o->evals, ne, o->cw->n_bins ? o->cw->loss : NULL);
    snprintf(msg, sizeof msg, "resumed at step %lld", (long long)resume);
    if (st == CS_OK)
        st = cs_runlog_set_status(rl, CS_RUNLOG_RUNNING, msg);
    return st;
}

static int reopen_impl(const char *path, int64_t resume, cs_runlog **out)
{
    old_log o = {NULL, NULL, NULL, NULL};
    cs_runlog_params p = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    int st;

    if (resume < 0)
        return cs_fail(CS_EINVAL, "%s: resume step %lld must be >= 0", path, (long long)resume);
    st = cs_runlog_read_open(path, &o.r);
    if (!st)
        st = cs_runlog_read_steps(o.r, &o.steps);
    if (!st)
        st = cs_runlog_read_evals(o.r, &o.evals);
    if (!st)
        st = cs_runlog_read_contextwise(o.r, &o.cw);
    if (!st) {
        p.force = true;
        p.context = o.cw->context;
        p.bin_edges = o.cw->bin_edges;
        p.n_bins = o.cw->n_bins;
        st = create_impl(path, &p, &rl);
    }
    if (!st)
        st = copy_old(rl, &o, resume);
    if (!st)
        st = cs_runlog_start_swmr(rl);
    old_log_free(&o);
    if (st) {
        cs_runlog_abort(rl);
        return st;
    }
    *out = rl;
    return CS_OK;
}

int cs_runlog_reopen(const char *path, int64_t resume_step, cs_runlog **out)
{
    rlh5_quiet q;
    int st;

    *out = NULL;
    rlh5_quiet_begin(&q);
    st = reopen_impl(path, resume_step, out);
    rlh5_quiet_end(&q);
    return st;
}
