"""Check names: one list (plugins/module_utils/gpuhost_checks.py), one order for every view."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib import checks, table
from provisionlib.report_html import render_html

ROOT = Path(__file__).resolve().parents[2]


def _check(name: str, status: str = "pass") -> dict[str, Any]:
    return {"name": name, "status": status, "reason": f"{name} {status}", "evidence": {}}


def _host(*names: str) -> dict[str, Any]:
    stats = dict.fromkeys(("ok", "changed", "failed", "skipped", "unreachable"), 0)
    return {"stats": stats, "facts": {}, "checks": [_check(n) for n in names],
            "failures": [], "changes": [], "warnings": []}


# Host order and check order disagree on purpose: unknown names first, known ones scrambled.
HOSTS = {
    "a": _host("custom", "gpu", "engine"),
    "b": _host("enroot", "later", "engine", "custom"),
    "c": {},
}
EXPECTED = ["engine", "gpu", "enroot", "custom", "later"]


def test_the_list_is_read_from_module_utils() -> None:
    assert checks.CHECKS_FILE == ROOT / "plugins" / "module_utils" / "gpuhost_checks.py"
    assert checks.CHECKS[:3] == ("engine", "access", "limits")
    assert "gpu_cdi" in checks.CHECKS


def test_provisionlib_keeps_no_copy_of_the_list() -> None:
    """A second literal list of check names is how the two views drifted before."""
    copies = [path.name for path in (ROOT / "provisionlib").glob("*.py")
              if re.search(r"""["']gpu_cdi["']""", path.read_text(encoding="utf-8"))]
    assert copies == []


def test_known_names_in_list_order_then_unknown_in_first_seen_order() -> None:
    assert checks.order_check_names(["x", "gpu", "engine", "y", "gpu", "x"]) == [
        "engine", "gpu", "x", "y"]
    assert checks.order_check_names([]) == []


def test_report_check_names_skip_empty_hosts_and_names() -> None:
    hosts = {**HOSTS, "d": {"checks": [{"name": ""}, {"status": "pass"}]}, "e": None}
    assert checks.check_names(hosts) == EXPECTED


def test_terminal_matrix_columns_follow_the_list() -> None:
    report = {"hosts": {name: host or _host() for name, host in HOSTS.items()}}
    header = table.check_matrix(report).splitlines()[0].split()
    assert header == ["HOST", *EXPECTED]


def test_html_columns_follow_the_list() -> None:
    page = render_html({"schema": 1, "command": "verify", "status": "ok", "hosts": HOSTS})
    assert re.findall(r'<th scope="col">([^<]*)</th>', page) == ["host", *EXPECTED]


def test_gpu_verify_role_lists_every_check_in_order() -> None:
    """YAML cannot import the list, so the role's default and choices are held to it here."""
    role = ROOT / "roles" / "gpu_verify"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    option = specs["argument_specs"]["main"]["options"]["gpu_verify_checks"]
    assert defaults["gpu_verify_checks"] == list(checks.CHECKS)
    assert option["default"] == list(checks.CHECKS)
    assert option["choices"] == list(checks.CHECKS)
