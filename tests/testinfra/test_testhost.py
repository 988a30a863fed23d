"""Harness checks: the test host boots systemd and runs a real, resource-limited container.

Run by molecule's `default` scenario against Debian 12 and 13 test hosts. The container
image is the busybox root imported by molecule/shared/tasks/import_test_image.yml, a
local stand-in for a registry image (no registry is reachable from test hosts).
"""

from __future__ import annotations

import pytest

TEST_IMAGE = "testhost/busybox:latest"
CPUS = "0.5"
MEMORY = 64 * 1024 * 1024


def test_systemd_reaches_running(host) -> None:
    state = host.run("systemctl is-system-running")
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state.stdout.strip() == "running", (
        f"systemd is {state.stdout.strip()}; failed units:\n{failed}"
    )


def test_docker_service_is_active(host) -> None:
    assert host.service("docker").is_running
    assert host.service("docker").is_enabled


def _cgroup_read(host, v1_path: str, v2_path: str) -> str:
    """Read a limit from inside a limited container, whichever cgroup version the host has."""
    script = f"cat {v2_path} 2>/dev/null || cat {v1_path}"
    cmd = host.run(
        "docker run --rm --cpus %s --memory %s %s sh -c %s",
        CPUS, str(MEMORY), TEST_IMAGE, script,
    )
    assert cmd.rc == 0, f"docker run failed: {cmd.stderr}"
    return cmd.stdout.strip()


@pytest.mark.parametrize(
    ("v1_path", "v2_path", "accepted"),
    [
        # --cpus 0.5 is a CFS quota of half the default 100 ms period.
        (
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
            "/sys/fs/cgroup/cpu.max",
            {"50000", "50000 100000"},
        ),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max", {str(MEMORY)}),
    ],
    ids=["cpus", "memory"],
)
def test_container_gets_its_limits(host, v1_path: str, v2_path: str, accepted: set[str]) -> None:
    assert _cgroup_read(host, v1_path, v2_path) in accepted
