"""The console follows the live feed too: a phone's fix moves its worker; the map writes its names.

The worker layer is read where the page keeps it (Dash's own store: the
``data`` the map draws), so the test fails if the marker does not move; the
move must happen in the browser, from the feed's notice, without the page
asking the server for the layer again. Waits are bounded, never timed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.app.conftest import break_feed, zoom_map_to
from tests.app.test_wall_live import _grid_centres, _metres, _until

#: the ``data`` of a component as the page holds it (what dash-leaflet draws)
_DATA = """id => {
    const s = window.store && window.store.getState();
    const path = s && s.paths && s.paths.strs && s.paths.strs[id];
    if (!path) { return null; }
    let node = s.layout;
    for (const k of path) { node = node && node[k]; }
    return node && node.props ? node.props.data : null;
}"""
ZOOM = "Number(document.querySelector('#console-map').dataset.zoom)"


def _drawn(pg, worker_id: int) -> dict | None:
    """The worker's feature in the console's worker layer, or None."""
    data = pg.evaluate(f"({_DATA})('console-workers')") or {}
    return next((f for f in data.get("features", []) if f.get("id") == worker_id), None)


def _at(feature: dict | None, lon: float, lat: float) -> bool:
    coords = ((feature or {}).get("geometry") or {}).get("coordinates") or [None, None]
    return coords[0] is not None and abs(coords[0] - lon) < 1e-7 and abs(coords[1] - lat) < 1e-7


def test_a_phone_fix_moves_the_worker_on_the_console_without_a_refetch(wall_url, api, page):
    pg, outside = page
    asked: list[list[str]] = []  # the outputs of each server callback the page asks for
    pg.on("request", lambda r: "_dash-update-component" in r.url
          and asked.append(json.loads(r.post_data or "{}").get("output", "")))
    pg.goto(f"{wall_url}/console", wait_until="domcontentloaded")
    pg.wait_for_selector("body[data-live='open']", timeout=20_000)
    workers = api.get("/layers/workers", params={"limit": 10_000, "filter": ["status:on_duty"]}).json()
    worker = next(f for f in workers["features"] if f["geometry"])  # the wall's test moves the last one
    _until(pg, lambda: _drawn(pg, worker["id"]) is not None, "the console drew no workers")
    loads = sum("console-workers-loaded" in o for o in asked)
    assert loads == 1, f"the layer was loaded {loads} times: {asked}"

    here = tuple(worker["geometry"]["coordinates"])
    far = max(_grid_centres(api), key=lambda c: _metres(c, here))  # far from where the worker stands
    target = (far[0] + 0.0001, far[1] + 0.0001)  # beside a grid's centre: not where the wall's test sends its own
    assert not _at(_drawn(pg, worker["id"]), *target), "the worker stands there already"
    last = datetime.fromisoformat(worker["properties"]["updated_at"]) if worker["properties"].get("updated_at") \
        else None
    at = max(datetime.now(UTC), last + timedelta(seconds=1) if last else datetime.now(UTC))
    fix = {"worker": worker["properties"]["code"], "lon": target[0], "lat": target[1], "at": at.isoformat()}
    moved = api.post("/workers/positions", json={"fixes": [fix]})
    assert moved.status_code == 200 and len(moved.json()["moved"]) == 1, moved.text

    _until(pg, lambda: _at(_drawn(pg, worker["id"]), *target),
           f"the worker did not move on the console: {_drawn(pg, worker['id'])}")
    drawn = _drawn(pg, worker["id"])
    assert drawn["properties"]["code"] == worker["properties"]["code"]
    assert drawn["properties"]["name"] == worker["properties"]["name"], "the loaded properties were lost"
    assert drawn["properties"]["status"] == "on_duty"
    assert sum("console-workers-loaded" in o for o in asked) == loads, "moved by a refetch, not by the notice"
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_a_road_is_named_on_the_console_at_street_zoom_and_not_below_it(wall_url, api, page, shot):
    pg, outside = page
    roads = [f["properties"] for f in api.get("/basemap/labels").json()["features"]
             if f["properties"]["layer"] == "road"]
    road = min(roads, key=lambda p: (p["minzoom"], p["rank"]))  # the first road the map names as it zooms in
    pg.goto(f"{wall_url}/console", wait_until="domcontentloaded")
    # the layers loaded and the map fitted to the district (one answer), before zooming
    pg.wait_for_function(f"({_DATA})('console-events') !== null", timeout=20_000)
    pg.wait_for_function(f"!isNaN({ZOOM})", timeout=20_000)
    has_name = ("([name, shown]) => [...document.querySelectorAll('#console-map .gw-label-road')]"
                ".some(e => e.textContent === name) === shown")

    for target, shown in ((road["minzoom"], True), (road["minzoom"] - 1, False)):
        zoom_map_to(pg, "console-map", target)
        pg.wait_for_function(has_name, arg=[road["name"], shown], timeout=10_000)
        shot(pg, f"console-z{target}")
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_a_lost_feed_makes_the_console_load_its_workers_again(wall_url, wall_db, page):
    """The API's listening connection breaks: notices were lost, the feed says ``resync``, the console refetches
    its workers (nothing else asks for them again: no worker moves here)."""
    pg, outside = page
    asked: list[str] = []
    pg.on("request", lambda r: "_dash-update-component" in r.url
          and asked.append(json.loads(r.post_data or "{}").get("output", "")))
    pg.goto(f"{wall_url}/console", wait_until="domcontentloaded")
    pg.wait_for_selector("body[data-live='open']", timeout=20_000)
    _until(pg, lambda: any("console-workers-loaded" in o for o in asked), "the console loaded no workers")
    before = sum("console-workers-loaded" in o for o in asked)
    assert break_feed(wall_db) >= 1, "no listening connection to break"
    _until(pg, lambda: sum("console-workers-loaded" in o for o in asked) > before,
           f"the console did not load its workers after the resync: {asked}")
    assert outside == []
