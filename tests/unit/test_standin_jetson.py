"""Unit tests of the LOCAL STAND-IN for NVIDIA's nvidia-container-runtime on a Jetson
(molecule/shared/standins/jetson/files/nvidia-container-runtime.py; not NVIDIA's runtime).

The molecule jetson_container_runtime scenario runs it under Docker (gpu_verify's jetson check);
these tests pin down what that check's pass depends on: mode auto is csv only on a Tegra
system, a container that asks for no devices is left alone, and only CSV entries that exist on
the host are mounted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from module_loader import load_file

SCRIPT = (
    Path(__file__).resolve().parents[2]
    / "molecule/shared/standins/jetson/files/nvidia-container-runtime.py"
)

rt = load_file("jetson_runtime_standin", SCRIPT)


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A host root with the runtime's paths pointed into it, Tegra, config mode auto."""
    for name, rel in (("CONFIG", "etc/nvidia-container-runtime/config.toml"),
                      ("CSV_DIR", "etc/nvidia-container-runtime/host-files-for-container.d"),
                      ("LOG", "run/runtime.log"),
                      ("TEGRA_RELEASE", "etc/nv_tegra_release"),
                      ("SOC_FAMILY", "sys/devices/soc0/family")):
        monkeypatch.setattr(rt, name, tmp_path / rel)
    rt.CSV_DIR.mkdir(parents=True)
    rt.CONFIG.write_text('[nvidia-container-runtime]\nmode = "auto"\n', encoding="utf-8")
    rt.TEGRA_RELEASE.write_text("# R36 (release), REVISION: 4.3\n", encoding="utf-8")
    return tmp_path


def bundle(root: Path, env: list[str]) -> Path:
    path = root / "bundle"
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"process": {"env": env}, "mounts": []}),
                                      encoding="utf-8")
    return path


def mounts(path: Path) -> list[str]:
    spec = json.loads((path / "config.json").read_text(encoding="utf-8"))
    return [m["destination"] for m in spec["mounts"]]


def test_auto_is_csv_only_on_tegra(host: Path) -> None:
    module = rt
    assert module.mode() == "csv"
    module.TEGRA_RELEASE.unlink()
    assert module.mode() == "legacy"
    module.SOC_FAMILY.parent.mkdir(parents=True)
    module.SOC_FAMILY.write_text("Tegra234\n", encoding="utf-8")
    assert module.mode() == "csv"
    module.CONFIG.write_text('[nvidia-container-runtime]\nmode = "cdi"\n', encoding="utf-8")
    assert module.mode() == "cdi"


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, False),
        ({"NVIDIA_VISIBLE_DEVICES": "all"}, True),
        ({"NVIDIA_VISIBLE_DEVICES": "void"}, False),
        ({"NVIDIA_VISIBLE_DEVICES": "none"}, False),
        ({"CUDA_VERSION": "11.4"}, True),
        ({"CUDA_VERSION": "11.4", "NVIDIA_REQUIRE_CUDA": "cuda>=11.4"}, False),
    ],
)
def test_devices_requested(env: dict[str, str], wanted: bool) -> None:
    assert rt.requested(env) is wanted


def test_csv_entries_that_exist_are_mounted(host: Path) -> None:
    present = host / "dev-nvmap"
    present.write_text("", encoding="utf-8")
    (rt.CSV_DIR / "devices.csv").write_text(
        f"# comment\ndev, {present}\ndev, {host / 'missing'}\n\nlib, {present}\n",
        encoding="utf-8")
    path = bundle(host, ["PATH=/bin", "NVIDIA_VISIBLE_DEVICES=all"])
    rt.edit_spec(path)
    assert mounts(path) == [str(present)]
    assert rt.LOG.read_text(encoding="utf-8").startswith("csv ")


def test_a_container_asking_for_no_devices_is_left_alone(host: Path) -> None:
    (rt.CSV_DIR / "devices.csv").write_text(f"dev, {host}\n", encoding="utf-8")
    path = bundle(host, ["PATH=/bin"])
    before = (path / "config.json").read_text(encoding="utf-8")
    rt.edit_spec(path)
    assert (path / "config.json").read_text(encoding="utf-8") == before
