"""The gpu_verify checks as a testinfra suite, for molecule and for your own inventory.

The commands, parsers and pass/fail decisions are the gpu_verify module's own
(plugins/modules/gpu_verify.py, imported here); only the way commands reach the host differs:
testinfra's `host.run` instead of the module's run_command. Run against any inventory:

    py.test --hosts=ansible://all --ansible-inventory=inventory/x.yml --sudo \
        tests/testinfra/test_gpu_verify.py

Settings come from the environment:
    GPU_VERIFY_IMAGE          image for engine/limits (default ubuntu)
    GPU_VERIFY_GPU_IMAGE      image for the GPU/Jetson checks (default: GPU_VERIFY_IMAGE)
    GPU_VERIFY_USERS          comma list of users that must reach Docker without sudo
    GPU_VERIFY_DENIED_USERS   comma list of users that must NOT reach Docker
    GPU_VERIFY_REQUIRE        comma list of checks that must pass (default engine,access,limits)
    GPU_VERIFY_SOCKET_GROUP / GPU_VERIFY_SOCKET_MODE   (default docker / 0660)
    GPU_VERIFY_REPORT         the role's JSON report on the host (/var/lib/gpuhost/verify.json)

In molecule's gpu_verify scenario the image is the busybox root imported by
molecule/shared/tasks/import_test_image.yml, a local stand-in for a registry image, and the
test hosts have no GPU: the gpu check must skip with its exact reason there.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

# The shared loader (tests/module_loader.py) also makes plugins/module_utils importable, which
# gpu_verify needs; molecule's verifier may start pytest from another rootdir, so no conftest
# can be relied on to put tests/ on sys.path.
TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from module_loader import load_module  # noqa: E402 (needs TESTS_DIR on sys.path first)

gv = load_module("gpu_verify")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


IMAGE = os.environ.get("GPU_VERIFY_IMAGE", "ubuntu")
GPU_IMAGE = os.environ.get("GPU_VERIFY_GPU_IMAGE", IMAGE)
USERS = env_list("GPU_VERIFY_USERS")
DENIED_USERS = env_list("GPU_VERIFY_DENIED_USERS")
REQUIRED = env_list("GPU_VERIFY_REQUIRE", "engine,access,limits")
SOCKET_GROUP = os.environ.get("GPU_VERIFY_SOCKET_GROUP", "docker")
SOCKET_MODE = os.environ.get("GPU_VERIFY_SOCKET_MODE", "0660")
SOCKET_PATH = os.environ.get("GPU_VERIFY_SOCKET_PATH", "/var/run/docker.sock")
REPORT = os.environ.get("GPU_VERIFY_REPORT", "/var/lib/gpuhost/verify.json")
TIMEOUT = int(os.environ.get("GPU_VERIFY_TIMEOUT", "300"))


def runner(host) -> Any:
    """Run an argv on the host through testinfra, with the module's timeout."""

    def run(argv: list[str]) -> Any:
        out = host.run("timeout -k 5 %s" + " %s" * len(argv), str(TIMEOUT), *argv)
        return gv.Cmd(tuple(argv), out.rc, out.stdout, out.stderr)

    return run


def explain(res: dict[str, Any]) -> str:
    lines = [f"{res['name']}: {res['status']}: {res['reason']}"]
    for key in ("diagnosis", "fix"):
        if res.get(key):
            lines.append(f"{key}: {res[key]}")
    lines.append(f"$ {res['evidence'].get('command', '')}\n{res['evidence'].get('output', '')}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def host_knowledge(host) -> dict[str, Any]:
    return gv.detect_host(runner(host), None)


@pytest.fixture(scope="module")
def results(host) -> dict[str, dict[str, Any]]:
    opts = gv.Options(
        image=IMAGE,
        gpu_image=GPU_IMAGE,
        users=tuple(USERS),
        socket_path=SOCKET_PATH,
        socket_group=SOCKET_GROUP,
        socket_mode=SOCKET_MODE,
    )
    return {r["name"]: r for r in gv.run_checks(runner(host), gv.CHECKS, opts)}


@pytest.mark.parametrize("check", gv.CHECKS)
def test_check_does_not_fail(results, check: str) -> None:
    res = results[check]
    assert res["status"] in ("pass", "skip"), explain(res)


@pytest.mark.parametrize("check", REQUIRED)
def test_required_check_passes(results, check: str) -> None:
    assert results[check]["status"] == "pass", explain(results[check])


def test_gpu_check_follows_the_hardware(results, host_knowledge) -> None:
    """A host with an NVIDIA PCI GPU must pass; one without skips with the exact reason."""
    res = results["gpu"]
    if host_knowledge["kind"] == "dgpu":
        assert res["status"] == "pass", explain(res)
    elif host_knowledge["kind"] == "cpu":
        assert res["status"] == "skip", explain(res)
        assert res["reason"] == "no NVIDIA GPU (PCI 10de, class 0300/0302)"
    else:
        # Jetson has no PCI GPU and --gpus is unsupported there: its proof is the jetson check.
        assert host_knowledge["kind"] == "jetson", f"unknown host kind {host_knowledge['kind']!r}"
        assert res["status"] == "skip", explain(res)


def test_containers_were_removed(host) -> None:
    """Every check runs containers with --rm: none of them may be left behind."""
    left = host.run("docker ps -a --filter ancestor=%s --format '{{.ID}} {{.Status}}'", IMAGE)
    assert left.rc == 0, left.stderr
    assert left.stdout.strip() == ""


@pytest.mark.parametrize("user", DENIED_USERS or [pytest.param("", marks=pytest.mark.skip(
    reason="GPU_VERIFY_DENIED_USERS not set"))])
def test_user_outside_the_group_is_refused(host, user: str) -> None:
    """The access check can fail: a user outside the socket's group is refused and diagnosed."""
    run = runner(host)
    socket = run(gv.socket_command(SOCKET_PATH))
    getent = run(["getent", "passwd", user])
    assert getent.ok, f"user {user} does not exist on the host"
    as_user = run(gv.user_command(user, gv.parse_passwd_home(getent.stdout)))
    res = gv.decide_access(SOCKET_PATH, socket, SOCKET_GROUP, SOCKET_MODE,
                           [(user, getent, as_user)])
    assert res["status"] == "fail", explain(res)
    assert res["reason"].startswith(f"{user} cannot reach the Docker daemon without sudo")
    assert "docker group" in res.get("fix", ""), explain(res)


def test_report_on_host_agrees(host, results) -> None:
    """The role's JSON report (when the role ran here) says what the live checks say."""
    report = host.file(REPORT)
    if not report.exists:
        # The gpu_verify scenario always runs the role first; elsewhere it may not have run.
        assert os.environ.get("MOLECULE_SCENARIO_NAME") != "gpu_verify", f"{REPORT} missing"
        pytest.skip(f"{REPORT} does not exist: the gpu_verify role has not run on this host")
    data = json.loads(report.content_string)
    assert data["schema"] == 1
    assert data["host"]
    recorded = {r["name"]: r["status"] for r in data["results"]}
    assert set(recorded) <= set(gv.CHECKS)
    live = {name: results[name]["status"] for name in recorded}
    assert recorded == live
