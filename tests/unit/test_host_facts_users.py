"""host_facts' `users` entry point: users looked up by name, once per run.

Names that docker_access's look of the run found (its registered docker_access_host, set here
by hand as a STAND-IN for that look) are not looked up again.

One real, local ansible-playbook run against this machine's own user database (root exists
everywhere; the other name is made up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playbook_runner import run_playbook

PLAYBOOK = """\
- name: Users
  hosts: all
  gather_facts: false
  tasks:
    - name: First look
      ansible.builtin.include_role:
        name: host_facts
        tasks_from: users
      vars:
        host_facts_users_wanted: [root, gpuhost-no-such-user, root]
    - name: After the first look
      ansible.builtin.debug:
        var: host_facts_passwd
    - name: Second look, names already found
      ansible.builtin.include_role:
        name: host_facts
        tasks_from: users
      vars:
        host_facts_users_wanted: [root]
    - name: docker_access's look of this run (its registered result, as read.yml leaves it)
      ansible.builtin.set_fact:
        docker_access_host: {passwd: {gpuhost-dir-user: [x, "5000", "5000", "", /home/d, /bin/sh]}}
    - name: Third look, a name docker_access found
      ansible.builtin.include_role:
        name: host_facts
        tasks_from: users
      vars:
        host_facts_users_wanted: [gpuhost-dir-user]
    - name: After the third look
      ansible.builtin.debug:
        var: host_facts_passwd
"""


def lookups(tasks: list[dict[str, Any]]) -> list[bool]:
    """For each run of the look-up task, whether it ran (False: skipped, no round trip)."""
    return [not t["hosts"]["h"].get("skipped", False) for t in tasks
            if t["task"]["name"].endswith("Look up the users this run has not found yet")]


def test_found_by_name_kept_and_not_looked_up_again(tmp_path: Path) -> None:
    output = run_playbook(tmp_path, {"h": {}}, PLAYBOOK)
    assert output["stats"]["h"]["failures"] == 0, output["stats"]
    tasks = output["plays"][0]["tasks"]
    passwd = next(t for t in tasks if t["task"]["name"] == "After the first look")
    found = passwd["hosts"]["h"]["host_facts_passwd"]
    assert set(found) == {"root"}
    # getent's fields without the name: password, uid, gid, gecos, home, shell
    assert found["root"][1:3] == ["0", "0"] and found["root"][4] == "/root"
    assert lookups(tasks) == [True, False, False]
    third = next(t for t in tasks if t["task"]["name"] == "After the third look")
    assert set(third["hosts"]["h"]["host_facts_passwd"]) == {"root", "gpuhost-dir-user"}
