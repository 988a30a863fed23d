"""Exit codes of provision.py, and how a finished run maps onto one.

The meaning of each code is written once, in MEANING below; `--help` prints it (EPILOG).
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

MEANING = {
    ExitCode.OK: "ok: every host ran clean",
    ExitCode.ERROR: "internal or Ansible error (syntax error, missing playbook, crash)",
    ExitCode.FAILED: "at least one host failed a task (verify: a required check failed)",
    ExitCode.UNREACHABLE: "at least one host was unreachable, and none failed",
    ExitCode.INVALID_INPUT: "invalid input (bad option, missing, unparsable or empty inventory,"
    " --limit or --tags selecting nothing, unreadable or mistyped -e value): nothing ran,"
    " no report",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C or SIGTERM); a partial report is still written",
}

EPILOG = "exit codes:\n" + "".join(f"  {int(code):<4} {text}\n" for code, text in MEANING.items())


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

