#!/usr/bin/env python3
"""Storage benchmark: raw import/export of a disk through the gateway against cp/dd of the same
file on the same filesystem, the gateway's memory during the transfers, and VDI.snapshot /
VDI.clone time on a full image. Not a test: it prints the figures (ratios in one run).

Usage: tools/bench/storage.py [--size-mib N] [--build DIR]
The gateway runs on the sim driver on 127.0.0.1 with its state (and so its SR) in a temporary
directory next to the reference copies; curl is the HTTP client (as fast a client as we have).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))


def timed(fn):
    t = time.monotonic()
    fn()
    return time.monotonic() - t


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
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build-test"))
    args = ap.parse_args()
    os.environ.setdefault("XG_BUILD_DIR", os.path.abspath(args.build))
    from gateway import Gateway, XapiSession

    size = args.size_mib << 20
    work = tempfile.mkdtemp(prefix="xg-bench-storage-", dir="/var/tmp")
    src = os.path.join(work, "disk.raw")
    # incompressible data, no holes: every byte has to move
    with open("/dev/urandom", "rb") as r, open(src, "wb") as w:
        for _ in range(args.size_mib):
            w.write(r.read(1 << 20))
    sh("sync")
    rows = []

    def rate(secs):
        return size / secs / (1 << 20)

    cp_s = timed(lambda: (sh("cp", src, os.path.join(work, "cp.raw")), sh("sync")))
    dd_s = timed(lambda: (sh("dd", "if=" + src, "of=" + os.path.join(work, "dd.raw"), "bs=1M"), sh("sync")))
    cp_read_s = timed(lambda: sh("cp", src, "/dev/null"))
    for f in ("cp.raw", "dd.raw"):
        os.unlink(os.path.join(work, f))
    with Gateway(sim_vms=0, state_dir=os.path.join(work, "state")) as gw:
        s = XapiSession(gw)
        sr = s.call("pool.get_default_SR", s.call("pool.get_all")[0])
        vdi = s.call("VDI.create", {"SR": sr, "virtual_size": str(size), "type": "user",
                                    "sharable": False, "read_only": False, "other_config": {},
                                    "name_label": "bench", "name_description": ""})
        base = "%s://%s:%d" % (gw.scheme, gw.host, gw.port)
        q = urllib.parse.urlencode({"session_id": s.ref, "vdi": vdi, "format": "raw"})
        out = os.path.join(work, "export.raw")
        with RssWatch(gw.proc.pid) as imp_rss:
            imp_s = timed(lambda: (sh("curl", "-sSfk", "-T", src, base + "/import_raw_vdi?" + q),
                                   sh("sync")))
        with RssWatch(gw.proc.pid) as exp_rss:
            exp_s = timed(lambda: (sh("curl", "-sSfk", "-o", out, base + "/export_raw_vdi?" + q),
                                   sh("sync")))
        same = subprocess.run(["cmp", "-s", src, out]).returncode == 0
        os.unlink(out)
        snap_s = timed(lambda: s.call("VDI.snapshot", vdi, {}))
        clone_s = timed(lambda: s.call("VDI.clone", vdi, {}))
        rows += [
            ("cp (write %d MiB, then sync)" % args.size_mib, "%.2f s" % cp_s, "%.0f MiB/s" % rate(cp_s), ""),
            ("dd bs=1M (then sync)", "%.2f s" % dd_s, "%.0f MiB/s" % rate(dd_s), ""),
            ("cp to /dev/null (read)", "%.2f s" % cp_read_s, "%.0f MiB/s" % rate(cp_read_s), ""),
            ("PUT /import_raw_vdi (curl, TLS, then sync)", "%.2f s" % imp_s, "%.0f MiB/s" % rate(imp_s),
             "%.0f %% of cp; RSS %d -> peak %d MiB" % (100 * cp_s / imp_s, imp_rss.base >> 20, imp_rss.peak >> 20)),
            ("GET /export_raw_vdi (curl, TLS, then sync)", "%.2f s" % exp_s, "%.0f MiB/s" % rate(exp_s),
             "%.0f %% of cp; RSS %d -> peak %d MiB; identical: %s" % (
                 100 * cp_s / exp_s, exp_rss.base >> 20, exp_rss.peak >> 20, same)),
            ("VDI.snapshot of the full disk", "%.1f ms" % (snap_s * 1000), "", "copy-on-write"),
            ("VDI.clone of the full disk", "%.1f ms" % (clone_s * 1000), "", "copy-on-write"),
        ]
    subprocess.run(["rm", "-rf", work])
    w = max(len(r[0]) for r in rows)
    for r in rows:
        print("%-*s  %10s  %12s  %s" % (w, r[0], r[1], r[2], r[3]))


if __name__ == "__main__":
    main()
