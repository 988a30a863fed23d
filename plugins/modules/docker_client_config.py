#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Merge registry credential entries into one user's ~/.docker/config.json."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_client_config
short_description: Merge credHelpers and auths entries into a Docker client config.json
description:
  - Reads the Docker client configuration of one user (C(~/.docker/config.json)), sets the
    given C(credHelpers) and C(auths) entries and writes the file back atomically, mode 0600,
    owned by the user. Every other key (and every other registry) the user wrote stays.
  - The file is compared by meaning, not by bytes, so a file the docker CLI re-indented is not
    rewritten.
  - Refuses a symlinked C(~/.docker) or C(config.json) (root would write where a user points it)
    and a file that is not a JSON object, naming the path and the fix.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  path:
    description: The config.json to manage; its folder is made (mode 0700) when missing.
    type: path
    required: true
  owner:
    description: User that owns the folder and the file (numeric uid).
    type: int
    required: true
  group:
    description: Group of the folder and the file (numeric gid).
    type: int
    required: true
  cred_helpers:
    description: Registry host -> helper name (C(ecr-login) runs C(docker-credential-ecr-login)).
    type: dict
    default: {}
  auths:
    description: Registry key -> username and password, stored as base64 C(user:password).
    type: list
    elements: dict
    default: []
    suboptions:
      registry:
        description: The key Docker looks the registry up by (C(localhost:5000), C(https://index.docker.io/v1/)).
        type: str
        required: true
      username:
        description: Login name.
        type: str
        required: true
      password:
        description: Password or token.
        type: str
        required: true
        no_log: true
notes:
  - Supports check mode and diff mode; the diff shows C(auth) values masked.
"""

EXAMPLES = r"""
- name: ECR through its credential helper, a private registry by password
  docker_client_config:
    path: /home/alice/.docker/config.json
    owner: 1000
    group: 1000
    cred_helpers:
      123456789012.dkr.ecr.eu-west-1.amazonaws.com: ecr-login
    auths:
      - registry: registry.example.com
        username: alice
        password: "{{ vault_registry_password }}"
"""

RETURN = r"""
path:
  description: The file managed.
  returned: always
  type: str
"""

import base64
import contextlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

MASK = "********"


class ConfigError(Exception):
    """The file on disk cannot be merged into safely; the message says why and the fix."""


def encode_auth(username: str, password: str) -> str:
    """The `auth` value docker login writes: base64 of "user:password"."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def parse_config(text: str, path: str) -> dict[str, Any]:
    """config.json's object; an empty file counts as {} (docker treats it so)."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{path} is not valid JSON ({err.msg} at line {err.lineno} column {err.colno}): "
            "the docker CLI would not read it either. Fix: repair or remove the file, then run "
            "again. Nothing was changed.") from err
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} holds a JSON {type(data).__name__}, not an object. Fix: repair or remove "
            "the file, then run again. Nothing was changed.")
    for key in ("credHelpers", "auths"):
        if key in data and not isinstance(data[key], dict):
            raise ConfigError(
                f"{path}: {key} is a JSON {type(data[key]).__name__}, not an object. Fix: "
                "repair the file, then run again. Nothing was changed.")
    return data


def merge(config: dict[str, Any], cred_helpers: dict[str, str],
          auths: list[dict[str, str]]) -> dict[str, Any]:
    """A new config with the entries set; everything else (other keys of an entry too) kept."""
    merged = json.loads(json.dumps(config))
    if cred_helpers:
        merged["credHelpers"] = {**merged.get("credHelpers", {}), **cred_helpers}
    for entry in auths:
        entries = merged.setdefault("auths", {})
        current = entries.get(entry["registry"])
        current = dict(current) if isinstance(current, dict) else {}
        current["auth"] = encode_auth(entry["username"], entry["password"])
        entries[entry["registry"]] = current
    return merged


def render(config: dict[str, Any]) -> str:
    """The docker CLI's own layout (tab indent), so a later `docker login` changes little."""
    return json.dumps(config, indent="\t") + "\n"


def masked(config: dict[str, Any]) -> dict[str, Any]:
    """A copy safe to show: every auth, password and token value replaced."""
    copy = json.loads(json.dumps(config))
    for entry in (copy.get("auths") or {}).values():
        if isinstance(entry, dict):
            for key in ("auth", "password", "identitytoken", "registrytoken"):
                if key in entry:
                    entry[key] = MASK
    return copy


def check_not_symlink(path: str) -> bool:
    """True when path exists (as a real file or folder); a symlink is refused."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        raise ConfigError(
            f"{path} is a symlink: the role writes Docker credentials there as root and will not "
            "follow a link the user could point at another file. Fix: replace the link with a "
            "real folder or file owned by the user, then run again. Nothing was changed.")
    return True


FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
NAME = "config.json"


def open_folder(folder: str, owner: int, group: int, check_mode: bool) -> tuple[int | None, bool]:
    """~/.docker opened without following a link, made (0700) or handed to the user when needed.

    Root works in a folder the user owns, so every later step goes through this descriptor
    (dir_fd): a link the user swaps in for ~/.docker or config.json between two steps makes the
    step fail instead of sending root's write, chown or read to another file. Returns the
    descriptor (None in check mode when the folder is missing) and whether the folder changed.
    """
    if not check_not_symlink(folder):
        if check_mode:
            return None, True
        Path(folder).mkdir(mode=0o700)
        descriptor = os.open(folder, FOLDER_FLAGS)
        os.fchown(descriptor, owner, group)
        return descriptor, True
    try:
        descriptor = os.open(folder, FOLDER_FLAGS)
    except OSError as err:
        # Linux answers ENOTDIR (or ELOOP) for a link here: a link swapped in after the check.
        raise ConfigError(
            f"{folder} is not a real folder (a file or a symlink). Fix: replace it with a "
            "folder owned by the user, then run again. Nothing was changed.") from err
    info = os.fstat(descriptor)
    # A ~/.docker left root's by `sudo docker login` keeps the user out of their own file.
    if (info.st_uid, info.st_gid) == (owner, group):
        return descriptor, False
    if not check_mode:
        os.fchown(descriptor, owner, group)
    return descriptor, True


def read_current(folder: int | None, path: str) -> tuple[dict[str, Any], os.stat_result | None]:
    """config.json's object and its stat (None when absent), read without following a link."""
    if folder is None or not check_not_symlink(path):
        return {}, None
    try:
        descriptor = os.open(NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError as err:
        check_not_symlink(path)
        raise ConfigError(
            f"{path} cannot be opened ({err.strerror}). Nothing was changed.") from err
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path} is not a regular file. Fix: remove it. Nothing was changed.")
        text = handle.read().decode("utf-8")
    return parse_config(text, path), info


def write_atomically(folder: int, text: str, owner: int, group: int) -> None:
    """A temporary file in the same folder, then rename: a reader never sees half a file."""
    temporary = f".{NAME}.{secrets.token_hex(8)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                         dir_fd=folder)
    try:
        os.fchmod(descriptor, 0o600)
        os.fchown(descriptor, owner, group)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, NAME, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)
        raise


def fix_attributes(folder: int, owner: int, group: int) -> None:
    """Mode 0600 and the user's ownership on the file as it is, through the folder's descriptor."""
    descriptor = os.open(NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    try:
        os.fchmod(descriptor, 0o600)
        os.fchown(descriptor, owner, group)
    finally:
        os.close(descriptor)


def run(params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """The whole module without AnsibleModule: what changed, and the diff (masked)."""
    path = str(params["path"])
    if Path(path).name != NAME:
        raise ConfigError(f"path {path} does not name a {NAME}. Nothing was changed.")
    owner, group = params["owner"], params["group"]
    folder, folder_changed = open_folder(str(Path(path).parent), owner, group, check_mode)
    try:
        current, info = read_current(folder, path)
        wanted = merge(current, params["cred_helpers"] or {}, params["auths"] or [])
        content_changed = info is None or wanted != current
        attributes_changed = info is not None and (
            stat.S_IMODE(info.st_mode) != 0o600 or (info.st_uid, info.st_gid) != (owner, group))
        if not check_mode and folder is not None:
            if content_changed:
                write_atomically(folder, render(wanted), owner, group)
            elif attributes_changed:
                fix_attributes(folder, owner, group)
    finally:
        if folder is not None:
            os.close(folder)
    return {
        "changed": content_changed or attributes_changed or folder_changed,
        "path": path,
        "diff": {"before": render(masked(current)) if info is not None else "",
                 "after": render(masked(wanted)),
                 "before_header": path, "after_header": path},
    }


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "owner": {"type": "int", "required": True},
            "group": {"type": "int", "required": True},
            "cred_helpers": {"type": "dict", "default": {}},
            "auths": {"type": "list", "elements": "dict", "default": [], "options": {
                "registry": {"type": "str", "required": True},
                "username": {"type": "str", "required": True},
                "password": {"type": "str", "required": True, "no_log": True},
            }},
        },
        supports_check_mode=True,
    )
    try:
        result = run(module.params, module.check_mode)
    except ConfigError as err:
        module.fail_json(msg=str(err), path=module.params["path"])
    except OSError as err:
        module.fail_json(msg=f"{module.params['path']}: {err.strerror}", path=module.params["path"])
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
