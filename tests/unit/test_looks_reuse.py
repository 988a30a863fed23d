"""enroot's look: reused from host_facts' round trip only while it can still be true.

The preflight includes the role's tasks/look_params.yml and hands what it keeps to host_facts,
whose round trip then carries the look (provision_host.looks.enroot). read.yml reuses it only
when provision_host was gathered in this run, with the parameters the role asks now, and no
role has entered its change steps since (host_facts' looks_stale entry point, the first step
of every changes.yml); otherwise the role's own module looks. The toolkit and the Jetson runtime
share this code path's conditions (tests/unit/test_change_gates.py checks their read.yml).

One real, local ansible-playbook run, one inventory host per case. provision_host comes from
the STAND-IN facts module (tests/playbook_runner.py) and enroot_facts is a STAND-IN, so the role
changes nothing on this machine; each look says where it came from in its `arch`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from playbook_runner import run_playbook

SITE = Path(__file__).resolve().parents[2] / "playbooks" / "site.yml"


def look(source: str) -> dict[str, Any]:
    """What enroot_facts returns on a converged CPU host, marked with where it came from."""
    return {"arch": source, "packages": {"enroot": "4.1.2-1", "enroot+caps": "4.1.2-1"},
            "sysctls": {"user.max_user_namespaces": 63000, "user.max_mnt_namespaces": 63000},
            "proc_sys_writable": True, "apparmor": {"profile": False, "loaded": False},
            "dirs": {}, "hooks": {"linked": {}, "extra": []}, "sysctl_text": None,
            "files": {}, "users": {}}


STANDIN = f'''#!/usr/bin/python
# STAND-IN for enroot_facts: the look of a converged host, marked as the module's.
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec={{p: {{"type": "raw"}} for p in (
    "packages", "dirs", "hooks_dir", "extra_hooks_dir", "apparmor_profile", "sysctl_file",
    "files", "users")}}, supports_check_mode=True)
module.exit_json(changed=False, **{look("module")!r})
'''
PLAYBOOK = """\
- name: enroot's look, as site.yml takes it
  hosts: all
  gather_facts: false
  tasks:
    - name: The preflight works out enroot's look parameters
      ansible.builtin.include_role: {name: enroot, tasks_from: look_params}
    - name: Stand-in provision_host, as host_facts gathers it with what was handed over
      standin_facts:
        fact:
          kind: cpu
          looks: >-
            {{ {'enroot': {'params': enroot_look_handed | combine(case_params), 'look': case_look}}
               if case_look else {} }}
    - name: Mark the fact as gathered in this run, as host_facts does
      ansible.builtin.set_fact:
        host_facts_gathered_this_run: "{{ case_this_run }}"
    - name: A role before enroot enters its change steps
      ansible.builtin.include_role: {name: host_facts, tasks_from: looks_stale}
      when: case_stale
    - name: The role's look and decisions
      ansible.builtin.include_role: {name: enroot, tasks_from: read}
    - name: Say which look the role decided from
      ansible.builtin.debug:
        msg: "{{ enroot_host['arch'] }}"
"""
HOST_FACTS = look("host_facts")
# case -> (host vars, whether enroot_facts ran, the look the decisions went with)
CASES: dict[str, tuple[dict[str, Any], bool, str]] = {
    "a_no_op_re_run": ({}, False, "host_facts"),
    "after_a_change_gate": ({"case_stale": True}, True, "module"),
    "taken_with_other_parameters": ({"case_params": {"users": ["someone"]}}, True, "module"),
    "no_look_taken": ({"case_look": None}, True, "module"),
    "a_cached_fact_of_an_earlier_run": ({"case_this_run": False}, True, "module"),
}


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bool, str]]:
    tmp = tmp_path_factory.mktemp("looks_reuse")
    defaults = {"case_stale": False, "case_params": {}, "case_look": HOST_FACTS,
                "case_this_run": True, "enroot_enabled": True}
    hosts = {name: {**defaults, **edit} for name, (edit, _, _) in CASES.items()}
    data = run_playbook(tmp, hosts, PLAYBOOK, modules={"enroot_facts": STANDIN})
    ran: dict[str, bool] = {}
    used: dict[str, str] = {}
    for task in data["plays"][0]["tasks"]:
        for host, res in task["hosts"].items():
            assert not res.get("failed"), (host, task["task"]["name"], res.get("msg"))
            if task["task"]["name"].endswith("Read what the enroot role decides from, in one look"):
                ran[host] = not res.get("skipped", False)
            if task["task"]["name"] == "Say which look the role decided from":
                used[host] = res["msg"]
    return {name: (ran[name], used[name]) for name in hosts}


@pytest.mark.parametrize("name", CASES)
def test_the_look_is_reused_only_while_nothing_can_have_changed_it(
        name: str, seen: dict[str, tuple[bool, str]]) -> None:
    _, ran, source = CASES[name]
    assert seen[name] == (ran, source)


# ------------------------------------------------------------ which looks the preflight hands over
SITE_ROLES = yaml.safe_load(SITE.read_text(encoding="utf-8"))[0]["roles"][0]["vars"][
    "preflight_roles"]
PREFLIGHT_PLAYBOOK = """\
- name: The preflight's looks, before host_facts reads the host
  hosts: all
  gather_facts: false
  tasks:
    - name: Stand-in provision_host of an earlier run, as the fact cache keeps it
      standin_facts:
        fact: "{{ case_cached }}"
      when: case_cached is mapping
    - name: The preflight's look step
      ansible.builtin.include_role: {name: preflight, tasks_from: looks, public: true}
    - name: Say which looks host_facts would take
      ansible.builtin.debug:
        msg: "{{ preflight_looks.keys() | sort }}"
"""
# case -> (host vars, the roles whose look parameters are handed to host_facts)
SELECTION: dict[str, tuple[dict[str, Any], list[str]]] = {
    # A first run (no fact cached): either GPU kind may be found; the module takes the right one.
    "first_run": ({}, ["jetson_container_runtime", "nvidia_container_toolkit"]),
    "cpu_host": ({"case_cached": {"kind": "cpu"}}, []),
    "cpu_host_with_enroot": ({"case_cached": {"kind": "cpu"}, "enroot_enabled": True}, ["enroot"]),
    "dgpu_host": ({"case_cached": {"kind": "dgpu"}}, ["nvidia_container_toolkit"]),
    "jetson": ({"case_cached": {"kind": "jetson"}}, ["jetson_container_runtime"]),
    "forced_dgpu": ({"case_cached": {"kind": "cpu"}, "host_facts_force_kind": "dgpu"},
                    ["nvidia_container_toolkit"]),
    "playbook_without_the_toolkit": ({"case_cached": {"kind": "dgpu"},
                                      "preflight_roles": ["host_facts", "docker_engine"]}, []),
    # A mistyped input: no look handed over, no failure here (the argument_specs check refuses it).
    "mistyped_toolkit_input": ({"case_cached": {"kind": "dgpu"},
                                "nvidia_container_toolkit_runtime_config": "no-cgroups"}, []),
}


@pytest.fixture(scope="module")
def handed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    tmp = tmp_path_factory.mktemp("looks_handed")
    hosts = {name: {"case_cached": None, "preflight_roles": SITE_ROLES, **edit}
             for name, (edit, _) in SELECTION.items()}
    data = run_playbook(tmp, hosts, PREFLIGHT_PLAYBOOK)
    out: dict[str, list[str]] = {}
    rescued: set[str] = set()
    for task in data["plays"][0]["tasks"]:
        name = task["task"]["name"]
        for host, res in task["hosts"].items():
            if name.endswith("Leave each later role its own look") and not res.get("skipped"):
                rescued.add(host)
            # The mistyped case fails inside the block, and only there; the rescue goes on.
            if host != "mistyped_toolkit_input" or "Keep the look parameters" not in name:
                assert not res.get("failed"), (host, name, res.get("msg"))
            if name == "Say which looks host_facts would take":
                out[host] = res["msg"]
    assert rescued == {"mistyped_toolkit_input"}
    return out


@pytest.mark.parametrize("name", SELECTION)
def test_the_preflight_hands_over_the_looks_of_the_roles_the_host_may_run(
        name: str, handed: dict[str, list[str]]) -> None:
    assert handed[name] == SELECTION[name][1]
