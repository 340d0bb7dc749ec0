"""The live feed: a real SSE client is pushed an event on its intake, and sees only what it may see.

How fast (the 1 s of issue 6) is measured in bench/, not timed here."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from tests.api.conftest import event_body

DEADLINE_S = 15.0  # a bound against hanging, not a speed target


def _messages(lines):
    """SSE messages as (event, data) from an iterator of lines."""
    event, data = None, []
    for line in lines:
        if line == "":
            if data:
                yield event, json.loads("\n".join(data))
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def _wait_for(lines, match, deadline: float):
    """The first message for which ``match`` holds, or None when the deadline passes first."""
    for kind, data in _messages(lines):
        if match(kind, data):
            return kind, data
        if time.monotonic() > deadline:
            return None
    return None


def test_an_sse_client_is_pushed_an_intake(live_server, keys, place):
    headers = {"X-API-Key": keys["wall"]}
    timeout = httpx.Timeout(10.0, read=DEADLINE_S + 4)
    with httpx.Client(base_url=live_server.url, timeout=timeout) as http:
        with http.stream("GET", "/stream", headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            body = event_body(place)
            posted = http.post("/events", json=body, headers={"X-API-Key": keys["operator"]})
            deadline = time.monotonic() + DEADLINE_S
            assert posted.status_code == 201
            code = posted.json()["code"]
            hit = _wait_for(lines, lambda k, d: k == "event" and d.get("code") == code, deadline)
    assert hit is not None, f"event {code} did not reach the stream within {DEADLINE_S} s"
    assert hit[1]["op"] == "insert" and hit[1]["state"] == "reported"


def test_a_workers_phone_stream_carries_only_its_own_worker(live_server, keys, worker_code, place, api_engine):
    # a fix newer than the one the worker holds (another module may have left one a little ahead of the clock):
    # an older fix is stale and moves nobody, so nothing would reach the stream
    with api_engine.connect() as conn:
        held = conn.execute(text("SELECT updated_at FROM grid_worker WHERE code = :c"), {"c": worker_code}).scalar()
    at = max(datetime.now(UTC), held + timedelta(seconds=1)) if held else datetime.now(UTC)
    timeout = httpx.Timeout(10.0, read=DEADLINE_S)
    with httpx.Client(base_url=live_server.url, timeout=timeout) as http:
        with http.stream("GET", "/stream", params={"topic": ["worker", "event"]},
                         headers={"X-API-Key": keys["grid_worker"]}) as stream:
            lines = stream.iter_lines()
            next(lines)
            http.post("/events", json=event_body(place), headers={"X-API-Key": keys["operator"]})
            fix = {"worker": worker_code, "lon": place.lon, "lat": place.lat, "at": at.isoformat()}
            moved = http.post("/workers/positions", json={"fixes": [fix]}, headers={"X-API-Key": keys["grid_worker"]})
            assert moved.status_code == 200
            kind, data = next(_messages(lines))
    assert kind == "worker" and data["code"] == worker_code  # the event posted first never reached this phone
