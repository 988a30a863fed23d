#!/usr/bin/python3
# gpuhost test stand-in for NVIDIA's nvidia-container-runtime (package
# nvidia-container-toolkit-base) as it behaves on a Jetson; NOT NVIDIA's runtime, tests only.
#
# The real runtime is a shim: on `create` it edits the OCI spec in the bundle, then hands every
# command to runc. Mode "auto" resolves to "csv" on a Tegra system (/etc/nv_tegra_release or a
# tegra soc0 family); CSV mode mounts what the files in host-files-for-container.d list
# (dev, lib, sym, dir entries that exist on the host), and only into a container that asks for
# devices (NVIDIA_VISIBLE_DEVICES set and not void/none; unset counts as "all" only for legacy
# CUDA images: CUDA_VERSION without NVIDIA_REQUIRE_CUDA). Every edit is logged to
# /run/standin-jetson/runtime.log so tests can prove it ran.
"""gpuhost stand-in: nvidia-container-runtime in CSV mode (tests only)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

CONFIG = Path("/etc/nvidia-container-runtime/config.toml")
CSV_DIR = Path("/etc/nvidia-container-runtime/host-files-for-container.d")
LOG = Path("/run/standin-jetson/runtime.log")
TEGRA_RELEASE = Path("/etc/nv_tegra_release")
SOC_FAMILY = Path("/sys/devices/soc0/family")
VERSION = "@VERSION@"


def mode() -> str:
    text = CONFIG.read_text(encoding="utf-8") if CONFIG.is_file() else ""
    found = re.search(r'(?m)^\s*mode\s*=\s*"([^"]+)"', text)
    wanted = found.group(1) if found else "auto"
    if wanted != "auto":
        return wanted
    tegra = TEGRA_RELEASE.exists() or (
        SOC_FAMILY.is_file() and SOC_FAMILY.read_text(encoding="utf-8").lower().startswith("tegra"))
    return "csv" if tegra else "legacy"


def requested(env: dict[str, str]) -> bool:
    value = env.get("NVIDIA_VISIBLE_DEVICES")
    if value is None:
        return "CUDA_VERSION" in env and "NVIDIA_REQUIRE_CUDA" not in env
    return value not in ("", "void", "none")


def csv_entries() -> list[tuple[str, str]]:
    entries = []
    for csv in sorted(CSV_DIR.glob("*.csv")):
        for line in csv.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#") and "," in line:
                kind, path = (part.strip() for part in line.split(",", 1))
                entries.append((kind, path))
    return entries


def edit_spec(bundle: Path) -> None:
    path = bundle / "config.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    env = dict(item.split("=", 1) for item in spec.get("process", {}).get("env", []) if "=" in item)
    if mode() != "csv" or not requested(env):
        return
    mounts = spec.setdefault("mounts", [])
    taken = {m.get("destination") for m in mounts}
    added = []
    for kind, host_path in csv_entries():
        if host_path in taken or not Path(host_path).exists():
            continue
        options = ["rbind", "rw"] if kind == "dev" else ["rbind", "ro", "nosuid"]
        mounts.append({"destination": host_path, "type": "bind", "source": host_path,
                       "options": options})
        taken.add(host_path)
        added.append(host_path)
    path.write_text(json.dumps(spec), encoding="utf-8")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("a", encoding="utf-8") as log:
        log.write(f"csv {bundle} {' '.join(added)}\n")


def main(argv: list[str]) -> None:
    if argv == ["--version"]:
        print(f"NVIDIA Container Runtime version {VERSION}\ncommit: gpuhost-standin")
        return
    if "create" in argv:
        rest = argv[argv.index("create") + 1:]
        bundle = Path.cwd()
        for flag in ("--bundle", "-b"):
            if flag in rest and rest.index(flag) + 1 < len(rest):
                bundle = Path(rest[rest.index(flag) + 1])
        edit_spec(bundle)
    runc = shutil.which("runc") or shutil.which("docker-runc")
    if not runc:
        sys.exit("nvidia-container-runtime (gpuhost stand-in): runc not found")
    os.execv(runc, [runc, *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
