/* core/runlog_read.c: the run-log reader (core/runlog_read.h): checks a file's HDF5 signature
 * before handing it to HDF5, opens it normally or in SWMR-read mode (a live or killed writer's
 * file), validates the schema, reads root attributes, config, status and committed row counts,
 * and turns the column datasets into cs_tables, summaries and the contextwise matrix. Every
 * size read from the file is bounded by the file's size before anything is allocated, so a
 * damaged file cannot make the reader allocate more than it holds.
 * Tests: tests/unit/test_runlog.c; fuzz target fuzz/fuzz_runlog.c.
 */
#include "core/runlog_read.h"

#include "core/error.h"
#include "core/runlog_h5.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NMETA 5
static const char *const meta_names[NMETA] = {
    "schema", "tool_version", "git_revision", "created_utc", "resumed_utc",
};

#define MAX_COLUMNS 4096       /* columns per group we are willing to read */
#define MAX_STRING  (1u << 20) /* bytes of one string attribute or dataset */

struct cs_runlog_reader {
    char *path;
    hid_t file;
    uint64_t file_size;   /* bytes; bounds every count read from the file */
    int64_t version;      /* schema_version */
    char *meta[NMETA];    /* root string attributes (NULL when absent) */
    cs_runlog_kv *config; /* (n_config) */
    size_t n_config;
    int status;       /* status/code */
    char *status_msg; /* status/message */
    size_t n_steps;   /* committed rows at open time */
    size_t n_evals;
};

// ---- the file before HDF5 sees it ----------------------------------------------------------

/* CS_OK when an HDF5 superblock signature sits at offset 0, 512, 1024, ... (where HDF5 looks
 * for it); sets *size. CS_EIO when the file cannot be opened, CS_EINPUT otherwise. */
static int check_signature(const char *path, uint64_t *size)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char buf[8];
    struct stat sb;
    uint64_t off;
    int fd = open(path, O_RDONLY);
    bool found = false;

    if (fd < 0)
        return cs_fail(errno == ENOENT ? CS_EINPUT : CS_EIO, "%s: cannot open: %s", path,
                       strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return cs_fail(CS_EINPUT, "%s: not an HDF5 run log (not a regular file)", path);
    }
    *size = (uint64_t)sb.st_size;
    for (off = 0; !found && off + sizeof sig <= *size; off = off ? 2 * off : 512)
        found = pread(fd, buf, sizeof buf, (off_t)off) == (ssize_t)sizeof buf &&
                memcmp(buf, sig, sizeof sig) == 0;
    close(fd);
    if (*size == 0)
        return cs_fail(CS_EINPUT, "%s: not an HDF5 run log (empty file)", path);
    if (!found)
        return cs_fail(CS_EINPUT, "%s: not an HDF5 run log (no HDF5 signature)", path);
    return CS_OK;
}

/* Metadata read attempts in SWMR-read mode. A block that fails its checksum may be one the
 * writer is rewriting right now, so HDF5 retries, sleeping 1, 2, 4, ... ns in between; its
 * default of 100 attempts makes a damaged file take many seconds per bad block. 20 attempts
 * wait about 1 ms in all. */
#define SWMR_READ_ATTEMPTS 20

/* Opens read-only; a file still marked open for writing (a live or killed SWMR writer) only
 * opens in SWMR-read mode, so that is the second try. */
static int open_hdf5(cs_runlog_reader *r)
{
    hid_t fapl;

    r->file = H5Fopen(r->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (r->file >= 0)
        return CS_OK;
    H5Eclear2(H5E_DEFAULT);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_metadata_read_attempts(fapl, SWMR_READ_ATTEMPTS) >= 0)
        r->file = H5Fopen(r->path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (r->file >= 0)
        return CS_OK;
    return rlh5_fail(CS_EINPUT, r->path,
                     "not an HDF5 run log: HDF5 cannot open it (truncated, "
                     "damaged, or its writer died before it was complete)");
}

// ---- scalar values of attributes and datasets ----------------------------------------------

/* An attribute or a dataset, read the same way. */
typedef struct h5obj {
    hid_t id;
    bool is_attr;
} h5obj;

enum { RD_OK = 0, RD_TYPE = 1, RD_FAIL = 2 }; /* read_*: fine, wrong type/shape, HDF5 failed */

static hid_t obj_type(h5obj o)
{
    return o.is_attr ? H5Aget_type(o.id) : H5Dget_type(o.id);
}

static herr_t obj_read(h5obj o, hid_t mtype, void *buf)
{
    if (o.is_attr)
        return H5Aread(o.id, mtype, buf);
    return H5Dread(o.id, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

/* The type class of o when it holds exactly one element, else H5T_NO_CLASS. */
static H5T_class_t scalar_class(h5obj o)
{
    hid_t sp = o.is_attr ? H5Aget_space(o.id) : H5Dget_space(o.id);
    hid_t t = obj_type(o);
    H5T_class_t c = H5T_NO_CLASS;

    if (sp >= 0 && t >= 0 && H5Sget_simple_extent_npoints(sp) == 1)
        c = H5Tget_class(t);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    return c;
}

/* A variable-length string of the file type's character set. */
static int read_vlstr(h5obj o, hid_t ftype, char **out)
{
    hid_t mt = H5Tcopy(H5T_C_S1);
    char *p = NULL;
    int rc = RD_FAIL;

    if (mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Tset_cset(mt, H5Tget_cset(ftype)) >= 0 &&
        obj_read(o, mt, &p) >= 0) {
        *out = strdup(p ? p : "");
        rc = *out ? RD_OK : RD_FAIL;
    }
    if (p)
        H5free_memory(p);
    if (mt >= 0)
        H5Tclose(mt);
    return rc;
}

/* A fixed-length string; NUL padding ends it, space padding is trimmed. */
static int read_fixstr(h5obj o, hid_t ftype, char **out)
{
    size_t n = H5Tget_size(ftype);
    hid_t mt = H5Tcopy(ftype);
    char *buf = NULL;
    int rc = RD_FAIL;

    if (n == 0 || n > MAX_STRING) {
        rc = RD_TYPE;
    } else if (mt >= 0 && (buf = calloc(n + 1, 1)) != NULL && obj_read(o, mt, buf) >= 0) {
        if (H5Tget_strpad(ftype) == H5T_STR_SPACEPAD)
            while (n > 0 && buf[n - 1] == ' ')
                buf[--n] = '\0';
        *out = buf;
        buf = NULL;
        rc = RD_OK;
    }
    free(buf);
    if (mt >= 0)
        H5Tclose(mt);
    return rc;
}

static int read_str(h5obj o, char **out)
{
    hid_t t;
    int rc;

    *out = NULL;
    if (scalar_class(o) != H5T_STRING)
        return RD_TYPE;
    t = obj_type(o);
    if (t < 0)
        return RD_FAIL;
    rc = H5Tis_variable_str(t) > 0 ? read_vlstr(o, t, out) : read_fixstr(o, t, out);
    H5Tclose(t);
    return rc;
}

static int read_i64(h5obj o, int64_t *out)
{
    if (scalar_class(o) != H5T_INTEGER)
        return RD_TYPE;
    return obj_read(o, H5T_NATIVE_INT64, out) < 0 ? RD_FAIL : RD_OK;
}

static int read_f64(h5obj o, double *out)
{
    H5T_class_t c = scalar_class(o);

    if (c != H5T_INTEGER && c != H5T_FLOAT)
        return RD_TYPE;
    return obj_read(o, H5T_NATIVE_DOUBLE, out) < 0 ? RD_FAIL : RD_OK;
}

/* Attribute `name` of obj: RD_OK, RD_TYPE, RD_FAIL, or -1 when absent. */
static int attr_str(hid_t obj, const char *name, char **out)
{
    h5obj o = {-1, true};
    int rc;

    *out = NULL;
    if (H5Aexists(obj, name) <= 0)
        return -1;
    o.id = H5Aopen(obj, name, H5P_DEFAULT);
    if (o.id < 0)
        return RD_FAIL;
    rc = read_str(o, out);
    H5Aclose(o.id);
    return rc;
}

static int attr_i64(hid_t obj, const char *name, int64_t *out)
{
    h5obj o = {-1, true};
    int rc;

    if (H5Aexists(obj, name) <= 0)
        return -1;
    o.id = H5Aopen(obj, name, H5P_DEFAULT);
    if (o.id < 0)
        return RD_FAIL;
    rc = read_i64(o, out);
    H5Aclose(o.id);
    return rc;
}

// ---- opening objects safely ----------------------------------------------------------------

/* Opens dataset (or group, when `group`) `name` below loc, following only hard links (a damaged
 * or hostile file must not send HDF5 to other files). Negative when absent or not that kind. */
static hid_t open_obj(hid_t loc, const char *name, bool group)
{
    H5L_info_t li;
    H5I_type_t kind;
    hid_t id;

    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0 || H5Lget_info(loc, name, &li, H5P_DEFAULT) < 0 ||
        li.type != H5L_TYPE_HARD)
        return -1;
    id = H5Oopen(loc, name, H5P_DEFAULT);
    if (id < 0)
        return -1;
    kind = H5Iget_type(id);
    if (kind != (group ? H5I_GROUP : H5I_DATASET)) {
        H5Oclose(id);
        return -1;
    }
    return id;
}

static void close_obj(hid_t id)
{
    if (id >= 0)
        H5Oclose(id);
}

/* Opens group `gname` of the file; CS_EINPUT naming it when absent. */
static int open_group(const cs_runlog_reader *r, const char *gname, hid_t *g)
{
    *g = open_obj(r->file, gname, true);
    if (*g < 0)
        return rlh5_fail(CS_EINPUT, r->path, "not a valid run log: no group \"%s\"", gname);
    return CS_OK;
}

/* Reads scalar integer dataset `name` of g; CS_EINPUT "<path>: <gname>/<name>: ..." when
 * absent or not a scalar integer. */
static int read_scalar_int(const cs_runlog_reader *r, hid_t g, const char *gname, const char *name,
                           int64_t *v)
{
    h5obj o = {open_obj(g, name, false), false};
    int rc = o.id >= 0 ? read_i64(o, v) : RD_TYPE;

    close_obj(o.id);
    if (rc != RD_OK)
        return rlh5_fail(CS_EINPUT, r->path,
                         "not a valid run log: %s/%s missing or not a "
                         "scalar integer",
                         gname, name);
    return CS_OK;
}

// ---- schema, root attributes, config, status -----------------------------------------------

static int check_schema(cs_runlog_reader *r)
{
    char *schema = NULL;
    int rc = attr_str(r->file, "schema", &schema);
    int st = CS_OK;

    if (rc != RD_OK)
        st = cs_fail(CS_EINPUT, "%s: not a ctxscale run log (no \"schema\" string attribute)",
                     r->path);
    else if (strcmp(schema, CS_RUNLOG_SCHEMA) != 0)
        st = cs_fail(CS_EINPUT, "%s: not a ctxscale run log (schema is \"%.64s\", expected \"%s\")",
                     r->path, schema, CS_RUNLOG_SCHEMA);
    else if (attr_i64(r->file, "schema_version", &r->version) != RD_OK)
        st = cs_fail(CS_EINPUT, "%s: not a ctxscale run log (no integer \"schema_version\")",
                     r->path);
    else if (r->version > CS_RUNLOG_SCHEMA_VERSION)
        st = cs_fail(CS_EINPUT,
                     "%s: run-log schema version %lld is newer than this ctxscale "
                     "understands (%d); upgrade ctxscale",
                     r->path, (long long)r->version, CS_RUNLOG_SCHEMA_VERSION);
    else if (r->version < 1)
        st = cs_fail(CS_EINPUT, "%s: run-log schema version %lld is not valid (expected 1 to %d)",
                     r->path, (long long)r->version, CS_RUNLOG_SCHEMA_VERSION);
    free(schema);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

static int read_meta(cs_runlog_reader *r)
{
    size_t i;

    for (i = 0; i < NMETA; i++) {
        int rc = attr_str(r->file, meta_names[i], &r->meta[i]);

        if (rc == RD_FAIL)
            return rlh5_fail(CS_EINPUT, r->path, "cannot read root attribute \"%s\"",
                             meta_names[i]);
    }
    H5Eclear2(H5E_DEFAULT);
    return CS_OK;
}

/* Fills kv from attribute `name` of g. RD_TYPE for types we skip. */
static int read_kv(hid_t g, const char *name, cs_runlog_kv *kv)
{
    h5obj o = {H5Aopen(g, name, H5P_DEFAULT), true};
    H5T_class_t c;
    int rc = RD_TYPE;

    if (o.id < 0)
        return RD_FAIL;
    memset(kv, 0, sizeof *kv);
    c = scalar_class(o);
    if (c == H5T_STRING) {
        kv->type = CS_RUNLOG_STR;
        rc = read_str(o, (char **)&kv->s);
    } else if (c == H5T_INTEGER) {
        kv->type = CS_RUNLOG_INT;
        rc = read_i64(o, &kv->i);
        kv->d = (double)kv->i;
    } else if (c == H5T_FLOAT) {
        kv->type = CS_RUNLOG_DOUBLE;
        rc = read_f64(o, &kv->d);
    }
    H5Aclose(o.id);
    if (rc == RD_OK) {
        kv->key = strdup(name);
        if (!kv->key)
            rc = RD_FAIL;
    }
    return rc;
}

typedef struct config_walk {
    cs_runlog_reader *r;
    size_t cap;
    int failed; /* RD_FAIL seen */
} config_walk;

static herr_t config_cb(hid_t g, const char *name, const H5A_info_t *info, void *data)
{
    config_walk *w = data;
    cs_runlog_reader *r = w->r;
    int rc;

    (void)info;
    if (r->n_config == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 32;
        cs_runlog_kv *kv = realloc(r->config, cap * sizeof *kv);

        if (!kv || cap > MAX_STRING)
            return w->failed = RD_FAIL, -1;
        r->config = kv;
        w->cap = cap;
    }
    rc = read_kv(g, name, &r->config[r->n_config]);
    if (rc == RD_OK)
        r->n_config++;
    else if (rc == RD_FAIL)
        return w->failed = RD_FAIL, -1;
    return 0;
}

static void free_config(cs_runlog_reader *r)
{
    size_t i;

    for (i = 0; i < r->n_config; i++) {
        free((char *)r->config[i].key);
        free((char *)r->config[i].s);
    }
    free(r->config);
    r->config = NULL;
    r->n_config = 0;
}

/* Reads config/ in creation order, or in name order when the file does not track it. */
static int read_config(cs_runlog_reader *r)
{
    config_walk w = {r, 0, 0};
    hsize_t idx = 0;
    hid_t g;
    int st = open_group(r, "config", &g);

    if (st)
        return st;
    if (H5Aiterate2(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, config_cb, &w) < 0 && !w.failed) {
        free_config(r);
        w.cap = 0;
        idx = 0;
        if (H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, config_cb, &w) < 0)
            w.failed = RD_FAIL;
    }
    H5Gclose(g);
    if (w.failed)
        return rlh5_fail(CS_EINPUT, r->path, "cannot read the config attributes");
    H5Eclear2(H5E_DEFAULT);
    return CS_OK;
}

static int read_status(cs_runlog_reader *r)
{
    int64_t code = 0;
    h5obj msg = {-1, false};
    hid_t g;
    int st = open_group(r, "status", &g);

    if (st)
        return st;
    st = read_scalar_int(r, g, "status", "code", &code);
    if (st == CS_OK) {
        msg.id = open_obj(g, "message", false);
        if (msg.id < 0 || read_str(msg, &r->status_msg) != RD_OK)
            st = rlh5_fail(CS_EINPUT, r->path,
                           "not a valid run log: status/message missing or "
                           "not a string");
    }
    close_obj(msg.id);
    H5Gclose(g);
    r->status = code < -1000000 || code > 1000000 ? -1 : (int)code;
    return st;
}

// ---- columns -------------------------------------------------------------------------------

typedef struct colinfo {
    char *name;
    bool is_int; /* integer dataset: -1 means missing */
    hsize_t len; /* rows the dataset has */
} colinfo;

static void free_cols(colinfo *cols, size_t n)
{
    size_t i;

    for (i = 0; cols && i < n; i++)
        free(cols[i].name);
    free(cols);
}

/* Fills c when link `name` of g is a 1-D integer or float dataset (a column); RD_TYPE if it is
 * something else. */
static int probe_column(hid_t g, const char *name, colinfo *c)
{
    hid_t ds = open_obj(g, name, false);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hid_t t = ds >= 0 ? H5Dget_type(ds) : -1;
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    int rc = RD_TYPE;

    if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
        (cls == H5T_INTEGER || cls == H5T_FLOAT) && strcmp(name, "bin_edges") != 0 &&
        H5Sget_simple_extent_dims(sp, &c->len, NULL) == 1) {
        c->is_int = cls == H5T_INTEGER;
        c->name = strdup(name);
        rc = c->name ? RD_OK : RD_FAIL;
    }
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    close_obj(ds);
    return rc;
}

/* Name of link i of g in creation order (or name order when `by_name`) into buf. */
static bool link_name(hid_t g, hsize_t i, bool by_name, char *buf, size_t n)
{
    H5_index_t idx = by_name ? H5_INDEX_NAME : H5_INDEX_CRT_ORDER;
    ssize_t len = H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, buf, n, H5P_DEFAULT);

    return len > 0 && (size_t)len < n;
}

/* The column datasets of group g in creation order (name order for files that do not track
 * it). *cols owned by the caller (free_cols). */
static int scan_columns(const cs_runlog_reader *r, hid_t g, const char *gname, colinfo **cols,
                        size_t *n)
{
    H5G_info_t gi;
    char name[256];
    bool by_name;
    hsize_t i;

    *cols = NULL;
    *n = 0;
    if (H5Gget_info(g, &gi) < 0)
        return rlh5_fail(CS_EINPUT, r->path, "cannot list group %s", gname);
    if (gi.nlinks > MAX_COLUMNS)
        return cs_fail(CS_EINPUT, "%s: group %s has %llu members (at most %d expected)", r->path,
                       gname, (unsigned long long)gi.nlinks, MAX_COLUMNS);
    *cols = calloc(gi.nlinks ? gi.nlinks : 1, sizeof **cols);
    if (!*cols)
        return cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    by_name = gi.nlinks > 0 && !link_name(g, 0, false, name, sizeof name);
    for (i = 0; i < gi.nlinks; i++) {
        int rc = link_name(g, i, by_name, name, sizeof name) ? probe_column(g, name, &(*cols)[*n])
                                                             : RD_TYPE;

        if (rc == RD_FAIL)
            return cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
        if (rc == RD_OK)
            (*n)++;
    }
    H5Eclear2(H5E_DEFAULT);
    return CS_OK;
}

/* The file's size now (a live writer may have grown it since it was opened), at least the size
 * at opening. */
static uint64_t current_size(cs_runlog_reader *r)
{
    struct stat sb;

    if (stat(r->path, &sb) == 0 && (uint64_t)sb.st_size > r->file_size)
        r->file_size = (uint64_t)sb.st_size;
    return r->file_size;
}

/* Committed rows of group gname: min(n_rows, every column's length), bounded by the file size
 * (each committed row takes 8 bytes of the step column). */
static int count_rows(cs_runlog_reader *r, const char *gname, size_t *rows)
{
    colinfo *cols = NULL;
    size_t ncols = 0;
    size_t i;
    int64_t n = 0;
    bool has_step = false;
    hid_t g;
    int st = open_group(r, gname, &g);

    if (!st)
        st = read_scalar_int(r, g, gname, "n_rows", &n);
    if (!st && (n < 0 || (uint64_t)n > current_size(r) / 8))
        st = cs_fail(CS_EINPUT, "%s: %s/n_rows is %lld, impossible for a file of %llu bytes",
                     r->path, gname, (long long)n, (unsigned long long)r->file_size);
    if (!st)
        st = scan_columns(r, g, gname, &cols, &ncols);
    for (i = 0; !st && i < ncols; i++) {
        if (cols[i].len < (hsize_t)n)
            n = (int64_t)cols[i].len;
        has_step |= strcmp(cols[i].name, "step") == 0;
    }
    if (!st && !has_step)
        st = cs_fail(CS_EINPUT, "%s: not a valid run log: no column %s/step", r->path, gname);
    free_cols(cols, ncols);
    if (g >= 0)
        H5Gclose(g);
    *rows = (size_t)n;
    return st;
}

// ---- open / close --------------------------------------------------------------------------

static int open_impl(const char *path, cs_runlog_reader **out)
{
    cs_runlog_reader *r = calloc(1, sizeof *r);
    int st;

    if (!r || !(r->path = strdup(path))) {
        free(r);
        return cs_fail(CS_ENOMEM, "%s: out of memory", path);
    }
    r->file = -1;
    st = check_signature(path, &r->file_size);
    if (!st)
        st = open_hdf5(r);
    if (!st)
        st = check_schema(r);
    if (!st)
        st = read_meta(r);
    if (!st)
        st = read_config(r);
    if (!st)
        st = read_status(r);
    if (!st)
        st = count_rows(r, "steps", &r->n_steps);
    if (!st)
        st = count_rows(r, "eval", &r->n_evals);
    if (st) {
        cs_runlog_read_close(r);
        return st;
    }
    *out = r;
    return CS_OK;
}

int cs_runlog_read_open(const char *path, cs_runlog_reader **out)
{
    rlh5_quiet q;
    int st;

    *out = NULL;
    rlh5_quiet_begin(&q);
    st = open_impl(path, out);
    rlh5_quiet_end(&q);
    return st;
}

void cs_runlog_read_close(cs_runlog_reader *r)
{
    rlh5_quiet q;
    size_t i;

    if (!r)
        return;
    rlh5_quiet_begin(&q);
    if (r->file >= 0)
        H5Fclose(r->file);
    rlh5_quiet_end(&q);
    for (i = 0; i < NMETA; i++)
        free(r->meta[i]);
    free_config(r);
    free(r->status_msg);
    free(r->path);
    free(r);
}

const char *cs_runlog_read_path(const cs_runlog_reader *r)
{
    return r->path;
}

int64_t cs_runlog_read_schema_version(const cs_runlog_reader *r)
{
    return r->version;
}

const char *cs_runlog_read_meta(const cs_runlog_reader *r, const char *name)
{
    size_t i;

    for (i = 0; i < NMETA; i++)
        if (strcmp(name, meta_names[i]) == 0)
            return r->meta[i];
    return NULL;
}

int cs_runlog_read_status(const cs_runlog_reader *r)
{
    return r->status;
}

const char *cs_runlog_read_status_message(const cs_runlog_reader *r)
{
    return r->status_msg ? r->status_msg : "";
}

size_t cs_runlog_read_n_config(const cs_runlog_reader *r)
{
    return r->n_config;
}

const cs_runlog_kv *cs_runlog_read_config(const cs_runlog_reader *r, size_t i)
{
    CS_ASSERT(i < r->n_config);
    return &r->config[i];
}

const cs_runlog_kv *cs_runlog_read_config_find(const cs_runlog_reader *r, const char *key)
{
    size_t i;

    for (i = 0; i < r->n_config; i++)
        if (strcmp(r->config[i].key, key) == 0)
            return &r->config[i];
    return NULL;
}

size_t cs_runlog_read_n_steps(const cs_runlog_reader *r)
{
    return r->n_steps;
}

size_t cs_runlog_read_n_evals(const cs_runlog_reader *r)
{
    return r->n_evals;
}

// ---- tables --------------------------------------------------------------------------------

/* Reads rows [start, start + m) of 1-D dataset `name` of g as doubles into dst (integer
 * datasets: -1 -> NaN). */
static herr_t read_rows(hid_t g, const colinfo *c, hsize_t start, hsize_t m, double *dst)
{
    hid_t ds = open_obj(g, c->name, false);
    hid_t fs = ds >= 0 ? H5Dget_space(ds) : -1;
    hid_t ms = H5Screate_simple(1, &m, NULL);
    herr_t rc = -1;
    hsize_t i;

    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &m, NULL) >= 0)
        rc = H5Dread(ds, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, dst);
    for (i = 0; rc >= 0 && c->is_int && i < m; i++)
        if (dst[i] == -1.0)
            dst[i] = NAN;
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    close_obj(ds);
    return rc;
}

/* Adds column c of g to t, filled from rows [start, start + m). */
static int add_column(const cs_runlog_reader *r, hid_t g, const char *gname, const colinfo *c,
                      hsize_t start, cs_table *t)
{
    size_t m = cs_table_nrows(t);
    double *buf = malloc((m ? m : 1) * sizeof *buf);
    size_t col;
    size_t i;
    int st;

    if (!buf)
        return cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    st = cs_table_add_col(t, c->name, CS_COL_NUM, &col);
    if (st == CS_OK && m > 0 && read_rows(g, c, start, (hsize_t)m, buf) < 0)
        st = rlh5_fail(CS_EINPUT, r->path, "cannot read %s/%s", gname, c->name);
    for (i = 0; st == CS_OK && i < m; i++)
        cs_table_set_num(t, i, col, buf[i]);
    free(buf);
    return st;
}

/* Rows [start, start + m) of every column of group gname as a new table. */
static int read_table(const cs_runlog_reader *r, const char *gname, size_t start, size_t m,
                      cs_table **out)
{
    char source[4096];
    colinfo *cols = NULL;
    size_t ncols = 0;
    size_t i;
    cs_table *t;
    hid_t g;
    int st;

    snprintf(source, sizeof source, "%s:/%s", r->path, gname);
    t = cs_table_alloc(source);
    if (!t)
        return cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    st = open_group(r, gname, &g);
    if (st == CS_OK)
        st = scan_columns(r, g, gname, &cols, &ncols);
    for (i = 0; st == CS_OK && i < m; i++)
        st = cs_table_append_row(t, 0);
    for (i = 0; st == CS_OK && i < ncols; i++)
        st = add_column(r, g, gname, &cols[i], (hsize_t)start, t);
    free_cols(cols, ncols);
    if (g >= 0)
        H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    if (st) {
        cs_table_free(t);
        return st;
    }
    *out = t;
    return CS_OK;
}

int cs_runlog_read_steps(const cs_runlog_reader *r, cs_table **out)
{
    rlh5_quiet q;
    int st;

    *out = NULL;
    rlh5_quiet_begin(&q);
    st = read_table(r, "steps", 0, r->n_steps, out);
    rlh5_quiet_end(&q);
    return st;
}

int cs_runlog_read_evals(const cs_runlog_reader *r, cs_table **out)
{
    rlh5_quiet q;
    int st;

    *out = NULL;
    rlh5_quiet_begin(&q);
    st = read_table(r, "eval", 0, r->n_evals, out);
    rlh5_quiet_end(&q);
    return st;
}

// ---- contextwise ---------------------------------------------------------------------------

void cs_runlog_read_ctxwise_free(cs_runlog_ctxwise *cw)
{
    if (!cw)
        return;
    free(cw->loss);
    free(cw->bin_edges);
    free(cw->step);
    free(cw);
}

/* eval/bin_edges: 1-D integer, at least 2 values, strictly increasing from >= 1. */
static int read_edges(const cs_runlog_reader *r, hid_t g, cs_runlog_ctxwise *cw)
{
    hid_t ds = open_obj(g, "bin_edges", false);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t ne = 0;
    size_t i;
    int st = CS_OK;

    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
        H5Sget_simple_extent_dims(sp, &ne, NULL) != 1 || ne < 2 || ne > r->file_size / 8)
        st = rlh5_fail(CS_EINPUT, r->path,
                       "eval/bin_edges missing or not a 1-D dataset of at "
                       "least 2 values");
    if (!st && !(cw->bin_edges = malloc((size_t)ne * sizeof *cw->bin_edges)))
        st = cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    if (!st && H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, cw->bin_edges) < 0)
        st = rlh5_fail(CS_EINPUT, r->path, "cannot read eval/bin_edges");
    for (i = 0; !st && i < (size_t)ne; i++)
        if (cw->bin_edges[i] < 1 || (i > 0 && cw->bin_edges[i] <= cw->bin_edges[i - 1]))
            st = cs_fail(CS_EINPUT,
                         "%s: eval/bin_edges must increase strictly from 1 (value "
                         "%zu is %lld)",
                         r->path, i, (long long)cw->bin_edges[i]);
    if (sp >= 0)
        H5Sclose(sp);
    close_obj(ds);
    cw->n_bins = st ? 0 : (size_t)ne - 1;
    return st;
}

/* The first n_evals rows of eval/contextwise, which must be (>= n_evals, n_bins). */
static int read_matrix(const cs_runlog_reader *r, hid_t g, cs_runlog_ctxwise *cw)
{
    hid_t ds = open_obj(g, "contextwise", false);
    hid_t fs = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t dims[2] = {0, 0};
    hsize_t start[2] = {0, 0};
    hsize_t count[2] = {cw->n_evals, cw->n_bins};
    hid_t ms = -1;
    int st = CS_OK;

    if (fs < 0 || H5Sget_simple_extent_ndims(fs) != 2 ||
        H5Sget_simple_extent_dims(fs, dims, NULL) != 2 || dims[1] != cw->n_bins ||
        dims[0] < cw->n_evals)
        st = rlh5_fail(CS_EINPUT, r->path,
                       "eval/contextwise is not a (n_evals, %zu) dataset "
                       "matching eval/bin_edges",
                       cw->n_bins);
    if (!st && cw->n_evals > (r->file_size / 8) / cw->n_bins)
        st = cs_fail(CS_EINPUT, "%s: eval/contextwise is larger than the file", r->path);
    if (!st && !(cw->loss = malloc((cw->n_evals ? cw->n_evals : 1) * cw->n_bins * sizeof(double))))
        st = cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    if (!st && cw->n_evals > 0) {
        ms = H5Screate_simple(2, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, cw->loss) < 0)
            st = rlh5_fail(CS_EINPUT, r->path, "cannot read eval/contextwise");
    }
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    close_obj(ds);
    return st;
}

/* eval/step of the committed eval rows into cw->step. */
static int read_eval_steps(const cs_runlog_reader *r, hid_t g, cs_runlog_ctxwise *cw)
{
    colinfo c = {"step", true, 0};
    double *buf = malloc((cw->n_evals ? cw->n_evals : 1) * sizeof *buf);
    size_t i;
    int st = CS_OK;

    cw->step = malloc((cw->n_evals ? cw->n_evals : 1) * sizeof *cw->step);
    if (!buf || !cw->step)
        st = cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    else if (cw->n_evals > 0 && read_rows(g, &c, 0, cw->n_evals, buf) < 0)
        st = rlh5_fail(CS_EINPUT, r->path, "cannot read eval/step");
    for (i = 0; !st && i < cw->n_evals; i++)
        cw->step[i] = isnan(buf[i]) ? -1 : (int64_t)buf[i];
    free(buf);
    return st;
}

static int ctxwise_impl(const cs_runlog_reader *r, cs_runlog_ctxwise *cw)
{
    hid_t g;
    int st = open_group(r, "eval", &g);

    if (st)
        return st;
    cw->n_evals = r->n_evals;
    if (attr_i64(g, "context", &cw->context) != RD_OK)
        cw->context = -1;
    st = read_eval_steps(r, g, cw);
    if (!st && H5Lexists(g, "contextwise", H5P_DEFAULT) > 0) {
        st = read_edges(r, g, cw);
        if (!st)
            st = read_matrix(r, g, cw);
    }
    H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

int cs_runlog_read_contextwise(const cs_runlog_reader *r, cs_runlog_ctxwise **out)
{
    cs_runlog_ctxwise *cw = calloc(1, sizeof *cw);
    rlh5_quiet q;
    int st;

    *out = NULL;
    if (!cw)
        return cs_fail(CS_ENOMEM, "%s: out of memory", r->path);
    rlh5_quiet_begin(&q);
    st = ctxwise_impl(r, cw);
    rlh5_quiet_end(&q);
    if (st) {
        cs_runlog_read_ctxwise_free(cw);
        return st;
    }
    if (cw->n_bins == 0) {
        free(cw->bin_edges);
        cw->bin_edges = NULL;
    }
    *out = cw;
    return CS_OK;
}

// ---- summaries -----------------------------------------------------------------------------

/* Column `name` of type `type` in t (added when missing). */
static int summary_col(cs_table *t, const char *name, cs_col_type type, size_t *col)
{
    long c = cs_table_find(t, name);

    if (c >= 0) {
        *col = (size_t)c;
        return CS_OK;
    }
    return cs_table_add_col(t, name, type, col);
}

/* Sets the cell of the last row of t in column `name` to text s. */
static int put_str(cs_table *t, const char *name, const char *s)
{
    size_t c;
    int st = summary_col(t, name, CS_COL_STR, &c);

    if (st || cs_table_col_type(t, c) != CS_COL_STR)
        return st; /* a numeric column keeps NaN */
    return cs_table_set_str(t, cs_table_nrows(t) - 1, c, s ? s : "");
}

/* Sets the cell of the last row of t in column `name` to number v. */
static int put_num(cs_table *t, const char *name, double v)
{
    char buf[32];
    size_t c;
    int st = summary_col(t, name, CS_COL_NUM, &c);

    if (st)
        return st;
    if (cs_table_col_type(t, c) == CS_COL_NUM) {
        cs_table_set_num(t, cs_table_nrows(t) - 1, c, v);
        return CS_OK;
    }
    if (isnan(v))
        return CS_OK;
    snprintf(buf, sizeof buf, "%.17g", v);
    return cs_table_set_str(t, cs_table_nrows(t) - 1, c, buf);
}

/* True when a config key would collide with a summary column of this run. */
static bool summary_name(const char *key, const cs_table *last_step)
{
    static const char *const fixed[] = {
        "path",    "status",  "status_message", "created_utc", "tool_version",  "git_revision",
        "n_steps", "n_evals", "step_eval",      "loss_val",    "loss_val_best", "loss_val_bpb",
    };
    size_t i;
    size_t n;
    const cs_runlog_col *sc = cs_runlog_step_cols(&n);

    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(key, fixed[i]) == 0)
            return true;
    for (i = 0; i < n; i++)
        if (strcmp(key, sc[i].name) == 0)
            return true;
    return cs_table_find(last_step, key) >= 0;
}

static int put_config(const cs_runlog_reader *r, cs_table *t, const cs_table *last_step)
{
    char name[300];
    size_t i;
    int st = CS_OK;

    for (i = 0; i < r->n_config && st == CS_OK; i++) {
        const cs_runlog_kv *kv = &r->config[i];

        snprintf(name, sizeof name, "%s%s", summary_name(kv->key, last_step) ? "config_" : "",
                 kv->key);
        if (kv->type == CS_RUNLOG_STR)
            st = put_str(t, name, kv->s);
        else
            st = put_num(t, name, kv->d);
    }
    return st;
}

/* The last row of table `last` (0 or 1 rows) into t: every column, or NaN for the schema's
 * step columns when there is no row. */
static int put_last_step(cs_table *t, const cs_table *last)
{
    size_t ncols;
    const cs_runlog_col *sc = cs_runlog_step_cols(&ncols);
    size_t i;
    int st = CS_OK;

    for (i = 0; i < ncols && st == CS_OK; i++)
        if (cs_table_find(last, sc[i].name) < 0)
            st = put_num(t, sc[i].name, NAN);
    for (i = 0; i < cs_table_ncols(last) && st == CS_OK; i++)
        st = put_num(t, cs_table_col_name(last, i),
                     cs_table_nrows(last) ? cs_table_num(last, 0, i) : NAN);
    return st;
}

static int put_last_eval(cs_table *t, const cs_table *last)
{
    static const char *const names[] = {"loss_val", "loss_val_best", "loss_val_bpb"};
    bool have = cs_table_nrows(last) > 0;
    long c = cs_table_find(last, "step");
    size_t i;
    int st = put_num(t, "step_eval", have && c >= 0 ? cs_table_num(last, 0, (size_t)c) : NAN);

    for (i = 0; i < 3 && st == CS_OK; i++) {
        c = cs_table_find(last, names[i]);
        st = put_num(t, names[i], have && c >= 0 ? cs_table_num(last, 0, (size_t)c) : NAN);
    }
    return st;
}

static int summary_impl(const cs_runlog_reader *r, cs_table *t, const cs_table *ls,
                        const cs_table *le)
{
    int st = cs_table_append_row(t, 0);

    if (!st)
        st = put_str(t, "path", r->path);
    if (!st)
        st = put_str(t, "status", cs_runlog_status_name(r->status));
    if (!st)
        st = put_str(t, "status_message", cs_runlog_read_status_message(r));
    if (!st)
        st = put_str(t, "created_utc", r->meta[3]);
    if (!st)
        st = put_str(t, "tool_version", r->meta[1]);
    if (!st)
        st = put_str(t, "git_revision", r->meta[2]);
    if (!st)
        st = put_config(r, t, ls);
    if (!st)
        st = put_num(t, "n_steps", (double)r->n_steps);
    if (!st)
        st = put_num(t, "n_evals", (double)r->n_evals);
    if (!st)
        st = put_last_step(t, ls);
    if (!st)
        st = put_last_eval(t, le);
    return st;
}

int cs_runlog_read_summary(const cs_runlog_reader *r, cs_table *t)
{
    cs_table *ls = NULL;
    cs_table *le = NULL;
    rlh5_quiet q;
    int st;

    rlh5_quiet_begin(&q);
    st = read_table(r, "steps", r->n_steps ? r->n_steps - 1 : 0, r->n_steps ? 1 : 0, &ls);
    if (!st)
        st = read_table(r, "eval", r->n_evals ? r->n_evals - 1 : 0, r->n_evals ? 1 : 0, &le);
    rlh5_quiet_end(&q);
    if (!st)
        st = summary_impl(r, t, ls, le);
    cs_table_free(ls);
    cs_table_free(le);
    return st;
}

int cs_runlog_read_summaries(const char *const *paths, size_t n, const char *source, cs_table **out)
{
    cs_table *t = cs_table_alloc(source ? source : "run logs");
    cs_runlog_reader *r = NULL;
    size_t i;
    int st = CS_OK;

    *out = NULL;
    if (!t)
        return cs_fail(CS_ENOMEM, "run logs: out of memory");
    for (i = 0; i < n && st == CS_OK; i++) {
        st = cs_runlog_read_open(paths[i], &r);
        if (st == CS_OK)
            st = cs_runlog_read_summary(r, t);
        cs_runlog_read_close(r);
        r = NULL;
    }
    if (st) {
        cs_table_free(t);
        return st;
    }
    *out = t;
    return CS_OK;
}

// ---- listing a directory -------------------------------------------------------------------

typedef struct pathlist {
    char **p;
    size_t n;
    size_t cap;
} pathlist;

static int pathlist_add(pathlist *l, const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->p, cap * sizeof *p);

        if (!p)
            return cs_fail(CS_ENOMEM, "%s: out of memory", dir);
        l->p = p;
        l->cap = cap;
    }
    s = malloc(n);
    if (!s)
        return cs_fail(CS_ENOMEM, "%s: out of memory", dir);
    snprintf(s, n, "%s/%s", dir, name);
    l->p[l->n++] = s;
    return CS_OK;
}

static bool is_h5_name(const char *name)
{
    size_t n = strlen(name);

    return name[0] != '.' && n > 3 && strcmp(name + n - 3, ".h5") == 0;
}

/* Adds dir's regular *.h5 files to l and, when `subdirs`, those of its subdirectories.
 * Unreadable subdirectories are skipped; an unreadable `dir` at the top is CS_EIO. */
static int scan_dir(pathlist *l, const char *dir, bool subdirs)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat sb;
    int st = CS_OK;

    if (!d)
        return subdirs ? cs_fail(CS_EIO, "%s: cannot read directory: %s", dir, strerror(errno))
                       : CS_OK;
    while (st == CS_OK && (e = readdir(d)) != NULL) {
        char *full;

        if (e->d_name[0] == '.')
            continue;
        st = pathlist_add(l, dir, e->d_name);
        if (st)
            break;
        full = l->p[--l->n]; /* peek: kept only if it is a run log */
        if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && is_h5_name(e->d_name)) {
            l->n++;
            continue;
        }
        if (subdirs && stat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
            st = scan_dir(l, full, false);
        free(full);
    }
    closedir(d);
    return st;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cs_runlog_read_list(const char *dir, char ***paths, size_t *n)
{
    pathlist l = {NULL, 0, 0};
    char *d = strdup(dir);
    size_t len;
    int st;

    *paths = NULL;
    *n = 0;
    if (!d)
        return cs_fail(CS_ENOMEM, "%s: out of memory", dir);
    len = strlen(d);
    while (len > 1 && d[len - 1] == '/')
        d[--len] = '\0';
    st = scan_dir(&l, d, true);
    free(d);
    if (st) {
        cs_runlog_read_list_free(l.p, l.n);
        return st;
    }
    if (l.n > 1)
        qsort(l.p, l.n, sizeof *l.p, cmp_path);
    *paths = l.p;
    *n = l.n;
    return CS_OK;
}

void cs_runlog_read_list_free(char **paths, size_t n)
{
    size_t i;

    for (i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}
