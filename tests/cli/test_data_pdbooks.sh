#!/usr/bin/env bash
# tests/cli/test_data_pdbooks.sh: `ctxscale data build pd-books` from the real Debian packages
# (skipped when they are not installed: scripts/deps-corpus.sh pd-books installs them), and
# debian-docs too when its packages are installed. Checks the Bible's 66 books, the four
# Gutenberg books without boilerplate, and the manifest's package versions and checksums
# against dpkg and sha256sum. Stand-in programs cover the same code in test_data_build.sh.
. "$CS_SRC/tests/cli/lib.sh"

if ! sh "$CS_SRC/scripts/deps-corpus.sh" --check pd-books 2>/dev/null; then
    echo "pd-books packages not installed (scripts/deps-corpus.sh pd-books); skipped"
    exit 77
fi

expect_exit 0 "$CTXSCALE" data build pd-books --out "$T/pd"
expect_out "70 documents"
expect_out "bible-kjv  *66"
expect_out "gutenberg  *4"
idx="$T/pd/index.tsv"
man="$T/pd/manifest.json"
[ "$(awk -F'\t' '$1 == 0 {print $9}' "$idx")" = "Genesis" ] || fail "first book"
[ "$(awk -F'\t' '$1 == 65 {print $9}' "$idx")" = "Revelation" ] || fail "last book"
head -c 60 "$T/pd/documents.bin" | grep -q "^Genesis 1$" || fail "Genesis does not start with its heading"

# the Gutenberg books: no boilerplate markers, no CR, no byte-order mark, each a long text
for id in 66 67 68 69; do
    off=$(awk -F'\t' -v id=$id '$1 == id {print $5}' "$idx")
    len=$(awk -F'\t' -v id=$id '$1 == id {print $6}' "$idx")
    [ "$len" -gt 300000 ] || fail "document $id is only $len bytes"
    tail -c +$((off + 1)) "$T/pd/documents.bin" | head -c "$len" > "$T/book"
    grep -q -i -e '\*\*\* *START OF TH' -e '\*\*\* *END OF TH' -e 'END OF THE PROJECT GUTENBERG' \
        -e 'End of Project Gutenberg' "$T/book" && fail "document $id keeps Gutenberg boilerplate"
    grep -q $'\r' "$T/book" && fail "document $id keeps CR"
    head -c 3 "$T/book" | grep -q $'\xef\xbb\xbf' && fail "document $id keeps the BOM"
done

# provenance: versions as dpkg has them, checksums as sha256sum computes them
for p in $(sh "$CS_SRC/scripts/deps-corpus.sh" --list pd-books); do
    [ "$p" = bible-kjv ] && continue # the program: recorded in "via"
    v=$(dpkg-query -W -f='${Version}' "$p")
    grep -q "\"package\": \"$p\"" "$man" || fail "manifest lacks package $p"
    grep -q "\"version\": \"$v\"" "$man" || fail "manifest lacks version $v of $p"
done
for f in $(dpkg-query -L bible-kjv-text | grep '/bible.data$') \
         $(dpkg-query -L golang-github-colinmarc-hdfs-dev | grep '/mobydick.txt$'); do
    grep -q "\"sha256\": \"$(sha256sum "$f" | cut -c1-64)\"" "$man" || fail "checksum of $f"
done

if sh "$CS_SRC/scripts/deps-corpus.sh" --check debian-docs 2>/dev/null; then
    expect_exit 0 "$CTXSCALE" data build debian-docs --out "$T/dd"
    for l in python-doc perl-doc vim-help linux-doc; do expect_out "^  $l "; done
else
    echo "debian-docs packages not installed: that part skipped"
fi
echo "ok"
