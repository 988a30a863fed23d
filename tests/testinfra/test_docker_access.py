"""docker_access on a real Docker engine: socket group members, socket owner/mode, rootless.

Run by molecule's `docker_access` scenario against Debian 12 and 13 test hosts (settings in
molecule/docker_access/vars/scenario.yml: socket group dockerops, mode 0660, alice and erin
listed, dave removed, bob never listed, carol rootless). The container image is the busybox
root imported by molecule/shared/tasks/import_test_image.yml, a local stand-in for a registry
image (no registry is reachable from test hosts).

The refusal tests run the role again through ansible-playbook (molecule's inventory and
molecule/docker_access/role_run.yml) and compare a snapshot of the host before and after.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testinfra.backend.base import CommandResult

TEST_IMAGE = "testhost/busybox:latest"
IMAGE_TAR = "/opt/testhost/busybox-rootfs.tar"
SOCKET = "/run/docker.sock"
DROPIN = "/etc/systemd/system/docker.socket.d/gpuhost-access.conf"
GROUP = "dockerops"
ROOTLESS_USER = "carol"
WORLD_WRITABLE_REFUSAL = "Refusing docker_access_socket_mode 0666"

# Everything a refused run must leave as it was.
SNAPSHOT = (
    "sha256sum /etc/passwd /etc/group /etc/gshadow /etc/subuid /etc/subgid; "
    f"ls -l --time-style=full-iso /etc/systemd/system/docker.socket.d/; cat {DROPIN}; "
    f"stat -c '%U:%G %a %z' {SOCKET}; ls /var/lib/systemd/linger; "
    "ls -l --time-style=full-iso /etc/profile.d/; "
    "systemctl show -p ActiveEnterTimestamp docker.socket docker.service"
)


def _docker_as(host, user: str, *args: str) -> CommandResult:
    return host.run("runuser -u %s -- docker " + " ".join(["%s"] * len(args)), user, *args)


def _wait_for_docker(host) -> None:
    for _ in range(30):
        if host.run("docker info --format '{{.ServerVersion}}'").rc == 0:
            return
        time.sleep(1)
    pytest.fail("docker did not answer within 30 s: " + host.run("systemctl status docker").stdout)


# --- socket group members --------------------------------------------------------------


@pytest.mark.parametrize("user", ["alice", "erin"])
def test_listed_user_runs_container_without_sudo(host, user: str) -> None:
    assert GROUP in host.user(user).groups
    cmd = _docker_as(host, user, "run", "--rm", TEST_IMAGE, "true")
    assert cmd.rc == 0, f"{user}: {cmd.stderr}"


@pytest.mark.parametrize("user", ["bob", "dave"], ids=["never-listed", "removed"])
def test_other_user_gets_permission_denied(host, user: str) -> None:
    assert GROUP not in host.user(user).groups
    cmd = _docker_as(host, user, "run", "--rm", TEST_IMAGE, "true")
    assert cmd.rc != 0
    assert "permission denied" in cmd.stderr


def test_socket_group_is_a_system_group(host) -> None:
    assert host.group(GROUP).gid < 1000


# --- socket owner and mode ---------------------------------------------------------------


def test_dropin_sets_group_and_mode(host) -> None:
    dropin = host.file(DROPIN)
    assert dropin.exists
    assert f"SocketGroup={GROUP}" in dropin.content_string
    assert "SocketMode=0660" in dropin.content_string


def test_socket_keeps_group_and_mode_after_socket_restart(host) -> None:
    restart = host.run("systemctl restart docker.socket")
    assert restart.rc == 0, restart.stderr
    _wait_for_docker(host)
    sock = host.file(SOCKET)
    assert (sock.user, sock.group, oct(sock.mode)) == ("root", GROUP, "0o660")
    assert host.service("docker").is_running
    cmd = _docker_as(host, "alice", "run", "--rm", TEST_IMAGE, "true")
    assert cmd.rc == 0, cmd.stderr


# --- rootless ----------------------------------------------------------------------------


@pytest.mark.parametrize("package", ["uidmap", "rootlesskit", "slirp4netns", "dbus-user-session"])
def test_rootless_packages_installed(host, package: str) -> None:
    assert host.package(package).is_installed


@pytest.mark.parametrize("path", ["/etc/subuid", "/etc/subgid"])
def test_rootless_user_has_subordinate_ids(host, path: str) -> None:
    uid = str(host.user(ROOTLESS_USER).uid)
    counts = [
        int(fields[2])
        for fields in (line.split(":") for line in host.file(path).content_string.splitlines())
        if len(fields) == 3 and fields[0] in (ROOTLESS_USER, uid)
    ]
    assert counts and max(counts) >= 65536, f"{path}: {counts}"


def test_rootless_user_lingers(host) -> None:
    assert host.file(f"/var/lib/systemd/linger/{ROOTLESS_USER}").exists


def test_rootless_setup_tool_is_reachable(host) -> None:
    tool = host.run(
        "readlink -e /usr/local/libexec/gpuhost-docker-rootless/dockerd-rootless-setuptool.sh"
        " || command -v dockerd-rootless-setuptool.sh"
    )
    assert tool.rc == 0 and tool.stdout.strip(), "dockerd-rootless-setuptool.sh not found"


def test_rootless_docker_host_in_login_shell(host) -> None:
    uid = host.user(ROOTLESS_USER).uid
    env = host.run("runuser -l %s -c 'echo $DOCKER_HOST'", ROOTLESS_USER)
    assert env.stdout.strip() == f"unix:///run/user/{uid}/docker.sock"
    envd = host.file(f"/home/{ROOTLESS_USER}/.config/environment.d/60-docker-rootless.conf")
    assert envd.user == ROOTLESS_USER
    assert "DOCKER_HOST=unix://${XDG_RUNTIME_DIR}/docker.sock" in envd.content_string


def test_rootless_daemon_runs_a_container(host) -> None:
    """carol's own daemon (not /run/docker.sock) runs the busybox stand-in image."""
    uid = host.user(ROOTLESS_USER).uid

    def as_carol(command: str) -> CommandResult:
        return host.run(
            "runuser -l %s -c %s", ROOTLESS_USER, f"XDG_RUNTIME_DIR=/run/user/{uid} {command}"
        )

    active = as_carol("systemctl --user is-active docker.service")
    if active.rc != 0:
        journal = host.run("journalctl -n 30 --no-pager _UID=%s", str(uid)).stdout
        pytest.fail(f"rootless daemon not running on this host; its log:\n{journal}")
    info = as_carol("docker info --format '{{json .SecurityOptions}}'")
    assert info.rc == 0, info.stderr
    assert "name=rootless" in info.stdout
    if as_carol(f"docker image inspect {TEST_IMAGE}").rc != 0:
        imported = as_carol(f"docker import --change 'CMD [\"/bin/sh\"]' {IMAGE_TAR} {TEST_IMAGE}")
        assert imported.rc == 0, imported.stderr
    run = as_carol(f"docker run --rm {TEST_IMAGE} id -u")
    assert run.rc == 0, run.stderr
    # uid 0 inside is the user's own uid outside: the daemon is carol's, not root's.
    assert run.stdout.strip() == "0"
    owner = host.run("stat -c %%U /run/user/%s/docker.sock", str(uid))
    assert owner.stdout.strip() == ROOTLESS_USER


# --- refusals and check mode, through another run of the role -----------------------------


def _role_run(host, *args: str, extra: dict | None = None) -> tuple[int, str]:
    """Run the role on this host; return the exit code and the output, whitespace collapsed
    (the YAML callback wraps long messages)."""
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    scenario = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "")
    playbook = Path(scenario) / "role_run.yml"
    if not inventory or not playbook.is_file():
        pytest.skip("needs molecule's docker_access scenario (inventory and role_run.yml)")
    binary = shutil.which("ansible-playbook") or str(
        Path(sys.executable).with_name("ansible-playbook")
    )
    argv = [binary, "-i", inventory, "--limit", host.backend.host, str(playbook), *args]
    if extra:
        argv += ["-e", json.dumps(extra)]
    env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, env=env)
    return done.returncode, " ".join((done.stdout + done.stderr).split())


def _first_host_only(host) -> None:
    """Refusals and check mode are decided on the controller from the role's one look, the same
    code on every release: one host shows them (each run of the role costs the suite ~10 s)."""
    if host.backend.host.endswith("-debian13"):
        pytest.skip("refusals and check mode run on the Debian 12 host only")


def test_world_writable_mode_is_refused_before_any_change(host) -> None:
    _first_host_only(host)
    before = host.run(SNAPSHOT).stdout
    # bob would join the group if the refusal came late.
    rc, out = _role_run(
        host,
        extra={
            "docker_access_socket_mode": "0666",
            "docker_access_users": ["alice", "erin", "bob"],
            "docker_access_users_absent": ["dave"],
        },
    )
    assert rc != 0
    assert WORLD_WRITABLE_REFUSAL in out
    assert host.run(SNAPSHOT).stdout == before
    assert GROUP not in host.user("bob").groups


def test_missing_user_stops_before_any_change(host) -> None:
    _first_host_only(host)
    before = host.run(SNAPSHOT).stdout
    rc, out = _role_run(
        host,
        extra={
            "docker_access_users": ["alice", "bob", "nosuchuser"],
            "docker_access_users_absent": ["dave"],
            "docker_access_create_users": False,
        },
    )
    assert rc != 0
    assert "nosuchuser" in out and "do not exist" in out
    assert host.run(SNAPSHOT).stdout == before
    assert not host.user("nosuchuser").exists


def test_check_mode_with_a_group_that_does_not_exist_yet(host) -> None:
    _first_host_only(host)
    before = host.run(SNAPSHOT).stdout
    rc, out = _role_run(
        host,
        "--check",
        extra={
            "docker_access_socket_group": "dockerplan",
            "docker_access_users": ["alice", "bob"],
            "docker_access_users_absent": ["dave"],
        },
    )
    assert rc == 0, out[-3000:]
    assert "bob would join dockerplan" in out
    assert host.run(SNAPSHOT).stdout == before
    assert not host.group("dockerplan").exists


def test_world_writable_opt_in_warns_and_applies(host) -> None:
    try:
        rc, out = _role_run(
            host,
            extra={
                "docker_access_socket_mode": "0666",
                "docker_access_allow_world_writable_socket": True,
            },
        )
        assert rc == 0, out[-3000:]
        assert "WARNING: docker_access_socket_mode 0666 makes /run/docker.sock" in out
        _wait_for_docker(host)
        assert oct(host.file(SOCKET).mode) == "0o666"
    finally:
        restore_rc, restore_out = _role_run(host)
    assert restore_rc == 0, restore_out[-3000:]
    _wait_for_docker(host)
    assert oct(host.file(SOCKET).mode) == "0o660"
    assert "WARNING: docker_access" not in restore_out
