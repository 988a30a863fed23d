"""provisionlib.report_html: the self-contained HTML report rendered from a schema-1 report."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib.report_html import render_html


def check(name: str, status: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "reason": reason,
        "evidence": {"command": f"cmd-{name}", "output": f"out-{name}"},
        **extra,
    }


REPORT: dict[str, Any] = {
    "schema": 1,
    "command": "verify",
    "inventory": "inventory/lab.yml",
    "started": "2026-11-29T04:30:00+00:00",
    "finished": "2026-11-29T04:30:42+00:00",
    "duration_s": 42.1,
    "exit_code": 2,
    "status": "failed",
    "hosts": {
        "gpu-01": {
            "stats": {"ok": 9, "changed": 0, "failed": 1, "skipped": 2, "unreachable": 0},
            "facts": {"kind": "dgpu", "summary": "Ubuntu 22.04 x86_64, 2x A100"},
            "checks": [
                check("engine", "pass", "Docker 27.5.1 is active"),
                check(
                    "gpu", "fail", "a container with --gpus all failed",
                    diagnosis="Docker has no GPU device driver",
                    fix="Install nvidia-container-toolkit, then restart Docker.",
                ),
            ],
            "failures": [{"task": "gpu_verify : Fail when ...", "message": "required check 'gpu'"}],
            "warnings": [],
        },
        "cpu-<b>01</b>": {
            "stats": {"ok": 9, "changed": 0, "failed": 0, "skipped": 2, "unreachable": 0},
            "facts": {"kind": "cpu"},
            "checks": [
                check("engine", "pass", "ok"),
                check("gpu", "skip", "no NVIDIA GPU (PCI 10de, class 0300/0302)"),
                {"name": "custom", "status": "pass", "reason": "x <script>alert(1)</script>",
                 "evidence": {"command": "echo '<script>'", "output": "a & b"}},
            ],
            "failures": [],
            "warnings": ["docker group is root-equivalent"],
        },
        "down-01": {
            "stats": {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 1},
            "facts": None,
            "checks": [],
            "failures": [{"task": "Gathering", "message": "ssh: connect refused"}],
            "warnings": [],
        },
    },
}


class Collector(HTMLParser):
    """Collects tags, cells and external references to check structure, not strings."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cell_classes: list[str] = []
        self.external: list[str] = []
        self.rows = 0
        self.header: list[str] = []
        self._in_th_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attr = dict(attrs)
        if tag == "td":
            self.cell_classes.append(attr.get("class") or "")
        if tag == "tr":
            self.rows += 1
        if tag == "th" and attr.get("scope") == "col":
            self._in_th_head = True
        for key in ("src", "href"):
            if attr.get(key):
                self.external.append(attr[key] or "")
        if tag == "link":
            self.external.append("link")

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_th_head = False

    def handle_data(self, data: str) -> None:
        if self._in_th_head and data.strip():
            self.header.append(data.strip())


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    return collector


def test_rows_columns_and_status_cells() -> None:
    page = parse(render_html(REPORT))
    # header row + one row per host
    assert page.rows == 4
    assert page.header == ["host", "engine", "gpu", "custom"]
    # rows are sorted by host name: cpu-<b>01</b>, down-01, gpu-01
    assert page.cell_classes == [
        "pass", "skip", "pass",
        "none", "none", "none",
        "pass", "fail", "none",
    ]


def test_evidence_diagnosis_and_fix_are_in_details() -> None:
    html = render_html(REPORT)
    assert html.count("<details>") == 5
    assert "cmd-gpu" in html and "out-gpu" in html
    assert "Docker has no GPU device driver" in html
    assert "Install nvidia-container-toolkit, then restart Docker." in html
    assert "no NVIDIA GPU (PCI 10de, class 0300/0302)" in html


def test_content_is_escaped() -> None:
    html = render_html(REPORT)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "cpu-&lt;b&gt;01&lt;/b&gt;" in html
    assert "echo &#x27;&lt;script&gt;&#x27;" in html
    assert "a &amp; b" in html
    assert "<b>01</b>" not in html


def test_self_contained() -> None:
    html = render_html(REPORT)
    page = parse(html)
    assert page.external == []
    assert "<style>" in html
    assert not re.search(r"https?://", html)
    assert "script" not in page.tags


def test_unreachable_host_and_problems_listed() -> None:
    html = render_html(REPORT)
    assert "unreachable: no checks ran" in html
    assert "ssh: connect refused" in html
    assert "docker group is root-equivalent" in html
    assert "3 pass, 1 fail, 1 skip" in html  # every check of every host
    assert "exit code:</span> 2" in html


def test_empty_and_minimal_reports_render() -> None:
    html = render_html({"schema": 1, "command": "verify", "status": "error", "hosts": {}})
    assert "no hosts in this report" in html
    html = render_html({"schema": 1, "hosts": {"h": {}}})
    assert parse(html).rows == 2
    assert "no checks in this run" in html
