"""The JSON report every provision.py run writes (default `artifacts/<timestamp>/report.json`).

Schema 1 (other tools, the HTML renderer included, rely on it; bump `schema` on any change
that removes or renames a key)::

    {
      "schema": 1,
      "command": "facts" | "plan" | "apply" | "verify",
      "playbook": "playbooks/site.yml",          # relative to the project root
      "inventory": "/abs/path/or/inline,list",
      "limit": "pattern" | null,
      "started": "2026-11-29T04:30:00+00:00",   # ISO 8601, UTC
      "finished": "2026-11-29T04:30:42+00:00",
      "duration_s": 42.1,
      "exit_code": 0,                            # see provisionlib.exitcodes
      "status": "ok" | "failed" | "unreachable" | "interrupted" | "error",
      "message": "why the run errored" | null,
      "artifacts_dir": "/abs/artifacts/20261129T043000Z",
      "hosts": {
        "<inventory hostname>": {
          "stats": {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 0},
          "facts": {...},       # the provision_host fact from host_facts ({} if not run)
          "checks": [           # gpu_verify_results from gpu_verify ([] if not run)
            {"name": "...", "status": "pass" | "fail" | "skip", "reason": "...",
             "evidence": {"command": "...", "output": "..."}}
          ],
          "failures": [{"task": "...", "message": "..."}],   # failed and unreachable tasks
          "changes": [          # tasks that changed (plan: would change)
            {"task": "...", "items": ["loop item", ...], "diff": "unified diff text"}
          ],                    # "items" and "diff" only where Ansible gave them
          "warnings": ["..."]   # warnings that modules and roles returned
        }
      }
    }

Stats follow Ansible's recap (`playbook_on_stats`) when the run got that far; an interrupted
run has counts from the events seen so far. Like the recap, `ok` includes changed tasks.

The report decides its own exit code (exitcodes.decide over its hosts and how the run ended);
provision.py exits with report["exit_code"], so the JSON and the process never disagree.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from provisionlib.events import RunState
from provisionlib.exitcodes import STATUS, ExitCode, decide
from provisionlib.runner import RunOutcome

SCHEMA = 1


def build_report(
    *,
    meta: dict[str, Any],
    state: RunState,
    expected_hosts: list[str],
    started: datetime,
    finished: datetime,
    outcome: RunOutcome,
    interrupted: bool = False,
) -> dict[str, Any]:
    """Assemble the report, exit code included.

    `meta` holds command, playbook, inventory, limit, artifacts_dir and an optional message
    (why the run crashed); `outcome` is how ansible-runner ended, `interrupted` whether the
    user stopped it.
    """
    hosts = {name: state.host(name).as_dict() for name in expected_hosts}
    hosts.update({name: host.as_dict() for name, host in state.hosts.items() if name})
    code = decide(hosts, outcome.status, interrupted)
    return {
        "schema": SCHEMA,
        "command": meta["command"],
        "playbook": meta.get("playbook"),
        "inventory": meta["inventory"],
        "limit": meta.get("limit"),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 3),
        "exit_code": int(code),
        "status": STATUS[code],
        "message": error_message(code, meta.get("message"), outcome),
        "artifacts_dir": meta.get("artifacts_dir"),
        "hosts": dict(sorted(hosts.items())),
    }


def error_message(code: ExitCode, message: str | None, outcome: RunOutcome) -> str | None:
    """An errored run always says why: the given message, else Ansible's last output lines."""
    if code != ExitCode.ERROR or message is not None:
        return message
    return outcome.log_tail or f"ansible-runner status {outcome.status}, rc {outcome.rc}"


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write atomically, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def html_path_for(report_path: Path) -> Path:
    """Where verify's HTML goes: beside the JSON, never over it (report.json -> report.html)."""
    if report_path.suffix == ".html":
        return report_path.with_suffix(".report.html")
    return report_path.with_suffix(".html")


def write_html(report: dict[str, Any], path: Path) -> Path:
    """Write the self-contained HTML view of a report."""
    from provisionlib import report_html

    path.write_text(report_html.render_html(report), encoding="utf-8")
    return path
