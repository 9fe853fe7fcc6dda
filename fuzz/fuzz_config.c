/* fuzz/fuzz_config.c: libFuzzer target for the config reader (core/config.c). Every input is read
 * twice: as raw bytes with cs_config_read_mem (so NUL bytes reach the rejection path) and as a
 * NUL-terminated string with cs_config_read_string (which sees the text up to the first NUL).
 * When a read succeeds, every getter runs on every key, each key is overridden with its own value
 * through cs_config_set_arg, and the config is written with cs_config_write and read back: the
 * copy must have the same keys and values, in the same order, or the target aborts. Built and run
 * by `make fuzz`; seeds in fuzz/seeds/fuzz_config/.
 */
#include "core/config.h"
#include "core/error.h"
#include "core/parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mismatch(const char *what, size_t i)
{
    fprintf(stderr, "fuzz_config: write and read back changed %s of entry %zu\n", what, i);
    abort();
}

/* Calls every getter on (section, key); results are only checked for consistency. */
static void get_everything(cs_config *cfg, const char *sec, const char *key)
{
    static const unsigned dflags[] = {0, CS_PARSE_POSITIVE, CS_PARSE_NONNEGATIVE,
                                      CS_PARSE_ALLOW_NONFINITE};
    static const double ddef[] = {1.0};
    static const int64_t cdef[] = {2};
    static const char *const sdef[] = {"x"};
    long l;
    double d;
    int64_t c;
    bool b;
    size_t i;
    size_t n;
    double *dl;
    int64_t *cl;
    char **sl;

    if (cs_config_get_str(cfg, sec, key, NULL) == NULL)
        abort(); /* the key exists */
    (void)cs_config_get_long(cfg, sec, key, 0, -1000, 1000, &l);
    (void)cs_config_get_count(cfg, sec, key, 0, &c);
    (void)cs_config_get_bool(cfg, sec, key, false, &b);
    for (i = 0; i < sizeof dflags / sizeof dflags[0]; i++)
        (void)cs_config_get_double(cfg, sec, key, 0, dflags[i], &d);
    if (cs_config_get_doubles(cfg, sec, key, ddef, 1, 0, &dl, &n) == CS_OK && n == 0)
        abort(); /* a present list has at least one item */
    free(dl);
    (void)cs_config_get_counts(cfg, sec, key, cdef, 1, &cl, &n);
    free(cl);
    if (cs_config_get_strs(cfg, sec, key, sdef, 1, &sl, &n) == CS_OK)
        for (i = 0; i < n; i++)
            if (sl[i][0] == '\0')
                abort(); /* empty items are rejected */
    free(sl);
    if (!cs_config_has_key(cfg, sec, key) || cs_config_require(cfg, sec, key) != CS_OK)
        abort();
    (void)cs_config_fail(cfg, sec, key, "checked %d", 1);
}

/* Overrides every key with its own value: nothing may change but the line (0). */
static void override_everything(cs_config *cfg)
{
    char arg[512];
    char value[256];
    size_t i;

    for (i = 0; i < cs_config_entry_count(cfg); i++) {
        const cs_config_entry *e = cs_config_entry_at(cfg, i);

        if (strlen(e->value) >= sizeof value)
            continue;
        snprintf(value, sizeof value, "%s", e->value);
        if ((size_t)snprintf(arg, sizeof arg, "%s%s%s=%s", e->section, e->section[0] ? "." : "",
                             e->key, value) >= sizeof arg)
            continue;
        if (strchr(e->key, '.') && !e->section[0])
            continue; /* "a.b=v" would mean section a, key b */
        if (cs_config_set_arg(cfg, arg) != CS_OK)
            continue; /* e.g. a key too long for SECTION.KEY */
        e = cs_config_entry_at(cfg, i);
        if (strcmp(e->value, value) != 0 || e->line != 0)
            abort();
    }
}

static void round_trip(const cs_config *a)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cs_config *b = NULL;
    size_t i;

    if (f == NULL)
        return;
    if (cs_config_write(a, f) != CS_OK) {
        fclose(f);
        free(text);
        return;
    }
    fclose(f);
    if (cs_config_read_mem(text, len, "written", &b) != CS_OK) {
        fprintf(stderr, "fuzz_config: cannot read back: %s\n", cs_errmsg());
        abort();
    }
    if (cs_config_entry_count(a) != cs_config_entry_count(b))
        mismatch("the count", 0);
    for (i = 0; i < cs_config_entry_count(a); i++) {
        const cs_config_entry *e = cs_config_entry_at(a, i);
        const char *v = cs_config_get_str(b, e->section, e->key, NULL);

        if (v == NULL || strcmp(v, e->value) != 0)
            mismatch("the value", i);
    }
    cs_config_free(b);
    free(text);
}

static void exercise(cs_config *cfg)
{
    size_t i;

    for (i = 0; i < cs_config_section_count(cfg); i++)
        (void)cs_config_section_at(cfg, i);
    for (i = 0; i < cs_config_entry_count(cfg); i++) {
        const cs_config_entry *e = cs_config_entry_at(cfg, i);

        get_everything(cfg, e->section, e->key);
    }
    if (cs_config_check_unused(cfg) != CS_OK)
        abort(); /* every key was read */
    round_trip(cfg);
    override_everything(cfg);
    round_trip(cfg);
    cs_config_mark_used(cfg, "", NULL);
    (void)cs_config_check_unused(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_config *cfg = NULL;
    char *text;

    if (cs_config_read_mem(data, size, "fuzz.ini", &cfg) == CS_OK) {
        exercise(cfg);
        cs_config_free(cfg);
    } else if (cfg != NULL) {
        abort(); /* *out is NULL on error */
    }
    text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (cs_config_read_string(text, "fuzz.ini", &cfg) == CS_OK) {
        exercise(cfg);
        cs_config_free(cfg);
    }
    free(text);
    return 0;
}
