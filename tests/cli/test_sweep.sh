# tests/cli/test_sweep.sh: `ctxscale sweep` on tiny models: a 2x2 grid trains four runs and a
# second call skips them; a sweep killed with kill -9 (alone, and with its runs) ends with every
# run finished after a rerun, interrupted runs continued with --resume; paired lists; --dry-run;
# the Slurm script (parsed by bash -n, and task 0 run with hostile names staying literal); the
# docs/config.md example; bad configs (exit 2 before anything runs). Run by `make test`.
. "$CS_SRC/tests/cli/lib.sh"

export OPENBLAS_NUM_THREADS=1
CS="$CTXSCALE"
cd "$T" || fail "cd $T"

expect_exit 0 "$CS" data synth --docs 40 --doc-len 512 --vocab 32 --floor-docs 0 --out synth

# grid.cfg: 2 widths x 2 contexts = 4 runs.
cat > grid.cfg <<'EOF'
[model]
layers = 1
d_model = 16, 32
heads = 2
[data]
corpus = synth
context = 32, 64
[train]
batch_tokens = 512
tokens = 5120
[sweep]
name = grid
out = runs
EOF
names="l1-d16-T32-D5120 l1-d16-T64-D5120 l1-d32-T32-D5120 l1-d32-T64-D5120"

# --dry-run lists the runs with their FLOPs and trains nothing.
expect_exit 0 "$CS" sweep grid.cfg --dry-run
for n in $names; do grep -q "^$n .* new$" "$OUT" || fail "dry run lacks $n"; done
expect_out "4 runs (4 new, 0 finished"
# Its FLOPs are those `ctxscale train --dry-run` plans for the same run.
n16=$("$CS" train --dry-run --layers 1 --d-model 16 --heads 2 --context 32 --batch-tokens 512 \
    --tokens 5120 | sed -n 's/.*planned FLOPs //p')
grep -q "^l1-d16-T32-D5120 .* $(printf '%.3e' "$n16") " "$OUT" || fail "FLOPs differ from train's $n16"
[ ! -e runs ] || fail "dry run created the runs directory"

# The grid trains, two at a time, into four finished logs.
expect_exit 0 "$CS" sweep grid.cfg --jobs 2 -q
expect_out "4 of 4 runs finished"
for n in $names; do
    [ -f "runs/$n/run.h5" ] || fail "no runs/$n/run.h5"
    "$CS" runs show "runs/$n/run.h5" | grep -q "^status: *finished" || fail "$n not finished"
done
[ "$(ls runs | wc -l)" -eq 4 ] || fail "runs holds $(ls runs)"
"$CS" runs show runs/l1-d32-T64-D5120/run.h5 | grep -q "d_model = 32" || fail "d_model not passed"
"$CS" runs show runs/l1-d32-T64-D5120/run.h5 | grep -q "context = 64" || fail "context not passed"
stamp=$(stat -c %Y.%s runs/*/run.h5 | md5sum)

# A second call trains nothing.
expect_exit 0 "$CS" sweep grid.cfg --jobs 2 -q
expect_out "4 finished before, 0 to train"
grep -q "^start" "$OUT" && fail "a finished run was started again"
[ "$(stat -c %Y.%s runs/*/run.h5 | md5sum)" = "$stamp" ] || fail "finished logs were touched"
expect_exit 0 "$CS" sweep grid.cfg --dry-run
expect_out "4 runs (0 new, 4 finished"

# --set changes a key from the command line; a list there is an axis too.
expect_exit 0 "$CS" sweep grid.cfg --set data.context=32 --set model.d_model=16,24,32 --dry-run \
    --out other
expect_out "^l1-d24-T32-D5120 "
expect_out "3 runs (3 new"

# Paired lists: (layers, d_model) zipped, crossed with 2 token budgets, 2 repeats (seeds 5, 6).
cat > paired.cfg <<'EOF'
seed = 5
[model]
layers = 1, 2
d_model = 16, 32
heads = 2
[data]
corpus = synth
context = 32
[train]
batch_tokens = 512
tokens = 2560, 5120
[sweep]
paired = model.layers, model.d_model
repeats = 2
out = paired
EOF
expect_exit 0 "$CS" sweep paired.cfg -q
expect_out "8 of 8 runs finished"
for n in l1-d16-T32-D2560-s5 l1-d16-T32-D5120-s6 l2-d32-T32-D2560-s5 l2-d32-T32-D5120-s6; do
    [ -f "paired/$n/run.h5" ] || fail "no paired/$n: $(ls paired)"
done
[ ! -e paired/l1-d32-T32-D2560-s5 ] || fail "paired lists were crossed"
[ "$(ls paired | wc -l)" -eq 8 ] || fail "paired holds $(ls paired)"
"$CS" runs show paired/l2-d32-T32-D5120-s6/run.h5 | grep -q "seed = 6" || fail "seed not passed"

# Kill -9: longer runs with frequent checkpoints.
cat > long.cfg <<'EOF'
[model]
layers = 1
d_model = 16, 32
heads = 2
[data]
corpus = synth
context = 32, 64
[train]
batch_tokens = 512
tokens = 51200
[eval]
every = 50
[run]
ckpt_every = 5
[sweep]
out = long
EOF
# wait_for FILE PATTERN: until FILE has a line matching PATTERN (about 60 s at most).
wait_for() {
    local i=0
    until grep -q -- "$2" "$1" 2> /dev/null; do
        sleep 0.05
        i=$((i + 1))
        [ "$i" -lt 1200 ] || fail "timed out waiting for '$2' in $1: $(cat "$1")"
    done
}
# resumable DIR: the names of the runs that hold a checkpoint and are not finished.
resumable() {
    for d in "$1"/*/; do
        [ -s "$d/ckpt.bin" ] || continue
        "$CS" runs show "$d/run.h5" 2> /dev/null | grep -q "^status: *finished" && continue
        basename "$d"
    done
}
# finish_after_kill DIR LABEL: rerun; every run finishes, and every run that held a checkpoint
# was resumed (its log says resumed_utc), not restarted.
finish_after_kill() {
    local want
    flock "$1/.sweep.lock" true # the killed sweep's runs hold the lock until they have stopped
    want=$(resumable "$1")
    [ -n "$want" ] || fail "$2: no run was left with a checkpoint"
    expect_exit 0 "$CS" sweep long.cfg --jobs 2 -q
    expect_out "4 of 4 runs finished"
    for n in $want; do
        expect_out "^start $n (resume)"
        "$CS" runs show "$1/$n/run.h5" | grep -q "resumed_utc" || fail "$2: $n not resumed"
    done
    for d in "$1"/*/; do
        "$CS" runs list "$d/run.h5" --csv | grep -q ",finished,100,100," ||
            fail "$2: $d not finished after 100 steps: $("$CS" runs list "$d/run.h5" --csv)"
    done
}

# 1. The sweep alone is killed once a run has finished: its runs checkpoint and stop.
"$CS" sweep long.cfg --jobs 2 -q > kill1.out 2>&1 &
pid=$!
wait_for kill1.out "^\[1/4\]"
i=0
until [ -n "$(resumable long)" ] || [ "$i" -gt 600 ]; do sleep 0.02; i=$((i + 1)); done
kill -9 "$pid"
wait "$pid" 2> /dev/null
finish_after_kill long "kill the sweep"
echo "kill the sweep: ok"

# 2. The sweep and its runs are killed together (its own process group): runs continue from
#    their last periodic checkpoint.
rm -rf long
setsid "$CS" sweep long.cfg --jobs 2 -q > kill2.out 2>&1 &
pid=$!
wait_for kill2.out "^\[1/4\]"
i=0
until [ -n "$(resumable long)" ] || [ "$i" -gt 600 ]; do sleep 0.02; i=$((i + 1)); done
kill -9 -- "-$pid"
wait "$pid" 2> /dev/null
finish_after_kill long "kill the group"
echo "kill the group: ok"

# Slurm: hostile sweep name and runs directory stay literal in the script.
mkdir -p "hostile"
bad_out="hostile/it's \$(touch PWNED) \`touch PWNED2\` \"q\""
expect_exit 0 "$CS" sweep grid.cfg --set 'sweep.name=x'"'"'$(touch PWNED3);"' --out "$bad_out" \
    --emit-slurm job.sh --gpus-per-task 2 --threads 3
bash -n job.sh || fail "job.sh does not parse: $(cat job.sh)"
grep -q "^#SBATCH --array=0-3$" job.sh || fail "no array line: $(head job.sh)"
grep -q "^#SBATCH --gpus-per-task=2$" job.sh || fail "no gpus line"
grep -q "^#SBATCH --cpus-per-task=3$" job.sh || fail "no cpus line"
grep -q "^#SBATCH --job-name=x___touch_PWNED3___$" job.sh || fail "job name not plain: $(head job.sh)"
expect_exit 2 "$CS" sweep grid.cfg --emit-slurm job.sh
expect_err "exists"
# Task 3 runs for real: the run lands under the literal directory name, nothing is executed.
SLURM_ARRAY_TASK_ID=3 bash job.sh || fail "task 3 failed: $(cat "$bad_out"/*/train.log)"
[ -f "$bad_out/l1-d32-T64-D5120/run.h5" ] || fail "task 3 wrote no run log: $(find hostile)"
ls PWNED* hostile/PWNED* 2> /dev/null && fail "the script ran a command from a name"
"$CS" runs show "$bad_out/l1-d32-T64-D5120/run.h5" | grep -q "^status: *finished" ||
    fail "task 3 did not finish"
# Rerunning the task resumes the finished run, which changes nothing.
SLURM_ARRAY_TASK_ID=3 bash job.sh || fail "task 3 again failed"
SLURM_ARRAY_TASK_ID=9 bash job.sh 2> /dev/null && fail "task 9 ran"
# The local sweep agrees: task 3's run is finished.
expect_exit 0 "$CS" sweep grid.cfg --out "$bad_out" --dry-run
expect_out "4 runs (3 new, 1 finished"

# The example of docs/config.md is a valid sweep of 45 runs.
sed -n '/^## A sweep config/,/^## /p' "$CS_SRC/docs/config.md" |
    sed -n '/^```ini/,/^```/p' | sed '1d;$d' > docs.cfg
[ -s docs.cfg ] || fail "no ini block in docs/config.md's sweep section"
expect_exit 0 "$CS" sweep docs.cfg --dry-run
expect_out "^45 runs (45 new"
expect_exit 0 "$CS" sweep "$CS_SRC/examples/sweep-tiny.cfg" --dry-run --out ex
expect_out " runs ("

# Bad input: exit 2 with the file and line, nothing run or created.
bad() { # WANT-IN-STDERR CONFIG-TEXT (with \n escapes)
    printf '%b' "$2" > bad.cfg
    expect_exit 2 "$CS" sweep bad.cfg --out badruns
    expect_err "$1"
    [ ! -e badruns ] || fail "a bad sweep created its runs directory"
}
bad 'bad.cfg:4: unknown key "lerning_rate" in \[train\]' '[model]\nlayers = 1\n[train]\nlerning_rate = 3e-3\n'
bad 'bad.cfg:4: unknown key "repeat" in \[sweep\]' '[data]\ncorpus = synth\n[sweep]\nrepeat = 2\n'
bad 'bad.cfg:7: \[sweep\] paired: paired lists differ in length: model.layers has 2 items, model.d_model has 3' '[model]\nlayers = 1, 2\nd_model = 16, 32, 64\n[data]\ncorpus = synth\n[sweep]\npaired = model.layers, model.d_model\n'
bad 'paired: item 2: "train.lrr" is not a run setting' '[model]\nlayers = 1\n[data]\ncorpus = synth\n[sweep]\npaired = model.layers, train.lrr\n'
bad 'model.heads is not set' '[model]\nlayers = 1\n[sweep]\npaired = model.layers, model.heads\n'
bad 'bad.cfg: run l4-d16-T32-D2e7-h3: \[model\] heads: 3 does not divide d_model = 16' '[model]\nd_model = 16, 24\nheads = 2, 3\n[data]\ncorpus = synth\ncontext = 32\n[train]\nbatch_tokens = 512\n'
bad 'bad.cfg:2: \[model\] layers item 2: expected' '[model]\nlayers = 1, x\n'
bad '\[run\] out: the sweep sets' '[data]\ncorpus = synth\n[run]\nout = x\n'
bad 'nowhere is not a token store' '[data]\ncorpus = nowhere\ncontext = 32\n[train]\nbatch_tokens = 512\n'
bad 'wobbly' '[data]\ncorpus = synth\n[train]\nschedule = cosine, wobbly\nbatch_tokens = 512\n'
expect_exit 2 "$CS" sweep
expect_exit 2 "$CS" sweep grid.cfg --jobs 0
expect_exit 2 "$CS" sweep grid.cfg --gpus-per-task 1
expect_exit 2 "$CS" sweep missing.cfg
echo "all sweep checks passed"
