"""event.from woken by a change made on another connection: the parked call's answer must be one
well-formed XML-RPC envelope (found by tools/bench: it was the waker's empty Success envelope followed
by the event value)."""
import xmlrpc.client

from hostile import HostileCase, Reader, post_bytes, tls_connect, xml_call

PARKED = "event: call parked"     # logged at debug level once an event.from waits


class EventWakeTest(HostileCase):
    extra_args = ("--log-level", "debug")

    def test_parked_event_from_woken_by_other_connection(self):
        pool = self.call("pool.get_all")[0]
        token = self.call("event.from", ["pool"], "", 0.0)["token"]
        s = tls_connect(self.gw, 30)
        try:
            before = self.gw.log_count(PARKED)
            # an hour's timeout: an answer within the socket's hang guard was woken by the change
            s.sendall(post_bytes(xml_call("event.from", self.ref, ["pool"], token, 3600.0)))
            self.gw.wait_log(PARKED, before + 1)
            self.call("pool.add_to_other_config", pool, "hostile-ev", "v")
            r = Reader(s).read()
        finally:
            s.close()
            self.call("pool.remove_from_other_config", pool, "hostile-ev")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body.count(b"<methodResponse>"), 1, r.body[:400])
        (res,), _ = xmlrpc.client.loads(r.body)
        self.assertEqual(res["Status"], "Success", res)
        ev = [e for e in res["Value"]["events"] if e["class"] == "pool"]
        self.assertEqual(len(ev), 1, res["Value"])
        self.assertEqual(ev[0]["snapshot"]["other_config"].get("hostile-ev"), "v")
