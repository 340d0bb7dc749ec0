"""The service under load and faults: a busy store is a 503 with Retry-After, overlapping batches both land,
a restarted store is found again.

Synchronised on state (a barrier between the two clients, the gate's turns, acknowledged answers), never on sleeps.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from tests.api.conftest import event_body

ROUNDS = 3
SHARED = 8


def test_two_overlapping_batches_both_succeed_without_duplicates(client, auth, place, api_engine):
    """Two batches sharing events in opposite orders deadlock in PostgreSQL; the service takes the loser again."""
    every: set[str] = set()
    for _ in range(ROUNDS):
        shared = [event_body(place) for _ in range(SHARED)]
        batches = [shared + [event_body(place)], shared[::-1] + [event_body(place)]]
        every |= {e["external_id"] for batch in batches for e in batch}
        start = threading.Barrier(2)

        def post(batch: list[dict]):
            start.wait()
            return client.post("/events/batch", json={"events": batch}, headers=auth("operator"))

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(post, batches))
        assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
        outcomes = [a.json() for a in answers]
        assert outcomes[0]["created"] + outcomes[1]["created"] == SHARED + 2  # each shared event created once
        first, second = ([r["id"] for r in o["results"]] for o in outcomes)  # in the order each batch sent
        assert first[:SHARED] == second[:SHARED][::-1]  # both name the one registration of each shared event
    with api_engine.connect() as conn:
        rows = conn.execute(text("SELECT external_id, count(*) FROM event WHERE external_id = ANY(:x)"
                                 " GROUP BY external_id"), {"x": sorted(every)}).all()
    assert len(rows) == len(every) and all(n == 1 for _, n in rows)


def test_a_request_that_cannot_get_a_turn_at_the_store_is_503_with_retry_after(api_settings, api_db, auth):
    """With every connection taken, a request waits ``pool_timeout_s`` on the loop, then 503; others still answer."""
    db = api_db.model_copy(update={"pool_size": 1, "pool_overflow": 0, "pool_timeout_s": 0.2})
    with TestClient(create_app(api_settings, db)) as busy:
        gate = busy.app.state.gate
        busy.portal.call(gate.__aenter__)  # the one turn is held, as by a slow request
        try:
            answer = busy.get("/layers/counts")
            assert answer.status_code == 503
            assert answer.headers["Retry-After"] == "1"
            assert answer.json()["error"]["type"] == "StoreBusy"
            assert busy.get("/docs").status_code == 200  # the loop is free: what needs no store answers
        finally:
            busy.portal.call(gate.__aexit__, None, None, None)
        assert busy.get("/layers/counts").status_code == 200
