#!/usr/bin/env bash
# bench/run.sh: runs ctxscale's benchmarks side by side and prints their figures with the machine
# and date, for recording in bench/RESULTS.md. Called by `make bench` (BUILD names the build
# directory). BENCH_QUICK=1 runs shorter versions (for a smoke check, not for recording).
set -u
: "${BUILD:=build}"
echo "# ctxscale benchmarks: $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')," \
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "# git $(git rev-parse --short HEAD 2>/dev/null || echo unknown); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for b in "$BUILD"/bench/bench_*; do
    [ -x "$b" ] || continue
    name=$(basename "$b")
    script="bench/${name#bench_}.sh"
    echo
    echo "## $name"
    if [ -f "$script" ]; then
        BUILD="$BUILD" bash "$script" || status=1
    else
        "$b" || status=1
    fi
done
exit $status
