"""Unit-test set-up: the custom modules import as plain Python.

The modules import ansible.module_utils.gpuhost_* files, which Ansible ships from
plugins/module_utils inside their payload. Here tests/module_loader.py does that job: this file
puts tests/ on sys.path (so test files can `from module_loader import load_module`, run role task
files through `from playbook_runner import run_playbook`, and read
recorded outputs with `from fixture_loader import fixture`) and adds plugins/module_utils to
ansible.module_utils.__path__ before any test file is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

import module_loader  # noqa: E402 (needs TESTS_DIR on sys.path first)

module_loader.add_module_utils_path()


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """provision.py's runner replaced: every call is recorded (the bad-input tests fail on any)."""
    from provisionlib import cli

    calls: list[Any] = []

    def fake(*args: object, **kwargs: object) -> cli.RunOutcome:
        calls.append((args, kwargs))
        return cli.RunOutcome("successful", 0)

    monkeypatch.setattr(cli, "run_playbook", fake)
    monkeypatch.setattr(cli, "artifacts_dir", lambda: tmp_path / "artifacts")
    return calls
