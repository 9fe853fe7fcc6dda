# tests/cli/test_plot.sh: `ctxscale plot` — the figure list, every available figure drawn from
# small inputs (CSV tables made here, a fit made with `ctxscale fit`, run logs and a token store
# written by the test_plot_figures binary) as PNG, SVG and PDF with its data file and script,
# hostile run names and labels that must be shown and never run, --force and --format, a missing
# gnuplot, and bad input with exit 2. The drawing checks skip without gnuplot; a format whose
# terminal is missing is accepted when the command said it skipped it. The published-data figures
# run only when ../shared/data/external exists. Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

# check_figure ID DIR: the data file and script exist, and each format is drawn (with the right
# file signature) or was reported as skipped on stderr.
check_figure() {
    local id=$1 dir=$2 fmt
    [ -s "$dir/$id.dat" ] || fail "$dir/$id.dat missing"
    [ -s "$dir/$id.gp" ] || fail "$dir/$id.gp missing"
    for fmt in png svg pdf; do
        if [ -s "$dir/$id.$fmt" ]; then
            case $fmt in
            png) head -c 4 "$dir/$id.png" | od -An -c | grep -q 'P   N   G' || fail "$id.png: not a PNG" ;;
            svg) grep -q '<svg' "$dir/$id.svg" || fail "$id.svg: not an SVG" ;;
            pdf) head -c 5 "$dir/$id.pdf" | grep -q '%PDF' || fail "$id.pdf: not a PDF" ;;
            esac
        elif grep -q "figure $id: $fmt skipped" "$ERR"; then
            echo "note: $id.$fmt skipped: this gnuplot has no terminal for it"
        else
            fail "$dir/$id.$fmt missing"
        fi
    done
    expect_out "$dir/$id.dat"
}

expect_exit 0 "$CTXSCALE" plot --help
expect_out "Usage: ctxscale plot"
expect_out "--out DIR"
expect_exit 0 "$CTXSCALE" plot --list
for id in C1 C2 C3 C4 C5 C6 C7 C8 S1 S2 S3 S4 S5 S6; do
    grep -q "^$id " "$OUT" || fail "--list lacks $id"
done
grep -q "not available in this version" "$OUT" && fail "--list marks a figure unavailable"

# ---- inputs ------------------------------------------------------------------------------------

# IsoFLOP points from a Chinchilla law: 4 budgets x 7 sizes around the optimum.
awk 'BEGIN { print "N,C,D,L"; a = 0.34; b = 0.28; A = 406.4; B = 410.7;
      G = (a * A / (b * B))^(1 / (a + b));
      for (i = 0; i < 4; i++) { C = 1e18 * 10^i; n0 = G * (C / 6)^(b / (a + b));
        for (k = -3; k <= 3; k++) { N = n0 * 2^k; D = C / (6 * N);
          printf "%.17g,%.17g,%.17g,%.17g\n", N, C, D, 1.69 + A / N^a + B / D^b } } }' \
    > "$T/points.csv"
# Vocabulary curves: 4 families x 5 vocabularies x 6 budgets, best V = 2000 sqrt(N / 1e7).
awk 'BEGIN { print "vocab_size,Non_vocab_parameters,FLOPs,Lossu";
      for (i = 0; i < 4; i++) for (j = 0; j < 5; j++) for (k = 0; k < 6; k++) {
        N = 1e7 * 4^i; V = 1024 * 4^j; C = 1e15 * 2^k; dv = log(V) - log(2000 * sqrt(N / 1e7));
        printf "%g,%g,%g,%.17g\n", V, N, C, -1 - 0.2 * log(C / 1e15) - 0.1 * log(N / 1e7) + 0.05 * dv * dv } }' \
    > "$T/vocab.csv"
FIGBIN="$(dirname "$CTXSCALE")/tests/test_plot_figures"
HAVE_RUNS=0
if [ -x "$FIGBIN" ]; then
    "$FIGBIN" --write-runs "$T/fx" > /dev/null 2>&1 || fail "writing the test run logs failed"
    HAVE_RUNS=1
else
    echo "note: $FIGBIN not built; run-log figures skipped"
fi
HOSTILE_DIR="$T/fx/hostile"

# ---- bad input: exit 2, nothing drawn ------------------------------------------------------------

expect_exit 2 "$CTXSCALE" plot
expect_err "give a figure id"
expect_exit 2 "$CTXSCALE" plot S1 "$T/points.csv"
expect_err "--out DIR is required"
expect_exit 2 "$CTXSCALE" plot S1 "$T/points.csv" --out ''
expect_err "output directory: expected a path"
expect_exit 2 "$CTXSCALE" plot X9 "$T/points.csv" --out "$T/bad"
expect_err "unknown figure \"X9\"; known: C1, C2"
expect_exit 2 "$CTXSCALE" plot C2 "$T/fx/runs" --out "$T/bad"
expect_err "figure C2 compares runs of both sampler modes"
expect_exit 2 "$CTXSCALE" plot S1 "$T/points.csv" --out "$T/bad" --format png,gif
expect_err "--format: expected png, svg, pdf or all"
expect_exit 2 "$CTXSCALE" plot S1 "$T/nonexistent.csv" --out "$T/bad"
expect_err "nonexistent.csv"
printf 'size,ctx\n1,2\n' > "$T/cols.csv"
expect_exit 2 "$CTXSCALE" plot S4 "$T/cols.csv" --out "$T/bad"
expect_err "cols.csv: missing column for L"
expect_exit 2 "$CTXSCALE" plot S1 "$T/cols.csv" --out "$T/bad"
expect_exit 2 "$CTXSCALE" plot S2 --out "$T/bad"
expect_err "give a CSV of points, --fit FILE.json, or both"
expect_exit 2 "$CTXSCALE" plot C3 "$T/fx/store" --contexts 64,x --out "$T/bad"
expect_err "--contexts"
if [ $HAVE_RUNS = 1 ]; then
    expect_exit 2 "$CTXSCALE" plot C4 "$T/fx/empty" --out "$T/bad"
    expect_err "empty: no run logs (\*.h5) in it or its subdirectories"
    expect_exit 2 "$CTXSCALE" plot C5 "$T/fx/nocw" --out "$T/bad"
    expect_err "left out: .*x.h5: no contextwise loss"
    expect_err "none of the 1 run logs has contextwise loss"
    expect_exit 2 "$CTXSCALE" plot C1 "$T/fx/runs" --out "$T/bad"
    expect_err "figure C1 draws one run; 3 have contextwise loss"
fi
[ ! -e "$T/bad" ] || [ -z "$(ls -A "$T/bad")" ] || fail "bad input left files in $T/bad"

# ---- no gnuplot: the data and script are written, exit 1 ------------------------------------------
CTXSCALE_GNUPLOT=/nonexistent/gnuplot expect_exit 1 "$CTXSCALE" plot S1 "$T/points.csv" --out "$T/nogp"
expect_err "/nonexistent/gnuplot: not found; install gnuplot"
[ -s "$T/nogp/S1.dat" ] && [ -s "$T/nogp/S1.gp" ] || fail "no data/script without gnuplot"
[ ! -e "$T/nogp/S1.png" ] || fail "a PNG without gnuplot"

if ! command -v gnuplot > /dev/null 2>&1; then
    echo "gnuplot not installed (make deps installs gnuplot-nox): drawing checks skipped"
    exit 77
fi

# ---- every available figure from small inputs --------------------------------------------------

F="$T/figs"
expect_exit 0 "$CTXSCALE" plot S1 "$T/points.csv" --out "$F"
check_figure S1 "$F"
grep -q '# note: data: .*points.csv: 28 points in 4 budgets (4 with an interior minimum)' "$F/S1.dat" || fail "S1 note lacks the data summary"
expect_exit 0 "$CTXSCALE" fit "$T/points.csv" --law chinchilla --bootstrap 8 --threads 2 \
    --json "$T/fit.json" -q
expect_exit 0 "$CTXSCALE" plot S2 "$T/points.csv" --fit "$T/fit.json" --boot 20 --out "$F"
check_figure S2 "$F"
expect_exit 0 "$CTXSCALE" plot S3 "$T/fit.json" --out "$F"
check_figure S3 "$F"
expect_exit 0 "$CTXSCALE" plot S4 "$CS_SRC/examples/xiong-context.csv" --out "$F"
check_figure S4 "$F"
grep -q '# block .*: N = 1.5e8: (' "$F/S4.dat" || fail "S4 legend lacks the sizes"
expect_exit 0 "$CTXSCALE" plot S5 "$T/vocab.csv" --ylabel 'Lossu (nats/token)' --out "$F"
check_figure S5 "$F"
grep -q 'power law over 3 sizes: V_opt ~ N^0.5;' "$F/S5.dat" ||
    fail "S5: the best vocabulary's power law is not 0.5 (N = 1e7: optimum at the edge)"
if [ $HAVE_RUNS = 1 ]; then
    expect_exit 0 "$CTXSCALE" plot C1 "$T/fx/one" --floor 2.25 --out "$F"
    check_figure C1 "$F"
    expect_exit 0 "$CTXSCALE" plot C3 "$T/fx/store" --contexts 64,512 --out "$F"
    check_figure C3 "$F"
    expect_exit 0 "$CTXSCALE" plot C4 "$T/fx/runs" --out "$F"
    check_figure C4 "$F"
    expect_exit 0 "$CTXSCALE" plot C5 "$T/fx/runs/T64.h5" "$T/fx/runs/T256.h5" --step 200 --out "$F"
    check_figure C5 "$F"
    expect_exit 0 "$CTXSCALE" plot S6 "$T/fx/runs" "$HOSTILE_DIR" --out "$F"
    check_figure S6 "$F"
fi

# ---- --force and --format ----------------------------------------------------------------------
cp "$F/S1.png" "$T/S1.before"
expect_exit 2 "$CTXSCALE" plot S1 "$T/points.csv" --out "$F"
expect_err "S1.dat: exists; use --force to overwrite"
cmp -s "$F/S1.png" "$T/S1.before" || fail "a refused plot changed S1.png"
expect_exit 0 "$CTXSCALE" plot S1 "$T/points.csv" --out "$F" --force --title 'IsoFLOP (test)'
grep -q 'IsoFLOP \\0050test\\0051' "$F/S1.gp" || fail "--title not in the script"
expect_exit 0 "$CTXSCALE" plot S4 "$CS_SRC/examples/xiong-context.csv" --format svg --out "$T/svg"
[ -s "$T/svg/S4.svg" ] && [ ! -e "$T/svg/S4.png" ] && [ ! -e "$T/svg/S4.pdf" ] ||
    fail "--format svg drew other formats"
(cd "$T/svg" && gnuplot -c S4.gp png > /dev/null 2>&1) || fail "the written script does not rerun"
[ -s "$T/svg/S4.png" ] || fail "rerunning S4.gp drew no PNG"

# ---- hostile names: shown, never run -------------------------------------------------------------
if [ $HAVE_RUNS = 1 ]; then
    H="$T/hostile out"
    (cd "$T" && "$CTXSCALE" plot S6 "$HOSTILE_DIR" --out "$H" \
        --title 'T `touch PWNED4` $(touch PWNED5) system("touch PWNED6")' \
        --note "note @x \"q\" \\ (17" > "$OUT" 2> "$ERR") || fail "S6 with hostile names failed"
    for d in "$T" "$H" "$CS_SRC" .; do
        for n in 1 2 3 4 5 6; do
            [ ! -e "$d/PWNED$n" ] || fail "a label ran a command: $d/PWNED$n"
        done
    done
    if grep -q '`' "$H/S6.gp"; then fail "a backtick in S6.gp"; fi
    if grep -q 'system(' "$H/S6.gp"; then fail "system( in S6.gp"; fi
    if grep -q '\$(touch' "$H/S6.gp"; then fail "\$(touch in S6.gp"; fi
    grep -q 'touch PWNED1' "$H/S6.gp" || fail "the hostile label is not in the script at all"
    if [ -s "$H/S6.svg" ]; then
        grep -q 'mix "q" `touch PWNED1` $(touch PWNED2) system("touch PWNED3")' "$H/S6.svg" ||
            fail "S6.svg does not show the hostile label literally"
        grep -q 'T `touch PWNED4` $(touch PWNED5)' "$H/S6.svg" || fail "S6.svg lacks the title"
        if command -v python3 > /dev/null 2>&1; then
            python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$H/S6.svg" ||
                fail "S6.svg is not well-formed XML"
        fi
    fi
fi

# ---- published data ----------------------------------------------------------------------------
EXT="$CS_SRC/../shared/data/external"
[ -d "$EXT" ] || EXT=/work/shared/data/external
if [ -d "$EXT/epoch-analyzing-chinchilla" ] && [ -d "$EXT/tao2024-scaling-with-vocab" ]; then
    expect_exit 0 "$CTXSCALE" plot S1 "$EXT/epoch-analyzing-chinchilla/svg_extracted_data.csv" \
        --map N="Model Size" --map C="Training FLOP" --map L=loss --min-points 8 --out "$T/ext"
    check_figure S1 "$T/ext"
    grep -q '9 budgets (9 with an interior minimum)' "$T/ext/S1.dat" ||
        fail "Epoch data: not the nine IsoFLOP budgets"
    expect_exit 0 "$CTXSCALE" plot S5 "$EXT/tao2024-scaling-with-vocab/exp_data.csv" --out "$T/ext"
    check_figure S5 "$T/ext"
    grep -q '1200 evaluations on 60 training curves' "$T/ext/S5.dat" || fail "Tao data: counts"
else
    echo "note: $EXT absent; published-data figures skipped"
fi
echo ok
