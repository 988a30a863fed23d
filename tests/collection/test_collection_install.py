"""The built gpuhost.toolkit collection, installed and run the way a user's playbook would.

The tarball is built into a temporary folder, installed with `ansible-galaxy collection install`
(offline, from the file) into a temporary collections path, and a playbook written outside the
repository runs gpuhost.toolkit.host_facts on a Debian 12 test host. Nothing points into the
checkout: no repository ansible.cfg, library, module_utils or roles_path (every ANSIBLE_*
variable of the caller is dropped); only community.docker's connection plugin comes from
.collections. So the role, its module (called by short name) and the module's module_utils
(the `except ImportError` branch) can only come from the installed collection. A second play
includes gpu_verify's validate tasks, which include the sibling role host_facts by short name.

Needs the test-host harness (`tests/hosts/testhosts.sh up`); run under the molecule lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TESTHOSTS = ROOT / "tests" / "hosts" / "testhosts.sh"
IMAGE = "gpuhost-testhost:debian12"

PLAY = """\
- name: Facts from the installed collection
  hosts: all
  gather_facts: false
  roles:
    - role: gpuhost.toolkit.host_facts
  post_tasks:
    - name: Show what came back
      ansible.builtin.debug:
        msg: "{{ {'kind': provision_host.kind, 'os': provision_host.os} | to_json }}"
    - name: The facts came back
      ansible.builtin.assert:
        that:
          - provision_host.kind == 'cpu'
          - host_facts_gathered_this_run

- name: A collection role including a sibling role by short name
  hosts: all
  gather_facts: false
  tasks:
    - name: gpu_verify's input checks (they include host_facts' users tasks)
      ansible.builtin.include_role:
        name: gpuhost.toolkit.gpu_verify
        tasks_from: validate
      vars:
        gpu_verify_users: [root]
    - name: The sibling role ran
      ansible.builtin.assert:
        that: "'root' in host_facts_passwd"
"""


def run(argv: list[str], env: dict[str, str], cwd: Path,
        timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, env=env, cwd=cwd,
                          timeout=timeout)


@pytest.fixture
def host() -> Iterator[str]:
    name = f"gpuhost-coll-{uuid.uuid4().hex[:8]}"
    started = subprocess.run([str(TESTHOSTS), "start", name, IMAGE], capture_output=True,
                             text=True, check=False, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield name
    finally:
        subprocess.run([str(TESTHOSTS), "stop", name], capture_output=True, check=False,
                       timeout=120)


def test_role_runs_from_the_installed_collection(tmp_path: Path, host: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    # An empty config: none of the repository's ansible.cfg settings apply.
    (tmp_path / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")
    collections = tmp_path / "collections"
    env.update(ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=f"{collections}{os.pathsep}{ROOT / '.collections'}",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", HOME=str(tmp_path))

    built = run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path",
                 str(tmp_path / "dist"), str(ROOT)], env, tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    (tarball,) = (tmp_path / "dist").glob("gpuhost-toolkit-*.tar.gz")
    installed = run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p",
                     str(collections), str(tarball)], env, tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (collections / "ansible_collections" / "gpuhost" / "toolkit" / "MANIFEST.json").is_file()

    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    inventory = {"all": {"hosts": {host: {
        "ansible_connection": "community.docker.docker", "ansible_host": host,
        "ansible_python_interpreter": "/usr/bin/python3"}}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
    done = run([str(BIN / "ansible-playbook"), "-i", "inventory.json", "play.yml"], env,
               tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    report = json.loads(done.stdout[done.stdout.index("{"):])
    stats = report["stats"][host]
    assert stats["failures"] == 0 and stats["unreachable"] == 0
    ran = {t["task"]["name"]: t["hosts"][host] for p in report["plays"] for t in p["tasks"]}
    # Task names carry their role's name first (json callback): "host_facts : Gather ...".
    (gathered,) = [r for name, r in ran.items() if name.endswith("Gather the provision_host fact")]
    assert any(name.endswith("Look up the users this run has not found yet") for name in ran), \
        sorted(ran)
    # Called by its short name; with no library configured only the role's own collection
    # (gpuhost.toolkit, searched first by its roles) has a module of that name.
    assert gathered["action"] == "provision_host_facts"
    assert gathered["ansible_facts"]["provision_host"]["kind"] == "cpu"
