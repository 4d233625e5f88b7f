#!/usr/bin/env python3
"""h2m.py IN OUT CLASS.json...: the help2man include file: IN (hand-written
sections) followed by a section listing the XAPI classes the IDL serves."""
import json
import os
import sys

src, out, classes = sys.argv[1], sys.argv[2], sys.argv[3:]
names = []
for path in sorted(classes):
    with open(path, encoding="utf-8") as f:
        names.append(json.load(f).get("class", os.path.basename(path)[:-5]))
with open(src, encoding="utf-8") as f:
    text = f.read()
text += "\n[API]\nThe XAPI classes served (XML-RPC on every POST path, JSON-RPC on\n"
text += ".B /jsonrpc ):\n" + ", ".join(sorted(names, key=str.lower)) + ".\n"
with open(out, "w", encoding="utf-8") as f:
    f.write(text)
