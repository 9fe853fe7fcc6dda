/* tests/helpers/runlog_writer.c: a test program around the run-log writer and reader, used by
 * tests/cli/test_runlog_kill.sh and tests/cli/test_runlog_h5py.sh.
 *
 *   runlog_writer write PATH NSTEPS finish|running
 *       creates PATH, logs steps 1..NSTEPS (an eval every 5th step) with values that are a fixed
 *       function of the step, printing each step number on stdout (flushed) once its append
 *       returned; then sets status "finished" (or leaves "running") and closes.
 *   runlog_writer check PATH PRINTED finished|running|any
 *       opens PATH with the reader and checks: every step listed in file PRINTED is present,
 *       every committed row (steps and eval, contextwise included) holds exactly the values the
 *       writer wrote, at most one row more than printed is committed, config and status.
 *       Exit 0 ok, 1 mismatch, 3 the reader refused the file (message on stdout).
 *   runlog_writer tiny PATH finish|running|crash
 *       a small log (3 steps, 1 eval, 4-row chunks) for fuzz seeds; "crash" exits without
 *       closing, leaving the file as a killed writer does.
 *   runlog_writer dump PATH
 *       prints the log as sorted-insensitive lines (doubles as their 64-bit patterns in hex),
 *       the same format tests/py/read_runlog.py --dump prints from h5py.
 */
#include "core/error.h"
#include "core/parse.h"
#include "core/runlog.h"
#include "core/runlog_read.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NBINS 6
#define EVAL_EVERY 5
#define CONTEXT 64

static const char *const data_name = "tiny \xc3\xbcn\xc3\xaf" "code \xe2\x9c\x93";

static cs_runlog_step step_values(int64_t i)
{
    cs_runlog_step s = cs_runlog_step_unknown();

    s.step = i;
    s.tokens = i * 4096;
    s.tokens_unique = i % 7 == 0 ? -1 : (i * 4096 < 1000000 ? i * 4096 : 1000000);
    s.epoch = (double)(i * 4096) / 1e6;
    s.flops = 6.0 * 1.5e6 * 4096.0 * (double)i;
    s.wall_s = (double)i * 0.01 + 1e-9;
    s.loss_train = 2.0 + 8.0 / (1.0 + (double)i) + sin((double)i) * 1e-3;
    s.loss_train_best = s.loss_train - 0.1;
    s.lr = 1e-3 * cos((double)i * 1e-3);
    s.grad_norm = 1.0 / sqrt((double)i);
    s.tokens_per_s = i % 3 == 0 ? NAN : 1e5 + (double)i;
    return s;
}

static cs_runlog_eval eval_values(int64_t i, double ctx[NBINS])
{
    cs_runlog_eval e = cs_runlog_eval_unknown();
    int b;

    e.step = i;
    e.tokens = i * 4096;
    e.flops = 6.0 * 1.5e6 * 4096.0 * (double)i;
    e.loss_val = 2.5 + 1.0 / (double)i;
    e.loss_val_best = e.loss_val - 0.05;
    e.loss_val_bpb = e.loss_val / log(2.0) / 4.0;
    for (b = 0; b < NBINS; b++)
        ctx[b] = b >= NBINS - 1 ? NAN : e.loss_val + 1.0 / (double)(b + 1);
    e.contextwise = ctx;
    return e;
}

static int fail(int st, const char *what)
{
    fprintf(stderr, "runlog_writer: %s: %s: %s\n", what, cs_status_name(st), cs_errmsg());
    return 2;
}

static int set_config(cs_runlog *rl)
{
    int st = cs_runlog_set_str(rl, "data_name", data_name);

    if (!st)
        st = cs_runlog_set_int(rl, "context", CONTEXT);
    if (!st)
        st = cs_runlog_set_int(rl, "n_params_nonembed", INT64_C(123456789012));
    if (!st)
        st = cs_runlog_set_double(rl, "lr_max", 3e-4);
    if (!st)
        st = cs_runlog_set_double(rl, "data_bytes_per_token", 4.0);
    if (!st)
        st = cs_runlog_set_str(rl, "flops_formula", "6*N + 6*n_layer*T*d_model");
    if (!st)
        st = cs_runlog_set_int(rl, "my_custom_int", INT64_MIN);
    return st;
}

static int do_write(const char *path, int64_t nsteps, int finish)
{
    cs_runlog_params p = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    int64_t *edges = NULL;
    size_t nb = 0;
    double ctx[NBINS];
    int64_t i;
    int st;

    st = cs_runlog_bin_edges(CONTEXT, 2, 0, NBINS, &edges, &nb);
    if (st)
        return fail(st, "bin edges");
    p.force = true;
    p.context = CONTEXT;
    p.bin_edges = edges;
    p.n_bins = nb;
    st = cs_runlog_create(path, &p, &rl);
    free(edges);
    if (st)
        return fail(st, "create");
    st = set_config(rl);
    if (!st)
        st = cs_runlog_start_swmr(rl);
    for (i = 1; st == CS_OK && i <= nsteps; i++) {
        cs_runlog_step s = step_values(i);

        st = cs_runlog_append_step(rl, &s);
        if (!st && i % EVAL_EVERY == 0) {
            cs_runlog_eval e = eval_values(i, ctx);

            st = cs_runlog_append_eval(rl, &e);
        }
        if (!st) {
            printf("%" PRId64 "\n", i);
            fflush(stdout);
        }
    }
    if (!st && finish)
        st = cs_runlog_set_status(rl, CS_RUNLOG_FINISHED, "done");
    if (st) {
        cs_runlog_abort(rl);
        return fail(st, "write");
    }
    st = cs_runlog_close(rl);
    return st ? fail(st, "close") : 0;
}

static int do_tiny(const char *path, const char *mode)
{
    cs_runlog_params p = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    int64_t *edges = NULL;
    double ctx[NBINS];
    cs_runlog_eval e = eval_values(3, ctx);
    int64_t i;
    int st = cs_runlog_bin_edges(8, 2, 0, 3, &edges, &p.n_bins);

    p.force = true;
    p.context = 8;
    p.bin_edges = edges;
    p.chunk_rows = 4;
    e.contextwise = NULL;
    if (!st)
        st = cs_runlog_create(path, &p, &rl);
    free(edges);
    if (!st)
        st = cs_runlog_set_str(rl, "optimizer", "adamw");
    if (!st)
        st = cs_runlog_set_int(rl, "context", 8);
    if (!st)
        st = cs_runlog_start_swmr(rl);
    for (i = 1; !st && i <= 3; i++) {
        cs_runlog_step s = step_values(i);

        st = cs_runlog_append_step(rl, &s);
    }
    if (!st)
        st = cs_runlog_append_eval(rl, &e);
    if (!st && strcmp(mode, "crash") == 0)
        _exit(0);
    if (!st && strcmp(mode, "finish") == 0)
        st = cs_runlog_set_status(rl, CS_RUNLOG_FINISHED, "done");
    if (!st)
        return cs_runlog_close(rl) ? fail(CS_EIO, "close") : 0;
    cs_runlog_abort(rl);
    return fail(st, "tiny");
}

// ---- check ---------------------------------------------------------------------------------

static int bad(const char *fmt, long long a, long long b)
{
    printf("MISMATCH: ");
    printf(fmt, a, b);
    printf("\n");
    return 1;
}

static int same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Compares row r of the steps table with step_values(r + 1). */
static int check_step_row(const cs_table *t, size_t r)
{
    cs_runlog_step want = step_values((int64_t)r + 1);
    size_t n;
    const cs_runlog_col *cols = cs_runlog_step_cols(&n);
    const double *w[] = {NULL, NULL, NULL, &want.epoch, &want.flops, &want.wall_s,
                         &want.loss_train, &want.loss_train_best, &want.lr, &want.grad_norm,
                         &want.tokens_per_s};
    const int64_t iw[] = {want.step, want.tokens, want.tokens_unique};
    size_t c;

    for (c = 0; c < n; c++) {
        long k = cs_table_find(t, cols[c].name);
        double got = k >= 0 ? cs_table_num(t, r, (size_t)k) : NAN;
        double exp = c < 3 ? (iw[c] == -1 ? NAN : (double)iw[c]) : *w[c];

        if (k < 0 || (!same(got, exp) && !(isnan(got) && isnan(exp))))
            return bad("steps row %lld column %lld differs", (long long)r, (long long)c);
    }
    return 0;
}

static int check_steps(const cs_runlog_reader *r, const int64_t *printed, size_t np)
{
    cs_table *t = NULL;
    size_t n = cs_runlog_read_n_steps(r);
    size_t i;
    int rc = 0;

    if (cs_runlog_read_steps(r, &t) != CS_OK)
        return bad("read steps failed %lld %lld", 0, 0);
    if (cs_table_nrows(t) != n)
        rc = bad("steps table has %lld rows, n_steps %lld", (long long)cs_table_nrows(t),
                 (long long)n);
    for (i = 0; rc == 0 && i < n; i++)
        rc = check_step_row(t, i);
    for (i = 0; rc == 0 && i < np; i++)
        if (printed[i] < 1 || (size_t)printed[i] > n)
            rc = bad("printed step %lld is not committed (%lld rows)", (long long)printed[i],
                     (long long)n);
    if (rc == 0 && n > (np ? (size_t)printed[np - 1] : 0) + 1)
        rc = bad("%lld rows committed but only %lld printed", (long long)n, (long long)np);
    printf("steps: %zu committed, %zu printed\n", n, np);
    cs_table_free(t);
    return rc;
}

static int check_eval_row(const cs_table *t, const cs_runlog_ctxwise *cw, size_t r)
{
    static const char *const names[] = {"step", "tokens", "flops", "loss_val", "loss_val_best",
                                        "loss_val_bpb"};
    double ctx[NBINS];
    cs_runlog_eval e = eval_values((int64_t)(r + 1) * EVAL_EVERY, ctx);
    double want[] = {(double)e.step, (double)e.tokens, e.flops, e.loss_val, e.loss_val_best,
                     e.loss_val_bpb};
    size_t c;

    for (c = 0; c < 6; c++) {
        long k = cs_table_find(t, names[c]);

        if (k < 0 || !same(cs_table_num(t, r, (size_t)k), want[c]))
            return bad("eval row %lld column %lld differs", (long long)r, (long long)c);
    }
    if (cw->step[r] != e.step)
        return bad("contextwise step of row %lld is %lld", (long long)r, (long long)cw->step[r]);
    for (c = 0; c < NBINS; c++)
        if (!same(cw->loss[r * NBINS + c], ctx[c]))
            return bad("contextwise row %lld bin %lld differs", (long long)r, (long long)c);
    return 0;
}

static int check_evals(const cs_runlog_reader *r, size_t n_steps)
{
    cs_table *t = NULL;
    cs_runlog_ctxwise *cw = NULL;
    size_t n = cs_runlog_read_n_evals(r);
    size_t i;
    int rc = 0;

    if (cs_runlog_read_evals(r, &t) != CS_OK || cs_runlog_read_contextwise(r, &cw) != CS_OK)
        rc = bad("read evals failed %lld %lld", 0, 0);
    else if (cw->n_bins != NBINS || cw->n_evals != n || cw->context != CONTEXT ||
             cw->bin_edges[0] != 1 || cw->bin_edges[NBINS] != 2 * CONTEXT + 1)
        rc = bad("contextwise shape: %lld bins, %lld rows", (long long)cw->n_bins,
                 (long long)cw->n_evals);
    else if (n > n_steps / EVAL_EVERY)
        rc = bad("%lld evals for %lld steps", (long long)n, (long long)n_steps);
    for (i = 0; rc == 0 && i < n; i++)
        rc = check_eval_row(t, cw, i);
    cs_table_free(t);
    cs_runlog_read_ctxwise_free(cw);
    return rc;
}

static int check_config(const cs_runlog_reader *r)
{
    const cs_runlog_kv *a = cs_runlog_read_config_find(r, "data_name");
    const cs_runlog_kv *b = cs_runlog_read_config_find(r, "n_params_nonembed");
    const cs_runlog_kv *c = cs_runlog_read_config_find(r, "lr_max");
    const cs_runlog_kv *d = cs_runlog_read_config_find(r, "my_custom_int");

    if (!a || a->type != CS_RUNLOG_STR || strcmp(a->s, data_name) != 0 || !b ||
        b->i != INT64_C(123456789012) || !c || !same(c->d, 3e-4) || !d || d->i != INT64_MIN)
        return bad("config differs %lld %lld", 0, 0);
    return 0;
}

/* Reads the step numbers of file `path` (one per line) into *out. */
static int read_printed(const char *path, int64_t **out, size_t *n)
{
    FILE *f = fopen(path, "r");
    char line[64];
    size_t cap = 1024;
    long v;

    *n = 0;
    *out = malloc(cap * sizeof **out);
    if (!f || !*out)
        return -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (cs_parse_long(line, &v, "printed step") != CS_OK)
            break; /* a line cut by the kill: the append had returned, the print had not */
        if (*n == cap && !(*out = realloc(*out, (cap *= 2) * sizeof **out)))
            return -1;
        (*out)[(*n)++] = v;
    }
    fclose(f);
    return 0;
}

static int do_check(const char *path, const char *printed_path, const char *want)
{
    cs_runlog_reader *r = NULL;
    int64_t *printed = NULL;
    size_t np = 0;
    int st;
    int rc;

    if (read_printed(printed_path, &printed, &np) != 0)
        return fail(CS_EIO, printed_path);
    st = cs_runlog_read_open(path, &r);
    if (st) {
        printf("open failed: %s: %s\n", cs_status_name(st), cs_errmsg());
        free(printed);
        return 3;
    }
    rc = check_steps(r, printed, np);
    if (!rc)
        rc = check_evals(r, cs_runlog_read_n_steps(r));
    if (!rc)
        rc = check_config(r);
    if (!rc && strcmp(want, "any") != 0 &&
        strcmp(cs_runlog_status_name(cs_runlog_read_status(r)), want) != 0)
        rc = bad("status differs (code %lld, message length %lld)", cs_runlog_read_status(r),
                 (long long)strlen(cs_runlog_read_status_message(r)));
    cs_runlog_read_close(r);
    free(printed);
    return rc;
}

// ---- dump ----------------------------------------------------------------------------------

static void put_hex(double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof u);
    printf(" %016" PRIx64, u);
}

static bool col_is_int(const char *group, const char *name)
{
    size_t n;
    const cs_runlog_col *c = strcmp(group, "steps") == 0 ? cs_runlog_step_cols(&n)
                                                         : cs_runlog_eval_cols(&n);
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(c[i].name, name) == 0)
            return c[i].is_int;
    return false;
}

static void dump_table(const char *group, const cs_table *t)
{
    size_t c;
    size_t r;

    printf("%s n_rows %zu\n", group, cs_table_nrows(t));
    for (c = 0; c < cs_table_ncols(t); c++) {
        bool is_int = col_is_int(group, cs_table_col_name(t, c));

        printf("%s %s %s", group, cs_table_col_name(t, c), is_int ? "int" : "f64");
        for (r = 0; r < cs_table_nrows(t); r++) {
            double v = cs_table_num(t, r, c);

            if (is_int)
                printf(" %lld", isnan(v) ? -1LL : (long long)v);
            else
                put_hex(v);
        }
        printf("\n");
    }
}

static void dump_config(const cs_runlog_reader *r)
{
    size_t i;

    for (i = 0; i < cs_runlog_read_n_config(r); i++) {
        const cs_runlog_kv *kv = cs_runlog_read_config(r, i);

        if (kv->type == CS_RUNLOG_STR)
            printf("config %s str %s\n", kv->key, kv->s);
        else if (kv->type == CS_RUNLOG_INT)
            printf("config %s int %" PRId64 "\n", kv->key, kv->i);
        else {
            printf("config %s f64", kv->key);
            put_hex(kv->d);
            printf("\n");
        }
    }
}

static void dump_ctxwise(const cs_runlog_ctxwise *cw)
{
    size_t i;

    printf("eval context %" PRId64 "\n", cw->context);
    printf("eval bin_edges");
    for (i = 0; i <= cw->n_bins && cw->n_bins > 0; i++)
        printf(" %" PRId64, cw->bin_edges[i]);
    printf("\neval contextwise");
    for (i = 0; i < cw->n_evals * cw->n_bins; i++)
        put_hex(cw->loss[i]);
    printf("\n");
}

static int do_dump(const char *path)
{
    cs_runlog_reader *r = NULL;
    cs_table *s = NULL;
    cs_table *e = NULL;
    cs_runlog_ctxwise *cw = NULL;
    int st = cs_runlog_read_open(path, &r);

    if (!st)
        st = cs_runlog_read_steps(r, &s);
    if (!st)
        st = cs_runlog_read_evals(r, &e);
    if (!st)
        st = cs_runlog_read_contextwise(r, &cw);
    if (!st) {
        printf("attr schema %s\n", cs_runlog_read_meta(r, "schema"));
        printf("attr schema_version %" PRId64 "\n", cs_runlog_read_schema_version(r));
        printf("attr tool_version %s\n", cs_runlog_read_meta(r, "tool_version"));
        printf("status %s %s\n", cs_runlog_status_name(cs_runlog_read_status(r)),
               cs_runlog_read_status_message(r));
        dump_config(r);
        dump_table("steps", s);
        dump_table("eval", e);
        dump_ctxwise(cw);
    }
    cs_table_free(s);
    cs_table_free(e);
    cs_runlog_read_ctxwise_free(cw);
    cs_runlog_read_close(r);
    return st ? fail(st, "dump") : 0;
}

int main(int argc, char **argv)
{
    int64_t n = 0;

    if (argc == 5 && strcmp(argv[1], "write") == 0) {
        if (cs_parse_count(argv[3], &n, "NSTEPS") != CS_OK)
            return fail(CS_EINPUT, "usage");
        return do_write(argv[2], n, strcmp(argv[4], "finish") == 0);
    }
    if (argc == 5 && strcmp(argv[1], "check") == 0)
        return do_check(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "tiny") == 0)
        return do_tiny(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return do_dump(argv[2]);
    fprintf(stderr, "usage: runlog_writer write PATH NSTEPS finish|running\n"
                    "       runlog_writer check PATH PRINTED finished|running|any\n"
                    "       runlog_writer tiny PATH finish|running|crash\n"
                    "       runlog_writer dump PATH\n");
    return 2;
}
