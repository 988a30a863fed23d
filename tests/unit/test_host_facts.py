"""provision_host_facts gather layer and module entry point against planted root trees.

GPUs, NVIDIA drivers, Jetson boards and Docker packages cannot be real on the test machine, so
these tests plant their files (sysfs, /proc, /etc) under tmp_path and stand-in executables
(small shell scripts printing recorded outputs) under tmp_path/usr/bin; the module reads that
tree through its `root` option exactly as it reads / on a real host.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixture_loader import fixture
from module_loader import ROOT, load_module, script_argv

phf = load_module("provision_host_facts")


def plant(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def plant_tool(root: Path, name: str, stdout: str = "", rc: int = 0, sleep: int = 0) -> None:
    """A stand-in executable under ROOT/usr/bin that prints STDOUT and exits RC."""
    data = root / "tooldata" / name
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text(stdout, encoding="utf-8")
    script = root / "usr" / "bin" / name
    script.parent.mkdir(parents=True, exist_ok=True)
    wait = f"sleep {sleep}\n" if sleep else ""
    script.write_text(f'#!/bin/sh\n{wait}cat "{data}"\nexit {rc}\n', encoding="utf-8")
    script.chmod(0o755)


def plant_pci(root: Path, address: str, vendor: str, device: str, pci_class: str) -> None:
    base = f"/sys/bus/pci/devices/{address}"
    plant(
        root,
        {
            f"{base}/vendor": vendor + "\n",
            f"{base}/device": device + "\n",
            base + "/class": pci_class,
        },
    )


def run_cmd(argv: list[str]) -> tuple[int, str, str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def gather(root: Path, force: str = "", timeout: int = 10) -> dict[str, Any]:
    return phf.gather(phf.Host(str(root), run_cmd, timeout), force)


# What `systemctl show -p Id,ActiveState,UnitFileState,NeedDaemonReload docker.service
# docker.socket` prints for a daemon that failed to start after its unit changed on disk.
SHOW_STOPPED = (
    "Id=docker.service\nNeedDaemonReload=yes\nActiveState=failed\nUnitFileState=enabled\n\n"
    "Id=docker.socket\nNeedDaemonReload=no\nActiveState=inactive\nUnitFileState=disabled\n"
)
DEBIAN = fixture("host_facts/os_release/debian_12_bookworm.txt")
UBUNTU_FOCAL = fixture("host_facts/os_release/ubuntu_20_04_jetson_agx.txt")
JAMMY = 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\n'
JAMMY += 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nVERSION_CODENAME=jammy\nUBUNTU_CODENAME=jammy\n'


def base_host(root: Path, os_release: str = DEBIAN, machine: str = "x86_64") -> None:
    release = "6.1.0-18-amd64"
    plant(
        root,
        {
            "/etc/os-release": os_release,
            "/proc/sys/kernel/arch": machine + "\n",
            "/proc/sys/kernel/osrelease": release + "\n",
            "/proc/self/mounts": "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n",
            "/proc/sys/user/max_user_namespaces": "63329\n",
            "/proc/sys/kernel/unprivileged_userns_clone": "1\n",
            "/proc/filesystems": "nodev\tsysfs\nnodev\toverlay\n\text4\n",
            f"/lib/modules/{release}/modules.dep": "kernel/fs/squashfs/squashfs.ko.xz:\n",
        },
    )


def test_no_gpu_host_is_cpu(tmp_path: Path) -> None:
    """Plain Debian host: no PCI GPU, no tools at all; nothing fails, everything is a value."""
    base_host(tmp_path)
    fact = gather(tmp_path)
    assert fact["schema"] == 1
    assert fact["kind"] == "cpu"
    assert fact["gpus"] == []
    assert fact["os"] == {
        "id": "debian",
        "version": "12",
        "codename": "bookworm",
        "family": "debian",
        "pretty_name": "Debian GNU/Linux 12 (bookworm)",
        "repo_id": "debian",
    }
    assert fact["arch"] == {"machine": "x86_64", "dpkg": "amd64"}
    assert fact["kernel"]["cgroup_version"] == 2
    assert fact["kernel"]["overlay"] is True
    assert fact["kernel"]["squashfs"] is True
    assert fact["kernel"]["userns"]["usable"] is True
    assert fact["nvidia_driver"]["loaded"] is False
    assert fact["nvidia_driver"]["smi"]["error"] == "not_installed"
    assert fact["docker"]["installed"] is False
    assert fact["nvidia_container_toolkit"] == {"installed": False, "version": None}
    assert fact["enroot"] == {"installed": False, "version": None, "caps": False}
    assert fact["jetson"]["detected"] is False
    assert fact["summary"] == (
        "Debian 12 (bookworm) x86_64, no NVIDIA GPU (PCI 10de, class 0300/0302), no Docker"
    )


def test_nvidia_audio_and_nvswitch_functions_are_not_gpus(tmp_path: Path) -> None:
    """Planted sysfs with only NVIDIA audio (0403) and NVSwitch bridge (0680) functions."""
    base_host(tmp_path)
    plant_pci(tmp_path, "0000:01:00.1", "0x10de", "0x2291", "0x040300")
    plant_pci(tmp_path, "0000:05:00.0", "0x10de", "0x22a3", "0x068000")
    plant_pci(tmp_path, "0000:00:02.0", "0x8086", "0x3e92", "0x030000")
    fact = gather(tmp_path)
    assert fact["gpus"] == []
    assert fact["kind"] == "cpu"
    assert "no NVIDIA GPU (PCI 10de, class 0300/0302)" in fact["summary"]


def test_dgpu_host_with_driver_stand_in(tmp_path: Path) -> None:
    """Simulated dGPU host: planted sysfs GPUs, driver version file, stand-in nvidia-smi/lspci."""
    base_host(tmp_path, JAMMY)
    plant_pci(tmp_path, "0000:07:00.0", "0x10de", "0x20b2", "0x030200")
    plant_pci(tmp_path, "0000:0f:00.0", "0x10de", "0x20b2", "0x030200")
    plant_pci(tmp_path, "0000:c4:00.0", "0x10de", "0x1af1", "0x068000")
    plant(
        tmp_path,
        {"/proc/driver/nvidia/version": fixture("nvidia/nvidia_version/open_565_ubuntu2404.txt")},
    )
    plant_tool(
        tmp_path, "nvidia-smi", fixture("nvidia/nvidia_smi_list/telegraf_4x_a100_one_mig.txt")
    )
    plant_tool(
        tmp_path,
        "lspci",
        '07:00.0 "3D controller [0302]" "NVIDIA Corporation [10de]" '
        '"GA100 [A100 SXM4 80GB] [20b2]" -ra1 "NVIDIA Corporation [10de]" "Device [147f]"\n',
    )
    fact = gather(tmp_path)
    assert fact["kind"] == "dgpu"
    assert [g["pci_address"] for g in fact["gpus"]] == ["0000:07:00.0", "0000:0f:00.0"]
    # lspci names the function it lists; the built-in table names the other one.
    assert [g["name"] for g in fact["gpus"]] == ["A100 SXM4 80GB", "A100-SXM4-80GB"]
    driver = fact["nvidia_driver"]
    assert driver["loaded"] is True
    assert (driver["version"], driver["module_type"]) == ("565.57.01", "open")
    assert driver["smi"]["available"] is True
    assert len(driver["smi"]["gpus"]) == 4
    assert driver["smi"]["gpus"][0]["mig"][0]["name"] == "MIG 1g.20gb"
    assert fact["os"]["codename"] == "jammy"
    assert "2 NVIDIA GPUs" in fact["summary"]
    assert "driver 565.57.01 (open)" in fact["summary"]


def test_gpu_without_driver_reports_reason(tmp_path: Path) -> None:
    """Simulated GPU host without a loaded driver: nvidia-smi stand-in fails as it does then."""
    base_host(tmp_path, JAMMY)
    plant_pci(tmp_path, "0000:01:00.0", "0x10de", "0x2584", "0x030000")
    plant_pci(tmp_path, "0000:01:00.1", "0x10de", "0x2291", "0x040300")
    plant_tool(
        tmp_path,
        "nvidia-smi",
        fixture("nvidia/nvidia_smi_error/no_driver/shine_cluster.txt"),
        rc=9,
    )
    fact = gather(tmp_path)
    assert fact["kind"] == "dgpu"
    assert [g["device_id"] for g in fact["gpus"]] == ["2584"]
    assert fact["gpus"][0]["name"] == "GeForce RTX 3050 6GB"
    smi = fact["nvidia_driver"]["smi"]
    assert (smi["available"], smi["error"]) == (False, "no_driver")
    assert "kernel driver" in smi["reason"]
    assert "NVIDIA driver not loaded" in fact["summary"]


def test_jetson_from_planted_l4t_files(tmp_path: Path) -> None:
    """Simulated Jetson: nv_tegra_release, device-tree model (NUL-terminated), Ubuntu 22.04."""
    base_host(tmp_path, JAMMY, machine="aarch64")
    plant(
        tmp_path,
        {
            "/etc/nv_tegra_release": "# R36 (release), REVISION: 4.3, GCID: 38968081, "
            "BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025\n",
            "/proc/device-tree/model": "NVIDIA Jetson AGX Orin Developer Kit\x00",
            "/proc/device-tree/compatible": "nvidia,p3737-0000+p3701-0005\x00nvidia,p3701-0005"
            "\x00nvidia,tegra234\x00",
            "/sys/devices/soc0/family": "Tegra\n",
        },
    )
    fact = gather(tmp_path)
    assert fact["kind"] == "jetson"
    assert fact["jetson"] == {
        "detected": True,
        "source": "nv_tegra_release",
        "l4t_release": "36",
        "l4t_revision": "4.3",
        "jetpack": "6.2",
        "ubuntu": "22.04",
        "board": "NVIDIA Jetson AGX Orin Developer Kit",
        "soc": "t234",
    }
    assert fact["arch"] == {"machine": "aarch64", "dpkg": "arm64"}
    assert "L4T R36.4.3 (JetPack 6.2)" in fact["summary"]


def test_jetson_from_l4t_core_package_only(tmp_path: Path) -> None:
    """Stand-in dpkg-query listing nvidia-l4t-core (no nv_tegra_release)."""
    base_host(tmp_path, UBUNTU_FOCAL, machine="aarch64")
    plant_tool(
        tmp_path,
        "dpkg-query",
        "nvidia-l4t-core\tii \t35.4.1-20230801124926\ndocker.io\tun \t\n",
        rc=1,
    )
    fact = gather(tmp_path)
    jetson = fact["jetson"]
    assert (jetson["source"], jetson["jetpack"], jetson["ubuntu"]) == (
        "nvidia-l4t-core",
        "5.1.2",
        "20.04",
    )
    assert fact["docker"]["installed"] is False


def test_docker_installed_but_daemon_not_answering(tmp_path: Path) -> None:
    """Stand-in docker CLI whose daemon is down: values come from daemon.json and defaults."""
    base_host(tmp_path, JAMMY)
    plant_tool(
        tmp_path,
        "dpkg-query",
        "docker-ce\tii \t5:27.5.1-1~ubuntu.22.04~jammy\n"
        "nvidia-container-toolkit\tii \t1.17.3-1\n"
        "enroot\tii \t4.1.2-1\nenroot+caps\tii \t4.1.2-1\n",
        rc=1,
    )
    plant_tool(tmp_path, "docker", "Docker version 27.5.1, build 9f9e405\n")
    plant_tool(tmp_path, "systemctl", SHOW_STOPPED)
    plant_tool(tmp_path, "nvidia-ctk", fixture("nvidia/nvidia_ctk_version/ctk_1_12_0.txt"))
    plant_tool(tmp_path, "enroot", "4.1.2\n")
    plant(
        tmp_path,
        {
            "/etc/docker/daemon.json": json.dumps(
                {
                    "default-runtime": "nvidia",
                    "exec-opts": ["native.cgroupdriver=systemd"],
                    "runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}},
                }
            )
        },
    )
    # The stand-in docker prints its --version text for every call, so `docker info` does not
    # parse as an answering daemon.
    docker = gather(tmp_path)["docker"]
    assert docker == {
        "installed": True,
        "version": "27.5.1",
        "package": "docker-ce",
        "active": False,
        "answering": False,
        "runtimes": ["nvidia", "runc"],
        "default_runtime": "nvidia",
        "cgroup_driver": "systemd",
        "data_root": "/var/lib/docker",
        "units": {
            "docker.service": {"active_state": "failed", "unit_file_state": "enabled",
                               "active": False, "enabled": True, "need_daemon_reload": True},
            "docker.socket": {"active_state": "inactive", "unit_file_state": "disabled",
                              "active": False, "enabled": False, "need_daemon_reload": False},
        },
        "restart_pending": False,
        "daemon_json": (tmp_path / "etc/docker/daemon.json").read_text(),
        "daemon_json_settings": json.loads((tmp_path / "etc/docker/daemon.json").read_text()),
        "daemon_json_aside": False,
        "dropin_sha256": {},
    }
    fact = gather(tmp_path)
    assert fact["nvidia_container_toolkit"] == {"installed": True, "version": "1.12.0"}
    assert fact["enroot"] == {"installed": True, "version": "4.1.2", "caps": True}
    assert "daemon not answering" in fact["summary"]


def test_docker_answering_uses_docker_info(tmp_path: Path) -> None:
    """Stand-in docker printing a recorded `docker info --format '{{json .}}'`."""
    base_host(tmp_path)
    plant_tool(
        tmp_path, "docker", fixture("host_facts/docker_info/json_docker_io_20_10_debian12.txt")
    )
    plant_tool(tmp_path, "systemctl", fixture("host_facts/systemctl_show/docker_io_debian12.txt"))
    docker = gather(tmp_path)["docker"]
    assert (docker["answering"], docker["active"], docker["version"]) == (
        True,
        True,
        "20.10.24+dfsg1",
    )
    assert docker["cgroup_driver"] == "cgroupfs"


def test_force_kind_overrides_detection(tmp_path: Path) -> None:
    base_host(tmp_path)
    fact = gather(tmp_path, force="dgpu")
    assert fact["kind"] == "dgpu"
    assert fact["summary"].endswith("; kind forced to dgpu")


@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils timeout")
def test_hanging_tool_times_out(tmp_path: Path) -> None:
    """A stand-in nvidia-smi that hangs is cut off by coreutils timeout and reported."""
    base_host(tmp_path)
    plant_pci(tmp_path, "0000:01:00.0", "0x10de", "0x2204", "0x030000")
    timeout_bin = tmp_path / "usr" / "bin" / "timeout"
    timeout_bin.parent.mkdir(parents=True, exist_ok=True)
    timeout_bin.symlink_to(shutil.which("timeout") or "/usr/bin/timeout")
    plant_tool(tmp_path, "nvidia-smi", "GPU 0: x (UUID: GPU-1)\n", sleep=30)
    fact = gather(tmp_path, timeout=1)
    assert fact["nvidia_driver"]["smi"]["error"] == "timeout"


def test_module_entry_point_in_check_mode(tmp_path: Path) -> None:
    """Run the module file as Ansible does (args file), in check mode, against a planted root."""
    base_host(tmp_path)
    args = tmp_path / "args.json"
    args.write_text(
        json.dumps({"ANSIBLE_MODULE_ARGS": {"root": str(tmp_path), "_ansible_check_mode": True}}),
        encoding="utf-8",
    )
    done = subprocess.run(
        script_argv("provision_host_facts", str(args)),
        capture_output=True,
        text=True,
        check=False,
    )
    result = json.loads(done.stdout)
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    # A fresh gather makes the Docker file contents in the fact current again.
    assert result["ansible_facts"]["gpuhost_docker_config_written"] is False
    fact = result["ansible_facts"]["provision_host"]
    assert fact["kind"] == "cpu"
    assert list(fact) == [
        "schema",
        "kind",
        "os",
        "arch",
        "kernel",
        "gpus",
        "nvidia_driver",
        "jetson",
        "docker",
        "nvidia_container_toolkit",
        "enroot",
        "packages",
        "dpkg_interrupted",
        "config_files",
        "docker_access",
        "looks",
        "summary",
    ]


@pytest.mark.parametrize(
    ("release", "revision", "expected"),
    [
        ("36", "3.0", ("6.0", "22.04")),
        ("36", "4.0", ("6.1", "22.04")),
        ("36", "4.3", ("6.2", "22.04")),
        ("36", "4.7", ("6.x", "22.04")),
        ("35", "1.0", ("5.0.2", "20.04")),
        ("34", "1.1", ("5.x", "20.04")),
        ("32", "7.4", ("4.6.4", "18.04")),
        ("32", "2.3", ("4.x", "18.04")),
        ("38", "2.0", ("7.x", "24.04")),
        ("39", "1.0", ("7.2", None)),
        ("28", "2.1", ("3.x", "16.04")),
        ("27", "1", ("3.x", "16.04")),
        ("24", "2.1", ("2.x", None)),
        ("21", "5", ("1.x", "14.04")),
        ("31", "1.0", ("4.x", "18.04")),
        ("19", "3", (None, None)),
        (None, None, (None, None)),
    ],
)
def test_jetpack_mapping(
    release: str | None, revision: str | None, expected: tuple[str | None, str | None]
) -> None:
    mapped = phf.jetpack_for_l4t(release, revision)
    assert (mapped["jetpack"], mapped["ubuntu"]) == expected


@pytest.mark.parametrize(
    ("mounts", "expected"),
    [
        ("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n", 2),
        ("cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n", 1),
        (
            "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
            "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n",
            1,
        ),
        ("proc /proc proc rw 0 0\n", None),
    ],
)
def test_cgroup_version(mounts: str, expected: int | None) -> None:
    assert phf.cgroup_version_from_mounts(mounts) == expected


@pytest.mark.parametrize(
    ("max_ns", "clone", "restrict", "usable"),
    [
        (63329, None, None, True),
        (63329, 1, 0, True),
        (0, None, None, False),
        (63329, 0, None, False),
        (63329, None, 1, False),
        (None, None, None, False),
    ],
)
def test_userns_usable(
    max_ns: int | None, clone: int | None, restrict: int | None, usable: bool
) -> None:
    assert phf.userns_usable(max_ns, clone, restrict) is usable


def test_daemon_json_defaults_follow_cgroup_version() -> None:
    assert phf.parse_daemon_json("", 2)["cgroup_driver"] == "systemd"
    assert phf.parse_daemon_json("", 1)["cgroup_driver"] == "cgroupfs"
    assert phf.parse_daemon_json("{not json", 1)["default_runtime"] == "runc"
    assert phf.parse_daemon_json('{"data-root": "/data/docker"}', 2)["data_root"] == "/data/docker"


def test_unknown_smi_failure_keeps_first_line() -> None:
    result = phf.classify_nvidia_smi_error("\nSomething odd happened\nmore\n")
    assert result == {"error": "failed", "reason": "nvidia-smi failed: Something odd happened"}


def test_packages_holds_and_config_files(tmp_path: Path) -> None:
    """Stand-in dpkg-query: held ("hi") packages are installed, "rc" ones are gone, a held but
    uninstalled one stays (its hold can be released); planted apt and drop-in files are listed."""
    base_host(tmp_path)
    plant_tool(
        tmp_path,
        "dpkg-query",
        "docker-ce\thi \t5:27.5.1-1~debian.12~bookworm\n"
        "docker-ce-cli\thi \t5:27.5.1-1~debian.12~bookworm\n"
        "containerd.io\tii \t1.7.25-1\n"
        "docker.io\trc \t20.10.24+dfsg1-1+b3\n"
        "docker-ce-rootless-extras\thn \t\n"
        "podman-docker\tun \t\n",
        rc=1,
    )
    plant(
        tmp_path,
        {
            "/etc/apt/sources.list.d/docker.sources": "Types: deb\n",
            "/etc/apt/sources.list.d/nvidia-docker.list": "deb https://example.invalid /\n",
            "/etc/apt/trusted.gpg.d/docker.gpg": "",
            "/etc/systemd/system/docker.service.d/http-proxy.conf": "[Service]\n",
        },
    )
    fact = gather(tmp_path)
    assert fact["packages"] == {
        "docker-ce": {"version": "5:27.5.1-1~debian.12~bookworm", "held": True},
        "docker-ce-cli": {"version": "5:27.5.1-1~debian.12~bookworm", "held": True},
        "containerd.io": {"version": "1.7.25-1", "held": False},
        "docker-ce-rootless-extras": {"version": None, "held": True},
    }
    assert fact["config_files"] == [
        "/etc/apt/sources.list.d/docker.sources",
        "/etc/apt/sources.list.d/nvidia-docker.list",
        "/etc/apt/trusted.gpg.d/docker.gpg",
        "/etc/systemd/system/docker.service.d/http-proxy.conf",
    ]
    # A held engine is still the installed engine.
    assert (fact["docker"]["package"], fact["docker"]["version"]) == (
        "docker-ce",
        "5:27.5.1-1~debian.12~bookworm",
    )


def test_dpkg_interrupted_reports_audit_and_unapplied_journal(tmp_path: Path) -> None:
    """Stand-in dpkg: --audit's report (it exits 1 when it finds something) and the numbered
    journal files in /var/lib/dpkg/updates (not its tmp.i) are what docker_engine repairs from."""
    base_host(tmp_path)
    assert gather(tmp_path)["dpkg_interrupted"] == ""
    audit = "The following packages are only half configured:\n docker.io\n"
    plant_tool(tmp_path, "dpkg", audit, rc=1)
    plant(tmp_path, {"/var/lib/dpkg/updates/0001": "x", "/var/lib/dpkg/updates/tmp.i": ""})
    assert gather(tmp_path)["dpkg_interrupted"].splitlines() == [
        "The following packages are only half configured:",
        " docker.io",
        "/var/lib/dpkg/updates/0001",
    ]


def test_dropin_digests_restart_pending_and_no_systemd(tmp_path: Path) -> None:
    """Drop-ins by sha256 (a link as "symlink"), a recorded restart, daemon.json absent; a
    systemctl that cannot answer (no systemd as PID 1) leaves units empty and Docker inactive."""
    base_host(tmp_path)
    plant_tool(tmp_path, "dpkg-query", "docker.io\tii \t20.10.24+dfsg1-1+deb12u1\n", rc=1)
    plant_tool(tmp_path, "systemctl", "System has not been booted with systemd\n", rc=1)
    proxy = "[Service]\nEnvironment=HTTP_PROXY=http://proxy:3128\n"
    plant(
        tmp_path,
        {
            "/etc/systemd/system/docker.service.d/http-proxy.conf": proxy,
            "/var/lib/gpuhost/docker-restart/pending.json": "{}",
        },
    )
    socket_dir = tmp_path / "etc/systemd/system/docker.socket.d"
    socket_dir.mkdir(parents=True)
    (socket_dir / "gpuhost-socket.conf").symlink_to("/dev/null")
    docker = gather(tmp_path)["docker"]
    assert docker["dropin_sha256"] == {
        "/etc/systemd/system/docker.service.d/http-proxy.conf":
            hashlib.sha256(proxy.encode()).hexdigest(),
        "/etc/systemd/system/docker.socket.d/gpuhost-socket.conf": "symlink",
    }
    assert docker["restart_pending"] is True
    assert (docker["daemon_json"], docker["daemon_json_settings"]) == (None, None)
    plant(tmp_path, {"/etc/docker/.daemon.json.gpuhost-nvidia-docker2-purge": "{}"})
    assert gather(tmp_path)["docker"]["daemon_json_aside"] is True
    assert (docker["units"], docker["active"]) == ({}, False)


def test_dpkg_patterns_cover_every_package_docker_engine_decides_on() -> None:
    """docker_engine reads provision_host.packages instead of its own dpkg-query: every name
    in its package lists must be matched by one of the module's dpkg-query patterns."""
    data = yaml.safe_load((ROOT / "roles/docker_engine/vars/main.yml").read_text("utf-8"))
    names = set(data["docker_engine_known_packages"])
    for lists in (data["docker_engine_conflicts"], data["docker_engine_hold_candidates"]):
        names.update(name for packages in lists.values() for name in packages)
    unmatched = {
        name
        for name in names
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in phf.DPKG_PATTERNS)
    }
    assert unmatched == set()
    # And the role only reads packages it queried before.
    assert set(data["docker_engine_hold_candidates"]["docker-ce"]) <= names


@pytest.mark.parametrize(
    ("os_release", "repo_id"),
    [
        ("ID=ubuntu\nID_LIKE=debian\n", "ubuntu"),
        ("ID=debian\n", "debian"),
        ("ID=raspbian\nID_LIKE=debian\n", "raspbian"),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "ubuntu"),
        ("ID=kali\nID_LIKE=debian\n", "debian"),
    ],
)
def test_docker_repo_id(os_release: str, repo_id: str) -> None:
    """The same rule docker_engine's detect.yml used in its shell probe."""
    assert phf.parse_os_release(os_release)["repo_id"] == repo_id


ENSURE = {
    "name": "host_facts",
    "tasks_from": "ensure",
    "apply": {"tags": ["always"]},
}


@pytest.mark.parametrize("role", ["docker_engine", "docker_access", "gpu_verify",
                                  "nvidia_container_toolkit", "jetson_container_runtime",
                                  "enroot"])
def test_roles_that_read_the_fact_ensure_it_first_whatever_the_tags(role: str) -> None:
    """First task: host_facts' ensure entry point, tagged always on the include and on the
    tasks it brings in (a dynamic include does not pass its own tags on)."""
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks/main.yml").read_text("utf-8"))
    first = tasks[0]
    assert first["ansible.builtin.include_role"] == ENSURE
    assert first["tags"] == ["always"]
    # The include itself is skipped when host_facts ran in this run (ensure would skip all).
    assert first["when"] == "not (host_facts_gathered_this_run | default(false))"


def test_ensure_gathers_only_without_this_runs_marker() -> None:
    role = ROOT / "roles" / "host_facts"
    main = yaml.safe_load((role / "tasks/main.yml").read_text("utf-8"))
    marker = main[-1]["ansible.builtin.set_fact"]
    # A plain set_fact: kept in this run's memory, never written to the fact cache.
    assert marker == {"host_facts_gathered_this_run": True}
    ensure = yaml.safe_load((role / "tasks/ensure.yml").read_text("utf-8"))
    assert all(
        task["when"] == "not (host_facts_gathered_this_run | default(false))" for task in ensure
    )
    assert ensure[-1]["ansible.builtin.import_tasks"] == "main.yml"


def test_docker_engine_detect_runs_nothing_on_the_host() -> None:
    """detect.yml decides from provision_host on the controller: set_fact and include_vars."""
    tasks = yaml.safe_load((ROOT / "roles/docker_engine/tasks/detect.yml").read_text("utf-8"))
    modules = {key for task in tasks for key in task if key.startswith("ansible.builtin.")}
    assert modules == {"ansible.builtin.set_fact", "ansible.builtin.include_vars"}
    assert "provision_host" in (ROOT / "roles/docker_engine/tasks/detect.yml").read_text("utf-8")


def test_device_tree_read_from_sys_firmware_first(tmp_path: Path) -> None:
    """/sys/firmware/devicetree/base (what /proc/device-tree links to) wins; Xavier is t194."""
    base_host(tmp_path, UBUNTU_FOCAL, machine="aarch64")
    plant(
        tmp_path,
        {
            "/etc/nv_tegra_release": "# R35 (release), REVISION: 4.1, GCID: 33958178, "
            "BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023\n",
            "/sys/firmware/devicetree/base/model": "Jetson-AGX\x00",
            "/sys/firmware/devicetree/base/compatible": "nvidia,p2972-0000\x00nvidia,tegra194\x00",
            "/proc/device-tree/model": "stale\x00",
        },
    )
    jetson = gather(tmp_path)["jetson"]
    assert (jetson["board"], jetson["soc"], jetson["jetpack"]) == ("Jetson-AGX", "t194", "5.1.2")


def test_jetson_without_compatible_has_no_soc(tmp_path: Path) -> None:
    base_host(tmp_path, UBUNTU_FOCAL, machine="aarch64")
    plant(tmp_path, {"/etc/nv_tegra_release": "# R36 (release), REVISION: 4.3, BOARD: generic\n"})
    assert gather(tmp_path)["jetson"]["soc"] is None


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (None, None),
        ("kernel/net/ipv4/netfilter/iptable_nat.ko:\n", False),
        ("kernel/net/ipv4/netfilter/iptable_raw.ko.zst: kernel/net/ipv4/netfilter/ip_tables.ko\n",
         True),
    ],
    ids=["no-index", "absent", "module"],
)
def test_iptable_raw_from_the_modules_index(tmp_path: Path, index: str | None,
                                            expected: bool | None) -> None:
    """JetPack 6's r36.4.3 kernel lacks iptable_raw (CONFIG_IP_NF_RAW): Docker 28 needs it."""
    base_host(tmp_path, UBUNTU_FOCAL, machine="aarch64")
    release = (tmp_path / "proc/sys/kernel/osrelease").read_text().strip()
    (tmp_path / f"lib/modules/{release}/modules.dep").unlink()
    if index is not None:
        plant(tmp_path, {f"/lib/modules/{release}/modules.dep": index})
    assert gather(tmp_path)["kernel"]["iptable_raw"] is expected
