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

from ansible.module_utils.basic import AnsibleModule

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder). The look
# itself lives in gpuhost_access: provision_host_facts takes the same look when the preflight
# hands it docker_access's inputs.
try:
    from ansible.module_utils.gpuhost_access import SOCKET_PATH, gather
    from ansible.module_utils.gpuhost_host import module_runner
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_access import (
        SOCKET_PATH,
        gather,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        module_runner,
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "users": {"type": "list", "elements": "str", "default": []},
            "socket_group": {"type": "str", "default": "docker"},
            "socket_path": {"type": "path", "default": SOCKET_PATH},
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
