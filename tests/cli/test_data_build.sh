#!/usr/bin/env bash
# tests/cli/test_data_build.sh: `ctxscale data build`: user directories, lists and JSONL; bad
# input (empty corpus, a bad JSONL line, a later file that cannot be read, an existing --out)
# giving exit 2 and no output; and the Debian corpora read through stand-in dpkg-query and bible
# programs put first in PATH (missing packages named with the install command, the Bible split
# into books, Gutenberg boilerplate stripped). The real packages: tests/cli/test_data_pdbooks.sh.
. "$CS_SRC/tests/cli/lib.sh"

# nothing_left DIR: DIR holds no temporary or aside directories of a build.
nothing_left() {
    if ls -a "$1" | grep -q -e '\.tmp\.' -e '\.old\.'; then fail "leftovers in $1: $(ls -a "$1")"; fi
}
# doc CORPUS ID: the bytes of document ID on stdout (offset and length from index.tsv).
doc() {
    local off len
    off=$(awk -F'\t' -v id="$2" '$1 == id {print $5}' "$1/index.tsv")
    len=$(awk -F'\t' -v id="$2" '$1 == id {print $6}' "$1/index.tsv")
    tail -c +$((off + 1)) "$1/documents.bin" | head -c "$len"
}

# ---- dispatcher and usage ------------------------------------------------------------------
expect_exit 0 "$CTXSCALE" data --help
expect_out "build"
expect_exit 2 "$CTXSCALE" data
expect_exit 2 "$CTXSCALE" data nonsense
expect_err "unknown command 'nonsense'"
expect_exit 0 "$CTXSCALE" data build --help
expect_out "pd-books"
expect_out "dir:PATH"
expect_exit 2 "$CTXSCALE" data build --out "$T/x"
expect_err "at least one SOURCE"
expect_exit 2 "$CTXSCALE" data build "$T"
expect_err "out DIR is required"
expect_exit 2 "$CTXSCALE" data build "$T" --out "$T/x" --val-frac 1
expect_err "val-frac"
expect_exit 2 "$CTXSCALE" data build "$T" --out "$T/x" --label 'a b'
expect_exit 2 "$CTXSCALE" data build no-such-corpus --out "$T/x"
expect_err "not a corpus name"
[ -e "$T/x" ] && fail "output after a usage error"

# ---- dir: any bytes round-trip, in sorted order, one file one document ---------------------
mkdir -p "$T/texts/sub" "$T/work"
printf 'first file\n' > "$T/texts/a.txt"
printf 'bad \xff\xfe utf-8 \xc0\x80 and a NUL \0 byte' > "$T/texts/b.bin"
printf 'nested\r\n' > "$T/texts/sub/c.txt"
printf 'hidden' > "$T/texts/.hidden"
: > "$T/texts/empty.txt"
expect_exit 0 "$CTXSCALE" data build "dir:$T/texts" --out "$T/work/c" --val-frac 0.5 --seed 3
expect_out "3 documents"
expect_out "not valid UTF-8"
cat "$T/texts/a.txt" "$T/texts/b.bin" "$T/texts/sub/c.txt" | cmp - "$T/work/c/documents.bin" \
    || fail "documents.bin is not the files' bytes in order"
doc "$T/work/c" 1 | cmp - "$T/texts/b.bin" || fail "document 1 differs from b.bin"
[ "$(cut -f9 "$T/work/c/index.tsv" | tail -n +2 | tr '\n' ' ')" = "a.txt b.bin sub/c.txt " ] \
    || fail "titles: $(cut -f9 "$T/work/c/index.tsv")"
[ "$(cut -f3 "$T/work/c/index.tsv" | sort -u | tr '\n' ' ')" = "label texts " ] || fail "label"
grep -q '"format": "ctxscale-corpus"' "$T/work/c/manifest.json" || fail "manifest format"
grep -q '"skipped_empty": 1' "$T/work/c/manifest.json" || fail "manifest skipped_empty"
grep -q '"invalid_utf8": 1' "$T/work/c/manifest.json" || fail "manifest invalid_utf8"
[ "$(cut -f2 "$T/work/c/index.tsv" | grep -c val)" -eq 2 ] || fail "expected round(0.5 x 3) = 2 val of 3"
nothing_left "$T/work"

# the same build again: the same split (deterministic); the existing --out is refused
cp "$T/work/c/index.tsv" "$T/index.first"
expect_exit 2 "$CTXSCALE" data build "dir:$T/texts" --out "$T/work/c" --val-frac 0.5 --seed 3
expect_err "exists; use --force"
expect_exit 0 "$CTXSCALE" data build "dir:$T/texts" --out "$T/work/c" --val-frac 0.5 --seed 3 --force
cmp "$T/index.first" "$T/work/c/index.tsv" || fail "the split changed between identical builds"
nothing_left "$T/work"
mkdir "$T/work/notes" && echo keep > "$T/work/notes/keep.txt"
expect_exit 2 "$CTXSCALE" data build "dir:$T/texts" --out "$T/work/notes" --force
expect_err "not a corpus directory"
[ -f "$T/work/notes/keep.txt" ] || fail "--force removed a directory that is not a corpus"

# a tilde after dir: is the home directory
expect_exit 0 env HOME="$T" "$CTXSCALE" data build 'dir:~/texts' --out "$T/work/home" --label mine
grep -q "	mine	" "$T/work/home/index.tsv" || fail "--label not applied"

# ---- files: and jsonl: ---------------------------------------------------------------------
printf '# list\na.txt\nsub/c.txt\n' > "$T/texts/list.txt"
expect_exit 0 "$CTXSCALE" data build "files:$T/texts/list.txt" --out "$T/work/list"
expect_out "2 documents"
printf 'a.txt\nnope.txt\n' > "$T/texts/list.txt"
expect_exit 2 "$CTXSCALE" data build "files:$T/texts/list.txt" --out "$T/work/list2"
expect_err "list.txt:2: nope.txt"

printf '{"text": "one", "title": "A"}\n{"text": "two", "src": "web"}\n' > "$T/good.jsonl"
expect_exit 0 "$CTXSCALE" data build "$T/good.jsonl" --out "$T/work/j"
expect_out "2 documents"
printf '{"body": "one"}\n' > "$T/other.jsonl"
expect_exit 0 "$CTXSCALE" data build "jsonl:$T/other.jsonl" --text-field body --out "$T/work/j2"
printf '{"text": "ok"}\n{"text": "ok"}\n{"text": 42}\n{"text": "ok"}\n' > "$T/bad.jsonl"
expect_exit 2 "$CTXSCALE" data build "dir:$T/texts" "jsonl:$T/bad.jsonl" --out "$T/work/bad"
expect_err 'bad.jsonl:3: field "text": expected a string'
[ -e "$T/work/bad" ] && fail "output left after a bad JSONL line"
nothing_left "$T/work"

# ---- empty corpus, and a failure after documents were written ------------------------------
mkdir "$T/void"
expect_exit 2 "$CTXSCALE" data build "dir:$T/void" --out "$T/work/void"
expect_err "no documents"
[ -e "$T/work/void" ] && fail "output left for an empty corpus"
mkdir "$T/late"
printf 'fine\n' > "$T/late/a.txt"
printf 'fine\n' > "$T/late/b.txt"
ln -s "$T/late/gone" "$T/late/z-link"   # the last file cannot be read
expect_exit 2 "$CTXSCALE" data build "dir:$T/late" --out "$T/work/late"
expect_err "z-link"
[ -e "$T/work/late" ] && fail "output left after a failure"
nothing_left "$T/work"

# ---- the Debian corpora through stand-in programs -------------------------------------------
FAKE="$T/fake"
mkdir -p "$FAKE/bin" "$FAKE/usr/lib" "$FAKE/hdfs/testdata" "$FAKE/lz4/testdata" \
    "$FAKE/brotli/testdata" "$FAKE/py/html/_sources/library" "$FAKE/perl/pod" "$FAKE/vim/doc" \
    "$FAKE/linux/html/_sources/admin"
cat > "$FAKE/bin/dpkg-query" <<'EOF'
#!/bin/sh
# stand-in for dpkg-query -W / -L over the files under $FAKE
case "$1" in
-W) shift 2; rc=0
    for p in "$@"; do
        case " ${FAKE_MISSING:-} " in
        *" $p "*|*" all "*) echo "dpkg-query: no packages found matching $p" >&2; rc=1 ;;
        *) printf '%s\tinstall ok installed\t9.9-test\n' "$p" ;;
        esac
    done
    exit $rc ;;
-L) case "$2" in
    bible-kjv-text) printf '/.\n%s\n%s\n' "$FAKE/usr/lib" "$FAKE/usr/lib/bible.data" ;;
    golang-github-colinmarc-hdfs-dev) echo "$FAKE/hdfs/testdata/mobydick.txt" ;;
    golang-github-pierrec-lz4-dev) find "$FAKE/lz4" ;;
    golang-github-andybalholm-brotli-dev) echo "$FAKE/brotli/testdata/Isaac.Newton-Opticks.txt" ;;
    python3.11-doc) find "$FAKE/py" ;;
    perl-doc) find "$FAKE/perl" ;;
    vim-runtime) echo "diverted by vim-runtime to: $FAKE/vim/doc/x"; find "$FAKE/vim" ;;
    linux-doc-6.1) find "$FAKE/linux" ;;
    *) exit 1 ;;
    esac ;;
esac
EOF
cat > "$FAKE/bin/bible" <<'EOF'
#!/bin/sh
# stand-in for bible -p DIR -l 1000000 gen1:1-rev22:21: 66 books of two chapters
[ "$1 $2 $3 $4 $5" = "-p $FAKE/usr/lib -l 1000000 gen1:1-rev22:21" ] || { echo "bad args: $*" >&2; exit 3; }
i=1
while [ $i -le 66 ]; do
    printf '\nBook %d 1\n\n  1 First verse of book %d.\n  2 Second.\n\nBook %d 2\n\n  1 Again.\n' $i $i $i
    i=$((i + 1))
done
EOF
chmod +x "$FAKE/bin/dpkg-query" "$FAKE/bin/bible"
printf 'kjv data' > "$FAKE/usr/lib/bible.data"
printf '\357\273\277The Project Gutenberg EBook of Moby Dick\r\n\r\n*** START OF THIS PROJECT GUTENBERG EBOOK MOBY DICK ***\r\n\r\nCall me Ishmael.\r\nSome years ago.\r\n\r\nEnd of Project Gutenberg'"'"'s Moby Dick\r\n*** END OF THIS PROJECT GUTENBERG EBOOK MOBY DICK ***\r\nlicense\r\n' \
    > "$FAKE/hdfs/testdata/mobydick.txt"
printf '*** START OF THE PROJECT GUTENBERG EBOOK SHERLOCK ***\nProduced by a volunteer\n\nTo Sherlock Holmes she is always the woman.\n*** END OF THE PROJECT GUTENBERG EBOOK SHERLOCK ***\n' > "$FAKE/lz4/testdata/pg1661.txt"
printf 'Produced by David Widger.\n\n\nTOM SAWYER\n"TOM!"\n' > "$FAKE/lz4/testdata/Mark.Twain-Tom.Sawyer.txt"
printf 'OPTICKS\nlight\n' > "$FAKE/brotli/testdata/Isaac.Newton-Opticks.txt"
printf 'os module\n' > "$FAKE/py/html/_sources/library/os.rst.txt"
printf '=head1 NAME\n' > "$FAKE/perl/pod/perlfunc.pod"
printf '*help.txt*\n' > "$FAKE/vim/doc/help.txt"
printf 'Admin guide\n' > "$FAKE/linux/html/_sources/admin/index.rst.txt"
export FAKE

expect_exit 0 env PATH="$FAKE/bin:$PATH" "$CTXSCALE" data build pd-books --out "$T/work/pd"
expect_out "70 documents"
expect_out "bible-kjv  *66"
expect_out "gutenberg  *4"
[ "$(doc "$T/work/pd" 66)" = "$(printf 'Call me Ishmael.\nSome years ago.')" ] \
    || fail "Moby-Dick not cleaned: $(doc "$T/work/pd" 66 | od -c | head)"
[ "$(doc "$T/work/pd" 67)" = "To Sherlock Holmes she is always the woman." ] || fail "Sherlock"
[ "$(doc "$T/work/pd" 68)" = "$(printf 'TOM SAWYER\n"TOM!"')" ] || fail "Tom Sawyer credit kept"
[ "$(doc "$T/work/pd" 0)" = "$(printf 'Book 1 1\n\n  1 First verse of book 1.\n  2 Second.\n\nBook 1 2\n\n  1 Again.')" ] \
    || fail "first book: $(doc "$T/work/pd" 0)"
[ "$(awk -F'\t' '$1 == 65 {print $9}' "$T/work/pd/index.tsv")" = "Book 66" ] || fail "book titles"
grep -q '"package": "golang-github-pierrec-lz4-dev"' "$T/work/pd/manifest.json" || fail "package"
grep -q '"version": "9.9-test"' "$T/work/pd/manifest.json" || fail "version"
sum=$(sha256sum "$FAKE/hdfs/testdata/mobydick.txt" | cut -c1-64)
grep -q "\"sha256\": \"$sum\"" "$T/work/pd/manifest.json" || fail "source checksum"

expect_exit 0 env PATH="$FAKE/bin:$PATH" "$CTXSCALE" data build debian-docs --out "$T/work/dd"
expect_out "4 documents"
[ "$(cut -f3,9 "$T/work/dd/index.tsv" | tail -n +2 | tr '\t\n' ': ')" = \
  "python-doc:library/os.rst perl-doc:perlfunc.pod vim-help:help.txt linux-doc:admin/index.rst " ] \
    || fail "debian-docs labels and titles: $(cut -f3,9 "$T/work/dd/index.tsv")"

# missing packages: named, with the install commands; the lists match scripts/deps-corpus.sh
for corpus in pd-books debian-docs; do
    expect_exit 2 env PATH="$FAKE/bin:$PATH" FAKE_MISSING=all "$CTXSCALE" data build "$corpus" \
        --out "$T/work/missing"
    for p in $(sh "$CS_SRC/scripts/deps-corpus.sh" --list "$corpus"); do expect_err " $p"; done
    expect_err "sudo apt-get install"
    expect_err "scripts/deps-corpus.sh $corpus"
    [ -e "$T/work/missing" ] && fail "output left for missing packages"
done
expect_exit 2 env PATH="$FAKE/bin:$PATH" FAKE_MISSING=golang-github-pierrec-lz4-dev \
    "$CTXSCALE" data build pd-books --out "$T/work/missing"
expect_err "not installed: golang-github-pierrec-lz4-dev; install them with: sudo apt-get install golang-github-pierrec-lz4-dev "
mkdir "$T/nobin"
expect_exit 2 env PATH="$T/nobin" "$CTXSCALE" data build pd-books --out "$T/work/missing"
expect_err "dpkg-query: not found"
nothing_left "$T/work"
echo "ok"
