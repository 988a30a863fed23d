"""Unit tests for the Docker restart contract: module_utils/gpuhost_docker_restart.py, the
docker_restart module, docker_unit_dropin, and docker_daemon_json's side of the contract.

systemctl, journalctl and docker are STAND-INS here: a recording callable (`FakeSystemd`) that
answers like a host whose docker.service starts or refuses to start; the files live in tmp_path.
The real restart and rollback on systemd test hosts are in molecule/docker_restart_contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ansible.module_utils.gpuhost_docker_restart as contract
import pytest
from module_loader import load_module

restart = load_module("docker_restart")
dropin = load_module("docker_unit_dropin")
ddj = load_module("docker_daemon_json")


class FakeSystemd:
    """Stand-in for systemctl/journalctl/docker: Docker comes back unless `refuse` says not.

    refuse(run) is asked at each `systemctl restart|start docker.service`; a refused start leaves
    the API down until a later start succeeds.
    """

    def __init__(self, refuse: Any = lambda: False, socket: str = "loaded",
                 active: bool = True) -> None:
        self.calls: list[list[str]] = []
        self.refuse = refuse
        self.socket = socket
        self.up = active

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(argv)
        if argv[:2] == ["systemctl", "show"]:
            return 0, self.socket + "\n", ""
        if argv[:2] == ["systemctl", "is-active"]:
            return (0 if self.up else 3), "", ""
        if argv[0] == "systemctl" and argv[1:] in (["restart", "docker.service"],
                                                   ["start", "docker.service"]):
            self.up = not self.refuse()
            return (0 if self.up else 1), "", "" if self.up else "Job for docker.service failed."
        if argv[:1] == ["journalctl"]:
            return 0, "dockerd: failed to start daemon: error initializing graphdriver: " \
                      "driver not supported: no-such-driver\n", ""
        if argv[:2] == ["docker", "version"]:
            return (0, "27.5.1\n", "") if self.up else (1, "", "Cannot connect to the daemon")
        return 0, "", ""

    def commands(self) -> list[str]:
        return [" ".join(c) for c in self.calls if c[0] != "docker"]


def no_sleep(_: float) -> None:
    pass


def restart_params(**overrides: Any) -> dict[str, Any]:
    base = {"request": [], "reason": "", "requested": False, "api_timeout": 0}
    base.update(overrides)
    return base


def test_first_request_copies_the_file_and_later_ones_keep_that_copy(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    target = tmp_path / "daemon.json"
    target.write_text('{"debug": true}')
    contract.request(["docker.service"], "first", path=str(target), state_dir=state_dir)
    target.write_text('{"debug": false}')
    state = contract.request(["docker.socket"], "second", path=str(target), daemon_reload=True,
                             state_dir=state_dir)
    assert state["units"] == ["docker.socket", "docker.service"]
    assert state["daemon_reload"] is True
    assert state["reasons"] == ["first", "second"]
    assert Path(state["files"][str(target)]).read_text() == '{"debug": true}'
    assert contract.load(state_dir) == state


def test_restore_puts_files_back_and_removes_files_that_did_not_exist(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    existing, created = tmp_path / "daemon.json", tmp_path / "new.conf"
    existing.write_text("before")
    contract.request(["docker.service"], "a", path=str(existing), state_dir=state_dir)
    contract.request(["docker.service"], "b", path=str(created), state_dir=state_dir)
    existing.write_text("after")
    created.write_text("after")
    state = contract.load(state_dir)
    assert state is not None
    assert sorted(contract.restore(state)) == sorted([str(existing), str(created)])
    assert existing.read_text() == "before"
    assert not created.exists()


def test_request_refuses_an_unknown_unit(tmp_path: Path) -> None:
    with pytest.raises(contract.RestartStateError, match=r"containerd\.service"):
        contract.request(["containerd.service"], "x", state_dir=str(tmp_path))


def test_nothing_pending_and_docker_running_is_no_change(tmp_path: Path) -> None:
    fake = FakeSystemd()
    result = restart.apply(restart_params(), False, fake, no_sleep, str(tmp_path / "none"))
    assert result["changed"] is False
    assert fake.commands() == ["systemctl is-active --quiet docker.service"]


def test_nothing_pending_and_docker_stopped_starts_it(tmp_path: Path) -> None:
    fake = FakeSystemd(active=False)
    result = restart.apply(restart_params(), False, fake, no_sleep, str(tmp_path / "none"))
    assert result["changed"] is True
    assert "systemctl start docker.service" in fake.commands()


def test_two_changes_restart_docker_once_and_clear_the_state(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    contract.request(["docker.service"], "daemon.json changed", path=str(tmp_path / "a"),
                     state_dir=state_dir)
    contract.request(["docker.service"], "fragment changed", path=str(tmp_path / "a"),
                     state_dir=state_dir)
    fake = FakeSystemd()
    result = restart.apply(restart_params(), False, fake, no_sleep, state_dir)
    assert result["restarted"] is True
    assert fake.commands().count("systemctl restart docker.service") == 1
    assert "systemctl daemon-reload" not in fake.commands()
    assert result["reasons"] == ["daemon.json changed", "fragment changed"]
    assert contract.load(state_dir) is None


def test_a_socket_dropin_reloads_then_restarts_socket_before_daemon(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    contract.request(["docker.socket", "docker.service"], "socket", path=str(tmp_path / "s"),
                     daemon_reload=True, state_dir=state_dir)
    fake = FakeSystemd()
    restart.apply(restart_params(), False, fake, no_sleep, state_dir)
    cmds = [c for c in fake.commands() if not c.startswith("systemctl show")]
    assert cmds == ["systemctl reset-failed docker.service docker.socket",
                    "systemctl daemon-reload", "systemctl restart docker.socket",
                    "systemctl restart docker.service"]


def test_refused_restart_restores_the_pre_run_file_and_names_the_cause(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    target = tmp_path / "daemon.json"
    target.write_text('{"debug": true}')
    contract.request(["docker.service"], f"{target} changed", path=str(target),
                     state_dir=state_dir)
    target.write_text('{"storage-driver": "no-such-driver"}')
    starts = iter([True, False])  # the restart is refused, the start on the old file works
    fake = FakeSystemd(refuse=lambda: next(starts))
    with pytest.raises(restart.RestartFailed) as failure:
        restart.apply(restart_params(), False, fake, no_sleep, state_dir)
    message = str(failure.value)
    assert target.read_text() == '{"debug": true}'
    assert "daemon.json was restored from the copy taken before this run" in message
    assert "no-such-driver" in message
    assert "Docker runs again with the previous settings." in message
    assert "systemctl reset-failed docker.service docker.socket" in fake.commands()
    assert failure.value.data["restored"] == [str(target)]
    assert contract.load(state_dir) is None


def test_rollback_that_does_not_bring_docker_back_says_so(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    contract.request(["docker.service"], "x", path=str(tmp_path / "f"), state_dir=state_dir)
    fake = FakeSystemd(refuse=lambda: True)
    with pytest.raises(restart.RestartFailed, match="did NOT start with the previous settings"):
        restart.apply(restart_params(), False, fake, no_sleep, state_dir)


def test_check_mode_reports_a_pending_or_requested_restart_and_runs_nothing(tmp_path: Path) -> None:
    fake = FakeSystemd()
    result = restart.apply(restart_params(requested=True), True, fake, no_sleep,
                           str(tmp_path / "none"))
    assert result["changed"] is True and result["restarted"] is True
    assert fake.calls == []


def test_request_records_without_restarting(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    fake = FakeSystemd()
    result = restart.apply(restart_params(request=["docker.socket"], reason="live socket"),
                           False, fake, no_sleep, state_dir)
    assert result["changed"] is True and fake.calls == []
    state = contract.load(state_dir)
    assert state is not None and state["units"] == ["docker.socket"]


def dropin_params(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    base = {"unit": "docker.socket", "name": "gpuhost-access.conf", "content": "[Socket]\n",
            "state": "present", "systemd_dir": str(tmp_path / "systemd")}
    base.update(overrides)
    return base


def test_dropin_write_records_reload_and_socket_restart_then_is_idempotent(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    result = dropin.apply(dropin_params(tmp_path), False, state_dir)
    path = tmp_path / "systemd" / "docker.socket.d" / "gpuhost-access.conf"
    assert result["changed"] is True and path.read_text() == "[Socket]\n"
    state = contract.load(state_dir)
    assert state is not None
    assert state["daemon_reload"] and state["units"] == ["docker.socket", "docker.service"]
    assert state["files"] == {str(path): ""}
    assert dropin.apply(dropin_params(tmp_path), False, state_dir)["changed"] is False


def test_dropin_absent_removes_and_check_mode_writes_nothing(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    dropin.apply(dropin_params(tmp_path), False, "")
    path = tmp_path / "systemd" / "docker.socket.d" / "gpuhost-access.conf"
    check = dropin.apply(dropin_params(tmp_path, state="absent"), True, state_dir)
    assert check["changed"] is True and path.exists() and contract.load(state_dir) is None
    dropin.apply(dropin_params(tmp_path, state="absent"), False, state_dir)
    assert not path.exists()
    state = contract.load(state_dir)
    assert state is not None and Path(state["files"][str(path)]).read_text() == "[Socket]\n"


@pytest.mark.parametrize("name", ["../evil.conf", "proxy", ".hidden.conf"])
def test_dropin_refuses_a_name_systemd_would_not_read(tmp_path: Path, name: str) -> None:
    with pytest.raises(dropin.DropinError, match="name="):
        dropin.apply(dropin_params(tmp_path, name=name), False, "")


def test_daemon_json_change_records_restart_with_the_pre_change_copy(tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    target = tmp_path / "daemon.json"
    target.write_text('{"debug": true}')
    params = {"path": str(target), "options": {"debug": False}, "absent": [], "backup": False,
              "validate": False, "exec_start": "", "dockerd": "/nonexistent"}
    result = ddj.apply(params, False, restart_state=state_dir)
    assert result["restart_requested"] is True
    state = contract.load(state_dir)
    assert state is not None and state["units"] == ["docker.service"]
    assert json.loads(Path(state["files"][str(target)]).read_text()) == {"debug": True}
    again = ddj.apply(params, False, restart_state=state_dir)
    assert again["changed"] is False and again["restart_requested"] is False


def run_main(module: Any, args: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """A module's main() in-process, with its arguments as Ansible passes them."""
    from ansible.module_utils import basic

    monkeypatch.setattr(basic, "_ANSIBLE_ARGS",
                        json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    # ansible-core 2.19 reads the serialization profile Ansible passes beside the arguments;
    # 2.17 (Python 3.10 controllers) has none.
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("check_mode", [False, True])
def test_writers_set_the_request_fact_whenever_they_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        check_mode: bool) -> None:
    """Not only in check mode: the docker_restart role skips its module when provision_host
    (gathered before the writers) says nothing is pending, unless this fact is set."""
    state_dir = str(tmp_path / "state")
    monkeypatch.setattr(dropin, "STATE_DIR", state_dir)
    monkeypatch.setattr(ddj, "STATE_DIR", state_dir)
    mode = {"_ansible_check_mode": check_mode}
    unit = {"unit": "docker.service", "name": "http-proxy.conf", "content": "[Service]\n",
            "systemd_dir": str(tmp_path / "systemd"), **mode}
    daemon = {"path": str(tmp_path / "daemon.json"), "options": {"debug": True},
              "validate": False, **mode}
    for module, args in ((dropin, unit), (ddj, daemon)):
        first = run_main(module, args, monkeypatch, capsys)
        assert first["changed"] is True, first
        assert first["ansible_facts"] == {contract.CHECK_MODE_FACT: True,
                                          contract.WRITTEN_FACT: True}
        if not check_mode:
            again = run_main(module, args, monkeypatch, capsys)
            assert again["changed"] is False and "ansible_facts" not in again
    assert (contract.load(state_dir) is None) is check_mode


def test_request_sets_the_fact_and_the_restart_resets_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(restart, "STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(restart, "apply", lambda *_: {"changed": True, "restarted": False})
    asked = run_main(restart, {"request": ["docker.socket"], "reason": "x"}, monkeypatch, capsys)
    assert asked["ansible_facts"] == {contract.CHECK_MODE_FACT: True}
    done = run_main(restart, {}, monkeypatch, capsys)
    assert done["ansible_facts"] == {contract.CHECK_MODE_FACT: False}


SHOW_FRESH = ("Id=docker.socket\nNeedDaemonReload=no\nDropInPaths=\n\n"
              "Id=docker.service\nNeedDaemonReload=no\nDropInPaths=\n")


class ShowingSystemd(FakeSystemd):
    """FakeSystemd whose `systemctl show -p Id,NeedDaemonReload,DropInPaths` prints SHOW."""

    def __init__(self, show: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show = show

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        if argv[:4] == ["systemctl", "show", "-p", "Id,NeedDaemonReload,DropInPaths"]:
            self.calls.append(argv)
            return 0, self.show, ""
        return super().__call__(argv)

    def plain(self) -> list[str]:
        return [c for c in self.commands() if not c.startswith("systemctl show")]


@pytest.mark.parametrize(("show", "on_disk", "reload"), [
    (SHOW_FRESH, [], False),
    (SHOW_FRESH.replace("NeedDaemonReload=no\nDropInPaths=\n",
                        "NeedDaemonReload=yes\nDropInPaths=\n", 1), [], True),
    # A drop-in on disk that systemd did not load (systemd 252 does not always flag it).
    (SHOW_FRESH, ["docker.service.d/http-proxy.conf"], True),
    ("Id=docker.socket\nNeedDaemonReload=no\nDropInPaths=\n\nId=docker.service\n"
     "NeedDaemonReload=no\nDropInPaths=SYSTEMD/docker.service.d/http-proxy.conf\n",
     ["docker.service.d/http-proxy.conf"], False),
])
def test_a_stopped_docker_is_reloaded_first_only_when_a_unit_changed_on_disk(
        tmp_path: Path, show: str, on_disk: list[str], reload: bool) -> None:
    systemd = tmp_path / "systemd"
    for name in on_disk:
        (systemd / name).parent.mkdir(parents=True, exist_ok=True)
        (systemd / name).write_text("[Service]\n")
    fake = ShowingSystemd(show.replace("SYSTEMD", str(systemd)), active=False)
    result = restart.apply(restart_params(), False, fake, no_sleep, str(tmp_path / "none"),
                           str(systemd))
    assert result["restarted"] is True
    expected = ["systemctl daemon-reload"] if reload else []
    assert fake.plain() == ["systemctl is-active --quiet docker.service", *expected,
                            "systemctl start docker.service"]


def test_a_pending_restart_without_a_reload_reloads_for_a_unit_changed_on_disk(
        tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    contract.request(["docker.service"], "daemon.json changed", path=str(tmp_path / "a"),
                     state_dir=state_dir)
    fake = ShowingSystemd(SHOW_FRESH.replace("NeedDaemonReload=no", "NeedDaemonReload=yes"))
    restart.apply(restart_params(), False, fake, no_sleep, state_dir, str(tmp_path / "systemd"))
    assert fake.plain() == ["systemctl reset-failed docker.service docker.socket",
                            "systemctl daemon-reload", "systemctl restart docker.service"]


def test_running_docker_with_nothing_pending_gets_no_reload(tmp_path: Path) -> None:
    fake = ShowingSystemd(SHOW_FRESH.replace("NeedDaemonReload=no", "NeedDaemonReload=yes"))
    restart.apply(restart_params(), False, fake, no_sleep, str(tmp_path / "none"))
    assert fake.commands() == ["systemctl is-active --quiet docker.service"]


def test_a_write_that_asks_no_restart_marks_the_files_written_but_asks_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """docker_daemon_json with restart=false (a file the system daemon does not read): the fact
    copies are stale, but no restart is asked, and no earlier request is reset."""
    args = {"path": str(tmp_path / "daemon.json"), "options": {"debug": True},
            "validate": False, "restart": False}
    result = run_main(ddj, args, monkeypatch, capsys)
    assert result["ansible_facts"] == {contract.WRITTEN_FACT: True}


class SocketRefusingSystemd(FakeSystemd):
    """Stand-in for a host whose docker.socket drop-in names a group that does not exist:
    `systemctl restart docker.socket` fails until the drop-in is gone, and systemd logs the
    cause under docker.socket only (docker.service's journal just says a dependency failed).
    """

    def __init__(self, dropin: Path) -> None:
        super().__init__()
        self.dropin = dropin

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        if argv == ["systemctl", "restart", "docker.socket"] and self.dropin.exists():
            self.calls.append(argv)
            self.up = False
            return 1, "", "Job for docker.socket failed."
        if argv[:1] == ["journalctl"]:
            self.calls.append(argv)
            units = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--unit"]
            lines = ["Dependency failed for docker.service."]
            if "docker.socket" in units:
                lines.insert(0, "docker.socket: Failed to resolve group nosuchgroup: "
                                "No such process")
            return 0, "\n".join(lines) + "\n", ""
        return super().__call__(argv)


def test_failed_socket_restart_reads_the_socket_journal_and_rolls_the_dropin_back(
        tmp_path: Path) -> None:
    state_dir = str(tmp_path / "state")
    dropin_file = tmp_path / "gpuhost-access.conf"
    contract.request(["docker.socket", "docker.service"], "socket drop-in changed",
                     path=str(dropin_file), daemon_reload=True, state_dir=state_dir)
    dropin_file.write_text("[Socket]\nSocketGroup=nosuchgroup\n")
    fake = SocketRefusingSystemd(dropin_file)
    with pytest.raises(restart.RestartFailed) as failure:
        restart.apply(restart_params(), False, fake, no_sleep, state_dir)
    message = str(failure.value)
    journal_calls = [c for c in fake.commands() if c.startswith("journalctl")]
    assert len(journal_calls) == 1
    assert "--unit docker.socket --unit docker.service" in journal_calls[0]
    assert "Failed to resolve group nosuchgroup" in message
    assert "journalctl -u docker.socket -u docker.service" in message
    assert not dropin_file.exists()
    assert "Docker runs again with the previous settings." in message
