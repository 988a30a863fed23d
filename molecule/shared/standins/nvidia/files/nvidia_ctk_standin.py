#!/usr/bin/python3
"""gpuhost test stand-in for NVIDIA's `nvidia-ctk`: NOT NVIDIA's tool, tests only.

Installed as /usr/bin/nvidia-ctk by the stand-in nvidia-container-toolkit-base package
(molecule/shared/standins/nvidia). It implements only what the gpuhost roles and NVIDIA's
maintainer scripts call, with the upstream command-line shape (NVIDIA/nvidia-container-toolkit,
cmd/nvidia-ctk at v1.17.8 and v1.18.0):

- `nvidia-ctk --version`: "NVIDIA Container Toolkit CLI version X" and a commit line.
- `nvidia-ctk [--quiet] config [--config-file=F] [--in-place | --output=O] [--set K[=V]]...`:
  keys are TOML paths checked against the upstream schema (an unknown key is refused like
  upstream); `--set K` alone means true for booleans; lists split on ':' or ','. Without a
  file it starts from the defaults NVIDIA's postinst writes.
- `nvidia-ctk cdi generate [--output=F]`: a small valid CDI spec (kind nvidia.com/gpu, devices
  "0" and "all") ONLY when the stand-in driver flag exists; otherwise it fails the way
  upstream does on a host without NVML.
- `nvidia-ctk cdi list [--spec-dir=D]...`: the CDI devices found in the spec directories.

Anything else (`runtime configure` included: this project never lets it write daemon.json)
fails with exit 1 and says the stand-in does not implement it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

# Replaced by the build script (build-nvidia-standins.sh) with the package's upstream version.
VERSION = "0.0.0"
COMMIT = "gpuhost-standin"
CONFIG_FILE = "/etc/nvidia-container-runtime/config.toml"
CDI_OUTPUT_ENV = "NVIDIA_CTK_CDI_OUTPUT_FILE_PATH"
CDI_VERSION = "0.5.0"
DEFAULT_SPEC_DIRS = ("/etc/cdi", "/var/run/cdi")
# "Driver loaded" in the stand-in world. The variable exists so unit tests can point it
# elsewhere; the packages never set it.
DRIVER_FLAG_ENV = "STANDIN_NVIDIA_DRIVER_FLAG"
DRIVER_FLAG = "/etc/standin-nvidia/driver-loaded"
NO_NVML = (
    "failed to generate CDI spec: failed to create device CDI specs: "
    "failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND"
)

# The config keys upstream knows (internal/config structs), by TOML path, with their kind.
# features.* are all optional booleans upstream and are accepted by prefix.
SCHEMA: dict[str, str] = {
    "accept-nvidia-visible-devices-as-volume-mounts": "bool",
    "accept-nvidia-visible-devices-envvar-when-unprivileged": "bool",
    "disable-require": "bool",
    "supported-driver-capabilities": "str",
    "swarm-resource": "str",
    "nvidia-container-cli.debug": "str",
    "nvidia-container-cli.environment": "list",
    "nvidia-container-cli.ldcache": "str",
    "nvidia-container-cli.ldconfig": "str",
    "nvidia-container-cli.load-kmods": "bool",
    "nvidia-container-cli.no-cgroups": "bool",
    "nvidia-container-cli.path": "str",
    "nvidia-container-cli.root": "str",
    "nvidia-container-cli.user": "str",
    "nvidia-container-runtime.debug": "str",
    "nvidia-container-runtime.log-level": "str",
    "nvidia-container-runtime.mode": "str",
    "nvidia-container-runtime.runtimes": "list",
    "nvidia-container-runtime.modes.cdi.annotation-prefixes": "list",
    "nvidia-container-runtime.modes.cdi.default-kind": "str",
    "nvidia-container-runtime.modes.cdi.spec-dirs": "list",
    "nvidia-container-runtime.modes.csv.mount-spec-path": "str",
    "nvidia-container-runtime.modes.legacy.cuda-compat-mode": "str",
    "nvidia-container-runtime-hook.path": "str",
    "nvidia-container-runtime-hook.skip-mode-detection": "bool",
    "nvidia-ctk.path": "str",
}

# What `nvidia-ctk config --in-place` writes on a host without a config file (the shape of
# upstream's default config on Debian; written for this stand-in, not copied).
DEFAULT_CONFIG = """\
#accept-nvidia-visible-devices-as-volume-mounts = false
#accept-nvidia-visible-devices-envvar-when-unprivileged = true
disable-require = false
supported-driver-capabilities = "compat32,compute,display,graphics,ngx,utility,video"
#swarm-resource = "DOCKER_RESOURCE_GPU"

[nvidia-container-cli]
#debug = "/var/log/nvidia-container-toolkit.log"
environment = []
#ldcache = "/etc/ld.so.cache"
ldconfig = "@/sbin/ldconfig"
load-kmods = true
#no-cgroups = false
#path = "/usr/bin/nvidia-container-cli"
#root = "/run/nvidia/driver"
#user = "root:video"

[nvidia-container-runtime]
#debug = "/var/log/nvidia-container-runtime.log"
log-level = "info"
mode = "auto"
runtimes = ["docker-runc", "runc", "crun"]

[nvidia-container-runtime.modes]

[nvidia-container-runtime.modes.cdi]
annotation-prefixes = ["cdi.k8s.io/"]
default-kind = "nvidia.com/gpu"
spec-dirs = ["/etc/cdi", "/var/run/cdi"]

[nvidia-container-runtime.modes.csv]
mount-spec-path = "/etc/nvidia-container-runtime/host-files-for-container.d"

[nvidia-container-runtime.modes.legacy]
cuda-compat-mode = "ldconfig"

[nvidia-container-runtime-hook]
path = "nvidia-container-runtime-hook"
skip-mode-detection = false

[nvidia-ctk]
path = "nvidia-ctk"
"""

TABLE_RE = re.compile(r"^\s*\[([^\[\]]+)\]\s*$")


class StandinError(Exception):
    """A failure reported like upstream's `ERRO[0000] ...` line, exit status 1."""


# ---- config -------------------------------------------------------------------------------


def key_kind(key: str) -> str:
    """The value kind of a config key, or StandinError for a key upstream does not know."""
    if key in SCHEMA:
        return SCHEMA[key]
    if key.startswith("features.") and key.count(".") == 1:
        return "bool"
    raise StandinError(f"invalid --set option {key}: invalid config option: undefined field")


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escaping is a subset TOML accepts)."""
    return json.dumps(text)


def render_value(set_flag: str, separator: str = ":") -> tuple[str, str]:
    """`key[=value]` -> (key, TOML text of the value), typed by the key's kind."""
    key, has_value, raw = set_flag.partition("=")
    kind = key_kind(key)
    if not has_value:
        if kind != "bool":
            raise StandinError(
                f"invalid --set option {set_flag}: invalid format: "
                f"expected key=value; got {set_flag}"
            )
        return key, "true"
    if kind == "bool":
        lowered = raw.lower()
        if lowered in {"1", "t", "true"}:
            return key, "true"
        if lowered in {"0", "f", "false"}:
            return key, "false"
        raise StandinError(
            f"invalid --set option {set_flag}: invalid format: "
            f'strconv.ParseBool: parsing "{raw}": invalid syntax'
        )
    if kind == "list":
        parts = [raw]
        for sep in (separator, ","):
            if sep in raw:
                parts = raw.split(sep)
                break
        return key, "[" + ", ".join(toml_string(p) for p in parts) + "]"
    return key, toml_string(raw)


def split_key(key: str) -> tuple[str, str]:
    """'a.b.c' -> ('a.b', 'c'); a top-level key has table ''."""
    table, _, name = key.rpartition(".")
    return table, name


def table_span(lines: list[str], table: str) -> tuple[int, int] | None:
    """[start, end) line indexes of a table's body ('' = before the first table), or None."""
    start = 0 if table == "" else None
    for index, line in enumerate(lines):
        match = TABLE_RE.match(line)
        if not match:
            continue
        if start is not None:
            return start, index
        if match.group(1).strip() == table:
            start = index + 1
    return None if start is None else (start, len(lines))


def find_key_line(lines: list[str], span: tuple[int, int], name: str) -> int | None:
    """Index of `name = ...` in the span; failing that, of its commented default `#name = ...`."""
    active = re.compile(rf"^\s*{re.escape(name)}\s*=")
    commented = re.compile(rf"^\s*#\s*{re.escape(name)}\s*=")
    for pattern in (active, commented):
        for index in range(*span):
            if pattern.match(lines[index]):
                return index
    return None


def set_key(text: str, key: str, value: str) -> str:
    """The config text with `key` set to the TOML `value`, every other line kept."""
    table, name = split_key(key)
    lines = text.splitlines()
    new_line = f"{name} = {value}"
    span = table_span(lines, table)
    if span is None:
        # A table the file lacks goes at the end, as its own section.
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{table}]", new_line]
        return "\n".join(lines) + "\n"
    index = find_key_line(lines, span, name)
    if index is not None:
        lines[index] = new_line
    else:
        end = span[1]
        # Insert after the table's last non-blank line, before the blank line that ends it.
        while end > span[0] and not lines[end - 1].strip():
            end -= 1
        lines.insert(end, new_line)
    return "\n".join(lines) + "\n"


def run_config(args: argparse.Namespace) -> int:
    path = Path(args.config_file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = DEFAULT_CONFIG
    except OSError as exc:
        raise StandinError(f"unable to create config: {exc}") from exc
    if not text.strip():
        text = DEFAULT_CONFIG
    for set_flag in args.set or []:
        key, value = render_value(set_flag, args.set_list_separator)
        text = set_key(text, key, value)
    if args.in_place:
        write_file(path, text)
    elif args.output:
        write_file(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


# ---- cdi ----------------------------------------------------------------------------------


def driver_loaded() -> bool:
    return Path(os.environ.get(DRIVER_FLAG_ENV) or DRIVER_FLAG).exists()


def cdi_spec(vendor: str = "nvidia.com", klass: str = "gpu") -> dict[str, object]:
    """A small CDI spec: one stand-in GPU "0" and "all". Env edits only, so a container that
    gets the device needs no device node on the test host."""
    devices = [
        {"name": name, "containerEdits": {"env": [f"GPUHOST_STANDIN_GPU={name}"]}}
        for name in ("0", "all")
    ]
    return {
        "cdiVersion": CDI_VERSION,
        "kind": f"{vendor}/{klass}",
        "devices": devices,
        "containerEdits": {"env": ["NVIDIA_VISIBLE_DEVICES=void"]},
    }


def spec_yaml(spec: dict[str, object]) -> str:
    """The spec as YAML in the fixed shape cdi list reads back (no YAML library needed)."""
    lines = ["---", f"cdiVersion: {spec['cdiVersion']}", "containerEdits:", "  env:"]
    lines += [f"  - {env}" for env in spec["containerEdits"]["env"]]  # type: ignore[index]
    lines.append("devices:")
    for device in spec["devices"]:  # type: ignore[attr-defined]
        lines += ["- containerEdits:", "    env:"]
        lines += [f"    - {env}" for env in device["containerEdits"]["env"]]
        lines.append(f"  name: {json.dumps(device['name'])}")
    lines.append(f"kind: {spec['kind']}")
    return "\n".join(lines) + "\n"


def run_cdi_generate(args: argparse.Namespace) -> int:
    if not driver_loaded():
        raise StandinError(NO_NVML)
    output = args.output or os.environ.get(CDI_OUTPUT_ENV, "")
    spec = cdi_spec(args.vendor, args.klass)
    as_json = args.format == "json" or output.endswith(".json")
    text = json.dumps(spec, indent=2) + "\n" if as_json else spec_yaml(spec)
    if output:
        write_file(Path(output), text)
        log("INFO", f"Generated CDI spec with version {CDI_VERSION}", args.quiet)
    else:
        sys.stdout.write(text)
    return 0


def devices_in(text: str, json_file: bool) -> list[str]:
    """'kind=name' for each device of one spec file; [] for a file that is not a spec."""
    if json_file:
        try:
            spec = json.loads(text)
        except ValueError:
            return []
        kind = spec.get("kind", "") if isinstance(spec, dict) else ""
        names = [d.get("name", "") for d in spec.get("devices", [])] if kind else []
    else:
        kind_match = re.search(r"^kind:\s*(\S+)\s*$", text, re.MULTILINE)
        kind = kind_match.group(1) if kind_match else ""
        names = [
            m.strip().strip('"').strip("'")
            for m in re.findall(r"^\s*(?:-\s+)?name:\s*(.+?)\s*$", text, re.MULTILINE)
        ]
    return [f"{kind}={name}" for name in names if kind and name]


def run_cdi_list(args: argparse.Namespace) -> int:
    found: list[str] = []
    for spec_dir in args.spec_dir or DEFAULT_SPEC_DIRS:
        directory = Path(spec_dir)
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.suffix in {".yaml", ".yml", ".json"} and path.is_file():
                text = path.read_text(encoding="utf-8")
                found += devices_in(text, path.suffix == ".json")
    log("INFO", f"Found {len(found)} CDI devices", args.quiet)
    for device in found:
        print(device)
    return 0


# ---- plumbing -----------------------------------------------------------------------------


def write_file(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StandinError(f"failed to write {path}: {exc}") from exc


def log(level: str, message: str, quiet: bool = False) -> None:
    """A logrus-style line on stderr, as upstream prints them."""
    if not quiet or level == "ERRO":
        print(f"{level}[0000] {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nvidia-ctk", add_help=True)
    parser.add_argument("--version", "-v", action="store_true")
    parser.add_argument("--debug", "-d", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    commands = parser.add_subparsers(dest="command")

    config = commands.add_parser("config")
    config.add_argument("--config-file", "--config", "-c", default=CONFIG_FILE)
    config.add_argument("--set", action="append")
    config.add_argument("--set-list-separator", default=":")
    config.add_argument("--in-place", "-i", action="store_true")
    config.add_argument("--output", "-o", default="")
    config.set_defaults(handler=run_config)

    cdi = commands.add_parser("cdi").add_subparsers(dest="cdi_command")
    generate = cdi.add_parser("generate")
    generate.add_argument("--output", default="")
    generate.add_argument("--format", choices=["yaml", "json"], default="yaml")
    generate.add_argument("--vendor", "--cdi-vendor", default="nvidia.com")
    generate.add_argument("--class", "--cdi-class", dest="klass", default="gpu")
    generate.add_argument("--mode", default="auto")
    generate.add_argument("--device-name-strategy", action="append")
    generate.set_defaults(handler=run_cdi_generate)
    listing = cdi.add_parser("list")
    listing.add_argument("--spec-dir", action="append")
    listing.set_defaults(handler=run_cdi_list)
    return parser


def not_implemented(words: Sequence[str]) -> int:
    log("ERRO", f"'nvidia-ctk {' '.join(words)}' is not implemented by the gpuhost stand-in")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # argparse would print usage and exit 2 for an unknown command; upstream-like callers
    # get one clear line and exit 1 instead.
    command = next((w for w in words if not w.startswith("-")), None)
    if command not in {None, "config", "cdi"}:
        return not_implemented(words)
    args, unknown = build_parser().parse_known_args(words)
    if args.version:
        print(f"NVIDIA Container Toolkit CLI version {VERSION}\ncommit: {COMMIT}")
        return 0
    handler = getattr(args, "handler", None)
    if handler is None or unknown:
        return not_implemented(words)
    try:
        return int(handler(args))
    except StandinError as exc:
        log("ERRO", str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
