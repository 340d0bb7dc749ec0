"""Grid versions: create one, make it current, move members and workers over.

Every re-partition writes a new version; the old ones keep their grid rows and
stay queryable. Making a version current re-homes buildings, components and
cameras by geometry, and hands each worker over to the new grid that shares
most area with their old one (one worker per grid).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sqlalchemy import Connection, func, insert, select, text, update

from layers import models as m
from layers.errors import NotFound

__all__ = [
    "current_version",
    "create_version",
    "make_current",
    "assign_members",
    "hand_over_workers",
    "handover_plan",
    "home_grids",
    "sql_text",
    "grid_count",
    "list_versions",
]

log = logging.getLogger(__name__)

_SQL = Path(__file__).parent / "sql"
_gv = m.GridVersion.__table__
_grid = m.Grid.__table__


@cache
def sql_text(name: str):
    """A named query from ``layers/sql`` as a SQLAlchemy ``text`` (bound params)."""
    return text((_SQL / f"{name}.sql").read_text())


def current_version(conn: Connection) -> int | None:
    """Id of the current grid version, ``None`` before any grids exist."""
    return conn.execute(select(_gv.c.id).where(_gv.c.is_current)).scalar()


def create_version(
    conn: Connection,
    *,
    source: str,
    created_by: str = "system",
    note: str | None = None,
    params: dict | None = None,
) -> int:
    """A new, not yet current, grid version; returns its id."""
    return conn.execute(
        insert(_gv)
        .values(source=source, created_by=created_by, note=note, params=params, is_current=False)
        .returning(_gv.c.id)
    ).scalar_one()


def make_current(conn: Connection, version_id: int, *, hand_over: bool = True) -> None:
    """Make ``version_id`` the current version and re-home everything on it."""
    exists = conn.execute(select(_gv.c.id).where(_gv.c.id == version_id)).scalar()
    if exists is None:
        raise NotFound(f"no grid version {version_id}")
    previous = current_version(conn)
    conn.execute(update(_gv).where(_gv.c.is_current).values(is_current=False))
    conn.execute(update(_gv).where(_gv.c.id == version_id).values(is_current=True))
    if hand_over and previous is not None and previous != version_id:
        hand_over_workers(conn, previous, version_id)
    assign_members(conn, version_id)


def assign_members(conn: Connection, version_id: int) -> dict[str, int]:
    """Re-home buildings, components and cameras in ``version_id``'s grids."""
    moved = {}
    for name in ("buildings", "components", "cameras"):
        moved[name] = conn.execute(sql_text(f"assign_{name}"), {"version_id": version_id}).rowcount
    log.info("grid version %s: re-homed %s", version_id, moved)
    return moved


def hand_over_workers(conn: Connection, old_version: int, new_version: int) -> int:
    """Staff the new version's grids with the old version's workers (:func:`handover_plan`); returns how many
    were handed over."""
    plan = handover_plan(conn, old_version, new_version)
    if plan["pairs"]:
        conn.execute(text("UPDATE grid SET worker_id = :wid WHERE id = :gid"), plan["pairs"])
    return len(plan["pairs"])


def handover_plan(conn: Connection, old_version: int, new_version: int) -> dict:
    """Who staffs which grid of ``new_version`` once it is accepted, and who and what is left over.

    First by shared area: each new grid gets the worker of the old grid it overlaps most, largest overlaps
    first, each worker and each grid at most once. Then the workers left without a grid (their old grid was
    shared out among neighbours that went to others) go to the grids left without a worker, nearest first (an
    optimal assignment on the distance between old and new grid centres), so nobody is left idle while a
    grid has no worker. Grids of the new version that already name a worker keep them.

    Returns ``pairs`` (``gid``, ``wid``), ``grids_without_worker`` and ``workers_without_grid`` (codes).
    """
    taken_grids = set(
        conn.execute(
            select(_grid.c.id).where(_grid.c.version_id == new_version, _grid.c.worker_id.is_not(None))
        ).scalars()
    )
    taken_workers = set(
        conn.execute(
            select(_grid.c.worker_id).where(_grid.c.version_id == new_version, _grid.c.worker_id.is_not(None))
        ).scalars()
    )
    pairs = []
    rows = conn.execute(sql_text("worker_handover"), {"old_version": old_version, "new_version": new_version})
    for grid_id, worker_id, _area in rows:
        if grid_id in taken_grids or worker_id in taken_workers:
            continue
        taken_grids.add(grid_id)
        taken_workers.add(worker_id)
        pairs.append({"gid": grid_id, "wid": worker_id})
    centre = func.ST_Centroid(_grid.c.geom)
    old = conn.execute(select(_grid.c.worker_id, func.ST_X(centre), func.ST_Y(centre)).where(
        _grid.c.version_id == old_version, _grid.c.worker_id.is_not(None))).all()
    new = conn.execute(select(_grid.c.id, _grid.c.code, func.ST_X(centre), func.ST_Y(centre)).where(
        _grid.c.version_id == new_version)).all()
    idle = [r for r in old if r[0] not in taken_workers]
    free = [r for r in new if r[0] not in taken_grids]
    if idle and free:
        a = np.array([(x, y) for _, x, y in idle])
        b = np.array([(x, y) for _, _, x, y in free])
        scale = np.cos(np.radians(b[:, 1].mean()))  # degrees of longitude are shorter than of latitude
        cost = np.hypot((a[:, None, 0] - b[None, :, 0]) * scale, a[:, None, 1] - b[None, :, 1])
        rows, cols = linear_sum_assignment(cost)
        for i, j in zip(rows.tolist(), cols.tolist()):
            pairs.append({"gid": free[j][0], "wid": idle[i][0]})
            taken_grids.add(free[j][0])
            taken_workers.add(idle[i][0])
    codes = dict(conn.execute(select(m.GridWorker.id, m.GridWorker.code)).all())
    return {
        "pairs": pairs,
        "grids_without_worker": sorted(code for gid, code, _, _ in new if gid not in taken_grids),
        "workers_without_grid": sorted(codes[w] for w, _, _ in old if w not in taken_workers),
    }


def home_grids(conn: Connection) -> list[dict]:
    """Every worker with their home grid in the current version (or none)."""
    return [dict(r._mapping) for r in conn.execute(sql_text("home_grids"))]


def grid_count(conn: Connection, version_id: int) -> int:
    """How many grids a version has."""
    return conn.execute(select(func.count()).select_from(_grid).where(_grid.c.version_id == version_id)).scalar_one()


def list_versions(conn: Connection, *, state: str | None = None, limit: int = 100) -> list[dict]:
    """Grid versions, newest first: who drew each, when, its state, grid count and in-band share.

    The in-band share (``share_grids_within_bounds``) and the out-of-band count
    come from the version's partition report; imported versions have no
    report and give ``None``.
    """
    n_grids = select(func.count()).where(_grid.c.version_id == _gv.c.id).scalar_subquery()
    stmt = (
        select(_gv.c.id.label("version_id"), _gv.c.state, _gv.c.is_current, _gv.c.created_at, _gv.c.created_by,
               _gv.c.source, _gv.c.note, n_grids.label("n_grids"),
               _gv.c.report["summary"]["share_grids_within_bounds"].as_float().label("share_in_band"),
               _gv.c.report["summary"]["n_out_of_band"].as_integer().label("n_out_of_band"))
        .order_by(_gv.c.id.desc())
        .limit(limit)
    )
    if state is not None:
        stmt = stmt.where(_gv.c.state == state)
    return [dict(r._mapping) for r in conn.execute(stmt)]
