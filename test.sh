#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up, lint, unit tests, molecule scenarios.
#
#   ./test.sh                    everything
#   ./test.sh lint               ruff, yamllint, ansible-lint (production profile)
#   ./test.sh unit               pytest unit tests
#   ./test.sh collection         build and install the gpuhost.toolkit collection, run a role
#                                from it on a test host (tests/collection)
#   ./test.sh hosts              test-host harness: Docker engine, images, network
#   ./test.sh molecule [S ...]   molecule scenarios (all, or the ones named)
#   ./test.sh images             build docker/gpu-dev on the test-host engine, check its sshd
#
# Environment: TESTHOST_MODE=auto|privileged|caps (see tests/hosts/testhosts.sh),
# PYTHON (interpreter for the venv), UNIT_PYTHONS (the unit tier's other interpreters, empty for
# none; default: one of each Python 3.10 and later on PATH, in pyenv or in /usr, but the venv's),
# MOLECULE_SCENARIOS (space-separated, for `molecule`).
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\n== %s\n' "$*" >&2; }

setup() {
    ./setup.sh --test
    export PATH="$PWD/.venv/bin:$PATH"
    export ANSIBLE_CONFIG="$PWD/ansible.cfg"
}

tier_lint() {
    say "lint: ruff"
    ruff check .
    say "lint: yamllint"
    yamllint --strict .
    say "lint: ansible-lint (production profile)"
    ansible-lint --profile production --offline -q
}

tier_unit() {
    say "unit: pytest ($(python --version 2>&1))"
    mkdir -p .cache
    python -m pytest -q -p no:cacheprovider --junitxml=.cache/junit-unit.xml tests/unit
}

# The unit tier again on every other controller Python this machine has (requirements.txt gives
# each its own ansible-core: 2.17 on 3.10, 2.19 on 3.11, 2.21 on 3.12 and later), each in its own
# venv made by setup.sh, one after the other.
tier_unit_others() {
    local rc=0 py version
    for py in $(other_pythons); do
        version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || { rc=1; continue; }
        say "unit: pytest (Python $version from $py, .venv-py$version)"
        PYTHON=$py VENV=.venv-py$version ./setup.sh --test || { rc=1; continue; }
        (PATH="$PWD/.venv-py$version/bin:$PATH"
         python -m pytest -q -p no:cacheprovider --junitxml=".cache/junit-unit-py$version.xml" \
             tests/unit) || rc=1
    done
    return "$rc"
}

# Interpreters from 3.10 on, other than the main venv's, one per version: those on PATH first,
# then pyenv's installed versions, then the system's. UNIT_PYTHONS names them instead (empty:
# none).
other_pythons() {
    if [[ -n ${UNIT_PYTHONS+set} ]]; then
        printf '%s\n' $UNIT_PYTHONS
        return 0
    fi
    local main minor py candidates
    main=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    for minor in 10 11 12 13 14; do
        [[ 3.$minor == "$main" ]] && continue
        candidates=("$(command -v "python3.$minor" 2>/dev/null || true)"
                    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.$minor.*/bin/python3.$minor
                    /usr/local/bin/python3.$minor /usr/bin/python3.$minor)
        for py in "${candidates[@]}"; do
            [[ -n $py && -x $py && $py != "$PWD"/.venv* ]] || continue
            # A pyenv shim answers `command -v` for versions it does not put on PATH, then fails.
            "$py" -c 'import venv' >/dev/null 2>&1 || continue
            printf '%s\n' "$py"
            break
        done
    done
}

tier_collection() {
    # A test host of its own, so under the same lock as molecule.
    tier_hosts || return 1
    local settings
    settings=$(tests/hosts/testhosts.sh env) || return 1
    say "collection: build, install, run gpuhost.toolkit.host_facts"
    mkdir -p .cache
    (set -a; eval "$settings"; set +a
     flock /tmp/gpuhost-molecule.lock python -m pytest -q -p no:cacheprovider \
         --junitxml=.cache/junit-collection.xml tests/collection)
}

tier_images() {
    # The images are built on the test-host engine (DOCKER_HOST and the test network from
    # the harness), from its cached Debian 12 image.
    tier_hosts || return 1
    local settings
    settings=$(tests/hosts/testhosts.sh env) || return 1
    say "images: docker/gpu-dev"
    mkdir -p .cache
    (set -a; eval "$settings"; set +a
     python -m pytest -q -p no:cacheprovider --junitxml=.cache/junit-images.xml tests/images)
}

# One closing line that counts every test that ran: unit and image tests (from pytest's JUnit
# XML files of this run) plus one per molecule scenario.
summary() {
    python - "$@" <<'PY'
import sys
import xml.etree.ElementTree as ET
passed, failed, skipped = int(sys.argv[1]), int(sys.argv[2]), 0
for path in sys.argv[3:]:
    try:
        suites = list(ET.parse(path).getroot().iter("testsuite"))
    except (OSError, ET.ParseError):
        continue
    for s in suites:
        total, fail = int(s.get("tests", 0)), int(s.get("failures", 0)) + int(s.get("errors", 0))
        skip = int(s.get("skipped", 0))
        passed, failed, skipped = passed + total - fail - skip, failed + fail, skipped + skip
print(f"summary: {passed} passed, {failed} failed, {skipped} skipped")
PY
}

tier_hosts() {
    say "hosts: test-host harness"
    tests/hosts/test_mirror.sh
    tests/hosts/testhosts.sh up
}

all_scenarios() {
    find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort
}

tier_molecule() {
    # Called as `tier_molecule || rc=1`, where set -e is off: stop explicitly.
    tier_hosts || return 1
    local settings
    settings=$(tests/hosts/testhosts.sh env) || return 1
    set -a
    eval "$settings"
    set +a
    local scenarios=("$@") s failed=()
    molecule_passed=0
    ((${#scenarios[@]})) || read -r -a scenarios <<<"${MOLECULE_SCENARIOS:-$(all_scenarios | tr '\n' ' ')}"
    for s in "${scenarios[@]}"; do
        say "molecule: $s"
        local started=$SECONDS
        # A fresh state for each scenario: one left by an interrupted run could say its hosts
        # were created, and the sequences have no destroy before create
        # (.config/molecule/config.yml).
        rm -rf ".cache/molecule/$s"
        if MOLECULE_EPHEMERAL_DIRECTORY="$PWD/.cache/molecule/$s" \
            flock /tmp/gpuhost-molecule.lock molecule test -s "$s"; then
            printf 'molecule %s: passed in %d s\n' "$s" $((SECONDS - started)) >&2
            molecule_passed=$((molecule_passed + 1))
        else
            failed+=("$s")
        fi
    done
    molecule_failed=${#failed[@]}
    ((${#failed[@]} == 0)) || { printf 'molecule: failed scenarios: %s\n' "${failed[*]}" >&2; return 1; }
}

molecule_passed=0
molecule_failed=0
setup
case ${1:-all} in
    lint) tier_lint ;;
    unit) rc=0; tier_unit || rc=1; tier_unit_others || rc=1; exit "$rc" ;;
    collection) tier_collection ;;
    hosts) tier_hosts ;;
    molecule) shift; tier_molecule "$@" ;;
    images) tier_images ;;
    all)
        started=$SECONDS
        rc=0
        # A JUnit file left by an earlier run must not be counted as this run's.
        rm -f .cache/junit-unit*.xml .cache/junit-collection.xml .cache/junit-images.xml
        # Lint fails fast: nothing else is worth running on code that does not pass it.
        tier_lint
        tier_unit || rc=1
        # The other interpreters' unit tiers run beside the test-host tiers, at the lowest CPU
        # priority: they fill the cores while the test hosts boot and install, and never take
        # a core the molecule tier wants (its output goes to a log, shown when it ends).
        (renice -n 19 -p "$BASHPID" >/dev/null || true; tier_unit_others) >.cache/unit-others.log 2>&1 &
        others=$!
        tier_collection || rc=1
        tier_molecule || rc=1
        tier_images || rc=1
        say "unit on the other interpreters (started after the main unit tier)"
        wait "$others" || rc=1
        grep -E '^== unit|passed|failed|error' .cache/unit-others.log >&2 || true
        printf '\ntiers finished in %d s\n' $((SECONDS - started)) >&2
        summary "$molecule_passed" "$molecule_failed" .cache/junit-unit*.xml \
            .cache/junit-collection.xml .cache/junit-images.xml
        exit "$rc"
        ;;
    *) echo "usage: $0 [lint|unit|collection|hosts|molecule [SCENARIO...]|images]" >&2; exit 2 ;;
esac
