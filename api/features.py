"""Bound queries over the map layers: GeoJSON pages, extents and vector tiles.

Why one module for three outputs: the GeoJSON of ``/layers``, the items of
OGC API – Features and the Mapbox Vector Tiles of ``/tiles`` must agree on
which rows a caller sees — the bbox, the attribute filters, the grid version
and the key's own share of the layer (根据权限共享), which :mod:`api.access`
decides. So every query is built here from one :class:`Scope`.

Tables come from :data:`SERVED` (the registry's layers with a geometry, a
closed set); user values are always bound parameters — no SQL is built from
strings. Features are serialised to GeoJSON by PostgreSQL
(``json_build_object``), tiles by ``ST_AsMVT``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Float,
    Integer,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from api.access import SCOPED_LAYERS, condition, condition_params, where
from api.security import Principal
from command.lifecycle import OPEN_STATES
from layers import models as m
from layers.errors import LoadError, NotFound
from layers.registry import LAYERS

__all__ = [
    "ServedLayer",
    "SERVED",
    "served",
    "Scope",
    "Page",
    "parse_filters",
    "feature_page",
    "feature_by_id",
    "extent",
    "time_extent",
    "clusters",
    "tile",
    "tile_query",
    "TILE_EXTENT",
]

TILE_EXTENT = 4096
_MERCATOR_HALF = 20037508.342789244
_EARTH_R = 6378137.0
_MERCATOR_LAT = 85.0511287798
_GEOJSON_DIGITS = 7


@dataclass(frozen=True)
class ServedLayer:
    """A map layer as the service shows it.

    Attributes
    ----------
    properties:
        Columns shown as feature properties (GeoJSON, OGC).
    tile_properties:
        The leaner set carried in vector tiles.
    scoped:
        Some roles see only part of the layer (:data:`api.access.SCOPED_LAYERS`).
    versioned:
        Grids: rows belong to a grid version (the current one by default).
    minzoom:
        Below this zoom there is no tile (``/tiles`` answers 204): 50,000 buildings are no map at z10, and a
        z8 tile of a city's 30,000 cameras is megabytes nobody can read. The layers a district's outline needs
        (areas, roads, water) start at 0; the things in it from 10 to 14.
    time:
        The column OGC API – Features' ``datetime`` filters on (:data:`_TIMES`), or ``None`` for a layer without time.
    """

    name: str
    title: str
    table: Table
    properties: tuple[str, ...]
    tile_properties: tuple[str, ...]
    scoped: bool = False
    versioned: bool = False
    minzoom: int = 0
    time: str | None = None

    @property
    def geom(self) -> Column:
        """The layer's geometry column."""
        return self.table.c[LAYERS[self.name].geometry]

    def column(self, name: str) -> Column:
        """A property column, or LoadError naming the ones there are."""
        if name not in self.properties:
            raise LoadError("layer '{layer}' has no property '{name}'; it has: {properties}", layer=self.name,
                            name=name, properties=tuple(self.properties), source=self.name, field="filter")
        return self.table.c[name]


def _plain(table: Table, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(c.name for c in table.c if not isinstance(c.type, Geometry) and c.name not in exclude)


_TITLES = {
    "admin_areas": ("Administrative areas (区/街道/社区)", 0),
    "blocks": ("Street blocks", 12),
    "roads": ("Roads", 0),
    "water": ("Water", 0),
    "workers": ("Grid workers (网格员)", 10),
    "grids": ("Base grids (基础网格)", 10),
    "buildings": ("Buildings", 13),
    "components": ("City components (城市部件)", 14),
    "cameras": ("Cameras (雪亮工程)", 12),
    "resources": ("Emergency resources", 10),
    "events": ("Events (事件)", 10),
}


#: a time-bearing layer's time: when an event was reported, a worker last placed, a camera last seen
_TIMES = {"events": "reported_at", "workers": "updated_at", "cameras": "last_seen"}


def _served() -> dict[str, ServedLayer]:
    out = {}
    for name, (title, minzoom) in _TITLES.items():
        ld = LAYERS[name]
        out[name] = ServedLayer(
            name=name, title=title, table=ld.table, properties=_plain(ld.table),
            tile_properties=tuple(c for c in ("id", *ld.columns, "grid_id", "version_id", "worker_id")
                                  if c in ld.table.c and c not in ("description", "external_id")),
            scoped=name in SCOPED_LAYERS, versioned=name == "grids", minzoom=minzoom, time=_TIMES.get(name),
        )
    return out


#: the layers the service serves, by name (the registry's layers with a geometry)
SERVED: dict[str, ServedLayer] = _served()


def served(name: str) -> ServedLayer:
    """The served layer ``name``, or NotFound listing them."""
    try:
        return SERVED[name]
    except KeyError:
        raise NotFound("no map layer '{name}'; layers are: {layers}", name=name, layers=tuple(SERVED)) from None


@dataclass(frozen=True)
class Scope:
    """Which rows of a layer a request sees.

    Attributes
    ----------
    bbox:
        (min lon, min lat, max lon, max lat) in WGS 84, or ``None``.
    filters:
        Property name → accepted values (equality, or any of several).
    version:
        Grid version for the grids layer; the current one when ``None``.
    recent_since:
        Events tiles only: besides the open events, only those reported at or after this time (``None``: every
        event). Feature pages ignore it.
    period:
        ``(start, end)`` on the layer's :attr:`ServedLayer.time`, both ends included, either ``None`` (open): OGC
        API – Features' ``datetime``; ``None`` for no time filter.
    """

    principal: Principal
    bbox: tuple[float, float, float, float] | None = None
    filters: dict[str, tuple] = field(default_factory=dict)
    version: int | None = None
    recent_since: datetime | None = None
    period: tuple[datetime | None, datetime | None] | None = None


def _parse_value(col: Column, raw: str, layer: str):
    kind = col.type
    try:
        if isinstance(kind, Boolean):
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError("not true or false")
            return raw.lower() in ("true", "1")
        if isinstance(kind, Integer):
            value = int(raw)
            if not -(2**63) <= value < 2**63:
                raise ValueError("out of range")
            return value
        if isinstance(kind, Float):
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError("not a finite number")
            return value
        if isinstance(kind, DateTime):
            value = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError("a time needs its time zone")
            return value
    except ValueError as exc:
        raise LoadError("'{raw}' is no value of {column}: {reason}", raw=raw, column=col.name, reason=str(exc),
                        source=layer, field=col.name) from exc
    if "\x00" in raw:
        raise LoadError("a filter value cannot hold a NUL character", source=layer, field=col.name)
    return raw


def parse_filters(layer: ServedLayer, raw: list[str] | None) -> dict[str, tuple]:
    """``["kind:dome", "state:reported|accepted"]`` → ``{"kind": ("dome",), "state": (…)}``, typed per column.

    Raises
    ------
    LoadError
        With ``field`` naming the property: an unknown property, a value of the
        wrong type, or a filter without ``:``.
    """
    out: dict[str, tuple] = {}
    for item in raw or []:
        name, sep, values = item.partition(":")
        if not sep:
            raise LoadError("a filter is property:value (or property:a|b), not '{item}'", item=item, source=layer.name,
                            field="filter")
        col = layer.column(name.strip())
        out[col.name] = out.get(col.name, ()) + tuple(_parse_value(col, v, layer.name) for v in values.split("|"))
    return out


def _current_version():
    return select(m.GridVersion.id).where(m.GridVersion.is_current).scalar_subquery()


def _conditions(layer: ServedLayer, scope: Scope) -> list[ColumnElement]:
    t = layer.table
    conds: list[ColumnElement] = []
    if layer.versioned:
        conds.append(t.c.version_id == (scope.version if scope.version is not None else _current_version()))
    if layer.scoped:
        conds.append(where(scope.principal, layer.name, t.name))
    for name, values in scope.filters.items():
        col = t.c[name]
        conds.append(col == values[0] if len(values) == 1 else col.in_(values))
    if scope.period is not None and layer.time is not None:
        start, end = scope.period
        conds += [t.c[layer.time] >= start] if start is not None else []
        conds += [t.c[layer.time] <= end] if end is not None else []
    if scope.bbox is not None:
        env = func.ST_MakeEnvelope(*scope.bbox, 4326)
        conds.append(func.ST_Intersects(layer.geom, env))
    return conds


def _feature_json(layer: ServedLayer) -> ColumnElement:
    t = layer.table
    pairs = [x for c in layer.properties for x in (literal(c), t.c[c])]
    return cast(func.json_build_object(
        literal("type"), literal("Feature"), literal("id"), t.c.id,
        literal("geometry"), cast(func.ST_AsGeoJSON(layer.geom, _GEOJSON_DIGITS), JSON),
        literal("properties"), func.json_build_object(*pairs),
    ), Text)


@dataclass(frozen=True)
class Page:
    """One page of features, already serialised by the store."""

    features: list[str]
    matched: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        """True when features follow this page."""
        return self.offset + len(self.features) < self.matched

    def feature_collection(self, **members: object) -> str:
        """The page as a GeoJSON FeatureCollection text, with extra top-level members."""
        head = {"type": "FeatureCollection", "numberMatched": self.matched, "numberReturned": len(self.features),
                **members}
        return json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[' + ",".join(self.features) + "]}"


def feature_page(conn: Connection, layer: ServedLayer, scope: Scope, *, limit: int, offset: int) -> Page:
    """The features of a layer in a scope, ordered by id, one page of them."""
    conds = _conditions(layer, scope)
    t = layer.table
    matched = conn.execute(select(func.count()).select_from(t).where(*conds)).scalar_one()
    rows = conn.execute(
        select(_feature_json(layer)).where(*conds).order_by(t.c.id).limit(limit).offset(offset)
    ).scalars().all()
    return Page(list(rows), matched, offset, limit)


def feature_by_id(conn: Connection, layer: ServedLayer, scope: Scope, feature_id: int) -> str:
    """One feature's GeoJSON text.

    Raises
    ------
    NotFound
        No such feature in the caller's scope (a department does not learn
        that another department's camera exists).
    """
    conds = [*_conditions(layer, scope), layer.table.c.id == feature_id]
    row = conn.execute(select(_feature_json(layer)).where(*conds)).scalar()
    if row is None:
        raise NotFound("no feature {feature_id} in layer '{layer}'", feature_id=feature_id, layer=layer.name)
    return row


def extent(conn: Connection, layer: ServedLayer, scope: Scope) -> list[float] | None:
    """[min lon, min lat, max lon, max lat] of what the scope sees, or ``None`` when empty."""
    ext = func.ST_Extent(layer.geom)
    row = conn.execute(
        select(func.ST_XMin(ext), func.ST_YMin(ext), func.ST_XMax(ext), func.ST_YMax(ext))
        .where(*_conditions(layer, scope))
    ).one()
    return None if row[0] is None else [float(v) for v in row]


def time_extent(conn: Connection, layer: ServedLayer, scope: Scope) -> list[str | None] | None:
    """[first, last] of the layer's time (RFC 3339) over what the scope sees, ``None`` for a layer without time;
    ``[None, None]`` when it sees no row with a time (OGC API – Features' ``extent.temporal.interval``)."""
    if layer.time is None:
        return None
    col = layer.table.c[layer.time]
    first, last = conn.execute(select(func.min(col), func.max(col)).where(*_conditions(layer, scope))).one()
    return [None if t is None else t.isoformat() for t in (first, last)]


def _lonlat(x: float, y: float) -> list[float]:
    """Web Mercator metres → [lon, lat] degrees, 6 decimals (10 cm: enough for a symbol on a map)."""
    lon = math.degrees(x / _EARTH_R)
    lat = math.degrees(2 * math.atan(math.exp(y / _EARTH_R)) - math.pi / 2)
    return [round(lon, 6), round(lat, 6)]


def clusters(conn: Connection, layer: ServedLayer, scope: Scope, *, zoom: int, cell_px: int) -> dict:
    """The layer's features counted in square cells of ``cell_px`` screen pixels at ``zoom``.

    Why in the store: a wall showing 30,000 cameras as clusters needs a few
    hundred numbers, not 12 MB of points to cluster in the browser. Cells are
    squares of Web Mercator metres (``cell_px`` × the metres per pixel of
    ``zoom``); each non-empty cell is one Point at the mean position of its
    features, with ``count`` and, for every boolean property of the layer
    (the cameras' ``online``), how many of them are true. The scope (bbox,
    filters, a department's own rows) is the same as for ``/layers``.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection; ``numberMatched`` is the number of
        features counted, ``cell_m`` the side of a cell in metres.
    """
    t = layer.table
    flags = [c for c in layer.tile_properties if isinstance(t.c[c].type, Boolean)]
    cell = 2 * _MERCATOR_HALF / (256 * 2**zoom) * cell_px
    point = layer.geom
    if str(getattr(point.type, "geometry_type", "")).upper() != "POINT":
        point = func.ST_PointOnSurface(point)
    # spherical Web Mercator by arithmetic: ST_Transform costs ten times more on 30,000 points
    lonlat = select(func.ST_X(point).label("lon"), func.ST_Y(point).label("lat"), *[t.c[f] for f in flags]).where(
        *_conditions(layer, scope), layer.geom.isnot(None), func.ST_IsEmpty(layer.geom).is_(False)).subquery("ll")
    lat = func.least(func.greatest(lonlat.c.lat, -_MERCATOR_LAT), _MERCATOR_LAT)  # the poles are at infinity
    x = literal(_EARTH_R) * func.radians(lonlat.c.lon)
    y = literal(_EARTH_R) * func.ln(func.tan(literal(math.pi / 4) + func.radians(lat) / 2))
    size = bindparam("cell", cell, type_=Float)
    pts = select(x.label("x"), y.label("y"), func.floor(x / size).label("i"), func.floor(y / size).label("j"),
                 *[lonlat.c[f] for f in flags]).subquery("p")
    stmt = select(func.count(), func.avg(pts.c.x), func.avg(pts.c.y),
                  *[func.count().filter(pts.c[f]) for f in flags]).group_by(pts.c.i, pts.c.j)
    feats, total = [], 0
    for n, mx, my, *trues in conn.execute(stmt):
        total += n
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": _lonlat(mx, my)},
                      "properties": {"count": n, **dict(zip(flags, trues))}})
    return {"type": "FeatureCollection", "numberMatched": total, "zoom": zoom, "cell_m": round(cell, 1),
            "features": feats}


@cache
def _tile_statement(name: str, filters: tuple[str, ...], recent: bool = False) -> Select:
    """The ``ST_AsMVT`` statement of a layer, built once per shape with every value a bind parameter.

    With ``recent`` (events), the tile holds the open events and those reported at or after ``:recent_since``:
    what a command hall watches, not a district's years of closed cases (an events tile of a city at z14 was
    2 MB).

    Building the construct anew for each tile costs as much as the query
    itself; built once per (layer, filtered properties) it is compiled once
    and then only executed. The key's share of a scoped layer is bound too
    (:func:`api.access.condition`), so every key runs the same statement.
    """
    layer = SERVED[name]
    t = layer.table
    z, x, y = bindparam("z", type_=Integer), bindparam("x", type_=Integer), bindparam("y", type_=Integer)
    world = func.ST_MakeEnvelope(-_MERCATOR_HALF, -_MERCATOR_HALF, _MERCATOR_HALF, _MERCATOR_HALF, 3857)
    bounds = func.ST_TileEnvelope(z, x, y)
    margin = func.ST_Transform(func.ST_TileEnvelope(z, x, y, world, 64.0 / TILE_EXTENT), 4326)
    mvtgeom = func.ST_AsMVTGeom(func.ST_Transform(layer.geom, 3857), bounds, TILE_EXTENT, 64, True)
    conds: list[ColumnElement] = [layer.geom.op("&&")(margin)]
    if layer.versioned:
        conds.append(t.c.version_id == func.coalesce(bindparam("version", type_=Integer), _current_version()))
    if layer.scoped:
        conds.append(condition(layer.name, t.name))
    for prop in filters:
        col = t.c[prop]
        conds.append(col == any_(bindparam(f"f_{prop}", type_=ARRAY(col.type))))
    if recent:
        open_states = bindparam("open_states", value=list(OPEN_STATES), type_=ARRAY(Text))
        conds.append(or_(t.c.state == any_(open_states),
                         t.c.reported_at >= bindparam("recent_since", type_=DateTime(timezone=True))))
    inner = select(*[t.c[c] for c in layer.tile_properties], mvtgeom.label("mvtgeom")).where(*conds).subquery("q")
    return select(func.ST_AsMVT(inner.table_valued(), layer.name, TILE_EXTENT, "mvtgeom", "id"))


def tile_query(layer: ServedLayer, scope: Scope, z: int, x: int, y: int) -> tuple[Select, dict]:
    """The ``ST_AsMVT`` statement of one tile (z/x/y, Web Mercator) and its parameters.

    Geometries are selected by the tile's envelope grown by the 64-unit
    buffer (so that point symbols at the edge are drawn in both tiles),
    reprojected to EPSG:3857 and clipped by ``ST_AsMVTGeom``.
    """
    stmt = _tile_statement(layer.name, tuple(sorted(scope.filters)), _recent(layer, scope))
    params: dict = {"z": z, "x": x, "y": y, **{f"f_{k}": list(v) for k, v in scope.filters.items()},
                    **condition_params(scope.principal, layer.name)}
    if layer.versioned:
        params["version"] = scope.version
    if _recent(layer, scope):
        params["recent_since"] = scope.recent_since
    return stmt, params


def _recent(layer: ServedLayer, scope: Scope) -> bool:
    return layer.name == "events" and scope.recent_since is not None


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once to the driver's SQL, with its constants and bind processors.

    Why: a tile is about two milliseconds of PostgreSQL, and SQLAlchemy's
    execution path (cache key, parameter construction, execution context,
    result set-up) added about a quarter of a millisecond to every tile — an
    eighth of the request. Executed on the checked-out driver connection,
    the same statement — the same text, every value bound, each passed
    through the bind processor its type would apply — costs what the bare
    query costs. Driver errors are raised as SQLAlchemy's, so the API's
    error handlers map them as for any other statement.
    """

    sql: str
    constants: dict[str, object]
    processors: dict[str, Callable[[object], object]]

    @classmethod
    def compile(cls, stmt: Select, dialect: Dialect) -> _DriverStatement:
        compiled = stmt.compile(dialect=dialect)
        processors = {name: proc for bind, name in compiled.bind_names.items()
                      if (proc := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
        given = {name for bind, name in compiled.bind_names.items() if bind.required}
        constants = {name: processors[name](value) if name in processors else value
                     for name, value in compiled.params.items() if name not in given}
        return cls(str(compiled), constants, processors)

    def scalar(self, conn: Connection, values: dict[str, object]) -> object:
        """The first column of the first row, on ``conn``'s driver connection."""
        params = {**self.constants, **{k: self.processors[k](v) if k in self.processors and v is not None else v
                                       for k, v in values.items()}}
        driver = conn.connection.driver_connection
        try:
            row = driver.execute(self.sql, params).fetchone()
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(self.sql, params, exc, conn.dialect.loaded_dbapi.Error,
                                      dialect=conn.dialect) from exc
        return None if row is None else row[0]


@cache
def _tile_driver_statement(name: str, filters: tuple[str, ...], recent: bool, dialect: Dialect) -> _DriverStatement:
    return _DriverStatement.compile(_tile_statement(name, filters, recent), dialect)


def tile(conn: Connection, layer: ServedLayer, scope: Scope, z: int, x: int, y: int) -> bytes:
    """One Mapbox Vector Tile of a layer (empty below the layer's minimum zoom: ``/tiles`` answers 204 there).

    The statement is :func:`tile_query`'s, compiled once per shape and run
    as driver SQL (see :class:`_DriverStatement`); ``conn`` should be in
    autocommit, as the tile routes' is.

    Raises
    ------
    LoadError
        ``x`` or ``y`` outside the 2^z tiles of zoom ``z``.
    """
    side = 1 << z
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < side:
            raise LoadError("{name}={value} is outside zoom {z}, which has tiles 0 to {last}", name=name, value=value,
                            z=z, last=side - 1, source=f"tile {z}/{x}/{y}", field=name)
    if z < layer.minzoom:
        return b""
    _, params = tile_query(layer, scope, z, x, y)
    data = _tile_driver_statement(layer.name, tuple(sorted(scope.filters)), _recent(layer, scope),
                                  conn.dialect).scalar(conn, params)
    return bytes(data) if data is not None else b""
