/* tests/unit/test_runlog.c: the run-log writer and reader (core/runlog.c, core/runlog_read.c):
 * bin edges, bit-exact round trips of config attributes and of step/eval rows, status, resume
 * (reopen with truncation), whole-table writes, schema-version and bad-file errors, refusing an
 * existing path, directory listing, summaries, and reading a log while another process writes
 * it. The kill -9 test is tests/cli/test_runlog_kill.sh. Run by `make test`.
 */
#include "tests/testutil.h"

#include "core/runlog.h"
#include "core/runlog_read.h"
#include "core/table.h"

#include <fcntl.h>
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

// ---- helpers -------------------------------------------------------------------------------

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A finite double with random sign, exponent and mantissa bits. */
static double rng_double(void)
{
    uint64_t u;
    double d;

    do {
        u = rng_next();
        memcpy(&d, &u, sizeof d);
    } while (!isfinite(d));
    return d;
}

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static bool exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

static int64_t *edges6(size_t *nb)
{
    int64_t *e = NULL;

    assert_int_equal(cs_runlog_bin_edges(64, 2, 0, 6, &e, nb), CS_OK);
    return e;
}

/* A new log at path with 6 contextwise bins (T = 64, k = 2). */
static cs_runlog *new_log(const char *path, size_t chunk_rows)
{
    cs_runlog_params p = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    size_t nb = 0;
    int64_t *e = edges6(&nb);

    p.context = 64;
    p.bin_edges = e;
    p.n_bins = nb;
    p.chunk_rows = chunk_rows;
    assert_int_equal(cs_runlog_create(path, &p, &rl), CS_OK);
    free(e);
    return rl;
}

static cs_runlog_step simple_step(int64_t i)
{
    cs_runlog_step s = cs_runlog_step_unknown();

    s.step = i;
    s.tokens = 1000 * i;
    s.loss_train = 10.0 / (double)(i + 1);
    return s;
}

static void append_steps(cs_runlog *rl, int64_t from, int64_t to)
{
    int64_t i;

    for (i = from; i <= to; i++) {
        cs_runlog_step s = simple_step(i);

        assert_int_equal(cs_runlog_append_step(rl, &s), CS_OK);
    }
}

static void append_eval(cs_runlog *rl, int64_t step)
{
    double ctx[6];
    cs_runlog_eval e = cs_runlog_eval_unknown();
    int b;

    for (b = 0; b < 6; b++)
        ctx[b] = (double)step + 0.125 * b;
    e.step = step;
    e.loss_val = 1.0 + (double)step;
    e.contextwise = ctx;
    assert_int_equal(cs_runlog_append_eval(rl, &e), CS_OK);
}

static cs_runlog_reader *open_ok(const char *path)
{
    cs_runlog_reader *r = NULL;
    int st = cs_runlog_read_open(path, &r);

    if (st != CS_OK)
        fail_msg("open %s: %s", path, cs_errmsg());
    return r;
}

static double cell(const cs_table *t, size_t row, const char *col)
{
    long c = cs_table_find(t, col);

    if (c < 0)
        fail_msg("no column %s", col);
    return cs_table_num(t, row, (size_t)c);
}

// ---- bin edges -----------------------------------------------------------------------------

static void check_edge_props(int64_t T, int64_t k, size_t want, const int64_t *e, size_t n)
{
    size_t i;
    size_t expect = want < (size_t)(T * k) ? want : (size_t)(T * k);

    assert_int_equal(n, expect);
    assert_int_equal(e[0], 1);
    assert_int_equal(e[n], T * k + 1);
    for (i = 0; i < n; i++)
        assert_true(e[i + 1] > e[i]);
}

static void test_bin_edges(void **state)
{
    static const int64_t Ts[] = {1, 2, 7, 64, 1000, 8192, 131072};
    static const size_t ns[] = {1, 2, 5, 16, 40, 200};
    int64_t *e = NULL;
    size_t n = 0;
    size_t i;
    size_t j;

    (void)state;
    assert_int_equal(cs_runlog_bin_edges(64, 2, 0, 6, &e, &n), CS_OK);
    {
        const int64_t golden[] = {1, 2, 5, 11, 26, 57, 129};

        assert_int_equal(n, 6);
        assert_memory_equal(e, golden, sizeof golden);
    }
    free(e);
    for (i = 0; i < sizeof Ts / sizeof Ts[0]; i++) {
        for (j = 0; j < sizeof ns / sizeof ns[0]; j++) {
            assert_int_equal(cs_runlog_bin_edges(Ts[i], 4, 0, ns[j], &e, &n), CS_OK);
            check_edge_props(Ts[i], 4, ns[j], e, n);
            free(e);
        }
    }
    /* Log spacing: far from the start, edge b is (P+1)^(b/n) up to rounding. */
    assert_int_equal(cs_runlog_bin_edges(8192, 4, 0, 32, &e, &n), CS_OK);
    for (i = 16; i < n; i++)
        assert_true(fabs((double)e[i] - pow(32769.0, (double)i / 32.0)) <= 0.5 + 1e-9);
    free(e);
    /* 4 bins per octave over 1..2048: ceil(4 * log2(2049)) = 45 bins. */
    assert_int_equal(cs_runlog_bin_edges(1024, 2, 4.0, 0, &e, &n), CS_OK);
    check_edge_props(1024, 2, 45, e, n);
    free(e);
    assert_int_equal(cs_runlog_bin_edges(64, 1, 0, 0, &e, &n), CS_EINVAL);
    assert_null(e);
    assert_int_equal(cs_runlog_bin_edges(64, 1, 2.0, 8, &e, &n), CS_EINVAL);
    assert_int_equal(cs_runlog_bin_edges(0, 1, 0, 8, &e, &n), CS_EINVAL);
    assert_int_equal(cs_runlog_bin_edges(64, 0, 0, 8, &e, &n), CS_EINVAL);
    assert_int_equal(cs_runlog_bin_edges(INT64_MAX / 2, 4, 0, 8, &e, &n), CS_EINVAL);
    assert_int_equal(cs_runlog_bin_edges(64, 1, NAN, 0, &e, &n), CS_EINVAL);
}

// ---- config --------------------------------------------------------------------------------

static const double special[] = {0.0, -0.0, 1.0 / 3.0, M_PI, DBL_MAX, -DBL_MAX, DBL_MIN,
                                 DBL_MIN / 1024.0 /* subnormal */, INFINITY, -INFINITY, NAN};

static void set_all_config(cs_runlog *rl)
{
    char key[32];
    char *big = malloc(10001);
    size_t i;

    assert_non_null(big);
    memset(big, 'x', 10000);
    big[10000] = '\0';
    assert_int_equal(cs_runlog_set_str(rl, "empty", ""), CS_OK);
    assert_int_equal(cs_runlog_set_str(rl, "data_name", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"), CS_OK);
    assert_int_equal(cs_runlog_set_str(rl, "big", big), CS_OK);
    assert_int_equal(cs_runlog_set_int(rl, "imin", INT64_MIN), CS_OK);
    assert_int_equal(cs_runlog_set_int(rl, "imax", INT64_MAX), CS_OK);
    assert_int_equal(cs_runlog_set_int(rl, "context", 4096), CS_OK);
    for (i = 0; i < sizeof special / sizeof special[0]; i++) {
        snprintf(key, sizeof key, "d%zu", i);
        assert_int_equal(cs_runlog_set_double(rl, key, special[i]), CS_OK);
    }
    assert_int_equal(cs_runlog_set_int(rl, "empty", 5), CS_OK); /* overwrite, type changes */
    free(big);
}

static void test_config_errors(cs_runlog *rl)
{
    assert_int_equal(cs_runlog_set_int(rl, "", 1), CS_EINPUT);
    assert_int_equal(cs_runlog_set_int(rl, "a/b", 1), CS_EINPUT);
    tu_assert_errmsg_has("'/'");
    assert_int_equal(cs_runlog_set_int(rl, "tab\there", 1), CS_EINPUT);
    assert_int_equal(cs_runlog_set_double(rl, "loss_train", 1), CS_EINPUT);
    tu_assert_errmsg_has("reserved");
    assert_int_equal(cs_runlog_set_str(rl, "status", "x"), CS_EINPUT);
    assert_int_equal(cs_runlog_set_double(rl, "context", 4096.0), CS_EINPUT);
    tu_assert_errmsg_has("config key \"context\" must be an int64");
    assert_int_equal(cs_runlog_set_str(rl, "n_params", "many"), CS_EINPUT);
    assert_int_equal(cs_runlog_set_str(rl, "x", NULL), CS_EINVAL);
}

static void check_config(const cs_runlog_reader *r)
{
    char key[32];
    const cs_runlog_kv *kv;
    size_t i;

    kv = cs_runlog_read_config_find(r, "data_name");
    assert_non_null(kv);
    assert_int_equal(kv->type, CS_RUNLOG_STR);
    assert_string_equal(kv->s, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac");
    kv = cs_runlog_read_config_find(r, "big");
    assert_int_equal(strlen(kv->s), 10000);
    assert_int_equal(cs_runlog_read_config_find(r, "imin")->i, INT64_MIN);
    assert_int_equal(cs_runlog_read_config_find(r, "imax")->i, INT64_MAX);
    kv = cs_runlog_read_config_find(r, "empty");
    assert_int_equal(kv->type, CS_RUNLOG_INT);
    assert_int_equal(kv->i, 5);
    for (i = 0; i < sizeof special / sizeof special[0]; i++) {
        snprintf(key, sizeof key, "d%zu", i);
        kv = cs_runlog_read_config_find(r, key);
        assert_non_null(kv);
        assert_int_equal(kv->type, CS_RUNLOG_DOUBLE);
        assert_true(same_bits(kv->d, special[i]));
    }
    /* Creation order; the overwritten key moved to the end. */
    assert_string_equal(cs_runlog_read_config(r, 0)->key, "data_name");
    assert_string_equal(cs_runlog_read_config(r, cs_runlog_read_n_config(r) - 1)->key, "empty");
    assert_null(cs_runlog_read_config_find(r, "missing"));
}

static void test_config_roundtrip(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    cs_runlog *rl;
    cs_runlog_reader *r;

    (void)state;
    snprintf(path, sizeof path, "%s/c.h5", dir);
    rl = new_log(path, 0);
    set_all_config(rl);
    test_config_errors(rl);
    assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    assert_int_equal(cs_runlog_set_int(rl, "late", 1), CS_EINVAL);
    tu_assert_errmsg_has("SWMR");
    assert_int_equal(cs_runlog_start_swmr(rl), CS_EINVAL);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    r = open_ok(path);
    check_config(r);
    assert_string_equal(cs_runlog_read_meta(r, "schema"), CS_RUNLOG_SCHEMA);
    assert_int_equal(cs_runlog_read_schema_version(r), CS_RUNLOG_SCHEMA_VERSION);
    assert_non_null(cs_runlog_read_meta(r, "git_revision"));
    assert_int_equal(strlen(cs_runlog_read_meta(r, "created_utc")), 20); /* 2024-01-02T03:04:05Z */
    assert_null(cs_runlog_read_meta(r, "resumed_utc"));
    assert_int_equal(cs_runlog_read_status(r), CS_RUNLOG_RUNNING);
    assert_string_equal(cs_runlog_read_status_message(r), "");
    cs_runlog_read_close(r);
    free(dir);
}

// ---- rows ----------------------------------------------------------------------------------

#define NROWS 1000
#define NEVALS 37

typedef struct rows {
    cs_runlog_step s[NROWS];
    cs_runlog_eval e[NEVALS];
    double ctx[NEVALS][6];
} rows;

static void make_rows(rows *w)
{
    size_t i;
    size_t b;

    for (i = 0; i < NROWS; i++) {
        cs_runlog_step *s = &w->s[i];

        s->step = (int64_t)(3 * i + (i % 2));
        s->tokens = (int64_t)(rng_next() >> 11) - (INT64_C(1) << 52); /* within +-2^53 */
        s->tokens_unique = i % 5 == 0 ? -1 : (int64_t)i;
        s->epoch = rng_double();
        s->flops = rng_double();
        s->wall_s = special[i % (sizeof special / sizeof special[0])];
        s->loss_train = rng_double();
        s->loss_train_best = rng_double();
        s->lr = rng_double();
        s->grad_norm = i % 9 == 0 ? NAN : rng_double();
        s->tokens_per_s = rng_double();
    }
    for (i = 0; i < NEVALS; i++) {
        w->e[i] = cs_runlog_eval_unknown();
        w->e[i].step = (int64_t)(i / 2) * 10; /* repeated steps are allowed for evals */
        w->e[i].tokens = (int64_t)i * 7;
        w->e[i].flops = rng_double();
        w->e[i].loss_val = rng_double();
        w->e[i].loss_val_best = i % 4 == 0 ? NAN : rng_double();
        w->e[i].loss_val_bpb = rng_double();
        for (b = 0; b < 6; b++)
            w->ctx[i][b] = b == 5 ? NAN : rng_double();
        w->e[i].contextwise = i % 6 == 5 ? NULL : w->ctx[i];
    }
}

static void check_num(double got, double want)
{
    if (isnan(want)) {
        assert_true(isnan(got));
        return;
    }
    if (!same_bits(got, want))
        fail_msg("got %a, want %a", got, want);
}

static void check_steps_table(const cs_table *t, const rows *w)
{
    size_t i;

    assert_int_equal(cs_table_nrows(t), NROWS);
    assert_int_equal(cs_table_ncols(t), 11);
    assert_string_equal(cs_table_col_name(t, 0), "step"); /* schema order */
    assert_string_equal(cs_table_col_name(t, 10), "tokens_per_s");
    for (i = 0; i < NROWS; i++) {
        const cs_runlog_step *s = &w->s[i];

        check_num(cell(t, i, "step"), (double)s->step);
        check_num(cell(t, i, "tokens"), (double)s->tokens);
        check_num(cell(t, i, "tokens_unique"), s->tokens_unique < 0 ? NAN : (double)i);
        check_num(cell(t, i, "epoch"), s->epoch);
        check_num(cell(t, i, "flops"), s->flops);
        check_num(cell(t, i, "wall_s"), s->wall_s);
        check_num(cell(t, i, "loss_train"), s->loss_train);
        check_num(cell(t, i, "loss_train_best"), s->loss_train_best);
        check_num(cell(t, i, "lr"), s->lr);
        check_num(cell(t, i, "grad_norm"), s->grad_norm);
        check_num(cell(t, i, "tokens_per_s"), s->tokens_per_s);
    }
}

static void check_evals(const cs_runlog_reader *r, const rows *w)
{
    cs_table *t = NULL;
    cs_runlog_ctxwise *cw = NULL;
    size_t i;
    size_t b;

    assert_int_equal(cs_runlog_read_evals(r, &t), CS_OK);
    assert_int_equal(cs_runlog_read_contextwise(r, &cw), CS_OK);
    assert_int_equal(cs_table_nrows(t), NEVALS);
    assert_int_equal(cs_table_ncols(t), 6);
    assert_int_equal(cw->n_evals, NEVALS);
    assert_int_equal(cw->n_bins, 6);
    assert_int_equal(cw->context, 64);
    assert_int_equal(cw->bin_edges[6], 129);
    for (i = 0; i < NEVALS; i++) {
        check_num(cell(t, i, "step"), (double)w->e[i].step);
        check_num(cell(t, i, "tokens"), (double)w->e[i].tokens);
        check_num(cell(t, i, "flops"), w->e[i].flops);
        check_num(cell(t, i, "loss_val"), w->e[i].loss_val);
        check_num(cell(t, i, "loss_val_best"), w->e[i].loss_val_best);
        check_num(cell(t, i, "loss_val_bpb"), w->e[i].loss_val_bpb);
        assert_int_equal(cw->step[i], w->e[i].step);
        for (b = 0; b < 6; b++)
            check_num(cw->loss[i * 6 + b], w->e[i].contextwise ? w->ctx[i][b] : NAN);
    }
    cs_table_free(t);
    cs_runlog_read_ctxwise_free(cw);
}

/* Writes every row (in SWMR mode or not), reads them back bit for bit. */
static void roundtrip_rows(bool swmr)
{
    static rows w;
    char *dir = tu_tmpdir();
    char path[4200];
    cs_runlog *rl;
    cs_runlog_reader *r;
    cs_table *t = NULL;
    size_t i;

    make_rows(&w);
    snprintf(path, sizeof path, "%s/rows.h5", dir);
    rl = new_log(path, 7); /* small chunks: many of them */
    if (swmr)
        assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    for (i = 0; i < NROWS; i++)
        assert_int_equal(cs_runlog_append_step(rl, &w.s[i]), CS_OK);
    for (i = 0; i < NEVALS; i++)
        assert_int_equal(cs_runlog_append_eval(rl, &w.e[i]), CS_OK);
    assert_int_equal(cs_runlog_n_steps(rl), NROWS);
    assert_int_equal(cs_runlog_n_evals(rl), NEVALS);
    assert_int_equal(cs_runlog_append_step(rl, &w.s[NROWS - 1]), CS_EINVAL); /* same step */
    assert_int_equal(cs_runlog_append_eval(rl, &w.e[0]), CS_EINVAL);         /* step back */
    assert_int_equal(cs_runlog_set_status(rl, CS_RUNLOG_FINISHED, "ok"), CS_OK);
    assert_int_equal(exists(path), swmr); /* not in place before SWMR start or close */
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    assert_true(exists(path));
    r = open_ok(path);
    assert_int_equal(cs_runlog_read_n_steps(r), NROWS);
    assert_int_equal(cs_runlog_read_steps(r, &t), CS_OK);
    check_steps_table(t, &w);
    check_evals(r, &w);
    assert_int_equal(cs_runlog_read_status(r), CS_RUNLOG_FINISHED);
    cs_table_free(t);
    cs_runlog_read_close(r);
    free(dir);
}

static void test_rows_roundtrip(void **state)
{
    (void)state;
    roundtrip_rows(true);
    roundtrip_rows(false);
}

static void test_no_bins(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    cs_runlog_params p = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    cs_runlog_reader *r;
    cs_runlog_ctxwise *cw = NULL;
    cs_runlog_eval e = cs_runlog_eval_unknown();
    int64_t bad[] = {1, 5, 5};

    (void)state;
    snprintf(path, sizeof path, "%s/nb.h5", dir);
    p.bin_edges = bad;
    p.n_bins = 2;
    assert_int_equal(cs_runlog_create(path, &p, &rl), CS_EINVAL);
    p.bin_edges = NULL;
    p.n_bins = 0;
    assert_int_equal(cs_runlog_create(path, &p, &rl), CS_OK);
    e.step = 3;
    assert_int_equal(cs_runlog_append_eval(rl, &e), CS_OK);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    r = open_ok(path);
    assert_int_equal(cs_runlog_read_contextwise(r, &cw), CS_OK);
    assert_int_equal(cw->n_bins, 0);
    assert_int_equal(cw->n_evals, 1);
    assert_int_equal(cw->context, -1);
    assert_null(cw->loss);
    cs_runlog_read_ctxwise_free(cw);
    cs_runlog_read_close(r);
    free(dir);
}

// ---- status --------------------------------------------------------------------------------

static void test_status(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    char msg[2000];
    cs_runlog *rl;
    cs_runlog_reader *r;
    size_t n;
    int code = -1;

    (void)state;
    for (n = 0; n + 2 < sizeof msg; n += 2)
        memcpy(msg + n, "\xc3\xa9", 2); /* é: a cut must not split it */
    msg[n] = '\0';
    snprintf(path, sizeof path, "%s/s.h5", dir);
    rl = new_log(path, 0);
    assert_int_equal(cs_runlog_set_status(rl, 9, "x"), CS_EINVAL);
    assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    assert_int_equal(cs_runlog_set_status(rl, CS_RUNLOG_DIVERGED, msg), CS_OK);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    r = open_ok(path);
    assert_int_equal(cs_runlog_read_status(r), CS_RUNLOG_DIVERGED);
    assert_int_equal(strlen(cs_runlog_read_status_message(r)), CS_RUNLOG_MESSAGE_MAX - 2);
    assert_memory_equal(cs_runlog_read_status_message(r), msg, CS_RUNLOG_MESSAGE_MAX - 2);
    cs_runlog_read_close(r);
    assert_string_equal(cs_runlog_status_name(CS_RUNLOG_FAILED), "failed");
    assert_string_equal(cs_runlog_status_name(42), "unknown");
    assert_int_equal(cs_runlog_status_parse("diverged", &code), CS_OK);
    assert_int_equal(code, CS_RUNLOG_DIVERGED);
    assert_int_equal(cs_runlog_status_parse("Done", &code), CS_EINPUT);
    free(dir);
}

// ---- reopen --------------------------------------------------------------------------------

static void write_for_resume(const char *path)
{
    cs_runlog *rl = new_log(path, 4);
    cs_table *t = cs_table_alloc("extra");
    size_t c;
    size_t i;

    assert_int_equal(cs_runlog_set_str(rl, "optimizer", "adamw"), CS_OK);
    /* An extra column from a table, before SWMR start. */
    assert_non_null(t);
    assert_int_equal(cs_table_add_col(t, "step", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "my_metric", CS_COL_NUM, &c), CS_OK);
    for (i = 0; i < 2; i++) {
        assert_int_equal(cs_table_append_row(t, 0), CS_OK);
        cs_table_set_num(t, i, 0, (double)(i + 1));
        cs_table_set_num(t, i, c, 0.5 * (double)i);
    }
    assert_int_equal(cs_runlog_write_steps(rl, t), CS_OK);
    cs_table_free(t);
    assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    append_steps(rl, 3, 20);
    for (i = 3; i <= 18; i += 3)
        append_eval(rl, (int64_t)i);
    assert_int_equal(cs_runlog_close(rl), CS_OK); /* status stays "running", as after a kill */
}

static void check_resumed(const char *path, const char *created)
{
    cs_runlog_reader *r = open_ok(path);
    cs_table *t = NULL;
    cs_runlog_ctxwise *cw = NULL;
    size_t i;

    assert_int_equal(cs_runlog_read_n_steps(r), 12);
    assert_int_equal(cs_runlog_read_n_evals(r), 4); /* 3, 6, 9 kept; 12 new */
    assert_string_equal(cs_runlog_read_meta(r, "created_utc"), created);
    assert_non_null(cs_runlog_read_meta(r, "resumed_utc"));
    assert_string_equal(cs_runlog_read_config_find(r, "optimizer")->s, "adamw");
    assert_int_equal(cs_runlog_read_status(r), CS_RUNLOG_RUNNING);
    assert_string_equal(cs_runlog_read_status_message(r), "resumed at step 10");
    assert_int_equal(cs_runlog_read_steps(r, &t), CS_OK);
    for (i = 0; i < 12; i++) {
        cs_runlog_step s = simple_step((int64_t)i + 1);

        check_num(cell(t, i, "step"), (double)(i + 1));
        check_num(cell(t, i, "loss_train"), i < 2 ? NAN : s.loss_train);
        check_num(cell(t, i, "my_metric"), i < 2 ? 0.5 * (double)i : NAN);
    }
    cs_table_free(t);
    assert_int_equal(cs_runlog_read_contextwise(r, &cw), CS_OK);
    assert_int_equal(cw->step[2], 9);
    check_num(cw->loss[2 * 6 + 3], 9.0 + 0.375);
    check_num(cw->loss[3 * 6 + 1], 12.0 + 0.125);
    cs_runlog_read_ctxwise_free(cw);
    cs_runlog_read_close(r);
}

static void test_reopen(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    char part[4300];
    char created[64];
    cs_runlog *rl = NULL;
    cs_runlog_reader *r;
    cs_runlog_step s = simple_step(10);

    (void)state;
    snprintf(path, sizeof path, "%s/run.h5", dir);
    snprintf(part, sizeof part, "%s.part", path);
    write_for_resume(path);
    r = open_ok(path);
    snprintf(created, sizeof created, "%s", cs_runlog_read_meta(r, "created_utc"));
    cs_runlog_read_close(r);
    assert_int_equal(cs_runlog_reopen(path, -1, &rl), CS_EINVAL);
    assert_int_equal(cs_runlog_reopen(tu_path(dir, "nope.h5"), 3, &rl), CS_EINPUT);
    assert_int_equal(cs_runlog_reopen(path, 10, &rl), CS_OK);
    assert_false(exists(part));
    assert_int_equal(cs_runlog_n_steps(rl), 10);
    assert_int_equal(cs_runlog_n_evals(rl), 3);
    assert_int_equal(cs_runlog_append_step(rl, &s), CS_EINVAL); /* step 10 is there already */
    assert_int_equal(cs_runlog_set_int(rl, "late", 1), CS_EINVAL); /* already in SWMR mode */
    append_steps(rl, 11, 12);
    append_eval(rl, 12);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    check_resumed(path, created);
    /* Resuming from step 0 keeps nothing but the config. */
    assert_int_equal(cs_runlog_reopen(path, 0, &rl), CS_OK);
    assert_int_equal(cs_runlog_n_steps(rl), 0);
    assert_int_equal(cs_runlog_n_evals(rl), 0);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    free(dir);
}

// ---- tables (importers) --------------------------------------------------------------------

/* A table with step, tokens, loss_train, an extra numeric and a text column. */
static cs_table *import_table(const double *steps, const double *tokens, size_t n)
{
    cs_table *t = cs_table_alloc("runs.csv");
    size_t i;

    assert_non_null(t);
    assert_int_equal(cs_table_add_col(t, "step", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "tokens", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "loss_train", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "ppl", CS_COL_NUM, NULL), CS_OK);
    assert_int_equal(cs_table_add_col(t, "note", CS_COL_STR, NULL), CS_OK);
    for (i = 0; i < n; i++) {
        assert_int_equal(cs_table_append_row(t, i + 2), CS_OK);
        cs_table_set_num(t, i, 0, steps[i]);
        cs_table_set_num(t, i, 1, tokens[i]);
        cs_table_set_num(t, i, 2, 3.0 - 0.1 * (double)i);
        cs_table_set_num(t, i, 3, exp(3.0 - 0.1 * (double)i));
        assert_int_equal(cs_table_set_str(t, i, 4, "text"), CS_OK);
    }
    return t;
}

static void test_write_tables(void **state)
{
    static const double steps[] = {0, 10, 20, 30};
    static const double tokens[] = {0, NAN, 2e4, 3e4};
    static const double bad_tokens[] = {0, 1.5, 2, 3};
    static const double bad_steps[] = {0, 10, 10, 30};
    char *dir = tu_tmpdir();
    char path[4200];
    cs_runlog *rl;
    cs_table *t = import_table(steps, bad_tokens, 4);
    cs_table *got = NULL;
    cs_runlog_reader *r;

    (void)state;
    snprintf(path, sizeof path, "%s/imp.h5", dir);
    rl = new_log(path, 0);
    assert_int_equal(cs_runlog_write_steps(rl, t), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv:3: column \"tokens\": expected a whole number, got 1.5");
    cs_table_free(t);
    t = import_table(bad_steps, tokens, 4);
    assert_int_equal(cs_runlog_write_steps(rl, t), CS_EINPUT);
    tu_assert_errmsg_has("runs.csv:4: column \"step\": steps must increase");
    cs_table_free(t);
    t = import_table(steps, tokens, 4);
    assert_int_equal(cs_runlog_write_steps(rl, t), CS_OK);
    assert_int_equal(cs_runlog_write_steps(rl, t), CS_EINPUT); /* step 0 is not after 30 */
    assert_int_equal(cs_runlog_write_evals(rl, t), CS_OK);
    cs_table_free(t);
    t = cs_table_alloc("nostep");
    assert_int_equal(cs_runlog_write_steps(rl, t), CS_EINPUT);
    tu_assert_errmsg_has("missing column \"step\"");
    cs_table_free(t);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    r = open_ok(path);
    assert_int_equal(cs_runlog_read_steps(r, &got), CS_OK);
    assert_int_equal(cs_table_nrows(got), 4);
    assert_int_equal(cs_table_ncols(got), 12); /* 11 schema columns + ppl; note is dropped */
    assert_true(cs_table_find(got, "note") < 0);
    check_num(cell(got, 1, "tokens"), NAN);
    check_num(cell(got, 3, "ppl"), exp(3.0 - 0.3));
    check_num(cell(got, 2, "lr"), NAN);
    cs_table_free(got);
    assert_int_equal(cs_runlog_read_evals(r, &got), CS_OK);
    assert_int_equal(cs_table_ncols(got), 8); /* 6 schema columns + extras loss_train, ppl */
    cs_table_free(got);
    cs_runlog_read_close(r);
    free(dir);
}

static void test_table_after_swmr(void **state)
{
    static const double steps[] = {1, 2};
    static const double tokens[] = {1, 2};
    char *dir = tu_tmpdir();
    char path[4200];
    cs_runlog *rl;
    cs_table *t = import_table(steps, tokens, 2);

    (void)state;
    snprintf(path, sizeof path, "%s/late.h5", dir);
    rl = new_log(path, 0);
    assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    assert_int_equal(cs_runlog_write_steps(rl, t), CS_EINVAL); /* "ppl" would be a new dataset */
    tu_assert_errmsg_has("column \"ppl\" is not in the schema");
    cs_table_free(t);
    cs_runlog_abort(rl); /* already in place: kept, closed */
    assert_true(exists(path));
    free(dir);
}

// ---- bad files -----------------------------------------------------------------------------

static void write_small_log(const char *path)
{
    cs_runlog *rl = new_log(path, 0);

    assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    append_steps(rl, 1, 30);
    append_eval(rl, 30);
    assert_int_equal(cs_runlog_set_status(rl, CS_RUNLOG_FINISHED, NULL), CS_OK);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
}

static void set_root_attr(const char *path, const char *name, bool is_int, int64_t v,
                          const char *s)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a;
    hid_t t = H5Tcopy(H5T_C_S1);

    assert_true(f >= 0);
    H5Tset_size(t, H5T_VARIABLE);
    a = H5Aopen(f, name, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true((is_int ? H5Awrite(a, H5T_NATIVE_INT64, &v) : H5Awrite(a, t, &s)) >= 0);
    H5Aclose(a);
    H5Tclose(t);
    H5Fclose(f);
}

static void expect_refused(const char *path, int status, const char *needle)
{
    cs_runlog_reader *r = NULL;

    assert_int_equal(cs_runlog_read_open(path, &r), status);
    assert_null(r);
    tu_assert_errmsg_has(path);
    tu_assert_errmsg_has(needle);
}

static void test_schema_version(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    char want[4400];
    cs_runlog *rl = NULL;

    (void)state;
    snprintf(path, sizeof path, "%s/v.h5", dir);
    write_small_log(path);
    set_root_attr(path, "schema_version", true, 7, NULL);
    snprintf(want, sizeof want, "%s: run-log schema version 7 is newer than this ctxscale "
                                "understands (1); upgrade ctxscale", path);
    expect_refused(path, CS_EINPUT, want);
    assert_string_equal(cs_errmsg(), want);
    assert_int_equal(cs_runlog_reopen(path, 3, &rl), CS_EINPUT);
    tu_assert_errmsg_has("newer than this ctxscale");
    set_root_attr(path, "schema_version", true, 0, NULL);
    expect_refused(path, CS_EINPUT, "schema version 0 is not valid");
    set_root_attr(path, "schema_version", true, 1, NULL);
    set_root_attr(path, "schema", false, 0, "someone-else");
    expect_refused(path, CS_EINPUT, "not a ctxscale run log (schema is \"someone-else\"");
    free(dir);
}

/* Runs a failing open with stderr sent to a file; HDF5 must print nothing. */
static void expect_silent_refusal(const char *path, int status, const char *needle,
                                  const char *errfile)
{
    int saved = dup(2);
    int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    struct stat sb;

    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    expect_refused(path, status, needle);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(stat(errfile, &sb), 0);
    assert_int_equal(sb.st_size, 0);
}

static void test_bad_files(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    char half[4200];
    char err[4200];
    FILE *f;
    char *buf;
    long n;
    H5E_auto2_t func = NULL;
    void *data = NULL;

    (void)state;
    snprintf(path, sizeof path, "%s/good.h5", dir);
    snprintf(half, sizeof half, "%s/half.h5", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    write_small_log(path);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    tu_write_file(half, buf, (size_t)n / 2);
    expect_silent_refusal(half, CS_EINPUT, "not an HDF5 run log", err);
    tu_write_file(half, buf, 200);
    expect_silent_refusal(half, CS_EINPUT, "not an HDF5 run log", err);
    free(buf);
    tu_write_file(tu_path(dir, "text.h5"), "step,loss\n1,2\n", 14);
    expect_silent_refusal(tu_path(dir, "text.h5"), CS_EINPUT, "not an HDF5 run log (no HDF5", err);
    tu_write_file(tu_path(dir, "empty.h5"), "", 0);
    expect_refused(tu_path(dir, "empty.h5"), CS_EINPUT, "not an HDF5 run log (empty file)");
    expect_refused(dir, CS_EINPUT, "not a regular file");
    expect_refused(tu_path(dir, "missing.h5"), CS_EINPUT, "No such file");
    /* HDF5's own error printing is restored after our calls. */
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    assert_non_null(func);
    free(dir);
}

static void test_not_runlog_hdf5(void **state)
{
    char *dir = tu_tmpdir();
    const char *path = tu_path(dir, "other.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);

    (void)state;
    assert_true(f >= 0);
    H5Fclose(f);
    expect_refused(path, CS_EINPUT, "not a ctxscale run log (no \"schema\"");
    free(dir);
}

static void test_existing_refused(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    char part[4300];
    cs_runlog_params p = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    cs_runlog_reader *r;
    char buf[16] = "";
    FILE *f;

    (void)state;
    snprintf(path, sizeof path, "%s/keep.h5", dir);
    snprintf(part, sizeof part, "%s.part", path);
    tu_write_file(path, "keep me", 7);
    assert_int_equal(cs_runlog_create(path, &p, &rl), CS_EINPUT);
    tu_assert_errmsg_has("exists; use --force to overwrite");
    assert_null(rl);
    assert_false(exists(part));
    f = fopen(path, "rb");
    assert_int_equal(fread(buf, 1, sizeof buf, f), 7);
    fclose(f);
    assert_string_equal(buf, "keep me");
    /* A file that appears at the path between create and start is not replaced either. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(cs_runlog_create(path, &p, &rl), CS_OK);
    tu_write_file(path, "late", 4);
    assert_int_equal(cs_runlog_start_swmr(rl), CS_EINPUT);
    cs_runlog_abort(rl);
    assert_false(exists(part));
    /* With force, the old file is replaced. */
    p.force = true;
    assert_int_equal(cs_runlog_create(path, &p, &rl), CS_OK);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    r = open_ok(path);
    cs_runlog_read_close(r);
    free(dir);
}

// ---- listing and summaries -----------------------------------------------------------------

static void test_list(void **state)
{
    char *dir = tu_tmpdir();
    char sub[2048];
    char **paths = NULL;
    size_t n = 0;

    (void)state;
    tu_write_file(tu_path(dir, "b.h5"), "x", 1);
    tu_write_file(tu_path(dir, "a.h5"), "x", 1);
    tu_write_file(tu_path(dir, "c.txt"), "x", 1);
    tu_write_file(tu_path(dir, ".hidden.h5"), "x", 1);
    tu_write_file(tu_path(dir, "x.h5.part"), "x", 1);
    snprintf(sub, sizeof sub, "%s/run1", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    tu_write_file(tu_path(sub, "run.h5"), "x", 1);
    tu_write_file(tu_path(sub, "ckpt.bin"), "x", 1);
    snprintf(sub, sizeof sub, "%s/run1/deeper", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    tu_write_file(tu_path(sub, "deep.h5"), "x", 1);
    snprintf(sub, sizeof sub, "%s/", dir); /* a trailing slash changes nothing */
    assert_int_equal(cs_runlog_read_list(sub, &paths, &n), CS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(paths[0], tu_path(dir, "a.h5"));
    assert_string_equal(paths[1], tu_path(dir, "b.h5"));
    assert_string_equal(paths[2], tu_path(dir, "run1/run.h5"));
    cs_runlog_read_list_free(paths, n);
    assert_int_equal(cs_runlog_read_list(tu_path(dir, "nope"), &paths, &n), CS_EIO);
    assert_null(paths);
    free(dir);
}

static void write_summary_runs(const char *dir)
{
    cs_runlog *rl = new_log(tu_path(dir, "a.h5"), 0);

    assert_int_equal(cs_runlog_set_int(rl, "n_params_nonembed", 1000000), CS_OK);
    assert_int_equal(cs_runlog_set_str(rl, "optimizer", "adamw"), CS_OK);
    assert_int_equal(cs_runlog_set_str(rl, "mixed", "text"), CS_OK);
    assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    append_steps(rl, 1, 9);
    append_eval(rl, 5);
    append_eval(rl, 9);
    assert_int_equal(cs_runlog_set_status(rl, CS_RUNLOG_FINISHED, "done"), CS_OK);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    rl = new_log(tu_path(dir, "b.h5"), 0);
    assert_int_equal(cs_runlog_set_int(rl, "n_params_nonembed", 2000000), CS_OK);
    assert_int_equal(cs_runlog_set_int(rl, "mixed", 7), CS_OK);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
}

static void test_summaries(void **state)
{
    char *dir = tu_tmpdir();
    char **paths = NULL;
    size_t n = 0;
    cs_table *t = NULL;
    long c;

    (void)state;
    write_summary_runs(dir);
    assert_int_equal(cs_runlog_read_list(dir, &paths, &n), CS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(cs_runlog_read_summaries((const char *const *)paths, n, "runs", &t), CS_OK);
    assert_int_equal(cs_table_nrows(t), 2);
    assert_string_equal(cs_table_str(t, 0, (size_t)cs_table_find(t, "status")), "finished");
    assert_string_equal(cs_table_str(t, 1, (size_t)cs_table_find(t, "status")), "running");
    assert_string_equal(cs_table_str(t, 0, (size_t)cs_table_find(t, "path")), paths[0]);
    check_num(cell(t, 0, "n_params_nonembed"), 1e6);
    check_num(cell(t, 1, "n_params_nonembed"), 2e6);
    check_num(cell(t, 0, "n_steps"), 9);
    check_num(cell(t, 0, "step"), 9);
    check_num(cell(t, 0, "loss_train"), 1.0);
    check_num(cell(t, 1, "loss_train"), NAN);
    check_num(cell(t, 0, "step_eval"), 9);
    check_num(cell(t, 0, "loss_val"), 10.0);
    check_num(cell(t, 1, "step_eval"), NAN);
    c = cs_table_find(t, "optimizer");
    assert_string_equal(cs_table_str(t, 1, (size_t)c), "");
    c = cs_table_find(t, "mixed"); /* text first, then an int: formatted */
    assert_int_equal(cs_table_col_type(t, (size_t)c), CS_COL_STR);
    assert_string_equal(cs_table_str(t, 1, (size_t)c), "7");
    cs_table_free(t);
    cs_runlog_read_list_free(paths, n);
    free(dir);
}

// ---- a reader beside a live writer ---------------------------------------------------------

/* The child writes 10 steps, tells the parent, waits for its go, writes 10 more and closes. */
static void live_writer(const char *path, int to_parent, int from_parent)
{
    cs_runlog *rl = new_log(path, 3);
    char c = 'x';

    if (cs_runlog_start_swmr(rl) != CS_OK)
        _exit(1);
    append_steps(rl, 1, 10);
    if (write(to_parent, &c, 1) != 1 || read(from_parent, &c, 1) != 1)
        _exit(1);
    append_steps(rl, 11, 20);
    _exit(cs_runlog_close(rl) == CS_OK ? 0 : 1);
}

static void test_live_reader(void **state)
{
    char *dir = tu_tmpdir();
    const char *path = tu_path(dir, "live.h5");
    int up[2];
    int down[2];
    char c;
    pid_t pid;
    int status = 0;
    cs_runlog_reader *r;

    (void)state;
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        live_writer(path, up[1], down[0]);
    assert_int_equal(read(up[0], &c, 1), 1);
    r = open_ok(path); /* the writer is still running, in SWMR mode */
    assert_int_equal(cs_runlog_read_n_steps(r), 10);
    assert_int_equal(cs_runlog_read_status(r), CS_RUNLOG_RUNNING);
    cs_runlog_read_close(r);
    assert_int_equal(write(down[1], &c, 1), 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    r = open_ok(path);
    assert_int_equal(cs_runlog_read_n_steps(r), 20);
    cs_runlog_read_close(r);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    free(dir);
}

// ---- docs/runlog.md stays true ------------------------------------------------------------

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc((size_t)n + 1, 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* Every fenced block of language `lang` in doc must be a verbatim excerpt of src. */
static void check_excerpts(const char *doc, const char *lang, const char *src, const char *name)
{
    char fence[32];
    const char *p = doc;
    int found = 0;

    snprintf(fence, sizeof fence, "```%s\n", lang);
    while ((p = strstr(p, fence)) != NULL) {
        const char *start = p + strlen(fence);
        const char *end = strstr(start, "```");
        char *block;

        assert_non_null(end);
        block = strndup(start, (size_t)(end - start));
        if (strstr(src, block) == NULL)
            fail_msg("docs/runlog.md: a ```%s block is not an excerpt of %s:\n%s", lang, name,
                     block);
        free(block);
        found++;
        p = end + 3;
    }
    assert_true(found > 0);
}

/* docs/runlog.md lists every schema column and well-known config key in a table row, and its
 * code examples are excerpts of files the tests run. */
static void test_docs_in_sync(void **state)
{
    char path[4096];
    char row[300];
    char *doc;
    char *src;
    size_t n;
    size_t i;
    const cs_runlog_col *sc = cs_runlog_step_cols(&n);

    (void)state;
    snprintf(path, sizeof path, "%s/docs/runlog.md", tu_srcdir());
    doc = slurp(path);
    for (i = 0; i < n; i++) {
        snprintf(row, sizeof row, "| `%s` | %s |", sc[i].name, sc[i].is_int ? "int64" : "f64");
        if (!strstr(doc, row))
            fail_msg("docs/runlog.md lacks the steps row %s", row);
    }
    sc = cs_runlog_eval_cols(&n);
    for (i = 0; i < n; i++) {
        snprintf(row, sizeof row, "| `%s` | %s |", sc[i].name, sc[i].is_int ? "int64" : "f64");
        if (!strstr(doc, row))
            fail_msg("docs/runlog.md lacks the eval row %s", row);
    }
    {
        static const char *const tn[] = {"string", "int64", "f64"};
        const cs_runlog_key *k = cs_runlog_config_keys(&n);

        for (i = 0; i < n; i++) {
            snprintf(row, sizeof row, "| `%s` | %s |", k[i].name, tn[k[i].type]);
            if (!strstr(doc, row))
                fail_msg("docs/runlog.md lacks the config row %s", row);
        }
    }
    snprintf(path, sizeof path, "%s/tests/py/read_runlog.py", tu_srcdir());
    src = slurp(path);
    check_excerpts(doc, "python", src, "tests/py/read_runlog.py");
    free(src);
    snprintf(path, sizeof path, "%s/tests/helpers/runlog_writer.c", tu_srcdir());
    src = slurp(path);
    check_excerpts(doc, "c", src, "tests/helpers/runlog_writer.c");
    free(src);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bin_edges),
        cmocka_unit_test(test_config_roundtrip),
        cmocka_unit_test(test_rows_roundtrip),
        cmocka_unit_test(test_no_bins),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_write_tables),
        cmocka_unit_test(test_table_after_swmr),
        cmocka_unit_test(test_schema_version),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_not_runlog_hdf5),
        cmocka_unit_test(test_existing_refused),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_summaries),
        cmocka_unit_test(test_live_reader),
        cmocka_unit_test(test_docs_in_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
