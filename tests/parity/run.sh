#!/usr/bin/env bash
# tests/parity/run.sh: runs the parity binaries given as arguments (built from tests/parity/*.c)
# and prints PASS, SKIP (exit 77: no usable GPU) or FAIL for each, with the last lines of a
# failing test's output, then a summary. Full output of each test: <binary>.log beside it.
# Called by `make test-gpu`; exits 1 if any test failed.
set -u
passed=0 failed=0 skipped=0
for t in "$@"; do
    name=$(basename "$t")
    log="$t.log"
    "$t" >"$log" 2>&1
    rc=$?
    case $rc in
    0) passed=$((passed + 1)); printf '  PASS  %s (%s)\n' "$name" "$(tail -n 1 "$log")" ;;
    77) skipped=$((skipped + 1)); printf '  SKIP  %s: %s\n' "$name" "$(tail -n 1 "$log")" ;;
    *) failed=$((failed + 1))
       printf '  FAIL  %s (exit %d), last lines of %s:\n' "$name" "$rc" "$log"
       grep -E '^(FAIL|    )|parity .*: ' "$log" | tail -n 25 | sed 's/^/        /' ;;
    esac
done
echo "parity: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
