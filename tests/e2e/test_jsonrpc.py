"""JSON-RPC v1 and v2 envelopes, ids, encodings (as Xen Orchestra and xo-lite use them)."""
import json
import unittest

from gateway import GatewayTestCase
from schema import check_record


class JsonRpcTest(GatewayTestCase):
    def j(self, method, params, id=0, version="2.0"):
        req = {"method": method, "params": params, "id": id}
        if version:
            req = {"jsonrpc": version, **req}
        return self.gw.jsonrpc(req)

    def test_v2_success_shape(self):
        st, h, data = self.gw.jsonrpc({"id": 0, "jsonrpc": "2.0", "method": "session.login_with_password",
                                       "params": [self.gw.user, self.gw.password]}, raw=True)
        self.assertEqual(st, 200)
        ct = [v for k, v in h if k.lower() == "content-type"]
        self.assertEqual(ct, ["application/json"])
        self.assertIn(("Access-Control-Allow-Origin", "*"), [(k, v) for k, v in h])
        r = json.loads(data)
        self.assertEqual(set(r), {"jsonrpc", "result", "id"}, r)
        self.assertEqual(r["jsonrpc"], "2.0")
        self.assertEqual(r["id"], 0)
        self.assertTrue(r["result"].startswith("OpaqueRef:"))

    def test_v2_error_shape(self):
        bogus = "OpaqueRef:00000000-0000-0000-0000-000000000002"
        r = self.j("VM.get_all", [bogus], id=5)
        self.assertEqual(r, {"jsonrpc": "2.0", "error": {"code": 1, "message": "SESSION_INVALID",
                                                          "data": [bogus]}, "id": 5})

    def test_v2_login_failure(self):
        r = self.j("session.login_with_password", [self.gw.user, "wrong"])
        self.assertEqual(set(r), {"jsonrpc", "error", "id"})
        self.assertEqual(r["error"]["code"], 1)
        self.assertEqual(r["error"]["message"], "SESSION_AUTHENTICATION_FAILED")
        self.assertEqual(r["error"]["data"][0], self.gw.user)

    def test_v1_shapes(self):
        r = self.j("pool.get_all", [self.s.ref], id=3, version=None)
        self.assertEqual(set(r), {"result", "error", "id"})
        self.assertIsNone(r["error"])
        self.assertEqual(r["id"], 3)
        self.assertEqual(len(r["result"]), 1)
        r = self.j("VM.no_such_message", [self.s.ref], id=4, version=None)
        self.assertEqual(r, {"result": None, "error": ["MESSAGE_METHOD_UNKNOWN", "VM.no_such_message"], "id": 4})

    def test_id_echoed(self):
        for id_ in [0, 7, 123456789, "abc", "0"]:
            for v in ["2.0", None]:
                r = self.j("pool.get_all", [self.s.ref], id=id_, version=v)
                self.assertEqual(r["id"], id_)
                self.assertIs(type(r["id"]), type(id_))

    def test_missing_id_is_500(self):
        st, h, data = self.gw.jsonrpc({"jsonrpc": "2.0", "method": "pool.get_all", "params": [self.s.ref]},
                                      raw=True)
        self.assertEqual(st, 500)

    def test_list_methods_wrapped(self):
        r = self.j("system.listMethods", [])
        self.assertIsInstance(r["result"], list)
        self.assertIn("VM.get_all_records", r["result"])

    def test_json_encodings(self):
        r = self.j("VM.get_all_records", [self.s.ref])
        errs = []
        for ref, rec in r["result"].items():
            errs += check_record("VM", ref, rec, wire="json")
        self.assertEqual(errs, [], "\n".join(errs[:40]))
        dom0 = [rec for rec in r["result"].values() if rec["is_control_domain"]][0]
        self.assertIs(type(dom0["memory_static_max"]), int)
        self.assertEqual(dom0["domid"], 0)
        host = self.j("host.get_all", [self.s.ref])["result"][0]
        t = self.j("host.get_servertime", [self.s.ref, host])["result"]
        self.assertRegex(t, r"^\d{8}T\d\d:\d\d:\d\dZ$")
        for cls in ["pool", "host", "host_metrics", "VM_metrics", "task"]:
            errs = []
            for ref, rec in self.j(cls + ".get_all_records", [self.s.ref])["result"].items():
                errs += check_record(cls, ref, rec, wire="json")
            self.assertEqual(errs, [], "\n".join(errs[:40]))

    def test_void_result(self):
        pool = self.j("pool.get_all", [self.s.ref])["result"][0]
        r = self.j("pool.remove_from_other_config", [self.s.ref, pool, "e2e-absent"])
        self.assertEqual(r, {"jsonrpc": "2.0", "result": "", "id": 0})

    def test_int_params_as_number_and_string(self):
        vm = [ref for ref, rec in self.j("VM.get_all_records", [self.s.ref])["result"].items()
              if rec["is_control_domain"]][0]
        old = self.j("VM.get_user_version", [self.s.ref, vm])["result"]
        for v in [5, "6"]:
            r = self.j("VM.set_user_version", [self.s.ref, vm, v])
            self.assertNotIn("error", r, r)
            self.assertEqual(self.j("VM.get_user_version", [self.s.ref, vm])["result"], int(v))
        self.j("VM.set_user_version", [self.s.ref, vm, old])

    def test_param_count_error(self):
        r = self.j("VM.get_record", [self.s.ref])
        self.assertEqual(r["error"], {"code": 1, "message": "MESSAGE_PARAMETER_COUNT_MISMATCH",
                                      "data": ["VM.get_record", "1", "0"]})

    def test_event_from_json(self):
        r = self.j("event.from", [self.s.ref, ["pool"], "", 0.1])["result"]
        self.assertEqual(set(r), {"events", "valid_ref_counts", "token"})
        self.assertIsInstance(r["valid_ref_counts"]["task"], int)
        self.assertEqual([e["operation"] for e in r["events"]], ["add"])
        self.assertEqual(r["events"][0]["class"], "pool")


if __name__ == "__main__":
    unittest.main()
