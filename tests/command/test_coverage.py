"""Camera coverage: sector polygons, and the street length no camera sees per grid."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

from command.coverage import blind_spot_features, blind_spots, camera_sectors

SECTOR = """
    SELECT ST_Area(s::geography) AS area,
           ST_Covers(s, ST_SetSRID(ST_MakePoint(:fx, :fy), 4326)) AS sees_front,
           ST_Covers(s, ST_SetSRID(ST_MakePoint(:bx, :by), 4326)) AS sees_back
    FROM (SELECT gridwall_camera_sector(ST_SetSRID(ST_MakePoint(:x, :y), 4326), :kind, :h, :fov, :r,
                                        (SELECT metric_srid FROM admin_area WHERE level = 'district')) AS s) q
"""


@pytest.mark.parametrize(("kind", "heading", "fov", "share", "back"), [
    ("bullet", 0.0, 60.0, 60 / 360, False),
    ("checkpoint", 90.0, 90.0, 90 / 360, False),
    ("dome", None, 360.0, 1.0, True),
    ("ptz", 0.0, 40.0, 1.0, True),  # a PTZ camera turns all round whatever its heading
])
def test_the_view_sector_polygon(conn, spot, kit, kind, heading, fov, share, back):
    ahead = 0.0 if heading is None else heading
    front = kit.offset(spot.lon, spot.lat, 50 * math.sin(math.radians(ahead)), 50 * math.cos(math.radians(ahead)))
    behind = kit.offset(spot.lon, spot.lat, -50 * math.sin(math.radians(ahead)), -50 * math.cos(math.radians(ahead)))
    row = conn.execute(text(SECTOR), {"x": spot.lon, "y": spot.lat, "kind": kind, "h": heading, "fov": fov,
                                      "r": 100.0, "fx": front[0], "fy": front[1], "bx": behind[0],
                                      "by": behind[1]}).one()
    assert row.area == pytest.approx(math.pi * 100**2 * share, rel=0.01)
    assert row.sees_front and row.sees_back == back


@pytest.fixture
def on_a_street(conn, quiet):
    """A point in the middle of the longest street piece inside one current grid, and that grid."""
    return conn.execute(text("""
        SELECT g.id AS grid_id, ST_X(p) AS lon, ST_Y(p) AS lat
        FROM grid g
        JOIN road r ON r.geom && g.geom
        CROSS JOIN LATERAL (SELECT (ST_Dump(ST_CollectionExtract(ST_Intersection(r.geom, g.geom), 2))).geom AS piece)
            AS cut
        CROSS JOIN LATERAL (SELECT ST_LineInterpolatePoint(cut.piece, 0.5) AS p) AS mid
        WHERE g.version_id = (SELECT id FROM grid_version WHERE is_current)
        ORDER BY ST_Length(cut.piece::geography) DESC, g.id
        LIMIT 1
    """)).one()


def test_a_grid_without_an_online_camera_is_all_blind(conn, on_a_street):
    (row,) = blind_spots(conn, grid_ids=[on_a_street.grid_id])
    assert row.grid_id == on_a_street.grid_id and row.street_m > 100
    assert row.blind_m == pytest.approx(row.street_m) and row.blind_share == pytest.approx(1.0)


def test_a_dome_on_the_street_removes_the_stretch_it_sees(conn, kit, on_a_street):
    (before,) = blind_spots(conn, grid_ids=[on_a_street.grid_id])
    kit.camera("T-DOME", on_a_street.lon, on_a_street.lat, kind="dome", heading=None, fov=360, range_m=30)
    kit.camera("T-DARK", on_a_street.lon, on_a_street.lat, kind="dome", heading=None, fov=360, range_m=300,
               online=False)  # offline: sees nothing
    seen = conn.execute(text("""
        SELECT ST_Length(ST_Intersection(
                   ST_Union(ST_CollectionExtract(ST_Intersection(r.geom, g.geom), 2)),
                   ST_Buffer(ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 30)::geometry)::geography)
        FROM grid g JOIN road r ON r.geom && g.geom WHERE g.id = :g
    """), {"x": on_a_street.lon, "y": on_a_street.lat, "g": on_a_street.grid_id}).scalar_one()
    (after,) = blind_spots(conn, grid_ids=[on_a_street.grid_id])
    assert after.street_m == pytest.approx(before.street_m)
    assert seen >= 59  # at least 30 m both ways along the street
    assert before.blind_m - after.blind_m == pytest.approx(seen, rel=0.02)


def test_blind_spots_export_as_geojson(conn, kit, on_a_street):
    kit.camera("T-DOME", on_a_street.lon, on_a_street.lat, kind="dome", heading=None, fov=360, range_m=30)
    collection = blind_spot_features(conn, grid_ids=[on_a_street.grid_id])
    (feature,) = collection["features"]
    assert feature["geometry"]["type"] in ("LineString", "MultiLineString")
    (row,) = blind_spots(conn, grid_ids=[on_a_street.grid_id])
    assert feature["properties"]["blind_m"] == pytest.approx(row.blind_m, abs=0.1)
    sectors = camera_sectors(conn, online_only=True)
    codes = [f["properties"]["code"] for f in sectors["features"]]
    assert codes == ["T-DOME"] and sectors["features"][0]["geometry"]["type"] == "Polygon"


def test_every_grid_is_listed_blindest_first(conn, quiet):
    rows = blind_spots(conn)
    grids = conn.execute(text("SELECT count(*) FROM grid WHERE version_id = (SELECT id FROM grid_version"
                              " WHERE is_current)")).scalar_one()
    assert len(rows) == grids
    assert [r.blind_m for r in rows] == sorted((r.blind_m for r in rows), reverse=True)
