#!/usr/bin/env python3
# updater.py: the host plugin XO Lite's Patches card and Xen Orchestra call
# (host.call_plugin(host, "updater.py", "check_update", {})), for a Debian
# host. XCP-ng's plugin of that name (xcp-ng-xapi-plugins) asks yum; this one
# asks apt what a dist-upgrade would upgrade, from the package lists already
# on the host: no download, no lock taken (a simulation), so it never
# disturbs a running apt. The answer is XCP-ng's: a JSON list of
#   {name, version, release, description, changelog, url, size, license}
# with version/release the Debian upstream version and revision of the
# candidate, description its summary line, url its Homepage, size the .deb's
# bytes; changelog is null and license "" because apt's lists carry neither
# (XO Lite sorts entries without a changelog last). An up-to-date host
# answers "[]".
#
# ABI (XAPI's, as the gateway runs plugins): argv[1] is the XML-RPC
# methodCall of the function with params [session, struct of strings];
# stdout is a methodResponse holding one string, or a fault.
#
# apt's output is read as untrusted text: only lines of the expected shape
# with valid package names and versions are taken, and every run and read is
# bounded in time, bytes and count.
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import xmlrpc.client

APT_TIMEOUT_S = 60          # each apt command (the gateway's own bound is 120 s)
APT_OUTPUT_BYTES = 16 << 20  # larger output kills apt (RLIMIT_FSIZE)
MAX_PACKAGES = 5000         # more "Inst" lines than any real system has
FIELD_CHARS = 1024          # a description or homepage longer is cut

NAME = re.compile(r"[a-z0-9][a-z0-9+.-]{0,127}(:[a-z0-9-]{1,32})?\Z")
VERSION = re.compile(r"([0-9]{1,9}:)?[A-Za-z0-9.+~-]{1,128}\Z")
# Inst NAME [INSTALLED] (CANDIDATE ORIGINS [ARCH]) ...
INST = re.compile(r"Inst (\S+) \[(\S+)\] \((\S+) [^\n]*\)")


class PluginError(Exception):
    pass


def split_version(v):
    """Debian [epoch:]upstream[-revision] -> (upstream, revision): XCP-ng's
    version/release pair (rpm's version has no epoch either)."""
    if ":" in v:
        v = v.split(":", 1)[1]
    upstream, sep, revision = v.rpartition("-")
    return (upstream, revision) if sep else (v, "")


def parse_simulation(text):
    """The upgrades in `apt-get -s dist-upgrade` output: [(name, candidate)],
    in apt's order, each package once. New installs (no installed version)
    and removals are not updates of what the host has."""
    seen = set()
    out = []
    for line in text.splitlines():
        m = INST.match(line)
        if not m:
            continue
        name, old, new = m.group(1), m.group(2), m.group(3)
        if not (NAME.match(name) and VERSION.match(old) and VERSION.match(new)):
            continue
        if name in seen:
            continue
        seen.add(name)
        out.append((name, new))
        if len(out) >= MAX_PACKAGES:
            break
    return out


def clip(s):
    return s[:FIELD_CHARS]


def parse_records(text):
    """`apt-cache show` stanzas -> {(Package, Version): {summary, url, size}}.
    A stanza's fields are "Key: value" lines; continuation lines start with
    a space and are ignored (only the summary line of Description is kept)."""
    records = {}
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            if not line or line[0] in " \t" or ":" not in line:
                continue
            key, value = line.split(":", 1)
            fields.setdefault(key.strip(), value.strip())
        name, version = fields.get("Package", ""), fields.get("Version", "")
        if not (NAME.match(name) and VERSION.match(version)):
            continue
        size = fields.get("Size", "")
        records[(name, version)] = {
            "summary": clip(fields.get("Description", fields.get("Description-en", ""))),
            "url": clip(fields.get("Homepage", "")),
            "size": int(size) if size.isdigit() and len(size) <= 15 else 0,
        }
    return records


def package_entry(name, version, record):
    upstream, revision = split_version(version)
    record = record or {"summary": "", "url": "", "size": 0}
    return {"name": name, "version": upstream, "release": revision,
            "description": record["summary"], "changelog": None,
            "url": record["url"], "size": record["size"], "license": ""}


def updates(simulation, records):
    """The JSON-ready list from both outputs."""
    entries = []
    for name, version in parse_simulation(simulation):
        bare = name.split(":", 1)[0]         # apt-cache shows "name", not "name:arch"
        entries.append(package_entry(bare, version, records.get((bare, version))))
    return entries


def _limit_output():
    resource.setrlimit(resource.RLIMIT_FSIZE, (APT_OUTPUT_BYTES, APT_OUTPUT_BYTES))


def run_apt(argv, must_succeed=True):
    """argv's stdout, bounded in time and bytes; PluginError when it cannot
    run, runs too long or (must_succeed) fails."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C"}
    with tempfile.TemporaryFile() as out:
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.DEVNULL, env=env,
                                 preexec_fn=_limit_output, start_new_session=True)
        except OSError as e:
            raise PluginError("cannot run %s: %s" % (argv[0], e.strerror))
        try:
            rc = p.wait(timeout=APT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise PluginError("%s took more than %d s" % (argv[0], APT_TIMEOUT_S))
        if rc != 0 and must_succeed:
            raise PluginError("%s failed (status %d)" % (argv[0], rc))
        out.seek(0)
        return out.read(APT_OUTPUT_BYTES).decode("utf-8", "replace")


APT_GET = ["apt-get", "-s", "-q", "-o", "Debug::NoLocking=1",
           "-o", "APT::Get::Show-User-Simulation-Note=false", "dist-upgrade"]


def check_update(args):
    simulation = run_apt(APT_GET)
    wanted = parse_simulation(simulation)
    records = {}
    if wanted:
        specs = ["%s=%s" % (n.split(":", 1)[0], v) for n, v in wanted]
        # a candidate apt-cache cannot show only loses its details
        records = parse_records(run_apt(["apt-cache", "show", "--no-all-versions"] + specs,
                                        must_succeed=False))
    return json.dumps(updates(simulation, records))


FUNCTIONS = {"check_update": check_update}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: updater.py METHODCALL (run by host.call_plugin)\n")
        return 2
    try:
        params, fn = xmlrpc.client.loads(argv[1])
    except Exception as e:  # noqa: BLE001 - any unreadable call is answered, not raised
        sys.stdout.write(xmlrpc.client.dumps(xmlrpc.client.Fault(-1, "bad call: %s" % e)))
        return 0
    args = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
    if fn not in FUNCTIONS:
        # XAPI's plugin boilerplate names this UNKNOWN_XENAPI_PLUGIN_FUNCTION [fn]
        sys.stdout.write(xmlrpc.client.dumps(xmlrpc.client.Fault(
            -1, "UNKNOWN_XENAPI_PLUGIN_FUNCTION %s" % fn)))
        return 0
    try:
        result = FUNCTIONS[fn](args)
    except PluginError as e:
        sys.stdout.write(xmlrpc.client.dumps(xmlrpc.client.Fault(-1, str(e))))
        return 0
    sys.stdout.write(xmlrpc.client.dumps((result,), methodresponse=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
