"""execution-environment.yml (AWX / Automation Platform) against the repository's own lists.

`ansible-builder create` writes the build context (no image is built: no registry here) into a
temporary folder; what it will install must be exactly requirements.txt (runtime set),
requirements.yml and the system packages the controller side needs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
EE_FILE = ROOT / "execution-environment.yml"
# The EE's interpreter, from its python_path (/usr/bin/python3.11 -> "3.11").
EE_PYTHON = re.search(
    r"python(\d+\.\d+)$",
    yaml.safe_load(EE_FILE.read_text(encoding="utf-8"))["dependencies"]["python_interpreter"][
        "python_path"])[1]


def builder() -> str:
    beside = Path(sys.executable).parent / "ansible-builder"
    found = str(beside) if beside.is_file() else shutil.which("ansible-builder")
    assert found, "no ansible-builder: run ./setup.sh --test (requirements-test.txt)"
    return found


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ee") / "context"
    done = subprocess.run([builder(), "create", "-f", str(EE_FILE), "-c", str(out),
                           "--output-filename", "Containerfile"],
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def pin(name: str, text: str) -> str:
    """NAME's pin for the EE's interpreter (Python 3.11) in a requirements text: the line whose
    environment marker holds for it."""
    for line in text.splitlines():
        m = re.match(rf"{re.escape(name)}==([\w.]+)\s*(?:;(.*))?$", line.strip())
        if m and (not m[2] or Marker(m[2]).evaluate({"python_version": EE_PYTHON})):
            return m[1]
    raise AssertionError(f"no pin for {name}")


def test_python_deps_are_the_runtime_requirements(context: Path) -> None:
    assert (context / "_build" / "requirements.txt").read_bytes() == \
        (ROOT / "requirements.txt").read_bytes()


def test_collections_are_requirements_yml(context: Path) -> None:
    assert (context / "_build" / "requirements.yml").read_bytes() == \
        (ROOT / "requirements.yml").read_bytes()


def test_system_packages(context: Path) -> None:
    bindep = (context / "_build" / "bindep.txt").read_text(encoding="utf-8").splitlines()
    assert "openssh-clients [platform:rpm]" in bindep
    assert "openssh-client [platform:dpkg]" in bindep


def test_containerfile_base_and_ansible_pins(context: Path) -> None:
    ee = yaml.safe_load(EE_FILE.read_text(encoding="utf-8"))
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert f'ARG EE_BASE_IMAGE="{ee["images"]["base_image"]["name"]}"' in containerfile
    runtime = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.MULTILINE)
    assert refs, containerfile[:2000]
    assert sorted(refs[1].split()) == [f"ansible-core=={pin('ansible-core', runtime)}",
                                      f"ansible-runner=={pin('ansible-runner', runtime)}"]
    # ansible-core 2.19 needs Python >= 3.11.
    interpreter = ee["dependencies"]["python_interpreter"]["python_path"]
    assert re.search(r"python3\.(1[1-9])$", interpreter), interpreter


def test_awx_reads_the_same_collections_list() -> None:
    """AWX installs a project's collections/requirements.yml: a relative link to the one list."""
    link = ROOT / "collections" / "requirements.yml"
    assert link.is_symlink()
    assert str(link.readlink()) == "../requirements.yml"
    assert link.resolve() == (ROOT / "requirements.yml").resolve()


def test_builder_is_test_tooling() -> None:
    test_reqs = (ROOT / "requirements-test.txt").read_text(encoding="utf-8")
    assert re.search(r"^ansible-builder==", test_reqs, re.MULTILINE)
    assert "ansible-builder" not in (ROOT / "requirements.txt").read_text(encoding="utf-8")
