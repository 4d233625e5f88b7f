"""The real xe (XAPI's thin CLI client, built unmodified from ../shared/xe-cli) against the
gateway's POST /cli, over plain HTTP (-s 127.0.0.1) and TLS through stunnel (-s localhost):
list commands with --minimal, params= and filters, generic -param-get/-param-list, errors with
xe's exact text and exit status, help --minimal, and hostile bodies sent by hand."""
import os
import shutil
import socket
import struct
import unittest

from gateway import Gateway, XapiSession, free_port, scaled, sim_only
from xe_client import XE, XeClient

GREETING = b"XenSource thin CLI protocol" + struct.pack("<ii", 0, 2)


@sim_only
@unittest.skipUnless(XE and os.access(XE, os.X_OK), "xe not built (ctest fixture xe_build)")
class XeCli(XeClient, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http_port = free_port()
        cls.gw = Gateway(sim_vms=3, extra_args=["--http", "127.0.0.1:%d" % cls.http_port]).start()
        cls.s = XapiSession(cls.gw)

    @classmethod
    def tearDownClass(cls):
        cls.s.logout()
        cls.gw.close()


    def api_vms(self):
        recs = self.s.call("VM.get_all_records")
        return {r["uuid"]: r for r in recs.values() if not r["is_a_template"]}

    def test_vm_list_minimal_plain_and_tls(self):
        want = set(self.api_vms())
        for tls in (False, True):
            out = self.ok("vm-list", "--minimal", tls=tls)
            self.assertTrue(out.endswith("\n"))
            self.assertEqual(set(out.strip().split(",")), want)

    def test_vm_list_records(self):
        vms = self.api_vms()
        out = self.ok("vm-list")
        blocks = [b for b in out.split("\n\n\n") if b.strip()]
        self.assertEqual(len(blocks), len(vms))
        for b in blocks:
            lines = b.strip("\n").split("\n")
            self.assertTrue(lines[0].startswith("uuid ( RO)           : "), lines)
            uuid = lines[0].split(": ", 1)[1]
            r = vms[uuid]
            self.assertEqual(lines[1], "     name-label ( RW): " + r["name_label"])
            self.assertEqual(lines[2], "    power-state ( RO): " + r["power_state"].lower())

    def test_filters_and_params(self):
        vms = self.api_vms()
        halted = {u for u, r in vms.items() if r["power_state"] == "Halted"}
        self.assertTrue(halted)
        out = self.ok("vm-list", "power-state=halted", "--minimal")
        self.assertEqual(set(out.strip().split(",")), halted)
        u = sorted(halted)[0]
        out = self.ok("vm-list", "uuid=" + u, "params=VCPUs-max,uuid")
        self.assertEqual(out, "uuid ( RO)         : %s\n    VCPUs-max ( RW): %s\n\n\n"
                         % (u, vms[u]["VCPUs_max"]))
        self.assertEqual(self.ok("vm-list", "name-label=no-such-vm", "--minimal"), "\n")
        rc, out, err = self.xe("vm-list", "frobnicate=1")
        self.assertEqual((rc, err), (1, "Unknown field 'frobnicate'\n"))

    def test_host_and_pool_list(self):
        host = self.s.call("host.get_all_records")
        (h,) = host.values()
        out = self.ok("host-list", tls=True)
        self.assertIn("uuid ( RO)                : %s\n" % h["uuid"], out)
        self.assertIn("          name-label ( RW): %s\n" % h["name_label"], out)
        (p,) = self.s.call("pool.get_all_records").values()
        out = self.ok("pool-list", "params=master", "--minimal")
        self.assertEqual(out, h["uuid"] + "\n")
        self.assertEqual(self.ok("pool-list", "--minimal"), p["uuid"] + "\n")

    def test_param_get_and_list(self):
        u, r = sorted(self.api_vms().items())[0]
        self.assertEqual(self.ok("vm-param-get", "uuid=" + u, "param-name=name-label"),
                         r["name_label"] + "\n")
        self.assertEqual(self.ok("vm-param-get", "uuid=" + u, "param-name=is-a-template"),
                         "false\n")
        (h,) = self.s.call("host.get_all_records").values()
        self.assertEqual(self.ok("host-param-get", "uuid=" + h["uuid"], "param-name=name-label"),
                         h["name_label"] + "\n")
        out = self.ok("vm-param-list", "uuid=" + u)
        self.assertRegex(out, r"(?m)^ +power-state \( RO\): %s$" % r["power_state"].lower())
        self.assertRegex(out, r"(?m)^ +is-a-template \( RW\): false$")

    def test_maps_and_sets(self):
        (dom0,) = [r for r in self.api_vms().values() if r["is_control_domain"]]
        self.assertTrue(dom0["platform"])
        k, v = sorted(dom0["platform"].items())[0]
        self.assertEqual(self.ok("vm-param-get", "uuid=" + dom0["uuid"], "param-name=platform",
                                 "param-key=" + k), v + "\n")
        self.assertEqual(self.ok("vm-param-get", "uuid=" + dom0["uuid"], "param-name=platform"),
                         "; ".join("%s: %s" % kv for kv in dom0["platform"].items()) + "\n")
        self.assertEqual(self.ok("vm-list", "platform:%s=%s" % (k, v), "is-control-domain=true",
                                 "--minimal"), dom0["uuid"] + "\n")
        ops = dom0["allowed_operations"]
        if ops:
            self.assertEqual(self.ok("vm-list", "allowed-operations:contains=" + ops[0],
                                     "uuid=" + dom0["uuid"], "--minimal"), dom0["uuid"] + "\n")
        rc, out, err = self.xe("vm-param-get", "uuid=" + dom0["uuid"], "param-name=platform",
                               "param-key=nokey")
        self.assertEqual((rc, err), (1, "Error: Key nokey not found in map\n"))

    def test_errors(self):
        rc, out, err = self.xe("vm-param-get", "uuid=nope", "param-name=name-label")
        self.assertEqual((rc, out, err),
                         (1, "", "The uuid you supplied was invalid.\ntype: VM\nuuid: nope\n"))
        u = sorted(self.api_vms())[0]
        rc, out, err = self.xe("vm-param-get", "uuid=" + u)
        self.assertEqual((rc, err), (1, "Required parameter not found: param-name\n"
                                        "For usage run: 'xe help'\n"))
        rc, out, err = self.xe("vm-param-get", "uuid=" + u, "param-name=frob")
        self.assertEqual((rc, err), (1, "Error code: Missing parameter\nError parameters: frob\n"))
        rc, out, err = self.xe("vm-frobnicate")
        self.assertEqual((rc, err), (1, "Unknown command: vm-frobnicate\nFor usage run: 'xe help'\n"))
        for tls in (False, True):
            rc, out, err = self.xe("vm-list", password="wrong", tls=tls)
            self.assertEqual((rc, out, err),
                             (1, "", "Authentication failed\nFor usage run: 'xe help'\n"))

    def test_help_minimal_lists_generic_commands_of_every_class(self):
        rc, out, err = self.xe("help", "--minimal", "--all")
        self.assertEqual((rc, err), (0, ""))
        names = out.strip().split(",")
        for n in ("help", "vm-list", "template-list", "host-list", "pool-list", "host-cpu-list",
                  "sr-param-get", "network-param-list", "vm-param-get"):
            self.assertIn(n, names)
        # every listed generic command runs (no records or some, never an error)
        for n in names:
            if n.endswith("-list") and not n.endswith("-param-list"):
                self.ok(n, "--minimal")

    # ---- hostile bodies, sent by hand ---------------------------------------------------
    def raw_cli(self, body, content_length=None, greet=GREETING):
        s = socket.create_connection(("127.0.0.1", self.http_port), timeout=scaled(20))
        try:
            cl = len(body) if content_length is None else content_length
            s.sendall(b"POST /cli HTTP/1.0\r\ncontent-length: %d\r\n\r\n" % cl + body)
            if greet:
                s.sendall(greet)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data
                data += chunk
        finally:
            s.close()

    def test_hostile_bodies(self):
        pw = self.gw.password.encode()
        # thousands of arguments: a syntax error or an answer, never a crash
        many = b"vm-list\n" + b"\n".join(b"x%d=1" % i for i in range(5000)) + \
            b"\nusername=root\npassword=" + pw
        data = self.raw_cli(many)
        self.assertTrue(data.startswith(GREETING))
        self.assertTrue(data.endswith(struct.pack("<IIII", 12, 9, 4, 1)))
        # a body over xapi's 200 KiB cap: the connection closes without the protocol
        self.assertEqual(self.raw_cli(b"", content_length=10 * 1024 * 1024, greet=False), b"")
        # a client with the wrong greeting gets ours and the connection closes
        data = self.raw_cli(b"vm-list", greet=b"HTTP/1.1 200 OK\r\n" + b"x" * 100)
        self.assertEqual(data, GREETING)
        # the gateway still answers
        self.assertTrue(self.ok("vm-list", "--minimal").strip())


if __name__ == "__main__":
    unittest.main()
