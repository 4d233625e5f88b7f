"""Guest-controlled data in what we emit: the sim driver's hostile guest (fixture index 3) reports
invalid UTF-8, an overlong '/', a UTF-16 surrogate, control characters and markup in its xenstore
data (handlers/driver/sim/sim_guest.c). Every response carrying it must be well-formed XML 1.0 /
valid JSON and valid UTF-8 (XSA-474)."""
import json
import re
import xml.etree.ElementTree as ET

from hostile import HostileCase, exchange, json_call, post_bytes, xml_call

XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class HostileGuestTest(HostileCase):
    sim_vms = 8

    def raw(self, method, *params):
        r = exchange(self.gw, post_bytes(xml_call(method, self.ref, *params)), timeout=30)
        self.assertEqual(r.status, 200, r)
        return r

    def check_xml(self, body, what):
        text = body.decode("utf-8")           # raises on invalid UTF-8
        self.assertIsNone(XML_ILLEGAL.search(text), "%s: XML-illegal character" % what)
        ET.fromstring(body)                    # expat: well-formed
        return text

    def check_strings(self, obj, path=""):
        if isinstance(obj, str):
            self.assertIsNone(XML_ILLEGAL.search(obj), "illegal char at %s: %r" % (path, obj[:80]))
        elif isinstance(obj, dict):
            for k, v in obj.items():
                self.check_strings(k, path + "/key")
                self.check_strings(v, path + "/" + str(k)[:40])
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                self.check_strings(v, "%s[%d]" % (path, i))

    def hostile_metrics(self):
        recs = self.raw("VM_guest_metrics.get_all_records").xml()
        hits = [ (ref, rec) for ref, rec in recs.items()
                 if "Debian" in rec.get("os_version", {}).get("name", "")
                 and "GNU" in rec["os_version"]["name"] and "\ufffd" in rec["os_version"]["name"]]
        return recs, hits

    def test_guest_metrics_xml_well_formed(self):
        r = self.raw("VM_guest_metrics.get_all_records")
        self.check_xml(r.body, "VM_guest_metrics.get_all_records")
        recs, hits = self.hostile_metrics()
        self.assertEqual(len(hits), 1, "hostile guest (fixture index 3) not found among %d metrics" % len(recs))
        ref, rec = hits[0]
        self.check_strings(rec)
        name = rec["os_version"]["name"]
        self.assertNotIn("\x1b", name)
        self.assertNotIn("\x01", name)
        # networks: "999.1.1.1\x01<script>" must come out escaped and without the control byte
        for v in rec.get("networks", {}).values():
            self.assertNotIn("\x01", v)
        self.check_xml(self.raw("VM_guest_metrics.get_record", ref).body, "get_record")
        self.check_xml(self.raw("VM_guest_metrics.get_os_version", ref).body, "get_os_version")

    def test_guest_metrics_json_valid(self):
        body = json_call("VM_guest_metrics.get_all_records", [self.ref])
        r = exchange(self.gw, post_bytes(body, path="/jsonrpc", ctype=b"application/json"), timeout=30)
        self.assertEqual(r.status, 200, r)
        r.body.decode("utf-8")
        j = json.loads(r.body)
        self.check_strings(j["result"])

    def test_vm_records_and_events_carry_guest_data_safely(self):
        self.check_xml(self.raw("VM.get_all_records").body, "VM.get_all_records")
        r = self.raw("event.from", ["vm_guest_metrics", "vm"], "", 0.1)
        self.check_xml(r.body, "event.from")

    def test_big_and_many_guest_keys_bounded(self):
        # data/hostile/big (100 KiB) and 5000 data/hostile/many keys must be capped
        # (limits.h: XG_GUEST_KEY_BYTES 1024, XG_GUEST_KEYS_MAX 256)
        recs, hits = self.hostile_metrics()
        _, rec = hits[0]
        for field in ("other", "networks", "disks", "os_version", "PV_drivers_version"):
            m = rec.get(field, {})
            self.assertLessEqual(len(m), 256, "%s has %d keys" % (field, len(m)))
            for k, v in m.items():
                self.assertLessEqual(len(v.encode()), 1024 * 3, "%s[%s] is %d bytes" % (field, k, len(v)))
        self.assertAlive(what="guest metrics")
