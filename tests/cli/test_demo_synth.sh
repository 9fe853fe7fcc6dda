# tests/cli/test_demo_synth.sh: scripts/demo-synth.sh (`make demo-synth`) at tiny sizes (seconds):
# the synthetic language, one trained model, figures C1 and C5 with their data files, C1 holding
# the Bayes-optimal floor series, and the model-against-floor table, whose floor column must be
# synth.json's floor shifted by one position (the model's position t has t tokens of context) and
# must fall with position (the Dirichlet language's floor does). Bad sizes exit 2. Run by
# `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

command -v gnuplot > /dev/null 2>&1 || { echo "gnuplot not installed: skipped"; exit 77; }

D=$T/demo
export DEMO_SYNTH_CONTEXT=16 DEMO_SYNTH_EXTRAP=2 DEMO_SYNTH_WIDTH=8 DEMO_SYNTH_LAYERS=1 \
    DEMO_SYNTH_TOKENS=8192 DEMO_SYNTH_DOCS=80 DEMO_SYNTH_FLOOR_DOCS=50 DEMO_SYNTH_WINDOWS=16 \
    DEMO_SYNTH_THREADS=1
expect_exit 0 env DEMO_OUT="$D" bash "$CS_SRC/scripts/demo-synth.sh"
expect_out "Model against the floor"
expect_out "above the floor"

# Figures: every format drawn or reported skipped, the data file and the script.
for id in C1 C5; do
    for ext in dat gp; do
        [ -s "$D/figures/$id.$ext" ] || fail "no $id.$ext"
    done
    for ext in png svg pdf; do
        [ -s "$D/figures/$id.$ext" ] || grep -q "figure $id: $ext skipped" "$ERR" ||
            fail "no $id.$ext and no message that it was skipped"
    done
done
grep -q '^# block 1: Bayes-optimal loss floor' "$D/figures/C1.dat" || fail "C1.dat has no floor series"
# The floor block has one point per position with context (X*T = 32; mean[0] has none), and
# the point at x = t is synth.json's mean[t]: t tokens of context, as the model's position t.
n=$(awk '/^# block 1:/ { f = 1; next } /^# block/ { f = 0 } f && NF == 2 { n++ } END { print n + 0 }' \
    "$D/figures/C1.dat")
[ "$n" -eq 32 ] || fail "C1.dat: the floor series has $n points, expected 32"
x1=$(awk '/^# block 1:/ { f = 1; next } /^# block/ { f = 0 } f && NF == 2 { print $1; exit }' "$D/figures/C1.dat")
[ "$x1" = 1 ] || fail "C1.dat: the floor starts at x = $x1, expected 1"
if command -v python3 > /dev/null 2>&1; then
    python3 - "$D/figures/C1.dat" "$D/data/synth.json" <<'PY' || fail "C1.dat: floor at x = t is not mean[t]"
import json, sys
mean = json.load(open(sys.argv[2]))["floor"]["mean"]
blk, pts = None, []
for line in open(sys.argv[1]):
    if line.startswith("# block"):
        blk = line.split(":")[0].split()[-1]
        continue
    f = line.split()
    if blk == "1" and len(f) == 2:
        pts.append((float(f[0]), float(f[1])))
for x, y in pts:
    assert abs(y - mean[int(x)]) <= 1e-6 * abs(mean[int(x)]), (x, y, mean[int(x)])
PY
fi

# The table: one row per contextwise bin up to X*T = 32, model and floor finite.
tsv=$D/model_vs_floor.tsv
[ "$(head -1 "$tsv")" = "$(printf 'positions\tmodel\tfloor\tgap')" ] || fail "$tsv: header"
rows=$(awk 'NR > 1' "$tsv" | wc -l)
[ "$rows" -ge 8 ] || fail "$tsv: $rows rows"
awk -F'\t' 'NR > 1 && !($2 > 0 && $3 > 0 && ($2 - $3 - $4) * ($2 - $3 - $4) < 1e-10) { exit 1 }' "$tsv" ||
    fail "$tsv: a row is not model, floor > 0 with gap = model - floor"
# Position 1 of the model (1 token of context) is the floor's position 2: synth.json mean[1].
f2=$(awk '/"mean": \[/ { f = 1; next } f { n++; if (n == 2) { gsub(/[ ,]/, ""); print; exit } }' \
    "$D/data/synth.json")
awk -F'\t' -v f="$f2" 'NR == 2 { d = $3 - f; exit !($1 == "1" && d * d < 1e-10) }' "$tsv" ||
    fail "$tsv: the floor at position 1 is not synth.json's floor at position 2 ($f2)"
# The floor falls with position: the last bin's floor is well below the first's.
awk -F'\t' 'NR == 2 { a = $3 } NR > 2 { b = $3 } END { exit !(b < a - 0.1) }' "$tsv" ||
    fail "$tsv: the floor does not fall with position"

# Bad sizes: exit 2, nothing trained.
expect_exit 2 env DEMO_OUT="$T/bad" DEMO_SYNTH_CONTEXT=abc bash "$CS_SRC/scripts/demo-synth.sh"
expect_err "whole numbers"
[ ! -e "$T/bad" ] || fail "a bad size still wrote $T/bad"
echo ok
