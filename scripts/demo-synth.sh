#!/usr/bin/env bash
# scripts/demo-synth.sh: `make demo-synth`, inference-time context scaling against a known floor.
# On the synthetic language of `ctxscale data synth` (docs/data.md), whose Bayes-optimal loss at
# every position is known, it trains one small model, draws figure C1 (its loss at each position
# of the context, with the Bayes-optimal floor) and C5 (evaluation past the training context), and
# prints the model's loss beside the floor, bin by bin. A minute or two on 2 cores. Writes
# DEMO_OUT/data (the language, its floor in synth.json), DEMO_OUT/train (the run), the figures,
# DEMO_OUT/contextwise.csv (the run's contextwise loss) and DEMO_OUT/model_vs_floor.tsv (the table).
# Test: tests/cli/test_demo_synth.sh (tiny sizes).
#
# The language is the pure document-level part of the process (--markov 0 --copy-rate 0): each
# document draws its own token distribution from a Dirichlet prior, and the loss falls with
# position as the context reveals it. Its tokens are exchangeable within a document, so every
# window the trainer reads (anywhere in a document, rotated or not: the longdoc sampler rolls
# its rows) has the distribution of a document's first tokens, and the floor, computed for
# contexts that start at a document's first token, applies to the model's windows exactly. With
# the copy spans or bigrams on it would not (docs/data.md, "Caveat for window samplers").
#
# Positions: the model's position t is the loss on the window's token t + 1 with t tokens of
# context; the floor's position p is the loss on a document's token p with p - 1 tokens before
# it. The table below compares the model's position t with the floor's position t + 1.
#
# Environment: BUILD (build directory, default build), CTXSCALE (the binary, default
# $BUILD/ctxscale), DEMO_OUT (output, default out/demo-synth; replaced on each run),
# DEMO_SYNTH_FIGURES (where the figures go, default $DEMO_OUT/figures), and the sizes:
# DEMO_SYNTH_CONTEXT (training context T, 128), DEMO_SYNTH_EXTRAP (evaluation past T, 4),
# DEMO_SYNTH_WIDTH (d_model, 64), DEMO_SYNTH_LAYERS (2), DEMO_SYNTH_TOKENS (training tokens, 5e5),
# DEMO_SYNTH_DOCS (documents, 2500), DEMO_SYNTH_FLOOR_DOCS (documents behind the floor, 2000),
# DEMO_SYNTH_WINDOWS (evaluation windows, 256), DEMO_SYNTH_THREADS (2).
set -euo pipefail
: "${BUILD:=build}"
CS="${CTXSCALE:-$BUILD/ctxscale}"
OUT="${DEMO_OUT:-out/demo-synth}"
FIG="${DEMO_SYNTH_FIGURES:-$OUT/figures}"
T="${DEMO_SYNTH_CONTEXT:-128}"
X="${DEMO_SYNTH_EXTRAP:-4}"
WIDTH="${DEMO_SYNTH_WIDTH:-64}"
LAYERS="${DEMO_SYNTH_LAYERS:-2}"
TOKENS="${DEMO_SYNTH_TOKENS:-5e5}"
DOCS="${DEMO_SYNTH_DOCS:-2500}"
FLOOR_DOCS="${DEMO_SYNTH_FLOOR_DOCS:-2000}"
WINDOWS="${DEMO_SYNTH_WINDOWS:-256}"
THREADS="${DEMO_SYNTH_THREADS:-2}"
VOCAB=64
ALPHA=4
T0=$(date +%s)

for v in "$T" "$X" "$WIDTH" "$LAYERS" "$DOCS" "$FLOOR_DOCS" "$WINDOWS" "$THREADS"; do
    case "$v" in
    '' | *[!0-9]*)
        echo "demo-synth: sizes must be whole numbers, got '$v'" >&2
        exit 2
        ;;
    esac
done
[ -x "$CS" ] || {
    echo "demo-synth: $CS not found (run make first, or set BUILD or CTXSCALE)" >&2
    exit 2
}
step() { printf '\n== %s\n' "$*"; }

rm -rf "$OUT"
mkdir -p "$OUT"

# A validation window holds X*T + 1 tokens and is read from a row of that length cut from a
# document's start, so documents of exactly that length give one row each. An evaluation draws
# WINDOWS distinct windows when the validation split has that many documents.
DOC_LEN=$((X * T + 1))
VAL_FRAC=$(awk -v w="$WINDOWS" -v d="$DOCS" 'BEGIN { f = w / d; print (f < 0.05 ? 0.05 : (f > 0.5 ? 0.5 : f)) }')
step "Synthetic language: $DOCS documents of $DOC_LEN tokens, V = $VOCAB, each document" \
    "with its own token distribution (Dirichlet, alpha = $ALPHA)"
"$CS" data synth --docs "$DOCS" --doc-len "$DOC_LEN" --vocab "$VOCAB" --alpha "$ALPHA" \
    --markov 0 --copy-rate 0 --val-frac "$VAL_FRAC" --floor-docs "$FLOOR_DOCS" \
    --floor-estimator entropy --out "$OUT/data" | sed -n '1,2p'

step "One model: $LAYERS layers, width $WIDTH, trained at T = $T on $TOKENS tokens," \
    "evaluated up to $((X * T)) positions"
export OPENBLAS_NUM_THREADS=1
"$CS" train --data "$OUT/data" --layers "$LAYERS" --d-model "$WIDTH" --heads 2 --context "$T" \
    --batch-tokens 2048 --tokens "$TOKENS" --lr 3e-3 --eval-every 0 --eval-windows "$WINDOWS" \
    --extrap "$X" --threads "$THREADS" -q --out "$OUT/train"

step "Figures C1 (loss at each position, with the Bayes-optimal floor) and C5 (past T)"
"$CS" plot C1 "$OUT/train" --floor "$OUT/data/synth.json" --out "$FIG" --force \
    --note "Dirichlet documents, exchangeable tokens: the floor holds for any window. Floor position p: p - 1 tokens of context; model position t: t tokens"
"$CS" plot C5 "$OUT/train" --out "$FIG" --force

step "Model against the floor, by position (nats/token)"
"$CS" runs export "$OUT/train/run.h5" --table contextwise --out "$OUT/contextwise.csv"
# The last evaluation's bins, each beside the floor's mean over the same positions (shifted by
# one, see the top of this file) and the gap. The floor is read from synth.json's "mean" array,
# written one number per line.
awk -F, -v T="$T" -v out="$OUT/model_vs_floor.tsv" '
    FNR == 1 && NR != FNR { nf = 0 }
    NR == FNR {
        if ($0 ~ /"mean": \[/ && !done) { inmean = 1; next }
        if (inmean && $0 ~ /\]/) { inmean = 0; done = 1; next }
        if (inmean) { gsub(/[ ,]/, ""); fl[nfl++] = $0 + 0 }
        next
    }
    FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
        s = $col["step"] + 0
        if (s > last) { last = s; n = 0 }
        if (s == last) { lo[n] = $col["bin_lo"] + 0; hi[n] = $col["bin_hi"] + 0; l[n++] = $col["loss"] + 0 }
    }
    END {
        printf "%-13s %9s %9s %8s\n", "positions", "model", "floor", "gap"
        print "positions\tmodel\tfloor\tgap" > out
        for (i = 0; i < n; i++) {
            f = 0; k = 0
            for (t = lo[i]; t <= hi[i] && t < nfl; t++) { f += fl[t]; k++ }
            if (k == 0) continue
            f /= k
            if (lo[i] == hi[i]) p = lo[i]; else p = lo[i] "-" hi[i]
            printf "%-13s %9.4f %9.4f %8.4f%s\n", p, l[i], f, l[i] - f, (hi[i] > T ? "  past T" : "")
            printf "%s\t%.6f\t%.6f\t%.6f\n", p, l[i], f, l[i] - f > out
            if (i == 0) { m1 = l[i]; f1 = f }
            if (hi[i] <= T) { mT = l[i]; fT = f; pT = p }
            mX = l[i]; fX = f; pX = p
        }
        printf "\nThe floor falls from %.3f (position 1) to %.3f (positions %s): the context reveals\n", f1, fT, pT
        printf "each document'"'"'s token distribution. The model goes from %.3f to %.3f there, %.3f nats\n", m1, mT, mT - fT
        printf "above the floor at the end of its training context; past T (positions %s) it is at\n", pX
        printf "%.3f, %.3f above the floor.\n", mX, mX - fX
    }' "$OUT/data/synth.json" "$OUT/contextwise.csv"

T1=$(date +%s)
step "Done in $((T1 - T0)) s. Figures: $FIG/C1.png and $FIG/C5.png (also .svg, .pdf)."
