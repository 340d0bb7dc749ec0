#!/usr/bin/env bash
# Set up and run the whole test suite against a throwaway PostGIS of its own.
# Extra arguments go to pytest (e.g. tests/layers -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
