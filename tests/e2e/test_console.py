"""Graphical consoles (spec/storage-network-console.md §3): console records as XAPI has them, and
/console over WebSocket and CONNECT serving RFB of the sim guests' text consoles, read back
glyph by glyph with the gateway's own font."""
import os
import re
import socket
import struct
import time
import unittest

import rfb_client as rc
from gateway import GatewayTestCase, sim_only, wait_for

BUILD_DIR = os.environ.get("XG_BUILD_DIR", "")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@sim_only
class ConsoleTest(GatewayTestCase):
    sim_vms = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.font = rc.Font(BUILD_DIR)

    # ------------------------------------------------------------------ helpers
    def running_guest(self):
        for ref, r in self.guests("Running"):
            return ref, r
        self.fail("no running sim guest")

    def rfb_console(self, vm_ref):
        cons = [self.s.call("console.get_record", c) for c in self.s.call("VM.get_consoles", vm_ref)]
        self.assertTrue(cons, "no console")
        self.assertEqual(cons[0]["protocol"], "rfb", "consoles[0] must be rfb (XO Lite opens it)")
        return cons[0]

    def query(self, console, session=True):
        q = console["location"].split("?", 1)[1]
        return q + ("&session_id=" + self.s.ref if session else "")

    def viewer_ws(self, console, **kw):
        return rc.Viewer(rc.open_ws(self.gw.host, self.gw.port, self.query(console)), **kw)

    def viewer_connect(self, console, **kw):
        st = rc.open_connect(self.gw.host, self.gw.port, self.query(console, False),
                             cookie="session_id=" + self.s.ref)
        return rc.Viewer(st, **kw)

    def prompt(self, vm):
        return "[root@%s ~]#" % vm["name_label"][:63]

    def first_screen(self, v):
        v.request(False)
        v.read_update()
        return v.text(self.font)

    # ------------------------------------------------------------------ records
    def test_records_rfb_first_with_a_followable_location(self):
        recs = self.s.call("VM.get_all_records")
        for ref, vm in recs.items():
            cons = [self.s.call("console.get_record", c) for c in vm["consoles"]]
            if vm["power_state"] != "Running":
                self.assertEqual(cons, [], "%s is %s" % (vm["name_label"], vm["power_state"]))
                continue
            protos = [c["protocol"] for c in cons]
            hvm = vm["domain_type"] == "hvm" or (vm["domain_type"] == "unspecified" and
                                                 vm["HVM_boot_policy"])
            self.assertEqual(protos, ["rfb"] if hvm and not vm["is_control_domain"]
                             else ["rfb", "vt100"], vm["name_label"])
            for c in cons:
                self.assertEqual(c["VM"], ref)
                self.assertRegex(c["location"], r"^https://[^/]+:%d/console\?uuid=%s$"
                                 % (self.gw.port, re.escape(c["uuid"])))

    def test_records_follow_the_power_state(self):
        ref, vm = self.running_guest()
        self.s.call("VM.hard_shutdown", ref)
        try:
            self.assertEqual(self.s.call("VM.get_consoles", ref), [])
        finally:
            self.s.call("VM.start", ref, False, False)
        self.rfb_console(ref)

    # ------------------------------------------------------------------ streams
    def test_websocket_shows_the_guest_and_takes_keys(self):
        ref, vm = self.running_guest()
        v = self.viewer_ws(self.rfb_console(ref))
        try:
            self.assertIn(self.prompt(vm), self.first_screen(v))
            v.type("hello world")
            v.key(rc.KEY_RETURN)
            v.wait_text(self.font, r"sim: you typed: hello world")
        finally:
            v.close()

    def test_connect_with_cookie_in_16_bit_big_endian(self):
        ref, vm = self.running_guest()
        v = self.viewer_connect(self.rfb_console(ref), bpp=16, big_endian=True)
        try:
            self.assertIn(self.prompt(vm), self.first_screen(v))
            v.type("via connect")
            v.key(rc.KEY_RETURN)
            v.wait_text(self.font, r"you typed: via connect")
        finally:
            v.close()

    def test_targets_by_vm_uuid_vm_ref_and_console_ref(self):
        ref, vm = self.running_guest()
        con_ref = self.s.call("VM.get_consoles", ref)[0]
        for q in ("uuid=" + vm["uuid"], "ref=" + ref, "ref=" + con_ref):
            with self.subTest(q=q):
                st = rc.open_ws(self.gw.host, self.gw.port, q + "&session_id=" + self.s.ref)
                v = rc.Viewer(st)
                try:
                    self.assertIn(self.prompt(vm), self.first_screen(v))
                finally:
                    v.close()

    def test_control_domain_console(self):
        ref, dom0 = self.dom0()
        v = self.viewer_ws(self.rfb_console(ref))
        try:
            self.assertIn("[root@dom0 ~]#", self.first_screen(v))
        finally:
            v.close()

    def test_vt100_console_is_the_text_stream(self):
        ref, vm = self.running_guest()
        cons = [self.s.call("console.get_record", c) for c in self.s.call("VM.get_consoles", ref)]
        vt = [c for c in cons if c["protocol"] == "vt100"]
        if not vt:
            self.skipTest("the first running guest is HVM (no vt100 console)")
        st = rc.open_connect(self.gw.host, self.gw.port, self.query(vt[0], False),
                             cookie="session_id=" + self.s.ref)
        try:
            st.send(b"raw text\r")
            text = b""
            deadline = time.monotonic() + 20
            while b"you typed: raw text" not in text and time.monotonic() < deadline:
                st._fill()
                text, st.buf = text + st.buf, b""
            self.assertIn(b"sim: you typed: raw text", text)
            self.assertNotIn(b"RFB 003", text)
        finally:
            st.close()

    def test_refusals(self):
        ref, vm = self.running_guest()
        con = self.rfb_console(ref)
        host, port = self.gw.host, self.gw.port
        base = con["location"].split("?", 1)[1]
        halted = [r for r, _ in self.guests("Halted")]
        cases = [
            ("no session", lambda: rc.open_ws(host, port, base), 401),
            ("no session, CONNECT", lambda: rc.open_connect(host, port, base), 401),
            ("bad session", lambda: rc.open_ws(host, port, base + "&session_id=OpaqueRef:x"), 401),
            ("bad cookie", lambda: rc.open_connect(host, port, base, cookie="session_id=nope"), 401),
            ("no target", lambda: rc.open_ws(host, port, "session_id=" + self.s.ref), 400),
            ("unknown uuid", lambda: rc.open_ws(host, port, "uuid=00000000-0000-0000-0000-"
                                                "000000000000&session_id=" + self.s.ref), 404),
        ]
        if halted:
            cases.append(("halted VM", lambda: rc.open_ws(host, port, "ref=%s&session_id=%s"
                                                          % (halted[0], self.s.ref)), 404))
        for what, fn, status in cases:
            with self.subTest(what):
                with self.assertRaises(rc.Refused) as cm:
                    fn()
                self.assertEqual(cm.exception.status, status)
        # a WebSocket version other than 13
        with self.assertRaises(rc.Refused) as cm:
            rc.open_ws(host, port, self.query(con), version="8")
        self.assertEqual(cm.exception.status, 426)

    def test_hostile_streams_close_only_themselves(self):
        ref, vm = self.running_guest()
        con = self.rfb_console(ref)
        host, port = self.gw.host, self.gw.port

        def closed(sock):
            sock.settimeout(20)
            try:
                while sock.recv(65536):
                    pass
            except (ConnectionError, OSError):
                pass
            return True

        # an unmasked client frame breaks RFC 6455: the stream ends
        st = rc.open_ws(host, port, self.query(con))
        st.sock.sendall(b"\x82\x0cRFB 003.008\n")
        self.assertTrue(closed(st.sock))
        # a bad RFB version string
        st = rc.open_connect(host, port, self.query(con, False), cookie="session_id=" + self.s.ref)
        st.recv_exact(12)
        st.send(b"HTTP/1.1 200\n")
        self.assertTrue(closed(st.sock))
        # an unknown client message type after the handshake
        v = self.viewer_connect(con)
        v.s.send(b"\xfe" * 16)
        self.assertTrue(closed(v.s.sock))
        # a 2 GiB ClientCutText is skipped as it streams, not buffered; the session goes on
        v = self.viewer_ws(con)
        try:
            v.s.send(struct.pack("!BxxxI", 6, 0x7FFFFFF0) + b"x" * 100000)
            pid = self.gw.proc.pid
            before = rss_kib(pid)
            for _ in range(20):
                v.s.send(b"y" * 65536)
            self.assertLess(rss_kib(pid) - before, 8 * 1024)
        finally:
            v.close()
        # and the console still serves others
        v = self.viewer_ws(con)
        try:
            self.assertIn(self.prompt(vm), self.first_screen(v))
        finally:
            v.close()

    def test_many_viewers_see_the_same_screen(self):
        ref, vm = self.running_guest()
        con = self.rfb_console(ref)
        vs = [self.viewer_ws(con), self.viewer_connect(con), self.viewer_ws(con, bpp=8)]
        try:
            for v in vs:
                self.first_screen(v)
            vs[1].type("shared")
            vs[1].key(rc.KEY_RETURN)
            for v in vs:
                v.wait_text(self.font, r"you typed: shared")
        finally:
            for v in vs:
                v.close()

    def test_stream_closes_when_the_vm_stops(self):
        ref, vm = self.running_guest()
        v = self.viewer_ws(self.rfb_console(ref))
        try:
            self.first_screen(v)
            self.s.call("VM.hard_shutdown", ref)
            deadline = time.monotonic() + 30
            with self.assertRaises((EOFError, ConnectionError, OSError)):
                while time.monotonic() < deadline:
                    v.request(True)
                    v.read_update()
        finally:
            v.close()
            self.s.call("VM.start", ref, False, False)

    def test_viewer_that_never_reads_costs_bounded_memory(self):
        ref, vm = self.running_guest()
        con = self.rfb_console(ref)
        pid = self.gw.proc.pid
        # a stalled viewer: asks for full frames again and again, reads nothing
        stalled = rc.open_ws(self.gw.host, self.gw.port, self.query(con))
        sv = rc.Viewer(stalled)
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        before = rss_kib(pid)
        good = self.viewer_ws(con)
        try:
            self.first_screen(good)
            good.type("scroll 3000")
            good.key(rc.KEY_RETURN)
            for _ in range(200):
                sv.request(False)            # never read: the answers pile up at the gateway
            good.wait_text(self.font, r"scrolling line 3000 of", timeout=120)
            grown = rss_kib(pid) - before
            self.assertLess(grown, 16 * 1024, "RSS grew by %d KiB for a stalled viewer" % grown)
        finally:
            good.close()
            sv.close()


if __name__ == "__main__":
    unittest.main()
