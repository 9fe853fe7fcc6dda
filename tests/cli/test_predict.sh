# tests/cli/test_predict.sh: `ctxscale fit --holdout/--where/--law auto`, `ctxscale compare` and
# `ctxscale predict` on synthetic data from a known law, their JSON, and bad input (a hold-out
# selecting no point or every point, a --where matching nothing, bad points for predict: clear
# message, exit 2). Then Gadre et al.'s runs: the 1.4B and 6.9B models predicted from the small
# ones, skipped when ../shared/data/external is absent. Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

expect_exit 0 "$CTXSCALE" predict --help
expect_out "Usage: ctxscale predict"
expect_exit 0 "$CTXSCALE" compare --help
expect_out "Usage: ctxscale compare"
expect_exit 0 "$CTXSCALE" --help
expect_out "predict"
expect_out "compare"

# chinchilla with E 1.8, A 400, alpha 0.34, B 1100, beta 0.28: 6 sizes x 5 token ratios, 0.3%
# wiggles, and a text column.
awk 'BEGIN { print "N,D,L,set"; for (i = 0; i < 6; i++) for (j = 0; j < 5; j++) {
      N = 1e7 * 3^i; D = N * 5 * 2^j; L = 1.8 + 400 / N^0.34 + 1100 / D^0.28;
      printf "%.6g,%.6g,%.10g,%s\n", N, D, L * (1 + 0.003 * sin(7 * i + 3 * j)), j % 2 ? "odd" : "even" } }' \
    > "$T/runs.csv"
G='alpha=0.2:0.6:3 beta=0.2:0.6:3 e=0:1:2 a=4:8:2 b=5:9:2'

# --holdout: the largest model predicted from the others.
expect_exit 0 "$CTXSCALE" fit "$T/runs.csv" --grid "$G" --holdout 'N > 1e9' -b 50 --threads 2 \
    --json "$T/h.json"
expect_out "held out: N > 1e9: 5 points, predicted by the fit to the other 25"
expect_out "runs.csv:27"
expect_out "inside the 90% interval"
expect_out "|error| (predicted/observed - 1): mean"
grep -q '"holdout"' "$T/h.json" || fail "JSON lacks the holdout part"
grep -q '"where": "N > 1e9"' "$T/h.json" || fail "JSON lacks the holdout predicate"
if command -v python3 >/dev/null 2>&1; then
    python3 - "$T/h.json" <<'EOF' || fail "holdout JSON is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["holdout"]
assert d["data"]["points"] == 25 and len(h["points"]) == 5
assert h["levels"] == [0.5, 0.9] and h["bootstrap"] == 50
for p in h["points"]:
    assert p["x"][0] > 1e9
    assert abs(p["rel_error"] - (p["predicted"] / p["observed"] - 1)) < 1e-12
    assert p["intervals"][1][0] < p["intervals"][0][0] < p["intervals"][0][1] < p["intervals"][1][1]
assert h["summary"]["mean_abs_rel_error"] < 0.01
EOF
fi
# --where with expressions, && and text; --holdout without --bootstrap gets 200 refits.
expect_exit 0 "$CTXSCALE" fit "$T/runs.csv" --grid "$G" --where 'D/N < 50 && set == even' \
    --holdout 'N*D > 1e19' --threads 2
expect_out "9 points (30 rows read, 18 left out by --where, 3 held out by --holdout)"
expect_out "bootstrap: 200 refits"
# predict from the hold-out fit: it remembers the fitted range
expect_exit 0 "$CTXSCALE" predict --fit "$T/h.json" N=2.43e9 D=1.2e10,2.4e10 --levels 0.8
expect_out "80% interval"
expect_out "extrapolating: N 3"
[ "$(grep -c '^ *2.43e+09' "$OUT")" -eq 2 ] || fail "expected 2 predicted points"

# Bad input: clear message, exit 2.
expect_exit 2 "$CTXSCALE" fit "$T/runs.csv" --grid "$G" --holdout 'N > 1e12'
expect_err "holds for none of the 30 points"
expect_exit 2 "$CTXSCALE" fit "$T/runs.csv" --grid "$G" --holdout 'N > 0'
expect_err "holds for all 30 points: none is left to fit"
expect_exit 2 "$CTXSCALE" fit "$T/runs.csv" --grid "$G" --where 'set == none'
expect_err "runs.csv: no rows left after --where"
expect_exit 2 "$CTXSCALE" fit "$T/runs.csv" --grid "$G" --where 'size > 3'
expect_err "no column \"size\""
expect_exit 2 "$CTXSCALE" fit "$T/runs.csv" --holdout 'N >'
expect_err "expected a value after the operator"
expect_exit 2 "$CTXSCALE" fit "$T/runs.csv" --law auto --grid "$G"
expect_err "do not go with --law auto"
expect_exit 2 "$CTXSCALE" fit "$T/runs.csv" --levels 1.5 --holdout 'N > 1e9'
expect_err "between 0 and 1"

# compare: the true law first; JSON; bad input.
expect_exit 0 "$CTXSCALE" compare "$T/runs.csv" --laws kaplan,chinchilla --threads 2 \
    --json "$T/cmp.json"
expect_out "ordered by 6\*N\*D"
grep -E '^ +1  chinchilla ' "$OUT" >/dev/null || fail "chinchilla does not rank first"
grep -q '"best": "chinchilla"' "$T/cmp.json" || fail "JSON best is not chinchilla"
expect_exit 0 "$CTXSCALE" compare "$T/runs.csv" --laws kaplan --law 'L = E + A/N^alpha' \
    --cv largest --by N --no-likelihood --threads 2
expect_out "largest: 25 trained on only, then 1 fold"
expect_out "formula 2: L = E + A/N^alpha"
expect_exit 2 "$CTXSCALE" compare "$T/runs.csv" --laws chinchilla
expect_err "at least two laws"
expect_exit 2 "$CTXSCALE" compare "$T/runs.csv" --laws chinchilla,nope
expect_err "'nope' is not a built-in law"
expect_exit 2 "$CTXSCALE" compare "$T/runs.csv" --laws chinchilla,ndt
expect_err "law ndt: .*runs.csv has no column \"T\""
expect_exit 2 "$CTXSCALE" compare "$T/runs.csv" --laws chinchilla,kaplan --where 'N > 1e12'
expect_err "no rows left after --where"
expect_exit 2 "$CTXSCALE" compare "$T/runs.csv" --laws chinchilla,kaplan --by 'N/N'
expect_err "nothing is left to extrapolate to"
expect_exit 2 "$CTXSCALE" compare "$T/runs.csv" --laws chinchilla,kaplan --cv sideways
expect_err "extrapolate or largest"

# --law auto among two candidates: the winner is fitted and the choice recorded.
expect_exit 0 "$CTXSCALE" fit "$T/runs.csv" --law auto --laws kaplan,chinchilla --threads 2 \
    --json "$T/auto.json"
expect_out "--law auto: chinchilla, the lowest mean extrapolation error of 2 laws"
expect_out "law:     chinchilla"
grep -q '"selection"' "$T/auto.json" || fail "JSON lacks the selection"
grep -q '"name": "chinchilla"' "$T/auto.json" || fail "JSON law is not chinchilla"

# predict: JSON on stdout, no bootstrap warning, bad points.
expect_exit 0 "$CTXSCALE" fit "$T/runs.csv" --grid "$G" --json "$T/nb.json" -q
expect_exit 0 "$CTXSCALE" predict --fit "$T/nb.json" N=1e9 D=2e10
expect_out "warning: the fit has no bootstrap samples"
expect_exit 0 "$CTXSCALE" predict --fit "$T/auto.json" N=1e9 D=2e10 --json -
expect_out '"format": "ctxscale-predict"'
if grep -q '^law:' "$OUT"; then fail "table mixed into JSON on stdout"; fi
expect_exit 2 "$CTXSCALE" predict --fit "$T/auto.json" N=1e9
expect_err "no value for the law variable D"
expect_exit 2 "$CTXSCALE" predict --fit "$T/auto.json" N=1e9 D=2e10 T=4
expect_err "T is not a variable of the fitted law"
expect_exit 2 "$CTXSCALE" predict --fit "$T/auto.json" N=1e9,2e9 D=1e10,2e10,3e10
expect_err "N has 2 values, another variable 3"
expect_exit 2 "$CTXSCALE" predict --fit "$T/auto.json" N=1e9 D=abc
expect_err "D: expected a number"
expect_exit 2 "$CTXSCALE" predict --fit "$T/runs.csv" N=1e9 D=1e10
expect_err "malformed JSON"
expect_exit 2 "$CTXSCALE" predict N=1e9
expect_err "give the fit with --fit FILE"
expect_exit 2 "$CTXSCALE" predict --fit "$T/auto.json" N=1e9 D=1e10 --json "$T/auto.json"
expect_err "exists"

# Gadre et al. 2024: fit their law to the runs below 1e9 parameters of one training set and
# evaluation set, predict the 1.4B and 6.9B runs; compare with chinchilla on the same points.
E="$CS_SRC/../shared/data/external/gadre2024-overtraining/loss_evals.csv"
[ -f "$E" ] || E=/work/shared/data/external/gadre2024-overtraining/loss_evals.csv
if [ -f "$E" ]; then
    expect_exit 0 "$CTXSCALE" fit "$E" --law gadre-overtrain --map C=flops_6ND \
        --map M=tokens_per_param --map L=eval_loss \
        --where 'eval_set == c4_val && train_dataset == rw_original' --holdout 'params > 1e9' \
        --threads 2
    expect_out "held out: params > 1e9: 3 points, predicted by the fit to the other 32"
    mean=$(sed -n 's/.*|error| (predicted\/observed - 1): mean \([0-9.]*\)%.*/\1/p' "$OUT")
    awk -v m="$mean" 'BEGIN { exit !(m != "" && m < 2) }' || fail "held-out error ${mean}% >= 2%"
    expect_exit 0 "$CTXSCALE" compare "$E" --laws gadre-overtrain,chinchilla --map N=params \
        --map D=train_tokens --map C=flops_6ND --map M=tokens_per_param --map L=eval_loss \
        --where 'eval_set == c4_val && train_dataset == rw_original' --threads 2
    expect_out "35 points of"
    expect_out "gadre-overtrain"
else
    echo "shared data absent: Gadre et al. runs skipped"
fi
echo ok
