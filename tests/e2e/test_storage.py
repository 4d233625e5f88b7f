"""Storage on the sim driver: the SRs a fresh host has, SM records, VDI create/destroy/resize/
snapshot/clone/copy over real qcow2 files, VBD create/plug/unplug/insert/eject with XAPI's errors,
VM clone/copy/provision with disks, ISO SR scan, SR create/forget/destroy, events, persistence across
kill -9."""
import os
import shutil
import subprocess
import unittest

from gateway import (Gateway, GatewayTestCase, XapiSession, free_port, scaled, sim_only,
                     wait_task)
from test_records import vm_create_record

NULL = "OpaqueRef:NULL"
MiB = 1024 * 1024


def qemu_img_info(path):
    import json
    out = subprocess.run(["qemu-img", "info", "--output=json", path], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


class StorageBase(GatewayTestCase):
    def sr(self):
        return self.s.call("pool.get_default_SR", self.s.call("pool.get_all")[0])

    def sr_dir(self, sr):
        pbd = self.s.call("SR.get_PBDs", sr)[0]
        return self.s.call("PBD.get_device_config", pbd)["location"]

    def vdi(self, size=8 * MiB, name="e2e disk", sr=None, **extra):
        rec = {"SR": sr or self.sr(), "virtual_size": str(size), "type": "user",
               "sharable": False, "read_only": False, "other_config": {},
               "name_label": name, "name_description": ""}
        rec.update(extra)
        return self.s.call("VDI.create", rec)

    def image(self, vdi):
        sr = self.s.call("VDI.get_SR", vdi)
        return os.path.join(self.sr_dir(sr), self.s.call("VDI.get_location", vdi) + ".qcow2")

    def vbd(self, vm, vdi, userdevice="0", type_="Disk", mode="RW", empty=False):
        # the fields XO Lite sends (device, unpluggable, currently_attached left out)
        return self.s.call("VBD.create", {"VM": vm, "VDI": vdi, "userdevice": userdevice,
                                          "bootable": False, "mode": mode, "type": type_,
                                          "empty": empty, "other_config": {},
                                          "qos_algorithm_type": "", "qos_algorithm_params": {}})

    def new_vm(self, name):
        return self.s.call("VM.create", vm_create_record(name))


@sim_only
class FreshHostTest(StorageBase):
    def test_local_sr_is_default_and_plugged(self):
        pool = self.s.call("pool.get_all")[0]
        sr = self.sr()
        rec = self.s.call("SR.get_record", sr)
        self.assertEqual(rec["name_label"], "Local storage")
        self.assertEqual(rec["content_type"], "user")
        self.assertEqual(rec["type"], "file")
        self.assertGreater(int(rec["physical_size"]), 0)
        st = os.statvfs(self.sr_dir(sr))
        self.assertEqual(int(rec["physical_size"]), st.f_blocks * st.f_frsize)
        self.assertEqual(self.s.call("pool.get_suspend_image_SR", pool), sr)
        self.assertEqual(self.s.call("pool.get_crash_dump_SR", pool), sr)
        pbds = rec["PBDs"]
        self.assertEqual(len(pbds), 1)
        pbd = self.s.call("PBD.get_record", pbds[0])
        self.assertTrue(pbd["currently_attached"])
        host = self.s.call("host.get_all")[0]
        self.assertEqual(pbd["host"], host)
        self.assertIn(pbds[0], self.s.call("host.get_PBDs", host))
        self.assertIn("vdi_create", rec["allowed_operations"])

    def test_sm_records_and_iso_library(self):
        sms = {r["type"]: r for r in self.s.call("SM.get_all_records").values()}
        self.assertIn("VDI_SNAPSHOT", sms["file"]["features"])
        self.assertNotIn("VDI_CREATE", sms["iso"]["features"])
        self.assertEqual(sorted(self.s.call("SR.get_supported_types")), ["file", "iso"])
        isos = self.s.call("SR.get_by_name_label", "ISO library")
        self.assertEqual(len(isos), 1)
        self.assertEqual(self.s.call("SR.get_content_type", isos[0]), "iso")


@sim_only
class VdiTest(StorageBase):
    def test_create_sizes_from_the_file(self):
        v = self.vdi(size=10 * MiB + 1, xenstore_data={"k": "v"}, sm_config={})
        rec = self.s.call("VDI.get_record", v)
        path = self.image(v)
        info = qemu_img_info(path)
        self.assertEqual(info["format"], "qcow2")
        self.assertEqual(int(rec["virtual_size"]), info["virtual-size"])
        self.assertEqual(int(rec["virtual_size"]), 10 * MiB + 512)   # rounded up to a sector
        self.assertEqual(int(rec["physical_utilisation"]), os.stat(path).st_blocks * 512)
        self.assertEqual(rec["sm_config"]["image-format"], "qcow2")
        self.assertEqual(rec["xenstore_data"], {"k": "v"})
        self.assertTrue(rec["managed"])
        self.assertIn(v, self.s.call("SR.get_VDIs", self.sr()))
        self.s.call("SR.scan", self.sr())
        alloc = int(self.s.call("SR.get_virtual_allocation", self.sr()))
        total = sum(int(self.s.call("VDI.get_virtual_size", x)) for x in self.s.call("SR.get_VDIs", self.sr()))
        self.assertEqual(alloc, total)
        self.s.call("VDI.destroy", v)
        self.assertFalse(os.path.exists(path))

    def test_create_errors(self):
        self.assertFailure(["VDI_INCOMPATIBLE_TYPE", "", "cbt_metadata"],
                           lambda: self.vdi(MiB, type="cbt_metadata"))
        self.assertFailure(["INVALID_VALUE", "virtual_size", "-1"], self.vdi, -1)
        iso = self.s.call("SR.get_by_name_label", "ISO library")[0]
        self.assertFailure(["SR_OPERATION_NOT_SUPPORTED", iso], self.vdi, MiB, "x", iso)

    def test_resize(self):
        v = self.vdi(size=4 * MiB)
        self.s.call("VDI.resize", v, str(6 * MiB))
        self.assertEqual(int(self.s.call("VDI.get_virtual_size", v)), 6 * MiB)
        self.assertEqual(qemu_img_info(self.image(v))["virtual-size"], 6 * MiB)
        with self.assertRaises(Exception):
            self.s.call("VDI.resize", v, str(2 * MiB))
        self.assertFailure(["SR_OPERATION_NOT_SUPPORTED", self.sr()], self.s.call,
                           "VDI.resize_online", v, str(8 * MiB))
        self.s.call("VDI.destroy", v)

    def test_snapshot_and_clone_are_copy_on_write(self):
        v = self.vdi(size=64 * MiB, name="live")
        self.s.call("VDI.add_to_other_config", v, "xo:backup", "1")
        before = set(os.listdir(self.sr_dir(self.sr())))
        snap = self.s.call("VDI.snapshot", v, {})
        srec = self.s.call("VDI.get_record", snap)
        self.assertTrue(srec["is_a_snapshot"])
        self.assertEqual(srec["snapshot_of"], v)
        self.assertEqual(srec["other_config"], {"xo:backup": "1"})
        self.assertNotEqual(str(srec["snapshot_time"]), "19700101T00:00:00Z")
        self.assertEqual(self.s.call("VDI.get_snapshots", v), [snap])
        base_uuid = srec["sm_config"]["vhd-parent"]
        self.assertEqual(self.s.call("VDI.get_record", v)["sm_config"]["vhd-parent"], base_uuid)
        base = self.s.call("VDI.get_by_uuid", base_uuid)
        self.assertFalse(self.s.call("VDI.get_managed", base))
        self.assertFailure(["VDI_NOT_MANAGED", base], self.s.call, "VDI.destroy", base)
        # the child is an overlay on the base, not a copy
        info = qemu_img_info(self.image(snap))
        self.assertEqual(info["backing-filename"], base_uuid + ".qcow2")
        self.assertLess(os.stat(self.image(snap)).st_blocks * 512, MiB)
        clone = self.s.call("VDI.clone", v)    # driver_params omitted, as XO Lite
        crec = self.s.call("VDI.get_record", clone)
        self.assertFalse(crec["is_a_snapshot"])
        self.assertEqual(crec["snapshot_of"], NULL)
        self.assertEqual(crec["name_label"], "live")
        # hidden bases go once nobody needs them
        for x in (snap, clone, v):
            self.s.call("VDI.destroy", x)
        self.assertEqual(set(os.listdir(self.sr_dir(self.sr()))) - before, set())
        left = [f for f in os.listdir(self.sr_dir(self.sr())) if f.startswith(base_uuid)]
        self.assertEqual(left, [])
        with self.assertRaises(Exception):
            self.s.call("VDI.get_record", base)

    def test_copy_keeps_the_data(self):
        v = self.vdi(size=4 * MiB)
        path = self.image(v)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 1M", path],
                       check=True, capture_output=True)
        other = self.s.call("SR.create", self.s.call("host.get_all")[0],
                            {"location": os.path.join(self.gw.state_dir, "sr2")}, "0",
                            "second", "", "file", "user", False, {})
        cp = self.s.call("VDI.copy", v, other)    # 2 arguments, as XO Lite
        self.assertEqual(self.s.call("VDI.get_SR", cp), other)
        self.assertEqual(self.s.call("VDI.get_virtual_size", cp), self.s.call("VDI.get_virtual_size", v))
        r = subprocess.run(["qemu-img", "compare", path, self.image(cp)], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        into = self.vdi(size=2 * MiB)
        self.assertFailure(["VDI_TOO_SMALL", into, str(4 * MiB)], self.s.call, "VDI.copy", v, self.sr(), NULL, into)
        self.s.call("VDI.destroy", cp)
        self.s.call("PBD.unplug", self.s.call("SR.get_PBDs", other)[0])
        self.s.call("SR.destroy", other)
        self.assertFalse(os.path.exists(os.path.join(self.gw.state_dir, "sr2")))

    def test_scan_finds_and_forgets_images(self):
        import uuid as uuidlib
        d = self.sr_dir(self.sr())
        u = str(uuidlib.uuid4())
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", os.path.join(d, u + ".qcow2"), "3M"],
                       check=True)
        self.s.call("SR.scan", self.sr())
        v = self.s.call("VDI.get_by_uuid", u)
        self.assertEqual(int(self.s.call("VDI.get_virtual_size", v)), 3 * MiB)
        self.assertTrue(self.s.call("VDI.get_managed", v))
        os.unlink(os.path.join(d, u + ".qcow2"))
        self.s.call("SR.scan", self.sr())
        self.assertFailure(["UUID_INVALID", "VDI", u], self.s.call, "VDI.get_by_uuid", u)

    def test_setters(self):
        v = self.vdi()
        self.s.call("VDI.set_name_label", v, "renamed")
        self.s.call("VDI.set_name_description", v, "d")
        self.s.call("VDI.set_read_only", v, True)
        self.assertEqual(self.s.call("VDI.get_name_label", v), "renamed")
        self.assertTrue(self.s.call("VDI.get_read_only", v))
        self.assertFailure(["SR_OPERATION_NOT_SUPPORTED", self.sr()], self.s.call, "VDI.set_on_boot", v, "reset")
        self.s.call("VDI.destroy", v)


@sim_only
class VbdTest(StorageBase):
    def test_create_defaults_and_errors(self):
        vm = self.new_vm("e2e-vbd")
        v = self.vdi()
        b = self.vbd(vm, v, "0")
        rec = self.s.call("VBD.get_record", b)
        self.assertEqual(rec["device"], "")
        self.assertTrue(rec["unpluggable"])
        self.assertFalse(rec["currently_attached"])
        self.assertEqual(rec["metrics"], NULL)
        self.assertEqual(self.s.call("VM.get_VBDs", vm), [b])
        self.assertEqual(self.s.call("VDI.get_VBDs", v), [b])
        self.assertNotIn("0", self.s.call("VM.get_allowed_VBD_devices", vm))
        self.assertFailure(["DEVICE_ALREADY_EXISTS", "xvda"], self.vbd, vm, v, "xvda")
        self.assertFailure(["INVALID_DEVICE", "banana"], self.vbd, vm, v, "banana")
        self.assertFailure(["VBD_CDS_MUST_BE_READONLY"], self.vbd, vm, v, "3", "CD", "RW")
        self.assertFailure(["VBD_NOT_REMOVABLE_MEDIA", "in constructor"], self.vbd, vm, NULL, "4", "Disk", "RW", True)
        auto = self.vbd(vm, v, "autodetect", mode="RO")
        self.assertEqual(self.s.call("VBD.get_userdevice", auto), "1")
        self.s.call("VDI.set_read_only", v, True)
        self.assertFailure(["VDI_READONLY", v], self.vbd, vm, v, "5")
        self.s.call("VBD.destroy", auto)
        # VM.destroy leaves the VDI
        self.s.call("VM.destroy", vm)
        self.assertEqual(self.s.call("VDI.get_VBDs", v), [])
        with self.assertRaises(Exception):
            self.s.call("VBD.get_record", b)
        self.s.call("VDI.destroy", v)

    def test_vdi_destroy_takes_its_vbds(self):
        vm = self.new_vm("e2e-vbd-destroy")
        v = self.vdi()
        b = self.vbd(vm, v, "0")
        self.s.call("VDI.destroy", v)
        self.assertEqual(self.s.call("VM.get_VBDs", vm), [])
        self.s.call("VM.destroy", vm)
        del b

    def test_plug_unplug_on_running_vm(self):
        vm = self.new_vm("e2e-hotplug")
        d0 = self.vdi(name="boot")
        b0 = self.vbd(vm, d0, "0")
        self.s.call("VM.start", vm, False, False)
        rec = self.s.call("VBD.get_record", b0)
        self.assertTrue(rec["currently_attached"])
        self.assertEqual(rec["device"], "xvda")
        self.assertFailure(["VDI_IN_USE", d0, "destroy"], self.s.call, "VDI.destroy", d0)
        self.assertFailure(["OPERATION_NOT_ALLOWED"], lambda: self._destroy_attached(b0))
        d1 = self.vdi(name="hot")
        b1 = self.vbd(vm, d1, "1")
        self.assertIn("plug", self.s.call("VBD.get_allowed_operations", b1))
        self.s.call("VBD.plug", b1)
        self.assertTrue(self.s.call("VBD.get_currently_attached", b1))
        self.assertEqual(self.s.call("VBD.get_device", b1), "xvdb")
        self.assertFailure(["DEVICE_ALREADY_ATTACHED", b1], self.s.call, "VBD.plug", b1)
        self.s.call("VBD.unplug", b1)
        self.assertFalse(self.s.call("VBD.get_currently_attached", b1))
        self.assertFailure(["DEVICE_ALREADY_DETACHED", b1], self.s.call, "VBD.unplug", b1)
        self.s.call("VBD.set_unpluggable", b0, False)
        self.assertFailure(["VBD_NOT_UNPLUGGABLE", b0], self.s.call, "VBD.unplug", b0)
        self.s.call("VM.hard_shutdown", vm)
        self.assertFalse(self.s.call("VBD.get_currently_attached", b0))
        self.assertFailure(["VM_BAD_POWER_STATE", vm, "running", "halted"], self.s.call, "VBD.plug", b1)
        self.s.call("VM.destroy", vm)
        for v in (d0, d1):
            self.s.call("VDI.destroy", v)

    def _destroy_attached(self, vbd):
        try:
            self.s.call("VBD.destroy", vbd)
        except Exception as e:
            if getattr(e, "details", [None])[0] == "OPERATION_NOT_ALLOWED":
                raise type(e)(["OPERATION_NOT_ALLOWED"])
            raise

    def test_cd_insert_eject(self):
        iso_sr = self.s.call("SR.get_by_name_label", "ISO library")[0]
        iso_dir = self.sr_dir(iso_sr)
        with open(os.path.join(iso_dir, "e2e.iso"), "wb") as f:
            f.write(b"\0" * 4096)
        self.s.call("SR.scan", iso_sr)
        iso = [v for v in self.s.call("SR.get_VDIs", iso_sr)
               if self.s.call("VDI.get_location", v) == "e2e.iso"][0]
        self.assertEqual(int(self.s.call("VDI.get_virtual_size", iso)), 4096)
        vm = self.new_vm("e2e-cd")
        cd = self.vbd(vm, NULL, "3", "CD", "RO", True)
        self.assertFailure(["VBD_IS_EMPTY", cd], self.s.call, "VBD.eject", cd)
        self.s.call("VBD.insert", cd, iso)
        self.assertEqual(self.s.call("VBD.get_VDI", cd), iso)
        self.assertFailure(["VBD_NOT_EMPTY", cd], self.s.call, "VBD.insert", cd, iso)
        self.s.call("VM.start", vm, False, False)
        self.s.call("VBD.eject", cd)
        self.assertTrue(self.s.call("VBD.get_empty", cd))
        self.s.call("VBD.insert", cd, iso)
        self.s.call("VM.hard_shutdown", vm)
        disk = self.vdi()
        d = self.vbd(vm, disk, "0")
        self.assertFailure(["VBD_NOT_REMOVABLE_MEDIA", d], self.s.call, "VBD.eject", d)
        # a file removed by hand: scan forgets its VDI, the drive becomes empty
        os.unlink(os.path.join(iso_dir, "e2e.iso"))
        self.s.call("SR.scan", iso_sr)
        self.assertTrue(self.s.call("VBD.get_empty", cd))
        self.s.call("VM.destroy", vm)
        self.s.call("VDI.destroy", disk)


@sim_only
class MediaChangeInFlightTest(StorageBase):
    """CD eject/insert on a running VM: the driver call runs on a worker without the world lock
    (the sim takes --sim-delay-ms per device call, as libxl waits for hotplug scripts); the VBD
    shows the operation meanwhile, refuses another, and its record changes when it is done."""
    extra_args = ["--sim-delay-ms", "1500"]

    def test_eject_and_insert_are_operations(self):
        iso_sr = self.s.call("SR.get_by_name_label", "ISO library")[0]
        with open(os.path.join(self.sr_dir(iso_sr), "inflight.iso"), "wb") as f:
            f.write(b"\0" * 4096)
        self.s.call("SR.scan", iso_sr)
        iso = [v for v in self.s.call("SR.get_VDIs", iso_sr)
               if self.s.call("VDI.get_location", v) == "inflight.iso"][0]
        vm = self.new_vm("e2e-cd-inflight")
        cd = self.vbd(vm, iso, "3", "CD", "RO")
        self.s.call("VM.start", vm, False, False)
        self.assertTrue(self.s.call("VBD.get_currently_attached", cd))
        for op, call in (("eject", ("Async.VBD.eject", cd)), ("insert", ("Async.VBD.insert", cd, iso))):
            task = self.s.call(*call)
            self.assertEqual(list(self.s.call("VBD.get_current_operations", cd).values()), [op])
            self.assertNotIn(op, self.s.call("VBD.get_allowed_operations", cd))
            f = self.assertFailure("OTHER_OPERATION_IN_PROGRESS", self.s.call, "VBD.unplug", cd)
            self.assertEqual(f.details[1:3], ["VBD", cd])
            # the record is unchanged until the drive is
            self.assertEqual(self.s.call("VBD.get_empty", cd), op == "insert")
            rec = wait_task(self.s, task)
            self.assertEqual(rec["status"], "success", rec)
            self.assertEqual(self.s.call("VBD.get_current_operations", cd), {})
            self.assertEqual(self.s.call("VBD.get_empty", cd), op == "eject")
        self.assertEqual(self.s.call("VBD.get_VDI", cd), iso)
        self.s.call("VM.hard_shutdown", vm)
        self.s.call("VM.destroy", vm)


@sim_only
class VmDisksTest(StorageBase):
    def test_template_provision_clone_copy(self):
        tmpl = [r for r, v in self.s.call("VM.get_all_records").items()
                if v["is_a_template"] and v["is_default_template"]][0]
        vm = self.s.call("VM.clone", tmpl, "e2e-provisioned")
        self.s.call("VM.add_to_other_config", vm, "disks",
                    '<provision><disk device="0" size="%d" sr="" bootable="true" type="system"/></provision>' % (16 * MiB))
        self.s.call("VM.provision", vm)
        self.assertNotIn("disks", self.s.call("VM.get_other_config", vm))
        vbds = self.s.call("VM.get_VBDs", vm)
        self.assertEqual(len(vbds), 1)
        disk = self.s.call("VBD.get_VDI", vbds[0])
        self.assertEqual(self.s.call("VDI.get_SR", disk), self.sr())
        self.assertEqual(int(self.s.call("VDI.get_virtual_size", disk)), 16 * MiB)
        self.assertTrue(self.s.call("VBD.get_bootable", vbds[0]))
        # Ansible xenserver_guest: VM.copy into pool.default_SR
        cp = self.s.call("VM.copy", vm, "e2e-copy", self.sr())
        cdisk = self.s.call("VBD.get_VDI", self.s.call("VM.get_VBDs", cp)[0])
        self.assertNotEqual(cdisk, disk)
        self.assertEqual(self.s.call("VDI.get_virtual_size", cdisk), self.s.call("VDI.get_virtual_size", disk))
        cp2 = self.s.call("VM.copy", vm, "e2e-copy2", "")      # XO: '' = each disk's SR
        self.assertEqual(len(self.s.call("VM.get_VBDs", cp2)), 1)
        cl = self.s.call("VM.clone", vm, "e2e-clone")
        cldisk = self.s.call("VBD.get_VDI", self.s.call("VM.get_VBDs", cl)[0])
        self.assertIn("vhd-parent", self.s.call("VDI.get_sm_config", cldisk))
        self.s.call("VM.set_is_a_template", cl, False)
        self.s.call("VM.start", cl, False, False)
        self.assertEqual(self.s.call("VBD.get_device", self.s.call("VM.get_VBDs", cl)[0]), "xvda")
        self.s.call("VM.hard_shutdown", cl)
        for x in (vm, cp, cp2, cl):
            self.s.call("VM.destroy", x)


@sim_only
class SrLifecycleTest(StorageBase):
    def test_iso_sr_create_forget(self):
        d = os.path.join(self.gw.state_dir, "isos2")
        os.makedirs(d)
        with open(os.path.join(d, "a.iso"), "wb") as f:
            f.write(b"x" * 2048)
        host = self.s.call("host.get_all")[0]
        self.assertFailure(["SR_UNKNOWN_DRIVER", "nfs"], self.s.call, "SR.create", host, {"location": d},
                           "0", "n", "", "nfs", "", False, {})
        sr = self.s.call("SR.create", host, {"location": d}, "0", "more isos", "", "iso", "iso", False, {})
        vdis = self.s.call("SR.get_VDIs", sr)
        self.assertEqual([self.s.call("VDI.get_name_label", v) for v in vdis], ["a.iso"])
        self.assertFailure(["SR_HAS_PBD", sr], self.s.call, "SR.forget", sr)
        self.s.call("PBD.unplug", self.s.call("SR.get_PBDs", sr)[0])
        self.s.call("SR.forget", sr)
        self.assertTrue(os.path.exists(os.path.join(d, "a.iso")))
        # introduce + PBD.create + plug brings it back
        sr2 = self.s.call("SR.introduce", "", "again", "", "iso", "iso", False, {})
        self.assertEqual(int(self.s.call("SR.get_physical_size", sr2)), -1)
        pbd = self.s.call("PBD.create", {"host": host, "SR": sr2, "device_config": {"location": d}})
        self.assertFailure(["PBD_EXISTS", sr2, host, pbd], self.s.call, "PBD.create",
                           {"host": host, "SR": sr2, "device_config": {"location": d}})
        self.s.call("PBD.plug", pbd)
        self.s.call("SR.scan", sr2)
        self.assertEqual(len(self.s.call("SR.get_VDIs", sr2)), 1)
        self.assertFailure(["SR_NOT_EMPTY"], self._destroy_unplugged, sr2, pbd)
        self.s.call("SR.forget", sr2)
        shutil.rmtree(d)

    def test_file_sr_create_destroy(self):
        """SR.create of a file SR (the directory made, sm_config kept), then SR.destroy: the
        images left (hidden bases) and the directory go; both answer as Async tasks too."""
        d = os.path.join(self.gw.state_dir, "more-disks")
        host = self.s.call("host.get_all")[0]
        task = self.s.call("Async.SR.create", host, {"location": d}, "0", "more disks", "d", "file",
                           "", False, {"k": "v"})
        rec = wait_task(self.s, task)
        self.assertEqual(rec["status"], "success", rec)
        sr = rec["result"].replace("<value>", "").replace("</value>", "")
        self.assertTrue(os.path.isdir(d))
        r = self.s.call("SR.get_record", sr)
        self.assertEqual((r["name_label"], r["type"], r["content_type"], r["sm_config"]),
                         ("more disks", "file", "user", {"k": "v"}))
        pbd = r["PBDs"][0]
        self.assertTrue(self.s.call("PBD.get_currently_attached", pbd))
        self.assertGreater(int(r["physical_size"]), 0)
        v = self.vdi(size=MiB, sr=sr)
        snap = self.s.call("VDI.snapshot", v, {})
        for x in (snap, v):
            self.s.call("VDI.destroy", x)
        self.s.call("PBD.unplug", pbd)
        rec = wait_task(self.s, self.s.call("Async.SR.destroy", sr))
        self.assertEqual(rec["status"], "success", rec)
        self.assertFalse(os.path.exists(d), os.listdir(d) if os.path.exists(d) else "")
        self.assertFailure("HANDLE_INVALID", self.s.call, "SR.get_record", sr)
        # a directory that cannot be made: the error, and no SR left behind
        before = set(self.s.call("SR.get_all"))
        self.assertFailure("SR_BACKEND_FAILURE", self.s.call, "SR.create", host,
                           {"location": os.path.join(d, "no", "such")}, "0", "x", "", "file", "", False, {})
        self.assertEqual(set(self.s.call("SR.get_all")), before)

    def _destroy_unplugged(self, sr, pbd):
        self.s.call("PBD.unplug", pbd)
        self.s.call("SR.destroy", sr)


@sim_only
class TransferTest(StorageBase):
    def url(self, path, **q):
        import urllib.parse
        q.setdefault("session_id", self.s.ref)
        return "%s?%s" % (path, urllib.parse.urlencode(q))

    def test_raw_round_trip_with_task(self):
        v = self.vdi(size=8 * MiB)
        data = os.urandom(3 * MiB) + b"\0" * MiB + os.urandom(MiB)
        task = self.s.call("task.create", "import", "")
        st, hdrs, _ = self.gw.request("PUT", self.url("/import_raw_vdi/", vdi=v, format="raw",
                                                      task_id=task), body=data)
        self.assertEqual(st, 200)
        self.assertEqual(dict((k.lower(), x) for k, x in hdrs)["task-id"], task)
        rec = self.s.call("task.get_record", task)
        self.assertEqual(rec["status"], "success", rec)
        self.assertEqual(rec["result"], "<value>%s</value>" % v)
        self.assertGreater(int(self.s.call("VDI.get_physical_utilisation", v)), 4 * MiB)
        st, hdrs, body = self.gw.request("GET", self.url("/export_raw_vdi", vdi=v))
        self.assertEqual(st, 200)
        self.assertEqual(len(body), 8 * MiB)
        self.assertEqual(body[:len(data)], data)
        self.assertEqual(body[len(data):], b"\0" * (8 * MiB - len(data)))
        # by uuid, as vhd, and back into another disk
        uuid = self.s.call("VDI.get_uuid", v)
        st, hdrs, vhd = self.gw.request("GET", self.url("/export_raw_vdi/", vdi=uuid, format="vhd"))
        self.assertEqual(st, 200)
        self.assertEqual(vhd[-512:][:8], b"conectix")
        w = self.vdi(size=8 * MiB)
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", vdi=w, format="vhd"), body=vhd)
        self.assertEqual(st, 200)
        st, _, back = self.gw.request("GET", self.url("/export_raw_vdi", vdi=w))
        self.assertEqual(back, body)
        # qcow2 out (one standalone image: the chain flattened) and back in
        ws = self.s.call("VDI.snapshot", w, {})
        st, hdrs, q = self.gw.request("GET", self.url("/export_raw_vdi", vdi=w, format="qcow2"))
        self.assertEqual(st, 200)
        self.assertEqual(q[:4], b"QFI\xfb")
        z = self.vdi(size=8 * MiB)
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", vdi=z, format="qcow2"), body=q)
        self.assertEqual(st, 200)
        st, _, back = self.gw.request("GET", self.url("/export_raw_vdi", vdi=z))
        self.assertEqual(back, body)
        for x in (v, z, ws, w):
            self.s.call("VDI.destroy", x)

    def test_zero_blocks_stay_sparse_and_still_overwrite(self):
        """A raw import writes all-zero blocks as NBD zero writes: a disk of zeroes takes no
        room, and zeroes imported over data read back as zeroes."""
        v = self.vdi(size=16 * MiB)
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", vdi=v), body=b"\0" * (16 * MiB))
        self.assertEqual(st, 200)
        self.assertLess(int(self.s.call("VDI.get_physical_utilisation", v)), 4 * MiB)
        first = os.urandom(6 * MiB)
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", vdi=v), body=first)
        self.assertEqual(st, 200)
        # zeroes over data, a lone non-zero byte inside a zero block, a body that ends
        # off a block boundary
        second = bytearray(5 * MiB + 777)
        second[2 * MiB + 12345] = 7
        second[4 * MiB:4 * MiB + 100] = os.urandom(100)
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", vdi=v), body=bytes(second))
        self.assertEqual(st, 200)
        st, _, body = self.gw.request("GET", self.url("/export_raw_vdi", vdi=v))
        self.assertEqual(st, 200)
        want = bytes(second) + first[len(second):] + b"\0" * (10 * MiB)
        self.assertEqual(len(body), len(want))
        self.assertTrue(body == want)
        self.s.call("VDI.destroy", v)

    def test_import_into_an_sr_makes_the_vdi(self):
        """XAPI's /import_raw_vdi?sr_id= (or sr_uuid=) without vdi=: a new VDI "Imported VDI"
        as large as the body, the task's result; the errors in XAPI's order."""
        sr = self.sr()
        before = set(self.s.call("SR.get_VDIs", sr))
        data = os.urandom(2 * MiB + 1000)
        task = self.s.call("task.create", "import into SR", "")
        st, hdrs, _ = self.gw.request("PUT", self.url("/import_raw_vdi", sr_id=sr, format="raw",
                                                      task_id=task), body=data)
        self.assertEqual(st, 200)
        rec = self.s.call("task.get_record", task)
        self.assertEqual(rec["status"], "success", rec)
        made = set(self.s.call("SR.get_VDIs", sr)) - before
        self.assertEqual(len(made), 1)
        v = made.pop()
        self.assertEqual(rec["result"], "<value>%s</value>" % v)
        vrec = self.s.call("VDI.get_record", v)
        self.assertEqual(vrec["name_label"], "Imported VDI")
        self.assertEqual(vrec["type"], "user")
        self.assertEqual(int(vrec["virtual_size"]), (len(data) + 511) // 512 * 512)
        st, _, body = self.gw.request("GET", self.url("/export_raw_vdi", vdi=v))
        self.assertEqual(body[:len(data)], data)
        self.s.call("VDI.destroy", v)
        # by uuid, without a task
        uuid = self.s.call("SR.get_uuid", sr)
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", sr_uuid=uuid), body=b"z" * 512)
        self.assertEqual(st, 200)
        made = set(self.s.call("SR.get_VDIs", sr)) - before
        self.assertEqual(len(made), 1)
        self.s.call("VDI.destroy", made.pop())

        def fails(status, code, body=b"x" * 512, **q):
            task = self.s.call("task.create", "bad import", "")
            st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", task_id=task, **q), body=body)
            self.assertEqual(st, status, q)
            rec = self.s.call("task.get_record", task)
            self.assertEqual(rec["status"], "failure", q)
            self.assertEqual(rec["error_info"][0], code, rec)
            self.assertEqual(set(self.s.call("SR.get_VDIs", sr)), before, "no VDI left by %r" % q)
            return rec["error_info"]
        fails(400, "VDI_MISSING")
        fails(400, "HANDLE_INVALID", sr_id="OpaqueRef:nope")
        fails(400, "UUID_INVALID", sr_uuid="nope")
        fails(404, "INTERNAL_ERROR", sr_id=sr, format="tar")
        self.assertIn("VHD", fails(400, "INTERNAL_ERROR", sr_id=sr, format="vhd")[1])
        self.assertIn("QCOW2", fails(400, "INTERNAL_ERROR", sr_id=sr, format="qcow2")[1])
        iso = [r for r, x in self.s.call("SR.get_all_records").items() if x["type"] == "iso"][0]
        fails(400, "SR_OPERATION_NOT_SUPPORTED", sr_id=iso)

    def put_failing(self, path, body):
        """An import that fails once its 200 is out (the body is read after it, as XAPI
        does): the outcome is the task's. The client may see its upload cut."""
        try:
            st, _, _ = self.gw.request("PUT", path, body=body)
            self.assertEqual(st, 200)
        except ConnectionError:
            pass

    def test_errors(self):
        v = self.vdi(size=MiB)
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", vdi=v, format="tar"), body=b"x")
        self.assertEqual(st, 404)
        st, _, _ = self.gw.request("PUT", self.url("/import_raw_vdi", vdi="OpaqueRef:nope"), body=b"x")
        self.assertEqual(st, 400)
        st, _, _ = self.gw.request("PUT", "/import_raw_vdi?vdi=%s" % v, body=b"x")
        self.assertEqual(st, 401)
        # more than the disk holds: the task fails, the disk keeps its size
        task = self.s.call("task.create", "too big", "")
        self.put_failing(self.url("/import_raw_vdi", vdi=v, task_id=task), b"y" * (2 * MiB))
        rec = self.s.call("task.get_record", task)
        self.assertEqual(rec["status"], "failure")
        self.assertEqual(rec["error_info"][0], "VDI_TOO_SMALL")
        # a qcow2 that points at a host file is refused
        tmp = os.path.join(self.gw.state_dir, "evil.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/hostname",
                        tmp, "1M"], check=True)
        task = self.s.call("task.create", "evil", "")
        with open(tmp, "rb") as f:
            self.put_failing(self.url("/import_raw_vdi", vdi=v, format="qcow2", task_id=task),
                             f.read())
        rec = self.s.call("task.get_record", task)
        self.assertEqual(rec["status"], "failure")
        self.s.call("VDI.destroy", v)


HTTP_PORT = free_port()


@sim_only
class XoUploadTest(StorageBase):
    """XO's putResource: Content-Length 1 PiB when the size is unknown, then it closes its
    sending side after the last byte; that end is the end of the data, not a truncation."""
    extra_args = ["--http", "127.0.0.1:%d" % HTTP_PORT]

    def test_pib_length_and_close(self):
        import socket
        import urllib.parse
        v = self.vdi(size=4 * MiB)
        data = os.urandom(2 * MiB)
        c = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=60)
        q = urllib.parse.urlencode({"session_id": self.s.ref, "vdi": v, "format": "raw"})
        c.sendall(("PUT /import_raw_vdi/?%s HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: 1125899906842624\r\n\r\n" % q).encode() + data)
        c.shutdown(socket.SHUT_WR)
        resp = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            resp += b
        c.close()
        self.assertTrue(resp.startswith(b"HTTP/1.1 200"), resp[:200])
        st, _, body = self.gw.request("GET", "/export_raw_vdi?" + urllib.parse.urlencode(
            {"session_id": self.s.ref, "vdi": v}))
        self.assertEqual(body[:len(data)], data)
        self.s.call("VDI.destroy", v)

    def test_status_line_before_the_body(self):
        """xe's HttpPut (HTTP/1.0) sends the body only once it has read the status line, as
        XAPI's import_raw_vdi answers 200 with task-id before reading; the answer ends (the
        connection closes) once the import is done."""
        import socket
        import urllib.parse
        v = self.vdi(size=4 * MiB)
        data = os.urandom(3 * MiB)
        task = self.s.call("task.create", "xe-style import", "")
        c = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=60)
        q = urllib.parse.urlencode({"session_id": self.s.ref, "task_id": task, "vdi": v})
        c.sendall(("PUT /import_raw_vdi?%s HTTP/1.0\r\nContent-length: %d\r\n\r\n"
                   % (q, len(data))).encode())
        f = c.makefile("rb")
        self.assertEqual(f.readline(), b"HTTP/1.0 200 OK\r\n")
        headers = []
        while True:
            line = f.readline()
            if line == b"\r\n":
                break
            headers.append(line.decode().strip().lower())
        self.assertIn("task-id: %s" % task.lower(), headers)
        self.assertIn("connection: close", headers)
        c.sendall(data)
        self.assertEqual(f.read(), b"")            # the end of the answer: the import is done
        c.close()
        self.assertEqual(self.s.call("task.get_status", task), "success")
        st, _, body = self.gw.request("GET", "/export_raw_vdi?" + urllib.parse.urlencode(
            {"session_id": self.s.ref, "vdi": v}))
        self.assertEqual(body[:len(data)], data)
        self.s.call("VDI.destroy", v)
        self.s.call("task.destroy", task)


    def test_imports_into_one_vdi_take_turns(self):
        """A second import into a VDI waits for the first (two qemu-nbd on one image: the
        second fails on its lock). XO's putResource does this by itself: its empty probe PUT
        is still being read when its real upload of the same VDI arrives."""
        import socket
        import threading
        import urllib.parse
        v = self.vdi(size=4 * MiB)
        first, second = os.urandom(2 * MiB), os.urandom(3 * MiB)
        q = urllib.parse.urlencode({"session_id": self.s.ref, "vdi": v})
        c = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=60)
        c.sendall(("PUT /import_raw_vdi?%s HTTP/1.0\r\nContent-Length: %d\r\n\r\n"
                   % (q, len(first))).encode() + first[:MiB])
        f = c.makefile("rb")
        self.assertEqual(f.readline(), b"HTTP/1.0 200 OK\r\n")
        answer = {}
        t = threading.Thread(target=lambda: answer.update(st=self.gw.request(
            "PUT", "/import_raw_vdi?" + q, body=second, timeout=120)[0]))
        t.start()
        t.join(scaled(1))
        self.assertTrue(t.is_alive(), "the second import waits while the first runs")
        c.sendall(first[MiB:])
        self.assertTrue(f.read().endswith(b"\r\n"))
        c.close()
        t.join(scaled(60))
        self.assertEqual(answer.get("st"), 200)
        st, _, body = self.gw.request("GET", "/export_raw_vdi?" + q)
        self.assertEqual(body, second + b"\0" * MiB)
        self.s.call("VDI.destroy", v)


@sim_only
class LocalSrDirTest(unittest.TestCase):
    def test_local_sr_where_configured(self):
        import tempfile
        d = os.path.join(tempfile.mkdtemp(prefix="xg-e2e-sr-"), "disks")
        with Gateway(sim_vms=0, extra_args=["--local-sr", d]) as gw:
            s = XapiSession(gw)
            sr = s.call("pool.get_default_SR", s.call("pool.get_all")[0])
            pbd = s.call("SR.get_PBDs", sr)[0]
            self.assertEqual(s.call("PBD.get_device_config", pbd), {"location": d})
            v = s.call("VDI.create", {"SR": sr, "virtual_size": str(MiB), "type": "user",
                                      "sharable": False, "read_only": False, "other_config": {},
                                      "name_label": "here", "name_description": ""})
            self.assertTrue(os.path.exists(os.path.join(d, s.call("VDI.get_location", v) + ".qcow2")))
        shutil.rmtree(os.path.dirname(d))


@sim_only
class PersistenceTest(unittest.TestCase):
    def test_kill9_keeps_storage(self):
        with Gateway(sim_vms=0) as gw:
            s = XapiSession(gw)
            sr = s.call("pool.get_default_SR", s.call("pool.get_all")[0])
            v = s.call("VDI.create", {"SR": sr, "virtual_size": str(MiB), "type": "user",
                                      "sharable": False, "read_only": False, "other_config": {},
                                      "name_label": "kept", "name_description": ""})
            vm = s.call("VM.create", vm_create_record("e2e-persist"))
            b = s.call("VBD.create", {"VM": vm, "VDI": v, "userdevice": "0", "bootable": True,
                                      "mode": "RW", "type": "Disk", "empty": False,
                                      "other_config": {}, "qos_algorithm_type": "",
                                      "qos_algorithm_params": {}})
            snap = s.call("VDI.snapshot", v, {})
            gw.kill9()
            gw.start()
            s = XapiSession(gw)
            self.assertEqual(s.call("pool.get_default_SR", s.call("pool.get_all")[0]), sr)
            self.assertEqual(s.call("VDI.get_name_label", v), "kept")
            self.assertEqual(s.call("VM.get_VBDs", vm), [b])
            self.assertEqual(s.call("VDI.get_snapshot_of", snap), v)
            self.assertTrue(s.call("PBD.get_currently_attached", s.call("SR.get_PBDs", sr)[0]))
            self.assertEqual(len(s.call("SR.get_all")), 2)


if __name__ == "__main__":
    unittest.main()
