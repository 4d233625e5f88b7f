#!/usr/bin/env bash
# Install what is missing, build a clean tree in build-test/ and run every test suite.
#   ./tools/test.sh [extra ctest arguments, e.g. -L e2e]
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/deps.sh
(cd tests/xo && npm ci --no-audit --no-fund)
rm -rf build-test
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-test -j"$(nproc)"
cd build-test
ctest --output-on-failure -j2 "$@"
