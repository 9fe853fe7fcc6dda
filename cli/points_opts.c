/* cli/points_opts.c: --map, --derive and --where as the commands that read points take them
 * (cli/points_opts.h). Tested through tests/cli/test_alloc.sh, test_fit.sh, test_predict.sh and
 * test_plot.sh.
 */
#include "cli/points_opts.h"

#include "core/error.h"

#include <string.h>
#include <sys/stat.h>

/* Appends arg to one option's list. */
static int push(const char **list, size_t *n, const char *arg, const char *opt)
{
    if (*n == CS_CLI_POINTS_MAX)
        return cs_fail(CS_EINPUT, "--%s: at most %d times", opt, CS_CLI_POINTS_MAX);
    list[(*n)++] = arg;
    return CS_OK;
}

int cs_cli_points_take(cs_cli_points_opts *p, int key, const char *arg)
{
    switch (key) {
    case 'm': return push(p->maps, &p->nmaps, arg, "map");
    case CS_CLI_KEY_DERIVE: return push(p->derives, &p->nderives, arg, "derive");
    case CS_CLI_KEY_WHERE: return push(p->wheres, &p->nwheres, arg, "where");
    default: return CS_OK;
    }
}

cs_isoflop_select cs_cli_points_select(const cs_cli_points_opts *p, bool want_run)
{
    cs_isoflop_select sel = {p->maps,   p->nmaps,   p->derives, p->nderives,
                             p->wheres, p->nwheres, want_run};

    return sel;
}

cs_dataset_params cs_cli_points_dataset(const cs_cli_points_opts *p)
{
    cs_dataset_params dp = cs_dataset_default_params();

    dp.maps = p->maps;
    dp.nmaps = p->nmaps;
    dp.derives = p->derives;
    dp.nderives = p->nderives;
    dp.wheres = p->wheres;
    dp.nwheres = p->nwheres;
    return dp;
}

bool cs_cli_is_runs_dir(const char *path)
{
    struct stat sb;

    return strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}
