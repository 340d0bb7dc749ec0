"""Routing: point in polygon to grid, community and street; addresses; names alone; borders; refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from command.routing import locate, match_address, route_area, route_point
from layers.errors import LoadError

_BORDER = """
    WITH cur AS (SELECT id FROM grid_version WHERE is_current),
    district AS (SELECT geom, ST_Boundary(geom) AS edge FROM admin_area WHERE level = 'district' LIMIT 1),
    pairs AS (
        SELECT a.id AS a, b.id AS b, a.geom AS ga, b.geom AS gb
        FROM grid a JOIN grid b ON a.id < b.id AND a.geom && b.geom
        WHERE a.version_id = (SELECT id FROM cur) AND b.version_id = (SELECT id FROM cur)
          AND ST_Relate(a.geom, b.geom, 'F***1****')
    )
    SELECT a, b, ST_X(v.geom) AS vx, ST_Y(v.geom) AS vy,
           ST_X(pa) AS ax, ST_Y(pa) AS ay, ST_X(pb) AS bx, ST_Y(pb) AS by
    FROM pairs, district
    CROSS JOIN LATERAL (
        SELECT d.geom FROM ST_DumpPoints(ga) AS d
        WHERE ST_Covers(gb, d.geom) AND ST_Covers(district.geom, d.geom)
          AND NOT ST_DWithin(d.geom, district.edge, 0.0001)
          AND (SELECT count(*) FROM grid g WHERE g.version_id = (SELECT id FROM cur) AND ST_Covers(g.geom, d.geom)) = 2
        LIMIT 1
    ) AS v
    CROSS JOIN LATERAL (
        SELECT ST_LineInterpolatePoint(ST_GeometryN(ST_LineMerge(ST_CollectionExtract(
                   ST_Intersection(ST_Boundary(ga), ST_Boundary(gb)), 2)), 1), 0.5) AS m
    ) AS mid
    CROSS JOIN LATERAL (
        SELECT ST_PointOnSurface(ST_Intersection(ga, ST_Buffer(mid.m::geography, 2)::geometry)) AS pa,
               ST_PointOnSurface(ST_Intersection(gb, ST_Buffer(mid.m::geography, 2)::geometry)) AS pb
    ) AS near
    WHERE NOT ST_DWithin(mid.m, district.edge, 0.0001)
    ORDER BY a, b
    LIMIT 1
"""


def test_a_point_routes_to_its_grid_community_and_street(conn, spot):
    place = route_point(conn, spot.lon, spot.lat)
    assert (place.kind, place.grid_id, place.community_id, place.street_id) == (
        "point", spot.grid_id, spot.community_id, spot.street_id)
    parent = conn.execute(text("SELECT parent_id FROM admin_area WHERE id = :c"), {"c": spot.community_id}).scalar()
    assert parent == spot.street_id


def test_routing_at_a_grid_border(conn):
    row = conn.execute(text(_BORDER)).one()
    # a vertex both grids share: covered by both, the lower id wins (as for members)
    assert route_point(conn, row.vx, row.vy).grid_id == min(row.a, row.b)
    # two metres either side of the middle of their shared border: each side's own grid
    assert route_point(conn, row.ax, row.ay).grid_id == row.a
    assert route_point(conn, row.bx, row.by).grid_id == row.b


def test_a_point_outside_the_district_is_refused(conn):
    west = conn.execute(text("SELECT ST_XMin(geom) - 0.01, ST_YMin(geom) FROM admin_area"
                             " WHERE level = 'district'")).one()
    with pytest.raises(LoadError, match="outside the district") as err:
        route_point(conn, west[0], west[1])
    assert err.value.field == "location"


def test_an_address_matches_its_building_even_with_a_room_after_it(conn):
    b = conn.execute(text(
        "SELECT id, address, grid_id FROM building WHERE address IS NOT NULL AND grid_id IS NOT NULL"
        " AND address IN (SELECT address FROM building GROUP BY address HAVING count(*) = 1) ORDER BY id LIMIT 1"
    )).one()
    assert match_address(conn, b.address)[0] == b.id
    place = locate(conn, address=b.address + "3栋501室")
    assert (place.kind, place.building_id, place.grid_id) == ("address", b.id, b.grid_id)


def test_a_community_or_street_name_alone_routes_to_that_area(conn, spot):
    community, street = conn.execute(text(
        "SELECT c.name, s.name FROM admin_area c JOIN admin_area s ON s.id = c.parent_id WHERE c.id = :c"
    ), {"c": spot.community_id}).one()
    place = route_area(conn, community=community, street=street)
    assert (place.kind, place.grid_id, place.community_id, place.street_id) == (
        "community", None, spot.community_id, spot.street_id)
    place = locate(conn, street=street)
    assert (place.kind, place.community_id, place.street_id) == ("street", None, spot.street_id)
    place = locate(conn, address=f"{community}某小区门口")  # named only inside the address text
    assert (place.kind, place.community_id) == ("community", spot.community_id)


def test_an_unknown_area_or_address_is_refused(conn, spot):
    with pytest.raises(LoadError, match="no community called '不存在社区'") as err:
        route_area(conn, community="不存在社区")
    assert err.value.field == "community"
    with pytest.raises(LoadError, match="matches no building and names no community or street"):
        locate(conn, address="火星路1号")
    with pytest.raises(LoadError, match="no location"):
        locate(conn)
