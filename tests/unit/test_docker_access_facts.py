"""docker_access_facts: what the docker_access role reads, from planted files and stand-ins.

The look lives in module_utils/gpuhost_access.py (provision_host_facts takes the same look
when the preflight hands it docker_access's inputs); the module is a thin wrapper over it.

User and group look-ups take stand-in NSS functions (or this machine's real root entries);
commands go through a stand-in runner that answers from a table and records what ran.
"""

from __future__ import annotations

import grp
import importlib
import os
import pwd
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from module_loader import load_module

# Loading the module puts plugins/module_utils on ansible.module_utils' path.
load_module("docker_access_facts")
daf = importlib.import_module("ansible.module_utils.gpuhost_access")
Cmd = daf.Cmd


def user(name: str, uid: int, gid: int, home: str = "") -> Any:
    return SimpleNamespace(pw_name=name, pw_passwd="x", pw_uid=uid, pw_gid=gid, pw_gecos="",
                           pw_dir=home or f"/home/{name}", pw_shell="/bin/bash")


USERS = {u.pw_name: u for u in (user("alice", 1000, 1000), user("svc", 990, 998),
                                 user("bob", 1001, 1001))}


def getpwnam(name: str) -> Any:
    return USERS[name]


class Runner:
    """Answers argv by its joined text; records every command."""

    def __init__(self, answers: dict[str, tuple[int, str]]) -> None:
        self.answers = answers
        self.ran: list[str] = []

    def __call__(self, argv: list[str]) -> Any:
        key = " ".join(argv)
        self.ran.append(key)
        rc, out = self.answers.get(key, (1, ""))
        return Cmd(tuple(argv), rc, out, "")


def test_passwd_lists_only_the_asked_users_and_primary_members() -> None:
    got = daf.read_passwd(["alice", "ghost", "alice"], 998, getpwnam,
                          lambda: list(USERS.values()))
    assert got == {
        "alice": ["x", "1000", "1000", "", "/home/alice", "/bin/bash"],
        "svc": ["x", "990", "998", "", "/home/svc", "/bin/bash"],
    }


def test_passwd_without_the_group_lists_no_primary_members() -> None:
    assert list(daf.read_passwd(["bob"], None, getpwnam, lambda: list(USERS.values()))) == ["bob"]


def test_group_in_getent_shape_and_missing_group() -> None:
    entry = SimpleNamespace(gr_passwd="x", gr_gid=998, gr_mem=["alice", "bob"])
    assert daf.read_group("docker", lambda _: entry) == {"docker": ["x", "998", "alice,bob"]}

    def missing(_: str) -> Any:
        raise KeyError

    assert daf.read_group("docker", missing) == {}


def test_live_socket_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("")
    target.chmod(0o600)
    link = tmp_path / "docker.sock"
    link.symlink_to(target)
    assert daf.live_socket(str(tmp_path / "none")) == {"exists": False, "gr_name": None,
                                                        "mode": None}
    got = daf.live_socket(str(target))
    assert got == {"exists": True, "gr_name": grp.getgrgid(os.getgid()).gr_name, "mode": "0600"}
    assert daf.live_socket(str(link))["mode"] == "0777"


def test_dropin_content_absent_and_symlink(tmp_path: Path) -> None:
    path = tmp_path / "gpuhost-access.conf"
    assert daf.dropin(str(path)) == {"exists": False, "symlink": False, "content": None}
    path.write_text("[Socket]\nSocketMode=0640\n")
    assert daf.dropin(str(path))["content"] == "[Socket]\nSocketMode=0640\n"
    link = tmp_path / "link.conf"
    link.symlink_to(tmp_path / "elsewhere")
    assert daf.dropin(str(link)) == {"exists": True, "symlink": True, "content": None}


def test_socket_load_state() -> None:
    argv = "systemctl show --property=LoadState --value docker.socket"
    assert daf.socket_load_state(Runner({argv: (0, "loaded\n")})) == "loaded"
    assert daf.socket_load_state(Runner({argv: (127, "")})) == ""


def test_rootless_state_asks_the_user_manager_only_when_it_lingers(tmp_path: Path) -> None:
    (tmp_path / "alice").write_text("")
    xdg = "runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/1000 systemctl --user"
    run = Runner({f"{xdg} is-enabled docker.service": (0, "enabled"),
                  f"{xdg} is-active docker.service": (3, "inactive")})
    got = daf.rootless_state(run, {"alice": ["x", "1000"], "bob": ["x", "1001"]}, str(tmp_path))
    assert got == {"alice": {"linger": True, "enabled": True, "active": False},
                   "bob": {"linger": False, "enabled": None, "active": None}}
    assert not any("bob" in line for line in run.ran)


def test_rootless_state_skips_is_active_when_not_enabled(tmp_path: Path) -> None:
    (tmp_path / "alice").write_text("")
    run = Runner({})
    got = daf.rootless_state(run, {"alice": ["x", "1000"]}, str(tmp_path))
    assert got == {"alice": {"linger": True, "enabled": False, "active": None}}
    assert len(run.ran) == 1


def test_gather_without_rootless_users_runs_one_command(tmp_path: Path) -> None:
    root = pwd.getpwuid(0)
    group = grp.getgrgid(0).gr_name
    run = Runner({"systemctl show --property=LoadState --value docker.socket": (0, "loaded")})
    (tmp_path / "profile.sh").symlink_to(tmp_path / "gone")
    got = daf.gather({"users": [root.pw_name, "no-such-user-here"], "socket_group": group,
                      "socket_path": str(tmp_path / "docker.sock"),
                      "dropin_path": str(tmp_path / "dropin.conf"),
                      "profile_script": str(tmp_path / "profile.sh"),
                      "rootless_users": []}, run)
    assert got["passwd"][root.pw_name][1] == "0"
    assert "no-such-user-here" not in got["passwd"]
    assert got["group"][group][1] == "0"
    assert got["socket_unit"] == "loaded"
    assert got["live_socket"]["exists"] is False
    assert got["dropin"]["exists"] is False
    assert got["profile_script_exists"] is True
    assert (got["docker_packages"], got["subid"], got["rootless"]) == ("", {}, {})
    assert len(run.ran) == 1


def test_gather_with_rootless_users_reads_packages_and_subids(tmp_path: Path) -> None:
    (tmp_path / "subuid").write_text("alice:100000:65536\n")
    dpkg = "dpkg-query --show --showformat=${Package} ${db:Status-Abbrev}\n docker-ce docker.io"
    run = Runner({dpkg: (1, "docker.io ii \n")})
    got = daf.gather({"users": [], "socket_group": "no-such-group-here",
                      "socket_path": str(tmp_path / "s"), "dropin_path": str(tmp_path / "d"),
                      "profile_script": str(tmp_path / "p"),
                      "rootless_users": ["no-such-user-here"]}, run, etc=str(tmp_path))
    assert got["docker_packages"] == "docker.io ii \n"
    assert got["subid"] == {"subuid": "alice:100000:65536\n", "subgid": None}
    assert got["group"] == {} and got["rootless"] == {}


LOOK_PARAMS = {"users": ["alice"], "socket_group": "docker", "dropin_path": "/d",
               "profile_script": "/p", "rootless_users": []}


def test_look_params_only_when_each_is_there_with_its_type() -> None:
    """provision_host_facts takes docker_access's look only for well-typed parameters: a
    wrongly typed input is docker_access's checks to refuse, by name (the role looks later)."""
    assert daf.look_params(LOOK_PARAMS) == LOOK_PARAMS
    for bad in ({**LOOK_PARAMS, "users": "alice"}, {**LOOK_PARAMS, "users": [1]},
                {**LOOK_PARAMS, "socket_group": None}, {**LOOK_PARAMS, "extra": 1},
                {k: v for k, v in LOOK_PARAMS.items() if k != "dropin_path"}, None, []):
        assert daf.look_params(bad) is None, bad


def test_provision_host_facts_takes_the_look_in_its_round_trip(tmp_path: Path) -> None:
    """The same look as docker_access_facts, with the parameters it was taken with; none
    without them."""
    phf = load_module("provision_host_facts")
    run = Runner({"systemctl show --property=LoadState --value docker.socket": (0, "loaded")})
    host = SimpleNamespace(runner=run)
    root = pwd.getpwuid(0).pw_name
    params = {**LOOK_PARAMS, "users": [root], "dropin_path": str(tmp_path / "d"),
              "profile_script": str(tmp_path / "p")}
    got = phf.gather_docker_access(host, params)
    assert got["params"] == params
    assert got["look"]["passwd"][root][1] == "0"
    assert got["look"]["socket_unit"] == "loaded"
    assert got["look"]["dropin"]["exists"] is False
    assert phf.gather_docker_access(host, None) is None
    assert phf.gather_docker_access(host, {**params, "users": "root"}) is None
