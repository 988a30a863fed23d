#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Restart Docker once for everything this run changed; roll back if it does not come back."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_restart
short_description: The one Docker restart of a run, with rollback of the files that caused it
description:
  - Reads the pending restart that C(docker_daemon_json), C(docker_unit_dropin) (or a O(request))
    recorded on the host, in one look. Nothing pending and Docker running is no change.
  - Otherwise runs C(systemctl daemon-reload) when a unit file changed, restarts docker.socket
    when its drop-in changed, restarts docker.service once, and waits until the Docker API answers.
  - When Docker does not come back it reads why from the journal, puts every changed file back as
    it was before its first change (the copy the writer took), starts Docker with those settings
    and fails, naming the cause, what was restored and whether Docker runs again.
  - A pending restart survives a failed run on the host, so the next run restarts (or rolls back).
  - With nothing pending, a stopped docker.service is started (so it also ensures Docker runs).
  - Before it starts or restarts Docker it runs C(systemctl daemon-reload) also when systemd says
    a unit changed on disk (C(NeedDaemonReload)) or when the drop-ins in
    /etc/systemd/system/docker.service.d and docker.socket.d are not the ones systemd loaded
    (systemd 252 on Debian 12 does not always flag a new drop-in), so a unit edited by hand or by
    a failed run starts as it is on disk. A running Docker with nothing pending gets no reload;
    a reload can drop GPUs from running containers under the systemd cgroup driver.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  request:
    description:
      - Record that these units must restart, without changing a file (for example a live socket
        whose owner differs from its unit), and return; the restart happens in the restart step.
    type: list
    elements: str
    default: []
  reason:
    description: Why, for the run's output (with O(request)).
    type: str
    default: ""
  requested:
    description:
      - In check mode, a writer reported a change it would have made (a host fact), so report
        the restart that would follow.
    type: bool
    default: false
  api_timeout:
    description: Seconds to wait for the Docker API after a (re)start.
    type: int
    default: 60
notes:
  - Supports check mode (reports the restart that would happen).
"""

EXAMPLES = r"""
- name: Restart Docker once for this run's changes
  docker_restart:
    requested: "{{ gpuhost_docker_restart_requested | default(false) }}"
"""

RETURN = r"""
restarted:
  description: Docker was (or in check mode would be) restarted or started.
  returned: always
  type: bool
reasons:
  description: The changes the restart was for.
  returned: always
  type: list
  elements: str
restored:
  description: Files put back by a rollback.
  returned: on rollback
  type: list
  elements: str
journal:
  description: >-
    The journal lines since the failed restart of docker.service and every other unit the
    restart touched (docker.socket after a socket drop-in), last 30.
  returned: on rollback
  type: str
"""

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder).
try:
    from ansible.module_utils.gpuhost_docker_restart import (
        STATE_DIR,
        UNIT_ORDER,
        PendingRestart,
        RestartStateError,
        check_mode_facts,
        clear,
        describe_restore,
        load,
        request,
        restore,
    )
    from ansible.module_utils.gpuhost_host import bounded, module_executor, subprocess_executor
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_docker_restart import (
        STATE_DIR,
        UNIT_ORDER,
        PendingRestart,
        RestartStateError,
        check_mode_facts,
        clear,
        describe_restore,
        load,
        request,
        restore,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        bounded,
        module_executor,
        subprocess_executor,
    )

Runner = Callable[[list[str]], tuple[int, str, str]]
Sleeper = Callable[[float], None]
JOURNAL_LINES = 30
API_VERSION = ["docker", "version", "--format", "{{.Server.Version}}"]
SYSTEMD_DIR = "/etc/systemd/system"


class RestartFailed(Exception):
    """Docker did not come back; the message says what was done about it."""

    def __init__(self, msg: str, **data: Any) -> None:
        super().__init__(msg)
        self.data = data


# systemctl restart waits for the daemon to stop its containers and start again.
COMMAND_TIMEOUT = 180
run_command = bounded(subprocess_executor, COMMAND_TIMEOUT)


def wait_for_api(run: Runner, timeout: int, sleep: Sleeper = time.sleep) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if run(API_VERSION)[0] == 0:
            return True
        if time.monotonic() >= deadline:
            return False
        sleep(1)


def socket_loaded(run: Runner) -> bool:
    rc, out, _ = run(["systemctl", "show", "--property=LoadState", "--value", "docker.socket"])
    return rc == 0 and out.strip() == "loaded"


def parse_show(text: str) -> dict[str, dict[str, str]]:
    """`systemctl show -p Id,... UNIT...` blocks -> Id -> properties."""
    units = {}
    for block in text.strip().split("\n\n"):
        props = dict(line.partition("=")[::2] for line in block.splitlines() if "=" in line)
        if props.get("Id"):
            units[props["Id"]] = props
    return units


def dropins_on_disk(systemd_dir: str, unit: str) -> set[str]:
    """The .conf drop-ins systemd would load from UNIT.d (a link to /dev/null masks one)."""
    found = set()
    for path in Path(systemd_dir, f"{unit}.d").glob("*.conf"):
        if not (path.is_symlink() and os.path.realpath(path) == os.devnull):
            found.add(str(path))
    return found


def stale_units(run: Runner, systemd_dir: str = SYSTEMD_DIR) -> list[str]:
    """Units whose loaded definition is not the one on disk: systemd says so
    (NeedDaemonReload), or the drop-ins on disk differ from those it loaded."""
    rc, out, _ = run(["systemctl", "show", "-p", "Id,NeedDaemonReload,DropInPaths", *UNIT_ORDER])
    if rc != 0:
        return []
    stale = []
    for unit, props in parse_show(out).items():
        prefix = f"{systemd_dir.rstrip('/')}/{unit}.d/"
        loaded = {path for path in props.get("DropInPaths", "").split() if path.startswith(prefix)}
        if props.get("NeedDaemonReload") == "yes" or loaded != dropins_on_disk(systemd_dir, unit):
            stale.append(unit)
    return stale


def journal_units(state: PendingRestart) -> list[str]:
    """docker.service plus every unit the restart touched, each once, in the state's order.

    A socket drop-in that systemd refuses (say a SocketGroup that does not exist) fails
    docker.socket, and docker.service only logs that a dependency failed: the cause is in
    docker.socket's journal, so that one is read too.
    """
    units = list(state["units"])
    return [*units, "docker.service"] if "docker.service" not in units else units


def journal_since(run: Runner, since: float, units: list[str] | None = None) -> str:
    unit_args = [arg for unit in (units or ["docker.service"]) for arg in ("--unit", unit)]
    _, out, err = run(["journalctl", *unit_args, "--since", f"@{int(since)}",
                       "--no-pager", "--output", "cat"])
    lines = (out or err).strip().splitlines()
    return "\n".join(lines[-JOURNAL_LINES:])


def restart_units(run: Runner, state: PendingRestart,
                  systemd_dir: str = SYSTEMD_DIR) -> tuple[bool, str]:
    """Reload and restart as the state asks; (came back, why not)."""
    # docker.service allows 3 starts a minute; runs in quick succession (a re-run right after a
    # fix) would hit that limit and fail for no reason of their own. A refused configuration
    # still fails the restart itself.
    run(["systemctl", "reset-failed", "docker.service", "docker.socket"])
    if state["daemon_reload"] or stale_units(run, systemd_dir):
        rc, _, err = run(["systemctl", "daemon-reload"])
        if rc != 0:
            return False, f"systemctl daemon-reload failed: {err.strip()}"
    if "docker.socket" in state["units"] and socket_loaded(run):
        rc, _, err = run(["systemctl", "restart", "docker.socket"])
        if rc != 0:
            return False, f"systemctl restart docker.socket failed: {err.strip()}"
    rc, _, err = run(["systemctl", "restart", "docker.service"])
    if rc != 0:
        return False, f"systemctl restart docker.service failed: {err.strip()}"
    return True, ""


def roll_back(run: Runner, state: PendingRestart, timeout: int,
              sleep: Sleeper) -> tuple[list[str], bool]:
    """Put the files back and start Docker on them; (restored paths, Docker runs)."""
    restored = restore(state)
    run(["systemctl", "daemon-reload"])
    # systemd refuses to start a unit that hit its start limit until the failure is reset.
    run(["systemctl", "reset-failed", "docker.service", "docker.socket"])
    if socket_loaded(run):
        run(["systemctl", "start", "docker.socket"])
    rc, _, _ = run(["systemctl", "start", "docker.service"])
    return restored, rc == 0 and wait_for_api(run, timeout, sleep)


def failure_message(state: PendingRestart, why: str, journal: str, restored: list[str],
                    runs_again: bool) -> str:
    lines = [f"Docker did not come back after the restart for: {'; '.join(state['reasons'])}."]
    lines += [describe_restore(path, state["files"][path]) + "." for path in restored]
    lines.append("Docker runs again with the previous settings." if runs_again else
                 "Docker did NOT start with the previous settings either: "
                 "see journalctl -u docker.")
    if why:
        lines.append(why)
    units = " ".join(f"-u {unit}" for unit in journal_units(state))
    lines.append(f"journalctl {units} (since the restart):\n{journal or '(no lines)'}")
    return "\n".join(lines)


def apply_pending(run: Runner, state: PendingRestart, timeout: int,
                  sleep: Sleeper = time.sleep, state_dir: str = STATE_DIR,
                  systemd_dir: str = SYSTEMD_DIR) -> dict[str, Any]:
    started = time.time()
    came_back, why = restart_units(run, state, systemd_dir)
    if came_back and wait_for_api(run, timeout, sleep):
        clear(state_dir)
        return {"changed": True, "restarted": True, "reasons": state["reasons"],
                "msg": f"Docker restarted once for: {'; '.join(state['reasons'])}"}
    if came_back:
        why = f"the Docker API did not answer within {timeout} s"
    journal = journal_since(run, started, journal_units(state))
    restored, runs_again = roll_back(run, state, timeout, sleep)
    clear(state_dir)
    raise RestartFailed(failure_message(state, why, journal, restored, runs_again),
                        restored=restored, journal=journal, reasons=state["reasons"])


def ensure_running(run: Runner, timeout: int, check_mode: bool,
                   sleep: Sleeper = time.sleep, systemd_dir: str = SYSTEMD_DIR) -> dict[str, Any]:
    """Nothing pending: start Docker only if it is not running."""
    rc, _, _ = run(["systemctl", "is-active", "--quiet", "docker.service"])
    if rc == 0:
        return {"changed": False, "restarted": False, "reasons": [], "msg": "no restart pending"}
    result = {"changed": True, "restarted": True, "reasons": ["docker.service was not running"],
              "msg": "Docker was not running: started"}
    if check_mode:
        return result
    stale = stale_units(run, systemd_dir)
    if stale:
        # A unit changed on disk (by hand, or a run that failed before its restart) would
        # start as systemd loaded it, not as it is on disk.
        rc, _, err = run(["systemctl", "daemon-reload"])
        if rc != 0:
            raise RestartFailed(f"Docker was not running, and systemctl daemon-reload for "
                                f"{', '.join(stale)} (changed on disk) failed: {err.strip()}")
        result["reasons"].append(f"{', '.join(stale)} changed on disk: reloaded before the start")
    started = time.time()
    rc, _, err = run(["systemctl", "start", "docker.service"])
    if rc != 0 or not wait_for_api(run, timeout, sleep):
        raise RestartFailed(
            f"Docker was not running and does not start: {err.strip()}\n"
            f"journalctl -u docker:\n{journal_since(run, started)}"
        )
    return result


def apply(params: dict[str, Any], check_mode: bool, run: Runner = run_command,
          sleep: Sleeper = time.sleep, state_dir: str = STATE_DIR,
          systemd_dir: str = SYSTEMD_DIR) -> dict[str, Any]:
    if params["request"]:
        if check_mode:
            return {"changed": True, "restarted": False, "reasons": [params["reason"]]}
        state = request(params["request"], params["reason"] or "requested", state_dir=state_dir)
        return {"changed": True, "restarted": False, "reasons": state["reasons"]}
    state = load(state_dir)
    if check_mode and (state or params["requested"]):
        reasons = state["reasons"] if state else ["changes this run would make"]
        return {"changed": True, "restarted": True, "reasons": reasons,
                "msg": f"Docker would restart once for: {'; '.join(reasons)}"}
    if state is None:
        return ensure_running(run, params["api_timeout"], check_mode, sleep, systemd_dir)
    return apply_pending(run, state, params["api_timeout"], sleep, state_dir, systemd_dir)


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={
            "request": {"type": "list", "elements": "str", "default": []},
            "reason": {"type": "str", "default": ""},
            "requested": {"type": "bool", "default": False},
            "api_timeout": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    # A request carries itself to the restart step as a fact (so the docker_restart role does
    # not skip the restart on a provision_host gathered before it); the restart step resets
    # that fact, so a later run does not see it in the fact cache.
    facts = {"ansible_facts": check_mode_facts(bool(module.params["request"]))}
    if module.params["api_timeout"] <= 0:
        # 0 would count every restart as Docker not coming back, and roll it back.
        module.fail_json(msg=f"api_timeout is {module.params['api_timeout']}: it must be a "
                             "number of seconds greater than 0 (docker_restart_api_timeout)",
                         **facts)
    try:
        result = apply(module.params, module.check_mode,
                       bounded(module_executor(module), COMMAND_TIMEOUT))
    except RestartStateError as err:
        module.fail_json(msg=str(err), **facts)
    except RestartFailed as err:
        module.fail_json(msg=str(err), **err.data, **facts)
    module.exit_json(**result, **facts)


if __name__ == "__main__":
    main()
