/* notebooks-c/nb_predict.c — Predict before you train: the predicted loss of a run, with its
 * intervals, against the loss it reached.
 *
 *     nb_predict --out DIR [--prediction FILE] [--force]
 *
 * writes OUT/predict.md. Test: tests/cli/test_report.sh; docs/notebooks.md.
 *
 * What this notebook teaches
 * --------------------------
 * A scaling law earns trust by predicting what nobody has measured yet. The test is simple and
 * has to be done in this order: fit the law on small runs, write down the predicted loss of a
 * larger run with its prediction intervals (fit/predict.h: bootstrap refits for the parameters,
 * plus the residual noise), and only then train that run and compare. A 50% interval should
 * hold the observation about half the time, a 90% interval nine times in ten; an observation
 * outside the 90% interval says the law, or its noise model, does not extrapolate that far.
 *
 * The prediction file is a CSV with exactly these columns, in this order:
 *
 *     run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed,rel_error
 *
 * one row per predicted run: its name, non-embedding parameters N, training tokens D, context
 * T, the predicted loss and the bounds of its 50% and 90% intervals (all positive numbers with
 * lo90 <= lo50 <= hi50 <= hi90), and — once the run is trained — the observed loss and the
 * relative error predicted / observed - 1. observed and rel_error are empty (or NaN)
 * for a run not trained yet. A file that breaks these rules is bad input (exit 2, naming the
 * line and column). Without a file the section says that no prediction was made.
 */
#include "core/csv.h"
#include "core/error.h"
#include "core/table.h"
#include "notebooks-c/notebook.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_PREDICTION = 256 };

static const cs_cli_opt opts[] = {
    {"out", 'o', required_argument, "DIR", "write predict.md into DIR"},
    {"prediction", OPT_PREDICTION, required_argument, "FILE",
     "the prediction CSV: run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed,rel_error"},
    {"force", 'f', no_argument, NULL, "replace predict.md if it exists"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd cmd = {
    "nb_predict",
    "--out DIR [--prediction FILE] [--force]",
    "Notebook: the losses a fitted law predicted for runs before they were trained, with 50%\n"
    "and 90% intervals, against the losses observed; writes the Markdown section predict.md\n"
    "of the report. Without --prediction the section says that no prediction was made.",
    opts,
    "docs/notebooks.md describes the notebooks and the prediction file.\n",
};

typedef struct args {
    const char *out, *prediction;
    bool force;
} args;

static int take(int key, const char *arg, void *ctx)
{
    args *a = ctx;

    switch (key) {
    case 'o': a->out = arg; break;
    case 'f': a->force = true; break;
    case OPT_PREDICTION: a->prediction = arg; break;
    }
    return CS_OK;
}

/* ---- Reading and checking the prediction file ------------------------------------------------ */

enum { C_RUN, C_N, C_D, C_T, C_PRED, C_LO50, C_HI50, C_LO90, C_HI90, C_OBS, C_REL, NCOLS };

static const char *const col_names[NCOLS] = {
    "run", "N", "D", "T", "predicted", "lo50", "hi50", "lo90", "hi90", "observed", "rel_error"};

static int check_header(const cs_table *t, const char *path)
{
    char got[1024];
    size_t i, len = 0;
    bool same = cs_table_ncols(t) == NCOLS;

    for (i = 0; same && i < NCOLS; i++)
        same = strcmp(cs_table_col_name(t, i), col_names[i]) == 0;
    if (same)
        return CS_OK;
    got[0] = '\0';
    for (i = 0; i < cs_table_ncols(t) && len + 2 < sizeof got; i++)
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? "," : "",
                                cs_table_col_name(t, i));
    return cs_fail(CS_EINPUT,
                   "%s:1: expected the columns run,N,D,T,predicted,lo50,hi50,lo90,hi90,"
                   "observed,rel_error; got %s",
                   path, got);
}

/* The numbers of every row: positive intervals in order; observed and rel_error may be
 * missing (NaN) but not infinite, and observed must be positive when given. */
static int check_rows(cs_table *t, const char *path)
{
    size_t i, c;
    int st = CS_OK;

    for (c = C_N; c <= C_REL && st == CS_OK; c++)
        st = cs_table_col_to_num(t, c);
    for (c = C_N; c <= C_HI90 && st == CS_OK; c++)
        st = cs_table_require_num(t, col_names[c], CS_REQ_POSITIVE, NULL);
    for (i = 0; i < cs_table_nrows(t) && st == CS_OK; i++) {
        double lo90 = cs_table_num(t, i, C_LO90), lo50 = cs_table_num(t, i, C_LO50);
        double hi50 = cs_table_num(t, i, C_HI50), hi90 = cs_table_num(t, i, C_HI90);
        double obs = cs_table_num(t, i, C_OBS), rel = cs_table_num(t, i, C_REL);
        size_t line = cs_table_row_line(t, i);

        if (!(lo90 <= lo50 && lo50 <= hi50 && hi50 <= hi90))
            st = cs_fail(CS_EINPUT,
                         "%s:%zu: expected lo90 <= lo50 <= hi50 <= hi90, got %g, %g, %g, %g", path,
                         line, lo90, lo50, hi50, hi90);
        else if (isinf(rel) || isinf(obs) || (!isnan(obs) && !(obs > 0)))
            st = cs_fail(CS_EINPUT,
                         "%s:%zu: column \"%s\": expected a positive number or an empty value",
                         path, line, isinf(rel) ? "rel_error" : "observed");
    }
    return st;
}

static int read_prediction(const char *path, cs_table **t)
{
    cs_csv_params cp = cs_csv_default_params();
    int st;

    cp.infer_types = false; /* run names stay text even when they look like numbers */
    if ((st = cs_csv_read(path, &cp, t)))
        return st;
    if ((st = check_header(*t, path)) || (st = check_rows(*t, path))) {
        cs_table_free(*t);
        *t = NULL;
    }
    return st;
}

/* ---- The table and its reading ----------------------------------------------------------------
 *
 * Each trained run gets one of three verdicts: inside its 50% interval, outside it but inside
 * the 90% interval, or outside both. The summary counts them and compares with what calibrated
 * intervals would give — with the caution that a handful of runs says little about calibration.
 */
static const char *verdict(const cs_table *t, size_t i)
{
    double obs = cs_table_num(t, i, C_OBS);

    if (isnan(obs))
        return "not trained yet";
    if (obs >= cs_table_num(t, i, C_LO50) && obs <= cs_table_num(t, i, C_HI50))
        return "inside the 50% interval";
    if (obs >= cs_table_num(t, i, C_LO90) && obs <= cs_table_num(t, i, C_HI90))
        return "outside the 50% but inside the 90% interval";
    return "<strong>outside the 90% interval</strong>";
}

static void row(cs_nb *nb, const cs_table *t, size_t i)
{
    char b[10][32];
    size_t k;

    cs_nb_tr(nb);
    cs_nb_td_text(nb, cs_table_str(t, i, C_RUN));
    for (k = C_N; k <= C_PRED; k++)
        cs_nb_td(nb, true, "%s", cs_nb_num(b[k], cs_table_num(t, i, k), 4));
    cs_nb_td(nb, true, "%s..%s", cs_nb_num(b[5], cs_table_num(t, i, C_LO50), 4),
             cs_nb_num(b[6], cs_table_num(t, i, C_HI50), 4));
    cs_nb_td(nb, true, "%s..%s", cs_nb_num(b[7], cs_table_num(t, i, C_LO90), 4),
             cs_nb_num(b[8], cs_table_num(t, i, C_HI90), 4));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[9], cs_table_num(t, i, C_OBS), 4));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[0], cs_table_num(t, i, C_REL), 3));
    cs_nb_td(nb, false, "%s", verdict(t, i));
    cs_nb_tr_end(nb);
}

static void summary(cs_nb *nb, const cs_table *t)
{
    size_t i, n = cs_table_nrows(t), m = 0, in50 = 0, in90 = 0;

    for (i = 0; i < n; i++) {
        double obs = cs_table_num(t, i, C_OBS);

        if (isnan(obs))
            continue;
        m++;
        in50 += obs >= cs_table_num(t, i, C_LO50) && obs <= cs_table_num(t, i, C_HI50);
        in90 += obs >= cs_table_num(t, i, C_LO90) && obs <= cs_table_num(t, i, C_HI90);
    }
    if (m == 0) {
        cs_nb_md(nb, "No predicted run has been trained yet, so there is no observation to "
                     "compare with.\n\n");
        return;
    }
    cs_nb_md(nb,
             "%zu of %zu observed loss%s fell inside %s 50%% interval and %zu of %zu inside "
             "%s 90%% interval (calibrated intervals would hold about half and nine in ten",
             in50, m, m == 1 ? "" : "es", m == 1 ? "its" : "their", in90, m,
             m == 1 ? "its" : "their");
    cs_nb_md(nb, "%s).", m < 10 ? "; with so few runs this says little about calibration" : "");
    if (in90 < m)
        cs_nb_md(nb, " An observation outside its 90%% interval means the law, or its noise "
                     "model, does not extrapolate to that run.");
    if (m < n)
        cs_nb_md(nb, " %zu predicted run%s not trained yet.", n - m, n - m == 1 ? " is" : "s are");
    cs_nb_md(nb, "\n\n");
}

static void with_prediction(cs_nb *nb, const cs_table *t, const char *path)
{
    static const char *const head[] = {
        "run",           "N#",        "D (tokens)#", "T#",     "predicted loss#", "50% interval#",
        "90% interval#", "observed#", "rel. error#", "verdict"};
    size_t i;

    cs_nb_md(nb, "Predictions from ");
    cs_nb_name(nb, path);
    cs_nb_md(nb, " (%zu run%s):\n", cs_table_nrows(t), cs_table_nrows(t) == 1 ? "" : "s");
    cs_nb_table(nb, head, 10);
    for (i = 0; i < cs_table_nrows(t); i++)
        row(nb, t, i);
    cs_nb_table_end(nb);
    summary(nb, t);
}

static void write_section(cs_nb *nb, const cs_table *t, const char *path)
{
    cs_nb_md(nb, "<a id=\"predict\"></a>\n\n## Predict before you train\n\n");
    cs_nb_md(nb, "A law fitted on small runs predicts the loss of a larger run, with 50%% and "
                 "90%% intervals, before that run is trained; the run is then trained and the "
                 "prediction checked.\n\n");
    if (!t)
        cs_nb_md(nb, "**No prediction was made**: no prediction file was given "
                     "(`--prediction FILE`; `make notebooks PREDICTION=file`).\n\n");
    else
        with_prediction(nb, t, path);
}

int main(int argc, char **argv)
{
    args a = {0};
    cs_table *t = NULL;
    cs_nb nb = {0};
    int rc = cs_nb_parse(&cmd, argc, argv, take, &a), st;

    if (rc >= 0)
        return rc;
    if (!a.out)
        return cs_nb_usage(&cmd, "--out DIR is required");
    if ((a.prediction && (st = read_prediction(a.prediction, &t))) ||
        (st = cs_nb_open(&nb, a.out, "predict", NULL, 0, a.force)))
        goto out_free;
    write_section(&nb, t, a.prediction);
    st = cs_nb_commit(&nb);
out_free:
    cs_table_free(t);
    return cs_nb_report(&cmd, st);
}
