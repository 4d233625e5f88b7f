"""host.call_plugin with XAPI's plugin ABI: plugins written for the test (Python with the
XenAPIPlugin calling convention, shell), including hostile ones (no output, 100 MiB of output,
never exits, not XML, killed by a signal), the errors XAPI gives, the session a plugin gets, and
that plugins run off the network threads."""
import json
import os
import shutil
import stat
import tempfile
import threading
import unittest

from gateway import Failure, Gateway, scaled, sim_only, wait_task

# XenAPIPlugin's convention, by hand: argv[1] is a methodCall, stdout a methodResponse.
PY_HEAD = """#!/usr/bin/env python3
import json, sys, xmlrpc.client
params, fn = xmlrpc.client.loads(sys.argv[1])
session, args = params
def reply(value):
    sys.stdout.write(xmlrpc.client.dumps((value,), methodresponse=True))
"""

PLUGINS = {
    "echo.py": PY_HEAD + "reply(json.dumps({'fn': fn, 'session': session, 'args': args}))\n",
    "fault.py": PY_HEAD + "sys.stdout.write(xmlrpc.client.dumps(xmlrpc.client.Fault(42, 'no such fn ' + fn)))\n",
    "notstring.py": PY_HEAD + "reply(7)\n",
    "session.py": PY_HEAD + """
import ssl
x = xmlrpc.client.ServerProxy(args['url'], context=ssl._create_unverified_context())
r = x.session.get_this_host(session, session)
reply(r['Status'] + ' ' + r.get('Value', ''))
""",
    "fail.sh": "#!/bin/sh\necho partial output\necho 'it went wrong' >&2\nexit 3\n",
    "silent.sh": "#!/bin/sh\nexit 0\n",
    "garbage.sh": "#!/bin/sh\necho 'this is not XML'\n",
    "doctype.sh": "#!/bin/sh\nprintf '<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><methodResponse/>'\n",
    "flood.sh": "#!/bin/sh\nhead -c 104857600 /dev/zero\n",
    "sleeper.sh": "#!/bin/sh\nsleep 1000\n",
    "segv.sh": "#!/bin/sh\nkill -SEGV $$\n",
    "slow.sh": "#!/bin/sh\nsleep 2\nprintf '<?xml version=\"1.0\"?><methodResponse><params><param><value>done</value></param></params></methodResponse>'\n",
}


@sim_only
class PluginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xg-plugins-")
        cls.dir = os.path.join(cls.tmp, "plugins")
        os.makedirs(cls.dir)
        for name, text in PLUGINS.items():
            p = os.path.join(cls.dir, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)
        with open(os.path.join(cls.dir, "noexec.sh"), "w") as f:
            f.write("#!/bin/sh\necho hi\n")
        with open(os.path.join(cls.tmp, "outside.sh"), "w") as f:
            f.write("#!/bin/sh\necho outside\n")
        os.chmod(os.path.join(cls.tmp, "outside.sh"), 0o755)
        # The kill timeout is what test_timeout_kills waits for; every other
        # plugin must finish well inside it even on a loaded machine (3 s
        # killed a Python plugin that was still starting at load 30).
        cls.timeout_s = int(scaled(8))
        cls.gw = Gateway(sim_vms=0, extra_args=["--plugin-dir", cls.dir,
                                                "--plugin-timeout-s", str(cls.timeout_s)]).start()
        cls.s = cls.gw.xapi()
        cls.host = cls.s.call("host.get_all")[0]

    @classmethod
    def tearDownClass(cls):
        cls.s.logout()
        cls.gw.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def plugin(self, name, fn="main", args=None):
        return self.s.call("host.call_plugin", self.host, name, fn, args or {})

    def failure(self, name, fn="main", args=None):
        with self.assertRaises(Failure) as cm:
            self.plugin(name, fn, args)
        return cm.exception.details

    def test_calling_convention(self):
        out = json.loads(self.plugin("echo.py", "check_update", {"a": "1", "x<&>": "v\"'<&>"}))
        self.assertEqual(out, {"fn": "check_update", "session": self.s.ref,
                               "args": {"a": "1", "x<&>": "v\"'<&>"}})

    def test_plugin_may_use_its_session(self):
        url = "https://127.0.0.1:%d/" % self.gw.port
        self.assertEqual(self.plugin("session.py", "main", {"url": url}), "Success " + self.host)

    def test_missing_plugin(self):
        for name in ["nothere.py", "../outside.sh", "", ".", "..", "sub/echo.py"]:
            self.assertEqual(self.failure(name), ["XENAPI_MISSING_PLUGIN", name], name)

    def test_fault(self):
        self.assertEqual(self.failure("fault.py", "nope"),
                         ["XENAPI_PLUGIN_FAILURE", "fault", "42", "no such fn nope"])

    def test_non_zero_exit(self):
        self.assertEqual(self.failure("fail.sh"),
                         ["XENAPI_PLUGIN_FAILURE", "non-zero exit", "partial output\n", "it went wrong\n"])
        d = self.failure("noexec.sh")
        self.assertEqual(d[:2], ["XENAPI_PLUGIN_FAILURE", "non-zero exit"])

    def test_unreadable_output(self):
        for name in ["silent.sh", "garbage.sh", "doctype.sh"]:
            d = self.failure(name)
            self.assertEqual(d[:2], ["XENAPI_PLUGIN_FAILURE", "failed to parse plugin output"], name)
        d = self.failure("notstring.py")
        self.assertEqual(d[:2], ["XENAPI_PLUGIN_FAILURE", "unexpected XMLRPC result"])

    def test_signal(self):
        self.assertEqual(self.failure("segv.sh")[:2], ["XENAPI_PLUGIN_FAILURE", "signal: SIGSEGV"])

    def test_flood_is_cut_and_bounded(self):
        d = self.failure("flood.sh")
        self.assertEqual(d[:2], ["XENAPI_PLUGIN_FAILURE", "signal: SIGKILL"])
        self.assertLessEqual(len(d[2]), 64 * 1024)
        self.assertIn("output over", d[3])

    def test_timeout_kills(self):
        d = self.failure("sleeper.sh")
        self.assertEqual(d[:2], ["XENAPI_PLUGIN_FAILURE", "signal: SIGKILL"])
        self.assertIn("killed after %d s" % self.timeout_s, d[3])

    def test_runs_off_network_threads(self):
        # four slow plugins through Async: the gateway keeps answering while they run
        tasks = [self.s.call("Async.host.call_plugin", self.host, "slow.sh", "main", {})
                 for _ in range(4)]
        # answered while the plugins hold every slot
        self.assertEqual(self.s.call("host.get_record", self.host)["uuid"],
                         self.s.call("host.get_uuid", self.host))
        pending = [self.s.call("task.get_status", t) for t in tasks]
        self.assertIn("pending", pending)
        for t in tasks:
            rec = wait_task(self.s, t, timeout=60)
            self.assertEqual(rec["status"], "success", rec)
            self.assertIn("done", rec["result"])

    def test_more_calls_than_slots(self):
        # eight at once with four slots: all answer, queued ones after the first
        out, errs = [], []

        def one():
            try:
                out.append(self.gw.xapi().call("host.call_plugin", self.host, "echo.py", "f", {}))
            except Exception as e:          # surfaced below
                errs.append(e)
        th = [threading.Thread(target=one) for _ in range(8)]
        for t in th:
            t.start()
        for t in th:
            t.join(60)
        self.assertEqual(errs, [])
        self.assertEqual(len(out), 8)


if __name__ == "__main__":
    from gateway import main
    raise SystemExit(main())
