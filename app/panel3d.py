"""The wall's 3-D panel: buildings extruded by floors, open events as columns, in a page of its own.

Why a page of its own, loaded by URL (``/panel3d?lang=zh`` in the wall's
iframe) rather than an ``srcdoc`` written by a callback: it starts loading
with the wall and asks for its two data files (``/panel3d/buildings.json``,
``/panel3d/events.json``) at once, while the wall's own callbacks run; the
deck is made when both are in, so software WebGL draws one full frame rather
than one per layer. pydeck still writes the deck (layers, accessors, view);
the browser turns its JSON into layers with ``@deck.gl/json``. The script is
a build of ``@deck.gl/core``, ``@deck.gl/layers`` and ``@deck.gl/json`` from
npm holding only what the panel uses, vendored in ``assets/vendor/`` (built
by ``scripts/build_deck_bundle.sh``; what it holds is listed at its top):
0.6 MB, against 1.6 MB for the whole of deck.gl and 4.3 MB for the Jupyter
widget bundle in pydeck's wheel. Nothing comes from a CDN and no basemap
tiles are asked for.

What it draws (software WebGL on a wall PC is slow): the focus area — the
middle of the district, shrunk until it holds at most ``max_buildings_3d``
buildings — with every building in it, coordinates to 5 decimals (about a
metre), cached per process for an hour; and the open events' hotspots of
the API's heat map (``GET /heat``, 300 m apart), one column per hotspot,
cached for 30 s. The camera looks at the
focus area. ``data-ready`` is set on the page's body once a frame holding
both layers has been drawn.
"""

from __future__ import annotations

import html
import json
import math

from app import mapview
from app.client import ApiClient
from app.i18n import t
from app.payloads import Payload, PayloadCache, district_box
from app.settings import WallSettings

__all__ = ["SCRIPTS", "deck_spec", "page", "legend", "buildings", "columns", "focus_box"]

#: the vendored bundle the panel loads (under ``/vendor/``): deck.gl's core, layers and JSON converter only
SCRIPTS = ("deck.gl-wall-9.1.14.min.js",)
_INNER = 0.22  # the share of the district's width cut from each side: the focus area starts as its middle
_PANEL_PX = 480  # about the panel's width on a 16:9 wall: the focus area fills it
_COLUMNS = 50  # hotspots drawn as columns (the API's most)
_BUILDING_RGB = (70, 110, 160)
_COLUMN_RGB = (255, 90, 60)
#: the legend in the panel's bottom-left corner, over the deck
_LEGEND_CSS = ("#panel3d-legend{position:absolute;left:8px;bottom:8px;z-index:2;padding:4px 8px;border-radius:4px;"
               "background:rgba(11,18,32,.8);color:#cfd8e6;font:12px sans-serif;pointer-events:none}"
               "#panel3d-legend .row{display:flex;align-items:center;gap:6px;margin:2px 0}"
               "#panel3d-legend .sw{display:inline-block;width:10px;height:10px;border-radius:2px}")
_COLUMN_RADIUS_M = 300.0  # the heat map's kernel radius for them: hotspots at least this far apart

#: in <head>, before the bundle: ask for the data at once, so they arrive while the bundle compiles
_EARLY = """
const DATA = {};
SPEC.layers.forEach(function (l) { DATA[l.data] = fetch(l.data).then(function (r) { return r.json(); }); });
"""
#: after the bundle: one deck, created when every layer's data are in, so software WebGL draws one full frame
#: rather than one per layer as each arrives; no multisampling (four times the fragments in software)
_SCRIPT = """
Promise.all(SPEC.layers.map(function (l) { return DATA[l.data]; })).then(function (arrays) {
  const spec = Object.assign({}, SPEC, {layers: SPEC.layers.map(function (l, i) {
    return Object.assign({}, l, {data: arrays[i]});
  })});
  const props = new deck.JSONConverter({configuration: {classes: deck}}).convert(spec);
  let ready = false;
  new deck.Deck(Object.assign({}, props, {
    parent: document.getElementById("deck-container"), width: "100%", height: "100%",
    deviceProps: {webgl: {antialias: false}},
    getTooltip: function (info) {
      return info.object && info.object.n !== undefined ? LABEL + ": " + info.object.n : null;
    },
    onAfterRender: function () {
      /* ready once a frame has been drawn with the buildings and the columns */
      if (!ready) { ready = true; performance.mark("panel3d-ready"); document.body.setAttribute("data-ready", "1"); }
    }
  }));
});
"""


def deck_spec(center: tuple[float, float], zoom: float = 13.6) -> dict:
    """pydeck's deck: buildings extruded by floors (3.2 m each), event counts as columns; data by URL."""
    import pydeck as pdk

    layers = [
        pdk.Layer("PolygonLayer", data="/panel3d/buildings.json", get_polygon="polygon", extruded=True,
                  wireframe=False, get_elevation="floors * 3.2", get_fill_color=[*_BUILDING_RGB, 210],
                  get_line_color=[0, 0, 0, 0], pickable=False, id="buildings"),
        pdk.Layer("ColumnLayer", data="/panel3d/events.json", get_position="position", get_elevation="n",
                  elevation_scale=6, radius=45, get_fill_color=[*_COLUMN_RGB, 230], extruded=True, pickable=True,
                  id="events"),
    ]
    view = pdk.ViewState(longitude=center[0], latitude=center[1], zoom=zoom, pitch=50, bearing=-20)
    return json.loads(pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, map_style=None).to_json())


def page(cache: PayloadCache, settings: WallSettings, lang: str = "zh") -> str:
    """The panel's HTML: the vendored scripts, pydeck's spec, and a few lines to draw it."""
    w, s, e, n = focus_box(cache, settings)
    zoom = max(12.0, min(17.0, math.log2(_PANEL_PX * 360 / (256 * max(e - w, 1e-6)))))
    spec = json.dumps(deck_spec(((w + e) / 2, (s + n) / 2), zoom), ensure_ascii=False).replace("</", "<\\/")
    scripts = "".join(f"<script src='/vendor/{name}'></script>" for name in SCRIPTS)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>html,body,#deck-container{margin:0;height:100%;width:100%;background:#0b1220;overflow:hidden;"
        "position:relative}"
        + _LEGEND_CSS + "</style>"
        "<script>const SPEC=" + spec + ";const LABEL=" + json.dumps(t("events", lang), ensure_ascii=False) + ";"
        + _EARLY + "</script>" + scripts + "</head><body><div id='deck-container'></div>" + legend(lang)
        + "<script>" + _SCRIPT + "</script></body></html>"
    )


def legend(lang: str = "zh") -> str:
    """The panel's legend: a swatch in each layer's colour and what its height means."""
    rows = "".join(
        f"<div class='row'><span class='sw' style='background:rgb({r},{g},{b})'></span>"
        f"{html.escape(t(key, lang))}</div>"
        for key, (r, g, b) in (("legend_buildings", _BUILDING_RGB), ("legend_hotspots", _COLUMN_RGB)))
    return f"<div id='panel3d-legend'>{rows}</div>"


def _ring(coords: list, digits: int = 5) -> list:
    return [[round(x, digits), round(y, digits)] for x, y, *_ in coords]


def focus_box(cache: PayloadCache, settings: WallSettings) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the focus area: the district's middle, holding ≤ ``max_buildings_3d``.

    The district is what the maps fit to (:func:`app.payloads.district_box`: its outline, else the grids, blocks
    or events); only an empty store falls back to :data:`app.mapview.DEFAULT_BOX`.
    """
    def build() -> list:
        box = district_box(cache, settings)
        if box is None:
            return []  # no district (yet): kept 5 s only
        (s, w), (n, e) = box
        cx, cy, hx, hy = (w + e) / 2, (s + n) / 2, (e - w) * (0.5 - _INNER), (n - s) * (0.5 - _INNER)
        with ApiClient(settings) as api:
            for _ in range(6):
                box = f"{cx - hx:.6f},{cy - hy:.6f},{cx + hx:.6f},{cy + hy:.6f}"
                got = api.get_json("layer", params={"bbox": box, "limit": 1}, layer="buildings") or {}
                matched = int(got.get("numberMatched") or 0)
                if matched <= settings.max_buildings_3d:
                    break
                shrink = math.sqrt(settings.max_buildings_3d / matched) * 0.97  # buildings ~ area
                hx, hy = hx * shrink, hy * shrink
        return [cx - hx, cy - hy, cx + hx, cy + hy]

    got = cache.get("panel3d:focus", build, max_age=3600).data
    (s, w), (n, e) = mapview.DEFAULT_BOX
    return tuple(got) if got else (w, s, e, n)


def buildings(cache: PayloadCache, settings: WallSettings) -> Payload:
    """Every building of the focus area as ``{"polygon": outer ring, "floors": n}`` (cached for an hour)."""
    def build() -> list:
        box = focus_box(cache, settings)
        with ApiClient(settings) as api:
            fc = api.layer("buildings", bbox=box, limit=settings.max_buildings_3d)
        out = []
        for f in fc.get("features", []):
            geom = f.get("geometry") or {}
            rings = geom.get("coordinates") or []
            if geom.get("type") == "MultiPolygon" and rings:
                rings = rings[0]
            if rings:
                out.append({"polygon": _ring(rings[0]), "floors": (f.get("properties") or {}).get("floors") or 1})
        return out

    return cache.get("panel3d:buildings", build, max_age=3600)


def columns(cache: PayloadCache, settings: WallSettings) -> Payload:
    """The open events' hotspots of the API's heat map (``GET /heat``), ``{"position": [lon, lat], "n": events
    within the kernel's radius}`` per hotspot, at most :data:`_COLUMNS` (cached for 30 s)."""
    def build() -> list:
        with ApiClient(settings) as api:
            heat = api.get_json("heat", params={"top": _COLUMNS, "bandwidth_m": _COLUMN_RADIUS_M}) or {}
        return [{"position": [h["lon"], h["lat"]], "n": h["events"]} for h in heat.get("hotspots") or []]

    return cache.get("panel3d:events", build, max_age=30)
