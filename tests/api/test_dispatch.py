"""Dispatch over HTTP: suggestions at a point and for an event; sending a worker, cameras, resources; one wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from command.lifecycle import release_workers
from tests.api.conftest import event_body, unique


@pytest.fixture(autouse=True)
def _a_quiet_neighbourhood(api_engine, place) -> None:
    """No other module's free workers within a few metres of the place: each test here puts its own there and asks
    who is nearest (modules share the store, and other modules' workers stand on the place too)."""
    with api_engine.begin() as conn:
        conn.execute(text("UPDATE grid_worker SET status = 'off_duty' WHERE status = 'on_duty'"
                          " AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 0.0005)"),
                     {"lon": place.lon, "lat": place.lat})


def _worker_at(api_engine, place, fix_age_s: float = 0.0) -> tuple[int, str]:
    """An on-duty worker a few metres from the place, whose fix is ``fix_age_s`` seconds old."""
    code = unique("W")
    with api_engine.begin() as conn:
        wid = conn.execute(text(
            "INSERT INTO grid_worker (code, name, status, updated_at, geom) VALUES (:c, :c, 'on_duty',"
            " now() - make_interval(secs => CAST(:age AS float8)),"
            " ST_SetSRID(ST_MakePoint(:lon + 0.00002, :lat), 4326)) RETURNING id"
        ), {"c": code, "lon": place.lon, "lat": place.lat, "age": fix_age_s}).scalar_one()
    return wid, code


def test_nearest_workers_cameras_and_resources_at_a_point(client, auth, place, api_engine):
    wid, _ = _worker_at(api_engine, place)
    point = {"lon": place.lon, "lat": place.lat}
    workers = client.get("/dispatch/workers", params={**point, "network_top": 0}, headers=auth("wall")).json()
    assert workers[0]["worker_id"] == wid and workers[0]["straight_m"] < 5
    cams = client.get("/dispatch/cameras", params=point, headers=auth("operator"))
    assert cams.status_code == 200 and isinstance(cams.json(), list)
    res = client.get("/dispatch/resources", params={**point, "kind": ["hospital"]}, headers=auth("operator")).json()
    assert [r["kind"] for r in res] == ["hospital"]
    far = client.get("/dispatch/workers", params={"lon": 500, "lat": 0}, headers=auth("wall"))
    assert far.status_code == 422 and far.json()["error"]["field"] == "lon"


def test_sending_a_worker_books_them_and_a_second_operator_gets_409(client, auth, place, api_engine):
    wid, code = _worker_at(api_engine, place)
    first = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    second = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    suggested = client.get(f"/events/{first}/suggestions", headers=auth("operator")).json()
    assert wid in [w["worker_id"] for w in suggested["workers"]]
    sent = client.post(f"/events/{first}/dispatch/worker", json={"worker_id": wid}, headers=auth("operator"))
    assert sent.status_code == 200 and sent.json()["state"] == "dispatched"
    taken = client.post(f"/events/{second}/dispatch/worker", json={"worker_id": wid}, headers=auth("operator"))
    assert taken.status_code == 409 and code in taken.json()["error"]["message"]
    assert client.post(f"/events/{second}/dispatch/worker", json={}, headers=auth("wall")).status_code == 403
    with api_engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM grid_worker WHERE id = :w"), {"w": wid}).scalar_one() == "busy"


def test_a_worker_moves_only_the_event_it_was_sent_to(client, auth, place, api_engine, worker_code):
    with api_engine.begin() as conn:
        conn.execute(text("UPDATE grid_worker SET status = 'on_duty', updated_at = :t,"
                          " geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) WHERE code = :c AND status <> 'busy'"),
                     {"c": worker_code, "lon": place.lon, "lat": place.lat, "t": datetime.now(UTC)})
        wid = conn.execute(text("SELECT id FROM grid_worker WHERE code = :c"), {"c": worker_code}).scalar_one()
        conn.execute(text("UPDATE assignment SET released_at = now() WHERE worker_id = :w AND released_at IS NULL"),
                     {"w": wid})
        conn.execute(text("UPDATE grid_worker SET status = 'on_duty' WHERE id = :w"), {"w": wid})
    mine = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    other = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    sent = client.post(f"/events/{mine}/dispatch/worker", json={"worker_id": wid}, headers=auth("operator"))
    assert sent.status_code == 200
    start = {"to_state": "in_progress"}
    assert client.post(f"/events/{other}/transitions", json=start, headers=auth("grid_worker")).status_code == 403
    assert client.post(f"/events/{mine}/transitions", json=start, headers=auth("grid_worker")).status_code == 200
    close = {"to_state": "closed"}
    assert client.post(f"/events/{mine}/transitions", json=close, headers=auth("grid_worker")).status_code == 403
    done = client.post(f"/events/{mine}/transitions", json={"to_state": "handled"}, headers=auth("grid_worker"))
    assert done.status_code == 200
    me = client.get("/workers/me", headers=auth("grid_worker")).json()
    assert me["code"] == worker_code and me["status"] == "on_duty" and me["event"] is None


def test_cameras_and_resources_are_linked_to_an_event(client, auth, place):
    fire = client.post("/events", json=event_body(place, category="070201"), headers=auth("operator")).json()["id"]
    cams = client.post(f"/events/{fire}/dispatch/cameras", json={"limit": 2}, headers=auth("operator"))
    assert cams.status_code == 200 and len(cams.json()) <= 2
    res = client.post(f"/events/{fire}/dispatch/resources", json={"limit": 1}, headers=auth("operator")).json()
    assert {r["kind"] for r in res} <= {"fire_station", "hospital"} and res
    detail = client.get(f"/events/{fire}", headers=auth("operator")).json()
    assert {a["kind"] for a in detail["assignments"]} >= {"resource"}


# --- issue #19: stale positions, 一键派遣 idempotent, busy resources released ---


def test_a_stale_position_is_not_offered_at_a_point(client, auth, place, api_engine):
    fresh, _ = _worker_at(api_engine, place)
    stale, _ = _worker_at(api_engine, place, fix_age_s=3 * 3600)
    point = {"lon": place.lon, "lat": place.lat, "network_top": 0, "limit": 50}
    offered = [w["worker_id"] for w in client.get("/dispatch/workers", params=point, headers=auth("wall")).json()]
    assert fresh in offered and stale not in offered


def test_the_dispatch_button_twice_answers_the_same_assignment(client, auth, place, api_engine):
    _worker_at(api_engine, place)
    second, _ = _worker_at(api_engine, place)
    event = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    first = client.post(f"/events/{event}/dispatch/worker", json={}, headers=auth("operator"))
    again = client.post(f"/events/{event}/dispatch/worker", json={}, headers=auth("operator"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["already"], again.json()["already"]) == (False, True)
    assert again.json()["assignment_id"] == first.json()["assignment_id"]
    active = "SELECT count(*) FROM assignment WHERE event_id = :e AND kind = 'worker' AND released_at IS NULL"
    with api_engine.connect() as conn:
        assert conn.execute(text(active), {"e": event}).scalar_one() == 1
    if first.json()["worker"]["worker_id"] != second:  # a second worker is sent by naming them
        extra = client.post(f"/events/{event}/dispatch/worker", json={"worker_id": second}, headers=auth("operator"))
        assert extra.status_code == 200 and extra.json()["already"] is False
        with api_engine.connect() as conn:
            assert conn.execute(text(active), {"e": event}).scalar_one() == 2
    with api_engine.begin() as conn:  # the button may have sent a district worker other tests count on: free them
        release_workers(conn, event, actor="test")


def _stations_at(api_engine, place) -> list[int]:
    """Two fire stations of this test's own, a few and a few more metres from the place (committed)."""
    with api_engine.begin() as conn:
        return [conn.execute(text(
            "INSERT INTO resource (code, name, kind, geom) VALUES (:c, :c, 'fire_station',"
            " ST_SetSRID(ST_MakePoint(:lon + :d, :lat), 4326)) RETURNING id"
        ), {"c": unique("FS"), "lon": place.lon, "lat": place.lat, "d": d}).scalar_one() for d in (0.00001, 0.00003)]


def test_called_resources_are_busy_until_released(client, auth, place, api_engine):
    near, further = _stations_at(api_engine, place)
    first = client.post("/events", json=event_body(place, category="070201"), headers=auth("operator")).json()["id"]
    second = client.post("/events", json=event_body(place, category="070201"), headers=auth("operator")).json()["id"]
    call = {"limit": 1}
    got = client.post(f"/events/{first}/dispatch/resources", json=call, headers=auth("operator")).json()
    assert near in [r["resource_id"] for r in got] and not any(r["already"] for r in got)
    again = client.post(f"/events/{first}/dispatch/resources", json=call, headers=auth("operator")).json()
    assert [(r["resource_id"], r["already"]) for r in again] == [(r["resource_id"], True) for r in got]
    theirs = client.post(f"/events/{second}/dispatch/resources", json=call, headers=auth("operator")).json()
    assert [r["resource_id"] for r in theirs if r["kind"] == "fire_station"] == [further]
    point = {"lon": place.lon, "lat": place.lat, "kind": ["fire_station"]}
    offered = client.get("/dispatch/resources", params=point, headers=auth("operator")).json()
    assert near not in [r["resource_id"] for r in offered] and further not in [r["resource_id"] for r in offered]
    assert client.post(f"/events/{first}/release/resources", headers=auth("wall")).status_code == 403
    freed = client.post(f"/events/{first}/release/resources", headers=auth("operator"))
    assert freed.status_code == 200
    assert sorted(freed.json()["resource_ids"]) == sorted(r["resource_id"] for r in got)
    offered = client.get("/dispatch/resources", params=point, headers=auth("operator")).json()
    assert [r["resource_id"] for r in offered] == [near]
    assert client.post("/events/999999999/release/resources", headers=auth("operator")).status_code == 404
    with api_engine.connect() as conn:
        held = conn.execute(text("SELECT count(*) FROM assignment WHERE event_id = :e AND kind = 'resource'"),
                            {"e": first}).scalar_one()
    assert held == len(got)  # the repeat added none
    client.post(f"/events/{second}/release/resources", headers=auth("operator"))
