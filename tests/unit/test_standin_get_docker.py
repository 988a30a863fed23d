"""Unit tests of the LOCAL STAND-IN for get.docker.com (molecule/shared/standins/docker/files).

The stand-in imitates Docker's install script for tests that cannot reach get.docker.com.
These tests run it on the controller, only in ways that change nothing: bad input (it exits
before doing anything) and DRY_RUN (it prints the commands instead of running them). The
install path itself is proven inside test hosts by molecule/shared/standins/checks/docker.yml
(docker_engine_script's side effect). Where a
test needs `docker` on PATH, a stand-in script answers instead of a real client.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = (
    Path(__file__).resolve().parents[2] / "molecule/shared/standins/docker/files/get-docker.sh"
)
MIRROR = "http://127.0.0.1:8080"


def _os_release_id() -> str:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return ""
    for line in text.splitlines():
        if line.startswith("ID="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


apt_host = pytest.mark.skipif(
    _os_release_id() not in {"debian", "ubuntu"} or shutil.which("dpkg") is None,
    reason="the stand-in's dry run needs a Debian or Ubuntu controller",
)


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the stand-in with a clean environment (plus PATH) and no waiting."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "STANDIN_SLEEP": "0", **env}
    return subprocess.run(
        ["sh", str(SCRIPT), *args], env=full_env, capture_output=True, text=True, timeout=60,
        check=False,
    )


@pytest.mark.parametrize("channel", ["bogus", "nightly", "Stable"])
def test_unknown_channel_exits_1(channel: str) -> None:
    result = run(CHANNEL=channel, DRY_RUN="1")
    assert result.returncode == 1
    assert f"unknown CHANNEL '{channel}'" in result.stderr
    assert "apt-get" not in result.stdout


def test_channel_flag_is_validated_too() -> None:
    result = run("--channel", "edge", "--dry-run")
    assert result.returncode == 1
    assert "unknown CHANNEL 'edge'" in result.stderr


def test_unknown_mirror_exits_1() -> None:
    result = run("--mirror", "Nowhere", "--dry-run")
    assert result.returncode == 1
    assert "unknown mirror 'Nowhere'" in result.stderr


@apt_host
@pytest.mark.parametrize(
    ("mirror", "url"),
    [("Aliyun", "https://mirrors.aliyun.com/docker-ce"),
     ("AzureChinaCloud", "https://mirror.azure.cn/docker-ce")],
)
def test_known_mirror_sets_the_download_url(mirror: str, url: str) -> None:
    result = run("--mirror", mirror, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"{url}/linux/" in result.stdout


@apt_host
def test_dry_run_prints_the_apt_commands_and_ignores_the_version() -> None:
    result = run(DRY_RUN="1", VERSION="v27.5.1", DOWNLOAD_URL=MIRROR)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "# WARNING: VERSION pinning is not supported in DRY_RUN" in out
    assert f'curl -fsSL "{MIRROR}/linux/' in out
    assert "signed-by=/etc/apt/keyrings/docker.asc]" in out
    assert "> /etc/apt/sources.list.d/docker.list" in out
    install = next(line for line in out.splitlines() if "apt-get -y -qq install docker-ce" in line)
    assert "docker-ce docker-ce-cli containerd.io docker-compose-plugin" in install
    assert "docker-ce-rootless-extras docker-buildx-plugin" in install
    assert "=" not in install.split("install", 1)[1].replace(">/dev/null", "")
    # VERSION 27.5 is below 28.2: no model plugin, as in the real script.
    assert "docker-model-plugin" not in install


@apt_host
def test_unpinned_dry_run_adds_the_model_plugin() -> None:
    result = run(DRY_RUN="1", DOWNLOAD_URL=MIRROR)
    assert result.returncode == 0, result.stderr
    assert "docker-model-plugin" in result.stdout


@apt_host
def test_unknown_flag_only_warns() -> None:
    result = run("--frobnicate", "--dry-run", DOWNLOAD_URL=MIRROR)
    assert result.returncode == 0, result.stderr
    assert "Illegal option --frobnicate" in result.stdout
    assert "apt-get -y -qq install docker-ce" in result.stdout


@apt_host
def test_setup_repo_swallows_the_next_argument() -> None:
    # The real script shifts twice for --setup-repo: "--channel" is lost and "test" ignored.
    result = run("--dry-run", "--setup-repo", "--channel", "test", DOWNLOAD_URL=MIRROR)
    assert result.returncode == 0, result.stderr
    assert "Repository has been set up" in result.stdout
    assert " stable\" > /etc/apt/sources.list.d/docker.list" in result.stdout
    assert "apt-get -y -qq install docker-ce" not in result.stdout


@apt_host
def test_repo_only_and_no_autostart_from_the_environment() -> None:
    repo_only = run(DRY_RUN="1", REPO_ONLY="1", CHANNEL="test", DOWNLOAD_URL=MIRROR)
    assert repo_only.returncode == 0, repo_only.stderr
    assert " test\" > /etc/apt/sources.list.d/docker.list" in repo_only.stdout
    assert "install docker-ce" not in repo_only.stdout

    no_start = run("--no-autostart", DRY_RUN="1", DOWNLOAD_URL=MIRROR)
    assert no_start.returncode == 0, no_start.stderr
    started = run(DRY_RUN="1", DOWNLOAD_URL=MIRROR)
    # systemctl where systemd runs, `service` elsewhere (this controller may have no systemd).
    start_lines = ("systemctl enable --now docker.service", "service docker start")
    assert any(line in started.stdout for line in start_lines), started.stdout
    assert not any(line in no_start.stdout for line in start_lines), no_start.stdout


@apt_host
def test_existing_docker_warns(tmp_path: Path) -> None:
    fake_docker = tmp_path / "docker"
    fake_docker.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    fake_docker.chmod(0o755)
    path = f"{tmp_path}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    result = run(DRY_RUN="1", DOWNLOAD_URL=MIRROR, PATH=path)
    assert result.returncode == 0, result.stderr
    assert 'the "docker" command appears to already exist' in result.stderr
    assert "sleep 0" in result.stderr
