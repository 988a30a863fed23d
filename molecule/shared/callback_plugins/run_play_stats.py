"""Writes per-host play stats as JSON when a run ends; molecule/shared/tasks/run_play.yml uses it.

A notification callback (not a stdout one), so the run keeps its usual human-readable output
for messages while the counts come out as data: no parsing of PLAY RECAP.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: run_play_stats
type: notification
short_description: write per-host play stats to a JSON file
description:
  - At the end of a run, writes each host's ok, changed, failures, unreachable, skipped,
    rescued and ignored counts as one JSON object, keyed by host, to the file named by
    E(RUN_PLAY_STATS_FILE).
requirements:
  - enabled in callbacks_enabled
options:
  stats_file:
    description: Where to write the stats; nothing is written when unset.
    env:
      - name: RUN_PLAY_STATS_FILE
"""

KEYS = ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "run_play_stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats: Any) -> None:
        path = self.get_option("stats_file")
        if not path:
            return
        hosts = sorted(stats.processed.keys())
        summary = {h: {k: int(stats.summarize(h).get(k, 0)) for k in KEYS} for h in hosts}
        Path(path).write_text(json.dumps(summary, sort_keys=True), encoding="utf-8")
