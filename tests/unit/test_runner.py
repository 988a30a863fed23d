"""ansible-runner wiring: arguments and environment (unit), then real runs on this machine.

The real runs use local connections only (no SSH, no network) against small playbooks in
tests/fixtures/runner/ that stand in for site.yml; their facts come from
tests/fixtures/runner/library/fixture_warn.py, a STAND-IN for host_facts (it also emits a
warning). The unreachable host there is a closed port on loopback. Only
test_real_facts_on_this_machine runs the real host_facts role.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib.runner import PROJECT_DIR, RunSpec, cmdline, environment, runner_kwargs

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "runner"
# provision.py's own code path, with the command's playbook swapped for a fixture.
WRAPPED = ("import sys; sys.path.insert(0, {root!r}); import provisionlib.cli as c; "
           "c.PLAYBOOKS[{cmd!r}] = {playbook!r}; sys.exit(c.main(sys.argv[1:]))")


def test_environment_puts_this_venv_first_and_the_project_config() -> None:
    env = environment()
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["ANSIBLE_CONFIG"] == str(ROOT / "ansible.cfg")
    assert env["ANSIBLE_INVENTORY_UNPARSED_FAILED"] == "1"


def test_cmdline() -> None:
    spec = RunSpec(playbook=Path("p.yml"), inventory="i")
    assert cmdline(spec, None) == ""
    spec.check = spec.diff = True
    assert cmdline(spec, Path("/t/x y.json")) == "--check --diff -e '@/t/x y.json'"


def test_runner_kwargs_minimal(tmp_path: Path) -> None:
    kwargs = runner_kwargs(RunSpec(playbook=ROOT / "p.yml", inventory="/i.yml"), tmp_path)
    assert kwargs["project_dir"] == str(PROJECT_DIR) == str(ROOT)
    assert kwargs["private_data_dir"] == str(tmp_path)
    assert kwargs["suppress_env_files"] is True and kwargs["quiet"] is True
    assert kwargs["playbook"] == str(ROOT / "p.yml") and kwargs["inventory"] == "/i.yml"
    for absent in ("limit", "tags", "skip_tags", "forks", "verbosity", "cmdline"):
        assert absent not in kwargs
    assert not (tmp_path / "extra_vars.json").exists()


def test_runner_kwargs_full(tmp_path: Path) -> None:
    spec = RunSpec(playbook=ROOT / "p.yml", inventory="/i.yml", limit="gpu", tags="a,b",
                   skip_tags="c", extra_vars={"x": [1], "y": "z"}, forks=5, verbosity=3,
                   check=True, diff=True)
    kwargs = runner_kwargs(spec, tmp_path)
    assert (kwargs["limit"], kwargs["tags"], kwargs["skip_tags"]) == ("gpu", "a,b", "c")
    assert (kwargs["forks"], kwargs["verbosity"]) == (5, 3)
    vars_file = tmp_path / "extra_vars.json"
    assert kwargs["cmdline"] == f"--check --diff -e @{vars_file}"
    assert json.loads(vars_file.read_text()) == {"x": [1], "y": "z"}
    assert vars_file.stat().st_mode & 0o777 == 0o600  # may hold secrets


def provision(cmd: str, playbook: str, *args: str, **popen: Any) -> subprocess.Popen:
    code = WRAPPED.format(root=str(ROOT), cmd=cmd, playbook=playbook)
    env = dict(os.environ, ANSIBLE_LIBRARY=str(FIXTURES / "library"))
    env.pop("NO_COLOR", None)
    return subprocess.Popen([sys.executable, "-c", code, cmd, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_real_apply_with_a_failed_and_an_unreachable_host(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    proc = provision("apply", "tests/fixtures/runner/playbook.yml",
                     "-i", str(FIXTURES / "inventory.yml"), "-e", f"fixture_dir={tmp_path}",
                     "--report", str(report_path))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    report = json.loads(report_path.read_text())
    assert report["exit_code"] == 2 and report["status"] == "failed"
    local, ghost = report["hosts"]["local1"], report["hosts"]["ghost"]
    assert local["stats"]["changed"] == 2 and local["stats"]["failed"] == 1
    assert local["facts"]["kind"] == "cpu"
    assert (tmp_path / "out-local1.txt").read_text() == "recorded\n"
    assert ghost["stats"]["unreachable"] == 1
    # Non-terminal progress: plays, tasks, changes and failures, but no plain ok lines.
    assert "PLAY Recorded play" in err and "TASK Write a file with a diff" in err
    assert "changed local1" in err and "FAILED local1" in err and "UNREACHABLE ghost" in err
    assert " ok local1" not in err
    assert out.splitlines()[0].split()[:3] == ["HOST", "KIND", "OS"]
    log = Path(report["artifacts_dir"]) / "ansible.log"
    assert "PLAY RECAP" in log.read_text()


def test_real_plan_changes_nothing(tmp_path: Path) -> None:
    proc = provision("plan", "tests/fixtures/runner/playbook.yml",
                     "-i", str(FIXTURES / "local.yml"), "-e", f"fixture_dir={tmp_path}",
                     "--json")
    out, err = proc.communicate(timeout=120)
    report = json.loads(out)  # --json: stdout is the report and nothing else
    assert report["command"] == "plan"
    changes = [c["task"] for c in report["hosts"]["local1"]["changes"]]
    assert changes == ["Write a file with a diff", "Change one loop item"]
    assert list(tmp_path.iterdir()) == []  # check mode wrote nothing
    # In check mode the command task is skipped, so nothing failed.
    assert proc.returncode == 0, err


def test_ctrl_c_stops_the_run_and_writes_a_partial_report(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    proc = provision("apply", "tests/fixtures/runner/sleep.yml",
                     "-i", str(FIXTURES / "local.yml"), "--report", str(report_path))
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    for line in proc.stderr:  # wait until the long task runs
        if "TASK Long task" in line or time.monotonic() > deadline:
            break
    time.sleep(0.5)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    # Generous bounds: test.sh runs this tier on other interpreters at nice 19 beside the
    # molecule tier; what is tested is that the run stops, not after the 600 s of the sleep.
    proc.communicate(timeout=150)
    assert proc.returncode == 130
    assert time.monotonic() - started < 120
    report = json.loads(report_path.read_text())
    assert report["status"] == "interrupted" and report["exit_code"] == 130
    assert report["hosts"]["local1"]["stats"]["ok"] == 1
    assert report["hosts"]["local1"]["facts"]["summary"] == "interruptible"


def test_ansible_error_is_exit_1_with_its_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("- name: Broken\n  hosts: all\n  tasks:\n    - no_such_module: {}\n")
    proc = provision("apply", str(broken), "-i", str(FIXTURES / "local.yml"),
                     "--report", str(tmp_path / "r.json"))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "error" and "no_such_module" in report["message"]
    assert "no_such_module" in err


def _has_nvidia_gpu() -> bool:
    """What the machine's own sysfs says: an NVIDIA (10de) display or 3D controller."""
    for dev in Path("/sys/bus/pci/devices").glob("*"):
        try:
            vendor = (dev / "vendor").read_text().strip()
            klass = (dev / "class").read_text().strip()
        except OSError:
            continue
        if vendor == "0x10de" and klass[:6] in ("0x0300", "0x0302"):
            return True
    return False


def test_real_facts_on_this_machine() -> None:
    """provision.py facts against localhost: read-only, so safe to run on the test machine."""
    done = subprocess.run([sys.executable, str(ROOT / "provision.py"), "facts", "--json"],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=180)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)["hosts"]["localhost"]["facts"]
    os_release = dict(
        line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines()
        if "=" in line)
    assert facts["os"]["id"] == os_release["ID"].strip('"')
    assert facts["kind"] in ("dgpu", "jetson", "cpu")
    if not _has_nvidia_gpu():
        # The CI and dev machines have no GPU: the fact must say so, cleanly.
        assert facts["gpus"] == []
        assert "no NVIDIA GPU (PCI 10de, class 0300/0302)" in facts["summary"]
    else:
        assert facts["kind"] == "dgpu" and facts["gpus"]
