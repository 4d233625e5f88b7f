#!/usr/bin/env python3
"""XVA benchmark: GET /export and PUT /import of a VM with one disk of random data (1 GiB by
default) against tar of the same file (create, then extract), the gateway's memory during both,
and VM.snapshot of a VM with 4 disks. Not a test: it prints the figures (ratios in one run).

Usage: tools/bench/xva_bench.py [--size-mib N] [--build DIR] [--rounds N]
The gateway runs on the sim driver on 127.0.0.1 with its state (and SR) in a temporary
directory next to the tar files; curl is the HTTP client. Every timed step ends with sync.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
sys.path.insert(0, HERE)
from storage import RssWatch, sh, timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build-test"))
    args = ap.parse_args()
    os.environ.setdefault("XG_BUILD_DIR", os.path.abspath(args.build))
    from gateway import Gateway, XapiSession, wait_until

    size = args.size_mib << 20
    work = tempfile.mkdtemp(prefix="xg-bench-xva-", dir="/var/tmp")
    src = os.path.join(work, "disk.raw")
    with open("/dev/urandom", "rb") as r, open(src, "wb") as w:
        for _ in range(args.size_mib):
            w.write(r.read(1 << 20))
    sh("sync")
    tar = os.path.join(work, "disk.tar")
    tar_c = timed(lambda: (sh("tar", "-C", work, "-cf", tar, "disk.raw"), sh("sync")))
    os.mkdir(os.path.join(work, "x"))
    tar_x = timed(lambda: (sh("tar", "-C", os.path.join(work, "x"), "-xf", tar), sh("sync")))
    sh("rm", "-rf", tar, os.path.join(work, "x"))
    rows = []

    def rate(secs):
        return size / secs / (1 << 20)

    with Gateway(sim_vms=0, state_dir=os.path.join(work, "state")) as gw:
        s = XapiSession(gw)
        sr = s.call("pool.get_default_SR", s.call("pool.get_all")[0])
        base = "%s://%s:%d" % (gw.scheme, gw.host, gw.port)

        def vdi(sz):
            return s.call("VDI.create", {"SR": sr, "virtual_size": str(sz), "type": "user",
                                         "sharable": False, "read_only": False,
                                         "other_config": {}, "name_label": "bench",
                                         "name_description": ""})

        def vm_with(disks):
            from test_records import vm_create_record
            vm = s.call("VM.create", vm_create_record("bench"))
            for i, d in enumerate(disks):
                s.call("VBD.create", {"VM": vm, "VDI": d, "userdevice": str(i), "bootable": False,
                                      "mode": "RW", "type": "Disk", "empty": False,
                                      "other_config": {}, "qos_algorithm_type": "",
                                      "qos_algorithm_params": {}})
            return vm

        d = vdi(size)
        q = urllib.parse.urlencode({"session_id": s.ref, "vdi": d, "format": "raw"})
        sh("curl", "-sSfk", "-T", src, base + "/import_raw_vdi?" + q)
        vm = vm_with([d])
        xva = os.path.join(work, "export.xva")
        q = urllib.parse.urlencode({"session_id": s.ref, "ref": vm})
        with RssWatch(gw.proc.pid) as exp_rss:
            exp_s = timed(lambda: (sh("curl", "-sSfk", "-o", xva, base + "/export?" + q),
                                   sh("sync")))
        task = s.call("task.create", "bench import", "")
        q = urllib.parse.urlencode({"session_id": s.ref, "sr_id": sr, "task_id": task})

        def do_import():
            # no "Expect: 100-continue": the gateway sends no interim 100, so curl would
            # wait its 1 s before sending (it does work, only later)
            sh("curl", "-sSfk", "-H", "Expect:", "-T", xva, base + "/import?" + q)
            wait_until(lambda: s.call("task.get_status", task) != "pending", 600, 0.02,
                       "import ends")
            sh("sync")
        with RssWatch(gw.proc.pid) as imp_rss:
            imp_s = timed(do_import)
        status = s.call("task.get_status", task)
        if status != "success":
            status += " " + repr(s.call("task.get_error_info", task))
        xva_size = os.path.getsize(xva)
        os.unlink(xva)
        # VM.snapshot of a VM with 4 disks (each 256 MiB, one full of data)
        small = [vdi(256 << 20) for _ in range(4)]
        vm4 = vm_with(small)
        snaps = []
        for _ in range(args.rounds):
            t = time.monotonic()
            snaps.append(s.call("VM.snapshot", vm4, "bench"))
            snaps[-1] = (snaps[-1], time.monotonic() - t)
        times = [t for _, t in snaps]
        rows += [
            ("tar -cf of the %d MiB disk file (then sync)" % args.size_mib, "%.2f s" % tar_c,
             "%.0f MiB/s" % rate(tar_c), ""),
            ("tar -xf of it (then sync)", "%.2f s" % tar_x, "%.0f MiB/s" % rate(tar_x), ""),
            ("GET /export (curl, TLS, then sync)", "%.2f s" % exp_s, "%.0f MiB/s" % rate(exp_s),
             "%.0f %% of tar -cf; %d bytes; RSS %d -> peak %d MiB" % (
                 100 * tar_c / exp_s, xva_size, exp_rss.base >> 20, exp_rss.peak >> 20)),
            ("PUT /import (curl, TLS, task done, then sync)", "%.2f s" % imp_s,
             "%.0f MiB/s" % rate(imp_s), "%.0f %% of tar -xf; task %s; RSS %d -> peak %d MiB" % (
                 100 * tar_x / imp_s, status, imp_rss.base >> 20, imp_rss.peak >> 20)),
            ("VM.snapshot, 4 disks (median of %d)" % args.rounds,
             "%.1f ms" % (1000 * statistics.median(times)), "",
             "min %.1f, max %.1f ms" % (1000 * min(times), 1000 * max(times))),
        ]
    subprocess.run(["rm", "-rf", work])
    w = max(len(r[0]) for r in rows)
    for r in rows:
        print("%-*s  %10s  %12s  %s" % (w, r[0], r[1], r[2], r[3]))


if __name__ == "__main__":
    main()
