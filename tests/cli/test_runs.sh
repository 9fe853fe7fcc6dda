# tests/cli/test_runs.sh: `ctxscale runs list|show|export|import`. Round trips (export, import,
# export again gives the same bytes, so the same doubles bit for bit), wandb-style and multi-run
# imports, hostile run names, and bad input: exit 2, a message naming the file, line or field, and
# nothing written. Data: tests/data/runs/. Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"
D="$CS_SRC/tests/data/runs"
X="$CTXSCALE"
HELPER="$(dirname "$CTXSCALE")/tests/helpers/runlog_writer"
cd "$T" || fail "cannot enter $T"

# no_leftovers: no temporary import directory is left in $T or in $T/*/.
no_leftovers() {
    if ls -A "$T" "$T"/*/ 2>/dev/null | grep -q '\.tmp\.'; then
        fail "a temporary directory was left behind"
    fi
}

# bad_import MESSAGE ARGS...: import fails with exit 2 and MESSAGE on stderr; bad/ is not created.
bad_import() {
    local msg=$1
    shift
    expect_exit 2 "$X" runs import "$@" --out "$T/bad"
    expect_err "$msg"
    [ ! -e "$T/bad" ] || fail "bad/ was created by a failed import: $*"
    no_leftovers
}

# same_data A.h5 B.h5: the two logs hold the same config, steps and eval columns (eval/
# contextwise aside), doubles compared as bit patterns (runlog_writer dump); needs the helper.
same_data() {
    [ -x "$HELPER" ] || return 0
    local re='^(config |steps |eval (n_rows|step|tokens|flops|loss_val|loss_val_best|loss_val_bpb) )'
    "$HELPER" dump "$1" | grep -E "$re" > dump1.txt || fail "dump of $1 failed"
    "$HELPER" dump "$2" | grep -E "$re" > dump2.txt || fail "dump of $2 failed"
    [ -s dump1.txt ] || fail "empty dump of $1"
    diff dump1.txt dump2.txt > /dev/null || fail "$1 and $2 hold different data: $(diff dump1.txt dump2.txt | head -c 600)"
}

# ---- help and usage ------------------------------------------------------------------------
for sub in list show export import; do
    expect_exit 0 "$X" runs "$sub" --help
    expect_out "Usage: ctxscale runs $sub"
done
expect_exit 0 "$X" runs --help
expect_out "import"
expect_exit 2 "$X" runs
expect_err "missing subcommand"
expect_exit 2 "$X" runs frobnicate
expect_err "unknown subcommand 'frobnicate'"
expect_err "Try 'ctxscale runs --help'"
expect_exit 2 "$X" runs export --table nonsense
expect_err 'expected steps, eval, runs or contextwise, got "nonsense"'
expect_err "Try 'ctxscale runs export --help'"
expect_exit 2 "$X" runs import "$D/multi.csv"
expect_err "missing --out DIR"
expect_exit 2 "$X" runs import "$D/multi.csv" --out x --status done
expect_err "--status"
expect_exit 2 "$X" runs import "$D/multi.csv" --out x --map loss_train
expect_err "expected NAME=COLUMN"
expect_exit 2 "$X" runs import "$D/multi.csv" --out x --table runs
expect_err "expected steps or eval"
expect_exit 2 "$X" runs list
expect_err "runs: No such file or directory (the default directory"
[ ! -e x ] || fail "a usage error created x/"

# ---- round trip with awkward doubles: import, export, import, export -----------------------
# Two runs of 1500 steps: negative zero, subnormals, infinities, the largest double, 2^53
# tokens, missing values, 17-digit numbers, an int64 config value at the limit.
awk 'BEGIN {
    aw[0] = "-0"; aw[1] = "1e308"; aw[2] = "4.9406564584124654e-324"; aw[3] = "0.1";
    aw[4] = "inf"; aw[5] = "-inf"; aw[6] = "2.2250738585072009e-308"; aw[7] = "";
    print "run,config.context,config.seed,config.lr_max,config.optimizer,step,tokens,wall_s," \
          "loss_train,lr,grad_norm,my_metric";
    for (r = 1; r <= 2; r++)
        for (i = 1; i <= 1500; i++)
            printf "r%d,%d,%s,3e-4,adamw,%d,%s,%s,%.17g,%.17g,%s,%s\n", r, 64 * r,
                   r == 1 ? "9223372036854775807" : "-9223372036854775808", i * 10 + r,
                   i == 1500 ? "9007199254740992" : i * 4096,
                   i % 5 == 0 ? "" : sprintf("%.17g", i * 0.01 + 1e-9), 2 + 1 / (i + r),
                   0.001 * cos(i * 0.001), aw[i % 8],
                   i % 7 == 0 ? "1.7976931348623157e308" : sprintf("%.17g", i / 3);
}' > gen.csv
expect_exit 0 "$X" runs import gen.csv --out d1
expect_out "d1/r1.h5"
expect_out "d1/r2.h5"
expect_exit 0 "$X" runs export d1 --config --out s1.csv
[ "$(wc -l < s1.csv)" -eq 3001 ] || fail "s1.csv: expected 3001 lines"
grep -q '^r1,64,9223372036854775807,0.0003,adamw,11,4096,,,,0.010000001,2.5,' s1.csv ||
    fail "s1.csv: first row of r1 not as imported"
grep -q ',-0,' s1.csv || fail "s1.csv: negative zero lost"
grep -q ',-inf,' s1.csv || fail "s1.csv: -inf lost"
grep -q ',9007199254740992,' s1.csv || fail "s1.csv: 2^53 tokens lost"
grep -q '^r2,128,-9223372036854775808,' s1.csv || fail "s1.csv: int64 minimum config lost"
expect_exit 0 "$X" runs import s1.csv --out d2
expect_exit 0 "$X" runs export d2 --config --out s2.csv
cmp s1.csv s2.csv || fail "steps export -> import -> export changed the CSV"
# Bit patterns: the logs themselves hold the same doubles and config values.
same_data d1/r1.h5 d2/r1.h5
same_data d1/r2.h5 d2/r2.h5
expect_exit 0 "$X" runs show d2/r1.h5
expect_out 'seed = 9223372036854775807$'
expect_out 'context = 64 tokens'
expect_out '^steps: 1500 committed rows'
expect_out "my_metric"
no_leftovers

# Logs written by the library's writer during "training" (eval rows, contextwise bins, a
# running status): steps and eval round-trip together (import --eval).
if [ -x "$HELPER" ]; then
    mkdir w
    "$HELPER" write w/a.h5 40 finish > /dev/null || fail "runlog_writer failed"
    "$HELPER" write w/b.h5 13 running > /dev/null || fail "runlog_writer failed"
    expect_exit 0 "$X" runs export w --config --out ws1.csv
    expect_exit 0 "$X" runs export w --config --table eval --out we1.csv
    expect_exit 0 "$X" runs import ws1.csv --eval we1.csv --out w2
    expect_exit 0 "$X" runs export w2 --config --out ws2.csv
    expect_exit 0 "$X" runs export w2 --config --table eval --out we2.csv
    cmp ws1.csv ws2.csv || fail "writer log: steps round trip changed the CSV"
    cmp we1.csv we2.csv || fail "writer log: eval round trip changed the CSV"
    same_data w/a.h5 w2/a.h5
    same_data w/b.h5 w2/b.h5
    bad_import "ws1.csv has a run column and .*wandb_history.csv has none" ws1.csv \
        --eval "$D/wandb_history.csv" --map step=_step
    expect_exit 0 "$X" runs import we1.csv --table eval --out w3
    expect_exit 0 "$X" runs export w3 --config --table eval --out we3.csv
    cmp we1.csv we3.csv || fail "writer log: eval-only round trip changed the CSV"
    expect_exit 0 "$X" runs list w
    expect_out "^w/a.h5 *finished *40 *40 "
    expect_out "^w/b.h5 *running *13 *13 "
    expect_exit 0 "$X" runs list --csv w
    expect_out "^path,status,n_steps,step,tokens,n_params_nonembed,context,vocab,loss_train,"
    expect_out "^w/a.h5,finished,40,40,163840,"
    expect_exit 0 "$X" runs export w --table contextwise
    expect_out "^run,step,bin_lo,bin_hi,loss$"
    expect_out "^a,5,1,1,"
    expect_exit 0 "$X" runs export w --table runs
    expect_out "^run,path,status,"
    expect_out "^b,w/b.h5,running,"
    expect_exit 0 "$X" runs show w/a.h5
    expect_out "^status: *finished"
    expect_out "^contextwise: 6 bins over positions 1..128 (training context T = 64)"
    expect_out "loss_val  *nats/token"
else
    echo "note: $HELPER not built; writer-log round trip skipped"
fi

# ---- imports from elsewhere ----------------------------------------------------------------
# wandb history export: _step, train/loss, sparse val/loss, a text column.
bad_import 'no numeric "step" column; name the column that counts optimizer steps with --map' \
    "$D/wandb_history.csv"
expect_err "(columns: _step, _runtime"
expect_exit 0 "$X" runs import "$D/wandb_history.csv" --out wb --map step=_step \
    --map loss_train=train/loss --map loss_val=val/loss --map wall_s=_runtime
expect_out "^wb/wandb_history.h5$"
expect_err "warning: .*wandb_history.csv: ignoring columns .*: phase$"
expect_exit 0 "$X" runs show wb/wandb_history.h5
expect_out "^steps: 8 committed rows"
expect_out "^eval: 2 committed rows"
expect_out "_timestamp *- *1700000008.625"
expect_exit 0 "$X" runs export wb --table eval
expect_out "^wandb_history,3,,,8.61,,$"
expect_out "^wandb_history,6,,,7.45,,$"

# Several runs in one file, config columns of each type.
expect_exit 0 "$X" runs import "$D/multi.csv" --out m
expect_exit 0 "$X" runs show m/small.h5
expect_out '^  n_params_nonembed = 1000000 parameters$'
expect_out '^  optimizer = "adamw"$'
expect_out '^  note = "first, run"$'
expect_out '^  dropout = 0.1$'
expect_exit 0 "$X" runs show m/big.h5
if grep -q "note" "$OUT"; then fail "an empty config cell became a key"; fi
# --run-col, and a run column that --map gives to a renamed column.
sed '1s/^run,/Name,/' "$D/multi.csv" > named.csv
expect_exit 0 "$X" runs import named.csv --out m2 --run-col Name
expect_out "^m2/big.h5$"
expect_out "^m2/small.h5$"

# Hostile run names: files get safe names, run_name keeps the original, nothing is executed.
expect_exit 0 "$X" runs import "$D/hostile.csv" --out h
ls -A h > names.txt
printf '%s\n' __n______.h5 __touch_PWNED_.h5 _hidden.h5 _rf.h5 _touch_PWNED2_.h5 a_b-2.h5 \
    a_b.h5 a_b_.._c.h5 it_s__quoted_.h5 line1_line2.h5 semi_colon_pipe_amp.h5 with_space.h5 |
    LC_ALL=C sort > want.txt
LC_ALL=C sort names.txt | cmp - want.txt || fail "hostile names: unexpected files: $(cat names.txt)"
[ ! -e PWNED ] && [ ! -e PWNED2 ] && [ ! -e "$CS_SRC/PWNED" ] || fail "a run name was executed"
expect_exit 0 "$X" runs show h/__touch_PWNED_.h5
expect_out '^  run_name = "$(touch PWNED)"$'
expect_exit 0 "$X" runs show h/line1_line2.h5
expect_out '^  run_name = "line1\\x0aline2"$'
expect_exit 0 "$X" runs export h --config --out x1.csv
grep -qF '"it'"'"'s ""quoted""",1,' x1.csv || fail "hostile names: quotes not kept"
expect_exit 0 "$X" runs import x1.csv --out h2
expect_exit 0 "$X" runs export h2 --config --out x2.csv
cmp x1.csv x2.csv || fail "hostile names: round trip changed the CSV"
expect_exit 0 "$X" runs list h
expect_out "^h/__touch_PWNED_.h5 *finished"

# ---- bad CSV input: exit 2, file:line named, nothing written -------------------------------
: > empty.csv
bad_import "empty.csv:1: empty file" empty.csv
bad_import "header_only.csv:2: expected data rows" "$D/header_only.csv"
bad_import '--map loss_train=train/nope: no column "train/nope" in .*multi.csv (columns: run,' \
    "$D/multi.csv" --map loss_train=train/nope
bad_import 'nonnumeric_step.csv:3: column "step": expected a number, got "two"' \
    "$D/nonnumeric_step.csv"
bad_import 'dup_step.csv:5: column "step": steps must increase, got 2 after 2' "$D/dup_step.csv"
bad_import 'out_of_order.csv:4: column "step": steps must increase, got 2 after 3' \
    "$D/out_of_order.csv"
bad_import 'config_varies.csv:4: column "config.context": "128" differs from "64" on line 2' \
    "$D/config_varies.csv"
# The first run imports, the second fails: neither is left behind.
bad_import 'second_run_bad.csv:5: column "step": steps must increase' "$D/second_run_bad.csv"
bad_import 'config.n_params_nonembed": expected an integer, got "1.5"' \
    <(printf 'config.n_params_nonembed,step\n1.5,1\n')
bad_import 'column "step": expected a whole number >= 0, got -3' <(printf 'step\n-3\n')
# Errors of the run-log writer name the log in DIR, not the temporary directory.
printf 'step,config.status\n1,x\n' > reserved.csv
bad_import 'bad/reserved.h5: config key "status" is reserved' reserved.csv
if grep -q '\.tmp\.' "$ERR"; then fail "the message names the temporary directory"; fi

# An existing DIR: refused when it holds files, unless --force, which replaces only the logs of
# the same names; a file in the way of DIR is refused.
mkdir keep
echo precious > keep/other.h5
echo old > keep/small.h5
sum_before=$(cat keep/* | cksum)
expect_exit 2 "$X" runs import "$D/multi.csv" --out keep
expect_err "keep: exists and is not empty; use --force"
[ "$(cat keep/* | cksum)" = "$sum_before" ] || fail "keep/ changed by a refused import"
expect_exit 2 "$X" runs import "$D/config_varies.csv" --out keep --force
[ "$(cat keep/* | cksum)" = "$sum_before" ] || fail "keep/ changed by a failed --force import"
no_leftovers
expect_exit 0 "$X" runs import "$D/multi.csv" --out keep --force
[ "$(cat keep/other.h5)" = precious ] || fail "--force touched a file of another name"
expect_exit 0 "$X" runs show keep/small.h5
expect_out "^steps: 3 committed rows"
echo file > afile
expect_exit 2 "$X" runs import "$D/multi.csv" --out afile
expect_err "afile: exists and is not a directory"
mkdir empty_dir
expect_exit 0 "$X" runs import "$D/multi.csv" --out empty_dir
expect_out "^empty_dir/big.h5$"
no_leftovers

# ---- bad run logs: show and export refuse them, list lists the good ones -------------------
mkdir mix
cp m/big.h5 m/small.h5 mix/
size=$(wc -c < m/big.h5)
head -c $((size / 2)) m/big.h5 > mix/trunc.h5
echo "not a run log" > mix/text.h5
expect_exit 2 "$X" runs show mix/trunc.h5
expect_err "^ctxscale runs show: mix/trunc.h5: not an HDF5 run log"
expect_exit 2 "$X" runs show mix/text.h5
expect_err "^ctxscale runs show: mix/text.h5: not an HDF5 run log"
expect_exit 2 "$X" runs show mix/missing.h5
expect_err "mix/missing.h5: no such file"
expect_exit 2 "$X" runs export mix --out mix.csv
expect_err "mix/text.h5: not an HDF5 run log"
[ ! -e mix.csv ] || fail "export of a damaged directory wrote mix.csv"
expect_exit 2 "$X" runs export mix/trunc.h5
expect_err "mix/trunc.h5: not an HDF5 run log"
[ ! -s "$OUT" ] || fail "export of a damaged log printed rows"
expect_exit 2 "$X" runs list mix
expect_out "^mix/big.h5 *finished *2 *20 "
expect_out "^mix/small.h5 *finished *3 *30 "
expect_out "^mix/trunc.h5 *error "
expect_err "mix/text.h5: not an HDF5 run log"
expect_err "some run logs could not be read"

# --out that exists: refused without --force, and left as it was.
echo "keep me" > out.csv
sum_before=$(cksum < out.csv)
expect_exit 2 "$X" runs export m --out out.csv
expect_err "out.csv: exists; use --force to overwrite"
[ "$(cksum < out.csv)" = "$sum_before" ] || fail "out.csv changed without --force"
expect_exit 0 "$X" runs export m --out out.csv --force
grep -q "^run,step," out.csv || fail "--force did not write the export"
echo ok
