"""Exit codes of provision.py, and how a finished run maps onto one.

| code | status       | meaning                                                          |
|------|--------------|------------------------------------------------------------------|
| 0    | ok           | every host ran clean                                             |
| 1    | error        | internal or Ansible error (syntax error, missing playbook, crash) |
| 2    | failed       | at least one host had a failed task                              |
| 3    | unreachable  | at least one host was unreachable, and none failed               |
| 4    | (no report)  | invalid input: nothing was run                                   |
| 130  | interrupted  | stopped by Ctrl-C / SIGTERM; a partial report is still written   |

Failed hosts take precedence over unreachable ones: a run with both exits 2.
A failed check fails its host only through Ansible: gpu_verify fails the host when a check
that gpu_verify_required names for it did not pass; other failed checks show in the matrix
and the report but leave the exit code alone (the policy lives in the role, not here).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; the table is in the module docstring and in `--help`."""

    OK = 0
    ERROR = 1
    FAILED = 2
    UNREACHABLE = 3
    INVALID_INPUT = 4
    INTERRUPTED = 130


STATUS = {
    ExitCode.OK: "ok",
    ExitCode.ERROR: "error",
    ExitCode.FAILED: "failed",
    ExitCode.UNREACHABLE: "unreachable",
    ExitCode.INVALID_INPUT: "invalid_input",
    ExitCode.INTERRUPTED: "interrupted",
}

EPILOG = """\
exit codes:
  0    ok: every host ran clean
  1    internal or Ansible error (syntax error, missing playbook, crash)
  2    at least one host failed a task (verify: a required check failed)
  3    at least one host was unreachable, and none failed
  4    invalid input (bad option, missing inventory, --limit matching nothing): nothing ran
  130  interrupted (Ctrl-C); a partial report is still written
"""


class InputError(Exception):
    """Bad user input: one line that names the input and the fix; nothing has run."""


def decide(
    hosts: dict[str, dict],
    runner_status: str,
    interrupted: bool,
) -> ExitCode:
    """Pick the exit code for a finished run from the per-host report entries."""
    if interrupted or runner_status == "canceled":
        return ExitCode.INTERRUPTED
    if any(h["stats"].get("failed", 0) for h in hosts.values()):
        return ExitCode.FAILED
    if any(h["stats"].get("unreachable", 0) for h in hosts.values()):
        return ExitCode.UNREACHABLE
    if runner_status != "successful":
        return ExitCode.ERROR
    return ExitCode.OK

