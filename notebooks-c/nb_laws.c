/* notebooks-c/nb_laws.c — The fitted law with confidence intervals, and the optimal-context
 * table.
 *
 *     nb_laws --runs DIR --out DIR [--law-boot N] [--boot N] [--budgets SPEC] [--seed S]
 *             [--min-runs K] [--threads N] [--force]
 *
 * writes OUT/laws.md and the figure ndt_fit in OUT/figures. Test: tests/cli/test_report.sh;
 * docs/notebooks.md.
 *
 * What this notebook teaches
 * --------------------------
 * U-curves say where the optimum lies at the budgets a sweep sampled. A law says why, and where
 * it moves at budgets nobody trained. ctxscale fits the `ndt` law (docs/laws.md)
 *
 *     L(N, D, T) = E + A / N^alpha + B / D^beta + G / T^gamma,
 *
 * Chinchilla's law of model size N and tokens D whose irreducible loss falls with the training
 * context T, to the final best-context loss of every finished run. At a budget C the tokens are
 * D = C / cost(N, T), with a cost per token that grows with T, so the law has a compute-optimal
 * context T*(C): where the gain G/T^gamma of a longer context no longer pays for the tokens it
 * costs. The fit is the robust Huber fit in log space from a grid of 3^7 starts; the intervals
 * come from refitting bootstrap resamples of the runs; the optima are solved again for every
 * bootstrap sample, which gives their bands.
 *
 * A law has 7 parameters. A sweep of a handful of tiny runs may not determine them: the fitter
 * then warns (parameters not identified, estimates outside their starting grid), the intervals
 * are wide, and the law's optimum runs to the edge of the range it is searched in. This notebook
 * reports those warnings and marks such optima as extrapolations instead of presenting them as
 * findings. Beside the law's optimum it puts the empirical one (nb_ucurves), so the reader sees
 * whether the two agree.
 */
#include "analysis/analyze.h"
#include "core/error.h"
#include "fit/bootstrap.h"
#include "fit/predict.h"
#include "notebooks-c/notebook.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cs_cli_opt opts[] = {
    {"runs", 'r', required_argument, "DIR", "the sweep's run logs"},
    {"out", 'o', required_argument, "DIR", "write laws.md and figures/ into DIR"},
    {"law-boot", CS_NB_OPT_LAW_BOOT, required_argument, "N", "bootstrap refits of the law (100)"},
    {"boot", CS_NB_OPT_BOOT, required_argument, "N",
     "bootstrap replicates of the empirical optima (200)"},
    {"budgets", CS_NB_OPT_BUDGETS, required_argument, "SPEC",
     "FLOPs budgets: auto (default), C1,C2,... or LO:HI:K"},
    {"seed", CS_NB_OPT_SEED, required_argument, "S", "bootstrap seed (1)"},
    {"min-runs", CS_NB_OPT_MIN_RUNS, required_argument, "K",
     "automatic budgets need K runs reaching them (3)"},
    {"threads", CS_NB_OPT_THREADS, required_argument, "N",
     "fitting threads (0: all CPUs; default 1)"},
    {"force", 'f', no_argument, NULL, "replace laws.md and the figure if they exist"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd cmd = {
    "nb_laws",
    "--runs DIR --out DIR [OPTIONS]",
    "Notebook: the ndt law L = E + A/N^alpha + B/D^beta + G/T^gamma fitted to a sweep's runs\n"
    "with bootstrap intervals, its fit against the observations, and the optimal-context\n"
    "table (law and empirical optimum per budget); writes the section laws.md of the report.",
    opts,
    "docs/notebooks.md describes the notebooks; docs/analysis.md and docs/laws.md the method.\n",
};

typedef struct args {
    const char *runs, *out;
    cs_nb_analysis an; /* the analysis flags (notebook.h) */
    bool force;
} args;

static int take(int key, const char *arg, void *ctx)
{
    args *a = ctx;

    switch (key) {
    case 'r': a->runs = arg; return CS_OK;
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    }
    return cs_nb_analysis_take(&a->an, key, arg);
}

/* ---- The analysis, with the law ---------------------------------------------------------------
 *
 * cs_analyze_run fits the law to one point per finished run (its N, final D, T and final
 * best-context loss), bootstraps it, and solves the optima per model size (N fixed, T free)
 * and jointly (N and T free) at every budget; it also finds the empirical optima, which we set
 * beside the law's.
 */
static int analyze(const args *a, double **budgets, cs_analyze_result **r)
{
    return cs_nb_analysis_run(a->runs, &a->an, true, budgets, r);
}

/* ---- The parameters and their intervals ------------------------------------------------------ */

static void param_row(cs_nb *nb, const char *name, double est, double lo, double hi, double se)
{
    char b[4][32];

    cs_nb_tr(nb);
    cs_nb_td(nb, false, "%s", name);
    cs_nb_td(nb, true, "%s", cs_nb_num(b[0], est, 4));
    if (isfinite(lo) && isfinite(hi))
        cs_nb_td(nb, true, "%s .. %s", cs_nb_num(b[1], lo, 4), cs_nb_num(b[2], hi, 4));
    else
        cs_nb_td(nb, true, "none");
    cs_nb_td(nb, true, "%s", cs_nb_num(b[3], se, 3));
    cs_nb_tr_end(nb);
}

static void params_table(cs_nb *nb, const cs_analyze_law *lw)
{
    static const char *const head[] = {"parameter", "estimate#", "interval#", "bootstrap SE#"};
    const cs_boot_result *bo = lw->boot;
    size_t j, np = cs_law_nparams(lw->law);

    cs_nb_md(nb,
             "Fitted to %zu finished runs (robust Huber fit in log space, %zu of %zu starts "
             "converged; RMSE of the log residuals %.3g). Intervals: %s.\n",
             lw->fit->n_points, lw->fit->n_converged, lw->fit->n_starts, lw->fit->rmse,
             bo ? "95% bootstrap percentile intervals over the refits" : "none (no bootstrap)");
    cs_nb_table(nb, head, 4);
    for (j = 0; j < np; j++)
        param_row(nb, cs_law_param_name(lw->law, j), lw->fit->estimate[j], bo ? bo->lo[j] : NAN,
                  bo ? bo->hi[j] : NAN, bo ? bo->se[j] : NAN);
    for (j = 0; bo && j < bo->nderived; j++)
        param_row(nb, cs_law_derived_name(lw->law, j), bo->dest[j], bo->dlo[j], bo->dhi[j],
                  bo->dse[j]);
    cs_nb_table_end(nb);
    if (bo && bo->n_failed)
        cs_nb_md(nb, "%zu of %zu bootstrap refits failed and are left out of the intervals.\n\n",
                 bo->n_failed, bo->n);
}

/* Is the law determined by the runs? We take the fitter's own verdict: a warning that the
 * parameters are not identified, or that an estimate lies outside its starting grid. */
static bool law_doubtful(const cs_analyze_law *lw)
{
    size_t i;

    for (i = 0; i < lw->fit->nwarnings; i++)
        if (strstr(lw->fit->warnings[i], "not identified") ||
            strstr(lw->fit->warnings[i], "outside its starting grid"))
            return true;
    return false;
}

/* The fitter's warnings, and the analysis's about the law (a failed bootstrap, a FLOPs
 * convention other than the one the joint optimum assumes, optima at a bound). */
static void fit_warnings(cs_nb *nb, const cs_analyze_result *r)
{
    const cs_analyze_law *lw = &r->law;
    size_t i;

    if (lw->fit->nwarnings == 0)
        cs_nb_md(nb, "The fitter raised no warning.\n\n");
    else
        cs_nb_md(nb, "The fitter warned:\n\n");
    for (i = 0; i < lw->fit->nwarnings; i++) {
        cs_nb_md(nb, "- ");
        cs_nb_text(nb, lw->fit->warnings[i]);
        cs_nb_md(nb, "\n");
    }
    for (i = 0; i < r->nwarnings; i++)
        if (strncmp(r->warnings[i], "law ", 4) == 0 && strncmp(r->warnings[i], "law fit: ", 9)) {
            cs_nb_md(nb, "- ");
            cs_nb_text(nb, r->warnings[i]);
            cs_nb_md(nb, "\n");
        }
    cs_nb_md(nb, "\n");
}

/* ---- The law against the observations ---------------------------------------------------------
 *
 * One point per run: the observed final best-context loss (x) against the law's prediction (y),
 * with the 90% prediction interval of fit/predict.h (bootstrap refits for the parameters plus
 * the residual noise). Points on the diagonal are fitted well; this is in-sample, so it shows
 * the fit's quality, not its power to extrapolate.
 */
static int fit_points(cs_plot *p, const cs_analyze_law *lw, const cs_predictor *pr, double *lo,
                      double *hi)
{
    const double *const *cols = cs_dataset_cols(lw->ds);
    const double *y = cs_dataset_target(lw->ds);
    size_t i, j, s, nv = cs_dataset_nvars(lw->ds);
    double vars[8], lev = 0.9, row[4];
    cs_prediction pd;
    int st;

    if ((st = cs_plot_add_series(p, 0, CS_PLOT_ERRORBARS, "runs: predicted, 90% interval", NULL,
                                 &s)))
        return st;
    for (i = 0; i < cs_dataset_n(lw->ds); i++) {
        for (j = 0; j < nv && j < 8; j++)
            vars[j] = cols[j][i];
        if ((st = cs_predictor_eval(pr, vars, &lev, 1, &pd)))
            return st;
        row[0] = y[i];
        row[1] = pd.value;
        row[2] = pd.lo[0];
        row[3] = pd.hi[0];
        *lo = fmin(*lo, fmin(y[i], pd.lo[0]));
        *hi = fmax(*hi, fmax(y[i], pd.hi[0]));
        if ((st = cs_plot_add_row(p, s, row)))
            return st;
    }
    return CS_OK;
}

static int fit_figure(cs_nb *nb, const cs_analyze_result *r)
{
    const cs_analyze_law *lw = &r->law;
    cs_predictor *pr = cs_predictor_from_fit(lw->law, lw->fit, lw->boot);
    cs_plot *p = cs_plot_alloc("ndt_fit");
    cs_plot_look look = cs_plot_default_look();
    double lo = INFINITY, hi = -INFINITY;
    char label[64];
    size_t s;
    int st;

    if (!pr || !p) {
        st = cs_fail(CS_ENOMEM, "out of memory");
        goto out_free;
    }
    snprintf(label, sizeof label, "loss (%s)", cs_analyze_unit(r));
    look.rgb = 0x606060;
    look.dash = CS_PLOT_DASHED;
    if ((st = cs_plot_set_title(p, "The ndt law against the runs it was fitted to")) ||
        (st = cs_plot_set_axis(p, 0, 'x', "observed final best-context loss", false)) ||
        (st = cs_plot_set_axis(p, 0, 'y', label, false)) ||
        (st = cs_plot_set_key(p, 0, CS_PLOT_KEY_TOP_LEFT)) ||
        (st = fit_points(p, lw, pr, &lo, &hi)) ||
        (st = cs_plot_add_series(p, 0, CS_PLOT_LINES, "predicted = observed", &look, &s)) ||
        (st = cs_plot_add_xy(p, s, lo, lo)) || (st = cs_plot_add_xy(p, s, hi, hi)) ||
        (st = cs_plot_add_note(p, "ndt law fitted to %zu finished runs; %zu bootstrap refits",
                               lw->fit->n_points, lw->boot ? lw->boot->n : (size_t)0)) ||
        (st = cs_plot_add_note(p, "in-sample: the runs the law was fitted to")))
        goto out_free;
    st = cs_nb_plot(nb, p,
                    "Each run's observed final best-context loss against the law's prediction, "
                    "with the 90% prediction interval; dashed: perfect agreement.");
out_free:
    cs_plot_free(p);
    cs_predictor_free(pr);
    return st;
}

/* ---- The optimal-context table ----------------------------------------------------------------
 *
 * Per analysed budget: the empirical optimum of the joint U-curve (the lowest loss over model
 * sizes at each context; its status says whether it is an interior minimum), and the law's joint
 * optimum over N and T with its band, N*, D* and predicted loss. An optimum on the edge of the
 * law's search range is marked: the law says "beyond", not "here".
 */
static const cs_analyze_law_row *law_joint(const cs_analyze_result *r, size_t budget)
{
    size_t i;

    for (i = 0; r->law.fitted && i < r->law.nrows; i++)
        if (r->law.rows[i].budget == budget && r->law.rows[i].model == SIZE_MAX)
            return &r->law.rows[i];
    return NULL;
}

static void band(char *buf, double lo, double hi)
{
    char a[32], b[32];

    if (isfinite(lo) && isfinite(hi))
        snprintf(buf, 80, "%s..%s", cs_nb_num(a, lo, 3), cs_nb_num(b, hi, 3));
    else
        snprintf(buf, 80, "none");
}

static void optimum_row(cs_nb *nb, const cs_analyze_result *r, const cs_analyze_joint *j)
{
    const cs_analyze_law_row *lr = law_joint(r, j->budget);
    char b[6][32], bd[2][80];

    band(bd[0], j->profile.x_lo, j->profile.x_hi);
    cs_nb_tr(nb);
    cs_nb_td(nb, true, "%s", cs_nb_num(b[0], r->budgets[j->budget].C, 3));
    cs_nb_td(nb, true, "%s", cs_nb_num(b[1], j->profile.x_opt, 3));
    cs_nb_td(nb, true, "%s", bd[0]);
    cs_nb_td(nb, false, "%s",
             j->profile.status == CS_UCURVE_OK ? "interior minimum" : "no interior minimum");
    if (!lr) {
        cs_nb_td(nb, false, "no law");
        cs_nb_td(nb, true, "%s", "");
        cs_nb_td(nb, true, "%s", "");
        cs_nb_td(nb, true, "%s", "");
        cs_nb_td(nb, false, "%s", "");
    } else {
        band(bd[1], lr->T_lo, lr->T_hi);
        cs_nb_td(nb, true, "%s (%s)", cs_nb_num(b[2], lr->T, 3), bd[1]);
        cs_nb_td(nb, true, "%s", cs_nb_num(b[3], lr->N, 3));
        cs_nb_td(nb, true, "%s", cs_nb_num(b[4], lr->D, 3));
        cs_nb_td(nb, true, "%s", cs_nb_num(b[5], lr->L, 4));
        cs_nb_td(nb, false, "%s", lr->at_bound ? "<strong>on the search bound</strong>" : "inside");
    }
    cs_nb_tr_end(nb);
}

static void optimal_table(cs_nb *nb, const cs_analyze_result *r)
{
    static const char *const head[] = {"budget C (FLOPs)#", "empirical T*#",  "band#",
                                       "empirical verdict", "law T* (band)#", "law N*#",
                                       "law D* (tokens)#",  "law loss#",      "law optimum"};
    size_t i, nbound = 0, nlaw = 0;

    char lo[32], hi[32];

    cs_nb_md(nb, "### The optimal-context table\n\nPer budget, the empirical optimum of the "
                 "joint U-curve (lowest loss over the model sizes at each context) and the "
                 "law's joint optimum over N and T");
    if (r->law.fitted)
        cs_nb_md(nb, ", searched for T in %s..%s tokens", cs_nb_num(lo, r->law.T_lo, 4),
                 cs_nb_num(hi, r->law.T_hi, 4));
    cs_nb_md(nb, ".\n");
    cs_nb_table(nb, head, 9);
    for (i = 0; i < r->njoints; i++) {
        const cs_analyze_law_row *lr = law_joint(r, r->joints[i].budget);

        optimum_row(nb, r, &r->joints[i]);
        nlaw += lr != NULL;
        nbound += lr && lr->at_bound;
    }
    cs_nb_table_end(nb);
    if (nlaw > 0 && nbound > 0)
        cs_nb_md(nb,
                 "At %zu of %zu budgets the law's optimum lies on the bound of its search "
                 "range: the law points beyond the contexts or sizes it was fitted on, which "
                 "is an extrapolation these runs do not support.\n\n",
                 nbound, nlaw);
    else if (nlaw > 0)
        cs_nb_md(nb, "Every optimum of the law lies inside its search range.\n\n");
}

/* ---- The section ---------------------------------------------------------------------------- */

static int write_section(cs_nb *nb, const cs_analyze_result *r, const args *a)
{
    const cs_analyze_law *lw = &r->law;
    int st = CS_OK;

    cs_nb_md(nb, "<a id=\"laws\"></a>\n\n## The fitted law and the optimal-context table\n\n");
    cs_nb_md(nb, "The `ndt` law L = E + A/N^α + B/D^β + G/T^γ (docs/laws.md) fitted to the "
                 "final best-context loss of every finished run in ");
    cs_nb_name(nb, a->runs);
    cs_nb_md(nb, " (losses in %s).\n\n", cs_analyze_unit(r));
    if (!lw->fitted) {
        cs_nb_md(nb, "**The law was not fitted.** The analysis says: ");
        cs_nb_text(nb, lw->message);
        cs_nb_md(nb, ". The table below gives the empirical optima only.\n\n");
    } else {
        if (law_doubtful(lw))
            cs_nb_md(nb, "**The law is not determined by these runs** (the fitter's warnings "
                         "are listed below). Its parameters, and the optima it gives, are not "
                         "findings at this scale; narrow intervals do not say otherwise, since "
                         "every bootstrap refit starts from the estimate and stays near it. More "
                         "runs, spanning more model sizes, tokens and contexts, are needed.\n\n");
        params_table(nb, lw);
        fit_warnings(nb, r);
        st = fit_figure(nb, r);
        if (st != CS_OK && st != CS_ENOMEM && st != CS_EIO && st != CS_EINVAL) {
            /* A degenerate fit (say b = 835, beta = 68: exp(b) overflows although B/D^beta
             * would not) cannot be drawn; the report says so and goes on to the table. */
            cs_nb_md(nb, "**The fitted law cannot be evaluated at the runs** (");
            cs_nb_text(nb, cs_errmsg());
            cs_nb_md(nb, "), so it is not drawn against them: the fit is degenerate at this "
                         "scale and its optima below are not findings.\n\n");
            st = CS_OK;
        }
    }
    if (st == CS_OK)
        optimal_table(nb, r);
    return st;
}

int main(int argc, char **argv)
{
    static const char *const figs[] = {"ndt_fit"};
    args a = {.an = cs_nb_analysis_default()};
    cs_analyze_result *r = NULL;
    double *budgets = NULL;
    cs_nb nb = {0};
    int rc = cs_nb_parse(&cmd, argc, argv, take, &a), st;

    if (rc >= 0)
        return rc;
    if (!a.runs || !a.out)
        return cs_nb_usage(&cmd, "--runs DIR and --out DIR are required");
    if ((st = analyze(&a, &budgets, &r)) || (st = cs_nb_open(&nb, a.out, "laws", figs, 1, a.force)))
        goto out_free;
    if ((st = write_section(&nb, r, &a)))
        cs_nb_abort(&nb);
    else
        st = cs_nb_commit(&nb);
out_free:
    free(budgets);
    cs_analyze_result_free(r);
    return cs_nb_report(&cmd, st);
}
