#!/usr/bin/env python3
"""ctest entry point: run_e2e.py BUILD_DIR [test_module ...]  (see gateway.py for the environment)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway  # noqa: E402

if __name__ == "__main__":
    sys.exit(gateway.main())
