#!/usr/bin/env python3
"""Check idl/ against the format in idl/README.md and against XAPI's datamodel.

Two groups of checks:
  * strict: every IDL file has only the keys idl/README.md allows, with values
    of the right shape (types parse, defaults fit their type, enums are
    declared exactly once, refs name served or external classes, errors are
    declared, explicit messages do not clash with implicit ones, ...).
    These need nothing but idl/ and always run.
  * datamodel: every declared class, field, enum and message matches the
    XAPI datamodel JSON (names, order, types, qualifiers, defaults, params,
    results).  Documented exceptions:
      - event.snapshot is not declared (the event handler writes the wire
        record by hand, see xapi-wire.md section 5);
      - event.from: the datamodel gives the documentation pseudo-type
        "an event batch"; the IDL declares "event record set" (XAPI's own
        IDL type) and marks the message "stream".
    Fields marked "internal" are ours and are not compared.

Usage: test_datamodel.py --idl DIR --datamodel FILE
Exit 0 on success, 1 on any difference, 77 (skip) when the datamodel file is
absent and the strict checks pass.  Python 3 standard library only.
"""
import argparse
import json
import os
import re
import sys
import unittest

SKIP_CODE = 77

CLASS_KEYS = {"class", "doc", "events", "get_all", "constructor", "persist",
              "implicit", "enums", "fields", "messages"}
CLASS_REQUIRED = {"class", "doc", "fields"}
CLASS_BOOLS = {"events", "get_all", "constructor", "persist", "implicit"}
ENUM_KEYS = {"name", "doc", "values"}
FIELD_KEYS = {"name", "type", "qualifier", "doc", "default", "setters",
              "effect", "maintained_by", "internal", "persist"}
FIELD_REQUIRED = {"name", "type", "qualifier", "doc"}
FIELD_BOOLS = {"setters", "effect", "internal", "persist"}
QUALIFIERS = {"RW", "RO/constructor", "RO/runtime"}
MSG_KEYS = {"name", "doc", "params", "result", "errors", "async", "session",
            "stream"}
MSG_REQUIRED = {"name", "doc"}
MSG_BOOLS = {"async", "session", "stream"}
PARAM_KEYS = {"name", "type", "doc", "default"}
PARAM_REQUIRED = {"name", "type", "doc"}
ERROR_KEYS = {"name", "params", "doc"}
BASE_TYPES = {"string", "int", "float", "bool", "datetime"}
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ERROR_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
DATETIME = re.compile(r"^\d{8}T\d\d:\d\d:\d\dZ$")

# (class, message) -> (datamodel result, IDL result): documented exceptions.
RESULT_EXCEPTIONS = {("event", "from"): ("an event batch", "event record set")}
# (class, field) the IDL deliberately omits.
OMITTED_FIELDS = {("event", "snapshot")}
# Messages and enums newer than the datamodel snapshot, checked against XAPI's source instead:
# Secure Boot readiness (ocaml/idl/datamodel_vm.ml, datamodel_pool.ml; XO reads both).
NEWER_MESSAGES = {("VM", "get_secureboot_readiness"), ("pool", "get_guest_secureboot_readiness")}
NEWER_ENUMS = {"vm_secureboot_readiness", "pool_guest_secureboot_readiness"}


# ---- XAPI type notation -------------------------------------------------

class TypeError_(Exception):
    pass


def parse_type(s):
    """Parse XAPI type notation into a tuple tree, or raise TypeError_."""
    s = s.strip()
    if s in BASE_TYPES:
        return ("base", s)
    if s.endswith(" set"):
        return ("set", parse_type(s[:-4]))
    if s.endswith(" map") and s.startswith("("):
        inner = s[:-4].strip()
        if not inner.endswith(")"):
            raise TypeError_("bad map type %r" % s)
        inner = inner[1:-1]
        depth = 0
        for i, ch in enumerate(inner):
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif depth == 0 and inner.startswith(" -> ", i):
                return ("map", parse_type(inner[:i]), parse_type(inner[i + 4:]))
        raise TypeError_("bad map type %r" % s)
    m = re.match(r"^enum ([A-Za-z_][A-Za-z0-9_]*)$", s)
    if m:
        return ("enum", m.group(1))
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*) (ref|record)$", s)
    if m:
        return (m.group(2), m.group(1))
    raise TypeError_("cannot parse type %r" % s)


def type_names(t, kind):
    """All enum names (kind 'enum') or class names (kind 'class') in t."""
    out = []
    if t[0] == "enum" and kind == "enum":
        out.append(t[1])
    elif t[0] in ("ref", "record") and kind == "class":
        out.append(t[1])
    elif t[0] == "set":
        out += type_names(t[1], kind)
    elif t[0] == "map":
        out += type_names(t[1], kind) + type_names(t[2], kind)
    return out


def check_default(t, v, enums, where, errs):
    """Check that JSON value v is the natural form of a value of type t."""
    k = t[0]
    if k == "base":
        b = t[1]
        ok = {
            "string": isinstance(v, str),
            "int": isinstance(v, int) and not isinstance(v, bool),
            "float": isinstance(v, (int, float)) and not isinstance(v, bool),
            "bool": isinstance(v, bool),
            "datetime": isinstance(v, str) and bool(DATETIME.match(v)),
        }[b]
        if not ok:
            errs.append("%s: default %r does not fit %s" % (where, v, b))
    elif k == "enum":
        vals = enums.get(t[1])
        if not isinstance(v, str) or (vals is not None and v not in vals):
            errs.append("%s: default %r is not a value of enum %s" % (where, v, t[1]))
    elif k == "ref":
        if v not in ("OpaqueRef:NULL", ""):
            errs.append("%s: ref default must be \"OpaqueRef:NULL\" or \"\", got %r" % (where, v))
    elif k == "record":
        errs.append("%s: record types cannot have defaults" % where)
    elif k == "set":
        if not isinstance(v, list):
            errs.append("%s: set default must be a list, got %r" % (where, v))
        else:
            for x in v:
                check_default(t[1], x, enums, where, errs)
    elif k == "map":
        if not isinstance(v, dict):
            errs.append("%s: map default must be an object, got %r" % (where, v))
        else:
            for x in v.values():
                check_default(t[2], x, enums, where, errs)


def datamodel_default(typ, s):
    """Convert a datamodel default (XAPI's printed form) to the natural JSON form."""
    t = parse_type(typ)
    s = s.strip()
    if t[0] == "set":
        if not (s.startswith("{") and s.endswith("}")):
            raise ValueError(s)
        inner = s[1:-1].strip()
        return [] if not inner else [datamodel_default(typ[:-4], x) for x in inner.split(";")]
    if t[0] == "map":
        if s == "{}":
            return {}
        pairs = re.findall(r'"([^"]*)"\s*->\s*"([^"]*)"', s)
        if not pairs:
            raise ValueError(s)
        return dict(pairs)
    if t[0] == "ref":
        if s in ("Null", "OpaqueRef:NULL"):
            return "OpaqueRef:NULL"
        if s == '""':
            return ""
        raise ValueError(s)
    if t[0] == "enum":
        return s
    b = t[1]
    if b == "bool":
        return {"true": True, "false": False}[s]
    if b == "int":
        return int(s)
    if b == "float":
        return float(s)
    if b == "string":
        if not (len(s) >= 2 and s[0] == '"' and s[-1] == '"'):
            raise ValueError(s)
        return s[1:-1]
    return s  # datetime


def same_default(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_default(x, y) for x, y in zip(a, b))
    return a == b


# ---- loading -----------------------------------------------------------------

class Idl:
    def __init__(self, root):
        self.root = root
        self.load_errors = []
        self.classes = {}        # name -> dict
        self.files = {}          # name -> path
        cdir = os.path.join(root, "classes")
        names = sorted(os.listdir(cdir)) if os.path.isdir(cdir) else []
        if not names:
            self.load_errors.append("%s: no class files" % cdir)
        for fn in names:
            path = os.path.join(cdir, fn)
            if not fn.endswith(".json"):
                self.load_errors.append("%s: not a .json file" % path)
                continue
            obj = self._load(path)
            if obj is None:
                continue
            if not isinstance(obj, dict):
                self.load_errors.append("%s: top level must be an object" % path)
                continue
            name = obj.get("class")
            if name != fn[:-5]:
                self.load_errors.append("%s: \"class\" is %r, must match the file name" % (path, name))
            if name in self.classes:
                self.load_errors.append("%s: class %r declared twice" % (path, name))
            self.classes[name] = obj
            self.files[name] = path
        self.errors = self._load(os.path.join(root, "errors.json"))
        self.external = self._load(os.path.join(root, "external.json"))

    def _load(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            self.load_errors.append("%s: %s" % (path, e))
            return None

    def enum_table(self):
        out = {}
        for c in self.classes.values():
            for e in c.get("enums", []) if isinstance(c.get("enums"), list) else []:
                if isinstance(e, dict) and isinstance(e.get("values"), list):
                    out.setdefault(e.get("name"), [v[0] for v in e["values"]
                                                   if isinstance(v, list) and v])
        return out


def check_keys(obj, allowed, required, bools, where, errs):
    if not isinstance(obj, dict):
        errs.append("%s: must be an object" % where)
        return False
    for k in sorted(set(obj) - allowed):
        errs.append("%s: unknown key %r" % (where, k))
    for k in sorted(required - set(obj)):
        errs.append("%s: missing key %r" % (where, k))
    for k in sorted(bools & set(obj)):
        if not isinstance(obj[k], bool):
            errs.append("%s: %r must be true or false" % (where, k))
    for k in ("name", "doc", "type", "class"):
        if k in obj and (not isinstance(obj[k], str) or not obj[k]):
            errs.append("%s: %r must be a non-empty string" % (where, k))
    return True


def implicit_names(c):
    """Wire message names the generator derives for class c (README)."""
    if c.get("implicit", True) is False:
        return set()
    names = {"get_record", "get_by_uuid"}
    fields = [f for f in c.get("fields", []) if isinstance(f, dict)]
    if any(f.get("name") == "name_label" for f in fields):
        names.add("get_by_name_label")
    if c.get("get_all", True):
        names |= {"get_all", "get_all_records", "get_all_records_where", "get_all_where"}
    if c.get("constructor", False):
        names |= {"create", "destroy"}
    for f in fields:
        if f.get("internal") or not isinstance(f.get("name"), str):
            continue
        n = f["name"]
        names.add("get_" + n)
        writable = (f.get("qualifier") == "RW" or f.get("setters") or f.get("effect")) \
            and not f.get("maintained_by")
        if not writable:
            continue
        names.add("set_" + n)
        try:
            t = parse_type(f.get("type", ""))
        except TypeError_:
            continue
        if t[0] == "map":
            names |= {"add_to_" + n, "remove_from_" + n}
        elif t[0] == "set":
            names |= {"add_" + n, "remove_" + n}
    return names


def strict_errors(idl):
    errs = list(idl.load_errors)
    served = set(idl.classes)
    # errors.json
    error_names = set()
    if idl.errors is not None:
        if not isinstance(idl.errors, list):
            errs.append("errors.json: top level must be a list")
        else:
            for i, e in enumerate(idl.errors):
                where = "errors.json[%d]" % i
                if not check_keys(e, ERROR_KEYS, ERROR_KEYS, set(), where, errs):
                    continue
                n = e.get("name")
                if not isinstance(n, str) or not ERROR_NAME.match(n):
                    errs.append("%s: bad error name %r" % (where, n))
                elif n in error_names:
                    errs.append("%s: error %s declared twice" % (where, n))
                error_names.add(n)
                ps = e.get("params")
                if not isinstance(ps, list) or not all(isinstance(p, str) and IDENT.match(p) for p in ps):
                    errs.append("%s (%s): params must be a list of identifiers" % (where, n))
                elif len(set(ps)) != len(ps):
                    errs.append("%s (%s): duplicate param names" % (where, n))
    # external.json
    external = set()
    if idl.external is not None:
        if not isinstance(idl.external, dict) or set(idl.external) != {"classes"} \
                or not isinstance(idl.external["classes"], list):
            errs.append('external.json: must be {"classes": [..]}')
        else:
            for n in idl.external["classes"]:
                if not isinstance(n, str) or not IDENT.match(n):
                    errs.append("external.json: bad class name %r" % (n,))
                elif n in external:
                    errs.append("external.json: %s listed twice" % n)
                elif n in served:
                    errs.append("external.json: %s is served (has a class file)" % n)
                external.add(n)
    # enums declared exactly once
    enum_owner = {}
    for cn, c in sorted(idl.classes.items()):
        enums = c.get("enums", [])
        if not isinstance(enums, list):
            errs.append("%s: \"enums\" must be a list" % cn)
            continue
        for j, e in enumerate(enums):
            where = "%s.enums[%d]" % (cn, j)
            if not check_keys(e, ENUM_KEYS, ENUM_KEYS, set(), where, errs):
                continue
            n = e.get("name")
            if n in enum_owner:
                errs.append("%s: enum %s already declared in %s" % (where, n, enum_owner[n]))
            enum_owner[n] = cn
            vals = e.get("values")
            if not isinstance(vals, list) or not vals:
                errs.append("%s: values must be a non-empty list" % where)
                continue
            seen = set()
            for v in vals:
                if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) and x for x in v)):
                    errs.append("%s: each value must be [\"wire name\", \"doc\"], got %r" % (where, v))
                    continue
                if v[0] in seen:
                    errs.append("%s: value %s repeated" % (where, v[0]))
                seen.add(v[0])
    enums = idl.enum_table()
    used_enums = set()
    used_classes = set()

    def check_type(s, where):
        try:
            t = parse_type(s)
        except TypeError_ as e:
            errs.append("%s: %s" % (where, e))
            return None
        for en in type_names(t, "enum"):
            used_enums.add(en)
            if en not in enum_owner:
                errs.append("%s: enum %s is not declared" % (where, en))
        for cl in type_names(t, "class"):
            used_classes.add(cl)
            if cl not in served and cl not in external:
                errs.append("%s: class %s is neither served nor in external.json" % (where, cl))
        return t

    for cn, c in sorted(idl.classes.items()):
        if not check_keys(c, CLASS_KEYS, CLASS_REQUIRED, CLASS_BOOLS, cn, errs):
            continue
        persist_class = c.get("persist", False)
        fields = c.get("fields")
        if not isinstance(fields, list):
            errs.append("%s: \"fields\" must be a list" % cn)
            fields = []
        fnames = set()
        for j, f in enumerate(fields):
            where = "%s.fields[%d]" % (cn, j)
            if not check_keys(f, FIELD_KEYS, FIELD_REQUIRED, FIELD_BOOLS, where, errs):
                continue
            n = f.get("name")
            where = "%s.%s" % (cn, n)
            if not isinstance(n, str) or not IDENT.match(n):
                errs.append("%s: bad field name" % where)
            if n in fnames:
                errs.append("%s: field declared twice" % where)
            fnames.add(n)
            if f.get("qualifier") not in QUALIFIERS:
                errs.append("%s: qualifier %r not one of %s" % (where, f.get("qualifier"), sorted(QUALIFIERS)))
            t = check_type(f.get("type", ""), where)
            if t is not None and "default" in f:
                check_default(t, f["default"], enums, where, errs)
            if f.get("setters") and f.get("qualifier") == "RW":
                errs.append("%s: \"setters\" is for non-RW fields (RW fields get setters anyway)" % where)
            if "persist" in f and not persist_class:
                errs.append("%s: \"persist\" on a field of a class that does not persist" % where)
            mb = f.get("maintained_by")
            if mb is not None:
                m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$", mb) \
                    if isinstance(mb, str) else None
                if not m:
                    errs.append("%s: maintained_by must be \"Class.field\"" % where)
                else:
                    oc, of = m.groups()
                    other = idl.classes.get(oc)
                    ofd = None
                    if other:
                        ofd = next((x for x in other.get("fields", [])
                                    if isinstance(x, dict) and x.get("name") == of), None)
                    if ofd is None:
                        errs.append("%s: maintained_by names unknown field %s" % (where, mb))
                    elif ofd.get("type") != cn + " ref":
                        errs.append("%s: %s must be of type \"%s ref\"" % (where, mb, cn))
                    if f.get("type") != oc + " ref set":
                        errs.append("%s: a maintained field must be of type \"%s ref set\"" % (where, oc))
        if c.get("implicit", True) and "uuid" not in fnames:
            errs.append("%s: a class with implicit messages needs a uuid field" % cn)
        implicit = implicit_names(c)
        msgs = c.get("messages", [])
        if not isinstance(msgs, list):
            errs.append("%s: \"messages\" must be a list" % cn)
            msgs = []
        mnames = set()
        for j, m in enumerate(msgs):
            where = "%s.messages[%d]" % (cn, j)
            if not check_keys(m, MSG_KEYS, MSG_REQUIRED, MSG_BOOLS, where, errs):
                continue
            n = m.get("name")
            where = "%s.%s" % (cn, n)
            if not isinstance(n, str) or not IDENT.match(n):
                errs.append("%s: bad message name" % where)
            if n in mnames:
                errs.append("%s: message declared twice" % where)
            mnames.add(n)
            if n in implicit:
                errs.append("%s: clashes with an implicit message (use setters/effect on the field)" % where)
            params = m.get("params", [])
            if not isinstance(params, list):
                errs.append("%s: params must be a list" % where)
                params = []
            pnames = set()
            seen_default = False
            for k, p in enumerate(params):
                pw = "%s(param %d)" % (where, k)
                if not check_keys(p, PARAM_KEYS, PARAM_REQUIRED, set(), pw, errs):
                    continue
                if p.get("name") in pnames:
                    errs.append("%s: param %s repeated" % (pw, p.get("name")))
                pnames.add(p.get("name"))
                t = check_type(p.get("type", ""), pw)
                if "default" in p:
                    seen_default = True
                    if t is not None:
                        check_default(t, p["default"], enums, pw, errs)
                elif seen_default:
                    errs.append("%s: params with defaults must be trailing" % pw)
            if "result" in m:
                check_type(m["result"], where + "(result)")
            me = m.get("errors", [])
            if not isinstance(me, list):
                errs.append("%s: errors must be a list" % where)
            else:
                for e in me:
                    if e not in error_names:
                        errs.append("%s: error %r is not in errors.json" % (where, e))
                if len(set(me)) != len(me):
                    errs.append("%s: repeated error names" % where)
    for en in sorted(set(enum_owner) - used_enums):
        errs.append("enum %s (in %s) is declared but nothing uses it" % (en, enum_owner[en]))
    for cl in sorted(external - used_classes):
        errs.append("external.json: %s is listed but no type refers to it" % cl)
    return errs


# ---- datamodel comparison ---------------------------------------------------

def datamodel_errors(idl, dm):
    errs = []
    dmc = {c["name"]: c for c in dm}
    dm_enums = {}
    for c in dm:
        for e in c.get("enums", []):
            dm_enums.setdefault(e["name"], [v["name"] for v in e["values"]])
    for cn, c in sorted(idl.classes.items()):
        d = dmc.get(cn)
        if d is None:
            errs.append("%s: no such class in the datamodel" % cn)
            continue
        # fields
        ours = [f for f in c.get("fields", []) if not f.get("internal")]
        theirs = [f for f in d["fields"] if (cn, f["name"]) not in OMITTED_FIELDS]
        on = [f.get("name") for f in ours]
        tn = [f["name"] for f in theirs]
        for n in tn:
            if n not in on:
                errs.append("%s.%s: field missing from the IDL" % (cn, n))
        for n in on:
            if n not in tn:
                errs.append("%s.%s: field not in the datamodel" % (cn, n))
        common_o = [n for n in on if n in tn]
        common_t = [n for n in tn if n in on]
        if common_o != common_t:
            errs.append("%s: field order differs from the datamodel: expected %s" % (cn, common_t))
        tby = {f["name"]: f for f in theirs}
        for f in ours:
            t = tby.get(f.get("name"))
            if t is None:
                continue
            where = "%s.%s" % (cn, f["name"])
            if f.get("type") != t["type"]:
                errs.append("%s: type %r, datamodel says %r" % (where, f.get("type"), t["type"]))
            if f.get("qualifier") != t["qualifier"]:
                errs.append("%s: qualifier %r, datamodel says %r" % (where, f.get("qualifier"), t["qualifier"]))
            if "default" in t:
                try:
                    want = datamodel_default(t["type"], t["default"])
                except (ValueError, KeyError, TypeError_):
                    errs.append("%s: cannot read datamodel default %r" % (where, t["default"]))
                    continue
                if "default" not in f:
                    errs.append("%s: missing default %r" % (where, want))
                elif not same_default(f["default"], want):
                    errs.append("%s: default %r, datamodel says %r" % (where, f["default"], want))
            elif "default" in f:
                errs.append("%s: has a default but the datamodel gives none" % where)
        # enums
        for e in c.get("enums", []):
            want = dm_enums.get(e.get("name"))
            if want is None and e.get("name") in NEWER_ENUMS:
                continue
            if want is None:
                errs.append("%s: enum %s not in the datamodel" % (cn, e.get("name")))
                continue
            got = [v[0] for v in e.get("values", [])]
            if got != want:
                errs.append("%s: enum %s values %s, datamodel says %s" % (cn, e.get("name"), got, want))
        # messages
        dmm = {m["name"]: m for m in d["messages"]}
        for m in c.get("messages", []):
            n = m.get("name")
            where = "%s.%s" % (cn, n)
            t = dmm.get(n)
            if t is None and (cn, n) in NEWER_MESSAGES:
                continue
            if t is None:
                errs.append("%s: message not in the datamodel" % where)
                continue
            if t.get("implicit"):
                errs.append("%s: the datamodel marks it implicit; do not declare it" % where)
            tparams = list(t["params"])
            has_session = bool(tparams) and tparams[0]["name"] == "session_id" \
                and tparams[0]["type"] == "session ref"
            if has_session:
                tparams = tparams[1:]
            if m.get("session", True) != has_session:
                errs.append("%s: session flag %s, datamodel %s a session param" %
                            (where, m.get("session", True), "has" if has_session else "has no"))
            got = [(p.get("name"), p.get("type")) for p in m.get("params", [])]
            want = [(p["name"], p["type"]) for p in tparams]
            if got != want:
                errs.append("%s: params %s, datamodel says %s" % (where, got, want))
            tres = t["result"][0] if t.get("result") else "void"
            ores = m.get("result", "void")
            exc = RESULT_EXCEPTIONS.get((cn, n))
            if exc is not None and (tres, ores) == exc:
                continue
            if ores != tres:
                errs.append("%s: result %r, datamodel says %r" % (where, ores, tres))
    # enums used by declared things exist in the datamodel under the same name (done above)
    return errs


# ---- unittest glue ----------------------------------------------------------

ARGS = None


class StrictFormat(unittest.TestCase):
    def test_idl_files_follow_readme(self):
        errs = strict_errors(Idl(ARGS.idl))
        if errs:
            self.fail("%d problem(s) in %s:\n  %s" % (len(errs), ARGS.idl, "\n  ".join(errs)))


class AgainstDatamodel(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(ARGS.datamodel):
            self.skipTest("%s not found" % ARGS.datamodel)

    def test_matches_datamodel(self):
        with open(ARGS.datamodel, encoding="utf-8") as f:
            dm = json.load(f)
        errs = datamodel_errors(Idl(ARGS.idl), dm)
        if errs:
            self.fail("%d difference(s) from the datamodel:\n  %s" % (len(errs), "\n  ".join(errs)))


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--idl", required=True, help="the idl/ directory")
    ap.add_argument("--datamodel", required=True, help="xenapi-datamodel.json")
    ap.add_argument("-v", "--verbose", action="store_true")
    ARGS = ap.parse_args()
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    suite.addTests(loader.loadTestsFromTestCase(StrictFormat))
    suite.addTests(loader.loadTestsFromTestCase(AgainstDatamodel))
    res = unittest.TextTestRunner(verbosity=2 if ARGS.verbose else 1).run(suite)
    if not res.wasSuccessful():
        return 1
    if not os.path.exists(ARGS.datamodel):
        print("SKIP: ../shared/spec/xenapi-datamodel.json not found")
        return SKIP_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main())
