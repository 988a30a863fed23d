"""docker_engine_proxy is checked before anything changes, and written safely for systemd.

One real, local ansible-playbook run (no host touched: the role's tasks/validate.yml only
asserts) with one inventory host per case, each with its own docker_engine_proxy; then the
role's template is rendered for the hosts that passed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "roles" / "docker_engine" / "templates" / "http-proxy.conf.j2"

GOOD: dict[str, dict[str, str]] = {
    "plain": {"http": "http://proxy.example.com:3128", "https": "https://proxy.example.com",
              "no_proxy": "localhost,127.0.0.1,.corp.example,10.0.0.0/8,::1,*.svc"},
    "userinfo_percent": {"http": "http://user:p%40ss%25w@10.0.0.1:8080/"},
    "socks5": {"https": "socks5://proxy:1080"},
    "ipv6": {"http": "http://[fd00::1]:3128", "no_proxy": "[fd00::1],fd00::/8"},
    "empty_values": {"http": "", "no_proxy": ""},
}

BAD: dict[str, tuple[str, str]] = {
    "newline_injection": ("http", "http://p:3128\nExecStartPre=/bin/sh -c id"),
    "carriage_return": ("https", "http://p:3128\r"),
    "no_scheme": ("http", "proxy.example.com:3128"),
    "ftp_scheme": ("https", "ftp://proxy:21"),
    "space": ("http", "http://pro xy:3128"),
    "quote": ("http", 'http://a"b:3128'),
    "backslash": ("http", "http://proxy\\:3128"),
    "port_not_a_number": ("http", "http://proxy:abc"),
    "path_after_host": ("http", "http://proxy:3128/some/path"),
    "no_proxy_space": ("no_proxy", "localhost, 127.0.0.1"),
    "no_proxy_newline": ("no_proxy", "localhost\n[Service]"),
    "no_proxy_tab": ("no_proxy", "localhost\t"),
    "no_proxy_empty_item": ("no_proxy", "localhost,,example.com"),
}

PLAYBOOK = f"""\
- name: Check docker_engine_proxy per case
  hosts: all
  gather_facts: false
  tasks:
    - name: The role's input checks
      ansible.builtin.include_role:
        name: docker_engine
        tasks_from: validate
    - name: Render the drop-in
      ansible.builtin.set_fact:
        rendered: "{{{{ lookup('ansible.builtin.template', {str(TEMPLATE)!r}) }}}}"
"""


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("proxy")
    hosts: dict[str, Any] = {}
    for name, proxy in GOOD.items():
        hosts[f"good_{name}"] = {"docker_engine_proxy": proxy}
    for name, (key, value) in BAD.items():
        hosts[f"bad_{name}"] = {"docker_engine_proxy": {key: value}}
    for host in hosts.values():
        host.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    (tmp / "inventory.json").write_text(json.dumps({"all": {"hosts": hosts}}))
    (tmp / "play.yml").write_text(PLAYBOOK)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp / "inventory.json"),
         str(tmp / "play.yml")],
        capture_output=True, text=True, check=False, env=env, cwd=ROOT, timeout=300)
    data = json.loads(done.stdout)
    results: dict[str, dict[str, Any]] = {h: {} for h in hosts}
    for task in data["plays"][0]["tasks"]:
        for host, result in task["hosts"].items():
            if result.get("failed"):  # a loop: each failed item carries its own message
                # ansible-core 2.21's json callback drops an assert item's `failed`; its
                # `evaluated_to: false` says the same on every version.
                items = [r for r in result.get("results", [])
                         if r.get("failed") or r.get("evaluated_to") is False] or [result]
                results[host]["failed"] = "\n".join(r.get("msg", "") for r in items)
            if "rendered" in result.get("ansible_facts", {}):
                results[host]["rendered"] = result["ansible_facts"]["rendered"]
    return results


@pytest.mark.parametrize("name", GOOD)
def test_good_proxy_settings_pass(name: str, outcome: dict[str, dict[str, Any]]) -> None:
    assert "failed" not in outcome[f"good_{name}"], outcome[f"good_{name}"]


@pytest.mark.parametrize("name", BAD)
def test_bad_proxy_settings_are_refused_with_variable_value_rule_and_fix(
    name: str, outcome: dict[str, dict[str, Any]]
) -> None:
    key, value = BAD[name]
    message = outcome[f"bad_{name}"].get("failed", "")
    assert f"docker_engine_proxy.{key}" in message
    assert json.dumps(value) in message  # the value, escaped so a newline stays visible
    assert "must be" in message and "Fix:" in message
    assert "rendered" not in outcome[f"bad_{name}"]


def test_percent_is_escaped_for_systemd(outcome: dict[str, dict[str, Any]]) -> None:
    rendered = outcome["good_userinfo_percent"]["rendered"]
    assert 'Environment="HTTP_PROXY=http://user:p%%40ss%%25w@10.0.0.1:8080/"\n' in rendered


def test_rendered_drop_in(outcome: dict[str, dict[str, Any]]) -> None:
    lines = outcome["good_plain"]["rendered"].splitlines()
    assert lines[1:] == [
        "[Service]",
        'Environment="HTTP_PROXY=http://proxy.example.com:3128"',
        'Environment="HTTPS_PROXY=https://proxy.example.com"',
        'Environment="NO_PROXY=localhost,127.0.0.1,.corp.example,10.0.0.0/8,::1,*.svc"',
    ]
    assert "HTTP_PROXY" not in outcome["good_empty_values"]["rendered"]
