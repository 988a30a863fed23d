"""gpu_verify: parsers and diagnoses against recorded real outputs, and the decide_* logic.

Recorded outputs come from tests/fixtures/nvidia/ (nvidia-smi, shared with provision_host_facts)
and tests/fixtures/gpu_verify/diagnoses/<key>/ (docker and container-runtime failures), each
naming its public source; tests/fixture_loader.py reads them. GPU, Jetson and enroot outputs
cannot be produced here (no NVIDIA hardware), so the decisions are fed those recorded outputs
through a stand-in runner that answers commands from a table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ansible.module_utils.gpuhost_nvidia import NO_GPU_TEXT
from fixture_loader import fixture, fixture_files
from module_loader import load_module

gv = load_module("gpu_verify")
Cmd = gv.Cmd

SMI_MULTI = "nvidia/nvidia_smi_list/nvct1227_2x_a10_2x_t4.txt"
SMI_MIG_MIXED = "nvidia/nvidia_smi_list/telegraf_4x_a100_one_mig.txt"
SMI_MIG_SINGLE = "nvidia/nvidia_smi_list/nvct203_a100_pcie_mig2.txt"
SMI_ORIN = "nvidia/nvidia_smi_list/jetson_orin_nvgpu.txt"
SMI_NO_DRIVER = "nvidia/nvidia_smi_error/no_driver/shine_cluster.txt"
SMI_MISMATCH = "nvidia/nvidia_smi_error/version_mismatch/nvml_570_tinygrad.txt"
NVML_UNKNOWN = "nvidia/nvidia_smi_error/nvml_unknown/in_container_nvct1227.txt"
TEGRA_R35 = "nvidia/tegra_release/r35_4_1_agx_orin.txt"
DIAGNOSES = "gpu_verify/diagnoses/"
NO_DEVICE_DRIVER = DIAGNOSES + "no_gpu_driver_in_docker/empty_driver_llamafactory5268.txt"
UNKNOWN_RUNTIME = DIAGNOSES + "no_nvidia_runtime/invalid_runtime_name_nvidia_docker1795.txt"
SOCKET_DENIED = DIAGNOSES + "docker_socket_denied/docker_xampp63.txt"
NOT_RUNNING = DIAGNOSES + "docker_not_running/docker_for_win4049.txt"


def ok(argv: list[str] | str, stdout: str = "") -> Any:
    argv = argv.split() if isinstance(argv, str) else argv
    return Cmd(tuple(argv), 0, stdout, "")


def bad(argv: list[str] | str, stderr: str, rc: int = 1, stdout: str = "") -> Any:
    argv = argv.split() if isinstance(argv, str) else argv
    return Cmd(tuple(argv), rc, stdout, stderr)


MULTI_UUIDS = [
    "GPU-f15ae561-21b1-6003-c768-861fc285203b",
    "GPU-466be1f8-6148-1a27-a450-592604f3df54",
    "GPU-bf507abe-ec25-2053-5435-1c82511a3ae8",
    "GPU-a1329f2e-1e73-88f2-4d4b-1ce18debbc6d",
]


# ------------------------------------------------------------------------------- parsers


def test_parse_smi_list_multi_gpu() -> None:
    gpus = gv.parse_smi_list(fixture(SMI_MULTI))
    assert [g["index"] for g in gpus] == [0, 1, 2, 3]
    assert [g["uuid"] for g in gpus] == MULTI_UUIDS
    assert [g["name"] for g in gpus] == ["NVIDIA A10", "NVIDIA A10", "Tesla T4", "Tesla T4"]
    assert all(g["mig"] == [] for g in gpus)


def test_parse_smi_list_mig_devices_belong_to_their_gpu() -> None:
    gpus = gv.parse_smi_list(fixture(SMI_MIG_MIXED))
    assert len(gpus) == 4
    assert [m["index"] for m in gpus[0]["mig"]] == [0, 1, 2, 3]
    assert {m["profile"] for m in gpus[0]["mig"]} == {"1g.20gb"}
    assert gpus[0]["mig"][3]["uuid"] == "MIG-930574a9-d43a-5d2b-95da-3e68384c8d6b"
    assert [len(g["mig"]) for g in gpus[1:]] == [0, 0, 0]


def test_parse_smi_list_single_mig_gpu() -> None:
    (gpu,) = gv.parse_smi_list(fixture(SMI_MIG_SINGLE))
    assert gpu["name"] == "NVIDIA A100 80GB PCIe"
    assert gpu["uuid"] == "GPU-932bfb2c-849a-2a22-1e84-9eff6bc02b39"
    assert [m["profile"] for m in gpu["mig"]] == ["3g.40gb", "3g.40gb"]


def test_parse_smi_list_jetson_orin() -> None:
    (gpu,) = gv.parse_smi_list(fixture(SMI_ORIN))
    assert gpu["name"] == "Orin (nvgpu)"
    assert gpu["index"] == 0


def test_parse_smi_list_without_uuid_keeps_full_name() -> None:
    # JetPack 6's limited nvidia-smi may print no UUID at all (platform-facts.md).
    (gpu,) = gv.parse_smi_list("GPU 0: Orin (nvgpu)\n")
    assert gpu == {"index": 0, "name": "Orin (nvgpu)", "uuid": None, "mig": []}


@pytest.mark.parametrize("name", [SMI_MISMATCH, NVML_UNKNOWN, SMI_NO_DRIVER])
def test_parse_smi_list_errors_list_no_gpu(name: str) -> None:
    assert gv.parse_smi_list(fixture(name)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cgroup=2\ncpu=50000 100000\nmemory=67108864\n", (2, 50000, 100000, 67108864)),
        ("cgroup=1\ncpu=50000 100000\nmemory=67108864\n", (1, 50000, 100000, 67108864)),
        ("cgroup=2\ncpu=max 100000\nmemory=max\n", (2, None, 100000, None)),
        ("cgroup=1\ncpu=-1 100000\nmemory=9223372036854771712\n", (1, None, 100000, None)),
    ],
    ids=["v2", "v1", "v2-unlimited", "v1-unlimited"],
)
def test_parse_cgroup_limits(text: str, expected: tuple) -> None:
    got = gv.parse_cgroup_limits(text)
    assert (got["cgroup"], got["cpu_quota"], got["cpu_period"], got["memory"]) == expected


@pytest.mark.parametrize(
    ("value", "size"), [("64m", 64 * 1024**2), ("1g", 1024**3), ("512k", 524288), ("100", 100)]
)
def test_parse_size(value: str, size: int) -> None:
    assert gv.parse_size(value) == size


def test_parse_size_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        gv.parse_size("lots")


def test_parse_detect_keeps_only_nvidia_display_and_3d_functions() -> None:
    """Detection without a fact uses the fact's PCI normalisation and filter."""
    text = "\n".join(
        [
            "pci=0000:00:02.0 0x8086 0x3e92 0x030000",  # Intel VGA
            "pci=0000:07:00.0 0x10de 0x20b0 0x030200",  # A100 (3D)
            "pci=0000:07:00.1 0x10de 0x10f0 0x040300",  # NVIDIA audio
            "pci=0000:08:00.0 0x10de 0x1af1 0x068000",  # NVSwitch bridge
            "pci=0000:01:00.0 0x10de 0x2684 0x030000",  # RTX 4090 (VGA)
            "driver=loaded",
            "docker=/usr/bin/docker",
            "cdi=/var/run/cdi/nvidia.yaml",
        ]
    )
    got = gv.parse_detect(text)
    assert [g["pci_address"] for g in got["gpus"]] == ["0000:07:00.0", "0000:01:00.0"]
    assert [g["class_id"] for g in got["gpus"]] == ["0302", "0300"]
    assert [(g["vendor_id"], g["device_id"]) for g in got["gpus"]] == [
        ("10de", "20b0"),
        ("10de", "2684"),
    ]
    assert got["driver_loaded"] is True
    assert got["docker"] == "/usr/bin/docker"
    assert got["enroot"] is None
    assert got["cdi_specs"] == ["/var/run/cdi/nvidia.yaml"]


def test_parse_tegra_release_and_jetpack_major() -> None:
    line = fixture(TEGRA_R35).strip()
    tegra = gv.parse_tegra_release(line)
    assert tegra == {"l4t_release": "35", "l4t_revision": "4.1", "board": "t186ref"}
    assert gv.jetpack_major(tegra) == 5
    assert gv.jetpack_major({"jetpack": "6.1", "l4t_release": "36"}) == 6
    assert gv.jetpack_major({"jetpack": "6.x"}) == 6
    assert gv.jetpack_major({"l4t_release": "32"}) == 4
    assert gv.jetpack_major({}) is None


def test_parse_socket_stat_and_passwd() -> None:
    assert gv.parse_socket_stat("docker 660\n") == ("docker", 0o660)
    assert gv.parse_socket_stat("stat: cannot statx") is None
    assert gv.parse_passwd_home("alice:x:1000:1000::/home/alice:/bin/sh\n") == "/home/alice"


def test_trim_keeps_head_and_tail() -> None:
    text = "HEAD" + "x" * 9000 + "TAIL"
    out = gv.trim(text)
    assert len(out) < 4100
    assert out.startswith("HEAD") and out.endswith("TAIL")
    assert "trimmed" in out
    assert gv.trim("short") == "short"


def test_the_reason_keeps_dockerds_long_line_whole() -> None:
    """dockerd's refusal of a config is one long line whose end says why (once cut at 300)."""
    line = ("failed to start daemon: unable to configure the Docker daemon with file "
            "/etc/docker/daemon.json: the following directives are specified both as a flag "
            "and in the configuration file: " + ", ".join(f"opt{n}: (from flag: a, from file: b)"
                                                          for n in range(12)))
    assert 300 < len(line) < 4000
    assert gv.first_line("Starting dockerd\n" + line + "\nmore") == line
    long = "error: " + "y" * 9000 + " WHY"
    assert gv.first_line(long).endswith(" WHY") and len(gv.first_line(long)) < 4100


# ------------------------------------------------------------------------------- diagnoses


RECORDED_FAILURES = fixture_files(DIAGNOSES) + fixture_files("nvidia/nvidia_smi_error/")


@pytest.mark.parametrize("path", RECORDED_FAILURES, ids=str)
def test_recorded_failure_gets_the_diagnosis_its_folder_names(path: str) -> None:
    diag = gv.diagnose(fixture(path))
    assert diag is not None, path
    assert diag["key"] == path.split("/")[-2]
    assert diag["diagnosis"] and diag["fix"]


def test_recorded_folders_name_real_diagnoses() -> None:
    recorded = {path.split("/")[-2] for path in fixture_files(DIAGNOSES)}
    # Tested on written texts below; no public record kept for them yet.
    unrecorded = {"no_smi_in_container", "image_unavailable"}
    assert {entry.key for entry in gv.DIAGNOSES} >= recorded
    assert {entry.key for entry in gv.DOCKER_ERRORS} <= recorded | unrecorded


@pytest.mark.parametrize(
    ("key", "fix_word"),
    [
        ("no_gpu_driver_in_docker", "./provision.sh apply"),
        ("no_nvidia_runtime", "./provision.sh apply"),
        ("no_smi_in_container", "./provision.sh apply"),
        ("version_mismatch", "Reboot"),
        ("nvml_unknown", "daemon-reload"),
        ("jetson_gpus_flag", "--runtime nvidia"),
        ("no_driver", "Install the NVIDIA driver"),
        ("docker_socket_denied", "log in again"),
        ("docker_not_running", "systemctl enable --now docker"),
    ],
)
def test_fix_says_what_to_do(key: str, fix_word: str) -> None:
    (entry,) = [entry for entry in gv.DIAGNOSES if entry.key == key]
    assert fix_word in entry.fix


def test_no_fix_sends_people_to_another_daemon_json_writer() -> None:
    """This toolkit is the only writer of daemon.json: no fix may say `nvidia-ctk runtime`."""
    for entry in gv.DIAGNOSES:
        assert "nvidia-ctk runtime" not in entry.fix, entry.key
        assert "nvidia-ctk runtime" not in entry.diagnosis, entry.key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # Curly quotes as a word processor or chat client pastes them, and a wrapped line.
        (
            "docker: Error response from daemon: could not select device driver \u201cnvidia\u201d "
            "with capabilities:\n [[gpu]].",
            "no_gpu_driver_in_docker",
        ),
        (
            "Error response from daemon: could not select device driver \u201c\u201d with "
            "capabilities: [[gpu]]",
            "no_gpu_driver_in_docker",
        ),
        (
            "docker: Error response from daemon: unknown or invalid runtime\nname: nvidia.",
            "no_nvidia_runtime",
        ),
        (
            "docker: Error response from daemon: failed to create task for container: OCI runtime "
            'create failed: exec: "nvidia-smi": executable file not found in $PATH: unknown.',
            "no_smi_in_container",
        ),
        (
            "Unable to find image 'mirror.invalid/ubuntu:latest' locally\ndocker: Error response "
            'from daemon: Get "https://mirror.invalid/v2/": dial tcp: lookup mirror.invalid: no '
            "such host.",
            "image_unavailable",
        ),
    ],
)
def test_written_variants_are_diagnosed(text: str, key: str) -> None:
    """Written here, not recorded: variants the recorded set does not show."""
    diag = gv.diagnose(text)
    assert diag is not None and diag["key"] == key


def test_diagnose_unknown_text_is_none() -> None:
    assert gv.diagnose(fixture(SMI_MULTI)) is None
    assert gv.diagnose("") is None
    # A driver name alone, or a runtime other than nvidia, is not the diagnosis.
    assert gv.diagnose('could not select device driver "nvidia"') is None
    assert gv.diagnose("unknown or invalid runtime name: kata") is None


def test_diagnosis_of_missing_driver_says_toolkit_or_restart() -> None:
    diag = gv.diagnose(fixture(NO_DEVICE_DRIVER))
    assert "Container Toolkit is missing" in diag["diagnosis"]
    assert "not restarted" in diag["diagnosis"]


# ------------------------------------------------------------------------------- decide_gpu

DGPU_HOST = {
    "kind": "dgpu",
    "gpus": [{"pci_address": f"0000:0{i}:00.0"} for i in range(4)],
    "driver_loaded": True,
    "jetson": {},
    "cdi_specs": [],
}
HOST_SMI = ["nvidia-smi", "-L"]


def test_gpu_skips_on_cpu_host_with_exact_reason() -> None:
    host = {"kind": "cpu", "gpus": [], "driver_loaded": False, "jetson": {}}
    res = gv.decide_gpu(host, None, None)
    assert res["status"] == "skip"
    assert res["reason"] == NO_GPU_TEXT == "no NVIDIA GPU (PCI 10de, class 0300/0302)"


def test_gpu_fails_when_gpu_has_no_driver() -> None:
    host = {**DGPU_HOST, "driver_loaded": False}
    res = gv.decide_gpu(host, None, None)
    assert res["status"] == "fail"
    assert "driver is not loaded" in res["reason"]
    assert "0000:00:00.0" in res["reason"]
    assert "fix" in res and "diagnosis" in res


def test_gpu_passes_when_container_sees_same_uuids() -> None:
    smi = fixture(SMI_MULTI)
    res = gv.decide_gpu(DGPU_HOST, ok(HOST_SMI, smi), ok(gv.gpu_command("ubuntu"), smi))
    assert res["status"] == "pass", res
    assert all(uuid in res["reason"] for uuid in MULTI_UUIDS)
    assert "docker run --rm --gpus all ubuntu nvidia-smi -L" in res["evidence"]["command"]


def test_gpu_fails_when_counts_differ() -> None:
    host_out = fixture(SMI_MULTI)
    one = host_out.splitlines()[0] + "\n"
    res = gv.decide_gpu(DGPU_HOST, ok(HOST_SMI, host_out), ok(gv.gpu_command("ubuntu"), one))
    assert res["status"] == "fail"
    assert res["reason"] == "the container sees 1 GPU(s), the host has 4"


def test_gpu_fails_when_uuids_differ() -> None:
    host_out = fixture(SMI_MULTI)
    other = host_out.replace("GPU-a1329f2e", "GPU-00000000")
    res = gv.decide_gpu(DGPU_HOST, ok(HOST_SMI, host_out), ok(gv.gpu_command("u"), other))
    assert res["status"] == "fail"
    assert "GPU-a1329f2e-1e73-88f2-4d4b-1ce18debbc6d" in res["reason"]


def test_gpu_pass_counts_mig_devices() -> None:
    smi = fixture(SMI_MIG_MIXED)
    res = gv.decide_gpu(DGPU_HOST, ok(HOST_SMI, smi), ok(gv.gpu_command("u"), smi))
    assert res["status"] == "pass"
    assert "4 GPU(s) and 4 MIG device(s)" in res["reason"]


@pytest.mark.parametrize(
    ("name", "key_phrase"),
    [
        (NO_DEVICE_DRIVER, "Container Toolkit"),
        (NVML_UNKNOWN, "daemon-reload"),
        (UNKNOWN_RUNTIME, "daemon.json"),
    ],
)
def test_gpu_container_failure_is_diagnosed(name: str, key_phrase: str) -> None:
    host_out = fixture(SMI_MULTI)
    res = gv.decide_gpu(
        DGPU_HOST, ok(HOST_SMI, host_out), bad(gv.gpu_command("u"), fixture(name), rc=125)
    )
    assert res["status"] == "fail"
    assert key_phrase in res["diagnosis"]
    assert res["fix"]


def test_gpu_host_smi_mismatch_fails_before_container() -> None:
    res = gv.decide_gpu(DGPU_HOST, bad(HOST_SMI, fixture(SMI_MISMATCH), rc=18), None)
    assert res["status"] == "fail"
    assert "Driver/library version mismatch" in res["reason"]
    assert "Reboot" in res["fix"]


def test_gpu_cdi_skips_without_spec_and_runs_with_one() -> None:
    res = gv.decide_gpu_cdi(DGPU_HOST, None, None, None)
    assert res["status"] == "skip" and "no CDI spec" in res["reason"]
    smi = fixture(SMI_MULTI)
    res = gv.decide_gpu_cdi(
        DGPU_HOST,
        "/etc/cdi/nvidia.yaml",
        ok(HOST_SMI, smi),
        ok(gv.gpu_command("u", cdi=True), smi),
    )
    assert res["status"] == "pass"
    assert "--device nvidia.com/gpu=all" in res["evidence"]["command"]


# ------------------------------------------------------------------------------- jetson


def jetson_host(jetpack: str | None, l4t: str) -> dict[str, Any]:
    return {"kind": "jetson", "gpus": [], "jetson": {"jetpack": jetpack, "l4t_release": l4t}}


def test_jetson_command_by_jetpack() -> None:
    assert gv.jetson_command("img", 6)[-2:] == ["nvidia-smi", "-L"]
    assert "--runtime" in gv.jetson_command("img", 6)
    assert "--gpus" not in gv.jetson_command("img", 6)
    # CSV mode injects nothing into a container that requests no devices (plain ubuntu).
    for major in (5, 6):
        assert "NVIDIA_VISIBLE_DEVICES=all" in gv.jetson_command("img", major)
    assert gv.jetson_command("img", 5)[-1] == "ls -1 /dev/nvmap /dev/nvhost-*"
    assert gv.jetson_command("img", None)[-1] == "ls -1 /dev/nvmap /dev/nvhost-*"


def test_jetson_jetpack6_passes_on_nvidia_smi() -> None:
    host = jetson_host("6.1", "36")
    run = ok(gv.jetson_command("u", 6), fixture(SMI_ORIN))
    res = gv.decide_jetson(host, run)
    assert res["status"] == "pass"
    assert "JetPack 6" in res["reason"] and "Orin (nvgpu)" in res["reason"]


def test_jetson_jetpack5_passes_on_device_nodes() -> None:
    host = jetson_host(None, "35")
    out = "/dev/nvhost-ctrl\n/dev/nvhost-ctrl-gpu\n/dev/nvhost-gpu\n/dev/nvmap\n"
    res = gv.decide_jetson(host, ok(gv.jetson_command("u", 5), out))
    assert res["status"] == "pass"
    assert "JetPack 5" in res["reason"] and "3 /dev/nvhost-*" in res["reason"]


def test_jetson_jetpack5_fails_without_nvmap() -> None:
    # Without the NVIDIA runtime the container gets no GPU nodes; ls then exits 2.
    out = "ls: /dev/nvmap: No such file or directory\nls: /dev/nvhost-*: No such file or directory"
    res = gv.decide_jetson(jetson_host("5.1.2", "35"), bad(gv.jetson_command("u", 5), out, rc=2))
    assert res["status"] == "fail"


def test_jetson_jetpack6_smi_in_container_without_gpu_fails() -> None:
    res = gv.decide_jetson(jetson_host("6.0", "36"), ok(gv.jetson_command("u", 6), ""))
    assert res["status"] == "fail"


def test_jetson_unknown_runtime_is_diagnosed() -> None:
    run = bad(gv.jetson_command("u", 6), fixture(UNKNOWN_RUNTIME), rc=125)
    res = gv.decide_jetson(jetson_host("6.1", "36"), run)
    assert res["status"] == "fail"
    assert "daemon.json" in res["diagnosis"]


def test_jetson_skips_elsewhere_and_gpu_skips_on_jetson() -> None:
    cpu = {"kind": "cpu", "gpus": [], "jetson": {}}
    assert gv.decide_jetson(cpu, None)["status"] == "skip"
    res = gv.decide_gpu(jetson_host("6.1", "36"), None, None)
    assert res["status"] == "skip" and "jetson check" in res["reason"]


# ------------------------------------------------------------------------------- engine etc.


def test_engine_pass_and_failures() -> None:
    cmds = gv.engine_commands("img")
    res = gv.decide_engine(
        True,
        ok(cmds["active"], "active\n"),
        ok(cmds["version"], "20.10.24\n"),
        ok(cmds["info"], "20.10.24 overlay2 cgroup-driver=cgroupfs\n"),
        ok(cmds["run"], "gpu-verify-ok\n"),
        "img",
    )
    assert res["status"] == "pass" and "Docker 20.10.24" in res["reason"]
    assert "--rm" in cmds["run"]

    res = gv.decide_engine(
        True, bad(cmds["active"], "", rc=3, stdout="inactive\n"), None, None, None, "img"
    )
    assert res["status"] == "fail"  # nothing ran: the engine is not installed/answering
    res = gv.decide_engine(
        True,
        bad(cmds["active"], "", rc=3, stdout="inactive\n"),
        bad(cmds["version"], fixture(NOT_RUNNING)),
        bad(cmds["info"], fixture(NOT_RUNNING)),
        bad(cmds["run"], fixture(NOT_RUNNING)),
        "img",
    )
    assert res["status"] == "fail" and "inactive" in res["reason"]
    assert "not running" in res["diagnosis"]
    assert gv.decide_engine(False, None, None, None, None, "img")["reason"] == (
        "the docker command is not installed"
    )


def access(sock: Any, users: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    """The access decision for the default socket, group docker, mode 0660."""
    return gv.decide_access("/var/run/docker.sock", sock, "docker", "0660", users)


def test_access_fails_for_user_outside_group_with_diagnosis() -> None:
    sock = ok(gv.socket_command("/var/run/docker.sock"), "docker 660\n")
    denied = bad(gv.user_command("mallory", "/home/mallory"), fixture(SOCKET_DENIED))
    res = access(sock, [("mallory", ok("getent passwd mallory"), denied)])
    assert res["status"] == "fail"
    assert res["reason"].startswith("mallory cannot reach the Docker daemon without sudo")
    assert "docker group" in res["fix"]


def test_access_checks_socket_mode_and_group() -> None:
    sock = ok(gv.socket_command("/var/run/docker.sock"), "root 666\n")
    res = gv.decide_access("/var/run/docker.sock", sock, "docker", "0660", [])
    assert res["status"] == "fail"
    assert res["reason"] == (
        "/var/run/docker.sock is group root mode 0666, expected group docker mode 0660"
    )
    sock = ok(gv.socket_command("/var/run/docker.sock"), "docker 660\n")
    alice = ok(gv.user_command("alice", "/home/alice"), "20.10.24\n")
    res = access(sock, [("alice", ok("getent passwd alice"), alice)])
    assert res["status"] == "pass" and "reachable without sudo by alice" in res["reason"]


def test_access_missing_user_fails() -> None:
    sock = ok(gv.socket_command("/s"), "docker 660\n")
    res = gv.decide_access(
        "/s", sock, "docker", "0660", [("ghost", bad("getent passwd ghost", "", rc=2), None)]
    )
    assert res["status"] == "fail" and res["reason"] == "user ghost does not exist"


@pytest.mark.parametrize(
    ("out", "status"),
    [
        ("cgroup=2\ncpu=50000 100000\nmemory=67108864\n", "pass"),
        ("cgroup=1\ncpu=50000 100000\nmemory=67108864\n", "pass"),
        ("cgroup=2\ncpu=max 100000\nmemory=67108864\n", "fail"),
        ("cgroup=1\ncpu=50000 100000\nmemory=9223372036854771712\n", "fail"),
    ],
    ids=["v2", "v1", "no-cpu-limit", "no-memory-limit"],
)
def test_limits(out: str, status: str) -> None:
    run = ok(gv.limits_command("img", "0.5", "64m"), out)
    assert gv.decide_limits(run, "0.5", "64m")["status"] == status


def test_enroot_logic() -> None:
    assert gv.decide_enroot(False, [], "img")["reason"] == "enroot is not installed"
    cmds = gv.enroot_commands("img", "/tmp/x")
    assert cmds[0][-1] == "dockerd://img"
    steps = [ok(cmds[0]), ok(cmds[1]), ok(cmds[2], "gpu-verify-ok\n")]
    assert gv.decide_enroot(True, steps, "img")["status"] == "pass"
    steps = [bad(cmds[0], "[ERROR] No command specified")]
    res = gv.decide_enroot(True, steps, "img")
    assert res["status"] == "fail" and res["reason"].startswith("enroot import failed")


# ------------------------------------------------------------------------------- orchestration


def table_runner(answers: dict[str, Any], calls: list[str]) -> Callable[[list[str]], Any]:
    """Stand-in for the host: answers each command by its first matching prefix."""

    def run(argv: list[str]) -> Any:
        line = " ".join(argv)
        calls.append(line)
        for prefix, (rc, out, err) in answers.items():
            if line.startswith(prefix):
                return Cmd(tuple(argv), rc, out, err)
        return Cmd(tuple(argv), 127, "", f"{argv[0]}: not found")

    return run


def test_run_checks_on_simulated_cpu_host_without_fact() -> None:
    answers = {
        "sh -c": (0, "pci=0000:00:02.0 0x8086 0x3e92 0x030000\ndocker=/usr/bin/docker\n", ""),
        "systemctl is-active docker": (0, "active\n", ""),
        "docker version": (0, "26.1.5\n", ""),
        "docker info": (0, "26.1.5 overlay2 cgroup-driver=systemd\n", ""),
        "docker run --rm img echo": (0, "gpu-verify-ok\n", ""),
        "docker run --rm --cpus": (0, "cgroup=2\ncpu=50000 100000\nmemory=67108864\n", ""),
        "stat -L": (0, "docker 660\n", ""),
        "getent passwd alice": (0, "alice:x:1000:1000::/home/alice:/bin/sh\n", ""),
        "runuser -u alice": (0, "26.1.5\n", ""),
    }
    calls: list[str] = []
    opts = gv.Options(image="img", users=("alice",))
    results = gv.run_checks(table_runner(answers, calls), gv.CHECKS, opts)
    status = {r["name"]: r["status"] for r in results}
    assert status == {
        "engine": "pass",
        "access": "pass",
        "limits": "pass",
        "gpu": "skip",
        "gpu_cdi": "skip",
        "jetson": "skip",
        "enroot": "skip",
    }
    assert not any("nvidia-smi" in c for c in calls)
    assert all("--rm" in c for c in calls if c.startswith("docker run"))
    assert "runuser -u alice -- env HOME=/home/alice docker version" in "\n".join(calls)


def test_run_checks_starts_the_limited_container_before_the_other_commands() -> None:
    """With a runner that can start a command (the module's), the one limited container starts
    right after the detection and the engine and access commands run while it does; the
    results are the same as one after the other."""
    answers = {
        "sh -c": (0, "docker=/usr/bin/docker\n", ""),
        "systemctl is-active docker": (0, "active\n", ""),
        "docker version": (0, "26.1.5\n", ""),
        "docker info": (0, "26.1.5 overlay2 cgroup-driver=systemd\n", ""),
        "docker run --rm --cpus": (0, "gpu-verify-ok\ncgroup=2\ncpu=50000 100000\n"
                                      "memory=67108864\n", ""),
        "stat -L": (0, "docker 660\n", ""),
        "getent passwd alice": (0, "alice:x:1000:1000::/home/alice:/bin/sh\n", ""),
        "runuser -u alice": (0, "26.1.5\n", ""),
    }
    calls: list[str] = []
    events: list[str] = []
    table = table_runner(answers, calls)

    class Starting:
        def __call__(self, argv: list[str]) -> Any:
            events.append("ran " + argv[0])
            return table(argv)

        def start(self, argv: list[str]) -> Callable[[], Any]:
            events.append("started " + " ".join(argv[:2]))
            return lambda: (events.append("waited"), table(argv))[1]

    opts = gv.Options(image="img", users=("alice",))
    results = gv.run_checks(Starting(), ["engine", "access", "limits"], opts)
    assert {r["name"]: r["status"] for r in results} == {
        "engine": "pass", "access": "pass", "limits": "pass"}
    assert events[:2] == ["ran sh", "started docker run"]
    # engine's systemctl, docker version and docker info ran before its wait for the container
    assert events[2:6] == ["ran systemctl", "ran docker", "ran docker", "waited"]
    assert events.count("started docker run") == 1 and events.count("waited") == 1
    assert sum(c.startswith("docker run") for c in calls) == 1
    # No Docker on the host: nothing is started early (limits still runs its command then).
    events.clear()
    answers["sh -c"] = (0, "", "")
    gv.run_checks(Starting(), ["engine", "limits"], opts)
    assert "started docker run" not in events


def test_run_checks_uses_the_fact_when_given() -> None:
    fact = {
        "kind": "dgpu",
        "gpus": [{"pci_address": "0000:07:00.0"}],
        "nvidia_driver": {"loaded": False},
        "jetson": {"detected": False},
        "enroot": {"installed": False},
    }
    calls: list[str] = []
    run = table_runner({"sh -c": (0, "docker=/usr/bin/docker\n", "")}, calls)
    (res,) = gv.run_checks(run, ["gpu"], gv.Options(), fact)
    assert res["status"] == "fail" and "driver is not loaded" in res["reason"]
    # The fact gives the hardware: the host is not probed for it a second time.
    (detect,) = calls
    assert detect.startswith("sh -c") and "command -v docker" in detect
    assert "/sys/bus/pci" not in detect and "nv_tegra_release" not in detect


def test_fact_gives_hardware_and_detection_gives_what_the_run_installed() -> None:
    """The fact says no enroot and no Docker (gathered before docker_engine and enroot ran);
    the live look finds both, and the CDI spec the toolkit wrote."""
    fact = {
        "kind": "jetson",
        "gpus": [],
        "nvidia_driver": {"loaded": False},
        "jetson": {"detected": True, "jetpack": "6.2", "l4t_release": "36"},
        "enroot": {"installed": False},
        "docker": {"installed": False},
    }
    detected = gv.parse_detect(
        "docker=/usr/bin/docker\nenroot=/usr/bin/enroot\ncdi=/etc/cdi/nvidia.yaml\n"
    )
    host = gv.host_info(detected, fact)
    assert (host["kind"], host["docker"], host["enroot"]) == ("jetson", True, True)
    assert host["cdi_specs"] == ["/etc/cdi/nvidia.yaml"]
    assert host["jetson"]["jetpack"] == "6.2"


def test_detection_without_fact_uses_the_facts_kind_rule() -> None:
    """A Jetson/IGX with a PCIe NVIDIA card is dgpu, as provision_host says; without the card
    it is jetson (written detection output: no such board here)."""
    tegra = "tegra=# R36 (release), REVISION: 4.3, GCID: 1, BOARD: generic, EABI: aarch64"
    card = "pci=0005:01:00.0 0x10de 0x26b1 0x030000"
    root_port = "pci=0005:00:00.0 0x10de 0x229a 0x060400"
    with_card = gv.host_info(
        gv.parse_detect(f"{root_port}\n{card}\ndriver=loaded\n{tegra}\n"), None
    )
    assert with_card["kind"] == "dgpu"
    assert [g["pci_address"] for g in with_card["gpus"]] == ["0005:01:00.0"]
    without = gv.host_info(gv.parse_detect(f"{root_port}\n{tegra}\n"), None)
    assert without["kind"] == "jetson"
    assert without["jetson"]["l4t_release"] == "36"


def test_required_failures_name_check_reason_and_diagnosis() -> None:
    results = [
        {"name": "engine", "status": "pass", "reason": "fine", "evidence": {}},
        {"name": "gpu", "status": "skip", "reason": NO_GPU_TEXT, "evidence": {}},
        {
            "name": "jetson",
            "status": "fail",
            "reason": "bad",
            "evidence": {},
            "diagnosis": "D",
            "fix": "F",
        },
    ]
    missing = gv.required_failures(results, ["engine", "gpu", "jetson", "enroot"])
    assert [m["check"] for m in missing] == ["gpu", "jetson", "enroot"]
    assert missing[2]["status"] == "missing"
    msg = gv.failure_message(missing[0])
    assert msg == (
        "required check 'gpu' did not pass (skip): no NVIDIA GPU (PCI 10de, class 0300/0302)"
    )
    assert gv.failure_message(missing[1]).endswith("diagnosis: D; fix: F")


def test_user_names_accepts_strings_and_dicts() -> None:
    assert gv.user_names(["alice", {"name": "bob"}, {"user": "carol"}, ""]) == [
        "alice",
        "bob",
        "carol",
    ]


def test_simulated_dgpu_host_with_driver_mismatch_starts_no_gpu_container() -> None:
    """Stand-in dGPU host (detection output and nvidia-smi answers come from the table)."""
    answers = {
        "sh -c": (0, "pci=0000:07:00.0 0x10de 0x20b0 0x030200\ndriver=loaded\n", ""),
        "nvidia-smi -L": (18, "", fixture(SMI_MISMATCH)),
    }
    calls: list[str] = []
    (res,) = gv.run_checks(table_runner(answers, calls), ["gpu"], gv.Options())
    assert res["status"] == "fail"
    assert "Reboot" in res["fix"]
    assert not any(c.startswith("docker run") for c in calls)


def test_access_empty_answer_is_not_access() -> None:
    """Seen on Debian 13's Docker 26: a refused `docker info --format` exits 0, printing nothing."""
    sock = ok(gv.socket_command("/s"), "docker 660\n")
    silent = ok(gv.user_command("mallory", "/home/mallory"), "")
    res = gv.decide_access(
        "/s", sock, "docker", "0660", [("mallory", ok("getent passwd mallory"), silent)]
    )
    assert res["status"] == "fail"
