"""Exit 4 for every unusable inventory and for --tags/--limit that select nothing.

Before: a garbage inventory without --limit reached ansible-playbook (exit 1), an inventory with
no hosts ran nothing and said ok, and `-t nosuchtag` ran only the always-tagged tasks and said
"apply: ok". The tag check lists the playbook's tasks with ansible-playbook --list-tasks (real,
local, no host contacted).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib import cli
from provisionlib.exitcodes import ExitCode, InputError
from provisionlib.selection import check_tags

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = str(ROOT / "tests" / "fixtures" / "runner" / "inventory.yml")

PLAYBOOK = """\
- name: One play
  hosts: all
  gather_facts: false
  tasks:
    - name: Always here
      ansible.builtin.debug: {msg: a}
      tags: [always]
    - name: Tagged docker
      ansible.builtin.debug: {msg: d}
      tags: [docker]
    - name: Untagged
      ansible.builtin.debug: {msg: u}
"""



def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], no_run: list) -> str:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == ExitCode.INVALID_INPUT, err
    assert no_run == [] and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("content", [
    "garbage: [\n",            # not YAML
    "- just\n- a list\n",      # YAML, not an inventory
    "[group\nhost ansible_host=\n",  # broken INI
])
def test_unparsable_inventory_without_limit(
    content: str, tmp_path: Path, no_run: list, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "inv.yml"
    bad.write_text(content)
    line = _refused(["apply", "-i", str(bad)], capsys, no_run)
    assert "cannot be parsed" in line and "ansible-inventory" in line


@pytest.mark.parametrize("content", ["", "all:\n  hosts: {}\n"])
def test_inventory_without_hosts(
    content: str, tmp_path: Path, no_run: list, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "inv.yml"
    empty.write_text(content)
    line = _refused(["facts", "-i", str(empty)], capsys, no_run)
    assert "has no hosts" in line


def test_tag_that_matches_no_task_runs_nothing(
    no_run: list, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _refused(["apply", "-i", INVENTORY, "-t", "nosuchtag"], capsys, no_run)
    assert "--tags 'nosuchtag'" in line and "selects no task" in line


def test_tags_that_select_tasks_reach_the_runner(no_run: list, tmp_path: Path) -> None:
    code = cli.main(["apply", "-i", INVENTORY, "-t", "untagged", "--report",
                     str(tmp_path / "r.json")])
    assert code == ExitCode.OK and len(no_run) == 1


def test_check_tags_reads_the_playbook(tmp_path: Path) -> None:
    book = tmp_path / "p.yml"
    book.write_text(PLAYBOOK)
    check_tags(book, INVENTORY, None, "docker", None, {})
    check_tags(book, INVENTORY, None, "untagged", None, {})
    check_tags(book, INVENTORY, None, None, "docker", {})
    with pytest.raises(InputError, match=r"tags there: docker"):
        check_tags(book, INVENTORY, None, "gpu", None, {})
    with pytest.raises(InputError, match=r"--skip-tags 'docker,untagged'.*selects no task"):
        check_tags(book, INVENTORY, None, None, "docker,untagged", {})
