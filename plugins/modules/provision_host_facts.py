#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Read-only host facts for GPU container provisioning (one round trip, never fails)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: provision_host_facts
short_description: Gather one structured fact, C(provision_host), about a GPU container host
description:
  - Reads the OS, architecture, kernel features, NVIDIA PCI GPUs, NVIDIA driver, Jetson L4T/JetPack,
    Docker, NVIDIA Container Toolkit and enroot state of a host and returns it as the single fact
    C(provision_host).
  - It never changes the host and never fails because a tool or file is missing; a missing tool is
    reported as a value such as C(installed=false).
  - Commands follow one timeout rule (module_utils/gpuhost_host.py) - each runs under coreutils
    C(timeout -k 5 command_timeout) when the host has C(timeout), and a command that ran out of
    time is reported as C(timeout), never left hanging.
  - Installed packages (C(packages)) and the entries of the apt source/key and Docker drop-in
    directories (C(config_files)) are included so that later roles decide on the controller
    instead of probing the host again.
  - A GPU is a PCI function with vendor C(10de) and class C(0300) (VGA) or C(0302) (3D). NVIDIA
    audio (C(0403)), USB and NVSwitch bridge (C(0680)) functions are not GPUs.
version_added: "1.0.0"
author: gpuhost toolkit
options:
  root:
    description:
      - Directory to read host files from (C(/etc/os-release), C(/proc), C(/sys), ...) and to look
        for commands under (C(ROOT/usr/bin), ...). Tests point it at a planted tree.
    type: path
    default: /
  force_kind:
    description:
      - Override the derived C(kind) (empty means detect). Use it to force GPU work on or off,
        or C(jetson) for a Jetson/IGX with a PCIe NVIDIA card whose integrated GPU is the one
        wanted (a PCI GPU makes the derived kind C(dgpu)).
    type: str
    default: ""
    choices: ["", dgpu, jetson, cpu]
  command_timeout:
    description: Seconds any single command may run before it is reported as timed out.
    type: int
    default: 15
  docker_access:
    description:
      - The docker_access role's look parameters (C(users), C(socket_group), C(dropin_path),
        C(profile_script), C(rootless_users), as docker_access_facts takes them). When given,
        each with its type, the same look is taken in this round trip and returned as
        C(provision_host.docker_access); otherwise that key is null. The preflight play hands
        them over because they are known before the run, and the role then reuses the look instead
        of a round trip of its own.
    type: raw
  looks:
    description:
      - Role name -> the look parameters that role would hand its own facts module, for
        C(nvidia_container_toolkit) (on a C(dgpu) host) and C(jetson_container_runtime) (on a
        C(jetson) host), both as nvidia_container_toolkit_facts takes them, and C(enroot), as
        enroot_facts takes them. Each one that passes that module's own argument spec is taken
        in this round trip and returned in C(provision_host.looks); any other is left out, and
        its role then takes its own look. The preflight play hands them over.
    type: raw
notes:
  - Supports check mode (it only reads).
  - The L4T to JetPack table follows NVIDIA's published mapping (exact pairs for JetPack 4 to 7,
    the family for L4T R21 to R31).
"""

EXAMPLES = r"""
- name: Gather the provision_host fact
  provision_host_facts:

- name: Treat this host as CPU-only whatever it has
  provision_host_facts:
    force_kind: cpu
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to the host.
  returned: always
  type: dict
  contains:
    gpuhost_docker_config_written:
      description: >-
        Always false: reset by every gather. docker_daemon_json and docker_unit_dropin set it
        when they change a file, which makes the file contents in provision_host stale.
      returned: always
      type: bool
    provision_host:
      description: Everything later roles need to know about the host.
      returned: always
      type: dict
      contains:
        schema:
          description: Schema version of this fact.
          type: int
          sample: 1
        kind:
          description: >-
            dgpu (an NVIDIA PCI GPU is present, also on an L4T host), jetson (NVIDIA Jetson /
            L4T without a PCI GPU) or cpu; force_kind overrides it.
          type: str
          sample: dgpu
        os:
          description: From /etc/os-release.
          type: dict
          contains:
            id: {description: ID, type: str, sample: ubuntu}
            version: {description: VERSION_ID, type: str, sample: "22.04"}
            codename:
              description: >-
                UBUNTU_CODENAME when set (Mint, Pop!_OS and other Ubuntu derivatives report the
                Ubuntu codename), else VERSION_CODENAME.
              type: str
              sample: jammy
            family:
              description: ubuntu (Ubuntu and its derivatives), debian, rhel, suse, else the ID.
              type: str
              sample: ubuntu
            pretty_name: {description: PRETTY_NAME, type: str, sample: Ubuntu 22.04.4 LTS}
            repo_id:
              description: >-
                The distribution path of Docker's apt repository - ID when it is debian, ubuntu
                or raspbian, else ubuntu when ID_LIKE names it, else debian.
              type: str
              sample: ubuntu
        arch:
          description: Architecture names.
          type: dict
          contains:
            machine: {description: uname -m, type: str, sample: x86_64}
            dpkg: {description: dpkg --print-architecture (or mapped), type: str, sample: amd64}
        kernel:
          description: Kernel release and features later roles need.
          type: dict
          contains:
            release: {description: uname -r, type: str, sample: 6.1.0-18-amd64}
            cgroup_version: {description: 1 or 2 (null if unknown), type: int, sample: 2}
            userns:
              description: User namespace settings (null where the sysctl does not exist).
              type: dict
              contains:
                max_user_namespaces: {description: user.max_user_namespaces, type: int}
                unprivileged_userns_clone:
                  description: kernel.unprivileged_userns_clone
                  type: int
                apparmor_restrict_unprivileged_userns:
                  description: kernel.apparmor_restrict_unprivileged_userns
                  type: int
                usable:
                  description: >-
                    true when an unprivileged user may create a user namespace without an
                    AppArmor profile (max > 0, clone not 0, AppArmor restriction not 1).
                  type: bool
            overlay:
              description: overlayfs is in /proc/filesystems or available as a module.
              type: bool
            squashfs:
              description: squashfs is in /proc/filesystems or available as a module.
              type: bool
            iptable_raw:
              description: >-
                The iptable_raw module is in modules.dep or modules.builtin (Docker 28 needs it
                for published ports); null when neither index could be read.
              type: bool
        gpus:
          description: NVIDIA GPUs on the PCI bus (vendor 10de, class 0300/0302 only).
          type: list
          elements: dict
          contains:
            pci_address: {description: Domain:bus:dev.fn, type: str, sample: "0000:07:00.0"}
            vendor_id: {description: PCI vendor id, type: str, sample: 10de}
            device_id: {description: PCI device id, type: str, sample: 20b0}
            class_id: {description: PCI class (4 hex digits), type: str, sample: "0302"}
            name: {description: Model name when known (lspci or built-in table), type: str}
        nvidia_driver:
          description: NVIDIA kernel driver and nvidia-smi.
          type: dict
          contains:
            loaded: {description: /proc/driver/nvidia/version exists, type: bool}
            version: {description: Driver version, type: str, sample: 550.54.14}
            module_type: {description: proprietary, open or null, type: str}
            smi:
              description: Result of nvidia-smi -L.
              type: dict
              contains:
                available: {description: nvidia-smi ran and listed GPUs, type: bool}
                gpus:
                  description: GPUs with their MIG devices (index, name, uuid).
                  type: list
                  elements: dict
                error:
                  description: >-
                    not_installed, no_driver, version_mismatch, no_devices, nvml_missing,
                    nvml_unknown, permissions, timeout, failed, or null.
                  type: str
                reason: {description: A readable reason when nvidia-smi failed, type: str}
        jetson:
          description: NVIDIA Jetson (L4T) detection.
          type: dict
          contains:
            detected: {description: This is a Jetson, type: bool}
            source:
              description: nv_tegra_release, nvidia-l4t-core, soc0_family, kernel or null.
              type: str
            l4t_release: {description: L4T major release, type: str, sample: "36"}
            l4t_revision: {description: L4T revision, type: str, sample: "4.3"}
            jetpack: {description: JetPack version (or family such as 6.x), type: str}
            ubuntu: {description: Ubuntu base of that JetPack, type: str, sample: "22.04"}
            board: {description: /proc/device-tree/model, type: str}
            soc:
              description: >-
                SoC as NVIDIA's Jetson repository names its component (t194, t234...), from
                the tegraNNN entry of /proc/device-tree/compatible; null when not found.
              type: str
              sample: t234
        docker:
          description: Docker engine.
          type: dict
          contains:
            installed: {description: A docker CLI or package is present, type: bool}
            version: {description: Server (else client or package) version, type: str}
            package: {description: docker-ce, docker.io, moby-engine, snap or null, type: str}
            active: {description: systemctl is-active docker says active, type: bool}
            answering: {description: docker info answered, type: bool}
            runtimes: {description: Runtime names, type: list, elements: str}
            default_runtime: {description: Default runtime, type: str}
            cgroup_driver: {description: systemd or cgroupfs, type: str}
            data_root: {description: Docker root dir, type: str}
            units:
              description: >-
                docker.service and docker.socket from one C(systemctl show -p
                Id,ActiveState,UnitFileState,NeedDaemonReload); empty when systemctl cannot
                answer (no systemd as PID 1).
              type: dict
              sample:
                docker.service:
                  active_state: active
                  unit_file_state: enabled
                  active: true
                  enabled: true
                  need_daemon_reload: false
            restart_pending:
              description: >-
                A Docker restart is recorded under /var/lib/gpuhost/docker-restart (the restart
                contract, module_utils gpuhost_docker_restart) and not yet done.
              type: bool
            daemon_json:
              description: The text of /etc/docker/daemon.json; null when it does not exist.
              type: str
            daemon_json_settings:
              description: >-
                daemon.json parsed; null when it does not exist or does not hold a JSON object
                (roles then leave the decision to docker_daemon_json, which names the problem).
              type: dict
            daemon_json_aside:
              description: >-
                /etc/docker/.daemon.json.gpuhost-nvidia-docker2-purge exists: daemon.json as an
                interrupted nvidia-docker2 migration set it aside. docker_engine moves it back
                before it touches daemon.json (nvidia_container_toolkit's restore_daemon_json).
              type: bool
            dropin_sha256:
              description: >-
                sha256 of each file in /etc/systemd/system/docker.service.d and docker.socket.d
                by host path (C(symlink) for a link); digests rather than contents, since a proxy
                drop-in may hold credentials.
              type: dict
        nvidia_container_toolkit:
          description: NVIDIA Container Toolkit.
          type: dict
          contains:
            installed: {description: nvidia-ctk or the package is present, type: bool}
            version: {description: Version, type: str}
        enroot:
          description: enroot.
          type: dict
          contains:
            installed: {description: enroot is present, type: bool}
            version: {description: Version, type: str}
            caps: {description: The enroot+caps package is installed, type: bool}
        packages:
          description: >-
            Installed (or held) packages from one dpkg-query over the patterns docker*,
            containerd*, runc, podman-docker, moby-*, nvidia-container*, libnvidia-container*,
            nvidia-l4t-core and enroot* (rpm -q of the fact's own names on RPM hosts).
          type: dict
          sample: {docker-ce: {version: "5:27.5.1-1~debian.12~bookworm", held: true}}
          contains:
            version: {description: Installed version; null when held but not installed, type: str}
            held: {description: The dpkg selection is hold, type: bool}
        dpkg_interrupted:
          description: >-
            What an interrupted apt or dpkg run left ("" when nothing): the lines of
            C(dpkg --audit) and the unapplied journal files in /var/lib/dpkg/updates.
            docker_engine finishes such a run (C(dpkg --configure -a)) before it uses apt.
          type: str
          sample: ""
        config_files:
          description: >-
            Host paths of the entries of /etc/apt/sources.list.d, /etc/apt/keyrings,
            /usr/share/keyrings, /etc/apt/trusted.gpg.d, /etc/systemd/system/docker.service.d and
            /etc/systemd/system/docker.socket.d, sorted per directory.
          type: list
          elements: str
          sample: [/etc/apt/sources.list.d/docker.sources]
        docker_access:
          description: >-
            Null unless the module was given docker_access's look parameters; then
            C(params) (those parameters) and C(look) (what docker_access_facts returns for them,
            read in this same round trip).
          type: dict
        looks:
          description: >-
            Role name -> C(params) (the parameters handed over in O(looks)) and C(look) (what
            that role's facts module returns for them), for each look taken in this round trip;
            empty when none was.
          type: dict
        summary:
          description: One human line.
          type: str
          sample: Debian 12 (bookworm) x86_64, no NVIDIA GPU (PCI 10de, class 0300/0302), no Docker
changed:
  description: Always false; the module only reads.
  returned: always
  type: bool
"""

import hashlib
import json
import os
import platform
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder).
try:
    from ansible.module_utils.gpuhost_access import SOCKET_PATH, look_params
    from ansible.module_utils.gpuhost_access import gather as gather_access
    from ansible.module_utils.gpuhost_docker_restart import STATE_DIR, STATE_FILE, WRITTEN_FACT
    from ansible.module_utils.gpuhost_enroot_look import ARGUMENT_SPEC as ENROOT_LOOK_SPEC
    from ansible.module_utils.gpuhost_enroot_look import COMMAND_TIMEOUT as ENROOT_LOOK_TIMEOUT
    from ansible.module_utils.gpuhost_enroot_look import gather as gather_enroot_look
    from ansible.module_utils.gpuhost_fact import (
        SCHEMA_VERSION,
        ArchFact,
        DockerFact,
        DriverFact,
        EnrootFact,
        JetsonFact,
        KernelFact,
        OsFact,
        PackageFact,
        PciGpu,
        ProvisionHost,
        SmiFact,
        SmiGpu,
        ToolkitFact,
        UnitFact,
    )
    from ansible.module_utils.gpuhost_host import Cmd, CommandRunner, Exec, module_executor
    from ansible.module_utils.gpuhost_nvidia import (
        KINDS,
        NO_GPU_TEXT,
        NVIDIA_VENDOR,
        classify_nvidia_smi_error,
        derive_kind,
        is_nvidia_gpu,
        jetpack_for_l4t,
        parse_smi_list,
        parse_tegra_release,
        pci_record,
        soc_from_compatible,
    )
    from ansible.module_utils.gpuhost_toolkit_look import ARGUMENT_SPEC as TOOLKIT_LOOK_SPEC
    from ansible.module_utils.gpuhost_toolkit_look import gather as gather_toolkit_look
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_access import (
        SOCKET_PATH,
        look_params,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_access import (
        gather as gather_access,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_docker_restart import (
        STATE_DIR,
        STATE_FILE,
        WRITTEN_FACT,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_enroot_look import (
        ARGUMENT_SPEC as ENROOT_LOOK_SPEC,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_enroot_look import (
        COMMAND_TIMEOUT as ENROOT_LOOK_TIMEOUT,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_enroot_look import (
        gather as gather_enroot_look,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_fact import (
        SCHEMA_VERSION,
        ArchFact,
        DockerFact,
        DriverFact,
        EnrootFact,
        JetsonFact,
        KernelFact,
        OsFact,
        PackageFact,
        PciGpu,
        ProvisionHost,
        SmiFact,
        SmiGpu,
        ToolkitFact,
        UnitFact,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        Cmd,
        CommandRunner,
        Exec,
        module_executor,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_nvidia import (
        KINDS,
        NO_GPU_TEXT,
        NVIDIA_VENDOR,
        classify_nvidia_smi_error,
        derive_kind,
        is_nvidia_gpu,
        jetpack_for_l4t,
        parse_smi_list,
        parse_tegra_release,
        pci_record,
        soc_from_compatible,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_toolkit_look import (
        ARGUMENT_SPEC as TOOLKIT_LOOK_SPEC,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_toolkit_look import (
        gather as gather_toolkit_look,
    )

# Common datacenter/workstation parts; lspci names win when lspci is installed.
GPU_NAMES: dict[str, str] = {
    "1db1": "Tesla V100-SXM2-16GB",
    "1db4": "Tesla V100-PCIE-16GB",
    "1db5": "Tesla V100-SXM2-32GB",
    "1db6": "Tesla V100-PCIE-32GB",
    "1df0": "Tesla PG500-216 (V100 PCIe 32GB)",
    "1eb8": "Tesla T4",
    "20b0": "A100-SXM4-40GB",
    "20b2": "A100-SXM4-80GB",
    "20b5": "A100 80GB PCIe",
    "20f1": "A100-PCIE-40GB",
    "2204": "GeForce RTX 3090",
    "2206": "GeForce RTX 3080",
    "2230": "RTX A6000",
    "2236": "A10",
    "2330": "H100 SXM5 80GB",
    "2331": "H100 PCIe",
    "2335": "H200 SXM 141GB",
    "2571": "RTX A2000 12GB",
    "2584": "GeForce RTX 3050 6GB",
    "25b2": "RTX A400",
    "2684": "GeForce RTX 4090",
    "26b5": "L40",
    "26b9": "L40S",
    "27b8": "L4",
}

DPKG_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "armhf",
    "ppc64le": "ppc64el",
    "s390x": "s390x",
    "i686": "i386",
    "riscv64": "riscv64",
}

DOCKER_PACKAGES = ("docker-ce", "docker.io", "moby-engine")
DOCKER_UNITS = ("docker.service", "docker.socket")
UNIT_PROPERTIES = "Id,ActiveState,UnitFileState,NeedDaemonReload"
DAEMON_JSON = "/etc/docker/daemon.json"
# Where nvidia_container_toolkit keeps daemon.json while dpkg purges nvidia-docker2 2.13 (which
# owns it as a conffile); present only when a run died between its two renames.
DAEMON_JSON_ASIDE = "/etc/docker/.daemon.json.gpuhost-nvidia-docker2-purge"
DROPIN_DIRS = tuple(f"/etc/systemd/system/{unit}.d" for unit in DOCKER_UNITS)
# dpkg-query patterns for every package a role decides on: Docker's and the distribution's
# engines and their conflicts (docker_engine's docker_engine_known_packages), the NVIDIA
# container stack, enroot and L4T. One query; unknown patterns only make dpkg-query exit 1.
DPKG_PATTERNS = (
    "docker*",
    "containerd*",
    "runc",
    "podman-docker",
    "moby-*",
    "nvidia-container*",
    "libnvidia-container*",
    "nvidia-l4t-core",
    "enroot*",
)
# rpm -q takes names, not patterns: the ones the fact itself reads.
RPM_PACKAGES = (
    *DOCKER_PACKAGES,
    "nvidia-container-toolkit",
    "nvidia-container-toolkit-base",
    "nvidia-l4t-core",
    "enroot",
    "enroot+caps",
)
# Directories whose entries the roles clean up or check (stale apt repos and keys, Docker's
# unit drop-ins); reported as full host paths in config_files.
DEVICE_TREE_DIRS = ("/sys/firmware/devicetree/base", "/proc/device-tree")
CONFIG_DIRS = (
    "/etc/apt/sources.list.d",
    "/etc/apt/keyrings",
    "/usr/share/keyrings",
    "/etc/apt/trusted.gpg.d",
    "/etc/systemd/system/docker.service.d",
    "/etc/systemd/system/docker.socket.d",
)
# os-release IDs Docker publishes apt repositories under; other Debian family members use
# Ubuntu's when ID_LIKE says ubuntu, else Debian's.
DOCKER_REPO_IDS = ("debian", "ubuntu", "raspbian")
SEARCH_DIRS = (
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
    "/snap/bin",
)


# --------------------------------------------------------------------------------------------
# Pure parsers: strings in, plain data out.
# --------------------------------------------------------------------------------------------


def parse_key_values(text: str) -> dict[str, str]:
    """Parse shell-style KEY=value lines (os-release, lsb-release)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        values[key.strip()] = parts[0] if parts else ""
    return values


def os_family(os_id: str, id_like: str) -> str:
    """Group an os-release ID into the families the roles branch on."""
    ids = [os_id, *id_like.split()]
    for family, members in (
        ("ubuntu", ("ubuntu",)),
        ("debian", ("debian",)),
        ("rhel", ("rhel", "fedora", "centos")),
        ("suse", ("suse", "opensuse", "sles")),
    ):
        if any(member in ids for member in members):
            return family
    return os_id


def docker_repo_id(os_id: str, id_like: str) -> str:
    """The distribution path Docker's apt repository has for this host (debian|ubuntu|raspbian)."""
    if os_id in DOCKER_REPO_IDS:
        return os_id
    return "ubuntu" if "ubuntu" in id_like.split() else "debian"


def parse_os_release(text: str) -> dict[str, Any]:
    """Return the os fact's keys plus name (for the summary only)."""
    values = parse_key_values(text)
    os_id = values.get("ID", "").lower() or None
    id_like = values.get("ID_LIKE", "").lower()
    codename = values.get("UBUNTU_CODENAME") or values.get("VERSION_CODENAME") or None
    if codename is None:
        match = re.search(r"\(([A-Za-z]+)[^)]*\)", values.get("VERSION", ""))
        codename = match.group(1).lower() if match else None
    return {
        "id": os_id,
        "version": values.get("VERSION_ID") or None,
        "codename": codename,
        "family": os_family(os_id or "", id_like) or None,
        "pretty_name": values.get("PRETTY_NAME") or None,
        "repo_id": docker_repo_id(os_id or "", id_like),
        "name": values.get("NAME") or None,
    }


def gpu_name(device_id: str, lspci_name: str | None = None) -> str | None:
    """Prefer lspci's marketing name, then the built-in table."""
    if lspci_name and not re.fullmatch(r"Device [0-9a-fA-F]{4}", lspci_name):
        return lspci_name
    return GPU_NAMES.get(device_id.lower())


def parse_pci_sysfs(entries: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Turn {address: {vendor, device, class}} (sysfs file contents) into PCI records."""
    records = []
    for address in sorted(entries):
        files = entries[address]
        if not all(files.get(key) for key in ("vendor", "device", "class")):
            continue
        records.append(pci_record(address, files["vendor"], files["device"], files["class"]))
    return records


LSPCI_NN = re.compile(
    r"(?P<addr>(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\s+"
    r"[^\[\]\n]*?\[(?P<cls>[0-9a-fA-F]{4})\]:\s*(?P<desc>.*?)\s*"
    r"\[(?P<ven>[0-9a-fA-F]{4}):(?P<dev>[0-9a-fA-F]{4})\]"
)
BRACKET_ID = re.compile(r"\s*\[([0-9a-fA-F]{4})\]$")


def lspci_model(description: str) -> str | None:
    """ "NVIDIA Corporation GA102 [GeForce RTX 3080]" -> "GeForce RTX 3080"."""
    text = re.sub(r"^NVIDIA Corporation\s*", "", description.strip())
    brackets = re.findall(r"\[([^\[\]]+)\]", text)
    if brackets:
        return brackets[-1].strip()
    return text or None


def parse_lspci_mm_line(line: str) -> dict[str, Any] | None:
    """One line of `lspci -nn -mm` (quoted fields, ids in brackets)."""
    try:
        fields = shlex.split(line)
    except ValueError:
        return None
    if len(fields) < 4 or not re.fullmatch(r"(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F:.]+", fields[0]):
        return None
    ids = [BRACKET_ID.search(field) for field in fields[1:4]]
    if not all(ids):
        return None
    cls, ven, dev = (m.group(1) for m in ids if m)
    record = pci_record(fields[0], ven, dev, cls)
    record["name"] = lspci_model(BRACKET_ID.sub("", fields[3]))
    return record


def parse_lspci(text: str) -> list[dict[str, Any]]:
    """Parse `lspci -nn` or `lspci -nn -mm` output (extra prefixes/indented lines ignored)."""
    records = []
    for line in text.splitlines():
        if '"' in line:
            record = parse_lspci_mm_line(line.strip())
        else:
            match = LSPCI_NN.search(line)
            record = None
            if match:
                record = pci_record(
                    match.group("addr"), match.group("ven"), match.group("dev"), match.group("cls")
                )
                record["name"] = lspci_model(match.group("desc"))
        if record:
            records.append(record)
    return records


def short_address(address: str) -> str:
    """Compare PCI addresses with or without the 0000: domain."""
    return address.lower()[5:] if re.match(r"^[0-9a-fA-F]{4}:", address) else address.lower()


def select_gpus(
    devices: list[dict[str, Any]], names: dict[str, str] | None = None
) -> list[PciGpu]:
    """Keep NVIDIA VGA/3D functions only, named by lspci or the built-in table."""
    gpus: list[PciGpu] = []
    for device in devices:
        if not is_nvidia_gpu(device):
            continue
        lspci_name = (names or {}).get(short_address(device["pci_address"])) or device.get("name")
        gpus.append(
            {
                "pci_address": device["pci_address"],
                "vendor_id": device["vendor_id"],
                "device_id": device["device_id"],
                "class_id": device["class_id"],
                "name": gpu_name(device["device_id"], lspci_name),
            }
        )
    return gpus


NVRM = re.compile(
    r"NVRM version:\s*NVIDIA UNIX\s+(?P<kind>Open Kernel Module for \S+|.*?Kernel Module)"
)
VERSION_NUMBER = re.compile(r"\b(\d+\.\d+(?:\.\d+)*)\b")


def parse_nvidia_version(text: str) -> dict[str, str | None]:
    """Driver version and module type from /proc/driver/nvidia/version (both formats)."""
    for line in text.splitlines():
        match = NVRM.search(line)
        if not match:
            continue
        module_type = "open" if match.group("kind").startswith("Open") else "proprietary"
        version = VERSION_NUMBER.search(line[match.end() :])
        return {"version": version.group(1) if version else None, "module_type": module_type}
    return {"version": None, "module_type": None}


def parse_nvidia_smi_list(text: str) -> list[SmiGpu]:
    """`nvidia-smi -L` in the fact's shape: GPUs with their MIG devices as {index, name, uuid}."""
    return [
        {
            "index": gpu["index"],
            "name": gpu["name"],
            "uuid": gpu["uuid"],
            "mig": [
                {"index": mig["index"], "name": mig["name"], "uuid": mig["uuid"]}
                for mig in gpu["mig"]
            ],
        }
        for gpu in parse_smi_list(text)
    ]


def parse_l4t_core_version(version: str) -> dict[str, str | None]:
    """nvidia-l4t-core's version "36.4.3-20250107174145" -> release 36, revision 4.3."""
    match = re.match(r"^(\d+)\.(\d+(?:\.\d+)*)", version.strip())
    if not match:
        return {"l4t_release": None, "l4t_revision": None}
    return {"l4t_release": match.group(1), "l4t_revision": match.group(2)}


def parse_proc_filesystems(text: str) -> set[str]:
    """Filesystem names the running kernel supports now."""
    return {line.split()[-1] for line in text.splitlines() if line.split()}


def module_available(modules_index: str, name: str) -> bool:
    """True if modules.dep/modules.builtin lists NAME.ko (any compression)."""
    return (
        re.search(rf"(^|/){re.escape(name)}\.ko(\.[a-z]+)?(:|$)", modules_index, re.M) is not None
    )


def cgroup_version_from_mounts(mounts: str) -> int | None:
    """2 when cgroup2 is mounted on /sys/fs/cgroup itself, 1 for v1 (or hybrid) hierarchies."""
    v1 = False
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        if fields[2] == "cgroup2" and fields[1] == "/sys/fs/cgroup":
            return 2
        if fields[2] == "cgroup":
            v1 = True
    return 1 if v1 else None


def userns_usable(max_ns: int | None, clone: int | None, restrict: int | None) -> bool:
    """Unprivileged users can create user namespaces without an AppArmor profile."""
    return bool(max_ns) and clone != 0 and restrict != 1


def _runtime_names(runtimes: Any) -> list[str]:
    if isinstance(runtimes, dict):
        return sorted(runtimes)
    if isinstance(runtimes, list):
        return sorted(str(item) for item in runtimes)
    return []


def parse_docker_info(text: str) -> dict[str, Any]:
    """`docker info --format '{{json .}}'` (or plain `docker info` text) -> the docker fields."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return {
            "version": data.get("ServerVersion") or None,
            "runtimes": _runtime_names(data.get("Runtimes")),
            "default_runtime": data.get("DefaultRuntime") or None,
            "cgroup_driver": data.get("CgroupDriver") or None,
            "data_root": data.get("DockerRootDir") or None,
        }
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key in (
            "Server Version",
            "Runtimes",
            "Default Runtime",
            "Cgroup Driver",
            "Docker Root Dir",
        ):
            fields.setdefault(key, value.strip())
    return {
        "version": fields.get("Server Version") or None,
        "runtimes": sorted(fields.get("Runtimes", "").split()),
        "default_runtime": fields.get("Default Runtime") or None,
        "cgroup_driver": fields.get("Cgroup Driver") or None,
        "data_root": fields.get("Docker Root Dir") or None,
    }


def parse_daemon_json(text: str, cgroup_version: int | None) -> dict[str, Any]:
    """What dockerd would use, from daemon.json plus Docker's defaults (daemon not answering)."""
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    driver = None
    for opt in data.get("exec-opts") or []:
        if isinstance(opt, str) and opt.startswith("native.cgroupdriver="):
            driver = opt.split("=", 1)[1]
    if driver is None and cgroup_version:
        driver = "systemd" if cgroup_version == 2 else "cgroupfs"
    runtimes = set(_runtime_names(data.get("runtimes"))) | {"runc"}
    return {
        "runtimes": sorted(runtimes),
        "default_runtime": data.get("default-runtime") or "runc",
        "cgroup_driver": driver,
        "data_root": data.get("data-root") or data.get("graph") or "/var/lib/docker",
    }


def parse_systemctl_show(text: str, units: tuple[str, ...] = DOCKER_UNITS) -> dict[str, UnitFact]:
    """`systemctl show -p Id,ActiveState,UnitFileState,NeedDaemonReload UNIT...` -> per unit.

    systemctl prints one KEY=value block per unit, blocks separated by a blank line, in the
    order asked; Id names the block (an unknown unit still gets one, with an empty
    UnitFileState). A block without Id takes the name of its position.
    """
    facts: dict[str, UnitFact] = {}
    blocks = [block for block in text.strip().split("\n\n") if block.strip()]
    for index, block in enumerate(blocks):
        props = dict(line.partition("=")[::2] for line in block.splitlines() if "=" in line)
        name = props.get("Id") or (units[index] if index < len(units) else "")
        if name not in units:
            continue
        active_state = props.get("ActiveState") or None
        unit_file_state = props.get("UnitFileState") or None
        facts[name] = {
            "active_state": active_state,
            "unit_file_state": unit_file_state,
            "active": active_state == "active",
            "enabled": unit_file_state == "enabled",
            "need_daemon_reload": props.get("NeedDaemonReload") == "yes",
        }
    return facts


def parse_json_object(text: str | None) -> dict[str, Any] | None:
    """A JSON object's text -> the dict; None for no text, bad JSON or another JSON type."""
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def parse_dpkg_query(text: str) -> dict[str, PackageFact]:
    """dpkg-query -W lines (Package, db:Status-Abbrev, Version; tab separated) -> packages.

    Status-Abbrev is selection, state, error flag: a second letter "i" is installed (whatever
    the selection, so a held "hi" package counts), a first letter "h" is held. Packages that
    are neither (removed, config files only, never installed) are left out; one that is held
    but not installed is kept with version None, so a hold can still be released.
    """
    packages: dict[str, PackageFact] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        name, status, version = parts[0].strip(), parts[1].strip(), parts[2].strip()
        installed = len(status) > 1 and status[1] == "i" and bool(version)
        held = status.startswith("h")
        if name and (installed or held):
            packages[name] = {"version": version if installed else None, "held": held}
    return packages


def installed_versions(packages: dict[str, PackageFact]) -> dict[str, str]:
    """name -> version of the installed packages."""
    return {name: pkg["version"] for name, pkg in packages.items() if pkg["version"]}


def parse_docker_version(text: str) -> str | None:
    """`Docker version 20.10.24+dfsg1, build 297e128` -> 20.10.24+dfsg1."""
    match = re.search(r"version\s+v?([0-9][^\s,]*)", text)
    return match.group(1) if match else None


def parse_nvidia_ctk_version(text: str) -> str | None:
    """`NVIDIA Container Toolkit CLI version 1.12.0` -> 1.12.0."""
    match = re.search(r"version\s+v?(\d+\.\d+(?:\.\d+)?\S*)", text)
    return match.group(1) if match else None


def os_label(os_facts: dict[str, Any], name: str | None) -> str:
    label = (name or os_facts.get("id") or "Linux").replace(" GNU/Linux", "")
    if os_facts.get("version"):
        label += " " + os_facts["version"]
    if os_facts.get("codename"):
        label += " ({})".format(os_facts["codename"])
    return label


def _gpu_phrase(fact: ProvisionHost) -> str:
    gpus = fact["gpus"]
    if not gpus:
        return NO_GPU_TEXT
    names = sorted({gpu["name"] or "device " + gpu["device_id"] for gpu in gpus})
    phrase = "{} NVIDIA GPU{} ({})".format(
        len(gpus), "" if len(gpus) == 1 else "s", ", ".join(names)
    )
    driver = fact["nvidia_driver"]
    if driver["loaded"]:
        phrase += ", driver {}".format(driver["version"] or "unknown")
        if driver["module_type"]:
            phrase += " ({})".format(driver["module_type"])
        if driver["smi"]["error"]:
            phrase += ", nvidia-smi: " + driver["smi"]["error"]
    else:
        phrase += ", NVIDIA driver not loaded"
    return phrase


def _jetson_phrase(jetson: JetsonFact) -> str:
    phrase = "Jetson"
    if jetson["board"]:
        phrase += " " + jetson["board"]
    if jetson["l4t_release"]:
        phrase += ", L4T R{}.{}".format(jetson["l4t_release"], jetson["l4t_revision"] or "?")
    if jetson["jetpack"]:
        phrase += " (JetPack {})".format(jetson["jetpack"])
    return phrase


def build_summary(fact: ProvisionHost, os_name: str | None, forced: bool) -> str:
    """One human line: OS, arch, accelerator, Docker."""
    parts = ["{} {}".format(os_label(dict(fact["os"]), os_name), fact["arch"]["machine"] or "")]
    parts.append(
        _jetson_phrase(fact["jetson"]) if fact["jetson"]["detected"] else _gpu_phrase(fact)
    )
    docker = fact["docker"]
    if docker["installed"]:
        text = "Docker {}".format(docker["version"] or "(version unknown)")
        if docker["package"]:
            text += " ({})".format(docker["package"])
        if not docker["answering"]:
            text += ", daemon not answering"
        parts.append(text)
    else:
        parts.append("no Docker")
    line = ", ".join(part.strip() for part in parts)
    if forced:
        line += "; kind forced to " + fact["kind"]
    return line


# --------------------------------------------------------------------------------------------
# Gather layer: reads files under root and runs commands, never raising.
# --------------------------------------------------------------------------------------------


class Host:
    """Files under ROOT and commands found under ROOT's bin directories.

    Commands follow gpuhost_host's timeout rule, with ROOT's own `timeout` when it has one.
    """

    def __init__(self, root: str, execute: Exec, timeout: int) -> None:
        self.root = Path(root)
        self.runner = CommandRunner(execute, timeout, self.which("timeout"))

    def path(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def read(self, path: str) -> str | None:
        try:
            return self.path(path).read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return None

    def read_int(self, path: str) -> int | None:
        text = self.read(path)
        try:
            return int(text.strip()) if text is not None else None
        except ValueError:
            return None

    def exists(self, path: str) -> bool:
        try:
            return self.path(path).exists()
        except OSError:
            return False

    def entries(self, directory: str) -> list[str]:
        """Host paths of the entries of DIRECTORY ([] when it does not exist)."""
        try:
            names = sorted(entry.name for entry in self.path(directory).iterdir())
        except OSError:
            return []
        return [f"{directory.rstrip('/')}/{name}" for name in names]

    def which(self, name: str) -> str | None:
        dirs = list(SEARCH_DIRS)
        if str(self.root) == "/":
            dirs += os.environ.get("PATH", "").split(os.pathsep)
        for directory in dirs:
            candidate = self.path(directory) / name
            if directory and candidate.is_file() and os.access(str(candidate), os.X_OK):
                return str(candidate)
        return None

    def run(self, name: str, *args: str) -> Cmd | None:
        """Run a command if it exists; None when it does not."""
        binary = self.which(name)
        if binary is None:
            return None
        return self.runner([binary, *args])


def gather_os(host: Host) -> tuple[OsFact, str | None]:
    """The os fact and the distribution's NAME (for the summary)."""
    text = host.read("/etc/os-release") or host.read("/usr/lib/os-release") or ""
    parsed = parse_os_release(text)
    os_fact: OsFact = {
        "id": parsed["id"],
        "version": parsed["version"],
        "codename": parsed["codename"],
        "family": parsed["family"],
        "pretty_name": parsed["pretty_name"],
        "repo_id": parsed["repo_id"],
    }
    return os_fact, parsed["name"]


def gather_arch(host: Host) -> ArchFact:
    machine = (host.read("/proc/sys/kernel/arch") or "").strip() or platform.machine() or None
    dpkg = None
    result = host.run("dpkg", "--print-architecture")
    if result and result.ok:
        dpkg = result.stdout.strip() or None
    if dpkg is None and machine:
        dpkg = DPKG_ARCH.get(machine, machine)
    return {"machine": machine, "dpkg": dpkg}


def gather_kernel(host: Host) -> KernelFact:
    release = (host.read("/proc/sys/kernel/osrelease") or "").strip() or platform.release() or None
    cgroup = cgroup_version_from_mounts(host.read("/proc/self/mounts") or "")
    if cgroup is None and host.exists("/sys/fs/cgroup/cgroup.controllers"):
        cgroup = 2
    max_ns = host.read_int("/proc/sys/user/max_user_namespaces")
    clone = host.read_int("/proc/sys/kernel/unprivileged_userns_clone")
    restrict = host.read_int("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
    filesystems = parse_proc_filesystems(host.read("/proc/filesystems") or "")
    modules = ""
    if release:
        for index in ("modules.dep", "modules.builtin"):
            modules += (host.read(f"/lib/modules/{release}/{index}") or "") + "\n"
    return {
        "release": release,
        "cgroup_version": cgroup,
        "userns": {
            "max_user_namespaces": max_ns,
            "unprivileged_userns_clone": clone,
            "apparmor_restrict_unprivileged_userns": restrict,
            "usable": userns_usable(max_ns, clone, restrict),
        },
        "overlay": "overlay" in filesystems or module_available(modules, "overlay"),
        "squashfs": "squashfs" in filesystems or module_available(modules, "squashfs"),
        # Docker 28 adds raw-table rules for published ports (moby#49557); None: no index.
        "iptable_raw": module_available(modules, "iptable_raw") if modules.strip() else None,
    }


def gather_gpus(host: Host) -> list[PciGpu]:
    entries: dict[str, dict[str, str]] = {}
    devices_dir = host.path("/sys/bus/pci/devices")
    try:
        addresses = sorted(p.name for p in devices_dir.iterdir())
    except OSError:
        addresses = []
    for address in addresses:
        entries[address] = {
            key: (host.read(f"/sys/bus/pci/devices/{address}/{key}") or "").strip()
            for key in ("vendor", "device", "class")
        }
    devices = parse_pci_sysfs(entries)
    names: dict[str, str] = {}
    if any(d["vendor_id"] == NVIDIA_VENDOR for d in devices):
        result = host.run("lspci", "-nn", "-mm", "-d", NVIDIA_VENDOR + ":")
        if result and result.ok:
            for record in parse_lspci(result.stdout):
                if record["name"]:
                    names[short_address(record["pci_address"])] = record["name"]
    return select_gpus(devices, names)


def gather_smi(host: Host) -> SmiFact:
    smi: SmiFact = {"available": False, "gpus": [], "error": None, "reason": None}
    result = host.run("nvidia-smi", "-L")
    if result is None:
        smi.update(error="not_installed", reason="nvidia-smi is not installed")
        return smi
    if result.timed_out:
        smi.update(error="timeout", reason="nvidia-smi -L did not answer in time")
        return smi
    gpus = parse_nvidia_smi_list(result.stdout)
    if result.ok and gpus:
        smi.update(available=True, gpus=gpus)
        return smi
    classified = classify_nvidia_smi_error(result.stdout + "\n" + result.stderr)
    smi.update(error=classified["error"], reason=classified["reason"])
    return smi


def gather_driver(host: Host) -> DriverFact:
    text = host.read("/proc/driver/nvidia/version")
    parsed = parse_nvidia_version(text or "")
    return {
        "loaded": text is not None,
        "version": parsed["version"],
        "module_type": parsed["module_type"],
        "smi": gather_smi(host),
    }


def gather_packages(host: Host) -> dict[str, PackageFact]:
    result = host.run(
        "dpkg-query", "-W", "-f=${Package}\\t${db:Status-Abbrev}\\t${Version}\\n", *DPKG_PATTERNS
    )
    if result:
        # rc is 1 when some patterns match nothing; the others are still listed.
        return parse_dpkg_query(result.stdout)
    result = host.run("rpm", "-q", "--qf", "%{NAME}\\tii\\t%{VERSION}-%{RELEASE}\\n", *RPM_PACKAGES)
    if result:
        return parse_dpkg_query(result.stdout)
    return {}


def gather_dpkg_interrupted(host: Host) -> str:
    """What an apt or dpkg run that was cut off left behind ("" when nothing): dpkg --audit's
    report (half-installed, unconfigured packages; it exits 1 when it finds any) and the
    numbered journal files in /var/lib/dpkg/updates that dpkg has not applied yet."""
    audit = host.run("dpkg", "--audit")
    lines = audit.stdout.strip().splitlines() if audit and audit.stdout.strip() else []
    lines += [
        entry
        for entry in host.entries("/var/lib/dpkg/updates")
        if entry.rsplit("/", 1)[-1][:1].isdigit() and host.path(entry).is_file()
    ]
    return "\n".join(lines)


def gather_config_files(host: Host) -> list[str]:
    return [path for directory in CONFIG_DIRS for path in host.entries(directory)]


def device_tree_text(host: Host, name: str, sep: str = "") -> str:
    """A device-tree property: NUL-separated strings joined by SEP, stripped ("" when absent).

    /proc/device-tree is a link to /sys/firmware/devicetree/base; the latter is read first
    (the link is missing in some containers), the former as the fallback.
    """
    for base in DEVICE_TREE_DIRS:
        text = host.read(f"{base}/{name}")
        if text is not None:
            return sep.join(part for part in text.split("\x00") if part).strip()
    return ""


def gather_jetson(host: Host, installed: dict[str, str], kernel_release: str | None) -> JetsonFact:
    tegra = host.read("/etc/nv_tegra_release")
    family = (host.read("/sys/devices/soc0/family") or "").strip()
    source = None
    l4t: dict[str, str | None] = {"l4t_release": None, "l4t_revision": None}
    if tegra is not None:
        source = "nv_tegra_release"
        parsed = parse_tegra_release(tegra)
        l4t = {"l4t_release": parsed["l4t_release"], "l4t_revision": parsed["l4t_revision"]}
    if "nvidia-l4t-core" in installed:
        source = source or "nvidia-l4t-core"
        if not l4t["l4t_release"]:
            l4t = parse_l4t_core_version(installed["nvidia-l4t-core"])
    if family.lower().startswith("tegra"):
        source = source or "soc0_family"
    if kernel_release and kernel_release.endswith("-tegra"):
        source = source or "kernel"
    model = device_tree_text(host, "model")
    soc = soc_from_compatible(device_tree_text(host, "compatible", sep=" "))
    mapped = jetpack_for_l4t(l4t["l4t_release"], l4t["l4t_revision"])
    return {
        "detected": source is not None,
        "source": source,
        "l4t_release": l4t["l4t_release"],
        "l4t_revision": l4t["l4t_revision"],
        "jetpack": mapped["jetpack"],
        "ubuntu": mapped["ubuntu"],
        "board": (model or None) if source else None,
        "soc": soc if source else None,
    }


def gather_units(host: Host) -> dict[str, UnitFact]:
    result = host.run("systemctl", "show", "-p", UNIT_PROPERTIES, *DOCKER_UNITS)
    return parse_systemctl_show(result.stdout) if result and result.ok else {}


def file_digest(path: Path) -> str | None:
    """sha256 of a regular file, "symlink" for a link, None for anything else."""
    try:
        if path.is_symlink():
            return "symlink"
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


def gather_dropins(host: Host) -> dict[str, str]:
    digests = {}
    for directory in DROPIN_DIRS:
        for entry in host.entries(directory):
            digest = file_digest(host.path(entry))
            if digest is not None:
                digests[entry] = digest
    return digests


def docker_package(host: Host, installed: dict[str, str]) -> str | None:
    for name in DOCKER_PACKAGES:
        if name in installed:
            return name
    if host.exists("/snap/bin/docker") or host.exists("/snap/docker"):
        return "snap"
    return None


def _set_daemon_fields(docker: DockerFact, fields: dict[str, Any]) -> None:
    docker["runtimes"] = fields["runtimes"]
    docker["default_runtime"] = fields["default_runtime"]
    docker["cgroup_driver"] = fields["cgroup_driver"]
    docker["data_root"] = fields["data_root"]


def gather_docker(host: Host, installed: dict[str, str], cgroup: int | None) -> DockerFact:
    package = docker_package(host, installed)
    cli = host.which("docker")
    daemon_json = host.read(DAEMON_JSON)
    docker: DockerFact = {
        "installed": bool(cli or package),
        "version": installed.get(package or "") if package != "snap" else None,
        "package": package,
        "active": False,
        "answering": False,
        "runtimes": [],
        "default_runtime": None,
        "cgroup_driver": None,
        "data_root": None,
        "units": gather_units(host),
        "restart_pending": host.exists(f"{STATE_DIR}/{STATE_FILE}"),
        "daemon_json": daemon_json,
        "daemon_json_settings": parse_json_object(daemon_json),
        "daemon_json_aside": host.exists(DAEMON_JSON_ASIDE),
        "dropin_sha256": gather_dropins(host),
    }
    if not docker["installed"]:
        return docker
    docker["active"] = docker["units"].get("docker.service", {}).get("active", False)
    info = host.run("docker", "info", "--format", "{{json .}}") if cli else None
    parsed = parse_docker_info(info.stdout) if info and info.ok else None
    if parsed and parsed["version"]:
        docker["version"] = parsed["version"]
        docker["answering"] = True
        _set_daemon_fields(docker, parsed)
        return docker
    _set_daemon_fields(docker, parse_daemon_json(docker["daemon_json"] or "", cgroup))
    client = host.run("docker", "--version") if cli else None
    if client and client.ok:
        docker["version"] = parse_docker_version(client.stdout) or docker["version"]
    return docker


def gather_toolkit(host: Host, installed: dict[str, str]) -> ToolkitFact:
    version = None
    result = host.run("nvidia-ctk", "--version")
    if result and result.ok:
        version = parse_nvidia_ctk_version(result.stdout)
    packages = ("nvidia-container-toolkit", "nvidia-container-toolkit-base")
    version = version or next((installed[p] for p in packages if p in installed), None)
    return {
        "installed": result is not None or any(p in installed for p in packages),
        "version": version,
    }


def gather_enroot(host: Host, installed: dict[str, str]) -> EnrootFact:
    """From dpkg and PATH only: running `enroot version` as root would create enroot's runtime
    folder (/run/enroot, root, 0700) before any user ran it, and a user without the enroot
    role's drop-in could then never start a container."""
    package = installed.get("enroot") or installed.get("enroot+caps")
    return {
        "installed": package is not None or host.which("enroot") is not None,
        # "4.1.2-1" -> "4.1.2"; None for an enroot built from source (no package)
        "version": re.sub(r"^[0-9]+:", "", package).split("-")[0] if package else None,
        "caps": "enroot+caps" in installed,
    }


def gather_docker_access(host: Host, given: Any) -> dict[str, Any] | None:
    """docker_access's look (module_utils/gpuhost_access.py), with the parameters it was taken
    with, when the caller handed them well-typed; None otherwise (the role then looks itself)."""
    params = look_params(given)
    if params is None:
        return None
    return {"params": params,
            "look": gather_access({**params, "socket_path": SOCKET_PATH}, host.runner)}


def checked_look_params(spec: dict[str, Any], given: Any) -> dict[str, Any] | None:
    """GIVEN as the facts module with SPEC would take it (types, defaults), or None when that
    module would refuse it: the role then takes its own look and its module says why."""
    if not isinstance(given, dict):
        return None
    result = ArgumentSpecValidator(spec).validate(given)
    return None if result.error_messages else result.validated_parameters


# Role -> (the host kind its play runs on, "" for any; the facts module's spec; its look; the
# command timeout its module runs with: a parameter of the toolkit's module, fixed in enroot's).
LOOKS: dict[str, tuple[str, dict[str, Any], Callable[..., dict[str, Any]], str | int]] = {
    "nvidia_container_toolkit": ("dgpu", TOOLKIT_LOOK_SPEC, gather_toolkit_look, "command_timeout"),
    "jetson_container_runtime": ("jetson", TOOLKIT_LOOK_SPEC, gather_toolkit_look,
                                 "command_timeout"),
    "enroot": ("", ENROOT_LOOK_SPEC, gather_enroot_look, ENROOT_LOOK_TIMEOUT),
}


def gather_looks(host: Host, kind: str, given: Any) -> dict[str, Any]:
    """The looks handed over for the roles that run on a host of this KIND, each with the
    parameters it was taken with. Absolute paths: ROOT is for host_facts' own reads only."""
    looks: dict[str, Any] = {}
    if not isinstance(given, dict):
        return looks
    for role, params in given.items():
        if role not in LOOKS or LOOKS[role][0] not in ("", kind):
            continue
        _, spec, look, timeout = LOOKS[role]
        checked = checked_look_params(spec, params)
        if checked is None:
            continue
        seconds = checked[timeout] if isinstance(timeout, str) else timeout
        runner = CommandRunner(host.runner.execute, seconds, host.runner.timeout_bin)
        looks[role] = {"params": params, "look": look(checked, runner)}
    return looks


def gather(host: Host, force_kind: str = "", docker_access: Any = None,
           looks: Any = None) -> ProvisionHost:
    """Build the whole provision_host fact."""
    kernel = gather_kernel(host)
    packages = gather_packages(host)
    installed = installed_versions(packages)
    os_fact, os_name = gather_os(host)
    gpus = gather_gpus(host)
    jetson = gather_jetson(host, installed, kernel["release"])
    fact: ProvisionHost = {
        "schema": SCHEMA_VERSION,
        "kind": derive_kind(gpus, jetson["detected"], force_kind),
        "os": os_fact,
        "arch": gather_arch(host),
        "kernel": kernel,
        "gpus": gpus,
        "nvidia_driver": gather_driver(host),
        "jetson": jetson,
        "docker": gather_docker(host, installed, kernel["cgroup_version"]),
        "nvidia_container_toolkit": gather_toolkit(host, installed),
        "enroot": gather_enroot(host, installed),
        "packages": packages,
        "dpkg_interrupted": gather_dpkg_interrupted(host),
        "config_files": gather_config_files(host),
        "docker_access": gather_docker_access(host, docker_access),
        "looks": {},
        "summary": "",
    }
    fact["looks"] = gather_looks(host, fact["kind"], looks)
    fact["summary"] = build_summary(fact, os_name, bool(force_kind))
    return fact


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "default": "/"},
            "force_kind": {"type": "str", "default": "", "choices": ["", *KINDS]},
            "command_timeout": {"type": "int", "default": 15},
            # raw: a wrongly typed docker_access input must not fail the facts module (its
            # type is docker_access's argument_specs to refuse, by name); it only means no look.
            "docker_access": {"type": "raw"},
            # raw too: a look the module cannot take is left to its role (gather_looks).
            "looks": {"type": "raw"},
        },
        supports_check_mode=True,
    )
    host = Host(module.params["root"], module_executor(module), module.params["command_timeout"])
    fact = gather(host, module.params["force_kind"], module.params["docker_access"],
                  module.params["looks"])
    # A fresh look: the Docker files in the fact are current again (see WRITTEN_FACT).
    module.exit_json(changed=False, ansible_facts={"provision_host": fact, WRITTEN_FACT: False})


if __name__ == "__main__":
    main()
