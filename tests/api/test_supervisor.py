"""The supervisor in the service: overdue events flagged by the schedule, with no call, once per event and level.

Its apps run against a database of their own: a schedule flags every overdue
event it finds, and the other API tests flag theirs by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.main import create_app
from api.settings import ApiSettings
from command.supervisor import SUPERVISOR
from layers.db import make_engine
from layers.settings import DatabaseSettings
from tests.api.conftest import event_body, fresh_database


@pytest.fixture(scope="module")
def own_db(cluster) -> DatabaseSettings:
    return fresh_database(cluster, "api_supervisor")


@pytest.fixture(scope="module")
def own_engine(own_db):
    eng = make_engine(own_db)
    yield eng
    eng.dispose()


@pytest.fixture
def scheduled(api_settings: ApiSettings) -> ApiSettings:
    return api_settings.model_copy(update={"supervise_every_s": 0.05})


def _until(check: Callable[[], bool], what: str) -> None:
    """Wait for a state of the store (a guard against a hung schedule, not a timing)."""
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.05)


def _level(engine: Engine, event_id: int) -> int | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT overdue_at, supervision_level FROM event WHERE id = :e"), {"e": event_id}).one()
    return row.supervision_level if row.overdue_at is not None else None


def _audited(engine: Engine, event_id: int) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT actor, (detail->>'level')::int FROM audit_log"
            " WHERE action = 'overdue' AND entity = 'event' AND entity_id = :e ORDER BY id"), {"e": str(event_id)})]


def test_an_overdue_event_is_flagged_with_no_call(scheduled, own_db, own_engine, auth, place):
    with TestClient(create_app(scheduled, own_db)) as client:
        made = client.post("/events", json=event_body(place), headers=auth("operator"))  # reported in 2005: late
        assert made.status_code == 201, made.text
        event = made.json()["id"]
        _until(lambda: _level(own_engine, event) is not None, "the event flagged")
    assert _level(own_engine, event) == 3
    assert _audited(own_engine, event) == [(SUPERVISOR, 3)]


def test_two_processes_audit_each_event_and_level_once(scheduled, own_db, own_engine, auth, place):
    apps = [create_app(scheduled, own_db) for _ in range(2)]
    with ExitStack() as stack:
        clients = [stack.enter_context(TestClient(app)) for app in apps]
        recent = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
        made = clients[0].post("/events", json={**event_body(place), "reported_at": recent}, headers=auth("operator"))
        assert made.status_code == 201, made.text
        event = made.json()["id"]
        with own_engine.begin() as conn:  # late by a minute of the two hours it had: level 1
            conn.execute(text("UPDATE event SET reported_at = now() - interval '2 hours',"
                              " deadline_at = now() - interval '1 minute' WHERE id = :e"), {"e": event})
        _until(lambda: _level(own_engine, event) == 1, "level 1")
        with own_engine.begin() as conn:  # late by five times what it had: level 3
            conn.execute(text("UPDATE event SET deadline_at = now() - interval '5 hours',"
                              " reported_at = now() - interval '6 hours' WHERE id = :e"), {"e": event})
        _until(lambda: _level(own_engine, event) == 3, "level 3")
        done = [app.state.supervisor.rounds for app in apps]
        _until(lambda: all(app.state.supervisor.rounds >= n + 3 for app, n in zip(apps, done)),
               "three more rounds in each process")
    assert _audited(own_engine, event) == [(SUPERVISOR, 1), (SUPERVISOR, 3)]
