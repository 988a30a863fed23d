#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""The one writer of /etc/docker/daemon.json: merge, compare by value, validate, back up."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_daemon_json
short_description: Deep-merge settings into Docker's daemon.json without clobbering other keys
description:
  - Deep-merges O(options) into the JSON object already in O(path) and removes the dotted key paths
    listed in O(absent). Keys it is not told about are kept, so fragments from several roles (and
    from C(nvidia-ctk runtime configure)) live side by side.
  - Compares by value, not by bytes; a file in another formatting (nvidia-ctk writes 4-space
    sorted JSON) that already holds the wanted values is no change.
  - Writes atomically (temporary file in the same directory, then rename), keeps the file's mode
    and owner (C(0644) root for a new file) and leaves a backup of the previous file, whose path
    is returned for a rollback.
  - Refuses to write a file that C(dockerd --validate) rejects (Docker >= 23; skipped where dockerd
    lacks the flag or is not installed) or that sets a key the docker.service unit already passes
    as a flag (for example C(hosts) against C(-H fd://)); dockerd would refuse to start.
  - An existing file that is not a JSON object stops the module with the parse error; the file is
    left untouched.
  - Before it replaces the file it records a pending Docker restart on the host (the shared
    restart contract, module_utils C(gpuhost_docker_restart)), with a copy of the file as it was;
    the C(docker_restart) role restarts Docker once for every such change and restores that copy
    if Docker does not come back. So no task needs to notify a handler.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  path:
    description: The daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  options:
    description: Settings to deep-merge into the file. Nested objects merge; other values replace.
    type: dict
    default: {}
  absent:
    description:
      - Dotted key paths to remove, such as C(runtimes.nvidia) or C(default-runtime).
      - A path that is not there is no change. A key may not be both set and removed.
    type: list
    elements: str
    default: []
  backup:
    description: Keep a copy of the previous file next to it before replacing it.
    type: bool
    default: true
  validate:
    description: Run C(dockerd --validate) and the flag-conflict check before writing.
    type: bool
    default: true
  exec_start:
    description:
      - The docker.service C(ExecStart) command line, to check flags against keys.
      - Empty means read it from C(systemctl cat docker.service) (no check when there is no unit).
    type: str
    default: ""
  dockerd:
    description: dockerd binary used for validation (looked up on PATH).
    type: str
    default: dockerd
  restart:
    description:
      - Record a pending restart of docker.service when the file changes (see the description).
      - Set false only for a file the system's Docker daemon does not read.
    type: bool
    default: true
notes:
  - Supports check mode and diff mode; the diff is the before and after JSON (4-space, sorted).
  - Key paths use C(.) as separator, so a key that itself contains a dot cannot be removed.
"""

EXAMPLES = r"""
- name: Log rotation and the systemd cgroup driver
  docker_daemon_json:
    options:
      log-driver: json-file
      log-opts: {max-size: 10m, max-file: "3"}
      exec-opts: ["native.cgroupdriver=systemd"]
# ...and, in the playbook's last Docker play: the one restart, with rollback.
- name: Restart Docker once for this run's changes
  ansible.builtin.include_role:
    name: docker_restart

- name: Stop using nvidia as the default runtime
  docker_daemon_json:
    absent: [default-runtime]
"""

RETURN = r"""
path:
  description: The file managed.
  returned: always
  type: str
config:
  description: The settings after the change (what is, or in check mode would be, in the file).
  returned: always
  type: dict
backup_file:
  description: Copy of the previous file; empty when nothing was replaced or there was no file.
  returned: always
  type: str
  sample: /etc/docker/daemon.json.20261101-101500.1~
created:
  description: The file did not exist before.
  returned: always
  type: bool
validated:
  description: How the new content was validated (C(dockerd), C(skipped ...), C(no change)).
  returned: always
  type: str
restart_requested:
  description: A Docker restart is (or in check mode would be) pending because of this change.
  returned: always
  type: bool
"""

import json
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder).
try:
    from ansible.module_utils.gpuhost_docker_restart import (
        STATE_DIR,
        RestartStateError,
        request,
        writer_facts,
    )
    from ansible.module_utils.gpuhost_host import bounded, module_executor, subprocess_executor
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_docker_restart import (
        STATE_DIR,
        RestartStateError,
        request,
        writer_facts,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        bounded,
        module_executor,
        subprocess_executor,
    )

Runner = Callable[[list[str]], tuple[int, str, str]]

NEW_FILE_MODE = 0o644

# dockerd flags whose daemon.json key is not simply the flag name.
FLAG_KEYS = {
    "H": "hosts",
    "host": "hosts",
    "label": "labels",
    "storage-opt": "storage-opts",
    "log-opt": "log-opts",
    "exec-opt": "exec-opts",
    "add-runtime": "runtimes",
    "insecure-registry": "insecure-registries",
    "registry-mirror": "registry-mirrors",
    "default-ulimit": "default-ulimits",
    "authorization-plugin": "authorization-plugins",
    "dns-opt": "dns-opts",
    "g": "data-root",
    "graph": "data-root",
    "D": "debug",
    "l": "log-level",
    "G": "group",
    "b": "bridge",
    "p": "pidfile",
}


class DaemonJsonError(Exception):
    """A refusal with a message meant for the user."""


def parse(text: str, path: str) -> dict[str, Any]:
    """The file's object; whitespace-only or missing content counts as an empty object."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DaemonJsonError(
            f"{path} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}; "
            "fix or remove it (left untouched)"
        ) from err
    if not isinstance(data, dict):
        raise DaemonJsonError(f"{path} must hold a JSON object, found {type(data).__name__}")
    return data


def refuse_symlink(path: str) -> None:
    """A symlink is refused as one: read, it would be another file's content (parsed as JSON
    and reported as "not valid JSON"); written, the replace would drop the link and its target
    would silently stop being Docker's configuration."""
    if Path(path).is_symlink():
        raise DaemonJsonError(
            f"{path} is a symlink (to {Path(path).readlink()}): refusing to read or replace it. "
            f"Fix: make {path} a regular file (copy the target's JSON there, or remove the "
            "link); nothing was changed"
        )


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A new dict: objects merge recursively, every other value from `extra` replaces."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def remove_paths(data: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of `data` without the dotted key paths (missing paths are ignored)."""
    result = json.loads(json.dumps(data))
    for path in paths:
        *parents, leaf = path.split(".")
        node: Any = result
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return result


def leaf_paths(data: dict[str, Any], prefix: str = "") -> set[str]:
    """Every dotted path in `data`, objects included."""
    paths: set[str] = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        paths.add(path)
        if isinstance(value, dict):
            paths |= leaf_paths(value, path + ".")
    return paths


def check_overlap(options: dict[str, Any], absent: list[str]) -> None:
    both = sorted(leaf_paths(options) & set(absent))
    if both:
        raise DaemonJsonError(f"keys both set and listed as absent: {', '.join(both)}")


def render(data: dict[str, Any]) -> str:
    """The same layout nvidia-ctk writes (4-space indent, sorted keys), plus a final newline."""
    return json.dumps(data, indent=4, sort_keys=True) + "\n"


def exec_start_flags(exec_start: str) -> set[str]:
    """daemon.json keys that the unit's command line already sets as flags."""
    try:
        words = shlex.split(exec_start)
    except ValueError:
        words = exec_start.split()
    keys: set[str] = set()
    for word in words[1:]:
        if not word.startswith("-") or word == "-":
            continue
        name = word.lstrip("-").split("=", 1)[0]
        if name:
            keys.add(FLAG_KEYS.get(name, name))
    return keys


def unit_exec_start(systemctl_cat: str) -> str:
    """The effective ExecStart from `systemctl cat` output (an empty ExecStart= resets it)."""
    current = ""
    for line in systemctl_cat.splitlines():
        line = line.strip()
        if line.startswith("ExecStart="):
            current = line[len("ExecStart="):].strip()
    return current


def flag_conflicts(config: dict[str, Any], exec_start: str) -> list[str]:
    return sorted(exec_start_flags(exec_start) & set(config))


# dockerd --validate and systemctl cat answer in seconds; a hung one must not hang the run.
COMMAND_TIMEOUT = 60
run_command = bounded(subprocess_executor, COMMAND_TIMEOUT)


def read_exec_start(runner: Runner) -> str:
    rc, out, _ = runner(["systemctl", "cat", "docker.service"])
    return unit_exec_start(out) if rc == 0 else ""


def validate_with_dockerd(dockerd: str, config_file: str, runner: Runner) -> str:
    """'dockerd' when dockerd accepted the file, 'skipped ...' when it cannot validate."""
    binary = shutil.which(dockerd) or (dockerd if Path(dockerd).is_absolute() else None)
    if not binary or not Path(binary).exists():
        return "skipped (dockerd not installed)"
    rc, out, err = runner([binary, "--validate", "--config-file", config_file])
    text = (out + err).strip()
    if rc == 0:
        return "dockerd"
    if "unknown flag" in text and "validate" in text:
        return "skipped (dockerd older than 23 has no --validate)"
    raise DaemonJsonError(f"dockerd --validate rejected the new configuration: {text}")


def write_temp(directory: str, content: str) -> str:
    fd, tmp = tempfile.mkstemp(prefix=".daemon.json.", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def backup_path(path: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    counter = 1
    while Path(f"{path}.{stamp}.{counter}~").exists():
        counter += 1
    return f"{path}.{stamp}.{counter}~"


def install(tmp: str, path: str, backup: bool) -> str:
    """Rename `tmp` over `path` keeping mode/owner; the backup's path ('' if none)."""
    saved = ""
    target, staged = Path(path), Path(tmp)
    if target.exists():
        stat = target.stat()
        staged.chmod(stat.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(tmp, stat.st_uid, stat.st_gid)
        if backup:
            saved = backup_path(path)
            shutil.copy2(path, saved)
    else:
        staged.chmod(NEW_FILE_MODE)
    staged.replace(target)
    return saved


def validate(config: dict[str, Any], params: dict[str, Any], runner: Runner,
             directory: str) -> tuple[str, str]:
    """Check the new config; the temp file holding it and how it was validated."""
    exec_start = params["exec_start"] or read_exec_start(runner)
    clashes = flag_conflicts(config, exec_start)
    if clashes:
        raise DaemonJsonError(
            f"refusing to set {', '.join(clashes)} in {params['path']}: docker.service already "
            f"passes it as a flag ({exec_start}); dockerd would not start. Change the unit with "
            "a drop-in instead, or drop the key."
        )
    tmp = write_temp(directory, render(config))
    try:
        how = validate_with_dockerd(params["dockerd"], tmp, runner)
    except DaemonJsonError:
        Path(tmp).unlink()
        raise
    return tmp, how


def apply(params: dict[str, Any], check_mode: bool, runner: Runner = run_command,
          restart_state: str = "") -> dict[str, Any]:
    """Everything the module does; raises DaemonJsonError for refusals.

    restart_state: where the pending restart is recorded ('' records none: unit tests, and
    files the system daemon does not read).
    """
    path = params["path"]
    check_overlap(params["options"], params["absent"])
    refuse_symlink(path)
    exists = Path(path).exists()
    text = Path(path).read_text(encoding="utf-8") if exists else ""
    before = parse(text, path)
    after = remove_paths(deep_merge(before, params["options"]), params["absent"])
    result: dict[str, Any] = {
        "changed": after != before, "path": path, "config": after, "backup_file": "",
        "created": not exists, "validated": "no change", "restart_requested": False,
        "diff": {"before": render(before) if exists else "", "after": render(after),
                 "before_header": path, "after_header": path},
    }
    if not result["changed"]:
        return result
    directory = str(Path(path).parent)
    if check_mode and not Path(directory).is_dir():
        directory = tempfile.gettempdir()
    elif not check_mode:
        Path(directory).mkdir(mode=0o755, parents=True, exist_ok=True)
    tmp, result["validated"] = (
        validate(after, params, runner, directory) if params["validate"]
        else (write_temp(directory, render(after)), "skipped (validate=false)")
    )
    result["restart_requested"] = bool(restart_state)
    if check_mode:
        Path(tmp).unlink()
        return result
    try:
        if restart_state:
            request(["docker.service"], f"{path} changed", path=path, state_dir=restart_state)
        result["backup_file"] = install(tmp, path, params["backup"])
    finally:
        Path(tmp).unlink(missing_ok=True)
    return result


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/docker/daemon.json"},
            "options": {"type": "dict", "default": {}},
            "absent": {"type": "list", "elements": "str", "default": []},
            "backup": {"type": "bool", "default": True},
            "validate": {"type": "bool", "default": True},
            "exec_start": {"type": "str", "default": ""},
            "dockerd": {"type": "str", "default": "dockerd"},
            "restart": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    try:
        result = apply(module.params, module.check_mode,
                       bounded(module_executor(module), COMMAND_TIMEOUT),
                       restart_state=STATE_DIR if module.params["restart"] else "")
    except (DaemonJsonError, RestartStateError) as err:
        module.fail_json(msg=str(err), path=module.params["path"])
    except OSError as err:
        module.fail_json(msg=f"{module.params['path']}: {err}", path=module.params["path"])
    if not module._diff:
        result.pop("diff")
    # In any mode: the docker_restart role skips its look when nothing asked this run, and
    # roles compare with provision_host's copy of the files only while nothing wrote them.
    if result["changed"]:
        result["ansible_facts"] = writer_facts(result["restart_requested"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
