"""Converge and no-op re-run of playbooks/site.yml over SSH on fleets of test hosts.

    flock /tmp/gpuhost-molecule.lock .venv/bin/python bench/fleet.py \
        [--sizes 1,4,8,16] [--converge-sizes 1,4,8,16] [--strategies linear,free] \
        [--gpu-share 0.25] [-n 1] [--keep] [--profile] [--image debian12]

Hosts come from the harness: `tests/hosts/testhosts.sh ssh-fleet N PREFIX IMAGE` starts N
systemd test hosts with sshd and writes their SSH inventory (ansible_host = the address on
the test network, the harness's key, host keys checked against the harness's known_hosts);
the project's ansible.cfg (forks, pipelining, ControlPersist) is the one in force.

1. Converge: for each size in --converge-sizes a fresh fleet of that size is started, the
   Docker CE stand-ins (get.docker.com and download.docker.com, molecule/shared/standins/
   docker, the shared stand-in cache volume: one host builds, the others unpack) are set up
   on it untimed, and site.yml runs once, timed (docker_engine by the script method from the
   stand-in, never the real get.docker.com). Then the busybox test image is imported and
   site.yml runs once more, untimed (gpu_verify's engine check needs the image). Fleets
   smaller than the largest are removed after their converge. A fresh fleet starts with no
   cached facts under its host names, and the stand-ins' play keeps its setup facts in a fact
   cache of its own: site.yml never gathers them, so they are no part of what is measured.
2. No-op: on the largest fleet, for each strategy and each size in --sizes (the first SIZE
   hosts), site.yml runs -n times, timed, then the floor: a play of as many
   ansible.builtin.ping tasks as site.yml ran on one host, same hosts, same strategy.
With --gpu-share F, that share of each fleet (rounded up, the last hosts) is GPU-forced
(host_facts_force_kind=dgpu) with the NVIDIA stand-in repository (molecule/shared/standins/
nvidia) built on it, so nvidia_container_toolkit does its whole work there; default 0 (CPU).
--profile adds, on the largest no-op size: one no-op with ansible.posix.profile_tasks (the
slowest tasks), one under cProfile (the controller's hottest functions) and one at -vvv that
counts SSH round trips (EXEC and PUT lines) per host.
Besides wall time the table shows controller CPU (user+sys of ansible-playbook and its
workers and ssh clients) and machine CPU (all cores, from /proc/stat: the test hosts' sshd,
python and dockerd included): on this 2-core machine, wall ~ machine CPU / 2 means CPU-bound.
Prints figures; never asserts. Targets: no-op on 1 host <= 5 s, 16 hosts <= 3x one host.
It runs `tests/hosts/testhosts.sh up` first (idempotent: engine, images, network), so it
works from a fresh clone. Hosts are removed at the end unless --keep (a later --keep run
reuses a running fleet and skips its converge unless asked for one).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pstats
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# What the no-op bench already defines (same folder: `python bench/fleet.py` puts it on the path).
from noop import (
    HARNESS,
    IMPORT_IMAGE,
    RECAP,
    ROOT,
    TEST_IMAGE,
    USER,
    forget_cached_facts,
    standin_env,
)

STATE_DIR = Path(os.environ.get("TESTHOST_STATE_DIR", ROOT / ".cache" / "testhosts"))
PLAYBOOK = ROOT / "playbooks" / "site.yml"
SHARED = ROOT / "molecule" / "shared"
DOCKER_STANDINS = SHARED / "standins" / "docker" / "tasks" / "main.yml"
NVIDIA_STANDINS = SHARED / "standins" / "nvidia" / "tasks" / "main.yml"
TIMEOUT_S = 3600
PREFIX = "fleet"
NOOP_TARGET_S = 5.0
RATIO_TARGET = 3.0
# -vvv lines of the ssh connection: `<10.0.0.2> SSH: EXEC ssh ...`, `<10.0.0.2> PUT ...`.
ROUND_TRIP = re.compile(r"^<(?P<addr>[^>]+)> (?:SSH: EXEC|PUT|FETCH) ", re.MULTILINE)
PROFILE_LINE = re.compile(r"^(?P<name>.+?) -{3,} (?P<secs>\d+\.\d+)s$", re.MULTILINE)
# The fleet's settings: Docker from the local stand-ins, a docker_access user made by the role,
# the busybox test image for gpu_verify (no registry is reachable from test hosts).
FLEET_VARS = {
    "docker_engine_install_method": "script",
    "docker_engine_script_url": "http://127.0.0.1:8080/get-docker.sh",
    "docker_engine_download_url": "http://127.0.0.1:8080",
    "docker_access_users": [USER],
    "docker_access_create_users": True,
    "gpu_verify_image": TEST_IMAGE,
    "gpu_verify_gpu_image": TEST_IMAGE,
}
GPU_VARS = {"host_facts_force_kind": "dgpu",
            "nvidia_container_toolkit_repo_url": "http://127.0.0.1:8731/libnvidia-container",
            "nvidia_container_toolkit_version": "1.17.8-1"}


class BenchError(RuntimeError):
    """A step failed; the message carries the command's output tail."""


@dataclass
class Timed:
    wall: float
    controller_cpu: float
    machine_cpu: float
    output: str
    stdout: str


@dataclass
class Row:
    kind: str
    strategy: str
    size: int
    walls: list[float] = field(default_factory=list)
    controller_cpu: float = 0.0
    machine_cpu: float = 0.0
    ok: int = 0
    skipped: int = 0
    changed: int = 0
    failed: int = 0


def machine_busy() -> float:
    """CPU seconds spent by all cores so far (not idle, not iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in fields]
    busy = sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)
    return busy / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], *, env: dict[str, str] | None = None, check: bool = True) -> Timed:
    cpu0, busy0, start = children_cpu(), machine_busy(), time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          timeout=TIMEOUT_S)
    wall = time.perf_counter() - start
    timed = Timed(wall, children_cpu() - cpu0, machine_busy() - busy0, done.stdout + done.stderr,
                  done.stdout)
    if check and done.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:8])}... exited {done.returncode}:\n"
                         f"{timed.output[-4000:]}")
    return timed


def ansible_env(strategy: str = "linear", callbacks: str = "") -> dict[str, str]:
    bin_dir = str(ROOT / ".venv" / "bin")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STRATEGY=strategy, MOLECULE_PROJECT_DIRECTORY=str(ROOT),
               PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    if callbacks:
        env["ANSIBLE_CALLBACKS_ENABLED"] = callbacks
    return env


def image_ref(image: str) -> str:
    if ":" in image or "/" in image:
        return image
    repo = os.environ.get("TESTHOST_IMAGE_REPO")
    env_file = STATE_DIR / "env"
    if not repo and env_file.exists():
        for line in env_file.read_text().splitlines():
            if line.startswith("TESTHOST_IMAGE_REPO="):
                repo = line.split("=", 1)[1].strip()
    return f"{repo or 'gpuhost-testhost'}:{image}"


def host_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(1, count + 1)]


def running_hosts(prefix: str) -> set[str]:
    done = subprocess.run(["docker", "ps", "--format", "{{.Names}}", "--filter",
                           "label=org.gpuhost.testhost=1"], capture_output=True, text=True,
                          check=False)
    return {name for name in done.stdout.split() if re.fullmatch(rf"{prefix}-\d+", name)}


def start_fleet(prefix: str, count: int, image: str) -> tuple[Path, float]:
    """The harness's inventory ($state_dir/ssh/PREFIX.yml): a later --keep run finds it."""
    timed = run([str(HARNESS), "ssh-fleet", str(count), prefix, image])
    return Path(timed.stdout.strip().splitlines()[-1]), timed.wall


def stop_fleet(prefix: str) -> None:
    run([str(HARNESS), "ssh-fleet-stop", prefix], check=False)


def gpu_hosts(prefix: str, count: int, share: float) -> list[str]:
    gpus = math.ceil(count * share) if share > 0 else 0
    return host_names(prefix, count)[count - gpus:]


def write_vars_inventory(work: Path, prefix: str, gpus: list[str]) -> Path:
    """Group vars for the fleet, and the GPU-forced hosts' group (a second -i source)."""
    inventory = {"all": {"vars": FLEET_VARS,
                         "children": {f"{prefix}_gpu": {"hosts": {name: {} for name in gpus},
                                                        "vars": GPU_VARS}}}}
    path = work / f"{prefix}-vars.json"
    path.write_text(json.dumps(inventory))
    return path


def write_playbooks(work: Path, prefix: str) -> dict[str, Path]:
    books = {
        # The first host builds the Docker stand-in repository and leaves it in the shared
        # cache; the others unpack it (serial: one, then all).
        "standins": [{"name": "Docker CE stand-ins", "hosts": "all", "gather_facts": False,
                      "serial": [1, "100%"],
                      "tasks": [{"name": "Build and serve the Docker stand-ins",
                                 "ansible.builtin.include_tasks": str(DOCKER_STANDINS)}]},
                     {"name": "NVIDIA stand-ins", "hosts": f"{prefix}_gpu",
                      "gather_facts": False,
                      "tasks": [{"name": "Build and serve the NVIDIA stand-ins",
                                 "ansible.builtin.include_tasks": str(NVIDIA_STANDINS)}]}],
        "image": [{"name": "Busybox test image", "hosts": "all", "gather_facts": False,
                   "tasks": [{"name": "Import the busybox test image",
                              "ansible.builtin.include_tasks": str(IMPORT_IMAGE)}]}],
    }
    paths = {}
    for name, plays in books.items():
        paths[name] = work / f"{name}.yml"
        paths[name].write_text(json.dumps(plays))
    return paths


def write_floor(work: Path, tasks: int) -> Path:
    """As many ping tasks as site.yml ran on one host: one module round trip each."""
    plays = [{"name": "Floor", "hosts": "all", "gather_facts": False,
              "tasks": [{"name": f"Ping {i}", "ansible.builtin.ping": None}
                        for i in range(tasks)]}]
    path = work / f"floor-{tasks}.yml"
    path.write_text(json.dumps(plays))
    return path


def playbook(inventories: list[Path], book: Path, env: dict[str, str], limit: list[str],
             extra: dict[str, object] | None = None, verbose: str = "",
             python: list[str] | None = None) -> Timed:
    cmd = (python or []) + [str(ROOT / ".venv" / "bin" / "ansible-playbook")]
    for inventory in inventories:
        cmd += ["-i", str(inventory)]
    cmd += ["--limit", ",".join(limit)]
    if extra:
        cmd += ["-e", json.dumps(extra)]
    if verbose:
        cmd.append(verbose)
    cmd.append(str(book))
    return run(cmd, env=env)


def tally(row: Row, timed: Timed, hosts: list[str]) -> None:
    recaps = {m["host"]: m for m in RECAP.finditer(timed.output)}
    missing = [host for host in hosts if host not in recaps]
    if missing:
        raise BenchError(f"no PLAY RECAP line for {missing[:3]}")
    row.walls.append(timed.wall)
    row.controller_cpu += timed.controller_cpu
    row.machine_cpu += timed.machine_cpu
    # Per host: the first host's counts (CPU and GPU hosts differ: the first is a CPU host
    # unless every host is GPU-forced); changed and failed summed over all hosts.
    first = recaps[hosts[0]]
    row.ok, row.skipped = int(first["ok"]), int(first["skipped"])
    row.changed += sum(int(recaps[h]["changed"]) for h in hosts)
    row.failed += sum(int(recaps[h]["failed"]) + int(recaps[h]["unreachable"]) for h in hosts)


def converge(prefix: str, count: int, image: str, share: float, work: Path,
             rows: list[Row], timed_converge: bool) -> list[Path]:
    inventory, boot = start_fleet(prefix, count, image)
    print(f"{prefix}: {count} SSH hosts started in {boot:.0f} s", file=sys.stderr)
    hosts = host_names(prefix, count)
    forget_cached_facts(hosts)
    inventories = [inventory, write_vars_inventory(work, prefix, gpu_hosts(prefix, count, share))]
    books = write_playbooks(work, prefix)
    env = ansible_env()
    standins = playbook(inventories, books["standins"], standin_env(env, work), hosts)
    print(f"{prefix}: stand-ins ready in {standins.wall:.0f} s (untimed)", file=sys.stderr)
    row = Row("converge", "linear", count)
    first = playbook(inventories, PLAYBOOK, env, hosts, {"gpu_verify_required": {}})
    if timed_converge:
        tally(row, first, hosts)
        rows.append(row)
        print(f"{prefix}: converge {first.wall:.1f} s", file=sys.stderr)
    playbook(inventories, books["image"], env, hosts)
    playbook(inventories, PLAYBOOK, env, hosts)
    return inventories


def noop_rows(inventories: list[Path], prefix: str, sizes: list[int], strategies: list[str],
              runs: int, work: Path, rows: list[Row]) -> None:
    for strategy in strategies:
        env = ansible_env(strategy)
        for size in sizes:
            hosts = host_names(prefix, size)
            row = Row("no-op", strategy, size)
            for _ in range(runs):
                tally(row, playbook(inventories, PLAYBOOK, env, hosts), hosts)
            rows.append(row)
            floor = Row("floor", strategy, size)
            book = write_floor(work, row.ok)
            for _ in range(runs):
                tally(floor, playbook(inventories, book, env, hosts), hosts)
            rows.append(floor)
            print(f"{strategy} {size}: no-op {statistics.median(row.walls):.1f} s, floor "
                  f"{statistics.median(floor.walls):.1f} s", file=sys.stderr)


def profile(inventories: list[Path], prefix: str, size: int, work: Path) -> None:
    hosts = host_names(prefix, size)
    print(f"\n--profile, {size} hosts, linear:")
    timed = playbook(inventories, PLAYBOOK,
                     ansible_env(callbacks="ansible.posix.profile_tasks"), hosts)
    lines = [(float(m["secs"]), m["name"].strip()) for m in PROFILE_LINE.finditer(timed.output)]
    print(f"profile_tasks: {timed.wall:.1f} s wall; slowest tasks (all hosts of a task):")
    for secs, name in sorted(lines, reverse=True)[:12]:
        print(f"  {secs:6.2f} s  {name[:100]}")
    stats_file = work / "controller.pstats"
    timed = playbook(inventories, PLAYBOOK, ansible_env(), hosts,
                     python=[str(ROOT / ".venv" / "bin" / "python"), "-m", "cProfile", "-o",
                             str(stats_file)])
    print(f"cProfile of the controller's main process: {timed.wall:.1f} s wall, "
          f"{timed.controller_cpu:.1f} s CPU (main process, workers and ssh clients), "
          "hottest by own time:")
    stats = pstats.Stats(str(stats_file))
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:15]  # type: ignore[attr-defined]
    for (path, line, func), (_cc, calls, own, cum, _callers) in rows:
        print(f"  {own:6.2f} s own {cum:6.2f} s cum {calls:8d} calls  "
              f"{Path(path).name}:{line}({func})")
    one = host_names(prefix, 1)
    timed = playbook(inventories, PLAYBOOK, ansible_env(), one, verbose="-vvv")
    trips = len(ROUND_TRIP.findall(timed.output))
    print(f"round trips on one host (-vvv: SSH EXEC and PUT lines): {trips}")


def report(rows: list[Row], share: float) -> None:
    print(f"\nsite.yml over SSH; GPU-forced share {share:.0%}; ansible.cfg forks=25, "
          "pipelining, ControlPersist=60s")
    print(f"{'run':<9} {'strategy':<8} {'hosts':>5} {'wall s':>7} {'x 1 host':>8} "
          f"{'tasks/host ok+skip':>18} {'changed':>7} {'ctl CPU s':>9} {'machine CPU s':>13} "
          f"runs")
    base: dict[tuple[str, str], float] = {}
    for row in rows:
        wall = statistics.median(row.walls)
        if row.size == 1:
            base[(row.kind, row.strategy)] = wall
        one = base.get((row.kind, row.strategy))
        ratio = f"{wall / one:.2f}x" if one else "-"
        runs = len(row.walls)
        print(f"{row.kind:<9} {row.strategy:<8} {row.size:>5} {wall:>7.1f} {ratio:>8} "
              f"{f'{row.ok}+{row.skipped}':>18} {row.changed:>7} "
              f"{row.controller_cpu / runs:>9.1f} {row.machine_cpu / runs:>13.1f} "
              f"{' '.join(f'{w:.1f}' for w in row.walls)}"
              + (f"  FAILED {row.failed}" if row.failed else ""))
    print(f"targets: no-op on 1 host <= {NOOP_TARGET_S:.0f} s; 16 hosts <= "
          f"{RATIO_TARGET:.0f}x one host (figures, not asserted)")


def sizes_arg(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive numbers: 1,4,8,16")
    return sizes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes_arg, default=[1, 4, 8, 16],
                        help="fleet sizes for the no-op runs (default 1,4,8,16)")
    parser.add_argument("--converge-sizes", type=sizes_arg,
                        help="fleet sizes whose converge is timed, each on fresh hosts "
                             "(default: --sizes; the largest no-op size is always converged)")
    parser.add_argument("--no-converge-timing", action="store_true",
                        help="converge only the no-op fleet, untimed")
    parser.add_argument("--strategies", default="linear,free",
                        help="strategies for the no-op runs (default linear,free)")
    parser.add_argument("-n", type=int, default=1, help="timed runs per no-op row (default 1)")
    parser.add_argument("--gpu-share", type=float, default=0.0,
                        help="share of each fleet GPU-forced with the NVIDIA stand-in (0-1)")
    parser.add_argument("--image", default="debian12", help="debian12, debian13 or REPO:TAG")
    parser.add_argument("--keep", action="store_true",
                        help="leave the hosts running; a later --keep run reuses the no-op fleet")
    parser.add_argument("--profile", action="store_true",
                        help="profile_tasks, cProfile and round trips on the largest size")
    args = parser.parse_args()
    args.strategies = [s for s in args.strategies.split(",") if s]
    if args.converge_sizes is None:
        args.converge_sizes = [] if args.no_converge_timing else args.sizes
    return args


def main() -> None:
    args = parse_args()
    image = image_ref(args.image)
    largest = max(args.sizes)
    work = Path(tempfile.mkdtemp(prefix="bench-fleet-", dir=ROOT / ".cache"))
    rows: list[Row] = []
    started: list[str] = []
    # SIGTERM ends the run through the finally below (hosts removed unless --keep).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main_prefix = f"{PREFIX}{largest}"
    try:
        # From a fresh clone too: engine, images (with sshd), network, the env file.
        run([str(HARNESS), "up"])
        for size in args.converge_sizes:
            if size == largest:
                continue
            prefix = f"{PREFIX}{size}c"
            started.append(prefix)
            converge(prefix, size, image, args.gpu_share, work, rows, True)
            if not args.keep:
                stop_fleet(prefix)
        reuse = args.keep and len(running_hosts(main_prefix)) == largest \
            and (STATE_DIR / "ssh" / f"{main_prefix}.yml").exists()
        if reuse and largest not in args.converge_sizes:
            print(f"reusing the running fleet {main_prefix}", file=sys.stderr)
            inventory = STATE_DIR / "ssh" / f"{main_prefix}.yml"
            inventories = [inventory, write_vars_inventory(
                work, main_prefix, gpu_hosts(main_prefix, largest, args.gpu_share))]
        else:
            stop_fleet(main_prefix)
            started.append(main_prefix)
            inventories = converge(main_prefix, largest, image, args.gpu_share, work, rows,
                                   largest in args.converge_sizes)
        rows.sort(key=lambda row: row.size)
        noop_rows(inventories, main_prefix, args.sizes, args.strategies, args.n, work, rows)
        if args.profile:
            profile(inventories, main_prefix, largest, work)
    except BenchError as err:
        sys.exit(f"bench failed: {err}")
    finally:
        if rows:
            report(rows, args.gpu_share)
        if not args.keep:
            for prefix in started:
                stop_fleet(prefix)


if __name__ == "__main__":
    main()
