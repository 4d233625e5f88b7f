"""Unauthenticated clients must not slow authenticated ones (issue 11).

Clients sending wrong HTTP Basic passwords to /metrics used to have their passwords hashed on the
network threads: a trivial JSON-RPC call on another connection went from p90 2 ms to p90 419 ms.
Now Basic checks run on the bounded auth pool with the connection parked, one per source address
at a time, and a guessing address is slowed down (server/auth.c). The baseline is measured in the
same test, interleaved with the attack phases so that machine load affects both alike."""
import base64
import multiprocessing
import socket
import threading
import time

from hostile import Closed, HostileCase, Reader, json_call, post_bytes, unverified_context

BAD = b"Basic " + base64.b64encode(b"root:not-the-password")
ATTACKERS = 6
PHASE_S = 1.5
PASSES_NEEDED = 2
MAX_PHASES = 6


def get_bytes(path, auth=None):
    head = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if auth:
        head += b"Authorization: " + auth + b"\r\n"
    return head + b"\r\n"


def connect(host, port, source="127.0.0.1", timeout=10.0):
    raw = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0))
    s = unverified_context().wrap_socket(raw, server_hostname=None)
    s.settimeout(timeout)
    return s


def attack(host, port, source, stop, ready, counts):
    """Process body: ATTACKERS threads sending wrong Basic passwords to /metrics on kept-alive
    connections from address source until stop; counts[0] = 401 answers, counts[1] = any other
    answer."""
    socks = []
    connected = threading.Semaphore(0)

    def one():
        while not stop.is_set():
            try:
                s = connect(host, port, source=source, timeout=60)
                socks.append(s)
                connected.release()
                rd = Reader(s)
                try:
                    while not stop.is_set():
                        s.sendall(get_bytes("/metrics", BAD))
                        r = rd.read()
                        with counts.get_lock():
                            counts[0 if r.status == 401 else 1] += 1
                finally:
                    s.close()
            except (OSError, Closed):
                pass                                  # the phase ended under a parked request

    ts = [threading.Thread(target=one, daemon=True) for _ in range(ATTACKERS)]
    for t in ts:
        t.start()
    for _ in ts:                                      # TLS handshakes done: the flood is on
        connected.acquire(timeout=30)
    ready.set()
    stop.wait()
    for s in list(socks):                             # wakes attackers parked on a 401
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    for t in ts:
        t.join(5)


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


class BadBasicFloodTest(HostileCase):

    def timed_calls(self, sock, reader, seconds):
        """Trivial authenticated JSON-RPC calls on one kept-alive connection for `seconds`,
        2 ms apart: their latencies in s."""
        out = []
        body = json_call("session.get_this_host", [self.ref, self.ref])
        req = post_bytes(body, path="/jsonrpc", ctype=b"application/json")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.002)
            t0 = time.perf_counter()
            sock.sendall(req)
            r = reader.read()
            out.append(time.perf_counter() - t0)
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.json()["result"].startswith("OpaqueRef:"), r)
        return out

    def attack_phase(self, phase, sock, reader, counts):
        # the attackers run in another process, so that they do not compete with the
        # measuring thread for this interpreter's GIL. Each phase is a new guesser at its own
        # address: the checks a phase's closed connections leave queued stay on its address
        # (hashed as its throttle allows), and from one address they would fill its queue after
        # five phases; from then on the gateway refuses that address at once (server/auth.c),
        # which turns the attacking process into a busy loop that takes this 2-core machine's
        # CPU from the measuring client, not from the gateway.
        stop, ready = multiprocessing.Event(), multiprocessing.Event()
        source = "127.0.0.%d" % (10 + phase)
        p = multiprocessing.Process(target=attack,
                                    args=(self.gw.host, self.gw.port, source, stop, ready, counts))
        p.start()
        try:
            self.assertTrue(ready.wait(60), "attackers could not connect")
            lat = self.timed_calls(sock, reader, PHASE_S)
            if phase == 0:
                # meanwhile a right password from another address is neither refused nor
                # throttled
                s2 = connect(self.gw.host, self.gw.port, source="127.0.0.2")
                try:
                    good = b"Basic " + base64.b64encode(
                        ("%s:%s" % (self.gw.user, self.gw.password)).encode())
                    s2.sendall(get_bytes("/metrics", good))
                    r = Reader(s2).read()
                    self.assertEqual(r.status, 200, r)
                    self.assertIn(b"# TYPE", r.body)
                finally:
                    s2.close()
        finally:
            stop.set()
            p.join(10)
            if p.is_alive():
                p.kill()
        return lat

    def test_bad_basic_flood_leaves_authenticated_latency(self):
        sock = connect(self.gw.host, self.gw.port)
        reader = Reader(sock)
        counts = multiprocessing.Array("i", 2)
        try:
            self.timed_calls(sock, reader, 0.2)        # warm-up
            # B A B A B …: each attack phase is judged against the baselines on either side of
            # it, taken under the same machine load. Other suites run in parallel in CI, and
            # their bursts put 20-30 ms spikes into any p99 on 2 cores, so a phase may be
            # unlucky: the flood must pass in PASSES_NEEDED phases out of at most MAX_PHASES
            # (before the fix every phase failed by three orders of magnitude).
            base = [self.timed_calls(sock, reader, PHASE_S)]
            ok = 0
            for i in range(MAX_PHASES):
                a = self.attack_phase(i, sock, reader, counts)
                base.append(self.timed_calls(sock, reader, PHASE_S))
                b99 = max(percentile(base[i], 99), percentile(base[i + 1], 99))
                a99 = percentile(a, 99)
                # 2x the baseline, plus 5 ms of scheduler noise: the pool hashes each new
                # guesser's first passwords (yescrypt, tens of ms each) on one of the two cores
                # while the measuring client shares the other with whatever else runs; under
                # fuzzers and other suites that put p99 at 3-5 ms against 0.2-0.7 ms baselines.
                # Before the fix: p90 419 ms.
                passed = a99 <= 2 * b99 + 0.005
                ok += passed
                print("\nphase %d: authenticated JSON-RPC call p99 %.2f ms (p50 %.2f) under %d "
                      "bad-Basic clients vs %.2f ms baseline: %s"
                      % (i, a99 * 1e3, percentile(a, 50) * 1e3, ATTACKERS, b99 * 1e3,
                         "ok" if passed else "above 2x"))
                if ok >= PASSES_NEEDED:
                    break
        finally:
            sock.close()
        print("%d bad requests answered 401" % counts[0])
        self.assertEqual(counts[1], 0, "a bad password was not answered 401")
        self.assertGreater(counts[0], 0, "the attackers were not served at all")
        self.assertGreaterEqual(ok, PASSES_NEEDED, "authenticated p99 above 2x baseline")
        self.assertAlive(what="bad Basic flood")


if __name__ == "__main__":
    import unittest
    unittest.main()
