"""Harness for the end-to-end tests: start/stop/crash the real xapi-gateway binary.

The binary is found, in order, at $XG_BINARY, then <build>/xapi-gateway where <build> is
$XG_BUILD_DIR (ctest passes it). Each Gateway runs on 127.0.0.1 with a free port, a temporary state
dir and the sim driver.

If $XG_E2E_URL is set (plus $XG_E2E_PASSWORD, user root unless $XG_E2E_USER), no process is started:
the tests run against that already-running gateway (e.g. real Xen in QEMU). Tests that need the sim
driver or process control are decorated with @sim_only and are skipped there.

Client helpers speak to the gateway exactly as XAPI clients do: xmlrpc.client over TLS with an
unverified context (as XenAPI.py scripts do), raw http.client for wire details, JSON-RPC by hand.

Time in tests (issue 22): a test asserts behaviour, never a latency. Every time bound is a hang
guard, generous enough never to trip on a loaded machine, and goes through scaled() so that
$XG_TIME_SCALE (default 1; the sanitizer stage and CI raise it) stretches all of them at once.
Synchronise on observable state with wait_until(), never with a sleep; run a blocking call beside
the test with Background (its exception is re-raised by join()). How fast something is belongs in
tools/bench, which measures it against its goal.
"""

import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
# shared data lives next to the repository (../shared from the repo root)
SHARED_SPEC = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "spec"))

REMOTE_URL = os.environ.get("XG_E2E_URL") or None
REMOTE = REMOTE_URL is not None
DEFAULT_PASSWORD = "e2e-Secret-pw"
SIM_VMS = int(os.environ.get("XG_E2E_SIM_VMS", "3"))
TIME_SCALE = max(1.0, float(os.environ.get("XG_TIME_SCALE", "1") or "1"))


def scaled(seconds):
    """A hang guard of `seconds` on a quiet machine, stretched by $XG_TIME_SCALE."""
    return seconds * TIME_SCALE


START_TIMEOUT = scaled(30.0)
STOP_TIMEOUT = scaled(20.0)

sim_only = unittest.skipIf(REMOTE, "needs the sim driver / process control (XG_E2E_URL is set)")


def find_binary():
    b = os.environ.get("XG_BINARY")
    if b:
        return b
    build = os.environ.get("XG_BUILD_DIR")
    if build:
        return os.path.join(build, "xapi-gateway")
    # fallback for running by hand from the source tree
    for cand in ("build", "build-e2e"):
        p = os.path.join(HERE, "..", "..", cand, "xapi-gateway")
        if os.path.exists(p):
            return os.path.normpath(p)
    return None


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def unverified_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class GatewayError(Exception):
    pass


class Gateway:
    """One gateway process (or a remote one). Usable as a context manager."""

    def __init__(self, sim_vms=None, sim_delay_ms=200, extra_args=(), state_dir=None,
                 password=DEFAULT_PASSWORD):
        self.remote = REMOTE
        self.proc = None
        self.sim_vms = SIM_VMS if sim_vms is None else sim_vms
        self.sim_delay_ms = sim_delay_ms
        self.extra_args = list(extra_args)
        self._tmp = None
        if self.remote:
            u = urllib.parse.urlsplit(REMOTE_URL)
            self.scheme = u.scheme or "https"
            self.host = u.hostname
            self.port = u.port or (443 if self.scheme == "https" else 80)
            self.user = os.environ.get("XG_E2E_USER", "root")
            self.password = os.environ.get("XG_E2E_PASSWORD", "")
            self.state_dir = None
        else:
            self.binary = find_binary()
            if not self.binary or not os.path.exists(self.binary):
                raise GatewayError(
                    "xapi-gateway binary not found (set XG_BINARY or XG_BUILD_DIR; looked at %r)"
                    % self.binary)
            self._tmp = tempfile.mkdtemp(prefix="xg-e2e-")
            self.state_dir = state_dir or os.path.join(self._tmp, "state")
            os.makedirs(self.state_dir, exist_ok=True)
            self.scheme = "https"
            self.host = "127.0.0.1"
            self.port = None
            self.user = "root"
            self.password = password
            self.log_path = os.path.join(self._tmp, "gateway.log")
            self.starts = 0

    # ---------------------------------------------------------------- process control
    @property
    def url(self):
        return "%s://%s:%d" % (self.scheme, self.host, self.port)

    def argv(self):
        return [self.binary, "--https", "127.0.0.1:%d" % self.port,
                "--state-dir", self.state_dir, "--driver", "sim",
                "--sim-vms", str(self.sim_vms), "--sim-delay-ms", str(self.sim_delay_ms),
                "--log-level", os.environ.get("XG_E2E_LOG_LEVEL", "info")] + self.extra_args

    def start(self, _port_retries=5):
        if self.remote:
            return self
        chosen_here = self.port is None
        if chosen_here:
            self.port = free_port()
        env = dict(os.environ)
        env["XAPI_GATEWAY_ROOT_PASSWORD"] = self.password
        self.starts += 1
        self._log = open(self.log_path, "ab")
        self._log.write(("\n===== start #%d: %s\n" % (self.starts, " ".join(self.argv()))).encode())
        self._log.flush()
        offset = self._log.tell()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env)
        want = ("listening on https://127.0.0.1:%d" % self.port).encode()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                if want in f.read():
                    break
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                with open(self.log_path, "rb") as f:
                    f.seek(offset)
                    in_use = b"Address already in use" in f.read()
                if chosen_here and in_use and _port_retries > 0:
                    # free_port() closes its socket before the gateway binds: another test's
                    # client may take the port in between (ctest -j); take another one
                    self._log.close()
                    self.port = None
                    return self.start(_port_retries - 1)
                raise GatewayError("gateway exited with %d before listening\n%s" % (rc, self.log_tail()))
            if time.monotonic() > deadline:
                self.kill9()
                raise GatewayError("gateway did not log %r within %.0f s\n%s"
                                   % (want.decode(), START_TIMEOUT, self.log_tail()))
            time.sleep(0.05)
        return self

    def log_tail(self, n=80):
        if self.remote:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "----- gateway log (last %d lines) -----\n%s\n-----" % (n, "\n".join(lines[-n:]))
        except OSError:
            return "(no gateway log)"

    def log_count(self, needle):
        """How many times the gateway's log holds `needle` (str), over all starts."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().count(needle.encode())
        except OSError:
            return 0

    def wait_log(self, needle, count=1, timeout=20.0):
        """Wait until the log holds `needle` at least `count` times (observable state instead
        of a sleep; e.g. "event: call parked" needs --log-level debug)."""
        return wait_until(lambda: self.log_count(needle) >= count, timeout, 0.02,
                          "%d× %r in the gateway log" % (count, needle))

    def stop_timeout(self):
        """The SIGTERM hang guard: shutdown saves every VM's RRD (gzip, ~2 ms each on a quiet
        machine: 6-10 s for 5,000 VMs, over 70 s on a 2-core machine at load 30), so the guard
        grows with the inventory."""
        return STOP_TIMEOUT + scaled(0.04 * self.sim_vms)

    def stop(self):
        """SIGTERM, wait; SIGKILL after stop_timeout(). Returns the exit code (None if remote)."""
        if self.remote or self.proc is None:
            return None
        p, self.proc = self.proc, None
        p.send_signal(signal.SIGTERM)
        limit = self.stop_timeout()
        try:
            rc = p.wait(limit)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self._log.close()
            raise GatewayError("gateway ignored SIGTERM for %.0f s\n%s" % (limit, self.log_tail()))
        self._log.close()
        return rc

    def kill9(self):
        if self.remote or self.proc is None:
            return
        p, self.proc = self.proc, None
        p.kill()
        p.wait()
        self._log.close()

    def restart(self):
        rc = self.stop()
        if rc != 0:
            raise GatewayError("gateway exited with %r on SIGTERM\n%s" % (rc, self.log_tail()))
        return self.start()

    def close(self):
        """Stop and check a clean exit; remove the temp dir."""
        rc = None
        try:
            rc = self.stop()
        finally:
            if self._tmp and rc in (0, None) and not os.environ.get("XG_E2E_KEEP"):
                subprocess.call(["rm", "-rf", self._tmp])
        if rc not in (0, None):
            raise GatewayError("gateway exited with %r on SIGTERM\n%s" % (rc, self.log_tail()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- clients
    def proxy(self, path="/"):
        """An xmlrpc.client.ServerProxy exactly as XenAPI.py builds one."""
        return xmlrpc.client.ServerProxy(self.url + path, context=unverified_context(),
                                         allow_none=True)

    def xapi(self):
        return XapiSession(self)

    def connection(self, timeout=30):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=unverified_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a fresh connection; returns (status, headers(list of pairs), body bytes)."""
        c = self.connection(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, r.getheaders(), data
        finally:
            c.close()

    def jsonrpc(self, obj, timeout=30, raw=False):
        body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
        if isinstance(body, str):
            body = body.encode()
        st, hdrs, data = self.request("POST", "/jsonrpc", body,
                                      {"Content-Type": "application/json",
                                       "Accept": "application/json"}, timeout)
        if raw:
            return st, hdrs, data
        if st != 200:
            raise AssertionError("POST /jsonrpc -> HTTP %d: %r" % (st, data[:500]))
        return json.loads(data)


class Failure(Exception):
    """A XAPI Failure: .details is ErrorDescription."""

    def __init__(self, details):
        super().__init__(details)
        self.details = list(details)

    @property
    def code(self):
        return self.details[0] if self.details else None


def unwrap(result):
    if not isinstance(result, dict) or "Status" not in result:
        raise AssertionError("not a XAPI envelope: %r" % (result,))
    if result["Status"] == "Success":
        if "Value" not in result:
            raise AssertionError("Success envelope without Value: %r" % (result,))
        return result["Value"]
    if result["Status"] == "Failure":
        return_ = result.get("ErrorDescription")
        raise Failure(return_)
    raise AssertionError("bad Status %r" % (result["Status"],))


class XapiSession:
    """A logged-in XML-RPC session like XenAPI.Session: s.call('VM.get_all') returns Value or raises."""

    def __init__(self, gw, login=True):
        self.gw = gw
        self.proxy = gw.proxy()
        self.ref = None
        if login:
            self.ref = self.raw("session.login_with_password", gw.user, gw.password, "2.21", "xg-e2e")

    def raw(self, method, *args):
        fn = self.proxy
        for part in method.split("."):
            fn = getattr(fn, part)
        return unwrap(fn(*args))

    def call(self, method, *args):
        return self.raw(method, self.ref, *args)

    def logout(self):
        if self.ref:
            try:
                self.raw("session.logout", self.ref)
            finally:
                self.ref = None


# ------------------------------------------------------------------ shared helpers
def wait_until(pred, timeout=20.0, interval=0.05, what="condition"):
    """Poll pred() until it returns something truthy and return that; fail after
    scaled(timeout) seconds (a hang guard, not a latency bound)."""
    limit = scaled(timeout)
    deadline = time.monotonic() + limit
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" % (limit, what, last))


wait_for = wait_until   # the older name, kept for existing callers


def wait_task(s, task, timeout=30.0):
    """Poll a task until it leaves pending; returns its record."""
    def done():
        rec = s.call("task.get_record", task)
        return rec if rec["status"] not in ("pending", "cancelling") else None
    return wait_until(done, timeout, 0.1, "task %s" % task)


class Background:
    """Run fn(*args) on a thread. join() waits (a scaled hang guard), re-raises the thread's
    exception and returns fn's result; running() tells whether it has not finished yet."""

    def __init__(self, fn, *args):
        self.result = None
        self.error = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn, args):
        try:
            self.result = fn(*args)
        except BaseException as e:  # noqa: BLE001  (handed to join())
            self.error = e
        finally:
            self._done.set()

    def running(self):
        return not self._done.is_set()

    def join(self, timeout=30.0):
        if not self._done.wait(scaled(timeout)):
            raise AssertionError("background call still running after %.0f s" % scaled(timeout))
        if self.error is not None:
            raise self.error
        return self.result


class GatewayTestCase(unittest.TestCase):
    """One gateway per test class (started in setUpClass), one logged-in session."""
    sim_vms = None
    extra_args = ()
    gw = None

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(sim_vms=cls.sim_vms, extra_args=cls.extra_args).start()
        try:
            cls.s = cls.gw.xapi()
        except Exception:
            cls.gw.kill9()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.gw is not None:
            try:
                cls.s.logout()
            except Exception:
                pass
            cls.gw.close()

    def assertFailure(self, details, fn, *args):
        """The call raises a XAPI Failure whose ErrorDescription equals details (a list) or,
        when details is a str, whose code equals it. Returns the Failure."""
        with self.assertRaises(Failure) as cm:
            fn(*args)
        got = cm.exception.details
        if isinstance(details, str):
            self.assertEqual(got[:1], [details], "ErrorDescription %r" % (got,))
        else:
            self.assertEqual(got, list(details))
        return cm.exception

    def dom0(self):
        recs = self.s.call("VM.get_all_records")
        for ref, r in recs.items():
            if r["is_control_domain"]:
                return ref, r
        self.fail("no control domain among %d VMs" % len(recs))

    def guests(self, power_state=None):
        recs = self.s.call("VM.get_all_records")
        out = [(ref, r) for ref, r in sorted(recs.items(), key=lambda kv: kv[1]["name_label"])
               if not r["is_control_domain"] and not r["is_a_template"] and not r["is_a_snapshot"]]
        if power_state:
            out = [x for x in out if x[1]["power_state"] == power_state]
        return out

    def templates(self):
        recs = self.s.call("VM.get_all_records")
        return [(ref, r) for ref, r in recs.items() if r["is_a_template"]]


def main(argv=None):
    """Entry point used by ctest: run_e2e.py BUILD_DIR MODULE."""
    argv = list(sys.argv if argv is None else argv)
    if len(argv) >= 2 and not argv[1].startswith("test"):
        if argv[1]:
            os.environ.setdefault("XG_BUILD_DIR", argv[1])
        del argv[1]
    sys.path.insert(0, HERE)
    names = argv[1:] or None
    loader = unittest.TestLoader()
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py")
    r = unittest.TextTestRunner(verbosity=2, failfast=False).run(suite)
    return 0 if r.wasSuccessful() else 1
