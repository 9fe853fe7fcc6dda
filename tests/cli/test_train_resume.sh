# tests/cli/test_train_resume.sh: interrupted runs continue bit-identically. A reference run is
# compared, column by column and digit by digit (wall-clock columns excepted), with the same run
# stopped by --stop-after, by SIGTERM and by kill -9 at random moments, each then continued with
# `ctxscale train --resume` (same thread count). Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

export OPENBLAS_NUM_THREADS=1
CS="$CTXSCALE"
RUN=(--layers 2 --d-model 32 --heads 2 --context 64 --batch-tokens 1024 --tokens 81920
     --lr 1e-2 --eval-every 10 --ckpt-every 3 --threads 1 -q)

expect_exit 0 "$CS" data synth --docs 80 --doc-len 1024 --vocab 64 --alpha 2 --floor-docs 0 \
    --out "$T/synth"
RUN+=(--data "$T/synth")

# The trajectory of a run: every steps column but wall_s and tokens_per_s, every eval column,
# and the contextwise losses, as exact decimal text.
trajectory() {
    "$CS" runs export "$1" --table steps | cut -d, -f2-6,8-11
    "$CS" runs export "$1" --table eval
    "$CS" runs export "$1" --table contextwise
}

t0=$(date +%s%N)
expect_exit 0 "$CS" train "${RUN[@]}" --out "$T/ref"
ref_ms=$((($(date +%s%N) - t0) / 1000000))
trajectory "$T/ref" | sed 's|^[^,]*,||' > "$T/ref.txt"
[ "$(grep -c . "$T/ref.txt")" -gt 80 ] || fail "reference trajectory too short"

same_as_ref() { # DIR LABEL
    trajectory "$1" | sed 's|^[^,]*,||' > "$T/$2.txt"
    cmp -s "$T/ref.txt" "$T/$2.txt" ||
        fail "$2: trajectory differs from the uninterrupted run:
$(diff "$T/ref.txt" "$T/$2.txt" | head -20)"
    "$CS" runs list "$1" --csv > "$T/$2.list"
    grep -q ",finished,80,80," "$T/$2.list" || fail "$2: not finished: $(cat "$T/$2.list")"
}

# --stop-after: checkpoint and stop after 25 steps, then continue.
expect_exit 0 "$CS" train "${RUN[@]}" --out "$T/stop" --stop-after 25
expect_err "stopped at step 25 of 80"
"$CS" runs show "$T/stop/run.h5" > "$T/stop.show"
grep -q "interrupted at step 25; resume with --resume" "$T/stop.show" || fail "no interrupted message"
expect_exit 0 "$CS" train "${RUN[@]}" --out "$T/stop" --resume
same_as_ref "$T/stop" stop
# Resuming a finished run changes nothing.
expect_exit 0 "$CS" train "${RUN[@]}" --out "$T/stop" --resume
same_as_ref "$T/stop" stop-again

# A checkpoint of other settings, a corrupt and a truncated one are refused (exit 2), and the
# run is left as it was.
expect_exit 2 "$CS" train "${RUN[@]}" --lr 2e-2 --out "$T/stop" --resume
expect_err "other settings"
cp -r "$T/stop" "$T/bad"
sum=$(md5sum < "$T/bad/run.h5")
size=$(stat -c %s "$T/bad/ckpt.bin")
printf '\x7f' | dd of="$T/bad/ckpt.bin" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_exit 2 "$CS" train "${RUN[@]}" --out "$T/bad" --resume
expect_err "corrupt"
truncate -s $((size - 100)) "$T/bad/ckpt.bin"
expect_exit 2 "$CS" train "${RUN[@]}" --out "$T/bad" --resume
expect_err "truncated"
[ "$(md5sum < "$T/bad/run.h5")" = "$sum" ] || fail "a refused resume changed run.h5"

# SIGTERM: checkpoint, log closed cleanly, exit 0; then continue.
"$CS" train "${RUN[@]}" --out "$T/term" > "$T/term.out" 2> "$T/term.err" &
pid=$!
i=0
while [ ! -s "$T/term/ckpt.bin" ] && [ "$i" -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || fail "SIGTERM: exit $rc: $(cat "$T/term.err")"
if grep -q "stopped at step" "$T/term.err"; then
    expect_exit 0 "$CS" train "${RUN[@]}" --out "$T/term" --resume
fi
same_as_ref "$T/term" term

# kill -9 at random moments (5% to 95% of the reference run's duration), then --resume (or a
# fresh start when no checkpoint was written).
for trial in 1 2 3 4; do
    d="$T/kill$trial"
    "$CS" train "${RUN[@]}" --out "$d" > /dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v ms="$ref_ms" -v r=$((RANDOM % 91 + 5)) 'BEGIN { printf "%.3f", ms * r / 100000 }')"
    kill -9 "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    if [ -s "$d/ckpt.bin" ]; then
        echo "kill trial $trial: killed with $("$CS" runs list "$d" --csv | awk -F, 'NR == 2 {print $2 ", " $3}') steps logged"
        expect_exit 0 "$CS" train "${RUN[@]}" --out "$d" --resume
    else
        expect_exit 0 "$CS" train "${RUN[@]}" --out "$d" --force
    fi
    same_as_ref "$d" "kill$trial"
    echo "kill trial $trial: ok"
done
echo ok
