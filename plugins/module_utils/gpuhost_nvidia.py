# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""NVIDIA knowledge shared by the gpuhost modules (provision_host_facts, gpu_verify).

One place for: what counts as an NVIDIA GPU on the PCI bus, what kind of host that makes, how
`nvidia-smi -L` and Jetson's /etc/nv_tegra_release read, which L4T is which JetPack, and what
NVIDIA's failure texts mean. Pure functions, strings in and plain data out. Ansible ships this
file to the host inside each module's payload (imported as ansible.module_utils.gpuhost_nvidia;
ansible.cfg sets module_utils).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

NVIDIA_VENDOR = "10de"
# PCI base class 03 (display) subclasses 00 (VGA) and 02 (3D). NVIDIA also shows up as HDMI
# audio (0403), USB (0c03), NVSwitch and Jetson PCIe root ports (bridges, 06xx): not GPUs.
GPU_CLASSES = ("0300", "0302")
NO_GPU_TEXT = "no NVIDIA GPU (PCI 10de, class 0300/0302)"
KINDS = ("dgpu", "jetson", "cpu")


def _pci_hex(value: str) -> str:
    text = value.strip().lower()
    return text[2:] if text.startswith("0x") else text


def pci_id(value: str) -> str:
    """A vendor or device id as 4 lower-case hex digits: "0x10DE\\n" and "10de" -> "10de"."""
    return _pci_hex(value).zfill(4)


def pci_class(value: str) -> str:
    """Base class and subclass as 4 hex digits.

    sysfs prints class, subclass and programming interface ("0x030200"); lspci's [0302] has no
    programming interface. Longer values are cut after the subclass, shorter ones zero-padded.
    """
    digits = _pci_hex(value)
    if len(digits) > 4:
        return digits.zfill(6)[:4]
    return digits.zfill(4)


def pci_record(address: str, vendor: str, device: str, klass: str) -> dict[str, Any]:
    """One PCI function in the shape of provision_host.gpus[] (name unknown yet)."""
    return {
        "pci_address": address.strip(),
        "vendor_id": pci_id(vendor),
        "device_id": pci_id(device),
        "class_id": pci_class(klass),
        "name": None,
    }


def is_nvidia_gpu(record: dict[str, Any]) -> bool:
    return record["vendor_id"] == NVIDIA_VENDOR and record["class_id"] in GPU_CLASSES


def derive_kind(gpus: list[Any], jetson_detected: bool, force: str = "") -> str:
    """dgpu when an NVIDIA PCI GPU is present, else jetson on L4T, else cpu; force wins.

    dGPU comes first on purpose. An IGX Orin or a Jetson devkit with a PCIe NVIDIA card and its
    discrete driver is L4T *and* has a PCI GPU: its containers get that card through
    `--gpus all` and the regular NVIDIA Container Toolkit, which is the dgpu path. A Jetson's
    own (integrated) GPU is not a PCI function, so a plain Jetson has no GPU here and still
    comes out as jetson. Where the integrated GPU is the one wanted, force_kind says so.
    """
    if force:
        return force
    if gpus:
        return "dgpu"
    if jetson_detected:
        return "jetson"
    return "cpu"


# JetPack 6's limited nvidia-smi may print a GPU line without "(UUID: ...)"; the lazy name
# keeps "Orin (nvgpu)" whole while a real UUID group is still split off.
SMI_GPU = re.compile(r"^GPU (?P<index>\d+): (?P<name>.+?)(?: \(UUID: (?P<uuid>[^)]*)\))?\s*$")
SMI_MIG = re.compile(
    r"^\s+MIG (?P<profile>\S+)\s+Device\s+(?P<index>\d+): \(UUID: (?P<uuid>[^)]*)\)\s*$"
)


def parse_smi_list(text: str) -> list[dict[str, Any]]:
    """Parse `nvidia-smi -L` into GPUs and the MIG devices listed under each.

    GPU: {index, name, uuid (None when not printed), mig}; MIG device: {index, uuid, profile,
    name} where name is "MIG <profile>". Lines that are neither (error text) are ignored, so a
    failed nvidia-smi parses to [].
    """
    gpus: list[dict[str, Any]] = []
    for line in text.splitlines():
        gpu = SMI_GPU.match(line)
        if gpu:
            gpus.append(
                {
                    "index": int(gpu.group("index")),
                    "name": gpu.group("name"),
                    "uuid": gpu.group("uuid"),
                    "mig": [],
                }
            )
            continue
        mig = SMI_MIG.match(line)
        if mig and gpus:
            profile = mig.group("profile")
            gpus[-1]["mig"].append(
                {
                    "index": int(mig.group("index")),
                    "uuid": mig.group("uuid"),
                    "profile": profile,
                    "name": "MIG " + profile,
                }
            )
    return gpus


# Exact L4T -> JetPack pairs from NVIDIA's release pages (JetPack 4 to 7).
JETPACK_BY_L4T: dict[str, str] = {
    "32.5": "4.5",
    "32.5.1": "4.5.1",
    "32.6.1": "4.6",
    "32.7.1": "4.6.1",
    "32.7.2": "4.6.2",
    "32.7.3": "4.6.3",
    "32.7.4": "4.6.4",
    "32.7.5": "4.6.5",
    "32.7.6": "4.6.6",
    "35.1": "5.0.2",
    "35.2.1": "5.1",
    "35.3.1": "5.1.1",
    "35.4.1": "5.1.2",
    "35.5": "5.1.3",
    "35.6": "5.1.4",
    "35.6.1": "5.1.5",
    "36.3": "6.0",
    "36.4": "6.1",
    "36.4.3": "6.2",
    "36.4.4": "6.2.1",
}

# L4T major -> (JetPack family, Ubuntu base). Releases before R32 from NVIDIA's JetPack archive
# (https://developer.nvidia.com/embedded/jetpack-archive, as tabled in rbonghi/jetson_stats
# scripts/jetson_variables): R21 = JetPack 1.x (TK1), R23/R24 = 2.x (TX1), R27/R28 = 3.x
# (TX2, TX1), R31 = 4.0-4.1.1 (Xavier previews). Some installers reused an older L4T (JetPack
# 3.0 shipped R24.2.1 for TX1, JetPack 2.x kept TK1 on R21), so these are the family each L4T
# line was released with. R24.1 came on Ubuntu 14.04 and R24.2 on 16.04: no single base.
JETPACK_FAMILY: dict[str, tuple[str, str | None]] = {
    "21": ("1.x", "14.04"),
    "23": ("2.x", "14.04"),
    "24": ("2.x", None),
    "27": ("3.x", "16.04"),
    "28": ("3.x", "16.04"),
    "31": ("4.x", "18.04"),
    "32": ("4.x", "18.04"),
    "34": ("5.x", "20.04"),
    "35": ("5.x", "20.04"),
    "36": ("6.x", "22.04"),
    "38": ("7.x", "24.04"),
    "39": ("7.2", None),
}

TEGRA_RELEASE = re.compile(r"#\s*R(?P<release>\d+)\s*\(release\),\s*REVISION:\s*(?P<rev>[\d.]+)")


def parse_tegra_release(text: str | None) -> dict[str, str | None]:
    """Parse /etc/nv_tegra_release: `# R36 (release), REVISION: 4.3, ..., BOARD: generic, ...`."""
    text = text or ""
    match = TEGRA_RELEASE.search(text)
    if not match:
        return {"l4t_release": None, "l4t_revision": None, "board": None}
    board = re.search(r"BOARD:\s*([^,\s]+)", text)
    return {
        "l4t_release": match.group("release"),
        "l4t_revision": match.group("rev").rstrip("."),
        "board": board.group(1) if board else None,
    }


TEGRA_COMPATIBLE = re.compile(r"\bnvidia,tegra(?P<soc>\d{3})\b")


def soc_from_compatible(text: str | None) -> str | None:
    """/proc/device-tree/compatible ("nvidia,p3737-0000+p3701-0000 nvidia,tegra234") -> "t234".

    The name NVIDIA's Jetson apt repository gives the SoC's component (jetson/t234).
    """
    match = TEGRA_COMPATIBLE.search(text or "")
    return "t" + match.group("soc") if match else None


def normalise_version(version: str) -> str:
    """Drop trailing ".0" parts so 36.4.0 and 36.4 compare equal."""
    parts = version.split(".")
    while len(parts) > 2 and parts[-1] == "0":
        parts.pop()
    if len(parts) == 2 and parts[1] == "0":
        parts.pop()
    return ".".join(parts)


def jetpack_for_l4t(release: str | None, revision: str | None) -> dict[str, str | None]:
    """JetPack version (exact where NVIDIA published one, else the family) and Ubuntu base."""
    if not release:
        return {"jetpack": None, "ubuntu": None}
    family, ubuntu = JETPACK_FAMILY.get(release, (None, None))
    exact = None
    if revision:
        exact = JETPACK_BY_L4T.get(normalise_version(f"{release}.{revision}"))
    return {"jetpack": exact or family, "ubuntu": ubuntu}


# --------------------------------------------------------------------------------------------
# What failure texts mean. Real outputs vary: curly quotes from copy/paste and localised
# terminals, lines wrapped by the tool or the terminal, another driver name in Docker's device
# request, older wordings. Texts are normalised (straight quotes, one space for any run of white
# space) and matched with case-insensitive patterns written against that normal form.
# --------------------------------------------------------------------------------------------

QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
})


def normalise_message(text: str) -> str:
    """Straight quotes, and a single space for every run of white space (line wraps too)."""
    return " ".join(text.translate(QUOTES).split())


class Known(NamedTuple):
    """A recognised failure: key, pattern (over normalised text), what it means, what to do."""

    key: str
    pattern: re.Pattern[str]
    diagnosis: str
    fix: str


def known(key: str, pattern: str, diagnosis: str, fix: str) -> Known:
    return Known(key, re.compile(pattern, re.IGNORECASE), diagnosis, fix)


def first_known(text: str, table: tuple[Known, ...]) -> Known | None:
    """The first entry of TABLE whose pattern occurs in TEXT (so specific entries go first)."""
    normal = normalise_message(text)
    for entry in table:
        if entry.pattern.search(normal):
            return entry
    return None


REBOOT_FIX = "Reboot, or unload and reload the nvidia kernel modules."
DRIVER_FIX = "Install the NVIDIA driver for the running kernel and reboot (or modprobe nvidia)."

# NVIDIA driver and NVML failures, the same on the host (nvidia-smi, provision_host's
# nvidia_driver.smi.error) and in a container (nvidia-container-cli, nvidia-smi inside). The keys
# are provision_host's documented error codes.
NVIDIA_ERRORS: tuple[Known, ...] = (
    known(
        "no_driver",
        r"could(?:n'?t| not) communicate with the NVIDIA driver",
        "nvidia-smi cannot talk to the NVIDIA kernel driver: the driver is not installed, not "
        "built for the running kernel, or not loaded (a reboot after installing it usually "
        "helps).",
        DRIVER_FIX,
    ),
    known(
        "version_mismatch",
        r"driver ?/ ?library version mismatch",
        "The loaded NVIDIA kernel module and the installed user-space driver differ (the driver "
        "was upgraded without a reboot).",
        REBOOT_FIX,
    ),
    known(
        "no_devices",
        r"no devices were found",
        "The NVIDIA driver is loaded but found no usable GPU.",
        "Check that the GPU is seen by the kernel (dmesg | grep -i nvrm) and not bound to "
        "another driver such as vfio-pci.",
    ),
    known(
        "nvml_missing",
        r"couldn'?t find libnvidia-ml\.so|libnvidia-ml\.so(?:\.\d+)?: cannot open shared object",
        "libnvidia-ml.so (NVML, part of the NVIDIA user-space driver) cannot be found: the "
        "driver is not installed, or only its kernel module is.",
        "Install the complete NVIDIA driver (user-space libraries included) matching the "
        "kernel module, then reboot.",
    ),
    known(
        "nvml_unknown",
        r"failed to initiali[sz]e NVML: unknown error",
        "NVML failed with an unknown error. In a container this means it lost its GPU devices: "
        "with the systemd cgroup driver a `systemctl daemon-reload` drops the device rules of "
        "running containers.",
        "Recreate the container; avoid needless daemon-reloads (or create the /dev/char "
        "symlinks with `nvidia-ctk system create-dev-char-symlinks --create-all`).",
    ),
    known(
        "permissions",
        r"insufficient permissions",
        "nvidia-smi lacks permission to open the NVIDIA device nodes.",
        "Run it as root, or give the user access to /dev/nvidia* (the video group on most "
        "distributions).",
    ),
)

NVML_VERSION = re.compile(r"NVML library version:\s*(\S+)")


def classify_nvidia_smi_error(output: str) -> dict[str, str]:
    """provision_host's {error, reason} for a failed `nvidia-smi -L` (code "failed" if unknown)."""
    entry = first_known(output, NVIDIA_ERRORS)
    if entry:
        reason = entry.diagnosis.rstrip(".")
        nvml = NVML_VERSION.search(output)
        if nvml:
            reason += f" (NVML library version {nvml.group(1)})"
        return {"error": entry.key, "reason": reason}
    first = next((line.strip() for line in output.splitlines() if line.strip()), "no output")
    return {"error": "failed", "reason": "nvidia-smi failed: " + first}
