"""Pure builders for the offline map: basemap layers and point layers (the heat map is the API's: ``GET /heat``).

Why no tile layer: the product runs on networks cut off from the internet, so
the basemap is the district's own blocks, water and roads drawn as vector
layers from the API. Styling and filtering run in the browser
(``assets/gridwall_map.js``) from each layer's ``hideout``, so switching a
filter moves no data.
"""

from __future__ import annotations

from collections.abc import Iterable

import dash_leaflet as dl

__all__ = [
    "fn", "fit", "basemap", "served_layer", "cell_layer", "point_layer", "slim", "bounds_of",
    "BASE_LAYERS", "OPEN_STATES", "DARK", "POINT_KEEP", "DEFAULT_BOX", "DEFAULT_CENTER",
]

#: basemap layers, bottom first, with their browser styles (the district's outline under all: a district loaded
#: from its own files may have nothing else to draw)
BASE_LAYERS: dict[str, tuple[str, dict]] = {
    "district": ("styleFill", {"fill": "#111a2a", "color": "#4d6a93", "weight": 2, "opacity": 0.6}),
    "water": ("styleFill", {"fill": "#0f3a5c", "color": "#14507d", "opacity": 0.9}),
    "blocks": ("styleFill", {"fill": "#161f2e", "color": "#222f44", "opacity": 0.9}),
    "roads": ("styleLine", {"color": "#2e3d55", "major": "#4d6a93"}),
}
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

    return [dl.GeoJSON(id=f"{prefix}-{name}", style=fn(style), hideout=hide, interactive=False, **source(name))
            for name, (style, hide) in BASE_LAYERS.items()]


def served_layer(prefix: str, name: str, **options) -> dl.GeoJSON:
    """A layer the browser loads from this server's cached ``/basemap/<name>.geojson``."""
    return dl.GeoJSON(id=f"{prefix}-{name}", url=f"/basemap/{name}.geojson", interactive=False, **options)


def cell_layer(prefix: str, layer: str, *, color: str = "#3fa7ff", radius: int = 4,
               dots: bool = False) -> dl.GeoJSON:
    """Server-counted clusters of a point layer (``/layers/<layer>/clusters``): a count badge per cell.

    A cell holding one feature is drawn as the feature itself; cells with an
    ``online`` count are marked when under 80 % are online. With ``dots``
    each cell is a dot growing with its count instead (drawn on the canvas:
    thousands stay cheap).
    """
    return dl.GeoJSON(id=f"{prefix}-{layer}", data=None, pointToLayer=fn("cell"), interactive=False,
                      hideout={"color": color, "radius": radius, "dots": dots})


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

