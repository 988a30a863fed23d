"""Show a run while it happens: a live status line on a terminal, plain lines otherwise."""

from __future__ import annotations

import shutil
import time
from typing import Any, Protocol, TextIO

from provisionlib.events import RunState, message_of


class Progress(Protocol):
    def show(self, event: dict[str, Any], state: RunState) -> None: ...
    def close(self) -> None: ...


def elapsed(start: float) -> str:
    seconds = int(time.monotonic() - start)
    return f"{seconds // 60:d}:{seconds % 60:02d}"


def notable_line(event: dict[str, Any], verbose: int = 0) -> str | None:
    """The one line worth printing for an event, or None (ok results only with -v)."""
    kind = event.get("event", "")
    data = event.get("event_data") or {}
    host, task = data.get("host", ""), data.get("task", "")
    res = data.get("res") or {}
    if kind == "playbook_on_play_start":
        return f"PLAY {data.get('name') or data.get('play', '')}"
    if kind == "playbook_on_task_start":
        return f"TASK {task}"
    if kind == "runner_on_failed":
        label = "failed (ignored)" if data.get("ignore_errors") else "FAILED"
        return f"  {label} {host}: {message_of(res)}"
    if kind == "runner_on_unreachable":
        return f"  UNREACHABLE {host}: {message_of(res)}"
    if kind == "runner_item_on_failed":
        return f"  item failed {host}: {_item(res)}"
    if kind in ("runner_on_ok", "runner_item_on_ok") and res.get("changed"):
        if kind == "runner_on_ok" and res.get("results"):
            return None  # its items were already printed one by one
        item = f" ({_item(res)})" if kind == "runner_item_on_ok" else ""
        return f"  changed {host}{item}"
    if verbose and kind == "runner_on_ok":
        return f"  ok {host}"
    return None


def _item(res: dict[str, Any]) -> str:
    label = res.get("_ansible_item_label", res.get("item", ""))
    return str(label)[:80]


class LineProgress:
    """Without a terminal: one plain line per event worth reading, with the elapsed time."""

    def __init__(self, stream: TextIO, verbose: int = 0) -> None:
        self.stream = stream
        self.verbose = verbose
        self.start = time.monotonic()

    def show(self, event: dict[str, Any], state: RunState) -> None:
        line = notable_line(event, self.verbose)
        if line:
            self.stream.write(f"[{elapsed(self.start):>5}] {line}\n")
            self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


class TtyProgress:
    """On a terminal: failures scroll by; one status line redraws in place."""

    _REDRAW_S = 0.1

    def __init__(self, stream: TextIO, verbose: int = 0) -> None:
        self.stream = stream
        self.verbose = verbose
        self.start = time.monotonic()
        self.last_draw = 0.0

    def show(self, event: dict[str, Any], state: RunState) -> None:
        line = notable_line(event, self.verbose)
        kind = event.get("event", "")
        if line and (self.verbose or "FAILED" in line or "UNREACHABLE" in line
                     or kind == "playbook_on_play_start"):
            self.stream.write(f"\r\x1b[K{line}\n")
            self.last_draw = 0.0
        now = time.monotonic()
        if now - self.last_draw >= self._REDRAW_S:
            self.stream.write("\r\x1b[K" + self.status(state))
            self.stream.flush()
            self.last_draw = now

    def status(self, state: RunState) -> str:
        counts = state.counts()
        text = (f"[{elapsed(self.start)}] {len(state.hosts)} host(s) ok={counts['ok']} "
                f"changed={counts['changed']} failed={counts['failed']} "
                f"unreachable={counts['unreachable']} | {state.last_host}: {state.task}")
        width = shutil.get_terminal_size((100, 20)).columns - 1
        return text[:width]

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def make_progress(stream: TextIO, verbose: int = 0) -> Progress:
    is_tty = getattr(stream, "isatty", lambda: False)()
    return TtyProgress(stream, verbose) if is_tty else LineProgress(stream, verbose)
