/* cli/runs.c: `ctxscale runs list|show|export|import`: listing run logs (the HDF5 files of
 * docs/runlog.md), showing one in full, and exporting their steps, eval rows, contextwise loss
 * or one summary row per run as CSV with exact numbers; `runs import` (CSV -> run logs) is in
 * cli/runs_import.c. The reference is the "ctxscale runs" section of docs/cli.md.
 * Test: tests/cli/test_runs.sh (data in tests/data/runs/).
 */
#include "cli/cli.h"
#include "cli/opt.h"
#include "cli/runs.h"
#include "cli/shared_opts.h"
#include "core/afile.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/parse.h"
#include "core/runlog.h"
#include "core/runlog_read.h"
#include "core/table.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_DIR "runs"

// ---- small helpers -------------------------------------------------------------------------

/* Writes s with control characters as \xNN, so that names and strings read from files cannot
 * drive the terminal. */
static void put_safe(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

/* A copy of s with control characters replaced by '?' (for aligned columns). */
static char *safe_copy(const char *s)
{
    char *d = strdup(s);
    char *p;

    for (p = d; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return d;
}

/* Exact text of a number (cs_csv_format_double; NaN gives `missing`). */
static const char *fmt_exact(char buf[32], double v, const char *missing)
{
    if (isnan(v))
        return missing;
    cs_csv_format_double(buf, v);
    return buf;
}

/* Text of a config value: integers exactly, doubles through cs_csv_format_double (NaN: ""). */
static const char *fmt_kv(char buf[32], const cs_runlog_kv *kv)
{
    if (kv->type == CS_RUNLOG_STR)
        return kv->s ? kv->s : "";
    if (kv->type == CS_RUNLOG_INT) {
        snprintf(buf, 32, "%" PRId64, kv->i);
        return buf;
    }
    return fmt_exact(buf, kv->d, "");
}

// ---- the run logs named on the command line -------------------------------------------------

typedef struct runfile {
    char *path; /* as opened: a FILE argument, or "DIR/name.h5" from a DIR argument */
    char *run;  /* value of the `run` column: path relative to DIR (or as given), minus .h5 */
} runfile;

typedef struct runset {
    runfile *f; /* (n) */
    size_t n;
    size_t cap;
} runset;

static void runset_free(runset *rs)
{
    size_t i;

    for (i = 0; i < rs->n; i++) {
        free(rs->f[i].path);
        free(rs->f[i].run);
    }
    free(rs->f);
    rs->f = NULL;
    rs->n = rs->cap = 0;
}

/* The run id of `path`: path + skip with a final ".h5" removed. */
static char *run_id(const char *path, size_t skip)
{
    char *id = strdup(path + skip);
    size_t n = id ? strlen(id) : 0;

    if (n > 3 && strcmp(id + n - 3, ".h5") == 0)
        id[n - 3] = '\0';
    return id;
}

static int runset_add(runset *rs, const char *path, size_t skip)
{
    runfile *f;

    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 16;

        f = realloc(rs->f, cap * sizeof *f);
        if (!f)
            return cs_fail(CS_ENOMEM, "out of memory listing run logs");
        rs->f = f;
        rs->cap = cap;
    }
    f = &rs->f[rs->n];
    f->path = strdup(path);
    f->run = run_id(path, skip);
    if (!f->path || !f->run) {
        free(f->path);
        free(f->run);
        return cs_fail(CS_ENOMEM, "out of memory listing run logs");
    }
    rs->n++;
    return CS_OK;
}

/* Adds the run logs of directory `dir` (cs_runlog_read_list), their ids relative to dir. */
static int add_dir(runset *rs, const char *dir)
{
    char **paths = NULL;
    size_t n = 0;
    size_t i;
    size_t skip = strlen(dir);
    int st = cs_runlog_read_list(dir, &paths, &n);

    while (skip > 1 && dir[skip - 1] == '/')
        skip--; /* the list names files "dir/name" with dir's trailing slashes removed */
    skip++;
    for (i = 0; i < n && st == CS_OK; i++)
        st = runset_add(rs, paths[i], skip);
    cs_runlog_read_list_free(paths, n);
    return st;
}

static int cmp_run(const void *a, const void *b)
{
    return strcmp(((const runfile *)a)->run, ((const runfile *)b)->run);
}

/* When two logs got the same run id (DIR arguments with the same file names), every id becomes
 * the full path minus .h5; the same file given twice stays an error. */
static int make_ids_unique(runset *rs)
{
    size_t i;
    bool dup = false;

    qsort(rs->f, rs->n, sizeof *rs->f, cmp_run);
    for (i = 1; i < rs->n; i++)
        dup = dup || strcmp(rs->f[i - 1].run, rs->f[i].run) == 0;
    for (i = 0; dup && i < rs->n; i++) {
        char *id = run_id(rs->f[i].path, 0);

        if (!id)
            return cs_fail(CS_ENOMEM, "out of memory listing run logs");
        free(rs->f[i].run);
        rs->f[i].run = id;
    }
    qsort(rs->f, rs->n, sizeof *rs->f, cmp_run);
    for (i = 1; i < rs->n; i++)
        if (strcmp(rs->f[i - 1].run, rs->f[i].run) == 0)
            return cs_fail(CS_EINPUT, "%s and %s: the same run log given twice", rs->f[i - 1].path,
                           rs->f[i].path);
    return CS_OK;
}

/* The run logs named by args[0..nargs) (directories are searched, files taken as they are;
 * none: DEFAULT_DIR), sorted by run id. CS_EINPUT for a path that does not exist. */
static int collect_runs(int nargs, char **args, runset *rs)
{
    static char *const def[] = {DEFAULT_DIR};
    struct stat sb;
    int i;
    int st = CS_OK;

    if (nargs == 0) {
        nargs = 1;
        args = (char **)def;
    }
    for (i = 0; i < nargs && st == CS_OK; i++) {
        if (stat(args[i], &sb) != 0)
            st = cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO, "%s: %s%s", args[i], strerror(errno),
                         args == def ? " (the default directory; name run logs or a directory)"
                                     : "");
        else if (S_ISDIR(sb.st_mode))
            st = add_dir(rs, args[i]);
        else
            st = runset_add(rs, args[i], 0);
    }
    if (st == CS_OK)
        st = make_ids_unique(rs);
    return st;
}

/* Runs collect_runs for a command, reporting errors; returns the exit code (0 on success). */
static int collect_or_report(const cs_cli_cmd *cmd, int nargs, char **args, runset *rs)
{
    int st = collect_runs(nargs, args, rs);

    if (st)
        runset_free(rs);
    return cs_cli_report(cmd, st);
}

// ---- runs list -----------------------------------------------------------------------------

static const cs_cli_opt list_opts[] = {
    {"csv", 'c', no_argument, NULL, "print CSV with exact numbers instead of aligned columns"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd list_cmd = {
    "runs list",
    "[DIR|FILE...]",
    "List run logs, one line per run: path, status, committed steps, last step, tokens, N, T, V,\n"
    "last training loss and last validation loss.",
    list_opts,
    "DIR (default: runs/) is searched for *.h5 files, directly and one level down. Columns:\n"
    "  path        the run log\n"
    "  status      running, finished, diverged, failed, or error (unreadable; the reason is\n"
    "              printed on standard error)\n"
    "  steps       committed rows of steps/       last_step   step of the last row\n"
    "  tokens      tokens seen at the last row    N           config n_params_nonembed\n"
    "  T           config context (tokens)        V           config vocab\n"
    "  loss_train  last steps row, nats/token     loss_val    last eval row, nats/token\n"
    "A missing value prints as '-' (empty in CSV). With --csv the header is\n"
    "path,status,n_steps,step,tokens,n_params_nonembed,context,vocab,loss_train,loss_val.\n"
    "Unreadable files are listed and reported, and the exit status is then 2 (1 when a file\n"
    "could not be read at all, e.g. permissions); the other runs are still listed.\n",
};

/* Summary fields list shows after path and status, with their text-mode headers. */
static const char *const list_nums[] = {"n_steps", "step",  "tokens",     "n_params_nonembed",
                                        "context", "vocab", "loss_train", "loss_val"};
static const char *const list_heads[] = {"path", "status", "steps", "last_step",  "tokens",
                                         "N",    "T",      "V",     "loss_train", "loss_val"};
#define LIST_NNUM (sizeof list_nums / sizeof list_nums[0])

static int list_table(cs_table **out)
{
    cs_table *t = cs_table_alloc("run list");
    size_t i;
    int st;

    if (!t)
        return CS_ENOMEM;
    st = cs_table_add_col(t, "path", CS_COL_STR, NULL);
    if (st == CS_OK)
        st = cs_table_add_col(t, "status", CS_COL_STR, NULL);
    for (i = 0; i < LIST_NNUM && st == CS_OK; i++)
        st = cs_table_add_col(t, list_nums[i], CS_COL_NUM, NULL);
    if (st)
        cs_table_free(t);
    *out = st ? NULL : t;
    return st;
}

/* Copies status and list_nums from the one-row summary s into the last row of t. */
static int list_copy(cs_table *t, const cs_table *s)
{
    size_t row = cs_table_nrows(t) - 1;
    long c = cs_table_find(s, "status");
    size_t i;

    for (i = 0; i < LIST_NNUM; i++) {
        long k = cs_table_find(s, list_nums[i]);

        if (k >= 0 && cs_table_col_type(s, (size_t)k) == CS_COL_NUM)
            cs_table_set_num(t, row, 2 + i, cs_table_num(s, 0, (size_t)k));
    }
    return cs_table_set_str(t, row, 1, c >= 0 ? cs_table_str(s, 0, (size_t)c) : "");
}

/* Appends the row of one run log to t; a file that cannot be read gets status "error" and its
 * error is returned (the row stays). */
static int list_one(cs_table *t, const char *path)
{
    cs_runlog_reader *r = NULL;
    cs_table *s = cs_table_alloc(path);
    int st = s ? cs_table_append_row(t, 0) : CS_ENOMEM;

    if (st == CS_OK)
        st = cs_table_set_str(t, cs_table_nrows(t) - 1, 0, path);
    if (st == CS_OK)
        st = cs_runlog_read_open(path, &r);
    if (st == CS_OK)
        st = cs_runlog_read_summary(r, s);
    if (st == CS_OK)
        st = list_copy(t, s);
    else if (cs_table_nrows(t) > 0)
        cs_table_set_str(t, cs_table_nrows(t) - 1, 1, "error");
    cs_runlog_read_close(r);
    cs_table_free(s);
    return st;
}

/* Text of cell (r, c) for the aligned listing (an owned copy; NULL when out of memory). */
static char *list_cell(const cs_table *t, size_t r, size_t c)
{
    char buf[40];
    double v;

    if (cs_table_col_type(t, c) == CS_COL_STR)
        return safe_copy(cs_table_str(t, r, c));
    v = cs_table_num(t, r, c);
    if (isnan(v))
        snprintf(buf, sizeof buf, "-");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, sizeof buf, "%.0f", v);
    else
        snprintf(buf, sizeof buf, "%.5g", v);
    return strdup(buf);
}

/* Prints t as aligned columns under list_heads: text left-aligned, numbers right-aligned. */
static int list_print(const cs_table *t)
{
    size_t nr = cs_table_nrows(t);
    size_t nc = cs_table_ncols(t);
    size_t w[2 + LIST_NNUM];
    char **cells = calloc(nr * nc + 1, sizeof *cells);
    size_t r;
    size_t c;

    if (!cells)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (c = 0; c < nc; c++)
        w[c] = strlen(list_heads[c]);
    for (r = 0; r < nr; r++)
        for (c = 0; c < nc; c++) {
            char *s = list_cell(t, r, c);

            cells[r * nc + c] = s;
            if (s && strlen(s) > w[c])
                w[c] = strlen(s);
        }
    for (r = 0; r <= nr; r++)
        for (c = 0; c < nc; c++) {
            const char *s = r == 0 ? list_heads[c] : cells[(r - 1) * nc + c];

            printf(c < 2 ? "%-*s" : "%*s", (int)w[c], s ? s : "?");
            fputs(c + 1 < nc ? "  " : "\n", stdout);
        }
    for (r = 0; r < nr * nc; r++)
        free(cells[r]);
    free(cells);
    return CS_OK;
}

static int list_run(const runset *rs, bool csv)
{
    cs_table *t = NULL;
    size_t i;
    int worst = 0;
    int st = list_table(&t);

    for (i = 0; i < rs->n && st == CS_OK; i++) {
        int e = list_one(t, rs->f[i].path);

        if (e == CS_ENOMEM)
            st = e;
        else if (e != CS_OK)
            fprintf(stderr, "ctxscale runs list: %s\n", cs_errmsg());
        if (e != CS_OK && cs_exit_code(e) > worst)
            worst = cs_exit_code(e);
    }
    if (st == CS_OK)
        st = csv ? cs_csv_write_table(stdout, t, ',') : list_print(t);
    cs_table_free(t);
    if (st)
        return cs_cli_report(&list_cmd, st);
    if (worst)
        fprintf(stderr, "ctxscale runs list: some run logs could not be read (see above)\n");
    return worst;
}

/* --csv into *ctx (a bool). */
static int list_take(int c, const char *arg, void *ctx)
{
    (void)arg;
    if (c == 'c')
        *(bool *)ctx = true;
    return CS_OK;
}

static int runs_list(int argc, char **argv)
{
    runset rs = {NULL, 0, 0};
    bool csv = false;
    int rc;

    if ((rc = cs_cli_parse_opts(&list_cmd, argc, argv, list_take, &csv)) >= 0)
        return rc;
    rc = collect_or_report(&list_cmd, argc - optind, argv + optind, &rs);
    if (rc)
        return rc;
    if (rs.n == 0 && !csv)
        fprintf(stderr, "ctxscale runs list: no run logs found\n");
    rc = list_run(&rs, csv);
    runset_free(&rs);
    return rc;
}

// ---- runs show -----------------------------------------------------------------------------

static const cs_cli_opt show_opts[] = {
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd show_cmd = {
    "runs show",
    "FILE...",
    "Show a run log in full: root metadata, status and message, every config key with its\n"
    "value (and units for the well-known keys), row counts, the columns of steps/ and eval/\n"
    "with units and their last values, and the contextwise bins with the last eval's loss.",
    show_opts,
    "Numbers are printed exactly (the shortest text that reads back as the same double);\n"
    "'-' is a missing value. Control characters in strings print as \\xNN.\n"
    "Exit status 2 when a FILE is not a readable run log (the others are still shown).\n",
};

static const char *key_units(const char *key)
{
    size_t n;
    size_t i;
    const cs_runlog_key *k = cs_runlog_config_keys(&n);

    for (i = 0; i < n; i++)
        if (strcmp(k[i].name, key) == 0)
            return strcmp(k[i].units, "1") == 0 ? "" : k[i].units;
    return "";
}

static const char *col_units(const cs_runlog_col *cols, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return cols[i].units;
    return "-";
}

static void show_meta(const cs_runlog_reader *r)
{
    static const char *const names[] = {"tool_version", "git_revision", "created_utc",
                                        "resumed_utc"};
    size_t i;

    fputs("path:          ", stdout);
    put_safe(stdout, cs_runlog_read_path(r));
    printf("\nschema:        %s %" PRId64 "\n", CS_RUNLOG_SCHEMA, cs_runlog_read_schema_version(r));
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = cs_runlog_read_meta(r, names[i]);

        if (!v)
            continue;
        printf("%s:%*s", names[i], (int)(14 - strlen(names[i])), "");
        put_safe(stdout, v);
        fputc('\n', stdout);
    }
    printf("status:        %s\nmessage:       ", cs_runlog_status_name(cs_runlog_read_status(r)));
    put_safe(stdout, cs_runlog_read_status_message(r));
    fputc('\n', stdout);
}

static void show_config(const cs_runlog_reader *r)
{
    size_t n = cs_runlog_read_n_config(r);
    size_t i;
    char buf[32];

    printf("\nconfig: %zu key%s\n", n, n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
        const cs_runlog_kv *kv = cs_runlog_read_config(r, i);
        const char *u = key_units(kv->key);

        const char *v = fmt_kv(buf, kv);
        bool str = kv->type == CS_RUNLOG_STR;

        fputs("  ", stdout);
        put_safe(stdout, kv->key);
        fputs(str ? " = \"" : " = ", stdout);
        put_safe(stdout, str || *v ? v : "nan");
        printf("%s%s%s\n", str ? "\"" : "", *u ? " " : "", u);
    }
}

/* One group's columns: name, units, last value. */
static void show_columns(const char *group, const cs_table *t, const cs_runlog_col *cols,
                         size_t ncols)
{
    size_t nr = cs_table_nrows(t);
    size_t c;
    char buf[32];

    printf("\n%s: %zu committed row%s\n", group, nr, nr == 1 ? "" : "s");
    printf("  %-20s %-12s %s\n", "column", "units", nr ? "last value" : "");
    for (c = 0; c < cs_table_ncols(t); c++) {
        const char *name = cs_table_col_name(t, c);

        fputs("  ", stdout);
        put_safe(stdout, name);
        printf("%*s %-12s %s\n", strlen(name) < 20 ? (int)(20 - strlen(name)) : 0, "",
               col_units(cols, ncols, name),
               nr ? fmt_exact(buf, cs_table_num(t, nr - 1, c), "-") : "");
    }
}

static void show_ctxwise(const cs_runlog_ctxwise *cw)
{
    char buf[32];
    size_t b;

    if (cw->n_bins == 0) {
        printf("\ncontextwise: none\n");
        return;
    }
    printf("\ncontextwise: %zu bins over positions 1..%" PRId64 " (training context T = %s)\n",
           cw->n_bins, cw->bin_edges[cw->n_bins] - 1,
           cw->context > 0 ? fmt_exact(buf, (double)cw->context, "-") : "unknown");
    if (cw->n_evals == 0)
        printf("  %-6s %s\n", "bin", "positions");
    else
        printf("  %-6s %-22s loss at step %" PRId64 " (nats/token)\n", "bin", "positions",
               cw->step[cw->n_evals - 1]);
    for (b = 0; b < cw->n_bins; b++) {
        char pos[48];

        snprintf(pos, sizeof pos, "%" PRId64 "..%" PRId64, cw->bin_edges[b],
                 cw->bin_edges[b + 1] - 1);
        printf("  %-6zu %-22s %s\n", b + 1, pos,
               cw->n_evals ? fmt_exact(buf, cw->loss[(cw->n_evals - 1) * cw->n_bins + b], "-")
                           : "");
    }
}

/* CS_EINPUT when `path` does not exist (a user's typo, not an I/O failure). */
static int check_exists(const char *path)
{
    struct stat sb;

    if (stat(path, &sb) != 0 && errno == ENOENT)
        return cs_fail(CS_EINPUT, "%s: no such file", path);
    return CS_OK;
}

static int show_one(const char *path)
{
    cs_runlog_reader *r = NULL;
    cs_table *steps = NULL;
    cs_table *evals = NULL;
    cs_runlog_ctxwise *cw = NULL;
    size_t ns;
    size_t ne;
    const cs_runlog_col *scols = cs_runlog_step_cols(&ns);
    const cs_runlog_col *ecols = cs_runlog_eval_cols(&ne);
    int st = check_exists(path);

    if (st == CS_OK)
        st = cs_runlog_read_open(path, &r);
    if (st == CS_OK)
        st = cs_runlog_read_steps(r, &steps);
    if (st == CS_OK)
        st = cs_runlog_read_evals(r, &evals);
    if (st == CS_OK)
        st = cs_runlog_read_contextwise(r, &cw);
    if (st == CS_OK) {
        show_meta(r);
        show_config(r);
        show_columns("steps", steps, scols, ns);
        show_columns("eval", evals, ecols, ne);
        show_ctxwise(cw);
    }
    cs_runlog_read_ctxwise_free(cw);
    cs_table_free(steps);
    cs_table_free(evals);
    cs_runlog_read_close(r);
    return st;
}

static int runs_show(int argc, char **argv)
{
    int i;
    int worst = cs_cli_parse_opts(&show_cmd, argc, argv, NULL, NULL);

    if (worst >= 0)
        return worst; /* --help or a usage error */
    worst = 0;
    if (optind >= argc)
        return cs_cli_usage_error(&show_cmd, "missing FILE (a run log)");
    for (i = optind; i < argc; i++) {
        int st;

        if (i > optind)
            fputc('\n', stdout);
        fflush(stdout);
        st = show_one(argv[i]);
        if (st) {
            cs_cli_report(&show_cmd, st);
            worst = cs_exit_code(st) > worst ? cs_exit_code(st) : worst;
        }
    }
    return worst;
}

// ---- runs export ---------------------------------------------------------------------------

typedef enum table_kind {
    TABLE_STEPS = 0,
    TABLE_EVAL,
    TABLE_RUNS,
    TABLE_CONTEXTWISE,
} table_kind;

static const char *const table_names[] = {"steps", "eval", "runs", "contextwise"};

static int parse_table(const char *s, table_kind *k)
{
    size_t i;

    for (i = 0; i < sizeof table_names / sizeof table_names[0]; i++)
        if (strcmp(s, table_names[i]) == 0) {
            *k = (table_kind)i;
            return CS_OK;
        }
    return cs_fail(CS_EINPUT, "--table: expected steps, eval, runs or contextwise, got \"%s\"", s);
}

static const cs_cli_opt export_opts[] = {
    {"table", 't', required_argument, "TABLE", "steps (default), eval, runs or contextwise"},
    {"out", 'o', required_argument, "FILE", "write the CSV to FILE (default and '-': stdout)"},
    {"force", 'f', no_argument, NULL, "replace FILE if it exists"},
    {"config", 'c', no_argument, NULL, "add each run's config as config.<key> columns"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd export_cmd = {
    "runs export",
    "[DIR|FILE...] [--table TABLE] [--out FILE] [--force] [--config]",
    "Export run logs as one CSV table (default: the run logs under runs/).",
    export_opts,
    "Tables (every one starts with a `run` column: the log's path relative to DIR, or as\n"
    "given for a FILE, without .h5):\n"
    "  steps        one row per committed steps row: step, tokens, ..., loss_train, ...\n"
    "  eval         one row per committed eval row: step, tokens, flops, loss_val, ...\n"
    "  runs         one row per run: path, status, config keys, n_steps, n_evals, the last\n"
    "               steps row and the last eval's losses (cs_runlog_read_summary)\n"
    "  contextwise  long format: run, step, bin_lo, bin_hi, loss -- the loss (nats/token) of\n"
    "               positions bin_lo..bin_hi (1-based, inclusive) at the eval of that step\n"
    "Columns are the union over the runs, in order of first appearance. --config adds\n"
    "config.<key> columns after `run` (steps, eval and contextwise; the runs table always\n"
    "holds the config). Numbers are written so that they read back bit for bit; a missing\n"
    "value is an empty field. `ctxscale runs import` reads steps and eval exports back.\n"
    "The output is written to a temporary file and renamed into place, so an error leaves\n"
    "FILE as it was. Any unreadable run log is an error (exit 2) and nothing is written.\n",
};

/* One run's part of the export: its data table and, with --config, a one-row table of text
 * columns config.<key>. */
typedef struct xrun {
    const char *run;  /* run id (owned by the runset) */
    cs_table *data;   /* rows to export */
    cs_table *config; /* NULL, or one row */
} xrun;

static int config_table(const cs_runlog_reader *r, cs_table **out)
{
    cs_table *t = cs_table_alloc(cs_runlog_read_path(r));
    size_t i;
    int st = t ? cs_table_append_row(t, 0) : CS_ENOMEM;

    for (i = 0; i < cs_runlog_read_n_config(r) && st == CS_OK; i++) {
        const cs_runlog_kv *kv = cs_runlog_read_config(r, i);
        char name[300];
        char buf[32];
        size_t c;

        snprintf(name, sizeof name, "config.%s", kv->key);
        st = cs_table_add_col(t, name, CS_COL_STR, &c);
        if (st == CS_OK)
            st = cs_table_set_str(t, 0, c, fmt_kv(buf, kv));
    }
    if (st) {
        cs_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

static int ctxwise_rows(cs_table *t, const cs_runlog_ctxwise *cw)
{
    size_t e;
    size_t b;
    int st = CS_OK;

    for (e = 0; e < cw->n_evals && st == CS_OK; e++)
        for (b = 0; b < cw->n_bins && st == CS_OK; b++) {
            size_t row = cs_table_nrows(t);

            st = cs_table_append_row(t, 0);
            if (st)
                break;
            cs_table_set_num(t, row, 0, (double)cw->step[e]);
            cs_table_set_num(t, row, 1, (double)cw->bin_edges[b]);
            cs_table_set_num(t, row, 2, (double)(cw->bin_edges[b + 1] - 1));
            cs_table_set_num(t, row, 3, cw->loss[e * cw->n_bins + b]);
        }
    return st;
}

/* The contextwise matrix in long format: step, bin_lo, bin_hi, loss. */
static int ctxwise_table(const cs_runlog_reader *r, cs_table **out)
{
    static const char *const cols[] = {"step", "bin_lo", "bin_hi", "loss"};
    cs_runlog_ctxwise *cw = NULL;
    cs_table *t = cs_table_alloc(cs_runlog_read_path(r));
    size_t i;
    int st = t ? cs_runlog_read_contextwise(r, &cw) : CS_ENOMEM;

    for (i = 0; i < 4 && st == CS_OK; i++)
        st = cs_table_add_col(t, cols[i], CS_COL_NUM, NULL);
    if (st == CS_OK)
        st = ctxwise_rows(t, cw);
    cs_runlog_read_ctxwise_free(cw);
    if (st) {
        cs_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

static int summary_table(const cs_runlog_reader *r, cs_table **out)
{
    cs_table *t = cs_table_alloc(cs_runlog_read_path(r));
    int st = t ? cs_runlog_read_summary(r, t) : CS_ENOMEM;

    if (st) {
        cs_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

static int load_run(const runfile *rf, table_kind k, bool with_config, xrun *x)
{
    cs_runlog_reader *r = NULL;
    int st = cs_runlog_read_open(rf->path, &r);

    x->run = rf->run;
    if (st == CS_OK && k == TABLE_STEPS)
        st = cs_runlog_read_steps(r, &x->data);
    else if (st == CS_OK && k == TABLE_EVAL)
        st = cs_runlog_read_evals(r, &x->data);
    else if (st == CS_OK && k == TABLE_RUNS)
        st = summary_table(r, &x->data);
    else if (st == CS_OK)
        st = ctxwise_table(r, &x->data);
    if (st == CS_OK && with_config && k != TABLE_RUNS)
        st = config_table(r, &x->config);
    cs_runlog_read_close(r);
    return st;
}

/* Adds the columns of t missing from the header table h, naming the run on a clash with the
 * run column. */
static int union_cols(cs_table *h, const cs_table *t, const char *run)
{
    size_t c;

    for (c = 0; c < cs_table_ncols(t); c++) {
        const char *name = cs_table_col_name(t, c);

        if (strcmp(name, "run") == 0)
            return cs_fail(CS_EINPUT,
                           "%s: column \"run\" clashes with the run column of the "
                           "export",
                           run);
        if (cs_table_find(h, name) < 0) {
            int st = cs_table_add_col(h, name, CS_COL_STR, NULL);

            if (st)
                return st;
        }
    }
    return CS_OK;
}

/* The export header: run, the config columns of every run, then the data columns. */
static int export_header(const xrun *x, size_t n, cs_table **out)
{
    cs_table *h = cs_table_alloc("export");
    size_t i;
    int st = h ? cs_table_add_col(h, "run", CS_COL_STR, NULL) : CS_ENOMEM;

    for (i = 0; i < n && st == CS_OK; i++)
        if (x[i].config)
            st = union_cols(h, x[i].config, x[i].run);
    for (i = 0; i < n && st == CS_OK; i++)
        st = union_cols(h, x[i].data, x[i].run);
    if (st) {
        cs_table_free(h);
        h = NULL;
    }
    *out = h;
    return st;
}

static int write_fields(FILE *f, const char *const *fields, size_t n)
{
    size_t i;
    int st = CS_OK;

    for (i = 0; i < n && st == CS_OK; i++) {
        if (i > 0 && fputc(',', f) == EOF)
            st = CS_EIO;
        if (st == CS_OK)
            st = cs_csv_write_field(f, fields[i], ',');
    }
    if (st == CS_OK && fputc('\n', f) == EOF)
        st = CS_EIO;
    return st ? cs_fail(CS_EIO, "write error: %s", strerror(errno)) : CS_OK;
}

/* Points fields[pos[c]] at the text of cell (r, c) of t for every column c; numbers go through
 * bufs[c]. */
static void fill_fields(const char **fields, const size_t *pos, const cs_table *t, size_t r,
                        char (*bufs)[32])
{
    size_t c;

    for (c = 0; c < cs_table_ncols(t); c++) {
        if (cs_table_col_type(t, c) == CS_COL_STR)
            fields[pos[c]] = cs_table_str(t, r, c);
        else
            fields[pos[c]] = fmt_exact(bufs[c], cs_table_num(t, r, c), "");
    }
}

/* Header positions of t's columns into pos (ncols of t). */
static void header_pos(const cs_table *h, const cs_table *t, size_t *pos)
{
    size_t c;

    for (c = 0; t && c < cs_table_ncols(t); c++)
        pos[c] = (size_t)cs_table_find(h, cs_table_col_name(t, c));
}

/* Writes the rows of one run under header h; fields, pos and bufs have room for h's columns. */
static int write_run_rows(FILE *f, const cs_table *h, const xrun *x, const char **fields,
                          size_t *pos, char (*bufs)[32])
{
    size_t nh = cs_table_ncols(h);
    size_t r;
    size_t i;
    int st = CS_OK;

    for (r = 0; r < cs_table_nrows(x->data) && st == CS_OK; r++) {
        for (i = 0; i < nh; i++)
            fields[i] = "";
        fields[0] = x->run;
        if (x->config) {
            header_pos(h, x->config, pos);
            fill_fields(fields, pos, x->config, 0, bufs);
        }
        header_pos(h, x->data, pos);
        fill_fields(fields, pos, x->data, r, bufs);
        st = write_fields(f, fields, nh);
    }
    return st;
}

static int write_export(FILE *f, const xrun *x, size_t n)
{
    cs_table *h = NULL;
    const char **fields = NULL;
    size_t *pos = NULL;
    char(*bufs)[32] = NULL;
    size_t i;
    int st = export_header(x, n, &h);

    if (st == CS_OK) {
        size_t nh = cs_table_ncols(h);

        fields = calloc(nh, sizeof *fields);
        pos = calloc(nh, sizeof *pos);
        bufs = calloc(nh, sizeof *bufs);
        if (!fields || !pos || !bufs)
            st = cs_fail(CS_ENOMEM, "out of memory");
        for (i = 0; i < nh && st == CS_OK; i++)
            fields[i] = cs_table_col_name(h, i);
        if (st == CS_OK)
            st = write_fields(f, fields, nh);
    }
    for (i = 0; i < n && st == CS_OK; i++)
        st = write_run_rows(f, h, &x[i], fields, pos, bufs);
    free(fields);
    free(pos);
    free(bufs);
    cs_table_free(h);
    return st;
}

static void xruns_free(xrun *x, size_t n)
{
    size_t i;

    for (i = 0; x && i < n; i++) {
        cs_table_free(x[i].data);
        cs_table_free(x[i].config);
    }
    free(x);
}

/* Loads every run and writes the export through af (nothing is written on a load error). */
static int export_run(const runset *rs, table_kind k, bool with_config, cs_afile *af)
{
    xrun *x = calloc(rs->n ? rs->n : 1, sizeof *x);
    size_t i;
    int st = x ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");

    if (st == CS_OK && rs->n == 0)
        st = cs_fail(CS_EINPUT, "no run logs found");
    for (i = 0; i < rs->n && st == CS_OK; i++)
        st = load_run(&rs->f[i], k, with_config, &x[i]);
    if (st == CS_OK)
        st = write_export(cs_afile_stream(af), x, rs->n);
    xruns_free(x, rs->n);
    return st;
}

/* The options of one export. */
typedef struct export_args {
    const char *out; /* "-": stdout */
    table_kind k;
    bool force;
    bool with_config;
} export_args;

/* One option into *ctx (an export_args). CS_OK or a status (message recorded). */
static int export_take(int c, const char *arg, void *ctx)
{
    export_args *a = ctx;

    switch (c) {
    case 't': return parse_table(arg, &a->k);
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case 'c': a->with_config = true; return CS_OK;
    }
    return CS_OK;
}

static int runs_export(int argc, char **argv)
{
    runset rs = {NULL, 0, 0};
    cs_afile *af = NULL;
    export_args a = {"-", TABLE_STEPS, false, false};
    int st = cs_cli_parse_opts(&export_cmd, argc, argv, export_take, &a);

    if (st >= 0)
        return st;
    st = collect_or_report(&export_cmd, argc - optind, argv + optind, &rs);
    if (st != 0)
        return st; /* an exit code, already reported */
    st = cs_afile_open(a.out, a.force, &af);
    if (st == CS_OK)
        st = export_run(&rs, a.k, a.with_config, af);
    if (st == CS_OK)
        st = cs_afile_commit(af);
    else
        cs_afile_abort(af);
    runset_free(&rs);
    return cs_cli_report(&export_cmd, st);
}

// ---- runs ----------------------------------------------------------------------------------

typedef struct runs_sub {
    const char *name;
    int (*run)(int argc, char **argv);
} runs_sub;

static const runs_sub subs[] = {
    {"list", runs_list},
    {"show", runs_show},
    {"export", runs_export},
    {"import", cs_cli_runs_import},
};

static const cs_cli_opt runs_opts[] = {
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd runs_cmd = {
    "runs",
    "list|show|export|import [OPTIONS] [ARGS]",
    "List, show, export and import run logs (one HDF5 file per training run).",
    runs_opts,
    "Subcommands:\n"
    "  list    [DIR|FILE...]            one line per run log (default DIR: runs/)\n"
    "  show    FILE...                  everything in one run log\n"
    "  export  [DIR|FILE...] --table T  steps, eval, runs or contextwise as CSV\n"
    "  import  FILE.csv --out DIR       CSV (e.g. a wandb export) -> run logs\n"
    "Each has --help, e.g. 'ctxscale runs import --help'. docs/cli.md has the details.\n",
};

int cs_cli_runs(int argc, char **argv)
{
    size_t i;

    if (argc < 2)
        return cs_cli_usage_error(&runs_cmd, "missing subcommand (list, show, export or import)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        cs_cli_help(&runs_cmd, stdout);
        return 0;
    }
    for (i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return cs_cli_usage_error(&runs_cmd, "unknown subcommand '%s' (list, show, export or import)",
                              argv[1]);
}
