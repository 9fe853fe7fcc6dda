#!/usr/bin/env bash
# scripts/predict-largest.sh: predicts the final loss of a sweep's largest run from its other runs
# before training it, then trains it and compares. Used by scripts/demo.sh; test:
# tests/cli/test_demo_predict.sh (a tiny sweep on the synthetic language).
#
# Usage: scripts/predict-largest.sh SWEEP.cfg RUNS_DIR PRED_DIR [--set SEC.KEY=V ...]
#
#  1. The plan: `ctxscale sweep --dry-run` names every run with its planned FLOPs; the largest
#     run is the one with the most (the last of equals). `ctxscale sweep --emit-slurm` gives every
#     run's exact settings; the largest run's parameters N and tokens D come from
#     `ctxscale train --dry-run` with its settings.
#  2. The other runs are trained by the same sweep with every key that varies between runs given
#     as a paired list of their values, so each run keeps its name and directory; then a dry run
#     checks that only the largest run is left.
#  3. A law L(N, D, T) (PREDICT_LAW, default ndt; docs/laws.md) is fitted to every evaluation
#     of every finished run: each eval row is a point (N, D = tokens seen so far, T, loss), so
#     the law sees D along the trajectories and not only at the sweep's few token budgets (with
#     two budgets, final losses alone leave the D term undetermined). Mid-run points of a cosine
#     schedule have not had their learning rate decayed and lie above the loss of a run that
#     ends there; the runs' final points, the same kind as the prediction's, are in the fit too.
#     PREDICT_BOOT bootstrap refits (default 200) resample whole runs (--group run), since the
#     points of one run are not independent, and `ctxscale predict` gives the largest run's final
#     loss with 50% and 90% prediction intervals. This is printed before the run starts.
#  4. The sweep then trains what is left, the largest run, and the observed loss is compared with
#     the prediction: PRED_DIR/largest.csv holds one row,
#     run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed,rel_error
#     (losses in nats/token; rel_error = predicted / observed - 1, the convention of
#     `ctxscale fit --holdout` and of the report's nb_predict, docs/notebooks.md).
#
# The loss is the validation loss over the positions of the training context (run log column
# loss_val; PREDICT_LOSS=loss_val_best takes the best-context loss instead). PREDICT_LAW may be
# any law in the variables N, D and T.
# Environment: BUILD or CTXSCALE (the binary), PREDICT_JOBS (runs at once, default 2),
# PREDICT_LAW, PREDICT_LOSS, PREDICT_BOOT, PREDICT_SEED (default 1), PREDICT_THREADS (fit
# threads, default 2). RUNS_DIR may hold finished runs of the same sweep (they are kept); PRED_DIR
# must not exist. Exit status 2 for bad arguments, a largest run that is already trained (its
# prediction would not be blind) or a plan this script cannot reproduce; 1 when training fails.
set -euo pipefail
: "${BUILD:=build}"
CS="${CTXSCALE:-$BUILD/ctxscale}"
JOBS="${PREDICT_JOBS:-2}"
LAW="${PREDICT_LAW:-ndt}"
GRID=()
if [ "$LAW" = ndt ]; then
    # The ndt law of docs/laws.md with its starting grid (fit/law.c), each term written as
    # exp(a - alpha*log(N)) rather than exp(a)/N^alpha: the same function, but a fit that drifts
    # to large a and alpha (a term that is a step between the few values of a variable) can still
    # be evaluated by `ctxscale predict` without exp(a) overflowing.
    LAW='L = exp(e) + exp(a - alpha*log(N)) + exp(b - beta*log(D)) + exp(g - gamma*log(T))'
    GRID=(--grid 'alpha=0:2:3 beta=0:2:3 e=-1:1:3 a=0:20:3 b=0:20:3 g=-2:4:3 gamma=0:1:3')
fi
LOSS="${PREDICT_LOSS:-loss_val}"
BOOT="${PREDICT_BOOT:-200}"
SEED="${PREDICT_SEED:-1}"
FIT_THREADS="${PREDICT_THREADS:-2}"

die() {
    echo "predict-largest: $*" >&2
    exit 2
}
[ $# -ge 3 ] || die "usage: scripts/predict-largest.sh SWEEP.cfg RUNS_DIR PRED_DIR [--set SEC.KEY=V ...]"
CFG=$1 RUNS=$2 PRED=$3
shift 3
for a in "$@"; do
    case "$a" in
    --set | --set=* | *=*) ;;
    *) die "unexpected argument '$a': only --set SEC.KEY=V options follow PRED_DIR" ;;
    esac
done
case "$LOSS" in loss_val | loss_val_best) ;; *) die "PREDICT_LOSS: expected loss_val or loss_val_best, got '$LOSS'" ;; esac
[ -x "$CS" ] || die "$CS not found (run make first, or set BUILD or CTXSCALE)"
[ -f "$CFG" ] || die "$CFG: no such sweep config"
[ ! -e "$PRED" ] || die "$PRED exists; give a new directory"
# The plan is made in a temporary directory, moved to PRED_DIR once it is checked.
PLAN=$(mktemp -d "${TMPDIR:-/tmp}/predict-largest.XXXXXX")
trap 'rm -rf "$PLAN"' EXIT

# ---- 1. the plan ---------------------------------------------------------------------------
"$CS" sweep "$CFG" --out "$RUNS" "$@" --dry-run > "$PLAN/plan.txt"
"$CS" sweep "$CFG" --out "$RUNS" "$@" --emit-slurm "$PLAN/plan.sh" > /dev/null
# The dry run's table: name, L, d, H, T, N, D, FLOPs, state; then a summary line.
read -r LARGEST LSTATE < <(awk 'NR > 1 && NF == 9 && $8 + 0 >= best { best = $8 + 0; n = $1; s = $9 }
                                END { print n, s }' "$PLAN/plan.txt")
[ -n "$LARGEST" ] || die "no runs in the plan of $CFG"
NRUNS=$(awk 'NR > 1 && NF == 9' "$PLAN/plan.txt" | wc -l)
[ "$NRUNS" -ge 2 ] || die "the sweep has one run: nothing to predict it from"
[ "$LSTATE" = new ] || die "the largest run $LARGEST is already in $RUNS (state $LSTATE):" \
    "a prediction now would not be blind; use a new RUNS_DIR"

# Every run's settings from the Slurm script: one line per run,
#   N) dir='RUNS/NAME'; set -- '--set' 'KEY=VALUE' ... '--out' 'RUNS/NAME' ;;
# written as NAME<TAB>KEY=VALUE<TAB>... A value holding a quote is not supported.
awk -v q="'" '
    /^[0-9]+\) dir=/ {
        if (index($0, q "\\" q q)) { bad = 1; exit }
        n = split($0, f, q)
        name = f[2]; sub(/.*\//, "", name); line = name
        for (i = 1; i < n; i++)
            if (f[i] == "--set") line = line "\t" f[i + 2]
        print line
    }
    END { exit bad }' "$PLAN/plan.sh" > "$PLAN/settings.tsv" ||
    die "a setting of a run holds a quote; predict-largest.sh cannot reproduce it"
[ "$(wc -l < "$PLAN/settings.tsv")" -eq "$NRUNS" ] ||
    die "the dry run and the Slurm script of the sweep disagree on its runs"

# N and D of the largest run, exactly, from the trainer's dry run with its settings.
largest_sets=()
while IFS= read -r kv; do
    largest_sets+=(--set "$kv")
done < <(awk -F'\t' -v r="$LARGEST" '$1 == r { for (i = 2; i <= NF; i++) print $i }' "$PLAN/settings.tsv")
"$CS" train "${largest_sets[@]}" --out "$PLAN/largest-dry-run" --dry-run > "$PLAN/largest-dry-run.txt"
N=$(awk '/^parameters:/ { for (i = 1; i <= NF; i++) if ($i ~ /^non-embedding/) print $(i - 1) }' \
    "$PLAN/largest-dry-run.txt")
D=$(awk '/planned tokens/ { for (i = 1; i <= NF; i++) if ($i == "tokens") { v = $(i + 1); sub(/;$/, "", v); print v } }' \
    "$PLAN/largest-dry-run.txt")
T=$(awk -F'\t' -v r="$LARGEST" '$1 == r { for (i = 2; i <= NF; i++) if ($i ~ /^data\.context=/) { sub(/^[^=]*=/, "", $i); print $i } }' \
    "$PLAN/settings.tsv")
[ -n "$N" ] && [ -n "$D" ] || die "could not read N and D from the dry run of $LARGEST"
[ -n "$T" ] || T=$(awk -v r="$LARGEST" 'NR > 1 && $1 == r { print $5 }' "$PLAN/plan.txt")

mkdir -p "$PRED"
mv "$PLAN"/* "$PRED"/

# ---- 2. the other runs ---------------------------------------------------------------------
# Keys whose value differs between the other runs, each as one list in plan order, all paired.
others_sets=()
while IFS= read -r kv; do
    others_sets+=(--set "$kv")
done < <(awk -F'\t' -v r="$LARGEST" '
    $1 != r {
        for (i = 2; i <= NF; i++) {
            k = $i; sub(/=.*/, "", k); v = substr($i, length(k) + 2)
            if (!(k in seen)) { seen[k] = 1; keys[nk++] = k; first[k] = v }
            if (v != first[k]) varies[k] = 1
            list[k] = (cnt[k]++ ? list[k] "," v : v)
        }
    }
    END {
        p = ""
        for (j = 0; j < nk; j++) if (keys[j] in varies) { print keys[j] "=" list[keys[j]]; p = p (p == "" ? "" : ",") keys[j] }
        if (p != "") print "sweep.paired=" p
    }' "$PRED/settings.tsv")
echo "The largest run of the sweep, $LARGEST (N = $N, D = $D, T = $T), is trained last."
echo "First the other $((NRUNS - 1)) runs:"
"$CS" sweep "$CFG" --out "$RUNS" "$@" "${others_sets[@]}" --jobs "$JOBS" -q
"$CS" sweep "$CFG" --out "$RUNS" "$@" --dry-run > "$PRED/plan-after.txt"
left=$(awk 'NR > 1 && NF == 9 && $9 != "finished" { print $1 }' "$PRED/plan-after.txt")
[ "$left" = "$LARGEST" ] ||
    die "after training the other runs, the runs left are '${left//$'\n'/ }', expected only" \
        "$LARGEST ($PRED/plan-after.txt); predict-largest.sh cannot reproduce this plan"

# ---- 3. the prediction ---------------------------------------------------------------------
echo
"$CS" runs export "$RUNS" --table eval --config --out "$PRED/points.csv"
echo "Prediction of $LARGEST before training it: law ${PREDICT_LAW:-ndt} fitted to the $LOSS of the" \
    "$(($(wc -l < "$PRED/points.csv") - 1)) evaluations of the $((NRUNS - 1)) finished runs," \
    "$BOOT bootstrap refits over runs"
"$CS" fit "$PRED/points.csv" --law "$LAW" "${GRID[@]}" --map N=config.n_params_nonembed --map D=tokens \
    --map T=config.context --map L="$LOSS" --group run --bootstrap "$BOOT" --seed "$SEED" \
    --threads "$FIT_THREADS" -q --json "$PRED/fit.json" 2> "$PRED/fit.log" || {
    cat "$PRED/fit.log" >&2
    exit 1
}
"$CS" predict --fit "$PRED/fit.json" N="$N" D="$D" T="$T" --levels 0.5,0.9 \
    --json "$PRED/predict.json" | tee "$PRED/predict.txt"
# The table: a header "N D T predicted median 50% interval 90% interval param sd" (one column
# per law variable before "predicted"), then the row, its intervals written [lo, hi].
read -r P LO50 HI50 LO90 HI90 < <(awk '
    !k { for (i = 1; i <= NF; i++) if ($i == "predicted") k = i; next }
    { gsub(/[][,]/, " "); split($0, f, " "); print f[k], f[k + 2], f[k + 3], f[k + 4], f[k + 5]; exit }' \
    "$PRED/predict.txt")
[ -n "${HI90:-}" ] || die "could not read the prediction from $PRED/predict.txt"
nw=$(awk '/"warnings": \[\]/ { exit } /"warnings": \[/ { f = 1; next } f && /^ *\]/ { f = 0 } f { n++ } END { print n + 0 }' "$PRED/fit.json")
if [ "$nw" -gt 0 ]; then
    echo "(the fit has $nw warnings, listed in $PRED/fit.json: parameters the runs do not determine;"
    echo "the interval above carries that uncertainty through the bootstrap refits)"
fi

# ---- 4. train the largest run and compare --------------------------------------------------
echo
echo "Now the largest run:"
"$CS" sweep "$CFG" --out "$RUNS" "$@" --jobs 1 -q
"$CS" runs list "$RUNS/$LARGEST" --csv > "$PRED/largest-run.csv"
read -r OBS NOBS DOBS TOBS < <(awk -F, -v loss="$LOSS" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print (loss == "loss_val" ? $c["loss_val"] : "-"), $c["n_params_nonembed"], $c["tokens"], $c["context"] }' \
    "$PRED/largest-run.csv")
if [ "$LOSS" = loss_val_best ]; then
    OBS=$("$CS" runs export "$RUNS/$LARGEST" --table eval | awk -F, '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { v = $c["loss_val_best"] } END { print v }')
fi
[ -n "$OBS" ] && [ "$OBS" != - ] || die "no $LOSS in the log of $LARGEST"
awk -v r="$LARGEST" -v n="$NOBS" -v d="$DOBS" -v t="$TOBS" -v p="$P" -v l5="$LO50" -v h5="$HI50" \
    -v l9="$LO90" -v h9="$HI90" -v o="$OBS" -v out="$PRED/largest.csv" 'BEGIN {
    e = p / o - 1 # the convention of `ctxscale fit --holdout`
    x = (o - p) / p # observed against predicted, for the sentences
    print "run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed,rel_error" > out
    printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%.10g,%.6g\n", r, n, d, t, p, l5, h5, l9, h9, o, e > out
    printf "\n%-28s %10s %23s %23s %10s %8s\n", "run", "predicted", "50% interval", "90% interval", "observed", "error"
    printf "%-28s %10.4f    [%8.4f, %8.4f]    [%8.4f, %8.4f] %10.4f %+7.2f%%\n", r, p, l5, h5, l9, h9, o, 100 * x
    if (o >= l5 && o <= h5) v = "inside the 50% interval (and the 90% one)"
    else if (o >= l9 && o <= h9) v = "outside the 50% interval, inside the 90% interval"
    else v = "OUTSIDE the 90% interval: the prediction missed"
    printf "The observed loss is %.2f%% %s the prediction: %s.\n", 100 * (x < 0 ? -x : x), (x > 0 ? "above" : "below"), v
}'
echo "Written: $PRED/largest.csv (the fit: $PRED/fit.json, the prediction: $PRED/predict.json)"
