"""The basemap's labels: every name is there, on its road or area, at a zoom where it fits."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import text

from api.basemap import LABEL_RULES, LabelRules, labels


@pytest.fixture(scope="module")
def served(client, auth) -> list[dict]:
    response = client.get("/basemap/labels", headers=auth("wall"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
    return response.json()["features"]


def test_every_named_road_street_and_community_has_its_label(served, api_engine):
    with api_engine.connect() as conn:
        roads = set(conn.execute(text("SELECT name FROM road WHERE name IS NOT NULL")).scalars())
        areas = set(conn.execute(text("SELECT level, name FROM admin_area WHERE level IN ('street', 'community')"
                                      " AND geom IS NOT NULL")).all())
    got = {(f["properties"]["layer"], f["properties"]["name"]) for f in served}
    assert roads and {("road", name) for name in roads} <= got
    assert areas and {tuple(a) for a in areas} <= got
    assert {layer for layer, _ in got} == {"road", "street", "community"}


def test_a_label_waits_for_its_layers_zoom_and_streets_give_way_to_communities(served):
    base = {"street": LABEL_RULES.street_z, "community": LABEL_RULES.community_z}
    for f in served:
        p = f["properties"]
        floor = base.get(p["layer"]) or (LABEL_RULES.arterial_z if p["kind"] == "arterial" else LABEL_RULES.local_z)
        assert floor <= p["minzoom"] <= LABEL_RULES.top_z, p
        assert p["maxzoom"] == (LABEL_RULES.street_maxz if p["layer"] == "street" else None), p
    # the most important first: whoever draws them in order lets the streets win an overlap
    ranks = [f["properties"]["rank"] for f in served]
    assert ranks == sorted(ranks) and ranks[0] == 0


def test_a_roads_anchor_lies_on_the_road(served, api_engine):
    roads = [f for f in served if f["properties"]["layer"] == "road"]
    with api_engine.connect() as conn:
        off = conn.execute(text("""
            SELECT a.name, min(ST_Distance(r.geom::geography, ST_SetSRID(ST_MakePoint(a.lon, a.lat), 4326)::geography))
            FROM jsonb_to_recordset(CAST(:anchors AS jsonb)) AS a(name text, lon float, lat float)
            JOIN road r ON r.name = a.name GROUP BY a.name, a.lon, a.lat
        """), {"anchors": json.dumps([{"name": f["properties"]["name"], "lon": f["geometry"]["coordinates"][0],
                                       "lat": f["geometry"]["coordinates"][1]} for f in roads])}).all()
    assert len(off) == len(roads)
    assert max(d for _, d in off) < 0.5, sorted(off, key=lambda r: -r[1])[:3]


def test_the_labels_need_a_key(client):
    assert client.get("/basemap/labels").status_code == 401


def _add_road(conn, code: str, name: str, kind: str, wkt: str) -> None:
    conn.execute(text("INSERT INTO road (code, name, kind, geom) VALUES (:code, :name, :kind,"
                      " ST_Multi(ST_GeomFromText(:wkt, 4326)))"), {"code": code, "name": name, "kind": kind,
                                                                    "wkt": wkt})


def _mine(conn, name: str, rules: LabelRules = LABEL_RULES) -> list[dict]:
    return [f for f in labels(conn, rules)["features"] if f["properties"]["name"] == name]


def test_a_road_cut_into_rows_is_labelled_along_its_merged_piece_once_per_spacing(conn):
    # an east-west road of two rows that meet end to end: 0.04° of longitude at 28.25° N is 3.9 km, so with
    # anchors every 1.5 km it carries two, at a quarter and three quarters of its length, written level
    _add_road(conn, "T-EW-1", "测试东西路", "arterial", "LINESTRING(113.10 28.25, 113.12 28.25)")
    _add_road(conn, "T-EW-2", "测试东西路", "arterial", "LINESTRING(113.12 28.25, 113.14 28.25)")
    got = _mine(conn, "测试东西路")
    assert [round(f["geometry"]["coordinates"][0], 4) for f in got] == [113.11, 113.13]
    assert {f["properties"]["angle"] for f in got} == {0.0}
    assert {f["properties"]["minzoom"] for f in got} == {LABEL_RULES.arterial_z}


def test_a_road_is_written_along_its_slope_on_screen(conn):
    # north-east at 45° on screen: equal steps in Web Mercator metres (the screen's own); clockwise is positive,
    # so a road rising to the right is at -45°; a north-south road stands at 90° (never upside down)
    lat0 = 28.25
    y = lambda lat: math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))  # noqa: E731
    lat1 = math.degrees(2 * math.atan(math.exp(math.radians(y(lat0) + 0.01))) - math.pi / 2)
    _add_road(conn, "T-NE", "测试斜路", "local", f"LINESTRING(113.20 {lat0}, 113.21 {lat1})")
    _add_road(conn, "T-NS", "测试南北路", "local", "LINESTRING(113.22 28.26, 113.22 28.25)")
    assert [f["properties"]["angle"] for f in _mine(conn, "测试斜路")] == [-45.0]
    assert [f["properties"]["angle"] for f in _mine(conn, "测试南北路")] == [90.0]


def test_a_short_road_is_named_only_from_the_zoom_where_its_name_fits(conn):
    # 40 m of road and a name of 4 characters (4 × 14 + 8 = 64 px): 64 px ≤ 40 m needs 0.62 m a pixel, which is
    # zoom 18 at 28.25° N (0.53 m) and not 17 (1.05 m)
    _add_road(conn, "T-SHORT", "测试短巷", "local", "LINESTRING(113.30 28.25, 113.30041 28.25)")
    assert [f["properties"]["minzoom"] for f in _mine(conn, "测试短巷")] == [18]
    assert [f["properties"]["minzoom"] for f in _mine(conn, "测试短巷", LabelRules(top_z=17))] == [17]
