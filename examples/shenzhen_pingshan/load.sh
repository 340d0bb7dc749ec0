#!/usr/bin/env bash
# Shenzhen 坪山区 from its real files, unchanged: the DataV outline (GCJ-02), the NBS street list (names and
# codes, no polygons) and 9,990 hotline events of 2018 with their outcome. Run from the repository root against
# the store the settings name (GRIDWALL_DATABASE_DATA_DIR or GRIDWALL_DATABASE_URL).
set -euo pipefail
here="$(dirname "$0")"
data="${REALDATA:-../shared/realdata}"
gridwall db up
gridwall district init "$data/datav_target_district_boundaries_gcj02.geojson" --code 440310 --crs gcj02
gridwall load "$data/target_district_streets_townships_2023.csv" --layer admin_areas --map "$here/../mappings/nbs_streets.toml"
# the source's 18 event types, each to a default leaf; the finer names the taxonomy knows resolve by themselves
gridwall taxonomy alias import "$here/event_types.csv"
# a history load: the source's state and on-time verdict are kept, nothing is merged as a duplicate
gridwall load "$data/shenzhen_pingshan_minsheng_events_2018.csv" --layer events --map "$here/events.toml"
