# tests/cli/test_alloc.sh: `ctxscale isoflop`, `ctxscale envelope` and `ctxscale optimal` —
# synthetic sweeps from a known Chinchilla law, bad input (exit 2 with clear messages), the JSON
# outputs, and the published data sets under ../shared/data/external when they are there.
# Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

# json_get FILE EXPR: prints a value of the JSON file (python3), or "skip" without python3.
json_get() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
    else
        echo skip
    fi
}
# in_range VALUE LO HI: true when LO < VALUE < HI (or VALUE is "skip").
in_range() { [ "$1" = skip ] || awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN{exit !(v>lo && v<hi)}'; }

# ---- a synthetic IsoFLOP sweep: L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28, D = C/(6N) --------
awk 'BEGIN {
    print "model_size,compute,tokens,final_loss";
    G = (0.34 * 406.4 / (0.28 * 410.7)) ^ (1 / 0.62);
    for (b = 0; b < 7; b++) {
        C = 10 ^ (18 + 4 * b / 6);
        nopt = G * (C / 6) ^ (0.28 / 0.62);
        for (i = 0; i < 9; i++) {
            N = nopt * 16 ^ (i / 8 - 0.5); D = C / (6 * N);
            printf "%.10g,%.10g,%.10g,%.10g\n", N, C, D, 1.69 + 406.4 / N ^ 0.34 + 410.7 / D ^ 0.28;
        }
    }
}' > "$T/sweep.csv"
MAPS="--map N=model_size --map C=compute --map D=tokens --map L=final_loss"

expect_exit 0 "$CTXSCALE" isoflop "$T/sweep.csv" $MAPS --boot 200 --json "$T/iso.json"
expect_out "7 budgets (7 used)"
expect_out "N_opt = k C^a: a = 0.45"
a=$(json_get "$T/iso.json" "d['N_opt']['exponent']")
in_range "$a" 0.4466 0.4566 || fail "isoflop exponent $a, expected 0.4516 +- 0.005"
n=$(json_get "$T/iso.json" "len(d['budgets'])")
[ "$n" = skip ] || [ "$n" = 7 ] || fail "JSON lists $n budgets"
# The JSON file is not overwritten without --force; with --json - only JSON goes to stdout.
expect_exit 2 "$CTXSCALE" isoflop "$T/sweep.csv" $MAPS --boot 0 --json "$T/iso.json"
expect_err "exists; use --force"
expect_exit 0 "$CTXSCALE" isoflop "$T/sweep.csv" $MAPS --boot 0 --json - --force
head -c 1 "$OUT" | grep -q '{' || fail "--json - did not print JSON first"
# Explicit budgets group the same points.
expect_exit 0 "$CTXSCALE" isoflop "$T/sweep.csv" $MAPS --boot 0 \
    --budgets 1e18:1e22:7 --tol 0.01
expect_out "7 budgets (7 used)"

# ---- bad input: exit 2 and a message that names the problem ------------------------------
head -n 3 "$T/sweep.csv" > "$T/few.csv"                      # one budget of 2 points
expect_exit 2 "$CTXSCALE" isoflop "$T/few.csv" $MAPS --budgets 1e18
expect_err "budget 1e+18: 2 points"
expect_err "at least 3"
sed '5s/^[0-9.e+]*,/-5,/' "$T/sweep.csv" > "$T/neg.csv"     # N <= 0 on line 5
expect_exit 2 "$CTXSCALE" isoflop "$T/neg.csv" $MAPS
expect_err "neg.csv:5: N (column \"model_size\") = -5: expected a positive number"
expect_exit 2 "$CTXSCALE" isoflop "$T/sweep.csv" --map N=model_size --map C=compute
expect_err "no column \"L\""
expect_exit 2 "$CTXSCALE" isoflop "$T/sweep.csv" $MAPS --budgets 1e18,abc
expect_err "--budgets"
expect_exit 2 "$CTXSCALE" isoflop "$T/sweep.csv" $MAPS --min-points 2
expect_err "min_points"
expect_exit 2 "$CTXSCALE" isoflop
expect_err "expected one input file"
expect_exit 2 "$CTXSCALE" isoflop "$T/missing.csv"   # no such file: bad input, exit 2
expect_err "missing.csv: cannot open"
expect_err "cannot open"
# Every budget's minimum at the edge: too few budgets left, each one's problem named.
awk -F, 'NR == 1 || (NR - 2) % 9 < 3' "$T/sweep.csv" > "$T/edge.csv"
expect_exit 2 "$CTXSCALE" isoflop "$T/edge.csv" $MAPS --boot 0
expect_err "at least 2 are needed"
expect_err "1e+18: edge"
# One budget at the edge among good ones: warned and skipped.
awk -F, 'NR == 1 || NR > 10 || (NR - 2) % 9 < 3' "$T/sweep.csv" > "$T/edge1.csv"
expect_exit 0 "$CTXSCALE" isoflop "$T/edge1.csv" $MAPS --boot 0
expect_err "warning: budget 1e+18 (3 points): its minimum lies outside the sampled N; skipped"
expect_out "7 budgets (6 used)"

# ---- envelope: trajectories of the same law ------------------------------------------------
awk 'BEGIN {
    print "name,n,c,l";
    for (k = 0; k < 30; k++) {
        N = 1e6 * 1.35 ^ k;
        for (t = 0; t < 60; t++) {
            D = N * 10 ^ (-2 + 6 * t / 59);
            L = 1.69 + 406.4 / N ^ 0.34 + 410.7 / D ^ 0.28;
            printf "r%d,%.10g,%.10g,%.10g\n", k, N, 6 * N * D, L;
        }
    }
}' > "$T/traj.csv"
EMAPS="--map run=name --map N=n --map C=c --map L=l"
expect_exit 0 "$CTXSCALE" envelope "$T/traj.csv" $EMAPS --range 1e17:1e21 --boot 100 \
    --json "$T/env.json"
expect_out "30 runs"
expect_out "run on the envelope"
a=$(json_get "$T/env.json" "d['N_opt']['exponent']")
in_range "$a" 0.4416 0.4616 || fail "envelope exponent $a, expected 0.4516 +- 0.01"
expect_exit 2 "$CTXSCALE" envelope "$T/traj.csv" --map N=n --map C=c --map L=l
expect_err "no run column"
expect_exit 2 "$CTXSCALE" envelope "$T/traj.csv" $EMAPS --range 1e21:1e17
expect_err "LO < HI"
expect_exit 2 "$CTXSCALE" envelope "$T/sweep.csv" $MAPS --map run=final_loss
expect_err "no run has 2 points"

# ---- optimal: a law given by its parameters ------------------------------------------------
CHIN="--law chinchilla --params e=0.524729,a=6.007337,alpha=0.34,b=6.017862,beta=0.28"
expect_exit 0 "$CTXSCALE" optimal $CHIN --budget 5.76e23 --json "$T/opt.json"
n=$(json_get "$T/opt.json" "d['budgets'][0]['N']")
in_range "$n" 3.20e10 3.24e10 || fail "chinchilla at 5.76e23: N* = $n, expected 3.22e10"
cf=$(json_get "$T/opt.json" "d['budgets'][0]['closed_form']")
[ "$cf" = skip ] || [ "$cf" = True ] || fail "closed form not used"
expect_exit 0 "$CTXSCALE" optimal $CHIN --budget 5.76e23 --numeric --json "$T/optn.json"
m=$(json_get "$T/optn.json" "abs(d['budgets'][0]['N'] / $n - 1) < 1e-6")
[ "$m" = skip ] || [ "$m" = True ] || fail "numeric and closed form disagree"
# ndt with attention-aware FLOPs: the optimal context grows with the budget.
NDT="--law ndt --params e=0.47,a=6.007,alpha=0.34,b=6.018,beta=0.28,g=0.405,gamma=0.5"
expect_exit 0 "$CTXSCALE" optimal $NDT --flops kaplan --budget 1e19:1e25:4 --json "$T/ndt.json"
expect_out "T\*"
g=$(json_get "$T/ndt.json" \
    "all(b['T'] > 1.5 * a['T'] for a, b in zip(d['budgets'], d['budgets'][1:]))")
[ "$g" = skip ] || [ "$g" = True ] || fail "optimal T does not grow with budget"
# Without attention in the cost the longest context wins: warned.
expect_exit 0 "$CTXSCALE" optimal $NDT --budget 1e21
expect_err "optimal T lies on the edge"
expect_out "at bound"
# Bad input.
expect_exit 2 "$CTXSCALE" optimal $CHIN --budget 1e21:1e25
expect_err "LO:HI:K"
expect_exit 2 "$CTXSCALE" optimal $CHIN --budget -1e21
expect_exit 2 "$CTXSCALE" optimal --law chinchilla --params e=0.5,a=6 --budget 1e21
expect_err "no value for parameter \"alpha\""
expect_exit 2 "$CTXSCALE" optimal --law chinchilla --params e=0.5,zz=6 --budget 1e21
expect_err "no parameter \"zz\""
expect_exit 2 "$CTXSCALE" optimal $CHIN --budget 1e21 --flops big
expect_err "expected one of 6nd, kaplan, tao"
expect_exit 2 "$CTXSCALE" optimal $CHIN --budget 1e21 --N-range 1e9:1e8
expect_err "LO <= HI"
expect_exit 2 "$CTXSCALE" optimal $CHIN
expect_err "--budget is required"
expect_exit 2 "$CTXSCALE" optimal --law "L = E + A/N^alpha + B/D^" --params E=1 --budget 1e21
expect_err "law: 1:"

# ---- optimal --fit: the JSON of `ctxscale fit`, intervals from its bootstrap samples --------
awk -F, 'NR == 1 {print; next} {printf "%s,%s,%s,%.10g\n", $1, $2, $3, $4 + 0.01 * sin(NR)}' \
    "$T/sweep.csv" > "$T/noisy.csv"
expect_exit 0 "$CTXSCALE" fit "$T/noisy.csv" --map N=model_size --map D=tokens \
    --map L=final_loss --bootstrap 20 --threads 2 --quiet --json "$T/fit.json"
expect_exit 0 "$CTXSCALE" optimal --fit "$T/fit.json" --budget 1e20,1e22 --json "$T/optfit.json"
expect_out "95% intervals over 20 bootstrap samples"
# The law's true optimum at 1e20 FLOPs is N* = 6.45e8 (closed form); noise of 0.01 moves the fit
# by a few percent.
n=$(json_get "$T/optfit.json" "d['budgets'][0]['N']")
in_range "$n" 6.1e8 6.8e8 || fail "optimal --fit: N* = $n at 1e20, expected about 6.45e8"
c=$(json_get "$T/optfit.json" \
    "(lambda b: b['N_ci'][0] < b['N'] < b['N_ci'][1] and b['samples_ok'] == 20)(d['budgets'][0])")
[ "$c" = skip ] || [ "$c" = True ] || fail "optimal --fit: no interval around N*"
printf '{"format": "nope"}\n' > "$T/bad.json"
expect_exit 2 "$CTXSCALE" optimal --fit "$T/bad.json" --budget 1e21
expect_err "bad.json"
expect_exit 2 "$CTXSCALE" optimal --fit "$T/fit.json" --params a=1 --budget 1e21
expect_err "--params goes with --law"
expect_exit 2 "$CTXSCALE" optimal --budget 1e21
expect_err "either --fit FILE or --law"

# ---- published data ------------------------------------------------------------------------
EXT="$CS_SRC/../shared/data/external"
[ -d "$EXT" ] || EXT=/work/shared/data/external
if [ -d "$EXT" ]; then
    # Hoffmann et al. Fig. 4 as digitised by Epoch: the nine IsoFLOP budgets (6e18 .. 3e21)
    # stand out as clusters of 8 or more points within 0.015 in log10 C; the other points are
    # runs of other sweeps. Hoffmann et al. report a = 0.49 (0.462 .. 0.534) for Approach 2.
    expect_exit 0 "$CTXSCALE" isoflop "$EXT/epoch-analyzing-chinchilla/svg_extracted_data.csv" \
        --map N="Model Size" --map C="Training FLOP" --map L=loss --tol 0.015 --min-points 8 \
        --boot 200 --json "$T/epoch.json"
    expect_out "9 budgets (9 used)"
    a=$(json_get "$T/epoch.json" "d['N_opt']['exponent']")
    in_range "$a" 0.45 0.53 || fail "Epoch data: a = $a"
    # Tao et al.'s trajectories: 6 model sizes x 10 vocabularies, negative (unigram) losses.
    expect_exit 0 "$CTXSCALE" envelope "$EXT/tao2024-scaling-with-vocab/exp_data.csv" \
        --map run=Non_vocab_parameters,vocab_size --map N=Non_vocab_parameters --map C=FLOPs \
        --map L=Lossu --boot 50
    expect_out "1200 points in 60 runs"
    expect_out "1129891136/"
    # Gadre et al.: each architecture trained at several token multipliers; the final points of
    # one architecture form its curve. One eval set, one training set.
    expect_exit 0 "$CTXSCALE" envelope "$EXT/gadre2024-overtraining/loss_evals.csv" \
        --where "eval_set == c4_val" --where "train_dataset == rw_original" --map run=arch \
        --map N=params --map C=flops_6ND --map D=train_tokens --map L=eval_loss --boot 50
    expect_out "35 points in 6 runs"
    expect_err "1 run with fewer than 2 points skipped"
else
    echo "note: $EXT absent; published-data checks skipped"
fi
echo ok
