/* core/progress.h: a one-line progress bar for long loops (training, tokenizing, sweeps).
 *
 *     train  45% [#########           ] 45.2M/100M  1.23M tok/s  0:36 ETA 0:44  loss 3.21
 *
 * It is redrawn in place ('\r') on a FILE * (stderr usually), at most every min_interval seconds
 * (0.1 by default) and when the count reaches the total. The rate is an exponential moving
 * average over about two seconds of CLOCK_MONOTONIC time; the ETA is (total - done) / rate.
 * A final line with the average rate and the elapsed time ends with '\n'. Counts are written
 * exactly while both are below 100000 ("13/1000") and with SI prefixes beyond ("45.2M/100M").
 *
 * By default the bar is on only when the stream is a terminal (isatty), so logs and pipes stay
 * clean; CS_PROGRESS_ON forces it (for tests, or a log that wants it). When off, every call is a
 * cheap no-op. Output errors are ignored (it is decoration). Not thread-safe: one thread updates.
 * Tested in tests/unit/test_progress.c.
 */
#ifndef CS_CORE_PROGRESS_H
#define CS_CORE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_progress cs_progress;

enum {
    CS_PROGRESS_AUTO = 0, /* on when the stream is a terminal */
    CS_PROGRESS_ON = 1,   /* always on */
    CS_PROGRESS_OFF = 2,  /* always off */
};

typedef struct cs_progress_params {
    const char *label;   /* text at the start of the line, e.g. "train" (copied; NULL: none) */
    const char *unit;    /* unit of the count, e.g. "tok" gives "tok/s" (copied; NULL: "it") */
    int mode;            /* CS_PROGRESS_AUTO, _ON or _OFF */
    int bar_width;       /* characters inside [ ], 0 for no bar (default 20) */
    double min_interval; /* seconds between redraws (default 0.1) */
    double start;        /* start time on cs_progress_now's clock, seconds; < 0 (default): now */
} cs_progress_params;

/* The defaults: no label, unit "it", CS_PROGRESS_AUTO, a 20-character bar, 0.1 s, start now. */
cs_progress_params cs_progress_default_params(void);

/* A progress bar on `stream` for `total` items (0: unknown, no bar, percentage or ETA). `p` may
 * be NULL for the defaults. The clock starts at p->start (now by default). Returns NULL with
 * CS_ENOMEM, or CS_EINVAL for a NULL stream, a negative bar width or interval, or an unknown mode.
 * Free with cs_progress_free. */
cs_progress *cs_progress_alloc(FILE *stream, uint64_t total, const cs_progress_params *p);

/* Frees the bar (without drawing a final line; call cs_progress_finish for that). Accepts NULL. */
void cs_progress_free(cs_progress *pg);

/* True when the bar draws anything (the mode and, in auto mode, isatty). */
bool cs_progress_is_enabled(const cs_progress *pg);

/* Sets the count of items done so far (absolute; a smaller count than before is allowed, e.g.
 * after a restart) and redraws if min_interval has passed or done >= total. */
void cs_progress_update(cs_progress *pg, uint64_t done);

/* Adds `n` to the count, as cs_progress_update(pg, done + n). */
void cs_progress_add(cs_progress *pg, uint64_t n);

/* As cs_progress_update at time `now` in seconds on the bar's clock (CLOCK_MONOTONIC, the same
 * scale as cs_progress_now). For replaying a log at its own times, and for tests. Times earlier
 * than the last one are treated as the last one. */
void cs_progress_update_at(cs_progress *pg, uint64_t done, double now);

/* Sets the free text shown at the end of the line (printf-style, e.g. "loss %.3f"; cut at 127
 * bytes; control characters become '?'); shown from the next redraw. NULL clears it. */
void cs_progress_set_suffix(cs_progress *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Draws the final line: label, count, the average rate over the whole run, the elapsed time and
 * the suffix, then '\n'. Later updates are ignored. */
void cs_progress_finish(cs_progress *pg);

/* As cs_progress_finish at time `now` (see cs_progress_update_at). */
void cs_progress_finish_at(cs_progress *pg, double now);

/* Seconds on CLOCK_MONOTONIC. */
double cs_progress_now(void);

/* Writes a duration as "M:SS" below an hour and "H:MM:SS" from an hour on (3725 -> "1:02:05"),
 * rounded down to whole seconds; negative, NaN or infinite values give "?:??". Always
 * NUL-terminates when n > 0; returns the length it needed (as snprintf). */
size_t cs_progress_format_duration(double seconds, char *buf, size_t n);

/* Writes a non-negative value with 3 significant digits and an SI prefix from 1000 on
 * (12345 -> "12.3k", 1.5e6 -> "1.50M", k M G T P E); below 1000, whole numbers are written
 * whole ("37") and others with 3 significant digits ("2.50", "0.125"). Negative values get a
 * '-'; NaN or infinite values give "?". Returns the length needed (as snprintf). */
size_t cs_progress_format_si(double value, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_PROGRESS_H */
