"""provision.py argument parsing and input checks: bad input is one line, exit 4, no run.

The runner is replaced by a recording STAND-IN (`no_run`), so nothing reaches Ansible.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib import cli
from provisionlib.exitcodes import MEANING, ExitCode

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "runner"
INVENTORY = str(FIXTURES / "inventory.yml")



def test_every_option_after_the_command(tmp_path: Path) -> None:
    vars_file = tmp_path / "v.json"
    vars_file.write_text('{"b": 2}')
    opts = cli.parse([
        "apply", "-i", INVENTORY, "-l", "local1", "-t", "untagged", "--skip-tags", "slow",
        "-e", "a=1", "-e", f"@{vars_file}", "-e", '{"c": [1]}', "-f", "7", "--json",
        "--report", str(tmp_path / "r.json"), "-vv",
    ])
    spec = opts.spec
    assert opts.command == "apply"
    assert spec.inventory == INVENTORY
    assert spec.limit == "local1"
    assert spec.tags == "untagged"
    assert spec.skip_tags == "slow"
    assert spec.extra_vars == {"a": "1", "b": 2, "c": [1]}
    assert spec.forks == 7
    assert opts.json_only is True
    assert opts.report_path == tmp_path / "r.json"
    assert opts.verbose == 2 and spec.verbosity == 2
    assert spec.playbook == ROOT / "playbooks" / "site.yml"
    assert (spec.check, spec.diff) == (False, False)
    assert opts.hosts == ["local1"]


def test_options_before_the_command_count_too() -> None:
    opts = cli.parse(["-i", INVENTORY, "-l", "ghost", "-f", "3", "verify"])
    assert opts.command == "verify"
    assert opts.spec.limit == "ghost"
    assert opts.spec.forks == 3
    assert opts.spec.playbook == ROOT / "playbooks" / "verify.yml"


def test_defaults() -> None:
    opts = cli.parse(["facts"])
    assert opts.spec.inventory == str(ROOT / "inventory" / "localhost.yml")
    assert opts.spec.playbook == ROOT / "playbooks" / "facts.yml"
    assert opts.spec.limit is None and opts.spec.forks is None
    assert opts.spec.extra_vars == {}
    assert opts.report_path is None and opts.json_only is False
    assert opts.spec.verbosity == 0


def test_plan_is_check_mode_with_diff() -> None:
    spec = cli.parse(["plan", "-i", INVENTORY]).spec
    assert spec.check and spec.diff
    assert spec.playbook == ROOT / "playbooks" / "site.yml"


def test_single_v_is_ours_more_reaches_ansible() -> None:
    assert cli.parse(["apply", "-v"]).spec.verbosity == 0
    assert cli.parse(["apply", "-vvvvvv"]).spec.verbosity == 4


def test_limit_pattern_with_groups() -> None:
    opts = cli.parse(["apply", "-i", str(ROOT / "inventory" / "example"), "-l", "gpu:!jetson"])
    assert sorted(opts.hosts) == ["gpu-node-01", "gpu-node-02"]


BAD_INPUTS = {
    "missing inventory": (["apply", "-i", "/nonexistent/inv.yml"], "inventory /nonexistent"),
    "unknown command": (["deploy"], "invalid choice: 'deploy'"),
    "no command": ([], "missing command"),
    "unknown option": (["apply", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    "malformed -e": (["apply", "-e", "novalue"], "-e 'novalue'"),
    "broken JSON -e": (["apply", "-e", '{"a": '], "not valid JSON"),
    "unreadable @file": (["apply", "-e", "@/nonexistent/vars.yml"], "-e @/nonexistent/vars.yml"),
    "limit matches nothing": (["apply", "-i", INVENTORY, "-l", "nosuchhost"],
                              "--limit 'nosuchhost' matches no host"),
    "zero forks": (["apply", "-f", "0"], "must be 1 or more"),
    "forks not a number": (["apply", "-f", "many"], "not a whole number"),
    "report is a directory": (["apply", "--report", "/tmp"], "--report /tmp: is a directory"),
}


@pytest.mark.parametrize("argv,expected", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_one_line_and_runs_nothing(
    argv: list[str], expected: str, no_run: list, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == ExitCode.INVALID_INPUT
    assert no_run == []
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert lines[0].startswith("provision.py: error: ")


def test_unparsable_inventory_with_limit_is_one_line(
    tmp_path: Path, no_run: list, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "inv.yml"
    bad.write_text("- just\n- a list\n")
    code = cli.main(["apply", "-i", str(bad), "-l", "x"])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID_INPUT and no_run == []
    assert len(err.strip().splitlines()) == 1
    assert "cannot be parsed" in err and "ansible-inventory" in err


def test_good_input_reaches_the_runner(
    no_run: list, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["apply", "-i", INVENTORY, "-l", "local1", "--report",
                     str(tmp_path / "r.json")])
    assert len(no_run) == 1
    spec = no_run[0][0][0]
    assert spec.limit == "local1"
    # The fake runner produced no events: a "successful" run that touched nobody.
    assert code == ExitCode.OK
    assert (tmp_path / "r.json").is_file()


def test_exit_code_is_the_one_the_report_decided(
    no_run: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The CLI keeps no verdict of its own: whatever the report says is the exit code."""
    real = cli.build_report

    def unreachable(**kwargs: Any) -> dict[str, Any]:
        report = real(**kwargs)
        report["exit_code"], report["status"] = int(ExitCode.UNREACHABLE), "unreachable"
        return report

    monkeypatch.setattr(cli, "build_report", unreachable)
    code = cli.main(["apply", "-i", INVENTORY, "--report", str(tmp_path / "r.json")])
    assert code == ExitCode.UNREACHABLE
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == ExitCode.UNREACHABLE


def test_runner_error_is_exit_1_with_the_log_tail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def failed(*args: object, **kwargs: object) -> cli.RunOutcome:
        return cli.RunOutcome("failed", 4, log_tail="ERROR! the playbook could not be parsed")

    monkeypatch.setattr(cli, "run_playbook", failed)
    monkeypatch.setattr(cli, "artifacts_dir", lambda: tmp_path / "artifacts")
    code = cli.main(["apply", "-i", INVENTORY, "--report", str(tmp_path / "r.json")])
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == report["exit_code"] == ExitCode.ERROR
    assert report["message"] == "ERROR! the playbook could not be parsed"
    assert "could not be parsed" in capsys.readouterr().err


def test_help_documents_exit_codes() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "provision.py"), "--help"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for code, text in MEANING.items():  # every code, with its one written meaning
        assert f"\n  {int(code):<4} {text}\n" in done.stdout


def test_script_exit_code_for_bad_input() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "provision.py"), "apply", "-i", "/nope"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 4
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
