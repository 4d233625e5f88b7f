#!/bin/sh
# run-long.sh BUILD_DIR [SECONDS]: runs every fuzz target for SECONDS each
# (default 4 h) with a writable copy of the seed corpus, in parallel.
# Build first: cmake -S . -B BUILD_DIR -DCMAKE_C_COMPILER=clang -DXG_FUZZ=ON
set -eu
build=${1:?usage: run-long.sh BUILD_DIR [SECONDS]}
secs=${2:-14400}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
for t in http xmlrpc jsonrpc; do
    exe=$(find "$build" -name "fuzz_$t" -type f -perm -u+x | head -n 1)
    [ -n "$exe" ] || { echo "fuzz_$t not built in $build" >&2; exit 1; }
    mkdir -p "$work/$t"
    cp "$here/corpus/$t/"* "$work/$t/" 2>/dev/null || true
    "$exe" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="$work/$t-" "$work/$t" > "$work/$t.log" 2>&1 &
done
wait
echo "corpora, logs and crashes (if any) in $work"
