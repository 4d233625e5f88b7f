#!/bin/sh
# Build xapi-gateway with AddressSanitizer + UndefinedBehaviorSanitizer (-DXG_SANITIZE=ON) in a
# separate build directory and run the e2e and hostile suites against it.
#   tests/hostile/run-asan.sh [BUILD_DIR] [extra ctest args...]
# Default BUILD_DIR: <repo>/build-asan. Sanitizer reports go to BUILD_DIR/asan-logs/ (one file
# per process, log_path) and are summarised at the end; any report makes the script exit 1.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-asan}
[ $# -gt 0 ] && shift
JOBS=${XG_JOBS:-2}
LOGS=$BUILD/asan-logs

# -fsanitize-recover=address: with halt_on_error=0 the gateway keeps running after an ASan
# report, so one run collects every finding (UBSan stays fatal, as XG_SANITIZE sets it)
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXG_SANITIZE=ON \
      -DCMAKE_C_FLAGS="-fsanitize-recover=address"
cmake --build "$BUILD" -j"$JOBS" --target xapi-gateway

rm -rf "$LOGS"
mkdir -p "$LOGS"
# halt_on_error=0 keeps the gateway running so that one test run collects every report;
# detect_leaks=1 reports leaks at exit (the harness stops the gateway with SIGTERM).
export ASAN_OPTIONS="log_path=$LOGS/asan:halt_on_error=0:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$LOGS/ubsan:print_stacktrace=1:halt_on_error=0"
export XG_SANITIZED=1        # tests skip RSS bounds (quarantine + shadow memory)
# ASan+UBSan run the gateway several times slower: stretch every hang guard in the tests
XG_TIME_SCALE=$(awk -v s="${XG_TIME_SCALE:-1}" 'BEGIN { print (s + 0 >= 1 ? s : 1) * 4 }')
export XG_TIME_SCALE
export LSAN_OPTIONS="suppressions=$ROOT/tests/hostile/lsan.supp:print_suppressions=0"

rc=0
(cd "$BUILD" && ctest -L 'e2e|hostile' --no-tests=error --output-on-failure --timeout 600 "$@") || rc=$?

n=$(find "$LOGS" -type f | wc -l)
echo
echo "===== sanitizer reports: $n file(s) in $LOGS"
if [ "$n" -gt 0 ]; then
  # one line per finding: kind and first frame in our sources
  for f in "$LOGS"/*; do
    echo "--- $f"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$f" | head -20
    grep -E '#[0-9]+ .* /work/|#[0-9]+ .* (server|handlers|codegen|build)/' "$f" | head -8
  done
  rc=1
fi
echo "ctest + sanitizers: exit $rc"
exit $rc
