"""cnames.py: C identifiers derived from wire names, and their clash checks.

Wire names are never changed; C names are the lowercase mangling
(model.cname). Two wire names that mangle alike, or a C keyword used as a
C name, are errors rather than silently renamed."""
from .model import IdlError, cname

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double",
    "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
    "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
    "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Alignas",
    "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn",
    "_Static_assert", "_Thread_local", "bool", "true", "false",
}
# Names the generated code itself uses inside records / handler signatures.
RESERVED_FIELDS = {"obj"}
RESERVED_PARAMS = {"c", "err", "result_out", "p", "data"}


def enum_value_cname(value):
    return cname(value).upper()


def check(model, srcs):
    seen = {}
    for cls in model.classes:
        c = cls.cname
        if c in seen:
            raise IdlError(cls.where, "class '%s' clashes with class '%s' in C (xapi_%s)"
                           % (cls.name, seen[c], c))
        seen[c] = cls.name
    enums = {}
    for e in sorted(model.enums.values(), key=lambda e: e.name):
        c = cname(e.name)
        if c in enums:
            raise IdlError(e.where, "enum '%s' clashes with enum '%s' in C" % (e.name, enums[c]))
        if c in seen:
            raise IdlError(e.where, "enum '%s' clashes with class '%s' in C" % (e.name, seen[c]))
        enums[c] = e.name
        vals = {}
        for v, _ in e.values:
            cv = enum_value_cname(v)
            if cv in vals:
                raise IdlError(e.where, "enum %s: values '%s' and '%s' clash in C"
                               % (e.name, vals[cv], v))
            vals[cv] = v
    for cls in model.classes:
        fields = {}
        for f in cls.fields:
            c = f.cname
            if c in C_KEYWORDS or c in RESERVED_FIELDS:
                raise IdlError(f.where, "field %s.%s: '%s' is a reserved C name"
                               % (cls.name, f.name, c))
            if c in fields:
                raise IdlError(f.where, "field %s.%s clashes with field '%s' in C"
                               % (cls.name, f.name, fields[c]))
            fields[c] = f.name
        msgs = {}
        for m in cls.messages:
            c = cname(m.name)
            if c in msgs:
                raise IdlError(m.where, "message %s.%s clashes with message '%s' in C"
                               % (cls.name, m.name, msgs[c]))
            msgs[c] = m.name
            pcs = {}
            for p in m.params:
                pc = cname(p.name)
                if pc in pcs:
                    raise IdlError(m.where, "message %s.%s: parameters '%s' and '%s' clash in C"
                                   % (cls.name, m.name, pcs[pc], p.name))
                pcs[pc] = p.name
                if pc in C_KEYWORDS or pc in RESERVED_PARAMS:
                    raise IdlError(m.where, "message %s.%s: parameter '%s' is a reserved C name"
                                   % (cls.name, m.name, p.name))
    # handler and marshaller names are global: VM.metrics_get vs VM_metrics.get
    fns = {}
    for cls in model.classes:
        for m in cls.messages:
            fn = "%s_%s" % (cls.cname, cname(m.name))
            if fn in fns:
                raise IdlError(m.where, "message %s.%s clashes with %s in C (handle_%s)"
                               % (cls.name, m.name, fns[fn], fn))
            fns[fn] = "%s.%s" % (cls.name, m.name)
    errs = {}
    for e in model.errors:
        c = cname(e.name)
        if c in errs:
            raise IdlError(e.where, "error %s clashes with %s in C" % (e.name, errs[c]))
        errs[c] = e.name
