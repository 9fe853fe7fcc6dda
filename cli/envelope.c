/* cli/envelope.c: `ctxscale envelope RUNS` — Chinchilla's Approach 1 (analysis/envelope.h) on
 * training trajectories from a directory of run logs or a CSV with a run column: the lowest loss
 * per FLOPs value, the runs on it, N_opt = k C^a and D_opt = k C^b with bootstrap intervals; a
 * table for people on stdout, --json for programs. Test: tests/cli/test_alloc.sh. */
#include "analysis/envelope.h"
#include "cli/cli.h"
#include "cli/opt.h"
#include "cli/points_opts.h"
#include "cli/shared_opts.h"
#include "core/csv.h"
#include "core/error.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_GRID = 256,
    OPT_RANGE,
    OPT_MIN_COVER,
    OPT_BOOT,
    OPT_SEED,
    OPT_LEVEL,
};

static const cs_cli_opt envelope_opts[] = {
    CS_CLI_OPT_MAP("read N, C, D, L or run from column COL; run=A,B joins columns (repeatable)"),
    CS_CLI_OPT_DERIVE("compute N, C, D or L per row, e.g. C=6*N*D (repeatable)"),
    CS_CLI_OPT_WHERE_ROWS,
    {"grid", OPT_GRID, required_argument, "K", "log-spaced FLOPs grid points (default 200)"},
    {"range", OPT_RANGE, required_argument, "LO:HI", "grid range in FLOPs (default: the data's)"},
    {"min-cover", OPT_MIN_COVER, required_argument, "K",
     "use grid values reached by at least K runs (default 2)"},
    {"boot", OPT_BOOT, required_argument, "N", "bootstrap replicates over runs (default 1000)"},
    {"seed", OPT_SEED, required_argument, "S", "bootstrap seed (default 1)"},
    {"level", OPT_LEVEL, required_argument, "P", "confidence level (default 0.95)"},
    {"json", 'j', required_argument, "FILE", "also write the result as JSON (- for stdout)"},
    {"force", 'f', no_argument, NULL, "overwrite the JSON file if it exists"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd envelope_cmd = {
    "envelope",
    "[OPTIONS] RUNS_DIR | FILE.csv",
    "Chinchilla's Approach 1: interpolate every run's loss on a log-spaced FLOPs grid, take the\n"
    "lowest loss over runs at each value, and fit N_opt = k C^a, D_opt = k C^b along it.",
    envelope_opts,
    "A directory is read as run logs (*.h5): N from the config, C, D, L from the eval rows\n"
    "(columns N, C, D, L, loss_val_best, loss_val_bpb, run). A CSV needs a run column (--map\n"
    "run=COL). Losses may be negative. Intervals: percentile bootstrap over runs; s.e.: the\n"
    "regression's, which treats grid values as independent and so understates the error.\n"
    "Example: ctxscale envelope exp_data.csv --map run=Non_vocab_parameters,vocab_size \\\n"
    "           --map N=Non_vocab_parameters --map C=FLOPs --map L=Lossu\n",
};

typedef struct env_args {
    cs_cli_points_opts pts;
    const char *json;
    bool force;
    cs_envelope_params p;
} env_args;

/* One option into *a (an env_args). CS_OK or a status (message recorded). */
static int take_opt(int c, const char *arg, void *ctx)
{
    env_args *a = ctx;
    int st;

    switch (c) {
    case OPT_GRID:
        st = cs_cli_parse_size(arg, &a->p.ngrid, "--grid");
        if (st == CS_OK && a->p.ngrid < 2)
            st = cs_fail(CS_EINPUT, "--grid: expected at least 2 points, got %s", arg);
        return st;
    case OPT_RANGE: return cs_cli_parse_range(arg, "--range", true, &a->p.C_lo, &a->p.C_hi);
    case OPT_MIN_COVER:
        st = cs_cli_parse_size(arg, &a->p.min_cover, "--min-cover");
        if (st == CS_OK && a->p.min_cover < 1)
            st = cs_fail(CS_EINPUT, "--min-cover: expected at least 1");
        return st;
    case OPT_BOOT: return cs_cli_parse_size(arg, &a->p.nboot, "--boot");
    case OPT_SEED: return cs_cli_parse_seed(arg, &a->p.seed, "--seed");
    case OPT_LEVEL: return cs_cli_parse_fraction(arg, &a->p.level, "--level");
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    }
    return cs_cli_points_take(&a->pts, c, arg);
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, env_args *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    a->p = cs_envelope_default_params();
    if ((rc = cs_cli_parse_opts(&envelope_cmd, argc, argv, take_opt, a)) >= 0)
        return rc;
    if (optind + 1 != argc)
        return cs_cli_usage_error(&envelope_cmd, "expected one run directory or CSV file, got %d",
                                  argc - optind);
    return -1;
}

// ---- output --------------------------------------------------------------------------------

static json_t *power_json(const cs_isoflop_power *pw)
{
    return json_pack("{s:o, s:o, s:o, s:[o, o], s:I}", "exponent", cs_cli_json_num(pw->a),
                     "coefficient", cs_cli_json_num(pw->k), "se", cs_cli_json_num(pw->a_se), "ci",
                     cs_cli_json_num(pw->a_lo), cs_cli_json_num(pw->a_hi), "n", (json_int_t)pw->n);
}

static json_t *grid_json(const cs_envelope_result *r, const cs_isoflop_points *pts)
{
    json_t *grid = json_array();
    size_t g;

    for (g = 0; g < r->ngrid; g++) {
        bool on = r->run[g] != SIZE_MAX;
        json_array_append_new(
            grid, json_pack("{s:o, s:o, s:o, s:o, s:o}", "C", cs_cli_json_num(r->C[g]), "L",
                            cs_cli_json_num(r->L[g]), "run",
                            on ? json_string(pts->run_names[r->run[g]]) : json_null(), "N",
                            cs_cli_json_num(r->N[g]), "D", cs_cli_json_num(r->D[g])));
    }
    return grid;
}

static json_t *result_json(const cs_envelope_result *r, const cs_isoflop_points *pts,
                           const char *source, const env_args *a)
{
    json_t *segs = json_array();
    size_t s;

    for (s = 0; s < r->nsegments; s++) {
        const cs_envelope_segment *S = &r->segments[s];
        json_array_append_new(segs,
                              json_pack("{s:s, s:o, s:[o, o], s:[o, o]}", "run",
                                        pts->run_names[S->run], "N", cs_cli_json_num(S->N), "C",
                                        cs_cli_json_num(S->C_lo), cs_cli_json_num(S->C_hi), "L",
                                        cs_cli_json_num(S->L_lo), cs_cli_json_num(S->L_hi)));
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I}, s:o, s:o, "
                     "s:o, s:o}",
                     "command", "envelope", "source", source, "points", (json_int_t)pts->n, "runs",
                     (json_int_t)r->nruns, "runs_skipped", (json_int_t)r->nruns_skipped,
                     "min_cover", (json_int_t)a->p.min_cover, "grid_covered",
                     (json_int_t)r->ncovered, "level", cs_cli_json_num(r->level), "bootstrap",
                     "replicates", (json_int_t)r->nboot, "ok", (json_int_t)r->nboot_ok, "seed",
                     (json_int_t)a->p.seed, "segments", segs, "grid", grid_json(r, pts), "N_opt",
                     power_json(&r->N_fit), "D_opt", power_json(&r->D_fit));
}

static void print_power(const char *what, const char *sym, const cs_isoflop_power *pw, double level)
{
    printf("%s = k C^%s: %s = %.4f", what, sym, sym, pw->a);
    if (isfinite(pw->a_lo))
        printf(" (%g%% CI %.4f .. %.4f)", 100.0 * level, pw->a_lo, pw->a_hi);
    printf(", s.e. %.4f, k = %.4g, over %zu grid values\n", pw->a_se, pw->k, pw->n);
}

static void print_result(const cs_envelope_result *r, const cs_isoflop_points *pts,
                         const char *source)
{
    size_t s;

    printf("%s: %zu points in %zu runs (%zu with fewer than 2 points skipped); %zu of %zu grid "
           "values on the envelope\n\n",
           source, pts->n, r->nruns, r->nruns_skipped, r->ncovered, r->ngrid);
    printf("%-30s %-10s %-21s %s\n", "run on the envelope", "N", "C from..to", "loss from..to");
    for (s = 0; s < r->nsegments; s++) {
        const cs_envelope_segment *S = &r->segments[s];
        char cr[48];
        snprintf(cr, sizeof cr, "%.3g..%.3g", S->C_lo, S->C_hi);
        printf("%-30.30s %-10.4g %-21s %.4g..%.4g\n", pts->run_names[S->run], S->N, cr, S->L_lo,
               S->L_hi);
    }
    printf("\n");
    print_power("N_opt", "a", &r->N_fit, r->level);
    print_power("D_opt", "b", &r->D_fit, r->level);
    if (r->nboot > 0)
        printf("bootstrap over runs: %zu of %zu replicates usable\n", r->nboot_ok, r->nboot);
}

// ---- the command ---------------------------------------------------------------------------

/* A directory is read as run logs, anything else as CSV. */
static int read_input(const char *path, cs_table **t)
{
    if (cs_cli_is_runs_dir(path))
        return cs_envelope_read_runlogs(path, t);
    return cs_csv_read(path, NULL, t);
}

static int run(const char *path, env_args *a)
{
    cs_isoflop_select sel = cs_cli_points_select(&a->pts, true);
    cs_table *t = NULL;
    cs_isoflop_points *pts = NULL;
    cs_envelope_result *r = NULL;
    int st;

    if ((st = read_input(path, &t)) || (st = cs_isoflop_points_read(t, &sel, &pts)))
        goto out_free;
    if ((st = cs_envelope_run(pts->run, pts->nruns, pts->C, pts->N, pts->D, pts->L, pts->n, &a->p,
                              &r)))
        goto out_free;
    if (r->nruns_skipped > 0)
        fprintf(stderr,
                "ctxscale envelope: warning: %zu run%s with fewer than 2 points skipped "
                "(is the run column right?)\n",
                r->nruns_skipped, r->nruns_skipped == 1 ? "" : "s");
    if (!a->json || strcmp(a->json, "-") != 0)
        print_result(r, pts, cs_table_source(t));
    if (a->json)
        st = cs_cli_write_json(result_json(r, pts, cs_table_source(t), a), a->json, a->force);
out_free:
    cs_envelope_result_free(r);
    cs_isoflop_points_free(pts);
    cs_table_free(t);
    return st;
}

int cs_cli_envelope(int argc, char **argv)
{
    env_args a;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    return cs_cli_report(&envelope_cmd, run(argv[optind], &a));
}
