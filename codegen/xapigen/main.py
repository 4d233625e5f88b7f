"""main.py: runs the loader and every backend; writes only changed files."""
import argparse
import json
import os
import sys

from . import gen_dispatch, gen_docs, gen_errors, gen_marshal, gen_types, gen_xe, load
from .emit import write_if_changed
from .model import IdlError


def outputs(model):
    files = {
        "xapi_types.h": gen_types.gen_header(model),
        "xapi_types.c": gen_types.gen_source(model),
        "xapi_errors.h": gen_errors.gen_header(model),
        "xapi_errors.c": gen_errors.gen_source(model),
        "xapi_handlers.h": gen_marshal.gen_handlers_h(model),
        "xapi_marshal.h": gen_marshal.gen_marshal_h(model),
        "xapi_dispatch.c": gen_dispatch.gen_source(model),
        "xapi_xe_records.h": gen_xe.gen_header(model),
        "xapi_xe_records.c": gen_xe.gen_source(model),
        "api.md": gen_docs.api_md(model),
        "manifest.json": json.dumps(gen_dispatch.manifest(model), indent=1) + "\n",
    }
    for cls in model.classes:
        files["xapi_marshal_%s.c" % cls.name] = gen_marshal.gen_marshal_c(model, cls)
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate C from the xapi-gateway IDL.")
    ap.add_argument("--idl", required=True, help="the idl/ directory")
    ap.add_argument("--out", help="output directory (build tree)")
    ap.add_argument("--dump", action="store_true", help="print the checked model and exit")
    ap.add_argument("--list-outputs", action="store_true",
                    help="print the file names that would be written")
    args = ap.parse_args(argv)
    try:
        model = load.load(args.idl)
        if args.dump:
            sys.stdout.write(gen_docs.dump(model))
            return 0
        files = outputs(model)
    except IdlError as e:
        sys.stderr.write("%s\n" % e)
        return 1
    if args.list_outputs:
        sys.stdout.write("".join(n + "\n" for n in sorted(files)))
        return 0
    if not args.out:
        ap.error("--out is required")
    os.makedirs(args.out, exist_ok=True)
    for name in sorted(files):
        write_if_changed(os.path.join(args.out, name), files[name])
    return 0
