"""Progress from the recorded event stream: plain lines off a terminal, a live line on one.

The terminal is a STAND-IN (`FakeTty`, a StringIO that says it is a TTY).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib.events import RunState
from provisionlib.progress import LineProgress, TtyProgress, make_progress, notable_line

EVENTS = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "runner" / "apply.json").read_text())


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def play(progress: LineProgress | TtyProgress) -> RunState:
    state = RunState()
    for event in EVENTS:
        state.feed(event)
        progress.show(event, state)
    progress.close()
    return state


def test_plain_lines_without_terminal() -> None:
    out = io.StringIO()
    play(LineProgress(out))
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "PLAY Recorded play",
        "TASK Collect host facts",
        lines[2],  # the unreachable line, checked below
        "TASK Write a file with a diff",
        "  changed local1",
        "TASK Change one loop item",
        "  changed local1 (a)",
        "  changed local1 (b)",
        "TASK Skip on purpose",
        "TASK Publish check results",
        "TASK Fail on purpose",
        "  FAILED local1: non-zero return code",
    ]
    assert lines[2].startswith("  UNREACHABLE ghost: ") and "Connection refused" in lines[2]


def test_verbose_adds_ok_lines() -> None:
    out = io.StringIO()
    play(LineProgress(out, verbose=1))
    assert "  ok local1" in out.getvalue()


def test_live_line_on_terminal() -> None:
    out = FakeTty()
    progress = make_progress(out)
    assert isinstance(progress, TtyProgress)
    state = play(progress)
    text = out.getvalue()
    assert "\r\x1b[K" in text
    assert "FAILED local1" in text and "UNREACHABLE ghost" in text
    assert "TASK Write" not in text  # task names go in the status line, not as lines
    status = progress.status(state)
    assert "2 host(s) ok=4 changed=2 failed=1 unreachable=1" in status
    assert status.startswith("[0:0")
    assert text.endswith("\r\x1b[K")  # the live line is cleared at the end


def test_no_terminal_means_plain_lines() -> None:
    assert isinstance(make_progress(io.StringIO()), LineProgress)


def test_ignored_failure_line() -> None:
    event = {"event": "runner_on_failed",
             "event_data": {"host": "h", "ignore_errors": True, "res": {"msg": "m"}}}
    assert notable_line(event) == "  failed (ignored) h: m"
