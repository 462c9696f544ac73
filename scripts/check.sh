#!/bin/sh
# `make check`: dependencies, two clean builds, then every test.
# Ends with one line "N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/.."
scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

results=""
build() {   # build NAME DIR MESON-ARGS...
    name=$1; dir=$2; shift 2
    rm -rf "$dir"
    echo "== build: $name"
    if meson setup "$dir" "$@" >"$dir.log" 2>&1 || { cat "$dir.log"; false; }; then
        if ninja -C "$dir" >>"$dir.log" 2>&1; then
            results="$results build:$name:pass"; return 0
        fi
    fi
    tail -50 "$dir.log"
    results="$results build:$name:fail"; return 1
}

# gcc: the warnings gate (-Wall -Wextra -Werror), no sanitizers, at -O3
# (release, what the benchmarks build): gcc's flow-based warnings
# (maybe-uninitialized) depend on the optimisation level.
CC=gcc build gcc build-gcc -Dfuzz=false -Dbuildtype=release
# clang + ASan/UBSan: what the tests run, plus the libFuzzer targets.
CC=clang build clang-asan build-check -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false

exec python3 tests/run-tests.py --build build-check --prior "$results"
