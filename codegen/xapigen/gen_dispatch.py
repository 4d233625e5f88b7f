"""gen_dispatch.py: xapi_dispatch.c: the sorted method table with Class.msg,
the hidden Class_msg form and Async.Class.msg, plus parameter defaults."""
from .emit import BANNER, ValueEmitter, cstr
from .gen_marshal import marshal_name
from .gen_types import field_macro, tref
from .model import cname


class Row:
    def __init__(self, name, sync_name, fn, data, m, flags):
        self.name, self.sync_name, self.fn, self.data, self.m = name, sync_name, fn, data, m
        self.flags = flags


def rows(model):
    out = []
    for cls in model.classes:
        for m in cls.messages:
            if m.handwritten:
                fn, data = marshal_name(cls, m), "NULL"
            else:
                fn = "xg_implicit_" + m.implicit
                ci = model.classes.index(cls)
                data = "&impl_c%d%s" % (ci, ("_f%d" % cls.fields.index(m.field))
                                         if m.field else "")
            flags = []
            if m.session:
                flags.append("XG_M_SESSION")
            if m.is_async:
                flags.append("XG_M_TASK")
            if m.stream:
                flags.append("XG_M_STREAM")
            sync = "%s.%s" % (cls.name, m.name)
            hid = ["XG_M_HIDDEN"] if m.hidden else []
            out.append(Row(sync, sync, fn, data, m, flags + hid))
            out.append(Row("%s_%s" % (cls.name, m.name), sync, fn, data, m,
                           flags + ["XG_M_HIDDEN"]))
            if m.is_async:
                out.append(Row("Async." + sync, sync, fn, data, m,
                               flags + ["XG_M_ASYNC", "XG_M_HIDDEN"]))
    out.sort(key=lambda r: r.name.encode("utf-8"))
    for a, b in zip(out, out[1:]):
        if a.name == b.name:
            raise ValueError("duplicate wire method " + a.name)
    return out


def gen_source(model):
    o = [BANNER, "/* xapi_dispatch.c: every served wire method, sorted for bsearch. */\n",
         '#include "xapi_types.h"\n#include "xapi_marshal.h"\n\n']
    for cls in model.classes:
        if not cls.implicit:
            continue
        ci = model.classes.index(cls)
        o.append("static const xg_implicit impl_c%d = {&xapi_class_%s, NULL};   /* %s */\n"
                 % (ci, cls.cname, cls.name))
        for fi, f in enumerate(cls.fields):
            if f.internal:
                continue
            o.append("static const xg_implicit impl_c%d_f%d = {&xapi_class_%s, "
                     "&xapi_fields_%s[%s]};\n"
                     % (ci, fi, cls.cname, cls.cname, field_macro(cls, f)))
    o.append("\n")
    ve = ValueEmitter("default_items")
    defaults = {}
    for cls in model.classes:
        for m in cls.messages:
            dp = [p for p in m.params if p.has_default]
            if not dp:
                continue
            inits = [ve.value(p.type, p.default) for p in dp]
            name = "defaults_%s_%s" % (cls.cname, cname(m.name))
            ve.lines.append("static const xg_value %s[] = {\n    %s,\n};\n"
                            % (name, ",\n    ".join(inits)))
            defaults[id(m)] = name
    o.extend(ve.lines)
    o.append("\nconst xg_method xg_methods[] = {\n")
    rs = rows(model)
    for r in rs:
        m = r.m
        nd = sum(1 for p in m.params if p.has_default)
        o.append("    {%s, %s, %s, %s, %d, %d, %s, %s, %s},\n"
                 % (cstr(r.name), cstr(r.sync_name), r.fn, r.data, len(m.params), nd,
                    defaults.get(id(m), "NULL"), "|".join(r.flags) or "0",
                    tref(m.result) if m.result is not None else "NULL"))
    if not rs:
        o.append("    {NULL, NULL, NULL, NULL, 0, 0, NULL, 0, NULL},\n")
    o.append("};\nconst uint32_t xg_nmethods = %d;\n" % len(rs))
    return "".join(o)


def manifest(model):
    methods = []
    for r in rows(model):
        m = r.m
        methods.append({
            "name": r.name,
            "session": m.session,
            "params": [dict({"name": p.name, "type": p.type.spelling},
                            **({"default": p.default} if p.has_default else {}))
                       for p in m.params],
            "result": m.result.spelling if m.result is not None else None,
            "async": "XG_M_ASYNC" in r.flags,
            "hidden": "XG_M_HIDDEN" in r.flags,
            "implicit": m.implicit,
            "stream": m.stream,
        })
    classes = []
    for cls in model.classes:
        classes.append({
            "name": cls.name,
            "implicit": cls.implicit, "get_all": cls.get_all, "events": cls.events,
            "constructor": cls.constructor, "persist": cls.persist,
            "fields": [{"name": f.name, "type": f.type.spelling, "qualifier": f.qualifier,
                        "internal": f.internal} for f in cls.fields],
        })
    return {
        "counts": {"classes": len(model.classes),
                   "fields": sum(len(c.fields) for c in model.classes),
                   "methods": len(methods),
                   "listed_methods": sum(1 for m in methods if not m["hidden"]),
                   "errors": len(model.errors)},
        "classes": classes,
        "methods": methods,
        "errors": [{"name": e.name, "params": e.params} for e in model.errors],
    }
