/* tests/helpers/analyze_synth.c: writes a synthetic sweep of run logs from a known ndt-style law
 * (tests/helpers/synth_sweep.h) for tests/cli/test_analyze.sh, and prints the true optimal
 * context per budget and model size.
 *
 *   analyze_synth DIR [--sizes L1,L2,..] [--aspect A] [--contexts T1,T2,..] [--budgets C1,..]
 *                 [--evals K] [--noise SD] [--replicates R] [--seed S] [--prefix P]
 *                 [--data NAME] [--vocab V] [--status running|finished|diverged|failed]
 *                 [--drop n,context,best,avg,flops,bpt,data_name]
 *   analyze_synth --truth [same sweep options]
 *       prints "budget n_layer N T_opt" per budget and size, then "budget joint N_opt T_opt".
 * DIR must exist. Exit 0, 1 on a write failure, 2 on bad arguments.
 */
#include "core/error.h"
#include "core/parse.h"
#include "tests/helpers/synth_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXV 64

static int parse_list_int(const char *s, int64_t *v, size_t *n, const char *what)
{
    char buf[1024], *tok, *save = NULL;

    snprintf(buf, sizeof buf, "%s", s);
    for (*n = 0, tok = strtok_r(buf, ",", &save); tok && *n < MAXV;
         tok = strtok_r(NULL, ",", &save)) {
        long x;
        if (cs_parse_long(tok, &x, what) != CS_OK || x < 1)
            return cs_fail(CS_EINPUT, "%s: expected positive integers, got \"%s\"", what, s);
        v[(*n)++] = x;
    }
    return *n ? CS_OK : cs_fail(CS_EINPUT, "%s: empty list", what);
}

static int parse_list_dbl(const char *s, double *v, size_t *n, const char *what)
{
    char buf[1024], *tok, *save = NULL;

    snprintf(buf, sizeof buf, "%s", s);
    for (*n = 0, tok = strtok_r(buf, ",", &save); tok && *n < MAXV;
         tok = strtok_r(NULL, ",", &save))
        if (cs_parse_double_ex(tok, &v[(*n)++], CS_PARSE_POSITIVE, what) != CS_OK)
            return CS_EINPUT;
    return *n ? CS_OK : cs_fail(CS_EINPUT, "%s: empty list", what);
}

static int parse_drop(const char *s, unsigned *drop)
{
    static const char *const names[] = {"n", "context", "best", "avg", "flops", "bpt", "data_name"};
    char buf[256], *tok, *save = NULL;
    size_t i;

    snprintf(buf, sizeof buf, "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        for (i = 0; i < sizeof names / sizeof names[0] && strcmp(tok, names[i]) != 0; i++)
            ;
        if (i == sizeof names / sizeof names[0])
            return cs_fail(CS_EINPUT, "--drop: unknown field \"%s\"", tok);
        *drop |= 1u << i;
    }
    return CS_OK;
}

typedef struct args {
    int64_t sizes[MAXV], contexts[MAXV];
    double budgets[MAXV];
    bool truth;
    const char *dir;
} args;

/* Options with an integer value. */
static int take_long(ss_sweep *s, const char *opt, const char *val)
{
    long x;

    if (cs_parse_long(val, &x, opt) != CS_OK)
        return CS_EINPUT;
    if (strcmp(opt, "--aspect") == 0)
        s->aspect = x;
    else if (strcmp(opt, "--evals") == 0)
        s->nevals = (size_t)(x < 2 ? 2 : x);
    else if (strcmp(opt, "--replicates") == 0)
        s->replicates = (size_t)(x < 1 ? 1 : x);
    else if (strcmp(opt, "--seed") == 0)
        s->seed = (uint64_t)x;
    else
        s->vocab = x;
    return CS_OK;
}

static int take(args *a, ss_sweep *s, const char *opt, const char *val)
{
    static const char *const long_opts[] = {"--aspect", "--evals", "--replicates",
                                            "--seed",   "--vocab", NULL};
    size_t i;

    if (strcmp(opt, "--sizes") == 0) {
        s->n_layer = a->sizes;
        return parse_list_int(val, a->sizes, &s->nsizes, opt);
    }
    if (strcmp(opt, "--contexts") == 0) {
        s->contexts = a->contexts;
        return parse_list_int(val, a->contexts, &s->ncontexts, opt);
    }
    if (strcmp(opt, "--budgets") == 0) {
        s->budgets = a->budgets;
        return parse_list_dbl(val, a->budgets, &s->nbudgets, opt);
    }
    if (strcmp(opt, "--noise") == 0)
        return cs_parse_double(val, &s->noise, opt);
    if (strcmp(opt, "--prefix") == 0 || strcmp(opt, "--data") == 0) {
        *(opt[2] == 'p' ? &s->prefix : &s->data_name) = val;
        return CS_OK;
    }
    if (strcmp(opt, "--status") == 0)
        return cs_runlog_status_parse(val, &s->status);
    if (strcmp(opt, "--drop") == 0)
        return parse_drop(val, &s->drop);
    for (i = 0; long_opts[i]; i++)
        if (strcmp(opt, long_opts[i]) == 0)
            return take_long(s, opt, val);
    return cs_fail(CS_EINPUT, "unknown option %s", opt);
}

static int parse(int argc, char **argv, args *a, ss_sweep *s)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--truth") == 0) {
            a->truth = true;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            if (i + 1 >= argc)
                return cs_fail(CS_EINPUT, "%s: missing value", argv[i]);
            if (take(a, s, argv[i], argv[i + 1]) != CS_OK)
                return CS_EINPUT;
            i++;
        } else {
            a->dir = argv[i];
        }
    }
    if (!a->dir && !a->truth)
        return cs_fail(CS_EINPUT, "usage: analyze_synth DIR [options] | --truth [options]");
    return CS_OK;
}

static void print_truth(const ss_sweep *s)
{
    size_t b, k;

    for (b = 0; b < s->nbudgets; b++) {
        double C = s->budgets[b], N, T;
        for (k = 0; k < s->nsizes; k++) {
            cs_model_shape sh = ss_shape(s, k, 1);
            cs_param_count pc;
            cs_flops_count_params(&sh, &pc);
            N = (double)pc.non_embedding;
            T = ss_opt_T(&s->law, 6.0 * N, 6.0 * (double)(sh.n_layer * sh.d_model), C);
            printf("%.6g %lld %.10g %.10g\n", C, (long long)sh.n_layer, N, T);
        }
        ss_opt_joint(&s->law, (double)s->aspect, C, 1e4, 1e10, &N, &T);
        printf("%.6g joint %.10g %.10g\n", C, N, T);
    }
}

int main(int argc, char **argv)
{
    ss_sweep s = ss_default_sweep();
    args a;
    int st;

    memset(&a, 0, sizeof a);
    if ((st = parse(argc, argv, &a, &s))) {
        fprintf(stderr, "analyze_synth: %s\n", cs_errmsg());
        return 2;
    }
    if (a.truth) {
        print_truth(&s);
        return 0;
    }
    if ((st = ss_write_sweep(a.dir, &s))) {
        fprintf(stderr, "analyze_synth: %s\n", cs_errmsg());
        return 1;
    }
    return 0;
}
