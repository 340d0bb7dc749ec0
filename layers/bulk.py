"""Write a whole frame into a layer: fast, all or nothing, safe to repeat.

Why this shape: a district's buildings, cameras and a year of events are
hundreds of thousands of rows, and a half-loaded file is worse than none. So a
frame is COPYed into a temporary staging table, every ``*_code`` it carries is
checked against the store (a code that names nothing is reported with its
feature index), and one ``INSERT … SELECT … ON CONFLICT (code) DO UPDATE``
moves it into place. Everything runs inside a SAVEPOINT: on any error the
store is exactly as before, and the caller's transaction stays usable.
Loading the same file twice updates rows in place instead of doubling them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
import shapely
from geoalchemy2 import Geometry
from psycopg import sql as psql
from sqlalchemy import Column, Connection, Integer, MetaData, Table, Text, TextClause, and_, cast, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from layers import models as m
from layers.errors import LoadError
from layers.registry import LayerDef

__all__ = ["write_frame"]

log = logging.getLogger(__name__)


def write_frame(
    conn: Connection,
    ld: LayerDef,
    frame: pd.DataFrame,
    *,
    source: str,
    fixed: Mapping[str, object] | None = None,
) -> int:
    """Insert or update ``frame``'s rows in layer ``ld``; return how many.

    Parameters
    ----------
    conn:
        A connection inside a transaction; the write takes a savepoint in it.
    ld:
        The layer written.
    frame:
        Validated rows in EPSG:4326: the layer's plain columns, its ``*_code``
        reference columns, and shapely geometries in the geometry column(s).
    source:
        Where the rows came from, for error messages.
    fixed:
        Values set on every row (e.g. ``version_id`` of a new grid version).
    """
    if frame.empty:
        return 0
    frame = frame.reset_index(drop=True)
    _check_unique_keys(ld, frame, source)
    staging = _staging_table(ld, frame)
    with conn.begin_nested():
        staging.create(conn)
        _copy(conn, staging, frame)
        _check_refs(conn, ld, staging, source)
        conn.execute(_upsert(ld, staging, fixed or {}))
        staging.drop(conn)
    written = len(frame)  # every staged row was inserted or, by its key, updated
    log.info("%s: %d rows into %s", source, written, ld.name)
    return written


def _geometry_columns(ld: LayerDef) -> tuple[str, ...]:
    return tuple(c for c in (ld.geometry, *ld.extra_geometry) if c)


def _check_unique_keys(ld: LayerDef, frame: pd.DataFrame, source: str) -> None:
    if not ld.key or not set(ld.key) <= set(frame.columns):
        return
    dup = frame.duplicated(list(ld.key), keep="first")
    if dup.any():
        first = int(np.flatnonzero(dup.to_numpy())[0])
        value = frame.loc[first, list(ld.key)].tolist()
        more = int(dup.sum()) - 1
        tail = f" (and {more} more repeated)" if more else ""
        raise LoadError(
            f"{'/'.join(ld.key)} {value if len(value) > 1 else value[0]!r} appears twice in the file{tail}",
            source=source, feature=first, field=ld.key[0],
        )


def _staging_table(ld: LayerDef, frame: pd.DataFrame) -> Table:
    cols: list[Column] = [Column("_row", Integer)]
    for name in ld.columns:
        if name in frame.columns:
            cols.append(Column(name, ld.table.c[name].type))
    cols += [Column(r.column, Text) for r in ld.refs if r.column in frame.columns]
    cols += [
        Column(g, Geometry(srid=m.SRID, spatial_index=False)) for g in _geometry_columns(ld) if g in frame.columns
    ]
    return Table(f"_stage_{ld.name}", MetaData(), *cols, prefixes=["TEMPORARY"])


def _column_values(series: pd.Series, column: Column) -> list:
    if isinstance(column.type, Geometry):
        geoms = shapely.set_srid(np.asarray(series, dtype=object), m.SRID)
        return shapely.to_wkb(geoms, hex=True, include_srid=True).tolist()
    if isinstance(column.type, Integer) and pd.api.types.is_float_dtype(series):
        series = series.astype("Int64")  # integers with gaps arrive from pandas as floats
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    values = series.astype(object).where(series.notna(), None)
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _copy(conn: Connection, staging: Table, frame: pd.DataFrame) -> None:
    names = [c.name for c in staging.columns if c.name != "_row"]
    columns = [range(len(frame))] + [_column_values(frame[n], staging.c[n]) for n in names]
    statement = psql.SQL("COPY {} ({}) FROM STDIN").format(
        psql.Identifier(staging.name), psql.SQL(", ").join(psql.Identifier(n) for n in ["_row", *names])
    )
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(statement) as copy:
        for row in zip(*columns):
            copy.write_row(row)


def _current_version():
    gv = m.GridVersion.__table__
    return select(gv.c.id).where(gv.c.is_current).scalar_subquery()


def _ref_join(ld: LayerDef, staging: Table):
    joined = staging
    aliases = {}
    for ref in ld.refs:
        if ref.column not in staging.c:
            continue
        alias = ref.table.alias(f"ref_{ref.column}")
        cond = alias.c.code == staging.c[ref.column]
        if ref.current_grid:
            cond = and_(cond, alias.c.version_id == _current_version())
        joined = joined.outerjoin(alias, cond)
        aliases[ref.column] = alias
    return joined, aliases


def _check_refs(conn: Connection, ld: LayerDef, staging: Table, source: str) -> None:
    joined, aliases = _ref_join(ld, staging)
    for column, alias in aliases.items():
        missing = conn.execute(
            select(staging.c._row, staging.c[column])
            .select_from(joined)
            .where(staging.c[column].is_not(None), alias.c.id.is_(None))
            .order_by(staging.c._row)
        ).all()
        if missing:
            row, value = missing[0]
            what = alias.element.name
            tail = f" (and {len(missing) - 1} more features)" if len(missing) > 1 else ""
            raise LoadError(f"'{value}' names no {what} in the store{tail}", source=source, feature=row, field=column)


def _or_default(column: Column, staged):
    """A staged value, or the column's server default where a file left it empty (NOT NULL columns only).

    A file may fill a column for some features and not others (floors known for some buildings); an explicit NULL
    would break the NOT NULL constraint where leaving the column out would have taken its default.
    """
    default = column.server_default
    if column.nullable or default is None:
        return staged
    arg = default.arg
    fallback = arg if isinstance(arg, TextClause) else cast(literal(str(arg)), column.type)
    return func.coalesce(staged, fallback)


def _upsert(ld: LayerDef, staging: Table, fixed: Mapping[str, object]):
    joined, aliases = _ref_join(ld, staging)
    names: list[str] = []
    exprs: list = []
    for name in ld.columns:
        if name in staging.c:
            names.append(name)
            exprs.append(_or_default(ld.table.c[name], staging.c[name]))
    for ref in ld.refs:
        if ref.column in aliases:
            names.append(ref.target)
            exprs.append(aliases[ref.column].c.id)
    for geom in _geometry_columns(ld):
        if geom in staging.c:
            names.append(geom)
            kind = ld.table.c[geom].type.geometry_type or ""
            # a MULTI* column and the generic one (water: polygons or lines) both store Multi* parts
            multi = kind.startswith("MULTI") or kind == "GEOMETRY"
            exprs.append(func.ST_Multi(staging.c[geom]) if multi else staging.c[geom])
    for name, value in fixed.items():
        names.append(name)
        exprs.append(literal(value, ld.table.c[name].type))
    stmt = pg_insert(ld.table).from_select(names, select(*exprs).select_from(joined).order_by(staging.c._row))
    if ld.key:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(ld.key),
            set_={n: stmt.excluded[n] for n in names if n not in ld.key},
        )
    return stmt
