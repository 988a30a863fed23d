"""A role skips its own checks only when the preflight checked the same inputs in this run.

One real, local ansible-playbook run (nothing on a host is touched: the roles' validate.yml
files only read). Play 1 is the preflight's part (each role's tasks/validate.yml); play 2 runs
the role's gate (docker_engine's tasks/inputs.yml) with the same inputs, and play 3 with one
input changed as a play variable: its checks must run again, or a value never checked would go
on to change the host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    - name: docker_engine's validate.yml
      ansible.builtin.include_role:
        name: docker_engine
        tasks_from: validate

- name: The role with the same inputs
  hosts: all
  gather_facts: false
  tasks:
    - name: docker_engine's gate
      ansible.builtin.include_role:
        name: docker_engine
        tasks_from: inputs

- name: The role with another docker_engine_version
  hosts: all
  gather_facts: false
  vars:
    docker_engine_version: "27.5.1"
  tasks:
    - name: docker_engine's gate
      ansible.builtin.include_role:
        name: docker_engine
        tasks_from: inputs
"""


def validate_ran(play: dict[str, Any]) -> bool:
    """Whether the play ran any task of validate.yml (its tasks are named Check ...)."""
    return any(task["task"]["name"].startswith("docker_engine : Check the")
               and not task["hosts"]["h"].get("skipped")
               for task in play["tasks"])


def test_same_inputs_skip_the_checks_other_inputs_run_them(tmp_path: Path) -> None:
    output = run_playbook(tmp_path, {"h": {}}, PLAYBOOK.replace("{fact}", str(FACT)))
    assert output["stats"]["h"]["failures"] == 0, output["stats"]
    preflight, same, other = output["plays"]
    assert validate_ran(preflight)
    assert not validate_ran(same)
    assert validate_ran(other)
