"""Wire details over raw HTTP: compact XML, untyped ints, datetime, headers, CORS, keep-alive."""
import re
import socket
import ssl
import unittest
import xmlrpc.client

from gateway import GatewayTestCase, unverified_context

RPC_HEADERS = {"Content-Type": "text/xml"}


def call_body(method, *params):
    return xmlrpc.client.dumps(tuple(params), method).encode()


def hdr(headers, name):
    vals = [v for k, v in headers if k.lower() == name.lower()]
    return vals[0] if len(vals) == 1 else (vals or None)


class WireTest(GatewayTestCase):
    def post(self, method, *params, path="/"):
        st, h, body = self.gw.request("POST", path, call_body(method, *params), RPC_HEADERS)
        self.assertEqual(st, 200, body[:300])
        return h, body.decode("utf-8")

    def test_xmlrpc_response_is_compact(self):
        h, body = self.post("VM.get_all_records", self.s.ref)
        self.assertTrue(body.startswith('<?xml version="1.0"?><methodResponse><params><param><value><struct>'
                                        '<member><name>Status</name><value>Success</value></member>'
                                        '<member><name>Value</name>'), body[:200])
        self.assertIsNone(re.search(r">\s+<", body), "whitespace between tags")
        self.assertNotIn("<fault>", body)

    def test_rpc_headers(self):
        h, body = self.post("pool.get_all", self.s.ref)
        self.assertEqual(hdr(h, "content-type"), "text/xml")
        self.assertEqual(hdr(h, "Access-Control-Allow-Origin"), "*")
        self.assertEqual(hdr(h, "Access-Control-Allow-Headers"), "X-Requested-With")
        self.assertEqual(hdr(h, "cache-control"), "no-cache, no-store")
        self.assertEqual(int(hdr(h, "content-length")), len(body.encode()))
        self.assertIsNone(hdr(h, "transfer-encoding"))

    def test_xmlrpc_paths(self):
        for path in ["/", "/RPC2", "/xmlrpc"]:
            h, body = self.post("pool.get_all", self.s.ref, path=path)
            self.assertIn("<value>Success</value>", body, path)
            self.assertEqual(hdr(h, "content-type"), "text/xml")

    def test_ints_untyped_and_types(self):
        ref, _ = self.dom0()
        h, body = self.post("VM.get_record", self.s.ref, ref)
        self.assertRegex(body, r"<member><name>memory_static_max</name><value>\d+</value></member>")
        self.assertRegex(body, r"<member><name>domid</name><value>0</value></member>")
        self.assertRegex(body, r"<member><name>is_control_domain</name><value><boolean>1</boolean></value></member>")
        self.assertRegex(body, r"<member><name>power_state</name><value>Running</value></member>")
        self.assertRegex(body, r"<member><name>VBDs</name><value><array><data>(<value>OpaqueRef:[^<]+</value>)*</data></array></value></member>")
        self.assertNotRegex(body, r"<(i4|int|i8|string)>")

    def test_datetime_format(self):
        host = self.s.call("host.get_all")[0]
        h, body = self.post("host.get_servertime", self.s.ref, host)
        self.assertRegex(body, r"<member><name>Value</name><value><dateTime\.iso8601>\d{8}T\d\d:\d\d:\d\dZ"
                               r"</dateTime\.iso8601></value></member>")
        # a pending task's finished time is the epoch
        t = self.s.call("task.create", "e2e-dt", "")
        try:
            h, body = self.post("task.get_finished", self.s.ref, t)
            self.assertIn("<dateTime.iso8601>19700101T00:00:00Z</dateTime.iso8601>", body)
        finally:
            self.s.call("task.destroy", t)

    def test_failure_envelope(self):
        bogus = "OpaqueRef:00000000-0000-0000-0000-000000000001"
        h, body = self.post("VM.get_all", bogus)
        self.assertEqual(body,
                         '<?xml version="1.0"?><methodResponse><params><param><value><struct>'
                         '<member><name>Status</name><value>Failure</value></member>'
                         '<member><name>ErrorDescription</name><value><array><data>'
                         '<value>SESSION_INVALID</value><value>%s</value></data></array></value></member>'
                         '</struct></value></param></params></methodResponse>' % bogus)

    def test_list_methods_unwrapped(self):
        h, body = self.post("system.listMethods")
        self.assertTrue(body.startswith('<?xml version="1.0"?><methodResponse><params><param><value><array><data>'),
                        body[:200])

    def test_escaping(self):
        vm = self.s.call("VM.get_all")[0]
        old = self.s.call("VM.get_name_description", vm)
        try:
            self.s.call("VM.set_name_description", vm, 'a<b>&"c\'')
            h, body = self.post("VM.get_name_description", self.s.ref, vm)
            self.assertIn("<value>a&lt;b&gt;&amp;", body)
            self.assertEqual(self.s.call("VM.get_name_description", vm), 'a<b>&"c\'')
        finally:
            self.s.call("VM.set_name_description", vm, old)

    def test_options_cors(self):
        for path in ["/", "/jsonrpc"]:
            st, h, body = self.gw.request("OPTIONS", path, headers={
                "Origin": "http://example.test", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type"})
            self.assertEqual(st, 200, path)
            self.assertEqual(hdr(h, "Access-Control-Allow-Origin"), "*")
            self.assertIn("X-Requested-With", hdr(h, "Access-Control-Allow-Headers"))
            self.assertIn("content-type", hdr(h, "Access-Control-Allow-Headers").lower())
            self.assertEqual(body, b"")

    def test_keep_alive(self):
        c = self.gw.connection()
        try:
            socks = set()
            for i in range(5):
                c.request("POST", "/", call_body("pool.get_all", self.s.ref), RPC_HEADERS)
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.version, 11)
                self.assertNotEqual((r.getheader("connection") or "").lower(), "close")
                self.assertIn(b"Success", r.read())
                socks.add(id(c.sock))
            self.assertEqual(len(socks), 1, "HTTP/1.1 connection was not kept alive")
        finally:
            c.close()

    def raw_exchange(self, request_bytes, timeout=10):
        ctx = unverified_context()
        raw = socket.create_connection((self.gw.host, self.gw.port), timeout=timeout)
        s = ctx.wrap_socket(raw, server_hostname=self.gw.host) if self.gw.scheme == "https" else raw
        try:
            s.sendall(request_bytes)
            chunks = []
            while True:
                try:
                    d = s.recv(65536)
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not d:
                    break
                chunks.append(d)
            return b"".join(chunks)
        finally:
            s.close()

    def test_http10_closes(self):
        body = call_body("pool.get_all", self.s.ref)
        req = (b"POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
               % len(body)) + body
        # recv returns EOF only if the server closes the connection
        resp = self.raw_exchange(req)
        self.assertTrue(resp.startswith(b"HTTP/1.0 200"), resp[:100])
        self.assertIn(b"<value>Success</value>", resp)

    def test_connection_close_honoured(self):
        body = call_body("pool.get_all", self.s.ref)
        req = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/xml\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
        resp = self.raw_exchange(req)
        self.assertTrue(resp.startswith(b"HTTP/1.1 200"), resp[:100])
        self.assertTrue(resp.endswith(b"</methodResponse>"), resp[-100:])

    def test_malformed_xml_is_500(self):
        st, h, body = self.gw.request("POST", "/", b"<methodCall><methodName>x</methodName><params>",
                                      RPC_HEADERS)
        self.assertEqual(st, 500)

    def test_doctype_refused(self):
        evil = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
                b'<methodCall><methodName>system.listMethods</methodName><params></params></methodCall>')
        st, h, body = self.gw.request("POST", "/", evil, RPC_HEADERS)
        self.assertNotEqual(st, 200)


if __name__ == "__main__":
    unittest.main()
