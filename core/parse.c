/* core/parse.c: checked number parsing for user text. Test: tests/unit/test_parse.c. */
#include "core/parse.h"

#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool only_space_left(const char *s)
{
    return *skip_space(s) == '\0';
}

static const char *name_of(const char *what)
{
    return what ? what : "value";
}

int cs_parse_long(const char *s, long *out, const char *what)
{
    char *end;
    long v;

    if (s == NULL || *skip_space(s) == '\0')
        return cs_fail(CS_EINPUT, "%s: expected an integer, got an empty value", name_of(what));
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || !only_space_left(end))
        return cs_fail(CS_EINPUT, "%s: expected an integer, got \"%s\"", name_of(what), s);
    if (errno == ERANGE)
        return cs_fail(CS_EINPUT, "%s: integer \"%s\" is out of range", name_of(what), s);
    *out = v;
    return CS_OK;
}

int cs_parse_double_ex(const char *s, double *out, unsigned flags, const char *what)
{
    char *end;
    double v;

    if (s == NULL || *skip_space(s) == '\0')
        return cs_fail(CS_EINPUT, "%s: expected a number, got an empty value", name_of(what));
    errno = 0;
    v = strtod(s, &end);
    if (end == s || !only_space_left(end))
        return cs_fail(CS_EINPUT, "%s: expected a number, got \"%s\"", name_of(what), s);
    if (!(flags & CS_PARSE_ALLOW_NONFINITE)) {
        if (isnan(v))
            return cs_fail(CS_EINPUT, "%s: expected a finite number, got NaN (\"%s\")",
                           name_of(what), s);
        if (isinf(v))
            return cs_fail(CS_EINPUT, "%s: expected a finite number, got \"%s\"%s", name_of(what),
                           s, errno == ERANGE ? " (overflows a double)" : "");
    }
    /* strtod sets ERANGE on underflow too; a subnormal or zero result is still a valid reading. */
    if ((flags & CS_PARSE_POSITIVE) && !(v > 0))
        return cs_fail(CS_EINPUT, "%s: expected a positive number, got \"%s\"", name_of(what), s);
    if ((flags & CS_PARSE_NONNEGATIVE) && !(v >= 0))
        return cs_fail(CS_EINPUT, "%s: expected a number >= 0, got \"%s\"", name_of(what), s);
    *out = v;
    return CS_OK;
}

int cs_parse_double(const char *s, double *out, const char *what)
{
    return cs_parse_double_ex(s, out, 0, what);
}

int cs_parse_count(const char *s, int64_t *out, const char *what)
{
    double v;
    int st = cs_parse_double_ex(s, &v, CS_PARSE_NONNEGATIVE, what);

    if (st)
        return st;
    if (v > 9007199254740992.0)
        return cs_fail(CS_EINPUT, "%s: count \"%s\" is larger than 2^53", name_of(what), s);
    if (v != floor(v))
        return cs_fail(CS_EINPUT, "%s: expected a whole number, got \"%s\"", name_of(what), s);
    *out = (int64_t)v;
    return CS_OK;
}

int cs_parse_bool(const char *s, bool *out, const char *what)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t i;

    for (i = 0; s && i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return CS_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return CS_OK;
        }
    }
    return cs_fail(CS_EINPUT, "%s: expected true/false, yes/no, on/off or 1/0, got \"%s\"",
                   name_of(what), s ? s : "");
}
