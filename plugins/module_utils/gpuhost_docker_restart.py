# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""The Docker restart contract: one pending restart per host, kept on the host itself.

Every module that changes something Docker reads at start (daemon.json, a docker.service or
docker.socket drop-in) calls `request()` *before* it replaces the file. The first request for a
file copies the file as it is (or notes that it is absent); later requests in the same run, or
in a later run while the restart is still pending, keep that first copy, so a rollback always
returns to the settings Docker last ran with. The `docker_restart` module reads the state once,
restarts Docker once for everything requested, and restores every copied file when Docker does
not come back.

The state lives on the host, not in Ansible's memory, because handlers end with their play:
site.yml runs each role in its own play, and a run that fails before the restart must still
restart (or roll back) on the next run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TypedDict

STATE_DIR = "/var/lib/gpuhost/docker-restart"
STATE_FILE = "pending.json"
# Every request (and, in check mode, where nothing is written on the host, every would-be
# request) also travels as a host fact from the writer to docker_restart, which resets it:
# the docker_restart role skips its module only when this fact is unset and provision_host
# (gathered before the writers ran) says nothing is pending and Docker is active.
CHECK_MODE_FACT = "gpuhost_docker_restart_requested"
# Set with CHECK_MODE_FACT by every write (or would-be write in check mode) of a file Docker
# reads, and reset only by provision_host_facts: while it is true, the file contents in
# provision_host (gathered before that write) are stale, so roles run the writer instead of
# comparing with them. docker_restart does not reset it: a restart does not refresh the fact.
WRITTEN_FACT = "gpuhost_docker_config_written"
# Stopping docker.socket stops docker.service (Requires=), so the socket goes first.
UNIT_ORDER = ("docker.socket", "docker.service")


class PendingRestart(TypedDict):
    """What the next restart must do, and what a rollback restores."""

    units: list[str]          # units to restart, in UNIT_ORDER
    daemon_reload: bool       # a unit file or drop-in changed
    files: dict[str, str]     # changed path -> copy taken before the first change ('' = absent)
    reasons: list[str]        # one line per request, for the run's output


class RestartStateError(Exception):
    """The state directory or a copy could not be read or written."""


def empty() -> PendingRestart:
    return {"units": [], "daemon_reload": False, "files": {}, "reasons": []}


def load(state_dir: str = STATE_DIR) -> PendingRestart | None:
    """The pending restart, or None when nothing is pending."""
    path = Path(state_dir, STATE_FILE)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RestartStateError(f"{path}: cannot read the pending Docker restart: {err}") from err
    state = empty()
    state["units"] = [u for u in UNIT_ORDER if u in data.get("units", [])]
    state["daemon_reload"] = bool(data.get("daemon_reload", False))
    state["files"] = {str(k): str(v) for k, v in dict(data.get("files", {})).items()}
    state["reasons"] = [str(r) for r in data.get("reasons", [])]
    return state


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    Path(tmp).replace(path)


def _snapshot(state_dir: Path, path: str, index: int) -> str:
    """Copy `path` into the state dir before its first change; '' when it does not exist."""
    if not os.path.lexists(path):
        return ""
    copy = state_dir / f"before-{index}"
    shutil.copy2(path, copy, follow_symlinks=False)
    return str(copy)


def request(
    units: list[str],
    reason: str,
    path: str = "",
    daemon_reload: bool = False,
    state_dir: str = STATE_DIR,
) -> PendingRestart:
    """Record that `units` must restart; copy `path` first if this is its first change.

    Call it before replacing `path`, so the copy is the file as Docker last read it.
    """
    unknown = [u for u in units if u not in UNIT_ORDER]
    if unknown:
        raise RestartStateError(f"cannot restart {', '.join(unknown)}: only {UNIT_ORDER}")
    directory = Path(state_dir)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        state = load(state_dir) or empty()
        if path and path not in state["files"]:
            state["files"][path] = _snapshot(directory, path, len(state["files"]))
        state["units"] = [u for u in UNIT_ORDER if u in state["units"] or u in units]
        state["daemon_reload"] = state["daemon_reload"] or daemon_reload
        if reason not in state["reasons"]:
            state["reasons"].append(reason)
        _write_atomic(directory / STATE_FILE, json.dumps(state, indent=2, sort_keys=True))
    except OSError as err:
        raise RestartStateError(f"{state_dir}: cannot record the Docker restart: {err}") from err
    return state


def restore(state: PendingRestart) -> list[str]:
    """Put every changed file back as it was before its first change; the paths restored."""
    restored = []
    for path, copy in state["files"].items():
        target = Path(path)
        if copy:
            staged = target.with_name(f".{target.name}.restore")
            shutil.copy2(copy, staged, follow_symlinks=False)
            staged.replace(target)
        elif os.path.lexists(path):
            target.unlink()
        restored.append(path)
    return restored


def clear(state_dir: str = STATE_DIR) -> None:
    """Forget the pending restart and its copies (after a restart or a rollback)."""
    shutil.rmtree(state_dir, ignore_errors=True)


def describe_restore(path: str, copy: str) -> str:
    """One line saying how `path` was put back, for the failure message."""
    if copy:
        return f"{path} was restored from the copy taken before this run changed it"
    return f"{path} did not exist before this run and was removed"


def check_mode_facts(requested: bool) -> dict[str, bool]:
    """ansible_facts that tell docker_restart a writer changed (in check mode: would have)."""
    return {CHECK_MODE_FACT: requested}


def writer_facts(restart_requested: bool) -> dict[str, bool]:
    """ansible_facts of a writer that changed (in check mode: would change) a file.

    Never a false CHECK_MODE_FACT: that would hide an earlier writer's request.
    """
    facts = {WRITTEN_FACT: True}
    if restart_requested:
        facts[CHECK_MODE_FACT] = True
    return facts
