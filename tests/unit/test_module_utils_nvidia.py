"""plugins/module_utils/gpuhost_nvidia.py, the parsers both custom modules share.

Inputs are the recorded real outputs under tests/fixtures/host_facts/ and
tests/fixtures/gpu_verify/ (each starts with a `# source: <where>` line, stripped here). The
import below goes through ansible.module_utils exactly as the modules' own imports do; this
directory's conftest.py adds plugins/module_utils to that package's path, as Ansible's payload
does on a host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils import gpuhost_nvidia
from ansible.module_utils.gpuhost_nvidia import (
    jetpack_for_l4t,
    parse_smi_list,
    parse_tegra_release,
)
from module_loader import load_module

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMI_LIST = FIXTURES / "host_facts" / "nvidia_smi_list"
SMI_ERRORS = FIXTURES / "host_facts" / "nvidia_smi_error"
GPU_VERIFY = FIXTURES / "gpu_verify"


def body(path: Path) -> str:
    first, _, rest = path.read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# source: "), f"{path} must name its source"
    return rest


def summary(gpus: list[dict[str, Any]]) -> list[tuple[int, str, str | None, list[tuple]]]:
    return [
        (
            gpu["index"],
            gpu["name"],
            gpu["uuid"],
            [(mig["index"], mig["profile"], mig["name"], mig["uuid"][:12]) for mig in gpu["mig"]],
        )
        for gpu in gpus
    ]


def test_gpu_with_mig_devices_from_datadog_record() -> None:
    (gpu,) = parse_smi_list(body(SMI_LIST / "datadog_a100_sxm4_mig7.txt"))
    assert (gpu["index"], gpu["name"], gpu["uuid"]) == (
        0,
        "NVIDIA A100-SXM4-80GB",
        "GPU-7fdaf0a5-179b-f636-d15d-daf243e3ff16",
    )
    assert [mig["index"] for mig in gpu["mig"]] == list(range(7))
    assert gpu["mig"][0] == {
        "index": 0,
        "uuid": "MIG-feb88891-0321-5fef-9c87-d4af3b54259e",
        "profile": "1g.10gb",
        "name": "MIG 1g.10gb",
    }
    assert gpu["mig"][6]["uuid"] == "MIG-1aae4990-b962-574e-8375-119d6d9b9687"


def test_mig_devices_stay_with_the_gpu_listed_above_them() -> None:
    gpus = parse_smi_list(body(SMI_LIST / "telegraf_4x_a100_one_mig.txt"))
    assert summary(gpus) == [
        (
            0,
            "NVIDIA A100-SXM4-80GB",
            "GPU-513536b6-7d19-9063-b049-1e69664bb298",
            [
                (i, "1g.20gb", "MIG 1g.20gb", uuid)
                for i, uuid in enumerate(
                    ["MIG-ce861fb0", "MIG-a45882f0", "MIG-f00d722c", "MIG-930574a9"]
                )
            ],
        ),
        (1, "NVIDIA A100-SXM4-80GB", "GPU-d8594bd4-0fc3-8595-e355-7c98138f3b95", []),
        (2, "NVIDIA A100-SXM4-80GB", "GPU-5e375e7e-b41f-155b-dcdc-534524c356fc", []),
        (3, "NVIDIA A100-SXM4-80GB", "GPU-69ec2344-ebac-b028-f88f-452abb3d7f11", []),
    ]


def test_mixed_models_keep_their_names() -> None:
    gpus = parse_smi_list(body(GPU_VERIFY / "smi_multi_gpu.txt"))
    assert [(g["index"], g["name"]) for g in gpus] == [
        (0, "NVIDIA A10"),
        (1, "NVIDIA A10"),
        (2, "Tesla T4"),
        (3, "Tesla T4"),
    ]
    assert all(g["uuid"].startswith("GPU-") and g["mig"] == [] for g in gpus)


@pytest.mark.parametrize(
    ("path", "profile", "count"),
    [
        (SMI_LIST / "go_dcgm_a100_pcie_mig1.txt", "2g.20gb", 1),
        (SMI_LIST / "nvct203_a100_pcie_mig2.txt", "3g.40gb", 2),
        (GPU_VERIFY / "smi_mig_single.txt", "3g.40gb", 2),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_single_gpu_mig_records(path: Path, profile: str, count: int) -> None:
    (gpu,) = parse_smi_list(body(path))
    assert gpu["name"] == "NVIDIA A100 80GB PCIe"
    assert [(m["profile"], m["name"]) for m in gpu["mig"]] == [(profile, f"MIG {profile}")] * count


def test_jetson_orin_record_keeps_the_bracketed_name() -> None:
    # The published output had its UUID redacted to "[removed]"; it is still the UUID field.
    (gpu,) = parse_smi_list(body(GPU_VERIFY / "smi_jetson_orin.txt"))
    assert gpu == {"index": 0, "name": "Orin (nvgpu)", "uuid": "[removed]", "mig": []}


def test_gpu_line_without_uuid_gives_uuid_none() -> None:
    # JetPack 6's limited nvidia-smi may print no UUID (platform-facts.md); built from the
    # Orin record above with its UUID part removed.
    line = body(GPU_VERIFY / "smi_jetson_orin.txt").replace(" (UUID: [removed])", "")
    assert line.strip() == "GPU 0: Orin (nvgpu)"
    assert parse_smi_list(line) == [{"index": 0, "name": "Orin (nvgpu)", "uuid": None, "mig": []}]


def test_mig_line_before_any_gpu_is_ignored() -> None:
    text = body(SMI_LIST / "go_dcgm_a100_pcie_mig1.txt")
    gpu_line, mig_line = text.splitlines()[:2]
    gpus = parse_smi_list(f"{mig_line}\n{gpu_line}\n")
    assert [len(g["mig"]) for g in gpus] == [0]


@pytest.mark.parametrize(
    "path",
    [
        *sorted(SMI_ERRORS.glob("*.txt")),
        GPU_VERIFY / "smi_no_driver.txt",
        GPU_VERIFY / "smi_no_driver_curly_quote.txt",
        GPU_VERIFY / "nvml_version_mismatch.txt",
        GPU_VERIFY / "nvml_unknown_error.txt",
    ],
    ids=lambda path: path.name,
)
def test_failure_texts_list_no_gpu(path: Path) -> None:
    assert parse_smi_list(body(path)) == []


def test_both_modules_use_the_shared_parser() -> None:
    gpu_verify = load_module("gpu_verify")
    host_facts = load_module("provision_host_facts")
    assert gpu_verify.parse_smi_list is gpuhost_nvidia.parse_smi_list
    assert host_facts.parse_tegra_release is gpuhost_nvidia.parse_tegra_release
    assert gpu_verify.parse_tegra_release is gpuhost_nvidia.parse_tegra_release


def test_host_facts_keeps_its_documented_mig_shape() -> None:
    """provision_host.nvidia_driver.smi.gpus[].mig[] stays {index, name, uuid}."""
    host_facts = load_module("provision_host_facts")
    text = body(SMI_LIST / "nvct203_a100_pcie_mig2.txt")
    (gpu,) = host_facts.parse_nvidia_smi_list(text)
    assert set(gpu) == {"index", "name", "uuid", "mig"}
    assert gpu["mig"] == [
        {"index": 0, "name": "MIG 3g.40gb", "uuid": "MIG-0929581a-2be6-5dec-bf34-0954c6c529a6"},
        {"index": 1, "name": "MIG 3g.40gb", "uuid": "MIG-3adbed3a-d03d-549f-a016-ba1fd7359f23"},
    ]
    # The shared result itself is untouched by the module's reshaping.
    assert "profile" in parse_smi_list(text)[0]["mig"][0]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            FIXTURES / "host_facts" / "tegra_release" / "r35_4_1_agx_orin.txt",
            ("35", "4.1", "t186ref", "5.1.2", "20.04"),
        ),
        (
            FIXTURES / "host_facts" / "tegra_release" / "r32_5_1_tx2.txt",
            ("32", "5.1", "t186ref", "4.5.1", "18.04"),
        ),
        (GPU_VERIFY / "nv_tegra_release_r35.txt", ("35", "4.1", "t186ref", "5.1.2", "20.04")),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else "",
)
def test_tegra_release_records(path: Path, expected: tuple) -> None:
    tegra = parse_tegra_release(body(path))
    mapped = jetpack_for_l4t(tegra["l4t_release"], tegra["l4t_revision"])
    got = (tegra["l4t_release"], tegra["l4t_revision"], tegra["board"], *mapped.values())
    assert got == expected


@pytest.mark.parametrize("text", [None, "", "not a tegra release"])
def test_tegra_release_absent(text: str | None) -> None:
    assert parse_tegra_release(text) == {"l4t_release": None, "l4t_revision": None, "board": None}
