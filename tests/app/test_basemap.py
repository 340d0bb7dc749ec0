"""The wall's basemap in Chromium: names written from their zoom on, cameras as a tint until badges, a legend."""

from __future__ import annotations

from app.i18n import t
from app.legend import LEGEND
from app.mapview import CAMERA_BADGES_ZOOM
from tests.app.conftest import wall_session, zoom_map_to


def test_the_wall_serves_its_labels_from_the_cache(wall_url, api):
    wall = wall_session(wall_url, "display")
    served = wall.get("/basemap/labels.geojson")
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/geo+json")
    feats = served.json()["features"]
    assert len(feats) == len(api.get("/basemap/labels").json()["features"])  # one point a label: nothing merged
    assert {"layer", "name", "angle", "minzoom", "rank"} <= set(feats[0]["properties"])
    again = wall.get("/basemap/labels.geojson", headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304


def test_a_road_is_named_at_street_zoom_and_not_below_it(wall_url, api, page, shot):
    pg, outside = page
    roads = [f["properties"] for f in api.get("/basemap/labels").json()["features"]
             if f["properties"]["layer"] == "road"]
    road = min(roads, key=lambda p: (p["minzoom"], p["rank"]))  # the first road the map names as it zooms in
    assert road["minzoom"] <= CAMERA_BADGES_ZOOM  # so that one zoom below it the cameras are a tint
    pg.goto(f"{wall_url}/wall", wait_until="domcontentloaded")
    pg.wait_for_selector("#wall-map .leaflet-overlay-pane canvas", timeout=20_000)

    zoom_map_to(pg, "wall-map", max(road["minzoom"], CAMERA_BADGES_ZOOM))
    pg.wait_for_function("name => [...document.querySelectorAll('#wall-map .gw-label-road')]"
                         ".some(e => e.textContent === name)", arg=road["name"], timeout=10_000)
    label = pg.locator("#wall-map .gw-label-road", has_text=road["name"]).first
    assert "gw-label-" + road["kind"] in label.get_attribute("class")
    pg.wait_for_selector("#wall-map .gw-cluster-cam", timeout=20_000)  # from the badges' zoom, counted badges
    shot(pg, "wall-street-zoom")

    zoom_map_to(pg, "wall-map", road["minzoom"] - 1)
    pg.wait_for_function("name => ![...document.querySelectorAll('#wall-map .gw-label-road')]"
                         ".some(e => e.textContent === name)", arg=road["name"], timeout=10_000)
    pg.wait_for_selector("#wall-map[data-cameras='tint']", timeout=20_000)  # below the badges' zoom, a tint
    pg.wait_for_function("!document.querySelector('#wall-map .gw-cluster')", timeout=10_000)
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_the_legend_names_every_layer_in_both_languages(wall_url, page):
    pg, outside = page
    pg.goto(f"{wall_url}/wall", wait_until="domcontentloaded")
    items = "#wall-legend .gw-legend-item .gw-legend-label"
    pg.wait_for_selector(items, timeout=20_000)
    for lang in ("zh", "en"):
        if lang == "en":
            pg.locator("#shell-lang-toggle").click()
            pg.wait_for_function("document.querySelector('#wall-legend .gw-legend-title').textContent === 'Legend'",
                                 timeout=10_000)
        want = [t(item.key, lang).format(zoom=CAMERA_BADGES_ZOOM) for item in LEGEND]
        assert pg.locator(items).all_inner_texts() == want
    assert len(set(want)) == len(LEGEND) and all(w and not w.startswith("lg_") for w in want)
    # over the map's corner, inside its box
    legend, box = pg.locator("#wall-legend").bounding_box(), pg.locator("#wall-map-box").bounding_box()
    assert box["x"] <= legend["x"] and legend["x"] + legend["width"] <= box["x"] + box["width"]
    assert box["y"] <= legend["y"] and legend["y"] + legend["height"] <= box["y"] + box["height"]
    assert outside == []
