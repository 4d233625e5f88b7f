"""The local Unix socket (XAPI's /var/lib/xcp/xapi; here --local-socket PATH): XML-RPC and
JSON-RPC over it as over TCP, root (SO_PEERCRED uid 0) logged in without a password the way
Ansible's xenserver_facts does it, the socket itself root-only."""
import http.client
import json
import multiprocessing
import os
import socket
import stat
import tempfile
import unittest
import xmlrpc.client

from gateway import Gateway, sim_only


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=20)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(20)
        self.sock.connect(self.path)


class UnixTransport(xmlrpc.client.Transport):
    """What XenAPI.py's UDSTransport does."""
    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        return UnixHTTPConnection(self.path)


def try_as_nobody(path, q):
    try:
        os.setgid(65534)
        os.setuid(65534)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        q.put("connected")
    except PermissionError:
        q.put("refused")
    except Exception as e:  # noqa: BLE001 (reported to the parent)
        q.put("error %r" % e)


@sim_only
@unittest.skipUnless(os.geteuid() == 0, "needs root: the local socket trusts uid 0 only")
class LocalSocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="xg-local-")
        cls.path = os.path.join(cls.dir, "xcp", "xapi")       # parent made by the gateway
        cls.gw = Gateway(sim_vms=2, extra_args=("--local-socket", cls.path)).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.close()
        os.system("rm -rf '%s'" % cls.dir)

    def proxy(self):
        return xmlrpc.client.ServerProxy("http://local/", transport=UnixTransport(self.path),
                                         allow_none=True)

    def test_root_logs_in_without_password(self):
        x = self.proxy()
        # Ansible's xenserver_facts: XenAPI.xapi_local() then login_with_password("", "")
        r = x.session.login_with_password("", "", "1.0", "ansible")
        self.assertEqual(r["Status"], "Success", r)
        s = r["Value"]
        vms = x.VM.get_all_records(s)
        self.assertEqual(vms["Status"], "Success", vms)
        self.assertTrue(vms["Value"])
        rec = x.session.get_record(s, s)["Value"]
        self.assertIs(rec["is_local_superuser"], True)
        self.assertEqual(x.session.logout(s)["Status"], "Success")
        # a wrong password is no reason to refuse local root either (XAPI's preauth)
        r = x.session.login_with_password("root", "wrong", "1.0", "local-tool")
        self.assertEqual(r["Status"], "Success", r)

    def test_jsonrpc_and_http_routes(self):
        c = UnixHTTPConnection(self.path)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "session.login_with_password",
                           "params": ["", ""]})
        c.request("POST", "/jsonrpc", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        ref = json.loads(r.read())["result"]
        self.assertTrue(ref.startswith("OpaqueRef:"))
        body = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "host.get_all", "params": [ref]})
        c.request("POST", "/jsonrpc", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        self.assertEqual(len(json.loads(r.read())["result"]), 1)
        # HTTP routes trust local root too (keep-alive on the same connection)
        c.request("GET", "/metrics")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertIn(b"# TYPE", r.read())
        c.close()

    def test_tcp_still_needs_a_password(self):
        x = self.gw.proxy()
        r = x.session.login_with_password("", "", "1.0", "remote")
        self.assertEqual(r["Status"], "Failure")
        self.assertEqual(r["ErrorDescription"][0], "SESSION_AUTHENTICATION_FAILED")

    def test_socket_is_root_only(self):
        st = os.stat(self.path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        q = multiprocessing.Queue()
        p = multiprocessing.Process(target=try_as_nobody, args=(self.path, q))
        p.start()
        p.join(20)
        self.assertEqual(q.get(timeout=5), "refused")


if __name__ == "__main__":
    unittest.main()
