#!/usr/bin/env bash
# The main job: set up, start the embedded PostGIS, load the demo district if the
# store is empty, and serve. Extra arguments go to `gridwall up` (e.g. --scale small).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/gridwall up "$@"
