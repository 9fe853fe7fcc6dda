#!/usr/bin/env bash
# plots/figures.sh: `make figures` — draws every figure whose inputs exist into out/figures/ (as
# PNG, SVG and PDF with their data files and gnuplot scripts), and says which it skipped and why.
# Called by `make figures` after the build (BUILD names the build directory).
#
#   S1, S2, S3  Hoffmann et al.'s IsoFLOP data as digitised by Epoch (../shared/data/external),
#               with a Chinchilla fit made here for Approach 3 and the contours
#   S4          examples/xiong-context.csv (synthetic, made by examples/make_xiong_context.py)
#   S5          Tao et al.'s vocabulary runs (../shared/data/external)
#   C1, C4, C5, S6   run logs in $RUNS (default runs/), when there are any
#   C3          the token store $STORE (default: the demo's out/demo/pd-books-v1024), when present
#
# Environment: BUILD, FIGURES_OUT (default out/figures), CS_EXTERNAL (default
# ../shared/data/external), RUNS, STORE. Existing figures in FIGURES_OUT are replaced.
set -euo pipefail
: "${BUILD:=build}"
CS="$BUILD/ctxscale"
OUT="${FIGURES_OUT:-out/figures}"
EXT="${CS_EXTERNAL:-../shared/data/external}"
RUNS="${RUNS:-runs}"
STORE="${STORE:-out/demo/pd-books-v1024}"
drawn=()
skipped=()

plot() { # plot ID ARGS...: draws one figure, listing it as drawn
    local id=$1
    shift
    echo "== $id"
    "$CS" plot "$id" "$@" --out "$OUT" --force > /dev/null
    drawn+=("$id")
}
skip() { skipped+=("$1: $2"); }

mkdir -p "$OUT"

EPOCH="$EXT/epoch-analyzing-chinchilla/svg_extracted_data.csv"
if [ -f "$EPOCH" ]; then
    MAPS=(--map "N=Model Size" --map "C=Training FLOP" --map L=loss)
    plot S1 "$EPOCH" "${MAPS[@]}" --min-points 8
    echo "== fit: chinchilla on the Epoch data (Approach 3, 200 bootstrap replicates)"
    "$CS" fit "$EPOCH" --law chinchilla "${MAPS[@]}" --derive "D=C/(6*N)" --drop-top 5 \
        --bootstrap 200 --threads 2 --json "$OUT/epoch-chinchilla-fit.json" --force -q
    plot S2 "$EPOCH" "${MAPS[@]}" --min-points 8 --fit "$OUT/epoch-chinchilla-fit.json"
    plot S3 "$OUT/epoch-chinchilla-fit.json"
else
    for id in S1 S2 S3; do skip "$id" "$EPOCH absent"; done
fi

plot S4 examples/xiong-context.csv --note "synthetic data (examples/make_xiong_context.py)"

TAO="$EXT/tao2024-scaling-with-vocab/exp_data.csv"
if [ -f "$TAO" ]; then
    plot S5 "$TAO" --ylabel "unigram-normalised loss Lossu (nats/token)"
else
    skip S5 "$TAO absent"
fi

# Run logs: the figures of one run use the first log found.
first_log=""
if [ -d "$RUNS" ]; then
    first_log=$(find "$RUNS" -maxdepth 2 -name '*.h5' ! -name '.*' -type f | sort | head -n 1)
fi
if [ -n "$first_log" ]; then
    plot C1 "$first_log"
    plot C4 "$RUNS"
    plot C5 "$RUNS"
    plot S6 "$RUNS"
else
    for id in C1 C4 C5 S6; do skip "$id" "no run logs in $RUNS/ (train some, or set RUNS=DIR)"; done
fi
if [ -f "$STORE/store.json" ]; then
    plot C3 "$STORE" --contexts 64,128,256,512,1024
else
    skip C3 "no token store at $STORE (make demo builds one, or set STORE=DIR)"
fi
if [ -n "$first_log" ] && "$CS" plot C2 "$RUNS" --out "$OUT" --force > /dev/null 2>&1; then drawn+=(C2); else skip C2 "needs runs of both samplers in $RUNS/ (ctxscale train --sampler longdoc|packed)"; fi
if [ -d "${SWEEP:-out/demo/sweep}" ]; then
    for id in C6 C7 C8; do plot "$id" "${SWEEP:-out/demo/sweep}" --boot 200; done
else
    for id in C6 C7 C8; do skip "$id" "no sweep at ${SWEEP:-out/demo/sweep} (make demo trains one, or set SWEEP=DIR)"; done
fi

echo
echo "figures: drew ${drawn[*]:-nothing} into $OUT/"
for s in "${skipped[@]}"; do echo "figures: skipped $s"; done
