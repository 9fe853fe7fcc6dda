/* core/version.h: the tool's version and the git revision it was built from (recorded in every
 * run log). Tested through `ctxscale --version` in tests/cli/test_cli.sh. */
#ifndef CS_CORE_VERSION_H
#define CS_CORE_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* Release version, e.g. "0.1.0". Static string. */
const char *cs_version_string(void);

/* Short git revision of the source tree at build time, with "-dirty" when it had uncommitted
 * changes, or "unknown" outside a git checkout. Static string. */
const char *cs_version_git_revision(void);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_VERSION_H */
