# tests/cli/test_analyze.sh: `ctxscale analyze` on synthetic sweeps written by
# tests/helpers/analyze_synth.c from a known law: the tables, the CSV files and the JSON, the
# optimal contexts against the helper's truth, --force, runs lacking fields (listed, the rest
# analysed), empty and mixed directories, budgets no run reaches, bad options.
# Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

case "$CS_BUILD" in /*) B=$CS_BUILD ;; *) B=$CS_SRC/$CS_BUILD ;; esac
S=$B/tests/helpers/analyze_synth
[ -x "$S" ] || { echo "skip: $S not built (make test builds it)"; exit 77; }
FAST="--boot 50 --law-boot 5 --threads 2"
SWEEP="--sizes 2,3,4 --contexts 128,256,512,1024,2048 --budgets 1e16 --evals 12"

expect_exit 0 "$CTXSCALE" analyze --help
expect_out "Usage: ctxscale analyze"
expect_out "--out"
expect_out "docs/analysis.md"

mkdir -p "$T/runs"
"$S" "$T/runs" $SWEEP || fail "the helper could not write the sweep"
expect_exit 0 "$CTXSCALE" analyze "$T/runs" $FAST --out "$T/a" --json "$T/a.json"
expect_out "15 run logs, 15 used"
expect_out "best-context loss (nats/token) at C = 1e+16 FLOPs"
expect_out "optimal training context, empirical"
expect_out "ndt law fitted to 15 finished runs"
expect_out "does the average (training) loss pick"
for f in points budgets isoflop ucurve optimal_context optimal_law rankings rankings_summary; do
    [ -s "$T/a/$f.csv" ] || fail "no $f.csv"
done
[ -s "$T/a/law_fit.json" ] || fail "no law_fit.json"
grep -q '"format": "ctxscale-analyze"' "$T/a.json" || fail "JSON lacks its format"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["ucurves"]) == 3' \
        "$T/a.json" || fail "JSON does not parse or lacks the U-curves"
fi
# the fitted law's file is what `ctxscale optimal --fit` reads
expect_exit 0 "$CTXSCALE" optimal --fit "$T/a/law_fit.json" --flops kaplan --budget 1e16
expect_out "1e+16"

# Empirical optimal context per size against the truth: within 3% (the parabola's bias on this
# factor-2 grid is below 2.5%; tests/unit/test_analyze.c checks the exact bound).
"$S" --truth $SWEEP > "$T/truth.txt"
awk -F, 'NR == FNR { split($0, w, " "); if (w[2] != "joint") t[w[3]] = w[4]; next }
         FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
         $c["kind"] == "size" { n++; r = log($c["T_opt"] / t[$c["N"]]);
             if (r > 0.03 || r < -0.03) { print "T* " $c["T_opt"] " truth " t[$c["N"]]; bad = 1 } }
         END { exit bad || n != 3 }' "$T/truth.txt" "$T/a/optimal_context.csv" ||
    fail "empirical optimal contexts off the truth"

# Outputs are not overwritten without --force; JSON alone on stdout with -.
expect_exit 2 "$CTXSCALE" analyze "$T/runs" $FAST --out "$T/a"
expect_err "exists; use --force"
expect_exit 0 "$CTXSCALE" analyze "$T/runs" $FAST --out "$T/a" --force -q
[ ! -s "$OUT" ] || fail "--quiet printed a table"
expect_exit 0 "$CTXSCALE" analyze "$T/runs" $FAST --no-law --json -
expect_out '"ucurves"'
if grep -q 'optimal training context' "$OUT"; then fail "table mixed into JSON on stdout"; fi

# Runs lacking fields are named with the fields, and the others analysed.
"$S" "$T/runs" $SWEEP --sizes 3 --contexts 512 --prefix nosize --drop n || fail "helper"
"$S" "$T/runs" $SWEEP --sizes 3 --contexts 512 --prefix noavg --drop avg || fail "helper"
expect_exit 0 "$CTXSCALE" analyze "$T/runs" $FAST --no-law
expect_out "17 run logs, 16 used"
expect_err "nosize-L3-d192-T512-C1e+16-r0.h5 left out of every analysis: lacks config n_params_nonembed"
expect_err "noavg-L3-d192-T512-C1e+16-r0.h5 left out of the rankings: lacks eval/loss_val"

# Budgets no run reaches.
expect_exit 0 "$CTXSCALE" analyze "$T/runs" $FAST --no-law --budgets 1e16,1e20
expect_err "budget 1e+20 FLOPs: no run reaches it (the largest compute reached is 1e+16 FLOPs"
expect_exit 2 "$CTXSCALE" analyze "$T/runs" $FAST --no-law --budgets 1e20
expect_err "no budget is reached by a run: the largest compute reached is 1e+16 FLOPs"

# Empty, missing and mixed directories.
mkdir -p "$T/empty"
expect_exit 2 "$CTXSCALE" analyze "$T/empty"
expect_err "no run logs"
expect_exit 2 "$CTXSCALE" analyze "$T/nowhere"
expect_err "not a directory"
"$S" "$T/runs" $SWEEP --sizes 2 --contexts 128 --prefix other --data books || fail "helper"
expect_exit 2 "$CTXSCALE" analyze "$T/runs" $FAST --no-law
expect_err "mixed run logs: runs on 2 data sets"
expect_err "choose one with --data NAME"
expect_exit 0 "$CTXSCALE" analyze "$T/runs" $FAST --no-law --data synthetic-ndt
expect_out "(1 on other data sets not read)"
printf 'not a run log' > "$T/runs/zz.h5"
expect_exit 2 "$CTXSCALE" analyze "$T/runs" $FAST --no-law --data synthetic-ndt
expect_err "zz.h5"

# Bad options.
expect_exit 2 "$CTXSCALE" analyze "$T/runs" --unit furlongs
expect_err "--unit: expected auto or nats or bpb"
expect_exit 2 "$CTXSCALE" analyze "$T/runs" --window 0
expect_err "--window"
expect_exit 2 "$CTXSCALE" analyze "$T/runs" --budgets lots
expect_err "--budgets"
expect_exit 2 "$CTXSCALE" analyze "$T/runs" "$T/empty"
expect_err "expected one runs directory"
expect_exit 2 "$CTXSCALE" analyze
expect_err "Try 'ctxscale analyze --help'"
exit 0
