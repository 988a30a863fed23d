#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Everything the docker_access role reads from a host, in one read-only round trip."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_access_facts
short_description: Read what docker_access decides from, in one call
description:
  - Read-only. Returns the user and group entries docker_access needs, the docker.socket unit's
    LoadState, the live socket's group and mode, the socket drop-in and rootless profile script
    as they are on disk, and per rootless user the lingering, subordinate-id and user-daemon
    state, so the role decides on the controller instead of asking one question per task.
  - Users and groups are read through NSS (Python's pwd and grp, as C(getent) does) and given in
    C(getent)'s shapes; only the listed users, the socket's group, and the users whose primary
    group is the socket's group are returned.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  users:
    description: User names to look up (missing ones are simply absent from C(passwd)).
    type: list
    elements: str
    default: []
  socket_group:
    description: The group that should own the socket.
    type: str
    default: docker
  socket_path:
    description: The live Docker socket.
    type: path
    default: /run/docker.sock
  dropin_path:
    description: The docker.socket drop-in docker_access writes.
    type: path
    required: true
  profile_script:
    description: The rootless DOCKER_HOST profile script.
    type: path
    required: true
  rootless_users:
    description: Users whose rootless Docker state is read (those that exist).
    type: list
    elements: str
    default: []
  command_timeout:
    description: Seconds one command (systemctl, runuser, dpkg-query) may run.
    type: int
    default: 30
notes:
  - Supports check mode; it changes nothing in either mode.
"""

EXAMPLES = r"""
- name: Read the host for docker_access
  docker_access_facts:
    users: [alice, bob]
    socket_group: docker
    dropin_path: /etc/systemd/system/docker.socket.d/gpuhost-access.conf
    profile_script: /etc/profile.d/gpuhost-docker-rootless.sh
  register: access_host
"""

RETURN = r"""
passwd:
  description: "C(getent passwd) shape: name -> [password, uid, gid, gecos, home, shell]."
  returned: always
  type: dict
group:
  description: "C(getent group) shape for the socket's group: name -> [password, gid, members]."
  returned: always
  type: dict
socket_unit:
  description: docker.socket's LoadState (C(loaded), C(not-found), or empty when unknown).
  returned: always
  type: str
live_socket:
  description: "{exists, gr_name, mode} of the socket (not followed); mode as C(0660)."
  returned: always
  type: dict
dropin:
  description: "{exists, symlink, content} of the drop-in (content null when absent)."
  returned: always
  type: dict
profile_script_exists:
  description: Whether the rootless profile script exists (or is a link).
  returned: always
  type: bool
docker_packages:
  description: C(dpkg-query) lines for docker-ce and docker.io (only with rootless users).
  returned: always
  type: str
subid:
  description: "Text of /etc/subuid and /etc/subgid, keyed subuid/subgid (null when absent)."
  returned: always
  type: dict
rootless:
  description: >-
    User -> {linger, enabled, active}; enabled and active are null when the user does not
    linger (its systemd manager may not run yet, so the role asks again after enabling it).
  returned: always
  type: dict
"""

import grp
import os
import pwd
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder).
try:
    from ansible.module_utils.gpuhost_host import Cmd, module_runner
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        Cmd,
        module_runner,
    )

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


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "users": {"type": "list", "elements": "str", "default": []},
            "socket_group": {"type": "str", "default": "docker"},
            "socket_path": {"type": "path", "default": "/run/docker.sock"},
            "dropin_path": {"type": "path", "required": True},
            "profile_script": {"type": "path", "required": True},
            "rootless_users": {"type": "list", "elements": "str", "default": []},
            "command_timeout": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    run = module_runner(module, module.params["command_timeout"])
    module.exit_json(changed=False, **gather(module.params, run))


if __name__ == "__main__":
    main()
