"""The host's own lifecycle as XAPI's xapi_host.ml has it for a pool of one: host.evacuate (every
resident guest is NO_HOSTS_AVAILABLE, in the 1-, 2- and 3-argument forms Xen Orchestra tries),
assert_can_evacuate, reboot/shutdown refused while enabled and simulated on sim, restart_agent
(the same process starts again; sessions end as XAPI's do; the host comes back enabled with a newer
other_config:agent_start_time, which is what xo-server's restartAgent waits for), and the small
queries XO makes (server certificate, system-status capabilities, uncooperative VMs)."""
import os
import socket
import ssl
import unittest
import xml.etree.ElementTree as ET

from gateway import (REMOTE, Failure, Gateway, GatewayTestCase, scaled, sim_only,
                     unverified_context, wait_until, XapiSession)

NULL = "OpaqueRef:NULL"


class HostQueriesTest(GatewayTestCase):
    def host(self):
        return self.s.call("host.get_all")[0]

    def test_uncooperative_resident_vms_is_empty(self):
        self.assertEqual(self.s.call("host.get_uncooperative_resident_VMs", self.host()), [])

    def test_server_certificate_is_the_one_served(self):
        pem = self.s.call("host.get_server_certificate", self.host())
        self.assertEqual(pem.count("-----BEGIN CERTIFICATE-----"), 1, pem)
        self.assertNotIn("PRIVATE KEY", pem)
        with socket.create_connection((self.gw.host, self.gw.port), timeout=scaled(30)) as raw:
            with unverified_context().wrap_socket(raw, server_hostname=self.gw.host) as tls:
                served = tls.getpeercert(binary_form=True)
        self.assertEqual(ssl.PEM_cert_to_DER_cert(pem), served)

    def test_system_status_capabilities_is_bugtools_document(self):
        xml = self.s.call("host.get_system_status_capabilities", self.host())
        root = ET.fromstring(xml)
        self.assertEqual(root.tag, "system-status-capabilities")
        # every entry (none is offered: no /system-status download) has xen-bugtool's attributes
        for cap in root:
            self.assertEqual(cap.tag, "capability")
            for a in ("key", "pii", "min-size", "max-size", "min-time", "max-time",
                      "content-type", "default-checked"):
                self.assertIn(a, cap.attrib)

    def test_reboot_and_shutdown_refused_while_enabled(self):
        h = self.host()
        self.assertTrue(self.s.call("host.get_enabled", h))
        self.assertFailure(["HOST_NOT_DISABLED"], self.s.call, "host.reboot", h)
        self.assertFailure(["HOST_NOT_DISABLED"], self.s.call, "host.shutdown", h)
        ops = self.s.call("host.get_allowed_operations", h)
        self.assertNotIn("reboot", ops)
        self.assertIn("evacuate", ops)

    # Only in the real-Xen stage (boot.sh sets XG_XEN_WORK): its dom0 is disposable and runs the
    # default configuration (host-power off). Anywhere else a wrong setting would power the
    # machine off.
    @unittest.skipUnless(REMOTE and os.environ.get("XG_XEN_WORK"),
                         "the libxl driver's refusal, in the real-Xen stage's dom0 only")
    def test_power_off_by_configuration_on_a_real_host(self):
        h = self.host()
        if self.s.call("host.get_software_version", h).get("driver") != "libxl":
            self.skipTest("not the libxl driver")
        self.s.call("host.disable", h)
        try:
            self.assertFailure("OPERATION_NOT_ALLOWED", self.s.call, "host.reboot", h)
            self.assertFailure("OPERATION_NOT_ALLOWED", self.s.call, "host.shutdown", h)
        finally:
            self.s.call("host.enable", h)


@sim_only
class EvacuateTest(GatewayTestCase):
    def test_evacuate_a_lone_host(self):
        h = self.s.call("host.get_all")[0]
        running = [ref for ref, _ in self.guests("Running")]
        self.assertTrue(running, "the sim fixture has running guests")
        # xo-server's clearHost: (host, network, batch), then fewer arguments
        for args in ((h, NULL, 2), (h, NULL), (h,)):
            e = self.assertFailure("NO_HOSTS_AVAILABLE", self.s.call, "host.evacuate", *args)
            self.assertEqual(len(e.details), 2, e.details)
            self.assertIn(e.details[1], running)
        e = self.assertFailure("CANNOT_EVACUATE_HOST", self.s.call, "host.assert_can_evacuate", h)
        reasons = e.details[1].split("|")
        self.assertEqual(sorted(r.split(",")[1] for r in reasons), sorted(running))
        self.assertTrue(all(r.startswith("NO_HOSTS_AVAILABLE,") for r in reasons))
        for ref, r in self.guests():
            if r["power_state"] in ("Running", "Paused"):
                self.s.call("VM.hard_shutdown", ref)
        self.assertEqual(self.s.call("host.evacuate", h), "")
        self.assertEqual(self.s.call("host.assert_can_evacuate", h), "")


@sim_only
class RestartTest(unittest.TestCase):
    def setUp(self):
        self.gw = Gateway().start()

    def tearDown(self):
        self.gw.close()

    def listening(self):
        return "listening on https://127.0.0.1:%d" % self.gw.port

    def test_restart_agent(self):
        s = self.gw.xapi()
        h = s.call("host.get_all")[0]
        started = float(s.call("host.get_other_config", h)["agent_start_time"])
        vm, rec = [(ref, r) for ref, r in s.call("VM.get_all_records").items()
                   if not r["is_control_domain"] and not r["is_a_template"]][0]
        s.call("VM.set_name_label", vm, "kept across the restart")
        running = {ref: r["domid"] for ref, r in s.call("VM.get_all_records").items()
                   if not r["is_control_domain"] and r["power_state"] == "Running"}
        self.assertTrue(running)
        s.call("host.disable", h)
        pid = self.gw.proc.pid
        self.assertEqual(s.call("host.restart_agent", h), "")
        self.gw.wait_log(self.listening(), count=2, timeout=60)
        self.assertIsNone(self.gw.proc.poll(), "the same process runs again")
        self.assertEqual(self.gw.proc.pid, pid)
        # sessions end with the agent, as XAPI's (PersistNothing); a new login works. (A new
        # connection: the restart closed the old one, as a client that reconnects sees it.)
        old = XapiSession(self.gw, login=False)
        old.ref = s.ref
        with self.assertRaises(Failure) as cm:
            old.call("host.get_all")
        self.assertEqual(cm.exception.code, "SESSION_INVALID")
        s = self.gw.xapi()
        self.assertTrue(s.call("host.get_enabled", h), "the agent's start enables the host")
        self.assertGreater(float(s.call("host.get_other_config", h)["agent_start_time"]), started)
        self.assertEqual(s.call("VM.get_name_label", vm), "kept across the restart")
        self.assertIn("host.restart_agent", self.restart_messages(s)[-1])
        # the hypervisor's domains outlive the agent: the guests still run, same domains
        for ref, domid in running.items():
            self.assertEqual(s.call("VM.get_power_state", ref), "Running")
            self.assertEqual(s.call("VM.get_domid", ref), domid)

    def restart_messages(self, s):
        recs = s.call("message.get_all_records_where", 'field "name" = "TOOLSTACK_RESTARTED"')
        uuid = s.call("host.get_uuid", s.call("host.get_all")[0])
        out = sorted((r["timestamp"], r["body"]) for r in recs.values()
                     if r["obj_uuid"] == uuid and r["cls"] == "Host" and int(r["priority"]) == 5)
        return [body for _, body in out]

    def test_start_messages(self):
        self.assertEqual(self.restart_messages(self.gw.xapi()), [], "none on the first start")
        self.gw.restart()
        self.assertIn("after a clean stop", self.restart_messages(self.gw.xapi())[-1])
        self.gw.kill9()
        self.gw.start()
        self.assertIn("without a clean stop", self.restart_messages(self.gw.xapi())[-1])

    def test_sim_reboot(self):
        s = self.gw.xapi()
        h = s.call("host.get_all")[0]
        running = [ref for ref, r in s.call("VM.get_all_records").items()
                   if not r["is_control_domain"] and r["power_state"] == "Running"]
        self.assertTrue(running)
        s.call("host.disable", h)
        self.assertIn("reboot", s.call("host.get_allowed_operations", h))
        self.assertEqual(s.call("host.reboot", h), "")
        self.gw.wait_log(self.listening(), count=2, timeout=60)
        s = self.gw.xapi()
        # the simulated host's domains ended with it
        for ref in running:
            self.assertEqual(s.call("VM.get_power_state", ref), "Halted")
        self.assertTrue(s.call("host.get_enabled", h))
        self.assertIn("host.reboot", self.restart_messages(s)[-1])

    def test_sim_shutdown(self):
        s = self.gw.xapi()
        h = s.call("host.get_all")[0]
        s.call("host.disable", h)
        self.assertEqual(s.call("host.shutdown", h), "")
        p = self.gw.proc
        wait_until(lambda: p.poll() is not None, 60, 0.1, "the gateway to power off")
        self.assertEqual(p.returncode, 0)
        self.gw.proc = None
        self.gw._log.close()


if __name__ == "__main__":
    unittest.main()
