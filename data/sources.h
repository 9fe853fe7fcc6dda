/* data/sources.h: where corpus documents come from. A source spec names one of
 *
 *   pd-books        public-domain books from Debian packages: the King James Bible (bible-kjv,
 *                   one document per book) and Project Gutenberg texts shipped as test data
 *                   (Moby-Dick, Sherlock Holmes, Tom Sawyer, Newton's Opticks), boilerplate
 *                   stripped
 *   debian-docs     long technical documents from Debian documentation packages: Python reST
 *                   sources, Perl pod, Vim help, Linux kernel reST, each with its own label
 *   dir:PATH        every regular file under PATH (recursive, sorted, dot-files skipped)
 *   files:LIST      the files named in LIST, one path a line (relative to LIST's directory)
 *   jsonl:FILE      one JSON object a line with the text in a string field
 *   file:PATH       one file
 *   PATH            an existing directory (dir:), a *.jsonl file (jsonl:) or another file (file:)
 *
 * and cs_sources_add reads it into a corpus writer (data/corpus.h): one file or one JSON line is
 * one document, bytes unchanged (only the Debian books are cleaned). Debian packages are found
 * with dpkg-query and are never installed here: a missing one is an error naming it and the
 * install command (scripts/deps-corpus.sh installs them). Programs (dpkg-query, bible) are run
 * with argument vectors through posix_spawnp, never through a shell. docs/data.md describes the
 * corpora. Tested in tests/unit/test_corpus.c and tests/cli/test_data_build.sh.
 */
#ifndef CS_DATA_SOURCES_H
#define CS_DATA_SOURCES_H

#include "data/corpus.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Options for the user sources (dir:, files:, jsonl:, file:). */
typedef struct cs_sources_params {
    const char *label;       /* label of their documents; NULL = from the file or directory name */
    const char *text_field;  /* JSONL: string field holding the text (default "text") */
    const char *title_field; /* JSONL: string field holding the title (default "title"; else
                              * an "id" string or integer; else "FILE:LINE") */
    const char *label_field; /* JSONL: string field holding each line's label, or NULL (default) */
    bool strip_gutenberg;    /* strip Project Gutenberg boilerplate from user files too */
} cs_sources_params;

/* label NULL, text_field "text", title_field "title", label_field NULL, strip_gutenberg false. */
cs_sources_params cs_sources_default_params(void);

/* Reads source `spec` into w: records its source(s) (cs_corpus_writer_add_source) and adds its
 * documents; empty files and empty texts are skipped. Errors (after one, w can only be aborted):
 *   CS_EINPUT  an unknown spec; a missing file or directory; a source that gave no document
 *              ("dir:x: no documents"); a Debian package that is not installed ("pd-books: Debian
 *              packages not installed: P ...; install them with: sudo apt-get install P ... (or
 *              scripts/deps-corpus.sh pd-books)"); a JSONL line that is not an object with the
 *              text field ("FILE:LINE: ..."); a bad label;
 *   CS_EIO     a file cannot be read; dpkg-query or bible fails or prints something unexpected;
 *   CS_ENOMEM. */
int cs_sources_add(cs_corpus_writer *w, const char *spec, const cs_sources_params *p);

/* The Debian packages a named corpus ("pd-books", "debian-docs") is read from, as a
 * NULL-terminated static list; NULL for another name. scripts/deps-corpus.sh installs the same. */
const char *const *cs_sources_packages(const char *corpus);

/* Finds the body of a Project Gutenberg text: [*begin, *end) of text[0..n). The body starts
 * after the "*** START OF THE (or THIS) PROJECT GUTENBERG EBOOK ..." line (or the older
 * "*END*THE SMALL PRINT!" line) and ends before the first "*** END OF THE PROJECT GUTENBERG ..."
 * or "End of (the) Project Gutenberg ..." line after it (markers case-insensitive, leading
 * blanks allowed); then a first paragraph "Produced by ..." (the transcribers' credit), leading
 * blank lines and trailing white space are dropped. Text without markers keeps its whole length
 * less that trimming. Returns true when a start or end marker was found. */
bool cs_sources_strip_gutenberg(const uint8_t *text, size_t n, size_t *begin, size_t *end);

#ifdef __cplusplus
}
#endif
#endif /* CS_DATA_SOURCES_H */
