"""Wall time of `provision.py apply` against plain `ansible-playbook` for the same no-op play.

    .venv/bin/python bench/runner_overhead.py [-n 10] [-i inventory/localhost.yml]

provision.py's apply path runs unchanged except that its playbook is bench/noop.yml instead
of playbooks/site.yml, so the difference is what the wrapper adds: interpreter start-up,
input checks (inventory, --limit), ansible-runner, event handling and the report. Runs
alternate between the two so drift on the machine hits both. Prints figures; never asserts
(target: overhead under 10%).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOOP = "bench/noop.yml"
WRAPPED = (
    "import sys; sys.path.insert(0, {root!r}); import provisionlib.cli as c; "
    "c.PLAYBOOKS['apply'] = {noop!r}; sys.exit(c.main(sys.argv[1:]))"
)


def commands(inventory: str, limit: str | None) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    extra = ["-l", limit] if limit else []
    return {
        "ansible-playbook": [str(bin_dir / "ansible-playbook"), "-i", inventory, NOOP, *extra],
        "provision.py apply": [
            sys.executable, "-c", WRAPPED.format(root=str(ROOT), noop=NOOP),
            "apply", "-i", inventory, "--report", str(ROOT / "artifacts" / "bench-report.json"),
            *extra,
        ],
    }


def time_once(cmd: list[str]) -> float:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{cmd[0]} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="repetitions of each (default 10)")
    parser.add_argument("-i", "--inventory", default="inventory/localhost.yml")
    parser.add_argument("-l", "--limit", default=None, help="also pass --limit to both")
    args = parser.parse_args()
    cmds = commands(args.inventory, args.limit)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for cmd in cmds.values():  # warm-up: page cache, .pyc files
        time_once(cmd)
    for _ in range(args.n):
        for name, cmd in cmds.items():
            times[name].append(time_once(cmd))
    base = statistics.mean(times["ansible-playbook"])
    base_median = statistics.median(times["ansible-playbook"])
    print(f"{'command':<20} {'n':>3} {'mean s':>8} {'median s':>9} {'stdev s':>8}")
    for name, values in times.items():
        print(f"{name:<20} {len(values):>3} {statistics.mean(values):>8.3f} "
              f"{statistics.median(values):>9.3f} {statistics.stdev(values):>8.3f}")
    wrapped = times["provision.py apply"]
    print(f"overhead: mean {100 * (statistics.mean(wrapped) / base - 1):+.1f}%, "
          f"median {100 * (statistics.median(wrapped) / base_median - 1):+.1f}% "
          f"(target: under 10%); absolute: {statistics.median(wrapped) - base_median:+.3f} s "
          "per run (median)")


if __name__ == "__main__":
    main()
