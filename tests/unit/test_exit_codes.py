"""Exit codes: the mapping from a finished run, and that --help and README.md agree with it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib.exitcodes import EPILOG, MEANING, STATUS, ExitCode, decide

ROOT = Path(__file__).resolve().parents[2]


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


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def readme_exit_codes(text: str) -> list[tuple[int, str]]:
    """Rows of the one table headed `| exit code | meaning |`; backticks are only markup."""
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines)
              if line.startswith("|") and [c.lower() for c in _cells(line)] == ["exit code",
                                                                                  "meaning"]]
    assert len(starts) == 1, f"README.md has {len(starts)} '| exit code | meaning |' tables, not 1"
    rows = []
    for line in lines[starts[0] + 2:]:
        if not line.startswith("|"):
            break
        cells = _cells(line)
        assert len(cells) == 2 and cells[0].isdigit(), f"README.md exit-code row: {line!r}"
        rows.append((int(cells[0]), cells[1].replace("`", "")))
    return rows


def test_readme_exit_code_table_is_meaning() -> None:
    documented = readme_exit_codes((ROOT / "README.md").read_text(encoding="utf-8"))
    assert documented == [(int(code), text) for code, text in MEANING.items()], (
        "README.md's exit-code table differs from provisionlib/exitcodes.py MEANING")


def test_readme_parser_sees_a_drifted_row() -> None:
    table = "| exit code | meaning |\n|---|---|\n| 0 | `ok` |\n| 4 | bad input |\n\nafter\n"
    assert readme_exit_codes(table) == [(0, "ok"), (4, "bad input")]
