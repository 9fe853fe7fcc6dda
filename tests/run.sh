#!/usr/bin/env bash
# tests/run.sh: runs every test of ctxscale and prints one summary line "N passed, N failed,
# N skipped". Arguments: the unit-test binaries; then every tests/cli/*.sh runs with CTXSCALE set
# to the built binary. Exit 77 from a test means skipped. Called by `make run-tests`.
set -u
: "${CS_BUILD:=build}"
: "${CS_SRC:=$(pwd)}"
export CS_BUILD CS_SRC
export CTXSCALE="$CS_SRC/$CS_BUILD/ctxscale"
case "$CS_BUILD" in /*) export CTXSCALE="$CS_BUILD/ctxscale" ;; esac
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0 failed=0 skipped=0
failed_names=()
logdir="$CS_BUILD/test-logs"
mkdir -p "$logdir"

run_one() {
    local name=$1; shift
    local log="$logdir/$name.log"
    local rc
    TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/cs-test-$name.XXXXXX")
    export TMPDIR
    "$@" >"$log" 2>&1
    rc=$?
    rm -rf "$TMPDIR"
    unset TMPDIR
    case $rc in
    0) passed=$((passed + 1)); printf '  PASS  %s\n' "$name" ;;
    77) skipped=$((skipped + 1)); printf '  SKIP  %s: %s\n' "$name" "$(tail -n 1 "$log")" ;;
    *) failed=$((failed + 1)); failed_names+=("$name")
       printf '  FAIL  %s (exit %d), last lines of %s:\n' "$name" "$rc" "$log"
       tail -n 25 "$log" | sed 's/^/        /' ;;
    esac
}

for t in "$@"; do
    run_one "$(basename "$t")" "$t"
done
for s in "$CS_SRC"/tests/cli/test_*.sh; do
    [ -e "$s" ] || continue
    run_one "$(basename "$s" .sh)" bash "$s"
done

echo
if [ "$failed" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
