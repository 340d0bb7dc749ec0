"""Small read queries every client needs: layer counts, the newest data time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from layers import models as m
from layers.registry import LAYERS

__all__ = ["layer_counts", "newest_event_time"]


def layer_counts(conn: Connection) -> dict[str, int]:
    """Rows per layer; grids count only the current version."""
    counts = {}
    current = select(m.GridVersion.id).where(m.GridVersion.is_current).scalar_subquery()
    for name, ld in LAYERS.items():
        query = select(func.count()).select_from(ld.table)
        if ld.table is m.Grid.__table__:
            query = query.where(ld.table.c.version_id == current)
        counts[name] = conn.execute(query).scalar_one()
    counts["grid_versions"] = conn.execute(select(func.count()).select_from(m.GridVersion)).scalar_one()
    return counts


def newest_event_time(conn: Connection) -> datetime | None:
    """When the newest event was reported, or ``None`` for a store without events.

    Why: a district loaded from its own history (events of 2018) has no
    "today"; the wall shows the newest data day instead, and this is where
    it learns which day that is. One index lookup (``ix_event_reported_at``).
    """
    return conn.execute(select(func.max(m.Event.reported_at))).scalar()
