"""A self-contained HTML view of a provision.py report (schema 1, see provisionlib.report).

One row per host, one cell per check (pass / fail / skip, coloured), and the evidence behind
each cell in a <details> element: reason, command, output, diagnosis, fix. No external assets
and no script: inline CSS only, and every value from the report is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from provisionlib.checks import check_names

STATUSES = ("pass", "fail", "skip")

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
.meta { color: #555; margin-bottom: 1em; }
.meta span { margin-right: 1.2em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d0d5; padding: .35em .5em; vertical-align: top; text-align: left; }
th { background: #f2f2f5; }
td.pass { background: #e3f6e5; }
td.fail { background: #fde2e1; }
td.skip { background: #f4f4f4; color: #555; }
td.none { background: #fff; color: #999; }
.badge { font-weight: 600; text-transform: uppercase; font-size: .8em; }
.pass .badge { color: #1a7f37; } .fail .badge { color: #b42318; } .skip .badge { color: #666; }
details summary { cursor: pointer; }
pre { white-space: pre-wrap; word-break: break-word; background: #fafafa; border: 1px solid #eee;
      padding: .4em; margin: .3em 0; max-height: 24em; overflow: auto; font-size: .85em; }
.label { font-weight: 600; }
.status-ok { color: #1a7f37; } .status-bad { color: #b42318; }
.problems li { margin-bottom: .3em; }
.small { font-size: .85em; color: #555; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _status(check: dict[str, Any]) -> str:
    status = str(check.get("status", "")).lower()
    return status if status in STATUSES else "none"


def render_cell(check: dict[str, Any] | None) -> str:
    if not check:
        return '<td class="none">&mdash;</td>'
    status = _status(check)
    evidence = check.get("evidence") or {}
    parts = [f'<p>{_e(check.get("reason"))}</p>']
    if evidence.get("command"):
        parts.append(f'<div class="label">command</div><pre>{_e(evidence["command"])}</pre>')
    if evidence.get("output"):
        parts.append(f'<div class="label">output</div><pre>{_e(evidence["output"])}</pre>')
    for key in ("diagnosis", "fix"):
        if check.get(key):
            parts.append(f'<p><span class="label">{key}:</span> {_e(check[key])}</p>')
    badge = _e(status if status != "none" else check.get("status") or "?")
    return (
        f'<td class="{status}"><details><summary><span class="badge">{badge}</span> '
        f'<span class="small">{_e(_short(check.get("reason")))}</span></summary>'
        + "".join(parts)
        + "</details></td>"
    )


def _short(text: Any, limit: int = 60) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _stats(stats: dict[str, Any]) -> str:
    keys = ("ok", "changed", "failed", "skipped", "unreachable")
    return " ".join(f"{key}={_e(stats.get(key, 0))}" for key in keys)


def _host_label(name: str, host: dict[str, Any]) -> str:
    facts = host.get("facts") or {}
    summary = facts.get("summary") or facts.get("kind") or ""
    stats = host.get("stats") or {}
    note = ""
    if not host.get("checks"):
        note = (
            '<div class="small status-bad">unreachable: no checks ran</div>'
            if stats.get("unreachable")
            else '<div class="small">no checks in this run</div>'
        )
    return (
        f'<th scope="row">{_e(name)}<div class="small">{_e(summary)}</div>'
        f'<div class="small">{_stats(stats)}</div>{note}</th>'
    )


def render_row(name: str, host: dict[str, Any], columns: list[str]) -> str:
    by_name = {str(c.get("name")): c for c in host.get("checks") or []}
    cells = "".join(render_cell(by_name.get(column)) for column in columns)
    return f"<tr>{_host_label(name, host)}{cells}</tr>"


def render_problems(hosts: dict[str, Any]) -> str:
    items = []
    for name, host in hosts.items():
        host = host or {}
        for failure in host.get("failures") or []:
            items.append(
                f"<li><b>{_e(name)}</b> &mdash; {_e(failure.get('task'))}: "
                f"<pre>{_e(failure.get('message'))}</pre></li>"
            )
        for warning in host.get("warnings") or []:
            items.append(f"<li><b>{_e(name)}</b> &mdash; warning: {_e(warning)}</li>")
    if not items:
        return ""
    return f'<h2>Failures and warnings</h2><ul class="problems">{"".join(items)}</ul>'


def totals(hosts: dict[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for host in hosts.values():
        for check in (host or {}).get("checks") or []:
            status = _status(check)
            if status in counts:
                counts[status] += 1
    return counts


def render_html(report: dict[str, Any]) -> str:
    """The whole report as one HTML document (a str)."""
    hosts: dict[str, Any] = dict(sorted((report.get("hosts") or {}).items()))
    columns = check_names(hosts)
    status = str(report.get("status") or "")
    status_class = "status-ok" if status == "ok" else "status-bad"
    meta = [
        ("command", report.get("command")),
        ("inventory", report.get("inventory")),
        ("started", report.get("started")),
        ("finished", report.get("finished")),
        ("duration", f"{report.get('duration_s')} s" if report.get("duration_s") is not None
         else None),
        ("exit code", report.get("exit_code")),
    ]
    meta_html = "".join(
        f'<span><span class="label">{label}:</span> {_e(value)}</span>'
        for label, value in meta
        if value is not None
    )
    count = totals(hosts)
    head = "".join(f'<th scope="col">{_e(column)}</th>' for column in columns)
    rows = "".join(render_row(name, host or {}, columns) for name, host in hosts.items())
    if not hosts:
        rows = f'<tr><td colspan="{len(columns) + 1}">no hosts in this report</td></tr>'
    heading = f"gpuhost {report.get('command') or 'run'}"
    title = f"{heading}: {status or 'unknown'}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{_e(heading)}: <span class="{status_class}">{_e(status)}</span></h1>'
        f'<div class="meta">{meta_html}</div>'
        f'<p class="small">{len(hosts)} host(s); checks: {count["pass"]} pass, '
        f'{count["fail"]} fail, {count["skip"]} skip</p>'
        f'<table><thead><tr><th scope="col">host</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f"{render_problems(hosts)}"
        "</body></html>\n"
    )
