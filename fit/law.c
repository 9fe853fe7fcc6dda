/* fit/law.c: the cs_law object — construction from a formula or from the table of built-in
 * laws, accessors, and the metadata a fitter needs (positive parameters, starting grids,
 * derived quantities such as A = exp(a)). Parsing is in fit/law_parse.c, evaluation in
 * fit/law_eval.c. Tested in tests/unit/test_law.c; the laws are described in docs/laws.md.
 */
#include "fit/law_internal.h"

#include "core/error.h"
#include "core/parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The built-in laws. Every formula, grid and derived quantity is parsed by cs_law_builtin, and
 * tests/unit/test_law.c builds each one, so a typo here fails the tests. docs/laws.md explains
 * the choices (parametrisation of chinchilla, design of ndt). */
static const cs_law_info builtins[] = {
    {"chinchilla", "L = exp(e) + exp(a)/N^alpha + exp(b)/D^beta", "N D", "",
     "alpha=0:2:5 beta=0:2:5 e=-1:1:5 a=0:25:6 b=0:25:6", "E = exp(e); A = exp(a); B = exp(b)",
     "loss of N parameters trained on D tokens, E + A/N^alpha + B/D^beta, with Hoffmann et "
     "al.'s parametrisation E = exp(e), A = exp(a), B = exp(b) and their 4500-point grid",
     "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models (approach 3)"},
    {"kaplan", "L = ((Nc/N)^(alphaN/alphaD) + Dc/D)^alphaD", "N D", "Nc Dc alphaN alphaD",
     "Nc=1e10:1e16:4 Dc=1e10:1e16:4 alphaN=0.03:0.3:3 alphaD=0.03:0.3:3", "",
     "joint loss of N parameters and D tokens without an irreducible term",
     "Kaplan et al. 2020, Scaling Laws for Neural Language Models (eq. 1.5)"},
    {"power", "L = a*x^b", "x", "a", "a=1e-4:1e4:5 b=-1:1:5", "",
     "one power law in one variable x, bound to a data column by the caller (e.g. N* = a*C^b)",
     "generic"},
    {"power+const", "L = c + a*x^b", "x", "a", "c=0:3:4 a=1e-2:1e4:4 b=-1:-0.1:4", "",
     "a power law in one variable x plus a constant (irreducible loss)", "generic"},
    {"xiong-context", "L = (alpha/T)^beta + gamma", "T", "alpha beta",
     "alpha=1:1e4:5 beta=0.1:1:3 gamma=0:4:5", "",
     "loss as a function of the context length T for one model",
     "Xiong et al. 2023, Effective Long-Context Scaling of Foundation Models (Llama 2 Long)"},
    {"tao-vocab", "L = -E + A1/Nnv^alpha1 + A2/Nv^alpha2 + B/D^beta", "Nnv Nv D",
     "E A1 A2 B alpha1 alpha2 beta",
     "E=1:8:3 A1=1:1e3:3 A2=1:1e3:3 B=1:1e3:3 alpha1=0.1:0.7:3 alpha2=0.1:0.7:3 beta=0.1:0.7:3", "",
     "unigram-normalised loss of Nnv non-vocabulary parameters, Nv = V*d vocabulary parameters "
     "and D tokens",
     "Tao et al. 2024, Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"},
    {"ndt", "L = exp(e) + exp(a)/N^alpha + exp(b)/D^beta + exp(g)/T^gamma", "N D T", "",
     "alpha=0:2:3 beta=0:2:3 e=-1:1:3 a=0:20:3 b=0:20:3 g=-2:4:3 gamma=0:1:3",
     "E = exp(e); A = exp(a); B = exp(b); G = exp(g)",
     "joint law in N, D and training context T: chinchilla whose irreducible loss falls with "
     "context, E + G/T^gamma; the compute-optimal T grows with budget (docs/laws.md)",
     "this project (docs/laws.md)"},
    {"data-constrained",
     "L = exp(e) + exp(a)/(min(N, min(D, U)/20)*(1 + rn*(1 - exp((1 - N/min(N, min(D, U)/20))/rn)))"
     ")^alpha + exp(b)/(min(D, U)*(1 + rd*(1 - exp((1 - D/min(D, U))/rd))))^beta",
     "N D U", "rn rd", "e=-1:1:3 a=0:20:3 rn=1:100:3 alpha=0:1:3 b=0:20:3 rd=1:100:3 beta=0:1:3",
     "E = exp(e); A = exp(a); B = exp(b)",
     "chinchilla in effective parameters N' and tokens D' when U unique tokens are repeated "
     "(D > U): repeated tokens and excess parameters decay in value with constants rd, rn",
     "Muennighoff et al. 2023, Scaling Data-Constrained Language Models (eq. 5-7)"},
    {"gadre-overtrain", "L = exp(e) + exp(a)*M^eta/C^eta + exp(b)/(M^eta*C^eta)", "C M", "eta",
     "e=-1:1:3 a=0:20:5 eta=0.02:0.5:4 b=0:20:5", "E = exp(e); A = exp(a); B = exp(b)",
     "loss of compute C = 6ND at M = D/N tokens per parameter (over-training), "
     "E + (A M^eta + B M^-eta) C^-eta",
     "Gadre et al. 2024, Language models scale reliably with over-training and on downstream "
     "tasks (eq. 4)"},
};

/* ---- names ------------------------------------------------------------------------------- */

int cs_law_names_add(cs_law_names *t, const char *name, size_t len)
{
    char *copy;

    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        char **v = realloc(t->name, cap * sizeof *v);

        if (v == NULL)
            return cs_fail(CS_ENOMEM, "law: out of memory");
        t->name = v;
        t->cap = cap;
    }
    copy = malloc(len + 1);
    if (copy == NULL)
        return cs_fail(CS_ENOMEM, "law: out of memory");
    memcpy(copy, name, len);
    copy[len] = '\0';
    t->name[t->n++] = copy;
    return CS_OK;
}

long cs_law_names_find(const cs_law_names *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->name[i]) == len && memcmp(t->name[i], name, len) == 0)
            return (long)i;
    return -1;
}

void cs_law_names_clear(cs_law_names *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->name[i]);
    free(t->name);
    memset(t, 0, sizeof *t);
}

/* Copies the next word of *s (delimited by any byte of seps) into buf (n bytes) and advances
 * *s. Returns its length, 0 at the end, or SIZE_MAX when it does not fit. */
static size_t next_word(const char **s, const char *seps, char *buf, size_t n)
{
    size_t len;

    *s += strspn(*s, seps);
    len = strcspn(*s, seps);
    if (len == 0)
        return 0;
    if (len >= n) {
        *s += len;
        return SIZE_MAX;
    }
    memcpy(buf, *s, len);
    buf[len] = '\0';
    *s += len;
    return len;
}

/* Appends "a, b, c" (the names of t) to buf, cut with "..." when long. */
static const char *list_names(const cs_law_names *t, char *buf, size_t n)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < t->n && used + 8 < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", t->name[i]);

        used += w > 0 ? (size_t)w : 0;
    }
    if (used >= n - 1)
        memcpy(buf + n - 4, "...", 4);
    return buf;
}

/* ---- construction ------------------------------------------------------------------------ */

void cs_law_free(cs_law *law)
{
    if (law == NULL)
        return;
    for (size_t k = 0; k < law->dnames.n; k++)
        cs_law_prog_clear(&law->derived[k]);
    free(law->derived);
    cs_law_names_clear(&law->dnames);
    cs_law_prog_clear(&law->prog);
    cs_law_names_clear(&law->vars);
    cs_law_names_clear(&law->params);
    free(law->flags);
    free(law->grid_lo);
    free(law->grid_hi);
    free(law->grid_n);
    free(law->target);
    free(law->text);
    free(law);
}

/* Checks the compiled law: a target, at least one parameter; allocates the metadata. */
static int finish_parse(cs_law *law)
{
    char buf[256];
    size_t np = law->params.n;

    if (law->target == NULL) {
        /* "expr" alone predicts L; unlike after "L =", the name L may then appear in expr, so
         * that expressions over data columns (fit/dataset.c's --derive) can use a column L */
        law->target = malloc(2);
        if (law->target == NULL)
            return cs_fail(CS_ENOMEM, "law: out of memory");
        memcpy(law->target, "L", 2);
    }
    if (np == 0)
        return cs_fail(CS_EINPUT,
                       "law: the formula has no parameters to fit (its names are "
                       "all data columns: %s)",
                       list_names(&law->vars, buf, sizeof buf));
    law->flags = calloc(np, sizeof *law->flags);
    law->grid_lo = calloc(np, sizeof *law->grid_lo);
    law->grid_hi = calloc(np, sizeof *law->grid_hi);
    law->grid_n = calloc(np, sizeof *law->grid_n);
    if (!law->flags || !law->grid_lo || !law->grid_hi || !law->grid_n)
        return cs_fail(CS_ENOMEM, "law: out of memory");
    return CS_OK;
}

cs_law *cs_law_parse(const char *text, const char *const *vars, size_t nvars)
{
    cs_law *law;
    cs_law_scope scope;
    size_t len;

    if (text == NULL || (vars == NULL && nvars > 0)) {
        cs_fail(CS_EINVAL, "law: NULL formula or variable list");
        return NULL;
    }
    for (size_t i = 0; i < nvars; i++) {
        if (vars[i] == NULL) {
            cs_fail(CS_EINVAL, "law: variable %zu is NULL", i);
            return NULL;
        }
    }
    law = calloc(1, sizeof *law);
    len = strlen(text);
    if (law == NULL || (law->text = malloc(len + 1)) == NULL) {
        cs_fail(CS_ENOMEM, "law: out of memory");
        goto out_free_law;
    }
    memcpy(law->text, text, len + 1);
    scope = (cs_law_scope){"law", vars, nvars, &law->vars, &law->params, false};
    if (cs_law_compile(text, &scope, &law->prog, &law->target) != CS_OK)
        goto out_free_law;
    if (finish_parse(law) != CS_OK)
        goto out_free_law;
    return law;

out_free_law:
    cs_law_free(law);
    return NULL;
}

/* Builds the built-in law from its table entry. */
static int builtin_make(const cs_law_info *info, cs_law **out)
{
    char words[8][CS_LAW_MAX_NAME + 1];
    const char *vars[8];
    const char *s = info->vars;
    size_t n = 0;
    int st;

    while (n < 8 && next_word(&s, " ", words[n], sizeof words[n]) > 0) {
        vars[n] = words[n];
        n++;
    }
    *out = cs_law_parse(info->formula, vars, n);
    if (*out == NULL)
        return CS_EINPUT;
    if (cs_law_nvars(*out) != n)
        return cs_fail(CS_EINVAL, "law: a variable of \"%s\" does not appear in %s", info->vars,
                       info->formula);
    (*out)->info = info;
    st = cs_law_set_positive(*out, info->positive);
    if (st == CS_OK)
        st = cs_law_set_grid(*out, info->grid);
    s = info->derived;
    while (st == CS_OK && *s != '\0') {
        char one[256];

        if (next_word(&s, ";", one, sizeof one) > 0)
            st = cs_law_add_derived(*out, one);
    }
    return st;
}

cs_law *cs_law_builtin(const char *name)
{
    size_t n = sizeof builtins / sizeof builtins[0];
    char known[256];
    size_t used = 0;
    cs_law *law = NULL;

    for (size_t i = 0; name != NULL && i < n; i++) {
        if (strcmp(builtins[i].name, name) != 0)
            continue;
        if (builtin_make(&builtins[i], &law) != CS_OK) {
            cs_fail_prefix(CS_EINVAL, "built-in law %s", name);
            cs_law_free(law);
            return NULL;
        }
        return law;
    }
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 builtins[i].name);
    cs_fail(CS_EINPUT, "law: no built-in law called '%s' (built-in laws: %s)",
            name ? name : "(null)", known);
    return NULL;
}

const cs_law_info *cs_law_builtin_list(size_t *n)
{
    *n = sizeof builtins / sizeof builtins[0];
    return builtins;
}

/* ---- accessors --------------------------------------------------------------------------- */

const char *cs_law_target(const cs_law *law)
{
    return law->target;
}

const char *cs_law_formula(const cs_law *law)
{
    return law->text;
}

const cs_law_info *cs_law_builtin_info(const cs_law *law)
{
    return law->info;
}

size_t cs_law_nparams(const cs_law *law)
{
    return law->params.n;
}

size_t cs_law_nvars(const cs_law *law)
{
    return law->vars.n;
}

const char *cs_law_param_name(const cs_law *law, size_t j)
{
    return j < law->params.n ? law->params.name[j] : NULL;
}

const char *cs_law_var_name(const cs_law *law, size_t j)
{
    return j < law->vars.n ? law->vars.name[j] : NULL;
}

long cs_law_param_index(const cs_law *law, const char *name)
{
    return cs_law_names_find(&law->params, name, strlen(name));
}

long cs_law_var_index(const cs_law *law, const char *name)
{
    return cs_law_names_find(&law->vars, name, strlen(name));
}

size_t cs_law_nterms(const cs_law *law)
{
    return law->prog.nterms;
}

int cs_law_check_vars(const cs_law *law, const char *const *have, size_t nhave)
{
    char missing[512];
    char cols[512];
    size_t nm = 0;
    size_t used = 0;

    missing[0] = '\0';
    for (size_t j = 0; j < law->vars.n; j++) {
        bool found = false;

        for (size_t i = 0; i < nhave && !found; i++)
            found = have[i] != NULL && strcmp(have[i], law->vars.name[j]) == 0;
        if (!found && used + CS_LAW_MAX_NAME + 8 < sizeof missing) {
            used += (size_t)snprintf(missing + used, sizeof missing - used, "%s'%s'",
                                     nm ? ", " : "", law->vars.name[j]);
            nm++;
        }
    }
    if (nm == 0)
        return CS_OK;
    used = 0;
    cols[0] = '\0';
    for (size_t i = 0; i < nhave && used + 8 < sizeof cols; i++) {
        int w = snprintf(cols + used, sizeof cols - used, "%s%s", i ? ", " : "",
                         have[i] ? have[i] : "?");

        used += w > 0 ? (size_t)w : 0;
    }
    return cs_fail(CS_EINPUT, "law %s needs the variable%s %s, which the data lacks (columns: %s)",
                   law->info ? law->info->name : law->target, nm > 1 ? "s" : "", missing,
                   nhave ? cols : "none");
}
