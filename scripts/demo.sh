#!/usr/bin/env bash
# scripts/demo.sh: the main job of ctxscale end to end, as far as it exists today, on embedded
# data. Called by `make demo` after the build (BUILD names the build directory). Everything it
# writes goes under out/demo/ (DEMO_OUT overrides), which it replaces on each run.
#
# Steps: public-domain books from Debian packages -> corpus -> BPE token store -> document-length
# statistics; the synthetic long-range language with its Bayes-optimal loss floor; then the
# fitting pipeline on the embedded example runs (examples/synthetic-runs.csv, drawn from a known
# Chinchilla law, see examples/make_synthetic_runs.py): run logs, Approach 3 fit with bootstrap
# intervals, compute-optimal allocation. A sweep of 8 small models is trained on the books
# (examples/sweep-demo.cfg) and analysed (U-curves, optimal context), one model on the synthetic
# language, and figures C1, C3, C4, C5 drawn. What is still missing is said at the end.
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

step "6. A sweep on the books: 2 model sizes x 4 training contexts (examples/sweep-demo.cfg)"
export OPENBLAS_NUM_THREADS=1
"$CS" sweep examples/sweep-demo.cfg --set data.corpus="$OUT/pd-books-v4096" --out "$OUT/sweep" \
    --jobs 2
"$CS" runs list "$OUT/sweep"
echo "and one model on the synthetic language, whose Bayes-optimal loss is known:"
"$CS" train --data "$OUT/synth" --layers 2 --d-model 64 --heads 4 --context 128 \
    --batch-tokens 4096 --tokens 5e5 --lr 3e-3 --eval-every 0 --eval-windows 32 --extrap 4 \
    --threads 2 -q --out "$OUT/train-synth"

step "7. Context-scaling analysis of the sweep: U-curves, optimal context per budget, rankings"
"$CS" analyze "$OUT/sweep" --out "$OUT/analysis" --json "$OUT/analysis/analysis.json"
cat <<'EOF2'
(At this scale, 8 runs of 25k and 100k parameters on 0.5M tokens, the ndt law is not identified:
its fit above runs to the edges of its ranges and its optimal context sits at the search bound.
The empirical optima and the ranking check are what this sweep can support.)
EOF2

step "8. Figures: C1 (synthetic, with its floor), C3 (document lengths), C4-C8 (the sweep)"
"$CS" plot C3 "$OUT/pd-books-v4096" --contexts 32,64,128,256 --out "$OUT/figures"
"$CS" plot C4 "$OUT"/sweep/l2-d64-T*/run.h5 --out "$OUT/figures"
"$CS" plot C5 "$OUT/sweep/l2-d64-T256-D5e5/run.h5" --out "$OUT/figures"
"$CS" plot C1 "$OUT/train-synth" --floor "$OUT/synth/synth.json" --out "$OUT/figures"
for id in C6 C7 C8; do
    "$CS" plot "$id" "$OUT/sweep" --boot 200 --out "$OUT/figures"
done
ls "$OUT/figures"

step "9. Run logs from the embedded example runs (synthetic, drawn from a known law)"
"$CS" runs import examples/synthetic-runs.csv --out "$OUT/runs"
"$CS" runs list "$OUT/runs"

step "10. Chinchilla Approach 3 on every logged step of the example runs"
"$CS" runs export "$OUT/runs" --table steps --config --out "$OUT/steps.csv"
"$CS" fit "$OUT/steps.csv" --law chinchilla --map N=config.n_params_nonembed --map D=tokens \
    --map L=loss_train --bootstrap 200 --seed 1 --json "$OUT/fit.json"
echo "(the runs were drawn from E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28)"

step "11. Compute-optimal model size and tokens per budget, with bootstrap intervals"
"$CS" optimal --fit "$OUT/fit.json" --budget 1e19:1e23:5

T1=$(date +%s)
step "Done in $((T1 - T0)) s. Outputs are in $OUT/."
cat <<'EOF'
Not in this demo yet: the notebooks and the HTML report. The sweep above is tiny (8 runs,
minutes on 2 cores), not a paper's scale; the Chinchilla fit runs on example trajectories drawn
from a known law, not on trained models.
EOF
