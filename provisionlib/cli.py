"""Command line: parse, check the input, run one playbook, print and write the report."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from provisionlib import table
from provisionlib.events import RunState
from provisionlib.exitcodes import EPILOG, ExitCode, InputError
from provisionlib.extravars import parse_extra_vars
from provisionlib.inventory import check_limit, resolve_source
from provisionlib.progress import make_progress
from provisionlib.report import build_report, html_path_for, write_html, write_json
from provisionlib.runner import PROJECT_DIR, RunOutcome, RunSpec, run_playbook
from provisionlib.selection import check_tags

PROG = "provision.py"
DEFAULT_INVENTORY = "inventory/localhost.yml"
PLAYBOOKS = {
    "facts": "playbooks/facts.yml",
    "plan": "playbooks/site.yml",
    "apply": "playbooks/site.yml",
    "verify": "playbooks/verify.yml",
}
HELP = {
    "facts": "collect host facts only and print a table per host",
    "plan": "dry run of site.yml (check mode + diff): what would change, per host",
    "apply": "run site.yml: provision the hosts",
    "verify": "run the verification checks and print a hosts x checks matrix",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 4 (not 2)."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{message} (see {PROG} --help)")


def _add_options(parser: argparse.ArgumentParser, nested: bool) -> None:
    # Options are accepted before and after the subcommand; SUPPRESS keeps the subcommand's
    # unset options from hiding values given before it.
    def default(value: object) -> object:
        return argparse.SUPPRESS if nested else value

    add = parser.add_argument
    add("-i", "--inventory", default=default(None), metavar="PATH",
        help=f"inventory file or directory (default: {DEFAULT_INVENTORY})")
    add("-l", "--limit", default=default(None), metavar="PATTERN",
        help="only hosts matching this Ansible pattern (checked before running)")
    add("-t", "--tags", default=default(None), help="only tasks with these tags (comma list)")
    add("--skip-tags", default=default(None), help="skip tasks with these tags (comma list)")
    add("-e", "--extra-vars", action="append", default=default(None), metavar="VARS",
        help="key=value, @file.yml/json or a JSON object; repeatable, later wins")
    add("-f", "--forks", type=_positive_int, default=default(None), metavar="N",
        help="parallel hosts (default from ansible.cfg)")
    add("--json", action="store_true", default=default(False),
        help="print only the report JSON on stdout")
    add("--report", default=default(None), metavar="PATH",
        help="where to write the JSON report (default: artifacts/<timestamp>/report.json)")
    add("-v", "--verbose", action="count", default=default(0),
        help="more detail: every result line, diffs in plan, Ansible verbosity (-vvv)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Provision GPU container hosts with Ansible: facts | plan | apply | verify.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_options(parser, nested=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, text in HELP.items():
        child = sub.add_parser(name, help=text, description=text, epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_options(child, nested=True)
    return parser


@dataclass
class Options:
    """Checked input: everything needed to run, nothing left to validate."""

    command: str
    spec: RunSpec
    hosts: list[str]
    report_path: Path | None
    json_only: bool
    verbose: int


def parse(argv: list[str] | None = None) -> Options:
    """Parse and check everything; InputError (one line) on any bad input, before any run."""
    args = build_parser().parse_args(argv)
    if not args.command:
        raise InputError(f"missing command: choose one of {', '.join(PLAYBOOKS)} "
                         f"(see {PROG} --help)")
    extra_vars = parse_extra_vars(args.extra_vars or [])
    inventory = resolve_source(args.inventory or str(PROJECT_DIR / DEFAULT_INVENTORY))
    report_path = _report_path(args.report)
    hosts = check_limit(inventory, args.limit)
    spec = RunSpec(
        playbook=PROJECT_DIR / PLAYBOOKS[args.command],
        inventory=inventory,
        limit=args.limit,
        tags=args.tags,
        skip_tags=args.skip_tags,
        extra_vars=extra_vars,
        forks=args.forks,
        verbosity=min(args.verbose, 4) if args.verbose > 1 else 0,
        check=args.command == "plan",
        diff=args.command == "plan",
    )
    if spec.playbook.is_file():  # a missing playbook is execute()'s error (exit 1)
        check_tags(spec.playbook, inventory, args.limit, args.tags, args.skip_tags, extra_vars)
    return Options(args.command, spec, hosts, report_path, args.json, args.verbose)


def _report_path(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser().resolve()
    if path.is_dir():
        raise InputError(f"--report {value}: is a directory; give a file path such as "
                         f"{value.rstrip('/')}/report.json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--report {value}: cannot create {path.parent} ({exc.strerror}); "
                         "pick a writable place") from exc
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"--report {value}: {path.parent} is not writable; pick another path")
    return path


def artifacts_dir(root: Path | None = None) -> Path:
    """A new artifacts/<UTC timestamp>[-n] folder."""
    base = (root or PROJECT_DIR) / "artifacts"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        path = base / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a fresh artifacts folder under {base}")


class Interrupt:
    """First Ctrl-C (or SIGTERM) asks ansible-runner to stop; a second one raises."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def is_set(self) -> bool:
        return self.event.is_set()

    def handle(self, signum: int, frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        sys.stderr.write("\ninterrupted: stopping Ansible, writing a partial report\n")


@contextmanager
def _signals(interrupt: Interrupt) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.signal(s, interrupt.handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


def execute(opts: Options) -> int:
    """Run the playbook, then print and write the report; returns the exit code."""
    playbook = opts.spec.playbook
    if not playbook.is_file():
        print(f"{PROG}: {_shown(playbook)} is missing from the project; "
              "restore it (git status) before running", file=sys.stderr)
        return ExitCode.ERROR
    out_dir = artifacts_dir()
    state = RunState()
    progress = make_progress(sys.stderr, opts.verbose)
    interrupt = Interrupt()

    def on_event(event: dict[str, Any]) -> None:
        state.feed(event)
        progress.show(event, state)

    started = datetime.now(timezone.utc)
    message = None
    with _signals(interrupt):
        try:
            outcome = run_playbook(opts.spec, on_event, interrupt.is_set, out_dir / "ansible.log")
        except KeyboardInterrupt:
            outcome = RunOutcome("canceled", None)
        except Exception as exc:  # a crash still gets a report
            outcome = RunOutcome("error", None)
            message = f"{type(exc).__name__}: {exc}"
        finally:
            progress.close()
    meta = {
        "command": opts.command,
        "playbook": _shown(playbook),
        "inventory": opts.spec.inventory,
        "limit": opts.spec.limit,
        "artifacts_dir": str(out_dir),
        "message": message,
    }
    report = build_report(meta=meta, state=state, expected_hosts=opts.hosts, started=started,
                          finished=datetime.now(timezone.utc), outcome=outcome,
                          interrupted=interrupt.is_set())
    return _finish(opts, report, out_dir)


def _shown(path: Path) -> str:
    """A project path relative to the project root (absolute when outside it)."""
    try:
        return str(path.relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def _finish(opts: Options, report: dict[str, Any], out_dir: Path) -> int:
    """Write and print the report; the exit code is the one the report decided."""
    report_path = opts.report_path or out_dir / "report.json"
    write_json(report, report_path)
    html = None
    if opts.command == "verify":
        try:
            html = write_html(report, html_path_for(report_path))
        except Exception as exc:  # the HTML view is optional; the JSON stays authoritative
            print(f"{PROG}: report.html not written: {exc}", file=sys.stderr)
    if opts.json_only:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(render(opts, report, colour=_colour(sys.stdout)))
        print(f"\nreport: {report_path}" + (f"\nhtml:   {html}" if html else ""))
    code = int(report["exit_code"])
    if code == ExitCode.ERROR and report.get("message"):
        print(f"{PROG}: error:\n{report['message']}", file=sys.stderr)
    return code


def _colour(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def render(opts: Options, report: dict[str, Any], colour: bool = False) -> str:
    """The human summary for a command: its own section, then the host table."""
    sections = []
    if opts.command == "facts":
        sections.append(table.facts_tables(report))
    elif opts.command == "plan":
        sections.append(table.plan_summary(report, show_diff=opts.verbose > 0))
    elif opts.command == "verify":
        sections.append(table.check_matrix(report, colour))
    sections.append(table.hosts_table(report, colour))
    sections.append(table.failures_in_full(report))
    summary = f"{opts.command}: {report['status']} (exit {report['exit_code']}) " \
              f"in {report['duration_s']:.1f}s"
    return "\n\n".join(s for s in sections if s) + "\n\n" + summary


def main(argv: list[str] | None = None) -> int:
    try:
        opts = parse(argv)
    except InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return ExitCode.INVALID_INPUT
    return execute(opts)
