"""Hostile request bodies: DTDs (billion laughs, external entities), nesting, huge structs, wrong
types and counts, int overflow, invalid UTF-8 and NULs in parameters. Reactions per
spec/xapi-wire.md §1.3 (transport/parse failure = HTML 500, close) and §2.2/§3 (XAPI errors).
Refusals assert what was refused and that nothing was expanded; how fast they are is measured by
tools/bench (goal: < 1 ms), the socket timeouts here are only hang guards."""
import json

from hostile import (HostileCase, exchange, json_call, post_bytes, xml_call)


def laughs(levels, per=10, encoding=None):
    ents = ['<!ENTITY lol0 "lol">']
    for i in range(1, levels + 1):
        ents.append('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * per))
    doc = ('<?xml version="1.0"%s?><!DOCTYPE methodCall [%s]>'
           '<methodCall><methodName>session.get_this_host</methodName><params>'
           '<param><value><string>&lol%d;</string></value></param></params></methodCall>'
           % (' encoding="%s"' % encoding if encoding else "", "".join(ents), levels))
    return doc


def raw_xml(method, *values):
    """A methodCall whose <value> contents are given verbatim (bytes)."""
    out = b"<?xml version='1.0'?><methodCall><methodName>" + method.encode() + b"</methodName><params>"
    for v in values:
        out += b"<param><value>" + v + b"</value></param>"
    return out + b"</params></methodCall>"


class XmlBodyTest(HostileCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = exchange(cls.gw, post_bytes(xml_call("VM.get_all_records", cls.ref)))
        recs = r.xml()
        cls.vm = sorted(ref for ref, rec in recs.items()
                        if not rec["is_control_domain"] and not rec["is_a_template"])[0]

    def post_xml(self, body, timeout=10):
        return exchange(self.gw, post_bytes(body), timeout)

    def post_json(self, body, timeout=10):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        return exchange(self.gw, post_bytes(body, path="/jsonrpc", ctype=b"application/json"), timeout)

    # ---- DTDs -----------------------------------------------------------------------------
    def test_billion_laughs_refused(self):
        # 10^9 expansions: refused before expansion, or the hang guard (and RSS) would show it
        r = self.post_xml(laughs(9).encode())
        self.assert_html_500(r, "DTD or markup declaration refused")
        self.assertNotIn(b"lollollol", r.body)
        self.assertAlive(what="billion laughs")

    def test_any_doctype_refused(self):
        body = xml_call("session.get_this_host", self.ref, self.ref).replace(
            b"?>", b"?><!DOCTYPE methodCall>", 1)
        r = self.post_xml(body)
        self.assert_html_500(r, "DTD or markup declaration refused")
        self.assertAlive(what="DOCTYPE")

    def test_external_entity_refused(self):
        for decl, ref in ((b'<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;"),
                          (b'<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]>', b"a"),
                          (b'<!DOCTYPE m SYSTEM "file:///dev/zero">', b"a")):
            with self.subTest(decl=decl):
                body = (b"<?xml version='1.0'?>" + decl + b"<methodCall><methodName>session.get_this_host"
                        b"</methodName><params><param><value>" + self.ref.encode() + b"</value></param>"
                        b"<param><value>" + ref + b"</value></param></params></methodCall>")
                r = self.post_xml(body)
                self.assert_html_500(r, "DTD or markup declaration refused")
                self.assertNotIn(b"root:", r.body)
        self.assertAlive(what="external entities")

    def test_entity_declaration_without_doctype_keyword(self):
        r = self.post_xml(b"<?xml version='1.0'?><!ENTITY a 'b'><methodCall/>")
        self.assert_html_500(r, "DTD or markup declaration refused")

    def test_billion_laughs_utf16_refused(self):
        # The DOCTYPE scan must not be bypassed by a UTF-16 document (expat decodes UTF-16
        # with a BOM). 10^6 expansions: a vulnerable parser builds a 3 MB string.
        doc = laughs(6, encoding="UTF-16")
        body = doc.encode("utf-16")          # with BOM
        r = self.post_xml(body)
        self.assertEqual(r.status, 500, "UTF-16 billion laughs accepted: %r" % (r,))
        self.assertNotIn(b"lollollol", r.body)
        self.assertAlive(what="UTF-16 laughs")

    def test_processing_instruction_and_comments(self):
        body = xml_call("session.get_this_host", self.ref, self.ref).replace(
            b"?>", b"?><?xml-stylesheet href='file:///etc/passwd'?><!-- c -->", 1)
        r = self.post_xml(body)
        self.assertIn(r.status, (200, 500), r)
        if r.status == 200:
            self.assertTrue(r.xml().startswith("OpaqueRef:"))
        self.assertAlive(what="PI")

    # ---- structure limits -----------------------------------------------------------------
    def test_nesting_beyond_limit_xml(self):
        depth = 100
        v = b"<array><data><value>" * depth + b"x" + b"</value></data></array>" * depth
        r = self.post_xml(raw_xml("VM.set_name_label", self.ref.encode(), self.vm.encode(), v))
        self.assert_html_500(r, "Parse_error")
        self.assertAlive(what="deep XML nesting")

    def test_nesting_beyond_limit_json(self):
        depth = 10000
        body = ('{"jsonrpc":"2.0","id":1,"method":"VM.set_name_label","params":["%s","%s",%s"x"%s]}'
                % (self.ref, self.vm, "[" * depth, "]" * depth)).encode()
        r = self.post_json(body)
        self.assert_html_500(r, "nesting too deep")
        self.assertAlive(what="deep JSON nesting")

    def test_nesting_at_limit_is_a_type_error(self):
        depth = 50
        v = b"<array><data><value>" * depth + b"x" + b"</value></data></array>" * depth
        r = self.post_xml(raw_xml("VM.set_name_label", self.ref.encode(), self.vm.encode(), v))
        self.assertEqual(r.status, 200, r)
        with self.assertRaises(Exception) as cm:
            r.xml()
        self.assertEqual(cm.exception.details[0], "INTERNAL_ERROR")
        self.assertTrue(cm.exception.details[1].startswith('Failure("Expected string, got \'[[[['),
                        cm.exception.details)

    def _big_map_xml(self, limit):
        members, n = [], 0
        size = 0
        while True:
            m = b"<member><name>k%x</name><value>v</value></member>" % n
            if size + len(m) > limit:
                break
            members.append(m)
            size += len(m)
            n += 1
        return b"<struct>" + b"".join(members) + b"</struct>", n

    def test_huge_struct_xml(self):
        # as many members as fit in the 300 KiB body limit (~6,700), into a map parameter
        head = len(raw_xml("VM.set_other_config", self.ref.encode(), self.vm.encode(), b""))
        v, n = self._big_map_xml(300 * 1024 - head - 32)
        body = raw_xml("VM.set_other_config", self.ref.encode(), self.vm.encode(), v)
        self.assertLessEqual(len(body), 300 * 1024)
        r = self.post_xml(body, timeout=30)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.xml(), "")
        oc = self.call("VM.get_other_config", self.vm)
        self.assertEqual(len(oc), n)
        self.call("VM.set_other_config", self.vm, {})
        self.assertAlive(what="%d-member struct" % n)

    def test_huge_struct_json(self):
        # JSON is denser: ~25,000 members in 300 KiB (below XG_MAX_MEMBERS = 100,000)
        members = {}
        size = 200
        i = 0
        while size < 300 * 1024 - 400:
            k = "k%x" % i
            members[k] = ""
            size += len(k) + 6
            i += 1
        body = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "VM.set_other_config",
                           "params": [self.ref, self.vm, members]}, separators=(",", ":")).encode()
        self.assertLessEqual(len(body), 300 * 1024)
        r = self.post_json(body, timeout=30)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"jsonrpc": "2.0", "result": "", "id": 5})
        self.assertEqual(len(self.call("VM.get_other_config", self.vm)), len(members))
        self.call("VM.set_other_config", self.vm, {})

    def test_too_many_values_json(self):
        # 150,000 array elements in < 300 KiB: over XG_MAX_MEMBERS
        body = ('{"jsonrpc":"2.0","id":1,"method":"VM.set_tags","params":["%s","%s",[%s]]}'
                % (self.ref, self.vm, ",".join(["0"] * 150000))).encode()
        self.assertLessEqual(len(body), 300 * 1024)
        r = self.post_json(body)
        self.assert_html_500(r, "too many values")
        self.assertAlive(what="150k values")

    def test_duplicate_struct_members(self):
        v = (b"<struct><member><name>a</name><value>1</value></member>"
             b"<member><name>a</name><value>2</value></member></struct>")
        r = self.post_xml(raw_xml("VM.set_other_config", self.ref.encode(), self.vm.encode(), v))
        self.assertEqual(r.status, 200, r)
        try:
            r.xml()
            oc = self.call("VM.get_other_config", self.vm)
            self.assertEqual(len(oc), 1, oc)
        except Exception as e:  # noqa: BLE001  (a XAPI error is fine; a crash is not)
            self.assertTrue(hasattr(e, "details"), e)
        self.call("VM.set_other_config", self.vm, {})
        self.assertAlive(what="duplicate members")

    # ---- types and counts -----------------------------------------------------------------
    def test_wrong_type_string_param(self):
        r = self.post_xml(raw_xml("VM.set_name_label", self.ref.encode(), self.vm.encode(), b"<int>42</int>"))
        self.assertFailure(["INTERNAL_ERROR", "Failure(\"Expected string, got 'I(42)'\")"], r.xml)
        self.assertAlive(what="int for string")

    def test_wrong_type_bool_param(self):
        r = self.post_xml(raw_xml("VM.set_is_a_template", self.ref.encode(), self.vm.encode(),
                                  b"<string>true</string>"))
        self.assertFailure(["INTERNAL_ERROR", "Failure(\"Expected bool, got 'S(true)'\")"], r.xml)

    def test_wrong_type_ref_param(self):
        r = self.post_xml(raw_xml("VM.get_record", self.ref.encode(), b"<struct></struct>"))
        with self.assertRaises(Exception) as cm:
            r.xml()
        self.assertEqual(cm.exception.details[0], "INTERNAL_ERROR")
        self.assertIn("Expected", cm.exception.details[1])

    def test_wrong_type_session(self):
        r = self.post_xml(raw_xml("VM.get_all", b"<int>1</int>"))
        self.assertEqual(r.status, 200, r)
        with self.assertRaises(Exception) as cm:
            r.xml()
        self.assertIn(cm.exception.details[0], ("SESSION_INVALID", "INTERNAL_ERROR"))

    def test_param_count_mismatch(self):
        r = self.post_xml(xml_call("VM.get_record", self.ref))
        self.assertFailure(["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "1", "0"], r.xml)
        r = self.post_xml(xml_call("VM.get_record", self.ref, self.vm, *(["x"] * 40)))
        self.assertFailure(["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "1", "41"], r.xml)
        r = self.post_json({"jsonrpc": "2.0", "id": 3, "method": "VM.get_record", "params": [self.ref]})
        self.assertEqual(r.json()["error"], {"code": 1, "message": "MESSAGE_PARAMETER_COUNT_MISMATCH",
                                             "data": ["VM.get_record", "1", "0"]})
        self.assertAlive(what="count mismatch")

    def test_int64_overflow_in_string(self):
        for s in ("99999999999999999999", "9223372036854775808", "-9223372036854775809", "0x1ffffffffffffffff",
                  "12abc", ""):
            with self.subTest(value=s):
                r = self.post_xml(xml_call("VM.set_VCPUs_max", self.ref, self.vm, s))
                self.assertFailure(["INTERNAL_ERROR", 'Failure("Int64.of_string")'], r.xml)
        self.assertAlive(what="int64 overflow")

    def test_invalid_i8_does_not_crash(self):
        # xmlrpc-c 1.33.14 (Debian 12) segfaulted formatting the fault for a non-empty invalid
        # <i8>; the gateway's own reader answers as XAPI does (Int64.of_string fails: HTTP 500)
        for v, needle in ((b"<i8>99999999999999999999</i8>", 'Failure("Int64.of_string")'),
                          (b"<i8>abc</i8>", 'Failure("Int64.of_string")'),
                          (b"<ex:i8>1x</ex:i8>", "Parse_error")):
            with self.subTest(v=v):
                try:
                    r = self.post_xml(raw_xml("VM.set_VCPUs_max", self.ref.encode(), self.vm.encode(), v))
                except Exception as e:  # noqa: BLE001
                    self.fail("no answer for %r (%r); gateway rc=%r" % (v, e, self.gw.proc.poll()))
                self.assert_html_500(r, needle)
                self.assertAlive(what=repr(v))

    def test_i4_overflow_typed(self):
        r = self.post_xml(raw_xml("VM.set_VCPUs_max", self.ref.encode(), self.vm.encode(),
                                  b"<i4>99999999999999999999</i4>"))
        self.assert_html_500(r, 'Failure("Int64.of_string")')
        self.assertAlive(what="<i4> overflow")

    # ---- UTF-8 and NUL ---------------------------------------------------------------------
    def utf8_failure(self, r, prefix=None):
        self.assertEqual(r.status, 200, r)
        with self.assertRaises(Exception) as cm:
            r.xml() if r.header("content-type") == "text/xml" else self._json_raise(r)
        d = cm.exception.details
        self.assertEqual(d[:2], ["INVALID_VALUE", "Invalid UTF-8 string in parameter"], d)
        self.assertEqual(len(d), 3, d)
        r.body.decode("utf-8")        # our error output itself is valid UTF-8

    def _json_raise(self, r):
        from hostile import Failure
        j = r.json()
        e = j.get("error")
        if e is None:
            return j
        raise Failure(e if isinstance(e, list) else [e["message"]] + e.get("data", []))

    def test_invalid_utf8_json_surrogate_escape(self):
        # "\ud800" alone: yajl decodes escapes; a lone surrogate must not become a string we
        # store or re-emit unchecked
        body = ('{"jsonrpc":"2.0","id":1,"method":"VM.set_name_label","params":["%s","%s","a\\ud800b"]}'
                % (self.ref, self.vm)).encode()
        r = self.post_json(body)
        if r.status == 200 and "error" in r.json():
            self.utf8_failure(r)
        else:
            # accepted (replacement char) or refused as malformed: then what we store must be valid
            self.assertIn(r.status, (200, 500), r)
            name = self.call("VM.get_name_label", self.vm)
            name.encode("utf-8")
        self.assertAlive(what="lone surrogate")

    def test_nul_escape_in_json_string(self):
        body = ('{"jsonrpc":"2.0","id":1,"method":"VM.set_name_label","params":["%s","%s","a\\u0000b"]}'
                % (self.ref, self.vm)).encode()
        r = self.post_json(body)
        self.utf8_failure(r)
        self.assertAlive(what="\\u0000")

    def test_raw_invalid_utf8_json(self):
        body = ('{"jsonrpc":"2.0","id":1,"method":"VM.set_name_label","params":["%s","%s","a' % (self.ref, self.vm)
                ).encode() + b"\xff\xfe\xc0\xaf" + b'"]}'
        r = self.post_json(body)
        if r.status == 200:
            self.utf8_failure(r)
        else:
            self.assert_html_500(r, "")
        self.assertAlive(what="raw invalid UTF-8 in JSON")

    def test_raw_invalid_utf8_xml(self):
        body = raw_xml("VM.set_name_label", self.ref.encode(), self.vm.encode(), b"a\xff\xfe\xc0\xafb")
        r = self.post_xml(body)
        if r.status == 200:
            self.utf8_failure(r)
        else:
            self.assert_html_500(r, "Parse_error")
        self.assertAlive(what="raw invalid UTF-8 in XML")

    def test_surrogate_char_ref_xml(self):
        # &#xD800; is not a legal XML character; if the parser lets it through as
        # ED A0 80 the UTF-8 check must catch it
        body = raw_xml("VM.set_name_label", self.ref.encode(), self.vm.encode(), b"a&#xD800;b")
        r = self.post_xml(body)
        if r.status == 200:
            self.utf8_failure(r)
        else:
            self.assert_html_500(r, "Parse_error")
        self.assertAlive(what="&#xD800;")

    def test_latin1_declared_body_is_valid(self):
        body = (b"<?xml version='1.0' encoding='ISO-8859-1'?><methodCall><methodName>VM.set_name_label"
                b"</methodName><params><param><value>" + self.ref.encode() + b"</value></param><param><value>"
                + self.vm.encode() + b"</value></param><param><value>caf\xe9</value></param></params></methodCall>")
        r = self.post_xml(body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.xml(), "")
        self.assertEqual(self.call("VM.get_name_label", self.vm), "caf\u00e9")

    def test_invalid_utf8_in_map_key_json(self):
        body = ('{"jsonrpc":"2.0","id":1,"method":"VM.set_other_config","params":["%s","%s",{"k\\u0000":"v"}]}'
                % (self.ref, self.vm)).encode()
        r = self.post_json(body)
        self.utf8_failure(r)

    def test_error_echo_is_escaped(self):
        # hostile text echoed in an error must not break the XML envelope
        evil = "</value></data></array><script>&amp;\x01"
        r = self.post_xml(xml_call("VM.get_record", self.ref, evil.replace("\x01", "")))
        self.assertEqual(r.status, 200, r)
        with self.assertRaises(Exception) as cm:
            r.xml()
        self.assertEqual(cm.exception.details[0], "HANDLE_INVALID")
        self.assertEqual(cm.exception.details[2], evil.replace("\x01", ""))
