"""The wall follows the live feed: an event moves its figures and charts, a phone's fix moves its worker.

What a wall left on in the hall must do (issue 20): not only the ticker, but
the KPI figure and the charts change after an event arrives, and the worker
layer after a phone reports. The tests wait for the change with a bound
(20 s, a loaded two-core machine) and never time it; how fast it is lives in
``bench/``.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Error as PlaywrightError

from app.i18n import t
from tests.app.conftest import break_feed

#: inside the wall's pinned day (the demo's last, 18:00), so the event counts in its figures
REPORTED_AT = "2026-10-31T17:00:00+08:00"
_MERCATOR_HALF = 20037508.342789244
_CLASS_ROWS = """() => Object.fromEntries([...document.querySelectorAll('#wall-chart-class .bar-row')].map(
    r => [r.querySelector('.bar-label').textContent, r.querySelector('.bar-value').textContent]))"""


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _grid_centres(api) -> list[tuple[float, float]]:
    centres = []
    for grid in api.get("/layers/grids", params={"limit": 1000}).json()["features"]:
        ring = grid["geometry"]["coordinates"][0]
        ring = ring[0] if isinstance(ring[0][0], list) else ring
        centres.append((sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)))
    return centres


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_540)


def _until(pg, done, message: str, bound_s: float = 20.0) -> None:
    """Let the page run (its responses reach the test's listener) until ``done()``, failing after ``bound_s``."""
    deadline = time.monotonic() + bound_s
    while not done():
        assert time.monotonic() < deadline, message
        pg.wait_for_timeout(200)


def _loaded(pg, wall_url: str) -> None:
    pg.goto(f"{wall_url}/wall", wait_until="domcontentloaded")
    pg.wait_for_selector("body[data-live='open']", timeout=20_000)
    pg.wait_for_function("/^[0-9,]+$/.test(document.querySelector('#wall-kpi_today-value').textContent)",
                         timeout=20_000)
    pg.wait_for_selector("#wall-chart-class .bar-row", timeout=20_000)


def test_an_event_of_the_day_moves_the_walls_figure_and_class_chart(wall_url, api, page):
    pg, outside = page
    _loaded(pg, wall_url)
    before = _number(pg.locator("#wall-kpi_today-value").inner_text())
    rows = pg.evaluate(_CLASS_ROWS)
    lon, lat = _grid_centres(api)[1]
    resp = api.post("/events", json={"channel": "hotline", "external_id": f"wall-live-{time.time_ns()}",
                                     "category": "020101", "lon": lon + 0.0003, "lat": lat - 0.0002,
                                     "title": "大屏刷新测试", "reported_at": REPORTED_AT})
    assert resp.status_code == 201, resp.text
    assert resp.json()["duplicate_of"] is None, "a repeat is left out of the figures: the test needs a new problem"
    # the figure and the chart follow the feed (a refresh a few seconds after the change), without a reload
    pg.wait_for_function(f"document.querySelector('#wall-kpi_today-value').textContent.replace(/,/g, '') === "
                         f"'{before + 1}'", timeout=20_000)
    label = t("cls_02", "zh")  # the posted 020101
    want = _number(rows.get(label, "0")) + 1
    pg.wait_for_function(f"({_CLASS_ROWS})()[{json.dumps(label)}] === '{want:,}'", timeout=20_000)
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_a_phone_fix_moves_the_worker_on_the_wall(wall_url, api, page):
    pg, outside = page
    payloads: list[tuple[list[str], int, dict]] = []  # (what triggered the callback, its zoom, the cells drawn)

    def seen(response) -> None:
        if "_dash-update-component" not in response.url or response.status != 200:
            return
        try:
            body = response.json().get("response", {})
        except PlaywrightError:  # the page closed before its body was read: the test is over
            return
        if "wall-workers" in body:
            asked = json.loads(response.request.post_data or "{}")
            zoom = next((i.get("value") for i in asked.get("inputs", []) if i.get("property") == "zoom"), None)
            payloads.append((asked.get("changedPropIds") or [], zoom, body["wall-workers"]["data"]))

    pg.on("response", seen)
    _loaded(pg, wall_url)
    _until(pg, lambda: payloads, "the wall drew no workers")
    # a worker on duty, sent where no other worker on duty or busy stands within two cells of the wall's zoom
    workers = api.get("/layers/workers", params={"limit": 10_000, "filter": ["status:on_duty|busy"]}).json()
    on_duty = [f for f in workers["features"] if f["properties"]["status"] == "on_duty" and f["geometry"]]
    worker = on_duty[-1]
    others = [tuple(f["geometry"]["coordinates"]) for f in workers["features"]
              if f["id"] != worker["id"] and f["geometry"]]
    target = max(_grid_centres(api), key=lambda c: min(_metres(c, o) for o in others))
    zoom = max(0, min(int(round(payloads[-1][1] or 13)), 22))
    cell_m = 2 * _MERCATOR_HALF / (256 * 2**zoom) * 20
    assert min(_metres(target, o) for o in others) > 2 * cell_m * math.cos(math.radians(target[1])), \
        "no grid lies alone at this zoom: the worker's cell would hold others"

    def at_target(cells: dict) -> bool:
        return any(f["properties"]["count"] == 1 and abs(f["geometry"]["coordinates"][0] - target[0]) < 1e-6
                   and abs(f["geometry"]["coordinates"][1] - target[1]) < 1e-6 for f in cells.get("features", []))

    assert not any(at_target(cells) for _, _, cells in payloads), "the worker stands there already"
    last = datetime.fromisoformat(worker["properties"]["updated_at"]) if worker["properties"].get("updated_at") \
        else None
    at = max(datetime.now(UTC), last + timedelta(seconds=1) if last else datetime.now(UTC))
    fix = {"worker": worker["properties"]["code"], "lon": target[0], "lat": target[1], "at": at.isoformat()}
    moved = api.post("/workers/positions", json={"fixes": [fix]})
    assert moved.status_code == 200 and len(moved.json()["moved"]) == 1, moved.text
    drawn = len(payloads)
    # the wall asks again because the feed said a worker moved (not a zoom, not a reload), and draws it there
    _until(pg, lambda: any(at_target(cells) for trigger, _, cells in payloads[drawn:]
                           if any(name.startswith("wall-refresh") for name in trigger)),
           f"the worker did not move on the wall: {[(t, z) for t, z, _ in payloads]}")
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_the_ticker_starts_with_the_newest_events(wall_url, api, page):
    pg, outside = page
    newest = api.get("/events", params={"limit": 20}).json()["events"]
    assert len(newest) == 20
    pg.goto(f"{wall_url}/wall", wait_until="domcontentloaded")
    pg.wait_for_function("document.querySelectorAll('#wall-ticker li').length >= 20", timeout=20_000)
    ids = pg.eval_on_selector_all("#wall-ticker li", "els => els.map(e => e.id)")
    assert ids[:20] == [f"wall-ticker-{e['id']}" for e in newest], "not the register's newest, newest first"
    assert newest[0]["code"] in pg.locator(f"#wall-ticker-{newest[0]['id']}").inner_text()
    assert outside == []


def test_a_resync_of_the_feed_refreshes_the_wall_at_once(wall_url, wall_db, page):
    """The API's listening connection breaks: notices were lost, the feed says ``resync``, the wall asks again.

    Asserted on the worker layer's counter, which nothing but a worker's move or a resync bumps (no worker moves
    here; the overdue supervisor touches events only).
    """
    pg, outside = page
    asked: list[list[str]] = []
    pg.on("request", lambda r: "_dash-update-component" in r.url
          and asked.append(json.loads(r.post_data or "{}").get("changedPropIds") or []))
    _loaded(pg, wall_url)
    before = len(asked)
    assert not any("wall-refresh-workers.data" in ids for ids in asked)
    assert break_feed(wall_db) >= 1, "no listening connection to break"
    _until(pg, lambda: any("wall-refresh-workers.data" in ids for ids in asked[before:]),
           f"the wall did not refresh after the resync: {asked}")
    assert outside == []
