# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""What the enroot role decides from, read in one go.

Shared by enroot_facts (the role's own look) and provision_host_facts, which takes the same
look inside its one round trip when the preflight hands it the role's look parameters
(provision_host.looks), so a no-op run does not read the host again for the role.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder).
try:
    from ansible.module_utils.gpuhost_access import read_passwd
    from ansible.module_utils.gpuhost_host import Cmd
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_access import (
        read_passwd,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import Cmd

Runner = Callable[[list[str]], Cmd]
NSENTER = "/usr/bin/enroot-nsenter"
DPKG_FORMAT = "--showformat=${Package}\t${db:Status-Abbrev}\t${Version}\n"


def parse_installed(text: str) -> dict[str, str]:
    """dpkg-query lines `name<TAB>abbrev<TAB>version` -> name -> version, installed ones only."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and len(parts[1]) >= 2 and parts[1][1] == "i" and parts[2]:
            out[parts[0]] = parts[2]
    return out


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_sysctls(names: Iterable[str], proc: str) -> dict[str, int | None]:
    return {name: read_int(Path(proc, "sys", *name.split("."))) for name in names}


def proc_sys_writable(proc: str) -> bool:
    """access(W_OK) says EROFS on a read-only mount, even for root."""
    return os.access(Path(proc, "sys", "user", "max_user_namespaces"), os.W_OK)


def _name(lookup: Callable[[int], Any], ident: int) -> str:
    try:
        return str(lookup(ident)[0])
    except KeyError:
        return str(ident)


def owner_mode(info: os.stat_result) -> dict[str, str]:
    return {"mode": f"{stat.S_IMODE(info.st_mode):04o}",
            "owner": _name(pwd.getpwuid, info.st_uid),
            "group": _name(grp.getgrgid, info.st_gid)}


def dir_state(path: str) -> dict[str, str] | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return {"mode": "not a directory", "owner": "", "group": ""}
    return owner_mode(info)


def hooks_state(hooks_dir: str, extra_dir: str) -> dict[str, Any]:
    linked: dict[str, str] = {}
    extra: list[str] = []
    hooks, extras = Path(hooks_dir), Path(extra_dir)
    if hooks.is_dir():
        for entry in sorted(hooks.iterdir()):
            if entry.is_symlink():
                linked[entry.name] = str(entry.readlink())
    if extras.is_dir():
        extra = sorted(e.name for e in extras.iterdir() if e.name.endswith(".sh"))
    return {"linked": linked, "extra": extra}


def apparmor_state(profile: str, loaded_list: str) -> dict[str, bool]:
    try:
        loaded = any(line.startswith(NSENTER + " ")
                     for line in Path(loaded_list).read_text(encoding="utf-8").splitlines())
    except OSError:
        loaded = False
    return {"profile": Path(profile).is_file(), "loaded": loaded}


def read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def path_state(path: str, text: bool = True) -> dict[str, Any] | None:
    """What the file and template modules compare, without following a link."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    kind = ("link" if stat.S_ISLNK(info.st_mode) else "directory" if stat.S_ISDIR(info.st_mode)
            else "file" if stat.S_ISREG(info.st_mode) else "other")
    out: dict[str, Any] = {"type": kind, **owner_mode(info)}
    if kind == "file":
        data = Path(path).read_bytes()
        if text:
            try:
                out["text"] = data.decode("utf-8")
            except UnicodeDecodeError:
                out["text"] = None
        else:
            out["sha1"] = hashlib.sha1(data).hexdigest()
    return out


CONFIG_DIRS = (".config", ".config/enroot")
CREDENTIALS = ".config/enroot/.credentials"


def user_state(entry: list[str]) -> dict[str, Any]:
    """One user's side of enroot_credentials: where the role writes, as it is now."""
    home = entry[4]
    on_the_way = [f"{home}/{part}" for part in (*CONFIG_DIRS, CREDENTIALS)]
    return {"passwd": entry, "group": _name(grp.getgrgid, int(entry[2])),
            "links": [path for path in on_the_way if Path(path).is_symlink()],
            "dirs": {part: path_state(f"{home}/{part}") for part in CONFIG_DIRS},
            "credentials": path_state(f"{home}/{CREDENTIALS}", text=False)}


def users_state(names: Iterable[str]) -> dict[str, Any]:
    found = read_passwd(names, None)
    return {name: user_state(found[name]) if name in found else None
            for name in dict.fromkeys(names)}


def gather(params: dict[str, Any], run: Runner) -> dict[str, Any]:
    arch = run(["dpkg", "--print-architecture"])
    dpkg = run(["dpkg-query", "--show", DPKG_FORMAT, *params["packages"]])
    return {
        "arch": arch.stdout.strip() if arch.ok else "",
        "packages": parse_installed(dpkg.stdout),
        "sysctls": read_sysctls(params["sysctls"], params["proc"]),
        "proc_sys_writable": proc_sys_writable(params["proc"]),
        "apparmor": apparmor_state(params["apparmor_profile"], params["apparmor_profiles"]),
        "dirs": {path: dir_state(path) for path in params["dirs"]},
        "hooks": hooks_state(params["hooks_dir"], params["extra_hooks_dir"]),
        "sysctl_text": read_text(params["sysctl_file"]),
        "files": {path: path_state(path) for path in params["files"]},
        "users": users_state(params["users"]),
    }


# enroot_facts' options; provision_host_facts checks a look handed to it against the same spec
# (ArgumentSpecValidator), so both take it with the same values.
ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "packages": {"type": "list", "elements": "str", "required": True},
    "sysctls": {"type": "list", "elements": "str",
                "default": ["user.max_user_namespaces", "user.max_mnt_namespaces",
                            "kernel.unprivileged_userns_clone",
                            "kernel.apparmor_restrict_unprivileged_userns"]},
    "dirs": {"type": "list", "elements": "path", "default": []},
    "hooks_dir": {"type": "path", "default": "/etc/enroot/hooks.d"},
    "extra_hooks_dir": {"type": "path", "default": "/usr/share/enroot/hooks.d"},
    "apparmor_profile": {"type": "path", "default": "/etc/apparmor.d/enroot"},
    "sysctl_file": {"type": "path", "default": "/etc/sysctl.d/60-enroot.conf"},
    "files": {"type": "list", "elements": "path", "default": []},
    "users": {"type": "list", "elements": "str", "default": []},
    "proc": {"type": "path", "default": "/proc"},
    "apparmor_profiles": {"type": "path", "default": "/sys/kernel/security/apparmor/profiles"},
}
# Seconds one command (dpkg, dpkg-query) may run.
COMMAND_TIMEOUT = 30
