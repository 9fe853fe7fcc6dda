/* tests/unit/test_afile.c: safe output files (core/afile.c): commit replaces, an existing file
 * is refused without force and kept, abort and failed writes leave the old file and no temporary
 * file behind, permissions follow the umask. Run by `make test`. */
#include "tests/testutil.h"

#include "core/afile.h"

#include <dirent.h>
#include <sys/stat.h>

/* Whole content of `path` in a static buffer ("" when it cannot be read). */
static const char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "rb");
    size_t n = 0;

    if (f) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* Number of entries in `dir` other than . and .. */
static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* A temporary directory holding "out.csv" with "old\n"; *path gets its name (caller frees). */
static char *setup(char **path)
{
    char *dir = tu_tmpdir();

    *path = strdup(tu_path(dir, "out.csv"));
    assert_non_null(*path);
    tu_write_file(*path, "old\n", 4);
    return dir;
}

static void cleanup(char *dir, char *path)
{
    remove(path);
    assert_int_equal(count_entries(dir), 0);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
    free(path);
}

static void test_new_file(void **state)
{
    char *dir = tu_tmpdir();
    char *path = strdup(tu_path(dir, "new.csv"));
    cs_afile *af = NULL;
    struct stat sb;
    mode_t mask = umask(022);

    (void)state;
    umask(mask);
    assert_int_equal(cs_afile_open(path, false, &af), CS_OK);
    fputs("hello\n", cs_afile_stream(af));
    assert_int_equal(access(path, F_OK), -1); /* nothing at the final name before commit */
    assert_int_equal(count_entries(dir), 1);  /* only the temporary file */
    assert_int_equal(cs_afile_commit(af), CS_OK);
    assert_string_equal(slurp(path), "hello\n");
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0666 & ~mask); /* not mkstemp's 0600 */
    cleanup(dir, path);
}

static void test_existing_refused(void **state)
{
    char *path;
    char *dir = setup(&path);
    static char not_null;
    cs_afile *af = (cs_afile *)&not_null; /* cs_afile_open must reset it to NULL */

    (void)state;
    assert_int_equal(cs_afile_open(path, false, &af), CS_EINPUT);
    assert_null(af);
    tu_assert_errmsg_has(": exists; use --force to overwrite");
    tu_assert_errmsg_has(path);
    assert_string_equal(slurp(path), "old\n");
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(cs_afile_open(dir, true, &af), CS_EINPUT); /* a directory is never replaced */
    tu_assert_errmsg_has("is a directory");
    cleanup(dir, path);
}

static void test_force_replaces_and_keeps_mode(void **state)
{
    char *path;
    char *dir = setup(&path);
    cs_afile *af = NULL;
    struct stat sb;

    (void)state;
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(cs_afile_open(path, true, &af), CS_OK);
    fputs("new\n", cs_afile_stream(af));
    assert_string_equal(slurp(path), "old\n"); /* untouched until commit */
    assert_int_equal(cs_afile_commit(af), CS_OK);
    assert_string_equal(slurp(path), "new\n");
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    assert_int_equal(count_entries(dir), 1);
    cleanup(dir, path);
}

static void test_abort_keeps_old(void **state)
{
    char *path;
    char *dir = setup(&path);
    cs_afile *af = NULL;

    (void)state;
    assert_int_equal(cs_afile_open(path, true, &af), CS_OK);
    fputs("half-written", cs_afile_stream(af));
    fflush(cs_afile_stream(af));
    assert_int_equal(count_entries(dir), 2);
    cs_afile_abort(af);
    cs_afile_abort(NULL);
    assert_string_equal(slurp(path), "old\n");
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */
    cleanup(dir, path);
}

static void test_write_error_keeps_old(void **state)
{
    char *path;
    char *dir = setup(&path);
    cs_afile *af = NULL;
    FILE *f;

    (void)state;
    assert_int_equal(cs_afile_open(path, true, &af), CS_OK);
    f = cs_afile_stream(af);
    fputs("doomed\n", f);
    (void)fgetc(f); /* reading a write-only stream sets its error flag, as a failed write does */
    assert_true(ferror(f));
    assert_int_equal(cs_afile_commit(af), CS_EIO);
    tu_assert_errmsg_has("write error");
    assert_string_equal(slurp(path), "old\n");
    assert_int_equal(count_entries(dir), 1);
    cleanup(dir, path);
}

static void test_appeared_meanwhile(void **state)
{
    char *dir = tu_tmpdir();
    char *path = strdup(tu_path(dir, "late.csv"));
    cs_afile *af = NULL;

    (void)state;
    assert_int_equal(cs_afile_open(path, false, &af), CS_OK);
    fputs("mine\n", cs_afile_stream(af));
    tu_write_file(path, "theirs\n", 7); /* created by someone else before commit */
    assert_int_equal(cs_afile_commit(af), CS_EINPUT);
    tu_assert_errmsg_has("exists; use --force to overwrite");
    assert_string_equal(slurp(path), "theirs\n");
    assert_int_equal(count_entries(dir), 1);
    cleanup(dir, path);
}

static void test_bad_dir_and_stdout(void **state)
{
    char *dir = tu_tmpdir();
    cs_afile *af = NULL;

    (void)state;
    assert_int_equal(cs_afile_open(tu_path(dir, "no/such/dir/x.csv"), false, &af), CS_EIO);
    tu_assert_errmsg_has("cannot create a temporary file");
    assert_null(af);
    assert_int_equal(cs_afile_open("-", false, &af), CS_OK);
    assert_ptr_equal(cs_afile_stream(af), stdout);
    assert_int_equal(cs_afile_commit(af), CS_OK);
    assert_int_equal(cs_afile_open("-", false, &af), CS_OK);
    cs_afile_abort(af);
    assert_int_equal(fputs("", stdout) >= 0, 1); /* stdout stays open */
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_file),
        cmocka_unit_test(test_existing_refused),
        cmocka_unit_test(test_force_replaces_and_keeps_mode),
        cmocka_unit_test(test_abort_keeps_old),
        cmocka_unit_test(test_write_error_keeps_old),
        cmocka_unit_test(test_appeared_meanwhile),
        cmocka_unit_test(test_bad_dir_and_stdout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
