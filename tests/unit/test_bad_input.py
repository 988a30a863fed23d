"""Bad input, table-driven: each case is refused with the exit code and a message naming it.

Role inputs: the real preflight play of playbooks/site.yml (its first play, every role of the
site) runs once, in check mode, against one inventory of local hosts (ansible_connection local,
no become). Cases share hosts, as host variables: the preflight checks every role and names
each refused one, so a host carries cases whose roles differ, where a case's roles are its own
and every other role that reads one of its variables (that role would refuse it too). A host
per case made this the slowest unit test. host_facts' cases have a host each (ALONE): its
refusal stops the preflight before the other roles. A "good" host carries none. It only reads
this machine (the preflight's tasks are read-only: /etc/passwd and /etc/group through
docker_access_facts and getent). Each bad host must fail in the preflight play with a message
that names the host, the role, the variable and the value, and ends "Nothing on HOST was
changed."; the good host must pass, so a rule that refuses everything cannot pass these tests.
Host changes (what the refusal leaves unchanged on a real host) are asserted by
molecule/bad_input, not here.

CLI inputs: provision.py's own refusals (exit 4, one line naming the input), with the runner
replaced so that nothing can run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisionlib import cli
from provisionlib.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "playbooks" / "site.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

# name: (role, host variables, text the message must contain besides the variable name)
ROLE_CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "force-kind-choice": ("host_facts", {"host_facts_force_kind": "gpu"}, '"gpu"'),
    "facts-timeout-zero": ("host_facts", {"host_facts_command_timeout": 0}, "greater than 0"),
    "facts-timeout-text": ("host_facts", {"host_facts_command_timeout": "soon"}, '"soon"'),
    "method-choice": ("docker_engine", {"docker_engine_install_method": "snap"}, '"snap"'),
    "channel-choice": ("docker_engine", {"docker_engine_channel": "nightly"}, '"nightly"'),
    "version-words": ("docker_engine", {"docker_engine_version": "latest"}, '"latest"'),
    "version-newline": ("docker_engine", {"docker_engine_version": "27.5.1\n"}, '"27.5.1\\n"'),
    "version-regex": ("docker_engine", {"docker_engine_version": "27.*"}, '"27.*"'),
    "script-sha-short": ("docker_engine", {"docker_engine_script_sha256": "abc"}, '"abc"'),
    "key-sha-nonhex": ("docker_engine", {"docker_engine_repo_key_sha256": "z" * 64}, "zzzz"),
    "proxy-unknown-key": ("docker_engine", {"docker_engine_proxy": {"ftp": "http://p:1"}},
                          '"ftp"'),
    "proxy-not-url": ("docker_engine", {"docker_engine_proxy": {"http": "proxy:3128"}},
                      '"proxy:3128"'),
    "proxy-newline": ("docker_engine",
                      {"docker_engine_proxy": {"https": "http://p:3128\nExecStartPre=/bin/false"}},
                      "ExecStartPre"),
    "proxy-space": ("docker_engine", {"docker_engine_proxy": {"http": "http://p :3128"}},
                    '"http://p :3128"'),
    "no-proxy-empty-item": ("docker_engine", {"docker_engine_proxy": {"no_proxy": "a,,b"}},
                            '"a,,b"'),
    "download-url-ftp": ("docker_engine", {"docker_engine_download_url": "ftp://mirror"},
                         '"ftp://mirror"'),
    "script-url-newline": ("docker_engine",
                           {"docker_engine_script_url": "https://get.docker.com\nx"},
                           "get.docker.com\\nx"),
    "repo-url-space": ("docker_engine", {"docker_engine_repo_url": "https://m/ x"},
                       '"https://m/ x"'),
    "key-url-relative": ("docker_engine", {"docker_engine_repo_key_url": "gpg"}, '"gpg"'),
    "codename-upper": ("docker_engine", {"docker_engine_repo_codename": "Bookworm"}, "Bookworm"),
    "script-path-relative": ("docker_engine", {"docker_engine_script_path": "get.sh"}, "get.sh"),
    "package-option": ("docker_engine", {"docker_engine_packages": ["docker-ce", "-y"]}, '"-y"'),
    "package-two-names": ("docker_engine", {"docker_engine_distro_packages": ["docker.io x"]},
                          "docker.io x"),
    "packages-not-list": ("docker_engine", {"docker_engine_packages": {"a": 1}},
                          "dict"),
    "daemon-options-list": ("docker_engine", {"docker_engine_daemon_options": ["x"]}, "list"),
    "apt-cache-text": ("docker_engine", {"docker_engine_apt_cache_valid_time": "hourly"},
                       '"hourly"'),
    "access-missing-user": ("docker_access", {"docker_access_users": ["nosuchuser"]},
                            "nosuchuser"),
    "access-bad-user-name": ("docker_access", {"docker_access_users": ["Bad User"]},
                             '"Bad User"'),
    "access-user-newline": ("docker_access", {"docker_access_users": ["root\n"]}, '"root\\n"'),
    "access-add-and-remove": ("docker_access",
                              {"docker_access_users": ["root"],
                               "docker_access_users_absent": ["root"]},
                              "root"),
    "access-mode-world": ("docker_access", {"docker_access_socket_mode": "0666"}, "0666"),
    "access-mode-unquoted": ("docker_access", {"docker_access_socket_mode": 432}, "432"),
    "access-mode-nonoctal": ("docker_access", {"docker_access_socket_mode": "0990"}, "0990"),
    "access-group-upper": ("docker_access", {"docker_access_socket_group": "Docker"}, '"Docker"'),
    "access-rootless-root": ("docker_access", {"docker_access_rootless_users": ["root"]},
                             "uid 0"),
    "access-subid-text": ("docker_access", {"docker_access_rootless_subid_count": "many"},
                          '"many"'),
    "restart-timeout-zero": ("docker_restart", {"docker_restart_api_timeout": 0},
                             "greater than 0"),
    "restart-timeout-negative": ("docker_restart", {"docker_restart_api_timeout": -5}, "-5"),
    "nct-repo-url-ftp": ("nvidia_container_toolkit",
                         {"nvidia_container_toolkit_repo_url": "ftp://mirror"}, "ftp://mirror"),
    "nct-repo-url-newline": ("nvidia_container_toolkit",
                             {"nvidia_container_toolkit_repo_url": "https://m\n"}, "https://m"),
    "nct-key-url-space": ("nvidia_container_toolkit",
                          {"nvidia_container_toolkit_gpgkey_url": "https://m/ k"}, "https://m/ k"),
    "nct-version-words": ("nvidia_container_toolkit",
                          {"nvidia_container_toolkit_version": "latest"}, "latest"),
    "nct-version-no-revision": ("nvidia_container_toolkit",
                                {"nvidia_container_toolkit_version": "1.17.8"}, "1.17.8"),
    "nct-cdi-choice": ("nvidia_container_toolkit", {"nvidia_container_toolkit_cdi": "maybe"},
                       "maybe"),
    "nct-channel-choice": ("nvidia_container_toolkit",
                           {"nvidia_container_toolkit_channel": "nightly"}, "nightly"),
    "nct-config-key": ("nvidia_container_toolkit",
                       {"nvidia_container_toolkit_runtime_config": {"nocgroups": True}},
                       "nocgroups"),
    # A host rule: this machine has no NVIDIA driver loaded; forced to dgpu, the preflight (which
    # gathered provision_host first) refuses it before docker_engine could change anything.
    "nct-require-driver": ("nvidia_container_toolkit",
                           {"nvidia_container_toolkit_require_driver": True,
                            "host_facts_force_kind": "dgpu"},
                           "driver is not loaded"),
    "jcr-repo-url-ftp": ("jetson_container_runtime",
                         {"jetson_container_runtime_repo_url": "ftp://mirror/jetson"},
                         "ftp://mirror/jetson"),
    "jcr-soc-board-name": ("jetson_container_runtime", {"jetson_container_runtime_soc": "orin"},
                           '"orin"'),
    "jcr-package-option": ("jetson_container_runtime",
                           {"jetson_container_runtime_packages": ["--allow-unauthenticated"]},
                           "--allow-unauthenticated"),
    "de-no-raw-version-28": ("docker_engine", {"docker_engine_no_iptable_raw_version": "28.0"},
                             '"28.0"'),
    "enroot-unknown-key": ("enroot", {"enroot_config": {"ENROOT_BOGUS": "1"},
                                      "enroot_enabled": True}, "unknown keys ENROOT_BOGUS"),
    "enroot-config-quote": ("enroot", {"enroot_config": {"ENROOT_SQUASH_OPTIONS": "-comp 'lzo"},
                                       "enroot_enabled": True}, "Invalid configuration file"),
    "enroot-version-words": ("enroot", {"enroot_version": "latest", "enroot_enabled": True},
                             '"latest"'),
    "enroot-url-ftp": ("enroot", {"enroot_release_url": "ftp://m/x", "enroot_enabled": True},
                       '"ftp://m/x"'),
    "enroot-checksum-short": ("enroot", {"enroot_checksums": {"enroot_4.1.2-1_amd64.deb": "abc"},
                                         "enroot_enabled": True}, "enroot_4.1.2-1_amd64.deb"),
    "enroot-credential-space": ("enroot",
                                {"enroot_credentials": [{"user": "root", "machine": "r",
                                                         "login": "l", "password": "a b"}],
                                 "enroot_enabled": True}, "has no usable password"),
    "mirror-url-space": ("apt_mirror", {"apt_mirror_url": "http://m/ debian",
                                         "apt_mirror_enabled": True}, '"http://m/ debian"'),
    "mirror-url-ftp": ("apt_mirror", {"apt_mirror_url": "ftp://ftp.debian.org/debian",
                                      "apt_mirror_enabled": True},
                       '"ftp://ftp.debian.org/debian"'),
    "mirror-url-missing": ("apt_mirror", {"apt_mirror_url": "", "apt_mirror_enabled": True},
                           "must be an http://"),
    "mirror-security-newline": ("apt_mirror",
                                {"apt_mirror_security_url": "http://m/debian-security\nx",
                                 "apt_mirror_enabled": True, "apt_mirror_url": "http://m/d"},
                                "debian-security\\nx"),
    "mirror-location-scheme": ("apt_mirror",
                               {"apt_mirror_archive_locations": ["http://deb.debian.org/debian"],
                                "apt_mirror_enabled": True, "apt_mirror_url": "http://m/d"},
                               '"http://deb.debian.org/debian"'),
    "mirror-url-credentials": ("apt_mirror",
                               {"apt_mirror_url": "http://robot:mirror-pw-not-shown@m/debian",
                                "apt_mirror_enabled": True},
                               "a URL with a user name or password in it"),
    "verify-cpus-negative": ("gpu_verify", {"gpu_verify_cpus": "-1"}, '"-1"'),
    "verify-cpus-zero": ("gpu_verify", {"gpu_verify_cpus": "0"}, '"0"'),
    "verify-memory-words": ("gpu_verify", {"gpu_verify_memory": "lots"}, '"lots"'),
    "verify-memory-newline": ("gpu_verify", {"gpu_verify_memory": "64m\n"}, '"64m\\n"'),
    "verify-image-upper": ("gpu_verify", {"gpu_verify_image": "Ubuntu"}, '"Ubuntu"'),
    "verify-image-option": ("gpu_verify", {"gpu_verify_gpu_image": "--privileged"},
                            '"--privileged"'),
    "verify-enroot-image-space": ("gpu_verify", {"gpu_verify_enroot_image": "ubuntu x"},
                                  '"ubuntu x"'),
    "verify-missing-user": ("gpu_verify", {"gpu_verify_users": ["nosuchuser"]}, "nosuchuser"),
    "verify-timeout-zero": ("gpu_verify", {"gpu_verify_command_timeout": 0}, "greater than 0"),
    "verify-reuse-negative": ("gpu_verify", {"gpu_verify_reuse_seconds": -1}, "-1"),
    "verify-check-unknown": ("gpu_verify", {"gpu_verify_checks": ["engine", "cuda"]}, "cuda"),
    "verify-required-unknown": ("gpu_verify", {"gpu_verify_required": {"all": ["cuda"]}},
                                "cuda"),
    "verify-socket-mode": ("gpu_verify", {"gpu_verify_socket_mode": "rw"}, '"rw"'),
    "verify-socket-relative": ("gpu_verify", {"gpu_verify_socket_path": "docker.sock"},
                               "docker.sock"),
    "verify-report-newline": ("gpu_verify", {"gpu_verify_report_path": "/tmp/r.json\n"},
                              "r.json\\n"),
    # The variable the message must name comes first in each dict (_variable reads it).
    "ra-login-no-password": ("registry_auth",
                             {"registry_auth_logins": [{"registry": "localhost:5000",
                                                        "username": "robot"}],
                              "registry_auth_users": ["root"], "registry_auth_enabled": True},
                             "has no password"),
    "ra-registry-url": ("registry_auth",
                        {"registry_auth_ecr_registries": ["https://1.dkr.ecr.x.amazonaws.com/v2"],
                         "registry_auth_users": ["root"], "registry_auth_enabled": True},
                        "https://1.dkr.ecr.x.amazonaws.com/v2"),
    "ra-missing-user": ("registry_auth", {"registry_auth_users": ["nosuchuser"],
                                          "registry_auth_enabled": True}, "nosuchuser"),
    "ra-username-colon": ("registry_auth",
                          {"registry_auth_logins": [{"registry": "r.example", "username": "a:b",
                                                     "password": "pw-not-shown"}],
                           "registry_auth_users": ["root"], "registry_auth_enabled": True},
                          "has no usable username"),
    "cs-volume-relative": ("container_service",
                           {"container_service_containers": [{"name": "web", "image": "busybox",
                                                              "volumes": ["data:/data"]}],
                            "container_service_enabled": True}, '"data:/data"'),
    "cs-env-newline": ("container_service",
                       {"container_service_containers": [
                           {"name": "web", "image": "busybox",
                            "env": {"MODE": "prod\nExecStartPre=/bin/false"}}],
                        "container_service_enabled": True}, "env MODE with a newline"),
    "cs-name-space": ("container_service",
                      {"container_service_containers": [{"name": "my web", "image": "busybox"}],
                       "container_service_enabled": True}, "no usable name"),
    # An unquoted 22:22 in YAML 1.1 is the base-60 number 1342: refused, not published.
    "cs-port-number": ("container_service",
                       {"container_service_containers": [{"name": "web", "image": "busybox",
                                                          "ports": [1342]}],
                        "container_service_enabled": True}, "quote each port"),
    "cs-command-string": ("container_service",
                          {"container_service_containers": [{"name": "web", "image": "busybox",
                                                             "command": "sleep 1"}],
                           "container_service_enabled": True}, "command is not a list"),
    "pull-no-url": ("ansible_pull", {"ansible_pull_url": "", "ansible_pull_enabled": True},
                    "the git URL of this project"),
    "pull-url-password": ("ansible_pull",
                          {"ansible_pull_url": "https://robot:pull-pw-not-shown@git.example/p.git",
                           "ansible_pull_enabled": True}, "holds a user name or password"),
    "pull-playbook-absolute": ("ansible_pull",
                               {"ansible_pull_playbook": "/etc/passwd.yml",
                                "ansible_pull_url": "file:///srv/gpuhost.git",
                                "ansible_pull_enabled": True}, "relative to the checkout"),
    "pull-tags-space": ("ansible_pull", {"ansible_pull_tags": ["a b"],
                                         "ansible_pull_url": "file:///srv/gpuhost.git",
                                         "ansible_pull_enabled": True}, '["a b"]'),
}


# A host with bad inputs in two roles: one run names both.
TWO_ROLES = "two-roles"


def _variable(case: tuple[str, dict[str, Any], str]) -> str:
    return next(iter(case[1]))


def _reads(role: str, variable: str) -> bool:
    """Whether the preflight's look at role (its defaults, argument_specs, validate tasks)
    names variable: a bad value there would be refused by that role too."""
    files = ("defaults/main.yml", "meta/argument_specs.yml", "tasks/validate.yml")
    pattern = re.compile(rf"\b{re.escape(variable)}\b")
    return any(pattern.search(path.read_text(encoding="utf-8"))
               for path in (ROOT / "roles" / role / name for name in files) if path.exists())


# The roles a case can make refuse: its own, and every other role that reads one of its
# variables (gpu_verify_users defaults to docker_access_users: a bad value there is refused by
# gpu_verify too). Two cases share a host only when these sets do not meet, so that each role's
# refusal on a host comes from one case.
_ROLES = {case[0] for case in ROLE_CASES.values()}


def _touched(name: str) -> frozenset[str]:
    role, variables, _ = ROLE_CASES[name]
    return frozenset({role} | {other for variable in variables for other in _ROLES - {role}
                               if _reads(other, variable)})


TOUCHED = {name: _touched(name) for name in ROLE_CASES}

# host_facts' refusal stops the preflight before any other role is checked: its cases have a
# host each.
ALONE = {name for name, (role, _, _) in ROLE_CASES.items() if role == "host_facts"}

# The preflight puts an optional role through its rules only on the hosts it will run on: the
# cases of the roles bound to a kind of host sit on hosts forced to that kind, and no host
# carries two kinds.
KIND_OF_ROLE = {"nvidia_container_toolkit": "dgpu", "jetson_container_runtime": "jetson"}


def _hosts_of_cases() -> dict[str, str]:
    """case -> the inventory host that carries it: its own (ALONE), or the first bad-NN host
    whose cases touch none of the roles this one touches and whose kind (the kind of the
    kind-bound role of a case it carries, if any) is this case's."""
    placed: dict[str, str] = {}
    hosts: list[tuple[set[str], str | None]] = []
    for name, (role, _, _) in ROLE_CASES.items():
        if name in ALONE:
            placed[name] = name
            continue
        kind = KIND_OF_ROLE.get(role)
        number = next((number for number, (roles, host_kind) in enumerate(hosts)
                       if not roles & TOUCHED[name] and kind in (None, host_kind or kind)),
                      len(hosts))
        if number == len(hosts):
            hosts.append((set(), None))
        roles, host_kind = hosts[number]
        roles |= TOUCHED[name]
        hosts[number] = (roles, host_kind or kind)
        placed[name] = f"bad-{number + 1:02d}"
    return placed


HOST_OF = _hosts_of_cases()


def _section(message: str, role: str, host: str) -> str:
    """The part of a host's refusal message that one role's refusal wrote."""
    head = f"Preflight refused the inputs of role {role} on {host}:"
    if head not in message:
        return ""
    rest = message.split(head, 1)[1]
    return head + rest.split("Preflight refused the inputs of role ", 1)[0]


def _preflight_playbook(directory: Path) -> Path:
    """site.yml's own first play, without become (it runs as this user on this machine)."""
    play = dict(yaml.safe_load(SITE.read_text(encoding="utf-8"))[0])
    play["become"] = False
    path = directory / "preflight.yml"
    path.write_text(yaml.safe_dump([play]), encoding="utf-8")
    return path


def _inventory(directory: Path) -> Path:
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    hosts = {"good": dict(local)}
    for name, case in ROLE_CASES.items():
        hosts.setdefault(HOST_OF[name], dict(local)).update(case[1])
        if case[0] in KIND_OF_ROLE:
            hosts[HOST_OF[name]]["host_facts_force_kind"] = KIND_OF_ROLE[case[0]]
    hosts[TWO_ROLES] = {**local, **ROLE_CASES["method-choice"][1],
                        **ROLE_CASES["verify-cpus-zero"][1],
                        **ROLE_CASES["verify-memory-words"][1]}
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}), encoding="utf-8")
    return path


def _refusals(output: dict[str, Any]) -> dict[str, str]:
    """host -> the preflight's refusal message, from the json callback's output."""
    found: dict[str, str] = {}
    for task in output["plays"][0]["tasks"]:
        if task["task"]["name"].split(" : ")[-1].startswith("Refuse the inputs of"):
            for host, result in task["hosts"].items():
                if result.get("failed"):
                    found[host] = result["msg"]
    return found


@pytest.fixture(scope="module")
def preflight_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("preflight")
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_CACHE_PLUGIN": "memory",
           "ANSIBLE_FORKS": str(os.cpu_count() or 2),
           "ANSIBLE_LOCAL_TEMP": str(directory / "tmp"),
           "PATH": f"{ANSIBLE_PLAYBOOK.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "--check", "-i", str(_inventory(directory)),
         str(_preflight_playbook(directory))],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600, check=False)
    output = json.loads(done.stdout)
    return {"rc": done.returncode, "stats": output["stats"], "refusals": _refusals(output)}


def test_the_table_has_at_least_40_role_cases_across_every_role() -> None:
    assert len(ROLE_CASES) >= 40
    site_roles = yaml.safe_load(SITE.read_text())[0]["roles"][0]["vars"]["preflight_roles"]
    assert {case[0] for case in ROLE_CASES.values()} == set(site_roles)


def test_a_run_with_a_refused_host_exits_2(preflight_run: dict[str, Any]) -> None:
    assert preflight_run["rc"] == 2


def test_the_good_host_passes_the_preflight(preflight_run: dict[str, Any]) -> None:
    assert "good" not in preflight_run["refusals"]
    assert preflight_run["stats"]["good"]["failures"] == 0


@pytest.mark.parametrize("name", ROLE_CASES)
def test_role_input_is_refused_naming_it(name: str, preflight_run: dict[str, Any]) -> None:
    if name == "nct-require-driver" and Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this controller has a loaded NVIDIA driver: the host rule passes here")
    role, _, text = ROLE_CASES[name]
    variable = _variable(ROLE_CASES[name])
    host = HOST_OF[name]
    assert preflight_run["stats"][host]["failures"] == 1
    message = preflight_run["refusals"].get(host, "")
    section = _section(message, role, host)
    assert section, message
    assert variable in section, message
    assert text in section, message
    assert message.endswith(f"Nothing on {host} was changed."), message
    # The cases sharing the host are refused each in its own role's words: no other case's
    # variable shows in this role's part (a rule reading another role's input would).
    neighbours = [_variable(case) for other, case in ROLE_CASES.items()
                  if HOST_OF[other] == host and other != name]
    assert not [v for v in neighbours if v in section], section


def test_a_shared_host_names_each_of_its_refused_roles(preflight_run: dict[str, Any]) -> None:
    """Each case's role is named; a role that also reads a case's variable may be named too,
    no other."""
    for host in set(HOST_OF.values()) - ALONE:
        cases = [name for name in ROLE_CASES if HOST_OF[name] == host]
        roles = {ROLE_CASES[name][0] for name in cases}
        message = preflight_run["refusals"].get(host, "")
        named = set(re.findall(r"Preflight refused the inputs of role (\w+) on ", message))
        assert roles <= named <= set().union(*(TOUCHED[name] for name in cases)), message
        assert message.count("was changed") == 1, message


def test_cases_share_hosts_without_sharing_a_role() -> None:
    for host in set(HOST_OF.values()) - ALONE:
        cases = [name for name in ROLE_CASES if HOST_OF[name] == host]
        touched = [role for name in cases for role in TOUCHED[name]]
        assert len(touched) == len(set(touched)), (host, cases)
        kinds = {KIND_OF_ROLE[ROLE_CASES[name][0]] for name in cases
                 if ROLE_CASES[name][0] in KIND_OF_ROLE}
        assert len(kinds) <= 1, (host, cases)


@pytest.mark.parametrize("name", ["mirror-url-credentials", "ra-username-colon",
                                  "pull-url-password"])
def test_a_refusal_never_shows_a_password(name: str, preflight_run: dict[str, Any]) -> None:
    message = preflight_run["refusals"].get(HOST_OF[name], "")
    assert message and "-not-shown" not in message, message


def test_every_refused_role_is_named_in_one_run(preflight_run: dict[str, Any]) -> None:
    assert preflight_run["stats"][TWO_ROLES]["failures"] == 1
    message = preflight_run["refusals"].get(TWO_ROLES, "")
    assert f"Preflight refused the inputs of role docker_engine on {TWO_ROLES}:" in message
    assert f"Preflight refused the inputs of role gpu_verify on {TWO_ROLES}:" in message
    assert '"snap"' in message and "gpu_verify_cpus" in message, message
    assert message.endswith(f"Nothing on {TWO_ROLES} was changed."), message
    assert message.count("was changed") == 1, message


def test_each_broken_rule_of_a_role_is_a_line_of_its_own(preflight_run: dict[str, Any]) -> None:
    """gpu_verify's rules are one task whose message lists every broken rule: both bad inputs
    of TWO_ROLES are named, each on its own line (not one line holding a list)."""
    section = _section(preflight_run["refusals"].get(TWO_ROLES, ""), "gpu_verify", TWO_ROLES)
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(lines) == 2, section
    assert lines[0].startswith('- gpu_verify_cpus is "0"'), section
    assert lines[1].startswith('- gpu_verify_memory is "lots"'), section


# CLI refusals: argv (with {tmp} for a scratch directory) and the text the one line must hold
# (alternatives split by |).
CLI_CASES: dict[str, tuple[list[str], str]] = {
    "inventory-missing": (["apply", "-i", "/nonexistent/inv.yml"], "/nonexistent/inv.yml"),
    "inventory-garbage": (["apply", "-i", "{tmp}/garbage.yml"], "garbage.yml"),
    "inventory-list": (["apply", "-i", "{tmp}/list.yml"], "list.yml"),
    "inventory-empty": (["apply", "-i", "{tmp}/empty.yml"], "empty.yml"),
    "inventory-empty-dir": (["apply", "-i", "{tmp}/emptydir"], "emptydir"),
    # The parser's own reason, not only "No inventory was parsed", in the wording of the
    # controller's ansible-core (2.19 and later | 2.17).
    "inventory-ini-reason": (["apply", "-i", "{tmp}/bad.ini"],
                             "ini: Failed to parse|ini: not enough values to unpack"),
    "inventory-yaml-reason": (["apply", "-i", "{tmp}/garbage.yml"],
                              "YAML parsing failed|Syntax Error while loading YAML"),
    # A binary file reads as an ini inventory whose "host" is the bytes: refused, not run.
    "inventory-binary": (["apply", "-i", "{tmp}/binary"], "control characters"),
    "inventory-children-not-mapping": (["apply", "-i", "{tmp}/children.yml"], '"children"'),
    "extra-var-no-value": (["apply", "-e", "novalue"], "novalue"),
    "extra-var-broken-json": (["apply", "-e", '{"a": '], "not valid JSON"),
    "extra-var-bool-misfit": (["apply", "-e", "docker_access_create_users=perhaps"],
                              "docker_access_create_users"),
    "extra-var-int-misfit": (["apply", "-e", "gpu_verify_command_timeout=soon"],
                             "gpu_verify_command_timeout"),
    "forks-zero": (["apply", "-f", "0"], "-f"),
}



@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_input_is_refused_naming_it(name: str, no_run: list[Any], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "garbage.yml").write_text("all: [unclosed\n  : {\n")
    (tmp_path / "list.yml").write_text("- just\n- a list\n")
    (tmp_path / "empty.yml").write_text("")
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "bad.ini").write_text("[web\nhost1\n")
    (tmp_path / "binary").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "children.yml").write_text("all:\n  children: 5\n")
    argv, text = CLI_CASES[name]
    code = cli.main([arg.replace("{tmp}", str(tmp_path)) for arg in argv])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID_INPUT, err
    assert no_run == []
    assert any(alternative in err for alternative in text.split("|")), err
