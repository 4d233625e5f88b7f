#!/usr/bin/env bash
# Install what is missing, build a clean tree and run every test suite:
#   1. build-test/: the whole ctest suite (unit, codegen, driver, libxl, metrics,
#      e2e with Python and the xen-api npm client, hostile);
#   2. build-asan/: the e2e and hostile suites again under ASan+UBSan (any
#      sanitizer report fails the run);
#   3. build-fuzz/: the libFuzzer targets (clang), each for a bounded time, then
#      the line coverage of each parser its corpus reaches (fails on a crash or
#      on coverage below the thresholds in tests/fuzz/CMakeLists.txt);
#   4. with XG_RUN_PACKAGE=1 (CI sets it; root only): the Debian package built,
#      installed with apt on this machine and checked (tests/package/);
#   5. with XG_RUN_XEN=1 (CI sets it): real Xen 4.17 booted under QEMU, the
#      gateway in dom0 on the libxl driver (the .deb of stage 4 installed in
#      dom0 when there is one), and the e2e, xo and libxl suites run against
#      it (tools/xen-qemu/, tests/xen/; ~3-5 min).
#   ./tools/test.sh [extra ctest arguments for stage 1, e.g. -L e2e]
# Every labelled stage runs with --no-tests=error: a label that selects nothing is a failure,
# not a silent pass. Time bounds in tests are hang guards scaled by $XG_TIME_SCALE (default 1;
# .ci/run and the sanitizer stage raise it); tools/bench measures speed.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/deps.sh
(cd tests/xo && npm ci --no-audit --no-fund)
(cd tests/browser && npm ci --no-audit --no-fund)
rm -rf build-test
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-test -j"$(nproc)"
if [ $# -eq 0 ]; then
  (cd build-test && ctest --output-on-failure --no-tests=error -j2 -LE 'xen|package')
else
  (cd build-test && ctest --output-on-failure --no-tests=error -j2 "$@")
fi

if [ $# -eq 0 ]; then
  echo "===== sanitizers: e2e and hostile suites under ASan+UBSan"
  rm -rf build-asan
  XG_JOBS="$(nproc)" sh tests/hostile/run-asan.sh "$PWD/build-asan" -LE hostile_heavy

  echo "===== fuzz: libFuzzer targets (instrumented, ASan+UBSan), bounded runs, coverage per parser"
  rm -rf build-fuzz
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXG_FUZZ=ON
  cmake --build build-fuzz -j"$(nproc)" --target fuzz_all
  fuzz_status=0
  (cd build-fuzz && ctest --output-on-failure --no-tests=error -j2 -L fuzz) || fuzz_status=$?
  cat build-fuzz/tests/fuzz/work_*/summary.txt build-fuzz/tests/fuzz/work_*/coverage.txt 2>/dev/null || true
  [ "$fuzz_status" -eq 0 ]

  if [ "${XG_RUN_PACKAGE:-0}" = 1 ]; then
    echo "===== package: build the .deb, install it here, check it (tests/package)"
    (cd build-test && ctest --output-on-failure --no-tests=error -L package)
  fi

  if [ "${XG_RUN_XEN:-0}" = 1 ]; then
    echo "===== real Xen: tools/xen-qemu + tests/xen (libxl driver in dom0)"
    deb=$(ls build-test/deb/xapi-gateway_*.deb 2>/dev/null | head -1)
    if [ -n "$deb" ]; then
      export XG_GATEWAY_DEB=$PWD/$deb   # dom0 runs the installed package
    fi
    (cd build-test && ctest --output-on-failure --no-tests=error -L xen)
  fi
fi
