"""The no-op re-run of playbooks/site.yml on one converged test host, beside its floor.

    flock /tmp/gpuhost-molecule.lock .venv/bin/python bench/noop.py [-n 3] \
        [--image debian12|debian13|REPO:TAG] [--keep] [--pipelining on|off] [--gpu] [--enroot]
        [--jetson]

One test host is started through `tests/hosts/testhosts.sh start` (as molecule does; with
--keep it is left running and a later run reuses it), converged with site.yml over
community.docker.docker (Debian's engine, the busybox test image imported, a user `benchuser`
given to docker_access), and then site.yml runs -n more times: those are the no-op re-runs,
timed, with ansible.posix.profile_roles (seconds per role) and the PLAY RECAP (tasks run and
skipped, changed). One more, untimed no-op run at -vvv counts the real round trips: every
`docker exec` (EXEC), file copy (PUT) and fetch (FETCH) the connection logs, so a module that
needs two (an action plugin's stat before its copy) counts two, a loop one per item, and
set_fact, assert, debug, include_* and meta none; the same run gives the tasks run and skipped
per role. The floor is a play of as many ansible.builtin.ping tasks as there were round trips
(one round trip each under pipelining), over the same connection and become: what the same
number of round trips costs with no work in them.
With --gpu the host is a GPU-forced one (host_facts_force_kind=dgpu) with the NVIDIA
STAND-IN repository built on it (molecule/shared/standins/nvidia), so nvidia_container_toolkit
does its whole no-op; its profile_roles line is what the role adds (target: at most 1 s).
With --enroot the host has enroot_enabled, installed from the enroot STAND-IN release downloads
(molecule/shared/standins/enroot), so the enroot role and gpu_verify's enroot check do their
whole no-op (the same target). --gpu and --enroot combine.

With --jetson the host is made to look like a JetPack 5 Jetson (SIMULATED: the planted release
file, device tree and nvidia-l4t-core of molecule/shared/standins/jetson/tasks/plant.yml, as
the jetson_container_runtime scenario's jp5 host) with the STAND-IN JetPack repository, so
jetson_container_runtime does its whole no-op (the same target). It excludes --gpu.
Prints figures; never asserts (target: a no-op of at most 6 s).
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".cache" / "testhosts" / "env"
HARNESS = ROOT / "tests" / "hosts" / "testhosts.sh"
PLAYBOOK = ROOT / "playbooks" / "site.yml"
IMPORT_IMAGE = ROOT / "molecule" / "shared" / "tasks" / "import_test_image.yml"
TEST_IMAGE = "testhost/busybox:latest"
USER = "benchuser"
TIMEOUT_S = 900
NOOP_TARGET_S = 6.0
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)",
    re.MULTILINE,
)
# -vvv lines of community.docker.docker, one per exchange with the host.
ROUND_TRIP = re.compile(r"^(?:<[^>]*> )?(?:EXEC|PUT|FETCH) ", re.MULTILINE)
TASK_BANNER = re.compile(r"^TASK \[(?:(?P<role>[^:\]]+) : )?(?P<name>[^\]]*)\]", re.MULTILINE)
HOST_RESULT = re.compile(r"^(ok|changed|skipping|failed|fatal|included): ", re.MULTILINE)
# profile_roles' closing lines: `docker_access ------------- 1.23s` (and a `total` line).
STANDINS = ROOT / "molecule" / "shared" / "standins"
NVIDIA_STANDINS = STANDINS / "nvidia" / "tasks" / "main.yml"
ENROOT_STANDINS = STANDINS / "enroot" / "tasks" / "main.yml"
JETSON_STANDINS = STANDINS / "jetson" / "tasks" / "main.yml"
JETSON_PLANT = STANDINS / "jetson" / "tasks" / "plant.yml"
# The GPU-forced host's settings: the stand-in repository on the host's loopback.
GPU_VARS = {"host_facts_force_kind": "dgpu",
            "nvidia_container_toolkit_repo_url": "http://127.0.0.1:8731/libnvidia-container",
            "nvidia_container_toolkit_version": "1.17.8-1"}
# The enroot host's settings: the stand-in release downloads on the host's loopback.
ENROOT_VARS = {"enroot_enabled": True, "enroot_version": "4.1.2",
               "enroot_release_url": "http://127.0.0.1:8733/NVIDIA/enroot/releases/download/"
                                     "v{{ enroot_version }}"}
# The simulated Jetson: the jetson_container_runtime scenario's jp5 host (JetPack 5.1.2 on an
# AGX Xavier, iptable_raw present, no apt source of the board's own), and the role's settings.
JETSON_PLANT_VARS = {
    "standin_jetson_board_source": False, "standin_jetson_iptable_raw": True,
    "standin_jetson_suite": "r35.4", "standin_jetson_soc": "t194",
    "standin_jetson_l4t_core": "35.4.1-20230801124926",
    "standin_jetson_tegra_release": ("# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: "
                                     "t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023"),
    "standin_jetson_model": "Jetson-AGX",
    "standin_jetson_compatible": ["nvidia,p2972-0000", "nvidia,galen", "nvidia,tegra194"]}
JETSON_VARS = {"jetson_container_runtime_repo_url": "http://127.0.0.1:8733/jetson",
               "gpu_verify_checks": ["engine", "gpu", "jetson"]}
ROLE_LINE = re.compile(r"^(\S+) -{3,} (\d+\.\d+)s$", re.MULTILINE)


class BenchError(RuntimeError):
    """A step failed; the message carries the command's output tail."""


@dataclass(frozen=True)
class Recap:
    ok: int
    changed: int
    skipped: int
    failed: int


@dataclass(frozen=True)
class Run:
    seconds: float
    recap: Recap
    roles: dict[str, float]


def run(cmd: list[str], *, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          timeout=TIMEOUT_S)
    if check and done.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:6])}... exited {done.returncode}:\n"
                         f"{(done.stdout + done.stderr)[-3000:]}")
    return done


def read_env_file() -> dict[str, str]:
    if not ENV_FILE.exists():
        sys.exit(f"{ENV_FILE} missing: run `tests/hosts/testhosts.sh up` first")
    pairs = (line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def is_running(name: str) -> bool:
    done = run(["docker", "inspect", "--format", "{{.State.Running}}", name], check=False)
    return done.returncode == 0 and done.stdout.strip() == "true"


def ansible_env(pipelining: bool | None) -> dict[str, str]:
    """The project's ansible.cfg; pipelining forced on or off only when asked."""
    bin_dir = str(ROOT / ".venv" / "bin")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_roles",
               PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    if pipelining is not None:
        env["ANSIBLE_PIPELINING"] = str(pipelining)
    return env


def write_inventory(directory: Path, name: str, gpu: bool = False,
                    enroot: bool = False, jetson: bool = False) -> Path:
    inventory = {"all": {
        "hosts": {name: {"ansible_connection": "community.docker.docker",
                         "ansible_host": name,
                         "ansible_python_interpreter": "/usr/bin/python3"}},
        # get.docker.com and registries are unreachable from test hosts (as in provision_cli).
        "vars": {"docker_engine_install_method": "distro", "docker_access_users": [USER],
                 "gpu_verify_image": TEST_IMAGE, "gpu_verify_gpu_image": TEST_IMAGE,
                 **(GPU_VARS if gpu else {}), **(ENROOT_VARS if enroot else {}),
                 **(JETSON_VARS if jetson else {})},
    }}
    path = directory / "inventory.json"
    path.write_text(json.dumps(inventory))
    return path


def standin_env(env: dict[str, str], work: Path) -> dict[str, str]:
    """ENV with a fact cache of its own: the stand-ins gather setup facts (the docker one its
    min subset, so does the Jetson plant's play) that site.yml never gathers; left in the
    project's cache they would ride in every later task's variables and slow the measured runs."""
    return dict(env, ANSIBLE_CACHE_PLUGIN_CONNECTION=str(work / "standin-facts"))


def forget_cached_facts(hosts: list[str]) -> None:
    """A fresh test host is a new machine: no facts an earlier host of its name left behind."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "ansible.cfg")
    cache = ROOT / config.get("defaults", "fact_caching_connection")
    for host in hosts:
        for path in cache.glob(f"*_{host}"):
            path.unlink()


def write_floor_playbook(directory: Path, tasks: int) -> Path:
    """As many ping tasks as the no-op ran: one module round trip each, nothing decided."""
    plays = [{"name": "Floor", "hosts": "all", "gather_facts": False, "become": True,
              "tasks": [{"name": f"Ping {i}", "ansible.builtin.ping": None}
                        for i in range(tasks)]}]
    path = directory / "floor.yml"
    path.write_text(json.dumps(plays))
    return path


def write_standins_playbook(directory: Path, standins: list[Path], jetson: bool = False) -> Path:
    """Builds and serves the given stand-ins on the host (a re-run is a no-op); with JETSON,
    then makes the host look like a Jetson (plant.yml reads the architecture fact)."""
    tasks: list[dict[str, object]] = [
        {"name": f"Build and serve the {path.parent.parent.name} stand-ins",
         "ansible.builtin.include_tasks": str(path)} for path in standins]
    if jetson:
        tasks.append({"name": "Make the host look like a Jetson (SIMULATED)",
                      "ansible.builtin.include_tasks": str(JETSON_PLANT),
                      "vars": JETSON_PLANT_VARS})
    plays = [{"name": "Stand-ins", "hosts": "all", "gather_facts": jetson,
              "gather_subset": ["min"], "become": True, "tasks": tasks}]
    path = directory / "standins.yml"
    path.write_text(json.dumps(plays))
    return path


def playbook(inventory: Path, book: Path, env: dict[str, str],
             extra: dict[str, object] | None = None) -> tuple[float, str]:
    cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(book)]
    if extra:
        cmd += ["-e", json.dumps(extra)]
    start = time.perf_counter()
    done = run(cmd, env=env)
    return time.perf_counter() - start, done.stdout


def parse_recap(output: str, host: str) -> Recap:
    for match in RECAP.finditer(output):
        if match["host"] == host:
            return Recap(int(match["ok"]), int(match["changed"]), int(match["skipped"]),
                         int(match["failed"]))
    raise BenchError(f"no PLAY RECAP line for {host}")


def parse_roles(output: str) -> dict[str, float]:
    return {role: float(secs) for role, secs in ROLE_LINE.findall(output) if role != "total"}


@dataclass
class RoleTrips:
    run: int = 0
    skipped: int = 0
    trips: int = 0


def count_trips(output: str) -> dict[str, RoleTrips]:
    """Per role (or play, for tasks outside a role): tasks run and skipped, round trips."""
    banners = list(TASK_BANNER.finditer(output))
    roles: dict[str, RoleTrips] = {}
    for index, banner in enumerate(banners):
        end = banners[index + 1].start() if index + 1 < len(banners) else len(output)
        section = output[banner.end():end]
        role = roles.setdefault(banner["role"] or "(include_role tasks)", RoleTrips())
        results = HOST_RESULT.findall(section)
        if results and all(result == "skipping" for result in results):
            role.skipped += 1
        else:
            role.run += 1
        role.trips += len(ROUND_TRIP.findall(section))
    return roles


def host_round_trips(inventory: Path, env: dict[str, str]) -> dict[str, RoleTrips]:
    """One untimed no-op at -vvv: what reaches the host, per role."""
    vvv_env = {key: value for key, value in env.items() if key != "ANSIBLE_CALLBACKS_ENABLED"}
    cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-vvv", "-i", str(inventory),
           str(PLAYBOOK)]
    return count_trips(run(cmd, env=vvv_env).stdout)


def converge(name: str, inventory: Path, env: dict[str, str]) -> None:
    """site.yml until the host is converged: the test image exists only once Docker does."""
    run(["docker", "exec", name, "sh", "-c", f"id {USER} || useradd --create-home {USER}"])
    # enroot waits for the test image: its check is required wherever enroot_enabled is, and
    # imports that image, which can only be loaded once Docker is there.
    playbook(inventory, PLAYBOOK, env, {"gpu_verify_required": {}, "enroot_enabled": False})
    script = (f"docker image inspect {TEST_IMAGE} >/dev/null 2>&1 || docker import --change "
              f"'CMD [\"/bin/sh\"]' /opt/testhost/busybox-rootfs.tar {TEST_IMAGE}")
    run(["docker", "exec", name, "sh", "-c", script])
    playbook(inventory, PLAYBOOK, env)


def timed_runs(count: int, inventory: Path, book: Path, env: dict[str, str],
               host: str) -> list[Run]:
    runs = []
    for _ in range(count):
        seconds, out = playbook(inventory, book, env)
        runs.append(Run(seconds, parse_recap(out, host), parse_roles(out)))
    return runs


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(noop: list[Run], floor: list[Run], roles: dict[str, RoleTrips],
           pipelining: str) -> None:
    recap = noop[0].recap
    ran = recap.ok + recap.failed
    trips = sum(role.trips for role in roles.values())
    print(f"pipelining: {pipelining}")
    print(f"{'figure':<44} {'median s':>9} {'min s':>7} {'max s':>7}  runs")
    for label, runs in ((f"site.yml no-op (target <= {NOOP_TARGET_S:.0f} s)", noop),
                        (f"floor: {trips} ping tasks", floor)):
        secs = [r.seconds for r in runs]
        print(f"{label:<44} {median(secs):>9.1f} {min(secs):>7.1f} {max(secs):>7.1f}  "
              f"{' '.join(f'{s:.1f}' for s in secs)}")
    print(f"no-op tasks: {ran} run, {recap.skipped} skipped, {trips} round trips; "
          f"changed per run: {[r.recap.changed for r in noop]} (must be 0)")
    print("per role: seconds (median over the no-op runs, profile_roles), tasks run / skipped, "
          "round trips (the -vvv run):")
    names = sorted({role for r in noop for role in r.roles} | set(roles))
    per_role = {role: median([r.roles.get(role, 0.0) for r in noop]) for role in names}
    for role, secs in sorted(per_role.items(), key=lambda item: -item[1]):
        counts = roles.get(role, RoleTrips())
        print(f"  {role:<28} {secs:6.2f} s  {counts.run:3d} run {counts.skipped:3d} skipped "
              f"{counts.trips:3d} round trips")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3, help="timed no-op runs (default 3)")
    parser.add_argument("--image", default="debian12",
                        help="debian12, debian13 or a full image reference (default debian12)")
    parser.add_argument("--name", default="bench-noop",
                        help="test host container name (default bench-noop-IMAGE)")
    parser.add_argument("--keep", action="store_true",
                        help="leave the host running; a later run with --keep reuses it")
    parser.add_argument("--gpu", action="store_true",
                        help="GPU-forced host with the NVIDIA stand-in repository")
    parser.add_argument("--enroot", action="store_true",
                        help="enroot_enabled with the enroot stand-in release downloads")
    parser.add_argument("--jetson", action="store_true",
                        help="a SIMULATED JetPack 5 Jetson with the JetPack stand-in repository")
    parser.add_argument("--pipelining", choices=["on", "off"],
                        help="force pipelining (default: what ansible.cfg says)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.gpu and args.jetson:
        sys.exit("--gpu and --jetson exclude each other: a host is one kind")
    repo = read_env_file().get("TESTHOST_IMAGE_REPO", "gpuhost-testhost")
    image = args.image if ":" in args.image or "/" in args.image else f"{repo}:{args.image}"
    name = (f"{args.name}-{args.image.rsplit(':', 1)[-1].replace('/', '-')}"
            + ("-gpu" if args.gpu else "") + ("-enroot" if args.enroot else "")
            + ("-jetson" if args.jetson else ""))
    env = ansible_env(None if args.pipelining is None else args.pipelining == "on")
    work = Path(tempfile.mkdtemp(prefix="bench-noop-"))
    reused = is_running(name)
    try:
        if not reused:
            run([str(HARNESS), "start", name, image])
            forget_cached_facts([name])
        inventory = write_inventory(work, name, args.gpu, args.enroot, args.jetson)
        standins = [path for path, wanted in ((NVIDIA_STANDINS, args.gpu),
                                              (ENROOT_STANDINS, args.enroot),
                                              (JETSON_STANDINS, args.jetson)) if wanted]
        if standins:
            playbook(inventory, write_standins_playbook(work, standins, args.jetson),
                     dict(standin_env(env, work), MOLECULE_PROJECT_DIRECTORY=str(ROOT)))
        print(f"{'reusing' if reused else 'started'} {name}; converging ...", file=sys.stderr)
        converge(name, inventory, env)
        noop = timed_runs(args.n, inventory, PLAYBOOK, env, name)
        roles = host_round_trips(inventory, env)
        trips = sum(role.trips for role in roles.values())
        floor = timed_runs(args.n, inventory, write_floor_playbook(work, trips), env, name)
    except BenchError as err:
        sys.exit(f"bench failed: {err}")
    finally:
        if not args.keep:
            run([str(HARNESS), "stop", name], check=False)
    report(noop, floor, roles, args.pipelining or "ansible.cfg")


if __name__ == "__main__":
    main()
