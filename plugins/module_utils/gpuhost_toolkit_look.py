# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""What nvidia_container_toolkit and jetson_container_runtime decide from, read in one go.

Shared by nvidia_container_toolkit_facts (the roles' own look) and provision_host_facts, which
takes the same look inside its one round trip when the preflight hands it a role's look
parameters (provision_host.looks), so a no-op run does not read the host again for the role.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder).
try:
    from ansible.module_utils.gpuhost_host import Cmd
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import Cmd

Runner = Callable[[list[str]], Cmd]
DOCKERD_VERSION = re.compile(r"Docker version (\d+(?:\.\d+)*)")
TOML_TABLE = re.compile(r"^\[\s*([^\]]+?)\s*\]\s*$")
TOML_KEY = re.compile(r"^([A-Za-z0-9_.\"-]+?)\s*=\s*(.+)$")
DPKG_STATES = {"i": "installed", "c": "config-files", "n": "not-installed", "u": "unpacked",
               "f": "half-configured", "h": "half-installed", "w": "triggers-awaited",
               "t": "triggers-pending"}


def parse_dpkg(text: str) -> dict[str, dict[str, Any]]:
    """dpkg-query lines `name<TAB>abbrev<TAB>version` -> name -> {version, held, state}.

    The abbreviation's first letter is the selection (h = hold), the second the state; a package
    that is only selected (state n) has no version worth acting on.
    """
    out: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or len(parts[1]) < 2:
            continue
        name, abbrev, version = parts
        state = DPKG_STATES.get(abbrev[1], abbrev[1])
        out[name] = {"version": version if state == "installed" else None,
                     "held": abbrev[0] == "h", "state": state}
    return {name: info for name, info in out.items()
            if info["state"] != "not-installed" or info["held"]}


def _toml_value(text: str) -> Any:
    """A TOML scalar or flat array as Python (enough for NVIDIA's config.toml)."""
    text = text.strip()
    if text.startswith(("\"", "[")):
        try:
            return json.loads(text)
        except ValueError:
            pass
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _strip_comment(value: str) -> str:
    # A # outside a string starts a comment; NVIDIA's file has none inside values, but
    # user edits may add trailing ones.
    quote = ""
    for index, char in enumerate(value):
        if char in "\"'" and not quote:
            quote = char
        elif char == quote:
            quote = ""
        elif char == "#" and not quote:
            return value[:index].rstrip()
    return value.strip()


def parse_config_toml(text: str) -> dict[str, Any]:
    """Dotted key -> value for every key that is set (commented-out defaults are not set).

    A small reader instead of tomllib: Ubuntu 22.04's Python 3.10 has no tomllib, and the file
    NVIDIA's package writes uses only tables, scalars and one-line arrays.
    """
    values: dict[str, Any] = {}
    table = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = TOML_TABLE.match(line)
        if header:
            table = header.group(1).replace('"', "")
            continue
        pair = TOML_KEY.match(line)
        if pair:
            key = pair.group(1).replace('"', "")
            values[f"{table}.{key}" if table else key] = _toml_value(_strip_comment(pair.group(2)))
    return values


def config_differs(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Wanted keys whose current value differs; strings like "true" match true (extra vars)."""
    return sorted(key for key, value in wanted.items()
                  if key not in current or not _same(current[key], value))


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(current, bool) or isinstance(wanted, bool):
        return str(current).lower() == str(wanted).lower()
    if isinstance(current, (int, float)) and isinstance(wanted, str):
        return str(current) == wanted.strip()
    return current == wanted


def read_daemon_json(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        return {"exists": False, "runtimes": [], "nvidia": None, "default_runtime": None,
                "features": {}}
    except (OSError, ValueError) as exc:
        return {"exists": True, "runtimes": [], "nvidia": None, "default_runtime": None,
                "features": {}, "error": str(exc)}
    if not isinstance(data, dict):
        return {"exists": True, "runtimes": [], "nvidia": None, "default_runtime": None,
                "features": {}, "error": "not a JSON object"}
    runtimes = data.get("runtimes")
    features = data.get("features")
    return {"exists": True,
            "runtimes": sorted(runtimes) if isinstance(runtimes, dict) else [],
            "nvidia": runtimes.get("nvidia") if isinstance(runtimes, dict) else None,
            "default_runtime": data.get("default-runtime"),
            "features": features if isinstance(features, dict) else {}}


def process_start(pid: int, proc: str = "/proc") -> float | None:
    """Epoch seconds a process started: /proc/PID/stat's starttime (ticks since boot) + btime."""
    try:
        stat = Path(proc, str(pid), "stat").read_text(encoding="utf-8")
        boot = Path(proc, "stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    btime = next((int(line.split()[1]) for line in boot.splitlines()
                  if line.startswith("btime ")), None)
    if btime is None or len(fields) < 20:
        return None
    return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def docker_state(run: Runner, proc: str = "/proc") -> dict[str, Any]:
    version = run(["dockerd", "--version"])
    found = DOCKERD_VERSION.search(version.stdout) if version.ok else None
    show = run(["systemctl", "show", "--property=ActiveState,MainPID", "docker.service"])
    props = dict(line.split("=", 1) for line in show.stdout.splitlines() if "=" in line)
    pid = int(props.get("MainPID", "0") or 0)
    return {"version": found.group(1) if found else "",
            "active": props.get("ActiveState") == "active",
            "started": process_start(pid, proc) if pid > 0 else None}


def hook_state(name: str, started: float | None,
               which: Callable[[str], str | None] = shutil.which) -> dict[str, Any]:
    path = which(name)
    if not path:
        return {"path": None, "ctime": None, "newer_than_dockerd": False}
    ctime = Path(path).stat().st_ctime
    # A dockerd that does not run registers its driver when it starts: nothing to catch up on.
    return {"path": path, "ctime": ctime,
            "newer_than_dockerd": started is not None and ctime > started}


def unit_state(run: Runner, units: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for unit in units:
        cmd = run(["systemctl", "show", "--property=LoadState,UnitFileState", unit])
        props = dict(line.split("=", 1) for line in cmd.stdout.splitlines() if "=" in line)
        out[unit] = {"exists": props.get("LoadState") == "loaded",
                     "enabled": props.get("UnitFileState") == "enabled"}
    return out


def conffile_owned(run: Runner, package: str, path: str) -> bool:
    cmd = run(["dpkg-query", "--show", "--showformat=${Conffiles}\n", package])
    return cmd.ok and any(line.split()[:1] == [path] for line in cmd.stdout.splitlines())


def read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def read_config(path: str) -> tuple[bool, dict[str, Any]]:
    try:
        return True, parse_config_toml(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False, {}


def parse_fingerprints(text: str) -> list[str]:
    """Primary-key fingerprints from `gpg --with-colons` output (the fpr line after each pub)."""
    found: list[str] = []
    after_pub = False
    for line in text.splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            after_pub = True
        elif fields[0] == "fpr" and after_pub and len(fields) > 9:
            found.append(fields[9])
            after_pub = False
    return found


def keyring_fingerprints(run: Runner, path: str, home: str) -> list[str]:
    """The keys in a keyring file, read with a throw-away GnuPG home (nothing under ~root)."""
    if not Path(path).is_file():
        return []
    cmd = run(["gpg", "--batch", "--homedir", home, "--with-colons", "--show-keys", path])
    return parse_fingerprints(cmd.stdout) if cmd.ok else []


def apt_key_entries(run: Runner, apt_key_ring: str, keyring: str) -> list[str]:
    if not (Path(apt_key_ring).is_file() and Path(keyring).is_file() and shutil.which("gpg")):
        return []
    with tempfile.TemporaryDirectory(prefix="gpuhost-gpg-") as home:
        ours = set(keyring_fingerprints(run, keyring, home))
        return [fpr for fpr in keyring_fingerprints(run, apt_key_ring, home) if fpr in ours]


def gather(params: dict[str, Any], run: Runner, proc: str = "/proc") -> dict[str, Any]:
    dpkg = run(["dpkg-query", "--show",
                "--showformat=${Package}\t${db:Status-Abbrev}\t${Version}\n", *params["packages"]])
    packages = parse_dpkg(dpkg.stdout)
    exists, config = read_config(params["config_toml"])
    docker = docker_state(run, proc)
    owner = params["conffile_owner"]
    return {
        "packages": packages,
        "daemon_json_conffile": (owner in packages
                                 and conffile_owned(run, owner, params["daemon_json"])),
        "files": {path: os.path.lexists(path) for path in params["files"]},
        "texts": {path: read_text(path) for path in params["texts"]},
        "config": config,
        "config_exists": exists,
        "config_differs": config_differs(config, params["config_wanted"]),
        "cdi_specs": [path for path in params["cdi_specs"] if Path(path).exists()],
        "cdi_refresh": unit_state(run, params["cdi_refresh_units"]),
        "daemon_json": read_daemon_json(params["daemon_json"]),
        "docker": docker,
        "hook": hook_state(params["hook"], docker["started"]),
        "apt_key_entries": apt_key_entries(run, params["apt_key_ring"], params["keyring"]),
    }


# nvidia_container_toolkit_facts' options; provision_host_facts checks a look handed to it
# against the same spec (ArgumentSpecValidator), so both take it with the same values.
ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "packages": {"type": "list", "elements": "str", "required": True},
    "conffile_owner": {"type": "str", "default": "nvidia-docker2"},
    "files": {"type": "list", "elements": "path", "default": []},
    "texts": {"type": "list", "elements": "path", "default": []},
    "config_toml": {"type": "path", "default": "/etc/nvidia-container-runtime/config.toml"},
    "config_wanted": {"type": "dict", "default": {}},
    "cdi_specs": {"type": "list", "elements": "path",
                  "default": ["/var/run/cdi/nvidia.yaml", "/etc/cdi/nvidia.yaml"]},
    "cdi_refresh_units": {"type": "list", "elements": "str",
                          "default": ["nvidia-cdi-refresh.path", "nvidia-cdi-refresh.service"]},
    "daemon_json": {"type": "path", "default": "/etc/docker/daemon.json"},
    "hook": {"type": "str", "default": "nvidia-container-runtime-hook"},
    "apt_key_ring": {"type": "path", "default": "/etc/apt/trusted.gpg"},
    "keyring": {"type": "path",
                "default": "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"},
    "command_timeout": {"type": "int", "default": 30},
}
