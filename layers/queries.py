"""Small read queries every client needs: layer counts."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from layers import models as m
from layers.registry import LAYERS

__all__ = ["layer_counts"]


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
