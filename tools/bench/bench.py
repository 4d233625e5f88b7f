#!/usr/bin/env python3
"""xapi-gateway benchmark (driven by tools/bench/run.sh). Never a pass/fail test: prints a table,
compares with the goals of spec perf-and-hardening.md §5 and (optionally) writes docs/PERFORMANCE.md.

Peers, all on 127.0.0.1 high ports, started and stopped (by pid) here:
  gw     the gateway on the sim driver (--sim-vms 1000; a second one with 10000 for the bulk test)
  nginx  static replies of the same size over the same TLS settings (the ceiling)
  py     Python stdlib xmlrpc.server + ThreadingMixIn over TLS (the naive peer)
Every load loop is bounded in count and time. Throughput rows measure the servers interleaved
(gw nginx py, gw nginx py, ... --rounds times) and report the median with the spread (min-max), so
that a burst of load from elsewhere on the machine hits every server alike.

Latencies that the tests used to assert (refusals, event.from timeout accuracy, session lookup) are
measured here against their goals (issue 22): tests assert behaviour, the benchmark reports speed."""
import ctypes
import statistics
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PASSWORD = "bench-Secret-pw"
TLS12_CIPHERS = ("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
                 "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
                 "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-CHACHA20-POLY1305")
PROCS = []          # (name, Popen) started here, stopped by pid at exit


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def status(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def settled(pid, timeout=60.0, tol_kib=512):
    """VmRSS once it stops growing (per-VM start-up work continues after 'listening')."""
    deadline = time.monotonic() + timeout
    last = status(pid, "VmRSS")
    while time.monotonic() < deadline:
        time.sleep(1.0)
        cur = status(pid, "VmRSS")
        if abs(cur - last) <= tol_kib:
            return cur
        last = cur
    return last


def reset_hwm(pid):
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cpu_secs(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


# ------------------------------------------------------------------------------------ peers
class Gateway:
    def __init__(self, binary, tmp, vms, extra=()):
        self.port = free_port()
        self.state = tempfile.mkdtemp(prefix="gw-", dir=tmp)
        self.logf = os.path.join(self.state, "gateway.log")
        argv = [binary, "--https", "127.0.0.1:%d" % self.port, "--state-dir", self.state,
                "--driver", "sim", "--sim-vms", str(vms), "--log-level", "warn"] + list(extra)
        env = dict(os.environ, XAPI_GATEWAY_ROOT_PASSWORD=PASSWORD)
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=open(self.logf, "wb"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        PROCS.append(("gateway", self.proc))
        want = "listening on https://127.0.0.1:%d" % self.port
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("gateway exited:\n" + open(self.logf).read()[-3000:])
            with open(self.logf, errors="replace") as f:
                if want in f.read():
                    break
            if time.monotonic() - t0 > 120:
                raise SystemExit("gateway did not start in 120 s")
            time.sleep(0.05)
        self.start_secs = time.monotonic() - t0
        self.pid = self.proc.pid
        self.url = "https://127.0.0.1:%d/" % self.port
        self.pem = os.path.join(self.state, "xapi-gateway.pem")
        self.key = os.path.join(self.state, "xapi-gateway.key")
        self.session = self.xml("session.login_with_password", "root", PASSWORD, "2.21", "bench")

    def xml(self, method, *args):
        p = xmlrpc.client.ServerProxy(self.url, context=ctx(), allow_none=True)
        fn = p
        for part in method.split("."):
            fn = getattr(fn, part)
        r = fn(*args)
        if r.get("Status") != "Success":
            raise RuntimeError("%s: %r" % (method, r))
        return r["Value"]

    def call(self, method, *args):
        return self.xml(method, self.session, *args)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Nginx:
    def __init__(self, tmp, pem, key, trivial_body, static_files, trivial_json=b"{}"):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="nginx-", dir=tmp)
        sd = os.path.join(self.dir, "static")
        os.makedirs(sd)
        for name, data in static_files.items():
            with open(os.path.join(sd, name), "wb") as f:
                f.write(data)
        def quoted(b):      # an nginx single-quoted string
            t = b.decode().replace("\\", "\\\\").replace("'", "\\'")
            assert "$" not in t
            return t
        body = quoted(trivial_body)
        jbody = quoted(trivial_json)
        conf = os.path.join(self.dir, "nginx.conf")
        t = os.path.join(self.dir, "t")
        os.makedirs(t)
        with open(conf, "w") as f:
            f.write("""
user root;
worker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 8192; }
http {
  access_log off; keepalive_timeout 65; keepalive_requests 1000000; tcp_nodelay on;
  client_body_temp_path %(t)s; proxy_temp_path %(t)s; fastcgi_temp_path %(t)s;
  uwsgi_temp_path %(t)s; scgi_temp_path %(t)s;
  server {
    listen 127.0.0.1:%(port)d ssl;
    ssl_certificate %(pem)s; ssl_certificate_key %(key)s;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers %(ciphers)s;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_prefer_server_ciphers on;
    ssl_session_cache shared:SSL:10m; ssl_session_tickets on;
    location = / { default_type text/xml; return 200 '%(body)s'; }
    location = /jsonrpc { default_type application/json; return 200 '%(jbody)s'; }
    location /static/ { alias %(sd)s/; default_type text/xml; }
  }
}
""" % {"d": self.dir, "t": t, "port": self.port, "pem": pem, "key": key, "ciphers": TLS12_CIPHERS,
                "body": body, "jbody": jbody, "sd": sd})
        r = subprocess.run(["nginx", "-c", conf, "-p", self.dir, "-e", os.path.join(self.dir, "error.log")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("nginx failed: " + r.stdout + r.stderr)
        for _ in range(100):
            if os.path.exists(os.path.join(self.dir, "nginx.pid")):
                break
            time.sleep(0.05)
        self.master = int(open(os.path.join(self.dir, "nginx.pid")).read())
        self.url = "https://127.0.0.1:%d/" % self.port

    def workers(self):
        return children(self.master)

    def rss(self):
        return sum(status(w, "VmRSS") for w in self.workers())

    def stop(self):
        try:
            os.kill(self.master, signal.SIGQUIT)
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(self.master, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(self.master, signal.SIGKILL)


class PyServer:
    def __init__(self, tmp, pem, key, record, host_ref):
        self.port = free_port()
        rp = os.path.join(tmp, "record.json")
        with open(rp, "w") as f:
            json.dump(record, f, default=str)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "pyxmlrpc_tls.py"), str(self.port),
                                      pem, key, rp, host_ref, "1800"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        PROCS.append(("python", self.proc))
        assert self.proc.stdout.readline().strip() == b"listening"
        self.pid = self.proc.pid
        self.url = "https://127.0.0.1:%d/" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ------------------------------------------------------------------------------------ wrk
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def lua_script(tmp, name, body_path, method="POST", close=False, ctype="text/xml"):
    p = os.path.join(tmp, name + ".lua")
    with open(p, "w") as f:
        f.write('wrk.method = "%s"\n' % method)
        if body_path:
            f.write('local f = assert(io.open("%s", "rb"))\nwrk.body = f:read("*a")\nf:close()\n' % body_path)
            f.write('wrk.headers["Content-Type"] = "%s"\n' % ctype)
        if close:
            f.write('wrk.headers["Connection"] = "close"\n')
    return p


def wrk(url, script, secs, conns=32, threads=2):
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % secs, "--latency", "-s", script, url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 60).stdout
    res = {"cmd": " ".join(argv[:-2] + [os.path.basename(script), url]), "raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, out, re.M)
        res["p" + pct] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    res["sockerr"] = m.group(1) if m else ""
    m = re.search(r"(\d+) requests in", out)
    res["n"] = int(m.group(1)) if m else 0
    return res


def tlsclose(binpath, port, secs, body_path, threads=2):
    out = subprocess.run([binpath, "127.0.0.1", str(port), str(threads), str(secs), body_path],
                         capture_output=True, text=True, timeout=secs + 60).stdout
    d = dict(kv.split("=") for kv in out.split())
    return {"rps": float(d["rate"]), "p50": float(d["p50_ms"]), "p99": float(d["p99_ms"]),
            "errors": int(d["errors"])}


# ------------------------------------------------------------------------------------ measurements
def curl_post(url, body_path, out_path=None, ctype="text/xml"):
    argv = ["curl", "-sk", "-o", out_path or "/dev/null", "-H", "Content-Type: " + ctype,
            "--data-binary", "@" + body_path, "-w",
            "%{http_code} %{size_download} %{time_appconnect} %{time_starttransfer} %{time_total}", url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300).stdout.split()
    return {"code": int(out[0]), "bytes": int(out[1]), "tls": float(out[2]) * 1e3,
            "ttfb": float(out[3]) * 1e3, "total": float(out[4]) * 1e3}


def curl_get(url):
    argv = ["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_appconnect} "
            "%{time_starttransfer} %{time_total}", url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300).stdout.split()
    return {"code": int(out[0]), "bytes": int(out[1]), "tls": float(out[2]) * 1e3,
            "ttfb": float(out[3]) * 1e3, "total": float(out[4]) * 1e3}


def bulk(gw, body_path, runs=3, ctype="text/xml", url=None):
    """VM.get_all_records end to end (curl, incl. handshake) + extra peak RSS of the gateway."""
    best = None
    extra = 0
    for _ in range(runs):
        base = status(gw.pid, "VmRSS")
        reset_hwm(gw.pid)
        r = curl_post(url or gw.url, body_path, ctype=ctype)
        hwm = status(gw.pid, "VmHWM")
        extra = max(extra, hwm - base)
        if best is None or r["total"] < best["total"]:
            best = r
        time.sleep(0.3)
    best["extra_rss_kib"] = extra
    return best


def event_latency(gw, pool, n):
    """event.from wake-up: a change on one connection -> the answer on another."""
    got = threading.Event()
    stamps = []
    stop = [False]
    bad = [0]
    token0 = gw.call("event.from", ["pool"], "", 0.0)["token"]

    def waiter():
        c = http.client.HTTPSConnection("127.0.0.1", gw.port, context=ctx(), timeout=40)
        token = token0
        while not stop[0]:
            body = xmlrpc.client.dumps((gw.session, ["pool"], token, 5.0), "event.from")
            c.request("POST", "/", body, {"Content-Type": "text/xml"})
            data = c.getresponse().read()
            t = time.perf_counter()
            # parsed by regex: tolerant of a malformed envelope (see docs/PERFORMANCE.md notes)
            m = re.search(rb"<name>token</name><value>([^<]*)</value>", data)
            if not m:
                bad[0] += 1
                time.sleep(0.1)
                continue
            token = m.group(1).decode()
            try:
                xmlrpc.client.loads(data)
            except Exception:  # noqa: BLE001
                bad[0] += 1
            if b"<name>class</name><value>pool</value>" in data:
                stamps.append(t)
                got.set()
        c.close()

    th = threading.Thread(target=waiter, daemon=True)
    th.start()
    c = http.client.HTTPSConnection("127.0.0.1", gw.port, context=ctx(), timeout=10)
    lat = []
    time.sleep(0.2)
    for i in range(n):
        got.clear()
        stamps.clear()
        m = "pool.add_to_other_config" if i % 2 == 0 else "pool.remove_from_other_config"
        args = (gw.session, pool, "bench-ev", "v") if i % 2 == 0 else (gw.session, pool, "bench-ev")
        body = xmlrpc.client.dumps(args, m)
        t0 = time.perf_counter()
        c.request("POST", "/", body, {"Content-Type": "text/xml"})
        c.getresponse().read()
        if not got.wait(2):
            continue
        lat.append((stamps[0] - t0) * 1e3)
        time.sleep(0.01)       # let the waiter park again
    stop[0] = True
    c.close()
    lat.sort()
    return {"n": len(lat), "of": n, "malformed": bad[0], "p50": lat[len(lat) // 2] if lat else None,
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
            "max": lat[-1] if lat else None}


def median_of(runs):
    """One result from several runs of the same measurement: the median of every number,
    the spread of the rate (min-max) and the sum of the error counts."""
    out = {"runs": len(runs)}
    for k in ("rps", "p50", "p99"):
        vals = [r[k] for r in runs if r.get(k) is not None]
        out[k] = statistics.median(vals) if vals else None
    rates = [r["rps"] for r in runs]
    out["rps_min"], out["rps_max"] = min(rates), max(rates)
    for k in ("non2xx", "errors"):
        out[k] = sum(r.get(k) or 0 for r in runs)
    out["sockerr"] = "; ".join(sorted({r.get("sockerr") for r in runs if r.get("sockerr")}))
    out["cmd"] = runs[0].get("cmd")
    return out


def interleaved(rounds, measures):
    """measures: [(key, fn)]. Runs every fn once per round, in order (A B C A B C ...), and
    returns {key: median_of(its runs)}."""
    runs = {k: [] for k, _ in measures}
    for i in range(rounds):
        for k, fn in measures:
            runs[k].append(fn())
    return {k: median_of(v) for k, v in runs.items()}


def percentiles(vals):
    vals = sorted(vals)
    if not vals:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {"n": len(vals), "p50": vals[len(vals) // 2], "p99": vals[min(len(vals) - 1, int(len(vals) * 0.99))],
            "max": vals[-1]}


def refusal_latency(port, request, n=200):
    """Time from sending `request` on an established TLS connection to the end of the server's
    answer (a refusal closes the connection, so one connection per request; handshake excluded).
    Returns percentiles in ms and the status lines seen."""
    lat, statuses = [], {}
    c = ctx()
    for _ in range(n):
        s = c.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
        try:
            t0 = time.perf_counter()
            try:
                s.sendall(request)
            except OSError:
                pass            # the server may refuse and close before the whole request is sent
            buf = b""
            while True:
                try:
                    d = s.recv(65536)
                except (OSError, ssl.SSLError):
                    break
                if not d:
                    break
                buf += d
                head, sep, rest = buf.partition(b"\r\n\r\n")
                m = re.search(rb"content-length:\s*(\d+)", head, re.I)
                if sep and m and len(rest) >= int(m.group(1)):
                    break
            lat.append((time.perf_counter() - t0) * 1e3)
            line = buf.split(b"\r\n", 1)[0].decode("latin-1")
            statuses[line] = statuses.get(line, 0) + 1
        finally:
            s.close()
    r = percentiles(lat)
    r["statuses"] = statuses
    return r


def refusals(gw):
    """The refusals the hostile tests check, timed here (goal for entity refusals: < 1 ms)."""
    def post(body, extra=b""):
        return (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n" % len(body)
                + extra + b"\r\n" + body)
    ents = ['<!ENTITY lol0 "lol">'] + ['<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10) for i in range(1, 10)]
    laughs = ('<?xml version="1.0"?><!DOCTYPE methodCall [%s]><methodCall><methodName>session.get_this_host'
              '</methodName><params><param><value><string>&lol9;</string></value></param></params></methodCall>'
              % "".join(ents)).encode()
    ext = (b"<?xml version='1.0'?><!DOCTYPE m [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><methodCall>"
           b"<methodName>session.get_this_host</methodName><params><param><value>&x;</value></param>"
           b"</params></methodCall>")
    return {
        "laughs": refusal_latency(gw.port, post(laughs)),
        "external": refusal_latency(gw.port, post(ext)),
        "too_large": refusal_latency(gw.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                                     % (300 * 1024 + 1)),
        "headers": refusal_latency(gw.port, b"POST / HTTP/1.1\r\n" + b"".join(
            b"X-A%d: %s\r\n" % (i, b"b" * 100) for i in range(200))),
    }


def event_timeout_accuracy(gw, n=10, timeout=0.5):
    """event.from on a class without changes returns an empty batch after `timeout`: how far
    from it (goal: within 50 ms)."""
    token = gw.call("event.from", ["console"], "", 0.0)["token"]
    c = http.client.HTTPSConnection("127.0.0.1", gw.port, context=ctx(), timeout=30)
    dev = []
    for _ in range(n):
        body = xmlrpc.client.dumps((gw.session, ["console"], token, timeout), "event.from")
        t0 = time.perf_counter()
        c.request("POST", "/", body, {"Content-Type": "text/xml"})
        data = c.getresponse().read()
        dev.append((time.perf_counter() - t0 - timeout) * 1e3)
        token = xmlrpc.client.loads(data)[0][0]["Value"]["token"]
    c.close()
    r = percentiles([abs(d) for d in dev])
    r["min_signed"] = min(dev)
    return r


def hash_cost_ms(runs=5):
    """What one password verification costs here: crypt(3) with the scheme the gateway uses
    (server/auth.c: yescrypt, else sha512-crypt), median of `runs`."""
    try:
        lib = ctypes.CDLL("libcrypt.so.1")
    except OSError:
        return None
    lib.crypt_gensalt_ra.restype = ctypes.c_void_p
    lib.crypt_gensalt_ra.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt_ra(b"$y$", 0, None, 0) or lib.crypt_gensalt_ra(b"$6$", 0, None, 0)
    if not salt:
        return None
    setting = ctypes.string_at(salt)
    h = lib.crypt(PASSWORD.encode(), setting)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        lib.crypt(PASSWORD.encode(), h)
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def idle_conns(port, n, body, rss_fn, path="/"):
    """Open n TLS keep-alive connections, one request each, keep them idle: RSS delta / n."""
    req = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
           % (path.encode(), len(body))) + body
    time.sleep(0.5)
    before = rss_fn()
    socks = []
    c = ctx()
    try:
        for _ in range(n):
            s = c.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
            s.sendall(req)
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, rest = buf.split(b"\r\n\r\n", 1)
            m = re.search(rb"content-length:\s*(\d+)", head, re.I)
            need = int(m.group(1)) if m else 0
            while len(rest) < need:
                rest += s.recv(65536)
            socks.append(s)
        time.sleep(1.0)
        after = rss_fn()
    finally:
        for s in socks:
            s.close()
    return {"before": before, "after": after, "per_conn_kib": (after - before) / n}


def many_logins(gw, n, threads=4):
    body = xmlrpc.client.dumps(("root", PASSWORD, "2.21", "bench-mem"), "session.login_with_password").encode()
    req = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    before = status(gw.pid, "VmRSS")
    count = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + 600

    def worker(k):
        s = ctx().wrap_socket(socket.create_connection(("127.0.0.1", gw.port), timeout=30))
        buf = b""
        for _ in range(k):
            if time.monotonic() > deadline:
                break
            s.sendall(req)
            while True:
                if b"\r\n\r\n" in buf:
                    head, rest = buf.split(b"\r\n\r\n", 1)
                    need = int(re.search(rb"content-length:\s*(\d+)", head, re.I).group(1))
                    if len(rest) >= need:
                        if b"Success" not in rest[:need]:
                            raise RuntimeError(rest[:need])
                        buf = rest[need:]
                        break
                buf += s.recv(65536)
            with lock:
                count[0] += 1
        s.close()

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(n // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    time.sleep(0.5)
    after = status(gw.pid, "VmRSS")
    return {"n": count[0], "secs": dt, "rate": count[0] / dt, "before": before, "after": after,
            "per_session_kib": (after - before) / max(1, count[0])}


def perf_profile(gw, script, secs, tmp):
    """perf record of the gateway under the trivial-call load; top symbols (if perf works)."""
    data = os.path.join(tmp, "perf.data")
    try:
        p = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-p", str(gw.pid), "-o", data, "--",
                              "sleep", str(secs)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    time.sleep(0.3)
    wrk(gw.url, script, secs - 1)
    p.wait(timeout=secs + 30)
    r = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", "dso,symbol",
                        "--percent-limit", "1.5", "-g", "none"], capture_output=True, text=True, timeout=120)
    lines = [l for l in r.stdout.splitlines() if l.strip() and not l.startswith("#")]
    return lines[:30]


# ------------------------------------------------------------------------------------ main
def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = status(1, "VmRSS")  # unused, keep procfs warm
    with open("/proc/meminfo") as f:
        memtotal = int(f.readline().split()[1]) // 1024
    osr = ""
    try:
        osr = [l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME")][0]
    except (OSError, IndexError):
        pass
    def ver(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": memtotal, "os": osr, "kernel": platform.release(),
            "nginx": ver(["nginx", "-v"]), "wrk": ver(["wrk", "-v"]), "openssl": ver(["openssl", "version"]),
            "python": platform.python_version()}


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return ("{:,.%df}" % nd).format(v)
    return "{:,}".format(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--tlsclose", required=True)
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--idle-conns", type=int, default=500)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--big-vms", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved runs per server (median, spread)")
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--perf", action="store_true", help="perf-record the gateway under the trivial call")
    ap.add_argument("--command", default="tools/bench/run.sh")
    ap.add_argument("--from-json", help="re-render the table from a raw results file")
    a = ap.parse_args()
    if a.from_json:
        report(json.load(open(a.from_json)), a, machine())
        return
    tmp = tempfile.mkdtemp(prefix="xg-bench-")
    R = {}
    rows = []
    try:
        # ---- idle RSS: a fresh small gateway
        g0 = Gateway(a.binary, tmp, 3)
        R["idle_rss_small"] = settled(g0.pid)
        g0.stop()

        log("starting gateway (1000 VMs)")
        gw = Gateway(a.binary, tmp, 1000, ["--max-sessions-per-user", str(a.sessions + 1000)])
        R["idle_rss_1000"] = settled(gw.pid)
        R["start_1000"] = gw.start_secs
        host = gw.call("session.get_this_host", gw.session)
        pool = gw.call("pool.get_all")[0]
        vms = gw.call("VM.get_all")
        vm = sorted(vms)[len(vms) // 2]
        record = gw.call("VM.get_record", vm)

        bodies = {
            "trivial.xml": xmlrpc.client.dumps((gw.session, gw.session), "session.get_this_host").encode(),
            "trivial.json": json.dumps({"jsonrpc": "2.0", "method": "session.get_this_host",
                                        "params": [gw.session, gw.session], "id": 1}).encode(),
            "record.xml": xmlrpc.client.dumps((gw.session, vm), "VM.get_record").encode(),
            "all.xml": xmlrpc.client.dumps((gw.session,), "VM.get_all_records").encode(),
            "all.json": json.dumps({"jsonrpc": "2.0", "method": "VM.get_all_records",
                                    "params": [gw.session], "id": 1}).encode(),
            "login.xml": xmlrpc.client.dumps(("root", PASSWORD, "2.21", "bench-wrk"),
                                             "session.login_with_password").encode(),
        }
        paths = {}
        for k, v in bodies.items():
            paths[k] = os.path.join(tmp, k)
            with open(paths[k], "wb") as f:
                f.write(v)
        # the gateway's actual replies, served statically by nginx
        triv_reply = os.path.join(tmp, "triv_reply.xml")
        triv_json_reply = os.path.join(tmp, "triv_reply.json")
        rec_reply = os.path.join(tmp, "rec_reply.xml")
        all_reply = os.path.join(tmp, "all_reply.xml")
        curl_post(gw.url, paths["trivial.xml"], triv_reply)
        curl_post(gw.url + "jsonrpc", paths["trivial.json"], triv_json_reply, ctype="application/json")
        curl_post(gw.url, paths["record.xml"], rec_reply)
        curl_post(gw.url, paths["all.xml"], all_reply)
        static = {"rec.xml": open(rec_reply, "rb").read(), "all1000.xml": open(all_reply, "rb").read()}
        triv = open(triv_reply, "rb").read()
        R["triv_bytes"] = len(triv)
        R["rec_bytes"] = len(static["rec.xml"])

        triv_json = open(triv_json_reply, "rb").read()
        ng = Nginx(tmp, gw.pem, gw.key, triv, static, triv_json)
        py = PyServer(tmp, gw.pem, gw.key, record, host)
        s = {
            "post_xml": lua_script(tmp, "post_xml", paths["trivial.xml"]),
            "post_json": lua_script(tmp, "post_json", paths["trivial.json"], ctype="application/json"),
            "post_rec": lua_script(tmp, "post_rec", paths["record.xml"]),
            "get": lua_script(tmp, "get", None, method="GET"),
            "close_xml": lua_script(tmp, "close_xml", paths["trivial.xml"], close=True),
            "login": lua_script(tmp, "login", paths["login.xml"]),
        }
        S = a.secs
        N = a.rounds
        c1 = max(3, S // 2)
        log("trivial call (%d interleaved rounds)" % N)
        R.update(interleaved(N, [
            ("triv_gw", lambda: wrk(gw.url, s["post_xml"], S)),
            ("triv_ng", lambda: wrk(ng.url, s["post_xml"], S)),
            ("triv_py", lambda: wrk(py.url, s["post_xml"], S)),
            ("triv_gw_json", lambda: wrk(gw.url + "jsonrpc", s["post_json"], S)),
            ("triv_ng_json", lambda: wrk(ng.url + "jsonrpc", s["post_json"], S)),
        ]))
        R.update(interleaved(N, [
            ("triv_gw_c1", lambda: wrk(gw.url, s["post_xml"], c1, conns=1, threads=1)),
            ("triv_ng_c1", lambda: wrk(ng.url, s["post_xml"], c1, conns=1, threads=1)),
        ]))
        log("VM.get_record")
        R.update(interleaved(N, [
            ("rec_gw", lambda: wrk(gw.url, s["post_rec"], S)),
            ("rec_ng", lambda: wrk(ng.url + "static/rec.xml", s["get"], S)),
            ("rec_py", lambda: wrk(py.url, s["post_rec"], S)),
        ]))
        log("handshakes")
        R.update(interleaved(N, [
            ("hs_gw", lambda: tlsclose(a.tlsclose, gw.port, S, paths["trivial.xml"])),
            ("hs_ng", lambda: tlsclose(a.tlsclose, ng.port, S, paths["trivial.xml"])),
            ("hs_py", lambda: tlsclose(a.tlsclose, py.port, S, paths["trivial.xml"])),
        ]))
        R.update(interleaved(N, [
            ("close_gw", lambda: wrk(gw.url, s["close_xml"], S)),
            ("close_ng", lambda: wrk(ng.url, s["close_xml"], S)),
            ("close_py", lambda: wrk(py.url, s["close_xml"], S)),
        ]))
        log("event.from wake-up")
        R["event"] = event_latency(gw, pool, a.events)
        log("event.from timeout accuracy")
        R["event_timeout"] = event_timeout_accuracy(gw)
        log("refusals")
        R["refusals"] = refusals(gw)
        log("bulk 1000")
        R["all1000"] = bulk(gw, paths["all.xml"])
        R["all1000_json"] = bulk(gw, paths["all.json"], ctype="application/json", url=gw.url + "jsonrpc")
        R["all1000_ng"] = min((curl_get(ng.url + "static/all1000.xml") for _ in range(3)), key=lambda r: r["total"])
        log("idle connections")
        R["idle_gw"] = idle_conns(gw.port, a.idle_conns, bodies["trivial.xml"], lambda: status(gw.pid, "VmRSS"))
        R["idle_ng"] = idle_conns(ng.port, a.idle_conns, bodies["trivial.xml"], ng.rss)
        R["idle_py"] = idle_conns(py.port, a.idle_conns, bodies["trivial.xml"], lambda: status(py.pid, "VmRSS"))
        if a.perf:
            log("perf profile")
            R["perf"] = perf_profile(gw, s["post_xml"], 8, tmp)
        log("logins")
        R["hash_ms"] = hash_cost_ms()
        R["login_c1"] = median_of([wrk(gw.url, s["login"], c1, conns=1, threads=1) for _ in range(N)])
        R["login"] = wrk(gw.url, s["login"], S, conns=8)
        ng.stop()
        py.stop()
        gw.stop()
        log("sessions (fresh gateway)")
        gs = Gateway(a.binary, tmp, 3, ["--max-sessions-per-user", str(a.sessions + 1000)])
        settled(gs.pid)
        one = os.path.join(tmp, "one.xml")
        with open(one, "wb") as f:
            f.write(xmlrpc.client.dumps((gs.session, gs.session), "session.get_this_host").encode())
        one_lua = lua_script(tmp, "one", one)
        R["lookup_before"] = median_of([wrk(gs.url, one_lua, c1, conns=1, threads=1) for _ in range(N)])
        R["sessions"] = many_logins(gs, a.sessions)
        R["lookup_after"] = median_of([wrk(gs.url, one_lua, c1, conns=1, threads=1) for _ in range(N)])
        gs.stop()

        log("starting gateway (%d VMs)" % a.big_vms)
        big = Gateway(a.binary, tmp, a.big_vms)
        R["start_big"] = big.start_secs
        R["idle_rss_big"] = settled(big.pid)
        with open(paths["all.xml"], "wb") as f:
            f.write(xmlrpc.client.dumps((big.session,), "VM.get_all_records").encode())
        with open(paths["all.json"], "wb") as f:
            f.write(json.dumps({"jsonrpc": "2.0", "method": "VM.get_all_records",
                                "params": [big.session], "id": 1}).encode())
        R["allbig"] = bulk(big, paths["all.xml"])
        R["allbig_json"] = bulk(big, paths["all.json"], ctype="application/json", url=big.url + "jsonrpc")
        big_reply = os.path.join(tmp, "allbig.xml")
        curl_post(big.url, paths["all.xml"], big_reply)
        big.stop()
        ng2 = Nginx(tmp, big.pem, big.key, triv, {"allbig.xml": open(big_reply, "rb").read()})
        R["allbig_ng"] = min((curl_get(ng2.url + "static/allbig.xml") for _ in range(3)), key=lambda r: r["total"])
        ng2.stop()
    finally:
        for name, p in PROCS:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        for n in ("ng", "ng2"):
            if n in locals():
                locals()[n].stop()

    report(R, a, machine())
    subprocess.call(["rm", "-rf", tmp])


def report(R, a, mach):
    t, n, p = R["triv_gw"], R["triv_ng"], R["triv_py"]
    tj = R["triv_gw_json"]
    rows = []

    def row(what, gw, ng="", py="", goal="", met=""):
        rows.append((what, gw, ng, py, goal, met))

    def ok(b):
        return "yes" if b else "**NO**"

    def lat(r):
        return "%s / %s ms" % (fmt(r["p50"], 2), fmt(r["p99"], 2))

    def rate(r):
        """median rate (spread over the interleaved runs)"""
        if r.get("rps_min") is None:
            return fmt(r["rps"], 0)
        return "%s (%s–%s)" % (fmt(r["rps"], 0), fmt(r["rps_min"], 0), fmt(r["rps_max"], 0))

    rows.append(("**Measurement**", "**gateway**", "**nginx**", "**Python**", "**goal**", "**met**"))
    row("trivial call XML-RPC, req/s (c32)", rate(t), rate(n), rate(p),
        "≥ 50 % nginx, ≥ 5× Python",
        "%s (%.0f %% nginx, %.1f× Py)" % (ok(t["rps"] >= 0.5 * n["rps"] and t["rps"] >= 5 * p["rps"]),
                                         100 * t["rps"] / max(1, n["rps"]), t["rps"] / max(1, p["rps"])))
    row("  p50 / p99", lat(t), lat(n), lat(p))
    nj = R.get("triv_ng_json", n)       # nginx serving the gateway's JSON reply
    row("trivial call JSON-RPC, req/s (c32)", rate(tj), rate(nj), "–", "≥ 50 % nginx (JSON reply)",
        "%s (%.0f %%)" % (ok(tj["rps"] >= 0.5 * nj["rps"]), 100 * tj["rps"] / max(1, nj["rps"])))
    row("  p50 / p99", lat(tj), lat(nj), "–")
    row("trivial call, 1 connection: p50 / p99", lat(R["triv_gw_c1"]), lat(R["triv_ng_c1"]), "–",
        "p50 ≤ 0.15 ms, p99 ≤ 3 ms", ok((R["triv_gw_c1"]["p50"] or 99) <= 0.15 and (R["triv_gw_c1"]["p99"] or 99) <= 3))
    rg, rn, rp = R["rec_gw"], R["rec_ng"], R["rec_py"]
    row("VM.get_record (%s B), req/s" % fmt(R["rec_bytes"]), rate(rg), rate(rn), rate(rp),
        "≥ 20k/s", "%s (%.0f %% nginx, %.1f× Py)" % (ok(rg["rps"] >= 20000), 100 * rg["rps"] / max(1, rn["rps"]),
                                                    rg["rps"] / max(1, rp["rps"])))
    row("  p50 / p99", lat(rg), lat(rn), lat(rp))
    for key, label, ngkey in (("all1000", "VM.get_all_records 1,000 VMs XML", "all1000_ng"),
                              ("allbig", "VM.get_all_records %s VMs XML" % fmt(a.big_vms), "allbig_ng")):
        r, rn_ = R[key], R[ngkey]
        goal = "≤ 100 ms, ≤ 32 MiB" if key == "all1000" else "≤ 400 ms, ≤ 64 MiB"
        lim = (100, 32 * 1024) if key == "all1000" else (400, 64 * 1024)
        row(label + ": total ms (bytes; extra peak RSS)",
            "%s ms (%s B; +%s MiB)" % (fmt(r["total"], 0), fmt(r["bytes"]), fmt(r["extra_rss_kib"] / 1024, 1)),
            "%s ms (static)" % fmt(rn_["total"], 0), "–", goal,
            ok(r["total"] <= lim[0] and r["extra_rss_kib"] <= lim[1]))
        rj = R[key + "_json"]
        row("  same, JSON-RPC", "%s ms (%s B; +%s MiB)" % (fmt(rj["total"], 0), fmt(rj["bytes"]),
                                                         fmt(rj["extra_rss_kib"] / 1024, 1)), "", "", goal,
            ok(rj["total"] <= lim[0] and rj["extra_rss_kib"] <= lim[1]))
    ev = R["event"]
    row("event.from wake-up p50 / p99 (max), %d/%d changes" % (ev["n"], ev["of"]),
        "%s / %s ms (%s)" % (fmt(ev["p50"], 2), fmt(ev["p99"], 2), fmt(ev["max"], 1)), "–", "–",
        "p99 ≤ 10 ms", ok(ev["p99"] is not None and ev["p99"] <= 10 and ev["n"] == ev["of"]))
    if ev.get("malformed"):
        row("  event.from answers that were not well-formed XML-RPC", "**%d of %d**" % (ev["malformed"], ev["n"]),
            "–", "–", "0", "**NO**")
    to = R.get("event_timeout")
    if to:
        row("event.from timeout (0.5 s) honoured: |answer − timeout| p50 / max, %d calls" % to["n"],
            "%s / %s ms" % (fmt(to["p50"], 1), fmt(to["max"], 1)), "–", "–", "± 50 ms", ok(to["max"] <= 50))
    for key, label, goal in (("laughs", "billion laughs (10⁹ expansions) refused: p50 / p99", "< 1 ms"),
                             ("external", "external entity (SYSTEM file:) refused: p50 / p99", "< 1 ms"),
                             ("too_large", "Content-Length over 300 KiB refused (413): p50 / p99", ""),
                             ("headers", "header flood refused (431): p50 / p99", "")):
        rf = R.get("refusals", {}).get(key)
        if rf:
            row(label + " (%s)" % ", ".join("%d× %s" % (v, k) for k, v in sorted(rf["statuses"].items())),
                lat(rf), "–", "–", goal, ok(rf["p50"] is not None and rf["p50"] < 1.0) if goal else "")
    hash_ms = R.get("hash_ms")
    lc = R.get("login_c1")
    if lc:
        row("session.login_with_password, 1 connection: p50 / p99 (hash alone: %s ms)" % fmt(hash_ms, 1),
            lat(lc), "–", "–", "p50 ≤ hash + 1 ms",
            ok(hash_ms is not None and lc["p50"] is not None and lc["p50"] <= hash_ms + 1.0))
    lg = R["login"]
    row("session.login_with_password, logins/s (c8); p50 / p99", "%s; %s" % (fmt(lg["rps"], 0), lat(lg)),
        "–", "–", "", "")
    hg, hn, hp = R["hs_gw"], R["hs_ng"], R["hs_py"]
    row("full handshake + 1 call (no resumption), conn/s", rate(hg), rate(hn), rate(hp),
        "≥ 80 % nginx", "%s (%.0f %%)" % (ok(hg["rps"] >= 0.8 * hn["rps"]), 100 * hg["rps"] / max(1, hn["rps"])))
    cg, cn, cp = R["close_gw"], R["close_ng"], R["close_py"]
    row("Connection: close via wrk (resumption allowed), conn/s", rate(cg), rate(cn),
        rate(cp), "≥ 4k/s", ok(cg["rps"] >= 4000))
    ig, ino, ip = R["idle_gw"], R["idle_ng"], R["idle_py"]
    row("memory per idle TLS connection (%d conns)" % a.idle_conns, "%s KiB" % fmt(ig["per_conn_kib"], 1),
        "%s KiB" % fmt(ino["per_conn_kib"], 1), "%s KiB" % fmt(ip["per_conn_kib"], 1), "≤ 32 KiB",
        ok(ig["per_conn_kib"] <= 32))
    se = R["sessions"]
    row("memory per session (%s logins, %.0f/s)" % (fmt(se["n"]), se["rate"]),
        "%s KiB" % fmt(se["per_session_kib"], 2), "–", "–", "≤ 1 KiB", ok(se["per_session_kib"] <= 1.0))
    lb, la = R.get("lookup_before"), R.get("lookup_after")
    if lb and la:
        row("trivial call, 1 connection, p50: 2 sessions → %s sessions" % fmt(se["n"]),
            "%s → %s ms" % (fmt(lb["p50"], 3), fmt(la["p50"], 3)), "–", "–", "flat (≤ 1.25×)",
            ok(lb["p50"] and la["p50"] and la["p50"] <= 1.25 * lb["p50"]))
    # the goal holds for every inventory, each judged on its own row
    for key, label in (("idle_rss_small", "3 VMs"), ("idle_rss_1000", "1,000 VMs"),
                       ("idle_rss_big", "%s VMs" % fmt(a.big_vms))):
        row("idle RSS, %s" % label, "%s MiB" % fmt(R[key] / 1024, 1), "–", "–", "≤ 20 MiB", ok(R[key] <= 20 * 1024))
    errs = []
    for k, v in R.items():
        if isinstance(v, dict) and (v.get("non2xx") or v.get("errors")):
            errs.append("%s: non-2xx %s, errors %s %s" % (k, v.get("non2xx"), v.get("errors"), v.get("sockerr", "")))

    table = "\n".join("| " + " | ".join(r) + " |" + ("\n|---|---|---|---|---|---|" if i == 0 else "")
                      for i, r in enumerate(rows))
    today = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    m = mach
    facts = ("%s; %s cores; %s MiB RAM; %s; kernel %s; %s; %s; %s; Python %s"
             % (m["cpu"], m["cores"], m["mem_mib"], m["os"], m["kernel"], m["nginx"], m["wrk"], m["openssl"],
                m["python"]))
    notes = [
        "Rates are the median of %d runs per server, measured interleaved (gateway, nginx, Python, gateway, …) "
        "so that load from elsewhere hits every server alike; the spread (min–max) is in parentheses; "
        "p50 / p99 are medians over the runs." % a.rounds,
        "wrk: `wrk -t2 -c32 -d%ds --latency -s <POST script>` (unpinned: client and servers share the 2 cores); "
        "1-connection rows: `-t1 -c1`." % a.secs,
        "Refusals: one TLS connection per request (a refusal closes it), timed from sending the request to the "
        "end of the answer, handshake excluded; 200 each. Login: `-t1 -c1` wrk of session.login_with_password; "
        "hash alone: crypt(3) of the gateway's scheme (yescrypt, else sha512-crypt) in this process.",
        "nginx: 2 workers, `return 200` of the gateway's own %d-byte trivial reply (XML rows) and of its JSON "
        "reply (JSON-RPC row, `location = /jsonrpc`); get_record / get_all_records "
        "rows are GETs of the gateway's replies saved as static files; same certificate, TLS 1.2+1.3, same cipher "
        "list, X25519:P-256:P-384, session cache + tickets (the gateway's TLS policy, server/tls.c)." % R["triv_bytes"],
        "Python: stdlib `SimpleXMLRPCServer` + `ThreadingMixIn`, HTTP/1.1 keep-alive, TLS-wrapped listening socket "
        "(tools/bench/pyxmlrpc_tls.py), canned replies.",
        "Full handshakes: tools/bench/tlsclose.c, 2 threads, fresh SSL per connection (no cache, no tickets), one "
        "POST with `Connection: close` each.",
        "Bulk: `curl` POST, time to last byte including TCP+TLS setup (best of 3); extra RSS = VmHWM after "
        "(reset through /proc/PID/clear_refs) − VmRSS before. Idle RSS: VmRSS once stable (±0.5 MiB over 1 s). Gateway start-up: %.1f s (1,000 VMs), %.1f s (%s VMs)."
        % (R["start_1000"], R["start_big"], fmt(a.big_vms)),
        "event.from: one connection blocked in `event.from([\"pool\"], token, 5)`, another alternates "
        "`pool.add_to_other_config` / `remove_from_other_config`; latency = change sent → event answer received.",
        "Memory per idle connection: %d TLS connections, one call each, then idle; RSS delta / N (nginx: sum of "
        "worker RSS). Sessions: %s logins over 4 kept-alive connections with --max-sessions-per-user raised; "
        "RSS delta / N." % (a.idle_conns, fmt(a.sessions)),
    ]
    if errs:
        notes.append("Errors seen: " + "; ".join(errs))
    text = "\n".join([
        "Measured %s on: %s" % (today, facts),
        "",
        "Command: `%s`" % a.command,
        "",
        table,
        "",
        "Notes:",
        "",
    ] + ["* " + x for x in notes])
    if R.get("perf"):
        text += "\n\nperf (trivial call, gateway only, `perf report --no-children --sort dso,symbol`):\n\n```\n" + \
            "\n".join(R["perf"]) + "\n```\n"
    print(text)
    raw_path = os.path.join(tempfile.gettempdir(), "xg-bench-last.json")
    if not a.from_json:
        with open(raw_path, "w") as f:
            json.dump(R, f, indent=1, default=str)
    print("\n(raw results: %s)" % raw_path)
    if not a.no_doc:
        write_doc(a.doc, text)


DOC_HEAD = """# Performance

Benchmarks of xapi-gateway against the ceiling (nginx with the same TLS settings serving replies of the same
size) and a naive peer (Python's stdlib XML-RPC server), on the same machine, in one run of
`tools/bench/run.sh` (see tools/bench/README.md). Goals: spec perf-and-hardening.md §5.
This file is rewritten by the benchmark; the section below is the latest run.

"""


def write_doc(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = open(path).read() if os.path.exists(path) else ""
    keep = ""
    mark = "<!-- analysis -->"
    if mark in old:
        keep = "\n" + old[old.index(mark):]
    with open(path, "w") as f:
        f.write(DOC_HEAD + "## Latest run\n\n" + text + "\n" + keep)
    log("wrote " + path)


if __name__ == "__main__":
    main()
