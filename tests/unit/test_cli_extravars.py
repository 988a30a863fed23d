"""-e / --extra-vars parsing: key=value, @file (YAML or JSON), inline JSON; clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib.exitcodes import InputError
from provisionlib.extravars import parse_extra_vars, parse_one


def test_key_value_pairs_stay_strings() -> None:
    assert parse_one("a=1 b=two c='with space' d=") == {
        "a": "1", "b": "two", "c": "with space", "d": ""}


def test_value_may_contain_equals() -> None:
    assert parse_one("url=http://x/?a=b") == {"url": "http://x/?a=b"}


def test_inline_json_keeps_types() -> None:
    assert parse_one('{"n": 3, "on": true, "l": [1, "x"]}') == {
        "n": 3, "on": True, "l": [1, "x"]}


def test_inline_yaml_flow_mapping() -> None:
    assert parse_one("{a: 1, b: [x]}") == {"a": 1, "b": ["x"]}


def test_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "v.yml"
    path.write_text("docker_engine_version: '27.5'\nusers:\n  - alice\n")
    assert parse_one(f"@{path}") == {"docker_engine_version": "27.5", "users": ["alice"]}


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    path.write_text('{"x": {"y": 1}}')
    assert parse_one(f"@{path}") == {"x": {"y": 1}}


def test_empty_file_is_no_vars(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert parse_one(f"@{path}") == {}


def test_later_values_win() -> None:
    assert parse_extra_vars(["a=1 b=1", '{"b": 2}', "a=3"]) == {"a": "3", "b": 2}


@pytest.mark.parametrize("value,fragment", [
    ("justaword", "'justaword' is not key=value"),
    ("1abc=2", "'1abc=2' is not key=value"),
    ("a='open", "close the quote"),
    ('{"a": 1', "not valid JSON"),
    ("[1, 2]", "is not key=value"),
    ('{"bad key": 1}', "invalid variable name"),
    ("", "empty extra-vars"),
    ("@/nonexistent/file.yml", "cannot read the file"),
])
def test_errors_name_the_input(value: str, fragment: str) -> None:
    with pytest.raises(InputError) as err:
        parse_one(value)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_file_must_hold_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yml"
    path.write_text("- a\n- b\n")
    with pytest.raises(InputError, match="expected a mapping of variables, got list"):
        parse_one(f"@{path}")


def test_file_with_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("a: [1,\nb: 2\n")
    with pytest.raises(InputError, match=r"not valid YAML/JSON at line \d"):
        parse_one(f"@{path}")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads any file whatever its mode, so the refusal is simulated on read_text."""
    path = tmp_path / "secret.yml"
    path.write_text("a: 1\n")

    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(InputError, match="Permission denied"):
        parse_one(f"@{path}")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the file"):
        parse_one(f"@{tmp_path}")
