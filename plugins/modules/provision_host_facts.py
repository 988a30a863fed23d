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
  - Commands run with a short timeout (coreutils C(timeout) when present).
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
      - Override the derived C(kind) (empty means detect). Use it to force GPU work on or off.
    type: str
    default: ""
    choices: ["", dgpu, jetson, cpu]
  command_timeout:
    description: Seconds any single command may run before it is reported as timed out.
    type: int
    default: 15
notes:
  - Supports check mode (it only reads).
  - The L4T to JetPack table follows NVIDIA's published mapping (JetPack 4 to 7).
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
            dgpu (an NVIDIA PCI GPU is present), jetson (NVIDIA Jetson / L4T) or cpu;
            force_kind overrides it.
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
        summary:
          description: One human line.
          type: str
          sample: Debian 12 (bookworm) x86_64, no NVIDIA GPU (PCI 10de, class 0300/0302), no Docker
changed:
  description: Always false; the module only reads.
  returned: always
  type: bool
"""

import json
import os
import platform
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.gpuhost_nvidia import jetpack_for_l4t, parse_smi_list, parse_tegra_release

SCHEMA_VERSION = 1
NVIDIA_VENDOR = "10de"
GPU_CLASSES = ("0300", "0302")
NO_GPU_TEXT = "no NVIDIA GPU (PCI 10de, class 0300/0302)"

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
PACKAGE_QUERY = (
    *DOCKER_PACKAGES,
    "nvidia-container-toolkit",
    "nvidia-container-toolkit-base",
    "nvidia-l4t-core",
    "enroot",
    "enroot+caps",
)
SEARCH_DIRS = (
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
    "/snap/bin",
)

SMI_ERRORS: tuple[tuple[str, str, str], ...] = (
    (
        "couldn't communicate with the nvidia driver",
        "no_driver",
        "nvidia-smi cannot talk to the NVIDIA kernel driver: the driver is not installed, not "
        "built for this kernel, or not loaded (a reboot after installing it usually helps)",
    ),
    (
        "driver/library version mismatch",
        "version_mismatch",
        "the loaded NVIDIA kernel module and the installed user-space driver differ (driver "
        "upgraded without a reboot): reboot, or unload and reload the nvidia modules",
    ),
    (
        "no devices were found",
        "no_devices",
        "the NVIDIA driver is loaded but found no usable GPU",
    ),
    (
        "couldn't find libnvidia-ml.so",
        "nvml_missing",
        "nvidia-smi cannot find libnvidia-ml.so: the user-space driver is incomplete",
    ),
    (
        "failed to initialize nvml: unknown error",
        "nvml_unknown",
        "NVML failed with an unknown error (seen inside containers after systemctl daemon-reload "
        "with the systemd cgroup driver)",
    ),
    (
        "insufficient permissions",
        "permissions",
        "nvidia-smi lacks permission to open the NVIDIA device nodes",
    ),
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


def parse_os_release(text: str) -> dict[str, Any]:
    """Return id, version, codename (Ubuntu's for derivatives), family, pretty_name and name."""
    values = parse_key_values(text)
    os_id = values.get("ID", "").lower() or None
    codename = values.get("UBUNTU_CODENAME") or values.get("VERSION_CODENAME") or None
    if codename is None:
        match = re.search(r"\(([A-Za-z]+)[^)]*\)", values.get("VERSION", ""))
        codename = match.group(1).lower() if match else None
    return {
        "id": os_id,
        "version": values.get("VERSION_ID") or None,
        "codename": codename,
        "family": os_family(os_id or "", values.get("ID_LIKE", "").lower()) or None,
        "pretty_name": values.get("PRETTY_NAME") or None,
        "name": values.get("NAME") or None,
    }


def gpu_name(device_id: str, lspci_name: str | None = None) -> str | None:
    """Prefer lspci's marketing name, then the built-in table."""
    if lspci_name and not re.fullmatch(r"Device [0-9a-fA-F]{4}", lspci_name):
        return lspci_name
    return GPU_NAMES.get(device_id.lower())


def pci_record(address: str, vendor: str, device: str, pci_class: str) -> dict[str, Any]:
    """Normalise sysfs/lspci ids ("0x10de", "0x030200") into the gpus[] item shape."""

    def hex_id(value: str, width: int) -> str:
        return value.strip().lower().replace("0x", "")[:width].zfill(width)

    return {
        "pci_address": address,
        "vendor_id": hex_id(vendor, 4),
        "device_id": hex_id(device, 4),
        "class_id": hex_id(pci_class, 4),
        "name": None,
    }


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
) -> list[dict[str, Any]]:
    """Keep NVIDIA VGA/3D functions only; audio, USB and NVSwitch bridges are not GPUs."""
    gpus = []
    for device in devices:
        if device["vendor_id"] != NVIDIA_VENDOR or device["class_id"] not in GPU_CLASSES:
            continue
        lspci_name = (names or {}).get(short_address(device["pci_address"])) or device.get("name")
        gpus.append(dict(device, name=gpu_name(device["device_id"], lspci_name)))
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


def parse_nvidia_smi_list(text: str) -> list[dict[str, Any]]:
    """`nvidia-smi -L` in the fact's shape: GPUs with their MIG devices as {index, name, uuid}."""
    return [
        dict(gpu, mig=[{key: mig[key] for key in ("index", "name", "uuid")} for mig in gpu["mig"]])
        for gpu in parse_smi_list(text)
    ]


def classify_nvidia_smi_error(output: str) -> dict[str, str]:
    """Map nvidia-smi's failure text to a short code and a readable reason."""
    lowered = output.lower().replace("\u2018", "'").replace("\u2019", "'")
    for needle, code, reason in SMI_ERRORS:
        if needle in lowered:
            nvml = re.search(r"NVML library version:\s*(\S+)", output)
            if nvml:
                reason += f" (NVML library version {nvml.group(1)})"
            return {"error": code, "reason": reason}
    first = next((line.strip() for line in output.splitlines() if line.strip()), "no output")
    return {"error": "failed", "reason": "nvidia-smi failed: " + first}


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


def parse_dpkg_query(text: str) -> dict[str, str]:
    """Installed packages from dpkg-query -W (Package, db:Status-Abbrev, Version; tab separated)."""
    installed = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].startswith("ii") and parts[2].strip():
            installed[parts[0].strip()] = parts[2].strip()
    return installed


def parse_docker_version(text: str) -> str | None:
    """`Docker version 20.10.24+dfsg1, build 297e128` -> 20.10.24+dfsg1."""
    match = re.search(r"version\s+v?([0-9][^\s,]*)", text)
    return match.group(1) if match else None


def parse_nvidia_ctk_version(text: str) -> str | None:
    """`NVIDIA Container Toolkit CLI version 1.12.0` -> 1.12.0."""
    match = re.search(r"version\s+v?(\d+\.\d+(?:\.\d+)?\S*)", text)
    return match.group(1) if match else None


def parse_first_version(text: str) -> str | None:
    """First dotted version in a tool's output (enroot version prints just the number)."""
    match = VERSION_NUMBER.search(text)
    return match.group(1) if match else None


def derive_kind(gpus: list[dict[str, Any]], jetson_detected: bool, force: str = "") -> str:
    """dgpu when an NVIDIA PCI GPU exists, jetson on L4T, else cpu; a forced kind wins."""
    if force:
        return force
    if gpus:
        return "dgpu"
    if jetson_detected:
        return "jetson"
    return "cpu"


def os_label(os_facts: dict[str, Any]) -> str:
    name = (os_facts.get("name") or os_facts.get("id") or "Linux").replace(" GNU/Linux", "")
    label = name
    if os_facts.get("version"):
        label += " " + os_facts["version"]
    if os_facts.get("codename"):
        label += " ({})".format(os_facts["codename"])
    return label


def _gpu_phrase(fact: dict[str, Any]) -> str:
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


def _jetson_phrase(jetson: dict[str, Any]) -> str:
    phrase = "Jetson"
    if jetson["board"]:
        phrase += " " + jetson["board"]
    if jetson["l4t_release"]:
        phrase += ", L4T R{}.{}".format(jetson["l4t_release"], jetson["l4t_revision"] or "?")
    if jetson["jetpack"]:
        phrase += " (JetPack {})".format(jetson["jetpack"])
    return phrase


def build_summary(fact: dict[str, Any]) -> str:
    """One human line: OS, arch, accelerator, Docker."""
    parts = ["{} {}".format(os_label(fact["os"]), fact["arch"]["machine"] or "")]
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
    if fact.get("_forced"):
        line += "; kind forced to " + fact["kind"]
    return line


# --------------------------------------------------------------------------------------------
# Gather layer: reads files under root and runs commands, never raising.
# --------------------------------------------------------------------------------------------


class Host:
    """Files under ROOT and commands found under ROOT's bin directories."""

    def __init__(
        self, root: str, runner: Callable[[list[str]], tuple[int, str, str]], timeout: int
    ) -> None:
        self.root = Path(root)
        self.runner = runner
        self.timeout = timeout
        self._timeout_bin = self.which("timeout")

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

    def which(self, name: str) -> str | None:
        dirs = list(SEARCH_DIRS)
        if str(self.root) == "/":
            dirs += os.environ.get("PATH", "").split(os.pathsep)
        for directory in dirs:
            candidate = self.path(directory) / name
            if directory and candidate.is_file() and os.access(str(candidate), os.X_OK):
                return str(candidate)
        return None

    def run(self, name: str, *args: str) -> tuple[int, str, str] | None:
        """Run a command if it exists; None when it does not. rc 124 means timed out."""
        binary = self.which(name)
        if binary is None:
            return None
        argv = [binary, *args]
        if self._timeout_bin:
            argv = [self._timeout_bin, "-k", "2", str(self.timeout), *argv]
        try:
            return self.runner(argv)
        except Exception as exc:  # a broken tool must not fail fact gathering
            return (1, "", str(exc))


def gather_os(host: Host) -> dict[str, Any]:
    text = host.read("/etc/os-release") or host.read("/usr/lib/os-release") or ""
    return parse_os_release(text)


def gather_arch(host: Host) -> dict[str, Any]:
    machine = (host.read("/proc/sys/kernel/arch") or "").strip() or platform.machine() or None
    dpkg = None
    result = host.run("dpkg", "--print-architecture")
    if result and result[0] == 0:
        dpkg = result[1].strip() or None
    if dpkg is None and machine:
        dpkg = DPKG_ARCH.get(machine, machine)
    return {"machine": machine, "dpkg": dpkg}


def gather_kernel(host: Host) -> dict[str, Any]:
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
    }


def gather_gpus(host: Host) -> list[dict[str, Any]]:
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
        result = host.run("lspci", "-nn", "-mm", "-d", "10de:")
        if result and result[0] == 0:
            for record in parse_lspci(result[1]):
                if record["name"]:
                    names[short_address(record["pci_address"])] = record["name"]
    return select_gpus(devices, names)


def gather_smi(host: Host) -> dict[str, Any]:
    smi: dict[str, Any] = {"available": False, "gpus": [], "error": None, "reason": None}
    result = host.run("nvidia-smi", "-L")
    if result is None:
        smi.update(error="not_installed", reason="nvidia-smi is not installed")
        return smi
    rc, out, err = result
    if rc == 124:
        smi.update(error="timeout", reason="nvidia-smi -L did not answer in time")
        return smi
    gpus = parse_nvidia_smi_list(out)
    if rc == 0 and gpus:
        smi.update(available=True, gpus=gpus)
        return smi
    smi.update(classify_nvidia_smi_error(out + "\n" + err))
    return smi


def gather_driver(host: Host) -> dict[str, Any]:
    text = host.read("/proc/driver/nvidia/version")
    parsed = parse_nvidia_version(text or "")
    return {
        "loaded": text is not None,
        "version": parsed["version"],
        "module_type": parsed["module_type"],
        "smi": gather_smi(host),
    }


def gather_packages(host: Host) -> dict[str, str]:
    result = host.run(
        "dpkg-query", "-W", "-f=${Package}\\t${db:Status-Abbrev}\\t${Version}\\n", *PACKAGE_QUERY
    )
    if result:
        # rc is 1 when some names are unknown; the known ones are still listed.
        return parse_dpkg_query(result[1])
    result = host.run(
        "rpm", "-q", "--qf", "%{NAME}\\tii\\t%{VERSION}-%{RELEASE}\\n", *PACKAGE_QUERY
    )
    if result:
        return parse_dpkg_query(result[1])
    return {}


def gather_jetson(
    host: Host, packages: dict[str, str], kernel_release: str | None
) -> dict[str, Any]:
    tegra = host.read("/etc/nv_tegra_release")
    family = (host.read("/sys/devices/soc0/family") or "").strip()
    source = None
    l4t: dict[str, str | None] = {"l4t_release": None, "l4t_revision": None}
    if tegra is not None:
        source = "nv_tegra_release"
        parsed = parse_tegra_release(tegra)
        l4t = {"l4t_release": parsed["l4t_release"], "l4t_revision": parsed["l4t_revision"]}
    if "nvidia-l4t-core" in packages:
        source = source or "nvidia-l4t-core"
        if not l4t["l4t_release"]:
            l4t = parse_l4t_core_version(packages["nvidia-l4t-core"])
    if family.lower().startswith("tegra"):
        source = source or "soc0_family"
    if kernel_release and kernel_release.endswith("-tegra"):
        source = source or "kernel"
    model = (host.read("/proc/device-tree/model") or "").replace("\x00", "").strip()
    mapped = jetpack_for_l4t(l4t["l4t_release"], l4t["l4t_revision"])
    return {
        "detected": source is not None,
        "source": source,
        "l4t_release": l4t["l4t_release"],
        "l4t_revision": l4t["l4t_revision"],
        "jetpack": mapped["jetpack"],
        "ubuntu": mapped["ubuntu"],
        "board": (model or None) if source else None,
    }


def docker_package(host: Host, packages: dict[str, str]) -> str | None:
    for name in DOCKER_PACKAGES:
        if name in packages:
            return name
    if host.exists("/snap/bin/docker") or host.exists("/snap/docker"):
        return "snap"
    return None


def gather_docker(host: Host, packages: dict[str, str], cgroup: int | None) -> dict[str, Any]:
    package = docker_package(host, packages)
    cli = host.which("docker")
    docker: dict[str, Any] = {
        "installed": bool(cli or package),
        "version": packages.get(package or "") if package != "snap" else None,
        "package": package,
        "active": False,
        "answering": False,
        "runtimes": [],
        "default_runtime": None,
        "cgroup_driver": None,
        "data_root": None,
    }
    if not docker["installed"]:
        return docker
    active = host.run("systemctl", "is-active", "docker")
    docker["active"] = bool(active and active[1].strip() == "active")
    info = host.run("docker", "info", "--format", "{{json .}}") if cli else None
    parsed = parse_docker_info(info[1]) if info and info[0] == 0 else None
    if parsed and parsed["version"]:
        docker.update(parsed, answering=True)
        return docker
    docker.update(parse_daemon_json(host.read("/etc/docker/daemon.json") or "", cgroup))
    client = host.run("docker", "--version") if cli else None
    if client and client[0] == 0:
        docker["version"] = parse_docker_version(client[1]) or docker["version"]
    return docker


def gather_toolkit(host: Host, packages: dict[str, str]) -> dict[str, Any]:
    version = None
    result = host.run("nvidia-ctk", "--version")
    if result and result[0] == 0:
        version = parse_nvidia_ctk_version(result[1])
    version = (
        version
        or packages.get("nvidia-container-toolkit")
        or packages.get("nvidia-container-toolkit-base")
    )
    installed = result is not None or any(
        name in packages for name in ("nvidia-container-toolkit", "nvidia-container-toolkit-base")
    )
    return {"installed": installed, "version": version}


def gather_enroot(host: Host, packages: dict[str, str]) -> dict[str, Any]:
    version = None
    result = host.run("enroot", "version")
    if result and result[0] == 0:
        version = parse_first_version(result[1])
    installed = result is not None or "enroot" in packages or "enroot+caps" in packages
    return {
        "installed": installed,
        "version": version or packages.get("enroot") or packages.get("enroot+caps"),
        "caps": "enroot+caps" in packages,
    }


def gather(host: Host, force_kind: str = "") -> dict[str, Any]:
    """Build the whole provision_host fact."""
    kernel = gather_kernel(host)
    packages = gather_packages(host)
    os_facts = gather_os(host)
    fact: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "kind": "cpu",
        "os": os_facts,
        "arch": gather_arch(host),
        "kernel": kernel,
        "gpus": gather_gpus(host),
        "nvidia_driver": gather_driver(host),
        "jetson": gather_jetson(host, packages, kernel["release"]),
        "docker": gather_docker(host, packages, kernel["cgroup_version"]),
        "nvidia_container_toolkit": gather_toolkit(host, packages),
        "enroot": gather_enroot(host, packages),
        "summary": "",
    }
    fact["kind"] = derive_kind(fact["gpus"], fact["jetson"]["detected"], force_kind)
    fact["summary"] = build_summary(dict(fact, _forced=bool(force_kind)))
    os_facts.pop("name", None)
    return fact


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "default": "/"},
            "force_kind": {
                "type": "str",
                "default": "",
                "choices": ["", "dgpu", "jetson", "cpu"],
            },
            "command_timeout": {"type": "int", "default": 15},
        },
        supports_check_mode=True,
    )

    def runner(argv: list[str]) -> tuple[int, str, str]:
        rc, out, err = module.run_command(argv, environ_update={"LC_ALL": "C"})
        return rc, out, err

    host = Host(module.params["root"], runner, module.params["command_timeout"])
    fact = gather(host, module.params["force_kind"])
    module.exit_json(changed=False, ansible_facts={"provision_host": fact})


if __name__ == "__main__":
    main()
