"""gpu_verify's check names as provisionlib sees them: the one list, and the order of columns.

The list lives in plugins/module_utils/gpuhost_checks.py, which gpu_verify imports as
ansible.module_utils.gpuhost_checks. That directory is Ansible's layout, not a Python package,
so it is loaded here by path: adding __init__.py files or a sys.path entry would reach past
provisionlib into plugins/ and give the same file a second import name on the controller.
The file is plain Python with no Ansible import, so loading it costs nothing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

CHECKS_FILE = Path(__file__).resolve().parent.parent / "plugins/module_utils/gpuhost_checks.py"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_gpuhost_checks", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load gpu_verify's check list from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECKS: tuple[str, ...] = tuple(_load(CHECKS_FILE).CHECKS)


def order_check_names(names: Iterable[str]) -> list[str]:
    """Known names in CHECKS order, then unknown ones in the order first seen; no repeats."""
    seen = list(dict.fromkeys(names))
    known = [name for name in CHECKS if name in seen]
    return known + [name for name in seen if name not in CHECKS]


def check_names(hosts: dict[str, Any]) -> list[str]:
    """The check columns of a report's hosts (report schema 1), in order_check_names order."""
    found = (
        str(check.get("name") or "")
        for host in hosts.values()
        for check in (host or {}).get("checks") or []
    )
    return order_check_names(name for name in found if name)
