/* core/afile.h: writing output files safely. The file is written under a temporary name in the
 * same directory and renamed over the final name only on commit, so an error or a crash never
 * leaves a truncated file and never destroys what was there; an existing file is refused unless
 * `force`. "-" means standard output (written directly). Tested in tests/unit/test_afile.c.
 */
#ifndef CS_CORE_AFILE_H
#define CS_CORE_AFILE_H

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_afile cs_afile;

/* Opens `path` for writing. CS_EINPUT when it exists and !force ("<path>: exists; use --force
 * to overwrite"), CS_EIO when the temporary file cannot be created (with strerror), CS_ENOMEM.
 * On success *out owns a FILE * (cs_afile_stream). */
int cs_afile_open(const char *path, bool force, cs_afile **out);

/* The stream to write to. */
FILE *cs_afile_stream(cs_afile *af);

/* Flushes, fsyncs and renames into place, then frees `af`. CS_EIO (with the path and strerror)
 * if any write failed; the temporary file is removed then and the old file is kept. */
int cs_afile_commit(cs_afile *af);

/* Discards what was written (removes the temporary file) and frees `af`. Accepts NULL. */
void cs_afile_abort(cs_afile *af);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_AFILE_H */
