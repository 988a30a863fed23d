#!/usr/bin/env bash
# Set up the controller side of the toolkit: a virtualenv with pinned Python deps and the
# Ansible collections from requirements.yml. Safe to re-run: it only acts on what is missing
# or out of date, and a re-run with everything present takes about a second.
#
#   ./setup.sh           runtime only (what provision.py needs)
#   ./setup.sh --test    runtime + test tooling (molecule, testinfra, linters)
#
# Environment: PYTHON (interpreter for the venv, default python3), VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
want_test=0
[[ ${1:-} == --test ]] && want_test=1

say() { printf 'setup: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v "$PYTHON" >/dev/null || die "no $PYTHON on PATH; install python3 (apt-get install python3) or set PYTHON=/path/to/python3"

ensure_venv_module() {
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null && return 0
    # Debian/Ubuntu split venv and ensurepip out of python3.
    local pkg
    pkg="python3-venv"
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing $pkg (Debian/Ubuntu ship Python without venv)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
    else
        die "$PYTHON cannot create virtualenvs; run: sudo apt-get install $pkg"
    fi
}

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

ensure_python_deps() {
    local stamp_file="$VENV/.setup-stamp" runtime_stamp test_stamp want
    runtime_stamp="runtime-$(stamp_of requirements.txt)"
    test_stamp="test-$(stamp_of requirements-test.txt requirements.txt)"
    want=$runtime_stamp
    ((want_test)) && want=$test_stamp
    if [[ -x $VENV/bin/python && -f $stamp_file ]] && grep -qx -- "$want" "$stamp_file"; then
        return 0
    fi
    if [[ ! -x $VENV/bin/python ]]; then
        ensure_venv_module
        say "creating $VENV with $("$PYTHON" --version 2>&1)"
        "$PYTHON" -m venv "$VENV"
    fi
    local req=requirements.txt
    ((want_test)) && req=requirements-test.txt
    say "installing Python deps from $req"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    # The test set includes the runtime set, so a test venv satisfies both.
    if ((want_test)); then
        printf '%s\n%s\n' "$runtime_stamp" "$test_stamp" >"$stamp_file"
    else
        printf '%s\n' "$runtime_stamp" >"$stamp_file"
    fi
}

ensure_collections() {
    local stamp_file=.collections/.setup-stamp stamp
    stamp=$(stamp_of requirements.yml scripts/install_collections.py)
    [[ -f $stamp_file ]] && grep -qx -- "$stamp" "$stamp_file" && return 0
    say "installing collections from requirements.yml"
    "$VENV/bin/python" scripts/install_collections.py requirements.yml .collections
    printf '%s\n' "$stamp" >"$stamp_file"
}

ensure_python_deps
ensure_collections
say "ready ($VENV)"
