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
    o.append("\n")
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
    return "".join(o)
