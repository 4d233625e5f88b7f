"""The static web root at / (--www DIR): index, content types, caching headers, HEAD,
conditional GET, gzip, and no path ever leaving the root."""
import gzip
import os
import shutil
import tempfile
import time
import unittest

from gateway import Gateway, sim_only, wait_for

JS = ("export const answer = 42; // padding so gzip is worth it\n" * 400).encode()
INDEX = b"<!doctype html><html><head><title>www test</title></head><body>hello</body></html>\n"


def hdr(headers, name):
    vals = [v for k, v in headers if k.lower() == name.lower()]
    return vals[0] if len(vals) == 1 else (vals or None)


@sim_only
class WwwTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xg-www-")
        cls.root = os.path.join(cls.tmp, "www")
        os.makedirs(os.path.join(cls.root, "assets", "sub"))
        with open(os.path.join(cls.root, "index.html"), "wb") as f:
            f.write(INDEX)
        with open(os.path.join(cls.root, "assets", "app.js"), "wb") as f:
            f.write(JS)
        with open(os.path.join(cls.root, "assets", "font.woff2"), "wb") as f:
            f.write(b"\0wOF2" * 100)
        with open(os.path.join(cls.root, "assets", "sub", "index.html"), "wb") as f:
            f.write(b"sub index")
        with open(os.path.join(cls.root, ".hidden"), "wb") as f:
            f.write(b"secret")
        with open(os.path.join(cls.tmp, "outside.txt"), "wb") as f:
            f.write(b"outside the root")
        os.symlink(os.path.join(cls.tmp, "outside.txt"), os.path.join(cls.root, "link.txt"))
        os.symlink(cls.tmp, os.path.join(cls.root, "linkdir"))
        # over the 16 MiB file limit (sparse: costs no disk)
        with open(os.path.join(cls.root, "huge.bin"), "wb") as f:
            f.truncate(17 * 1024 * 1024)
        cls.gw = Gateway(sim_vms=0, extra_args=["--www", cls.root]).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, path, headers=None, method="GET"):
        return self.gw.request(method, path, headers=headers or {})

    def test_index_at_root(self):
        st, h, body = self.get("/")
        self.assertEqual(st, 200)
        self.assertEqual(body, INDEX)
        self.assertEqual(hdr(h, "content-type"), "text/html; charset=utf-8")
        self.assertEqual(hdr(h, "cache-control"), "no-cache")
        self.assertTrue(hdr(h, "etag").startswith('"'))
        self.assertTrue(hdr(h, "last-modified").endswith(" GMT"))
        self.assertEqual(hdr(h, "x-content-type-options"), "nosniff")
        st, h, body = self.get("/index.html")
        self.assertEqual((st, body), (200, INDEX))
        st, h, body = self.get("/assets/sub/")
        self.assertEqual((st, body), (200, b"sub index"))

    def test_content_types_and_cache(self):
        st, h, body = self.get("/assets/app.js")
        self.assertEqual((st, body), (200, JS))
        self.assertEqual(hdr(h, "content-type"), "text/javascript; charset=utf-8")
        self.assertEqual(hdr(h, "cache-control"), "public, max-age=86400")
        st, h, body = self.get("/assets/font.woff2")
        self.assertEqual(st, 200)
        self.assertEqual(hdr(h, "content-type"), "font/woff2")

    def test_head(self):
        st, h, body = self.get("/assets/app.js", method="HEAD")
        self.assertEqual(st, 200)
        self.assertEqual(body, b"")
        self.assertEqual(int(hdr(h, "content-length")), len(JS))
        st, h, body = self.get("/nothing-here", method="HEAD")
        self.assertEqual((st, body), (404, b""))

    def test_conditional_get(self):
        st, h, _ = self.get("/assets/app.js")
        etag, lm = hdr(h, "etag"), hdr(h, "last-modified")
        st, h2, body = self.get("/assets/app.js", {"If-None-Match": etag})
        self.assertEqual((st, body), (304, b""))
        self.assertEqual(hdr(h2, "etag"), etag)
        st, _, body = self.get("/assets/app.js", {"If-None-Match": 'W/"x", ' + etag})
        self.assertEqual(st, 304)
        st, _, body = self.get("/assets/app.js", {"If-None-Match": '"other"'})
        self.assertEqual((st, body), (200, JS))
        st, _, body = self.get("/assets/app.js", {"If-Modified-Since": lm})
        self.assertEqual((st, body), (304, b""))
        st, _, body = self.get("/assets/app.js",
                               {"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})
        self.assertEqual((st, body), (200, JS))
        st, _, body = self.get("/assets/app.js", {"If-Modified-Since": "garbage"})
        self.assertEqual(st, 200)

    def test_gzip_when_accepted(self):
        # the compressed variant is made in the background after the first read
        def gz():
            st, h, body = self.get("/assets/app.js", {"Accept-Encoding": "gzip, deflate"})
            return (st, h, body) if hdr(h, "content-encoding") == "gzip" else None
        st, h, body = wait_for(gz, timeout=20, what="gzip variant of app.js")
        self.assertEqual(gzip.decompress(body), JS)
        self.assertLess(len(body), len(JS))
        self.assertEqual(hdr(h, "vary"), "Accept-Encoding")
        self.assertTrue(hdr(h, "etag").endswith('-gz"'))
        st, h304, _ = self.get("/assets/app.js", {"Accept-Encoding": "gzip",
                                                  "If-None-Match": hdr(h, "etag")})
        self.assertEqual(st, 304)
        st, h, body = self.get("/assets/app.js")
        self.assertIsNone(hdr(h, "content-encoding"))
        self.assertEqual(body, JS)
        st, h, body = self.get("/assets/app.js", {"Accept-Encoding": "gzip;q=0"})
        self.assertIsNone(hdr(h, "content-encoding"))

    def test_changed_file_served_fresh(self):
        p = os.path.join(self.root, "assets", "changing.txt")
        with open(p, "wb") as f:
            f.write(b"one")
        self.assertEqual(self.get("/assets/changing.txt")[2], b"one")
        time.sleep(0.01)
        with open(p, "wb") as f:
            f.write(b"two, longer")
        self.assertEqual(self.get("/assets/changing.txt")[2], b"two, longer")
        os.unlink(p)
        self.assertEqual(self.get("/assets/changing.txt")[0], 404)

    def test_nothing_escapes_the_root(self):
        for path in ["/../outside.txt", "/assets/../../outside.txt", "/%2e%2e/outside.txt",
                     "/assets/%2e%2e/%2e%2e/outside.txt", "/assets%2fapp.js", "/assets%2Fapp.js",
                     "/assets%5capp.js", "/assets\\app.js", "/.hidden", "/%2ehidden",
                     "/link.txt", "/linkdir/outside.txt", "/index.html%00.js", "/assets",
                     "/assets/app.js/", "//etc/passwd", "/nothing-here", "/%zz", "/huge.bin",
                     "/" + "a/" * 40 + "x"]:
            st, h, body = self.get(path)
            self.assertIn(st, (403, 404), path)
            self.assertNotIn(b"outside the root", body, path)
            self.assertNotIn(b"secret", body, path)
        self.assertEqual(self.get("/huge.bin")[0], 403)

    def test_api_routes_still_served(self):
        st, _, body = self.gw.jsonrpc({"jsonrpc": "2.0", "id": 1, "method": "session.login_with_password",
                                       "params": ["root", self.gw.password]}, raw=True)
        self.assertEqual(st, 200)
        self.assertIn(b"OpaqueRef:", body)
        st, _, _ = self.get("/rrd_updates?start=0")
        self.assertEqual(st, 401)


@sim_only
class NoWwwTest(unittest.TestCase):
    def test_no_root_answers_404(self):
        with Gateway(sim_vms=0, extra_args=["--www", "off"]) as gw:
            st, _, body = gw.request("GET", "/")
            self.assertEqual(st, 404)
            st, _, body = gw.request("GET", "/index.html")
            self.assertEqual(st, 404)


if __name__ == "__main__":
    from gateway import main
    raise SystemExit(main())
