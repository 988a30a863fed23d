# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""What the docker_access role decides from, read in one go (users, the socket's group,
docker.socket, the live socket, the drop-in, rootless state).

Shared by docker_access_facts (the role's own look) and provision_host_facts, which takes the
same look inside its one round trip when the preflight hands it docker_access's inputs (they
are known before the run), so a no-op run reads the host for docker_access only once.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

try:
    from ansible.module_utils.gpuhost_host import Cmd
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import Cmd

Runner = Callable[[list[str]], Cmd]
LINGER_DIR = "/var/lib/systemd/linger"
SUBID_FILES = ("subuid", "subgid")


def passwd_entry(entry: pwd.struct_passwd) -> list[str]:
    return [entry.pw_passwd, str(entry.pw_uid), str(entry.pw_gid), entry.pw_gecos,
            entry.pw_dir, entry.pw_shell]


def group_entry(entry: grp.struct_group) -> list[str]:
    return [entry.gr_passwd, str(entry.gr_gid), ",".join(entry.gr_mem)]


def read_passwd(users: Iterable[str], primary_gid: int | None,
                getpwnam: Callable[[str], Any] = pwd.getpwnam,
                getpwall: Callable[[], list[Any]] = pwd.getpwall) -> dict[str, list[str]]:
    """The listed users that exist, plus every user whose primary group is primary_gid."""
    out: dict[str, list[str]] = {}
    for name in dict.fromkeys(users):
        try:
            out[name] = passwd_entry(getpwnam(name))
        except KeyError:
            continue
    if primary_gid is not None:
        for entry in getpwall():
            if entry.pw_gid == primary_gid:
                out.setdefault(entry.pw_name, passwd_entry(entry))
    return out


def read_group(name: str, getgrnam: Callable[[str], Any] = grp.getgrnam) -> dict[str, list[str]]:
    try:
        return {name: group_entry(getgrnam(name))}
    except KeyError:
        return {}


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def live_socket(path: str) -> dict[str, Any]:
    """Like ansible.builtin.stat without follow: the socket itself, never a link's target."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False, "gr_name": None, "mode": None}
    return {"exists": True, "gr_name": group_name(info.st_gid),
            "mode": f"{stat.S_IMODE(info.st_mode):04o}"}


def read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def dropin(path: str) -> dict[str, Any]:
    # A link is reported, not read: docker_unit_dropin refuses to write through one, and the
    # role leaves that refusal to it.
    symlink = Path(path).is_symlink()
    content = None if symlink else read_text(path)
    return {"exists": symlink or content is not None, "symlink": symlink, "content": content}


def socket_load_state(run: Runner) -> str:
    cmd = run(["systemctl", "show", "--property=LoadState", "--value", "docker.socket"])
    return cmd.stdout.strip() if cmd.ok else ""


def user_systemctl(run: Runner, user: str, uid: str, verb: str) -> bool:
    cmd = run(["runuser", "-u", user, "--", "env", f"XDG_RUNTIME_DIR=/run/user/{uid}",
               "systemctl", "--user", verb, "docker.service"])
    return cmd.ok


def rootless_state(run: Runner, users: dict[str, list[str]], linger_dir: str = LINGER_DIR
                   ) -> dict[str, dict[str, Any]]:
    """Per existing rootless user: lingering, and the user daemon's state where it can be known."""
    out: dict[str, dict[str, Any]] = {}
    for user, entry in users.items():
        linger = Path(linger_dir, user).exists()
        enabled = user_systemctl(run, user, entry[1], "is-enabled") if linger else None
        active = user_systemctl(run, user, entry[1], "is-active") if enabled else None
        out[user] = {"linger": linger, "enabled": enabled, "active": active}
    return out


def docker_packages(run: Runner) -> str:
    # dpkg-query exits 1 when one of the two names is unknown; the other is still listed.
    return run(["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Abbrev}\n",
                "docker-ce", "docker.io"]).stdout


def gather(params: dict[str, Any], run: Runner, etc: str = "/etc") -> dict[str, Any]:
    """Everything the role reads; `etc` is a parameter so tests can plant files."""
    group = read_group(params["socket_group"])
    gid = int(group[params["socket_group"]][1]) if group else None
    rootless_names = list(dict.fromkeys(params["rootless_users"]))
    passwd = read_passwd([*params["users"], *rootless_names], gid)
    present = {u: passwd[u] for u in rootless_names if u in passwd}
    return {
        "passwd": passwd,
        "group": group,
        "socket_unit": socket_load_state(run),
        "live_socket": live_socket(params["socket_path"]),
        "dropin": dropin(params["dropin_path"]),
        "profile_script_exists": os.path.lexists(params["profile_script"]),
        "docker_packages": docker_packages(run) if rootless_names else "",
        "subid": ({name: read_text(str(Path(etc, name))) for name in SUBID_FILES}
                  if rootless_names else {}),
        "rootless": rootless_state(run, present),
    }


# The parameters of the look, with their Python types: provision_host_facts takes the look only
# when every one is there with its type (a wrongly typed input is docker_access's checks to
# refuse, after which the role takes its own look).
LOOK_PARAMS: dict[str, type] = {"users": list, "socket_group": str, "dropin_path": str,
                                "profile_script": str, "rootless_users": list}
# The live socket docker_access_facts reads by default (the role never sets another).
SOCKET_PATH = "/run/docker.sock"


def look_params(given: Any) -> dict[str, Any] | None:
    """The look's parameters from an untyped mapping, or None when any is missing or mistyped."""
    if not isinstance(given, dict) or set(given) != set(LOOK_PARAMS):
        return None
    for key, kind in LOOK_PARAMS.items():
        value = given[key]
        if not isinstance(value, kind):
            return None
        if kind is list and not all(isinstance(item, str) for item in value):
            return None
    return {key: given[key] for key in LOOK_PARAMS}
