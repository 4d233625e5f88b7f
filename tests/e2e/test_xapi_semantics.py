"""XAPI semantics clients hit (issue 11): VM.provision makes a VM, guests without PV drivers,
domid of VMs without a domain, start times of domains that ran before the gateway did, and the
CPU graphs of such VMs."""
import json
import time
import unittest
import urllib.parse

from gateway import GatewayTestCase, sim_only, wait_until
from test_records import vm_create_record

NULL = "OpaqueRef:NULL"
EPOCH = "19700101T00:00:00Z"


def xapi_time(v):
    """XML-RPC DateTime (or its text) -> seconds since the epoch (UTC)."""
    s = getattr(v, "value", v)
    return int(time.mktime(time.strptime(s, "%Y%m%dT%H:%M:%SZ")) - time.timezone)


@sim_only
class SemanticsTest(GatewayTestCase):
    # 40 simulated guests: among them running HVM guests without PV drivers (the sim's
    # fixtures give about one HVM guest in four none), all of them running for a while
    sim_vms = 40

    def guests(self):
        return {ref: r for ref, r in self.s.call("VM.get_all_records").items()
                if not r["is_a_template"] and not r["is_control_domain"]}

    def test_provision_makes_a_vm(self):
        # XO's and Ansible's new-VM path: clone a template, provision, start; no
        # set_is_a_template in between (XAPI's provision clears it)
        tpl = next(ref for ref, r in self.s.call("VM.get_all_records").items()
                   if r["is_a_template"])
        vm = self.s.call("VM.clone", tpl, "e2e-provisioned")
        try:
            self.assertIs(self.s.call("VM.get_is_a_template", vm), True)
            self.s.call("VM.provision", vm)
            rec = self.s.call("VM.get_record", vm)
            self.assertIs(rec["is_a_template"], False)
            self.assertIs(rec["is_default_template"], False)
            self.assertIn("start", rec["allowed_operations"])
            self.assertNotIn("provision", rec["allowed_operations"])
            m = self.s.call("VM_metrics.get_record", rec["metrics"])
            self.assertNotEqual(getattr(m["install_time"], "value", m["install_time"]), EPOCH)
            self.s.call("VM.start", vm, False, False)
            self.assertEqual(self.s.call("VM.get_power_state", vm), "Running")
            self.s.call("VM.hard_shutdown", vm)
            self.assertFailure(["PROVISION_ONLY_ALLOWED_ON_TEMPLATE"],
                               self.s.call, "VM.provision", vm)
        finally:
            self.s.call("VM.destroy", vm)

    def test_guest_without_pv_drivers(self):
        found = 0
        for ref, r in self.guests().items():
            if r["power_state"] != "Running" or r["domain_type"] != "hvm":
                continue
            gm = r["guest_metrics"]
            detected = gm != NULL and self.s.call("VM_guest_metrics.get_PV_drivers_detected", gm)
            ops = set(r["allowed_operations"])
            if detected:
                self.assertTrue({"clean_shutdown", "clean_reboot", "suspend"} <= ops, r["name_label"])
                continue
            found += 1
            # no agent: no guest metrics claiming drivers, no clean operations
            if gm != NULL:
                self.assertEqual(self.s.call("VM_guest_metrics.get_PV_drivers_version", gm), {})
            self.assertFalse({"clean_shutdown", "clean_reboot", "suspend"} & ops, ops)
            self.assertTrue({"hard_shutdown", "hard_reboot", "pause"} <= ops, ops)
            for m in ("VM.clean_shutdown", "VM.clean_reboot", "VM.suspend"):
                self.assertFailure(["VM_LACKS_FEATURE", ref], self.s.call, m, ref)
            self.assertEqual(self.s.call("VM.get_power_state", ref), "Running")
        self.assertGreater(found, 0, "no running HVM guest without PV drivers among the fixtures")

    def test_domid_without_domain(self):
        vm = self.s.call("VM.create", vm_create_record("e2e-never-run"))
        try:
            self.assertEqual(self.s.call("VM.get_domid", vm), "-1")
            for ref, r in self.s.call("VM.get_all_records").items():
                if r["power_state"] in ("Halted", "Suspended"):
                    self.assertEqual(r["domid"], "-1", r["name_label"])
                else:
                    self.assertNotEqual(r["domid"], "-1", r["name_label"])
            self.s.call("VM.start", vm, False, False)
            self.assertNotIn(self.s.call("VM.get_domid", vm), ("-1", "0"))
            self.s.call("VM.hard_shutdown", vm)
            self.assertEqual(self.s.call("VM.get_domid", vm), "-1")
        finally:
            self.s.call("VM.destroy", vm)

    def test_start_times_of_domains_older_than_the_gateway(self):
        host = self.s.call("host.get_all")[0]
        oc = self.s.call("host.get_other_config", host)
        now = xapi_time(self.s.call("host.get_servertime", host))
        # as XAPI writes them: OCaml string_of_float of seconds
        boot, agent = float(oc["boot_time"]), float(oc["agent_start_time"])
        self.assertLess(boot, agent)
        self.assertLessEqual(agent, now + 1)
        self.assertGreater(agent, now - 600)
        checked = 0
        for ref, r in self.s.call("VM.get_all_records").items():
            if r["power_state"] not in ("Running", "Paused") or r["is_a_template"]:
                continue
            st = xapi_time(self.s.call("VM_metrics.get_start_time", r["metrics"]))
            # the fixtures' guests were up long before this gateway started
            self.assertGreater(st, boot - 1, r["name_label"])
            self.assertLess(st, agent, r["name_label"])
            checked += 1
        self.assertGreater(checked, 5)

    def test_cpu_graphs_of_domains_older_than_the_gateway(self):
        # /rrd_updates of guests that ran before the gateway: their vCPU usage is not a flat 0
        running = [r for r in self.guests().values() if r["power_state"] == "Running"]
        self.assertTrue(running)

        def rows():
            start = int(time.time()) - 60
            q = urllib.parse.urlencode({"start": start, "cf": "AVERAGE", "interval": 5,
                                        "json": "true", "session_id": self.s.ref})
            st, _, body = self.gw.request("GET", "/rrd_updates?" + q)
            self.assertEqual(st, 200, body[:200])
            d = json.loads(body)
            legend = d["meta"]["legend"]
            out = {}
            for i, col in enumerate(legend):
                _, kind, uuid, ds = col.split(":")
                if kind == "vm" and ds == "cpu0":
                    vals = [float(row["values"][i]) for row in d["data"]
                            if row["values"][i] not in ("NaN", "nan")]
                    out[uuid] = vals
            return out

        def busy():
            got = rows()
            live = [got.get(r["uuid"], []) for r in running]
            return sum(1 for v in live if v and max(v) > 0) == len(running)

        wait_until(busy, timeout=40, what="non-zero CPU for every running fixture guest")


if __name__ == "__main__":
    unittest.main()
