"""A role skips its own checks only when the preflight checked the same inputs in this run.

One real, local ansible-playbook run (nothing on a host is touched: the roles' validate.yml
files only read). Play 1 is the preflight's part (each role's tasks/validate.yml); play 2 runs
the role's gate (its tasks/inputs.yml) with the same inputs, and play 3 with one input changed
as a play variable: its checks must run again, or a value never checked would go on to change
the host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playbook_runner import run_playbook

FACT = {"kind": "cpu", "packages": {}, "kernel": {"release": "6.1.0", "iptable_raw": True}}

PLAYBOOK = """\
- name: The preflight's checks
  hosts: all
  gather_facts: false
  tasks:
    - name: The host's provision_host (STAND-IN facts module)
      standin_facts:
        fact: {fact}
    - name: The role's validate.yml
      ansible.builtin.include_role:
        name: {role}
        tasks_from: validate

- name: The role with the same inputs
  hosts: all
  gather_facts: false
  tasks:
    - name: The role's gate
      ansible.builtin.include_role:
        name: {role}
        tasks_from: inputs

- name: The role with another value of one input
  hosts: all
  gather_facts: false
  vars:
    {other}
  tasks:
    - name: The role's gate
      ansible.builtin.include_role:
        name: {role}
        tasks_from: inputs
"""


# role -> a play variable that changes one of its inputs to another valid value
OTHER = {
    "docker_engine": 'docker_engine_version: "27.5.1"',
    "nvidia_container_toolkit": 'nvidia_container_toolkit_version: "1.17.8-1"',
    "jetson_container_runtime": "jetson_container_runtime_soc: t234",
}


def validate_ran(play: dict[str, Any], role: str) -> bool:
    """Whether the play ran validate.yml: its last task notes the inputs it checked (its checks
    themselves are skipped when the inputs pass: each is a fail task with a condition)."""
    return any(task["task"]["name"] == f"{role} : Note that these inputs were checked"
               and not task["hosts"]["h"].get("skipped")
               for task in play["tasks"])


@pytest.mark.parametrize("role", sorted(OTHER))
def test_same_inputs_skip_the_checks_other_inputs_run_them(tmp_path: Path, role: str) -> None:
    play = (PLAYBOOK.replace("{fact}", str(FACT)).replace("{role}", role)
            .replace("{other}", OTHER[role]))
    output = run_playbook(tmp_path, {"h": {}}, play)
    assert output["stats"]["h"]["failures"] == 0, output["stats"]
    preflight, same, other = output["plays"]
    assert validate_ran(preflight, role)
    assert not validate_ran(same, role)
    assert validate_ran(other, role)
