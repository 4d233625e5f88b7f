#!/usr/bin/env python3
"""xe_bench.py: `xe vm-list` (the real xe over POST /cli, plain and TLS) against the same listing through
XML-RPC (session login, VM.get_all_records, non-template count, logout) with N sim VMs. Prints the median of
--rounds runs of each, interleaved. Not a test: it reports.

  python3 tools/bench/xe_bench.py [--vms 1000] [--rounds 5] [--xe build-test/xe/bin/xe]
Binary: $XG_BINARY, else $XG_BUILD_DIR/xapi-gateway (default build-test)."""
import argparse
import os
import statistics
import subprocess
import sys
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
os.environ.setdefault("XG_BUILD_DIR", os.path.join(HERE, "..", "..", "build-test"))
from gateway import Gateway, free_port, unverified_context  # noqa: E402


def timed(fn):
    t = time.monotonic()
    fn()
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--xe", default=os.path.join(os.environ["XG_BUILD_DIR"], "xe", "bin", "xe"))
    a = ap.parse_args()
    http_port = free_port()
    with Gateway(sim_vms=a.vms, extra_args=["--http", "127.0.0.1:%d" % http_port]) as gw:
        env = dict(os.environ, HOME=gw._tmp)
        auth = ["-u", "root", "-pw", gw.password]

        def xe(server, port):
            out = subprocess.run([a.xe, "vm-list", "-s", server, "-p", str(port)] + auth, env=env,
                                 check=True, capture_output=True, text=True).stdout
            assert out.count("uuid ( RO)") == a.vms + 1, "unexpected listing"

        def rpc():
            s = xmlrpc.client.ServerProxy(gw.url, context=unverified_context())
            sess = s.session.login_with_password("root", gw.password, "1.0", "bench")["Value"]
            recs = s.VM.get_all_records(sess)["Value"]
            assert sum(1 for r in recs.values() if not r["is_a_template"]) == a.vms + 1
            s.session.logout(sess)

        rows = {"xe vm-list, plain (-s 127.0.0.1)": lambda: xe("127.0.0.1", http_port),
                "xe vm-list, TLS via stunnel (-s localhost)": lambda: xe("localhost", gw.port),
                "XML-RPC VM.get_all_records, TLS (Python)": rpc}
        times = {k: [] for k in rows}
        for _ in range(a.rounds):
            for k, fn in rows.items():
                times[k].append(timed(fn))
        print("%d VMs (+ dom0), %d rounds: median (min-max) seconds" % (a.vms, a.rounds))
        for k, v in times.items():
            print("  %-45s %.3f (%.3f-%.3f)" % (k, statistics.median(v), min(v), max(v)))


if __name__ == "__main__":
    main()
