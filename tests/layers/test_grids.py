"""Grid versions: a new one becomes current, the old stays, members and workers move."""

from __future__ import annotations

import pandas as pd
import shapely
from sqlalchemy import text

from layers.bulk import write_frame
from layers.grids import create_version, current_version, grid_count, home_grids, list_versions, make_current
from layers.registry import layer


def _split_in_halves(conn, old_version):
    """A new version: the district cut into a west and an east grid."""
    district = shapely.from_wkb(bytes(conn.execute(
        text("SELECT ST_AsBinary(geom) FROM admin_area WHERE level = 'district'")).scalar()))
    minx, miny, maxx, maxy = district.bounds
    mid = (minx + maxx) / 2
    west = district.intersection(shapely.box(minx - 1, miny - 1, mid, maxy + 1))
    east = district.intersection(shapely.box(mid, miny - 1, maxx + 1, maxy + 1))
    frame = pd.DataFrame({
        "code": ["W", "E"], "zone": ["inner", "outer"], "households": [0, 0], "population": [0, 0],
        "geom": [west, east],
    })
    version = create_version(conn, source="test", created_by="planner-1", note="halves")
    write_frame(conn, layer("grids"), frame, source="t", fixed={"version_id": version})
    return version, mid


def test_a_new_version_becomes_current_and_the_old_stays_queryable(conn):
    old = current_version(conn)
    old_grids = grid_count(conn, old)
    new, _ = _split_in_halves(conn, old)
    make_current(conn, new)
    assert current_version(conn) == new
    assert grid_count(conn, old) == old_grids
    assert grid_count(conn, new) == 2
    currents = conn.execute(text("SELECT count(*) FROM grid_version WHERE is_current")).scalar()
    assert currents == 1


def test_members_move_to_the_new_grids_by_geometry(conn):
    new, mid = _split_in_halves(conn, current_version(conn))
    make_current(conn, new)
    wrong = conn.execute(text("""
        SELECT count(*) FROM building b JOIN grid g ON g.id = b.grid_id
        WHERE (g.code = 'W') <> (ST_X(ST_PointOnSurface(b.geom)) < :mid)
    """), {"mid": mid}).scalar()
    unassigned = conn.execute(text("SELECT count(*) FROM building WHERE grid_id IS NULL")).scalar()
    cams = conn.execute(text(
        "SELECT count(*) FROM camera c JOIN grid g ON g.id = c.grid_id WHERE g.version_id = :v"), {"v": new}).scalar()
    total_cams = conn.execute(text("SELECT count(*) FROM camera")).scalar()
    assert wrong == 0 and unassigned == 0 and cams == total_cams


def test_workers_are_handed_over_one_per_grid(conn):
    old = current_version(conn)
    new, _ = _split_in_halves(conn, old)
    make_current(conn, new)
    housed = [h for h in home_grids(conn) if h["grid_id"] is not None]
    assert len(housed) == 2
    assert {h["grid_code"] for h in housed} == {"W", "E"}


def test_versions_are_listed_newest_first_with_counts_and_the_report_share(conn):
    old = current_version(conn)
    new, _ = _split_in_halves(conn, old)
    conn.execute(text("UPDATE grid_version SET state = 'proposed', report = CAST(:r AS jsonb) WHERE id = :v"),
                 {"r": '{"summary": {"share_grids_within_bounds": 0.5, "n_out_of_band": 1}}', "v": new})
    rows = list_versions(conn)
    assert [r["version_id"] for r in rows[:2]] == [new, old]
    picked = {k: rows[0][k] for k in ("state", "is_current", "n_grids", "share_in_band", "n_out_of_band", "note")}
    assert picked == {"state": "proposed", "is_current": False, "n_grids": 2, "share_in_band": 0.5,
                      "n_out_of_band": 1, "note": "halves"}
    assert rows[1]["is_current"] and rows[1]["n_grids"] == grid_count(conn, old)
    assert [r["version_id"] for r in list_versions(conn, state="proposed")] == [new]
