/* cli/runs_import.c: `ctxscale runs import`: CSV run logs (a `runs export`, or a wandb-style
 * export of runs trained elsewhere) into run logs (docs/runlog.md). Columns get their roles
 * (run name, config key, step data, eval data) from their names and --map; rows are grouped by
 * run; each run is written with the library's whole-table writer into a hidden temporary
 * directory that is moved into place only when every run succeeded. Reached through
 * cs_cli_runs (cli/runs.c); reference: docs/cli.md. Test: tests/cli/test_runs.sh.
 */
#include "cli/runs.h"
#include "cli/shared_opts.h"

#include "cli/opt.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/parse.h"
#include "core/runlog.h"
#include "core/runlog_read.h"
#include "core/table.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_BYTES 200 /* longest file-name stem made from a run name */

/* What the CSV holds (--table). */
typedef enum import_kind {
    TABLE_STEPS = 0,
    TABLE_EVAL = 1,
} import_kind;

static int parse_kind(const char *s, import_kind *k)
{
    if (strcmp(s, "steps") == 0 || strcmp(s, "eval") == 0) {
        *k = strcmp(s, "steps") == 0 ? TABLE_STEPS : TABLE_EVAL;
        return CS_OK;
    }
    return cs_fail(CS_EINPUT, "--table: expected steps or eval, got \"%s\"", s);
}

// ---- runs import: options and column roles -------------------------------------------------

static const cs_cli_opt import_opts[] = {
    {"out", 'o', required_argument, "DIR", "directory for the run logs (required)"},
    {"force", 'f', no_argument, NULL, "write into a DIR with files (same names are replaced)"},
    {"table", 't', required_argument, "TABLE", "what FILE.csv holds: steps (default) or eval"},
    {"eval", 'e', required_argument, "EVAL.csv", "eval rows of the same runs, from a second CSV"},
    {"map", 'm', required_argument, "NAME=COLUMN", "take NAME from CSV column COLUMN (repeatable)"},
    {"run-col", 'r', required_argument, "COLUMN", "the column naming the run (--map run=COLUMN)"},
    {"status", 's', required_argument, "STATUS", "status of the imported runs (default finished)"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd import_cmd = {
    "runs import",
    "FILE.csv --out DIR [--map NAME=COLUMN...] [OPTIONS]",
    "Import run logs from CSV (a `runs export`, or a wandb-style export of your own runs): one\n"
    "run log DIR/<run>.h5 per distinct value of the run column.",
    import_opts,
    "Columns, after --map renames them (NAME is our name, COLUMN the CSV header; FILE.csv and\n"
    "EVAL.csv are both renamed, and each COLUMN must exist in one of them):\n"
    "  run           names the run (also --run-col); without one, FILE.csv is one run named\n"
    "                after the file. Run logs are named after runs with every byte outside\n"
    "                [A-Za-z0-9._-] replaced by '_' (and -2, -3... on collisions); when\n"
    "                that changed it, config key run_name keeps the run name.\n"
    "  step          required: optimizer steps, strictly increasing within a run (eval:\n"
    "                non-decreasing). Map yours: --map step=Step (or _step).\n"
    "  config.<key>  config attribute <key>, constant within a run; an empty cell leaves the\n"
    "                key out. Well-known keys get their type (docs/runlog.md); other keys\n"
    "                become integers, doubles or strings by what their text parses as.\n"
    "  other numeric columns fill the schema column of their name (tokens, loss_train, ...)\n"
    "                or become extra datasets of steps/ (eval/ for --table eval). In a steps\n"
    "                file, loss_val, loss_val_best and loss_val_bpb go to eval/ instead: one\n"
    "                eval row (with step, tokens and flops) per row where any has a value.\n"
    "  text columns, and unmapped columns with '/' in their name, are ignored with a warning.\n"
    "Example (wandb): --map step=_step --map loss_train=train/loss --map loss_val=val/loss\n"
    "Empty cells are missing values. Nothing is written unless every run imports: the logs\n"
    "are built in a hidden temporary directory and moved into DIR at the end. A DIR that\n"
    "holds files is refused without --force. The paths of the new logs are printed.\n",
};

/* One --map NAME=COLUMN (--run-col COLUMN is run=COLUMN). */
typedef struct colmap {
    char *name;   /* our name: "run", "config.<key>" or a data column */
    char *column; /* CSV column */
    size_t used;  /* input files holding the column */
} colmap;

enum { ROLE_IGNORE = 0, ROLE_RUN, ROLE_DATA, ROLE_CONFIG };
enum { DEST_STEPS = 1u, DEST_EVAL = 2u };

/* One CSV input and the role of each of its columns. */
typedef struct source {
    const char *path;
    import_kind kind;    /* --table of this input */
    cs_table *t;         /* read as text; data columns converted to numbers */
    int *role;           /* (ncols) ROLE_* */
    const char **target; /* (ncols) our name (config: the key); borrowed from maps or t */
    bool *mapped;        /* (ncols) named by a --map */
    unsigned *dest;      /* (ncols) DEST_* of data columns */
    long run_col;        /* -1: the file is one run */
    bool routed;         /* a steps file with eval-only columns */
    bool has_run_name;   /* a config.run_name column exists */
    char ignored[2048];  /* names of ignored columns, ", "-separated, for one warning */
} source;

static void source_free(source *s)
{
    cs_table_free(s->t);
    free(s->role);
    free(s->target);
    free(s->mapped);
    free(s->dest);
    memset(s, 0, sizeof *s);
}

/* "a, b, c" of t's column names, cut at about 1000 bytes. */
static const char *col_list(const cs_table *t, char *buf, size_t n)
{
    size_t o = 0;
    size_t c;

    buf[0] = '\0';
    for (c = 0; c < cs_table_ncols(t) && o + 8 < n; c++) {
        int w = snprintf(buf + o, n - o, "%s%s", c ? ", " : "", cs_table_col_name(t, c));

        o = w < 0 || (size_t)w >= n - o ? n - 1 : o + (size_t)w;
    }
    if (c < cs_table_ncols(t) || o >= n - 1)
        snprintf(buf + (o > n - 5 ? n - 5 : o), 5, " ...");
    return buf;
}

static bool is_col_of(const cs_runlog_col *cols, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return true;
    return false;
}

static bool is_schema_col(const char *name)
{
    size_t ns;
    size_t ne;
    const cs_runlog_col *sc = cs_runlog_step_cols(&ns);
    const cs_runlog_col *ec = cs_runlog_eval_cols(&ne);

    return is_col_of(sc, ns, name) || is_col_of(ec, ne, name);
}

/* Where a data column of a steps file goes: eval-only schema columns to eval/, columns of both
 * schemas (step, tokens, flops) to both, the rest to steps/. */
static unsigned steps_dest(const char *name)
{
    size_t ns;
    size_t ne;
    const cs_runlog_col *sc = cs_runlog_step_cols(&ns);
    const cs_runlog_col *ec = cs_runlog_eval_cols(&ne);
    bool in_s = is_col_of(sc, ns, name);
    bool in_e = is_col_of(ec, ne, name);

    if (in_e && !in_s)
        return DEST_EVAL;
    return in_e ? DEST_STEPS | DEST_EVAL : DEST_STEPS;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int role_of(const char *name)
{
    if (strcmp(name, "run") == 0)
        return ROLE_RUN;
    return starts_with(name, "config.") ? ROLE_CONFIG : ROLE_DATA;
}

/* Our name of a column given its role: config columns drop "config.". */
static const char *target_of(const char *name, int role)
{
    return role == ROLE_CONFIG ? name + strlen("config.") : name;
}

/* Gives the columns named by --map their roles. */
static int apply_maps(source *s, colmap *maps, size_t nmaps)
{
    size_t i;

    for (i = 0; i < nmaps; i++) {
        long c = cs_table_find(s->t, maps[i].column);

        if (c < 0)
            continue;
        if (s->mapped[c])
            return cs_fail(CS_EINPUT, "--map %s=%s: column \"%s\" of %s is mapped twice",
                           maps[i].name, maps[i].column, maps[i].column, s->path);
        maps[i].used++;
        s->mapped[c] = true;
        s->role[c] = role_of(maps[i].name);
        s->target[c] = target_of(maps[i].name, s->role[c]);
    }
    return CS_OK;
}

/* True when a --map gives `name` to another column of t. */
static bool is_map_target(const colmap *maps, size_t nmaps, const char *name, const cs_table *t)
{
    size_t i;

    for (i = 0; i < nmaps; i++)
        if (strcmp(maps[i].name, name) == 0 && cs_table_find(t, maps[i].column) >= 0)
            return true;
    return false;
}

/* Roles of the columns no --map names; a column whose name a --map gives to another column is
 * ignored. Ignored names are appended to `ignored`. */
static void default_roles(source *s, const colmap *maps, size_t nmaps, char *ignored, size_t n)
{
    size_t c;

    for (c = 0; c < cs_table_ncols(s->t); c++) {
        const char *name = cs_table_col_name(s->t, c);

        if (s->mapped[c])
            continue;
        s->role[c] = is_map_target(maps, nmaps, name, s->t) ? ROLE_IGNORE : role_of(name);
        s->target[c] = target_of(name, s->role[c]);
        if (s->role[c] == ROLE_IGNORE)
            snprintf(ignored + strlen(ignored), n - strlen(ignored), "%s%s", ignored[0] ? ", " : "",
                     name);
    }
}

/* Converts the data columns to numbers. A mapped or schema column that does not convert is an
 * error; other text columns and unmapped names with '/' become ignored. */
static int convert_data(source *s, char *ignored, size_t n)
{
    size_t c;

    for (c = 0; c < cs_table_ncols(s->t); c++) {
        const char *name = cs_table_col_name(s->t, c);
        bool fail;

        if (s->role[c] != ROLE_DATA)
            continue;
        fail = !s->mapped[c] && strchr(name, '/') != NULL;
        if (!fail && cs_table_col_to_num(s->t, c) != CS_OK) {
            if (s->mapped[c] || is_schema_col(name))
                return CS_EINPUT;
            fail = true;
        }
        if (fail) {
            s->role[c] = ROLE_IGNORE;
            snprintf(ignored + strlen(ignored), n - strlen(ignored), "%s%s", ignored[0] ? ", " : "",
                     name);
            continue;
        }
        s->dest[c] = s->kind == TABLE_EVAL ? DEST_EVAL : steps_dest(s->target[c]);
        s->routed = s->routed || s->dest[c] == DEST_EVAL;
    }
    return CS_OK;
}

/* Checks that each of our names comes from one column and that "step" is there; sets run_col
 * and has_run_name. */
static int check_roles(source *s)
{
    char list[1100];
    size_t nc = cs_table_ncols(s->t);
    size_t c;
    size_t d;
    bool step = false;

    for (c = 0; c < nc; c++) {
        if (s->role[c] == ROLE_IGNORE)
            continue;
        for (d = c + 1; d < nc; d++)
            if (s->role[d] == s->role[c] && strcmp(s->target[c], s->target[d]) == 0)
                return cs_fail(CS_EINPUT,
                               "%s: columns \"%s\" and \"%s\" both give \"%s%s\"; "
                               "map only one",
                               s->path, cs_table_col_name(s->t, c), cs_table_col_name(s->t, d),
                               s->role[c] == ROLE_CONFIG ? "config." : "", s->target[c]);
        step = step || (s->role[c] == ROLE_DATA && strcmp(s->target[c], "step") == 0);
        if (s->role[c] == ROLE_RUN)
            s->run_col = (long)c;
        if (s->role[c] == ROLE_CONFIG && strcmp(s->target[c], "run_name") == 0)
            s->has_run_name = true;
    }
    if (!step)
        return cs_fail(CS_EINPUT,
                       "%s: no numeric \"step\" column; name the column that counts "
                       "optimizer steps with --map step=COLUMN (columns: %s)",
                       s->path, col_list(s->t, list, sizeof list));
    return CS_OK;
}

/* Reads one CSV input and works out the role of each column. */
static int source_open(source *s, const char *path, import_kind kind, colmap *maps, size_t nmaps)
{
    cs_csv_params p = cs_csv_default_params();
    size_t nc;
    int st;

    memset(s, 0, sizeof *s);
    s->path = path;
    s->kind = kind;
    s->run_col = -1;
    p.infer_types = false; /* config and run values keep their exact text */
    st = cs_csv_read(path, &p, &s->t);
    if (st)
        return st;
    nc = cs_table_ncols(s->t);
    s->role = calloc(nc, sizeof *s->role);
    s->target = calloc(nc, sizeof *s->target);
    s->mapped = calloc(nc, sizeof *s->mapped);
    s->dest = calloc(nc, sizeof *s->dest);
    if (!s->role || !s->target || !s->mapped || !s->dest)
        return cs_fail(CS_ENOMEM, "%s: out of memory", path);
    st = apply_maps(s, maps, nmaps);
    if (st == CS_OK)
        default_roles(s, maps, nmaps, s->ignored, sizeof s->ignored);
    if (st == CS_OK)
        st = convert_data(s, s->ignored, sizeof s->ignored);
    if (st == CS_OK)
        st = check_roles(s);
    return st;
}

/* Every --map must name a column of some input. */
static int check_maps_used(const colmap *maps, size_t nmaps, const source *src, size_t nsrc)
{
    char list[1100];
    size_t i;

    for (i = 0; i < nmaps; i++)
        if (maps[i].used == 0)
            return cs_fail(CS_EINPUT, "--map %s=%s: no column \"%s\" in %s%s%s (columns: %s)",
                           maps[i].name, maps[i].column, maps[i].column, src[0].path,
                           nsrc > 1 ? " or " : "", nsrc > 1 ? src[1].path : "",
                           col_list(src[0].t, list, sizeof list));
    return CS_OK;
}

// ---- runs import: runs, their rows and their config ----------------------------------------

/* One run to write: its name and its rows in each input. */
typedef struct irun {
    const char *name; /* run-column value (owned by its source table) or the file stem */
    size_t *rows[2];  /* (nrows[i]) rows of input i, ascending */
    size_t nrows[2];
    char *file; /* file name in DIR (owned) */
} irun;

typedef struct runlist {
    irun *r; /* (n) */
    size_t n;
    size_t cap;
    char *stem; /* name of the run of a file without run column (owned) */
} runlist;

static void runlist_free(runlist *rl)
{
    size_t i;

    for (i = 0; i < rl->n; i++) {
        free(rl->r[i].rows[0]);
        free(rl->r[i].rows[1]);
        free(rl->r[i].file);
    }
    free(rl->r);
    free(rl->stem);
    memset(rl, 0, sizeof *rl);
}

static irun *find_or_add(runlist *rl, const char *name)
{
    size_t i;

    for (i = 0; i < rl->n; i++)
        if (strcmp(rl->r[i].name, name) == 0)
            return &rl->r[i];
    if (rl->n == rl->cap) {
        size_t cap = rl->cap ? 2 * rl->cap : 16;
        irun *r = realloc(rl->r, cap * sizeof *r);

        if (!r)
            return NULL;
        rl->r = r;
        rl->cap = cap;
    }
    memset(&rl->r[rl->n], 0, sizeof rl->r[rl->n]);
    rl->r[rl->n].name = name;
    return &rl->r[rl->n++];
}

/* Appends rows (n) of input si to run `name`. */
static int add_rows(runlist *rl, const char *name, size_t si, const size_t *rows, size_t n)
{
    irun *ir = find_or_add(rl, name);
    size_t *p = ir ? realloc(ir->rows[si], (ir->nrows[si] + n) * sizeof *p) : NULL;

    if (!p)
        return cs_fail(CS_ENOMEM, "out of memory grouping rows by run");
    memcpy(p + ir->nrows[si], rows, n * sizeof *p);
    ir->rows[si] = p;
    ir->nrows[si] += n;
    return CS_OK;
}

/* The run name of a file without run column: its base name without extension ("-": stdin). */
static char *file_stem(const char *path)
{
    const char *b = strrchr(path, '/');
    char *s = strdup(strcmp(path, "-") == 0 ? "stdin" : b ? b + 1 : path);
    char *dot = s ? strrchr(s, '.') : NULL;

    if (dot && dot != s)
        *dot = '\0';
    return s;
}

typedef struct rowref {
    const char *name;
    size_t row;
} rowref;

static int cmp_rowref(const void *a, const void *b)
{
    const rowref *x = a;
    const rowref *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Adds the rows of input si, grouped by run column (sorted by name), to rl. */
static int group_by_run(const source *s, size_t si, runlist *rl)
{
    size_t n = cs_table_nrows(s->t);
    rowref *ref = malloc((n ? n : 1) * sizeof *ref);
    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    size_t i;
    size_t j;
    int st = ref && rows ? CS_OK : cs_fail(CS_ENOMEM, "%s: out of memory", s->path);

    for (i = 0; i < n && st == CS_OK; i++) {
        ref[i].name = cs_table_str(s->t, i, (size_t)s->run_col);
        ref[i].row = i;
        if (!ref[i].name[0])
            st = cs_fail(CS_EINPUT, "%s:%zu: column \"%s\": empty run name", cs_table_source(s->t),
                         cs_table_row_line(s->t, i), cs_table_col_name(s->t, (size_t)s->run_col));
    }
    if (st == CS_OK)
        qsort(ref, n, sizeof *ref, cmp_rowref);
    for (i = 0; i < n && st == CS_OK; i = j) {
        for (j = i; j < n && strcmp(ref[j].name, ref[i].name) == 0; j++)
            rows[j - i] = ref[j].row;
        st = add_rows(rl, ref[i].name, si, rows, j - i);
    }
    free(ref);
    free(rows);
    return st;
}

static int group_source(const source *s, size_t si, runlist *rl)
{
    size_t n = cs_table_nrows(s->t);
    size_t *rows;
    size_t i;
    int st;

    if (s->run_col >= 0)
        return group_by_run(s, si, rl);
    rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows)
        return cs_fail(CS_ENOMEM, "%s: out of memory", s->path);
    for (i = 0; i < n; i++)
        rows[i] = i;
    st = add_rows(rl, rl->stem, si, rows, n);
    free(rows);
    return st;
}

/* A file-name stem for run `name`: bytes outside [A-Za-z0-9._-] become '_', as does a leading
 * '.' or '-' (hidden files, option-like names); at most NAME_MAX_BYTES bytes; "" -> "run". */
static char *safe_stem(const char *name)
{
    size_t n = strlen(name);
    char *s;
    size_t i;

    n = n > NAME_MAX_BYTES ? NAME_MAX_BYTES : n;
    s = malloc(n + 4);
    if (!s)
        return NULL;
    for (i = 0; i < n; i++) {
        char c = name[i];
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';

        s[i] = keep ? c : '_';
    }
    s[n] = '\0';
    if (n == 0)
        strcpy(s, "run");
    if (s[0] == '.' || s[0] == '-')
        s[0] = '_';
    return s;
}

static bool file_taken(const runlist *rl, size_t upto, const char *file)
{
    size_t i;

    for (i = 0; i < upto; i++)
        if (strcasecmp(rl->r[i].file, file) == 0) /* also safe on case-insensitive disks */
            return true;
    return false;
}

/* Gives every run a distinct file name: <stem>.h5, <stem>-2.h5, ... */
static int name_files(runlist *rl)
{
    size_t i;

    for (i = 0; i < rl->n; i++) {
        char *stem = safe_stem(rl->r[i].name);
        size_t cap = stem ? strlen(stem) + 32 : 0;
        char *file = stem ? malloc(cap) : NULL;
        unsigned k;

        for (k = 1; file; k++) {
            if (k == 1)
                snprintf(file, cap, "%s.h5", stem);
            else
                snprintf(file, cap, "%s-%u.h5", stem, k);
            if (!file_taken(rl, i, file))
                break;
        }
        free(stem);
        if (!file)
            return cs_fail(CS_ENOMEM, "out of memory naming run logs");
        rl->r[i].file = file;
    }
    return CS_OK;
}

/* One config value of a run, as text. */
typedef struct kvtext {
    const char *key;
    const char *text;
    const source *src; /* where it came from, for messages */
    size_t row;
} kvtext;

/* Adds config column c of input si for run ir to kv (n): constant within the run, the same in
 * every input; empty cells add nothing. */
static int config_col(const source *s, size_t c, const irun *ir, size_t si, kvtext *kv, size_t *n)
{
    const size_t *rows = ir->rows[si];
    const char *v0 = cs_table_str(s->t, rows[0], c);
    const char *src = cs_table_source(s->t);
    const char *col = cs_table_col_name(s->t, c);
    size_t k;

    for (k = 1; k < ir->nrows[si]; k++) {
        const char *v = cs_table_str(s->t, rows[k], c);

        if (strcmp(v, v0) != 0)
            return cs_fail(CS_EINPUT,
                           "%s:%zu: column \"%s\": \"%s\" differs from \"%s\" on line "
                           "%zu in run \"%s\"; a config value must be constant within "
                           "a run",
                           src, cs_table_row_line(s->t, rows[k]), col, v, v0,
                           cs_table_row_line(s->t, rows[0]), ir->name);
    }
    for (k = 0; v0[0] && k < *n; k++) {
        if (strcmp(kv[k].key, s->target[c]) != 0)
            continue;
        if (strcmp(kv[k].text, v0) == 0)
            return CS_OK;
        return cs_fail(CS_EINPUT,
                       "%s:%zu: column \"%s\": \"%s\" differs from \"%s\" in %s:%zu "
                       "for run \"%s\"",
                       src, cs_table_row_line(s->t, rows[0]), col, v0, kv[k].text,
                       cs_table_source(kv[k].src->t), cs_table_row_line(kv[k].src->t, kv[k].row),
                       ir->name);
    }
    if (v0[0])
        kv[(*n)++] = (kvtext){s->target[c], v0, s, rows[0]};
    return CS_OK;
}

/* The config of run ir from every input (*out owned by the caller). */
static int run_config(const irun *ir, const source *src, size_t nsrc, kvtext **out, size_t *n)
{
    size_t total = 0;
    size_t si;
    size_t c;
    int st = CS_OK;

    for (si = 0; si < nsrc; si++)
        total += cs_table_ncols(src[si].t);
    *n = 0;
    *out = malloc((total ? total : 1) * sizeof **out);
    if (!*out)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (si = 0; si < nsrc && st == CS_OK; si++)
        for (c = 0; c < cs_table_ncols(src[si].t) && st == CS_OK && ir->nrows[si]; c++)
            if (src[si].role[c] == ROLE_CONFIG)
                st = config_col(&src[si], c, ir, si, *out, n);
    return st;
}

/* The type of well-known config key `key`, or -1. */
static int key_type(const char *key)
{
    size_t n;
    size_t i;
    const cs_runlog_key *k = cs_runlog_config_keys(&n);

    for (i = 0; i < n; i++)
        if (strcmp(k[i].name, key) == 0)
            return (int)k[i].type;
    return -1;
}

/* Sets a config value from its text: well-known keys by their type; other keys as an integer,
 * a finite double or a string, by what the text (without surrounding blanks) parses as. */
static int set_kv(cs_runlog *rl, const kvtext *kv)
{
    char what[512];
    int type = key_type(kv->key);
    size_t len = strlen(kv->text);
    bool blank = kv->text[0] == ' ' || kv->text[0] == '\t' || kv->text[len - 1] == ' ' ||
                 kv->text[len - 1] == '\t';
    long l;
    int64_t cnt;
    double d;

    snprintf(what, sizeof what, "%s:%zu: column \"config.%s\"", cs_table_source(kv->src->t),
             cs_table_row_line(kv->src->t, kv->row), kv->key);
    if (type == CS_RUNLOG_STR)
        return cs_runlog_set_str(rl, kv->key, kv->text);
    if (type == CS_RUNLOG_INT && cs_parse_long(kv->text, &l, what) == CS_OK)
        return cs_runlog_set_int(rl, kv->key, (int64_t)l);
    if (type == CS_RUNLOG_INT) {
        if (cs_parse_count(kv->text, &cnt, what) != CS_OK)
            return cs_fail(CS_EINPUT, "%s: expected an integer, got \"%s\"", what, kv->text);
        return cs_runlog_set_int(rl, kv->key, cnt);
    }
    if (type == CS_RUNLOG_DOUBLE) {
        if (cs_parse_double_ex(kv->text, &d, CS_PARSE_ALLOW_NONFINITE, what) != CS_OK)
            return CS_EINPUT;
        return cs_runlog_set_double(rl, kv->key, d);
    }
    if (!blank && cs_parse_long(kv->text, &l, NULL) == CS_OK)
        return cs_runlog_set_int(rl, kv->key, (int64_t)l);
    if (!blank && cs_parse_double(kv->text, &d, NULL) == CS_OK)
        return cs_runlog_set_double(rl, kv->key, d);
    cs_errclear();
    return cs_runlog_set_str(rl, kv->key, kv->text);
}

/* The training context from config key "context", or -1. */
static int64_t context_of(const kvtext *kv, size_t n)
{
    size_t i;
    long l;

    for (i = 0; i < n; i++)
        if (strcmp(kv[i].key, CS_RUNLOG_KEY_CONTEXT) == 0 &&
            cs_parse_long(kv[i].text, &l, NULL) == CS_OK && l > 0)
            return (int64_t)l;
    return -1;
}

// ---- runs import: writing the logs ---------------------------------------------------------

/* True when row r of a steps file has a value in an eval-only column. */
static bool row_has_eval(const source *s, size_t r)
{
    size_t c;

    for (c = 0; c < cs_table_ncols(s->t); c++)
        if (s->role[c] == ROLE_DATA && s->dest[c] == DEST_EVAL && !isnan(cs_table_num(s->t, r, c)))
            return true;
    return false;
}

/* The rows of run ir in input si and the data columns bound for `dest`, under our names (*out
 * owned by the caller; its source is the CSV file and its rows keep their lines). A steps file's
 * eval table holds only the rows with an eval value. */
static int run_table(const source *s, const irun *ir, size_t si, unsigned dest, cs_table **out)
{
    size_t nc = cs_table_ncols(s->t);
    size_t *col = malloc((nc ? nc : 1) * sizeof *col);
    cs_table *t = cs_table_alloc(cs_table_source(s->t));
    size_t c;
    size_t k;
    int st = col && t ? CS_OK : cs_fail(CS_ENOMEM, "%s: out of memory", s->path);

    for (c = 0; c < nc && st == CS_OK; c++)
        if (s->role[c] == ROLE_DATA && (s->dest[c] & dest))
            st = cs_table_add_col(t, s->target[c], CS_COL_NUM, &col[c]);
    for (k = 0; k < ir->nrows[si] && st == CS_OK; k++) {
        size_t r = ir->rows[si][k];

        if (dest == DEST_EVAL && s->kind == TABLE_STEPS && !row_has_eval(s, r))
            continue;
        st = cs_table_append_row(t, cs_table_row_line(s->t, r));
        for (c = 0; c < nc && st == CS_OK; c++)
            if (s->role[c] == ROLE_DATA && (s->dest[c] & dest))
                cs_table_set_num(t, cs_table_nrows(t) - 1, col[c], cs_table_num(s->t, r, c));
    }
    free(col);
    if (st) {
        cs_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

static int write_part(cs_runlog *rl, const source *s, const irun *ir, size_t si, unsigned dest)
{
    cs_table *t = NULL;
    int st = run_table(s, ir, si, dest, &t);

    if (st == CS_OK)
        st = dest == DEST_STEPS ? cs_runlog_write_steps(rl, t) : cs_runlog_write_evals(rl, t);
    cs_table_free(t);
    return st;
}

/* Writes the steps and eval rows of run ir from every input. */
static int write_rows(cs_runlog *rl, const irun *ir, const source *src, size_t nsrc)
{
    size_t si;
    int st = CS_OK;

    for (si = 0; si < nsrc && st == CS_OK; si++) {
        const source *s = &src[si];

        if (ir->nrows[si] == 0)
            continue;
        if (s->kind == TABLE_STEPS)
            st = write_part(rl, s, ir, si, DEST_STEPS);
        if (st == CS_OK && (s->kind == TABLE_EVAL || s->routed))
            st = write_part(rl, s, ir, si, DEST_EVAL);
    }
    return st;
}

/* True when the file name does not tell the run name (it had to be changed) and no
 * config.run_name column gives it: config key run_name then keeps it. */
static bool needs_run_name(const irun *ir, const source *src, size_t nsrc)
{
    size_t n = strlen(ir->name);

    if (src[0].has_run_name || (nsrc > 1 && src[1].has_run_name))
        return false;
    return strncmp(ir->file, ir->name, n) != 0 || strcmp(ir->file + n, ".h5") != 0;
}

/* Writes the run log of run ir at `path`. */
static int write_run(const char *path, const irun *ir, const source *src, size_t nsrc, int status)
{
    cs_runlog_params p = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    kvtext *kv = NULL;
    size_t nkv = 0;
    size_t i;
    char msg[300];
    int st = run_config(ir, src, nsrc, &kv, &nkv);

    if (st == CS_OK) {
        p.context = context_of(kv, nkv);
        st = cs_runlog_create(path, &p, &rl);
    }
    if (st == CS_OK && needs_run_name(ir, src, nsrc))
        st = cs_runlog_set_str(rl, "run_name", ir->name);
    for (i = 0; i < nkv && st == CS_OK; i++)
        st = set_kv(rl, &kv[i]);
    if (st == CS_OK)
        st = write_rows(rl, ir, src, nsrc);
    snprintf(msg, sizeof msg, "imported from %s",
             strrchr(src[0].path, '/') ? strrchr(src[0].path, '/') + 1 : src[0].path);
    if (st == CS_OK)
        st = cs_runlog_set_status(rl, status, msg);
    if (st == CS_OK) {
        st = cs_runlog_close(rl);
        rl = NULL;
    }
    cs_runlog_abort(rl);
    free(kv);
    return st;
}

// ---- runs import: the output directory -----------------------------------------------------

typedef struct outdir {
    const char *dir; /* --out as given */
    char *tmp;       /* the hidden temporary directory of this import (owned), or NULL */
    bool existed;    /* dir existed when the import started */
    bool force;
} outdir;

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    char *p = malloc(n + strlen(name) + 2);

    if (p)
        sprintf(p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
    return p;
}

static bool dir_is_empty(DIR *d)
{
    struct dirent *e;

    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            return false;
    return true;
}

/* DIR must be absent, an empty directory, or (with --force) any directory. */
static int outdir_check(outdir *o)
{
    struct stat sb;
    DIR *d;
    bool empty;

    if (stat(o->dir, &sb) != 0) {
        if (errno != ENOENT)
            return cs_fail(CS_EIO, "%s: %s", o->dir, strerror(errno));
        o->existed = false;
        return CS_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return cs_fail(CS_EINPUT, "%s: exists and is not a directory", o->dir);
    o->existed = true;
    if (o->force)
        return CS_OK;
    d = opendir(o->dir);
    if (!d)
        return cs_fail(CS_EIO, "%s: cannot read directory: %s", o->dir, strerror(errno));
    empty = dir_is_empty(d);
    closedir(d);
    if (!empty)
        return cs_fail(CS_EINPUT,
                       "%s: exists and is not empty; use --force to add the run logs "
                       "to it (logs of the same names are replaced)",
                       o->dir);
    return CS_OK;
}

/* Creates the temporary directory: DIR/.import.tmp.XXXXXX when DIR exists (same file system),
 * else .<name>.tmp.XXXXXX beside it, renamed to DIR at the end. Hidden names keep run-log
 * listings from seeing half-done imports. */
static int outdir_make_tmp(outdir *o)
{
    size_t len = strlen(o->dir);
    char *buf = malloc(len + 32);
    const char *slash;
    mode_t um;

    while (len > 1 && o->dir[len - 1] == '/')
        len--;
    if (!buf)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (slash = o->dir + len; slash > o->dir && slash[-1] != '/'; slash--)
        ;
    slash = slash > o->dir ? slash - 1 : NULL;
    if (o->existed)
        sprintf(buf, "%.*s/.import.tmp.XXXXXX", (int)len, o->dir);
    else if (slash)
        sprintf(buf, "%.*s/.%.*s.tmp.XXXXXX", (int)(slash - o->dir), o->dir,
                (int)(len - (size_t)(slash - o->dir) - 1), slash + 1);
    else
        sprintf(buf, "./.%.*s.tmp.XXXXXX", (int)len, o->dir);
    if (!mkdtemp(buf)) {
        int e = errno;

        free(buf);
        return cs_fail(e == ENOENT ? CS_EINPUT : CS_EIO,
                       "%s: cannot create a directory there: "
                       "%s",
                       o->dir, strerror(e));
    }
    um = umask(0);
    umask(um);
    chmod(buf, 0777 & ~um); /* mkdtemp makes it 0700; it may become DIR */
    o->tmp = buf;
    return CS_OK;
}

/* Removes the temporary directory and what this import wrote into it. */
static void outdir_remove_tmp(outdir *o)
{
    DIR *d = o->tmp ? opendir(o->tmp) : NULL;
    struct dirent *e;

    while (d && (e = readdir(d)) != NULL) {
        char *p;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        p = join(o->tmp, e->d_name);
        if (p)
            unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    if (o->tmp)
        rmdir(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
}

/* Refuses targets in an existing DIR that are not regular files, or exist without --force. */
static int outdir_check_targets(const outdir *o, const runlist *rl)
{
    struct stat sb;
    size_t i;
    int st = CS_OK;

    for (i = 0; o->existed && i < rl->n && st == CS_OK; i++) {
        char *p = join(o->dir, rl->r[i].file);

        if (!p)
            return cs_fail(CS_ENOMEM, "out of memory");
        if (lstat(p, &sb) == 0 && !S_ISREG(sb.st_mode))
            st = cs_fail(CS_EINPUT, "%s: exists and is not a regular file", p);
        else if (lstat(p, &sb) == 0 && !o->force)
            st = cs_fail(CS_EINPUT, "%s: exists; use --force to replace it", p);
        free(p);
    }
    return st;
}

static int move_one(const outdir *o, const char *file)
{
    char *from = join(o->tmp, file);
    char *to = join(o->dir, file);
    int st = from && to ? CS_OK : cs_fail(CS_ENOMEM, "out of memory");

    if (st == CS_OK && rename(from, to) != 0)
        st = cs_fail(CS_EIO, "cannot move %s into %s: %s", file, o->dir, strerror(errno));
    free(from);
    free(to);
    return st;
}

/* Moves the finished logs into DIR (one rename of the whole directory when DIR is new). */
static int outdir_move(outdir *o, const runlist *rl)
{
    size_t i;
    int st = outdir_check_targets(o, rl);

    if (st == CS_OK && !o->existed) {
        if (rename(o->tmp, o->dir) != 0)
            return cs_fail(CS_EIO, "cannot rename %s to %s: %s", o->tmp, o->dir, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return CS_OK;
    }
    for (i = 0; i < rl->n && st == CS_OK; i++)
        st = move_one(o, rl->r[i].file);
    return st;
}

/* Makes this thread's message name DIR where it names the temporary directory. */
static int fail_in(int st, const char *tmp, const char *dir)
{
    char buf[CS_ERRMSG_MAX];
    const char *m = cs_errmsg();
    size_t tl = strlen(tmp);
    size_t dl = strlen(dir);
    size_t o = 0;

    while (*m && o + 1 < sizeof buf) {
        if (strncmp(m, tmp, tl) == 0 && o + dl + 1 < sizeof buf) {
            memcpy(buf + o, dir, dl);
            o += dl;
            m += tl;
        } else {
            buf[o++] = *m++;
        }
    }
    buf[o] = '\0';
    return cs_fail(st, "%s", buf);
}

// ---- runs import: putting it together ------------------------------------------------------

typedef struct import_args {
    const char *csv;      /* FILE.csv */
    const char *eval_csv; /* --eval, or NULL */
    const char *out;      /* --out DIR */
    import_kind kind;     /* --table */
    colmap *maps;         /* (nmaps) --map and --run-col */
    size_t nmaps;
    int status; /* --status, a cs_runlog_status_code */
    bool force;
} import_args;

static int import_sources(const import_args *a, source *src, size_t *nsrc)
{
    int st = source_open(&src[0], a->csv, a->kind, a->maps, a->nmaps);
    size_t si;

    *nsrc = 1;
    if (st == CS_OK && a->eval_csv) {
        *nsrc = 2;
        st = source_open(&src[1], a->eval_csv, TABLE_EVAL, a->maps, a->nmaps);
    }
    if (st == CS_OK && a->eval_csv && (src[0].run_col < 0) != (src[1].run_col < 0))
        st = cs_fail(CS_EINPUT, "%s has a run column and %s has none; give both one, or neither",
                     src[0].run_col < 0 ? a->eval_csv : a->csv,
                     src[0].run_col < 0 ? a->csv : a->eval_csv);
    if (st == CS_OK && a->eval_csv && src[0].routed)
        st = cs_fail(CS_EINPUT,
                     "%s has loss_val columns and --eval gives %s: give eval rows in "
                     "one of them",
                     a->csv, a->eval_csv);
    if (st == CS_OK)
        st = check_maps_used(a->maps, a->nmaps, src, *nsrc);
    for (si = 0; si < *nsrc && st == CS_OK; si++)
        if (src[si].ignored[0])
            fprintf(stderr,
                    "ctxscale runs import: warning: %s: ignoring columns (text, a name "
                    "with '/', or a name a --map gives to another column; keep one with "
                    "--map NAME=COLUMN): %s\n",
                    src[si].path, src[si].ignored);
    return st;
}

/* Groups the rows of every input into runs and names their files. */
static int import_group(const import_args *a, const source *src, size_t nsrc, runlist *rl)
{
    size_t si;
    int st = CS_OK;

    rl->stem = file_stem(a->csv);
    if (!rl->stem)
        return cs_fail(CS_ENOMEM, "out of memory");
    for (si = 0; si < nsrc && st == CS_OK; si++)
        st = group_source(&src[si], si, rl);
    if (st == CS_OK)
        st = name_files(rl);
    return st;
}

static int import_write(const import_args *a, const source *src, size_t nsrc, const runlist *rl,
                        const outdir *o)
{
    size_t i;
    int st = CS_OK;

    for (i = 0; i < rl->n && st == CS_OK; i++) {
        char *path = join(o->tmp, rl->r[i].file);

        st = path ? write_run(path, &rl->r[i], src, nsrc, a->status)
                  : cs_fail(CS_ENOMEM, "out of memory");
        free(path);
    }
    return st ? fail_in(st, o->tmp, o->dir) : CS_OK;
}

static int import_run(const import_args *a)
{
    source src[2];
    size_t nsrc = 0;
    runlist rl;
    outdir o = {a->out, NULL, false, a->force};
    size_t i;
    int st;

    memset(src, 0, sizeof src);
    memset(&rl, 0, sizeof rl);
    st = outdir_check(&o);
    if (st == CS_OK)
        st = import_sources(a, src, &nsrc);
    if (st == CS_OK)
        st = import_group(a, src, nsrc, &rl);
    if (st == CS_OK)
        st = outdir_check_targets(&o, &rl);
    if (st == CS_OK)
        st = outdir_make_tmp(&o);
    if (st == CS_OK)
        st = import_write(a, src, nsrc, &rl, &o);
    if (st == CS_OK)
        st = outdir_move(&o, &rl);
    for (i = 0; i < rl.n && st == CS_OK; i++) {
        fputs(a->out, stdout);
        printf("%s%s\n", a->out[strlen(a->out) - 1] == '/' ? "" : "/", rl.r[i].file);
    }
    outdir_remove_tmp(&o);
    runlist_free(&rl);
    source_free(&src[0]);
    source_free(&src[1]);
    return st;
}

/* Parses "NAME=COLUMN" (or, with `name` given, COLUMN alone) into m. */
static int parse_map(const char *arg, const char *name, colmap *m)
{
    const char *eq = name ? NULL : strchr(arg, '=');

    if (!name && (!eq || eq == arg || !eq[1]))
        return cs_fail(CS_EINPUT, "--map: expected NAME=COLUMN, got \"%s\"", arg);
    if (name && !arg[0])
        return cs_fail(CS_EINPUT, "--run-col: expected a column name");
    m->name = name ? strdup(name) : strndup(arg, (size_t)(eq - arg));
    m->column = strdup(name ? arg : eq + 1);
    m->used = 0;
    if (!m->name || !m->column)
        return cs_fail(CS_ENOMEM, "out of memory");
    return CS_OK;
}

static void maps_free(colmap *maps, size_t n)
{
    size_t i;

    for (i = 0; maps && i < n; i++) {
        free(maps[i].name);
        free(maps[i].column);
    }
    free(maps);
}

/* Applies one option to *ctx (an import_args); returns CS_OK or CS_EINPUT with the message
 * (a usage error). */
static int import_opt(int c, const char *arg, void *ctx)
{
    import_args *a = ctx;

    switch (c) {
    case 'o': a->out = arg; return CS_OK;
    case 'f': a->force = true; return CS_OK;
    case 't': return parse_kind(arg, &a->kind);
    case 'e': a->eval_csv = arg; return CS_OK;
    case 'm': return parse_map(arg, NULL, &a->maps[a->nmaps++]);
    case 'r': return parse_map(arg, "run", &a->maps[a->nmaps++]);
    case 's':
        return cs_runlog_status_parse(arg, &a->status)
                   ? cs_fail(CS_EINPUT, "--status: %s", cs_errmsg())
                   : CS_OK;
    default: return CS_OK;
    }
}

static int import_check_args(import_args *a, int nargs, char **args)
{
    if (nargs != 1)
        return cs_fail(CS_EINPUT,
                       nargs ? "expected one FILE.csv, got %d arguments" : "missing FILE.csv",
                       nargs);
    a->csv = args[0];
    if (!a->out)
        return cs_fail(CS_EINPUT, "missing --out DIR");
    if (!a->out[0])
        return cs_fail(CS_EINPUT, "--out: expected a directory name");
    if (a->eval_csv && a->kind == TABLE_EVAL)
        return cs_fail(CS_EINPUT, "--eval goes with a steps FILE.csv, not --table eval");
    return CS_OK;
}

int cs_cli_runs_import(int argc, char **argv)
{
    import_args a;
    int rc;

    memset(&a, 0, sizeof a);
    a.kind = TABLE_STEPS;
    a.status = CS_RUNLOG_FINISHED;
    a.maps = calloc((size_t)argc + 1, sizeof *a.maps);
    if (!a.maps)
        return cs_cli_report(&import_cmd, cs_fail(CS_ENOMEM, "out of memory"));
    rc = cs_cli_parse_opts(&import_cmd, argc, argv, import_opt, &a);
    if (rc < 0 && import_check_args(&a, argc - optind, argv + optind) != CS_OK)
        rc = cs_cli_usage_error(&import_cmd, "%s", cs_errmsg());
    if (rc < 0)
        rc = cs_cli_report(&import_cmd, import_run(&a));
    maps_free(a.maps, a.nmaps);
    return rc;
}
