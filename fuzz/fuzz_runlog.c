/* fuzz/fuzz_runlog.c: libFuzzer target for the run-log reader (core/runlog_read.c). Each input
 * is written to a temporary file and read with every reader call: open (signature check, schema,
 * config, status, row counts), steps and eval tables, the contextwise matrix and a summary row.
 * Any outcome but a crash, a sanitizer report or a leak is fine; errors must carry a message,
 * and no HDF5 file or object may stay open after cs_runlog_read_close.
 *
 * Known HDF5 1.10.8 bugs are kept out of the way so that the run finds ours:
 * - HDF5 leaks a few hundred bytes when an object header fails its checksum (H5Fopen + H5Oopen
 *   of the damaged object + close, nothing of ours involved), so leaks whose allocation stack
 *   lies inside libhdf5 are suppressed; leaks of our own memory still count.
 * - HDF5's global heap (where variable-length strings live) trusts the sizes in the file: an
 *   object larger than its collection overflows a memcpy in H5HG_read, a free-space entry of
 *   size 0 makes H5HG__cache_heap_deserialize loop forever and a huge one makes it walk
 *   backwards out of its buffer (SEGV). Inputs holding such a collection
 *   are skipped (bad_global_heap). Examples: fuzz/hdf5_bugs/fuzz_runlog/.
 * Built and run by `make fuzz`; seeds (small valid, running and killed-writer logs, made with
 * tests/helpers/runlog_writer.c tiny) in fuzz/seeds/fuzz_runlog/.
 */
#include "core/error.h"
#include "core/runlog_read.h"
#include "core/table.h"

#include <fcntl.h>
#include <stdbool.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libhdf5\n";
}

static const char *temp_path(void)
{
    static char path[512];

    if (path[0] == '\0') {
        const char *dir = getenv("TMPDIR");

        snprintf(path, sizeof path, "%s/fuzz_runlog.%ld.h5", dir && *dir ? dir : "/tmp",
                 (long)getpid());
    }
    return path;
}

static uint64_t le(const uint8_t *d, size_t n, size_t off, size_t len)
{
    uint64_t v = 0;
    size_t i;

    for (i = len; i-- > 0;)
        v = (v << 8) | (off + i < n ? d[off + i] : 0); /* past the end reads as 0, as HDF5 does */
    return v;
}

/* True when some "GCOL" version-1 collection header is followed by objects HDF5 1.10.8 cannot
 * handle safely: one running past the collection's end, or a free-space entry of size 0.
 * (8-byte lengths: 16-byte collection and object headers.) */
static bool bad_global_heap(const uint8_t *d, size_t n)
{
    size_t off;

    for (off = 0; off + 16 <= n; off++) {
        uint64_t end;
        uint64_t p = 16;

        if (memcmp(d + off, "GCOL", 4) != 0 || d[off + 4] != 1)
            continue;
        end = le(d, n, off + 8, 8);
        while (p + 16 <= end) {
            uint64_t idx = le(d, n, off + p, 2);
            uint64_t size = le(d, n, off + p + 8, 8);

            if (idx > 0 ? size > end - p - 16 : size == 0 || size > end - p)
                return true; /* overflow, endless loop, or a pointer wrapping backwards */
            p += idx > 0 ? 16 + ((size + 7) & ~(uint64_t)7) : size;
        }
    }
    return false;
}

static void write_input(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t done = 0;

    if (fd < 0)
        abort();
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);

        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    close(fd);
}

static void check_failed(int st)
{
    if (st != CS_OK && cs_errmsg()[0] == '\0') {
        fprintf(stderr, "fuzz_runlog: status %s without a message\n", cs_status_name(st));
        abort();
    }
}

static void read_all(cs_runlog_reader *r)
{
    cs_table *t = NULL;
    cs_runlog_ctxwise *cw = NULL;
    size_t i;

    for (i = 0; i < cs_runlog_read_n_config(r); i++)
        if (cs_runlog_read_config(r, i)->key == NULL)
            abort();
    (void)cs_runlog_read_status_message(r);
    check_failed(cs_runlog_read_steps(r, &t));
    cs_table_free(t);
    t = NULL;
    check_failed(cs_runlog_read_evals(r, &t));
    cs_table_free(t);
    check_failed(cs_runlog_read_contextwise(r, &cw));
    cs_runlog_read_ctxwise_free(cw);
    t = cs_table_alloc("fuzz");
    if (t)
        check_failed(cs_runlog_read_summary(r, t));
    cs_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = temp_path();
    cs_runlog_reader *r = NULL;
    int st;

    if (bad_global_heap(data, size))
        return 0;
    write_input(path, data, size);
    cs_errclear();
    st = cs_runlog_read_open(path, &r);
    check_failed(st);
    if (st == CS_OK)
        read_all(r);
    cs_runlog_read_close(r);
    if (H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) {
        fprintf(stderr, "fuzz_runlog: HDF5 objects left open\n");
        abort();
    }
    unlink(path);
    return 0;
}
