"""VM snapshots on the sim driver over real qcow2 files: VM.snapshot (3 arguments and XO's
2-argument retry), the snapshot fields XO reads (is_a_snapshot, snapshot_of, snapshots,
snapshot_time, snapshot_info, parent/children, VDI snapshot_of and other_config), XAPI's
errors, VM.revert bringing back the disk bytes, and VM.destroy of snapshots keeping the
snapshot tree and the live disk."""
import os
import urllib.parse

from gateway import sim_only
from test_storage import MiB, NULL, StorageBase

EPOCH = "19700101T00:00:00Z"


class DiskBytesBase(StorageBase):
    """Disk contents in and out over /import_raw_vdi and /export_raw_vdi (also test_xva)."""

    def url(self, path, **q):
        q.setdefault("session_id", self.s.ref)
        return "%s?%s" % (path, urllib.parse.urlencode(q))

    def write(self, vdi, data):
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", vdi=vdi, format="raw"),
                                   body=data)
        self.assertEqual(st, 200)

    def read(self, vdi):
        st, _, body = self.gw.request("GET", self.url("/export_raw_vdi", vdi=vdi))
        self.assertEqual(st, 200)
        return body

    def disk_of(self, vm, userdevice="0"):
        for b in self.s.call("VM.get_VBDs", vm):
            r = self.s.call("VBD.get_record", b)
            if r["userdevice"] == userdevice:
                return r["VDI"]
        self.fail("no VBD %s on %s" % (userdevice, vm))


@sim_only
class SnapshotRevertTest(DiskBytesBase):
    def make_vm(self):
        vm = self.new_vm("snap e2e")
        a = self.vdi(size=4 * MiB, name="system")
        b = self.vdi(size=2 * MiB, name="scratch")
        self.s.call("VDI.add_to_other_config", a, "xo:copy_of", "x")
        self.vbd(vm, a, "0")
        self.vbd(vm, b, "1")
        return vm, a, b

    def test_snapshot_write_revert_write_gone(self):
        vm, a, b = self.make_vm()
        before = os.urandom(MiB) + b"\0" * (3 * MiB)
        self.write(a, before)
        t0 = self.s.call("VM.get_parent", vm)
        snap = self.s.call("VM.snapshot", vm, "before", [b])
        rec = self.s.call("VM.get_record", snap)
        self.assertTrue(rec["is_a_snapshot"])
        self.assertTrue(rec["is_a_template"])
        self.assertEqual(rec["power_state"], "Halted")
        self.assertEqual(rec["name_label"], "before")
        self.assertEqual(rec["snapshot_of"], vm)
        self.assertNotEqual(str(rec["snapshot_time"]), EPOCH)
        self.assertEqual(rec["snapshot_info"]["power-state-at-snapshot"], "Halted")
        self.assertEqual(rec["parent"], t0)
        self.assertEqual(rec["other_config"].get("mac_seed"),
                         self.s.call("VM.get_other_config", vm).get("mac_seed"))
        self.assertIn("revert", rec["allowed_operations"])
        self.assertNotIn("start", rec["allowed_operations"])
        self.assertEqual(self.s.call("VM.get_snapshots", vm), [snap])
        self.assertEqual(self.s.call("VM.get_parent", vm), snap)
        self.assertEqual(self.s.call("VM.get_children", snap), [vm])
        # ignore_vdis left the scratch disk out; the system disk is a VDI snapshot
        self.assertEqual(len(rec["VBDs"]), 1)
        sa = self.disk_of(snap)
        srec = self.s.call("VDI.get_record", sa)
        self.assertTrue(srec["is_a_snapshot"])
        self.assertEqual(srec["snapshot_of"], a)
        self.assertEqual(srec["other_config"], {"xo:copy_of": "x"})
        self.assertEqual(self.s.call("VDI.get_snapshots", a), [sa])
        self.assertEqual(self.read(sa), before)
        # XO makes it a plain VM record; it stays a snapshot
        self.s.call("VM.set_is_a_template", snap, False)
        self.assertFailure(["VM_IS_SNAPSHOT", snap, "start"], self.s.call,
                           "VM.start", snap, False, False)
        self.assertFailure(["REVERT_ONLY_ALLOWED_ON_SNAPSHOT"], self.s.call, "VM.revert", vm)

        after = os.urandom(4 * MiB)
        self.write(a, after)
        self.assertEqual(self.read(a), after)
        self.assertEqual(self.read(sa), before)

        self.s.call("VM.set_name_label", vm, "renamed")
        self.s.call("VM.set_VCPUs_at_startup", vm, "1")
        self.s.call("VM.revert", snap)
        now = self.disk_of(vm)
        self.assertNotEqual(now, a)
        self.assertEqual(self.read(now), before)
        with self.assertRaises(Exception):
            self.s.call("VDI.get_record", a)        # the reverted-away disk is gone
        vrec = self.s.call("VM.get_record", vm)
        self.assertEqual(vrec["name_label"], "renamed")
        self.assertFalse(vrec["is_a_template"])
        self.assertEqual(vrec["VCPUs_at_startup"], rec["VCPUs_at_startup"])
        self.assertEqual(vrec["parent"], snap)
        self.assertEqual(self.s.call("VDI.get_snapshot_of", sa), now)
        self.assertEqual(self.s.call("VDI.get_other_config", now), {"xo:copy_of": "x"})
        # the disk left out of the snapshot was detached, not destroyed
        self.assertEqual(len(vrec["VBDs"]), 1)
        self.assertEqual(self.s.call("VDI.get_VBDs", b), [])

        # XO's 2-argument retry; the tree grows from the latest snapshot
        snap2 = self.s.call("VM.snapshot", vm, "second")
        self.assertEqual(self.s.call("VM.get_parent", snap2), snap)
        self.assertEqual(self.s.call("VM.get_parent", vm), snap2)
        self.assertEqual(sorted(self.s.call("VM.get_snapshots", vm)), sorted([snap, snap2]))
        # destroying a snapshot re-parents its children and keeps the live disk readable
        sa2 = self.disk_of(snap2)
        self.s.call("VM.destroy", snap2)
        self.s.call("VDI.destroy", sa2)
        self.assertEqual(self.s.call("VM.get_parent", vm), snap)
        self.assertEqual(self.s.call("VM.get_snapshots", vm), [snap])
        self.s.call("VM.destroy", snap)
        self.s.call("VDI.destroy", sa)
        self.assertEqual(self.s.call("VM.get_snapshots", vm), [])
        self.assertEqual(self.read(now), before)
        self.s.call("VM.destroy", vm)
        for v in (now, b):
            self.s.call("VDI.destroy", v)

    def test_checkpoint_and_revert(self):
        vm, a, b = self.make_vm()
        before = os.urandom(MiB) + b"\0" * (3 * MiB)
        self.write(a, before)
        self.assertFailure(["VM_BAD_POWER_STATE", vm, "running", "halted"], self.s.call,
                           "VM.checkpoint", vm, "not running")
        self.s.call("VM.start", vm, False, False)
        cp = self.wait_task(self.s.call("Async.VM.checkpoint", vm, "with memory"))
        rec = self.s.call("VM.get_record", cp)
        self.assertEqual(rec["power_state"], "Suspended")
        self.assertTrue(rec["is_a_snapshot"])
        self.assertEqual(rec["snapshot_of"], vm)
        self.assertEqual(rec["snapshot_info"]["power-state-at-snapshot"], "Running")
        mem = rec["suspend_VDI"]
        mrec = self.s.call("VDI.get_record", mem)
        self.assertEqual(mrec["type"], "suspend")
        self.assertGreater(int(mrec["virtual_size"]), 0)
        self.assertEqual(self.s.call("VM.get_power_state", vm), "Running")
        self.assertEqual(self.s.call("VM.get_parent", vm), cp)
        self.assertEqual(self.read(self.disk_of(cp)), before)
        self.s.call("VM.set_is_a_template", cp, False)     # as XO does
        # the VM goes on and changes its disk; reverting brings back the disk and the memory
        self.s.call("VM.hard_shutdown", vm)
        self.write(self.disk_of(vm), os.urandom(4 * MiB))
        self.s.call("VM.revert", cp)
        self.assertEqual(self.s.call("VM.get_power_state", vm), "Suspended")
        self.assertEqual(self.read(self.disk_of(vm)), before)
        self.s.call("VM.resume", vm, False, False)       # what XO does after a revert
        self.assertEqual(self.s.call("VM.get_power_state", vm), "Running")
        self.s.call("VM.hard_shutdown", vm)
        # destroying the checkpoint takes its memory image along
        self.s.call("VM.destroy", cp)
        self.assertFailure(["HANDLE_INVALID", "VDI", mem], self.s.call, "VDI.get_record", mem)

    def test_running_vm_and_errors(self):
        vm, a, b = self.make_vm()
        self.s.call("VM.start", vm, False, False)
        snap = self.s.call("Async.VM.snapshot", vm, "live")
        snap = self.wait_task(snap)
        self.assertEqual(self.s.call("VM.get_snapshot_info", snap)["power-state-at-snapshot"],
                         "Running")
        self.assertEqual(self.s.call("VM.get_power_state", vm), "Running")
        self.assertFailure(["VM_BAD_POWER_STATE", vm, "halted", "running"], self.s.call,
                           "VM.revert", snap)
        self.assertFailure(["VM_IS_SNAPSHOT", snap, "snapshot"], self.s.call,
                           "VM.snapshot", snap, "of a snapshot")
        self.assertFailure(["MESSAGE_REMOVED"], self.s.call, "VM.snapshot_with_quiesce", vm, "q")
        self.s.call("VM.hard_shutdown", vm)
        self.s.call("VM.revert", snap)
        self.assertEqual(self.s.call("VM.get_power_state", vm), "Halted")
        self.s.call("VM.start", vm, False, False)     # the reverted disks boot
        self.s.call("VM.hard_shutdown", vm)
        templates = [r for r, x in self.s.call("VM.get_all_records").items()
                     if x["is_a_template"] and not x["is_a_snapshot"]]
        self.assertFailure("VM_IS_TEMPLATE", self.s.call, "VM.snapshot", templates[0], "t")

    def wait_task(self, task):
        import time
        deadline = time.time() + 60
        while self.s.call("task.get_status", task) == "pending":
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        rec = self.s.call("task.get_record", task)
        self.assertEqual(rec["status"], "success", rec)
        return rec["result"].replace("<value>", "").replace("</value>", "")


if __name__ == "__main__":
    import unittest
    unittest.main()
