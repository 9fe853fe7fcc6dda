/* core/version.c: version strings baked in at build time (the Makefile defines
 * CS_VERSION_STRING and generates cs_gitrev.h). Test: tests/cli/test_cli.sh (--version). */
#include "core/version.h"

#include "cs_gitrev.h"

#ifndef CS_VERSION_STRING
#define CS_VERSION_STRING "0.0.0"
#endif

const char *cs_version_string(void)
{
    return CS_VERSION_STRING;
}

const char *cs_version_git_revision(void)
{
    return CS_GIT_REVISION;
}
