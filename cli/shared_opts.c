/* cli/shared_opts.c: the option loop, option-value parsers and --json writer that several
 * commands share (cli/shared_opts.h). Tested through tests/cli/test_alloc.sh, test_analyze.sh,
 * test_fit.sh, test_predict.sh, test_plot.sh and test_runs.sh.
 */
#include "cli/shared_opts.h"

#include "core/afile.h"
#include "core/error.h"
#include "core/parse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int cs_cli_parse_opts(const cs_cli_cmd *cmd, int argc, char **argv, cs_cli_take_fn take, void *ctx)
{
    cs_cli_parser ps;
    int c;

    cs_cli_parser_init(&ps, cmd);
    while ((c = cs_cli_next(&ps, argc, argv)) != -1) {
        if (c == '?')
            return 2;
        if (c == CS_CLI_OPT_HELP) {
            cs_cli_help(cmd, stdout);
            return 0;
        }
        if (take && take(c, optarg, ctx) != CS_OK)
            return cs_cli_usage_error(cmd, "%s", cs_errmsg());
    }
    return -1;
}

int cs_cli_parse_size(const char *s, size_t *out, const char *what)
{
    long v;
    int st = cs_parse_long(s, &v, what);

    if (st == CS_OK && v < 0)
        st = cs_fail(CS_EINPUT, "%s: expected a number >= 0, got %ld", what, v);
    if (st == CS_OK)
        *out = (size_t)v;
    return st;
}

int cs_cli_parse_whole(const char *s, size_t *out, const char *what, long min)
{
    long v;
    int st = cs_parse_long(s, &v, what);

    if (st == CS_OK && v < min)
        st = cs_fail(CS_EINPUT, "%s: expected a whole number >= %ld, got %ld", what, min, v);
    if (st == CS_OK)
        *out = (size_t)v;
    return st;
}

int cs_cli_parse_seed(const char *s, uint64_t *out, const char *what)
{
    long v;
    int st = cs_parse_long(s, &v, what);

    if (st == CS_OK)
        *out = (uint64_t)v;
    return st;
}

int cs_cli_parse_fraction(const char *s, double *out, const char *what)
{
    int st = cs_parse_double(s, out, what);

    if (st == CS_OK && !(*out > 0.0 && *out < 1.0))
        st = cs_fail(CS_EINPUT, "%s: expected a number between 0 and 1, got %s", what, s);
    return st;
}

int cs_cli_parse_range(const char *s, const char *what, bool strict, double *lo, double *hi)
{
    const char *colon = strchr(s, ':');
    char a[64];
    int st;

    if (!colon || (size_t)(colon - s) >= sizeof a)
        return cs_fail(CS_EINPUT, "%s: expected LO:HI, got \"%s\"", what, s);
    snprintf(a, sizeof a, "%.*s", (int)(colon - s), s);
    if ((st = cs_parse_double_ex(a, lo, CS_PARSE_POSITIVE, what)) ||
        (st = cs_parse_double_ex(colon + 1, hi, CS_PARSE_POSITIVE, what)))
        return st;
    if (strict ? !(*hi > *lo) : !(*hi >= *lo))
        return cs_fail(CS_EINPUT, "%s: expected LO %s HI, got \"%s\"", what,
                       strict ? "<" : "<=", s);
    return CS_OK;
}

json_t *cs_cli_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Writes doc through af and commits it, or aborts af after a failed write. */
static int dump_json(const json_t *doc, cs_afile *af, const char *path)
{
    if (json_dumpf(doc, cs_afile_stream(af), JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 ||
        fputc('\n', cs_afile_stream(af)) == EOF) {
        cs_afile_abort(af);
        return cs_fail(CS_EIO, "%s: write failed", path);
    }
    return cs_afile_commit(af);
}

int cs_cli_write_json(json_t *doc, const char *path, bool force)
{
    cs_afile *af = NULL;
    int st;

    if (!doc)
        return cs_fail(CS_ENOMEM, "out of memory building the JSON output");
    if ((st = cs_afile_open(path, force, &af)) == CS_OK)
        st = dump_json(doc, af, path);
    json_decref(doc);
    return st;
}
