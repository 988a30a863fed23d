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

from ansible.module_utils.basic import AnsibleModule

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder). The look itself
# is in gpuhost_enroot_look.py: provision_host_facts takes the same look in its round trip.
try:
    from ansible.module_utils.gpuhost_enroot_look import ARGUMENT_SPEC, COMMAND_TIMEOUT, gather
    from ansible.module_utils.gpuhost_host import module_runner
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_enroot_look import (
        ARGUMENT_SPEC,
        COMMAND_TIMEOUT,
        gather,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        module_runner,
    )


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run = module_runner(module, COMMAND_TIMEOUT)
    module.exit_json(changed=False, **gather(module.params, run))


if __name__ == "__main__":
    main()
