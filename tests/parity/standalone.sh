#!/usr/bin/env bash
# tests/parity/standalone.sh: builds the parity tests (tests/parity/*.c) and the GPU benchmark
# (bench/bench_gpu.c) from only the sources they need, core/{error,rng,flops,parse}.c,
# trainer/*.c and trainer/cuda/*.cu, with gcc, nvcc, OpenBLAS and OpenMP: no GSL, HDF5, jansson,
# inih or cmocka, which a GPU machine's image may lack (and no `make deps`, which needs a package
# registry). Then runs the parity tests (tests/parity/run.sh) and, with --bench, bench/gpu.sh.
# Same flags as the Makefile's (-Werror included). docs/cuda.md, "Running on a GPU machine".
#
# Usage: tests/parity/standalone.sh [--bench] [--quick] DIR
#   DIR      build directory (created); logs land beside the binaries
#   --bench  also run bench/gpu.sh (BENCH_QUICK=1 with --quick)
# Environment: OPENBLAS_CFLAGS, OPENBLAS_LIBS (default: pkg-config openblas, else the Debian
# paths); NVCC (default: nvcc on PATH); NVCC_ARCH (default sm_90 + compute_90 PTX); JOBS.
set -eu
bench=0 quick=0
while [ $# -gt 1 ]; do
    case $1 in
    --bench) bench=1 ;;
    --quick) quick=1 ;;
    *) echo "standalone.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ $# -eq 1 ] || { echo "usage: tests/parity/standalone.sh [--bench] [--quick] DIR" >&2; exit 2; }
dir=$1
NVCC=${NVCC:-$(command -v nvcc || true)}
[ -n "$NVCC" ] || { echo "standalone.sh: nvcc not found" >&2; exit 2; }
cuda_home=${NVCC%/bin/nvcc}
NVCC_ARCH=${NVCC_ARCH:--gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_90,code=compute_90}
if [ -z "${OPENBLAS_CFLAGS+x}" ]; then
    OPENBLAS_CFLAGS=$(pkg-config --cflags openblas 2>/dev/null ||
        echo "-I/usr/include/x86_64-linux-gnu/openblas-pthread")
fi
if [ -z "${OPENBLAS_LIBS+x}" ]; then
    OPENBLAS_LIBS=$(pkg-config --libs openblas 2>/dev/null ||
        echo "-L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas")
fi
JOBS=${JOBS:-$(nproc)}
CFLAGS="-std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Werror -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I. $OPENBLAS_CFLAGS"
NVCCFLAGS="-std=c++17 -O2 -lineinfo $NVCC_ARCH -I. -Xcompiler -Wall,-Wextra -Werror all-warnings \
-Xcompiler -Werror"
LIBS="$OPENBLAS_LIBS -L$cuda_home/lib64 -Wl,-rpath,$cuda_home/lib64 -lcublas -lcudart -lstdc++ \
-lm -lpthread -fopenmp"

mkdir -p "$dir/obj" "$dir/tests/parity" "$dir/bench"
srcs="core/error.c core/rng.c core/flops.c core/parse.c"
for f in trainer/*.c; do
    [ "$f" = trainer/cuda_stub.c ] || srcs="$srcs $f"
done
compile() { # one source file into $dir/obj
    local f=$1 o="$dir/obj/$(echo "$1" | tr / _).o"
    case $f in
    *.cu) $NVCC $NVCCFLAGS -c "$f" -o "$o" ;;
    trainer/*) gcc $CFLAGS -fopenmp -fno-math-errno -fno-trapping-math -c "$f" -o "$o" ;;
    *) gcc $CFLAGS -c "$f" -o "$o" ;;
    esac
}
export -f compile
export dir CFLAGS NVCCFLAGS NVCC
echo "standalone: compiling with $JOBS jobs into $dir"
printf '%s\n' $srcs trainer/cuda/*.cu | xargs -P "$JOBS" -I{} bash -c 'compile {}'
rm -f "$dir/libcs_gpu.a"
ar rcs "$dir/libcs_gpu.a" "$dir"/obj/*.o
for t in tests/parity/*.c; do
    n=$(basename "$t" .c)
    gcc $CFLAGS -o "$dir/tests/parity/parity_$n" "$t" "$dir/libcs_gpu.a" $LIBS
done
gcc $CFLAGS -o "$dir/bench/bench_gpu" bench/bench_gpu.c "$dir/libcs_gpu.a" $LIBS
status=0
bash tests/parity/run.sh "$dir"/tests/parity/parity_* || status=1
if [ $bench = 1 ]; then
    BUILD=$dir BENCH_QUICK=$quick bash bench/gpu.sh || status=1
fi
exit $status
