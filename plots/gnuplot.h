/* plots/gnuplot.h: talking to gnuplot safely. Two things only:
 *
 *   1. Strings. Every text that reaches a gnuplot script (titles, legend entries, run names, CSV
 *      labels, notes) goes through cs_gnuplot_write_string, which writes it as a double-quoted
 *      gnuplot string literal in which every byte other than a letter, a digit, a space or one of
 *      - _ . , : / is an octal escape (\0042 for ", \140 for a backtick, \0050 for '('; bytes
 *      below 0100 get four digits, because gnuplot reads up to four after \0). gnuplot
 *      substitutes `commands` inside double-quoted strings and @macros on the command line; with
 *      the escapes, no backtick, quote, backslash, @, $ or parenthesis of the user's text is ever
 *      a character of the script, so nothing the user wrote can end the string or run. Before
 *      that, the text is made visible (cs_gnuplot_visible): a newline shows as the two characters
 *      \n, other control characters as \t, \r or \xNN, and bytes that are not valid UTF-8 as
 *      U+FFFD, so a label stays one line and the SVG output stays valid XML. The figures use
 *      these strings with `noenhanced`, so _ ^ { } @ & ~ show as themselves too.
 *
 *   2. Running. cs_gnuplot_run fork()s and exec()s the gnuplot program directly (no shell, no
 *      command line to parse) with the script as a file argument, in a given directory, stdin
 *      from /dev/null, and captures what it prints.
 *
 * The program is "gnuplot" from PATH, or the value of the environment variable CTXSCALE_GNUPLOT
 * (a program path, not a command line). Tested in tests/unit/test_plot.c.
 */
#ifndef CS_PLOTS_GNUPLOT_H
#define CS_PLOTS_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Environment variable naming the gnuplot program to run instead of "gnuplot" from PATH. */
#define CS_GNUPLOT_ENV "CTXSCALE_GNUPLOT"

/* The program cs_gnuplot_run starts: getenv(CS_GNUPLOT_ENV) when set and not empty, else
 * "gnuplot". Borrowed string. */
const char *cs_gnuplot_program(void);

/* A copy of `s` (a NUL-terminated byte string, any bytes) that is valid UTF-8 without control
 * characters: "\n", "\t", "\r" and "\\xNN" (for other bytes below 0x20 and 0x7f) replace control
 * characters as visible text, each byte of an invalid UTF-8 sequence (overlong, surrogate, above
 * U+10FFFF, truncated) becomes U+FFFD, a backslash stays a backslash. Returns a malloc'ed string
 * owned by the caller, or NULL (CS_ENOMEM recorded). */
char *cs_gnuplot_visible(const char *s);

/* Writes `s` to f as a gnuplot double-quoted string literal, quotes included: the visible form
 * of s (cs_gnuplot_visible), with every byte outside [A-Za-z0-9 _.,:/-] written as an octal
 * escape: \ooo, or \0ooo for bytes below 0100 (gnuplot reads four digits after \0, so "(1"
 * must be \00501, not \0501). Allocates nothing. CS_OK, or CS_EIO when the stream reports a write
 * error. */
int cs_gnuplot_write_string(FILE *f, const char *s);

/* As cs_gnuplot_write_string for n lines shown one under the other: each line is made visible
 * on its own (so a newline inside a line is still shown as \n) and the lines are joined by a
 * real line break (\0012). n == 0 writes "". */
int cs_gnuplot_write_lines(FILE *f, const char *const *lines, size_t n);

/* The literal cs_gnuplot_write_string writes, as a malloc'ed string owned by the caller; NULL
 * with CS_ENOMEM. */
char *cs_gnuplot_quote(const char *s);

/* True when c may appear unescaped inside a literal: [A-Za-z0-9 _.,:/-]. */
bool cs_gnuplot_is_plain(int c);

/* The result of one gnuplot run. */
typedef struct cs_gnuplot_out {
    int exit_code; /* the program's exit status; -1 when it was killed by a signal */
    char *text;    /* what it printed on stdout and stderr, merged, at most the last
                      CS_GNUPLOT_OUT_MAX bytes (earlier output is dropped); malloc'ed, owned by
                      the caller, never NULL after CS_OK */
} cs_gnuplot_out;

/* Most bytes of output kept by cs_gnuplot_run. */
#define CS_GNUPLOT_OUT_MAX 16384

/* Runs cs_gnuplot_program() with the arguments args[0..nargs) (argv[0] is the program; args
 * follow it; nargs <= 16) in directory `dir` (NULL: the current one), standard input from
 * /dev/null, standard output and error captured into out. No shell is involved: every argument
 * reaches gnuplot as it is. Returns CS_OK when the program ran and exited (whatever its exit
 * status: the caller reads out->exit_code); CS_EIO when it could not be started (the message
 * names the program and the reason; "not found" when it is not installed, with the package to
 * install) or dir cannot be entered; CS_EINVAL for nargs > 16; CS_ENOMEM. */
int cs_gnuplot_run(const char *dir, const char *const *args, size_t nargs, cs_gnuplot_out *out);

/* Frees out->text and zeroes *out. */
void cs_gnuplot_out_free(cs_gnuplot_out *out);

/* The terminals this gnuplot was built with (GPVAL_TERMINALS), as a malloc'ed space-separated
 * list owned by the caller (*terms). CS_OK; CS_EIO when gnuplot cannot be started or fails
 * (message with its output); CS_ENOMEM. */
int cs_gnuplot_terminals(char **terms);

/* True when the space-separated list `terms` contains the word `name`. */
bool cs_gnuplot_has_terminal(const char *terms, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* CS_PLOTS_GNUPLOT_H */
