/* notebooks-c/report.c — joins the notebooks' Markdown sections into one report.
 *
 *     report --out DIR [--force]
 *
 * reads DIR/context.md, ucurves.md, laws.md, data.md and predict.md (written by nb_context,
 * nb_ucurves, nb_laws, nb_data and nb_predict into the same DIR), joins them in that order under
 * a title and a table of contents into DIR/report.md, and renders DIR/report.html with libcmark
 * (CommonMark). Test: tests/cli/test_report.sh; docs/notebooks.md.
 *
 * The page is self-contained: images and links are relative to DIR (figures/, analysis/), the
 * style is inline, nothing is fetched from the network, and a Content-Security-Policy allows no
 * script at all. The sections' tables are raw HTML blocks, so the renderer runs with
 * CMARK_OPT_UNSAFE (raw HTML kept); that is safe because every text the notebooks take from the
 * data is escaped when they write it (notebooks-c/notebook.h), and the policy would stop a
 * script even if one slipped through.
 *
 * Bad input (exit 2): a missing section (naming it and the notebook that writes it), a section
 * holding a NUL byte, an existing report without --force. Bytes that are not valid UTF-8 are
 * shown as U+FFFD.
 */
#include "core/afile.h"
#include "core/error.h"
#include "core/version.h"
#include "notebooks-c/notebook.h"

#include <cmark.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const cs_cli_opt opts[] = {
    {"out", 'o', required_argument, "DIR", "the notebooks' output directory; report.* go there"},
    {"force", 'f', no_argument, NULL, "replace report.md and report.html if they exist"},
    {NULL, 0, 0, NULL, NULL},
};

static const cs_cli_cmd cmd = {
    "report",
    "--out DIR [--force]",
    "Join the notebooks' sections in DIR (context.md, ucurves.md, laws.md, data.md,\n"
    "predict.md) into DIR/report.md and render DIR/report.html (self-contained: relative\n"
    "links, inline style, no script, no network).",
    opts,
    "`make notebooks` runs every notebook and then this program; docs/notebooks.md.\n",
};

/* The sections in report order: file stem (= anchor id), the notebook writing it, its title. */
static const struct {
    const char *name, *notebook, *title;
} sections[] = {
    {"context", "nb_context", "Inference-time context (C1, C4, C5)"},
    {"ucurves", "nb_ucurves", "U-curves and the optimal context per budget (C6, C7, C8)"},
    {"laws", "nb_laws", "The fitted law and the optimal-context table"},
    {"data", "nb_data", "The data: document lengths (C3)"},
    {"predict", "nb_predict", "Predict before you train"},
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

typedef struct args {
    const char *out;
    bool force;
} args;

static int take(int key, const char *arg, void *ctx)
{
    args *a = ctx;

    if (key == 'o')
        a->out = arg;
    else if (key == 'f')
        a->force = true;
    return CS_OK;
}

/* ---- A growing text buffer ---------------------------------------------------------------------
 */

typedef struct buf {
    char *s;
    size_t n, cap;
} buf;

static int buf_add(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->s, cap);

        if (!p)
            return cs_fail(CS_ENOMEM, "out of memory");
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return CS_OK;
}

static int buf_str(buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

/* Appends the whole file at path. A missing file is bad input naming the notebook to run. */
static int buf_file(buf *b, const char *path, const char *notebook)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int st = CS_OK;

    if (!f && errno == ENOENT)
        return cs_fail(CS_EINPUT, "%s: missing; it is written by %s (make notebooks runs it)", path,
                       notebook);
    if (!f)
        return cs_fail(CS_EIO, "%s: cannot open: %s", path, strerror(errno));
    while (st == CS_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = memchr(chunk, '\0', n) ? cs_fail(CS_EINPUT,
                                              "%s: holds a NUL byte; expected "
                                              "Markdown text",
                                              path)
                                    : buf_add(b, chunk, n);
    if (st == CS_OK && ferror(f))
        st = cs_fail(CS_EIO, "%s: read error", path);
    fclose(f);
    return st;
}

/* ---- The Markdown --------------------------------------------------------------------------- */

static int header(buf *b)
{
    char line[512];
    size_t i;
    int st;

    snprintf(line, sizeof line,
             "# ctxscale report\n\nWritten by ctxscale %s (git %s). Every number, table and "
             "figure below was computed from the run logs named in its section by the "
             "notebooks of `notebooks-c/` (docs/notebooks.md).\n\n",
             cs_version_string(), cs_version_git_revision());
    st = buf_str(b, line);
    if (st == CS_OK)
        st = buf_str(b, "The figures say in their corner note what data and what scale "
                        "produced them. Where an effect does not appear at this scale (no "
                        "interior minimum of a U-curve, a law the runs do not determine), the "
                        "report says so instead of drawing or fitting one.\n\nContents:\n\n");
    for (i = 0; i < NSECTIONS && st == CS_OK; i++) {
        snprintf(line, sizeof line, "%zu. [%s](#%s)\n", i + 1, sections[i].title, sections[i].name);
        st = buf_str(b, line);
    }
    return st == CS_OK ? buf_str(b, "\n") : st;
}

static int join_sections(const char *dir, buf *b)
{
    char path[4096];
    size_t i;
    int st = header(b);

    for (i = 0; i < NSECTIONS && st == CS_OK; i++) {
        snprintf(path, sizeof path, "%s/%s.md", dir, sections[i].name);
        if ((st = buf_str(b, "\n")) == CS_OK)
            st = buf_file(b, path, sections[i].notebook);
    }
    return st;
}

/* ---- The HTML page ------------------------------------------------------------------------- */

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self' "
    "file: data:; style-src 'unsafe-inline'\">\n"
    "<title>ctxscale report</title>\n<style>\n"
    "body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; "
    "padding: 0 1em; line-height: 1.5; color: #222; background: #fff; }\n"
    "h1, h2, h3, h4 { line-height: 1.2; }\n"
    "h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }\n"
    "img { max-width: 100%; height: auto; border: 1px solid #ddd; }\n"
    "table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }\n"
    "th, td { border: 1px solid #ccc; padding: .25em .6em; vertical-align: top; }\n"
    "th { background: #f3f3f3; }\n"
    ".num { text-align: right; font-variant-numeric: tabular-nums; }\n"
    "code { background: #f5f5f5; padding: 0 .2em; }\n"
    "</style>\n</head>\n<body>\n";

static const char page_tail[] = "</body>\n</html>\n";

static int write_html(const char *path, const buf *md, bool force)
{
    char *html = cmark_markdown_to_html(md->s, md->n, CMARK_OPT_UNSAFE | CMARK_OPT_VALIDATE_UTF8);
    cs_afile *af = NULL;
    int st;

    if (!html)
        return cs_fail(CS_ENOMEM, "out of memory rendering the Markdown");
    if ((st = cs_afile_open(path, force, &af)) == CS_OK) {
        FILE *f = cs_afile_stream(af);

        fputs(page_head, f);
        fputs(html, f);
        fputs(page_tail, f);
        st = cs_afile_commit(af);
    }
    free(html);
    return st;
}

static int write_md(const char *path, const buf *md, bool force)
{
    cs_afile *af = NULL;
    int st;

    if ((st = cs_afile_open(path, force, &af)) == CS_OK) {
        fwrite(md->s, 1, md->n, cs_afile_stream(af));
        st = cs_afile_commit(af);
    }
    return st;
}

static int check_absent(const char *path, bool force)
{
    struct stat sb;

    if (!force && lstat(path, &sb) == 0)
        return cs_fail(CS_EINPUT, "%s: exists; use --force to overwrite", path);
    return CS_OK;
}

int main(int argc, char **argv)
{
    args a = {0};
    buf md = {0};
    char mdpath[4096], htmlpath[4096];
    int rc = cs_nb_parse(&cmd, argc, argv, take, &a), st;

    if (rc >= 0)
        return rc;
    if (!a.out)
        return cs_nb_usage(&cmd, "--out DIR is required");
    snprintf(mdpath, sizeof mdpath, "%s/report.md", a.out);
    snprintf(htmlpath, sizeof htmlpath, "%s/report.html", a.out);
    if ((st = check_absent(mdpath, a.force)) == CS_OK &&
        (st = check_absent(htmlpath, a.force)) == CS_OK &&
        (st = join_sections(a.out, &md)) == CS_OK && (st = write_md(mdpath, &md, a.force)) == CS_OK)
        st = write_html(htmlpath, &md, a.force);
    if (st == CS_OK)
        printf("%s\n%s\n", mdpath, htmlpath);
    free(md.s);
    if (fflush(stdout) != 0 || ferror(stdout))
        st = st ? st : cs_fail(CS_EIO, "write error on standard output");
    return cs_nb_report(&cmd, st);
}
