"""Async calls and tasks, event.from / event.inject semantics as XO relies on them."""
import time
import unittest
import xmlrpc.client

from gateway import Background, GatewayTestCase, Failure, XapiSession, scaled, wait_task
from schema import REF_RE, check_record
from test_records import vm_create_record
from test_vm_lifecycle import lifecycle_record, needs_guest

NULL = "OpaqueRef:NULL"


def parse_value_fragment(frag):
    """Parse a task result '<value>…</value>' the way XO does (as an XML-RPC value)."""
    doc = ("<?xml version='1.0'?><methodResponse><params><param>%s</param></params></methodResponse>" % frag)
    return xmlrpc.client.loads(doc)[0][0]


class TasksTest(GatewayTestCase):
    def test_async_success_ref_result(self):
        vm = self.s.call("VM.create", vm_create_record("e2e-async-src"))
        try:
            task = self.s.call("Async.VM.clone", vm, "e2e-async-clone")
            self.assertRegex(task, REF_RE)
            rec = self.s.call("task.get_record", task)
            self.assertEqual(check_record("task", task, rec), [])
            self.assertEqual(rec["name_label"], "Async.VM.clone")
            rec = wait_task(self.s, task)
            self.assertEqual(rec["status"], "success", rec)
            self.assertEqual(rec["progress"], 1.0)
            self.assertEqual(rec["error_info"], [])
            self.assertRegex(rec["result"], r"^<value>OpaqueRef:[0-9a-f-]{36}</value>$")
            clone = parse_value_fragment(rec["result"])
            self.assertEqual(self.s.call("VM.get_name_label", clone), "e2e-async-clone")
            self.assertNotEqual(rec["finished"].value, "19700101T00:00:00Z")
            self.assertEqual(self.s.call("task.destroy", task), "")
            self.assertFailure(["HANDLE_INVALID", "task", task], self.s.call, "task.get_record", task)
            self.s.call("VM.destroy", clone)
        finally:
            self.s.call("VM.destroy", vm)

    @needs_guest
    def test_async_void_and_failure(self):
        vm = self.s.call("VM.create", lifecycle_record("e2e-async-void"))
        try:
            task = self.s.call("Async.VM.start", vm, False, False)
            rec = wait_task(self.s, task)
            self.assertEqual(rec["status"], "success", rec)
            self.assertIn(rec["result"], ("", "<value></value>"))
            self.assertEqual(self.s.call("VM.get_power_state", vm), "Running")
            self.s.call("task.destroy", task)
            task = self.s.call("Async.VM.start", vm, False, False)
            rec = wait_task(self.s, task)
            self.assertEqual(rec["status"], "failure")
            self.assertEqual(rec["error_info"], ["VM_BAD_POWER_STATE", vm, "halted", "running"])
            self.assertEqual(rec["result"], "")
            self.s.call("task.destroy", task)
            task = self.s.call("Async.VM.hard_shutdown", vm)
            self.assertEqual(wait_task(self.s, task)["status"], "success")
            self.s.call("task.destroy", task)
        finally:
            self.s.call("VM.destroy", vm)

    @needs_guest
    def test_cancel_async_start(self):
        # building a domain takes time (sim: --sim-delay-ms, 200 ms; libxl: seconds): a
        # task.cancel right after Async.VM.start lands while it runs
        vm = self.s.call("VM.create", lifecycle_record("e2e-cancel"))
        try:
            task = self.s.call("Async.VM.start", vm, False, False)
            self.assertIn("cancel", self.s.call("task.get_allowed_operations", task))
            self.assertEqual(self.s.call("task.cancel", task), "")
            rec = wait_task(self.s, task)
            self.assertEqual(rec["status"], "cancelled", rec)
            self.assertEqual(rec["error_info"], ["TASK_CANCELLED", task])
            self.assertEqual(self.s.call("VM.get_power_state", vm), "Halted")
            self.assertEqual(self.s.call("VM.get_current_operations", vm), {})
            self.assertEqual(int(self.s.call("VM.get_domid", vm)), -1)
            # a settled task cannot be cancelled
            self.assertFailure(["OPERATION_NOT_ALLOWED", "This task cannot be cancelled"],
                               self.s.call, "task.cancel", task)
            self.s.call("task.destroy", task)
        finally:
            self.s.call("VM.destroy", vm)

    def test_async_errors_before_task(self):
        vm = self.s.call("VM.get_all")[0]
        e = self.assertFailure("MESSAGE_PARAMETER_COUNT_MISMATCH", self.s.call, "Async.VM.start", vm)
        self.assertIn(e.details, [["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.start", "3", "1"],
                                  ["MESSAGE_PARAMETER_COUNT_MISMATCH", "Async.VM.start", "3", "1"]])
        bogus = "OpaqueRef:00000000-0000-0000-0000-000000000003"
        self.assertFailure(["SESSION_INVALID", bogus], self.s.raw, "Async.VM.start", bogus, vm, False, False)

    def test_task_create_destroy(self):
        n0 = len(self.s.call("task.get_all"))
        t = self.s.call("task.create", "e2e-task", "desc")
        rec = self.s.call("task.get_record", t)
        self.assertEqual(check_record("task", t, rec), [])
        self.assertEqual(rec["status"], "pending")
        self.assertEqual(rec["name_label"], "e2e-task")
        self.assertEqual(rec["name_description"], "desc")
        self.assertEqual(rec["finished"].value, "19700101T00:00:00Z")
        self.assertEqual(rec["subtask_of"], NULL)
        self.assertEqual(len(self.s.call("task.get_all")), n0 + 1)
        # XAPI: destroying a still-pending task only marks it (current_operations), it stays
        self.assertEqual(self.s.call("task.destroy", t), "")
        self.assertEqual(self.s.call("task.get_status", t), "pending")
        self.assertIn("destroy", self.s.call("task.get_current_operations", t).values())


PARKED = "event: call parked"     # the gateway's debug line once an event.from waits


class EventsTest(GatewayTestCase):
    # debug: the gateway logs PARKED, the state the tests below wait for instead of sleeping
    extra_args = ("--log-level", "debug")
    # event.from timeouts far beyond any hang guard: a call answered within the guard was woken
    # by what the test did, not by its own timeout
    LONG = 3600.0

    def event_from(self, s, classes, token, timeout):
        return s.call("event.from", classes, token, timeout)

    def parked(self):
        return None if self.gw.remote else self.gw.log_count(PARKED)

    def wait_parked(self, before, waiter):
        """Wait until one more event.from is parked in the gateway than `before` (with a remote
        gateway, whose log is out of reach, only that the waiter has not returned)."""
        if before is not None:
            self.gw.wait_log(PARKED, before + 1)
        self.assertTrue(waiter.running(), "event.from returned before anything woke it")

    def test_from_empty_token_adds_everything(self):
        classes = ["pool", "host", "VM", "VM_metrics", "host_metrics", "task"]
        # with token '' the call answers at once: were it to wait for its timeout, the
        # hang guard below would trip long before
        waiter = Background(self.event_from, self.s, classes, "", self.LONG)
        r = waiter.join(60)
        self.assertEqual(set(r), {"events", "valid_ref_counts", "token"})
        self.assertIsInstance(r["token"], str)
        seen = {}
        for e in r["events"]:
            self.assertEqual(e["operation"], "add")
            self.assertIsInstance(e["id"], str)
            self.assertIsInstance(e["timestamp"], str)
            self.assertEqual(e["class"], e["class"].lower(), "class names in events are lower case")
            seen.setdefault(e["class"], set()).add(e["ref"])
            cls = {c.lower(): c for c in classes}[e["class"]]
            self.assertEqual(check_record(cls, e["ref"], e["snapshot"]), [])
        for cls in classes:
            self.assertEqual(seen.get(cls.lower(), set()), set(self.s.call(cls + ".get_all")), cls)
        vrc = r["valid_ref_counts"]
        self.assertIsInstance(vrc, dict)
        for k, v in vrc.items():
            self.assertIsInstance(v, int, "valid_ref_counts values are <i4>")
        self.assertEqual(vrc["task"], len(self.s.call("task.get_all")))
        self.assertEqual(vrc["vm"], len(self.s.call("VM.get_all")))

    def test_mod_from_other_connection(self):
        vm = self.s.call("VM.create", vm_create_record("e2e-ev-mod"))
        try:
            tok = self.event_from(self.s, ["vm"], "", 1.0)["token"]
            other = XapiSession(self.gw)
            before = self.parked()
            waiter = Background(self.event_from, self.s, ["vm"], tok, self.LONG)
            self.wait_parked(before, waiter)
            other.call("VM.set_name_label", vm, "e2e-ev-mod-2")
            r = waiter.join(60)          # woken by the change, not by its 1 h timeout
            evs = [e for e in r["events"] if e["ref"] == vm]
            self.assertEqual(len(evs), 1, r["events"])
            self.assertEqual(evs[0]["operation"], "mod")
            self.assertEqual(evs[0]["class"], "vm")
            self.assertEqual(evs[0]["snapshot"]["name_label"], "e2e-ev-mod-2")
            other.logout()
        finally:
            self.s.call("VM.destroy", vm)

    def test_del_has_no_snapshot(self):
        vm = self.s.call("VM.create", vm_create_record("e2e-ev-del"))
        tok = self.event_from(self.s, ["vm"], "", 1.0)["token"]
        self.s.call("VM.destroy", vm)
        r = self.event_from(self.s, ["vm"], tok, 5.0)
        evs = [e for e in r["events"] if e["ref"] == vm]
        self.assertEqual(len(evs), 1, r["events"])
        self.assertEqual(evs[0]["operation"], "del")
        self.assertNotIn("snapshot", evs[0])

    def test_add_then_coalesced(self):
        tok = self.event_from(self.s, ["vm"], "", 1.0)["token"]
        vm = self.s.call("VM.create", vm_create_record("e2e-ev-add"))
        self.s.call("VM.set_name_label", vm, "e2e-ev-add-2")
        r = self.event_from(self.s, ["vm"], tok, 5.0)
        evs = [e for e in r["events"] if e["ref"] == vm]
        self.assertEqual([e["operation"] for e in evs], ["add"], "one event per object per call")
        self.assertEqual(evs[0]["snapshot"]["name_label"], "e2e-ev-add-2")
        self.s.call("VM.destroy", vm)

    def test_timeout_honoured(self):
        tok = self.event_from(self.s, ["console"], "", 1.0)["token"]
        t0 = time.monotonic()
        r = self.event_from(self.s, ["console"], tok, 2.0)
        dt = time.monotonic() - t0
        self.assertEqual(r["events"], [])
        self.assertEqual(r["token"], tok, "an empty batch keeps the token")
        # a lower bound holds on any machine; the upper one is only a hang guard
        # (tools/bench reports how close to the timeout the answer comes)
        self.assertGreaterEqual(dt, 1.9, "returned an empty batch before the timeout")
        self.assertLess(dt, 2.0 + scaled(30), "the timeout was not honoured")
        self.assertIn("task", r["valid_ref_counts"])

    def test_served_concurrently_while_blocked(self):
        pool = self.s.call("pool.get_all")[0]
        tok = self.event_from(self.s, ["pool"], "", 1.0)["token"]
        before = self.parked()
        waiter = Background(self.event_from, XapiSession(self.gw), ["pool"], tok, self.LONG)
        self.wait_parked(before, waiter)
        # other calls are answered while the waiter is parked...
        for _ in range(5):
            self.assertIn(pool, self.s.call("pool.get_all_records"))
        self.assertTrue(waiter.running(), "the parked event.from returned without a change")
        # ...and the parked one is answered by the change it waits for (join() re-raises the
        # waiter's exception, if any)
        key = "e2e-concurrent"
        self.s.call("pool.add_to_other_config", pool, key, "1")
        try:
            r = waiter.join(60)
        finally:
            self.s.call("pool.remove_from_other_config", pool, key)
        evs = [e for e in r["events"] if e["class"] == "pool" and e["ref"] == pool]
        self.assertEqual([e["operation"] for e in evs], ["mod"], r["events"])
        self.assertEqual(evs[0]["snapshot"]["other_config"].get(key), "1")

    def test_inject(self):
        pool = self.s.call("pool.get_all")[0]
        tok = self.s.call("event.inject", "pool", pool)
        self.assertIsInstance(tok, str)
        r = self.event_from(self.s, ["pool"], tok, 5.0)
        evs = [e for e in r["events"] if e["ref"] == pool]
        self.assertTrue(evs, r)
        self.assertIn(evs[0]["operation"], ("mod", "add"))
        self.assertEqual(check_record("pool", pool, evs[0]["snapshot"]), [])
        bogus = "OpaqueRef:00000000-0000-0000-0000-000000000004"
        self.assertFailure(["HANDLE_INVALID", "pool", bogus], self.s.call, "event.inject", "pool", bogus)

    def test_barrier_like_xo(self):
        pool = self.s.call("pool.get_all")[0]
        tok = self.s.call("event.inject", "pool", pool)
        self.event_from(self.s, ["pool"], tok, 1.0)
        tok = self.event_from(self.s, ["pool"], tok, 0.1)["token"]
        key = "xo:barrier:e2e%d" % int(time.time())
        self.s.call("pool.add_to_other_config", pool, key, str(int(time.time() * 1000)))
        deadline = time.monotonic() + scaled(10)
        found = False
        while not found and time.monotonic() < deadline:
            r = self.event_from(self.s, ["pool"], tok, 5.0)
            tok = r["token"]
            found = any(e["class"] == "pool" and key in e["snapshot"]["other_config"]
                        for e in r["events"] if e["operation"] in ("add", "mod"))
        self.assertTrue(found, "no pool mod event with the barrier key")
        self.s.call("pool.remove_from_other_config", pool, key)

    def test_task_events_and_counts(self):
        tok = self.event_from(self.s, ["task"], "", 1.0)["token"]
        t = self.s.call("task.create", "e2e-ev-task", "")
        r = self.event_from(self.s, ["task"], tok, 5.0)
        self.assertIn(("add", t), [(e["operation"], e["ref"]) for e in r["events"]])
        self.assertEqual(r["valid_ref_counts"]["task"], len(self.s.call("task.get_all")))
        # XAPI only marks a pending task on destroy; a settled one goes
        self.s.call("task.destroy", t)
        r = self.event_from(self.s, ["task"], r["token"], 5.0)
        self.assertIn(("mod", t), [(e["operation"], e["ref"]) for e in r["events"]])
        self.assertEqual(self.s.call("task.get_current_operations", t), {"task": "destroy"})
        self.s.call("task.set_status", t, "success")
        self.s.call("task.destroy", t)
        r = self.event_from(self.s, ["task"], r["token"], 5.0)
        self.assertIn(("del", t), [(e["operation"], e["ref"]) for e in r["events"]])
        self.assertEqual(r["valid_ref_counts"]["task"], len(self.s.call("task.get_all")))

    def test_logout_wakes_blocked_event_from(self):
        other = XapiSession(self.gw)
        tok = self.event_from(other, ["console"], "", 1.0)["token"]
        before = self.parked()
        waiter = Background(self.event_from, other, ["console"], tok, self.LONG)
        self.wait_parked(before, waiter)
        self.s.raw("session.logout", other.ref)
        with self.assertRaises(Failure) as cm:
            waiter.join(60)
        self.assertEqual(cm.exception.details, ["SESSION_INVALID", other.ref])

    def test_bad_token(self):
        self.assertFailure(["EVENT_FROM_TOKEN_PARSE_FAILURE", "not-a-token"],
                           self.event_from, self.s, ["vm"], "not-a-token", 1.0)


if __name__ == "__main__":
    unittest.main()
