"""Phones' batches of fixes, where is everyone, and a worker updating only itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text


def _fix(code, place, at, **extra):
    return {"worker": code, "lon": place.lon, "lat": place.lat, "at": at.isoformat(), **extra}


def test_a_batch_moves_the_worker_to_its_newest_fix_and_ignores_late_ones(client, auth, place, worker_code,
                                                                           api_engine):
    now = datetime.now(UTC)
    newer = {**_fix(worker_code, place, now + timedelta(seconds=30)), "lon": place.lon + 0.0001}
    older = _fix(worker_code, place, now)
    moved = client.post("/workers/positions", json={"fixes": [older, newer]}, headers=auth("grid_worker"))
    assert moved.status_code == 200
    [row] = moved.json()["moved"]
    assert row["code"] == worker_code and abs(row["lon"] - (place.lon + 0.0001)) < 1e-9
    late = client.post("/workers/positions", json={"fixes": [older]}, headers=auth("grid_worker")).json()
    assert late == {"moved": [], "stale": 1}
    with api_engine.connect() as conn:
        audited = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'positions'"
                                    " AND actor = 'grid_worker:grid_worker-key'")).scalar_one()
    assert audited >= 2


def test_a_worker_may_not_move_another_worker(client, auth, place, api_engine, worker_code):
    with api_engine.connect() as conn:
        other = conn.execute(text("SELECT code FROM grid_worker WHERE code <> :c ORDER BY code LIMIT 1"),
                             {"c": worker_code}).scalar_one()
    fix = _fix(other, place, datetime.now(UTC))
    refused = client.post("/workers/positions", json={"fixes": [fix]}, headers=auth("grid_worker"))
    assert refused.status_code == 403
    assert client.post("/workers/positions", json={"fixes": [fix]}, headers=auth("operator")).status_code == 200
    assert client.post("/workers/positions", json={"fixes": [fix]}, headers=auth("wall")).status_code == 403


def test_unknown_workers_and_half_points_are_422_with_the_index(client, auth, place):
    now = datetime.now(UTC)
    unknown = client.post("/workers/positions", json={"fixes": [_fix("nobody", place, now)]},
                          headers=auth("operator"))
    assert unknown.status_code == 422 and unknown.json()["error"]["feature"] == 0
    half = {"worker": "x", "lon": 1.0, "at": now.isoformat()}
    bad = client.post("/workers/positions", json={"fixes": [half]}, headers=auth("operator"))
    assert bad.status_code == 422 and bad.json()["error"]["source"] == "body"


def test_where_is_everyone(client, auth, api_engine):
    with api_engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM grid_worker")).scalar_one()
    body = client.get("/workers/live", headers=auth("wall")).json()
    assert len(body["workers"]) == total and sum(body["by_status"].values()) == total
    assert {"code", "status", "lon", "lat", "grid_code", "event_id", "stale"} <= set(body["workers"][0])
    geo = client.get("/workers/live", params={"format": "geojson", "status": "on_duty"}, headers=auth("wall")).json()
    assert geo["type"] == "FeatureCollection" and all(f["properties"]["status"] == "on_duty" for f in geo["features"])
    assert client.get("/workers/me", headers=auth("operator")).status_code == 403
