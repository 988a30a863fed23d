"""The gpuhost.toolkit collection (galaxy.yml): what `ansible-galaxy collection build` packs.

The tarball is built into a temporary folder (never into the repository); installing it and
running a role from it against a test host is tests/collection/test_collection_install.py.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GALAXY = Path(sys.executable).parent / "ansible-galaxy"
COLLECTION_UTILS = "ansible_collections.gpuhost.toolkit.plugins.module_utils."
# What the collection holds at its top level: anything else (a new folder of tooling, a venv,
# a cache) must be added to galaxy.yml's build_ignore or here, on purpose.
TOP_LEVEL = {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.md", "meta", "plugins",
             "roles", "playbooks"}


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("build")
    done = subprocess.run([str(GALAXY), "collection", "build", "--output-path", str(out)],
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (tarball,) = out.glob("gpuhost-toolkit-*.tar.gz")
    with tarfile.open(tarball) as tar:
        return {m.name.rstrip("/") for m in tar.getmembers()}


def test_names_in_galaxy_yml() -> None:
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert (galaxy["namespace"], galaxy["name"]) == ("gpuhost", "toolkit")


def test_every_module_and_role_is_packed(members: set[str]) -> None:
    modules = sorted(p.name for p in (ROOT / "plugins" / "modules").glob("*.py"))
    utils = sorted(p.name for p in (ROOT / "plugins" / "module_utils").glob("*.py"))
    roles = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir())
    assert modules and utils and len(roles) >= 10
    assert [m for m in modules if f"plugins/modules/{m}" not in members] == []
    assert [u for u in utils if f"plugins/module_utils/{u}" not in members] == []
    assert [r for r in roles if f"roles/{r}/tasks/main.yml" not in members] == []
    # Every file of every role, and every playbook.
    tracked = subprocess.run(["git", "ls-files", "roles", "playbooks"], capture_output=True,
                             text=True, check=True, cwd=ROOT).stdout.split()
    assert [f for f in tracked if f not in members] == []
    assert "meta/runtime.yml" in members


def test_nothing_else_is_packed(members: set[str]) -> None:
    assert {m.split("/")[0] for m in members} <= TOP_LEVEL
    stray = [m for m in members if re.search(r"(^|/)(__pycache__|\.venv|\.cache|\.git)(/|$)", m)
             or m.endswith((".pyc", ".tar.gz"))]
    assert stray == []


def test_requires_ansible_is_the_oldest_pinned_core() -> None:
    pins = re.findall(r"^ansible-core==([\d.]+)",
                      (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.MULTILINE)
    oldest = min(pins, key=lambda v: tuple(int(x) for x in v.split(".")))
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert runtime["requires_ansible"] == f">={oldest}"


@pytest.mark.parametrize("path", sorted((ROOT / "plugins" / "modules").glob("*.py")),
                         ids=lambda p: p.stem)
def test_module_utils_imports_work_in_the_collection(path: Path) -> None:
    """Each ansible.module_utils.gpuhost_* import sits in a try whose `except ImportError`
    imports the same names from the collection's module_utils: a module loaded from a checkout
    finds the first (ansible.cfg's module_utils), one from the installed collection the second.
    Ansible's dependency finder takes imports that are not at the top level as optional."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def gpuhost_imports(nodes: list[ast.stmt], prefix: str) -> list[tuple[str, list[str]]]:
        return [(n.module[len(prefix):], [a.name for a in n.names]) for n in nodes
                if isinstance(n, ast.ImportFrom) and n.module
                and n.module.startswith(prefix + "gpuhost_")]

    everywhere = gpuhost_imports(
        [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)], "ansible.module_utils.")
    guarded: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        here = gpuhost_imports(node.body, "ansible.module_utils.")
        if not here:
            continue
        handlers = [h for h in node.handlers
                    if isinstance(h.type, ast.Name) and h.type.id == "ImportError"]
        assert len(handlers) == 1, f"line {node.lineno}: no `except ImportError`"
        assert gpuhost_imports(handlers[0].body, COLLECTION_UTILS) == here
        guarded += here
    assert guarded == everywhere, "an ansible.module_utils.gpuhost_* import outside such a try"
