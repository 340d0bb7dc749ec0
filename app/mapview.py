"""Pure builders for the offline map: basemap layers and point layers (the heat map is the API's: ``GET /heat``).

Why no tile layer: the product runs on networks cut off from the internet, so
the basemap is the district's own blocks, water and roads drawn as vector
layers from the API. Styling and filtering run in the browser
(``assets/gridwall_map.js``) from each layer's ``hideout``, so switching a
filter moves no data.
"""

from __future__ import annotations

from collections.abc import Iterable

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State

__all__ = [
    "fn", "fit", "basemap", "served_layer", "cell_layer", "point_layer", "slim", "bounds_of",
    "BASE_LAYERS", "OPEN_STATES", "DARK", "POINT_KEEP", "DEFAULT_BOX", "DEFAULT_CENTER",
    "label_layer", "follow_zoom", "ROAD_CASING", "ZOOMED", "CAMERA_BADGES_ZOOM", "PALETTE",
]

#: the wall's colours, one home for its layers and its legend's swatches (:mod:`app.legend`); roads are warm and
#: grey so they never read as the grids' blue lines
PALETTE: dict[str, str] = {
    "district": "#4d6a93", "district_fill": "#111a2a", "water": "#0f3a5c", "water_edge": "#14507d",
    "blocks": "#161f2e", "blocks_edge": "#222f44", "arterial": "#c9b27c", "local": "#7d8799", "casing": "#05080f",
    "grids": "#2f7fd0", "cameras": "#37d67a", "cameras_down": "#9aa4b2", "workers": "#e879f9", "fresh": "#ff3b30",
}
#: basemap layers, bottom first, with their browser styles (the district's outline under all: a district loaded
#: from its own files may have nothing else to draw)
BASE_LAYERS: dict[str, tuple[str, dict]] = {
    "district": ("styleFill", {"fill": PALETTE["district_fill"], "color": PALETTE["district"], "weight": 2,
                               "opacity": 0.6}),
    "water": ("styleFill", {"fill": PALETTE["water"], "color": PALETTE["water_edge"], "opacity": 0.9}),
    "blocks": ("styleFill", {"fill": PALETTE["blocks"], "color": PALETTE["blocks_edge"], "opacity": 0.9}),
    "roads": ("styleLine", {"color": PALETTE["local"], "major": PALETTE["arterial"]}),
}
#: a dark casing drawn under the served roads (the same GeoJSON), so a road reads as a road over blocks and grids
ROAD_CASING = ("styleLine", {"casing": PALETTE["casing"]})
#: the wall's layers that follow the map's zoom from their hideout's ``zoom`` (widths, which names are written)
ZOOMED = ("roads-casing", "roads", "labels")
#: from this zoom on the wall shows cameras as counted badges; below it, as a tint where they are
CAMERA_BADGES_ZOOM = 15
#: the properties each point layer keeps on its way to the browser (30,000 cameras stay light)
POINT_KEEP: dict[str, tuple[str, ...]] = {
    "cameras": ("id", "code", "kind", "online", "owner_dept", "cam_class"),
    "workers": ("id", "code", "name", "status"),
    "resources": ("id", "code", "name", "kind"),
    "components": ("id", "code", "class_name", "state", "owner_dept"),
    "events": ("id", "code", "title", "category_code", "channel", "state", "department", "priority", "reported_at",
               "deadline_at", "street_id", "address"),
}
DARK = "#0b1220"
#: where a map looks before it knows the district (``[[south, west], [north, east]]``): the demo district; every
#: page fits to the store's own data (:func:`app.payloads.district_box`) as soon as there are any
DEFAULT_BOX = [[28.2, 112.95], [28.26, 113.03]]
DEFAULT_CENTER = [(DEFAULT_BOX[0][0] + DEFAULT_BOX[1][0]) / 2, (DEFAULT_BOX[0][1] + DEFAULT_BOX[1][1]) / 2]
#: the states of an event still being worked on (neither closed nor rejected)
OPEN_STATES = ("reported", "accepted", "dispatched", "in_progress", "handled", "verified", "returned", "reopened")


def fn(name: str) -> dict:
    """A reference to a browser function of ``assets/gridwall_map.js``."""
    return {"variable": f"dashExtensions.default.{name}"}


def fit(box: list[list[float]] | None) -> dict | None:
    """The ``dl.Map.viewport`` that fits ``box`` (``[[south, west], [north, east]]``) at once; ``None`` without one."""
    return {"bounds": box, "transition": "fitBounds", "options": {"animate": False}} if box else None


def basemap(prefix: str, *, served: bool = False) -> list:
    """The basemap's vector layers.

    Empty for a callback to fill their ``data``; or, with ``served``, loaded
    by the browser from this server's cached ``/basemap/<layer>.geojson``.
    """
    def source(name: str) -> dict:
        return {"url": f"/basemap/{name}.geojson"} if served else {"data": None}

    layers = dict(BASE_LAYERS)
    if served:  # the casing shares the roads' cached GeoJSON; a page filling its layers itself has no casing
        layers = {k: v for k, v in BASE_LAYERS.items() if k != "roads"} | {"roads-casing": ROAD_CASING,
                                                                             "roads": BASE_LAYERS["roads"]}
    return [dl.GeoJSON(id=f"{prefix}-{name}", style=fn(style), hideout=hide, interactive=False,
                       **source(name.removesuffix("-casing")))
            for name, (style, hide) in layers.items()]


def follow_zoom(prefix: str, names: Iterable[str] = ZOOMED) -> None:
    """Register the browser callback that hands ``<prefix>-map``'s zoom to the ``names`` layers' hideouts.

    Called once by a page module, beside its own callbacks (``followZoom`` in ``assets/gridwall_map.js``).
    """
    names = tuple(names)
    dash.clientside_callback(
        ClientsideFunction("gridwall", "followZoom"),
        *[Output(f"{prefix}-{name}", "hideout") for name in names],
        Input(f"{prefix}-map", "zoom"), State(f"{prefix}-map", "id"),
        *[State(f"{prefix}-{name}", "hideout") for name in names],
    )


def label_layer(prefix: str) -> dl.GeoJSON:
    """The names written on the map (``/basemap/labels.geojson``): DOM labels, each shown from its ``minzoom``.

    The filter keeps a label while the hideout's ``zoom`` (set from the
    map's zoom in the browser) is within its ``minzoom`` and ``maxzoom``;
    where two overlap on screen the lower ``rank`` stays.
    """
    return dl.GeoJSON(id=f"{prefix}-labels", url="/basemap/labels.geojson", pointToLayer=fn("label"),
                      filter=fn("labelShown"), hideout={"zoom": None}, interactive=False)


def served_layer(prefix: str, name: str, **options) -> dl.GeoJSON:
    """A layer the browser loads from this server's cached ``/basemap/<name>.geojson``."""
    return dl.GeoJSON(id=f"{prefix}-{name}", url=f"/basemap/{name}.geojson", interactive=False, **options)


def cell_layer(prefix: str, layer: str, *, color: str = "#3fa7ff", radius: int = 4,
               dots: bool = False, tint_below: int | None = None, **hide) -> dl.GeoJSON:
    """Server-counted clusters of a point layer (``/layers/<layer>/clusters``): a count badge per cell.

    A cell holding one feature is drawn as the feature itself; cells with an
    ``online`` count are marked when under 80 % are online. With ``dots``
    each cell is a dot growing with its count instead (drawn on the canvas:
    thousands stay cheap). Below the zoom ``tint_below`` each cell is a
    translucent disc instead: a tint where the features are, no badge
    covering the map (``hide``: more of the hideout, e.g. ``down``, the
    colour of a cell under 80 % online, and ``badge``, a class of the badges).
    """
    return dl.GeoJSON(id=f"{prefix}-{layer}", data=None, pointToLayer=fn("cell"), interactive=False,
                      hideout={"color": color, "radius": radius, "dots": dots, "tintBelow": tint_below, **hide})


def point_layer(prefix: str, layer: str, *, cluster: bool = False, color: str = "#3fa7ff", radius: int = 4,
                filters: dict | None = None, hidden: bool = False) -> dl.GeoJSON:
    """A point layer drawn as circle markers, clustered when dense, filtered from its hideout."""
    opts = {"id": f"{prefix}-{layer}", "data": None, "pointToLayer": fn("point"), "filter": fn("keep"),
            "hideout": {"color": color, "radius": radius, "filters": filters or {}, "hidden": hidden}}
    if cluster:
        opts.update(cluster=True, clusterToLayer=fn("cluster"), zoomToBoundsOnClick=True,
                    superClusterOptions={"radius": 80, "maxZoom": 16})
    return dl.GeoJSON(**opts)


def slim(fc: dict | None, keep: Iterable[str]) -> dict:
    """The collection with only the ``keep`` properties (and the id) on each feature."""
    keep = tuple(keep)
    out = []
    for f in (fc or {}).get("features", []):
        props = f.get("properties") or {}
        out.append({"type": "Feature", "id": f.get("id"), "geometry": f.get("geometry"),
                    "properties": {k: props.get(k) for k in keep if k in props} | {"id": f.get("id")}})
    return {"type": "FeatureCollection", "features": out}


def _coords(geom: dict | None) -> Iterable[tuple[float, float]]:
    if not geom:
        return
    stack = [geom.get("coordinates")]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)) and item and isinstance(item[0], (int, float)):
            yield float(item[0]), float(item[1])
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def bounds_of(*collections: dict | None) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` around every coordinate, for ``dl.Map.bounds``."""
    xs, ys = [], []
    for fc in collections:
        for f in (fc or {}).get("features", []):
            for x, y in _coords(f.get("geometry")):
                xs.append(x)
                ys.append(y)
    if not xs:
        return None
    return [[min(ys), min(xs)], [max(ys), max(xs)]]

