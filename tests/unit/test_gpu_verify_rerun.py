"""gpu_verify on a re-run: one container for engine and limits, the report, opt-in reuse.

The host is a stand-in runner that answers commands by prefix and records them; the report is a
file under pytest's tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from module_loader import load_module
from playbook_runner import run_playbook

gv = load_module("gpu_verify")
Cmd = gv.Cmd

LIMITS_OUT = "cgroup=2\ncpu=50000 100000\nmemory=67108864\n"
BASE = {
    "sh -c": (0, "docker=/usr/bin/docker\n", ""),
    "systemctl is-active docker": (0, "active\n", ""),
    "docker version": (0, "26.1.5\n", ""),
    "docker info": (0, "26.1.5 overlay2 cgroup-driver=systemd\n", ""),
    "docker run --rm img echo": (0, "gpu-verify-ok\n", ""),
}


def runner(answers: dict[str, tuple[int, str, str]], calls: list[str]) -> Callable[..., Any]:
    def run(argv: list[str]) -> Any:
        line = " ".join(argv)
        calls.append(line)
        for prefix, (rc, out, err) in answers.items():
            if line.startswith(prefix):
                return Cmd(tuple(argv), rc, out, err)
        return Cmd(tuple(argv), 127, "", f"{argv[0]}: not found")

    return run


def containers(calls: list[str]) -> list[str]:
    return [c for c in calls if c.startswith("docker run")]


def test_engine_and_limits_share_one_limited_container() -> None:
    calls: list[str] = []
    answers = {**BASE, "docker run --rm --cpus": (0, "gpu-verify-ok\n" + LIMITS_OUT, "")}
    results = gv.run_checks(runner(answers, calls), ["engine", "limits"], gv.Options(image="img"))
    assert [r["status"] for r in results] == ["pass", "pass"]
    (only,) = containers(calls)
    assert only.startswith("docker run --rm --cpus 0.5 --memory 64m img sh -c echo gpu-verify-ok;")
    # Both results show the container that proved them.
    assert all("--memory 64m" in r["evidence"]["command"] for r in results)


def test_a_refused_limit_fails_limits_and_engine_runs_its_own_container() -> None:
    calls: list[str] = []
    refused = "docker: Error response from daemon: Your kernel does not support memory limit."
    answers = {**BASE, "docker run --rm --cpus": (125, "", refused)}
    engine, limits = gv.run_checks(runner(answers, calls), ["engine", "limits"],
                                   gv.Options(image="img"))
    assert engine["status"] == "pass"
    assert "--memory" not in engine["evidence"]["command"]
    assert limits["status"] == "fail" and "memory limit" in limits["reason"]
    assert len(containers(calls)) == 2


def test_limits_alone_runs_only_the_limits_container() -> None:
    calls: list[str] = []
    answers = {**BASE, "docker run --rm --cpus": (0, LIMITS_OUT, "")}
    (limits,) = gv.run_checks(runner(answers, calls), ["limits"], gv.Options(image="img"))
    assert limits["status"] == "pass"
    assert containers(calls) == [" ".join(gv.limits_command("img", "0.5", "64m"))]


PARAMS = {"checks": ["engine"], "required": [], "image": "img", "command_timeout": 300,
          "reuse_seconds": 60, "report_path": "/r", "host": {"kind": "cpu", "gpus": []}}


def test_fingerprint_follows_inputs_not_bookkeeping() -> None:
    probe = Cmd(("sh",), 0, "MainPID=812\nsocket=docker 660\n", "")
    base = gv.fingerprint(PARAMS, probe)
    assert base == gv.fingerprint({**PARAMS, "command_timeout": 5, "reuse_seconds": 0,
                                   "report_path": "/elsewhere"}, probe)
    assert base != gv.fingerprint({**PARAMS, "image": "other"}, probe)
    assert base != gv.fingerprint({**PARAMS, "host": {"kind": "dgpu", "gpus": [{}]}}, probe)
    restarted = Cmd(("sh",), 0, "MainPID=900\nsocket=docker 660\n", "")
    assert base != gv.fingerprint(PARAMS, restarted)


def test_reuse_only_when_opted_in_fresh_unchanged_and_nothing_failed() -> None:
    passed = [{"name": "engine", "status": "pass"}]
    doc = gv.report_doc("h", "abc", passed)
    assert gv.reusable(doc, "abc", 10, 60)
    assert not gv.reusable(doc, "abc", 10, 0)
    assert not gv.reusable(doc, "abc", 61, 60)
    assert not gv.reusable(doc, "other", 10, 60)
    assert not gv.reusable(None, "abc", 10, 60)
    failed = gv.report_doc("h", "abc", [{"name": "engine", "status": "fail"}])
    assert not gv.reusable(failed, "abc", 10, 60)


def test_write_report_writes_only_a_difference_and_touches_the_same(tmp_path: Path) -> None:
    path = tmp_path / "gpuhost" / "verify.json"
    doc = gv.report_doc("h", "abc", [{"name": "engine", "status": "pass"}])
    assert gv.write_report(str(path), doc)
    assert json.loads(path.read_text()) == doc
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    os.utime(path, (1000, 1000))
    assert not gv.write_report(str(path), doc)
    assert path.stat().st_mtime > 1000  # the checks ran again: the time says so
    assert gv.write_report(str(path), gv.report_doc("h", "abc", []))
    # The same results under another inputs fingerprint: written (reuse compares with it), but
    # no change.
    assert not gv.write_report(str(path), gv.report_doc("h", "xyz", []))
    assert json.loads(path.read_text())["inputs"] == "xyz"


def test_load_report_survives_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "verify.json"
    assert gv.load_report(str(path)) == (None, 0.0)
    path.write_text("{not json")
    assert gv.load_report(str(path)) == (None, 0.0)


class StandInModule:
    """What verify() uses of AnsibleModule: params and tmpdir."""

    def __init__(self, params: dict[str, Any], tmpdir: str) -> None:
        self.params = params
        self.tmpdir = tmpdir


def module_params(report: Path, reuse_seconds: int) -> dict[str, Any]:
    return {"checks": ["engine"], "required": ["engine"], "image": "img", "gpu_image": "img",
            "enroot_image": "", "enroot_users": [], "enroot_enabled": None, "cpus": "0.5",
            "memory": "64m", "users": [],
            "socket_path": "/var/run/docker.sock", "socket_group": "docker",
            "socket_mode": "0660", "host": None, "command_timeout": 300,
            "report_path": str(report), "report_host": "h", "reuse_seconds": reuse_seconds}


def verify_with(monkeypatch: Any, tmp_path: Path, reuse_seconds: int, probe: str,
                calls: list[str]) -> dict[str, Any]:
    answers = {**BASE, "sh -c": (0, probe, "")}
    monkeypatch.setattr(gv, "module_runner", lambda _module, _timeout: runner(answers, calls))
    module = StandInModule(module_params(tmp_path / "verify.json", reuse_seconds), str(tmp_path))
    return gv.verify(module, ["engine"])


def test_verify_writes_once_then_reuses_only_when_opted_in_and_unchanged(
        monkeypatch: Any, tmp_path: Path) -> None:
    probe = "docker=/usr/bin/docker\nMainPID=812\n"
    calls: list[str] = []
    first = verify_with(monkeypatch, tmp_path, 0, probe, calls)
    assert (first["changed"], first["reused"]) == (True, False)
    assert first["results"][0]["status"] == "pass"
    # Default (0): the checks run again, the same report is no change.
    calls.clear()
    again = verify_with(monkeypatch, tmp_path, 0, probe, calls)
    assert (again["changed"], again["reused"]) == (False, False)
    assert containers(calls)
    # Opted in and nothing changed: the report's results, no container.
    calls.clear()
    reused = verify_with(monkeypatch, tmp_path, 600, probe, calls)
    assert (reused["changed"], reused["reused"]) == (False, True)
    assert reused["results"] == first["results"]
    assert not containers(calls)
    # Docker restarted (new PID): the inputs changed, the checks run.
    calls.clear()
    restarted = verify_with(monkeypatch, tmp_path, 600, "docker=/usr/bin/docker\nMainPID=9\n",
                            calls)
    assert restarted["reused"] is False and containers(calls)


def test_fingerprint_ignores_the_order_of_checks_and_required() -> None:
    """The order of these sets changes no result; a reordered list is the same inputs."""
    probe = Cmd(("sh",), 0, "MainPID=812\n", "")
    params = {**PARAMS, "checks": ["engine", "gpu"], "required": ["engine", "gpu"]}
    base = gv.fingerprint(params, probe)
    assert base == gv.fingerprint({**params, "checks": ["gpu", "engine"],
                                   "required": ["gpu", "engine"]}, probe)
    assert base != gv.fingerprint({**params, "required": ["engine"]}, probe)


ECHO_STANDIN = '''#!/usr/bin/python
# STAND-IN for gpu_verify (test_gpu_verify_rerun.py): runs no check, returns what it was given.
from ansible.module_utils.basic import AnsibleModule
NAMES = ("checks required image gpu_image enroot_image enroot_users enroot_enabled cpus memory "
         "users socket_path socket_group socket_mode host command_timeout report_path "
         "report_host reuse_seconds").split()
module = AnsibleModule(argument_spec={n: {"type": "raw"} for n in NAMES},
                       supports_check_mode=True)
module.exit_json(changed=False, results=[], required_failed=[], required_failed_messages=[],
                 given=module.params)
'''

ROLE_PLAY = """\
- name: gpu_verify's parameters
  hosts: all
  gather_facts: false
  tasks:
    - name: The case's provision_host (STAND-IN facts module)
      standin_facts:
        fact: {kind: cpu, gpus: []}
    - name: Run the role
      ansible.builtin.include_role:
        name: gpu_verify
"""


def seed_with_set_order(items: list[str], wanted: list[str]) -> int:
    """A PYTHONHASHSEED under which a Python set of ITEMS iterates as WANTED."""
    code = f"print(list(set({items!r})))"
    for seed in range(64):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)})
        if out.stdout.strip() == repr(wanted):
            return seed
    raise AssertionError(f"no seed under 64 orders {items} as {wanted}")


def test_required_checks_keep_their_order_whatever_the_hash_seed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The role hands the module its required checks in the order written, deduplicated, under a
    hash seed that orders a Python set of them the other way (Ansible's union filter goes
    through a set, which made the report's fingerprint change between identical runs)."""
    seed = seed_with_set_order(["engine", "gpu"], ["gpu", "engine"])
    monkeypatch.setenv("PYTHONHASHSEED", str(seed))
    output = run_playbook(tmp_path, {"h": {}}, ROLE_PLAY, modules={"gpu_verify": ECHO_STANDIN},
                          group_vars={"host_facts_gathered_this_run": True,
                                      "gpu_verify_required": {"all": ["engine", "engine", "gpu"]}})
    task = next(t for t in output["plays"][0]["tasks"]
                if t["task"]["name"].endswith("Run the verification checks"))
    assert task["hosts"]["h"]["given"]["required"] == ["engine", "gpu"]
