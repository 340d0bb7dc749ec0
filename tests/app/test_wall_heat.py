"""The wall's heat in Chromium: the API's heat map is one image on the map, and its hotspots are listed by grid."""

from __future__ import annotations

import base64
import math

from tests.app.conftest import wall_session

#: what an <img> of the heat overlay holds once the API's map is in (the placeholder is one transparent pixel)
_HEAT_IMG = "#wall-map .leaflet-wall-heat-pane-pane img.leaflet-image-layer"


def test_the_heat_is_an_image_on_the_map_and_the_hotspots_name_existing_grids(wall_url, api, page, shot):
    pg, outside = page
    pg.goto(f"{wall_url}/wall", wait_until="domcontentloaded")
    pg.wait_for_function("(() => { const i = document.querySelector(" + repr(_HEAT_IMG) + ");"
                         " return i && i.complete && i.naturalWidth > 1; })()", timeout=30_000)
    src = pg.locator(_HEAT_IMG).get_attribute("src")
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.partition(",")[2])[:8] == b"\x89PNG\r\n\x1a\n"
    assert pg.locator("#wall-map img.leaflet-image-layer").count() == 1  # one image, not hundreds of cells
    box = pg.locator(_HEAT_IMG).bounding_box()
    assert box["width"] > 50 and box["height"] > 50  # stretched over the district, not a pixel
    heat = api.get("/heat", params={"top": 5}).json()
    assert heat["events"] > 0 and src == heat["image"]  # the API's own picture, not one the page made

    pg.wait_for_selector("#wall-hotspots li.hotspot", timeout=20_000)
    assert pg.locator("#wall-hotspots h2").inner_text() == "热点网格"
    items = pg.locator("#wall-hotspots li.hotspot")
    assert 1 <= items.count() <= 5
    code = items.first.locator(".hotspot-grid").inner_text()
    assert code == heat["hotspots"][0]["grid_code"]
    grids = api.get("/layers/grids", params={"filter": f"code:{code}", "limit": 1}).json()
    assert grids["numberMatched"] == 1, f"no current grid has the code {code!r}"
    assert items.first.locator(".hotspot-n").inner_text() == f"{heat['hotspots'][0]['events']} 件"
    shot(pg, "wall-heat")

    pg.locator("#shell-lang-toggle").click()
    pg.wait_for_function("document.querySelector('#wall-hotspots h2').textContent === 'Hotspots'", timeout=10_000)
    assert pg.locator("#wall-hotspots li.hotspot .hotspot-n").first.inner_text().endswith(" events")
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_the_3d_panel_draws_the_heat_maps_hotspots_and_says_what_it_shows(wall_url, page):
    # the panel caches its columns for 30 s and other tests file events meanwhile: its columns are compared with
    # the rule of the heat map's hotspots (at least a bandwidth, 300 m, apart; events around each), not with a
    # heat map asked for now
    columns = wall_session(wall_url, "display").get("/panel3d/events.json").json()
    assert 1 <= len(columns) <= 50 and all(c["n"] > 0 for c in columns)
    for i, a in enumerate(columns):
        for b in columns[:i]:
            dx = (a["position"][0] - b["position"][0]) * 111_320 * math.cos(math.radians(a["position"][1]))
            dy = (a["position"][1] - b["position"][1]) * 111_320
            assert math.hypot(dx, dy) > 290, "two columns closer than the heat map's bandwidth"
    pg, outside = page
    pg.goto(f"{wall_url}/panel3d?lang=en", wait_until="domcontentloaded")
    legend = pg.locator("#panel3d-legend")
    assert "Buildings" in legend.inner_text() and "Event hotspots" in legend.inner_text()
    pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert outside == []
