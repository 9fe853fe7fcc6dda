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

/* Opens `path` for writing through "<path>.tmp.XXXXXX". CS_EINPUT when it exists and !force
 * ("<path>: exists; use --force to overwrite") or is a directory, CS_EIO when the temporary file
 * cannot be created (with strerror), CS_ENOMEM. The new file gets the mode of the file it
 * replaces, else 0666 minus the umask. On success *out owns a FILE * (cs_afile_stream); end
 * with exactly one of cs_afile_commit or cs_afile_abort. */
int cs_afile_open(const char *path, bool force, cs_afile **out);

/* The stream to write to; owned by `af` (do not fclose it). */
FILE *cs_afile_stream(cs_afile *af);

/* Flushes, fsyncs, closes and renames into place, then frees `af`. CS_EIO (with the path and
 * strerror) if any write failed; the temporary file is removed then and the old file is kept.
 * Without force, a file that appeared at `path` since open is not replaced either (CS_EINPUT).
 * For "-" it only flushes standard output (CS_EIO on a write error) and leaves it open. */
int cs_afile_commit(cs_afile *af);

/* Discards what was written (removes the temporary file) and frees `af`. Accepts NULL. For "-"
 * what was written cannot be taken back; it is flushed. */
void cs_afile_abort(cs_afile *af);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_AFILE_H */
