/* bench/bench_analyze.c: times the context-scaling analysis (analysis/analyze.h) of a sweep of
 * synthetic run logs (tests/helpers/synth_sweep.h): 10 model sizes x 10 contexts x 10 budgets =
 * 1,000 logs of 20 eval and 20 steps rows each, losses from a known law with noise. Prints the
 * seconds to write them, to read and analyse them (with and without the ndt law fit), to write
 * the CSV files and the JSON, and the peak RSS. A benchmark, not a test (goal: 1,000 logs in
 * <= 10 s); bench/analyze.sh also times the `ctxscale analyze` command on the same logs.
 *
 * Usage: bench_analyze [--quick] [--dir DIR] [--threads N]
 *   --quick   4 x 5 x 5 = 100 logs
 *   --dir     write the logs into DIR (created) and keep them; default a temporary directory
 *             that is removed at the end
 */
#include "analysis/analyze.h"
#include "core/error.h"
#include "core/parse.h"
#include "tests/helpers/synth_sweep.h"

#include <dirent.h>
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* Removes the files of dir and its subdirectories (one level), then dir. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    struct stat sb;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int analyse(const char *dir, bool law, size_t threads, bool write)
{
    cs_analyze_params p = cs_analyze_default_params();
    cs_analyze_result *r = NULL;
    char out[4096];
    double t0 = now(), t1;
    FILE *f;
    int st;

    p.law = law;
    p.threads = threads;
    if ((st = cs_analyze_run(dir, &p, &r)))
        return st;
    t1 = now();
    printf("analyse %zu runs%s: %.2f s (%zu budgets, %zu U-curves, law %s)\n", r->pts->nruns,
           law ? " with the ndt fit" : ", no law", t1 - t0, r->nbudgets_ok, r->ncurves,
           r->law.fitted ? "fitted" : "not fitted");
    if (write) {
        snprintf(out, sizeof out, "%s/out", dir);
        st = cs_analyze_write_csv(r, out, true);
        snprintf(out, sizeof out, "%s/out/analysis.json", dir);
        f = st ? NULL : fopen(out, "w");
        if (!st && !f)
            st = cs_fail(CS_EIO, "%s: %s", out, strerror(errno));
        if (f) {
            st = cs_analyze_write_json(r, f);
            fclose(f);
        }
        printf("write the CSV files and the JSON: %.2f s\n", now() - t1);
    }
    cs_analyze_result_free(r);
    return st;
}

static int parse(int argc, char **argv, bool *quick, const char **dir, long *threads)
{
    int i;

    for (i = 1; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (strcmp(argv[i], "--quick") == 0) {
            *quick = true;
        } else if (strcmp(argv[i], "--dir") == 0 && has_value) {
            *dir = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && has_value) {
            if (cs_parse_long(argv[++i], threads, "--threads") != CS_OK || *threads < 0)
                return 2;
        } else {
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const int64_t nl[10] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 12};
    static const int64_t ctx[10] = {64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536};
    static const double bud[10] = {1e14, 2e14, 5e14, 1e15, 2e15, 5e15, 1e16, 2e16, 5e16, 1e17};
    ss_sweep s = ss_default_sweep();
    const char *dir = NULL;
    char tmp[] = "/tmp/bench_analyze.XXXXXX";
    bool quick = false;
    long threads = 0;
    double t0;
    int st;

    gsl_set_error_handler_off();
    if (parse(argc, argv, &quick, &dir, &threads)) {
        fprintf(stderr, "usage: bench_analyze [--quick] [--dir DIR] [--threads N]\n");
        return 2;
    }
    s.n_layer = nl;
    s.contexts = ctx;
    s.budgets = bud;
    s.nsizes = quick ? 4 : 10;
    s.ncontexts = s.nbudgets = quick ? 5 : 10;
    s.nevals = 20;
    s.noise = 0.002;
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    t0 = now();
    st = ss_write_sweep(dir, &s);
    printf("write %zu run logs: %.2f s\n", s.nsizes * s.ncontexts * s.nbudgets, now() - t0);
    if (st == CS_OK)
        st = analyse(dir, false, (size_t)threads, false);
    if (st == CS_OK)
        st = analyse(dir, true, (size_t)threads, true);
    printf("peak RSS: %.0f MB\n", peak_rss_mb());
    if (st)
        fprintf(stderr, "bench_analyze: %s\n", cs_errmsg());
    if (dir == tmp)
        remove_tree(tmp);
    return st ? 1 : 0;
}
