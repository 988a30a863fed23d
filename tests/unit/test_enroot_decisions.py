"""The enroot role's controller decisions, from a given look at a host.

One real, local ansible-playbook run, one inventory host per case (local connection): the
role's defaults (as group vars) and vars are loaded, enroot_host (what the enroot_facts
module would return) and provision_host (a STAND-IN facts module) come from the case, and
roles/enroot/tasks/decide.yml runs as it is; the drop-in and sysctl templates are rendered
with the case's settings. Nothing on this machine is read
or changed.
"""

from __future__ import annotations

import hashlib
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
            "dirs": {}, "hooks": {"linked": {}, "extra": []}, "sysctl_text": None,
            "files": {DROPIN: None, TMPFILES: None}, "users": {}}


DROPIN, TMPFILES = "/etc/enroot/enroot.conf.d/90-gpuhost.conf", "/etc/tmpfiles.d/enroot.conf"
EXTRA = "/usr/share/enroot/hooks.d"
ROOT_0644 = {"type": "file", "owner": "root", "group": "root", "mode": "0644"}
RUN_DIRS = {"/run/enroot-users": {"mode": "1777", "owner": "root", "group": "root"},
            "/run/enroot-users/user-0": {"mode": "0700", "owner": "root", "group": "root"}}
CREDENTIALS = [{"user": "alice", "machine": "registry.example.invalid", "login": "alice",
                "password": "standin-secret"}]
# What the role writes for CREDENTIALS (task context: ansible_managed's default).
CREDENTIALS_TEXT = ("# Managed by Ansible\n"
                    "machine registry.example.invalid login alice password standin-secret\n")


def alice(mode: str = "0600", text: str = CREDENTIALS_TEXT,
          links: list[str] | None = None) -> dict[str, Any]:
    """alice's side of enroot_credentials as enroot_facts reports it."""
    def state(kind: str, perm: str) -> dict[str, str]:
        return {"type": kind, "owner": "alice", "group": "alice", "mode": perm}
    return {"passwd": ["x", "1000", "1000", "", "/home/alice", "/bin/sh"], "group": "alice",
            "links": links or [], "dirs": {".config": state("directory", "0755"),
                                           ".config/enroot": state("directory", "0700")},
            "credentials": {**state("file", mode),
                            "sha1": hashlib.sha1(text.encode()).hexdigest()}}


def converged(**changes: Any) -> dict[str, Any]:
    """A host as the role leaves it (the two files as the role renders them: the playbook
    fills in their text where the case says `written`), with CHANGES over it."""
    host = look(BOTH)
    host.update(dirs=RUN_DIRS, files={DROPIN: {**ROOT_0644, "text": "written"},
                                      TMPFILES: {**ROOT_0644, "text": "written"}})
    host.update(changes)
    return host


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
    "converged": {"kind": "cpu", "host": converged()},
    "dropin-edited": {"kind": "cpu",
                      "host": converged(files={DROPIN: {**ROOT_0644, "text": "# edited\n"},
                                               TMPFILES: {**ROOT_0644, "text": "written"}})},
    "dropin-mode": {"kind": "cpu",
                    "host": converged(files={DROPIN: {**ROOT_0644, "mode": "0666",
                                                      "text": "written"},
                                             TMPFILES: {**ROOT_0644, "text": "written"}})},
    "shared-dir-mode": {"kind": "cpu", "host": converged(dirs={
        **RUN_DIRS, "/run/enroot-users": {"mode": "0755", "owner": "root", "group": "root"}})},
    "hook-wanted": {"kind": "cpu", "vars": {"enroot_extra_hooks": ["50-slurm-pmi"]},
                    "host": converged(hooks={"linked": {"50-slurm-pmi.sh":
                                                        f"{EXTRA}/50-slurm-pmi.sh"},
                                             "extra": ["50-slurm-pmi.sh"]})},
    "hook-missing": {"kind": "cpu", "vars": {"enroot_extra_hooks": ["50-slurm-pmi"]},
                     "host": converged(hooks={"linked": {}, "extra": ["50-slurm-pmi.sh"]})},
    "hook-unlisted": {"kind": "cpu",
                      "host": converged(hooks={"linked": {"50-slurm-pmi.sh":
                                                         f"{EXTRA}/50-slurm-pmi.sh"},
                                               "extra": ["50-slurm-pmi.sh"]})},
    "creds-right": {"kind": "cpu", "vars": {"enroot_credentials": CREDENTIALS},
                    "host": converged(users={"alice": alice()})},
    "creds-other-password": {"kind": "cpu", "vars": {"enroot_credentials": CREDENTIALS},
                             "host": converged(users={"alice": alice(text="# old\n")})},
    "creds-mode": {"kind": "cpu", "vars": {"enroot_credentials": CREDENTIALS},
                   "host": converged(users={"alice": alice(mode="0644")})},
    "creds-no-user": {"kind": "cpu", "vars": {"enroot_credentials": CREDENTIALS},
                      "host": converged(users={"alice": None})},
    "creds-link": {"kind": "cpu", "vars": {"enroot_credentials": CREDENTIALS},
                   "host": converged(users={"alice": alice(links=["/home/alice/.config"])})},
    "sysctl-wrong-here": {"kind": "cpu", "host": converged(
        sysctls={**SYSCTLS_OK, "user.max_user_namespaces": 0})},
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
  vars:
    role_path: {role}
  tasks:
    - name: The case's provision_host (STAND-IN facts module)
      standin_facts:
        fact: {{kind: "{{{{ case_kind }}}}"}}
    - name: The case's look
      ansible.builtin.set_fact:
        enroot_host: "{{{{ case_host }}}}"
    - name: Put the role's own rendering where the case's look says `written`
      ansible.builtin.set_fact:
        enroot_host: >-
          {{{{ enroot_host | combine({{'files': dict(_paths | zip(_states))}}) }}}}
      vars:
        _paths: "{{{{ enroot_host['files'].keys() | list }}}}"
        _states: >-
          {{%- set out = [] -%}}
          {{%- for path, now in enroot_host['files'].items() -%}}
          {{%-   set _ = out.append(now if now is none or now['text'] != 'written'
                                    else now | combine({{'text': enroot_files_wanted[path]}})) -%}}
          {{%- endfor -%}}
          {{{{ out }}}}
    - name: Decide
      ansible.builtin.include_tasks: {role}/tasks/decide.yml
    - name: Report
      ansible.builtin.debug:
        msg:
          packages_ok: "{{{{ enroot_packages_ok }}}}"
          due: >-
            {{{{ {{'packages': enroot_due_packages | bool, 'kernel': enroot_due_kernel | bool,
                 'config': enroot_due_config | bool,
                 'credentials': enroot_due_credentials | bool}} }}}}
          credentials_wrong: "{{{{ enroot_credentials_wrong }}}}"
          files_wrong: "{{{{ enroot_files_wrong }}}}"
          warnings: "{{{{ enroot_warnings }}}}"
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


NOTHING_DUE = {"packages": False, "kernel": False, "config": False, "credentials": False}


@pytest.mark.parametrize("case", ["converged", "hook-wanted", "creds-right"])
def test_nothing_is_due_on_a_converged_host(decisions: dict[str, dict[str, Any]],
                                            case: str) -> None:
    """The no-op: the gate in tasks/enroot.yml stays shut."""
    assert decisions[case]["due"] == NOTHING_DUE


@pytest.mark.parametrize(("case", "due"), [
    ("fresh-cpu", {"packages", "config"}), ("other-version", {"packages", "config"}),
    ("dropin-edited", {"config"}), ("dropin-mode", {"config"}), ("shared-dir-mode", {"config"}),
    ("hook-missing", {"config"}), ("hook-unlisted", {"config"}),
    ("creds-other-password", {"credentials"}), ("creds-mode", {"credentials"}),
    ("creds-no-user", {"credentials"}), ("creds-link", {"credentials"}),
    ("sysctl-wrong-here", {"kernel"})])
def test_only_the_steps_with_work_are_due(decisions: dict[str, dict[str, Any]], case: str,
                                          due: set[str]) -> None:
    assert {step for step, on in decisions[case]["due"].items() if on} == due


def test_only_the_edited_file_is_rewritten(decisions: dict[str, dict[str, Any]]) -> None:
    assert decisions["dropin-edited"]["files_wrong"] == [DROPIN]
    assert decisions["converged"]["files_wrong"] == []


def test_credentials_compare_by_checksum_and_owner(decisions: dict[str, dict[str, Any]]) -> None:
    assert decisions["creds-right"]["credentials_wrong"] == []
    for case in ("creds-other-password", "creds-mode", "creds-no-user", "creds-link"):
        assert decisions[case]["credentials_wrong"] == ["alice"], case
