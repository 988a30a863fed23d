"""Exit codes: the mapping from a finished run, and that --help and the docs agree with it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib.exitcodes import EPILOG, MEANING, STATUS, ExitCode, decide


def host(failed: int = 0, unreachable: int = 0, checks: list | None = None) -> dict:
    stats = {"ok": 1, "changed": 0, "failed": failed, "skipped": 0, "unreachable": unreachable}
    return {"stats": stats, "checks": checks or []}


@pytest.mark.parametrize("hosts,status,interrupted,expected", [
    ({"a": host()}, "successful", False, ExitCode.OK),
    ({}, "successful", False, ExitCode.OK),
    ({"a": host(), "b": host(failed=1)}, "failed", False, ExitCode.FAILED),
    ({"a": host(unreachable=1)}, "failed", False, ExitCode.UNREACHABLE),
    ({"a": host(failed=1), "b": host(unreachable=1)}, "failed", False, ExitCode.FAILED),
    ({"a": host()}, "failed", False, ExitCode.ERROR),  # e.g. a syntax error: no host failed
    ({}, "error", False, ExitCode.ERROR),
    ({"a": host()}, "timeout", False, ExitCode.ERROR),
    ({"a": host(failed=1)}, "canceled", False, ExitCode.INTERRUPTED),
    ({"a": host(failed=1)}, "failed", True, ExitCode.INTERRUPTED),
    # gpu_verify fails the host for required checks; a failed optional check is only shown.
    ({"a": host(checks=[{"name": "x", "status": "fail"}])}, "successful", False, ExitCode.OK),
    ({"a": host(checks=[{"name": "x", "status": "skip"}])}, "successful", False, ExitCode.OK),
])
def test_decide(hosts: dict, status: str, interrupted: bool, expected: ExitCode) -> None:
    assert decide(hosts, status, interrupted) == expected


def test_values_are_stable() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0, "ERROR": 1, "FAILED": 2, "UNREACHABLE": 3, "INVALID_INPUT": 4,
        "INTERRUPTED": 130}
    assert set(STATUS) == set(ExitCode)


def _documented(text: str) -> set[int]:
    return {int(m) for m in re.findall(r"^\|?\s*(\d+)\s", text, flags=re.M)}


def test_help_epilog_lists_every_code() -> None:
    assert _documented(EPILOG.split("exit codes:")[1]) == {int(c) for c in ExitCode}


def test_every_code_has_one_written_meaning() -> None:
    assert set(MEANING) == set(ExitCode)
