/* tests/unit/test_plot.c: the figure machinery (plots/gnuplot.c, plots/plot*.c): visible labels,
 * gnuplot string literals that decode back to the label and contain no live character, hostile
 * labels drawn by the real gnuplot without running anything, a small two-panel figure in every
 * format, --force, a missing or failing gnuplot, and bad input. Tests that need gnuplot skip
 * when it is not installed; a format whose terminal is missing is skipped with a message. Run
 * by `make test`. */
#include "tests/testutil.h"

#include "plots/gnuplot.h"
#include "plots/plot.h"

#include <math.h>
#include <sys/stat.h>

/* A label that would run commands if it reached gnuplot as it is: a backtick substitution, a
 * shell-looking $(...), system(), a macro, quotes, a backslash, a newline, non-ASCII and a byte
 * that is not UTF-8. Running any part of it creates a file called PWNED... */
static const char hostile[] = "a\"b\\c`touch PWNED1` $(touch PWNED2) system(\"touch PWNED3\") "
                              "@x 'q' (17 \"0\" \\0101\nline two <&> \xc3\xa9 \xff end";

static bool have_gnuplot(void)
{
    char *terms = NULL;
    int st = cs_gnuplot_terminals(&terms);

    free(terms);
    return st == CS_OK;
}

/* Whole file in a malloc'ed buffer (NULL when unreadable). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

static void assert_no_pwned(const char *dir)
{
    char name[32];
    int i;

    for (i = 1; i <= 3; i++) {
        snprintf(name, sizeof name, "PWNED%d", i);
        assert_false(exists(tu_path(dir, name)));
        assert_false(exists(name));
    }
}

// ---- strings -------------------------------------------------------------------------------

static void test_visible(void **state)
{
    char *v;

    (void)state;
    v = cs_gnuplot_visible("tab\there\nnl\r\x01\x7f back\\slash \xc3\xa9");
    assert_string_equal(v, "tab\\there\\nnl\\r\\x01\\x7f back\\slash \xc3\xa9");
    free(v);
    /* invalid UTF-8: a lone continuation byte, an overlong '/', a surrogate, a cut sequence */
    v = cs_gnuplot_visible("x\x80y\xc0\xafz\xed\xa0\x80w\xe2\x82");
    assert_string_equal(v, "x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd"
                           "\xef\xbf\xbdw\xef\xbf\xbd\xef\xbf\xbd");
    free(v);
    v = cs_gnuplot_visible("\xf0\x9f\x98\x80 ok"); /* a 4-byte character stays */
    assert_string_equal(v, "\xf0\x9f\x98\x80 ok");
    free(v);
    v = cs_gnuplot_visible(NULL);
    assert_string_equal(v, "");
    free(v);
}

/* Decodes a literal written by cs_gnuplot_write_string: checks its form and returns the bytes. */
static char *decode_literal(const char *lit)
{
    size_t n = strlen(lit), i, k = 0;
    char *out = malloc(n);

    assert_non_null(out);
    assert_true(n >= 2 && lit[0] == '"' && lit[n - 1] == '"');
    for (i = 1; i + 1 < n; i++) {
        if (lit[i] == '\\') { /* as gnuplot reads it: 4 octal digits after \0, else 3 */
            size_t nd = lit[i + 1] == '0' ? 4 : 3, d;
            unsigned v = 0;

            assert_true(i + nd < n - 1); /* all digits before the closing quote */
            for (d = 1; d <= nd; d++) {
                assert_true(lit[i + d] >= '0' && lit[i + d] <= '7');
                v = 8 * v + (unsigned)(lit[i + d] - '0');
            }
            assert_true(v > 0 && v < 256);
            out[k++] = (char)v;
            i += nd;
            continue;
        }
        if (!cs_gnuplot_is_plain((unsigned char)lit[i]))
            fail_msg("unescaped byte 0x%02x in %s", (unsigned char)lit[i], lit);
        out[k++] = lit[i];
    }
    out[k] = '\0';
    return out;
}

static void test_quote(void **state)
{
    char *lit = cs_gnuplot_quote(hostile), *back, *vis = cs_gnuplot_visible(hostile);

    (void)state;
    assert_non_null(lit);
    back = decode_literal(lit);
    assert_string_equal(back, vis);
    assert_null(strchr(lit, '`'));
    assert_null(strchr(lit, '@'));
    assert_null(strchr(lit, '$'));
    assert_null(strchr(lit, '\''));
    assert_null(strstr(lit, "system("));
    assert_ptr_equal(strchr(lit + 1, '"'), lit + strlen(lit) - 1); /* no quote inside */
    assert_non_null(strstr(lit, "system\\0050\\0042touch PWNED3\\0042\\0051"));
    free(lit);
    free(back);
    free(vis);
    lit = cs_gnuplot_quote("N (parameters)");
    assert_string_equal(lit, "\"N \\0050parameters\\0051\"");
    free(lit);
}

static void test_write_lines(void **state)
{
    const char *lines[] = {"one", "two\nthree"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    (void)state;
    assert_int_equal(cs_gnuplot_write_lines(f, lines, 2), CS_OK);
    fclose(f);
    assert_string_equal(buf, "\"one\\0012two\\134nthree\"");
    free(buf);
}

/* gnuplot itself decodes the literal to the visible label, and runs none of it. */
static void test_gnuplot_reads_literal(void **state)
{
    char *dir = tu_tmpdir(), *lit = cs_gnuplot_quote(hostile), *vis = cs_gnuplot_visible(hostile);
    char script[4096];
    const char *args[] = {"s.gp"};
    cs_gnuplot_out out;

    (void)state;
    if (!have_gnuplot()) {
        free(dir), free(lit), free(vis);
        skip();
    }
    snprintf(script, sizeof script, "set print '-'\ns = %s\nprint s\nprint strlen(s)\n", lit);
    tu_write_file(tu_path(dir, "s.gp"), script, strlen(script));
    assert_int_equal(cs_gnuplot_run(dir, args, 1, &out), CS_OK);
    assert_int_equal(out.exit_code, 0);
    assert_non_null(strstr(out.text, vis));
    assert_no_pwned(dir);
    cs_gnuplot_out_free(&out);
    free(lit);
    free(vis);
    free(dir);
}

// ---- figures -------------------------------------------------------------------------------

/* A two-panel figure with every style, rules and a note. `label` goes into every text. */
static cs_plot *small_figure(const char *id, const char *label)
{
    cs_plot *p = cs_plot_alloc(id);
    cs_plot_look dotted = cs_plot_default_look();
    size_t s, band, err, box, panel;
    double x;

    assert_non_null(p);
    assert_int_equal(cs_plot_set_title(p, label), CS_OK);
    assert_int_equal(cs_plot_set_axis(p, 0, 'x', "position (tokens)", true), CS_OK);
    assert_int_equal(cs_plot_set_axis(p, 0, 'y', label, false), CS_OK);
    assert_int_equal(cs_plot_add_series(p, 0, CS_PLOT_BAND, NULL, NULL, &band), CS_OK);
    assert_int_equal(cs_plot_add_series(p, 0, CS_PLOT_LINES, label, NULL, &s), CS_OK);
    assert_int_equal(cs_plot_add_series(p, 0, CS_PLOT_ERRORBARS, "points", NULL, &err), CS_OK);
    for (x = 1; x <= 4096; x *= 2) {
        double b[3] = {x, 4.0 / pow(x, 0.1), 4.4 / pow(x, 0.1)},
               e[4] = {x, 4.2 / pow(x, 0.1), 4.1 / pow(x, 0.1), 4.3 / pow(x, 0.1)};

        assert_int_equal(cs_plot_add_row(p, band, b), CS_OK);
        assert_int_equal(cs_plot_add_xy(p, s, x, 4.2 / pow(x, 0.1)), CS_OK);
        assert_int_equal(cs_plot_add_row(p, err, e), CS_OK);
    }
    dotted.dash = CS_PLOT_DOTTED;
    dotted.rgb = 0x333333;
    assert_int_equal(cs_plot_add_rule(p, 0, 'v', 512, label, &dotted), CS_OK);
    assert_int_equal(cs_plot_add_rule(p, 0, 'h', 2.5, NULL, &dotted), CS_OK);
    assert_int_equal(cs_plot_add_panel(p, label, &panel), CS_OK);
    assert_int_equal(cs_plot_set_axis(p, panel, 'x', "document length (tokens)", true), CS_OK);
    assert_int_equal(cs_plot_set_axis(p, panel, 'y', "documents", false), CS_OK);
    assert_int_equal(cs_plot_add_series(p, panel, CS_PLOT_BOXES, "docs", NULL, &box), CS_OK);
    for (x = 1; x < 1000; x *= 2) {
        double v[3] = {x, 2 * x, 100.0 / (1.0 + fabs(log2(x) - 5))};

        assert_int_equal(cs_plot_add_row(p, box, v), CS_OK);
    }
    assert_int_equal(cs_plot_add_series(p, panel, CS_PLOT_LINESPOINTS, "pts", NULL, &s), CS_OK);
    assert_int_equal(cs_plot_add_xy(p, s, 2, 10), CS_OK);
    assert_int_equal(cs_plot_add_break(p, s), CS_OK);
    assert_int_equal(cs_plot_add_xy(p, s, 20, 30), CS_OK);
    assert_int_equal(cs_plot_add_xy(p, s, 200, 30), CS_OK);
    assert_int_equal(cs_plot_add_note(p, "data: %s", label), CS_OK);
    assert_int_equal(cs_plot_add_note(p, "scale: %d runs", 3), CS_OK);
    return p;
}

/* Checks the files of a render: the data and script always, each format written or skipped. */
static void assert_rendered(const char dir[1024], const char *id, const cs_plot_render_result *res)
{
    static const char *const ext[] = {"png", "svg", "pdf"};
    char name[2048];
    int i;

    snprintf(name, sizeof name, "%s/%s.dat", dir, id);
    assert_true(exists(name));
    snprintf(name, sizeof name, "%s/%s.gp", dir, id);
    assert_true(exists(name));
    for (i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s/%s.%s", dir, id, ext[i]);
        if (res->skipped & (1u << i)) {
            print_message("skipped %s: no terminal for it in this gnuplot\n", ext[i]);
            assert_false(exists(name));
            continue;
        }
        assert_true(res->written & (1u << i));
        assert_true(exists(name));
    }
}

/* The complete example docs/figures.md refers to: build, render, read back. */
static void test_render_small(void **state)
{
    char *tmp = tu_tmpdir(), *data, *script, dir[1024];
    cs_plot *p = small_figure("T1", "loss (nats/token)");
    cs_plot_render_params rp = cs_plot_default_render_params();
    cs_plot_render_result res;

    (void)state;
    if (!have_gnuplot()) {
        cs_plot_free(p);
        free(tmp);
        skip();
    }
    snprintf(dir, sizeof dir, "%s/figs/sub", tmp);
    rp.log = stderr;
    assert_int_equal(cs_plot_render(p, dir, &rp, &res), CS_OK);
    assert_rendered(dir, "T1", &res);
    data = slurp(tu_path(dir, "T1.dat"));
    assert_non_null(strstr(data, "# block 0: (not in the legend); columns: x [position (tokens)] "
                                 "y_low [loss (nats/token)] y_high"));
    assert_non_null(strstr(data, "# block 3: docs; columns: x_low"));
    assert_non_null(strstr(data, "\n4096 "));
    assert_non_null(strstr(data, "2 10\n\n20 30\n200 30\n")); /* the break */
    script = slurp(tu_path(dir, "T1.gp"));
    assert_non_null(strstr(script, "set logscale x 10"));
    assert_non_null(strstr(script, "set format x \"10^{%L}\""));
    assert_non_null(strstr(script, "\"T1.dat\" index 0 using 1:2:3 with filledcurves"));
    assert_non_null(strstr(script, "with boxxyerror"));
    assert_non_null(strstr(script, "keyentry with lines"));
    assert_non_null(strstr(script, "set arrow from first 512, graph 0 to first 512, graph 1"));
    assert_non_null(strstr(script, "set xrange [*<445"));
    free(data);
    free(script);
    /* a second render without force refuses and keeps the files; with force it replaces */
    assert_int_equal(cs_plot_render(p, dir, &rp, &res), CS_EINPUT);
    tu_assert_errmsg_has("T1.dat: exists; use --force to overwrite");
    rp.force = true;
    rp.formats = CS_PLOT_SVG;
    assert_int_equal(cs_plot_render(p, dir, &rp, &res), CS_OK);
    cs_plot_free(p);
    free(tmp);
}

/* Hostile labels everywhere: nothing runs, the script holds none of their live characters, and
 * the SVG shows them as text. */
static void test_render_hostile(void **state)
{
    char *dir = tu_tmpdir(), *script, *svg;
    cs_plot *p = small_figure("H", hostile);
    cs_plot_render_params rp = cs_plot_default_render_params();
    cs_plot_render_result res;

    (void)state;
    if (!have_gnuplot()) {
        cs_plot_free(p);
        free(dir);
        skip();
    }
    rp.formats = CS_PLOT_SVG | CS_PLOT_PNG;
    assert_int_equal(cs_plot_render(p, dir, &rp, &res), CS_OK);
    assert_no_pwned(dir);
    script = slurp(tu_path(dir, "H.gp"));
    assert_null(strchr(script, '`'));
    assert_null(strchr(script, '@'));
    assert_null(strstr(script, "system("));
    assert_null(strstr(script, "$(touch"));
    assert_null(strstr(script, "PWNED1`"));
    assert_non_null(strstr(script, "\\140touch PWNED1\\140"));
    if (res.written & CS_PLOT_SVG) {
        svg = slurp(tu_path(dir, "H.svg"));
        assert_non_null(strstr(svg, "`touch PWNED1` $(touch PWNED2) system(\"touch PWNED3\")"));
        assert_non_null(strstr(svg, "\\nline two &lt;&amp;"));
        free(svg);
    }
    free(script);
    cs_plot_free(p);
    free(dir);
}

static void test_log_axis_rows(void **state)
{
    cs_plot *p = cs_plot_alloc("L");
    size_t s;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    assert_int_equal(cs_plot_set_axis(p, 0, 'x', "x", true), CS_OK);
    assert_int_equal(cs_plot_add_series(p, 0, CS_PLOT_LINES, "s", NULL, &s), CS_OK);
    assert_int_equal(cs_plot_add_xy(p, s, 1, 1), CS_OK);
    assert_int_equal(cs_plot_add_xy(p, s, -1, 2), CS_OK); /* not on a log axis */
    assert_int_equal(cs_plot_add_xy(p, s, 2, NAN), CS_OK);
    assert_int_equal(cs_plot_add_xy(p, s, 3, 3), CS_OK);
    assert_int_equal(cs_plot_n_bad_rows(p), 2);
    f = open_memstream(&buf, &len);
    assert_int_equal(cs_plot_write_data(p, f), CS_OK);
    fclose(f);
    assert_non_null(strstr(buf, "\n1 1\n\n3 3\n"));
    free(buf);
    cs_plot_free(p);
}

static void test_bad_input(void **state)
{
    cs_plot *p;
    unsigned fm;
    char *dir = tu_tmpdir();

    (void)state;
    assert_null(cs_plot_alloc("a b"));
    tu_assert_errmsg_has("figure id \"a b\"");
    assert_null(cs_plot_alloc("../x"));
    assert_null(cs_plot_alloc(""));
    assert_int_equal(cs_plot_parse_formats("png,svg", "--format", &fm), CS_OK);
    assert_int_equal(fm, CS_PLOT_PNG | CS_PLOT_SVG);
    assert_int_equal(cs_plot_parse_formats("all", "--format", &fm), CS_OK);
    assert_int_equal(fm, CS_PLOT_ALL);
    assert_int_equal(cs_plot_parse_formats("png,jpeg", "--format", &fm), CS_EINPUT);
    tu_assert_errmsg_has("--format: expected png, svg, pdf or all (comma-separated), got \"jpeg\"");
    p = cs_plot_alloc("E");
    assert_int_equal(cs_plot_add_rule(p, 0, 'v', NAN, NULL, NULL), CS_EINVAL);
    assert_int_equal(cs_plot_add_rule(p, 3, 'v', 1, NULL, NULL), CS_EINVAL);
    assert_int_equal(cs_plot_set_axis(p, 0, 'z', "z", false), CS_EINVAL);
    assert_int_equal(cs_plot_set_range(p, 0, 'x', 2, 1), CS_EINVAL);
    assert_int_equal(cs_plot_render(p, dir, NULL, NULL), CS_EINPUT);
    tu_assert_errmsg_has("figure E: nothing to draw");
    assert_false(exists(tu_path(dir, "E.gp")));
    cs_plot_free(p);
    free(dir);
}

/* No gnuplot: the data and script are written, the error says what to install. A gnuplot that
 * fails: its message comes back. */
static void test_gnuplot_missing(void **state)
{
    char *dir = tu_tmpdir();
    cs_plot *p = small_figure("M", "m");

    (void)state;
    setenv(CS_GNUPLOT_ENV, "/nonexistent/gnuplot", 1);
    assert_int_equal(cs_plot_render(p, dir, NULL, NULL), CS_EIO);
    tu_assert_errmsg_has("/nonexistent/gnuplot: not found; install gnuplot");
    tu_assert_errmsg_has("wrote ");
    assert_true(exists(tu_path(dir, "M.dat")));
    assert_true(exists(tu_path(dir, "M.gp")));
    assert_false(exists(tu_path(dir, "M.png")));
    setenv(CS_GNUPLOT_ENV, "false", 1);
    assert_int_equal(cs_plot_render(p, tu_path(dir, "b"), NULL, NULL), CS_EIO);
    tu_assert_errmsg_has("false: listing its terminals failed (exit 1)");
    unsetenv(CS_GNUPLOT_ENV);
    cs_plot_free(p);
    free(dir);
}

static void test_palette(void **state)
{
    (void)state;
    assert_int_equal(cs_plot_palette(0), 0x0072b2);
    assert_int_equal(cs_plot_palette(12), cs_plot_palette(0));
    assert_int_equal(cs_plot_ramp(0.0), (68 << 16) | (1 << 8) | 84);
    assert_int_equal(cs_plot_ramp(1.0), (230 << 16) | (150 << 8) | 20);
    assert_int_equal(cs_plot_ramp(-1.0), cs_plot_ramp(0.0));
    assert_int_equal(cs_plot_ramp(NAN), cs_plot_ramp(0.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visible),         cmocka_unit_test(test_quote),
        cmocka_unit_test(test_write_lines),     cmocka_unit_test(test_gnuplot_reads_literal),
        cmocka_unit_test(test_render_small),    cmocka_unit_test(test_render_hostile),
        cmocka_unit_test(test_log_axis_rows),   cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_gnuplot_missing), cmocka_unit_test(test_palette),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
