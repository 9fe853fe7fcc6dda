/* tests/unit/test_law.c: the law formula language (fit/law.h): parsing, precedence, evaluation
 * against hand values, syntax errors with their line:column, run-time errors, the built-in
 * laws, metadata, additive terms, the batched evaluators, and exact gradients against central
 * finite differences for every built-in law and for random expressions. Run by `make test`.
 */
#include "tests/testutil.h"

#include "fit/law.h"

#include <math.h>

static const char *const XYZ[] = {"x", "y", "z"};

/* Values used by eval_named: variables x, y, z and parameters a, b, c. */
static double named_value(const char *name)
{
    static const struct {
        const char *name;
        double v;
    } tab[] = {{"x", 2.0}, {"y", 3.0}, {"z", 0.5}, {"a", 1.0}, {"b", -0.25}, {"c", 4.0}};

    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(tab[i].name, name) == 0)
            return tab[i].v;
    fail_msg("no test value for '%s'", name);
    return 0.0;
}

/* Parses text over x, y, z and evaluates it with the values of named_value. */
static double eval_named(const char *text)
{
    double p[8];
    double v[3];
    double out = NAN;
    cs_law *law = cs_law_parse(text, XYZ, 3);

    if (law == NULL)
        fail_msg("\"%s\" did not parse: %s", text, cs_errmsg());
    assert_true(cs_law_nparams(law) <= 8);
    for (size_t j = 0; j < cs_law_nparams(law); j++)
        p[j] = named_value(cs_law_param_name(law, j));
    for (size_t j = 0; j < cs_law_nvars(law); j++)
        v[j] = named_value(cs_law_var_name(law, j));
    if (cs_law_eval(law, p, v, &out) != CS_OK)
        fail_msg("\"%s\" did not evaluate: %s", text, cs_errmsg());
    cs_law_free(law);
    return out;
}

static void test_eval_values(void **state)
{
    static const struct {
        const char *text;
        double want;
    } cases[] = {
        {"a*2^3^2", 512.0}, /* ^ is right-associative */
        {"-x^2 + a", -3.0}, /* -x^2 = -(x^2) */
        {"(-x)^2*a", 4.0},
        {"a - -x", 3.0},
        {"x - y - a", -2.0}, /* - is left-associative */
        {"x / y / c", 2.0 / 3.0 / 4.0},
        {"a*2**3", 8.0},
        {"x**y**a", 8.0},
        {"exp(log(c))", 4.0},
        {"min(x, y, b)", -0.25},
        {"max(x, y, c, a)", 4.0},
        {"a*1e-3", 1e-3},
        {"a*.5e1", 5.0},
        {"a*5.", 5.0},
        {"c^-0.5", 0.5},
        {"2^-x*a", 0.25},
        {"x\xc3\x97y\xc3\xb7"
         "c \xe2\x88\x92 a",
         0.5}, /* x×y÷c − a */
        {"L = a + x # a comment\n * y", 7.0},
        {"a*(x + y) * z", 2.5},
        {"-a^2", -1.0},
        {"b*x^2", -1.0},
        {"b^2", 0.0625},
        {"b^3", -0.015625},
        {"b^y", -0.015625},
        {"+a + +x", 3.0},
        {"a*-2^2", -4.0},
        {"a*(2 + 3*4)", 14.0},
        {"z^c + a", 1.0625},
        {"max(b, -x) * min(c, 10)", -1.0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = eval_named(cases[i].text);

        if (fabs(got - cases[i].want) > 1e-12 * fmax(1.0, fabs(cases[i].want)))
            fail_msg("\"%s\" = %.17g, want %.17g", cases[i].text, got, cases[i].want);
    }
    assert_true(fabs(eval_named("log(x*y) - log(x) - log(y) + a") - 1.0) < 1e-14);
}

static void test_precedence(void **state)
{
    static const char *const same[][2] = {
        {"-x^2*a", "-(x^2)*a"},   {"x^y^z*a", "x^(y^z)*a"}, {"x*y^2*a", "x*(y^2)*a"},
        {"x/y*c", "(x/y)*c"},     {"a+x*y", "a+(x*y)"},     {"-x*c", "(-x)*c"},
        {"c^-x^2", "c^(-(x^2))"}, {"x-y+c", "(x-y)+c"},     {"c**-1", "1/c"},
        {"-c^z", "-(c^z)"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        double u = eval_named(same[i][0]);
        double v = eval_named(same[i][1]);

        if (fabs(u - v) > 1e-12 * fmax(1.0, fabs(v)))
            fail_msg("\"%s\" = %.17g but \"%s\" = %.17g", same[i][0], u, same[i][1], v);
    }
}

static void test_names_and_target(void **state)
{
    static const char *const vars[] = {"N", "D", "T", "loss"};
    cs_law *law = cs_law_parse("loss = E + A/N^alpha + B/D^beta", vars, 4);

    (void)state;
    assert_non_null(law);
    assert_string_equal(cs_law_target(law), "loss");
    assert_int_equal(cs_law_nparams(law), 5);
    assert_string_equal(cs_law_param_name(law, 0), "E");
    assert_string_equal(cs_law_param_name(law, 1), "A");
    assert_string_equal(cs_law_param_name(law, 2), "alpha");
    assert_string_equal(cs_law_param_name(law, 4), "beta");
    assert_null(cs_law_param_name(law, 5));
    assert_int_equal(cs_law_nvars(law), 2);
    assert_string_equal(cs_law_var_name(law, 0), "N");
    assert_string_equal(cs_law_var_name(law, 1), "D");
    assert_int_equal(cs_law_param_index(law, "B"), 3);
    assert_int_equal(cs_law_param_index(law, "N"), -1);
    assert_int_equal(cs_law_var_index(law, "D"), 1);
    assert_int_equal(cs_law_var_index(law, "T"), -1);
    assert_int_equal(cs_law_nterms(law), 3);
    assert_null(cs_law_builtin_info(law));
    assert_string_equal(cs_law_formula(law), "loss = E + A/N^alpha + B/D^beta");
    cs_law_free(law);

    law = cs_law_parse("E + A/N", vars, 4); /* no '=': the target is L */
    assert_non_null(law);
    assert_string_equal(cs_law_target(law), "L");
    cs_law_free(law);

    law = cs_law_parse("L*N + a", vars, 4); /* without '=', L may be a name on the right */
    assert_non_null(law);
    assert_string_equal(cs_law_target(law), "L");
    assert_string_equal(cs_law_param_name(law, 0), "L");
    cs_law_free(law);
    assert_null(cs_law_parse("loss = N*D", vars, 4)); /* zero parameters */
    tu_assert_errmsg_has("no parameters");
    assert_null(cs_law_parse(NULL, vars, 4));
    cs_law_free(NULL);
}

/* ---- syntax errors ------------------------------------------------------------------------ */

static void expect_syntax(const char *text, const char *where, const char *what)
{
    static const char *const vars[] = {"N", "D", "T"};
    cs_law *law = cs_law_parse(text, vars, 3);
    char head[64];

    if (law != NULL)
        fail_msg("\"%s\" parsed but should not", text);
    snprintf(head, sizeof head, "law: %s: ", where);
    if (strncmp(cs_errmsg(), head, strlen(head)) != 0)
        fail_msg("\"%s\": message \"%s\" does not start with \"%s\"", text, cs_errmsg(), head);
    tu_assert_errmsg_has(what);
}

static void test_syntax_errors(void **state)
{
    char deep[600];
    char *longf;
    size_t n = 0;

    (void)state;
    expect_syntax("L = E + A/(N^alpha", "1:19", "expected ')' to close '(' at column 11");
    expect_syntax("L = E +", "1:8", "expected a number, a name or '(', found the end");
    expect_syntax("L = 2 * * N", "1:9", "found '*'");
    expect_syntax("L = foo(N)", "1:5", "unknown function 'foo'");
    expect_syntax("L = exp(N, D)", "1:10", "'exp' takes one argument");
    expect_syntax("L = min(N)", "1:5", "'min' takes two or more arguments");
    expect_syntax("L = a b", "1:7", "expected an operator before name 'b'");
    expect_syntax("L = a 2", "1:7", "write '*' to multiply");
    expect_syntax("L = a + )", "1:9", "found ')'");
    expect_syntax("L = (a + b))", "1:12", "unmatched ')'");
    expect_syntax("L = a $ b", "1:7", "unexpected character '$'");
    expect_syntax("L = 1e + a", "1:5", "malformed number '1e'");
    expect_syntax("L = a = b", "1:7", "unexpected '='");
    expect_syntax("L = a + (= b)", "1:10", "unexpected '='");
    expect_syntax("", "1:1", "empty formula");
    expect_syntax("   # only a comment\n", "1:1", "empty formula");
    expect_syntax("L =", "1:4", "expected an expression after '='");
    expect_syntax("L = exp + a", "1:5", "'exp' is a function");
    expect_syntax("L = a +\n  b +\n  (c", "3:5", "to close '(' at column 3");
    expect_syntax("L = a + (b\n + c", "2:5", "to close '(' at line 1 column 9");
    expect_syntax("L = N(a + 1)", "1:5", "'N' is not a function");
    expect_syntax("L = 1e999 * a", "1:5", "out of range");
    expect_syntax("L = a + L", "1:9", "predicted quantity");
    expect_syntax("L = a + 1/0", "1:10", "division by zero");
    expect_syntax("L = a + log(0 - 1)", "1:9", "log of -1");
    expect_syntax("L = a * (-8)^(1/3)", "1:13", "non-integer power");
    expect_syntax("L = a \xc3\x97 b c", "1:11", "before name 'c'"); /* columns count characters */
    expect_syntax("exp = a", "1:1", "cannot name the predicted quantity");
    expect_syntax("L = max(a, b", "1:13", "to close 'max(' at column 8");
    expect_syntax("L = a\x01", "1:6", "unexpected byte 0x01");

    /* nesting and length limits */
    for (n = 0; n < 300; n++)
        deep[n] = '(';
    memcpy(deep + n, "a", 2);
    expect_syntax(deep, "1:129", "nested too deeply");
    longf = malloc(4 * 2000 + 8);
    assert_non_null(longf);
    n = 0;
    for (size_t i = 0; i < 2000; i++) {
        memcpy(longf + n, "a + ", 4);
        n += 4;
    }
    memcpy(longf + n, "a", 2);
    expect_syntax(longf, "1:2047", "formula too long: more than 1024 operations");
    free(longf);
    memset(deep, 'x', 100);
    deep[100] = '\0';
    expect_syntax(deep, "1:1", "longer than 64 characters");
}

static void test_error_caret(void **state)
{
    static const char *const vars[] = {"N"};

    (void)state;
    assert_null(cs_law_parse("L = E + A/(N^alpha", vars, 1));
    assert_string_equal(cs_errmsg(),
                        "law: 1:19: expected ')' to close '(' at column 11, found the end of the "
                        "formula\n"
                        "    L = E + A/(N^alpha\n"
                        "                      ^");
    assert_null(cs_law_parse("L = a +\n\tfoo(N)", vars, 1));
    assert_string_equal(cs_errmsg(), "law: 2:2: unknown function 'foo' (functions: exp, log, "
                                     "min, max)\n"
                                     "    \tfoo(N)\n"
                                     "    \t^");
}

static void test_long_line_caret(void **state)
{
    char text[400];
    const char *msg;
    const char *l2;
    const char *l3;

    (void)state;
    memcpy(text, "L = a", 5);
    for (size_t i = 5; i < 300; i += 4)
        memcpy(text + i, " + a", 4);
    memcpy(text + 297, " $", 3);
    assert_null(cs_law_parse(text, NULL, 0));
    msg = cs_errmsg();
    assert_true(strstr(msg, "law: 1:299: unexpected character '$'") == msg);
    l2 = strchr(msg, '\n');
    assert_non_null(l2);
    l3 = strchr(l2 + 1, '\n');
    assert_non_null(l3);
    assert_true(l3 - l2 < 120); /* the echoed line is cut to a window */
    /* the caret sits under the '$' */
    assert_int_equal(strchr(l3 + 1, '^') - (l3 + 1), strchr(l2 + 1, '$') - (l2 + 1));
}

/* ---- run-time errors ---------------------------------------------------------------------- */

static int eval1(const char *text, double a, double x, double *grad)
{
    static const char *const vars[] = {"x"};
    cs_law *law = cs_law_parse(text, vars, 1);
    double v;
    int st;

    assert_non_null(law);
    assert_int_equal(cs_law_nparams(law), 1);
    st = grad ? cs_law_eval_grad(law, &a, &x, &v, grad) : cs_law_eval(law, &a, &x, &v);
    cs_law_free(law);
    return st;
}

static void test_runtime_errors(void **state)
{
    double g[1];

    (void)state;
    assert_int_equal(eval1("L = a*exp(x)", 1.0, 1000.0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("overflow in exp(1000) (in exp at 1:7)");
    assert_int_equal(eval1("L = a/x", 1.0, 0.0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("division by zero");
    tu_assert_errmsg_has("at 1:6");
    assert_int_equal(eval1("L = log(x)*a", 1.0, -1.0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("log of -1");
    assert_int_equal(eval1("L = x^a", 0.5, -2.0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("negative number to a non-integer power");
    assert_int_equal(eval1("L = x^a", -1.0, 0.0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("zero to a negative power");
    assert_int_equal(eval1("L = a*x*x*x", 1e200, 1e50, NULL), CS_EINPUT);
    tu_assert_errmsg_has("overflow in");
    assert_int_equal(eval1("L = a*x", NAN, 1.0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("parameter 'a' is not finite");
    assert_int_equal(eval1("L = a*x", 1.0, INFINITY, NULL), CS_EINPUT);
    tu_assert_errmsg_has("variable 'x' is not finite");
    /* finite value, infinite derivative: d(a^0.5)/da at a = 0 */
    assert_int_equal(eval1("L = a^0.5 + x", 0.0, 1.0, NULL), CS_OK);
    assert_int_equal(eval1("L = a^0.5 + x", 0.0, 1.0, g), CS_EINPUT);
    tu_assert_errmsg_has("the derivative of '^' at 1:6 is not finite");
    /* 0^alpha: value 0 and a finite derivative in alpha (the limit) */
    assert_int_equal(eval1("L = x^a", 0.5, 0.0, g), CS_OK);
    assert_true(g[0] == 0.0);
}

/* ---- built-in laws ------------------------------------------------------------------------ */

/* A realistic value of every variable a built-in law uses. */
static double var_value(const char *name)
{
    if (strcmp(name, "N") == 0)
        return 3e8;
    if (strcmp(name, "D") == 0)
        return 6e9;
    if (strcmp(name, "T") == 0)
        return 2048;
    if (strcmp(name, "x") == 0)
        return 1e3;
    if (strcmp(name, "Nnv") == 0)
        return 2e8;
    if (strcmp(name, "Nv") == 0)
        return 3e7;
    if (strcmp(name, "U") == 0 || strcmp(name, "C") == 0 || strcmp(name, "M") == 0)
        return strcmp(name, "U") == 0 ? 2e9 : strcmp(name, "C") == 0 ? 1e20 : 20;
    fail_msg("no test value for variable '%s'", name);
    return 0.0;
}

static void test_builtins_build(void **state)
{
    size_t n = 0;
    const cs_law_info *tab = cs_law_builtin_list(&n);

    (void)state;
    assert_true(n >= 7);
    for (size_t i = 0; i < n; i++) {
        cs_law *law = cs_law_builtin(tab[i].name);
        double p[16];
        double x[4];
        double v;

        if (law == NULL)
            fail_msg("built-in %s: %s", tab[i].name, cs_errmsg());
        assert_ptr_equal(cs_law_builtin_info(law), &tab[i]);
        assert_string_equal(cs_law_target(law), "L");
        assert_true(cs_law_nparams(law) <= 16 && cs_law_nvars(law) <= 4);
        for (size_t j = 0; j < cs_law_nparams(law); j++) {
            double lo;
            double hi;
            size_t gn;

            cs_law_param_grid(law, j, &lo, &hi, &gn);
            if (gn < 2)
                fail_msg("%s: parameter %s has no grid", tab[i].name, cs_law_param_name(law, j));
        }
        for (size_t j = 0; j < cs_law_nvars(law); j++)
            x[j] = var_value(cs_law_var_name(law, j));
        for (size_t g = 0; g < cs_law_grid_count(law); g += 97) {
            assert_int_equal(cs_law_grid_point(law, g, p), CS_OK);
            if (cs_law_eval(law, p, x, &v) != CS_OK)
                fail_msg("%s at grid point %zu: %s", tab[i].name, g, cs_errmsg());
        }
        cs_law_free(law);
    }
    assert_null(cs_law_builtin("hoffmann"));
    tu_assert_errmsg_has("no built-in law called 'hoffmann' (built-in laws: chinchilla, kaplan");
}

static void test_chinchilla(void **state)
{
    cs_law *law = cs_law_builtin("chinchilla");
    static const char *const have[] = {"N", "T", "loss"};
    static const char *const have2[] = {"loss", "D", "N"};
    double p[5];
    double x[2] = {1e9, 2e10};
    double v;
    double want;
    double lo;
    double hi;
    size_t n;

    (void)state;
    assert_non_null(law);
    /* Hoffmann et al.'s grid: alpha, beta in {0, .5, ..., 2}, e in {-1, ..., 1}, a, b in
     * {0, 5, ..., 25}: 4500 starts */
    assert_int_equal(cs_law_grid_count(law), 4500);
    assert_int_equal(cs_law_param_index(law, "a"), 1);
    cs_law_param_grid(law, 1, &lo, &hi, &n);
    assert_true(lo == 0 && hi == 25 && n == 6);
    assert_int_equal(cs_law_grid_point(law, 4499, p), CS_OK);
    assert_true(p[0] == 1 && p[1] == 25 && p[2] == 2 && p[3] == 25 && p[4] == 2);
    assert_int_equal(cs_law_grid_point(law, 1, p), CS_OK); /* last parameter varies fastest */
    assert_true(p[0] == -1 && p[4] == 0.5);
    assert_int_equal(cs_law_grid_point(law, 4500, p), CS_EINVAL);
    /* Hoffmann et al.'s fitted values: E = 1.69, A = 406.4, B = 410.7, 0.34, 0.28 */
    p[0] = log(1.69);
    p[1] = log(406.4);
    p[2] = 0.34;
    p[3] = log(410.7);
    p[4] = 0.28;
    want = 1.69 + 406.4 / pow(1e9, 0.34) + 410.7 / pow(2e10, 0.28);
    assert_int_equal(cs_law_eval(law, p, x, &v), CS_OK);
    assert_true(fabs(v - want) < 1e-12 * want);
    /* derived quantities */
    assert_int_equal(cs_law_nderived(law), 3);
    assert_string_equal(cs_law_derived_name(law, 1), "A");
    assert_int_equal(cs_law_eval_derived(law, 1, p, &v, NULL), CS_OK);
    assert_true(fabs(v - 406.4) < 1e-10);
    assert_int_equal(cs_law_eval_derived(law, 7, p, &v, NULL), CS_EINVAL);
    /* variables */
    assert_int_equal(cs_law_check_vars(law, have, 3), CS_EINPUT);
    tu_assert_errmsg_has("law chinchilla needs the variable 'D', which the data lacks (columns: "
                         "N, T, loss)");
    assert_int_equal(cs_law_check_vars(law, have2, 3), CS_OK);
    assert_int_equal(cs_law_check_vars(law, NULL, 0), CS_EINPUT);
    tu_assert_errmsg_has("variables 'N', 'D'");
    cs_law_free(law);
}

/* ---- metadata ----------------------------------------------------------------------------- */

static void test_metadata(void **state)
{
    static const char *const vars[] = {"N"};
    cs_law *law = cs_law_parse("L = c + A/N^alpha", vars, 1);
    double p[3];
    double g[3];
    double v;
    double lo;
    double hi;
    size_t n;

    (void)state;
    assert_non_null(law);
    assert_int_equal(cs_law_grid_count(law), 1);
    cs_law_param_grid(law, 1, &lo, &hi, &n);
    assert_true(lo == 0 && hi == 0 && n == 1);
    assert_int_equal(cs_law_set_positive(law, "A, alpha"), CS_OK);
    assert_int_equal(cs_law_param_flags(law, 1), CS_LAW_POSITIVE);
    assert_int_equal(cs_law_param_flags(law, 0), 0);
    cs_law_param_grid(law, 1, &lo, &hi, &n);
    assert_true(lo == 1 && n == 1);
    assert_int_equal(cs_law_set_positive(law, "A beta"), CS_EINPUT);
    tu_assert_errmsg_has("positive list names 'beta', which is not a parameter of the law "
                         "(parameters: c, A, alpha)");
    assert_int_equal(cs_law_set_grid(law, "c=0:1:3 A=1:100:3 alpha=0.5"), CS_OK);
    assert_int_equal(cs_law_grid_count(law), 9);
    assert_int_equal(cs_law_grid_point(law, 4, p), CS_OK);
    assert_true(p[0] == 0.5 && fabs(p[1] - 10.0) < 1e-12 && p[2] == 0.5); /* geometric A */
    /* a bad entry changes nothing */
    assert_int_equal(cs_law_set_grid(law, "c=5 A=0:1:3"), CS_EINPUT);
    tu_assert_errmsg_has("grid must start above 0");
    assert_int_equal(cs_law_grid_count(law), 9);
    assert_int_equal(cs_law_set_grid(law, "gamma=0:1:3"), CS_EINPUT);
    tu_assert_errmsg_has("grid names 'gamma'");
    assert_int_equal(cs_law_set_grid(law, "c=0:1"), CS_EINPUT);
    assert_int_equal(cs_law_set_grid(law, "c=0:x:3"), CS_EINPUT);
    assert_int_equal(cs_law_set_grid(law, "c=1:0:3"), CS_EINPUT);
    assert_int_equal(cs_law_set_grid(law, "c=0:1:0"), CS_EINPUT);
    assert_int_equal(cs_law_set_grid(law, "c=0:1:1"), CS_EINPUT);
    assert_int_equal(cs_law_set_grid(law, "=1"), CS_EINPUT);
    assert_int_equal(cs_law_set_grid(law, "c=-1:1:2"), CS_OK);
    assert_int_equal(cs_law_set_positive(law, "c"), CS_EINPUT); /* its grid reaches -1 */
    tu_assert_errmsg_has("cannot be positive");
    /* derived quantities: exact value and gradient */
    assert_int_equal(cs_law_add_derived(law, "k = A^(1/alpha) * exp(c)"), CS_OK);
    p[0] = 0.3;
    p[1] = 7.0;
    p[2] = 0.5;
    assert_int_equal(cs_law_eval_derived(law, 0, p, &v, g), CS_OK);
    assert_true(fabs(v - 49.0 * exp(0.3)) < 1e-12 * v);
    assert_true(fabs(g[0] - v) < 1e-12 * v);
    assert_true(fabs(g[1] - 2.0 * 7.0 * exp(0.3)) < 1e-12 * v);
    assert_true(fabs(g[2] - v * log(7.0) * -4.0) < 1e-12 * fabs(g[2]));
    assert_int_equal(cs_law_add_derived(law, "k2 = N * A"), CS_EINPUT);
    tu_assert_errmsg_has("'N' is not a parameter of the law");
    assert_int_equal(cs_law_add_derived(law, "exp(A)"), CS_EINPUT);
    tu_assert_errmsg_has("expected 'NAME = expression'");
    assert_int_equal(cs_law_add_derived(law, "A = exp(c)"), CS_EINPUT);
    assert_int_equal(cs_law_add_derived(law, "k = c"), CS_EINPUT);
    tu_assert_errmsg_has("defined twice");
    assert_int_equal(cs_law_nderived(law), 1);
    assert_null(cs_law_derived_name(law, 1));
    cs_law_free(law);
}

/* ---- terms and batches -------------------------------------------------------------------- */

static void test_terms(void **state)
{
    static const struct {
        const char *text;
        size_t nterms;
    } cases[] = {
        {"a*x", 1},      {"a + x", 2},       {"(a + b) + c", 3},
        {"-(a + b)", 1}, {"a - (b - c)", 2}, {"a - b + c*x - exp(x)", 4},
        {"-a + b", 2},   {"(a + x)*b", 1},
    };
    double p[3] = {1.0, -0.25, 4.0};
    double x = 2.0;
    double g[3];
    double gsum[3];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_law *law = cs_law_parse(cases[i].text, XYZ, 1);
        double v;
        double sum = 0.0;
        double t;

        assert_non_null(law);
        assert_int_equal(cs_law_nterms(law), cases[i].nterms);
        memset(gsum, 0, sizeof gsum);
        for (size_t k = 0; k < cs_law_nterms(law); k++) {
            assert_int_equal(cs_law_eval_term(law, k, p, &x, &t, g), CS_OK);
            sum += t;
            for (size_t j = 0; j < cs_law_nparams(law); j++)
                gsum[j] += g[j];
        }
        assert_int_equal(cs_law_eval_grad(law, p, &x, &v, g), CS_OK);
        assert_true(fabs(sum - v) < 1e-12 * fmax(1.0, fabs(v)));
        for (size_t j = 0; j < cs_law_nparams(law); j++)
            assert_true(fabs(gsum[j] - g[j]) < 1e-12 * fmax(1.0, fabs(g[j])));
        assert_int_equal(cs_law_eval_term(law, 9, p, &x, &t, NULL), CS_EINVAL);
        cs_law_free(law);
    }
}

/* Deterministic generator for the random tests (splitmix64). */
static uint64_t rng_state = 0x5eed2024u;

static double urand(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static void test_batch(void **state)
{
    enum { NROW = 150 }; /* crosses the block boundary (64 rows) twice */
    cs_law *law = cs_law_builtin("ndt");
    cs_law *other = cs_law_builtin("power");
    cs_law_work *w = cs_law_work_alloc(law);
    double cols[3][NROW];
    const double *cp[3] = {cols[0], cols[1], cols[2]};
    double p[7];
    double vals[NROW];
    double grads[NROW * 7];
    double *terms = malloc(NROW * 4 * sizeof *terms);
    double *tgrads = malloc(NROW * 4 * 7 * sizeof *tgrads);
    double x[3];
    double v;
    double g[7];

    (void)state;
    assert_non_null(law);
    assert_non_null(w);
    assert_non_null(terms);
    assert_non_null(tgrads);
    assert_int_equal(cs_law_nterms(law), 4);
    for (size_t r = 0; r < NROW; r++) {
        cols[0][r] = exp(log(1e6) + urand() * log(1e4));
        cols[1][r] = exp(log(1e8) + urand() * log(1e4));
        cols[2][r] = exp(log(64) + urand() * log(256));
    }
    assert_int_equal(cs_law_grid_point(law, 1234, p), CS_OK);
    assert_int_equal(cs_law_eval_batch(law, p, cp, NROW, vals, grads, w), CS_OK);
    assert_int_equal(cs_law_eval_terms_batch(law, p, cp, NROW, terms, tgrads, w), CS_OK);
    for (size_t r = 0; r < NROW; r++) {
        double sum = 0.0;

        x[0] = cols[0][r];
        x[1] = cols[1][r];
        x[2] = cols[2][r];
        assert_int_equal(cs_law_eval_grad(law, p, x, &v, g), CS_OK);
        assert_true(vals[r] == v);
        for (size_t j = 0; j < 7; j++)
            assert_true(grads[r * 7 + j] == g[j]);
        for (size_t k = 0; k < 4; k++) {
            double t;
            double gt[7];

            assert_int_equal(cs_law_eval_term(law, k, p, x, &t, gt), CS_OK);
            assert_true(terms[r * 4 + k] == t);
            for (size_t j = 0; j < 7; j++)
                assert_true(tgrads[(r * 4 + k) * 7 + j] == gt[j]);
            sum += t;
        }
        assert_true(fabs(sum - v) < 1e-12 * v);
    }
    /* values only; an error names the row */
    assert_int_equal(cs_law_eval_batch(law, p, cp, NROW, vals, NULL, w), CS_OK);
    cols[2][70] = 0.0;
    p[6] = 1.0; /* gamma: 0^-1 */
    assert_int_equal(cs_law_eval_batch(law, p, cp, NROW, vals, NULL, w), CS_EINPUT);
    tu_assert_errmsg_has("law: row 71: division by zero"); /* 1-based */
    assert_int_equal(cs_law_eval_batch(law, p, cp, 0, vals, grads, w), CS_OK);
    assert_int_equal(cs_law_eval_batch(other, p, cp, 1, vals, NULL, w), CS_EINVAL);
    free(terms);
    free(tgrads);
    cs_law_work_free(w);
    cs_law_work_free(NULL);
    cs_law_free(law);
    cs_law_free(other);
}

/* ---- gradients against central differences ------------------------------------------------ */

/* Checks cs_law_eval_grad against central differences at (p, x). The step is h = 1e-5 *
 * max(|p_j|, 1e-2): the truncation error of a central difference is O(h^2 f'''), the rounding
 * error O(eps |f| / h), together about 1e-9 of the scale max(|g_j|, |f| / max(|p_j|, 1)) for
 * these laws. A tolerance of 1e-6 of that scale keeps three orders of margin, while a wrong
 * derivative (a dropped factor or sign) is off by O(1). Returns false when the law cannot be
 * evaluated at the point (then nothing is checked). */
static bool check_grad(const cs_law *law, const double *p0, const double *x, const char *what)
{
    size_t np = cs_law_nparams(law);
    double p[16];
    double g[16];
    double f;

    assert_true(np <= 16);
    memcpy(p, p0, np * sizeof *p);
    if (cs_law_eval_grad(law, p, x, &f, g) != CS_OK)
        return false;
    for (size_t j = 0; j < np; j++) {
        double h = 1e-5 * fmax(fabs(p0[j]), 1e-2);
        double fp;
        double fm;
        double fd;
        double scale = fmax(fabs(g[j]), fabs(f) / fmax(fabs(p0[j]), 1.0));

        p[j] = p0[j] + h;
        if (cs_law_eval(law, p, x, &fp) != CS_OK)
            return false;
        p[j] = p0[j] - h;
        if (cs_law_eval(law, p, x, &fm) != CS_OK)
            return false;
        p[j] = p0[j];
        fd = (fp - fm) / (2.0 * h);
        if (fabs(fd - g[j]) > 1e-6 * scale)
            fail_msg("%s: d/d%s = %.12g, central difference %.12g (f = %g)", what,
                     cs_law_param_name(law, j), g[j], fd, f);
    }
    return true;
}

static void test_grad_builtins(void **state)
{
    size_t n = 0;
    const cs_law_info *tab = cs_law_builtin_list(&n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        cs_law *law = cs_law_builtin(tab[i].name);
        size_t checked = 0;

        assert_non_null(law);
        for (int trial = 0; trial < 200; trial++) {
            double p[16];
            double x[4];

            for (size_t j = 0; j < cs_law_nparams(law); j++) {
                double lo;
                double hi;
                size_t gn;
                double u = urand();

                cs_law_param_grid(law, j, &lo, &hi, &gn);
                p[j] = (cs_law_param_flags(law, j) & CS_LAW_POSITIVE) ? lo * pow(hi / lo, u)
                                                                      : lo + (hi - lo) * u;
            }
            for (size_t j = 0; j < cs_law_nvars(law); j++)
                x[j] = var_value(cs_law_var_name(law, j)) * exp(2.0 * (urand() - 0.5));
            checked += check_grad(law, p, x, tab[i].name);
        }
        if (checked < 150)
            fail_msg("%s: only %zu of 200 random points could be evaluated", tab[i].name, checked);
        cs_law_free(law);
    }
}

/* Random expressions over parameters p0..p3 (values in [0.5, 2]) and variables x, y (in
 * [0.5, 3]). pos() always yields a positive value, any() a value of either sign, so that every
 * expression is defined; magnitudes stay moderate at the depths used. Text is appended to a
 * buffer. */
typedef struct gen_buf {
    char s[8192];
    size_t n;
} gen_buf;

static void put(gen_buf *b, const char *t)
{
    size_t len = strlen(t);

    assert_true(b->n + len < sizeof b->s);
    memcpy(b->s + b->n, t, len + 1);
    b->n += len;
}

static void gen_any(gen_buf *b, int depth);

static void gen_pos(gen_buf *b, int depth)
{
    static const char *const leaves[] = {"p0", "p1", "p2", "p3", "x", "y", "1.5", "p0^2"};
    int pick = depth <= 0 ? 0 : (int)(urand() * 7.0);

    switch (pick) {
    case 0: put(b, leaves[(int)(urand() * 8.0)]); break;
    case 1:
        put(b, "(");
        gen_pos(b, depth - 1);
        put(b, " + ");
        gen_pos(b, depth - 1);
        put(b, ")");
        break;
    case 2:
        gen_pos(b, depth - 1);
        put(b, "*");
        gen_pos(b, depth - 1);
        break;
    case 3:
        gen_pos(b, depth - 1);
        put(b, "^(");
        gen_any(b, depth - 1);
        put(b, "/4)");
        break;
    case 4:
        gen_pos(b, depth - 1);
        put(b, "/");
        gen_pos(b, depth - 1);
        break;
    case 5:
        put(b, "exp(");
        gen_any(b, depth - 1);
        put(b, "/3)");
        break;
    default:
        put(b, "min(");
        gen_pos(b, depth - 1);
        put(b, ", ");
        gen_pos(b, depth - 1);
        put(b, ")");
        break;
    }
}

static void gen_any(gen_buf *b, int depth)
{
    int pick = depth <= 0 ? 0 : (int)(urand() * 6.0);

    switch (pick) {
    case 0: gen_pos(b, depth - 1); break;
    case 1:
        put(b, "-");
        gen_pos(b, depth - 1);
        break;
    case 2:
        put(b, "(");
        gen_any(b, depth - 1);
        put(b, " - ");
        gen_pos(b, depth - 1);
        put(b, ")");
        break;
    case 3:
        gen_any(b, depth - 1);
        put(b, "*");
        gen_pos(b, depth - 1);
        break;
    case 4:
        put(b, "log(");
        gen_pos(b, depth - 1);
        put(b, ")");
        break;
    default:
        put(b, "max(");
        gen_any(b, depth - 1);
        put(b, ", -");
        gen_pos(b, depth - 1);
        put(b, ")");
        break;
    }
}

static void test_grad_random(void **state)
{
    static const char *const vars[] = {"x", "y"};
    size_t tried = 0;
    size_t checked = 0;

    (void)state;
    while (tried < 400) {
        gen_buf b = {.n = 0};
        cs_law *law;
        double p[16];
        double x[2];

        put(&b, "L = ");
        gen_any(&b, 5);
        put(&b, " + p0");
        law = cs_law_parse(b.s, vars, 2);
        if (law == NULL)
            fail_msg("generated \"%s\" did not parse: %s", b.s, cs_errmsg());
        for (size_t j = 0; j < cs_law_nparams(law); j++)
            p[j] = 0.5 + 1.5 * urand();
        for (size_t j = 0; j < cs_law_nvars(law); j++)
            x[j] = 0.5 + 2.5 * urand();
        checked += check_grad(law, p, x, b.s);
        tried++;
        cs_law_free(law);
    }
    assert_true(checked > 350);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_values),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_names_and_target),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_error_caret),
        cmocka_unit_test(test_long_line_caret),
        cmocka_unit_test(test_runtime_errors),
        cmocka_unit_test(test_builtins_build),
        cmocka_unit_test(test_chinchilla),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_terms),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_grad_builtins),
        cmocka_unit_test(test_grad_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
