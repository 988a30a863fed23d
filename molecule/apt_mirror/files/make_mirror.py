#!/usr/bin/env python3
"""Build a local Debian mirror tree from the InRelease files apt already fetched (test only).

For each deb.debian.org InRelease in /var/lib/apt/lists: copy it verbatim (Debian's signature
stays valid) to MIRROR/<archive>/dists/<suite>/InRelease, and download the one index apt needs,
main/binary-<arch>/Packages.xz, by the hash the InRelease names (by-hash: the bytes cannot
change under us while the archive updates). Written where apt looks for it both by name and by
hash (InRelease says Acquire-By-Hash: yes).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import urllib.request
from pathlib import Path

LISTS = Path("/var/lib/apt/lists")
ARCHIVE = "http://deb.debian.org/"


def sha256_of(inrelease: str, name: str) -> str:
    section = inrelease.split("\nSHA256:\n", 1)[1]
    for line in section.splitlines():
        if not line.startswith(" "):
            break
        digest, _size, path = line.split()
        if path == name:
            return digest
    raise SystemExit(f"{name} is not in the InRelease")


def main(mirror: Path) -> None:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    index = f"main/binary-{arch}/Packages.xz"
    for release in sorted(LISTS.glob("deb.debian.org_*_dists_*_InRelease")):
        archive, _, suite = release.name[len("deb.debian.org_"):-len("_InRelease")].partition(
            "_dists_")
        text = release.read_text(encoding="utf-8")
        digest = sha256_of(text, index)
        dists = mirror / archive / "dists" / suite
        by_hash = dists / f"main/binary-{arch}/by-hash/SHA256/{digest}"
        by_hash.parent.mkdir(parents=True, exist_ok=True)
        url = f"{ARCHIVE}{archive}/dists/{suite}/main/binary-{arch}/by-hash/SHA256/{digest}"
        with urllib.request.urlopen(url, timeout=120) as answer:
            data = answer.read()
        if hashlib.sha256(data).hexdigest() != digest:
            raise SystemExit(f"{url}: the download does not match the InRelease")
        (dists / "InRelease").write_text(text, encoding="utf-8")
        by_hash.write_bytes(data)
        (dists / index).write_bytes(data)
        print(f"{archive} {suite}: {len(data)} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
