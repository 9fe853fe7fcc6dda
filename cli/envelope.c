/* cli/envelope.c: `ctxscale envelope RUNS` — Chinchilla's Approach 1 (analysis/envelope.h) on
 * training trajectories from a directory of run logs or a CSV with a run column: the lowest loss
 * per FLOPs value, the runs on it, N_opt = k C^a and D_opt = k C^b with bootstrap intervals; a
 * table for people on stdout, --json for programs. Test: tests/cli/test_alloc.sh. */
#include "analysis/envelope.h"
#include "cli/cli.h"
#include "cli/opt.h"
#include "core/afile.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/parse.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    OPT_DERIVE = 256,
    OPT_WHERE,
    OPT_GRID,
    OPT_RANGE,
    OPT_MIN_COVER,
    OPT_BOOT,
    OPT_SEED,
    OPT_LEVEL,
};

static const cs_cli_opt envelope_opts[] = {
    {"map", 'm', required_argument, "NAME=COL",
     "read N, C, D, L or run from column COL; run=A,B joins columns (repeatable)"},
    {"derive", OPT_DERIVE, required_argument, "NAME=EXPR",
     "compute N, C, D or L per row, e.g. C=6*N*D (repeatable)"},
    {"where", OPT_WHERE, required_argument, "'COL OP V'", "keep rows where it holds (repeatable)"},
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

#define MAX_LIST 64

typedef struct env_args {
    const char *maps[MAX_LIST], *derives[MAX_LIST], *wheres[MAX_LIST];
    size_t nmaps, nderives, nwheres;
    const char *json;
    bool force;
    cs_envelope_params p;
} env_args;

static int parse_size(const char *s, size_t *out, const char *what)
{
    long v;
    int st = cs_parse_long(s, &v, what);

    if (st == CS_OK && v < 0)
        st = cs_fail(CS_EINPUT, "%s: expected a number >= 0, got %ld", what, v);
    if (st == CS_OK)
        *out = (size_t)v;
    return st;
}

static int parse_range(const char *s, double *lo, double *hi)
{
    const char *colon = strchr(s, ':');
    char a[64];
    int st;

    if (!colon || (size_t)(colon - s) >= sizeof a)
        return cs_fail(CS_EINPUT, "--range: expected LO:HI, got \"%s\"", s);
    snprintf(a, sizeof a, "%.*s", (int)(colon - s), s);
    if ((st = cs_parse_double_ex(a, lo, CS_PARSE_POSITIVE, "--range")) ||
        (st = cs_parse_double_ex(colon + 1, hi, CS_PARSE_POSITIVE, "--range")))
        return st;
    if (!(*hi > *lo))
        return cs_fail(CS_EINPUT, "--range: expected LO < HI, got \"%s\"", s);
    return CS_OK;
}

static int take_opt(int c, const char *arg, env_args *a)
{
    long seed;
    int st;

    switch (c) {
    case OPT_GRID:
        st = parse_size(arg, &a->p.ngrid, "--grid");
        if (st == CS_OK && a->p.ngrid < 2)
            st = cs_fail(CS_EINPUT, "--grid: expected at least 2 points, got %s", arg);
        return st;
    case OPT_RANGE: return parse_range(arg, &a->p.C_lo, &a->p.C_hi);
    case OPT_MIN_COVER:
        st = parse_size(arg, &a->p.min_cover, "--min-cover");
        if (st == CS_OK && a->p.min_cover < 1)
            st = cs_fail(CS_EINPUT, "--min-cover: expected at least 1");
        return st;
    case OPT_BOOT: return parse_size(arg, &a->p.nboot, "--boot");
    case OPT_SEED:
        if ((st = cs_parse_long(arg, &seed, "--seed")) == CS_OK)
            a->p.seed = (uint64_t)seed;
        return st;
    case OPT_LEVEL:
        st = cs_parse_double(arg, &a->p.level, "--level");
        if (st == CS_OK && !(a->p.level > 0.0 && a->p.level < 1.0))
            st = cs_fail(CS_EINPUT, "--level: expected a number between 0 and 1, got %s", arg);
        return st;
    case 'j': a->json = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    }
    return CS_OK;
}

static int push(const char **list, size_t *n, const char *arg, const char *opt)
{
    if (*n == MAX_LIST)
        return cs_cli_usage_error(&envelope_cmd, "--%s: at most %d times", opt, MAX_LIST);
    list[(*n)++] = arg;
    return 0;
}

/* Parses argv into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, env_args *a)
{
    cs_cli_parser ps;
    int c, rc = 0;

    memset(a, 0, sizeof *a);
    a->p = cs_envelope_default_params();
    cs_cli_parser_init(&ps, &envelope_cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1 && rc == 0) {
        if (c == '?')
            return 2;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(&envelope_cmd, stdout);
            return 0;
        }
        if (c == 'm')
            rc = push(a->maps, &a->nmaps, optarg, "map");
        else if (c == OPT_DERIVE)
            rc = push(a->derives, &a->nderives, optarg, "derive");
        else if (c == OPT_WHERE)
            rc = push(a->wheres, &a->nwheres, optarg, "where");
        else if (take_opt(c, optarg, a) != CS_OK)
            return cs_cli_usage_error(&envelope_cmd, "%s", cs_errmsg());
    }
    if (rc)
        return rc;
    if (optind + 1 != argc)
        return cs_cli_usage_error(&envelope_cmd, "expected one run directory or CSV file, got %d",
                                  argc - optind);
    return -1;
}

// ---- output --------------------------------------------------------------------------------

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *power_json(const cs_isoflop_power *pw)
{
    return json_pack("{s:o, s:o, s:o, s:[o, o], s:I}", "exponent", num(pw->a), "coefficient",
                     num(pw->k), "se", num(pw->a_se), "ci", num(pw->a_lo), num(pw->a_hi), "n",
                     (json_int_t)pw->n);
}

static json_t *grid_json(const cs_envelope_result *r, const cs_isoflop_points *pts)
{
    json_t *grid = json_array();
    size_t g;

    for (g = 0; g < r->ngrid; g++) {
        bool on = r->run[g] != SIZE_MAX;
        json_array_append_new(
            grid, json_pack("{s:o, s:o, s:o, s:o, s:o}", "C", num(r->C[g]), "L", num(r->L[g]),
                            "run", on ? json_string(pts->run_names[r->run[g]]) : json_null(), "N",
                            num(r->N[g]), "D", num(r->D[g])));
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
                                        pts->run_names[S->run], "N", num(S->N), "C", num(S->C_lo),
                                        num(S->C_hi), "L", num(S->L_lo), num(S->L_hi)));
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I}, s:o, s:o, "
                     "s:o, s:o}",
                     "command", "envelope", "source", source, "points", (json_int_t)pts->n, "runs",
                     (json_int_t)r->nruns, "runs_skipped", (json_int_t)r->nruns_skipped,
                     "min_cover", (json_int_t)a->p.min_cover, "grid_covered",
                     (json_int_t)r->ncovered, "level", num(r->level), "bootstrap", "replicates",
                     (json_int_t)r->nboot, "ok", (json_int_t)r->nboot_ok, "seed",
                     (json_int_t)a->p.seed, "segments", segs, "grid", grid_json(r, pts), "N_opt",
                     power_json(&r->N_fit), "D_opt", power_json(&r->D_fit));
}

static int write_json(json_t *doc, const char *path, bool force)
{
    cs_afile *af = NULL;
    int st;

    if (!doc)
        return cs_fail(CS_ENOMEM, "out of memory building the JSON output");
    if ((st = cs_afile_open(path, force, &af)))
        return st;
    if (json_dumpf(doc, cs_afile_stream(af), JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 ||
        fputc('\n', cs_afile_stream(af)) == EOF) {
        cs_afile_abort(af);
        return cs_fail(CS_EIO, "%s: write failed", path);
    }
    return cs_afile_commit(af);
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
    struct stat sb;

    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return cs_envelope_read_runlogs(path, t);
    return cs_csv_read(path, NULL, t);
}

static int run(const char *path, env_args *a)
{
    cs_isoflop_select sel = {a->maps,   a->nmaps,   a->derives, a->nderives,
                             a->wheres, a->nwheres, true};
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
    if (a->json) {
        json_t *doc = result_json(r, pts, cs_table_source(t), a);
        st = write_json(doc, a->json, a->force);
        json_decref(doc);
    }
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
