"""Every playbook checks every input before anything changes.

The first play of each playbook in playbooks/ is the preflight play (role preflight, hosts
all, gather_facts false, tagged always), and its preflight_roles list names every role the
playbook's later plays run, host_facts first (the preflight gathers provision_host after
checking its inputs, so the other roles' host rules can read it), each of which has a
tasks/validate.yml. A playbook that runs a role
its preflight does not cover (nvidia_container_toolkit added to site.yml but not to the list,
say) fails here, naming the playbook and the role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PREFLIGHT = "preflight"
PLAYBOOKS = sorted((ROOT / "playbooks").glob("*.yml"))
INCLUDE_KEYS = ("ansible.builtin.include_role", "ansible.builtin.import_role",
                "include_role", "import_role")


def roles_of_play(play: dict[str, Any]) -> list[str]:
    """Roles a play runs: its roles: list and include_role/import_role tasks."""
    names = [r["role"] if isinstance(r, dict) else r for r in play.get("roles") or []]
    for section in ("pre_tasks", "tasks", "post_tasks"):
        for task in play.get(section) or []:
            for key in INCLUDE_KEYS:
                if isinstance(task, dict) and isinstance(task.get(key), dict):
                    names.append(task[key]["name"])
    return names


def preflight_problems(plays: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a playbook's preflight; empty when it covers every role."""
    if not plays:
        return ["no plays"]
    first = plays[0]
    entries = first.get("roles") or []
    if [r["role"] if isinstance(r, dict) else r for r in entries] != [PREFLIGHT]:
        return [f"the first play ({first.get('name')!r}) is not the preflight play "
                f"(roles: [{PREFLIGHT}])"]
    problems = []
    for key, wanted in (("hosts", "all"), ("gather_facts", False)):
        if first.get(key) != wanted:
            problems.append(f"the preflight play has {key}: {first.get(key)!r}, not {wanted!r}")
    if "always" not in (first.get("tags") or []):
        problems.append("the preflight play is not tagged always (-t would skip it)")
    entry = entries[0] if isinstance(entries[0], dict) else {}
    covered = (entry.get("vars") or {}).get("preflight_roles") or []
    if covered[:1] != ["host_facts"]:
        problems.append(f"preflight_roles {covered} does not start with host_facts (the look "
                        "the other roles' checks read)")
    for play in plays[1:]:
        for role in roles_of_play(play):
            if role == PREFLIGHT:
                problems.append(f"play {play.get('name')!r} runs preflight again")
            elif role not in covered:
                problems.append(f"play {play.get('name')!r} runs role {role}, which "
                                "preflight_roles of the first play does not name")
    return problems


IMPORT_KEYS = ("ansible.builtin.import_playbook", "import_playbook")


def load(path: Path) -> list[dict[str, Any]]:
    """The plays of a playbook, with each import_playbook replaced by the imported plays (a
    playbook that imports site.yml, such as pull.yml, is held to site.yml's preflight)."""
    plays: list[dict[str, Any]] = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        imported = next((entry[key] for key in IMPORT_KEYS if key in entry), None)
        plays.extend(load(path.parent / imported) if imported else [entry])
    return plays


def test_playbooks_are_found() -> None:
    assert {p.name for p in PLAYBOOKS} >= {"site.yml", "docker.yml", "access.yml", "facts.yml",
                                            "verify.yml", "pull.yml"}


def test_pull_yml_runs_site_yml_on_the_node_itself() -> None:
    """What ansible-pull runs (roles/ansible_pull): site.yml's plays, with connection local
    whatever an inventory says (play variables outrank inventory variables)."""
    entries = yaml.safe_load((ROOT / "playbooks" / "pull.yml").read_text(encoding="utf-8"))
    assert [e.get("ansible.builtin.import_playbook") for e in entries] == ["site.yml"]
    assert entries[0]["vars"] == {"ansible_connection": "local"}
    assert load(ROOT / "playbooks" / "pull.yml") == load(ROOT / "playbooks" / "site.yml")


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_preflight_is_first_and_covers_every_role(path: Path) -> None:
    problems = preflight_problems(load(path))
    assert not problems, f"playbooks/{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_every_covered_role_has_a_validate_file(path: Path) -> None:
    covered = load(path)[0]["roles"][0]["vars"]["preflight_roles"]
    missing = [r for r in covered if not (ROOT / "roles" / r / "tasks/validate.yml").is_file()]
    assert not missing, f"playbooks/{path.name}: no roles/<role>/tasks/validate.yml for {missing}"


# The checker itself, on playbooks that must fail: it is what keeps the real ones honest.
_PREFLIGHT_PLAY = {"name": "p", "hosts": "all", "gather_facts": False, "tags": ["always"],
                   "roles": [{"role": "preflight",
                              "vars": {"preflight_roles": ["host_facts", "docker_engine"]}}]}


def _play(*roles: str) -> dict[str, Any]:
    return {"name": "+".join(roles), "hosts": "all", "roles": [{"role": r} for r in roles]}


@pytest.mark.parametrize(("plays", "expected"), [
    ([_PREFLIGHT_PLAY, _play("host_facts"), _play("nvidia_container_toolkit")],
     "runs role nvidia_container_toolkit"),
    ([_play("host_facts"), _PREFLIGHT_PLAY], "is not the preflight play"),
    ([{**_PREFLIGHT_PLAY, "tags": []}, _play("docker_engine")], "not tagged always"),
    ([{**_PREFLIGHT_PLAY, "hosts": "gpu"}, _play("docker_engine")], "hosts: 'gpu'"),
    ([{**_PREFLIGHT_PLAY, "gather_facts": True}], "gather_facts: True"),
    ([_PREFLIGHT_PLAY, {"name": "t", "hosts": "all", "tasks": [
        {"ansible.builtin.include_role": {"name": "gpu_verify"}}]}], "runs role gpu_verify"),
    ([{**_PREFLIGHT_PLAY, "roles": [{"role": "preflight", "vars": {
        "preflight_roles": ["docker_engine", "host_facts"]}}]}, _play("docker_engine")],
     "does not start with host_facts"),
], ids=["uncovered-role", "not-first", "not-always", "not-all-hosts", "gathers-facts",
        "uncovered-include-role", "host-facts-not-first"])
def test_the_checker_names_what_is_wrong(plays: list[dict[str, Any]], expected: str) -> None:
    problems = preflight_problems(plays)
    assert any(expected in p for p in problems), problems


def test_the_checker_passes_a_covered_playbook() -> None:
    assert preflight_problems([_PREFLIGHT_PLAY, _play("host_facts", "docker_engine")]) == []


def test_no_two_roles_declare_the_same_variable() -> None:
    """The preflight checks every role's argument_specs in one merged spec
    (roles/preflight/tasks/main.yml): a variable two roles declared would keep only one
    declaration, and the other role's type or choices would silently go unchecked."""
    owners: dict[str, list[str]] = {}
    for path in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        specs = yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]
        for option in (specs.get("main", {}).get("options") or {}):
            owners.setdefault(option, []).append(path.parts[-3])
    assert len(owners) > 50
    assert {name: roles for name, roles in owners.items() if len(roles) > 1} == {}
