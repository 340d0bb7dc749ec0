"""OGC API – Features: the documents by hand, and GDAL's OAPIF driver reading a layer off a real server."""

from __future__ import annotations

from datetime import datetime

import pyogrio
import pytest
from sqlalchemy import text


def test_landing_conformance_and_collections(client, auth):
    landing = client.get("/ogc", headers=auth("analyst")).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conformance = client.get("/ogc/conformance", headers=auth("analyst")).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    collections = client.get("/ogc/collections", headers=auth("analyst")).json()["collections"]
    cams = next(c for c in collections if c["id"] == "cameras")
    minx, miny, maxx, maxy = cams["extent"]["spatial"]["bbox"][0]
    assert minx < maxx and miny < maxy
    assert cams["extent"]["spatial"]["crs"].endswith("CRS84")


def test_items_page_with_next_links_and_one_item(client, auth):
    page = client.get("/ogc/collections/resources/items", params={"limit": 5}, headers=auth("analyst"))
    assert page.headers["content-type"].startswith("application/geo+json")
    body = page.json()
    assert body["numberReturned"] == 5 and body["numberMatched"] > 5
    nxt = next(link for link in body["links"] if link["rel"] == "next")
    assert "offset=5" in nxt["href"]
    fid = body["features"][0]["id"]
    one = client.get(f"/ogc/collections/resources/items/{fid}", headers=auth("analyst")).json()
    assert one["id"] == fid and one["type"] == "Feature"
    assert client.get("/ogc/collections/resources/items/999999999", headers=auth("analyst")).status_code == 404


@pytest.fixture
def gdal_key(keys):
    """GDAL sends the analyst's key as a bearer token on every request of the test (as QGIS would)."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": keys["analyst"]})
    yield
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})


def test_gdal_oapif_reads_a_layer(live_server, gdal_key, api_engine):
    url = f"OAPIF:{live_server.url}/ogc"
    names = [name for name, _ in pyogrio.list_layers(url)]
    assert "cameras" in names and "grids" in names
    frame = pyogrio.read_dataframe(url, layer="resources")
    with api_engine.connect() as conn:
        codes = set(conn.execute(text("SELECT code FROM resource")).scalars())
    assert set(frame["code"]) == codes
    assert frame.geometry.geom_type.eq("Point").all()


@pytest.mark.parametrize("url", ["/ogc", "/ogc/collections", "/ogc/collections/cameras",
                                 "/ogc/collections/cameras/items"])
def test_unknown_query_parameters_are_400_naming_them(client, auth, url):
    params = {"sortby": "id", "limit": 2} if url.endswith("/items") else {"sortby": "id"}
    answer = client.get(url, params=params, headers=auth("analyst"))
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "BadRequest" and error["field"] == "sortby"
    assert "sortby" in error["message"]


def test_known_parameters_and_the_key_in_the_query_pass(client, keys):
    answer = client.get("/ogc/collections/cameras/items",
                        params={"limit": 2, "offset": 1, "bbox": "-180,-90,180,90", "api_key": keys["analyst"]})
    assert answer.status_code == 200 and answer.json()["numberReturned"] == 2


@pytest.mark.parametrize("url", ["/ogc/collections/nope", "/ogc/collections/nope/items",
                                 "/ogc/collections/nope/items/1"])
def test_unknown_collection_is_404(client, auth, url):
    answer = client.get(url, headers=auth("analyst"))
    assert answer.status_code == 404
    assert "cameras" in answer.json()["error"]["message"]


def test_crs_parameters_take_only_crs84(client, auth):
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    url = "/ogc/collections/cameras/items"
    ok = client.get(url, params={"crs": crs84, "bbox-crs": crs84, "limit": 1}, headers=auth("analyst"))
    assert ok.status_code == 200
    other = client.get(url, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4490"}, headers=auth("analyst"))
    assert other.status_code == 400 and other.json()["error"]["field"] == "crs"
    assert client.get("/ogc/collections", params={"crs": crs84}, headers=auth("analyst")).status_code == 400


def _count(api_engine, where: str, **values) -> int:
    with api_engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM event WHERE {where}"), values).scalar_one()


def test_datetime_instant_and_intervals_on_events(client, auth, api_engine):
    with api_engine.connect() as conn:
        middle = conn.execute(text("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY reported_at) FROM event")
                              ).scalar_one()
    url, headers = "/ogc/collections/events/items", auth("admin")

    def matched(value: str) -> int:
        answer = client.get(url, params={"datetime": value, "limit": 1}, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()["numberMatched"]

    stamp = middle.isoformat()
    assert matched(f"{stamp}/..") == _count(api_engine, "reported_at >= :t", t=middle)
    assert matched(f"../{stamp}") == _count(api_engine, "reported_at <= :t", t=middle)
    assert matched(f"{stamp}/") == matched(f"{stamp}/..")
    assert matched(stamp) == _count(api_engine, "reported_at = :t", t=middle) >= 1
    assert matched(f"{stamp}/{stamp}") == matched(stamp)


@pytest.mark.parametrize("value", ["yesterday", "2026-11-20T08:00:00", "../..",
                                   "2026-11-21T00:00:00Z/2026-11-20T00:00:00Z",
                                   "2026-11-20T00:00:00Z/2026-11-21T00:00:00Z/2026-11-22T00:00:00Z"])
def test_malformed_datetime_is_400(client, auth, value):
    answer = client.get("/ogc/collections/events/items", params={"datetime": value}, headers=auth("admin"))
    assert answer.status_code == 400 and answer.json()["error"]["field"] == "datetime"


def test_datetime_on_a_layer_without_time_is_400(client, auth):
    answer = client.get("/ogc/collections/roads/items", params={"datetime": "2026-11-20T00:00:00Z/.."},
                        headers=auth("analyst"))
    assert answer.status_code == 400 and "roads" in answer.json()["error"]["message"]


def test_time_bearing_collections_give_their_temporal_extent(client, auth, api_engine):
    events = client.get("/ogc/collections/events", headers=auth("admin")).json()
    first, last = events["extent"]["temporal"]["interval"][0]
    with api_engine.connect() as conn:
        low, high = conn.execute(text("SELECT min(reported_at), max(reported_at) FROM event")).one()
    assert (datetime.fromisoformat(first), datetime.fromisoformat(last)) == (low, high)
    assert "temporal" not in client.get("/ogc/collections/roads", headers=auth("admin")).json()["extent"]
