"""Persistence in the state dir: clean restart keeps refs/uuids/fields; kill -9 during a burst of
VM.create keeps every acknowledged VM."""
import threading
import unittest

from gateway import Gateway, GatewayTestCase, Failure, XapiSession, scaled, sim_only, wait_until
from test_records import vm_create_record


@sim_only
class PersistenceTest(unittest.TestCase):
    def setUp(self):
        self.gw = Gateway(sim_vms=2).start()

    def tearDown(self):
        self.gw.close()

    def test_restart_keeps_objects(self):
        s = self.gw.xapi()
        vms0 = s.call("VM.get_all_records")
        guest = sorted(r for r, v in vms0.items() if not v["is_control_domain"] and not v["is_a_template"])[0]
        s.call("VM.set_name_label", guest, "e2e renamed before restart")
        s.call("VM.add_to_other_config", guest, "e2e-persist", "1")
        new = s.call("VM.create", vm_create_record("e2e-persisted-vm"))
        new_rec = s.call("VM.get_record", new)
        pool = s.call("pool.get_all")[0]
        s.call("pool.add_to_other_config", pool, "e2e-persist", "yes")
        pool_uuid = s.call("pool.get_uuid", pool)
        host = s.call("host.get_all")[0]
        host_uuid = s.call("host.get_uuid", host)
        old_session = s.ref

        self.gw.restart()

        s = self.gw.xapi()
        vms1 = s.call("VM.get_all_records")
        self.assertIn(guest, vms1)
        self.assertEqual(vms1[guest]["uuid"], vms0[guest]["uuid"])
        self.assertEqual(vms1[guest]["name_label"], "e2e renamed before restart")
        self.assertEqual(vms1[guest]["other_config"].get("e2e-persist"), "1")
        self.assertIn(new, vms1)
        for f in ["uuid", "name_label", "memory_static_max", "VCPUs_max", "other_config", "platform",
                  "is_a_template", "power_state", "HVM_boot_params", "metrics"]:
            self.assertEqual(vms1[new][f], new_rec[f], f)
        self.assertEqual(s.call("pool.get_all"), [pool])
        self.assertEqual(s.call("pool.get_uuid", pool), pool_uuid)
        self.assertEqual(s.call("pool.get_other_config", pool).get("e2e-persist"), "yes")
        self.assertEqual(s.call("host.get_all"), [host])
        self.assertEqual(s.call("host.get_uuid", host), host_uuid)
        # every VM that existed still exists with the same uuid; the running
        # ones (dom0 included) are resident on the host with their consoles
        for ref, v in vms0.items():
            self.assertEqual(vms1.get(ref, {}).get("uuid"), v["uuid"], ref)
            if vms1[ref]["power_state"] in ("Running", "Paused"):
                self.assertEqual(vms1[ref]["resident_on"], host, v["name_label"])
                self.assertTrue(vms1[ref]["consoles"], v["name_label"])
        # sessions are not required to survive; if not, the error is SESSION_INVALID
        try:
            s.raw("pool.get_all", old_session)
        except Failure as e:
            self.assertEqual(e.details, ["SESSION_INVALID", old_session])

    def test_kill9_during_create_burst(self):
        acked = []
        errors = []
        stop = threading.Event()

        def burst(n):
            try:
                s = XapiSession(self.gw)
                i = 0
                while not stop.is_set():
                    name = "e2e-burst-%d-%d" % (n, i)
                    ref = s.call("VM.create", vm_create_record(name))
                    acked.append((ref, name))
                    i += 1
            except Exception as e:  # the kill cuts the connection
                errors.append(e)
        threads = [threading.Thread(target=burst, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        # kill once the burst is well under way (observable: acknowledged creates), not after a sleep
        wait_until(lambda: len(acked) >= 20 or len(errors) == len(threads), 60, 0.02,
                   "20 VM.create acknowledged")
        self.gw.kill9()
        stop.set()
        for t in threads:
            t.join(scaled(30))
        self.assertGreaterEqual(len(acked), 20, "too few VM.create acknowledged before kill -9: %r" % errors[:3])

        self.gw.start()
        s = self.gw.xapi()
        recs = s.call("VM.get_all_records")
        lost = [(ref, name) for ref, name in acked if recs.get(ref, {}).get("name_label") != name]
        self.assertEqual(lost, [], "%d of %d acknowledged VMs lost after kill -9" % (len(lost), len(acked)))
        # the database is usable after the crash
        ref = s.call("VM.create", vm_create_record("e2e-after-crash"))
        s.call("VM.destroy", ref)


if __name__ == "__main__":
    unittest.main()
