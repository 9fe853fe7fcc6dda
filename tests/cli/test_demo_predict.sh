# tests/cli/test_demo_predict.sh: scripts/predict-largest.sh, the demo's "predict the largest run
# before training it", on a tiny sweep of 12 runs on the synthetic language (seconds): the largest
# run (most planned FLOPs) is left out of the fit and trained after the prediction, the CSV has
# the report's exact columns with the prediction of `ctxscale predict` and the observed loss of
# the run log, and a second call, a PRED_DIR that exists or bad arguments exit 2. Run by
# `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

PL=$CS_SRC/scripts/predict-largest.sh
expect_exit 0 "$CTXSCALE" data synth --docs 120 --doc-len 129 --vocab 64 --floor-docs 0 \
    --out "$T/synth"
cat > "$T/tiny.cfg" <<EOF
seed = 1
[model]
layers = 1
d_model = 8, 16, 24
heads = 2
[data]
corpus = $T/synth
context = 16, 32
[train]
tokens = 4096, 12288
batch_tokens = 512
lr = 1e-2
[eval]
every = 4
windows = 8
extrap = 2
[sweep]
name = tiny
paired = model.d_model, eval.windows
EOF
# eval.windows is paired with d_model and overridden on the command line, so the runs differ in a
# key besides the four of their names (l, d, T, D) and the --set options reach every sweep call.
export PREDICT_BOOT=20 PREDICT_THREADS=1 PREDICT_JOBS=2
expect_exit 0 bash "$PL" "$T/tiny.cfg" "$T/runs" "$T/pred" --set eval.windows=8,12,16
P=$T/pred
L=l1-d24-T32-D12288-ew16
expect_out "The largest run of the sweep, $L (N = 7272, D = 12288, T = 32)"
a=$(grep -n "^Prediction of $L before training it" "$OUT" | cut -d: -f1)
b=$(grep -n '^Now the largest run' "$OUT" | cut -d: -f1)
[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "the prediction is not printed before training"
[ "$P/predict.json" -ot "$T/runs/$L/run.h5" ] || fail "predict.json is not older than the run log"
# The fit saw every evaluation of the 11 other runs and none of the largest run's.
runs=$(awk -F, 'NR > 1 { print $1 }' "$P/points.csv" | sort -u)
[ "$(echo "$runs" | wc -l)" -eq 11 ] || fail "points.csv: not the 11 other runs: $runs"
echo "$runs" | grep -q "^$L" && fail "points.csv holds the largest run"
np=$(($(wc -l < "$P/points.csv") - 1))
grep -q "\"points\": $np," "$P/fit.json" || fail "the fit did not use the $np points of points.csv"
expect_exit 0 "$CTXSCALE" runs list "$T/runs" --csv
[ "$(awk -F, 'NR > 1 && $2 == "finished"' "$OUT" | wc -l)" -eq 12 ] || fail "not 12 finished runs"
grep -q "ew12/run.h5" "$OUT" || fail "--set eval.windows did not reach the runs"

# The CSV: the report's columns, one row, the prediction of `ctxscale predict`, the observed
# loss_val of the run log, intervals in order, rel_error = predicted / observed - 1.
csv=$P/largest.csv
[ "$(head -1 "$csv")" = "run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed,rel_error" ] ||
    fail "$csv: header $(head -1 "$csv")"
[ "$(wc -l < "$csv")" -eq 2 ] || fail "$csv: expected one row"
expect_exit 0 "$CTXSCALE" runs list "$T/runs/$L" --csv
obs=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["loss_val"] }' "$OUT")
pj=$(awk '/"predicted":/ { v = $2; sub(/,$/, "", v); print v }' "$P/predict.json")
awk -F, -v obs="$obs" -v pj="$pj" -v L="$L" 'NR == 2 {
    ok = $1 == L && $2 == 7272 && $3 == 12288 && $4 == 32
    ok = ok && $5 > 0 && $9 > 0 && $8 <= $6 && $6 <= $7 && $7 <= $9
    ok = ok && (($5 - pj) / pj) ^ 2 < 1e-10 && (($10 - obs) / obs) ^ 2 < 1e-16
    ok = ok && ($11 - ($5 / $10 - 1)) ^ 2 < 1e-10
    exit !ok }' "$csv" || fail "$csv: $(tail -1 "$csv") (observed $obs, predict.json $pj)"
grep -q "interval" "$P/predict.txt" || fail "no prediction table in $P/predict.txt"

# Not blind any more: the largest run is trained, so a new prediction over these runs is refused.
expect_exit 2 bash "$PL" "$T/tiny.cfg" "$T/runs" "$T/pred2" --set eval.windows=8,12,16
expect_err "already in"
expect_exit 2 bash "$PL" "$T/tiny.cfg" "$T/runs2" "$P"
expect_err "exists"
expect_exit 2 bash "$PL" "$T/tiny.cfg" "$T/runs2"
expect_err "usage"
expect_exit 2 bash "$PL" "$T/tiny.cfg" "$T/runs2" "$T/pred3" --jobs 2
expect_err "only --set"
[ ! -e "$T/runs2" ] || fail "a refused call created $T/runs2"
echo ok
