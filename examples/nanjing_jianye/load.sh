#!/usr/bin/env bash
# Nanjing 建邺区 from its real files, unchanged: the district outline (DataV, GCJ-02) and 5,284 building
# footprints with heights. Run from the repository root against the store the settings name
# (GRIDWALL_DATABASE_DATA_DIR or GRIDWALL_DATABASE_URL); REALDATA points at ../shared/realdata by default.
set -euo pipefail
here="$(dirname "$0")"
data="${REALDATA:-../shared/realdata}"
gridwall db up
gridwall district init "$data/datav_target_district_boundaries_gcj02.geojson" --code 320105 --crs gcj02
# one footprint crosses itself: repair it (the report says so); refuse, and keep apart, whatever else is wrong
gridwall load "$data/nanjing_jianye/jianye_buildings_height_wgs84.geojson" --layer buildings \
    --map "$here/buildings.toml" --repair --on-error skip --rejects "${REJECTS_DIR:-/tmp}/jianye_buildings_rejects.csv"
