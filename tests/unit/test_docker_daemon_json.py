"""Unit tests for plugins/modules/docker_daemon_json.py (the one daemon.json writer).

dockerd and systemctl are STAND-INS here: small scripts written by `standin_dockerd` and
callables returning recorded unit text, so validation and the `-H fd://` check run without a
Docker engine.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from module_loader import load_module, script_argv

ddj = load_module("docker_daemon_json")

# What `nvidia-ctk runtime configure --runtime=docker` leaves: 4-space sorted JSON, no newline.
NVIDIA_CTK_FILE = """{
    "log-driver": "json-file",
    "runtimes": {
        "nvidia": {
            "args": [],
            "path": "nvidia-container-runtime"
        }
    }
}"""

DOCKER_CE_EXEC_START = "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock"


def params(path: Path, **overrides: Any) -> dict[str, Any]:
    base = {"path": str(path), "options": {}, "absent": [], "backup": True, "validate": True,
            "exec_start": DOCKER_CE_EXEC_START, "dockerd": "/nonexistent/dockerd"}
    base.update(overrides)
    return base


def no_commands(argv: list[str]) -> tuple[int, str, str]:
    raise AssertionError(f"unexpected command {argv}")


def test_deep_merge_merges_objects_and_replaces_other_values() -> None:
    base = {"log-opts": {"max-size": "10m"}, "dns": ["1.1.1.1"], "keep": True}
    extra = {"log-opts": {"max-file": "3"}, "dns": ["9.9.9.9"]}
    assert ddj.deep_merge(base, extra) == {
        "log-opts": {"max-size": "10m", "max-file": "3"}, "dns": ["9.9.9.9"], "keep": True,
    }
    assert base == {"log-opts": {"max-size": "10m"}, "dns": ["1.1.1.1"], "keep": True}


def test_remove_paths_removes_nested_keys_and_ignores_missing() -> None:
    data = json.loads(NVIDIA_CTK_FILE)
    data["default-runtime"] = "nvidia"
    result = ddj.remove_paths(data, ["runtimes.nvidia", "default-runtime", "no.such.key"])
    assert result == {"log-driver": "json-file", "runtimes": {}}
    assert "default-runtime" in data


def test_key_both_set_and_absent_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ddj.DaemonJsonError, match=r"log-opts\.max-size"):
        ddj.apply(params(tmp_path / "d.json", options={"log-opts": {"max-size": "1m"}},
                         absent=["log-opts.max-size"]), False, no_commands)


def test_invalid_json_names_path_and_position_and_is_left_untouched(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    broken = '{\n  "debug": true,\n  "log-level" "info"\n}\n'
    target.write_text(broken)
    with pytest.raises(ddj.DaemonJsonError) as err:
        ddj.apply(params(target, options={"debug": False}), False, no_commands)
    assert str(target) in str(err.value)
    assert "line 3 column 15" in str(err.value)
    assert target.read_text() == broken
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("target_text", ["root:x:0:0:root:/root:/bin/bash\n", '{"debug": true}',
                                         None], ids=["not-json", "json", "dangling"])
@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check"])
def test_a_symlink_is_refused_as_a_symlink_and_left_alone(
        tmp_path: Path, target_text: str | None, check_mode: bool) -> None:
    """Once read through and reported as 'not valid JSON' (or replaced, dropping the link)."""
    real = tmp_path / "elsewhere"
    if target_text is not None:
        real.write_text(target_text)
    link = tmp_path / "daemon.json"
    link.symlink_to(real)
    with pytest.raises(ddj.DaemonJsonError) as err:
        ddj.apply(params(link, options={"debug": False}), check_mode, no_commands)
    assert f"{link} is a symlink (to {real})" in str(err.value)
    assert "not valid JSON" not in str(err.value)
    assert link.is_symlink() and link.readlink() == real
    assert (real.read_text() if target_text is not None else None) == target_text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["daemon.json"] + (["elsewhere"] if target_text is not None else []))


def test_non_object_json_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text("[]")
    with pytest.raises(ddj.DaemonJsonError, match="JSON object"):
        ddj.apply(params(target), False, no_commands)


def test_same_values_in_nvidia_ctk_formatting_are_no_change(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text(NVIDIA_CTK_FILE)
    options = {"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}},
               "log-driver": "json-file"}
    result = ddj.apply(params(target, options=options), False, no_commands)
    assert result["changed"] is False
    assert target.read_text() == NVIDIA_CTK_FILE
    assert result["backup_file"] == ""


def test_merge_keeps_foreign_keys_writes_atomically_and_backs_up(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text(NVIDIA_CTK_FILE)
    target.chmod(0o640)
    inode = target.stat().st_ino
    result = ddj.apply(params(target, options={"log-opts": {"max-size": "10m"}}), False,
                       no_commands)
    assert result["changed"] is True
    written = json.loads(target.read_text())
    assert written["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime"
    assert written["log-opts"] == {"max-size": "10m"}
    # rename, not rewrite in place: a new inode, same mode
    assert target.stat().st_ino != inode
    assert target.stat().st_mode & 0o777 == 0o640
    backup = Path(result["backup_file"])
    assert backup.parent == tmp_path
    assert backup.read_text() == NVIDIA_CTK_FILE
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["daemon.json", backup.name])


def test_new_file_gets_0644_and_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "docker" / "daemon.json"
    result = ddj.apply(params(target, options={"debug": True}), False, no_commands)
    assert result["created"] is True
    assert result["backup_file"] == ""
    assert target.stat().st_mode & 0o777 == 0o644
    assert json.loads(target.read_text()) == {"debug": True}


def test_check_mode_writes_nothing_but_reports_diff(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text('{"debug": true}')
    result = ddj.apply(params(target, options={"debug": False}), True, no_commands)
    assert result["changed"] is True
    assert target.read_text() == '{"debug": true}'
    assert list(tmp_path.iterdir()) == [target]
    assert json.loads(result["diff"]["before"]) == {"debug": True}
    assert json.loads(result["diff"]["after"]) == {"debug": False}


def test_check_mode_without_directory_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "docker" / "daemon.json"
    result = ddj.apply(params(target, options={"debug": True}), True, no_commands)
    assert result["changed"] is True
    assert not target.parent.exists()


@pytest.mark.parametrize(
    ("exec_start", "config", "clashes"),
    [
        (DOCKER_CE_EXEC_START, {"hosts": ["unix:///run/docker.sock"]}, ["hosts"]),
        ("/usr/sbin/dockerd -H fd:// $DOCKER_OPTS", {"hosts": []}, ["hosts"]),
        (DOCKER_CE_EXEC_START, {"containerd": "/x.sock", "debug": True}, ["containerd"]),
        ("/usr/bin/dockerd --host=tcp://0.0.0.0:2375 --log-opt max-size=1m",
         {"log-opts": {}, "hosts": []}, ["hosts", "log-opts"]),
        ("/usr/bin/dockerd", {"hosts": ["fd://"]}, []),
        (DOCKER_CE_EXEC_START, {"debug": True}, []),
    ],
)
def test_flag_conflicts(exec_start: str, config: dict[str, Any], clashes: list[str]) -> None:
    assert ddj.flag_conflicts(config, exec_start) == clashes


def test_unit_exec_start_takes_the_last_one_after_reset() -> None:
    cat = (
        "# /lib/systemd/system/docker.service\n[Service]\n"
        "ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n"
        "# /etc/systemd/system/docker.service.d/override.conf\n[Service]\nExecStart=\n"
        "ExecStart=/usr/bin/dockerd\n"
    )
    assert ddj.unit_exec_start(cat) == "/usr/bin/dockerd"


def test_hosts_against_fd_unit_is_refused_and_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text('{"debug": true}')

    def systemctl(argv: list[str]) -> tuple[int, str, str]:
        assert argv == ["systemctl", "cat", "docker.service"]
        return 0, "[Service]\nExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS\n", ""

    with pytest.raises(ddj.DaemonJsonError, match=r"refusing to set hosts .*-H fd://"):
        ddj.apply(params(target, exec_start="", options={"hosts": ["tcp://127.0.0.1:2375"]}),
                  False, systemctl)
    assert target.read_text() == '{"debug": true}'
    assert list(tmp_path.iterdir()) == [target]


def standin_dockerd(tmp_path: Path, script: str) -> str:
    binary = tmp_path / "bin" / "dockerd"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n" + script)
    binary.chmod(0o755)
    return str(binary)


def test_dockerd_validate_rejection_stops_the_write(tmp_path: Path) -> None:
    dockerd = standin_dockerd(tmp_path, 'echo "unable to configure the Docker daemon: bad" >&2\n'
                                     "exit 1\n")
    target = tmp_path / "daemon.json"
    target.write_text("{}")
    with pytest.raises(ddj.DaemonJsonError, match=r"dockerd --validate rejected.*bad"):
        ddj.apply(params(target, dockerd=dockerd, options={"debug": "x"}), False,
                  ddj.run_command)
    assert target.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "daemon.json"]


def test_dockerd_validate_sees_the_new_content(tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    dockerd = standin_dockerd(tmp_path, f'[ "$1" = --validate ] && cat "$3" > {seen}\n'
                                     "echo configuration OK\n")
    target = tmp_path / "daemon.json"
    result = ddj.apply(params(target, dockerd=dockerd, options={"debug": True}), False,
                       ddj.run_command)
    assert result["validated"] == "dockerd"
    assert json.loads(seen.read_text()) == {"debug": True}


def test_old_dockerd_without_validate_is_skipped(tmp_path: Path) -> None:
    dockerd = standin_dockerd(tmp_path, 'echo "unknown flag: --validate" >&2\nexit 125\n')
    result = ddj.apply(params(tmp_path / "daemon.json", dockerd=dockerd, options={"a": 1}),
                       False, ddj.run_command)
    assert result["validated"].startswith("skipped")
    assert json.loads((tmp_path / "daemon.json").read_text()) == {"a": 1}


def run_module(args: dict[str, Any]) -> dict[str, Any]:
    """Run the module file the way Ansible does, with its arguments as JSON."""
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": args})
    proc = subprocess.run(script_argv("docker_daemon_json"), input=payload, text=True,
                          capture_output=True, check=False,
                          env={**os.environ, "PATH": "/nonexistent"})
    return json.loads(proc.stdout)


def test_module_check_mode_and_diff_through_ansible(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text(NVIDIA_CTK_FILE)
    out = run_module({"path": str(target), "options": {"debug": True}, "exec_start": "x",
                      "_ansible_check_mode": True, "_ansible_diff": True})
    assert out["changed"] is True
    assert target.read_text() == NVIDIA_CTK_FILE
    assert '"debug": true' in out["diff"]["after"]
    assert '"debug"' not in out["diff"]["before"]


def test_module_fails_cleanly_on_invalid_json(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text("{oops")
    out = run_module({"path": str(target), "options": {"debug": True}, "exec_start": "x"})
    assert out["failed"] is True
    assert "line 1 column 2" in out["msg"]
    assert target.read_text() == "{oops"
