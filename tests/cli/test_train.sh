# tests/cli/test_train.sh: `ctxscale train` on the synthetic language — a finished run and its
# log, --dry-run, config files and flags, each kind of bad input (exit 2, nothing overwritten),
# divergence, and the contextwise loss falling with position on data whose documents reward
# context. Resume and interruption: tests/cli/test_train_resume.sh. Run by `make test`.
. "$CS_SRC/tests/cli/lib.sh"

# One thread each for OpenMP and OpenBLAS: the runs are tiny and the test machine is shared.
export OPENBLAS_NUM_THREADS=1
CS="$CTXSCALE"
TINY=(--layers 2 --d-model 32 --heads 2 --context 64 --batch-tokens 1024 --lr 1e-2 --threads 1 -q)

expect_exit 0 "$CS" train --help
expect_out "Usage: ctxscale train"
expect_out "--init-from"

# Documents with a strong per-document word distribution (Dirichlet alpha 2): context helps.
expect_exit 0 "$CS" data synth --docs 120 --doc-len 1024 --vocab 64 --alpha 2 --floor-docs 0 \
    --out "$T/synth"

# --dry-run: sizes and FLOPs from core/flops.h, nothing written.
expect_exit 0 "$CS" train --dry-run --layers 12 --d-model 768 --heads 12 --vocab 50257 \
    --context 1024 --batch-tokens 524288 --tokens 1e9 --out "$T/none"
expect_out "parameters: 123653376 total"
expect_out "FLOPs per token"
expect_out "steps: 1907"
[ ! -e "$T/none" ] || fail "--dry-run wrote $T/none"

# A finished run: run.h5 with one steps row per step, evals, status finished; ckpt.bin.
expect_exit 0 "$CS" train --data "$T/synth" "${TINY[@]}" --tokens 40960 --eval-every 20 \
    --out "$T/run"
expect_out "finished 40 steps"
[ -s "$T/run/ckpt.bin" ] || fail "no checkpoint"
expect_exit 0 "$CS" runs list "$T/run" --csv
grep -q ",finished,40,40,40960," "$OUT" || fail "runs list: $(cat "$OUT")"
expect_exit 0 "$CS" runs export "$T/run" --table eval
[ "$(grep -c . "$OUT")" -eq 3 ] || fail "expected 2 eval rows: $(cat "$OUT")"
expect_exit 0 "$CS" runs show "$T/run/run.h5"
expect_out "n_params_nonembed"
expect_out "data_bytes_per_token"
expect_out "lr_schedule"

# The same run from a config file, a flag overriding one key.
cat > "$T/run.cfg" <<EOF
seed = 1
[model]
layers = 2
d_model = 32
heads = 2
[data]
corpus = $T/synth
context = 64
[train]
tokens = 40960
batch_tokens = 1024
lr = 5e-2
[eval]
every = 20
EOF
expect_exit 0 "$CS" train --config "$T/run.cfg" --lr 1e-2 --threads 1 -q --out "$T/run-cfg"
cmp <("$CS" runs export "$T/run" --table steps | cut -d, -f2,3,8-11) \
    <("$CS" runs export "$T/run-cfg" --table steps | cut -d, -f2,3,8-11) ||
    fail "config file + flag did not reproduce the flags-only run"

# Bad input: exit 2 with the message, and the existing run untouched.
sum=$(md5sum "$T/run/run.h5" "$T/run/ckpt.bin")
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --tokens 40960 --out "$T/run"
expect_err "exists; use --force"
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --heads 3 --tokens 40960 --out "$T/x"
expect_err "heads"
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --lr 0 --tokens 40960 --out "$T/x"
expect_err "lr"
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --tokens 100 --out "$T/x"
expect_err "zero optimizer steps"
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --context 2048 --batch-tokens 2048 \
    --tokens 40960 --out "$T/x"
expect_err "context"
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --vocab 100 --tokens 40960 --out "$T/x"
expect_err "vocabulary 64"
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --tokens 40960 --out "$T/x" \
    --set train.lerning_rate=1
expect_err "unknown key \"lerning_rate\""
printf '[train]\nlr = fast\n' > "$T/bad.cfg"
expect_exit 2 "$CS" train --config "$T/bad.cfg" --data "$T/synth" --out "$T/x"
expect_err "bad.cfg:2: \[train\] lr"
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --tokens 40960 --out "$T/fresh" --resume
expect_err "nothing to resume"
expect_exit 2 "$CS" train --data "$T/synth" "${TINY[@]}" --d-model 64 --tokens 40960 \
    --out "$T/y" --init-from "$T/run/ckpt.bin"
expect_err "init-from"
expect_exit 2 "$CS" train --data "$T/nonexistent" "${TINY[@]}" --tokens 40960 --out "$T/x"
expect_exit 2 "$CS" train "${TINY[@]}" --tokens 40960 --out "$T/x"
expect_err "--data is required"
[ "$(md5sum "$T/run/run.h5" "$T/run/ckpt.bin")" = "$sum" ] || fail "a refused run changed $T/run"

# --init-from: the weights of the T = 64 run continue at T = 128 with a new rotary base.
expect_exit 0 "$CS" train --data "$T/synth" "${TINY[@]}" --context 128 --batch-tokens 2048 \
    --tokens 20480 --rope-theta 500000 --init-from "$T/run/ckpt.bin" --out "$T/ext"
expect_exit 0 "$CS" runs export "$T/ext" --table steps
first_ext=$(awk -F, 'NR == 2 {print $8}' "$OUT")
expect_exit 0 "$CS" runs export "$T/run" --table steps
first_run=$(awk -F, 'NR == 2 {print $8}' "$OUT")
awk -v a="$first_ext" -v b="$first_run" 'BEGIN { exit !(a < b - 0.3) }' ||
    fail "--init-from did not start from trained weights (first loss $first_ext vs $first_run)"

# Divergence: an absurd learning rate without clipping ends with status diverged, exit 0.
expect_exit 0 "$CS" train --data "$T/synth" "${TINY[@]}" --lr 1e8 --grad-clip 0 --tokens 40960 \
    --out "$T/div"
expect_err "diverged at step"
expect_exit 0 "$CS" runs list "$T/div" --csv
grep -q ",diverged," "$OUT" || fail "status is not diverged: $(cat "$OUT")"

# The contextwise loss falls with position: early positions (1-4) against positions 33-64.
expect_exit 0 "$CS" train --data "$T/synth" --layers 2 --d-model 64 --heads 4 --context 64 \
    --batch-tokens 2048 --tokens 1e6 --lr 3e-3 --eval-every 0 --eval-windows 64 --threads 1 -q \
    --out "$T/ctx"
expect_exit 0 "$CS" runs export "$T/ctx" --table contextwise
awk -F, 'NR > 1 { n = $4 - $3 + 1
                  if ($4 <= 4) { e += $5 * n; ne += n }
                  if ($3 >= 33 && $4 <= 64) { l += $5 * n; nl += n } }
         END { printf "early %.3f late %.3f\n", e / ne, l / nl; exit !(e / ne > l / nl + 0.15) }' \
    "$OUT" || fail "contextwise loss does not fall with position: $(cat "$OUT")"
echo ok
