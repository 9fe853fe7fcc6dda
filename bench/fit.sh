#!/usr/bin/env bash
# bench/fit.sh: Hoffmann et al.'s Approach 3 on Epoch's 240 points (4,500-start chinchilla grid
# fit + 1,000 bootstrap refits), ctxscale (bench/bench_fit.c, 1 and 2 threads) side by side with
# the Python/scipy L-BFGS-B reference (bench/ref_fit_scipy.py). Goal: >= 50x the reference, same
# optimum to 1e-4 relative. The reference runs every K-th start and R refits and scales its times
# linearly (it says so in its output); BENCH_QUICK=1 shrinks both sides for a smoke check.
set -u
: "${BUILD:=build}"
boot=1000 every=5 rboot=200
[ "${BENCH_QUICK:-0}" = 1 ] && boot=50 every=50 rboot=20
for t in 1 2; do
    "$BUILD/bench/bench_fit" --threads "$t" --boot "$boot"
    rc=$?
    [ $rc = 77 ] && { echo "bench_fit: Epoch's data absent: skipped"; exit 0; }
    [ $rc = 0 ] || exit $rc
done
py=""
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import scipy' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
    echo "ref_fit_scipy: no python3 with scipy (Debian: python3-scipy): reference skipped"
    exit 0
fi
"$py" bench/ref_fit_scipy.py --starts-every "$every" --boot "$rboot"
rc=$?
[ $rc = 77 ] && exit 0
exit $rc
