"""Run one playbook through ansible-runner; everything host-side stays in Ansible."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
# How often (s) ansible-runner polls the cancel callback: Ctrl-C latency.
_POLL_S = 0.25


@dataclass
class RunSpec:
    """What to run; mirrors the ansible-playbook options provision.py exposes."""

    playbook: Path
    inventory: str
    limit: str | None = None
    tags: str | None = None
    skip_tags: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    forks: int | None = None
    verbosity: int = 0
    check: bool = False
    diff: bool = False


@dataclass
class RunOutcome:
    status: str  # ansible-runner's: successful | failed | canceled | timeout | error
    rc: int | None
    log_tail: str = ""


def environment() -> dict[str, str]:
    """Variables for ansible-playbook: this venv's tools first, the project's ansible.cfg."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "ANSIBLE_CONFIG": str(PROJECT_DIR / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        # A broken inventory must fail the run, not quietly leave it with no hosts.
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
    }


def cmdline(spec: RunSpec, extra_vars_file: Path | None) -> str:
    """ansible-playbook options that ansible_runner.run has no keyword for."""
    args = []
    if spec.check:
        args.append("--check")
    if spec.diff:
        args.append("--diff")
    if extra_vars_file:
        args += ["-e", f"@{extra_vars_file}"]
    return shlex.join(args)


def runner_kwargs(spec: RunSpec, private_dir: Path) -> dict[str, Any]:
    """Keyword arguments for ansible_runner.run (no handlers)."""
    vars_file = None
    if spec.extra_vars:
        vars_file = private_dir / "extra_vars.json"
        vars_file.write_text(json.dumps(spec.extra_vars), encoding="utf-8")
        vars_file.chmod(0o600)
    kwargs: dict[str, Any] = {
        "private_data_dir": str(private_dir),
        "project_dir": str(PROJECT_DIR),
        "artifact_dir": str(private_dir / "artifacts"),
        "ident": "run",
        "playbook": str(spec.playbook),
        "inventory": spec.inventory,
        "envvars": environment(),
        "quiet": True,
        "suppress_env_files": True,
        "settings": {"pexpect_timeout": _POLL_S},
    }
    optional = {"limit": spec.limit, "tags": spec.tags, "skip_tags": spec.skip_tags,
                "forks": spec.forks, "verbosity": spec.verbosity or None,
                "cmdline": cmdline(spec, vars_file) or None}
    kwargs.update({k: v for k, v in optional.items() if v is not None})
    return kwargs


def run_playbook(
    spec: RunSpec,
    on_event: Callable[[dict[str, Any]], None],
    cancelled: Callable[[], bool],
    log_path: Path | None = None,
) -> RunOutcome:
    """Run the playbook in a fresh private data dir; copy Ansible's output to log_path."""
    import ansible_runner

    def handler(event: dict[str, Any]) -> bool:
        on_event(event)
        return True  # False would make ansible-runner drop the event

    with tempfile.TemporaryDirectory(prefix="provision-") as tmp:
        private_dir = Path(tmp)
        result = ansible_runner.run(
            **runner_kwargs(spec, private_dir),
            event_handler=handler,
            cancel_callback=cancelled,
        )
        stdout = private_dir / "artifacts" / "run" / "stdout"
        tail = _tail(stdout)
        if log_path and stdout.exists():
            log_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(stdout, log_path)
    return RunOutcome(status=str(result.status), rc=result.rc, log_tail=tail)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
