#!/usr/bin/env bash
# scripts/demo.sh: the main job of ctxscale end to end, as far as it exists today, on embedded
# data. Called by `make demo` after the build (BUILD names the build directory). Everything it
# writes goes under out/demo/ (DEMO_OUT overrides), which it replaces on each run.
#
# Steps: public-domain books from Debian packages -> corpus -> BPE token store -> document-length
# statistics; the synthetic long-range language with its Bayes-optimal loss floor; then the
# fitting pipeline on the embedded example runs (examples/synthetic-runs.csv, drawn from a known
# Chinchilla law, see examples/make_synthetic_runs.py): run logs, Approach 3 fit with bootstrap
# intervals, compute-optimal allocation. Two small models are trained on the books (contexts 64
# and 256) and one on the synthetic language, and figures C1, C3, C4, C5 drawn from them. The
# sweep over sizes, contexts and budgets does not exist yet; the demo says so at the end.
set -euo pipefail
: "${BUILD:=build}"
CS="$BUILD/ctxscale"
OUT="${DEMO_OUT:-out/demo}"
T0=$(date +%s)

step() { printf '\n== %s\n' "$*"; }

rm -rf "$OUT"
mkdir -p "$OUT"

step "1. Installing the pd-books source packages (only those missing)"
sh scripts/deps-corpus.sh pd-books

step "2. Corpus: public-domain books from Debian packages"
"$CS" data build pd-books --out "$OUT/pd-books"

step "3. Token store: BPE with a 4096-token vocabulary, trained on the train split"
"$CS" data tokenize "$OUT/pd-books" --vocab 4096 --out "$OUT/pd-books-v4096"

step "4. Document lengths (figure C3's data) and documents long enough for each context"
"$CS" data stats "$OUT/pd-books-v4096" --contexts 64,128,256,512,1024,4096,16384 \
    --out "$OUT/c3_lengths.tsv"

step "5. Synthetic long-range language with its Bayes-optimal loss per position"
"$CS" data synth --docs 200 --doc-len 2048 --vocab 512 --out "$OUT/synth"

step "6. Training: two small models on the books at contexts 64 and 256 (same tokens per step)"
export OPENBLAS_NUM_THREADS=1
for t in 64 256; do
    "$CS" train --data "$OUT/pd-books-v4096" --layers 2 --d-model 64 --heads 2 --context "$t" \
        --batch-tokens 4096 --tokens 5e5 --lr 3e-3 --eval-every 0 --eval-windows 16 --extrap 4 \
        --threads 1 --out "$OUT/train/books-T$t"
done
"$CS" train --data "$OUT/synth" --layers 2 --d-model 64 --heads 4 --context 128 \
    --batch-tokens 4096 --tokens 5e5 --lr 3e-3 --eval-every 0 --eval-windows 32 --extrap 4 \
    --threads 1 --out "$OUT/train-synth"
"$CS" runs list "$OUT/train"

step "7. Figures: C3 (document lengths), C4 and C5 (the books runs), C1 (synthetic, with its floor)"
"$CS" plot C3 "$OUT/pd-books-v4096" --contexts 64,256 --out "$OUT/figures"
"$CS" plot C4 "$OUT/train" --out "$OUT/figures"
"$CS" plot C5 "$OUT/train/books-T256" --out "$OUT/figures"
"$CS" plot C1 "$OUT/train-synth" --floor "$OUT/synth/synth.json" --out "$OUT/figures"
ls "$OUT/figures"

step "8. Run logs from the embedded example runs (synthetic, drawn from a known law)"
"$CS" runs import examples/synthetic-runs.csv --out "$OUT/runs"
"$CS" runs list "$OUT/runs"

step "9. Chinchilla Approach 3 on every logged step of the example runs"
"$CS" runs export "$OUT/runs" --table steps --config --out "$OUT/steps.csv"
"$CS" fit "$OUT/steps.csv" --law chinchilla --map N=config.n_params_nonembed --map D=tokens \
    --map L=loss_train --bootstrap 200 --seed 1 --json "$OUT/fit.json"
echo "(the runs were drawn from E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28)"

step "10. Compute-optimal model size and tokens per budget, with bootstrap intervals"
"$CS" optimal --fit "$OUT/fit.json" --budget 1e19:1e23:5

T1=$(date +%s)
step "Done in $((T1 - T0)) s. Outputs are in $OUT/."
cat <<'EOF'
Not in this demo yet: the sweep over model sizes x contexts x budgets on the books, its
context-scaling analysis (U-curves, optimal context per budget) and the report. The two books
runs above are single small models (2 layers, width 64, 0.5M tokens), not a scaling study; the
fit runs on example trajectories drawn from a known law, not on trained models.
EOF
