"""gen_marshal.py: handler prototypes (xapi_handlers.h) and the marshallers
that decode params, call them and hand the result to xg_call_return
(xapi_marshal.h, xapi_marshal_<class>.c)."""
from .emit import BANNER, STORAGE, comment
from .gen_types import tref
from .model import cname


def served(model, t):
    return t.kind in ("ref", "record") and model.cls(t.name) is not None


def param_ctype(model, t):
    k = t.kind
    if k == "ref":
        return "xapi_%s *" % cname(t.name) if served(model, t) else "const char *"
    if k == "record":
        return "const xapi_%s *" % cname(t.name)
    if k == "string":
        return "const char *"
    if k in ("set", "map"):
        return "const xg_%s *" % k
    return STORAGE[k] + " "


def result_ctype(model, t):
    if t.kind == "record":
        return "const xapi_%s *" % cname(t.name)
    s = STORAGE[t.kind]
    return s if s.endswith("*") else s + " "


def handler_name(cls, m):
    return "handle_%s_%s" % (cls.cname, cname(m.name))


def marshal_name(cls, m):
    return "xapi_marshal_%s_%s" % (cls.cname, cname(m.name))


def handler_proto(model, cls, m):
    args = ["xg_call *c"]
    for p in m.params:
        args.append(param_ctype(model, p.type) + cname(p.name))
    if m.result is not None:
        args.append(result_ctype(model, m.result) + "*result_out")
    args.append("xg_err *err")
    head = "bool %s(" % handler_name(cls, m)
    lines, cur = [], head
    for i, a in enumerate(args):
        piece = a + (", " if i < len(args) - 1 else ");")
        if len(cur) + len(piece) > 80 and cur.strip() != head.strip():
            lines.append(cur.rstrip())
            cur = " " * len(head) + piece
        else:
            cur += piece
    lines.append(cur)
    return "\n".join(lines) + "\n"


def handwritten(model):
    for cls in model.classes:
        for m in cls.messages:
            if m.handwritten:
                yield cls, m


def gen_handlers_h(model):
    o = [BANNER, "/* xapi_handlers.h: every message a human writes (handlers/). A missing\n"
         " * body is a link error. Refs to served classes arrive resolved (the\n"
         " * marshaller raised HANDLE_INVALID); results go through *result_out. */\n",
         "#ifndef XAPI_HANDLERS_H\n#define XAPI_HANDLERS_H\n\n", '#include "call.h"\n',
         '#include "xapi_types.h"\n\n']
    for cls, m in handwritten(model):
        doc = "%s.%s: %s" % (cls.name, m.name, m.doc)
        if m.errors:
            doc += " Errors: " + ", ".join(m.errors) + "."
        if m.is_async:
            doc += " (Also Async.)"
        if m.stream:
            doc += " Streams its result (xg_call_stream)."
        o.append(comment(doc))
        o.append(handler_proto(model, cls, m) + "\n")
    o.append("#endif\n")
    return "".join(o)


def gen_marshal_h(model):
    o = [BANNER, "/* xapi_marshal.h: marshallers of hand-written messages, for the\n"
         " * dispatch table only. */\n#ifndef XAPI_MARSHAL_H\n#define XAPI_MARSHAL_H\n\n"
         '#include "marshal.h"\n\n']
    for cls, m in handwritten(model):
        o.append("bool %s(xg_call *c, const xg_value *p, const void *data, xg_err *err);\n"
                 % marshal_name(cls, m))
    o.append("\n#endif\n")
    return "".join(o)


def gen_marshal_c(model, cls):
    o = [BANNER, "/* xapi_marshal_%s.c: decode params, call handle_%s_*, return. */\n"
         % (cls.cname, cls.cname), '#include "xapi_handlers.h"\n#include "xapi_marshal.h"\n\n']
    for m in cls.messages:
        if not m.handwritten:
            continue
        o.append("bool %s(xg_call *c, const xg_value *p, const void *data, xg_err *err)\n{\n"
                 % marshal_name(cls, m))
        call = ["c"]
        for i, p in enumerate(m.params):
            n, t = cname(p.name), p.type
            if t.kind == "ref" and served(model, t):
                o.append("    xapi_%s *%s;\n" % (cname(t.name), n))
            else:
                s = STORAGE[t.kind]
                o.append("    %s%s%s;\n" % (s, "" if s.endswith("*") else " ", n))
        if m.result is not None:
            rt = result_ctype(model, m.result)
            init = "NULL" if rt.strip().endswith("*") else "{0}"
            o.append("    %sresult = %s;\n" % (rt, init))
        o.append("\n    (void)data;\n")
        for i, p in enumerate(m.params):
            n, t = cname(p.name), p.type
            if t.kind == "ref" and served(model, t):
                nullable = p.has_default and p.default in ("", "OpaqueRef:NULL")
                o.append("    if (!xg_decode_obj(c, &xapi_class_%s, &p[%d], %s, (void **)&%s, err))\n"
                         "        return false;\n"
                         % (cname(t.name), i, "true" if nullable else "false", n))
                call.append(n)
            elif t.kind == "record":
                o.append("    if (!xg_decode(c, %s, &p[%d], &%s, err))\n        return false;\n"
                         % (tref(t), i, n))
                call.append("(const xapi_%s *)%s" % (cname(t.name), n))
            else:
                o.append("    if (!xg_decode(c, %s, &p[%d], &%s, err))\n        return false;\n"
                         % (tref(t), i, n))
                call.append("&" + n if t.kind in ("set", "map") else
                            n + ".s" if t.kind == "ref" else n)
        if m.result is not None:
            call.append("&result")
        call.append("err")
        o.append("    if (!%s(%s))\n        return false;\n" % (handler_name(cls, m), ", ".join(call)))
        o.append("    xg_call_return(c, %s);\n    return true;\n}\n\n"
                 % ("&result" if m.result is not None else "NULL"))
    if not any(m.handwritten for m in cls.messages):
        o.append("/* %s has no hand-written messages. */\n" % cls.name)
    return "".join(o)
