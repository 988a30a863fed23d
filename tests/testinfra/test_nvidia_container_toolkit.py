"""nvidia_container_toolkit on a real Docker engine, against the NVIDIA STAND-IN repository.

Run by molecule's `nvidia_container_toolkit` scenario (molecule/nvidia_container_toolkit): the
packages are the stand-ins of molecule/shared/standins/nvidia (NVIDIA's names, versions,
dependencies and file paths, scripts inside; no GPU and no NVIDIA download here). A GPU is
forced with host_facts_force_kind=dgpu on the -debian12 and -debian13 hosts; -cpu is not.
Final state checked here, after the side effect: -debian12 migrated from nvidia-docker2 2.13
at 1.17.8-1; -debian13 upgraded to 1.18.0-1 and migrated from nvidia-docker2 2.14 +
nvidia-container-runtime 3.14 (restart counts, the hand-install and the option runs are
asserted in side_effect.yml).
"""

from __future__ import annotations

import json

import pytest

PACKAGES = ("nvidia-container-toolkit", "nvidia-container-toolkit-base",
            "libnvidia-container-tools", "libnvidia-container1")
LEGACY = ("nvidia-docker2", "nvidia-container-runtime")
LIST = "/etc/apt/sources.list.d/nvidia-container-toolkit.list"
KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
PREFERENCES = "/etc/apt/preferences.d/nvidia-container-toolkit"
STALE = ("/etc/apt/sources.list.d/nvidia-docker.list",
         "/etc/apt/sources.list.d/libnvidia-container.list",
         "/etc/apt/sources.list.d/nvidia-container-runtime.list")
TEST_IMAGE = "testhost/busybox:latest"


def kind(host) -> str:
    name = host.backend.get_hostname()
    if name.endswith("-cpu"):
        return "cpu"
    return "debian12" if name.endswith("debian12") else "debian13"


def expected_version(host) -> str:
    return "1.17.8-1" if kind(host) == "debian12" else "1.18.0-1"


def gpu_only(host) -> None:
    if kind(host) == "cpu":
        pytest.skip("GPU-forced hosts only")


def daemon_json(host) -> dict:
    return json.loads(host.file("/etc/docker/daemon.json").content_string)


def test_repository_source_names_its_keyring(host) -> None:
    gpu_only(host)
    arch = host.check_output("dpkg --print-architecture")
    text = host.file(LIST).content_string
    assert (f"deb [signed-by={KEYRING}] http://127.0.0.1:8731/libnvidia-container/stable/deb/"
            f"{arch} /") in text
    assert host.file(KEYRING).is_file


def test_packages_pinned_to_the_version_and_held(host) -> None:
    gpu_only(host)
    for package in PACKAGES:
        line = host.check_output(f"dpkg-query -W -f='${{Version}} ${{db:Status-Abbrev}}' {package}")
        assert line.split()[0] == expected_version(host), package
        assert line.split()[1] == "hi", f"{package} is not held: {line}"


def test_apt_pin_makes_this_repository_the_candidate(host) -> None:
    gpu_only(host)
    policy = host.check_output("apt-cache policy nvidia-container-toolkit")
    assert "Candidate: " + expected_version(host) in policy
    assert "1001" in policy


def test_legacy_packages_and_stale_lists_are_gone_and_apt_update_works(host) -> None:
    gpu_only(host)
    for package in LEGACY:
        status = host.run(f"dpkg-query -W -f='${{db:Status-Abbrev}}' {package}")
        assert status.rc != 0 or status.stdout.strip() in ("un", "pn", ""), package
    for path in STALE:
        assert not host.file(path).exists, path
    update = host.run("apt-get update")
    assert update.rc == 0, update.stderr
    assert "Conflicting values" not in update.stderr


def test_apt_key_copy_of_the_nvidia_key_is_gone_and_other_keys_stay(host) -> None:
    """-debian12 got the stand-in key in /etc/apt/trusted.gpg (apt-key's way) beside a test key
    in prepare: the role removes NVIDIA's by fingerprint and keeps the other, in a format apt
    reads (apt-get update above runs with it)."""
    if kind(host) != "debian12":
        pytest.skip("only -debian12 had an apt-key trusted.gpg planted")
    show = "GNUPGHOME=$(mktemp -d) gpg --batch --with-colons --show-keys {} 2>/dev/null"
    ours = {line.split(":")[9] for line in host.check_output(show.format(KEYRING)).splitlines()
            if line.startswith("fpr")}
    trusted = host.check_output(show.format("/etc/apt/trusted.gpg"))
    assert "keep-me@example.invalid" in trusted
    fingerprints = {line.split(":")[9] for line in trusted.splitlines() if line.startswith("fpr")}
    assert ours and not ours & fingerprints


def test_docker_lists_the_nvidia_runtime(host) -> None:
    gpu_only(host)
    runtimes = json.loads(host.check_output("docker info --format '{{json .Runtimes}}'"))
    assert "nvidia" in runtimes
    assert host.check_output("docker info --format '{{.DefaultRuntime}}'") == "runc"


def test_gpus_all_works_with_the_standin_driver(host) -> None:
    gpu_only(host)
    result = host.run(f"docker run --rm --gpus all {TEST_IMAGE} true")
    assert result.rc == 0, result.stderr


def test_migration_kept_the_users_daemon_json_keys(host) -> None:
    gpu_only(host)
    data = daemon_json(host)
    assert data["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime"
    if kind(host) == "debian12":
        # nvidia-docker2 2.13 owned daemon.json: its purge deleted the file these came from.
        assert data["labels"] == ["gpuhost-test=keep-me"]
        assert data["log-opts"] == {"max-size": "7m"}
    else:
        # Also the heal: the side effect left daemon.json where an interrupted migration puts it
        # and restarted Docker without it; docker_engine (heal.yml) moved it back before it merged
        # its own option into it, and Docker runs on it again.
        assert data["labels"] == ["gpuhost-test=keep-me-too"]
        assert data["log-level"] == "info"
        assert "default-runtime" not in data
        labels = json.loads(host.check_output("docker info --format '{{json .Labels}}'"))
        assert "gpuhost-test=keep-me-too" in labels
    assert not host.file("/etc/docker/.daemon.json.gpuhost-nvidia-docker2-purge").exists


def test_cpu_host_has_no_nvidia_files(host) -> None:
    if kind(host) != "cpu":
        pytest.skip("the CPU host only")
    for path in (LIST, KEYRING, PREFERENCES, "/etc/nvidia-container-runtime"):
        assert not host.file(path).exists, path
    assert host.run("dpkg-query -W nvidia-container-toolkit").rc != 0
