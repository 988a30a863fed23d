"""Report and tables from recorded ansible-runner event streams (tests/fixtures/runner/).

apply.json / plan.json are real events from tests/fixtures/runner/record.py: one local host
(fact with a warning, a diff, a changed loop, a skip, check results, a failure) and one
unreachable host.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # provisionlib

from provisionlib import table
from provisionlib.events import RunState, diff_text, message_of
from provisionlib.exitcodes import STATUS, ExitCode
from provisionlib.report import SCHEMA, build_report, html_path_for, write_html, write_json
from provisionlib.runner import RunOutcome

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runner"
START = datetime(2026, 11, 29, 4, 30, tzinfo=timezone.utc)


def events(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def state_of(stream: list[dict[str, Any]]) -> RunState:
    state = RunState()
    for event in stream:
        state.feed(event)
    return state


def report_of(stream: list[dict[str, Any]], command: str = "apply",
              expected: list[str] | None = None, outcome: RunOutcome | None = None,
              interrupted: bool = False, message: str | None = None) -> dict[str, Any]:
    meta = {"command": command, "playbook": "playbooks/site.yml", "inventory": "inv.yml",
            "limit": None, "artifacts_dir": "/tmp/a", "message": message}
    return build_report(meta=meta, state=state_of(stream), expected_hosts=expected or [],
                        started=START, finished=START + timedelta(seconds=42.5),
                        outcome=outcome or RunOutcome("successful", 0),
                        interrupted=interrupted)


def _unreachable(host: str) -> dict[str, Any]:
    return {"event": "runner_on_unreachable", "event_data": {
        "host": host, "task": "Collect host facts", "res": {"msg": "Connection refused"}}}


# The report decides its exit code; these mirror test_exit_codes.test_decide through the
# report, from recorded events (apply.json: local1 failed a task, ghost was unreachable;
# plan.json's local1 events: nothing failed).
REPORT_CODES = {
    "clean run": ("local1 only", "successful", False, ExitCode.OK),
    "failed beats unreachable": ("apply", "failed", False, ExitCode.FAILED),
    "only unreachable": ("unreachable", "failed", False, ExitCode.UNREACHABLE),
    "runner failed, no host did": ("none", "failed", False, ExitCode.ERROR),
    "runner canceled": ("apply", "canceled", False, ExitCode.INTERRUPTED),
    "user interrupted": ("apply", "failed", True, ExitCode.INTERRUPTED),
}


@pytest.mark.parametrize(("stream", "runner", "interrupted", "code"), REPORT_CODES.values(),
                         ids=REPORT_CODES.keys())
def test_report_decides_its_exit_code(stream: str, runner: str, interrupted: bool,
                                      code: ExitCode) -> None:
    local1 = [e for e in events("plan") if e["event_data"].get("host") == "local1"]
    recorded = {"local1 only": local1, "apply": events("apply"),
                "unreachable": [_unreachable("ghost")], "none": []}[stream]
    report = report_of(recorded, outcome=RunOutcome(runner, 2), interrupted=interrupted)
    assert (report["exit_code"], report["status"]) == (int(code), STATUS[code])


def test_errored_report_says_why() -> None:
    tail = "ERROR! couldn't resolve module/action 'no_such_module'"
    report = report_of([], outcome=RunOutcome("failed", 4, log_tail=tail))
    assert report["exit_code"] == ExitCode.ERROR and report["message"] == tail
    bare = report_of([], outcome=RunOutcome("timeout", None))
    assert bare["message"] == "ansible-runner status timeout, rc None"
    crash = report_of([], outcome=RunOutcome("error", None, log_tail=tail),
                      message="RuntimeError: boom")
    assert crash["message"] == "RuntimeError: boom"


def test_message_only_where_given_or_errored() -> None:
    assert report_of(events("apply"), outcome=RunOutcome("failed", 2, "tail"))["message"] is None


def test_stats_match_ansible_recap() -> None:
    stream = events("apply")
    recap = next(e for e in stream if e["event"] == "playbook_on_stats")["event_data"]
    hosts = report_of(stream)["hosts"]
    assert set(hosts) == {"local1", "ghost"}
    for name, host in hosts.items():
        assert host["stats"] == {
            "ok": recap["ok"].get(name, 0), "changed": recap["changed"].get(name, 0),
            "failed": recap["failures"].get(name, 0), "skipped": recap["skipped"].get(name, 0),
            "unreachable": recap["dark"].get(name, 0)}


def test_live_counts_agree_with_recap_before_it_arrives() -> None:
    stream = events("apply")
    before = state_of([e for e in stream if e["event"] != "playbook_on_stats"])
    after = state_of(stream)
    assert not before.final_stats and after.final_stats
    for name in after.hosts:
        assert before.hosts[name].stats == after.hosts[name].stats


def test_apply_report_content() -> None:
    local = report_of(events("apply"))["hosts"]["local1"]
    assert local["facts"]["kind"] == "cpu"
    assert local["facts"]["os"]["codename"] == "bookworm"
    assert local["warnings"] == [
        "fixture warning: nothing is wrong, this checks that warnings are captured"]
    assert [c["name"] for c in local["checks"]] == ["docker_running", "gpu_container"]
    assert local["checks"][0] == {
        "name": "docker_running", "status": "pass", "reason": "docker.service is active",
        "evidence": {"command": "systemctl is-active docker", "output": "active"}}
    assert local["failures"] == [{"task": "Fail on purpose", "message": "non-zero return code"}]
    tasks = [c["task"] for c in local["changes"]]
    assert tasks == ["Write a file with a diff", "Change one loop item"]


def test_unreachable_host_failure_message() -> None:
    ghost = report_of(events("apply"))["hosts"]["ghost"]
    assert ghost["stats"]["unreachable"] == 1
    assert ghost["facts"] == {} and ghost["checks"] == []
    assert ghost["failures"][0]["task"] == "Collect host facts"
    assert "Connection refused" in ghost["failures"][0]["message"]


def test_plan_changes_carry_diff_and_items() -> None:
    changes = report_of(events("plan"), "plan")["hosts"]["local1"]["changes"]
    by_task = {c["task"]: c for c in changes}
    write = by_task["Write a file with a diff"]
    assert "+recorded" in write["diff"] and "out-local1.txt" in write["diff"]
    loop = by_task["Change one loop item"]
    assert loop["items"] == ["a", "b"]
    assert "+a" in loop["diff"] and "+b" in loop["diff"]


def test_report_top_level_shape() -> None:
    report = report_of(events("plan"), "plan", expected=["never-started"])
    assert list(report) == [
        "schema", "command", "playbook", "inventory", "limit", "started", "finished",
        "duration_s", "exit_code", "status", "message", "artifacts_dir", "hosts"]
    assert report["schema"] == SCHEMA == 1
    assert report["duration_s"] == 42.5
    assert report["started"] == "2026-11-29T04:30:00+00:00"
    assert list(report["hosts"]) == ["ghost", "local1", "never-started"]
    for host in report["hosts"].values():
        assert set(host) == {"stats", "facts", "checks", "failures", "changes", "warnings"}
    assert report["hosts"]["never-started"]["stats"] == dict.fromkeys(
        ("ok", "changed", "failed", "skipped", "unreachable"), 0)


def test_write_json_round_trip(tmp_path: Path) -> None:
    report = report_of(events("apply"))
    path = tmp_path / "deep" / "report.json"
    write_json(report, path)
    assert json.loads(path.read_text()) == report
    assert not list(path.parent.glob("*.tmp"))


def test_write_html_renders_the_report(tmp_path: Path) -> None:
    path = write_html(report_of(events("apply")), tmp_path / "r.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "local1" in page and "ghost" in page


@pytest.mark.parametrize(("given", "html"), [
    ("out/report.json", "out/report.html"),
    ("v.json", "v.html"),
    # A --report path ending in .html must not be overwritten by the HTML view.
    ("out.html", "out.report.html"),
])
def test_html_goes_beside_the_json_never_over_it(given: str, html: str) -> None:
    assert html_path_for(Path(given)) == Path(html)


def test_hosts_table_text() -> None:
    text = table.hosts_table(report_of(events("apply")))
    lines = text.splitlines()
    assert lines[0].split() == ["HOST", "KIND", "OS", "OK", "CHANGED", "FAILED", "UNREACH",
                                "FAILED", "TASK:", "MESSAGE"]
    ghost = next(line for line in lines if line.startswith("ghost"))
    local = next(line for line in lines if line.startswith("local1"))
    assert ghost.split()[1:7] == ["-", "-", "0", "0", "0", "1"]
    assert "Collect host facts: Task failed" in ghost
    assert local.split()[1:8] == ["cpu", "debian", "12", "(bookworm)", "4", "2", "1"]
    assert "Fail on purpose: non-zero return code" in local
    assert "\x1b[" not in text


def test_hosts_table_colour_only_when_asked() -> None:
    report = report_of(events("apply"))
    assert "\x1b[31m" in table.hosts_table(report, colour=True)


def test_facts_tables() -> None:
    text = table.facts_tables(report_of(events("apply"), "facts"))
    assert "ghost: no facts" in text
    assert "summary  Debian 12 (bookworm) x86_64, no GPU, docker absent" in text
    assert "os       id=debian version=12 codename=bookworm" in text
    assert "gpus     none" in text


def test_plan_summary() -> None:
    text = table.plan_summary(report_of(events("plan"), "plan"))
    assert "local1: 2 task(s) would change" in text
    assert "  ~ Change one loop item (items: a, b)" in text
    assert "ghost: no changes" in text
    assert "+recorded" not in text
    assert "+recorded" in table.plan_summary(report_of(events("plan"), "plan"), show_diff=True)


def test_check_matrix() -> None:
    report = report_of(events("apply"), "verify")
    text = table.check_matrix(report)
    header, _, *rows = text.splitlines()
    assert header.split() == ["HOST", "docker_running", "gpu_container"]
    assert rows[0].split() == ["ghost", "-", "-"]
    assert rows[1].split() == ["local1", "PASS", "SKIP"]
    assert "failed checks" not in text


def test_check_matrix_lists_failed_checks_in_colour() -> None:
    report = report_of(events("apply"), "verify")
    report["hosts"]["ghost"]["checks"] = [
        {"name": "gpu_container", "status": "fail", "reason": "no nvidia runtime",
         "evidence": {}}]
    text = table.check_matrix(report, colour=True)
    assert "\x1b[31mFAIL" in text and "\x1b[32mPASS" in text
    assert "ghost: gpu_container: no nvidia runtime" in text


def test_matrix_without_checks() -> None:
    stream = [e for e in events("plan")
              if e["event_data"].get("task") != "Publish check results"]
    assert "no checks reported" in table.check_matrix(report_of(stream, "verify"))


def test_message_of_prefers_msg_and_stderr() -> None:
    assert message_of({"msg": "non-zero return code", "stderr": "a\nE: Unable to locate"}) == (
        "non-zero return code: E: Unable to locate")
    assert message_of({}) == "failed (no message)"
    assert message_of({"results": [{"failed": True, "msg": "x"}, {"msg": "ok"}]}) == "x"
    long = "HEAD " + "y" * 9000 + " TAIL"
    kept = message_of({"msg": long})
    assert len(kept) <= 4000 and kept.startswith("HEAD ") and kept.endswith(" TAIL")
    assert "characters left out" in kept
    assert message_of({"msg": "z" * 3000}) == "z" * 3000


def test_message_of_gives_each_failed_item_instead_of_the_loop_summary() -> None:
    res = {"msg": "One or more items failed", "results": [
        {"failed": True, "msg": "'Bad User' is not a valid user name", "item": "Bad User"},
        {"failed": False, "msg": "ok", "item": "alice"},
        {"failed": True, "msg": "proxy must be a URL", "_ansible_item_label": "http"}]}
    assert message_of(res) == ("Bad User: 'Bad User' is not a valid user name; "
                               "http: proxy must be a URL")


def test_failures_in_full_keeps_what_the_table_clipped() -> None:
    reason = "dockerd: unable to configure the Docker daemon with file daemon.json: " + (
        "x" * 600) + " the following directives don't match any configuration option: bogus"
    report = {"hosts": {
        "h1": {"failures": [{"task": "Configure daemon.json", "message": reason}],
               "checks": [{"name": "engine", "status": "fail", "reason": reason}]},
        "h2": {"failures": [{"task": "t", "message": "short"}], "checks": []}}}
    text = table.failures_in_full(report)
    assert text.startswith("failures in full:")
    assert f"h1: Configure daemon.json: {reason}" in text
    assert f"h1: check engine: {reason}" in text
    assert "h2" not in text
    assert table.failures_in_full({"hosts": {"h2": report["hosts"]["h2"]}}) == ""


def test_diff_text_forms() -> None:
    assert diff_text({"prepared": "--- a\n+++ b"}) == "--- a\n+++ b\n"
    text = diff_text({"before": {"a": 1}, "after": {"a": 2}, "before_header": "x"})
    assert "-  \"a\": 1" in text and "+  \"a\": 2" in text and "--- x" in text
    assert diff_text({"before": "same\n", "after": "same\n"}) == ""
    assert diff_text("nonsense") == ""


def test_ignored_failure_is_not_a_failure() -> None:
    state = RunState()
    state.feed({"event": "runner_on_failed",
                "event_data": {"host": "h", "task": "t", "ignore_errors": True,
                               "res": {"msg": "boom"}}})
    assert state.hosts["h"].failures == []
    assert state.hosts["h"].stats["failed"] == 0


def test_bad_check_status_counts_as_fail() -> None:
    state = RunState()
    state.feed({"event": "runner_on_ok", "event_data": {
        "host": "h", "task": "t",
        "res": {"ansible_facts": {"gpu_verify_results": [{"name": "x", "status": "weird"}]}}}})
    assert state.hosts["h"].checks == [
        {"name": "x", "status": "fail", "reason": "", "evidence": {}}]


def _ok_event(res: dict[str, Any]) -> dict[str, Any]:
    return {"event": "runner_on_ok", "event_data": {"host": "h1", "task": "t", "res": res}}


def test_role_warning_facts_reach_the_report() -> None:
    state = state_of([_ok_event({"ansible_facts": {
        "docker_access_warnings": ["socket mode 0666 lets every local user run as root"],
        "unrelated_list": ["not a warning"],
    }})])
    assert state.host("h1").warnings == ["socket mode 0666 lets every local user run as root"]


def test_check_diagnosis_and_fix_are_kept() -> None:
    check = {"name": "gpu", "status": "fail", "reason": "docker run failed",
             "diagnosis": "toolkit missing", "fix": "install it and restart Docker"}
    state = state_of([_ok_event({"ansible_facts": {"gpu_verify_results": [check]}})])
    kept = state.host("h1").checks[0]
    assert (kept["diagnosis"], kept["fix"]) == ("toolkit missing", "install it and restart Docker")


def test_hosts_table_names_the_failure_that_stopped_the_host() -> None:
    """A rescued failure comes first; the table must show the one that ended the host."""
    rescued = {"event": "runner_on_failed", "event_data": {
        "host": "h1", "task": "Download the convenience script", "res": {"msg": "DNS error"}}}
    final = {"event": "runner_on_failed", "event_data": {
        "host": "h1", "task": "Explain why", "res": {"msg": "use a mirror"}}}
    report = report_of([rescued, final])
    row = next(line for line in table.hosts_table(report).splitlines() if line.startswith("h1"))
    assert "Explain why: use a mirror" in row
