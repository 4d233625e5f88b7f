#!/usr/bin/env python3
"""reload_check.py PORT PASSWORD PID WORKDIR: SIGHUP reloads the certificate.
A connection opened before keeps working on its session; the configured
certificate is replaced by a new one (via a config file naming it) and after
SIGHUP new connections present it. The gateway's command line is the
installed one, so the new certificate is given through the config file."""
import os
import signal
import ssl
import subprocess
import sys
import time
import xmlrpc.client

port, password, pid, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
url = f"https://127.0.0.1:{port}/"
ctx = ssl._create_unverified_context()


def fingerprint():
    pem = ssl.get_server_certificate(("127.0.0.1", int(port)))
    return ssl.PEM_cert_to_DER_cert(pem)


before = fingerprint()
kept = xmlrpc.client.ServerProxy(url, context=ctx)
sess = kept.session.login_with_password("root", password, "2.21", "reload")["Value"]
assert kept.pool.get_all(sess)["Status"] == "Success"

# a new self-signed certificate, named by the config file the service reads
crt, key = os.path.join(work, "new.crt"), os.path.join(work, "new.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=reloaded", "-keyout", key, "-out", crt],
               check=True, capture_output=True)
conf = "/etc/xapi-gateway/xapi-gateway.conf"
with open(conf, encoding="utf-8") as f:
    original = f.read()
try:
    with open(conf, "a", encoding="utf-8") as f:
        f.write(f"\ncert = {crt}\nkey = {key}\n")
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + 30 * float(os.environ.get("XG_TIME_SCALE", "1"))
    after = before
    while after == before and time.monotonic() < deadline:
        time.sleep(0.1)
        after = fingerprint()
    if after == before:
        sys.exit("certificate not reloaded after SIGHUP")
    with open(crt, "rb") as f:
        if ssl.PEM_cert_to_DER_cert(f.read().decode()) != after:
            sys.exit("new connections present an unexpected certificate")
    # the connection made before the reload still serves its session
    r = kept.pool.get_all(sess)
    if r["Status"] != "Success":
        sys.exit(f"old connection broken after reload: {r}")
    # a config that does not parse changes nothing and the gateway lives on
    with open(conf, "a", encoding="utf-8") as f:
        f.write("\nno-such-setting = 1\n")
    os.kill(pid, signal.SIGHUP)
    time.sleep(0.5)
    os.kill(pid, 0)
    if fingerprint() != after:
        sys.exit("a refused reload changed the certificate")
finally:
    with open(conf, "w", encoding="utf-8") as f:
        f.write(original)
print("reload ok")
