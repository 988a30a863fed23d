"""The one gate in front of a role's change steps names every step's due variable, and each
step waits on exactly one, defined in the role's vars/main.yml: a step added to changes.yml
without its name in the gate would be skipped on every host where only it has work. Roles:
nvidia_container_toolkit (gate in tasks/toolkit.yml), enroot (tasks/enroot.yml),
docker_access (tasks/main.yml), jetson_container_runtime (tasks/runtime.yml) and docker_engine
(tasks/main.yml; its writers' steps are imported files whose one task carries the condition).
The variables' values are exercised by molecule nvidia_container_toolkit, enroot, docker_access,
jetson_container_runtime and the docker_engine scenarios (install, drift, re-run with 0
changed) and by tests/unit/test_enroot_decisions.py, test_docker_engine_gate.py and
test_controller_decisions.py.

Every changes.yml begins with host_facts' looks_stale entry point: the looks host_facts' round
trip took for later roles (provision_host.looks) are not reused once any role may have changed
the host. The last tests hold every playbook to that: each role that runs between the preflight
and a role reusing such a look either has that gate or changes nothing a look reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from test_preflight_contract import roles_of_play

ROLES = Path(__file__).resolve().parents[2] / "roles"
GATES = {"nvidia_container_toolkit": "toolkit.yml", "enroot": "enroot.yml",
         "docker_access": "main.yml", "jetson_container_runtime": "runtime.yml",
         "docker_engine": "main.yml"}


def _due(role: str) -> re.Pattern[str]:
    return re.compile(rf"\b{role}_due_\w+")


def _tasks(role: str, name: str) -> list[dict]:
    return yaml.safe_load((ROLES / role / "tasks" / name).read_text(encoding="utf-8"))


MARK = {"name": "Mark the looks taken with provision_host as out of date",
        "ansible.builtin.import_role": {"name": "host_facts", "tasks_from": "looks_stale",
                                        "rolespec_validate": False}}


def _steps(role: str) -> list[dict]:
    """changes.yml's steps after the mark, an imported file standing for its tasks."""
    steps = []
    for task in _tasks(role, "changes.yml")[1:]:
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


@pytest.mark.parametrize("role", sorted(GATES))
def test_the_first_step_marks_the_looks_out_of_date(role: str) -> None:
    assert _tasks(role, "changes.yml")[0] == MARK


def test_the_mark_sets_what_the_roles_read() -> None:
    (task,) = _tasks("host_facts", "looks_stale.yml")
    assert task["ansible.builtin.set_fact"] == {"host_facts_looks_stale": True}
    for role in ("nvidia_container_toolkit", "enroot", "jetson_container_runtime"):
        assert "not host_facts_looks_stale | default(false) | bool" in (
            ROLES / role / "tasks" / "read.yml").read_text(encoding="utf-8")


# Roles that reuse a look host_facts took (each has tasks/look_params.yml), and roles without a
# change gate that may run before them, with why they change nothing such a look reads.
LOOKERS = {path.parent.parent.name for path in ROLES.glob("*/tasks/look_params.yml")}
NO_GATE_NEEDED = {
    "preflight": "reads only",
    "apt_mirror": "rewrites only the OS archive's entries in apt's sources, never NVIDIA's",
}
PLAYBOOKS = ROLES.parent / "playbooks"


def unmarked_before_a_looker(order: list[str]) -> list[str]:
    """The roles in ORDER that run before its last looker with neither a mark nor a reason."""
    before = order[:max((i for i, name in enumerate(order) if name in LOOKERS), default=0)]
    return [name for name in before if name not in GATES and name not in NO_GATE_NEEDED]


def test_the_lookers_are_the_gpu_roles_and_enroot() -> None:
    assert sorted(LOOKERS) == ["enroot", "jetson_container_runtime", "nvidia_container_toolkit"]


def test_the_order_check_finds_a_role_without_the_mark() -> None:
    assert unmarked_before_a_looker(["preflight", "registry_auth", "enroot"]) == ["registry_auth"]
    # After the last looker a role may change what it likes: no look is reused after it.
    assert unmarked_before_a_looker(["preflight", "enroot", "registry_auth"]) == []


@pytest.mark.parametrize("playbook", sorted(p.name for p in PLAYBOOKS.glob("*.yml")))
def test_every_role_before_a_looker_marks_its_changes(playbook: str) -> None:
    order = [name for play in yaml.safe_load((PLAYBOOKS / playbook).read_text()) or []
             for name in roles_of_play(play)]
    assert unmarked_before_a_looker(order) == []
