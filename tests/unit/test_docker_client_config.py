"""Unit tests for plugins/modules/docker_client_config.py (registry_auth's config.json writer).

Real files in a temporary folder, owned by whoever runs the tests: no stand-ins.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from module_loader import load_module

dcc = load_module("docker_client_config")

UID, GID = os.getuid(), os.getgid()
SECRET = "s3cr:et pass"

# What the docker CLI writes after `docker login` and a plugin's own settings (tab indent).
USER_FILE = json.dumps({"auths": {"other.example.com": {"auth": "b3RoZXI6b3RoZXI="}},
                        "psFormat": "table {{.ID}}", "credHelpers": {"gcr.io": "gcloud"}},
                       indent="\t")


def _params(path: Path, **extra: Any) -> dict[str, Any]:
    return {"path": str(path), "owner": UID, "group": GID, "cred_helpers": {}, "auths": [],
            **extra}


def _login(registry: str = "localhost:5000") -> dict[str, str]:
    return {"registry": registry, "username": "alice", "password": SECRET}


def test_encode_auth_is_what_docker_login_stores() -> None:
    assert base64.b64decode(dcc.encode_auth("alice", SECRET)).decode() == f"alice:{SECRET}"


def test_merge_keeps_every_key_the_user_wrote() -> None:
    config = dcc.parse_config(USER_FILE, "x")
    merged = dcc.merge(config, {"1.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}, [_login()])
    assert merged["psFormat"] == "table {{.ID}}"
    assert merged["auths"]["other.example.com"] == {"auth": "b3RoZXI6b3RoZXI="}
    assert merged["credHelpers"] == {"gcr.io": "gcloud",
                                     "1.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}
    assert merged["auths"]["localhost:5000"]["auth"] == dcc.encode_auth("alice", SECRET)
    assert config == dcc.parse_config(USER_FILE, "x"), "merge must not change its input"


def test_merge_replaces_only_the_auth_of_an_existing_entry() -> None:
    config = {"auths": {"localhost:5000": {"auth": "old", "email": "a@b"}}}
    merged = dcc.merge(config, {}, [_login()])
    assert merged["auths"]["localhost:5000"] == {"auth": dcc.encode_auth("alice", SECRET),
                                                 "email": "a@b"}


@pytest.mark.parametrize(("text", "expected"), [
    ("{", "is not valid JSON"),
    ("[1, 2]", "holds a JSON list, not an object"),
    ('{"auths": []}', "auths is a JSON list"),
    ('{"credHelpers": "x"}', "credHelpers is a JSON str"),
])
def test_parse_refuses_what_cannot_be_merged(text: str, expected: str) -> None:
    with pytest.raises(dcc.ConfigError, match=expected):
        dcc.parse_config(text, "/home/a/.docker/config.json")


def test_an_empty_file_is_an_empty_config() -> None:
    assert dcc.parse_config("  \n", "x") == {}


def test_masked_hides_every_secret() -> None:
    config = dcc.merge({"auths": {"r": {"identitytoken": "t0k3n-value"}}}, {}, [_login()])
    shown = json.dumps(dcc.masked(config))
    assert SECRET not in shown and dcc.encode_auth("alice", SECRET) not in shown
    assert "t0k3n-value" not in shown


def test_run_creates_folder_and_file_0600_then_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / ".docker" / "config.json"
    first = dcc.run(_params(path, auths=[_login()]), check_mode=False)
    assert first["changed"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    assert data["auths"]["localhost:5000"]["auth"] == dcc.encode_auth("alice", SECRET)
    assert SECRET not in first["diff"]["after"]
    assert dcc.encode_auth("alice", SECRET) not in first["diff"]["after"]
    assert not dcc.run(_params(path, auths=[_login()]), check_mode=False)["changed"]


def test_run_merges_into_the_users_file_and_compares_by_meaning(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(USER_FILE)
    path.chmod(0o600)
    params = _params(path, cred_helpers={"public.ecr.aws": "ecr-login"})
    assert dcc.run(params, check_mode=False)["changed"]
    data = json.loads(path.read_text())
    assert data["psFormat"] == "table {{.ID}}" and "other.example.com" in data["auths"]
    # Re-indented by someone else, same meaning: no write.
    path.write_text(json.dumps(data, indent=4, sort_keys=True))
    before = path.read_text()
    assert not dcc.run(params, check_mode=False)["changed"]
    assert path.read_text() == before


def test_run_fixes_a_loose_mode_without_rewriting(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"credHelpers": {"public.ecr.aws": "ecr-login"}}')
    path.chmod(0o644)
    result = dcc.run(_params(path, cred_helpers={"public.ecr.aws": "ecr-login"}), False)
    assert result["changed"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == '{"credHelpers": {"public.ecr.aws": "ecr-login"}}'


def test_check_mode_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / ".docker" / "config.json"
    assert dcc.run(_params(path, auths=[_login()]), check_mode=True)["changed"]
    assert not path.parent.exists()


def test_a_symlinked_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "shadow"
    target.write_text("root:x:0:0\n")
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").symlink_to(target)
    with pytest.raises(dcc.ConfigError, match="is a symlink"):
        dcc.run(_params(tmp_path / ".docker" / "config.json", auths=[_login()]), False)
    assert target.read_text() == "root:x:0:0\n"


def test_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / ".docker").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(dcc.ConfigError, match=r"\.docker is a symlink"):
        dcc.run(_params(tmp_path / ".docker" / "config.json", auths=[_login()]), False)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_invalid_json_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths": {')
    with pytest.raises(dcc.ConfigError, match="not valid JSON"):
        dcc.run(_params(path, auths=[_login()]), False)
    assert path.read_text() == '{"auths": {'


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    dcc.run(_params(path, auths=[_login()]), False)
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def _swap_after_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user swaps a link in after the module's lstat check: the check sees nothing wrong."""
    monkeypatch.setattr(dcc, "check_not_symlink", lambda path: os.path.lexists(path))


def test_a_file_link_swapped_in_after_the_check_is_not_followed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "shadow"
    target.write_text("root:x:0:0\n")
    target.chmod(0o640)
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").symlink_to(target)
    _swap_after_the_check(monkeypatch)
    with pytest.raises(dcc.ConfigError, match="cannot be opened"):
        dcc.run(_params(tmp_path / ".docker" / "config.json", auths=[_login()]), False)
    assert target.read_text() == "root:x:0:0\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_folder_link_swapped_in_after_the_check_is_not_followed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / ".docker").symlink_to(tmp_path / "elsewhere")
    _swap_after_the_check(monkeypatch)
    with pytest.raises(dcc.ConfigError, match="not a real folder"):
        dcc.run(_params(tmp_path / ".docker" / "config.json", auths=[_login()]), False)
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a folder to another group needs root")
def test_a_folder_left_roots_is_handed_to_the_user(tmp_path: Path) -> None:
    """`sudo docker login` leaves ~/.docker root's; the user could not reach their file."""
    folder = tmp_path / ".docker"
    folder.mkdir(mode=0o700)
    os.chown(folder, UID, GID + 1)
    path = folder / "config.json"
    assert dcc.run(_params(path, auths=[_login()]), check_mode=True)["changed"]
    assert folder.stat().st_gid == GID + 1, "check mode changed the folder"
    assert dcc.run(_params(path, auths=[_login()]), check_mode=False)["changed"]
    assert (folder.stat().st_uid, folder.stat().st_gid) == (UID, GID)
    assert not dcc.run(_params(path, auths=[_login()]), check_mode=False)["changed"]


def test_a_path_that_is_not_a_config_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(dcc.ConfigError, match=r"does not name a config\.json"):
        dcc.run(_params(tmp_path / "passwd", auths=[_login()]), False)
