"""The wall server's payload cache and the basemap's slimming: tiny hand-checkable cases."""

from __future__ import annotations

import threading

from pydantic import SecretStr

from app.payloads import PayloadCache, basemap_payload, district_box, merged, rounded
from app.settings import WallSettings


def test_a_payload_is_built_once_while_fresh_even_when_asked_at_once():
    cache, calls = PayloadCache(), []
    gate = threading.Barrier(4)

    def build():
        calls.append(1)
        return {"features": [{"n": len(calls)}]}

    def ask():
        gate.wait()
        cache.get("blocks", build, max_age=60)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    got = cache.get("blocks", build, max_age=60)
    assert len(calls) == 1 and got.body == b'{"features":[{"n":1}]}' and got.etag.startswith('"')


def test_an_empty_answer_is_kept_only_a_few_seconds():
    cache = PayloadCache()
    assert cache.get("roads", lambda: {"features": []}, max_age=3600).max_age == 5
    assert cache.get("water", lambda: {"features": [{}]}, max_age=3600).max_age == 3600


def test_features_styled_alike_become_one_shape_and_coordinates_six_decimals():
    fc = {"features": [
        {"id": 1, "geometry": {"type": "Polygon", "coordinates": [[[112.12345678, 28.1], [112.2, 28.2],
                                                                     [112.3, 28.1], [112.12345678, 28.1]]]},
         "properties": {"kind": "a", "name": "x"}},
        {"id": 2, "geometry": {"type": "MultiPolygon", "coordinates": [[[[1, 1], [2, 2], [3, 1], [1, 1]]]]},
         "properties": {"kind": "a", "name": "y"}},
        {"id": 3, "geometry": {"type": "Polygon", "coordinates": [[[5, 5], [6, 6], [7, 5], [5, 5]]]},
         "properties": {"kind": "b"}},
        {"id": 4, "geometry": None, "properties": {"kind": "a"}},
    ]}
    slim = rounded(fc, ("kind",))
    assert slim["features"][0]["geometry"]["coordinates"][0][0] == [112.123457, 28.1]
    assert slim["features"][0]["properties"] == {"kind": "a"}
    out = merged(slim, ("kind",))["features"]
    assert [(f["properties"]["kind"], f["geometry"]["type"], len(f["geometry"]["coordinates"])) for f in out] == [
        ("a", "MultiPolygon", 2), ("b", "MultiPolygon", 1)]


def test_a_district_without_blocks_fits_its_outline_and_its_wall_counts_the_data_day(own_district):
    # payload level, as the wall's callbacks call them: a second Dash app in this process would break the
    # browser tests' (Dash keeps its pages' callbacks in one global list)
    from app.client import ApiClient
    from app.dataday import data_day
    from app.payloads import district_box
    from app.settings import WallSettings
    from tests.app.conftest import KEY, OWN_OUTLINE

    settings = WallSettings(api_url=own_district, api_key=SecretStr(KEY))
    cache = PayloadCache()
    (w, s), (e, n) = OWN_OUTLINE
    assert district_box(cache, settings) == [[s, w], [n, e]]  # the outline, not the events inside it
    assert basemap_payload(cache, settings, "blocks").data == {"type": "FeatureCollection", "features": []}
    day = data_day(cache, settings)  # the clock's now: 2018 is history on any day this runs
    assert day.label("en") == "Data day 2018-12-31 (historical data)"
    with ApiClient(settings) as api:
        figures = api.get_json("kpis", params=day.window())
    assert figures["total"] == 2  # the two events of that day, where today would show none


def test_without_an_outline_the_maps_fit_what_the_store_holds():
    cache = PayloadCache()
    wall = WallSettings(api_url="http://127.0.0.1:9")  # never asked: every payload below is in the cache
    square = {"features": [{"geometry": {"type": "Polygon", "coordinates": [[[1, 2], [3, 2], [3, 4], [1, 2]]]}}]}
    dot = {"features": [{"geometry": {"type": "Point", "coordinates": [5.0, 6.0]}}]}
    for name in ("district", "grids", "blocks"):
        cache.get(f"basemap:{name}", lambda: {"features": []}, max_age=60)
    cache.get("fit:events", lambda: dot, max_age=3600)
    assert district_box(cache, wall) == [[5.9975, 4.9975], [6.0025, 5.0025]]  # one event: widened to ~500 m
    cache = PayloadCache()
    for name, fc in (("district", {"features": []}), ("grids", {"features": []}), ("blocks", square)):
        cache.get(f"basemap:{name}", lambda fc=fc: fc, max_age=3600)
    assert district_box(cache, wall) == [[2, 1], [4, 3]]
