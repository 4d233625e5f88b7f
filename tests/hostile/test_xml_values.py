"""Every XML-RPC value type in every malformed form, in a param, an array item and a struct
member (issue 20 and its siblings), sent to the real binary; plus strings that must round-trip
byte for byte and the parameter-count cases (issue 11).

What XAPI does is the expectation: its reader is ocaml-rpc's Xmlrpc.call_of_string over Xmlm,
which reads <i4>, <int> and <i8> alike with Int64.of_string, <double> with float_of_string,
<boolean> as true only for "1", and refuses an empty <i4>/<boolean>/... with Parse_error. A
refusal is an HTTP 500 whose body carries XAPI's exception; an accepted value is observed through
the type error a string parameter gives for it (`Expected string, got 'I(5)'`, XAPI's rendering),
so each case shows exactly what the gateway decoded."""

from hostile import Closed, HostileCase, Reader, exchange, json_call, post_bytes, tls_connect, xml_call

ISSUE20 = (b"<methodCall><methodName>x</methodName><params><param><value><i4>1 </i4></value>"
           b"</param></params></methodCall>")

INT64 = 'Failure("Int64.of_string")'
FLOAT = 'Failure("float_of_string")'
PARSE = "Xmlrpc.Parse_error("

# (element content of <value>, what XAPI makes of it: a rendering, or ("500", needle))
INT_FORMS = [
    (b"5", "I(5)"), (b"-5", "I(-5)"), (b"+5", "I(5)"), (b"0", "I(0)"), (b"007", "I(7)"),
    (b"1_000", "I(1000)"), (b"0x1F", "I(31)"), (b"0o17", "I(15)"), (b"0b101", "I(5)"),
    (b"0xFFFFFFFFFFFFFFFF", "I(-1)"), (b"0u18446744073709551615", "I(-1)"),
    (b"99999999999", "I(99999999999)"),                         # wider than 32 bits: widened
    (b"9223372036854775807", "I(9223372036854775807)"),
    (b"-9223372036854775808", "I(-9223372036854775808)"),
    (b"&#49;&#50;", "I(12)"), (b"<![CDATA[42]]>", "I(42)"),
    (b"1 ", ("500", INT64)), (b" 1", ("500", INT64)), (b"\n1\n", ("500", INT64)),
    (b"\t", ("500", INT64)), (b"9223372036854775808", ("500", INT64)),
    (b"-9223372036854775809", ("500", INT64)), (b"99999999999999999999", ("500", INT64)),
    (b"0x1FFFFFFFFFFFFFFFF", ("500", INT64)), (b"abc", ("500", INT64)), (b"1.5", ("500", INT64)),
    (b"1e3", ("500", INT64)), (b"--1", ("500", INT64)), (b"-", ("500", INT64)),
    (b"_1", ("500", INT64)), (b"0x", ("500", INT64)), (b"1&#32;", ("500", INT64)),
    (b"<![CDATA[1 ]]>", ("500", INT64)), (b"1" * 400, ("500", INT64)),
    (b"", ("500", PARSE)), (None, ("500", PARSE)),              # None: the self-closing form
    (b"<i4>1</i4>", ("500", PARSE)), (b"1<b/>", ("500", PARSE)), (b"&bogus;", ("500", PARSE)),
    (b"1</value>", ("500", PARSE)),
]
DOUBLE_FORMS = [
    (b"1.5", "F(1.5)"), (b"-0.25", "F(-0.25)"), (b"1e3", "F(1000)"), (b"+2", "F(2)"),
    (b"1_000.5", "F(1000.5)"), (b" 1.5", "F(1.5)"), (b"inf", "F(inf)"), (b"0x1p4", "F(16)"),
    (b"&#49;.5", "F(1.5)"),
    (b"1.5 ", ("500", FLOAT)), (b"abc", ("500", FLOAT)), (b"1.5.5", ("500", FLOAT)),
    (b"_", ("500", FLOAT)), (b"1,5", ("500", FLOAT)),
    (b"", ("500", PARSE)), (None, ("500", PARSE)), (b"<x/>", ("500", PARSE)),
]
BOOL_FORMS = [
    (b"1", "B(true)"), (b"0", "B(false)"), (b"true", "B(false)"), (b" 1", "B(false)"),
    (b"1 ", "B(false)"), (b"2", "B(false)"), (b"&#49;", "B(true)"), (b"<![CDATA[1]]>", "B(true)"),
    (b"", ("500", PARSE)), (None, ("500", PARSE)), (b"<b>1</b>", ("500", PARSE)),
]
DATETIME_FORMS = [
    (b"20250319T04:16:24Z", "D(20250319T04:16:24Z)"), (b"2025-03-19T04:16:24Z", "D(2025-03-19T04:16:24Z)"),
    (b"garbage", "D(garbage)"), (b" x ", "D( x )"),            # any text: checked when used
    (b"", ("500", PARSE)), (None, ("500", PARSE)), (b"2025<x/>", ("500", PARSE)),
]
BASE64_FORMS = [
    (b"aGk=", "B64(hi)"), (b"aGVsbG8=", "B64(hello)"), (b"", ("500", PARSE)), (None, ("500", PARSE)),
    (b"aGk", ("500", PARSE)), (b"a$k=", ("500", PARSE)), (b"aGk=aGk=", ("500", PARSE)),
    (b"<x/>", ("500", PARSE)),
]
NIL_FORMS = [
    (None, "N"), (b"", "N"), (b" \n ", "N"), (b"x", ("500", PARSE)), (b"<i4>1</i4>", ("500", PARSE)),
]
STRING_FORMS = [                   # accepted strings: set as the name, shown as S(...) inside
    (b"a", "S(a)"), (b"", "S()"), (None, "S()"), (b" a ", "S( a )"),
    (b"&lt;i4&gt;", "S(<i4>)"), (b"<x/>", ("500", PARSE)),
]


def element(tag, content):
    t = tag.encode()
    return b"<" + t + b"/>" if content is None else b"<" + t + b">" + content + b"</" + t + b">"


class VmCase(HostileCase):
    """A gateway, a session and one guest VM whose name_label receives the values."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        vms = exchange(cls.gw, post_bytes(xml_call("VM.get_all_records", cls.ref))).xml()
        cls.vm = sorted(ref for ref, rec in vms.items()
                        if not rec["is_control_domain"] and not rec["is_a_template"])[0]

    def send(self, value_xml):
        """VM.set_name_label(session, vm, <value>value_xml</value>): a raw response."""
        body = (b"<?xml version='1.0'?><methodCall><methodName>VM.set_name_label</methodName><params>"
                b"<param><value>" + self.ref.encode() + b"</value></param>"
                b"<param><value>" + self.vm.encode() + b"</value></param>"
                b"<param><value>" + value_xml + b"</value></param></params></methodCall>")
        try:
            return self.keepalive_exchange(post_bytes(body))
        except Exception as e:  # noqa: BLE001
            self.fail("no answer for %r (%r); gateway rc=%r\n%s"
                      % (value_xml, e, self.gw.proc.poll(), self.gw.log_tail()))

    conn = None

    def keepalive_exchange(self, data):
        """One request on the kept-alive connection (a fresh one after a refusal closed it):
        hundreds of cases, and a TLS handshake each would dominate the run."""
        for attempt in (0, 1):
            if self.conn is None:
                s = tls_connect(self.gw)
                type(self).conn = (s, Reader(s))
            s, reader = self.conn
            try:
                s.sendall(data)
                r = reader.read()
            except (OSError, Closed):
                self.drop_conn()
                if attempt:
                    raise
                continue                # the idle kept-alive connection had been closed
            if (r.header("connection") or "").lower() == "close":
                self.drop_conn()
            return r

    @classmethod
    def tearDownClass(cls):
        if cls.conn is not None:
            cls.conn[0].close()
            cls.conn = None
        super().tearDownClass()

    def drop_conn(self):
        if self.conn is not None:
            self.conn[0].close()
            type(self).conn = None

    def check(self, value_xml, expect, shown):
        r = self.send(value_xml)
        if isinstance(expect, tuple):
            self.assert_html_500(r, expect[1])
            return
        self.assertEqual(r.status, 200, r)
        if expect is None:              # an accepted string: it was set
            self.assertEqual(r.xml(), "")
            return
        with self.assertRaises(Exception) as cm:
            r.xml()
        self.assertEqual(cm.exception.details,
                         ["INTERNAL_ERROR", "Failure(\"Expected string, got '%s'\")" % shown], value_xml)


class XmlValueFormsTest(VmCase):

    def matrix(self, tags, forms):
        for tag in tags:
            for content, expect in forms:
                v = element(tag, content)
                places = [(v, expect),
                          (b"<array><data><value>" + v + b"</value></data></array>", "[%s]"),
                          (b"<struct><member><name>k</name><value>" + v + b"</value></member></struct>",
                           "{k:%s}")]
                for i, (xml, shown) in enumerate(places):
                    with self.subTest(tag=tag, content=content, place=("param", "array", "struct")[i]):
                        if isinstance(expect, tuple):
                            self.check(xml, expect, None)
                        elif i == 0 and tag == "string":
                            self.check(xml, None, None)
                        elif i == 0:
                            self.check(xml, expect, expect)
                        else:
                            self.check(xml, expect, shown % expect)
        self.assertAlive(what="%s forms" % "/".join(tags))

    def test_issue20_reproducer_exact_bytes(self):
        r = exchange(self.gw, post_bytes(ISSUE20))
        self.assert_html_500(r, INT64)
        self.assertAlive(what="issue 20 reproducer")

    def test_i4_forms(self):
        self.matrix(("i4",), INT_FORMS)

    def test_int_forms(self):
        self.matrix(("int",), INT_FORMS)

    def test_i8_forms(self):
        self.matrix(("i8",), INT_FORMS)

    def test_double_forms(self):
        self.matrix(("double",), DOUBLE_FORMS)

    def test_boolean_forms(self):
        self.matrix(("boolean",), BOOL_FORMS)

    def test_datetime_forms(self):
        self.matrix(("dateTime.iso8601",), DATETIME_FORMS)

    def test_base64_forms(self):
        self.matrix(("base64",), BASE64_FORMS)

    def test_nil_forms(self):
        self.matrix(("nil",), NIL_FORMS)

    def test_string_forms(self):
        self.matrix(("string",), STRING_FORMS)

    def test_value_wrapping(self):
        for xml, expect in ((b" <i4>5</i4> ", "I(5)"), (b"\n\t<boolean>1</boolean>\n", "B(true)"),
                            (b"x<i4>5</i4>", ("500", PARSE)), (b"<i4>5</i4>x", ("500", PARSE)),
                            (b"<i4>5</i4><i4>6</i4>", ("500", PARSE)), (b"<foo>1</foo>", ("500", PARSE)),
                            (b"<ex:i8>1</ex:i8>", ("500", PARSE)), (b"<I4>1</I4>", ("500", PARSE)),
                            (b"<i4>1</i8>", ("500", PARSE)), (b"<array><data>", ("500", PARSE)),
                            (b"<struct><member><value>1</value></member></struct>", ("500", PARSE)),
                            (b"<struct><member><name></name><value>1</value></member></struct>",
                             ("500", PARSE)),
                            (b"<array><value>1</value></array>", ("500", PARSE)),
                            (b"<array/>", "[]"), (b"<array></array>", "[]"), (b"<array><data/></array>", "[]"),
                            (b"<struct/>", "{}"), (b"<struct> </struct>", "{}")):
            with self.subTest(xml=xml):
                self.check(xml, expect, expect)
        self.assertAlive(what="value wrapping")


class XmlRoundTripTest(VmCase):
    """Issue 11: strings are stored exactly as sent, whatever XML-RPC markup they contain."""

    def test_strings_round_trip(self):
        cases = [
            (b"a&lt;i4&gt;b", "a<i4>b"),
            (b"<string>a&lt;i4&gt;b&lt;int&gt;c&lt;/int&gt;</string>", "a<i4>b<int>c</int>"),
            (b"<![CDATA[x<i4>1 </i4><int>y</int>]]>", "x<i4>1 </i4><int>y</int>"),
            (b"<string><![CDATA[<i8>1 </i8>]]></string>", "<i8>1 </i8>"),
            (b"a&amp;lt;b&#60;&#x3e;&quot;&apos;", "a&lt;b<>\"'"),
            (b"  lead and trail  ", "  lead and trail  "),
            (b"a&#13;&#10;b\tc", "a\r\nb\tc"),
            (b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", "caf\u00e9 \u20ac \U0001f40d"),
            (b"a<!-- c -->b", "ab"),
        ]
        for xml, want in cases:
            with self.subTest(xml=xml):
                r = self.send(xml)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.xml(), "")
                self.assertEqual(self.stored_name(), want)

    def stored_name(self):
        # read back over JSON-RPC: an XML reader would turn a stored \r into \n
        r = exchange(self.gw, post_bytes(json_call("VM.get_name_label", [self.ref, self.vm]),
                                         path="/jsonrpc", ctype=b"application/json"))
        self.assertEqual(r.status, 200, r)
        return r.json()["result"]

    def test_python_client_round_trip(self):
        for s in ("a<i4>b", "a<i4>b<int>c", "<i8>1 </i8>", "]]>", "x & y < z > w"):
            with self.subTest(s=s):
                self.assertEqual(self.call("VM.set_name_label", self.vm, s), "")
                self.assertEqual(self.call("VM.get_name_label", self.vm), s)


class XmlParamCountTest(HostileCase):
    """Issue 11: any number of params gets MESSAGE_PARAMETER_COUNT_MISMATCH, as from XAPI."""

    def test_many_params(self):
        for n in (65, 100, 4097, 5000):       # 5,000 fill most of the 300 KiB body cap
            with self.subTest(n=n):
                r = exchange(self.gw, post_bytes(xml_call("VM.get_record", self.ref, *(["x"] * (n - 1)))))
                self.assertEqual(r.status, 200, r)
                self.assertFailure(["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "1", str(n - 1)],
                                   r.xml)
        self.assertAlive(what="many params")
