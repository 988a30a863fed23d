"""nvidia_container_toolkit's one gate in front of its change steps (tasks/toolkit.yml) names
every step's due variable, and each step waits on exactly one, defined in vars/main.yml: a step
added to changes.yml without its name in the gate would be skipped on every host where only it
has work. The variables' values are exercised by molecule nvidia_container_toolkit (install,
migration, drift, re-run with 0 changed)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "nvidia_container_toolkit"
DUE = re.compile(r"\bnvidia_container_toolkit_due_\w+")


def _tasks(name: str) -> list[dict]:
    return yaml.safe_load((ROLE / "tasks" / name).read_text(encoding="utf-8"))


def _gate() -> dict:
    gates = [t for t in _tasks("toolkit.yml")
             if t.get("ansible.builtin.include_tasks") == "changes.yml"]
    assert len(gates) == 1
    return gates[0]


def test_every_step_waits_on_one_due_variable_of_its_own() -> None:
    names = [DUE.findall(str(task.get("when", ""))) for task in _tasks("changes.yml")]
    assert all(len(found) == 1 for found in names), names
    steps = {found[0] for found in names}
    defined = {key for key in yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
               if DUE.fullmatch(key)}
    assert steps == defined


def test_the_gate_names_every_step_and_nothing_else() -> None:
    steps = {DUE.findall(str(task["when"]))[0] for task in _tasks("changes.yml")}
    assert set(DUE.findall(_gate()["when"])) == steps
    # An `or` of the steps: any one due step opens the gate.
    assert " and " not in _gate()["when"]
