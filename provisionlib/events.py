"""Fold ansible-runner events into per-host state (stats, facts, checks, failures, changes).

Pure: feed it event dicts (live from the runner, or recorded ones in tests) and read
`hosts` / `counts` back. Nothing here talks to a host.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

FACT_KEY = "provision_host"
CHECKS_KEY = "gpu_verify_results"
STAT_KEYS = ("ok", "changed", "failed", "skipped", "unreachable")
# playbook_on_stats uses Ansible's internal names for two of them.
_STATS_EVENT_KEYS = {"ok": "ok", "changed": "changed", "failed": "failures",
                     "skipped": "skipped", "unreachable": "dark"}
# A failure's message keeps its cause: dockerd's reason for refusing a config can run to a
# few thousand characters, and its end is usually the part that says why (head and tail kept).
MESSAGE_MAX = 4000
# What a looped task says when some items failed; the items' own messages say why.
_GENERIC_LOOP_MESSAGES = ("One or more items failed", "All items completed")


@dataclass
class HostState:
    """What one host has reported so far."""

    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAT_KEYS, 0))
    facts: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stats": dict(self.stats),
            "facts": self.facts,
            "checks": self.checks,
            "failures": self.failures,
            "changes": self.changes,
            "warnings": self.warnings,
        }


@dataclass
class RunState:
    """Live view of a run, built event by event."""

    hosts: dict[str, HostState] = field(default_factory=dict)
    task: str = ""
    last_host: str = ""
    final_stats: bool = False

    def host(self, name: str) -> HostState:
        return self.hosts.setdefault(name, HostState())

    def counts(self) -> dict[str, int]:
        """Totals over all hosts, per stat key."""
        return {k: sum(h.stats[k] for h in self.hosts.values()) for k in STAT_KEYS}

    def feed(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        handler = _HANDLERS.get(kind)
        if handler:
            handler(self, data)


def _task_start(state: RunState, data: dict[str, Any]) -> None:
    state.task = str(data.get("task") or data.get("name") or "")


def _runner_start(state: RunState, data: dict[str, Any]) -> None:
    state.last_host = str(data.get("host") or "")
    if state.last_host:
        state.host(state.last_host)


def _on_ok(state: RunState, data: dict[str, Any]) -> None:
    host = _host_of(state, data)
    res = data.get("res") or {}
    _capture(host, res)
    # Like Ansible's recap, a changed task counts as ok too.
    host.stats["ok"] += 1
    if res.get("changed"):
        host.stats["changed"] += 1
        host.changes.append(_change(data, res))


def _on_failed(state: RunState, data: dict[str, Any]) -> None:
    host = _host_of(state, data)
    res = data.get("res") or {}
    _capture(host, res)
    if data.get("ignore_errors"):
        host.stats["ok"] += 1
        return
    host.stats["failed"] += 1
    host.failures.append({"task": str(data.get("task", "")), "message": message_of(res)})


def _on_unreachable(state: RunState, data: dict[str, Any]) -> None:
    host = _host_of(state, data)
    res = data.get("res") or {}
    host.stats["unreachable"] += 1
    host.failures.append({"task": str(data.get("task", "")), "message": message_of(res)})


def _on_skipped(state: RunState, data: dict[str, Any]) -> None:
    _host_of(state, data).stats["skipped"] += 1


def _on_stats(state: RunState, data: dict[str, Any]) -> None:
    """Ansible's recap is authoritative: it knows about rescued and ignored failures."""
    names = set()
    for key in _STATS_EVENT_KEYS.values():
        names.update((data.get(key) or {}).keys())
    for name in names:
        host = state.host(name)
        for ours, theirs in _STATS_EVENT_KEYS.items():
            host.stats[ours] = int((data.get(theirs) or {}).get(name, 0))
    state.final_stats = True


def _host_of(state: RunState, data: dict[str, Any]) -> HostState:
    name = str(data.get("host") or "")
    state.last_host = name
    return state.host(name)


def _capture(host: HostState, res: dict[str, Any]) -> None:
    facts = res.get("ansible_facts") or {}
    if isinstance(facts.get(FACT_KEY), dict):
        host.facts = facts[FACT_KEY]
    if isinstance(facts.get(CHECKS_KEY), list):
        host.checks = [normalize_check(c) for c in facts[CHECKS_KEY] if isinstance(c, dict)]
    warnings = list(res.get("warnings") or [])
    # Roles report what a builtin module cannot raise as a warning through a list fact
    # named <role>_warnings (docker_access_warnings, for instance).
    for key, value in facts.items():
        if key.endswith("_warnings") and isinstance(value, list):
            warnings.extend(value)
    for warning in warnings:
        text = warning if isinstance(warning, str) else str(warning.get("msg", warning))
        if text not in host.warnings:
            host.warnings.append(text)


def normalize_check(check: dict[str, Any]) -> dict[str, Any]:
    """Keep the documented keys of one gpu_verify result, with safe defaults."""
    evidence = check.get("evidence") if isinstance(check.get("evidence"), dict) else {}
    status = str(check.get("status", "")).lower()
    normalized = {
        "name": str(check.get("name", "?")),
        "status": status if status in ("pass", "fail", "skip") else "fail",
        "reason": str(check.get("reason", "")),
        "evidence": evidence,
    }
    # A known failure text comes with what it means and what to do about it.
    for key in ("diagnosis", "fix"):
        if check.get(key):
            normalized[key] = str(check[key])
    return normalized


def head_tail(text: str, limit: int = MESSAGE_MAX) -> str:
    """The text, or its head and tail with the number of characters left out between them."""
    if len(text) <= limit:
        return text
    marker = " [... {} characters left out ...] "
    keep = (limit - len(marker.format(len(text)))) // 2
    return text[:keep] + marker.format(len(text) - 2 * keep) + text[-keep:]


def _item_messages(res: dict[str, Any]) -> list[str]:
    """'item: message' for each failed item of a looped result."""
    found = []
    for item in res.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            label = item.get("_ansible_item_label", item.get("item", ""))
            found.append(f"{_label(label)}: {message_of(item)}" if label != "" else
                         message_of(item))
    return found


def message_of(res: dict[str, Any]) -> str:
    """One readable line for a failed or unreachable result, with its cause kept."""
    msg = str(res.get("msg") or "").strip()
    stderr = str(res.get("stderr") or "").strip()
    if stderr:
        last = stderr.splitlines()[-1].strip()
        msg = f"{msg}: {last}" if msg else last
    items = _item_messages(res) if isinstance(res.get("results"), list) else []
    if items and (not msg or msg in _GENERIC_LOOP_MESSAGES):
        msg = "; ".join(items)
    msg = " ".join(msg.split()) or "failed (no message)"
    return head_tail(msg)


def _change(data: dict[str, Any], res: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"task": str(data.get("task", ""))}
    diffs = list(_diffs(res))
    items = [r.get("item") for r in res.get("results") or [] if isinstance(r, dict)
             and r.get("changed")]
    for sub in res.get("results") or []:
        if isinstance(sub, dict) and sub.get("changed"):
            diffs.extend(_diffs(sub))
    if items:
        entry["items"] = [_label(i) for i in items]
    if diffs:
        entry["diff"] = "".join(diffs)
    return entry


def _label(item: object) -> str:
    return item if isinstance(item, str) else str(item)[:120]


def _diffs(res: dict[str, Any]) -> list[str]:
    raw = res.get("diff")
    if not raw:
        return []
    return [text for d in (raw if isinstance(raw, list) else [raw]) if (text := diff_text(d))]


def diff_text(diff: object) -> str:
    """Render one Ansible diff dict as unified-diff text (what `--diff` prints)."""
    if not isinstance(diff, dict):
        return ""
    if diff.get("prepared"):
        return str(diff["prepared"]).rstrip("\n") + "\n"
    if "before" not in diff and "after" not in diff:
        return ""
    before, after = diff.get("before", ""), diff.get("after", "")
    if not isinstance(before, str) or not isinstance(after, str):
        before, after = _as_text(before), _as_text(after)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=str(diff.get("before_header", "before")),
        tofile=str(diff.get("after_header", "after")),
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _as_text(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"


_HANDLERS = {
    "playbook_on_task_start": _task_start,
    "runner_on_start": _runner_start,
    "runner_on_ok": _on_ok,
    "runner_on_failed": _on_failed,
    "runner_on_unreachable": _on_unreachable,
    "runner_on_skipped": _on_skipped,
    "playbook_on_stats": _on_stats,
}
