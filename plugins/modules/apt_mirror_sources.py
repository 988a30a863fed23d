#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Point the OS archive entries of apt's sources at a mirror; roll back if apt update fails."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apt_mirror_sources
short_description: Point the OS archive entries of apt's sources at a mirror, with rollback
description:
  - Reads C(/etc/apt/sources.list) and C(/etc/apt/sources.list.d/*.list) (one-line format) and
    C(/etc/apt/sources.list.d/*.sources) (deb822), and rewrites only the URIs of entries that
    point at the OS archive (O(archive_locations)) or its security archive
    (O(security_locations)). Third-party entries (Docker's, NVIDIA's) are never touched, nor
    comments, disabled stanzas or any other byte of the files.
  - Keeps a copy of each file before changing it under O(state_dir), then runs
    C(apt-get update). When that fails for the mirror (an C(Err:), C(W:) or C(E:) line naming
    it, or a non-zero exit), every changed file is put back byte for byte, C(apt-get update)
    runs again on the restored sources, and the module fails naming the URL.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  url:
    description: The mirror for the OS archive (C(http), C(https) or C(file) URL).
    type: str
    required: true
  security_url:
    description: The mirror for the security archive; empty leaves security entries alone.
    type: str
    default: ""
  archive_locations:
    description: C(host/path) patterns (shell-style) of the OS archive; the scheme is ignored.
    type: list
    elements: str
    required: true
  security_locations:
    description: C(host/path) patterns of the security archive (entries whose suites end in
      C(-security) or C(/updates)).
    type: list
    elements: str
    required: true
  apt_dir:
    description: apt's configuration directory.
    type: path
    default: /etc/apt
  state_dir:
    description: Where the backups and the last URLs set are kept.
    type: path
    default: /var/lib/gpuhost/apt-mirror
  update:
    description: Run C(apt-get update) after a change, and roll back when it fails.
    type: bool
    default: true
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Point the archive at the site mirror
  apt_mirror_sources:
    url: http://mirror.example.com/debian
    archive_locations: [deb.debian.org/debian]
    security_locations: [deb.debian.org/debian-security, security.debian.org/debian-security]
"""

RETURN = r"""
changed_files:
  description: The files rewritten (or that would be, in check mode).
  returned: always
  type: list
backups:
  description: Copies of the changed files as they were.
  returned: changed
  type: list
rewritten:
  description: One line per rewritten entry, FILE:LINE OLD -> NEW.
  returned: always
  type: list
os_entries:
  description: OS archive entries found (rewritten or already at the mirror); 0 means no entry
    matched the locations, so nothing points at the mirror.
  returned: always
  type: int
update_warnings:
  description: Problems apt-get update reported for sources other than the mirror.
  returned: always
  type: list
"""

import fnmatch
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ONE_LINE = "one-line"
DEB822 = "deb822"

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# deb [options] uri suite [components]: the options may hold spaces inside the brackets.
_ONE_LINE = re.compile(
    r"^(?P<lead>\s*deb(?:-src)?(?:\s+\[[^\]]*\])?\s+)(?P<uri>\S+)(?P<rest>\s+(?P<suite>\S+).*)$",
    re.DOTALL)
_FIELD = re.compile(r"^(?P<name>[A-Za-z0-9-]+):(?P<value>.*)$", re.DOTALL)


class MirrorError(Exception):
    """A problem the module reports as its failure message."""


@dataclass(frozen=True)
class Targets:
    """Where OS archive entries go, and how to recognise them."""

    url: str
    security_url: str
    archive_locations: tuple[str, ...]
    security_locations: tuple[str, ...]
    # URLs an earlier run set: entries at them are OS entries too, so a new mirror replaces them.
    previous_archive: tuple[str, ...] = ()
    previous_security: tuple[str, ...] = ()


@dataclass
class Rewrite:
    """The text a file would have, and what changed in it."""

    text: str
    changes: list[str] = field(default_factory=list)
    # OS archive entries seen (rewritten or already at the mirror): 0 means nothing matched.
    os_entries: int = 0


def location(uri: str) -> str:
    """host/path of a URI, lower-case host, without scheme or trailing slash ("" for file:)."""
    rest = _SCHEME.sub("", uri, count=1)
    if not rest.startswith("//"):
        return ""
    host, _, path = rest[2:].partition("/")
    return f"{host.lower()}/{path}".rstrip("/")


def same_url(first: str, second: str) -> bool:
    """Equal but for a trailing slash and file:/// against file:/ (apt reads both alike)."""
    def canon(url: str) -> str:
        url = url.rstrip("/")
        return "file:/" + url[len("file:///"):] if url.startswith("file:///") else url
    return canon(first) == canon(second)


def is_security_suite(suite: str) -> bool:
    return suite.endswith("-security") or suite.endswith("/updates")


def target_for(uri: str, suites: list[str], targets: Targets) -> str | None:
    """The URL an entry should point at, or None when it is not an OS entry to rewrite."""
    known, wanted = classify(uri, suites, targets)
    if not known or not wanted or same_url(uri, wanted):
        return None
    return wanted


def is_os_entry(uri: str, suites: list[str], targets: Targets) -> bool:
    """An OS archive entry: one this module rewrites, or one already at the mirror."""
    known, wanted = classify(uri, suites, targets)
    return known or (bool(wanted) and same_url(uri, wanted))


def classify(uri: str, suites: list[str], targets: Targets) -> tuple[bool, str]:
    """Whether URI is a known OS archive location for SUITES, and the URL it should have."""
    if not suites:
        return False, ""
    security = [is_security_suite(s) for s in suites]
    if any(security) and not all(security):
        raise MirrorError(
            f"an entry at {uri} mixes security and other suites ({' '.join(suites)}): it cannot "
            "point at one mirror. Fix: split it into one entry for the security suites and one "
            "for the others.")
    where = location(uri)
    if all(security):
        known = any(fnmatch.fnmatchcase(where, p) for p in targets.security_locations) or any(
            same_url(uri, u) for u in targets.previous_security)
        wanted = targets.security_url
    else:
        known = any(fnmatch.fnmatchcase(where, p) for p in targets.archive_locations) or any(
            same_url(uri, u) for u in targets.previous_archive)
        wanted = targets.url
    return known, wanted


def rewrite_one_line(text: str, targets: Targets, name: str = "") -> Rewrite:
    """sources.list format: only the URI of matching deb/deb-src lines changes."""
    out = Rewrite("")
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        body = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
        match = _ONE_LINE.match(body.rstrip("\r\n"))
        wanted = match and target_for(match["uri"], [match["suite"]], targets)
        if match and is_os_entry(match["uri"], [match["suite"]], targets):
            out.os_entries += 1
        if match and wanted:
            start, end = match.span("uri")
            line = line[:start] + wanted + line[end:]
            out.changes.append(f"{name}:{number} {match['uri']} -> {wanted}")
        out.text += line
    return out


def _stanzas(lines: list[str]) -> list[list[int]]:
    """Line indexes of each deb822 stanza (blank lines separate them; comments belong inside)."""
    stanzas: list[list[int]] = [[]]
    for index, line in enumerate(lines):
        if line.strip():
            stanzas[-1].append(index)
        elif stanzas[-1]:
            stanzas.append([])
    return [s for s in stanzas if any(not lines[i].lstrip().startswith("#") for i in s)]


def _fields(lines: list[str], stanza: list[int]) -> dict[str, list[int]]:
    """Field name (lower-case) -> its line indexes (the first, then continuation lines)."""
    fields: dict[str, list[int]] = {}
    current: list[int] | None = None
    for index in stanza:
        line = lines[index]
        if line.startswith("#"):
            continue
        if line[:1] in (" ", "\t"):
            if current is not None:
                current.append(index)
            continue
        match = _FIELD.match(line)
        current = fields.setdefault(match["name"].lower(), []) if match else None
        if current is not None:
            current.append(index)
    return fields


def _value(lines: list[str], indexes: list[int]) -> str:
    first = _FIELD.match(lines[indexes[0]])
    parts = [first["value"] if first else ""] + [lines[i] for i in indexes[1:]]
    return " ".join(p.strip() for p in parts if not p.strip().startswith("#"))


def _swap_uris(value: str, suites: list[str], targets: Targets, where: str,
               changes: list[str]) -> str:
    """VALUE (a URIs field's text) with each OS archive URI replaced, spacing kept."""
    def swap(uri: re.Match[str]) -> str:
        wanted = target_for(uri[0], suites, targets)
        if not wanted:
            return uri[0]
        changes.append(f"{where} {uri[0]} -> {wanted}")
        return wanted
    return re.sub(r"\S+", swap, value)


def rewrite_deb822(text: str, targets: Targets, name: str = "") -> Rewrite:
    """.sources format: only URIs of enabled stanzas of the OS archive change, in place."""
    lines = text.splitlines(keepends=True)
    changes: list[str] = []
    os_entries = 0
    for stanza in _stanzas(lines):
        fields = _fields(lines, stanza)
        if "uris" not in fields or "suites" not in fields:
            continue
        if "enabled" in fields and _value(lines, fields["enabled"]).lower() in ("no", "false"):
            continue
        suites = _value(lines, fields["suites"]).split()
        for index in fields["uris"]:
            line = lines[index]
            head = _FIELD.match(line)
            offset = len(head["name"]) + 1 if head else 0
            if line[offset:].lstrip().startswith("#"):
                continue
            os_entries += sum(is_os_entry(uri, suites, targets)
                              for uri in line[offset:].split("#", 1)[0].split())

            lines[index] = line[:offset] + _swap_uris(
                line[offset:], suites, targets, f"{name}:{index + 1}", changes)
    return Rewrite("".join(lines), changes, os_entries)


def rewrite(text: str, kind: str, targets: Targets, name: str = "") -> Rewrite:
    return (rewrite_deb822 if kind == DEB822 else rewrite_one_line)(text, targets, name)


def source_files(apt_dir: Path) -> list[tuple[Path, str]]:
    """apt's source files, each with its format, in apt's reading order."""
    found = [(apt_dir / "sources.list", ONE_LINE)] if (apt_dir / "sources.list").is_file() else []
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.is_file() and path.suffix in (".list", ".sources"):
                found.append((path, DEB822 if path.suffix == ".sources" else ONE_LINE))
    return found


def apt_url_forms(url: str) -> list[str]:
    """How apt prints a URL in its messages (file:///x as file:/x), without trailing slash."""
    url = url.rstrip("/")
    return [url, "file:/" + url[len("file:///"):]] if url.startswith("file:///") else [url]


def update_problems(output: str, urls: list[str]) -> tuple[list[str], list[str]]:
    """(problems naming one of URLS, other problems) from apt-get update's output.

    A problem is an Err:, W: or E: line; an Err: line's reason is on the next line, kept with
    it. apt-get update exits 0 when a source cannot be reached (W: Failed to fetch), so the
    exit code alone cannot tell.
    """
    forms = [form for url in urls if url for form in apt_url_forms(url)]
    mine: list[str] = []
    other: list[str] = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith(("Err:", "W:", "E:")):
            continue
        text = line
        if line.startswith("Err:") and index + 1 < len(lines) and lines[index + 1][:1] == " ":
            text = f"{line} ({lines[index + 1].strip()})"
        named = any(re.search(re.escape(f) + r"(?=[/\s]|$)", line) for f in forms)
        (mine if named else other).append(text)
    return mine, other


def _atomic_write(path: Path, data: bytes) -> None:
    """Replace PATH with DATA, keeping its owner and mode (sources are world-readable)."""
    info = path.stat()
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chown(temp, info.st_uid, info.st_gid)
        Path(temp).chmod(info.st_mode & 0o7777)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _backup(state_dir: Path, path: Path, data: bytes, stamp: str) -> Path:
    folder = state_dir / "backups"
    folder.mkdir(parents=True, exist_ok=True, mode=0o755)
    copy = folder / f"{str(path).strip('/').replace('/', '_')}.{stamp}"
    copy.write_bytes(data)
    copy.chmod(0o644)
    return copy


def _read_state(state_dir: Path) -> dict[str, list[str]]:
    try:
        data = json.loads((state_dir / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(state_dir: Path, targets: Targets) -> None:
    old = _read_state(state_dir)
    state = {
        "archive": sorted({*old.get("archive", []), targets.url}),
        "security": sorted({*old.get("security", []),
                            *([targets.security_url] if targets.security_url else [])}),
    }
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    (state_dir / "state.json").write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")


Runner = Callable[[list[str]], tuple[int, str, str]]


def apply(params: dict[str, Any], check_mode: bool, run: Runner) -> dict[str, Any]:
    """Rewrite, update, roll back on failure. RUN runs a command: (rc, stdout, stderr)."""
    state_dir = Path(params["state_dir"])
    state = _read_state(state_dir)
    targets = Targets(
        url=params["url"], security_url=params["security_url"] or "",
        archive_locations=tuple(params["archive_locations"]),
        security_locations=tuple(params["security_locations"]),
        previous_archive=tuple(state.get("archive", [])),
        previous_security=tuple(state.get("security", [])))
    planned: list[tuple[Path, bytes, str]] = []
    changes: list[str] = []
    diffs: list[dict[str, str]] = []
    os_entries = 0
    for path, kind in source_files(Path(params["apt_dir"])):
        raw = path.read_bytes()
        text = raw.decode("utf-8", errors="surrogateescape")
        result = rewrite(text, kind, targets, str(path))
        os_entries += result.os_entries
        if result.changes:
            planned.append((path, raw, result.text))
            changes += result.changes
            diffs.append({"before_header": str(path), "after_header": str(path),
                          "before": text, "after": result.text})
    outcome: dict[str, Any] = {"changed": bool(planned), "changed_files": [str(p[0]) for p in
                               planned], "rewritten": changes, "update_warnings": [],
                               "os_entries": os_entries, "diff": diffs}
    if not planned or check_mode:
        return outcome
    stamp = time.strftime("%Y%m%dT%H%M%S")
    outcome["backups"] = [str(_backup(state_dir, path, raw, stamp)) for path, raw, _ in planned]
    for path, _, text in planned:
        _atomic_write(path, text.encode("utf-8", errors="surrogateescape"))
    _write_state(state_dir, targets)
    if not params["update"]:
        return outcome
    rc, out, err = run(["apt-get", "update"])
    urls = [targets.url, targets.security_url]
    mine, other = update_problems(out + "\n" + err, urls)
    outcome["update_warnings"] = other
    if not mine and rc == 0:
        return outcome
    for path, raw, _ in planned:
        _atomic_write(path, raw)
    again_rc, again_out, again_err = run(["apt-get", "update"])
    again = "worked" if again_rc == 0 else (
        f"failed too (rc {again_rc}: {(again_err or again_out).strip().splitlines()[-1:]})")
    reasons = "; ".join(mine) or f"apt-get update exited {rc}: {(err or out).strip()[-400:]}"
    raise MirrorError(
        f"apt update through the mirror {' and '.join(u for u in urls if u)} failed: {reasons}. "
        f"The previous sources were restored ({', '.join(str(p[0]) for p in planned)}; copies "
        f"in {state_dir / 'backups'}), and apt update on them {again}. Fix: check that the "
        "mirror URL serves this release's dists/ (InRelease) from this host, then run again.")


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "security_url": {"type": "str", "default": ""},
            "archive_locations": {"type": "list", "elements": "str", "required": True},
            "security_locations": {"type": "list", "elements": "str", "required": True},
            "apt_dir": {"type": "path", "default": "/etc/apt"},
            "state_dir": {"type": "path", "default": "/var/lib/gpuhost/apt-mirror"},
            "update": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )

    def run(argv: list[str]) -> tuple[int, str, str]:
        # C locale: the output is parsed for Err:/W:/E: lines.
        return module.run_command(argv, environ_update={"LC_ALL": "C", "LANG": "C"})

    try:
        result = apply(module.params, module.check_mode, run)
    except MirrorError as err:
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(msg=f"{err.filename or 'apt sources'}: {err.strerror or err}")
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
