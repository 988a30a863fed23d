"""provision_host_facts parsers against recorded real outputs.

Every file under tests/fixtures/nvidia/<parser>/ and tests/fixtures/host_facts/<parser>/ starts
with a `# source: <where>` line (an issue, pull request or repository file the output was copied
from, or this project's own machine); tests/fixture_loader.py strips it. EXPECTED holds what each
output must parse to.
"""

from __future__ import annotations

from typing import Any

import pytest
from ansible.module_utils.gpuhost_nvidia import GPU_CLASSES, NVIDIA_VENDOR
from fixture_loader import fixture_files, read_fixture
from module_loader import load_module

phf = load_module("provision_host_facts")


def smi_list(text: str) -> dict[str, Any]:
    gpus = phf.parse_nvidia_smi_list(text)
    return {
        "count": len(gpus),
        "names": sorted({gpu["name"] for gpu in gpus}),
        "first_uuid": gpus[0]["uuid"] if gpus else None,
        "mig_per_gpu": [len(gpu["mig"]) for gpu in gpus],
        "mig_names": sorted({mig["name"] for gpu in gpus for mig in gpu["mig"]}),
        "indexes": [gpu["index"] for gpu in gpus],
    }


def smi_error(text: str) -> dict[str, Any]:
    result = phf.classify_nvidia_smi_error(text)
    return {"error": result["error"], "mentions_nvml": "NVML library version" in result["reason"]}


def tegra(text: str) -> dict[str, Any]:
    parsed = phf.parse_tegra_release(text)
    return dict(parsed, **phf.jetpack_for_l4t(parsed["l4t_release"], parsed["l4t_revision"]))


def lspci(text: str) -> dict[str, Any]:
    devices = phf.parse_lspci(text)
    gpus = phf.select_gpus(devices)
    return {
        "gpus": [(g["pci_address"], g["device_id"], g["class_id"], g["name"]) for g in gpus],
        "nvidia_not_gpu": sorted(
            {d["class_id"] for d in devices if d["vendor_id"] == NVIDIA_VENDOR} - set(GPU_CLASSES)
        ),
    }


def os_release(text: str) -> dict[str, Any]:
    parsed = phf.parse_os_release(text)
    return {key: parsed[key] for key in ("id", "version", "codename", "family")}


def l4t_core(text: str) -> dict[str, Any]:
    parsed = phf.parse_l4t_core_version(text)
    return dict(parsed, **phf.jetpack_for_l4t(parsed["l4t_release"], parsed["l4t_revision"]))


PARSERS = {
    "nvidia_smi_list": smi_list,
    "nvidia_smi_error": smi_error,
    "nvidia_version": phf.parse_nvidia_version,
    "tegra_release": tegra,
    "lspci": lspci,
    "os_release": os_release,
    "docker_info": phf.parse_docker_info,
    "nvidia_ctk_version": phf.parse_nvidia_ctk_version,
    "l4t_core_version": l4t_core,
    "systemctl_show": phf.parse_systemctl_show,
}

A100_80 = "NVIDIA A100-SXM4-80GB"
H200 = "H200 SXM 141GB"

EXPECTED: dict[str, Any] = {
    "nvidia/nvidia_smi_list/datadog_a100_sxm4_mig7.txt": {
        "count": 1,
        "names": [A100_80],
        "first_uuid": "GPU-7fdaf0a5-179b-f636-d15d-daf243e3ff16",
        "mig_per_gpu": [7],
        "mig_names": ["MIG 1g.10gb"],
        "indexes": [0],
    },
    "nvidia/nvidia_smi_list/go_dcgm_a100_pcie_mig1.txt": {
        "count": 1,
        "names": ["NVIDIA A100 80GB PCIe"],
        "first_uuid": "GPU-41255406-c9af-f94b-4ebf-9d57ad1853da",
        "mig_per_gpu": [1],
        "mig_names": ["MIG 2g.20gb"],
        "indexes": [0],
    },
    "nvidia/nvidia_smi_list/telegraf_4x_a100_one_mig.txt": {
        "count": 4,
        "names": [A100_80],
        "first_uuid": "GPU-513536b6-7d19-9063-b049-1e69664bb298",
        "mig_per_gpu": [4, 0, 0, 0],
        "mig_names": ["MIG 1g.20gb"],
        "indexes": [0, 1, 2, 3],
    },
    "nvidia/nvidia_smi_list/nvct203_a100_pcie_mig2.txt": {
        "count": 1,
        "names": ["NVIDIA A100 80GB PCIe"],
        "first_uuid": "GPU-932bfb2c-849a-2a22-1e84-9eff6bc02b39",
        "mig_per_gpu": [2],
        "mig_names": ["MIG 3g.40gb"],
        "indexes": [0],
    },
    "nvidia/nvidia_smi_list/nvct1227_2x_a10_2x_t4.txt": {
        "count": 4,
        "names": ["NVIDIA A10", "Tesla T4"],
        "first_uuid": "GPU-f15ae561-21b1-6003-c768-861fc285203b",
        "mig_per_gpu": [0, 0, 0, 0],
        "mig_names": [],
        "indexes": [0, 1, 2, 3],
    },
    "nvidia/nvidia_smi_list/jetson_orin_nvgpu.txt": {
        "count": 1,
        "names": ["Orin (nvgpu)"],
        "first_uuid": "[removed]",
        "mig_per_gpu": [0],
        "mig_names": [],
        "indexes": [0],
    },
    "nvidia/nvidia_smi_error/no_driver/shine_cluster.txt": {
        "error": "no_driver",
        "mentions_nvml": False,
    },
    "nvidia/nvidia_smi_error/no_driver/wrapped_nvidia_docker988.txt": {
        "error": "no_driver",
        "mentions_nvml": False,
    },
    "nvidia/nvidia_smi_error/no_driver/curly_quote_qixuema.txt": {
        "error": "no_driver",
        "mentions_nvml": False,
    },
    "nvidia/nvidia_smi_error/version_mismatch/nvml_570_tinygrad.txt": {
        "error": "version_mismatch",
        "mentions_nvml": True,
    },
    "nvidia/nvidia_smi_error/version_mismatch/nvml_550_intel_llvm.txt": {
        "error": "version_mismatch",
        "mentions_nvml": True,
    },
    "nvidia/nvidia_smi_error/version_mismatch/plain_shine_cluster.txt": {
        "error": "version_mismatch",
        "mentions_nvml": False,
    },
    "nvidia/nvidia_smi_error/nvml_unknown/in_container_nvct1227.txt": {
        "error": "nvml_unknown",
        "mentions_nvml": False,
    },
    "nvidia/nvidia_version/open_525_arch.txt": {"version": "525.60.11", "module_type": "open"},
    "nvidia/nvidia_version/open_565_ubuntu2404.txt": {
        "version": "565.57.01",
        "module_type": "open",
    },
    "nvidia/nvidia_version/open_jetson_orin_nx_35.3.1.txt": {
        "version": "35.3.1",
        "module_type": "open",
    },
    "nvidia/nvidia_version/open_555_gentoo.txt": {"version": "555.58", "module_type": "open"},
    "nvidia/nvidia_version/proprietary_readme_example.txt": {
        "version": None,
        "module_type": "proprietary",
    },
    "nvidia/tegra_release/r35_4_1_agx_orin.txt": {
        "l4t_release": "35",
        "l4t_revision": "4.1",
        "board": "t186ref",
        "jetpack": "5.1.2",
        "ubuntu": "20.04",
    },
    "nvidia/tegra_release/r28_2_1_tx2_jetson_stats.txt": {
        "l4t_release": "28",
        "l4t_revision": "2.1",
        "board": "t186ref",
        "jetpack": "3.x",
        "ubuntu": "16.04",
    },
    "nvidia/tegra_release/r32_5_1_tx2.txt": {
        "l4t_release": "32",
        "l4t_revision": "5.1",
        "board": "t186ref",
        "jetpack": "4.5.1",
        "ubuntu": "18.04",
    },
    "nvidia/lspci/rtx3050_with_hdmi_audio.txt": {
        "gpus": [("01:00.0", "2584", "0300", "GeForce RTX 3050 6GB")],
        "nvidia_not_gpu": ["0403"],
    },
    "nvidia/lspci/h200_hgx_with_nvswitch_bridges.txt": {
        "gpus": [
            (address, "2335", "0302", H200)
            for address in (
                "5d:00.0",
                "3a:00.0",
                "2a:00.0",
                "18:00.0",
                "db:00.0",
                "ba:00.0",
                "ab:00.0",
                "9a:00.0",
            )
        ],
        "nvidia_not_gpu": ["0680"],
    },
    "nvidia/lspci/a100_sxm4_40gb_and_80gb.txt": {
        "gpus": [
            ("07:00.0", "20b0", "0302", "A100 SXM4 40GB"),
            ("07:00.0", "20b2", "0302", "A100 SXM4 80GB"),
        ],
        "nvidia_not_gpu": [],
    },
    "nvidia/lspci/gtx560ti_vnn.txt": {
        "gpus": [("01:00.0", "1200", "0300", "GeForce GTX 560 Ti")],
        "nvidia_not_gpu": [],
    },
    "nvidia/lspci/rtx3080_prog_if.txt": {
        "gpus": [("01:00.0", "2206", "0300", "GeForce RTX 3080")],
        "nvidia_not_gpu": [],
    },
    "host_facts/os_release/linuxmint_22_wilma.txt": {
        "id": "linuxmint",
        "version": "22",
        "codename": "noble",
        "family": "ubuntu",
    },
    "host_facts/os_release/popos_22_04.txt": {
        "id": "pop",
        "version": "22.04",
        "codename": "jammy",
        "family": "ubuntu",
    },
    "host_facts/os_release/popos_20_04.txt": {
        "id": "pop",
        "version": "20.04",
        "codename": "focal",
        "family": "ubuntu",
    },
    "host_facts/os_release/ubuntu_20_04_jetson_agx.txt": {
        "id": "ubuntu",
        "version": "20.04",
        "codename": "focal",
        "family": "ubuntu",
    },
    "host_facts/os_release/debian_12_bookworm.txt": {
        "id": "debian",
        "version": "12",
        "codename": "bookworm",
        "family": "debian",
    },
    "host_facts/docker_info/json_docker_io_20_10_debian12.txt": {
        "version": "20.10.24+dfsg1",
        "runtimes": ["io.containerd.runc.v2", "io.containerd.runtime.v1.linux", "runc"],
        "default_runtime": "runc",
        "cgroup_driver": "cgroupfs",
        "data_root": "/var/lib/docker",
    },
    "host_facts/docker_info/text_nvidia_runtime_ubuntu2204.txt": {
        "version": "24.0.7",
        "runtimes": ["io.containerd.runc.v2", "nvidia", "runc"],
        "default_runtime": "runc",
        "cgroup_driver": "systemd",
        "data_root": "/var/lib/docker",
    },
    "host_facts/docker_info/text_kata_default_runtime_centos7.txt": {
        "version": "18.06.1-ce",
        "runtimes": ["kata-runtime", "runc"],
        "default_runtime": "kata-runtime",
        "cgroup_driver": "cgroupfs",
        "data_root": "/var/lib/docker",
    },
    "host_facts/systemctl_show/docker_io_debian12.txt": {
        unit: {"active_state": "active", "unit_file_state": "enabled", "active": True,
               "enabled": True, "need_daemon_reload": False}
        for unit in ("docker.service", "docker.socket")
    },
    "nvidia/nvidia_ctk_version/ctk_1_12_0.txt": "1.12.0",
    "nvidia/l4t_core_version/l4t_core_36_4_4.txt": {
        "l4t_release": "36",
        "l4t_revision": "4.4",
        "jetpack": "6.2.1",
        "ubuntu": "22.04",
    },
}

FIXTURE_FILES = [
    path
    for path in fixture_files("host_facts") + fixture_files("nvidia")
    if path.split("/")[1] in PARSERS
]


def test_fixture_set_is_complete() -> None:
    """At least 30 recorded outputs, each with an expectation, and no stale expectations."""
    assert len(FIXTURE_FILES) >= 30
    assert set(FIXTURE_FILES) == set(EXPECTED)
    # Every NVIDIA output is parsed here: no folder of tests/fixtures/nvidia/ goes unread.
    assert {path.split("/")[1] for path in fixture_files("nvidia")} <= set(PARSERS)


@pytest.mark.parametrize("relative", FIXTURE_FILES)
def test_recorded_output_parses(relative: str) -> None:
    source, body = read_fixture(relative)
    assert source.startswith(("https://", "recorded on this project's"))
    parser = PARSERS[relative.split("/")[1]]
    assert parser(body) == EXPECTED[relative]


@pytest.mark.parametrize(("text", "expected"), [
    ('{"log-opts": {"max-size": "10m"}}', {"log-opts": {"max-size": "10m"}}),
    ("{}", {}),
    (None, None),            # no file
    ("", None),              # empty: docker_daemon_json decides (it reads it as {})
    ('{"debug": true,}', None),
    ('["not", "an object"]', None),
])
def test_daemon_json_settings_only_for_a_json_object(text: str | None, expected: Any) -> None:
    assert phf.parse_json_object(text) == expected


def test_systemctl_show_unknown_unit_and_blocks_without_id() -> None:
    """An engine not installed: systemctl still prints a block, with an empty UnitFileState
    (format as recorded for an unknown unit on the Debian 12 test host). Blocks without Id
    are named by their position; units not asked about are dropped."""
    text = ("Id=docker.service\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n\n"
            "ActiveState=activating\nUnitFileState=static\nNeedDaemonReload=yes\n\n"
            "Id=other.service\nActiveState=active\n")
    units = phf.parse_systemctl_show(text)
    assert units == {
        "docker.service": {"active_state": "inactive", "unit_file_state": None, "active": False,
                           "enabled": False, "need_daemon_reload": False},
        "docker.socket": {"active_state": "activating", "unit_file_state": "static",
                          "active": False, "enabled": False, "need_daemon_reload": True},
    }
    assert phf.parse_systemctl_show("") == {}
