"""Dispatch over HTTP: suggestions at a point and for an event; sending a worker, cameras, resources; one wins."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tests.api.conftest import event_body, unique


def _worker_at(api_engine, place) -> tuple[int, str]:
    """A fresh on-duty worker a few metres from the place."""
    code = unique("W")
    with api_engine.begin() as conn:
        wid = conn.execute(text(
            "INSERT INTO grid_worker (code, name, status, updated_at, geom) VALUES (:c, :c, 'on_duty', now(),"
            " ST_SetSRID(ST_MakePoint(:lon + 0.00002, :lat), 4326)) RETURNING id"
        ), {"c": code, "lon": place.lon, "lat": place.lat}).scalar_one()
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
