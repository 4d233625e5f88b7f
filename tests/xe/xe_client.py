"""Runs the real xe against a test's gateway: plain HTTP (-s 127.0.0.1 on the --http port)
or TLS through stunnel (-s localhost on the TLS port)."""
import os
import subprocess

from gateway import scaled

XE = os.environ.get("XG_XE", "")


class XeClient:
    """Mixin for a TestCase whose class has gw (a Gateway) and http_port."""

    def xe(self, *args, tls=False, password=None, stdin=""):
        if tls:
            conn = ["-s", "localhost", "-p", str(self.gw.port)]
        else:
            conn = ["-s", "127.0.0.1", "-p", str(self.http_port)]
        pw = self.gw.password if password is None else password
        env = dict(os.environ, HOME=self.gw._tmp)     # no ~/.xe of the machine's user
        p = subprocess.run([XE] + list(args) + conn + ["-u", "root", "-pw", pw],
                           capture_output=True, text=True, env=env, input=stdin,
                           timeout=scaled(60))
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, **kw):
        rc, out, err = self.xe(*args, **kw)
        self.assertEqual((rc, err), (0, ""), out)
        return out
