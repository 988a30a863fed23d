"""provision_host_facts' looks option: the toolkit's and enroot's looks in host_facts' round trip.

The preflight hands host_facts the look parameters of nvidia_container_toolkit and enroot; the
module takes each look with the same code and the same argument spec as that role's own facts
module, on the hosts the role runs on, and leaves out any look its module would refuse (the role
then takes its own). Commands go through a stand-in runner; files are planted in tmp_path.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from module_loader import load_module

phf = load_module("provision_host_facts")
toolkit = importlib.import_module("ansible.module_utils.gpuhost_toolkit_look")
enroot = importlib.import_module("ansible.module_utils.gpuhost_enroot_look")


def _execute(argv: list[str]) -> tuple[int, str, str]:
    """Every command: not found (a host without dpkg, Docker or systemd)."""
    return 127, "", f"{argv[0]}: not found"


def _host() -> Any:
    return SimpleNamespace(runner=phf.CommandRunner(_execute, 15, None))


def _toolkit_params(tmp_path: Path) -> dict[str, Any]:
    listing = tmp_path / "nvidia-container-toolkit.list"
    listing.write_text("deb [signed-by=/k.gpg] http://127.0.0.1/stable/deb/$(ARCH) /\n")
    return {"packages": ["nvidia-container-toolkit"], "files": [str(tmp_path / "k.gpg")],
            "texts": [str(listing)], "config_toml": str(tmp_path / "config.toml"),
            "daemon_json": str(tmp_path / "daemon.json"),
            "config_wanted": {"nvidia-container-cli.no-cgroups": True},
            "apt_key_ring": str(tmp_path / "trusted.gpg"), "keyring": str(tmp_path / "k.gpg")}


def _enroot_params(tmp_path: Path) -> dict[str, Any]:
    return {"packages": ["enroot"], "dirs": [str(tmp_path / "run-enroot")],
            "files": [str(tmp_path / "90-gpuhost.conf")], "users": [],
            "sysctl_file": str(tmp_path / "60-enroot.conf")}


def test_each_look_is_its_roles_own_look_with_the_parameters_echoed(tmp_path: Path) -> None:
    given = {"nvidia_container_toolkit": _toolkit_params(tmp_path),
             "enroot": _enroot_params(tmp_path)}
    got = phf.gather_looks(_host(), "dgpu", given)
    assert set(got) == {"nvidia_container_toolkit", "enroot"}
    for role, module in (("nvidia_container_toolkit", toolkit), ("enroot", enroot)):
        # What the role compares with its own parameters: exactly what it handed over.
        assert got[role]["params"] == given[role]
        checked = phf.checked_look_params(module.ARGUMENT_SPEC, given[role])
        assert got[role]["look"] == module.gather(checked, _host().runner)
    look = got["nvidia_container_toolkit"]["look"]
    assert look["texts"][str(tmp_path / "nvidia-container-toolkit.list")].startswith("deb ")
    assert look["config_differs"] == ["nvidia-container-cli.no-cgroups"]
    assert got["enroot"]["look"]["dirs"] == {str(tmp_path / "run-enroot"): None}


def _jetson_params(tmp_path: Path) -> dict[str, Any]:
    return {"packages": ["nvidia-container"], "files": [str(tmp_path / "jetson.asc")],
            "texts": [str(tmp_path / "nvidia-l4t-apt-source.list")], "cdi_specs": [],
            "cdi_refresh_units": []}


@pytest.mark.parametrize(("kind", "taken"), [
    ("dgpu", {"nvidia_container_toolkit", "enroot"}),
    ("jetson", {"jetson_container_runtime", "enroot"}),
    ("cpu", {"enroot"}),
])
def test_each_gpu_look_only_on_a_host_of_its_kind(tmp_path: Path, kind: str,
                                                  taken: set[str]) -> None:
    given = {"nvidia_container_toolkit": _toolkit_params(tmp_path),
             "jetson_container_runtime": _jetson_params(tmp_path),
             "enroot": _enroot_params(tmp_path)}
    assert set(phf.gather_looks(_host(), kind, given)) == taken


@pytest.mark.parametrize("edit", [
    {"config_wanted": "no-cgroups"},       # not a dict
    {"packages": None},                    # required
    {"hook_path": "/usr/bin/hook"},        # not an option of the module
])
def test_a_look_its_module_would_refuse_is_left_to_the_role(tmp_path: Path,
                                                            edit: dict[str, Any]) -> None:
    params = {**_toolkit_params(tmp_path), **edit}
    given = {"nvidia_container_toolkit": params, "enroot": _enroot_params(tmp_path)}
    assert set(phf.gather_looks(_host(), "dgpu", given)) == {"enroot"}


@pytest.mark.parametrize("given", [None, "enroot", [], {"docker_engine": {"packages": []}},
                                   {"enroot": "packages"}])
def test_nothing_else_is_taken(given: Any) -> None:
    assert phf.gather_looks(_host(), "dgpu", given) == {}


def test_each_look_runs_under_its_modules_command_timeout(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, int] = {}

    def recorder(role: str) -> Any:
        def look(params: dict[str, Any], runner: Any) -> dict[str, Any]:
            seen[role] = runner.timeout
            return {}
        return look

    looks = {role: (kind, spec, recorder(role), timeout)
             for role, (kind, spec, _, timeout) in phf.LOOKS.items()}
    monkeypatch.setattr(phf, "LOOKS", looks)
    given = {"nvidia_container_toolkit": {**_toolkit_params(tmp_path), "command_timeout": 7},
             "enroot": _enroot_params(tmp_path)}
    phf.gather_looks(_host(), "dgpu", given)
    assert seen == {"nvidia_container_toolkit": 7, "enroot": enroot.COMMAND_TIMEOUT}
