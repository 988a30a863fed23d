"""The writer and restart tasks that docker_engine and docker_restart skip on the controller.

One real, local ansible-playbook run, one inventory host per case. The modules the tasks call
(docker_daemon_json, docker_unit_dropin, docker_restart) are STAND-INS here (a library dir put
before the project's, modules that only report they ran), and provision_host comes from a
STAND-IN facts module that returns the case's fact; nothing on this machine is touched.
ansible.builtin.systemd_service cannot be stood in for: service.yml runs in check mode with
errors ignored, and only "skipped or not" is read. What each case must show: a task is skipped
only when the fact (gathered in this run, nothing written since) says the host is as wanted;
any doubt runs the module.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
from playbook_runner import run_playbook

ROOT = Path(__file__).resolve().parents[2]
DROPIN = "/etc/systemd/system/docker.service.d/http-proxy.conf"
PROXY = {"http": "http://proxy.example:3128", "no_proxy": "localhost"}
# What docker_unit_dropin writes for PROXY (the role's template, as rendered by Ansible).
PROXY_TEXT = ('# Ansible managed (docker_engine role)\n[Service]\n'
              'Environment="HTTP_PROXY=http://proxy.example:3128"\n'
              'Environment="NO_PROXY=localhost"\n')
TASKS = ("daemon_json", "proxy", "restart", "service")

STANDIN = '''#!/usr/bin/python
# STAND-IN for a project module in tests/unit/test_controller_decisions.py: reports it ran.
from ansible.module_utils.basic import AnsibleModule
PARAMS = ("options", "absent", "unit", "name", "content", "state", "requested", "api_timeout")
module = AnsibleModule(argument_spec={p: {"type": "raw"} for p in PARAMS},
                       supports_check_mode=True)
module.exit_json(changed=False, standin_ran=True)
'''
PLAYBOOK = """\
- name: Controller decisions per case
  hosts: all
  gather_facts: false
  tasks:
    - name: Stand-in provision_host
      standin_facts:
        fact: "{{ case_fact }}"
        extra: "{{ case_extra }}"
    - name: Mark the fact as gathered in this run, as host_facts does
      ansible.builtin.set_fact:
        host_facts_gathered_this_run: "{{ case_gathered }}"
    - name: Daemon.json
      ansible.builtin.import_role: {name: docker_engine, tasks_from: daemon_json}
    - name: Proxy
      ansible.builtin.import_role: {name: docker_engine, tasks_from: proxy}
    - name: Restart
      ansible.builtin.import_role: {name: docker_restart}
    - name: Service
      ansible.builtin.import_role: {name: docker_engine, tasks_from: service}
      check_mode: true
      ignore_errors: true
"""
SETTLED: dict[str, Any] = {
    "docker": {
        "units": {"docker.service": {"active_state": "active", "unit_file_state": "enabled",
                                     "active": True, "enabled": True,
                                     "need_daemon_reload": False}},
        "restart_pending": False,
        "daemon_json": '{"log-opts": {"max-size": "10m", "max-file": "3"}, "debug": false}',
        "daemon_json_settings": {"log-opts": {"max-size": "10m", "max-file": "3"},
                                 "debug": False},
        "dropin_sha256": {DROPIN: hashlib.sha256(PROXY_TEXT.encode()).hexdigest()},
    },
}
BASE_VARS: dict[str, Any] = {
    "docker_engine_daemon_options": {"log-opts": {"max-size": "10m"}},
    "docker_engine_daemon_options_absent": [],
    "docker_engine_proxy": PROXY,
    "docker_engine_present_package": "docker.io",
}


def case(fact_edit: dict[str, Any] | None = None, extra: dict[str, Any] | None = None,
         gathered: bool = True, **role_vars: Any) -> dict[str, Any]:
    fact = copy.deepcopy(SETTLED)
    fact["docker"].update(fact_edit or {})
    return {**BASE_VARS, **role_vars, "case_fact": fact, "case_gathered": gathered,
            "case_extra": {"gpuhost_docker_config_written": False} | (extra or {})}


CASES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "settled": (case(), set()),
    "option_differs": (case(docker_engine_daemon_options={"log-opts": {"max-size": "20m"}}),
                       {"daemon_json"}),
    "new_option": (case(docker_engine_daemon_options={"live-restore": True}), {"daemon_json"}),
    "absent_path_present": (case(docker_engine_daemon_options_absent=["log-opts.max-file"]),
                            {"daemon_json"}),
    "absent_path_gone": (case(docker_engine_daemon_options_absent=["log-opts.compress", "x.y"]),
                         set()),
    "daemon_json_missing": (case({"daemon_json": None, "daemon_json_settings": None}),
                            {"daemon_json"}),
    "daemon_json_not_an_object": (case({"daemon_json": "[1]", "daemon_json_settings": None}),
                                  {"daemon_json"}),
    "proxy_differs": (case(docker_engine_proxy={"http": "http://other:3128"}), {"proxy"}),
    "proxy_unwanted_but_there": (case(docker_engine_proxy={}), {"proxy"}),
    "proxy_unwanted_and_gone": (case({"dropin_sha256": {}}, docker_engine_proxy={}), set()),
    "proxy_a_symlink": (case({"dropin_sha256": {DROPIN: "symlink"}}), {"proxy"}),
    "written_since_the_fact": (case(extra={"gpuhost_docker_config_written": True}),
                               {"daemon_json", "proxy"}),
    "restart_asked_this_run": (case(extra={"gpuhost_docker_restart_requested": True}),
                               {"restart"}),
    "restart_pending": (case({"restart_pending": True}), {"restart"}),
    "docker_stopped": (case({"units": {"docker.service": {
        "active_state": "failed", "unit_file_state": "enabled", "active": False,
        "enabled": True, "need_daemon_reload": False}}}), {"restart"}),
    "docker_disabled": (case({"units": {"docker.service": {
        "active_state": "active", "unit_file_state": "disabled", "active": True,
        "enabled": False, "need_daemon_reload": False}}}), {"service"}),
    "no_systemd_answer": (case({"units": {}}), {"restart", "service"}),
    "fact_from_an_earlier_run": (case(gathered=False), set(TASKS)),
    "fact_without_the_new_keys": (case({"units": None, "restart_pending": None,
                                        "daemon_json": None, "daemon_json_settings": None,
                                        "dropin_sha256": None}), set(TASKS)),
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    tmp = tmp_path_factory.mktemp("decisions")
    hosts = {name: dict(vars_) for name, (vars_, _) in CASES.items()}
    for host in hosts.values():  # None stands for a key the fact does not have
        host["case_fact"]["docker"] = {k: v for k, v in host["case_fact"]["docker"].items()
                                       if v is not None or k.startswith("daemon_json")}
    hosts["fact_without_the_new_keys"]["case_fact"]["docker"] = {}
    data = run_playbook(tmp, hosts, PLAYBOOK, modules={
        name: STANDIN for name in ("docker_daemon_json", "docker_unit_dropin", "docker_restart")})
    result: dict[str, set[str]] = {host: set() for host in hosts}
    labels = {"Merge Docker's settings into daemon.json": "daemon_json",
              "Write or remove Docker's proxy drop-in": "proxy",
              "Restart Docker once for this run's changes": "restart",
              "Enable Docker at boot": "service"}
    for task in data["plays"][0]["tasks"]:
        label = labels.get(task["task"]["name"].split(" : ")[-1])
        for host, res in task["hosts"].items():
            assert label == "service" or not res.get("failed"), (host, label, res.get("msg"))
            if label and not res.get("skipped"):
                assert label == "service" or res.get("standin_ran"), (host, label, res)
                result[host].add(label)
    return result


@pytest.mark.parametrize("name", CASES)
def test_a_writer_runs_unless_the_fact_says_it_has_nothing_to_do(
        name: str, ran: dict[str, set[str]]) -> None:
    assert ran[name] == CASES[name][1]


ACCESS_PLAYBOOK = """\
- name: docker_access decides from its one look
  hosts: all
  gather_facts: false
  tasks:
    - name: The role's checks and decisions
      ansible.builtin.include_role: {name: docker_access, tasks_from: validate}
    - name: Report the drop-in decision
      ansible.builtin.set_fact:
        case_dropin_change: "{{ docker_access_dropin_change | bool }}"
"""
ACCESS_STANDIN = '''#!/usr/bin/python
# STAND-IN for docker_access_facts: a host whose socket drop-in holds the case's content.
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec={p: {"type": "raw"} for p in (
    "users", "socket_group", "dropin_path", "profile_script", "rootless_users")},
    supports_check_mode=True)
module.exit_json(changed=False, passwd={}, group={"docker": ["x", "999", ""]},
                 socket_unit="loaded", profile_script_exists=False,
                 live_socket={"exists": True, "gr_name": "adm", "mode": "0640"},
                 dropin={"exists": CONTENT is not None, "symlink": False, "content": CONTENT})
'''
# What docker_unit_dropin writes for group adm, mode 0640 (the role's template, as rendered).
ACCESS_DROPIN = ("# Ansible managed\n# Owner and mode of /run/docker.sock (role docker_access). "
                 "The group is root-equivalent.\n[Socket]\nSocketUser=root\nSocketGroup=adm\n"
                 "SocketMode=0640\n")


@pytest.mark.parametrize(("content", "change"), [
    (ACCESS_DROPIN, False),
    (ACCESS_DROPIN.replace("0640", "0660"), True),
    (None, True),
])
def test_docker_access_compares_its_socket_dropin_as_written(
        tmp_path: Path, content: str | None, change: bool) -> None:
    """The drop-in on disk as docker_unit_dropin would write it is no change (socket.yml is
    skipped); another mode, or none on disk, is a change."""
    host = {"docker_access_socket_group": "adm", "docker_access_socket_mode": "0640"}
    data = run_playbook(tmp_path, {"h": host}, ACCESS_PLAYBOOK, modules={
        "docker_access_facts": ACCESS_STANDIN.replace("CONTENT", repr(content))})
    facts = [res["ansible_facts"] for task in data["plays"][0]["tasks"]
             for res in task["hosts"].values()
             if "case_dropin_change" in res.get("ansible_facts", {})]
    assert facts, data
    assert facts[0]["case_dropin_change"] is change
