"""plugins/module_utils/gpuhost_nvidia.py (and gpuhost_host.py): what both modules share.

Inputs are the recorded real outputs under tests/fixtures/nvidia/ (each starts with a
`# source: <where>` line, stripped by tests/fixture_loader.py). The imports below go through
ansible.module_utils exactly as the modules' own imports do; this directory's conftest.py adds
plugins/module_utils to that package's path, as Ansible's payload does on a host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ansible.module_utils import gpuhost_checks, gpuhost_host, gpuhost_nvidia
from ansible.module_utils.gpuhost_nvidia import (
    classify_nvidia_smi_error,
    derive_kind,
    is_nvidia_gpu,
    jetpack_for_l4t,
    normalise_message,
    parse_smi_list,
    parse_tegra_release,
    pci_class,
    pci_id,
    pci_record,
)
from fixture_loader import fixture, fixture_files
from module_loader import load_module

SMI_LIST = "nvidia/nvidia_smi_list/"
SMI_ERRORS = "nvidia/nvidia_smi_error/"
TEGRA = "nvidia/tegra_release/"


def body(relative: str) -> str:
    return fixture(relative)


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
    (gpu,) = parse_smi_list(body(SMI_LIST + "datadog_a100_sxm4_mig7.txt"))
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
    gpus = parse_smi_list(body(SMI_LIST + "telegraf_4x_a100_one_mig.txt"))
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
    gpus = parse_smi_list(body(SMI_LIST + "nvct1227_2x_a10_2x_t4.txt"))
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
        (SMI_LIST + "go_dcgm_a100_pcie_mig1.txt", "2g.20gb", 1),
        (SMI_LIST + "nvct203_a100_pcie_mig2.txt", "3g.40gb", 2),
    ],
    ids=str,
)
def test_single_gpu_mig_records(path: str, profile: str, count: int) -> None:
    (gpu,) = parse_smi_list(body(path))
    assert gpu["name"] == "NVIDIA A100 80GB PCIe"
    assert [(m["profile"], m["name"]) for m in gpu["mig"]] == [(profile, f"MIG {profile}")] * count


def test_jetson_orin_record_keeps_the_bracketed_name() -> None:
    # The published output had its UUID redacted to "[removed]"; it is still the UUID field.
    (gpu,) = parse_smi_list(body(SMI_LIST + "jetson_orin_nvgpu.txt"))
    assert gpu == {"index": 0, "name": "Orin (nvgpu)", "uuid": "[removed]", "mig": []}


def test_gpu_line_without_uuid_gives_uuid_none() -> None:
    # JetPack 6's limited nvidia-smi may print no UUID (platform-facts.md); built from the
    # Orin record above with its UUID part removed.
    line = body(SMI_LIST + "jetson_orin_nvgpu.txt").replace(" (UUID: [removed])", "")
    assert line.strip() == "GPU 0: Orin (nvgpu)"
    assert parse_smi_list(line) == [{"index": 0, "name": "Orin (nvgpu)", "uuid": None, "mig": []}]


def test_mig_line_before_any_gpu_is_ignored() -> None:
    text = body(SMI_LIST + "go_dcgm_a100_pcie_mig1.txt")
    gpu_line, mig_line = text.splitlines()[:2]
    gpus = parse_smi_list(f"{mig_line}\n{gpu_line}\n")
    assert [len(g["mig"]) for g in gpus] == [0]


@pytest.mark.parametrize("path", fixture_files(SMI_ERRORS), ids=str)
def test_failure_texts_list_no_gpu(path: str) -> None:
    assert parse_smi_list(body(path)) == []


@pytest.mark.parametrize("path", fixture_files(SMI_ERRORS), ids=str)
def test_failure_text_means_what_its_folder_says_for_both_modules(path: str) -> None:
    """One table: provision_host's smi.error and gpu_verify's diagnosis key are the same."""
    code = path.split("/")[2]
    assert classify_nvidia_smi_error(body(path))["error"] == code
    diag = load_module("gpu_verify").diagnose(body(path))
    assert diag is not None and diag["key"] == code


def test_every_error_code_has_a_recorded_text_or_is_named_here() -> None:
    recorded = {path.split("/")[2] for path in fixture_files(SMI_ERRORS)}
    # No public record found yet for these; their patterns are tested below on their own.
    unrecorded = {"no_devices", "nvml_missing", "permissions"}
    assert {entry.key for entry in gpuhost_nvidia.NVIDIA_ERRORS} == recorded | unrecorded


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("No devices were found\n", "no_devices"),
        ("NVIDIA-SMI couldn't find libnvidia-ml.so library in your system.", "nvml_missing"),
        ("Failed to initialize NVML: Insufficient Permissions", "permissions"),
        (
            "NVIDIA-SMI has failed because it couldn\u2019t communicate with the NVIDIA\n driver.",
            "no_driver",
        ),
        ("Failed to initialize NVML: Driver/library\nversion mismatch", "version_mismatch"),
    ],
)
def test_classification_of_short_texts(text: str, code: str) -> None:
    """Written here (not recorded): wordings without a public record, a right single quote,
    and a wrap inside the message."""
    assert classify_nvidia_smi_error(text)["error"] == code


def test_nvml_library_version_is_kept_in_the_reason() -> None:
    result = classify_nvidia_smi_error(body(SMI_ERRORS + "version_mismatch/nvml_570_tinygrad.txt"))
    assert result["reason"].endswith("(NVML library version 570.124)")


def test_normalise_message_straightens_quotes_and_joins_lines() -> None:
    text = "could not select device driver \u201cnvidia\u201d with\n   capabilities: [[gpu]]"
    assert (
        normalise_message(text)
        == 'could not select device driver "nvidia" with capabilities: [[gpu]]'
    )


# ------------------------------------------------------------------------------- PCI and kind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0x10de", "10de"),
        ("10DE", "10de"),
        ("10de\n", "10de"),
        (" 0x10DE \n", "10de"),
        ("0x8086", "8086"),
        ("de", "00de"),
    ],
)
def test_pci_id_normalisation(raw: str, expected: str) -> None:
    assert pci_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0x030000", "0300"),
        ("0x030200\n", "0302"),
        ("0300", "0300"),
        ("0302", "0302"),
        ("0x0302", "0302"),
        ("0x040300", "0403"),
        ("0x068000", "0680"),
        ("30200", "0302"),
    ],
)
def test_pci_class_normalisation(raw: str, expected: str) -> None:
    """sysfs prints class+subclass+prog-if ("0x030200"), lspci only class+subclass ([0302])."""
    assert pci_class(raw) == expected


@pytest.mark.parametrize(
    ("vendor", "klass", "gpu"),
    [
        ("0x10de", "0x030000", True),
        ("10DE", "0302", True),
        ("0x10de", "0x040300", False),
        ("0x10de", "0x068000", False),
        ("0x10de", "0x060400", False),
        ("0x8086", "0x030000", False),
    ],
)
def test_gpu_filter(vendor: str, klass: str, gpu: bool) -> None:
    """VGA and 3D only: NVIDIA audio, NVSwitch and PCIe bridges (Jetson root ports) are not."""
    assert is_nvidia_gpu(pci_record("0000:01:00.0", vendor, "0x2204", klass)) is gpu


@pytest.mark.parametrize(
    ("gpus", "jetson", "force", "kind"),
    [
        ([{"pci_address": "0005:01:00.0"}], True, "", "dgpu"),  # IGX Orin / devkit + PCIe card
        ([], True, "", "jetson"),  # a Jetson: its GPU is not on PCI
        ([{"pci_address": "0000:01:00.0"}], False, "", "dgpu"),
        ([], False, "", "cpu"),
        ([{"pci_address": "0005:01:00.0"}], True, "jetson", "jetson"),
        ([{"pci_address": "0000:01:00.0"}], False, "cpu", "cpu"),
    ],
)
def test_kind_derivation(gpus: list, jetson: bool, force: str, kind: str) -> None:
    assert derive_kind(gpus, jetson, force) == kind


# ------------------------------------------------------------------------------- one copy


def test_both_modules_use_the_shared_code() -> None:
    gpu_verify = load_module("gpu_verify")
    host_facts = load_module("provision_host_facts")
    for name in (
        "parse_smi_list",
        "parse_tegra_release",
        "jetpack_for_l4t",
        "derive_kind",
        "pci_record",
        "is_nvidia_gpu",
        "NO_GPU_TEXT",
    ):
        shared = getattr(gpuhost_nvidia, name)
        for module in (gpu_verify, host_facts):
            assert getattr(module, name, shared) is shared, (module.__name__, name)
    assert host_facts.derive_kind is gpu_verify.derive_kind
    assert host_facts.classify_nvidia_smi_error is gpuhost_nvidia.classify_nvidia_smi_error
    assert gpu_verify.DIAGNOSES[: len(gpuhost_nvidia.NVIDIA_ERRORS)] == gpuhost_nvidia.NVIDIA_ERRORS
    assert gpu_verify.Cmd is gpuhost_host.Cmd
    assert host_facts.CommandRunner is gpuhost_host.CommandRunner
    assert gpu_verify.module_runner is gpuhost_host.module_runner
    assert gpu_verify.CHECKS is gpuhost_checks.CHECKS
    for module in (gpu_verify, host_facts):
        for copy in ("NVIDIA_VENDOR", "GPU_CLASSES", "SMI_ERRORS", "DETECT_SCRIPT"):
            assert copy not in vars(module) or vars(module)[copy] is vars(gpuhost_nvidia).get(copy)


def test_host_facts_keeps_its_documented_mig_shape() -> None:
    """provision_host.nvidia_driver.smi.gpus[].mig[] stays {index, name, uuid}."""
    host_facts = load_module("provision_host_facts")
    text = body(SMI_LIST + "nvct203_a100_pcie_mig2.txt")
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
        (TEGRA + "r35_4_1_agx_orin.txt", ("35", "4.1", "t186ref", "5.1.2", "20.04")),
        (TEGRA + "r32_5_1_tx2.txt", ("32", "5.1", "t186ref", "4.5.1", "18.04")),
        # Before JetPack 4: the family, not nothing.
        (TEGRA + "r28_2_1_tx2_jetson_stats.txt", ("28", "2.1", "t186ref", "3.x", "16.04")),
    ],
    ids=str,
)
def test_tegra_release_records(path: str, expected: tuple) -> None:
    tegra = parse_tegra_release(body(path))
    mapped = jetpack_for_l4t(tegra["l4t_release"], tegra["l4t_revision"])
    got = (tegra["l4t_release"], tegra["l4t_revision"], tegra["board"], *mapped.values())
    assert got == expected


@pytest.mark.parametrize("text", [None, "", "not a tegra release"])
def test_tegra_release_absent(text: str | None) -> None:
    assert parse_tegra_release(text) == {"l4t_release": None, "l4t_revision": None, "board": None}


# ------------------------------------------------------------------------------- one runner


def test_runner_wraps_every_command_in_the_timeout_rule() -> None:
    seen: list[list[str]] = []

    def execute(argv: list[str]) -> tuple[int, str, str]:
        seen.append(argv)
        return 0, "ok\n", ""

    run = gpuhost_host.CommandRunner(execute, 15, "/usr/bin/timeout")
    cmd = run(["nvidia-smi", "-L"])
    assert seen == [["/usr/bin/timeout", "-k", "5", "15", "nvidia-smi", "-L"]]
    # The result names the command that was asked for, not the wrapper.
    assert (cmd.argv, cmd.ok, cmd.timed_out, cmd.command) == (
        ("nvidia-smi", "-L"),
        True,
        False,
        "nvidia-smi -L",
    )


@pytest.mark.parametrize("rc", [124, 137])
def test_runner_reports_a_command_that_ran_out_of_time(rc: int) -> None:
    run = gpuhost_host.CommandRunner(lambda argv: (rc, "", ""), 3, "/usr/bin/timeout")
    cmd = run(["docker", "info"])
    assert cmd.timed_out and not cmd.ok
    assert cmd.stderr == "timed out after 3 s"


def test_runner_without_timeout_binary_runs_unwrapped_and_124_is_just_an_exit_code() -> None:
    seen: list[list[str]] = []

    def execute(argv: list[str]) -> tuple[int, str, str]:
        seen.append(argv)
        return 124, "", "own exit code"

    cmd = gpuhost_host.CommandRunner(execute, 3, None)(["tool"])
    assert seen == [["tool"]]
    assert not cmd.timed_out and cmd.stderr == "own exit code"


def test_start_with_a_spawner_starts_at_once_and_waits_once() -> None:
    spawned: list[list[str]] = []
    waits: list[int] = []

    def spawn(argv: list[str]) -> Callable[[], tuple[int, str, str]]:
        spawned.append(argv)
        return lambda: (waits.append(1), (124, "", ""))[1]

    run = gpuhost_host.CommandRunner(lambda argv: (0, "", ""), 3, "/usr/bin/timeout", spawn)
    wait = run.start(["docker", "run"])
    assert spawned == [["/usr/bin/timeout", "-k", "5", "3", "docker", "run"]] and not waits
    cmd = wait()
    assert wait() is cmd and waits == [1]
    # The same timeout rule as a command run at once.
    assert cmd.argv == ("docker", "run") and cmd.timed_out and cmd.stderr == "timed out after 3 s"


def test_start_without_a_spawner_runs_the_command_when_asked() -> None:
    seen: list[list[str]] = []

    def execute(argv: list[str]) -> tuple[int, str, str]:
        seen.append(argv)
        return 0, "ok\n", ""

    wait = gpuhost_host.CommandRunner(execute, 3, None).start(["docker", "run"])
    assert not seen
    assert wait().stdout == "ok\n" and wait().ok and seen == [["docker", "run"]]


def test_process_spawner_runs_a_real_child_with_the_rule_environment() -> None:
    wait = gpuhost_host.process_spawner(["sh", "-c", "echo $LC_ALL; pwd; echo err >&2; exit 3"])
    assert wait() == (3, "C\n/\n", "err\n")


def test_runner_turns_a_command_that_cannot_start_into_exit_127() -> None:
    def execute(argv: list[str]) -> tuple[int, str, str]:
        raise PermissionError(13, "Permission denied", argv[0])

    cmd = gpuhost_host.CommandRunner(execute, 3, None)(["/opt/broken"])
    assert cmd.rc == 127 and "Permission denied" in cmd.stderr


@pytest.mark.parametrize(
    ("text", "soc"),
    [
        ("nvidia,p3737-0000+p3701-0005 nvidia,p3701-0005 nvidia,tegra234", "t234"),
        ("nvidia,p2972-0000 nvidia,tegra194", "t194"),
        ("nvidia,p3449-0000-b00+p3448-0002-b00 nvidia,jetson-nano nvidia,tegra210", "t210"),
        ("raspberrypi,4-model-b brcm,bcm2711", None),
        ("nvidia,tegra2340", None),
        (None, None),
    ],
)
def test_soc_from_compatible(text: str | None, soc: str | None) -> None:
    assert gpuhost_nvidia.soc_from_compatible(text) == soc
