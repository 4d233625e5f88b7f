"""VM power lifecycle: states, VM_BAD_POWER_STATE params (spec §7.4), allowed_operations,
templates clone -> provision -> start.

On the sim driver, and in the real-Xen stage (tests/xen/run.sh) against the libxl driver with a
bootable PV guest: run.sh sets XG_E2E_GUEST_KERNEL/_RAMDISK/_ARGS (paths in dom0) and XG_XEN_CTL
(the dom0 command channel, through which guest readiness is read from the guest's console)."""
import os
import sys
import unittest

from gateway import REMOTE, GatewayTestCase, sim_only, wait_until
from test_records import vm_create_record

NULL = "OpaqueRef:NULL"
RUNNING_OPS = {"clean_shutdown", "hard_shutdown", "clean_reboot", "hard_reboot", "pause", "suspend"}
GUEST_KERNEL = os.environ.get("XG_E2E_GUEST_KERNEL")
XEN_CTL = os.environ.get("XG_XEN_CTL")
needs_guest = unittest.skipIf(REMOTE and not GUEST_KERNEL,
                              "a remote host needs a bootable guest (XG_E2E_GUEST_KERNEL)")


def lifecycle_record(name):
    """A VM.create struct that starts on the host under test: the e2e record on sim, the
    busybox PV test guest (128 MiB) on a real host."""
    r = vm_create_record(name)
    if REMOTE and GUEST_KERNEL:
        mem = str(128 << 20)
        r.update({"memory_static_max": mem, "memory_dynamic_max": mem, "memory_dynamic_min": mem,
                  "memory_static_min": mem, "actions_after_crash": "destroy",
                  "PV_kernel": GUEST_KERNEL, "PV_ramdisk": os.environ.get("XG_E2E_GUEST_RAMDISK", ""),
                  "PV_args": os.environ.get("XG_E2E_GUEST_ARGS", ""),
                  "HVM_boot_policy": "", "HVM_boot_params": {}, "platform": {}})
    return r


def guest_boots(s, vm):
    """How many times the guest of vm has come up so far, or None where guests are ready at once
    (sim). A real guest honours clean shutdown, reboot and suspend only once it has booted (its
    kernel's control/shutdown watch, its init's traps): its console says XG-GUEST-READY then."""
    if not (REMOTE and XEN_CTL):
        return None
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "xen"))
    from test_libxl import dom0     # noqa: E402  (the dom0 command channel client)
    name = s.call("VM.get_name_label", vm)
    rc, out = dom0("cat /var/log/xen/console/guest-%s.log 2>/dev/null" % name)
    return out.count("XG-GUEST-READY")


def wait_booted(s, vm, before):
    """Wait until the guest has come up once more than `before` (guest_boots() earlier)."""
    if before is None:
        return
    wait_until(lambda: guest_boots(s, vm) > before, 120, 1.0, "guest %s up (console XG-GUEST-READY)" % vm)


@needs_guest
class LifecycleTest(GatewayTestCase):
    def setUp(self):
        self.vm = self.s.call("VM.create", lifecycle_record("e2e-lifecycle-%s" % self._testMethodName))

    def tearDown(self):
        try:
            st = self.s.call("VM.get_power_state", self.vm)
            if st in ("Running", "Paused", "Suspended"):
                self.s.call("VM.hard_shutdown", self.vm)
            self.s.call("VM.destroy", self.vm)
        except Exception:
            pass

    def boots(self):
        return guest_boots(self.s, self.vm)

    def booted(self, before):
        wait_booted(self.s, self.vm, before)

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

        n = self.boots()
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
        self.booted(n)

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

        n = self.boots()
        self.s.call("VM.clean_reboot", self.vm)
        self.assertEqual(self.state(), "Running")
        self.booted(n)
        n = self.boots()
        self.s.call("VM.hard_reboot", self.vm)
        self.assertEqual(self.state(), "Running")
        self.booted(n)

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
        n = self.boots()
        self.s.call("VM.start", self.vm, False, False)
        self.booted(n)
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

    @sim_only       # the default templates have no bootable kernel on a real host
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
