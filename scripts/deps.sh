#!/bin/sh
# scripts/deps.sh: installs the Debian packages ctxscale needs, and only those that are missing.
# Called by `make deps`, which every building target runs first. Prints nothing when all are
# present. Usage: scripts/deps.sh [--check] [extra-package ...]
#   --check   only report what is missing (exit 1 if anything is), install nothing.
set -eu

# Libraries the library and binary link against, the test framework, and the tools the tests and
# figures call. python3-h5py lets the run-log test read our files with a second, independent
# reader; python3-scipy is the reference of the fitter benchmark. libcmark-dev renders the notebooks'
# HTML report; `make test` also installs chromium, in which the report test loads it (headless).
PKGS="build-essential pkg-config libgsl-dev libhdf5-dev hdf5-tools gnuplot-nox libopenblas-dev \
libopenmpi-dev openmpi-bin libcmocka-dev libjansson-dev libinih-dev python3-h5py python3-numpy python3-scipy \
libcmark-dev"

check_only=0
if [ "${1:-}" = "--check" ]; then
    check_only=1
    shift
fi
PKGS="$PKGS $*"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: not a Debian system (no dpkg-query); install the equivalents of: $PKGS" >&2
    exit 0
fi

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *" installed") ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ $check_only -eq 1 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    exit 1
fi

echo "deps: installing missing Debian packages:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "deps: not root and no sudo; as root run: apt-get install$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
