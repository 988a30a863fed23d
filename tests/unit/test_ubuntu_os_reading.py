"""Ubuntu's OS-reading branches, from the files a host has to what docker_engine writes.

No host is involved. host_facts' module reads planted root trees: the os-release and
lsb-release files of the SIMULATED Ubuntu 22.04/24.04 test hosts (tests/hosts/ubuntu, copied
from the real releases), Linux Mint 22's recorded os-release (an Ubuntu derivative whose
VERSION_CODENAME is its own, wilma, and whose UBUNTU_CODENAME is noble) and Debian 12's. The
provision_host fact it builds then goes through docker_engine's detect.yml and the repo
method's docker.sources template in one local ansible-playbook run (the fact handed in by the
STAND-IN facts module of tests/playbook_runner.py). A role that read VERSION_CODENAME on a
derivative, or that wrote a one-line list where Docker's docs for 24.04 use deb822, fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fixture_loader import fixture
from module_loader import ROOT, load_module
from playbook_runner import run_playbook

phf = load_module("provision_host_facts")
SIMULATED = ROOT / "tests" / "hosts" / "ubuntu"
ROLE = ROOT / "roles" / "docker_engine"


def plant(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def host(root: Path) -> Any:
    return phf.Host(str(root), lambda argv: (127, "", ""), 5)


OS_RELEASE = {
    "jammy": (SIMULATED / "jammy" / "os-release").read_text(encoding="utf-8"),
    "noble": (SIMULATED / "noble" / "os-release").read_text(encoding="utf-8"),
    "mint22": fixture("host_facts/os_release/linuxmint_22_wilma.txt"),
    "debian12": fixture("host_facts/os_release/debian_12_bookworm.txt"),
}


@pytest.mark.parametrize(("release", "version", "codename"),
                         [("jammy", "22.04", "jammy"), ("noble", "24.04", "noble")])
def test_simulated_ubuntu_hosts_read_as_their_release(tmp_path: Path, release: str,
                                                      version: str, codename: str) -> None:
    """The files the SIMULATED hosts carry are read as Ubuntu, and agree with lsb-release."""
    root = plant(tmp_path, {"/etc/os-release": OS_RELEASE[release]})
    os_fact, name = phf.gather_os(host(root))
    assert os_fact == {"id": "ubuntu", "version": version, "codename": codename,
                       "family": "ubuntu", "pretty_name": os_fact["pretty_name"],
                       "repo_id": "ubuntu"}
    assert name == "Ubuntu"
    assert os_fact["pretty_name"].startswith(f"Ubuntu {version}.")
    lsb = phf.parse_key_values((SIMULATED / release / "lsb-release").read_text("utf-8"))
    assert (lsb["DISTRIB_ID"], lsb["DISTRIB_RELEASE"], lsb["DISTRIB_CODENAME"]) == (
        "Ubuntu", version, codename)


def test_derivative_reports_ubuntu_codename_not_its_own(tmp_path: Path) -> None:
    root = plant(tmp_path, {"/etc/os-release": OS_RELEASE["mint22"]})
    os_fact, _ = phf.gather_os(host(root))
    assert "VERSION_CODENAME=wilma" in OS_RELEASE["mint22"]
    assert (os_fact["id"], os_fact["codename"], os_fact["repo_id"]) == ("linuxmint", "noble",
                                                                        "ubuntu")


@pytest.mark.parametrize(("planted", "restrict", "usable"), [("1\n", 1, False),
                                                             ("0\n", 0, True),
                                                             (None, None, True)])
def test_apparmor_userns_restriction_read_from_its_sysctl_file(
        tmp_path: Path, planted: str | None, restrict: int | None, usable: bool) -> None:
    """Where the SIMULATED 24.04 host plants it: /proc/sys/kernel/apparmor_restrict_... (1 on
    24.04 by default, absent before 23.10 and on Debian)."""
    files = {"/proc/sys/user/max_user_namespaces": "63329\n"}
    if planted is not None:
        files["/proc/sys/kernel/apparmor_restrict_unprivileged_userns"] = planted
    kernel = phf.gather_kernel(host(plant(tmp_path, files)))
    assert kernel["userns"]["apparmor_restrict_unprivileged_userns"] == restrict
    assert kernel["userns"]["usable"] is usable


PLAYBOOK = """\
- name: docker_engine's repo coordinates per OS
  hosts: all
  gather_facts: false
  tasks:
    - name: The case's provision_host (STAND-IN facts module)
      standin_facts:
        fact: "{{{{ case_fact }}}}"
    - name: Decide as the role does
      ansible.builtin.include_role:
        name: docker_engine
        tasks_from: detect
        public: true
    - name: Report
      ansible.builtin.debug:
        msg:
          repo_os_id: "{{{{ docker_engine_repo_os_id }}}}"
          codename: "{{{{ docker_engine_codename }}}}"
          sources: "{{{{ lookup('template', '{role}/templates/docker.sources.j2') }}}}"
"""


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    hosts = {}
    for case, text in OS_RELEASE.items():
        root = plant(tmp_path_factory.mktemp(case), {"/etc/os-release": text})
        os_fact, _ = phf.gather_os(host(root))
        fact = {"os": os_fact, "arch": {"machine": "x86_64", "dpkg": "amd64"},
                "packages": {}, "config_files": [], "docker": {"package": None}}
        hosts[case] = {"case_fact": fact,
                       "docker_engine_install_method": "repo",
                       "docker_engine_download_url": "https://download.docker.com"}
    output = run_playbook(tmp_path_factory.mktemp("play"), hosts, PLAYBOOK.format(role=ROLE))
    assert all(s["failures"] == 0 for s in output["stats"].values()), output["stats"]
    report = next(t for t in output["plays"][0]["tasks"] if t["task"]["name"] == "Report")
    return {name: result["msg"] for name, result in report["hosts"].items()}


def _deb822(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition(": ")
            fields[key] = value
    return fields


@pytest.mark.parametrize(("case", "distro", "suite"), [
    ("jammy", "ubuntu", "jammy"), ("noble", "ubuntu", "noble"),
    ("mint22", "ubuntu", "noble"), ("debian12", "debian", "bookworm")])
def test_repo_method_writes_deb822_for_the_right_distro_and_suite(
        decided: dict[str, dict[str, Any]], case: str, distro: str, suite: str) -> None:
    result = decided[case]
    assert (result["repo_os_id"], result["codename"]) == (distro, suite)
    text = result["sources"]
    # deb822 only: no one-line `deb URI SUITE COMPONENT` entry anywhere.
    assert not [line for line in text.splitlines() if line.startswith(("deb ", "deb-src "))]
    assert _deb822(text) == {
        "Types": "deb",
        "URIs": f"https://download.docker.com/linux/{distro}",
        "Suites": suite,
        "Components": "stable",
        "Architectures": "amd64",
        "Signed-By": "/etc/apt/keyrings/docker.asc",
    }


def test_repo_method_writes_that_template_to_docker_sources() -> None:
    """The deb822 text above is what lands on the host, as docker.sources (a .list file
    would have to be one-line)."""
    tasks = yaml.safe_load((ROLE / "tasks" / "install_repo.yml").read_text("utf-8"))
    writes = [t["ansible.builtin.template"] for t in tasks if "ansible.builtin.template" in t]
    assert writes == [{"src": "docker.sources.j2",
                       "dest": "{{ docker_engine_sources_dir }}/docker.sources",
                       "mode": "0644"}]
