#!/usr/bin/env python3
"""xapigen.py: idl/ -> C in the build tree. See codegen/xapigen/ and idl/README.md."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xapigen.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
