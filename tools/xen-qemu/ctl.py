#!/usr/bin/env python3
"""Run a bash command in dom0 through the control channel boot.sh sets up.

usage: ctl.py [-c HOST:PORT] [-t SECONDS] [--wait SECONDS] CMD [ARG...]
       ctl.py [-c HOST:PORT] -          (script on stdin)
The address defaults to $XG_XEN_CTL. Prints the command's output (stdout and
stderr merged) and exits with its exit status; 255 on a channel error.
The protocol: send the script, half-close, read until a line XG-CTL-RC=<n>.
"""
import argparse
import os
import shlex
import socket
import sys
import time

MARK = b"\nXG-CTL-RC="


def run(addr, script, timeout=600.0):
    """Return (rc, output bytes). Raises OSError/TimeoutError on channel errors."""
    host, port = addr.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(script.encode() if isinstance(script, str) else script)
        s.shutdown(socket.SHUT_WR)
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("dom0 command timed out")
            s.settimeout(min(left, 30))
            chunk = s.recv(65536)
            if chunk:
                buf += chunk
            i = buf.rfind(MARK)
            if i >= 0 and buf.endswith(b"\n") and b"\n" not in buf[i + len(MARK):-1]:
                return int(buf[i + len(MARK):].strip() or b"255"), buf[:i]
            if not chunk:
                raise ConnectionError("control channel closed without a result")


def wait_ready(addr, secs):
    end = time.monotonic() + secs
    while True:
        try:
            rc, _ = run(addr, "true", timeout=10)
            if rc == 0:
                return True
        except (OSError, TimeoutError, ValueError):
            pass
        if time.monotonic() > end:
            return False
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-c", "--ctl", default=os.environ.get("XG_XEN_CTL"))
    ap.add_argument("-t", "--timeout", type=float, default=600)
    ap.add_argument("--wait", type=float, default=0,
                    help="first wait up to this many seconds for the channel")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.cmd[:1] == ["--"]:
        a.cmd = a.cmd[1:]
    if not a.ctl:
        ap.error("no control address (-c or $XG_XEN_CTL)")
    if a.wait and not wait_ready(a.ctl, a.wait):
        print("ctl.py: dom0 control channel not ready", file=sys.stderr)
        return 255
    if a.cmd == ["-"]:
        script = sys.stdin.read()
    elif len(a.cmd) == 1:
        script = a.cmd[0]
    elif a.cmd:
        script = " ".join(shlex.quote(x) for x in a.cmd)
    else:
        ap.error("no command")
    try:
        rc, out = run(a.ctl, script, a.timeout)
    except (OSError, TimeoutError, ValueError) as e:
        print(f"ctl.py: {e}", file=sys.stderr)
        return 255
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
