"""provisionlib: the thin CLI behind provision.py (facts | plan | apply | verify).

provision.py parses arguments, checks the input (inventory, --limit, -e), lays out a fresh
private data dir for ansible-runner over the project dir and runs one playbook. All host
logic stays in Ansible. While it runs, progress goes to stderr (a live line on a terminal,
plain lines otherwise); at the end it prints a per-host table and writes a JSON report
(schema in provisionlib.report) to artifacts/<timestamp>/report.json.

Modules: cli (arguments, dispatch), extravars (-e parsing), inventory (--limit check),
runner (ansible-runner call), events (event stream -> per-host state), progress (live view),
report (JSON report + schema, exit code), table (text tables), report_html (HTML view),
checks (gpu_verify's check names and their order), exitcodes (exit codes and meanings).

Exit codes: provisionlib.exitcodes (and `provision.py --help`).
"""
