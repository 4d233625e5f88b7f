#!/usr/bin/env python3
"""The shipped updater plugin (tools/plugins/updater.py): its parsers over
fixed apt output (real lines, odd and hostile ones), the JSON XCP-ng's
plugin answers, the XML-RPC ABI, and the bounds on the apt runs."""
import importlib.util
import io
import json
import os
import sys
import time
import unittest
import xmlrpc.client

sys.dont_write_bytecode = True   # never leave a __pycache__ next to the shipped plugin
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.path.join(HERE, "..", "..", "tools", "plugins", "updater.py")
spec = importlib.util.spec_from_file_location("updater", PLUGIN)
updater = importlib.util.module_from_spec(spec)
spec.loader.exec_module(updater)

SIMULATION = """\
Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages will be upgraded:
  bash libgcrypt20 login
3 upgraded, 1 newly installed, 1 to remove and 0 not upgraded.
Remv oldpkg [1.0-1]
Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])
Inst login [1:4.13+dfsg1-1+deb12u1] (1:4.13+dfsg1-1+deb12u2 Debian:12.15/oldstable [amd64])
Inst libgcrypt20:i386 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [i386]) []
Inst newdep (2.0-1 Debian:12.15/oldstable [amd64])
Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])
Inst ../../etc/passwd [1.0] (2.0 x [amd64])
Inst UPPER [1.0] (2.0 x [amd64])
Inst evil [1.0] (2.0<script> x [amd64])
Inst trunc [1.0]
Inst  spaced [1.0] (2.0 x [amd64])
Conf bash (5.2.15-2+b13 Debian:12.15/oldstable [amd64])
Inst zlib1g [1:1.2.13.dfsg-1] (1:1.2.13.dfsg-1+deb12u1 Debian:12.15/oldstable [amd64])
"""

RECORDS = """\
Package: bash
Version: 5.2.15-2+b13
Installed-Size: 7163
Homepage: http://tiswww.case.edu/php/chet/bash/bashtop.html
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.
 .
 Size: 999 (a continuation line, not the field)
Size: 1490652

Package: login
Version: 1:4.13+dfsg1-1+deb12u2
Description-en: system login tools
Size: 12345678901234567890

Package: libgcrypt20
Version: 1.10.1-3+deb12u1
Size: 696204
Description: LGPL Crypto library - runtime library

Package: bash
Version: 5.2.15-2+b8
Description: an older bash (not the candidate)
Size: 1

garbage without a colon
Package: ../x
Version: 1
"""


class Parsers(unittest.TestCase):
    def test_simulation_keeps_valid_upgrades_once_in_order(self):
        self.assertEqual(updater.parse_simulation(SIMULATION), [
            ("bash", "5.2.15-2+b13"),
            ("login", "1:4.13+dfsg1-1+deb12u2"),
            ("libgcrypt20:i386", "1.10.1-3+deb12u1"),
            ("zlib1g", "1:1.2.13.dfsg-1+deb12u1"),
        ])

    def test_up_to_date_host(self):
        quiet = "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
        self.assertEqual(updater.parse_simulation(quiet), [])
        self.assertEqual(updater.updates(quiet, {}), [])
        self.assertEqual(updater.parse_simulation(""), [])

    def test_count_is_bounded(self):
        many = "".join("Inst p%d [1] (2 x [amd64])\n" % i for i in range(updater.MAX_PACKAGES + 50))
        self.assertEqual(len(updater.parse_simulation(many)), updater.MAX_PACKAGES)

    def test_long_and_binary_lines_are_skipped(self):
        odd = "Inst %s [1] (2 x)\n" % ("a" * 5000) + "Inst \x00\xff [1] (2 x)\n" + "Inst x [1] (" + "9" * 300 + " x)\n"
        self.assertEqual(updater.parse_simulation(odd), [])

    def test_split_version(self):
        self.assertEqual(updater.split_version("1:4.13+dfsg1-1+deb12u2"), ("4.13+dfsg1", "1+deb12u2"))
        self.assertEqual(updater.split_version("12.4+deb12u15"), ("12.4+deb12u15", ""))
        self.assertEqual(updater.split_version("1.0-rc1-3"), ("1.0-rc1", "3"))

    def test_records(self):
        r = updater.parse_records(RECORDS)
        self.assertEqual(r[("bash", "5.2.15-2+b13")], {
            "summary": "GNU Bourne Again SHell",
            "url": "http://tiswww.case.edu/php/chet/bash/bashtop.html", "size": 1490652})
        # Description-en (translated lists) is read; an absurd size is dropped, not trusted
        self.assertEqual(r[("login", "1:4.13+dfsg1-1+deb12u2")],
                         {"summary": "system login tools", "url": "", "size": 0})
        self.assertEqual(r[("bash", "5.2.15-2+b8")]["size"], 1)
        self.assertNotIn(("../x", "1"), r)

    def test_long_field_is_cut(self):
        r = updater.parse_records("Package: a\nVersion: 1\nDescription: %s\n" % ("x" * 100000))
        self.assertEqual(len(r[("a", "1")]["summary"]), updater.FIELD_CHARS)

    def test_entries_have_xcpng_fields(self):
        got = updater.updates(SIMULATION, updater.parse_records(RECORDS))
        self.assertEqual(got[0], {
            "name": "bash", "version": "5.2.15", "release": "2+b13",
            "description": "GNU Bourne Again SHell", "changelog": None,
            "url": "http://tiswww.case.edu/php/chet/bash/bashtop.html", "size": 1490652,
            "license": ""})
        self.assertEqual([(e["name"], e["version"], e["release"]) for e in got], [
            ("bash", "5.2.15", "2+b13"), ("login", "4.13+dfsg1", "1+deb12u2"),
            ("libgcrypt20", "1.10.1", "3+deb12u1"), ("zlib1g", "1.2.13.dfsg", "1+deb12u1")])
        # a candidate without a record keeps its name and version, details empty
        self.assertEqual(got[3]["description"], "")
        self.assertEqual(got[3]["size"], 0)


def call(fn, args=None):
    out = io.StringIO()
    request = xmlrpc.client.dumps(("OpaqueRef:session", args or {}), fn)
    with redirect_stdout(out):
        rc = updater.main(["updater.py", request])
    return rc, out.getvalue()


class Abi(unittest.TestCase):
    def setUp(self):
        self.saved = updater.run_apt

    def tearDown(self):
        updater.run_apt = self.saved

    def test_check_update_answers_one_json_string(self):
        seen = []

        def fake(argv, must_succeed=True):
            seen.append(argv)
            return SIMULATION if argv[0] == "apt-get" else RECORDS
        updater.run_apt = fake
        rc, out = call("check_update")
        self.assertEqual(rc, 0)
        (value,), _ = xmlrpc.client.loads(out)
        names = [e["name"] for e in json.loads(value)]
        self.assertEqual(names, ["bash", "login", "libgcrypt20", "zlib1g"])
        # a simulation without locking, then the candidates' records only
        self.assertIn("-s", seen[0])
        self.assertIn("Debug::NoLocking=1", seen[0])
        self.assertEqual(seen[1][3:], ["bash=5.2.15-2+b13", "login=1:4.13+dfsg1-1+deb12u2",
                                       "libgcrypt20=1.10.1-3+deb12u1", "zlib1g=1:1.2.13.dfsg-1+deb12u1"])

    def test_up_to_date_answers_empty_list_without_apt_cache(self):
        seen = []

        def fake(argv, must_succeed=True):
            seen.append(argv[0])
            return "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
        updater.run_apt = fake
        _, out = call("check_update")
        self.assertEqual(xmlrpc.client.loads(out)[0], ("[]",))
        self.assertEqual(seen, ["apt-get"])

    def test_apt_failure_is_a_fault(self):
        def fake(argv, must_succeed=True):
            raise updater.PluginError("apt-get failed (status 100)")
        updater.run_apt = fake
        _, out = call("check_update")
        with self.assertRaises(xmlrpc.client.Fault) as f:
            xmlrpc.client.loads(out)
        self.assertIn("apt-get failed", f.exception.faultString)

    def test_unknown_function_is_a_fault(self):
        _, out = call("update")
        with self.assertRaises(xmlrpc.client.Fault) as f:
            xmlrpc.client.loads(out)
        self.assertEqual(f.exception.faultString, "UNKNOWN_XENAPI_PLUGIN_FUNCTION update")

    def test_unreadable_call_is_a_fault(self):
        out = io.StringIO()
        with redirect_stdout(out):
            updater.main(["updater.py", "<methodCall><oops"])
        with self.assertRaises(xmlrpc.client.Fault):
            xmlrpc.client.loads(out.getvalue())


class Bounds(unittest.TestCase):
    def test_timeout_kills_the_command(self):
        saved = updater.APT_TIMEOUT_S
        updater.APT_TIMEOUT_S = 1
        try:
            t0 = time.monotonic()
            with self.assertRaises(updater.PluginError) as e:
                updater.run_apt(["sleep", "30"])
            self.assertIn("more than 1 s", str(e.exception))
            self.assertLess(time.monotonic() - t0, 25)   # hang guard, not a latency bound
        finally:
            updater.APT_TIMEOUT_S = saved

    def test_output_cap_kills_the_command(self):
        saved = updater.APT_OUTPUT_BYTES
        updater.APT_OUTPUT_BYTES = 1 << 16
        try:
            with self.assertRaises(updater.PluginError):
                updater.run_apt(["yes"])
            # when its failure is tolerated, what it wrote is cut at the cap
            self.assertEqual(len(updater.run_apt(["yes"], must_succeed=False)), 1 << 16)
        finally:
            updater.APT_OUTPUT_BYTES = saved

    def test_missing_command(self):
        with self.assertRaises(updater.PluginError):
            updater.run_apt(["no-such-apt-command-xg"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
