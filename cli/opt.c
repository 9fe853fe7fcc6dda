/* cli/opt.c: option tables → getopt_long, help text, CLI messages. Test: tests/cli/test_cli.sh. */
#include "cli/opt.h"

#include "core/error.h"

#include <stdarg.h>
#include <string.h>

void cs_cli_parser_init(cs_cli_parser *p, const cs_cli_cmd *cmd)
{
    size_t n = 0;
    size_t s = 0;
    const cs_cli_opt *o;

    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->shortopts[s++] = ':'; /* report a missing argument as ':' so we can word it ourselves */
    p->shortopts[s++] = 'h';
    for (o = cmd->opts; o && o->name; o++) {
        CS_ASSERT(n < CS_CLI_MAX_OPTS);
        p->longopts[n].name = o->name;
        p->longopts[n].has_arg = o->has_arg;
        p->longopts[n].flag = NULL;
        p->longopts[n].val = o->key;
        n++;
        if (o->key > 0 && o->key < 256) {
            p->shortopts[s++] = (char)o->key;
            if (o->has_arg == required_argument)
                p->shortopts[s++] = ':';
        }
    }
    p->longopts[n].name = "help";
    p->longopts[n].has_arg = no_argument;
    p->longopts[n].val = CS_CLI_OPT_HELP;
    p->shortopts[s] = '\0';
    optind = 0; /* glibc: 0 fully reinitialises getopt's state */
    opterr = 0;
}

static const char *opt_name_for_key(const cs_cli_parser *p, int key)
{
    const struct option *lo;

    for (lo = p->longopts; lo->name; lo++)
        if (lo->val == key)
            return lo->name;
    return NULL;
}

int cs_cli_next(cs_cli_parser *p, int argc, char **argv)
{
    int c = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
    const char *name;

    if (c == '?') {
        if (optopt > 0 && optopt < 256 && optopt != '?')
            cs_cli_usage_error(p->cmd, "unknown option '-%c'", optopt);
        else
            cs_cli_usage_error(p->cmd, "unknown option '%s'", argv[optind - 1]);
        return '?';
    }
    if (c == ':') {
        name = opt_name_for_key(p, optopt);
        if (name)
            cs_cli_usage_error(p->cmd, "option '--%s' needs an argument", name);
        else
            cs_cli_usage_error(p->cmd, "option '%s' needs an argument", argv[optind - 1]);
        return '?';
    }
    return c;
}

void cs_cli_help(const cs_cli_cmd *cmd, FILE *out)
{
    const cs_cli_opt *o;
    char left[64];

    fprintf(out, "Usage: ctxscale %s %s\n\n%s\n\nOptions:\n", cmd->name,
            cmd->usage ? cmd->usage : "", cmd->summary);
    for (o = cmd->opts; o && o->name; o++) {
        if (o->key > 0 && o->key < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->key, o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        fprintf(out, "  %-28s %s\n", left, o->help);
    }
    fprintf(out, "  %-28s %s\n", "-h, --help", "show this help and exit");
    if (cmd->epilog)
        fprintf(out, "\n%s", cmd->epilog);
}

int cs_cli_usage_error(const cs_cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ctxscale %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ctxscale %s --help'.\n", cmd->name);
    return 2;
}

int cs_cli_report(const cs_cli_cmd *cmd, int status)
{
    if (status != CS_OK)
        fprintf(stderr, "ctxscale %s: %s\n", cmd->name, cs_errmsg());
    return cs_exit_code(status);
}
