/* bench/bench_fit.c: times Hoffmann et al.'s Approach 3 as Epoch's replication runs it — the
 * 4,500-start chinchilla grid fit (Huber, delta 1e-3, log residuals) on Epoch's 240 points plus
 * 1,000 bootstrap refits — and prints the optimum for comparison with bench/ref_fit_scipy.py.
 * Exits 77 (skipped) when the data are absent. Not a test: no assertions on time.
 *
 * Build (from the repository root, after `make`):
 *   cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -I. -Ibuild/gen $(pkg-config --cflags gsl jansson) \
 *      -o build/bench_fit bench/bench_fit.c build/libctxscale.a \
 *      $(pkg-config --libs gsl hdf5 jansson inih | sed 's/-lgslcblas//') -lopenblas -lm -lpthread
 * Run: build/bench_fit [--data FILE] [--threads N] [--boot N] [--seed S]
 */
#include "core/csv.h"
#include "core/error.h"
#include "core/parse.h"
#include "fit/bootstrap.h"
#include "fit/dataset.h"
#include "fit/fit.h"
#include "fit/law.h"

#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The data file: --data, else ../shared or /work/shared. NULL when absent. */
static const char *find_data(const char *given)
{
    static const char rel[] = "data/external/epoch-analyzing-chinchilla/svg_extracted_data.csv";
    static char buf[1024];
    const char *roots[] = {"../shared", "/work/shared"};
    struct stat sb;

    if (given)
        return stat(given, &sb) == 0 ? given : NULL;
    for (size_t k = 0; k < 2; k++) {
        snprintf(buf, sizeof buf, "%s/%s", roots[k], rel);
        if (stat(buf, &sb) == 0)
            return buf;
    }
    return NULL;
}

typedef struct opts {
    const char *data;
    long threads;
    long boot;
    long seed;
} opts;

static int parse_opts(int argc, char **argv, opts *o)
{
    o->data = NULL;
    o->threads = 0;
    o->boot = 1000;
    o->seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        int st = CS_OK;

        if (strcmp(argv[i], "--data") == 0)
            o->data = argv[i + 1];
        else if (strcmp(argv[i], "--threads") == 0)
            st = cs_parse_long(argv[i + 1], &o->threads, "--threads");
        else if (strcmp(argv[i], "--boot") == 0)
            st = cs_parse_long(argv[i + 1], &o->boot, "--boot");
        else if (strcmp(argv[i], "--seed") == 0)
            st = cs_parse_long(argv[i + 1], &o->seed, "--seed");
        else
            st = cs_fail(CS_EINPUT, "unknown option %s", argv[i]);
        if (st)
            return st;
    }
    if (o->threads < 0 || o->boot < 0)
        return cs_fail(CS_EINPUT, "--threads and --boot must be >= 0");
    return CS_OK;
}

static void print_fit(const cs_law *law, const cs_fit_result *r, double secs)
{
    printf("grid fit: %zu starts in %.3f s (%zu converged, %zu at the best, %zu iterations)\n",
           r->n_starts, secs, r->n_converged, r->n_at_best, r->iterations);
    printf("optimum: objective %.12g", r->objective);
    for (size_t j = 0; j < r->nparams; j++)
        printf(" %s %.10g", cs_law_param_name(law, j), r->estimate[j]);
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *maps[] = {"N=Model Size", "C=Training FLOP", "L=loss"};
    const char *derives[] = {"D=C/(6*N)"};
    cs_dataset_params dp = cs_dataset_default_params();
    cs_fit_params fp = cs_fit_default_params();
    cs_boot_params bp = cs_boot_default_params();
    cs_law *law = cs_law_builtin("chinchilla");
    cs_table *t = NULL;
    cs_dataset *ds = NULL;
    cs_fit_result *r = NULL;
    cs_boot_result *b = NULL;
    double t0, t1, t2;
    opts o;
    int st;

    gsl_set_error_handler_off();
    if (parse_opts(argc, argv, &o) != CS_OK || law == NULL) {
        fprintf(stderr, "bench_fit: %s\n", cs_errmsg());
        return 2;
    }
    o.data = find_data(o.data);
    if (o.data == NULL) {
        fprintf(stderr, "bench_fit: Epoch's svg_extracted_data.csv not found: skipped\n");
        return 77;
    }
    dp.maps = maps;
    dp.nmaps = 3;
    dp.derives = derives;
    dp.nderives = 1;
    dp.drop_top = 5;
    fp.threads = (size_t)o.threads;
    bp.n = (size_t)o.boot;
    bp.seed = (uint64_t)o.seed;
    st = cs_csv_read(o.data, NULL, &t);
    if (st == CS_OK)
        st = cs_dataset_build(t, law, &dp, &ds);
    if (st) {
        fprintf(stderr, "bench_fit: %s\n", cs_errmsg());
        return 1;
    }
    printf("data: %s, %zu points; threads: %zu\n", o.data, cs_dataset_n(ds),
           cs_fit_threads(fp.threads, 1000000));
    t0 = now();
    st = cs_fit_run(law, ds, &fp, &r);
    t1 = now();
    if (st == CS_OK && bp.n > 0)
        st = cs_boot_run(law, ds, &fp, r, &bp, &b);
    t2 = now();
    if (st) {
        fprintf(stderr, "bench_fit: %s\n", cs_errmsg());
        return 1;
    }
    print_fit(law, r, t1 - t0);
    if (b)
        printf("bootstrap: %zu refits in %.3f s (%zu failed); se(alpha) %.4g se(beta) %.4g\n",
               b->n, t2 - t1, b->n_failed, b->se[2], b->se[4]);
    printf("total: %.3f s\n", t2 - t0);
    cs_boot_result_free(b);
    cs_fit_result_free(r);
    cs_dataset_free(ds);
    cs_table_free(t);
    cs_law_free(law);
    return 0;
}
