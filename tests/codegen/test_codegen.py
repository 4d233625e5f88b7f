#!/usr/bin/env python3
"""Golden tests of codegen/xapigen.py (QAPI style).

cases/good-*/ and cases/mini/: the model dump must equal expected.out;
for cases/mini/ every generated file must also equal golden/mini/<file>.
cases/bad-*/: the generator must exit 1 with exactly expected.err.
The real idl/ is dumped and compared with golden/idl.out (drift guard).
XG_REGENERATE=1 rewrites the expectations instead of comparing."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GEN = os.path.join(ROOT, "codegen", "xapigen.py")
CASES = os.path.join(HERE, "cases")
REGEN = os.environ.get("XG_REGENERATE") == "1"


def run(*args):
    return subprocess.run([sys.executable, GEN] + list(args), capture_output=True, text=True)


def check(tc, path, actual):
    if REGEN:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(actual)
        return
    with open(path) as f:
        tc.assertEqual(f.read(), actual, path)


class Golden(unittest.TestCase):
    def test_cases(self):
        for name in sorted(os.listdir(CASES)):
            d = os.path.join(CASES, name)
            with self.subTest(case=name):
                r = run("--idl", d, "--dump")
                if name.startswith("bad-"):
                    self.assertEqual(r.returncode, 1, r.stdout)
                    check(self, os.path.join(d, "expected.err"), r.stderr)
                else:
                    self.assertEqual(r.returncode, 0, r.stderr)
                    check(self, os.path.join(d, "expected.out"), r.stdout)

    def test_mini_generated_c(self):
        with tempfile.TemporaryDirectory() as out:
            r = run("--idl", os.path.join(CASES, "mini"), "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            names = sorted(os.listdir(out))
            gold = os.path.join(HERE, "golden", "mini")
            if not REGEN:
                self.assertEqual(sorted(os.listdir(gold)), names)
            for n in names:
                with open(os.path.join(out, n)) as f:
                    check(self, os.path.join(gold, n), f.read())
            # write-if-changed: a second run leaves every file untouched
            before = {n: os.stat(os.path.join(out, n)).st_mtime_ns for n in names}
            run("--idl", os.path.join(CASES, "mini"), "--out", out)
            after = {n: os.stat(os.path.join(out, n)).st_mtime_ns for n in names}
            self.assertEqual(before, after)

    def test_real_idl(self):
        idl = os.path.join(ROOT, "idl")
        if not os.path.isdir(os.path.join(idl, "classes")):
            self.skipTest("no idl/ yet")
        r = run("--idl", idl, "--dump")
        self.assertEqual(r.returncode, 0, r.stderr)
        check(self, os.path.join(HERE, "golden", "idl.out"), r.stdout)


if __name__ == "__main__":
    unittest.main()
