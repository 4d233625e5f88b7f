"""gen_types.py: xapi_types.h/.c: enums, record structs, type/field/class
descriptors, field-index constants, typed setters and lookups."""
from .cnames import enum_value_cname
from .emit import (BANNER, KIND, STORAGE, StorageEmitter, comment, cstr, type_cname)
from .model import cname


def all_types(model):
    """Every type spelling any field, parameter or result uses, inner first."""
    seen = {}
    for cls in model.classes:
        ts = [f.type for f in cls.fields]
        for m in cls.messages:
            ts += [p.type for p in m.params]
            if m.result is not None:
                ts.append(m.result)
        for t in ts:
            for sub in t.walk():
                seen.setdefault(sub.spelling, sub)
    depth = lambda t: sum(1 for _ in t.walk())
    return sorted(seen.values(), key=lambda t: (depth(t), t.spelling))


def tref(t):
    return "&xapi_type_" + type_cname(t)


def field_macro(cls, f):
    return "XAPI_%s_F_%s" % (cls.cname.upper(), f.cname.upper())


def setter_param(model, t):
    k = t.kind
    if k in ("string", "ref"):
        return "const char *"
    if k in ("set", "map"):
        return "const xg_%s *" % k
    return STORAGE[k]


def gen_header(model):
    o = [BANNER, "/* xapi_types.h: C view of the served classes (records, enums, descriptors).\n"
         " * Records belong to the store (store.h); change them only through the\n"
         " * typed setters (or xg_store_set), which keep indexes and events right. */\n",
         "#ifndef XAPI_TYPES_H\n#define XAPI_TYPES_H\n\n",
         "#include <stdbool.h>\n#include <stdint.h>\n#include <string.h>\n\n",
         '#include "desc.h"\n#include "store.h"\n\n']
    o.append("/* ---- enums ---- */\n\n")
    for e in sorted(model.enums.values(), key=lambda e: e.name):
        ec = cname(e.name)
        o.append(comment(e.doc))
        o.append("enum xapi_%s {\n" % ec)
        for v, doc in e.values:
            o.append("    XAPI_%s_%s,\n" % (ec.upper(), enum_value_cname(v)))
        o.append("    XAPI_%s__MAX\n};\n" % ec.upper())
        o.append("extern const xg_enum_desc xapi_enum_%s;\n" % ec)
        o.append("const char *xapi_%s_to_str(int v);   /* wire spelling; \"\" if out of range */\n" % ec)
        o.append("int xapi_%s_from_str(const char *s);  /* case-insensitive; -1 if unknown */\n\n" % ec)
    o.append("/* ---- type descriptors ---- */\n\n")
    for t in all_types(model):
        o.append("extern const xg_type xapi_type_%s;   /* %s */\n" % (type_cname(t), t.spelling))
    o.append("\n/* ---- classes ---- */\n\n")
    for cls in model.classes:
        o.append("extern const xg_class_desc xapi_class_%s;\n" % cls.cname)
        if cls.fields:
            o.append("extern const xg_field_desc xapi_fields_%s[%d];\n"
                     % (cls.cname, len(cls.fields)))
    o.append("\n")
    for cls in model.classes:
        cc = cls.cname
        o.append(comment("%s: %s" % (cls.name, cls.doc)))
        o.append("typedef struct xapi_%s {\n    xg_obj obj;\n" % cc)
        for f in cls.fields:
            st = STORAGE[f.type.kind]
            sep = "" if st.endswith("*") else " "
            o.append("    %s%s%s;%s\n" % (st, sep, f.cname,
                                          "   /* internal */" if f.internal else ""))
        if not cls.fields:
            o.append("    char unused_;   /* no fields */\n")
        o.append("} xapi_%s;\n\n" % cc)
        o.append("enum {   /* indexes into xapi_class_%s.fields */\n" % cc)
        for f in cls.fields:
            o.append("    %s,\n" % field_macro(cls, f))
        o.append("    XAPI_%s_F__COUNT\n};\n\n" % cc.upper())
        o.append("static inline xapi_%s *xapi_%s_get(const char *ref)\n{\n"
                 "    return (xapi_%s *)xg_store_get(&xapi_class_%s, ref);\n}\n" % (cc, cc, cc, cc))
        o.append("static inline xapi_%s *xapi_%s_new(void)\n{\n"
                 "    return (xapi_%s *)xg_obj_new(&xapi_class_%s);\n}\n" % (cc, cc, cc, cc))
        for f in cls.fields:
            if f.maintained_by:
                continue    # the store keeps it
            pt = setter_param(model, f.type)
            sep = "" if pt.endswith("*") else " "
            fld = "&xapi_class_%s.fields[%s]" % (cc, field_macro(cls, f))
            o.append("static inline void xapi_%s_set_%s(xapi_%s *o, %s%sv)\n{\n"
                     % (cc, f.cname, cc, pt, sep))
            k = f.type.kind
            if k == "ref":
                o.append("    xg_ref r;\n    size_t n = strlen(v);\n"
                         "    if (n >= sizeof(r.s))\n        n = sizeof(r.s) - 1;\n"
                         "    memcpy(r.s, v, n);\n    r.s[n] = '\\0';\n"
                         "    xg_store_set(o, %s, &r);\n" % fld)
            elif k in ("set", "map"):
                o.append("    xg_store_set(o, %s, v);\n" % fld)
            else:
                o.append("    xg_store_set(o, %s, &v);\n" % fld)
            o.append("}\n")
        o.append("\n")
    o.append("#endif\n")
    return "".join(o)


def gen_source(model):
    o = [BANNER, "/* xapi_types.c: enum tables and the descriptors generic code walks. */\n",
         "#include <stddef.h>\n#include <strings.h>\n\n", '#include "xapi_types.h"\n',
         '#include "marshal.h"\n\n']
    for e in sorted(model.enums.values(), key=lambda e: e.name):
        ec = cname(e.name)
        o.append("static const char *const enum_%s_values[] = {\n" % ec)
        for v, _ in e.values:
            o.append("    %s,\n" % cstr(v))
        o.append("};\n")
        o.append("const xg_enum_desc xapi_enum_%s = {%s, enum_%s_values, %d};\n"
                 % (ec, cstr(e.name), ec, len(e.values)))
        o.append("const char *xapi_%s_to_str(int v)\n{\n"
                 "    return v >= 0 && v < %d ? enum_%s_values[v] : \"\";\n}\n"
                 % (ec, len(e.values), ec))
        o.append("int xapi_%s_from_str(const char *s)\n{\n"
                 "    return xg_enum_from_str(&xapi_enum_%s, s);\n}\n\n" % (ec, ec))
    for t in all_types(model):
        elem = tref(t.elem) if t.elem else "NULL"
        key = tref(t.key) if t.key else "NULL"
        enm = "&xapi_enum_%s" % cname(t.name) if t.kind == "enum" else "NULL"
        clsn = cstr(t.name) if t.kind in ("ref", "record") else "NULL"
        served = t.kind in ("ref", "record") and model.cls(t.name) is not None
        clsd = "&xapi_class_%s" % cname(t.name) if served else "NULL"
        o.append("const xg_type xapi_type_%s = {%s, %s, %s, %s, %s, %s, %s};\n"
                 % (type_cname(t), KIND[t.kind], cstr(t.spelling), elem, key, enm, clsn, clsd))
    o.append("\n")
    for cls in model.classes:
        if cls.fields:
            pass    # declared in xapi_types.h
    o.append("\n")
    se = StorageEmitter()
    defaults = {}
    for cls in model.classes:
        for f in cls.fields:
            if f.has_default:
                name = "default_%s_%s" % (cls.cname, f.cname)
                defaults[(cls.name, f.name)] = se.define(name, f.type, f.default)
    o.extend(se.lines)
    o.append("\n")
    for cls in model.classes:
        cc = cls.cname
        if cls.fields:
            o.append("const xg_field_desc xapi_fields_%s[%d] = {\n" % (cc, len(cls.fields)))
            for f in cls.fields:
                qual = {"RW": "XG_Q_RW", "RO/constructor": "XG_Q_RO_CONSTRUCTOR",
                        "RO/runtime": "XG_Q_RO_RUNTIME"}[f.qualifier]
                flags = []
                if f.has_default:
                    flags.append("XG_F_HAS_DEFAULT")
                if f.internal:
                    flags.append("XG_F_INTERNAL")
                if cls.persist and f.persist:
                    flags.append("XG_F_PERSIST")
                if f.maintained_by:
                    flags.append("XG_F_MAINTAINED")
                dv = "&" + defaults[(cls.name, f.name)] if f.has_default else "NULL"
                if f.inverse:
                    oc = model.cls(f.inverse[0])
                    inv = "&xapi_fields_%s[%d]" % (oc.cname, oc.fields.index(oc.field(f.inverse[1])))
                    invc = "&xapi_class_%s" % oc.cname
                else:
                    inv = invc = "NULL"
                o.append("    {%s, %s, offsetof(xapi_%s, %s), %s, %s,\n     %s, %s, %s,\n     %s},\n"
                         % (cstr(f.name), tref(f.type), cc, f.cname, qual,
                            "|".join(flags) or "0", dv, inv, invc, cstr(f.doc)))
            o.append("};\n")
        flags = []
        if cls.events:
            flags.append("XG_C_EVENTS")
        if cls.get_all and cls.implicit:
            flags.append("XG_C_GET_ALL")
        if cls.persist:
            flags.append("XG_C_PERSIST")
        if cls.constructor:
            flags.append("XG_C_CTOR")
        if cls.implicit:
            flags.append("XG_C_STORED")
        uf = next((i for i, f in enumerate(cls.fields) if f.name == "uuid"), -1)
        nf = next((i for i, f in enumerate(cls.fields)
                   if f.name == "name_label" and f.type.kind == "string"), -1)
        o.append("const xg_class_desc xapi_class_%s = {\n    %s, %s, %d, %s,\n"
                 "    sizeof(xapi_%s), %s, %d, %d, %d,\n};\n\n"
                 % (cc, cstr(cls.name), cstr(cls.name.lower()), model.classes.index(cls),
                    "|".join(flags) or "0", cc, ("xapi_fields_" + cc) if cls.fields else "NULL",
                    len(cls.fields), uf, nf))
    o.append("const xg_class_desc *const xg_classes[] = {\n")
    for cls in model.classes:
        o.append("    &xapi_class_%s,\n" % cls.cname)
    if not model.classes:
        o.append("    NULL,\n")
    o.append("};\nconst uint32_t xg_nclasses = %d;\n" % len(model.classes))
    return "".join(o)
