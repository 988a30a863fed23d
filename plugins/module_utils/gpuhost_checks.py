# Copyright: gpuhost toolkit contributors
# MIT License (see https://opensource.org/licenses/MIT)
"""The names of gpu_verify's checks, in report order: the one list every view of them reads.

gpu_verify runs them in this order; provision.py's terminal matrix and the HTML report order
their columns by it (provisionlib imports this file directly, so it stays free of Ansible).
"""

from __future__ import annotations

CHECKS: tuple[str, ...] = ("engine", "access", "limits", "gpu", "gpu_cdi", "jetson", "enroot")
