"""Camera sectors (scoped like cameras) and blind spots (for roles that see every camera)."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.conftest import DEPARTMENT


def test_sectors_are_geojson_and_a_department_sees_its_own(client, auth, api_engine, place):
    all_ = client.get("/coverage/sectors", params={"grid_id": place.grid_id}, headers=auth("operator")).json()
    mine = client.get("/coverage/sectors", params={"grid_id": place.grid_id}, headers=auth("department")).json()
    with api_engine.connect() as conn:
        own = set(conn.execute(text("SELECT id FROM camera WHERE owner_dept = :d AND grid_id = :g"),
                               {"d": DEPARTMENT, "g": place.grid_id}).scalars())
    assert all_["type"] == "FeatureCollection"
    assert {f["properties"]["camera_id"] for f in mine["features"]} == own


def test_blind_spots_per_grid(client, auth, place):
    rows = client.get("/coverage/blind-spots", params={"grid_id": place.grid_id}, headers=auth("planner")).json()
    assert [r["grid_id"] for r in rows] == [place.grid_id] and 0 <= rows[0]["blind_share"] <= 1
    geo = client.get("/coverage/blind-spots", params={"grid_id": place.grid_id, "format": "geojson"},
                     headers=auth("wall")).json()
    assert geo["type"] == "FeatureCollection"
    assert client.get("/coverage/blind-spots", headers=auth("department")).status_code == 403
