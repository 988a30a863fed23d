"""Check that --tags/--skip-tags select at least one task before anything runs.

A tag that matches no task would otherwise run only the `always`-tagged tasks (the facts guard,
argument checks) and end "ok" with nothing done. The check asks ansible-playbook itself
(`--list-tasks` with the same tags, inventory, limit and extra vars), so Ansible's own tag rules
apply (all, tagged, untagged, never, always): about 1.5 s, paid only when tags are given.
A dynamic include (include_tasks/include_role) is listed as one task carrying its own tags, not
expanded. If the listing itself fails (a syntax error), nothing is decided here: the run then
fails with Ansible's own message.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from provisionlib.exitcodes import InputError
from provisionlib.runner import PROJECT_DIR, environment

_TASK = re.compile(r"^ {6}\S.*\tTAGS: \[(?P<tags>[^\]]*)\]$")
_TAGS_LINE = re.compile(r"TASK TAGS: \[(?P<tags>[^\]]*)\]")


def check_tags(playbook: Path, inventory: str, limit: str | None, tags: str | None,
               skip_tags: str | None, extra_vars: dict[str, Any]) -> None:
    """InputError when the tag options leave only always-tagged tasks (or none) to run."""
    if not tags and not skip_tags:
        return
    selection = []
    if tags:
        selection += ["--tags", tags]
    if skip_tags:
        selection += ["--skip-tags", skip_tags]
    listed = _list(playbook, inventory, limit, extra_vars, ["--list-tasks", *selection])
    if listed is None or any("always" not in tags_of for tags_of in _task_tags(listed)):
        return
    pairs = zip(selection[::2], selection[1::2], strict=True)
    shown = " ".join(f"{opt} {val!r}" for opt, val in pairs)
    available = _available(playbook, inventory, limit, extra_vars)
    hint = (f"tags there: {', '.join(available)}; pick one of them, or drop the option"
            if available else "its tasks carry no tags of their own; drop the option")
    raise InputError(
        f"{shown} selects no task in {_shown(playbook)} (only the always-run ones); {hint}")


def _task_tags(listing: str) -> list[set[str]]:
    return [{t.strip() for t in m["tags"].split(",") if t.strip()}
            for m in map(_TASK.match, listing.splitlines()) if m]


def _available(playbook: Path, inventory: str, limit: str | None,
               extra_vars: dict[str, Any]) -> list[str]:
    listing = _list(playbook, inventory, limit, extra_vars, ["--list-tags"]) or ""
    found = {t.strip() for m in _TAGS_LINE.finditer(listing) for t in m["tags"].split(",")}
    return sorted(found - {"", "always", "never"})


def _list(playbook: Path, inventory: str, limit: str | None, extra_vars: dict[str, Any],
          options: list[str]) -> str | None:
    """ansible-playbook's listing, or None when it fails (the run reports that itself)."""
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="provision-tags-") as tmp:
        argv = [str(bin_dir / "ansible-playbook"), "-i", inventory, str(playbook), *options]
        if limit:
            argv += ["--limit", limit]
        if extra_vars:
            vars_file = Path(tmp) / "extra_vars.json"
            vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
            vars_file.chmod(0o600)
            argv += ["-e", f"@{vars_file}"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, check=False,
                                  env={**os.environ, **environment()}, cwd=PROJECT_DIR, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return None
    return done.stdout if done.returncode == 0 else None


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)
