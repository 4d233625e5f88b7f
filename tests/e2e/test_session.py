"""Sessions, system.listMethods and generic dispatch errors over XML-RPC (as XenAPI.py sees them)."""
import unittest

from gateway import GatewayTestCase, Failure, XapiSession
from schema import REF_RE, check_record


class SessionTest(GatewayTestCase):
    def login(self, *args):
        return self.s.raw("session.login_with_password", *args)

    def test_login_2_3_4_params(self):
        for args in [(self.gw.user, self.gw.password),
                     (self.gw.user, self.gw.password, "1.1"),
                     (self.gw.user, self.gw.password, "2.21", "xg-e2e/1.0")]:
            ref = self.login(*args)
            self.assertRegex(ref, REF_RE, "login with %d params" % len(args))
            self.assertNotEqual(ref, "OpaqueRef:NULL")
            # the new session works
            self.assertIsInstance(self.s.raw("pool.get_all", ref), list)
            self.s.raw("session.logout", ref)

    def test_login_param_count(self):
        self.assertFailure(["MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", "1"],
                           self.login, self.gw.user)

    def test_bad_password(self):
        e = self.assertFailure("SESSION_AUTHENTICATION_FAILED", self.login, self.gw.user, "definitely-wrong")
        # XAPI sends [uname; PAM message]
        self.assertEqual(len(e.details), 3, e.details)
        self.assertEqual(e.details[1], self.gw.user)
        self.assertIsInstance(e.details[2], str)

    def test_unknown_user(self):
        e = self.assertFailure("SESSION_AUTHENTICATION_FAILED", self.login, "no-such-user-e2e", "x")
        self.assertEqual(e.details[1], "no-such-user-e2e")

    def test_session_invalid(self):
        bogus = "OpaqueRef:00000000-1111-2222-3333-444444444444"
        self.assertFailure(["SESSION_INVALID", bogus], self.s.raw, "VM.get_all", bogus)
        self.assertFailure(["SESSION_INVALID", "garbage"], self.s.raw, "pool.get_all_records", "garbage")

    def test_logout(self):
        ref = self.login(self.gw.user, self.gw.password)
        self.assertEqual(self.s.raw("session.logout", ref), "")
        self.assertFailure(["SESSION_INVALID", ref], self.s.raw, "VM.get_all", ref)
        self.assertFailure(["SESSION_INVALID", ref], self.s.raw, "session.logout", ref)

    def test_session_getters_take_session_twice(self):
        s = self.s.ref
        host = self.s.raw("session.get_this_host", s, s)
        self.assertIn(host, self.s.call("host.get_all"))
        rec = self.s.raw("session.get_record", s, s)
        self.assertEqual(check_record("session", s, rec), [])
        self.assertEqual(rec["this_host"], host)
        self.assertIs(rec["is_local_superuser"], True)
        self.assertEqual(rec["originator"], "xg-e2e")
        self.assertEqual(self.s.raw("session.get_uuid", s, s), rec["uuid"])
        self.assertEqual(self.s.raw("session.get_originator", s, s), "xg-e2e")

    def test_session_valid_across_protocols(self):
        r = self.gw.jsonrpc({"jsonrpc": "2.0", "method": "VM.get_all", "params": [self.s.ref], "id": 1})
        self.assertIn("result", r, r)
        self.assertEqual(sorted(r["result"]), sorted(self.s.call("VM.get_all")))

    def test_list_methods_without_session(self):
        methods = self.gw.proxy().system.listMethods()
        # unwrapped: a bare array, not a Status/Value struct
        self.assertIsInstance(methods, list)
        self.assertTrue(all(isinstance(m, str) for m in methods))
        for m in ["session.login_with_password", "session.logout", "pool.get_all_records",
                  "host.get_all_records", "VM.get_all_records", "VM_metrics.get_all_records",
                  "host_metrics.get_all_records", "task.get_all_records", "event.from", "event.inject",
                  "VM.start", "VM.get_record", "VM.get_by_uuid", "VM.get_name_label",
                  "pool.add_to_other_config", "task.create", "task.destroy", "host.get_servertime"]:
            self.assertIn(m, methods)
        self.assertFalse([m for m in methods if m.startswith("Async.")], "Async.* must not be listed")
        self.assertEqual(len(methods), len(set(methods)), "duplicates in listMethods")
        # XO: ignores any params
        self.assertEqual(sorted(self.gw.proxy().system.listMethods("x")), sorted(methods))

    def test_method_unknown(self):
        self.assertFailure(["MESSAGE_METHOD_UNKNOWN", "VM.no_such_message"], self.s.call, "VM.no_such_message")
        self.assertFailure(["MESSAGE_METHOD_UNKNOWN", "nosuchclass.get_all"], self.s.call, "nosuchclass.get_all")

    def test_param_count_mismatch(self):
        vm = self.s.call("VM.get_all")[0]
        # expected excludes the session; received = params - 1
        self.assertFailure(["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.start", "3", "1"], self.s.call, "VM.start", vm)
        self.assertFailure(["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "1", "0"], self.s.call, "VM.get_record")
        self.assertFailure(["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "1", "2"],
                           self.s.call, "VM.get_record", vm, vm)
        self.assertFailure(["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.set_name_label", "2", "1"],
                           self.s.call, "VM.set_name_label", vm)


if __name__ == "__main__":
    unittest.main()
