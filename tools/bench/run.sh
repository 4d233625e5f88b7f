#!/bin/sh
# xapi-gateway benchmark: one command, prints a table (never a pass/fail test) and rewrites
# docs/PERFORMANCE.md with it. Compares the gateway (sim driver) with nginx (same TLS settings,
# same-size static replies: the ceiling) and Python's stdlib xmlrpc.server (the naive peer).
#
#   tools/bench/run.sh [--secs N] [--sessions N] [--big-vms N] [--perf] [--no-doc] [--quick]
#
# Binary: $XG_BINARY, else build-bench/xapi-gateway (configured and built here if missing).
# Needs: wrk, nginx (nginx-light), curl, python3, a C compiler + libssl-dev (installed with apt if
# missing). Everything listens on 127.0.0.1 high ports and is stopped by pid at the end.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tools/bench
BUILD=${XG_BENCH_BUILD:-$ROOT/build-bench}

need=""
for t in wrk nginx curl python3 cc; do
  command -v $t >/dev/null 2>&1 || need="$need $t"
done
[ -f /usr/include/openssl/ssl.h ] || need="$need libssl-dev"
if [ -n "$need" ]; then
  pk=""
  for t in $need; do
    case $t in nginx) pk="$pk nginx-light";; cc) pk="$pk gcc";; python3) pk="$pk python3";; *) pk="$pk $t";; esac
  done
  echo "installing:$pk" >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $pk >&2
fi

BIN=${XG_BINARY:-$BUILD/xapi-gateway}
if [ ! -x "$BIN" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  cmake --build "$BUILD" -j"$(nproc)" --target xapi-gateway >&2
fi

TLSCLOSE=${TMPDIR:-/tmp}/xg-bench-tlsclose
if [ ! -x "$TLSCLOSE" ] || [ "$HERE/tlsclose.c" -nt "$TLSCLOSE" ]; then
  cc -O2 -pthread -o "$TLSCLOSE" "$HERE/tlsclose.c" -lssl -lcrypto
fi

# enough descriptors for the idle-connection test
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

extra=""
for a in "$@"; do
  case $a in
    --quick) extra="$extra --secs 3 --sessions 2000 --events 100 --big-vms 10000";;
    *) extra="$extra $a";;
  esac
done
# shellcheck disable=SC2086
exec python3 "$HERE/bench.py" --binary "$BIN" --tlsclose "$TLSCLOSE" --command "tools/bench/run.sh $*" $extra
