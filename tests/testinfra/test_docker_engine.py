"""docker_engine role checks, shared by the docker_engine_* and docker_daemon_json scenarios.

Which checks apply is decided by MOLECULE_SCENARIO_NAME. The script, repo and migrate scenarios
run against LOCAL STAND-INS (molecule/shared/standins/docker): a stand-in get.docker.com script and
a local signed apt repo laid out like download.docker.com with docker-ce-named stand-in
packages, served on the test host's loopback. The real get.docker.com is never reached.
Containers run the busybox root imported as testhost/busybox:latest (a stand-in for a registry
image), and the nvidia runtime entry in daemon.json is PLANTED by
molecule/docker_daemon_json/prepare.yml in nvidia-ctk's formatting: no NVIDIA toolkit exists
on the test hosts, so "live" checks prove dockerd parsed the file, not that the runtime runs.
"""

from __future__ import annotations

import json
import os

import pytest

SCENARIO = os.environ.get("MOLECULE_SCENARIO_NAME", "")
TEST_IMAGE = "testhost/busybox:latest"
SOURCES = "/etc/apt/sources.list.d"

only = {
    name: pytest.mark.skipif(name != SCENARIO, reason=f"only in the {name} scenario")
    for name in (
        "docker_engine_distro",
        "docker_engine_script",
        "docker_engine_repo",
        "docker_daemon_json",
        "docker_engine_migrate",
    )
}


@pytest.mark.skipif(not os.environ.get("MOLECULE_SCENARIO_DIRECTORY"), reason="outside molecule")
def test_scenario_is_known() -> None:
    """Every other test here is chosen by scenario name: an unknown one would skip them all."""
    assert SCENARIO in only, f"scenario {SCENARIO!r} has no checks in this file"


docker_ce = pytest.mark.skipif(
    SCENARIO not in ("docker_engine_script", "docker_engine_repo", "docker_engine_migrate"),
    reason="only where docker-ce stand-in packages are installed",
)
repo_method = pytest.mark.skipif(
    SCENARIO not in ("docker_engine_repo", "docker_engine_migrate"),
    reason="only where the repo method ran against the stand-in repository",
)


def daemon_json(host) -> dict:
    return json.loads(host.file("/etc/docker/daemon.json").content_string)


def dpkg_version(host, package: str) -> str:
    cmd = host.run("dpkg-query --show --showformat='${Version}' %s", package)
    return cmd.stdout.strip() if cmd.rc == 0 else ""


def selection(host, package: str) -> str:
    words = host.check_output("dpkg --get-selections %s", package).split()
    return words[1] if len(words) == 2 else ""


def test_docker_service_enabled_and_running(host) -> None:
    assert host.service("docker").is_enabled
    assert host.service("docker").is_running


def test_container_runs(host) -> None:
    cmd = host.run("docker run --rm %s true", TEST_IMAGE)
    assert cmd.rc == 0, cmd.stderr


@pytest.mark.skipif(
    SCENARIO not in ("docker_engine_distro", "docker_daemon_json"),
    reason="only where the scenario sets daemon options",
)
def test_daemon_json_is_a_json_object_with_mode_0644(host) -> None:
    f = host.file("/etc/docker/daemon.json")
    assert f.mode == 0o644
    assert isinstance(daemon_json(host), dict)


@only["docker_engine_distro"]
def test_distro_installs_docker_io_not_docker_ce(host) -> None:
    assert host.package("docker.io").is_installed
    assert not host.package("docker-ce").is_installed
    assert not host.file(f"{SOURCES}/docker.sources").exists


@only["docker_engine_distro"]
def test_distro_cli_comes_with_it(host) -> None:
    assert host.run("docker version --format '{{.Client.Version}}'").rc == 0


@only["docker_engine_distro"]
def test_distro_daemon_options_merged_and_live(host) -> None:
    assert daemon_json(host)["log-opts"] == {"max-size": "10m", "max-file": "3"}
    info = host.check_output("docker info --format '{{json .}}'")
    assert json.loads(info)["LoggingDriver"] == "json-file"


@only["docker_engine_distro"]
def test_distro_proxy_drop_in_reaches_the_daemon(host) -> None:
    dropin = host.file("/etc/systemd/system/docker.service.d/http-proxy.conf")
    assert "HTTP_PROXY=http://127.0.0.1:3128" in dropin.content_string
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["HttpProxy"] == "http://127.0.0.1:3128"
    assert "127.0.0.1" in info["NoProxy"]


def newest_and_oldest_standin(host) -> tuple[str, str]:
    """Versions the local stand-in repo offers (apt-cache madison, newest first)."""
    lines = host.check_output("apt-cache madison docker-ce").splitlines()
    versions = [line.split("|")[1].strip() for line in lines if "|" in line]
    assert len(versions) >= 2, f"stand-in repo should offer two versions: {lines}"
    return versions[0], versions[-1]


@docker_ce
def test_standin_pinned_older_docker_ce_installed_not_newest(host) -> None:
    newest, oldest = newest_and_oldest_standin(host)
    assert dpkg_version(host, "docker-ce") == oldest
    assert oldest != newest


@docker_ce
@pytest.mark.parametrize("package", ["docker-ce", "docker-ce-cli"])
def test_standin_pinned_packages_are_held(host, package: str) -> None:
    assert selection(host, package) == "hold"


@docker_ce
def test_standin_docker_io_is_not_installed(host) -> None:
    assert not host.package("docker.io").is_installed


@docker_ce
def test_standin_cli_package_ships_the_docker_binary(host) -> None:
    """The stand-in docker-ce-cli itself carries /usr/bin/docker (it once held only man pages)."""
    files = host.check_output("dpkg-query --listfiles docker-ce-cli").splitlines()
    assert "/usr/bin/docker" in files
    assert host.run("docker version --format '{{.Client.Version}}'").rc == 0


@docker_ce
def test_standin_compose_plugin_answers(host) -> None:
    cmd = host.run("docker compose version")
    assert cmd.rc == 0, cmd.stderr


@only["docker_engine_script"]
def test_standin_script_kept_at_stable_path(host) -> None:
    f = host.file("/var/lib/gpuhost/get-docker.sh")
    assert f.is_file
    assert f.mode == 0o755


@only["docker_engine_script"]
def test_standin_script_repo_is_the_only_docker_source(host) -> None:
    assert host.file(f"{SOURCES}/docker.list").exists
    assert not host.file(f"{SOURCES}/docker.sources").exists


@repo_method
def test_standin_repo_deb822_source_is_signed_for_this_arch_and_codename(host) -> None:
    text = host.file(f"{SOURCES}/docker.sources").content_string
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    assert fields["Signed-By"] == "/etc/apt/keyrings/docker.asc"
    assert fields["Architectures"] == host.check_output("dpkg --print-architecture")
    assert fields["Suites"] == host.check_output(". /etc/os-release; echo $VERSION_CODENAME")
    assert host.file("/etc/apt/keyrings/docker.asc").exists
    assert not host.file(f"{SOURCES}/docker.list").exists


@repo_method
def test_standin_repo_apt_update_is_clean(host) -> None:
    cmd = host.run("apt-get update")
    assert cmd.rc == 0, cmd.stderr
    assert "Conflicting values" not in cmd.stderr
    assert "W:" not in cmd.stderr and "E:" not in cmd.stderr, cmd.stderr


@only["docker_engine_repo"]
@pytest.mark.parametrize("name", ["nvidia-docker.list", "libnvidia-container.list"])
def test_stale_nvidia_sources_planted_by_prepare_are_gone(host, name: str) -> None:
    """Removed through nvidia_container_toolkit's stale_sources, which docker_engine includes."""
    assert not host.file(f"{SOURCES}/{name}").exists


def dpkg_status(host, package: str) -> str:
    cmd = host.run("dpkg-query --show --showformat='${db:Status-Status}' %s", package)
    return cmd.stdout.strip() if cmd.rc == 0 else ""


@only["docker_engine_migrate"]
def test_migrate_docker_io_removed_not_purged(host) -> None:
    """apt remove keeps docker.io's conffiles; a purge would have dropped them."""
    assert dpkg_status(host, "docker.io") == "config-files"
    assert dpkg_status(host, "docker-ce") == "installed"


@only["docker_engine_migrate"]
def test_migrate_keeps_the_image_made_under_docker_io(host) -> None:
    before = host.file("/root/migrate-image-id").content_string.strip()
    assert before.startswith("sha256:")
    now = host.check_output("docker image inspect --format '{{.Id}}' %s", TEST_IMAGE)
    assert now == before


@only["docker_engine_migrate"]
def test_migrate_keeps_the_volume_made_under_docker_io(host) -> None:
    cmd = host.run("docker run --rm --volume migrate-keep:/data %s cat /data/marker", TEST_IMAGE)
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.strip() == "kept"


@only["docker_daemon_json"]
def test_foreign_key_and_nvidia_ctk_runtime_survive_the_merge(host) -> None:
    data = daemon_json(host)
    assert data["runtimes"]["nvidia"] == {"args": [], "path": "nvidia-container-runtime"}
    assert data["userland-proxy"] is False
    assert data["log-opts"]["max-size"] == "10m"
    assert "debug" not in data


@only["docker_daemon_json"]
def test_merged_options_are_live_in_dockerd(host) -> None:
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert "nvidia" in info["Runtimes"]
