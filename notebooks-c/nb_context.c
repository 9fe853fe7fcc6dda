/* notebooks-c/nb_context.c — Inference-time context: figures C1, C4 and C5.
 *
 *     nb_context --runs DIR --out DIR [--c1 RUN] [--floor X] [--force]
 *
 * writes OUT/context.md and OUT/figures/C1.*, C4.*, C5.*. Test: tests/cli/test_report.sh;
 * docs/notebooks.md.
 *
 * What this notebook teaches
 * --------------------------
 * A language model trained with context T predicts token t of a sequence from the t - 1 tokens
 * before it. The trainer evaluates every model on held-out text and records the mean loss at
 * each position t = 1..T (and past T when asked to extrapolate), in log-spaced bins: the
 * *contextwise loss* (docs/runlog.md, eval/contextwise). Three figures read it:
 *
 *   C1  one model's contextwise loss: how much the loss falls as the model sees more context.
 *       The drop from position 1 to T is what context is worth to this model on this text.
 *   C4  one model size trained at several contexts T, each curve up to its own T, with a
 *       dotted line at each run's *average* loss over positions 1..T. The average loss is
 *       what a training curve shows, and it mixes early positions (little context) with late
 *       ones: a model trained at a long T spends most of its positions well into the context,
 *       a model trained at a short T never gets there. Comparing runs by their average loss
 *       therefore compares different things; the *best-context loss* (the mean over the last
 *       5% of the context) compares what each model can do with its whole context. This is
 *       the argument of Buckman & Gelada (2024), "On Context Scaling".
 *   C5  evaluation past the training context: does the loss keep falling beyond T (the model
 *       uses positions it never trained on), stay flat, or rise (rotary position embeddings
 *       meeting unseen distances)?
 *
 * The numbers in the prose are computed here from the same run logs the figures draw, so the
 * text cannot claim what the data does not show.
 */
#include "core/error.h"
#include "core/runlog.h"
#include "core/runlog_read.h"
#include "notebooks-c/notebook.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_C1 = 256, OPT_FLOOR };

static const cs_cli_opt opts[] = {
    {"runs", 'r', required_argument, "DIR", "the run logs (a sweep's directory)"},
    {"out", 'o', required_argument, "DIR", "write context.md and figures/ into DIR"},
    {"c1", OPT_C1, required_argument, "RUN",
     "C1: this run log (or a directory holding one); default: the run of DIR with most compute"},
    {"floor", OPT_FLOOR, required_argument, "X",
     "C1: a loss floor, nats/token, or the synth.json of `ctxscale data synth`"},
    {"force", 'f', no_argument, NULL, "replace context.md and the figures if they exist"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd cmd = {
    "nb_context",
    "--runs DIR --out DIR [--c1 RUN] [--floor X] [--force]",
    "Notebook: inference-time context (figures C1, C4, C5) from the contextwise loss of run\n"
    "logs; writes the Markdown section context.md of the report.",
    opts,
    "docs/notebooks.md describes the notebooks and the report.\n",
};

typedef struct args {
    const char *runs, *out, *c1, *floor;
    bool force;
} args;

static int take(int key, const char *arg, void *ctx)
{
    args *a = ctx;

    switch (key) {
    case 'r': a->runs = arg; break;
    case 'o': a->out = arg; break;
    case OPT_C1: a->c1 = arg; break;
    case OPT_FLOOR: a->floor = arg; break;
    case 'f': a->force = true; break;
    }
    return CS_OK;
}

/* ---- Reading the contextwise loss ------------------------------------------------------------
 *
 * Each run log holds one row of contextwise loss per evaluation. We take the last evaluation
 * with data (the trained model), and with it that evaluation's average loss (loss_val, positions
 * 1..T) and best-context loss (loss_val_best). A bin b covers positions
 * [bin_edges[b], bin_edges[b+1]); we place it at the geometric middle of its positions, which is
 * where a log-x plot puts it.
 */
typedef struct run {
    char *path, *name;
    double N;      /* non-embedding parameters */
    double T;      /* training context, tokens */
    double C;      /* training FLOPs at the eval */
    double avg;    /* loss_val: mean over positions 1..T, nats/token */
    double best;   /* loss_val_best: mean over the last 5% of T, nats/token */
    size_t nbins;  /* bins with their positions and losses */
    double *mid;   /* (nbins) geometric middle position of each bin */
    double *last;  /* (nbins) last position of each bin */
    double *loss;  /* (nbins) nats/token; NaN: no data */
    bool has_ctxw; /* the log has contextwise loss */
} run;

static void run_free(run *r)
{
    free(r->path);
    free(r->name);
    free(r->mid);
    free(r->last);
    free(r->loss);
    memset(r, 0, sizeof *r);
}

static double config_num(const cs_runlog_reader *rd, const char *key)
{
    const cs_runlog_kv *kv = cs_runlog_read_config_find(rd, key);

    return kv && kv->type != CS_RUNLOG_STR ? kv->d : NAN;
}

static double eval_col(const cs_table *ev, size_t e, const char *name)
{
    long c = cs_table_find(ev, name);

    return c >= 0 && cs_table_col_type(ev, (size_t)c) == CS_COL_NUM ? cs_table_num(ev, e, (size_t)c)
                                                                    : NAN;
}

/* The last eval row with any contextwise data; SIZE_MAX if none. */
static size_t last_eval(const cs_runlog_ctxwise *cw)
{
    size_t e, b, pick = SIZE_MAX;

    for (e = 0; e < cw->n_evals; e++)
        for (b = 0; b < cw->n_bins; b++)
            if (isfinite(cw->loss[e * cw->n_bins + b]))
                pick = e;
    return pick;
}

static int copy_bins(run *r, const cs_runlog_ctxwise *cw, size_t e)
{
    size_t b;

    r->nbins = cw->n_bins;
    r->mid = malloc(r->nbins * sizeof *r->mid);
    r->last = malloc(r->nbins * sizeof *r->last);
    r->loss = malloc(r->nbins * sizeof *r->loss);
    if (!r->mid || !r->last || !r->loss)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (b = 0; b < r->nbins; b++) {
        double lo = (double)cw->bin_edges[b], hi = (double)cw->bin_edges[b + 1] - 1.0;

        r->mid[b] = sqrt(lo * hi);
        r->last[b] = hi;
        r->loss[b] = cw->loss[e * cw->n_bins + b];
    }
    return CS_OK;
}

/* Reads one run log into *r. A log without contextwise loss is not an error: has_ctxw false. */
static int read_run(const char *path, run *r)
{
    cs_runlog_reader *rd = NULL;
    cs_runlog_ctxwise *cw = NULL;
    cs_table *ev = NULL;
    size_t e;
    int st;

    memset(r, 0, sizeof *r);
    if ((st = cs_runlog_read_open(path, &rd)) || (st = cs_runlog_read_contextwise(rd, &cw)) ||
        (st = cs_runlog_read_evals(rd, &ev)))
        goto out_free;
    r->path = strdup(path);
    r->name = cs_nb_run_name(path);
    if (!r->path || !r->name) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        goto out_free;
    }
    r->N = config_num(rd, CS_RUNLOG_KEY_N_PARAMS_NONEMBED);
    r->T = config_num(rd, CS_RUNLOG_KEY_CONTEXT);
    if (!(r->T > 0))
        r->T = cw->context > 0 ? (double)cw->context : NAN;
    e = cw->n_bins ? last_eval(cw) : SIZE_MAX;
    if (e == SIZE_MAX || e >= cs_table_nrows(ev))
        goto out_free; /* no contextwise loss: kept, without it */
    r->has_ctxw = true;
    r->C = eval_col(ev, e, "flops");
    r->avg = eval_col(ev, e, "loss_val");
    r->best = eval_col(ev, e, "loss_val_best");
    st = copy_bins(r, cw, e);
out_free:
    if (st)
        run_free(r);
    cs_table_free(ev);
    cs_runlog_read_ctxwise_free(cw);
    cs_runlog_read_close(rd);
    return st;
}

typedef struct runset {
    run *r;
    size_t n;
} runset;

static void runset_free(runset *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        run_free(&s->r[i]);
    free(s->r);
    memset(s, 0, sizeof *s);
}

/* The run logs of `dir` (docs/runlog.md: dir/<name>.h5 or dir/<name>/run.h5). An empty
 * directory, or a path that is not a directory, is bad input. */
static int read_dir(const char *dir, runset *s)
{
    struct stat sb;
    char **paths = NULL;
    size_t n = 0, i;
    int st;

    memset(s, 0, sizeof *s);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cs_fail(CS_EINPUT, "%s: not a directory of run logs", dir);
    if ((st = cs_runlog_read_list(dir, &paths, &n)))
        return st;
    if (n == 0)
        st = cs_fail(CS_EINPUT, "%s: no run logs (*.h5) in this directory or one level down", dir);
    if (st == CS_OK && !(s->r = calloc(n, sizeof *s->r)))
        st = cs_fail(CS_ENOMEM, "out of memory");
    for (i = 0; i < n && st == CS_OK; i++)
        if ((st = read_run(paths[i], &s->r[s->n])) == CS_OK)
            s->n++;
    cs_runlog_read_list_free(paths, n);
    if (st)
        runset_free(s);
    return st;
}

/* ---- C1: one model's contextwise loss ------------------------------------------------------
 *
 * Which model? The one the user names with --c1 (the demo points it at the model trained on the
 * synthetic language, whose Bayes-optimal loss per position is known and drawn as a floor);
 * otherwise the run of the directory that used the most compute — the best-trained model.
 *
 * What to say about it: the loss at position 1 (no context at all: the unigram-like guess), the
 * loss at the end of the training context, and how early the model collects half of that drop.
 * A model that gains most of its benefit in the first few positions uses short-range context;
 * one whose curve keeps falling to T would profit from a longer T.
 */
static size_t pick_c1(const runset *s)
{
    size_t i, best = SIZE_MAX;

    for (i = 0; i < s->n; i++) {
        const run *r = &s->r[i];

        if (!r->has_ctxw)
            continue;
        if (best == SIZE_MAX || r->C > s->r[best].C ||
            (r->C == s->r[best].C && r->T > s->r[best].T))
            best = i;
    }
    return best;
}

/* Position and loss of the first bin with data, the loss of the last bin within T and its last
 * position; the position where half the drop is reached. False when the run has fewer than two
 * finite bins within T. */
static bool c1_numbers(const run *r, double *p1, double *l1, double *lT, double *half, double *Tend)
{
    size_t b, first = SIZE_MAX, lastb = SIZE_MAX;

    for (b = 0; b < r->nbins; b++)
        if (isfinite(r->loss[b]) && !(r->last[b] > r->T)) {
            if (first == SIZE_MAX)
                first = b;
            lastb = b;
        }
    if (first == SIZE_MAX || lastb == first)
        return false;
    *p1 = r->mid[first];
    *l1 = r->loss[first];
    *lT = r->loss[lastb];
    *Tend = r->last[lastb];
    *half = NAN;
    for (b = first; b <= lastb; b++)
        if (isfinite(r->loss[b]) && r->loss[b] <= *l1 - 0.5 * (*l1 - *lT)) {
            *half = r->mid[b];
            break;
        }
    return true;
}

static int section_c1(cs_nb *nb, const run *r, const args *a)
{
    cs_figures_opts o = cs_figures_default_opts();
    const char *in[1] = {r->path};
    double p1, l1, lT, half, Tend;
    char b1[32], b2[32], b3[32], b4[32];

    cs_nb_md(nb, "### C1: contextwise loss of one model\n\n");
    cs_nb_md(nb, "Run ");
    cs_nb_name(nb, r->name);
    cs_nb_md(nb, " (N = %s non-embedding parameters, trained at T = %s tokens). ",
             cs_nb_num(b1, r->N, 4), cs_nb_num(b2, r->T, 6));
    if (c1_numbers(r, &p1, &l1, &lT, &half, &Tend)) {
        cs_nb_md(nb, "Its loss goes from %s nats/token at position %s to %s at position %s: ",
                 cs_nb_num(b1, l1, 4), cs_nb_num(b4, p1, 3), cs_nb_num(b2, lT, 4),
                 cs_nb_num(b3, Tend, 6));
        if (lT < l1)
            cs_nb_md(nb,
                     "context is worth %s nats/token to this model, and half of that is "
                     "gained by position %s.\n\n",
                     cs_nb_num(b4, l1 - lT, 3), cs_nb_num(b1, half, 3));
        else
            cs_nb_md(nb, "the model does not use its context at all here (the loss does not "
                         "fall along the context).\n\n");
    } else {
        cs_nb_md(nb, "It has too few position bins within T to say how the loss falls.\n\n");
    }
    o.inputs = in;
    o.ninputs = 1;
    o.floor = a->floor;
    o.log = stderr;
    return cs_nb_figure(nb, "C1", &o,
                        "Mean validation loss at each position of the context (log-x), one "
                        "trained model.",
                        NULL);
}

/* ---- C4: one model size at several training contexts -----------------------------------------
 *
 * Which size? The one with the most runs that recorded contextwise loss (ties: the larger). We
 * rank its runs twice, by average loss and by best-context loss, and say whether the two
 * rankings pick the same run. They need not: the average loss of a long-context run contains
 * its many positions after T_short, where it is better, but also the early positions where every
 * run is equal, and a run at a short context has trained on more sequences of the same total
 * tokens.
 */
static bool extrapolates(const run *r);

/* The model size with the most runs that have contextwise loss (and, with only_extrap, that were
 * evaluated past T); *count gets that number. NaN when there is none. */
static double pick_size(const runset *s, bool only_extrap, size_t *count)
{
    size_t i, j, k, best_n = 0;
    double bestN = NAN;

    for (i = 0; i < s->n; i++) {
        if (!s->r[i].has_ctxw || !isfinite(s->r[i].N) || (only_extrap && !extrapolates(&s->r[i])))
            continue;
        for (k = 0, j = 0; j < s->n; j++)
            if (s->r[j].has_ctxw && s->r[j].N == s->r[i].N &&
                (!only_extrap || extrapolates(&s->r[j])))
                k++;
        if (k > best_n || (k == best_n && s->r[i].N > bestN)) {
            best_n = k;
            bestN = s->r[i].N;
        }
    }
    *count = best_n;
    return bestN;
}

static int cmp_T(const void *x, const void *y)
{
    const run *const *a = x, *const *b = y;

    return ((*a)->T > (*b)->T) - ((*a)->T < (*b)->T);
}

/* The table of the runs; *by_avg and *by_best get the runs each loss ranks first. False when a
 * run lacks either loss (no ranking then). */
static bool c4_table(cs_nb *nb, run **rr, size_t n, size_t *by_avg, size_t *by_best)
{
    static const char *const head[] = {"run", "T (tokens)#", "average loss 1..T#",
                                       "best-context loss#"};
    char b1[32], b2[32], b3[32];
    bool ranked = true;
    size_t i;

    *by_avg = *by_best = 0;
    cs_nb_table(nb, head, 4);
    for (i = 0; i < n; i++) {
        cs_nb_tr(nb);
        cs_nb_td_text(nb, rr[i]->name);
        cs_nb_td(nb, true, "%s", cs_nb_num(b1, rr[i]->T, 6));
        cs_nb_td(nb, true, "%s", cs_nb_num(b2, rr[i]->avg, 4));
        cs_nb_td(nb, true, "%s", cs_nb_num(b3, rr[i]->best, 4));
        cs_nb_tr_end(nb);
        ranked = ranked && isfinite(rr[i]->avg) && isfinite(rr[i]->best);
        if (rr[i]->avg < rr[*by_avg]->avg)
            *by_avg = i;
        if (rr[i]->best < rr[*by_best]->best)
            *by_best = i;
    }
    cs_nb_table_end(nb);
    return ranked;
}

static int section_c4(cs_nb *nb, const runset *s)
{
    cs_figures_opts o = cs_figures_default_opts();
    size_t count, i, n = 0, by_avg, by_best;
    double N = pick_size(s, false, &count);
    run **rr = calloc(s->n ? s->n : 1, sizeof *rr);
    const char **in = calloc(s->n ? s->n : 1, sizeof *in);
    char b1[32], b2[32];
    int st = CS_OK;

    if (!rr || !in) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        goto out_free;
    }
    cs_nb_md(nb, "### C4: one model size at several training contexts\n\n");
    if (count < 2) {
        cs_nb_md(nb, "No model size was trained at two or more contexts with contextwise "
                     "loss recorded, so figure C4 is not drawn.\n\n");
        goto out_free;
    }
    for (i = 0; i < s->n; i++)
        if (s->r[i].has_ctxw && s->r[i].N == N)
            rr[n++] = &s->r[i];
    qsort(rr, n, sizeof *rr, cmp_T);
    cs_nb_md(nb,
             "Model size N = %s, trained at %zu contexts. Each run's average loss over "
             "positions 1..T (what a training curve reports) against its best-context "
             "loss (the last 5%% of T):\n",
             cs_nb_num(b1, N, 4), n);
    if (!c4_table(nb, rr, n, &by_avg, &by_best))
        cs_nb_md(nb, "Some of these runs lack an average or a best-context loss, so they are not "
                     "ranked.\n\n");
    else if (by_avg == by_best)
        cs_nb_md(nb,
                 "Here both losses pick the same run (T = %s): at this scale the average "
                 "loss happens not to mislead.\n\n",
                 cs_nb_num(b1, rr[by_best]->T, 6));
    else
        cs_nb_md(nb,
                 "The average loss picks T = %s, the best-context loss picks T = %s: "
                 "ranking these runs by their training loss would choose the wrong "
                 "context.\n\n",
                 cs_nb_num(b1, rr[by_avg]->T, 6), cs_nb_num(b2, rr[by_best]->T, 6));
    for (i = 0; i < n; i++)
        in[i] = rr[i]->path;
    o.inputs = in;
    o.ninputs = n;
    o.log = stderr;
    st = cs_nb_figure(nb, "C4", &o,
                      "Contextwise loss of one model size trained at several contexts, each "
                      "curve up to its own T; dotted: the run's average loss over 1..T.",
                      NULL);
out_free:
    free(rr);
    free(in);
    return st;
}

/* ---- C5: past the training context ------------------------------------------------------------
 *
 * Runs evaluated past T (the trainer's `--extrap K` / config `[eval] extrap`) have bins whose
 * last position exceeds T. For each we compare the best-context loss with the mean loss of the
 * bins past T and with the last bin: a rise means the model cannot use (or is hurt by) positions
 * it never saw in training. We call a change within 0.01 nats/token "flat".
 */
static bool extrapolates(const run *r)
{
    size_t b;

    for (b = 0; b < r->nbins; b++)
        if (r->last[b] > r->T && isfinite(r->loss[b]))
            return true;
    return false;
}

static void c5_sentence(cs_nb *nb, const run *r)
{
    double sum = 0.0, lastl = NAN, lastp = NAN, d;
    size_t b, k = 0;
    char b1[32], b2[32], b3[32], b4[32], b5[32];

    for (b = 0; b < r->nbins; b++)
        if (r->last[b] > r->T && isfinite(r->loss[b])) {
            sum += r->loss[b];
            k++;
            lastl = r->loss[b];
            lastp = r->last[b];
        }
    d = sum / (double)k - r->best;
    cs_nb_md(nb, "- ");
    cs_nb_name(nb, r->name);
    cs_nb_md(nb,
             " (T = %s): best-context loss %s, mean over the bins past T %s, %s at "
             "position %s: ",
             cs_nb_num(b1, r->T, 6), cs_nb_num(b2, r->best, 4), cs_nb_num(b3, sum / (double)k, 4),
             cs_nb_num(b4, lastl, 4), cs_nb_num(b5, lastp, 6));
    if (d > 0.01)
        cs_nb_md(nb, "the loss **rises** past T by %s nats/token on average.\n",
                 cs_nb_num(b1, d, 3));
    else if (d < -0.01)
        cs_nb_md(nb, "the loss keeps **falling** past T (by %s nats/token on average).\n",
                 cs_nb_num(b1, -d, 3));
    else
        cs_nb_md(nb, "the loss stays **flat** past T (within 0.01 nats/token).\n");
}

static bool in_c5(const run *r, double N)
{
    return r->has_ctxw && r->N == N && extrapolates(r);
}

static int section_c5(cs_nb *nb, const runset *s)
{
    cs_figures_opts o = cs_figures_default_opts();
    const char **in = calloc(s->n ? s->n : 1, sizeof *in);
    size_t i, n = 0, count;
    double N = pick_size(s, true, &count);
    char b1[32];
    int st = CS_OK;

    if (!in)
        return cs_fail(CS_ENOMEM, "out of memory");
    cs_nb_md(nb, "### C5: evaluation past the training context\n\n");
    if (count == 0) {
        cs_nb_md(nb, "No run was evaluated past its training context (the trainer's "
                     "`--extrap` option), so figure C5 is not drawn.\n\n");
        free(in);
        return CS_OK;
    }
    for (i = 0; i < s->n; i++)
        if (in_c5(&s->r[i], N))
            in[n++] = s->r[i].path;
    cs_nb_md(nb, "Model size N = %s, %zu run%s evaluated past T:\n\n", cs_nb_num(b1, N, 4), n,
             n == 1 ? "" : "s");
    for (i = 0; i < s->n; i++)
        if (in_c5(&s->r[i], N))
            c5_sentence(nb, &s->r[i]);
    cs_nb_md(nb, "\n");
    o.inputs = in;
    o.ninputs = n;
    o.log = stderr;
    st = cs_nb_figure(nb, "C5", &o,
                      "Loss at each position, evaluated past the training context; dashed: T, "
                      "dotted: the best-context loss.",
                      NULL);
    free(in);
    return st;
}

/* ---- The section --------------------------------------------------------------------------- */

static int read_c1(const char *path, run *r)
{
    char **paths = NULL;
    size_t n = 0;
    struct stat sb;
    int st;

    if (stat(path, &sb) != 0)
        return cs_fail(CS_EINPUT, "--c1 %s: no such file or directory", path);
    if (!S_ISDIR(sb.st_mode))
        st = read_run(path, r);
    else if ((st = cs_runlog_read_list(path, &paths, &n)) == CS_OK)
        st = n == 1 ? read_run(paths[0], r)
                    : cs_fail(CS_EINPUT,
                              "--c1 %s: expected one run log in the directory, found %zu", path, n);
    cs_runlog_read_list_free(paths, n);
    if (st == CS_OK && !r->has_ctxw) {
        st = cs_fail(CS_EINPUT, "--c1 %s: the run log has no contextwise loss", path);
        run_free(r);
    }
    return st;
}

static int write_section(cs_nb *nb, const runset *s, const run *c1, const args *a)
{
    size_t i, nctx = 0;
    int st;

    for (i = 0; i < s->n; i++)
        nctx += s->r[i].has_ctxw;
    cs_nb_md(nb, "<a id=\"context\"></a>\n\n## Inference-time context (C1, C4, C5)\n\n");
    cs_nb_md(nb,
             "A model trained with context T predicts each token from the tokens before "
             "it. The trainer records the mean validation loss at each position of the "
             "context (*contextwise loss*); these figures read it. Runs: %zu run logs in ",
             s->n);
    cs_nb_name(nb, a->runs);
    cs_nb_md(nb, ", %zu with contextwise loss.\n\n", nctx);
    if (nctx == 0 && !c1) {
        cs_nb_md(nb, "No run recorded contextwise loss, so figures C1, C4 and C5 are not "
                     "drawn.\n\n");
        return CS_OK;
    }
    if ((st = section_c1(nb, c1 ? c1 : &s->r[pick_c1(s)], a)))
        return st;
    if ((st = section_c4(nb, s)))
        return st;
    return section_c5(nb, s);
}

int main(int argc, char **argv)
{
    static const char *const figs[] = {"C1", "C4", "C5"};
    args a = {0};
    runset s = {0};
    run c1 = {0};
    cs_nb nb = {0};
    int rc = cs_nb_parse(&cmd, argc, argv, take, &a), st;

    if (rc >= 0)
        return rc;
    if (!a.runs || !a.out)
        return cs_nb_usage(&cmd, "--runs DIR and --out DIR are required");
    if ((st = read_dir(a.runs, &s)) || (a.c1 && (st = read_c1(a.c1, &c1))) ||
        (st = cs_nb_open(&nb, a.out, "context", figs, 3, a.force)))
        goto out_free;
    if ((st = write_section(&nb, &s, a.c1 ? &c1 : NULL, &a)))
        cs_nb_abort(&nb);
    else
        st = cs_nb_commit(&nb);
out_free:
    run_free(&c1);
    runset_free(&s);
    return cs_nb_report(&cmd, st);
}
