#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""A docker.service or docker.socket drop-in, written inside the Docker restart contract."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_unit_dropin
short_description: A docker.service or docker.socket drop-in, with the one shared Docker restart
description:
  - Writes O(content) to C(/etc/systemd/system/<unit>.d/<name>), or removes that file, atomically.
  - Before it changes the file it records a pending restart on the host (module_utils
    C(gpuhost_docker_restart)) with a copy of the file as it was. The C(docker_restart) role then
    runs C(systemctl daemon-reload) and restarts Docker once for every change of the run, and puts
    the copy back if Docker does not come back. No handler is needed, in any play.
  - A docker.socket change restarts the socket and then the daemon (docker.service requires the
    socket); a docker.service change restarts the daemon.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  unit:
    description: The unit the drop-in belongs to.
    type: str
    required: true
    choices: [docker.service, docker.socket]
  name:
    description: File name of the drop-in, ending in C(.conf).
    type: str
    required: true
  content:
    description: The drop-in's text (O(state=present)).
    type: str
    default: ""
  state:
    description: Whether the drop-in should exist.
    type: str
    choices: [present, absent]
    default: present
  systemd_dir:
    description: systemd's directory for local unit files.
    type: path
    default: /etc/systemd/system
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Write Docker's proxy drop-in
  docker_unit_dropin:
    unit: docker.service
    name: http-proxy.conf
    content: "{{ lookup('ansible.builtin.template', 'http-proxy.conf.j2') }}"
"""

RETURN = r"""
path:
  description: The drop-in file.
  returned: always
  type: str
restart_requested:
  description: A Docker restart is (or in check mode would be) pending because of this change.
  returned: always
  type: bool
"""

import os
import tempfile
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
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_docker_restart import (
        STATE_DIR,
        RestartStateError,
        request,
        writer_facts,
    )

UNITS_TO_RESTART = {
    "docker.service": ["docker.service"],
    "docker.socket": ["docker.socket", "docker.service"],
}
FILE_MODE = 0o644


class DropinError(Exception):
    """A refusal, with a message that names the input."""


def dropin_path(params: dict[str, Any]) -> Path:
    name = params["name"]
    if "/" in name or not name.endswith(".conf") or name.startswith("."):
        raise DropinError(
            f"name={name!r}: a drop-in is a plain file name ending in .conf (systemd ignores other "
            "files in the .d directory)"
        )
    return Path(params["systemd_dir"], f"{params['unit']}.d", name)


def read(path: Path) -> str | None:
    if path.is_symlink():
        raise DropinError(f"{path} is a symlink; refusing to write through it")
    return path.read_text(encoding="utf-8") if path.exists() else None


def write_atomic(path: Path, content: str) -> None:
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    Path(tmp).chmod(FILE_MODE)
    Path(tmp).replace(path)


def apply(params: dict[str, Any], check_mode: bool, restart_state: str = "") -> dict[str, Any]:
    """Everything the module does; restart_state '' records no restart (unit tests)."""
    path = dropin_path(params)
    before = read(path)
    after = params["content"] if params["state"] == "present" else None
    if after is not None and after and not after.endswith("\n"):
        after += "\n"
    changed = before != after
    result: dict[str, Any] = {
        "changed": changed, "path": str(path), "restart_requested": changed and bool(restart_state),
        "diff": {"before": before or "", "after": after or "",
                 "before_header": str(path), "after_header": str(path)},
    }
    if not changed or check_mode:
        return result
    if restart_state:
        request(UNITS_TO_RESTART[params["unit"]], f"{path} changed", path=str(path),
                daemon_reload=True, state_dir=restart_state)
    if after is None:
        path.unlink()
    else:
        write_atomic(path, after)
    return result


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={
            "unit": {"type": "str", "required": True, "choices": list(UNITS_TO_RESTART)},
            "name": {"type": "str", "required": True},
            "content": {"type": "str", "default": ""},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "systemd_dir": {"type": "path", "default": "/etc/systemd/system"},
        },
        supports_check_mode=True,
    )
    try:
        result = apply(module.params, module.check_mode, restart_state=STATE_DIR)
    except (DropinError, RestartStateError) as err:
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(msg=f"{err.filename or module.params['name']}: {err.strerror or err}")
    if not module._diff:
        result.pop("diff")
    # In any mode: the docker_restart role skips its look when nothing asked this run, and
    # roles compare with provision_host's copy of the files only while nothing wrote them.
    if result["changed"]:
        result["ansible_facts"] = writer_facts(result["restart_requested"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
