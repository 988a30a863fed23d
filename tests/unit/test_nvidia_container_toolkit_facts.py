"""nvidia_container_toolkit_facts: the parsers and the look, from planted files and stand-ins.

Commands go through a stand-in runner that answers from a table; files are planted in tmp_path.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from module_loader import load_file, load_module

load_module("nvidia_container_toolkit_facts")  # puts plugins/module_utils on the import path
nct = importlib.import_module("ansible.module_utils.gpuhost_toolkit_look")
Cmd = nct.Cmd

# config.toml as the stand-in base package's postinst writes it (nvidia-ctk config --in-place on
# a host without one): the shape of NVIDIA's default, which the molecule tests also read.
STANDIN_CTK = (Path(__file__).resolve().parents[2]
               / "molecule/shared/standins/nvidia/files/nvidia_ctk_standin.py")
CONFIG_TOML = load_file("nvidia_ctk_standin", STANDIN_CTK).DEFAULT_CONFIG


class Runner:
    """Answers argv by its joined text (first matching prefix); records every command."""

    def __init__(self, answers: dict[str, tuple[int, str]]) -> None:
        self.answers = answers
        self.ran: list[str] = []

    def __call__(self, argv: list[str]) -> Any:
        text = " ".join(argv)
        self.ran.append(text)
        for prefix, (rc, out) in self.answers.items():
            if text.startswith(prefix):
                return Cmd(tuple(argv), rc, out, "")
        return Cmd(tuple(argv), 127, "", "not found")


def test_dpkg_status_gives_version_hold_and_leftovers() -> None:
    text = ("nvidia-container-toolkit\thi \t1.17.8-1\n"
            "libnvidia-container1\tii \t1.17.8-1\n"
            "nvidia-docker2\trc \t2.13.0-1\n"
            "nvidia-container-runtime\tun \t\n")
    got = nct.parse_dpkg(text)
    assert got["nvidia-container-toolkit"] == {"version": "1.17.8-1", "held": True,
                                               "state": "installed"}
    assert got["libnvidia-container1"]["held"] is False
    # Removed but its conffiles are still there: no version to act on, still reported.
    assert got["nvidia-docker2"] == {"version": None, "held": False, "state": "config-files"}
    assert "nvidia-container-runtime" not in got


def test_config_toml_reads_set_keys_not_commented_defaults() -> None:
    values = nct.parse_config_toml(CONFIG_TOML)
    assert values["nvidia-container-cli.load-kmods"] is True
    assert values["nvidia-container-cli.ldconfig"] == "@/sbin/ldconfig"
    assert values["nvidia-container-runtime.runtimes"] == ["docker-runc", "runc", "crun"]
    assert values["nvidia-container-runtime.modes.cdi.default-kind"] == "nvidia.com/gpu"
    assert values["disable-require"] is False
    assert "nvidia-container-cli.no-cgroups" not in values


def test_config_toml_trailing_comment_and_quoted_hash() -> None:
    values = nct.parse_config_toml('[a]\nx = "p#q" # note\ny = 3 # n\n')
    assert values == {"a.x": "p#q", "a.y": 3}


@pytest.mark.parametrize(("wanted", "differs"), [
    ({"nvidia-container-cli.no-cgroups": True}, ["nvidia-container-cli.no-cgroups"]),
    ({"nvidia-container-cli.load-kmods": True}, []),
    # From -e every value is a string: "true" is the TOML true.
    ({"nvidia-container-cli.load-kmods": "true"}, []),
    ({"nvidia-container-cli.load-kmods": False}, ["nvidia-container-cli.load-kmods"]),
    ({"nvidia-container-runtime.log-level": "debug"}, ["nvidia-container-runtime.log-level"]),
])
def test_config_differs_compares_by_value(wanted: dict, differs: list) -> None:
    assert nct.config_differs(nct.parse_config_toml(CONFIG_TOML), wanted) == differs


def test_daemon_json_runtime_keys(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    assert nct.read_daemon_json(str(path))["exists"] is False
    runtime = {"args": [], "path": "nvidia-container-runtime"}
    path.write_text(json.dumps({"runtimes": {"nvidia": runtime}, "default-runtime": "nvidia",
                                "features": {"cdi": True}}))
    got = nct.read_daemon_json(str(path))
    assert got["runtimes"] == ["nvidia"]
    assert got["nvidia"]["path"] == "nvidia-container-runtime"
    assert got["default_runtime"] == "nvidia"
    assert got["features"] == {"cdi": True}
    path.write_text("{not json")
    assert "error" in nct.read_daemon_json(str(path))


def test_process_start_from_proc(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    # Field 22 (starttime) is 19 fields after the command name; the name holds ") (".
    fields = ["S"] + ["0"] * 18 + ["500"] + ["0"] * 10
    (tmp_path / "42" / "stat").write_text("42 (odd) (name) " + " ".join(fields) + "\n")
    (tmp_path / "stat").write_text("cpu 1 2 3\nbtime 1700000000\n")
    ticks = os.sysconf("SC_CLK_TCK")
    assert nct.process_start(42, str(tmp_path)) == pytest.approx(1700000000 + 500 / ticks)
    assert nct.process_start(43, str(tmp_path)) is None


def test_hook_newer_than_dockerd_means_restart(tmp_path: Path) -> None:
    hook = tmp_path / "nvidia-container-runtime-hook"
    hook.write_text("#!/bin/sh\n")
    ctime = hook.stat().st_ctime
    which = lambda name: str(hook)  # noqa: E731
    assert nct.hook_state("h", ctime - 10, which)["newer_than_dockerd"] is True
    assert nct.hook_state("h", ctime + 10, which)["newer_than_dockerd"] is False
    # Docker not running: it registers the driver when it starts.
    assert nct.hook_state("h", None, which)["newer_than_dockerd"] is False
    assert nct.hook_state("h", 0, lambda name: None) == {"path": None, "ctime": None,
                                                          "newer_than_dockerd": False}


def test_docker_state_parses_version_and_main_pid() -> None:
    run = Runner({"dockerd --version": (0, "Docker version 26.1.5+dfsg1, build a72d7cd\n"),
                  "systemctl show": (0, "MainPID=0\nActiveState=inactive\n")})
    assert nct.docker_state(run) == {"version": "26.1.5", "active": False, "started": None}


def test_conffile_owner_seen_from_dpkg() -> None:
    run = Runner({"dpkg-query --show --showformat=${Conffiles}":
                  (0, " /etc/docker/daemon.json 0123456789abcdef\n")})
    assert nct.conffile_owned(run, "nvidia-docker2", "/etc/docker/daemon.json") is True
    run = Runner({"dpkg-query --show --showformat=${Conffiles}": (0, "\n")})
    assert nct.conffile_owned(run, "nvidia-docker2", "/etc/docker/daemon.json") is False


def test_gather_reads_everything_in_one_look(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML)
    listed = tmp_path / "nvidia.list"
    listed.write_text("deb x /\n")
    daemon = tmp_path / "daemon.json"
    keyring = tmp_path / "keyring.gpg"
    keyring.write_bytes(b"k")
    spec = tmp_path / "nvidia.yaml"
    spec.write_text("cdiVersion: 0.5.0\n")
    run = Runner({
        "dpkg-query --show --showformat=${Package}": (0, "nvidia-docker2\tii \t2.13.0-1\n"),
        "dpkg-query --show --showformat=${Conffiles}": (0, f" {daemon} abc\n"),
        "dockerd --version": (0, "Docker version 20.10.24+dfsg1, build 297e128\n"),
        "systemctl show --property=ActiveState,MainPID": (0, "MainPID=0\nActiveState=active\n"),
        "systemctl show --property=LoadState,UnitFileState nvidia-cdi-refresh.path":
            (0, "LoadState=loaded\nUnitFileState=disabled\n"),
        "systemctl show --property=LoadState,UnitFileState": (0, "LoadState=not-found\n"),
    })
    params = {"packages": ["nvidia-container-toolkit", "nvidia-docker2"],
              "conffile_owner": "nvidia-docker2", "files": [str(tmp_path / "none"), str(keyring)],
              "texts": [str(listed), str(tmp_path / "missing")],
              "config_toml": str(config),
              "config_wanted": {"nvidia-container-cli.no-cgroups": True},
              "cdi_specs": [str(tmp_path / "absent.yaml"), str(spec)],
              "cdi_refresh_units": ["nvidia-cdi-refresh.path", "nvidia-cdi-refresh.service"],
              "daemon_json": str(daemon), "hook": "no-such-hook-here",
              "apt_key_ring": str(tmp_path / "trusted.gpg"), "keyring": str(tmp_path / "k.gpg")}
    got = nct.gather(params, run)
    assert got["packages"]["nvidia-docker2"]["version"] == "2.13.0-1"
    assert got["daemon_json_conffile"] is True
    assert got["files"] == {str(tmp_path / "none"): False, str(keyring): True}
    assert got["texts"] == {str(listed): "deb x /\n", str(tmp_path / "missing"): None}
    assert got["config_differs"] == ["nvidia-container-cli.no-cgroups"]
    assert got["cdi_specs"] == [str(spec)]
    assert got["cdi_refresh"]["nvidia-cdi-refresh.path"] == {"exists": True, "enabled": False}
    assert got["cdi_refresh"]["nvidia-cdi-refresh.service"]["exists"] is False
    assert got["docker"]["version"] == "20.10.24"
    assert got["hook"]["path"] is None
    assert got["apt_key_entries"] == []


NVIDIA_FPR = "C95B321B61E88C1809C4F759DDCAE044F796ECB0"
CUDA_FPR = "EB693B3035CD5710E231E123A4B469963BF863CC"


def colons(*keys: tuple[str, str]) -> str:
    """`gpg --with-colons --show-keys` output for (fingerprint, subkey fingerprint) pairs."""
    lines = []
    for fpr, sub in keys:
        lines += [f"pub:-:4096:1:{fpr[-16:]}:1532381868:::-:::scSC::::::23::0:",
                  f"fpr:::::::::{fpr}:", "uid:-::::1532381868::X::Someone <a@b>::::::::::0:",
                  f"sub:-:4096:1:{sub[-16:]}:1532381868::::::e::::::23:",
                  f"fpr:::::::::{sub}:"]
    return "\n".join(lines) + "\n"


def test_fingerprints_are_the_primary_keys_only() -> None:
    text = colons((NVIDIA_FPR, "A" * 40), (CUDA_FPR, "B" * 40))
    assert nct.parse_fingerprints(text) == [NVIDIA_FPR, CUDA_FPR]


def test_apt_key_entries_are_the_keys_trusted_gpg_shares_with_the_toolkit_keyring(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gpg is a stand-in answering by the file name; CUDA's key in trusted.gpg is not NVIDIA's
    toolkit key and must not be reported (removing it would break a CUDA source)."""
    def which_standin(name: str) -> str:
        return f"/usr/bin/{name}"

    monkeypatch.setattr(nct.shutil, "which", which_standin)
    trusted, ours = tmp_path / "trusted.gpg", tmp_path / "toolkit.gpg"
    trusted.write_bytes(b"x")
    ours.write_bytes(b"x")
    both = colons((CUDA_FPR, "B" * 40), (NVIDIA_FPR, "A" * 40))

    def gpg(argv: list[str]) -> Any:
        out = both if argv[-1] == str(trusted) else colons((NVIDIA_FPR, "A" * 40))
        assert "--homedir" in argv  # never root's own ~/.gnupg
        return Cmd(tuple(argv), 0, out, "")

    assert nct.apt_key_entries(gpg, str(trusted), str(ours)) == [NVIDIA_FPR]
    ours.unlink()
    assert nct.apt_key_entries(gpg, str(trusted), str(ours)) == []
