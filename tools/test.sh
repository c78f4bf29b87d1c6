#!/usr/bin/env bash
# Quick start, second command: install dependencies, build, and run every test:
#   1. Release build: unit and integration tests (ctest)
#   2. ASan+UBSan build: the same tests
#   3. libFuzzer targets, each for FUZZ_SECONDS (default 30), when clang is available
# Exits non-zero on the first failing stage. Ends with one line "test.sh: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh

jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-30}
passed=0
failed=0

run_ctest() {  # build-dir label
  local log
  log=$(mktemp)
  local status=0
  ctest --test-dir "$1" -j "$jobs" --output-on-failure --no-tests=error --timeout 600 2>&1 | tee "$log" || status=$?
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1 || true)
  if [[ $line =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=$((failed + BASH_REMATCH[1]))
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
  fi
  rm -f "$log"
  if [ "$status" -ne 0 ]; then
    echo "test.sh: $2 tests failed"
    echo "test.sh: $passed passed, $((failed > 0 ? failed : 1)) failed"
    exit 1
  fi
}

echo "== release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
run_ctest build release

echo "== ASan+UBSan build"
# -O1 -g1: line tables are all the sanitizer reports need, and they build much faster than -g.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARRANT_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DWARRANT_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-asan asan

if command -v clang++ >/dev/null && [ "$fuzz_seconds" -gt 0 ]; then
  echo "== fuzzing, ${fuzz_seconds}s per target"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARRANT_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  cmake --build build-fuzz -j "$jobs"
  for fuzzer in build-fuzz/*_fuzz; do
    name=$(basename "$fuzzer" _fuzz)
    work=$(mktemp -d)
    cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
    dict=()
    [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
    if "$fuzzer" -max_total_time="$fuzz_seconds" -print_final_stats=1 -artifact_prefix="build-fuzz/$name-" \
      "${dict[@]}" "$work" >"build-fuzz/$name.log" 2>&1; then
      passed=$((passed + 1))
      echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "build-fuzz/$name.log" | grep -o '[0-9]*$') runs)"
    else
      failed=$((failed + 1))
      tail -40 "build-fuzz/$name.log"
      echo "fuzz $name: FAILED (see build-fuzz/$name.log and build-fuzz/$name-*)"
    fi
    rm -rf "$work"
  done
else
  echo "== fuzzing skipped (no clang++ or FUZZ_SECONDS=0)"
fi

echo "test.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
