# tests/cli/test_docs_laws.sh: runs every example command of docs/laws.md (indented lines starting
# with `ctxscale`, continued by a trailing backslash) in a scratch directory and expects each to
# succeed. The files the examples name are provided here: runs.csv (points drawn from the ndt law
# with 0.2% noise) and svg_extracted_data.csv (Epoch's data; examples that need it are skipped
# when ../shared/data/external is absent). Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

DOC="$CS_SRC/docs/laws.md"
cd "$T" || fail "cannot enter $T"
ctxscale() { "$CTXSCALE" "$@"; }

# ndt with E 1.7, A 400, alpha 0.34, B 1100, beta 0.28, G 6, gamma 0.5 on a grid of N, D, T.
awk 'BEGIN { srand(7); print "N,D,T,L";
  for (i = 0; i < 4; i++) for (j = 0; j < 4; j++) for (k = 0; k < 4; k++) {
    N = 1e7 * 4^i; D = 2e8 * 4^j; T = 128 * 4^k;
    L = 1.7 + 400 / N^0.34 + 1100 / D^0.28 + 6 / T^0.5;
    printf "%.6g,%.6g,%d,%.10g\n", N, D, T, L * (1 + 0.002 * (2 * rand() - 1)) } }' > runs.csv

E="$CS_SRC/../shared/data/external/epoch-analyzing-chinchilla/svg_extracted_data.csv"
[ -f "$E" ] || E=/work/shared/data/external/epoch-analyzing-chinchilla/svg_extracted_data.csv
[ -f "$E" ] && cp "$E" svg_extracted_data.csv

# Collect the examples: one command per element, continuation lines joined.
mapfile -t cmds < <(awk '
  /^    ctxscale / && !open { cmd = substr($0, 5); open = 1 }
  open && cmd != substr($0, 5) { cmd = cmd " " substr($0, 5) }
  open { if (cmd ~ /\\$/) { sub(/\\$/, "", cmd); next } print cmd; open = 0; cmd = "" }
' "$DOC")
[ "${#cmds[@]}" -ge 4 ] || fail "found only ${#cmds[@]} examples in docs/laws.md"

ran=0
for c in "${cmds[@]}"; do
    if [[ "$c" == *svg_extracted_data.csv* ]] && [ ! -f svg_extracted_data.csv ]; then
        echo "skipped (Epoch data absent): $c"
        continue
    fi
    # Outputs of one example may be inputs of the next; a later example writing the same file
    # replaces it (the examples do not say --force).
    out=$(sed -n 's/.*--json \([^ ]*\).*/\1/p' <<<"$c")
    [ -n "$out" ] && rm -f "$out"
    eval "expect_exit 0 $c" || fail "example failed: $c"
    ran=$((ran + 1))
done
echo "ran $ran of ${#cmds[@]} examples"
echo ok
