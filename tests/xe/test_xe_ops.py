"""The real xe against the gateway (sim driver): the generic -param-set/-add/-remove/-clear
commands and the specific commands (vm-start ... vm-install, vm-uninstall's prompt, task-cancel,
host-cpu-info), each checked against the API's view, with xe's exact error texts and exit
status, over plain HTTP and TLS (stunnel)."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from gateway import Gateway, XapiSession, free_port, scaled, sim_only, wait_until
from xe_client import XE, XeClient

# a plugin with XAPI's ABI (XenAPIPlugin's convention by hand) that shows what it got
ECHO_PLUGIN = """#!/usr/bin/env python3
import json, sys, xmlrpc.client
(session, args), fn = xmlrpc.client.loads(sys.argv[1])
sys.stdout.write(xmlrpc.client.dumps((json.dumps({"fn": fn, "args": args}),), methodresponse=True))
"""
INTERNAL = ("The server failed to handle your request, due to an internal error. The given "
            "message may give details useful for debugging the problem.\n")
BAD_POWER = ("You attempted an operation on a VM that was not in an appropriate power state at "
             "the time; for example, you attempted to start a VM that was already running. The "
             "parameters returned are the VM's handle, and the expected and actual VM state at "
             "the time of the call.\n")


@sim_only
@unittest.skipUnless(XE and os.access(XE, os.X_OK), "xe not built (ctest fixture xe_build)")
class XeOps(XeClient, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http_port = free_port()
        cls.plugins = tempfile.mkdtemp(prefix="xg-xe-plugins-")
        echo = os.path.join(cls.plugins, "echo.py")
        with open(echo, "w") as f:
            f.write(ECHO_PLUGIN)
        os.chmod(echo, 0o755)
        cls.gw = Gateway(sim_vms=4, sim_delay_ms=20,
                         extra_args=["--http", "127.0.0.1:%d" % cls.http_port,
                                     "--plugin-dir", cls.plugins]).start()
        cls.s = XapiSession(cls.gw)

    @classmethod
    def tearDownClass(cls):
        cls.s.logout()
        cls.gw.close()
        shutil.rmtree(cls.plugins, ignore_errors=True)


    def vm(self, uuid):
        return self.s.call("VM.get_record", self.s.call("VM.get_by_uuid", uuid))

    def new_vm(self, name):
        """A halted guest of our own (a clone of a halted sim guest)."""
        recs = self.s.call("VM.get_all_records")
        src = next(r for ref, r in sorted(recs.items(), key=lambda x: x[1]["uuid"])
                   if not r["is_a_template"] and not r["is_control_domain"] and
                   not r["is_a_snapshot"] and r["power_state"] == "Halted")
        out = self.ok("vm-clone", "uuid=" + src["uuid"], "new-name-label=" + name)
        uuid = out.strip()
        self.assertEqual(self.vm(uuid)["name_label"], name)
        return uuid

    # ---- -param-set / -add / -remove / -clear ---------------------------------------
    def test_param_set_fields_and_maps(self):
        u = self.new_vm("xe-param-set")
        for tls in (False, True):
            self.assertEqual(self.ok("vm-param-set", "uuid=" + u, "name-description=d %s" % tls,
                                     "other-config:xe-key=v1", "VCPUs-max=3", tls=tls), "")
            r = self.vm(u)
            self.assertEqual(r["name_description"], "d %s" % tls)
            self.assertEqual(r["other_config"]["xe-key"], "v1")
            self.assertEqual(r["VCPUs_max"], "3")
        # replacing a key, and a memory size with a unit
        self.ok("vm-param-set", "uuid=" + u, "other-config:xe-key=v2",
                "memory-static-max=2GiB")
        r = self.vm(u)
        self.assertEqual(r["other_config"]["xe-key"], "v2")
        self.assertEqual(r["memory_static_max"], str(2 << 30))
        self.assertEqual(self.ok("vm-param-get", "uuid=" + u, "param-name=other-config",
                                 "param-key=xe-key"), "v2\n")
        # xe's errors
        cases = [
            (("power-state=halted",), "Error: Field 'power-state' is read-only.\n"),
            (("other-config=x",),
             "Error: Field 'other-config' is a map or set. use the 'name:key=value' syntax.\n"),
            (("tags:x=y",), "Error: Cannot param-set on set fields\n"),
            (("VCPUs-max=many",), "Error: Parameter VCPUs-max must be an integer\n"),
            (("is-a-template=maybe",),
             "Error: Parameter is-a-template must be a boolean (true or false)\n"),
        ]
        for args, err in cases:
            rc, out, e = self.xe("vm-param-set", "uuid=" + u, *args)
            self.assertEqual((rc, e), (1, err), args)
        rc, out, e = self.xe("vm-param-set", "uuid=" + u, "frob=1")
        self.assertEqual((rc, e), (1, "Error code: Missing parameter\nError parameters: frob\n"))
        rc, out, e = self.xe("vm-param-set", "uuid=nope", "name-label=x")
        self.assertEqual((rc, e), (1, "The uuid you supplied was invalid.\ntype: VM\nuuid: nope\n"))
        self.ok("vm-destroy", "uuid=" + u)

    def test_param_add_remove_clear(self):
        u = self.new_vm("xe-param-add")
        self.ok("vm-param-add", "uuid=" + u, "param-name=tags", "param-key=blue")
        self.ok("vm-param-add", "uuid=" + u, "param-name=tags", "param-key=red", tls=True)
        self.assertEqual(sorted(self.vm(u)["tags"]), ["blue", "red"])
        self.ok("vm-param-add", "uuid=" + u, "param-name=other-config", "a=1", "b=2")
        oc = self.vm(u)["other_config"]
        self.assertEqual((oc["a"], oc["b"]), ("1", "2"))
        self.assertEqual(self.ok("vm-list", "tags:contains=blue", "--minimal"), u + "\n")
        self.ok("vm-param-remove", "uuid=" + u, "param-name=tags", "param-key=blue")
        self.ok("vm-param-remove", "uuid=" + u, "param-name=other-config", "param-key=a")
        r = self.vm(u)
        self.assertEqual((r["tags"], "a" in r["other_config"]), (["red"], False))
        rc, out, e = self.xe("vm-param-remove", "uuid=" + u, "param-name=tags",
                             "param-key=green")
        self.assertEqual((rc, e), (1, "Error: Key green is not in the set\n"))
        rc, out, e = self.xe("vm-param-remove", "uuid=" + u, "param-name=other-config",
                             "param-key=zz")
        self.assertEqual((rc, e), (1, "Error: Key zz is not in map\n"))
        rc, out, e = self.xe("vm-param-add", "uuid=" + u, "param-name=tags")
        self.assertEqual((rc, e), (1, "Error: When adding a key to a set, use the syntax: "
                                      "*-param-add param-name=<name> param-key=<key>\n"))
        rc, out, e = self.xe("vm-param-add", "uuid=" + u, "param-name=name-label",
                             "param-key=x")
        self.assertEqual((rc, e), (1, "Error: Can only add to parameters of type Set or Map\n"))
        rc, out, e = self.xe("vm-param-add", "uuid=" + u, "param-name=allowed-operations",
                             "param-key=x")
        self.assertEqual((rc, e), (1, "Error: Parameter is read-only\n"))
        self.ok("vm-param-clear", "uuid=" + u, "param-name=tags")
        self.ok("vm-param-clear", "uuid=" + u, "param-name=other-config")
        self.ok("vm-param-clear", "uuid=" + u, "param-name=name-description")
        r = self.vm(u)
        self.assertEqual((r["tags"], r["other_config"], r["name_description"]), ([], {}, ""))
        rc, out, e = self.xe("vm-param-clear", "uuid=" + u, "param-name=power-state")
        self.assertEqual((rc, e), (1, "Error: Can only clear RW parameters\n"))
        rc, out, e = self.xe("vm-param-remove", "uuid=" + u, "param-name=tags")
        self.assertEqual((rc, e), (1, "Required parameter not found: param-key\n"
                                      "For usage run: 'xe help'\n"))
        self.ok("vm-destroy", "uuid=" + u)

    def test_generic_set_on_other_classes(self):
        (h,) = self.s.call("host.get_all_records").values()
        self.ok("host-param-set", "uuid=" + h["uuid"], "other-config:xe=1", tls=True)
        self.assertEqual(self.s.call("host.get_all_records").popitem()[1]["other_config"]["xe"],
                         "1")
        self.ok("host-param-remove", "uuid=" + h["uuid"], "param-name=other-config",
                "param-key=xe")
        (p,) = self.s.call("pool.get_all_records").values()
        self.ok("pool-param-set", "uuid=" + p["uuid"], "name-label=xe-pool")
        self.assertEqual(self.ok("pool-list", "params=name-label", "--minimal"), "xe-pool\n")
        # every class xe can change has its commands listed for bash completion
        names = self.ok("help", "--minimal", "--all").strip().split(",")
        for n in ("vm-param-set", "vm-param-add", "vm-param-remove", "vm-param-clear",
                  "host-param-set", "network-param-set", "sr-param-set", "vdi-param-add"):
            self.assertIn(n, names)
        self.assertNotIn("vtpm-param-set", names)       # nothing settable there

    # ---- VM lifecycle through selectors ---------------------------------------------
    def test_lifecycle_by_name_and_uuid(self):
        u = self.new_vm("xe-life")
        for tls in (False, True):
            self.ok("vm-start", "vm=xe-life", tls=tls)
            self.assertEqual(self.vm(u)["power_state"], "Running")
            rc, out, e = self.xe("vm-start", "uuid=" + u, tls=tls)
            self.assertEqual((rc, out), (1, ""))
            self.assertEqual(e, BAD_POWER + "vm: %s (xe-life)\nexpected: halted\nactual: running\n"
                             % u)
            self.ok("vm-pause", "vm=" + u, tls=tls)
            self.assertEqual(self.vm(u)["power_state"], "Paused")
            self.ok("vm-unpause", "uuid=" + u, tls=tls)
            self.ok("vm-suspend", "vm=xe-life", tls=tls)
            self.assertEqual(self.vm(u)["power_state"], "Suspended")
            self.ok("vm-resume", "vm=xe-life", tls=tls)
            self.assertEqual(self.vm(u)["power_state"], "Running")
            self.ok("vm-reboot", "vm=xe-life", tls=tls)
            self.ok("vm-reboot", "vm=xe-life", "--force", tls=tls)
            self.ok("vm-shutdown", "vm=xe-life", *(["--force"] if tls else []), tls=tls)
            self.assertEqual(self.vm(u)["power_state"], "Halted")
        self.ok("vm-start", "vm=xe-life", "paused=true")
        self.assertEqual(self.vm(u)["power_state"], "Paused")
        rc, out, e = self.xe("vm-reset-powerstate", "vm=xe-life")
        self.assertEqual((rc, e), (1, "Error: This operation is dangerous and may cause data "
                                      "loss. This operation must be forced (use --force).\n"))
        self.ok("vm-shutdown", "vm=xe-life", "--force")
        self.ok("vm-destroy", "uuid=" + u)

    def test_selector_errors_and_multiple(self):
        rc, out, e = self.xe("vm-start", "vm=no-such-vm")
        self.assertEqual((rc, out, e), (1, "", "Error: No matching VMs found\n"))
        rc, out, e = self.xe("vm-shutdown", "frob=1")
        self.assertEqual((rc, e), (1, "Error: Parameter 'frob' is not a field of the VM class. "
                                      "Failed to select VM for operation.\n"))
        a, b = self.new_vm("xe-multi"), self.new_vm("xe-multi")
        rc, out, e = self.xe("vm-start", "name-label=xe-multi")
        self.assertEqual((rc, e), (1, "Error: Multiple matches VMs found. --multiple required "
                                      "to complete the operation\n"))
        self.ok("vm-start", "vm=" + a)
        # one of the two is running already: the other starts, the failure is listed on stdout
        rc, out, e = self.xe("vm-start", "name-label=xe-multi", "--multiple")
        self.assertEqual((rc, e), (1, ""))
        self.assertEqual(out, "operation failed on %s: %svm: %s (xe-multi)\nexpected: halted\n"
                         "actual: running\n" % (a, BAD_POWER, a))
        self.assertEqual(self.vm(b)["power_state"], "Running")
        self.ok("vm-shutdown", "name-label=xe-multi", "--multiple", "--force")
        self.assertEqual({self.vm(a)["power_state"], self.vm(b)["power_state"]}, {"Halted"})
        # templates are not picked by lifecycle commands, the control domain not by shutdown
        rc, out, e = self.xe("vm-shutdown", "is-control-domain=true")
        self.assertEqual((rc, e), (1, "Error: No matching VMs found\n"))
        for u in (a, b):
            self.ok("vm-destroy", "uuid=" + u)

    def test_memory_and_vcpus(self):
        u = self.new_vm("xe-mem")
        self.ok("vm-memory-limits-set", "vm=xe-mem", "static-min=256MiB", "static-max=1GiB",
                "dynamic-min=512MiB", "dynamic-max=1GiB")
        r = self.vm(u)
        self.assertEqual([r[k] for k in ("memory_static_min", "memory_static_max",
                                          "memory_dynamic_min", "memory_dynamic_max")],
                         [str(256 << 20), str(1 << 30), str(512 << 20), str(1 << 30)])
        self.ok("vm-memory-dynamic-range-set", "vm=xe-mem", "min=600MiB", "max=700MiB")
        r = self.vm(u)
        self.assertEqual((r["memory_dynamic_min"], r["memory_dynamic_max"]),
                         (str(600 << 20), str(700 << 20)))
        self.ok("vm-memory-target-set", "vm=xe-mem", "target=800MiB")
        self.assertEqual(self.vm(u)["memory_dynamic_max"], str(800 << 20))
        self.ok("vm-memory-static-range-set", "vm=xe-mem", "min=128MiB", "max=2GiB")
        self.assertEqual(self.vm(u)["memory_static_max"], str(2 << 30))
        self.ok("vm-memory-set", "vm=xe-mem", "memory=1GiB")
        self.assertEqual(self.vm(u)["memory_dynamic_max"], str(1 << 30))
        rc, out, e = self.xe("vm-memory-set", "vm=xe-mem", "memory=lots")
        self.assertEqual((rc, e), (1, "Error: Failed to parse field 'memory': expecting an "
                                      "integer (possibly with suffix KiB, MiB, GiB, TiB), got "
                                      "'lots'\n"))
        rc, out, e = self.xe("vm-memory-set", "vm=xe-mem")
        self.assertEqual((rc, e), (1, "Required parameter not found: memory\n"
                                      "For usage run: 'xe help'\n"))
        self.ok("vm-param-set", "uuid=" + u, "VCPUs-max=4", "VCPUs-at-startup=1")
        self.ok("vm-start", "vm=xe-mem")
        self.ok("vm-vcpu-hotplug", "vm=xe-mem", "new-vcpus=2")
        self.assertEqual(self.vm(u)["VCPUs_at_startup"], "2")
        rc, out, e = self.xe("vm-vcpu-hotplug", "vm=xe-mem", "new-vcpus=two")
        self.assertEqual((rc, e), (1, "Error: Failed to parse parameter 'new-vcpus': expecting "
                                      "an integer\n"))
        self.ok("vm-shutdown", "vm=xe-mem", "--force")
        self.ok("vm-destroy", "uuid=" + u)

    def test_clone_copy_snapshot_minimal(self):
        u = self.new_vm("xe-src")
        out = self.ok("vm-clone", "vm=xe-src", "new-name-label=xe-c",
                      "new-name-description=cloned", "--minimal", tls=True)
        c = out.strip()
        self.assertEqual((self.vm(c)["name_label"], self.vm(c)["name_description"]),
                         ("xe-c", "cloned"))
        out = self.ok("vm-copy", "vm=xe-src", "new-name-label=xe-cp")
        cp = out.strip()
        self.assertEqual(self.vm(cp)["name_label"], "xe-cp")
        out = self.ok("vm-snapshot", "vm=xe-src", "new-name-label=xe-snap")
        snap = self.vm(out.strip())
        self.assertTrue(snap["is_a_snapshot"])
        self.assertEqual(self.ok("snapshot-list", "name-label=xe-snap", "--minimal"),
                         out)
        self.assertEqual(self.ok("snapshot-list", "name-label=xe-snap",
                                 "params=snapshot-of,name-label"),
                         "name-label ( RW)     : xe-snap\n    snapshot-of ( RO): %s\n\n\n" % u)
        # snapshot-revert: the VM comes back as the snapshot was (its other-config)
        self.ok("vm-param-set", "uuid=" + u, "other-config:after=snapshot")
        self.assertEqual(self.ok("snapshot-revert", "snapshot-uuid=" + snap["uuid"]), "")
        self.assertNotIn("after", self.vm(u)["other_config"])
        self.assertEqual(self.ok("snapshot-revert", "uuid=" + snap["uuid"], tls=True), "")
        rc, o, e = self.xe("snapshot-revert", "uuid=" + u)
        self.assertEqual((rc, o, e), (1, "", INTERNAL + "message: Failure: This operation can only "
                                         "be performed on a VM snapshot. %s is not a VM "
                                         "snapshot.\n" % u))
        rc, o, e = self.xe("snapshot-revert")
        self.assertEqual((rc, o, e), (1, "", INTERNAL + "message: Failure: Required parameter "
                                         "not found: snapshot-uuid or uuid.\n"))
        rc, o, e = self.xe("snapshot-revert", "snapshot-uuid=nope")
        self.assertEqual((rc, o, e), (1, "", "The uuid you supplied was invalid.\ntype: VM\n"
                                         "uuid: nope\n"))
        # template-list: exact record layout with params=
        t = sorted((r for r in self.s.call("VM.get_all_records").values()
                    if r["is_a_template"] and not r["is_a_snapshot"]), key=lambda r: r["uuid"])[0]
        self.assertEqual(self.ok("template-list", "uuid=" + t["uuid"], "params=name-label,uuid"),
                         "uuid ( RO)          : %s\n    name-label ( RW): %s\n\n\n"
                         % (t["uuid"], t["name_label"]))
        for v in (c, cp):
            self.ok("vm-destroy", "uuid=" + v)
        self.ok("vm-uninstall", "vm=xe-src", "--force")

    def test_install_and_uninstall_prompt(self):
        tpls = [r for r in self.s.call("VM.get_all_records").values()
                if r["is_a_template"] and not r["is_a_snapshot"]]
        self.assertTrue(tpls)
        t = sorted(tpls, key=lambda r: r["uuid"])[0]
        by_name = [r for r in tpls if r["name_label"] == t["name_label"]]
        out = self.ok("vm-install", "template=" + t["uuid"], "new-name-label=xe-inst")
        u = out.strip()
        r = self.vm(u)
        self.assertEqual((r["name_label"], r["name_description"], r["is_a_template"]),
                         ("xe-inst", "Installed via xe CLI", False))
        if len(by_name) == 1:
            u2 = self.ok("vm-install", "template=" + t["name_label"],
                         "new-name-label=xe-inst2", tls=True).strip()
            self.assertEqual(self.vm(u2)["name_label"], "xe-inst2")
            self.ok("vm-uninstall", "uuid=" + u2, "--force")
        # sr-uuid=: a full copy into that SR, and the template's disks provisioned there
        tpl = self.s.call("VM.clone", self.s.call("VM.get_by_uuid", t["uuid"]), "xe-tpl-disks")
        self.s.call("VM.add_to_other_config", tpl, "disks",
                    '<provision><disk device="0" size="8388608" sr="" bootable="true" '
                    'type="system"/></provision>')
        sr = self.s.call("pool.get_default_SR", self.s.call("pool.get_all")[0])
        sr_uuid = self.s.call("SR.get_uuid", sr)
        u3 = self.ok("vm-install", "template-uuid=" + self.s.call("VM.get_uuid", tpl),
                     "new-name-label=xe-inst-sr", "sr-uuid=" + sr_uuid).strip()
        vdis = [self.s.call("VBD.get_VDI", v) for v in self.vm(u3)["VBDs"]]
        self.assertEqual(len(vdis), 1)
        self.assertEqual(self.s.call("VDI.get_SR", vdis[0]), sr)
        self.ok("vm-uninstall", "uuid=" + u3, "--force")
        self.s.call("VM.destroy", tpl)
        rc, out, e = self.xe("vm-install", "template=no-such-template", "new-name-label=x")
        self.assertEqual((rc, e), (1, "Error: No templates matched\n"))
        rc, out, e = self.xe("vm-install", "new-name-label=x")
        self.assertEqual((rc, e), (1, "Error: Template must be specified by parameter "
                                      "'template-uuid', 'template-name', 'template-name-label' "
                                      "or 'template'\n"))
        head = "The following items are about to be destroyed\nVM : %s (xe-inst)\n" % u
        # answered no: nothing goes
        rc, out, e = self.xe("vm-uninstall", "vm=xe-inst", stdin="no\n")
        self.assertEqual((rc, e), (0, ""))
        self.assertTrue(out.startswith(head), out)
        self.assertTrue(out.endswith("Type 'yes' to continue\nAborted (you typed: 'no')\n"), out)
        self.assertEqual(self.vm(u)["name_label"], "xe-inst")
        # answered yes (over TLS): the VM and its owned disks go
        disks = [self.s.call("VBD.get_VDI", v) for v in self.vm(u)["VBDs"]]
        rc, out, e = self.xe("vm-uninstall", "vm=" + u, stdin=" YES \n", tls=True)
        self.assertEqual((rc, e), (0, ""))
        self.assertTrue(out.startswith(head), out)
        self.assertTrue(out.endswith("Type 'yes' to continue\nAll objects destroyed\n"), out)
        self.assertNotIn(u, [r["uuid"] for r in self.s.call("VM.get_all_records").values()])
        left = self.s.call("VDI.get_all")
        for d in disks:
            self.assertNotIn(d, left)

    def test_storage_and_network_commands(self):
        u = self.new_vm("xe-dev")
        vm = self.s.call("VM.get_by_uuid", u)
        pool = self.s.call("pool.get_all")[0]
        sr = self.s.call("pool.get_default_SR", pool)
        sr_uuid = self.s.call("SR.get_uuid", sr)
        self.assertIn(sr_uuid, self.ok("sr-list", "--minimal").strip().split(","))
        out = self.ok("sr-list", "uuid=" + sr_uuid)
        self.assertIn("name-label ( RW): %s\n" % self.s.call("SR.get_name_label", sr), out)
        # vdi-create, then vbd-create of it on our VM
        vdi_u = self.ok("vdi-create", "sr-uuid=" + sr_uuid, "name-label=xe-disk",
                        "virtual-size=64MiB", "sm-config:xe=1").strip()
        vdi = self.s.call("VDI.get_by_uuid", vdi_u)
        r = self.s.call("VDI.get_record", vdi)
        self.assertEqual((r["name_label"], r["virtual_size"], r["type"], r["sm_config"]["xe"]),
                         ("xe-disk", str(64 << 20), "user", "1"))
        self.assertEqual(self.ok("vdi-list", "sr-uuid=" + sr_uuid, "name-label=xe-disk",
                                 "--minimal"), vdi_u + "\n")
        vbd_u = self.ok("vbd-create", "vm-uuid=" + u, "vdi-uuid=" + vdi_u, "device=3",
                        "mode=ro", tls=True).strip()
        r = self.s.call("VBD.get_record", self.s.call("VBD.get_by_uuid", vbd_u))
        self.assertEqual((r["VM"], r["VDI"], r["userdevice"], r["mode"], r["type"]),
                         (vm, vdi, "3", "RO", "Disk"))
        self.assertIn(vbd_u, self.ok("vbd-list", "vm-uuid=" + u, "--minimal").strip().split(","))
        rc, out, e = self.xe("vbd-create", "vm-uuid=" + u, "device=4")
        self.assertEqual((rc, e), (1, "Error: Empty VBDs can only be made for type=CD\n"))
        rc, out, e = self.xe("vbd-create", "vm-uuid=" + u, "device=5", "type=cd")
        self.assertEqual((rc, e), (1, "Read/write CDs are not supported\n"))
        cd_u = self.ok("vbd-create", "vm-uuid=" + u, "device=5", "type=cd", "mode=RO").strip()
        self.assertTrue(self.s.call("VBD.get_empty", self.s.call("VBD.get_by_uuid", cd_u)))
        # records.ml: an empty VBD's vdi-name-label is <EMPTY>, its vdi-uuid names no VDI
        self.assertEqual(self.ok("vbd-param-get", "uuid=" + cd_u, "param-name=vdi-name-label"),
                         "<EMPTY>\n")
        self.assertEqual(self.ok("vbd-param-get", "uuid=" + cd_u, "param-name=vdi-uuid"),
                         "<not in database>\n")
        self.assertRegex(self.ok("vbd-param-list", "uuid=" + cd_u),
                         r"\n *vdi-name-label \( RO\): <EMPTY>\n")
        self.assertEqual(self.ok("vbd-param-get", "uuid=" + vbd_u, "param-name=vdi-name-label"),
                         "xe-disk\n")
        rc, out, e = self.xe("vbd-create", "vm-uuid=" + u, "device=6", "mode=wo")
        self.assertEqual((rc, e), (1, 'Error: Unknown mode: wo (should be "ro" or "rw"\n'))
        # vm-disk-add: a disk the VM owns (vm-uninstall takes it along)
        before = set(self.s.call("VM.get_VBDs", vm))
        self.ok("vm-disk-add", "vm=xe-dev", "disk-size=32MiB", "device=7")
        (new,) = set(self.s.call("VM.get_VBDs", vm)) - before
        nr = self.s.call("VBD.get_record", new)
        self.assertEqual((nr["userdevice"], "owner" in nr["other_config"]), ("7", True))
        self.assertEqual(self.s.call("VDI.get_name_label", nr["VDI"]), "Created by xe")
        # vif-create on a network; network-list and vif-list with xe's column names
        (net_u,) = [n for n in self.ok("network-list", "--minimal").strip().split(",")
                    if self.s.call("network.get_bridge", self.s.call("network.get_by_uuid", n))
                    == "xenbr0"]
        self.assertIn("bridge ( RO): xenbr0", self.ok("network-list", "uuid=" + net_u))
        vif_u = self.ok("vif-create", "vm-uuid=" + u, "network-uuid=" + net_u,
                        "device=2").strip()
        r = self.s.call("VIF.get_record", self.s.call("VIF.get_by_uuid", vif_u))
        self.assertEqual((r["VM"], r["device"]), (vm, "2"))
        self.assertRegex(r["MAC"], "^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
        out = self.ok("vif-list", "vm-uuid=" + u)
        self.assertIn("network-uuid ( RO): %s\n" % net_u, out)
        self.assertIn("vm-uuid ( RO): %s\n" % u, out)
        mac = "02:00:00:00:00:42"
        self.ok("vif-create", "vm-uuid=" + u, "network-uuid=" + net_u, "device=3", "mac=" + mac)
        self.assertEqual(self.ok("vif-list", "MAC=" + mac, "params=device", "--minimal"), "3\n")
        self.ok("vm-uninstall", "vm=xe-dev", "--force")
        left = self.s.call("VDI.get_all")
        self.assertNotIn(nr["VDI"], left)          # owned: destroyed with the VM
        self.assertIn(vdi, left)                   # attached by vbd-create: kept
        self.s.call("VDI.destroy", vdi)

    def test_event_wait(self):
        u = self.new_vm("xe-ev")
        # already true: returns at once
        self.assertEqual(self.ok("event-wait", "class=vm", "name-label=xe-ev",
                                 "power-state=halted"), "")
        self.assertEqual(self.ok("event-wait", "class=vm", "uuid=" + u,
                                 "power-state=/=running"), "")
        rc, out, e = self.xe("event-wait", "class=vm", "frob=1")
        self.assertEqual((rc, e), (1, "Error: key missing: frob\n"))
        rc, out, e = self.xe("event-wait", "class=frob")
        self.assertEqual((rc, e), (1, "Error: Cli listening for class 'frob' not currently "
                                      "implemented\n"))
        # not yet true: xe waits until a change makes it true
        env = dict(os.environ, HOME=self.gw._tmp)
        p = subprocess.Popen([XE, "event-wait", "class=vm", "uuid=" + u, "power-state=running",
                              "-s", "127.0.0.1", "-p", str(self.http_port), "-u", "root",
                              "-pw", self.gw.password], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            with self.assertRaises(subprocess.TimeoutExpired):
                p.wait(timeout=1.5)            # still waiting: the VM is halted
            self.s.call("VM.start", self.s.call("VM.get_by_uuid", u), False, False)
            out, err = p.communicate(timeout=scaled(60))
            self.assertEqual((p.returncode, out, err), (0, "", ""))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.ok("vm-shutdown", "uuid=" + u, "--force")
        self.ok("vm-destroy", "uuid=" + u)

    def test_vdi_import_and_export_through_xe(self):
        pool = self.s.call("pool.get_all")[0]
        sr_uuid = self.s.call("SR.get_uuid", self.s.call("pool.get_default_SR", pool))
        size = 4 << 20
        vdi_u = self.ok("vdi-create", "sr-uuid=" + sr_uuid, "name-label=xe-io",
                        "virtual-size=%d" % size).strip()
        for tls in (False, True):
            # HttpPut: xe sends the file once the status line is in, then answers OK; the
            # command ends with the import's task
            data = os.urandom(size)
            src = os.path.join(self.gw._tmp, "xe-in-%s.raw" % tls)
            with open(src, "wb") as f:
                f.write(data)
            self.assertEqual(self.ok("vdi-import", "uuid=" + vdi_u, "filename=" + src,
                                     "format=raw", tls=tls), "")
            # HttpGet: xe writes the disk into a new file, then answers OK
            dst = os.path.join(self.gw._tmp, "xe-out-%s.raw" % tls)
            self.assertEqual(self.ok("vdi-export", "uuid=" + vdi_u, "filename=" + dst,
                                     "format=raw", tls=tls), "")
            with open(dst, "rb") as f:
                self.assertEqual(f.read(), data)
            # an existing file: xe refuses to overwrite it and fails
            rc, out, e = self.xe("vdi-export", "uuid=" + vdi_u, "filename=" + dst, tls=tls)
            self.assertEqual(rc, 1)
            self.assertIn("Operation failed", e)
        # without format=: raw; a shorter file leaves the rest of the disk as it was
        short = os.path.join(self.gw._tmp, "xe-short.raw")
        with open(short, "wb") as f:
            f.write(b"\xab" * 4096)
        self.assertEqual(self.ok("vdi-import", "uuid=" + vdi_u, "filename=" + short), "")
        dst = os.path.join(self.gw._tmp, "xe-out-short.raw")
        self.ok("vdi-export", "uuid=" + vdi_u, "filename=" + dst)
        with open(dst, "rb") as f:
            back = f.read()
        self.assertEqual((back[:4096], back[4096:]), (b"\xab" * 4096, data[4096:]))
        # errors, as xe prints them
        for cmd in ("vdi-import", "vdi-export"):
            rc, out, e = self.xe(cmd, "uuid=nope", "filename=" + short)
            self.assertEqual((rc, out, e), (1, "", "The uuid you supplied was invalid.\n"
                                                  "type: VDI\nuuid: nope\n"), cmd)
        rc, out, e = self.xe("vdi-import", "uuid=" + vdi_u, "filename=" + short, "format=tar")
        self.assertEqual((rc, out, e), (1, "", INTERNAL + "message: Unknown format tar\n"))
        rc, out, e = self.xe("vdi-import", "uuid=" + vdi_u, "filename=" + short + ".none")
        self.assertEqual((rc, out, e), (1, "", "Operation failed. Error: file '%s.none' does "
                                               "not exist\n" % short))
        big = os.path.join(self.gw._tmp, "xe-big.raw")
        with open(big, "wb") as f:
            f.write(b"\xcd" * (size + 512))
        rc, out, e = self.xe("vdi-import", "uuid=" + vdi_u, "filename=" + big)
        self.assertEqual((rc, out, e), (1, "", "The VDI is too small. Please resize it to at "
                                               "least the minimum size.\nvdi: %s (xe-io)\n"
                                               "minimum_size: \n" % vdi_u))
        rc, out, e = self.xe("vdi-import", "uuid=" + vdi_u)
        self.assertEqual((rc, out, e), (1, "", "Required parameter not found: filename\n"
                                               "For usage run: 'xe help'\n"))
        # no task is left behind by the transfers (one whose handler was still running
        # when xe gave up goes when the handler ends)
        wait_until(lambda: not [t for t in self.s.call("task.get_all_records").values()
                                if t["name_label"] in ("VDI export", "VDI import")],
                   timeout=scaled(20), what="the transfer tasks to go")
        self.s.call("VDI.destroy", self.s.call("VDI.get_by_uuid", vdi_u))

    def test_host_call_plugin_loads_files(self):
        """host-call-plugin's args:key:file=path: the server asks xe for the file with Load
        (xe sends only a file named on its command line) and passes its contents."""
        host = self.ok("host-list", "--minimal").strip()
        doc = os.path.join(self.gw._tmp, "plugin-arg.txt")
        text = "line one\nline, two \\ \u00e9\n"
        with open(doc, "w") as f:
            f.write(text)
        call = ("host-call-plugin", "host-uuid=" + host, "plugin=echo.py", "fn=show")
        for tls in (False, True):
            out = self.ok(*call, "args:plain=v=w", "args:doc:file=" + doc, tls=tls)
            self.assertEqual(json.loads(out), {"fn": "show", "args": {"plain": "v=w", "doc": text}})
        # no arguments; --minimal prints the result as a list item (commas escaped)
        self.assertEqual(self.ok(*call, "--minimal"),
                         '{"fn": "show"\\, "args": {}}\n')
        # a key whose suffix is not exactly :file is a plain argument
        out = self.ok(*call, "args:a:b:file=x")
        self.assertEqual(json.loads(out)["args"], {"a:b:file": "x"})
        # xe cannot read the file: it answers Failed
        rc, out, e = self.xe(*call, "args:doc:file=" + doc + ".none")
        self.assertEqual((rc, out, e), (1, "", "Failed to read file %s.none\n" % doc))
        # more than one API request may carry
        big = os.path.join(self.gw._tmp, "plugin-big.bin")
        with open(big, "wb") as f:
            f.write(b"b" * (400 << 10))
        rc, out, e = self.xe(*call, "args:doc:file=" + big)
        self.assertEqual((rc, out, e), (1, "", INTERNAL + "message: Failure: Fatal error: A "
                                              "CLI client tried to transfer more than the "
                                              "maximum allowed of 307200B, aborting.\n"))
        rc, out, e = self.xe("host-call-plugin", "host-uuid=nope", "plugin=echo.py", "fn=f")
        self.assertEqual((rc, out, e), (1, "", "The uuid you supplied was invalid.\n"
                                              "type: host\nuuid: nope\n"))
        rc, out, e = self.xe("host-call-plugin", "host-uuid=" + host, "plugin=nope", "fn=f")
        self.assertEqual((rc, out, e), (1, "", "The requested plug-in could not be found.\n"
                                              "name: nope\n"))
        rc, out, e = self.xe("host-call-plugin", "host-uuid=" + host, "plugin=echo.py")
        self.assertEqual((rc, out, e), (1, "", "Required parameter not found: fn\n"
                                              "For usage run: 'xe help'\n"))

    def test_pool_commands_of_a_pool_of_one(self):
        pool = self.ok("pool-list", "--minimal").strip()
        host = self.ok("host-list", "--minimal").strip()
        self.assertEqual(self.ok("pool-list", "params=master", "--minimal"), host + "\n")
        self.ok("pool-param-set", "uuid=" + pool, "name-label=xe pool", "other-config:k=v")
        self.assertEqual(self.ok("pool-param-get", "uuid=" + pool, "param-name=name-label"),
                         "xe pool\n")
        self.assertEqual(self.s.call("pool.get_other_config", self.s.call("pool.get_all")[0])["k"],
                         "v")
        for tls in (False, True):
            self.assertEqual(self.ok("pool-sync-database", tls=tls), "")
        # the only host is the master already: the handover changes nothing
        self.assertEqual(self.ok("pool-designate-new-master", "host-uuid=" + host), "")
        self.assertEqual(self.ok("pool-param-get", "uuid=" + pool, "param-name=master"),
                         host + "\n")
        rc, out, e = self.xe("pool-designate-new-master", "host-uuid=nope")
        self.assertEqual((rc, out, e), (1, "", "The uuid you supplied was invalid.\n"
                                              "type: host\nuuid: nope\n"))
        # no member in emergency mode to recover
        self.assertEqual(self.ok("pool-recover-slaves"), "")
        self.assertEqual(self.ok("pool-recover-slaves", "--minimal"), "\n")
        self.assertEqual(self.s.call("pool.recover_slaves"), [])
        self.assertEqual(self.ok("pool-emergency-transition-to-master"),
                         "Host agent is already master. Use '--force' to execute the operation "
                         "anyway.\n")
        # what a pool of one cannot do is refused with XAPI's errors
        rc, out, e = self.xe("pool-emergency-transition-to-master", "--force")
        self.assertEqual((rc, out, e), (1, "", "You tried to call a method that does not exist. "
                                              "The method name that you used is echoed.\n"
                                              "method: pool.emergency_transition_to_master\n"))
        rc, out, e = self.xe("pool-join", "master-address=h", "master-username=u",
                             "master-password=p")
        self.assertEqual((rc, out, e), (1, "", "Unknown command: pool-join\n"
                                              "For usage run: 'xe help'\n"))
        self.ok("pool-param-set", "uuid=" + pool, "name-label=")

    def keys(self, out):
        """The keys of a record xe printed, in order, without their ( RW) kind."""
        return [line.split(" (")[0].strip() for line in out.splitlines() if ": " in line]

    def test_records_in_xes_order(self):
        """-param-list prints records.ml's fields in its order and names (idl/xe_records.json),
        hidden ones left out, deprecated ones marked; other fields of the class after them."""
        vm = self.new_vm("xe-order")
        out = self.ok("vm-param-list", "uuid=" + vm)
        keys = self.keys(out)
        self.assertEqual(keys[:16], [
            "uuid", "name-label", "name-description", "user-version", "is-a-template",
            "is-default-template", "is-a-snapshot", "snapshot-of", "snapshots", "snapshot-time",
            "snapshot-info", "parent", "children", "is-control-domain", "power-state",
            "memory-actual"])
        self.assertLess(keys.index("VCPUs-number"), keys.index("os-version"))
        self.assertLess(keys.index("os-version"), keys.index("VBDs"))
        self.assertLess(keys.index("VBDs"), keys.index("tags"))
        self.assertEqual(keys[keys.index("dom-id") - 1], "other-config")
        for hidden in ("transportable-snapshot-id", "NVRAM", "nomigrate"):
            self.assertNotIn(hidden, keys)
        self.assertIn("ha-always-run ( RW) [DEPRECATED]: ", out)
        # a hidden field is still read by -param-get
        rc, got, e = self.xe("vm-param-get", "uuid=" + vm, "param-name=NVRAM")
        self.assertEqual((rc, e), (0, ""))
        # fields records.ml does not list come after its own
        self.assertGreater(keys.index("VIFs"), keys.index("pending-guidances-full"))
        host = self.ok("host-list", "--minimal").strip()
        hkeys = self.keys(self.ok("host-param-list", "uuid=" + host))
        self.assertEqual(hkeys[:6], ["uuid", "name-label", "name-description",
                                     "allowed-operations", "current-operations", "enabled"])
        self.assertEqual(hkeys[hkeys.index("memory-overhead") + 1:][:3],
                         ["memory-total", "memory-free", "host-metrics-live"])
        self.assertNotIn("uefi-certificates", hkeys)
        self.ok("vm-disk-add", "uuid=" + vm, "disk-size=1MiB", "device=5")
        vbd = self.ok("vbd-list", "vm-uuid=" + vm, "userdevice=5", "--minimal").strip()
        vbd_out = self.ok("vbd-param-list", "uuid=" + vbd)
        self.assertEqual(self.keys(vbd_out)[:5],
                         ["uuid", "vm-uuid", "vm-name-label", "vdi-uuid", "vdi-name-label"])
        self.assertIn("    vm-name-label ( RO): xe-order\n", vbd_out)
        self.ok("vm-uninstall", "uuid=" + vm, "--force")

    def test_fields_from_metrics_records(self):
        u = self.new_vm("xe-metrics")
        self.ok("vm-start", "uuid=" + u)
        r = self.vm(u)
        m = self.s.call("VM_metrics.get_record", r["metrics"])
        # memory-actual moves with the metrics sampler: a number, as the API's
        self.assertRegex(self.ok("vm-param-get", "uuid=" + u, "param-name=memory-actual"),
                         r"^[0-9]+\n$")
        self.assertEqual(self.ok("vm-param-get", "uuid=" + u, "param-name=VCPUs-number"),
                         m["VCPUs_number"] + "\n")
        out = self.ok("vm-param-list", "uuid=" + u)
        self.assertRegex(out, r"(?m)^ +memory-actual \( RO\): [0-9]+$")
        gm = r["guest_metrics"]
        if gm != "OpaqueRef:NULL":
            nets = self.s.call("VM_guest_metrics.get_networks", gm)
            want = "; ".join("%s: %s" % kv for kv in nets.items())
        else:
            want = "<not in database>"
        self.assertEqual(self.ok("vm-list", "uuid=" + u, "params=networks", "--minimal"),
                         want.replace(",", "\\,") + "\n")
        (h,) = self.s.call("host.get_all_records").values()
        hm = self.s.call("host_metrics.get_record", h["metrics"])
        self.assertEqual(self.ok("host-param-get", "uuid=" + h["uuid"],
                                 "param-name=memory-total"), hm["memory_total"] + "\n")
        self.assertEqual(self.ok("vm-list", "VCPUs-number=" + m["VCPUs_number"],
                                 "uuid=" + u, "--minimal"), u + "\n")
        rc, out, e = self.xe("vm-param-set", "uuid=" + u, "memory-actual=1")
        self.assertEqual((rc, e), (1, "Error: Field 'memory-actual' is read-only.\n"))
        self.ok("vm-shutdown", "uuid=" + u, "--force")
        self.ok("vm-destroy", "uuid=" + u)

    def test_console_list(self):
        (dom0,) = [r for r in self.s.call("VM.get_all_records").values()
                   if r["is_control_domain"]]
        out = self.ok("console-list", "vm-uuid=" + dom0["uuid"])
        self.assertRegex(out, r"(?m)^ +protocol \( RO\): (rfb|vt100)$")
        self.assertEqual(set(self.ok("console-list", "vm-uuid=" + dom0["uuid"], "--minimal")
                             .strip().split(",")),
                         {self.s.call("console.get_uuid", c) for c in dom0["consoles"]})

    def test_destroy_task_cancel_cpu_info(self):
        (dom0,) = [r for r in self.s.call("VM.get_all_records").values()
                   if r["is_control_domain"]]
        rc, out, e = self.xe("vm-destroy", "uuid=" + dom0["uuid"])
        self.assertEqual((rc, e), (1, "You attempted an operation that was not allowed.\n"
                                      "reason: You cannot destroy a control domain via the CLI\n"))
        rc, out, e = self.xe("vm-destroy", "uuid=nope")
        self.assertEqual((rc, e), (1, "The uuid you supplied was invalid.\ntype: VM\nuuid: nope\n"))
        rc, out, e = self.xe("task-cancel", "uuid=nope")
        self.assertEqual((rc, e), (1, "The uuid you supplied was invalid.\ntype: task\n"
                                      "uuid: nope\n"))
        # a task that exists: cancelled, the list shows it
        task = self.s.call("task.create", "xe-task", "made by the xe test")
        tu = self.s.call("task.get_uuid", task)
        self.assertIn(tu, self.ok("task-list", "--minimal").strip().split(","))
        self.assertEqual(self.ok("task-cancel", "uuid=" + tu), "")
        self.assertEqual(self.s.call("task.get_status", task), "cancelled")
        self.assertEqual(self.ok("task-param-get", "uuid=" + tu, "param-name=status"),
                         "cancelled\n")
        (h,) = self.s.call("host.get_all_records").values()
        info = self.s.call("host.get_cpu_info", self.s.call("host.get_by_uuid", h["uuid"]))
        for args in ((), ("uuid=" + h["uuid"],)):
            out = self.ok("host-cpu-info", *args)
            lines = out.rstrip("\n").split("\n")
            self.assertEqual(len(lines), len(info))
            got = dict(l.split(": ", 1) for l in lines)
            self.assertEqual({k.strip(): v for k, v in got.items()}, info)

    def test_help_of_a_command(self):
        out = self.ok("help", "vm-start")
        self.assertTrue(out.startswith("command name            : vm-start\n"
                                       "        reqd params     : \n"
                                       "        optional params : force, on, paused, "
                                       "<vm-selectors>\n        description     : Start the "),
                        out)
        self.assertEqual(self.ok("help", "vm-frob"), "Unknown command 'vm-frob'\n")
        names = self.ok("help", "--minimal").strip().split(",")
        self.assertIn("vm-start", names)
        self.assertNotIn("vm-memory-set", names)       # not a "standard" command
        self.assertIn("vm-memory-set", self.ok("help", "--minimal", "--all").strip().split(","))


if __name__ == "__main__":
    unittest.main()
