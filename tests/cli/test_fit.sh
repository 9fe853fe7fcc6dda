# tests/cli/test_fit.sh: `ctxscale fit` — CSV and run-log input, the table and the JSON result,
# --force, and each kind of bad input with its message and exit status. The published-data run
# is skipped when ../shared/data/external is absent. Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

expect_exit 0 "$CTXSCALE" fit --help
expect_out "Usage: ctxscale fit"
expect_out "--bootstrap"

# A power law in x with 0.1% wiggles, and a run column for grouped resampling.
awk 'BEGIN { print "x,loss,run"; for (i = 0; i < 40; i++) { x = 1000 * 1.3^i;
      printf "%.17g,%.17g,r%d\n", x, 2.5 * x^-0.3 * (1 + 0.001 * sin(i)), i % 8 } }' > "$T/p.csv"
expect_exit 0 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --threads 2
expect_out "law:     power: L = a\*x^b"
expect_out "40 points"
expect_out "parameter"
grep -E '^  b +-0\.(29|30)' "$OUT" >/dev/null || fail "b not near -0.3"

# JSON: written, refused without --force, replaced with it, and on stdout with "-".
expect_exit 0 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss -b 20 --group run \
    --json "$T/fit.json" -q
[ -s "$T/fit.json" ] || fail "no JSON written"
grep -q '"format": "ctxscale-fit"' "$T/fit.json" || fail "JSON lacks its format"
grep -q '"by_group": true' "$T/fit.json" || fail "JSON lacks by_group"
[ ! -s "$OUT" ] || fail "--quiet printed something"
expect_exit 2 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --json "$T/fit.json"
expect_err "exists"
expect_exit 0 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --json "$T/fit.json" --force
expect_exit 0 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --json -
expect_out '"parameters"'
if grep -q '^law:' "$OUT"; then fail "table mixed into JSON on stdout"; fi
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"] == 1' \
        "$T/fit.json" || fail "JSON does not parse"
fi

# Methods and a formula with a derived column.
expect_exit 0 "$CTXSCALE" fit "$T/p.csv" --law 'L = A*z^b' --derive 'z=x/1000' --map L=loss \
    --positive A --grid 'A=0.1:10:3 b=-1:0:3' --method lsq
expect_out "s.e. (asym.)"
expect_exit 0 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --method huber-lik --delta 1.345
expect_out "Huber NLL"

# Bad input, each with a clear message and exit 2.
expect_exit 2 "$CTXSCALE" fit "$T/p.csv" --law 'L = a*x^' --map L=loss
expect_err "law: 1:9"
expect_err "\^"
expect_exit 2 "$CTXSCALE" fit "$T/p.csv" --law chinchilla --map L=loss
expect_err "has no column \"N\""
printf 'x,loss\n10,1\n0,2\n30,3\n40,4\n' > "$T/zero.csv"
expect_exit 2 "$CTXSCALE" fit "$T/zero.csv" --law power --map L=loss
expect_err "zero.csv:3: column \"x\" (x): expected a positive number, got 0"
printf 'x,loss\n10,1\n20,-2\n30,3\n' > "$T/neg.csv"
expect_exit 2 "$CTXSCALE" fit "$T/neg.csv" --law power --map L=loss
expect_err "neg.csv:3: column \"loss\" (L)"
head -3 "$T/p.csv" > "$T/two.csv"
expect_exit 2 "$CTXSCALE" fit "$T/two.csv" --law power --map L=loss
expect_err "2 data points cannot determine 2 coefficients"
expect_exit 2 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --grid 'zeta=1:2:3'
expect_err "zeta"
expect_exit 2 "$CTXSCALE" fit "$T/p.csv" --law 'L = exp(k*x)' --map L=loss --grid 'k=1:2:3'
expect_err "overflow"
expect_exit 2 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --method nope
expect_err "huber, lsq or huber-lik"
expect_exit 2 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --group run
expect_err "only matters with --bootstrap"
expect_exit 2 "$CTXSCALE" fit
expect_err "give one CSV file"
expect_exit 2 "$CTXSCALE" fit "$T/nonexistent.csv"
expect_err "nonexistent.csv: cannot open"
# No start converges: exit 1, saying what was tried.
expect_exit 1 "$CTXSCALE" fit "$T/p.csv" --law power --map L=loss --max-iter 1
expect_err "none of the 25 starts converged within 1 iterations"
expect_err "grid a=0.0001:10000:5 b=-1:1:5"

# A directory of run logs.
awk 'BEGIN { print "run,step,config.nparams,loss_train"; for (i = 0; i < 8; i++) {
      n = 1e6 * 2^i; printf "r%d,1,%g,%.17g\n", i, n, 2.5 * n^-0.1 * (1 + 0.001 * sin(i)) } }' \
    > "$T/runs.csv"
expect_exit 0 "$CTXSCALE" runs import "$T/runs.csv" --out "$T/runs"
expect_exit 0 "$CTXSCALE" fit "$T/runs" --law 'L = a*N^b' --map N=nparams --map L=loss_train \
    --positive a --grid 'a=0.1:10:3 b=-1:0:3'
expect_out "8 points"
mkdir -p "$T/empty"
expect_exit 2 "$CTXSCALE" fit "$T/empty" --law power
expect_err "no run logs"

# Epoch's data, Hoffmann et al.'s Approach 3 (when the shared data are there).
E="$CS_SRC/../shared/data/external/epoch-analyzing-chinchilla/svg_extracted_data.csv"
[ -f "$E" ] || E=/work/shared/data/external/epoch-analyzing-chinchilla/svg_extracted_data.csv
if [ -f "$E" ]; then
    expect_exit 0 "$CTXSCALE" fit "$E" --map N='Model Size' --map C='Training FLOP' \
        --map L=loss --derive 'D=C/(6*N)' --drop-top 5 -b 10 --budget 5.76e23 \
        --grid 'alpha=0:2:3 beta=0:2:3 e=-1:1:3 a=0:25:3 b=0:25:3'
    expect_out "240 points (245 rows read, 5 with the largest L dropped)"
    expect_out "Nopt_5p76e23"
else
    echo "shared data absent: Epoch run skipped"
fi
echo ok
