"""Shared testinfra set-up.

Molecule's testinfra verifier walks the whole `directory` (tests/testinfra) for test_*.py and
adds `additional_files_or_dirs` on top, so without help every scenario would run every suite.
In a molecule run (MOLECULE_SCENARIO_DIRECTORY is set) this keeps only the test files the
scenario names in `verifier.additional_files_or_dirs`; outside molecule nothing is filtered.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml


def scenario_test_files() -> set[str] | None:
    """File names the current molecule scenario asks for, or None when not filtering."""
    directory = os.environ.get("MOLECULE_SCENARIO_DIRECTORY")
    if not directory:
        return None
    config = Path(directory) / "molecule.yml"
    if not config.is_file():
        return None
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    files = (data.get("verifier") or {}).get("additional_files_or_dirs") or []
    names = {Path(str(f)).name for f in files}
    return names or None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = scenario_test_files()
    if wanted is None:
        return
    keep = [item for item in items if item.path.name in wanted]
    dropped = [item for item in items if item.path.name not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
