#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Everything the nvidia_container_toolkit role reads from a host, in one read-only round trip."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nvidia_container_toolkit_facts
short_description: Read what nvidia_container_toolkit decides from, in one call
description:
  - Read-only. Returns the installed versions and holds of the toolkit's four packages and of the
    legacy nvidia-docker2 / nvidia-container-runtime, whether nvidia-docker2 owns
    /etc/docker/daemon.json as a conffile (before 2.14 a purge deletes it), the repository
    files, the runtime's config.toml values (and which wanted values differ), the CDI spec and
    nvidia-cdi-refresh units, daemon.json's current runtime keys, dockerd's version and start
    time, and the runtime hook's change time.
  - The role decides on the controller from this one result instead of asking one question per
    task.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  packages:
    description: Package names whose installed version and hold are read (one dpkg-query).
    type: list
    elements: str
    required: true
  conffile_owner:
    description: Package whose conffiles are read to see whether it owns O(daemon_json).
    type: str
    default: nvidia-docker2
  files:
    description: Paths reported as present or absent (repo, key, preferences, stale lists).
    type: list
    elements: path
    default: []
  texts:
    description: Small text files whose content is returned (the role's repo and pin files).
    type: list
    elements: path
    default: []
  config_toml:
    description: The NVIDIA runtime's config.toml.
    type: path
    default: /etc/nvidia-container-runtime/config.toml
  config_wanted:
    description: Dotted keys (table.key) and the values wanted for them in O(config_toml).
    type: dict
    default: {}
  cdi_specs:
    description: CDI spec files whose presence is reported.
    type: list
    elements: path
    default: [/var/run/cdi/nvidia.yaml, /etc/cdi/nvidia.yaml]
  cdi_refresh_units:
    description: systemd units that keep the CDI spec fresh (toolkit 1.18 and later).
    type: list
    elements: str
    default: [nvidia-cdi-refresh.path, nvidia-cdi-refresh.service]
  daemon_json:
    description: Docker's daemon configuration file (read, never written).
    type: path
    default: /etc/docker/daemon.json
  hook:
    description: The runtime hook whose presence on PATH makes dockerd register its GPU driver.
    type: str
    default: nvidia-container-runtime-hook
  apt_key_ring:
    description: >-
      The single keyring `apt-key add` wrote to. Keys in it that are also in O(keyring) are
      reported (trusted for every source, not only NVIDIA's).
    type: path
    default: /etc/apt/trusted.gpg
  keyring:
    description: The toolkit's own keyring (the key O(apt_key_ring) is compared with).
    type: path
    default: /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
  command_timeout:
    description: Seconds one command (dpkg-query, systemctl, dockerd) may run.
    type: int
    default: 30
notes:
  - Supports check mode; it changes nothing in either mode.
"""

EXAMPLES = r"""
- name: Read the host for nvidia_container_toolkit
  nvidia_container_toolkit_facts:
    packages: [nvidia-container-toolkit, nvidia-container-toolkit-base, libnvidia-container-tools,
               libnvidia-container1, nvidia-docker2, nvidia-container-runtime]
    config_wanted: {nvidia-container-cli.no-cgroups: true}
  register: nct_host
"""

RETURN = r"""
packages:
  description: "Name -> {version, held, state} for the listed packages dpkg knows (state: installed,
    config-files or another dpkg status word)."
  returned: always
  type: dict
daemon_json_conffile:
  description: >-
    O(conffile_owner) lists O(daemon_json) among its conffiles (purging it deletes the file).
  returned: always
  type: bool
files:
  description: Path -> exists, for O(files).
  returned: always
  type: dict
texts:
  description: Path -> content (null when absent), for O(texts).
  returned: always
  type: dict
config:
  description: Dotted key -> value of every key set in O(config_toml) (empty when it is missing).
  returned: always
  type: dict
config_exists:
  description: O(config_toml) exists.
  returned: always
  type: bool
config_differs:
  description: The keys of O(config_wanted) whose value in O(config_toml) is not the wanted one.
  returned: always
  type: list
cdi_specs:
  description: The O(cdi_specs) that exist.
  returned: always
  type: list
cdi_refresh:
  description: "Unit -> {exists, enabled} for O(cdi_refresh_units)."
  returned: always
  type: dict
daemon_json:
  description: >-
    {exists, runtimes (names), nvidia (the nvidia runtime's entry or null), default_runtime,
    features} of O(daemon_json); error when unreadable.
  returned: always
  type: dict
docker:
  description: "{version (dockerd --version, empty when missing), active, started (epoch seconds of
    the running dockerd's start, null when not running)}."
  returned: always
  type: dict
hook:
  description: "{path (on PATH, else null), ctime (epoch seconds), newer_than_dockerd}."
  returned: always
  type: dict
apt_key_entries:
  description: >-
    Fingerprints of the keys in O(apt_key_ring) that are also in O(keyring) (empty when either
    file or gpg is missing).
  returned: always
  type: list
"""

from ansible.module_utils.basic import AnsibleModule

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder). The look itself
# is in gpuhost_toolkit_look.py: provision_host_facts takes the same look in its round trip.
try:
    from ansible.module_utils.gpuhost_host import module_runner
    from ansible.module_utils.gpuhost_toolkit_look import ARGUMENT_SPEC, gather
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        module_runner,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_toolkit_look import (
        ARGUMENT_SPEC,
        gather,
    )


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run = module_runner(module, module.params["command_timeout"])
    module.exit_json(changed=False, **gather(module.params, run))


if __name__ == "__main__":
    main()
