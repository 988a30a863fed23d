"""Parse `-e/--extra-vars` the way ansible-playbook accepts them, but fail early and clearly.

Each value is one of: `key=value [key=value ...]` (values stay strings, as in Ansible),
`@path` to a YAML or JSON file holding a mapping, or an inline JSON/YAML mapping `{...}`.
Later values override earlier ones key by key (Ansible's default `hash_behaviour=replace`).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from provisionlib.exitcodes import InputError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HINT = "use key=value, @file.yml or a JSON object"


def parse_extra_vars(values: list[str]) -> dict[str, Any]:
    """Merge every -e value, in order, into one mapping."""
    merged: dict[str, Any] = {}
    for value in values:
        merged.update(parse_one(value))
    return merged


def parse_one(value: str) -> dict[str, Any]:
    """Parse one -e value; raise InputError naming the value and the fix."""
    text = value.strip()
    if not text:
        raise InputError(f"-e '': empty extra-vars; {_HINT}")
    if text.startswith("@"):
        return _from_file(text[1:])
    if text.startswith("{"):
        return _from_inline(text)
    return _from_pairs(text)


def _from_file(name: str) -> dict[str, Any]:
    path = Path(name).expanduser()
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            f"-e @{name}: cannot read the file ({reason}); give a readable YAML or JSON file"
        ) from exc
    import yaml  # only here: keeps start-up lean for the common case

    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"-e @{name}: not valid YAML/JSON{where}; fix the file") from exc
    if data is None:
        return {}
    return _mapping(data, f"-e @{name}")


def _from_inline(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        import yaml  # Ansible also takes YAML flow mappings such as {a: 1}

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            raise InputError(
                f"-e '{text}': not valid JSON ({exc.msg} at column {exc.colno}); {_HINT}"
            ) from exc
    return _mapping(data, f"-e '{text}'")


def _from_pairs(text: str) -> dict[str, Any]:
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise InputError(f"-e '{text}': {exc}; close the quote or {_HINT}") from exc
    pairs: dict[str, Any] = {}
    for token in tokens:
        key, sep, val = token.partition("=")
        if not sep or not _NAME.match(key):
            raise InputError(f"-e '{text}': '{token}' is not key=value; {_HINT}")
        pairs[key] = val
    return pairs


def _mapping(data: object, label: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(f"{label}: expected a mapping of variables, got {type(data).__name__}")
    bad = [str(k) for k in data if not isinstance(k, str) or not _NAME.match(k)]
    if bad:
        raise InputError(f"{label}: invalid variable name(s) {', '.join(bad)}; use identifiers")
    return data
