/* core/progress.c: the progress bar of core/progress.h: rate smoothing, throttled redraws, line
 * formatting. Test: tests/unit/test_progress.c. */
#include "core/progress.h"

#include "core/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SUFFIX_MAX     128
#define LINE_MAX_BYTES 1024
#define RATE_TAU       2.0 /* seconds: time constant of the rate's moving average */

struct cs_progress {
    FILE *stream;
    uint64_t total;          /* items; 0 when unknown */
    uint64_t done;           /* items so far */
    char *label;             /* "" when none */
    char *unit;              /* e.g. "tok" */
    char suffix[SUFFIX_MAX]; /* free text after the times */
    int bar_width;           /* characters */
    double min_interval;     /* seconds between redraws */
    bool enabled;
    bool finished;
    bool drawn;           /* at least one line drawn */
    double t_start;       /* seconds, CLOCK_MONOTONIC */
    double t_last;        /* latest time seen */
    double t_draw;        /* time of the last redraw */
    double t_sample;      /* time of the last rate sample */
    uint64_t done_sample; /* count at the last rate sample */
    double rate;          /* items/s, moving average; < 0 while unknown */
    size_t last_len;      /* bytes of the last line drawn, to blank its leftovers */
};

double cs_progress_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

cs_progress_params cs_progress_default_params(void)
{
    cs_progress_params p = {NULL, NULL, CS_PROGRESS_AUTO, 20, 0.1, -1.0};

    return p;
}

static char *dup_or(const char *s, const char *fallback)
{
    const char *src = s ? s : fallback;
    size_t n = strlen(src) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, src, n);
    return d;
}

/* Replaces control bytes so that label, unit and suffix cannot move the cursor. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

cs_progress *cs_progress_alloc(FILE *stream, uint64_t total, const cs_progress_params *p)
{
    cs_progress_params d = p ? *p : cs_progress_default_params();
    cs_progress *pg;

    if (stream == NULL || d.bar_width < 0 || !(d.min_interval >= 0) || d.mode < CS_PROGRESS_AUTO ||
        d.mode > CS_PROGRESS_OFF) {
        cs_fail(CS_EINVAL, "progress: need a stream, bar_width >= 0, min_interval >= 0, a mode");
        return NULL;
    }
    pg = calloc(1, sizeof *pg);
    if (pg == NULL)
        goto out_nomem;
    pg->label = dup_or(d.label, "");
    pg->unit = dup_or(d.unit, "it");
    if (pg->label == NULL || pg->unit == NULL)
        goto out_free_pg;
    sanitize(pg->label);
    sanitize(pg->unit);
    pg->stream = stream;
    pg->total = total;
    pg->bar_width = d.bar_width > 200 ? 200 : d.bar_width;
    pg->min_interval = d.min_interval;
    pg->enabled =
        d.mode == CS_PROGRESS_ON || (d.mode == CS_PROGRESS_AUTO && isatty(fileno(stream)));
    pg->t_start = d.start >= 0 ? d.start : cs_progress_now();
    pg->t_last = pg->t_draw = pg->t_sample = pg->t_start;
    pg->rate = -1.0;
    return pg;

out_free_pg:
    cs_progress_free(pg);
out_nomem:
    cs_fail(CS_ENOMEM, "progress: out of memory");
    return NULL;
}

void cs_progress_free(cs_progress *pg)
{
    if (pg == NULL)
        return;
    free(pg->label);
    free(pg->unit);
    free(pg);
}

bool cs_progress_is_enabled(const cs_progress *pg)
{
    return pg->enabled;
}

void cs_progress_set_suffix(cs_progress *pg, const char *fmt, ...)
{
    va_list ap;

    if (!pg->enabled)
        return;
    pg->suffix[0] = '\0';
    if (fmt == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(pg->suffix, sizeof pg->suffix, fmt, ap);
    va_end(ap);
    sanitize(pg->suffix);
}

/* ---- formatting ----------------------------------------------------------------------------- */

size_t cs_progress_format_duration(double seconds, char *buf, size_t n)
{
    uint64_t s;
    int k;

    if (!isfinite(seconds) || seconds < 0 || seconds > 1e15)
        k = snprintf(buf, n, "?:??");
    else {
        s = (uint64_t)seconds;
        if (s < 3600)
            k = snprintf(buf, n, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
        else
            k = snprintf(buf, n, "%llu:%02u:%02u", (unsigned long long)(s / 3600),
                         (unsigned)(s / 60 % 60), (unsigned)(s % 60));
    }
    return k < 0 ? 0 : (size_t)k;
}

/* v in [0, 1000) with 3 significant digits: "0.125", "2.50", "12.3", "123". */
static int sig3(double v, char *buf, size_t n, const char *prefix)
{
    int decimals = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;

    if (v < 0.9995)
        return snprintf(buf, n, "%#.3g%s", v, prefix);
    return snprintf(buf, n, "%.*f%s", decimals, v, prefix);
}

size_t cs_progress_format_si(double value, char *buf, size_t n)
{
    static const char *const prefix[] = {"", "k", "M", "G", "T", "P", "E"};
    const char *sign = value < 0 ? "-" : "";
    double v = fabs(value);
    size_t p = 0;
    int k;

    if (!isfinite(value))
        return (size_t)snprintf(buf, n, "?");
    if (v < 999.5 && v == floor(v))
        return (size_t)snprintf(buf, n, "%s%.0f", sign, v);
    if (v < 0.001 && v > 0)
        return (size_t)snprintf(buf, n, "%s%.2e", sign, v);
    /* Move to the next prefix while the rounded mantissa would print as 1000 or more. */
    while (v >= 999.5 && p + 1 < sizeof prefix / sizeof prefix[0]) {
        v /= 1000.0;
        p++;
    }
    k = snprintf(buf, n, "%s", sign);
    if (k < 0)
        return 0;
    k += sig3(v, (size_t)k < n ? buf + k : NULL, (size_t)k < n ? n - (size_t)k : 0, prefix[p]);
    return (size_t)k;
}

/* Appends printf output to line[*len], never past LINE_MAX_BYTES - 1. */
static void add(char *line, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(char *line, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(line + *len, LINE_MAX_BYTES - *len, fmt, ap);
    va_end(ap);
    if (k > 0)
        *len += (size_t)k < LINE_MAX_BYTES - *len ? (size_t)k : LINE_MAX_BYTES - 1 - *len;
}

/* A count exactly while the numbers are short ("13/1000"), with an SI prefix beyond. */
static void format_count(const cs_progress *pg, uint64_t v, char *buf, size_t n)
{
    if ((pg->total > pg->done ? pg->total : pg->done) < 100000)
        snprintf(buf, n, "%llu", (unsigned long long)v);
    else
        cs_progress_format_si((double)v, buf, n);
}

/* Label, percentage, bar and count: "train  45% [#####     ] 45.2M/100M". */
static void add_count(const cs_progress *pg, char *line, size_t *len)
{
    char a[32];
    char b[32];
    uint64_t done = pg->total && pg->done > pg->total ? pg->total : pg->done;
    int i;

    if (pg->label[0])
        add(line, len, "%s ", pg->label);
    format_count(pg, pg->done, a, sizeof a);
    if (pg->total == 0) {
        add(line, len, "%s %s", a, pg->unit);
        return;
    }
    format_count(pg, pg->total, b, sizeof b);
    add(line, len, "%3u%% ", (unsigned)((double)done / (double)pg->total * 100.0));
    if (pg->bar_width > 0) {
        int fill = (int)((double)done / (double)pg->total * pg->bar_width);

        add(line, len, "[");
        for (i = 0; i < pg->bar_width; i++)
            add(line, len, "%c", i < fill ? '#' : ' ');
        add(line, len, "] ");
    }
    add(line, len, "%s/%s", a, b);
}

/* The whole line for the current state; `final` shows the average rate and "elapsed". */
static size_t compose(const cs_progress *pg, char *line, bool final)
{
    double elapsed = pg->t_last - pg->t_start;
    double rate = final ? (elapsed > 0 ? (double)pg->done / elapsed : -1.0) : pg->rate;
    char r[32] = "?";
    char t[32];
    char eta[32] = "?:??";
    size_t len = 0;

    line[0] = '\0';
    add_count(pg, line, &len);
    if (rate >= 0)
        cs_progress_format_si(rate, r, sizeof r);
    cs_progress_format_duration(elapsed, t, sizeof t);
    add(line, &len, "  %s %s/s  %s", r, pg->unit, t);
    if (final)
        add(line, &len, " elapsed");
    else if (pg->total) {
        if (pg->done >= pg->total)
            snprintf(eta, sizeof eta, "0:00");
        else if (pg->rate > 0)
            cs_progress_format_duration((double)(pg->total - pg->done) / pg->rate, eta, sizeof eta);
        add(line, &len, " ETA %s", eta);
    }
    if (pg->suffix[0])
        add(line, &len, "  %s", pg->suffix);
    return len;
}

/* Columns of the terminal behind the stream, or 0 when unknown. */
static size_t terminal_columns(FILE *f)
{
    struct winsize ws;

    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

static void draw(cs_progress *pg, bool final)
{
    char line[LINE_MAX_BYTES];
    size_t len = compose(pg, line, final);
    size_t cols = terminal_columns(pg->stream);
    size_t pad;

    /* Keep the line on one terminal row so '\r' returns to its start; cut at a UTF-8 boundary. */
    if (cols > 1 && len > cols - 1) {
        len = cols - 1;
        while (len > 0 && ((unsigned char)line[len] & 0xC0) == 0x80)
            len--;
    }
    pad = pg->last_len > len ? pg->last_len - len : 0;
    fprintf(pg->stream, "\r%.*s%*s%s", (int)len, line, (int)pad, "", final ? "\n" : "");
    fflush(pg->stream);
    pg->last_len = final ? 0 : len;
    pg->drawn = true;
}

/* ---- updates -------------------------------------------------------------------------------- */

/* Folds the items done since the last sample into the moving average. */
static void sample_rate(cs_progress *pg)
{
    double dt = pg->t_last - pg->t_sample;
    double inst;
    double alpha;

    if (pg->done < pg->done_sample) { /* the count went back: start measuring again */
        pg->done_sample = pg->done;
        pg->t_sample = pg->t_last;
        return;
    }
    if (!(dt > 0))
        return;
    inst = (double)(pg->done - pg->done_sample) / dt;
    alpha = 1.0 - exp(-dt / RATE_TAU);
    pg->rate = pg->rate < 0 ? inst : pg->rate + alpha * (inst - pg->rate);
    pg->t_sample = pg->t_last;
    pg->done_sample = pg->done;
}

void cs_progress_update_at(cs_progress *pg, uint64_t done, double now)
{
    bool complete;

    if (!pg->enabled || pg->finished)
        return;
    if (now > pg->t_last)
        pg->t_last = now;
    pg->done = done;
    complete = pg->total && done >= pg->total;
    if (pg->drawn && !complete && pg->t_last - pg->t_draw < pg->min_interval)
        return;
    sample_rate(pg);
    pg->t_draw = pg->t_last;
    draw(pg, false);
}

void cs_progress_update(cs_progress *pg, uint64_t done)
{
    if (pg->enabled && !pg->finished)
        cs_progress_update_at(pg, done, cs_progress_now());
}

void cs_progress_add(cs_progress *pg, uint64_t n)
{
    if (pg->enabled && !pg->finished)
        cs_progress_update_at(pg, pg->done + n, cs_progress_now());
}

void cs_progress_finish_at(cs_progress *pg, double now)
{
    if (!pg->enabled || pg->finished)
        return;
    if (now > pg->t_last)
        pg->t_last = now;
    draw(pg, true);
    pg->finished = true;
}

void cs_progress_finish(cs_progress *pg)
{
    if (pg->enabled && !pg->finished)
        cs_progress_finish_at(pg, cs_progress_now());
}
