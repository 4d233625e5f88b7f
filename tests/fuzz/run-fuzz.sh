#!/bin/sh
# run-fuzz.sh EXE SEEDS DICT WORK SECONDS FILE=MIN% …: one CI fuzz run (ctest
# label "fuzz"). Fuzzes EXE for SECONDS from the seed corpus SEEDS (read only)
# into WORK/corpus, then replays both corpora with clang's source coverage
# and prints, for each parser FILE, the share of its lines reached. Fails on
# any crash, sanitizer report, leak, timeout or broken property (libFuzzer
# exits non-zero and leaves the input in WORK/), or when a FILE is below MIN%.
# Needs XG_LLVM_PROFDATA and XG_LLVM_COV (set by tests/fuzz/CMakeLists.txt).
set -eu
exe=$1 seeds=$2 dict=$3 work=$4 secs=$5
shift 5
rm -rf "$work"
mkdir -p "$work/corpus"
name=$(basename "$exe")

# fuzzing: the profile of this run is not the one we report
LLVM_PROFILE_FILE="$work/fuzz.profraw" "$exe" -max_total_time="$secs" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -dict="$dict" \
    -artifact_prefix="$work/" "$work/corpus" "$seeds" > "$work/fuzz.log" 2>&1 || {
    tail -n 60 "$work/fuzz.log"
    echo "$name: FAILED, reproducer in $work/ (run: $exe $work/crash-…)"
    exit 1
}
# libFuzzer's last status line (cov: = edges reached, ft: = features) and speed
{ grep -a ' cov: ' "$work/fuzz.log" | tail -n 1
  grep -a -E '^Done [0-9]+ runs|stat::average_exec_per_sec' "$work/fuzz.log"; } |
    sed "s/^/$name: /" > "$work/summary.txt" || true
cat "$work/summary.txt"

# coverage of the whole corpus (seeds + what this run found)
LLVM_PROFILE_FILE="$work/cov.profraw" "$exe" -runs=0 "$work/corpus" "$seeds" \
    > "$work/replay.log" 2>&1 || { tail -n 40 "$work/replay.log"; exit 1; }
"$XG_LLVM_PROFDATA" merge -sparse -o "$work/cov.profdata" "$work/cov.profraw"
"$XG_LLVM_COV" export -summary-only -instr-profile="$work/cov.profdata" "$exe" > "$work/cov.json"
status=0
root=$(cd "$(dirname "$0")/../.." && pwd)
python3 - "$name" "$work/cov.json" "$root" "$@" > "$work/coverage.txt" <<'PY' || status=1
import json, os, sys
name, report, root, wanted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
files = {f["filename"]: f["summary"]["lines"] for f in json.load(open(report))["data"][0]["files"]}
ok = True
for spec in wanted:
    path, minimum = spec.rsplit("=", 1)
    lines = files.get(path)
    if lines is None:
        print(f"coverage {name}: {os.path.relpath(path, root)} not in the report"); ok = False; continue
    pct = 100.0 * lines["covered"] / lines["count"] if lines["count"] else 0.0
    verdict = "ok" if pct >= float(minimum) else "BELOW THRESHOLD"
    print(f"coverage {name}: {os.path.relpath(path, root)} {pct:.1f}% of lines ({lines['covered']}/{lines['count']}), "
          f"threshold {minimum}%: {verdict}")
    ok = ok and pct >= float(minimum)
sys.exit(0 if ok else 1)
PY
cat "$work/coverage.txt"
exit $status
