"""The console in Chromium: pick an incoming event, see what is around it, dispatch; a taken worker is a conflict."""

from __future__ import annotations

import time


def _new_event(api, lon: float, lat: float, category: str = "020101") -> int:
    resp = api.post("/events", json={"channel": "hotline", "external_id": f"console-{time.time_ns()}",
                                     "category": category, "lon": lon, "lat": lat, "title": "调度台测试"})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _grid_centre(api, n: int = 0) -> tuple[float, float]:
    grid = api.get("/layers/grids", params={"limit": 1, "offset": n}).json()["features"][0]
    ring = grid["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def test_click_an_event_then_dispatch_with_the_conflict_answer(wall_url, api, page, shot):
    pg, outside = page
    first = _new_event(api, *_grid_centre(api, 1), category="010101")
    second = _new_event(api, *_grid_centre(api, 5), category="050101")
    pg.goto(f"{wall_url}/console", wait_until="domcontentloaded")
    item = pg.locator(f"[id*='console-queue-item'][id*='{second}']")
    item.wait_for(timeout=20_000)
    item.click()
    pg.wait_for_selector("#console-event-code", timeout=10_000)
    pg.wait_for_selector("#console-candidates button[data-worker]", timeout=10_000)
    assert pg.locator("#console-grid-code").count() == 1
    # states under the API's labels, in the screen's language
    assert pg.locator("#console-event-state").inner_text().startswith("状态: 上报")
    # the history and the deadline are one click away
    pg.locator("#console-history-toggle").click()
    assert pg.locator("#console-history tr").count() >= 1

    # someone else takes the first candidate meanwhile: the console gets the 409 and says so
    worker_id = int(pg.locator("#console-candidates button[data-worker]").first.get_attribute("data-worker"))
    taken = api.post(f"/events/{first}/dispatch/worker", json={"worker_id": worker_id})
    assert taken.status_code == 200, taken.text
    pg.locator(f"#console-candidates button[data-worker='{worker_id}']").click()
    pg.wait_for_selector("#console-dispatch-message.msg-warn", timeout=10_000)
    conflict = pg.locator("#console-dispatch-message").inner_text()
    assert "不能派遣" in conflict and "任务中" in conflict and "busy" not in conflict, conflict
    shot(pg, "console-conflict")

    # one more click: the best free worker
    pg.locator(".console-send-best").click()
    pg.wait_for_selector("#console-dispatch-message.msg-ok", timeout=10_000)
    assert "上报 → 派遣" in pg.locator("#console-dispatch-message").inner_text()
    detail = api.get(f"/events/{second}").json()
    assert detail["state"] == "dispatched"
    shot(pg, "console")
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_a_click_anywhere_on_the_map_shows_what_is_around(wall_url, page):
    pg, outside = page
    pg.goto(f"{wall_url}/console", wait_until="domcontentloaded")
    pg.wait_for_selector("#console-map .leaflet-overlay-pane canvas, #console-map path", timeout=20_000)
    pg.wait_for_timeout(500)
    box = pg.locator("#console-map").bounding_box()
    pg.mouse.click(box["x"] + box["width"] / 2 + 5, box["y"] + box["height"] / 2 + 5)
    pg.wait_for_selector("#console-candidates", timeout=10_000)
    assert outside == []


def test_a_new_event_joins_the_queue_from_the_live_feed_without_a_reload(wall_url, api, page):
    pg, outside = page
    pg.goto(f"{wall_url}/console", wait_until="domcontentloaded")
    pg.wait_for_selector("[id*='console-queue-item']", timeout=20_000)  # the queue loaded at start
    pg.wait_for_selector("body[data-live='open']", timeout=20_000)
    pg.evaluate("window.__gridwallSamePage = true")
    event_id = _new_event(api, *_grid_centre(api, 3), category="020101")
    code = api.get(f"/events/{event_id}").json()["code"]
    # pushed by the live feed into the queue (how fast is a bench figure, not timed here)
    item = pg.locator(f"#console-queue > [id*='\"event\":{event_id},']")
    item.wait_for(timeout=15_000)
    assert pg.evaluate("window.__gridwallSamePage === true"), "the console reloaded to show the event"
    assert code in item.inner_text()
    assert f'"event":{event_id},' in pg.locator("#console-queue > li").first.get_attribute("id"), "not on top"
    # and it is a queue item like the others: a click shows the event
    item.click()
    pg.wait_for_selector("#console-event-code", timeout=10_000)
    assert code in pg.locator("#console-event-code").inner_text()
    assert outside == [], f"requests left the server: {outside[:5]}"
