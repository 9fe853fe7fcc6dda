# tests/cli/test_plot_sweep.sh: figures C6 (U-curves), C7 (per-budget panels) and C8 (optimal
# context per budget) from a synthetic sweep written by tests/helpers/analyze_synth.c from a known
# law: every format and the data file exist, the corner note says whether the curves have interior
# minima (and says which do not, instead of drawing one), and bad input exits 2. Run by
# `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

case "$CS_BUILD" in /*) B=$CS_BUILD ;; *) B=$CS_SRC/$CS_BUILD ;; esac
S=$B/tests/helpers/analyze_synth
[ -x "$S" ] || { echo "skip: $S not built (make test builds it)"; exit 77; }
command -v gnuplot > /dev/null 2>&1 || { echo "gnuplot not installed: skipped"; exit 77; }

mkdir -p "$T/runs" "$T/two"
"$S" "$T/runs" --sizes 2,3,4 --contexts 128,256,512,1024,2048 --budgets 1e16 --evals 12 ||
    fail "the helper could not write the sweep"
for id in C6 C7 C8; do
    expect_exit 0 "$CTXSCALE" plot "$id" "$T/runs" --boot 20 --threads 1 --out "$T/fig"
    for ext in png svg pdf dat gp; do
        [ -s "$T/fig/$id.$ext" ] || fail "$id: no $id.$ext"
    done
done
grep -q "interior minimum" "$T/fig/C6.dat" || fail "C6 note does not report on minima"

# Two contexts only: no curve can have an interior minimum, and the note says so.
"$S" "$T/two" --sizes 2,3 --contexts 128,256 --budgets 1e16 --evals 12 ||
    fail "the helper could not write the small sweep"
expect_exit 0 "$CTXSCALE" plot C6 "$T/two" --boot 20 --threads 1 --out "$T/fig2"
grep -q "fewer than 3" "$T/fig2/C6.dat" || fail "C6 note does not say the curves are too short"

mkdir -p "$T/empty"
expect_exit 2 "$CTXSCALE" plot C6 "$T/empty" --out "$T/bad"
expect_err "no run logs"
echo ok
