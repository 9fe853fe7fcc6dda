/* tests/testutil.h: small helpers shared by the cmocka unit tests (header-only, static).
 * cmocka needs <stdarg.h>, <stddef.h>, <stdint.h> and <setjmp.h> before <cmocka.h>; include this
 * header first and it brings them all. */
#ifndef CS_TESTS_TESTUTIL_H
#define CS_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

/* A fresh temporary directory under $TMPDIR (tests/run.sh gives each test its own). The caller
 * owns the returned string (free) and the directory. */
static inline char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);

    assert_non_null(path);
    snprintf(path, 4096, "%s/tuXXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(path));
    return path;
}

/* "dir/name" in a static buffer (overwritten by the next call). */
static inline const char *tu_path(const char *dir, const char *name)
{
    static char buf[4096];

    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* Writes `text` to `path` (binary, exact bytes). */
static inline void tu_write_file(const char *path, const void *text, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The source tree root ($CS_SRC, set by tests/run.sh; "." otherwise). */
static inline const char *tu_srcdir(void)
{
    const char *s = getenv("CS_SRC");

    return s && *s ? s : ".";
}

/* Asserts that the last error message contains `needle`, printing it when not. */
#define tu_assert_errmsg_has(needle)                                                               \
    do {                                                                                           \
        if (strstr(cs_errmsg(), (needle)) == NULL)                                                 \
            fail_msg("error message \"%s\" lacks \"%s\"", cs_errmsg(), (needle));                  \
    } while (0)

#endif /* CS_TESTS_TESTUTIL_H */
