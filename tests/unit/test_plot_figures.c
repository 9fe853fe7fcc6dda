/* tests/unit/test_plot_figures.c: the figure programs (plots/figures.h) on small inputs with
 * known truth: S1 and S2 on IsoFLOP points drawn from a Chinchilla law, S2 (Approach 3) and S3
 * from a fit of those points, S4 on xiong-context curves, S5 on vocabulary curves with a known
 * best vocabulary, C1, C4, C5 and S6 on run logs written here with core/runlog.h (hostile run
 * names and data names included), C3 on a token store; each figure rendered to PNG, SVG and PDF
 * with its data file (skipped without gnuplot; a missing terminal skips its format); bad input.
 *
 * `test_plot_figures --write-runs DIR` writes the run logs and the store into DIR for
 * tests/cli/test_plot.sh. Run by `make test`. */
#include "tests/testutil.h"

#include "core/csv.h"
#include "core/runlog.h"
#include "data/store.h"
#include "data/tokenizer.h"
#include "fit/bootstrap.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/fitjson.h"
#include "fit/law.h"
#include "plots/figures.h"
#include "plots/gnuplot.h"
#include "plots/plot.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <sys/stat.h>

/* The Chinchilla law the points are drawn from (Hoffmann et al. 2022, Approach 3). */
#define TE     1.69
#define TA     406.4
#define TB     410.7
#define TALPHA 0.34
#define TBETA  0.28

/* A label that would run commands if gnuplot ever saw it unescaped. */
static const char hostile[] = "mix \"q\" `touch PWNED1` $(touch PWNED2) system(\"touch PWNED3\") "
                              "@m \\ (17 \xc3\xa9\ttab";

static double truth_L(double N, double D)
{
    return TE + TA / pow(N, TALPHA) + TB / pow(D, TBETA);
}

/* Compute-optimal N of the truth at C = 6ND (closed form). */
static double truth_Nopt(double C)
{
    double G = pow(TALPHA * TA / (TBETA * TB), 1.0 / (TALPHA + TBETA));

    return G * pow(C / 6.0, TBETA / (TALPHA + TBETA));
}

static bool have_gnuplot(void)
{
    char *terms = NULL;
    int st = cs_gnuplot_terminals(&terms);

    free(terms);
    return st == CS_OK;
}

static void write_text(const char *path, const char *text)
{
    tu_write_file(path, text, strlen(text));
}

static bool exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Renders p into dir (all formats) and checks the files: the data and script always, each
 * format unless this gnuplot lacks its terminal. Skips the drawing without gnuplot. */
static void render_check(const cs_plot *p, const char *dir)
{
    static const char *const ext[] = {"png", "svg", "pdf"};
    cs_plot_render_params rp = cs_plot_default_render_params();
    cs_plot_render_result res;
    char path[2048];
    int i;

    if (!have_gnuplot()) {
        print_message("gnuplot not available: %s not drawn\n", cs_plot_id(p));
        return;
    }
    rp.log = stderr;
    assert_int_equal(cs_plot_render(p, dir, &rp, &res), CS_OK);
    for (i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s.%s", dir, cs_plot_id(p), ext[i]);
        if (res.skipped & (1u << i)) {
            print_message("%s: no terminal for it, skipped\n", path);
            continue;
        }
        assert_true(exists(path));
    }
    snprintf(path, sizeof path, "%s/%s.dat", dir, cs_plot_id(p));
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/%s.gp", dir, cs_plot_id(p));
    assert_true(exists(path));
}

/* Options with the given inputs. */
static cs_figures_opts opts_with(const char *const *inputs, size_t n)
{
    cs_figures_opts o = cs_figures_default_opts();

    o.inputs = inputs;
    o.ninputs = n;
    o.log = stderr;
    return o;
}

static cs_plot *build_ok(const char *id, const cs_figures_opts *o)
{
    cs_plot *p = NULL;
    int st = cs_figures_build(id, o, &p);

    if (st != CS_OK)
        fail_msg("figure %s: %s: %s", id, cs_status_name(st), cs_errmsg());
    assert_non_null(p);
    return p;
}

// ---- inputs: IsoFLOP points, a fit, xiong curves, vocabulary curves ----------------------------

/* 4 budgets x 7 model sizes spread by factors of 2 around the true optimum, noise-free. */
static void write_isoflop_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    int b, k;

    assert_non_null(f);
    fprintf(f, "N,C,D,L\n");
    for (b = 0; b < 4; b++) {
        double C = 1e18 * pow(10.0, b);

        for (k = 0; k < 7; k++) {
            double N = truth_Nopt(C) * pow(2.0, k - 3), D = C / (6.0 * N);

            fprintf(f, "%.17g,%.17g,%.17g,%.17g\n", N, C, D, truth_L(N, D));
        }
    }
    assert_int_equal(fclose(f), 0);
}

/* Fits the chinchilla law to the points of `csv` with a small bootstrap and writes the JSON. */
static void write_fit_json(const char *csv, const char *json)
{
    cs_law *law = cs_law_builtin("chinchilla");
    cs_dataset_params dp = cs_dataset_default_params();
    cs_fit_params fp = cs_fit_default_params();
    cs_boot_params bp = cs_boot_default_params();
    cs_table *t = NULL;
    cs_dataset *ds = NULL;
    cs_fit_result *fit = NULL;
    cs_boot_result *boot = NULL;
    cs_fitjson *fj = NULL;
    FILE *f;

    assert_non_null(law);
    fp.threads = 2;
    bp.n = 8;
    assert_int_equal(cs_csv_read(csv, NULL, &t), CS_OK);
    assert_int_equal(cs_dataset_build(t, law, &dp, &ds), CS_OK);
    assert_int_equal(cs_fit_run(law, ds, &fp, &fit), CS_OK);
    assert_int_equal(cs_boot_run(law, ds, &fp, fit, &bp, &boot), CS_OK);
    assert_int_equal(cs_fitjson_from_fit(law, NULL, 0, ds, fit, boot, &fj), CS_OK);
    assert_non_null(f = fopen(json, "w"));
    assert_int_equal(cs_fitjson_write(f, fj), CS_OK);
    assert_int_equal(fclose(f), 0);
    cs_fitjson_free(fj);
    cs_boot_result_free(boot);
    cs_fit_result_free(fit);
    cs_dataset_free(ds);
    cs_table_free(t);
    cs_law_free(law);
}

/* L(T) = (alpha/T)^beta + gamma per size, alpha = 50, beta = 0.4, gamma = 2 + 1e8/N * 0.5. */
static double xiong_truth(double N, double T)
{
    return pow(50.0 / T, 0.4) + 2.0 + 0.5 * 1e8 / N;
}

static void write_xiong_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    int s, k;

    assert_non_null(f);
    fprintf(f, "size,context,loss\n");
    for (s = 0; s < 3; s++)
        for (k = 6; k <= 15; k++) {
            double N = 1e8 * pow(4.0, s), T = pow(2.0, k);

            fprintf(f, "%g,%g,%.17g\n", N, T, xiong_truth(N, T));
        }
    assert_int_equal(fclose(f), 0);
}

/* The best vocabulary of the synthetic vocabulary data: 2000 (N / 1e7)^0.5. */
static double vocab_best(double N)
{
    return 2000.0 * sqrt(N / 1e7);
}

/* 4 families x 7 vocabularies, each a curve over 11 budgets; the loss is quadratic in ln V
 * around vocab_best(N), lower for larger N and C. */
static void write_vocab_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    int i, j, k;

    assert_non_null(f);
    fprintf(f, "vocab_size,Non_vocab_parameters,FLOPs,Lossu\n");
    for (i = 0; i < 4; i++)
        for (j = 0; j < 7; j++)
            for (k = 0; k <= 10; k++) {
                double N = 1e7 * pow(4.0, i), V = 1024.0 * pow(2.0, j), C = 1e15 * pow(2.0, k);
                double dv = log(V) - log(vocab_best(N));

                fprintf(f, "%g,%g,%g,%.17g\n", V, N, C,
                        -1.0 - 0.2 * log(C / 1e15) - 0.1 * log(N / 1e7) + 0.05 * dv * dv);
            }
    assert_int_equal(fclose(f), 0);
}

// ---- inputs: run logs and a token store ---------------------------------------------------

/* The contextwise truth of the test runs: falling with position up to T, rising past it. */
static double ctx_truth(double pos, double T, int64_t step)
{
    double base = 2.0 + 3.0 / sqrt(fmin(pos, T)) + (step == 100 ? 0.1 : 0.0);

    return pos <= T ? base : base + 0.5 * log(pos / T);
}

/* A finished run log at `path` with two evals (steps 100 and 200); contextwise loss over
 * positions 1 .. extrap*T unless !with_cw. */
static void write_run(const char *path, int64_t T, int64_t extrap, int64_t N, const char *data,
                      bool with_cw)
{
    cs_runlog_params p = cs_runlog_default_params();
    cs_runlog *rl = NULL;
    int64_t *edges = NULL, step;
    size_t nb = 0, b;
    double cw[64];

    assert_int_equal(cs_runlog_bin_edges(T, extrap, 2.0, 0, &edges, &nb), CS_OK);
    assert_true(nb <= 64);
    p.force = true;
    p.context = T;
    p.bin_edges = with_cw ? edges : NULL;
    p.n_bins = with_cw ? nb : 0;
    assert_int_equal(cs_runlog_create(path, &p, &rl), CS_OK);
    assert_int_equal(cs_runlog_set_int(rl, CS_RUNLOG_KEY_N_PARAMS_NONEMBED, N), CS_OK);
    assert_int_equal(cs_runlog_set_int(rl, CS_RUNLOG_KEY_CONTEXT, T), CS_OK);
    assert_int_equal(cs_runlog_set_str(rl, "data_name", data), CS_OK);
    assert_int_equal(cs_runlog_set_str(rl, "device", "cpu"), CS_OK);
    assert_int_equal(cs_runlog_start_swmr(rl), CS_OK);
    for (step = 100; step <= 200; step += 100) {
        cs_runlog_step s = cs_runlog_step_unknown();
        cs_runlog_eval e = cs_runlog_eval_unknown();
        double sum = 0.0, n = 0.0;

        s.step = e.step = step;
        s.tokens = e.tokens = step * 4096;
        assert_int_equal(cs_runlog_append_step(rl, &s), CS_OK);
        for (b = 0; b < nb; b++) {
            double a = (double)edges[b], z = (double)edges[b + 1] - 1.0;

            cw[b] = ctx_truth(sqrt(a * z), (double)T, step);
            if (z <= (double)T)
                sum += cw[b], n += 1.0;
        }
        e.loss_val = sum / n;
        e.loss_val_best = ctx_truth(0.975 * (double)T, (double)T, step);
        e.contextwise = with_cw ? cw : NULL;
        assert_int_equal(cs_runlog_append_eval(rl, &e), CS_OK);
    }
    assert_int_equal(cs_runlog_set_status(rl, CS_RUNLOG_FINISHED, "done"), CS_OK);
    assert_int_equal(cs_runlog_close(rl), CS_OK);
    free(edges);
}

static void mkdir_ok(const char *path)
{
    assert_true(mkdir(path, 0777) == 0 || exists(path));
}

/* A token store of 7 documents (one empty) of byte tokens. */
static void write_store(const char *dir)
{
    static const size_t lens[] = {10, 10, 10, 100, 100, 1000, 0};
    cs_store_input in[7];
    uint8_t *text = malloc(1000);
    cs_tok *tok = cs_tok_alloc_byte();
    size_t i;

    assert_non_null(text);
    assert_non_null(tok);
    memset(text, 'a', 1000);
    for (i = 0; i < 7; i++) {
        in[i].bytes = text;
        in[i].n = lens[i];
        in[i].source = "test";
        in[i].split = i == 4 ? CS_STORE_VAL : CS_STORE_TRAIN;
    }
    assert_int_equal(cs_store_build(dir, tok, NULL, in, 7, NULL), CS_OK);
    cs_tok_free(tok);
    free(text);
}

/* The fixtures of the run-log figures under dir: runs/ (T = 64, 128, 256, evaluated to 4 T),
 * one/ (a single run), hostile/ (hostile file name and data name, and a plain one), nocw/ (a log
 * without contextwise loss), empty/ and store/. */
static void write_fixtures(const char *dir)
{
    char path[2048], sub[1200];

    mkdir_ok(dir);
    snprintf(sub, sizeof sub, "%s/runs", dir);
    mkdir_ok(sub);
    snprintf(path, sizeof path, "%s/T64.h5", sub);
    write_run(path, 64, 4, 1000000, "pd-books", true);
    snprintf(path, sizeof path, "%s/T128.h5", sub);
    write_run(path, 128, 4, 1000000, "pd-books", true);
    snprintf(path, sizeof path, "%s/T256.h5", sub);
    write_run(path, 256, 4, 1000000, "pd-books", true);
    snprintf(sub, sizeof sub, "%s/one", dir);
    mkdir_ok(sub);
    snprintf(path, sizeof path, "%s/one/small-T128", dir);
    mkdir_ok(path);
    snprintf(path, sizeof path, "%s/one/small-T128/run.h5", dir);
    write_run(path, 128, 2, 2000000, "pd-books", true);
    snprintf(sub, sizeof sub, "%s/hostile", dir);
    mkdir_ok(sub);
    snprintf(path, sizeof path, "%s/%s.h5", sub, hostile);
    write_run(path, 128, 1, 1000000, hostile, true);
    snprintf(path, sizeof path, "%s/natural.h5", sub);
    write_run(path, 128, 1, 1000000, "natural mixture", true);
    snprintf(sub, sizeof sub, "%s/nocw", dir);
    mkdir_ok(sub);
    snprintf(path, sizeof path, "%s/x.h5", sub);
    write_run(path, 64, 1, 1000000, "pd-books", false);
    snprintf(sub, sizeof sub, "%s/empty", dir);
    mkdir_ok(sub);
    snprintf(sub, sizeof sub, "%s/store", dir);
    write_store(sub);
}

// ---- S1, S2, S3 --------------------------------------------------------------------------

static void test_s1(void **state)
{
    char *dir = tu_tmpdir(), csv[2048];
    const char *in[1] = {csv};
    cs_figures_opts o = opts_with(in, 1);
    cs_plot *p;
    size_t s, r;

    (void)state;
    snprintf(csv, sizeof csv, "%s/points.csv", dir);
    write_isoflop_csv(csv);
    p = build_ok("S1", &o);
    s = cs_plot_find_series(p, "parabola minimum");
    assert_true(s != SIZE_MAX);
    assert_int_equal(cs_plot_series_rows(p, s), 4);
    for (r = 0; r < 4; r++) { /* each budget's parabola minimum near the true optimum */
        const double *v = cs_plot_series_row(p, s, r);
        double C = 1e18 * pow(10.0, (double)r);

        if (fabs(log(v[0] / truth_Nopt(C))) > log(1.3))
            fail_msg("budget %g: N_opt %g, truth %g", C, v[0], truth_Nopt(C));
    }
    assert_true(cs_plot_find_series(p, "C = 1.0e18 FLOPs") != SIZE_MAX);
    assert_true(strstr(cs_plot_note(p, 0), "28 points in 4 budgets (4 with an interior minimum)"));
    render_check(p, dir);
    cs_plot_free(p);
    free(dir);
}

/* Slope in log-log between the first and last row of a series. */
static double loglog_slope(const cs_plot *p, size_t s)
{
    size_t n = cs_plot_series_rows(p, s);
    const double *a = cs_plot_series_row(p, s, 0), *b = cs_plot_series_row(p, s, n - 1);

    return (log(b[1]) - log(a[1])) / (log(b[0]) - log(a[0]));
}

static void test_s2_s3(void **state)
{
    char *dir = tu_tmpdir(), csv[2048], json[2048];
    const char *in[1] = {csv}, *fin[1] = {json};
    cs_figures_opts o = opts_with(in, 1);
    double a_true = TBETA / (TALPHA + TBETA);
    cs_plot *p;
    size_t s, r;

    (void)state;
    snprintf(csv, sizeof csv, "%s/points.csv", dir);
    snprintf(json, sizeof json, "%s/fit.json", dir);
    write_isoflop_csv(csv);
    write_fit_json(csv, json);
    o.fit = json;
    o.boot = 50;
    p = build_ok("S2", &o);
    s = cs_plot_find_series(p, "Approach 2 (IsoFLOP parabolas): N_opt");
    assert_true(s != SIZE_MAX);
    assert_true(fabs(loglog_slope(p, s) - a_true) < 0.03);
    s = cs_plot_find_series(p, "Approach 3 (fit of chinchilla): N_opt");
    assert_true(s != SIZE_MAX);
    for (r = 0; r < cs_plot_series_rows(p, s); r++) { /* the fit recovers the truth */
        const double *v = cs_plot_series_row(p, s, r);

        assert_true(fabs(v[1] / truth_Nopt(v[0]) - 1.0) < 0.03);
    }
    assert_true(cs_plot_find_series(p, "Approach 3 (fit of chinchilla): D_opt") != SIZE_MAX);
    assert_int_equal(cs_plot_n_panels(p), 2);
    render_check(p, dir);
    cs_plot_free(p);

    o = opts_with(fin, 1);
    p = build_ok("S3", &o);
    s = cs_plot_find_series(p, "efficient frontier");
    assert_true(s != SIZE_MAX);
    for (r = 0; r < cs_plot_series_rows(p, s); r++) {
        const double *v = cs_plot_series_row(p, s, r);

        assert_true(fabs(v[1] / truth_Nopt(v[0]) - 1.0) < 0.03);
    }
    s = cs_plot_find_series(p, "L = ");
    assert_true(s != SIZE_MAX && cs_plot_series_rows(p, s) > 10);
    for (r = 0; r < cs_plot_series_rows(p, s); r++) { /* points on the contour have its loss */
        const double *v = cs_plot_series_row(p, s, r);
        double level = strtod(cs_plot_series_title(p, s) + 4, NULL);

        assert_true(fabs(truth_L(v[1], v[0] / (6.0 * v[1])) - level) < 0.01);
    }
    render_check(p, dir);
    cs_plot_free(p);
    free(dir);
}

// ---- S4, S5 ------------------------------------------------------------------------------

static void test_s4(void **state)
{
    char *dir = tu_tmpdir(), csv[2048];
    const char *in[1] = {csv};
    cs_figures_opts o = opts_with(in, 1);
    cs_plot *p;
    size_t s, r, nfit = 0;

    (void)state;
    snprintf(csv, sizeof csv, "%s/xiong.csv", dir);
    write_xiong_csv(csv);
    p = build_ok("S4", &o);
    for (s = 0; s < cs_plot_n_series(p); s++) {
        const char *t = cs_plot_series_title(p, s);
        double N;

        if (!t || strncmp(t, "N = ", 4) != 0)
            continue;
        N = strtod(t + 4, NULL);
        nfit++;
        for (r = 0; r < cs_plot_series_rows(p, s); r++) {
            const double *v = cs_plot_series_row(p, s, r);

            assert_true(fabs(v[1] / xiong_truth(N, v[0]) - 1.0) < 0.002);
        }
    }
    assert_int_equal(nfit, 3);
    render_check(p, dir);
    cs_plot_free(p);
    free(dir);
}

static void test_s5(void **state)
{
    char *dir = tu_tmpdir(), csv[2048];
    const char *in[1] = {csv};
    cs_figures_opts o = opts_with(in, 1);
    cs_plot *p;
    size_t s, r;

    (void)state;
    snprintf(csv, sizeof csv, "%s/vocab.csv", dir);
    write_vocab_csv(csv);
    p = build_ok("S5", &o);
    s = cs_plot_find_series(p, "best V at the largest budget");
    assert_true(s != SIZE_MAX);
    assert_int_equal(cs_plot_series_rows(p, s), 4);
    for (r = 0; r < 4; r++) { /* a quadratic in ln V: the parabola's vertex is exact */
        const double *v = cs_plot_series_row(p, s, r);

        assert_true(fabs(v[1] / vocab_best(v[0]) - 1.0) < 1e-9);
    }
    assert_true(cs_plot_find_series(p, "power law over 4 sizes: V_opt ~ N^0.5") != SIZE_MAX);
    s = cs_plot_find_series(p, "best V at each budget");
    assert_int_equal(cs_plot_series_rows(p, s), 4);
    for (r = 0; r < 4; r++) /* the largest family is best at every V */
        assert_true(fabs(cs_plot_series_row(p, s, r)[0] / vocab_best(1e7 * 64.0) - 1.0) < 1e-9);
    render_check(p, dir);
    cs_plot_free(p);
    free(dir);
}

// ---- run-log figures -----------------------------------------------------------------------

static char *fixtures(void)
{
    char *dir = tu_tmpdir();

    write_fixtures(dir);
    return dir;
}

static void test_c1(void **state)
{
    char *dir = fixtures(), in0[2048], floor[2048];
    const char *in[1] = {in0};
    cs_figures_opts o = opts_with(in, 1);
    cs_plot *p;
    size_t s, r, k;
    double at;
    char kind;

    (void)state;
    snprintf(in0, sizeof in0, "%s/one", dir);
    o.floor = "2.25";
    p = build_ok("C1", &o);
    s = cs_plot_find_series(p, "eval at step 200");
    assert_true(s != SIZE_MAX);
    for (r = 0; r < cs_plot_series_rows(p, s); r++) {
        const double *v = cs_plot_series_row(p, s, r);

        assert_true(fabs(v[1] - ctx_truth(v[0], 128, 200)) < 1e-9);
    }
    assert_true(cs_plot_series_row(p, s, cs_plot_series_rows(p, s) - 1)[0] > 128);
    for (k = 0; k < cs_plot_n_rules(p); k++) { /* the line at T and the floor */
        kind = cs_plot_rule(p, k, &at, NULL);
        assert_true((kind == 'v' && at == 128) || (kind == 'h' && at == 2.25));
    }
    assert_int_equal(cs_plot_n_rules(p), 2);
    assert_non_null(strstr(cs_plot_note(p, 0), "runs: 1 of 1 logs (small-T128); device: cpu"));
    assert_non_null(strstr(cs_plot_note(p, 1), "data: pd-books; N = 2.0e6 parameters; T = 128"));
    render_check(p, dir);
    cs_plot_free(p);

    snprintf(floor, sizeof floor, "%s/synth.json", dir); /* a floor per position */
    write_text(floor, "{\"floor\": {\"mean\": [3.0, 2.5, 2.25]}}");
    o.floor = floor;
    p = build_ok("C1", &o);
    s = cs_plot_find_series(p, "Bayes-optimal loss floor");
    /* mean[k] has k tokens of context: drawn at x = k; mean[0] (no context) is not drawn */
    assert_int_equal(cs_plot_series_rows(p, s), 2);
    assert_true(cs_plot_series_row(p, s, 0)[0] == 1.0 && cs_plot_series_row(p, s, 0)[1] == 2.5);
    assert_true(cs_plot_series_row(p, s, 1)[0] == 2.0 && cs_plot_series_row(p, s, 1)[1] == 2.25);
    cs_plot_free(p);
    write_text(floor, "{\"floor\": null}");
    assert_int_equal(cs_figures_build("C1", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("no \"floor\".\"mean\" array");

    o.floor = NULL; /* several runs: C1 refuses */
    snprintf(in0, sizeof in0, "%s/runs", dir);
    assert_int_equal(cs_figures_build("C1", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("figure C1 draws one run; 3 have contextwise loss");
    free(dir);
}

static void test_c4_c5(void **state)
{
    char *dir = fixtures(), in0[2048];
    const char *in[1] = {in0};
    cs_figures_opts o = opts_with(in, 1);
    static const double Ts[] = {64, 128, 256};
    cs_plot *p;
    size_t s, r, k, nv = 0;
    double at;

    (void)state;
    snprintf(in0, sizeof in0, "%s/runs", dir);
    p = build_ok("C4", &o);
    for (k = 0; k < 3; k++) { /* in order of T, each curve stops at its T */
        char title[64];

        snprintf(title, sizeof title, "T = %.0f: T%.0f", Ts[k], Ts[k]);
        s = cs_plot_find_series(p, title);
        assert_true(s != SIZE_MAX);
        for (r = 0; r < cs_plot_series_rows(p, s); r++)
            assert_true(cs_plot_series_row(p, s, r)[0] <= Ts[k]);
        /* the next series is the dotted average over 1..T */
        assert_int_equal(cs_plot_series_rows(p, s + 1), 2);
        assert_true(cs_plot_series_row(p, s + 1, 1)[0] == Ts[k]);
    }
    render_check(p, dir);
    cs_plot_free(p);

    p = build_ok("C5", &o);
    s = cs_plot_find_series(p, "T = 64: T64");
    assert_true(cs_plot_series_row(p, s, cs_plot_series_rows(p, s) - 1)[0] > 200);
    for (k = 0; k < cs_plot_n_rules(p); k++)
        if (cs_plot_rule(p, k, &at, NULL) == 'v')
            assert_true(at == Ts[nv++]);
    assert_int_equal(nv, 3);
    render_check(p, dir);
    cs_plot_free(p);
    free(dir);
}

/* S6 labels by data_name; hostile run and data names are drawn and nothing runs. */
static void test_s6_hostile(void **state)
{
    char *dir = fixtures(), in0[2048], out[2048], *script;
    const char *in[1] = {in0};
    cs_figures_opts o = opts_with(in, 1);
    cs_plot *p;

    (void)state;
    snprintf(in0, sizeof in0, "%s/hostile", dir);
    p = build_ok("S6", &o);
    assert_true(cs_plot_find_series(p, hostile) != SIZE_MAX);
    assert_true(cs_plot_find_series(p, "natural mixture") != SIZE_MAX);
    snprintf(out, sizeof out, "%s/figs", dir);
    render_check(p, out);
    cs_plot_free(p);
    p = build_ok("C4", &o); /* run names in the legend */
    render_check(p, out);
    cs_plot_free(p);
    if (have_gnuplot()) {
        snprintf(out, sizeof out, "%s/figs/S6.gp", dir);
        script = slurp(out);
        assert_null(strchr(script, '`'));
        assert_null(strstr(script, "system("));
        assert_null(strstr(script, "$(touch"));
        free(script);
        snprintf(out, sizeof out, "%s/figs/C4.gp", dir);
        script = slurp(out);
        assert_null(strchr(script, '`'));
        free(script);
        assert_false(exists(tu_path(dir, "figs/PWNED1")));
        assert_false(exists("PWNED1") || exists("PWNED2") || exists("PWNED3"));
    }
    free(dir);
}

static void test_c3(void **state)
{
    char *dir = fixtures(), in0[2048];
    const char *in[1] = {in0};
    cs_figures_opts o = opts_with(in, 1);
    const double ctx[2] = {64, 512};
    cs_plot *p;
    size_t s, r, k;
    double docs = 0;
    const char *title;

    (void)state;
    snprintf(in0, sizeof in0, "%s/store", dir);
    o.contexts = ctx;
    o.ncontexts = 2;
    p = build_ok("C3", &o);
    s = cs_plot_find_series(p, "documents per length bin");
    for (r = 0; r < cs_plot_series_rows(p, s); r++)
        docs += cs_plot_series_row(p, s, r)[2];
    assert_true(docs == 6.0); /* the empty document is not drawn */
    for (k = 0; k < cs_plot_n_rules(p); k++) {
        cs_plot_rule(p, k, NULL, &title);
        assert_non_null(title);
    }
    cs_plot_rule(p, 0, NULL, &title);
    /* tokens of documents >= 64: 100 + 100 + 1000 of 1230; documents: 3 of 7 */
    assert_string_equal(title, "T = 64: documents of at least T tokens hold 97.6% of the tokens "
                               "(42.9% of the documents)");
    assert_non_null(strstr(cs_plot_note(p, 0), "7 documents, 1230 tokens"));
    assert_non_null(strstr(cs_plot_note(p, 0), "1 empty documents not shown"));
    render_check(p, dir);
    cs_plot_free(p);
    free(dir);
}

// ---- bad input -----------------------------------------------------------------------------

static void test_bad_input(void **state)
{
    char *dir = fixtures(), in0[2048], csv[2048];
    const char *in[1] = {in0};
    cs_figures_opts o = opts_with(in, 1);
    cs_plot *p = NULL;

    (void)state;
    assert_int_equal(cs_figures_build("X9", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("unknown figure \"X9\"; known: C1, C2");
    assert_non_null(cs_figures_find("s1"));
    snprintf(in0, sizeof in0, "%s/empty", dir);
    assert_int_equal(cs_figures_build("C4", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("empty: no run logs (*.h5)");
    snprintf(in0, sizeof in0, "%s/nocw", dir);
    assert_int_equal(cs_figures_build("C5", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("none of the 1 run logs has contextwise loss");
    snprintf(in0, sizeof in0, "%s/missing.h5", dir);
    assert_int_equal(cs_figures_build("S6", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("missing.h5");
    o.step = 150; /* no eval at that step */
    snprintf(in0, sizeof in0, "%s/runs", dir);
    assert_int_equal(cs_figures_build("C4", &o, &p), CS_EINPUT);
    o.step = -1;
    assert_int_equal(cs_figures_build("C2", &o, &p), CS_EINPUT); /* no sampler recorded */
    tu_assert_errmsg_has("figure C2 compares runs of both sampler modes");
    snprintf(csv, sizeof csv, "%s/bad.csv", dir);
    write_text(csv, "size,ctx\n1,2\n");
    snprintf(in0, sizeof in0, "%s", csv);
    assert_int_equal(cs_figures_build("S4", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("bad.csv: missing column for L");
    assert_int_equal(cs_figures_build("S1", &o, &p), CS_EINPUT);
    assert_int_equal(cs_figures_build("S5", &o, &p), CS_EINPUT);
    assert_int_equal(cs_figures_build("S3", &o, &p), CS_EINPUT); /* a CSV is no fit JSON */
    o.ninputs = 0;
    assert_int_equal(cs_figures_build("S2", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("figure S2: give a CSV of points, --fit FILE.json, or both");
    assert_int_equal(cs_figures_build("S1", &o, &p), CS_EINPUT);
    tu_assert_errmsg_has("figure S1: expected 1 input");
    assert_null(p);
    free(dir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s1),         cmocka_unit_test(test_s2_s3),
        cmocka_unit_test(test_s4),         cmocka_unit_test(test_s5),
        cmocka_unit_test(test_c1),         cmocka_unit_test(test_c4_c5),
        cmocka_unit_test(test_s6_hostile), cmocka_unit_test(test_c3),
        cmocka_unit_test(test_bad_input),
    };

    gsl_set_error_handler_off();
    if (argc == 3 && strcmp(argv[1], "--write-runs") == 0) {
        write_fixtures(argv[2]);
        return 0;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
