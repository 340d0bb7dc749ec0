"""Vector tiles: the same bytes as the bare ST_AsMVT, caching headers, 304s, scoping."""

from __future__ import annotations

import math

from sqlalchemy import text

from api.features import SERVED, Scope, tile_query
from api.security import Principal
from tests.api.conftest import DEPARTMENT


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


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
    x, y = _tile_of(place.lon, place.lat, 14)
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
    x, y = _tile_of(place.lon, place.lat, 15)
    ages = {layer: client.get(f"/tiles/{layer}/15/{x}/{y}.pbf", headers=auth("wall")).headers["cache-control"]
            for layer in ("events", "workers", "buildings")}
    assert ages == {"events": "private, max-age=5", "workers": "private, max-age=5",
                    "buildings": "private, max-age=86400"}


def test_a_department_tile_holds_only_its_cameras(client, auth, api_engine, place):
    x, y = _tile_of(place.lon, place.lat, 12)
    mine = client.get(f"/tiles/cameras/12/{x}/{y}.pbf", headers=auth("department")).content
    everyone = client.get(f"/tiles/cameras/12/{x}/{y}.pbf", headers=auth("operator")).content
    scope = Scope(Principal("d", "department", (DEPARTMENT,)))
    with api_engine.connect() as conn:
        stmt, params = tile_query(SERVED["cameras"], scope, 12, x, y)
        expected = bytes(conn.execute(stmt, params).scalar())
    assert mine == expected and 0 < len(mine) < len(everyone)


def test_tiles_below_a_layers_minimum_zoom_are_empty_and_out_of_range_is_422(client, auth):
    assert client.get("/tiles/buildings/3/6/3.pbf", headers=auth("wall")).content == b""
    bad = client.get("/tiles/cameras/2/4/0.pbf", headers=auth("wall"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "x"


def test_tilejson_points_at_the_tiles(client, auth):
    body = client.get("/tiles/cameras.json", headers=auth("wall")).json()
    assert body["tiles"][0].endswith("/tiles/cameras/{z}/{x}/{y}.pbf")


def test_tile_filters_and_grid_versions(client, auth, api_engine, place):
    x, y = _tile_of(place.lon, place.lat, 12)
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
    x, y = _tile_of(place.lon, place.lat, 14)
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
    empty = client.get("/tiles/buildings/3/6/3.pbf", headers={**auth("wall"), "Accept-Encoding": "gzip"})
    assert empty.status_code == 200 and empty.content == b"" and "content-encoding" not in empty.headers
