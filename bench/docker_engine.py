"""Converge and no-op times of docker_engine (distro method) against a bare apt-get install.

    flock /tmp/gpuhost-molecule.lock .venv/bin/python bench/docker_engine.py [-n 1] \
        [--image debian12|debian13|REPO:TAG] [--noop-runs 3] [--access-user benchuser]

Each repetition starts two fresh test hosts from the same image, one after the other, through
`tests/hosts/testhosts.sh start` as molecule does (privileged or caps from
.cache/testhosts/env; it waits for systemd to boot):
- role host: ansible-playbook bench/docker_engine_playbook.yml over community.docker.docker
  (timed), then bench/docker_engine_access_playbook.yml (docker_engine + docker_access) once to
  converge access, then again --noop-runs times: the no-op re-runs (timed, PLAY RECAP parsed);
- apt host: `apt-get update && apt-get install -y docker.io` (+ docker-cli on Debian 13) via
  docker exec (timed).
The order of the two alternates between repetitions. Containers and their volumes are removed
afterwards, also on error, Ctrl-C or SIGTERM. Prints figures; never asserts (targets: converge
at most 1.5x the bare install, no-op re-run under 8 s with 0 changed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".cache" / "testhosts" / "env"
HARNESS = ROOT / "tests" / "hosts" / "testhosts.sh"
CONVERGE_PLAYBOOK = "bench/docker_engine_playbook.yml"
ACCESS_PLAYBOOK = "bench/docker_engine_access_playbook.yml"
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)",
    re.MULTILINE,
)
COMMAND_TIMEOUT_S = 900
CONVERGE_TARGET = 1.5
NOOP_TARGET_S = 8.0


class BenchError(RuntimeError):
    """A step failed; the message carries the command's output tail."""


@dataclass
class Recap:
    ok: int
    changed: int
    skipped: int
    failed: int

    @property
    def tasks(self) -> int:
        # `ok` already counts the changed tasks.
        return self.ok + self.skipped + self.failed


@dataclass
class Figures:
    role_s: list[float] = field(default_factory=list)
    apt_s: list[float] = field(default_factory=list)
    access_first_s: list[float] = field(default_factory=list)
    noop_s: list[float] = field(default_factory=list)
    noop_recaps: list[Recap] = field(default_factory=list)
    role_new_packages: list[int] = field(default_factory=list)
    apt_new_packages: list[int] = field(default_factory=list)
    apt_command: str = ""


@dataclass
class Settings:
    image: str
    network: str
    privileged: bool
    access_user: str
    noop_runs: int
    force_apt_update: bool
    baseline_recommends: bool
    profile: bool
    log_dir: Path


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def run(cmd: list[str], *, env: dict[str, str] | None = None, check: bool = True,
        timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=timeout)
    if check and done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise BenchError(f"{' '.join(cmd[:6])}... exited {done.returncode}:\n{tail}")
    return done


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        sys.exit(f"{path} missing: run `tests/hosts/testhosts.sh up` first")
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def harness(*args: str) -> None:
    """Start or stop a test host exactly as molecule does (tests/hosts/testhosts.sh)."""
    run([str(HARNESS), *args], timeout=300)


@contextmanager
def test_host(name: str, settings: Settings) -> Iterator[str]:
    """A booted test host that is removed, with its volumes, whatever happens."""
    try:
        harness("start", name, settings.image)
        yield name
    finally:
        harness("stop", name)


def exec_sh(name: str, script: str, *, timeout: float = COMMAND_TIMEOUT_S) -> str:
    return run(["docker", "exec", name, "sh", "-c", script], timeout=timeout).stdout


def installed_count(name: str) -> int:
    return int(exec_sh(name, "dpkg-query -W -f='${db:Status-Abbrev}\\n' | grep -c '^ii'"))


def os_major(name: str) -> int:
    return int(exec_sh(name, ". /etc/os-release && echo ${VERSION_ID%%.*}").strip())


def apt_lists_age_s(image: str) -> float:
    out = run(["docker", "run", "--rm", "--entrypoint", "stat", image, "-c", "%Y",
               "/var/lib/apt/lists"]).stdout
    return time.time() - int(out.strip())


def timed(cmd: list[str], env: dict[str, str] | None, log: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = run(cmd, env=env, check=False)
    elapsed = time.perf_counter() - start
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:4])}... exited {done.returncode} (log: {log}):\n"
                         f"{(done.stdout + done.stderr)[-3000:]}")
    return elapsed, done.stdout


def ansible_env(profile: bool) -> dict[str, str]:
    bin_dir = str(ROOT / ".venv" / "bin")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    if profile:
        env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
    return env


def slowest_tasks(log: Path, count: int = 6) -> list[tuple[str, float]]:
    """profile_tasks' closing lines: `role : Task name ----- 1.23s`."""
    found = re.findall(r"^(\S.*?) -{3,} (\d+\.\d+)s$", log.read_text(), re.MULTILINE)
    return sorted(((name, float(secs)) for name, secs in found), key=lambda t: -t[1])[:count]


def report_profile(log_dir: Path) -> None:
    for label, log in (("converge", "0-role-converge.log"), ("no-op re-run", "0-noop-0.log")):
        if not (log_dir / log).exists():
            continue
        print(f"slowest tasks, {label} (rep 1, profile_tasks):")
        for name, secs in slowest_tasks(log_dir / log):
            print(f"  {secs:6.2f} s  {name}")


def playbook_cmd(name: str, playbook: str, extra: dict[str, object]) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", f"{name},",
            "-c", "community.docker.docker", playbook, "-e", json.dumps(extra)]


def parse_recap(output: str, host: str) -> Recap:
    for match in RECAP.finditer(output):
        if match["host"] == host:
            return Recap(int(match["ok"]), int(match["changed"]), int(match["skipped"]),
                         int(match["failed"]))
    raise BenchError(f"no PLAY RECAP line for {host}")


def bench_role(name: str, settings: Settings, figures: Figures, rep: int) -> None:
    with test_host(name, settings):
        before = installed_count(name)
        env = ansible_env(settings.profile)
        converge_extra: dict[str, object] = (
            {"docker_engine_apt_cache_valid_time": 0} if settings.force_apt_update else {})
        elapsed, _ = timed(playbook_cmd(name, CONVERGE_PLAYBOOK, converge_extra), env,
                           settings.log_dir / f"{rep}-role-converge.log")
        figures.role_s.append(elapsed)
        figures.role_new_packages.append(installed_count(name) - before)
        users = [settings.access_user] if settings.access_user else []
        if users:
            exec_sh(name, f"useradd --create-home {settings.access_user}")
        access_cmd = playbook_cmd(name, ACCESS_PLAYBOOK, {"docker_access_users": users})
        elapsed, _ = timed(access_cmd, env, settings.log_dir / f"{rep}-access-first.log")
        figures.access_first_s.append(elapsed)
        for noop in range(settings.noop_runs):
            elapsed, out = timed(access_cmd, env, settings.log_dir / f"{rep}-noop-{noop}.log")
            figures.noop_s.append(elapsed)
            figures.noop_recaps.append(parse_recap(out, name))


def bench_apt(name: str, settings: Settings, figures: Figures, rep: int) -> None:
    with test_host(name, settings):
        before = installed_count(name)
        packages = "docker.io docker-cli" if os_major(name) >= 13 else "docker.io"
        no_rec = "" if settings.baseline_recommends else " --no-install-recommends"
        figures.apt_command = f"apt-get update && apt-get install -y{no_rec} {packages}"
        script = f"export DEBIAN_FRONTEND=noninteractive; {figures.apt_command}"
        elapsed, _ = timed(["docker", "exec", name, "sh", "-c", script], None,
                           settings.log_dir / f"{rep}-apt.log")
        figures.apt_s.append(elapsed)
        figures.apt_new_packages.append(installed_count(name) - before)
        # Not timed: the bare install must have left a working engine for the ratio to mean much.
        exec_sh(name, "systemctl is-active docker && docker version --format '{{.Server.Version}}'")


def stats(values: list[float]) -> str:
    if not values:
        return f"{0:>4} {'-':>9} {'-':>7} {'-':>7}"
    return (f"{len(values):>4} {statistics.median(values):>9.1f} {min(values):>7.1f} "
            f"{max(values):>7.1f}")


def report(figures: Figures, settings: Settings, lists_age_s: float) -> None:
    mode = "privileged" if settings.privileged else "caps"
    print(f"\nimage {settings.image}, mode {mode}; apt lists in the image are "
          f"{lists_age_s / 60:.0f} min old; role apt refresh: "
          f"{'forced (cache_valid_time 0)' if settings.force_apt_update else 'role default'}")
    print(f"bare install: {figures.apt_command or '-'}")
    print(f"{'figure':<46} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7}  target")
    print(f"{'docker_engine converge (distro)':<46} {stats(figures.role_s)}")
    print(f"{'bare apt-get update + install (docker exec)':<46} {stats(figures.apt_s)}")
    if figures.role_s and figures.apt_s:
        ratio = statistics.median(figures.role_s) / statistics.median(figures.apt_s)
        print(f"{'ratio converge / bare install (medians)':<46} {ratio:>24.2f}x  "
              f"<= {CONVERGE_TARGET}x")
    print(f"{'docker_engine+docker_access, first run':<46} {stats(figures.access_first_s)}")
    print(f"{'no-op re-run (docker_engine+docker_access)':<46} {stats(figures.noop_s)}  "
          f"< {NOOP_TARGET_S:.0f} s")
    for recap in figures.noop_recaps[:1]:
        print(f"{'no-op tasks (ok+skipped)':<46} {recap.tasks:>4}  "
              f"(ok {recap.ok}, skipped {recap.skipped}, failed {recap.failed})")
    changed = sorted({recap.changed for recap in figures.noop_recaps})
    print(f"{'no-op changed (each run)':<46} {','.join(map(str, changed)) or '-':>4}  must be 0")
    print(f"new packages: role {figures.role_new_packages}, bare install "
          f"{figures.apt_new_packages}")
    print(f"per run, s: converge {fmt(figures.role_s)}; bare {fmt(figures.apt_s)}; "
          f"no-op {fmt(figures.noop_s)}")
    if settings.profile:
        report_profile(settings.log_dir)
    print(f"logs: {settings.log_dir}")


def fmt(values: list[float]) -> str:
    return " ".join(f"{v:.1f}" for v in values) or "-"


def image_ref(image: str, repo: str) -> str:
    return image if ":" in image or "/" in image else f"{repo}:{image}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1, help="repetitions (default 1)")
    parser.add_argument("--image", default="debian12",
                        help="debian12, debian13 or a full image reference (default debian12)")
    parser.add_argument("--noop-runs", type=int, default=3,
                        help="no-op re-runs timed per repetition (default 3)")
    parser.add_argument("--access-user", default="benchuser",
                        help="user created beforehand and given to docker_access_users "
                             "('' for docker_access_users: [])")
    parser.add_argument("--role-apt-cache", action="store_true",
                        help="keep the role's cache_valid_time (3600 s) for the timed converge "
                             "instead of forcing an apt update like the bare install does")
    parser.add_argument("--baseline-no-recommends", action="store_true",
                        help="bare install with --no-install-recommends, like the role")
    parser.add_argument("--profile", action="store_true",
                        help="enable ansible.posix.profile_tasks and list the slowest tasks "
                             "(adds a little to the Ansible timings)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    env = read_env_file(ENV_FILE)
    repo = env.get("TESTHOST_IMAGE_REPO", "gpuhost-testhost")
    log_dir = Path(tempfile.mkdtemp(prefix="bench-docker-engine-", dir=ROOT / "artifacts")
                   if (ROOT / "artifacts").is_dir() else tempfile.mkdtemp(prefix="bench-"))
    settings = Settings(
        image=image_ref(args.image, repo),
        network=env.get("TESTHOST_NETWORK", "gpuhost-test"),
        privileged=env.get("TESTHOST_PRIVILEGED", "true").lower() == "true",
        access_user=args.access_user, noop_runs=args.noop_runs,
        force_apt_update=not args.role_apt_cache,
        baseline_recommends=not args.baseline_no_recommends, profile=args.profile,
        log_dir=log_dir,
    )
    # Also when started in the background, where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGHUP, _on_sigterm)
    lists_age = apt_lists_age_s(settings.image)
    figures = Figures()
    prefix = f"bench-docker-engine-{os.getpid()}"
    started = time.perf_counter()
    try:
        for rep in range(args.n):
            sides = [("role", bench_role), ("apt", bench_apt)]
            for side, bench in sides if rep % 2 == 0 else reversed(sides):
                print(f"rep {rep + 1}/{args.n}: {side} ...", file=sys.stderr, flush=True)
                bench(f"{prefix}-{side}-{rep}", settings, figures, rep)
    except KeyboardInterrupt:
        sys.exit("interrupted; test hosts and their volumes removed")
    except BenchError as err:
        print(f"error: {err}", file=sys.stderr)
        report(figures, settings, lists_age)
        sys.exit(1)
    print(f"total wall time {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report(figures, settings, lists_age)


if __name__ == "__main__":
    main()
