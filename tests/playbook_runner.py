"""One local ansible-playbook run for unit tests that exercise role task files on the controller.

Each inventory host is a case (ansible_connection local); modules the tasks would call on a host
can be replaced by STAND-INS put in a library folder before the project's, and
FACTS_STANDIN is the STAND-IN for provision_host_facts (it returns the case's fact, plus any
other facts given as `extra`). The run's output is the ansible.posix.json callback's document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}

FACTS_STANDIN = '''#!/usr/bin/python
# STAND-IN for provision_host_facts (tests/playbook_runner.py): returns the case's fact as given.
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec={"fact": {"type": "dict"},
                                      "extra": {"type": "dict", "default": {}}},
                       supports_check_mode=True)
module.exit_json(changed=False, ansible_facts=dict(provision_host=module.params["fact"],
                                                   **module.params["extra"]))
'''


def run_playbook(tmp: Path, hosts: dict[str, dict[str, Any]], play: str,
                 modules: dict[str, str] | None = None,
                 group_vars: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run PLAY against HOSTS (each gets the local connection) with MODULES (name -> source)
    as stand-ins before the project's modules; the json callback's output."""
    library = tmp / "library"
    library.mkdir(exist_ok=True)
    for name, source in {"standin_facts": FACTS_STANDIN, **(modules or {})}.items():
        (library / f"{name}.py").write_text(source, encoding="utf-8")
    inventory = {"all": {"hosts": {name: {**LOCAL, **host} for name, host in hosts.items()},
                         "vars": group_vars or {}}}
    (tmp / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
    (tmp / "play.yml").write_text(play, encoding="utf-8")
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_LIBRARY": f"{library}{os.pathsep}{ROOT / 'plugins' / 'modules'}",
           "ANSIBLE_CACHE_PLUGIN": "memory", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
           "ANSIBLE_LOCAL_TEMP": str(tmp / "tmp"), "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(tmp / "inventory.json"),
                           str(tmp / "play.yml")],
                          capture_output=True, text=True, check=False, env=env, cwd=ROOT,
                          timeout=300)
    if "{" not in done.stdout:
        raise AssertionError(done.stdout[-3000:] + done.stderr[-3000:])
    return json.loads(done.stdout[done.stdout.index("{"):])
