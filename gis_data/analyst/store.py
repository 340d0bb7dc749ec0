"""The store as GeoDataFrames: connect, read any layer or a window of events, write a layer back.

Why a layer of its own: analysts work in notebooks, where the natural unit
is a GeoDataFrame, not a SQLAlchemy row. A read returns every column of the
layer's table plus, for each foreign key, the *code* (and, for areas, the
name) it points at — ``block_code``, ``community_code``, ``grid_code``,
``street_name`` … — so that a frame read here is what a file importer takes,
and writes back through :func:`write_layer` (the importers' validation, one
transaction) without renaming anything. Times come in Beijing time.

Every function takes ``engine=``: an :class:`~sqlalchemy.Engine`, a
:class:`~sqlalchemy.Connection` (to read and write inside your own
transaction — see :func:`sandbox`), or ``None`` to connect to the configured
store for this one call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio.crs import CRS
from sqlalchemy import Connection, DateTime, Engine, and_, func, or_, select, text

from gis_data.demo.events import load_taxonomy
from gis_data.load import load_frame
from layers import models as m
from layers.db import make_engine
from layers.errors import DatabaseError, NotFound
from layers.registry import LayerDef
from layers.registry import layer as layer_def
from layers.settings import DatabaseSettings

__all__ = [
    "LOCAL_TZ",
    "Store",
    "connect",
    "read_layer",
    "read_events",
    "write_layer",
    "sandbox",
    "metric_crs",
    "using",
]

log = logging.getLogger(__name__)

#: The time zone analysts read times in (all of China keeps Beijing time).
LOCAL_TZ = "Asia/Shanghai"

#: What ``engine=`` accepts.
Store = Engine | Connection | None


def connect(settings: DatabaseSettings | None = None) -> Engine:
    """An engine on the configured store, checked to answer.

    Parameters
    ----------
    settings
        Defaults to :class:`~layers.settings.DatabaseSettings` from the environment: ``GRIDWALL_DATABASE_URL``
        when set, else the embedded cluster in the gridwall home (``GRIDWALL_HOME``, per user, the same from any
        folder; ``GRIDWALL_DATABASE_DATA_DIR`` when set), started with ``gridwall db up``.

    Raises
    ------
    DatabaseError
        The store does not answer (the message says which URL's host and port).

    Examples
    --------
    >>> engine = connect()                                         # doctest: +SKIP
    >>> grids = read_layer("grids", engine=engine)                 # doctest: +SKIP
    """
    settings = settings or DatabaseSettings()
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the same thing to an analyst
        engine.dispose()
        where = f"{engine.url.host}:{engine.url.port}/{engine.url.database}"
        raise DatabaseError(f"cannot reach the store at {where}: {exc}") from exc
    return engine


@contextmanager
def using(engine: Store) -> Iterator[Connection]:
    """A connection from whatever ``engine=`` was given; one made here is closed (and its engine disposed)."""
    if isinstance(engine, Connection):
        yield engine
        return
    owned = engine is None
    eng = connect() if owned else engine
    try:
        with eng.connect() as conn:
            yield conn
    finally:
        if owned:
            eng.dispose()


@contextmanager
def sandbox(engine: Store = None) -> Iterator[Connection]:
    """A connection whose every change is rolled back at the end: try a write, look, leave no trace.

    Examples
    --------
    >>> with sandbox(engine) as conn:                                   # doctest: +SKIP
    ...     write_layer(changed, "components", engine=conn)
    ...     read_layer("components", engine=conn, where={"state": "damaged"})
    """
    if isinstance(engine, Connection):
        savepoint = engine.begin_nested()
        try:
            yield engine
        finally:
            if savepoint.is_active:
                savepoint.rollback()
        return
    with using(engine) as conn:
        tx = conn.begin()
        try:
            yield conn
        finally:
            if tx.is_active:
                tx.rollback()


def metric_crs(engine: Store = None) -> CRS:
    """The district's metric CRS (``admin_area.metric_srid``), for lengths, areas and density grids."""
    with using(engine) as conn:
        srid = conn.execute(select(m.AdminArea.metric_srid).where(m.AdminArea.level == "district")
                            .order_by(m.AdminArea.id).limit(1)).scalar()
    if srid is None:
        raise NotFound("no district with a metric CRS in the store: load the district first")
    return CRS.from_epsg(int(srid))


def _layer_select(ld: LayerDef, *, version: int | None, bbox, where: Mapping | None, extra: Sequence = ()):
    """SELECT of a layer's columns, geometry as WKB, with the code (and area name) of every foreign key."""
    t = ld.table
    geometry = {c for c in (ld.geometry, *ld.extra_geometry) if c}
    cols = [func.ST_AsBinary(c).label(c.name) if c.name in geometry else c for c in t.columns]
    source = t
    by_name = {c.name: c for c in t.columns}
    joins = [(ref.column, ref.table, ref.target) for ref in ld.refs]
    if ld.grid_member:
        joins.append(("grid_code", m.Grid.__table__, "grid_id"))
    for column, target, fk in joins:
        alias = target.alias(f"ref_{column}")
        source = source.outerjoin(alias, alias.c.id == t.c[fk])
        cols.append(alias.c.code.label(column))
        by_name[column] = alias.c.code
        if target is m.AdminArea.__table__:
            name = column.removesuffix("_code") + "_name"
            cols.append(alias.c.name.label(name))
            by_name[name] = alias.c.name
    conds = list(extra)
    if t is m.Grid.__table__:
        current = select(m.GridVersion.id).where(m.GridVersion.is_current).scalar_subquery()
        conds.append(t.c.version_id == (version if version is not None else current))
    if bbox is not None:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
        conds.append(func.ST_Intersects(t.c[ld.geometry], func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)))
    for key, value in (where or {}).items():
        if key not in by_name:
            raise NotFound(f"layer '{ld.name}' has no column '{key}'; it has: {', '.join(by_name)}")
        col = by_name[key]
        if value is None:
            conds.append(col.is_(None))
        elif isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Index, pd.Series)):
            conds.append(col.in_(list(value)))
        else:
            conds.append(col == value)
    stmt = select(*cols).select_from(source)
    if conds:
        stmt = stmt.where(and_(*conds))
    return stmt.order_by(t.c.id)


def _finish(frame: pd.DataFrame, ld: LayerDef) -> pd.DataFrame:
    for extra in ld.extra_geometry:
        wkb = [bytes(v) if v is not None else None for v in frame[extra]]
        frame[extra] = gpd.GeoSeries(shapely.from_wkb(np.asarray(wkb, dtype=object)), index=frame.index,
                                     crs="EPSG:4326")
    for column in ld.table.columns:  # typed even when no row came back
        if isinstance(column.type, DateTime) and column.name in frame:
            frame[column.name] = pd.to_datetime(frame[column.name], utc=True).dt.tz_convert(LOCAL_TZ)
    return frame


def read_layer(
    name: str,
    *,
    engine: Store = None,
    bbox: tuple[float, float, float, float] | None = None,
    where: Mapping[str, object] | None = None,
    version: int | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """One layer of the store as a GeoDataFrame (EPSG:4326), every row or those asked for.

    Parameters
    ----------
    name
        A layer name of :data:`layers.registry.LAYERS` (``grids``, ``buildings``, ``components`` …).
    bbox
        ``(west, south, east, north)`` in degrees: features intersecting it.
    where
        Column → value (equality), list of values (any of them) or ``None`` (is null); columns of the table or
        the ``*_code`` / ``*_name`` columns added from foreign keys. Values are bound, never formatted in.
    version
        Grids only: the grid version to read; the current one by default.

    Returns
    -------
    GeoDataFrame
        The table's columns, ``*_code`` (and ``*_name`` for admin areas) of every foreign key, ``grid_code``
        for layers that live in grids; extra geometries (a building's ``cell``) as GeoSeries columns; times in
        Beijing time. ``event_history`` has no geometry and comes as a DataFrame.

    Raises
    ------
    NotFound
        An unknown layer or column.

    Examples
    --------
    >>> covers = read_layer("components", where={"class_code": ["0105", "0107"]})       # doctest: +SKIP
    """
    ld = layer_def(name)
    stmt = _layer_select(ld, version=version, bbox=bbox, where=where)
    with using(engine) as conn:
        if not ld.geometry:
            return _finish(pd.read_sql(stmt, conn), ld)
        frame = gpd.read_postgis(stmt, conn, geom_col=ld.geometry, crs="EPSG:4326")
    return _finish(frame, ld)


def _moment(value: str | date | datetime | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize(LOCAL_TZ) if ts.tzinfo is None else ts


def read_events(
    start: str | date | datetime,
    end: str | date | datetime,
    *,
    category: str | Sequence[str] | None = None,
    engine: Store = None,
    bbox: tuple[float, float, float, float] | None = None,
    duplicates: bool = False,
) -> gpd.GeoDataFrame:
    """Events reported in ``[start, end)``, of a class or all, as a GeoDataFrame.

    Parameters
    ----------
    start, end
        Dates or times; without a time zone they are Beijing time (``"2026-10-01"`` is local midnight).
    category
        A class code or several: top class (``"02"``), sub-class (``"0204"``) or leaf (``"020405"``) — an event
        matches when its leaf code starts with one of them.
    duplicates
        Keep events registered as duplicates of another (``duplicate_of_id``); left out by default, as in the
        command centre's figures (one problem, one count).

    Returns
    -------
    GeoDataFrame
        The ``events`` layer's columns (see :func:`read_layer`) plus ``top_class``, ``sub_class`` and
        ``top_name`` (the taxonomy's name of the top class). Events located only to a community or street have
        no geometry.
    """
    ld = layer_def("events")
    t = ld.table
    lo, hi = _moment(start), _moment(end)
    conds = [t.c.reported_at >= lo.to_pydatetime(), t.c.reported_at < hi.to_pydatetime()]
    if category is not None:
        codes = [category] if isinstance(category, str) else list(category)
        conds.append(or_(*(t.c.category_code.startswith(c, autoescape=True) for c in codes)))
    if not duplicates:
        conds.append(t.c.duplicate_of_id.is_(None))
    stmt = _layer_select(ld, version=None, bbox=bbox, where=None, extra=conds)
    with using(engine) as conn:
        frame = _finish(gpd.read_postgis(stmt, conn, geom_col="geom", crs="EPSG:4326"), ld)
    names = {c["code"]: c["name_zh"] for c in load_taxonomy()["classes"]}
    frame["top_class"] = frame["category_code"].str[:2]
    frame["sub_class"] = frame["category_code"].str[:4]
    frame["top_name"] = frame["top_class"].map(names)
    log.info("events %s – %s%s: %d", lo, hi, f" of {category}" if category else "", len(frame))
    return frame


def write_layer(
    gdf: gpd.GeoDataFrame,
    name: str,
    *,
    engine: Store = None,
    actor: str = "analyst",
    source: str = "notebook",
) -> int:
    """Validate a GeoDataFrame like a file import and write it into layer ``name``; all or nothing.

    Rows are matched on the layer's key (``code``): existing ones are updated, new ones inserted. Columns the
    layer does not take are ignored, so a frame from :func:`read_layer` goes back as it is. A grids frame becomes
    a new current grid version, as a grids file would.

    Parameters
    ----------
    gdf
        Any CRS (converted to EPSG:4326); without a CRS it is taken as EPSG:4326.
    engine
        An Engine (one transaction, committed), a Connection (written in its transaction: commit or roll back
        yourself), or ``None`` for the configured store.
    actor, source
        Recorded in the audit log.

    Returns
    -------
    int
        Features written.

    Raises
    ------
    LoadError
        The first invalid feature, with its row position, field and fault; nothing is written.
    """
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    if isinstance(engine, Connection):
        return load_frame(engine, gdf, name, source=source, actor=actor)
    owned = engine is None
    eng = connect() if owned else engine
    try:
        with eng.begin() as conn:
            return load_frame(conn, gdf, name, source=source, actor=actor)
    finally:
        if owned:
            eng.dispose()
