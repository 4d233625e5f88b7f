#!/bin/sh
# run-long.sh BUILD_DIR [SECONDS] [OUT_DIR] [REGEX]: runs every fuzz target
# (or those whose ctest name matches REGEX, e.g. 'xmlrpc|http') of a
# -DXG_FUZZ=ON build for SECONDS (default 4 h) at once, each exactly as its
# ctest entry does (run-fuzz.sh: seeds, dictionary, sanitizers, properties,
# then the coverage of the corpus it grew), at nice 19 so that builds on the
# same machine keep their CPU. Corpora, logs, reproducers and the coverage of
# each target stay in OUT_DIR (default: a new directory under /tmp).
# Build first: cmake -S . -B BUILD_DIR -DCMAKE_C_COMPILER=clang -DXG_FUZZ=ON
#              && cmake --build BUILD_DIR --target fuzz_all
set -eu
build=$(cd "${1:?usage: run-long.sh BUILD_DIR [SECONDS] [OUT_DIR] [REGEX]}" && pwd)
secs=${2:-14400}
out=${3:-$(mktemp -d)}
mkdir -p "$out"
(cd "$build" && ctest -N -L fuzz -R "${4:-.}" --show-only=json-v1) > "$out/tests.json"
python3 - "$out/tests.json" "$secs" "$out" <<'PY'
import json, os, subprocess, sys
tests, secs, out = json.load(open(sys.argv[1]))["tests"], sys.argv[2], sys.argv[3]
procs = []
for t in tests:
    cmd = list(t["command"])     # sh run-fuzz.sh EXE SEEDS DICT WORK SECONDS FILE=MIN …
    cmd[5], cmd[6] = os.path.join(out, t["name"]), secs
    env = dict(os.environ)
    for p in t.get("properties", []):
        if p["name"] == "ENVIRONMENT":
            env.update(kv.split("=", 1) for kv in p["value"])
    log = open(os.path.join(out, t["name"] + ".log"), "w")
    procs.append((t["name"], subprocess.Popen(["nice", "-n", "19"] + cmd, env=env,
                                              stdout=log, stderr=subprocess.STDOUT)))
failed = [n for n, p in procs if p.wait() != 0]
for n, _ in procs:
    print(open(os.path.join(out, n + ".log")).read(), end="")
print(f"corpora, logs and reproducers in {out}")
sys.exit(1 if failed else 0)
PY
