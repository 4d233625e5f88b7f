"""Records of every served class: shapes and types against the XAPI datamodel, lookups, errors,
setters, map/set helpers, VM.create/destroy, get_all_records_where."""
import unittest
import uuid as uuidlib

from gateway import GatewayTestCase, Failure, SIM_VMS, sim_only
from schema import REF_RE, UUID_RE, check_record, required_fields

CLASSES = ["pool", "host", "host_metrics", "host_cpu", "VM", "VM_metrics", "VM_guest_metrics", "console", "task"]
MAY_BE_EMPTY = {"task", "VM_guest_metrics"}
NULL = "OpaqueRef:NULL"


def vm_create_record(name):
    """A full VM.create struct (all mandatory keys of §7.4, ints as strings as XenAPI.py scripts do)."""
    return {
        "name_label": name, "name_description": "created by e2e", "user_version": "1",
        "is_a_template": False, "affinity": NULL,
        "memory_static_max": "268435456", "memory_dynamic_max": "268435456",
        "memory_dynamic_min": "268435456", "memory_static_min": "134217728",
        "VCPUs_params": {}, "VCPUs_max": "1", "VCPUs_at_startup": "1",
        "actions_after_shutdown": "destroy", "actions_after_reboot": "restart",
        "actions_after_crash": "restart",
        "PV_bootloader": "", "PV_kernel": "", "PV_ramdisk": "", "PV_args": "",
        "PV_bootloader_args": "", "PV_legacy_args": "",
        "HVM_boot_policy": "BIOS order", "HVM_boot_params": {"order": "cd"},
        "platform": {"cores-per-socket": "1"}, "PCI_bus": "", "other_config": {"e2e": "yes"},
        "recommendations": "",
    }


class RecordsTest(GatewayTestCase):
    def test_get_all_records_shapes(self):
        for cls in CLASSES:
            with self.subTest(cls=cls):
                recs = self.s.call(cls + ".get_all_records")
                self.assertIsInstance(recs, dict)
                if cls not in MAY_BE_EMPTY:
                    self.assertTrue(recs, "%s.get_all_records is empty" % cls)
                errs = []
                keys = None
                for ref, rec in recs.items():
                    self.assertRegex(ref, REF_RE)
                    errs += check_record(cls, ref, rec)
                    if keys is None:
                        keys = set(rec)
                    elif set(rec) != keys:
                        errs.append("%s %s: field set differs from the first record: %s"
                                    % (cls, ref, sorted(set(rec) ^ keys)))
                self.assertEqual(errs, [], "\n".join(errs[:40]))
                self.assertEqual(sorted(recs), sorted(self.s.call(cls + ".get_all")))

    def test_get_record_equals_get_all_records(self):
        for cls in ["pool", "host", "console"]:
            recs = self.s.call(cls + ".get_all_records")
            for ref, rec in recs.items():
                self.assertEqual(self.s.call(cls + ".get_record", ref), rec)

    def test_uuids_unique_across_classes(self):
        seen = {}
        for cls in CLASSES:
            for ref, rec in self.s.call(cls + ".get_all_records").items():
                u = rec["uuid"]
                self.assertNotIn(u, seen, "uuid %s of %s %s also used by %s" % (u, cls, ref, seen.get(u)))
                seen[u] = (cls, ref)

    def test_pool_host_links(self):
        pools = self.s.call("pool.get_all_records")
        self.assertEqual(len(pools), 1)
        pool = list(pools.values())[0]
        hosts = self.s.call("host.get_all_records")
        self.assertIn(pool["master"], hosts)
        host = hosts[pool["master"]]
        for k in ["platform_version", "product_version", "product_brand", "build_number"]:
            self.assertIn(k, host["software_version"])
        self.assertIsInstance(pool["ha_statefiles"], list)
        self.assertIsInstance(pool["restrictions"], dict)
        self.assertIn(host["metrics"], self.s.call("host_metrics.get_all"))
        hm = self.s.call("host_metrics.get_record", host["metrics"])
        self.assertIs(hm["live"], True)
        self.assertGreater(int(hm["memory_total"]), 0)
        cpus = self.s.call("host_cpu.get_all_records")
        self.assertEqual(sorted(host["host_CPUs"]), sorted(cpus))
        self.assertTrue(all(c["host"] == pool["master"] for c in cpus.values()))
        self.assertEqual(sorted(int(c["number"]) for c in cpus.values()), list(range(len(cpus))))
        self.assertEqual(host["API_version_major"], "2")

    def test_dom0(self):
        ref, d = self.dom0()
        self.assertIs(d["is_control_domain"], True)
        self.assertEqual(d["power_state"], "Running")
        self.assertEqual(d["domid"], "0")
        host = self.s.call("host.get_all")[0]
        self.assertEqual(d["resident_on"], host)
        self.assertEqual(self.s.call("host.get_control_domain", host), ref)
        self.assertIn(ref, self.s.call("host.get_resident_VMs", host))
        self.assertIn(d["metrics"], self.s.call("VM_metrics.get_all"))
        self.assertIn("cores-per-socket", d["platform"])

    @sim_only
    def test_sim_guests(self):
        self.assertEqual(len(self.guests()), SIM_VMS)
        for ref, r in self.guests():
            self.assertIn("cores-per-socket", r["platform"])
            self.assertIn(r["metrics"], self.s.call("VM_metrics.get_all"))
            if r["power_state"] in ("Running", "Paused"):
                self.assertNotEqual(r["resident_on"], NULL)
                self.assertNotEqual(r["domid"], "-1")
            else:
                self.assertEqual(r["resident_on"], NULL)

    def test_get_by_uuid_and_errors(self):
        for cls in ["VM", "host", "pool", "VM_metrics", "host_metrics"]:
            ref = self.s.call(cls + ".get_all")[0]
            u = self.s.call(cls + ".get_uuid", ref)
            self.assertRegex(u, UUID_RE)
            self.assertEqual(self.s.call(cls + ".get_by_uuid", u), ref)
            missing = str(uuidlib.uuid4())
            self.assertFailure(["UUID_INVALID", cls, missing], self.s.call, cls + ".get_by_uuid", missing)
            bad = "OpaqueRef:" + str(uuidlib.uuid4())
            self.assertFailure(["HANDLE_INVALID", cls, bad], self.s.call, cls + ".get_record", bad)
            self.assertFailure(["HANDLE_INVALID", cls, bad], self.s.call, cls + ".get_uuid", bad)
        self.assertFailure(["HANDLE_INVALID", "VM", NULL], self.s.call, "VM.get_record", NULL)

    def test_get_by_name_label(self):
        ref, d = self.dom0()
        self.assertIn(ref, self.s.call("VM.get_by_name_label", d["name_label"]))
        self.assertEqual(self.s.call("VM.get_by_name_label", "no such name e2e"), [])

    def test_get_all_records_where(self):
        ref, _ = self.dom0()
        r = self.s.call("VM.get_all_records_where", 'field "is_control_domain" = "true"')
        self.assertEqual(list(r), [ref])
        r = self.s.call("VM.get_all_records_where", 'field "power_state" = "Running"')
        self.assertIn(ref, r)
        self.assertTrue(all(x["power_state"] == "Running" for x in r.values()))

    def test_field_getters_and_int64(self):
        ref, d = self.dom0()
        self.assertEqual(self.s.call("VM.get_name_label", ref), d["name_label"])
        self.assertEqual(self.s.call("VM.get_memory_static_max", ref), d["memory_static_max"])
        self.assertEqual(self.s.call("VM.get_power_state", ref), "Running")
        self.assertIs(self.s.call("VM.get_is_control_domain", ref), True)

    def test_setters_int64_as_string_and_int(self):
        vm = self.s.call("VM.create", vm_create_record("e2e-setters"))
        try:
            self.s.call("VM.set_user_version", vm, "4294967296")   # as a string (> 2^31)
            self.assertEqual(self.s.call("VM.get_user_version", vm), "4294967296")
            self.s.call("VM.set_user_version", vm, 7)              # as <int>
            self.assertEqual(self.s.call("VM.get_user_version", vm), "7")
            self.s.call("VM.set_name_label", vm, "e2e renamed \u00e9<&>")
            self.assertEqual(self.s.call("VM.get_name_label", vm), "e2e renamed \u00e9<&>")
            self.s.call("VM.set_name_description", vm, "")
            self.assertEqual(self.s.call("VM.get_name_description", vm), "")
            # sets of strings: add is a no-op when present
            self.s.call("VM.add_tags", vm, "t1")
            self.s.call("VM.add_tags", vm, "t1")
            self.s.call("VM.add_tags", vm, "t2")
            self.assertEqual(sorted(self.s.call("VM.get_tags", vm)), ["t1", "t2"])
            self.s.call("VM.remove_tags", vm, "t1")
            self.s.call("VM.remove_tags", vm, "absent")
            self.assertEqual(self.s.call("VM.get_tags", vm), ["t2"])
            # bool params accept only <boolean>
            self.assertFailure("INTERNAL_ERROR", self.s.call, "VM.set_is_a_template", vm, "true")
        finally:
            self.s.call("VM.destroy", vm)

    def test_other_config_maps(self):
        for cls in ["VM", "pool"]:
            with self.subTest(cls=cls):
                ref = self.s.call(cls + ".get_all")[0]
                self.s.call(cls + ".remove_from_other_config", ref, "e2e-key")
                self.s.call(cls + ".add_to_other_config", ref, "e2e-key", "v1")
                self.assertEqual(self.s.call(cls + ".get_other_config", ref).get("e2e-key"), "v1")
                self.assertFailure(["MAP_DUPLICATE_KEY", cls, "other_config", ref, "e2e-key"],
                                   self.s.call, cls + ".add_to_other_config", ref, "e2e-key", "v2")
                self.assertEqual(self.s.call(cls + ".get_other_config", ref)["e2e-key"], "v1")
                self.s.call(cls + ".remove_from_other_config", ref, "e2e-key")
                self.s.call(cls + ".remove_from_other_config", ref, "e2e-key")  # missing: no-op
                self.assertNotIn("e2e-key", self.s.call(cls + ".get_other_config", ref))
                old = self.s.call(cls + ".get_other_config", ref)
                self.s.call(cls + ".set_other_config", ref, {"a": "1", "b": "2"})
                self.assertEqual(self.s.call(cls + ".get_other_config", ref), {"a": "1", "b": "2"})
                self.s.call(cls + ".set_other_config", ref, old)

    def test_vm_create_destroy(self):
        vm = self.s.call("VM.create", vm_create_record("e2e-create"))
        self.assertRegex(vm, REF_RE)
        rec = self.s.call("VM.get_record", vm)
        self.assertEqual(check_record("VM", vm, rec), [])
        any_vm = self.s.call("VM.get_record", self.dom0()[0])
        self.assertEqual(set(rec), set(any_vm), "VM.create record has a different field set")
        self.assertEqual(rec["name_label"], "e2e-create")
        self.assertEqual(rec["power_state"], "Halted")
        self.assertEqual(rec["memory_static_max"], "268435456")
        self.assertEqual(rec["VCPUs_max"], "1")
        self.assertEqual(rec["other_config"].get("e2e"), "yes")
        self.assertEqual(rec["platform"].get("cores-per-socket"), "1")
        self.assertEqual(rec["resident_on"], NULL)
        self.assertIs(rec["is_control_domain"], False)
        self.assertEqual(self.s.call("VM.get_by_uuid", rec["uuid"]), vm)
        self.assertIn(vm, self.s.call("VM.get_all"))
        self.assertIn(rec["metrics"], self.s.call("VM_metrics.get_all"))
        self.assertEqual(self.s.call("VM.destroy", vm), "")
        self.assertFailure(["HANDLE_INVALID", "VM", vm], self.s.call, "VM.get_record", vm)
        self.assertNotIn(vm, self.s.call("VM.get_all"))
        self.assertFailure(["UUID_INVALID", "VM", rec["uuid"]], self.s.call, "VM.get_by_uuid", rec["uuid"])

    def test_vm_create_ints_as_int(self):
        r = vm_create_record("e2e-create-int")
        r.update({"memory_static_max": 268435456, "memory_dynamic_max": 268435456,
                  "memory_dynamic_min": 268435456, "memory_static_min": 134217728,
                  "VCPUs_max": 2, "VCPUs_at_startup": 1, "user_version": 1})
        vm = self.s.call("VM.create", r)
        try:
            self.assertEqual(self.s.call("VM.get_VCPUs_max", vm), "2")
            self.assertEqual(self.s.call("VM.get_memory_static_min", vm), "134217728")
        finally:
            self.s.call("VM.destroy", vm)

    def test_vm_create_missing_field(self):
        r = vm_create_record("e2e-missing")
        del r["memory_static_max"]
        e = self.assertFailure("INTERNAL_ERROR", self.s.call, "VM.create", r)
        self.assertIn("memory_static_max", " ".join(e.details))


if __name__ == "__main__":
    unittest.main()
