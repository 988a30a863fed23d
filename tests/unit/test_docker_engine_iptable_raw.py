"""docker_engine's rule for Jetsons without iptable_raw (tasks/iptable_raw.yml; moby#49557).

One real, local ansible-playbook run, one inventory host per case; provision_host comes from a
STAND-IN facts module that returns the case's fact. Nothing is installed: the playbook runs
the rule only and reports docker_engine_version afterwards. What each case must show: an
unpinned Jetson without iptable_raw is pinned below 28.0 (an installed release below 28.0 kept
at its X.Y), anything that would be 28.0 or later is refused naming the versions and the
override, and every other host is left as asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playbook_runner import run_playbook

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = """\
- name: The iptable_raw rule per case
  hosts: all
  gather_facts: false
  tasks:
    - name: Stand-in provision_host
      standin_facts:
        fact: "{{ case_fact }}"
    - name: The rule
      ansible.builtin.include_role: {name: docker_engine, tasks_from: iptable_raw}
    - name: Report
      ansible.builtin.set_fact:
        result_version: "{{ docker_engine_version | default('') }}"
"""


def fact(kind: str = "jetson", raw: bool | None = False, installed: dict[str, str] | None = None,
         ) -> dict[str, Any]:
    return {
        "kind": kind,
        "kernel": {"release": "5.15.148-tegra", "iptable_raw": raw},
        "jetson": {"l4t_release": "36", "l4t_revision": "4.3"},
        "packages": {name: {"version": version, "held": False}
                     for name, version in (installed or {}).items()},
    }


CE_27 = {"docker-ce": "5:27.3.1-1~ubuntu.22.04~jammy"}
CE_28 = {"docker-ce": "5:28.0.4-1~ubuntu.22.04~jammy"}
# name: (fact, role vars, expected docker_engine_version or a refusal fragment)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "fresh_pinned": (fact(), {}, "27.5"),
    "unknown_index_pinned": (fact(raw=None), {}, "27.5"),
    "own_pin_value": (fact(), {"docker_engine_no_iptable_raw_version": "27.4"}, "27.4"),
    "installed_27_kept": (fact(installed=CE_27), {}, "27.3"),
    "installed_28_refused": (fact(installed=CE_28), {}, "REFUSED:docker-ce 28.0.4 (installed)"),
    "asked_28_refused": (fact(), {"docker_engine_version": "28.0"}, "REFUSED:docker-ce 28.0"),
    "asked_29_patch_refused": (fact(), {"docker_engine_version": "29.1.2"},
                               "REFUSED:docker_engine_allow_docker28_without_iptable_raw"),
    "asked_27_kept": (fact(), {"docker_engine_version": "27.5.1"}, "27.5.1"),
    "distro_newest_refused": (fact(), {"docker_engine_install_method": "distro"},
                              "REFUSED:the newest docker.io of the distribution"),
    "distro_installed_26_kept": (fact(installed={"docker.io": "26.1.5+dfsg1-9+b9"}),
                                 {"docker_engine_install_method": "distro"}, ""),
    "override": (fact(), {"docker_engine_allow_docker28_without_iptable_raw": True}, ""),
    "kernel_has_raw": (fact(raw=True), {}, ""),
    "dgpu_host": (fact(kind="dgpu"), {}, ""),
    "cpu_host_28": (fact(kind="cpu", installed=CE_28), {"docker_engine_version": "28.0"}, "28.0"),
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    hosts = {name: {"case_fact": case_fact, **role_vars}
             for name, (case_fact, role_vars, _) in CASES.items()}
    data = run_playbook(tmp_path_factory.mktemp("iptable_raw"), hosts, PLAYBOOK)
    results: dict[str, dict[str, Any]] = {host: {} for host in hosts}
    for task in data["plays"][0]["tasks"]:
        for host, result in task["hosts"].items():
            if result.get("failed"):
                results[host]["failed"] = " ".join(str(result.get("msg", "")).split())
            results[host].update(result.get("ansible_facts", {}))
    return results


@pytest.mark.parametrize("name", CASES)
def test_the_rule(name: str, outcome: dict[str, dict[str, Any]]) -> None:
    expected, got = CASES[name][2], outcome[name]
    if expected.startswith("REFUSED:"):
        assert expected.removeprefix("REFUSED:") in got.get("failed", ""), got
        assert "moby#49557" in got["failed"]
        assert "Nothing was changed." in got["failed"]
        return
    assert "failed" not in got, got
    assert got["result_version"] == expected
