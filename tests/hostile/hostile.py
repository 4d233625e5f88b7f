"""Helpers for the hostile-input suite: raw TLS sockets, a small HTTP/1.1 response reader that
handles pipelining and chunked bodies, XML-RPC/JSON-RPC bodies, and a liveness check.

The gateway process itself is started by tests/e2e/gateway.py (imported, not copied): it finds the
binary at $XG_BINARY or $XG_BUILD_DIR/xapi-gateway (ctest passes the build dir to run_hostile.py).
"""

import json
import os
import resource
import socket
import ssl
import sys
import time
import unittest
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import gateway  # noqa: E402  (tests/e2e/gateway.py, the shared harness)
from gateway import (Failure, Gateway, GatewayError, scaled, unverified_context, unwrap,  # noqa: E402,F401
                     wait_until)

# Heavy cases still run in CI, but with bounded sizes unless XG_HOSTILE_FULL=1.
FULL = os.environ.get("XG_HOSTILE_FULL") == "1"
# Under ASan (tests/hostile/run-asan.sh) RSS includes the allocator quarantine and shadow
# memory: memory-bound assertions are skipped there, the load itself still runs.
SANITIZED = os.environ.get("XG_SANITIZED") == "1"


def raise_nofile(want=20000):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, want), hard) if hard != resource.RLIM_INFINITY else max(soft, want)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------------------------- bodies
def xml_call(method, *params):
    return xmlrpc.client.dumps(tuple(params), method).encode()


def json_call(method, params, id_=1):
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": id_}).encode()


def post_bytes(body, path="/", extra=b"", ctype=b"text/xml", cl=None, host=b"127.0.0.1"):
    """A POST request as raw bytes; cl overrides the Content-Length value (None = exact)."""
    n = len(body) if cl is None else cl
    head = (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + host + b"\r\n"
            b"Content-Type: " + ctype + b"\r\n")
    if n is not False:
        head += b"Content-Length: " + str(n).encode() + b"\r\n"
    return head + extra + b"\r\n" + body


# ---------------------------------------------------------------------------------- sockets
_client_ctx = None


def tls_connect(gw, timeout=10.0):
    """A TLS connection; `timeout` (a hang guard, scaled) bounds every socket operation.
    One client context serves every connection: building one loads the system CA store
    (~0.1 s each on a loaded machine), and 200 threads doing that between connect and
    handshake outlast the server's 10 s handshake timeout."""
    global _client_ctx
    if _client_ctx is None:
        _client_ctx = unverified_context()
    timeout = scaled(timeout)
    raw = socket.create_connection((gw.host, gw.port), timeout=timeout)
    s = _client_ctx.wrap_socket(raw, server_hostname=None)
    s.settimeout(timeout)
    return s


class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status, self.reason, self.headers, self.body, self.version = (
            status, reason, headers, body, version)

    def header(self, name):
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return vals[0] if vals else None

    def text(self):
        return self.body.decode("utf-8")

    def xml(self):
        """XML-RPC envelope → Value, or raises Failure."""
        (res,), _ = xmlrpc.client.loads(self.body)
        return unwrap(res)

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<HTTP %d %s %r>" % (self.status, self.reason, self.body[:300])


class Closed(Exception):
    """The peer closed (or reset) before a complete response."""


class Reader:
    """Reads HTTP/1.x responses one after the other from a socket (pipelining-safe)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        try:
            d = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError) as e:
            raise Closed(repr(e))
        if not d:
            raise Closed("EOF")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def read(self):
        line = self._line()
        parts = line.decode("latin-1").split(" ", 2)
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        while True:
            h = self._line()
            if not h:
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers.append((k.strip(), v.strip()))
        r = Response(status, reason, headers, b"", version)
        te = r.header("transfer-encoding")
        cl = r.header("content-length")
        if te and "chunked" in te.lower():
            parts = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                parts.append(self._exact(size))
                self._exact(2)
            r.body = b"".join(parts)
        elif cl is not None:
            r.body = self._exact(int(cl))
        else:                         # close-delimited
            try:
                while True:
                    self._fill()
            except Closed:
                pass
            r.body, self.buf = self.buf, b""
        return r

    def expect_closed(self, timeout):
        """True if the peer closes within timeout seconds (scaled: a hang guard; no more bytes)."""
        self.sock.settimeout(scaled(timeout))
        try:
            d = self.sock.recv(65536)
            return d == b""
        except socket.timeout:
            return False
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError, OSError):
            return True


def exchange(gw, data, timeout=10.0):
    """Fresh TLS connection, send raw bytes, read one response."""
    s = tls_connect(gw, timeout)
    try:
        s.sendall(data)
        return Reader(s).read()
    finally:
        s.close()


# ---------------------------------------------------------------------------------- base class
class HostileCase(unittest.TestCase):
    """One gateway per class; self.ref is a root session."""
    sim_vms = 3
    sim_delay_ms = 200
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(sim_vms=cls.sim_vms, sim_delay_ms=cls.sim_delay_ms,
                         extra_args=cls.extra_args).start()
        try:
            cls.ref = cls.login()
        except Exception:
            cls.gw.kill9()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.gw is not None:
            cls.gw.close()     # also checks a clean exit on SIGTERM

    @classmethod
    def login(cls, originator="xg-hostile", user=None, password=None):
        r = exchange(cls.gw, post_bytes(xml_call("session.login_with_password",
                                                 user or cls.gw.user, password or cls.gw.password,
                                                 "2.21", originator)))
        assert r.status == 200, r
        return r.xml()

    # -- helpers -----------------------------------------------------------------------------
    def call(self, method, *params, timeout=10.0):
        r = exchange(self.gw, post_bytes(xml_call(method, self.ref, *params)), timeout)
        self.assertEqual(r.status, 200, r)
        return r.xml()

    def assertFailure(self, details, fn, *args, **kw):
        with self.assertRaises(Failure) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.details, list(details))
        return cm.exception

    def assertAlive(self, what=""):
        """The process runs and answers a normal call on a fresh TLS connection (the socket
        timeout is only a hang guard: tools/bench measures how fast)."""
        self.assertIsNotNone(self.gw.proc, "gateway process gone")
        self.assertIsNone(self.gw.proc.poll(), "gateway exited %s\n%s" % (what, self.gw.log_tail()))
        try:
            r = exchange(self.gw, post_bytes(xml_call("session.get_this_host", self.ref, self.ref)),
                         timeout=20)
        except (OSError, Closed) as e:
            self.fail("gateway not answering after %s: %r\n%s" % (what, e, self.gw.log_tail()))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.xml().startswith("OpaqueRef:"), r)

    def assert_html_500(self, r, needle):
        self.assertEqual(r.status, 500, r)
        self.assertEqual(r.header("content-type"), "text/html", r.headers)
        self.assertEqual((r.header("connection") or "").lower(), "close", r.headers)
        self.assertIn(needle, r.body.decode("utf-8", "replace"))


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def settled_rss_kib(pid, timeout=30.0, tol_kib=512):
    """VmRSS once it stops growing (start-up work such as per-VM RRDs allocates in the background)."""
    deadline = time.monotonic() + timeout
    last = rss_kib(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        cur = rss_kib(pid)
        if abs(cur - last) <= tol_kib:
            return cur
        last = cur
    return last


def main(argv=None):
    """ctest entry point: run_hostile.py BUILD_DIR [module ...]."""
    argv = list(sys.argv if argv is None else argv)
    if len(argv) >= 2 and not argv[1].startswith("test"):
        if argv[1]:
            os.environ.setdefault("XG_BUILD_DIR", argv[1])
        del argv[1]
    sys.path.insert(0, HERE)
    raise_nofile()
    loader = unittest.TestLoader()
    names = argv[1:] or None
    suite = loader.loadTestsFromNames(names) if names else loader.discover(HERE, pattern="test_*.py")
    r = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if r.wasSuccessful() else 1
