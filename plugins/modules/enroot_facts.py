#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Everything the enroot role reads from a host, in one read-only round trip."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: enroot_facts
short_description: Read what the enroot role decides from, in one call
description:
  - Read-only. Returns the dpkg architecture, the installed versions of the named packages,
    the kernel settings enroot needs (and whether /proc/sys can be written), the state of
    enroot's AppArmor profile, the mode and owner of the shared directories, the hooks linked
    into /etc/enroot/hooks.d and the extra hooks enroot ships, the sysctl.d file the role
    writes, the text and owner of the files the role templates, and, per user of
    enroot_credentials, the passwd entry, the symlinks on the way to the credentials file, the
    two folders and the credentials file's checksum (never its text).
  - The role decides on the controller from this one result.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  packages:
    description: Package names whose installed version is read (one dpkg-query).
    type: list
    elements: str
    required: true
  sysctls:
    description: Kernel settings read from /proc/sys (dotted names; a missing one is null).
    type: list
    elements: str
    default: [user.max_user_namespaces, user.max_mnt_namespaces,
              kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns]
  dirs:
    description: Directories whose mode, owner and group are reported (null when missing).
    type: list
    elements: path
    default: []
  hooks_dir:
    description: enroot's system hook directory.
    type: path
    default: /etc/enroot/hooks.d
  extra_hooks_dir:
    description: Where the enroot package ships its optional hooks.
    type: path
    default: /usr/share/enroot/hooks.d
  apparmor_profile:
    description: enroot's AppArmor profile (installed by the enroot package since 3.5).
    type: path
    default: /etc/apparmor.d/enroot
  sysctl_file:
    description: The sysctl.d file the role writes; its text is returned.
    type: path
    default: /etc/sysctl.d/60-enroot.conf
  files:
    description: Files whose text, mode, owner and group are reported (null when missing).
    type: list
    elements: path
    default: []
  users:
    description: Users whose enroot credentials the role writes (see RETURN users).
    type: list
    elements: str
    default: []
  proc:
    description: Where procfs is mounted (tests point it elsewhere).
    type: path
    default: /proc
  apparmor_profiles:
    description: The kernel's list of loaded AppArmor profiles.
    type: path
    default: /sys/kernel/security/apparmor/profiles
"""

EXAMPLES = r"""
- name: Read what the enroot role decides from
  enroot_facts:
    packages: [enroot, enroot+caps, libnvidia-container-tools]
    dirs: [/run/enroot, /var/lib/enroot/cache, /var/lib/enroot/data]
  register: enroot_host
"""

RETURN = r"""
arch:
  description: dpkg --print-architecture (empty where dpkg is missing).
  returned: always
  type: str
packages:
  description: Name -> installed version (only installed packages are listed).
  returned: always
  type: dict
sysctls:
  description: Dotted name -> integer value, null where the setting does not exist.
  returned: always
  type: dict
proc_sys_writable:
  description: Whether /proc/sys can be written (false in most containers).
  returned: always
  type: bool
apparmor:
  description: "{profile (the file exists), loaded (enroot-nsenter is in the kernel's list)}."
  returned: always
  type: dict
dirs:
  description: Path -> {mode (4 octal digits), owner, group}, null when missing.
  returned: always
  type: dict
hooks:
  description: "{linked: name -> link target for symlinks in hooks_dir, extra: names in
    extra_hooks_dir}."
  returned: always
  type: dict
sysctl_text:
  description: Text of O(sysctl_file), null when missing.
  returned: always
  type: str
files:
  description: Path -> {type (file, directory, link, other), text (files only, null when not
    UTF-8), mode, owner, group}, null when missing. A link is not followed.
  returned: always
  type: dict
users:
  description: "Name -> null when there is no such user, else {passwd: [password, uid, gid,
    gecos, home, shell], group: primary group name, links: paths among ~/.config,
    ~/.config/enroot and ~/.config/enroot/.credentials that are symlinks, dirs: {.config,
    .config/enroot} -> path state, credentials: state of ~/.config/enroot/.credentials with its
    sha1 instead of its text}."
  returned: always
  type: dict
"""

import grp
import hashlib
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
    from ansible.module_utils.gpuhost_access import read_passwd
    from ansible.module_utils.gpuhost_host import Cmd, module_runner
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_access import (
        read_passwd,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        Cmd,
        module_runner,
    )

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


def main() -> None:
    module = AnsibleModule(
        argument_spec={
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
            "apparmor_profiles": {"type": "path",
                                  "default": "/sys/kernel/security/apparmor/profiles"},
        },
        supports_check_mode=True,
    )
    run = module_runner(module, 30)
    module.exit_json(changed=False, **gather(module.params, run))


if __name__ == "__main__":
    main()
