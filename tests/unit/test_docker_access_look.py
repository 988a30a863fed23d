"""docker_access's look: reused from host_facts' round trip, taken again after a new reading.

The preflight hands docker_access's look parameters to host_facts, whose one round trip then
carries the look (provision_host.docker_access). docker_access reuses it only when it was taken
with the parameters the role asks now, in this run's reading of the host; when docker_engine
read the host again (a package change: provision_host is another reading, without the look),
the role's main.yml looks again (docker_access_looked_with).

One real, local ansible-playbook run, one inventory host per case. provision_host comes from
the STAND-IN facts module (tests/playbook_runner.py) and docker_access_facts is a STAND-IN that
reports a host where nothing is to do (the user is a member, the socket is Docker's default), so
the role changes nothing on this machine; what each case shows is how often the look ran.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from playbook_runner import run_playbook

USER = "gpuhost-look-user"
# What docker_access_facts returns for a host where the role has nothing to do.
LOOK: dict[str, Any] = {
    "passwd": {USER: ["x", "5000", "5000", "", f"/home/{USER}", "/bin/sh"]},
    "group": {"docker": ["x", "999", USER]},
    "socket_unit": "loaded",
    "live_socket": {"exists": True, "gr_name": "docker", "mode": "0660"},
    "dropin": {"exists": False, "symlink": False, "content": None},
    "profile_script_exists": False,
    "docker_packages": "",
    "subid": {},
    "rootless": {},
}
STANDIN = f'''#!/usr/bin/python
# STAND-IN for docker_access_facts: a host where docker_access has nothing to do.
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec={{p: {{"type": "raw"}} for p in (
    "users", "socket_group", "dropin_path", "profile_script", "rootless_users")}},
    supports_check_mode=True)
module.exit_json(changed=False, standin_ran=True, **{LOOK!r})
'''
# The parameters docker_access asks with (roles/docker_access/vars/main.yml) for USER.
PARAMS = {"users": [USER], "socket_group": "docker",
          "dropin_path": "/etc/systemd/system/docker.socket.d/gpuhost-access.conf",
          "profile_script": "/etc/profile.d/gpuhost-docker-rootless.sh", "rootless_users": []}
FACT: dict[str, Any] = {"kind": "cpu", "packages": {"docker.io": {"version": "1"}},
                        "docker_access": {"params": PARAMS, "look": LOOK}}
PLAYBOOK = """\
- name: The look, as site.yml takes it
  hosts: all
  gather_facts: false
  tasks:
    - name: Stand-in provision_host, as the preflight's host_facts gathers it
      standin_facts:
        fact: "{{ case_fact }}"
    - name: Mark the fact as gathered in this run, as host_facts does
      ansible.builtin.set_fact:
        host_facts_gathered_this_run: true
    - name: The preflight's checks of docker_access
      ansible.builtin.include_role: {name: docker_access, tasks_from: validate}
    - name: Stand-in provision_host, as docker_engine gathers it again (or the same reading)
      standin_facts:
        fact: "{{ case_fact_later }}"
    - name: The role
      ansible.builtin.include_role: {name: docker_access}
"""


def fact(**edit: Any) -> dict[str, Any]:
    out = copy.deepcopy(FACT)
    out.update(edit)
    return out


# case -> (fact the preflight gathers, fact the role runs with (None: the same), whether the
# look module ran each time read.yml was included: once by validate.yml in the preflight, again
# by main.yml only when provision_host is not the reading the decisions went with).
CASES: dict[str, tuple[dict[str, Any], dict[str, Any] | None, list[bool]]] = {
    # A no-op re-run: host_facts' look serves both, no round trip of docker_access's own.
    "same_reading": (fact(), None, [False]),
    # docker_engine installed or removed packages and read the host again (no look in it).
    "read_again_after_a_package_change": (
        fact(), fact(packages={"docker.io": {"version": "2"}}, docker_access=None),
        [False, True]),
    # Read again with the look in that new reading (same parameters): that one is reused.
    "read_again_with_its_own_look": (fact(), fact(packages={}), [False, False]),
    # host_facts was asked other parameters (or none): the role looks itself, once.
    "other_parameters": (fact(docker_access={"params": {**PARAMS, "users": []}, "look": LOOK}),
                         None, [True]),
    "no_look_in_the_fact": (fact(docker_access=None), None, [True]),
}


@pytest.fixture(scope="module")
def looks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bool]]:
    tmp = tmp_path_factory.mktemp("access_look")
    hosts = {name: {"case_fact": first, "case_fact_later": first if later is None else later,
                    "docker_access_users": [USER]}
             for name, (first, later, _) in CASES.items()}
    data = run_playbook(tmp, hosts, PLAYBOOK, modules={"docker_access_facts": STANDIN})
    ran: dict[str, list[bool]] = {name: [] for name in hosts}
    for task in data["plays"][0]["tasks"]:
        for host, res in task["hosts"].items():
            assert not res.get("failed"), (host, task["task"]["name"], res.get("msg"))
            if task["task"]["name"].endswith("Read what docker_access decides from, in one look"):
                ran[host].append(not res.get("skipped", False))
    return ran


@pytest.mark.parametrize("name", CASES)
def test_the_look_is_reused_only_for_the_reading_it_was_taken_in(
        name: str, looks: dict[str, list[bool]]) -> None:
    assert looks[name] == CASES[name][2]
