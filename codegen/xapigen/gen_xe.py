"""gen_xe.py: xapi_xe_records.h/.c: the field order and names of the records xe
prints (idl/xe_records.json, after records.ml), for the CLI's generic commands."""
from .emit import BANNER, cstr


def gen_header(model):
    return "".join([
        BANNER,
        "/* xapi_xe_records.h: the records xe prints by hand (records.ml): for each\n"
        " * class listed, its fields in xe's order under xe's names. */\n",
        "#ifndef XAPI_XE_RECORDS_H\n#define XAPI_XE_RECORDS_H\n\n",
        "#define XAPI_XE_HIDDEN 1u        /* never listed; param-get reads it */\n",
        "#define XAPI_XE_DEPRECATED 2u    /* listed with \" [DEPRECATED]\" */\n",
        "#define XAPI_XE_EMPTY 4u         /* \"<EMPTY>\" while the record's own `empty` is true */\n\n",
        "struct xapi_xe_field {\n",
        "    const char *xe;               /* xe's name */\n",
        "    const char *field;            /* the field shown */\n",
        "    const char *via;              /* own ref field it is read through, or NULL */\n",
        "    unsigned flags;\n};\n\n",
        "struct xapi_xe_record {\n    const char *cls;\n",
        "    const struct xapi_xe_field *fields;\n    unsigned nfields;\n};\n\n",
        "/* The records of idl/xe_records.json, sorted by class; NULL if cls has none. */\n",
        "const struct xapi_xe_record *xapi_xe_record(const char *cls);\n\n#endif\n",
    ])


def gen_source(model):
    o = [BANNER, '#include "xapi_xe_records.h"\n\n#include <stddef.h>\n#include <string.h>\n\n']
    for r in model.xe_records:
        o.append("static const struct xapi_xe_field xe_%s[] = {\n" % r.cls)
        for f in r.fields:
            flags = " | ".join(n for n, on in (("XAPI_XE_HIDDEN", f.hidden),
                                               ("XAPI_XE_DEPRECATED", f.deprecated),
                                               ("XAPI_XE_EMPTY", f.empty)) if on)
            o.append("    {%s, %s, %s, %s},\n" % (cstr(f.xe), cstr(f.field),
                     cstr(f.via) if f.via else "NULL", flags or "0"))
        if not r.fields:
            o.append("    {NULL, NULL, NULL, 0},\n")
        o.append("};\n\n")
    o.append("static const struct xapi_xe_record records[] = {\n")
    for r in model.xe_records:
        o.append("    {%s, xe_%s, %d},\n" % (cstr(r.cls), r.cls, len(r.fields)))
    if not model.xe_records:
        o.append("    {NULL, NULL, 0},\n")
    o.append("};\n\nconst struct xapi_xe_record *xapi_xe_record(const char *cls)\n{\n"
             "    for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++)\n"
             "        if (records[i].cls && strcmp(records[i].cls, cls) == 0)\n"
             "            return &records[i];\n    return NULL;\n}\n")
    return "".join(o)
