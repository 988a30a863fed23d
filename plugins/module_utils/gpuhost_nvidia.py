# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""NVIDIA tool output shared by the gpuhost modules (provision_host_facts, gpu_verify).

Pure parsers, strings in and plain data out, so both modules read `nvidia-smi -L` and Jetson's
/etc/nv_tegra_release the same way. Ansible ships this file to the host inside each module's
payload (imported as ansible.module_utils.gpuhost_nvidia; ansible.cfg sets module_utils).
Each module shapes the result into its own documented return value.
"""

from __future__ import annotations

import re
from typing import Any

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

# L4T major -> (JetPack family, Ubuntu base).
JETPACK_FAMILY: dict[str, tuple[str, str | None]] = {
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
