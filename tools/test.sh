#!/usr/bin/env bash
# Install what is missing, build a clean tree and run every test suite:
#   1. build-test/: the whole ctest suite (unit, codegen, driver, libxl, metrics,
#      e2e with Python and the xen-api npm client, hostile);
#   2. build-asan/: the e2e and hostile suites again under ASan+UBSan (any
#      sanitizer report fails the run);
#   3. build-fuzz/: the libFuzzer targets (clang), each for a bounded time.
# The real-Xen suite (label xen) runs only with XG_RUN_XEN=1 (see tools/xen-qemu/).
#   ./tools/test.sh [extra ctest arguments for stage 1, e.g. -L e2e]
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/deps.sh
(cd tests/xo && npm ci --no-audit --no-fund)
rm -rf build-test
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-test -j"$(nproc)"
(cd build-test && ctest --output-on-failure -j2 "$@")

if [ $# -eq 0 ]; then
  echo "===== sanitizers: e2e and hostile suites under ASan+UBSan"
  rm -rf build-asan
  XG_JOBS="$(nproc)" sh tests/hostile/run-asan.sh "$PWD/build-asan" -LE hostile_heavy

  echo "===== fuzz: libFuzzer targets, bounded runs"
  rm -rf build-fuzz
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXG_FUZZ=ON
  cmake --build build-fuzz -j"$(nproc)"
  (cd build-fuzz && ctest --output-on-failure -L fuzz)
fi
