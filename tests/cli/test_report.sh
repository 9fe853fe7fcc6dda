# tests/cli/test_report.sh: the notebooks of notebooks-c/ and the HTML report (docs/notebooks.md).
# A tiny sweep is trained (8 runs on the synthetic language, seconds), one run gets a hostile
# name (quotes, backticks, $(...), system(...), <script>, an <img onerror>); notebooks-c/run.sh
# (what `make notebooks` runs) writes every section, the figures and report.html. Checked:
# the sections' claims against the analysis tables they come from and against a synthetic sweep
# of known optimum (and one that cannot have an interior minimum, which must say so); the
# hostile name escaped in the Markdown and the HTML, with no command run; every src/href of the
# page resolving to a file or an anchor, nothing absolute; then headless Chromium loads the
# page: a screenshot that is not blank, and, from a test page that frames the report, every
# <img> loaded (naturalWidth > 0), every relative link fetchable, every anchor present, no script
# element. Bad input exits 2 without writing. Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

case "$CS_BUILD" in /*) B=$CS_BUILD ;; *) B=$CS_SRC/$CS_BUILD ;; esac
NB=$B/notebooks
for p in nb_context nb_ucurves nb_laws nb_data nb_predict report; do
    [ -x "$NB/$p" ] || { echo "skip: $NB/$p not built (make test builds it)"; exit 77; }
done
command -v gnuplot > /dev/null 2>&1 || { echo "gnuplot not installed: skipped"; exit 77; }
S=$B/tests/helpers/analyze_synth
export OPENBLAS_NUM_THREADS=1
cd "$T" || fail "cd $T"

# ---- a tiny sweep: 2 widths x 4 contexts, evaluated every 2 steps and up to 2T -------------------
expect_exit 0 "$CTXSCALE" data synth --docs 40 --doc-len 512 --vocab 32 --floor-docs 0 --out synth
cat > grid.cfg <<'EOF'
[model]
layers = 1
d_model = 16, 32
heads = 2
[data]
corpus = synth
context = 16, 32, 64, 128
[train]
batch_tokens = 1024
tokens = 16384
[eval]
every = 2
extrap = 2
[sweep]
name = tiny
out = runs
EOF
expect_exit 0 "$CTXSCALE" sweep grid.cfg --jobs 2 -q
H='evil"'"'"' `touch BT` $(touch DL) system("touch SYS") <script>alert(1)<x> <img src=x onerror=alert(2)>'
mv runs/l1-d32-T64-D16384 "runs/$H" || fail "cannot rename a run"
cat > pred.csv <<EOF
run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed,rel_error
"$(printf '%s' "$H" | sed 's/"/""/g')",12768,16384,64,2.9,2.85,2.95,2.7,3.1,2.86,-0.0138
bigger,51000,65536,128,2.8,2.75,2.85,2.6,3.0,3.2,0.143
later,200000,262144,256,2.7,2.65,2.75,2.5,2.9,,
EOF

# ---- make notebooks' script, as `make notebooks RUNS=runs REPORT=rep CORPUS=synth PREDICTION=..`
BUILD=$B RUNS=runs REPORT=rep CORPUS=synth PREDICTION=pred.csv \
    expect_exit 0 bash "$CS_SRC/notebooks-c/run.sh"
expect_out "open it: file://$T/rep/report.html"
for f in context ucurves laws data predict report; do
    [ -s "rep/$f.md" ] || fail "no rep/$f.md"
done
[ -s rep/report.html ] || fail "no report.html"
for id in C1 C3 C4 C5 C6 C7 C8 ndt_fit; do
    for ext in png svg pdf dat gp; do [ -s "rep/figures/$id.$ext" ] || fail "no figures/$id.$ext"; done
    grep -q "src=\"figures/$id.png\"" rep/report.html || fail "report.html does not show $id"
done
# The sections in their fixed order.
order=$(grep -o '^<a id="[a-z]*"></a>' rep/report.md | tr -d '\n')
[ "$order" = '<a id="context"></a><a id="ucurves"></a><a id="laws"></a><a id="data"></a><a id="predict"></a>' ] ||
    fail "sections out of order: $order"

# ---- the prose says what the analysis tables say ------------------------------------------------
col() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
sc=$(col rep/analysis/optimal_context.csv status)
[ -n "$sc" ] || fail "optimal_context.csv has no status column"
n_all=$(awk -F, 'NR > 1 && $1 == "size"' rep/analysis/optimal_context.csv | wc -l)
n_ok=$(awk -F, -v c="$sc" 'NR > 1 && $1 == "size" && $c == "ok"' rep/analysis/optimal_context.csv | wc -l)
grep -q "^\*\*$n_ok of $n_all U-curves have an interior minimum\.\*\*" rep/ucurves.md ||
    fail "ucurves.md does not say $n_ok of $n_all curves have an interior minimum"
n_no=$(grep -c "^- no interior minimum at this scale for budget" rep/ucurves.md)
[ "$n_no" -eq $((n_all - n_ok)) ] || fail "$n_no curves said to lack a minimum, expected $((n_all - n_ok))"
grep -q "not determined by these runs\|raised no warning" rep/laws.md || fail "laws.md gives no verdict"
grep -q "1 of 2 observed losses fell inside their 50% interval and 1 of 2 inside their 90%" \
    rep/predict.md || fail "predict.md miscounts the intervals"
grep -q "1 predicted run is not trained yet" rep/predict.md || fail "predict.md: untrained run"
grep -q "outside the 90% interval" rep/predict.md || fail "predict.md: no miss reported"

# Known truth: a synthetic sweep whose optimal contexts are known (tests/helpers/synth_sweep.h).
if [ -x "$S" ]; then
    mkdir -p known two
    "$S" known --sizes 2,3,4 --contexts 128,256,512,1024,2048 --budgets 1e16 --evals 12 ||
        fail "the helper could not write the sweep"
    expect_exit 0 "$NB/nb_ucurves" --runs known --out krep --boot 20
    grep -q '^\*\*3 of 3 U-curves have an interior minimum\.\*\*' krep/ucurves.md ||
        fail "known sweep: not 3 interior minima"
    "$S" --truth --sizes 2,3,4 --contexts 128,256,512,1024,2048 --budgets 1e16 --evals 12 |
        awk '$2 != "joint" {print $3, $4}' > truth.txt
    # Rows of the optimum table: budget, N, contexts, T*, ...
    grep '<td class="num">1e+16</td><td class="num">[0-9.e+]*</td><td>128, ' krep/ucurves.md |
        sed -E 's#</?t[dr][^>]*>#|#g' | awk -F'[|]+' '{print $3, $5}' > found.txt
    [ "$(wc -l < found.txt)" -eq 3 ] || fail "known sweep: $(wc -l < found.txt) optimum rows"
    awk 'NR == FNR {t[NR] = $0; next}
         {split(t[FNR], a, " "); if ($1 / a[1] < 0.999 || $1 / a[1] > 1.001 ||
          $2 / a[2] < 0.95 || $2 / a[2] > 1.05) {print "N " $1 " T* " $2 " truth " t[FNR]; bad = 1}}
         END {exit bad}' truth.txt found.txt || fail "known sweep: T* off the truth by > 5%"
    # Two contexts only: no interior minimum can exist, and the section must say so.
    "$S" two --sizes 2,3 --contexts 128,256 --budgets 1e16 --evals 12 ||
        fail "the helper could not write the small sweep"
    expect_exit 0 "$NB/nb_ucurves" --runs two --out trep --boot 20
    grep -q '^\*\*0 of 2 U-curves have an interior minimum\.\*\*' trep/ucurves.md ||
        fail "two contexts: an interior minimum claimed"
    grep -q "^- no interior minimum at this scale for budget C = 1e+16 FLOPs.*fewer than 3" \
        trep/ucurves.md || fail "two contexts: the reason is not given"
    expect_exit 0 "$NB/nb_laws" --runs two --out trep --boot 20 --law-boot 0
    grep -q "The law was not fitted" trep/laws.md || fail "4 runs: a law fit claimed"
fi

# ---- the hostile name: escaped everywhere, nothing run ------------------------------------------
for m in BT DL SYS; do
    [ -z "$(find "$T" -name "$m")" ] || fail "a command from the run name ran ($m exists)"
done
for f in rep/report.md rep/report.html rep/context.md rep/ucurves.md rep/predict.md; do
    # A raw tag is a '<' that no backslash escapes (the Markdown) and no entity replaces.
    ! grep -qE '(^|[^\\])<(script>alert|img src=x)' "$f" || fail "$f holds a raw tag of the run name"
done
grep -qF '\<script\>alert\(1\)\<x\>' rep/context.md || fail "context.md: name not escaped as text"
grep -qF '&lt;script&gt;alert(1)&lt;x&gt;' rep/predict.md || fail "predict.md: cell not escaped"
n=$(grep -oF '&lt;script&gt;alert(1)&lt;x&gt; &lt;img src=x onerror=alert(2)&gt;' rep/report.html | wc -l)
[ "$n" -ge 4 ] || fail "report.html shows the escaped name $n times, expected it in 4+ places"
! grep -q '<script\|onerror=\|javascript:' <(sed 's/&lt;[^&]*&gt;//g' rep/report.html) ||
    fail "report.html holds a script, an event handler or a javascript: URL"

# ---- every src and href resolves: a file under rep/ or an anchor of the page -----------------------
nlinks=0
while IFS= read -r u; do
    nlinks=$((nlinks + 1))
    case "$u" in
    '#'*) grep -q "id=\"${u#\#}\"" rep/report.html || fail "anchor $u has no target" ;;
    *:* | /*) fail "absolute or network link in report.html: $u" ;;
    *) [ -f "rep/$u" ] || fail "link to a missing file: $u" ;;
    esac
done < <(grep -oE '(src|href)="[^"]*"' rep/report.html | sed -E 's/^(src|href)="(.*)"$/\2/')
[ "$nlinks" -ge 40 ] || fail "only $nlinks links and images in report.html"

# ---- bad input: exit 2, nothing written -------------------------------------------------------------
mkdir -p empty
for p in nb_context nb_ucurves nb_laws; do
    expect_exit 2 "$NB/$p" --runs nowhere --out bad
    expect_err "nowhere"
    expect_exit 2 "$NB/$p" --runs empty --out bad
    expect_err "no run logs"
    expect_exit 2 "$NB/$p" --out bad
    expect_err "--runs DIR and --out DIR are required"
done
expect_exit 2 "$NB/nb_data" --runs empty --out bad
expect_err "no run logs"
expect_exit 2 "$NB/nb_data" --corpus runs --out bad
expect_exit 2 "$NB/nb_context" --runs runs --out bad --bogus
expect_err "unknown option '--bogus'"
[ ! -e bad/context.md ] && [ ! -e bad/ucurves.md ] && [ ! -e bad/laws.md ] || fail "bad input wrote a section"
printf 'run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed\nx,1,2,3,4,3,5,2,6,\n' > short.csv
expect_exit 2 "$NB/nb_predict" --prediction short.csv --out bad
expect_err "short.csv:1: expected the columns run,N,D,T"
printf 'run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed,rel_error\nx,1,2,3,4,5,4,3,6,,\n' > order.csv
expect_exit 2 "$NB/nb_predict" --prediction order.csv --out bad
expect_err "order.csv:2: expected lo90 <= lo50 <= hi50 <= hi90"
printf 'run,N,D,T,predicted,lo50,hi50,lo90,hi90,observed,rel_error\nx,1,-2,3,4,3,5,2,6,,\n' > neg.csv
expect_exit 2 "$NB/nb_predict" --prediction neg.csv --out bad
expect_err 'neg.csv:2: column "D": expected a positive number'
[ ! -e bad/predict.md ] || fail "a bad prediction file wrote a section"
expect_exit 2 "$NB/report" --out empty
expect_err "empty/context.md: missing; it is written by nb_context"
sum=$(md5sum < rep/context.md)
expect_exit 2 "$NB/nb_context" --runs runs --out rep
expect_err "rep/context.md: exists; use --force"
[ "$(md5sum < rep/context.md)" = "$sum" ] || fail "an existing section was changed"
expect_exit 2 "$NB/report" --out rep
expect_err "rep/report.md: exists"

# ---- headless Chromium ------------------------------------------------------------------------------
CHROME=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROME" ]; then
    echo "chromium not installed (make deps installs it): browser checks skipped"
    exit 77
fi
command -v python3 > /dev/null 2>&1 || { echo "python3 not installed: skipped"; exit 77; }
chrome() {
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$T/chrome" --allow-file-access-from-files "$@" 2> "$T/chrome.log"
}
chrome --window-size=1000,800 --screenshot="$T/shot.png" "file://$T/rep/report.html" > /dev/null ||
    fail "chromium could not take a screenshot: $(tail -3 "$T/chrome.log")"
[ -s shot.png ] || fail "empty screenshot"
# Decodes the PNG (stdlib only) and requires more than a blank page: many colours, none covering
# 99% of the pixels.
python3 - shot.png > png.txt <<'EOF' || fail "screenshot: $(cat png.txt)"
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
if d[:8] != b'\x89PNG\r\n\x1a\n':
    print('not a PNG'); sys.exit(1)
pos, idat = 8, []
while pos + 8 <= len(d):
    n, typ = struct.unpack('>I4s', d[pos:pos + 8])
    if typ == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', d[pos + 8:pos + 18])
    elif typ == b'IDAT':
        idat.append(d[pos + 8:pos + 8 + n])
    pos += 12 + n
if depth != 8 or ctype not in (2, 6):
    print('unexpected PNG format: depth %d, colour type %d' % (depth, ctype)); sys.exit(1)
raw, bpp = zlib.decompress(b''.join(idat)), (3 if ctype == 2 else 4)
stride, prev, colours = w * bpp, bytearray(w * bpp), {}
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, w, 4):
        px = bytes(line[x * bpp:x * bpp + 3])
        colours[px] = colours.get(px, 0) + 1
    prev = line
share = max(colours.values()) / sum(colours.values())
print('%dx%d, %d colours, the commonest covers %.1f%%' % (w, h, len(colours), 100 * share))
sys.exit(0 if len(colours) >= 10 and share < 0.99 else 1)
EOF
cat png.txt

# The report runs no script (its Content-Security-Policy forbids it), so a test page frames it
# and inspects it: each <img> loaded, each relative link fetched, each anchor found.
cat > check.html <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<iframe id="f" src="rep/report.html" width="1000" height="800"></iframe><pre id="out">pending</pre>
<script>
function fetchable(url) {
    try { var x = new XMLHttpRequest(); x.open('GET', url, false); x.send();
          return x.status === 0 || x.status === 200; } catch (e) { return false; }
}
document.getElementById('f').addEventListener('load', function () {
    var out = [], d = this.contentDocument;
    if (!d || !d.body) { document.getElementById('out').textContent = 'NODOC'; return; }
    d.querySelectorAll('img').forEach(function (i) {
        out.push('IMG ' + (i.complete && i.naturalWidth > 0 ? 'ok ' : 'broken ') + i.getAttribute('src'));
    });
    d.querySelectorAll('a[href]').forEach(function (a) {
        var h = a.getAttribute('href');
        if (h.charAt(0) === '#')
            out.push('ANCHOR ' + (d.getElementById(h.slice(1)) ? 'ok ' : 'broken ') + h);
        else
            out.push('LINK ' + (fetchable(a.href) ? 'ok ' : 'broken ') + h);
    });
    out.push('SCRIPTS ' + d.querySelectorAll('script, [onerror], [onload]').length);
    out.push('TEXT ' + (d.body.textContent.indexOf('<script>alert(1)<x>') >= 0 ? 'shown' : 'absent'));
    document.getElementById('out').textContent = out.join('\n');
});
</script></body></html>
EOF
chrome --virtual-time-budget=10000 --dump-dom "file://$T/check.html" > dom.html ||
    fail "chromium could not load the check page: $(tail -3 "$T/chrome.log")"
sed -n '/<pre id="out">/,/<\/pre>/p' dom.html | sed 's/<[^>]*>//g' > checks.txt
nimg=$(grep -c '^IMG ok' checks.txt)
[ "$nimg" -eq "$(grep -o '<img ' rep/report.html | wc -l)" ] && [ "$nimg" -ge 8 ] ||
    fail "$nimg images loaded in chromium: $(grep '^IMG' checks.txt | head)"
! grep -q 'broken\|NODOC\|pending' checks.txt || fail "in chromium: $(grep 'broken\|NODOC\|pending' checks.txt | head)"
[ "$(grep -c '^LINK ok' checks.txt)" -ge 30 ] || fail "too few links checked: $(head checks.txt)"
grep -q '^SCRIPTS 0$' checks.txt || fail "the page has script elements or handlers"
grep -q '^TEXT shown$' checks.txt || fail "the hostile name is not shown as text"
echo "chromium: $nimg images, $(grep -c '^LINK ok' checks.txt) links, $(grep -c '^ANCHOR ok' checks.txt) anchors"
echo ok
