#!/bin/sh
# scripts/deps-corpus.sh: installs the Debian packages a named corpus is read from, and only those
# that are missing (`ctxscale data build NAME` never installs anything itself). `make demo` runs
# it for pd-books. The lists must match cs_sources_packages() in data/sources.c (checked by
# tests/cli/test_data_build.sh). Prints nothing when all are present.
# Usage: scripts/deps-corpus.sh [--check | --list] CORPUS...
#   CORPUS    pd-books (about 85 MB installed, 17 MB download) or debian-docs (about 280 MB
#             installed, 58 MB download; vim-runtime is usually there already)
#   --check   only report what is missing (exit 1 if anything is), install nothing
#   --list    print the packages of the corpora, one a line, and exit
set -eu

usage() {
    echo "usage: scripts/deps-corpus.sh [--check | --list] pd-books|debian-docs ..." >&2
    exit 2
}

packages() {
    case "$1" in
    pd-books)
        # bible-kjv: the `bible` program, bible-kjv-text: its data; the Go packages ship Project
        # Gutenberg books as test data (Moby-Dick; Sherlock Holmes and Tom Sawyer; Opticks).
        echo "bible-kjv bible-kjv-text golang-github-colinmarc-hdfs-dev \
golang-github-pierrec-lz4-dev golang-github-andybalholm-brotli-dev" ;;
    debian-docs)
        echo "python3.11-doc perl-doc vim-runtime linux-doc-6.1" ;;
    *)
        echo "deps-corpus: unknown corpus '$1' (expected pd-books or debian-docs)" >&2
        exit 2 ;;
    esac
}

mode=install
case "${1:-}" in
--check) mode=check; shift ;;
--list) mode=list; shift ;;
esac
[ $# -ge 1 ] || usage

PKGS=""
for c in "$@"; do
    PKGS="$PKGS $(packages "$c")"
done
if [ $mode = list ]; then
    for p in $PKGS; do echo "$p"; done
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps-corpus: not a Debian system (no dpkg-query); these corpora are read from Debian" \
         "packages: build a corpus from dir:, files: or jsonl: sources instead" >&2
    exit 1
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

if [ $mode = check ]; then
    echo "deps-corpus: missing Debian packages:$missing" >&2
    exit 1
fi

echo "deps-corpus: installing missing Debian packages:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "deps-corpus: not root and no sudo; as root run: apt-get install$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
