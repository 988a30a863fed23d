#!/usr/bin/python
# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""Verify a GPU container host in one round trip: engine, access, limits, GPU, Jetson, enroot."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gpu_verify
short_description: Run the GPU container host checks and return one result per check
description:
  - Runs every requested check on the host in one module call and returns C(results), a list of
    C({name, status, reason, evidence, diagnosis?, fix?}) where status is C(pass), C(fail) or
    C(skip) and evidence holds the decisive command and its trimmed output.
  - "Checks: C(engine) (Docker active, version, C(docker info) answers, a container runs),
    C(access) (each user reaches the daemon without sudo; socket group and mode),
    C(limits) (C(--cpus)/C(--memory) become cgroup limits, v1 or v2),
    C(gpu) (C(docker run --gpus all IMAGE nvidia-smi -L) sees the host's GPUs),
    C(gpu_cdi) (the same through C(--device nvidia.com/gpu=all) when a CDI spec exists),
    C(jetson) (C(--runtime nvidia); nvidia-smi on JetPack 6+, device nodes before),
    C(enroot) (import C(dockerd://IMAGE), create, start, as each of I(enroot_users) and then
    as root, each the way a batch job runs: C(runuser) with a bare environment, no login
    session and no C(XDG_RUNTIME_DIR))."
  - Known failure texts are mapped to a diagnosis and a fix, by patterns that tolerate curly
    quotes, wrapped lines and older wordings (NVIDIA's in module_utils/gpuhost_nvidia.py,
    Docker's here).
  - The module never fails because a check failed; the role decides what is required.
  - Containers are started with C(--rm). In check mode no command that starts anything runs and
    every check reports C(skip).
version_added: "1.0.0"
author: gpuhost toolkit
options:
  checks:
    description: Checks to run (required checks are always run as well).
    type: list
    elements: str
    default: [engine, access, limits, gpu, gpu_cdi, jetson, enroot]
  required:
    description: Checks that must pass; the ones that did not are listed in C(required_failed).
    type: list
    elements: str
    default: []
  image:
    description: Image for the engine, access-free and limits checks (needs C(sh) and C(cat)).
    type: str
    default: ubuntu
  gpu_image:
    description: Image for the GPU and Jetson checks (a mirror's copy of C(ubuntu) works).
    type: str
    default: ubuntu
  enroot_image:
    description: Image that enroot imports through C(dockerd://); empty means I(image).
    type: str
    default: ""
  enroot_users:
    description: >-
      Users the enroot check runs as before root (names, or dicts with C(name)); users first,
      so a user's run comes before root's first enroot command since boot.
    type: list
    elements: raw
    default: []
  enroot_enabled:
    description: >-
      Whether enroot is wanted on this host (the enroot role's C(enroot_enabled)). False with
      no enroot installed skips the check saying so; true with no enroot installed fails it.
      Unset: the check skips when enroot is not installed.
    type: bool
  cpus:
    description: Value for C(docker run --cpus) in the limits check.
    type: str
    default: "0.5"
  memory:
    description: Value for C(docker run --memory) in the limits check (b, k, m, g suffixes).
    type: str
    default: 64m
  users:
    description: >-
      Users that must reach the Docker daemon without sudo (names, or dicts with C(name)).
    type: list
    elements: raw
    default: []
  socket_path:
    description: The Docker daemon socket.
    type: path
    default: /var/run/docker.sock
  socket_group:
    description: Group the socket must belong to.
    type: str
    default: docker
  socket_mode:
    description: Octal mode the socket must have.
    type: str
    default: "0660"
  host:
    description: >-
      The C(provision_host) fact from host_facts (the role passes it, made fresh for this run
      by host_facts' ensure entry point). The hardware (kind, PCI GPUs, driver, Jetson release)
      is read from it; Docker, enroot and the CDI spec, which earlier roles of the same run may
      have installed, are always looked at live. Without it the module also reads the PCI
      functions, the driver and /etc/nv_tegra_release itself, with the fact's own GPU filter
      and kind rule (module_utils/gpuhost_nvidia.py).
    type: dict
  command_timeout:
    description: >-
      Seconds a single command may run (image pulls included), under coreutils C(timeout -k 5)
      when the host has it (module_utils/gpuhost_host.py).
    type: int
    default: 300
  report_path:
    description: >-
      Where to write C({schema, host, inputs, results}) as JSON on the host (parent folders are
      made). Written only when it differs from what is there, so a re-run with the same results
      is no change; its modification time records when the checks last ran. Not written in
      check mode. Unset: no report.
    type: path
  report_host:
    description: The host name recorded in the report (the role passes inventory_hostname).
    type: str
    default: ""
  reuse_seconds:
    description: >-
      Reuse the report's results instead of running the checks when it is at most this many
      seconds old, none of its checks failed, and its C(inputs) fingerprint equals this run's:
      the parameters, the hardware from I(host), and a live look (docker, enroot, CDI spec,
      the Docker units' main PID and start time, the socket's group and mode, daemon.json and
      the group database). 0 (the default) never reuses.
    type: int
    default: 0
notes:
  - Supports check mode (reports every check as skipped).
  - When both C(engine) and C(limits) run, one container with the C(--cpus)/C(--memory) limits
    serves both; C(engine) falls back to a plain container when that one fails, so a limits
    problem is never reported as an engine failure.
"""

EXAMPLES = r"""
- name: Verify this host
  gpu_verify:
    image: registry.example.com/mirror/ubuntu:24.04
    gpu_image: registry.example.com/mirror/ubuntu:24.04
    users: [alice]
    host: "{{ provision_host | default(omit) }}"
    required: [engine, gpu]
  register: verify
"""

RETURN = r"""
results:
  description: One entry per check that ran, in a fixed order.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Check name, type: str, sample: gpu}
    status: {description: pass, fail or skip, type: str, sample: skip}
    reason:
      description: Why, in one line.
      type: str
      sample: "no NVIDIA GPU (PCI 10de, class 0300/0302)"
    evidence:
      description: The decisive command(s) and their output, trimmed to about 2 KB.
      type: dict
      contains:
        command: {description: Command line(s), type: str}
        output: {description: Output, type: str}
    diagnosis: {description: What a known failure text means (only when recognised), type: str}
    fix: {description: What to do about it (only when recognised), type: str}
required_failed:
  description: Required checks that did not pass, with status, reason, diagnosis and fix.
  returned: always
  type: list
  elements: dict
required_failed_messages:
  description: One readable line per entry of C(required_failed).
  returned: always
  type: list
  elements: str
changed:
  description: True only when I(report_path) was written (containers are always removed).
  returned: always
  type: bool
reused:
  description: True when the results are the report's, reused under I(reuse_seconds).
  returned: always
  type: bool
"""

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule

# The toolkit's module_utils: ansible.module_utils.gpuhost_* from a checkout (ansible.cfg's
# module_utils), or the gpuhost.toolkit collection's own when installed as one. Ansible ships
# whichever it finds (imports inside try are optional to its dependency finder).
try:
    from ansible.module_utils.gpuhost_checks import CHECKS
    from ansible.module_utils.gpuhost_fact import ProvisionHost
    from ansible.module_utils.gpuhost_host import Cmd, module_runner
    from ansible.module_utils.gpuhost_nvidia import (
        DRIVER_FIX,
        NO_GPU_TEXT,
        NVIDIA_ERRORS,
        Known,
        derive_kind,
        first_known,
        is_nvidia_gpu,
        jetpack_for_l4t,
        known,
        parse_smi_list,
        parse_tegra_release,
        pci_record,
    )
except ImportError:
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_checks import CHECKS
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_fact import ProvisionHost
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_host import (
        Cmd,
        module_runner,
    )
    from ansible_collections.gpuhost.toolkit.plugins.module_utils.gpuhost_nvidia import (
        DRIVER_FIX,
        NO_GPU_TEXT,
        NVIDIA_ERRORS,
        Known,
        derive_kind,
        first_known,
        is_nvidia_gpu,
        jetpack_for_l4t,
        known,
        parse_smi_list,
        parse_tegra_release,
        pci_record,
    )

CDI_SPECS = ("/etc/cdi/nvidia.yaml", "/var/run/cdi/nvidia.yaml")
MARKER = "gpu-verify-ok"
# Evidence output and a check's reason (the telling line of an error, dockerd's reason for
# refusing a config) are kept up to this many characters, head and tail beyond it.
OUTPUT_LIMIT = 4000
REASON_LIMIT = OUTPUT_LIMIT
PAGE_SIZE = 4096
ENROOT_NAME = "gpu-verify"
# What a batch job (Slurm, cron, pyxis) has: a bare environment, no XDG_RUNTIME_DIR, no login
# session. runuser still sets the user's groups from /etc/group (docker, for dockerd://).
BATCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENROOT_TMP = "/tmp/gpu-verify-enroot.XXXXXXXX"

# This toolkit is the only writer of /etc/docker/daemon.json (docker_daemon_json), so fixes
# send people back to it rather than to tools that rewrite the file themselves.
REAPPLY = (
    "Re-run this toolkit (`./provision.sh apply`): on a GPU host its nvidia_container_toolkit "
    "role (jetson_container_runtime on a Jetson) installs the NVIDIA Container Toolkit, "
    "registers the nvidia runtime in daemon.json and restarts Docker once."
)

# Docker and container-runtime failures (patterns over gpuhost_nvidia.normalise_message text:
# straight quotes, one space for any white space). diagnose() tries NVIDIA_ERRORS first, then
# these; within a table the first match wins, so specific entries go first.
DOCKER_ERRORS: tuple[Known, ...] = (
    known(
        "no_gpu_driver_in_docker",
        # Any driver name, or none: `docker run --gpus` asks for "", compose's
        # `driver: nvidia` for "nvidia", and Docker before 19.03.x printed no quotes.
        r'could not select device driver (?:"[^"]*" )?with capabilities:? ?\[\[gpu\]\]',
        "Docker has no GPU device driver: the NVIDIA Container Toolkit is missing, or Docker was "
        "not restarted after it was installed (dockerd looks for nvidia-container-runtime-hook "
        "only at start).",
        REAPPLY,
    ),
    known(
        "jetson_gpus_flag",
        r"invoking the NVIDIA Container Runtime Hook directly",
        "The NVIDIA Container Toolkit runs in CSV mode (Jetson) or CDI mode, where the docker "
        "--gpus flag is not supported by design.",
        "Use --runtime nvidia (or make nvidia the default runtime) instead of --gpus.",
    ),
    known(
        "no_nvidia_runtime",
        # Docker 17-19: "Unknown runtime specified nvidia"; Docker 20+: "unknown or invalid
        # runtime name: nvidia".
        r"unknown runtime specified:? ?nvidia|unknown or invalid runtime name:? ?nvidia",
        "Docker does not know a runtime called nvidia: it is not configured in daemon.json, or "
        "Docker was not restarted after it was.",
        REAPPLY,
    ),
    known(
        "docker_socket_denied",
        r"permission denied while trying to connect to the Docker daemon socket",
        "The user may not use the Docker socket: not in the docker group, or the membership is "
        "newer than the login session.",
        "Add the user to the docker group (docker_access_users) and log in again.",
    ),
    known(
        "docker_not_running",
        r"cannot connect to the Docker daemon",
        "The Docker daemon is not running (or listens on another socket).",
        "Start it: systemctl enable --now docker; see journalctl -u docker if it does not start.",
    ),
    known(
        "no_smi_in_container",
        r'exec:? ?"nvidia-smi": executable file not found',
        "The container started but has no nvidia-smi: no NVIDIA runtime or hook injected the "
        "driver utilities into it.",
        REAPPLY,
    ),
    known(
        "image_unavailable",
        r"unable to find image",
        "The image is not on the host and could not be pulled (no registry reachable?).",
        "Point gpu_verify_image / gpu_verify_gpu_image at a mirror, or load the image first.",
    ),
)
DIAGNOSES: tuple[Known, ...] = (*NVIDIA_ERRORS, *DOCKER_ERRORS)

DRIVER_NOT_LOADED = {
    "key": "driver_not_loaded",
    "diagnosis": "The host has an NVIDIA GPU but the NVIDIA kernel driver is not loaded "
    "(/proc/driver/nvidia/version is missing): containers cannot use the GPU.",
    "fix": DRIVER_FIX,
}

# What this run may have changed since host_facts gathered provision_host (docker_engine
# installs Docker, later roles enroot and the CDI spec): looked at live, one command.
LIVE_SCRIPT = r"""
command -v docker >/dev/null 2>&1 && echo "docker=$(command -v docker)"
command -v enroot >/dev/null 2>&1 && echo "enroot=$(command -v enroot)"
for f in /etc/cdi/nvidia.yaml /var/run/cdi/nvidia.yaml; do [ -e "$f" ] && echo "cdi=$f"; done
true
"""

# The hardware, only when no provision_host fact is given (the testinfra suite, ad-hoc runs):
# read with the fact's own PCI filter and kind rule (gpuhost_nvidia), so both agree.
HARDWARE_SCRIPT = r"""
for d in /sys/bus/pci/devices/*; do
  [ -r "$d/class" ] || continue
  echo "pci=${d##*/} $(cat "$d/vendor") $(cat "$d/device") $(cat "$d/class")"
done
[ -e /proc/driver/nvidia/version ] && echo "driver=loaded"
[ -r /etc/nv_tegra_release ] && echo "tegra=$(head -n 1 /etc/nv_tegra_release)"
true
"""

# What the reuse fingerprint looks at live besides LIVE_SCRIPT: a Docker restart (new PID or
# start time), a socket group/mode change, a daemon.json or group-membership change.
REUSE_PROBE_SCRIPT = r"""
systemctl show --property=MainPID,ActiveEnterTimestampMonotonic docker.service docker.socket \
  2>/dev/null
stat -L -c 'socket=%G %a' "$1" 2>/dev/null
cat /etc/docker/daemon.json /etc/group 2>/dev/null | cksum
true
"""

LIMITS_SCRIPT = (
    "if [ -f /sys/fs/cgroup/cpu.max ]; then echo cgroup=2;"
    ' echo "cpu=$(cat /sys/fs/cgroup/cpu.max)";'
    ' echo "memory=$(cat /sys/fs/cgroup/memory.max)";'
    " else echo cgroup=1;"
    ' echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)'
    ' $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)";'
    ' echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; fi'
)


Runner = Callable[[list[str]], Cmd]


# --------------------------------------------------------------------------------------------
# Pure parsers
# --------------------------------------------------------------------------------------------

def parse_size(value: str) -> int:
    """Docker's --memory syntax (b, k, m, g; 1024-based) to bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*", value.lower())
    if not match:
        raise ValueError(f"not a size: {value!r}")
    factor = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2)]
    return int(float(match.group(1)) * factor)


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def parse_cgroup_limits(text: str) -> dict[str, Any]:
    """Parse LIMITS_SCRIPT output: cgroup version, CPU quota/period, memory limit (None = max)."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    version = _int_or_none(values.get("cgroup", ""))
    cpu = values.get("cpu", "").split()
    quota = _int_or_none(cpu[0]) if cpu else None
    if quota is not None and quota < 0:
        quota = None  # cgroup v1 writes -1 for "no limit"
    period = _int_or_none(cpu[1]) if len(cpu) > 1 else None
    memory = _int_or_none(values.get("memory", ""))
    # v1 reports "no limit" as a huge number near 2**63.
    if memory is not None and memory >= 2**62:
        memory = None
    return {"cgroup": version, "cpu_quota": quota, "cpu_period": period, "memory": memory}


def parse_detect(text: str) -> dict[str, Any]:
    """Parse LIVE_SCRIPT (and HARDWARE_SCRIPT) output into what the checks need."""
    gpus: list[dict[str, str]] = []
    out: dict[str, Any] = {
        "gpus": gpus,
        "driver_loaded": False,
        "tegra_release": None,
        "docker": None,
        "enroot": None,
        "cdi_specs": [],
    }
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "pci":
            gpu = _pci_gpu(value.split())
            if gpu:
                gpus.append(gpu)
        elif key == "driver":
            out["driver_loaded"] = True
        elif key == "tegra":
            out["tegra_release"] = value
        elif key in ("docker", "enroot"):
            out[key] = value
        elif key == "cdi":
            out["cdi_specs"].append(value)
    return out


def _pci_gpu(fields: list[str]) -> dict[str, Any] | None:
    """`ADDRESS VENDOR DEVICE CLASS` as sysfs prints them -> a GPU record, or None."""
    if len(fields) != 4:
        return None
    record = pci_record(*fields)
    return record if is_nvidia_gpu(record) else None


def jetpack_major(jetson: dict[str, Any]) -> int | None:
    """JetPack major version from the fact's jetpack ("6.1", "6.x"), else its L4T release."""
    family = jetpack_for_l4t(str(jetson.get("l4t_release") or ""), None)["jetpack"]
    for jetpack in (jetson.get("jetpack"), family):
        match = re.match(r"^\d+", str(jetpack or ""))
        if match:
            return int(match.group(0))
    return None


def parse_passwd_home(line: str) -> str | None:
    """Home directory from a `getent passwd USER` line."""
    fields = line.strip().split(":")
    return fields[5] if len(fields) >= 7 and fields[5] else None


def parse_socket_stat(text: str) -> tuple[str, int] | None:
    """`stat -L -c '%G %a'` output -> (group, mode)."""
    fields = text.split()
    if len(fields) != 2 or not re.fullmatch(r"[0-7]{1,4}", fields[1]):
        return None
    return fields[0], int(fields[1], 8)


def diagnose(text: str) -> dict[str, str] | None:
    """Map a known failure text to {key, diagnosis, fix}; None when it is not recognised."""
    entry = first_known(text, DIAGNOSES)
    if entry is None:
        return None
    return {"key": entry.key, "diagnosis": entry.diagnosis, "fix": entry.fix}


def trim(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """Keep the head and the tail of long output (the error is usually at the end)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters trimmed ...]\n{text[-half:]}"


def first_line(text: str, limit: int = REASON_LIMIT) -> str:
    """The most telling line of an error: the first line that says error/failed, else the first.

    Kept whole up to `limit` (head and tail beyond it): dockerd's reason for refusing a config is
    one long line whose end says why."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"error|failed|denied|cannot|unknown|not found", line, re.IGNORECASE):
            return trim(line, limit)
    return trim(lines[0], limit) if lines else "no output"


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def evidence(cmds: Iterable[Cmd | None]) -> dict[str, str]:
    real = [c for c in cmds if c is not None]
    if len(real) == 1:
        return {"command": real[0].command, "output": trim(real[0].evidence_output)}
    return {
        "command": "\n".join(c.command for c in real),
        "output": trim("\n".join(f"$ {c.command}\n{c.evidence_output}".strip() for c in real)),
    }


def result(
    name: str,
    status: str,
    reason: str,
    cmds: Iterable[Cmd | None] = (),
    diag: dict[str, str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "status": status,
        "reason": reason,
        "evidence": evidence(cmds),
    }
    if diag:
        out["diagnosis"] = diag["diagnosis"]
        out["fix"] = diag["fix"]
    return out


def failed(name: str, what: str, cmd: Cmd, cmds: Iterable[Cmd | None] = ()) -> dict[str, Any]:
    """A fail result for a command that went wrong, diagnosed from its output."""
    shown = [*cmds] or [cmd]
    return result(name, "fail", f"{what}: {first_line(cmd.text)}", shown, diagnose(cmd.text))


# --------------------------------------------------------------------------------------------
# Commands (pure: they only build argv lists)
# --------------------------------------------------------------------------------------------


def detect_command(hardware: bool) -> list[str]:
    return ["sh", "-c", LIVE_SCRIPT + (HARDWARE_SCRIPT if hardware else "")]


def engine_commands(image: str) -> dict[str, list[str]]:
    return {
        "active": ["systemctl", "is-active", "docker"],
        "version": ["docker", "version", "--format", "{{.Server.Version}}"],
        "info": [
            "docker",
            "info",
            "--format",
            "{{.ServerVersion}} {{.Driver}} cgroup-driver={{.CgroupDriver}}",
        ],
        "run": ["docker", "run", "--rm", image, "echo", MARKER],
    }


def user_command(user: str, home: str | None) -> list[str]:
    # runuser sets the user's groups from /etc/group, as a fresh login would; HOME keeps the
    # docker CLI away from root's config directory. `docker version` rather than `docker info`:
    # Docker 26's `docker info --format` exits 0 with empty output when the socket refuses.
    env = ["env", f"HOME={home}"] if home else []
    return ["runuser", "-u", user, "--", *env, "docker", "version", "--format",
            "{{.Server.Version}}"]


def socket_command(path: str) -> list[str]:
    return ["stat", "-L", "-c", "%G %a", path]


def limits_command(image: str, cpus: str, memory: str) -> list[str]:
    return ["docker", "run", "--rm", "--cpus", cpus, "--memory", memory, image, "sh", "-c",
            LIMITS_SCRIPT]


def engine_limits_command(image: str, cpus: str, memory: str) -> list[str]:
    """One limited container that proves both: it ran (the marker) and its cgroup limits."""
    return ["docker", "run", "--rm", "--cpus", cpus, "--memory", memory, image, "sh", "-c",
            f"echo {MARKER}; {LIMITS_SCRIPT}"]


def reuse_probe_command(socket_path: str) -> list[str]:
    return ["sh", "-c", LIVE_SCRIPT + REUSE_PROBE_SCRIPT, "gpu-verify", socket_path]


def gpu_command(image: str, cdi: bool = False) -> list[str]:
    devices = ["--device", "nvidia.com/gpu=all"] if cdi else ["--gpus", "all"]
    return ["docker", "run", "--rm", *devices, image, "nvidia-smi", "-L"]


# CSV mode changes a container only when it asks for devices: NVIDIA_VISIBLE_DEVICES, which
# NVIDIA's l4t images set and a plain ubuntu image does not.
JETSON_RUN = ["docker", "run", "--rm", "--runtime", "nvidia", "--env", "NVIDIA_VISIBLE_DEVICES=all"]


def jetson_command(image: str, major: int | None) -> list[str]:
    """JetPack 6+ mounts a (limited) nvidia-smi; earlier ones only give device nodes."""
    if major is not None and major >= 6:
        return [*JETSON_RUN, image, "nvidia-smi", "-L"]
    return [*JETSON_RUN, image, "sh", "-c", "ls -1 /dev/nvmap /dev/nvhost-*"]


def as_batch_job(user: str, home: str, argv: list[str]) -> list[str]:
    """argv as USER the way a batch job runs it: runuser, env -i, no XDG_RUNTIME_DIR."""
    return ["runuser", "-u", user, "--", "env", "-i", f"HOME={home}", f"USER={user}",
            f"LOGNAME={user}", f"PATH={BATCH_PATH}", *argv]


def enroot_commands(image: str, workdir: str) -> list[list[str]]:
    image_file = f"{workdir}/{ENROOT_NAME}.sqsh"
    return [
        ["enroot", "import", "--output", image_file, f"dockerd://{image}"],
        ["enroot", "create", "--force", "--name", ENROOT_NAME, image_file],
        ["enroot", "start", ENROOT_NAME, "echo", MARKER],
    ]


# --------------------------------------------------------------------------------------------
# Decisions (pure: gathered outputs in, one result out)
# --------------------------------------------------------------------------------------------


def decide_engine(
    installed: bool,
    active: Cmd | None,
    version: Cmd | None,
    info: Cmd | None,
    run: Cmd | None,
    image: str,
) -> dict[str, Any]:
    name = "engine"
    if not installed or version is None or info is None or run is None:
        return result(name, "fail", "the docker command is not installed")
    systemd = active is not None and active.rc != 127
    if systemd and active is not None and active.stdout.strip() != "active":
        state = active.stdout.strip() or "unknown"
        return result(
            name, "fail", f"the docker service is {state}, not active", [active],
            diagnose("cannot connect to the docker daemon"),
        )
    if not version.ok or not version.stdout.strip():
        return failed(name, "docker version did not reach the daemon", version)
    if not info.ok or not info.stdout.strip():
        return failed(name, "docker info did not answer", info)
    if not run.ok or MARKER not in run.stdout:
        return failed(name, f"a container from {image} did not run", run)
    return result(
        name,
        "pass",
        f"Docker {version.stdout.strip()} is active, docker info answers and a container from "
        f"{image} ran",
        [active if systemd else None, version, info, run],
    )


def decide_access(
    socket_path: str,
    socket: Cmd,
    want_group: str,
    want_mode: str,
    users: list[tuple[str, Cmd | None, Cmd | None]],
) -> dict[str, Any]:
    """users: (name, getent result, docker-as-user result or None when the user is missing)."""
    name = "access"
    stat = parse_socket_stat(socket.stdout) if socket.ok else None
    if stat is None:
        return result(
            name, "fail", f"cannot stat the Docker socket {socket_path}: {first_line(socket.text)}",
            [socket], diagnose("cannot connect to the docker daemon"),
        )
    group, mode = stat
    if group != want_group or mode != int(want_mode, 8):
        return result(
            name, "fail",
            f"{socket_path} is group {group} mode {mode:04o}, expected group {want_group} mode "
            f"{int(want_mode, 8):04o}",
            [socket],
        )
    shown: list[Cmd | None] = [socket]
    for user, getent, run in users:
        shown.append(run)
        if run is None:
            return result(name, "fail", f"user {user} does not exist", [socket, getent])
        if not run.ok or not run.stdout.strip():
            return failed(name, f"{user} cannot reach the Docker daemon without sudo", run,
                          [socket, run])
    who = ", ".join(u for u, _, _ in users)
    reached = f"; reachable without sudo by {who}" if users else "; no users to check"
    return result(name, "pass", f"{socket_path} is group {group} mode {mode:04o}{reached}", shown)


def decide_limits(run: Cmd, cpus: str, memory: str) -> dict[str, Any]:
    name = "limits"
    if not run.ok:
        return failed(name, "a limited container did not run", run)
    got = parse_cgroup_limits(run.stdout)
    period = got["cpu_period"] or 100000
    want_quota = round(float(cpus) * period)
    want_memory = parse_size(memory)
    problems = []
    if got["cpu_quota"] != want_quota:
        problems.append(f"CPU quota {got['cpu_quota'] or 'max'}, expected {want_quota}/{period}")
    if got["memory"] not in (want_memory, want_memory - want_memory % PAGE_SIZE):
        problems.append(f"memory limit {got['memory'] or 'max'}, expected {want_memory}")
    if problems:
        return result(name, "fail", "; ".join(problems), [run])
    return result(
        name,
        "pass",
        f"cgroup v{got['cgroup']}: --cpus {cpus} gave quota {want_quota}/{period}, --memory "
        f"{memory} gave {got['memory']} bytes",
        [run],
    )


def _uuids(gpus: list[dict[str, Any]]) -> list[str]:
    return [g["uuid"] for g in gpus if g.get("uuid")]


def compare_gpus(host: list[dict[str, Any]], container: list[dict[str, Any]]) -> str | None:
    """None when the container sees the host's GPUs (count and UUIDs), else what differs."""
    if len(host) != len(container):
        return f"the container sees {len(container)} GPU(s), the host has {len(host)}"
    missing = sorted(set(_uuids(host)) - set(_uuids(container)))
    if missing:
        return "the container does not see " + ", ".join(missing)
    return None


def _gpu_gate(name: str, host: dict[str, Any]) -> dict[str, Any] | None:
    """Skip or fail before running anything: Jetson, no GPU, GPU without a driver."""
    if host.get("kind") == "jetson":
        return result(name, "skip", "Jetson host: its GPU is checked by the jetson check")
    gpus = host.get("gpus") or []
    if host.get("kind") == "cpu" and gpus:
        return result(name, "skip", "GPU work is turned off for this host (kind forced to cpu)")
    if not gpus:
        return result(name, "skip", NO_GPU_TEXT)
    if not host.get("driver_loaded"):
        where = ", ".join(g.get("pci_address", "?") for g in gpus)
        return result(
            name, "fail",
            f"{len(gpus)} NVIDIA GPU(s) at {where} but the NVIDIA driver is not loaded",
            [], DRIVER_NOT_LOADED,
        )
    return None


def _decide_gpu_run(
    name: str, host_smi: Cmd, container: Cmd | None, label: str
) -> dict[str, Any]:
    if not host_smi.ok:
        return failed(name, "nvidia-smi -L failed on the host", host_smi)
    host_gpus = parse_smi_list(host_smi.stdout)
    if not host_gpus:
        return result(name, "fail", "nvidia-smi -L listed no GPU on the host", [host_smi])
    if container is None:
        return result(name, "fail", f"{label} did not run", [host_smi])
    if not container.ok:
        return failed(name, f"{label} failed", container, [host_smi, container])
    container_gpus = parse_smi_list(container.stdout)
    differs = compare_gpus(host_gpus, container_gpus)
    if differs:
        return result(name, "fail", differs, [host_smi, container])
    migs = sum(len(g["mig"]) for g in container_gpus)
    mig_text = f" and {migs} MIG device(s)" if migs else ""
    return result(
        name,
        "pass",
        f"{label} sees the host's {len(host_gpus)} GPU(s){mig_text}: "
        + ", ".join(_uuids(host_gpus)),
        [host_smi, container],
    )


def decide_gpu(host: dict[str, Any], host_smi: Cmd | None, container: Cmd | None) -> dict[str, Any]:
    gate = _gpu_gate("gpu", host)
    if gate:
        return gate
    if host_smi is None:
        return result("gpu", "fail", "nvidia-smi -L did not run on the host")
    return _decide_gpu_run("gpu", host_smi, container, "a container with --gpus all")


def decide_gpu_cdi(
    host: dict[str, Any], spec: str | None, host_smi: Cmd | None, container: Cmd | None
) -> dict[str, Any]:
    gate = _gpu_gate("gpu_cdi", host)
    if gate:
        return gate
    if not spec:
        return result("gpu_cdi", "skip", "no CDI spec (" + " or ".join(CDI_SPECS) + ")")
    if host_smi is None:
        return result("gpu_cdi", "fail", "nvidia-smi -L did not run on the host")
    return _decide_gpu_run(
        "gpu_cdi", host_smi, container, f"a container with --device nvidia.com/gpu=all ({spec})"
    )


def decide_jetson(host: dict[str, Any], run: Cmd | None) -> dict[str, Any]:
    name = "jetson"
    jetson = host.get("jetson") or {}
    if host.get("kind") != "jetson":
        return result(name, "skip", "not a Jetson (no /etc/nv_tegra_release or L4T release)")
    if run is None:
        return result(name, "fail", "the Jetson container did not run")
    major = jetpack_major(jetson)
    family = f"JetPack {major}" if major else "JetPack (unknown release)"
    modern = major is not None and major >= 6
    # ls exits non-zero when one pattern matches nothing, yet still lists what exists.
    listed = "/dev/" in run.stdout
    if not run.ok and (modern or not listed):
        return failed(name, f"{family}: a container with --runtime nvidia failed", run)
    if modern:
        gpus = parse_smi_list(run.stdout)
        if not gpus:
            return result(name, "fail", f"{family}: nvidia-smi -L in the container listed no GPU",
                          [run], diagnose(run.text))
        names = ", ".join(f"GPU {g['index']}: {g['name']}" for g in gpus)
        return result(name, "pass", f"{family}: nvidia-smi in the container lists {names}", [run])
    nodes = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith("/dev/")]
    nvhost = [n for n in nodes if n.startswith("/dev/nvhost-")]
    if "/dev/nvmap" not in nodes or not nvhost:
        diag = diagnose(run.text)
        return result(
            name, "fail",
            f"{family}: the container lacks the GPU device nodes (/dev/nvmap, /dev/nvhost-*)",
            [run], diag,
        )
    return result(
        name, "pass",
        f"{family}: the container has /dev/nvmap and {len(nvhost)} /dev/nvhost-* node(s)",
        [run],
    )


def decide_enroot(installed: bool, steps: list[Cmd], image: str) -> dict[str, Any]:
    """The check as root alone (the shape before enroot_users)."""
    if not installed:
        return result("enroot", "skip", "enroot is not installed")
    return decide_enroot_runs([("root", steps)], image)


def decide_enroot_runs(runs: list[tuple[str, list[Cmd]]], image: str) -> dict[str, Any]:
    """runs: (user, the commands that ran as that user, in order; they stop at a failure).

    A run whose first command is `getent passwd` (the user does not exist) or `mktemp` (no
    working folder) failed before enroot ran."""
    name = "enroot"
    labels = ("import", "create", "start")
    shown: list[Cmd | None] = []
    for user, steps in runs:
        if steps and steps[0].argv[:2] == ("getent", "passwd"):
            return result(name, "fail", f"user {user} does not exist", steps)
        if steps and "mktemp" in steps[0].argv:
            return failed(name, f"as {user}, no working folder could be made", steps[0])
        for label, step in zip(labels, steps, strict=False):
            if not step.ok:
                return failed(name, f"enroot {label} failed as {user}", step)
        if len(steps) < len(labels) or MARKER not in steps[-1].stdout:
            return result(name, "fail", f"enroot start did not run the command as {user}",
                          steps[-1:])
        shown.append(steps[-1])
    who = ", ".join(user for user, _ in runs)
    return result(
        name, "pass",
        f"enroot imported dockerd://{image}, created and started it as {who} "
        "(batch-job environment: no login session, no XDG_RUNTIME_DIR)",
        shown,
    )


def required_failures(results: list[dict[str, Any]], required: Iterable[str]) -> list[dict]:
    """Required checks that did not pass (a missing result counts as not passed)."""
    by_name = {r["name"]: r for r in results}
    out = []
    for check in dict.fromkeys(required):
        res = by_name.get(check)
        if res and res["status"] == "pass":
            continue
        entry = {
            "check": check,
            "status": res["status"] if res else "missing",
            "reason": res["reason"] if res else "the check did not run",
        }
        for key in ("diagnosis", "fix"):
            if res and res.get(key):
                entry[key] = res[key]
        out.append(entry)
    return out


def failure_message(entry: dict[str, Any]) -> str:
    text = f"required check '{entry['check']}' did not pass ({entry['status']}): {entry['reason']}"
    if entry.get("diagnosis"):
        text += f"; diagnosis: {entry['diagnosis']}"
    if entry.get("fix"):
        text += f"; fix: {entry['fix']}"
    return text


# --------------------------------------------------------------------------------------------
# Host knowledge: the provision_host fact when given, else cheap detection
# --------------------------------------------------------------------------------------------


def host_info(detected: dict[str, Any], fact: ProvisionHost | None) -> dict[str, Any]:
    """What the checks need: the hardware from the fact when given, else from detection.

    Docker, enroot and the CDI spec always come from detection: roles that ran after
    host_facts in this run may have installed them.
    """
    live = {
        "enroot": bool(detected.get("enroot")),
        "docker": bool(detected.get("docker")),
        "cdi_specs": detected.get("cdi_specs") or [],
    }
    if fact:
        return {
            "kind": fact["kind"],
            "gpus": fact["gpus"],
            "driver_loaded": bool(fact["nvidia_driver"]["loaded"]),
            "jetson": fact["jetson"],
            **live,
        }
    tegra = parse_tegra_release(detected.get("tegra_release"))
    is_jetson = tegra["l4t_release"] is not None
    gpus = detected.get("gpus") or []
    return {
        "kind": derive_kind(gpus, is_jetson),
        "gpus": gpus,
        "driver_loaded": bool(detected.get("driver_loaded")),
        "jetson": {"detected": is_jetson, **tegra},
        **live,
    }


def user_names(users: Iterable[Any]) -> list[str]:
    """docker_access_users entries may be names or dicts with a name."""
    names = []
    for user in users:
        if isinstance(user, dict):
            user = user.get("name") or user.get("user")
        if user:
            names.append(str(user))
    return names


# --------------------------------------------------------------------------------------------
# Orchestration (shared with tests/testinfra/test_gpu_verify.py: only the runner differs)
# --------------------------------------------------------------------------------------------


@dataclass
class Options:
    image: str = "ubuntu"
    gpu_image: str = "ubuntu"
    enroot_image: str = ""
    cpus: str = "0.5"
    memory: str = "64m"
    users: tuple[str, ...] = ()
    socket_path: str = "/var/run/docker.sock"
    socket_group: str = "docker"
    socket_mode: str = "0660"
    enroot_users: tuple[str, ...] = ()
    enroot_enabled: bool | None = None


def run_all(cmds: dict[str, list[str]], run: Runner) -> dict[str, Cmd]:
    return {key: run(argv) for key, argv in cmds.items()}


def check_engine(run: Runner, host: dict[str, Any], opts: Options) -> dict[str, Any]:
    if not host["docker"]:
        return decide_engine(False, None, None, None, None, opts.image)
    out = run_all(engine_commands(opts.image), run)
    return decide_engine(True, out["active"], out["version"], out["info"], out["run"], opts.image)


def check_access(run: Runner, host: dict[str, Any], opts: Options) -> dict[str, Any]:
    socket = run(socket_command(opts.socket_path))
    users: list[tuple[str, Cmd | None, Cmd | None]] = []
    for user in opts.users:
        getent = run(["getent", "passwd", user])
        if not getent.ok:
            users.append((user, getent, None))
            continue
        users.append((user, getent, run(user_command(user, parse_passwd_home(getent.stdout)))))
    return decide_access(opts.socket_path, socket, opts.socket_group, opts.socket_mode, users)


def check_limits(run: Runner, host: dict[str, Any], opts: Options) -> dict[str, Any]:
    return decide_limits(run(limits_command(opts.image, opts.cpus, opts.memory)), opts.cpus,
                         opts.memory)


def check_gpu(run: Runner, host: dict[str, Any], opts: Options) -> dict[str, Any]:
    if _gpu_gate("gpu", host):
        return decide_gpu(host, None, None)
    host_smi = run(["nvidia-smi", "-L"])
    container = run(gpu_command(opts.gpu_image)) if host_smi.ok else None
    return decide_gpu(host, host_smi, container)


def check_gpu_cdi(run: Runner, host: dict[str, Any], opts: Options) -> dict[str, Any]:
    spec = (host.get("cdi_specs") or [None])[0]
    if _gpu_gate("gpu_cdi", host) or not spec:
        return decide_gpu_cdi(host, spec, None, None)
    host_smi = run(["nvidia-smi", "-L"])
    container = run(gpu_command(opts.gpu_image, cdi=True)) if host_smi.ok else None
    return decide_gpu_cdi(host, spec, host_smi, container)


def check_jetson(run: Runner, host: dict[str, Any], opts: Options) -> dict[str, Any]:
    if host.get("kind") != "jetson":
        return decide_jetson(host, None)
    major = jetpack_major(host.get("jetson") or {})
    return decide_jetson(host, run(jetson_command(opts.gpu_image, major)))


def enroot_as(run: Runner, user: str, image: str) -> list[Cmd]:
    """import, create, start as USER in a batch-job environment; then clean up as USER."""
    getent = run(["getent", "passwd", user])
    if not getent.ok:
        return [getent]
    home = parse_passwd_home(getent.stdout) or "/"
    made = run(as_batch_job(user, home, ["mktemp", "-d", ENROOT_TMP]))
    if not made.ok or not made.stdout.strip():
        return [made]
    workdir = made.stdout.strip()
    steps: list[Cmd] = []
    for argv in enroot_commands(image, workdir):
        steps.append(run(as_batch_job(user, home, argv)))
        if not steps[-1].ok:
            break
    run(as_batch_job(user, home, ["enroot", "remove", "--force", ENROOT_NAME]))
    run(as_batch_job(user, home, ["rm", "-rf", workdir]))
    return steps


def check_enroot(run: Runner, host: dict[str, Any], opts: Options) -> dict[str, Any]:
    image = opts.enroot_image or opts.image
    if not host["enroot"]:
        if opts.enroot_enabled is False:
            return result("enroot", "skip",
                          "enroot_enabled is false for this host and enroot is not installed")
        if opts.enroot_enabled:
            return result("enroot", "fail",
                          "enroot_enabled is true for this host but enroot is not installed")
        return decide_enroot(False, [], image)
    # Users first: each must work before root has run enroot since boot.
    runs: list[tuple[str, list[Cmd]]] = []
    for user in (*opts.enroot_users, "root"):
        runs.append((user, enroot_as(run, user, image)))
        steps = runs[-1][1]
        if not steps or not all(step.ok for step in steps) or len(steps) < 3:
            break
    return decide_enroot_runs(runs, image)


CHECK_FUNCTIONS: dict[str, Callable[[Runner, dict[str, Any], Options], dict[str, Any]]] = {
    "engine": check_engine,
    "access": check_access,
    "limits": check_limits,
    "gpu": check_gpu,
    "gpu_cdi": check_gpu_cdi,
    "jetson": check_jetson,
    "enroot": check_enroot,
}


def detect_host(run: Runner, fact: ProvisionHost | None) -> dict[str, Any]:
    return host_info(parse_detect(run(detect_command(hardware=not fact)).stdout), fact)


def shared_container(run: Runner, opts: Options, early: bool = False) -> Runner:
    """A runner where engine's and limits' containers are one limited container.

    limits gets that container's result as it is. engine gets it only when it ran and printed
    the marker; otherwise engine runs its own plain container, so a refused --memory (a kernel
    without the memory controller) fails limits and never engine.

    With `early` (the host has Docker) and a runner that can start a command (`start`: the
    module's), the container starts now and the other checks' commands (systemctl, docker
    version and info, the socket, the users) run while it does; each still proves only what it
    proved one after the other. Otherwise it runs when engine or limits first asks.
    """
    engine_argv = engine_commands(opts.image)["run"]
    limits_argv = limits_command(opts.image, opts.cpus, opts.memory)
    both_argv = engine_limits_command(opts.image, opts.cpus, opts.memory)
    start = getattr(run, "start", None)
    pending = start(both_argv) if early and start else None
    combined: list[Cmd] = []

    def shared() -> Cmd:
        if not combined:
            combined.append(pending() if pending else run(both_argv))
        return combined[0]

    def runner(argv: list[str]) -> Cmd:
        if argv == limits_argv:
            return shared()
        if argv == engine_argv:
            both = shared()
            return both if both.ok and MARKER in both.stdout else run(argv)
        return run(argv)

    return runner


def run_checks(
    run: Runner, names: Iterable[str], opts: Options, fact: ProvisionHost | None = None
) -> list[dict[str, Any]]:
    """Run the named checks (in CHECKS order) and return their results."""
    wanted = set(names)
    host = detect_host(run, fact)
    if {"engine", "limits"} <= wanted:
        run = shared_container(run, opts, early=bool(host["docker"]))
    return [CHECK_FUNCTIONS[name](run, host, opts) for name in CHECKS if name in wanted]


# --------------------------------------------------------------------------------------------
# The report on the host, and reuse of fresh results (opt-in)
# --------------------------------------------------------------------------------------------

# Parameters that cannot change a result: left out of the fingerprint.
NOT_INPUTS = ("command_timeout", "report_path", "reuse_seconds", "host")
ORDERLESS = ("checks", "required")


def fingerprint(params: dict[str, Any], probe: Cmd) -> str:
    """sha256 over what the results depend on: parameters, hardware, and the live probe."""
    host = params.get("host") or {}
    kept = {k: v for k, v in params.items() if k not in NOT_INPUTS}
    # Which checks run and which are required are sets: their order changes no result, and a
    # caller may build them through a Python set (Ansible's union filter), whose order follows
    # the controller process's hash seed.
    for key in ORDERLESS:
        if isinstance(kept.get(key), list):
            kept[key] = sorted(kept[key], key=str)
    inputs = {
        "params": kept,
        "hardware": {key: host.get(key) for key in ("kind", "gpus", "nvidia_driver", "jetson")},
        "live": [probe.rc, probe.stdout],
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def report_doc(host: str, inputs: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    # No timestamps: a re-run with the same results writes nothing.
    return {"schema": 1, "host": host, "inputs": inputs, "results": results}


def load_report(path: str) -> tuple[dict[str, Any] | None, float]:
    """The report and its modification time (when its checks last ran); (None, 0) if unusable."""
    try:
        file = Path(path)
        return json.loads(file.read_text(encoding="utf-8")), file.stat().st_mtime
    except (OSError, ValueError):
        return None, 0.0


def reusable(doc: dict[str, Any] | None, inputs: str, age_s: float, reuse_seconds: int) -> bool:
    if reuse_seconds <= 0 or not doc or doc.get("inputs") != inputs:
        return False
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        return False
    return 0 <= age_s <= reuse_seconds and all(r.get("status") != "fail" for r in results)


def write_report(path: str, doc: dict[str, Any]) -> bool:
    """Write doc unless the file already says the same; True when the results changed.

    The same content is only touched: its modification time says when the checks last ran,
    which is what reuse_seconds measures. The same results under another inputs fingerprint
    (bookkeeping for reuse_seconds only) are written, so that reuse compares with the latest
    inputs, but are no change: a Docker restart or a reordered parameter list changes the
    fingerprint and nothing the report tells its reader.
    """
    old, _ = load_report(path)
    file = Path(path)
    if old == doc:
        os.utime(file)
        return False
    same_results = isinstance(old, dict) and {k: v for k, v in old.items() if k != "inputs"} == {
        k: v for k, v in doc.items() if k != "inputs"}
    file.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", dir=str(file.parent))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(doc, indent=4, sort_keys=True) + "\n")
    Path(tmp).chmod(0o644)
    Path(tmp).replace(file)
    return not same_results


# --------------------------------------------------------------------------------------------
# Module
# --------------------------------------------------------------------------------------------


def options(p: dict[str, Any]) -> Options:
    return Options(
        image=p["image"],
        gpu_image=p["gpu_image"],
        enroot_image=p["enroot_image"],
        cpus=p["cpus"],
        memory=p["memory"],
        users=tuple(user_names(p["users"])),
        socket_path=p["socket_path"],
        socket_group=p["socket_group"],
        socket_mode=p["socket_mode"],
        enroot_users=tuple(user_names(p["enroot_users"])),
        enroot_enabled=p["enroot_enabled"],
    )


def validate(module: AnsibleModule) -> None:
    p = module.params
    unknown = sorted((set(p["checks"]) | set(p["required"])) - set(CHECKS))
    if unknown:
        module.fail_json(msg=f"unknown check(s): {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    try:
        parse_size(p["memory"])
        float(p["cpus"])
        int(p["socket_mode"], 8)
    except ValueError as exc:
        module.fail_json(msg=f"invalid parameter: {exc}")


def verify(module: AnsibleModule, names: list[str]) -> dict[str, Any]:
    """Run (or, opted in and unchanged, reuse) the checks; write the report when it differs."""
    p = module.params
    run = module_runner(module, p["command_timeout"])
    inputs = fingerprint(p, run(reuse_probe_command(p["socket_path"])))
    report_path = p["report_path"]
    old, mtime = load_report(report_path) if report_path else (None, 0.0)
    if reusable(old, inputs, time.time() - mtime, p["reuse_seconds"]):
        return {"results": old["results"] if old else [], "reused": True, "changed": False}
    results = run_checks(run, names, options(p), p["host"])
    changed = bool(report_path) and write_report(
        report_path, report_doc(p["report_host"], inputs, results))
    return {"results": results, "reused": False, "changed": changed}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "checks": {"type": "list", "elements": "str", "default": list(CHECKS)},
            "required": {"type": "list", "elements": "str", "default": []},
            "image": {"type": "str", "default": "ubuntu"},
            "gpu_image": {"type": "str", "default": "ubuntu"},
            "enroot_image": {"type": "str", "default": ""},
            "enroot_users": {"type": "list", "elements": "raw", "default": []},
            "enroot_enabled": {"type": "bool"},
            "cpus": {"type": "str", "default": "0.5"},
            "memory": {"type": "str", "default": "64m"},
            "users": {"type": "list", "elements": "raw", "default": []},
            "socket_path": {"type": "path", "default": "/var/run/docker.sock"},
            "socket_group": {"type": "str", "default": "docker"},
            "socket_mode": {"type": "str", "default": "0660"},
            "host": {"type": "dict"},
            "command_timeout": {"type": "int", "default": 300},
            "report_path": {"type": "path"},
            "report_host": {"type": "str", "default": ""},
            "reuse_seconds": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    validate(module)
    p = module.params
    names = [name for name in CHECKS if name in set(p["checks"]) | set(p["required"])]
    if module.check_mode:
        done: dict[str, Any] = {
            "results": [result(n, "skip", "check mode: no container was started") for n in names],
            "reused": False, "changed": False,
        }
    else:
        done = verify(module, names)
    missing = required_failures(done["results"], p["required"]) if not module.check_mode else []
    module.exit_json(
        **done,
        required_failed=missing,
        required_failed_messages=[failure_message(m) for m in missing],
    )


if __name__ == "__main__":
    main()
