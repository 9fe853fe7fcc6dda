/* core/config.h: run and sweep config files (INI, read with the Debian library inih), with typed
 * getters that fill defaults, name file:line on bad values and catch misspelt keys.
 *
 * Format (docs/config.md has the full description and examples):
 *
 *     # comment            ; comment too
 *     seed = 1             (keys before any [section] are in section "")
 *     [model]
 *     layers = 4
 *     d_model = 256        # an inline comment needs a space or tab before '#' or ';'
 *     [data]
 *     context = 64, 128, 256
 *
 * `key = value` (or `key: value`); keys and values are stripped of surrounding spaces and tabs.
 * Section names are 1 to CS_CONFIG_SECTION_MAX bytes of letters, digits, '_' and '-'; keys are
 * letters, digits, '_', '-' and '.'. Both are case-sensitive. Values are any UTF-8 text. A key may
 * appear once per section (a section header may repeat). The input must be UTF-8 text (a leading
 * byte-order mark is skipped) with no NUL bytes or control characters other than tab and a CR
 * before LF, and no line longer than CS_CONFIG_LINE_MAX bytes.
 *
 * Reading sets inih's process-wide options (no multi-line values, '#' and ';' comments, long
 * lines), so a config must not be read while another thread uses inih. A cs_config itself is not
 * thread-safe (getters record which keys were read).
 *
 * Tested in tests/unit/test_config.c; fuzzed by fuzz/fuzz_config.c.
 */
#ifndef CS_CORE_CONFIG_H
#define CS_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest line accepted, in bytes, line ending excluded. */
#define CS_CONFIG_LINE_MAX 16384
/* Longest section name, in bytes, between '[' and ']' (inih cuts longer ones). */
#define CS_CONFIG_SECTION_MAX 49
/* Largest config file read, in bytes (a guard against passing a data file by mistake). */
#define CS_CONFIG_FILE_MAX (16u << 20)

typedef struct cs_config cs_config;

/* One key as read. Every string is owned by the config. */
typedef struct cs_config_entry {
    const char *section; /* "" for keys before any [section] */
    const char *key;
    const char *value; /* surrounding spaces, tabs and an inline comment removed */
    size_t line;       /* 1-based line in the source; 0 when set by cs_config_set */
} cs_config_entry;

/* Reads the config file at `path` ("-" is standard input, named "<stdin>" in messages) into a new
 * config (*out, owned by the caller, freed with cs_config_free; NULL on error). Returns CS_OK;
 * CS_EIO when the file cannot be opened or read (message has strerror); CS_EINPUT for a file over
 * CS_CONFIG_FILE_MAX bytes or any error of cs_config_read_mem; CS_ENOMEM. */
int cs_config_read_file(const char *path, cs_config **out);

/* Reads `n` bytes of config text from `data` (need not be NUL-terminated); `name` (NULL:
 * "<string>") stands for the file in messages. An empty input gives an empty config. Errors, all
 * CS_EINPUT and all starting "name:line: ": a NUL byte, a control character, invalid UTF-8 or a
 * byte-order mark after the start; a line over CS_CONFIG_LINE_MAX bytes; a section header without
 * ']', with an empty, too long or badly spelt name; a line that is neither a comment, a header nor
 * `key = value`; an empty or badly spelt key; a key repeated in a section ("... duplicate key,
 * first set on line L"). CS_ENOMEM when memory runs out. *out is NULL on error. */
int cs_config_read_mem(const void *data, size_t n, const char *name, cs_config **out);

/* As cs_config_read_mem on the NUL-terminated `text`. */
int cs_config_read_string(const char *text, const char *name, cs_config **out);

/* Frees the config and every string it owns. Accepts NULL. */
void cs_config_free(cs_config *cfg);

/* The name given when reading (the path for files). Owned by the config. */
const char *cs_config_name(const cs_config *cfg);

/* ---- typed getters -------------------------------------------------------------------------
 * Each looks up `key` in `section` ("" for the keys before any header) and marks it used (see
 * cs_config_check_unused). A missing key gives the default and CS_OK. A value that does not parse
 * gives CS_EINPUT with a message
 *     "file:line: [section] key: expected <what>, got "<value>""
 * ("command line: [section] key: ..." for values from cs_config_set) and leaves *out alone. */

/* The value as text, or `def` (may be NULL) when the key is missing. The string is owned by the
 * config and lives until cs_config_free or a cs_config_set of the same key. Never fails. */
const char *cs_config_get_str(cs_config *cfg, const char *section, const char *key,
                              const char *def);

/* A base-10 integer in [min, max] (the default is not range-checked). */
int cs_config_get_long(cs_config *cfg, const char *section, const char *key, long def, long min,
                       long max, long *out);

/* A finite number, with CS_PARSE_POSITIVE / CS_PARSE_NONNEGATIVE / CS_PARSE_ALLOW_NONFINITE
 * flags as in core/parse.h. */
int cs_config_get_double(cs_config *cfg, const char *section, const char *key, double def,
                         unsigned flags, double *out);

/* A non-negative whole count, scientific notation allowed ("20e6"), at most 2^53. */
int cs_config_get_count(cs_config *cfg, const char *section, const char *key, int64_t def,
                        int64_t *out);

/* true/false, yes/no, on/off or 1/0 (case-insensitive). */
int cs_config_get_bool(cs_config *cfg, const char *section, const char *key, bool def, bool *out);

/* ---- list getters: comma-separated values, e.g. `context = 64, 128, 256` --------------------
 * Items are stripped of spaces and tabs; an empty value or an empty item ("64,,128", a trailing
 * comma) is CS_EINPUT. Messages for a bad item name it: "... [data] context item 2: expected
 * ...". On success *out is a new array of *n items owned by the caller (one free() releases it);
 * a missing key gives a copy of the `n_def` defaults (*out is NULL when n_def is 0). On error
 * *out is NULL and *n is 0. CS_ENOMEM when memory runs out. */

/* Numbers, with CS_PARSE_* flags as cs_config_get_double. */
int cs_config_get_doubles(cs_config *cfg, const char *section, const char *key, const double *def,
                          size_t n_def, unsigned flags, double **out, size_t *n);

/* Counts, as cs_config_get_count. */
int cs_config_get_counts(cs_config *cfg, const char *section, const char *key, const int64_t *def,
                         size_t n_def, int64_t **out, size_t *n);

/* Strings: *out is an array of *n pointers to NUL-terminated strings, all in the one block. */
int cs_config_get_strs(cs_config *cfg, const char *section, const char *key, const char *const *def,
                       size_t n_def, char ***out, size_t *n);

/* ---- checks ------------------------------------------------------------------------------- */

/* True when `section` has `key`. Does not mark the key used. */
bool cs_config_has_key(const cs_config *cfg, const char *section, const char *key);

/* CS_OK when `section` has `key`, else CS_EINPUT "file: [section] key: missing (required)".
 * Does not mark the key used. */
int cs_config_require(const cs_config *cfg, const char *section, const char *key);

/* Marks `key` of `section` used without reading it; a NULL key marks every key of the section
 * (for a section a command knowingly ignores). Unknown names are ignored. */
void cs_config_mark_used(cs_config *cfg, const char *section, const char *key);

/* The typo guard, called after a command has read every key it knows: CS_OK when every key was
 * read, else CS_EINPUT for the first unused one in file order:
 *     "file:line: unknown key "lerning_rate" in [train]"
 * ("... unknown key "x" before any [section]" for section ""). */
int cs_config_check_unused(const cs_config *cfg);

/* Records a CS_EINPUT message about a value the caller rejected, with the same location prefix
 * as the getters ("file:line: [section] key: " + the printf-style message; "file: [section] key: "
 * when the key is missing), and returns CS_EINPUT. E.g.
 *     return cs_config_fail(cfg, "model", "heads", "must divide d_model = %ld", d_model); */
int cs_config_fail(const cs_config *cfg, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- overrides ---------------------------------------------------------------------------- */

/* Sets `key` in `section` to `value` (stripped of surrounding spaces and tabs), replacing a value
 * read from the file or adding the key; the entry's line becomes 0 and it counts as unused again.
 * CS_EINPUT for a badly spelt section or key, or a value with a control character, invalid UTF-8
 * or " #" / " ;" (which would start a comment in a file); CS_ENOMEM. */
int cs_config_set(cs_config *cfg, const char *section, const char *key, const char *value);

/* Applies one command-line override "SECTION.KEY=VALUE" (split at the first '=' and then at the
 * first '.'; "KEY=VALUE" without a '.' sets a key of section ""). CS_EINPUT when there is no '='
 * or cs_config_set rejects the parts; the message starts with the argument. */
int cs_config_set_arg(cs_config *cfg, const char *arg);

/* ---- iteration ---------------------------------------------------------------------------- */

/* Number of entries; entries are in file order, then in the order cs_config_set added them. */
size_t cs_config_entry_count(const cs_config *cfg);

/* Entry i < cs_config_entry_count (CS_ASSERT). Valid until cs_config_set or cs_config_free. */
const cs_config_entry *cs_config_entry_at(const cs_config *cfg, size_t i);

/* Number of distinct sections holding keys, "" included when it has keys; in order of first
 * appearance. */
size_t cs_config_section_count(const cs_config *cfg);

/* Name of section i < cs_config_section_count (CS_ASSERT); owned by the config. */
const char *cs_config_section_at(const cs_config *cfg, size_t i);

/* Writes the config as INI text to `f`: the keys of section "" first, then each section with its
 * keys, `key = value` one a line. Reading the output back gives the same sections, keys and values.
 * CS_OK or CS_EIO (the stream's error flag is set). */
int cs_config_write(const cs_config *cfg, FILE *f);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_CONFIG_H */
