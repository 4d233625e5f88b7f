"""gen_errors.py: xapi_errors.h/.c: one typed constructor per XAPI error."""
from .emit import BANNER, comment, cstr
from .model import cname


def _proto(e):
    args = "".join(", const char *%s" % p for p in e.params)
    return "bool xapi_err_%s(xg_err *err%s)" % (cname(e.name), args)


def gen_header(model):
    o = [BANNER, "/* xapi_errors.h: typed constructors for the XAPI errors of idl/errors.json.\n"
         " * Each sets err (first error wins) and returns false. */\n",
         "#ifndef XAPI_ERRORS_H\n#define XAPI_ERRORS_H\n\n#include <stdbool.h>\n\n",
         '#include "xg_err.h"\n\n']
    for e in model.errors:
        o.append("#define XAPI_ERR_%s %s\n" % (cname(e.name).upper(), cstr(e.name)))
    o.append("\n/* The datamodel's description of an error, for clients that explain\n"
             " * errors in words (xe's /cli); NULL for a code not in idl/errors.json. */\n"
             "struct xapi_error_doc {\n    const char *name, *doc;\n"
             "    const char *const *params;\n    unsigned nparams;\n};\n"
             "const struct xapi_error_doc *xapi_error_doc(const char *code);\n\n")
    for e in model.errors:
        o.append(comment("%s [%s]: %s" % (e.name, ", ".join(e.params), e.doc)))
        o.append(_proto(e) + ";\n")
    o.append("\n#endif\n")
    return "".join(o)


def gen_source(model):
    o = [BANNER, '#include "xapi_errors.h"\n\n']
    for e in model.errors:
        o.append(_proto(e) + "\n{\n")
        if e.params:
            o.append("    return xg_err_set(err, %s, %d, %s);\n}\n\n"
                     % (cstr(e.name), len(e.params), ", ".join(e.params)))
        else:
            o.append("    return xg_err_set(err, %s, 0);\n}\n\n" % cstr(e.name))
    o.append(_doc_table(model))
    return "".join(o)


def _doc_table(model):
    """The error descriptions, sorted by code for bsearch."""
    errors = sorted(model.errors, key=lambda e: e.name.encode())
    o = ["#include <stdlib.h>\n#include <string.h>\n\n"]
    for i, e in enumerate(errors):
        if e.params:
            o.append("static const char *const doc_params_%d[] = {%s};\n"
                     % (i, ", ".join(cstr(p) for p in e.params)))
    o.append("\nstatic const struct xapi_error_doc error_docs[] = {\n")
    for i, e in enumerate(errors):
        o.append("    {%s, %s, %s, %d},\n" % (cstr(e.name), cstr(e.doc),
                 "doc_params_%d" % i if e.params else "NULL", len(e.params)))
    o.append("};\n\nstatic int doc_cmp(const void *key, const void *elem)\n{\n"
             "    return strcmp(key, ((const struct xapi_error_doc *)elem)->name);\n}\n\n"
             "const struct xapi_error_doc *xapi_error_doc(const char *code)\n{\n"
             "    return bsearch(code, error_docs, sizeof(error_docs) / sizeof(error_docs[0]),\n"
             "                   sizeof(error_docs[0]), doc_cmp);\n}\n")
    return "".join(o)
