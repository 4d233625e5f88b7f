#!/usr/bin/env python3
"""notify_listener.py SOCKET OUT: plays systemd's side of sd_notify: a
datagram socket at SOCKET; every message received is appended to OUT."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path + ".tmp")
os.rename(path + ".tmp", path)   # the caller waits for the name: bound by then
s.settimeout(120)
try:
    while True:
        msg = s.recv(4096)
        with open(out, "ab") as f:
            f.write(msg + b"\n")
except socket.timeout:
    pass
