"""Networking on the sim driver: network, PIF, PIF_metrics, VIF, VIF_metrics, Bond, VLAN,
tunnel records against the datamodel; the simulated host (eth0 on xenbr0, eth1 on xenbr1, the
host-internal network); network.create/destroy/set_MTU and their errors; PIF.scan/plug/unplug;
VIF.create (XAPI's MAC from mac_seed, MAC_INVALID, INVALID_DEVICE, DEVICE_ALREADY_EXISTS),
destroy, plug/unplug hot-plug, move and their errors; VM.get_allowed_VIF_devices; VIFs across VM
start/stop, clone and destroy; events; persistence across a restart."""
import hashlib
import json
import unittest

from gateway import GatewayTestCase, sim_only, wait_for, wait_task
from schema import check_record
from test_records import vm_create_record

NULL = "OpaqueRef:NULL"
NET_CLASSES = ["network", "PIF", "PIF_metrics", "VIF", "VIF_metrics", "Bond", "VLAN", "tunnel"]


def xapi_mac(seed, device):
    """Xapi_vif_helpers.gen_mac, independently: MD5 chained 2*device+1 times, then once more."""
    h = hashlib.md5(seed.encode()).digest()
    for _ in range(2 * device):
        h = hashlib.md5(h).digest()
    h2 = hashlib.md5(h).digest()
    b = [h[0], h[1], h[2], h[3], h2[1], h2[2]]
    b[0] = (b[0] | 0x02) & ~0x01
    return ":".join("%02x" % x for x in b)


def vif_record(vm, network, device="0", mac="", **extra):
    """VIF.create's record as @xen-orchestra/xapi sends it."""
    rec = {"device": device, "network": network, "VM": vm, "MAC": mac, "MTU": "1500",
           "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}}
    rec.update(extra)
    return rec


@sim_only
class NetworkTest(GatewayTestCase):
    def setUp(self):
        self.vm = self.s.call("VM.create", vm_create_record("e2e-net-%s" % self._testMethodName))

    def tearDown(self):
        try:
            if self.s.call("VM.get_power_state", self.vm) in ("Running", "Paused"):
                self.s.call("VM.hard_shutdown", self.vm)
            self.s.call("VM.destroy", self.vm)
        except Exception:
            pass

    def phys_net(self):
        pifs = self.s.call("PIF.get_all_records")
        mgmt = [p for p in pifs.values() if p["management"]]
        self.assertEqual(len(mgmt), 1, pifs)
        return mgmt[0]["network"]

    # ---------------------------------------------------------------- records
    def test_records_match_datamodel(self):
        net = self.phys_net()
        self.s.call("VIF.create", vif_record(self.vm, net))
        for cls in NET_CLASSES:
            with self.subTest(cls=cls):
                recs = self.s.call(cls + ".get_all_records")
                self.assertIsInstance(recs, dict)
                if cls in ("Bond", "VLAN", "tunnel"):
                    self.assertEqual(recs, {})
                    continue
                self.assertTrue(recs, cls)
                errs = []
                for ref, rec in recs.items():
                    errs += check_record(cls, ref, rec)
                self.assertEqual(errs, [])

    def test_simulated_host(self):
        host = self.s.call("host.get_all")[0]
        pifs = self.s.call("PIF.get_all_records")
        self.assertEqual(sorted(p["device"] for p in pifs.values()), ["eth0", "eth1"])
        ref, pif = [(r, p) for r, p in pifs.items() if p["device"] == "eth0"][0]
        self.assertTrue(pif["physical"])
        self.assertTrue(pif["management"])
        self.assertTrue(pif["currently_attached"])
        self.assertEqual(pif["VLAN"], "-1")
        self.assertEqual(pif["host"], host)
        self.assertEqual(pif["bond_slave_of"], NULL)
        self.assertEqual(pif["VLAN_master_of"], NULL)
        self.assertEqual(pif["IP"], self.s.call("host.get_address", host))
        self.assertRegex(pif["MAC"], r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
        self.assertEqual(sorted(self.s.call("host.get_PIFs", host)), sorted(pifs))
        # the second NIC: bridged, up, without an address
        eth1 = [p for p in pifs.values() if p["device"] == "eth1"][0]
        self.assertFalse(eth1["management"])
        self.assertTrue(eth1["currently_attached"])
        self.assertEqual((eth1["IP"], eth1["ip_configuration_mode"]), ("", "None"))
        self.assertEqual(self.s.call("network.get_bridge", eth1["network"]), "xenbr1")
        self.assertEqual(self.s.call("network.get_name_label", eth1["network"]),
                         "Pool-wide network associated with eth1")
        m = self.s.call("PIF_metrics.get_record", pif["metrics"])
        self.assertTrue(m["carrier"])
        self.assertEqual(m["speed"], "1000")
        self.assertTrue(m["duplex"])
        self.assertEqual(m["vendor_id"], "8086")
        self.assertTrue(m["device_name"])
        net = self.s.call("network.get_record", pif["network"])
        self.assertEqual(net["bridge"], "xenbr0")
        self.assertEqual(net["PIFs"], [ref])
        self.assertEqual(net["name_label"], "Pool-wide network associated with eth0")
        internal = [n for n in self.s.call("network.get_all_records").values()
                    if n["other_config"].get("is_host_internal_management_network") == "true"]
        self.assertEqual(len(internal), 1)
        self.assertEqual(internal[0]["PIFs"], [])
        # the sim's running guests were booted with one NIC on the physical network
        running = [r for r, v in self.s.call("VM.get_all_records").items()
                   if v["power_state"] == "Running" and not v["is_control_domain"]]
        self.assertTrue(running)
        for vm in running:
            vifs = self.s.call("VM.get_VIFs", vm)
            self.assertEqual(len(vifs), 1)
            vif = self.s.call("VIF.get_record", vifs[0])
            self.assertTrue(vif["currently_attached"])
            self.assertEqual(vif["network"], pif["network"])

    # ---------------------------------------------------------------- network
    def test_network_create_destroy(self):
        n = self.s.call("network.create", {"name_label": "e2e-internal", "name_description": "",
                                           "MTU": "0", "other_config": {}})
        rec = self.s.call("network.get_record", n)
        self.assertRegex(rec["bridge"], r"^xapi\d+$")
        self.assertEqual(rec["MTU"], "1500")
        self.assertTrue(rec["managed"])
        self.assertEqual(rec["PIFs"], [])
        self.assertEqual(rec["default_locking_mode"], "unlocked")
        n2 = self.s.call("network.create", {"name_label": "e2e-2", "name_description": "", "MTU": "9000",
                                            "other_config": {}, "bridge": "br-e2e"})
        self.assertEqual(self.s.call("network.get_bridge", n2), "br-e2e")
        self.assertEqual(self.s.call("network.get_MTU", n2), "9000")
        self.assertFailure(["BRIDGE_NAME_EXISTS", "br-e2e"], self.s.call, "network.create",
                           {"name_label": "dup", "name_description": "", "MTU": "1500",
                            "other_config": {}, "bridge": "br-e2e"})
        for bad in ("xenbr7", "xapi3", "vif1.0", "tap0", "eth9", "a-name-longer-than-15", "bad/name"):
            self.assertFailure(["INVALID_VALUE", "bridge", bad], self.s.call, "network.create",
                               {"name_label": "x", "name_description": "", "MTU": "1500",
                                "other_config": {}, "bridge": bad})
        self.s.call("network.set_default_locking_mode", n2, "disabled")
        self.assertEqual(self.s.call("network.get_default_locking_mode", n2), "disabled")
        # an unplugged VIF goes away with its network
        vif = self.s.call("VIF.create", vif_record(self.vm, n2))
        self.assertEqual(self.s.call("network.get_VIFs", n2), [vif])
        self.s.call("network.destroy", n2)
        self.assertFailure(["HANDLE_INVALID", "VIF", vif], self.s.call, "VIF.get_record", vif)
        self.assertEqual(self.s.call("VM.get_VIFs", self.vm), [])
        self.s.call("network.destroy", n)
        self.assertFailure("HANDLE_INVALID", self.s.call, "network.get_record", n)

    def test_physical_network_with_running_guests(self):
        phys = self.phys_net()
        attached = [r for r, v in self.s.call("VIF.get_all_records").items()
                    if v["network"] == phys and v["currently_attached"]]
        self.assertTrue(attached)
        f = self.assertFailure("NETWORK_CONTAINS_VIF", self.s.call, "network.destroy", phys)
        self.assertEqual(sorted(f.details[1:]), sorted(attached))

    # ---------------------------------------------------------------- VIF.create
    def test_vif_create_defaults_and_mac(self):
        net = self.phys_net()
        seed = self.s.call("VM.get_other_config", self.vm)["mac_seed"]
        self.assertEqual(self.s.call("VM.get_allowed_VIF_devices", self.vm), [str(i) for i in range(7)])
        v0 = self.s.call("VIF.create", vif_record(self.vm, net, "0"))
        v3 = self.s.call("VIF.create", vif_record(self.vm, net, "3"))
        r0 = self.s.call("VIF.get_record", v0)
        self.assertEqual(r0["MAC"], xapi_mac(seed, 0))
        self.assertEqual(self.s.call("VIF.get_MAC", v3), xapi_mac(seed, 3))
        self.assertTrue(r0["MAC_autogenerated"])
        self.assertFalse(r0["currently_attached"])
        self.assertEqual(r0["locking_mode"], "network_default")
        self.assertEqual(r0["ipv4_allowed"], [])
        self.assertEqual(r0["allowed_operations"], ["attach"])
        self.assertEqual(r0["VM"], self.vm)
        self.assertEqual(r0["network"], net)
        self.assertEqual(r0["status_code"], "0")
        self.assertIsInstance(self.s.call("VIF_metrics.get_record", r0["metrics"]), dict)
        self.assertEqual(sorted(self.s.call("VM.get_VIFs", self.vm)), sorted([v0, v3]))
        self.assertIn(v0, self.s.call("network.get_VIFs", net))
        self.assertEqual(self.s.call("VM.get_allowed_VIF_devices", self.vm), ["1", "2", "4", "5", "6"])
        # explicit MAC, either case, kept as given
        v1 = self.s.call("VIF.create", vif_record(self.vm, net, "1", "AA:bb:CC:00:11:22",
                                                  locking_mode="unlocked", ipv4_allowed=["10.0.0.1"]))
        r1 = self.s.call("VIF.get_record", v1)
        self.assertEqual(r1["MAC"], "AA:bb:CC:00:11:22")
        self.assertFalse(r1["MAC_autogenerated"])
        self.assertEqual(r1["locking_mode"], "unlocked")
        self.assertEqual(r1["ipv4_allowed"], ["10.0.0.1"])
        self.s.call("VIF.add_ipv4_allowed", v1, "10.0.0.2")
        self.s.call("VIF.set_locking_mode", v1, "disabled")
        self.assertEqual(sorted(self.s.call("VIF.get_ipv4_allowed", v1)), ["10.0.0.1", "10.0.0.2"])
        # errors, in XAPI's order
        for bad in ("aa:bb:cc:dd:ee", "aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:fg", "aabbccddeeff", "x"):
            self.assertFailure(["MAC_INVALID", bad], self.s.call, "VIF.create",
                               vif_record(self.vm, net, "2", bad))
        for bad in ("eth0", "-1", "", "1a", "999"):
            self.assertFailure(["INVALID_DEVICE", bad], self.s.call, "VIF.create",
                               vif_record(self.vm, net, bad, "zz"))
        self.assertFailure(["DEVICE_ALREADY_EXISTS", "0"], self.s.call, "VIF.create",
                           vif_record(self.vm, net, "0"))
        self.s.call("VIF.destroy", v3)
        self.assertFailure(["HANDLE_INVALID", "VIF", v3], self.s.call, "VIF.get_record", v3)
        self.assertEqual(sorted(self.s.call("VM.get_VIFs", self.vm)), sorted([v0, v1]))

    def test_locking_setters(self):
        vif = self.s.call("VIF.create", vif_record(self.vm, self.phys_net(), "0"))
        call = self.s.call
        call("VIF.set_locking_mode", vif, "locked")
        self.assertEqual(call("VIF.get_locking_mode", vif), "locked")
        # Listext.setify, then Helpers.assert_is_valid_ip_addr on each entry
        call("VIF.set_ipv4_allowed", vif, ["10.0.0.1", "10.0.0.1", "10.1.0.0/16"])
        self.assertEqual(call("VIF.get_ipv4_allowed", vif), ["10.0.0.1", "10.1.0.0/16"])
        for bad in (["bogus"], ["10.0.0.1", "fe80::1"], ["10.0.0.0/33"], ["10.0.0.0/"]):
            self.assertFailure(["INVALID_IP_ADDRESS_SPECIFIED", "ipv4_allowed"], call,
                               "VIF.set_ipv4_allowed", vif, bad)
        self.assertFailure(["INVALID_IP_ADDRESS_SPECIFIED", "ipv4_allowed"], call,
                           "VIF.add_ipv4_allowed", vif, "fe80::1")
        self.assertFailure(["INVALID_IP_ADDRESS_SPECIFIED", "ipv6_allowed"], call,
                           "VIF.add_ipv6_allowed", vif, "10.0.0.1")
        call("VIF.add_ipv6_allowed", vif, "fe80::1")
        call("VIF.add_ipv6_allowed", vif, "2001:db8::/64")
        self.assertEqual(sorted(call("VIF.get_ipv6_allowed", vif)), ["2001:db8::/64", "fe80::1"])
        call("VIF.remove_ipv4_allowed", vif, "10.0.0.1")
        call("VIF.remove_ipv4_allowed", vif, "10.9.9.9")         # absent: no-op
        self.assertEqual(call("VIF.get_ipv4_allowed", vif), ["10.1.0.0/16"])
        call("VIF.set_ipv6_allowed", vif, [])
        self.assertEqual(call("VIF.get_ipv6_allowed", vif), [])
        call("VIF.set_locking_mode", vif, "network_default")

    def test_locking_on_a_running_guest(self):
        """The host's filters follow every locking change of an attached VIF (on the sim host
        they are made, not enforced): none of these changes may fail, even with entries that
        VIF.create stored unchecked, as XAPI's create does."""
        net = self.phys_net()
        vif = self.s.call("VIF.create", vif_record(self.vm, net, "0", locking_mode="locked",
                                                   ipv4_allowed=["10.0.0.5", "x; flush ruleset"]))
        self.s.call("VM.start", self.vm, False, False)
        self.assertTrue(self.s.call("VIF.get_currently_attached", vif))
        self.s.call("VIF.add_ipv4_allowed", vif, "10.0.0.6")
        self.s.call("VIF.set_ipv6_allowed", vif, ["fe80::5"])
        self.s.call("VIF.set_locking_mode", vif, "disabled")
        self.s.call("VIF.set_locking_mode", vif, "network_default")
        self.s.call("network.set_default_locking_mode", net, "disabled")
        try:
            self.assertEqual(self.s.call("network.get_default_locking_mode", net), "disabled")
            self.s.call("VIF.unplug", vif)
            self.s.call("VIF.plug", vif)
        finally:
            self.s.call("network.set_default_locking_mode", net, "unlocked")
        self.s.call("VM.hard_shutdown", self.vm)
        self.assertEqual(self.s.call("VIF.get_ipv4_allowed", vif),
                         ["10.0.0.5", "x; flush ruleset", "10.0.0.6"])

    # ---------------------------------------------------------------- hot-plug
    def test_plug_unplug_lifecycle(self):
        net = self.phys_net()
        vif = self.s.call("VIF.create", vif_record(self.vm, net, "0"))
        self.assertFailure(["VM_BAD_POWER_STATE", self.vm, "running", "halted"],
                           self.s.call, "VIF.plug", vif)
        self.assertFailure(["VM_BAD_POWER_STATE", self.vm, "running", "halted"],
                           self.s.call, "VIF.unplug", vif)
        self.s.call("VM.start", self.vm, False, False)
        self.assertTrue(self.s.call("VIF.get_currently_attached", vif))
        self.assertEqual(sorted(self.s.call("VIF.get_allowed_operations", vif)), ["attach", "unplug"])
        self.assertFailure(["DEVICE_ALREADY_ATTACHED", vif], self.s.call, "VIF.plug", vif)
        self.assertFailure(["OPERATION_NOT_ALLOWED", "VIF currently attached to a running VM"],
                           self.s.call, "VIF.destroy", vif)
        f = self.assertFailure("NETWORK_CONTAINS_VIF", self.s.call, "network.destroy", net)
        self.assertIn(vif, f.details[1:])
        self.s.call("VIF.unplug", vif)
        self.assertFalse(self.s.call("VIF.get_currently_attached", vif))
        self.assertFailure(["DEVICE_ALREADY_DETACHED", vif], self.s.call, "VIF.unplug", vif)
        self.assertEqual(sorted(self.s.call("VIF.get_allowed_operations", vif)), ["attach", "plug"])
        # hot-plug of a new VIF, as XO does it: create (never plugs), then Async.VIF.plug
        v1 = self.s.call("VIF.create", vif_record(self.vm, net, "1"))
        self.assertFalse(self.s.call("VIF.get_currently_attached", v1))
        task = self.s.call("Async.VIF.plug", v1)
        rec = wait_task(self.s, task)
        self.assertEqual(rec["status"], "success", rec)
        self.assertTrue(self.s.call("VIF.get_currently_attached", v1))
        self.s.call("VIF.plug", vif)
        self.assertTrue(self.s.call("VIF.get_currently_attached", vif))
        self.s.call("VIF.unplug_force", v1)
        self.assertFalse(self.s.call("VIF.get_currently_attached", v1))
        self.s.call("VIF.destroy", v1)
        # the guest's vif data sources follow its NICs: device 0 is there
        self.s.call("VM.hard_shutdown", self.vm)
        self.assertFalse(self.s.call("VIF.get_currently_attached", vif))
        self.assertEqual(sorted(self.s.call("VIF.get_allowed_operations", vif)), ["attach"])
        self.s.call("VIF.destroy", vif)
        self.assertEqual(self.s.call("VM.get_VIFs", self.vm), [])

    def test_start_on_internal_network_makes_its_bridge(self):
        n = self.s.call("network.create", {"name_label": "e2e-onstart", "name_description": "",
                                           "MTU": "1500", "other_config": {}})
        vif = self.s.call("VIF.create", vif_record(self.vm, n, "0"))
        self.s.call("VM.start", self.vm, False, False)
        self.assertTrue(self.s.call("VIF.get_currently_attached", vif))
        self.assertFailure(["NETWORK_CONTAINS_VIF", vif], self.s.call, "network.destroy", n)
        self.s.call("VM.hard_shutdown", self.vm)
        self.s.call("network.destroy", n)
        self.assertEqual(self.s.call("VM.get_VIFs", self.vm), [])

    def test_unmanaged_network_without_bridge(self):
        n = self.s.call("network.create", {"name_label": "e2e-unmanaged", "name_description": "",
                                           "MTU": "1500", "other_config": {}, "bridge": "br-absent",
                                           "managed": False})
        self.s.call("VIF.create", vif_record(self.vm, n, "0"))
        self.assertFailure(["BRIDGE_NOT_AVAILABLE", "br-absent"], self.s.call,
                           "VM.start", self.vm, False, False)
        self.assertEqual(self.s.call("VM.get_power_state", self.vm), "Halted")
        self.s.call("network.destroy", n)

    def test_clone_regenerates_macs_and_destroy_removes_vifs(self):
        net = self.phys_net()
        v = self.s.call("VIF.create", vif_record(self.vm, net, "2"))
        clone = self.s.call("VM.clone", self.vm, "e2e-net-clone")
        try:
            seed = self.s.call("VM.get_other_config", clone)["mac_seed"]
            self.assertNotEqual(seed, self.s.call("VM.get_other_config", self.vm)["mac_seed"])
            cv = self.s.call("VM.get_VIFs", clone)
            self.assertEqual(len(cv), 1)
            rec = self.s.call("VIF.get_record", cv[0])
            self.assertEqual(rec["device"], "2")
            self.assertEqual(rec["network"], net)
            self.assertEqual(rec["MAC"], xapi_mac(seed, 2))
            self.assertNotEqual(rec["MAC"], self.s.call("VIF.get_MAC", v))
        finally:
            self.s.call("VM.destroy", clone)
        self.assertFailure(["HANDLE_INVALID", "VIF", cv[0]], self.s.call, "VIF.get_record", cv[0])
        self.assertNotEqual(self.s.call("VIF.get_metrics", v), NULL)

    def test_events_for_vif_and_network(self):
        token = self.s.call("event.from", ["VIF", "network", "VM"], "", 0.1)["token"]
        net = self.phys_net()
        vif = self.s.call("VIF.create", vif_record(self.vm, net, "4"))
        seen = set()
        for _ in range(20):
            batch = self.s.call("event.from", ["VIF", "network", "VM"], token, 1.0)
            token = batch["token"]
            for ev in batch["events"]:
                seen.add((ev["class"], ev["operation"], ev["ref"]))
            if {("vif", "add", vif), ("network", "mod", net), ("vm", "mod", self.vm)} <= seen:
                break
        self.assertIn(("vif", "add", vif), seen)
        self.assertIn(("network", "mod", net), seen)
        self.assertIn(("vm", "mod", self.vm), seen)


@sim_only
class GuestNetworksTest(GatewayTestCase):
    """VM_guest_metrics.networks from both guest-agent layouts, and vif data sources only for
    the NICs a guest has."""
    sim_vms = 40

    def running_with_metrics(self):
        out = []
        for ref, vm in self.s.call("VM.get_all_records").items():
            if vm["power_state"] != "Running" or vm["is_control_domain"] or vm["guest_metrics"] == NULL:
                continue
            gm = self.s.call("VM_guest_metrics.get_record", vm["guest_metrics"])
            out.append((ref, vm, gm))
        return out

    def test_both_agent_layouts(self):
        layouts = set()
        for ref, vm, gm in self.running_with_metrics():
            nets, distro = gm["networks"], gm["os_version"].get("distro", "")
            if not nets or vm["name_label"].startswith("hostile"):
                continue
            # XAPI's keys in both layouts: <dev>/ip = <dev>/ipv4/0, then <dev>/ipv6/<i>
            self.assertEqual(nets.get("0/ip"), nets.get("0/ipv4/0"), (vm["name_label"], nets))
            self.assertIn("0/ipv6/0", nets)
            self.assertTrue(all(k.split("/")[0] == "0" for k in nets), nets)
            layouts.add("eth" if distro == "centos" else "vif")
        self.assertEqual(layouts, {"eth", "vif"})

    def test_addresses_follow_the_nic(self):
        vm = self.s.call("VM.create", vm_create_record("e2e-gm-nonic"))
        try:
            self.s.call("VM.start", vm, False, False)
            # a VM made through the API runs with the guest agent on the sim
            gm = self.s.call("VM.get_guest_metrics", vm)
            self.assertNotEqual(gm, NULL)
            self.assertEqual(self.s.call("VM_guest_metrics.get_networks", gm), {})
            net = [p for p in self.s.call("PIF.get_all_records").values() if p["management"]][0]["network"]
            vif = self.s.call("VIF.create", vif_record(vm, net, "0"))
            self.s.call("VIF.plug", vif)
            # its agent now reports the address of its eth0
            nets = self.s.call("VM_guest_metrics.get_networks", self.s.call("VM.get_guest_metrics", vm))
            self.assertIn("0/ip", nets)
            self.assertEqual(nets["0/ip"], nets["0/ipv4/0"])
        finally:
            self.s.call("VM.hard_shutdown", vm)
            self.s.call("VM.destroy", vm)

    def test_vif_data_sources_only_for_nics(self):
        without = self.s.call("VM.create", vm_create_record("e2e-rrd-novif"))
        self.s.call("VM.start", without, False, False)
        uuid = self.s.call("VM.get_uuid", without)
        with_vif = [vm["uuid"] for ref, vm, gm in self.running_with_metrics() if vm["VIFs"]][0]

        def legend():
            host = self.s.call("host.get_all")[0]
            st = self.s.call("host.get_servertime", host).value
            import calendar, time
            now = calendar.timegm(time.strptime(st, "%Y%m%dT%H:%M:%SZ"))
            q = "start=%d&host=true&json=true&cf=AVERAGE&interval=5&session_id=%s" % (now - 300, self.s.ref)
            code, hdrs, body = self.gw.request("GET", "/rrd_updates?" + q)
            self.assertEqual(code, 200)
            leg = json.loads(body)["meta"]["legend"]
            mine = [e for e in leg if e.startswith("AVERAGE:vm:%s:" % uuid)]
            return leg if mine else None
        try:
            leg = wait_for(legend, 40, 0.5, "series of the new VM in /rrd_updates")
            self.assertNotIn("AVERAGE:vm:%s:vif_0_rx" % uuid, leg)
            self.assertIn("AVERAGE:vm:%s:vif_0_rx" % with_vif, leg)
            self.assertIn("AVERAGE:vm:%s:vif_0_tx" % with_vif, leg)
            host_uuid = self.s.call("host.get_uuid", self.s.call("host.get_all")[0])
            self.assertIn("AVERAGE:host:%s:pif_eth0_rx" % host_uuid, leg)
            self.assertNotIn("AVERAGE:host:%s:pif_eth1_rx" % host_uuid, leg)
        finally:
            self.s.call("VM.hard_shutdown", without)
            self.s.call("VM.destroy", without)


@sim_only
class PifAndMoveTest(GatewayTestCase):
    """PIF.scan/plug/unplug, network.set_MTU and VIF.move with xapi_pif.ml's, xapi_network.ml's
    and xapi_vif.ml's checks, reflected in what the host then reports."""
    sim_vms = 0

    def pif(self, device):
        return [r for r, p in self.s.call("PIF.get_all_records").items() if p["device"] == device][0]

    def running_vm_with_vif(self, net, name):
        vm = self.s.call("VM.create", vm_create_record(name))
        vif = self.s.call("VIF.create", vif_record(vm, net, "0"))
        self.s.call("VM.start", vm, False, False)
        self.addCleanup(self.s.call, "VM.destroy", vm)
        self.addCleanup(self.s.call, "VM.hard_shutdown", vm)
        return vm, vif

    def test_plug_unplug(self):
        eth0, eth1 = self.pif("eth0"), self.pif("eth1")
        host = self.s.call("host.get_all")[0]
        self.assertFailure(["PIF_IS_MANAGEMENT_IFACE", eth0], self.s.call, "PIF.unplug", eth0)
        self.s.call("PIF.unplug", eth1)
        self.assertFalse(self.s.call("PIF.get_currently_attached", eth1))
        m = self.s.call("PIF.get_metrics", eth1)
        self.assertFalse(self.s.call("PIF_metrics.get_carrier", m))
        self.assertEqual(self.s.call("PIF_metrics.get_speed", m), "1000")
        # a scan finds the same host: nothing is made or lost
        pifs = sorted(self.s.call("PIF.get_all"))
        self.s.call("PIF.scan", host)
        self.assertEqual(sorted(self.s.call("PIF.get_all")), pifs)
        self.assertFalse(self.s.call("PIF.get_currently_attached", eth1))
        self.s.call("PIF.plug", eth1)
        self.assertTrue(self.s.call("PIF.get_currently_attached", eth1))
        self.assertTrue(self.s.call("PIF_metrics.get_carrier", m))
        self.s.call("PIF.plug", eth1)         # already up: XAPI brings it up again, no error
        self.assertTrue(self.s.call("PIF.get_currently_attached", eth0))

    def test_unplug_refused_while_a_running_vm_uses_the_network(self):
        eth1 = self.pif("eth1")
        net1 = self.s.call("PIF.get_network", eth1)
        vm, vif = self.running_vm_with_vif(net1, "e2e-pif-inuse")
        self.assertFailure(["VIF_IN_USE", net1, vif], self.s.call, "PIF.unplug", eth1)
        self.assertTrue(self.s.call("PIF.get_currently_attached", eth1))
        self.s.call("VIF.unplug", vif)
        self.s.call("PIF.unplug", eth1)
        self.s.call("PIF.plug", eth1)

    def test_set_mtu(self):
        eth1 = self.pif("eth1")
        net1 = self.s.call("PIF.get_network", eth1)
        self.s.call("network.set_MTU", net1, "9000")
        self.assertEqual(self.s.call("network.get_MTU", net1), "9000")
        # the bridge's NIC took it: PIF.MTU is read back from the host
        self.assertEqual(self.s.call("PIF.get_MTU", eth1), "9000")
        for bad in ("10", "67", "70000", "-5"):
            self.assertFailure(["INVALID_VALUE", "MTU", bad], self.s.call, "network.set_MTU", net1, bad)
        self.assertEqual(self.s.call("network.get_MTU", net1), "9000")
        self.s.call("network.set_MTU", net1, "1500")
        self.assertEqual(self.s.call("PIF.get_MTU", eth1), "1500")
        # a network without a bridge yet keeps the MTU for when it is made
        n = self.s.call("network.create", {"name_label": "e2e-mtu", "name_description": "",
                                           "MTU": "1500", "other_config": {}})
        self.s.call("network.set_MTU", n, "4000")
        self.assertEqual(self.s.call("network.get_MTU", n), "4000")
        self.s.call("network.destroy", n)

    def test_reconfigure_ip(self):
        eth0, eth1 = self.pif("eth0"), self.pif("eth1")
        host = self.s.call("host.get_all")[0]
        call = self.s.call
        call("PIF.reconfigure_ip", eth1, "Static", "192.168.50.10", "255.255.255.0",
             "192.168.50.1", "192.168.50.53,fe80::53,bogus")
        rec = call("PIF.get_record", eth1)
        self.assertEqual((rec["ip_configuration_mode"], rec["IP"], rec["netmask"], rec["gateway"],
                          rec["DNS"]),
                         ("Static", "192.168.50.10", "255.255.255.0", "192.168.50.1", "192.168.50.53"))
        self.assertFalse(rec["management"])
        # XAPI's checks, in its order
        bad = [(("Static", "", "255.255.255.0", "", ""), "IP"),
               (("Static", "10.0.0.1", "", "", ""), "netmask"),
               (("Static", "10.0.0.1", "255.255.255.0", "10.0.0", ""), "gateway"),
               (("None", "10.0.0.300", "", "", ""), "IP"),
               (("Static", "10.0.0.1", "255.0.255.0", "", ""), "netmask")]
        for args, field in bad:
            self.assertFailure(["INVALID_IP_ADDRESS_SPECIFIED", field], call,
                               "PIF.reconfigure_ip", eth1, *args)
        self.assertFailure(["PIF_IS_MANAGEMENT_IFACE", eth0], call,
                           "PIF.reconfigure_ip", eth0, "None", "", "", "", "")
        self.assertFailure("OPERATION_NOT_ALLOWED", call, "PIF.reconfigure_ip", eth1, "DHCP",
                           "", "", "", "")
        self.assertEqual(call("PIF.get_IP", eth1), "192.168.50.10")
        call("PIF.reconfigure_ip", eth1, "None", "", "", "", "")
        rec = call("PIF.get_record", eth1)
        self.assertEqual((rec["ip_configuration_mode"], rec["IP"], rec["gateway"], rec["DNS"]),
                         ("None", "", "", ""))
        # the management interface keeps its role when its address changes: the host's
        # address follows it
        old = call("host.get_address", host)
        call("PIF.reconfigure_ip", eth0, "Static", "127.0.0.2", "255.0.0.0", "", "")
        self.assertEqual(call("host.get_address", host), "127.0.0.2")
        rec = call("PIF.get_record", eth0)
        self.assertEqual((rec["IP"], rec["netmask"], rec["management"]), ("127.0.0.2", "255.0.0.0", True))
        call("PIF.reconfigure_ip", eth0, "Static", old, "255.255.255.0", "", "")
        self.assertEqual(call("host.get_address", host), old)
        self.assertTrue(call("PIF.get_management", eth0))

    def test_vif_move(self):
        net0 = self.s.call("PIF.get_network", self.pif("eth0"))
        net1 = self.s.call("PIF.get_network", self.pif("eth1"))
        vm, vif = self.running_vm_with_vif(net0, "e2e-vif-move")
        mac = self.s.call("VIF.get_MAC", vif)
        self.s.call("VIF.move", vif, net1)
        rec = self.s.call("VIF.get_record", vif)
        self.assertEqual((rec["network"], rec["currently_attached"], rec["MAC"]), (net1, True, mac))
        self.assertNotIn(vif, self.s.call("network.get_VIFs", net0))
        self.assertIn(vif, self.s.call("network.get_VIFs", net1))
        # an internal network's bridge is made on demand
        internal = self.s.call("network.create", {"name_label": "e2e-move", "name_description": "",
                                                  "MTU": "1500", "other_config": {}})
        task = self.s.call("Async.VIF.move", vif, internal)
        self.assertEqual(wait_task(self.s, task)["status"], "success")
        self.assertEqual(self.s.call("VIF.get_network", vif), internal)
        # a plugged VIF cannot move to a network the host cannot attach
        absent = self.s.call("network.create", {"name_label": "e2e-absent", "name_description": "",
                                                "MTU": "1500", "other_config": {},
                                                "bridge": "br-gone", "managed": False})
        host = self.s.call("VM.get_resident_on", vm)
        self.assertFailure(["HOST_CANNOT_ATTACH_NETWORK", host, absent], self.s.call,
                           "VIF.move", vif, absent)
        self.assertEqual(self.s.call("VIF.get_network", vif), internal)
        # an unplugged VIF only changes its record
        self.s.call("VIF.unplug", vif)
        self.s.call("VIF.move", vif, absent)
        self.assertEqual(self.s.call("VIF.get_network", vif), absent)
        self.s.call("VIF.move", vif, net0)
        self.s.call("VIF.plug", vif)
        self.s.call("network.destroy", absent)
        self.s.call("network.destroy", internal)
        self.assertFailure(["HANDLE_INVALID", "network", "OpaqueRef:nope"], self.s.call,
                           "VIF.move", vif, "OpaqueRef:nope")


@sim_only
class BareHostTest(GatewayTestCase):
    """A host with no guests: only the PIF and the system flag protect its networks."""
    sim_vms = 0

    def test_system_networks_cannot_be_destroyed(self):
        nets = self.s.call("network.get_all_records")
        phys = [r for r, n in nets.items() if n["PIFs"]][0]
        self.assertFailure(["NETWORK_CONTAINS_PIF", nets[phys]["PIFs"][0]], self.s.call,
                           "network.destroy", phys)
        internal = [r for r, n in nets.items()
                    if n["other_config"].get("is_host_internal_management_network") == "true"][0]
        self.assertFailure(["CANNOT_DESTROY_SYSTEM_NETWORK", internal], self.s.call,
                           "network.destroy", internal)

    def test_networks_are_bounded(self):
        made = []
        try:
            for i in range(300):
                made.append(self.s.call("network.create", {"name_label": "bound-%d" % i,
                                                           "name_description": "", "MTU": "1500",
                                                           "other_config": {}}))
        except Exception as e:
            self.assertEqual(e.details, ["OPERATION_NOT_ALLOWED",
                                         "This host has reached its limit of networks"])
        self.assertEqual(len(self.s.call("network.get_all")), 192)
        for n in made:
            self.s.call("network.destroy", n)
        self.assertEqual(len(self.s.call("network.get_all")), 192 - len(made))


@sim_only
class NetworkPersistenceTest(GatewayTestCase):
    def test_records_survive_restart(self):
        vm = self.s.call("VM.create", vm_create_record("e2e-net-persist"))
        n = self.s.call("network.create", {"name_label": "e2e-persist", "name_description": "",
                                           "MTU": "1400", "other_config": {}})
        vif = self.s.call("VIF.create", vif_record(vm, n, "0", "02:00:00:00:00:42"))
        pifs = sorted(self.s.call("PIF.get_all"))
        self.gw.restart()
        from gateway import XapiSession
        s = XapiSession(self.gw)
        self.assertEqual(s.call("network.get_MTU", n), "1400")
        self.assertEqual(s.call("network.get_VIFs", n), [vif])
        self.assertEqual(s.call("VIF.get_MAC", vif), "02:00:00:00:00:42")
        self.assertEqual(s.call("VM.get_VIFs", vm), [vif])
        self.assertEqual(sorted(s.call("PIF.get_all")), pifs)
        # its bridge was made again on the (simulated) host: the VM starts
        s.call("VM.start", vm, False, False)
        self.assertTrue(s.call("VIF.get_currently_attached", vif))
        s.call("VM.hard_shutdown", vm)


@sim_only
class LockedAcrossRestartTest(GatewayTestCase):
    def test_locked_vif_of_a_running_guest_across_restart(self):
        """A guest found running at start-up (the sim's fixture guests are, as libxl's survive
        a restart) whose VIF is locked gets its filter while the objects are still being built."""
        running = [r for r, v in self.s.call("VM.get_all_records").items()
                   if v["power_state"] == "Running" and not v["is_control_domain"] and v["VIFs"]]
        self.assertTrue(running)
        vif = self.s.call("VM.get_VIFs", running[0])[0]
        self.s.call("VIF.set_ipv4_allowed", vif, ["10.0.0.9"])
        self.s.call("VIF.set_locking_mode", vif, "locked")
        self.gw.restart()
        from gateway import XapiSession
        s = XapiSession(self.gw)
        self.assertEqual(s.call("VIF.get_locking_mode", vif), "locked")
        self.assertTrue(s.call("VIF.get_currently_attached", vif))
        s.call("VIF.set_locking_mode", vif, "unlocked")


if __name__ == "__main__":
    unittest.main()
