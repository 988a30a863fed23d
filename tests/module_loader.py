"""Load this project's Ansible modules (plugins/modules/NAME.py) as plain Python for tests.

Ansible ships plugins/module_utils inside each module's payload, where it is importable as
ansible.module_utils.<name>. Plain Python does not know that directory, so every loader here
first adds it to ansible.module_utils.__path__. Used by tests/unit (through its conftest.py)
and by tests/testinfra/test_gpu_verify.py, which puts this directory on sys.path itself.

Run as a script, `python tests/module_loader.py NAME [ARGS_FILE]` runs a module the way its
Ansible payload does (as __main__, arguments from ARGS_FILE or stdin), with module_utils found.
"""

from __future__ import annotations

import importlib.util
import runpy
import sys
from pathlib import Path
from types import ModuleType

import ansible.module_utils as module_utils

ROOT = Path(__file__).resolve().parents[1]
MODULES_DIR = ROOT / "plugins" / "modules"
MODULE_UTILS_DIR = ROOT / "plugins" / "module_utils"


def add_module_utils_path() -> None:
    """Make plugins/module_utils importable as ansible.module_utils.<name> (idempotent)."""
    if str(MODULE_UTILS_DIR) not in module_utils.__path__:
        module_utils.__path__.append(str(MODULE_UTILS_DIR))


def module_path(name: str) -> Path:
    path = MODULES_DIR / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no module {name!r} in {MODULES_DIR}")
    return path


def load_module(name: str) -> ModuleType:
    """Import plugins/modules/NAME.py once and return it (cached in sys.modules under NAME)."""
    add_module_utils_path()
    return load_file(name, module_path(name))


def load_file(name: str, path: Path) -> ModuleType:
    """Import the Python file PATH once as NAME (a module, or a stand-in program)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Registered before running: dataclasses look their module up in sys.modules.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def script_argv(name: str, *args: str) -> list[str]:
    """Command line that runs plugins/modules/NAME.py as Ansible's payload would."""
    module_path(name)
    return [sys.executable, str(Path(__file__).resolve()), name, *args]


def _run_as_script(argv: list[str]) -> None:
    add_module_utils_path()
    path = module_path(argv[0])
    sys.argv = [str(path), *argv[1:]]
    runpy.run_path(str(path), run_name="__main__")


if __name__ == "__main__":
    _run_as_script(sys.argv[1:])
