"""Metrics over HTTP: /rrd_updates as xo-server's xapi-stats asks for it, /host_rrd, /metrics."""
import base64
import json
import math
import re
import time
import unittest
import urllib.parse

from gateway import Failure, GatewayTestCase, sim_only, wait_until


def num(x):
    return float(x)  # modern XAPI sends numbers as strings, legacy as numbers: accept both


def parse_openmetrics(text):
    """A strict-enough OpenMetrics/Prometheus text parser. Returns {family: {"type", "samples"}}."""
    fams = {}
    sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \S+)?$')
    label_re = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines):
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if parts[1] == "EOF":
                if i != len(lines) - 1:
                    raise ValueError("# EOF is not the last line")
                continue
            if parts[1] in ("TYPE", "HELP", "UNIT"):
                fam = fams.setdefault(parts[2], {"type": None, "samples": []})
                if parts[1] == "TYPE":
                    if parts[3] not in ("counter", "gauge", "histogram", "summary", "info", "stateset",
                                        "unknown", "gaugehistogram", "untyped"):
                        raise ValueError("bad TYPE %r" % line)
                    fam["type"] = parts[3]
                continue
            raise ValueError("bad comment line %r" % line)
        m = sample_re.match(line)
        if not m:
            raise ValueError("bad sample line %r" % line)
        name, _, labels, value = m.group(1), m.group(2), m.group(3), m.group(4)
        lab = {}
        if labels:
            pos = 0
            while pos < len(labels):
                lm = label_re.match(labels, pos)
                if not lm:
                    raise ValueError("bad labels in %r" % line)
                lab[lm.group(1)] = lm.group(2)
                pos = lm.end()
        v = float(value)  # accepts NaN, +Inf, -Inf
        fam_name = name
        for suffix in ("_total", "_created", "_bucket", "_count", "_sum"):
            if name.endswith(suffix) and name[:-len(suffix)] in fams:
                fam_name = name[:-len(suffix)]
        fams.setdefault(fam_name, {"type": None, "samples": []})["samples"].append((name, lab, v))
    return fams


class MetricsTest(GatewayTestCase):
    def get(self, path, query=None, headers=None):
        q = urllib.parse.urlencode(query or {})
        return self.gw.request("GET", path + ("?" + q if q else ""), headers=headers or {})

    def servertime(self):
        host = self.s.call("host.get_all")[0]
        st = self.s.call("host.get_servertime", host).value
        return int(time.mktime(time.strptime(st, "%Y%m%dT%H:%M:%SZ")) - time.timezone)

    def rrd_updates(self, step=5, points=120):
        start = self.servertime() - step * points + step
        st, h, body = self.get("/rrd_updates", {"start": start, "host": "true", "json": "true",
                                                "cf": "AVERAGE", "interval": step,
                                                "session_id": self.s.ref})
        self.assertEqual(st, 200, body[:300])
        self.assertEqual(dict((k.lower(), v) for k, v in h)["content-type"], "application/json")
        return json.loads(body)

    def test_rrd_updates_json_like_xo(self):
        host_uuid = self.s.call("host.get_uuid", self.s.call("host.get_all")[0])
        running = {r["uuid"] for ref, r in self.s.call("VM.get_all_records").items()
                   if r["power_state"] == "Running"}
        state = {}

        def ready():
            # every running VM has series and at least two samples (5 s step) were taken
            d = self.rrd_updates()
            vms = {e.split(":")[2] for e in d["meta"]["legend"] if e.startswith("AVERAGE:vm:")}
            state["missing"] = sorted(running - vms)
            state["extra"] = sorted(vms - running)
            key = "AVERAGE:host:%s:memory_total_kib" % host_uuid
            sampled = [r for r in d["data"]
                       if key in d["meta"]["legend"]
                       and num(r["values"][d["meta"]["legend"].index(key)]) > 0]
            return d if running <= vms and len(sampled) >= 2 else None
        try:
            d = wait_until(ready, 40, 0.5, "two samples with series of every running VM in /rrd_updates")
        except AssertionError:
            self.fail("running VMs without series: %s; series of unknown/not running VMs: %s"
                      % (state.get("missing"), state.get("extra")))
        meta = d["meta"]
        self.assertEqual(num(meta["step"]), 5)
        legend = meta["legend"]
        self.assertEqual(int(num(meta["columns"])), len(legend))
        for e in legend:
            self.assertRegex(e, r"^AVERAGE:(host|vm|sr):[0-9a-f-]{36}:[A-Za-z0-9_]+$")
        for ds in ["cpu0", "memory_total_kib", "memory_free_kib", "loadavg"]:
            self.assertIn("AVERAGE:host:%s:%s" % (host_uuid, ds), legend)
        for u in running:
            self.assertIn("AVERAGE:vm:%s:memory" % u, legend)
            self.assertIn("AVERAGE:vm:%s:cpu0" % u, legend)
        rows = d["data"]
        self.assertEqual(int(num(meta["rows"])), len(rows))
        ts = [int(num(r["t"])) for r in rows]
        self.assertEqual(ts, sorted(ts, reverse=True), "rows must be newest first")
        self.assertTrue(all(b - a == -5 for a, b in zip(ts, ts[1:])), ts[:5])
        self.assertEqual(int(num(meta["end"])), ts[0])
        for r in rows:
            self.assertEqual(len(r["values"]), len(legend))
        newest = dict(zip(legend, rows[0]["values"]))
        self.assertGreater(num(newest["AVERAGE:host:%s:memory_total_kib" % host_uuid]), 0)

    def test_rrd_updates_xml(self):
        start = self.servertime() - 595  # within the 5 s archive (120 rows), as XO asks
        st, h, body = self.get("/rrd_updates", {"start": start, "host": "true", "session_id": self.s.ref})
        self.assertEqual(st, 200)
        self.assertEqual(dict((k.lower(), v) for k, v in h)["content-type"], "text/xml")
        self.assertRegex(body.decode(), r"^<\?xml[^>]*\?>\s*<xport><meta><start>\d+</start><step>5</step>")

    def test_rrd_updates_auth(self):
        st, h, body = self.get("/rrd_updates", {"start": 0, "host": "true", "json": "true"})
        self.assertEqual(st, 401)
        self.assertIn("www-authenticate", [k.lower() for k, v in h])
        st, h, body = self.get("/rrd_updates", {"start": 0, "json": "true",
                                                "session_id": "OpaqueRef:00000000-0000-0000-0000-000000000009"})
        self.assertEqual(st, 401)
        basic = base64.b64encode(("%s:%s" % (self.gw.user, self.gw.password)).encode()).decode()
        st, h, body = self.get("/rrd_updates", {"start": self.servertime() - 60, "host": "true", "json": "true"},
                               {"Authorization": "Basic " + basic})
        self.assertEqual(st, 200)
        st, h, body = self.get("/rrd_updates", {"start": 0, "json": "true"},
                               {"Authorization": "Basic " + base64.b64encode(b"root:wrong").decode()})
        self.assertEqual(st, 401)

    def test_rrd_updates_missing_start(self):
        st, h, body = self.get("/rrd_updates", {"host": "true", "session_id": self.s.ref})
        self.assertEqual(st, 400)

    def test_host_rrd(self):
        def sampled():      # the first sample exists
            st, h, body = self.get("/host_rrd", {"session_id": self.s.ref})
            return (st, h, body) if st != 200 or b"<name>memory_total_kib</name>" in body else None
        st, h, body = wait_until(sampled, 40, 0.5, "host_rrd with a first sample")
        self.assertEqual(st, 200, body[:200])
        text = body.decode()
        self.assertRegex(text, r"<rrd><version>0003</version><step>5</step><lastupdate>\d+</lastupdate>")
        self.assertIn("<name>memory_total_kib</name>", text)
        self.assertIn("<cf>AVERAGE</cf>", text)
        st, h, body = self.get("/host_rrd")
        self.assertEqual(st, 401)

    def test_openmetrics(self):
        st, h, body = self.get("/metrics", {"session_id": self.s.ref},
                               {"Accept": "application/openmetrics-text; version=1.0.0"})
        self.assertEqual(st, 200, body[:200])
        ct = dict((k.lower(), v) for k, v in h)["content-type"]
        self.assertTrue(ct.startswith("application/openmetrics-text"), ct)
        text = body.decode()
        self.assertTrue(text.endswith("# EOF\n"), text[-50:])
        fams = parse_openmetrics(text)
        self.assertIn("xcp_host_memory_free_bytes", fams)
        self.assertEqual(fams["xcp_host_memory_free_bytes"]["type"], "gauge")
        for name, fam in fams.items():
            if fam["type"] == "counter":
                for sname, lab, v in fam["samples"]:
                    self.assertTrue(sname.endswith("_total") or sname.endswith("_created"), sname)
        # plain Prometheus text without Accept
        st, h, body = self.get("/metrics", {"session_id": self.s.ref})
        self.assertEqual(st, 200)
        ct = dict((k.lower(), v) for k, v in h)["content-type"]
        self.assertTrue(ct.startswith("text/plain"), ct)
        parse_openmetrics(body.decode())
        st, h, body = self.get("/metrics")
        self.assertEqual(st, 401)

    def test_query_data_source(self):
        host = self.s.call("host.get_all")[0]

        def sampled():      # the first sample exists
            try:
                v = self.s.call("host.query_data_source", host, "memory_total_kib")
            except Failure:
                return None
            return ("v", v) if not (isinstance(v, float) and math.isnan(v)) and v != 0 else None
        v = wait_until(sampled, 40, 0.5, "a first sample of memory_total_kib")[1]
        self.assertIsInstance(v, float)
        self.assertGreater(v, 0)


class OpenMetricsParserTest(unittest.TestCase):
    def test_parser(self):
        f = parse_openmetrics('# TYPE a gauge\n# UNIT a bytes\na{x="1",y="q\\"z"} 1.5e+09\n'
                              '# TYPE b counter\nb_total 3\n# EOF\n')
        self.assertEqual(f["a"]["samples"], [("a", {"x": "1", "y": 'q\\"z'}, 1.5e9)])
        self.assertEqual(f["b"]["samples"][0][0], "b_total")
        with self.assertRaises(ValueError):
            parse_openmetrics("a{x=1} 2\n")
        with self.assertRaises(ValueError):
            parse_openmetrics("# EOF\na 1\n")


if __name__ == "__main__":
    unittest.main()
