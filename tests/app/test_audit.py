"""The audit page in Chromium: an action taken through the API is listed under its actor, at the district's time."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from app.auditlog import local_time, query_params


def _grid_centre(api) -> tuple[float, float]:
    grid = api.get("/layers/grids", params={"limit": 1, "offset": 12}).json()["features"][0]
    ring = grid["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def test_the_page_lists_an_action_under_its_actor_in_the_district_s_time(wall_url, api, page, shot):
    pg, outside = page
    lon, lat = _grid_centre(api)
    # a class and a grid no other browser test files in: a repeat of another test's event would be its duplicate,
    # and the duplicate count written to ours would put it in the live feed of that test
    filed = api.post("/events", json={"channel": "hotline", "external_id": f"audit-{time.time_ns()}",
                                      "category": "040201", "lon": lon, "lat": lat, "title": "审计页测试"})
    assert filed.status_code == 201, filed.text
    event = filed.json()
    moved = api.post(f"/events/{event['id']}/transitions", json={"to_state": "accepted", "note": "受理"})
    assert moved.status_code == 200, moved.text
    rows = api.get("/audit", params={"entity": "event", "entity_id": str(event["id"])}).json()["items"]
    assert [r["action"] for r in rows][0] == "transition"
    actor = rows[0]["actor"]

    pg.goto(f"{wall_url}/audit", wait_until="domcontentloaded")
    pg.wait_for_selector("#audit-rows tr", timeout=20_000)  # the newest rows, unfiltered
    pg.fill("#audit-event", event["code"])  # by the event's code, as an admin would look it up
    pg.press("#audit-event", "Enter")
    table = pg.locator("#audit-rows tr")
    pg.wait_for_function("document.querySelectorAll('#audit-rows tr').length === %d"
                         " && [...document.querySelectorAll('#audit-rows .audit-action')]"
                         ".some(td => td.title === 'transition')" % len(rows), timeout=15_000)
    first = table.first
    assert first.locator(".audit-actor").inner_text() == actor
    # the action under the API's label, the one vocabulary (api/labels.py)
    assert first.locator(".audit-action").inner_text() == api.get("/labels", params={"lang": "zh"}).json()[
        "actions"]["transition"]
    assert first.locator(".audit-at").inner_text() == local_time(rows[0]["at"], "Asia/Shanghai")
    shot(pg, "audit")

    # who: another actor's part finds nothing of this event; this actor's finds it
    pg.fill("#audit-actor", "nobody-such")
    pg.press("#audit-actor", "Enter")
    pg.wait_for_function("document.querySelectorAll('#audit-rows tr').length === 0", timeout=15_000)
    pg.fill("#audit-actor", actor.split(":")[1])
    pg.press("#audit-actor", "Enter")
    pg.wait_for_function("document.querySelectorAll('#audit-rows tr').length === %d" % len(rows), timeout=15_000)
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_the_day_range_is_the_district_s_days():
    params = query_params("", "", None, "2026-12-07", "2026-12-08", "Asia/Shanghai")
    assert params == {"since": "2026-12-07T00:00:00+08:00", "until": "2026-12-09T00:00:00+08:00"}
    utc_evening = datetime(2026, 12, 7, 16, 30, tzinfo=ZoneInfo("UTC")).isoformat()
    assert local_time(utc_evening, "Asia/Shanghai") == "2026-12-08 00:30:00"  # already tomorrow in the district
