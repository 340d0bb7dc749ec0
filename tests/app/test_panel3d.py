"""The 3-D panel in Chromium: every building of the store, packed; the hotspot columns standing on the ground."""

from __future__ import annotations

import struct

from app.panel3d import MAGIC
from tests.app.conftest import wall_session

#: the deck's layers as the panel drew them (``window.PANEL3D`` is its deck.gl ``Deck``)
_LAYER = "id => window.PANEL3D.layerManager.getLayers().find(l => l.id === id)"


def test_the_packed_buildings_hold_every_building_and_are_cached_with_an_etag(wall_url, api):
    matched = api.get("/layers/buildings", params={"limit": 1}).json()["numberMatched"]
    wall = wall_session(wall_url, "display")
    try:
        got = wall.get("/panel3d/buildings.bin")
        assert got.status_code == 200 and got.headers["content-type"] == "application/octet-stream"
        magic, n, v, _, lon0, lat0 = struct.unpack_from("<4sIII2d", got.content)
        assert (magic, n) == (MAGIC, matched) and matched > 1000
        starts = struct.unpack_from(f"<{n + 1}I", got.content, 32)
        assert starts[0] == 0 and starts[-1] == v and all(b - a >= 4 for a, b in zip(starts, starts[1:]))
        floors = struct.unpack_from(f"<{n}H", got.content, 32 + 4 * (n + 1) + 8 * v)
        assert min(floors) >= 1 and list(floors) == sorted(floors, reverse=True)  # tallest first
        assert wall.get("/panel3d/buildings.bin", headers={"If-None-Match": got.headers["etag"]}).status_code == 304
        assert wall.get("/panel3d/buildings.json").status_code == 404
    finally:
        wall.close()


def test_the_panel_draws_every_building_and_its_columns_stand_on_the_ground(wall_url, api, page, shot):
    matched = api.get("/layers/buildings", params={"limit": 1}).json()["numberMatched"]
    pg, outside = page
    pg.goto(f"{wall_url}/panel3d?lang=en", wait_until="domcontentloaded")
    pg.wait_for_selector("body[data-complete='1']", state="attached", timeout=60_000)
    assert int(pg.locator("body").get_attribute("data-buildings")) == matched
    assert pg.evaluate(f"({_LAYER})('buildings').props.data.length") == matched
    assert pg.evaluate(f"({_LAYER})('buildings').props.extruded") is True
    assert pg.evaluate(f"({_LAYER})('ground').props.extruded") is False

    # the columns' bases: the z of every position the GPU was given (x, y, z per column) is 0, on the ground layer
    bases = pg.evaluate(f"""(() => {{ const l = ({_LAYER})('events');
        const p = l.getAttributeManager().getAttributes().instancePositions.value;
        return {{n: l.props.data.length, z: Array.from(p.filter((_, i) => i % 3 === 2)).slice(0, l.props.data.length),
                 matrix: l.props.modelMatrix, system: l.props.coordinateSystem}}; }})()""")
    assert bases["n"] >= 1 and bases["z"] == [0] * bases["n"]
    assert bases["matrix"] is None and bases["system"] in (-1, 1)  # default / LNGLAT: metres above the map's plane
    shot(pg, "panel3d")
    assert outside == [], f"requests left the server: {outside[:5]}"
