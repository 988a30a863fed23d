"""Every playbook that runs a role which changes Docker's settings restarts Docker afterwards.

The writers (docker_daemon_json, docker_unit_dropin, docker_restart's `request`) only record a
pending restart; the docker_restart role performs it. A playbook (or molecule converge) that
runs a writing role with no docker_restart play after it would leave Docker on its old
settings until some later run: this test names such a playbook and the role.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_preflight_contract import roles_of_play

ROOT = Path(__file__).resolve().parents[2]
WRITER_MODULES = ("docker_daemon_json:", "docker_unit_dropin:", "docker_restart:")
RESTART_ROLE = "docker_restart"


def writer_roles() -> set[str]:
    """Roles whose task files call a writer module (the restart role itself excluded)."""
    found = set()
    for task_file in ROOT.glob("roles/*/tasks/*.yml"):
        role = task_file.parts[-3]
        if role != RESTART_ROLE and any(m in task_file.read_text() for m in WRITER_MODULES):
            found.add(role)
    for task_file in ROOT.glob("molecule/*/roles/*/tasks/*.yml"):
        if any(m in task_file.read_text() for m in WRITER_MODULES):
            found.add(task_file.parts[-3])
    return found


def playbooks() -> list[Path]:
    files = sorted(ROOT.glob("playbooks/*.yml")) + sorted(ROOT.glob("molecule/*/*.yml"))
    result = []
    for path in files:
        data = yaml.safe_load(path.read_text())
        if isinstance(data, list) and data and all(isinstance(p, dict) and "hosts" in p
                                                   for p in data):
            result.append(path)
    return result


def missing_restart(path: Path, writers: set[str]) -> str | None:
    plays = yaml.safe_load(path.read_text())
    pending = None
    for play in plays:
        names = roles_of_play(play)
        if RESTART_ROLE in names:
            pending = None
        writing = [n for n in names if n in writers]
        if writing and not (RESTART_ROLE in names and names.index(RESTART_ROLE) > max(
                names.index(w) for w in writing)):
            pending = writing[-1]
    return pending


def test_the_writer_roles_are_found() -> None:
    assert {"docker_engine", "docker_access"} <= writer_roles()


@pytest.mark.parametrize("path", playbooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_playbook_restarts_docker_after_its_last_writer(path: Path) -> None:
    role = missing_restart(path, writer_roles())
    assert role is None, (
        f"{path.relative_to(ROOT)}: role {role} changes Docker's settings but no play with the "
        f"{RESTART_ROLE} role follows it; add one (roles/docker_restart/README.md)"
    )


def test_the_check_itself_fails_on_a_playbook_without_the_restart(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("- hosts: all\n  roles: [docker_engine]\n- hosts: all\n  roles: [gpu_verify]\n")
    assert missing_restart(bad, {"docker_engine"}) == "docker_engine"
    good = tmp_path / "good.yml"
    good.write_text("- hosts: all\n  roles: [docker_engine]\n"
                    "- hosts: all\n  roles: [docker_restart]\n")
    assert missing_restart(good, {"docker_engine"}) is None
