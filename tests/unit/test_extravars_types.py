"""-e key=value strings are typed once, by the roles' meta/argument_specs.yml (extravars.py).

Before this, `-e docker_access_create_users=true` reached the role as the string "true" and
ansible-core 2.19 stopped with "Conditional result (True) was derived from value of type 'str'".
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib.exitcodes import InputError
from provisionlib.extravars import parse_extra_vars


@pytest.mark.parametrize("text,expected", [
    ("docker_access_create_users=true", True),
    ("docker_access_create_users=True", True),
    ("docker_access_create_users=yes", True),
    ("docker_access_create_users=false", False),
    ("docker_access_create_users=no", False),
    ("docker_access_create_users=0", False),
])
def test_bool_typed_keys_become_bools(text: str, expected: bool) -> None:
    key = text.partition("=")[0]
    assert parse_extra_vars([text])[key] is expected


@pytest.mark.parametrize("key", [
    "docker_access_allow_world_writable_socket",
    "docker_engine_allow_method_change",
])
def test_every_roles_bools(key: str) -> None:
    assert parse_extra_vars([f"{key}=true"])[key] is True


def test_int_typed_key_becomes_int() -> None:
    assert parse_extra_vars(["docker_engine_apt_cache_valid_time=3600"]) == {
        "docker_engine_apt_cache_valid_time": 3600}


@pytest.mark.parametrize("text,expected", [
    ("docker_access_users=alice", ["alice"]),
    ("docker_access_users=alice,bob", ["alice", "bob"]),
    ("docker_access_users='alice, bob'", ["alice", "bob"]),
    ("docker_access_users=", []),
    ('docker_access_users=["alice","bob"]', ["alice", "bob"]),
])
def test_list_typed_key_becomes_list(text: str, expected: list[str]) -> None:
    assert parse_extra_vars([text])["docker_access_users"] == expected


@pytest.mark.parametrize("text,expected", [
    ("docker_engine_version=27.5", "27.5"),
    ("docker_engine_version=27", "27"),
    ("docker_access_socket_mode=0660", "0660"),  # raw: never coerced
    ("docker_access_socket_group=true", "true"),  # str: never coerced
    ("not_a_role_variable=true", "true"),  # unknown: Ansible's rule (a string)
])
def test_str_raw_and_unknown_keys_stay_strings(text: str, expected: str) -> None:
    key = text.partition("=")[0]
    assert parse_extra_vars([text])[key] == expected


def test_typed_values_from_files_and_json_are_kept() -> None:
    assert parse_extra_vars(['{"docker_access_create_users": false, "n": "true"}']) == {
        "docker_access_create_users": False, "n": "true"}


def test_string_bool_from_json_is_typed_too() -> None:
    got = parse_extra_vars(['{"docker_access_create_users": "yes"}'])
    assert got == {"docker_access_create_users": True}


@pytest.mark.parametrize("text,fragment", [
    ("docker_access_create_users=maybe", "docker_access_create_users='maybe'"),
    ("docker_engine_apt_cache_valid_time=soon", "a whole number"),
    ("docker_access_users=[oops", "a list"),
])
def test_a_value_that_does_not_fit_the_type_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as err:
        parse_extra_vars([text])
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)
