#!/usr/bin/env python3
"""xe_bench.py: `xe vm-list` (the real xe over POST /cli, plain and TLS) against the same listing through
XML-RPC (session login, VM.get_all_records, non-template count, logout) with N sim VMs. With --import-mib M,
also `xe vdi-import` / `xe vdi-export` of an M MiB raw file against curl's PUT /import_raw_vdi and
GET /export_raw_vdi of the same file, plain HTTP (bytes checked). Prints the median of --rounds runs of
each, interleaved. Not a test: it reports.

  python3 tools/bench/xe_bench.py [--vms 1000] [--rounds 5] [--import-mib 0] [--xe build-test/xe/bin/xe]
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
    ap.add_argument("--import-mib", type=int, default=0)
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
        if a.import_mib:
            rows.update(transfers(a, gw, http_port, env, auth))
        times = {k: [] for k in rows}
        for _ in range(a.rounds):
            for k, fn in rows.items():
                times[k].append(timed(fn))
        print("%d VMs (+ dom0), %d rounds: median (min-max) seconds" % (a.vms, a.rounds))
        for k, v in times.items():
            print("  %-45s %.3f (%.3f-%.3f)" % (k, statistics.median(v), min(v), max(v)))


def transfers(a, gw, http_port, env, auth):
    """xe vdi-import/-export and curl of the same file into one VDI, plain HTTP."""
    size = a.import_mib << 20
    s = xmlrpc.client.ServerProxy(gw.url, context=unverified_context())
    sess = s.session.login_with_password("root", gw.password, "1.0", "bench")["Value"]
    sr = s.pool.get_default_SR(sess, s.pool.get_all(sess)["Value"][0])["Value"]
    vdi = s.VDI.create(sess, {"SR": sr, "virtual_size": str(size), "type": "user",
                              "sharable": False, "read_only": False, "other_config": {},
                              "name_label": "bench", "name_description": ""})["Value"]
    uuid = s.VDI.get_uuid(sess, vdi)["Value"]
    src, dst = os.path.join(gw._tmp, "bench.raw"), os.path.join(gw._tmp, "bench.out")
    with open(src, "wb") as f:
        for _ in range(a.import_mib):
            f.write(os.urandom(1 << 20))
    base = "http://127.0.0.1:%d" % http_port
    q = "session_id=%s&vdi=%s" % (sess, vdi)

    def xe(*args):
        subprocess.run([a.xe] + list(args) + ["-s", "127.0.0.1", "-p", str(http_port)] + auth,
                       env=env, check=True, capture_output=True)

    def same():
        assert subprocess.run(["cmp", "-s", src, dst]).returncode == 0, "bytes differ"
        os.unlink(dst)

    return {"xe vdi-import, plain": lambda: xe("vdi-import", "uuid=" + uuid, "filename=" + src),
            "curl PUT /import_raw_vdi, plain": lambda: subprocess.run(
                ["curl", "-sSf", "-T", src, base + "/import_raw_vdi?" + q], check=True),
            "xe vdi-export, plain": lambda: (xe("vdi-export", "uuid=" + uuid, "filename=" + dst),
                                             same()),
            "curl GET /export_raw_vdi, plain": lambda: (subprocess.run(
                ["curl", "-sSf", "-o", dst, base + "/export_raw_vdi?" + q], check=True), same())}


if __name__ == "__main__":
    main()
