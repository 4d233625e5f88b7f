"""load.py: reads idl/ strictly and builds the model.

Every object has a closed key set; names, types, enum and class references,
defaults and C-name clashes are checked here so that the backends can trust
the model. Diagnostics carry `file:line` of the offending key, found by
searching the JSON text (json does not keep positions)."""
import json
import os
import re

from . import typegrammar
from .model import (Class, Enum, Error, Field, IdlError, Message, Model, Param,
                    Type, XeField, XeRecord, cname)
from . import cnames, implicit

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ENUM_VALUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]*$")
DATETIME_RE = re.compile(r"^\d{8}T\d\d:\d\d:\d\dZ$")
QUALIFIERS = ("RW", "RO/constructor", "RO/runtime")

CLASS_KEYS = {"class", "doc", "events", "get_all", "constructor", "persist",
              "implicit", "enums", "fields", "messages"}
ENUM_KEYS = {"name", "doc", "values"}
FIELD_KEYS = {"name", "type", "qualifier", "doc", "default", "setters",
              "effect", "maintained_by", "internal", "persist"}
MSG_KEYS = {"name", "doc", "params", "result", "errors", "async", "session",
            "stream"}
PARAM_KEYS = {"name", "type", "doc", "default"}
ERROR_KEYS = {"name", "params", "doc"}


class Src:
    """One JSON file: its data and a locator for diagnostics."""

    def __init__(self, path, display):
        self.path, self.display = path, display
        with open(path, encoding="utf-8") as f:
            self.text = f.read()
        try:
            self.data = json.loads(self.text, object_pairs_hook=self._pairs)
        except json.JSONDecodeError as e:
            raise IdlError("%s:%d" % (display, e.lineno), "invalid JSON: " + e.msg)

    def _pairs(self, pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                raise IdlError(self.at(self._keyre(k), self._keyre(k)),
                               "duplicate key '%s'" % k)
            seen[k] = v
        return seen

    @staticmethod
    def _keyre(key, value=None):
        r = r'"%s"\s*:' % re.escape(key)
        if value is not None:
            r += r'\s*' + re.escape(json.dumps(value))
        return r

    def at(self, *patterns):
        """file:line of the last pattern, each searched after the previous."""
        pos = line_pos = 0
        for p in patterns:
            if p is None:
                continue
            m = re.compile(p).search(self.text, pos)
            if not m:
                break
            line_pos, pos = m.start(), m.end()
        pos = line_pos
        return "%s:%d" % (self.display, self.text.count("\n", 0, pos) + 1)


def _err(where, msg):
    raise IdlError(where, msg)


def _check_keys(src, obj, allowed, what, anchor):
    if not isinstance(obj, dict):
        _err(src.at(*anchor), "%s must be an object" % what)
    for k in sorted(obj):
        if k not in allowed:
            _err(src.at(*anchor, Src._keyre(k)), "%s has unknown key '%s'" % (what, k))


def _need(src, obj, key, typ, what, anchor):
    if key not in obj:
        _err(src.at(*anchor), "%s lacks '%s'" % (what, key))
    v = obj[key]
    if typ is bool:
        ok = isinstance(v, bool)
    elif typ is str:
        ok = isinstance(v, str)
    else:
        ok = isinstance(v, typ) and not isinstance(v, bool)
    if not ok:
        _err(src.at(*anchor, Src._keyre(key)), "%s: '%s' must be %s"
             % (what, key, {bool: "a bool", str: "a string", list: "a list"}.get(typ, "valid")))
    return v


def _opt(src, obj, key, typ, dflt, what, anchor):
    if key not in obj:
        return dflt
    return _need(src, obj, key, typ, what, anchor)


def _name(src, obj, what, anchor, key="name"):
    n = _need(src, obj, key, str, what, anchor)
    if not NAME_RE.match(n):
        _err(src.at(*anchor, Src._keyre(key)), "%s name '%s' is not an identifier" % (what, n))
    return n


def load(idl_dir):
    classes_dir = os.path.join(idl_dir, "classes")
    files = sorted(f for f in os.listdir(classes_dir) if f.endswith(".json")) \
        if os.path.isdir(classes_dir) else []
    external = []
    ext_path = os.path.join(idl_dir, "external.json")
    if os.path.exists(ext_path):
        src = Src(ext_path, "external.json")
        _check_keys(src, src.data, {"classes"}, "external.json", [])
        external = _opt(src, src.data, "classes", list, [], "external.json", [])
        for n in external:
            if not isinstance(n, str) or not NAME_RE.match(n):
                _err(src.at(), "external class %r is not an identifier" % (n,))
        if len(set(external)) != len(external):
            dup = sorted(n for n in external if external.count(n) > 1)[0]
            _err(src.at(re.escape(json.dumps(dup))), "duplicate external class '%s'" % dup)
    errors = []
    err_path = os.path.join(idl_dir, "errors.json")
    if os.path.exists(err_path):
        errors = _load_errors(Src(err_path, "errors.json"))

    srcs, raw = {}, []
    for fn in files:
        src = Src(os.path.join(classes_dir, fn), "classes/" + fn)
        cls = _load_class(src)
        if cls.name + ".json" != fn:
            _err(src.at(Src._keyre("class")), "class '%s' must live in %s.json"
                 % (cls.name, cls.name))
        srcs[cls.name] = src
        raw.append(cls)
    raw.sort(key=lambda c: c.name)
    model = Model(classes=raw, enums={}, errors=errors, external=external)
    _resolve(model, srcs)
    for cls in model.classes:
        implicit.derive(model, cls, srcs[cls.name])
    cnames.check(model, srcs)
    xe_path = os.path.join(idl_dir, "xe_records.json")
    if os.path.exists(xe_path):
        model.xe_records = _load_xe_records(Src(xe_path, "xe_records.json"), model)
    return model


XE_FLAGS = {"hidden", "deprecated", "unserved", "empty"}


def _xe_target(model, cls, path):
    """(field, via) that path names on cls ("f" or "ref_field.f"), or None."""
    parts = path.split(".")
    own = cls.field(parts[0])
    if own is None or len(parts) > 2:
        return None
    if len(parts) == 1:
        return (own.name, None)
    target = model.cls(own.type.name) if own.type.kind == "ref" else None
    f = target.field(parts[1]) if target else None
    return (f.name, own.name) if f else None


def _load_xe_records(src, model):
    """xe's hand-made records: every entry names a served field, or says it does not
    (unserved), so the table follows records.ml and stays checked."""
    _check_keys(src, src.data, {"doc", "records"}, "xe_records.json", [])
    records = _need(src, src.data, "records", dict, "xe_records.json", [])
    out = []
    for cname_, rows in records.items():
        anchor = [Src._keyre(cname_)]
        cls = model.cls(cname_)
        if cls is None:
            _err(src.at(*anchor), "xe record of '%s', a class the IDL does not serve" % cname_)
        if not isinstance(rows, list):
            _err(src.at(*anchor), "xe record of '%s' must be a list" % cname_)
        fields, seen = [], set()
        for row in rows:
            if not (isinstance(row, list) and len(row) >= 2 and
                    all(isinstance(x, str) for x in row)):
                _err(src.at(*anchor), "%s: entry %r is not [xe name, path, flags...]"
                     % (cname_, row))
            xe, path, flags = row[0], row[1], set(row[2:])
            where = src.at(*anchor, re.escape(json.dumps(xe)))
            if not xe or xe in seen:
                _err(where, "%s: xe name '%s' empty or twice" % (cname_, xe))
            seen.add(xe)
            if flags - XE_FLAGS:
                _err(where, "%s.%s: unknown flag '%s'" % (cname_, xe, sorted(flags - XE_FLAGS)[0]))
            t = _xe_target(model, cls, path)
            if t is None and "unserved" not in flags:
                _err(where, "%s.%s: '%s' names no served field (mark it unserved)"
                     % (cname_, xe, path))
            if t is not None and "unserved" in flags:
                _err(where, "%s.%s: '%s' is served now: drop 'unserved'" % (cname_, xe, path))
            own_empty = cls.field("empty")
            if "empty" in flags and not (own_empty and own_empty.type.kind == "bool"):
                _err(where, "%s.%s: flag 'empty' needs a bool field 'empty' on %s"
                     % (cname_, xe, cname_))
            if t is not None:
                fields.append(XeField(xe=xe, field=t[0], via=t[1], hidden="hidden" in flags,
                                      deprecated="deprecated" in flags, empty="empty" in flags))
        out.append(XeRecord(cls=cname_, fields=fields))
    return sorted(out, key=lambda r: r.cls)


def _load_errors(src):
    if not isinstance(src.data, list):
        _err(src.at(), "errors.json must be a list")
    out, seen = [], set()
    for e in src.data:
        anchor = [Src._keyre("name", e.get("name"))] if isinstance(e, dict) else []
        _check_keys(src, e, ERROR_KEYS, "error", anchor)
        name = _need(src, e, "name", str, "error", anchor)
        if not re.match(r"^[A-Z][A-Z0-9_]*$", name):
            _err(src.at(*anchor), "error name '%s' must be UPPER_CASE" % name)
        if name in seen:
            _err(src.at(*anchor), "duplicate error '%s'" % name)
        seen.add(name)
        params = _need(src, e, "params", list, "error " + name, anchor)
        for p in params:
            if not isinstance(p, str) or not NAME_RE.match(p):
                _err(src.at(*anchor, Src._keyre("params")),
                     "error %s: parameter %r is not an identifier" % (name, p))
            if p in cnames.C_KEYWORDS or p == "err":
                _err(src.at(*anchor, Src._keyre("params")),
                     "error %s: parameter '%s' is a reserved C name" % (name, p))
        if len(set(params)) != len(params):
            _err(src.at(*anchor), "error %s: duplicate parameter" % name)
        if len(params) > 8:
            _err(src.at(*anchor), "error %s: more than 8 parameters" % name)
        doc = _need(src, e, "doc", str, "error " + name, anchor)
        out.append(Error(name, params, doc, src.at(*anchor)))
    out.sort(key=lambda e: e.name)
    return out


def _load_class(src):
    d = src.data
    _check_keys(src, d, CLASS_KEYS, "class", [])
    name = _name(src, d, "class", [], key="class")
    cls = Class(name=name, doc=_need(src, d, "doc", str, "class " + name, []),
                where=src.at(Src._keyre("class")))
    for key in ("events", "get_all", "constructor", "persist", "implicit"):
        setattr(cls, key, _opt(src, d, key, bool, getattr(cls, key), "class " + name, []))
    for e in _opt(src, d, "enums", list, [], "class " + name, []):
        anchor = [Src._keyre("enums"), Src._keyre("name", e.get("name"))] \
            if isinstance(e, dict) else [Src._keyre("enums")]
        _check_keys(src, e, ENUM_KEYS, "enum", anchor)
        en = _name(src, e, "enum", anchor)
        vals = _need(src, e, "values", list, "enum " + en, anchor)
        if not vals:
            _err(src.at(*anchor), "enum %s has no values" % en)
        values, seen = [], set()
        for v in vals:
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)):
                _err(src.at(*anchor, Src._keyre("values")),
                     "enum %s: each value must be [\"wire\", \"doc\"]" % en)
            if not ENUM_VALUE_RE.match(v[0]):
                _err(src.at(*anchor, re.escape(json.dumps(v[0]))),
                     "enum %s: bad value '%s'" % (en, v[0]))
            if v[0].lower() in seen:
                _err(src.at(*anchor, re.escape(json.dumps(v[0]))),
                     "enum %s: duplicate value '%s' (values are matched case-insensitively)"
                     % (en, v[0]))
            seen.add(v[0].lower())
            values.append((v[0], v[1]))
        cls.enums.append(Enum(en, _need(src, e, "doc", str, "enum " + en, anchor),
                              values, name, src.at(*anchor)))
    seen = set()
    for f in _opt(src, d, "fields", list, [], "class " + name, []):
        anchor = [Src._keyre("fields"), Src._keyre("name", f.get("name"))] \
            if isinstance(f, dict) else [Src._keyre("fields")]
        _check_keys(src, f, FIELD_KEYS, "field", anchor)
        fn = _name(src, f, "field", anchor)
        if fn in seen:
            _err(src.at(*anchor), "duplicate field '%s'" % fn)
        seen.add(fn)
        what = "field %s.%s" % (name, fn)
        fld = Field(name=fn, type=_type(src, f, "type", what, anchor),
                    qualifier=_need(src, f, "qualifier", str, what, anchor),
                    doc=_need(src, f, "doc", str, what, anchor), where=src.at(*anchor))
        if fld.qualifier not in QUALIFIERS:
            _err(src.at(*anchor, Src._keyre("qualifier")),
                 "%s: unknown qualifier '%s'" % (what, fld.qualifier))
        if "default" in f:
            fld.default, fld.has_default = f["default"], True
        for key in ("setters", "effect", "internal"):
            setattr(fld, key, _opt(src, f, key, bool, False, what, anchor))
        fld.persist = _opt(src, f, "persist", bool, True, what, anchor)
        fld.maintained_by = _opt(src, f, "maintained_by", str, None, what, anchor)
        fld.anchor = anchor
        cls.fields.append(fld)
    seen = set()
    for m in _opt(src, d, "messages", list, [], "class " + name, []):
        anchor = [Src._keyre("messages"), Src._keyre("name", m.get("name"))] \
            if isinstance(m, dict) else [Src._keyre("messages")]
        _check_keys(src, m, MSG_KEYS, "message", anchor)
        mn = _name(src, m, "message", anchor)
        if mn in seen:
            _err(src.at(*anchor), "duplicate message '%s'" % mn)
        seen.add(mn)
        what = "message %s.%s" % (name, mn)
        msg = Message(name=mn, doc=_need(src, m, "doc", str, what, anchor), params=[],
                      result=_type(src, m, "result", what, anchor) if "result" in m else None,
                      where=src.at(*anchor))
        msg.anchor = anchor
        msg.is_async = _opt(src, m, "async", bool, False, what, anchor)
        msg.session = _opt(src, m, "session", bool, True, what, anchor)
        msg.stream = _opt(src, m, "stream", bool, False, what, anchor)
        msg.errors = _opt(src, m, "errors", list, [], what, anchor)
        pseen, defaulted = set(), False
        for p in _opt(src, m, "params", list, [], what, anchor):
            panchor = anchor + [Src._keyre("name", p.get("name"))] \
                if isinstance(p, dict) else anchor
            _check_keys(src, p, PARAM_KEYS, "parameter", panchor)
            pn = _name(src, p, "parameter", panchor)
            if pn in pseen:
                _err(src.at(*panchor), "%s: duplicate parameter '%s'" % (what, pn))
            pseen.add(pn)
            prm = Param(pn, _type(src, p, "type", what, panchor),
                        _opt(src, p, "doc", str, "", what, panchor))
            if "default" in p:
                prm.default, prm.has_default, defaulted = p["default"], True, True
            elif defaulted:
                _err(src.at(*panchor), "%s: parameter '%s' without default follows a "
                     "defaulted one (defaults must be trailing)" % (what, pn))
            prm.anchor = panchor
            msg.params.append(prm)
        cls.messages.append(msg)
    return cls


def _type(src, obj, key, what, anchor):
    v = _need(src, obj, key, str, what, anchor)
    try:
        return typegrammar.parse_type(v)
    except ValueError as e:
        _err(src.at(*anchor, Src._keyre(key)), "%s: %s" % (what, e))


def _resolve(model, srcs):
    """Second pass: names referred to exist, defaults fit their types."""
    served = {c.name for c in model.classes}
    for n in model.external:
        if n in served:
            _err("external.json:1", "class '%s' is both served and external" % n)
    for cls in model.classes:
        for e in cls.enums:
            if e.name in model.enums:
                _err(e.where, "enum '%s' already defined in class %s"
                     % (e.name, model.enums[e.name].owner))
            model.enums[e.name] = e
    err_names = {e.name for e in model.errors}
    for cls in model.classes:
        src = srcs[cls.name]
        for f in cls.fields:
            what = "field %s.%s" % (cls.name, f.name)
            where = src.at(*f.anchor, Src._keyre("type"))
            _check_type(model, f.type, what, where, served, in_field=True)
            if f.has_default:
                check_default(model, f.type, f.default, what,
                              src.at(*f.anchor, Src._keyre("default")))
            if f.effect and not f.writable:
                _err(src.at(*f.anchor, Src._keyre("effect")),
                     "%s: 'effect' needs a field with setters (RW or 'setters')" % what)
            if f.setters and f.qualifier == "RW":
                _err(src.at(*f.anchor, Src._keyre("setters")),
                     "%s: 'setters' is implied by RW" % what)
            if f.internal and (f.setters or f.effect):
                _err(src.at(*f.anchor, Src._keyre("internal")),
                     "%s: internal fields have no setters" % what)
            if not f.persist and not cls.persist:
                _err(src.at(*f.anchor, Src._keyre("persist")),
                     "%s: 'persist' only applies in a persist class" % what)
            if f.maintained_by is not None:
                _maintained(model, cls, f, src)
        if cls.name == "event" or not cls.implicit:
            pass
        for m in cls.messages:
            what = "message %s.%s" % (cls.name, m.name)
            for p in m.params:
                _check_type(model, p.type, what, src.at(*p.anchor, Src._keyre("type")),
                            served, in_field=False)
                if p.has_default:
                    check_default(model, p.type, p.default, what + " parameter " + p.name,
                                  src.at(*p.anchor, Src._keyre("default")))
                if p.type.kind == "record" and p.has_default:
                    _err(src.at(*p.anchor), "%s: a record parameter cannot have a default" % what)
            if m.result is not None:
                _check_type(model, m.result, what, src.at(*m.anchor, Src._keyre("result")),
                            served, in_field=False, streamed=m.stream)
            for e in m.errors:
                if not isinstance(e, str) or e not in err_names:
                    _err(src.at(*m.anchor, Src._keyre("errors")),
                         "%s: unknown error '%s'" % (what, e))
            if len(m.params) > 60:
                _err(m.where, "%s: too many parameters" % what)
    # inverse links of relations
    for cls in model.classes:
        for f in cls.fields:
            if f.maintained_by:
                oc, of = f.maintained_by.split(".", 1)
                other = model.cls(oc).field(of)
                f.inverse = (oc, of)
                other.inverse = (cls.name, f.name)


def _check_type(model, t, what, where, served, in_field, streamed=False):
    for sub in t.walk():
        if sub.kind == "enum" and sub.name not in model.enums:
            _err(where, "%s: unknown enum '%s'" % (what, sub.name))
        if sub.kind == "ref" and sub.name not in served and sub.name not in model.external:
            _err(where, "%s: unknown class '%s' (neither served nor in external.json)"
                 % (what, sub.name))
        if sub.kind == "record":
            if sub.name not in served:
                _err(where, "%s: record of unserved class '%s'" % (what, sub.name))
            whole = sub is t or (t.kind == "set" and sub is t.elem)
            # (ref -> record) maps exist only as results a handler streams
            # itself (message.get_since): no C type is ever made for them
            whole = whole or (streamed and t.kind == "map" and sub is t.elem)
            if in_field or not whole:
                _err(where, "%s: a record may only be a whole parameter or result" % what)
        if sub.kind == "map" and sub.key.kind not in ("string", "int", "enum", "ref", "float",
                                                        "bool", "datetime"):
            _err(where, "%s: map keys must be scalars, not '%s'" % (what, sub.key.spelling))
        if sub.kind == "set" and (sub.elem.kind == "map" or
                                  (sub.elem.kind == "record" and (in_field or sub is not t))):
            _err(where, "%s: sets of '%s' are not supported" % (what, sub.elem.spelling))


def check_default(model, t, v, what, where):
    def bad(msg=None):
        _err(where, "%s: default %s does not fit type '%s'%s"
             % (what, json.dumps(v), t.spelling, (" (" + msg + ")") if msg else ""))
    k = t.kind
    if k == "string" or k == "ref":
        if not isinstance(v, str):
            bad()
        if k == "ref" and v not in ("", "OpaqueRef:NULL"):
            bad("ref defaults are \"OpaqueRef:NULL\" or \"\"")
    elif k == "enum":
        if not isinstance(v, str) or v not in [x[0] for x in model.enums[t.name].values]:
            bad("not a value of enum %s" % t.name)
    elif k == "datetime":
        if not isinstance(v, str) or not DATETIME_RE.match(v):
            bad("datetimes are written YYYYMMDDTHH:MM:SSZ")
    elif k == "int":
        if not isinstance(v, int) or isinstance(v, bool) or not -2**63 <= v < 2**63:
            bad()
    elif k == "float":
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            bad()
    elif k == "bool":
        if not isinstance(v, bool):
            bad()
    elif k == "set":
        if not isinstance(v, list):
            bad()
        for x in v:
            check_default(model, t.elem, x, what, where)
    elif k == "map":
        if not isinstance(v, dict):
            bad()
        for kk, x in v.items():
            check_default(model, t.key, _key_value(t.key, kk, bad), what, where)
            check_default(model, t.elem, x, what, where)
    else:
        bad()


def _key_value(kt, s, bad):
    """Map keys are JSON strings; int/float/bool keys are written as text."""
    try:
        if kt.kind == "int":
            return int(s)
        if kt.kind == "float":
            return float(s)
        if kt.kind == "bool":
            return {"true": True, "false": False}[s]
    except (ValueError, KeyError):
        bad("bad map key '%s'" % s)
    return s


def _maintained(model, cls, f, src):
    what = "field %s.%s" % (cls.name, f.name)
    where = src.at(*f.anchor, Src._keyre("maintained_by"))
    parts = f.maintained_by.split(".")
    if len(parts) != 2:
        _err(where, "%s: maintained_by must be \"Class.field\"" % what)
    oc = model.cls(parts[0])
    if oc is None:
        _err(where, "%s: maintained_by names unknown class '%s'" % (what, parts[0]))
    of = oc.field(parts[1])
    if of is None:
        _err(where, "%s: maintained_by names unknown field '%s'" % (what, f.maintained_by))
    if not (f.type.kind == "set" and f.type.elem.kind == "ref" and f.type.elem.name == oc.name):
        _err(where, "%s: a maintained field must be a '%s ref set'" % (what, oc.name))
    ot = of.type
    if ot.kind == "set":
        ot = ot.elem
    if not (ot.kind == "ref" and ot.name == cls.name):
        _err(where, "%s: %s must be a '%s ref' or '%s ref set'"
             % (what, f.maintained_by, cls.name, cls.name))
    if of.maintained_by:
        _err(where, "%s: %s is itself maintained" % (what, f.maintained_by))
    if f.setters or f.qualifier == "RW":
        _err(where, "%s: a maintained field has no setters (make it RO/runtime)" % what)
    if of.inverse is not None:
        _err(where, "%s: %s already maintains %s.%s" % (what, f.maintained_by, *of.inverse))
    of.inverse = (cls.name, f.name)
