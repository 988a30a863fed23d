"""The preflight's groups for site.yml's optional plays (roles/preflight/tasks/wanted.yml and
groups.yml).

One local ansible-playbook run, one inventory host per case, provision_host from the STAND-IN
facts module (tests/playbook_runner.py): the preflight's grouping tasks, then a play per optional
role that targets its group exactly as site.yml does. Each host must reach the plays of the
optional roles it needs and no other, and get one line naming the roles it skips and why.
Nothing on this machine is touched (set_fact, group_by and debug run on the controller).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from playbook_runner import run_playbook
from test_preflight_contract import roles_of_play

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "playbooks" / "site.yml"
OPTIONAL = yaml.safe_load((ROOT / "roles" / "preflight" / "vars" / "main.yml").read_text(
    encoding="utf-8"))["preflight_optional"]
ALL_ROLES = yaml.safe_load(SITE.read_text(encoding="utf-8"))[0]["roles"][0]["vars"][
    "preflight_roles"]


def _fact(kind: str) -> dict[str, Any]:
    return {"kind": kind, "summary": f"a {kind} test case"}


# host: (host variables, the optional roles whose plays it must reach)
CASES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "cpu-defaults": ({"case_fact": _fact("cpu")}, set()),
    "dgpu": ({"case_fact": _fact("dgpu")}, {"nvidia_container_toolkit"}),
    "jetson": ({"case_fact": _fact("jetson")}, {"jetson_container_runtime"}),
    "cpu-everything-on": ({"case_fact": _fact("cpu"), "apt_mirror_enabled": True,
                           "enroot_enabled": True, "registry_auth_enabled": True,
                           "container_service_enabled": True, "ansible_pull_enabled": True},
                          {"apt_mirror", "enroot", "registry_auth", "container_service",
                           "ansible_pull"}),
    # -e key=value gives strings; provision.py types them, a plain ansible-playbook run does not.
    "dgpu-enroot-as-strings": ({"case_fact": _fact("dgpu"), "enroot_enabled": "true",
                                "apt_mirror_enabled": "false"},
                               {"nvidia_container_toolkit", "enroot"}),
    # A playbook whose preflight does not name a role never groups hosts for it.
    "not-in-this-playbook": ({"case_fact": _fact("dgpu"), "enroot_enabled": True,
                              "case_roles": ["host_facts", "docker_engine"]}, set()),
}


def _play() -> str:
    plays = [{
        "name": "Preflight groups", "hosts": "all", "gather_facts": False,
        "vars": {"preflight_roles": "{{ case_roles | default(site_roles) }}",
                 "site_roles": ALL_ROLES},
        "tasks": [
            {"name": "Stand-in provision_host", "standin_facts": {"fact": "{{ case_fact }}"}},
            {"name": "Wanted", "ansible.builtin.include_role": {"name": "preflight",
                                                                 "tasks_from": "wanted"}},
            {"name": "Group", "ansible.builtin.include_role": {"name": "preflight",
                                                                "tasks_from": "groups"}},
        ],
    }]
    for role, play in _site_plays().items():
        plays.append({"name": f"Play of {role}", "hosts": play["hosts"], "gather_facts": False,
                      "tasks": [{"name": f"Reached {role}", "ansible.builtin.debug": {
                          "msg": role}}]})
    return yaml.safe_dump(plays, sort_keys=False)


def _site_plays() -> dict[str, dict[str, Any]]:
    """optional role -> its play in site.yml."""
    found = {}
    for play in yaml.safe_load(SITE.read_text(encoding="utf-8"))[1:]:
        roles = roles_of_play(play)
        found.update({role: play for role in roles if role in OPTIONAL})
    return found


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("groups")
    hosts = {name: dict(vars_) for name, (vars_, _) in CASES.items()}
    data = run_playbook(tmp, hosts, _play())
    reached: dict[str, set[str]] = {name: set() for name in CASES}
    lines: dict[str, str] = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            name = task["task"]["name"]
            for host, result in task["hosts"].items():
                assert not result.get("failed"), (host, name, result.get("msg"))
                if name.startswith("Reached "):
                    reached[host].add(name.removeprefix("Reached "))
                elif name.endswith("Say which optional roles have nothing to do on this host") \
                        and not result.get("skipped"):
                    lines[host] = result["msg"]
    return {"reached": reached, "lines": lines}


def test_every_optional_role_of_site_yml_has_its_group() -> None:
    plays = _site_plays()
    assert set(plays) == set(OPTIONAL)
    for role, play in plays.items():
        assert play["hosts"] == f"{{{{ groups['preflight_wants_{role}'] | default([]) }}}}"


def test_the_other_plays_of_site_yml_run_on_every_host() -> None:
    for play in yaml.safe_load(SITE.read_text(encoding="utf-8")):
        roles = roles_of_play(play)
        if not set(roles) & set(OPTIONAL):
            assert play["hosts"] == "all", play["name"]


def test_an_enable_switch_the_preflight_defaults_to_false_is_false_in_its_role() -> None:
    for role, rule in OPTIONAL.items():
        for variable in re.findall(r"(\w+) \| default\(false\)", rule["wanted"]):
            defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml")
                                      .read_text(encoding="utf-8"))
            assert defaults[variable] is False, (role, variable)


@pytest.mark.parametrize("role", OPTIONAL)
def test_the_rule_is_the_one_the_role_itself_runs_by(role: str) -> None:
    """A host outside the group never runs the role: so every task of the role's main.yml
    but the host_facts look and its lines of output must run under the same rule (or a narrower
    one: the rule and more). A role
    that gained work outside it (a clean-up on every host, say) fails here."""
    rule = re.sub(r"\s*\|\s*default\(false\)", "", OPTIONAL[role]["wanted"]).strip("{} ")
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text(
        encoding="utf-8"))
    guarded = [t for t in tasks if "host_facts" not in str(t.get("ansible.builtin.include_role"))
               and "ansible.builtin.debug" not in t]
    assert guarded, role
    for task in guarded:
        when = str(task.get("when", ""))
        # Narrowed further (rule and ...) is fine; widened (or ...) or unguarded is not.
        assert when == rule or (when.startswith(f"{rule} and ") and " or " not in when), (
            role, task["name"], when)


@pytest.mark.parametrize("name", CASES)
def test_a_host_reaches_the_plays_it_needs_and_no_other(name: str,
                                                        outcome: dict[str, Any]) -> None:
    assert outcome["reached"][name] == CASES[name][1]


@pytest.mark.parametrize("name", CASES)
def test_one_line_names_each_role_skipped_and_why(name: str, outcome: dict[str, Any]) -> None:
    vars_, wanted = CASES[name]
    skipped = set(vars_.get("case_roles", ALL_ROLES)) & set(OPTIONAL) - wanted
    line = outcome["lines"].get(name, "")
    assert bool(line) == bool(skipped), line
    for role in skipped:
        assert f"{role}: " in line, line
    for role in wanted:
        assert f"{role}: " not in line, line
    if "nvidia_container_toolkit" in skipped:
        assert f"the host is {vars_['case_fact']['kind']}, not dgpu" in line, line
