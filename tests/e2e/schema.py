"""Field names and types of XAPI classes, from the shared spec (read-only data next to the repo).

Types come from ../shared/spec/xenapi-datamodel.json, completed by the field tables of
../shared/spec/xapi-wire.md §7.3 (newer fields). check_xml()/check_json() validate one value as a
client sees it after decoding XML-RPC (xmlrpc.client) or JSON.
"""
import json
import os
import re
import xmlrpc.client

from gateway import SHARED_SPEC

REF_RE = re.compile(r"^OpaqueRef:(NULL|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATETIME_RE = re.compile(r"^\d{8}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?$")
INT_RE = re.compile(r"^-?\d+$")

_classes = None


def classes():
    """{class: {"fields": {name: (type, removed)}, "enums": {name: [values]}}} or {} without spec."""
    global _classes
    if _classes is not None:
        return _classes
    _classes = {}
    dm = os.path.join(SHARED_SPEC, "xenapi-datamodel.json")
    if os.path.exists(dm):
        with open(dm) as f:
            for c in json.load(f):
                fields = {}
                for fl in c["fields"]:
                    removed = fl.get("lifecycle", {}).get("state") == "Removed_s"
                    fields[fl["name"]] = (fl["type"], removed)
                enums = {e["name"]: [v["name"] for v in e.get("values", [])] for e in c.get("enums", [])}
                _classes[c["name"]] = {"fields": fields, "enums": enums, "extra": {}}
    wire = os.path.join(SHARED_SPEC, "xapi-wire.md")
    if os.path.exists(wire):
        cur = None
        with open(wire) as f:
            for line in f:
                m = re.match(r"^#### `(\w+)` fields", line)
                if m:
                    cur = m.group(1)
                    continue
                if line.startswith("#"):
                    cur = None
                if cur and line.startswith("| ") and not line.startswith("| field") and not line.startswith("|---"):
                    cols = [c.strip() for c in line.strip().strip("|").split("|")]
                    if len(cols) >= 2:
                        c = _classes.setdefault(cur, {"fields": {}, "enums": {}, "extra": {}})
                        if cols[0] not in c["fields"]:
                            c["extra"][cols[0]] = (cols[1], "removed" in (cols[3] if len(cols) > 3 else ""))
    return _classes


def all_enums():
    out = {}
    for c in classes().values():
        out.update(c["enums"])
    return out


def field_type(cls, name):
    c = classes().get(cls)
    if not c:
        return None
    t = c["fields"].get(name) or c["extra"].get(name)
    return t[0] if t else None


def required_fields(cls):
    """Fields every record must carry: the datamodel's fields that are not removed."""
    c = classes().get(cls)
    if not c:
        return set()
    return {n for n, (t, removed) in c["fields"].items() if not removed}


def _split_map(t):
    # "(K -> V) map"
    inner = t[1:t.rindex(")")]
    depth = 0
    for i in range(len(inner) - 3):
        ch = inner[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and inner[i:i + 4] == " -> ":
            return inner[:i], inner[i + 4:]
    raise ValueError(t)


def check(t, v, wire, path="value"):
    """Return a list of problems of value v against XAPI type t; wire is 'xml' or 'json'."""
    errs = []
    t = t.strip()
    if t.endswith(" option"):
        return check(t[:-7], v, wire, path) if v is not None else []
    if t.endswith(" set"):
        if not isinstance(v, list):
            return ["%s: expected array for %s, got %s" % (path, t, type(v).__name__)]
        for i, x in enumerate(v):
            errs += check(t[:-4], x, wire, "%s[%d]" % (path, i))
        return errs
    if t.endswith(" map") and t.startswith("("):
        if not isinstance(v, dict):
            return ["%s: expected struct for %s, got %s" % (path, t, type(v).__name__)]
        kt, vt = _split_map(t)
        for k, x in v.items():
            if not isinstance(k, str):
                errs.append("%s: map key %r not a string" % (path, k))
            elif kt == "int" and not INT_RE.match(k):
                errs.append("%s: int map key %r" % (path, k))
            errs += check(vt, x, wire, "%s[%r]" % (path, k))
        return errs
    if t == "string":
        return [] if isinstance(v, str) else ["%s: expected string, got %r" % (path, v)]
    if t == "int":
        if wire == "xml":
            # XAPI emits int64 as untyped <value>123</value>: a str to Python
            ok = isinstance(v, str) and INT_RE.match(v)
            return [] if ok else ["%s: int must be an untyped decimal string, got %r" % (path, v)]
        ok = isinstance(v, int) and not isinstance(v, bool)
        return [] if ok else ["%s: int must be a JSON integer, got %r" % (path, v)]
    if t == "float":
        ok = isinstance(v, float) or (wire == "json" and isinstance(v, int) and not isinstance(v, bool))
        return [] if ok else ["%s: expected double, got %r" % (path, v)]
    if t == "bool":
        return [] if isinstance(v, bool) else ["%s: expected boolean, got %r" % (path, v)]
    if t == "datetime":
        s = v.value if isinstance(v, xmlrpc.client.DateTime) else v
        if wire == "xml" and not isinstance(v, xmlrpc.client.DateTime):
            return ["%s: datetime must be <dateTime.iso8601>, got %r" % (path, v)]
        return [] if isinstance(s, str) and DATETIME_RE.match(s) else ["%s: bad datetime %r" % (path, s)]
    if t.startswith("enum "):
        if not isinstance(v, str):
            return ["%s: enum must be a string, got %r" % (path, v)]
        values = all_enums().get(t[5:])
        if values and v not in values:
            return ["%s: %r not in enum %s %s" % (path, v, t[5:], values)]
        return []
    if t.endswith(" ref"):
        if not isinstance(v, str) or not (REF_RE.match(v) or v == ""):
            return ["%s: expected OpaqueRef:<uuid>|OpaqueRef:NULL for %s, got %r" % (path, t, v)]
        return []
    if t.endswith(" record"):
        return [] if isinstance(v, dict) else ["%s: expected struct, got %r" % (path, v)]
    return []


def check_record(cls, ref, rec, wire="xml"):
    """Problems of one record: missing required fields, unknown fields, wrong types."""
    errs = []
    if not isinstance(rec, dict):
        return ["%s %s: record is not a struct: %r" % (cls, ref, rec)]
    c = classes().get(cls)
    if not c:
        return []
    missing = sorted(required_fields(cls) - set(rec))
    if missing:
        errs.append("%s %s: missing fields %s" % (cls, ref, missing))
    for name, v in rec.items():
        t = field_type(cls, name)
        if t is None:
            errs.append("%s %s: field %r is not an XAPI field of %s" % (cls, ref, name, cls))
            continue
        errs += check(t, v, wire, "%s.%s" % (cls, name))
    if "uuid" in rec and not (isinstance(rec["uuid"], str) and UUID_RE.match(rec["uuid"])):
        errs.append("%s %s: bad uuid %r" % (cls, ref, rec["uuid"]))
    return errs
