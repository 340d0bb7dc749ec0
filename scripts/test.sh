#!/usr/bin/env bash
# Set up, lint and run the whole test suite against a throwaway PostGIS of its own.
# Extra arguments go to pytest and skip the lint (e.g. `scripts/test.sh tests/layers -x` runs one folder).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -eq 0 ]; then
  .venv/bin/ruff check .    # the rule set is in pyproject.toml; findings fail the run
fi
exec .venv/bin/python -m pytest "$@"
