"""The service under load and faults: a busy store is a 503 with Retry-After, overlapping batches both land,
a restarted store is found again.

Synchronised on state (a barrier between the two clients, the gate's turns, acknowledged answers), never on sleeps.
"""

from __future__ import annotations

import itertools
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from gridwall.cli import cli
from layers.cluster import LocalCluster
from layers.db import make_engine
from layers.settings import DatabaseSettings
from tests.api.conftest import event_body

ROUNDS = 2
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
        with busy.app.state.engine.connect():  # the pool's one connection taken past the gate (a partition job)
            answer = busy.get("/layers/counts")
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"  # the pool's own timeout
        assert answer.json()["error"]["type"] == "StoreBusy"


def _until(done, seconds: float = 60.0) -> None:
    """Wait for a state the other thread reaches (polling it), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the state was not reached in time"
        time.sleep(0.02)


def _store(folder: Path, sql: str) -> list:
    """One statement on the embedded cluster in ``folder``, committed; the first column of its rows."""
    engine = make_engine(DatabaseSettings(data_dir=folder, fsync=False))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql))
            return list(result.scalars()) if result.returns_rows else []
    finally:
        engine.dispose()


def test_the_service_finds_a_restarted_store_that_moved_port_and_keeps_every_acknowledged_event(api_settings, auth):
    """``gridwall db down`` / ``db up`` mid-intake, the old port taken meanwhile: the running service reconnects by
    itself, and every event it answered 201 for is in the store afterwards.

    A cluster of its own: stopping the session's would break every other test running beside this one.
    """
    folder = Path(tempfile.mkdtemp(prefix="gridwall-restart-", dir="/tmp"))
    runner = CliRunner(env={"GRIDWALL_DATABASE_URL": None, "GRIDWALL_DATABASE_DATA_DIR": str(folder),
                            "GRIDWALL_DATABASE_FSYNC": "false"})
    cluster = LocalCluster(folder, fsync=False)
    try:
        assert runner.invoke(cli, ["db", "up"]).exit_code == 0
        _store(folder, "INSERT INTO admin_area (code, name, level, metric_srid, geom) VALUES ('320100', 'test', "
                       "'district', 4547, ST_Multi(ST_MakeEnvelope(118.7, 32.0, 118.9, 32.1, 4326)))")
        acked: list[str] = []
        after: list[str] = []
        refused: list[int] = []
        restarted, stop = threading.Event(), threading.Event()
        with TestClient(create_app(api_settings, DatabaseSettings(data_dir=folder, fsync=False))) as service:

            def report() -> None:
                for i in itertools.count():
                    if stop.is_set():
                        return
                    body = {"channel": "patrol", "external_id": f"restart-{i}", "category": "020101",
                            "lon": 118.78, "lat": 32.04, "reported_at": f"2025-06-01T{i // 3600 % 24:02d}:"
                                                                           f"{i // 60 % 60:02d}:{i % 60:02d}+08:00"}
                    answer = service.post("/events", json=body, headers=auth("operator"))
                    if answer.status_code == 201:
                        (after if restarted.is_set() else acked).append(body["external_id"])
                    else:
                        refused.append(answer.status_code)

            reporter = threading.Thread(target=report)
            reporter.start()
            try:
                _until(lambda: len(acked) >= 10, 20)
                old = cluster.status().port
                assert runner.invoke(cli, ["db", "down"]).exit_code == 0
                with socket.socket() as squatter:  # someone takes the port while the store is down
                    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the old sessions linger
                    squatter.bind(("127.0.0.1", old))
                    squatter.listen()
                    assert runner.invoke(cli, ["db", "up"]).exit_code == 0
                restarted.set()
                assert cluster.status().port != old
                _until(lambda: len(after) >= 10, 20)
                _until(service.app.state.feed.ready.is_set, 30)  # the live feed listens again, on the new port
            finally:
                stop.set()
                reporter.join()
        assert set(refused) <= {503}  # what failed during the restart failed as 'try again'
        stored = set(_store(folder, "SELECT external_id FROM event"))
        assert set(acked) | set(after) <= stored
    finally:
        cluster.destroy()
