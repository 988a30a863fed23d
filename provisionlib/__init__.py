"""provisionlib: the thin CLI behind provision.py (facts | plan | apply | verify).

provision.py parses arguments, checks the input (inventory, --limit, -e), lays out a fresh
private data dir for ansible-runner over the project dir and runs one playbook. All host
logic stays in Ansible. While it runs, progress goes to stderr (a live line on a terminal,
plain lines otherwise); at the end it prints a per-host table and writes a JSON report
(schema in provisionlib.report) to artifacts/<timestamp>/report.json.

Modules: cli (arguments, dispatch), extravars (-e parsing), inventory (--limit check),
runner (ansible-runner call), events (event stream -> per-host state), progress (live view),
report (JSON report + schema), table (text tables), exitcodes (exit codes).

Exit codes (also in `provision.py --help`):

| code | status      | meaning                                                          |
|------|-------------|------------------------------------------------------------------|
| 0    | ok          | every host ran clean                                             |
| 1    | error       | internal or Ansible error (syntax error, missing playbook, crash) |
| 2    | failed      | at least one host failed a task (verify: a required check)       |
| 3    | unreachable | at least one host was unreachable, and none failed               |
| 4    | -           | invalid input (option, inventory, --limit, -e): nothing ran       |
| 130  | interrupted | Ctrl-C or SIGTERM; a partial report is still written             |
"""
