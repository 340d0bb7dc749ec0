"""GeoJSON layers: bbox, filters, paging, grid versions, department scoping."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.conftest import DEPARTMENT


def test_the_layer_list_names_every_served_layer(client, auth):
    names = {layer["name"] for layer in client.get("/layers", headers=auth("wall")).json()}
    assert {"grids", "buildings", "components", "cameras", "resources", "workers", "events", "admin_areas"} <= names


def test_a_page_of_cameras_is_geojson_with_a_next_link(client, auth, api_engine):
    with api_engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM camera")).scalar_one()
    response = client.get("/layers/cameras", params={"limit": 10}, headers=auth("analyst"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == total
    assert len(body["features"]) == 10 and body["features"][0]["geometry"]["type"] == "Point"
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    second = client.get(nxt, headers=auth("analyst")).json()
    assert {f["id"] for f in second["features"]}.isdisjoint(f["id"] for f in body["features"])


def test_bbox_and_filters_narrow_the_features(client, auth, api_engine):
    with api_engine.connect() as conn:
        box = conn.execute(text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                                " (SELECT ST_Extent(geom) AS e FROM camera) q")).one()
        domes = conn.execute(text("SELECT count(*) FROM camera WHERE kind = 'dome' AND online")).scalar_one()
    half = f"{box[0]},{box[1]},{(box[0] + box[2]) / 2},{box[3]}"
    everything = client.get("/layers/cameras", params={"limit": 1}, headers=auth("wall")).json()["numberMatched"]
    west = client.get("/layers/cameras", params={"bbox": half, "limit": 1}, headers=auth("wall")).json()
    assert 0 < west["numberMatched"] < everything
    filtered = client.get("/layers/cameras", params=[("filter", "kind:dome"), ("filter", "online:true")],
                          headers=auth("wall")).json()
    assert filtered["numberMatched"] == domes
    assert all(f["properties"]["kind"] == "dome" for f in filtered["features"])


def test_grids_are_the_current_version_or_the_one_asked_for(client, auth, api_engine):
    with api_engine.connect() as conn:
        current = conn.execute(text("SELECT id FROM grid_version WHERE is_current")).scalar_one()
        count = conn.execute(text("SELECT count(*) FROM grid WHERE version_id = :v"), {"v": current}).scalar_one()
    now = client.get("/layers/grids", params={"limit": 1000}, headers=auth("planner")).json()
    asked = client.get("/layers/grids", params={"version": current, "limit": 1}, headers=auth("planner")).json()
    assert now["numberMatched"] == asked["numberMatched"] == count
    none = client.get("/layers/grids", params={"version": 999999}, headers=auth("planner")).json()
    assert none["numberMatched"] == 0


def test_a_department_sees_only_its_cameras_and_events(client, auth, api_engine):
    with api_engine.connect() as conn:
        own = conn.execute(text("SELECT count(*) FROM camera WHERE owner_dept = :d"), {"d": DEPARTMENT}).scalar_one()
        other = conn.execute(text("SELECT id FROM camera WHERE owner_dept <> :d ORDER BY id LIMIT 1"),
                             {"d": DEPARTMENT}).scalar_one()
    cams = client.get("/layers/cameras", params={"limit": 10000}, headers=auth("department")).json()
    assert cams["numberMatched"] == own > 0
    assert {f["properties"]["owner_dept"] for f in cams["features"]} == {DEPARTMENT}
    events = client.get("/layers/events", params={"limit": 500}, headers=auth("department")).json()
    assert {f["properties"]["department"] for f in events["features"]} <= {DEPARTMENT}
    assert client.get(f"/layers/cameras/{other}", headers=auth("department")).status_code == 404
    assert client.get(f"/layers/cameras/{other}", headers=auth("operator")).status_code == 200


def test_bad_filters_and_boxes_are_422_naming_the_parameter(client, auth):
    bad = client.get("/layers/cameras", params={"filter": "colour:red"}, headers=auth("wall"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "filter"
    typed = client.get("/layers/cameras", params={"filter": "cam_class:first"}, headers=auth("wall"))
    assert typed.status_code == 422 and typed.json()["error"]["field"] == "cam_class"
    box = client.get("/layers/cameras", params={"bbox": "1,2,3"}, headers=auth("wall"))
    assert box.status_code == 422 and box.json()["error"]["field"] == "bbox"
    inside_out = client.get("/layers/cameras", params={"bbox": "10,10,0,0"}, headers=auth("wall"))
    assert inside_out.status_code == 422
    assert client.get("/layers/nothing", headers=auth("wall")).status_code == 422


def test_clusters_count_every_camera_once_at_any_zoom(client, auth, api_engine):
    with api_engine.connect() as conn:
        total, online = conn.execute(text("SELECT count(*), count(*) FILTER (WHERE online) FROM camera")).one()
        box = conn.execute(text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                                " (SELECT ST_Extent(geom) AS e FROM camera) q")).one()
    cells = {}
    for zoom in (10, 14, 18):
        response = client.get("/layers/cameras/clusters", params={"zoom": zoom}, headers=auth("wall"))
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
        body = response.json()
        counts = [f["properties"]["count"] for f in body["features"]]
        assert body["numberMatched"] == sum(counts) == total
        assert sum(f["properties"]["online"] for f in body["features"]) == online
        for f in body["features"]:  # a cell sits at the mean of its cameras: inside their extent
            lon, lat = f["geometry"]["coordinates"]
            assert box[0] - 1e-6 <= lon <= box[2] + 1e-6 and box[1] - 1e-6 <= lat <= box[3] + 1e-6
        cells[zoom] = len(counts)
    assert cells[10] < cells[14] < cells[18]


def test_clusters_keep_the_scope_of_the_layer_query(client, auth, api_engine):
    with api_engine.connect() as conn:
        own = conn.execute(text("SELECT count(*) FROM camera WHERE owner_dept = :d"), {"d": DEPARTMENT}).scalar_one()
        domes = conn.execute(text("SELECT count(*) FROM camera WHERE kind = 'dome'")).scalar_one()
        blocks = conn.execute(text("SELECT count(*) FROM block")).scalar_one()
    dept = client.get("/layers/cameras/clusters", params={"zoom": 14}, headers=auth("department")).json()
    assert dept["numberMatched"] == own
    filtered = client.get("/layers/cameras/clusters", params={"zoom": 14, "filter": "kind:dome"},
                          headers=auth("wall")).json()
    assert filtered["numberMatched"] == domes
    polygons = client.get("/layers/blocks/clusters", params={"zoom": 12}, headers=auth("wall")).json()
    assert polygons["numberMatched"] == blocks and "online" not in polygons["features"][0]["properties"]
    bad = client.get("/layers/cameras/clusters", params={"zoom": 23}, headers=auth("wall"))
    assert bad.status_code == 422 and "zoom" in bad.text
