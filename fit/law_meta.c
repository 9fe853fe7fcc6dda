/* fit/law_meta.c: a law's metadata for fitting — which parameters must be positive (fitted in
 * log space), their starting grids, and derived quantities (formulas over the parameters, such
 * as A = exp(a), with exact gradients for confidence intervals). The object itself is in
 * fit/law.c. Tested in tests/unit/test_law.c; syntax in docs/laws.md.
 */
#include "fit/law_internal.h"

#include "core/error.h"
#include "core/parse.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most points of one parameter's grid. */
#define GRID_MAX 1000

/* Separators of the words of a positive list or a grid spec. */
#define WORD_SEPS " \t\n,"

/* Copies the next word of *s into buf (n bytes) and advances *s. Returns its length, 0 at the
 * end, or SIZE_MAX when it does not fit (the word is skipped). */
static size_t next_word(const char **s, char *buf, size_t n)
{
    size_t len;

    *s += strspn(*s, WORD_SEPS);
    len = strcspn(*s, WORD_SEPS);
    if (len == 0)
        return 0;
    *s += len;
    if (len >= n)
        return SIZE_MAX;
    memcpy(buf, *s - len, len);
    buf[len] = '\0';
    return len;
}

/* Index of parameter `name`, or CS_EINPUT naming the parameters there are. */
static int find_param(const cs_law *law, const char *name, const char *what, size_t *j)
{
    char list[400];
    size_t used = 0;
    long idx = cs_law_param_index(law, name);

    if (idx >= 0) {
        *j = (size_t)idx;
        return CS_OK;
    }
    list[0] = '\0';
    for (size_t i = 0; i < law->params.n && used + CS_LAW_MAX_NAME + 8 < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 law->params.name[i]);
    return cs_fail(CS_EINPUT,
                   "law: %s names '%s', which is not a parameter of the law "
                   "(parameters: %s)",
                   what, name, list);
}

/* ---- positive parameters ----------------------------------------------------------------- */

int cs_law_set_positive(cs_law *law, const char *names)
{
    char word[CS_LAW_MAX_NAME + 2];
    const char *s = names;
    size_t len;
    size_t j = 0;
    int st;

    for (int apply = 0; apply < 2; apply++) { /* check every name before changing anything */
        s = names;
        while ((len = next_word(&s, word, sizeof word)) > 0) {
            if (len == SIZE_MAX)
                return cs_fail(CS_EINPUT, "law: positive list: a name is too long");
            st = find_param(law, word, "positive list", &j);
            if (st != CS_OK)
                return st;
            if (law->grid_n[j] > 0 && law->grid_lo[j] <= 0)
                return cs_fail(CS_EINPUT,
                               "law: parameter '%s' cannot be positive: its grid "
                               "starts at %g",
                               word, law->grid_lo[j]);
            if (apply)
                law->flags[j] |= CS_LAW_POSITIVE;
        }
    }
    return CS_OK;
}

unsigned cs_law_param_flags(const cs_law *law, size_t j)
{
    return j < law->params.n ? law->flags[j] : 0u;
}

/* ---- starting grids ---------------------------------------------------------------------- */

typedef struct grid_entry {
    size_t j;  /* parameter */
    double lo; /* first point */
    double hi; /* last point */
    long n;    /* points */
} grid_entry;

/* Reads "lo:hi:n" or "value" (the text after '='). */
static int parse_range(char *val, const char *word, grid_entry *e)
{
    char *c1 = strchr(val, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    int st;

    if (c1 == NULL) {
        e->n = 1;
        st = cs_parse_double(val, &e->lo, word);
        e->hi = e->lo;
        return st;
    }
    if (c2 == NULL || strchr(c2 + 1, ':') != NULL)
        return cs_fail(CS_EINPUT, "law: grid entry '%s': expected name=lo:hi:n or name=value",
                       word);
    *c1 = *c2 = '\0';
    st = cs_parse_double(val, &e->lo, word);
    if (st == CS_OK)
        st = cs_parse_double(c1 + 1, &e->hi, word);
    if (st == CS_OK)
        st = cs_parse_long(c2 + 1, &e->n, word);
    return st;
}

/* Parses and checks one entry "name=lo:hi:n" or "name=value". */
static int parse_grid_entry(const cs_law *law, const char *word, grid_entry *e)
{
    char buf[256];
    char *eq;
    int st;

    snprintf(buf, sizeof buf, "%s", word);
    eq = strchr(buf, '=');
    if (eq == NULL || eq == buf)
        return cs_fail(CS_EINPUT, "law: grid entry '%s': expected name=lo:hi:n or name=value",
                       word);
    *eq = '\0';
    st = find_param(law, buf, "grid", &e->j);
    if (st != CS_OK)
        return st;
    if (parse_range(eq + 1, word, e) != CS_OK)
        return cs_fail_prefix(CS_EINPUT, "law: grid");
    if (e->n < 1 || e->n > GRID_MAX)
        return cs_fail(CS_EINPUT, "law: grid entry '%s': the number of points must be 1..%d", word,
                       GRID_MAX);
    if (e->hi < e->lo || (e->n == 1 && e->hi != e->lo))
        return cs_fail(CS_EINPUT,
                       "law: grid entry '%s': needs lo <= hi (lo = hi for one "
                       "point)",
                       word);
    if ((law->flags[e->j] & CS_LAW_POSITIVE) && e->lo <= 0)
        return cs_fail(CS_EINPUT,
                       "law: grid entry '%s': parameter '%s' is positive, so the "
                       "grid must start above 0",
                       word, buf);
    return CS_OK;
}

int cs_law_set_grid(cs_law *law, const char *spec)
{
    char word[256];
    const char *s;
    size_t len;
    grid_entry e;
    int st;

    for (int apply = 0; apply < 2; apply++) { /* check every entry before changing anything */
        s = spec;
        while ((len = next_word(&s, word, sizeof word)) > 0) {
            if (len == SIZE_MAX)
                return cs_fail(CS_EINPUT, "law: grid: an entry is longer than %zu bytes",
                               sizeof word - 1);
            st = parse_grid_entry(law, word, &e);
            if (st != CS_OK)
                return st;
            if (apply) {
                law->grid_lo[e.j] = e.lo;
                law->grid_hi[e.j] = e.hi;
                law->grid_n[e.j] = (size_t)e.n;
            }
        }
    }
    return CS_OK;
}

void cs_law_param_grid(const cs_law *law, size_t j, double *lo, double *hi, size_t *n)
{
    if (law->grid_n[j] == 0) {
        *lo = *hi = (law->flags[j] & CS_LAW_POSITIVE) ? 1.0 : 0.0;
        *n = 1;
        return;
    }
    *lo = law->grid_lo[j];
    *hi = law->grid_hi[j];
    *n = law->grid_n[j];
}

size_t cs_law_grid_count(const cs_law *law)
{
    size_t total = 1;

    for (size_t j = 0; j < law->params.n; j++) {
        size_t n = law->grid_n[j] ? law->grid_n[j] : 1;

        if (total > SIZE_MAX / n)
            return SIZE_MAX;
        total *= n;
    }
    return total;
}

int cs_law_grid_point(const cs_law *law, size_t g, double *params)
{
    size_t count = cs_law_grid_count(law);

    if (g >= count)
        return cs_fail(CS_EINVAL, "law: grid point %zu out of range (the grid has %zu)", g, count);
    for (size_t j = law->params.n; j-- > 0;) {
        double lo;
        double hi;
        size_t n;
        size_t i;

        cs_law_param_grid(law, j, &lo, &hi, &n);
        i = g % n;
        g /= n;
        if (n == 1 || i == 0)
            params[j] = lo;
        else if (i == n - 1)
            params[j] = hi;
        else if (law->flags[j] & CS_LAW_POSITIVE)
            params[j] = lo * pow(hi / lo, (double)i / (double)(n - 1));
        else
            params[j] = lo + (hi - lo) * (double)i / (double)(n - 1);
    }
    return CS_OK;
}

/* ---- derived quantities ------------------------------------------------------------------ */

/* Checks the derived quantity's name against the law's names. */
static int check_derived_name(const cs_law *law, const char *name)
{
    if (name == NULL)
        return cs_fail(CS_EINPUT, "derived quantity: expected 'NAME = expression'");
    if (cs_law_param_index(law, name) >= 0)
        return cs_fail(CS_EINPUT, "derived quantity '%s': the law has a parameter of that name",
                       name);
    if (cs_law_names_find(&law->dnames, name, strlen(name)) >= 0)
        return cs_fail(CS_EINPUT, "derived quantity '%s' is defined twice", name);
    return CS_OK;
}

int cs_law_add_derived(cs_law *law, const char *text)
{
    cs_law_names novars = {0};
    cs_law_scope scope = {"derived quantity", NULL, 0, &novars, &law->params, true};
    cs_law_prog prog = {0};
    cs_law_prog *grown;
    char *name = NULL;
    int st = cs_law_compile(text, &scope, &prog, &name);

    if (st == CS_OK)
        st = check_derived_name(law, name);
    if (st != CS_OK)
        goto out_free;
    grown = realloc(law->derived, (law->dnames.n + 1) * sizeof *grown);
    if (grown == NULL) {
        st = cs_fail(CS_ENOMEM, "law: out of memory");
        goto out_free;
    }
    law->derived = grown;
    st = cs_law_names_add(&law->dnames, name, strlen(name));
    if (st != CS_OK)
        goto out_free;
    law->derived[law->dnames.n - 1] = prog;
    free(name);
    return CS_OK;

out_free:
    cs_law_prog_clear(&prog);
    cs_law_names_clear(&novars);
    free(name);
    return st;
}

size_t cs_law_nderived(const cs_law *law)
{
    return law->dnames.n;
}

const char *cs_law_derived_name(const cs_law *law, size_t k)
{
    return k < law->dnames.n ? law->dnames.name[k] : NULL;
}
