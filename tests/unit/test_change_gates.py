"""The one gate in front of a role's change steps names every step's due variable, and each
step waits on exactly one, defined in the role's vars/main.yml: a step added to changes.yml
without its name in the gate would be skipped on every host where only it has work. Roles:
nvidia_container_toolkit (gate in tasks/toolkit.yml), enroot (tasks/enroot.yml),
docker_access (tasks/main.yml), jetson_container_runtime (tasks/runtime.yml) and docker_engine
(tasks/main.yml; its writers' steps are imported files whose one task carries the condition).
The variables' values are exercised by molecule nvidia_container_toolkit, enroot, docker_access,
jetson_container_runtime and the docker_engine scenarios (install, drift, re-run with 0
changed) and by tests/unit/test_enroot_decisions.py, test_docker_engine_gate.py and
test_controller_decisions.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
GATES = {"nvidia_container_toolkit": "toolkit.yml", "enroot": "enroot.yml",
         "docker_access": "main.yml", "jetson_container_runtime": "runtime.yml",
         "docker_engine": "main.yml"}


def _due(role: str) -> re.Pattern[str]:
    return re.compile(rf"\b{role}_due_\w+")


def _tasks(role: str, name: str) -> list[dict]:
    return yaml.safe_load((ROLES / role / "tasks" / name).read_text(encoding="utf-8"))


def _steps(role: str) -> list[dict]:
    """changes.yml's steps, an imported file standing for its tasks."""
    steps = []
    for task in _tasks(role, "changes.yml"):
        imported = task.get("ansible.builtin.import_tasks")
        steps.extend(_tasks(role, imported) if imported and "when" not in task else [task])
    return steps


def _gate(role: str) -> dict:
    gates = [t for t in _tasks(role, GATES[role])
             if t.get("ansible.builtin.include_tasks") == "changes.yml"]
    assert len(gates) == 1
    return gates[0]


@pytest.mark.parametrize("role", sorted(GATES))
def test_every_step_waits_on_one_due_variable_of_its_own(role: str) -> None:
    due = _due(role)
    names = [due.findall(str(task.get("when", ""))) for task in _steps(role)]
    assert names and all(len(found) == 1 for found in names), names
    steps = {found[0] for found in names}
    defined = {key for key in yaml.safe_load((ROLES / role / "vars" / "main.yml").read_text())
               if due.fullmatch(key)}
    assert steps == defined


@pytest.mark.parametrize("role", sorted(GATES))
def test_the_gate_names_every_step_and_nothing_else(role: str) -> None:
    due = _due(role)
    steps = {due.findall(str(task["when"]))[0] for task in _steps(role)}
    assert set(due.findall(_gate(role)["when"])) == steps
    # An `or` of the steps: any one due step opens the gate.
    assert " and " not in _gate(role)["when"]
