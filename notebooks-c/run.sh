#!/usr/bin/env bash
# notebooks-c/run.sh: runs every notebook of notebooks-c/ and then the report; called by
# `make notebooks` (docs/notebooks.md). Environment: BUILD (build directory, default build),
# RUNS (the sweep's run logs, default out/demo/sweep), REPORT (output directory, default
# out/demo/report), and optionally PREDICTION (the prediction CSV for nb_predict), CORPUS (the
# token store for nb_data), C1 (the run log figure C1 draws) and FLOOR (its loss floor: nats/token
# or a synth.json). The notebooks replace their own files in REPORT (--force). Tested by
# tests/cli/test_report.sh, which runs the same programs.
set -euo pipefail
: "${BUILD:=build}"
: "${RUNS:=out/demo/sweep}"
: "${REPORT:=out/demo/report}"
NB="$BUILD/notebooks"

if [ ! -d "$RUNS" ]; then
    echo "make notebooks: RUNS=$RUNS is not a directory of run logs (make demo writes one)" >&2
    exit 2
fi
ctx=()
[ -n "${C1:-}" ] && ctx+=(--c1 "$C1")
[ -n "${FLOOR:-}" ] && ctx+=(--floor "$FLOOR")
data=()
[ -n "${CORPUS:-}" ] && data+=(--corpus "$CORPUS")
pred=()
[ -n "${PREDICTION:-}" ] && pred+=(--prediction "$PREDICTION")

echo "notebooks: $RUNS -> $REPORT"
"$NB/nb_context" --runs "$RUNS" --out "$REPORT" --force "${ctx[@]}"
"$NB/nb_ucurves" --runs "$RUNS" --out "$REPORT" --force
"$NB/nb_laws" --runs "$RUNS" --out "$REPORT" --force
"$NB/nb_data" --runs "$RUNS" --out "$REPORT" --force "${data[@]}"
"$NB/nb_predict" --out "$REPORT" --force "${pred[@]}"
"$NB/report" --out "$REPORT" --force > /dev/null
echo "report: $REPORT/report.md"
echo "open it: file://$(cd "$REPORT" && pwd)/report.html"
