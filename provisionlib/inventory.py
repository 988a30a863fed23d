"""Check the inventory and --limit before anything runs (in-process, no subprocess)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from provisionlib.exitcodes import InputError
from provisionlib.runner import PROJECT_DIR

_FIX = "check it with: ansible-inventory -i {src} --graph"


def resolve_source(source: str) -> str:
    """Return the inventory source as ansible will get it, or raise InputError."""
    if "," in source and not Path(source).exists():
        return source  # ansible's inline host list, e.g. "web1,web2,"
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(
            f"inventory {source}: no such file or directory; pass an existing one with -i PATH"
        )
    if not os.access(path, os.R_OK):
        raise InputError(f"inventory {source}: not readable; fix its permissions or pick another")
    return str(path.resolve())


# "[WARNING]: Failed to parse inventory with 'yaml' plugin: REASON", one per plugin tried
# (ansible-core 2.19 and later).
_PLUGIN_FAILURE = re.compile(
    r"^\[WARNING\]: Failed to parse inventory with '([^']+)' plugin: (.+)$", re.MULTILINE)
# ansible-core 2.17 (Python 3.10 controllers): "[WARNING]:  * Failed to parse SOURCE with yaml
# plugin: REASON", wrapped at the terminal's width anywhere (in the source too), up to the next
# warning.
_PLUGIN_FAILURE_217 = re.compile(
    r"^\[WARNING\]:\s+\*\s+Failed\s+to\s+parse\s.+?\swith\s+(\S+)\s+plugin:\s*(.+?)"
    r"(?=^\[WARNING\]|\Z)",
    re.MULTILINE | re.DOTALL)
# Spaces or control characters in a host name: the file was read as an inventory but is not one
# (a binary file read by the ini plugin yields such "hosts").
_UNUSABLE_HOST = re.compile(r"[\s\x00-\x1f\x7f]")


def parser_reasons(noise: str) -> str:
    """Each inventory plugin's reason for refusing the source, from Ansible's warnings."""
    found = _PLUGIN_FAILURE.findall(noise) or _PLUGIN_FAILURE_217.findall(noise)
    reasons = [f"{plugin}: {' '.join(reason.split())}" for plugin, reason in found]
    return "; ".join(reasons)


def _unusable(source: str, reason: str) -> InputError:
    return InputError(f"inventory {source}: cannot be parsed ({reason}); "
                      f"{_FIX.format(src=source)}")


def matching_hosts(source: str, limit: str | None) -> list[str]:
    """Parse the inventory and return the host names the limit selects (all when None).

    Ansible's own warnings are kept out of the output; an inventory no plugin can parse is
    refused with each plugin's reason from them, as is one whose host names cannot be hosts.
    """
    os.environ["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "1"
    # Read before ansible's first import in this process: the project's settings apply.
    os.environ["ANSIBLE_CONFIG"] = str(PROJECT_DIR / "ansible.cfg")
    try:
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader

        noise = io.StringIO()
        with contextlib.redirect_stderr(noise), contextlib.redirect_stdout(noise):
            try:
                inventory = InventoryManager(loader=DataLoader(), sources=[source])
                if limit:
                    inventory.subset(limit)
                names = [host.name for host in inventory.list_hosts("all")]
            # Any exception here means the inventory is unusable: invalid input (exit 4), not
            # a crash (exit 1); AnsibleError is the usual one, a plugin may raise others.
            except Exception as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else "parse error"
                raise _unusable(source, parser_reasons(noise.getvalue()) or first) from exc
    finally:
        os.environ.pop("ANSIBLE_INVENTORY_UNPARSED_FAILED", None)
    bad = [name for name in names if _UNUSABLE_HOST.search(name)]
    if bad:
        raise _unusable(source, f"host name {bad[0]!r} has spaces or control characters; "
                                "is it an inventory file at all?")
    return names


def check_limit(source: str, limit: str | None) -> list[str]:
    """Hosts the inventory (narrowed by --limit) selects; InputError when unusable.

    The inventory is always parsed here, limit or not (about 0.4 s, mostly importing ansible):
    an unparsable inventory, or one with no hosts, is invalid input (exit 4) before anything
    runs, not an Ansible error (exit 1) or an "ok" run that touched nobody.
    """
    if not limit:
        hosts = matching_hosts(source, None)
        if not hosts:
            raise InputError(f"inventory {source} has no hosts; add hosts to it or pass "
                             f"another with -i PATH ({_FIX.format(src=source)})")
        return hosts
    hosts = matching_hosts(source, limit)
    if hosts:
        return hosts
    known = matching_hosts(source, None)
    shown = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
    raise InputError(
        f"--limit {limit!r} matches no host in {source}; hosts there: {shown or 'none'}"
    )
