#!/usr/bin/env python3
"""ctest entry point: run_hostile.py BUILD_DIR [test_module ...]  (harness: tests/e2e/gateway.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile  # noqa: E402

if __name__ == "__main__":
    sys.exit(hostile.main())
