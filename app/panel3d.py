"""The wall's 3-D panel: buildings extruded by floors, open events as columns, in a page of its own.

Why a page of its own, loaded by URL (``/panel3d?lang=zh`` in the wall's
iframe) rather than an ``srcdoc`` written by a callback: it starts loading
with the wall and asks for its two data files (``/panel3d/buildings.bin``,
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

What it draws: every building of the store as one extruded layer, on a
flat ground of the district's outline, and the open events' hotspots of
the API's heat map (``GET /heat``, 300 m apart) as columns standing on that
ground (their positions carry a height of 0; the camera fits the district).
The buildings travel packed, not as GeoJSON (:func:`pack_buildings`): each
outer ring closed and counter-clockwise as float32 offsets from one
origin, with a start index and a floor count per building, tallest first —
1.5 MB for the demo district's 33,000 buildings (46 bytes a building, against
123 in the JSON that carried 3,000 before). The browser hands those arrays to
deck.gl's ``SolidPolygonLayer`` as they are (binary data, ``_normalize:
false``, ``LNGLAT_OFFSETS`` so the positions stay float32), so no JSON is
parsed and no ring re-wound. Software WebGL draws 3,000 extruded buildings in
about a quarter of a second a frame and 33,000 in about three on a busy
two-core PC, so the first frame holds the ``max_buildings_3d`` tallest and the
panel sets ``data-ready``; all of them follow a few seconds later, when the
wall around the panel has loaded (``data-complete``; ``data-buildings`` is the
count drawn). Cached per process for an hour, the columns for 30 s.
"""

from __future__ import annotations

import html
import json
import math
import struct
import sys
from array import array

from app.client import ApiClient
from app.i18n import t
from app.payloads import Payload, PayloadCache, basemap_payload, district_box
from app.settings import WallSettings

__all__ = ["SCRIPTS", "deck_spec", "page", "legend", "buildings", "columns", "pack_buildings", "MAGIC"]

#: the vendored bundle the panel loads (under ``/vendor/``): deck.gl's core, layers and JSON converter only
SCRIPTS = ("deck.gl-wall-9.1.14.min.js",)
_PANEL_PX = 480  # about the panel's width on a 16:9 wall: the district fills it
_COLUMNS = 50  # hotspots drawn as columns (the API's most)
_FULL_AFTER_MS = 3000  # the first frame holds the tallest buildings; all of them this long after it
_MAX_BUILDINGS = 500_000  # a bound on what one panel is sent, far above a city's district (33,000)
_BUILDING_RGB = (70, 110, 160)
_COLUMN_RGB = (255, 90, 60)
_GROUND_RGBA = (28, 40, 62, 255)
#: the packed buildings' first bytes: ``GWB1``, then counts (polygons, vertices), 4 spare bytes and the origin
MAGIC = b"GWB1"
_HEADER = struct.Struct("<4sIII2d")
#: the legend in the panel's bottom-left corner, over the deck
_LEGEND_CSS = ("#panel3d-legend{position:absolute;left:8px;bottom:8px;z-index:2;padding:4px 8px;border-radius:4px;"
               "background:rgba(11,18,32,.8);color:#cfd8e6;font:12px sans-serif;pointer-events:none}"
               "#panel3d-legend .row{display:flex;align-items:center;gap:6px;margin:2px 0}"
               "#panel3d-legend .sw{display:inline-block;width:10px;height:10px;border-radius:2px}")
_COLUMN_RADIUS_M = 300.0  # the heat map's kernel radius for them: hotspots at least this far apart

#: in <head>, before the bundle: ask for the data at once, so they arrive while the bundle compiles
#: (the packed buildings as bytes, the rest as JSON)
_EARLY = """
const DATA = {};
SPEC.layers.forEach(function (l) {
  if (typeof l.data === "string") {
    DATA[l.data] = fetch(l.data).then(function (r) { return /\\.bin$/.test(l.data) ? r.arrayBuffer() : r.json(); });
  }
});
"""
#: after the bundle: one deck, created when every layer's data are in, so software WebGL draws one full frame
#: rather than one per layer as each arrives; no multisampling (four times the fragments in software).
#: The packed buildings become deck.gl binary data as they are: start indices and float32 offsets from the origin
#: (``LNGLAT_OFFSETS``), floors by index.
_SCRIPT = """
function unpack(buf) {
  const head = new DataView(buf, 0, Math.min(buf.byteLength, 32));
  if (buf.byteLength < 32) { return {length: 0, startIndices: new Uint32Array(1), floors: new Uint16Array(0),
                                     origin: [0, 0, 0],
                                     attributes: {getPolygon: {value: new Float32Array(0), size: 2}}}; }
  const n = head.getUint32(4, true), v = head.getUint32(8, true);
  const lon0 = head.getFloat64(16, true), lat0 = head.getFloat64(24, true);
  const starts = new Uint32Array(buf, 32, n + 1);
  const offsets = new Float32Array(buf, 32 + 4 * (n + 1), 2 * v);
  const floors = new Uint16Array(buf, 32 + 4 * (n + 1) + 8 * v, n);
  return {length: n, startIndices: starts, floors: floors, origin: [lon0, lat0, 0],
          attributes: {getPolygon: {value: offsets, size: 2}}};
}
Promise.all(SPEC.layers.map(function (l) { return typeof l.data === "string" ? DATA[l.data] : l.data; }))
.then(function (arrays) {
  performance.mark("panel3d-data");
  const spec = Object.assign({}, SPEC, {layers: SPEC.layers.map(function (l, i) {
    return Object.assign({}, l, {data: l.id === "buildings" ? [] : arrays[i]});
  })});
  const props = new deck.JSONConverter({configuration: {classes: deck}}).convert(spec);
  const packed = unpack(arrays[SPEC.layers.findIndex(function (l) { return l.id === "buildings"; })]);
  /* the first frame holds the FIRST tallest buildings (packed tallest first), the next one all of them: software
     WebGL draws 3,000 extruded buildings in a quarter of a second, 33,000 in about three on a busy 2-core PC */
  const k = Math.min(FIRST, packed.length);
  const first = {length: k, startIndices: packed.startIndices.subarray(0, k + 1), floors: packed.floors,
                 origin: packed.origin, attributes: {getPolygon: {
                   value: packed.attributes.getPolygon.value.subarray(0, 2 * packed.startIndices[k]), size: 2}}};
  function withBuildings(layers, data) {
    return layers.map(function (layer) {
      return layer.id !== "buildings" ? layer : layer.clone({
        data: data, _normalize: false, _windingOrder: "CCW",
        coordinateSystem: 3 /* LNGLAT_OFFSETS */, coordinateOrigin: data.origin,
        getElevation: function (_, info) { return data.floors[info.index] * 3.2; }
      });
    });
  }
  const layers = props.layers;
  let drawn = false, full = false;
  window.PANEL3D = new deck.Deck(Object.assign({}, props, {
    layers: withBuildings(layers, first),
    parent: document.getElementById("deck-container"), width: "100%", height: "100%",
    deviceProps: {webgl: {antialias: false}},
    getTooltip: function (info) {
      return info.object && info.object.n !== undefined ? LABEL + ": " + info.object.n : null;
    },
    onAfterRender: function () {
      if (!drawn) {
        /* ready once a frame has been drawn with the buildings and the columns; then the rest of the buildings */
        drawn = true;
        performance.mark("panel3d-ready");
        document.body.setAttribute("data-ready", "1");
        document.body.setAttribute("data-buildings", String(k));
        if (k < packed.length) {
          /* not at once: that frame takes both cores for seconds, and the wall around the panel is still loading */
          setTimeout(function () {
            (window.requestIdleCallback || setTimeout)(function () {
              full = true;
              window.PANEL3D.setProps({layers: withBuildings(layers, packed)});
            }, {timeout: 5000});
          }, FULL_AFTER_MS);
          return;
        }
        full = true;
      }
      if (full && !document.body.hasAttribute("data-complete")) {  /* a frame drawn after the layers were set */
        document.body.setAttribute("data-buildings", String(packed.length));
        document.body.setAttribute("data-complete", "1");
        performance.mark("panel3d-complete");
      }
    }
  }));
});
"""


def deck_spec(center: tuple[float, float], zoom: float = 13.6, ground: list | None = None) -> dict:
    """pydeck's deck: the ground, buildings extruded by floors (3.2 m each), hotspots as columns; data by URL.

    ``ground`` is a list of flat rings (lon/lat) drawn under everything, so the columns stand on something.
    The buildings' data are filled in by the page's script (binary arrays pydeck cannot write).
    """
    import pydeck as pdk

    layers = [
        pdk.Layer("SolidPolygonLayer", data=[{"polygon": r} for r in ground or []], get_polygon="polygon",
                  extruded=False, get_fill_color=list(_GROUND_RGBA), pickable=False, id="ground"),
        pdk.Layer("SolidPolygonLayer", data="/panel3d/buildings.bin", extruded=True, wireframe=False,
                  get_fill_color=[*_BUILDING_RGB, 230], pickable=False, id="buildings"),
        pdk.Layer("ColumnLayer", data="/panel3d/events.json", get_position="position", get_elevation="n",
                  elevation_scale=6, radius=60, get_fill_color=[*_COLUMN_RGB, 240], extruded=True, pickable=True,
                  id="events"),
    ]
    view = pdk.ViewState(longitude=center[0], latitude=center[1], zoom=zoom, pitch=45, bearing=-20)
    return json.loads(pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, map_style=None).to_json())


def page(cache: PayloadCache, settings: WallSettings, lang: str = "zh") -> str:
    """The panel's HTML: the vendored scripts, pydeck's spec, and a few lines to draw it."""
    box = district_box(cache, settings)
    (s, w), (n, e) = box or ((28.17, 112.96), (28.23, 113.02))  # an empty store: any small place will do
    zoom = max(10.0, min(17.0, math.log2(_PANEL_PX * 360 / (256 * max(e - w, 1e-6)))))
    spec = deck_spec(((w + e) / 2, (s + n) / 2), zoom, _ground(cache, settings, (w, s, e, n)))
    spec = json.dumps(spec, ensure_ascii=False).replace("</", "<\\/")
    scripts = "".join(f"<script src='/vendor/{name}'></script>" for name in SCRIPTS)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>html,body,#deck-container{margin:0;height:100%;width:100%;background:#0b1220;overflow:hidden;"
        "position:relative}"
        + _LEGEND_CSS + "</style>"
        "<script>const SPEC=" + spec + f";const FIRST={settings.max_buildings_3d:d};"
        f"const FULL_AFTER_MS={_FULL_AFTER_MS};"
        "const LABEL=" + json.dumps(t("events", lang), ensure_ascii=False) + ";"
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


def _ground(cache: PayloadCache, settings: WallSettings, box: tuple[float, float, float, float]) -> list:
    """The district's outline rings (5 decimals), else its box: the floor the buildings and columns stand on."""
    rings = []
    for f in (basemap_payload(cache, settings, "district").data or {}).get("features", []):
        geom = f.get("geometry") or {}
        parts = geom.get("coordinates") or []
        for poly in parts if geom.get("type") == "MultiPolygon" else [parts]:
            if poly:
                rings.append([[round(x, 5), round(y, 5)] for x, y, *_ in poly[0]])
    w, s, e, n = box
    return rings or [[[w, s], [e, s], [e, n], [w, n], [w, s]]]


def _outer_ring(geom: dict) -> list:
    """The outer ring of a (multi)polygon's first part, closed, counter-clockwise, without repeated vertices."""
    parts = geom.get("coordinates") or []
    if geom.get("type") == "MultiPolygon":
        parts = parts[0] if parts else []
    if geom.get("type") not in ("Polygon", "MultiPolygon") or not parts or len(parts[0]) < 3:
        return []
    ring = []
    for x, y, *_ in parts[0]:
        if not ring or ring[-1] != (x, y):
            ring.append((x, y))
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:]))
    return ring if area2 > 0 else ring[::-1]


def pack_buildings(features: list[dict]) -> bytes:
    """Buildings as the panel's binary payload (little-endian; ``b""`` for none).

    ``MAGIC``, polygons ``n``, vertices ``v``, 4 spare bytes, the origin (lon, lat as float64); ``n + 1`` uint32
    start indices; ``2 v`` float32 lon/lat offsets from the origin (float32 holds a few centimetres at a
    district's offsets, about a metre at absolute degrees); ``n`` uint16 floor counts, padded to 4 bytes.

    Examples
    --------
    >>> square = {"type": "Polygon", "coordinates": [[[113, 28], [113, 28.001], [113.001, 28.001], [113.001, 28]]]}
    >>> body = pack_buildings([{"geometry": square, "properties": {"floors": 6}}])
    >>> struct.unpack_from("<4sII", body), len(body)
    ((b'GWB1', 1, 5), 84)
    """
    shapes = []
    for f in features[:_MAX_BUILDINGS]:
        ring = _outer_ring(f.get("geometry") or {})
        if ring:
            shapes.append((min(65_535, max(1, int((f.get("properties") or {}).get("floors") or 1))), ring))
    if not shapes:
        return b""
    shapes.sort(key=lambda fr: -fr[0])  # tallest first: the panel's first frame draws a prefix
    floors, rings = [fr[0] for fr in shapes], [fr[1] for fr in shapes]
    lon0, lat0 = rings[0][0]
    starts, offsets = array("I", [0]), array("f")
    for ring in rings:
        for x, y in ring:
            offsets.append(x - lon0)
            offsets.append(y - lat0)
        starts.append(len(offsets) // 2)
    counts = array("H", floors + [0] * (len(floors) % 2))
    if sys.byteorder != "little":
        for a in (starts, offsets, counts):
            a.byteswap()
    return (_HEADER.pack(MAGIC, len(rings), len(offsets) // 2, 0, lon0, lat0) + starts.tobytes() + offsets.tobytes()
            + counts.tobytes())


def buildings(cache: PayloadCache, settings: WallSettings) -> Payload:
    """Every building of the store, packed by :func:`pack_buildings` (cached for an hour)."""
    def build() -> bytes:
        with ApiClient(settings) as api:
            return pack_buildings(api.layer("buildings", limit=_MAX_BUILDINGS).get("features", []))

    return cache.get("panel3d:buildings", build, max_age=3600)


def columns(cache: PayloadCache, settings: WallSettings) -> Payload:
    """The open events' hotspots of the API's heat map (``GET /heat``), ``{"position": [lon, lat, 0], "n": events
    within the kernel's radius}`` per hotspot, at most :data:`_COLUMNS` (cached for 30 s): on the ground."""
    def build() -> list:
        with ApiClient(settings) as api:
            heat = api.get_json("heat", params={"top": _COLUMNS, "bandwidth_m": _COLUMN_RADIUS_M}) or {}
        return [{"position": [h["lon"], h["lat"], 0], "n": h["events"]} for h in heat.get("hotspots") or []]

    return cache.get("panel3d:events", build, max_age=30)
