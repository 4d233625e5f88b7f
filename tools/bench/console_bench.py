#!/usr/bin/env python3
"""Console figures (not a test: it reports, it never fails on a number).

Starts a sim gateway on 127.0.0.1 (the e2e harness), then over /console (WebSocket, TLS):
  * time to first frame: request sent -> last byte of the first full 32 bpp frame (median of N);
  * bytes/s of a scrolling console: the guest prints `scroll N` lines as fast as the viewer
    takes the screen; RFB bytes received per second and lines per second;
  * memory per viewer: gateway RSS growth with V viewers connected and idle after their first
    frame, and with V viewers that stopped reading while the screen scrolls (bounded queue).

usage: console_bench.py [--build DIR] [--viewers V] [--lines N]
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))

import rfb_client as rc  # noqa: E402
from gateway import Gateway  # noqa: E402


def cpu_s(pid):
    """User + system CPU seconds of a process."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Fast(rc.Viewer):
    """A viewer that keeps the bytes, not the pixels (decoding is the client's cost)."""

    def read_update(self):
        t = self.s.recv_exact(1)[0]
        assert t == 0, t
        self.s.recv_exact(1)
        n = int.from_bytes(self.s.recv_exact(2), "big")
        size = 4
        for _ in range(n):
            hdr = self.s.recv_exact(12)
            w, h = int.from_bytes(hdr[4:6], "big"), int.from_bytes(hdr[6:8], "big")
            self.s.recv_exact(w * h * self.bpp // 8)
            size += 12 + w * h * self.bpp // 8
        return size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("XG_BUILD_DIR", os.path.join(HERE, "..", "..", "build")))
    ap.add_argument("--viewers", type=int, default=50)
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--frames", type=int, default=20)
    a = ap.parse_args()
    os.environ["XG_BUILD_DIR"] = os.path.abspath(a.build)
    font = rc.Font(a.build)
    with Gateway(sim_vms=2) as gw:
        s = gw.xapi()
        vms = s.call("VM.get_all_records")
        ref = next(r for r, v in vms.items() if v["power_state"] == "Running" and not v["is_control_domain"])
        con = s.call("console.get_record", s.call("VM.get_consoles", ref)[0])
        q = con["location"].split("?", 1)[1] + "&session_id=" + s.ref
        pid = gw.proc.pid

        # time to first frame (connection, handshakes and one full frame)
        times, frame_bytes = [], 0
        for _ in range(a.frames):
            t0 = time.monotonic()
            v = Fast(rc.open_ws(gw.host, gw.port, q))
            v.request(False)
            frame_bytes = v.read_update()
            times.append(time.monotonic() - t0)
            v.close()
        print("time to first frame: median %.1f ms, max %.1f ms (%d bytes, 640x400x32bpp, "
              "TLS + WebSocket + RFB handshakes included, %d runs)"
              % (statistics.median(times) * 1e3, max(times) * 1e3, frame_bytes, a.frames))

        # a scrolling console
        v = Fast(rc.open_ws(gw.host, gw.port, q))
        v.request(False)
        v.read_update()
        c0 = cpu_s(pid)
        v.type("scroll %d" % a.lines)
        v.key(rc.KEY_RETURN)
        t0 = time.monotonic()
        got = updates = 0
        slow = rc.Viewer(rc.open_ws(gw.host, gw.port, q))  # the check: decode the last screen
        while True:
            v.request(True)
            got += v.read_update()
            updates += 1
            if updates % 5 == 0:
                slow.request(False)
                slow.read_update()
                if "scrolling line %d of" % a.lines in slow.text(font):
                    break
        dt = time.monotonic() - t0
        c = cpu_s(pid) - c0
        print("scrolling console: %d lines in %.2f s wall (%.0f lines/s), %d updates, %.1f MB of RFB "
              "(%.2f MB/s to one viewer); gateway CPU %.2f s (%.0f MB of RFB per CPU second)"
              % (a.lines, dt, a.lines / dt, updates, got / 1e6, got / dt / 1e6, c,
                 got / 1e6 / c if c > 0 else float("inf")))
        v.close()
        slow.close()

        # memory per viewer
        base = rss_kib(pid)
        viewers = []
        for _ in range(a.viewers):
            x = Fast(rc.open_ws(gw.host, gw.port, q))
            x.request(False)
            x.read_update()
            viewers.append(x)
        time.sleep(0.5)
        idle = rss_kib(pid) - base
        print("memory per idle viewer: %.1f KiB (%d viewers: +%d KiB RSS)"
              % (idle / a.viewers, a.viewers, idle))
        # now they all stop reading while the screen scrolls
        writer = Fast(rc.open_ws(gw.host, gw.port, q))
        for x in viewers:
            x.request(False)
        writer.type("scroll %d" % a.lines)
        writer.key(rc.KEY_RETURN)
        # five seconds of scrolling while they ask for full frames and read nothing
        end = time.monotonic() + 5
        peak = 0
        while time.monotonic() < end:
            for x in viewers:
                x.request(False)
            writer.request(False)
            writer.read_update()
            peak = max(peak, rss_kib(pid) - base)
        print("memory per stalled viewer (reads nothing, asks for full frames while the screen "
              "scrolls for 5 s): %.1f KiB (%d viewers: peak +%d KiB RSS)"
              % (peak / a.viewers, a.viewers, peak))
        for x in viewers:
            x.close()
        writer.close()


if __name__ == "__main__":
    main()
