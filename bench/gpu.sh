#!/usr/bin/env bash
# bench/gpu.sh: the GPU benchmark (bench/bench_gpu.c) at the shapes of issue 6: GPT-2 124M at
# T = 1024 with the linear layers in fp32, tf32 and bf16; 124M at T = 8192 (peak memory); and the
# small models of real sweeps (d 256, 512, 1024 at T 256 to 8192, 8192 tokens per step, bf16).
# Goal: >= 45% MFU for 124M at T = 1024 in bf16 (llm.c: about 38%). Ends with a Markdown table
# for bench/RESULTS.md. Called by `make bench-gpu` and `make bench` (BUILD names the build
# directory). Without a usable GPU it prints why and exits 0 (skipped). BENCH_QUICK=1: 3 timed
# steps per shape instead of 10, 124M only.
set -u
: "${BUILD:=build}"
bin="$BUILD/bench/bench_gpu"
steps=10
[ "${BENCH_QUICK:-0}" = 1 ] && steps=3
out=$("$bin" --steps 1 --layers 1 --d-model 64 --heads 1 --vocab 64 --context 8 --batch 1 2>&1)
if [ $? -eq 77 ]; then
    echo "$out"
    exit 0
fi
rows=() status=0
run() {
    local log
    echo "### $*"
    log=$("$bin" --steps "$steps" "$@" 2>&1)
    [ $? -eq 0 ] || status=1
    echo "$log"
    rows+=("$(echo "$log" | grep '^| ' || echo "| $* | did not run: $(echo "$log" | tail -n 1) |")")
    echo
}
for p in fp32 tf32 bf16; do
    run --context 1024 --batch 16 --precision "$p"
done
run --context 8192 --batch 1 --precision bf16
if [ "${BENCH_QUICK:-0}" != 1 ]; then
    for shape in "4 256 4" "8 512 8" "16 1024 16"; do
        set -- $shape
        for T in 256 1024 4096 8192; do
            run --layers "$1" --d-model "$2" --heads "$3" --context "$T" \
                --batch $((T >= 8192 ? 1 : 8192 / T)) --precision bf16
        done
    done
fi
echo "| layers | d | heads | T | B | matmuls | ms/step | tokens/s | MFU | GiB in use |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $status
