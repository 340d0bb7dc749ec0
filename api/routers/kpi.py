"""Key figures of the loop for an area and a time window (the wall's numbers, the monthly report)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import Analyst, ConnDep
from api.params import MAX_INT, WindowDep
from command.kpi import AreaRef, Kpis, kpis

__all__ = ["router"]

router = APIRouter(tags=["kpi"])


@router.get("/kpis", summary="Figures of the loop for an area and window")
def get_kpis(window: WindowDep, conn: ConnDep, user: Analyst,
             level: Literal["district", "street", "community", "grid"] = "district",
             area_id: Annotated[int | None, Query(ge=1, le=MAX_INT, description="admin_area.id or grid.id")] = None,
             as_of: Annotated[datetime | None, Query(description="Judge overdue at this moment (aware)")] = None,
             ) -> Kpis:
    """Events by class, channel and state; closure, on-time and satisfaction rates; camera online rate."""
    return kpis(conn, AreaRef(level=level, id=area_id), window.start, window.end, as_of=as_of)
