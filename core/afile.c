/* core/afile.c: safe output files (core/afile.h). Output goes to "<path>.tmp.XXXXXX" in the
 * target's directory and is moved into place only on commit: with rename() when overwriting is
 * allowed, with link() when it is not, so that a file created meanwhile is not clobbered either.
 * Test: tests/unit/test_afile.c.
 */
#include "core/afile.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cs_afile {
    char *path; /* final name; NULL for standard output */
    char *tmp;  /* temporary name, in the same directory */
    FILE *f;    /* stream on tmp, or stdout */
    bool force; /* replace an existing file */
};

/* Permissions a new file gets from open(..., 0666): the process umask applied. umask() can only
 * be read by setting it; it is restored at once. */
static mode_t default_mode(void)
{
    mode_t mask = umask(022);

    umask(mask);
    return 0666 & ~mask;
}

/* Checks the target: CS_EINPUT when it exists and !force or is a directory; *mode gets the mode
 * the new file should have (that of the file it replaces, else the default). */
static int check_target(const char *path, bool force, mode_t *mode)
{
    struct stat sb;

    *mode = default_mode();
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return CS_OK;
        return cs_fail(CS_EIO, "%s: %s", path, strerror(errno));
    }
    if (S_ISDIR(sb.st_mode))
        return cs_fail(CS_EINPUT, "%s: is a directory; expected a file name", path);
    if (!force)
        return cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", path);
    if (S_ISREG(sb.st_mode))
        *mode = sb.st_mode & 0777;
    return CS_OK;
}

/* Creates the temporary file next to af->path and opens af->f on it. */
static int open_temp(cs_afile *af, mode_t mode)
{
    size_t n = strlen(af->path) + sizeof ".tmp.XXXXXX";
    int fd;

    af->tmp = malloc(n);
    if (af->tmp == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory", af->path);
    snprintf(af->tmp, n, "%s.tmp.XXXXXX", af->path);
    fd = mkstemp(af->tmp);
    if (fd < 0)
        return cs_fail(CS_EIO, "%s: cannot create a temporary file: %s", af->path, strerror(errno));
    af->f = fdopen(fd, "wb");
    if (af->f == NULL || fchmod(fd, mode) != 0) {
        int err = errno;

        if (af->f)
            fclose(af->f);
        else
            close(fd);
        af->f = NULL;
        unlink(af->tmp);
        return cs_fail(CS_EIO, "%s: cannot set up a temporary file: %s", af->path, strerror(err));
    }
    return CS_OK;
}

int cs_afile_open(const char *path, bool force, cs_afile **out)
{
    cs_afile *af;
    mode_t mode;
    int st;

    *out = NULL;
    af = calloc(1, sizeof *af);
    if (af == NULL)
        return cs_fail(CS_ENOMEM, "%s: out of memory", path);
    af->force = force;
    if (strcmp(path, "-") == 0) {
        af->f = stdout;
        *out = af;
        return CS_OK;
    }
    st = check_target(path, force, &mode);
    if (st)
        goto out_free;
    af->path = strdup(path);
    if (af->path == NULL) {
        st = cs_fail(CS_ENOMEM, "%s: out of memory", path);
        goto out_free;
    }
    st = open_temp(af, mode);
    if (st)
        goto out_free;
    *out = af;
    return CS_OK;

out_free:
    free(af->tmp);
    free(af->path);
    free(af);
    return st;
}

FILE *cs_afile_stream(cs_afile *af)
{
    return af->f;
}

static void afile_free(cs_afile *af)
{
    free(af->tmp);
    free(af->path);
    free(af);
}

/* Makes the rename durable; failures here are not reported (the data itself is synced). */
static void sync_dir(const char *path)
{
    char *dir = strdup(path);
    char *slash;
    int fd;

    if (dir == NULL)
        return;
    slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Moves the finished temporary file to its final name. Without force, link() refuses a target
 * that appeared after open; filesystems without hard links fall back to a check and rename. */
static int move_into_place(const cs_afile *af)
{
    if (!af->force) {
        if (link(af->tmp, af->path) == 0) {
            unlink(af->tmp);
            return CS_OK;
        }
        if (errno == EEXIST)
            return cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", af->path);
        if (access(af->path, F_OK) == 0)
            return cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", af->path);
    }
    if (rename(af->tmp, af->path) != 0)
        return cs_fail(CS_EIO, "%s: cannot rename %s into place: %s", af->path, af->tmp,
                       strerror(errno));
    return CS_OK;
}

int cs_afile_commit(cs_afile *af)
{
    int st = CS_OK;

    if (af->path == NULL) {
        if (fflush(af->f) != 0 || ferror(af->f))
            st = cs_fail(CS_EIO, "<stdout>: write error: %s", strerror(errno));
        afile_free(af);
        return st;
    }
    errno = 0;
    if (fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) != 0)
        st = cs_fail(CS_EIO, "%s: write error: %s", af->path,
                     errno ? strerror(errno) : "the stream reported an error");
    if (fclose(af->f) != 0 && st == CS_OK)
        st = cs_fail(CS_EIO, "%s: write error: %s", af->path, strerror(errno));
    if (st == CS_OK)
        st = move_into_place(af);
    if (st == CS_OK)
        sync_dir(af->path);
    else
        unlink(af->tmp);
    afile_free(af);
    return st;
}

void cs_afile_abort(cs_afile *af)
{
    if (af == NULL)
        return;
    if (af->path != NULL) {
        fclose(af->f);
        unlink(af->tmp);
    } else {
        fflush(af->f);
    }
    afile_free(af);
}
