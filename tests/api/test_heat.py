"""GET /heat: the kernel density of gis_data.rasters.density over the events a key sees, a PNG and the hotspots.

The events are a hand-made set in a window of their own (March 2003, before every other test's events): twelve at
one grid's middle (城管局, open), six at another's far away (水务局, three of them closed).
"""

from __future__ import annotations

import base64
import io
import math
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import Engine, text

from api.heat import heat_map
from api.security import Principal
from tests.api.conftest import DEPARTMENT

CST = timezone(timedelta(hours=8))
START, END = datetime(2003, 3, 1, tzinfo=CST), datetime(2003, 3, 2, tzinfo=CST)
WINDOW = {"start": START.isoformat(), "end": END.isoformat()}
OTHER = "水务局"
#: metres of one degree of latitude
_M = 111_320.0


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * _M * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dx, (a[1] - b[1]) * _M)


@pytest.fixture(scope="module")
def spots(api_engine: Engine):
    """The two places (grid id, code, lon, lat), the events inserted at them, removed at the end."""
    tag = uuid.uuid4().hex[:8]
    with api_engine.begin() as conn:
        grids = conn.execute(text("""
            SELECT g.id, g.code, ST_X(c.p) AS lon, ST_Y(c.p) AS lat
            FROM grid g CROSS JOIN LATERAL (SELECT (ST_MaximumInscribedCircle(g.geom)).center AS p,
                                                   (ST_MaximumInscribedCircle(g.geom)).radius AS r) c
            WHERE g.version_id = (SELECT id FROM grid_version WHERE is_current)
            ORDER BY c.r DESC, g.id
        """)).all()
        a = grids[0]
        b = max(grids[1:], key=lambda g: _metres((g.lon, g.lat), (a.lon, a.lat)))  # the small district: ~1 km
        assert _metres((b.lon, b.lat), (a.lon, a.lat)) > 600
        rows = []
        for i in range(12):  # a few metres apart: one hotspot
            rows.append((a, DEPARTMENT, "reported", 0.00002 * (i % 4), 0.00002 * (i // 4)))
        for i in range(6):
            rows.append((b, OTHER, "closed" if i < 3 else "accepted", 0.00002 * i, 0.0))
        for i, (g, dept, state, dx, dy) in enumerate(rows):
            conn.execute(text("""
                INSERT INTO event (code, channel, external_id, category_code, title, department, state, reported_at,
                                   geom)
                VALUES (:code, 'patrol', :code, '020101', 'heat test', :dept, :state, :at,
                        ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
            """), {"code": f"HEAT-{tag}-{i:02d}", "dept": dept, "state": state,
                   "at": START + timedelta(minutes=10 + i), "lon": g.lon + dx, "lat": g.lat + dy})
    yield {"a": a, "b": b}
    with api_engine.begin() as conn:
        conn.execute(text("DELETE FROM event WHERE code LIKE :p"), {"p": f"HEAT-{tag}-%"})


def test_the_image_is_a_png_with_a_transparent_background(client, auth, spots):
    body = client.get("/heat", params={**WINDOW, "state": "all"}, headers=auth("wall")).json()
    head, _, data = body["image"].partition(",")
    assert head == "data:image/png;base64"
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.ndim == 3 and image.shape[2] == 4
    alpha = image[..., 3]
    assert (alpha == 0).mean() > 0.5 and alpha.max() > 200  # mostly see-through, hot where the events are
    (s, w), (n, e) = body["bounds"]
    for place in (spots["a"], spots["b"]):
        assert s < place.lat < n and w < place.lon < e


def test_the_density_integrates_to_the_event_count(api_engine, spots):
    with api_engine.connect() as conn:
        heat = heat_map(conn, Principal("t", "admin"), since=START, until=END)
    cell = heat.density.cell_size[0]
    assert heat.events == 18
    assert heat.density.data.sum() * cell * cell / 1e6 == pytest.approx(18, rel=1e-9)


def test_hotspots_lie_where_the_events_were_and_name_their_grid(client, auth, spots):
    body = client.get("/heat", params={**WINDOW, "state": "all"}, headers=auth("wall")).json()
    assert body["events"] == 18 and body["max"] > 0 and body["max"] >= body["vmax"] > 0
    first, second = body["hotspots"][:2]
    a, b = spots["a"], spots["b"]
    assert _metres((first["lon"], first["lat"]), (a.lon, a.lat)) < body["cell_m"] * 2
    assert first["events"] == 12 and first["grid_id"] == a.id and first["grid_code"] == a.code
    assert first["street"]  # the street around it, by name
    assert _metres((second["lon"], second["lat"]), (b.lon, b.lat)) < body["cell_m"] * 2
    assert second["events"] == 6 and second["grid_code"] == b.code
    assert first["density"] > second["density"]
    assert len(body["hotspots"]) == 2  # nothing else in the window


def test_open_events_by_default(client, auth, spots):
    body = client.get("/heat", params=WINDOW, headers=auth("wall")).json()
    assert body["events"] == 15  # the three closed ones left out
    assert [h["events"] for h in body["hotspots"]] == [12, 3]


def test_a_department_sees_the_heat_of_its_own_events(client, auth, spots):
    body = client.get("/heat", params={**WINDOW, "state": "all"}, headers=auth("department")).json()
    assert body["events"] == 12
    assert [h["grid_code"] for h in body["hotspots"]] == [spots["a"].code]


def test_a_window_without_events_is_a_transparent_image_and_no_hotspots(client, auth):
    body = client.get("/heat", params={"start": "2002-01-01T00:00:00+08:00", "end": "2002-01-02T00:00:00+08:00"},
                      headers=auth("wall")).json()
    assert body["events"] == 0 and body["hotspots"] == [] and body["max"] == 0
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["image"].partition(",")[2]))))
    assert image[..., 3].max() == 0


@pytest.mark.parametrize(("params", "field"), [
    ({"start": "2003-03-01T00:00:00"}, "start"),
    ({**WINDOW, "end": "2003-02-01T00:00:00+08:00"}, "end"),
    ({"state": "closed"}, "state"),
    ({"cell_m": 1}, "cell_m"),
    ({"bandwidth_m": "nan"}, "bandwidth_m"),
    ({"top": 0}, "top"),
])
def test_bad_parameters_are_422_naming_the_field(client, auth, params, field):
    response = client.get("/heat", params=params, headers=auth("wall"))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_an_open311_gateway_may_not_read_the_heat(client, auth):
    assert client.get("/heat", headers=auth("open311")).status_code == 403
