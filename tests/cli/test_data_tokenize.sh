#!/usr/bin/env bash
# tests/cli/test_data_tokenize.sh: `ctxscale data tokenize` and `ctxscale data stats` on a small
# corpus built with `data build dir:`: training BPE and reusing its file (same tokens), the byte
# tokenizer, uint16/uint32 ids, bad input (vocabulary below 256 or above what the ids allow, no
# --vocab or --tokenizer, an existing --out, a missing corpus) giving exit 2 and nothing written;
# stats printing totals, documents >= T, the longdoc view and the histogram TSV, and its bad
# input (no document long enough for L_max, a context above L_max, an existing --out). Run by
# `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

# nothing_left DIR: DIR holds no temporary or aside directories of a store.
nothing_left() {
    if ls -a "$1" | grep -q -e '\.tmp\.' -e '\.old\.'; then fail "leftovers in $1: $(ls -a "$1")"; fi
}
# json_int FILE KEY: the first integer value of "KEY" in FILE.
json_int() { grep -m1 "\"$2\":" "$1" | tr -dc '0-9'; }

# ---- a corpus: 12 documents of 300 to ~60000 bytes ----------------------------------------
mkdir -p "$T/src"
awk 'BEGIN {
    split("ka to ri mu sen lo pa ve dor qui ax zy el on ist ur", s, " ");
    srand(3);
    for (d = 0; d < 12; d++) {
        f = sprintf("'"$T"'/src/doc%02d.txt", d);
        n = int(300 * 1.6 ^ d); out = "";
        while (length(out) < n) {
            w = ""; k = 1 + int(rand() * 3);
            for (i = 0; i < k; i++) w = w s[1 + int(rand() * 16)];
            out = out w (rand() < 0.1 ? ".\n" : " ");
        }
        printf "%s", out > f; close(f);
    }
}'
expect_exit 0 "$CTXSCALE" data build "dir:$T/src" --out "$T/corpus" --val-frac 0.2
bytes=$(json_int "$T/corpus/manifest.json" bytes)
[ -n "$bytes" ] && [ "$bytes" -gt 100000 ] || fail "corpus too small: $bytes bytes"

# ---- usage and bad input: exit 2, nothing written ------------------------------------------
expect_exit 0 "$CTXSCALE" data tokenize --help
expect_out "--tokenizer"
expect_exit 0 "$CTXSCALE" data stats --help
expect_out "--contexts"
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --out "$T/bad"
expect_err "give --vocab V to train a tokenizer or --tokenizer FILE"
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --vocab 300
expect_err "out DIR is required"
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --vocab 100 --out "$T/bad"
expect_err "vocabulary size 100 is below 256"
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --vocab 70000 --dtype uint16 --out "$T/bad"
expect_err "vocabulary size 70000 is above the limit 65536"
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --vocab 2000000 --out "$T/bad"
expect_err "above the limit"
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --vocab 300 --dtype int8 --out "$T/bad"
expect_err "expected uint16, uint32 or auto"
expect_exit 2 "$CTXSCALE" data tokenize "$T/nope" --vocab 300 --out "$T/bad"
expect_err "nope"
# The corpus runs out of pairs long before 60000 merges: the message says how many it allows.
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --vocab 60000 --out "$T/bad"
expect_err "allows only"
[ -e "$T/bad" ] && fail "output left after bad input"
nothing_left "$T"

# ---- train, reuse, byte-level --------------------------------------------------------------
expect_exit 0 "$CTXSCALE" data tokenize "$T/corpus" --vocab 400 --threads 2 --out "$T/v400"
expect_out "trained BPE: vocabulary 400"
expect_out "bytes/token"
expect_out "MB/s"
for f in tokens.bin docs.bin tokenizer.bpe store.json; do
    [ -s "$T/v400/$f" ] || fail "v400/$f missing"
done
grep -q '"token_dtype": "uint16"' "$T/v400/store.json" || fail "v400 ids are not uint16"
tokens=$(json_int "$T/v400/store.json" tokens)
[ "$(stat -c %s "$T/v400/tokens.bin")" -eq $((2 * tokens)) ] || fail "tokens.bin size"
[ "$tokens" -lt "$bytes" ] || fail "BPE did not compress: $tokens tokens for $bytes bytes"
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --vocab 400 --out "$T/v400"
expect_err "exists; use --force"
# Reusing the trained file gives the same tokens; one thread gives the same bytes as two.
expect_exit 0 "$CTXSCALE" data tokenize "$T/corpus" --tokenizer "$T/v400/tokenizer.bpe" \
    --threads 1 --out "$T/reuse"
cmp -s "$T/v400/tokens.bin" "$T/reuse/tokens.bin" || fail "reused tokenizer gave other tokens"
cmp -s "$T/v400/docs.bin" "$T/reuse/docs.bin" || fail "reused tokenizer gave another index"
# A prefix of the vocabulary, stored as uint32 on request, replacing the store (--force).
expect_exit 0 "$CTXSCALE" data tokenize "$T/corpus" --tokenizer "$T/v400/tokenizer.bpe" \
    --vocab 300 --dtype uint32 --out "$T/reuse" --force
grep -q '"vocab": 300' "$T/reuse/store.json" || fail "cap not applied"
tokens=$(json_int "$T/reuse/store.json" tokens)
[ "$(stat -c %s "$T/reuse/tokens.bin")" -eq $((4 * tokens)) ] || fail "uint32 tokens.bin size"
expect_exit 2 "$CTXSCALE" data tokenize "$T/corpus" --tokenizer "$T/v400/tokenizer.bpe" \
    --vocab 500 --out "$T/bad"
expect_err "vocabulary cap 500"
# Bytes: one token per byte.
expect_exit 0 "$CTXSCALE" data tokenize "$T/corpus" --vocab 256 --out "$T/bytes"
[ "$(json_int "$T/bytes/store.json" tokens)" -eq "$bytes" ] || fail "byte store: tokens != bytes"
nothing_left "$T"

# ---- stats ---------------------------------------------------------------------------------
expect_exit 0 "$CTXSCALE" data stats "$T/bytes" --contexts 1000,10000 --split all \
    --out "$T/hist.tsv" --lmax 10000
expect_out "bytes/token"
expect_out "1.0000"
expect_out "documents with at least T tokens"
expect_out "longdoc view, L_max = 10000"
expect_out "document lengths"
head -1 "$T/hist.tsv" | grep -q "^lo	hi	docs	tokens	docs_frac	tokens_frac$" || fail "TSV header"
sum=$(awk -F'\t' 'NR > 1 {d += $3; t += $4} END {print d, t}' "$T/hist.tsv")
[ "$sum" = "12 $bytes" ] || fail "histogram sums: $sum, expected 12 $bytes"
# Bins are [lo, hi) and contiguous from 0.
awk -F'\t' 'NR == 2 && $1 != 0 {exit 1} NR > 2 && $1 != prev {exit 1} {prev = $2}' \
    "$T/hist.tsv" || fail "histogram bins not contiguous"
# docs >= 10000 bytes, counted from the sources directly.
want=$(for f in "$T"/src/*; do [ "$(stat -c %s "$f")" -ge 10000 ] && echo; done | wc -l)
grep -E "^ +10000 +$want " "$OUT" >/dev/null || fail "docs >= 10000: expected $want"
expect_exit 2 "$CTXSCALE" data stats "$T/bytes" --out "$T/hist.tsv"
expect_err "exists; use --force"
expect_exit 0 "$CTXSCALE" data stats "$T/v400" --out - --bins 2
head -1 "$OUT" | grep -q "^lo	hi" || fail "--out - does not write the TSV alone"
expect_exit 2 "$CTXSCALE" data stats "$T/v400" --lmax 1000000
expect_err "no document has the 1000001 tokens a row of L_max = 1000000 needs"
expect_err "the longest has"
expect_exit 2 "$CTXSCALE" data stats "$T/v400" --lmax 64 --contexts 128
expect_err "context T = 128 is larger than L_max = 64"
expect_exit 2 "$CTXSCALE" data stats "$T/v400" --contexts 12,x
expect_exit 2 "$CTXSCALE" data stats "$T/corpus"
expect_err "docs.bin"
# A truncated tokens.bin is named.
cp -r "$T/v400" "$T/trunc"
truncate -s -2 "$T/trunc/tokens.bin"
expect_exit 2 "$CTXSCALE" data stats "$T/trunc"
expect_err "tokens.bin: .* bytes; the index needs"
# Stores written by `data synth` read the same way.
expect_exit 0 "$CTXSCALE" data synth --docs 10 --doc-len 300 --vocab 64 --floor-docs 0 \
    --out "$T/synth"
expect_exit 0 "$CTXSCALE" data stats "$T/synth" --contexts 300,301
grep -E "^ +300 +[0-9]+ " "$OUT" >/dev/null || fail "synth store stats"
echo ok
