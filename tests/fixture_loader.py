"""Read the recorded real outputs under tests/fixtures/ (the one loader the unit tests use).

Every recorded file starts with a `# source: <where>` line naming the public thread, file or
machine it was copied from (each folder's README.md lists them); the loaders check that line
and strip it. Paths are relative to tests/fixtures/, such as "nvidia/lspci/gtx560ti_vnn.txt".
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SOURCE_PREFIX = "# source: "


def read_fixture(relative: str) -> tuple[str, str]:
    """(source, body) of a recorded output; fails when the file does not name its source."""
    first, _, body = (FIXTURES / relative).read_text(encoding="utf-8").partition("\n")
    assert first.startswith(SOURCE_PREFIX), f"{relative} must start with {SOURCE_PREFIX!r}"
    return first[len(SOURCE_PREFIX) :], body


def fixture(relative: str) -> str:
    """The recorded output without its source line."""
    return read_fixture(relative)[1]


def fixture_files(folder: str) -> list[str]:
    """Relative paths of every recorded .txt file below FOLDER, sorted."""
    return sorted(str(p.relative_to(FIXTURES)) for p in (FIXTURES / folder).rglob("*.txt"))
