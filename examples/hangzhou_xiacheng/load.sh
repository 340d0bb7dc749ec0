#!/usr/bin/env bash
# Hangzhou 下城区 from its real files, unchanged: the DataV outline (GCJ-02), the grid platform's mixed admin file
# (streets, communities and 340 grids, no parent codes), main roads and rivers, named towers, public facilities
# and 228 grid events of September 2018. Run from the repository root against the store the settings name
# (GRIDWALL_DATABASE_DATA_DIR or GRIDWALL_DATABASE_URL); REJECTS_DIR receives the refused features.
set -euo pipefail
here="$(dirname "$0")"
data="${REALDATA:-../shared/realdata}/hangzhou_xiacheng_grid"
rejects="${REJECTS_DIR:-/tmp}"
gridwall db up
gridwall district init "${REALDATA:-../shared/realdata}/datav_target_district_boundaries_gcj02.geojson" \
    --code 330103 --crs gcj02
gridwall load "$data/admin_district_street_community_grid_wgs84.geojson" --layer admin_areas --map "$here/areas.toml"
# DataV's outline is generalised; the grid platform's grids are surveyed and reach up to ~180 m past it.
# One grid polygon crosses itself: repaired with make_valid, and the report says which.
gridwall load "$data/admin_district_street_community_grid_wgs84.geojson" --layer grids --map "$here/grids.toml" \
    --tolerance 200 --repair
gridwall load "$data/major_roads_rivers.geojson" --layer roads --map "$here/roads.toml" --tolerance 500
gridwall load "$data/major_roads_rivers.geojson" --layer water --map "$here/water.toml"
gridwall load "$data/building_floor_slabs_with_height.geojson" --layer buildings --map "$here/buildings.toml"
# one manhole lies far outside the district: load the rest, keep it apart with its reason
gridwall load "$data/public_facilities_toilets_bike_bus_manholes.geojson" --layer components \
    --map "$here/facilities.toml" --on-error skip --rejects "$rejects/xiacheng_facilities_rejects.csv"
gridwall taxonomy alias import "$here/event_types.csv"
gridwall load "$data/grid_events_2018_pii_stripped.geojson" --layer events --map "$here/events.toml"
