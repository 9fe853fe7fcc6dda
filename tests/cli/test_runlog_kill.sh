# tests/cli/test_runlog_kill.sh: crash safety of the run log (core/runlog.c). A writer
# (tests/helpers/runlog_writer.c) logs steps in a loop, printing each step once its append
# returned; we kill it with SIGKILL after a random delay (0 to 300 ms, so some kills land during
# start-up and file creation), then check with the reader that every printed step is in the file
# with exactly the values written, and that the status says "running". When the writer printed
# nothing, the reader may refuse the file, but only with a clean CS_EINPUT/CS_EIO error. A clean
# run must end "finished". Also checks h5dump after `h5clear -s`, as docs/runlog.md says.
# Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

case "$CS_BUILD" in /*) B=$CS_BUILD ;; *) B=$CS_SRC/$CS_BUILD ;; esac
W=$B/tests/helpers/runlog_writer
[ -x "$W" ] || { echo "skip: $W not built (make test builds it)"; exit 77; }

TRIALS=${RUNLOG_KILL_TRIALS:-25}
with_rows=0

# trial NAME DELAY_S: one writer killed after DELAY_S seconds; sets $rows.
trial() {
    local p="$T/$1.h5" out="$T/$1.out" rc
    rm -f "$p" "$p.part"
    : > "$out" # a kill before the redirection opened it must still leave an empty list
    "$W" write "$p" 1000000000 running > "$out" 2> "$T/$1.err" &
    local pid=$!
    sleep "$2"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    [ "$rc" -eq 137 ] || fail "trial $1: writer ended with $rc before the kill: $(cat "$T/$1.err")"
    rows=$(grep -c . "$out")
    "$W" check "$p" "$out" running > "$T/$1.check" 2>&1
    rc=$?
    echo "trial $1: delay $2 s, $rows steps printed, check exit $rc: $(tail -n 1 "$T/$1.check")"
    case $rc in
    0) ;;
    3) [ "$rows" -eq 0 ] || fail "trial $1: reader refused a file with $rows committed steps:
$(cat "$T/$1.check")"
       grep -q -E "open failed: (EINPUT|EIO): $p" "$T/$1.check" ||
           fail "trial $1: unclear error: $(cat "$T/$1.check")" ;;
    *) fail "trial $1: check failed (exit $rc):
$(cat "$T/$1.check")" ;;
    esac
    # A leftover "<path>.part" (killed before SWMR start) must be refused cleanly, not crash us.
    if [ -e "$p.part" ]; then
        echo "trial $1: killed while creating the file ($p.part left behind)"
        "$W" check "$p.part" /dev/null any > "$T/$1.part.check" 2>&1
        rc=$?
        [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "trial $1: reading $p.part: exit $rc"
    fi
    [ "$rows" -gt 0 ] && with_rows=$((with_rows + 1))
    return 0
}

for i in $(seq 1 "$TRIALS"); do
    if [ "$i" -le 3 ]; then
        d=0
    elif [ "$i" -le 12 ]; then
        d=$(printf '0.%03d' $((RANDOM % 40))) # around start-up and file creation
    else
        d=$(printf '0.%03d' $((RANDOM % 300)))
    fi
    trial "t$i" "$d"
done
# On a loaded machine the writer may need longer to start: make sure some trials killed it
# mid-run (this only adds trials, it asserts nothing about speed).
extra=0
while [ "$with_rows" -lt 5 ] && [ "$extra" -lt 20 ]; do
    extra=$((extra + 1))
    trial "x$extra" "$(printf '%d.%03d' $((extra / 4)) $((RANDOM % 1000)))"
done
[ "$with_rows" -ge 5 ] || fail "only $with_rows trials killed the writer after its first step"

# The file of a killed writer: h5dump refuses it until `h5clear -s` (on a copy) resets its
# "open for writing" flags; then it dumps. Documented in docs/runlog.md.
if command -v h5clear >/dev/null && command -v h5dump >/dev/null; then
    last=$(ls "$T"/*.h5 | head -n 1)
    cp "$last" "$T/cleared.h5"
    h5clear -s "$T/cleared.h5" || fail "h5clear -s failed"
    h5dump -d /steps/n_rows "$T/cleared.h5" > "$T/dump" 2>&1 || fail "h5dump after h5clear: $(cat "$T/dump")"
fi

# A clean run ends with status "finished" and every step.
"$W" write "$T/clean.h5" 57 finish > "$T/clean.out" || fail "clean run failed"
"$W" check "$T/clean.h5" "$T/clean.out" finished || fail "clean run check failed"
[ "$(grep -c . "$T/clean.out")" -eq 57 ] || fail "clean run printed $(grep -c . "$T/clean.out") steps"
echo "ok: $TRIALS trials ($with_rows with committed rows) + $extra extra"
