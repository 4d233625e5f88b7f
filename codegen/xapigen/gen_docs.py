"""gen_docs.py: api.md (a readable reference of what is served) and the
model dump used by the golden tests."""


def _sig(m):
    ps = ", ".join("%s %s%s" % (p.type.spelling, p.name,
                                (" = %s" % _json(p.default)) if p.has_default else "")
                   for p in m.params)
    if m.session:
        ps = "session ref session" + (", " + ps if ps else "")
    return "%s(%s) -> %s" % (m.name, ps, m.result.spelling if m.result else "void")


def _json(v):
    import json
    return json.dumps(v, sort_keys=True)


def api_md(model):
    o = ["# xapi-gateway API reference\n\n",
         "Generated from idl/ by codegen/xapigen.py. Wire names, types and qualifiers\n"
         "follow XAPI; implicit messages are marked *(implicit)*.\n\n"]
    for cls in model.classes:
        o.append("## %s\n\n%s\n\n" % (cls.name, cls.doc))
        for e in cls.enums:
            o.append("**enum %s**: %s\n\n" % (e.name, e.doc))
            for v, d in e.values:
                o.append("- `%s`: %s\n" % (v, d))
            o.append("\n")
        if cls.fields:
            o.append("| field | type | qualifier | doc |\n|---|---|---|---|\n")
            for f in cls.fields:
                q = f.qualifier + (" (internal)" if f.internal else "")
                o.append("| `%s` | `%s` | %s | %s |\n"
                         % (f.name, f.type.spelling, q, f.doc.replace("|", "\\|")))
            o.append("\n")
        for m in cls.messages:
            tags = []
            if m.implicit or (m.handwritten and m.field is None and
                              m.name in ("create", "destroy") and cls.constructor):
                tags.append("implicit")
            if m.is_async:
                tags.append("async")
            if m.hidden:
                tags.append("hidden")
            o.append("- `%s.%s`%s: %s\n" % (cls.name, _sig(m),
                                            (" *(%s)*" % ", ".join(tags)) if tags else "", m.doc))
            if m.errors:
                o.append("  Errors: %s.\n" % ", ".join("`%s`" % e for e in m.errors))
        o.append("\n")
    if model.errors:
        o.append("## Errors\n\n")
        for e in model.errors:
            o.append("- `%s [%s]`: %s\n" % (e.name, ", ".join(e.params), e.doc))
    return "".join(o)


def dump(model):
    """Compact, stable text of the checked model (golden .out files)."""
    o = []
    for e in model.errors:
        o.append("error %s [%s]\n" % (e.name, ", ".join(e.params)))
    for n in model.external:
        o.append("external %s\n" % n)
    for cls in model.classes:
        flags = [k for k in ("events", "get_all", "constructor", "persist", "implicit")
                 if getattr(cls, k)]
        o.append("class %s [%s]\n" % (cls.name, " ".join(flags)))
        for e in cls.enums:
            o.append("  enum %s: %s\n" % (e.name, " ".join(v for v, _ in e.values)))
        for f in cls.fields:
            extra = []
            if f.has_default:
                extra.append("default=" + _json(f.default))
            for k in ("setters", "effect", "internal"):
                if getattr(f, k):
                    extra.append(k)
            if f.maintained_by:
                extra.append("maintained_by=" + f.maintained_by)
            if f.inverse and not f.maintained_by:
                extra.append("inverse=%s.%s" % f.inverse)
            o.append("  field %s: %s %s%s\n" % (f.name, f.type.spelling, f.qualifier,
                                                ("  " + " ".join(extra)) if extra else ""))
        for m in cls.messages:
            kind = ("implicit " + m.implicit) if m.implicit else "handler"
            flags = [k for k, v in (("async", m.is_async), ("stream", m.stream),
                                    ("hidden", m.hidden), ("no-session", not m.session)) if v]
            o.append("  message %s  [%s%s]\n" % (_sig(m), kind,
                                                 (" " + " ".join(flags)) if flags else ""))
    for r in model.xe_records:
        o.append("xe record %s\n" % r.cls)
        for f in r.fields:
            flags = [k for k in ("hidden", "deprecated") if getattr(f, k)]
            o.append("  %s <- %s%s%s\n" % (f.xe, (f.via + ".") if f.via else "", f.field,
                                           (" [" + " ".join(flags) + "]") if flags else ""))
    return "".join(o)
