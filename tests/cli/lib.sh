# tests/cli/lib.sh: helpers for the CLI tests (sourced). Each test script runs commands through
# `expect_exit CODE cmd...`, then greps the captured stdout/stderr with `expect_err`/`expect_out`.
# A script exits 1 at its first failed check, 77 to skip.
set -u
: "${CTXSCALE:?run through make test (tests/run.sh sets CTXSCALE)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/cli.XXXXXX")
OUT="$T/stdout"
ERR="$T/stderr"

fail() { echo "FAIL: $*"; echo "--- stdout"; head -c 3000 "$OUT" 2>/dev/null; echo "--- stderr";
         head -c 3000 "$ERR" 2>/dev/null; exit 1; }

# expect_exit CODE cmd args...: runs the command, capturing stdout and stderr.
expect_exit() {
    local want=$1; shift
    "$@" >"$OUT" 2>"$ERR"
    local rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc, expected $want: $*"
}
expect_err() { grep -q -- "$1" "$ERR" || fail "stderr lacks '$1'"; }
expect_out() { grep -q -- "$1" "$OUT" || fail "stdout lacks '$1'"; }
