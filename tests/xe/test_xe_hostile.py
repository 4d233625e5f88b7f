"""Hostile clients of POST /cli, by hand on the socket, while the real xe keeps working: clients
that stop reading a big listing, a prompt answered with garbage or an oversized blob, thousands
of arguments and an argument list over xapi's 200 KiB cap."""
import os
import socket
import struct
import unittest

from gateway import Gateway, XapiSession, free_port, scaled, sim_only
from xe_client import XE, XeClient

GREETING = b"XenSource thin CLI protocol" + struct.pack("<ii", 0, 2)
EXIT_1 = struct.pack("<IIII", 12, 9, 4, 1)


def frame(kind, tag, *u32):
    payload = struct.pack("<II", kind, tag) + b"".join(struct.pack("<I", v) for v in u32)
    return struct.pack("<I", len(payload)) + payload


@sim_only
@unittest.skipUnless(XE and os.access(XE, os.X_OK), "xe not built (ctest fixture xe_build)")
class XeHostile(XeClient, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http_port = free_port()
        cls.gw = Gateway(sim_vms=400, extra_args=["--http", "127.0.0.1:%d" % cls.http_port]).start()
        cls.s = XapiSession(cls.gw)

    @classmethod
    def tearDownClass(cls):
        cls.s.logout()
        cls.gw.close()

    def open_cli(self, args, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(scaled(30))
        s.connect(("127.0.0.1", self.http_port))
        body = "\n".join(args + ["username=root", "password=" + self.gw.password]).encode()
        s.sendall(b"POST /cli HTTP/1.0\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        got = b""
        while len(got) < len(GREETING):
            got += s.recv(len(GREETING) - len(got))
        self.assertEqual(got, GREETING)
        s.sendall(GREETING)
        return s

    def read_all(self, s):
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk

    def test_clients_that_stop_reading(self):
        # each asks for every field of 400 VMs (megabytes) and never reads a byte
        stalled = [self.open_cli(["vm-list", "params=all"], rcvbuf=4096) for _ in range(4)]
        try:
            # everybody else is served meanwhile, over plain and TLS
            want = len([r for r in self.s.call("VM.get_all_records").values()
                        if not r["is_a_template"]])
            for tls in (False, True):
                self.assertEqual(len(self.ok("vm-list", "--minimal", tls=tls).split(",")), want)
        finally:
            for s in stalled:
                s.close()
        # and once they are gone, their workers are back: many more commands run
        for _ in range(6):
            self.ok("host-list", "--minimal")

    def test_prompt_answered_with_garbage(self):
        uuid = self.ok("vm-clone", "vm=" + self.halted(), "new-name-label=xe-hostile").strip()
        answers = [
            frame(11, 7, 0xFFFFFFF0),                      # a chunk of 4 GiB
            struct.pack("<I", 0xFFFFFFFF) + b"x" * 64,     # a frame of 4 GiB
            frame(10, 5),                                  # OK where a blob belongs
            frame(11, 7, 128 * 1024) + b"y" * (128 * 1024) + frame(11, 8),   # over 64 KiB
        ]
        for answer in answers:
            s = self.open_cli(["vm-uninstall", "uuid=" + uuid])
            try:
                s.sendall(answer)
                data = self.read_all(s)
            except (BrokenPipeError, ConnectionResetError):
                data = b""
            finally:
                s.close()
            self.assertNotIn(b"All objects destroyed", data)
        # nothing was destroyed by any of them
        self.assertEqual(self.ok("vm-list", "uuid=" + uuid, "--minimal"), uuid + "\n")
        self.ok("vm-uninstall", "uuid=" + uuid, "--force")

    def halted(self):
        return sorted(r["uuid"] for r in self.s.call("VM.get_all_records").values()
                      if r["power_state"] == "Halted" and not r["is_a_template"] and
                      not r["is_control_domain"])[0]

    def test_argument_lists(self):
        # thousands of arguments: an answer (here an unknown field), never a crash
        s = self.open_cli(["vm-list"] + ["x%d=1" % i for i in range(4000)])
        data = self.read_all(s)
        s.close()
        self.assertTrue(data.endswith(EXIT_1), data[-64:])
        # more lines than the parser keeps: a syntax error
        s = self.open_cli(["vm-list"] + ["a"] * 5000)
        data = self.read_all(s)
        s.close()
        self.assertIn(b"Syntax error", data)
        self.assertTrue(data.endswith(EXIT_1))
        # a body over 200 KiB: refused before the protocol starts
        s = socket.create_connection(("127.0.0.1", self.http_port), timeout=scaled(30))
        s.sendall(b"POST /cli HTTP/1.0\r\ncontent-length: %d\r\n\r\n" % (300 * 1024) +
                  b"vm-list\n" + b"x" * 1024)
        self.assertEqual(self.read_all(s), b"")
        s.close()
        # an oversized value through the real xe: an answer, not a hang
        rc, out, err = self.xe("vm-param-set", "uuid=" + self.halted(),
                               "name-description=" + "d" * 100000)
        self.assertIn(rc, (0, 1))
        self.ok("vm-list", "--minimal")


if __name__ == "__main__":
    unittest.main()
