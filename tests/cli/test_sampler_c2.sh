# tests/cli/test_sampler_c2.sh: `ctxscale train --sampler longdoc|packed` and figure C2. On a
# byte-level store of long and short documents: two tiny runs, one per sampler, whose run logs
# record the sampler used and what it did to the windows (packed windows hold document ends,
# longdoc ones none); the config key [data] sampler equal to the flag; bad values exit 2 naming
# the key; --resume with the other sampler refused with the log and checkpoint untouched; C2
# drawn from the two runs (PNG, SVG, PDF, data file, a legend naming sampler and run) and refused
# (exit 2, nothing written) when the runs given are of one sampler only. Run by `make test`.
. "$CS_SRC/tests/cli/lib.sh"

export OPENBLAS_NUM_THREADS=1
CS="$CTXSCALE"

# ---- a corpus: 90 documents, every third 600 to 1200 bytes, the others 30 to 90 -------------
mkdir -p "$T/src"
awk 'BEGIN {
    split("ka to ri mu sen lo pa ve dor qui ax zy el on ist ur", s, " ");
    srand(5);
    for (d = 0; d < 90; d++) {
        f = sprintf("'"$T"'/src/doc%02d.txt", d);
        n = (d % 3 == 0) ? 600 + int(rand() * 600) : 30 + int(rand() * 60); out = "";
        while (length(out) < n) {
            w = ""; k = 1 + int(rand() * 3);
            for (i = 0; i < k; i++) w = w s[1 + int(rand() * 16)];
            out = out w (rand() < 0.1 ? ".\n" : " ");
        }
        printf "%s", out > f; close(f);
    }
}'
expect_exit 0 "$CS" data build "dir:$T/src" --out "$T/corpus" --val-frac 0.2
expect_exit 0 "$CS" data tokenize "$T/corpus" --vocab 256 --threads 1 --out "$T/store"

TINY=(--data "$T/store" --layers 1 --d-model 16 --heads 2 --context 32 --batch-tokens 256
      --tokens 5120 --lr 1e-2 --eval-every 10 --eval-windows 8 --extrap 2 --threads 1 -q)

# config_value RUN KEY: the value of config key KEY in RUN/run.h5 (quotes removed).
config_value() {
    "$CS" runs show "$1/run.h5" > "$T/show" 2>&1 || fail "runs show $1: $(cat "$T/show")"
    awk -v k="$2" '$1 == k && $2 == "=" { v = $3; gsub(/"/, "", v); print v; exit }' "$T/show"
}

# ---- one run per sampler -------------------------------------------------------------------
expect_exit 0 "$CS" train "${TINY[@]}" --out "$T/runs/long"
expect_out "finished 20 steps"
expect_exit 0 "$CS" train "${TINY[@]}" --sampler packed --out "$T/runs/packed"
expect_out "finished 20 steps"
[ "$(config_value "$T/runs/long" sampler)" = longdoc ] || fail "longdoc run: sampler not recorded"
[ "$(config_value "$T/runs/packed" sampler)" = packed ] || fail "packed run: sampler not recorded"

# What the sampler did: longdoc windows lie inside documents; packed ones hold document ends
# (separators), in training batch 0 and in the evaluation windows.
for k in sampler_train_cross_share sampler_eval_cross_share sampler_eval_doc_ends; do
    v=$(config_value "$T/runs/long" "$k")
    [ "$v" = 0 ] || fail "longdoc run: $k = '$v', expected 0"
    v=$(config_value "$T/runs/packed" "$k")
    awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "packed run: $k = '$v', expected > 0"
done
[ "$(config_value "$T/runs/packed" sampler_sep_token)" = 0 ] || fail "no separator recorded"
# The two samplers give other batches, so other losses.
cmp -s <("$CS" runs export "$T/runs/long" --table steps | cut -d, -f8) \
    <("$CS" runs export "$T/runs/packed" --table steps | cut -d, -f8) &&
    fail "longdoc and packed runs have the same training losses"

# The config key is the flag.
printf '[data]\nsampler = packed\n' > "$T/packed.cfg"
expect_exit 0 "$CS" train --config "$T/packed.cfg" "${TINY[@]}" --out "$T/packed-cfg"
cmp <("$CS" runs export "$T/runs/packed" --table steps | cut -d, -f2,3,8-11) \
    <("$CS" runs export "$T/packed-cfg" --table steps | cut -d, -f2,3,8-11) ||
    fail "[data] sampler = packed did not reproduce --sampler packed"

# ---- bad values: exit 2 naming the key, nothing written ------------------------------------
expect_exit 2 "$CS" train "${TINY[@]}" --sampler packd --out "$T/bad1"
expect_err "\[data\] sampler: expected longdoc or packed, got \"packd\""
printf '[data]\nsampler = long\n' > "$T/bad.cfg"
expect_exit 2 "$CS" train --config "$T/bad.cfg" "${TINY[@]}" --out "$T/bad2"
expect_err "bad.cfg:2: \[data\] sampler: expected longdoc or packed"
expect_exit 2 "$CS" train "${TINY[@]}" --set data.sampler=mixture --out "$T/bad3"
expect_err "per-source weights"
for d in bad1 bad2 bad3; do [ ! -e "$T/$d" ] || fail "a refused run wrote $T/$d"; done

# ---- resume with the other sampler: refused, nothing changed; with its own: finishes ----------
expect_exit 0 "$CS" train "${TINY[@]}" --stop-after 4 --out "$T/stopped"
sum=$(md5sum "$T/stopped/run.h5" "$T/stopped/ckpt.bin")
expect_exit 2 "$CS" train "${TINY[@]}" --sampler packed --resume --out "$T/stopped"
expect_err "checkpoint of a run trained with --sampler longdoc; this run asks for --sampler packed"
[ "$(md5sum "$T/stopped/run.h5" "$T/stopped/ckpt.bin")" = "$sum" ] ||
    fail "a refused resume changed $T/stopped"
expect_exit 0 "$CS" train "${TINY[@]}" --sampler longdoc --resume --out "$T/stopped"
expect_out "finished 20 steps"

# ---- figure C2 -----------------------------------------------------------------------------
# Runs of one sampler only: exit 2, nothing drawn.
expect_exit 2 "$CS" plot C2 "$T/runs/long" --out "$T/c2-bad"
expect_err "figure C2 compares runs of both sampler modes"
expect_err "1 longdoc and 0 packed"
expect_err "ctxscale train --sampler packed"
expect_exit 2 "$CS" plot C2 "$T/runs/packed" "$T/packed-cfg" --out "$T/c2-bad"
expect_err "0 longdoc and 2 packed"
[ ! -e "$T/c2-bad" ] || [ -z "$(ls -A "$T/c2-bad")" ] || fail "a refused C2 wrote files"

command -v gnuplot > /dev/null 2>&1 || { echo "gnuplot not installed: C2 drawing skipped"; exit 77; }
expect_exit 0 "$CS" plot C2 "$T/runs" --out "$T/fig"
for ext in png svg pdf dat gp; do
    [ -s "$T/fig/C2.$ext" ] || fail "C2: no C2.$ext"
done
grep -q "^# block .*: longdoc: long (T = 32)" "$T/fig/C2.dat" || fail "C2: no longdoc curve"
grep -q "^# block .*: packed: packed (T = 32)" "$T/fig/C2.dat" || fail "C2: no packed curve"
grep -q "note: runs: 2 of 2 logs" "$T/fig/C2.dat" || fail "C2: note lacks the runs"
grep -q "note: data: .*store; N = " "$T/fig/C2.dat" || fail "C2: note lacks data and scale"
grep -q "document ends per evaluation window, mean: longdoc 0, packed" "$T/fig/C2.dat" ||
    fail "C2: note lacks what the samplers did"
grep -q "natural long documents" "$T/fig/C2.gp" || fail "C2: no longdoc panel title"
# Run logs given one by one instead of a directory.
expect_exit 0 "$CS" plot C2 "$T/runs/long" "$T/runs/packed" --out "$T/fig2"
[ -s "$T/fig2/C2.png" ] || fail "C2 from two files: no PNG"
echo ok
