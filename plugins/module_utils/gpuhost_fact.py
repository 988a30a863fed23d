# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""The shape of the provision_host fact (schema 1), for the Python code that builds or reads it.

provision_host_facts builds it with these types; gpu_verify and later modules that are handed
the fact may rely on every key below being present (values may be None where documented).
New keys are added without changing SCHEMA_VERSION; a removed or retyped key bumps it.
roles/host_facts/README.md shows the same shape with sample values.
"""

from __future__ import annotations

from typing import Any, TypedDict

SCHEMA_VERSION = 1


class OsFact(TypedDict):
    id: str | None
    version: str | None
    codename: str | None  # UBUNTU_CODENAME first (derivatives), else VERSION_CODENAME
    family: str | None  # ubuntu | debian | rhel | suse | the ID
    pretty_name: str | None
    repo_id: str | None  # debian | ubuntu | raspbian: the path under download.docker.com/linux


class ArchFact(TypedDict):
    machine: str | None
    dpkg: str | None


class UsernsFact(TypedDict):
    max_user_namespaces: int | None
    unprivileged_userns_clone: int | None
    apparmor_restrict_unprivileged_userns: int | None
    usable: bool


class KernelFact(TypedDict):
    release: str | None
    cgroup_version: int | None
    userns: UsernsFact
    overlay: bool
    squashfs: bool
    iptable_raw: bool | None  # None: neither modules.dep nor modules.builtin could be read


class PciGpu(TypedDict):
    pci_address: str
    vendor_id: str
    device_id: str
    class_id: str
    name: str | None


class MigDevice(TypedDict):
    index: int
    name: str
    uuid: str | None


class SmiGpu(TypedDict):
    index: int
    name: str
    uuid: str | None
    mig: list[MigDevice]


class SmiFact(TypedDict):
    available: bool
    gpus: list[SmiGpu]
    error: str | None
    reason: str | None


class DriverFact(TypedDict):
    loaded: bool
    version: str | None
    module_type: str | None
    smi: SmiFact


class JetsonFact(TypedDict):
    detected: bool
    source: str | None
    l4t_release: str | None
    l4t_revision: str | None
    jetpack: str | None
    ubuntu: str | None
    board: str | None
    soc: str | None  # t194, t234...: the component of NVIDIA's Jetson repository


class UnitFact(TypedDict):
    """One unit from `systemctl show -p Id,ActiveState,UnitFileState,NeedDaemonReload`."""

    active_state: str | None  # active | inactive | failed | ...; None when systemctl said nothing
    unit_file_state: str | None  # enabled | disabled | static | ...; None for an unknown unit
    active: bool  # ActiveState is active
    enabled: bool  # UnitFileState is exactly enabled (static and the like count as not)
    need_daemon_reload: bool  # the unit changed on disk since systemd loaded it


class DockerFact(TypedDict):
    installed: bool
    version: str | None
    package: str | None
    active: bool
    answering: bool
    runtimes: list[str]
    default_runtime: str | None
    cgroup_driver: str | None
    data_root: str | None
    # What docker_engine, docker_access and docker_restart decide on, read in the same round
    # trip: docker.service and docker.socket (empty when systemctl cannot answer), a restart
    # recorded under the restart contract's state dir, daemon.json as text (None when absent)
    # and parsed (None unless it holds a JSON object),
    # and the sha256 of each file in docker.service.d / docker.socket.d by host path
    # (digests, not contents: a proxy drop-in may hold credentials; "symlink" for a link,
    # which docker_unit_dropin refuses to write through).
    units: dict[str, UnitFact]
    restart_pending: bool
    daemon_json: str | None
    daemon_json_settings: dict[str, Any] | None  # daemon.json parsed, when it is a JSON object
    daemon_json_aside: bool  # daemon.json set aside by an interrupted nvidia-docker2 migration
    dropin_sha256: dict[str, str]


class ToolkitFact(TypedDict):
    installed: bool
    version: str | None


class EnrootFact(TypedDict):
    installed: bool
    version: str | None
    caps: bool


class PackageFact(TypedDict):
    version: str | None  # installed version; None for a package that is held but not installed
    held: bool


class ProvisionHost(TypedDict):
    schema: int
    kind: str  # dgpu | jetson | cpu
    os: OsFact
    arch: ArchFact
    kernel: KernelFact
    gpus: list[PciGpu]
    nvidia_driver: DriverFact
    jetson: JetsonFact
    docker: DockerFact
    nvidia_container_toolkit: ToolkitFact
    enroot: EnrootFact
    packages: dict[str, PackageFact]
    dpkg_interrupted: str  # "" when no apt/dpkg run was cut off
    config_files: list[str]
    # docker_access's look ({params, look}, module_utils/gpuhost_access.py) when the caller
    # handed over its parameters, else None.
    docker_access: dict[str, Any] | None
    # Role -> {params, look}: the looks of later roles taken in the same round trip
    # (provision_host_facts' looks option).
    looks: dict[str, Any]
    summary: str
