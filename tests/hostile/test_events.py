"""event.from woken by a change made on another connection: the parked call's answer must be one
well-formed XML-RPC envelope (found by tools/bench: it was the waker's empty Success envelope followed
by the event value)."""
import time
import xmlrpc.client

from hostile import HostileCase, Reader, exchange, post_bytes, tls_connect, xml_call


class EventWakeTest(HostileCase):

    def test_parked_event_from_woken_by_other_connection(self):
        pool = self.call("pool.get_all")[0]
        token = self.call("event.from", ["pool"], "", 0.0)["token"]
        s = tls_connect(self.gw, 10)
        try:
            s.sendall(post_bytes(xml_call("event.from", self.ref, ["pool"], token, 5.0)))
            time.sleep(0.3)                       # parked
            t0 = time.monotonic()
            self.call("pool.add_to_other_config", pool, "hostile-ev", "v")
            r = Reader(s).read()
            dt = time.monotonic() - t0
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
        self.assertLess(dt, 1.0)
