"""docker_engine's one gate before packages.yml (vars/main.yml, docker_engine_due_packages).

One real, local ansible-playbook run, one inventory host per case; provision_host comes from a
STAND-IN facts module that returns the case's fact. Nothing is installed: the playbook runs
detect.yml (the decisions) and reports the gate. What each case must show: a converged host
(each install method, pinned or not, X.Y or X.Y.Z) keeps packages.yml shut, and every state
one of its steps would act on opens it (the archived NVIDIA sources are the toolkit's list,
read from its vars file). A gate that stayed shut where a step has work would
leave a host unconverged with 0 changed, so each opener is a case of its own.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from playbook_runner import run_playbook

PLAYBOOK = """\
- name: docker_engine's packages gate per case
  hosts: all
  gather_facts: false
  tasks:
    - name: Stand-in provision_host
      standin_facts:
        fact: "{{ case_fact }}"
    - name: The decisions
      ansible.builtin.include_role: {name: docker_engine, tasks_from: detect, public: true}
    - name: Report
      ansible.builtin.set_fact:
        case_due: "{{ docker_engine_due_packages | bool }}"
        case_pinned_ok: "{{ docker_engine_pinned_ok | bool }}"
"""

CE = "5:27.5.1-1~debian.12~bookworm"
CE_CLI_OTHER = "5:27.5.0-1~debian.12~bookworm"
IO = "26.1.5+dfsg1-9+b9"


def fact(packages: dict[str, tuple[str, bool]] | None = None, **edit: Any) -> dict[str, Any]:
    """A Debian 12 host; PACKAGES name -> (version, held)."""
    base: dict[str, Any] = {
        "kind": "cpu",
        "os": {"id": "debian", "repo_id": "debian", "codename": "bookworm",
               "version_id": "12"},
        "arch": {"dpkg": "amd64"},
        "dpkg_interrupted": [],
        "config_files": [],
        "docker": {"package": "docker-ce", "daemon_json_aside": False},
        "packages": {name: {"version": version, "held": held}
                     for name, (version, held) in (packages or {}).items()},
    }
    for key, value in edit.items():
        if isinstance(value, dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


SCRIPT = {"docker-ce": (CE, False), "docker-ce-cli": (CE, False), "containerd.io": ("1.7", False)}
SCRIPT_HELD = {name: (version, True) for name, (version, _) in SCRIPT.items()}
DISTRO = {"docker.io": (IO, False)}

# name: (fact, role vars, gate open?)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], bool]] = {
    "script_converged": (fact(SCRIPT), {}, False),
    "script_pinned_converged": (fact(SCRIPT_HELD), {"docker_engine_version": "27.5.1"}, False),
    "script_xy_converged": (fact(SCRIPT_HELD), {"docker_engine_version": "27.5"}, False),
    "distro_converged": (fact(DISTRO, docker={"package": "docker.io"}),
                         {"docker_engine_install_method": "distro"}, False),
    "distro_pinned_converged": (
        fact({"docker.io": (IO, True)}, docker={"package": "docker.io"}),
        {"docker_engine_install_method": "distro", "docker_engine_version": "26.1"}, False),
    "script_fresh_host": (fact(docker={"package": None}), {}, True),
    "script_other_patch_pinned": (fact(SCRIPT_HELD), {"docker_engine_version": "27.5.9"}, True),
    "script_xy_other_minor": (fact(SCRIPT_HELD), {"docker_engine_version": "27.4"}, True),
    "script_xy_cli_on_another_patch": (
        fact({**SCRIPT_HELD, "docker-ce-cli": (CE_CLI_OTHER, True)}),
        {"docker_engine_version": "27.5"}, True),
    "script_pinned_not_held": (fact(SCRIPT), {"docker_engine_version": "27.5.1"}, True),
    "script_unpinned_still_held": (fact(SCRIPT_HELD), {}, True),
    "repo_method": (fact(SCRIPT), {"docker_engine_install_method": "repo"}, True),
    "distro_package_missing": (fact(docker={"package": None}),
                               {"docker_engine_install_method": "distro"}, True),
    "method_change_to_distro": (fact(SCRIPT), {"docker_engine_install_method": "distro"}, True),
    "method_change_to_script": (fact(DISTRO, docker={"package": "docker.io"}), {}, True),
    "snap_docker": (fact(docker={"package": "snap"}), {}, True),
    "dpkg_interrupted": (fact(SCRIPT, dpkg_interrupted=["docker-ce"]), {}, True),
    "daemon_json_set_aside": (fact(SCRIPT, docker={"daemon_json_aside": True}), {}, True),
    "nvidia_apt_file": (fact(SCRIPT, config_files=[
        "/etc/apt/sources.list.d/nvidia-docker.list"]), {}, True),
    "old_nvidia_key": (fact(SCRIPT, config_files=[
        "/etc/apt/trusted.gpg.d/libnvidia-container.gpg"]), {}, True),
    # The toolkit's own source and key and JetPack's source are not stale: a converged GPU or
    # Jetson host keeps the gate shut.
    "toolkit_own_source": (fact(SCRIPT, config_files=[
        "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
        "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"]), {}, False),
    "jetpack_source": (fact(SCRIPT, config_files=[
        "/etc/apt/sources.list.d/nvidia-l4t-apt-source.list",
        "/etc/apt/trusted.gpg.d/jetson-ota-public.asc"]), {}, False),
    "stale_docker_repo_file": (fact(SCRIPT, config_files=[
        "/etc/apt/sources.list.d/docker-ce.list"]), {}, True),
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    hosts = {name: {"case_fact": copy.deepcopy(case_fact), **role_vars}
             for name, (case_fact, role_vars, _) in CASES.items()}
    data = run_playbook(tmp_path_factory.mktemp("engine_gate"), hosts, PLAYBOOK)
    results: dict[str, dict[str, Any]] = {host: {} for host in hosts}
    for task in data["plays"][0]["tasks"]:
        for host, result in task["hosts"].items():
            assert not result.get("failed"), (host, result.get("msg"))
            results[host].update(result.get("ansible_facts", {}))
    return results


@pytest.mark.parametrize("name", CASES)
def test_packages_yml_is_included_exactly_when_a_step_has_work(
        name: str, outcome: dict[str, dict[str, Any]]) -> None:
    assert (outcome[name]["case_due"] in (True, "True")) is CASES[name][2], outcome[name]


def test_an_installed_xy_z_meets_an_xy_pin_before_resolve_version(
        outcome: dict[str, dict[str, Any]]) -> None:
    """detect.yml's pin check takes docker-ce X.Y.z for X.Y as resolve_version.yml keeps it,
    and only when both packages are at that one X.Y.z."""
    assert outcome["script_xy_converged"]["case_pinned_ok"] in (True, "True")
    assert outcome["script_xy_cli_on_another_patch"]["case_pinned_ok"] in (False, "False")
    assert outcome["script_xy_other_minor"]["case_pinned_ok"] in (False, "False")
