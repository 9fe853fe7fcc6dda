/* core/parse.h: the only way ctxscale turns user text into numbers (atoi/atof are banned).
 *
 * Each function checks the whole string was consumed, the value is in range and finite, and on
 * failure records a message naming `what` (a flag, a file:line:column, a config key) and what was
 * expected, then returns CS_EINPUT. Leading/trailing ASCII spaces are allowed.
 * Tested in tests/unit/test_parse.c.
 */
#ifndef CS_CORE_PARSE_H
#define CS_CORE_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for cs_parse_double_ex. */
enum {
    CS_PARSE_ALLOW_NONFINITE = 1u << 0, /* accept nan, inf, -inf */
    CS_PARSE_POSITIVE = 1u << 1,        /* require > 0 */
    CS_PARSE_NONNEGATIVE = 1u << 2,     /* require >= 0 */
};

/* Parses a base-10 integer into *out. Returns CS_OK or CS_EINPUT ("<what>: expected an integer,
 * got "..."" or out of range). `what` may be NULL ("value"). */
int cs_parse_long(const char *s, long *out, const char *what);

/* Parses a finite double (decimal or scientific, e.g. "1e21") into *out. Returns CS_OK or
 * CS_EINPUT. NaN, Inf, overflow to Inf and trailing text are rejected. */
int cs_parse_double(const char *s, double *out, const char *what);

/* As cs_parse_double with CS_PARSE_* flags. */
int cs_parse_double_ex(const char *s, double *out, unsigned flags, const char *what);

/* Parses a non-negative whole count that may be written in scientific notation ("20e6",
 * "16384"), up to 2^53 so that it is exact in a double. Returns CS_OK or CS_EINPUT. */
int cs_parse_count(const char *s, int64_t *out, const char *what);

/* Parses a boolean: true/false, yes/no, on/off, 1/0 (case-insensitive). CS_OK or CS_EINPUT. */
int cs_parse_bool(const char *s, bool *out, const char *what);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_PARSE_H */
