# tests/cli/test_runlog_h5py.sh: run logs read by a second, independent reader. The example
# reader of docs/runlog.md (tests/py/read_runlog.py, h5py only) must print exactly what the C
# reader prints (tests/helpers/runlog_writer.c dump) for a finished log and for the log of a
# writer killed with SIGKILL (opened with swmr=True, as the page says); h5dump must read the
# finished log as it is. Skips (77) when no python3 with h5py and numpy is found.
# Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

case "$CS_BUILD" in /*) B=$CS_BUILD ;; *) B=$CS_SRC/$CS_BUILD ;; esac
W=$B/tests/helpers/runlog_writer
R=$CS_SRC/tests/py/read_runlog.py
[ -x "$W" ] || { echo "skip: $W not built (make test builds it)"; exit 77; }

# The python3 on PATH may be a private one without h5py; Debian's python3-h5py lives with
# /usr/bin/python3.
PY=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import h5py, numpy' 2>/dev/null; then
        PY=$p
        break
    fi
done
[ -n "$PY" ] || { echo "skip: no python3 can import h5py and numpy (Debian: python3-h5py)"; exit 77; }

# same_dump FILE: the C and the h5py reader print the same lines (in any order).
same_dump() {
    "$W" dump "$1" > "$T/c.txt" 2> "$T/c.err" || fail "C dump of $1: $(cat "$T/c.err")"
    "$PY" "$R" --dump "$1" > "$T/py.txt" 2> "$T/py.err" || fail "h5py read of $1: $(cat "$T/py.err")"
    sort "$T/c.txt" > "$T/c.sorted"
    sort "$T/py.txt" > "$T/py.sorted"
    diff "$T/c.sorted" "$T/py.sorted" > "$T/diff" || fail "readers differ on $1:
$(head -c 2000 "$T/diff")"
    [ "$(wc -l < "$T/c.txt")" -ge 20 ] || fail "dump of $1 too short"
}

# A finished log.
"$W" write "$T/done.h5" 42 finish > /dev/null || fail "writer failed"
same_dump "$T/done.h5"
grep -q "^status finished done$" "$T/py.txt" || fail "h5py did not see status finished"
grep -q "^config data_name str tiny ünïcode ✓$" "$T/py.txt" || fail "UTF-8 config string differs"
"$PY" "$R" "$T/done.h5" > "$T/summary" || fail "summary mode failed"
grep -q "steps: 42, evals: 8" "$T/summary" || fail "summary: $(cat "$T/summary")"

# A log whose writer was killed mid-run: still status running, every committed row readable.
: > "$T/killed.out" # exists before the background writer gets to open it
"$W" write "$T/killed.h5" 1000000000 running > "$T/killed.out" 2>/dev/null &
pid=$!
i=0
while [ "$(grep -c . "$T/killed.out")" -lt 50 ] && [ "$i" -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$pid"
wait "$pid" 2>/dev/null
[ "$(grep -c . "$T/killed.out")" -ge 50 ] || fail "writer did not get going"
same_dump "$T/killed.h5"
grep -q "^status running $" "$T/py.txt" || fail "h5py did not see status running"

# h5dump reads a finished log directly.
if command -v h5dump >/dev/null; then
    h5dump -d /eval/bin_edges "$T/done.h5" > "$T/h5dump" 2>&1 || fail "h5dump: $(cat "$T/h5dump")"
    grep -q "1, 2, 5, 11, 26, 57, 129" "$T/h5dump" || fail "h5dump bin_edges: $(cat "$T/h5dump")"
fi
echo "ok: C and h5py readers agree ($PY)"
