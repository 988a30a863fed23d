"""Every role names its variables alike in its three places, with the same defaults.

For each directory in roles/ (found when the tests are collected, so a new role is held to
this as soon as it exists): defaults/main.yml, the options of every entry point in
meta/argument_specs.yml (main and any tasks_from one), and the table(s) under the README's
"## Variables" heading list the same variables; where argument_specs and defaults/main.yml
both give a default they agree; every variable starts with "<role>_".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ROLES = sorted(path.name for path in ROLES_DIR.iterdir()
               if path.is_dir() and not path.name.startswith("."))

DEFAULTS = "defaults/main.yml"
SPECS = "meta/argument_specs.yml"
README = "README.md variable table"

_HEADING = re.compile(r"^(#+)\s+(.*?)\s*#*\s*$")
_SEPARATOR = re.compile(r"^\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*$")
_NAME_CELL = re.compile(r"^`([a-z_][a-z0-9_]*)`$")


@dataclass(frozen=True)
class Option:
    """One option of meta/argument_specs.yml and the entry point that documents it."""

    entry_point: str
    spec: dict[str, Any]


def _cells(line: str) -> list[str]:
    # A cell may hold an escaped pipe (\|); only unescaped ones separate cells.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _variables_section(lines: list[str], where: str) -> list[tuple[int, str]]:
    """(line number, line) of the "## Variables" section, up to the next heading of level 1-2."""
    starts = [n for n, line in enumerate(lines)
              if (m := _HEADING.match(line)) and len(m[1]) == 2 and m[2].lower() == "variables"]
    assert len(starts) <= 1, f"{where}: {len(starts)} '## Variables' headings, expected one"
    if not starts:
        return []
    section = []
    for n in range(starts[0] + 1, len(lines)):
        heading = _HEADING.match(lines[n])
        if heading and len(heading[1]) <= 2:
            break
        section.append((n + 1, lines[n]))
    return section


def _tables(section: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Runs of consecutive lines that start with a pipe."""
    tables: list[list[tuple[int, str]]] = []
    previous = False
    for number, line in section:
        is_row = line.startswith("|")
        if is_row and not previous:
            tables.append([])
        if is_row:
            tables[-1].append((number, line))
        previous = is_row
    return tables


def _is_variable_table(table: list[tuple[int, str]]) -> bool:
    return (len(table) >= 2 and _cells(table[0][1])[0].lower() == "variable"
            and bool(_SEPARATOR.match(table[1][1])))


def readme_variables(text: str, where: str = "README.md") -> list[str]:
    """Variable names from the tables under "## Variables" whose first column is "variable".

    Strict: every row of such a table names exactly one variable as `name`, once; a Variables
    section without such a table is an error. Tables in ### subsections (an entry point's
    variables, say) count; tables elsewhere in the README do not.
    """
    section = _variables_section(text.splitlines(), where)
    tables = [table for table in _tables(section) if _is_variable_table(table)]
    assert tables or not section, (
        f"{where}: the '## Variables' section has no table whose first column is 'variable'")
    names: list[str] = []
    for number, line in (row for table in tables for row in table[2:]):
        cell = _cells(line)[0]
        match = _NAME_CELL.match(cell)
        assert match, f"{where} line {number}: first cell {cell!r} is not one `variable_name`"
        assert match[1] not in names, f"{where} line {number}: {match[1]} listed twice"
        names.append(match[1])
    return names


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None


def role_defaults(role: str) -> dict[str, Any]:
    data = _read_yaml(ROLES_DIR / role / DEFAULTS) or {}
    assert isinstance(data, dict), f"{role}: {DEFAULTS} is not a mapping of variables"
    return data


def role_options(role: str) -> dict[str, list[Option]]:
    """Every top-level option of every entry point (suboptions are not variables)."""
    data = _read_yaml(ROLES_DIR / role / SPECS)
    assert isinstance(data, dict) and isinstance(data.get("argument_specs"), dict), (
        f"{role}: {SPECS} is missing or has no argument_specs mapping")
    options: dict[str, list[Option]] = {}
    for entry_point, spec in data["argument_specs"].items():
        for name, option in ((spec or {}).get("options") or {}).items():
            options.setdefault(name, []).append(Option(entry_point, option or {}))
    return options


def role_readme(role: str) -> list[str]:
    path = ROLES_DIR / role / "README.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return readme_variables(text, f"roles/{role}/README.md")


def _sources(role: str) -> dict[str, set[str]]:
    return {DEFAULTS: set(role_defaults(role)), SPECS: set(role_options(role)),
            README: set(role_readme(role))}


@pytest.mark.parametrize("role", ROLES)
def test_the_same_variables_in_all_three_places(role: str) -> None:
    sources = _sources(role)
    problems = []
    for name in sorted(set().union(*sources.values())):
        missing = [where for where, names in sources.items() if name not in names]
        present = [where for where, names in sources.items() if name in names]
        if missing:
            problems.append(f"roles/{role}: {name} is missing from {' and '.join(missing)} "
                            f"(it is in {' and '.join(present)})")
    assert not problems, "\n".join(problems)


def _templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


# "{{ other_role_var | default(LITERAL) }}": the literal is what the role gets on its own.
_FALLBACK = re.compile(r"^\{\{.*\|\s*default\((.+)\)\s*\}\}$")


def _effective(value: Any) -> tuple[bool, Any]:
    """(comparable, value): a templated default compares by its literal fallback, if any."""
    if not _templated(value):
        return True, value
    match = _FALLBACK.match(value.strip())
    return (True, yaml.safe_load(match[1])) if match else (False, None)


def _canonical(value: Any) -> str:
    # JSON tells false from 0 and 1 from 1.0, which == in Python does not.
    return json.dumps(value, sort_keys=True, default=str)


@pytest.mark.parametrize("role", ROLES)
def test_argument_spec_defaults_are_the_defaults(role: str) -> None:
    """A default that follows another role's variable compares by its `default()` fallback."""
    defaults = role_defaults(role)
    problems = []
    for name, options in sorted(role_options(role).items()):
        comparable, value = _effective(defaults.get(name))
        if name not in defaults or not comparable:
            continue
        for option in options:
            if "default" in option.spec and (
                    _canonical(option.spec["default"]) != _canonical(value)):
                problems.append(
                    f"roles/{role}: {name} defaults to {defaults[name]!r} in {DEFAULTS} but to "
                    f"{option.spec['default']!r} in {SPECS} (entry point {option.entry_point})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_carries_the_role_prefix(role: str) -> None:
    problems = [f"roles/{role}: {name} (in {where}) does not start with {role}_"
                for where, names in _sources(role).items()
                for name in sorted(names) if not name.startswith(f"{role}_")]
    assert not problems, "\n".join(problems)


README_SAMPLE = """\
# r

| variable | default | meaning |
|---|---|---|
| `not_counted` | | a table outside the Variables section |

## Variables
Some words.

| Variable | Default | Meaning |
|:---|---|---|
| `r_one` | `a \\| b` | escaped pipe in a cell |
| `r_two` | `{}` | x |

### Entry point `restart`
| variable | what |
|---|---|
| `r_three` | y |

| check | meaning |
|---|---|
| `engine` | another table, not variables |

## Example
| variable | default |
|---|---|
| `r_example` | not counted either |
"""


def test_readme_parser_reads_only_the_variables_section() -> None:
    assert readme_variables(README_SAMPLE) == ["r_one", "r_two", "r_three"]
    assert readme_variables("# r\n\nno variables section\n") == []


@pytest.mark.parametrize(("row", "complaint"), [
    ("| r_one | `a` | no backticks |", "is not one `variable_name`"),
    ("| `r_one` / `r_two` | | two names |", "is not one `variable_name`"),
    ("| `r_two` | | listed again |", "r_two listed twice"),
])
def test_readme_parser_is_strict(row: str, complaint: str) -> None:
    text = f"## Variables\n| variable | default |\n|---|---|\n| `r_two` | |\n{row}\n"
    with pytest.raises(AssertionError, match=re.escape(complaint)):
        readme_variables(text)


@pytest.mark.parametrize(("value", "expected"), [
    ("{{ docker_access_users | default([]) }}", (True, [])),
    ("{{ other_mode | default('0660') }}", (True, "0660")),
    ("{{ other_var }}", (False, None)),
    ("0660", (True, "0660")),
    (False, (True, False)),
])
def test_templated_defaults_compare_by_their_fallback(value: Any, expected: tuple) -> None:
    assert _effective(value) == expected


def test_a_variables_section_needs_a_variable_table() -> None:
    with pytest.raises(AssertionError, match="no table whose first column is 'variable'"):
        readme_variables("## Variables\n| name | default |\n|---|---|\n| `r_a` | 1 |\n")
