"""Issue #18: what used to be a 500 or quietly accepted is a 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.api.conftest import event_body


def _where(answer) -> tuple:
    error = answer.json()["error"]
    return answer.status_code, error["field"]


def test_a_point_half_a_world_away_is_a_422_on_lon_not_a_500(client, auth):
    far = client.get("/dispatch/workers", params={"lon": -147.88, "lat": 1.19e-07}, headers=auth("operator"))
    assert _where(far) == (422, "lon") and "离辖区太远" in far.json()["error"]["message"]
    english = client.get("/dispatch/workers", params={"lon": -147.88, "lat": 1.19e-07},
                         headers={**auth("operator"), "Accept-Language": "en"})
    assert "too far from the district" in english.json()["error"]["message"]


def test_event_times_outside_the_window_are_a_422_on_reported_at(client, auth, place):
    for at, why in (("9999-12-31T23:00:00+08:00", "超前当前时间"), ("2099-01-01T00:00:00Z", "超前当前时间"),
                    ("1900-01-01T00:00:00Z", "早于 2000-01-01")):
        answer = client.post("/events", json=event_body(place, reported_at=at), headers=auth("operator"))
        assert _where(answer) == (422, "reported_at") and why in answer.json()["error"]["message"], at
    batch = {"events": [event_body(place), event_body(place, reported_at="2099-01-01T00:00:00Z")]}
    answer = client.post("/events/batch", json=batch, headers=auth("operator"))
    assert _where(answer) == (422, "reported_at") and answer.json()["error"]["feature"] == 1
    now = client.post("/events", json=event_body(place, reported_at=datetime.now(UTC).isoformat()),
                      headers=auth("operator"))
    assert now.status_code == 201


def test_a_reused_external_id_with_another_payload_is_a_409_naming_the_first_event(client, auth, place):
    body = event_body(place)
    first = client.post("/events", json=body, headers=auth("operator"))
    assert first.status_code == 201
    assert client.post("/events", json=body, headers=auth("operator")).status_code == 200  # idempotent as before
    changed = client.post("/events", json={**body, "title": "another"}, headers=auth("operator"))
    error = changed.json()["error"]
    assert (changed.status_code, error["field"], error["event_id"], error["event_code"]) == (
        409, "external_id", first.json()["id"], first.json()["code"])


def test_worker_fixes_far_outside_or_from_the_future_are_refused_by_index(client, auth, place, worker_code,
                                                                          api_engine):
    now = datetime.now(UTC)
    good = {"worker": worker_code, "lon": place.lon, "lat": place.lat, "at": now.isoformat()}
    for bad, field in (({"lon": 0.0, "lat": 0.0}, "lon"), ({"lon": -74.006, "lat": 40.7128}, "lon"),
                       ({"at": "2099-01-01T00:00:00Z"}, "at")):
        answer = client.post("/workers/positions", json={"fixes": [good, {**good, **bad}]}, headers=auth("operator"))
        assert _where(answer) == (422, field) and answer.json()["error"]["feature"] == 1, bad
    with api_engine.connect() as conn:
        stored = conn.execute(text("SELECT updated_at FROM grid_worker WHERE code = :c"), {"c": worker_code}).scalar()
    assert stored is None or stored < now + timedelta(minutes=5)  # nothing from the refused batches was kept
    near = {**good, "lon": place.lon + 0.001}  # ~100 m off: still in (or within the margin of) the district
    assert client.post("/workers/positions", json={"fixes": [near]}, headers=auth("operator")).status_code == 200


def test_a_batch_names_the_event_reusing_an_external_id_with_another_payload(client, auth, place):
    first = event_body(place)
    assert client.post("/events", json=first, headers=auth("operator")).status_code == 201
    batch = [event_body(place), {**first, "title": "another"}]
    atomic = client.post("/events/batch", json={"events": batch}, headers=auth("operator"))
    error = atomic.json()["error"]
    assert (atomic.status_code, error["feature"], error["field"]) == (409, 1, "external_id") and error["event_code"]
    each = client.post("/events/batch", json={"events": batch, "atomic": False}, headers=auth("operator")).json()
    assert each["created"] == 1 and [(r["index"], r["field"]) for r in each["refused"]] == [(1, "external_id")]
