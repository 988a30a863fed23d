"""Plain-text renderings of a report: host table, facts per host, plan summary, check matrix."""

from __future__ import annotations

from typing import Any

from provisionlib.checks import check_names

_COLOURS = {"pass": "32", "ok": "32", "fail": "31", "failed": "31", "skip": "33",
            "unreachable": "35", "changed": "33"}
_MSG_WIDTH = 70


def paint(text: str, key: str, colour: bool) -> str:
    """Wrap text in the ANSI colour for `key` when colour is on."""
    code = _COLOURS.get(key)
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def grid(header: list[str], rows: list[list[str]], keys: list[list[str]] | None = None,
         colour: bool = False) -> str:
    """Left-aligned columns; `keys` (same shape as rows) names the colour of each cell."""
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r, row in enumerate(rows):
        cells = []
        for c, (cell, width) in enumerate(zip(row, widths, strict=True)):
            key = keys[r][c] if keys else ""
            cells.append(paint(cell.ljust(width), key, colour))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def clip(text: str, width: int = _MSG_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def os_label(facts: dict[str, Any]) -> str:
    os_info = facts.get("os") if isinstance(facts.get("os"), dict) else {}
    if not os_info:
        return "-"
    name = f"{os_info.get('id', '')} {os_info.get('version', '')}".strip()
    codename = os_info.get("codename")
    return f"{name} ({codename})" if codename else name or "-"


def hosts_table(report: dict[str, Any], colour: bool = False) -> str:
    """host, kind, OS, ok/changed/failed/unreachable, failed task and its message."""
    header = ["HOST", "KIND", "OS", "OK", "CHANGED", "FAILED", "UNREACH", "FAILED TASK: MESSAGE"]
    rows, keys = [], []
    for name, host in report["hosts"].items():
        stats, facts = host["stats"], host["facts"]
        # The last failure is the one that stopped the host; earlier ones were rescued.
        last = host["failures"][-1] if host["failures"] else None
        failure = clip(f"{last['task']}: {last['message']}") if last else ""
        rows.append([name, str(facts.get("kind", "-")), os_label(facts), str(stats["ok"]),
                     str(stats["changed"]), str(stats["failed"]), str(stats["unreachable"]),
                     failure])
        keys.append(["", "", "", "ok" if stats["ok"] else "",
                     "changed" if stats["changed"] else "", "fail" if stats["failed"] else "",
                     "unreachable" if stats["unreachable"] else "", ""])
    if not rows:
        return "no hosts ran"
    return grid(header, rows, keys, colour)


def facts_tables(report: dict[str, Any]) -> str:
    """A key/value table per host from its provision_host fact."""
    blocks = []
    for name, host in report["hosts"].items():
        facts = host["facts"]
        if not facts:
            blocks.append(f"{name}: no facts (see the failures above)")
            continue
        rows = [[key, fact_value(facts[key])] for key in _ordered_keys(facts)]
        blocks.append(f"{name}\n" + grid(["FACT", "VALUE"], rows))
    return "\n\n".join(blocks)


_FIRST_KEYS = ("summary", "kind", "os", "arch", "gpus", "nvidia_driver", "jetson", "docker")


def _ordered_keys(facts: dict[str, Any]) -> list[str]:
    first = [k for k in _FIRST_KEYS if k in facts]
    return first + sorted(k for k in facts if k not in _FIRST_KEYS and k != "schema")


def fact_value(value: object) -> str:
    """Compact one-line text for a fact value."""
    if isinstance(value, dict):
        parts = [f"{k}={fact_value(v)}" for k, v in value.items()
                 if v not in (None, "", [], {})]
        return clip(" ".join(parts) or "-", 90)
    if isinstance(value, list):
        if not value:
            return "none"
        return clip("; ".join(fact_value(v) for v in value), 90)
    if value is None or value == "":
        return "-"
    return clip(str(value), 90)


def plan_summary(report: dict[str, Any], show_diff: bool = False) -> str:
    """Per host: how many tasks would change, and which."""
    blocks = []
    for name, host in report["hosts"].items():
        changes = host["changes"]
        lines = [f"{name}: {len(changes)} task(s) would change" if changes
                 else f"{name}: no changes"]
        for change in changes:
            items = change.get("items")
            suffix = f" (items: {clip(', '.join(items), 60)})" if items else ""
            lines.append(f"  ~ {change['task']}{suffix}")
            if show_diff and change.get("diff"):
                lines.extend("      " + line for line in change["diff"].splitlines())
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def check_matrix(report: dict[str, Any], colour: bool = False) -> str:
    """Hosts x checks, each cell PASS / FAIL / SKIP (or '-' where a host lacks the check)."""
    names = check_names(report["hosts"])
    if not names:
        return "no checks reported (gpu_verify did not run on any host)"
    rows, keys = [], []
    for host_name, host in report["hosts"].items():
        by_name = {c["name"]: c["status"] for c in host["checks"]}
        rows.append([host_name] + [by_name.get(n, "-").upper() for n in names])
        keys.append([""] + [by_name.get(n, "") for n in names])
    table = grid(["HOST", *names], rows, keys, colour)
    failed = [f"  {h}: {c['name']}: {clip(c['reason'])}"
              for h, host in report["hosts"].items() for c in host["checks"]
              if c["status"] == "fail"]
    return table + ("\n\nfailed checks:\n" + "\n".join(failed) if failed else "")


def failures_in_full(report: dict[str, Any]) -> str:
    """Every message the tables above had to clip, whole: the failure that stopped each host and
    each failed check's reason (dockerd's own words for a refused config, say)."""
    lines = []
    for name, host in report["hosts"].items():
        if host["failures"]:
            last = host["failures"][-1]
            text = f"{last['task']}: {last['message']}"
            if clip(text) != " ".join(text.split()):
                lines.append(f"  {name}: {text}")
        for check in host["checks"]:
            reason = check["reason"]
            if check["status"] == "fail" and clip(reason) != " ".join(reason.split()):
                lines.append(f"  {name}: check {check['name']}: {check['reason']}")
    return "failures in full:\n" + "\n".join(lines) if lines else ""
