"""What XO Lite and Xen Orchestra read beyond the VM basics: the platform identity (XCP-ng 8.3,
everything licensed), session.get_all_subject_identifiers, the message class with XAPI's
lifecycle messages, and the PCI/PGPU/VTPM classes (served, empty)."""
import os
import shutil
import tempfile
import unittest

from gateway import Failure, Gateway, GatewayTestCase, sim_only, wait_until
from test_records import vm_create_record


class IdentityTest(GatewayTestCase):
    def host(self):
        hosts = self.s.call("host.get_all_records")
        self.assertEqual(len(hosts), 1)
        return list(hosts.values())[0]

    def test_software_version_is_xcp_ng_83(self):
        sv = self.host()["software_version"]
        self.assertEqual(sv["product_brand"], "XCP-ng")
        self.assertEqual(sv["product_version"], "8.3.0")
        self.assertEqual(sv["product_version_text_short"], "8.3")
        self.assertEqual(sv["platform_name"], "XCP")
        self.assertEqual(sv["platform_version"], "3.4.0")
        self.assertEqual(sv["build_number"], "8.3.0")
        # the gateway's own name and version stay readable, in keys of their own
        self.assertEqual(sv["gateway"], "xapi-gateway")
        self.assertRegex(sv["gateway_version"], r"^\d+\.\d+\.\d+$")

    def test_everything_licensed(self):
        h = self.host()
        self.assertEqual(h["edition"], "xcp-ng")
        lp = h["license_params"]
        pool = list(self.s.call("pool.get_all_records").values())[0]
        r = pool["restrictions"]
        for m in (lp, r):
            self.assertEqual(m["restrict_zstd_export"], "false")
            self.assertEqual(m["restrict_vtpm"], "false")
            self.assertEqual(m["enable_xha"], "true")
            restricted = [k for k, v in m.items() if k.startswith("restrict_") and v != "false"]
            self.assertEqual(restricted, [])


class SessionCheckTest(GatewayTestCase):
    def test_subject_identifiers_need_a_valid_session(self):
        self.assertEqual(self.s.call("session.get_all_subject_identifiers"), [])
        other = self.gw.xapi()
        ref = other.ref
        other.logout()
        with self.assertRaises(Failure) as cm:
            self.s.raw("session.get_all_subject_identifiers", ref)
        self.assertEqual(cm.exception.details[0], "SESSION_INVALID")
        # over JSON-RPC, as XO Lite asks on every reload
        r = self.gw.jsonrpc({"jsonrpc": "2.0", "id": 0, "method": "session.get_all_subject_identifiers",
                             "params": [self.s.ref]})
        self.assertEqual(r["result"], [])


class EmptyDeviceClassesTest(GatewayTestCase):
    def test_served_and_empty(self):
        for cls in ("PCI", "PGPU", "VTPM"):
            self.assertEqual(self.s.call(cls + ".get_all_records"), {}, cls)
        methods = self.gw.proxy().system.listMethods()
        for cls in ("PCI", "PGPU", "VTPM", "message"):
            self.assertIn(cls + ".get_all_records", methods)
        h = list(self.s.call("host.get_all_records").values())[0]
        self.assertEqual((h["PCIs"], h["PGPUs"]), ([], []))


class SecureBootReadinessTest(GatewayTestCase):
    def test_vm_readiness_as_xapi_decides(self):
        # a halted VM of its own (a real host may have no halted guest to clone)
        new = self.s.call("VM.create", vm_create_record("sb-readiness"))
        try:
            st = lambda: self.s.call("VM.get_secureboot_readiness", new)
            self.s.call("VM.remove_from_HVM_boot_params", new, "firmware")
            self.assertEqual(st(), "not_supported")            # BIOS is XAPI's default
            self.s.call("VM.add_to_HVM_boot_params", new, "firmware", "uefi")
            self.s.call("VM.remove_from_platform", new, "secureboot")
            self.assertEqual(st(), "disabled")
            self.s.call("VM.add_to_platform", new, "secureboot", "true")
            self.assertEqual(st(), "first_boot")                # no EFI variables yet
            # variables the gateway cannot list (no varstored): no PK seen
            self.s.call("VM.add_to_NVRAM", new, "EFI-variables", "AAAA")
            self.assertEqual(st(), "setup_mode")
            self.s.call("VM.remove_from_HVM_boot_params", new, "firmware")
            self.s.call("VM.add_to_HVM_boot_params", new, "firmware", "coreboot")
            self.assertFailure(["INVALID_VALUE", "HVM-boot-params['firmware']", "coreboot"],
                               self.s.call, "VM.get_secureboot_readiness", new)
        finally:
            self.s.call("VM.destroy", new)

    def test_pool_without_certificates_is_not_ready(self):
        pool = self.s.call("pool.get_all")[0]
        self.assertEqual(self.s.call("pool.get_guest_secureboot_readiness", pool), "not_ready")


@sim_only
class PoolCertificatesTest(unittest.TestCase):
    def test_auth_files_decide(self):
        tmp = tempfile.mkdtemp(prefix="xg-varstore-")
        try:
            for name in ("PK.auth", "KEK.auth", "db.auth"):
                open(os.path.join(tmp, name), "wb").close()
            with Gateway(sim_vms=0, extra_args=["--varstore-dir", tmp]) as gw:
                s = gw.xapi()
                pool = s.call("pool.get_all")[0]
                self.assertEqual(s.call("pool.get_guest_secureboot_readiness", pool), "ready_no_dbx")
                open(os.path.join(tmp, "dbx.auth"), "wb").close()
                self.assertEqual(s.call("pool.get_guest_secureboot_readiness", pool), "ready")
                s.logout()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@sim_only
class MessageTest(GatewayTestCase):
    def test_lifecycle_messages(self):
        ref, vm = self.guests("Halted")[0]
        host = self.s.call("host.get_all")[0]
        before = self.s.call("host.get_servertime", host)
        # messages are stamped to the second: wait for the server's clock to pass `before`
        wait_until(lambda: self.s.call("host.get_servertime", host).value > before.value, 10, 0.05,
                   "the server clock to pass %s" % before.value)
        self.s.call("VM.start", ref, False, False)
        self.s.call("VM.hard_shutdown", ref)
        msgs = self.s.call("message.get_since", before)
        mine = sorted((m["name"], int(m["priority"]), m["cls"]) for m in msgs.values()
                      if m["obj_uuid"] == vm["uuid"])
        self.assertEqual(mine, [("VM_SHUTDOWN", 5, "VM"), ("VM_STARTED", 5, "VM")])
        one = self.s.call("message.get", "VM", vm["uuid"], before)
        self.assertEqual(set(one), {r for r, m in msgs.items() if m["obj_uuid"] == vm["uuid"]})
        where = self.s.call("message.get_all_records_where", 'field "name" = "VM_STARTED"')
        self.assertTrue(set(where) & set(one))
        for r in one:
            self.assertEqual(self.s.call("message.get_record", r)["obj_uuid"], vm["uuid"])
        self.s.call("message.destroy_many", list(one))
        self.assertEqual(self.s.call("message.get", "VM", vm["uuid"], before), {})

    def test_create_and_destroy(self):
        pool_uuid = list(self.s.call("pool.get_all_records").values())[0]["uuid"]
        ref = self.s.call("message.create", "TEST_NOTICE", 3, "Pool", pool_uuid, "body text")
        rec = self.s.call("message.get_record", ref)
        self.assertEqual((rec["name"], int(rec["priority"]), rec["cls"], rec["body"]),
                         ("TEST_NOTICE", 3, "Pool", "body text"))
        self.assertIn(ref, self.s.call("message.get_all_records"))
        self.assertFailure(["UUID_INVALID", "VM", "00000000-0000-0000-0000-000000000000"],
                           self.s.call, "message.create", "X", 1, "VM",
                           "00000000-0000-0000-0000-000000000000", "")
        self.s.call("message.destroy", ref)
        self.assertFailure("HANDLE_INVALID", self.s.call, "message.get_record", ref)
        self.assertFailure("HANDLE_INVALID", self.s.call, "message.destroy_many", [ref])

    def test_messages_survive_restart(self):
        pool_uuid = list(self.s.call("pool.get_all_records").values())[0]["uuid"]
        ref = self.s.call("message.create", "KEPT", 5, "Pool", pool_uuid, "")
        self.gw.restart()
        s = self.gw.xapi()
        try:
            self.assertEqual(s.call("message.get_record", ref)["name"], "KEPT")
        finally:
            s.logout()
        type(self).s = self.gw.xapi()


if __name__ == "__main__":
    from gateway import main
    raise SystemExit(main())
