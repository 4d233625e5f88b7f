#!/usr/bin/env python3
"""Storage benchmark: raw import/export of a disk through the gateway against cp/dd of the same
file on the same filesystem, the gateway's memory during the transfers, export of a never-written
(sparse) disk, and VDI.snapshot / VDI.clone time on a full image. Not a test: it prints the
figures (ratios within one run).

Usage: tools/bench/storage.py [--size-mib N] [--runs N] [--cold] [--build DIR]

Fairness: the gateway runs on the sim driver on 127.0.0.1 with its state (and so its SR) in a
temporary directory next to the reference copies, on the same filesystem. curl is the client
(TLS as clients use it, and plain HTTP on the loopback listener to show what TLS costs). Every
timed step ends with `sync`, the references too, so data on the disk is what is measured, not
data in the page cache. The steps are interleaved run after run (cp, dd, import, export, ...) so
that a change in the machine's load hits all of them; the table shows the median of --runs and,
in brackets, the fastest and slowest. --cold drops the page cache before each step (root), so
that the source is read from the disk for cp as for curl; without it, the image is read once
before an export, as cp's source is warm from the step before.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class RssWatch:
    """Peak resident memory of pid while running (sampled every 20 ms)."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0, False
        self.t = threading.Thread(target=self.run, daemon=True)

    def rss(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def __enter__(self):
        self.base = self.rss()
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop = True
        self.t.join()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cold", action="store_true", help="drop the page cache before each step")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build-test"))
    args = ap.parse_args()
    os.environ.setdefault("XG_BUILD_DIR", os.path.abspath(args.build))
    from gateway import Gateway, XapiSession, free_port

    size = args.size_mib << 20
    work = tempfile.mkdtemp(prefix="xg-bench-storage-", dir="/var/tmp")
    src = os.path.join(work, "disk.raw")
    # incompressible data, no holes: every byte has to move
    with open("/dev/urandom", "rb") as r, open(src, "wb") as w:
        for _ in range(args.size_mib):
            w.write(r.read(1 << 20))
    sh("sync")
    times = {}          # step -> [seconds]
    notes = {}          # step -> text (last run)

    def step(name, fn, pid=None, source=None):
        sh("sync")
        if args.cold:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
        elif source:
            # warm for the gateway as for cp: an import writes past the page cache
            # (O_DIRECT), so its image is read in first, like cp's source file
            sh("cat", source)
        if pid:
            with RssWatch(pid) as rss:
                t = time.monotonic()
                fn()
                sh("sync")
                secs = time.monotonic() - t
            notes[name] = "RSS %d -> peak %d MiB" % (rss.base >> 20, rss.peak >> 20)
        else:
            t = time.monotonic()
            fn()
            sh("sync")
            secs = time.monotonic() - t
        times.setdefault(name, []).append(secs)

    http_port = free_port()
    out = os.path.join(work, "export.raw")
    identical = True
    with Gateway(sim_vms=0, state_dir=os.path.join(work, "state"),
                 extra_args=["--http", "127.0.0.1:%d" % http_port]) as gw:
        s = XapiSession(gw)
        sr = s.call("pool.get_default_SR", s.call("pool.get_all")[0])
        pid = gw.proc.pid

        def new_vdi():
            return s.call("VDI.create", {"SR": sr, "virtual_size": str(size), "type": "user",
                                         "sharable": False, "read_only": False,
                                         "other_config": {}, "name_label": "bench",
                                         "name_description": ""})

        def image(vdi):
            pbd = s.call("SR.get_PBDs", sr)[0]
            return os.path.join(s.call("PBD.get_device_config", pbd)["location"],
                                s.call("VDI.get_location", vdi) + ".qcow2")

        bases = {"TLS": "%s://%s:%d" % (gw.scheme, gw.host, gw.port),
                 "plain HTTP": "http://127.0.0.1:%d" % http_port}
        empty = new_vdi()
        for _ in range(args.runs):
            step("cp", lambda: sh("cp", src, os.path.join(work, "cp.raw")))
            os.unlink(os.path.join(work, "cp.raw"))
            step("dd", lambda: sh("dd", "if=" + src, "of=" + os.path.join(work, "dd.raw"), "bs=1M"))
            os.unlink(os.path.join(work, "dd.raw"))
            for proto, base in bases.items():
                vdi = new_vdi()
                q = urllib.parse.urlencode({"session_id": s.ref, "vdi": vdi, "format": "raw"})
                step("import " + proto,
                     lambda: sh("curl", "-sSfk", "-T", src, base + "/import_raw_vdi?" + q), pid)
                step("export " + proto,
                     lambda: sh("curl", "-sSfk", "-o", out, base + "/export_raw_vdi?" + q), pid,
                     image(vdi))
                identical &= subprocess.run(["cmp", "-s", src, out]).returncode == 0
                os.unlink(out)
                # the same without the client's own file write (as costly as dd's)
                step("export null " + proto,
                     lambda: sh("curl", "-sSfk", "-o", "/dev/null", base + "/export_raw_vdi?" + q),
                     pid, image(vdi))
                s.call("VDI.destroy", vdi)
            q = urllib.parse.urlencode({"session_id": s.ref, "vdi": empty, "format": "raw"})
            step("export sparse", lambda: sh("curl", "-sSfk", "-o", out,
                                             bases["TLS"] + "/export_raw_vdi?" + q), pid)
            os.unlink(out)
        full = new_vdi()
        q = urllib.parse.urlencode({"session_id": s.ref, "vdi": full, "format": "raw"})
        sh("curl", "-sSfk", "-T", src, bases["TLS"] + "/import_raw_vdi?" + q)
        t = time.monotonic()
        s.call("VDI.snapshot", full, {})
        snap_s = time.monotonic() - t
        t = time.monotonic()
        s.call("VDI.clone", full, {})
        clone_s = time.monotonic() - t
    subprocess.run(["rm", "-rf", work])

    cp_s = statistics.median(times["cp"])

    def row(label, name, vs_cp=True):
        ts = times[name]
        med = statistics.median(ts)
        extra = ["%.0f %% of cp" % (100 * cp_s / med)] if vs_cp else []
        if name in notes:
            extra.append(notes[name])
        return (label, "%.2f s [%.2f-%.2f]" % (med, min(ts), max(ts)),
                "%.0f MiB/s" % (size / med / (1 << 20)), "; ".join(extra))

    mib = args.size_mib
    rows = [
        row("cp (%d MiB file, then sync)" % mib, "cp", False),
        row("dd bs=1M (then sync)", "dd"),
        row("PUT /import_raw_vdi (curl, TLS, then sync)", "import TLS"),
        row("GET /export_raw_vdi (curl, TLS, then sync)", "export TLS"),
        row("GET /export_raw_vdi (curl -o /dev/null, TLS)", "export null TLS"),
        row("PUT /import_raw_vdi (curl, plain HTTP)", "import plain HTTP"),
        row("GET /export_raw_vdi (curl, plain HTTP)", "export plain HTTP"),
        row("GET /export_raw_vdi (curl -o /dev/null, plain HTTP)", "export null plain HTTP"),
        row("GET /export_raw_vdi, never-written disk (TLS)", "export sparse"),
        ("VDI.snapshot of the full disk", "%.1f ms" % (snap_s * 1000), "", "copy-on-write"),
        ("VDI.clone of the full disk", "%.1f ms" % (clone_s * 1000), "", "copy-on-write"),
    ]
    print("%d runs, median [fastest-slowest], page cache %s; exports byte-identical: %s"
          % (args.runs, "dropped before each step" if args.cold else "warm", identical))
    w = max(len(r[0]) for r in rows)
    for r in rows:
        print("%-*s  %22s  %10s  %s" % (w, r[0], r[1], r[2], r[3]))


if __name__ == "__main__":
    main()
