"""Intake (single and batch), one event, moves through the loop, supervision; every write audited."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.conftest import event_body, unique


def _audit(api_engine, entity_id, action) -> int:
    with api_engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log WHERE entity = 'event' AND entity_id = :i"
                                 " AND action = :a"), {"i": str(entity_id), "a": action}).scalar_one()


def test_intake_registers_once_and_answers_the_first_registration_on_repeat(client, auth, place, api_engine):
    body = event_body(place)
    first = client.post("/events", json=body, headers=auth("operator"))
    assert first.status_code == 201
    got = first.json()
    assert got["created"] and got["grid_id"] == place.grid_id and got["department"] == "城管局"
    again = client.post("/events", json=body, headers=auth("operator"))
    assert again.status_code == 200 and again.json()["id"] == got["id"] and not again.json()["created"]
    assert _audit(api_engine, got["id"], "intake") == 1
    detail = client.get(f"/events/{got['id']}", headers=auth("wall")).json()
    assert detail["code"] == got["code"] and detail["history"][0]["to_state"] == "reported"
    assert detail["history"][0]["actor"] == "operator:operator-key"


def test_batch_intake_is_all_or_nothing_by_default(client, auth, place, api_engine):
    good, bad = event_body(place), event_body(place, category="no such class")
    refused = client.post("/events/batch", json={"events": [good, bad]}, headers=auth("operator"))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["feature"] == 1 and error["field"] == "category"
    with api_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event WHERE external_id = :x"),
                            {"x": good["external_id"]}).scalar_one() == 0
    partial = client.post("/events/batch", json={"events": [good, bad], "atomic": False}, headers=auth("operator"))
    assert partial.status_code == 200
    body = partial.json()
    assert body["created"] == 1 and body["refused"] == [{"index": 1, "message": body["refused"][0]["message"],
                                                         "field": "category"}]


def test_an_event_moves_through_the_loop_and_a_wrong_move_is_409_with_the_allowed_ones(client, auth, place):
    event_id = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    wrong = client.post(f"/events/{event_id}/transitions", json={"to_state": "closed"}, headers=auth("operator"))
    assert wrong.status_code == 409
    assert wrong.json()["error"]["allowed"] == ["accepted", "rejected"]
    for state, note in (("accepted", None), ("rejected", "not in our district"), ("reopened", "it is, after all")):
        moved = client.post(f"/events/{event_id}/transitions", json={"to_state": state, "note": note},
                            headers=auth("operator"))
        assert moved.status_code == 200 and moved.json()["state"] == state
    level = client.post(f"/events/{event_id}/supervise", json={"note": "late"}, headers=auth("operator"))
    assert level.json() == {"event_id": event_id, "supervision_level": 1}


def test_a_grid_worker_reports_patrol_events_only(client, auth, place):
    assert client.post("/events", json=event_body(place), headers=auth("grid_worker")).status_code == 201
    hotline = event_body(place, channel="hotline")
    assert client.post("/events", json=hotline, headers=auth("grid_worker")).status_code == 403


def test_a_department_moves_its_own_events_but_not_others(client, auth, place):
    ours = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    theirs = client.post("/events", json=event_body(place, category="010101"), headers=auth("operator")).json()["id"]
    accept = {"to_state": "accepted"}
    assert client.post(f"/events/{ours}/transitions", json=accept, headers=auth("department")).status_code == 200
    assert client.post(f"/events/{theirs}/transitions", json=accept, headers=auth("department")).status_code == 403
    # a read outside the key's scope is answered as for no such event, on every endpoint
    assert client.get(f"/events/{theirs}", headers=auth("department")).status_code == 404


def test_flagging_overdue_is_an_operators_call(client, auth):
    assert client.post("/events/overdue", headers=auth("operator")).status_code == 200
    assert client.post("/events/overdue", headers=auth("wall")).status_code == 403


def test_unknown_events_are_404_in_the_one_shape(client, auth):
    response = client.get("/events/987654321", headers=auth("operator"))
    assert response.status_code == 404
    assert set(response.json()["error"]) >= {"type", "message", "source", "feature", "field"}
    assert client.post("/events", json={**event_body(type("P", (), {"lon": 0.0, "lat": 0.0})()),
                                        "external_id": unique()}, headers=auth("operator")).status_code == 422


def _window_events(client, auth, place, hours: list[int], **extra) -> list[int]:
    """Events reported at 2021-03-05 08:00 (+08:00) plus each of ``hours``; their ids in that order."""
    ids = []
    for h in hours:
        at = f"2021-03-05T{8 + h:02d}:00:00+08:00"
        answer = client.post("/events", json=event_body(place, reported_at=at, **extra), headers=auth("operator"))
        assert answer.status_code == 201
        ids.append(answer.json()["id"])
    return ids


def test_the_register_lists_a_reported_time_window_newest_first(client, auth, place):
    ids = _window_events(client, auth, place, [0, 3, 1, 2, 4])  # 08:00, 11:00, 09:00, 10:00, 12:00
    window = {"since": "2021-03-05T09:00:00+08:00", "until": "2021-03-05T12:00:00+08:00"}
    got = client.get("/events", params=window, headers=auth("wall"))
    assert got.status_code == 200
    listed = [e["id"] for e in got.json()["events"]]
    assert listed == [ids[1], ids[3], ids[2]]  # 11:00, 10:00, 09:00: since inclusive, until exclusive
    assert got.json()["next_offset"] is None
    first = client.get("/events", params={**window, "limit": 2}, headers=auth("wall")).json()
    assert [e["id"] for e in first["events"]] == listed[:2] and first["next_offset"] == 2
    rest = client.get("/events", params={**window, "limit": 2, "offset": 2}, headers=auth("wall")).json()
    assert [e["id"] for e in rest["events"]] == listed[2:] and rest["next_offset"] is None
    open_ended = client.get("/events", params={"since": "2021-03-05T12:00:00+08:00", "limit": 10_000},
                            headers=auth("wall")).json()  # one page: the demo's events are newer and come first
    assert ids[4] in [e["id"] for e in open_ended["events"]] and ids[1] not in [e["id"] for e in open_ended["events"]]
    row = next(e for e in got.json()["events"] if e["id"] == ids[1])
    assert row["reported_at"].startswith("2021-03-05T03:00:00") and row["state"] == "reported"
    assert abs(row["lon"] - place.lon) < 1e-9 and row["grid_id"] == place.grid_id


def test_a_department_lists_only_its_own_events(client, auth, place, api_engine):
    with api_engine.connect() as conn:
        other = conn.execute(text(
            "SELECT code FROM event_class WHERE level = 3 AND department <> '城管局' AND priority > 1"
            " AND version_id = (SELECT id FROM taxonomy_version WHERE is_current) ORDER BY code LIMIT 1")).scalar_one()
    ours = _window_events(client, auth, place, [13])[0]
    theirs = _window_events(client, auth, place, [14], category=other)[0]
    window = {"since": "2021-03-05T21:00:00+08:00", "until": "2021-03-05T23:00:00+08:00"}
    seen = [e["id"] for e in client.get("/events", params=window, headers=auth("department")).json()["events"]]
    assert seen == [ours]
    everyone = [e["id"] for e in client.get("/events", params=window, headers=auth("operator")).json()["events"]]
    assert everyone == [theirs, ours]


def test_a_bad_window_is_refused_with_the_parameter_named(client, auth):
    naive = client.get("/events", params={"since": "2021-03-05T09:00:00"}, headers=auth("wall"))
    assert naive.status_code == 422 and naive.json()["error"]["field"] == "since"
    backwards = client.get("/events", params={"since": "2021-03-05T09:00:00+08:00",
                                              "until": "2021-03-05T09:00:00+08:00"}, headers=auth("wall"))
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "until"
    assert client.get("/events").status_code == 401


def test_the_listing_is_documented_with_its_window(client):
    operation = client.get("/openapi.json").json()["paths"]["/events"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"since", "until", "limit", "offset"} <= set(params)
    assert "inclusive" in params["since"]["description"] and "exclusive" in params["until"]["description"]
    assert "newest first" in operation["summary"]
