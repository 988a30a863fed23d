#!/usr/bin/env python3
"""Install the collections named in requirements.yml without Ansible Galaxy.

Galaxy is unreachable from air-gapped sites and from this project's CI, but PyPI (or a PyPI
mirror) usually is. The `ansible` community package on PyPI bundles released collections,
so this script downloads that wheel once and unpacks only the collections requirements.yml
names, checking each version against the one asked for.

With COLLECTIONS_SOURCE=galaxy it runs `ansible-galaxy collection install -r` instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

# The community package whose wheel carries the versions pinned in requirements.yml.
BUNDLE = "ansible==12.3.0"
WHEEL_CACHE = Path(".cache/wheels")


def read_requirements(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text()) or {}
    wanted = []
    for entry in data.get("collections", []):
        if isinstance(entry, str):
            entry = {"name": entry}
        name = entry.get("name", "")
        if name.count(".") != 1:
            raise SystemExit(f"{path}: collection name {name!r} is not namespace.name")
        wanted.append((name, str(entry.get("version", "*"))))
    return wanted


def installed_version(dest: Path, name: str) -> str | None:
    manifest = dest / "ansible_collections" / Path(*name.split(".")) / "MANIFEST.json"
    try:
        return json.loads(manifest.read_text())["collection_info"]["version"]
    except (OSError, ValueError, KeyError):
        return None


def fetch_bundle() -> Path:
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    name, version = BUNDLE.split("==")
    found = sorted(WHEEL_CACHE.glob(f"{name}-{version}-*.whl"))
    if found:
        return found[0]
    # The bundle's metadata asks for Python >= 3.11; its collections work with older
    # controllers too, so ask pip for the file, not for an install.
    cmd = [
        sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
        "--no-deps", "--only-binary=:all:", "--python-version", "3.11",
        "-d", str(WHEEL_CACHE), BUNDLE,
    ]
    if subprocess.run(cmd, check=False).returncode != 0:
        raise SystemExit(
            f"could not download {BUNDLE} from PyPI (or your pip index); "
            "check network/PIP_INDEX_URL, or set COLLECTIONS_SOURCE=galaxy"
        )
    return next(WHEEL_CACHE.glob(f"{name}-{version}-*.whl"))


def extract(wheel: Path, dest: Path, name: str, version: str) -> None:
    prefix = "ansible_collections/" + name.replace(".", "/") + "/"
    target = dest / "ansible_collections" / Path(*name.split("."))
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory(dir=dest) as tmp:
        members = [m for m in zf.namelist() if m.startswith(prefix)]
        if not members:
            raise SystemExit(f"{name} is not in {wheel.name}; pick a bundle that has it")
        zf.extractall(tmp, members)
        got = installed_version(Path(tmp), name)
        if version not in ("*", got):
            raise SystemExit(
                f"requirements.yml wants {name} {version}, {wheel.name} has {got}; "
                f"update BUNDLE in {Path(__file__).name} or the version in requirements.yml"
            )
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / prefix), str(target))


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} requirements.yml DEST", file=sys.stderr)
        return 2
    req, dest = Path(argv[1]), Path(argv[2])
    dest.mkdir(parents=True, exist_ok=True)
    if os.environ.get("COLLECTIONS_SOURCE") == "galaxy":
        cmd = ["ansible-galaxy", "collection", "install", "-r", str(req), "-p", str(dest)]
        return subprocess.run(cmd, check=False).returncode
    wanted = read_requirements(req)
    missing = [(n, v) for n, v in wanted if installed_version(dest, n) != v]
    if not missing:
        return 0
    wheel = fetch_bundle()
    for name, version in missing:
        extract(wheel, dest, name, version)
        print(f"installed {name} {installed_version(dest, name)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
