# tests/cli/test_data_synth.sh: `ctxscale data synth`: the files of a data set, determinism,
# documents independent of --docs, refusal to overwrite, bad input with exit 2 and nothing
# written. Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

if ! "$CTXSCALE" data synth --help >"$OUT" 2>"$ERR"; then
    echo "skipped: this build has no 'ctxscale data synth'"
    exit 77
fi
expect_out "--floor-docs"
expect_out "--out DIR"

size() { stat -c %s "$1"; }
SMALL=(--doc-len 300 --vocab 300 --seed 3 --floor-docs 20 --bins-per-octave 2)

# A data set: the store files and synth.json, uint16 ids, a floor table on stdout.
expect_exit 0 "$CTXSCALE" data synth --docs 6 --val-frac 0.34 "${SMALL[@]}" --out "$T/a"
expect_out "4 train + 2 val documents of 300 tokens"
expect_out "Bayes-optimal loss floor"
for f in tokens.bin docs.bin store.json synth.json; do
    [ -s "$T/a/$f" ] || fail "$T/a/$f missing or empty"
done
[ "$(size "$T/a/tokens.bin")" -eq 3600 ] || fail "tokens.bin: $(size "$T/a/tokens.bin") bytes, expected 3600"
grep -q '"format": "ctxscale-token-store"' "$T/a/store.json" || fail "store.json format"
grep -q '"token_dtype": "uint16"' "$T/a/store.json" || fail "store.json: uint16 expected"
if command -v python3 >/dev/null 2>&1; then
    python3 - "$T/a/synth.json" <<'EOF' || fail "synth.json content"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["params"]["vocab"] == 300 and j["params"]["seed"] == 3, j["params"]
assert j["docs"]["train"] == 4 and j["docs"]["val"] == 2
fl = j["floor"]
assert fl["docs"] == 20 and len(fl["mean"]) == 300 and len(fl["se"]) == 300
e = fl["bins"]["edges"]
assert e[0] == 1 and e[-1] == 301 and len(fl["bins"]["mean"]) == len(e) - 1
assert all(a < b for a, b in zip(e, e[1:]))
assert abs(fl["mean"][0] - j["base_entropy"]) < 1.0   # position 1: about the base entropy
EOF
fi

# Same arguments, same bytes; more documents extend fewer (no val split to shift them).
expect_exit 0 "$CTXSCALE" data synth --docs 6 --val-frac 0.34 "${SMALL[@]}" --out "$T/b"
cmp -s "$T/a/tokens.bin" "$T/b/tokens.bin" || fail "same seed gave different tokens"
cmp -s "$T/a/synth.json" "$T/b/synth.json" || fail "same seed gave a different synth.json"
expect_exit 0 "$CTXSCALE" data synth --docs 3 --val-frac 0 "${SMALL[@]}" --floor-docs 0 --out "$T/c"
expect_exit 0 "$CTXSCALE" data synth --docs 5 --val-frac 0 "${SMALL[@]}" --floor-docs 0 --out "$T/d"
cmp -s -n 1800 "$T/c/tokens.bin" "$T/d/tokens.bin" || fail "documents depend on --docs"
cmp -s -n 1800 "$T/a/tokens.bin" "$T/d/tokens.bin" || fail "train documents depend on --val-frac"
grep -q '"floor": null' "$T/c/synth.json" || fail "--floor-docs 0 should write \"floor\": null"

# An existing data set is kept without --force and replaced with it.
sum_a=$(cksum < "$T/a/tokens.bin")
expect_exit 2 "$CTXSCALE" data synth --docs 6 "${SMALL[@]}" --seed 4 --out "$T/a"
expect_err "exists; use --force"
[ "$(cksum < "$T/a/tokens.bin")" = "$sum_a" ] || fail "refused run changed the data set"
expect_exit 0 "$CTXSCALE" data synth --docs 6 "${SMALL[@]}" --seed 4 --floor-docs 0 --out "$T/a" --force
[ "$(cksum < "$T/a/tokens.bin")" != "$sum_a" ] || fail "--force did not replace the data set"
mkdir "$T/notstore" && echo keep > "$T/notstore/notes.txt"
expect_exit 2 "$CTXSCALE" data synth --docs 2 "${SMALL[@]}" --out "$T/notstore" --force
expect_err "not a token store"
[ -f "$T/notstore/notes.txt" ] || fail "a directory that is not a store was touched"

# Vocabularies above 65536 are stored as uint32.
expect_exit 0 "$CTXSCALE" data synth --docs 2 --doc-len 10 --vocab 70000 --floor-docs 0 --val-frac 0 --out "$T/big"
[ "$(size "$T/big/tokens.bin")" -eq 80 ] || fail "uint32 tokens.bin: $(size "$T/big/tokens.bin") bytes"

# Bad input: exit 2, the flag named, nothing written.
bad() {
    local needle=$1; shift
    expect_exit 2 "$CTXSCALE" data synth "$@"
    expect_err "$needle"
    [ ! -e "$T/bad" ] || fail "bad input left $T/bad: $*"
}
bad "--vocab" --vocab 1 --out "$T/bad"
bad "--doc-len" --doc-len 0 --out "$T/bad"
bad "--docs" --docs abc --out "$T/bad"
bad "--docs" --docs 0 --out "$T/bad"
bad "--alpha" --alpha -1 --out "$T/bad"
bad "markov" --markov 1 --out "$T/bad"
bad "copy_rate" --copy-rate 1.5 --out "$T/bad"
bad "copy_len" --copy-len 0.5 --out "$T/bad"
bad "--markov-k" --markov-k 0 --out "$T/bad"
bad "val-frac" --docs 4 --val-frac 1 --out "$T/bad"
bad "--floor-estimator" --floor-estimator exact --out "$T/bad"
bad "--floor-docs" --floor-docs 1 --out "$T/bad"
bad "--out DIR is required" --docs 3
bad "unknown option" --frobnicate --out "$T/bad"
ls "$T" | grep -q '\.tmp\.' && fail "temporary directory left behind"
echo ok
