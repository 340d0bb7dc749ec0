#!/usr/bin/env bash
# The main job: set up, start the embedded PostGIS, load the demo district if the
# store is empty, and serve. Extra arguments go to `gridwall up` (e.g. --scale small).
#
# The store and this machine's secrets live in the gridwall home: GRIDWALL_HOME when set, else the per-user
# default (~/.local/share/gridwall; /var/lib/gridwall for root), the same one `gridwall` finds from any folder and
# a notebook finds from notebooks/. A checkout's store from before (./var/pg) is kept with GRIDWALL_HOME=$PWD/var.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${GRIDWALL_HOME:-}" ] && [ -d var/pg ]; then
  echo "run: ./var/pg holds a store of this checkout from before; this run uses the per-user one" \
       "($(.venv/bin/python -c 'from layers.settings import HomeSettings; print(HomeSettings().home)'))." \
       "To go on with the old one: GRIDWALL_HOME=\$PWD/var ./scripts/run.sh" >&2
fi
exec .venv/bin/gridwall up "$@"
