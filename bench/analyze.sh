#!/usr/bin/env bash
# bench/analyze.sh: the context-scaling analysis of 1,000 synthetic run logs (issue goal: <= 10 s):
# bench/bench_analyze.c writes them and times the library (with and without the ndt law fit),
# then the `ctxscale analyze` command is timed on the same logs, CSV and JSON output included.
# BENCH_QUICK=1 uses 100 logs (a smoke check, not for recording).
set -u
: "${BUILD:=build}"
quick=""
[ "${BENCH_QUICK:-0}" = 1 ] && quick="--quick"
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench_analyze.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$BUILD/bench/bench_analyze" $quick --dir "$dir/runs" || exit 1
start=$(date +%s.%N)
"$BUILD/ctxscale" analyze "$dir/runs" -q --out "$dir/cli" --json "$dir/cli/analysis.json" || exit 1
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN { printf "ctxscale analyze (command, CSV and JSON written): %.2f s\n", b - a }'
