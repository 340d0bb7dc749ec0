"""Search over HTTP: a place by a typed address (``/addresses``) and events by words (``/events?q=``).

The building 民亭街6号 (a street the demo district does not have) is made here, inside the place's grid, so the
answers are known.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.api.conftest import event_body, report_time, unique

CONTRACT = {"label", "address", "name", "lon", "lat", "score", "grid_code"}


@pytest.fixture(scope="module")
def minting(api_engine, place) -> dict:
    """The building at 民亭街6号 beside the place, and its grid's code (committed: the service reads it)."""
    with api_engine.begin() as conn:
        building = conn.execute(text(
            "INSERT INTO building (code, zone, address, geom) VALUES ('test-search-minting-6', 'inner', '民亭街6号',"
            " ST_Multi(ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 0.00005))) RETURNING id"
        ), {"lon": place.lon, "lat": place.lat}).scalar_one()
        grid = conn.execute(text("SELECT code FROM grid WHERE id = :g"), {"g": place.grid_id}).scalar_one()
    return {"id": building, "grid_code": grid}


@pytest.mark.parametrize("typed, exact", [
    ("开福区民亭街6号", True), ("民亭街6号", True),
    ("湖南省长沙市开福区民亭街6号", True), ("民亭街6号1栋2单元302室", False),
])
def test_an_address_with_or_without_the_district_finds_the_building(client, auth, minting, typed, exact):
    answer = client.get("/addresses", params={"q": typed, "limit": 3}, headers=auth("operator"))
    assert answer.status_code == 200, answer.text
    hits = answer.json()
    assert 1 <= len(hits) <= 3
    best = hits[0]
    assert CONTRACT <= set(best)
    assert (best["address"], best["label"], best["name"], best["grid_code"], best["kind"], best["id"]) == (
        "民亭街6号", "民亭街6号", None, minting["grid_code"], "building", minting["id"])
    assert (best["score"] == 1.0) is exact
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_every_reader_searches_and_a_bad_query_is_named(client, auth, minting):
    assert client.get("/addresses", params={"q": "民亭街6号"}, headers=auth("grid_worker")).status_code == 200
    assert client.get("/addresses", params={"q": "民亭街6号"}, headers=auth("open311")).status_code == 403
    assert client.get("/addresses", params={"q": "民亭街6号"}).status_code == 401
    for params in ({}, {"q": ""}, {"q": "x" * 201}, {"q": "民亭街6号", "limit": 0}, {"q": "a\x00b"}):
        refused = client.get("/addresses", params=params, headers=auth("operator"))
        assert refused.status_code == 422, (params, refused.text)
    assert client.get("/addresses", params={"q": "火星路1号"}, headers=auth("operator")).json() == []


def test_a_hotline_call_with_the_district_in_its_address_is_routed_to_the_building(client, auth, place, minting):
    body = {"channel": "hotline", "external_id": unique("hotline"), "category": "020101",
            "address": "开福区民亭街6号", "reported_at": report_time()}
    filed = client.post("/events", json=body, headers=auth("operator"))
    assert filed.status_code == 201, filed.text
    assert (filed.json()["location_kind"], filed.json()["grid_id"]) == ("address", place.grid_id)


def _file(client, auth, place, **extra) -> dict:
    answer = client.post("/events", json=event_body(place, **extra), headers=auth("operator"))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _found(client, auth, q: str, role: str = "operator") -> list[int]:
    answer = client.get("/events", params={"q": q, "limit": 100}, headers=auth(role))
    assert answer.status_code == 200, answer.text
    return [e["id"] for e in answer.json()["events"]]


def test_events_are_found_by_code_address_and_words_of_title_or_description(client, auth, place, api_engine,
                                                                            minting):
    token = "检索" + uuid.uuid4().hex[:8]
    with api_engine.connect() as conn:
        police = conn.execute(text(
            "SELECT code FROM event_class WHERE level = 3 AND department <> '城管局'"
            " AND version_id = (SELECT id FROM taxonomy_version WHERE is_current) ORDER BY code LIMIT 1")).scalar_one()
    noisy = _file(client, auth, place, title=f"{token} 噪声", description="夜间施工扰民", address="民亭街6号")
    other = _file(client, auth, place, category=police, title=f"占道 {token.upper()}")
    assert sorted(_found(client, auth, token)) == sorted([noisy["id"], other["id"]]), "case-insensitive, any field"
    assert _found(client, auth, f"{token} 夜间施工") == [noisy["id"]], "every word must be somewhere"
    assert _found(client, auth, f"施工  {token}") == [noisy["id"]], "in any order"
    assert _found(client, auth, noisy["code"]) == [noisy["id"]]
    assert noisy["id"] in _found(client, auth, "开福区民亭街6号"), "the district's prefix is ignored, as for places"
    assert _found(client, auth, f"{token} 火星") == []
    # scoped like the list: the department key (城管局) sees its own event only
    assert _found(client, auth, token, role="department") == [noisy["id"]]


def test_like_wildcards_are_text_and_a_bad_q_is_named(client, auth, place):
    assert client.get("/events", params={"limit": 1}, headers=auth("operator")).json()["events"], "events exist"
    assert _found(client, auth, "%") == []
    assert _found(client, auth, "_") == []
    for q in ("x" * 201, "a\x00b"):
        refused = client.get("/events", params={"q": q}, headers=auth("operator"))
        assert refused.status_code == 422, refused.text
