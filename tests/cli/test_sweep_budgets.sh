# tests/cli/test_sweep_budgets.sh: `ctxscale sweep` with train's whole key table, FLOPs budgets
# and WSD decay branches, on tiny models (seconds). Every key of `ctxscale train` works in a sweep
# (model.mup_base_width); [train] flops turns each budget into whole steps exactly as
# `ctxscale train --flops` does, and the run log says which budget it came from; a WSD family
# ([train] decay_budgets) trains its stable phase once, and each branch's log equals, digit for
# digit, a WSD run trained straight to that budget, also after the sweep is killed (alone, or
# with its runs) and run again; bad configs exit 2 naming file, key and run. Run by `make test`.
. "$CS_SRC/tests/cli/lib.sh"

export OPENBLAS_NUM_THREADS=1
CS="$CTXSCALE"
cd "$T" || fail "cd $T"

expect_exit 0 "$CS" data synth --docs 40 --doc-len 512 --vocab 32 --floor-docs 0 --out synth

# ---- every train key is a sweep key: model.mup_base_width, as a constant and as an axis -------
cat > mup.cfg <<'EOF'
[model]
layers = 1
d_model = 16
heads = 2
mup_base_width = 8, 16
[data]
corpus = synth
context = 32
[train]
batch_tokens = 512
tokens = 1024
[sweep]
out = mup
EOF
expect_exit 0 "$CS" sweep mup.cfg -q --threads 1
expect_out "2 of 2 runs finished"
"$CS" runs show mup/l1-d16-T32-D1024-mup8/run.h5 > show.txt || fail "no mup8 run: $(ls mup)"
grep -q "mup_base_width = 8" show.txt || fail "mup_base_width not passed: $(cat show.txt)"
grep -q "parametrization = \"mup\"" show.txt || fail "not trained in muP"
"$CS" runs show mup/l1-d16-T32-D1024-mup16/run.h5 | grep -q "mup_base_width = 16" ||
    fail "mup16 run lacks its base width"

# ---- FLOPs budgets -----------------------------------------------------------------------------
cat > flops.cfg <<'EOF'
[model]
layers = 1
d_model = 16, 32
heads = 2
[data]
corpus = synth
context = 32
[train]
batch_tokens = 512
flops = 1e8, 3e8
[sweep]
out = flops
EOF
expect_exit 0 "$CS" sweep flops.cfg --dry-run
for n in l1-d16-T32-C1e8 l1-d16-T32-C3e8 l1-d32-T32-C1e8 l1-d32-T32-C3e8; do
    expect_out "^$n "
done
# tokens = round(C / (FLOPs per token x batch tokens)) steps, as `ctxscale train --dry-run`
# reports for the same budget; check it by hand for d = 16: 6 N + 6 L T d = 22944 FLOPs/token.
"$CS" train --dry-run --layers 1 --d-model 16 --heads 2 --context 32 --batch-tokens 512 \
    --flops 3e8 > dry.txt || fail "train --dry-run --flops failed"
grep -q "FLOPs per token: 22944 " dry.txt || fail "FLOPs per token: $(cat dry.txt)"
steps=$(awk 'BEGIN { s = 3e8 / 22944 / 512; printf "%d", s + 0.5 }')
grep -q "^steps: $steps of 512 tokens" dry.txt || fail "expected $steps steps: $(cat dry.txt)"
grep -q "^l1-d16-T32-C3e8 .* $(printf '%.3e' $((steps * 512 * 22944))) " "$OUT" ||
    fail "sweep plans other FLOPs for C3e8 than $steps steps"
expect_exit 0 "$CS" sweep flops.cfg -q --jobs 2 --threads 1
expect_out "4 of 4 runs finished"
"$CS" runs show flops/l1-d16-T32-C3e8/run.h5 > show.txt
grep -q "budget_flops = 300000000" show.txt || fail "no budget_flops in the log: $(cat show.txt)"
grep -q "tokens_total = $((steps * 512)) tokens" show.txt || fail "tokens_total: $(cat show.txt)"
"$CS" runs show flops/l1-d32-T32-C1e8/run.h5 | grep -q "budget_flops = 100000000" ||
    fail "l1-d32-T32-C1e8 lacks budget_flops"
# `ctxscale train --flops` gives the same run as the sweep.
expect_exit 0 "$CS" train --data synth --layers 1 --d-model 16 --heads 2 --context 32 \
    --batch-tokens 512 --flops 3e8 --threads 1 -q --out flops-train
"$CS" runs export flops-train --table steps | cut -d, -f2-6,8-11 > a.txt
"$CS" runs export flops/l1-d16-T32-C3e8 --table steps | cut -d, -f2-6,8-11 > b.txt
cmp -s a.txt b.txt || fail "train --flops and the sweep differ: $(diff a.txt b.txt | head)"

# ---- WSD decay branches ------------------------------------------------------------------------
# Three token budgets of 10, 20 and 40 steps, decaying over the last 30%: the trunk (40 steps)
# stops at steps 7 and 14 so that the 10- and 20-step runs can decay from copies of its state.
cat > wsd.cfg <<'EOF'
[model]
layers = 1
d_model = 16
heads = 2
[data]
corpus = synth
context = 32
[train]
batch_tokens = 512
lr = 1e-2
schedule = wsd
decay_frac = 0.3
warmup_steps = 3
decay_budgets = 5120, 10240, 20480
[eval]
every = 4
[run]
ckpt_every = 2
[sweep]
out = wsd
EOF
expect_exit 0 "$CS" sweep wsd.cfg --dry-run
expect_out "^l1-d16-T32-D5120 .* new (decays from step 7 of l1-d16-T32-D20480)"
expect_out "^l1-d16-T32-D10240 .* new (decays from step 14 of l1-d16-T32-D20480)"
expect_out "^l1-d16-T32-D20480 .* new (WSD trunk)"
# The family trains 40 + 3 + 6 = 49 steps instead of 70.
expect_out "(70.0%)"
[ ! -e wsd ] || fail "dry run created the runs directory"

# trajectory DIR: every steps column but wall_s and tokens_per_s, every eval column and the
# contextwise losses, as exact decimal text.
trajectory() {
    { "$CS" runs export "$1" --table steps | cut -d, -f2-6,8-11
      "$CS" runs export "$1" --table eval
      "$CS" runs export "$1" --table contextwise; } | sed 's|^[^,]*,||'
}
# The reference: each budget trained straight, as one WSD run with the same settings.
for d in 5120 10240 20480; do
    expect_exit 0 "$CS" train --data synth --layers 1 --d-model 16 --heads 2 --context 32 \
        --batch-tokens 512 --lr 1e-2 --schedule wsd --decay-frac 0.3 --warmup-steps 3 \
        --eval-every 4 --ckpt-every 2 --tokens "$d" --threads 1 -q --out "ref$d"
    trajectory "ref$d" > "ref$d.txt"
done
# same_as_straight DIR LABEL: each run of the family is finished and its log equals the straight
# run's, digit for digit (the branches' first rows are the trunk's, copied).
same_as_straight() {
    for d in 5120 10240 20480; do
        "$CS" runs show "$1/l1-d16-T32-D$d/run.h5" | grep -q "^status: *finished" ||
            fail "$2: D$d not finished"
        trajectory "$1/l1-d16-T32-D$d" > "$2-$d.txt"
        cmp -s "ref$d.txt" "$2-$d.txt" ||
            fail "$2: D$d differs from a straight WSD run: $(diff "ref$d.txt" "$2-$d.txt" | head)"
    done
    [ -z "$(find "$1" -name .from)" ] || fail "$2: copies of the trunk left behind"
}
expect_exit 0 "$CS" sweep wsd.cfg --threads 1
expect_out "start l1-d16-T32-D20480 (stable phase to step 7)"
expect_out "l1-d16-T32-D20480: stable phase at step 7; 1 decay branch(es) start from there"
expect_out "start l1-d16-T32-D5120 (decay branch)"
expect_out "3 of 3 runs finished"
same_as_straight wsd wsd
"$CS" runs show wsd/l1-d16-T32-D10240/run.h5 | grep -q "branch_step = 14" || fail "no branch_step"
[ "$(grep -c . ref5120.txt)" -gt 20 ] || fail "reference trajectory too short"
# Analysis sees one finished run per budget.
"$CS" runs list wsd --csv > list.csv
[ "$(grep -c ',finished,' list.csv)" -eq 3 ] || fail "runs list: $(cat list.csv)"
# A second call trains nothing.
expect_exit 0 "$CS" sweep wsd.cfg --threads 1
expect_out "3 finished before, 0 to train"

# A branch whose run was lost is trained again: the finished trunk stops at its decay start
# once more (retraining the stable phase) and the branch decays from there.
rm -r wsd/l1-d16-T32-D10240
expect_exit 0 "$CS" sweep wsd.cfg --threads 1
expect_out "start l1-d16-T32-D20480 (restart; stable phase to step 14)"
same_as_straight wsd again

# Killed at several moments and run again: the sweep alone (its runs checkpoint and stop), or
# the sweep with its runs (kill -9 of the process group); either way, every log ends equal to
# the straight run's.
# wait_for FILE PATTERN: until FILE has a line matching PATTERN (about 60 s at most).
wait_for() {
    local i=0
    until grep -q -- "$2" "$1" 2> /dev/null; do
        sleep 0.02
        i=$((i + 1))
        [ "$i" -lt 3000 ] || fail "timed out waiting for '$2' in $1: $(cat "$1")"
    done
}
for trial in "alone 0" "group 0" "alone 0.15" "group 0.3" "group 0.5"; do
    set -- $trial
    rm -rf wsd
    if [ "$1" = alone ]; then
        "$CS" sweep wsd.cfg --threads 1 --jobs 2 > kill.out 2>&1 &
    else
        setsid "$CS" sweep wsd.cfg --threads 1 --jobs 2 > kill.out 2>&1 &
    fi
    pid=$!
    wait_for kill.out "stable phase at step 7;"
    sleep "$2"
    if [ "$1" = alone ]; then kill -9 "$pid"; else kill -9 -- "-$pid"; fi
    wait "$pid" 2> /dev/null
    flock wsd/.sweep.lock true # the killed sweep's runs hold the lock until they have stopped
    expect_exit 0 "$CS" sweep wsd.cfg --threads 1 --jobs 2
    expect_out "3 of 3 runs finished"
    same_as_straight wsd "kill-$1-$2"
    echo "kill the sweep ($1, $2 s after the first stop): ok; then: $(grep -c '^start' "$OUT") starts"
done

# A FLOPs family: budgets in FLOPs, named C<budget>, each recording budget_flops.
expect_exit 0 "$CS" sweep wsd.cfg --set train.decay_budgets=1e8,2e8 --set train.flops=4e8 \
    --out wsdf --threads 1 -q
expect_out "3 of 3 runs finished"
for c in 1e8 2e8 4e8; do
    "$CS" runs show "wsdf/l1-d16-T32-C$c/run.h5" | grep -q "budget_flops" ||
        fail "C$c: no budget_flops: $(ls wsdf)"
done

# [sweep] repeats: one family per seed; the second seed's branch equals a straight run with it.
expect_exit 0 "$CS" sweep wsd.cfg --set sweep.repeats=2 --set train.decay_budgets=5120 \
    --set train.tokens=10240 --out wsdr --threads 1 -q
expect_out "4 of 4 runs finished"
expect_exit 0 "$CS" train --data synth --layers 1 --d-model 16 --heads 2 --context 32 \
    --batch-tokens 512 --lr 1e-2 --schedule wsd --decay-frac 0.3 --warmup-steps 3 \
    --eval-every 4 --ckpt-every 2 --tokens 5120 --seed 2 --threads 1 -q --out ref-s2
trajectory ref-s2 > ref-s2.txt
trajectory wsdr/l1-d16-T32-D5120-s2 > wsdr-s2.txt
cmp -s ref-s2.txt wsdr-s2.txt || fail "seed 2's branch differs: $(diff ref-s2.txt wsdr-s2.txt | head)"
cmp -s ref5120.txt wsdr-s2.txt && fail "seed 2's branch equals seed 1's run"

# The example of docs/config.md's budgets section is a valid family of 3 runs.
sed -n '/^## Budgets in a sweep/,/^## /p' "$CS_SRC/docs/config.md" |
    sed -n '/^```ini/,/^```/p' | sed '1d;$d' > docs.cfg
[ -s docs.cfg ] || fail "no ini block in docs/config.md's budgets section"
expect_exit 0 "$CS" sweep docs.cfg --dry-run
expect_out "^l2-d64-T128-D5e6 .* new (decays from step"
expect_out "^3 runs (3 new"

# ---- bad input: exit 2 naming file, key and run; nothing created -------------------------------
bad() { # WANT-IN-STDERR CONFIG-TEXT (with \n escapes) [EXTRA-FLAGS...]
    local want=$1 text=$2
    shift 2
    printf '%b' "$text" > bad.cfg
    expect_exit 2 "$CS" sweep bad.cfg --out badruns "$@"
    expect_err "$want"
    [ ! -e badruns ] || fail "a bad sweep created its runs directory"
}
base='[model]\nlayers = 1\nd_model = 16\nheads = 2\n[data]\ncorpus = synth\ncontext = 32\n[train]\nbatch_tokens = 512\n'
bad 'bad.cfg:10: \[train\] flops: set together with \[train\] tokens' "${base}flops = 1e9\ntokens = 5120\n"
bad 'bad.cfg: run l1-d16-T32-C1e5: \[train\] flops: 100000 FLOPs is below one optimizer step' "${base}flops = 1e5, 1e9\n"
bad 'bad.cfg:10: \[train\] decay_budgets: needs \[train\] schedule = wsd' "${base}decay_budgets = 5120, 10240\n"
bad 'decay_budgets: needs \[train\] schedule = wsd .* got cosine' "${base}schedule = wsd, cosine\ndecay_budgets = 5120, 10240\n"
bad 'bad.cfg:12: \[train\] decay_budgets: 40960 is above the \[train\] tokens budget 20480' "${base}schedule = wsd\ntokens = 20480\ndecay_budgets = 5120, 40960\n"
bad 'bad.cfg:11: \[train\] tokens: must be one value with \[train\] decay_budgets' "${base}schedule = wsd\ntokens = 10240, 20480\ndecay_budgets = 5120\n"
bad 'bad.cfg:11: \[train\] decay_budgets: 5.12e3 is listed twice' "${base}schedule = wsd\ndecay_budgets = 5120, 5.12e3\n"
bad 'run l1-d16-T32-D5120: its decay starts at step 0' "${base}schedule = wsd\nwarmup_steps = 0\ndecay_frac = 1\ndecay_budgets = 5120, 10240\n"
bad 'cannot express that' "${base}schedule = wsd\ndecay_budgets = 5120, 10240\n" --emit-slurm job.sh
[ ! -e job.sh ] || fail "--emit-slurm wrote a script for a WSD family"
bad 'bad.cfg: run l1-d16-T32-D2e7-h3: \[model\] heads: 3 does not divide d_model = 16' '[model]\nlayers = 1\nd_model = 16\nheads = 2, 3\n[data]\ncorpus = synth\ncontext = 32\n[train]\nbatch_tokens = 512\n'
bad 'bad.cfg:10: unknown key "heads" in \[train\]; did you mean \[model\] heads?' "${base}heads = 2, 3\n"
bad 'bad.cfg:4: unknown key "mup_base_widht" in \[model\]; did you mean \[model\] mup_base_width?' '[model]\nlayers = 1\nd_model = 16\nmup_base_widht = 8\n'
bad 'bad.cfg:2: unknown key "context" in \[train\]; did you mean \[data\] context?' '[train]\ncontext = 64\n'
bad 'bad.cfg:2: unknown key "repeat" in \[sweep\]; did you mean \[sweep\] repeats?' '[sweep]\nrepeat = 2\n'
bad 'bad.cfg:2: unknown key "decay_budget" in \[train\]; did you mean \[train\] decay_budgets?' '[train]\ndecay_budget = 5120\n'
# `ctxscale train`: both budgets, --init-state alone, and a branch of another context.
expect_exit 2 "$CS" train --dry-run --flops 1e9 --tokens 5120
expect_err "\[train\] flops: set together with \[train\] tokens"
expect_exit 2 "$CS" train --data synth --context 32 --batch-tokens 512 --tokens 5120 --init-state --out x
expect_err "needs --init-from"
expect_exit 2 "$CS" train --data synth --layers 1 --d-model 16 --heads 2 --context 64 \
    --batch-tokens 512 --tokens 10240 --schedule wsd --init-from ref20480/ckpt.bin --init-state \
    --out branch64 -q
expect_err "context 32; this run's differs"
echo "all sweep budget checks passed"
