#!/usr/bin/env bash
# bench/bpe.sh: BPE training of a 32k vocabulary on ~70 MB of text and encoding speed
# (issue goals: <= 5 s, <= 1 GB, >= 20 MB/s per core). Uses the debian-docs corpus when one has
# been built at data/debian-docs, else text assembled from the machine's documentation.
set -u
: "${BUILD:=build}"
mb=70 vocab=32768
[ "${BENCH_QUICK:-0}" = 1 ] && mb=5 vocab=4096
if [ -f data/debian-docs/documents.bin ]; then
    "$BUILD/bench/bench_bpe" --corpus data/debian-docs/documents.bin --mb "$mb" --vocab "$vocab"
else
    "$BUILD/bench/bench_bpe" --mb "$mb" --vocab "$vocab"
fi
