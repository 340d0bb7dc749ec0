"""Who may make which move, what a move needs, and what an event's detail offers the caller (:mod:`api.access`).

The detail's ``moves`` and ``actions`` are held to the routes both ways: for every role, on events in every state,
each move offered succeeds and each legal move not offered is refused; each action offered is let through and each
other one refused. A service of its own (its own keys file) holds two phones of two fresh workers, so a worker
here is put on events without meeting the session's other tests' assignments.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.main import create_app
from api.security import digest
from api.settings import ApiSettings
from command.lifecycle import TRANSITIONS
from layers.settings import DatabaseSettings
from tests.api.conftest import DEPARTMENT, event_body

MOVERS = ("admin", "operator", "supervisor", "department", "grid_worker")
OTHERS = ("planner", "analyst", "wall")
EVERY = frozenset(to for targets in TRANSITIONS.values() for to in targets)
#: the table of the issue, spelled out apart from api.access
MAY_MOVE_TO = {"admin": EVERY, "operator": EVERY, "department": EVERY,
               "supervisor": {"verified", "closed", "reopened", "returned"},
               "grid_worker": {"in_progress", "handled", "returned"}}
ACTIONS = ("dispatch", "supervise", "merge", "split", "cameras", "resources", "self_settle")


@dataclass(frozen=True)
class Hall:
    """A service with one key per role, and a second phone (``other_phone``) and a second key of the first phone's
    worker under a person's login (``phone_login``)."""

    client: TestClient
    keys: dict[str, str]
    worker: str
    worker_id: int
    other_worker: str

    def auth(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}


def _new_worker(engine: Engine, place) -> tuple[str, int]:
    code = f"MV-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:  # off duty: dispatch never picks them, so no other test meets them
        worker_id = conn.execute(text(
            "INSERT INTO grid_worker (code, name, status, geom) VALUES (:c, :c, 'off_duty',"
            " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"),
            {"c": code, "lon": place.lon, "lat": place.lat}).scalar_one()
    return code, worker_id


@pytest.fixture(scope="module")
def hall(tmp_path_factory, api_engine: Engine, api_db: DatabaseSettings, quick_params, place) -> Iterator[Hall]:
    worker, worker_id = _new_worker(api_engine, place)
    other, _ = _new_worker(api_engine, place)
    roles = {role: role for role in (*MOVERS, *OTHERS, "open311")}
    roles.update(other_phone="grid_worker", phone_login="grid_worker")
    keys, blocks = {}, []
    for name, role in roles.items():
        keys[name] = f"moves-{name}-{uuid.uuid4().hex}"
        # the phone's second key is a person's login for the same worker: the actor's name changes, the worker not
        lines = ["[[keys]]", f'name = "{"zhang.san" if name == "phone_login" else name + "-key"}"',
                 f'role = "{role}"', f'sha256 = "{digest(keys[name])}"']
        if role == "department":
            lines.append(f'departments = ["{DEPARTMENT}"]')
        if role == "grid_worker":
            lines.append(f'worker = "{other if name == "other_phone" else worker}"')
        blocks.append("\n".join(lines))
    path = Path(tmp_path_factory.mktemp("moves")) / "keys.toml"
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    settings = ApiSettings(environment="test", keys_file=path, partition=quick_params, key_failures_max=10_000)
    with TestClient(create_app(settings, api_db)) as client:
        yield Hall(client, keys, worker, worker_id, other)


def _event(hall: Hall, place, state: str = "reported", *, by: str = "operator", **extra) -> int:
    """A fresh event of 城管局 (the department key's) in ``state``, put there by hand."""
    response = hall.client.post("/events", json=event_body(place, **extra), headers=hall.auth(by))
    assert response.status_code == 201, response.text
    event_id = response.json()["id"]
    if state != "reported":
        with hall.client.app.state.engine.begin() as conn:
            conn.execute(text("UPDATE event SET state = :s WHERE id = :id"), {"s": state, "id": event_id})
    return event_id


def _put_on(hall: Hall, event_id: int) -> None:
    """The phone's worker on the event now (its other assignments ended: one active assignment per worker)."""
    with hall.client.app.state.engine.begin() as conn:
        conn.execute(text("UPDATE assignment SET released_at = now() WHERE worker_id = :w AND released_at IS NULL"),
                     {"w": hall.worker_id})
        conn.execute(text("INSERT INTO assignment (event_id, kind, worker_id, assigned_by)"
                          " VALUES (:e, 'worker', :w, 'test')"), {"e": event_id, "w": hall.worker_id})


def _detail(hall: Hall, role: str, event_id: int) -> dict:
    response = hall.client.get(f"/events/{event_id}", headers=hall.auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def _body(move: dict) -> dict:
    """A move's body with what the detail says it needs."""
    body = {"to_state": move["to_state"]}
    if move["note"] == "required":
        body["note"] = "the reason"
    if move["rating"] == "required":
        body["rating"] = 4
    return body


@pytest.mark.parametrize("role", MOVERS)
@pytest.mark.parametrize("state", list(TRANSITIONS))
def test_every_move_offered_succeeds_and_every_other_legal_move_is_refused(hall, place, role, state):
    offered = None
    for to in TRANSITIONS[state]:  # a fresh event for each move: a move changes the state
        event_id = _event(hall, place, state)
        if role == "grid_worker":
            _put_on(hall, event_id)
        moves = _detail(hall, role, event_id)["moves"]
        offered = offered if offered is not None else [m["to_state"] for m in moves]
        assert [m["to_state"] for m in moves] == offered
        move = next((m for m in moves if m["to_state"] == to), {"to_state": to, "note": "required",
                                                                 "rating": "optional"})
        response = hall.client.post(f"/events/{event_id}/transitions", json=_body(move), headers=hall.auth(role))
        if to in offered:
            assert response.status_code == 200, (to, response.text)
            assert response.json()["state"] == to
        else:
            assert response.status_code == 403, (to, response.text)
            assert response.json()["error"]["message"]
    assert offered == [to for to in TRANSITIONS[state] if to in MAY_MOVE_TO[role]]


@pytest.mark.parametrize("role", OTHERS)
def test_readers_that_move_nothing_are_offered_nothing_and_refused(hall, place, role):
    event_id = _event(hall, place, "handled")
    detail = _detail(hall, role, event_id)
    assert detail["moves"] == [] and detail["actions"] == []
    refused = hall.client.post(f"/events/{event_id}/transitions", json={"to_state": "verified"},
                               headers=hall.auth(role))
    assert refused.status_code == 403


def test_a_worker_is_offered_no_move_on_an_event_it_is_not_on(hall, place):
    event_id = _event(hall, place, "dispatched")
    _put_on(hall, event_id)
    assert [m["to_state"] for m in _detail(hall, "grid_worker", event_id)["moves"]] == ["in_progress", "returned"]
    assert hall.client.get(f"/events/{event_id}", headers=hall.auth("other_phone")).status_code == 404
    with hall.client.app.state.engine.begin() as conn:  # released: it still sees the event, and moves it no more
        conn.execute(text("UPDATE assignment SET released_at = now() WHERE event_id = :e"), {"e": event_id})
    assert _detail(hall, "grid_worker", event_id)["moves"] == []


def test_a_department_is_offered_no_move_on_another_departments_event(hall, place):
    theirs = _event(hall, place, category="010101")  # 公安: not the department key's
    assert hall.client.get(f"/events/{theirs}", headers=hall.auth("department")).status_code == 404
    assert hall.client.post(f"/events/{theirs}/transitions", json={"to_state": "accepted"},
                            headers=hall.auth("department")).status_code == 403


# --- what a move needs

@pytest.mark.parametrize("to", ["rejected", "returned", "reopened"])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_move_that_needs_a_reason_without_one_is_422_naming_the_note(hall, place, to, note):
    state = next(s for s, targets in TRANSITIONS.items() if to in targets)
    event_id = _event(hall, place, state)
    assert {"to_state": to, "note": "required", "rating": "none"} in _detail(hall, "operator", event_id)["moves"]
    response = hall.client.post(f"/events/{event_id}/transitions", json={"to_state": to, "note": note},
                                headers={**hall.auth("operator"), "Accept-Language": "en"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "note" and to in response.json()["error"]["message"]
    assert _detail(hall, "operator", event_id)["state"] == state  # nothing moved
    given = hall.client.post(f"/events/{event_id}/transitions", json={"to_state": to, "note": "why"},
                             headers=hall.auth("operator"))
    assert given.status_code == 200
    assert _detail(hall, "operator", event_id)["history"][-1]["note"] == "why"


def test_closing_a_hotline_event_needs_the_call_backs_rating(hall, place):
    event_id = _event(hall, place, "verified", channel="hotline")
    assert {"to_state": "closed", "note": "optional", "rating": "required"} in _detail(
        hall, "supervisor", event_id)["moves"]
    response = hall.client.post(f"/events/{event_id}/transitions", json={"to_state": "closed"},
                                headers=hall.auth("supervisor"))
    assert response.status_code == 422 and response.json()["error"]["field"] == "rating"
    rated = hall.client.post(f"/events/{event_id}/transitions", json={"to_state": "closed", "rating": 5},
                             headers=hall.auth("supervisor"))
    assert rated.status_code == 200
    detail = _detail(hall, "supervisor", event_id)
    assert detail["state"] == "closed" and detail["rating"] == 5
    assert detail["history"][-1]["actor"] == "supervisor:supervisor-key"


def test_closing_an_event_nobody_calls_back_takes_a_rating_or_none(hall, place):
    unrated, rated = _event(hall, place, "verified"), _event(hall, place, "verified")
    assert {"to_state": "closed", "note": "optional", "rating": "optional"} in _detail(
        hall, "supervisor", unrated)["moves"]
    for event_id, body in ((unrated, {"to_state": "closed"}), (rated, {"to_state": "closed", "rating": 2})):
        assert hall.client.post(f"/events/{event_id}/transitions", json=body,
                                headers=hall.auth("supervisor")).status_code == 200
    assert (_detail(hall, "wall", unrated)["rating"], _detail(hall, "wall", rated)["rating"]) == (None, 2)


def test_a_rating_on_any_move_but_closing_is_422_naming_the_rating(hall, place):
    event_id = _event(hall, place)
    response = hall.client.post(f"/events/{event_id}/transitions", json={"to_state": "accepted", "rating": 3},
                                headers=hall.auth("operator"))
    assert response.status_code == 422 and response.json()["error"]["field"] == "rating"


def test_an_illegal_move_is_still_409_with_the_allowed_ones_before_any_need(hall, place):
    event_id = _event(hall, place)
    response = hall.client.post(f"/events/{event_id}/transitions", json={"to_state": "reopened"},
                                headers=hall.auth("operator"))
    assert response.status_code == 409 and response.json()["error"]["allowed"] == ["accepted", "rejected"]


# --- actions

def _situation(hall: Hall, place, name: str) -> int:
    """A fresh event of one kind: ``new`` (reported), ``duplicate`` (merged into another), ``closed``,
    ``own_report`` (self-settled, reported by the phone)."""
    if name == "own_report":
        return _event(hall, place, by="grid_worker", channel="self_settled")
    event_id = _event(hall, place, "closed" if name == "closed" else "reported")
    if name == "duplicate":
        root = _event(hall, place)
        assert hall.client.post(f"/events/{event_id}/merge", json={"into": root},
                                headers=hall.auth("operator")).status_code == 200
    return event_id


def _take(hall: Hall, place, role: str, action: str, event_id: int):
    path, body = {
        "dispatch": ("dispatch/worker", {"worker_id": _free_worker(hall, place)}),
        "supervise": ("supervise", {"note": "late"}),
        "merge": ("merge", {"into": _event(hall, place)}),
        "split": ("split", {}),
        "cameras": ("dispatch/cameras", {}),
        "resources": ("dispatch/resources", {}),
        "self_settle": ("self-settle", {"note": "done"}),
    }[action]
    return hall.client.post(f"/events/{event_id}/{path}", json=body, headers=hall.auth(role))


def _free_worker(hall: Hall, place) -> int:
    """A worker of this module's own, on duty and free, for one dispatch."""
    code, worker_id = _new_worker(hall.client.app.state.engine, place)
    with hall.client.app.state.engine.begin() as conn:
        conn.execute(text("UPDATE grid_worker SET status = 'on_duty', updated_at = now() WHERE id = :w"),
                     {"w": worker_id})
    return worker_id


EXPECTED_ACTIONS = {  # (situation, role) -> actions offered; spelled out apart from api.access
    ("new", "admin"): ["dispatch", "supervise", "merge", "cameras", "resources"],
    ("new", "operator"): ["dispatch", "supervise", "merge", "cameras", "resources"],
    ("new", "supervisor"): ["supervise"],
    ("duplicate", "operator"): ["supervise", "merge", "split", "cameras"],
    ("duplicate", "supervisor"): ["supervise"],
    ("closed", "operator"): ["cameras", "resources"],
    ("closed", "supervisor"): [],
    ("own_report", "operator"): ["dispatch", "supervise", "merge", "cameras", "resources", "self_settle"],
    ("own_report", "supervisor"): ["supervise"],
    ("own_report", "grid_worker"): ["self_settle"],
}


@pytest.mark.parametrize(("situation", "role"), list(EXPECTED_ACTIONS))
def test_every_action_offered_is_let_through_and_every_other_refused(hall, place, situation, role):
    offered = _detail(hall, role, _situation(hall, place, situation))["actions"]
    assert offered == EXPECTED_ACTIONS[situation, role]
    for action in ACTIONS:
        event_id = _situation(hall, place, situation)
        response = _take(hall, place, role, action, event_id)
        if action in offered:
            assert response.status_code in (200, 201), (action, response.text)
        else:
            assert response.status_code in (403, 409), (action, response.status_code, response.text)
            assert response.json()["error"]["message"]


@pytest.mark.parametrize("role", ["department", "planner", "analyst", "wall"])
def test_roles_that_take_no_action_are_offered_none(hall, place, role):
    assert _detail(hall, role, _situation(hall, place, "new"))["actions"] == []


# --- self-settling (自办自结)

def _history(hall: Hall, event_id: int) -> list[tuple]:
    with hall.client.app.state.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT from_state, to_state, actor, note FROM event_history WHERE event_id = :id ORDER BY at, id"),
            {"id": event_id})]


def test_a_worker_settles_its_own_report_and_each_step_is_in_the_history_under_it(hall, place):
    event_id = _event(hall, place, by="grid_worker", channel="self_settled")
    with hall.client.app.state.engine.connect() as conn:
        reporter = conn.execute(text("SELECT reporter_worker_id FROM event WHERE id = :id"),
                                {"id": event_id}).scalar_one()
    assert reporter == hall.worker_id
    detail = _detail(hall, "grid_worker", event_id)  # a phone sees what it reported, sent there or not
    assert detail["moves"] == [] and detail["actions"] == ["self_settle"]
    response = hall.client.post(f"/events/{event_id}/self-settle", json={"note": "摊位已劝离"},
                                headers=hall.auth("grid_worker"))
    assert response.status_code == 200, response.text
    assert response.json() == {"event_id": event_id, "from_state": "reported", "state": "closed",
                               "steps": ["accepted", "dispatched", "in_progress", "handled", "verified", "closed"]}
    actor, note = "grid_worker:grid_worker-key", "自办自结: 摊位已劝离"
    path = ("reported", "accepted", "dispatched", "in_progress", "handled", "verified", "closed")
    assert _history(hall, event_id)[1:] == [(a, b, actor, note) for a, b in zip(path, path[1:])]
    after = _detail(hall, "grid_worker", event_id)
    assert after["state"] == "closed" and after["closed_at"] is not None and after["actions"] == []
    with hall.client.app.state.engine.connect() as conn:
        audited = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'transition' AND entity = 'event'"
                                    " AND entity_id = :id AND actor = :a"), {"id": str(event_id), "a": actor}).scalar()
    assert audited == 6


def test_the_reporter_is_the_worker_not_the_name_it_signed_in_with(hall, place):
    event_id = _event(hall, place, by="grid_worker", channel="self_settled")
    response = hall.client.post(f"/events/{event_id}/self-settle", json={"note": None},
                                headers=hall.auth("phone_login"))
    assert response.status_code == 200, response.text
    assert _history(hall, event_id)[-1] == ("verified", "closed", "grid_worker:zhang.san", "自办自结")


def test_another_worker_may_not_settle_a_report_that_is_not_its_own(hall, place):
    event_id = _event(hall, place, by="grid_worker", channel="self_settled")
    refused = hall.client.post(f"/events/{event_id}/self-settle", json={}, headers=hall.auth("other_phone"))
    assert refused.status_code == 403 and hall.other_worker in refused.json()["error"]["message"]
    assert _detail(hall, "operator", event_id)["state"] == "reported" and len(_history(hall, event_id)) == 1


@pytest.mark.parametrize("role", ["supervisor", "department", "planner", "wall", "open311"])
def test_roles_that_do_not_settle_are_refused(hall, place, role):
    event_id = _event(hall, place, by="grid_worker", channel="self_settled")
    assert hall.client.post(f"/events/{event_id}/self-settle", json={}, headers=hall.auth(role)).status_code == 403
    assert len(_history(hall, event_id)) == 1


def test_the_hall_settles_a_self_settled_event_from_where_it_stands(hall, place):
    event_id = _event(hall, place, by="grid_worker", channel="self_settled")
    assert hall.client.post(f"/events/{event_id}/transitions", json={"to_state": "accepted"},
                            headers=hall.auth("operator")).status_code == 200
    response = hall.client.post(f"/events/{event_id}/self-settle", json={}, headers=hall.auth("operator"))
    assert response.status_code == 200
    assert response.json()["from_state"] == "accepted" and response.json()["steps"][0] == "dispatched"
    assert {h[2] for h in _history(hall, event_id)[2:]} == {"operator:operator-key"}


@pytest.mark.parametrize(("channel", "state", "who"), [
    ("patrol", "reported", "grid_worker"),  # its own report, but a patrol report goes through the hall's loop
    ("self_settled", "closed", "grid_worker"),
    ("self_settled", "rejected", "grid_worker"),  # the hall's rejection is not overturned by settling
    ("patrol", "reported", "operator"),
])
def test_settling_what_is_not_an_open_self_settled_event_is_409(hall, place, channel, state, who):
    event_id = _event(hall, place, by="grid_worker", channel=channel)
    if state != "reported":
        with hall.client.app.state.engine.begin() as conn:
            conn.execute(text("UPDATE event SET state = :s WHERE id = :id"), {"s": state, "id": event_id})
    assert "self_settle" not in _detail(hall, who, event_id)["actions"]
    response = hall.client.post(f"/events/{event_id}/self-settle", json={}, headers=hall.auth(who))
    assert response.status_code == 409, response.text
    assert str(event_id) in response.json()["error"]["message"]
    assert len(_history(hall, event_id)) == 1


def test_settling_an_event_that_is_not_there_is_404(hall):
    assert hall.client.post("/events/987654321/self-settle", json={}, headers=hall.auth("grid_worker")).status_code \
        == 404


def test_a_phones_batch_records_its_worker_as_reporter_and_the_halls_records_none(hall, place):
    def batch(role: str) -> list[dict]:
        body = {"events": [event_body(place, channel="self_settled"), event_body(place)]}
        return hall.client.post("/events/batch", json=body, headers=hall.auth(role)).json()["results"]

    phone, desk = batch("grid_worker"), batch("operator")
    with hall.client.app.state.engine.connect() as conn:
        reporters = dict(conn.execute(text("SELECT id, reporter_worker_id FROM event WHERE id = ANY(:ids)"),
                                      {"ids": [r["id"] for r in phone + desk]}).all())
    assert [reporters[r["id"]] for r in phone] == [hall.worker_id, hall.worker_id]
    assert [reporters[r["id"]] for r in desk] == [None, None]


def test_the_phones_own_page_offers_the_moves_of_the_event_it_is_on(hall, place):
    event_id = _event(hall, place, "dispatched")
    _put_on(hall, event_id)
    me = hall.client.get("/workers/me", headers=hall.auth("grid_worker")).json()
    assert me["event"]["id"] == event_id
    assert [m["to_state"] for m in me["event"]["moves"]] == ["in_progress", "returned"]
    assert me["event"]["actions"] == []
