"""VM power lifecycle on the sim driver: states, VM_BAD_POWER_STATE params (spec §7.4),
allowed_operations, templates clone -> provision -> start."""
import unittest

from gateway import GatewayTestCase, sim_only
from test_records import vm_create_record

NULL = "OpaqueRef:NULL"
RUNNING_OPS = {"clean_shutdown", "hard_shutdown", "clean_reboot", "hard_reboot", "pause", "suspend"}


@sim_only
class LifecycleTest(GatewayTestCase):
    def setUp(self):
        self.vm = self.s.call("VM.create", vm_create_record("e2e-lifecycle-%s" % self._testMethodName))

    def tearDown(self):
        try:
            st = self.s.call("VM.get_power_state", self.vm)
            if st in ("Running", "Paused"):
                self.s.call("VM.hard_shutdown", self.vm)
            self.s.call("VM.destroy", self.vm)
        except Exception:
            pass

    def state(self):
        return self.s.call("VM.get_power_state", self.vm)

    def bad(self, expected, actual, method, *args):
        self.assertFailure(["VM_BAD_POWER_STATE", self.vm, expected, actual], self.s.call, method, self.vm, *args)

    def ops(self):
        return set(self.s.call("VM.get_allowed_operations", self.vm))

    def test_full_cycle(self):
        host = self.s.call("host.get_all")[0]
        self.assertEqual(self.state(), "Halted")
        self.assertIn("start", self.ops())
        self.assertFalse(RUNNING_OPS & self.ops(), self.ops())
        self.bad("running", "halted", "VM.clean_shutdown")
        self.bad("paused, suspended, running", "halted", "VM.hard_shutdown")
        self.bad("running", "halted", "VM.pause")
        self.bad("paused", "halted", "VM.unpause")
        self.bad("running", "halted", "VM.suspend")
        self.bad("suspended", "halted", "VM.resume", False, False)
        self.bad("running", "halted", "VM.clean_reboot")
        self.bad("paused, running", "halted", "VM.hard_reboot")

        self.assertEqual(self.s.call("VM.start", self.vm, False, False), "")
        rec = self.s.call("VM.get_record", self.vm)
        self.assertEqual(rec["power_state"], "Running")
        self.assertEqual(rec["resident_on"], host)
        self.assertNotIn(rec["domid"], ("-1", "0"))
        self.assertIn(self.vm, self.s.call("host.get_resident_VMs", host))
        self.assertTrue(RUNNING_OPS <= self.ops(), self.ops())
        self.assertNotIn("start", self.ops())
        self.assertEqual(self.s.call("VM.get_current_operations", self.vm), {})
        self.bad("halted", "running", "VM.start", False, False)
        self.bad("paused", "running", "VM.unpause")
        self.bad("suspended", "running", "VM.resume", False, False)
        self.bad("halted, suspended", "running", "VM.destroy")

        self.s.call("VM.pause", self.vm)
        self.assertEqual(self.state(), "Paused")
        self.assertIn("unpause", self.ops())
        self.assertNotIn("pause", self.ops())
        self.bad("running", "paused", "VM.pause")
        self.bad("running", "paused", "VM.clean_shutdown")
        self.s.call("VM.unpause", self.vm)
        self.assertEqual(self.state(), "Running")

        self.s.call("VM.suspend", self.vm)
        self.assertEqual(self.state(), "Suspended")
        self.assertIn("resume", self.ops())
        self.assertEqual(self.s.call("VM.get_resident_on", self.vm), NULL)
        self.bad("halted", "suspended", "VM.start", False, False)
        self.bad("paused, running", "suspended", "VM.hard_reboot")
        self.s.call("VM.resume", self.vm, False, False)
        self.assertEqual(self.state(), "Running")

        self.s.call("VM.clean_reboot", self.vm)
        self.assertEqual(self.state(), "Running")
        self.s.call("VM.hard_reboot", self.vm)
        self.assertEqual(self.state(), "Running")

        self.s.call("VM.clean_shutdown", self.vm)
        rec = self.s.call("VM.get_record", self.vm)
        self.assertEqual(rec["power_state"], "Halted")
        self.assertEqual(rec["resident_on"], NULL)
        self.assertEqual(rec["domid"], "-1")
        self.assertNotIn(self.vm, self.s.call("host.get_resident_VMs", host))

        self.s.call("VM.start", self.vm, True, False)  # start_paused
        self.assertEqual(self.state(), "Paused")
        self.s.call("VM.hard_shutdown", self.vm)
        self.assertEqual(self.state(), "Halted")

    def test_suspended_hard_shutdown_and_destroy(self):
        self.s.call("VM.start", self.vm, False, False)
        self.s.call("VM.suspend", self.vm)
        self.s.call("VM.hard_shutdown", self.vm)
        self.assertEqual(self.state(), "Halted")

    def test_metrics_follow_lifecycle(self):
        m = self.s.call("VM.get_metrics", self.vm)
        self.s.call("VM.start", self.vm, False, False)
        mr = self.s.call("VM_metrics.get_record", m)
        self.assertEqual(mr["VCPUs_number"], "1")
        self.assertNotEqual(mr["start_time"].value, "19700101T00:00:00Z")
        self.assertGreater(int(mr["memory_actual"]), 0)

    def test_templates_clone_provision_start(self):
        tpls = self.templates()
        self.assertTrue(tpls, "no templates")
        tpl, trec = tpls[0]
        self.assertFailure(["VM_IS_TEMPLATE", tpl, "start"], self.s.call, "VM.start", tpl, False, False)
        self.assertFailure(["PROVISION_ONLY_ALLOWED_ON_TEMPLATE"], self.s.call, "VM.provision", self.vm)
        new = self.s.call("VM.clone", tpl, "e2e-from-template")
        try:
            rec = self.s.call("VM.get_record", new)
            self.assertEqual(rec["name_label"], "e2e-from-template")
            self.assertIs(rec["is_a_template"], True)
            self.assertNotEqual(rec["uuid"], trec["uuid"])
            self.assertEqual(rec["memory_static_max"], trec["memory_static_max"])
            self.s.call("VM.provision", new)
            self.s.call("VM.set_is_a_template", new, False)
            self.s.call("VM.start", new, False, False)
            self.assertEqual(self.s.call("VM.get_power_state", new), "Running")
            self.s.call("VM.hard_shutdown", new)
        finally:
            self.s.call("VM.destroy", new)

    def test_clone_halted_vm(self):
        new = self.s.call("VM.clone", self.vm, "e2e-clone")
        try:
            self.assertIs(self.s.call("VM.get_is_a_template", new), False)
            self.assertEqual(self.s.call("VM.get_other_config", new).get("e2e"), "yes")
        finally:
            self.s.call("VM.destroy", new)
        self.s.call("VM.start", self.vm, False, False)
        self.bad("halted", "running", "VM.clone", "e2e-clone-running")

    def test_dom0_protected(self):
        d, _ = self.dom0()
        self.assertFailure("OPERATION_NOT_ALLOWED", self.s.call, "VM.hard_shutdown", d)
        self.assertEqual(self.s.call("VM.get_power_state", d), "Running")

    def test_blocked_operations(self):
        self.s.call("VM.add_to_blocked_operations", self.vm, "start", "e2e-blocked")
        self.assertFailure(["OPERATION_BLOCKED", self.vm, "e2e-blocked"], self.s.call, "VM.start", self.vm,
                           False, False)
        self.assertNotIn("start", self.ops())
        self.s.call("VM.remove_from_blocked_operations", self.vm, "start")
        self.s.call("VM.start", self.vm, False, False)


if __name__ == "__main__":
    unittest.main()
