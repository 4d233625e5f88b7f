#!/bin/bash
# tests/xen/run.sh BUILD_DIR - the `xen` ctest: real Xen 4.17 in QEMU (TCG).
# Builds or reuses the dom0 image (tools/xen-qemu/build-image.sh), boots it with
# the gateway from BUILD_DIR running in dom0 with --driver libxl
# (tools/xen-qemu/boot.sh), then runs from the host against the forwarded port:
#   1. the e2e suite (tests/e2e, XG_E2E_URL mode; sim-only tests skip; the lifecycle and
#      Async/cancel checks boot the image's PV test guest)
#   2. the xo client suite (tests/xo, if node and its node_modules are there)
#   3. XO Lite's pool and host dashboards in headless Chromium (tests/browser, if the
#      bundle ../shared/xo-lite/www is there: dom0's gateway serves it with --www)
#   4. tests/xen/test_libxl.py (checks the gateway against `xl` in dom0)
# Skips (exit 77) unless XG_RUN_XEN=1. Knobs: XG_GATEWAY_BIN, XG_XEN_CACHE,
# XG_XEN_WORK_DIR (logs; default BUILD_DIR/xen-work), XG_XEN_E2E_MODULES
# (space separated e2e modules; default all, "none" to skip), XG_XEN_SKIP_LIBXL=1,
# XG_XEN_SKIP_XO=1, XG_XEN_SKIP_BROWSER=1.
# On failure prints the dom0 console log, the gateway log and the Xen logs.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "${1:-}" = --inner ]; then
  # runs on the host while dom0 is up (environment from boot.sh)
  # the gateway and guests run under TCG emulation: stretch every hang guard of the suites
  XG_TIME_SCALE=$(awk -v s="${XG_TIME_SCALE:-1}" 'BEGIN { print (s + 0 >= 1 ? s : 1) * 4 }')
  export XG_TIME_SCALE
  # the e2e lifecycle and task checks boot the busybox PV test guest of the image
  export XG_E2E_GUEST_KERNEL=/var/lib/xg-test/vmlinux XG_E2E_GUEST_RAMDISK=/var/lib/xg-test/initrd.gz
  export XG_E2E_GUEST_ARGS="console=hvc0 rdinit=/init"
  # the real xe of the xe ctest fixture, when it was built (test_libxl.py uses it)
  export XG_XE="${XG_BUILD_DIR:-}/xe/bin/xe"
  rc=0
  # every suite's output also goes to suites.log: on failure the outer run ends with
  # the failing tests' reports, where a reader of the log's tail sees them
  SUITES_LOG="$XG_XEN_WORK/suites.log"
  : > "$SUITES_LOG"
  t=$(date +%s)
  if [ "${XG_XEN_E2E_MODULES:-}" != none ]; then
    echo "==== e2e suite against $XG_E2E_URL"
    # shellcheck disable=SC2086
    PYTHONDONTWRITEBYTECODE=1 timeout -k 10 "${XG_XEN_E2E_TIMEOUT:-1500}" \
      python3 "$ROOT/tests/e2e/run_e2e.py" "" ${XG_XEN_E2E_MODULES:-} 2>&1 | tee -a "$SUITES_LOG" || rc=1
  fi
  t2=$(date +%s)
  if [ "${XG_XEN_SKIP_XO:-0}" != 1 ] && command -v node > /dev/null; then
    echo "==== xo client tests (tests/xo, npm xen-api) against $XG_E2E_URL"
    timeout -k 10 "${XG_XEN_XO_TIMEOUT:-600}" node "$ROOT/tests/xo/run.mjs" "" 2>&1 | tee -a "$SUITES_LOG"
    xrc=${PIPESTATUS[0]}
    [ $xrc = 77 ] && echo "(xo tests skipped: tests/xo/node_modules missing)"
    [ $xrc = 0 ] || [ $xrc = 77 ] || rc=1
  fi
  t3=$(date +%s)
  if [ "${XG_XEN_SKIP_BROWSER:-0}" != 1 ] && [ -n "${XG_XEN_WWW:-}" ] && command -v node > /dev/null; then
    echo "==== XO Lite dashboards in Chromium (tests/browser) against $XG_E2E_URL"
    XG_BROWSER_ARTIFACTS="$XG_XEN_WORK/browser-artifacts" timeout -k 10 "${XG_XEN_BROWSER_TIMEOUT:-900}" \
      node "$ROOT/tests/browser/xolite.mjs" "" 2>&1 | tee -a "$SUITES_LOG" || rc=1
  fi
  t3b=$(date +%s)
  # last: these tests restart the gateway and leave the most traces
  if [ "${XG_XEN_SKIP_LIBXL:-0}" != 1 ]; then
    echo "==== libxl tests (tests/xen/test_libxl.py)"
    PYTHONDONTWRITEBYTECODE=1 timeout -k 10 "${XG_XEN_LIBXL_TIMEOUT:-1500}" \
      python3 "$HERE/test_libxl.py" -v ${XG_XEN_LIBXL_TESTS:-} 2>&1 | tee -a "$SUITES_LOG" || rc=1
  fi
  t4=$(date +%s)
  echo "e2e=$((t2-t))s xo=$((t3-t2))s browser=$((t3b-t3))s libxl=$((t4-t3b))s" > "$XG_XEN_WORK/suite-times.txt"
  exit $rc
fi

BUILD=${1:-$ROOT/build}
if [ "${XG_RUN_XEN:-0}" != 1 ]; then
  echo "SKIP: real-Xen tests run only with XG_RUN_XEN=1 (boots Xen in QEMU, needs root)"
  exit 77
fi
[ "$(id -u)" = 0 ] || { echo "FAIL: the xen test needs root (debootstrap/chroot)"; exit 1; }
for c in qemu-system-x86_64 debootstrap cpio zstd python3; do
  command -v $c > /dev/null || { echo "FAIL: missing $c (apt-get install qemu-system-x86 debootstrap cpio zstd)"; exit 1; }
done
GW=${XG_GATEWAY_BIN:-$BUILD/xapi-gateway}
[ -x "$GW" ] || { echo "FAIL: no gateway binary at $GW"; exit 1; }
WORK=${XG_XEN_WORK_DIR:-$BUILD/xen-work}
rm -rf "$WORK"; mkdir -p "$WORK"

# the console test reads the screen with the font this build compiled in
export XG_BUILD_DIR=$BUILD
T0=$(date +%s)
"$ROOT/tools/xen-qemu/build-image.sh" || { echo "FAIL: dom0 image build failed"; exit 1; }
T1=$(date +%s)
# XO Lite's bundle goes into dom0 and its gateway serves it (the browser step loads it)
WWW=$ROOT/../shared/xo-lite/www ADD=()
if [ -f "$WWW/index.html" ]; then
  ADD=(-a "$WWW:/xg/www")
  export XG_GATEWAY_ARGS="${XG_GATEWAY_ARGS:+$XG_GATEWAY_ARGS }--www /xg/www" XG_XEN_WWW=/xg/www
fi
"$ROOT/tools/xen-qemu/boot.sh" -t "${XG_XEN_LIFETIME:-2700}" -g "$GW" -w "$WORK" "${ADD[@]+"${ADD[@]}"}" \
  -- "$HERE/run.sh" --inner
rc=$?
T2=$(date +%s)

if [ $rc != 0 ]; then
  echo "==== FAILED (rc=$rc); dom0 console log ($WORK/serial.log, last 150 lines)"
  tail -n 150 "$WORK/serial.log" 2>/dev/null
  echo "==== gateway log ($WORK/gateway.log, last 150 lines)"
  tail -n 150 "$WORK/gateway.log" 2>/dev/null
  echo "==== Xen logs ($WORK/xen-logs.txt, last 100 lines)"
  tail -n 100 "$WORK/xen-logs.txt" 2>/dev/null
fi
if [ $rc != 0 ] && [ -s "$WORK/suites.log" ]; then
  # unittest's FAIL/ERROR reports (to the next separator line), the browser's and
  # node:test's failure lines: bounded, so the tail stays readable
  echo "==== failing tests (from $WORK/suites.log)"
  awk '/^(FAIL|ERROR): /{on=1; n=0} /^(=====|-----)/{if (on && n++ > 0) on=0} on' "$WORK/suites.log" | head -n 40
  grep -E '^FAIL |^not ok|✖|timed out' "$WORK/suites.log" | head -n 10
fi
echo "XG-XEN-TIMES image=$((T1-T0))s boot+suite+teardown=$((T2-T1))s $(cat "$WORK/boot-times.txt" 2>/dev/null) $(cat "$WORK/suite-times.txt" 2>/dev/null)"
exit $rc
