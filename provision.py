#!/usr/bin/env python3
"""Provision GPU container hosts: facts | plan | apply | verify (see --help, provisionlib)."""

import sys

if sys.version_info < (3, 10):  # noqa: UP036 - a clear message on old interpreters
    sys.exit("provision.py needs Python 3.10 or newer; run ./setup.sh and use .venv/bin/python")

try:
    from provisionlib.cli import main
except ModuleNotFoundError as exc:  # typically ansible-runner missing: wrong interpreter
    sys.exit(f"provision.py: {exc}; run ./setup.sh, then .venv/bin/python provision.py ...")

if __name__ == "__main__":
    sys.exit(main())
