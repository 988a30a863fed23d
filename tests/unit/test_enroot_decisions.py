"""The enroot role's controller decisions, from a given look at a host.

One real, local ansible-playbook run, one inventory host per case (local connection): the
role's defaults (as group vars) and vars are loaded, enroot_host (what the enroot_facts
module would return) and provision_host (a STAND-IN facts module) come from the case, and
roles/enroot/tasks/decide.yml runs as it is; the drop-in and sysctl templates are rendered
with the case's settings. Nothing on this machine is read
or changed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from playbook_runner import run_playbook

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "enroot"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

SYSCTLS_OK = {"user.max_user_namespaces": 63000, "user.max_mnt_namespaces": 63000,
              "kernel.unprivileged_userns_clone": 1,
              "kernel.apparmor_restrict_unprivileged_userns": None}


def look(packages: dict[str, str] | None = None, **sysctls: int | None) -> dict[str, Any]:
    return {"arch": "arm64", "packages": packages or {},
            "sysctls": {**SYSCTLS_OK, **{k.replace("__", "."): v for k, v in sysctls.items()}},
            "proc_sys_writable": True, "apparmor": {"profile": True, "loaded": False},
            "dirs": {}, "hooks": {"linked": {}, "extra": []}, "sysctl_text": None}


BOTH = {"enroot": "4.1.2-1", "enroot+caps": "4.1.2-1"}
CASES: dict[str, dict[str, Any]] = {
    "fresh-dgpu": {"kind": "dgpu", "host": look()},
    "fresh-cpu": {"kind": "cpu", "host": look()},
    "installed": {"kind": "dgpu",
                  "host": look({**BOTH, "libnvidia-container-tools": "1.17.8-1"})},
    "other-version": {"kind": "cpu", "host": look({"enroot": "4.1.1-1",
                                                   "enroot+caps": "4.1.1-1"})},
    "caps-missing": {"kind": "cpu", "host": look({"enroot": "4.1.2-1"})},
    "caps-unwanted": {"kind": "cpu", "host": look(BOTH), "vars": {"enroot_caps": False}},
    "no-caps-right": {"kind": "cpu", "host": look({"enroot": "4.1.2-1"}),
                      "vars": {"enroot_caps": False}},
    "userns-off": {"kind": "cpu", "host": look(BOTH, user__max_user_namespaces=0,
                                               kernel__unprivileged_userns_clone=None)},
    "clone-off-apparmor": {"kind": "cpu",
                           "host": look(BOTH, kernel__unprivileged_userns_clone=0,
                                        kernel__apparmor_restrict_unprivileged_userns=1)},
    "own-paths": {"kind": "cpu", "host": look(BOTH),
                  "vars": {"enroot_config": {"ENROOT_DATA_PATH": "/scratch/enroot/$(id -un)",
                                             "ENROOT_CACHE_PATH": None,
                                             "ENROOT_MOUNT_HOME": True,
                                             "ENROOT_ROOTFS_WRITABLE": False}}},
}


PLAYBOOK = """\
- name: enroot decisions per case
  hosts: all
  gather_facts: false
  vars_files:
    - {role}/vars/main.yml
  tasks:
    - name: The case's provision_host (STAND-IN facts module)
      standin_facts:
        fact: {{kind: "{{{{ case_kind }}}}"}}
    - name: The case's look
      ansible.builtin.set_fact:
        enroot_host: "{{{{ case_host }}}}"
    - name: Decide
      ansible.builtin.include_tasks: {role}/tasks/decide.yml
    - name: Report
      ansible.builtin.debug:
        msg:
          packages_ok: "{{{{ enroot_packages_ok }}}}"
          extra_apt: "{{{{ enroot_extra_apt }}}}"
          arch: "{{{{ enroot_arch }}}}"
          sysctl_wrong: "{{{{ enroot_sysctl_wrong }}}}"
          apparmor: "{{{{ enroot_apparmor_restricts }}}}"
          shared: "{{{{ enroot_shared_dirs }}}}"
          root_dirs: "{{{{ enroot_root_dirs }}}}"
          dropin: "{{{{ lookup('template', '{role}/templates/enroot.conf.j2') }}}}"
          sysctl_file: "{{{{ lookup('template', '{role}/templates/sysctl.conf.j2') }}}}"
"""


@pytest.fixture(scope="module")
def decisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    hosts = {name: {"case_host": case["host"], "case_kind": case["kind"], **case.get("vars", {})}
             for name, case in CASES.items()}
    # The role's defaults as group vars of all: below each case's host vars, as in a run.
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    output = run_playbook(tmp_path_factory.mktemp("enroot"), hosts, PLAYBOOK.format(role=ROLE),
                          group_vars=defaults)
    assert all(s["failures"] == 0 for s in output["stats"].values()), output["stats"]
    tasks = output["plays"][0]["tasks"]
    report = next(t for t in tasks if t["task"]["name"] == "Report")
    return {host: result["msg"] for host, result in report["hosts"].items()}


@pytest.mark.parametrize(("case", "ok"), [
    ("fresh-dgpu", False), ("installed", True), ("other-version", False),
    ("caps-missing", False), ("caps-unwanted", False), ("no-caps-right", True)])
def test_packages_are_installed_only_when_not_as_wanted(
        decisions: dict[str, dict[str, Any]], case: str, ok: bool) -> None:
    assert decisions[case]["packages_ok"] is ok


def test_libnvidia_container_tools_only_on_dgpu_hosts_without_it(
        decisions: dict[str, dict[str, Any]]) -> None:
    assert decisions["fresh-dgpu"]["extra_apt"] == ["libnvidia-container-tools"]
    assert decisions["fresh-cpu"]["extra_apt"] == []
    assert decisions["installed"]["extra_apt"] == []
    assert decisions["fresh-cpu"]["arch"] == "arm64"


def test_only_wrong_existing_sysctls_are_set(decisions: dict[str, dict[str, Any]]) -> None:
    assert decisions["installed"]["sysctl_wrong"] == []
    assert decisions["userns-off"]["sysctl_wrong"] == ["user.max_user_namespaces"]
    # The file keeps the right value and raises the wrong one; a missing sysctl is left out.
    assert decisions["userns-off"]["sysctl_file"].splitlines()[-2:] == [
        "user.max_mnt_namespaces = 63000", "user.max_user_namespaces = 65536"]
    assert "unprivileged_userns_clone" not in decisions["userns-off"]["sysctl_file"]
    assert decisions["clone-off-apparmor"]["sysctl_wrong"] == ["kernel.unprivileged_userns_clone"]


def test_apparmor_restriction_is_seen(decisions: dict[str, dict[str, Any]]) -> None:
    assert decisions["clone-off-apparmor"]["apparmor"] is True
    assert decisions["installed"]["apparmor"] is False


def test_default_drop_in_and_shared_folders(decisions: dict[str, dict[str, Any]]) -> None:
    got = decisions["installed"]
    # Only the runtime path is shared (cache and data stay under each home), and root's folder
    # in it is the role's, made before any user could make it.
    assert got["shared"] == ["/run/enroot-users"]
    assert got["root_dirs"] == ["/run/enroot-users/user-0"]
    lines = [line for line in got["dropin"].splitlines() if not line.startswith("#")]
    assert lines == ["ENROOT_RUNTIME_PATH /run/enroot-users/user-$(id -u)"]


def test_user_settings_over_the_base(decisions: dict[str, dict[str, Any]]) -> None:
    got = decisions["own-paths"]
    lines = [line for line in got["dropin"].splitlines() if not line.startswith("#")]
    assert lines == ["ENROOT_DATA_PATH /scratch/enroot/$(id -un)", "ENROOT_MOUNT_HOME yes",
                     "ENROOT_ROOTFS_WRITABLE no",
                     "ENROOT_RUNTIME_PATH /run/enroot-users/user-$(id -u)"]
    assert got["shared"] == ["/run/enroot-users", "/scratch/enroot"]
