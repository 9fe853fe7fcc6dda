/* core/error.c: the per-thread error message behind cs_fail() and cs_errmsg().
 * Test: tests/unit/test_error.c. */
#include "core/error.h"

#include <stdarg.h>
#include <string.h>

static _Thread_local char errbuf[CS_ERRMSG_MAX];

int cs_fail(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return status;
}

int cs_fail_prefix(int status, const char *fmt, ...)
{
    char old[CS_ERRMSG_MAX];
    size_t n;
    va_list ap;

    memcpy(old, errbuf, sizeof old);
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    n = strlen(errbuf);
    if (old[0] != '\0' && n + 2 < sizeof errbuf)
        snprintf(errbuf + n, sizeof errbuf - n, ": %s", old);
    return status;
}

const char *cs_errmsg(void)
{
    return errbuf;
}

void cs_errclear(void)
{
    errbuf[0] = '\0';
}

const char *cs_status_name(int status)
{
    switch (status) {
    case CS_OK: return "OK";
    case CS_EINVAL: return "EINVAL";
    case CS_EINPUT: return "EINPUT";
    case CS_EIO: return "EIO";
    case CS_ENOMEM: return "ENOMEM";
    case CS_ENOCONV: return "ENOCONV";
    case CS_EGSL: return "EGSL";
    case CS_ECUDA: return "ECUDA";
    default: return "EUNKNOWN";
    }
}

int cs_exit_code(int status)
{
    if (status == CS_OK)
        return 0;
    if (status == CS_EINVAL || status == CS_EINPUT)
        return 2;
    return 1;
}
