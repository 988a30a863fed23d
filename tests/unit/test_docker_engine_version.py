"""docker_engine_version X.Y pins the newest X.Y.z the source has (tasks/resolve_version.yml).

One real, local ansible-playbook run, one inventory host per case; the package index is a
STAND-IN Packages file (the layout of download.docker.com's apt repository) served on loopback
by this test. Nothing is installed: the playbook runs validate.yml and resolve_version.yml only.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

VERSIONS = ["5:27.5.1-1~debian.12~bookworm", "5:27.5.10-1~debian.12~bookworm",
            "5:27.5.9-1~debian.12~bookworm", "5:27.50.0-1~debian.12~bookworm",
            "5:28.0.4-1~debian.12~bookworm", "5:28.1.0~rc.1-1~debian.12~bookworm"]


def _index() -> str:
    stanzas = []
    for version in VERSIONS:
        for package in ("docker-ce", "docker-ce-cli"):
            stanzas.append(f"Package: {package}\nVersion: {version}\nArchitecture: amd64\n")
    # the CLI has a newer patch than the engine: only docker-ce counts
    stanzas.append("Package: docker-ce-cli\nVersion: 5:27.5.11-1~debian.12~bookworm\n")
    return "\n".join(stanzas)


CE = "5:27.5.1-1~debian.12~bookworm"
CASES: dict[str, dict[str, Any]] = {
    # name: host vars; "pin" the expected docker_engine_pin, "failed" a message fragment
    "xy_fresh_host": {"vars": {"docker_engine_version": "27.5"}, "pin": "27.5.10"},
    "xy_not_27_50": {"vars": {"docker_engine_version": "27.50"}, "pin": "27.50.0"},
    "xy_repo_method": {"vars": {"docker_engine_version": "28.0",
                                "docker_engine_install_method": "repo"}, "pin": "28.0.4"},
    "xy_installed_keeps": {"vars": {"docker_engine_version": "27.5"}, "installed": CE,
                           "pin": "27.5.1", "pinned_ok": True, "no_index": True},
    "xy_missing": {"vars": {"docker_engine_version": "26.1"},
                   "failed": "has no docker-ce 26.1.z"},
    "xyz_as_given": {"vars": {"docker_engine_version": "27.5.1"}, "pin": "27.5.1",
                     "no_index": True},
    "empty_as_given": {"vars": {"docker_engine_version": ""}, "pin": "", "no_index": True},
    "xyz_installed_other": {"vars": {"docker_engine_version": "27.5.9"}, "installed": CE,
                            "pin": "27.5.9", "pinned_ok": False, "no_index": True},
    "major_only_refused": {"vars": {"docker_engine_version": "27"},
                           "failed": "docker_engine_version must be X.Y.Z or X.Y"},
}

PLAYBOOK = """\
- name: Resolve docker_engine_version per case
  hosts: all
  gather_facts: false
  tasks:
    - name: The role's input checks
      ansible.builtin.include_role: {name: docker_engine, tasks_from: validate}
    - name: The facts detect.yml would set
      ansible.builtin.set_fact:
        docker_engine_installed: "{{ installed }}"
        docker_engine_repo_os_id: debian
        docker_engine_codename: bookworm
        docker_engine_arch: amd64
        docker_engine_wanted_package: docker-ce
        docker_engine_pinned_ok: false
    - name: Resolve the version
      ansible.builtin.include_role: {name: docker_engine, tasks_from: resolve_version}
    - name: Report
      ansible.builtin.set_fact:
        result_pin: "{{ docker_engine_pin }}"
        result_pinned_ok: "{{ docker_engine_pinned_ok }}"
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mirror")
    for base in ("linux/debian", "repo"):
        index = root / base / "dists/bookworm/stable/binary-amd64/Packages"
        index.parent.mkdir(parents=True)
        index.write_text(_index())
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def outcome(source: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("version")
    hosts = {}
    for name, case in CASES.items():
        host = {"docker_engine_download_url": source, "docker_engine_repo_url": f"{source}/repo",
                "installed": {"docker-ce": case["installed"], "docker-ce-cli": case["installed"]}
                if "installed" in case else {},
                "ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        host.update(case["vars"])
        hosts[name] = host
    (tmp / "inventory.json").write_text(json.dumps({"all": {"hosts": hosts}}))
    (tmp / "play.yml").write_text(PLAYBOOK)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "NO_PROXY": "*"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp / "inventory.json"),
         str(tmp / "play.yml")],
        capture_output=True, text=True, check=False, env=env, cwd=ROOT, timeout=300)
    data = json.loads(done.stdout)
    results: dict[str, dict[str, Any]] = {h: {"index_read": False, "said": ""} for h in hosts}
    for task in data["plays"][0]["tasks"]:
        for host, result in task["hosts"].items():
            if result.get("failed"):
                results[host]["failed"] = result.get("msg", "")
            if task["task"]["name"].endswith("Read the Docker CE versions the source has"):
                results[host]["index_read"] = not result.get("skipped", False)
            if task["task"]["name"].endswith("Say which version docker_engine_version picked"):
                results[host]["said"] = result.get("msg", "")
            results[host].update(result.get("ansible_facts", {}))
    return results


@pytest.mark.parametrize("name", CASES)
def test_version_resolution(name: str, outcome: dict[str, dict[str, Any]]) -> None:
    case, got = CASES[name], outcome[name]
    if "failed" in case:
        assert case["failed"] in got.get("failed", ""), got
        return
    assert "failed" not in got, got
    assert got["result_pin"] == case["pin"]
    assert got["index_read"] is not case.get("no_index", False)
    if "pinned_ok" in case:
        assert (got["result_pinned_ok"] in (True, "True")) is case["pinned_ok"]


def test_the_run_says_which_version_it_picked(outcome: dict[str, dict[str, Any]]) -> None:
    said = outcome["xy_fresh_host"]["said"]
    assert "docker_engine_version 27.5: docker-ce 27.5.10" in said
    assert "the newest 27.5.z in http://127.0.0.1:" in said
    assert "/repo/dists/bookworm/stable/" in outcome["xy_repo_method"]["said"]
    assert "(installed, held)" in outcome["xy_installed_keeps"]["said"]
