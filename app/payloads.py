"""Map payloads the wall's server fetches from the API once and keeps for a while.

Why: the basemap (the district's outline, water, blocks, roads, grids, the names written on them) is
the same for every screen in the hall and changes rarely (a new grid
version, a road load), yet it is 1.5 MB of GeoJSON the API draws anew on each request. The server asks the API
once per ``max_age`` per process, keeps the slimmed GeoJSON (6 decimals, the
features of a layer merged into one per style) as bytes with an ``ETag``,
and the browser fetches it straight from ``/basemap/<layer>``
(``dl.GeoJSON(url=…)``) — no trip through a Dash callback, and a reload of
the wall answered ``304``.

The cache is built by :func:`app.main.create_wall_app` and lives on the Flask
app (``app.extensions``): one per process, nothing at import, and it holds
only what every user of this server sees alike.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson

from app import mapview
from app.client import ApiClient
from app.settings import WallSettings

__all__ = ["Payload", "PayloadCache", "BASEMAP", "BASEMAP_SOURCES", "basemap_payload", "district_box", "rounded",
           "merged", "BASEMAP_ROUTES"]

#: the basemap layers served from ``/basemap/<name>.geojson``: the properties each keeps (its features are merged
#: into one per distinct value: the wall styles them by nothing else), and how long (s) it is kept
BASEMAP: dict[str, tuple[tuple[str, ...], int]] = {
    "district": ((), 3600),
    "water": ((), 3600),
    "blocks": ((), 3600),
    "roads": (("kind",), 3600),
    "grids": ((), 60),  # outlines only; a planner may accept a new grid version at any time
    # the names written on the map, one point each (never merged: each is a label of its own)
    "labels": (("layer", "name", "kind", "angle", "minzoom", "maxzoom", "rank"), 3600),
}
#: basemap layers that are not a map layer of their own: the API layer and filters they are read from
BASEMAP_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {"district": ("admin_areas", ("level:district",))}
#: basemap layers that are an API answer of their own (the route of :data:`app.client.ROUTES`), not a map layer
BASEMAP_ROUTES: dict[str, str] = {"labels": "basemap_labels"}
#: what the maps fit to when the district has no outline, most telling first (events last: only their clusters)
_FIT_FALLBACK = ("grids", "blocks")
#: a box narrower than this (degrees, about 500 m) is widened to it: one event is not a district
_MIN_SPAN = 0.005
_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}


_EMPTY_MAX_AGE = 5


@dataclass(frozen=True)
class Payload:
    """One cached answer: the GeoJSON (for the server's own use) or packed bytes, its body, ETag and expiry."""

    data: object
    body: bytes
    etag: str
    max_age: int
    expires: float


class PayloadCache:
    """Payloads by name, each built at most once per ``max_age`` (concurrent askers wait for one build).

    An empty answer (the API away, an empty store) is kept 5 s only.

    Examples
    --------
    >>> cache = PayloadCache()
    >>> cache.get("answer", lambda: {"n": 42}, max_age=60).body
    b'{"n":42}'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._entries: dict[str, Payload] = {}

    def get(self, name: str, build: Callable[[], object], *, max_age: int) -> Payload:
        """The payload ``name``, built by ``build()`` when missing or expired."""
        with self._lock:
            key_lock = self._locks.setdefault(name, threading.Lock())
        with key_lock:
            entry = self._entries.get(name)
            if entry is not None and entry.expires > time.monotonic():
                return entry
            data = build()
            if not data or (isinstance(data, dict) and not data.get("features")):
                max_age = min(max_age, _EMPTY_MAX_AGE)  # the API was away or the store empty: ask again soon
            body = data if isinstance(data, bytes) else orjson.dumps(data)  # bytes: a packed payload
            etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
            entry = Payload(data, body, etag, max_age, time.monotonic() + max_age)
            self._entries[name] = entry
            return entry


def _round(coords, digits: int):
    if coords and isinstance(coords[0], (int, float)):
        return [round(c, digits) for c in coords[:2]]
    return [_round(c, digits) for c in coords]


def rounded(fc: dict | None, keep: Iterable[str], digits: int = 6) -> dict:
    """The collection with only the ``keep`` properties and coordinates to ``digits`` decimals (6: 10 cm)."""
    keep = tuple(keep)
    out = []
    for f in (fc or {}).get("features", []):
        geom = f.get("geometry")
        if not geom:
            continue
        props = f.get("properties") or {}
        out.append({"type": "Feature", "id": f.get("id"),
                    "geometry": {"type": geom["type"], "coordinates": _round(geom["coordinates"], digits)},
                    "properties": {k: props[k] for k in keep if k in props}})
    return {"type": "FeatureCollection", "features": out}


def merged(fc: dict, keep: Iterable[str]) -> dict:
    """One multi-geometry feature per distinct value of the ``keep`` properties.

    Why: the map draws 1,266 blocks styled alike as fast as one shape if they
    *are* one shape — a Leaflet layer per feature (events, style, a canvas
    path of its own) is what costs, not the vertices.

    Examples
    --------
    >>> fc = {"features": [{"geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
    ...                     "properties": {"kind": "local"}},
    ...                    {"geometry": {"type": "MultiLineString", "coordinates": [[[2, 2], [3, 3]]]},
    ...                     "properties": {"kind": "local"}}]}
    >>> [f["geometry"] for f in merged(fc, ("kind",))["features"]]
    [{'type': 'MultiLineString', 'coordinates': [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]}]
    """
    keep = tuple(keep)
    groups: dict[tuple, dict] = {}
    for f in fc.get("features", []):
        geom = f.get("geometry") or {}
        kind = geom.get("type")
        multi = _MULTI.get(kind, kind)
        if multi not in _MULTI.values():
            continue
        props = f.get("properties") or {}
        key = (multi, *(props.get(k) for k in keep))
        group = groups.setdefault(key, {"type": "Feature", "geometry": {"type": multi, "coordinates": []},
                                        "properties": {k: props.get(k) for k in keep}})
        parts = group["geometry"]["coordinates"]
        parts.extend(geom["coordinates"] if kind == multi else [geom["coordinates"]])
    return {"type": "FeatureCollection", "features": list(groups.values())}


def basemap_payload(cache: PayloadCache, settings: WallSettings, name: str) -> Payload:
    """The basemap layer ``name`` (one of :data:`BASEMAP`), from the cache or the API."""
    keep, max_age = BASEMAP[name]
    layer, filters = BASEMAP_SOURCES.get(name, (name, ()))
    route = BASEMAP_ROUTES.get(name)

    def build() -> dict:
        with ApiClient(settings) as api:
            if route is not None:
                return rounded(api.get_json(route), keep)
            return merged(rounded(api.layer(layer, filters=list(filters) or None), keep), keep)

    return cache.get(f"basemap:{name}", build, max_age=max_age)


def _event_places(cache: PayloadCache, settings: WallSettings) -> Payload:
    """Where the events are, as the API's clusters at a city's zoom (a few hundred points, not a million)."""
    def build() -> dict | None:
        with ApiClient(settings) as api:
            return api.get_json("clusters", params={"zoom": 14, "cell_px": 64}, layer="events")

    return cache.get("fit:events", build, max_age=60)


def _widened(box: list[list[float]]) -> list[list[float]]:
    (s, w), (n, e) = box
    dy, dx = max(0.0, _MIN_SPAN - (n - s)) / 2, max(0.0, _MIN_SPAN - (e - w)) / 2
    return [[s - dy, w - dx], [n + dy, e + dx]]


def district_box(cache: PayloadCache, settings: WallSettings) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` the maps fit to: the district's outline, else what the store holds.

    Why not the blocks alone: a district loaded from its own files may have
    none — only its outline, or only events. The outline first; without it
    the grids, then the blocks (all from the cached basemap), then the
    events' clusters; ``None`` for an empty store (the page keeps
    :data:`app.mapview.DEFAULT_CENTER`).
    """
    for name in ("district", *_FIT_FALLBACK):
        box = mapview.bounds_of(basemap_payload(cache, settings, name).data)
        if box is not None:
            return _widened(box)
    box = mapview.bounds_of(_event_places(cache, settings).data)
    return None if box is None else _widened(box)
