#!/usr/bin/env bash
# Set up the controller (./setup.sh: venv, Python deps, collections) and run provision.py.
#   ./provision.sh apply                 provision this machine (inventory/localhost.yml)
#   ./provision.sh plan -i inventory/x   dry run with diffs against other hosts
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
exec .venv/bin/python provision.py "$@"
