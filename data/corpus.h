/* data/corpus.h: a corpus on disk: a set of documents, each with a source label, a title, a
 * train/val split and a SHA-256, kept in one directory:
 *
 *   documents.bin   every document's bytes, concatenated in id order (no separators)
 *   index.tsv       one row per document: id, split, label, source, offset, length, utf8,
 *                   sha256, title
 *   manifest.json   corpus name, sources (Debian package, version, checksum, path), counts,
 *                   split parameters, creation time, tool version, checksum of index.tsv
 *
 * The writer builds the directory under "<out>.tmp.XXXXXX" beside it and renames it into place
 * only on commit, so a failed build leaves nothing behind and never touches an older corpus
 * unless forced. The reader maps documents.bin and checks the three files against each other.
 * docs/data.md ("The corpus format") describes the files byte by byte. Also here: SHA-256 and
 * UTF-8 validation, which the writer and data/sources.c share. Tested in tests/unit/test_corpus.c.
 */
#ifndef CS_DATA_CORPUS_H
#define CS_DATA_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the layout written and read here (manifest.json "format_version"). */
#define CS_CORPUS_FORMAT_VERSION 1

/* Longest source label in bytes. Labels use letters, digits and . _ : + - only. */
#define CS_CORPUS_LABEL_MAX 64

/* Splits. Every document is in exactly one. */
enum { CS_CORPUS_TRAIN = 0, CS_CORPUS_VAL = 1 };

// ---- SHA-256 (FIPS 180-4) and UTF-8 --------------------------------------------------------

/* Incremental SHA-256 state. Fill with cs_corpus_sha256_init. */
typedef struct cs_corpus_sha256 {
    uint32_t h[8];   /* chaining value */
    uint64_t n;      /* bytes hashed so far */
    uint8_t buf[64]; /* pending partial block */
    size_t fill;     /* bytes in buf */
} cs_corpus_sha256;

/* Starts a hash. */
void cs_corpus_sha256_init(cs_corpus_sha256 *s);

/* Adds data[0..n) to the hash. */
void cs_corpus_sha256_update(cs_corpus_sha256 *s, const void *data, size_t n);

/* Finishes the hash into out (32 bytes); s must be initialised again before reuse. */
void cs_corpus_sha256_final(cs_corpus_sha256 *s, uint8_t out[32]);

/* One-shot SHA-256 of data[0..n) into out (32 bytes). */
void cs_corpus_sha256_bytes(const void *data, size_t n, uint8_t out[32]);

/* Writes bytes[0..n) as 2n lowercase hex digits and a NUL into out (2n + 1 chars). */
void cs_corpus_hex(const uint8_t *bytes, size_t n, char *out);

/* True when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). The empty string is UTF-8. */
bool cs_corpus_is_utf8(const uint8_t *s, size_t n);

/* True when `label` is a usable source label: 1 to CS_CORPUS_LABEL_MAX bytes of letters, digits
 * and . _ : + - */
bool cs_corpus_label_is_valid(const char *label);

// ---- writing -------------------------------------------------------------------------------

/* A corpus being written. */
typedef struct cs_corpus_writer cs_corpus_writer;

/* Where documents came from; one entry of manifest.json "sources". Every string is copied, and
 * every one but kind, spec and label may be NULL (left out of the manifest). */
typedef struct cs_corpus_source {
    const char *kind;    /* "debian-package", "directory", "file-list", "jsonl" or "file" */
    const char *spec;    /* the source as named on the command line, e.g. "pd-books" */
    const char *label;   /* default label of its documents */
    const char *path;    /* file or directory read */
    const char *package; /* Debian package the bytes come from */
    const char *version; /* that package's version */
    const char *via;     /* program that decoded the file, e.g. "bible (bible-kjv 4.38)" */
    const char *sha256;  /* 64 hex digits: checksum of the file at path as read */
} cs_corpus_source;

/* Parameters of the commit; cs_corpus_default_params() gives the defaults. */
typedef struct cs_corpus_params {
    const char *name; /* corpus name for the manifest (default "corpus") */
    double val_frac;  /* fraction of documents per label in val, 0 <= f < 1 (default 0.05) */
    uint64_t seed;    /* seed of the split hash (default 0) */
    time_t created;   /* creation time recorded; 0 (default) = now */
} cs_corpus_params;

/* name "corpus", val_frac 0.05, seed 0, created 0. */
cs_corpus_params cs_corpus_default_params(void);

/* Starts a corpus that will appear at directory `out`. Creates "<out>.tmp.XXXXXX" beside it.
 * Errors (nothing is left on disk):
 *   CS_EINPUT  `out` exists and !force ("<out>: exists; use --force to replace it"); `out` exists,
 *              force is set but it is not a corpus directory (force replaces nothing else); the
 *              directory that should hold `out` does not exist;
 *   CS_EIO     the temporary directory or documents.bin cannot be created (with strerror);
 *   CS_ENOMEM. */
int cs_corpus_writer_open(const char *out, bool force, cs_corpus_writer **w);

/* Records a source; *id gets its number (0, 1, ...) for the documents that follow. CS_EINPUT
 * for a bad label, CS_EINVAL for a NULL kind/spec, CS_ENOMEM. */
int cs_corpus_writer_add_source(cs_corpus_writer *w, const cs_corpus_source *src, size_t *id);

/* Sets or replaces the "sha256" of source `id` (64 hex digits), for a checksum known only after
 * its documents were read. CS_EINVAL for an unknown source or a malformed checksum, CS_ENOMEM. */
int cs_corpus_writer_source_checksum(cs_corpus_writer *w, size_t id, const char *sha256);

/* Starts a document of source `source` with `label` (NULL: the source's label) and `title` (any
 * bytes but NUL; shown escaped in index.tsv). CS_EINPUT for a bad label, CS_EINVAL when a
 * document is already open or the source does not exist, CS_ENOMEM. */
int cs_corpus_writer_begin(cs_corpus_writer *w, size_t source, const char *label,
                           const char *title);

/* Appends bytes[0..n) to the open document (any bytes). CS_EIO on a write error (strerror),
 * CS_EINVAL when no document is open. After any error of a writer function the writer can only
 * be aborted. */
int cs_corpus_writer_write(cs_corpus_writer *w, const void *bytes, size_t n);

/* Ends the open document. An empty document is dropped (counted in the manifest as
 * "skipped_empty") and *kept (may be NULL) gets false. CS_EINVAL when none is open. */
int cs_corpus_writer_end(cs_corpus_writer *w, bool *kept);

/* begin + write + end in one call. */
int cs_corpus_writer_add(cs_corpus_writer *w, size_t source, const char *label, const char *title,
                         const void *bytes, size_t n, bool *kept);

/* Documents kept so far, in all sources / in source `source`. */
size_t cs_corpus_writer_count(const cs_corpus_writer *w);
size_t cs_corpus_writer_source_count(const cs_corpus_writer *w, size_t source);

/* Assigns splits, writes index.tsv and manifest.json, renames the directory to `out` (replacing
 * the old corpus when forced) and frees w, also on error. The split: within each label, documents
 * are ranked by a hash of (seed, label, title) and the first round(val_frac x count) go to val,
 * never all of a label; when that gives no val document at all and the corpus has two or more,
 * the lowest-ranked document overall goes to val (unless val_frac is 0). Errors (the temporary
 * directory is removed; an old corpus is kept):
 *   CS_EINPUT  no document was added ("no documents"); val_frac out of range; `out` appeared
 *              meanwhile without force;
 *   CS_EINVAL  a document is still open; CS_EIO; CS_ENOMEM. */
int cs_corpus_writer_commit(cs_corpus_writer *w, const cs_corpus_params *p);

/* Removes the temporary directory and frees w. Accepts NULL. */
void cs_corpus_writer_abort(cs_corpus_writer *w);

// ---- reading -------------------------------------------------------------------------------

/* An open corpus: documents.bin mapped read-only, the index in memory. Read-only; safe to share
 * between threads. */
typedef struct cs_corpus cs_corpus;

/* One document, as cs_corpus_get returns it. Pointers live as long as the corpus. */
typedef struct cs_corpus_doc {
    const uint8_t *bytes; /* (len) the document's bytes, exactly as written */
    size_t len;           /* bytes */
    int split;            /* CS_CORPUS_TRAIN or CS_CORPUS_VAL */
    const char *label;    /* source label */
    const char *title;    /* unescaped title */
    size_t source;        /* index into the manifest's sources */
    bool utf8;            /* the bytes are well-formed UTF-8 */
    char sha256[65];      /* hex SHA-256 of the bytes */
} cs_corpus_doc;

/* Opens the corpus in directory `dir` and checks it: manifest.json of this format and version,
 * index.tsv rows in id order with contiguous offsets, its checksum and counts equal to the
 * manifest's, documents.bin exactly as long as the index says. CS_EINPUT names the file, the
 * line and what was expected; CS_EIO when a file cannot be opened, read or mapped; CS_ENOMEM.
 * Document bytes are not hashed here (cs_corpus_verify does). */
int cs_corpus_open(const char *dir, cs_corpus **out);

/* Unmaps and frees. Accepts NULL. */
void cs_corpus_close(cs_corpus *c);

/* Number of documents, and of documents in `split` (0 for another value). */
size_t cs_corpus_count(const cs_corpus *c);
size_t cs_corpus_count_split(const cs_corpus *c, int split);

/* Total bytes of all documents. */
uint64_t cs_corpus_bytes(const cs_corpus *c);

/* Document i into *doc. CS_EINVAL when i >= count. */
int cs_corpus_get(const cs_corpus *c, size_t i, cs_corpus_doc *doc);

/* Corpus name from the manifest. */
const char *cs_corpus_name(const cs_corpus *c);

/* The manifest's "checksum": hex SHA-256 of index.tsv, which covers every document's SHA-256,
 * label, title and split; a fingerprint of the corpus for whatever is built from it. */
const char *cs_corpus_checksum(const cs_corpus *c);

/* Distinct labels, in order of first appearance, and label k (NULL when out of range). */
size_t cs_corpus_n_labels(const cs_corpus *c);
const char *cs_corpus_label(const cs_corpus *c, size_t k);

/* Hashes every document and compares with the index. CS_EINPUT naming the first document whose
 * bytes do not match ("documents.bin: document 12 (\"title\"): SHA-256 differs from index.tsv"). */
int cs_corpus_verify(const cs_corpus *c);

#ifdef __cplusplus
}
#endif
#endif /* CS_DATA_CORPUS_H */
