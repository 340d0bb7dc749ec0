"""Vector tiles: the same bytes as the bare ST_AsMVT, caching headers, 304s, scoping, minimum zooms, and events
tiles of open and recent events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from api.features import SERVED, Scope, tile_query
from api.security import Principal
from tests.api.conftest import DEPARTMENT, tile_ids, tile_of


def _bare(conn, z, x, y) -> bytes:
    return bytes(conn.execute(text("""
        SELECT ST_AsMVT(q, 'cameras', 4096, 'mvtgeom', 'id') FROM (
            SELECT id, code, name, kind, heading_deg, fov_deg, range_m, cam_class, owner_dept, online, last_seen,
                   grid_id, ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y), 4096, 64, true)
                   AS mvtgeom
            FROM camera
            WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), 4326)
        ) q
    """), {"z": z, "x": x, "y": y}).scalar())


def test_a_camera_tile_is_the_bare_st_asmvt_with_cache_headers(client, auth, api_engine, place):
    x, y = tile_of(place.lon, place.lat, 14)
    response = client.get(f"/tiles/cameras/14/{x}/{y}.pbf", headers=auth("wall"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert response.headers["cache-control"] == "private, max-age=60"
    with api_engine.connect() as conn:
        assert response.content == _bare(conn, 14, x, y) and len(response.content) > 100
    again = client.get(f"/tiles/cameras/14/{x}/{y}.pbf",
                       headers={**auth("wall"), "If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_max_age_suits_the_layer(client, auth, place):
    x, y = tile_of(place.lon, place.lat, 15)
    ages = {layer: client.get(f"/tiles/{layer}/15/{x}/{y}.pbf", headers=auth("wall")).headers["cache-control"]
            for layer in ("events", "workers", "buildings")}
    assert ages == {"events": "private, max-age=5", "workers": "private, max-age=5",
                    "buildings": "private, max-age=86400"}


def test_a_department_tile_holds_only_its_cameras(client, auth, api_engine, place):
    x, y = tile_of(place.lon, place.lat, 12)
    mine = client.get(f"/tiles/cameras/12/{x}/{y}.pbf", headers=auth("department")).content
    everyone = client.get(f"/tiles/cameras/12/{x}/{y}.pbf", headers=auth("operator")).content
    scope = Scope(Principal("d", "department", (DEPARTMENT,)))
    with api_engine.connect() as conn:
        stmt, params = tile_query(SERVED["cameras"], scope, 12, x, y)
        expected = bytes(conn.execute(stmt, params).scalar())
    assert mine == expected and 0 < len(mine) < len(everyone)


@pytest.mark.parametrize(("layer", "minzoom"), [("buildings", 13), ("events", 10), ("cameras", 12),
                                              ("components", 14)])
def test_below_a_layers_minimum_zoom_there_is_no_tile(client, auth, place, layer, minzoom):
    x, y = tile_of(place.lon, place.lat, minzoom - 1)
    below = client.get(f"/tiles/{layer}/{minzoom - 1}/{x}/{y}.pbf", headers={**auth("wall"), "Accept-Encoding": "gzip"})
    assert below.status_code == 204 and below.content == b"" and "content-encoding" not in below.headers
    assert "etag" not in below.headers and below.headers["cache-control"] == "private, max-age=86400"
    x, y = tile_of(place.lon, place.lat, minzoom)
    at = client.get(f"/tiles/{layer}/{minzoom}/{x}/{y}.pbf", headers=auth("wall"))
    assert at.status_code == 200 and at.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert client.get(f"/tiles/{layer}.json", headers=auth("wall")).json()["minzoom"] == minzoom


def test_a_tile_out_of_range_is_422_below_the_minimum_zoom_too(client, auth):
    for layer in ("cameras", "buildings"):
        bad = client.get(f"/tiles/{layer}/2/4/0.pbf", headers=auth("wall"))
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "x"


def test_tilejson_points_at_the_tiles(client, auth):
    body = client.get("/tiles/cameras.json", headers=auth("wall")).json()
    assert body["tiles"][0].endswith("/tiles/cameras/{z}/{x}/{y}.pbf")


def test_tile_filters_and_grid_versions(client, auth, api_engine, place):
    x, y = tile_of(place.lon, place.lat, 12)
    everything = client.get(f"/tiles/cameras/12/{x}/{y}.pbf", headers=auth("wall")).content
    domes = client.get(f"/tiles/cameras/12/{x}/{y}.pbf", params={"filter": "kind:dome|ptz"}, headers=auth("wall"))
    assert domes.status_code == 200 and 0 < len(domes.content) < len(everything)
    with api_engine.connect() as conn:
        current = conn.execute(text("SELECT id FROM grid_version WHERE is_current")).scalar_one()
    grids = client.get(f"/tiles/grids/12/{x}/{y}.pbf", headers=auth("planner")).content
    same = client.get(f"/tiles/grids/12/{x}/{y}.pbf", params={"version": current}, headers=auth("planner")).content
    none = client.get(f"/tiles/grids/12/{x}/{y}.pbf", params={"version": 999999}, headers=auth("planner")).content
    assert grids == same and len(grids) > 0 and none == b""


def test_a_tile_goes_gzipped_to_a_client_that_accepts_it_and_as_it_is_to_one_that_does_not(client, auth, place):
    x, y = tile_of(place.lon, place.lat, 14)
    url = f"/tiles/cameras/14/{x}/{y}.pbf"
    plain = client.get(url, headers={**auth("wall"), "Accept-Encoding": "identity"})
    packed = client.get(url, headers={**auth("wall"), "Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == plain.content  # decoded by the client: the same tile
    assert packed.num_bytes_downloaded < 0.7 * plain.num_bytes_downloaded  # and smaller on the wire
    assert packed.headers["etag"] != plain.headers["etag"]  # two representations, two ETags
    again = client.get(url, headers={**auth("wall"), "Accept-Encoding": "gzip",
                                     "If-None-Match": packed.headers["etag"]})
    assert again.status_code == 304


def test_a_small_tile_is_not_worth_gzipping(client, auth):
    empty = client.get("/tiles/buildings/13/0/0.pbf", headers={**auth("wall"), "Accept-Encoding": "gzip"})
    assert empty.status_code == 200 and empty.content == b"" and "content-encoding" not in empty.headers


# -- events tiles: open and recent events unless ?all=true -------------------------------------------------------

@pytest.fixture
def aged_events(api_engine, place):
    """Three events at the place: open and old, closed and old, closed yesterday (removed afterwards)."""
    tag = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    rows = {"open_old": ("accepted", now - timedelta(days=400)), "closed_old": ("closed", now - timedelta(days=30)),
            "closed_recent": ("closed", now - timedelta(days=1))}
    ids = {}
    with api_engine.begin() as conn:
        for name, (state, at) in rows.items():
            ids[name] = conn.execute(text("""
                INSERT INTO event (code, channel, external_id, category_code, title, department, state, reported_at,
                                   geom)
                VALUES (:code, 'patrol', :code, '020101', 'tile test', :dept, :state, :at,
                        ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
                RETURNING id
            """), {"code": f"TILE-{tag}-{name}", "dept": DEPARTMENT, "state": state, "at": at, "lon": place.lon,
                   "lat": place.lat}).scalar_one()
    yield ids
    with api_engine.begin() as conn:
        conn.execute(text("DELETE FROM event WHERE code LIKE :p"), {"p": f"TILE-{tag}-%"})


def test_the_mvt_reader_of_these_tests_reads_the_ids_postgis_wrote(api_engine):
    with api_engine.connect() as conn:
        tile = bytes(conn.execute(text(
            "SELECT ST_AsMVT(q, 'l', 4096, 'g', 'id') FROM (SELECT * FROM (VALUES (7, ST_Point(1, 1)), "
            "(300, ST_Point(2, 2))) AS v(id, g)) q")).scalar())
    assert tile_ids(tile) == {7, 300}


def test_an_events_tile_holds_the_open_and_the_recent_events_unless_all_are_asked(client, auth, place, aged_events):
    x, y = tile_of(place.lon, place.lat, 16)
    url = f"/tiles/events/16/{x}/{y}.pbf"
    default = tile_ids(client.get(url, headers=auth("wall")).content)
    everything = tile_ids(client.get(url, params={"all": "true"}, headers=auth("wall")).content)
    assert {aged_events["open_old"], aged_events["closed_recent"]} <= default
    assert aged_events["closed_old"] not in default
    assert set(aged_events.values()) <= everything and default < everything


def test_the_recent_window_is_a_setting(api_settings, api_db, auth, place, aged_events):
    from fastapi.testclient import TestClient

    from api.main import create_app

    longer = api_settings.model_copy(update={"tiles_recent_days": 60})
    x, y = tile_of(place.lon, place.lat, 16)
    with TestClient(create_app(longer, api_db)) as other:
        ids = tile_ids(other.get(f"/tiles/events/16/{x}/{y}.pbf", headers=auth("wall")).content)
    assert aged_events["closed_old"] in ids  # thirty days ago is within sixty


def test_the_setting_comes_from_the_environment(monkeypatch):
    from api.settings import ApiSettings

    assert ApiSettings(environment="development").tiles_recent_days == 7
    monkeypatch.setenv("GRIDWALL_API_TILES_RECENT_DAYS", "2")
    assert ApiSettings(environment="development").tiles_recent_days == 2
