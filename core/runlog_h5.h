/* core/runlog_h5.h: HDF5 helpers shared by the run-log writer (core/runlog.c) and reader
 * (core/runlog_read.c), header-only and static so that nothing is exported: silencing HDF5's
 * automatic error printing for the length of a library call, turning HDF5's error stack into a
 * cs_fail message that names the file, and scalar attribute I/O. Not part of the public API.
 * Exercised by tests/unit/test_runlog.c.
 */
#ifndef CS_CORE_RUNLOG_H5_H
#define CS_CORE_RUNLOG_H5_H

#include "core/error.h"

#include <hdf5.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Saved automatic-error-printing state of HDF5 (restored at the end of each library call, so
 * that a program using HDF5 itself keeps its own setting). */
typedef struct rlh5_quiet {
    H5E_auto2_t func;
    void *data;
} rlh5_quiet;

static inline void rlh5_quiet_begin(rlh5_quiet *q)
{
    if (H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data) < 0) {
        q->func = NULL;
        q->data = NULL;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static inline void rlh5_quiet_end(const rlh5_quiet *q)
{
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

/* Error-stack walker: keeps the innermost (most specific) description. */
static inline herr_t rlh5_walk(unsigned n, const H5E_error2_t *err, void *data)
{
    char *buf = data;

    (void)n;
    if (err->desc && err->desc[0] != '\0')
        snprintf(buf, 256, "%s", err->desc);
    return 0;
}

/* Records "<path>: <what> (HDF5: <innermost HDF5 message>)" and returns status; clears the
 * HDF5 error stack. */
static inline int rlh5_fail(int status, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int rlh5_fail(int status, const char *path, const char *fmt, ...)
{
    char what[512];
    char h5[256] = "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, rlh5_walk, h5);
    H5Eclear2(H5E_DEFAULT);
    if (h5[0] == '\0')
        return cs_fail(status, "%s: %s", path, what);
    return cs_fail(status, "%s: %s (HDF5: %s)", path, what, h5);
}

/* A variable-length UTF-8 string type (close with H5Tclose); negative on failure. */
static inline hid_t rlh5_vlstr_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);

    if (t < 0)
        return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Writes scalar attribute `name` of `obj` with file type ftype from *value of memory type
 * mtype, replacing an existing attribute of that name. Negative on failure. */
static inline herr_t rlh5_attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                                     const void *value)
{
    hid_t space;
    hid_t attr;
    herr_t rc = -1;

    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0)
        return -1;
    space = H5Screate(H5S_SCALAR);
    if (space < 0)
        return -1;
    attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) {
        rc = H5Awrite(attr, mtype, value);
        if (H5Aclose(attr) < 0)
            rc = -1;
    }
    H5Sclose(space);
    return rc;
}

static inline herr_t rlh5_attr_write_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = rlh5_vlstr_type();
    herr_t rc;

    if (t < 0)
        return -1;
    rc = rlh5_attr_write(obj, name, t, t, &value);
    H5Tclose(t);
    return rc;
}

static inline herr_t rlh5_attr_write_int(hid_t obj, const char *name, int64_t value)
{
    return rlh5_attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

static inline herr_t rlh5_attr_write_double(hid_t obj, const char *name, double value)
{
    return rlh5_attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

#endif /* CS_CORE_RUNLOG_H5_H */
