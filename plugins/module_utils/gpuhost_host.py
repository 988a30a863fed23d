# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Running commands on the host for the gpuhost modules: one runner, one timeout rule.

The timeout rule: every command runs under coreutils `timeout -k KILL_AFTER SECONDS` when the
host has `timeout` (found on the host, or under provision_host_facts' `root`); SECONDS is the
module's `command_timeout`. Exit 124 (TERM was enough) or 137 (KILL was needed after
KILL_AFTER more seconds) means the command ran out of time, and the result says so in its
stderr. A host without `timeout` runs commands unbounded. A hung nvidia-smi or docker must end
as a readable result, never as a hung Ansible run, so no command is exempt.

Commands run with LC_ALL=C (the parsers read English output) from / (the module's temporary
directory may be unreadable to the user a command runs as). A command that cannot be started
at all (missing, not executable) gives exit 127 and the reason, never an exception: a broken
tool must not fail a module that only reports.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from ansible.module_utils.basic import AnsibleModule

KILL_AFTER = 5
TIMED_OUT = (124, 137)
CANNOT_RUN = 127

Exec = Callable[[list[str]], tuple[int, str, str]]
# Starts argv and returns a function that waits for it: (rc, stdout, stderr).
Spawn = Callable[[list[str]], Callable[[], tuple[int, str, str]]]


@dataclass(frozen=True)
class Cmd:
    """One finished command: what ran and what it said."""

    argv: tuple[str, ...]
    rc: int
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def text(self) -> str:
        """Everything it printed (for diagnosis)."""
        return "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)

    @property
    def evidence_output(self) -> str:
        # stdout only on success: pull progress and other stderr chatter would make a report
        # differ between runs that mean the same.
        return self.stdout.strip() if self.ok else self.text


def bounded_argv(argv: list[str], timeout: int, timeout_bin: str | None) -> list[str]:
    """argv under the timeout rule (unchanged when the host has no `timeout`)."""
    if not timeout_bin:
        return list(argv)
    return [timeout_bin, "-k", str(KILL_AFTER), str(timeout), *argv]


class CommandRunner:
    """Runs argv lists under the timeout rule and returns Cmd results, never raising.

    `spawn` (module_runner gives it) starts a command without waiting for it; `start` then runs
    a slow command (a container) while the caller runs others. Without it, `start` waits for
    nothing and runs the command when its result is asked for, through `execute`.
    """

    def __init__(self, execute: Exec, timeout: int, timeout_bin: str | None,
                 spawn: Spawn | None = None) -> None:
        self.execute = execute
        self.timeout = timeout
        self.timeout_bin = timeout_bin
        self.spawn = spawn

    def _result(self, argv: list[str], rc: int, out: str, err: str) -> Cmd:
        if self.timeout_bin and rc in TIMED_OUT:
            err = f"{err}\ntimed out after {self.timeout} s".strip()
            return Cmd(tuple(argv), rc, out, err, timed_out=True)
        return Cmd(tuple(argv), rc, out, err)

    def __call__(self, argv: list[str]) -> Cmd:
        try:
            rc, out, err = self.execute(bounded_argv(argv, self.timeout, self.timeout_bin))
        except OSError as exc:
            return Cmd(tuple(argv), CANNOT_RUN, "", str(exc))
        return self._result(argv, rc, out, err)

    def start(self, argv: list[str]) -> Callable[[], Cmd]:
        """Start argv now (with `spawn`); the function returned waits for it, once."""
        done: list[Cmd] = []
        waiting: Callable[[], tuple[int, str, str]] | None = None
        if self.spawn:
            try:
                waiting = self.spawn(bounded_argv(argv, self.timeout, self.timeout_bin))
            except OSError as exc:
                done.append(Cmd(tuple(argv), CANNOT_RUN, "", str(exc)))

        def wait() -> Cmd:
            if not done:
                if waiting is None:
                    done.append(self(argv))
                else:
                    done.append(self._result(argv, *waiting()))
            return done[0]

        return wait


def module_executor(module: AnsibleModule) -> Exec:
    """An Exec that runs through AnsibleModule.run_command with the rule's environment."""

    def execute(argv: list[str]) -> tuple[int, str, str]:
        rc, out, err = module.run_command(
            argv, cwd="/", environ_update={"LC_ALL": "C"}, handle_exceptions=False
        )
        return rc, out, err

    return execute


def process_spawner(argv: list[str]) -> Callable[[], tuple[int, str, str]]:
    """A Spawn with run_command's environment (LC_ALL=C, from /, no stdin): a child process,
    not a thread, so nothing forks from a threaded module. Its output is small (a container's
    few lines), well within the pipes' buffers while the caller runs other commands."""
    import os
    import subprocess

    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd="/", env={**os.environ, "LC_ALL": "C"},
                            text=True, errors="replace")

    def wait() -> tuple[int, str, str]:
        out, err = proc.communicate()
        return proc.returncode, out, err

    return wait


def module_runner(module: AnsibleModule, timeout: int) -> CommandRunner:
    """The one runner a module uses: AnsibleModule's run_command under the timeout rule."""
    return CommandRunner(module_executor(module), timeout, module.get_bin_path("timeout"),
                         process_spawner)


def subprocess_executor(argv: list[str]) -> tuple[int, str, str]:
    """An Exec for code that runs without an AnsibleModule (unit tests), same environment."""
    import os
    import subprocess

    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/",
                          env={**os.environ, "LC_ALL": "C"})
    return proc.returncode, proc.stdout, proc.stderr


def tuple_runner(runner: CommandRunner) -> Exec:
    """The runner for modules that decide on (rc, stdout, stderr), with the same rule."""

    def run(argv: list[str]) -> tuple[int, str, str]:
        cmd = runner(argv)
        return cmd.rc, cmd.stdout, cmd.stderr

    return run


def bounded(execute: Exec, timeout: int) -> Exec:
    """`execute` under the timeout rule, `timeout` found on this host's PATH."""
    import shutil

    return tuple_runner(CommandRunner(execute, timeout, shutil.which("timeout")))
