"""Parse `-e/--extra-vars` the way ansible-playbook accepts them, but fail early and clearly.

Each value is one of: `key=value [key=value ...]`, `@path` to a YAML or JSON file holding a
mapping, or an inline JSON/YAML mapping `{...}`. Later values override earlier ones key by key
(Ansible's default `hash_behaviour=replace`).

Typing rule (the one place it happens): a role variable whose `meta/argument_specs.yml` type is
bool, int, float, list or dict and whose value arrived as a string (key=value always does) is
converted to that type here, so every role sees a typed value (ansible-core 2.19 refuses a
string in a conditional): bool from true/false/yes/no/on/off/1/0 (any case); int and float
from their decimal text; list from `a,b,c` (items stripped, empty string = []) or a YAML/JSON
list `[a, b]`; dict from a YAML/JSON mapping (empty string = {}). A value that does not fit its
type is refused here, naming the variable, the value, the type and the fix. Variables typed str,
path or raw (a version such as "27.5", a mode such as "0660") and variables no role declares stay
exactly as given, as ansible-playbook leaves them.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from provisionlib.exitcodes import InputError
from provisionlib.runner import PROJECT_DIR

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HINT = "use key=value, @file.yml or a JSON object"


def parse_extra_vars(values: list[str]) -> dict[str, Any]:
    """Merge every -e value, in order, into one mapping."""
    merged: dict[str, Any] = {}
    for value in values:
        merged.update(parse_one(value))
    return coerce(merged)


_TYPED = ("bool", "int", "float", "list", "dict")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def role_types(roles_dir: Path | None = None) -> dict[str, tuple[str, str | None]]:
    """name -> (type, list element type) for every role variable typed bool/int/float/list/dict.

    Read from every entry point of every role's meta/argument_specs.yml.
    """
    import yaml

    types: dict[str, tuple[str, str | None]] = {}
    for spec_file in sorted((roles_dir or PROJECT_DIR / "roles").glob("*/meta/argument_specs.yml")):
        data = yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}
        for entry in (data.get("argument_specs") or {}).values():
            for name, option in ((entry or {}).get("options") or {}).items():
                kind = (option or {}).get("type", "str")
                if kind in _TYPED:
                    types.setdefault(name, (kind, option.get("elements")))
    return types


def coerce(variables: dict[str, Any], types: dict[str, tuple[str, str | None]] | None = None,
           ) -> dict[str, Any]:
    """Convert string values of typed role variables to their type (module docstring)."""
    strings = {k: v for k, v in variables.items() if isinstance(v, str)}
    if not strings:
        return variables
    known = role_types() if types is None else types
    typed = dict(variables)
    for key, value in strings.items():
        if key in known:
            kind, elements = known[key]
            typed[key] = _convert(key, value, kind, elements)
    return typed


def _convert(key: str, value: str, kind: str, elements: str | None) -> Any:
    text = value.strip()
    try:
        if kind == "bool":
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError("true or false (yes/no, on/off, 1/0)")
        if kind == "int":
            try:
                return int(text)
            except ValueError:
                raise ValueError("a whole number") from None
        if kind == "float":
            try:
                return float(text)
            except ValueError:
                raise ValueError("a number") from None
        if kind == "list":
            items = _structured(text, list, "a list: a,b,c or [a, b]") if text.startswith("[") \
                else [item.strip() for item in text.split(",") if item.strip()]
            if elements in ("int", "float", "bool"):
                items = [_convert(key, item, elements, None) if isinstance(item, str) else item
                         for item in items]
            return items
        if kind == "dict":
            return _structured(text, dict, "a mapping such as {a: 1}") if text else {}
    except ValueError as exc:
        raise InputError(
            f"-e {key}={value!r}: {key} is typed {kind} in its role's argument_specs, so the "
            f"value must be {exc}; fix the value or pass it in a YAML/JSON -e"
        ) from None
    return value


def _structured(text: str, kind: type, what: str) -> Any:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValueError(what) from None
    if not isinstance(data, kind):
        raise ValueError(what)
    return data


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
